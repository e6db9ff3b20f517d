/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-plan-store"

#include "config.h"

#include "fuzz-common.h"

#include "rd-core-error.h"
#include "rd-plan-store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tenant of the unit tests' saved files (tests/test-plan-store.c). */
#define TENANT "contoso.onmicrosoft.com"

static char *directory;

static void
empty_directory (void)
{
  g_autoptr (GDir) dir = g_dir_open (directory, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (directory, name, NULL);

      g_unlink (path);
    }
}

static void
remove_directory (void)
{
  empty_directory ();
  g_rmdir (directory);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr (GError) error = NULL;

  rd_fuzz_init ();

  directory = g_dir_make_tmp ("rd-fuzz-plan-store-XXXXXX", &error);
  g_assert_no_error (error);
  atexit (remove_directory);

  return 0;
}

/* Saving what was loaded and loading it again gives the same plans. */
static void
check_round_trip (RdPlanStore *store,
                  GPtrArray   *plans)
{
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);

  again = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, plans->len);

  for (guint i = 0; i < plans->len; i++)
    {
      g_autoptr (JsonNode) before = rd_plan_to_json (g_ptr_array_index (plans, i));
      g_autoptr (JsonNode) after = rd_plan_to_json (g_ptr_array_index (again, i));

      g_assert_true (json_node_equal (before, after));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (RdPlanStore) store = rd_plan_store_new (directory, TENANT);
  g_autoptr (GPtrArray) plans = NULL;
  g_autoptr (GError) error = NULL;

  empty_directory ();
  g_assert_true (g_file_set_contents (rd_plan_store_get_path (store), (const char *) data,
                                      (gssize) size, &error));
  g_assert_no_error (error);

  plans = rd_plan_store_load (store, &error);
  if (plans == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (g_error_matches (error, RD_CORE_ERROR, RD_CORE_ERROR_STORE_CORRUPT) ||
                     g_error_matches (error, RD_CORE_ERROR, RD_CORE_ERROR_STORE_NEWER_VERSION));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      /* An unreadable file is moved aside, never left in place. */
      g_assert_false (g_file_test (rd_plan_store_get_path (store), G_FILE_TEST_EXISTS));
      if (rd_fuzz_verbose ())
        fprintf (stderr, "refused: %s\n", error->message);
      return 0;
    }

  if (rd_fuzz_verbose ())
    fprintf (stderr, "loaded %u plans\n", plans->len);

  check_round_trip (store, plans);

  return 0;
}
