/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>

#include "rd-application.h"
#include "rd-device-card-private.h"
#include "rd-lane-view.h"
#include "rd-plan-pane.h"
#include "rd-readiness.h"
#include "rd-stable-selection.h"
#include "rd-ui-utils.h"
#include "rd-window.h"

#include "rd-ui-test-util.h"

/* The board's widgets, driven as an admin would: drops, the card menu and
 * the shortcuts' action, Undo from the toast, the search, the plan pane's
 * Run button and its confirmation. */

/* One application for every test: a registered GApplication outlives its
 * last window for a while, and only one may export its path on the bus. */
static RdApplication *app;

typedef struct
{
  RdWindow *window;
  RdBoard *board;
  RdLaneView *lanes[RD_N_LANES];
  RdPlanPane *pane;
  GPtrArray *devices;
  guint confirmed;
  RdPlan *confirmed_plan;
} Fixture;

static RdDevice *
make_device (const char *id,
             const char *name,
             RdJoinType  join_type)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_object_new (RD_TYPE_DEVICE,
                       "id", id, "name", name, "model", "EliteBook 840 G8",
                       "user-display-name", "Ada Lovelace",
                       "operating-system", "Windows", "os-version", "10.0.22631.4460",
                       "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", join_type, "last-sync", now,
                       "compliance", RD_COMPLIANCE_COMPLIANT,
                       "encrypted", RD_TRISTATE_YES, "escrowed-keys", 1,
                       "autopilot", RD_TRISTATE_YES, "winre-state", RD_WINRE_STATE_CONFIGURED,
                       "management-state", RD_MANAGEMENT_STATE_MANAGED,
                       NULL);
}

static RdDevice *
device (Fixture *fixture,
        guint    i)
{
  return g_ptr_array_index (fixture->devices, i);
}

static RdLane
lane_of (Fixture *fixture,
         guint    i)
{
  return rd_board_get_device_lane (fixture->board, device (fixture, i));
}

static const char *
lane_count (Fixture *fixture,
            RdLane   lane)
{
  return gtk_label_get_label (
    GTK_LABEL (rd_ui_test_template_child (fixture->lanes[lane], RD_TYPE_LANE_VIEW, "count_label")));
}

static GtkDropTarget *
drop_target (RdLaneView *lane)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (lane));
  guint n = g_list_model_get_n_items (controllers);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        return GTK_DROP_TARGET (controller);
    }

  g_assert_not_reached ();
}

static gboolean
drop (RdLaneView   *lane,
      const GValue *value)
{
  gboolean handled = FALSE;

  g_signal_emit_by_name (drop_target (lane), "drop", value, 10.0, 10.0, &handled);
  return handled;
}

static void
add_to_selection (Fixture  *fixture,
                  RdLane    lane,
                  RdDevice *target,
                  gboolean  unselect_rest)
{
  GtkSelectionModel *selection = rd_lane_view_get_selection (fixture->lanes[lane]);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (selection));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdDevice) item = g_list_model_get_item (G_LIST_MODEL (selection), i);

      if (item == target)
        {
          g_assert_true (gtk_selection_model_select_item (selection, i, unselect_rest));
          return;
        }
    }

  g_assert_not_reached ();
}

static void
select_device (Fixture  *fixture,
               RdLane    lane,
               RdDevice *target)
{
  add_to_selection (fixture, lane, target, TRUE);
}

static void
on_run_plan_confirmed_cb (RdWindow *window,
                          RdPlan   *plan,
                          Fixture  *fixture)
{
  fixture->confirmed++;
  g_set_object (&fixture->confirmed_plan, plan);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  static const char *const names[] = { "HR-LT-001", "HR-LT-002", "FIN-PC-003", "FIN-PC-004",
                                       "LAB-HY-005" };

  fixture->board = rd_board_new (NULL);
  fixture->devices = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *id = g_strdup_printf ("d%u", i + 1);

      g_ptr_array_add (fixture->devices,
                       make_device (id, names[i],
                                    i == 4 ? RD_JOIN_TYPE_HYBRID_JOINED
                                           : RD_JOIN_TYPE_ENTRA_JOINED));
    }
  rd_board_set_devices (fixture->board, fixture->devices);

  fixture->window = g_object_ref (rd_window_new (app));
  rd_window_set_board (fixture->window, fixture->board);
  g_signal_connect (fixture->window, "run-plan-confirmed", G_CALLBACK (on_run_plan_confirmed_cb),
                    fixture);
  fixture->lanes[RD_LANE_INVENTORY] = RD_LANE_VIEW (
    rd_ui_test_template_child (fixture->window, RD_TYPE_WINDOW, "inventory_lane"));
  fixture->lanes[RD_LANE_BREAK_FIX] = RD_LANE_VIEW (
    rd_ui_test_template_child (fixture->window, RD_TYPE_WINDOW, "break_fix_lane"));
  fixture->lanes[RD_LANE_REUSE] = RD_LANE_VIEW (
    rd_ui_test_template_child (fixture->window, RD_TYPE_WINDOW, "reuse_lane"));
  fixture->pane = RD_PLAN_PANE (
    rd_ui_test_template_child (fixture->window, RD_TYPE_WINDOW, "plan_pane"));
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1400, 860);
  gtk_window_present (GTK_WINDOW (fixture->window));
  rd_ui_test_iterate (250);

  g_assert_cmpstr (lane_count (fixture, RD_LANE_INVENTORY), ==, "5");
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  rd_ui_test_close_window (fixture->window, 100);
  g_clear_object (&fixture->confirmed_plan);
  g_assert_finalize_object (fixture->board);
  g_ptr_array_unref (fixture->devices);
}

/* Drag and drop */

static void
test_drop_device (Fixture       *fixture,
                  gconstpointer  data)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, RD_TYPE_DEVICE);
  g_value_set_object (&value, device (fixture, 0));
  g_assert_true (drop (fixture->lanes[RD_LANE_BREAK_FIX], &value));
  g_value_unset (&value);
  rd_ui_test_iterate (50);

  g_assert_cmpint (lane_of (fixture, 0), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpstr (lane_count (fixture, RD_LANE_INVENTORY), ==, "4");
  g_assert_cmpstr (lane_count (fixture, RD_LANE_BREAK_FIX), ==, "1");
  g_assert_true (rd_ui_test_label_shows (GTK_WIDGET (fixture->window),
                                         "HR-LT-001 moved to Break and Fix"));

  /* And on to Reuse, from lane to lane. */
  g_value_init (&value, RD_TYPE_DEVICE);
  g_value_set_object (&value, device (fixture, 0));
  g_assert_true (drop (fixture->lanes[RD_LANE_REUSE], &value));
  g_value_unset (&value);
  g_assert_cmpint (lane_of (fixture, 0), ==, RD_LANE_REUSE);
  g_assert_cmpint (rd_plan_get_method (rd_board_get_plan (fixture->board, device (fixture, 0))), ==,
                   RD_METHOD_REIMAGE_OEM);
}

