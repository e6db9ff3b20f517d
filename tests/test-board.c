/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "rd-board.h"
#include "rd-core-error.h"
#include "rd-method.h"
#include "rd-plan-store.h"
#include "rd-test-util.h"

typedef struct
{
  char *dir;
  RdPlanStore *store;
  RdBoard *board;
  GPtrArray *devices;
} Fixture;

/* A device that passes every readiness rule for every method. */
static RdDevice *
good_device (const char *id,
             const char *name)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  RdDevice *device = rd_test_ready_device (id, name, "10.0.22631.4460", now);

  g_object_set (device, "serial", name, NULL);
  return device;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = rd_test_make_tmp_dir ("rd-board-XXXXXX");
  fixture->store = rd_plan_store_new (fixture->dir, "contoso.example");
  fixture->board = rd_board_new (fixture->store);
  g_assert_true (rd_board_load (fixture->board, &error));
  g_assert_no_error (error);

  fixture->devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (fixture->devices, good_device ("d1", "PC-1"));
  g_ptr_array_add (fixture->devices, good_device ("d2", "PC-2"));
  g_ptr_array_add (fixture->devices, good_device ("d3", "PC-3"));
  g_object_set (g_ptr_array_index (fixture->devices, 2), "join-type",
                RD_JOIN_TYPE_HYBRID_JOINED, NULL);
  rd_board_set_devices (fixture->board, fixture->devices);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_finalize_object (fixture->board);
  g_assert_finalize_object (fixture->store);
  g_ptr_array_unref (fixture->devices);
  rd_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static RdDevice *
device_at (Fixture *fixture,
           guint    i)
{
  return g_ptr_array_index (fixture->devices, i);
}

static guint
lane_size (RdBoard *board,
           RdLane   lane)
{
  return g_list_model_get_n_items (rd_board_get_lane (board, lane));
}

static gboolean
lane_has (RdBoard  *board,
          RdLane    lane,
          RdDevice *device)
{
  GListModel *model = rd_board_get_lane (board, lane);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(RdDevice) item = g_list_model_get_item (model, i);

      if (item == device)
        return TRUE;
    }

  return FALSE;
}

/* Loads the store from disk with a fresh board, as the next start would. */
static RdBoard *
reload (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdPlanStore) store = rd_plan_store_new (fixture->dir, "contoso.example");
  RdBoard *board = rd_board_new (store);

  g_assert_true (rd_board_load (board, &error));
  g_assert_no_error (error);
  rd_board_set_devices (board, fixture->devices);

  return board;
}

static void
test_initial (Fixture       *fixture,
              gconstpointer  data)
{
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_INVENTORY), ==, 3);
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_BREAK_FIX), ==, 0);
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_REUSE), ==, 0);
  g_assert_true (rd_board_lookup_device (fixture->board, "d2") == device_at (fixture, 1));
  g_assert_null (rd_board_get_plan (fixture->board, device_at (fixture, 0)));
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_move_to_lane (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdBoard) again = NULL;
  RdDevice *d1 = device_at (fixture, 0);
  RdPlan *plan;
  guint changes = 0;

  g_signal_connect (rd_board_get_lane (fixture->board, RD_LANE_BREAK_FIX), "items-changed",
                    G_CALLBACK (on_items_changed), &changes);

  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_BREAK_FIX, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changes, ==, 1);
  g_assert_false (lane_has (fixture->board, RD_LANE_INVENTORY, d1));
  g_assert_true (lane_has (fixture->board, RD_LANE_BREAK_FIX, d1));
  g_assert_cmpint (rd_board_get_device_lane (fixture->board, d1), ==, RD_LANE_BREAK_FIX);

  plan = rd_board_get_plan (fixture->board, d1);
  g_assert_nonnull (plan);
  g_assert_cmpint (rd_plan_get_lane (plan), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_WIPE_RETAIN);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  /* The move is on disk already. */
  again = reload (fixture);
  g_assert_true (lane_has (again, RD_LANE_BREAK_FIX, d1));
  g_assert_cmpint (rd_plan_get_state (rd_board_get_plan (again, d1)), ==, RD_PLAN_STATE_READY);
  g_assert_cmpuint (lane_size (again, RD_LANE_INVENTORY), ==, 2);
  g_assert_finalize_object (g_steal_pointer (&again));

  g_signal_handlers_disconnect_by_data (rd_board_get_lane (fixture->board, RD_LANE_BREAK_FIX),
                                        &changes);
}

