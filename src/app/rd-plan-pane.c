/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-plan-pane"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-device-actions.h"
#include "rd-method.h"
#include "rd-plan-pane.h"
#include "rd-readiness.h"
#include "rd-session.h"
#include "rd-ui-utils.h"

/* The plan of one device in Break and Fix or Reuse: the method, the
 * readiness checks that gate it, what it keeps and loses, and a Run button
 * that stays insensitive while a check blocks, naming the blocker. Run
 * activates the window's "win.run-plan", which asks for confirmation; the
 * pane itself sends nothing. It also shows the exact Graph request the plan
 * sends and, with a session, the device's entries in the audit log. */

struct _RdPlanPane
{
  GtkWidget parent_instance;

  RdBoard *board;
  RdDevice *device;
  RdPlan *plan;
  RdSession *session; /* weak: the window owns it */
  GtkCheckButton *method_checks[RD_METHOD_AUTOPILOT_RESET + 1];
  guint refresh_id;
  gboolean updating;

  GtkLabel *title_label;
  GtkLabel *lane_label;
  GtkLabel *state_label;
  GtkListBox *method_list;
  AdwPreferencesGroup *checks_group;
  GtkListBox *checks_list;
  GtkListBox *kept_list;
  GtkListBox *lost_list;
  GtkWidget *reason_box;
  GtkLabel *reason_label;
  GtkButton *run_button;
  GtkWidget *request_group;
  AdwExpanderRow *request_row;
  GtkLabel *request_line_label;
  GtkLabel *request_body_label;
  GtkListBox *history_list;
};

G_DEFINE_FINAL_TYPE (RdPlanPane, rd_plan_pane, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_BOARD,
  PROP_DEVICE,
  N_PROPS
};

enum
{
  SIGNAL_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  gtk_list_box_bind_model (list, NULL, NULL, NULL, NULL);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static GtkWidget *
new_row (const char *title,
         const char *subtitle,
         const char *icon_name,
         const char *style)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;

  /* Titles come from the core and from Graph, never markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  if (icon_name != NULL)
    {
      icon = gtk_image_new_from_icon_name (icon_name);
      gtk_widget_set_valign (icon, GTK_ALIGN_CENTER);
      rd_ui_set_style (icon, style);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    }

  return row;
}

static GtkWidget *
create_check_row (gpointer item,
                  gpointer user_data)
{
  RdCheck *check = item;
  RdCheckSeverity severity = rd_check_get_severity (check);
  GtkWidget *row = new_row (rd_check_get_title (check), rd_check_get_explanation (check),
                            rd_ui_severity_icon_name (severity), rd_ui_severity_style (severity));

  gtk_widget_add_css_class (row, "check-row");
  return row;
}

static GtkWidget *
create_kept_row (gpointer item,
                 gpointer user_data)
{
  return new_row (gtk_string_object_get_string (item), NULL, "object-select-symbolic", "success");
}

static GtkWidget *
create_lost_row (gpointer item,
                 gpointer user_data)
{
  return new_row (gtk_string_object_get_string (item), NULL, "list-remove-symbolic", "error");
}

/* The checks that need attention come first; the core's order within a
 * severity is kept (the sort is stable). */
static int
compare_severity (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  return (int) rd_check_get_severity ((RdCheck *) b) - (int) rd_check_get_severity ((RdCheck *) a);
}

static void
bind_strings (GtkListBox                 *list,
              GStrv                       strings,
              GtkListBoxCreateWidgetFunc  create)
{
  g_autoptr(GtkStringList) model = gtk_string_list_new ((const char *const *) strings);

  gtk_list_box_bind_model (list, G_LIST_MODEL (model), create, NULL, NULL);
}

static const char *
run_label (RdMethod method)
{
  switch (method)
    {
    case RD_METHOD_WIPE_RETAIN:
      return _("_Wipe Device…");
    case RD_METHOD_AUTOPILOT_RESET:
      return _("_Reset Device…");
    case RD_METHOD_REIMAGE_OEM:
    case RD_METHOD_REIMAGE_UNIVERSAL:
    default:
      /* A reimage is done by hand from a USB key: Run prepares the key. */
      return _("_Prepare USB Key…");
    }
}

static void
summarize_checks (RdPlanPane *self,
                  GListModel *checks)
{
  guint counts[RD_CHECK_SEVERITY_BLOCKER + 1] = { 0 };
  guint n = g_list_model_get_n_items (checks);
  g_autofree char *description = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdCheck) check = g_list_model_get_item (checks, i);

