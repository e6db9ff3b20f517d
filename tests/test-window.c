/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "rd-activity-view.h"
#include "rd-application.h"
#include "rd-bitlocker-view.h"
#include "rd-device-card.h"
#include "rd-inventory-cache-private.h"
#include "rd-lane-view.h"
#include "rd-method.h"
#include "rd-plan-pane.h"
#include "rd-session.h"
#include "rd-sign-in-page.h"
#include "rd-usb-keys-view.h"
#include "rd-window.h"

#include "rd-ui-test-util.h"

#define WIPE_PATTERN "/deviceManagement/managedDevices/{id}/wipe"

/* The @skip-th descendant of @widget of @type, depth first. */
static GtkWidget *
find_nth (GtkWidget *widget,
          GType      type,
          guint     *skip)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type) && (*skip)-- == 0)
        return child;
      found = find_nth (child, type, skip);
      if (found != NULL)
        return found;
    }

  return NULL;
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type,
                 guint      skip)
{
  return find_nth (widget, type, &skip);
}

static void
collect_lanes (GtkWidget  *widget,
               GPtrArray  *lanes)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (RD_IS_LANE_VIEW (child))
        g_ptr_array_add (lanes, child);
      else
        collect_lanes (child, lanes);
    }
}

static const char *
lane_page (RdLaneView *lane)
{
  GObject *stack = gtk_widget_get_template_child (GTK_WIDGET (lane), RD_TYPE_LANE_VIEW, "stack");

  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

static const char *
lane_count (RdLaneView *lane)
{
  GObject *label = gtk_widget_get_template_child (GTK_WIDGET (lane), RD_TYPE_LANE_VIEW,
                                                  "count_label");

  return gtk_label_get_label (GTK_LABEL (label));
}

static RdDevice *
make_device (const char *id,
             const char *name)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_object_new (RD_TYPE_DEVICE,
                       "id", id, "name", name, "model", "EliteBook 840 G8",
                       "operating-system", "Windows", "os-version", "10.0.22631.4460",
                       "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", RD_JOIN_TYPE_ENTRA_JOINED, "last-sync", now,
                       NULL);
}

static void
test_window_lanes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdApplication) app = rd_application_new ();
  g_autoptr(GPtrArray) lanes = g_ptr_array_new ();
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  RdWindow *window;
  RdBoard *board;

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  window = g_object_ref (rd_window_new (app));
  gtk_window_present (GTK_WINDOW (window));
  rd_ui_test_iterate (250);

  collect_lanes (GTK_WIDGET (window), lanes);
  g_assert_cmpuint (lanes->len, ==, 3);
  g_assert_cmpint (rd_lane_view_get_lane (lanes->pdata[0]), ==, RD_LANE_INVENTORY);
  g_assert_cmpint (rd_lane_view_get_lane (lanes->pdata[1]), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpint (rd_lane_view_get_lane (lanes->pdata[2]), ==, RD_LANE_REUSE);

  /* Empty board: every lane shows its empty state. */
  for (guint i = 0; i < lanes->len; i++)
    {
      g_assert_cmpstr (lane_page (lanes->pdata[i]), ==, "empty");
      g_assert_cmpstr (lane_count (lanes->pdata[i]), ==, "0");
    }

  /* The lanes follow the board's models. */
  board = rd_application_get_board (app);
  g_ptr_array_add (devices, make_device ("d1", "HR-LT-001"));
  g_ptr_array_add (devices, make_device ("d2", "HR-LT-002"));
  rd_board_set_devices (board, devices);
  g_assert_true (rd_board_move_device (board, devices->pdata[1], RD_LANE_BREAK_FIX, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (250);

  g_assert_cmpstr (lane_page (lanes->pdata[0]), ==, "list");
  g_assert_cmpstr (lane_count (lanes->pdata[0]), ==, "1");
  g_assert_cmpstr (lane_page (lanes->pdata[1]), ==, "list");
  g_assert_cmpstr (lane_count (lanes->pdata[1]), ==, "1");
  g_assert_cmpstr (lane_page (lanes->pdata[2]), ==, "empty");

  rd_ui_test_close_window (window, 250);
}

static RdDevice *
make_fleet_device (const char  *id,
                   const char  *name,
                   const char  *model,
                   const char  *user,
                   int          days_since_sync,
                   RdTristate   encrypted,
                   RdTristate   autopilot,
                   RdCompliance compliance,
                   RdJoinType   join_type)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) last_sync = g_date_time_add_hours (now, -24 * days_since_sync - 3);

  return g_object_new (RD_TYPE_DEVICE,
                       "id", id, "name", name, "model", model, "user-display-name", user,
                       "operating-system", "Windows", "os-version", "10.0.22631.4460",
                       "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", join_type, "last-sync", last_sync,
                       "encrypted", encrypted, "escrowed-keys", encrypted == RD_TRISTATE_YES ? 1 : 0,
                       "autopilot", autopilot, "compliance", compliance,
                       "winre-state", RD_WINRE_STATE_CONFIGURED,
                       "management-state", RD_MANAGEMENT_STATE_MANAGED,
                       NULL);
}