static void
test_move_blocked (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RdDevice *hybrid = device_at (fixture, 2);
  RdPlan *plan;

  g_assert_true (rd_board_move_device (fixture->board, hybrid, RD_LANE_REUSE, &error));
  plan = rd_board_get_plan (fixture->board, hybrid);
  g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_REIMAGE_OEM);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  /* Autopilot Reset is not for hybrid-joined devices. */
  g_assert_true (rd_board_set_method (fixture->board, hybrid, RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_BLOCKED);
  g_assert_false (rd_board_transition_plan (fixture->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION);
  g_clear_error (&error);

  /* A fact that changes at the next sync lifts the block. */
  g_object_set (g_ptr_array_index (fixture->devices, 2), "join-type", RD_JOIN_TYPE_ENTRA_JOINED,
                NULL);
  rd_board_set_devices (fixture->board, fixture->devices);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  /* A method of the other lane is refused. */
  g_assert_false (rd_board_set_method (fixture->board, hybrid, RD_METHOD_WIPE_RETAIN, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_METHOD_NOT_IN_LANE);
  g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_AUTOPILOT_RESET);
}

static void
test_move_back_drops_plan (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdBoard) again = NULL;
  RdDevice *d2 = device_at (fixture, 1);
  g_autoptr(RdPlan) plan = NULL;

  g_assert_true (rd_board_move_device (fixture->board, d2, RD_LANE_REUSE, &error));
  plan = g_object_ref (rd_board_get_plan (fixture->board, d2));

  /* Between lanes: a new plan with the new lane's default method. */
  g_assert_true (rd_board_move_device (fixture->board, d2, RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_get_plan (fixture->board, d2) != plan);
  g_assert_cmpint (rd_plan_get_method (rd_board_get_plan (fixture->board, d2)), ==,
                   RD_METHOD_WIPE_RETAIN);
  g_assert_false (lane_has (fixture->board, RD_LANE_REUSE, d2));
  g_assert_true (lane_has (fixture->board, RD_LANE_BREAK_FIX, d2));

  g_assert_true (rd_board_move_device (fixture->board, d2, RD_LANE_INVENTORY, &error));
  g_assert_no_error (error);
  g_assert_null (rd_board_get_plan (fixture->board, d2));
  g_assert_true (lane_has (fixture->board, RD_LANE_INVENTORY, d2));
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_BREAK_FIX), ==, 0);

  again = reload (fixture);
  g_assert_null (rd_board_get_plan (again, d2));
  g_assert_cmpuint (lane_size (again, RD_LANE_INVENTORY), ==, 3);
  g_assert_finalize_object (g_steal_pointer (&again));

  /* A move to the lane a device is in changes nothing. */
  g_assert_true (rd_board_move_device (fixture->board, d2, RD_LANE_INVENTORY, &error));
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_INVENTORY), ==, 3);
}

