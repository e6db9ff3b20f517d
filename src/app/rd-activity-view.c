/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-activity-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-activity-view.h"
#include "rd-csv.h"
#include "rd-method.h"
#include "rd-view-utils.h"

#include <string.h>

/* The audit log: every action Recovery Desk sent, with its outcome and the
 * request-id Microsoft Graph answered with, which is what Microsoft support
 * asks for.
 *
 * The log is read on a worker thread (it grows with every action and is
 * never trimmed) into a GListStore this view owns; the pipeline is that
 * store → GtkSortListModel (the column view's sorter, newest first) →
 * GtkFilterListModel (device and outcome) → GtkSingleSelection. */

struct _RdActivityView
{
  GtkWidget parent_instance;

  RdAuditLog *audit_log;
  GCancellable *load_cancellable;
  GCancellable *cancellable;
  gboolean loading;
  gboolean load_failed;

  char *search;
  char *folded_search;
  char *outcome;

  GListStore *entries;
  GtkSortListModel *sort_model;
  GtkCustomFilter *filter;
  GtkFilterListModel *filter_model;
  GtkSingleSelection *selection;

  GtkFileChooserNative *chooser;

  AdwToastOverlay *toast_overlay;
  GtkSearchEntry *search_entry;
  GtkDropDown *outcome_dropdown;
  GtkLabel *count_label;
  GtkButton *export_button;
  GtkStack *stack;
  AdwStatusPage *error_page;
  GtkColumnView *column_view;
  GtkColumnViewColumn *time_column;
};

G_DEFINE_FINAL_TYPE (RdActivityView, rd_activity_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_AUDIT_LOG,
  PROP_LOADING,
  PROP_SEARCH,
  PROP_OUTCOME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The outcomes RdDeviceActions records, in the order of the drop-down after
 * "All Outcomes". Anything else a log holds counts as unknown. */
static const char *const outcomes[] = { "sent", "failed", "unknown" };

static const char *
normalize_outcome (const char *outcome)
{
  for (guint i = 0; i < G_N_ELEMENTS (outcomes); i++)
    if (g_strcmp0 (outcome, outcomes[i]) == 0)
      return outcomes[i];

  return "unknown";
}

/* Filtering */

static gboolean
filter_entry (gpointer item,
              gpointer user_data)
{
  RdActivityView *self = user_data;
  RdAuditEntry *entry = item;

  if (self->outcome != NULL &&
      strcmp (normalize_outcome (rd_audit_entry_get_outcome (entry)), self->outcome) != 0)
    return FALSE;

  if (self->folded_search != NULL)
    {
      const char *fields[] = { rd_audit_entry_get_device_name (entry),
                               rd_audit_entry_get_device_id (entry) };

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          g_autofree char *folded = NULL;

          if (fields[i] == NULL)
            continue;
          folded = g_utf8_casefold (fields[i], -1);
          if (strstr (folded, self->folded_search) != NULL)
            return TRUE;
        }
      return FALSE;
    }

  return TRUE;
}

static void
update_state (RdActivityView *self)
{
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->entries));
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));
  g_autofree char *count = NULL;
  const char *page;

  if (shown != total)
    /* Translators: how many audit entries the filters show, of how many. */
    count = g_strdup_printf (ngettext ("%u of %u action", "%u of %u actions", total), shown,
                             total);
  else
    count = g_strdup_printf (ngettext ("%u action", "%u actions", total), total);
  gtk_label_set_label (self->count_label, count);
  gtk_widget_set_visible (GTK_WIDGET (self->count_label), total > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->search_entry), total > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->outcome_dropdown), total > 0);

  if (self->load_failed && total == 0)
    page = "error";
  else if (self->loading && total == 0)
    page = "loading";
  else if (total == 0)
    page = "empty";
  else if (shown == 0)
    page = "no-results";
  else
    page = "list";
  gtk_stack_set_visible_child_name (self->stack, page);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "activity.export", shown > 0);
}

