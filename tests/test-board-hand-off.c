/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-board-private.h"
#include "rd-device-query-model.h"
#include "rd-device-store.h"
#include "rd-method.h"
#include "rd-plan-store.h"
#include "rd-test-util.h"

#include <string.h>

/* rd_board_set_devices_async(): the hand-off of an inventory over several
 * main-loop iterations ends with the board rd_board_set_devices() makes,
 * whatever happens meanwhile. The boards here take at most a few devices a
 * step (_rd_board_set_hand_off_step()), so that a short listing takes
 * many steps. */

#define STEP 3

static RdDevice *
make_device (const char *id,
             const char *name)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  RdDevice *device = rd_test_ready_device (id, name, "10.0.22631.4460", now);

  g_object_set (device, "serial", name, NULL);
  return device;
}

/* A listing as a sync gives it, new objects each time: "d<i>" named
 * "<prefix>-<i>", for each i of @ids; a negative i lists "d<-i>" again.
 * d3 is hybrid-joined, which blocks an Autopilot Reset. */
static GPtrArray *
make_listing (const char *prefix,
              const int  *ids,
              guint       n_ids)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n_ids; i++)
    {
      int id = ABS (ids[i]);
      g_autofree char *device_id = g_strdup_printf ("d%d", id);
      g_autofree char *name = g_strdup_printf ("%s-%d%s", prefix, id, ids[i] < 0 ? "-twice" : "");

      g_ptr_array_add (devices, make_device (device_id, name));
      if (id == 3)
        g_object_set (devices->pdata[devices->len - 1], "join-type", RD_JOIN_TYPE_HYBRID_JOINED,
                      NULL);
    }

  return devices;
}

static int
compare_plans (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (rd_plan_get_device_id (*(RdPlan **) a), rd_plan_get_device_id (*(RdPlan **) b));
}

/* "id:name" of every device in @lane, in order, then the lookups and the
 * plans: what two boards must agree on. */
static char *
describe (RdBoard *board)
{
  GString *text = g_string_new (NULL);
  g_autoptr(GPtrArray) plans = rd_board_dup_plans (board);

  for (RdLane lane = RD_LANE_INVENTORY; lane < RD_N_LANES; lane++)
    {
      GListModel *model = rd_board_get_lane (board, lane);

      g_string_append_printf (text, "lane %d:", lane);
      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(RdDevice) device = g_list_model_get_item (model, i);

          g_assert_true (rd_board_lookup_device (board, rd_device_get_id (device)) == device);
          g_string_append_printf (text, " %s:%s", rd_device_get_id (device),
                                  rd_device_get_name (device));
        }
      g_string_append_c (text, '\n');
    }

  g_ptr_array_sort (plans, compare_plans);
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = plans->pdata[i];
      RdDevice *device = rd_plan_get_device (plan);

      g_string_append_printf (text, "plan %s lane %d state %s device %s\n",
                              rd_plan_get_device_id (plan), rd_plan_get_lane (plan),
                              rd_plan_state_to_string (rd_plan_get_state (plan)),
                              device != NULL ? rd_device_get_name (device) : "-");
      if (device != NULL)
        g_assert_true (rd_board_lookup_device (board, rd_device_get_id (device)) == device);
    }

  return g_string_free (text, FALSE);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
  guint iterations; /* main-loop iterations until the callback */
} Result;

static void
on_handed_off_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Result *out = user_data;

  g_assert_false (out->done);
  out->done = TRUE;
  out->ok = rd_board_set_devices_finish (RD_BOARD (source), result, &out->error);
}

static void
wait_for (Result *result)
{
  while (!result->done)
    {
      g_main_context_iteration (NULL, TRUE);
      result->iterations++;
    }
}

