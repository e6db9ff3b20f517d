/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-fuzz"

#include "fuzz-common.h"

#include <dlfcn.h>
#include <json-glib/json-glib.h>
#include <sanitizer/allocator_interface.h>
#include <sanitizer/lsan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean verbose;

/* A warning or a critical (a failed g_return_if_fail) on any input is a bug,
 * as it is under the tests' G_DEBUG=fatal-warnings. GLib's own fatal path
 * raises SIGTRAP, which libFuzzer does not catch, so abort() here instead:
 * libFuzzer then saves the input as a reproducer. */
static void
log_handler (const char     *log_domain,
             GLogLevelFlags  log_level,
             const char     *message,
             gpointer        user_data)
{
  const char *domain = log_domain != NULL ? log_domain : "(no domain)";

  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      fprintf (stderr, "rd-fuzz: %s: %s\n", domain, message);
      abort ();
    }

  if (verbose)
    fprintf (stderr, "rd-fuzz: %s: %s\n", domain, message);
}

/* json-glib 1.6 leaks the first value of a document that has more than one
 * ("1 2", "{}{}"; it even accepts the latter). That is its bug, not ours, but
 * LeakSanitizer would stop every target on it, and libFuzzer would run a slow
 * leak check after each such input. So this definition stands in for
 * json-glib's own, for the code under test too: it first parses a copy with
 * leak checking off, and refuses a document that leaks, remembering it so
 * that libFuzzer's second run of the same input allocates nothing. Leaks in
 * what our code does with any other document are still caught. */
typedef gboolean (*LoadFromData) (JsonParser *, const char *, gssize, GError **);

static LoadFromData real_load_from_data;
static guint64 leaky[64];
static guint n_leaky;

static guint64
hash_data (const char *data,
           size_t      length)
{
  guint64 hash = 0xcbf29ce484222325;

  for (size_t i = 0; i < length; i++)
    hash = (hash ^ (guchar) data[i]) * 0x100000001b3;

  return hash;
}

static gboolean
json_glib_leaks (const char *data,
                 gssize      length)
{
  guint64 hash = hash_data (data, length < 0 ? strlen (data) : (size_t) length);
  size_t before;
  size_t after;

  for (guint i = 0; i < MIN (n_leaky, G_N_ELEMENTS (leaky)); i++)
    if (leaky[i] == hash)
      return TRUE;

  __lsan_disable ();
  before = __sanitizer_get_current_allocated_bytes ();
  {
    JsonParser *parser = json_parser_new ();

    real_load_from_data (parser, data, length, NULL);
    g_object_unref (parser);
  }
  after = __sanitizer_get_current_allocated_bytes ();
  __lsan_enable ();

  if (after <= before)
    return FALSE;

  leaky[n_leaky++ % G_N_ELEMENTS (leaky)] = hash;
  return TRUE;
}

gboolean
json_parser_load_from_data (JsonParser  *parser,
                            const char  *data,
                            gssize       length,
                            GError     **error)
{
  if (data != NULL && json_glib_leaks (data, length))
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           "More than one value (refused by the fuzzers' json-glib guard)");
      return FALSE;
    }

  return real_load_from_data (parser, data, length, error);
}

void
rd_fuzz_init (void)
{
  verbose = g_getenv ("RD_FUZZ_VERBOSE") != NULL;
  g_log_set_default_handler (log_handler, NULL);

  real_load_from_data = (LoadFromData) dlsym (RTLD_NEXT, "json_parser_load_from_data");
  g_assert_nonnull (real_load_from_data);

  /* Warm up, so that the allocations GLib makes once do not count as leaks. */
  json_glib_leaks ("{\"a\":[1,\"b\",null]}", -1);
  json_glib_leaks ("{\"a\":[1,\"b\",null]}", -1);
}

/* RD_FUZZ_VERBOSE=1 prints what each target made of its input, to check
 * that the seeds reach the paths they are meant for. */
gboolean
rd_fuzz_verbose (void)
{
  return verbose;
}
