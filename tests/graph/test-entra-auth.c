/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-demo-tenant.h"
#include "rd-entra-auth.h"
#include "rd-entra-auth-private.h"
#include "rd-graph-error.h"
#include "rd-jwt.h"
#include "rd-pkce.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <libsoup/soup.h>
#include <string.h>

/* Device-code intervals are seconds; the tests run them at 1/100. */
#define POLL_SCALE 0.01

/* A login endpoint that answers like Entra ID, scripted per test: devicecode,
 * token (device code, authorization code with PKCE S256, refresh token with
 * rotation) and authorize (an instant approval as a 302 to the redirect
 * URI). It keeps every secret it issues or receives, so that a test can look
 * for them where they must not be. */

typedef enum
{
  OUTCOME_APPROVE,
  OUTCOME_DECLINE,
  OUTCOME_EXPIRE,
  OUTCOME_BAD_CODE,
} Outcome;

typedef struct
{
  guint pending_left;
  gboolean slow_down;
  Outcome outcome;
} DeviceCodeState;

typedef struct
{
  char *challenge;
  char *redirect_uri;
} AuthCodeState;

typedef struct
{
  SoupServer *server;
  char *login_url;

  /* Knobs */
  int interval;
  guint pending;
  gboolean slow_down;
  Outcome outcome;
  gboolean public_client_flows;
  gboolean authorize_denied;
  int token_lifetime;

  GHashTable *device_codes;   /* device_code -> DeviceCodeState */
  GHashTable *auth_codes;     /* code -> AuthCodeState */
  GHashTable *refresh_tokens; /* valid refresh tokens */
  GPtrArray *secrets;         /* everything secret that passed through */
  GArray *poll_times;         /* gint64, device-code polls */
  guint n_token_requests;
  guint n_refresh_requests;
  char *last_refresh_token;
} FakeLogin;

#define FAKE_TENANT_ID "8a1d7c4e-55aa-4f0e-9c1b-1e2f3a4b5c6d"
#define FAKE_UPN       "ada@contoso.example"
#define FAKE_NAME      "Ada Lovelace"

static void
auth_code_state_free (AuthCodeState *state)
{
  g_free (state->challenge);
  g_free (state->redirect_uri);
  g_free (state);
}

static char *
fake_secret (FakeLogin  *fake,
             const char *prefix)
{
  g_autofree char *random = rd_pkce_new_random_string (32);
  char *secret = g_strconcat (prefix, random, NULL);

  g_ptr_array_add (fake->secrets, g_strdup (secret));
  return secret;
}

static char *
make_jwt (FakeLogin  *fake,
          const char *payload)
{
  g_autofree char *header = NULL;
  g_autofree char *body = NULL;
  g_autofree char *signature = rd_pkce_new_random_string (32);
  const char *header_json = "{\"typ\":\"JWT\",\"alg\":\"RS256\"}";
  char *jwt;

  header = rd_base64url_encode ((const guint8 *) header_json, strlen (header_json));
  body = rd_base64url_encode ((const guint8 *) payload, strlen (payload));
  jwt = g_strdup_printf ("%s.%s.%s", header, body, signature);
  g_ptr_array_add (fake->secrets, g_strdup (jwt));

  return jwt;
}

static void
reply_json (SoupServerMessage *msg,
            guint              status,
            char              *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_TAKE, json,
                                    strlen (json));
}

static void
reply_error (SoupServerMessage *msg,
             guint              status,
             const char        *error,
             guint              aadsts,
             const char        *description)
{
  reply_json (msg, status,
              g_strdup_printf ("{\"error\":\"%s\",\"error_description\":\"AADSTS%u: %s\\r\\n"
                               "Trace ID: 0000\\r\\nCorrelation ID: 1111\",\"error_codes\":[%u],"
                               "\"trace_id\":\"0000\",\"correlation_id\":\"1111\"}",
                               error, aadsts, description, aadsts));
}

static void
reply_tokens (FakeLogin         *fake,
              SoupServerMessage *msg)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *access_payload = NULL;
  g_autofree char *id_payload = NULL;
  g_autofree char *access_token = NULL;
  g_autofree char *id_token = NULL;
  char *refresh_token;

  access_payload = g_strdup_printf ("{\"aud\":\"https://graph.microsoft.com\",\"tid\":\"%s\","
                                    "\"oid\":\"0d2b5d2e\",\"upn\":\"%s\",\"name\":\"%s\","
                                    "\"scp\":\"User.Read\",\"exp\":%" G_GINT64_FORMAT "}",
                                    FAKE_TENANT_ID, FAKE_UPN, FAKE_NAME,
                                    now + fake->token_lifetime);
  id_payload = g_strdup_printf ("{\"tid\":\"%s\",\"preferred_username\":\"%s\",\"name\":\"%s\"}",
                                FAKE_TENANT_ID, FAKE_UPN, FAKE_NAME);
  access_token = make_jwt (fake, access_payload);
  id_token = make_jwt (fake, id_payload);
  refresh_token = fake_secret (fake, "0.R");
  g_hash_table_add (fake->refresh_tokens, refresh_token);
  g_free (fake->last_refresh_token);
  fake->last_refresh_token = g_strdup (refresh_token);

  reply_json (msg, SOUP_STATUS_OK,
              g_strdup_printf ("{\"token_type\":\"Bearer\",\"scope\":\"User.Read\","
                               "\"expires_in\":%d,\"ext_expires_in\":%d,\"access_token\":\"%s\","
                               "\"refresh_token\":\"%s\",\"id_token\":\"%s\"}",
                               fake->token_lifetime, fake->token_lifetime, access_token,
                               refresh_token, id_token));
}

static void
handle_devicecode (FakeLogin         *fake,
                   SoupServerMessage *msg,
                   GHashTable        *form)
{
  DeviceCodeState *state = g_new0 (DeviceCodeState, 1);
  g_autofree char *device_code = fake_secret (fake, "DA");

  g_assert_nonnull (g_hash_table_lookup (form, "client_id"));
  g_assert_nonnull (strstr (g_hash_table_lookup (form, "scope"), "offline_access"));

  state->pending_left = fake->pending;
  state->slow_down = fake->slow_down;
  state->outcome = fake->outcome;
  g_hash_table_insert (fake->device_codes, g_strdup (device_code), state);

  reply_json (msg, SOUP_STATUS_OK,
              g_strdup_printf ("{\"user_code\":\"BCDFGHJKL\",\"device_code\":\"%s\","
                               "\"verification_uri\":\"https://microsoft.com/devicelogin\","
                               "\"expires_in\":900,\"interval\":%d,\"message\":\"To sign in, "
                               "use a web browser to open the page "
                               "https://microsoft.com/devicelogin and enter the code BCDFGHJKL "
                               "to authenticate.\"}",
                               device_code, fake->interval));
}

static void
token_device_code (FakeLogin         *fake,
                   SoupServerMessage *msg,
                   GHashTable        *form)
{
  const char *device_code = g_hash_table_lookup (form, "device_code");
  DeviceCodeState *state;
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (fake->poll_times, now);

  if (!fake->public_client_flows)
    {
      reply_error (msg, SOUP_STATUS_UNAUTHORIZED, "invalid_client", 7000218,
                   "The request body must contain the following parameter: 'client_assertion' "
                   "or 'client_secret'.");
      return;
    }

  state = device_code != NULL ? g_hash_table_lookup (fake->device_codes, device_code) : NULL;
  if (state == NULL)
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_verification_code", 70019,
                   "The provided value for the input parameter 'device_code' is not valid.");
      return;
    }

  if (state->slow_down)
    {
      state->slow_down = FALSE;
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "slow_down", 70016, "Polling too fast.");
      return;
    }

  if (state->pending_left > 0)
    {
      state->pending_left--;
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "authorization_pending", 70016,
                   "Authorization is pending. Continue polling.");
      return;
    }

  switch (state->outcome)
    {
    case OUTCOME_DECLINE:
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "authorization_declined", 70000,
                   "The end user denied the authorization request.");
      break;

    case OUTCOME_EXPIRE:
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "expired_token", 70020,
                   "This device code has expired.");
      break;

    case OUTCOME_BAD_CODE:
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_verification_code", 70019,
                   "The provided value for the input parameter 'device_code' is not valid.");
      break;

    case OUTCOME_APPROVE:
    default:
      g_hash_table_remove (fake->device_codes, device_code);
      reply_tokens (fake, msg);
      break;
    }
}