static void
on_filter_model_items_changed_cb (RdActivityView *self)
{
  update_state (self);
}

/* Cells */

static RdAuditEntry *
list_item_entry (GtkListItem *list_item)
{
  return RD_AUDIT_ENTRY (gtk_list_item_get_item (list_item));
}

static void
on_time_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 RdActivityView           *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  GDateTime *time = rd_audit_entry_get_time (list_item_entry (list_item));
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) utc = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tooltip = NULL;

  if (time == NULL)
    {
      rd_view_set_cell (label, "", NULL, NULL);
      return;
    }

  local = g_date_time_to_local (time);
  utc = g_date_time_to_utc (time);
  /* Translators: when an action was sent; see g_date_time_format(). */
  text = g_date_time_format (local, _("%e %b %Y, %H:%M:%S"));
  tooltip = g_date_time_format_iso8601 (utc);
  rd_view_set_cell (label, g_strstrip (text), tooltip, "numeric");
}

static void
on_action_bind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   RdActivityView           *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  RdAuditEntry *entry = list_item_entry (list_item);
  const char *method = rd_audit_entry_get_method (entry);
  const char *request_method = rd_audit_entry_get_request_method (entry);
  const char *request_path = rd_audit_entry_get_request_path (entry);
  g_autofree char *request = NULL;
  RdMethod value;

  if (request_method != NULL || request_path != NULL)
    request = g_strdup_printf ("%s %s", request_method != NULL ? request_method : "",
                               request_path != NULL ? request_path : "");

  if (method != NULL && rd_method_from_string (method, &value))
    rd_view_set_cell (label, rd_method_get_title (value), request, NULL);
  else if (method != NULL && *method != '\0')
    rd_view_set_cell (label, method, request, NULL);
  else
    rd_view_set_cell (label, request != NULL ? request : "", NULL, NULL);
}

static void
on_device_bind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   RdActivityView           *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  RdAuditEntry *entry = list_item_entry (list_item);
  const char *name = rd_audit_entry_get_device_name (entry);
  const char *id = rd_audit_entry_get_device_id (entry);
  g_autofree char *tooltip = NULL;

  if (id != NULL)
    /* Translators: %s is a device's Intune id. */
    tooltip = g_strdup_printf (_("Intune id: %s"), id);

  if (name != NULL && *name != '\0')
    rd_view_set_cell (label, name, tooltip, NULL);
  else
    rd_view_set_cell (label, id != NULL ? id : "", NULL, NULL);
}

static void
on_outcome_bind_cb (GtkSignalListItemFactory *factory,
                    GtkListItem              *list_item,
                    RdActivityView           *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  const char *outcome = normalize_outcome (rd_audit_entry_get_outcome (list_item_entry (list_item)));
  const char *text, *tooltip, *style;

  if (strcmp (outcome, "sent") == 0)
    {
      text = C_("outcome", "Sent");
      tooltip = _("Intune accepted the action");
      style = "success";
    }
  else if (strcmp (outcome, "failed") == 0)
    {
      text = C_("outcome", "Failed");
      tooltip = _("Microsoft Graph refused the action; its request ID tells Microsoft support why");
      style = "error";
    }
  else
    {
      text = C_("outcome", "Unknown");
      tooltip = _("The connection broke before Microsoft Graph answered: check the device in "
                  "the Intune admin center before sending anything again");
      style = "warning";
    }

  rd_view_set_badge (label, text, tooltip, style);
}

static void
on_status_bind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   RdActivityView           *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  int status = rd_audit_entry_get_http_status (list_item_entry (list_item));
  g_autofree char *text = NULL;

  if (status == 0)
    {
      rd_view_set_cell (label, "—", _("No answer was received"), "dim-label");
      return;
    }

  text = g_strdup_printf ("%d", status);
  rd_view_set_cell (label, text, NULL, "numeric");
}

