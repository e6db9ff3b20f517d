/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-demo-tenant.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

/* The demo tenant, through a plain SoupSession: what it answers is what
 * Microsoft answers, so these tests check shapes, statuses and headers. */

#define CLIENT_ID "5b0e2f6a-1c3d-4e8f-9a7b-0c1d2e3f4a5b"
#define SCOPES "offline_access openid profile DeviceManagementManagedDevices.Read.All"

typedef struct
{
  RdDemoTenant *tenant;
  SoupSession *session;
  char *token;
} Fixture;

typedef struct
{
  SoupMessage *msg;
  guint status;
  GBytes *body;
  JsonNode *json;
  GError *error;
} Response;

static void
response_free (Response *response)
{
  g_clear_object (&response->msg);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_node_unref);
  g_clear_error (&response->error);
  g_free (response);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

static Response *
send_full (SoupSession *session,
           const char *method,
           const char *url,
           const char *token,
           const char *content_type,
           const char *body,
           gboolean follow)
{
  Response *response = g_new0 (Response, 1);
  SoupMessageHeaders *headers;

  response->msg = soup_message_new (method, url);
  g_assert_nonnull (response->msg);
  if (!follow)
    soup_message_add_flags (response->msg, SOUP_MESSAGE_NO_REDIRECT);
  headers = soup_message_get_request_headers (response->msg);
  if (token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (headers, "Authorization", auth);
    }
  soup_message_headers_replace (headers, "client-request-id",
                                "0f4e6a1c-test-4000-8000-000000000001");
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (response->msg, content_type, bytes);
    }

  response->body = soup_session_send_and_read (session, response->msg, NULL, &response->error);
  response->status = soup_message_get_status (response->msg);
  if (response->body != NULL && g_bytes_get_size (response->body) > 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      gsize len;
      const char *data = g_bytes_get_data (response->body, &len);

      if (json_parser_load_from_data (parser, data, (gssize) len, NULL))
        response->json = json_node_ref (json_parser_get_root (parser));
    }
  return response;
}

static Response *
get (Fixture *f, const char *path)
{
  g_autofree char *url = g_str_has_prefix (path, "http")
                           ? g_strdup (path)
                           : g_strconcat (rd_demo_tenant_get_base_url (f->tenant), path, NULL);

  return send_full (f->session, "GET", url, f->token, NULL, NULL, TRUE);
}

static Response *
post_json (Fixture *f, const char *path, const char *body)
{
  g_autofree char *url = g_strconcat (rd_demo_tenant_get_base_url (f->tenant), path, NULL);

  return send_full (f->session, "POST", url, f->token, "application/json", body, TRUE);
}

static Response *
post_form (Fixture *f, const char *endpoint, const char *first_field, ...)
{
  g_autofree char *url = g_strdup_printf ("%s/login/organizations/oauth2/v2.0/%s",
                                          rd_demo_tenant_get_base_url (f->tenant), endpoint);
  g_autofree char *form = NULL;
  va_list args;

  va_start (args, first_field);
  form = soup_form_encode_valist (first_field, args);
  va_end (args);
  return send_full (f->session, "POST", url, NULL, "application/x-www-form-urlencoded", form, TRUE);
}

static JsonObject *
object_of (Response *response)
{
  g_assert_nonnull (response->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (response->json));
  return json_node_get_object (response->json);
}

static JsonArray *
value_of (Response *response)
{
  return json_object_get_array_member (object_of (response), "value");
}

static const char *
header (Response *response, const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (response->msg), name);
}

static const char *
graph_error_code (Response *response)
{
  return json_object_get_string_member (
    json_object_get_object_member (object_of (response), "error"), "code");
}

static const char *
graph_error_message (Response *response)
{
  return json_object_get_string_member (
    json_object_get_object_member (object_of (response), "error"), "message");
}

static void
assert_token_error (Response *response, const char *error)
{
  JsonObject *object = object_of (response);

  g_assert_cmpuint (response->status, ==, 400);
  g_assert_cmpstr (json_object_get_string_member (object, "error"), ==, error);
  g_assert_true (
    g_str_has_prefix (json_object_get_string_member (object, "error_description"), "AADSTS"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "error_codes")),
                    ==, 1);
  g_assert_true (json_object_has_member (object, "timestamp"));
  g_assert_true (g_uuid_string_is_valid (json_object_get_string_member (object, "trace_id")));
  g_assert_cmpstr (json_object_get_string_member (object, "correlation_id"), ==,
                   "0f4e6a1c-test-4000-8000-000000000001");
}

