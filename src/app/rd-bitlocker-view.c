/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bitlocker-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-bitlocker-view.h"
#include "rd-csv.h"
#include "rd-device-private.h"
#include "rd-device-query-model.h"
#include "rd-ui-utils.h"
#include "rd-view-utils.h"

#include <stdlib.h>
#include <string.h>

/* The BitLocker review: every Windows device on the board, whatever its
 * lane, with what Intune says about its encryption, its escrowed recovery
 * keys and its TPM. A device is ready for a new user only when
 * rd_device_get_bitlocker_ready() says so; "unknown" is not ready.
 *
 * The pipeline is the three lanes → GtkFlattenListModel → RdDeviceQueryModel
 * (by name, on a worker for long lists) → GtkSortListModel (the column
 * view's sorter) → GtkFilterListModel ("Not Ready Only") →
 * GtkSingleSelection. Sorting comes first so that the toggle only filters.
 * The name column compares the devices' own collation keys, so the sort
 * list model finds its input already in order (one run, n comparisons) in
 * the default sort, and a hand-off of 100,000 devices does not stall the
 * main thread; other columns sort on the main thread when chosen.
 * The ready devices are counted over the flattened lanes (in steps for a
 * long list); both follow the lanes' items-changed, and RdBoard splices
 * every lane on a refresh, so the cells and the counts see fresh facts. */

struct _RdBitlockerView
{
  GtkWidget parent_instance;

  RdBoard *board;
  gboolean not_ready_only;
  guint n_devices;
  guint n_ready;

  GListStore *lanes;
  GtkFlattenListModel *devices;
  RdDeviceQueryModel *by_name;
  GtkSortListModel *sort_model;
  GtkFilterListModel *filter_model;
  GtkCustomFilter *not_ready_filter;
  guint counted_ready; /* the ready devices of the last count */
  guint count_next;    /* the count under way: how far it is */
  guint count_partial; /* and how many it found */
  guint count_source;
  GtkSingleSelection *selection;

  GtkFileChooserNative *chooser;
  GCancellable *cancellable;

  AdwToastOverlay *toast_overlay;
  GtkLabel *count_label;
  GtkLabel *summary_label;
  GtkLevelBar *level_bar;
  GtkButton *export_button;
  GtkStack *stack;
  GtkColumnView *column_view;
  GtkColumnViewColumn *name_column;
  GtkColumnViewColumn *user_column;
  GtkColumnViewColumn *os_column;
  GtkColumnViewColumn *encrypted_column;
  GtkColumnViewColumn *keys_column;
  GtkColumnViewColumn *tpm_column;
  GtkColumnViewColumn *readiness_column;
  GtkColumnViewColumn *sync_column;
};

G_DEFINE_FINAL_TYPE (RdBitlockerView, rd_bitlocker_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_BOARD,
  PROP_NOT_READY_ONLY,
  PROP_N_DEVICES,
  PROP_N_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_SHOW_DEVICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Readiness, defined once in core */

static gboolean
is_ready (RdDevice *device)
{
  return rd_device_get_bitlocker_ready (device) == RD_TRISTATE_YES;
}

static gboolean
filter_shown (gpointer item,
              gpointer user_data)
{
  return !is_ready (item);
}

/* Counts and states */

static void
update_counts (RdBitlockerView *self)
{
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->devices));
  guint ready = MIN (self->counted_ready, total);
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));
  g_autofree char *count = NULL;
  g_autofree char *summary = NULL;

  /* Translators: how many devices are ready for a new user, of how many. */
  count = g_strdup_printf (ngettext ("%u of %u ready", "%u of %u ready", total), ready, total);
  gtk_label_set_label (self->count_label, count);

  if (total == 0)
    summary = g_strdup (_("The tenant’s Windows devices appear here once they are loaded."));
  else if (ready == total)
    summary = g_strdup (_("Every device is encrypted, with a recovery key escrowed in Microsoft "
                          "Entra ID."));
  else
    summary = g_strdup_printf (ngettext ("%u device is not ready: its drive is not known to be "
                                         "encrypted, or no recovery key is known to be escrowed.",
                                         "%u devices are not ready: their drives are not known to "
                                         "be encrypted, or no recovery key is known to be escrowed.",
                                         total - ready),
                               total - ready);
  gtk_label_set_label (self->summary_label, summary);

  gtk_level_bar_set_value (self->level_bar, total > 0 ? (double) ready / total : 0.0);
  gtk_widget_set_visible (GTK_WIDGET (self->level_bar), total > 0);

  if (total == 0)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else if (shown == 0)
    gtk_stack_set_visible_child_name (self->stack, "all-ready");
  else
    gtk_stack_set_visible_child_name (self->stack, "list");

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "bitlocker.export", shown > 0);

  if (self->n_devices != total)
    {
      self->n_devices = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DEVICES]);
    }
  if (self->n_ready != ready)
    {
      self->n_ready = ready;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_READY]);
    }
}

