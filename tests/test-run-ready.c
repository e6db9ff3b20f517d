/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "rd-application.h"
#include "rd-device-card-private.h"
#include "rd-drive-private.h"
#include "rd-lane-view.h"
#include "rd-method.h"
#include "rd-plan-pane.h"
#include "rd-run-ready-button.h"
#include "rd-session.h"
#include "rd-usb-drive-row.h"
#include "rd-usb-keys-view.h"
#include "rd-window.h"

#include "rd-ui-test-util.h"

/* A lane's "Run all ready", the cards' progress and results, and the
 * toasts that report them: real widgets, and on the demo tenant the real
 * session, device actions and Graph requests, with the tenant's request
 * log saying what reached "Intune". */

#define WIPE_PATTERN "/deviceManagement/managedDevices/{id}/wipe"
#define REFUSAL "Application is not authorized to perform this operation."
#define IMAGE_SIZE (1024 * 1024)

static RdApplication *app;

/* Widgets */

static RdRunReadyButton *
run_button (RdLaneView *lane)
{
  return RD_RUN_READY_BUTTON (
    rd_ui_test_template_child (lane, RD_TYPE_LANE_VIEW, "run_ready_button"));
}

typedef struct
{
  RdRunReadyButton *button;
  const char *label;
} ButtonWait;

static gboolean
button_says (gpointer data)
{
  ButtonWait *wait = data;

  return g_strcmp0 (gtk_button_get_label (GTK_BUTTON (wait->button)), wait->label) == 0;
}

/* Waits for the count, which follows the board before the next frame. */
static void
assert_button_says (RdRunReadyButton *button,
                    const char       *label)
{
  ButtonWait wait = { button, label };

  rd_ui_test_iterate_until (button_says, &wait, 5);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, label);
}

static GtkWidget *
card_child (RdDeviceCard *card,
            const char   *name)
{
  return rd_ui_test_card_part (card, name);
}

/* RD_SCREENSHOT_DIR=folder saves @widget there as @name. */
static void
screenshot (GtkWidget  *widget,
            const char *name)
{
  g_autofree char *path = NULL;

  if (g_getenv ("RD_SCREENSHOT_DIR") == NULL)
    return;

  rd_ui_test_iterate (300);
  path = g_build_filename (g_getenv ("RD_SCREENSHOT_DIR"), name, NULL);
  rd_ui_test_save_screenshot (widget, path);
}

/* The rows of the confirmation's device list, as "title|subtitle". */
static GPtrArray *
dialog_rows (AdwMessageDialog *dialog)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *extra = adw_message_dialog_get_extra_child (dialog);

  g_assert_nonnull (extra);
  rd_ui_test_collect (extra, ADW_TYPE_ACTION_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    g_ptr_array_add (texts, g_strconcat (adw_preferences_row_get_title (rows->pdata[i]), "|",
                                         adw_action_row_get_subtitle (rows->pdata[i]), NULL));

  return texts;
}

static void
on_text_read_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  char **text = user_data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_assert_no_error (error);
}

static char *
read_clipboard (GtkWidget *widget)
{
  char *text = NULL;

  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (widget), NULL, on_text_read_cb, &text);
  while (text == NULL)
    g_main_context_iteration (NULL, TRUE);

  return text;
}

/* A board of its own, without a session */

static RdDevice *
make_device (const char *id,
             const char *name,
             const char *serial)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_object_new (
    RD_TYPE_DEVICE, "id", id, "name", name, "serial", serial, "model", "EliteBook 840 G8",
    "operating-system", "Windows", "os-version", "10.0.22631.4460", "management-agent", "mdm",
    "owner-type", RD_OWNER_TYPE_COMPANY, "join-type", RD_JOIN_TYPE_ENTRA_JOINED, "last-sync", now,
    "encrypted", RD_TRISTATE_YES, "escrowed-keys", 1, "autopilot", RD_TRISTATE_YES, "compliance",
    RD_COMPLIANCE_COMPLIANT, "winre-state", RD_WINRE_STATE_CONFIGURED, "management-state",
    RD_MANAGEMENT_STATE_MANAGED, NULL);
}