static JsonObject *
jwt_claims (const char *jwt)
{
  g_auto (GStrv) parts = g_strsplit (jwt, ".", -1);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree guchar *payload = NULL;
  g_autoptr (GString) padded = NULL;
  gsize len = 0;

  g_assert_cmpuint (g_strv_length (parts), ==, 3);
  padded = g_string_new (parts[1]);
  g_strdelimit (padded->str, "-", '+');
  g_strdelimit (padded->str, "_", '/');
  while (padded->len % 4 != 0)
    g_string_append_c (padded, '=');
  payload = g_base64_decode (padded->str, &len);
  g_assert_true (json_parser_load_from_data (parser, (const char *) payload, (gssize) len, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static guint
count_threads (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  /* The tenant's own threads, by name: GLib's pools start and end theirs
   * at their own pace (a count of all threads failed 4 runs in 30). */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", name, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, "rd-demo-tenant"))
        n++;
    }
  return n;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->tenant = rd_demo_tenant_new ();
  g_assert_true (rd_demo_tenant_load (f->tenant, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rd_demo_tenant_start (f->tenant, &error));
  g_assert_no_error (error);
  f->session = soup_session_new ();
  f->token = rd_demo_tenant_issue_access_token (f->tenant);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  rd_demo_tenant_stop (f->tenant);
  g_assert_finalize_object (f->tenant);
  g_clear_object (&f->session);
  g_free (f->token);
}

/* Sign-in */

static char *
start_device_code (Fixture *f)
{
  g_autoptr (Response) r = post_form (f, "devicecode", "client_id", CLIENT_ID, "scope", SCOPES,
                                      NULL);
  JsonObject *object = object_of (r);
  g_autofree char *verification = NULL;

  g_assert_cmpuint (r->status, ==, 200);
  g_assert_cmpint (strlen (json_object_get_string_member (object, "user_code")), >=, 8);
  verification = g_strconcat (rd_demo_tenant_get_base_url (f->tenant), "/login/devicelogin", NULL);
  g_assert_cmpstr (json_object_get_string_member (object, "verification_uri"), ==, verification);
  g_assert_cmpint (json_object_get_int_member (object, "expires_in"), ==, 900);
  g_assert_true (json_object_has_member (object, "interval"));
  g_assert_nonnull (strstr (json_object_get_string_member (object, "message"),
                            json_object_get_string_member (object, "user_code")));
  g_assert_false (json_object_has_member (object, "verification_uri_complete"));
  return g_strdup (json_object_get_string_member (object, "device_code"));
}

static Response *
poll_device_code (Fixture *f, const char *device_code)
{
  return post_form (f, "token", "grant_type", "urn:ietf:params:oauth:grant-type:device_code",
                    "client_id", CLIENT_ID, "device_code", device_code, NULL);
}

static void
test_device_code_approve (Fixture *f, gconstpointer data)
{
  g_autofree char *device_code = start_device_code (f);
  g_autoptr (Response) first = poll_device_code (f, device_code);
  g_autoptr (Response) second = poll_device_code (f, device_code);
  g_autoptr (Response) third = poll_device_code (f, device_code);
  g_autoptr (Response) again = poll_device_code (f, device_code);
  g_autoptr (Response) devices = NULL;
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (JsonObject) id_claims = NULL;
  JsonObject *tokens;

  assert_token_error (first, "authorization_pending");
  g_assert_cmpint (
    json_array_get_int_element (json_object_get_array_member (object_of (first), "error_codes"), 0),
    ==, 70016);
  assert_token_error (second, "authorization_pending");

  g_assert_cmpuint (third->status, ==, 200);
  tokens = object_of (third);
  g_assert_cmpstr (json_object_get_string_member (tokens, "token_type"), ==, "Bearer");
  g_assert_cmpint (json_object_get_int_member (tokens, "expires_in"), ==, 3600);
  g_assert_nonnull (strstr (json_object_get_string_member (tokens, "scope"),
                            "DeviceManagementManagedDevices.Read.All"));
  g_assert_true (json_object_has_member (tokens, "refresh_token"));
  claims = jwt_claims (json_object_get_string_member (tokens, "access_token"));
  g_assert_cmpstr (json_object_get_string_member (claims, "tid"), ==,
                   rd_demo_tenant_get_tenant_id (f->tenant));
  g_assert_cmpstr (json_object_get_string_member (claims, "upn"), ==,
                   "dana.whitfield@contoso.example");
  g_assert_cmpstr (json_object_get_string_member (claims, "name"), ==, "Dana Whitfield");
  g_assert_true (json_object_has_member (claims, "oid"));
  g_assert_cmpstr (json_object_get_string_member (claims, "scp"), ==,
                   "DeviceManagementManagedDevices.Read.All");
  g_assert_cmpint (json_object_get_int_member (claims, "exp") -
                     json_object_get_int_member (claims, "iat"),
                   ==, 3600);
  id_claims = jwt_claims (json_object_get_string_member (tokens, "id_token"));
  g_assert_cmpstr (json_object_get_string_member (id_claims, "aud"), ==, CLIENT_ID);
  g_assert_cmpstr (json_object_get_string_member (id_claims, "preferred_username"), ==,
                   "dana.whitfield@contoso.example");

  /* A device code is redeemed once. */
  assert_token_error (again, "bad_verification_code");

  /* The token opens Graph. */
  g_free (f->token);
  f->token = g_strdup (json_object_get_string_member (tokens, "access_token"));
  devices = get (f, "/v1.0/deviceManagement/managedDevices?$select=id");
  g_assert_cmpuint (devices->status, ==, 200);
  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (f->tenant, "POST", "/login/{tenant}/oauth2/v2.0/token"), ==,
    4);
}

static void
test_device_code_slow_down (Fixture *f, gconstpointer data)
{
  g_autofree char *device_code = NULL;
  g_autoptr (Response) first = NULL;
  g_autoptr (Response) second = NULL;
  g_autoptr (Response) last = NULL;

  rd_demo_tenant_set_device_code_slow_down (f->tenant, TRUE);
  rd_demo_tenant_set_device_code_pending (f->tenant, 1);
  device_code = start_device_code (f);
  first = poll_device_code (f, device_code);
  second = poll_device_code (f, device_code);
  last = poll_device_code (f, device_code);

  assert_token_error (first, "slow_down");
  assert_token_error (second, "authorization_pending");
  g_assert_cmpuint (last->status, ==, 200);
  g_assert_true (json_object_has_member (object_of (last), "access_token"));
}

static void
test_device_code_failures (Fixture *f, gconstpointer data)
{
  static const struct
  {
    RdDemoDeviceCodeOutcome outcome;
    const char *error;
  } cases[] = {
    { RD_DEMO_DEVICE_CODE_DECLINE, "authorization_declined" },
    { RD_DEMO_DEVICE_CODE_EXPIRE, "expired_token" },
    { RD_DEMO_DEVICE_CODE_BAD_CODE, "bad_verification_code" },
  };
  g_autoptr (Response) unknown = poll_device_code (f, "DAQABAAEAAAD-not-a-code");
  g_autoptr (Response) no_client = post_form (f, "devicecode", "scope", SCOPES, NULL);
  guint i;

  assert_token_error (unknown, "bad_verification_code");
  assert_token_error (no_client, "invalid_request");

  rd_demo_tenant_set_device_code_pending (f->tenant, 0);
  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *device_code = NULL;
      g_autoptr (Response) r = NULL;

      rd_demo_tenant_set_device_code_outcome (f->tenant, cases[i].outcome);
      device_code = start_device_code (f);
      r = poll_device_code (f, device_code);
      assert_token_error (r, cases[i].error);
      g_assert_false (json_object_has_member (object_of (r), "access_token"));
    }

  /* An app registration without public client flows. */
  {
    g_autofree char *device_code = NULL;
    g_autoptr (Response) r = NULL;

    rd_demo_tenant_set_device_code_outcome (f->tenant, RD_DEMO_DEVICE_CODE_APPROVE);
    rd_demo_tenant_set_public_client_flows (f->tenant, FALSE);
    device_code = start_device_code (f);
    r = poll_device_code (f, device_code);
    g_assert_cmpuint (r->status, ==, 401);
    g_assert_cmpstr (json_object_get_string_member (object_of (r), "error"), ==, "invalid_client");
    g_assert_true (g_str_has_prefix (
      json_object_get_string_member (object_of (r), "error_description"), "AADSTS7000218"));
  }
}

static char *
s256 (const char *verifier)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  char *text;

  g_checksum_update (checksum, (const guchar *) verifier, strlen (verifier));
  g_checksum_get_digest (checksum, digest, &len);
  text = g_base64_encode (digest, len);
  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  *strchr (text, '=') = '\0';
  return text;
}

/* Returns the Location of the authorize redirect. */
static char *
authorize (Fixture *f, const char *challenge, const char *redirect_uri)
{
  g_autofree char *query = soup_form_encode ("client_id", CLIENT_ID, "response_type", "code",
                                             "redirect_uri", redirect_uri, "response_mode", "query",
                                             "scope", SCOPES, "state", "st4te-42", "code_challenge",
                                             challenge, "code_challenge_method", "S256", NULL);
  g_autofree char *url = g_strdup_printf ("%s/login/common/oauth2/v2.0/authorize?%s",
                                          rd_demo_tenant_get_base_url (f->tenant), query);
  g_autoptr (Response) r = send_full (f->session, "GET", url, NULL, NULL, NULL, FALSE);

  g_assert_cmpuint (r->status, ==, 302);
  return g_strdup (header (r, "Location"));
}

