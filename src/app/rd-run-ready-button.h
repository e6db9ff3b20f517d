/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-board.h"

G_BEGIN_DECLS

#define RD_TYPE_RUN_READY_BUTTON (rd_run_ready_button_get_type ())

G_DECLARE_FINAL_TYPE (RdRunReadyButton, rd_run_ready_button, RD, RUN_READY_BUTTON, GtkButton)

GtkWidget *rd_run_ready_button_new         (void);
RdBoard   *rd_run_ready_button_get_board   (RdRunReadyButton *self);
void       rd_run_ready_button_set_board   (RdRunReadyButton *self,
                                            RdBoard          *board);
RdLane     rd_run_ready_button_get_lane    (RdRunReadyButton *self);
void       rd_run_ready_button_set_lane    (RdRunReadyButton *self,
                                            RdLane            lane);
guint      rd_run_ready_button_get_n_ready (RdRunReadyButton *self);

G_END_DECLS
