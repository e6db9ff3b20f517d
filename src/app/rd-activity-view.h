/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-audit-log.h"

G_BEGIN_DECLS

#define RD_TYPE_ACTIVITY_VIEW (rd_activity_view_get_type ())

G_DECLARE_FINAL_TYPE (RdActivityView, rd_activity_view, RD, ACTIVITY_VIEW, GtkWidget)

GtkWidget  *rd_activity_view_new            (void);
RdAuditLog *rd_activity_view_get_audit_log  (RdActivityView       *self);
void        rd_activity_view_set_audit_log  (RdActivityView       *self,
                                             RdAuditLog           *audit_log);
void        rd_activity_view_reload         (RdActivityView       *self);
gboolean    rd_activity_view_get_loading    (RdActivityView       *self);
const char *rd_activity_view_get_search     (RdActivityView       *self);
void        rd_activity_view_set_search     (RdActivityView       *self,
                                             const char           *search);
const char *rd_activity_view_get_outcome    (RdActivityView       *self);
void        rd_activity_view_set_outcome    (RdActivityView       *self,
                                             const char           *outcome);
GListModel *rd_activity_view_get_model      (RdActivityView       *self);
void        rd_activity_view_export_async   (RdActivityView       *self,
                                             GFile                *file,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    rd_activity_view_export_finish  (RdActivityView       *self,
                                             GAsyncResult         *result,
                                             GError              **error);

G_END_DECLS
