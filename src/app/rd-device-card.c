/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-card"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-device-card.h"
#include "rd-lane-view.h"
#include "rd-method.h"
#include "rd-readiness.h"
#include "rd-ui-utils.h"
#include "rd-view-utils.h"

#include <string.h>

/* A device on the board: its name, model, user, how long since it checked
 * in, badges for what matters to a recovery, and in a plan lane the plan's
 * state and what its run came to: a spinner while the request is on its
 * way, then the request-id Intune accepted, or the Graph error with its
 * request-id to copy for a support case. It is a drag source carrying the device (or, when it is part of a
 * selection of several, the selected devices), and its menu is the keyboard
 * twin of the drag. Moves go to the window's "board.move-devices" action,
 * which calls rd_board_move_device() and offers an undo. */

struct _RdDeviceCard
{
  GtkWidget parent_instance;

  RdDevice *device;
  RdPlan *plan;
  double drag_x;
  double drag_y;

  GtkLabel *name_label;
  GtkLabel *state_label;
  GtkLabel *details_label;
  GtkLabel *bitlocker_badge;
  GtkLabel *autopilot_badge;
  GtkLabel *compliance_badge;
  GtkLabel *wipe_badge;
  GtkLabel *sync_label;
  GtkWidget *result_box;
  GtkSpinner *spinner;
  GtkLabel *result_label;
  GtkWidget *request_box;
  GtkLabel *request_label;
  GtkWidget *copy_button;
  GtkMenuButton *menu_button;
};

