/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-response"

#include "config.h"

#include "rd-graph-response.h"

#include "rd-graph-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

struct _RdGraphResponse
{
  gatomicrefcount ref_count;

  guint status;
  SoupMessageHeaders *headers;
  JsonNode *body;
  char *request_id;
  char *client_request_id;
};

G_DEFINE_BOXED_TYPE (RdGraphResponse, rd_graph_response, rd_graph_response_ref,
                     rd_graph_response_unref)

/**
 * rd_graph_response_new:
 * @headers: (nullable): the response headers
 * @body: (nullable): the parsed body
 * @request_id: (nullable): Graph's `request-id` for the request
 * @client_request_id: (nullable): the `client-request-id` we sent
 */
RdGraphResponse *
rd_graph_response_new (guint               status,
                       SoupMessageHeaders *headers,
                       JsonNode           *body,
                       const char         *request_id,
                       const char         *client_request_id)
{
  RdGraphResponse *self = g_new0 (RdGraphResponse, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->status = status;
  self->headers = headers != NULL ? soup_message_headers_ref (headers)
                                  : soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  self->body = body != NULL ? json_node_ref (body) : NULL;
  self->request_id = g_strdup (request_id);
  self->client_request_id = g_strdup (client_request_id);

  return self;
}

RdGraphResponse *
rd_graph_response_ref (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
rd_graph_response_unref (RdGraphResponse *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  soup_message_headers_unref (self->headers);
  g_clear_pointer (&self->body, json_node_unref);
  g_free (self->request_id);
  g_free (self->client_request_id);
  g_free (self);
}

guint
rd_graph_response_get_status (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->status;
}

SoupMessageHeaders *
rd_graph_response_get_headers (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->headers;
}

const char *
rd_graph_response_get_header (RdGraphResponse *self,
                              const char      *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return soup_message_headers_get_one (self->headers, name);
}

/**
 * rd_graph_response_get_body:
 *
 * Returns: (nullable) (transfer none): the parsed body; %NULL when the
 *   response had none (204 No Content)
 */
JsonNode *
rd_graph_response_get_body (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->body;
}

/**
 * rd_graph_response_get_object:
 *
 * Returns: (nullable) (transfer none): the body if it is a JSON object
 */
JsonObject *
rd_graph_response_get_object (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->body == NULL || !JSON_NODE_HOLDS_OBJECT (self->body))
    return NULL;

  return json_node_get_object (self->body);
}

const char *
rd_graph_response_get_request_id (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->request_id;
}

const char *
rd_graph_response_get_client_request_id (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->client_request_id;
}

/**
 * rd_graph_response_to_error:
 *
 * Returns: (nullable) (transfer full): the error a 4xx/5xx response
 *   stands for, or %NULL for a success
 */
GError *
rd_graph_response_to_error (RdGraphResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->status < 400)
    return NULL;

  return rd_graph_error_new_from_response (self->status, self->body, self->request_id,
                                           self->client_request_id);
}

/* Error parsing */