static GHashTable *
redirect_params (const char *location, const char *expected_prefix)
{
  g_autoptr (GUri) uri = g_uri_parse (location, G_URI_FLAGS_ENCODED, NULL);

  g_assert_true (g_str_has_prefix (location, expected_prefix));
  return g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL);
}

static Response *
redeem (Fixture *f, const char *code, const char *redirect_uri, const char *verifier)
{
  return post_form (f, "token", "grant_type", "authorization_code", "client_id", CLIENT_ID, "scope",
                    SCOPES, "code", code, "redirect_uri", redirect_uri, "code_verifier", verifier,
                    NULL);
}

static void
test_pkce (Fixture *f, gconstpointer data)
{
  const char *redirect = "http://127.0.0.1:43117";
  const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.demo-verifier";
  g_autofree char *challenge = s256 (verifier);
  g_autofree char *location = authorize (f, challenge, redirect);
  g_autoptr (GHashTable) params = redirect_params (location, "http://127.0.0.1:43117/?");
  const char *code = g_hash_table_lookup (params, "code");
  g_autoptr (Response) ok = NULL;
  g_autoptr (Response) reuse = NULL;
  g_autoptr (Response) wrong = NULL;
  g_autofree char *location2 = NULL;
  g_autoptr (GHashTable) params2 = NULL;
  g_autofree char *denied_location = NULL;
  g_autoptr (GHashTable) denied = NULL;

  g_assert_cmpstr (g_hash_table_lookup (params, "state"), ==, "st4te-42");
  g_assert_nonnull (code);

  ok = redeem (f, code, redirect, verifier);
  g_assert_cmpuint (ok->status, ==, 200);
  g_assert_true (json_object_has_member (object_of (ok), "access_token"));
  g_assert_true (json_object_has_member (object_of (ok), "refresh_token"));

  reuse = redeem (f, code, redirect, verifier);
  assert_token_error (reuse, "invalid_grant");

  location2 = authorize (f, challenge, "http://localhost/callback");
  params2 = redirect_params (location2, "http://localhost/callback?");
  wrong = redeem (f, g_hash_table_lookup (params2, "code"), "http://localhost/callback",
                  "not-the-verifier-that-was-hashed-for-this-code-000000");
  assert_token_error (wrong, "invalid_grant");
  g_assert_true (g_str_has_prefix (
    json_object_get_string_member (object_of (wrong), "error_description"), "AADSTS501481"));

  rd_demo_tenant_set_authorize_denied (f->tenant, TRUE);
  denied_location = authorize (f, challenge, redirect);
  denied = redirect_params (denied_location, "http://127.0.0.1:43117/?");
  g_assert_cmpstr (g_hash_table_lookup (denied, "error"), ==, "access_denied");
  g_assert_cmpstr (g_hash_table_lookup (denied, "state"), ==, "st4te-42");
  g_assert_false (g_hash_table_contains (denied, "code"));
}

static void
test_refresh_rotation (Fixture *f, gconstpointer data)
{
  g_autofree char *device_code = NULL;
  g_autoptr (Response) tokens = NULL;
  g_autoptr (Response) refreshed = NULL;
  g_autoptr (Response) reused = NULL;
  g_autoptr (Response) again = NULL;
  g_autoptr (Response) revoked = NULL;
  const char *first_refresh;
  const char *second_refresh;

  rd_demo_tenant_set_device_code_pending (f->tenant, 0);
  device_code = start_device_code (f);
  tokens = poll_device_code (f, device_code);
  first_refresh = json_object_get_string_member (object_of (tokens), "refresh_token");

  refreshed = post_form (f, "token", "grant_type", "refresh_token", "client_id", CLIENT_ID,
                         "refresh_token", first_refresh, "scope", SCOPES, NULL);
  g_assert_cmpuint (refreshed->status, ==, 200);
  second_refresh = json_object_get_string_member (object_of (refreshed), "refresh_token");
  g_assert_nonnull (second_refresh);
  g_assert_cmpstr (second_refresh, !=, first_refresh);
  g_assert_cmpstr (json_object_get_string_member (object_of (refreshed), "access_token"), !=,
                   json_object_get_string_member (object_of (tokens), "access_token"));

  reused = post_form (f, "token", "grant_type", "refresh_token", "client_id", CLIENT_ID,
                      "refresh_token", first_refresh, "scope", SCOPES, NULL);
  assert_token_error (reused, "invalid_grant");

  again = post_form (f, "token", "grant_type", "refresh_token", "client_id", CLIENT_ID,
                     "refresh_token", second_refresh, "scope", SCOPES, NULL);
  g_assert_cmpuint (again->status, ==, 200);

  rd_demo_tenant_revoke_refresh_tokens (f->tenant);
  revoked = post_form (
    f, "token", "grant_type", "refresh_token", "client_id", CLIENT_ID, "refresh_token",
    json_object_get_string_member (object_of (again), "refresh_token"), "scope", SCOPES, NULL);
  assert_token_error (revoked, "invalid_grant");
}

/* Graph */

static void
test_unauthorized (Fixture *f, gconstpointer data)
{
  g_autofree char *good = g_steal_pointer (&f->token);
  g_autoptr (Response) none = NULL;
  g_autoptr (Response) bad = NULL;
  g_autoptr (Response) ok = NULL;
  g_autoptr (Response) expired = NULL;
  JsonObject *inner;

  none = get (f, "/v1.0/deviceManagement/managedDevices");
  g_assert_cmpuint (none->status, ==, 401);
  g_assert_cmpstr (graph_error_code (none), ==, "InvalidAuthenticationToken");
  inner = json_object_get_object_member (json_object_get_object_member (object_of (none), "error"),
                                         "innerError");
  g_assert_cmpstr (json_object_get_string_member (inner, "request-id"), ==,
                   header (none, "request-id"));
  g_assert_true (json_object_has_member (inner, "date"));
  g_assert_cmpstr (header (none, "client-request-id"), ==, "0f4e6a1c-test-4000-8000-000000000001");
  g_assert_true (g_uuid_string_is_valid (header (none, "request-id")));

  f->token = g_strdup ("eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl");
  bad = get (f, "/v1.0/deviceManagement/managedDevices");
  g_assert_cmpuint (bad->status, ==, 401);
  g_assert_cmpstr (graph_error_code (bad), ==, "InvalidAuthenticationToken");

  g_free (f->token);
  f->token = g_steal_pointer (&good);
  ok = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (ok->status, ==, 200);

  rd_demo_tenant_expire_tokens (f->tenant);
  expired = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (expired->status, ==, 401);
  g_assert_nonnull (strstr (graph_error_message (expired), "expired"));
}

static void
test_token_lifetime (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) fresh = NULL;
  g_autoptr (Response) stale = NULL;

  rd_demo_tenant_set_token_lifetime (f->tenant, 0.3);
  g_free (f->token);
  f->token = rd_demo_tenant_issue_access_token (f->tenant);
  fresh = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (fresh->status, ==, 200);
  g_usleep (400 * 1000);
  stale = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (stale->status, ==, 401);
  g_assert_cmpstr (graph_error_code (stale), ==, "InvalidAuthenticationToken");
}