static void
on_run_plan_confirmed_cb (RdWindow  *window,
                          RdPlan    *plan,
                          GPtrArray *confirmed)
{
  g_ptr_array_add (confirmed, g_object_ref (plan));
}

/* The button names the count of ready plans and follows the board; the
 * confirmation names the count and lists the devices; Cancel confirms
 * nothing and "Wipe" confirms each plan once, in the lane's order. */
static void
test_count_and_confirm (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdBoard) board = rd_board_new (NULL);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) confirmed = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) rows = NULL;
  RdLaneView *inventory, *break_fix, *reuse;
  AdwMessageDialog *dialog;
  RdWindow *window;
  RdDevice *old;

  g_ptr_array_add (devices, make_device ("d1", "HR-LT-001", "5CG0001"));
  g_ptr_array_add (devices, make_device ("d2", "HR-LT-002", "5CG0002"));
  g_ptr_array_add (devices, make_device ("d3", "HR-LT-003", "5CG0003"));
  g_ptr_array_add (devices, make_device ("d4", "OLD-PC-004", "5CG0004"));
  g_ptr_array_add (devices, make_device ("d5", "LAB-PC-005", "5CG0005"));
  /* Windows 10 1703: too old for a wipe that keeps the enrollment. */
  old = devices->pdata[3];
  g_object_set (old, "os-version", "10.0.15063.0", NULL);
  rd_board_set_devices (board, devices);

  window = g_object_ref (rd_window_new (app));
  rd_window_set_board (window, board);
  g_signal_connect (window, "run-plan-confirmed", G_CALLBACK (on_run_plan_confirmed_cb), confirmed);
  inventory = RD_LANE_VIEW (rd_ui_test_template_child (window, RD_TYPE_WINDOW, "inventory_lane"));
  break_fix = RD_LANE_VIEW (rd_ui_test_template_child (window, RD_TYPE_WINDOW, "break_fix_lane"));
  reuse = RD_LANE_VIEW (rd_ui_test_template_child (window, RD_TYPE_WINDOW, "reuse_lane"));
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 860);
  gtk_window_present (GTK_WINDOW (window));
  rd_ui_test_iterate (200);

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (run_button (inventory))));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (run_button (break_fix))));
  assert_button_says (run_button (break_fix), "Run 0 Ready");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (run_button (break_fix))));

  for (guint i = 0; i < 4; i++)
    g_assert_true (rd_board_move_device (board, devices->pdata[i], RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, devices->pdata[4], RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (100);

  /* The blocked device does not count; a reimage is not run from here. */
  assert_button_says (run_button (break_fix), "Run 3 Ready");
  g_assert_cmpuint (rd_run_ready_button_get_n_ready (run_button (break_fix)), ==, 3);
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (run_button (break_fix))));
  assert_button_says (run_button (reuse), "Run 0 Ready");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (run_button (reuse))));
  g_assert_true (rd_board_set_method (board, devices->pdata[4], RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_no_error (error);
  rd_ui_test_iterate (100);
  assert_button_says (run_button (reuse), "Run 1 Ready");

  /* A device that turns blocked leaves the count, and comes back. */
  g_object_set (devices->pdata[2], "os-version", "10.0.15063.0", NULL);
  rd_ui_test_iterate (100);
  assert_button_says (run_button (break_fix), "Run 2 Ready");
  g_object_set (devices->pdata[2], "os-version", "10.0.22631.4460", NULL);
  rd_ui_test_iterate (100);
  assert_button_says (run_button (break_fix), "Run 3 Ready");

  /* Cancel confirms nothing. */
  g_signal_emit_by_name (run_button (break_fix), "clicked");
  dialog = rd_ui_test_wait_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Wipe 3 Devices?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "Each device loses:"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "cannot be undone"));
  g_assert_cmpstr (adw_message_dialog_get_close_response (dialog), ==, "cancel");
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "run"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  rows = dialog_rows (dialog);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpstr (rows->pdata[0], ==,
                   "HR-LT-001|Serial 5CG0001 · Wipe, keeping enrollment and user account");
  g_assert_cmpstr (rows->pdata[1], ==,
                   "HR-LT-002|Serial 5CG0002 · Wipe, keeping enrollment and user account");
  g_assert_cmpstr (rows->pdata[2], ==,
                   "HR-LT-003|Serial 5CG0003 · Wipe, keeping enrollment and user account");
  rd_ui_test_answer_dialog (dialog, "_Cancel");
  rd_ui_test_iterate (100);
  g_assert_cmpuint (confirmed->len, ==, 0);
  rd_ui_test_close_dialog (dialog);

  /* "Wipe 3 Devices" confirms each plan once. */
  g_signal_emit_by_name (run_button (break_fix), "clicked");
  dialog = rd_ui_test_wait_dialog ();
  rd_ui_test_answer_dialog (dialog, "_Wipe 3 Devices");
  rd_ui_test_iterate (100);
  g_assert_cmpuint (confirmed->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_true (confirmed->pdata[i] == rd_board_get_plan (board, devices->pdata[i]));
  rd_ui_test_close_dialog (dialog);

  rd_ui_test_close_window (window, 100);
  g_clear_pointer (&confirmed, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&board));
}

