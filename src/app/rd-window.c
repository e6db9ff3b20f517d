/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-window"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-window.h"

#include "rd-activity-view.h"
#include "rd-bitlocker-view.h"
#include "rd-graph-error.h"
#include "rd-lane-view.h"
#include "rd-method.h"
#include "rd-plan-pane.h"
#include "rd-readiness.h"
#include "rd-sign-in-page.h"
#include "rd-ui-utils.h"
#include "rd-usb-keys-view.h"

/* The board window: the three lanes, the search over the inventory, the
 * plan pane, and the toasts. Every move, from a drop, a card's menu or a
 * shortcut, arrives here as "board.move-devices" and goes through
 * rd_board_move_device(); each one offers an Undo that moves the devices
 * back the same way. Running a plan asks for confirmation in an
 * AdwMessageDialog and then emits ::run-plan-confirmed. A lane's "Run all
 * ready" asks once for all of the lane's ready plans, listing them, then
 * emits ::run-plan-confirmed for each in turn, the next only when the one
 * before has its answer, and sums the outcomes up in one toast.
 *
 * With an RdSession the window is the app: it restores the sign-in or
 * shows the sign-in page, opens the tenant's board, shows the cached
 * inventory at once under a notice while a refresh runs, and sends a
 * confirmed plan through RdDeviceActions, following it to the end. Plans
 * left "sending" by a crash are never sent again: the admin says which way
 * they went. */

/* A lane's ready plans on their way, one at a time. */
typedef struct
{
  GPtrArray *plans; /* RdPlan, in the lane's order */
  guint next;
  RdPlan *current;  /* the plan whose confirmation is out, if any */
  gboolean started; /* whether the current plan's request was started here */
  guint n_sent;
  guint n_unknown;
  GPtrArray *failed; /* RdPlan: refused, or Graph said no */
} LaneRun;

static void
lane_run_free (LaneRun *run)
{
  g_ptr_array_unref (run->plans);
  g_ptr_array_unref (run->failed);
  g_free (run);
}

struct _RdWindow
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;
  RdBoard *board;
  AdwToast *move_toast;             /* weak */
  AdwMessageDialog *run_dialog;     /* weak */
  RdLaneView *pane_lane;
  LaneRun *lane_run;

  RdSession *session;
  GCancellable *cancellable;      /* the session's work: sign-in, cache, runs */
  GCancellable *sync_cancellable; /* the refresh under way, if any */
  RdTenantSync *sync;             /* whose progress the refresh button shows */
  RdApplication *application;     /* weak; waits for the sync's cache write */
  gboolean checked_interrupted;
  char *sign_in_reason; /* why the sign-in page shows next, if it does */
  GQueue interrupted;             /* RdPlans waiting for the admin's answer */
  AdwMessageDialog *interrupted_dialog; /* weak */

  AdwToastOverlay *toast_overlay;
  GtkSearchEntry *search_entry;
  GtkButton *refresh_button;
  GtkStack *refresh_stack;
  GtkSpinner *refresh_spinner;
  AdwViewSwitcherTitle *switcher_title;
  GtkMenuButton *account_button;
  GtkStack *account_icon_stack;
  AdwAvatar *avatar;
  GtkWidget *account_box;
  GtkLabel *account_name_label;
  GtkLabel *account_user_label;
  GtkLabel *account_tenant_label;
  GtkRevealer *stale_revealer;
  GtkLabel *stale_label;
  GtkRevealer *notes_revealer;
  GtkLabel *notes_label;
  GtkStack *main_stack;
  AdwStatusPage *loading_page;
  GtkSpinner *loading_spinner;
  AdwBin *sign_in_bin;
  RdSignInPage *sign_in_page; /* NULL until the sign-in page first shows */
  AdwViewStack *view_stack;
  AdwBin *bitlocker_page;
  AdwBin *usb_keys_page;
  AdwBin *activity_page;
  RdBitlockerView *bitlocker_view; /* NULL until its page first shows */
  RdUsbKeysView *usb_keys_view;    /* NULL until its page first shows or a plan needs it */
  RdActivityView *activity_view;   /* NULL until its page first shows */
  RdAuditLog *audit_log;           /* for the activity view */
  AdwFlap *flap;
  RdLaneView *inventory_lane;
  RdLaneView *break_fix_lane;
  RdLaneView *reuse_lane;
  RdPlanPane *plan_pane;
};

G_DEFINE_FINAL_TYPE (RdWindow, rd_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  SIGNAL_RUN_PLAN_CONFIRMED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The audit log changed: a plan was sent, or its outcome is in. */
static void
reload_activity (RdWindow *self)
{
  if (self->activity_view != NULL && rd_activity_view_get_audit_log (self->activity_view) != NULL)
    rd_activity_view_reload (self->activity_view);
}

static void
save_window_state (RdWindow *self)
{
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  g_settings_set_string (self->settings, "last-view",
                         adw_view_stack_get_visible_child_name (self->view_stack));
}

static void
show_error (RdWindow   *self,
            const char *message)
{
  g_autofree char *title = g_markup_escape_text (message, -1);
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_set_timeout (toast, 10);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* Whether @plan may run now: nothing sent yet and no check blocking. */
static gboolean
plan_can_run (RdWindow  *self,
              RdPlan    *plan,
              char     **reason)
{
  g_autoptr(GListModel) checks = NULL;
  RdDevice *device = rd_plan_get_device (plan);
  RdCheck *blocker;

  if (device == NULL || rd_board_get_plan (self->board, device) != plan ||
      !rd_plan_is_editable (plan))
    {
      *reason = g_strdup_printf (_("The plan of %s changed. Review it again before running it."),
                                 rd_plan_get_device_name (plan));
      return FALSE;
    }

  checks = rd_board_evaluate (self->board, device);
  blocker = rd_readiness_first_blocker (checks);
  if (blocker != NULL)
    {
      /* Translators: a device name, then why its plan cannot run. */
      *reason = g_strdup_printf (_("%s cannot run: %s"), rd_device_get_name (device),
                                 rd_check_get_title (blocker));
      return FALSE;
    }

  return TRUE;
}

/* Moves */

static void
show_move_toast (RdWindow *self,
                 GVariant *undo,
                 guint     n_moved,
                 RdDevice *device,
                 RdLane    lane)
{
  g_autofree char *title = NULL;
  AdwToast *toast;

  if (n_moved == 1)
    /* Translators: a device name, then a lane such as "Break and Fix". */
    title = g_markup_printf_escaped (_("%s moved to %s"), rd_device_get_name (device),
                                     rd_lane_get_title (lane));
  else
    title = g_markup_printf_escaped (ngettext ("%u device moved to %s",
                                               "%u devices moved to %s", n_moved),
                                     n_moved, rd_lane_get_title (lane));

  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_action_name (toast, "board.undo-move");
  adw_toast_set_action_target_value (toast, undo);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);

  /* Only the latest move can be undone from a toast: an older one waiting
   * in the queue would undo a move the admin has already built on. */
  if (self->move_toast != NULL)
    adw_toast_dismiss (self->move_toast);
  g_set_weak_pointer (&self->move_toast, toast);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
move_devices_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);
  g_autofree const char **ids = NULL;
  g_autoptr(GError) first_error = NULL;
  GVariantBuilder undo;
  const char *lane_nick;
  RdDevice *last = NULL;
  guint n_moved = 0;
  RdLane lane;

  g_variant_get (parameter, "(^a&s&s)", &ids, &lane_nick);
  if (!rd_lane_from_string (lane_nick, &lane))
    return;

  g_variant_builder_init (&undo, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      RdDevice *device = rd_board_lookup_device (self->board, ids[i]);
      RdPlan *plan;
      RdLane from;
      const char *method;

      if (device == NULL)
        continue;

      plan = rd_board_get_plan (self->board, device);
      from = plan != NULL ? rd_plan_get_lane (plan) : RD_LANE_INVENTORY;
      method = plan != NULL ? rd_method_to_string (rd_plan_get_method (plan)) : "";
      if (from == lane)
        continue;

      if (!rd_board_move_device (self->board, device, lane, &error))
        {
          if (first_error == NULL)
            first_error = g_steal_pointer (&error);
          continue;
        }

      g_variant_builder_add (&undo, "(sss)", ids[i], rd_lane_to_string (from), method);
      last = device;
      n_moved++;
    }

  if (n_moved > 0)
    show_move_toast (self, g_variant_builder_end (&undo), n_moved, last, lane);
  else
    g_variant_builder_clear (&undo);

  if (first_error != NULL)
    show_error (self, first_error->message);
}

