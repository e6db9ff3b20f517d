/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "graph-test-server.h"
#include "rd-graph-client-private.h"
#include "rd-graph-client.h"
#include "rd-graph-error.h"
#include "rd-static-token-source.h"

#include <string.h>

#define TOKEN "eyJ0eXAi.secret-token-4f1c9e.sig"
#define FRESH_TOKEN "eyJ0eXAi.fresh-token-77aa21.sig"
#define DEVICES "/v1.0/deviceManagement/managedDevices"
#define BATCH "/v1.0/$batch"

/* Logs: every line is checked for the tokens (G_MESSAGES_DEBUG=all). */

static guint n_client_debug_lines;
static GPtrArray *leaked_lines;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }

  if (message != NULL && (strstr (message, "secret-token") || strstr (message, "fresh-token")))
    g_ptr_array_add (leaked_lines, g_strdup (message));

  if ((level & G_LOG_LEVEL_DEBUG) != 0)
    {
      if (g_strcmp0 (domain, "rd-graph-client") == 0)
        n_client_debug_lines++;
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* A token source that hands out FRESH_TOKEN once asked to refresh. */

#define TEST_TYPE_TOKEN_SOURCE (test_token_source_get_type ())
G_DECLARE_FINAL_TYPE (TestTokenSource, test_token_source, TEST, TOKEN_SOURCE, GObject)

struct _TestTokenSource
{
  GObject parent_instance;
  guint n_refreshes;
  gboolean refresh_fails;
};

static void test_token_source_iface_init (RdTokenSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestTokenSource, test_token_source, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RD_TYPE_TOKEN_SOURCE,
                                                      test_token_source_iface_init))

static void
test_token_source_get_token_async (RdTokenSource       *source,
                                   gboolean             force_refresh,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  TestTokenSource *self = TEST_TOKEN_SOURCE (source);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  if (force_refresh)
    self->n_refreshes++;
  g_task_return_pointer (task, g_strdup (self->n_refreshes > 0 ? FRESH_TOKEN : TOKEN), g_free);
}

static char *
test_token_source_get_token_finish (RdTokenSource  *source,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_token_source_iface_init (RdTokenSourceInterface *iface)
{
  iface->get_token_async = test_token_source_get_token_async;
  iface->get_token_finish = test_token_source_get_token_finish;
}

static void
test_token_source_class_init (TestTokenSourceClass *klass)
{
}

static void
test_token_source_init (TestTokenSource *self)
{
}

/* Fixture */

typedef struct
{
  GraphTestServer *server;
  TestTokenSource *tokens;
  RdGraphClient *client;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->server = graph_test_server_new ();
  f->tokens = g_object_new (TEST_TYPE_TOKEN_SOURCE, NULL);
  f->client = rd_graph_client_new (graph_test_server_get_base_url (f->server),
                                   RD_TOKEN_SOURCE (f->tokens));
  /* Fast backoff: 20 ms doubling, 2 s cap on Retry-After, 4 retries. */
  rd_graph_client_set_retry_policy (f->client, 20, 200, 2000, 4);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  GObject *client = G_OBJECT (g_steal_pointer (&f->client));
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  /* Let the session drop its connections before the server goes, and
   * the requests still under way end: a page a list dropped may still be
   * read on a worker thread when the list returns. The client must go
   * then. */
  g_object_add_weak_pointer (client, (gpointer *) &client);
  g_object_unref (client);
  while (client != NULL && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_assert_null (client);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->tokens);
  graph_test_server_free (f->server);
}

static void
on_result_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static RdGraphResponse *
request_sync (RdGraphClient  *client,
              const char     *method,
              const char     *path,
              JsonNode       *body,
              GCancellable   *cancellable,
              GError        **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_graph_client_request_async (client, method, path, body, cancellable, on_result_cb, &result);

  return rd_graph_client_request_finish (client, wait_for (&result), error);
}

static GraphTestRequest *
nth_request (Fixture *f,
             guint    n)
{
  GPtrArray *requests = graph_test_server_get_requests (f->server);

  g_assert_cmpuint (n, <, requests->len);

  return g_ptr_array_index (requests, n);
}

static const char *
request_header (GraphTestRequest *request,
                const char       *name)
{
  return soup_message_headers_get_one (request->headers, name);
}

static JsonNode *
parse_bytes (GBytes *bytes)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, data, size, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

/* Tests */

static void
test_headers (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) r1 = NULL;
  g_autoptr (RdGraphResponse) r2 = NULL;
  GraphTestRequest *q1;
  GraphTestRequest *q2;

  graph_test_server_queue (f->server, "/v1.0/me", 200, "{\"id\":\"1\"}");
  graph_test_server_queue (f->server, "/v1.0/me", 200, "{\"id\":\"2\"}");

  r1 = request_sync (f->client, "GET", "/me", NULL, NULL, &error);
  g_assert_no_error (error);
  r2 = request_sync (f->client, "GET", "me", NULL, NULL, &error);
  g_assert_no_error (error);

  q1 = nth_request (f, 0);
  q2 = nth_request (f, 1);
  g_assert_cmpstr (q1->path, ==, "/v1.0/me");
  g_assert_cmpstr (q2->path, ==, "/v1.0/me");
  g_assert_cmpstr (request_header (q1, "User-Agent"), ==, "RecoveryDesk/" PACKAGE_VERSION);
  g_assert_cmpstr (request_header (q1, "Authorization"), ==, "Bearer " TOKEN);
  g_assert_cmpstr (request_header (q1, "Accept"), ==, "application/json");
  g_assert_true (g_uuid_string_is_valid (request_header (q1, "client-request-id")));
  g_assert_true (g_uuid_string_is_valid (request_header (q2, "client-request-id")));
  g_assert_cmpstr (request_header (q1, "client-request-id"), !=,
                   request_header (q2, "client-request-id"));
  g_assert_cmpstr (rd_graph_response_get_client_request_id (r1), ==,
                   request_header (q1, "client-request-id"));
  g_assert_cmpstr (json_object_get_string_member (rd_graph_response_get_object (r2), "id"), ==,
                   "2");
}

