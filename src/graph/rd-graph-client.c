/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-client"

#include "config.h"

#include "rd-graph-client.h"

#include "rd-cloud.h"
#include "rd-graph-client-private.h"
#include "rd-graph-error.h"
#include "rd-graph-page-private.h"
#include "rd-graph-util-private.h"
#include "rd-json-private.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

/* libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

/* Graph's limit on requests in one JSON batch (reference §6). */
#define MAX_BATCH_SIZE 20

struct _RdGraphClient
{
  GObject parent_instance;

  SoupSession *session;
  char *base_url;
  RdTokenSource *token_source;

  guint backoff_base_ms;
  guint backoff_cap_ms;
  guint retry_after_cap_ms;
  guint max_retries;
};

G_DEFINE_FINAL_TYPE (RdGraphClient, rd_graph_client, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BASE_URL,
  PROP_TOKEN_SOURCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Delays */

static guint
add_jitter (guint delay_ms)
{
  guint spread = MIN (delay_ms / 10, 250);

  return delay_ms + (guint) g_random_int_range (0, (gint32) spread + 1);
}

static guint
backoff_delay (RdGraphClient *self,
               guint          attempt)
{
  guint64 delay = self->backoff_base_ms;

  for (guint i = 0; i < attempt && delay < self->backoff_cap_ms; i++)
    delay *= 2;

  return add_jitter ((guint) MIN (delay, (guint64) self->backoff_cap_ms));
}

/* Retry-After is seconds, possibly fractional ("2.128"), or an HTTP date. */
static gboolean
parse_retry_after (RdGraphClient *self,
                   const char    *value,
                   guint         *delay_ms)
{
  double seconds;
  char *end = NULL;

  if (value == NULL)
    return FALSE;

  seconds = g_ascii_strtod (value, &end);
  if (end != value)
    {
      while (g_ascii_isspace (*end))
        end++;
      if (*end != '\0' || !isfinite (seconds) || seconds < 0)
        return FALSE;
    }
  else
    {
      g_autoptr (GDateTime) date = soup_date_time_new_from_http_string (value);
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

      if (date == NULL)
        return FALSE;
      seconds = MAX (0, g_date_time_difference (date, now) / (double) G_TIME_SPAN_SECOND);
    }

  *delay_ms = add_jitter ((guint) MIN (ceil (seconds * 1000), (double) self->retry_after_cap_ms));

  return TRUE;
}

/* Requests */

typedef struct _PageFetch PageFetch;

typedef struct
{
  char *method;
  GUri *uri;
  GBytes *body;
  char *token;
  guint attempt;
  gboolean refreshed;
  gboolean expect_page;
  gboolean raw_page; /* a 2xx page is read into an RdGraphPage, not a JsonNode */
  RdGraphPage *page;
  /* The page of a list it asks for, told when the body is in; held by the
   * request's callback until it returns. */
  PageFetch *fetch;
  char *client_request_id;
  char *refused_request_id;
  SoupMessage *msg;
} RequestData;

static void
forget_token (RequestData *data)
{
  if (data->token != NULL)
    {
      explicit_bzero (data->token, strlen (data->token));
      g_clear_pointer (&data->token, g_free);
    }
}

static void
request_data_free (RequestData *data)
{
  forget_token (data);
  g_free (data->method);
  g_clear_pointer (&data->uri, g_uri_unref);
  g_clear_pointer (&data->body, g_bytes_unref);
  g_free (data->client_request_id);
  g_free (data->refused_request_id);
  g_clear_object (&data->msg);
  g_clear_pointer (&data->page, rd_graph_page_free);
  g_free (data);
}

/* Methods that HTTP defines as idempotent: sending them twice does no more
 * than sending them once. POST (wipe, syncDevice, $batch) is not. */
static gboolean
method_is_idempotent (const char *method)
{
  return g_str_equal (method, "GET") || g_str_equal (method, "HEAD") ||
         g_str_equal (method, "OPTIONS") || g_str_equal (method, "PUT") ||
         g_str_equal (method, "DELETE");
}

/* Errors that show the request never left this computer, so that even a
 * POST may be sent again. */
static gboolean
error_is_before_sending (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
         error->domain == G_RESOLVER_ERROR;
}

static gboolean
error_is_transient (const GError *error)
{
  /* A certificate or protocol problem does not go away by itself. */
  if (error->domain == G_TLS_ERROR && !g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_EOF))
    return FALSE;
  if (error->domain == SOUP_SESSION_ERROR)
    return FALSE;

  return TRUE;
}

static gboolean
same_origin (GUri *a,
             GUri *b)
{
  /* "https:/path" parses, with no host. */
  if (g_uri_get_host (a) == NULL || g_uri_get_host (b) == NULL)
    return FALSE;

  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 &&
         g_uri_get_port (a) == g_uri_get_port (b);
}

/* @path is relative to the base URL ("/deviceManagement/managedDevices") or
 * an absolute URL Graph gave us (an @odata.nextLink), which is used whole
 * but only on the same origin as the base URL: the bearer token must not
 * follow a link anywhere else. */
static GUri *
resolve_uri (RdGraphClient  *self,
             const char     *path,
             GError        **error)
{
  g_autoptr (GUri) base = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!rd_cloud_check_endpoint (self->base_url, error))
    return NULL;

  base = g_uri_parse (self->base_url, SOUP_HTTP_URI_FLAGS, error);
  if (base == NULL)
    return NULL;

  if (g_uri_peek_scheme (path) != NULL)
    {
      uri = g_uri_parse (path, SOUP_HTTP_URI_FLAGS, &local_error);
      if (uri == NULL)
        {
          g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                       _ ("Microsoft Graph gave a link that is not a valid address (%s). Try "
                          "again; if it keeps happening, report it."),
                       local_error->message);
          return NULL;
        }

      if (!same_origin (uri, base))
        {
          g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT,
                       _ ("A link led away from the Graph endpoint %s, so it was not followed "
                          "and the sign-in was not sent there. Check the Graph endpoint "
                          "setting."),
                       self->base_url);
          return NULL;
        }
    }
  else
    {
      g_autofree char *url = NULL;

      url = g_strconcat (self->base_url, path[0] == '/' ? "" : "/", path, NULL);
      uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local_error);
      if (uri == NULL)
        {
          g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FAILED,
                       _ ("Could not build a Graph address from “%s” (%s)."), path,
                       local_error->message);
          return NULL;
        }
    }

  return g_steal_pointer (&uri);
}

/* A wait between two steps of a task */

typedef void (*TaskStep) (GTask *task);

typedef struct
{
  GTask *task;
  TaskStep next;
} SleepStep;

static void
on_step_sleep_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autofree SleepStep *step = user_data;
  g_autoptr (GTask) task = step->task;
  g_autoptr (GError) error = NULL;

  if (!_rd_graph_sleep_finish (result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  step->next (task);
}

/* Waits @delay_ms, then runs @next on @task; a cancelled wait returns the
 * error on @task instead. The wait holds its own reference on @task. */
static void
sleep_then (GTask    *task,
            guint     delay_ms,
            TaskStep  next)
{
  SleepStep *step = g_new0 (SleepStep, 1);

  step->task = g_object_ref (task);
  step->next = next;
  _rd_graph_sleep_async (delay_ms, g_task_get_cancellable (task), on_step_sleep_cb, step);
}

static void send_attempt (GTask *task);
static void on_fetch_body (PageFetch *fetch,
                           GBytes    *body);

static void
schedule_retry (GTask *task,
                guint  delay_ms)
{
  RequestData *data = g_task_get_task_data (task);

  data->attempt++;
  g_debug ("Retrying %s %s in %u ms (retry %u)", data->method, g_uri_get_path (data->uri),
           delay_ms, data->attempt);
  sleep_then (task, delay_ms, send_attempt);
}

/* Body parsing, on a worker thread */

typedef struct
{
  GBytes *bytes;
  guint status;
  gboolean expect_page;
  char *request_id;
  char *client_request_id;
  gboolean raw_page;
} ParseJob;

static void
parse_job_free (ParseJob *job)
{
  g_bytes_unref (job->bytes);
  g_free (job->request_id);
  g_free (job->client_request_id);
  g_free (job);
}

static GError *
new_malformed_error (const ParseJob *job,
                     const char     *what)
{
  GError *error;

  if (job->request_id != NULL)
    error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                         _ ("Microsoft Graph sent an answer Recovery Desk cannot read (%s). Try "
                            "again; if it keeps happening, report it with the request id %s."),
                         what, job->request_id);
  else
    error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                         _ ("Microsoft Graph sent an answer Recovery Desk cannot read (%s). Try "
                            "again; if it keeps happening, report it."),
                         what);
  rd_graph_error_set_details (error, job->status, job->request_id, job->client_request_id, NULL,
                              NULL);

  return error;
}