G_DEFINE_FINAL_TYPE (RdDeviceCard, rd_device_card, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_DEVICE,
  PROP_PLAN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static RdLane
current_lane (RdDeviceCard *self)
{
  return self->plan != NULL ? rd_plan_get_lane (self->plan) : RD_LANE_INVENTORY;
}

/* Tooltips */

/* In GTK 4.8 gtk_widget_set_tooltip_text() on a visible widget asks the
 * display where the pointer is (a round trip to the X server), and binding
 * a card set some eight of them: a quarter of the time a list view spends
 * binding new cards; "tooltip-text" in the template cost three more round
 * trips for every card built. The card's tooltips go through
 * rd_view_set_tooltip(), and the sync label's text is made only when its
 * tooltip shows. */

static char *
dup_sync_tooltip (RdDevice *device)
{
  GDateTime *last_sync = rd_device_get_last_sync (device);
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *when = NULL;

  if (last_sync == NULL)
    return g_strdup (_("Has never checked in with Intune"));

  local = g_date_time_to_local (last_sync);
  when = g_date_time_format (local, "%c");
  /* Translators: %s is a date and time. */
  return g_strdup_printf (_("Last checked in with Intune on %s"), when);
}

/* The date is formatted only when the tooltip shows. */
static gboolean
on_sync_label_query_tooltip_cb (GtkWidget    *widget,
                                int           x,
                                int           y,
                                gboolean      keyboard_mode,
                                GtkTooltip   *tooltip,
                                RdDeviceCard *self)
{
  g_autofree char *text = NULL;

  if (self->device == NULL)
    return FALSE;

  text = dup_sync_tooltip (self->device);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/**
 * rd_device_card_dup_tooltip:
 * @widget: a label of @self's
 *
 * Returns: (transfer full) (nullable): the tooltip @widget shows, for tests
 */
char *
rd_device_card_dup_tooltip (RdDeviceCard *self,
                            GtkWidget    *widget)
{
  g_return_val_if_fail (RD_IS_DEVICE_CARD (self), NULL);
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  if (widget == GTK_WIDGET (self->sync_label))
    return self->device != NULL ? dup_sync_tooltip (self->device) : NULL;
  if (!gtk_widget_get_has_tooltip (widget))
    return NULL;
  if (rd_view_get_tooltip (widget) != NULL)
    return g_strdup (rd_view_get_tooltip (widget));

  return g_strdup (gtk_widget_get_tooltip_text (widget));
}

static void
set_badge (GtkLabel   *badge,
           const char *label,
           const char *tooltip,
           const char *style)
{
  gtk_widget_set_visible (GTK_WIDGET (badge), label != NULL);
  if (label == NULL)
    return;

  gtk_label_set_label (badge, label);
  rd_view_set_tooltip (GTK_WIDGET (badge), tooltip);
  rd_ui_set_style (GTK_WIDGET (badge), style);
}

static void
update_bitlocker (RdDeviceCard *self)
{
  int keys = rd_device_get_escrowed_keys (self->device);

  switch (rd_device_get_encrypted (self->device))
    {
    case RD_TRISTATE_YES:
      if (keys > 0)
        set_badge (self->bitlocker_badge, C_("badge", "BitLocker"),
                   _("The drive is encrypted with BitLocker and its recovery key is escrowed in "
                     "Microsoft Entra ID"),
                   "success");
      else if (keys == 0)
        set_badge (self->bitlocker_badge, C_("badge", "BitLocker"),
                   _("The drive is encrypted with BitLocker, but no recovery key is escrowed in "
                     "Microsoft Entra ID"),
                   "warning");
      else
        set_badge (self->bitlocker_badge, C_("badge", "BitLocker"),
                   _("The drive is encrypted with BitLocker; whether its recovery key is "
                     "escrowed is not known"),
                   "success");
      break;
    case RD_TRISTATE_NO:
      set_badge (self->bitlocker_badge, C_("badge", "Not encrypted"),
                 _("The drive is not encrypted with BitLocker: the last user’s data stays "
                   "readable"),
                 "error");
      break;
    case RD_TRISTATE_UNKNOWN:
    default:
      set_badge (self->bitlocker_badge, C_("badge", "BitLocker?"),
                 _("Intune did not report whether the drive is encrypted"), "dim");
      break;
    }
}

static void
update_autopilot (RdDeviceCard *self)
{
  switch (rd_device_get_autopilot (self->device))
    {
    case RD_TRISTATE_YES:
      set_badge (self->autopilot_badge, C_("badge", "Autopilot"),
                 _("Registered in Windows Autopilot"), "accent");
      break;
    case RD_TRISTATE_NO:
      set_badge (self->autopilot_badge, C_("badge", "No Autopilot"),
                 _("Not registered in Windows Autopilot: after a reimage it cannot enroll again"),
                 "warning");
      break;
    case RD_TRISTATE_UNKNOWN:
    default:
      set_badge (self->autopilot_badge, NULL, NULL, NULL);
      break;
    }
}

static void
update_compliance (RdDeviceCard *self)
{
  switch (rd_device_get_compliance (self->device))
    {
    case RD_COMPLIANCE_COMPLIANT:
      set_badge (self->compliance_badge, C_("badge", "Compliant"),
                 _("Meets the tenant’s compliance policies"), "success");
      break;
    case RD_COMPLIANCE_NONCOMPLIANT:
      set_badge (self->compliance_badge, C_("badge", "Not compliant"),
                 _("Does not meet the tenant’s compliance policies"), "error");
      break;
    case RD_COMPLIANCE_IN_GRACE_PERIOD:
      set_badge (self->compliance_badge, C_("badge", "Grace period"),
                 _("Not compliant, within the grace period the policy allows"), "warning");
      break;
    case RD_COMPLIANCE_CONFLICT:
    case RD_COMPLIANCE_ERROR:
      set_badge (self->compliance_badge, C_("badge", "Compliance error"),
                 _("Intune could not evaluate the device’s compliance policies"), "warning");
      break;
    case RD_COMPLIANCE_CONFIG_MANAGER:
    case RD_COMPLIANCE_UNKNOWN:
    default:
      set_badge (self->compliance_badge, NULL, NULL, NULL);
      break;
    }
}

static void
update_sync (RdDeviceCard *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *age = NULL;
  GDateTime *last_sync = rd_device_get_last_sync (self->device);
  gboolean stale;

  age = rd_ui_format_age (last_sync, now);
  gtk_label_set_label (self->sync_label, age);

  stale = last_sync == NULL ||
          g_date_time_difference (now, last_sync) > RD_READINESS_STALE_DAYS * G_TIME_SPAN_DAY;
  rd_ui_set_style (GTK_WIDGET (self->sync_label), stale ? "warning" : "dim");
}

static void
update_device (RdDeviceCard *self)
{
  g_autofree char *details = NULL;
  const char *model, *user;

  if (self->device == NULL)
    return;

  gtk_label_set_label (self->name_label, rd_device_get_name (self->device));

  model = rd_device_get_model (self->device);
  user = rd_device_get_user_display_name (self->device);
  if (user == NULL || *user == '\0')
    user = rd_device_get_user_principal_name (self->device);
  if (user == NULL || *user == '\0')
    user = _("No primary user");
  if (model != NULL && *model != '\0')
    /* Translators: a device's model, then its primary user. */
    details = g_strdup_printf (_("%s · %s"), model, user);
  else
    details = g_strdup (user);
  gtk_label_set_label (self->details_label, details);
  rd_view_set_tooltip (GTK_WIDGET (self->details_label), details);

  update_bitlocker (self);
  update_autopilot (self);
  update_compliance (self);
  gtk_widget_set_visible (GTK_WIDGET (self->wipe_badge), rd_device_has_wipe_pending (self->device));
  update_sync (self);
}

/* The request-id of the plan's latest request, when @message (if any)
 * is about that request. */
static const char *
latest_request_id (RdPlan     *plan,
                   const char *message)
{
  const char *const *ids = rd_plan_get_request_ids (plan);
  guint n = ids != NULL ? g_strv_length ((char **) ids) : 0;

  if (n == 0 || (message != NULL && strstr (message, ids[n - 1]) == NULL))
    return NULL;

  return ids[n - 1];
}

/* @message without its closing " (request-id …)", which the card shows
 * on a line of its own. */
static char *
strip_request_id (const char *message,
                  const char *request_id)
{
  g_autofree char *tail = g_strconcat (request_id, ")", NULL);
  const char *open;

  if (!g_str_has_suffix (message, tail))
    return g_strdup (message);

  open = g_strrstr_len (message, strlen (message) - strlen (tail), " (");
  if (open == NULL || open == message)
    return g_strdup (message);

  return g_strndup (message, open - message);
}

static void
update_result (RdDeviceCard *self)
{
  g_autofree char *text = NULL;
  g_autofree char *request_text = NULL;
  const char *request_id = NULL;
  const char *style = "dim";
  gboolean busy = FALSE;

  switch (self->plan != NULL ? rd_plan_get_state (self->plan) : RD_PLAN_STATE_DRAFT)
    {
    case RD_PLAN_STATE_SENDING:
      busy = TRUE;
      text = g_strdup (_("Sending to Intune…"));
      break;
    case RD_PLAN_STATE_FAILED:
      if (rd_plan_get_last_error (self->plan) != NULL)
        {
          const char *message = rd_plan_get_last_error (self->plan);

          request_id = latest_request_id (self->plan, message);
          text = request_id != NULL ? strip_request_id (message, request_id) : g_strdup (message);
          style = "error";
        }
      break;
    case RD_PLAN_STATE_SENT:
    case RD_PLAN_STATE_PENDING:
    case RD_PLAN_STATE_DONE:
      request_id = latest_request_id (self->plan, NULL);
      if (request_id != NULL)
        text = g_strdup (_("Accepted by Intune"));
      break;
    case RD_PLAN_STATE_USB_PREPARED:
    case RD_PLAN_STATE_AWAITING_RE_ENROLLMENT:
      if (rd_plan_get_usb_image_name (self->plan) != NULL)
        /* Translators: %s is the name of the image written to the USB key. */
        text = g_strdup_printf (_("USB key: %s"), rd_plan_get_usb_image_name (self->plan));
      break;
    case RD_PLAN_STATE_DRAFT:
    case RD_PLAN_STATE_READY:
    case RD_PLAN_STATE_BLOCKED:
    case RD_PLAN_STATE_CANCELLED:
    default:
      break;
    }

  gtk_widget_set_visible (self->result_box, text != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_label_set_label (self->result_label, text != NULL ? text : "");
  rd_view_set_tooltip (GTK_WIDGET (self->result_label), text);
  rd_ui_set_style (GTK_WIDGET (self->result_label), style);

  if (request_id != NULL)
    /* Translators: %s is the request-id Microsoft Graph gave a request. */
    request_text = g_strdup_printf (_("request-id %s"), request_id);
  gtk_widget_set_visible (self->request_box, request_id != NULL);
  gtk_label_set_label (self->request_label, request_text != NULL ? request_text : "");
  rd_view_set_tooltip (GTK_WIDGET (self->request_label), request_text);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.copy-request-id", request_id != NULL);
}

static void
update_plan (RdDeviceCard *self)
{
  gboolean movable = self->plan == NULL || !rd_plan_is_in_flight (self->plan);

  gtk_widget_set_visible (GTK_WIDGET (self->state_label), self->plan != NULL);
  if (self->plan != NULL)
    {
      RdPlanState state = rd_plan_get_state (self->plan);

      gtk_label_set_label (self->state_label, rd_ui_plan_state_title (state));
      rd_ui_set_style (GTK_WIDGET (self->state_label), rd_ui_plan_state_style (state));
    }

  /* A sent action cannot be taken back, so its card offers no move. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.move-to-lane", movable);
  gtk_widget_set_visible (GTK_WIDGET (self->menu_button), movable);

  update_result (self);
}

/* The menu is built when it opens, so that binding a card while scrolling
 * through a large inventory costs no popover. */
static void
create_menu_popup_cb (GtkMenuButton *menu_button,
                      gpointer       user_data)
{
  RdDeviceCard *self = RD_DEVICE_CARD (user_data);
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) lanes = g_menu_new ();
  RdLane lane = current_lane (self);

  for (RdLane target = RD_LANE_INVENTORY; target < RD_N_LANES; target++)
    {
      g_autoptr(GMenuItem) item = NULL;

      if (target == lane)
        continue;
      item = g_menu_item_new (rd_lane_get_title (target), NULL);
      g_menu_item_set_action_and_target (item, "card.move-to-lane", "s",
                                         rd_lane_to_string (target));
      g_menu_item_set_attribute (item, "hidden-when", "s", "action-disabled");
      g_menu_append_item (lanes, item);
    }
  g_menu_append_submenu (menu, _("_Move To"), G_MENU_MODEL (lanes));

  /* A reimage is done by hand: its way on is a USB key. */
  if (self->plan != NULL && self->device != NULL &&
      rd_method_is_reimage (rd_plan_get_method (self->plan)) &&
      rd_plan_get_state (self->plan) == RD_PLAN_STATE_READY)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (_("_Prepare USB Key…"), NULL);

      g_menu_item_set_action_and_target (item, "win.prepare-usb-key", "s",
                                         rd_device_get_id (self->device));
      g_menu_append_item (menu, item);
    }

  gtk_menu_button_set_menu_model (menu_button, G_MENU_MODEL (menu));
}

/* Actions */

static void
move_to_lane_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  RdDeviceCard *self = RD_DEVICE_CARD (widget);
  const char *ids[2] = { NULL, NULL };
  const char *lane_nick = g_variant_get_string (parameter, NULL);
  RdLane lane;

  if (self->device == NULL || !rd_lane_from_string (lane_nick, &lane))
    return;

  ids[0] = rd_device_get_id (self->device);
  gtk_widget_activate_action (widget, "board.move-devices", "(^ass)", ids, lane_nick);
}

static void
copy_request_id_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  RdDeviceCard *self = RD_DEVICE_CARD (widget);
  const char *request_id = NULL;

  if (self->plan == NULL)
    return;

  if (rd_plan_get_state (self->plan) == RD_PLAN_STATE_FAILED)
    request_id = latest_request_id (self->plan, rd_plan_get_last_error (self->plan));
  else
    request_id = latest_request_id (self->plan, NULL);

  if (request_id != NULL)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), request_id);
}