static void
on_model_items_changed_cb (RdBitlockerView *self)
{
  update_counts (self);
}

/* Counting the ready devices: at once for a short list, else in steps
 * before the next frame (GDK_PRIORITY_REDRAW), so that a hand-off of
 * 100,000 devices does not hold the main loop while every device's
 * readiness is read. */

#define COUNT_AT_ONCE 4096
#define COUNT_STEP_USEC 5000

/* Returns whether the count is done, before @deadline (0: none). */
static gboolean
count_ready (RdBitlockerView *self,
             gint64           deadline)
{
  GListModel *devices = G_LIST_MODEL (self->devices);
  guint n = g_list_model_get_n_items (devices);

  for (; self->count_next < n; self->count_next++)
    {
      g_autoptr(RdDevice) device = NULL;

      if (deadline != 0 && self->count_next % 256 == 255 && g_get_monotonic_time () >= deadline)
        return FALSE;
      device = g_list_model_get_item (devices, self->count_next);
      if (is_ready (device))
        self->count_partial++;
    }

  self->counted_ready = self->count_partial;
  return TRUE;
}

static gboolean
count_step_cb (gpointer user_data)
{
  RdBitlockerView *self = user_data;

  if (!count_ready (self, g_get_monotonic_time () + COUNT_STEP_USEC))
    return G_SOURCE_CONTINUE;

  self->count_source = 0;
  update_counts (self);
  return G_SOURCE_REMOVE;
}

static void
on_devices_items_changed_cb (RdBitlockerView *self)
{
  self->count_next = 0;
  self->count_partial = 0;
  if (g_list_model_get_n_items (G_LIST_MODEL (self->devices)) > COUNT_AT_ONCE)
    {
      if (self->count_source == 0)
        self->count_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 10, count_step_cb, self, NULL);
      return;
    }

  g_clear_handle_id (&self->count_source, g_source_remove);
  count_ready (self, 0);
  update_counts (self);
}

/* Cells. The facts are read at bind time: a refresh splices the lanes,
 * which binds every visible row again. */

static RdDevice *
list_item_device (GtkListItem *list_item)
{
  return RD_DEVICE (rd_view_list_item_get_item (list_item));
}

static void
on_name_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  RdBitlockerView          *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_item_set_child (list_item, box);
}

static void
on_name_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 RdBitlockerView          *self)
{
  RdDevice *device = list_item_device (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkImage *icon = GTK_IMAGE (gtk_widget_get_first_child (box));
  GtkLabel *label = GTK_LABEL (gtk_widget_get_last_child (box));
  const char *reason;

  gtk_label_set_label (label, rd_device_get_name (device));

  switch (rd_device_get_bitlocker_ready (device))
    {
    case RD_TRISTATE_YES:
      gtk_image_set_from_icon_name (icon, "emblem-ok-symbolic");
      gtk_widget_set_css_classes (GTK_WIDGET (icon), (const char *[]) { "success", NULL });
      reason = _("Ready: the drive is encrypted and its recovery key is escrowed");
      break;
    case RD_TRISTATE_NO:
      gtk_image_set_from_icon_name (icon, "dialog-warning-symbolic");
      gtk_widget_set_css_classes (GTK_WIDGET (icon), (const char *[]) { "error", NULL });
      reason = rd_device_get_encrypted (device) == RD_TRISTATE_NO
                 ? _("Not ready: the drive is not encrypted")
                 : _("Not ready: no recovery key is escrowed in Microsoft Entra ID");
      break;
    case RD_TRISTATE_UNKNOWN:
    default:
      gtk_image_set_from_icon_name (icon, "dialog-question-symbolic");
      gtk_widget_set_css_classes (GTK_WIDGET (icon), (const char *[]) { "warning", NULL });
      reason = _("Not ready: Intune did not report whether the drive is encrypted and its "
                 "recovery key escrowed");
      break;
    }
  rd_view_set_tooltip (GTK_WIDGET (icon), reason);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, reason, -1);
}

