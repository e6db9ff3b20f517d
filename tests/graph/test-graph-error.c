/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-graph-client-private.h"
#include "rd-graph-error.h"
#include "rd-graph-response.h"

#include <string.h>

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

static void
test_status_codes (void)
{
  struct
  {
    guint status;
    RdGraphError code;
  } cases[] = {
    { 400, RD_GRAPH_ERROR_BAD_REQUEST },
    { 401, RD_GRAPH_ERROR_UNAUTHORIZED },
    { 403, RD_GRAPH_ERROR_FORBIDDEN },
    { 404, RD_GRAPH_ERROR_NOT_FOUND },
    { 409, RD_GRAPH_ERROR_CONFLICT },
    { 424, RD_GRAPH_ERROR_FAILED_DEPENDENCY },
    { 429, RD_GRAPH_ERROR_THROTTLED },
    { 500, RD_GRAPH_ERROR_SERVER },
    { 503, RD_GRAPH_ERROR_SERVER },
    { 504, RD_GRAPH_ERROR_SERVER },
    { 418, RD_GRAPH_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = rd_graph_error_new_from_response (cases[i].status, NULL, "rid",
                                                                   "crid");

      g_assert_error (error, RD_GRAPH_ERROR, (int) cases[i].code);
      g_assert_cmpint (rd_graph_error_get_http_status (error), ==, cases[i].status);
      g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, "rid");
      g_assert_cmpstr (rd_graph_error_get_client_request_id (error), ==, "crid");
      g_assert_nonnull (strstr (error->message, "rid"));
    }
}

static void
test_request_id_spellings (void)
{
  g_autoptr (JsonNode) dashed = parse ("{\"error\":{\"code\":\"TooManyRequests\",\"message\":"
                                       "\"Please retry again later.\",\"innerError\":{\"code\":"
                                       "\"429\",\"request-id\":\"dash-id\",\"status\":\"429\"}}}");
  g_autoptr (JsonNode) camel = parse ("{\"error\":{\"code\":\"invalidRange\",\"message\":\"Bad "
                                      "range\",\"innerError\":{\"requestId\":\"camel-id\"}}}");
  g_autoptr (JsonNode) nested = parse (
    "{\"error\":{\"code\":\"x\",\"message\":\"m\","
    "\"innererror\":{\"innerError\":{\"requestId\":\"deep\"}}}}");
  g_autoptr (GError) e1 = rd_graph_error_new_from_response (429, dashed, NULL, NULL);
  g_autoptr (GError) e2 = rd_graph_error_new_from_response (400, camel, NULL, NULL);
  g_autoptr (GError) e3 = rd_graph_error_new_from_response (400, camel, "header-id", NULL);
  g_autoptr (GError) e4 = rd_graph_error_new_from_response (400, nested, NULL, NULL);

  g_assert_cmpstr (rd_graph_error_get_request_id (e1), ==, "dash-id");
  g_assert_cmpstr (rd_graph_error_get_code (e1), ==, "TooManyRequests");
  g_assert_error (e1, RD_GRAPH_ERROR, RD_GRAPH_ERROR_THROTTLED);
  g_assert_cmpstr (rd_graph_error_get_request_id (e2), ==, "camel-id");
  g_assert_cmpstr (rd_graph_error_get_code (e2), ==, "invalidRange");
  g_assert_nonnull (strstr (e2->message, "Bad range"));
  /* The response header wins over the body. */
  g_assert_cmpstr (rd_graph_error_get_request_id (e3), ==, "header-id");
  g_assert_cmpstr (rd_graph_error_get_request_id (e4), ==, "deep");
}

static void
test_missing_permission (void)
{
  g_autoptr (JsonNode) scope = parse (
    "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Insufficient privileges. The request "
    "requires one of BitLockerKey.ReadBasic.All, BitLockerKey.Read.All.\"}}");
  g_autoptr (JsonNode) intune = parse (
    "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Application is not authorized to perform "
    "this operation - Operation ID (for customer support): 0000 - Activity ID: cc7f - Url: "
    "https://example.manage.microsoft.com/x\",\"innerError\":{\"request-id\":\"r1\"}}}");
  g_autoptr (GError) e1 = rd_graph_error_new_from_response (403, scope, NULL, NULL);
  g_autoptr (GError) e2 = rd_graph_error_new_from_response (403, intune, NULL, NULL);
  g_autoptr (GError) e3 = rd_graph_error_new_from_response (400, scope, NULL, NULL);

  g_assert_error (e1, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
  g_assert_cmpstr (rd_graph_error_get_missing_permission (e1), ==, "BitLockerKey.ReadBasic.All");
  g_assert_nonnull (strstr (e1->message, "BitLockerKey.ReadBasic.All"));

  g_assert_error (e2, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
  g_assert_null (rd_graph_error_get_missing_permission (e2));
  g_assert_cmpstr (rd_graph_error_get_request_id (e2), ==, "r1");

  /* Only a 403 names a missing permission. */
  g_assert_null (rd_graph_error_get_missing_permission (e3));
}

static void
test_json_in_message (void)
{
  g_autoptr (JsonNode) body = parse (
    "{\"error\":{\"code\":\"BadRequest\",\"message\":\"{\\\"_version\\\": 3, \\\"Message\\\": "
    "\\\"Filter not supported on serialNumber - Operation ID: 42\\\", "
    "\\\"CustomApiErrorPhrase\\\": \\\"\\\", \\\"RetryAfter\\\": null}\"}}");
  g_autoptr (GError) error = rd_graph_error_new_from_response (400, body, "r", NULL);

  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "Filter not supported on serialNumber"));
  g_assert_null (strstr (error->message, "_version"));
  g_assert_null (strstr (error->message, "CustomApiErrorPhrase"));
}