/* A board as an admin sees it: cards with their badges in every lane and a
 * plan open. RD_SCREENSHOT=file.png saves it. */
static void
test_window_board (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdApplication) app = rd_application_new ();
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  const char *screenshot = g_getenv ("RD_SCREENSHOT");
  RdLaneView *reuse;
  RdPlanPane *pane;
  RdWindow *window;
  RdBoard *board;
  RdDevice *hybrid;

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_set_application_id (G_APPLICATION (app), "io.github.recoverydesk.BoardTest");
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  board = rd_application_get_board (app);
  g_ptr_array_add (devices, make_fleet_device ("d1", "HR-LT-0142", "EliteBook 840 G8", "Ada Lovelace", 0,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d2", "HR-LT-0177", "Latitude 7440", "Grace Hopper", 2,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_NONCOMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d3", "FIN-PC-0031", "ThinkCentre M70q", "Alan Turing", 12,
                                               RD_TRISTATE_NO, RD_TRISTATE_NO, RD_COMPLIANCE_IN_GRACE_PERIOD,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d4", "FIN-LT-0204", "Surface Laptop 5", "Katherine Johnson", 1,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d5", "LAB-WS-0009", "Precision 3660", "Barbara Liskov", 0,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_HYBRID_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d6", "OPS-LT-0388", "EliteBook 840 G8", "Edsger Dijkstra", 4,
                                               RD_TRISTATE_YES, RD_TRISTATE_UNKNOWN, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d7", "OPS-LT-0391", "EliteBook 840 G8", "Margaret Hamilton", 0,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  rd_board_set_devices (board, devices);
  hybrid = devices->pdata[4];
  g_assert_true (rd_board_move_device (board, devices->pdata[1], RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, devices->pdata[3], RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, hybrid, RD_LANE_REUSE, &error));
  g_assert_true (rd_board_set_method (board, hybrid, RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_true (rd_board_move_device (board, devices->pdata[6], RD_LANE_REUSE, &error));
  g_assert_no_error (error);

  window = g_object_ref (rd_window_new (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 900);
  gtk_window_present (GTK_WINDOW (window));
  rd_ui_test_iterate (250);

  reuse = RD_LANE_VIEW (gtk_widget_get_template_child (GTK_WIDGET (window), RD_TYPE_WINDOW,
                                                       "reuse_lane"));
  g_assert_true (gtk_selection_model_select_item (rd_lane_view_get_selection (reuse), 0, TRUE));
  rd_ui_test_iterate (250);
  rd_ui_test_iterate (250);

  pane = RD_PLAN_PANE (find_descendant (GTK_WIDGET (window), RD_TYPE_PLAN_PANE, 0));
  g_assert_true (rd_plan_pane_get_device (pane) == hybrid);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (pane)));
  g_assert_nonnull (find_descendant (GTK_WIDGET (window), RD_TYPE_DEVICE_CARD, 6));

  if (screenshot != NULL)
    rd_ui_test_save_screenshot (GTK_WIDGET (window), screenshot);

  rd_ui_test_close_window (window, 250);
}

/* On the demo tenant: the real session, sync, board and device actions,
 * with the demo's counters saying what reached "Intune". */

static RdApplication *demo_app;

typedef RdUiTestDemo Demo;

/* All 39 of the demo's Windows devices are on the board, in whichever lane
 * earlier tests' plans put them. */
static gboolean
board_filled (gpointer data)
{
  Demo *demo = data;
  RdBoard *board = rd_window_get_board (demo->window);
  guint n = 0;

  if (board == NULL)
    return FALSE;
  for (RdLane lane = 0; lane < RD_N_LANES; lane++)
    n += g_list_model_get_n_items (rd_board_get_lane (board, lane));

  return n == 39;
}

static gboolean
stale_notice_hidden (gpointer data)
{
  Demo *demo = data;

  return !gtk_revealer_get_reveal_child (
    GTK_REVEALER (rd_ui_test_template_child (demo->window, RD_TYPE_WINDOW, "stale_revealer")));
}

/* A demo device that Break and Fix can wipe now, moved there and its plan
 * opened in the pane. */
static RdPlan *
open_ready_plan (Demo *demo)
{
  RdBoard *board = rd_window_get_board (demo->window);
  GListModel *inventory = rd_board_get_lane (board, RD_LANE_INVENTORY);
  GtkSelectionModel *selection = rd_lane_view_get_selection (demo->break_fix);
  RdPlan *plan = NULL;
  RdDevice *device = NULL;

  for (guint i = 0; plan == NULL && i < g_list_model_get_n_items (inventory); i++)
    {
      g_autoptr(RdDevice) candidate = g_list_model_get_item (inventory, i);
      g_autoptr(GError) error = NULL;

      g_assert_true (rd_board_move_device (board, candidate, RD_LANE_BREAK_FIX, &error));
      g_assert_no_error (error);
      if (rd_plan_get_state (rd_board_get_plan (board, candidate)) == RD_PLAN_STATE_READY)
        {
          device = candidate;
          plan = rd_board_get_plan (board, candidate);
        }
      else
        g_assert_true (rd_board_move_device (board, candidate, RD_LANE_INVENTORY, &error));
    }
  g_assert_nonnull (plan);
  rd_ui_test_iterate (50);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (selection)); i++)
    {
      g_autoptr(RdDevice) item = g_list_model_get_item (G_LIST_MODEL (selection), i);

      if (item == device)
        g_assert_true (gtk_selection_model_select_item (selection, i, TRUE));
    }
  rd_ui_test_iterate (50);
  g_assert_true (rd_plan_pane_get_device (demo->pane) == device);

  return plan;
}

