/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-device-private.h"
#include "rd-device-query-model.h"
#include "rd-device-store.h"

#include "rd-test-util.h"

#include <string.h>

/* RdDeviceQueryModel keeps the results of its last queries: a query asked
 * again shows at once, and a narrower one filters the smallest kept result.
 * Every result is checked against a brute-force filter of the store's
 * devices, so that a kept result never shows a device that no longer
 * matches, nor hides one that does. */

#define N_DEVICES (RD_DEVICE_QUERY_MODEL_SYNC_LIMIT * 3)
#define LETTERS "abcdefgh"

/* Devices with random names of six letters out of eight (so that each
 * letter typed narrows the list), every third one not encrypted. */
static GPtrArray *
make_devices (guint n,
              guint first_id)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("id-%u", first_id + i);
      char name[16];
      RdDevice *device;

      for (guint j = 0; j < 6; j++)
        name[j] = LETTERS[g_test_rand_int_range (0, strlen (LETTERS))];
      /* Unique names, so that the order is the names' alone. */
      g_snprintf (name + 6, sizeof name - 6, "-%05u", first_id + i);
      device = rd_device_new (id, name);
      g_object_set (device, "encrypted", i % 3 == 0 ? RD_TRISTATE_NO : RD_TRISTATE_YES, NULL);
      g_ptr_array_add (devices, device);
    }

  return devices;
}

static int
compare_by_key (gconstpointer a,
                gconstpointer b)
{
  return strcmp (_rd_device_get_sort_key (*(RdDevice **) a),
                 _rd_device_get_sort_key (*(RdDevice **) b));
}

/* What the model must show for @query (words split on spaces) and
 * @filters: the store's devices whose search text holds every word, by
 * name. */
static void
assert_result (RdDeviceQueryModel   *query,
               GListModel           *store,
               const char           *text,
               RdDeviceQuickFilters  filters)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  GListModel *model = G_LIST_MODEL (query);
  guint n = g_list_model_get_n_items (store);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdDevice) device = g_list_model_get_item (store, i);
      const char *search_text = rd_device_get_search_text (device);
      gboolean match = TRUE;

      if ((filters & RD_DEVICE_QUICK_FILTER_UNENCRYPTED) != 0 &&
          rd_device_get_encrypted (device) != RD_TRISTATE_NO)
        match = FALSE;
      for (guint j = 0; match && words[j] != NULL; j++)
        match = strstr (search_text, words[j]) != NULL;
      if (match)
        g_ptr_array_add (expected, device);
    }
  g_ptr_array_sort (expected, compare_by_key);

  if (g_list_model_get_n_items (model) != expected->len)
    g_error ("“%s” (filters %u): %u devices shown, %u match", text, filters,
             g_list_model_get_n_items (model), expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      g_autoptr(RdDevice) shown = g_list_model_get_item (model, i);

      if (shown != expected->pdata[i])
        g_error ("“%s” (filters %u): %s shown at %u, %s expected", text, filters,
                 rd_device_get_name (shown), i, rd_device_get_name (expected->pdata[i]));
    }
}

/* Sets the query as the lane does, a word per run of spaces. Returns
 * whether the model was still working when the call returned. */
static gboolean
set_query (RdDeviceQueryModel   *query,
           const char           *text,
           RdDeviceQuickFilters  filters)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  gboolean pending;

  rd_device_query_model_set_filter (query, (const char *const *) words, filters, NULL);
  pending = rd_device_query_model_get_pending (query);
  rd_test_wait_settled (query);

  return pending;
}

typedef struct
{
  RdDeviceStore *store;
  RdDeviceQueryModel *query;
  GPtrArray *devices;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->devices = make_devices (N_DEVICES, 0);
  fixture->store = rd_device_store_new ();
  rd_device_store_replace_all (fixture->store, fixture->devices);
  fixture->query = rd_device_query_model_new ();
  rd_device_query_model_set_sort (fixture->query, RD_DEVICE_SORT_NAME);
  rd_device_query_model_set_model (fixture->query, G_LIST_MODEL (fixture->store));
  rd_test_wait_settled (fixture->query);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_finalize_object (fixture->query);
  g_assert_finalize_object (fixture->store);
  g_ptr_array_unref (fixture->devices);
}

/* A query typed, then erased: every backspace shows its result at once,
 * without a worker, and the same result as a fresh filter. */
static void
test_erase (Fixture       *fixture,
            gconstpointer  data)
{
  const char *typed = "abc d";
  GListModel *store = G_LIST_MODEL (fixture->store);

  for (guint length = 1; length <= strlen (typed); length++)
    {
      g_autofree char *text = g_strndup (typed, length);

      set_query (fixture->query, text, RD_DEVICE_QUICK_FILTER_NONE);
      assert_result (fixture->query, store, text, RD_DEVICE_QUICK_FILTER_NONE);
    }
  for (guint length = strlen (typed) - 1; length > 0; length--)
    {
      g_autofree char *text = g_strndup (typed, length);

      g_assert_false (set_query (fixture->query, text, RD_DEVICE_QUICK_FILTER_NONE));
      assert_result (fixture->query, store, text, RD_DEVICE_QUICK_FILTER_NONE);
    }

  /* A quick filter is part of the query: the same words with it are
   * another query, and without it the kept one again. */
  set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_UNENCRYPTED);
  assert_result (fixture->query, store, "ab", RD_DEVICE_QUICK_FILTER_UNENCRYPTED);
  g_assert_false (set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_NONE));
  assert_result (fixture->query, store, "ab", RD_DEVICE_QUICK_FILTER_NONE);
}

/* A device whose facts change after its result was kept: a query asked
 * again shows it where it now belongs, whether it now matches or no
 * longer does. */
