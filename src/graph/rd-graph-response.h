/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* One answer from Microsoft Graph: a whole response, or one inner response
 * of a $batch. The body has already been parsed (off the main thread). */
typedef struct _RdGraphResponse RdGraphResponse;

#define RD_TYPE_GRAPH_RESPONSE (rd_graph_response_get_type ())

GType               rd_graph_response_get_type              (void) G_GNUC_CONST;

RdGraphResponse    *rd_graph_response_new                   (guint               status,
                                                             SoupMessageHeaders *headers,
                                                             JsonNode           *body,
                                                             const char         *request_id,
                                                             const char         *client_request_id);
RdGraphResponse    *rd_graph_response_ref                   (RdGraphResponse    *self);
void                rd_graph_response_unref                 (RdGraphResponse    *self);

guint               rd_graph_response_get_status            (RdGraphResponse    *self);
SoupMessageHeaders *rd_graph_response_get_headers           (RdGraphResponse    *self);
const char         *rd_graph_response_get_header            (RdGraphResponse    *self,
                                                             const char         *name);
JsonNode           *rd_graph_response_get_body              (RdGraphResponse    *self);
JsonObject         *rd_graph_response_get_object            (RdGraphResponse    *self);
const char         *rd_graph_response_get_request_id        (RdGraphResponse    *self);
const char         *rd_graph_response_get_client_request_id (RdGraphResponse    *self);
GError             *rd_graph_response_to_error              (RdGraphResponse    *self);

GError             *rd_graph_error_new_from_response        (guint               status,
                                                             JsonNode           *body,
                                                             const char         *request_id,
                                                             const char         *client_request_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdGraphResponse, rd_graph_response_unref)

G_END_DECLS