static void
test_select (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) subset = get (f,
                                     "/v1.0/deviceManagement/managedDevices?$select=id,deviceName");
  g_autoptr (Response) unknown = get (f, "/v1.0/deviceManagement/managedDevices?$select=id,colour");
  g_autoptr (Response) beta_on_v1 = get (f,
                                         "/v1.0/deviceManagement/managedDevices?$select=joinType");
  g_autoptr (Response) beta = get (
    f, "/beta/deviceManagement/managedDevices?$select=id,joinType,managementState");
  g_autoptr (Response) full = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  JsonArray *value = value_of (subset);
  guint i;

  g_assert_cmpuint (subset->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (value), ==, rd_demo_tenant_get_n_devices (f->tenant));
  for (i = 0; i < json_array_get_length (value); i++)
    {
      JsonObject *device = json_array_get_object_element (value, i);

      g_assert_cmpuint (json_object_get_size (device), ==, 2);
      g_assert_true (json_object_has_member (device, "deviceName"));
    }
  g_assert_cmpuint (unknown->status, ==, 400);
  g_assert_nonnull (strstr (graph_error_message (unknown), "'colour'"));
  g_assert_cmpuint (beta_on_v1->status, ==, 400);
  g_assert_cmpuint (beta->status, ==, 200);
  g_assert_cmpuint (json_object_get_size (json_array_get_object_element (value_of (beta), 0)), ==,
                    3);
  g_assert_true (
    json_object_has_member (json_array_get_object_element (value_of (full), 0), "azureADDeviceId"));
  g_assert_false (
    json_object_has_member (json_array_get_object_element (value_of (full), 0), "joinType"));
}

static GPtrArray *
fetch_all (Fixture *f, const char *path, guint *n_pages)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *next = g_strdup (path);

  *n_pages = 0;
  while (next != NULL)
    {
      g_autoptr (Response) r = get (f, next);
      JsonArray *value;
      guint i;

      g_assert_no_error (r->error);
      g_assert_cmpuint (r->status, ==, 200);
      value = value_of (r);
      for (i = 0; i < json_array_get_length (value); i++)
        g_ptr_array_add (ids, g_strdup (json_object_get_string_member (
                                json_array_get_object_element (value, i), "id")));
      (*n_pages)++;
      g_free (next);
      next = g_strdup (
        json_object_get_string_member_with_default (object_of (r), "@odata.nextLink", NULL));
      if (next != NULL)
        {
          g_assert_true (g_str_has_prefix (next, rd_demo_tenant_get_base_url (f->tenant)));
          g_assert_nonnull (strstr (next, "$skiptoken="));
        }
    }
  return ids;
}

static void
test_paging (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) ids = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (Response) bad_token = NULL;
  guint n = rd_demo_tenant_get_n_devices (f->tenant);
  guint pages;
  guint i;

  g_assert_cmpuint (n, >=, 40);
  rd_demo_tenant_set_page_size (f->tenant, 7);
  ids = fetch_all (f, "/v1.0/deviceManagement/managedDevices?$select=id,serialNumber", &pages);
  g_assert_cmpuint (ids->len, ==, n);
  g_assert_cmpuint (pages, ==, (n + 6) / 7);
  for (i = 0; i < ids->len; i++)
    g_assert_true (g_hash_table_add (seen, g_ptr_array_index (ids, i)));

  bad_token = get (f, "/v1.0/deviceManagement/managedDevices?$skiptoken=Zm9vYmFy");
  g_assert_cmpuint (bad_token->status, ==, 400);
}

static void
test_top_and_filter (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) top = get (f, "/v1.0/deviceManagement/managedDevices?$top=5&$select=id");
  g_autoptr (Response) all = get (
    f, "/v1.0/deviceManagement/managedDevices?$select=id,operatingSystem,serialNumber");
  g_autoptr (Response) windows = get (
    f, "/v1.0/deviceManagement/"
       "managedDevices?$select=id,operatingSystem&$filter=operatingSystem%20eq%20'Windows'");
  g_autoptr (Response) bad = get (
    f, "/v1.0/deviceManagement/managedDevices?$filter=operatingSystem%20gt%20'W'");
  g_autoptr (Response) serial = NULL;
  g_autofree char *serial_path = NULL;
  JsonArray *value = value_of (all);
  guint n_windows = 0;
  guint i;
  const char *a_serial = NULL;

  g_assert_cmpuint (json_array_get_length (value_of (top)), ==, 5);
  g_assert_true (json_object_has_member (object_of (top), "@odata.nextLink"));
  g_assert_nonnull (
    strstr (json_object_get_string_member (object_of (top), "@odata.nextLink"), "$top=5"));

  for (i = 0; i < json_array_get_length (value); i++)
    {
      JsonObject *device = json_array_get_object_element (value, i);

      if (g_str_equal (json_object_get_string_member (device, "operatingSystem"), "Windows"))
        n_windows++;
      if (i == 7)
        a_serial = json_object_get_string_member (device, "serialNumber");
    }
  g_assert_cmpuint (n_windows, >, 0);
  g_assert_cmpuint (n_windows, <, json_array_get_length (value));
  g_assert_cmpuint (json_array_get_length (value_of (windows)), ==, n_windows);
  for (i = 0; i < n_windows; i++)
    g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (value_of (windows), i), "operatingSystem"),
                     ==, "Windows");
  g_assert_cmpuint (bad->status, ==, 400);

  serial_path = g_strdup_printf (
    "/v1.0/deviceManagement/managedDevices?$filter=serialNumber%%20eq%%20'%s'", a_serial);
  serial = get (f, serial_path);
  g_assert_cmpuint (json_array_get_length (value_of (serial)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (
                     json_array_get_object_element (value_of (serial), 0), "serialNumber"),
                   ==, a_serial);
}

