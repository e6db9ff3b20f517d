/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-usb-keys-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-usb-drive-row.h"

/* One USB key in the drive list: a check button to choose it, its vendor, model and size, and,
 * once an image is chosen, why it cannot take the image (the imaging library's safety check),
 * in which case the row is insensitive. */

struct _RdUsbDriveRow
{
  AdwActionRow parent_instance;

  RdDrive *drive;
  char *refusal;

  GtkCheckButton *check;
  GtkLabel *size_label;
};

G_DEFINE_FINAL_TYPE (RdUsbDriveRow, rd_usb_drive_row, ADW_TYPE_ACTION_ROW)

enum
{
  PROP_0,
  PROP_ACTIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * rd_usb_drive_row_dup_title:
 *
 * Returns: (transfer full): "Vendor Model", or the device node when the drive has neither
 */
char *
rd_usb_drive_row_dup_title (RdDrive *drive)
{
  g_autofree char *title = NULL;

  g_return_val_if_fail (RD_IS_DRIVE (drive), NULL);

  title = g_strdup_printf ("%s %s", rd_drive_get_vendor (drive) ? rd_drive_get_vendor (drive) : "",
                           rd_drive_get_model (drive) ? rd_drive_get_model (drive) : "");
  g_strstrip (title);
  if (title[0] == '\0')
    return g_strdup (rd_drive_get_device (drive));
  return g_steal_pointer (&title);
}

/**
 * rd_usb_drive_row_dup_description:
 *
 * Returns: (transfer full): the drive as the admin can tell it apart from the others:
 *   "SanDisk Cruzer Blade, 16.0 GB (/dev/sdb)"
 */
char *
rd_usb_drive_row_dup_description (RdDrive *drive)
{
  g_autofree char *title = rd_usb_drive_row_dup_title (drive);
  g_autofree char *size = g_format_size (rd_drive_get_size (drive));

  /* TRANSLATORS: a USB key: its vendor and model, its size, its device node */
  return g_strdup_printf (_("%s, %s (%s)"), title, size, rd_drive_get_device (drive));
}

static void
on_check_toggled_cb (RdUsbDriveRow *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

static void
update (RdUsbDriveRow *self)
{
  g_autofree char *subtitle = NULL;

  if (self->refusal != NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self), self->refusal);
    }
  else
    {
      const char *serial = rd_drive_get_serial (self->drive);

      if (serial != NULL && serial[0] != '\0')
        /* TRANSLATORS: a drive's device node and serial number */
        subtitle = g_strdup_printf (_("%s · serial %s"), rd_drive_get_device (self->drive), serial);
      else
        subtitle = g_strdup (rd_drive_get_device (self->drive));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self), self->refusal == NULL);
  if (self->refusal != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self), "refused");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "refused");
}

/* A refused drive shows why, is insensitive and is no longer chosen. */
static void
set_refusal (RdUsbDriveRow *self, const GError *error)
{
  g_clear_pointer (&self->refusal, g_free);
  if (error != NULL)
    self->refusal = g_strdup (error->message);
  update (self);
  if (self->refusal != NULL)
    rd_usb_drive_row_set_active (self, FALSE);
}

static void
rd_usb_drive_row_dispose (GObject *object)
{
  RdUsbDriveRow *self = RD_USB_DRIVE_ROW (object);

  g_clear_object (&self->drive);
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_USB_DRIVE_ROW);

  G_OBJECT_CLASS (rd_usb_drive_row_parent_class)->dispose (object);
}

static void
rd_usb_drive_row_finalize (GObject *object)
{
  RdUsbDriveRow *self = RD_USB_DRIVE_ROW (object);

  g_free (self->refusal);

  G_OBJECT_CLASS (rd_usb_drive_row_parent_class)->finalize (object);
}

