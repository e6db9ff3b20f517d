/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-device.h"
#include "rd-plan.h"

G_BEGIN_DECLS

#define RD_TYPE_DEVICE_CARD (rd_device_card_get_type ())

G_DECLARE_FINAL_TYPE (RdDeviceCard, rd_device_card, RD, DEVICE_CARD, GtkWidget)

GtkWidget *rd_device_card_new        (void);
RdDevice  *rd_device_card_get_device (RdDeviceCard *self);
void       rd_device_card_set_device (RdDeviceCard *self,
                                      RdDevice     *device);
RdPlan    *rd_device_card_get_plan   (RdDeviceCard *self);
void       rd_device_card_set_plan   (RdDeviceCard *self,
                                      RdPlan       *plan);
char      *rd_device_card_dup_tooltip (RdDeviceCard *self,
                                       GtkWidget    *widget);

G_END_DECLS
