/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-board.h"
#include "rd-session.h"

G_BEGIN_DECLS

#define RD_TYPE_PLAN_PANE (rd_plan_pane_get_type ())

G_DECLARE_FINAL_TYPE (RdPlanPane, rd_plan_pane, RD, PLAN_PANE, GtkWidget)

RdBoard  *rd_plan_pane_get_board   (RdPlanPane *self);
void      rd_plan_pane_set_board   (RdPlanPane *self,
                                    RdBoard    *board);
RdDevice *rd_plan_pane_get_device  (RdPlanPane *self);
void      rd_plan_pane_set_device  (RdPlanPane *self,
                                    RdDevice   *device);
void      rd_plan_pane_set_session (RdPlanPane *self,
                                    RdSession  *session);

G_END_DECLS