static void
test_drop_several (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GListStore) store = g_list_store_new (RD_TYPE_DEVICE);
  GValue value = G_VALUE_INIT;

  g_list_store_append (store, device (fixture, 1));
  g_list_store_append (store, device (fixture, 2));
  g_value_init (&value, G_TYPE_LIST_MODEL);
  g_value_set_object (&value, store);
  g_assert_true (drop (fixture->lanes[RD_LANE_REUSE], &value));
  g_value_unset (&value);
  rd_ui_test_iterate (50);

  g_assert_cmpint (lane_of (fixture, 1), ==, RD_LANE_REUSE);
  g_assert_cmpint (lane_of (fixture, 2), ==, RD_LANE_REUSE);
  g_assert_cmpint (lane_of (fixture, 0), ==, RD_LANE_INVENTORY);
  g_assert_cmpstr (lane_count (fixture, RD_LANE_REUSE), ==, "2");
  g_assert_true (rd_ui_test_label_shows (GTK_WIDGET (fixture->window), "2 devices moved to Reuse"));
}

/* A selection of several cards drags as one list of devices. */
static void
test_drag_selection (Fixture       *fixture,
                     gconstpointer  data)
{
  GtkSelectionModel *selection = rd_lane_view_get_selection (fixture->lanes[RD_LANE_INVENTORY]);
  g_autoptr(GPtrArray) selected = NULL;

  gtk_selection_model_select_range (selection, 0, 3, TRUE);
  selected = rd_lane_view_dup_selected_devices (fixture->lanes[RD_LANE_INVENTORY]);
  g_assert_cmpuint (selected->len, ==, 3);
  g_assert_null (rd_lane_view_get_selected_device (fixture->lanes[RD_LANE_INVENTORY]));
}

/* Keyboard twins */

static void
test_card_menu_move (Fixture       *fixture,
                     gconstpointer  data)
{
  RdDeviceCard *card =
    rd_ui_test_find_card (fixture->lanes[RD_LANE_INVENTORY], device (fixture, 2));

  g_assert_nonnull (card);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (card), "card.move-to-lane", "s", "reuse"));
  rd_ui_test_iterate (50);
  g_assert_cmpint (lane_of (fixture, 2), ==, RD_LANE_REUSE);
  g_assert_cmpstr (lane_count (fixture, RD_LANE_REUSE), ==, "1");

  /* The card now in Reuse shows its plan's state. */
  card = rd_ui_test_find_card (fixture->lanes[RD_LANE_REUSE], device (fixture, 2));
  g_assert_nonnull (card);
  g_assert_true (rd_device_card_get_plan (card) ==
                 rd_board_get_plan (fixture->board, device (fixture, 2)));
  g_assert_true (gtk_widget_get_visible (rd_ui_test_card_part (card, "state_label")));
}

static void
test_shortcut_move (Fixture       *fixture,
                    gconstpointer  data)
{
  RdLaneView *inventory = fixture->lanes[RD_LANE_INVENTORY];
  RdLaneView *break_fix = fixture->lanes[RD_LANE_BREAK_FIX];

  /* Ctrl+2 activates lane.move-selection("break-fix"): the two selected
   * devices move, the others stay. */
  select_device (fixture, RD_LANE_INVENTORY, device (fixture, 0));
  add_to_selection (fixture, RD_LANE_INVENTORY, device (fixture, 1), FALSE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.move-selection", "s",
                                             "break-fix"));
  rd_ui_test_iterate (50);
  g_assert_cmpint (lane_of (fixture, 0), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpint (lane_of (fixture, 1), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpint (lane_of (fixture, 2), ==, RD_LANE_INVENTORY);

  /* Ctrl+1 in Break and Fix sends the selected one back. */
  select_device (fixture, RD_LANE_BREAK_FIX, device (fixture, 1));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (break_fix), "lane.move-selection", "s",
                                             "inventory"));
  g_assert_cmpint (lane_of (fixture, 1), ==, RD_LANE_INVENTORY);
  g_assert_cmpint (lane_of (fixture, 0), ==, RD_LANE_BREAK_FIX);
}

/* Undo */

static void
test_undo (Fixture       *fixture,
           gconstpointer  data)
{
  RdDeviceCard *card =
    rd_ui_test_find_card (fixture->lanes[RD_LANE_INVENTORY], device (fixture, 3));
  g_autoptr(GError) error = NULL;
  GtkWidget *undo;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (card), "card.move-to-lane", "s",
                                             "break-fix"));
  rd_ui_test_iterate (100);
  g_assert_cmpint (lane_of (fixture, 3), ==, RD_LANE_BREAK_FIX);

  undo = rd_ui_test_find_button (GTK_WIDGET (fixture->window), "_Undo");
  g_assert_nonnull (undo);
  g_signal_emit_by_name (undo, "clicked");
  rd_ui_test_iterate (50);
  g_assert_cmpint (lane_of (fixture, 3), ==, RD_LANE_INVENTORY);
  g_assert_cmpstr (lane_count (fixture, RD_LANE_BREAK_FIX), ==, "0");

  /* Undoing a move out of Reuse puts back the method that was chosen. */
  g_assert_true (rd_board_move_device (fixture->board, device (fixture, 3), RD_LANE_REUSE, &error));
  g_assert_true (rd_board_set_method (fixture->board, device (fixture, 3),
                                      RD_METHOD_REIMAGE_UNIVERSAL, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (50);
  card = rd_ui_test_find_card (fixture->lanes[RD_LANE_REUSE], device (fixture, 3));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (card), "card.move-to-lane", "s",
                                             "inventory"));
  rd_ui_test_iterate (100);
  g_assert_cmpint (lane_of (fixture, 3), ==, RD_LANE_INVENTORY);
  undo = rd_ui_test_find_button (GTK_WIDGET (fixture->window), "_Undo");
  g_assert_nonnull (undo);
  g_signal_emit_by_name (undo, "clicked");
  rd_ui_test_iterate (50);
  g_assert_cmpint (lane_of (fixture, 3), ==, RD_LANE_REUSE);
  g_assert_cmpint (rd_plan_get_method (rd_board_get_plan (fixture->board, device (fixture, 3))), ==,
                   RD_METHOD_REIMAGE_UNIVERSAL);
}