static guint
wipes (Demo *demo)
{
  return rd_demo_tenant_get_request_count (demo->demo, "POST", WIPE_PATTERN);
}

static gboolean
one_wipe (gpointer data)
{
  return wipes (data) == 1;
}

static void
test_window_demo_builds (void)
{
  Demo demo = { 0 };
  GtkApplicationWindow *window;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  if (g_getenv ("RD_SCREENSHOT_SIZE") != NULL)
    {
      int width = 1280, height = 800;

      g_assert_cmpint (sscanf (g_getenv ("RD_SCREENSHOT_SIZE"), "%dx%d", &width, &height), ==, 2);
      gtk_window_set_default_size (GTK_WINDOW (demo.window), width, height);
    }
  g_assert_true (rd_ui_test_iterate_until (board_filled, &demo, 10));
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  g_assert_cmpstr (lane_count (demo.inventory), ==, "39");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (
                     rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "main_stack"))),
                   ==, "content");

  /* The account menu says who and where; the demo cannot sign out. */
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (rd_ui_test_template_child (
                     demo.window, RD_TYPE_WINDOW, "account_tenant_label"))),
                   ==, "Demo tenant");
  gtk_widget_activate_action (GTK_WIDGET (demo.window), "win.sign-out", NULL);
  rd_ui_test_iterate (50);
  g_assert_true (rd_window_get_session (demo.window) == demo.session);

  /* The shortcuts window is built when first asked for (test-application). */
  window = GTK_APPLICATION_WINDOW (demo.window);
  g_assert_null (gtk_application_window_get_help_overlay (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL);
  g_assert_nonnull (gtk_application_window_get_help_overlay (window));
  gtk_window_close (GTK_WINDOW (gtk_application_window_get_help_overlay (window)));

  /* Nothing was sent just by looking. */
  g_assert_cmpuint (wipes (&demo), ==, 0);

  /* The BitLocker and Activity views are built when first shown, with the
   * board and the audit log they would have had. */
  {
    AdwViewStack *stack =
      ADW_VIEW_STACK (rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "view_stack"));
    g_autoptr(GPtrArray) views = g_ptr_array_new ();

    adw_view_stack_set_visible_child_name (stack, "board");
    rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_BITLOCKER_VIEW, views);
    rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_ACTIVITY_VIEW, views);
    g_assert_cmpuint (views->len, ==, 0);

    adw_view_stack_set_visible_child_name (stack, "bitlocker");
    rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_BITLOCKER_VIEW, views);
    g_assert_cmpuint (views->len, ==, 1);
    g_assert_true (rd_bitlocker_view_get_board (views->pdata[0]) == rd_window_get_board (demo.window));
    g_assert_cmpuint (rd_bitlocker_view_get_n_devices (views->pdata[0]), ==, 39);
    g_ptr_array_set_size (views, 0);

    adw_view_stack_set_visible_child_name (stack, "activity");
    rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_ACTIVITY_VIEW, views);
    g_assert_cmpuint (views->len, ==, 1);
    g_assert_true (rd_activity_view_get_audit_log (views->pdata[0]) ==
                   rd_session_get_audit_log (demo.session));
    adw_view_stack_set_visible_child_name (stack, "board");
  }

  if (g_getenv ("RD_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *board = g_build_filename (g_getenv ("RD_SCREENSHOT_DIR"), "board.png",
                                                 NULL);
      AdwViewStack *stack = ADW_VIEW_STACK (
        rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "view_stack"));
      const char *views[] = { "bitlocker", "activity" };

      open_ready_plan (&demo);
      rd_ui_test_iterate (500);
      rd_ui_test_save_screenshot (GTK_WIDGET (demo.window), board);
      for (guint i = 0; i < G_N_ELEMENTS (views); i++)
        {
          g_autofree char *file = g_strconcat (views[i], ".png", NULL);
          g_autofree char *path = g_build_filename (g_getenv ("RD_SCREENSHOT_DIR"), file, NULL);

          if (adw_view_stack_get_child_by_name (stack, views[i]) == NULL)
            continue;
          adw_view_stack_set_visible_child_name (stack, views[i]);
          rd_ui_test_iterate (500);
          rd_ui_test_save_screenshot (GTK_WIDGET (demo.window), path);
        }
      adw_view_stack_set_visible_child_name (stack, "board");
    }

  rd_ui_test_demo_close (&demo);
}

