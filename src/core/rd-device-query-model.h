/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-device.h"

G_BEGIN_DECLS

typedef enum
{
  RD_DEVICE_SORT_NONE,
  RD_DEVICE_SORT_NAME,
  RD_DEVICE_SORT_LAST_SYNC,
} RdDeviceSort;

typedef enum
{
  RD_DEVICE_QUICK_FILTER_NONE = 0,
  RD_DEVICE_QUICK_FILTER_NONCOMPLIANT = 1 << 0,
  RD_DEVICE_QUICK_FILTER_UNENCRYPTED = 1 << 1,
  RD_DEVICE_QUICK_FILTER_WITHOUT_AUTOPILOT = 1 << 2,
  RD_DEVICE_QUICK_FILTER_STALE = 1 << 3,
} RdDeviceQuickFilters;

/* Lists of at most this many devices are sorted and filtered at once, on the
 * calling thread; longer ones on a worker. */
#define RD_DEVICE_QUERY_MODEL_SYNC_LIMIT 4096

#define RD_TYPE_DEVICE_QUERY_MODEL (rd_device_query_model_get_type ())

G_DECLARE_FINAL_TYPE (RdDeviceQueryModel, rd_device_query_model, RD, DEVICE_QUERY_MODEL, GObject)

RdDeviceQueryModel *rd_device_query_model_new         (void);
GListModel         *rd_device_query_model_get_model   (RdDeviceQueryModel   *self);
void                rd_device_query_model_set_model   (RdDeviceQueryModel   *self,
                                                       GListModel           *model);
RdDeviceSort        rd_device_query_model_get_sort    (RdDeviceQueryModel   *self);
void                rd_device_query_model_set_sort    (RdDeviceQueryModel   *self,
                                                       RdDeviceSort          sort);
void                rd_device_query_model_set_filter  (RdDeviceQueryModel   *self,
                                                       const char *const    *folded_words,
                                                       RdDeviceQuickFilters  filters,
                                                       GDateTime            *stale_before);
gboolean            rd_device_query_model_get_pending (RdDeviceQueryModel   *self);

G_END_DECLS