static gboolean
is_page (JsonNode *node)
{
  JsonObject *object;
  JsonNode *value;
  JsonNode *next;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;

  object = json_node_get_object (node);
  value = json_object_get_member (object, "value");
  if (value == NULL || !JSON_NODE_HOLDS_ARRAY (value))
    return FALSE;

  next = json_object_get_member (object, "@odata.nextLink");
  if (next != NULL && json_node_get_value_type (next) != G_TYPE_STRING &&
      !JSON_NODE_HOLDS_NULL (next))
    return FALSE;

  return TRUE;
}

/* Returns FALSE with @error set, else TRUE with the body (%NULL when empty)
 * in @node_out. */
static gboolean
parse_job (const ParseJob  *job,
           JsonNode       **node_out,
           GError         **error)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) parse_error = NULL;
  gsize size = 0;
  const char *data = g_bytes_get_data (job->bytes, &size);

  if (size > 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new_immutable ();

      if (!g_utf8_validate (data, size, NULL))
        g_set_error_literal (&parse_error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                             "not UTF-8");
      else if (json_parser_load_from_data (parser, data, size, &parse_error) &&
               json_parser_get_root (parser) != NULL)
        node = json_node_ref (json_parser_get_root (parser));

      if (node != NULL && !_rd_json_node_is_utf8 (node))
        {
          g_clear_pointer (&node, json_node_unref);
          g_set_error_literal (&parse_error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                               "not UTF-8");
        }
    }

  if (job->status >= 400)
    {
      g_propagate_error (error, rd_graph_error_new_from_response (job->status, node,
                                                                  job->request_id,
                                                                  job->client_request_id));
      return FALSE;
    }

  if (parse_error != NULL)
    {
      /* json-glib quotes the offending text, which may be a broken escape. */
      g_autofree char *message = g_utf8_make_valid (parse_error->message, -1);
      g_autofree char *what = g_strdup_printf (_ ("not valid JSON: %s"), message);

      g_propagate_error (error, new_malformed_error (job, what));
      return FALSE;
    }

  if (job->expect_page && !is_page (node))
    {
      g_propagate_error (error, new_malformed_error (job, _ ("a page of results without a "
                                                             "“value” list")));
      return FALSE;
    }

  *node_out = g_steal_pointer (&node);
  return TRUE;
}

/* A 2xx page of a list, read without json-glib (rd-graph-page.c). */
static void
parse_page_thread (GTask    *task,
                   ParseJob *job)
{
  g_autoptr (GError) error = NULL;
  /* The page is read in the body's own memory, no copy of it: the job
   * holds the only reference. */
  RdGraphPage *page = rd_graph_page_new_take (g_steal_pointer (&job->bytes), &error);

  if (page == NULL)
    {
      g_autofree char *what = NULL;

      if (error->domain == JSON_PARSER_ERROR)
        what = g_strdup_printf (_ ("not valid JSON: %s"), error->message);
      else
        what = g_strdup (_ ("a page of results without a “value” list"));
      g_task_return_error (task, new_malformed_error (job, what));
      return;
    }

  g_task_return_pointer (task, page, (GDestroyNotify) rd_graph_page_free);
}

static void
parse_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ParseJob *job = task_data;
  JsonNode *node = NULL;
  GError *error = NULL;

  if (job->raw_page && job->status < 300)
    {
      parse_page_thread (task, job);
      return;
    }

  if (!parse_job (task_data, &node, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

/**
 * _rd_graph_client_parse_body:
 * @node_out: (out) (transfer full) (nullable): the body, %NULL when empty
 *
 * What the worker thread makes of a response body, for the fuzzers.
 *
 * Returns: %FALSE with @error set for an error status or a malformed body
 */
gboolean
_rd_graph_client_parse_body (GBytes      *bytes,
                             guint        status,
                             gboolean     expect_page,
                             const char  *request_id,
                             const char  *client_request_id,
                             JsonNode   **node_out,
                             GError     **error)
{
  g_autofree char *request_id_copy = g_strdup (request_id);
  g_autofree char *client_request_id_copy = g_strdup (client_request_id);
  ParseJob job = { bytes, status, expect_page, request_id_copy, client_request_id_copy };

  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (node_out != NULL, FALSE);

  *node_out = NULL;
  return parse_job (&job, node_out, error);
}

/**
 * _rd_graph_client_resolve_uri:
 *
 * Where a request for @path (or a whole `@odata.nextLink`) would go, for
 * the fuzzers.
 *
 * Returns: (transfer full) (nullable): the address, or %NULL with @error set
 */
GUri *
_rd_graph_client_resolve_uri (RdGraphClient  *self,
                              const char     *path,
                              GError        **error)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  return resolve_uri (self, path, error);
}

static void
on_parsed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *headers = soup_message_get_response_headers (data->msg);

  if (data->raw_page && soup_message_get_status (data->msg) < 300)
    {
      /* The page waits in the request data for on_list_page_cb(). */
      g_clear_pointer (&data->page, rd_graph_page_free);
      data->page = g_task_propagate_pointer (G_TASK (result), &error);
    }
  else
    node = g_task_propagate_pointer (G_TASK (result), &error);
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (
    task,
    rd_graph_response_new (soup_message_get_status (data->msg), headers, node,
                           soup_message_headers_get_one (headers, "request-id"),
                           data->client_request_id),
    (GDestroyNotify) rd_graph_response_unref);
}

/* The sync's pages are read on threads of their own, below the main
 * thread (see _rd_graph_lower_thread_priority()), as many as there are
 * cores; other bodies on GTask's threads. */
static void
page_pool_func (gpointer data,
                gpointer user_data)
{
  GTask *parse_task = data;

  _rd_graph_lower_thread_priority ();
  parse_thread (parse_task, NULL, g_task_get_task_data (parse_task),
                g_task_get_cancellable (parse_task));
  g_object_unref (parse_task);
}

static void
run_page_parse (GTask *parse_task)
{
  static GThreadPool *page_pool;

  if (g_once_init_enter (&page_pool))
    {
      g_autoptr (GError) error = NULL;
      GThreadPool *pool = g_thread_pool_new (page_pool_func, NULL,
                                             CLAMP ((int) g_get_num_processors (), 1, 4), TRUE,
                                             &error);

      /* As g_thread_new() does. */
      if (error != NULL)
        g_error ("Could not start the threads that read pages: %s", error->message);
      g_once_init_leave (&page_pool, pool);
    }

  g_thread_pool_push (page_pool, g_object_ref (parse_task), NULL);
}