/* Exactly one wipe reaches the tenant, and only after "Wipe". */
static void
test_window_demo_run (void)
{
  Demo demo = { 0 };
  GtkWidget *run;
  AdwMessageDialog *dialog;
  RdPlan *plan;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  plan = g_object_ref (open_ready_plan (&demo));
  run = GTK_WIDGET (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "run_button"));
  g_assert_true (gtk_widget_get_sensitive (run));

  g_signal_emit_by_name (run, "clicked");
  dialog = rd_ui_test_wait_dialog ();
  rd_ui_test_iterate (200);
  g_assert_cmpuint (wipes (&demo), ==, 0);

  rd_ui_test_answer_dialog (dialog, "_Wipe");
  g_assert_true (rd_ui_test_iterate_until (one_wipe, &demo, 10));

  /* Sent, then followed; never sent again. */
  rd_ui_test_iterate (1500);
  g_assert_cmpuint (wipes (&demo), ==, 1);
  g_assert_cmpint (rd_plan_get_state (plan), !=, RD_PLAN_STATE_READY);
  g_assert_cmpint (rd_plan_get_state (plan), !=, RD_PLAN_STATE_SENDING);
  g_assert_false (gtk_widget_get_sensitive (run));

  rd_ui_test_close_dialog (dialog);
  rd_ui_test_demo_close (&demo);
  g_assert_finalize_object (plan);
}