static void
token_authorization_code (FakeLogin         *fake,
                          SoupServerMessage *msg,
                          GHashTable        *form)
{
  const char *code = g_hash_table_lookup (form, "code");
  const char *verifier = g_hash_table_lookup (form, "code_verifier");
  AuthCodeState *state = code != NULL ? g_hash_table_lookup (fake->auth_codes, code) : NULL;
  g_autofree char *challenge = NULL;

  if (verifier != NULL)
    g_ptr_array_add (fake->secrets, g_strdup (verifier));

  if (state == NULL ||
      g_strcmp0 (state->redirect_uri, g_hash_table_lookup (form, "redirect_uri")) != 0)
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 70008,
                   "The provided authorization code has expired.");
      return;
    }

  challenge = verifier != NULL ? rd_pkce_challenge_s256 (verifier) : NULL;
  if (g_strcmp0 (challenge, state->challenge) != 0)
    {
      g_hash_table_remove (fake->auth_codes, code);
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 501481,
                   "The Code_Verifier does not match the code_challenge supplied in the "
                   "authorization request.");
      return;
    }

  g_hash_table_remove (fake->auth_codes, code);
  reply_tokens (fake, msg);
}

static void
token_refresh (FakeLogin         *fake,
               SoupServerMessage *msg,
               GHashTable        *form)
{
  const char *refresh_token = g_hash_table_lookup (form, "refresh_token");

  fake->n_refresh_requests++;

  /* Rotation: a refresh token is spent once used. */
  if (refresh_token == NULL || !g_hash_table_remove (fake->refresh_tokens, refresh_token))
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 700082,
                   "The refresh token has expired due to inactivity.");
      return;
    }

  reply_tokens (fake, msg);
}

static void
handle_authorize (FakeLogin         *fake,
                  SoupServerMessage *msg,
                  GHashTable        *query)
{
  const char *redirect_uri = g_hash_table_lookup (query, "redirect_uri");
  const char *state = g_hash_table_lookup (query, "state");
  g_autofree char *location = NULL;
  g_autofree char *escaped_state = NULL;

  g_assert_cmpstr (g_hash_table_lookup (query, "response_type"), ==, "code");
  g_assert_cmpstr (g_hash_table_lookup (query, "code_challenge_method"), ==, "S256");
  g_assert_true (g_str_has_prefix (redirect_uri, "http://localhost:"));
  g_assert_nonnull (state);
  escaped_state = g_uri_escape_string (state, NULL, FALSE);

  if (fake->authorize_denied)
    {
      location = g_strdup_printf ("%s/?error=access_denied&error_description=AADSTS65004%%3A+"
                                  "User+declined+to+consent.&state=%s",
                                  redirect_uri, escaped_state);
    }
  else
    {
      AuthCodeState *code_state = g_new0 (AuthCodeState, 1);
      g_autofree char *code = fake_secret (fake, "1.A");

      code_state->challenge = g_strdup (g_hash_table_lookup (query, "code_challenge"));
      code_state->redirect_uri = g_strdup (redirect_uri);
      g_hash_table_insert (fake->auth_codes, g_strdup (code), code_state);
      location = g_strdup_printf ("%s/?code=%s&state=%s&session_state=abc", redirect_uri, code,
                                  escaped_state);
    }

  soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, location);
}

static void
on_fake_login_cb (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  FakeLogin *fake = user_data;
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  const char *method = soup_server_message_get_method (msg);
  const char *name;
  g_autoptr (GHashTable) form = NULL;

  /* /login/{tenant}/oauth2/v2.0/{name} */
  if (g_strv_length (parts) != 6 || !g_str_equal (parts[3], "oauth2") ||
      !g_str_equal (parts[4], "v2.0"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  name = parts[5];

  if (g_str_equal (method, "GET") && g_str_equal (name, "authorize"))
    {
      handle_authorize (fake, msg, query);
      return;
    }

  if (!g_str_equal (method, "POST"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  {
    SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
    g_autoptr (GBytes) body = soup_message_body_flatten (request_body);
    g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

    form = soup_form_decode (text);
  }

  g_assert_null (g_hash_table_lookup (form, "client_secret"));

  if (g_str_equal (name, "devicecode"))
    {
      handle_devicecode (fake, msg, form);
    }
  else if (g_str_equal (name, "token"))
    {
      const char *grant = g_hash_table_lookup (form, "grant_type");

      fake->n_token_requests++;
      if (g_strcmp0 (grant, "urn:ietf:params:oauth:grant-type:device_code") == 0)
        token_device_code (fake, msg, form);
      else if (g_strcmp0 (grant, "authorization_code") == 0)
        token_authorization_code (fake, msg, form);
      else if (g_strcmp0 (grant, "refresh_token") == 0)
        token_refresh (fake, msg, form);
      else
        reply_error (msg, SOUP_STATUS_BAD_REQUEST, "unsupported_grant_type", 70003,
                     "Unsupported grant type.");
    }
  else
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    }
}

static FakeLogin *
fake_login_new (void)
{
  FakeLogin *fake = g_new0 (FakeLogin, 1);
  g_autoptr (GError) error = NULL;
  g_autoslist (GUri) uris = NULL;

  fake->interval = 1;
  fake->outcome = OUTCOME_APPROVE;
  fake->public_client_flows = TRUE;
  fake->token_lifetime = 3599;
  fake->device_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fake->auth_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) auth_code_state_free);
  fake->refresh_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fake->secrets = g_ptr_array_new_with_free_func (g_free);
  fake->poll_times = g_array_new (FALSE, FALSE, sizeof (gint64));

  fake->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fake->server, "/login", on_fake_login_cb, fake, NULL);
  g_assert_true (soup_server_listen_local (fake->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (fake->server);
  fake->login_url = g_strdup_printf ("http://127.0.0.1:%d/login", g_uri_get_port (uris->data));

  return fake;
}

static void
fake_login_free (FakeLogin *fake)
{
  soup_server_disconnect (fake->server);
  g_assert_finalize_object (fake->server);
  g_hash_table_unref (fake->device_codes);
  g_hash_table_unref (fake->auth_codes);
  g_hash_table_unref (fake->refresh_tokens);
  g_ptr_array_unref (fake->secrets);
  g_array_unref (fake->poll_times);
  g_free (fake->last_refresh_token);
  g_free (fake->login_url);
  g_free (fake);
}

/* Helpers */

static void
on_result_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static gboolean
on_timeout_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_timeout_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

typedef struct
{
  FakeLogin *fake;
  RdEntraAuth *auth;
  char *cloud_id;
} Fixture;

static RdEntraAuth *
new_auth (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  RdEntraAuth *auth;

  auth = rd_entra_auth_new (fixture->cloud_id, fixture->fake->login_url, NULL, NULL, &error);
  g_assert_no_error (error);
  rd_entra_auth_set_poll_interval_scale (auth, POLL_SCALE);

  return auth;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *uuid = g_uuid_string_random ();

  /* Each test keys its secret apart, in the private keyring. */
  fixture->cloud_id = g_strconcat ("test-", uuid, NULL);
  fixture->fake = fake_login_new ();
  fixture->auth = new_auth (fixture);
}

/* The record the keyring keeps, as a JSON object, or NULL */
static JsonObject *
stored_record (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  char *secret;

  secret = secret_password_lookup_sync (rd_entra_auth_get_secret_schema (), NULL, &error, "cloud",
                                        fixture->cloud_id, "tenant", "organizations", "client-id",
                                        RD_ENTRA_AUTH_DEFAULT_CLIENT_ID, NULL);
  g_assert_no_error (error);
  if (secret == NULL)
    return NULL;
  node = json_from_string (secret, &error);
  secret_password_free (secret);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));

  return json_object_ref (json_node_get_object (node));
}

