/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RD_TYPE_DEMO_TENANT (rd_demo_tenant_get_type ())

G_DECLARE_FINAL_TYPE (RdDemoTenant, rd_demo_tenant, RD, DEMO_TENANT, GObject)

/* What a device-code sign-in ends with, once the pending polls are done. */
typedef enum
{
  RD_DEMO_DEVICE_CODE_APPROVE,  /* tokens */
  RD_DEMO_DEVICE_CODE_DECLINE,  /* authorization_declined */
  RD_DEMO_DEVICE_CODE_EXPIRE,   /* expired_token */
  RD_DEMO_DEVICE_CODE_BAD_CODE, /* bad_verification_code */
} RdDemoDeviceCodeOutcome;

/* The optional sources whose permission can be withheld (403). */
typedef enum
{
  RD_DEMO_SOURCE_NONE = 0,
  RD_DEMO_SOURCE_BITLOCKER_KEYS = 1 << 0,
  RD_DEMO_SOURCE_AUTOPILOT = 1 << 1,
  RD_DEMO_SOURCE_ENCRYPTION_STATES = 1 << 2,
} RdDemoSource;

/* One wipe POST that reached the tenant (past the fault knobs and the
 * token check), whatever it was answered. */
typedef struct
{
  char *device_id;
  char *body;    /* the request body as sent, "" when empty */
  char *version; /* "v1.0" or "beta" */
  int status;    /* what the tenant answered */
} RdDemoWipeRequest;

void          rd_demo_wipe_request_free               (RdDemoWipeRequest        *request);

RdDemoTenant *rd_demo_tenant_new                      (void);

gboolean      rd_demo_tenant_load                     (RdDemoTenant             *self,
                                                       const char               *path,
                                                       GError                  **error);
void          rd_demo_tenant_generate                 (RdDemoTenant             *self,
                                                       guint                     n_devices,
                                                       guint32                   seed);

gboolean      rd_demo_tenant_start                    (RdDemoTenant             *self,
                                                       GError                  **error);
void          rd_demo_tenant_stop                     (RdDemoTenant             *self);
gboolean      rd_demo_tenant_is_running               (RdDemoTenant             *self);

const char   *rd_demo_tenant_get_base_url             (RdDemoTenant             *self);
char         *rd_demo_tenant_dup_graph_url            (RdDemoTenant             *self);
char         *rd_demo_tenant_dup_login_url            (RdDemoTenant             *self);
const char   *rd_demo_tenant_get_tenant_id            (RdDemoTenant             *self);
guint         rd_demo_tenant_get_n_devices            (RdDemoTenant             *self);
char         *rd_demo_tenant_issue_access_token       (RdDemoTenant             *self);

/* Sign-in knobs. */
void          rd_demo_tenant_set_device_code_outcome  (RdDemoTenant             *self,
                                                       RdDemoDeviceCodeOutcome   outcome);
void          rd_demo_tenant_set_device_code_pending  (RdDemoTenant             *self,
                                                       guint                     n_polls);
void          rd_demo_tenant_set_device_code_slow_down (RdDemoTenant            *self,
                                                        gboolean                 once);
void          rd_demo_tenant_set_device_code_interval (RdDemoTenant             *self,
                                                       guint                     seconds);
void          rd_demo_tenant_set_authorize_denied     (RdDemoTenant             *self,
                                                       gboolean                  denied);
void          rd_demo_tenant_set_public_client_flows  (RdDemoTenant             *self,
                                                       gboolean                  allowed);
void          rd_demo_tenant_set_token_lifetime       (RdDemoTenant             *self,
                                                       double                    seconds);
void          rd_demo_tenant_expire_tokens            (RdDemoTenant             *self);
void          rd_demo_tenant_revoke_refresh_tokens    (RdDemoTenant             *self);

/* Graph knobs. */
void          rd_demo_tenant_set_latency              (RdDemoTenant             *self,
                                                       guint                     msec);
void          rd_demo_tenant_set_throttle             (RdDemoTenant             *self,
                                                       guint                     every,
                                                       double                    retry_after);
void          rd_demo_tenant_set_unavailable          (RdDemoTenant             *self,
                                                       guint                     every);
void          rd_demo_tenant_set_drop_connection      (RdDemoTenant             *self,
                                                       guint                     every);
void          rd_demo_tenant_set_malformed_page       (RdDemoTenant             *self,
                                                       guint                     page);
void          rd_demo_tenant_set_page_size            (RdDemoTenant             *self,
                                                       guint                     page_size);
void          rd_demo_tenant_set_forbidden            (RdDemoTenant             *self,
                                                       RdDemoSource              sources);
void          rd_demo_tenant_set_action_duration      (RdDemoTenant             *self,
                                                       guint                     msec);
void          rd_demo_tenant_set_action_failure       (RdDemoTenant             *self,
                                                       const char               *device_id,
                                                       guint                     status,
                                                       const char               *code,
                                                       const char               *message);

/* Counters. */
guint         rd_demo_tenant_get_request_count        (RdDemoTenant             *self,
                                                       const char               *method,
                                                       const char               *pattern);
guint         rd_demo_tenant_get_total_requests       (RdDemoTenant             *self);
GPtrArray    *rd_demo_tenant_dup_wipe_requests        (RdDemoTenant             *self);
void          rd_demo_tenant_reset_counters           (RdDemoTenant             *self);

G_END_DECLS