static void
on_request_id_setup_cb (GtkSignalListItemFactory *factory,
                        GtkListItem              *list_item,
                        RdActivityView           *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *button = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_width_chars (GTK_LABEL (label), 12);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "monospace");

  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Copy Request ID"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Copy Request ID"), -1);
  /* The target first: the action takes a string, and bind sets the ID. */
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", "");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "activity.copy-request-id");

  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), button);
  gtk_list_item_set_child (list_item, box);
}

static void
on_request_id_bind_cb (GtkSignalListItemFactory *factory,
                       GtkListItem              *list_item,
                       RdActivityView           *self)
{
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkLabel *label = GTK_LABEL (gtk_widget_get_first_child (box));
  GtkWidget *button = gtk_widget_get_last_child (box);
  const char *request_id = rd_audit_entry_get_request_id (list_item_entry (list_item));
  gboolean has_id = request_id != NULL && *request_id != '\0';

  gtk_label_set_label (label, has_id ? request_id : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), has_id ? request_id : NULL);
  /* Hidden but still taking its room, so every row has the same height. */
  gtk_widget_set_sensitive (button, has_id);
  gtk_widget_set_opacity (button, has_id ? 1.0 : 0.0);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", has_id ? request_id : "");
}

/* Sorting */

static int
compare_time (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  GDateTime *ta = rd_audit_entry_get_time ((RdAuditEntry *) a);
  GDateTime *tb = rd_audit_entry_get_time ((RdAuditEntry *) b);
  int result;

  if (ta == NULL || tb == NULL)
    result = (ta != NULL) - (tb != NULL);
  else
    result = g_date_time_compare (ta, tb);

  return result < 0 ? GTK_ORDERING_SMALLER : result > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

/* Loading */

static void
read_log_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  RdAuditLog *log = task_data;
  g_autoptr(GListModel) entries = NULL;
  g_autoptr(GError) error = NULL;
  guint n_skipped = 0;

  entries = rd_audit_log_read (log, &n_skipped, &error);
  if (entries == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_object_set_data (G_OBJECT (entries), "rd-n-skipped", GUINT_TO_POINTER (n_skipped));
  g_task_return_pointer (task, g_steal_pointer (&entries), g_object_unref);
}

static void
set_loading (RdActivityView *self,
             gboolean        loading)
{
  if (self->loading == loading)
    return;

  self->loading = loading;
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
on_log_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  RdActivityView *self;
  g_autoptr(GListModel) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  guint n_skipped;

  entries = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = RD_ACTIVITY_VIEW (user_data);
  g_clear_object (&self->load_cancellable);

  if (entries == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      self->load_failed = TRUE;
      g_list_store_remove_all (self->entries);
      set_loading (self, FALSE);
      update_state (self);
      return;
    }

  n_skipped = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (entries), "rd-n-skipped"));
  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < g_list_model_get_n_items (entries); i++)
    g_ptr_array_add (items, g_list_model_get_item (entries, i));

  self->load_failed = FALSE;
  g_list_store_splice (self->entries, 0, g_list_model_get_n_items (G_LIST_MODEL (self->entries)),
                       items->pdata, items->len);
  set_loading (self, FALSE);

  if (n_skipped > 0)
    {
      g_autofree char *title =
        g_strdup_printf (ngettext ("%u line of the audit log could not be read",
                                   "%u lines of the audit log could not be read", n_skipped),
                         n_skipped);

      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (title));
    }
}

/**
 * rd_activity_view_reload:
 *
 * Reads the audit log again, off the main thread. The rows shown stay until
 * the new ones are in; a reload already running is abandoned.
 */
void
rd_activity_view_reload (RdActivityView *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RD_IS_ACTIVITY_VIEW (self));

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);

  if (self->audit_log == NULL)
    {
      g_list_store_remove_all (self->entries);
      set_loading (self, FALSE);
      return;
    }

  self->load_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->load_cancellable, on_log_read_cb, self);
  g_task_set_source_tag (task, rd_activity_view_reload);
  g_task_set_task_data (task, g_object_ref (self->audit_log), g_object_unref);
  g_task_set_return_on_cancel (task, TRUE);
  set_loading (self, TRUE);
  g_task_run_in_thread (task, read_log_thread);
}

