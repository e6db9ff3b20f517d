/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-device-query-model.h"
#include "rd-device-store.h"

#include "rd-test-util.h"

/* RdDeviceStore (the board's lanes) and RdDeviceQueryModel (a lane sorted
 * and filtered, at once for a short list, on a worker for a long one). */

typedef struct
{
  guint emissions;
  guint position;
  guint removed;
  guint added;
} Changes;

static void
on_items_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Changes    *changes)
{
  changes->emissions++;
  changes->position = position;
  changes->removed = removed;
  changes->added = added;
}

static RdDevice *
device_at (GListModel *model,
           guint       position)
{
  RdDevice *device = g_list_model_get_item (model, position);

  /* The model holds its own reference. */
  g_object_unref (device);
  return device;
}

static const char *
name_at (GListModel *model,
         guint       position)
{
  return rd_device_get_name (device_at (model, position));
}

/* Devices "DEV-<n>" in a scrambled order, every third one not encrypted. */
static GPtrArray *
make_devices (guint n)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      guint k = (i * 7919) % n;
      g_autofree char *id = g_strdup_printf ("id-%u", k);
      g_autofree char *name = g_strdup_printf ("DEV-%06u", k);
      RdDevice *device = rd_device_new (id, name);

      g_object_set (device, "encrypted", k % 3 == 0 ? RD_TRISTATE_NO : RD_TRISTATE_YES, NULL);
      g_ptr_array_add (devices, device);
    }

  return devices;
}

static void
test_store (void)
{
  RdDeviceStore *store = rd_device_store_new ();
  g_autoptr(GPtrArray) devices = make_devices (5);
  g_autoptr(GPtrArray) none = g_ptr_array_new ();
  Changes changes = { 0 };
  guint position;

  g_signal_connect (store, "items-changed", G_CALLBACK (on_items_changed_cb), &changes);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (store)) == RD_TYPE_DEVICE);

  rd_device_store_replace_all (store, devices);
  g_assert_cmpuint (changes.emissions, ==, 1);
  g_assert_cmpuint (changes.removed, ==, 0);
  g_assert_cmpuint (changes.added, ==, 5);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 5);
  g_assert_true (device_at (G_LIST_MODEL (store), 3) == devices->pdata[3]);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (store), 5));

  /* The same devices again: one change over all of them, so that views
   * read their facts again. */
  rd_device_store_replace_all (store, devices);
  g_assert_cmpuint (changes.emissions, ==, 2);
  g_assert_cmpuint (changes.position, ==, 0);
  g_assert_cmpuint (changes.removed, ==, 5);
  g_assert_cmpuint (changes.added, ==, 5);

  g_assert_true (rd_device_store_find (store, devices->pdata[2], &position));
  g_assert_cmpuint (position, ==, 2);
  g_assert_true (rd_device_store_remove (store, devices->pdata[2]));
  g_assert_cmpuint (changes.position, ==, 2);
  g_assert_cmpuint (changes.removed, ==, 1);
  g_assert_cmpuint (changes.added, ==, 0);
  g_assert_false (rd_device_store_remove (store, devices->pdata[2]));
  g_assert_false (rd_device_store_find (store, devices->pdata[2], NULL));
  g_assert_cmpuint (changes.emissions, ==, 3);

  rd_device_store_append (store, devices->pdata[2]);
  g_assert_cmpuint (changes.position, ==, 4);
  g_assert_cmpuint (changes.added, ==, 1);
  g_assert_true (device_at (G_LIST_MODEL (store), 4) == devices->pdata[2]);

  rd_device_store_replace_all (store, none);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  g_assert_cmpuint (changes.emissions, ==, 5);
  rd_device_store_replace_all (store, none);
  g_assert_cmpuint (changes.emissions, ==, 5);

  g_assert_finalize_object (store);
}

