/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-plan.h"

G_BEGIN_DECLS

void _rd_plan_restore_state (RdPlan      *self,
                             RdPlanState  state);

G_END_DECLS
