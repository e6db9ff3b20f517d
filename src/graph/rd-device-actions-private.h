/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-device-actions.h"

G_BEGIN_DECLS

typedef gint64 (*RdDeviceActionsClock) (void);

/* For tests: how many times a write had to wait for the write limit, and
 * the clock the write limit's bucket refills by (g_get_monotonic_time() by
 * default; the waits themselves always take real time). */
guint _rd_device_actions_get_n_write_waits (RdDeviceActions      *self);
void  _rd_device_actions_set_clock         (RdDeviceActions      *self,
                                            RdDeviceActionsClock  clock);

G_END_DECLS
