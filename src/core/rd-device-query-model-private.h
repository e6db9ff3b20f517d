/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-device-query-model.h"
#include "rd-device-store-private.h"

G_BEGIN_DECLS

RdDeviceQueryEntries *_rd_device_query_entries_new      (void);
void                  _rd_device_query_entries_catch_up (RdDeviceQueryEntries *entries,
                                                         GPtrArray            *devices);
void                  _rd_device_query_entries_free     (RdDeviceQueryEntries *entries);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdDeviceQueryEntries, _rd_device_query_entries_free)

G_END_DECLS