      counts[rd_check_get_severity (check)]++;
    }

  if (counts[RD_CHECK_SEVERITY_BLOCKER] > 0)
    description = g_strdup_printf (ngettext ("%u check blocks this plan",
                                             "%u checks block this plan",
                                             counts[RD_CHECK_SEVERITY_BLOCKER]),
                                   counts[RD_CHECK_SEVERITY_BLOCKER]);
  else if (counts[RD_CHECK_SEVERITY_WARNING] > 0)
    description = g_strdup_printf (ngettext ("Ready, with %u warning to read first",
                                             "Ready, with %u warnings to read first",
                                             counts[RD_CHECK_SEVERITY_WARNING]),
                                   counts[RD_CHECK_SEVERITY_WARNING]);
  else
    description = g_strdup (_("Every check passes"));

  adw_preferences_group_set_description (self->checks_group, description);
}

static void
update_run (RdPlanPane *self,
            GListModel *checks)
{
  RdCheck *blocker = checks != NULL ? rd_readiness_first_blocker (checks) : NULL;
  g_autofree char *reason = NULL;
  gboolean can_run = FALSE;

  if (self->plan == NULL)
    ;
  else if (rd_plan_is_in_flight (self->plan))
    reason = g_strdup (_("The action has been sent to the device. It cannot run again until it "
                         "is done or has failed."));
  else if (!rd_plan_is_editable (self->plan))
    /* Translators: %s is the state of a plan, such as "Done". */
    reason = g_strdup_printf (_("Nothing to run: the plan is “%s”."),
                              rd_ui_plan_state_title (rd_plan_get_state (self->plan)));
  else if (blocker != NULL)
    /* Translators: %s is the title of the readiness check that blocks. */
    reason = g_strdup_printf (_("Blocked: %s"), rd_check_get_title (blocker));
  else
    can_run = TRUE;

  /* A failed send can be tried again; what Graph said stays in view,
   * request-id included, for the admin to copy into a support case. */
  if (can_run && rd_plan_get_state (self->plan) == RD_PLAN_STATE_FAILED &&
      rd_plan_get_last_error (self->plan) != NULL)
    /* Translators: %s is the error Microsoft Graph gave, with its request-id. */
    reason = g_strdup_printf (_("The last attempt failed: %s"), rd_plan_get_last_error (self->plan));

  gtk_label_set_label (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (self->reason_box, reason != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "pane.run", can_run);
  if (self->plan != NULL)
    {
      gboolean reimage = rd_method_is_reimage (rd_plan_get_method (self->plan));

      gtk_button_set_label (self->run_button, run_label (rd_plan_get_method (self->plan)));
      gtk_button_set_use_underline (self->run_button, TRUE);
      /* Only the wipes are destructive from here; a key is written in the
       * USB keys view, which asks before it erases anything. */
      if (reimage)
        {
          gtk_widget_remove_css_class (GTK_WIDGET (self->run_button), "destructive-action");
          gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "suggested-action");
        }
      else
        {
          gtk_widget_remove_css_class (GTK_WIDGET (self->run_button), "suggested-action");
          gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "destructive-action");
        }
    }
}

static void on_method_check_toggled_cb (GtkCheckButton *check,
                                        RdPlanPane     *self);

static void
rebuild_methods (RdPlanPane *self)
{
  RdLane lane = self->plan != NULL ? rd_plan_get_lane (self->plan) : RD_LANE_INVENTORY;
  GtkCheckButton *group = NULL;
  guint n = 0;

  self->updating = TRUE;
  clear_list (self->method_list);
  self->updating = FALSE;
  memset (self->method_checks, 0, sizeof self->method_checks);
  if (self->plan == NULL)
    return;

  for (RdMethod method = RD_METHOD_WIPE_RETAIN; method <= RD_METHOD_AUTOPILOT_RESET; method++)
    n += rd_method_get_lane (method) == lane;

  for (RdMethod method = RD_METHOD_WIPE_RETAIN; method <= RD_METHOD_AUTOPILOT_RESET; method++)
    {
      GtkWidget *row, *check;

      if (rd_method_get_lane (method) != lane)
        continue;

      row = new_row (rd_method_get_title (method), rd_method_get_description (method), NULL, NULL);
      gtk_list_box_append (self->method_list, row);

      /* A lane with one method shows it, with nothing to choose. */
      if (n < 2)
        continue;

      check = gtk_check_button_new ();
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_check_button_set_group (GTK_CHECK_BUTTON (check), group);
      group = GTK_CHECK_BUTTON (check);
      g_object_set_data (G_OBJECT (check), "rd-method", GINT_TO_POINTER (method));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      g_signal_connect (check, "toggled", G_CALLBACK (on_method_check_toggled_cb), self);
      self->method_checks[method] = GTK_CHECK_BUTTON (check);
    }
}