static const char *
object_get_string (JsonObject *object,
                   const char *member)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;

  node = json_object_get_member (object, member);
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static JsonObject *
object_get_object (JsonObject *object,
                   const char *member)
{
  JsonNode *node;

  if (object == NULL)
    return NULL;

  node = json_object_get_member (object, member);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

/* innerError carries "request-id" in the throttling and Intune samples and
 * "requestId" in the generic one (reference §9), and may nest. */
static const char *
find_inner_request_id (JsonObject *error_object)
{
  JsonObject *inner = object_get_object (error_object, "innerError");

  for (int depth = 0; depth < 8; depth++)
    {
      const char *id;

      if (inner == NULL)
        inner = object_get_object (error_object, "innererror");
      if (inner == NULL)
        return NULL;

      id = object_get_string (inner, "request-id");
      if (id == NULL)
        id = object_get_string (inner, "requestId");
      if (id != NULL && *id != '\0')
        return id;

      error_object = inner;
      inner = object_get_object (error_object, "innerError");
    }

  return NULL;
}

/* Intune services sometimes put a JSON document inside "message":
 * {"_version":3,"Message":"… Operation ID …",…}. Returns its Message. */
static char *
unwrap_message (const char *message)
{
  g_autoptr (JsonParser) parser = NULL;
  const char *p = message;
  JsonNode *root;
  const char *inner;

  while (g_ascii_isspace (*p))
    p++;
  if (*p != '{')
    return g_strdup (message);

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, p, -1, NULL))
    return g_strdup (message);

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return g_strdup (message);

  inner = object_get_string (json_node_get_object (root), "Message");
  if (inner == NULL)
    inner = object_get_string (json_node_get_object (root), "message");
  if (inner != NULL && !g_utf8_validate (inner, -1, NULL))
    inner = NULL;

  return g_strdup (inner != NULL ? inner : message);
}

/* Graph names a missing delegated permission only in prose, such as
 * "… requires one of DeviceManagementManagedDevices.Read.All, …". Take the
 * first permission-shaped word. */
static char *
find_permission (const char *message)
{
  static GRegex *regex;
  g_autoptr (GMatchInfo) match = NULL;

  if (message == NULL)
    return NULL;

  if (g_once_init_enter (&regex))
    {
      GRegex *r = g_regex_new ("\\b[A-Z][A-Za-z]+(?:\\.[A-Z][A-Za-z]+)*"
                               "\\.(?:Read|ReadWrite|ReadBasic|PrivilegedOperations|Write)"
                               "(?:\\.All)?\\b",
                               G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&regex, r);
    }

  if (!g_regex_match (regex, message, 0, &match))
    return NULL;

  return g_match_info_fetch (match, 0);
}

static char *
shorten (const char *text)
{
  const glong max_chars = 300;
  g_autofree char *head = NULL;

  if (g_utf8_strlen (text, -1) <= max_chars)
    return g_strdup (text);

  head = g_utf8_substring (text, 0, max_chars);

  return g_strconcat (head, "…", NULL);
}

static RdGraphError
code_for_status (guint status)
{
  switch (status)
    {
    case SOUP_STATUS_BAD_REQUEST:
      return RD_GRAPH_ERROR_BAD_REQUEST;
    case SOUP_STATUS_UNAUTHORIZED:
      return RD_GRAPH_ERROR_UNAUTHORIZED;
    case SOUP_STATUS_FORBIDDEN:
      return RD_GRAPH_ERROR_FORBIDDEN;
    case SOUP_STATUS_NOT_FOUND:
      return RD_GRAPH_ERROR_NOT_FOUND;
    case SOUP_STATUS_CONFLICT:
      return RD_GRAPH_ERROR_CONFLICT;
    case SOUP_STATUS_FAILED_DEPENDENCY:
      return RD_GRAPH_ERROR_FAILED_DEPENDENCY;
    case STATUS_TOO_MANY_REQUESTS:
      return RD_GRAPH_ERROR_THROTTLED;
    default:
      return status >= 500 && status < 600 ? RD_GRAPH_ERROR_SERVER : RD_GRAPH_ERROR_FAILED;
    }
}

