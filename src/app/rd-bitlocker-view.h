/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-board.h"

G_BEGIN_DECLS

#define RD_TYPE_BITLOCKER_VIEW (rd_bitlocker_view_get_type ())

G_DECLARE_FINAL_TYPE (RdBitlockerView, rd_bitlocker_view, RD, BITLOCKER_VIEW, GtkWidget)

GtkWidget  *rd_bitlocker_view_new                (void);
RdBoard    *rd_bitlocker_view_get_board          (RdBitlockerView      *self);
void        rd_bitlocker_view_set_board          (RdBitlockerView      *self,
                                                  RdBoard              *board);
gboolean    rd_bitlocker_view_get_not_ready_only (RdBitlockerView      *self);
void        rd_bitlocker_view_set_not_ready_only (RdBitlockerView      *self,
                                                  gboolean              not_ready_only);
guint       rd_bitlocker_view_get_n_devices      (RdBitlockerView      *self);
guint       rd_bitlocker_view_get_n_ready        (RdBitlockerView      *self);
GListModel *rd_bitlocker_view_get_model          (RdBitlockerView      *self);
void        rd_bitlocker_view_export_async       (RdBitlockerView      *self,
                                                  GFile                *file,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean    rd_bitlocker_view_export_finish      (RdBitlockerView      *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

G_END_DECLS