static void
undo_move_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);
  g_autoptr(GError) first_error = NULL;
  const char *id, *lane_nick, *method_nick;
  GVariantIter iter;

  g_variant_iter_init (&iter, parameter);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &id, &lane_nick, &method_nick))
    {
      g_autoptr(GError) error = NULL;
      RdDevice *device = rd_board_lookup_device (self->board, id);
      RdMethod method;
      RdPlan *plan;
      RdLane lane;

      if (device == NULL || !rd_lane_from_string (lane_nick, &lane))
        continue;

      /* Moving back gives a fresh plan with the lane's default method; the
       * method chosen before the move is put back too. */
      if (rd_board_move_device (self->board, device, lane, &error) &&
          rd_method_from_string (method_nick, &method) &&
          (plan = rd_board_get_plan (self->board, device)) != NULL &&
          rd_plan_get_method (plan) != method)
        rd_board_set_method (self->board, device, method, &error);

      if (error != NULL && first_error == NULL)
        first_error = g_steal_pointer (&error);
    }

  if (self->move_toast != NULL)
    adw_toast_dismiss (self->move_toast);

  if (first_error != NULL)
    show_error (self, first_error->message);
}

/* Running a plan */

static void
on_run_dialog_response_cb (AdwMessageDialog *dialog,
                           const char       *response,
                           RdWindow         *self)
{
  RdPlan *plan = g_object_get_data (G_OBJECT (dialog), "rd-plan");
  const char *confirm = g_object_get_data (G_OBJECT (dialog), "rd-confirm");
  g_autofree char *reason = NULL;

  if (g_strcmp0 (response, confirm) != 0)
    return;

  /* The board may have changed while the dialog was open. */
  if (!plan_can_run (self, plan, &reason))
    {
      show_error (self, reason);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_RUN_PLAN_CONFIRMED], 0, plan);
}

static void
on_run_plan_activated_cb (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  RdWindow *self = RD_WINDOW (user_data);
  RdDevice *device = rd_board_lookup_device (self->board, g_variant_get_string (parameter, NULL));
  RdPlan *plan = device != NULL ? rd_board_get_plan (self->board, device) : NULL;
  g_autoptr(GString) body = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *reason = NULL;
  g_auto(GStrv) lost = NULL;
  const char *confirm, *confirm_label;
  GtkWidget *dialog;
  RdMethod method;

  if (plan == NULL)
    return;

  /* One confirmation at a time, so one click cannot become two runs. */
  if (self->run_dialog != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->run_dialog));
      return;
    }

  if (!plan_can_run (self, plan, &reason))
    {
      show_error (self, reason);
      return;
    }

  method = rd_plan_get_method (plan);
  switch (method)
    {
    case RD_METHOD_WIPE_RETAIN:
      heading = g_strdup_printf (_("Wipe %s?"), rd_device_get_name (device));
      confirm = "wipe";
      confirm_label = _("_Wipe");
      break;
    case RD_METHOD_AUTOPILOT_RESET:
      heading = g_strdup_printf (_("Reset %s with Autopilot Reset?"), rd_device_get_name (device));
      confirm = "wipe";
      confirm_label = _("_Reset");
      break;
    case RD_METHOD_REIMAGE_OEM:
    case RD_METHOD_REIMAGE_UNIVERSAL:
    default:
      heading = g_strdup_printf (_("Reimage %s?"), rd_device_get_name (device));
      confirm = "reimage";
      confirm_label = _("_Reimage");
      break;
    }

  body = g_string_new (NULL);
  g_string_append_printf (body, _("%s loses:"), rd_device_get_name (device));
  g_string_append_c (body, '\n');
  lost = rd_method_dup_lost (method);
  for (guint i = 0; lost[i] != NULL; i++)
    g_string_append_printf (body, "\n• %s", lost[i]);
  g_string_append (body, "\n\n");
  g_string_append (body, _("This cannot be undone."));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body->str);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    confirm, confirm_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), confirm,
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_object_set_data_full (G_OBJECT (dialog), "rd-plan", g_object_ref (plan), g_object_unref);
  g_object_set_data (G_OBJECT (dialog), "rd-confirm", (gpointer) confirm);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_run_dialog_response_cb), self, 0);

  g_set_weak_pointer (&self->run_dialog, ADW_MESSAGE_DIALOG (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Running a lane's ready plans */

static void run_next_in_lane (RdWindow *self);

/* The devices the confirmation names: name, serial and method of each. */
static GtkWidget *
new_plan_list (GPtrArray *plans)
{
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_widget_add_css_class (list, "run-ready-list");
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      const char *serial = rd_plan_get_device_serial (plan);
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_action_row_new ();

      /* Translators: a device's serial number, then the method of its plan. */
      subtitle = g_strdup_printf (_("Serial %s · %s"),
                                  serial != NULL && *serial != '\0' ? serial : _("unknown"),
                                  rd_method_get_title (rd_plan_get_method (plan)));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), rd_plan_get_device_name (plan));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 280);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);

  return scrolled;
}

static void
on_run_ready_dialog_response_cb (AdwMessageDialog *dialog,
                                 const char       *response,
                                 RdWindow         *self)
{
  GPtrArray *plans = g_object_get_data (G_OBJECT (dialog), "rd-plans");
  LaneRun *run;

  if (g_strcmp0 (response, "run") != 0 || self->lane_run != NULL)
    return;

  run = g_new0 (LaneRun, 1);
  run->plans = g_ptr_array_ref (plans);
  run->failed = g_ptr_array_new_with_free_func (g_object_unref);
  self->lane_run = run;
  run_next_in_lane (self);
}