static void
rd_usb_drive_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdUsbDriveRow *self = RD_USB_DRIVE_ROW (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, rd_usb_drive_row_get_active (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_usb_drive_row_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  RdUsbDriveRow *self = RD_USB_DRIVE_ROW (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      rd_usb_drive_row_set_active (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_usb_drive_row_class_init (RdUsbDriveRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_usb_drive_row_dispose;
  object_class->finalize = rd_usb_drive_row_finalize;
  object_class->get_property = rd_usb_drive_row_get_property;
  object_class->set_property = rd_usb_drive_row_set_property;

  properties[PROP_ACTIVE]
    = g_param_spec_boolean ("active", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX
                                               "/rd-usb-drive-row.ui");
  gtk_widget_class_bind_template_child (widget_class, RdUsbDriveRow, check);
  gtk_widget_class_bind_template_child (widget_class, RdUsbDriveRow, size_label);
  gtk_widget_class_bind_template_callback (widget_class, on_check_toggled_cb);
}

static void
rd_usb_drive_row_init (RdUsbDriveRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
rd_usb_drive_row_new (RdDrive *drive)
{
  RdUsbDriveRow *self;
  g_autofree char *title = NULL;
  g_autofree char *size = NULL;

  g_return_val_if_fail (RD_IS_DRIVE (drive), NULL);

  self = g_object_new (RD_TYPE_USB_DRIVE_ROW, NULL);
  self->drive = g_object_ref (drive);
  title = rd_usb_drive_row_dup_title (drive);
  size = g_format_size (rd_drive_get_size (drive));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), title);
  gtk_label_set_label (self->size_label, size);
  update (self);
  return GTK_WIDGET (self);
}

RdDrive *
rd_usb_drive_row_get_drive (RdUsbDriveRow *self)
{
  g_return_val_if_fail (RD_IS_USB_DRIVE_ROW (self), NULL);
  return self->drive;
}

gboolean
rd_usb_drive_row_get_active (RdUsbDriveRow *self)
{
  g_return_val_if_fail (RD_IS_USB_DRIVE_ROW (self), FALSE);
  return gtk_check_button_get_active (self->check);
}

void
rd_usb_drive_row_set_active (RdUsbDriveRow *self, gboolean active)
{
  g_return_if_fail (RD_IS_USB_DRIVE_ROW (self));

  /* A refused drive cannot be chosen. */
  if (self->refusal != NULL)
    active = FALSE;
  /* The check button's "toggled" notifies. */
  gtk_check_button_set_active (self->check, active);
}

/**
 * rd_usb_drive_row_set_source:
 * @source: (nullable): the chosen image, or %NULL before one is chosen
 *
 * Runs the safety check of the drive against @source; a refused drive shows why, is
 * insensitive and is no longer chosen.
 */
void
rd_usb_drive_row_set_source (RdUsbDriveRow *self, RdImageSource *source)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (RD_IS_USB_DRIVE_ROW (self));

  if (source != NULL)
    rd_drive_check_target (self->drive, source, &error);
  set_refusal (self, error);
}

/**
 * rd_usb_drive_row_set_composed_source:
 * @iso: the Windows or WinPE ISO the key is built from
 * @paths: (array zero-terminated=1) (nullable): folders the key is built from or in (payload
 *   folders, the scratch folder)
 * @image_size: the size of the key built from @iso, or 0 while it is not known
 *
 * rd_usb_drive_row_set_source() for a key built from @iso rather than written from it: the drive
 * is judged against the built image's size, not the ISO's, and must not hold @paths.
 */
void
rd_usb_drive_row_set_composed_source (RdUsbDriveRow     *self,
                                      RdImageSource     *iso,
                                      const char *const *paths,
                                      guint64            image_size)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (RD_IS_USB_DRIVE_ROW (self));
  g_return_if_fail (RD_IS_IMAGE_SOURCE (iso));

  rd_drive_check_compose_target (self->drive, iso, paths, image_size, &error);
  set_refusal (self, error);
}

/**
 * rd_usb_drive_row_get_refusal:
 *
 * Returns: (nullable): why the drive cannot take the chosen image
 */
const char *
rd_usb_drive_row_get_refusal (RdUsbDriveRow *self)
{
  g_return_val_if_fail (RD_IS_USB_DRIVE_ROW (self), NULL);
  return self->refusal;
}