/* Takes @bytes, so that a page can be read in their own memory. */
static void
parse_response (GTask  *task,
                GBytes *bytes)
{
  RequestData *data = g_task_get_task_data (task);
  SoupMessageHeaders *headers = soup_message_get_response_headers (data->msg);
  g_autoptr (GTask) parse_task = NULL;
  ParseJob *job = g_new0 (ParseJob, 1);

  job->bytes = bytes;
  job->status = soup_message_get_status (data->msg);
  job->expect_page = data->expect_page;
  job->raw_page = data->raw_page;
  job->request_id = g_strdup (soup_message_headers_get_one (headers, "request-id"));
  job->client_request_id = g_strdup (data->client_request_id);

  /* No source object: the worker thread may drop the last reference to
   * the parse task after the answer has been handed on. */
  parse_task = g_task_new (NULL, g_task_get_cancellable (task), on_parsed_cb, g_object_ref (task));
  g_task_set_source_tag (parse_task, parse_response);
  g_task_set_task_data (parse_task, job, (GDestroyNotify) parse_job_free);
  if (job->raw_page)
    run_page_parse (parse_task);
  else
    g_task_run_in_thread (parse_task, parse_thread);
}

static void
on_token_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  data->token = rd_token_source_get_token_finish (RD_TOKEN_SOURCE (object), result, &error);
  if (data->token == NULL)
    {
      if (data->refreshed && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Graph refused the token and no fresh one could be had. */
          GError *unauthorized = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_UNAUTHORIZED,
                                              _ ("Microsoft Graph did not accept the sign-in, "
                                                 "and it could not be renewed: %s"),
                                              error->message);

          rd_graph_error_set_details (unauthorized, SOUP_STATUS_UNAUTHORIZED,
                                      data->refused_request_id, data->client_request_id, NULL,
                                      NULL);
          g_task_return_error (task, unauthorized);
        }
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  send_attempt (task);
}

/* Sending and reading a response: soup_session_send_and_read_async()
 * reads a body 8 KiB at a time, one main loop turn each, which for the
 * sync's 100 MB cost more than all else on the main thread. This reads as
 * much as the socket holds at each turn, into a buffer sized by
 * Content-Length when there is one. */

#define READ_CHUNK (256 * 1024)
#define READ_PRESIZE_MAX (64 * 1024 * 1024)

typedef struct
{
  GInputStream *stream;
  char *data;
  gsize length;
  gsize size;
} BodyRead;

static void
body_read_free (BodyRead *read)
{
  g_clear_object (&read->stream);
  g_free (read->data);
  g_free (read);
}

static void read_body_more (GTask *task);

static void
on_body_closed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  BodyRead *read = g_task_get_task_data (task);
  gsize length = read->length;

  /* A failure to close an input stream read to its end changes nothing. */
  g_input_stream_close_finish (G_INPUT_STREAM (object), result, NULL);
  g_task_return_pointer (task, g_bytes_new_take (g_steal_pointer (&read->data), length),
                         (GDestroyNotify) g_bytes_unref);
}

static void
on_body_read_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  BodyRead *read = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  if (n == 0)
    {
      g_input_stream_close_async (read->stream, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                  on_body_closed_cb, g_object_ref (task));
      return;
    }

  read->length += n;
  read_body_more (task);
}

static void
read_body_more (GTask *task)
{
  BodyRead *read = g_task_get_task_data (task);

  if (read->length == read->size)
    {
      read->size = MAX (read->size * 2, read->length + READ_CHUNK);
      read->data = g_realloc (read->data, read->size);
    }

  g_input_stream_read_async (read->stream, read->data + read->length, read->size - read->length,
                             G_PRIORITY_DEFAULT, g_task_get_cancellable (task), on_body_read_cb,
                             g_object_ref (task));
}

static void
on_send_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SoupMessage *msg = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  BodyRead *read;
  GError *error = NULL;
  GInputStream *stream;
  goffset length;

  stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (stream == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  read = g_new0 (BodyRead, 1);
  read->stream = stream;
  headers = soup_message_get_response_headers (msg);
  length = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
             ? soup_message_headers_get_content_length (headers)
             : -1;
  /* With one byte more, the end shows without a second buffer. */
  read->size = length >= 0 ? (gsize) MIN (length, READ_PRESIZE_MAX) + 1 : READ_CHUNK;
  read->data = g_malloc (read->size);
  g_task_set_task_data (task, read, (GDestroyNotify) body_read_free);
  read_body_more (task);
}

/* Like soup_session_send_and_read_async(), with the message as the task's
 * data until the body is being read. */
static void
send_and_read_async (SoupSession         *session,
                     SoupMessage         *msg,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (session, cancellable, callback, user_data);

  g_task_set_source_tag (task, send_and_read_async);
  g_task_set_task_data (task, g_object_ref (msg), g_object_unref);
  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT, cancellable, on_send_cb, task);
}

static GBytes *
send_and_read_finish (GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_sent_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdGraphClient *self = g_task_get_source_object (task);
  RequestData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *headers;
  const char *request_id;
  guint status;
  guint delay_ms;

  bytes = send_and_read_finish (result, &error);
  if (bytes == NULL)
    {
      GError *network_error;
      gboolean may_have_arrived;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      g_debug ("%s %s failed: %s", data->method, g_uri_get_path (data->uri), error->message);

      /* A dropped connection may have lost the answer, not the request: a
       * POST such as a wipe may have been carried out. Only requests that
       * are safe to repeat, or that certainly never left, are sent again. */
      may_have_arrived = !error_is_before_sending (error);
      if (error_is_transient (error) && data->attempt < self->max_retries &&
          (method_is_idempotent (data->method) || !may_have_arrived))
        {
          schedule_retry (task, backoff_delay (self, data->attempt));
          return;
        }

      if (may_have_arrived && !method_is_idempotent (data->method))
        network_error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK,
                                     _ ("The connection to Microsoft Graph broke before it "
                                        "answered (%s). The request may or may not have been "
                                        "carried out: check its result before sending it "
                                        "again."),
                                     error->message);
      else
        network_error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK,
                                     _ ("Could not reach Microsoft Graph (%s). Check the network "
                                        "connection and try again."),
                                     error->message);
      rd_graph_error_set_details (network_error, 0, NULL, data->client_request_id, NULL, NULL);
      g_task_return_error (task, network_error);
      return;
    }

  status = soup_message_get_status (data->msg);
  headers = soup_message_get_response_headers (data->msg);
  request_id = soup_message_headers_get_one (headers, "request-id");

  g_debug ("%s %s: HTTP %u (request-id %s, client-request-id %s)", data->method,
           g_uri_get_path (data->uri), status, request_id != NULL ? request_id : "none",
           data->client_request_id);

  if (status == SOUP_STATUS_UNAUTHORIZED && !data->refreshed)
    {
      data->refreshed = TRUE;
      g_free (data->refused_request_id);
      data->refused_request_id = g_strdup (request_id);
      forget_token (data);
      rd_token_source_get_token_async (self->token_source, TRUE, g_task_get_cancellable (task),
                                       on_token_cb, g_object_ref (task));
      return;
    }

  /* A 429 or 503 is the server refusing the request, so even a POST may be
   * sent again; a 504 may come after the request was carried out. */
  if (data->attempt < self->max_retries &&
      (status == STATUS_TOO_MANY_REQUESTS || status == SOUP_STATUS_SERVICE_UNAVAILABLE ||
       (status == SOUP_STATUS_GATEWAY_TIMEOUT && method_is_idempotent (data->method))))
    {
      if (!parse_retry_after (self, soup_message_headers_get_one (headers, "Retry-After"),
                              &delay_ms))
        delay_ms = backoff_delay (self, data->attempt);
      schedule_retry (task, delay_ms);
      return;
    }

  if (data->fetch != NULL && status < 300)
    on_fetch_body (data->fetch, bytes);

  parse_response (task, g_steal_pointer (&bytes));
}