static void
run_ready_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  RdWindow *self = RD_WINDOW (user_data);
  g_autoptr(GPtrArray) plans = NULL;
  g_autoptr(GString) body = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *confirm_label = NULL;
  RdMethod method = RD_METHOD_WIPE_RETAIN;
  gboolean one_method = TRUE;
  GtkWidget *dialog;
  RdLane lane;
  guint n;

  if (self->board == NULL || !rd_lane_from_string (g_variant_get_string (parameter, NULL), &lane) ||
      lane == RD_LANE_INVENTORY)
    return;

  /* One confirmation at a time, so one click cannot become two runs. */
  if (self->run_dialog != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->run_dialog));
      return;
    }

  if (self->lane_run != NULL)
    {
      show_error (self, _("Recovery Desk is still sending the plans you ran. Wait until they "
                          "are all sent, then run the lane again."));
      return;
    }

  plans = rd_board_dup_ready_plans (self->board, lane);
  n = plans->len;
  if (n == 0)
    {
      /* Translators: %s is a lane, such as "Break and Fix". */
      g_autofree char *message = g_strdup_printf (_("No plan in %s is ready to run. Open a plan "
                                                    "to see what blocks it."),
                                                  rd_lane_get_title (lane));

      show_error (self, message);
      return;
    }

  for (guint i = 0; i < n; i++)
    {
      RdMethod plan_method = rd_plan_get_method (g_ptr_array_index (plans, i));

      if (i == 0)
        method = plan_method;
      else if (plan_method != method)
        one_method = FALSE;
    }

  if (one_method && method == RD_METHOD_WIPE_RETAIN)
    {
      heading = g_strdup_printf (ngettext ("Wipe %u Device?", "Wipe %u Devices?", n), n);
      confirm_label = g_strdup_printf (ngettext ("_Wipe %u Device", "_Wipe %u Devices", n), n);
    }
  else if (one_method && method == RD_METHOD_AUTOPILOT_RESET)
    {
      heading = g_strdup_printf (ngettext ("Reset %u Device with Autopilot Reset?",
                                           "Reset %u Devices with Autopilot Reset?", n),
                                 n);
      confirm_label = g_strdup_printf (ngettext ("_Reset %u Device", "_Reset %u Devices", n), n);
    }
  else
    {
      heading = g_strdup_printf (ngettext ("Run %u Plan?", "Run %u Plans?", n), n);
      confirm_label = g_strdup_printf (ngettext ("_Run %u Plan", "_Run %u Plans", n), n);
    }

  /* What each method loses, once per method in the list. */
  body = g_string_new (NULL);
  for (RdMethod m = RD_METHOD_WIPE_RETAIN; m <= RD_METHOD_AUTOPILOT_RESET; m++)
    {
      g_auto(GStrv) lost = NULL;
      gboolean used = FALSE;

      for (guint i = 0; !used && i < n; i++)
        used = rd_plan_get_method (g_ptr_array_index (plans, i)) == m;
      if (!used)
        continue;

      if (body->len > 0)
        g_string_append (body, "\n\n");
      if (one_method)
        g_string_append (body, ngettext ("The device loses:", "Each device loses:", n));
      else
        /* Translators: %s is a method, such as "Autopilot Reset". */
        g_string_append_printf (body, _("Each device run with %s loses:"), rd_method_get_title (m));
      g_string_append_c (body, '\n');
      lost = rd_method_dup_lost (m);
      for (guint i = 0; lost[i] != NULL; i++)
        g_string_append_printf (body, "\n• %s", lost[i]);
    }
  g_string_append (body, "\n\n");
  g_string_append (body, ngettext ("This cannot be undone.",
                                   "The devices are sent one after the other. This cannot be "
                                   "undone.",
                                   n));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body->str);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), new_plan_list (plans));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "run", confirm_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "run",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_object_set_data_full (G_OBJECT (dialog), "rd-plans", g_steal_pointer (&plans),
                          (GDestroyNotify) g_ptr_array_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_run_ready_dialog_response_cb), self,
                           0);

  g_set_weak_pointer (&self->run_dialog, ADW_MESSAGE_DIALOG (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

static const GActionEntry win_actions[] = {
  { "run-plan", on_run_plan_activated_cb, "s" },
  { "run-ready", run_ready_action, "s" },
};

/* Notices */

static void
update_stale_notice (RdWindow *self)
{
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *age = NULL;
  g_autofree char *lower = NULL;
  g_autofree char *text = NULL;

  if (self->sync == NULL || !rd_tenant_sync_get_stale (self->sync))
    {
      gtk_revealer_set_reveal_child (self->stale_revealer, FALSE);
      return;
    }

  now = g_date_time_new_now_utc ();
  age = rd_ui_format_age (rd_tenant_sync_get_synced_at (self->sync), now);
  /* The age starts with a capital for the cards ("Yesterday"); inside a
   * sentence it reads in lower case. */
  lower = g_utf8_strdown (age, -1);
  if (self->sync_cancellable != NULL)
    /* Translators: the placeholder is an age such as "3 hours ago". */
    text = g_strdup_printf (_("Showing the devices as synced %s. Refreshing…"), lower);
  else
    /* Translators: the placeholder is an age such as "3 hours ago". */
    text = g_strdup_printf (_("Showing the devices as synced %s; they may be out of date."),
                            lower);

  gtk_label_set_label (self->stale_label, text);
  gtk_revealer_set_reveal_child (self->stale_revealer, TRUE);
}

static void
show_notes (RdWindow *self)
{
  const char *const *notes = self->sync != NULL ? rd_tenant_sync_get_notes (self->sync) : NULL;
  g_autofree char *text = NULL;

  if (notes == NULL || notes[0] == NULL)
    {
      gtk_revealer_set_reveal_child (self->notes_revealer, FALSE);
      return;
    }

  text = g_strjoinv ("\n", (char **) notes);
  gtk_label_set_label (self->notes_label, text);
  gtk_revealer_set_reveal_child (self->notes_revealer, TRUE);
}

static void
dismiss_notes_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);

  gtk_revealer_set_reveal_child (self->notes_revealer, FALSE);
}

static void ensure_usb_keys_view (RdWindow *self);

/* A reimage plan's way to the USB keys view: win.prepare-usb-key with the
 * device id. */
static void
prepare_usb_key_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);
  RdDevice *device = self->board != NULL
    ? rd_board_lookup_device (self->board, g_variant_get_string (parameter, NULL)) : NULL;
  RdPlan *plan = device != NULL ? rd_board_get_plan (self->board, device) : NULL;

  if (plan == NULL)
    return;

  ensure_usb_keys_view (self);
  rd_usb_keys_view_prepare_for_plan (self->usb_keys_view, plan);
  adw_view_stack_set_visible_child_name (self->view_stack, "usb-keys");
}

static void
copy_text_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), g_variant_get_string (parameter, NULL));
}

/* A failure from Graph, with its request-id to copy for a support case. */
static void
show_graph_error (RdWindow     *self,
                  const char   *message,
                  const GError *error)
{
  const char *request_id = NULL;
  g_autofree char *title = NULL;
  AdwToast *toast;

  if (error->domain == RD_GRAPH_ERROR)
    request_id = rd_graph_error_get_request_id (error);

  if (request_id == NULL)
    {
      show_error (self, message);
      return;
    }

  /* Translators: an error message, then the request-id Microsoft support asks for. */
  title = g_markup_printf_escaped (_("%s (request ID %s)"), message, request_id);
  toast = adw_toast_new (title);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_set_timeout (toast, 0);
  adw_toast_set_button_label (toast, _("_Copy Request ID"));
  adw_toast_set_action_name (toast, "win.copy-text");
  adw_toast_set_action_target_value (toast, g_variant_new_string (request_id));
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
show_info (RdWindow   *self,
           const char *message)
{
  g_autofree char *title = g_markup_escape_text (message, -1);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (title));
}

/* Sync */

static void
update_refresh_button (RdWindow *self)
{
  gboolean busy = self->sync_cancellable != NULL;
  g_autofree char *tooltip = NULL;

  gtk_stack_set_visible_child_name (self->refresh_stack, busy ? "busy" : "idle");
  gtk_spinner_set_spinning (self->refresh_spinner, busy);

  if (!busy)
    tooltip = g_strdup (_("Refresh"));
  else if (self->sync != NULL && rd_tenant_sync_get_phase (self->sync) == RD_SYNC_PHASE_JOINING)
    tooltip = g_strdup (_("Putting the inventory together… Click to stop."));
  else
    {
      guint n = self->sync != NULL ? rd_tenant_sync_get_devices_loaded (self->sync) : 0;

      tooltip = g_strdup_printf (ngettext ("Loading devices: %u loaded… Click to stop.",
                                           "Loading devices: %u loaded… Click to stop.", n),
                                 n);
    }

  gtk_widget_set_tooltip_text (GTK_WIDGET (self->refresh_button), tooltip);
}