static void
on_user_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 RdBitlockerView          *self)
{
  RdDevice *device = list_item_device (list_item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  const char *display_name = rd_device_get_user_display_name (device);
  const char *upn = rd_device_get_user_principal_name (device);

  if (display_name != NULL && *display_name != '\0')
    rd_view_set_cell (label, display_name, upn, NULL);
  else if (upn != NULL && *upn != '\0')
    rd_view_set_cell (label, upn, NULL, NULL);
  else
    rd_view_set_cell (label, C_("user", "None"), _("No primary user"), "dim-label");
}

static void
on_os_bind_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               RdBitlockerView          *self)
{
  RdDevice *device = list_item_device (list_item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  const char *version = rd_device_get_os_version (device);

  if (version != NULL && *version != '\0')
    rd_view_set_cell (label, version, NULL, "numeric");
  else
    rd_view_set_cell (label, _("Unknown"), NULL, "dim-label");
}

static void
on_encrypted_bind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *list_item,
                      RdBitlockerView          *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));

  switch (rd_device_get_encrypted (list_item_device (list_item)))
    {
    case RD_TRISTATE_YES:
      rd_view_set_badge (label, C_("encrypted", "Yes"),
                         _("The drive is encrypted with BitLocker"), "success");
      break;
    case RD_TRISTATE_NO:
      rd_view_set_badge (label, C_("encrypted", "No"), _("The drive is not encrypted"), "error");
      break;
    case RD_TRISTATE_UNKNOWN:
    default:
      rd_view_set_badge (label, C_("encrypted", "Unknown"),
                         _("Intune did not report whether the drive is encrypted"), "dim");
      break;
    }
}

static void
on_keys_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 RdBitlockerView          *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  int keys = rd_device_get_escrowed_keys (list_item_device (list_item));
  g_autofree char *text = NULL;
  g_autofree char *tooltip = NULL;

  if (keys < 0)
    {
      rd_view_set_badge (label, C_("escrowed keys", "Unknown"),
                         _("The recovery keys could not be read; the BitLockerKey.ReadBasic.All "
                            "permission may be missing"),
                         "dim");
      return;
    }

  if (keys == 0)
    {
      rd_view_set_badge (label, C_("escrowed keys", "None"),
                         _("Microsoft Entra ID holds no recovery key for this device"), "error");
      return;
    }

  text = g_strdup_printf ("%d", keys);
  tooltip = g_strdup_printf (ngettext ("%d recovery key escrowed in Microsoft Entra ID",
                                       "%d recovery keys escrowed in Microsoft Entra ID", keys),
                             keys);
  rd_view_set_badge (label, text, tooltip, "success");
}

static void
on_tpm_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                RdBitlockerView          *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  const char *tpm = rd_device_get_tpm_version (list_item_device (list_item));

  if (tpm != NULL && *tpm != '\0')
    rd_view_set_cell (label, tpm, NULL, "numeric");
  else
    rd_view_set_cell (label, _("Unknown"), NULL, "dim-label");
}

static void
on_readiness_bind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *list_item,
                      RdBitlockerView          *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));

  switch (rd_device_get_encryption_readiness (list_item_device (list_item)))
    {
    case RD_ENCRYPTION_READINESS_READY:
      rd_view_set_badge (label, C_("encryption readiness", "Ready"),
                         _("Intune reports the device can be encrypted with BitLocker"),
                         "success");
      break;
    case RD_ENCRYPTION_READINESS_NOT_READY:
      rd_view_set_badge (label, C_("encryption readiness", "Not Ready"),
                         _("Intune reports the device cannot be encrypted yet, for example for "
                           "want of a TPM or a supported edition of Windows"),
                         "warning");
      break;
    case RD_ENCRYPTION_READINESS_UNKNOWN:
    default:
      rd_view_set_badge (label, C_("encryption readiness", "Unknown"),
                         _("Intune’s encryption report has no entry for this device"), "dim");
      break;
    }
}