static void
send_attempt (GTask *task)
{
  RdGraphClient *self = g_task_get_source_object (task);
  RequestData *data = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  g_autofree char *authorization = NULL;

  g_clear_object (&data->msg);
  g_free (data->client_request_id);
  data->client_request_id = g_uuid_string_random ();

  data->msg = soup_message_new_from_uri (data->method, data->uri);
  if (data->attempt > 0)
    soup_message_add_flags (data->msg, SOUP_MESSAGE_NEW_CONNECTION);

  headers = soup_message_get_request_headers (data->msg);
  authorization = g_strconcat ("Bearer ", data->token, NULL);
  soup_message_headers_replace (headers, "Authorization", authorization);
  explicit_bzero (authorization, strlen (authorization));
  soup_message_headers_replace (headers, "Accept", "application/json");
  soup_message_headers_replace (headers, "client-request-id", data->client_request_id);

  if (data->body != NULL)
    soup_message_set_request_body_from_bytes (data->msg, "application/json", data->body);

  g_debug ("Sending %s %s (client-request-id %s)", data->method, g_uri_get_path (data->uri),
           data->client_request_id);

  send_and_read_async (self->session, data->msg, g_task_get_cancellable (task), on_sent_cb,
                       g_object_ref (task));
}

/* With @fetch, a page of a list, read into an RdGraphPage. */
static void
request_page_or_node (RdGraphClient       *self,
                      const char          *method,
                      const char          *path,
                      GBytes              *body,
                      gboolean             expect_page,
                      PageFetch           *fetch,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  RequestData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_graph_client_request_async);

  data = g_new0 (RequestData, 1);
  data->method = g_ascii_strup (method, -1);
  data->body = body != NULL ? g_bytes_ref (body) : NULL;
  data->expect_page = expect_page;
  data->raw_page = fetch != NULL;
  data->fetch = fetch;
  g_task_set_task_data (task, data, (GDestroyNotify) request_data_free);

  data->uri = resolve_uri (self, path, &error);
  if (data->uri == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  rd_token_source_get_token_async (self->token_source, FALSE, cancellable, on_token_cb,
                                   g_steal_pointer (&task));
}

static void
request_internal (RdGraphClient       *self,
                  const char          *method,
                  const char          *path,
                  GBytes              *body,
                  gboolean             expect_page,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  request_page_or_node (self, method, path, body, expect_page, NULL, cancellable, callback,
                        user_data);
}

