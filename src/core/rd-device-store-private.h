/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-device-store.h"

G_BEGIN_DECLS

/* Entries a list model made for a store's devices before it had them,
 * on another thread (see _rd_device_query_entries_new()). */
typedef struct _RdDeviceQueryEntries RdDeviceQueryEntries;

GPtrArray *_rd_device_store_take_all_prepared (RdDeviceStore        *self,
                                               GPtrArray            *devices,
                                               RdDeviceQueryEntries *entries);
GPtrArray *_rd_device_store_peek_items        (RdDeviceStore        *self);
RdDeviceQueryEntries *_rd_device_store_peek_prepared (RdDeviceStore *self);

G_END_DECLS