static void
on_sync_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 RdBitlockerView          *self)
{
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  GDateTime *last_sync = rd_device_get_last_sync (list_item_device (list_item));
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *age = rd_ui_format_age (last_sync, now);
  g_autofree char *date = NULL;

  if (last_sync == NULL)
    {
      rd_view_set_cell (label, age, NULL, "dim-label");
      return;
    }

  local = g_date_time_to_local (last_sync);
  /* Translators: the date and time of a device's last check-in, in a tooltip;
   * see g_date_time_format(). */
  date = g_date_time_format (local, _("%A, %e %B %Y, %H:%M"));
  rd_view_set_cell (label, age, date, NULL);
}

/* Sorting */

static int
tristate_rank (RdTristate value)
{
  /* Problems first when sorted ascending. */
  switch (value)
    {
    case RD_TRISTATE_NO:
      return 0;
    case RD_TRISTATE_UNKNOWN:
      return 1;
    case RD_TRISTATE_YES:
    default:
      return 2;
    }
}

static int
readiness_rank (RdEncryptionReadiness value)
{
  switch (value)
    {
    case RD_ENCRYPTION_READINESS_NOT_READY:
      return 0;
    case RD_ENCRYPTION_READINESS_UNKNOWN:
      return 1;
    case RD_ENCRYPTION_READINESS_READY:
    default:
      return 2;
    }
}