static void
set_sync (RdWindow     *self,
          RdTenantSync *sync)
{
  if (self->sync == sync)
    return;

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_set_object (&self->sync, sync);
  if (sync != NULL)
    {
      g_signal_connect_object (sync, "notify::phase", G_CALLBACK (update_refresh_button), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (sync, "notify::devices-loaded",
                               G_CALLBACK (update_refresh_button), self, G_CONNECT_SWAPPED);
    }
}

static void check_interrupted_plans (RdWindow *self);

/* The board has the devices, unless a newer inventory replaced them. */
static void
on_devices_handed_off_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(RdWindow) self = user_data;

  if (rd_board_set_devices_finish (RD_BOARD (source), result, NULL))
    check_interrupted_plans (self);
}

/* Hands @devices to the board over several main-loop iterations: with
 * 100,000 devices, at once would hold the window for a quarter second.
 * @io_priority above GDK_PRIORITY_REDRAW has them in the next frame. */
static void
hand_off_devices (RdWindow  *self,
                  GPtrArray *devices,
                  int        io_priority)
{
  rd_board_set_devices_async (self->board, devices, io_priority, self->cancellable,
                              on_devices_handed_off_cb, g_object_ref (self));
}

static void
on_sync_run_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(RdWindow) self = user_data;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;

  devices = rd_tenant_sync_run_finish (RD_TENANT_SYNC (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->sync_cancellable);
  update_refresh_button (self);

  /* The saved sign-in was revoked or has expired, and is forgotten: the
   * window starts over, at the sign-in page, saying why. */
  if (g_error_matches (error, RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED) ||
      g_error_matches (error, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN))
    {
      g_free (self->sign_in_reason);
      self->sign_in_reason = g_strdup (error->message);
      rd_window_open_session (self, NULL);
      return;
    }

  if (devices == NULL)
    {
      g_autofree char *message = NULL;

      /* Translators: the placeholder says why, and what to do. */
      message = g_strdup_printf (_("The devices could not be loaded: %s"), error->message);
      show_graph_error (self, message, error);
      update_stale_notice (self);
      return;
    }

  /* A frame between steps: the window shows the board it has meanwhile. */
  if (self->board != NULL)
    hand_off_devices (self, devices, G_PRIORITY_DEFAULT_IDLE);
  else
    check_interrupted_plans (self);
  update_stale_notice (self);
  show_notes (self);
}

static void
start_refresh (RdWindow *self)
{
  RdTenantSync *sync;

  if (self->session == NULL || !rd_session_get_connected (self->session))
    return;

  sync = rd_session_get_sync (self->session);
  set_sync (self, sync);
  self->sync_cancellable = g_cancellable_new ();
  update_refresh_button (self);
  update_stale_notice (self);

  rd_tenant_sync_run_async (sync, self->sync_cancellable, on_sync_run_cb, g_object_ref (self));
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);

  /* A second click stops the refresh under way. */
  if (self->sync_cancellable != NULL)
    {
      g_cancellable_cancel (self->sync_cancellable);
      g_clear_object (&self->sync_cancellable);
      update_refresh_button (self);
      update_stale_notice (self);
      return;
    }

  start_refresh (self);
}

static void
on_load_cache_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(RdWindow) self = user_data;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(RdBoardListing) listing = NULL;
  g_autoptr(GError) error = NULL;

  devices = rd_tenant_sync_load_cache_finish (RD_TENANT_SYNC (source), result, NULL, &listing,
                                              &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* The window opens on the cached devices: a board without devices takes
   * them at once, as the reading thread filed them; else they are handed
   * over in steps, whose priority is above redrawing. */
  if (devices != NULL && self->board != NULL && listing != NULL &&
      rd_board_take_listing (self->board, listing))
    check_interrupted_plans (self);
  else if (devices != NULL && self->board != NULL)
    hand_off_devices (self, devices, G_PRIORITY_HIGH_IDLE + 10);
  else if (error != NULL)
    g_debug ("No usable inventory cache: %s", error->message);

  start_refresh (self);
}

/* Plans interrupted while sending */

static void ask_next_interrupted (RdWindow *self);
static void follow_plan (RdWindow *self,
                         RdPlan   *plan,
                         gboolean  quiet);

static void
on_interrupted_dialog_response_cb (AdwMessageDialog *dialog,
                                   const char       *response,
                                   RdWindow         *self)
{
  RdPlan *plan = g_object_get_data (G_OBJECT (dialog), "rd-plan");
  RdDeviceActions *actions = self->session != NULL ? rd_session_get_actions (self->session) : NULL;
  g_autoptr(GError) error = NULL;
  gboolean was_sent;

  if (actions == NULL)
    return;

  if (g_strcmp0 (response, "sent") == 0)
    was_sent = TRUE;
  else if (g_strcmp0 (response, "not-sent") == 0)
    was_sent = FALSE;
  else
    {
      /* Asked again at the next start; the plan stays "sending", and Run
       * stays off for it. */
      ask_next_interrupted (self);
      return;
    }

  if (!rd_device_actions_resolve_interrupted (actions, plan, was_sent, &error))
    show_error (self, error->message);
  else if (was_sent)
    follow_plan (self, plan, FALSE);

  ask_next_interrupted (self);
}