static void
test_bitlocker (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) list = get (f, "/v1.0/informationProtection/bitlocker/recoveryKeys");
  g_autoptr (Response) top = get (f, "/v1.0/informationProtection/bitlocker/recoveryKeys?$top=5");
  g_autoptr (Response) filtered = NULL;
  g_autoptr (Response) single = NULL;
  g_autoptr (Response) forbidden = NULL;
  g_autoptr (GPtrArray) paged = NULL;
  g_autofree char *path = NULL;
  JsonArray *value = value_of (list);
  JsonObject *key;
  guint pages;
  guint i;

  g_assert_cmpuint (list->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (value), >, 30);
  for (i = 0; i < json_array_get_length (value); i++)
    {
      key = json_array_get_object_element (value, i);
      g_assert_false (json_object_has_member (key, "key"));
      g_assert_true (json_object_has_member (key, "deviceId"));
      g_assert_true (json_object_has_member (key, "createdDateTime"));
      g_assert_true (g_str_equal (json_object_get_string_member (key, "volumeType"), "1") ||
                     g_str_equal (json_object_get_string_member (key, "volumeType"), "2"));
    }
  g_assert_cmpuint (top->status, ==, 400);
  g_assert_nonnull (strstr (graph_error_message (top), "'Top'"));

  key = json_array_get_object_element (value, 3);
  path = g_strdup_printf (
    "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId%%20eq%%20'%s'",
    json_object_get_string_member (key, "deviceId"));
  filtered = get (f, path);
  g_assert_cmpuint (json_array_get_length (value_of (filtered)), >=, 1);
  for (i = 0; i < json_array_get_length (value_of (filtered)); i++)
    g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (value_of (filtered), i), "deviceId"),
                     ==, json_object_get_string_member (key, "deviceId"));

  g_free (path);
  path = g_strdup_printf ("/v1.0/informationProtection/bitlocker/recoveryKeys/%s?$select=key",
                          json_object_get_string_member (key, "id"));
  single = get (f, path);
  g_assert_cmpuint (single->status, ==, 200);
  g_assert_cmpuint (strlen (json_object_get_string_member (object_of (single), "key")), ==, 55);

  rd_demo_tenant_set_page_size (f->tenant, 10);
  paged = fetch_all (f, "/v1.0/informationProtection/bitlocker/recoveryKeys", &pages);
  g_assert_cmpuint (paged->len, ==, json_array_get_length (value));
  g_assert_cmpuint (pages, ==, (paged->len + 9) / 10);

  rd_demo_tenant_set_forbidden (f->tenant, RD_DEMO_SOURCE_BITLOCKER_KEYS);
  forbidden = get (f, "/v1.0/informationProtection/bitlocker/recoveryKeys");
  g_assert_cmpuint (forbidden->status, ==, 403);
  g_assert_nonnull (strstr (graph_error_message (forbidden), "BitLockerKey.ReadBasic.All"));
}

static void
test_autopilot (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) contains = get (
    f, "/v1.0/deviceManagement/"
       "windowsAutopilotDeviceIdentities?$filter=contains(serialNumber,'pf3kx7')");
  g_autoptr (Response) eq = get (
    f, "/v1.0/deviceManagement/"
       "windowsAutopilotDeviceIdentities?$filter=serialNumber%20eq%20'PF3KX7AB'");
  g_autoptr (Response) forbidden = NULL;
  g_autoptr (JsonNode) inner_message = NULL;
  JsonArray *value = value_of (contains);

  g_assert_cmpuint (contains->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (value), ==, 1);
  /* Intune reports this serial in lower case; Autopilot has it upper case. */
  g_assert_cmpstr (
    json_object_get_string_member (json_array_get_object_element (value, 0), "serialNumber"), ==,
    "PF3KX7AB");

  g_assert_cmpuint (eq->status, ==, 400);
  inner_message = json_from_string (graph_error_message (eq), NULL);
  g_assert_nonnull (inner_message);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (inner_message), "_version"),
                   ==, 3);

  rd_demo_tenant_set_forbidden (f->tenant, RD_DEMO_SOURCE_AUTOPILOT);
  forbidden = get (f, "/v1.0/deviceManagement/windowsAutopilotDeviceIdentities");
  g_assert_cmpuint (forbidden->status, ==, 403);
  g_assert_nonnull (
    strstr (graph_error_message (forbidden), "DeviceManagementServiceConfig.Read.All"));
}

static void
test_encryption_states (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) beta = get (f, "/beta/deviceManagement/managedDeviceEncryptionStates");
  g_autoptr (Response) v1 = get (f, "/v1.0/deviceManagement/managedDeviceEncryptionStates");
  g_autoptr (Response) forbidden = NULL;
  JsonArray *value = value_of (beta);
  gboolean winre = FALSE;
  gboolean tpm12 = FALSE;
  gboolean not_encrypted = FALSE;
  guint i;

  g_assert_cmpuint (beta->status, ==, 200);
  for (i = 0; i < json_array_get_length (value); i++)
    {
      JsonObject *state = json_array_get_object_element (value, i);

      g_assert_true (json_object_has_member (state, "encryptionReadinessState"));
      winre |= strstr (json_object_get_string_member (state, "advancedBitLockerStates"),
                       "windowsRecoveryEnvironmentNotConfigured") != NULL;
      tpm12 |= g_strcmp0 (json_object_get_string_member (state, "tpmSpecificationVersion"),
                          "1.2") == 0;
      not_encrypted |= g_str_equal (json_object_get_string_member (state, "encryptionState"),
                                    "notEncrypted");
    }
  g_assert_true (winre);
  g_assert_true (tpm12);
  g_assert_true (not_encrypted);
  g_assert_cmpuint (v1->status, ==, 400);

  rd_demo_tenant_set_forbidden (f->tenant, RD_DEMO_SOURCE_ENCRYPTION_STATES);
  forbidden = get (f, "/beta/deviceManagement/managedDeviceEncryptionStates");
  g_assert_cmpuint (forbidden->status, ==, 403);
  g_assert_nonnull (
    strstr (graph_error_message (forbidden), "DeviceManagementConfiguration.Read.All"));
}

static char *
device_id_by_name (Fixture *f, const char *name)
{
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strdup_printf (
    "/beta/deviceManagement/managedDevices?$select=id&$filter=deviceName%%20eq%%20'%s'", escaped);
  g_autoptr (Response) r = get (f, path);

  g_assert_cmpuint (json_array_get_length (value_of (r)), ==, 1);
  return g_strdup (
    json_object_get_string_member (json_array_get_object_element (value_of (r), 0), "id"));
}

static JsonObject *
get_device (Fixture *f, const char *id)
{
  g_autofree char *path = g_strdup_printf ("/beta/deviceManagement/managedDevices/%s", id);
  g_autoptr (Response) r = get (f, path);

  g_assert_cmpuint (r->status, ==, 200);
  return json_object_ref (object_of (r));
}

