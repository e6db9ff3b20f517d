/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-plan.h"

G_BEGIN_DECLS

void _rd_plan_restore_state (RdPlan      *self,
                             RdPlanState  state);
void _rd_plan_restore_usb_key (RdPlan      *self,
                               RdPlanState  state,
                               const char  *image_name,
                               const char  *image_sha256,
                               const char  *drive_serial);

G_END_DECLS