static int
compare_ints (int a,
              int b)
{
  return a < b ? GTK_ORDERING_SMALLER : a > b ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

static int
compare_encrypted (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  return compare_ints (tristate_rank (rd_device_get_encrypted ((RdDevice *) a)),
                       tristate_rank (rd_device_get_encrypted ((RdDevice *) b)));
}

static int
compare_readiness (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  return compare_ints (readiness_rank (rd_device_get_encryption_readiness ((RdDevice *) a)),
                       readiness_rank (rd_device_get_encryption_readiness ((RdDevice *) b)));
}

/* Compares dotted versions ("10.0.19045.3803") number by number, without
 * allocating: this runs some 1.7 million times to sort 100,000 devices. */
static int
compare_os_version (gconstpointer a,
                    gconstpointer b,
                    gpointer      user_data)
{
  const char *va = rd_device_get_os_version ((RdDevice *) a);
  const char *vb = rd_device_get_os_version ((RdDevice *) b);

  if (va == NULL || vb == NULL)
    return compare_ints (va != NULL, vb != NULL);

  while (*va != '\0' || *vb != '\0')
    {
      char *end_a, *end_b;
      unsigned long na = strtoul (va, &end_a, 10);
      unsigned long nb = strtoul (vb, &end_b, 10);

      if (end_a == va || end_b == vb)
        return compare_ints (g_strcmp0 (va, vb), 0);
      if (na != nb)
        return na < nb ? GTK_ORDERING_SMALLER : GTK_ORDERING_LARGER;
      va = *end_a == '.' ? end_a + 1 : end_a;
      vb = *end_b == '.' ? end_b + 1 : end_b;
    }

  return GTK_ORDERING_EQUAL;
}

static int
compare_last_sync (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  gint64 ta = rd_device_get_last_sync_usec ((RdDevice *) a);
  gint64 tb = rd_device_get_last_sync_usec ((RdDevice *) b);

  /* A device that never checked in sorts first. */
  if (ta == RD_DEVICE_NO_DATE || tb == RD_DEVICE_NO_DATE)
    return compare_ints (ta != RD_DEVICE_NO_DATE, tb != RD_DEVICE_NO_DATE);

  return ta < tb ? GTK_ORDERING_SMALLER : ta > tb ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

/* The same order as a GtkStringSorter on the name, from keys each device
 * made once (on the sync's or the cache's worker). */
static int
compare_name (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  return compare_ints (strcmp (_rd_device_get_sort_key ((RdDevice *) a),
                               _rd_device_get_sort_key ((RdDevice *) b)),
                       0);
}

static char *
device_user_text (RdDevice *device,
                  gpointer  user_data)
{
  const char *display_name = rd_device_get_user_display_name (device);

  if (display_name != NULL && *display_name != '\0')
    return g_strdup (display_name);

  return g_strdup (rd_device_get_user_principal_name (device));
}

static void
set_sorters (RdBitlockerView *self)
{
  const struct
  {
    GtkColumnViewColumn *column;
    GtkSorter *sorter;
  } sorters[] = {
    { self->name_column, GTK_SORTER (gtk_custom_sorter_new (compare_name, NULL, NULL)) },
    { self->user_column, GTK_SORTER (gtk_string_sorter_new (gtk_cclosure_expression_new (
                           G_TYPE_STRING, NULL, 0, NULL, G_CALLBACK (device_user_text), NULL,
                           NULL))) },
    { self->os_column, GTK_SORTER (gtk_custom_sorter_new (compare_os_version, NULL, NULL)) },
    { self->encrypted_column,
      GTK_SORTER (gtk_custom_sorter_new (compare_encrypted, NULL, NULL)) },
    { self->keys_column, GTK_SORTER (gtk_numeric_sorter_new (
                           gtk_property_expression_new (RD_TYPE_DEVICE, NULL, "escrowed-keys"))) },
    { self->tpm_column, GTK_SORTER (gtk_string_sorter_new (
                          gtk_property_expression_new (RD_TYPE_DEVICE, NULL, "tpm-version"))) },
    { self->readiness_column,
      GTK_SORTER (gtk_custom_sorter_new (compare_readiness, NULL, NULL)) },
    { self->sync_column, GTK_SORTER (gtk_custom_sorter_new (compare_last_sync, NULL, NULL)) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (sorters); i++)
    {
      gtk_column_view_column_set_sorter (sorters[i].column, sorters[i].sorter);
      g_object_unref (sorters[i].sorter);
    }
}

/* Activation */

static void
on_column_view_activate_cb (GtkColumnView   *column_view,
                            guint            position,
                            RdBitlockerView *self)
{
  g_autoptr(RdDevice) device = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  if (device != NULL)
    g_signal_emit (self, signals[SIGNAL_SHOW_DEVICE], 0, device);
}

/* Export */

static void
on_export_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RdBitlockerView *self = RD_BITLOCKER_VIEW (source);
  g_autoptr(GFile) file = user_data;
  g_autoptr(GError) error = NULL;

  rd_bitlocker_view_export_finish (self, result, &error);
  rd_view_add_export_toast (self->toast_overlay, file, error);
}

static void
on_chooser_response_cb (GtkNativeDialog *chooser,
                        int              response,
                        RdBitlockerView *self)
{
  g_autoptr(GFile) file = rd_view_chooser_take_file (chooser, response);

  g_clear_object (&self->chooser);

  if (file != NULL)
    rd_bitlocker_view_export_async (self, file, self->cancellable, on_export_done_cb,
                                    g_object_ref (file));
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  RdBitlockerView *self = RD_BITLOCKER_VIEW (widget);

  if (self->chooser == NULL)
    {
      /* Translators: the suggested file name of the export; keep the .csv. */
      const char *name_format = _("bitlocker-review-%Y-%m-%d.csv");

      self->chooser = rd_view_csv_chooser_new (widget, _("Export BitLocker Review"), name_format);
      g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response_cb), self);
    }

  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/**
 * rd_bitlocker_view_export_async:
 * @file: the CSV file to write; an existing file is replaced
 *
 * Writes the rows the view shows, in the order it shows them (its sort and
 * its "Not Ready Only" filter), as rd_csv_format_bitlocker() formats them.
 * The export button calls this with the file the admin chose.
 */
void
rd_bitlocker_view_export_async (RdBitlockerView     *self,
                                GFile               *file,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *csv = NULL;

  g_return_if_fail (RD_IS_BITLOCKER_VIEW (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_bitlocker_view_export_async);

  /* The devices are read here, on the main thread that owns them; only the
   * writing happens elsewhere. */
  csv = rd_csv_format_bitlocker (G_LIST_MODEL (self->filter_model));
  rd_view_save_csv (g_steal_pointer (&task), file, csv);
}

gboolean
rd_bitlocker_view_export_finish (RdBitlockerView  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (RD_IS_BITLOCKER_VIEW (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_bitlocker_view_export_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* GObject overrides */

static void
rd_bitlocker_view_dispose (GObject *object)
{
  RdBitlockerView *self = RD_BITLOCKER_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  /* The models may outlive the template children their handlers update. */
  g_clear_handle_id (&self->count_source, g_source_remove);
  if (self->devices != NULL)
    g_signal_handlers_disconnect_by_data (self->devices, self);
  if (self->filter_model != NULL)
    g_signal_handlers_disconnect_by_data (self->filter_model, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_BITLOCKER_VIEW);

  if (self->not_ready_filter != NULL)
    gtk_custom_filter_set_filter_func (self->not_ready_filter, NULL, NULL, NULL);
  g_clear_object (&self->selection);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->not_ready_filter);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->by_name);
  g_clear_object (&self->devices);
  g_clear_object (&self->lanes);
  g_clear_object (&self->board);

  G_OBJECT_CLASS (rd_bitlocker_view_parent_class)->dispose (object);
}

static void
rd_bitlocker_view_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  RdBitlockerView *self = RD_BITLOCKER_VIEW (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      g_value_set_object (value, self->board);
      break;
    case PROP_NOT_READY_ONLY:
      g_value_set_boolean (value, self->not_ready_only);
      break;
    case PROP_N_DEVICES:
      g_value_set_uint (value, rd_bitlocker_view_get_n_devices (self));
      break;
    case PROP_N_READY:
      g_value_set_uint (value, rd_bitlocker_view_get_n_ready (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_bitlocker_view_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  RdBitlockerView *self = RD_BITLOCKER_VIEW (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      rd_bitlocker_view_set_board (self, g_value_get_object (value));
      break;
    case PROP_NOT_READY_ONLY:
      rd_bitlocker_view_set_not_ready_only (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_bitlocker_view_class_init (RdBitlockerViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags read_flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_bitlocker_view_dispose;
  object_class->get_property = rd_bitlocker_view_get_property;
  object_class->set_property = rd_bitlocker_view_set_property;

  properties[PROP_BOARD] = g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD, flags);
  properties[PROP_NOT_READY_ONLY] =
    g_param_spec_boolean ("not-ready-only", NULL, NULL, FALSE, flags);
  properties[PROP_N_DEVICES] =
    g_param_spec_uint ("n-devices", NULL, NULL, 0, G_MAXUINT, 0, read_flags);
  properties[PROP_N_READY] = g_param_spec_uint ("n-ready", NULL, NULL, 0, G_MAXUINT, 0, read_flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RdBitlockerView::show-device:
   * @device: the device of the row the admin activated
   *
   * Asks the window to show @device on the board.
   */
  signals[SIGNAL_SHOW_DEVICE] =
    g_signal_new ("show-device", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, RD_TYPE_DEVICE);

  gtk_widget_class_install_action (widget_class, "bitlocker.export", NULL, export_action);
  gtk_widget_class_install_property_action (widget_class, "bitlocker.not-ready-only",
                                            "not-ready-only");

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "bitlockerview");
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/rd-bitlocker-view.ui");
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, count_label);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, summary_label);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, level_bar);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, export_button);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, stack);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, column_view);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, name_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, user_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, os_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, encrypted_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, keys_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, tpm_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, readiness_column);
  gtk_widget_class_bind_template_child (widget_class, RdBitlockerView, sync_column);
  gtk_widget_class_bind_template_callback_full (widget_class, "on_label_setup_cb",
                                                G_CALLBACK (rd_view_label_setup_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "on_badge_setup_cb",
                                                G_CALLBACK (rd_view_badge_setup_cb));
  gtk_widget_class_bind_template_callback (widget_class, on_name_setup_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_name_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_user_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_os_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_encrypted_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_keys_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_tpm_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_readiness_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_sync_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_column_view_activate_cb);
}

static void
rd_bitlocker_view_init (RdBitlockerView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->lanes = g_list_store_new (G_TYPE_LIST_MODEL);
  self->devices = gtk_flatten_list_model_new (g_object_ref (G_LIST_MODEL (self->lanes)));
  /* Before the rows' models: the counts they update are then current. */
  g_signal_connect_object (self->devices, "items-changed",
                           G_CALLBACK (on_devices_items_changed_cb), self, G_CONNECT_SWAPPED);

  self->by_name = rd_device_query_model_new ();
  rd_device_query_model_set_sort (self->by_name, RD_DEVICE_SORT_NAME);
  rd_device_query_model_set_model (self->by_name, G_LIST_MODEL (self->devices));

  set_sorters (self);
  self->sort_model =
    gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->by_name)),
                             g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  /* Without a function, the filter matches all, and the filter list model
   * passes its 100,000 rows through without a call each. */
  self->not_ready_filter = gtk_custom_filter_new (NULL, NULL, NULL);
  self->filter_model = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->sort_model)),
                                                  g_object_ref (GTK_FILTER (self->not_ready_filter)));
  self->selection = rd_view_set_stable_model (self->column_view, G_LIST_MODEL (self->filter_model));
  gtk_column_view_sort_by_column (self->column_view, self->name_column, GTK_SORT_ASCENDING);

  g_signal_connect_object (self->filter_model, "items-changed",
                           G_CALLBACK (on_model_items_changed_cb), self, G_CONNECT_SWAPPED);

  update_counts (self);
}