static void
test_request_ids (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) response = NULL;

  graph_test_response_add_header (graph_test_server_queue (f->server, "/v1.0/a", 200, "{}"),
                                  "request-id", "ok-id");
  graph_test_response_add_header (
    graph_test_server_queue (f->server, "/v1.0/b", 404,
                             "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"No such "
                             "device\"}}"),
    "request-id", "header-id");
  graph_test_server_queue (f->server, "/v1.0/c", 400,
                           "{\"error\":{\"code\":\"invalidRange\",\"message\":\"m\","
                           "\"innerError\":{\"requestId\":\"camel-id\"}}}");
  graph_test_server_queue (f->server, "/v1.0/d", 409,
                           "{\"error\":{\"code\":\"Conflict\",\"message\":\"m\","
                           "\"innerError\":{\"request-id\":\"dash-id\"}}}");

  response = request_sync (f->client, "GET", "/a", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rd_graph_response_get_status (response), ==, 200);
  g_assert_cmpstr (rd_graph_response_get_request_id (response), ==, "ok-id");

  g_assert_null (request_sync (f->client, "GET", "/b", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NOT_FOUND);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "header-id");
  g_assert_cmpstr (rd_graph_error_get_client_request_id (error), ==,
                   request_header (nth_request (f, 1), "client-request-id"));
  g_assert_cmpstr (rd_graph_error_get_code (error), ==, "ResourceNotFound");
  g_assert_cmpint (rd_graph_error_get_http_status (error), ==, 404);
  g_clear_error (&error);

  g_assert_null (request_sync (f->client, "GET", "/c", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_BAD_REQUEST);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "camel-id");
  g_clear_error (&error);

  g_assert_null (request_sync (f->client, "GET", "/d", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_CONFLICT);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "dash-id");
}

typedef struct
{
  guint n_pages;
  guint n_items;
} PageCount;

static void
on_page_cb (JsonArray       *items,
            RdGraphResponse *response,
            gpointer         user_data)
{
  PageCount *count = user_data;

  count->n_pages++;
  count->n_items += json_array_get_length (items);
}

static void
test_paging (Fixture       *f,
             gconstpointer  data)
{
  const char * const select[] = { "id", "deviceName", NULL };
  const char *odd_query = "$select=id,deviceName&$top=2&$skiptoken=RFNwdCVTa2lw%3D%3D%2Bx%2F"
                          "&$filter=startswith(deviceName,%27A%26B%27)&x=a+b";
  g_autofree char *link2 = g_strconcat (graph_test_server_get_base_url (f->server),
                                        "/deviceManagement/managedDevices?", odd_query, NULL);
  g_autofree char *link3 = g_strconcat (graph_test_server_get_base_url (f->server),
                                        "/deviceManagement/managedDevices?$skiptoken=page3", NULL);
  g_autofree char *page1 = g_strdup_printf ("{\"value\":[{\"id\":\"1\"},{\"id\":\"2\"}],"
                                            "\"@odata.nextLink\":\"%s\"}", link2);
  g_autofree char *page2 = g_strdup_printf ("{\"value\":[{\"id\":\"3\"},{\"id\":\"4\"}],"
                                            "\"@odata.nextLink\":\"%s\"}", link3);
  const char *page3 = "{\"value\":[{\"id\":\"5\"}]}";
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) items = NULL;
  g_autofree char *expected2 = g_strconcat (DEVICES "?", odd_query, NULL);
  PageCount count = { 0 };
  guint n_items = 0;
  const char *first;

  for (int round = 0; round < 2; round++)
    {
      graph_test_server_queue (f->server, DEVICES, 200, page1);
      graph_test_server_queue (f->server, DEVICES, 200, page2);
      graph_test_server_queue (f->server, DEVICES, 200, page3);
    }

  rd_graph_client_list_async (f->client, "/deviceManagement/managedDevices", select,
                              "operatingSystem eq 'Windows'", 2, NULL, NULL, NULL, NULL,
                              on_result_cb, &result);
  items = rd_graph_client_list_finish (f->client, wait_for (&result), &n_items, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (items), ==, 5);
  g_assert_cmpuint (n_items, ==, 5);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 4), "id"),
                   ==, "5");

  g_assert_cmpuint (graph_test_server_count (f->server, DEVICES), ==, 3);
  first = nth_request (f, 0)->path_and_query;
  g_assert_true (g_str_has_prefix (first, DEVICES "?$select=id,deviceName&$filter="));
  g_assert_nonnull (strstr (first, "operatingSystem%20eq%20'Windows'"));
  g_assert_true (g_str_has_suffix (first, "&$top=2"));
  /* The next links are followed exactly as given. */
  g_assert_cmpstr (nth_request (f, 1)->path_and_query, ==, expected2);
  g_assert_cmpstr (nth_request (f, 2)->path_and_query, ==, DEVICES "?$skiptoken=page3");

  /* The same through a page function. */
  g_clear_object (&result);
  g_clear_pointer (&items, json_array_unref);
  rd_graph_client_list_async (f->client, "/deviceManagement/managedDevices", select, NULL, 0,
                              on_page_cb, &count, NULL, NULL, on_result_cb, &result);
  items = rd_graph_client_list_finish (f->client, wait_for (&result), &n_items, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (items), ==, 0);
  g_assert_cmpuint (count.n_pages, ==, 3);
  g_assert_cmpuint (count.n_items, ==, 5);
  g_assert_cmpuint (n_items, ==, 5);
  g_assert_cmpstr (nth_request (f, 3)->path_and_query, ==, DEVICES "?$select=id,deviceName");
}