static RdGraphResponse *
request_internal_finish (GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * rd_graph_client_request_async:
 * @method: "GET", "POST", "PATCH", ...
 * @path: a path relative to the base URL, such as
 *   "/deviceManagement/managedDevices/{id}", or an absolute URL on the
 *   same host that Graph handed out
 * @body: (nullable): a JSON body
 *
 * Sends one request, with a fresh `client-request-id`. What is retried:
 *
 * - 429 and 503, for any method, after `Retry-After` (capped, with jitter)
 *   or exponential backoff: the server refused the request.
 * - 504, and a connection that drops before the answer, only for GET,
 *   HEAD, OPTIONS, PUT and DELETE. A POST (a wipe!) whose connection drops
 *   may have been carried out, so it is reported as
 *   %RD_GRAPH_ERROR_NETWORK and never sent again; only a connection that
 *   was refused or a name that did not resolve is retried for a POST.
 * - 401, once, after asking the token source for a fresh token; a second
 *   401 is %RD_GRAPH_ERROR_UNAUTHORIZED.
 *
 * The body is parsed on a worker thread. 4xx and 5xx answers become
 * %RD_GRAPH_ERROR errors carrying the request ids.
 */
void
rd_graph_client_request_async (RdGraphClient       *self,
                               const char          *method,
                               const char          *path,
                               JsonNode            *body,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_if_fail (RD_IS_GRAPH_CLIENT (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (path != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  if (body != NULL)
    {
      gsize length = 0;
      char *text = json_to_string (body, FALSE);

      length = strlen (text);
      bytes = g_bytes_new_take (text, length);
    }

  request_internal (self, method, path, bytes, FALSE, cancellable, callback, user_data);
}

/**
 * rd_graph_client_request_finish:
 *
 * Returns: (transfer full): the response (2xx or 3xx), or %NULL with
 *   @error set
 */
RdGraphResponse *
rd_graph_client_request_finish (RdGraphClient  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_graph_client_request_async,
                        NULL);

  return request_internal_finish (result, error);
}

/* Lists */

typedef struct
{
  RdGraphPageFunc page_func;
  RdGraphRawPageFunc raw_page_func;
  gpointer page_data;
  GDestroyNotify page_data_destroy;
  JsonArray *items;
  guint n_items;
  GQueue fetches; /* of PageFetch, for the raw pages: the next to hand over first */
} ListData;

static void list_pages (RdGraphClient       *self,
                        const char          *path,
                        const char * const  *select,
                        const char          *filter,
                        int                  top,
                        RdGraphPageFunc      page_func,
                        RdGraphRawPageFunc   raw_page_func,
                        gpointer             page_data,
                        GDestroyNotify       page_data_destroy,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data);

static void
list_data_free (ListData *data)
{
  /* Each fetch holds the list until it leaves the queue. */
  g_assert (g_queue_is_empty (&data->fetches));

  if (data->page_data_destroy != NULL)
    data->page_data_destroy (data->page_data);
  g_clear_pointer (&data->items, json_array_unref);
  g_free (data);
}

/* The pages of a list read by RdGraphPage, the sync's, are asked for
 * ahead: as soon as a page's body is in, its "@odata.nextLink" is peeked
 * at and the next page asked for, while this one is read on a worker
 * thread, so that the connection does not wait for the reader. A list
 * still has one request on the wire at a time, and its pages are handed
 * over one at a time, in order; a peeked link that the page, once read,
 * does not confirm is dropped with the pages asked for after it, and the
 * page's own link asked for. */

#define PAGES_AHEAD 3 /* pages asked for and not yet handed over, at most */

struct _PageFetch
{
  GTask *list; /* until it leaves the list's queue */
  char *link;
  GCancellable *cancellable; /* its own, cancelled with the list's */
  gulong cancelled_id;
  char *peeked; /* the next link, peeked at */
  gboolean done;
  gboolean dropped;
  RdGraphPage *page;
  GError *error;
};

static void
page_fetch_clear (gpointer data)
{
  PageFetch *fetch = data;

  g_clear_object (&fetch->list);
  g_free (fetch->link);
  g_clear_object (&fetch->cancellable);
  g_free (fetch->peeked);
  g_clear_pointer (&fetch->page, rd_graph_page_free);
  g_clear_error (&fetch->error);
}

static void
page_fetch_unref (PageFetch *fetch)
{
  g_rc_box_release_full (fetch, page_fetch_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PageFetch, page_fetch_unref)

static void
on_list_cancelled_cb (GCancellable *list_cancellable,
                      gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Called where the fetch ends, never inside a "cancelled" handler: a
 * GTask whose cancellable is cancelled returns from the main loop. */
static void
page_fetch_disconnect (PageFetch *fetch)
{
  GCancellable *list_cancellable = g_task_get_cancellable (fetch->list);

  if (fetch->cancelled_id != 0)
    g_cancellable_disconnect (list_cancellable, fetch->cancelled_id);
  fetch->cancelled_id = 0;
}

static void on_fetch_done_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data);

static void
start_fetch (GTask      *list,
             const char *link)
{
  RdGraphClient *self = g_task_get_source_object (list);
  ListData *data = g_task_get_task_data (list);
  GCancellable *list_cancellable = g_task_get_cancellable (list);
  PageFetch *fetch = g_rc_box_new0 (PageFetch);

  fetch->list = g_object_ref (list);
  fetch->link = g_strdup (link);
  fetch->cancellable = g_cancellable_new ();
  if (list_cancellable != NULL)
    fetch->cancelled_id = g_cancellable_connect (list_cancellable,
                                                 G_CALLBACK (on_list_cancelled_cb),
                                                 g_object_ref (fetch->cancellable), g_object_unref);
  g_queue_push_tail (&data->fetches, fetch);

  request_page_or_node (self, "GET", link, NULL, TRUE, fetch, fetch->cancellable, on_fetch_done_cb,
                        g_rc_box_acquire (fetch));
}

/* Asks for the page after the last one asked for, when its link was
 * peeked at and there is room. */
static void
fetch_ahead (GTask *list)
{
  ListData *data = g_task_get_task_data (list);
  PageFetch *last = g_queue_peek_tail (&data->fetches);

  if (last != NULL && last->peeked != NULL && data->fetches.length < PAGES_AHEAD)
    start_fetch (list, last->peeked);
}

static void
on_fetch_body (PageFetch *fetch,
               GBytes    *body)
{
  if (fetch->dropped)
    return;

  fetch->peeked = rd_graph_page_peek_next_link (body);
  fetch_ahead (fetch->list);
}

/* Every fetch not handed over leaves the queue, its request cancelled. */
static void
drop_fetches (ListData *data)
{
  PageFetch *fetch;

  for (GList *l = data->fetches.head; l != NULL; l = l->next)
    ((PageFetch *) l->data)->dropped = TRUE;

  while ((fetch = g_queue_pop_head (&data->fetches)) != NULL)
    {
      g_cancellable_cancel (fetch->cancellable);
      page_fetch_unref (fetch);
    }
}

/* Hands over the pages that are in, in order. */
static void
hand_over_pages (GTask *list)
{
  g_autoptr (GTask) hold = g_object_ref (list);
  ListData *data = g_task_get_task_data (list);
  PageFetch *head;

  while ((head = g_queue_peek_head (&data->fetches)) != NULL && head->done)
    {
      g_autoptr (PageFetch) fetch = g_queue_pop_head (&data->fetches);
      PageFetch *next = g_queue_peek_head (&data->fetches);
      g_autofree char *link = NULL;

      if (fetch->error != NULL)
        {
          drop_fetches (data);
          g_task_return_error (list, g_steal_pointer (&fetch->error));
          return;
        }

      /* The link is followed whole, exactly as Graph gave it. */
      link = g_strdup (rd_graph_page_get_next_link (fetch->page));
      if (next != NULL && g_strcmp0 (next->link, link) != 0)
        {
          g_debug ("The next link peeked at (%s) is not the page's (%s)", next->link,
                   link != NULL ? link : "none");
          drop_fetches (data);
          next = NULL;
        }
      if (next == NULL && link != NULL)
        start_fetch (list, link);

      data->n_items += rd_graph_page_get_n_items (fetch->page);
      data->raw_page_func (g_steal_pointer (&fetch->page), data->page_data);

      if (link == NULL)
        {
          g_task_return_pointer (list, json_array_ref (data->items),
                                 (GDestroyNotify) json_array_unref);
          return;
        }
    }

  fetch_ahead (list);
}

static void
on_fetch_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr (PageFetch) fetch = user_data;
  RequestData *request = g_task_get_task_data (G_TASK (result));
  g_autoptr (RdGraphResponse) response = NULL;

  response = request_internal_finish (result, &fetch->error);
  page_fetch_disconnect (fetch);
  if (fetch->dropped)
    return;

  if (response != NULL)
    fetch->page = g_steal_pointer (&request->page);
  fetch->done = TRUE;
  hand_over_pages (fetch->list);
}

static void
on_list_page_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdGraphClient *self = RD_GRAPH_CLIENT (object);
  ListData *data = g_task_get_task_data (task);
  g_autoptr (RdGraphResponse) response = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *page;
  JsonArray *items;
  const char *next_link = NULL;

  response = request_internal_finish (result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The worker thread checked the shape. */
  page = rd_graph_response_get_object (response);
  items = json_object_get_array_member (page, "value");
  if (json_object_has_member (page, "@odata.nextLink") &&
      !json_object_get_null_member (page, "@odata.nextLink"))
    next_link = json_object_get_string_member (page, "@odata.nextLink");

  data->n_items += json_array_get_length (items);

  /* Ask for the next page before handling this one, so both overlap. The
   * link is followed whole, exactly as Graph gave it. */
  if (next_link != NULL)
    request_internal (self, "GET", next_link, NULL, TRUE, g_task_get_cancellable (task),
                      on_list_page_cb, g_object_ref (task));

  if (data->page_func != NULL)
    data->page_func (items, response, data->page_data);
  else
    for (guint i = 0; i < json_array_get_length (items); i++)
      json_array_add_element (data->items, json_node_ref (json_array_get_element (items, i)));

  if (next_link == NULL)
    g_task_return_pointer (task, json_array_ref (data->items), (GDestroyNotify) json_array_unref);
}

/**
 * rd_graph_client_list_async:
 * @path: the collection, such as "/deviceManagement/managedDevices"
 * @select: (array zero-terminated=1): the properties to fetch; required, so
 *   that every list asks only for what it uses
 * @filter: (nullable): an OData `$filter`, unescaped
 * @top: the page size to ask for, or 0 for Graph's default
 * @page_func: (nullable) (scope notified): called with each page's items;
 *   %NULL to collect all items for rd_graph_client_list_finish()
 *
 * Fetches a collection page by page, following each `@odata.nextLink`
 * whole. Pages are parsed on a worker thread.
 */
void
rd_graph_client_list_async (RdGraphClient       *self,
                            const char          *path,
                            const char * const  *select,
                            const char          *filter,
                            int                  top,
                            RdGraphPageFunc      page_func,
                            gpointer             page_data,
                            GDestroyNotify       page_data_destroy,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  list_pages (self, path, select, filter, top, page_func, NULL, page_data, page_data_destroy,
              cancellable, callback, user_data);
}

static void
list_pages (RdGraphClient       *self,
            const char          *path,
            const char * const  *select,
            const char          *filter,
            int                  top,
            RdGraphPageFunc      page_func,
            RdGraphRawPageFunc   raw_page_func,
            gpointer             page_data,
            GDestroyNotify       page_data_destroy,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GString) url = NULL;
  g_autofree char *fields = NULL;
  ListData *data;

  g_return_if_fail (RD_IS_GRAPH_CLIENT (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (select != NULL && select[0] != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_graph_client_list_async);

  data = g_new0 (ListData, 1);
  data->page_func = page_func;
  data->raw_page_func = raw_page_func;
  data->page_data = page_data;
  data->page_data_destroy = page_data_destroy;
  data->items = json_array_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) list_data_free);

  fields = g_strjoinv (",", (char **) select);
  url = g_string_new (path);
  g_string_append (url, strchr (path, '?') != NULL ? "&$select=" : "?$select=");
  g_string_append_uri_escaped (url, fields, ",", FALSE);

  if (filter != NULL)
    {
      g_string_append (url, "&$filter=");
      g_string_append_uri_escaped (url, filter, "'(),:", FALSE);
    }

  if (top > 0)
    g_string_append_printf (url, "&$top=%d", top);

  if (data->raw_page_func != NULL)
    start_fetch (task, url->str);
  else
    request_internal (self, "GET", url->str, NULL, TRUE, cancellable, on_list_page_cb,
                      g_steal_pointer (&task));
}

/**
 * _rd_graph_client_list_pages_async:
 * @page_func: (scope notified): called on the caller's context with each
 *   page, which it owns
 *
 * Like rd_graph_client_list_async(), with each page read by RdGraphPage
 * instead of json-glib, for the large lists of a sync. Finish with
 * rd_graph_client_list_finish(), which returns an empty array.
 */
void
_rd_graph_client_list_pages_async (RdGraphClient       *self,
                                   const char          *path,
                                   const char * const  *select,
                                   const char          *filter,
                                   int                  top,
                                   RdGraphRawPageFunc   page_func,
                                   gpointer             page_data,
                                   GDestroyNotify       page_data_destroy,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (page_func != NULL);

  list_pages (self, path, select, filter, top, NULL, page_func, page_data, page_data_destroy,
              cancellable, callback, user_data);
}

/**
 * rd_graph_client_list_finish:
 * @n_items: (out) (optional): how many items all pages held
 *
 * Returns: (transfer full): every item when no page function was given,
 *   else an empty array; %NULL with @error set on failure
 */
JsonArray *
rd_graph_client_list_finish (RdGraphClient  *self,
                             GAsyncResult   *result,
                             guint          *n_items,
                             GError        **error)
{
  JsonArray *items;

  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_graph_client_list_async,
                        NULL);

  items = g_task_propagate_pointer (G_TASK (result), error);
  if (items != NULL && n_items != NULL)
    *n_items = ((ListData *) g_task_get_task_data (G_TASK (result)))->n_items;

  return items;
}

/* $batch */

typedef struct
{
  GPtrArray *requests;    /* RdGraphBatchRequest */
  GPtrArray *results;     /* RdGraphBatchResult, or NULL while open */
  GHashTable *index_by_id;
  GPtrArray *pending;     /* GArray of indices: a request with all it depends on */
  GArray *requeue;        /* indices refused (429, 503) to send in a later batch */
  GArray *in_flight;      /* indices in the $batch on its way */
  guint *tries;
  guint round;
  guint retry_delay_ms;
  gboolean have_retry_after;
} BatchData;

static void
batch_data_free (BatchData *data)
{
  g_ptr_array_unref (data->requests);
  g_ptr_array_unref (data->results);
  g_hash_table_unref (data->index_by_id);
  g_ptr_array_unref (data->pending);
  g_array_unref (data->requeue);
  g_array_unref (data->in_flight);
  g_free (data->tries);
  g_free (data);
}

static guint
batch_index (BatchData  *data,
             const char *id,
             gboolean   *found)
{
  gpointer value = g_hash_table_lookup (data->index_by_id, id);

  *found = value != NULL;

  return GPOINTER_TO_UINT (value) - 1;
}

static guint
find_root (guint *parent,
           guint  i)
{
  while (parent[i] != i)
    i = parent[i] = parent[parent[i]];

  return i;
}

/* Graph needs a request and what it depends on in the same $batch; group
 * @indices into such sets, keeping their order. */
static void
queue_components (BatchData *data,
                  GArray    *indices)
{
  g_autofree guint *parent = g_new (guint, data->requests->len);
  g_autofree gboolean *member = g_new0 (gboolean, data->requests->len);
  g_autoptr (GHashTable) by_root = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < data->requests->len; i++)
    parent[i] = i;
  for (guint k = 0; k < indices->len; k++)
    member[g_array_index (indices, guint, k)] = TRUE;

  for (guint k = 0; k < indices->len; k++)
    {
      guint i = g_array_index (indices, guint, k);
      const char * const *deps =
        rd_graph_batch_request_get_depends_on (g_ptr_array_index (data->requests, i));

      for (guint d = 0; deps[d] != NULL; d++)
        {
          gboolean found;
          guint j = batch_index (data, deps[d], &found);

          if (found && member[j])
            parent[find_root (parent, i)] = find_root (parent, j);
        }
    }

  for (guint k = 0; k < indices->len; k++)
    {
      guint i = g_array_index (indices, guint, k);
      guint root = find_root (parent, i);
      GArray *component = g_hash_table_lookup (by_root, GUINT_TO_POINTER (root + 1));

      if (component == NULL)
        {
          component = g_array_new (FALSE, FALSE, sizeof (guint));
          g_hash_table_insert (by_root, GUINT_TO_POINTER (root + 1), component);
          g_ptr_array_add (data->pending, component);
        }
      g_array_append_val (component, i);
    }
}

