/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-drive.h"

G_BEGIN_DECLS

#define RD_TYPE_USB_DRIVE_ROW (rd_usb_drive_row_get_type ())

G_DECLARE_FINAL_TYPE (RdUsbDriveRow, rd_usb_drive_row, RD, USB_DRIVE_ROW, AdwActionRow)

GtkWidget  *rd_usb_drive_row_new             (RdDrive       *drive);
RdDrive    *rd_usb_drive_row_get_drive       (RdUsbDriveRow *self);
gboolean    rd_usb_drive_row_get_active      (RdUsbDriveRow *self);
void        rd_usb_drive_row_set_active      (RdUsbDriveRow *self,
                                              gboolean       active);
void        rd_usb_drive_row_set_source      (RdUsbDriveRow *self,
                                              RdImageSource *source);
void        rd_usb_drive_row_set_composed_source (RdUsbDriveRow     *self,
                                                  RdImageSource     *iso,
                                                  const char *const *paths,
                                                  guint64            image_size);
const char *rd_usb_drive_row_get_refusal     (RdUsbDriveRow *self);

char       *rd_usb_drive_row_dup_title       (RdDrive       *drive);
char       *rd_usb_drive_row_dup_description (RdDrive       *drive);

G_END_DECLS
