/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "rd-graph-batch.h"
#include "rd-graph-response.h"
#include "rd-token-source.h"

G_BEGIN_DECLS

#define RD_TYPE_GRAPH_CLIENT (rd_graph_client_get_type ())

G_DECLARE_FINAL_TYPE (RdGraphClient, rd_graph_client, RD, GRAPH_CLIENT, GObject)

/* Called on the caller's main context with each page's "value" array,
 * already parsed on a worker thread, while the next page is on its way. */
typedef void (*RdGraphPageFunc) (JsonArray       *items,
                                 RdGraphResponse *response,
                                 gpointer         user_data);

RdGraphClient   *rd_graph_client_new             (const char           *base_url,
                                                  RdTokenSource        *token_source);
const char      *rd_graph_client_get_base_url    (RdGraphClient        *self);
void             rd_graph_client_set_base_url    (RdGraphClient        *self,
                                                  const char           *base_url);
RdTokenSource   *rd_graph_client_get_token_source (RdGraphClient       *self);

void             rd_graph_client_request_async   (RdGraphClient        *self,
                                                  const char           *method,
                                                  const char           *path,
                                                  JsonNode             *body,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
RdGraphResponse *rd_graph_client_request_finish  (RdGraphClient        *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

void             rd_graph_client_list_async      (RdGraphClient        *self,
                                                  const char           *path,
                                                  const char * const   *select,
                                                  const char           *filter,
                                                  int                   top,
                                                  RdGraphPageFunc       page_func,
                                                  gpointer              page_data,
                                                  GDestroyNotify        page_data_destroy,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
JsonArray       *rd_graph_client_list_finish     (RdGraphClient        *self,
                                                  GAsyncResult         *result,
                                                  guint                *n_items,
                                                  GError              **error);

void             rd_graph_client_batch_async     (RdGraphClient        *self,
                                                  GPtrArray            *requests,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
GPtrArray       *rd_graph_client_batch_finish    (RdGraphClient        *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

G_END_DECLS