/* Callbacks */

static void
on_device_notify_cb (RdDeviceCard *self)
{
  update_device (self);
}

static void
on_plan_notify_state_cb (RdDeviceCard *self)
{
  update_plan (self);
}

static GdkContentProvider *
on_drag_source_prepare_cb (GtkDragSource *source,
                           double         x,
                           double         y,
                           RdDeviceCard  *self)
{
  GtkWidget *lane = gtk_widget_get_ancestor (GTK_WIDGET (self), RD_TYPE_LANE_VIEW);
  g_autoptr(GPtrArray) selected = NULL;

  if (self->device == NULL)
    return NULL;

  self->drag_x = x;
  self->drag_y = y;

  /* Dragging one card of a selection drags the whole selection, as in a
   * file manager; a card outside the selection goes alone. */
  if (lane != NULL)
    selected = rd_lane_view_dup_selected_devices (RD_LANE_VIEW (lane));
  if (selected != NULL && selected->len > 1 && g_ptr_array_find (selected, self->device, NULL))
    {
      g_autoptr(GListStore) store = g_list_store_new (RD_TYPE_DEVICE);

      g_list_store_splice (store, 0, 0, selected->pdata, selected->len);
      return gdk_content_provider_new_typed (G_TYPE_LIST_MODEL, store);
    }

  return gdk_content_provider_new_typed (RD_TYPE_DEVICE, self->device);
}

