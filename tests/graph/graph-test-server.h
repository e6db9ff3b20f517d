/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A scripted HTTP server on 127.0.0.1 (port 0) for the graph tests: canned
 * responses queued per path, or a handler per path, and a record of every
 * request. It runs on the thread-default main context of its creator. */
typedef struct _GraphTestServer GraphTestServer;

typedef struct
{
  char *method;
  char *path;           /* "/v1.0/deviceManagement/managedDevices" */
  char *path_and_query; /* as it came on the request line */
  SoupMessageHeaders *headers;
  GBytes *body;
  gint64 time_us;       /* g_get_monotonic_time () on arrival */
} GraphTestRequest;

typedef struct
{
  guint status;
  char *body;
  GPtrArray *headers; /* name, value, name, value, ... */
  guint delay_ms;
  gboolean drop_connection;
} GraphTestResponse;

typedef GraphTestResponse *(*GraphTestHandler) (GraphTestServer  *server,
                                                GraphTestRequest *request,
                                                gpointer          user_data);

GraphTestServer   *graph_test_server_new          (void);
void               graph_test_server_free         (GraphTestServer    *self);
const char        *graph_test_server_get_origin   (GraphTestServer    *self);
const char        *graph_test_server_get_base_url (GraphTestServer    *self);
GraphTestResponse *graph_test_server_queue        (GraphTestServer    *self,
                                                   const char         *path,
                                                   guint               status,
                                                   const char         *body);
void               graph_test_server_set_handler  (GraphTestServer    *self,
                                                   const char         *path,
                                                   GraphTestHandler    handler,
                                                   gpointer            user_data);
GPtrArray         *graph_test_server_get_requests (GraphTestServer    *self);
guint              graph_test_server_count        (GraphTestServer    *self,
                                                   const char         *path);

GraphTestResponse *graph_test_response_new        (guint               status,
                                                   const char         *body);
void               graph_test_response_free       (GraphTestResponse  *response);
GraphTestResponse *graph_test_response_add_header (GraphTestResponse  *response,
                                                   const char         *name,
                                                   const char         *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraphTestServer, graph_test_server_free)

G_END_DECLS