/* A move the core refuses shows the core's reason. */
static void
test_refused_move (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  RdDeviceCard *card;
  RdPlan *plan;

  g_assert_true (rd_board_move_device (fixture->board, device (fixture, 0), RD_LANE_BREAK_FIX,
                                       &error));
  plan = rd_board_get_plan (fixture->board, device (fixture, 0));
  g_assert_true (rd_board_transition_plan (fixture->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (50);

  /* Its card offers no move at all. */
  card = rd_ui_test_find_card (fixture->lanes[RD_LANE_BREAK_FIX], device (fixture, 0));
  g_assert_nonnull (card);
  g_assert_false (gtk_widget_get_visible (rd_ui_test_card_part (card, "menu_button")));

  g_value_init (&value, RD_TYPE_DEVICE);
  g_value_set_object (&value, device (fixture, 0));
  drop (fixture->lanes[RD_LANE_INVENTORY], &value);
  g_value_unset (&value);
  rd_ui_test_iterate (100);

  g_assert_cmpint (lane_of (fixture, 0), ==, RD_LANE_BREAK_FIX);
  g_assert_true (rd_ui_test_label_shows (GTK_WIDGET (fixture->window),
                                         "HR-LT-001 cannot leave Break and Fix"));
}

/* Search and filters */

static gboolean
inventory_shows_two (gpointer data)
{
  Fixture *fixture = data;

  return g_strcmp0 (lane_count (fixture, RD_LANE_INVENTORY), "2 of 5") == 0;
}

static void
test_search (Fixture       *fixture,
             gconstpointer  data)
{
  GtkEditable *entry = GTK_EDITABLE (
    rd_ui_test_template_child (fixture->window, RD_TYPE_WINDOW, "search_entry"));
  RdLaneView *inventory = fixture->lanes[RD_LANE_INVENTORY];
  GListModel *shown = G_LIST_MODEL (rd_lane_view_get_selection (inventory));
  g_autoptr(RdDevice) first = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) long_ago = g_date_time_add_days (now, -30);
  g_autoptr(GPtrArray) cards = NULL;
  g_autoptr(GPtrArray) narrowed = NULL;

  /* Through the entry, in any case; the entry waits a moment before it
   * reports a change. */
  gtk_editable_set_text (entry, "fin PC");
  g_assert_true (rd_ui_test_iterate_until (inventory_shows_two, fixture, 5));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 2);

  /* A word that matches nothing shows the no-results page. */
  rd_lane_view_set_search (inventory, "fin pc zzz");
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 0);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (
                     GTK_STACK (rd_ui_test_template_child (inventory, RD_TYPE_LANE_VIEW, "stack"))),
                   ==, "no-results");

  rd_lane_view_set_search (inventory, "");
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 5);
  g_assert_cmpstr (lane_count (fixture, RD_LANE_INVENTORY), ==, "5");

  /* A search keeps the lane's cards where they are and gives them the
   * devices it shows, in order: the list view builds no new ones, and the
   * first card now shows HR-LT-001 instead of FIN-PC-003. */
  rd_ui_test_iterate (100);
  cards = g_ptr_array_new_with_free_func (g_object_unref);
  rd_ui_test_collect (GTK_WIDGET (inventory), RD_TYPE_DEVICE_CARD, cards);
  g_assert_cmpuint (cards->len, ==, 5);
  g_ptr_array_foreach (cards, (GFunc) (void (*) (void)) g_object_ref, NULL);
  rd_lane_view_set_search (inventory, "hr-lt");
  rd_ui_test_iterate (100);
  narrowed = g_ptr_array_new ();
  rd_ui_test_collect (GTK_WIDGET (inventory), RD_TYPE_DEVICE_CARD, narrowed);
  g_assert_cmpuint (narrowed->len, ==, 2);
  for (guint i = 0; i < narrowed->len; i++)
    {
      g_autoptr(RdDevice) item = g_list_model_get_item (shown, i);

      g_assert_true (narrowed->pdata[i] == cards->pdata[i]);
      g_assert_true (rd_device_card_get_device (narrowed->pdata[i]) == item);
    }
  rd_lane_view_set_search (inventory, "");
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 5);

  /* Quick filters: only what Intune reported. */
  g_object_set (device (fixture, 1), "encrypted", RD_TRISTATE_NO, NULL);
  g_object_set (device (fixture, 3), "encrypted", RD_TRISTATE_UNKNOWN, NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.only-unencrypted", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 1);
  g_assert_cmpstr (lane_count (fixture, RD_LANE_INVENTORY), ==, "1 of 5");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.only-unencrypted", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 5);

  g_object_set (device (fixture, 4), "last-sync", long_ago, NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.only-stale", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.only-stale", NULL));

  g_object_set (device (fixture, 2), "compliance", RD_COMPLIANCE_NONCOMPLIANT, NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.only-noncompliant",
                                             NULL));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.only-noncompliant",
                                             NULL));

  /* Sorted by name, then by last check-in, most recent first. */
  first = g_list_model_get_item (shown, 0);
  g_assert_cmpstr (rd_device_get_name (first), ==, "FIN-PC-003");
  g_clear_object (&first);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (inventory), "lane.sort-by", "s",
                                             "last-sync"));
  first = g_list_model_get_item (shown, 4);
  g_assert_cmpstr (rd_device_get_name (first), ==, "LAB-HY-005");
}

/* Rows a search adds or drops below the screen come and go over the
 * frames after the one that shows the result; meanwhile no card on screen
 * is empty or shows a device the search left out. */

typedef struct
{
  GListModel *rows;  /* the list view's */
  GListModel *shown; /* the lane's devices */
} HeldRows;

static gboolean
rows_settled (gpointer data)
{
  HeldRows *held = data;

  return g_list_model_get_n_items (held->rows) == g_list_model_get_n_items (held->shown);
}

/* Every row shows the device of its position, or none past the end. */
static void
assert_rows_show (HeldRows *held)
{
  guint n_rows = g_list_model_get_n_items (held->rows);
  guint n_shown = g_list_model_get_n_items (held->shown);

  for (guint i = 0; i < n_rows; i++)
    {
      g_autoptr(RdListSlot) slot = g_list_model_get_item (held->rows, i);
      g_autoptr(RdDevice) item = g_list_model_get_item (held->shown, i);

      g_assert_true (rd_list_slot_get_item (slot) == (gpointer) item);
      g_assert_true (i < n_shown || item == NULL);
    }
}

static void
assert_cards_on_screen (Fixture    *fixture,
                        GListModel *shown)
{
  g_autoptr(GPtrArray) cards = g_ptr_array_new ();
  guint n_shown = g_list_model_get_n_items (shown);
  guint on_screen = 0;

  rd_ui_test_collect (GTK_WIDGET (fixture->lanes[RD_LANE_INVENTORY]), RD_TYPE_DEVICE_CARD, cards);
  for (guint i = 0; i < cards->len; i++)
    {
      RdDevice *card_device = rd_device_card_get_device (cards->pdata[i]);
      gboolean found = FALSE;

      if (!gtk_widget_get_mapped (cards->pdata[i]))
        continue;
      on_screen++;
      g_assert_nonnull (card_device);
      for (guint j = 0; !found && j < n_shown; j++)
        {
          g_autoptr(RdDevice) item = g_list_model_get_item (shown, j);

          found = item == card_device;
        }
      g_assert_true (found);
    }
  g_assert_cmpuint (on_screen, >, 0);
}