static char *
describe (RdGraphError  code,
          guint         status,
          const char   *permission)
{
  switch (code)
    {
    case RD_GRAPH_ERROR_BAD_REQUEST:
      return g_strdup (_ ("Microsoft Graph refused the request as invalid. This is likely a bug in "
                          "Recovery Desk; please report it with the request id."));
    case RD_GRAPH_ERROR_UNAUTHORIZED:
      return g_strdup (_ ("Microsoft Graph did not accept the sign-in. Sign in again."));
    case RD_GRAPH_ERROR_FORBIDDEN:
      if (permission != NULL)
        return g_strdup_printf (_ ("Access denied: the permission %s is missing. Ask an "
                                   "administrator to grant it (with admin consent), then sign in "
                                   "again."),
                                permission);
      return g_strdup (_ ("Access denied. Check that your account has an Intune role that allows "
                          "this, and that the app has admin consent, then sign in again."));
    case RD_GRAPH_ERROR_NOT_FOUND:
      return g_strdup (_ ("Microsoft Graph does not know this item; it may have been deleted. "
                          "Refresh the device list and try again."));
    case RD_GRAPH_ERROR_CONFLICT:
      return g_strdup (_ ("The item was changed at the same time by someone else. Refresh and try "
                          "again."));
    case RD_GRAPH_ERROR_FAILED_DEPENDENCY:
      return g_strdup (_ ("The request was not run because a request it depends on failed. Fix "
                          "that one first."));
    case RD_GRAPH_ERROR_THROTTLED:
      return g_strdup (_ ("Microsoft Graph is limiting how fast requests are sent. Wait a minute, "
                          "then try again."));
    case RD_GRAPH_ERROR_SERVER:
      return g_strdup_printf (
        _ ("Microsoft Graph had a problem on its side (HTTP %u). Try again in "
           "a few minutes."),
        status);
    case RD_GRAPH_ERROR_NETWORK:
    case RD_GRAPH_ERROR_MALFORMED_RESPONSE:
    case RD_GRAPH_ERROR_INSECURE_ENDPOINT:
    case RD_GRAPH_ERROR_FAILED:
    default:
      return g_strdup_printf (_ ("Microsoft Graph answered with HTTP status %u."), status);
    }
}

/**
 * rd_graph_error_new_from_response:
 * @status: the HTTP status, 400 or more
 * @body: (nullable): the parsed body
 * @request_id: (nullable): the `request-id` response header
 * @client_request_id: (nullable): the `client-request-id` we sent
 *
 * Turns a Graph error answer (reference §9) into an %RD_GRAPH_ERROR. The
 * code follows the HTTP status; Graph's own `code`, the request id (from
 * the header, else `request-id` or `requestId` in `innerError`) and, for
 * 403, the permission Graph names are attached as details.
 *
 * Returns: (transfer full): the error
 */
GError *
rd_graph_error_new_from_response (guint       status,
                                  JsonNode   *body,
                                  const char *request_id,
                                  const char *client_request_id)
{
  JsonObject *error_object = NULL;
  const char *graph_code = NULL;
  g_autofree char *graph_message = NULL;
  g_autofree char *permission = NULL;
  g_autofree char *what = NULL;
  g_autoptr (GString) text = NULL;
  RdGraphError code = code_for_status (status);
  GError *error;

  if (body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    error_object = object_get_object (json_node_get_object (body), "error");

  if (error_object != NULL)
    {
      const char *message = object_get_string (error_object, "message");

      graph_code = object_get_string (error_object, "code");
      if (message != NULL && *message != '\0')
        graph_message = unwrap_message (message);
      if (request_id == NULL || *request_id == '\0')
        request_id = find_inner_request_id (error_object);
    }

  if (code == RD_GRAPH_ERROR_FORBIDDEN)
    permission = find_permission (graph_message);

  what = describe (code, status, permission);
  text = g_string_new (what);

  if (graph_message != NULL)
    {
      g_autofree char *short_message = shorten (graph_message);

      g_string_append_c (text, ' ');
      g_string_append_printf (text, _ ("Microsoft Graph said: “%s”."), short_message);
    }

  if (request_id != NULL && *request_id != '\0')
    {
      g_string_append_c (text, ' ');
      g_string_append_printf (text, _ ("(Request id %s.)"), request_id);
    }

  error = g_error_new_literal (RD_GRAPH_ERROR, code, text->str);
  rd_graph_error_set_details (error, status, request_id, client_request_id, graph_code, permission);

  return error;
}
