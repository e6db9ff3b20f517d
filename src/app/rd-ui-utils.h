/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "rd-plan.h"
#include "rd-readiness.h"

G_BEGIN_DECLS

char       *rd_ui_format_age          (GDateTime       *then,
                                       GDateTime       *now);
const char *rd_ui_plan_state_title    (RdPlanState      state);
const char *rd_ui_plan_state_style    (RdPlanState      state);
const char *rd_ui_severity_icon_name  (RdCheckSeverity  severity);
const char *rd_ui_severity_style      (RdCheckSeverity  severity);
void        rd_ui_set_style           (GtkWidget       *widget,
                                       const char      *style);

G_END_DECLS