static void
ask_next_interrupted (RdWindow *self)
{
  g_autoptr(RdPlan) plan = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (self->interrupted_dialog != NULL)
    return;

  plan = g_queue_pop_head (&self->interrupted);
  if (plan == NULL)
    return;

  heading = g_strdup_printf (_("Did the Wipe of %s Reach Intune?"), rd_plan_get_device_name (plan));
  body = g_strdup_printf (_("Recovery Desk was interrupted while it sent the wipe of %s, so it "
                            "cannot tell whether Intune received it. It will not send it again "
                            "by itself.\n\nOpen the device in the Intune admin center "
                            "(Devices › Windows) and look at its device actions, then say "
                            "what you found."),
                          rd_plan_get_device_name (plan));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "later", _("Ask _Later"),
                                    "not-sent", _("It Was _Not Sent"),
                                    "sent", _("It Was _Sent"),
                                    NULL);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "later");
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "later");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_object_set_data_full (G_OBJECT (dialog), "rd-plan", g_object_ref (plan), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_interrupted_dialog_response_cb),
                           self, 0);

  g_set_weak_pointer (&self->interrupted_dialog, ADW_MESSAGE_DIALOG (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
ask_about_plan (RdWindow *self,
                RdPlan   *plan)
{
  if (g_queue_find (&self->interrupted, plan) == NULL)
    g_queue_push_tail (&self->interrupted, g_object_ref (plan));
  ask_next_interrupted (self);
}

/* Once per session, when the board first has its devices. */
static void
check_interrupted_plans (RdWindow *self)
{
  RdDeviceActions *actions;
  g_autoptr(GPtrArray) plans = NULL;

  if (self->checked_interrupted || self->session == NULL)
    return;
  actions = rd_session_get_actions (self->session);
  if (actions == NULL)
    return;

  self->checked_interrupted = TRUE;
  plans = rd_device_actions_find_interrupted (actions);
  for (guint i = 0; i < plans->len; i++)
    ask_about_plan (self, plans->pdata[i]);
}

/* Running a plan, for real */

static void
on_follow_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(RdWindow) self = g_object_get_data (G_OBJECT (user_data), "rd-window");
  g_autoptr(RdPlan) plan = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  gboolean quiet = GPOINTER_TO_INT (g_object_steal_data (G_OBJECT (plan), "rd-quiet"));

  g_object_steal_data (G_OBJECT (plan), "rd-window");

  if (!rd_device_actions_follow_finish (RD_DEVICE_ACTIONS (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: a device name, then why the wipe failed. */
      message = g_strdup_printf (_("The wipe of %s failed: %s"), rd_plan_get_device_name (plan),
                                 error->message);
      show_graph_error (self, message, error);
      return;
    }

  /* A lane's run has had its toast; its card says when each is done. */
  if (!quiet)
    {
      message = g_strdup_printf (_("%s was wiped"), rd_plan_get_device_name (plan));
      show_info (self, message);
    }
  reload_activity (self);
}

static void
follow_plan (RdWindow *self,
             RdPlan   *plan,
             gboolean  quiet)
{
  RdDeviceActions *actions = rd_session_get_actions (self->session);

  g_object_set_data (G_OBJECT (plan), "rd-quiet", GINT_TO_POINTER (quiet));

  /* The window rides along on the plan, so that the callback can tell
   * whether it is still there without a closure struct. */
  g_object_set_data_full (G_OBJECT (plan), "rd-window", g_object_ref (self), g_object_unref);
  rd_device_actions_follow_async (actions, plan, self->cancellable, on_follow_cb,
                                  g_object_ref (plan));
}

static void
on_run_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(RdWindow) self = g_object_get_data (G_OBJECT (user_data), "rd-window");
  g_autoptr(RdPlan) plan = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  LaneRun *run;

  g_object_steal_data (G_OBJECT (plan), "rd-window");
  run = self->lane_run != NULL && self->lane_run->current == plan ? self->lane_run : NULL;

  if (!rd_device_actions_run_finish (RD_DEVICE_ACTIONS (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      if (g_error_matches (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN))
        {
          ask_about_plan (self, plan);
          if (run != NULL)
            {
              run->n_unknown++;
              run->current = NULL;
              run_next_in_lane (self);
            }
          return;
        }

      /* In a lane's run the card shows the error; the run's toast leads to it. */
      if (run != NULL)
        {
          g_ptr_array_add (run->failed, g_object_ref (plan));
          reload_activity (self);
          run->current = NULL;
          run_next_in_lane (self);
          return;
        }

      message = g_strdup_printf (_("The wipe of %s was not sent: %s"),
                                 rd_plan_get_device_name (plan), error->message);
      show_graph_error (self, message, error);
      reload_activity (self);
      return;
    }

  if (run == NULL)
    {
      message = g_strdup_printf (_("Wipe of %s sent to Intune"), rd_plan_get_device_name (plan));
      show_info (self, message);
    }
  reload_activity (self);
  follow_plan (self, plan, run != NULL);

  if (run != NULL)
    {
      run->n_sent++;
      run->current = NULL;
      run_next_in_lane (self);
    }
}

/* One toast for a lane's run: how many were sent, how many failed, and a
 * way to the first failure. */
static void
finish_lane_run (RdWindow *self)
{
  LaneRun *run = g_steal_pointer (&self->lane_run);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  g_autofree char *title = NULL;
  AdwToast *toast;

  if (run->n_sent + run->failed->len + run->n_unknown == 0)
    {
      lane_run_free (run);
      return;
    }

  g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u wipe sent", "%u wipes sent", run->n_sent),
                                           run->n_sent));
  if (run->failed->len > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u failed", "%u failed", run->failed->len),
                                             run->failed->len));
  if (run->n_unknown > 0)
    /* Translators: requests whose answer never came; the admin is asked about each. */
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u to check", "%u to check",
                                                       run->n_unknown),
                                             run->n_unknown));
  g_ptr_array_add (parts, NULL);
  /* Translators: the separator between the parts of "3 wipes sent, 1 failed". */
  text = g_strjoinv (_(", "), (char **) parts->pdata);
  title = g_markup_escape_text (text, -1);

  toast = adw_toast_new (title);
  if (run->failed->len > 0)
    {
      RdPlan *first = g_ptr_array_index (run->failed, 0);

      adw_toast_set_button_label (toast, _("_Details"));
      adw_toast_set_action_name (toast, "win.show-device");
      adw_toast_set_action_target_value (toast,
                                         g_variant_new_string (rd_plan_get_device_id (first)));
      adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
      adw_toast_set_timeout (toast, 0);
    }
  adw_toast_overlay_add_toast (self->toast_overlay, toast);

  lane_run_free (run);
}

/* Sends the lane's next plan, through ::run-plan-confirmed as a single Run
 * does; the next goes once this one has its answer (on_run_cb()). */
static void
run_next_in_lane (RdWindow *self)
{
  LaneRun *run = self->lane_run;

  while (run->next < run->plans->len)
    {
      RdPlan *plan = g_ptr_array_index (run->plans, run->next++);
      RdDevice *device = rd_plan_get_device (plan);
      g_autofree char *reason = NULL;

      /* The board may have changed since the dialog opened: a plan sent
       * some other way meanwhile is left alone, one that changed is not
       * sent. */
      if (!plan_can_run (self, plan, &reason))
        {
          gboolean sent_elsewhere = !rd_plan_is_editable (plan) && device != NULL &&
                                    rd_board_get_plan (self->board, device) == plan;

          if (!sent_elsewhere)
            g_ptr_array_add (run->failed, g_object_ref (plan));
          continue;
        }

      run->current = plan;
      run->started = FALSE;
      g_signal_emit (self, signals[SIGNAL_RUN_PLAN_CONFIRMED], 0, plan);
      if (run->started)
        return;
      run->current = NULL;

      /* Connected, but nothing could be sent: the handler said why, once. */
      if (self->session != NULL)
        {
          for (guint i = run->next - 1; i < run->plans->len; i++)
            g_ptr_array_add (run->failed, g_object_ref (g_ptr_array_index (run->plans, i)));
          run->next = run->plans->len;
        }
    }

  finish_lane_run (self);
}

static void
on_self_run_plan_confirmed_cb (RdWindow *self,
                               RdPlan   *plan)
{
  RdDeviceActions *actions;

  /* A window without a session (a test's board) sends nothing. */
  if (self->session == NULL)
    return;

  actions = rd_session_get_actions (self->session);
  if (actions == NULL)
    {
      show_error (self, _("Nothing was sent: Recovery Desk is not connected to Microsoft Graph. "
                          "Sign in, then run the plan again."));
      return;
    }

  /* run_async saves the plan as "sending" before it returns: Run is off
   * for it from here on. */
  if (self->lane_run != NULL && self->lane_run->current == plan)
    self->lane_run->started = TRUE;
  g_object_set_data_full (G_OBJECT (plan), "rd-window", g_object_ref (self), g_object_unref);
  rd_device_actions_run_async (actions, plan, self->cancellable, on_run_cb, g_object_ref (plan));
}

/* Sessions */

static void
update_account (RdWindow *self)
{
  gboolean connected = self->session != NULL && rd_session_get_connected (self->session);
  const char *name = connected ? rd_session_get_display_name (self->session) : NULL;
  const char *user = connected ? rd_session_get_username (self->session) : NULL;
  g_autofree char *tenant = NULL;

  if (connected && rd_session_get_demo (self->session) != NULL)
    tenant = g_strdup (_("Demo tenant"));
  else if (connected)
    /* Translators: the placeholder is a tenant ID. */
    tenant = g_strdup_printf (_("Tenant %s"), rd_session_get_tenant_id (self->session));

  gtk_label_set_label (self->account_name_label, name != NULL ? name : user);
  gtk_label_set_label (self->account_user_label, user);
  gtk_widget_set_visible (GTK_WIDGET (self->account_user_label), user != NULL && name != NULL);
  gtk_label_set_label (self->account_tenant_label, tenant);
  gtk_widget_set_visible (self->account_box, connected);

  adw_avatar_set_text (self->avatar, name != NULL ? name : user);
  gtk_stack_set_visible_child_name (self->account_icon_stack, connected ? "avatar" : "menu");
  adw_view_switcher_title_set_subtitle (self->switcher_title, tenant);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out",
                                 connected && rd_session_get_demo (self->session) == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.refresh", connected);
}