/* The request comes from the graph layer, exactly as it is sent; a reimage
 * sends nothing through Graph and hides it. */
static void
update_request (RdPlanPane *self)
{
  g_autofree char *method = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autofree char *line = NULL;
  RdGraphClient *client = NULL;
  const char *base_url = NULL;

  if (self->plan == NULL || !rd_device_actions_describe_request (self->plan, &method, &path, &body))
    {
      gtk_widget_set_visible (self->request_group, FALSE);
      gtk_label_set_label (self->request_line_label, "");
      gtk_label_set_label (self->request_body_label, "");
      return;
    }

  if (self->session != NULL)
    client = rd_session_get_client (self->session);
  if (client != NULL)
    base_url = rd_graph_client_get_base_url (client);

  if (base_url != NULL && g_str_has_suffix (base_url, "/") && g_str_has_prefix (path, "/"))
    line = g_strdup_printf ("%s %.*s%s", method, (int) strlen (base_url) - 1, base_url, path);
  else
    line = g_strdup_printf ("%s %s%s", method, base_url != NULL ? base_url : "", path);

  gtk_label_set_label (self->request_line_label, line);
  gtk_label_set_label (self->request_body_label, body != NULL ? body : "");
  gtk_widget_set_visible (self->request_group, TRUE);
}

static const char *
outcome_title (const char *outcome)
{
  if (g_strcmp0 (outcome, "sent") == 0)
    return C_ ("outcome", "Sent");
  if (g_strcmp0 (outcome, "failed") == 0)
    return C_ ("outcome", "Failed");
  return C_ ("outcome", "Unknown");
}

static GtkWidget *
new_history_row (RdAuditEntry *entry)
{
  GDateTime *time = rd_audit_entry_get_time (entry);
  const char *action = rd_audit_entry_get_method (entry);
  const char *outcome = rd_audit_entry_get_outcome (entry);
  const char *request_id = rd_audit_entry_get_request_id (entry);
  g_autofree char *when = NULL;
  g_autofree char *subtitle = NULL;
  RdMethod method;
  GtkWidget *row;

  if (action != NULL && rd_method_from_string (action, &method))
    action = rd_method_get_title (method);
  else if (g_strcmp0 (action, "sync") == 0)
    action = _ ("Sync");
  else if (action == NULL || *action == '\0')
    action = _ ("Request");

  if (time != NULL)
    {
      g_autoptr (GDateTime) local = g_date_time_to_local (time);

      /* Translators: when an action was sent; see g_date_time_format(). */
      when = g_date_time_format (local, _ ("%e %b %Y, %H:%M:%S"));
    }

  if (request_id != NULL && *request_id != '\0')
    /* Translators: the outcome of a request, when it was sent, and the
     * request-id Graph gave it. */
    subtitle = g_strdup_printf (_ ("%s · %s · request-id %s"), outcome_title (outcome),
                                when != NULL ? g_strstrip (when) : "", request_id);
  else
    /* Translators: the outcome of a request and when it was sent. */
    subtitle = g_strdup_printf (_ ("%s · %s"), outcome_title (outcome),
                                when != NULL ? g_strstrip (when) : "");

  row = new_row (action, subtitle, NULL, NULL);
  gtk_widget_add_css_class (row, "history-row");
  return row;
}

/* The device's entries in the audit log, oldest first. */
static void
refresh_history (RdPlanPane *self)
{
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (GError) error = NULL;
  RdAuditLog *audit_log = self->session != NULL ? rd_session_get_audit_log (self->session) : NULL;
  const char *device_id = self->device != NULL ? rd_device_get_id (self->device) : NULL;
  guint shown = 0;

  clear_list (self->history_list);
  if (audit_log != NULL && device_id != NULL)
    entries = rd_audit_log_read (audit_log, NULL, &error);
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_debug ("Could not read the audit log: %s", error->message);

  for (guint i = 0; entries != NULL && i < g_list_model_get_n_items (entries); i++)
    {
      g_autoptr (RdAuditEntry) entry = g_list_model_get_item (entries, i);

      if (g_strcmp0 (rd_audit_entry_get_device_id (entry), device_id) != 0)
        continue;
      gtk_list_box_append (self->history_list, new_history_row (entry));
      shown++;
    }

  if (shown == 0)
    {
      GtkWidget *row = new_row (_ ("Nothing sent yet"), NULL, NULL, NULL);

      gtk_widget_add_css_class (row, "dim-label");
      gtk_list_box_append (self->history_list, row);
    }
}