/* A short list: everything happens before the call returns. */
static void
test_short (void)
{
  RdDeviceStore *store = rd_device_store_new ();
  RdDeviceQueryModel *query = rd_device_query_model_new ();
  GListModel *model = G_LIST_MODEL (query);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) old = g_date_time_add_days (now, -40);
  g_autoptr(GDateTime) stale_before = g_date_time_add_days (now, -14);
  const char *const words[] = { "fin", NULL };
  const char *const no_words[] = { NULL };
  const char *names[] = { "fin-pc-2", "Beta-PC", "FIN-PC-1", "ops-pc", "alpha-pc" };
  Changes changes = { 0 };
  RdDevice *extra;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *id = g_strdup_printf ("id-%u", i);

      g_ptr_array_add (devices, rd_device_new (id, names[i]));
    }
  g_object_set (devices->pdata[0], "last-sync", old, NULL);
  g_object_set (devices->pdata[2], "last-sync", now, NULL);
  g_object_set (devices->pdata[3], "compliance", RD_COMPLIANCE_NONCOMPLIANT, NULL);
  rd_device_store_replace_all (store, devices);

  rd_device_query_model_set_model (query, G_LIST_MODEL (store));
  g_assert_false (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 5);
  /* No sort: the store's order. */
  g_assert_cmpstr (name_at (model, 1), ==, "Beta-PC");

  /* By name, in any case. */
  g_signal_connect (query, "items-changed", G_CALLBACK (on_items_changed_cb), &changes);
  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_NAME);
  g_assert_cmpuint (changes.emissions, ==, 1);
  g_assert_cmpstr (name_at (model, 0), ==, "alpha-pc");
  g_assert_cmpstr (name_at (model, 1), ==, "Beta-PC");
  g_assert_cmpstr (name_at (model, 2), ==, "FIN-PC-1");
  g_assert_cmpstr (name_at (model, 3), ==, "fin-pc-2");
  g_assert_cmpstr (name_at (model, 4), ==, "ops-pc");

  /* The search keeps the order; the change spares the common start. */
  rd_device_query_model_set_filter (query, words, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_cmpstr (name_at (model, 0), ==, "FIN-PC-1");
  g_assert_cmpuint (changes.emissions, ==, 2);
  g_assert_cmpuint (changes.position, ==, 0);
  g_assert_cmpuint (changes.removed, ==, 5);
  g_assert_cmpuint (changes.added, ==, 2);

  /* The same filter again changes nothing. */
  rd_device_query_model_set_filter (query, words, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  g_assert_cmpuint (changes.emissions, ==, 2);

  /* Quick filters: "unknown" is not "stale". */
  rd_device_query_model_set_filter (query, no_words, RD_DEVICE_QUICK_FILTER_STALE, stale_before);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);
  rd_device_query_model_set_filter (query, no_words, RD_DEVICE_QUICK_FILTER_NONCOMPLIANT, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_assert_cmpstr (name_at (model, 0), ==, "ops-pc");

  /* A fact changed since is read at the next query. */
  g_object_set (devices->pdata[4], "compliance", RD_COMPLIANCE_ERROR, NULL);
  rd_device_query_model_set_filter (query, NULL, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_device_query_model_set_filter (query, no_words, RD_DEVICE_QUICK_FILTER_NONCOMPLIANT, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_cmpstr (name_at (model, 0), ==, "alpha-pc");

  /* Most recent first, never last. */
  rd_device_query_model_set_filter (query, NULL, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_LAST_SYNC);
  g_assert_cmpstr (name_at (model, 0), ==, "FIN-PC-1");
  g_assert_cmpstr (name_at (model, 1), ==, "fin-pc-2");

  /* The store's changes show at once. */
  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_NAME);
  extra = rd_device_new ("id-x", "alpha");
  rd_device_store_append (store, extra);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 6);
  g_assert_true (device_at (model, 0) == extra);
  g_assert_true (rd_device_store_remove (store, extra));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 5);
  g_object_unref (extra);

  rd_device_query_model_set_model (query, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);

  g_assert_finalize_object (query);
  g_assert_finalize_object (store);
}