static char *
stored_refresh_token (Fixture *fixture)
{
  g_autoptr (JsonObject) record = stored_record (fixture);

  if (record == NULL)
    return NULL;

  return g_strdup (json_object_get_string_member (record, "refreshToken"));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr (GAsyncResult) result = NULL;

  if (fixture->auth != NULL)
    {
      rd_entra_auth_sign_out_async (fixture->auth, NULL, on_result_cb, &result);
      g_assert_true (rd_entra_auth_sign_out_finish (fixture->auth, wait_for (&result), NULL));
      g_clear_object (&result);
      g_assert_finalize_object (g_steal_pointer (&fixture->auth));
    }
  g_assert_null (stored_refresh_token (fixture));
  fake_login_free (fixture->fake);
  g_free (fixture->cloud_id);
}

static RdEntraDeviceCode *
begin_device_code (RdEntraAuth *auth)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  RdEntraDeviceCode *code;

  rd_entra_auth_begin_device_code_async (auth, NULL, on_result_cb, &result);
  code = rd_entra_auth_begin_device_code_finish (auth, wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (code);

  return code;
}

static gboolean
device_code_sign_in (RdEntraAuth  *auth,
                     GError      **error)
{
  g_autoptr (RdEntraDeviceCode) code = begin_device_code (auth);
  g_autoptr (GAsyncResult) result = NULL;

  rd_entra_auth_complete_device_code_async (auth, code, NULL, on_result_cb, &result);
  return rd_entra_auth_complete_device_code_finish (auth, wait_for (&result), error);
}

static char *
get_token (RdEntraAuth  *auth,
           gboolean      force_refresh,
           GError      **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_token_source_get_token_async (RD_TOKEN_SOURCE (auth), force_refresh, NULL, on_result_cb,
                                   &result);
  return rd_token_source_get_token_finish (RD_TOKEN_SOURCE (auth), wait_for (&result), error);
}

/* Replaces the value of query parameter @name in @url. */
static char *
replace_param (const char *url,
               const char *name,
               const char *value)
{
  g_autofree char *needle = g_strconcat (name, "=", NULL);
  const char *start = strstr (url, needle);
  const char *end;

  g_assert_nonnull (start);
  start += strlen (needle);
  end = strchr (start, '&');
  if (end == NULL)
    end = start + strlen (start);

  return g_strdup_printf ("%.*s%s%s", (int) (start - url), url, value, end);
}

static char *
query_param (const char *url,
             const char *name)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GHashTable) params = NULL;

  g_assert_nonnull (uri);
  params = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL);
  return g_strdup (g_hash_table_lookup (params, name));
}

typedef char *(*Rewrite) (const char *url);

/* Plays the browser: opens the authorize URL (possibly tampered with),
 * follows the redirect to the app's loopback server (possibly tampered
 * with), and returns the page the app answered. */
