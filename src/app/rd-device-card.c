/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-card"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-device-card-private.h"
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
 * request-id to copy for a support case. It is a drag source carrying the
 * device (or, when it is part of a selection of several, the selected
 * devices), and its menu is the keyboard twin of the drag. Moves go to the
 * window's "board.move-devices" action, which calls rd_board_move_device()
 * and offers an undo.
 *
 * A lane's list view builds up to 200 cards at once whenever the list it
 * shows changes, so a card is built in code, without a template, and lays
 * its parts out itself instead of through nested boxes. A fresh card holds
 * no parts: those a card in the inventory shows are built when it is first
 * given a device or a plan (of the 200 cards a list view builds for a new
 * list, those far off screen are bound a few a frame after it shows, see
 * RdLaneView), and the parts a plan lane adds (the state, the wipe badge,
 * the result and request lines) and the menu's popover the first time they
 * are needed; then they are kept. */

struct _RdDeviceCard
{
  GtkWidget parent_instance;

  RdDevice *device;
  RdPlan *plan;
  double drag_x;
  double drag_y;

  /* What every card shows, in the order they are laid out. */
  GtkWidget *name_label;
  GtkWidget *details_label;
  GtkWidget *sync_label;
  GtkWidget *bitlocker_badge;
  GtkWidget *autopilot_badge;
  GtkWidget *compliance_badge;
  GtkWidget *menu_button;

  /* Built on first need. */
  GtkWidget *state_label;
  GtkWidget *wipe_badge;
  GtkWidget *result_box;
  GtkWidget *spinner;
  GtkWidget *result_label;
  GtkWidget *request_box;
  GtkWidget *request_label;
  GtkWidget *copy_button;
  GtkWidget *menu;

  guint copy_enabled : 1;
  guint move_enabled : 1;
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

static GtkWidget *
new_label (const char         *css_class,
           PangoEllipsizeMode  ellipsize)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_ellipsize (GTK_LABEL (label), ellipsize);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);

  return label;
}

/* Tooltips */

/* In GTK 4.8 gtk_widget_set_tooltip_text() on a visible widget asks the
 * display where the pointer is (a round trip to the X server), and binding
 * a card set some eight of them: a quarter of the time a list view spends
 * binding new cards. The card's tooltips go through rd_view_set_tooltip(),
 * and the sync label's text is made only when its tooltip shows. */

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
 * @widget: a part of @self's
 *
 * Returns: (transfer full) (nullable): the tooltip @widget shows, for tests
 */
char *
rd_device_card_dup_tooltip (RdDeviceCard *self,
                            GtkWidget    *widget)
{
  g_return_val_if_fail (RD_IS_DEVICE_CARD (self), NULL);
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);
  g_return_val_if_fail (gtk_widget_is_ancestor (widget, GTK_WIDGET (self)), NULL);

  if (widget == self->sync_label)
    return self->device != NULL ? dup_sync_tooltip (self->device) : NULL;
  if (!gtk_widget_get_has_tooltip (widget))
    return NULL;
  if (rd_view_get_tooltip (widget) != NULL)
    return g_strdup (rd_view_get_tooltip (widget));

  return g_strdup (gtk_widget_get_tooltip_text (widget));
}

/* Parts built on first need */

static void on_menu_button_clicked_cb (RdDeviceCard *self);

