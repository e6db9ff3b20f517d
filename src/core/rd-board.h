/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-device.h"
#include "rd-plan.h"
#include "rd-plan-store.h"

G_BEGIN_DECLS

#define RD_TYPE_BOARD (rd_board_get_type ())

G_DECLARE_FINAL_TYPE (RdBoard, rd_board, RD, BOARD, GObject)

typedef struct _RdBoardListing RdBoardListing;

RdBoardListing *rd_board_listing_new      (GPtrArray      *devices);
void            rd_board_listing_catch_up (RdBoardListing *listing);
void            rd_board_listing_free     (RdBoardListing *listing);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdBoardListing, rd_board_listing_free)

RdBoard     *rd_board_new                (RdPlanStore          *store);
RdPlanStore *rd_board_get_store          (RdBoard              *self);
gboolean     rd_board_load               (RdBoard              *self,
                                          GError              **error);
void         rd_board_set_devices        (RdBoard              *self,
                                          GPtrArray            *devices);
void         rd_board_set_devices_async  (RdBoard              *self,
                                          GPtrArray            *devices,
                                          int                   io_priority,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
gboolean     rd_board_set_devices_finish (RdBoard              *self,
                                          GAsyncResult         *result,
                                          GError              **error);
gboolean     rd_board_take_listing       (RdBoard              *self,
                                          RdBoardListing       *listing);
gboolean     rd_board_get_pending        (RdBoard              *self);
GListModel  *rd_board_get_lane           (RdBoard              *self,
                                          RdLane                lane);
RdDevice    *rd_board_lookup_device      (RdBoard              *self,
                                          const char           *device_id);
RdLane       rd_board_get_device_lane    (RdBoard              *self,
                                          RdDevice             *device);
RdPlan      *rd_board_get_plan           (RdBoard              *self,
                                          RdDevice             *device);
GPtrArray   *rd_board_dup_plans          (RdBoard              *self);
gboolean     rd_board_move_device        (RdBoard              *self,
                                          RdDevice             *device,
                                          RdLane                lane,
                                          GError              **error);
gboolean     rd_board_set_method         (RdBoard              *self,
                                          RdDevice             *device,
                                          RdMethod              method,
                                          GError              **error);
gboolean     rd_board_transition_plan    (RdBoard              *self,
                                          RdPlan               *plan,
                                          RdPlanState           state,
                                          GError              **error);
GListModel  *rd_board_evaluate           (RdBoard              *self,
                                          RdDevice             *device);
gboolean     rd_board_record_usb_key     (RdBoard              *self,
                                          RdPlan               *plan,
                                          const char           *image_name,
                                          const char           *image_sha256,
                                          const char           *drive_serial,
                                          GError              **error);
GPtrArray   *rd_board_dup_ready_plans    (RdBoard              *self,
                                          RdLane                lane);
gboolean     rd_board_save               (RdBoard              *self,
                                          GError              **error);

G_END_DECLS