static guint
n_rows (GtkWidget *list)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += GTK_IS_LIST_BOX_ROW (child);

  return n;
}

/* The pane shows the full request, and after a send, the audit entry. */
static gboolean
plan_has_request_id (gpointer data)
{
  return rd_plan_get_request_ids (data)[0] != NULL;
}

typedef struct
{
  GtkWidget *history;
  RdPlan *plan;
} HistoryWait;

static gboolean
history_shows_request (gpointer data)
{
  HistoryWait *wait = data;
  const char *request_id = rd_plan_get_request_ids (wait->plan)[0];

  return request_id != NULL && rd_ui_test_label_holds (wait->history, request_id);
}

static void
test_window_demo_history (void)
{
  Demo demo = { 0 };
  GtkWidget *run, *history;
  AdwMessageDialog *dialog;
  RdPlan *plan;
  const char *const *request_ids;
  g_autofree char *line = NULL;
  HistoryWait wait;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  plan = g_object_ref (open_ready_plan (&demo));
  run = GTK_WIDGET (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "run_button"));
  history = GTK_WIDGET (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "history_list"));

  line = g_strdup_printf ("POST %s/deviceManagement/managedDevices/%s/wipe",
                          rd_graph_client_get_base_url (rd_session_get_client (demo.session)),
                          rd_plan_get_device_id (plan));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (rd_ui_test_template_child (
                     demo.pane, RD_TYPE_PLAN_PANE, "request_line_label"))),
                   ==, line);
  g_assert_cmpuint (n_rows (history), ==, 1);
  g_assert_true (rd_ui_test_label_holds (history, "Nothing sent yet"));

  g_signal_emit_by_name (run, "clicked");
  dialog = rd_ui_test_wait_dialog ();
  rd_ui_test_answer_dialog (dialog, "_Wipe");
  g_assert_true (rd_ui_test_iterate_until (one_wipe, &demo, 10));
  /* The demo counts the wipe when it arrives; the plan records its
   * request-id when the answer is back, and the history follows. */
  g_assert_true (rd_ui_test_iterate_until (plan_has_request_id, plan, 20));
  wait.history = history;
  wait.plan = plan;
  g_assert_true (rd_ui_test_iterate_until (history_shows_request, &wait, 20));

  request_ids = rd_plan_get_request_ids (plan);
  g_assert_nonnull (request_ids);
  g_assert_cmpuint (g_strv_length ((char **) request_ids), ==, 1);
  g_assert_cmpuint (n_rows (history), ==, 1);
  g_assert_false (rd_ui_test_label_holds (history, "Nothing sent yet"));
  g_assert_true (rd_ui_test_label_holds (history, request_ids[0]));

  rd_ui_test_close_dialog (dialog);
  rd_ui_test_demo_close (&demo);
  g_assert_finalize_object (plan);
}

/* Cancel sends nothing. */
static void
test_window_demo_decline (void)
{
  Demo demo = { 0 };
  GtkWidget *run;
  AdwMessageDialog *dialog;
  RdPlan *plan;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  plan = g_object_ref (open_ready_plan (&demo));
  run = GTK_WIDGET (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "run_button"));

  g_signal_emit_by_name (run, "clicked");
  dialog = rd_ui_test_wait_dialog ();
  rd_ui_test_answer_dialog (dialog, "_Cancel");
  rd_ui_test_iterate (500);

  g_assert_cmpuint (wipes (&demo), ==, 0);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_true (gtk_widget_get_sensitive (run));

  rd_ui_test_close_dialog (dialog);
  rd_ui_test_demo_close (&demo);
  g_assert_finalize_object (plan);
}

/* The cached inventory shows at once under the notice, which goes when the
 * refresh is in. */