static void
batch_set_result (BatchData       *data,
                  guint            i,
                  RdGraphResponse *response,
                  GError          *error)
{
  RdGraphBatchRequest *request = g_ptr_array_index (data->requests, i);

  g_clear_pointer (&g_ptr_array_index (data->results, i), rd_graph_batch_result_unref);
  g_ptr_array_index (data->results, i) =
    rd_graph_batch_result_new (rd_graph_batch_request_get_id (request), response, error);
}

static gboolean
batch_in_flight (BatchData *data,
                 guint      i)
{
  for (guint k = 0; k < data->in_flight->len; k++)
    if (g_array_index (data->in_flight, guint, k) == i)
      return TRUE;

  return FALSE;
}

static gboolean
batch_requeued (BatchData *data,
                guint      i)
{
  for (guint k = 0; k < data->requeue->len; k++)
    if (g_array_index (data->requeue, guint, k) == i)
      return TRUE;

  return FALSE;
}

static GBytes *
build_batch_body (BatchData *data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr (JsonNode) root = NULL;
  char *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "requests");
  json_builder_begin_array (builder);

  for (guint k = 0; k < data->in_flight->len; k++)
    {
      guint i = g_array_index (data->in_flight, guint, k);
      RdGraphBatchRequest *request = g_ptr_array_index (data->requests, i);
      const char * const *deps = rd_graph_batch_request_get_depends_on (request);
      JsonNode *body = rd_graph_batch_request_get_body (request);
      gboolean any_dep = FALSE;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, rd_graph_batch_request_get_id (request));
      json_builder_set_member_name (builder, "method");
      json_builder_add_string_value (builder, rd_graph_batch_request_get_method (request));
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, rd_graph_batch_request_get_url (request));

      if (body != NULL)
        {
          json_builder_set_member_name (builder, "body");
          json_builder_add_value (builder, json_node_copy (body));
          json_builder_set_member_name (builder, "headers");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "Content-Type");
          json_builder_add_string_value (builder, "application/json");
          json_builder_end_object (builder);
        }

      /* A dependency that already succeeded in an earlier batch is done. */
      for (guint d = 0; deps[d] != NULL; d++)
        {
          gboolean found;
          guint j = batch_index (data, deps[d], &found);

          if (!found || !batch_in_flight (data, j))
            continue;
          if (!any_dep)
            {
              json_builder_set_member_name (builder, "dependsOn");
              json_builder_begin_array (builder);
              any_dep = TRUE;
            }
          json_builder_add_string_value (builder, deps[d]);
        }
      if (any_dep)
        json_builder_end_array (builder);

      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);

  return g_bytes_new_take (text, strlen (text));
}

static void batch_send_next (GTask *task);

static SoupMessageHeaders *
headers_from_json (JsonNode *node)
{
  SoupMessageHeaders *headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return headers;

  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &name, &value))
    if (json_node_get_value_type (value) == G_TYPE_STRING)
      soup_message_headers_append (headers, name, json_node_get_string (value));

  return headers;
}

static gboolean
inner_is_retryable (RdGraphBatchRequest *request,
                    guint                status)
{
  return status == STATUS_TOO_MANY_REQUESTS || status == SOUP_STATUS_SERVICE_UNAVAILABLE ||
         (status == SOUP_STATUS_GATEWAY_TIMEOUT &&
          method_is_idempotent (rd_graph_batch_request_get_method (request)));
}

static void
batch_fail_in_flight (BatchData    *data,
                      const GError *error)
{
  for (guint k = 0; k < data->in_flight->len; k++)
    batch_set_result (data, g_array_index (data->in_flight, guint, k), NULL, g_error_copy (error));
}