static char *
browse (const char *authorize_url,
        Rewrite     rewrite_authorize,
        Rewrite     rewrite_redirect,
        guint      *out_status)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (SoupMessage) redirect = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) redirect_result = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *location = NULL;

  url = rewrite_authorize != NULL ? rewrite_authorize (authorize_url) : g_strdup (authorize_url);
  msg = soup_message_new ("GET", url);
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_result_cb, &result);
  g_clear_pointer (&body, g_bytes_unref);
  body = soup_session_send_and_read_finish (session, wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_FOUND);

  location = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                     "Location"));
  g_assert_nonnull (location);
  /* Redirect URIs without a path come back with a trailing "/". */
  g_assert_nonnull (strstr (location, "/?"));
  if (rewrite_redirect != NULL)
    {
      char *rewritten = rewrite_redirect (location);

      g_free (location);
      location = rewritten;
    }

  redirect = soup_message_new ("GET", location);
  g_clear_pointer (&body, g_bytes_unref);
  soup_session_send_and_read_async (session, redirect, G_PRIORITY_DEFAULT, NULL, on_result_cb,
                                    &redirect_result);
  body = soup_session_send_and_read_finish (session, wait_for (&redirect_result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (soup_message_headers_get_content_type (
                     soup_message_get_response_headers (redirect), NULL),
                   ==, "text/html");
  if (out_status != NULL)
    *out_status = soup_message_get_status (redirect);

  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static int
redirect_port (const char *authorize_url)
{
  g_autofree char *redirect_uri = query_param (authorize_url, "redirect_uri");
  g_autoptr (GUri) uri = g_uri_parse (redirect_uri, G_URI_FLAGS_NONE, NULL);

  g_assert_nonnull (uri);
  g_assert_cmpstr (g_uri_get_scheme (uri), ==, "http");
  g_assert_cmpstr (g_uri_get_host (uri), ==, "localhost");
  g_assert_cmpstr (g_uri_get_path (uri), ==, "");

  return g_uri_get_port (uri);
}

static void
assert_port_closed (int port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static gboolean
browser_sign_in (RdEntraAuth  *auth,
                 Rewrite       rewrite_authorize,
                 Rewrite       rewrite_redirect,
                 char        **out_page,
                 GError      **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *url = rd_entra_auth_begin_browser (auth, &local_error);
  g_autofree char *page = NULL;
  gboolean ok;
  int port;

  g_assert_no_error (local_error);
  port = redirect_port (url);

  rd_entra_auth_complete_browser_async (auth, NULL, on_result_cb, &result);
  page = browse (url, rewrite_authorize, rewrite_redirect, NULL);
  ok = rd_entra_auth_complete_browser_finish (auth, wait_for (&result), error);

  /* The loopback server is gone once the browser's answer is in. */
  assert_port_closed (port);

  if (out_page != NULL)
    *out_page = g_steal_pointer (&page);

  return ok;
}

static void
assert_not_signed_in (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *stored = stored_refresh_token (fixture);

  g_assert_false (rd_entra_auth_get_signed_in (fixture->auth));
  g_assert_null (rd_entra_auth_get_username (fixture->auth));
  g_assert_null (stored);

  token = get_token (fixture->auth, FALSE, &error);
  g_assert_null (token);
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN);
}

static void
assert_signed_in (Fixture *fixture)
{
  g_autofree char *stored = stored_refresh_token (fixture);
  g_autoptr (JsonObject) record = stored_record (fixture);

  /* With the refresh token, whom and which tenant it signs in. */
  g_assert_cmpstr (json_object_get_string_member (record, "tenantId"), ==, FAKE_TENANT_ID);
  g_assert_cmpstr (json_object_get_string_member (record, "username"), ==, FAKE_UPN);
  g_assert_cmpstr (json_object_get_string_member (record, "displayName"), ==, FAKE_NAME);

  g_assert_true (rd_entra_auth_get_signed_in (fixture->auth));
  g_assert_cmpstr (rd_entra_auth_get_username (fixture->auth), ==, FAKE_UPN);
  g_assert_cmpstr (rd_entra_auth_get_display_name (fixture->auth), ==, FAKE_NAME);
  g_assert_cmpstr (rd_entra_auth_get_tenant_id (fixture->auth), ==, FAKE_TENANT_ID);
  g_assert_cmpstr (stored, ==, fixture->fake->last_refresh_token);
}

/* Construction */

static void
test_construct (void)
{
  g_autoptr (RdEntraAuth) auth = NULL;
  g_autoptr (RdEntraAuth) cloud_auth = NULL;
  g_autoptr (RdCloud) cloud = rd_cloud_new (RD_CLOUD_KIND_US_GOV);
  g_autoptr (GError) error = NULL;
  const char * const *scopes;
  static const char * const expected[] = {
    "offline_access",
    "openid",
    "profile",
    "User.Read",
    "DeviceManagementManagedDevices.Read.All",
    "DeviceManagementManagedDevices.PrivilegedOperations.All",
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementConfiguration.Read.All",
    "BitLockerKey.ReadBasic.All",
  };

  auth = rd_entra_auth_new ("global", "https://login.microsoftonline.com/", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rd_entra_auth_get_login_endpoint (auth), ==,
                   "https://login.microsoftonline.com");
  g_assert_cmpstr (rd_entra_auth_get_tenant (auth), ==, "organizations");
  g_assert_cmpstr (rd_entra_auth_get_client_id (auth), ==, "14d82eec-204b-4c2f-b7e8-296a70dab67e");
  g_assert_false (rd_entra_auth_get_signed_in (auth));
  scopes = rd_entra_auth_get_scopes (auth);
  g_assert_cmpuint (g_strv_length ((char **) scopes), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_true (g_strv_contains (scopes, expected[i]));

  cloud_auth = rd_entra_auth_new_for_cloud (cloud, "contoso.onmicrosoft.com",
                                            "00000000-1111-2222-3333-444444444444", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rd_entra_auth_get_cloud_id (cloud_auth), ==, "us-gov");
  g_assert_cmpstr (rd_entra_auth_get_login_endpoint (cloud_auth), ==,
                   "https://login.microsoftonline.us");
  g_assert_cmpstr (rd_entra_auth_get_tenant (cloud_auth), ==, "contoso.onmicrosoft.com");

  g_assert_finalize_object (g_steal_pointer (&auth));
  g_assert_finalize_object (g_steal_pointer (&cloud_auth));
}

static void
test_construct_refused (void)
{
  static const struct
  {
    const char *endpoint;
    const char *tenant;
    GQuark domain;
    int code;
  } cases[] = {
    { "http://login.microsoftonline.com", NULL, 0, RD_GRAPH_ERROR_INSECURE_ENDPOINT },
    { "ftp://127.0.0.1", NULL, 0, RD_GRAPH_ERROR_INSECURE_ENDPOINT },
    { "not a url", NULL, 0, RD_GRAPH_ERROR_INSECURE_ENDPOINT },
    { "https://login.microsoftonline.com", "contoso/../common", 1, RD_AUTH_ERROR_FAILED },
    { "https://login.microsoftonline.com", "a b", 1, RD_AUTH_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RdEntraAuth) auth = NULL;
      GQuark domain;

      auth = rd_entra_auth_new ("global", cases[i].endpoint, cases[i].tenant, NULL, &error);
      domain = cases[i].domain == 0 ? RD_GRAPH_ERROR : RD_AUTH_ERROR;
      g_assert_null (auth);
      g_assert_error (error, domain, cases[i].code);
      g_assert_cmpstr (error->message, !=, "");
    }

  /* Loopback over http is for the demo tenant and tests. */
  for (guint i = 0; i < 3; i++)
    {
      static const char * const loopback[] = { "http://127.0.0.1:8080/login",
                                                "http://localhost:1/login", "http://[::1]:2" };
      g_autoptr (GError) error = NULL;
      g_autoptr (RdEntraAuth) auth = rd_entra_auth_new ("demo", loopback[i], NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (auth);
    }
}

/* Device code */

static void
on_notify_count_cb (GObject    *object,
                    GParamSpec *pspec,
                    gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_device_code_success (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr (RdEntraDeviceCode) code = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *again = NULL;
  guint notified = 0;

  fixture->fake->pending = 3;
  g_signal_connect (fixture->auth, "notify::signed-in", G_CALLBACK (on_notify_count_cb),
                    &notified);

  code = begin_device_code (fixture->auth);
  g_assert_cmpstr (rd_entra_device_code_get_user_code (code), ==, "BCDFGHJKL");
  g_assert_cmpstr (rd_entra_device_code_get_verification_uri (code), ==,
                   "https://microsoft.com/devicelogin");
  g_assert_nonnull (strstr (rd_entra_device_code_get_message (code), "BCDFGHJKL"));
  g_assert_cmpint (rd_entra_device_code_get_expires_in (code), ==, 900);
  g_assert_cmpint (rd_entra_device_code_get_interval (code), ==, 1);
  g_assert_nonnull (rd_entra_device_code_get_expires_at (code));

  rd_entra_auth_complete_device_code_async (fixture->auth, code, NULL, on_result_cb, &result);
  g_assert_true (rd_entra_auth_complete_device_code_finish (fixture->auth, wait_for (&result),
                                                            &error));
  g_assert_no_error (error);

  /* Three pending answers, then the tokens. */
  g_assert_cmpuint (fixture->fake->poll_times->len, ==, 4);
  assert_signed_in (fixture);
  g_assert_cmpuint (notified, ==, 1);
  g_signal_handlers_disconnect_by_func (fixture->auth, on_notify_count_cb, &notified);

  /* The access token is served from memory while it is fresh. */
  token = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (token, "ey"));
  again = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token, ==, again);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 0);
}

static void
test_device_code_slow_down (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  GArray *times = fixture->fake->poll_times;
  gint64 before, after;

  /* Polls: slow_down, then two pending, then tokens. */
  fixture->fake->slow_down = TRUE;
  fixture->fake->pending = 2;
  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (times->len, ==, 4);

  /* The interval was 1 s (10 ms scaled); after slow_down it is 6 s
   * (60 ms), and stays so. */
  before = g_array_index (times, gint64, 1) - g_array_index (times, gint64, 0);
  g_assert_cmpint (before, >=, 6 * POLL_SCALE * G_USEC_PER_SEC);
  for (guint i = 2; i < times->len; i++)
    {
      after = g_array_index (times, gint64, i) - g_array_index (times, gint64, i - 1);
      g_assert_cmpint (after, >=, 6 * POLL_SCALE * G_USEC_PER_SEC);
    }
  g_test_message ("Poll gap after slow_down: %" G_GINT64_FORMAT " µs (interval 1 s → 6 s at "
                  "scale %g)", before, POLL_SCALE);
  assert_signed_in (fixture);
}

static void
test_device_code_baseline_interval (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  GArray *times = fixture->fake->poll_times;
  gint64 gap;

  /* Without slow_down the polls come at the interval, well under 6 s. */
  fixture->fake->pending = 2;
  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (times->len, ==, 3);
  gap = g_array_index (times, gint64, 1) - g_array_index (times, gint64, 0);
  g_assert_cmpint (gap, >=, 1 * POLL_SCALE * G_USEC_PER_SEC);
  g_assert_cmpint (gap, <, 6 * POLL_SCALE * G_USEC_PER_SEC);
}

static void
test_device_code_failure (Fixture       *fixture,
                          gconstpointer  data)
{
  static const struct
  {
    Outcome outcome;
    gboolean public_client_flows;
    int code;
    const char *says;
  } cases[] = {
    { OUTCOME_DECLINE, TRUE, RD_AUTH_ERROR_DECLINED, "sign in again" },
    { OUTCOME_EXPIRE, TRUE, RD_AUTH_ERROR_EXPIRED, "Start the sign-in again" },
    { OUTCOME_BAD_CODE, TRUE, RD_AUTH_ERROR_BAD_VERIFICATION_CODE, "Start the sign-in again" },
    { OUTCOME_APPROVE, FALSE, RD_AUTH_ERROR_PUBLIC_CLIENT,
      "the app registration must allow public client flows (Authentication → Advanced "
      "settings → Allow public client flows = Yes)" },
  };
  guint which = GPOINTER_TO_UINT (data);
  g_autoptr (GError) error = NULL;

  fixture->fake->pending = 1;
  fixture->fake->outcome = cases[which].outcome;
  fixture->fake->public_client_flows = cases[which].public_client_flows;

  g_assert_false (device_code_sign_in (fixture->auth, &error));
  g_assert_error (error, RD_AUTH_ERROR, cases[which].code);
  g_assert_nonnull (strstr (error->message, cases[which].says));
  g_test_message ("%s", error->message);
  assert_not_signed_in (fixture);
}

static gboolean
on_cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_device_code_cancel (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr (RdEntraDeviceCode) code = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 cancelled_at;
  guint polls;

  /* A 5 s interval (500 ms here): the cancel lands mid-wait. */
  fixture->fake->pending = 1000;
  fixture->fake->interval = 50;
  code = begin_device_code (fixture->auth);

  rd_entra_auth_complete_device_code_async (fixture->auth, code, cancellable, on_result_cb,
                                            &result);
  spin (1200);
  polls = fixture->fake->poll_times->len;
  g_assert_cmpuint (polls, >=, 1);

  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_assert_false (rd_entra_auth_complete_device_code_finish (fixture->auth, wait_for (&result),
                                                             &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Promptly: not at the end of the interval. */
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, 100 * 1000);

  /* And no more polls. */
  spin (1100);
  g_assert_cmpuint (fixture->fake->poll_times->len, ==, polls);
  assert_not_signed_in (fixture);
}

static void
test_device_code_cancel_before (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr (RdEntraDeviceCode) code = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  /* Cancelled before it starts: no poll at all. */
  code = begin_device_code (fixture->auth);
  g_cancellable_cancel (cancellable);
  rd_entra_auth_complete_device_code_async (fixture->auth, code, cancellable, on_result_cb,
                                            &result);
  g_assert_false (rd_entra_auth_complete_device_code_finish (fixture->auth, wait_for (&result),
                                                             &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (fixture->fake->poll_times->len, ==, 0);
}

/* Browser */

static void
test_browser_success (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *page = NULL;

  g_assert_true (browser_sign_in (fixture->auth, NULL, NULL, &page, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (page, "You can close this tab"));
  assert_signed_in (fixture);
}

static void
test_browser_authorize_url (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = rd_entra_auth_begin_browser (fixture->auth, &error);
  g_autofree char *second = NULL;
  g_autofree char *challenge = NULL;
  g_autofree char *state = NULL;
  g_autofree char *scope = NULL;
  g_autofree char *second_state = NULL;
  int port;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (url, fixture->fake->login_url));
  g_assert_nonnull (strstr (url, "/organizations/oauth2/v2.0/authorize?"));
  g_assert_nonnull (strstr (url, "response_type=code"));
  g_assert_nonnull (strstr (url, "code_challenge_method=S256"));
  g_assert_nonnull (strstr (url, "response_mode=query"));
  challenge = query_param (url, "code_challenge");
  state = query_param (url, "state");
  scope = query_param (url, "scope");
  /* SHA-256 in base64url: 43 characters. */
  g_assert_cmpuint (strlen (challenge), ==, 43);
  g_assert_cmpuint (strlen (state), >=, 22);
  g_assert_nonnull (strstr (scope, "offline_access"));
  g_assert_nonnull (strstr (scope, "BitLockerKey.ReadBasic.All"));
  port = redirect_port (url);
  g_assert_cmpint (port, >, 0);

  /* Starting again abandons the first: its port closes, the state is new. */
  second = rd_entra_auth_begin_browser (fixture->auth, &error);
  g_assert_no_error (error);
  assert_port_closed (port);
  second_state = query_param (second, "state");
  g_assert_cmpstr (second_state, !=, state);
}

static char *
change_state (const char *url)
{
  return replace_param (url, "state", "forged");
}

static void
test_browser_state_mismatch (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *page = NULL;

  g_assert_false (browser_sign_in (fixture->auth, NULL, change_state, &page, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_STATE_MISMATCH);
  g_assert_nonnull (strstr (page, "sign in again"));
  /* The code was never redeemed. */
  g_assert_cmpuint (fixture->fake->n_token_requests, ==, 0);
  assert_not_signed_in (fixture);
}

static void
test_browser_access_denied (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *page = NULL;

  fixture->fake->authorize_denied = TRUE;
  g_assert_false (browser_sign_in (fixture->auth, NULL, NULL, &page, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_DECLINED);
  g_assert_nonnull (strstr (page, "close this tab"));
  g_assert_cmpuint (fixture->fake->n_token_requests, ==, 0);
  assert_not_signed_in (fixture);
}

static char *
change_challenge (const char *url)
{
  g_autofree char *other = rd_pkce_new_verifier ();
  g_autofree char *challenge = rd_pkce_challenge_s256 (other);

  return replace_param (url, "code_challenge", challenge);
}

static void
test_browser_wrong_verifier (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  /* The browser hands the server a challenge the app's verifier does not
   * answer, as an interception would: the server must refuse the code. */
  g_assert_false (browser_sign_in (fixture->auth, change_challenge, NULL, NULL, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "AADSTS501481"));
  g_assert_cmpuint (fixture->fake->n_token_requests, ==, 1);
  assert_not_signed_in (fixture);
}

static void
test_browser_cancel (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = rd_entra_auth_begin_browser (fixture->auth, &error);
  int port = redirect_port (url);

  g_assert_no_error (error);
  rd_entra_auth_complete_browser_async (fixture->auth, cancellable, on_result_cb, &result);
  g_timeout_add (20, on_cancel_cb, cancellable);
  g_assert_false (rd_entra_auth_complete_browser_finish (fixture->auth, wait_for (&result),
                                                        &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_port_closed (port);
  assert_not_signed_in (fixture);
}

/* Refresh, storage */

static void
test_refresh_rotation (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *old_refresh = NULL;
  g_autofree char *old_access = NULL;
  g_autofree char *new_access = NULL;
  g_autofree char *stored = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  old_refresh = stored_refresh_token (fixture);
  g_assert_nonnull (old_refresh);
  old_access = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);

  /* As RdGraphClient does after a 401. */
  new_access = get_token (fixture->auth, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (new_access, !=, old_access);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 1);

  stored = stored_refresh_token (fixture);
  g_assert_cmpstr (stored, ==, fixture->fake->last_refresh_token);
  g_assert_cmpstr (stored, !=, old_refresh);
  /* The old one is spent at the server, and gone from the keyring. */
  g_assert_false (g_hash_table_contains (fixture->fake->refresh_tokens, old_refresh));
  g_assert_true (g_hash_table_contains (fixture->fake->refresh_tokens, stored));
  assert_signed_in (fixture);
}

static void
test_refresh_near_expiry (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  /* Tokens that live 90 s are inside the 2-minute margin: each use
   * refreshes. */
  fixture->fake->token_lifetime = 90;
  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  first = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 1);
  second = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 2);
  g_assert_cmpstr (first, !=, second);
}

static void
test_refresh_shared (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result1 = NULL;
  g_autoptr (GAsyncResult) result2 = NULL;
  g_autoptr (GAsyncResult) result3 = NULL;
  g_autofree char *token1 = NULL;
  g_autofree char *token2 = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);

  /* Three callers at once share one refresh: rotation would make a second
   * refresh spend a token that the first already spent. */
  rd_token_source_get_token_async (RD_TOKEN_SOURCE (fixture->auth), TRUE, NULL, on_result_cb,
                                   &result1);
  rd_token_source_get_token_async (RD_TOKEN_SOURCE (fixture->auth), TRUE, NULL, on_result_cb,
                                   &result2);
  rd_entra_auth_refresh_async (fixture->auth, NULL, on_result_cb, &result3);
  token1 = rd_token_source_get_token_finish (RD_TOKEN_SOURCE (fixture->auth), wait_for (&result1),
                                             &error);
  g_assert_no_error (error);
  token2 = rd_token_source_get_token_finish (RD_TOKEN_SOURCE (fixture->auth), wait_for (&result2),
                                             &error);
  g_assert_no_error (error);
  g_assert_true (rd_entra_auth_refresh_finish (fixture->auth, wait_for (&result3), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (token1, ==, token2);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 1);
  assert_signed_in (fixture);
}

static void
test_refresh_invalid_grant (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *stored = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  stored = stored_refresh_token (fixture);
  g_assert_nonnull (stored);

  /* Revoked at the server (password change, admin revocation). */
  g_hash_table_remove_all (fixture->fake->refresh_tokens);
  token = get_token (fixture->auth, TRUE, &error);
  g_assert_null (token);
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED);
  g_assert_nonnull (strstr (error->message, "Sign in again"));
  g_test_message ("%s", error->message);
  assert_not_signed_in (fixture);
  g_assert_null (rd_entra_auth_get_tenant_id (fixture->auth));
}

static void
test_sign_out (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  assert_signed_in (fixture);

  rd_entra_auth_sign_out_async (fixture->auth, NULL, on_result_cb, &result);
  /* The access token is gone at once. */
  g_assert_false (rd_entra_auth_get_signed_in (fixture->auth));
  g_assert_true (rd_entra_auth_sign_out_finish (fixture->auth, wait_for (&result), &error));
  g_assert_no_error (error);
  assert_not_signed_in (fixture);
}

static void
test_restore (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr (RdEntraAuth) restored = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *token = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  first = stored_refresh_token (fixture);
  g_assert_finalize_object (g_steal_pointer (&fixture->auth));

  /* The next start. */
  restored = new_auth (fixture);
  g_assert_false (rd_entra_auth_get_signed_in (restored));
  rd_entra_auth_restore_async (restored, NULL, on_result_cb, &result);
  g_assert_true (rd_entra_auth_restore_finish (restored, wait_for (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 1);

  fixture->auth = g_steal_pointer (&restored);
  assert_signed_in (fixture);
  token = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 1);
}

/* A start that loads the sign-in without the network: signed in, as the
 * user and tenant it was for, and the first token asked for refreshes. */
static void
test_load (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr (RdEntraAuth) loaded = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  guint token_requests;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&fixture->auth));
  token_requests = fixture->fake->n_token_requests;

  loaded = new_auth (fixture);
  rd_entra_auth_load_async (loaded, NULL, on_result_cb, &result);
  g_assert_true (rd_entra_auth_load_finish (loaded, wait_for (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->fake->n_token_requests, ==, token_requests);
  fixture->auth = g_steal_pointer (&loaded);
  assert_signed_in (fixture);

  token = get_token (fixture->auth, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
  g_assert_cmpuint (fixture->fake->n_refresh_requests, ==, 1);
  assert_signed_in (fixture);
}

/* What earlier versions kept, the bare refresh token, still signs in; who
 * it is for is known once a token says. */
static void
test_load_bare_token (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr (RdEntraAuth) loaded = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *bare = NULL;
  g_autofree char *token = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  bare = stored_refresh_token (fixture);
  g_assert_finalize_object (g_steal_pointer (&fixture->auth));
  g_assert_true (secret_password_store_sync (rd_entra_auth_get_secret_schema (),
                                             SECRET_COLLECTION_DEFAULT, "old", bare, NULL, &error,
                                             "cloud", fixture->cloud_id, "tenant", "organizations",
                                             "client-id", RD_ENTRA_AUTH_DEFAULT_CLIENT_ID, NULL));
  g_assert_no_error (error);

  loaded = new_auth (fixture);
  rd_entra_auth_load_async (loaded, NULL, on_result_cb, &result);
  g_assert_true (rd_entra_auth_load_finish (loaded, wait_for (&result), &error));
  g_assert_no_error (error);
  g_assert_true (rd_entra_auth_get_signed_in (loaded));
  g_assert_null (rd_entra_auth_get_tenant_id (loaded));

  token = get_token (loaded, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
  fixture->auth = g_steal_pointer (&loaded);
  /* The refresh rotated the token and stored the record anew. */
  assert_signed_in (fixture);
}

static void
test_restore_nothing (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  rd_entra_auth_restore_async (fixture->auth, NULL, on_result_cb, &result);
  g_assert_false (rd_entra_auth_restore_finish (fixture->auth, wait_for (&result), &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN);
  g_assert_cmpuint (fixture->fake->n_token_requests, ==, 0);
  assert_not_signed_in (fixture);
}

static void
test_restore_revoked (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr (RdEntraAuth) restored = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (device_code_sign_in (fixture->auth, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&fixture->auth));
  g_hash_table_remove_all (fixture->fake->refresh_tokens);

  restored = new_auth (fixture);
  rd_entra_auth_restore_async (restored, NULL, on_result_cb, &result);
  g_assert_false (rd_entra_auth_restore_finish (restored, wait_for (&result), &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED);
  fixture->auth = g_steal_pointer (&restored);
  assert_not_signed_in (fixture);
}

/* No keyring: the sign-in fails and says why; nothing goes to a file. */

static gboolean
dir_contains_secret (const char *path,
                     GPtrArray  *secrets)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_test_message ("Written under HOME: %s", child);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        {
          if (dir_contains_secret (child, secrets))
            return TRUE;
          continue;
        }

      if (!g_file_get_contents (child, &contents, &len, NULL))
        continue;
      for (guint i = 0; i < secrets->len; i++)
        {
          const char *secret = g_ptr_array_index (secrets, i);

          if (g_strstr_len (contents, len, secret) != NULL)
            return TRUE;
        }
    }

  return FALSE;
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
test_no_keyring (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RdEntraAuth) auth = NULL;
      g_autofree char *home = g_dir_make_tmp ("rd-no-keyring-XXXXXX", NULL);
      FakeLogin *fake;

      /* A session bus that is not there. */
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/rd-test-bus", TRUE);
      g_setenv ("HOME", home, TRUE);
      g_setenv ("XDG_DATA_HOME", home, TRUE);
      g_setenv ("XDG_CONFIG_HOME", home, TRUE);

      fake = fake_login_new ();
      auth = rd_entra_auth_new ("test-no-keyring", fake->login_url, NULL, NULL, &error);
      g_assert_no_error (error);
      rd_entra_auth_set_poll_interval_scale (auth, POLL_SCALE);

      g_assert_false (device_code_sign_in (auth, &error));
      g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "install and unlock"));
      g_assert_nonnull (strstr (error->message, "keyring"));
      g_printerr ("%s\n", error->message);
      g_assert_false (rd_entra_auth_get_signed_in (auth));

      /* No secret went to a file instead. */
      g_assert_false (dir_contains_secret (home, fake->secrets));
      rm_rf (home);
      g_assert_finalize_object (g_steal_pointer (&auth));
      fake_login_free (fake);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*No keyring*install and unlock*");
}

/* Helpers: PKCE and claims */

static void
test_pkce (void)
{
  /* RFC 7636, appendix B. */
  g_autofree char *challenge =
    rd_pkce_challenge_s256 ("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  g_autofree char *verifier = rd_pkce_new_verifier ();
  g_autofree char *other = rd_pkce_new_verifier ();

  g_assert_cmpstr (challenge, ==, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  g_assert_cmpuint (strlen (verifier), ==, 43);
  g_assert_cmpstr (verifier, !=, other);
  for (const char *p = verifier; *p != '\0'; p++)
    g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');
}

static char *
jwt_with_payload (const char *payload)
{
  g_autofree char *body = rd_base64url_encode ((const guint8 *) payload, strlen (payload));

  return g_strdup_printf ("eyJhbGciOiJub25lIn0.%s.c2ln", body);
}

static void
test_claims_valid (void)
{
  g_autofree char *jwt = jwt_with_payload ("{\"tid\":\"t-1\",\"upn\":\"bob@contoso.example\","
                                           "\"name\":\"Bob Ñúñez\",\"exp\":1700000000}");
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (GError) error = NULL;

  claims = rd_jwt_decode_claims (jwt, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (claims, "tid"), ==, "t-1");
  g_assert_cmpstr (json_object_get_string_member (claims, "upn"), ==, "bob@contoso.example");
  g_assert_cmpstr (json_object_get_string_member (claims, "name"), ==, "Bob Ñúñez");
  g_assert_cmpint (json_object_get_int_member (claims, "exp"), ==, 1700000000);
}

static void
test_claims_malformed (void)
{
  g_autofree char *array = jwt_with_payload ("[1,2]");
  g_autofree char *not_json = jwt_with_payload ("{\"tid\":");
  g_autofree char *nul = NULL;
  const char *cases[] = {
    "",
    "opaque-access-token",
    "a.b",
    "a.b.c.d",
    "eyJhbGciOiJub25lIn0..c2ln",
    "eyJhbGciOiJub25lIn0.not*base64.c2ln",
    "eyJhbGciOiJub25lIn0.e.c2ln",
    array,
    not_json,
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) claims = rd_jwt_decode_claims (cases[i], &error);

      g_assert_null (claims);
      g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
      /* The message explains, without quoting the token. */
      g_assert_nonnull (strstr (error->message, "token"));
      if (strlen (cases[i]) > 3)
        g_assert_null (strstr (error->message, cases[i]));
    }

  {
    static const guint8 with_nul[] = { '{', '}', 0, ' ' };
    g_autofree char *jwt = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) claims = NULL;

    nul = rd_base64url_encode (with_nul, sizeof with_nul);
    jwt = g_strdup_printf ("a.%s.c", nul);
    claims = rd_jwt_decode_claims (jwt, &error);

    g_assert_null (claims);
    g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
  }
}

static void
test_base64url (void)
{
  static const guint8 bytes[] = { 0xfb, 0xff, 0xbf, 0x00, 0x41 };
  g_autofree char *text = rd_base64url_encode (bytes, sizeof bytes);
  g_autofree guint8 *back = NULL;
  size_t len = 0;

  g_assert_cmpstr (text, ==, "-_-_AEE");
  back = rd_base64url_decode (text, &len);
  g_assert_nonnull (back);
  g_assert_cmpmem (back, len, bytes, sizeof bytes);
  g_assert_null (rd_base64url_decode ("ab+c", NULL));
  g_assert_null (rd_base64url_decode ("a", NULL));
}

/* No token in any log line */

static GString *captured_log;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      g_string_append (captured_log, fields[i].key);
      g_string_append_c (captured_log, '=');
      if (fields[i].length < 0)
        g_string_append (captured_log, fields[i].value);
      else
        g_string_append_len (captured_log, fields[i].value, fields[i].length);
      g_string_append_c (captured_log, ' ');
    }
  g_string_append_c (captured_log, '\n');

  /* Fatal-warnings still apply. */
  if (log_level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR))
    return g_log_writer_default (log_level, fields, n_fields, user_data);

  return G_LOG_WRITER_HANDLED;
}

static void
add_error (GPtrArray *messages,
           GError    *error)
{
  g_assert_nonnull (error);
  g_ptr_array_add (messages, g_strdup (error->message));
  g_error_free (error);
}

static void
test_no_token_in_logs (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GAsyncResult) result = NULL;
      g_autofree char *page = NULL;
      g_autofree char *token = NULL;
      g_autoptr (GPtrArray) secrets = NULL;
      Fixture fixture = { 0 };
      GError *error = NULL;

      captured_log = g_string_new (NULL);
      g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
      g_log_set_debug_enabled (TRUE);
      g_log_set_writer_func (capture_writer, NULL, NULL);

      fixture_set_up (&fixture, NULL);

      /* Everything: device code with pending and slow_down, the failures,
       * browser sign-in and its failures, refresh, restore, revocation,
       * sign-out. */
      fixture.fake->pending = 1;
      fixture.fake->slow_down = TRUE;
      g_assert_true (device_code_sign_in (fixture.auth, NULL));
      token = get_token (fixture.auth, TRUE, NULL);
      g_assert_nonnull (token);
      g_clear_pointer (&token, g_free);

      for (Outcome outcome = OUTCOME_DECLINE; outcome <= OUTCOME_BAD_CODE; outcome++)
        {
          fixture.fake->outcome = outcome;
          g_assert_false (device_code_sign_in (fixture.auth, &error));
          add_error (messages, g_steal_pointer (&error));
        }
      fixture.fake->outcome = OUTCOME_APPROVE;
      fixture.fake->public_client_flows = FALSE;
      g_assert_false (device_code_sign_in (fixture.auth, &error));
      add_error (messages, g_steal_pointer (&error));
      fixture.fake->public_client_flows = TRUE;

      g_assert_true (browser_sign_in (fixture.auth, NULL, NULL, &page, NULL));
      g_clear_pointer (&page, g_free);
      g_assert_false (browser_sign_in (fixture.auth, change_challenge, NULL, NULL, &error));
      add_error (messages, g_steal_pointer (&error));
      g_assert_false (browser_sign_in (fixture.auth, NULL, change_state, NULL, &error));
      add_error (messages, g_steal_pointer (&error));
      fixture.fake->authorize_denied = TRUE;
      g_assert_false (browser_sign_in (fixture.auth, NULL, NULL, NULL, &error));
      add_error (messages, g_steal_pointer (&error));
      fixture.fake->authorize_denied = FALSE;

      g_assert_true (browser_sign_in (fixture.auth, NULL, NULL, NULL, NULL));
      g_assert_finalize_object (g_steal_pointer (&fixture.auth));
      fixture.auth = new_auth (&fixture);
      rd_entra_auth_set_poll_interval_scale (fixture.auth, POLL_SCALE);
      rd_entra_auth_restore_async (fixture.auth, NULL, on_result_cb, &result);
      g_assert_true (rd_entra_auth_restore_finish (fixture.auth, wait_for (&result), NULL));
      g_clear_object (&result);
      token = get_token (fixture.auth, TRUE, NULL);
      g_assert_nonnull (token);
      g_clear_pointer (&token, g_free);

      g_hash_table_remove_all (fixture.fake->refresh_tokens);
      g_assert_null (get_token (fixture.auth, TRUE, &error));
      add_error (messages, g_steal_pointer (&error));

      secrets = g_ptr_array_ref (fixture.fake->secrets);
      fixture_tear_down (&fixture, NULL);

      /* The capture works: our own debug lines are in it. */
      g_assert_nonnull (strstr (captured_log->str, "Refreshing the access token"));
      g_assert_nonnull (strstr (captured_log->str, "Browser sign-in: redeeming"));
      g_assert_nonnull (strstr (captured_log->str, "Device code: slow down"));
      g_assert_cmpuint (messages->len, ==, 8);

      /* Every token, refresh token, id token, device code, authorization
       * code and verifier that went through: none is in a log line or an
       * error message, whole or by its signature. */
      g_assert_cmpuint (secrets->len, >, 20);
      for (guint i = 0; i < secrets->len; i++)
        {
          const char *secret = g_ptr_array_index (secrets, i);
          const char *signature = strrchr (secret, '.');

          g_assert_null (strstr (captured_log->str, secret));
          if (signature != NULL && strlen (signature) > 16)
            g_assert_null (strstr (captured_log->str, signature));
          for (guint j = 0; j < messages->len; j++)
            g_assert_null (strstr (g_ptr_array_index (messages, j), secret));
        }
      g_string_free (captured_log, TRUE);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The same flows against the demo tenant, which the app and the CLI use
 * with --demo. */
static void
test_demo_tenant (void)
{
  g_autoptr (RdDemoTenant) tenant = rd_demo_tenant_new ();
  g_autoptr (RdEntraAuth) auth = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *login_url = NULL;
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *cloud_id = g_strconcat ("test-demo-", uuid, NULL);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *token = NULL;
  g_autofree char *page = NULL;
  Fixture lookup = { .cloud_id = cloud_id };

  g_assert_true (rd_demo_tenant_load (tenant, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rd_demo_tenant_start (tenant, &error));
  g_assert_no_error (error);
  login_url = rd_demo_tenant_dup_login_url (tenant);
  auth = rd_entra_auth_new (cloud_id, login_url, NULL, NULL, &error);
  g_assert_no_error (error);
  rd_entra_auth_set_poll_interval_scale (auth, POLL_SCALE);

  /* Device code: slow_down and pending, then tokens. */
  rd_demo_tenant_set_device_code_interval (tenant, 1);
  rd_demo_tenant_set_device_code_pending (tenant, 2);
  rd_demo_tenant_set_device_code_slow_down (tenant, TRUE);
  g_assert_true (device_code_sign_in (auth, &error));
  g_assert_no_error (error);
  g_assert_true (rd_entra_auth_get_signed_in (auth));
  g_assert_cmpstr (rd_entra_auth_get_tenant_id (auth), ==, rd_demo_tenant_get_tenant_id (tenant));
  g_assert_nonnull (rd_entra_auth_get_username (auth));
  g_assert_nonnull (rd_entra_auth_get_display_name (auth));
  first = stored_refresh_token (&lookup);
  g_assert_nonnull (first);

  /* Rotation. */
  token = get_token (auth, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
  second = stored_refresh_token (&lookup);
  g_assert_nonnull (second);
  g_assert_cmpstr (first, !=, second);

  /* Outcomes. */
  rd_demo_tenant_set_device_code_pending (tenant, 0);
  rd_demo_tenant_set_device_code_outcome (tenant, RD_DEMO_DEVICE_CODE_DECLINE);
  g_assert_false (device_code_sign_in (auth, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_DECLINED);
  g_clear_error (&error);
  rd_demo_tenant_set_device_code_outcome (tenant, RD_DEMO_DEVICE_CODE_EXPIRE);
  g_assert_false (device_code_sign_in (auth, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_EXPIRED);
  g_clear_error (&error);
  rd_demo_tenant_set_device_code_outcome (tenant, RD_DEMO_DEVICE_CODE_BAD_CODE);
  g_assert_false (device_code_sign_in (auth, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_BAD_VERIFICATION_CODE);
  g_clear_error (&error);
  rd_demo_tenant_set_device_code_outcome (tenant, RD_DEMO_DEVICE_CODE_APPROVE);
  rd_demo_tenant_set_public_client_flows (tenant, FALSE);
  g_assert_false (device_code_sign_in (auth, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_PUBLIC_CLIENT);
  g_clear_error (&error);
  rd_demo_tenant_set_public_client_flows (tenant, TRUE);

  /* Browser, PKCE. */
  g_assert_true (browser_sign_in (auth, NULL, NULL, &page, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (page, "You can close this tab"));
  g_assert_false (browser_sign_in (auth, change_challenge, NULL, NULL, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (browser_sign_in (auth, NULL, change_state, NULL, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_STATE_MISMATCH);
  g_clear_error (&error);
  rd_demo_tenant_set_authorize_denied (tenant, TRUE);
  g_assert_false (browser_sign_in (auth, NULL, NULL, NULL, &error));
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_DECLINED);
  g_clear_error (&error);
  rd_demo_tenant_set_authorize_denied (tenant, FALSE);

  /* Sign in again, then the refresh tokens are revoked. */
  g_assert_true (browser_sign_in (auth, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  rd_demo_tenant_revoke_refresh_tokens (tenant);
  g_clear_pointer (&token, g_free);
  token = get_token (auth, TRUE, &error);
  g_assert_null (token);
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED);
  g_assert_false (rd_entra_auth_get_signed_in (auth));
  g_clear_pointer (&first, g_free);
  first = stored_refresh_token (&lookup);
  g_assert_null (first);

  rd_entra_auth_sign_out_async (auth, NULL, on_result_cb, &result);
  g_assert_true (rd_entra_auth_sign_out_finish (auth, wait_for (&result), NULL));
  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&auth));
  rd_demo_tenant_stop (tenant);
}

/* Found by fuzz/fuzz-token-response and fuzz/fuzz-jwt-claims: an empty body
 * made json_parser_load_from_data() fail an assertion, a huge expires_in was
 * converted with undefined behaviour, and claims that are not UTF-8 once
 * unescaped reached the signed-in user's name. */
static void
test_token_fuzz_regressions (void)
{
  g_autofree char *payload = rd_base64url_encode ((const guint8 *) "{\"name\":\"Dana\\ud800x\"}",
                                                  strlen ("{\"name\":\"Dana\\ud800x\"}"));
  g_autofree char *id_token = g_strconcat ("eyJhbGciOiJub25lIn0.", payload, ".c2ln", NULL);
  g_autofree char *reply = g_strdup_printf ("{\"token_type\":\"Bearer\",\"access_token\":"
                                            "\"opaque\",\"id_token\":\"%s\"}",
                                            id_token);
  static const char huge_expiry[] = "{\"token_type\":\"Bearer\",\"access_token\":\"opaque\","
                                    "\"expires_in\":1e300}";
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) huge = g_bytes_new_static (huge_expiry, strlen (huge_expiry));
  g_autoptr (GBytes) body = g_bytes_new (reply, strlen (reply));
  g_autoptr (RdEntraAuth) auth = NULL;
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *display_name = NULL;

  claims = rd_jwt_decode_claims (id_token, &error);
  g_assert_null (claims);
  g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
  g_clear_error (&error);

  auth = rd_entra_auth_new ("global", "https://login.microsoftonline.com", NULL, NULL, &error);
  g_assert_no_error (error);

  g_assert_false (_rd_entra_auth_take_token_response (auth, empty, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
  g_clear_error (&error);

  /* An expires_in beyond gint64 was converted with undefined behaviour. */
  g_assert_true (_rd_entra_auth_take_token_response (auth, huge, &error));
  g_assert_no_error (error);

  g_assert_true (_rd_entra_auth_take_token_response (auth, body, &error));
  g_assert_no_error (error);
  g_object_get (auth, "display-name", &display_name, NULL);
  g_assert_null (display_name);
  g_assert_finalize_object (g_steal_pointer (&auth));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/rd/entra-auth/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/rd/entra-auth/construct", test_construct);
  g_test_add_func ("/rd/entra-auth/construct-refused", test_construct_refused);
  g_test_add_func ("/rd/entra-auth/pkce", test_pkce);
  g_test_add_func ("/rd/entra-auth/base64url", test_base64url);
  g_test_add_func ("/rd/entra-auth/claims/valid", test_claims_valid);
  g_test_add_func ("/rd/entra-auth/claims/malformed", test_claims_malformed);
  g_test_add_func ("/rd/entra-auth/fuzz-regressions", test_token_fuzz_regressions);
  ADD ("device-code/success", test_device_code_success);
  ADD ("device-code/slow-down", test_device_code_slow_down);
  ADD ("device-code/interval", test_device_code_baseline_interval);
  g_test_add ("/rd/entra-auth/device-code/declined", Fixture, GUINT_TO_POINTER (0), fixture_set_up,
              test_device_code_failure, fixture_tear_down);
  g_test_add ("/rd/entra-auth/device-code/expired", Fixture, GUINT_TO_POINTER (1), fixture_set_up,
              test_device_code_failure, fixture_tear_down);
  g_test_add ("/rd/entra-auth/device-code/bad-code", Fixture, GUINT_TO_POINTER (2), fixture_set_up,
              test_device_code_failure, fixture_tear_down);
  g_test_add ("/rd/entra-auth/device-code/public-client", Fixture, GUINT_TO_POINTER (3),
              fixture_set_up, test_device_code_failure, fixture_tear_down);
  ADD ("device-code/cancel", test_device_code_cancel);
  ADD ("device-code/cancel-before", test_device_code_cancel_before);
  ADD ("browser/success", test_browser_success);
  ADD ("browser/authorize-url", test_browser_authorize_url);
  ADD ("browser/state-mismatch", test_browser_state_mismatch);
  ADD ("browser/access-denied", test_browser_access_denied);
  ADD ("browser/wrong-verifier", test_browser_wrong_verifier);
  ADD ("browser/cancel", test_browser_cancel);
  ADD ("refresh/rotation", test_refresh_rotation);
  ADD ("refresh/near-expiry", test_refresh_near_expiry);
  ADD ("refresh/shared", test_refresh_shared);
  ADD ("refresh/invalid-grant", test_refresh_invalid_grant);
  ADD ("sign-out", test_sign_out);
  ADD ("restore", test_restore);
  ADD ("restore/nothing", test_restore_nothing);
  ADD ("load", test_load);
  ADD ("load/bare-token", test_load_bare_token);
  ADD ("restore/revoked", test_restore_revoked);
  g_test_add_func ("/rd/entra-auth/demo-tenant", test_demo_tenant);
  g_test_add_func ("/rd/entra-auth/no-keyring", test_no_keyring);
  g_test_add_func ("/rd/entra-auth/no-token-in-logs", test_no_token_in_logs);

#undef ADD

  return g_test_run ();
}
