/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RD_TYPE_AUDIT_ENTRY (rd_audit_entry_get_type ())

G_DECLARE_FINAL_TYPE (RdAuditEntry, rd_audit_entry, RD, AUDIT_ENTRY, GObject)

/* Entries are built with g_object_new() and their properties: "time"
 * (GDateTime), "user", "tenant", "device-id", "device-name", "method",
 * "request-method", "request-path", "request-body", "http-status",
 * "request-id", "client-request-id", "outcome". */

GDateTime  *rd_audit_entry_get_time              (RdAuditEntry *self);
const char *rd_audit_entry_get_user              (RdAuditEntry *self);
const char *rd_audit_entry_get_tenant            (RdAuditEntry *self);
const char *rd_audit_entry_get_device_id         (RdAuditEntry *self);
const char *rd_audit_entry_get_device_name       (RdAuditEntry *self);
const char *rd_audit_entry_get_method            (RdAuditEntry *self);
const char *rd_audit_entry_get_request_method    (RdAuditEntry *self);
const char *rd_audit_entry_get_request_path      (RdAuditEntry *self);
const char *rd_audit_entry_get_request_body      (RdAuditEntry *self);
int         rd_audit_entry_get_http_status       (RdAuditEntry *self);
const char *rd_audit_entry_get_request_id        (RdAuditEntry *self);
const char *rd_audit_entry_get_client_request_id (RdAuditEntry *self);
const char *rd_audit_entry_get_outcome           (RdAuditEntry *self);

#define RD_TYPE_AUDIT_LOG (rd_audit_log_get_type ())

G_DECLARE_FINAL_TYPE (RdAuditLog, rd_audit_log, RD, AUDIT_LOG, GObject)

RdAuditLog *rd_audit_log_new                     (const char   *path);
RdAuditLog *rd_audit_log_new_default             (void);
const char *rd_audit_log_get_path                (RdAuditLog   *self);
gboolean    rd_audit_log_append                  (RdAuditLog   *self,
                                                  RdAuditEntry *entry,
                                                  GError      **error);
GListModel *rd_audit_log_read                    (RdAuditLog   *self,
                                                  guint        *n_skipped,
                                                  GError      **error);

G_END_DECLS
