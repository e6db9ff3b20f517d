/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-usb-keys-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-usb-drive-row.h"
#include "rd-usb-key-progress-row.h"

/* One key being written: its phase, bytes, speed and time left, then either "written and
 * verified" with an Eject button, or the reason it failed. */

struct _RdUsbKeyProgressRow
{
  GtkListBoxRow parent_instance;

  RdDrive *drive;
  RdWritePhase phase;
  GCancellable *cancellable;
  guint pulse_id;

  GtkStack *icon_stack;
  GtkLabel *title_label;
  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkButton *eject_button;
};

G_DEFINE_FINAL_TYPE (RdUsbKeyProgressRow, rd_usb_key_progress_row, GTK_TYPE_LIST_BOX_ROW)

static char *
format_eta (double seconds)
{
  guint s = (guint) (seconds + 0.5);

  if (s < 60)
    return g_strdup_printf (ngettext ("about %u second left", "about %u seconds left", s), s);
  s = (s + 30) / 60;
  if (s < 60)
    return g_strdup_printf (ngettext ("about %u minute left", "about %u minutes left", s), s);
  return g_strdup_printf (_("about %u h %02u min left"), s / 60, s % 60);
}

static const char *
phase_title (RdWritePhase phase)
{
  switch (phase)
    {
    case RD_WRITE_PHASE_PENDING:
      return _("Waiting to start");
    case RD_WRITE_PHASE_PREPARING:
      return _("Preparing the key");
    case RD_WRITE_PHASE_WRITING:
      return _("Writing");
    case RD_WRITE_PHASE_FLUSHING:
      return _("Flushing to the key");
    case RD_WRITE_PHASE_VERIFYING:
      return _("Verifying");
    case RD_WRITE_PHASE_DONE:
      return _("Written and verified");
    case RD_WRITE_PHASE_FAILED:
      return _("Failed");
    case RD_WRITE_PHASE_CANCELLED:
      return _("Cancelled");
    default:
      return "";
    }
}

static gboolean
on_pulse_cb (gpointer user_data)
{
  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (user_data));
  return G_SOURCE_CONTINUE;
}

static void
set_pulsing (RdUsbKeyProgressRow *self, gboolean pulsing)
{
  if (pulsing && self->pulse_id == 0)
    self->pulse_id = g_timeout_add (150, on_pulse_cb, self->progress_bar);
  else if (!pulsing)
    g_clear_handle_id (&self->pulse_id, g_source_remove);
}

static void
on_eject_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RdUsbKeyProgressRow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!rd_drive_eject_finish (RD_DRIVE (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_label_set_label (self->status_label, error->message);
      gtk_widget_set_sensitive (GTK_WIDGET (self->eject_button), TRUE);
      return;
    }
  gtk_label_set_label (self->status_label, _("Written and verified. The key can be removed."));
  gtk_widget_set_visible (GTK_WIDGET (self->eject_button), FALSE);
}

static void
on_eject_clicked_cb (RdUsbKeyProgressRow *self)
{
  if (self->drive == NULL)
    return;
  gtk_widget_set_sensitive (GTK_WIDGET (self->eject_button), FALSE);
  gtk_label_set_label (self->status_label, _("Ejecting…"));
  rd_drive_eject_async (self->drive, self->cancellable, on_eject_cb, g_object_ref (self));
}

static void
rd_usb_key_progress_row_dispose (GObject *object)
{
  RdUsbKeyProgressRow *self = RD_USB_KEY_PROGRESS_ROW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  g_clear_object (&self->drive);
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_USB_KEY_PROGRESS_ROW);

  G_OBJECT_CLASS (rd_usb_key_progress_row_parent_class)->dispose (object);
}

static void
rd_usb_key_progress_row_class_init (RdUsbKeyProgressRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_usb_key_progress_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX
                                               "/rd-usb-key-progress-row.ui");
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeyProgressRow, icon_stack);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeyProgressRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeyProgressRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeyProgressRow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeyProgressRow, eject_button);
  gtk_widget_class_bind_template_callback (widget_class, on_eject_clicked_cb);
}

static void
rd_usb_key_progress_row_init (RdUsbKeyProgressRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->phase = RD_WRITE_PHASE_PENDING;
  gtk_label_set_label (self->status_label, _("Waiting for permission to open the key…"));
  set_pulsing (self, TRUE);
}

/**
 * rd_usb_key_progress_row_new:
 * @drive: the key being written
 */
GtkWidget *
rd_usb_key_progress_row_new (RdDrive *drive)
{
  RdUsbKeyProgressRow *self;
  g_autofree char *title = NULL;

  g_return_val_if_fail (RD_IS_DRIVE (drive), NULL);

  self = g_object_new (RD_TYPE_USB_KEY_PROGRESS_ROW, NULL);
  self->drive = g_object_ref (drive);
  title = rd_usb_drive_row_dup_description (drive);
  gtk_label_set_label (self->title_label, title);
  return GTK_WIDGET (self);
}

RdDrive *
rd_usb_key_progress_row_get_drive (RdUsbKeyProgressRow *self)
{
  g_return_val_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self), NULL);
  return self->drive;
}

RdWritePhase
rd_usb_key_progress_row_get_phase (RdUsbKeyProgressRow *self)
{
  g_return_val_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self), RD_WRITE_PHASE_PENDING);
  return self->phase;
}

gboolean
rd_usb_key_progress_row_get_finished (RdUsbKeyProgressRow *self)
{
  g_return_val_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self), FALSE);
  return self->phase == RD_WRITE_PHASE_DONE || self->phase == RD_WRITE_PHASE_FAILED
         || self->phase == RD_WRITE_PHASE_CANCELLED;
}