/* Actions */

static void
copy_request_id_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (widget);
  const char *request_id = g_variant_get_string (parameter, NULL);

  if (*request_id == '\0')
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), request_id);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Request ID copied")));
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  rd_activity_view_reload (RD_ACTIVITY_VIEW (widget));
}

static void
on_export_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (source);
  g_autoptr(GFile) file = user_data;
  g_autoptr(GError) error = NULL;

  rd_activity_view_export_finish (self, result, &error);
  rd_view_add_export_toast (self->toast_overlay, file, error);
}

static void
on_chooser_response_cb (GtkNativeDialog *chooser,
                        int              response,
                        RdActivityView  *self)
{
  g_autoptr(GFile) file = rd_view_chooser_take_file (chooser, response);

  g_clear_object (&self->chooser);

  if (file != NULL)
    rd_activity_view_export_async (self, file, self->cancellable, on_export_done_cb,
                                   g_object_ref (file));
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (widget);

  if (self->chooser == NULL)
    {
      /* Translators: the suggested file name of the export; keep the .csv. */
      const char *name_format = _("recovery-desk-activity-%Y-%m-%d.csv");

      self->chooser = rd_view_csv_chooser_new (widget, _("Export Activity"), name_format);
      g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response_cb), self);
    }

  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/**
 * rd_activity_view_export_async:
 * @file: the CSV file to write; an existing file is replaced
 *
 * Writes the entries the view shows, in the order it shows them, as
 * rd_csv_format_audit() formats them. The export button calls this with the
 * file the admin chose.
 */
void
rd_activity_view_export_async (RdActivityView      *self,
                               GFile               *file,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *csv = NULL;

  g_return_if_fail (RD_IS_ACTIVITY_VIEW (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_activity_view_export_async);

  csv = rd_csv_format_audit (G_LIST_MODEL (self->filter_model));
  rd_view_save_csv (g_steal_pointer (&task), file, csv);
}

gboolean
rd_activity_view_export_finish (RdActivityView  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (RD_IS_ACTIVITY_VIEW (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_activity_view_export_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Template callbacks */

static void
on_search_entry_search_changed_cb (GtkSearchEntry *entry,
                                   RdActivityView *self)
{
  rd_activity_view_set_search (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
on_outcome_dropdown_notify_selected_cb (GtkDropDown    *dropdown,
                                        GParamSpec     *pspec,
                                        RdActivityView *self)
{
  guint selected = gtk_drop_down_get_selected (dropdown);

  rd_activity_view_set_outcome (self, selected >= 1 && selected <= G_N_ELEMENTS (outcomes)
                                        ? outcomes[selected - 1]
                                        : NULL);
}

/* GObject overrides */

static void
rd_activity_view_dispose (GObject *object)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (object);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  /* The models may outlive the template children their handlers update. */
  if (self->filter_model != NULL)
    g_signal_handlers_disconnect_by_data (self->filter_model, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_ACTIVITY_VIEW);

  if (self->filter != NULL)
    gtk_custom_filter_set_filter_func (self->filter, NULL, NULL, NULL);
  g_clear_object (&self->selection);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->filter);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->entries);
  g_clear_object (&self->audit_log);

  G_OBJECT_CLASS (rd_activity_view_parent_class)->dispose (object);
}

static void
rd_activity_view_finalize (GObject *object)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (object);

  g_clear_pointer (&self->search, g_free);
  g_clear_pointer (&self->folded_search, g_free);
  g_clear_pointer (&self->outcome, g_free);

  G_OBJECT_CLASS (rd_activity_view_parent_class)->finalize (object);
}

static void
rd_activity_view_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (object);

  switch (prop_id)
    {
    case PROP_AUDIT_LOG:
      g_value_set_object (value, self->audit_log);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_SEARCH:
      g_value_set_string (value, self->search);
      break;
    case PROP_OUTCOME:
      g_value_set_string (value, self->outcome);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_activity_view_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  RdActivityView *self = RD_ACTIVITY_VIEW (object);

  switch (prop_id)
    {
    case PROP_AUDIT_LOG:
      rd_activity_view_set_audit_log (self, g_value_get_object (value));
      break;
    case PROP_SEARCH:
      rd_activity_view_set_search (self, g_value_get_string (value));
      break;
    case PROP_OUTCOME:
      rd_activity_view_set_outcome (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_activity_view_class_init (RdActivityViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_activity_view_dispose;
  object_class->finalize = rd_activity_view_finalize;
  object_class->get_property = rd_activity_view_get_property;
  object_class->set_property = rd_activity_view_set_property;

  properties[PROP_AUDIT_LOG] =
    g_param_spec_object ("audit-log", NULL, NULL, RD_TYPE_AUDIT_LOG, flags);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEARCH] = g_param_spec_string ("search", NULL, NULL, NULL, flags);
  /**
   * RdActivityView:outcome:
   *
   * "sent", "failed" or "unknown" to show only the entries with that
   * outcome, or %NULL for all of them.
   */
  properties[PROP_OUTCOME] = g_param_spec_string ("outcome", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "activity.copy-request-id", "s",
                                   copy_request_id_action);
  gtk_widget_class_install_action (widget_class, "activity.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "activity.export", NULL, export_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "activity.reload", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "activityview");
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/rd-activity-view.ui");
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, outcome_dropdown);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, count_label);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, export_button);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, stack);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, error_page);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, column_view);
  gtk_widget_class_bind_template_child (widget_class, RdActivityView, time_column);
  gtk_widget_class_bind_template_callback_full (widget_class, "on_label_setup_cb",
                                                G_CALLBACK (rd_view_label_setup_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "on_badge_setup_cb",
                                                G_CALLBACK (rd_view_badge_setup_cb));
  gtk_widget_class_bind_template_callback (widget_class, on_request_id_setup_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_time_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_action_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_device_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_outcome_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_status_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_request_id_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_outcome_dropdown_notify_selected_cb);
}