static void
test_device_change (Fixture       *fixture,
                    gconstpointer  data)
{
  GListModel *store = G_LIST_MODEL (fixture->store);
  RdDevice *joining = NULL;
  RdDevice *leaving = NULL;

  set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "abc", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "abcd", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "abcd", RD_DEVICE_QUICK_FILTER_NONE);

  for (guint i = 0; i < fixture->devices->len; i++)
    {
      RdDevice *device = fixture->devices->pdata[i];
      const char *text = rd_device_get_search_text (device);

      if (joining == NULL && strstr (text, "ab") == NULL)
        joining = device;
      if (leaving == NULL && strstr (text, "abcd") != NULL)
        leaving = device;
    }
  g_assert_nonnull (joining);
  g_assert_nonnull (leaving);

  /* The user's name now holds the query; the other's name no longer does. */
  g_object_set (joining, "user-display-name", "Zabcdz", NULL);
  g_object_set (leaving, "name", "ZZZZZZ-leaving", NULL);

  set_query (fixture->query, "abc", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "abc", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "abcd", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "abcd", RD_DEVICE_QUICK_FILTER_NONE);
  g_assert_true (g_list_model_get_n_items (G_LIST_MODEL (fixture->query)) > 0);
}

/* The lane's devices change after results were kept: a few come and go
 * (patched in place), then a new list replaces them all. */
static void
test_new_list (Fixture       *fixture,
               gconstpointer  data)
{
  GListModel *store = G_LIST_MODEL (fixture->store);
  g_autoptr(GPtrArray) others = make_devices (N_DEVICES / 2, N_DEVICES);
  g_autoptr(GPtrArray) added = make_devices (4, 2 * N_DEVICES);
  RdDevice *gone = NULL;

  set_query (fixture->query, "a", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "abc", RD_DEVICE_QUICK_FILTER_NONE);

  /* A device the kept "ab" holds leaves; others that match come. */
  for (guint i = 0; gone == NULL && i < fixture->devices->len; i++)
    if (strstr (rd_device_get_search_text (fixture->devices->pdata[i]), "ab") != NULL &&
        strstr (rd_device_get_search_text (fixture->devices->pdata[i]), "abc") == NULL)
      gone = fixture->devices->pdata[i];
  g_assert_nonnull (gone);
  g_assert_true (rd_device_store_remove (fixture->store, gone));
  for (guint i = 0; i < added->len; i++)
    {
      g_object_set (added->pdata[i], "serial", "SERIAL-AB", NULL);
      rd_device_store_append (fixture->store, added->pdata[i]);
    }
  assert_result (fixture->query, store, "abc", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "ab", RD_DEVICE_QUICK_FILTER_NONE);

  /* Another list altogether, as a refresh hands over. */
  set_query (fixture->query, "abc", RD_DEVICE_QUICK_FILTER_NONE);
  rd_device_store_replace_all (fixture->store, others);
  rd_test_wait_settled (fixture->query);
  assert_result (fixture->query, store, "abc", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "ab", RD_DEVICE_QUICK_FILTER_NONE);
  set_query (fixture->query, "a", RD_DEVICE_QUICK_FILTER_NONE);
  assert_result (fixture->query, store, "a", RD_DEVICE_QUICK_FILTER_NONE);
}

/* Random typing: letters, spaces, backspaces, a quick filter switched,
 * now and then a device's facts changed; every result checked. */
static void
test_random (Fixture       *fixture,
             gconstpointer  data)
{
  GListModel *store = G_LIST_MODEL (fixture->store);
  g_autoptr(GString) text = g_string_new (NULL);
  RdDeviceQuickFilters filters = RD_DEVICE_QUICK_FILTER_NONE;

  for (guint step = 0; step < 300; step++)
    {
      int choice = g_test_rand_int_range (0, 100);

      if (choice < 45 && text->len < 8)
        g_string_append_c (text, LETTERS[g_test_rand_int_range (0, strlen (LETTERS))]);
      else if (choice < 52 && text->len > 0 && text->str[text->len - 1] != ' ')
        g_string_append_c (text, ' ');
      else if (choice < 90 && text->len > 0)
        g_string_truncate (text, text->len - 1);
      else if (choice < 95)
        filters ^= RD_DEVICE_QUICK_FILTER_UNENCRYPTED;
      else
        {
          RdDevice *device = fixture->devices->pdata[g_test_rand_int_range (0, N_DEVICES)];
          g_autofree char *user = g_strdup_printf ("%c%c%c", LETTERS[step % 8],
                                                   LETTERS[(step / 8) % 8], LETTERS[step % 3]);

          /* A device's new facts count from the next query on, as the
           * model says: a letter more makes one. */
          g_object_set (device, "user-display-name", user, NULL);
          g_string_append_c (text, LETTERS[g_test_rand_int_range (0, strlen (LETTERS))]);
        }

      /* A trailing space makes an empty word, which matches anything,
       * here as in the model. */
      set_query (fixture->query, text->str, filters);
      assert_result (fixture->query, store, text->str, filters);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/rd/device-query-model/results/erase", Fixture, NULL, fixture_set_up, test_erase,
              fixture_tear_down);
  g_test_add ("/rd/device-query-model/results/device-change", Fixture, NULL, fixture_set_up,
              test_device_change, fixture_tear_down);
  g_test_add ("/rd/device-query-model/results/new-list", Fixture, NULL, fixture_set_up,
              test_new_list, fixture_tear_down);
  g_test_add ("/rd/device-query-model/results/random", Fixture, NULL, fixture_set_up, test_random,
              fixture_tear_down);

  return g_test_run ();
}