const char *
rd_usb_key_progress_row_get_status (RdUsbKeyProgressRow *self)
{
  g_return_val_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self), NULL);
  return gtk_label_get_label (self->status_label);
}

/**
 * rd_usb_key_progress_row_update:
 * @bytes: bytes written (or verified, while verifying)
 * @total: the image's size, or 0 when unknown
 * @rate: bytes per second, or 0
 * @eta: seconds left, or a negative number when unknown
 */
void
rd_usb_key_progress_row_update (RdUsbKeyProgressRow *self,
                                RdWritePhase         phase,
                                guint64              bytes,
                                guint64              total,
                                double               rate,
                                double               eta)
{
  g_autoptr (GString) status = NULL;

  g_return_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self));

  if (rd_usb_key_progress_row_get_finished (self))
    return;
  if (phase == RD_WRITE_PHASE_DONE)
    {
      rd_usb_key_progress_row_set_done (self);
      return;
    }
  if (phase == RD_WRITE_PHASE_CANCELLED)
    {
      rd_usb_key_progress_row_set_cancelled (self);
      return;
    }
  self->phase = phase;

  status = g_string_new (phase_title (phase));
  if (phase == RD_WRITE_PHASE_WRITING || phase == RD_WRITE_PHASE_VERIFYING)
    {
      g_autofree char *done = g_format_size (bytes);

      g_string_append (status, " · ");
      if (total > 0)
        {
          g_autofree char *all = g_format_size (total);

          /* TRANSLATORS: bytes done of the whole image, e.g. "1.2 GB of 4.0 GB" */
          g_string_append_printf (status, _("%s of %s"), done, all);
        }
      else
        {
          g_string_append (status, done);
        }
      if (rate > 0)
        {
          g_autofree char *speed = g_format_size ((guint64) rate);

          g_string_append (status, " · ");
          /* TRANSLATORS: a transfer speed, e.g. "38.2 MB/s" */
          g_string_append_printf (status, _("%s/s"), speed);
        }
      if (eta >= 0 && rate > 0)
        {
          g_autofree char *left = format_eta (eta);

          g_string_append (status, " · ");
          g_string_append (status, left);
        }
    }
  else
    {
      g_string_append (status, "…");
    }
  gtk_label_set_label (self->status_label, status->str);

  if ((phase == RD_WRITE_PHASE_WRITING || phase == RD_WRITE_PHASE_VERIFYING) && total > 0)
    {
      set_pulsing (self, FALSE);
      gtk_progress_bar_set_fraction (self->progress_bar, MIN (1.0, (double) bytes / total));
    }
  else
    {
      set_pulsing (self, TRUE);
    }
}

/**
 * rd_usb_key_progress_row_update_step:
 * @title: what is being done before writing ("Reading the ISO", "Copying files", …)
 * @bytes: done of that step
 * @total: the step's size, or 0 when unknown
 *
 * Progress of building the image the key receives (Windows media), before it is written.
 */
void
rd_usb_key_progress_row_update_step (RdUsbKeyProgressRow *self,
                                     const char          *title,
                                     guint64              bytes,
                                     guint64              total)
{
  g_autofree char *status = NULL;

  g_return_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self));

  if (rd_usb_key_progress_row_get_finished (self))
    return;
  self->phase = RD_WRITE_PHASE_PREPARING;
  if (total > 0)
    {
      g_autofree char *done = g_format_size (bytes);
      g_autofree char *all = g_format_size (total);

      /* TRANSLATORS: a step and how far it is, e.g. "Copying files · 1.2 GB of 4.0 GB" */
      status = g_strdup_printf (_("%s · %s of %s"), title, done, all);
      set_pulsing (self, FALSE);
      gtk_progress_bar_set_fraction (self->progress_bar, MIN (1.0, (double) bytes / total));
    }
  else
    {
      status = g_strdup_printf ("%s…", title);
      set_pulsing (self, TRUE);
    }
  gtk_label_set_label (self->status_label, status);
}

void
rd_usb_key_progress_row_set_done (RdUsbKeyProgressRow *self)
{
  g_return_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self));

  if (rd_usb_key_progress_row_get_finished (self))
    return;
  self->phase = RD_WRITE_PHASE_DONE;
  set_pulsing (self, FALSE);
  gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_stack_set_visible_child_name (self->icon_stack, "done");
  gtk_label_set_label (self->status_label, _("Written and verified"));
  gtk_widget_set_visible (GTK_WIDGET (self->eject_button), TRUE);
}

void
rd_usb_key_progress_row_set_failed (RdUsbKeyProgressRow *self, const char *message)
{
  g_return_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self));

  if (rd_usb_key_progress_row_get_finished (self))
    return;
  self->phase = RD_WRITE_PHASE_FAILED;
  set_pulsing (self, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_stack_set_visible_child_name (self->icon_stack, "failed");
  gtk_label_set_label (self->status_label, message);
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
}

void
rd_usb_key_progress_row_set_cancelled (RdUsbKeyProgressRow *self)
{
  g_return_if_fail (RD_IS_USB_KEY_PROGRESS_ROW (self));

  if (rd_usb_key_progress_row_get_finished (self))
    return;
  self->phase = RD_WRITE_PHASE_CANCELLED;
  set_pulsing (self, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_stack_set_visible_child_name (self->icon_stack, "cancelled");
  gtk_label_set_label (self->status_label,
                       _("Cancelled. The start and end of the key were wiped, so it does not "
                         "boot a half-written image."));
}
