/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "rd-image-source.h"

G_BEGIN_DECLS

#define RD_TYPE_DRIVE (rd_drive_get_type ())

G_DECLARE_FINAL_TYPE (RdDrive, rd_drive, RD, DRIVE, GObject)

const char *rd_drive_get_object_path  (RdDrive *self);
const char *rd_drive_get_device       (RdDrive *self);
dev_t       rd_drive_get_device_number (RdDrive *self);
const char *rd_drive_get_vendor       (RdDrive *self);
const char *rd_drive_get_model        (RdDrive *self);
const char *rd_drive_get_serial       (RdDrive *self);
const char *rd_drive_get_bus          (RdDrive *self);
guint64     rd_drive_get_size         (RdDrive *self);
gboolean    rd_drive_get_read_only    (RdDrive *self);
gboolean    rd_drive_get_hint_system  (RdDrive *self);
gboolean    rd_drive_get_removable    (RdDrive *self);
gboolean    rd_drive_get_is_loop      (RdDrive *self);
const char *rd_drive_get_backing_file (RdDrive *self);
char       *rd_drive_dup_display_name (RdDrive *self);

gboolean    rd_drive_check_target     (RdDrive       *self,
                                       RdImageSource *source,
                                       GError       **error);
gboolean    rd_drive_check_compose_target (RdDrive           *self,
                                           RdImageSource     *source,
                                           const char *const *paths,
                                           guint64            image_size,
                                           GError           **error);

void        rd_drive_eject_async      (RdDrive            *self,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
gboolean    rd_drive_eject_finish     (RdDrive       *self,
                                       GAsyncResult  *result,
                                       GError       **error);

G_END_DECLS
