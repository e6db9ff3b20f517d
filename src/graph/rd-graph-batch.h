/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-graph-response.h"

G_BEGIN_DECLS

/* One request of a JSON $batch (reference §6). @url is relative to the
 * version root, such as "/deviceManagement/managedDevices/{id}/wipe". */
typedef struct _RdGraphBatchRequest RdGraphBatchRequest;

#define RD_TYPE_GRAPH_BATCH_REQUEST (rd_graph_batch_request_get_type ())

GType                rd_graph_batch_request_get_type        (void) G_GNUC_CONST;
RdGraphBatchRequest *rd_graph_batch_request_new             (const char          *id,
                                                             const char          *method,
                                                             const char          *url,
                                                             JsonNode            *body);
RdGraphBatchRequest *rd_graph_batch_request_ref             (RdGraphBatchRequest *self);
void                 rd_graph_batch_request_unref           (RdGraphBatchRequest *self);
void                 rd_graph_batch_request_add_depends_on  (RdGraphBatchRequest *self,
                                                             const char          *id);
const char          *rd_graph_batch_request_get_id          (RdGraphBatchRequest *self);
const char          *rd_graph_batch_request_get_method      (RdGraphBatchRequest *self);
const char          *rd_graph_batch_request_get_url         (RdGraphBatchRequest *self);
JsonNode            *rd_graph_batch_request_get_body        (RdGraphBatchRequest *self);
const char * const  *rd_graph_batch_request_get_depends_on  (RdGraphBatchRequest *self);

/* The outcome of one batched request: a response (2xx/3xx) or an error. */
typedef struct _RdGraphBatchResult RdGraphBatchResult;

#define RD_TYPE_GRAPH_BATCH_RESULT (rd_graph_batch_result_get_type ())

GType                rd_graph_batch_result_get_type         (void) G_GNUC_CONST;
RdGraphBatchResult  *rd_graph_batch_result_new              (const char          *id,
                                                             RdGraphResponse     *response,
                                                             GError              *error);
RdGraphBatchResult  *rd_graph_batch_result_ref              (RdGraphBatchResult  *self);
void                 rd_graph_batch_result_unref            (RdGraphBatchResult  *self);
const char          *rd_graph_batch_result_get_id           (RdGraphBatchResult  *self);
RdGraphResponse     *rd_graph_batch_result_get_response     (RdGraphBatchResult  *self);
const GError        *rd_graph_batch_result_get_error        (RdGraphBatchResult  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdGraphBatchRequest, rd_graph_batch_request_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdGraphBatchResult, rd_graph_batch_result_unref)

G_END_DECLS