static void
test_search_held_rows (Fixture       *fixture,
                       gconstpointer  data)
{
  RdLaneView *inventory = fixture->lanes[RD_LANE_INVENTORY];
  GtkListView *list_view = rd_ui_test_template_child (inventory, RD_TYPE_LANE_VIEW, "list_view");
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_object_unref);
  HeldRows held = { G_LIST_MODEL (gtk_list_view_get_model (list_view)),
                    G_LIST_MODEL (rd_lane_view_get_selection (inventory)) };

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *id = g_strdup_printf ("m%u", i);
      g_autofree char *name = g_strdup_printf ("DEV-%03u", i);

      g_ptr_array_add (many, make_device (id, name, RD_JOIN_TYPE_ENTRA_JOINED));
    }
  rd_board_set_devices (fixture->board, many);
  g_assert_true (rd_ui_test_iterate_until (rows_settled, &held, 5));
  g_assert_cmpuint (g_list_model_get_n_items (held.rows), ==, 300);

  /* 300 to 100: the rows below the screen stay a while, empty. */
  rd_lane_view_set_search (inventory, "dev-0");
  g_assert_cmpuint (g_list_model_get_n_items (held.shown), ==, 100);
  g_assert_cmpuint (g_list_model_get_n_items (held.rows), >, 100);
  assert_rows_show (&held);
  rd_ui_test_iterate (20);
  assert_cards_on_screen (fixture, held.shown);
  g_assert_true (rd_ui_test_iterate_until (rows_settled, &held, 5));
  assert_rows_show (&held);

  /* 100 to 300: the rows below the screen come over the next frames. */
  rd_lane_view_set_search (inventory, "dev");
  g_assert_cmpuint (g_list_model_get_n_items (held.shown), ==, 300);
  g_assert_cmpuint (g_list_model_get_n_items (held.rows), <, 300);
  assert_rows_show (&held);
  rd_ui_test_iterate (20);
  assert_cards_on_screen (fixture, held.shown);
  g_assert_true (rd_ui_test_iterate_until (rows_settled, &held, 5));
  assert_rows_show (&held);

  /* 300 to 1, fewer than a screen shows: at once. */
  rd_lane_view_set_search (inventory, "dev-001");
  g_assert_cmpuint (g_list_model_get_n_items (held.shown), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (held.rows), ==, 1);
  rd_ui_test_iterate (20);
  assert_cards_on_screen (fixture, held.shown);

  /* The selection never reaches the empty rows. */
  rd_lane_view_set_search (inventory, "dev");
  g_assert_true (rd_ui_test_iterate_until (rows_settled, &held, 5));
  rd_lane_view_set_search (inventory, "dev-1");
  g_assert_cmpuint (g_list_model_get_n_items (held.rows), >, 100);
  g_assert_false (gtk_selection_model_select_item (GTK_SELECTION_MODEL (held.rows), 150, TRUE));
  g_assert_true (gtk_selection_model_select_all (GTK_SELECTION_MODEL (held.rows)));
  g_assert_false (gtk_selection_model_is_selected (GTK_SELECTION_MODEL (held.rows), 150));
  g_assert_true (gtk_selection_model_is_selected (GTK_SELECTION_MODEL (held.shown), 99));
  rd_lane_view_unselect_all (inventory);
}

static void
count_frame (guint *painted)
{
  (*painted)++;
}

static gboolean
frame_painted (gpointer data)
{
  return *(guint *) data > 0;
}

/* A window opened on an empty board, whose lanes never laid out their
 * lists (they show their "empty" page), given many devices: the cached
 * inventory at a start. Only the cards near the screen are bound in the
 * frame that shows them, the others over the next frames; no card on
 * screen is empty. */
static void
test_fill_from_empty (void)
{
  g_autoptr(RdBoard) board = rd_board_new (NULL);
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) cards = g_ptr_array_new ();
  RdWindow *window = g_object_ref (rd_window_new (app));
  RdLaneView *inventory;
  GtkListView *list_view;
  GdkFrameClock *clock;
  HeldRows held;
  guint painted = 0;
  guint bound = 0;
  guint mapped = 0;

  rd_window_set_board (window, board);
  inventory = RD_LANE_VIEW (rd_ui_test_template_child (window, RD_TYPE_WINDOW, "inventory_lane"));
  list_view = rd_ui_test_template_child (inventory, RD_TYPE_LANE_VIEW, "list_view");
  held = (HeldRows) { G_LIST_MODEL (gtk_list_view_get_model (list_view)),
                      G_LIST_MODEL (rd_lane_view_get_selection (inventory)) };
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 860);
  gtk_window_present (GTK_WINDOW (window));
  rd_ui_test_iterate (250);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (list_view)), ==, 0);

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *id = g_strdup_printf ("f%u", i);
      g_autofree char *name = g_strdup_printf ("FILL-%03u", i);

      g_ptr_array_add (many, make_device (id, name, RD_JOIN_TYPE_ENTRA_JOINED));
    }
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect_swapped (clock, "after-paint", G_CALLBACK (count_frame), &painted);
  rd_board_set_devices (board, many);
  /* The frame that shows them. */
  g_assert_true (rd_ui_test_iterate_until (frame_painted, &painted, 5));
  g_signal_handlers_disconnect_by_func (clock, count_frame, &painted);

  rd_ui_test_collect (GTK_WIDGET (inventory), RD_TYPE_DEVICE_CARD, cards);
  for (guint i = 0; i < cards->len; i++)
    {
      RdDevice *device = rd_device_card_get_device (cards->pdata[i]);

      bound += device != NULL;
      if (gtk_widget_get_mapped (cards->pdata[i]))
        {
          mapped++;
          g_assert_nonnull (device);
        }
    }
  g_assert_cmpuint (mapped, >, 0);
  /* Those on screen, and a few rows either side. */
  g_assert_cmpuint (bound, <=, mapped + 8);

  g_assert_true (rd_ui_test_iterate_until (rows_settled, &held, 5));
  assert_rows_show (&held);
  rd_ui_test_close_window (window, 100);
}

/* The plan pane and Run */

static GtkWidget *
method_check (Fixture *fixture,
              guint    nth)
{
  g_autoptr(GPtrArray) checks = g_ptr_array_new ();

  rd_ui_test_collect (
    GTK_WIDGET (rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "method_list")),
    GTK_TYPE_CHECK_BUTTON, checks);
  g_assert_cmpuint (nth, <, checks->len);
  return checks->pdata[nth];
}