/* Public API */

GtkWidget *
rd_bitlocker_view_new (void)
{
  return g_object_new (RD_TYPE_BITLOCKER_VIEW, NULL);
}

RdBoard *
rd_bitlocker_view_get_board (RdBitlockerView *self)
{
  g_return_val_if_fail (RD_IS_BITLOCKER_VIEW (self), NULL);

  return self->board;
}

/**
 * rd_bitlocker_view_set_board:
 * @board: (nullable): the board whose devices, in all three lanes, to show
 */
void
rd_bitlocker_view_set_board (RdBitlockerView *self,
                             RdBoard         *board)
{
  g_return_if_fail (RD_IS_BITLOCKER_VIEW (self));
  g_return_if_fail (board == NULL || RD_IS_BOARD (board));

  if (!g_set_object (&self->board, board))
    return;

  if (board != NULL)
    {
      GListModel *lanes[RD_N_LANES];

      for (guint lane = 0; lane < RD_N_LANES; lane++)
        lanes[lane] = rd_board_get_lane (board, lane);
      g_list_store_splice (self->lanes, 0, g_list_model_get_n_items (G_LIST_MODEL (self->lanes)),
                           (gpointer *) lanes, RD_N_LANES);
    }
  else
    g_list_store_remove_all (self->lanes);

  update_counts (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOARD]);
}

