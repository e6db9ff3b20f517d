/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-plan.h"

G_BEGIN_DECLS

/* The version of the file format this build writes, and the newest it reads. */
#define RD_PLAN_STORE_FORMAT_VERSION 1

#define RD_TYPE_PLAN_STORE (rd_plan_store_get_type ())

G_DECLARE_FINAL_TYPE (RdPlanStore, rd_plan_store, RD, PLAN_STORE, GObject)

RdPlanStore *rd_plan_store_new             (const char   *directory,
                                            const char   *tenant_id);
RdPlanStore *rd_plan_store_new_default     (const char   *tenant_id);
const char  *rd_plan_store_get_path        (RdPlanStore  *self);
const char  *rd_plan_store_get_tenant_id   (RdPlanStore  *self);
GPtrArray   *rd_plan_store_load            (RdPlanStore  *self,
                                            GError      **error);
gboolean     rd_plan_store_save            (RdPlanStore  *self,
                                            GPtrArray    *plans,
                                            GError      **error);

G_END_DECLS