static void
rd_activity_view_init (RdActivityView *self)
{
  GtkSorter *time_sorter;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->entries = g_list_store_new (RD_TYPE_AUDIT_ENTRY);

  time_sorter = GTK_SORTER (gtk_custom_sorter_new (compare_time, NULL, NULL));
  gtk_column_view_column_set_sorter (self->time_column, time_sorter);
  g_object_unref (time_sorter);

  self->sort_model =
    gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->entries)),
                             g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  self->filter = gtk_custom_filter_new (filter_entry, self, NULL);
  self->filter_model = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->sort_model)),
                                                  g_object_ref (GTK_FILTER (self->filter)));
  self->selection = rd_view_set_column_model (self->column_view, G_LIST_MODEL (self->filter_model));
  gtk_column_view_sort_by_column (self->column_view, self->time_column, GTK_SORT_DESCENDING);

  g_signal_connect_object (self->filter_model, "items-changed",
                           G_CALLBACK (on_filter_model_items_changed_cb), self, G_CONNECT_SWAPPED);

  update_state (self);
}

/* Public API */

GtkWidget *
rd_activity_view_new (void)
{
  return g_object_new (RD_TYPE_ACTIVITY_VIEW, NULL);
}

RdAuditLog *
rd_activity_view_get_audit_log (RdActivityView *self)
{
  g_return_val_if_fail (RD_IS_ACTIVITY_VIEW (self), NULL);

  return self->audit_log;
}

/**
 * rd_activity_view_set_audit_log:
 * @audit_log: (nullable): the log to show
 *
 * Shows @audit_log, reading it at once (see rd_activity_view_reload()).
 */