static GError *
new_dependency_error (BatchData       *data,
                      guint            i,
                      RdGraphResponse *inner)
{
  RdGraphBatchRequest *request = g_ptr_array_index (data->requests, i);
  const char * const *deps = rd_graph_batch_request_get_depends_on (request);
  const char *failed = deps[0] != NULL ? deps[0] : "?";
  g_autoptr (GError) parsed = rd_graph_response_to_error (inner);
  GError *error;

  for (guint d = 0; deps[d] != NULL; d++)
    {
      gboolean found;
      guint j = batch_index (data, deps[d], &found);
      RdGraphBatchResult *result = found ? g_ptr_array_index (data->results, j) : NULL;

      if (result != NULL && rd_graph_batch_result_get_error (result) != NULL)
        {
          failed = deps[d];
          break;
        }
    }

  error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_FAILED_DEPENDENCY,
                       _ ("Request “%s” was not run because request “%s”, which it depends on, "
                          "failed. Deal with that failure, then send it again."),
                       rd_graph_batch_request_get_id (request), failed);
  rd_graph_error_set_details (error, SOUP_STATUS_FAILED_DEPENDENCY,
                              rd_graph_response_get_request_id (inner),
                              rd_graph_response_get_client_request_id (inner),
                              rd_graph_error_get_code (parsed), NULL);

  return error;
}

static void
batch_handle_responses (RdGraphClient   *self,
                        BatchData       *data,
                        RdGraphResponse *response)
{
  g_autoptr (GPtrArray) inner = g_ptr_array_new_full (data->requests->len, NULL);
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (
    (GDestroyNotify) rd_graph_response_unref);
  JsonObject *object = rd_graph_response_get_object (response);
  JsonNode *responses = object != NULL ? json_object_get_member (object, "responses") : NULL;
  gboolean changed;

  if (responses == NULL || !JSON_NODE_HOLDS_ARRAY (responses))
    {
      g_autoptr (GError) error = NULL;

      error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                           _ ("Microsoft Graph answered a batch without a “responses” list. Try "
                              "again; if it keeps happening, report it."));
      rd_graph_error_set_details (error, rd_graph_response_get_status (response),
                                  rd_graph_response_get_request_id (response),
                                  rd_graph_response_get_client_request_id (response), NULL, NULL);
      batch_fail_in_flight (data, error);
      return;
    }

  g_ptr_array_set_size (inner, data->requests->len);

  for (guint n = 0; n < json_array_get_length (json_node_get_array (responses)); n++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (responses), n);
      JsonObject *item;
      JsonNode *id_node;
      JsonNode *status_node;
      SoupMessageHeaders *headers;
      RdGraphResponse *one;
      gboolean found;
      guint i;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      item = json_node_get_object (element);
      id_node = json_object_get_member (item, "id");
      status_node = json_object_get_member (item, "status");
      if (id_node == NULL || json_node_get_value_type (id_node) != G_TYPE_STRING ||
          status_node == NULL || json_node_get_value_type (status_node) != G_TYPE_INT64)
        continue;

      i = batch_index (data, json_node_get_string (id_node), &found);
      if (!found || !batch_in_flight (data, i))
        continue;

      /* Inner responses carry no request-id of their own; the batch's is
       * the one Microsoft support can look up. */
      headers = headers_from_json (json_object_get_member (item, "headers"));
      one = rd_graph_response_new ((guint) json_node_get_int (status_node), headers,
                                   json_object_get_member (item, "body"),
                                   rd_graph_response_get_request_id (response),
                                   rd_graph_response_get_client_request_id (response));
      soup_message_headers_unref (headers);
      g_ptr_array_add (keep, one);
      g_ptr_array_index (inner, i) = one;
    }

  for (guint k = 0; k < data->in_flight->len; k++)
    {
      guint i = g_array_index (data->in_flight, guint, k);
      RdGraphBatchRequest *request = g_ptr_array_index (data->requests, i);
      RdGraphResponse *one = g_ptr_array_index (inner, i);
      guint status;

      if (one == NULL)
        {
          GError *error = g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                                       _ ("Microsoft Graph left request “%s” of a batch "
                                          "unanswered. Check its result before sending it "
                                          "again."),
                                       rd_graph_batch_request_get_id (request));

          rd_graph_error_set_details (error, rd_graph_response_get_status (response),
                                      rd_graph_response_get_request_id (response),
                                      rd_graph_response_get_client_request_id (response), NULL,
                                      NULL);
          batch_set_result (data, i, NULL, error);
          continue;
        }

      status = rd_graph_response_get_status (one);
      if (status < 400)
        batch_set_result (data, i, one, NULL);
      else if (inner_is_retryable (request, status) && data->tries[i] < self->max_retries)
        {
          guint delay_ms;

          data->tries[i]++;
          g_array_append_val (data->requeue, i);
          if (parse_retry_after (self, rd_graph_response_get_header (one, "Retry-After"),
                                 &delay_ms))
            {
              data->retry_delay_ms = MAX (data->retry_delay_ms, delay_ms);
              data->have_retry_after = TRUE;
            }
        }
      else if (status != SOUP_STATUS_FAILED_DEPENDENCY)
        batch_set_result (data, i, NULL, rd_graph_response_to_error (one));
    }

  /* A 424 whose dependency is being sent again goes along with it. */
  do
    {
      changed = FALSE;
      for (guint k = 0; k < data->in_flight->len; k++)
        {
          guint i = g_array_index (data->in_flight, guint, k);
          RdGraphResponse *one = g_ptr_array_index (inner, i);
          const char * const *deps;

          if (one == NULL || rd_graph_response_get_status (one) != SOUP_STATUS_FAILED_DEPENDENCY ||
              batch_requeued (data, i))
            continue;

          deps = rd_graph_batch_request_get_depends_on (g_ptr_array_index (data->requests, i));
          for (guint d = 0; deps[d] != NULL; d++)
            {
              gboolean found;
              guint j = batch_index (data, deps[d], &found);

              if (found && batch_requeued (data, j))
                {
                  g_array_append_val (data->requeue, i);
                  changed = TRUE;
                  break;
                }
            }
        }
    }
  while (changed);

  for (guint k = 0; k < data->in_flight->len; k++)
    {
      guint i = g_array_index (data->in_flight, guint, k);
      RdGraphResponse *one = g_ptr_array_index (inner, i);

      if (one != NULL && rd_graph_response_get_status (one) == SOUP_STATUS_FAILED_DEPENDENCY &&
          !batch_requeued (data, i))
        batch_set_result (data, i, NULL, new_dependency_error (data, i, one));
    }
}

static void
on_batch_sent_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdGraphClient *self = RD_GRAPH_CLIENT (object);
  BatchData *data = g_task_get_task_data (task);
  g_autoptr (RdGraphResponse) response = NULL;
  g_autoptr (GError) error = NULL;

  response = request_internal_finish (result, &error);
  if (response == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* The whole batch failed; a dropped $batch POST is not sent again,
       * since its requests may have run. */
      batch_fail_in_flight (data, error);
    }
  else
    batch_handle_responses (self, data, response);

  g_array_set_size (data->in_flight, 0);
  batch_send_next (task);
}