/* What every card shows: built with its first device or plan. */
static void
ensure_parts (RdDeviceCard *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  if (self->name_label != NULL)
    return;

  self->name_label = new_label ("heading", PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (self->name_label), 0);
  gtk_widget_set_hexpand (self->name_label, TRUE);
  gtk_widget_set_parent (self->name_label, widget);

  self->details_label = new_label ("dim-label", PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->details_label, "caption");
  gtk_label_set_xalign (GTK_LABEL (self->details_label), 0);
  gtk_widget_set_hexpand (self->details_label, TRUE);
  gtk_widget_set_parent (self->details_label, widget);

  self->sync_label = new_label ("caption", PANGO_ELLIPSIZE_NONE);
  gtk_widget_add_css_class (self->sync_label, "numeric");
  gtk_label_set_xalign (GTK_LABEL (self->sync_label), 1);
  g_signal_connect (self->sync_label, "query-tooltip", G_CALLBACK (on_sync_label_query_tooltip_cb),
                    self);
  gtk_widget_set_has_tooltip (self->sync_label, TRUE);
  gtk_widget_set_parent (self->sync_label, widget);

  self->bitlocker_badge = new_label ("badge", PANGO_ELLIPSIZE_END);
  gtk_widget_set_parent (self->bitlocker_badge, widget);
  self->autopilot_badge = new_label ("badge", PANGO_ELLIPSIZE_END);
  gtk_widget_set_parent (self->autopilot_badge, widget);
  self->compliance_badge = new_label ("badge", PANGO_ELLIPSIZE_END);
  gtk_widget_set_parent (self->compliance_badge, widget);

  /* A plain button: a GtkMenuButton (a toggle button inside, and its own
   * set-up) made a card a quarter dearer to build; see popup_menu(). */
  self->menu_button = gtk_button_new_from_icon_name ("view-more-symbolic");
  gtk_widget_set_valign (self->menu_button, GTK_ALIGN_START);
  gtk_widget_add_css_class (self->menu_button, "flat");
  gtk_widget_add_css_class (self->menu_button, "circular");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Device Menu"), GTK_ACCESSIBLE_PROPERTY_HAS_POPUP, TRUE, -1);
  rd_view_set_tooltip (self->menu_button, _("Device Menu"));
  g_signal_connect_swapped (self->menu_button, "clicked", G_CALLBACK (on_menu_button_clicked_cb),
                            self);
  gtk_widget_set_parent (self->menu_button, widget);
}

static void
ensure_state_label (RdDeviceCard *self)
{
  if (self->state_label != NULL)
    return;

  self->state_label = new_label ("badge", PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->state_label, "state");
  gtk_widget_set_valign (self->state_label, GTK_ALIGN_CENTER);
  gtk_widget_insert_after (self->state_label, GTK_WIDGET (self), self->name_label);
}

static void
ensure_wipe_badge (RdDeviceCard *self)
{
  if (self->wipe_badge != NULL)
    return;

  self->wipe_badge = new_label ("badge", PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->wipe_badge, "error");
  gtk_label_set_label (GTK_LABEL (self->wipe_badge), C_("badge", "Wipe pending"));
  rd_view_set_tooltip (self->wipe_badge,
                       _("Intune already has a wipe pending for this device: no other action is "
                          "sent until it is done"));
  gtk_widget_insert_after (self->wipe_badge, GTK_WIDGET (self), self->compliance_badge);
}