static void
refresh (RdPlanPane *self)
{
  g_autoptr(GListModel) checks = NULL;
  g_autoptr(GtkSortListModel) sorted = NULL;
  g_auto(GStrv) kept = NULL;
  g_auto(GStrv) lost = NULL;
  RdMethod method;
  RdPlanState state;

  g_clear_handle_id (&self->refresh_id, g_source_remove);

  if (self->plan == NULL)
    {
      clear_list (self->checks_list);
      clear_list (self->kept_list);
      clear_list (self->lost_list);
      update_request (self);
      update_run (self, NULL);
      return;
    }

  method = rd_plan_get_method (self->plan);
  state = rd_plan_get_state (self->plan);

  gtk_label_set_label (self->title_label, rd_device_get_name (self->device));
  gtk_label_set_label (self->lane_label, rd_lane_get_title (rd_plan_get_lane (self->plan)));
  gtk_label_set_label (self->state_label, rd_ui_plan_state_title (state));
  rd_ui_set_style (GTK_WIDGET (self->state_label), rd_ui_plan_state_style (state));

  self->updating = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (self->method_checks); i++)
    if (self->method_checks[i] != NULL)
      {
        if (i == method)
          gtk_check_button_set_active (self->method_checks[i], TRUE);
        gtk_widget_set_sensitive (GTK_WIDGET (self->method_checks[i]),
                                  rd_plan_is_editable (self->plan));
      }
  self->updating = FALSE;

  checks = rd_board_evaluate (self->board, self->device);
  sorted = gtk_sort_list_model_new (g_object_ref (checks),
                                    GTK_SORTER (gtk_custom_sorter_new (compare_severity, NULL, NULL)));
  gtk_list_box_bind_model (self->checks_list, G_LIST_MODEL (sorted), create_check_row, NULL, NULL);
  summarize_checks (self, checks);

  kept = rd_method_dup_kept (method);
  lost = rd_method_dup_lost (method);
  bind_strings (self->kept_list, kept, create_kept_row);
  bind_strings (self->lost_list, lost, create_lost_row);

  update_request (self);
  update_run (self, checks);
}

static gboolean
refresh_idle_cb (gpointer user_data)
{
  RdPlanPane *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

/* Actions */

static void
run_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  RdPlanPane *self = RD_PLAN_PANE (widget);

  if (self->device == NULL)
    return;

  if (self->plan != NULL && rd_method_is_reimage (rd_plan_get_method (self->plan)))
    gtk_widget_activate_action (widget, "win.prepare-usb-key", "s",
                                rd_device_get_id (self->device));
  else
    gtk_widget_activate_action (widget, "win.run-plan", "s", rd_device_get_id (self->device));
}

static void
close_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  rd_plan_pane_set_device (RD_PLAN_PANE (widget), NULL);
}

/* Callbacks */

static void
on_method_check_toggled_cb (GtkCheckButton *check,
                            RdPlanPane     *self)
{
  g_autoptr(GError) error = NULL;
  RdMethod method = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (check), "rd-method"));

  if (self->updating || !gtk_check_button_get_active (check) || self->plan == NULL ||
      rd_plan_get_method (self->plan) == method)
    return;

  if (!rd_board_set_method (self->board, self->device, method, &error))
    {
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, error->message);
      refresh (self);
    }
}

static void
on_plan_notify_cb (RdPlanPane *self)
{
  refresh (self);
}

/* A change of state follows a send: the history has a new entry. */
static void
on_plan_state_cb (RdPlanPane *self)
{
  refresh_history (self);
}

/* A sync changes a device one property at a time; refresh once after. */
static void
on_device_notify_cb (RdPlanPane *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_idle_add (refresh_idle_cb, self);
}

/* GObject overrides */

static void
rd_plan_pane_dispose (GObject *object)
{
  RdPlanPane *self = (RdPlanPane *) object;
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  self->updating = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_PLAN_PANE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  memset (self->method_checks, 0, sizeof self->method_checks);
  g_clear_object (&self->plan);
  g_clear_object (&self->device);
  g_clear_object (&self->board);
  g_clear_weak_pointer (&self->session);

  G_OBJECT_CLASS (rd_plan_pane_parent_class)->dispose (object);
}