static void
batch_send_next (GTask *task)
{
  RdGraphClient *self = g_task_get_source_object (task);
  BatchData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) body = NULL;

  if (data->pending->len == 0 && data->requeue->len > 0)
    {
      /* Retry the refused requests together, after the longest Retry-After
       * any of them asked for. */
      guint delay_ms = data->have_retry_after ? data->retry_delay_ms
                                              : backoff_delay (self, data->round);

      queue_components (data, data->requeue);
      g_array_set_size (data->requeue, 0);
      data->retry_delay_ms = 0;
      data->have_retry_after = FALSE;
      data->round++;
      g_debug ("Sending refused batch requests again in %u ms", delay_ms);
      sleep_then (task, delay_ms, batch_send_next);
      return;
    }

  if (data->pending->len == 0)
    {
      g_task_return_pointer (task, g_ptr_array_ref (data->results),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  while (data->pending->len > 0)
    {
      GArray *component = g_ptr_array_index (data->pending, 0);

      if (data->in_flight->len + component->len > MAX_BATCH_SIZE)
        break;
      g_array_append_vals (data->in_flight, component->data, component->len);
      g_ptr_array_remove_index (data->pending, 0);
    }

  body = build_batch_body (data);
  g_debug ("Sending a batch of %u requests", data->in_flight->len);
  request_internal (self, "POST", "/$batch", body, FALSE, g_task_get_cancellable (task),
                    on_batch_sent_cb, g_object_ref (task));
}

/**
 * rd_graph_client_batch_async:
 * @requests: (element-type RdGraphBatchRequest): the requests, with unique
 *   ids; a request and those it depends on must number 20 or fewer
 *
 * Sends @requests in JSON batches of at most 20, one batch at a time. Each
 * inner response is handled on its own: an inner 429 or 503 (and a 504 for
 * an idempotent method) is sent again in a later batch, after the longest
 * Retry-After; a 424 is reported against the request it depended on.
 */
void
rd_graph_client_batch_async (RdGraphClient       *self,
                             GPtrArray           *requests,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GArray) all = NULL;
  BatchData *data;

  g_return_if_fail (RD_IS_GRAPH_CLIENT (self));
  g_return_if_fail (requests != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_graph_client_batch_async);

  data = g_new0 (BatchData, 1);
  data->requests = g_ptr_array_new_full (requests->len,
                                         (GDestroyNotify) rd_graph_batch_request_unref);
  data->results = g_ptr_array_new_full (requests->len,
                                        (GDestroyNotify) rd_graph_batch_result_unref);
  g_ptr_array_set_size (data->results, requests->len);
  data->index_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  data->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  data->requeue = g_array_new (FALSE, FALSE, sizeof (guint));
  data->in_flight = g_array_new (FALSE, FALSE, sizeof (guint));
  data->tries = g_new0 (guint, MAX (requests->len, 1));
  g_task_set_task_data (task, data, (GDestroyNotify) batch_data_free);

  all = g_array_sized_new (FALSE, FALSE, sizeof (guint), requests->len);
  for (guint i = 0; i < requests->len; i++)
    {
      RdGraphBatchRequest *request = g_ptr_array_index (requests, i);
      const char *id = rd_graph_batch_request_get_id (request);

      g_ptr_array_add (data->requests, rd_graph_batch_request_ref (request));
      if (!g_hash_table_insert (data->index_by_id, (gpointer) id, GUINT_TO_POINTER (i + 1)))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                   "Batch request id “%s” is used twice", id);
          return;
        }
      g_array_append_val (all, i);
    }

  for (guint i = 0; i < requests->len; i++)
    {
      const char * const *deps =
        rd_graph_batch_request_get_depends_on (g_ptr_array_index (requests, i));

      for (guint d = 0; deps[d] != NULL; d++)
        if (!g_hash_table_contains (data->index_by_id, deps[d]))
          {
            g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                     "Batch request depends on unknown id “%s”", deps[d]);
            return;
          }
    }

  queue_components (data, all);

  for (guint c = 0; c < data->pending->len; c++)
    if (((GArray *) g_ptr_array_index (data->pending, c))->len > MAX_BATCH_SIZE)
      {
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "More than %d batch requests depend on each other",
                                 MAX_BATCH_SIZE);
        return;
      }

  batch_send_next (task);
}

/**
 * rd_graph_client_batch_finish:
 *
 * Returns: (transfer full) (element-type RdGraphBatchResult): one result per
 *   request, in the order given; %NULL with @error set only when the whole
 *   operation was cancelled or the requests were invalid
 */
GPtrArray *
rd_graph_client_batch_finish (RdGraphClient  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_graph_client_batch_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Object */

static void
rd_graph_client_dispose (GObject *object)
{
  RdGraphClient *self = RD_GRAPH_CLIENT (object);

  g_clear_object (&self->session);
  g_clear_object (&self->token_source);

  G_OBJECT_CLASS (rd_graph_client_parent_class)->dispose (object);
}

static void
rd_graph_client_finalize (GObject *object)
{
  RdGraphClient *self = RD_GRAPH_CLIENT (object);

  g_free (self->base_url);

  G_OBJECT_CLASS (rd_graph_client_parent_class)->finalize (object);
}

static void
rd_graph_client_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  RdGraphClient *self = RD_GRAPH_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;

    case PROP_TOKEN_SOURCE:
      g_value_set_object (value, self->token_source);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_graph_client_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  RdGraphClient *self = RD_GRAPH_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      rd_graph_client_set_base_url (self, g_value_get_string (value));
      break;

    case PROP_TOKEN_SOURCE:
      self->token_source = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_graph_client_class_init (RdGraphClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_graph_client_dispose;
  object_class->finalize = rd_graph_client_finalize;
  object_class->get_property = rd_graph_client_get_property;
  object_class->set_property = rd_graph_client_set_property;

  /* The version root, such as "https://graph.microsoft.com/v1.0". It is
   * checked (https, or http on loopback) before each request. */
  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_TOKEN_SOURCE] =
    g_param_spec_object ("token-source", NULL, NULL, RD_TYPE_TOKEN_SOURCE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_graph_client_init (RdGraphClient *self)
{
  self->session = soup_session_new_with_options ("user-agent", "RecoveryDesk/" PACKAGE_VERSION,
                                                 "max-conns-per-host", 6,
                                                 NULL);
  self->backoff_base_ms = 1000;
  self->backoff_cap_ms = 60000;
  self->retry_after_cap_ms = 60000;
  self->max_retries = 4;
}

/**
 * rd_graph_client_new:
 * @base_url: the version root, such as from rd_cloud_dup_graph_base_url()
 * @token_source: where access tokens come from
 */
RdGraphClient *
rd_graph_client_new (const char    *base_url,
                     RdTokenSource *token_source)
{
  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (RD_IS_TOKEN_SOURCE (token_source), NULL);

  return g_object_new (RD_TYPE_GRAPH_CLIENT,
                       "base-url", base_url,
                       "token-source", token_source,
                       NULL);
}

const char *
rd_graph_client_get_base_url (RdGraphClient *self)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (self), NULL);

  return self->base_url;
}

void
rd_graph_client_set_base_url (RdGraphClient *self,
                              const char    *base_url)
{
  g_autofree char *normalized = NULL;

  g_return_if_fail (RD_IS_GRAPH_CLIENT (self));

  normalized = g_strdup (base_url);
  if (normalized != NULL)
    {
      gsize len = strlen (normalized);

      while (len > 0 && normalized[len - 1] == '/')
        normalized[--len] = '\0';
    }

  if (g_strcmp0 (normalized, self->base_url) == 0)
    return;

  g_free (self->base_url);
  self->base_url = g_steal_pointer (&normalized);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

RdTokenSource *
rd_graph_client_get_token_source (RdGraphClient *self)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (self), NULL);

  return self->token_source;
}

void
rd_graph_client_set_retry_policy (RdGraphClient *self,
                                  guint          backoff_base_ms,
                                  guint          backoff_cap_ms,
                                  guint          retry_after_cap_ms,
                                  guint          max_retries)
{
  g_return_if_fail (RD_IS_GRAPH_CLIENT (self));

  self->backoff_base_ms = MAX (backoff_base_ms, 1);
  self->backoff_cap_ms = MAX (backoff_cap_ms, self->backoff_base_ms);
  self->retry_after_cap_ms = retry_after_cap_ms;
  self->max_retries = max_retries;
}
