/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-device.h"

G_BEGIN_DECLS

#define RD_TYPE_DEVICE_STORE (rd_device_store_get_type ())

G_DECLARE_FINAL_TYPE (RdDeviceStore, rd_device_store, RD, DEVICE_STORE, GObject)

RdDeviceStore *rd_device_store_new         (void);
gboolean       rd_device_store_find        (RdDeviceStore *self,
                                            RdDevice      *device,
                                            guint         *position);
void           rd_device_store_append      (RdDeviceStore *self,
                                            RdDevice      *device);
gboolean       rd_device_store_remove      (RdDeviceStore *self,
                                            RdDevice      *device);
void           rd_device_store_replace_all (RdDeviceStore *self,
                                            GPtrArray     *devices);
GPtrArray     *rd_device_store_take_all    (RdDeviceStore *self,
                                            GPtrArray     *devices);

G_END_DECLS
