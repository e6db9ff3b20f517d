/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-board.h"
#include "rd-device-query-model.h"
#include "rd-device-store.h"
#include "rd-plan-store.h"
#include "rd-test-util.h"

#include <string.h>

/* A listing filed on another thread (rd_board_listing_new()) and taken
 * into an empty board at once (rd_board_take_listing()): the board and the
 * query models of its Devices lane end as rd_board_set_devices() and their
 * own entries would leave them. */

/* More than a query model makes at once, so that one that made its own
 * entries would be pending. */
#define MANY 20000

static RdDevice *
good_device (const char *id,
             const char *name)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return rd_test_ready_device (id, name, "10.0.22631.4460", now);
}

/* @n devices named in a scrambled order, with scrambled check-ins. */
static GPtrArray *
make_devices (guint n)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      guint k = (i * 7919) % n;
      g_autofree char *id = g_strdup_printf ("id-%u", k);
      g_autofree char *name = g_strdup_printf ("DEV-%06u", k);
      g_autoptr(GDateTime) synced = g_date_time_new_from_unix_utc (1700000000 + (k * 104729) % n);
      RdDevice *device = rd_device_new (id, name);

      g_object_set (device, "last-sync", synced, NULL);
      g_ptr_array_add (devices, device);
    }

  return devices;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (rd_device_get_name (*(RdDevice **) a), rd_device_get_name (*(RdDevice **) b));
}

/* Devices filed as a reader files them, a few at a time as it makes them. */
static RdBoardListing *
file_as_read (GPtrArray *devices,
              GPtrArray *read)
{
  RdBoardListing *listing = rd_board_listing_new (read);

  for (guint i = 0; i < devices->len; i++)
    {
      g_ptr_array_add (read, g_object_ref (devices->pdata[i]));
      if (i % 7 == 6)
        rd_board_listing_catch_up (listing);
    }
  rd_board_listing_catch_up (listing);

  return listing;
}

static RdDeviceQueryModel *
query_of (RdBoard      *board,
          RdDeviceSort  sort)
{
  RdDeviceQueryModel *query = rd_device_query_model_new ();

  rd_device_query_model_set_sort (query, sort);
  rd_device_query_model_set_model (query, rd_board_get_lane (board, RD_LANE_INVENTORY));
  return query;
}

/* Whether @a and @b hold the same devices in the same order. */
static void
assert_same_items (GListModel *a,
                   GListModel *b)
{
  guint n = g_list_model_get_n_items (a);

  g_assert_cmpuint (g_list_model_get_n_items (b), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdDevice) x = g_list_model_get_item (a, i);
      g_autoptr(RdDevice) y = g_list_model_get_item (b, i);

      if (x != y)
        g_error ("Item %u: %s, not %s", i, rd_device_get_name (x), rd_device_get_name (y));
    }
}

/* A query model over the listing's lane takes the listing's entries, and
 * shows the devices sorted (a device changed since it was filed by its new
 * name), by either sort, and filters, as one that made its own. */
static void
test_query_model (void)
{
  g_autoptr(GPtrArray) devices = make_devices (MANY);
  g_autoptr(GPtrArray) read = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RdBoardListing) listing = NULL;
  RdBoard *board = rd_board_new (NULL);
  RdDeviceQueryModel *query = query_of (board, RD_DEVICE_SORT_NAME);
  RdDeviceQueryModel *reference = rd_device_query_model_new ();
  RdDeviceStore *store = rd_device_store_new ();
  const char *const words[] = { "dev-0001", NULL };
  RdDevice *renamed;

  listing = file_as_read (devices, read);
  /* Changed after it was filed: its entry is made again. */
  renamed = devices->pdata[5];
  g_object_set (renamed, "name", "AAA-FIRST", NULL);

  g_assert_true (rd_board_take_listing (board, listing));
  g_assert_true (rd_board_lookup_device (board, "id-17") != NULL);
  /* Sorted on a worker. */
  rd_test_wait_settled (query);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (query)), ==, MANY);

  /* The same as a query model that made its own entries. */
  rd_device_query_model_set_sort (reference, RD_DEVICE_SORT_NAME);
  rd_device_query_model_set_model (reference, G_LIST_MODEL (store));
  rd_device_store_replace_all (store, devices);
  rd_test_wait_settled (reference);
  assert_same_items (G_LIST_MODEL (query), G_LIST_MODEL (reference));
  {
    g_autoptr(RdDevice) first = g_list_model_get_item (G_LIST_MODEL (query), 0);

    g_assert_true (first == renamed);
  }

  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_LAST_SYNC);
  rd_device_query_model_set_sort (reference, RD_DEVICE_SORT_LAST_SYNC);
  rd_test_wait_settled (query);
  rd_test_wait_settled (reference);
  assert_same_items (G_LIST_MODEL (query), G_LIST_MODEL (reference));

  rd_device_query_model_set_filter (query, words, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_device_query_model_set_filter (reference, words, RD_DEVICE_QUICK_FILTER_NONE, NULL);
  rd_test_wait_settled (query);
  rd_test_wait_settled (reference);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (query)), ==, 100);
  assert_same_items (G_LIST_MODEL (query), G_LIST_MODEL (reference));

  /* Taken once. */
  g_assert_false (rd_board_take_listing (board, listing));

  g_assert_finalize_object (query);
  g_assert_finalize_object (reference);
  g_assert_finalize_object (store);
  g_assert_finalize_object (board);
}

