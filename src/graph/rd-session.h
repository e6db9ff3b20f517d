/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-audit-log.h"
#include "rd-board.h"
#include "rd-cloud.h"
#include "rd-demo-tenant.h"
#include "rd-device-actions.h"
#include "rd-entra-auth.h"
#include "rd-graph-client.h"
#include "rd-tenant-sync.h"
#include "rd-token-source.h"

G_BEGIN_DECLS

/* The seed of a generated demo inventory (`--demo=N`): the same N gives the
 * same devices every time, so that plans made in one run find their devices
 * in the next. */
#define RD_SESSION_DEMO_SEED 20240603

/* The demo approves a device-code sign-in after a couple of polls; a short
 * interval keeps that to a second or two. */
#define RD_SESSION_DEMO_DEVICE_CODE_INTERVAL 1

#define RD_TYPE_SESSION (rd_session_get_type ())

G_DECLARE_FINAL_TYPE (RdSession, rd_session, RD, SESSION, GObject)

RdSession       *rd_session_new                 (const char     *cloud,
                                                 const char     *graph_endpoint,
                                                 const char     *login_endpoint,
                                                 const char     *tenant,
                                                 const char     *client_id,
                                                 GError        **error);
RdSession       *rd_session_new_demo            (guint           n_devices,
                                                 const char     *demo_data,
                                                 GError        **error);

RdCloud         *rd_session_get_cloud           (RdSession      *self);
RdDemoTenant    *rd_session_get_demo            (RdSession      *self);
const char      *rd_session_get_tenant          (RdSession      *self);
const char      *rd_session_get_client_id       (RdSession      *self);
void             rd_session_set_client_id       (RdSession      *self,
                                                 const char     *client_id);

RdEntraAuth     *rd_session_get_auth            (RdSession      *self,
                                                 GError        **error);

gboolean         rd_session_connect_demo        (RdSession      *self,
                                                 GError        **error);
gboolean         rd_session_connect_with_token  (RdSession      *self,
                                                 const char     *token,
                                                 GError        **error);
gboolean         rd_session_connect_with_auth   (RdSession      *self,
                                                 GError        **error);
gboolean         rd_session_resolve_tenant_id   (RdSession      *self);

gboolean         rd_session_get_connected       (RdSession      *self);
RdTokenSource   *rd_session_get_token_source    (RdSession      *self);
RdGraphClient   *rd_session_get_client          (RdSession      *self);
const char      *rd_session_get_tenant_id       (RdSession      *self);
const char      *rd_session_get_username        (RdSession      *self);
const char      *rd_session_get_display_name    (RdSession      *self);

RdTenantSync    *rd_session_get_sync            (RdSession      *self);
RdBoard         *rd_session_open_board          (RdSession      *self,
                                                 GError        **load_error);
RdBoard         *rd_session_get_board           (RdSession      *self);
RdAuditLog      *rd_session_get_audit_log       (RdSession      *self);
RdDeviceActions *rd_session_get_actions         (RdSession      *self);

G_END_DECLS
