/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-graph-client.h"
#include "rd-graph-page-private.h"

G_BEGIN_DECLS

/* Test knobs: how long backoff waits, the cap on Retry-After, and how many
 * retries a request gets. The defaults are 1 s, 60 s, 60 s and 4. */
void rd_graph_client_set_retry_policy (RdGraphClient *self,
                                       guint          backoff_base_ms,
                                       guint          backoff_cap_ms,
                                       guint          retry_after_cap_ms,
                                       guint          max_retries);

/* Entry points for the fuzzers (fuzz/): the parsing a response body goes
 * through, and the check a link passes before it is followed. */
gboolean _rd_graph_client_parse_body  (GBytes         *bytes,
                                       guint           status,
                                       gboolean        expect_page,
                                       const char     *request_id,
                                       const char     *client_request_id,
                                       JsonNode      **node_out,
                                       GError        **error);
GUri    *_rd_graph_client_resolve_uri (RdGraphClient  *self,
                                       const char     *path,
                                       GError        **error);

/* The sync's lists: pages read by RdGraphPage, handed over whole
 * (transfer full) on the caller's context. */
typedef void (*RdGraphRawPageFunc) (RdGraphPage *page,
                                    gpointer     user_data);

void     _rd_graph_client_list_pages_async (RdGraphClient       *self,
                                            const char          *path,
                                            const char * const  *select,
                                            const char          *filter,
                                            int                  top,
                                            RdGraphRawPageFunc   page_func,
                                            gpointer             page_data,
                                            GDestroyNotify       page_data_destroy,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);

G_END_DECLS