/* On the demo tenant */

typedef RdUiTestDemo Demo;

static void
demo_open (Demo  *demo,
           guint  latency_msec)
{
  rd_ui_test_demo_open (demo, app, latency_msec);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_demo_synced, demo, 20));
  demo->board = rd_window_get_board (demo->window);
  g_assert_nonnull (demo->board);
}

/* Up to @n demo devices that Break and Fix can wipe now, moved there, with
 * the plans of earlier tests that can still move sent back first. */
static GPtrArray *
move_ready_devices (Demo  *demo,
                    guint  n)
{
  GPtrArray *plans = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) earlier = rd_board_dup_plans (demo->board);
  GListModel *inventory = rd_board_get_lane (demo->board, RD_LANE_INVENTORY);

  for (guint i = 0; i < earlier->len; i++)
    {
      RdDevice *device = rd_plan_get_device (earlier->pdata[i]);

      if (device != NULL && !rd_plan_is_in_flight (earlier->pdata[i]))
        g_assert_true (rd_board_move_device (demo->board, device, RD_LANE_INVENTORY, NULL));
    }

  for (guint i = 0; plans->len < n && i < g_list_model_get_n_items (inventory);)
    {
      g_autoptr(RdDevice) candidate = g_list_model_get_item (inventory, i);
      g_autoptr(GError) error = NULL;
      RdPlan *plan;

      g_assert_true (rd_board_move_device (demo->board, candidate, RD_LANE_BREAK_FIX, &error));
      g_assert_no_error (error);
      plan = rd_board_get_plan (demo->board, candidate);
      if (rd_plan_get_state (plan) == RD_PLAN_STATE_READY)
        g_ptr_array_add (plans, g_object_ref (plan));
      else
        {
          g_assert_true (rd_board_move_device (demo->board, candidate, RD_LANE_INVENTORY, &error));
          i++;
        }
    }
  g_assert_cmpuint (plans->len, ==, n);
  rd_ui_test_iterate (100);

  return plans;
}

static guint
wipes (Demo *demo)
{
  return rd_demo_tenant_get_request_count (demo->demo, "POST", WIPE_PATTERN);
}

static gboolean
any_sending (gpointer data)
{
  GPtrArray *plans = data;

  for (guint i = 0; i < plans->len; i++)
    if (rd_plan_get_state (plans->pdata[i]) == RD_PLAN_STATE_SENDING)
      return TRUE;

  return FALSE;
}

static gboolean
all_answered (gpointer data)
{
  GPtrArray *plans = data;

  for (guint i = 0; i < plans->len; i++)
    {
      RdPlanState state = rd_plan_get_state (plans->pdata[i]);

      if (state == RD_PLAN_STATE_READY || state == RD_PLAN_STATE_SENDING)
        return FALSE;
    }

  return TRUE;
}

typedef struct
{
  GtkWidget *root;
  const char *text;
} LabelWait;

static gboolean
label_appears (gpointer data)
{
  LabelWait *wait = data;

  return rd_ui_test_label_shows (wait->root, wait->text);
}

