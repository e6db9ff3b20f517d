/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-board.h"
#include "rd-graph-client.h"

G_BEGIN_DECLS

/* Where a sync is. */
typedef enum
{
  RD_SYNC_PHASE_IDLE,    /* nothing loaded yet, or only the cache */
  RD_SYNC_PHASE_LOADING, /* the lists are coming in */
  RD_SYNC_PHASE_JOINING, /* all lists are in; joining them on a worker thread */
  RD_SYNC_PHASE_DONE,
  RD_SYNC_PHASE_FAILED,
} RdSyncPhase;

#define RD_TYPE_TENANT_SYNC (rd_tenant_sync_get_type ())

G_DECLARE_FINAL_TYPE (RdTenantSync, rd_tenant_sync, RD, TENANT_SYNC, GObject)

RdTenantSync       *rd_tenant_sync_new                    (RdGraphClient        *client,
                                                           const char           *tenant_id);

RdGraphClient      *rd_tenant_sync_get_client             (RdTenantSync         *self);
const char         *rd_tenant_sync_get_tenant_id          (RdTenantSync         *self);
gboolean            rd_tenant_sync_get_use_beta           (RdTenantSync         *self);
void                rd_tenant_sync_set_use_beta           (RdTenantSync         *self,
                                                           gboolean              use_beta);

RdSyncPhase         rd_tenant_sync_get_phase              (RdTenantSync         *self);
guint               rd_tenant_sync_get_pages_loaded       (RdTenantSync         *self);
guint               rd_tenant_sync_get_devices_loaded     (RdTenantSync         *self);
guint               rd_tenant_sync_get_non_windows_count  (RdTenantSync         *self);
const char * const *rd_tenant_sync_get_notes              (RdTenantSync         *self);
GDateTime          *rd_tenant_sync_get_synced_at          (RdTenantSync         *self);
gboolean            rd_tenant_sync_get_stale              (RdTenantSync         *self);
GTimeSpan           rd_tenant_sync_get_age                (RdTenantSync         *self);

void                rd_tenant_sync_run_async              (RdTenantSync         *self,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
GPtrArray          *rd_tenant_sync_run_finish             (RdTenantSync         *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);
void                rd_tenant_sync_flush_cache            (RdTenantSync         *self);
void                rd_tenant_sync_flush_cache_async      (RdTenantSync         *self,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean            rd_tenant_sync_flush_cache_finish     (RdTenantSync         *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

char               *rd_tenant_sync_dup_cache_path         (RdTenantSync         *self);
void                rd_tenant_sync_prefetch_cache         (RdTenantSync         *self);
GPtrArray          *rd_tenant_sync_load_cache             (RdTenantSync         *self,
                                                           GDateTime           **saved_at);
void                rd_tenant_sync_load_cache_async       (RdTenantSync         *self,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
GPtrArray          *rd_tenant_sync_load_cache_finish      (RdTenantSync         *self,
                                                           GAsyncResult         *result,
                                                           GDateTime           **saved_at,
                                                           RdBoardListing      **listing,
                                                           GError              **error);

G_END_DECLS