static void
test_sent_cannot_move (Fixture       *fixture,
                       gconstpointer  data)
{
  static const RdPlanState path[] = {
    RD_PLAN_STATE_SENDING,
    RD_PLAN_STATE_SENT,
    RD_PLAN_STATE_PENDING,
  };
  g_autoptr(GError) error = NULL;
  RdDevice *d1 = device_at (fixture, 0);
  RdPlan *plan;

  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_BREAK_FIX, &error));
  plan = rd_board_get_plan (fixture->board, d1);

  for (guint i = 0; i < G_N_ELEMENTS (path); i++)
    {
      g_autoptr(RdBoard) again = NULL;

      g_assert_true (rd_board_transition_plan (fixture->board, plan, path[i], &error));
      g_assert_no_error (error);

      /* Saved before the transition returned. */
      again = reload (fixture);
      g_assert_cmpint (rd_plan_get_state (rd_board_get_plan (again, d1)), ==, path[i]);
      g_assert_finalize_object (g_steal_pointer (&again));

      for (RdLane lane = RD_LANE_INVENTORY; lane <= RD_LANE_REUSE; lane++)
        {
          if (lane == RD_LANE_BREAK_FIX)
            continue;
          g_assert_false (rd_board_move_device (fixture->board, d1, lane, &error));
          g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED);
          g_clear_error (&error);
          g_assert_true (rd_board_get_plan (fixture->board, d1) == plan);
          g_assert_true (lane_has (fixture->board, RD_LANE_BREAK_FIX, d1));
          g_assert_false (lane_has (fixture->board, lane, d1));
        }
    }

  /* Once done, the device may go back to Devices. */
  g_assert_true (rd_board_transition_plan (fixture->board, plan, RD_PLAN_STATE_DONE, &error));
  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_INVENTORY, &error));
  g_assert_no_error (error);
  g_assert_null (rd_board_get_plan (fixture->board, d1));
}

static void
test_awaiting_cannot_move (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RdDevice *d1 = device_at (fixture, 0);
  RdPlan *plan;

  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_REUSE, &error));
  plan = rd_board_get_plan (fixture->board, d1);
  g_assert_true (rd_plan_record_usb_key (plan, "universal.wim",
                                         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                                         "USB-1", &error));
  g_assert_true (rd_board_transition_plan (fixture->board, plan,
                                           RD_PLAN_STATE_AWAITING_RE_ENROLLMENT, &error));
  g_assert_false (rd_board_move_device (fixture->board, d1, RD_LANE_INVENTORY, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED);
  g_assert_true (lane_has (fixture->board, RD_LANE_REUSE, d1));
}

static void
test_unknown_device (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdDevice) stranger = good_device ("zz", "Stranger");
  g_autoptr(RdDevice) twin = good_device ("d1", "PC-1");

  g_assert_false (rd_board_move_device (fixture->board, stranger, RD_LANE_BREAK_FIX, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED);
  g_clear_error (&error);

  /* Another object with a known id is not the board's device either. */
  g_assert_false (rd_board_move_device (fixture->board, twin, RD_LANE_BREAK_FIX, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED);
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_BREAK_FIX), ==, 0);
}