static void on_sign_in_page_signed_in_cb (RdSignInPage *page,
                                          RdWindow     *self);
static void on_sign_in_page_explore_demo_cb (RdSignInPage *page,
                                             RdWindow     *self);

/* The sign-in page is built when it first shows: a start with a saved
 * sign-in or a token never needs it. */
static void
ensure_sign_in_page (RdWindow *self)
{
  if (self->sign_in_page != NULL)
    return;

  self->sign_in_page = g_object_new (RD_TYPE_SIGN_IN_PAGE, NULL);
  g_signal_connect_object (self->sign_in_page, "signed-in",
                           G_CALLBACK (on_sign_in_page_signed_in_cb), self, 0);
  g_signal_connect_object (self->sign_in_page, "explore-demo",
                           G_CALLBACK (on_sign_in_page_explore_demo_cb), self, 0);
  adw_bin_set_child (self->sign_in_bin, GTK_WIDGET (self->sign_in_page));
}

static void
show_sign_in (RdWindow   *self,
              const char *error_message)
{
  g_autoptr(GError) error = NULL;
  RdEntraAuth *auth = rd_session_get_auth (self->session, &error);

  ensure_sign_in_page (self);
  gtk_spinner_stop (self->loading_spinner);
  rd_sign_in_page_set_auth (self->sign_in_page, auth);
  rd_sign_in_page_reset (self->sign_in_page);
  rd_sign_in_page_show_error (self->sign_in_page,
                              error != NULL ? error->message : error_message);
  gtk_stack_set_visible_child_name (self->main_stack, "sign-in");
  update_account (self);
}

/* The session is connected: show its board, the cache first. */
static void
open_tenant (RdWindow *self)
{
  g_autoptr(GError) error = NULL;
  RdBoard *board = rd_session_open_board (self->session, &error);
  RdTenantSync *sync = rd_session_get_sync (self->session);

  if (error != NULL)
    show_error (self, error->message);

  gtk_spinner_stop (self->loading_spinner);
  rd_window_set_board (self, board);
  g_set_object (&self->audit_log, rd_session_get_audit_log (self->session));
  if (self->activity_view != NULL)
    rd_activity_view_set_audit_log (self->activity_view, self->audit_log);
  rd_plan_pane_set_session (self->plan_pane, self->session);
  set_sync (self, sync);
  update_account (self);
  gtk_stack_set_visible_child_name (self->main_stack, "content");

  rd_tenant_sync_load_cache_async (sync, self->cancellable, on_load_cache_cb, g_object_ref (self));
}

static void
connect_with_auth (RdWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (!rd_session_connect_with_auth (self->session, &error))
    {
      show_sign_in (self, error->message);
      return;
    }

  open_tenant (self);
}

static void
on_restore_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(RdWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!rd_entra_auth_restore_finish (RD_ENTRA_AUTH (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      show_sign_in (self, error->message);
      return;
    }

  connect_with_auth (self);
}

/* The saved sign-in, read from the keyring without the network: the
 * tenant's board opens at once with its cached inventory, and the refresh
 * that follows gets the first access token. Offline, the cached inventory
 * stays, marked stale, with the error. A sign-in saved by an earlier
 * version does not say its tenant: that one is refreshed first. */
static void
on_load_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(RdWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  RdEntraAuth *auth = RD_ENTRA_AUTH (source);

  if (!rd_entra_auth_load_finish (auth, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* No saved sign-in is the first run, not an error, or the end of one
       * that was revoked. */
      if (g_error_matches (error, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN))
        {
          g_autofree char *reason = g_steal_pointer (&self->sign_in_reason);

          show_sign_in (self, reason);
        }
      else
        show_sign_in (self, error->message);
      return;
    }

  if (rd_entra_auth_get_tenant_id (auth) == NULL)
    {
      rd_entra_auth_restore_async (auth, self->cancellable, on_restore_cb, g_object_ref (self));
      return;
    }

  connect_with_auth (self);
}

static RdSession *
new_session_from_settings (RdWindow  *self,
                           GError   **error)
{
  g_autofree char *cloud = g_settings_get_string (self->settings, "cloud");
  g_autofree char *graph_endpoint = g_settings_get_string (self->settings, "graph-endpoint");
  g_autofree char *login_endpoint = g_settings_get_string (self->settings, "login-endpoint");
  g_autofree char *tenant = g_settings_get_string (self->settings, "tenant");
  g_autofree char *client_id = g_settings_get_string (self->settings, "client-id");

  return rd_session_new (cloud, graph_endpoint, login_endpoint, tenant, client_id, error);
}

static void
close_session (RdWindow *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->sync_cancellable != NULL)
    g_cancellable_cancel (self->sync_cancellable);
  g_clear_object (&self->sync_cancellable);
  g_clear_pointer (&self->lane_run, lane_run_free);
  g_queue_clear_full (&self->interrupted, g_object_unref);
  if (self->interrupted_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->interrupted_dialog));
  self->checked_interrupted = FALSE;
  if (self->sync != NULL && self->application != NULL)
    rd_application_flush_cache (self->application, self->sync);
  set_sync (self, NULL);
  g_clear_object (&self->session);
}

static void
sign_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);
  RdEntraAuth *auth;

  if (self->session == NULL || (auth = rd_session_get_auth (self->session, NULL)) == NULL)
    return;

  /* Forgetting the tokens needs no answer: the window moves on at once. */
  rd_entra_auth_sign_out_async (auth, NULL, NULL, NULL);
  rd_window_open_session (self, NULL);
}

/* Callbacks */

static void
on_sign_in_page_signed_in_cb (RdSignInPage *page,
                              RdWindow     *self)
{
  connect_with_auth (self);
}

static void
on_sign_in_page_explore_demo_cb (RdSignInPage *page,
                                 RdWindow     *self)
{
  g_autoptr(RdSession) session = NULL;
  g_autoptr(GError) error = NULL;

  session = rd_session_new_demo (0, NULL, &error);
  if (session == NULL)
    {
      /* Translators: the placeholder says why. */
      g_autofree char *message = g_strdup_printf (_("The demo tenant could not start: %s"),
                                                  error->message);

      rd_sign_in_page_show_error (page, message);
      return;
    }

  rd_window_open_session (self, session);
}

static void
on_view_stack_notify_visible_child_cb (AdwViewStack *stack,
                                       GParamSpec   *pspec,
                                       RdWindow     *self)
{
  const char *name = adw_view_stack_get_visible_child_name (stack);

  gtk_widget_set_visible (GTK_WIDGET (self->search_entry), g_strcmp0 (name, "board") == 0);
  if (g_strcmp0 (name, "activity") == 0)
    reload_activity (self);
}

