/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-view-utils"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-view-utils.h"
#include "rd-csv.h"
#include "rd-stable-selection.h"

/* What the table views (Activity, BitLocker) share: their cells, the
 * selection over their column view, and exporting what they show as CSV
 * through a file chooser, with a toast that says how it went. */

/* Tooltips */

/* In GTK 4.8 gtk_widget_set_tooltip_text() on a visible widget asks the
 * display where the pointer is, a round trip to the X server, at every
 * call: too slow for rows bound by the hundred. rd_view_set_tooltip()
 * keeps the text on the widget and hands it over in ::query-tooltip, when
 * a tooltip is about to show. */

static GQuark
tooltip_quark (void)
{
  static GQuark quark;

  if (quark == 0)
    quark = g_quark_from_static_string ("rd-view-tooltip");

  return quark;
}

static gboolean
on_query_tooltip_cb (GtkWidget  *widget,
                     int         x,
                     int         y,
                     gboolean    keyboard_mode,
                     GtkTooltip *tooltip,
                     gpointer    user_data)
{
  const char *text = rd_view_get_tooltip (widget);

  if (text == NULL)
    return FALSE;

  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/**
 * rd_view_set_tooltip:
 * @text: (nullable): the tooltip, or %NULL (or "") for none
 *
 * Like gtk_widget_set_tooltip_text(), without asking the display anything.
 */
void
rd_view_set_tooltip (GtkWidget  *widget,
                     const char *text)
{
  if (text != NULL && *text == '\0')
    text = NULL;
  if (g_strcmp0 (rd_view_get_tooltip (widget), text) == 0)
    return;

  if (g_signal_handler_find (widget, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_query_tooltip_cb,
                             NULL) == 0)
    g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip_cb), NULL);
  g_object_set_qdata_full (G_OBJECT (widget), tooltip_quark (), g_strdup (text), g_free);
  gtk_widget_set_has_tooltip (widget, text != NULL);
}

/**
 * rd_view_get_tooltip:
 *
 * Returns: (nullable): the tooltip rd_view_set_tooltip() gave @widget
 */
const char *
rd_view_get_tooltip (GtkWidget *widget)
{
  return g_object_get_qdata (G_OBJECT (widget), tooltip_quark ());
}

/* Cells */

void
rd_view_set_cell (GtkLabel   *label,
                  const char *text,
                  const char *tooltip,
                  const char *style)
{
  const char *classes[] = { style, NULL };

  gtk_label_set_label (label, text);
  rd_view_set_tooltip (GTK_WIDGET (label), tooltip);
  gtk_widget_set_css_classes (GTK_WIDGET (label), classes);
}

void
rd_view_set_badge (GtkLabel   *label,
                   const char *text,
                   const char *tooltip,
                   const char *style)
{
  const char *classes[] = { "badge", style, NULL };

  gtk_label_set_label (label, text);
  rd_view_set_tooltip (GTK_WIDGET (label), tooltip);
  gtk_widget_set_css_classes (GTK_WIDGET (label), classes);
}

/* A template's "setup" handler for a column of plain, ellipsized text. */
void
rd_view_label_setup_cb (GtkSignalListItemFactory *factory,
                        GtkListItem              *list_item,
                        gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (list_item, label);
}

/* A template's "setup" handler for a column of badges (see
 * rd_view_set_badge()). */
void
rd_view_badge_setup_cb (GtkSignalListItemFactory *factory,
                        GtkListItem              *list_item,
                        gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_set_halign (label, GTK_ALIGN_START);
  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  gtk_list_item_set_child (list_item, label);
}

/* A selection that selects nothing by itself, and that a click on the
 * selected row clears. */
static GtkSingleSelection *
table_selection_new (GListModel *model)
{
  GtkSingleSelection *selection = gtk_single_selection_new (g_object_ref (model));

  gtk_single_selection_set_autoselect (selection, FALSE);
  gtk_single_selection_set_can_unselect (selection, TRUE);

  return selection;
}

/**
 * rd_view_set_column_model:
 * @model: the rows, sorted and filtered
 *
 * Shows @model in @column_view through a selection that selects nothing by
 * itself, and that a click on the selected row clears.
 *
 * Returns: (transfer full): the selection
 */
GtkSingleSelection *
rd_view_set_column_model (GtkColumnView *column_view,
                          GListModel    *model)
{
  GtkSingleSelection *selection = table_selection_new (model);

  gtk_column_view_set_model (column_view, GTK_SELECTION_MODEL (selection));

  return selection;
}

/* Rows that stay in place */

static GQuark
factory_quark (void)
{
  static GQuark quark;

  if (quark == 0)
    quark = g_quark_from_static_string ("rd-view-factory");

  return quark;
}

/* The row's slot has a new item: the list changed under the row, which
 * binds again, as if the list view had given it the item. */
static void
on_slot_notify_item_cb (RdListSlot  *slot,
                        GParamSpec  *pspec,
                        GtkListItem *list_item)
{
  GtkListItemFactory *factory = g_object_get_qdata (G_OBJECT (list_item), factory_quark ());

  g_signal_emit_by_name (factory, "bind", list_item);
}