static void
iterate (guint times)
{
  for (guint i = 0; i < times; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
result_clear (Result *result)
{
  g_clear_error (&result->error);
  memset (result, 0, sizeof *result);
}

static guint
lane_size (RdBoard *board,
           RdLane   lane)
{
  return g_list_model_get_n_items (rd_board_get_lane (board, lane));
}

static void
on_items_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  GString *log = user_data;
  RdBoard *board = g_object_get_data (G_OBJECT (model), "board");

  /* The lanes change once the hand-off is over. */
  g_assert_false (rd_board_get_pending (board));
  g_string_append_printf (log, "%s %u-%u+%u;",
                          (char *) g_object_get_data (G_OBJECT (model), "name"), position, removed,
                          added);
}

static void
watch_lanes (RdBoard *board,
             GString *log)
{
  static const char *names[] = { "inventory", "break-fix", "reuse" };

  for (RdLane lane = RD_LANE_INVENTORY; lane < RD_N_LANES; lane++)
    {
      GListModel *model = rd_board_get_lane (board, lane);

      g_object_set_data (G_OBJECT (model), "board", board);
      g_object_set_data (G_OBJECT (model), "name", (gpointer) names[lane]);
      g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed_cb), log);
    }
}

/* Two boards with the same plans and the same first inventory, each with
 * its own device objects, as two runs of the app would have. */
typedef struct
{
  char *dir;
  RdBoard *sync;
  RdBoard *async;
} Fixture;