static void
test_wipe (Fixture *f, gconstpointer data)
{
  g_autofree char *id = device_id_by_name (f, "CON-LT-0100");
  g_autofree char *pending_id = device_id_by_name (f, "CON-LT-0275");
  g_autofree char *wipe_path = g_strdup_printf ("/v1.0/deviceManagement/managedDevices/%s/wipe",
                                                id);
  g_autofree char *pending_path = g_strdup_printf ("/v1.0/deviceManagement/managedDevices/%s/wipe",
                                                   pending_id);
  const char *body = "{\"keepEnrollmentData\": true, \"keepUserData\": true}";
  g_autoptr (Response) bad_type = NULL;
  g_autoptr (Response) bad_param = NULL;
  g_autoptr (Response) first = NULL;
  g_autoptr (Response) second = NULL;
  g_autoptr (Response) seeded = NULL;
  g_autoptr (Response) missing = NULL;
  g_autoptr (JsonObject) during = NULL;
  g_autoptr (JsonObject) after = NULL;
  g_autoptr (GPtrArray) wipes = NULL;
  JsonObject *result;
  const RdDemoWipeRequest *accepted;

  rd_demo_tenant_set_action_duration (f->tenant, 400);
  bad_type = post_json (f, wipe_path, "{\"keepUserData\": \"yes\"}");
  bad_param = post_json (f, wipe_path, "{\"keepEverything\": true}");
  first = post_json (f, wipe_path, body);
  second = post_json (f, wipe_path, body);
  seeded = post_json (f, pending_path, body);
  missing = post_json (
    f, "/v1.0/deviceManagement/managedDevices/00000000-0000-0000-0000-000000000000/wipe", body);
  g_assert_cmpuint (bad_type->status, ==, 400);
  g_assert_cmpuint (bad_param->status, ==, 400);
  g_assert_cmpuint (first->status, ==, 204);
  g_assert_nonnull (header (first, "request-id"));
  g_assert_cmpuint (second->status, ==, 409);
  g_assert_cmpstr (graph_error_code (second), ==, "Conflict");
  g_assert_cmpuint (seeded->status, ==, 409);
  g_assert_cmpuint (missing->status, ==, 404);

  during = get_device (f, id);
  g_assert_cmpstr (json_object_get_string_member (during, "managementState"), ==, "wipePending");
  result = json_array_get_object_element (
    json_object_get_array_member (during, "deviceActionResults"), 0);
  g_assert_cmpstr (json_object_get_string_member (result, "actionName"), ==, "wipe");
  g_assert_cmpstr (json_object_get_string_member (result, "actionState"), ==, "pending");

  g_usleep (500 * 1000);
  after = get_device (f, id);
  result = json_array_get_object_element (
    json_object_get_array_member (after, "deviceActionResults"), 0);
  g_assert_cmpstr (json_object_get_string_member (result, "actionState"), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (after, "managementState"), ==, "managed");

  g_assert_cmpuint (rd_demo_tenant_get_request_count (f->tenant, "POST",
                                                      "/deviceManagement/managedDevices/{id}/wipe"),
                    ==, 6);
  wipes = rd_demo_tenant_dup_wipe_requests (f->tenant);
  g_assert_cmpuint (wipes->len, ==, 6);
  accepted = g_ptr_array_index (wipes, 2);
  g_assert_cmpstr (accepted->device_id, ==, id);
  g_assert_cmpstr (accepted->body, ==, body);
  g_assert_cmpint (accepted->status, ==, 204);
  g_assert_cmpint (((RdDemoWipeRequest *) g_ptr_array_index (wipes, 3))->status, ==, 409);
}

/* The knob that makes one device's wipe fail, as Intune refuses it. */
static void
test_wipe_failure (Fixture *f, gconstpointer data)
{
  g_autofree char *id = device_id_by_name (f, "CON-LT-0100");
  g_autofree char *other_id = device_id_by_name (f, "CON-LT-0311");
  g_autofree char *wipe_path = g_strdup_printf ("/v1.0/deviceManagement/managedDevices/%s/wipe",
                                                id);
  g_autofree char *other_path = g_strdup_printf ("/v1.0/deviceManagement/managedDevices/%s/wipe",
                                                 other_id);
  const char *body = "{\"keepEnrollmentData\": true, \"keepUserData\": true}";
  g_autoptr (Response) bad_param = NULL;
  g_autoptr (Response) refused = NULL;
  g_autoptr (Response) other = NULL;
  g_autoptr (Response) again = NULL;
  g_autoptr (JsonObject) after_refusal = NULL;
  g_autoptr (JsonObject) after_clear = NULL;
  g_autoptr (GPtrArray) wipes = NULL;
  JsonObject *inner;

  rd_demo_tenant_set_action_failure (f->tenant, id, 403, "Forbidden",
                                     "Application is not authorized to perform this operation.");
  bad_param = post_json (f, wipe_path, "{\"keepEverything\": true}");
  refused = post_json (f, wipe_path, body);
  other = post_json (f, other_path, body);

  /* A malformed body is still a 400: the knob stands in for Intune's verdict. */
  g_assert_cmpuint (bad_param->status, ==, 400);
  g_assert_cmpuint (refused->status, ==, 403);
  g_assert_cmpstr (graph_error_code (refused), ==, "Forbidden");
  g_assert_cmpstr (graph_error_message (refused), ==,
                   "Application is not authorized to perform this operation.");
  g_assert_nonnull (header (refused, "request-id"));
  inner = json_object_get_object_member (
    json_object_get_object_member (object_of (refused), "error"), "innerError");
  g_assert_cmpstr (json_object_get_string_member (inner, "request-id"), ==,
                   header (refused, "request-id"));
  g_assert_cmpuint (other->status, ==, 204);

  /* The refused device was left alone. */
  after_refusal = get_device (f, id);
  g_assert_cmpstr (json_object_get_string_member (after_refusal, "managementState"), !=,
                   "wipePending");

  rd_demo_tenant_set_action_failure (f->tenant, id, 0, NULL, NULL);
  again = post_json (f, wipe_path, body);
  g_assert_cmpuint (again->status, ==, 204);
  after_clear = get_device (f, id);
  g_assert_cmpstr (json_object_get_string_member (after_clear, "managementState"), ==,
                   "wipePending");

  wipes = rd_demo_tenant_dup_wipe_requests (f->tenant);
  g_assert_cmpuint (wipes->len, ==, 4);
  g_assert_cmpint (((RdDemoWipeRequest *) g_ptr_array_index (wipes, 1))->status, ==, 403);
  g_assert_cmpstr (((RdDemoWipeRequest *) g_ptr_array_index (wipes, 1))->device_id, ==, id);
  g_assert_cmpint (((RdDemoWipeRequest *) g_ptr_array_index (wipes, 3))->status, ==, 204);
}

static void
test_sync_device (Fixture *f, gconstpointer data)
{
  g_autofree char *id = device_id_by_name (f, "CON-LT-0311");
  g_autofree char *path = g_strdup_printf ("/v1.0/deviceManagement/managedDevices/%s/syncDevice",
                                           id);
  g_autoptr (JsonObject) before = get_device (f, id);
  g_autoptr (Response) sync = post_json (f, path, NULL);
  g_autoptr (JsonObject) after = get_device (f, id);
  g_autoptr (GDateTime) stale = NULL;
  g_autoptr (GDateTime) fresh = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  g_assert_cmpuint (sync->status, ==, 204);
  stale = g_date_time_new_from_iso8601 (json_object_get_string_member (before, "lastSyncDateTime"),
                                        NULL);
  fresh = g_date_time_new_from_iso8601 (json_object_get_string_member (after, "lastSyncDateTime"),
                                        NULL);
  /* The bundled data keeps this device six weeks stale, whatever today is. */
  g_assert_cmpint (g_date_time_difference (now, stale), >, 40 * G_TIME_SPAN_DAY);
  g_assert_cmpint (g_date_time_difference (now, fresh), <, 5 * G_TIME_SPAN_SECOND);
}