static void
on_follow_bind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item)
{
  RdListSlot *slot = gtk_list_item_get_item (list_item);

  g_object_set_qdata (G_OBJECT (list_item), factory_quark (), factory);
  g_signal_handlers_disconnect_by_func (slot, on_slot_notify_item_cb, list_item);
  g_signal_connect (slot, "notify::item", G_CALLBACK (on_slot_notify_item_cb), list_item);
}

static void
on_follow_unbind_cb (GtkSignalListItemFactory *factory,
                     GtkListItem              *list_item)
{
  g_signal_handlers_disconnect_by_func (gtk_list_item_get_item (list_item),
                                        on_slot_notify_item_cb, list_item);
}

/* Binds a row again (emits @factory's "bind") whenever its slot gets a new
 * item; connected after the factory's own handlers, whose bind reads the
 * item with rd_view_list_item_get_item(). */
static void
follow_slots (GtkListItemFactory *factory)
{
  g_return_if_fail (GTK_IS_SIGNAL_LIST_ITEM_FACTORY (factory));

  g_signal_connect (factory, "bind", G_CALLBACK (on_follow_bind_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_follow_unbind_cb), NULL);
}

/**
 * rd_view_list_item_get_item:
 *
 * Returns: (transfer none) (type GObject): the item of @list_item's slot
 */
gpointer
rd_view_list_item_get_item (GtkListItem *list_item)
{
  return rd_list_slot_get_item (gtk_list_item_get_item (list_item));
}

/**
 * rd_view_set_stable_model:
 * @model: the rows, sorted and filtered
 *
 * Like rd_view_set_column_model(), with rows that stay in place when
 * @model changes (RdStableSelection): a cell is bound again when its slot
 * gets a new item, and reads it with rd_view_list_item_get_item().
 *
 * Returns: (transfer full): the selection, whose items are @model's
 */
GtkSingleSelection *
rd_view_set_stable_model (GtkColumnView *column_view,
                          GListModel    *model)
{
  GtkSingleSelection *selection = table_selection_new (model);
  g_autoptr(RdStableSelection) rows = NULL;
  GListModel *columns = gtk_column_view_get_columns (column_view);

  rows = rd_stable_selection_new (GTK_SELECTION_MODEL (selection));
  gtk_column_view_set_model (column_view, GTK_SELECTION_MODEL (rows));
  for (guint i = 0; i < g_list_model_get_n_items (columns); i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);

      follow_slots (gtk_column_view_column_get_factory (column));
    }

  return selection;
}

/* Export */

/**
 * rd_view_csv_chooser_new:
 * @widget: the view whose window the chooser is modal for
 * @title: the chooser's title
 * @name_format: the suggested file name, as g_date_time_format() takes it
 *
 * Returns: (transfer full): a modal save dialog for CSV files, not shown yet
 */
GtkFileChooserNative *
rd_view_csv_chooser_new (GtkWidget  *widget,
                         const char *title,
                         const char *name_format)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *name = NULL;
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);

  gtk_file_filter_set_name (filter, _("CSV Files"));
  gtk_file_filter_add_mime_type (filter, "text/csv");
  gtk_file_filter_add_suffix (filter, "csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);

  name = g_date_time_format (now, name_format);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);

  return chooser;
}

/**
 * rd_view_chooser_take_file:
 * @chooser: a chooser that answered with @response
 *
 * Destroys @chooser, which the caller still has to unref.
 *
 * Returns: (transfer full) (nullable): the file the admin chose, or %NULL if
 *   they cancelled
 */
GFile *
rd_view_chooser_take_file (GtkNativeDialog *chooser,
                           int              response)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

  gtk_native_dialog_destroy (chooser);

  return g_steal_pointer (&file);
}

static void
on_save_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!rd_csv_save_finish (result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * rd_view_save_csv:
 * @task: (transfer full): the export's task, with its cancellable
 * @file: the file to write; an existing file is replaced
 * @csv: the text to write
 *
 * Writes @csv to @file off the main thread, then returns %TRUE or the error
 * from @task.
 */
void
rd_view_save_csv (GTask      *task,
                  GFile      *file,
                  const char *csv)
{
  rd_csv_save_async (file, csv, g_task_get_cancellable (task), on_save_cb, task);
}

/**
 * rd_view_add_export_toast:
 * @file: the file the export wrote, or tried to
 * @error: (nullable): why the export failed, or %NULL if it did not
 *
 * Says in @overlay where the export went, or why it failed; a failure's
 * toast stays until dismissed. A cancelled export says nothing.
 */
void
rd_view_add_export_toast (AdwToastOverlay *overlay,
                          GFile           *file,
                          const GError    *error)
{
  g_autofree char *title = NULL;
  AdwToast *toast;

  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s is why the file could not be written. */
      title = g_strdup_printf (_("Could not export: %s"), error->message);
    }
  else
    {
      g_autofree char *basename = g_file_get_basename (file);

      /* Translators: %s is the name of the CSV file written. */
      title = g_strdup_printf (_("Exported to “%s”"), basename);
    }

  toast = adw_toast_new (title);
  adw_toast_set_timeout (toast, error != NULL ? 0 : 4);
  adw_toast_overlay_add_toast (overlay, toast);
}