static const int first_ids[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static RdBoard *
open_board (Fixture *fixture)
{
  g_autoptr(RdPlanStore) store = rd_plan_store_new (fixture->dir, "contoso.example");
  g_autoptr(GPtrArray) devices = make_listing ("PC", first_ids, G_N_ELEMENTS (first_ids));
  g_autoptr(GError) error = NULL;
  RdBoard *board = rd_board_new (store);

  g_assert_true (rd_board_load (board, &error));
  g_assert_no_error (error);
  rd_board_set_devices (board, devices);
  _rd_board_set_hand_off_step (board, STEP);

  return board;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RdBoard *board;

  fixture->dir = rd_test_make_tmp_dir ("rd-board-hand-off-XXXXXX");

  /* Plans, saved: d2 in Break and Fix; d3 in Reuse, blocked (hybrid-joined,
   * Autopilot Reset); d5 in Reuse. */
  board = open_board (fixture);
  g_assert_true (
    rd_board_move_device (board, rd_board_lookup_device (board, "d2"), RD_LANE_BREAK_FIX, &error));
  g_assert_true (
    rd_board_move_device (board, rd_board_lookup_device (board, "d3"), RD_LANE_REUSE, &error));
  g_assert_true (rd_board_set_method (board, rd_board_lookup_device (board, "d3"),
                                      RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_true (
    rd_board_move_device (board, rd_board_lookup_device (board, "d5"), RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (
    rd_plan_get_state (rd_board_get_plan (board, rd_board_lookup_device (board, "d3"))), ==,
    RD_PLAN_STATE_BLOCKED);
  g_assert_finalize_object (board);

  fixture->sync = open_board (fixture);
  fixture->async = open_board (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_false (rd_board_get_pending (fixture->async));
  g_assert_finalize_object (fixture->sync);
  g_assert_finalize_object (fixture->async);
  rd_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

/* The refresh the tests hand over: d1, d4, d6 and d3 (now Entra-joined,
 * which lifts its block) stay, in another order; d5 (planned) and d7–d12
 * are gone; d13–d20 are new; d4 and d14 are listed twice. */
static const int refresh_ids[] = { 13, 4, 14, 1, -4, 15, 16, 3, -14, 17, 6, 18, 19, 20 };

static GPtrArray *
make_refresh (void)
{
  GPtrArray *devices = make_listing ("NEW", refresh_ids, G_N_ELEMENTS (refresh_ids));

  for (guint i = 0; i < devices->len; i++)
    if (g_str_equal (rd_device_get_id (devices->pdata[i]), "d3"))
      g_object_set (devices->pdata[i], "join-type", RD_JOIN_TYPE_ENTRA_JOINED, NULL);

  return devices;
}

static void
test_same_as_sync (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) for_sync = make_refresh ();
  g_autoptr(GPtrArray) for_async = make_refresh ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autofree char *before = describe (fixture->async);
  g_autofree char *expected = NULL;
  g_autofree char *during = NULL;
  g_autofree char *after = NULL;
  RdDevice *d1 = rd_board_lookup_device (fixture->async, "d1");
  RdDevice *d7 = rd_board_lookup_device (fixture->async, "d7");
  Result result = { 0 };

  rd_board_set_devices (fixture->sync, for_sync);
  expected = describe (fixture->sync);
  g_assert_cmpstr (expected, !=, before);

  watch_lanes (fixture->async, log);
  rd_board_set_devices_async (fixture->async, for_async, G_PRIORITY_DEFAULT, NULL, on_handed_off_cb,
                              &result);
  g_assert_true (rd_board_get_pending (fixture->async));

  /* After a step or two: the lanes and lookups are as before; the devices
   * reached so far have their new facts, the others not yet. */
  iterate (2);
  g_assert_false (result.done);
  during = describe (fixture->async);
  g_assert_cmpstr (during, !=, before);
  g_assert_true (rd_board_lookup_device (fixture->async, "d1") == d1);
  g_assert_cmpstr (rd_device_get_name (d1), ==, "NEW-1");
  g_assert_true (rd_board_lookup_device (fixture->async, "d7") == d7);
  g_assert_null (rd_board_lookup_device (fixture->async, "d13"));
  g_assert_cmpuint (lane_size (fixture->async, RD_LANE_INVENTORY), ==, 9);
  g_assert_cmpstr (log->str, ==, "");

  wait_for (&result);
  g_assert_no_error (result.error);
  g_assert_true (result.ok);
  /* 14 devices, 3 a step: several iterations, not one. */
  g_assert_cmpuint (result.iterations + 2, >=, G_N_ELEMENTS (refresh_ids) / STEP);
  g_assert_false (rd_board_get_pending (fixture->async));

  after = describe (fixture->async);
  g_assert_cmpstr (after, ==, expected);
  /* The board keeps its objects for the devices it knew. */
  g_assert_true (rd_board_lookup_device (fixture->async, "d1") == d1);
  /* One "items-changed" per lane that changed, at the end. */
  g_assert_cmpstr (log->str, ==, "inventory 0-9+11;break-fix 0-1+1;reuse 0-2+2;");

  g_signal_handlers_disconnect_by_data (rd_board_get_lane (fixture->async, RD_LANE_INVENTORY), log);
  g_signal_handlers_disconnect_by_data (rd_board_get_lane (fixture->async, RD_LANE_BREAK_FIX), log);
  g_signal_handlers_disconnect_by_data (rd_board_get_lane (fixture->async, RD_LANE_REUSE), log);
  result_clear (&result);
}

/* Into an empty board, as at a start from the cache. */
static void
test_empty_board (void)
{
  g_autoptr(RdBoard) sync = rd_board_new (NULL);
  g_autoptr(RdBoard) async = rd_board_new (NULL);
  g_autoptr(GPtrArray) for_sync = make_refresh ();
  g_autoptr(GPtrArray) for_async = make_refresh ();
  g_autofree char *expected = NULL;
  g_autofree char *after = NULL;
  Result result = { 0 };

  rd_board_set_devices (sync, for_sync);
  expected = describe (sync);
  _rd_board_set_hand_off_step (async, STEP);
  rd_board_set_devices_async (async, for_async, G_PRIORITY_DEFAULT, NULL, on_handed_off_cb,
                              &result);
  iterate (1);
  g_assert_cmpuint (lane_size (async, RD_LANE_INVENTORY), ==, 0);
  g_assert_null (rd_board_lookup_device (async, "d13"));
  wait_for (&result);
  g_assert_true (result.ok);
  after = describe (async);
  g_assert_cmpstr (after, ==, expected);
  /* The devices handed over are the board's now. */
  g_assert_true (rd_board_lookup_device (async, "d13") == for_async->pdata[0]);

  g_assert_finalize_object (g_steal_pointer (&sync));
  g_assert_finalize_object (g_steal_pointer (&async));
  result_clear (&result);
}

/* A newer inventory during a hand-off replaces it: the first ends
 * cancelled, the board ends as the newer one alone makes it. */
static void
test_newer_wins (Fixture       *fixture,
                 gconstpointer  data)
{
  static const int older_ids[] = { 7, 8, 9, 10, 21, 22, 23, 24, 25, 26, 1 };
  g_autoptr(GPtrArray) older = make_listing ("OLD", older_ids, G_N_ELEMENTS (older_ids));
  g_autoptr(GPtrArray) for_sync = make_refresh ();
  g_autoptr(GPtrArray) newer = make_refresh ();
  g_autoptr(GPtrArray) newest = make_refresh ();
  g_autofree char *expected = NULL;
  g_autofree char *after = NULL;
  Result first = { 0 }, second = { 0 }, third = { 0 };

  rd_board_set_devices (fixture->sync, for_sync);
  expected = describe (fixture->sync);

  rd_board_set_devices_async (fixture->async, older, G_PRIORITY_DEFAULT, NULL, on_handed_off_cb,
                              &first);
  iterate (2);
  g_assert_false (first.done);
  rd_board_set_devices_async (fixture->async, newer, G_PRIORITY_DEFAULT, NULL, on_handed_off_cb,
                              &second);
  g_assert_true (rd_board_get_pending (fixture->async));
  wait_for (&second);
  g_assert_true (first.done);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (second.ok);
  after = describe (fixture->async);
  g_assert_cmpstr (after, ==, expected);
  /* The older listing's new devices never reached the board. */
  g_assert_null (rd_board_lookup_device (fixture->async, "d21"));

  /* The synchronous hand-off replaces one under way too. */
  rd_board_set_devices_async (fixture->async, older, G_PRIORITY_DEFAULT, NULL, on_handed_off_cb,
                              &third);
  iterate (1);
  rd_board_set_devices (fixture->async, newest);
  g_assert_false (rd_board_get_pending (fixture->async));
  g_clear_pointer (&after, g_free);
  after = describe (fixture->async);
  g_assert_cmpstr (after, ==, expected);
  wait_for (&third);
  g_assert_error (third.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  result_clear (&first);
  result_clear (&second);
  result_clear (&third);
}

/* Moves during a hand-off happen at once, are saved, and hold after it:
 * the lanes are made from the plans as they are at the end. */
static void
test_moves_during (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) devices = make_refresh ();
  g_autoptr(GError) error = NULL;
  g_autoptr(RdBoard) again = NULL;
  RdBoard *board = fixture->async;
  RdDevice *d1 = rd_board_lookup_device (board, "d1");
  RdDevice *d2 = rd_board_lookup_device (board, "d2");
  RdDevice *d6 = rd_board_lookup_device (board, "d6");
  RdDevice *d8 = rd_board_lookup_device (board, "d8");
  GListModel *inventory = rd_board_get_lane (board, RD_LANE_INVENTORY);
  Result result = { 0 };
  guint position;

  rd_board_set_devices_async (board, devices, G_PRIORITY_DEFAULT, NULL, on_handed_off_cb, &result);
  iterate (2);
  g_assert_false (result.done);

  /* d1 (in the listing) and d8 (gone from it) to Break and Fix; d2 back to
   * Devices (gone from the listing: it leaves with its plan); d6 to Reuse
   * and back; d9 (gone) stays in Devices. */
  g_assert_true (rd_board_move_device (board, d1, RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, d8, RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, d2, RD_LANE_INVENTORY, &error));
  g_assert_true (rd_board_move_device (board, d6, RD_LANE_REUSE, &error));
  g_assert_true (rd_board_move_device (board, d6, RD_LANE_INVENTORY, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lane_size (board, RD_LANE_BREAK_FIX), ==, 2);
  g_assert_true (rd_board_get_pending (board));

  wait_for (&result);
  g_assert_true (result.ok);
  g_assert_true (rd_board_get_device_lane (board, d1) == RD_LANE_BREAK_FIX);
  g_assert_false (rd_device_store_find (RD_DEVICE_STORE (inventory), d1, NULL));
  g_assert_cmpstr (rd_device_get_name (d1), ==, "NEW-1");
  g_assert_true (rd_board_lookup_device (board, "d8") == d8);
  g_assert_true (rd_board_get_device_lane (board, d8) == RD_LANE_BREAK_FIX);
  g_assert_null (rd_board_lookup_device (board, "d2"));
  g_assert_nonnull (d2);
  g_assert_null (rd_board_lookup_device (board, "d9"));
  g_assert_true (rd_board_lookup_device (board, "d6") == d6);
  g_assert_null (rd_board_get_plan (board, d6));
  /* d6 in Devices in the listing's order: after d13, d4, d14, d15, d16
   * and d17 (d1 and d3 have plans). */
  g_assert_true (rd_device_store_find (RD_DEVICE_STORE (inventory), d6, &position));
  g_assert_cmpuint (position, ==, 6);
  g_assert_cmpuint (lane_size (board, RD_LANE_BREAK_FIX), ==, 2);
  /* d3, and d5, gone from the tenant but held by its plan. */
  g_assert_cmpuint (lane_size (board, RD_LANE_REUSE), ==, 2);
  g_assert_nonnull (rd_board_lookup_device (board, "d5"));

  /* The moves were saved as they were made. */
  again = open_board (fixture);
  g_assert_nonnull (rd_board_get_plan (again, rd_board_lookup_device (again, "d1")));
  g_assert_nonnull (rd_board_get_plan (again, rd_board_lookup_device (again, "d8")));
  g_assert_null (rd_board_get_plan (again, rd_board_lookup_device (again, "d2")));
  g_assert_finalize_object (g_steal_pointer (&again));
  result_clear (&result);
}

/* A cancelled hand-off leaves the lanes as they were. */
static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) devices = make_refresh ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Result result = { 0 };

  rd_board_set_devices_async (fixture->async, devices, G_PRIORITY_DEFAULT, cancellable,
                              on_handed_off_cb, &result);
  iterate (1);
  g_cancellable_cancel (cancellable);
  wait_for (&result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (rd_board_get_pending (fixture->async));
  /* Names may have changed; which device is where has not. */
  g_assert_cmpuint (lane_size (fixture->async, RD_LANE_INVENTORY), ==, 9);
  g_assert_nonnull (rd_board_lookup_device (fixture->async, "d7"));
  g_assert_null (rd_board_lookup_device (fixture->async, "d13"));
  result_clear (&result);
}

/* What a lane's RdDeviceQueryModel sees of a hand-off of many devices:
 * the old list until the end, then the sorted devices; the same devices
 * again, in another order and unchanged, change nothing. */

typedef struct
{
  guint emissions;
  guint pending_changes;
} QueryLog;

static void
on_query_items_changed_cb (GListModel *model,
                           guint       position,
                           guint       removed,
                           guint       added,
                           QueryLog   *log)
{
  log->emissions++;
}

static void
on_query_pending_cb (GObject    *object,
                     GParamSpec *pspec,
                     QueryLog   *log)
{
  log->pending_changes++;
}

static GPtrArray *
make_many (guint n,
           guint seed)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("d%u", i);
      g_autofree char *name = g_strdup_printf ("PC-%06u", (i * 7919) % n);

      g_ptr_array_add (devices, rd_device_new (id, name));
    }
  /* Shuffled, as a sync's pages come. */
  for (guint i = n - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      gpointer swap = devices->pdata[i];

      devices->pdata[i] = devices->pdata[j];
      devices->pdata[j] = swap;
    }

  return devices;
}

static void
wait_query (RdDeviceQueryModel *query,
            Result             *result)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while ((!result->done || rd_device_query_model_get_pending (query)) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (result->done);
  g_assert_false (rd_device_query_model_get_pending (query));
}

static void
test_query_model (void)
{
  const guint n = 20000;
  g_autoptr(RdBoard) board = rd_board_new (NULL);
  g_autoptr(RdDeviceQueryModel) query = rd_device_query_model_new ();
  g_autoptr(GPtrArray) first = make_many (n, 1);
  g_autoptr(GPtrArray) again = make_many (n, 2);
  GListModel *model = G_LIST_MODEL (query);
  QueryLog log = { 0 };
  Result result = { 0 };

  _rd_board_set_hand_off_step (board, 1000);
  rd_device_query_model_set_sort (query, RD_DEVICE_SORT_NAME);
  rd_device_query_model_set_model (query, rd_board_get_lane (board, RD_LANE_INVENTORY));
  g_signal_connect (query, "items-changed", G_CALLBACK (on_query_items_changed_cb), &log);
  g_signal_connect (query, "notify::pending", G_CALLBACK (on_query_pending_cb), &log);

  rd_board_set_devices_async (board, first, G_PRIORITY_DEFAULT_IDLE, NULL, on_handed_off_cb,
                              &result);
  iterate (3);
  g_assert_false (result.done);
  wait_for (&result);
  /* The lane has its devices; the query model makes their entries, and
   * shows what it showed meanwhile. */
  g_assert_cmpuint (g_list_model_get_n_items (rd_board_get_lane (board, RD_LANE_INVENTORY)), ==, n);
  g_assert_true (rd_device_query_model_get_pending (query));
  g_assert_cmpuint (log.pending_changes, >=, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  wait_query (query, &result);
  g_assert_cmpuint (log.emissions, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  for (guint i = 0; i < n; i += 1999)
    {
      g_autoptr(RdDevice) device = g_list_model_get_item (model, i);
      g_autofree char *name = g_strdup_printf ("PC-%06u", i);

      g_assert_cmpstr (rd_device_get_name (device), ==, name);
    }

  /* A refresh with nothing new, in another order: the entries stay, the
   * sorted list is the same, the lane sees nothing. */
  result_clear (&result);
  log.emissions = 0;
  rd_board_set_devices_async (board, again, G_PRIORITY_DEFAULT_IDLE, NULL, on_handed_off_cb,
                              &result);
  wait_query (query, &result);
  g_assert_true (result.ok);
  g_assert_cmpuint (log.emissions, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);

  /* One renamed device: it moves, the others stay. */
  result_clear (&result);
  g_object_set (again->pdata[0], "name", "AAA-first", NULL);
  rd_board_set_devices_async (board, again, G_PRIORITY_DEFAULT_IDLE, NULL, on_handed_off_cb,
                              &result);
  wait_query (query, &result);
  g_assert_cmpuint (log.emissions, >=, 1);
  {
    g_autoptr(RdDevice) device = g_list_model_get_item (model, 0);

    g_assert_cmpstr (rd_device_get_name (device), ==, "AAA-first");
  }

  g_signal_handlers_disconnect_by_data (query, &log);
  g_assert_finalize_object (g_steal_pointer (&query));
  g_assert_finalize_object (g_steal_pointer (&board));
  result_clear (&result);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func)                                                                            \
  g_test_add ("/rd/board/hand-off/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("same-as-sync", test_same_as_sync);
  ADD ("newer-wins", test_newer_wins);
  ADD ("moves-during", test_moves_during);
  ADD ("cancelled", test_cancelled);
  g_test_add_func ("/rd/board/hand-off/empty-board", test_empty_board);
  g_test_add_func ("/rd/board/hand-off/query-model", test_query_model);

  return g_test_run ();
}