static void
rd_plan_pane_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  RdPlanPane *self = RD_PLAN_PANE (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      g_value_set_object (value, self->board);
      break;
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_plan_pane_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  RdPlanPane *self = RD_PLAN_PANE (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      rd_plan_pane_set_board (self, g_value_get_object (value));
      break;
    case PROP_DEVICE:
      rd_plan_pane_set_device (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_plan_pane_class_init (RdPlanPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_plan_pane_dispose;
  object_class->get_property = rd_plan_pane_get_property;
  object_class->set_property = rd_plan_pane_set_property;

  properties[PROP_BOARD] =
    g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DEVICE] =
    g_param_spec_object ("device", NULL, NULL, RD_TYPE_DEVICE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RdPlanPane::failed:
   * @message: what went wrong, for a person
   *
   * Emitted when a change made in the pane (the method) is refused.
   */
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "pane.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "pane.close", NULL, close_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "pane.close", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "planpane");
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-plan-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, title_label);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, lane_label);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, state_label);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, method_list);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, checks_group);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, checks_list);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, kept_list);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, lost_list);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, reason_box);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, reason_label);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, run_button);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, request_group);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, request_row);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, request_line_label);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, request_body_label);
  gtk_widget_class_bind_template_child (widget_class, RdPlanPane, history_list);
}

static void
rd_plan_pane_init (RdPlanPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_request (self);
  refresh_history (self);
  update_run (self, NULL);
}

RdBoard *
rd_plan_pane_get_board (RdPlanPane *self)
{
  g_return_val_if_fail (RD_IS_PLAN_PANE (self), NULL);

  return self->board;
}

void
rd_plan_pane_set_board (RdPlanPane *self,
                        RdBoard    *board)
{
  g_return_if_fail (RD_IS_PLAN_PANE (self));
  g_return_if_fail (board == NULL || RD_IS_BOARD (board));

  if (self->board == board)
    return;

  rd_plan_pane_set_device (self, NULL);
  g_set_object (&self->board, board);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOARD]);
}

/**
 * rd_plan_pane_get_device:
 *
 * Returns: (nullable) (transfer none): the device whose plan is shown
 */
RdDevice *
rd_plan_pane_get_device (RdPlanPane *self)
{
  g_return_val_if_fail (RD_IS_PLAN_PANE (self), NULL);

  return self->device;
}

/**
 * rd_plan_pane_set_device:
 * @device: (nullable): a device with a plan on the pane's board, or %NULL
 */
void
rd_plan_pane_set_device (RdPlanPane *self,
                         RdDevice   *device)
{
  g_return_if_fail (RD_IS_PLAN_PANE (self));
  g_return_if_fail (device == NULL || RD_IS_DEVICE (device));

  if (self->device == device)
    return;

  if (self->plan != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->plan, on_plan_notify_cb, self);
      g_signal_handlers_disconnect_by_func (self->plan, on_plan_state_cb, self);
    }
  if (self->device != NULL)
    g_signal_handlers_disconnect_by_func (self->device, on_device_notify_cb, self);

  g_set_object (&self->device, device);
  g_clear_object (&self->plan);
  if (device != NULL && self->board != NULL && rd_board_get_plan (self->board, device) != NULL)
    self->plan = g_object_ref (rd_board_get_plan (self->board, device));

  if (self->plan != NULL)
    {
      g_signal_connect_object (self->plan, "notify::state", G_CALLBACK (on_plan_notify_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->plan, "notify::method", G_CALLBACK (on_plan_notify_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->plan, "notify::state", G_CALLBACK (on_plan_state_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->device, "notify", G_CALLBACK (on_device_notify_cb), self,
                               G_CONNECT_SWAPPED);
    }

  rebuild_methods (self);
  refresh (self);
  refresh_history (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}

/**
 * rd_plan_pane_set_session:
 * @session: (nullable) (transfer none): the window's session, or %NULL
 *
 * The session gives the full URL of the request and the audit log the
 * history comes from. The pane does not keep @session alive.
 */
void
rd_plan_pane_set_session (RdPlanPane *self,
                          RdSession  *session)
{
  g_return_if_fail (RD_IS_PLAN_PANE (self));
  g_return_if_fail (session == NULL || RD_IS_SESSION (session));

  g_set_weak_pointer (&self->session, session);
  update_request (self);
  refresh_history (self);
}
