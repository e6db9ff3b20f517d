/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-device-card.h"

G_BEGIN_DECLS

GtkWidget *
rd_device_card_get_part (RdDeviceCard *self, const char *name);

G_END_DECLS