static void
test_run_blocked (Fixture       *fixture,
                  gconstpointer  data)
{
  RdDevice *hybrid = device (fixture, 4);
  GtkWidget *run = GTK_WIDGET (
    rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "run_button"));
  GtkLabel *reason = GTK_LABEL (
    rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "reason_label"));
  AdwFlap *flap = ADW_FLAP (rd_ui_test_template_child (fixture->window, RD_TYPE_WINDOW, "flap"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) checks = NULL;
  g_autofree char *expected = NULL;

  g_assert_false (adw_flap_get_reveal_flap (flap));
  g_assert_true (rd_board_move_device (fixture->board, hybrid, RD_LANE_REUSE, &error));
  rd_ui_test_iterate (50);
  select_device (fixture, RD_LANE_REUSE, hybrid);
  rd_ui_test_iterate (50);
  g_assert_true (rd_plan_pane_get_device (fixture->pane) == hybrid);
  g_assert_true (adw_flap_get_reveal_flap (flap));

  /* The OEM reimage suits a hybrid-joined device. */
  g_assert_true (gtk_widget_get_sensitive (run));

  /* Autopilot Reset, the third choice in Reuse, does not. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (method_check (fixture, 2)), TRUE);
  rd_ui_test_iterate (50);
  g_assert_cmpint (rd_plan_get_method (rd_board_get_plan (fixture->board, hybrid)), ==,
                   RD_METHOD_AUTOPILOT_RESET);
  g_assert_false (gtk_widget_get_sensitive (run));

  checks = rd_board_evaluate (fixture->board, hybrid);
  g_assert_nonnull (rd_readiness_first_blocker (checks));
  expected = g_strdup_printf ("Blocked: %s", rd_check_get_title (rd_readiness_first_blocker (checks)));
  g_assert_cmpstr (gtk_label_get_label (reason), ==, expected);
  g_assert_true (gtk_widget_get_visible (
    GTK_WIDGET (rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "reason_box"))));

  /* The run action itself refuses too, with the reason in a toast. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.run-plan", "s",
                                             rd_device_get_id (hybrid)));
  rd_ui_test_iterate (50);
  g_assert_null (rd_ui_test_find_dialog ());
  g_assert_cmpuint (fixture->confirmed, ==, 0);

  /* Back to the OEM image: Run again. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (method_check (fixture, 0)), TRUE);
  rd_ui_test_iterate (50);
  g_assert_true (gtk_widget_get_sensitive (run));
  g_assert_false (gtk_widget_get_visible (
    GTK_WIDGET (rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "reason_box"))));

  /* Closing the pane clears the selection. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->pane), "pane.close", NULL));
  rd_ui_test_iterate (50);
  g_assert_false (adw_flap_get_reveal_flap (flap));
  g_assert_null (rd_lane_view_get_selected_device (fixture->lanes[RD_LANE_REUSE]));
}

static GtkLabel *
pane_label (Fixture    *fixture,
            const char *name)
{
  return GTK_LABEL (rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, name));
}

/* The exact request, from the graph layer; a reimage sends nothing. */
static void
test_plan_request (Fixture       *fixture,
                   gconstpointer  data)
{
  RdDevice *laptop = device (fixture, 0);
  GtkWidget *group = GTK_WIDGET (
    rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "request_group"));
  AdwExpanderRow *row = ADW_EXPANDER_ROW (
    rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "request_row"));
  g_autoptr (GError) error = NULL;

  g_assert_false (gtk_widget_get_visible (group));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   "Request sent to Microsoft Graph");

  g_assert_true (rd_board_move_device (fixture->board, laptop, RD_LANE_BREAK_FIX, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (50);
  select_device (fixture, RD_LANE_BREAK_FIX, laptop);
  rd_ui_test_iterate (50);
  g_assert_true (rd_plan_pane_get_device (fixture->pane) == laptop);
  g_assert_true (gtk_widget_get_visible (group));
  g_assert_cmpstr (gtk_label_get_label (pane_label (fixture, "request_line_label")), ==,
                   "POST /deviceManagement/managedDevices/d1/wipe");
  g_assert_cmpstr (gtk_label_get_label (pane_label (fixture, "request_body_label")), ==,
                   "{\"keepEnrollmentData\":true,\"keepUserData\":true}");
  g_assert_true (gtk_label_get_selectable (pane_label (fixture, "request_body_label")));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (pane_label (fixture, "request_body_label")),
                                           "monospace"));

  /* Reuse: the OEM image is done from a USB key, nothing is sent. */
  g_assert_true (rd_board_move_device (fixture->board, laptop, RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (50);
  select_device (fixture, RD_LANE_REUSE, laptop);
  rd_ui_test_iterate (50);
  g_assert_cmpint (rd_plan_get_method (rd_board_get_plan (fixture->board, laptop)), ==,
                   RD_METHOD_REIMAGE_OEM);
  g_assert_false (gtk_widget_get_visible (group));

  /* Autopilot Reset sends a wipe that does not keep the user's data. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (method_check (fixture, 2)), TRUE);
  rd_ui_test_iterate (50);
  g_assert_cmpint (rd_plan_get_method (rd_board_get_plan (fixture->board, laptop)), ==,
                   RD_METHOD_AUTOPILOT_RESET);
  g_assert_true (gtk_widget_get_visible (group));
  g_assert_cmpstr (gtk_label_get_label (pane_label (fixture, "request_body_label")), ==,
                   "{\"keepEnrollmentData\":true,\"keepUserData\":false}");

  /* The universal image sends nothing either. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (method_check (fixture, 1)), TRUE);
  rd_ui_test_iterate (50);
  g_assert_false (gtk_widget_get_visible (group));
}

static void
test_run_confirm (Fixture       *fixture,
                  gconstpointer  data)
{
  RdDevice *pc = device (fixture, 0);
  GtkWidget *run = GTK_WIDGET (
    rd_ui_test_template_child (fixture->pane, RD_TYPE_PLAN_PANE, "run_button"));
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;
  RdPlan *plan;

  g_assert_true (rd_board_move_device (fixture->board, pc, RD_LANE_BREAK_FIX, &error));
  plan = rd_board_get_plan (fixture->board, pc);
  rd_ui_test_iterate (50);
  select_device (fixture, RD_LANE_BREAK_FIX, pc);
  rd_ui_test_iterate (50);
  g_assert_true (gtk_widget_get_sensitive (run));

  /* Run asks first: the device, what it loses, Cancel as the default. */
  g_signal_emit_by_name (run, "clicked");
  rd_ui_test_iterate (100);
  dialog = rd_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  g_object_ref (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Wipe HR-LT-001?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "User files"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "Non-default device settings"));
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  g_assert_cmpstr (adw_message_dialog_get_close_response (dialog), ==, "cancel");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "wipe"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);

  /* A second Run while it is open does not open a second dialog. */
  g_signal_emit_by_name (run, "clicked");
  rd_ui_test_iterate (50);
  g_assert_true (rd_ui_test_find_dialog () == dialog);

  rd_ui_test_click (GTK_WIDGET (dialog), "_Cancel");
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_no_dialog, NULL, 5));
  g_assert_cmpuint (fixture->confirmed, ==, 0);
  rd_ui_test_close_window (dialog, 50);

  g_signal_emit_by_name (run, "clicked");
  rd_ui_test_iterate (100);
  dialog = rd_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  g_object_ref (dialog);
  rd_ui_test_click (GTK_WIDGET (dialog), "_Wipe");
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_no_dialog, NULL, 5));
  g_assert_cmpuint (fixture->confirmed, ==, 1);
  g_assert_true (fixture->confirmed_plan == plan);
  rd_ui_test_close_window (dialog, 50);
  g_assert_cmpuint (fixture->confirmed, ==, 1);
}