static void
test_batch (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) big = g_string_new ("{\"requests\":[");
  g_autoptr (Response) too_many = NULL;
  g_autoptr (Response) depends = NULL;
  g_autoptr (Response) mixed = NULL;
  JsonArray *responses;
  guint i;

  for (i = 0; i < 25; i++)
    g_string_append_printf (
      big,
      "%s{\"id\":\"%u\",\"method\":\"GET\",\"url\":\"/deviceManagement/managedDevices?$top=1\"}",
      i > 0 ? "," : "", i + 1);
  g_string_append (big, "]}");
  too_many = post_json (f, "/v1.0/$batch", big->str);
  g_assert_cmpuint (too_many->status, ==, 400);
  g_assert_cmpstr (graph_error_code (too_many), ==, "BadRequest");

  depends = post_json (
    f, "/v1.0/$batch",
    "{\"requests\":["
    "{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/deviceManagement/managedDevices/nope/wipe\","
    "\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"keepUserData\":true}},"
    "{\"id\":\"2\",\"dependsOn\":[\"1\"],\"method\":\"POST\",\"url\":\"/deviceManagement/"
    "managedDevices/nope/syncDevice\"}"
    "]}");
  g_assert_cmpuint (depends->status, ==, 200);
  responses = json_object_get_array_member (object_of (depends), "responses");
  g_assert_cmpuint (json_array_get_length (responses), ==, 2);
  g_assert_cmpint (
    json_object_get_int_member (json_array_get_object_element (responses, 0), "status"), ==, 404);
  g_assert_cmpint (
    json_object_get_int_member (json_array_get_object_element (responses, 1), "status"), ==, 424);
  /* The failed dependency never ran. */
  g_assert_cmpuint (rd_demo_tenant_get_request_count (
                      f->tenant, "POST", "/deviceManagement/managedDevices/{id}/syncDevice"),
                    ==, 1);

  rd_demo_tenant_set_throttle (f->tenant, 3, 2.5);
  mixed = post_json (f, "/v1.0/$batch",
                     "{\"requests\":["
                     "{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/deviceManagement/"
                     "managedDevices?$top=2&$select=id\"},"
                     "{\"id\":\"b\",\"method\":\"GET\",\"url\":\"deviceManagement/"
                     "windowsAutopilotDeviceIdentities?$top=1\"}"
                     "]}");
  /* Outer request 1, inner a 2, inner b 3: b is throttled on its own. */
  g_assert_cmpuint (mixed->status, ==, 200);
  responses = json_object_get_array_member (object_of (mixed), "responses");
  {
    JsonObject *a = json_array_get_object_element (responses, 0);
    JsonObject *b = json_array_get_object_element (responses, 1);

    g_assert_cmpint (json_object_get_int_member (a, "status"), ==, 200);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                        json_object_get_object_member (a, "body"), "value")),
                      ==, 2);
    g_assert_cmpint (json_object_get_int_member (b, "status"), ==, 429);
    g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (b, "headers"), "Retry-After"),
      ==, "2.5");
  }
}

/* Fault knobs */

static void
test_throttle_and_unavailable (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) one = NULL;
  g_autoptr (Response) two = NULL;
  g_autoptr (Response) three = NULL;
  g_autoptr (Response) four = NULL;

  rd_demo_tenant_set_throttle (f->tenant, 2, 1.75);
  one = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  two = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (one->status, ==, 200);
  g_assert_cmpuint (two->status, ==, 429);
  g_assert_cmpstr (header (two, "Retry-After"), ==, "1.75");
  g_assert_cmpstr (graph_error_code (two), ==, "TooManyRequests");
  g_assert_nonnull (header (two, "request-id"));

  rd_demo_tenant_set_throttle (f->tenant, 0, 0);
  rd_demo_tenant_set_unavailable (f->tenant, 2);
  three = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  four = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (three->status, ==, 200);
  g_assert_cmpuint (four->status, ==, 503);
  g_assert_cmpstr (graph_error_code (four), ==, "serviceNotAvailable");
}

static void
test_drop_connection (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) dropped = NULL;
  g_autoptr (Response) after = NULL;

  rd_demo_tenant_set_drop_connection (f->tenant, 1);
  dropped = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_nonnull (dropped->error);
  g_assert_true (dropped->error->domain == G_IO_ERROR);
  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (f->tenant, "GET", "/deviceManagement/managedDevices"), >=, 1);

  rd_demo_tenant_set_drop_connection (f->tenant, 0);
  after = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_no_error (after->error);
  g_assert_cmpuint (after->status, ==, 200);
}

static void
test_malformed_page (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) first = NULL;
  g_autoptr (Response) second = NULL;

  rd_demo_tenant_set_page_size (f->tenant, 10);
  rd_demo_tenant_set_malformed_page (f->tenant, 2);
  first = get (f, "/v1.0/deviceManagement/managedDevices?$select=id");
  g_assert_nonnull (first->json);
  second = get (f, json_object_get_string_member (object_of (first), "@odata.nextLink"));
  g_assert_cmpuint (second->status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (second->body), >, 0);
  g_assert_null (second->json);
}

static void
test_latency (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) r = NULL;
  gint64 start;

  rd_demo_tenant_set_latency (f->tenant, 250);
  start = g_get_monotonic_time ();
  r = get (f, "/v1.0/deviceManagement/managedDevices?$top=1");
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250 * 1000);
}

/* Data */

static JsonObject *
find_by_name (JsonArray *devices, const char *name)
{
  guint i;

  for (i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);

      if (g_strcmp0 (json_object_get_string_member (device, "deviceName"), name) == 0)
        return device;
    }
  g_error ("no device named %s", name);
  return NULL;
}

static void
test_bundled_data (Fixture *f, gconstpointer data)
{
  g_autoptr (Response) r = get (f, "/beta/deviceManagement/managedDevices");
  JsonArray *devices = value_of (r);
  JsonObject *d;

  g_assert_cmpuint (json_array_get_length (devices), >=, 40);
  d = find_by_name (devices, "CON-HYB-0142");
  g_assert_cmpstr (json_object_get_string_member (d, "joinType"), ==, "hybridAzureADJoined");
  d = find_by_name (devices, "CON-SCCM-0077");
  g_assert_cmpstr (json_object_get_string_member (d, "managementAgent"), ==,
                   "configurationManagerClientMdm");
  d = find_by_name (devices, "SANNA-SURFACE");
  g_assert_cmpstr (json_object_get_string_member (d, "joinType"), ==, "azureADRegistered");
  d = find_by_name (devices, "DESKTOP-7H2KQ1M");
  g_assert_cmpstr (json_object_get_string_member (d, "managedDeviceOwnerType"), ==, "personal");
  d = find_by_name (devices, "CON-KIOSK-02");
  g_assert_cmpstr (json_object_get_string_member (d, "osVersion"), ==, "10.0.15063.2679");
  d = find_by_name (devices, "CON-LAB-0007");
  g_assert_cmpstr (json_object_get_string_member (d, "osVersion"), ==, "10.0.17134.1304");
  d = find_by_name (devices, "CON-LT-0420");
  g_assert_false (json_object_get_boolean_member (d, "isEncrypted"));
  d = find_by_name (devices, "CON-LT-0275");
  g_assert_cmpstr (json_object_get_string_member (d, "managementState"), ==, "wipePending");
  d = find_by_name (devices, "RÉCEPTION-ÅSA-01");
  g_assert_nonnull (d);
  d = find_by_name (devices, "CON-SHARED-05");
  g_assert_true (json_object_get_null_member (d, "userPrincipalName"));
  d = find_by_name (devices, "CON-EAS-LEGACY");
  g_assert_cmpstr (json_object_get_string_member (d, "managementAgent"), ==, "eas");
  d = find_by_name (devices, "MBP-DESIGN-04");
  g_assert_cmpstr (json_object_get_string_member (d, "operatingSystem"), ==, "macOS");
  d = find_by_name (devices, "CON-LT-0618");
  g_assert_cmpstr (json_object_get_string_member (d, "serialNumber"), ==, "pf3kx7ab");
}

