/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "graph-test-server"

#include "config.h"

#include "graph-test-server.h"

#include <string.h>

typedef struct
{
  GraphTestHandler handler;
  gpointer user_data;
} HandlerEntry;

struct _GraphTestServer
{
  SoupServer *server;
  char *origin;
  char *base_url;
  GHashTable *queues;   /* path → GQueue of GraphTestResponse */
  GHashTable *handlers; /* path → HandlerEntry */
  GPtrArray *requests;  /* GraphTestRequest */
};

static void
graph_test_request_free (GraphTestRequest *request)
{
  g_free (request->method);
  g_free (request->path);
  g_free (request->path_and_query);
  soup_message_headers_unref (request->headers);
  g_bytes_unref (request->body);
  g_free (request);
}

GraphTestResponse *
graph_test_response_new (guint       status,
                         const char *body)
{
  GraphTestResponse *response = g_new0 (GraphTestResponse, 1);

  response->status = status;
  response->body = g_strdup (body);
  response->headers = g_ptr_array_new_with_free_func (g_free);

  return response;
}

void
graph_test_response_free (GraphTestResponse *response)
{
  g_free (response->body);
  g_ptr_array_unref (response->headers);
  g_free (response);
}

GraphTestResponse *
graph_test_response_add_header (GraphTestResponse *response,
                                const char        *name,
                                const char        *value)
{
  g_ptr_array_add (response->headers, g_strdup (name));
  g_ptr_array_add (response->headers, g_strdup (value));

  return response;
}

static void
queue_free (GQueue *queue)
{
  g_queue_free_full (queue, (GDestroyNotify) graph_test_response_free);
}

static void
apply_response (SoupServerMessage *msg,
                GraphTestResponse *response)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  for (guint i = 0; i + 1 < response->headers->len; i += 2)
    soup_message_headers_append (headers, g_ptr_array_index (response->headers, i),
                                 g_ptr_array_index (response->headers, i + 1));

  soup_server_message_set_status (msg, response->status, NULL);
  if (response->body != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, response->body,
                                      strlen (response->body));
}

typedef struct
{
  SoupServerMessage *msg;
  GraphTestResponse *response;
} Delayed;

static gboolean
on_delay_done_cb (gpointer user_data)
{
  Delayed *delayed = user_data;

  apply_response (delayed->msg, delayed->response);
  soup_server_message_unpause (delayed->msg);

  return G_SOURCE_REMOVE;
}

static void
delayed_free (Delayed *delayed)
{
  g_object_unref (delayed->msg);
  graph_test_response_free (delayed->response);
  g_free (delayed);
}

static void
on_request_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  GraphTestServer *self = user_data;
  GraphTestRequest *request = g_new0 (GraphTestRequest, 1);
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) flat = soup_message_body_flatten (body);
  GraphTestResponse *response = NULL;
  HandlerEntry *entry;
  GQueue *queue;

  request->method = g_strdup (soup_server_message_get_method (msg));
  request->path = g_strdup (path);
  request->path_and_query = g_uri_get_query (uri) != NULL
                              ? g_strconcat (g_uri_get_path (uri), "?", g_uri_get_query (uri), NULL)
                              : g_strdup (g_uri_get_path (uri));
  request->headers = soup_message_headers_ref (soup_server_message_get_request_headers (msg));
  request->body = g_bytes_ref (flat);
  request->time_us = g_get_monotonic_time ();
  g_ptr_array_add (self->requests, request);

  entry = g_hash_table_lookup (self->handlers, path);
  queue = g_hash_table_lookup (self->queues, path);

  if (queue != NULL && !g_queue_is_empty (queue))
    response = g_queue_pop_head (queue);
  else if (entry != NULL)
    response = entry->handler (self, request, entry->user_data);

  if (response == NULL)
    response = graph_test_response_new (500, "{\"error\":{\"code\":\"NoCannedResponse\","
                                             "\"message\":\"The test queued no answer here\"}}");

  if (response->drop_connection)
    {
      GIOStream *stream = soup_server_message_steal_connection (msg);

      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
      graph_test_response_free (response);
      return;
    }

  if (response->delay_ms > 0)
    {
      Delayed *delayed = g_new0 (Delayed, 1);

      delayed->msg = g_object_ref (msg);
      delayed->response = response;
      soup_server_message_pause (msg);
      g_timeout_add_full (G_PRIORITY_DEFAULT, response->delay_ms, on_delay_done_cb, delayed,
                          (GDestroyNotify) delayed_free);
      return;
    }

  apply_response (msg, response);
  graph_test_response_free (response);
}

GraphTestServer *
graph_test_server_new (void)
{
  GraphTestServer *self = g_new0 (GraphTestServer, 1);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  self->server = soup_server_new (NULL, NULL);
  self->queues = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) queue_free);
  self->handlers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) graph_test_request_free);

  soup_server_add_handler (self->server, NULL, on_request_cb, self, NULL);
  soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (self->server);
  g_assert_nonnull (uris);
  self->origin = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  self->base_url = g_strconcat (self->origin, "/v1.0", NULL);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return self;
}

void
graph_test_server_free (GraphTestServer *self)
{
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_hash_table_unref (self->queues);
  g_hash_table_unref (self->handlers);
  g_ptr_array_unref (self->requests);
  g_free (self->origin);
  g_free (self->base_url);
  g_free (self);
}

/* "http://127.0.0.1:PORT" */
const char *
graph_test_server_get_origin (GraphTestServer *self)
{
  return self->origin;
}

/* "http://127.0.0.1:PORT/v1.0" */
const char *
graph_test_server_get_base_url (GraphTestServer *self)
{
  return self->base_url;
}

/* Queues one answer for @path (without query); answers are used in order,
 * before any handler for the path. Returns it to add headers, a delay or a
 * dropped connection. */
GraphTestResponse *
graph_test_server_queue (GraphTestServer *self,
                         const char      *path,
                         guint            status,
                         const char      *body)
{
  GQueue *queue = g_hash_table_lookup (self->queues, path);
  GraphTestResponse *response = graph_test_response_new (status, body);

  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (self->queues, g_strdup (path), queue);
    }
  g_queue_push_tail (queue, response);

  return response;
}

void
graph_test_server_set_handler (GraphTestServer  *self,
                               const char       *path,
                               GraphTestHandler  handler,
                               gpointer          user_data)
{
  HandlerEntry *entry = g_new0 (HandlerEntry, 1);

  entry->handler = handler;
  entry->user_data = user_data;
  g_hash_table_replace (self->handlers, g_strdup (path), entry);
}

/* (element-type GraphTestRequest): every request so far, in order */
GPtrArray *
graph_test_server_get_requests (GraphTestServer *self)
{
  return self->requests;
}

guint
graph_test_server_count (GraphTestServer *self,
                         const char      *path)
{
  guint count = 0;

  for (guint i = 0; i < self->requests->len; i++)
    {
      GraphTestRequest *request = g_ptr_array_index (self->requests, i);

      if (path == NULL || g_str_equal (request->path, path))
        count++;
    }

  return count;
}