static const char *
last_request_id (RdPlan *plan)
{
  const char *const *ids = rd_plan_get_request_ids (plan);
  guint n = ids != NULL ? g_strv_length ((char **) ids) : 0;

  g_assert_cmpuint (n, >, 0);
  return ids[n - 1];
}

/* The card shows @request_id on a line of its own, with its copy button. */
static void
assert_card_shows_request_id (RdDeviceCard *card,
                              const char   *request_id)
{
  g_autofree char *text = g_strdup_printf ("request-id %s", request_id);

  g_assert_true (gtk_widget_get_visible (card_child (card, "request_box")));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (card_child (card, "request_label"))), ==, text);
  g_assert_nonnull (rd_ui_test_find_button (card_child (card, "request_box"), NULL));
}

/* The card of a failed plan shows Graph's error and its request-id, and
 * copies the request-id. */
static void
assert_card_shows_failure (Demo   *demo,
                           RdPlan *plan)
{
  RdDeviceCard *card = rd_ui_test_find_card (demo->break_fix, rd_plan_get_device (plan));
  const char *request_id = last_request_id (plan);
  g_autofree char *copied = NULL;
  GtkWidget *copy, *spinner;
  GtkLabel *result;

  g_assert_nonnull (card);
  result = GTK_LABEL (card_child (card, "result_label"));
  g_assert_true (gtk_widget_get_visible (card_child (card, "result_box")));
  g_assert_nonnull (strstr (gtk_label_get_label (result), REFUSAL));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (result), "error"));
  spinner = rd_device_card_get_part (card, "spinner");
  g_assert_true (spinner == NULL || !gtk_widget_get_visible (spinner));
  assert_card_shows_request_id (card, request_id);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (card)), "");
  copy = rd_ui_test_find_button (card_child (card, "request_box"), NULL);
  g_assert_nonnull (copy);
  g_signal_emit_by_name (copy, "clicked");
  copied = read_clipboard (GTK_WIDGET (card));
  g_assert_cmpstr (copied, ==, request_id);
}

/* Run all ready on the demo tenant: Cancel sends nothing; "Wipe" sends
 * each device's wipe once, one at a time, with a spinner on the card on
 * its way; one toast sums up, its "Details" selects the device Graph
 * refused, whose card shows the error and its request-id. */