static void
test_load_errors (void)
{
  g_autoptr (RdDemoTenant) tenant = rd_demo_tenant_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  int fd;

  fd = g_file_open_tmp ("rd-demo-XXXXXX.json", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (
    path, "{\"managedDevices\":[{\"id\":\"1\",\"colour\":\"red\"}]}", -1, &error));
  g_assert_false (rd_demo_tenant_load (tenant, path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (
    path, "{\"managedDevices\":[{\"id\":\"1\",\"deviceName\":\"X\"}]}", -1, &error));
  g_assert_true (rd_demo_tenant_load (tenant, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rd_demo_tenant_get_n_devices (tenant), ==, 1);
  g_unlink (path);
}

static void
test_generator (void)
{
  g_autoptr (RdDemoTenant) tenant = rd_demo_tenant_new ();
  g_autoptr (RdDemoTenant) twin = rd_demo_tenant_new ();
  g_autoptr (RdDemoTenant) other = rd_demo_tenant_new ();
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GError) error = NULL;
  Fixture f = { 0 };
  Fixture g = { 0 };
  Fixture h = { 0 };
  g_autoptr (Response) first = NULL;
  g_autoptr (Response) twin_first = NULL;
  g_autoptr (Response) other_first = NULL;
  g_autoptr (GPtrArray) ids = NULL;
  guint pages;
  gint64 start;
  gint64 elapsed;

  start = g_get_monotonic_time ();
  rd_demo_tenant_generate (tenant, 100000, 7);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("generated 100,000 devices in %.3f s", elapsed / 1e6);
  /* How fast is a benchmark's business (bench/sync-100k), not a test's. */
  g_assert_cmpuint (rd_demo_tenant_get_n_devices (tenant), ==, 100000);
  rd_demo_tenant_generate (twin, 100000, 7);
  rd_demo_tenant_generate (other, 100000, 8);

  g_assert_true (rd_demo_tenant_start (tenant, &error));
  g_assert_true (rd_demo_tenant_start (twin, &error));
  g_assert_true (rd_demo_tenant_start (other, &error));
  f.tenant = tenant;
  f.session = session;
  f.token = rd_demo_tenant_issue_access_token (tenant);
  g.tenant = twin;
  g.session = session;
  g.token = rd_demo_tenant_issue_access_token (twin);
  h.tenant = other;
  h.session = session;
  h.token = rd_demo_tenant_issue_access_token (other);

  first = get (&f,
               "/v1.0/deviceManagement/managedDevices?$select=id,deviceName,serialNumber&$top=50");
  twin_first = get (
    &g, "/v1.0/deviceManagement/managedDevices?$select=id,deviceName,serialNumber&$top=50");
  other_first = get (
    &h, "/v1.0/deviceManagement/managedDevices?$select=id,deviceName,serialNumber&$top=50");
  g_assert_true (json_array_equal (value_of (first), value_of (twin_first)));
  g_assert_false (json_array_equal (value_of (first), value_of (other_first)));

  start = g_get_monotonic_time ();
  ids = fetch_all (
    &f,
    "/v1.0/deviceManagement/"
    "managedDevices?$select=id,deviceName,serialNumber,azureADDeviceId,osVersion,lastSyncDateTime",
    &pages);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("paged 100,000 devices in %u pages in %.3f s", pages, elapsed / 1e6);
  g_assert_cmpuint (pages, ==, 100);
  g_assert_cmpuint (ids->len, ==, 100000);

  g_free (f.token);
  g_free (g.token);
  g_free (h.token);
  rd_demo_tenant_stop (tenant);
  rd_demo_tenant_stop (twin);
  rd_demo_tenant_stop (other);
}

static void
test_stop (void)
{
  g_autoptr (RdDemoTenant) tenant = rd_demo_tenant_new ();
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  g_autoptr (Response) before = NULL;
  g_autoptr (Response) after = NULL;
  guint threads = count_threads ();

  /* Start and stop at once must not hang or leak the thread. */
  g_assert_true (rd_demo_tenant_start (tenant, &error));
  rd_demo_tenant_stop (tenant);
  g_assert_cmpuint (count_threads (), ==, threads);

  g_assert_true (rd_demo_tenant_start (tenant, &error));
  g_assert_no_error (error);
  g_assert_true (rd_demo_tenant_is_running (tenant));
  g_assert_cmpuint (count_threads (), >, threads);
  url = g_strconcat (rd_demo_tenant_get_base_url (tenant), "/v1.0/deviceManagement/managedDevices",
                     NULL);
  before = send_full (session, "GET", url, NULL, NULL, NULL, TRUE);
  g_assert_cmpuint (before->status, ==, 401);

  rd_demo_tenant_stop (tenant);
  g_assert_false (rd_demo_tenant_is_running (tenant));
  g_assert_null (rd_demo_tenant_get_base_url (tenant));
  rd_demo_tenant_stop (tenant);
  g_assert_cmpuint (count_threads (), ==, threads);

  g_clear_object (&session);
  session = soup_session_new ();
  after = send_full (session, "GET", url, NULL, NULL, NULL, TRUE);
  g_assert_error (after->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func)                                                                            \
  g_test_add ("/rd/demo-tenant/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("device-code/approve", test_device_code_approve);
  ADD ("device-code/slow-down", test_device_code_slow_down);
  ADD ("device-code/failures", test_device_code_failures);
  ADD ("pkce", test_pkce);
  ADD ("refresh-rotation", test_refresh_rotation);
  ADD ("unauthorized", test_unauthorized);
  ADD ("token-lifetime", test_token_lifetime);
  ADD ("select", test_select);
  ADD ("paging", test_paging);
  ADD ("top-and-filter", test_top_and_filter);
  ADD ("bitlocker", test_bitlocker);
  ADD ("autopilot", test_autopilot);
  ADD ("encryption-states", test_encryption_states);
  ADD ("wipe", test_wipe);
  ADD ("faults/wipe-failure", test_wipe_failure);
  ADD ("sync-device", test_sync_device);
  ADD ("batch", test_batch);
  ADD ("faults/throttle-unavailable", test_throttle_and_unavailable);
  ADD ("faults/drop-connection", test_drop_connection);
  ADD ("faults/malformed-page", test_malformed_page);
  ADD ("faults/latency", test_latency);
  ADD ("bundled-data", test_bundled_data);
  g_test_add_func ("/rd/demo-tenant/load-errors", test_load_errors);
  g_test_add_func ("/rd/demo-tenant/generator", test_generator);
  g_test_add_func ("/rd/demo-tenant/stop", test_stop);

  return g_test_run ();
}
