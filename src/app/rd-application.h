/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-board.h"
#include "rd-tenant-sync.h"

G_BEGIN_DECLS

#define RD_TYPE_APPLICATION (rd_application_get_type ())

G_DECLARE_FINAL_TYPE (RdApplication, rd_application, RD, APPLICATION, AdwApplication)

void           rd_application_prepare_start (void);
RdApplication *rd_application_new         (void);
RdBoard       *rd_application_get_board   (RdApplication *self);
void           rd_application_flush_cache (RdApplication *self,
                                           RdTenantSync  *sync);
gboolean       rd_application_get_flushing (RdApplication *self);

G_END_DECLS