static void
test_save_failure_rolls_back (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *blocker = g_build_filename (fixture->dir, "not-a-dir", NULL);
  g_autofree char *inside = g_build_filename (blocker, "sub", NULL);
  g_autofree char *away = g_strconcat (fixture->dir, ".away", NULL);
  g_autoptr(RdPlanStore) store = NULL;
  g_autoptr(RdBoard) board = NULL;
  RdDevice *d1 = device_at (fixture, 0);
  RdPlan *plan;

  /* A store whose directory cannot exist: a file is in its way. */
  g_assert_true (g_file_set_contents (blocker, "x", -1, NULL));
  store = rd_plan_store_new (inside, "contoso.example");
  board = rd_board_new (store);
  rd_board_set_devices (board, fixture->devices);

  g_assert_false (rd_board_move_device (board, d1, RD_LANE_BREAK_FIX, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (lane_has (board, RD_LANE_INVENTORY, d1));
  g_assert_false (lane_has (board, RD_LANE_BREAK_FIX, d1));
  g_assert_null (rd_board_get_plan (board, d1));

  /* With a working store the move lands; then, with the store's folder
   * replaced by a file, a transition to sending cannot be saved and leaves
   * the plan ready, so nothing would be sent. */
  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_BREAK_FIX, &error));
  plan = rd_board_get_plan (fixture->board, d1);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  g_assert_cmpint (g_rename (fixture->dir, away), ==, 0);
  g_assert_true (g_file_set_contents (fixture->dir, "x", -1, NULL));
  g_assert_false (rd_board_transition_plan (fixture->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_cmpint (g_unlink (fixture->dir), ==, 0);
  g_assert_cmpint (g_rename (away, fixture->dir), ==, 0);

  g_assert_true (rd_board_transition_plan (fixture->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);

  g_assert_finalize_object (g_steal_pointer (&board));
}

#define KEY_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void
test_record_usb_key (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdBoard) again = NULL;
  g_autofree char *away = g_strconcat (fixture->dir, ".away", NULL);
  RdDevice *d1 = device_at (fixture, 0);
  RdDevice *d2 = device_at (fixture, 1);
  RdPlan *plan;

  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_REUSE, &error));
  g_assert_true (rd_board_move_device (fixture->board, d2, RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  plan = rd_board_get_plan (fixture->board, d1);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  /* Not a SHA-256: refused, nothing changes. */
  g_assert_false (rd_board_record_usb_key (fixture->board, plan, "oem.img.xz", "abc", "SN1",
                                           &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  g_assert_true (rd_board_record_usb_key (fixture->board, plan, "oem.img.xz", KEY_SHA256,
                                          "4C530001231120115142", &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_USB_PREPARED);

  /* On disk already. */
  again = reload (fixture);
  plan = rd_board_get_plan (again, d1);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_USB_PREPARED);
  g_assert_cmpstr (rd_plan_get_usb_image_name (plan), ==, "oem.img.xz");
  g_assert_cmpstr (rd_plan_get_usb_image_sha256 (plan), ==, KEY_SHA256);
  g_assert_cmpstr (rd_plan_get_usb_drive_serial (plan), ==, "4C530001231120115142");
  g_assert_finalize_object (g_steal_pointer (&again));

  /* A key that cannot be saved is not recorded: the plan stays ready, without a key. */
  plan = rd_board_get_plan (fixture->board, d2);
  g_assert_cmpint (g_rename (fixture->dir, away), ==, 0);
  g_assert_true (g_file_set_contents (fixture->dir, "x", -1, NULL));
  g_assert_false (rd_board_record_usb_key (fixture->board, plan, "oem.img.xz", KEY_SHA256, "SN2",
                                           &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (g_unlink (fixture->dir), ==, 0);
  g_assert_cmpint (g_rename (away, fixture->dir), ==, 0);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_null (rd_plan_get_usb_image_name (plan));
  g_assert_null (rd_plan_get_usb_image_sha256 (plan));
  g_assert_null (rd_plan_get_usb_drive_serial (plan));

  again = reload (fixture);
  g_assert_cmpint (rd_plan_get_state (rd_board_get_plan (again, d2)), ==, RD_PLAN_STATE_READY);
  g_assert_finalize_object (g_steal_pointer (&again));
}

static void
test_devices_refresh (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) fresh = g_ptr_array_new_with_free_func (g_object_unref);
  RdDevice *d1 = device_at (fixture, 0);
  RdDevice *d2 = device_at (fixture, 1);

  g_assert_true (rd_board_move_device (fixture->board, d1, RD_LANE_BREAK_FIX, &error));

  /* The next sync brings new objects: d1 and d2 gone from the tenant, d4
   * new, d3 changed. The board keeps its own objects. */
  g_ptr_array_add (fresh, good_device ("d3", "PC-3-renamed"));
  g_ptr_array_add (fresh, good_device ("d4", "PC-4"));
  rd_board_set_devices (fixture->board, fresh);

  g_assert_true (rd_board_lookup_device (fixture->board, "d3") == device_at (fixture, 2));
  g_assert_cmpstr (rd_device_get_name (device_at (fixture, 2)), ==, "PC-3-renamed");
  g_assert_nonnull (rd_board_lookup_device (fixture->board, "d4"));
  g_assert_null (rd_board_lookup_device (fixture->board, "d2"));
  g_assert_false (lane_has (fixture->board, RD_LANE_INVENTORY, d2));

  /* A device with a plan stays, in its lane, even when the tenant no longer
   * lists it. */
  g_assert_true (rd_board_lookup_device (fixture->board, "d1") == d1);
  g_assert_true (lane_has (fixture->board, RD_LANE_BREAK_FIX, d1));
  g_assert_cmpuint (lane_size (fixture->board, RD_LANE_INVENTORY), ==, 2);
}

static void
test_plans_before_devices (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdPlanStore) store = NULL;
  g_autoptr(RdBoard) board = NULL;
  g_autoptr(GPtrArray) plans = NULL;
  RdDevice *d3 = device_at (fixture, 2);

  g_assert_true (rd_board_move_device (fixture->board, d3, RD_LANE_REUSE, &error));

  /* The next start loads the plans before the inventory arrives. */
  store = rd_plan_store_new (fixture->dir, "contoso.example");
  board = rd_board_new (store);
  g_assert_true (rd_board_load (board, &error));
  plans = rd_board_dup_plans (board);
  g_assert_cmpuint (plans->len, ==, 1);
  g_assert_null (rd_plan_get_device (g_ptr_array_index (plans, 0)));
  g_assert_cmpuint (lane_size (board, RD_LANE_REUSE), ==, 0);

  rd_board_set_devices (board, fixture->devices);
  g_assert_true (lane_has (board, RD_LANE_REUSE, d3));
  g_assert_true (rd_plan_get_device (g_ptr_array_index (plans, 0)) == d3);
  g_assert_cmpuint (lane_size (board, RD_LANE_INVENTORY), ==, 2);

  g_clear_pointer (&plans, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&board));
}

/* What a lane's "Run all ready" sends: ready wipes that nothing blocks now. */
static void
test_ready_plans (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ready = NULL;
  RdPlan *first;

  g_assert_true (rd_board_move_device (fixture->board, device_at (fixture, 0), RD_LANE_BREAK_FIX,
                                       &error));
  g_assert_true (rd_board_move_device (fixture->board, device_at (fixture, 1), RD_LANE_BREAK_FIX,
                                       &error));
  g_assert_true (rd_board_move_device (fixture->board, device_at (fixture, 2), RD_LANE_REUSE,
                                       &error));
  g_assert_no_error (error);
  first = rd_board_get_plan (fixture->board, device_at (fixture, 0));

  ready = rd_board_dup_ready_plans (fixture->board, RD_LANE_BREAK_FIX);
  g_assert_cmpuint (ready->len, ==, 2);
  g_assert_true (g_ptr_array_index (ready, 0) == first);
  g_assert_true (g_ptr_array_index (ready, 1) ==
                 rd_board_get_plan (fixture->board, device_at (fixture, 1)));
  g_clear_pointer (&ready, g_ptr_array_unref);

  /* A reimage is done by hand; an Autopilot Reset of a hybrid-joined device is blocked. */
  ready = rd_board_dup_ready_plans (fixture->board, RD_LANE_REUSE);
  g_assert_cmpuint (ready->len, ==, 0);
  g_clear_pointer (&ready, g_ptr_array_unref);
  g_assert_true (rd_board_set_method (fixture->board, device_at (fixture, 2),
                                      RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_no_error (error);
  ready = rd_board_dup_ready_plans (fixture->board, RD_LANE_REUSE);
  g_assert_cmpuint (ready->len, ==, 0);
  g_clear_pointer (&ready, g_ptr_array_unref);

  /* Facts that changed since the plan was made ready count: a blocker now,
   * or a wipe already pending. */
  g_object_set (device_at (fixture, 1), "os-version", "10.0.15063.0", NULL);
  ready = rd_board_dup_ready_plans (fixture->board, RD_LANE_BREAK_FIX);
  g_assert_cmpuint (ready->len, ==, 1);
  g_assert_true (g_ptr_array_index (ready, 0) == first);
  g_clear_pointer (&ready, g_ptr_array_unref);
  g_object_set (device_at (fixture, 1), "os-version", "10.0.22631.4460", "management-state",
                RD_MANAGEMENT_STATE_WIPE_PENDING, NULL);
  ready = rd_board_dup_ready_plans (fixture->board, RD_LANE_BREAK_FIX);
  g_assert_cmpuint (ready->len, ==, 1);
  g_clear_pointer (&ready, g_ptr_array_unref);

  /* A plan on its way is not ready any more. */
  g_assert_true (rd_board_transition_plan (fixture->board, first, RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);
  ready = rd_board_dup_ready_plans (fixture->board, RD_LANE_BREAK_FIX);
  g_assert_cmpuint (ready->len, ==, 0);
}

static void
test_no_store (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdBoard) board = rd_board_new (NULL);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (devices, good_device ("d1", "PC-1"));
  g_assert_true (rd_board_load (board, &error));
  rd_board_set_devices (board, devices);
  g_assert_true (rd_board_move_device (board, g_ptr_array_index (devices, 0), RD_LANE_REUSE,
                                       &error));
  g_assert_cmpuint (lane_size (board, RD_LANE_REUSE), ==, 1);
  g_assert_finalize_object (g_steal_pointer (&board));
}

/* A device listed twice is taken once, the first time, in the order
 * given: into an empty board (a start) as into a full one (a refresh). */
static void
test_devices_listed_twice (void)
{
  g_autoptr(RdBoard) board = rd_board_new (NULL);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) again = g_ptr_array_new_with_free_func (g_object_unref);
  GListModel *inventory = rd_board_get_lane (board, RD_LANE_INVENTORY);
  g_autoptr(RdDevice) first = NULL;
  g_autoptr(RdDevice) second = NULL;

  g_ptr_array_add (devices, good_device ("d2", "PC-2"));
  g_ptr_array_add (devices, good_device ("d1", "PC-1"));
  g_ptr_array_add (devices, good_device ("d2", "PC-2-copy"));
  rd_board_set_devices (board, devices);
  g_assert_cmpuint (lane_size (board, RD_LANE_INVENTORY), ==, 2);
  first = g_list_model_get_item (inventory, 0);
  second = g_list_model_get_item (inventory, 1);
  g_assert_true (first == devices->pdata[0]);
  g_assert_true (second == devices->pdata[1]);
  g_assert_true (rd_board_lookup_device (board, "d2") == devices->pdata[0]);
  g_clear_object (&first);
  g_clear_object (&second);

  g_ptr_array_add (again, good_device ("d1", "PC-1-renamed"));
  g_ptr_array_add (again, good_device ("d1", "PC-1-copy"));
  rd_board_set_devices (board, again);
  g_assert_cmpuint (lane_size (board, RD_LANE_INVENTORY), ==, 1);
  first = g_list_model_get_item (inventory, 0);
  g_assert_true (first == devices->pdata[1]);
  g_assert_cmpstr (rd_device_get_name (first), ==, "PC-1-renamed");
  g_assert_null (rd_board_lookup_device (board, "d2"));
  g_clear_object (&first);

  g_assert_finalize_object (g_steal_pointer (&board));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/rd/board/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("initial", test_initial);
  ADD ("move-to-lane", test_move_to_lane);
  ADD ("move-blocked", test_move_blocked);
  ADD ("move-back-drops-plan", test_move_back_drops_plan);
  ADD ("sent-cannot-move", test_sent_cannot_move);
  ADD ("awaiting-cannot-move", test_awaiting_cannot_move);
  ADD ("unknown-device", test_unknown_device);
  ADD ("save-failure-rolls-back", test_save_failure_rolls_back);
  ADD ("record-usb-key", test_record_usb_key);
  ADD ("devices-refresh", test_devices_refresh);
  ADD ("plans-before-devices", test_plans_before_devices);
  ADD ("ready-plans", test_ready_plans);
  g_test_add_func ("/rd/board/no-store", test_no_store);
  g_test_add_func ("/rd/board/devices-listed-twice", test_devices_listed_twice);

  return g_test_run ();
}