static void
test_paging_malformed (Fixture       *f,
                       gconstpointer  data)
{
  const char * const select[] = { "id", NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *elsewhere = g_strdup ("{\"value\":[],\"@odata.nextLink\":"
                                         "\"https://evil.example.com/v1.0/x?$skiptoken=1\"}");

  graph_test_response_add_header (
    graph_test_server_queue (f->server, DEVICES, 200, "{\"values\":[]}"), "request-id", "mal-id");
  graph_test_server_queue (f->server, DEVICES, 200, elsewhere);

  rd_graph_client_list_async (f->client, "/deviceManagement/managedDevices", select, NULL, 0,
                              NULL, NULL, NULL, NULL, on_result_cb, &result);
  g_assert_null (rd_graph_client_list_finish (f->client, wait_for (&result), NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "mal-id");
  g_clear_error (&error);
  g_clear_object (&result);

  /* A link to another host is not followed with our token. */
  rd_graph_client_list_async (f->client, "/deviceManagement/managedDevices", select, NULL, 0,
                              NULL, NULL, NULL, NULL, on_result_cb, &result);
  g_assert_null (rd_graph_client_list_finish (f->client, wait_for (&result), NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT);
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 2);
}

/* The sync's lists: pages read by RdGraphPage, each next page asked for
 * as soon as the link is peeked at in the body, pages handed over in
 * order. */

static void
on_raw_page_cb (RdGraphPage *page,
                gpointer     user_data)
{
  GPtrArray *ids = user_data;

  for (guint i = 0; i < rd_graph_page_get_n_items (page); i++)
    g_ptr_array_add (ids, g_strdup (rd_graph_page_get_string (page, i, "id")));
  rd_graph_page_free (page);
}

static GPtrArray *
list_raw_pages (Fixture  *f,
                GError  **error)
{
  const char *const select[] = { "id", NULL };
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (JsonArray) items = NULL;

  _rd_graph_client_list_pages_async (
    f->client, "/deviceManagement/managedDevices", select, NULL, 0, on_raw_page_cb,
    g_ptr_array_ref (ids), (GDestroyNotify) g_ptr_array_unref, NULL, on_result_cb, &result);
  items = rd_graph_client_list_finish (f->client, wait_for (&result), NULL, error);

  return items != NULL ? g_steal_pointer (&ids) : NULL;
}

static void
assert_ids (GPtrArray  *ids,
            const char *expected)
{
  g_ptr_array_add (ids, NULL);
  {
    g_autofree char *joined = g_strjoinv (",", (char **) ids->pdata);

    g_assert_cmpstr (joined, ==, expected);
  }
}

static void
test_raw_paging (Fixture       *f,
                 gconstpointer  data)
{
  const char *base = graph_test_server_get_base_url (f->server);
  g_autofree char *page1 = g_strdup_printf (
    "{\"value\":[{\"id\":\"1\"},{\"id\":\"2\"}],\"@odata.nextLink\":\"%s/p2?$skiptoken=a%%2Cb\"}",
    base);
  /* The link first, as other Graph lists write it, and a slow page. */
  g_autofree char *page2 = g_strdup_printf (
    "{\"@odata.context\":\"x\", \"@odata.nextLink\": \"%s/p3\", \"value\":[{\"id\":\"3\"}]}", base);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = NULL;

  graph_test_server_queue (f->server, DEVICES, 200, page1);
  graph_test_server_queue (f->server, "/v1.0/p2", 200, page2)->delay_ms = 100;
  graph_test_server_queue (f->server, "/v1.0/p3", 200, "{\"value\":[{\"id\":\"4\"}]}");

  ids = list_raw_pages (f, &error);
  g_assert_no_error (error);
  assert_ids (ids, "1,2,3,4");
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 3);
  /* The link is followed exactly as given. */
  g_assert_cmpstr (nth_request (f, 1)->path_and_query, ==, "/v1.0/p2?$skiptoken=a%2Cb");
}

/* A page naming two next links: the one peeked at, before "value", is not
 * the one the page means (the later); the page asked for ahead is dropped
 * and the right one asked for. */
static void
test_raw_paging_wrong_peek (Fixture       *f,
                            gconstpointer  data)
{
  const char *base = graph_test_server_get_base_url (f->server);
  g_autofree char *page1 = g_strdup_printf (
    "{\"@odata.nextLink\":\"%s/wrong\",\"value\":[{\"id\":\"1\"}],"
    "\"@odata.nextLink\":\"%s/right\",\"@odata.count\":2}",
    base, base);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = NULL;

  graph_test_server_queue (f->server, DEVICES, 200, page1);
  graph_test_server_queue (f->server, "/v1.0/wrong", 200, "{\"value\":[{\"id\":\"w\"}]}");
  graph_test_server_queue (f->server, "/v1.0/right", 200, "{\"value\":[{\"id\":\"2\"}]}");

  ids = list_raw_pages (f, &error);
  g_assert_no_error (error);
  assert_ids (ids, "1,2");
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/right"), ==, 1);
}

/* A page that does not read fails the list, although its link was peeked
 * at and the next page asked for; nothing after it is handed over. */
static void
test_raw_paging_malformed (Fixture       *f,
                           gconstpointer  data)
{
  const char *base = graph_test_server_get_base_url (f->server);
  g_autofree char *page2 = g_strdup_printf (
    "{\"value\":[{\"id\":\"2\", \"n\": 01}],\"@odata.nextLink\":\"%s/p3\"}", base);
  g_autofree char *page1 = g_strdup_printf (
    "{\"value\":[{\"id\":\"1\"}],\"@odata.nextLink\":\"%s/p2\"}", base);
  const char *const select[] = { "id", NULL };
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  graph_test_server_queue (f->server, DEVICES, 200, page1);
  graph_test_response_add_header (graph_test_server_queue (f->server, "/v1.0/p2", 200, page2),
                                  "request-id", "bad-page-id");
  graph_test_server_queue (f->server, "/v1.0/p3", 200, "{\"value\":[{\"id\":\"3\"}]}");

  _rd_graph_client_list_pages_async (
    f->client, "/deviceManagement/managedDevices", select, NULL, 0, on_raw_page_cb,
    g_ptr_array_ref (ids), (GDestroyNotify) g_ptr_array_unref, NULL, on_result_cb, &result);
  g_assert_null (rd_graph_client_list_finish (f->client, wait_for (&result), NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "bad-page-id");
  assert_ids (ids, "1");
}

static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  graph_test_response_add_header (
    graph_test_server_queue (f->server, "/v1.0/t", 200, "{\"value\": [{\"id\": \"1\"},"),
    "request-id", "trunc-id");
  graph_test_server_queue (f->server, "/v1.0/h", 200, "<html>Sign in to the proxy</html>");

  g_assert_null (request_sync (f->client, "GET", "/t", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "trunc-id");
  g_assert_nonnull (strstr (error->message, "trunc-id"));
  g_clear_error (&error);

  g_assert_null (request_sync (f->client, "GET", "/h", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
}

static void
test_retry_after (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) response = NULL;
  gint64 gap;

  graph_test_response_add_header (graph_test_server_queue (f->server, "/v1.0/r", 429, NULL),
                                  "Retry-After", "0.2");
  graph_test_server_queue (f->server, "/v1.0/r", 200, "{}");

  response = request_sync (f->client, "GET", "/r", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/r"), ==, 2);
  gap = nth_request (f, 1)->time_us - nth_request (f, 0)->time_us;
  g_assert_cmpint (gap, >=, 200 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (gap, <, 2 * G_TIME_SPAN_SECOND);
  g_assert_cmpstr (request_header (nth_request (f, 0), "client-request-id"), !=,
                   request_header (nth_request (f, 1), "client-request-id"));
}

static void
test_throttle_backoff (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) response = NULL;
  gint64 gap1, gap2;

  rd_graph_client_set_retry_policy (f->client, 100, 1000, 2000, 2);
  graph_test_server_queue (f->server, "/v1.0/r", 429, NULL);
  graph_test_server_queue (f->server, "/v1.0/r", 429, NULL);
  graph_test_server_queue (f->server, "/v1.0/r", 200, "{}");

  response = request_sync (f->client, "GET", "/r", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/r"), ==, 3);
  gap1 = nth_request (f, 1)->time_us - nth_request (f, 0)->time_us;
  gap2 = nth_request (f, 2)->time_us - nth_request (f, 1)->time_us;
  g_assert_cmpint (gap1, >=, 100 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (gap2, >=, 200 * G_TIME_SPAN_MILLISECOND);

  /* Still throttled after the retries. */
  for (int i = 0; i < 3; i++)
    graph_test_response_add_header (
      graph_test_server_queue (f->server, "/v1.0/s", 429,
                               "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"Please "
                               "retry again later.\"}}"),
      "Retry-After", "0.01");
  g_assert_null (request_sync (f->client, "GET", "/s", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_THROTTLED);
  g_assert_cmpstr (rd_graph_error_get_code (error), ==, "TooManyRequests");
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/s"), ==, 3);
}

static void
test_server_errors (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) r1 = NULL;
  g_autoptr (RdGraphResponse) r2 = NULL;
  g_autoptr (JsonNode) body = json_from_string ("{\"keepEnrollmentData\":true}", NULL);

  graph_test_server_queue (f->server, "/v1.0/a", 503, NULL);
  graph_test_server_queue (f->server, "/v1.0/a", 504, NULL);
  graph_test_server_queue (f->server, "/v1.0/a", 200, "{}");
  r1 = request_sync (f->client, "GET", "/a", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/a"), ==, 3);

  /* A 503 refused the POST: safe to send again. */
  graph_test_server_queue (f->server, "/v1.0/wipe", 503, NULL);
  graph_test_server_queue (f->server, "/v1.0/wipe", 204, NULL);
  r2 = request_sync (f->client, "POST", "/wipe", body, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rd_graph_response_get_status (r2), ==, 204);
  g_assert_null (rd_graph_response_get_body (r2));
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/wipe"), ==, 2);

  /* A 504 may come after the POST was carried out: not sent again. */
  graph_test_server_queue (f->server, "/v1.0/wipe2", 504, NULL);
  graph_test_server_queue (f->server, "/v1.0/wipe2", 204, NULL);
  g_assert_null (request_sync (f->client, "POST", "/wipe2", body, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_SERVER);
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/wipe2"), ==, 1);
  g_clear_error (&error);

  /* 5xx after the retries. */
  for (int i = 0; i < 5; i++)
    graph_test_server_queue (f->server, "/v1.0/down", 503, NULL);
  g_assert_null (request_sync (f->client, "GET", "/down", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_SERVER);
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/down"), ==, 5);
}

static void
test_dropped_get (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) response = NULL;

  graph_test_server_queue (f->server, "/v1.0/g", 200, "{}")->drop_connection = TRUE;
  graph_test_server_queue (f->server, "/v1.0/g", 200, "{\"ok\":true}");

  response = request_sync (f->client, "GET", "/g", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_get_boolean_member (rd_graph_response_get_object (response), "ok"));
  g_assert_cmpuint (graph_test_server_count (f->server, "/v1.0/g"), ==, 2);
}

static void
test_dropped_post (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = json_from_string ("{\"keepEnrollmentData\":true,"
                                                "\"keepUserData\":true}", NULL);
  g_autoptr (JsonNode) sent = NULL;

  graph_test_server_queue (f->server, "/v1.0/d/wipe", 204, NULL)->drop_connection = TRUE;
  graph_test_server_queue (f->server, "/v1.0/d/wipe", 204, NULL);

  g_assert_null (request_sync (f->client, "POST", "/d/wipe", body, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "may or may not"));
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 1);

  sent = parse_bytes (nth_request (f, 0)->body);
  g_assert_true (json_node_equal (sent, body));
  g_assert_cmpstr (request_header (nth_request (f, 0), "Content-Type"), ==, "application/json");
}

static void
test_refresh_once (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphResponse) response = NULL;

  graph_test_server_queue (f->server, "/v1.0/me", 401,
                           "{\"error\":{\"code\":"
                           "\"InvalidAuthenticationToken\","
                           "\"message\":\"Access token has expired\"}}");
  graph_test_server_queue (f->server, "/v1.0/me", 200, "{}");

  response = request_sync (f->client, "GET", "/me", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->tokens->n_refreshes, ==, 1);
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 2);
  g_assert_cmpstr (request_header (nth_request (f, 0), "Authorization"), ==, "Bearer " TOKEN);
  g_assert_cmpstr (request_header (nth_request (f, 1), "Authorization"), ==,
                   "Bearer " FRESH_TOKEN);
}

static void
test_unauthorized_twice (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < 3; i++)
    graph_test_response_add_header (
      graph_test_server_queue (f->server, "/v1.0/me", 401,
                               "{\"error\":{\"code\":\"InvalidAuthenticationToken\","
                               "\"message\":\"Access token validation failure.\"}}"),
      "request-id", "auth-id");

  g_assert_null (request_sync (f->client, "GET", "/me", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "auth-id");
  g_assert_cmpstr (rd_graph_error_get_code (error), ==, "InvalidAuthenticationToken");
  g_assert_cmpuint (f->tokens->n_refreshes, ==, 1);
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 2);
  g_assert_null (strstr (error->message, "token-"));
}

static void
test_static_token_refused (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr (RdTokenSource) source = rd_static_token_source_new (TOKEN);
  g_autoptr (RdGraphClient) client = rd_graph_client_new (
    graph_test_server_get_base_url (f->server), source);
  g_autoptr (GError) error = NULL;

  graph_test_response_add_header (graph_test_server_queue (f->server, "/v1.0/me", 401, NULL),
                                  "request-id", "static-id");
  graph_test_server_queue (f->server, "/v1.0/me", 200, "{}");

  g_assert_null (request_sync (client, "GET", "/me", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "RECOVERY_DESK_ACCESS_TOKEN"));
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "static-id");
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 1);
  g_assert_cmpstr (request_header (nth_request (f, 0), "Authorization"), ==, "Bearer " TOKEN);
}

static void
test_forbidden (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  graph_test_server_queue (f->server, DEVICES, 403,
                           "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Insufficient "
                           "privileges to complete the operation. Requires "
                           "DeviceManagementManagedDevices.Read.All.\",\"innerError\":"
                           "{\"request-id\":\"f-id\",\"date\":\"2024-01-01T00:00:00\"}}}");
  graph_test_server_queue (f->server, "/v1.0/x", 403,
                           "{\"error\":{\"code\":\"Forbidden\",\"message\":\"{\\\"_version\\\":3,"
                           "\\\"Message\\\":\\\"An error has occurred - Operation ID (for "
                           "customer support): 00000000 - Activity ID: cc7f - Url: "
                           "https://fef.msua06.manage.microsoft.com/x\\\",\\\"CustomApiErrorPhrase"
                           "\\\":\\\"\\\",\\\"RetryAfter\\\":null,\\\"ErrorSourceService\\\":\\\""
                           "\\\",\\\"HttpHeaders\\\":\\\"{}\\\"}\"}}");

  g_assert_null (request_sync (f->client, "GET", "/deviceManagement/managedDevices", NULL, NULL,
                               &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
  g_assert_cmpstr (rd_graph_error_get_missing_permission (error), ==,
                   "DeviceManagementManagedDevices.Read.All");
  g_assert_nonnull (strstr (error->message, "DeviceManagementManagedDevices.Read.All"));
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "f-id");
  g_clear_error (&error);

  /* The Intune JSON-in-message form: its Message is used. */
  g_assert_null (request_sync (f->client, "GET", "/x", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
  g_assert_nonnull (strstr (error->message, "An error has occurred - Operation ID"));
  g_assert_null (strstr (error->message, "_version"));
  g_assert_null (rd_graph_error_get_missing_permission (error));
}

static void
test_insecure_base (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  rd_graph_client_set_base_url (f->client, "http://graph.example.com/v1.0");
  g_assert_null (request_sync (f->client, "GET", "/me", NULL, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT);
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 0);
}

static void
test_cancel_backoff (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  graph_test_response_add_header (graph_test_server_queue (f->server, "/v1.0/slow", 503, NULL),
                                  "Retry-After", "1.5");
  graph_test_server_queue (f->server, "/v1.0/slow", 200, "{}");

  rd_graph_client_request_async (f->client, "GET", "/slow", NULL, cancellable, on_result_cb,
                                 &result);
  while (graph_test_server_count (f->server, NULL) < 1)
    g_main_context_iteration (NULL, TRUE);
  /* Let the answer arrive and the wait start. */
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 100 * G_TIME_SPAN_MILLISECOND)
    g_main_context_iteration (NULL, FALSE);

  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_assert_null (rd_graph_client_request_finish (f->client, wait_for (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 500 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (graph_test_server_count (f->server, NULL), ==, 1);
}

/* $batch */

typedef struct
{
  guint n_batches;
  GPtrArray *ids_per_batch; /* char ** per batch */
  GHashTable *throttle_once; /* ids to answer 429 the first time */
  gboolean fail_first_with_404;
} BatchScript;

static GraphTestResponse *
batch_handler (GraphTestServer  *server,
               GraphTestRequest *request,
               gpointer          user_data)
{
  BatchScript *script = user_data;
  g_autoptr (JsonNode) root = parse_bytes (request->body);
  JsonArray *requests = json_object_get_array_member (json_node_get_object (root), "requests");
  g_autoptr (GString) out = g_string_new ("{\"responses\":[");
  GPtrArray *ids = g_ptr_array_new ();

  script->n_batches++;

  /* Answer in reverse order: Graph does not keep the order. */
  for (guint n = json_array_get_length (requests); n > 0; n--)
    {
      JsonObject *item = json_array_get_object_element (requests, n - 1);
      const char *id = json_object_get_string_member (item, "id");

      g_ptr_array_add (ids, g_strdup (id));
      if (n != json_array_get_length (requests))
        g_string_append_c (out, ',');

      if (script->throttle_once != NULL && g_hash_table_remove (script->throttle_once, id))
        g_string_append_printf (out, "{\"id\":\"%s\",\"status\":429,\"headers\":"
                                     "{\"Retry-After\":\"0.15\"},\"body\":{\"error\":{\"code\":"
                                     "\"TooManyRequests\",\"message\":\"slow down\"}}}", id);
      else if (script->fail_first_with_404 && n == 1)
        g_string_append_printf (out, "{\"id\":\"%s\",\"status\":404,\"body\":{\"error\":"
                                     "{\"code\":\"ResourceNotFound\",\"message\":\"gone\"}}}", id);
      else if (json_object_has_member (item, "dependsOn") && script->fail_first_with_404)
        g_string_append_printf (out, "{\"id\":\"%s\",\"status\":424,\"body\":{\"error\":"
                                     "{\"code\":\"FailedDependency\",\"message\":\"dep\"}}}", id);
      else
        g_string_append_printf (out, "{\"id\":\"%s\",\"status\":200,\"headers\":"
                                     "{\"Content-Type\":\"application/json\"},"
                                     "\"body\":{\"echo\":\"%s\"}}", id, id);
    }
  g_string_append (out, "]}");
  g_ptr_array_add (ids, NULL);
  g_ptr_array_add (script->ids_per_batch, g_ptr_array_free (ids, FALSE));

  return graph_test_response_add_header (graph_test_response_new (200, out->str), "request-id",
                                         "batch-id");
}

static GPtrArray *
run_batch (Fixture   *f,
           GPtrArray *requests,
           GError   **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_graph_client_batch_async (f->client, requests, NULL, on_result_cb, &result);

  return rd_graph_client_batch_finish (f->client, wait_for (&result), error);
}

static void
test_batch_split (Fixture       *f,
                  gconstpointer  data)
{
  BatchScript script = { 0 };
  g_autoptr (GPtrArray) requests = g_ptr_array_new_with_free_func (
    (GDestroyNotify) rd_graph_batch_request_unref);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  script.ids_per_batch = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  graph_test_server_set_handler (f->server, BATCH, batch_handler, &script);

  for (int i = 0; i < 45; i++)
    {
      g_autofree char *id = g_strdup_printf ("%d", i);
      g_autofree char *url = g_strdup_printf ("/deviceManagement/managedDevices/dev-%d", i);

      g_ptr_array_add (requests, rd_graph_batch_request_new (id, "GET", url, NULL));
    }

  results = run_batch (f, requests, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 45);
  g_assert_cmpuint (script.n_batches, ==, 3);
  g_assert_cmpuint (graph_test_server_count (f->server, BATCH), ==, 3);
  g_assert_cmpuint (g_strv_length (g_ptr_array_index (script.ids_per_batch, 0)), ==, 20);
  g_assert_cmpuint (g_strv_length (g_ptr_array_index (script.ids_per_batch, 1)), ==, 20);
  g_assert_cmpuint (g_strv_length (g_ptr_array_index (script.ids_per_batch, 2)), ==, 5);

  for (guint i = 0; i < results->len; i++)
    {
      RdGraphBatchResult *result = g_ptr_array_index (results, i);
      RdGraphResponse *response = rd_graph_batch_result_get_response (result);
      g_autofree char *id = g_strdup_printf ("%u", i);

      g_assert_cmpstr (rd_graph_batch_result_get_id (result), ==, id);
      g_assert_null (rd_graph_batch_result_get_error (result));
      g_assert_nonnull (response);
      g_assert_cmpstr (json_object_get_string_member (rd_graph_response_get_object (response),
                                                      "echo"), ==, id);
      g_assert_cmpstr (rd_graph_response_get_request_id (response), ==, "batch-id");
    }

  {
    g_autoptr (JsonNode) sent = parse_bytes (nth_request (f, 0)->body);
    JsonObject *first = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (sent), "requests"), 0);

    g_assert_cmpstr (json_object_get_string_member (first, "method"), ==, "GET");
    g_assert_cmpstr (json_object_get_string_member (first, "url"), ==,
                     "/deviceManagement/managedDevices/dev-0");
    g_assert_cmpstr (nth_request (f, 0)->method, ==, "POST");
  }

  g_ptr_array_unref (script.ids_per_batch);
}

static void
test_batch_inner_throttle (Fixture       *f,
                           gconstpointer  data)
{
  BatchScript script = { 0 };
  g_autoptr (GPtrArray) requests = g_ptr_array_new_with_free_func (
    (GDestroyNotify) rd_graph_batch_request_unref);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  char **second;
  gint64 gap;

  script.ids_per_batch = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  script.throttle_once = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (script.throttle_once, (gpointer) "b");
  g_hash_table_add (script.throttle_once, (gpointer) "d");
  graph_test_server_set_handler (f->server, BATCH, batch_handler, &script);

  g_ptr_array_add (requests, rd_graph_batch_request_new ("a", "GET", "/a", NULL));
  g_ptr_array_add (requests, rd_graph_batch_request_new ("b", "GET", "/b", NULL));
  g_ptr_array_add (requests, rd_graph_batch_request_new ("c", "GET", "/c", NULL));
  g_ptr_array_add (requests, rd_graph_batch_request_new ("d", "POST", "/d/syncDevice", NULL));

  results = run_batch (f, requests, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (script.n_batches, ==, 2);
  second = g_ptr_array_index (script.ids_per_batch, 1);
  g_assert_cmpuint (g_strv_length (second), ==, 2);
  g_assert_true (g_strv_contains ((const char * const *) second, "b"));
  g_assert_true (g_strv_contains ((const char * const *) second, "d"));
  gap = nth_request (f, 1)->time_us - nth_request (f, 0)->time_us;
  g_assert_cmpint (gap, >=, 150 * G_TIME_SPAN_MILLISECOND);

  for (guint i = 0; i < results->len; i++)
    g_assert_nonnull (rd_graph_batch_result_get_response (g_ptr_array_index (results, i)));

  g_hash_table_unref (script.throttle_once);
  g_ptr_array_unref (script.ids_per_batch);
}

static void
test_batch_dependency (Fixture       *f,
                       gconstpointer  data)
{
  BatchScript script = { 0 };
  g_autoptr (GPtrArray) requests = g_ptr_array_new_with_free_func (
    (GDestroyNotify) rd_graph_batch_request_unref);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) sent = NULL;
  RdGraphBatchRequest *second;
  const GError *e0;
  const GError *e1;
  JsonObject *item;

  script.ids_per_batch = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  script.fail_first_with_404 = TRUE;
  graph_test_server_set_handler (f->server, BATCH, batch_handler, &script);

  g_ptr_array_add (requests, rd_graph_batch_request_new ("lookup", "GET", "/x", NULL));
  second = rd_graph_batch_request_new ("act", "POST", "/x/syncDevice", NULL);
  rd_graph_batch_request_add_depends_on (second, "lookup");
  g_ptr_array_add (requests, second);

  results = run_batch (f, requests, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (script.n_batches, ==, 1);

  e0 = rd_graph_batch_result_get_error (g_ptr_array_index (results, 0));
  e1 = rd_graph_batch_result_get_error (g_ptr_array_index (results, 1));
  g_assert_error ((GError *) e0, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NOT_FOUND);
  g_assert_cmpstr (rd_graph_error_get_request_id (e0), ==, "batch-id");
  g_assert_error ((GError *) e1, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FAILED_DEPENDENCY);
  g_assert_nonnull (strstr (e1->message, "“lookup”"));
  g_assert_cmpint (rd_graph_error_get_http_status (e1), ==, 424);

  sent = parse_bytes (nth_request (f, 0)->body);
  item = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (sent), "requests"), 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (item, "dependsOn"),
                                                  0), ==, "lookup");

  g_ptr_array_unref (script.ids_per_batch);
}

/* Runs last: every line logged so far, at every level, is free of tokens. */
static void
test_no_token_in_logs (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  graph_test_server_queue (f->server, "/v1.0/me", 401, NULL);
  graph_test_server_queue (f->server, "/v1.0/me", 401, NULL);
  g_assert_null (request_sync (f->client, "GET", "/me", NULL, NULL, &error));
  g_assert_null (strstr (error->message, "secret-token"));
  g_assert_null (strstr (error->message, "fresh-token"));

  g_assert_cmpstr (g_getenv ("G_MESSAGES_DEBUG"), ==, "all");
  g_assert_cmpuint (n_client_debug_lines, >, 0);
  for (guint i = 0; i < leaked_lines->len; i++)
    g_printerr ("Token in log: %s\n", (char *) g_ptr_array_index (leaked_lines, i));
  g_assert_cmpuint (leaked_lines->len, ==, 0);
}

/* Found by fuzz/fuzz-graph-page: a page whose strings are not UTF-8 once
 * unescaped, and a next link with no host ("https:/…"), which made
 * same_origin() pass NULL to g_ascii_strcasecmp(). */
static void
test_page_fuzz_regressions (void)
{
  static const char page[] = "{\"value\":[{\"id\":\"1\",\"deviceName\":\"PC\\ud800x\"}]}";
  g_autoptr (RdTokenSource) token_source = rd_static_token_source_new ("secret-token");
  g_autoptr (RdGraphClient) client = rd_graph_client_new ("https://graph.microsoft.com/v1.0",
                                                          token_source);
  g_autoptr (GBytes) bytes = g_bytes_new_static (page, strlen (page));
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;

  g_assert_false (_rd_graph_client_parse_body (bytes, 200, TRUE, NULL, NULL, &node, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
  g_assert_null (node);
  g_clear_error (&error);

  uri = _rd_graph_client_resolve_uri (client, "https:/v1.0/deviceManagement/managedDevices", &error);
  g_assert_null (uri);
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT);
  g_clear_error (&error);

  uri = _rd_graph_client_resolve_uri (
    client, "https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$skiptoken=x", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_uri_get_host (uri), ==, "graph.microsoft.com");
  g_assert_finalize_object (g_steal_pointer (&client));
}

int
main (int   argc,
      char *argv[])
{
  /* Before anything can log. */
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  leaked_lines = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (log_writer, NULL, NULL);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/rd/graph/client/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("headers", test_headers);
  ADD ("request-ids", test_request_ids);
  ADD ("paging", test_paging);
  ADD ("paging-malformed", test_paging_malformed);
  ADD ("raw-paging", test_raw_paging);
  ADD ("raw-paging-wrong-peek", test_raw_paging_wrong_peek);
  ADD ("raw-paging-malformed", test_raw_paging_malformed);
  ADD ("malformed", test_malformed);
  ADD ("retry-after", test_retry_after);
  ADD ("throttle-backoff", test_throttle_backoff);
  ADD ("server-errors", test_server_errors);
  ADD ("dropped-get", test_dropped_get);
  ADD ("dropped-post", test_dropped_post);
  ADD ("refresh-once", test_refresh_once);
  ADD ("unauthorized-twice", test_unauthorized_twice);
  ADD ("static-token-refused", test_static_token_refused);
  ADD ("forbidden", test_forbidden);
  ADD ("insecure-base", test_insecure_base);
  ADD ("cancel-backoff", test_cancel_backoff);
  ADD ("batch-split", test_batch_split);
  ADD ("batch-inner-throttle", test_batch_inner_throttle);
  ADD ("batch-dependency", test_batch_dependency);
  ADD ("no-token-in-logs", test_no_token_in_logs);

#undef ADD

  g_test_add_func ("/rd/graph/client/page-fuzz-regressions", test_page_fuzz_regressions);

  return g_test_run ();
}
