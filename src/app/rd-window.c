/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-window"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-lane-view.h"
#include "rd-method.h"
#include "rd-plan-pane.h"
#include "rd-readiness.h"
#include "rd-window.h"

/* The board window: the three lanes, the search over the inventory, the
 * plan pane, and the toasts. Every move, from a drop, a card's menu or a
 * shortcut, arrives here as "board.move-devices" and goes through
 * rd_board_move_device(); each one offers an Undo that moves the devices
 * back the same way. Running a plan asks for confirmation in an
 * AdwMessageDialog and then emits ::run-plan-confirmed; the window itself
 * sends nothing. */

struct _RdWindow
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;
  RdBoard *board;
  AdwToast *move_toast;             /* weak */
  AdwMessageDialog *run_dialog;     /* weak */
  RdLaneView *pane_lane;

  AdwToastOverlay *toast_overlay;
  GtkSearchEntry *search_entry;
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

static void
save_window_state (RdWindow *self)
{
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
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

static const GActionEntry win_actions[] = {
  { "run-plan", on_run_plan_activated_cb, "s" },
};

/* Callbacks */

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

/* GObject overrides */

static gboolean
rd_window_close_request (GtkWindow *window)
{
  save_window_state (RD_WINDOW (window));

  return GTK_WINDOW_CLASS (rd_window_parent_class)->close_request (window);
}

static void
rd_window_dispose (GObject *object)
{
  RdWindow *self = (RdWindow *) object;

  g_clear_weak_pointer (&self->move_toast);
  g_clear_weak_pointer (&self->run_dialog);
  self->pane_lane = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->board);

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

  /**
   * RdWindow::run-plan-confirmed:
   * @plan: the plan the admin confirmed
   *
   * Emitted once per confirmation, after the admin accepted the
   * destructive dialog and the plan was checked again. A handler sends the
   * action; it moves the plan to "sending" (rd_board_transition_plan())
   * before returning, which disables Run for that plan.
   */
  signals[SIGNAL_RUN_PLAN_CONFIRMED] =
    g_signal_new ("run-plan-confirmed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, RD_TYPE_PLAN);

  gtk_widget_class_install_action (widget_class, "board.move-devices", "(ass)",
                                   move_devices_action);
  gtk_widget_class_install_action (widget_class, "board.undo-move", "a(sss)", undo_move_action);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, focus_search_cb, NULL);

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
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_lane_notify_selected_device_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_plan_pane_notify_device_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_plan_pane_failed_cb);
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
}

RdWindow *
rd_window_new (RdApplication *application)
{
  RdWindow *self;

  g_return_val_if_fail (RD_IS_APPLICATION (application), NULL);

  self = g_object_new (RD_TYPE_WINDOW, "application", application, NULL);
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