static void
test_odd_bodies (void)
{
  g_autoptr (JsonNode) array = parse ("[1, 2]");
  g_autoptr (JsonNode) wrong = parse ("{\"error\":\"just a string\"}");
  g_autoptr (GString) long_message = g_string_new ("{\"error\":{\"code\":\"x\",\"message\":\"");
  g_autoptr (JsonNode) long_body = NULL;
  g_autoptr (GError) e1 = rd_graph_error_new_from_response (502, NULL, NULL, NULL);
  g_autoptr (GError) e2 = rd_graph_error_new_from_response (500, array, NULL, NULL);
  g_autoptr (GError) e3 = rd_graph_error_new_from_response (409, wrong, NULL, NULL);
  g_autoptr (GError) e4 = NULL;

  for (int i = 0; i < 2000; i++)
    g_string_append_c (long_message, 'a');
  g_string_append (long_message, "\"}}");
  long_body = parse (long_message->str);
  e4 = rd_graph_error_new_from_response (400, long_body, NULL, NULL);

  g_assert_error (e1, RD_GRAPH_ERROR, RD_GRAPH_ERROR_SERVER);
  g_assert_nonnull (strstr (e1->message, "502"));
  g_assert_error (e2, RD_GRAPH_ERROR, RD_GRAPH_ERROR_SERVER);
  g_assert_error (e3, RD_GRAPH_ERROR, RD_GRAPH_ERROR_CONFLICT);
  g_assert_null (rd_graph_error_get_code (e3));
  g_assert_cmpuint (strlen (e4->message), <, 1000);
}

static void
test_response_to_error (void)
{
  g_autoptr (JsonNode) body = parse (
    "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"gone\"}}");
  g_autoptr (RdGraphResponse) ok = rd_graph_response_new (200, NULL, body, "a", "b");
  g_autoptr (RdGraphResponse) missing = rd_graph_response_new (404, NULL, body, "a", "b");
  g_autoptr (GError) none = rd_graph_response_to_error (ok);
  g_autoptr (GError) error = rd_graph_response_to_error (missing);

  g_assert_no_error (none);
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NOT_FOUND);
  g_assert_cmpstr (rd_graph_error_get_code (error), ==, "ResourceNotFound");
  g_assert_cmpstr (rd_graph_error_get_client_request_id (error), ==, "b");
}

/* Found by fuzz/fuzz-graph-error: json-glib 1.6 turns a lone surrogate
 * escape into bytes that are not UTF-8, and quotes them in its own parse
 * errors; neither may reach a message. */
static void
test_not_utf8 (void)
{
  const char *bodies[] = {
    "{\"error\":{\"code\":\"Forbidden\",\"message\":\"no\\ud800x\"}}",
    "{\"error\":{\"code\":\"Forbidden\",\"message\":\"{\\\"Message\\\":\\\"no\\\\ud800x\\\"}\"}}",
    "{\"error\":{\"co\\ud800de\":",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new_static (bodies[i], strlen (bodies[i]));
      g_autoptr (JsonNode) node = NULL;
      g_autoptr (GError) error = NULL;

      g_assert_false (_rd_graph_client_parse_body (bytes, 403, FALSE, "r", "c", &node, &error));
      g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);

      /* The second is valid until its message is unwrapped. */
      if (i == 1)
        continue;
      g_assert_false (_rd_graph_client_parse_body (bytes, 200, FALSE, "r", "c", &node, &error));
      g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }

  /* The JSON inside "message" is parsed here, not by the worker thread. */
  {
    g_autoptr (JsonNode) body = parse (bodies[1]);
    g_autoptr (GError) error = rd_graph_error_new_from_response (403, body, NULL, NULL);

    g_assert_true (g_utf8_validate (error->message, -1, NULL));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/graph/error/status-codes", test_status_codes);
  g_test_add_func ("/rd/graph/error/request-id-spellings", test_request_id_spellings);
  g_test_add_func ("/rd/graph/error/missing-permission", test_missing_permission);
  g_test_add_func ("/rd/graph/error/json-in-message", test_json_in_message);
  g_test_add_func ("/rd/graph/error/odd-bodies", test_odd_bodies);
  g_test_add_func ("/rd/graph/error/response-to-error", test_response_to_error);
  g_test_add_func ("/rd/graph/error/not-utf8", test_not_utf8);

  return g_test_run ();
}