/* Every widget the board builds goes away with it. */
static void
test_card_finalizes (void)
{
  g_autoptr(RdDevice) pc = make_device ("d9", "PC-9", RD_JOIN_TYPE_ENTRA_JOINED);
  GtkWidget *card = g_object_ref_sink (rd_device_card_new ());
  GtkLabel *name;

  rd_device_card_set_device (RD_DEVICE_CARD (card), pc);
  name = GTK_LABEL (rd_ui_test_card_part (RD_DEVICE_CARD (card), "name_label"));
  g_assert_cmpstr (gtk_label_get_label (name), ==, "PC-9");
  g_object_set (pc, "name", "PC-10", NULL);
  g_assert_cmpstr (gtk_label_get_label (name), ==, "PC-10");

  g_assert_finalize_object (card);
}

/* Tooltips follow the device the card shows, through ::query-tooltip. */
static void
test_card_tooltips (void)
{
  g_autoptr(RdDevice) pc = make_device ("d9", "PC-9", RD_JOIN_TYPE_ENTRA_JOINED);
  g_autoptr(RdDevice) other = make_device ("d8", "PC-8", RD_JOIN_TYPE_ENTRA_JOINED);
  g_autoptr(GDateTime) last_sync = g_date_time_new_utc (2026, 11, 19, 17, 0, 0);
  GtkWidget *card = g_object_ref_sink (rd_device_card_new ());
  GtkWidget *details, *sync;
  g_autofree char *text = NULL;

  g_object_set (pc, "model", "Latitude 7440", "user-display-name", "Åsa Öberg", "last-sync",
                last_sync, NULL);
  g_object_set (other, "model", "EliteBook 840", "user-display-name", "Kai Nakamura",
                "last-sync", NULL, NULL);

  rd_device_card_set_device (RD_DEVICE_CARD (card), pc);
  details = rd_ui_test_card_part (RD_DEVICE_CARD (card), "details_label");
  sync = rd_ui_test_card_part (RD_DEVICE_CARD (card), "sync_label");
  text = rd_device_card_dup_tooltip (RD_DEVICE_CARD (card), details);
  g_assert_cmpstr (text, ==, gtk_label_get_label (GTK_LABEL (details)));
  g_assert_nonnull (strstr (text, "Latitude 7440"));
  g_assert_true (gtk_widget_get_has_tooltip (details));
  g_clear_pointer (&text, g_free);
  text = rd_device_card_dup_tooltip (RD_DEVICE_CARD (card), sync);
  g_assert_true (g_str_has_prefix (text, "Last checked in with Intune on "));
  g_clear_pointer (&text, g_free);

  rd_device_card_set_device (RD_DEVICE_CARD (card), other);
  text = rd_device_card_dup_tooltip (RD_DEVICE_CARD (card), details);
  g_assert_nonnull (strstr (text, "Kai Nakamura"));
  g_clear_pointer (&text, g_free);
  text = rd_device_card_dup_tooltip (RD_DEVICE_CARD (card), sync);
  g_assert_cmpstr (text, ==, "Has never checked in with Intune");

  g_assert_finalize_object (card);
}

/* A fresh card holds no parts; its first device brings what the inventory
 * shows and nothing more; a plan lane's parts are built when first needed,
 * in their place, and kept. */
static void
test_card_parts (void)
{
  static const char *const shown[] = {
    "name_label", "details_label", "sync_label", "bitlocker_badge",
    "autopilot_badge", "compliance_badge", "menu_button",
  };
  static const char *const later[] = {
    "state_label", "wipe_badge", "result_box", "spinner", "result_label",
    "request_box", "request_label", "copy_button", "menu",
  };
  static const char *const order[] = {
    "name_label", "state_label", "details_label", "sync_label", "bitlocker_badge",
    "autopilot_badge", "compliance_badge", "wipe_badge", "result_box", "request_box",
    "menu_button",
  };
  g_autoptr(RdDevice) pc = make_device ("d9", "PC-9", RD_JOIN_TYPE_ENTRA_JOINED);
  g_autoptr(RdPlan) plan = rd_plan_new (pc, RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
  g_autoptr(GError) error = NULL;
  GtkWidget *card = g_object_ref_sink (rd_device_card_new ());
  RdDeviceCard *self = RD_DEVICE_CARD (card);
  GtkWidget *child, *wipe, *state, *result, *spinner, *request;
  guint n_children = 0;

  /* A list view builds up to 200 cards for a new list, and a lane binds
   * those far off screen later: until then a card is empty. */
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    g_assert_null (rd_device_card_get_part (self, shown[i]));
  g_assert_null (gtk_widget_get_first_child (card));
  rd_device_card_set_device (self, NULL);
  rd_device_card_set_plan (self, NULL);
  g_assert_null (gtk_widget_get_first_child (card));

  rd_device_card_set_device (self, pc);
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    g_assert_nonnull (rd_device_card_get_part (self, shown[i]));
  for (guint i = 0; i < G_N_ELEMENTS (later); i++)
    g_assert_null (rd_device_card_get_part (self, later[i]));
  for (child = gtk_widget_get_first_child (card); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n_children++;
  g_assert_cmpuint (n_children, ==, 7);
  g_assert_true (gtk_widget_get_visible (rd_ui_test_card_part (self, "menu_button")));

  /* The wipe badge comes with a pending wipe, and stays, hidden, after. */
  g_object_set (pc, "management-state", RD_MANAGEMENT_STATE_WIPE_PENDING, NULL);
  wipe = rd_ui_test_card_part (self, "wipe_badge");
  g_assert_true (gtk_widget_get_visible (wipe));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (wipe)), ==, "Wipe pending");
  g_assert_true (gtk_widget_has_css_class (wipe, "badge"));
  g_object_set (pc, "management-state", RD_MANAGEMENT_STATE_MANAGED, NULL);
  g_assert_false (gtk_widget_get_visible (wipe));
  g_assert_true (rd_device_card_get_part (self, "wipe_badge") == wipe);

  /* A plan: its state, then its run, line by line. */
  rd_device_card_set_plan (self, plan);
  state = rd_ui_test_card_part (self, "state_label");
  g_assert_true (gtk_widget_get_visible (state));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (state)), ==,
                   rd_ui_plan_state_title (RD_PLAN_STATE_DRAFT));
  g_assert_null (rd_device_card_get_part (self, "result_box"));
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);
  result = rd_ui_test_card_part (self, "result_box");
  spinner = rd_ui_test_card_part (self, "spinner");
  g_assert_true (gtk_widget_get_visible (result));
  g_assert_true (gtk_widget_get_visible (spinner));
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));
  g_assert_false (gtk_widget_get_visible (rd_ui_test_card_part (self, "menu_button")));
  g_assert_null (rd_device_card_get_part (self, "request_box"));

  rd_plan_add_request_id (plan, "req-1");
  rd_plan_set_last_error (plan, "Forbidden (request-id req-1)");
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_FAILED, &error));
  g_assert_no_error (error);
  g_assert_false (gtk_widget_get_visible (spinner));
  g_assert_false (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (rd_ui_test_card_part (self, "result_label"))),
                   ==, "Forbidden");
  g_assert_true (gtk_widget_has_css_class (rd_ui_test_card_part (self, "result_label"), "error"));
  request = rd_ui_test_card_part (self, "request_box");
  g_assert_true (gtk_widget_get_visible (request));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (rd_ui_test_card_part (self, "request_label"))),
                   ==, "request-id req-1");
  g_assert_true (gtk_widget_is_ancestor (rd_ui_test_card_part (self, "copy_button"), request));

  /* Every part in its place, as the eye and the keyboard go. */
  child = gtk_widget_get_first_child (card);
  for (guint i = 0; i < G_N_ELEMENTS (order); i++, child = gtk_widget_get_next_sibling (child))
    g_assert_true (child == rd_ui_test_card_part (self, order[i]));
  g_assert_null (child);

  /* Back to the inventory: the parts hide and stay built. */
  rd_device_card_set_plan (self, NULL);
  g_assert_false (gtk_widget_get_visible (state));
  g_assert_false (gtk_widget_get_visible (result));
  g_assert_false (gtk_widget_get_visible (request));
  g_assert_true (rd_device_card_get_part (self, "request_box") == request);
  g_assert_true (gtk_widget_get_visible (rd_ui_test_card_part (self, "menu_button")));
  g_assert_finalize_object (card);

  /* A plan alone brings the parts too. */
  card = g_object_ref_sink (rd_device_card_new ());
  rd_device_card_set_plan (RD_DEVICE_CARD (card), plan);
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    g_assert_nonnull (rd_device_card_get_part (RD_DEVICE_CARD (card), shown[i]));
  g_assert_nonnull (rd_device_card_get_part (RD_DEVICE_CARD (card), "state_label"));
  g_assert_finalize_object (card);
}