/* Devices listed in order already: shown at once, as they are, where a
 * query model making its own entries of that many devices would make them
 * over several main-loop iterations; sorted the other way on request. */
static void
test_in_order (void)
{
  g_autoptr(GPtrArray) devices = make_devices (MANY);
  g_autoptr(GPtrArray) read = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RdBoardListing) listing = NULL;
  RdBoard *board = rd_board_new (NULL);
  RdDeviceQueryModel *query = query_of (board, RD_DEVICE_SORT_NAME);

  g_ptr_array_sort (devices, compare_names);
  listing = file_as_read (devices, read);
  g_assert_true (rd_board_take_listing (board, listing));
  g_assert_false (rd_device_query_model_get_pending (query));
  assert_same_items (G_LIST_MODEL (query), rd_board_get_lane (board, RD_LANE_INVENTORY));

  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_LAST_SYNC);
  rd_test_wait_settled (query);
  for (guint i = 1; i < MANY; i++)
    {
      g_autoptr(RdDevice) a = g_list_model_get_item (G_LIST_MODEL (query), i - 1);
      g_autoptr(RdDevice) b = g_list_model_get_item (G_LIST_MODEL (query), i);

      g_assert_cmpint (rd_device_get_last_sync_usec (a), >=, rd_device_get_last_sync_usec (b));
    }

  g_assert_finalize_object (query);
  g_assert_finalize_object (board);
}

/* Plans, a device listed twice: the board ends as rd_board_set_devices()
 * leaves one, and the Devices lane's query model shows that lane. */
static void
test_same_as_set_devices (void)
{
  g_autofree char *dir = rd_test_make_tmp_dir ("rd-board-listing-XXXXXX");
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) read = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RdBoardListing) listing = NULL;
  g_autoptr(GError) error = NULL;
  RdPlanStore *store = rd_plan_store_new (dir, "contoso.example");
  RdBoard *planned = rd_board_new (store);
  RdBoard *listed = rd_board_new (store);
  RdBoard *set = rd_board_new (store);
  RdDeviceQueryModel *query = NULL;

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *id = g_strdup_printf ("d%u", (i * 17) % 40);
      g_autofree char *name = g_strdup_printf ("PC-%02u", (i * 17) % 40);

      g_ptr_array_add (devices, good_device (id, name));
    }
  g_ptr_array_add (devices, good_device ("d3", "PC-03-again"));

  /* Two plans, saved as a session before this one left them. */
  g_assert_true (rd_board_load (planned, &error));
  rd_board_set_devices (planned, devices);
  g_assert_true (rd_board_move_device (planned, devices->pdata[4], RD_LANE_BREAK_FIX, &error));
  g_assert_no_error (error);
  g_assert_true (rd_board_move_device (planned, devices->pdata[9], RD_LANE_REUSE, &error));
  g_assert_no_error (error);

  g_assert_true (rd_board_load (listed, &error));
  g_assert_true (rd_board_load (set, &error));
  query = query_of (listed, RD_DEVICE_SORT_NONE);
  listing = file_as_read (devices, read);
  g_assert_true (rd_board_take_listing (listed, listing));
  rd_board_set_devices (set, devices);

  for (RdLane lane = RD_LANE_INVENTORY; lane < RD_N_LANES; lane++)
    assert_same_items (rd_board_get_lane (listed, lane), rd_board_get_lane (set, lane));
  g_assert_cmpuint (g_list_model_get_n_items (rd_board_get_lane (listed, RD_LANE_INVENTORY)), ==,
                    38);
  g_assert_true (rd_board_lookup_device (listed, "d3") == rd_board_lookup_device (set, "d3"));
  g_assert_cmpstr (rd_device_get_name (rd_board_lookup_device (listed, "d3")), ==, "PC-03");
  g_assert_nonnull (rd_board_get_plan (listed, devices->pdata[4]));
  assert_same_items (G_LIST_MODEL (query), rd_board_get_lane (listed, RD_LANE_INVENTORY));

  g_assert_finalize_object (query);
  g_assert_finalize_object (planned);
  g_assert_finalize_object (listed);
  g_assert_finalize_object (set);
  g_assert_finalize_object (store);
  rd_test_remove_tree (dir);
}

/* A board with devices, or a hand-off under way, takes no listing; the
 * devices go the usual way. */
static void
test_refused (void)
{
  g_autoptr(GPtrArray) devices = make_devices (64);
  g_autoptr(GPtrArray) others = make_devices (8);
  g_autoptr(GPtrArray) read = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RdBoardListing) listing = NULL;
  RdBoard *board = rd_board_new (NULL);
  RdBoard *busy = rd_board_new (NULL);

  listing = file_as_read (devices, read);
  rd_board_set_devices (board, others);
  g_assert_false (rd_board_take_listing (board, listing));
  g_assert_cmpuint (g_list_model_get_n_items (rd_board_get_lane (board, RD_LANE_INVENTORY)), ==, 8);

  rd_board_set_devices_async (busy, others, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_assert_false (rd_board_take_listing (busy, listing));
  while (rd_board_get_pending (busy))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (rd_board_get_lane (busy, RD_LANE_INVENTORY)), ==, 8);

  g_assert_finalize_object (board);
  g_assert_finalize_object (busy);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/board-listing/query-model", test_query_model);
  g_test_add_func ("/rd/board-listing/in-order", test_in_order);
  g_test_add_func ("/rd/board-listing/same-as-set-devices", test_same_as_set_devices);
  g_test_add_func ("/rd/board-listing/refused", test_refused);

  return g_test_run ();
}