static void
ensure_result_box (RdDeviceCard *self)
{
  if (self->result_box != NULL)
    return;

  self->result_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_top (self->result_box, 3);
  self->result_label = new_label ("caption", PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->result_label, "result");
  gtk_label_set_xalign (GTK_LABEL (self->result_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->result_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->result_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (self->result_label), 3);
  gtk_widget_set_hexpand (self->result_label, TRUE);
  gtk_box_append (GTK_BOX (self->result_box), self->result_label);
  gtk_widget_insert_after (self->result_box, GTK_WIDGET (self), self->compliance_badge);
  if (self->wipe_badge != NULL)
    gtk_widget_insert_after (self->result_box, GTK_WIDGET (self), self->wipe_badge);
}

static void
ensure_spinner (RdDeviceCard *self)
{
  if (self->spinner != NULL)
    return;

  ensure_result_box (self);
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_valign (self->spinner, GTK_ALIGN_CENTER);
  gtk_box_prepend (GTK_BOX (self->result_box), self->spinner);
}

static void
ensure_request_box (RdDeviceCard *self)
{
  GtkWidget *copy;

  if (self->request_box != NULL)
    return;

  self->request_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->request_label = new_label ("caption", PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (self->request_label, "dim-label");
  gtk_widget_add_css_class (self->request_label, "numeric");
  gtk_label_set_xalign (GTK_LABEL (self->request_label), 0);
  gtk_widget_set_hexpand (self->request_label, TRUE);
  gtk_box_append (GTK_BOX (self->request_box), self->request_label);

  copy = self->copy_button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_widget_set_valign (copy, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (copy, "flat");
  gtk_widget_add_css_class (copy, "circular");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (copy), "card.copy-request-id");
  gtk_accessible_update_property (GTK_ACCESSIBLE (copy), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Copy Request ID"), -1);
  rd_view_set_tooltip (copy, _("Copy Request ID"));
  gtk_box_append (GTK_BOX (self->request_box), copy);

  gtk_widget_insert_before (self->request_box, GTK_WIDGET (self), self->menu_button);
}

/* Showing the device and its plan */

static void
set_badge (GtkWidget  *badge,
           const char *label,
           const char *tooltip,
           const char *style)
{
  gtk_widget_set_visible (badge, label != NULL);
  if (label == NULL)
    return;

  gtk_label_set_label (GTK_LABEL (badge), label);
  rd_view_set_tooltip (badge, tooltip);
  rd_ui_set_style (badge, style);
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
  gtk_label_set_label (GTK_LABEL (self->sync_label), age);

  stale = last_sync == NULL ||
          g_date_time_difference (now, last_sync) > RD_READINESS_STALE_DAYS * G_TIME_SPAN_DAY;
  rd_ui_set_style (self->sync_label, stale ? "warning" : "dim");
}

static void
update_device (RdDeviceCard *self)
{
  g_autofree char *details = NULL;
  const char *model, *user;

  if (self->device == NULL)
    return;

  gtk_label_set_label (GTK_LABEL (self->name_label), rd_device_get_name (self->device));

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
  gtk_label_set_label (GTK_LABEL (self->details_label), details);
  rd_view_set_tooltip (self->details_label, details);

  update_bitlocker (self);
  update_autopilot (self);
  update_compliance (self);
  if (rd_device_has_wipe_pending (self->device))
    ensure_wipe_badge (self);
  if (self->wipe_badge != NULL)
    gtk_widget_set_visible (self->wipe_badge, rd_device_has_wipe_pending (self->device));
  update_sync (self);
}

/* The actions' states change only when they must: each change looks the
 * action up and tells the card's action muxer, at every bind. */
static void
set_copy_enabled (RdDeviceCard *self,
                  gboolean      enabled)
{
  if (self->copy_enabled == !!enabled)
    return;

  self->copy_enabled = !!enabled;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.copy-request-id", enabled);
}

static void
set_move_enabled (RdDeviceCard *self,
                  gboolean      enabled)
{
  if (self->move_enabled == !!enabled)
    return;

  self->move_enabled = !!enabled;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.move-to-lane", enabled);
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

  if (text != NULL)
    ensure_result_box (self);
  if (busy)
    ensure_spinner (self);
  if (self->result_box != NULL)
    {
      gtk_widget_set_visible (self->result_box, text != NULL);
      gtk_label_set_label (GTK_LABEL (self->result_label), text != NULL ? text : "");
      rd_view_set_tooltip (self->result_label, text);
      rd_ui_set_style (self->result_label, style);
    }
  if (self->spinner != NULL)
    {
      gtk_widget_set_visible (self->spinner, busy);
      gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
    }

  if (request_id != NULL)
    {
      /* Translators: %s is the request-id Microsoft Graph gave a request. */
      request_text = g_strdup_printf (_("request-id %s"), request_id);
      ensure_request_box (self);
    }
  if (self->request_box != NULL)
    {
      gtk_widget_set_visible (self->request_box, request_id != NULL);
      gtk_label_set_label (GTK_LABEL (self->request_label),
                           request_text != NULL ? request_text : "");
      rd_view_set_tooltip (self->request_label, request_text);
    }
  set_copy_enabled (self, request_id != NULL);
}

static void
update_plan (RdDeviceCard *self)
{
  gboolean movable = self->plan == NULL || !rd_plan_is_in_flight (self->plan);

  if (self->plan != NULL)
    {
      RdPlanState state = rd_plan_get_state (self->plan);

      ensure_state_label (self);
      gtk_label_set_label (GTK_LABEL (self->state_label), rd_ui_plan_state_title (state));
      rd_ui_set_style (self->state_label, rd_ui_plan_state_style (state));
    }
  if (self->state_label != NULL)
    gtk_widget_set_visible (self->state_label, self->plan != NULL);

  /* A sent action cannot be taken back, so its card offers no move. */
  set_move_enabled (self, movable);
  if (self->menu_button != NULL)
    gtk_widget_set_visible (self->menu_button, movable);
  if (!movable && self->menu != NULL)
    gtk_popover_popdown (GTK_POPOVER (self->menu));

  update_result (self);
}

/* The menu */

static GMenuModel *
dup_menu_model (RdDeviceCard *self)
{
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

  return G_MENU_MODEL (g_steal_pointer (&menu));
}

static void
on_menu_closed_cb (RdDeviceCard *self)
{
  gtk_widget_unset_state_flags (self->menu_button, GTK_STATE_FLAG_CHECKED);
}

/* The popover is built the first time the menu opens, and its items each
 * time, for the lane and plan the card shows then. It points at the menu
 * button, which looks pressed while it is open, as a GtkMenuButton's
 * would. */
static void
popup_menu (RdDeviceCard *self)
{
  g_autoptr(GMenuModel) model = dup_menu_model (self);
  graphene_rect_t bounds;

  if (self->menu == NULL)
    {
      self->menu = gtk_popover_menu_new_from_model (model);
      gtk_popover_set_position (GTK_POPOVER (self->menu), GTK_POS_BOTTOM);
      gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
      g_signal_connect_object (self->menu, "closed", G_CALLBACK (on_menu_closed_cb), self,
                               G_CONNECT_SWAPPED);
    }
  else
    gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->menu), model);

  if (gtk_widget_compute_bounds (self->menu_button, GTK_WIDGET (self), &bounds))
    {
      GdkRectangle rect = {
        (int) floorf (bounds.origin.x),
        (int) floorf (bounds.origin.y),
        (int) ceilf (bounds.size.width),
        (int) ceilf (bounds.size.height),
      };

      gtk_popover_set_pointing_to (GTK_POPOVER (self->menu), &rect);
    }

  gtk_widget_set_state_flags (self->menu_button, GTK_STATE_FLAG_CHECKED, FALSE);
  gtk_popover_popup (GTK_POPOVER (self->menu));
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

static void
on_menu_button_clicked_cb (RdDeviceCard *self)
{
  popup_menu (self);
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
  if (self->menu_button == NULL || !gtk_widget_get_visible (self->menu_button))
    return;

  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_menu (self);
}

/* Layout */

/* The card places its parts as the boxes of its old template did: a column
 * that takes the room left, and the menu button to its right, at the top:
 *
 *   name ············· [state]   ⋮
 *   details ············· sync
 *   badge badge badge [badge]
 *   [spinner] result               (plan lanes)
 *   request-id ············ copy   (plan lanes)
 *
 * Each row gives its children their widths as a horizontal GtkBox does;
 * the rows stack as a vertical one does. */

#define SPACING 6
#define ROW_SPACING 3
#define BADGE_SPACING 4
#define BADGES_MARGIN_TOP 3
#define MAX_ROW_CHILDREN 4

enum
{
  ROW_NAME,
  ROW_DETAILS,
  ROW_BADGES,
  ROW_RESULT,
  ROW_REQUEST,
  N_ROWS
};

typedef struct
{
  GtkRequestedSize widths[MAX_ROW_CHILDREN];
  gboolean expand[MAX_ROW_CHILDREN];
  guint n_children;
  int spacing;
  int margin_top;
  GtkRequestedSize height;
} Row;

/* Row @index's shown children, with their widths measured; FALSE when the
 * card has no such row. */
static gboolean
get_row (RdDeviceCard *self,
         guint         index,
         Row          *row)
{
  GtkWidget *children[MAX_ROW_CHILDREN] = { NULL };

  row->n_children = 0;
  row->spacing = SPACING;
  row->margin_top = 0;
  switch (index)
    {
    case ROW_NAME:
      children[0] = self->name_label;
      children[1] = self->state_label;
      break;
    case ROW_DETAILS:
      children[0] = self->details_label;
      children[1] = self->sync_label;
      break;
    case ROW_BADGES:
      children[0] = self->bitlocker_badge;
      children[1] = self->autopilot_badge;
      children[2] = self->compliance_badge;
      children[3] = self->wipe_badge;
      row->spacing = BADGE_SPACING;
      row->margin_top = BADGES_MARGIN_TOP;
      break;
    case ROW_RESULT:
      children[0] = self->result_box;
      break;
    case ROW_REQUEST:
      children[0] = self->request_box;
      break;
    default:
      g_assert_not_reached ();
    }

  for (guint i = 0; i < MAX_ROW_CHILDREN; i++)
    {
      GtkRequestedSize *width = &row->widths[row->n_children];

      if (children[i] == NULL || !gtk_widget_should_layout (children[i]))
        continue;
      width->data = children[i];
      gtk_widget_measure (children[i], GTK_ORIENTATION_HORIZONTAL, -1, &width->minimum_size,
                          &width->natural_size, NULL, NULL);
      row->expand[row->n_children] = gtk_widget_compute_expand (children[i],
                                                                GTK_ORIENTATION_HORIZONTAL);
      row->n_children++;
    }

  /* The result and request lines are there only while they show. */
  return index < ROW_RESULT || row->n_children > 0;
}

/* Shares @available among @n children @spacing apart as GtkBox does: each
 * gets its minimum size, then the room left goes towards their natural
 * sizes, and what remains to those that expand. Each child's share ends up
 * in its minimum_size. */
static void
distribute (GtkRequestedSize *sizes,
            const gboolean   *expand,
            guint             n,
            int               spacing,
            int               available)
{
  int extra = available - spacing * ((int) n - 1);
  guint n_expand = 0;

  if (n == 0)
    return;

  for (guint i = 0; i < n; i++)
    {
      extra -= sizes[i].minimum_size;
      n_expand += expand[i] ? 1 : 0;
    }
  extra = gtk_distribute_natural_allocation (MAX (extra, 0), n, sizes);

  for (guint i = 0, given = 0; n_expand > 0 && i < n; i++)
    if (expand[i])
      {
        sizes[i].minimum_size += extra / n_expand + (given < extra % n_expand ? 1 : 0);
        given++;
      }
}

static void
measure_row_width (Row *row,
                   int *minimum,
                   int *natural)
{
  *minimum = *natural = row->n_children > 0 ? row->spacing * ((int) row->n_children - 1) : 0;
  for (guint i = 0; i < row->n_children; i++)
    {
      *minimum += row->widths[i].minimum_size;
      *natural += row->widths[i].natural_size;
    }
}

/* Gives @row's children their widths out of @width (the natural ones when
 * @width is -1) and measures the row's height for them. */
static void
measure_row_height (Row *row,
                    int  width)
{
  if (width >= 0)
    distribute (row->widths, row->expand, row->n_children, row->spacing, width);
  else
    for (guint i = 0; i < row->n_children; i++)
      row->widths[i].minimum_size = row->widths[i].natural_size;

  row->height.minimum_size = row->height.natural_size = 0;
  for (guint i = 0; i < row->n_children; i++)
    {
      int minimum, natural;

      gtk_widget_measure (row->widths[i].data, GTK_ORIENTATION_VERTICAL,
                          width >= 0 ? row->widths[i].minimum_size : -1, &minimum, &natural, NULL,
                          NULL);
      row->height.minimum_size = MAX (row->height.minimum_size, minimum);
      row->height.natural_size = MAX (row->height.natural_size, natural);
    }
  row->height.minimum_size += row->margin_top;
  row->height.natural_size += row->margin_top;
}

/* The rows the card shows, and the width of the column they make and of
 * the menu button, out of @width (or -1). Returns the number of rows. */
static guint
layout_columns (RdDeviceCard *self,
                int           width,
                Row          *rows,
                int          *column_width,
                int          *menu_width)
{
  GtkRequestedSize sizes[2] = { { 0 } };
  const gboolean expand[2] = { TRUE, FALSE };
  guint n_rows = 0;

  for (guint i = 0; i < N_ROWS; i++)
    if (get_row (self, i, &rows[n_rows]))
      {
        int minimum, natural;

        measure_row_width (&rows[n_rows], &minimum, &natural);
        sizes[0].minimum_size = MAX (sizes[0].minimum_size, minimum);
        sizes[0].natural_size = MAX (sizes[0].natural_size, natural);
        n_rows++;
      }

  *column_width = width;
  *menu_width = 0;
  if (self->menu_button != NULL && gtk_widget_should_layout (self->menu_button))
    {
      gtk_widget_measure (self->menu_button, GTK_ORIENTATION_HORIZONTAL, -1, &sizes[1].minimum_size,
                          &sizes[1].natural_size, NULL, NULL);
      if (width >= 0)
        {
          distribute (sizes, expand, 2, SPACING, width);
          *column_width = sizes[0].minimum_size;
          *menu_width = sizes[1].minimum_size;
        }
      else
        *menu_width = sizes[1].natural_size;
    }

  return n_rows;
}

static GtkSizeRequestMode
rd_device_card_get_request_mode (GtkWidget *widget)
{
  RdDeviceCard *self = RD_DEVICE_CARD (widget);

  /* Only the result line wraps. */
  if (self->result_box != NULL && gtk_widget_get_visible (self->result_box))
    return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;

  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
measure_card (RdDeviceCard   *self,
              GtkOrientation  orientation,
              int             for_size,
              int            *minimum,
              int            *natural)
{
  Row rows[N_ROWS];
  int column_width, menu_width;
  guint n_rows;

  *minimum = *natural = 0;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      for (guint i = 0; i < N_ROWS; i++)
        if (get_row (self, i, &rows[0]))
          {
            int row_minimum, row_natural;

            measure_row_width (&rows[0], &row_minimum, &row_natural);
            *minimum = MAX (*minimum, row_minimum);
            *natural = MAX (*natural, row_natural);
          }
      if (self->menu_button != NULL && gtk_widget_should_layout (self->menu_button))
        {
          int button_minimum, button_natural;

          gtk_widget_measure (self->menu_button, GTK_ORIENTATION_HORIZONTAL, -1, &button_minimum,
                              &button_natural, NULL, NULL);
          *minimum += SPACING + button_minimum;
          *natural += SPACING + button_natural;
        }
      return;
    }

  n_rows = layout_columns (self, for_size, rows, &column_width, &menu_width);
  for (guint i = 0; i < n_rows; i++)
    {
      measure_row_height (&rows[i], column_width);
      *minimum += rows[i].height.minimum_size + (i > 0 ? ROW_SPACING : 0);
      *natural += rows[i].height.natural_size + (i > 0 ? ROW_SPACING : 0);
    }
  if (self->menu_button != NULL && gtk_widget_should_layout (self->menu_button))
    {
      int button_minimum, button_natural;

      gtk_widget_measure (self->menu_button, GTK_ORIENTATION_VERTICAL,
                          for_size >= 0 ? menu_width : -1, &button_minimum, &button_natural, NULL,
                          NULL);
      *minimum = MAX (*minimum, button_minimum);
      *natural = MAX (*natural, button_natural);
    }
}

/* A card with no device yet stands for one: GTK 4.8's list view makes up
 * to 200 rows at once and measures each, while a lane binds those far off
 * screen a few a frame. Until then such a card is as big as the last
 * inventory card measured with the same width, without its labels being
 * laid out. */
typedef struct
{
  gboolean valid;
  int for_size;
  int minimum;
  int natural;
} TypicalSize;

static TypicalSize typical_sizes[2];

static void
rd_device_card_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  RdDeviceCard *self = RD_DEVICE_CARD (widget);
  TypicalSize *typical = &typical_sizes[orientation];

  if (self->device == NULL && self->plan == NULL && typical->valid &&
      typical->for_size == for_size)
    {
      *minimum = typical->minimum;
      *natural = typical->natural;
      return;
    }

  /* An empty card measured before any card of this size had a device
   * builds its parts to measure as one. */
  ensure_parts (self);
  measure_card (self, orientation, for_size, minimum, natural);

  if (self->device != NULL && self->plan == NULL)
    *typical = (TypicalSize) { TRUE, for_size, *minimum, *natural };
}

static void
allocate_child (GtkWidget *child,
                gboolean   rtl,
                int        width,
                int        x,
                int        y,
                int        child_width,
                int        child_height)
{
  GtkAllocation allocation = {
    rtl ? width - x - child_width : x,
    y,
    child_width,
    child_height,
  };

  gtk_widget_size_allocate (child, &allocation, -1);
}

static void
rd_device_card_size_allocate (GtkWidget *widget,
                              int        width,
                              int        height,
                              int        baseline)
{
  RdDeviceCard *self = RD_DEVICE_CARD (widget);
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;
  GtkRequestedSize heights[N_ROWS];
  const gboolean no_expand[N_ROWS] = { FALSE };
  Row rows[N_ROWS];
  int column_width, menu_width;
  guint n_rows;
  int y = 0;

  n_rows = layout_columns (self, width, rows, &column_width, &menu_width);
  if (self->menu_button != NULL && gtk_widget_should_layout (self->menu_button))
    allocate_child (self->menu_button, rtl, width, column_width + SPACING, 0, menu_width, height);

  for (guint i = 0; i < n_rows; i++)
    {
      measure_row_height (&rows[i], column_width);
      heights[i] = rows[i].height;
    }
  distribute (heights, no_expand, n_rows, ROW_SPACING, height);

  for (guint i = 0; i < n_rows; i++)
    {
      Row *row = &rows[i];
      int row_height = heights[i].minimum_size - row->margin_top;
      int x = 0;

      y += row->margin_top;
      for (guint j = 0; j < row->n_children; j++)
        {
          allocate_child (row->widths[j].data, rtl, width, x, y, row->widths[j].minimum_size,
                          row_height);
          x += row->widths[j].minimum_size + row->spacing;
        }
      y += row_height + ROW_SPACING;
    }

  if (self->menu != NULL)
    gtk_popover_present (GTK_POPOVER (self->menu));
}

/* GObject overrides */

static void
rd_device_card_dispose (GObject *object)
{
  RdDeviceCard *self = (RdDeviceCard *) object;
  GtkWidget *child;

  /* The menu first: its "closed" touches the menu button. */
  g_clear_pointer (&self->menu, gtk_widget_unparent);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  self->name_label = self->details_label = self->sync_label = NULL;
  self->bitlocker_badge = self->autopilot_badge = self->compliance_badge = NULL;
  self->menu_button = self->state_label = self->wipe_badge = NULL;
  self->result_box = self->spinner = self->result_label = NULL;
  self->request_box = self->request_label = self->copy_button = NULL;
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

  widget_class->get_request_mode = rd_device_card_get_request_mode;
  widget_class->measure = rd_device_card_measure;
  widget_class->size_allocate = rd_device_card_size_allocate;

  properties[PROP_DEVICE] = g_param_spec_object ("device", NULL, NULL, RD_TYPE_DEVICE,
                                                 G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                                                   G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAN] = g_param_spec_object ("plan", NULL, NULL, RD_TYPE_PLAN,
                                               G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                                                 G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "card.move-to-lane", "s", move_to_lane_action);
  gtk_widget_class_install_action (widget_class, "card.copy-request-id", NULL,
                                   copy_request_id_action);

  gtk_widget_class_set_css_name (widget_class, "devicecard");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
rd_device_card_init (RdDeviceCard *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkDragSource *drag_source;
  GtkGesture *click;

  gtk_widget_add_css_class (widget, "card");

  drag_source = gtk_drag_source_new ();
  gtk_drag_source_set_actions (drag_source, GDK_ACTION_MOVE);
  g_signal_connect (drag_source, "prepare", G_CALLBACK (on_drag_source_prepare_cb), self);
  g_signal_connect (drag_source, "drag-begin", G_CALLBACK (on_drag_source_drag_begin_cb), self);
  g_signal_connect (drag_source, "drag-end", G_CALLBACK (on_drag_source_drag_end_cb), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag_source));

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_secondary_click_pressed_cb), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));

  /* Both actions are enabled as a class installs them; a card without a
   * request has nothing to copy. */
  self->copy_enabled = TRUE;
  self->move_enabled = TRUE;
  set_copy_enabled (self, FALSE);
}