static void
on_search_entry_search_changed_cb (GtkSearchEntry *entry,
                                   RdWindow       *self)
{
  rd_lane_view_set_search (self->inventory_lane, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
on_search_entry_stop_search_cb (GtkSearchEntry *entry,
                                RdWindow       *self)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
on_lane_notify_selected_device_cb (RdLaneView *lane,
                                   GParamSpec *pspec,
                                   RdWindow   *self)
{
  RdLaneView *lanes[] = { self->inventory_lane, self->break_fix_lane, self->reuse_lane };
  RdDevice *device = rd_lane_view_get_selected_device (lane);

  if (device == NULL)
    {
      if (lane == self->pane_lane)
        rd_plan_pane_set_device (self->plan_pane, NULL);
      return;
    }

  /* One card is selected on the whole board at a time. */
  for (guint i = 0; i < G_N_ELEMENTS (lanes); i++)
    if (lanes[i] != lane)
      rd_lane_view_unselect_all (lanes[i]);

  if (rd_lane_view_get_lane (lane) == RD_LANE_INVENTORY)
    {
      rd_plan_pane_set_device (self->plan_pane, NULL);
      return;
    }

  self->pane_lane = lane;
  rd_plan_pane_set_device (self->plan_pane, device);
  adw_flap_set_reveal_flap (self->flap, TRUE);
}

static void
on_plan_pane_notify_device_cb (RdPlanPane *pane,
                               GParamSpec *pspec,
                               RdWindow   *self)
{
  RdLaneView *lane = self->pane_lane;

  if (rd_plan_pane_get_device (pane) != NULL)
    return;

  self->pane_lane = NULL;
  adw_flap_set_reveal_flap (self->flap, FALSE);
  if (lane != NULL)
    rd_lane_view_unselect_all (lane);
}

static void
on_plan_pane_failed_cb (RdPlanPane *pane,
                        const char *message,
                        RdWindow   *self)
{
  show_error (self, message);
}

static gboolean
focus_search_cb (GtkWidget *widget,
                 GVariant  *args,
                 gpointer   user_data)
{
  RdWindow *self = RD_WINDOW (widget);

  return gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

/* Views */

/* Shows @device's card on the board, selected: in a plan lane, its plan
 * opens in the pane. */
static void
show_device (RdWindow *self,
             RdDevice *device)
{
  RdLaneView *lanes[] = { self->inventory_lane, self->break_fix_lane, self->reuse_lane };
  RdLane lane;
  GListModel *model;
  guint n;

  if (self->board == NULL)
    return;

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  rd_lane_view_set_search (self->inventory_lane, "");
  adw_view_stack_set_visible_child_name (self->view_stack, "board");

  lane = rd_board_get_device_lane (self->board, device);
  if ((guint) lane >= G_N_ELEMENTS (lanes))
    return;

  model = G_LIST_MODEL (rd_lane_view_get_selection (lanes[lane]));
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdDevice) item = g_list_model_get_item (model, i);

      if (item == device)
        {
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (model), i, TRUE);
          break;
        }
    }
}

/* For the BitLocker view's rows. */
static void
on_bitlocker_view_show_device_cb (RdBitlockerView *view,
                                  RdDevice        *device,
                                  RdWindow        *self)
{
  show_device (self, device);
}

/* For the toasts' "Details" and "Show Plan": win.show-device with the
 * device id. */
static void
show_device_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  RdWindow *self = RD_WINDOW (widget);
  RdDevice *device = self->board != NULL
    ? rd_board_lookup_device (self->board, g_variant_get_string (parameter, NULL)) : NULL;

  if (device != NULL)
    show_device (self, device);
}

static void
on_usb_keys_view_key_recorded_cb (RdUsbKeysView *view,
                                  RdPlan        *plan,
                                  RdWindow      *self)
{
  g_autofree char *title = NULL;
  AdwToast *toast;

  /* Translators: %s is a device name. */
  title = g_markup_printf_escaped (_("USB key for %s recorded in its plan"),
                                   rd_plan_get_device_name (plan));
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Show Plan"));
  adw_toast_set_action_name (toast, "win.show-device");
  adw_toast_set_action_target_value (toast, g_variant_new_string (rd_plan_get_device_id (plan)));
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* The USB keys view, with its drive monitor, and its template of forms and
 * lists: built when its page first shows or a plan is prepared in it. */
static void
ensure_usb_keys_view (RdWindow *self)
{
  if (self->usb_keys_view != NULL)
    return;

  self->usb_keys_view = RD_USB_KEYS_VIEW (rd_usb_keys_view_new ());
  g_signal_connect_object (self->usb_keys_view, "key-recorded",
                           G_CALLBACK (on_usb_keys_view_key_recorded_cb), self, 0);
  rd_usb_keys_view_set_board (self->usb_keys_view, self->board);
  adw_bin_set_child (self->usb_keys_page, GTK_WIDGET (self->usb_keys_view));
}

/* The BitLocker, USB keys and Activity views are built when their page
 * first shows: a start that opens on the board builds none of them, sorts
 * no devices for a view no one looks at, and watches no drives. */
static void
ensure_views (RdWindow *self)
{
  GtkWidget *visible = adw_view_stack_get_visible_child (self->view_stack);

  if (visible == GTK_WIDGET (self->bitlocker_page) && self->bitlocker_view == NULL)
    {
      self->bitlocker_view = RD_BITLOCKER_VIEW (rd_bitlocker_view_new ());
      g_signal_connect_object (self->bitlocker_view, "show-device",
                               G_CALLBACK (on_bitlocker_view_show_device_cb), self, 0);
      rd_bitlocker_view_set_board (self->bitlocker_view, self->board);
      adw_bin_set_child (self->bitlocker_page, GTK_WIDGET (self->bitlocker_view));
    }
  else if (visible == GTK_WIDGET (self->usb_keys_page))
    ensure_usb_keys_view (self);
  else if (visible == GTK_WIDGET (self->activity_page) && self->activity_view == NULL)
    {
      self->activity_view = RD_ACTIVITY_VIEW (rd_activity_view_new ());
      if (self->audit_log != NULL)
        rd_activity_view_set_audit_log (self->activity_view, self->audit_log);
      adw_bin_set_child (self->activity_page, GTK_WIDGET (self->activity_view));
    }
}

/* The views other than the board, each in its own widget. */
static void
add_views (RdWindow *self)
{
  AdwViewStackPage *page;

  self->bitlocker_page = ADW_BIN (adw_bin_new ());
  page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (self->bitlocker_page),
                                    "bitlocker", _("BitLocker"));
  adw_view_stack_page_set_icon_name (page, "channel-secure-symbolic");

  self->usb_keys_page = ADW_BIN (adw_bin_new ());
  page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (self->usb_keys_page),
                                    "usb-keys", _("USB Keys"));
  adw_view_stack_page_set_icon_name (page, "drive-removable-media-symbolic");

  self->activity_page = ADW_BIN (adw_bin_new ());
  page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (self->activity_page),
                                    "activity", _("Activity"));
  adw_view_stack_page_set_icon_name (page, "document-open-recent-symbolic");

  g_signal_connect_object (self->view_stack, "notify::visible-child", G_CALLBACK (ensure_views),
                           self, G_CONNECT_SWAPPED);
}

static void
restore_last_view (RdWindow *self)
{
  g_autofree char *last_view = g_settings_get_string (self->settings, "last-view");

  if (adw_view_stack_get_child_by_name (self->view_stack, last_view) != NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, last_view);
}

/* GObject overrides */

static gboolean
rd_window_close_request (GtkWindow *window)
{
  save_window_state (RD_WINDOW (window));

  return GTK_WINDOW_CLASS (rd_window_parent_class)->close_request (window);
}

/* gtk_window_destroy() unrealizes the window but does not dispose it while
 * a callback still holds it: the session's work stops here, so that those
 * callbacks return and let it go. */
static void
rd_window_unrealize (GtkWidget *widget)
{
  close_session (RD_WINDOW (widget));

  GTK_WIDGET_CLASS (rd_window_parent_class)->unrealize (widget);
}