static void
test_window_demo_stale (void)
{
  Demo first = { 0 };
  Demo second = { 0 };
  GtkRevealer *notice;

  /* One run leaves the cache behind. */
  rd_ui_test_demo_open (&first, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &first, 10));
  rd_ui_test_demo_close (&first);

  /* A slow tenant: the refresh takes a while, longer than the cache takes
   * to show on a loaded machine. */
  rd_ui_test_demo_open (&second, demo_app, 2000);
  notice = GTK_REVEALER (
    rd_ui_test_template_child (second.window, RD_TYPE_WINDOW, "stale_revealer"));
  g_assert_true (rd_ui_test_iterate_until (board_filled, &second, 10));
  g_assert_false (rd_ui_test_demo_synced (&second));
  g_assert_true (gtk_revealer_get_reveal_child (notice));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (rd_ui_test_template_child (
                              second.window, RD_TYPE_WINDOW, "stale_label"))),
                            "Refreshing"));

  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &second, 30));
  g_assert_true (rd_ui_test_iterate_until (stale_notice_hidden, &second, 10));
  g_assert_true (board_filled (&second));

  rd_ui_test_demo_close (&second);
}

/* A plan left "sending" is never sent again: the admin is asked. */
static void
test_window_demo_interrupted (void)
{
  Demo first = { 0 };
  Demo second = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *device_id = NULL;
  AdwMessageDialog *dialog;
  RdBoard *board;
  RdPlan *plan;

  rd_ui_test_demo_open (&first, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &first, 10));
  plan = open_ready_plan (&first);
  device_id = g_strdup (rd_plan_get_device_id (plan));
  g_assert_true (rd_board_transition_plan (rd_window_get_board (first.window), plan,
                                           RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);
  rd_ui_test_demo_close (&first);

  rd_ui_test_demo_open (&second, demo_app, 0);
  dialog = rd_ui_test_wait_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_heading (dialog), "Reach Intune"));
  g_assert_cmpstr (adw_message_dialog_get_close_response (dialog), ==, "later");

  rd_ui_test_answer_dialog (dialog, "It Was _Not Sent");
  board = rd_window_get_board (second.window);
  plan = rd_board_get_plan (board, rd_board_lookup_device (board, device_id));
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_FAILED);
  rd_ui_test_iterate (300);
  g_assert_cmpuint (wipes (&second), ==, 0);

  rd_ui_test_close_dialog (dialog);
  rd_ui_test_demo_close (&second);
}

/* A reimage plan's Run prepares a USB key: it opens the USB keys view for
 * the plan and sends nothing to Intune. */
static void
test_window_demo_prepare_usb_key (void)
{
  Demo demo = { 0 };
  g_autoptr(GError) error = NULL;
  RdLaneView *reuse;
  GtkSelectionModel *selection;
  GtkWidget *run;
  RdBoard *board;
  RdDevice *device;
  RdPlan *plan;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  plan = open_ready_plan (&demo);
  board = rd_window_get_board (demo.window);
  device = rd_plan_get_device (plan);
  g_assert_true (rd_board_move_device (board, device, RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  plan = rd_board_get_plan (board, device);
  g_assert_true (rd_method_is_reimage (rd_plan_get_method (plan)));
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  rd_ui_test_iterate (50);

  reuse = RD_LANE_VIEW (rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "reuse_lane"));
  selection = rd_lane_view_get_selection (reuse);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (selection)); i++)
    {
      g_autoptr(RdDevice) item = g_list_model_get_item (G_LIST_MODEL (selection), i);

      if (item == device)
        g_assert_true (gtk_selection_model_select_item (selection, i, TRUE));
    }
  rd_ui_test_iterate (50);
  g_assert_true (rd_plan_pane_get_device (demo.pane) == device);

  run = GTK_WIDGET (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "run_button"));
  g_assert_true (gtk_widget_get_sensitive (run));
  g_assert_true (gtk_widget_has_css_class (run, "suggested-action"));
  g_assert_false (gtk_widget_has_css_class (run, "destructive-action"));
  g_signal_emit_by_name (run, "clicked");
  rd_ui_test_iterate (100);

  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (
                     rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "view_stack"))),
                   ==, "usb-keys");
  g_assert_null (rd_ui_test_find_dialog ());
  g_assert_cmpuint (wipes (&demo), ==, 0);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  rd_ui_test_demo_close (&demo);
}