static graphene_rect_t
part_bounds (RdDeviceCard *card,
             const char   *name)
{
  graphene_rect_t bounds;

  g_assert_true (gtk_widget_compute_bounds (rd_ui_test_card_part (card, name), GTK_WIDGET (card),
                                            &bounds));
  return bounds;
}

#define RIGHT(r) ((r).origin.x + (r).size.width)
#define BOTTOM(r) ((r).origin.y + (r).size.height)

/* The card lays its parts out as rows in a column, the menu button to
 * the right, as its nested boxes used to; right to left, mirrored. */
static void
test_card_layout (void)
{
  g_autoptr(RdDevice) pc = make_device ("d9", "PC-9", RD_JOIN_TYPE_ENTRA_JOINED);
  g_autoptr(RdPlan) plan = rd_plan_new (pc, RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
  g_autoptr(GError) error = NULL;
  GtkWidget *card = g_object_ref_sink (rd_device_card_new ());
  RdDeviceCard *self = RD_DEVICE_CARD (card);
  GtkWidget *unbound = g_object_ref_sink (rd_device_card_new ());
  GtkWindow *window;
  graphene_rect_t name, state, details, sync, bitlocker, compliance, result, request, menu, copy;
  int width, inventory_height, minimum, natural, unbound_minimum, unbound_natural;

  gtk_widget_set_valign (card, GTK_ALIGN_START);
  window = rd_ui_test_window_new (card, 360, 400);
  rd_device_card_set_device (self, pc);
  gtk_window_present (window);
  rd_ui_test_iterate (100);
  inventory_height = gtk_widget_get_height (card);

  /* A card no device was given yet measures as that inventory card, with
   * no parts to lay out. */
  gtk_widget_measure (card, GTK_ORIENTATION_VERTICAL, gtk_widget_get_width (card), &minimum,
                      &natural, NULL, NULL);
  g_assert_cmpint (natural, >, inventory_height / 2);
  gtk_widget_measure (unbound, GTK_ORIENTATION_VERTICAL, gtk_widget_get_width (card),
                      &unbound_minimum, &unbound_natural, NULL, NULL);
  g_assert_cmpint (unbound_minimum, ==, minimum);
  g_assert_cmpint (unbound_natural, ==, natural);
  g_assert_null (gtk_widget_get_first_child (unbound));
  g_assert_finalize_object (unbound);

  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_SENDING, &error));
  rd_plan_add_request_id (plan, "6f0e1c52-5f0e-4c1e-9d4b-1a2b3c4d5e6f");
  rd_plan_set_last_error (plan, "Intune refused the wipe: the device is not corporate-owned and "
                                "cannot be reset this way by an administrator (request-id "
                                "6f0e1c52-5f0e-4c1e-9d4b-1a2b3c4d5e6f)");
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_FAILED, &error));
  g_assert_no_error (error);
  rd_device_card_set_plan (self, plan);
  rd_ui_test_iterate (100);

  width = gtk_widget_get_width (card);
  name = part_bounds (self, "name_label");
  state = part_bounds (self, "state_label");
  details = part_bounds (self, "details_label");
  sync = part_bounds (self, "sync_label");
  bitlocker = part_bounds (self, "bitlocker_badge");
  compliance = part_bounds (self, "compliance_badge");
  result = part_bounds (self, "result_label");
  request = part_bounds (self, "request_box");
  menu = part_bounds (self, "menu_button");
  copy = part_bounds (self, "copy_button");

  /* The menu button at the top right, the column filling the rest. */
  g_assert_cmpfloat (RIGHT (menu) - name.origin.x, ==, width);
  g_assert_cmpfloat (menu.origin.y, ==, name.origin.y);
  g_assert_cmpfloat (RIGHT (state), ==, menu.origin.x - 6);
  g_assert_cmpfloat (RIGHT (sync), ==, menu.origin.x - 6);
  g_assert_cmpfloat (RIGHT (copy), <=, menu.origin.x - 6);
  g_assert_cmpfloat (RIGHT (name), <=, state.origin.x - 6);
  g_assert_cmpfloat (details.origin.x, ==, name.origin.x);
  g_assert_cmpfloat (bitlocker.origin.x, ==, name.origin.x);
  g_assert_cmpfloat (compliance.origin.x, >, RIGHT (bitlocker));

  /* Rows 3 px apart, the badges 3 px more. */
  g_assert_cmpfloat (details.origin.y, >=, BOTTOM (name) + 3);
  g_assert_cmpfloat (bitlocker.origin.y, >=, BOTTOM (details) + 6);
  g_assert_cmpfloat (result.origin.y, >=, BOTTOM (bitlocker) + 6);
  g_assert_cmpfloat (request.origin.y, >=, BOTTOM (result) + 3);
  g_assert_cmpfloat (BOTTOM (request) - name.origin.y, ==, gtk_widget_get_height (card));

  /* The error wraps onto more lines instead of widening the card. */
  g_assert_cmpfloat (result.size.height, >, 1.5 * sync.size.height);
  g_assert_cmpfloat (RIGHT (result), <=, menu.origin.x - 6);
  g_assert_cmpint (gtk_widget_get_height (card), >, inventory_height);

  /* Right to left. */
  gtk_widget_set_direction (card, GTK_TEXT_DIR_RTL);
  rd_ui_test_iterate (100);
  name = part_bounds (self, "name_label");
  menu = part_bounds (self, "menu_button");
  state = part_bounds (self, "state_label");
  g_assert_cmpfloat (RIGHT (name) - menu.origin.x, ==, width);
  g_assert_cmpfloat (state.origin.x, ==, RIGHT (menu) + 6);

  rd_ui_test_close_window (window, 50);
  g_assert_finalize_object (card);
}