/* A long list: sorted and filtered on a worker, swapped in with one change. */
static void
test_long (void)
{
  const guint n = RD_DEVICE_QUERY_MODEL_SYNC_LIMIT * 3;
  RdDeviceStore *store = rd_device_store_new ();
  RdDeviceQueryModel *query = rd_device_query_model_new ();
  GListModel *model = G_LIST_MODEL (query);
  g_autoptr(GPtrArray) devices = make_devices (n);
  const char *const stale_words[] = { "dev-0000", NULL };
  const char *const words[] = { "dev-0001", NULL };
  const char *const narrower[] = { "dev-00012", NULL };
  Changes changes = { 0 };
  guint position;

  rd_device_store_replace_all (store, devices);
  g_signal_connect (query, "items-changed", G_CALLBACK (on_items_changed_cb), &changes);
  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_NAME);
  rd_device_query_model_set_model (query, G_LIST_MODEL (store));
  g_assert_true (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  rd_test_wait_settled (query);
  g_assert_cmpuint (changes.emissions, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  for (guint i = 0; i < n; i += 997)
    {
      g_autofree char *expected = g_strdup_printf ("DEV-%06u", i);

      g_assert_cmpstr (name_at (model, i), ==, expected);
    }

  /* Without a filter, the sorted list shows at once. */
  rd_device_query_model_set_filter (query, words, RD_DEVICE_QUICK_FILTER_UNENCRYPTED, NULL);
  g_assert_true (rd_device_query_model_get_pending (query));
  rd_device_query_model_set_filter (query, NULL, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  g_assert_false (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);

  /* A newer query replaces the one under way, whose result never shows. */
  changes.emissions = 0;
  rd_device_query_model_set_filter (query, stale_words, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_device_query_model_set_filter (query, words, RD_DEVICE_QUICK_FILTER_UNENCRYPTED, NULL);
  rd_test_wait_settled (query);
  g_assert_cmpuint (changes.emissions, ==, 1);
  /* DEV-000100 to DEV-000199, every third one. */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 33);
  g_assert_cmpstr (name_at (model, 0), ==, "DEV-000102");
  g_assert_cmpint (rd_device_get_encrypted (device_at (model, 32)), ==, RD_TRISTATE_NO);

  /* Narrowing filters the shown devices; the result is the same. */
  rd_device_query_model_set_filter (query, narrower, RD_DEVICE_QUICK_FILTER_UNENCRYPTED, NULL);
  rd_test_wait_settled (query);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);
  g_assert_cmpstr (name_at (model, 3), ==, "DEV-000129");

  /* A device leaving the store leaves at once, without a worker. */
  changes.emissions = 0;
  g_assert_true (rd_device_store_find (store, device_at (model, 1), &position));
  g_assert_true (rd_device_store_remove (store, g_ptr_array_index (devices, position)));
  g_assert_false (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (changes.emissions, ==, 1);
  g_assert_cmpuint (changes.position, ==, 1);
  g_assert_cmpuint (changes.removed, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  g_assert_cmpstr (name_at (model, 1), ==, "DEV-000126");

  /* And comes back where it belongs. */
  rd_device_store_append (store, g_ptr_array_index (devices, position));
  g_assert_false (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);
  g_assert_cmpstr (name_at (model, 1), ==, "DEV-000123");

  /* Replacing every device sorts again on a worker. */
  rd_device_store_replace_all (store, devices);
  g_assert_true (rd_device_query_model_get_pending (query));
  rd_test_wait_settled (query);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);

  /* The same devices again, unchanged and in the same order (a refresh
   * that found nothing new): nothing to sort, nothing changes. */
  changes.emissions = 0;
  rd_device_store_replace_all (store, devices);
  g_assert_false (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (changes.emissions, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);

  /* A model given up while a worker sorts goes at once. */
  for (guint i = 0; i < devices->len / 2; i++)
    {
      gpointer first = devices->pdata[i];

      devices->pdata[i] = devices->pdata[devices->len - 1 - i];
      devices->pdata[devices->len - 1 - i] = first;
    }
  rd_device_store_replace_all (store, devices);
  g_assert_true (rd_device_query_model_get_pending (query));
  g_assert_finalize_object (query);
  g_assert_finalize_object (store);
  /* Let the worker finish and its result be dropped. */
  for (guint i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
}

/* A long list handed over in order, as the cache holds it, shows at once;
 * one out of order anywhere, even last, is sorted on a worker. */
static void
test_in_order (void)
{
  const guint n = RD_DEVICE_QUERY_MODEL_SYNC_LIMIT * 3;
  RdDeviceStore *store = rd_device_store_new ();
  RdDeviceQueryModel *query = rd_device_query_model_new ();
  GListModel *model = G_LIST_MODEL (query);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) swapped = NULL;
  const char *const words[] = { "dev-0001", NULL };
  Changes changes = { 0 };

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("id-%u", i);
      g_autofree char *name = g_strdup_printf ("DEV-%06u", i);

      g_ptr_array_add (devices, rd_device_new (id, name));
    }

  rd_device_store_replace_all (store, devices);
  g_signal_connect (query, "items-changed", G_CALLBACK (on_items_changed_cb), &changes);
  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_NAME);
  rd_device_query_model_set_model (query, G_LIST_MODEL (store));
  g_assert_false (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (changes.emissions, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  g_assert_cmpstr (name_at (model, 0), ==, "DEV-000000");
  g_assert_cmpstr (name_at (model, n - 1), ==, rd_device_get_name (devices->pdata[n - 1]));

  /* With a filter, the devices in order are still filtered on a worker. */
  rd_device_query_model_set_filter (query, words, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_device_store_replace_all (store, devices);
  g_assert_true (rd_device_query_model_get_pending (query));
  rd_test_wait_settled (query);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 100);
  rd_device_query_model_set_filter (query, NULL, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_test_wait_settled (query);

  /* The last two swapped: sorted on a worker, and shown in order. */
  swapped = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (swapped, g_object_ref (devices->pdata[i < n - 2 ? i : 2 * n - 3 - i]));
  rd_device_store_replace_all (store, swapped);
  g_assert_true (rd_device_query_model_get_pending (query));
  rd_test_wait_settled (query);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  g_assert_true (device_at (model, n - 2) == devices->pdata[n - 2]);
  g_assert_true (device_at (model, n - 1) == devices->pdata[n - 1]);

  g_assert_finalize_object (query);
  g_assert_finalize_object (store);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/device-store/changes", test_store);
  g_test_add_func ("/rd/device-query-model/short", test_short);
  g_test_add_func ("/rd/device-query-model/long", test_long);
  g_test_add_func ("/rd/device-query-model/in-order", test_in_order);

  return g_test_run ();
}