static void
on_drag_source_drag_begin_cb (GtkDragSource *source,
                              GdkDrag       *drag,
                              RdDeviceCard  *self)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (self));
  GdkContentProvider *content = gdk_drag_get_content (drag);
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_LIST_MODEL);
  if (gdk_content_provider_get_value (content, &value, NULL))
    {
      guint n = g_list_model_get_n_items (g_value_get_object (&value));
      g_autofree char *text = g_strdup_printf (ngettext ("%u Device", "%u Devices", n), n);
      GtkWidget *label = gtk_label_new (text);

      gtk_widget_add_css_class (label, "drag-count");
      gtk_drag_icon_set_child (GTK_DRAG_ICON (gtk_drag_icon_get_for_drag (drag)), label);
    }
  else
    gtk_drag_source_set_icon (source, paintable, (int) self->drag_x, (int) self->drag_y);
  g_value_unset (&value);

  gtk_widget_add_css_class (GTK_WIDGET (self), "dragging");
}

static void
on_drag_source_drag_end_cb (GtkDragSource *source,
                            GdkDrag       *drag,
                            gboolean       delete_data,
                            RdDeviceCard  *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self), "dragging");
}

static void
on_secondary_click_pressed_cb (GtkGestureClick *gesture,
                               int              n_press,
                               double           x,
                               double           y,
                               RdDeviceCard    *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self->menu_button)))
    return;

  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  gtk_menu_button_popup (self->menu_button);
}

