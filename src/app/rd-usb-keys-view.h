/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-board.h"

G_BEGIN_DECLS

#define RD_TYPE_USB_KEYS_VIEW (rd_usb_keys_view_get_type ())

G_DECLARE_FINAL_TYPE (RdUsbKeysView, rd_usb_keys_view, RD, USB_KEYS_VIEW, GtkWidget)

GtkWidget  *rd_usb_keys_view_new              (void);
RdBoard    *rd_usb_keys_view_get_board        (RdUsbKeysView *self);
void        rd_usb_keys_view_set_board        (RdUsbKeysView *self,
                                               RdBoard       *board);
RdPlan     *rd_usb_keys_view_get_plan         (RdUsbKeysView *self);
void        rd_usb_keys_view_prepare_for_plan (RdUsbKeysView *self,
                                               RdPlan        *plan);
GListModel *rd_usb_keys_view_get_drives       (RdUsbKeysView *self);
void        rd_usb_keys_view_set_drives       (RdUsbKeysView *self,
                                               GListModel    *drives);
const char *rd_usb_keys_view_get_image        (RdUsbKeysView *self);
void        rd_usb_keys_view_set_image        (RdUsbKeysView *self,
                                               const char    *path);
const char *rd_usb_keys_view_get_image_sha256 (RdUsbKeysView *self);
gboolean    rd_usb_keys_view_get_writing      (RdUsbKeysView *self);
void        rd_usb_keys_view_add_payload      (RdUsbKeysView *self,
                                               const char    *directory);
void        rd_usb_keys_view_remove_payload   (RdUsbKeysView *self,
                                               const char    *directory);
guint64     rd_usb_keys_view_get_composed_size (RdUsbKeysView *self);

G_END_DECLS