static void
rd_window_dispose (GObject *object)
{
  RdWindow *self = (RdWindow *) object;

  close_session (self);
  g_clear_weak_pointer (&self->application);
  g_clear_weak_pointer (&self->move_toast);
  g_clear_weak_pointer (&self->run_dialog);
  g_clear_weak_pointer (&self->interrupted_dialog);
  self->pane_lane = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->board);
  g_clear_object (&self->audit_log);
  g_clear_pointer (&self->sign_in_reason, g_free);

  G_OBJECT_CLASS (rd_window_parent_class)->dispose (object);
}

static void
rd_window_class_init (RdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = rd_window_dispose;
  window_class->close_request = rd_window_close_request;
  widget_class->unrealize = rd_window_unrealize;

  /**
   * RdWindow::run-plan-confirmed:
   * @plan: the plan the admin confirmed
   *
   * Emitted once per confirmation, after the admin accepted the
   * destructive dialog and the plan was checked again; for a lane's "Run
   * all ready", once for each of its plans in turn, the next after the
   * answer to the one before. A handler sends the action; it moves the
   * plan to "sending" (rd_board_transition_plan()) before returning, which
   * disables Run for that plan.
   */
  signals[SIGNAL_RUN_PLAN_CONFIRMED] =
    g_signal_new ("run-plan-confirmed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, RD_TYPE_PLAN);

  gtk_widget_class_install_action (widget_class, "board.move-devices", "(ass)",
                                   move_devices_action);
  gtk_widget_class_install_action (widget_class, "board.undo-move", "a(sss)", undo_move_action);
  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_out_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-notes", NULL, dismiss_notes_action);
  gtk_widget_class_install_action (widget_class, "win.copy-text", "s", copy_text_action);
  gtk_widget_class_install_action (widget_class, "win.prepare-usb-key", "s",
                                   prepare_usb_key_action);
  gtk_widget_class_install_action (widget_class, "win.show-device", "s", show_device_action);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, focus_search_cb, NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.refresh",
                                       NULL);

  g_type_ensure (RD_TYPE_LANE_VIEW);
  g_type_ensure (RD_TYPE_PLAN_PANE);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RdWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, inventory_lane);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, break_fix_lane);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, reuse_lane);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, plan_pane);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, refresh_stack);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, refresh_spinner);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, account_button);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, account_icon_stack);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, avatar);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, account_box);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, account_name_label);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, account_user_label);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, account_tenant_label);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, stale_revealer);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, stale_label);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, notes_revealer);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, notes_label);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, loading_page);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, sign_in_bin);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, view_stack);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_lane_notify_selected_device_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_plan_pane_notify_device_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_plan_pane_failed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_view_stack_notify_visible_child_cb);
}

static void
rd_window_init (RdWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions),
                                   self);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));

  self->settings = g_settings_new (SCHEMA_ID);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  add_views (self);
  restore_last_view (self);

  gtk_popover_menu_add_child (GTK_POPOVER_MENU (gtk_menu_button_get_popover (self->account_button)),
                              self->account_box, "account");
  g_signal_connect (self, "run-plan-confirmed", G_CALLBACK (on_self_run_plan_confirmed_cb), NULL);
  update_account (self);
  update_refresh_button (self);
}

RdWindow *
rd_window_new (RdApplication *application)
{
  RdWindow *self;

  g_return_val_if_fail (RD_IS_APPLICATION (application), NULL);

  self = g_object_new (RD_TYPE_WINDOW, "application", application, NULL);
  g_set_weak_pointer (&self->application, application);
  rd_window_set_board (self, rd_application_get_board (application));

  return self;
}

/**
 * rd_window_set_board:
 * @board: (nullable): the board to show, such as another tenant's
 */
void
rd_window_set_board (RdWindow *self,
                     RdBoard  *board)
{
  g_return_if_fail (RD_IS_WINDOW (self));
  g_return_if_fail (board == NULL || RD_IS_BOARD (board));

  if (!g_set_object (&self->board, board))
    return;

  rd_plan_pane_set_device (self->plan_pane, NULL);
  if (self->run_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->run_dialog));
  if (self->move_toast != NULL)
    adw_toast_dismiss (self->move_toast);

  rd_lane_view_set_board (self->inventory_lane, board);
  rd_lane_view_set_board (self->break_fix_lane, board);
  rd_lane_view_set_board (self->reuse_lane, board);
  rd_plan_pane_set_board (self->plan_pane, board);
  if (self->bitlocker_view != NULL)
    rd_bitlocker_view_set_board (self->bitlocker_view, board);
  if (self->usb_keys_view != NULL)
    rd_usb_keys_view_set_board (self->usb_keys_view, board);
}

RdBoard *
rd_window_get_board (RdWindow *self)
{
  g_return_val_if_fail (RD_IS_WINDOW (self), NULL);

  return self->board;
}

/**
 * rd_window_show_toast:
 * @message: plain text, not markup
 *
 * Shows @message in a toast, for instance an error from another part of
 * the app.
 */
void
rd_window_show_toast (RdWindow   *self,
                      const char *message)
{
  g_return_if_fail (RD_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  show_error (self, message);
}

RdSession *
rd_window_get_session (RdWindow *self)
{
  g_return_val_if_fail (RD_IS_WINDOW (self), NULL);

  return self->session;
}

/**
 * rd_window_open_session:
 * @session: (nullable): the session to show, such as the demo tenant's;
 *   %NULL for one made from the settings
 *
 * Shows @session: a demo session signs in at once; otherwise a token in
 * `RECOVERY_DESK_ACCESS_TOKEN` is used, or the saved sign-in restored, or
 * the sign-in page shown. Then the tenant's board opens with its cached
 * inventory, and a refresh starts.
 */
void
rd_window_open_session (RdWindow  *self,
                        RdSession *session)
{
  g_autoptr(RdSession) from_settings = NULL;
  g_autoptr(GError) error = NULL;
  const char *env_token = g_getenv ("RECOVERY_DESK_ACCESS_TOKEN");
  RdEntraAuth *auth;

  g_return_if_fail (RD_IS_WINDOW (self));
  g_return_if_fail (session == NULL || RD_IS_SESSION (session));

  if (session == NULL)
    {
      from_settings = new_session_from_settings (self, &error);
      if (from_settings == NULL)
        {
          /* Settings that no longer pass (an endpoint changed by hand):
           * the defaults still work, and the admin is told what to fix. */
          g_autofree char *message = g_strdup_printf (_("%s Fix it in Preferences."),
                                                      error->message);

          from_settings = rd_session_new (NULL, NULL, NULL, NULL, NULL, NULL);
          show_error (self, message);
          g_clear_error (&error);
        }
      session = from_settings;
    }

  close_session (self);
  rd_window_set_board (self, NULL);
  gtk_revealer_set_reveal_child (self->stale_revealer, FALSE);
  gtk_revealer_set_reveal_child (self->notes_revealer, FALSE);
  self->session = g_object_ref (session);
  self->cancellable = g_cancellable_new ();

  if (rd_session_get_connected (session))
    {
      open_tenant (self);
      return;
    }

  if (rd_session_get_demo (session) != NULL)
    {
      if (!rd_session_connect_demo (session, &error))
        {
          show_sign_in (self, error->message);
          return;
        }
      open_tenant (self);
      return;
    }

  if (env_token != NULL && *env_token != '\0')
    {
      if (!rd_session_connect_with_token (session, env_token, &error))
        {
          show_sign_in (self, error->message);
          return;
        }
      open_tenant (self);
      return;
    }

  auth = rd_session_get_auth (session, &error);
  if (auth == NULL)
    {
      show_sign_in (self, error->message);
      return;
    }

  gtk_spinner_start (self->loading_spinner);
  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  update_account (self);
  rd_entra_auth_load_async (auth, self->cancellable, on_load_cb, g_object_ref (self));
}
