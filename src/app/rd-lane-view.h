/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-board.h"

G_BEGIN_DECLS

#define RD_TYPE_LANE_VIEW (rd_lane_view_get_type ())

G_DECLARE_FINAL_TYPE (RdLaneView, rd_lane_view, RD, LANE_VIEW, GtkWidget)

RdBoard          *rd_lane_view_get_board            (RdLaneView *self);
void              rd_lane_view_set_board            (RdLaneView *self,
                                                     RdBoard    *board);
RdLane            rd_lane_view_get_lane             (RdLaneView *self);
GtkSelectionModel *rd_lane_view_get_selection       (RdLaneView *self);
RdDevice         *rd_lane_view_get_selected_device  (RdLaneView *self);
GPtrArray        *rd_lane_view_dup_selected_devices (RdLaneView *self);
void              rd_lane_view_unselect_all         (RdLaneView *self);
const char       *rd_lane_view_get_search           (RdLaneView *self);
void              rd_lane_view_set_search           (RdLaneView *self,
                                                     const char *search);

G_END_DECLS