/* GObject overrides */

static void
rd_device_card_dispose (GObject *object)
{
  RdDeviceCard *self = (RdDeviceCard *) object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_DEVICE_CARD);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->device);
  g_clear_object (&self->plan);

  G_OBJECT_CLASS (rd_device_card_parent_class)->dispose (object);
}

static void
rd_device_card_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  RdDeviceCard *self = RD_DEVICE_CARD (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    case PROP_PLAN:
      g_value_set_object (value, self->plan);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_device_card_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  RdDeviceCard *self = RD_DEVICE_CARD (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      rd_device_card_set_device (self, g_value_get_object (value));
      break;
    case PROP_PLAN:
      rd_device_card_set_plan (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_device_card_class_init (RdDeviceCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_device_card_dispose;
  object_class->get_property = rd_device_card_get_property;
  object_class->set_property = rd_device_card_set_property;

  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, RD_TYPE_DEVICE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAN] =
    g_param_spec_object ("plan", NULL, NULL, RD_TYPE_PLAN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "card.move-to-lane", "s", move_to_lane_action);
  gtk_widget_class_install_action (widget_class, "card.copy-request-id", NULL,
                                   copy_request_id_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "devicecard");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-device-card.ui");
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, name_label);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, state_label);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, details_label);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, bitlocker_badge);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, autopilot_badge);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, compliance_badge);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, wipe_badge);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, sync_label);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, result_box);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, spinner);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, result_label);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, request_box);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, request_label);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, copy_button);
  gtk_widget_class_bind_template_child (widget_class, RdDeviceCard, menu_button);
  gtk_widget_class_bind_template_callback (widget_class, on_drag_source_prepare_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_drag_source_drag_begin_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_drag_source_drag_end_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_secondary_click_pressed_cb);
}