static void
test_demo_run_ready (void)
{
  Demo demo = { 0 };
  g_autoptr(GPtrArray) plans = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  RdRunReadyButton *button;
  AdwMessageDialog *dialog;
  RdDeviceCard *card;
  RdPlan *refused;
  LabelWait wait;

  demo_open (&demo, 150);
  plans = move_ready_devices (&demo, 3);
  refused = plans->pdata[1];
  rd_demo_tenant_set_action_failure (demo.demo, rd_plan_get_device_id (refused), 403, "Forbidden",
                                     REFUSAL);

  button = run_button (demo.break_fix);
  assert_button_says (button, "Run 3 Ready");
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (button)));

  /* Cancel sends nothing. */
  g_signal_emit_by_name (button, "clicked");
  dialog = rd_ui_test_wait_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Wipe 3 Devices?");
  rows = dialog_rows (dialog);
  g_assert_cmpuint (rows->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *row = g_strdup_printf (
        "%s|Serial %s · %s", rd_plan_get_device_name (plans->pdata[i]),
        rd_plan_get_device_serial (plans->pdata[i]), rd_method_get_title (RD_METHOD_WIPE_RETAIN));

      g_assert_cmpstr (rows->pdata[i], ==, row);
    }
  rd_ui_test_answer_dialog (dialog, "_Cancel");
  rd_ui_test_iterate (500);
  g_assert_cmpuint (wipes (&demo), ==, 0);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (rd_plan_get_state (plans->pdata[i]), ==, RD_PLAN_STATE_READY);
  rd_ui_test_close_dialog (dialog);

  /* Confirmed: each is sent once, the card spinning while it goes. */
  g_signal_emit_by_name (button, "clicked");
  dialog = rd_ui_test_wait_dialog ();
  rd_ui_test_answer_dialog (dialog, "_Wipe 3 Devices");

  g_assert_true (rd_ui_test_iterate_until (any_sending, plans, 10));
  for (guint i = 0; i < 3; i++)
    if (rd_plan_get_state (plans->pdata[i]) == RD_PLAN_STATE_SENDING)
      {
        card = rd_ui_test_find_card (demo.break_fix, rd_plan_get_device (plans->pdata[i]));
        g_assert_nonnull (card);
        g_assert_true (gtk_widget_get_visible (card_child (card, "spinner")));
        g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (card_child (card, "spinner"))));
        g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (card_child (card, "result_label"))), ==,
                         "Sending to Intune…");
      }
  /* One at a time: the first is on its way, the others wait their turn. */
  g_assert_cmpint (rd_plan_get_state (plans->pdata[0]), ==, RD_PLAN_STATE_SENDING);
  g_assert_cmpint (rd_plan_get_state (plans->pdata[1]), ==, RD_PLAN_STATE_READY);
  g_assert_cmpint (rd_plan_get_state (plans->pdata[2]), ==, RD_PLAN_STATE_READY);

  g_assert_true (rd_ui_test_iterate_until (all_answered, plans, 20));
  wait.root = GTK_WIDGET (demo.window);
  wait.text = "2 wipes sent, 1 failed";
  g_assert_true (rd_ui_test_iterate_until (label_appears, &wait, 10));
  screenshot (GTK_WIDGET (demo.window), "run-ready-board.png");

  requests = rd_demo_tenant_dup_wipe_requests (demo.demo);
  g_assert_cmpuint (requests->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (((RdDemoWipeRequest *) requests->pdata[i])->device_id, ==,
                     rd_plan_get_device_id (plans->pdata[i]));
  g_assert_cmpint (rd_plan_get_state (refused), ==, RD_PLAN_STATE_FAILED);
  g_assert_cmpint (rd_plan_get_state (plans->pdata[0]), !=, RD_PLAN_STATE_FAILED);
  g_assert_cmpint (rd_plan_get_state (plans->pdata[2]), !=, RD_PLAN_STATE_FAILED);

  /* A sent card shows the request-id Intune accepted. */
  card = rd_ui_test_find_card (demo.break_fix, rd_plan_get_device (plans->pdata[0]));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (card_child (card, "result_label"))), ==,
                   "Accepted by Intune");
  assert_card_shows_request_id (card, last_request_id (plans->pdata[0]));
  assert_card_shows_failure (&demo, refused);

  /* Nothing is left to run, and "Details" leads to the refused device. */
  rd_ui_test_iterate (100);
  assert_button_says (button, "Run 0 Ready");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (button)));
  rd_ui_test_click (GTK_WIDGET (demo.window), "_Details");
  rd_ui_test_iterate (100);
  g_assert_true (rd_plan_pane_get_device (demo.pane) == rd_plan_get_device (refused));

  /* Never sent again. */
  rd_ui_test_iterate (1000);
  g_assert_cmpuint (wipes (&demo), ==, 3);

  rd_ui_test_close_dialog (dialog);
  rd_ui_test_demo_close (&demo);
  g_clear_pointer (&plans, g_ptr_array_unref);
}

/* A single Run that Graph refuses: its toast gives the error and the
 * request-id to copy, and so does the card. */