void
rd_activity_view_set_audit_log (RdActivityView *self,
                                RdAuditLog     *audit_log)
{
  g_return_if_fail (RD_IS_ACTIVITY_VIEW (self));
  g_return_if_fail (audit_log == NULL || RD_IS_AUDIT_LOG (audit_log));

  if (!g_set_object (&self->audit_log, audit_log))
    return;

  /* Another log's entries must not show under this one while it loads. */
  self->load_failed = FALSE;
  g_list_store_remove_all (self->entries);
  update_state (self);
  rd_activity_view_reload (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUDIT_LOG]);
}

gboolean
rd_activity_view_get_loading (RdActivityView *self)
{
  g_return_val_if_fail (RD_IS_ACTIVITY_VIEW (self), FALSE);

  return self->loading;
}

const char *
rd_activity_view_get_search (RdActivityView *self)
{
  g_return_val_if_fail (RD_IS_ACTIVITY_VIEW (self), NULL);

  return self->search;
}

/**
 * rd_activity_view_set_search:
 * @search: (nullable): text a device's name or Intune id must contain,
 *   whatever its case
 */
void
rd_activity_view_set_search (RdActivityView *self,
                             const char     *search)
{
  g_autofree char *old_folded = NULL;
  GtkFilterChange change = GTK_FILTER_CHANGE_DIFFERENT;

  g_return_if_fail (RD_IS_ACTIVITY_VIEW (self));

  if (search != NULL && *search == '\0')
    search = NULL;
  if (g_strcmp0 (self->search, search) == 0)
    return;

  old_folded = g_steal_pointer (&self->folded_search);
  g_free (self->search);
  self->search = g_strdup (search);
  self->folded_search = search != NULL ? g_utf8_casefold (search, -1) : NULL;

  if (old_folded == NULL)
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (self->folded_search == NULL)
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  else if (strstr (self->folded_search, old_folded) != NULL)
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (strstr (old_folded, self->folded_search) != NULL)
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  gtk_filter_changed (GTK_FILTER (self->filter), change);

  /* Setting the text empties the entry first, and an empty search entry
   * reports its change at once: that must not come back here. */
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)),
                 search != NULL ? search : "") != 0)
    {
      g_signal_handlers_block_by_func (self->search_entry, on_search_entry_search_changed_cb, self);
      gtk_editable_set_text (GTK_EDITABLE (self->search_entry), search != NULL ? search : "");
      g_signal_handlers_unblock_by_func (self->search_entry, on_search_entry_search_changed_cb,
                                         self);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH]);
}

const char *
rd_activity_view_get_outcome (RdActivityView *self)
{
  g_return_val_if_fail (RD_IS_ACTIVITY_VIEW (self), NULL);

  return self->outcome;
}

/**
 * rd_activity_view_set_outcome:
 * @outcome: (nullable): "sent", "failed" or "unknown", or %NULL (or "all")
 *   for every outcome
 */
void
rd_activity_view_set_outcome (RdActivityView *self,
                              const char     *outcome)
{
  guint selected = 0;

  g_return_if_fail (RD_IS_ACTIVITY_VIEW (self));

  if (g_strcmp0 (outcome, "all") == 0)
    outcome = NULL;
  if (outcome != NULL)
    {
      outcome = normalize_outcome (outcome);
      for (guint i = 0; i < G_N_ELEMENTS (outcomes); i++)
        if (outcome == outcomes[i])
          selected = i + 1;
    }

  if (g_strcmp0 (self->outcome, outcome) == 0)
    return;

  g_free (self->outcome);
  self->outcome = g_strdup (outcome);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);

  if (gtk_drop_down_get_selected (self->outcome_dropdown) != selected)
    gtk_drop_down_set_selected (self->outcome_dropdown, selected);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTCOME]);
}

/**
 * rd_activity_view_get_model:
 *
 * Returns: (transfer none): the entries as the view shows them, sorted and
 *   filtered
 */
GListModel *
rd_activity_view_get_model (RdActivityView *self)
{
  g_return_val_if_fail (RD_IS_ACTIVITY_VIEW (self), NULL);

  return G_LIST_MODEL (self->selection);
}