/* The menu button and a right click open the same menu, built on the
 * first; a card whose plan is on its way has none. */
static void
test_card_menu (void)
{
  g_autoptr(RdDevice) pc = make_device ("d9", "PC-9", RD_JOIN_TYPE_ENTRA_JOINED);
  g_autoptr(RdPlan) plan = rd_plan_new (pc, RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) controllers = NULL;
  GtkWidget *card = g_object_ref_sink (rd_device_card_new ());
  RdDeviceCard *self = RD_DEVICE_CARD (card);
  GtkGesture *secondary = NULL;
  GtkWidget *button, *popover;
  graphene_rect_t bounds;
  GdkRectangle pointing_to;
  GMenuModel *model, *lanes;
  g_autofree char *label = NULL;
  g_autofree char *lane = NULL;
  g_autofree char *tooltip = NULL;
  GtkWindow *window;

  window = rd_ui_test_window_new (card, 360, 200);
  rd_device_card_set_device (self, pc);
  gtk_window_present (window);
  rd_ui_test_iterate (100);
  button = rd_ui_test_card_part (self, "menu_button");
  tooltip = rd_device_card_dup_tooltip (self, button);
  g_assert_cmpstr (tooltip, ==, "Device Menu");

  /* The button: "Move To" the two other lanes. */
  g_signal_emit_by_name (button, "clicked");
  popover = rd_ui_test_card_part (self, "menu");
  g_assert_true (GTK_IS_POPOVER_MENU (popover));
  g_assert_true (gtk_widget_get_parent (popover) == card);
  g_assert_true (gtk_widget_get_visible (popover));
  g_assert_true (gtk_widget_get_state_flags (button) & GTK_STATE_FLAG_CHECKED);
  g_assert_true (gtk_widget_compute_bounds (button, card, &bounds));
  g_assert_true (gtk_popover_get_pointing_to (GTK_POPOVER (popover), &pointing_to));
  g_assert_cmpint (pointing_to.x, ==, (int) bounds.origin.x);
  g_assert_cmpint (pointing_to.y, ==, (int) bounds.origin.y);
  g_assert_cmpint (pointing_to.width, ==, (int) bounds.size.width);
  g_assert_cmpint (pointing_to.height, ==, (int) bounds.size.height);
  model = gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover));
  g_assert_cmpint (g_menu_model_get_n_items (model), ==, 1);
  g_assert_true (g_menu_model_get_item_attribute (model, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label));
  g_assert_cmpstr (label, ==, "_Move To");
  lanes = g_menu_model_get_item_link (model, 0, G_MENU_LINK_SUBMENU);
  g_assert_cmpint (g_menu_model_get_n_items (lanes), ==, 2);
  g_assert_true (g_menu_model_get_item_attribute (lanes, 0, G_MENU_ATTRIBUTE_TARGET, "s", &lane));
  g_assert_cmpstr (lane, ==, "break-fix");
  g_clear_object (&lanes);
  gtk_popover_popdown (GTK_POPOVER (popover));
  g_assert_false (gtk_widget_get_visible (popover));
  g_assert_false (gtk_widget_get_state_flags (button) & GTK_STATE_FLAG_CHECKED);

  /* A right click on the card: the same popover, with the lanes a card
   * in Break and Fix can go to. */
  rd_device_card_set_plan (self, plan);
  controllers = gtk_widget_observe_controllers (card);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller) &&
          gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == GDK_BUTTON_SECONDARY)
        secondary = GTK_GESTURE (controller);
    }
  g_assert_nonnull (secondary);
  g_signal_emit_by_name (secondary, "pressed", 1, 20.0, 10.0);
  g_assert_true (rd_ui_test_card_part (self, "menu") == popover);
  g_assert_true (gtk_widget_get_visible (popover));
  lanes = g_menu_model_get_item_link (
    gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)), 0, G_MENU_LINK_SUBMENU);
  g_clear_pointer (&lane, g_free);
  g_assert_true (g_menu_model_get_item_attribute (lanes, 0, G_MENU_ATTRIBUTE_TARGET, "s", &lane));
  g_assert_cmpstr (lane, ==, "inventory");
  g_clear_object (&lanes);

  /* On its way, the plan takes the open menu away, and a right click
   * opens none. (Checked at once: an open popover also closes when
   * another test's window takes the focus.) */
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));
  g_assert_no_error (error);
  g_assert_true (gtk_widget_get_visible (popover));
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);
  g_assert_false (gtk_widget_get_visible (popover));
  g_assert_false (gtk_widget_get_visible (button));
  g_signal_emit_by_name (secondary, "pressed", 1, 20.0, 10.0);
  g_assert_false (gtk_widget_get_visible (popover));

  /* A card goes away with its menu open. */
  g_clear_object (&controllers);
  rd_device_card_set_plan (self, NULL);
  g_signal_emit_by_name (button, "clicked");
  g_assert_true (gtk_widget_get_visible (popover));
  rd_ui_test_close_window (window, 50);
  g_assert_finalize_object (card);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  app = rd_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  ADD ("/rd/board-ui/drop/device", test_drop_device);
  ADD ("/rd/board-ui/drop/several", test_drop_several);
  ADD ("/rd/board-ui/drag/selection", test_drag_selection);
  ADD ("/rd/board-ui/keyboard/card-menu", test_card_menu_move);
  ADD ("/rd/board-ui/keyboard/shortcut", test_shortcut_move);
  ADD ("/rd/board-ui/undo", test_undo);
  ADD ("/rd/board-ui/refused", test_refused_move);
  ADD ("/rd/board-ui/search", test_search);
  ADD ("/rd/board-ui/search/held-rows", test_search_held_rows);
  g_test_add_func ("/rd/board-ui/fill-from-empty", test_fill_from_empty);
  ADD ("/rd/board-ui/run/blocked", test_run_blocked);
  ADD ("/rd/board-ui/run/confirm", test_run_confirm);
  ADD ("/rd/board-ui/plan/request", test_plan_request);
  g_test_add_func ("/rd/board-ui/card/finalizes", test_card_finalizes);
  g_test_add_func ("/rd/board-ui/card/tooltips", test_card_tooltips);
  g_test_add_func ("/rd/board-ui/card/parts", test_card_parts);
  g_test_add_func ("/rd/board-ui/card/layout", test_card_layout);
  g_test_add_func ("/rd/board-ui/card/menu", test_card_menu);

  status = g_test_run ();
  g_clear_object (&app);

  return status;
}