static void
test_demo_single_failure (void)
{
  Demo demo = { 0 };
  g_autoptr(GPtrArray) plans = NULL;
  g_autofree char *toast_text = NULL;
  AdwMessageDialog *dialog;
  GtkWidget *run;
  RdPlan *plan;
  LabelWait wait;

  demo_open (&demo, 0);
  plans = move_ready_devices (&demo, 1);
  plan = plans->pdata[0];
  rd_demo_tenant_set_action_failure (demo.demo, rd_plan_get_device_id (plan), 403, "Forbidden",
                                     REFUSAL);

  gtk_widget_activate_action (GTK_WIDGET (demo.window), "win.show-device", "s",
                              rd_plan_get_device_id (plan));
  rd_ui_test_iterate (100);
  g_assert_true (rd_plan_pane_get_device (demo.pane) == rd_plan_get_device (plan));
  run = GTK_WIDGET (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "run_button"));
  g_signal_emit_by_name (run, "clicked");
  dialog = rd_ui_test_wait_dialog ();
  rd_ui_test_answer_dialog (dialog, "_Wipe");
  g_assert_true (rd_ui_test_iterate_until (all_answered, plans, 20));
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_FAILED);

  wait.root = GTK_WIDGET (demo.window);
  toast_text = g_strdup_printf ("(request ID %s)", last_request_id (plan));
  wait.text = toast_text;
  g_assert_true (rd_ui_test_iterate_until (label_appears, &wait, 10));
  wait.text = REFUSAL;
  g_assert_true (label_appears (&wait));
  g_assert_nonnull (rd_ui_test_find_button (GTK_WIDGET (demo.window), "_Copy Request ID"));
  assert_card_shows_failure (&demo, plan);
  /* The plan pane keeps Graph's answer in view, and offers the retry. */
  {
    GtkLabel *reason = GTK_LABEL (rd_ui_test_template_child (demo.pane, RD_TYPE_PLAN_PANE, "reason_label"));

    g_assert_true (gtk_widget_is_visible (GTK_WIDGET (reason)));
    g_assert_nonnull (strstr (gtk_label_get_label (reason), rd_plan_get_last_error (plan)));
    g_assert_nonnull (strstr (gtk_label_get_label (reason), last_request_id (plan)));
    g_assert_true (gtk_widget_is_sensitive (run));
  }
  g_assert_cmpuint (wipes (&demo), ==, 1);

  rd_ui_test_close_dialog (dialog);
  rd_ui_test_demo_close (&demo);
}

/* A USB key written for a reimage plan by the real helper, to a file that
 * stands in for the key: a toast says it is recorded, and leads back to
 * the plan, whose card names the image. */

/* Opens @card's menu with a click on its menu button and activates its
 * item labelled @label, as a click on it would. */
static void
activate_menu_item (RdDeviceCard *card,
                    const char   *label)
{
  GtkWidget *popover;
  g_autofree char *action = NULL;
  g_autoptr(GVariant) target = NULL;
  GMenuModel *menu;

  g_signal_emit_by_name (card_child (card, "menu_button"), "clicked");
  popover = card_child (card, "menu");
  g_assert_true (gtk_widget_get_visible (popover));
  menu = gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover));
  g_assert_nonnull (menu);
  for (int i = 0; action == NULL && i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *item_label = NULL;

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &item_label) &&
          g_strcmp0 (item_label, label) == 0)
        {
          g_assert_true (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s",
                                                          &action));
          target = g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_TARGET, NULL);
        }
    }
  g_assert_nonnull (action);
  gtk_popover_popdown (GTK_POPOVER (popover));
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (card), action, target));
}

static gboolean
sha_known (gpointer data)
{
  return rd_usb_keys_view_get_image_sha256 (data) != NULL;
}

static gboolean
key_recorded (gpointer data)
{
  return rd_plan_get_state (data) == RD_PLAN_STATE_USB_PREPARED;
}