static gboolean
not_flushing (gpointer data)
{
  return !rd_application_get_flushing (data);
}

/* The sync writes its cache after it hands the inventory over: app.quit
 * waits for that write, so the next start opens on this inventory. Runs
 * last: the quit closes every window of the app. */
static void
test_window_demo_quit (void)
{
  Demo demo = { 0 };
  g_autoptr(RdTenantSync) sync = NULL;
  g_autoptr(GPtrArray) cached = NULL;
  g_autofree char *path = NULL;
  g_autofree char *bin = NULL;
  guint n = 0;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  sync = g_object_ref (rd_session_get_sync (demo.session));
  path = rd_tenant_sync_dup_cache_path (sync);
  /* Earlier tests' caches of the same tenant do not count. */
  bin = _rd_inventory_cache_dup_binary_path (path);
  g_unlink (path);
  g_unlink (bin);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  for (RdLane lane = 0; lane < RD_N_LANES; lane++)
    n += g_list_model_get_n_items (rd_board_get_lane (rd_window_get_board (demo.window), lane));
  g_assert_cmpuint (n, ==, 39);

  g_action_group_activate_action (G_ACTION_GROUP (demo_app), "quit", NULL);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (demo.window)));
  g_assert_true (rd_application_get_flushing (demo_app));
  g_assert_true (rd_ui_test_iterate_until (not_flushing, demo_app, 10));

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  cached = rd_tenant_sync_load_cache (sync, NULL);
  g_assert_nonnull (cached);
  g_assert_cmpuint (cached->len, ==, n);

  g_clear_object (&sync);
  rd_ui_test_demo_close (&demo);
}

/* The sign-in page and the USB keys view are built when first shown: a
 * signed-in start builds neither. A token that names no tenant shows the
 * sign-in page, with what to do. */
static void
test_window_lazy_pages (void)
{
  Demo demo = { 0 };
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  GtkStack *main_stack;

  rd_ui_test_demo_open (&demo, demo_app, 0);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, &demo, 10));
  rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_SIGN_IN_PAGE, found);
  g_assert_cmpuint (found->len, ==, 0);
  rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_USB_KEYS_VIEW, found);
  g_assert_cmpuint (found->len, ==, 0);

  g_setenv ("RECOVERY_DESK_ACCESS_TOKEN", "not-a-token", TRUE);
  rd_window_open_session (demo.window, NULL);
  g_unsetenv ("RECOVERY_DESK_ACCESS_TOKEN");
  rd_ui_test_iterate (50);
  main_stack = GTK_STACK (rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "main_stack"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (main_stack), ==, "sign-in");
  rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_SIGN_IN_PAGE, found);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_true (rd_ui_test_label_shows (GTK_WIDGET (demo.window),
                                         "does not say which tenant it is for"));

  rd_ui_test_demo_close (&demo);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  demo_app = rd_ui_test_demo_app_new (&argc, &argv, "io.github.recoverydesk.WindowDemoTest");

  g_test_add_func ("/rd/window/lanes", test_window_lanes);
  g_test_add_func ("/rd/window/board", test_window_board);
  g_test_add_func ("/rd/window/demo/builds", test_window_demo_builds);
  g_test_add_func ("/rd/window/demo/run", test_window_demo_run);
  g_test_add_func ("/rd/window/demo/history", test_window_demo_history);
  g_test_add_func ("/rd/window/demo/decline", test_window_demo_decline);
  g_test_add_func ("/rd/window/demo/stale", test_window_demo_stale);
  g_test_add_func ("/rd/window/demo/interrupted", test_window_demo_interrupted);
  g_test_add_func ("/rd/window/demo/prepare-usb-key", test_window_demo_prepare_usb_key);
  g_test_add_func ("/rd/window/demo/quit", test_window_demo_quit);
  g_test_add_func ("/rd/window/demo/lazy-pages", test_window_lazy_pages);

  status = g_test_run ();

  g_clear_object (&demo_app);
  return status;
}