static void
rd_device_card_init (RdDeviceCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  rd_view_set_tooltip (GTK_WIDGET (self->wipe_badge),
                       _("Intune already has a wipe pending for this device: no other action is "
                         "sent until it is done"));
  rd_view_set_tooltip (self->copy_button, _("Copy Request ID"));
  rd_view_set_tooltip (GTK_WIDGET (self->menu_button), _("Device Menu"));
  g_signal_connect (self->sync_label, "query-tooltip",
                    G_CALLBACK (on_sync_label_query_tooltip_cb), self);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->sync_label), TRUE);
  gtk_menu_button_set_create_popup_func (self->menu_button, create_menu_popup_cb, self, NULL);
  update_plan (self);
}

GtkWidget *
rd_device_card_new (void)
{
  return g_object_new (RD_TYPE_DEVICE_CARD, NULL);
}

RdDevice *
rd_device_card_get_device (RdDeviceCard *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_CARD (self), NULL);

  return self->device;
}

void
rd_device_card_set_device (RdDeviceCard *self,
                           RdDevice     *device)
{
  g_return_if_fail (RD_IS_DEVICE_CARD (self));
  g_return_if_fail (device == NULL || RD_IS_DEVICE (device));

  if (self->device == device)
    return;

  if (self->device != NULL)
    g_signal_handlers_disconnect_by_func (self->device, on_device_notify_cb, self);
  g_set_object (&self->device, device);
  if (self->device != NULL)
    g_signal_connect_object (self->device, "notify", G_CALLBACK (on_device_notify_cb), self,
                             G_CONNECT_SWAPPED);

  update_device (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}

/**
 * rd_device_card_get_plan:
 *
 * Returns: (nullable) (transfer none): the plan of the device, in a plan lane
 */
RdPlan *
rd_device_card_get_plan (RdDeviceCard *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_CARD (self), NULL);

  return self->plan;
}

void
rd_device_card_set_plan (RdDeviceCard *self,
                         RdPlan       *plan)
{
  g_return_if_fail (RD_IS_DEVICE_CARD (self));
  g_return_if_fail (plan == NULL || RD_IS_PLAN (plan));

  if (self->plan == plan)
    return;

  if (self->plan != NULL)
    g_signal_handlers_disconnect_by_func (self->plan, on_plan_notify_state_cb, self);
  g_set_object (&self->plan, plan);
  if (self->plan != NULL)
    {
      g_signal_connect_object (self->plan, "notify::state", G_CALLBACK (on_plan_notify_state_cb),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->plan, "notify::last-error",
                               G_CALLBACK (on_plan_notify_state_cb), self, G_CONNECT_SWAPPED);
    }

  update_plan (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAN]);
}
