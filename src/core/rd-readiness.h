/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-device.h"

G_BEGIN_DECLS

/* A device that has not checked in for this long is stale: an action sent to
 * it waits for its next check-in. */
#define RD_READINESS_STALE_DAYS 7

#define RD_TYPE_CHECK (rd_check_get_type ())

G_DECLARE_FINAL_TYPE (RdCheck, rd_check, RD, CHECK, GObject)

RdCheck         *rd_check_new                (const char      *id,
                                              RdCheckSeverity  severity,
                                              const char      *title,
                                              const char      *explanation);
const char      *rd_check_get_id             (RdCheck         *self);
RdCheckSeverity  rd_check_get_severity       (RdCheck         *self);
const char      *rd_check_get_title          (RdCheck         *self);
const char      *rd_check_get_explanation    (RdCheck         *self);

GListModel      *rd_readiness_evaluate       (RdDevice        *device,
                                              RdMethod         method,
                                              GDateTime       *now);
RdCheckSeverity  rd_readiness_worst_severity (GListModel      *checks);
RdCheck         *rd_readiness_first_blocker  (GListModel      *checks);

G_END_DECLS