static void
test_demo_key_recorded (void)
{
  Demo demo = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) plans = NULL;
  g_autoptr(GPtrArray) views = g_ptr_array_new ();
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  g_autoptr(GListStore) drives = g_list_store_new (RD_TYPE_DRIVE);
  g_autoptr(RdDrive) drive = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rd-run-ready-XXXXXX", &error);
  g_autofree char *image = g_build_filename (dir, "elitebook-840-g8-oem.img", NULL);
  g_autofree char *key = g_build_filename (dir, "key.img", NULL);
  g_autofree guint8 *data = g_malloc0 (IMAGE_SIZE);
  g_autofree char *toast_text = NULL;
  RdLaneView *reuse;
  AdwViewStack *stack;
  RdUsbKeysView *view;
  RdDeviceCard *card;
  RdDevice *device;
  RdPlan *plan;
  LabelWait wait;

  /* A disk image with an MBR, written byte for byte. */
  g_assert_no_error (error);
  data[446 + 4] = 0x0c;
  data[510] = 0x55;
  data[511] = 0xaa;
  g_assert_true (g_file_set_contents (image, (const char *) data, IMAGE_SIZE, &error));
  g_assert_no_error (error);
  drive = rd_drive_new_for_testing ("/dev/sdx", makedev (259, 4100), 16000000000, FALSE, FALSE,
                                    TRUE);
  rd_drive_set_identity_for_testing (drive, key, "SanDisk", "Ultra Fit", "4C530001231120115142");
  g_list_store_append (drives, drive);

  demo_open (&demo, 0);
  plans = move_ready_devices (&demo, 1);
  device = rd_plan_get_device (plans->pdata[0]);
  g_assert_true (rd_board_move_device (demo.board, device, RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  plan = rd_board_get_plan (demo.board, device);
  g_assert_true (rd_method_is_reimage (rd_plan_get_method (plan)));
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  /* The USB keys view is built when its page first shows: no view, and no
   * drive monitor, until then. It is given the test's drive. */
  stack = ADW_VIEW_STACK (rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "view_stack"));
  rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_USB_KEYS_VIEW, views);
  g_assert_cmpuint (views->len, ==, 0);
  adw_view_stack_set_visible_child_name (stack, "usb-keys");
  rd_ui_test_collect (GTK_WIDGET (demo.window), RD_TYPE_USB_KEYS_VIEW, views);
  g_assert_cmpuint (views->len, ==, 1);
  view = views->pdata[0];
  rd_usb_keys_view_set_drives (view, G_LIST_MODEL (drives));
  adw_view_stack_set_visible_child_name (stack, "board");

  /* The plan's way to the USB keys view, from its card's menu. */
  reuse = RD_LANE_VIEW (rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "reuse_lane"));
  rd_ui_test_iterate (100);
  card = rd_ui_test_find_card (reuse, device);
  g_assert_nonnull (card);
  activate_menu_item (card, "_Prepare USB Key…");
  rd_ui_test_iterate (100);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "usb-keys");
  g_assert_true (rd_usb_keys_view_get_plan (view) == plan);
  rd_usb_keys_view_set_image (view, image);
  g_assert_true (rd_ui_test_iterate_until (sha_known, view, 20));
  rd_ui_test_collect (GTK_WIDGET (view), RD_TYPE_USB_DRIVE_ROW, rows);
  g_assert_cmpuint (rows->len, ==, 1);
  rd_usb_drive_row_set_active (rows->pdata[0], TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "usb-keys.write", NULL));
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_has_dialog, NULL, 10));
  adw_message_dialog_response (rd_ui_test_find_dialog (), "write");
  g_assert_true (rd_ui_test_iterate_until (key_recorded, plan, 60));

  wait.root = GTK_WIDGET (demo.window);
  toast_text = g_strdup_printf ("USB key for %s recorded in its plan", rd_device_get_name (device));
  wait.text = toast_text;
  g_assert_true (rd_ui_test_iterate_until (label_appears, &wait, 10));

  /* "Show Plan" goes back to the board, with the plan open. */
  rd_ui_test_click (GTK_WIDGET (demo.window), "_Show Plan");
  rd_ui_test_iterate (200);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (
                     rd_ui_test_template_child (demo.window, RD_TYPE_WINDOW, "view_stack"))),
                   ==, "board");
  g_assert_true (rd_plan_pane_get_device (demo.pane) == device);
  card = rd_ui_test_find_card (reuse, device);
  g_assert_nonnull (card);
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (card_child (card, "result_label"))), ==,
                   "USB key: elitebook-840-g8-oem.img");
  g_assert_cmpuint (wipes (&demo), ==, 0);

  rd_usb_keys_view_set_drives (view, NULL);
  rd_ui_test_demo_close (&demo);
  g_assert_cmpint (g_unlink (image), ==, 0);
  g_unlink (key);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  app = rd_ui_test_demo_app_new (&argc, &argv, "io.github.recoverydesk.RunReadyTest");

  g_test_add_func ("/rd/run-ready/count-and-confirm", test_count_and_confirm);
  g_test_add_func ("/rd/run-ready/demo/run", test_demo_run_ready);
  g_test_add_func ("/rd/run-ready/demo/single-failure", test_demo_single_failure);
  g_test_add_func ("/rd/run-ready/demo/key-recorded", test_demo_key_recorded);

  status = g_test_run ();

  g_clear_object (&app);
  return status;
}
