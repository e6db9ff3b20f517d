/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-drive.h"

G_BEGIN_DECLS

#define RD_TYPE_USB_KEY_PROGRESS_ROW (rd_usb_key_progress_row_get_type ())

G_DECLARE_FINAL_TYPE (RdUsbKeyProgressRow, rd_usb_key_progress_row, RD, USB_KEY_PROGRESS_ROW,
                      GtkListBoxRow)

GtkWidget    *rd_usb_key_progress_row_new          (RdDrive             *drive);
RdDrive      *rd_usb_key_progress_row_get_drive    (RdUsbKeyProgressRow *self);
RdWritePhase  rd_usb_key_progress_row_get_phase    (RdUsbKeyProgressRow *self);
gboolean      rd_usb_key_progress_row_get_finished (RdUsbKeyProgressRow *self);
const char   *rd_usb_key_progress_row_get_status   (RdUsbKeyProgressRow *self);
void          rd_usb_key_progress_row_update       (RdUsbKeyProgressRow *self,
                                                    RdWritePhase         phase,
                                                    guint64              bytes,
                                                    guint64              total,
                                                    double               rate,
                                                    double               eta);
void          rd_usb_key_progress_row_update_step  (RdUsbKeyProgressRow *self,
                                                    const char          *title,
                                                    guint64              bytes,
                                                    guint64              total);
void          rd_usb_key_progress_row_set_done     (RdUsbKeyProgressRow *self);
void          rd_usb_key_progress_row_set_failed   (RdUsbKeyProgressRow *self,
                                                    const char          *message);
void          rd_usb_key_progress_row_set_cancelled (RdUsbKeyProgressRow *self);

G_END_DECLS
