/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-drive.h"

G_BEGIN_DECLS

#define RD_TYPE_DRIVE_MONITOR (rd_drive_monitor_get_type ())

/* A GListModel of RdDrive: the removable drives UDisks2 sees, kept up to date. */
G_DECLARE_FINAL_TYPE (RdDriveMonitor, rd_drive_monitor, RD, DRIVE_MONITOR, GObject)

RdDriveMonitor *rd_drive_monitor_new          (GCancellable   *cancellable,
                                               GError        **error);
void            rd_drive_monitor_refresh      (RdDriveMonitor *self);
RdDrive        *rd_drive_monitor_lookup       (RdDriveMonitor *self,
                                               const char     *object_path_or_device,
                                               GError        **error);
int             rd_drive_monitor_open_drive   (RdDriveMonitor *self,
                                               RdDrive        *drive,
                                               GCancellable   *cancellable,
                                               GError        **error);
int             rd_drive_monitor_open_drive_for_reading (RdDriveMonitor *self,
                                               RdDrive        *drive,
                                               GCancellable   *cancellable,
                                               GError        **error);

G_END_DECLS