gboolean
rd_bitlocker_view_get_not_ready_only (RdBitlockerView *self)
{
  g_return_val_if_fail (RD_IS_BITLOCKER_VIEW (self), FALSE);

  return self->not_ready_only;
}

void
rd_bitlocker_view_set_not_ready_only (RdBitlockerView *self,
                                      gboolean         not_ready_only)
{
  g_return_if_fail (RD_IS_BITLOCKER_VIEW (self));

  not_ready_only = !!not_ready_only;
  if (self->not_ready_only == not_ready_only)
    return;

  self->not_ready_only = not_ready_only;
  gtk_custom_filter_set_filter_func (self->not_ready_filter, not_ready_only ? filter_shown : NULL,
                                     NULL, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOT_READY_ONLY]);
}

guint
rd_bitlocker_view_get_n_devices (RdBitlockerView *self)
{
  g_return_val_if_fail (RD_IS_BITLOCKER_VIEW (self), 0);

  return g_list_model_get_n_items (G_LIST_MODEL (self->devices));
}

guint
rd_bitlocker_view_get_n_ready (RdBitlockerView *self)
{
  g_return_val_if_fail (RD_IS_BITLOCKER_VIEW (self), 0);

  return MIN (self->counted_ready, g_list_model_get_n_items (G_LIST_MODEL (self->devices)));
}

/**
 * rd_bitlocker_view_get_model:
 *
 * Returns: (transfer none): the rows as the view shows them, sorted and
 *   filtered
 */
GListModel *
rd_bitlocker_view_get_model (RdBitlockerView *self)
{
  g_return_val_if_fail (RD_IS_BITLOCKER_VIEW (self), NULL);

  return G_LIST_MODEL (self->selection);
}