/* For tests: the part called @name ("name_label", "menu_button",
 * "result_box", …), or %NULL while it is not built. */
GtkWidget *
rd_device_card_get_part (RdDeviceCard *self,
                         const char   *name)
{
  static const struct
  {
    const char *name;
    gsize offset;
  } parts[] = {
#define PART(field) { #field, G_STRUCT_OFFSET (RdDeviceCard, field) }
    PART (name_label),      PART (details_label),    PART (sync_label),  PART (bitlocker_badge),
    PART (autopilot_badge), PART (compliance_badge), PART (menu_button), PART (state_label),
    PART (wipe_badge),      PART (result_box),       PART (spinner),     PART (result_label),
    PART (request_box),     PART (request_label),    PART (copy_button), PART (menu),
#undef PART
  };

  g_return_val_if_fail (RD_IS_DEVICE_CARD (self), NULL);

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (g_str_equal (parts[i].name, name))
      return G_STRUCT_MEMBER (GtkWidget *, self, parts[i].offset);

  g_critical ("RdDeviceCard has no part called “%s”", name);
  return NULL;
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
    {
      ensure_parts (self);
      g_signal_connect_object (self->device, "notify", G_CALLBACK (on_device_notify_cb), self,
                               G_CONNECT_SWAPPED);
    }

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
      ensure_parts (self);
      g_signal_connect_object (self->plan, "notify::state", G_CALLBACK (on_plan_notify_state_cb),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->plan, "notify::last-error",
                               G_CALLBACK (on_plan_notify_state_cb), self, G_CONNECT_SWAPPED);
    }

  update_plan (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAN]);
}
