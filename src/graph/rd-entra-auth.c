/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-entra-auth"

#include "config.h"

#include "rd-entra-auth.h"
#include "rd-entra-auth-private.h"

#include "rd-cloud.h"
#include "rd-graph-error.h"
#include "rd-json-private.h"
#include "rd-jwt.h"
#include "rd-pkce.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libsecret/secret.h>
#include <libsoup/soup.h>
#include <string.h>

/* An access token is renewed this long before it expires, so that a request
 * never leaves with a token that dies on the way. */
#define ACCESS_TOKEN_MARGIN_USEC (2 * G_TIME_SPAN_MINUTE)

/* When a token response lacks expires_in: Entra's usual lifetime is longer,
 * so this only refreshes early. */
#define DEFAULT_EXPIRES_IN 3600

/* RFC 8628 §3.5: slow_down adds 5 seconds to the interval. */
#define SLOW_DOWN_SECONDS 5
#define DEFAULT_POLL_INTERVAL 5

#define HTTP_TIMEOUT_SECONDS 60

/* AADSTS7000218: the request body must contain client_assertion or
 * client_secret, that is, public client flows are off for the app. */
#define AADSTS_PUBLIC_CLIENT 7000218

static const char * const default_scopes[] = {
  "offline_access",
  "openid",
  "profile",
  "User.Read",
  "DeviceManagementManagedDevices.Read.All",
  "DeviceManagementManagedDevices.PrivilegedOperations.All",
  "DeviceManagementServiceConfig.Read.All",
  "DeviceManagementConfiguration.Read.All",
  "BitLockerKey.ReadBasic.All",
  NULL
};

/* Device codes */

struct _RdEntraDeviceCode
{
  grefcount ref_count;

  char *device_code; /* a secret */
  char *user_code;
  char *verification_uri;
  char *message;
  int expires_in;
  int interval;
  GDateTime *expires_at;
  gint64 expires_at_monotonic; /* scaled in tests */
};

G_DEFINE_BOXED_TYPE (RdEntraDeviceCode,
                     rd_entra_device_code,
                     rd_entra_device_code_ref,
                     rd_entra_device_code_unref)

/* Overwrites a secret before freeing it, so that it does not linger in freed
 * memory for a later allocation (or a core dump) to reveal. */
static void
clear_secret (char **secret)
{
  if (*secret != NULL)
    {
      memset (*secret, 0, strlen (*secret));
      g_clear_pointer (secret, g_free);
    }
}

RdEntraDeviceCode *
rd_entra_device_code_ref (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, NULL);

  g_ref_count_inc (&code->ref_count);

  return code;
}

void
rd_entra_device_code_unref (RdEntraDeviceCode *code)
{
  g_return_if_fail (code != NULL);

  if (!g_ref_count_dec (&code->ref_count))
    return;

  clear_secret (&code->device_code);
  g_free (code->user_code);
  g_free (code->verification_uri);
  g_free (code->message);
  g_clear_pointer (&code->expires_at, g_date_time_unref);
  g_free (code);
}

const char *
rd_entra_device_code_get_user_code (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, NULL);

  return code->user_code;
}

const char *
rd_entra_device_code_get_verification_uri (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, NULL);

  return code->verification_uri;
}

/**
 * rd_entra_device_code_get_message:
 *
 * Returns: (nullable): the instructions Entra wrote for the user, in English
 */
const char *
rd_entra_device_code_get_message (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, NULL);

  return code->message;
}

/**
 * rd_entra_device_code_get_expires_in:
 *
 * Returns: how many seconds the code was valid for when it was issued
 */
int
rd_entra_device_code_get_expires_in (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, 0);

  return code->expires_in;
}

/**
 * rd_entra_device_code_get_expires_at:
 *
 * Returns: (transfer none): when the code stops working
 */
GDateTime *
rd_entra_device_code_get_expires_at (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, NULL);

  return code->expires_at;
}

int
rd_entra_device_code_get_interval (RdEntraDeviceCode *code)
{
  g_return_val_if_fail (code != NULL, 0);

  return code->interval;
}

/* The object */

typedef struct _BrowserFlow BrowserFlow;

struct _RdEntraAuth
{
  GObject parent_instance;

  char *cloud_id;
  char *login_endpoint;
  char *tenant;
  char *client_id;
  GStrv scopes;
  char *scope;

  SoupSession *session;
  double poll_interval_scale;

  /* Secrets, in memory only; the refresh token is also kept in the Secret
   * Service. */
  char *access_token;
  gint64 access_token_expires_at; /* monotonic */
  char *refresh_token;

  char *username;
  char *display_name;
  char *tenant_id;
  gboolean signed_in;

  /* Bumped by every sign-in and sign-out, so that an answer to a request
   * sent before is not applied after. */
  guint generation;
  /* Cancelled by sign-out and dispose: the operations the object runs on
   * its own (the shared refresh). */
  GCancellable *cancellable;
  /* GTasks waiting for the refresh in flight; NULL when none is. */
  GPtrArray *refresh_waiters;

  BrowserFlow *browser;
};

static void rd_entra_auth_initable_iface_init (GInitableIface *iface);
static void rd_entra_auth_token_source_iface_init (RdTokenSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RdEntraAuth, rd_entra_auth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      rd_entra_auth_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (RD_TYPE_TOKEN_SOURCE,
                                                      rd_entra_auth_token_source_iface_init))

enum
{
  PROP_0,
  PROP_CLOUD_ID,
  PROP_LOGIN_ENDPOINT,
  PROP_TENANT,
  PROP_CLIENT_ID,
  PROP_SCOPES,
  PROP_SIGNED_IN,
  PROP_USERNAME,
  PROP_DISPLAY_NAME,
  PROP_TENANT_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Endpoints and validation */

/* Tenant and client id go into URL paths and forms: keep them to the
 * characters GUIDs, domain names and the well-known tenants use. */
static gboolean
is_plain_identifier (const char *text)
{
  if (*text == '\0' || strlen (text) > 256)
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
        return FALSE;
    }

  return TRUE;
}

static char *
endpoint_url (RdEntraAuth *self,
              const char  *name)
{
  return g_strdup_printf ("%s/%s/oauth2/v2.0/%s", self->login_endpoint, self->tenant, name);
}

/* Properties */

static void
set_string (RdEntraAuth *self,
            char       **field,
            const char  *value,
            int          prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
update_signed_in (RdEntraAuth *self)
{
  gboolean signed_in = self->access_token != NULL || self->refresh_token != NULL;

  if (self->signed_in == signed_in)
    return;

  self->signed_in = signed_in;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNED_IN]);
}

static const char *
claim_string (JsonObject *claims,
              const char *name)
{
  JsonNode *node;

  if (claims == NULL)
    return NULL;

  node = json_object_get_member (claims, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* The first of @names found in the id token's claims, else in the access
 * token's. */
static const char *
find_claim (JsonObject         *id_claims,
            JsonObject         *access_claims,
            const char * const *names)
{
  for (const char * const *name = names; *name != NULL; name++)
    {
      const char *value = claim_string (id_claims, *name);

      if (value == NULL)
        value = claim_string (access_claims, *name);
      if (value != NULL && *value != '\0')
        return value;
    }

  return NULL;
}

static JsonObject *
decode_claims_quietly (const char *jwt)
{
  g_autoptr (GError) error = NULL;
  JsonObject *claims;

  if (jwt == NULL)
    return NULL;

  claims = rd_jwt_decode_claims (jwt, &error);
  if (claims == NULL)
    g_debug ("Token claims unreadable: %s", error->message);

  return claims;
}

/* Who is signed in, for display, and to which tenant. */
typedef struct
{
  char *username;
  char *display_name;
  char *tenant_id;
} Identity;

static void
identity_clear (Identity *identity)
{
  g_clear_pointer (&identity->username, g_free);
  g_clear_pointer (&identity->display_name, g_free);
  g_clear_pointer (&identity->tenant_id, g_free);
}

/* The id token is meant to be read by the client; Microsoft's access
 * tokens are JWTs too, but that may change. FALSE when neither reads. */
static gboolean
identity_from_tokens (Identity   *identity,
                      const char *id_token,
                      const char *access_token)
{
  static const char * const username_claims[] = { "upn", "preferred_username", "unique_name",
                                                   "email", NULL };
  static const char * const name_claims[] = { "name", NULL };
  static const char * const tenant_claims[] = { "tid", NULL };
  g_autoptr (JsonObject) id_claims = decode_claims_quietly (id_token);
  g_autoptr (JsonObject) access_claims = decode_claims_quietly (access_token);

  if (id_claims == NULL && access_claims == NULL)
    return FALSE;

  identity->username = g_strdup (find_claim (id_claims, access_claims, username_claims));
  identity->display_name = g_strdup (find_claim (id_claims, access_claims, name_claims));
  identity->tenant_id = g_strdup (find_claim (id_claims, access_claims, tenant_claims));
  return TRUE;
}

static void
set_identity (RdEntraAuth    *self,
              const Identity *identity)
{
  set_string (self, &self->username, identity->username, PROP_USERNAME);
  set_string (self, &self->display_name, identity->display_name, PROP_DISPLAY_NAME);
  set_string (self, &self->tenant_id, identity->tenant_id, PROP_TENANT_ID);
}

static void
update_claims (RdEntraAuth *self,
               const char  *id_token,
               const char  *access_token)
{
  Identity identity = { NULL };

  /* A refresh may come back without an id token; keep what we knew. */
  if (identity_from_tokens (&identity, id_token, access_token))
    set_identity (self, &identity);
  identity_clear (&identity);
}

static void
clear_session (RdEntraAuth *self)
{
  clear_secret (&self->access_token);
  clear_secret (&self->refresh_token);
  self->access_token_expires_at = 0;
  set_string (self, &self->username, NULL, PROP_USERNAME);
  set_string (self, &self->display_name, NULL, PROP_DISPLAY_NAME);
  set_string (self, &self->tenant_id, NULL, PROP_TENANT_ID);
  update_signed_in (self);
}

static gboolean
access_token_is_fresh (RdEntraAuth *self)
{
  return self->access_token != NULL &&
         g_get_monotonic_time () < self->access_token_expires_at - ACCESS_TOKEN_MARGIN_USEC;
}

/* Token responses */

typedef struct
{
  char *access_token;
  char *refresh_token;
  char *id_token;
  gint64 expires_in;
} Tokens;

static void
tokens_free (Tokens *tokens)
{
  clear_secret (&tokens->access_token);
  clear_secret (&tokens->refresh_token);
  clear_secret (&tokens->id_token);
  g_free (tokens);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tokens, tokens_free)

static const char *
member_string (JsonObject *object,
               const char *name)
{
  return claim_string (object, name);
}

/* expires_in and interval are numbers in v2.0 answers, strings in older
 * ones. */
static gint64
member_seconds (JsonObject *object,
                const char *name,
                gint64      fallback)
{
  JsonNode *node = json_object_get_member (object, name);
  gint64 value = fallback;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    {
      double seconds = json_node_get_double (node);

      /* Converting a double beyond gint64's range is undefined behaviour. */
      if (seconds >= G_MAXINT)
        value = G_MAXINT;
      else if (seconds > 0)
        value = (gint64) seconds;
    }
  else if (json_node_get_value_type (node) == G_TYPE_STRING &&
           !g_ascii_string_to_signed (json_node_get_string (node), 10, 0, G_MAXINT, &value, NULL))
    value = fallback;

  return value > 0 ? MIN (value, G_MAXINT) : fallback;
}

static Tokens *
parse_tokens (JsonObject  *object,
              GError     **error)
{
  g_autoptr (Tokens) tokens = g_new0 (Tokens, 1);
  const char *token_type = member_string (object, "token_type");

  tokens->access_token = g_strdup (member_string (object, "access_token"));
  if (tokens->access_token == NULL || *tokens->access_token == '\0' ||
      (token_type != NULL && g_ascii_strcasecmp (token_type, "Bearer") != 0))
    {
      g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                   _("The sign-in service answered without a bearer access token."));
      return NULL;
    }

  tokens->refresh_token = g_strdup (member_string (object, "refresh_token"));
  tokens->id_token = g_strdup (member_string (object, "id_token"));
  tokens->expires_in = member_seconds (object, "expires_in", DEFAULT_EXPIRES_IN);

  return g_steal_pointer (&tokens);
}

static void
apply_tokens (RdEntraAuth *self,
              Tokens      *tokens)
{
  clear_secret (&self->access_token);
  self->access_token = g_steal_pointer (&tokens->access_token);
  self->access_token_expires_at = g_get_monotonic_time () + tokens->expires_in * G_USEC_PER_SEC;

  if (tokens->refresh_token != NULL)
    {
      clear_secret (&self->refresh_token);
      self->refresh_token = g_steal_pointer (&tokens->refresh_token);
    }

  update_claims (self, tokens->id_token, self->access_token);
  update_signed_in (self);
}

/* Errors from the token endpoint */

static gboolean
has_error_code (JsonObject *object,
                gint64      code)
{
  JsonNode *node = json_object_get_member (object, "error_codes");
  const char *description = member_string (object, "error_description");
  g_autofree char *tag = g_strdup_printf ("AADSTS%" G_GINT64_FORMAT ":", code);

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *codes = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (codes); i++)
        {
          JsonNode *element = json_array_get_element (codes, i);

          if (JSON_NODE_HOLDS_VALUE (element) &&
              json_node_get_value_type (element) == G_TYPE_INT64 &&
              json_node_get_int (element) == code)
            return TRUE;
        }
    }

  return description != NULL && strstr (description, tag) != NULL;
}

/* What Entra said, for the admin: the first line of error_description
 * (the rest is trace and correlation ids), unless it quotes one of the
 * secrets the request carried. */
static char *
describe_oauth_error (const char         *error_code,
                      const char         *description,
                      const char * const *secrets)
{
  g_autofree char *line = NULL;

  if (description == NULL || *description == '\0')
    return g_strdup (error_code);

  line = g_strndup (description, strcspn (description, "\r\n"));
  for (const char * const *secret = secrets; secret != NULL && *secret != NULL; secret++)
    {
      if (**secret != '\0' && strstr (description, *secret) != NULL)
        return g_strdup (error_code);
    }

  g_strstrip (line);
  while (*line != '\0' && line[strlen (line) - 1] == '.')
    line[strlen (line) - 1] = '\0';

  return g_strdup_printf ("%s: %s", error_code, line);
}

typedef enum
{
  GRANT_DEVICE_CODE,
  GRANT_AUTHORIZATION_CODE,
  GRANT_REFRESH_TOKEN,
} Grant;

/* Turns an OAuth error answer into a GError a person can act on. */
static GError *
oauth_error (RdEntraAuth        *self,
             JsonObject         *object,
             Grant               grant,
             const char * const *secrets)
{
  const char *error_code = member_string (object, "error");
  g_autofree char *said = NULL;

  if (error_code == NULL)
    return g_error_new (RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                        _("The sign-in service refused the request without saying why. Check the "
                          "login endpoint."));

  said = describe_oauth_error (error_code, member_string (object, "error_description"), secrets);

  if (has_error_code (object, AADSTS_PUBLIC_CLIENT))
    return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_PUBLIC_CLIENT,
                        _("Microsoft Entra ID refused to sign in with app %s because it is not a "
                          "public client: the app registration must allow public client flows "
                          "(Authentication → Advanced settings → Allow public client flows = Yes)."),
                        self->client_id);

  if (g_str_equal (error_code, "authorization_declined") ||
      g_str_equal (error_code, "access_denied"))
    return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_DECLINED,
                        _("The sign-in was declined. To use Recovery Desk, sign in again and "
                          "approve the request."));

  if (g_str_equal (error_code, "expired_token"))
    return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_EXPIRED,
                        _("The sign-in code expired before the sign-in was finished. Start the "
                          "sign-in again and enter the new code promptly."));

  if (g_str_equal (error_code, "bad_verification_code"))
    return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_BAD_VERIFICATION_CODE,
                        _("Microsoft Entra ID did not recognize the sign-in code. Start the "
                          "sign-in again to get a new code."));

  if (grant == GRANT_REFRESH_TOKEN &&
      (g_str_equal (error_code, "invalid_grant") ||
       g_str_equal (error_code, "interaction_required")))
    return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED,
                        _("Your saved sign-in is no longer valid (%s). Sign in again."), said);

  if (g_str_equal (error_code, "interaction_required"))
    return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED,
                        _("Microsoft Entra ID needs you to sign in interactively (%s). Use the "
                          "browser sign-in."),
                        said);

  return g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                      _("Microsoft Entra ID refused the sign-in (%s)."), said);
}

/* Requests to the login endpoint */

typedef struct
{
  SoupMessage *message;
  char *host;
} RequestData;

static void
request_data_free (RequestData *data)
{
  g_clear_object (&data->message);
  g_free (data->host);
  g_free (data);
}

/* The JSON object a login endpoint answer holds, or %NULL. */
static JsonObject *
reply_from_body (GBytes *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  /* json_parser_load_from_data() refuses NULL, which an empty GBytes has. */
  if (g_bytes_get_size (body) == 0)
    return NULL;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                   NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !_rd_json_node_is_utf8 (root))
    return NULL;

  return json_object_ref (json_node_get_object (root));
}

static void
on_token_request_read_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  JsonObject *reply;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK,
                                 _("Could not reach the Microsoft Entra sign-in service at %s: %s"),
                                 data->host, error->message);
      return;
    }

  status = soup_message_get_status (data->message);
  g_debug ("Login endpoint answered HTTP %u", status);

  reply = reply_from_body (body);
  if (reply == NULL)
    {
      g_task_return_new_error (task, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                               _("The sign-in service at %s answered HTTP %u with something that "
                                 "is not JSON. Check the login endpoint."),
                               data->host, status);
      return;
    }

  g_task_set_task_data (task, NULL, NULL);
  g_task_return_pointer (task, reply, (GDestroyNotify) json_object_unref);
}

/* POSTs @form (taken) to the endpoint @name; returns the JSON object of the
 * answer, whatever its status. */
static void
token_request_async (RdEntraAuth         *self,
                     const char          *name,
                     char                *form,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *url = endpoint_url (self, name);
  RequestData *data = g_new0 (RequestData, 1);

  g_task_set_source_tag (task, token_request_async);
  g_task_set_task_data (task, data, (GDestroyNotify) request_data_free);

  data->message = soup_message_new_from_encoded_form (SOUP_METHOD_POST, url, form);
  if (data->message == NULL)
    {
      g_task_return_new_error (task, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT,
                               _("The login endpoint “%s” does not make a valid address."),
                               self->login_endpoint);
      return;
    }
  data->host = g_strdup (g_uri_get_host (soup_message_get_uri (data->message)));
  soup_message_headers_replace (soup_message_get_request_headers (data->message), "Accept",
                                "application/json");

  g_debug ("POST %s", url);
  soup_session_send_and_read_async (self->session, data->message, G_PRIORITY_DEFAULT, cancellable,
                                    on_token_request_read_cb, g_steal_pointer (&task));
}

static JsonObject *
token_request_finish (RdEntraAuth   *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The Secret Service */

const SecretSchema *
rd_entra_auth_get_secret_schema (void)
{
  static const SecretSchema schema = {
    "io.github.recoverydesk.RecoveryDesk.RefreshToken",
    SECRET_SCHEMA_NONE,
    {
      { "cloud", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "tenant", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "client-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

static GError *
keyring_error (GError *error)
{
  GError *keyring;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;

  keyring = g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                         _("No keyring is available to keep the sign-in (%s). Recovery Desk keeps "
                           "its sign-in only in a Secret Service keyring: install and unlock one, "
                           "such as GNOME Keyring, then sign in again."),
                         error->message);
  g_error_free (error);

  return keyring;
}

/* What the keyring keeps: the refresh token, with whom and which tenant it
 * signs in, so that a start can open the tenant's cached inventory before
 * (or without) reaching Entra ID:
 *
 *   {"refreshToken": "…", "tenantId": "…", "username": "…", "displayName": "…"}
 *
 * Earlier versions kept the bare refresh token; that still reads. */
static char *
make_stored_secret (const char     *refresh_token,
                    const Identity *identity)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "refreshToken");
  json_builder_add_string_value (builder, refresh_token);
  if (identity->tenant_id != NULL)
    {
      json_builder_set_member_name (builder, "tenantId");
      json_builder_add_string_value (builder, identity->tenant_id);
    }
  if (identity->username != NULL)
    {
      json_builder_set_member_name (builder, "username");
      json_builder_add_string_value (builder, identity->username);
    }
  if (identity->display_name != NULL)
    {
      json_builder_set_member_name (builder, "displayName");
      json_builder_add_string_value (builder, identity->display_name);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

/* The refresh token of a stored secret, and the identity kept with it.
 * Nothing about the secret is logged. */
static char *
read_stored_secret (const char *secret,
                    Identity   *identity)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;
  const char *refresh_token;

  if (secret[0] != '{' || !json_parser_load_from_data (parser, secret, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup (secret);

  object = json_node_get_object (json_parser_get_root (parser));
  refresh_token = json_object_get_string_member_with_default (object, "refreshToken", NULL);
  if (refresh_token == NULL || *refresh_token == '\0')
    return NULL;

  identity->tenant_id =
    g_strdup (json_object_get_string_member_with_default (object, "tenantId", NULL));
  identity->username =
    g_strdup (json_object_get_string_member_with_default (object, "username", NULL));
  identity->display_name =
    g_strdup (json_object_get_string_member_with_default (object, "displayName", NULL));

  return g_strdup (refresh_token);
}

/* @tokens: those of a sign-in or a refresh: their refresh token is kept,
 * with the identity their claims name (or, without claims, the one known) */
static void
store_refresh_token_async (RdEntraAuth         *self,
                           Tokens              *tokens,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autofree char *label = g_strdup_printf (_("Recovery Desk sign-in (%s, %s)"), self->tenant,
                                            self->cloud_id);
  Identity identity = { NULL };
  char *secret;

  if (!identity_from_tokens (&identity, tokens->id_token, tokens->access_token))
    {
      identity.username = g_strdup (self->username);
      identity.display_name = g_strdup (self->display_name);
      identity.tenant_id = g_strdup (self->tenant_id);
    }
  secret = make_stored_secret (tokens->refresh_token, &identity);
  identity_clear (&identity);

  g_debug ("Storing the refresh token in the Secret Service");
  secret_password_store (rd_entra_auth_get_secret_schema (), SECRET_COLLECTION_DEFAULT, label,
                         secret, cancellable, callback, user_data, "cloud", self->cloud_id,
                         "tenant", self->tenant, "client-id", self->client_id, NULL);
  clear_secret (&secret);
}

static void
clear_refresh_token_async (RdEntraAuth         *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_debug ("Removing the refresh token from the Secret Service");
  secret_password_clear (rd_entra_auth_get_secret_schema (), cancellable, callback, user_data,
                         "cloud", self->cloud_id, "tenant", self->tenant, "client-id",
                         self->client_id, NULL);
}

/* Signing in: common end */

typedef struct
{
  Tokens *tokens;
  guint generation;
} SignInData;

static void
sign_in_data_free (SignInData *data)
{
  g_clear_pointer (&data->tokens, tokens_free);
  g_free (data);
}

static void
on_sign_in_stored_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdEntraAuth *self = g_task_get_source_object (task);
  SignInData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    {
      g_task_return_error (task, keyring_error (g_steal_pointer (&error)));
      return;
    }

  if (data->generation != self->generation)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The sign-in was cancelled."));
      return;
    }

  apply_tokens (self, data->tokens);
  g_debug ("Signed in");
  g_task_return_boolean (task, TRUE);
}

/* Keeps the refresh token in the keyring, then takes the tokens; a sign-in
 * that cannot be kept fails, as Recovery Desk never keeps one elsewhere. */
static void
finish_sign_in (RdEntraAuth *self,
                GTask       *task,
                JsonObject  *reply)
{
  g_autoptr (GError) error = NULL;
  SignInData *data;
  Tokens *tokens;

  tokens = parse_tokens (reply, &error);
  if (tokens == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* A new sign-in replaces the old one, and any refresh still in flight for
   * it. */
  self->generation++;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  data = g_new0 (SignInData, 1);
  data->tokens = tokens;
  data->generation = self->generation;
  g_task_set_task_data (task, data, (GDestroyNotify) sign_in_data_free);

  if (tokens->refresh_token == NULL)
    {
      /* Without offline_access granted there is nothing to keep. */
      g_debug ("No refresh token in the answer; the sign-in lasts this session");
      apply_tokens (self, tokens);
      g_task_return_boolean (task, TRUE);
      return;
    }

  store_refresh_token_async (self, tokens, g_task_get_cancellable (task), on_sign_in_stored_cb,
                             g_object_ref (task));
}

/* Device-code sign-in */

static char *
device_code_form (RdEntraAuth *self)
{
  return soup_form_encode ("client_id", self->client_id, "scope", self->scope, NULL);
}

static void
on_device_code_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);
  g_autoptr (GTask) task = user_data;
  g_autoptr (JsonObject) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = NULL;
  RdEntraDeviceCode *code;

  reply = token_request_finish (self, result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (member_string (reply, "error") != NULL || member_string (reply, "device_code") == NULL ||
      member_string (reply, "user_code") == NULL ||
      member_string (reply, "verification_uri") == NULL)
    {
      g_task_return_error (task, oauth_error (self, reply, GRANT_DEVICE_CODE, NULL));
      return;
    }

  code = g_new0 (RdEntraDeviceCode, 1);
  g_ref_count_init (&code->ref_count);
  code->device_code = g_strdup (member_string (reply, "device_code"));
  code->user_code = g_strdup (member_string (reply, "user_code"));
  code->verification_uri = g_strdup (member_string (reply, "verification_uri"));
  code->message = g_strdup (member_string (reply, "message"));
  code->expires_in = (int) member_seconds (reply, "expires_in", 900);
  code->interval = (int) member_seconds (reply, "interval", DEFAULT_POLL_INTERVAL);
  now = g_date_time_new_now_utc ();
  code->expires_at = g_date_time_add_seconds (now, code->expires_in);
  code->expires_at_monotonic =
    g_get_monotonic_time () +
    (gint64) (code->expires_in * self->poll_interval_scale * G_USEC_PER_SEC);

  g_debug ("Device code issued; it expires in %d s, poll every %d s", code->expires_in,
           code->interval);
  g_task_return_pointer (task, code, (GDestroyNotify) rd_entra_device_code_unref);
}

/**
 * rd_entra_auth_begin_device_code_async:
 *
 * Asks Entra for a device code. Show its user code and verification URI (or
 * its message), then call rd_entra_auth_complete_device_code_async().
 */
void
rd_entra_auth_begin_device_code_async (RdEntraAuth         *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_entra_auth_begin_device_code_async);

  token_request_async (self, "devicecode", device_code_form (self), cancellable, on_device_code_cb,
                       g_steal_pointer (&task));
}

/**
 * rd_entra_auth_begin_device_code_finish:
 *
 * Returns: (transfer full): the code to show
 */
RdEntraDeviceCode *
rd_entra_auth_begin_device_code_finish (RdEntraAuth   *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                          rd_entra_auth_begin_device_code_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  RdEntraDeviceCode *code;
  int interval;
  GSource *timeout_source;
  GSource *cancel_source;
} PollData;

static void
poll_data_free (PollData *data)
{
  if (data->timeout_source != NULL)
    g_source_destroy (data->timeout_source);
  g_clear_pointer (&data->timeout_source, g_source_unref);
  if (data->cancel_source != NULL)
    g_source_destroy (data->cancel_source);
  g_clear_pointer (&data->cancel_source, g_source_unref);
  g_clear_pointer (&data->code, rd_entra_device_code_unref);
  g_free (data);
}

static void schedule_poll (GTask *task);

static void
stop_waiting (PollData *data)
{
  if (data->timeout_source != NULL)
    g_source_destroy (data->timeout_source);
  g_clear_pointer (&data->timeout_source, g_source_unref);
  if (data->cancel_source != NULL)
    g_source_destroy (data->cancel_source);
  g_clear_pointer (&data->cancel_source, g_source_unref);
}

static void
on_poll_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);
  g_autoptr (GTask) task = user_data;
  PollData *data = g_task_get_task_data (task);
  g_autoptr (JsonObject) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *error_code;

  reply = token_request_finish (self, result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  error_code = member_string (reply, "error");
  if (error_code == NULL)
    {
      g_task_set_task_data (task, NULL, NULL);
      finish_sign_in (self, task, reply);
      return;
    }

  if (g_str_equal (error_code, "authorization_pending"))
    {
      g_debug ("Device code: authorization pending");
      schedule_poll (task);
      return;
    }

  if (g_str_equal (error_code, "slow_down"))
    {
      data->interval += SLOW_DOWN_SECONDS;
      g_debug ("Device code: slow down; polling every %d s now", data->interval);
      schedule_poll (task);
      return;
    }

  {
    const char *secrets[] = { data->code->device_code, NULL };

    g_debug ("Device code: %s", error_code);
    g_task_return_error (task, oauth_error (self, reply, GRANT_DEVICE_CODE, secrets));
  }
}

static gboolean
on_poll_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  RdEntraAuth *self = g_task_get_source_object (task);
  PollData *data = g_task_get_task_data (task);
  g_autofree char *form = NULL;

  stop_waiting (data);

  form = soup_form_encode ("grant_type", "urn:ietf:params:oauth:grant-type:device_code",
                           "client_id", self->client_id, "device_code", data->code->device_code,
                           NULL);
  token_request_async (self, "token", g_steal_pointer (&form), g_task_get_cancellable (task),
                       on_poll_cb, g_object_ref (task));

  return G_SOURCE_REMOVE;
}

static gboolean
on_poll_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  GTask *task = user_data;
  PollData *data = g_task_get_task_data (task);

  g_debug ("Device code: polling cancelled");
  stop_waiting (data);
  g_task_return_error_if_cancelled (task);

  return G_SOURCE_REMOVE;
}

/* Waits one interval, then asks again; a cancel ends the wait at once. */
static void
schedule_poll (GTask *task)
{
  RdEntraAuth *self = g_task_get_source_object (task);
  PollData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  guint delay_ms = (guint) MAX (1.0, data->interval * self->poll_interval_scale * 1000.0);

  if (g_get_monotonic_time () + (gint64) delay_ms * 1000 >= data->code->expires_at_monotonic)
    {
      g_debug ("Device code: expired here before the next poll");
      g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_EXPIRED,
                               _("The sign-in code expired before the sign-in was finished. Start "
                                 "the sign-in again and enter the new code promptly."));
      return;
    }

  data->timeout_source = g_timeout_source_new (delay_ms);
  g_task_attach_source (task, data->timeout_source, on_poll_timeout_cb);

  if (cancellable != NULL)
    {
      data->cancel_source = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, data->cancel_source, (GSourceFunc) on_poll_cancelled_cb);
    }
}

/**
 * rd_entra_auth_complete_device_code_async:
 * @code: from rd_entra_auth_begin_device_code_finish()
 *
 * Polls the token endpoint at the code's interval until the user has signed
 * in (or declined, or the code expired), then keeps the refresh token in the
 * keyring. Cancelling stops the polling at once.
 */
void
rd_entra_auth_complete_device_code_async (RdEntraAuth         *self,
                                          RdEntraDeviceCode   *code,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  PollData *data;

  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (code != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_entra_auth_complete_device_code_async);

  data = g_new0 (PollData, 1);
  data->code = rd_entra_device_code_ref (code);
  data->interval = MAX (code->interval, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) poll_data_free);

  if (g_task_return_error_if_cancelled (task))
    return;

  schedule_poll (task);
}

gboolean
rd_entra_auth_complete_device_code_finish (RdEntraAuth   *self,
                                           GAsyncResult  *result,
                                           GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                          rd_entra_auth_complete_device_code_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Browser sign-in */

struct _BrowserFlow
{
  grefcount ref_count;

  RdEntraAuth *self; /* unowned; NULL once the flow is over */
  SoupServer *server;
  char *redirect_uri;
  char *state;
  char *verifier; /* a secret */

  /* The redirect's outcome, once its page has been sent. */
  gboolean have_outcome;
  char *code; /* a secret */
  GError *error;

  GTask *task; /* rd_entra_auth_complete_browser_async()'s, once called */
  GSource *cancel_source;
};

static BrowserFlow *
browser_flow_ref (BrowserFlow *flow)
{
  g_ref_count_inc (&flow->ref_count);
  return flow;
}

static void
browser_flow_unref (BrowserFlow *flow)
{
  if (!g_ref_count_dec (&flow->ref_count))
    return;

  g_assert (flow->server == NULL);
  g_assert (flow->task == NULL);
  g_free (flow->redirect_uri);
  clear_secret (&flow->state);
  clear_secret (&flow->verifier);
  clear_secret (&flow->code);
  g_clear_error (&flow->error);
  g_free (flow);
}

static void
browser_flow_stop_server (BrowserFlow *flow)
{
  if (flow->server == NULL)
    return;

  g_debug ("Browser sign-in: stopping the redirect server");
  soup_server_disconnect (flow->server);
  g_clear_object (&flow->server);
}

static void
browser_flow_stop_waiting (BrowserFlow *flow)
{
  if (flow->cancel_source != NULL)
    g_source_destroy (flow->cancel_source);
  g_clear_pointer (&flow->cancel_source, g_source_unref);
}

/* Ends @self's browser flow: no more redirects, and a waiting task gets
 * @error (if any, else it is dropped by whoever took it). */
static void
end_browser_flow (RdEntraAuth *self,
                  GError      *error)
{
  BrowserFlow *flow = g_steal_pointer (&self->browser);
  g_autoptr (GError) owned_error = error;

  if (flow == NULL)
    return;

  flow->self = NULL;
  browser_flow_stop_waiting (flow);
  browser_flow_stop_server (flow);
  if (flow->task != NULL)
    {
      g_autoptr (GTask) task = g_steal_pointer (&flow->task);

      if (owned_error != NULL)
        g_task_return_error (task, g_steal_pointer (&owned_error));
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("The browser sign-in was cancelled."));
    }
  browser_flow_unref (flow);
}

static void
on_authorization_code_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);
  g_autoptr (GTask) task = user_data;
  g_autoptr (JsonObject) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = token_request_finish (self, result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (member_string (reply, "error") != NULL)
    {
      g_debug ("Browser sign-in: the code was refused: %s", member_string (reply, "error"));
      g_task_return_error (task, oauth_error (self, reply, GRANT_AUTHORIZATION_CODE, NULL));
      return;
    }

  finish_sign_in (self, task, reply);
}

/* The redirect has come and its page is sent: redeem the code, or fail. */
static void
browser_flow_proceed (BrowserFlow *flow)
{
  RdEntraAuth *self = flow->self;
  g_autoptr (GTask) task = g_steal_pointer (&flow->task);
  g_autofree char *form = NULL;
  GCancellable *cancellable;

  g_assert (self != NULL && task != NULL && flow->have_outcome);

  browser_flow_stop_waiting (flow);

  if (flow->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&flow->error));
      end_browser_flow (self, NULL);
      return;
    }

  g_debug ("Browser sign-in: redeeming the authorization code");
  form = soup_form_encode ("grant_type", "authorization_code", "client_id", self->client_id,
                           "scope", self->scope, "code", flow->code, "redirect_uri",
                           flow->redirect_uri, "code_verifier", flow->verifier, NULL);
  cancellable = g_task_get_cancellable (task);
  token_request_async (self, "token", g_steal_pointer (&form), cancellable,
                       on_authorization_code_cb, g_steal_pointer (&task));
  end_browser_flow (self, NULL);
}

static gboolean
on_redirect_page_sent_idle_cb (gpointer user_data)
{
  BrowserFlow *flow = user_data;

  /* The page has gone out, so the server can stop before the code is
   * redeemed: nothing else may knock on that port. */
  browser_flow_stop_server (flow);

  if (flow->self != NULL && flow->task != NULL)
    browser_flow_proceed (flow);

  return G_SOURCE_REMOVE;
}

static void
on_redirect_finished_cb (SoupServerMessage *msg,
                         gpointer           user_data)
{
  BrowserFlow *flow = user_data;

  g_idle_add_full (G_PRIORITY_DEFAULT, on_redirect_page_sent_idle_cb, browser_flow_ref (flow),
                   (GDestroyNotify) browser_flow_unref);
}

static void
respond_page (SoupServerMessage *msg,
              guint              status,
              const char        *heading,
              const char        *text)
{
  g_autofree char *heading_html = g_markup_escape_text (heading, -1);
  g_autofree char *text_html = g_markup_escape_text (text, -1);
  g_autofree char *title_html = g_markup_escape_text (_("Recovery Desk"), -1);
  g_autofree char *page = NULL;
  size_t page_len;

  page = g_strdup_printf ("<!DOCTYPE html>\n"
                          "<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
                          "<body style=\"font-family: sans-serif; margin: 4em auto; "
                          "max-width: 36em\">\n"
                          "<h1>%s</h1>\n<p>%s</p>\n</body></html>\n",
                          title_html, heading_html, text_html);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-store");
  page_len = strlen (page);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&page), page_len);
}

static void
on_redirect_cb (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  BrowserFlow *flow = user_data;
  const char *state = query != NULL ? g_hash_table_lookup (query, "state") : NULL;
  const char *code = query != NULL ? g_hash_table_lookup (query, "code") : NULL;
  const char *error_code = query != NULL ? g_hash_table_lookup (query, "error") : NULL;

  /* Redirects without a path come back with a trailing "/"; anything else
   * (a favicon) is not ours. */
  if (g_strcmp0 (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0 ||
      (g_strcmp0 (path, "/") != 0 && g_strcmp0 (path, "") != 0))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (flow->have_outcome || flow->self == NULL)
    {
      respond_page (msg, SOUP_STATUS_OK, _("Sign-in already handled"),
                    _("Recovery Desk has already received this sign-in. You can close this "
                      "tab."));
      return;
    }

  if (code == NULL && error_code == NULL)
    {
      respond_page (msg, SOUP_STATUS_BAD_REQUEST, _("Not a sign-in response"),
                    _("This address only receives Recovery Desk’s sign-in from Microsoft. You "
                      "can close this tab."));
      return;
    }

  flow->have_outcome = TRUE;

  if (state == NULL || !g_str_equal (state, flow->state))
    {
      g_debug ("Browser sign-in: the redirect's state does not match");
      flow->error = g_error_new (RD_AUTH_ERROR, RD_AUTH_ERROR_STATE_MISMATCH,
                                 _("The browser returned a sign-in that Recovery Desk did not "
                                   "start, so it was refused. Sign in again."));
      respond_page (msg, SOUP_STATUS_BAD_REQUEST, _("Sign-in refused"),
                    _("This sign-in response does not belong to the sign-in Recovery Desk "
                      "started. Close this tab and sign in again from Recovery Desk."));
    }
  else if (error_code != NULL)
    {
      g_autoptr (JsonObject) object = json_object_new ();
      const char *description = g_hash_table_lookup (query, "error_description");

      g_debug ("Browser sign-in: the redirect carries error %s", error_code);
      json_object_set_string_member (object, "error", error_code);
      if (description != NULL)
        json_object_set_string_member (object, "error_description", description);
      flow->error = oauth_error (flow->self, object, GRANT_AUTHORIZATION_CODE, NULL);
      respond_page (msg, SOUP_STATUS_OK, _("Sign-in not completed"),
                    _("Recovery Desk was not signed in. You can close this tab and return to "
                      "Recovery Desk."));
    }
  else
    {
      g_debug ("Browser sign-in: the redirect carries a code");
      flow->code = g_strdup (code);
      respond_page (msg, SOUP_STATUS_OK, _("Signed in"),
                    _("Recovery Desk is signing you in. You can close this tab."));
    }

  g_signal_connect_data (msg, "finished", G_CALLBACK (on_redirect_finished_cb),
                         browser_flow_ref (flow), (GClosureNotify) browser_flow_unref, 0);
}

static gboolean
listen_on_loopback (SoupServer  *server,
                    GError     **error)
{
  g_autoptr (GError) local_error = NULL;

  /* Both loopback addresses on one port when there is IPv6, as browsers may
   * look "localhost" up as ::1 first; IPv4 alone otherwise. */
  if (soup_server_listen_local (server, 0, 0, &local_error))
    return TRUE;

  g_debug ("Browser sign-in: cannot listen on both loopback addresses (%s); IPv4 only",
           local_error->message);
  soup_server_disconnect (server);

  return soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, error);
}

/**
 * rd_entra_auth_begin_browser:
 *
 * Starts a browser sign-in (authorization code with PKCE): listens for the
 * redirect on a loopback port, and returns the authorize URL for the app to
 * open in the browser. Then call rd_entra_auth_complete_browser_async().
 * Starting again abandons the previous browser sign-in.
 *
 * Returns: (transfer full): the URL to open, or %NULL
 */
char *
rd_entra_auth_begin_browser (RdEntraAuth  *self,
                             GError      **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GString) url = NULL;
  g_autofree char *challenge = NULL;
  g_autofree char *authorize = NULL;
  g_autoslist (GUri) uris = NULL;
  BrowserFlow *flow;
  int port;

  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  end_browser_flow (self, NULL);

  flow = g_new0 (BrowserFlow, 1);
  g_ref_count_init (&flow->ref_count);
  flow->self = self;
  flow->server = soup_server_new ("server-header", "RecoveryDesk ", NULL);
  flow->state = rd_pkce_new_random_string (24);
  flow->verifier = rd_pkce_new_verifier ();
  self->browser = flow;

  if (!listen_on_loopback (flow->server, &local_error))
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("Could not wait for the browser’s sign-in on this computer: %s"),
                   local_error->message);
      end_browser_flow (self, NULL);
      return NULL;
    }

  uris = soup_server_get_uris (flow->server);
  port = uris != NULL ? g_uri_get_port (uris->data) : -1;
  g_assert (port > 0);

  soup_server_add_handler (flow->server, NULL, on_redirect_cb, browser_flow_ref (flow),
                           (GDestroyNotify) browser_flow_unref);

  /* The registration says http://localhost; Entra ignores the port when it
   * matches loopback redirect URIs (RFC 8252 §7.3). */
  flow->redirect_uri = g_strdup_printf ("http://localhost:%d", port);
  challenge = rd_pkce_challenge_s256 (flow->verifier);
  authorize = endpoint_url (self, "authorize");

  url = g_string_new (authorize);
  g_string_append (url, "?client_id=");
  g_string_append_uri_escaped (url, self->client_id, NULL, FALSE);
  g_string_append (url, "&response_type=code&redirect_uri=");
  g_string_append_uri_escaped (url, flow->redirect_uri, NULL, FALSE);
  g_string_append (url, "&response_mode=query&scope=");
  g_string_append_uri_escaped (url, self->scope, NULL, FALSE);
  g_string_append (url, "&state=");
  g_string_append_uri_escaped (url, flow->state, NULL, FALSE);
  g_string_append (url, "&code_challenge=");
  g_string_append_uri_escaped (url, challenge, NULL, FALSE);
  g_string_append (url, "&code_challenge_method=S256&prompt=select_account");

  g_debug ("Browser sign-in: waiting for the redirect on port %d", port);

  return g_string_free (g_steal_pointer (&url), FALSE);
}

static gboolean
on_browser_cancelled_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  GTask *task = user_data;
  RdEntraAuth *self = g_task_get_source_object (task);

  g_debug ("Browser sign-in: cancelled");
  end_browser_flow (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("The browser sign-in was cancelled.")));

  return G_SOURCE_REMOVE;
}

/**
 * rd_entra_auth_complete_browser_async:
 *
 * Waits for the browser to come back to the loopback redirect started by
 * rd_entra_auth_begin_browser(), answers it with a page saying the tab can
 * be closed, checks the state, and redeems the code with the PKCE verifier.
 * The redirect server stops once the browser's answer is in, or on cancel.
 */
void
rd_entra_auth_complete_browser_async (RdEntraAuth         *self,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  BrowserFlow *flow;

  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_entra_auth_complete_browser_async);

  flow = self->browser;
  if (flow == NULL || flow->task != NULL)
    {
      g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                               _("No browser sign-in is waiting to be completed. Start the "
                                 "sign-in again."));
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    {
      end_browser_flow (self, NULL);
      return;
    }

  flow->task = g_steal_pointer (&task);

  /* The redirect came before we were asked; its page is out once the
   * server is gone. */
  if (flow->have_outcome && flow->server == NULL)
    {
      browser_flow_proceed (flow);
      return;
    }

  if (cancellable != NULL)
    {
      flow->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (flow->cancel_source,
                             (GSourceFunc) on_browser_cancelled_cb,
                             g_object_ref (flow->task), g_object_unref);
      g_source_attach (flow->cancel_source, g_task_get_context (flow->task));
    }
}

gboolean
rd_entra_auth_complete_browser_finish (RdEntraAuth   *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                          rd_entra_auth_complete_browser_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Refresh */

static void
return_refresh (RdEntraAuth *self,
                GError      *error)
{
  g_autoptr (GPtrArray) waiters = g_steal_pointer (&self->refresh_waiters);
  g_autoptr (GError) owned_error = error;

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (owned_error != NULL)
        g_task_return_error (task, g_error_copy (owned_error));
      else
        g_task_return_boolean (task, TRUE);
    }
}

typedef struct
{
  RdEntraAuth *self;
  guint generation;
  Tokens *tokens;
  GError *error;
} RefreshData;

static void
refresh_data_free (RefreshData *data)
{
  g_clear_object (&data->self);
  g_clear_pointer (&data->tokens, tokens_free);
  g_clear_error (&data->error);
  g_free (data);
}

static void
on_refresh_stored_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  RefreshData *data = user_data;
  RdEntraAuth *self = data->self;
  g_autoptr (GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    {
      /* The old refresh token may be spent already: without a keyring the
       * sign-in cannot go on. */
      if (data->generation == self->generation &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        clear_session (self);
      return_refresh (self, keyring_error (g_steal_pointer (&error)));
    }
  else if (data->generation != self->generation)
    {
      return_refresh (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         _("The sign-in was refreshed after a sign-out.")));
    }
  else
    {
      apply_tokens (self, data->tokens);
      g_debug ("Refreshed; the new refresh token replaced the old one");
      return_refresh (self, NULL);
    }

  refresh_data_free (data);
}

static void
on_refresh_cleared_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  RefreshData *data = user_data;
  g_autoptr (GError) error = NULL;

  if (!secret_password_clear_finish (result, &error))
    g_debug ("Could not remove the refresh token from the Secret Service: %s", error->message);

  return_refresh (data->self, g_steal_pointer (&data->error));
  refresh_data_free (data);
}

static void
on_refresh_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);
  RefreshData *data = user_data;
  g_autoptr (JsonObject) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = token_request_finish (self, result, &error);
  if (reply == NULL)
    {
      return_refresh (self, g_steal_pointer (&error));
      refresh_data_free (data);
      return;
    }

  if (data->generation != self->generation)
    {
      return_refresh (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         _("The sign-in was refreshed after a sign-out.")));
      refresh_data_free (data);
      return;
    }

  if (member_string (reply, "error") != NULL)
    {
      const char *secrets[] = { self->refresh_token, NULL };

      error = oauth_error (self, reply, GRANT_REFRESH_TOKEN, secrets);
      g_debug ("Refresh refused: %s", member_string (reply, "error"));

      if (g_error_matches (error, RD_AUTH_ERROR, RD_AUTH_ERROR_INTERACTION_REQUIRED))
        {
          /* The refresh token is dead: forget it here and in the keyring. */
          self->generation++;
          clear_session (self);
          data->error = g_steal_pointer (&error);
          clear_refresh_token_async (self, NULL, on_refresh_cleared_cb, data);
          return;
        }

      return_refresh (self, g_steal_pointer (&error));
      refresh_data_free (data);
      return;
    }

  data->tokens = parse_tokens (reply, &error);
  if (data->tokens == NULL)
    {
      return_refresh (self, g_steal_pointer (&error));
      refresh_data_free (data);
      return;
    }

  if (data->tokens->refresh_token == NULL ||
      g_strcmp0 (data->tokens->refresh_token, self->refresh_token) == 0)
    {
      apply_tokens (self, data->tokens);
      g_debug ("Refreshed; the refresh token was not rotated");
      return_refresh (self, NULL);
      refresh_data_free (data);
      return;
    }

  /* Replace the stored refresh token with the new one before using it. */
  store_refresh_token_async (self, data->tokens, self->cancellable, on_refresh_stored_cb, data);
}

/* Starts the one refresh all callers share: with rotating refresh tokens,
 * two at once would spend the same token twice. */
static void
refresh_add_waiter (RdEntraAuth *self,
                    GTask       *task)
{
  RefreshData *data;
  g_autofree char *form = NULL;

  if (self->refresh_waiters != NULL)
    {
      g_ptr_array_add (self->refresh_waiters, g_object_ref (task));
      return;
    }

  if (self->refresh_token == NULL)
    {
      g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN,
                               _("You are not signed in. Sign in to Microsoft Entra ID first."));
      return;
    }

  self->refresh_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->refresh_waiters, g_object_ref (task));

  data = g_new0 (RefreshData, 1);
  data->self = g_object_ref (self);
  data->generation = self->generation;

  g_debug ("Refreshing the access token");
  form = soup_form_encode ("grant_type", "refresh_token", "client_id", self->client_id,
                           "refresh_token", self->refresh_token, "scope", self->scope, NULL);
  token_request_async (self, "token", g_steal_pointer (&form), self->cancellable, on_refresh_cb,
                       data);
}

/**
 * rd_entra_auth_refresh_async:
 *
 * Gets a new access token with the refresh token, and keeps the new refresh
 * token in place of the old one. When Entra no longer accepts the refresh
 * token, it is removed and the error is %RD_AUTH_ERROR_INTERACTION_REQUIRED.
 */
void
rd_entra_auth_refresh_async (RdEntraAuth         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_entra_auth_refresh_async);

  refresh_add_waiter (self, task);
}

gboolean
rd_entra_auth_refresh_finish (RdEntraAuth   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Restore */

static void
on_restore_refreshed_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!rd_entra_auth_refresh_finish (RD_ENTRA_AUTH (object), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_restore_lookup_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdEntraAuth *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  Identity identity = { NULL };
  char *secret;
  char *refresh_token = NULL;

  secret = secret_password_lookup_finish (result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, keyring_error (g_steal_pointer (&error)));
      return;
    }
  if (secret != NULL)
    {
      refresh_token = read_stored_secret (secret, &identity);
      secret_password_free (secret);
    }

  if (refresh_token == NULL)
    {
      g_debug ("No refresh token in the Secret Service");
      g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN,
                               _("You are not signed in: the keyring holds no sign-in for "
                                 "tenant %s with app %s. Sign in to Microsoft Entra ID."),
                               self->tenant, self->client_id);
      return;
    }

  /* A sign-in that finished meanwhile is newer than what was stored. */
  if (self->refresh_token == NULL)
    {
      g_debug ("Restored the refresh token from the Secret Service");
      self->refresh_token = g_steal_pointer (&refresh_token);
      /* Who it was, until a token says again. */
      if (self->access_token == NULL)
        set_identity (self, &identity);
      update_signed_in (self);
    }
  clear_secret (&refresh_token);
  identity_clear (&identity);

  if (g_task_get_source_tag (task) == rd_entra_auth_load_async)
    g_task_return_boolean (task, TRUE);
  else
    rd_entra_auth_refresh_async (self, g_task_get_cancellable (task), on_restore_refreshed_cb,
                                 g_object_ref (task));
}

static void
look_up_refresh_token (RdEntraAuth         *self,
                       gpointer             source_tag,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  g_debug ("Looking up the refresh token in the Secret Service");
  secret_password_lookup (rd_entra_auth_get_secret_schema (), cancellable, on_restore_lookup_cb,
                          g_steal_pointer (&task), "cloud", self->cloud_id, "tenant", self->tenant,
                          "client-id", self->client_id, NULL);
}

/**
 * rd_entra_auth_load_async:
 *
 * Loads the refresh token kept in the keyring for this cloud, tenant and
 * client id, without the network: afterwards the auth is signed in, knows
 * the tenant id and the user the sign-in was for, and gets an access token
 * when one is first asked for. Fails with %RD_AUTH_ERROR_NOT_SIGNED_IN when
 * there is none.
 */
void
rd_entra_auth_load_async (RdEntraAuth         *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  look_up_refresh_token (self, rd_entra_auth_load_async, cancellable, callback, user_data);
}

gboolean
rd_entra_auth_load_finish (RdEntraAuth   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_entra_auth_load_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rd_entra_auth_restore_async:
 *
 * Loads the refresh token kept in the keyring for this cloud, tenant and
 * client id, and refreshes with it. Fails with %RD_AUTH_ERROR_NOT_SIGNED_IN
 * when there is none.
 */
void
rd_entra_auth_restore_async (RdEntraAuth         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  look_up_refresh_token (self, rd_entra_auth_restore_async, cancellable, callback, user_data);
}

gboolean
rd_entra_auth_restore_finish (RdEntraAuth   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_entra_auth_restore_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Sign-out */

static void
on_sign_out_cleared_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  /* FALSE without an error: there was nothing to remove. */
  if (!secret_password_clear_finish (result, &error) && error != NULL)
    g_task_return_error (task, keyring_error (g_steal_pointer (&error)));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * rd_entra_auth_sign_out_async:
 *
 * Forgets the access token at once, stops any sign-in in progress, and
 * removes the refresh token from the keyring.
 */
void
rd_entra_auth_sign_out_async (RdEntraAuth         *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_entra_auth_sign_out_async);

  g_debug ("Signing out");
  self->generation++;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  end_browser_flow (self, NULL);
  clear_session (self);

  clear_refresh_token_async (self, cancellable, on_sign_out_cleared_cb, g_steal_pointer (&task));
}

gboolean
rd_entra_auth_sign_out_finish (RdEntraAuth   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_entra_auth_sign_out_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* RdTokenSource */

static void
on_get_token_refreshed_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!rd_entra_auth_refresh_finish (self, result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else if (self->access_token == NULL)
    g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN,
                             _("You are not signed in. Sign in to Microsoft Entra ID first."));
  else
    g_task_return_pointer (task, g_strdup (self->access_token), g_free);
}

static void
rd_entra_auth_get_token_async (RdTokenSource       *source,
                               gboolean             force_refresh,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (source);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, rd_entra_auth_get_token_async);

  if (!force_refresh && access_token_is_fresh (self))
    {
      g_task_return_pointer (task, g_strdup (self->access_token), g_free);
      return;
    }

  if (self->refresh_token == NULL)
    {
      g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN,
                               _("You are not signed in, or the sign-in has expired. Sign in to "
                                 "Microsoft Entra ID."));
      return;
    }

  rd_entra_auth_refresh_async (self, cancellable, on_get_token_refreshed_cb,
                               g_steal_pointer (&task));
}

static char *
rd_entra_auth_get_token_finish (RdTokenSource  *source,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
rd_entra_auth_token_source_iface_init (RdTokenSourceInterface *iface)
{
  iface->get_token_async = rd_entra_auth_get_token_async;
  iface->get_token_finish = rd_entra_auth_get_token_finish;
}

/* GInitable */

static gboolean
rd_entra_auth_initable_init (GInitable     *initable,
                             GCancellable  *cancellable,
                             GError       **error)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (initable);

  if (self->login_endpoint == NULL)
    {
      g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT,
                   _("No login endpoint was given."));
      return FALSE;
    }

  if (!rd_cloud_check_endpoint (self->login_endpoint, error))
    return FALSE;

  if (!is_plain_identifier (self->tenant))
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("“%s” is not a tenant: give a tenant id, a domain such as contoso.com, or "
                     "organizations."),
                   self->tenant);
      return FALSE;
    }

  if (!is_plain_identifier (self->client_id))
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("“%s” is not a client id: give the Application (client) ID of the app "
                     "registration."),
                   self->client_id);
      return FALSE;
    }

  return TRUE;
}

static void
rd_entra_auth_initable_iface_init (GInitableIface *iface)
{
  iface->init = rd_entra_auth_initable_init;
}

/* GObject */

static void
rd_entra_auth_constructed (GObject *object)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);
  g_autoptr (GPtrArray) scopes = g_ptr_array_new ();

  G_OBJECT_CLASS (rd_entra_auth_parent_class)->constructed (object);

  if (self->cloud_id == NULL || *self->cloud_id == '\0')
    {
      g_free (self->cloud_id);
      self->cloud_id = g_strdup ("global");
    }
  if (self->tenant == NULL || *self->tenant == '\0')
    {
      g_free (self->tenant);
      self->tenant = g_strdup (RD_ENTRA_AUTH_DEFAULT_TENANT);
    }
  if (self->client_id == NULL || *self->client_id == '\0')
    {
      g_free (self->client_id);
      self->client_id = g_strdup (RD_ENTRA_AUTH_DEFAULT_CLIENT_ID);
    }
  if (self->login_endpoint != NULL)
    {
      size_t len = strlen (self->login_endpoint);

      while (len > 0 && self->login_endpoint[len - 1] == '/')
        self->login_endpoint[--len] = '\0';
    }

  /* offline_access brings the refresh token, openid the id token with the
   * user's name; both are needed whatever else is asked for. */
  if (self->scopes == NULL || self->scopes[0] == NULL)
    {
      g_strfreev (self->scopes);
      self->scopes = g_strdupv ((char **) default_scopes);
    }
  if (!g_strv_contains ((const char * const *) self->scopes, "offline_access"))
    g_ptr_array_add (scopes, (gpointer) "offline_access");
  if (!g_strv_contains ((const char * const *) self->scopes, "openid"))
    g_ptr_array_add (scopes, (gpointer) "openid");
  for (guint i = 0; self->scopes[i] != NULL; i++)
    g_ptr_array_add (scopes, self->scopes[i]);
  g_ptr_array_add (scopes, NULL);
  self->scope = g_strjoinv (" ", (char **) scopes->pdata);
  g_strfreev (self->scopes);
  self->scopes = g_strsplit (self->scope, " ", -1);
}

static void
rd_entra_auth_dispose (GObject *object)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);

  end_browser_flow (self, NULL);
  g_cancellable_cancel (self->cancellable);
  if (self->session != NULL)
    soup_session_abort (self->session);

  G_OBJECT_CLASS (rd_entra_auth_parent_class)->dispose (object);
}

static void
rd_entra_auth_finalize (GObject *object)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);

  g_assert (self->refresh_waiters == NULL);

  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  clear_secret (&self->access_token);
  clear_secret (&self->refresh_token);
  g_free (self->cloud_id);
  g_free (self->login_endpoint);
  g_free (self->tenant);
  g_free (self->client_id);
  g_strfreev (self->scopes);
  g_free (self->scope);
  g_free (self->username);
  g_free (self->display_name);
  g_free (self->tenant_id);

  G_OBJECT_CLASS (rd_entra_auth_parent_class)->finalize (object);
}

static void
rd_entra_auth_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);

  switch (prop_id)
    {
    case PROP_CLOUD_ID:
      g_value_set_string (value, self->cloud_id);
      break;

    case PROP_LOGIN_ENDPOINT:
      g_value_set_string (value, self->login_endpoint);
      break;

    case PROP_TENANT:
      g_value_set_string (value, self->tenant);
      break;

    case PROP_CLIENT_ID:
      g_value_set_string (value, self->client_id);
      break;

    case PROP_SCOPES:
      g_value_set_boxed (value, self->scopes);
      break;

    case PROP_SIGNED_IN:
      g_value_set_boolean (value, self->signed_in);
      break;

    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    case PROP_TENANT_ID:
      g_value_set_string (value, self->tenant_id);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_entra_auth_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  RdEntraAuth *self = RD_ENTRA_AUTH (object);

  switch (prop_id)
    {
    case PROP_CLOUD_ID:
      self->cloud_id = g_value_dup_string (value);
      break;

    case PROP_LOGIN_ENDPOINT:
      self->login_endpoint = g_value_dup_string (value);
      break;

    case PROP_TENANT:
      self->tenant = g_value_dup_string (value);
      break;

    case PROP_CLIENT_ID:
      self->client_id = g_value_dup_string (value);
      break;

    case PROP_SCOPES:
      self->scopes = g_value_dup_boxed (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_entra_auth_class_init (RdEntraAuthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = rd_entra_auth_constructed;
  object_class->dispose = rd_entra_auth_dispose;
  object_class->finalize = rd_entra_auth_finalize;
  object_class->get_property = rd_entra_auth_get_property;
  object_class->set_property = rd_entra_auth_set_property;

  /**
   * RdEntraAuth:cloud-id:
   *
   * The national cloud ("global", "usgov", ...); keys the stored sign-in.
   */
  properties[PROP_CLOUD_ID] =
    g_param_spec_string ("cloud-id", NULL, NULL, "global",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * RdEntraAuth:login-endpoint:
   *
   * The base URL of the login endpoint, such as
   * `https://login.microsoftonline.com`: https://, or http:// on loopback.
   */
  properties[PROP_LOGIN_ENDPOINT] =
    g_param_spec_string ("login-endpoint", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_TENANT] =
    g_param_spec_string ("tenant", NULL, NULL, RD_ENTRA_AUTH_DEFAULT_TENANT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CLIENT_ID] =
    g_param_spec_string ("client-id", NULL, NULL, RD_ENTRA_AUTH_DEFAULT_CLIENT_ID,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * RdEntraAuth:scopes:
   *
   * The delegated permissions asked for; offline_access and openid are
   * always added.
   */
  properties[PROP_SCOPES] =
    g_param_spec_boxed ("scopes", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SIGNED_IN] =
    g_param_spec_boolean ("signed-in", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * RdEntraAuth:username:
   *
   * The signed-in user's sign-in name (upn or preferred_username), for
   * display.
   */
  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * RdEntraAuth:tenant-id:
   *
   * The id (tid) of the tenant signed in to, for display and for keying
   * per-tenant data.
   */
  properties[PROP_TENANT_ID] =
    g_param_spec_string ("tenant-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_entra_auth_init (RdEntraAuth *self)
{
  g_autofree char *user_agent = g_strdup_printf ("RecoveryDesk/%s", PACKAGE_VERSION);

  self->poll_interval_scale = 1.0;
  self->cancellable = g_cancellable_new ();
  self->session = soup_session_new_with_options ("user-agent", user_agent, "timeout",
                                                 HTTP_TIMEOUT_SECONDS, NULL);
}

/**
 * rd_entra_auth_new:
 * @cloud_id: keys the stored sign-in, such as "global"
 * @login_endpoint: the login endpoint's base URL
 * @tenant: (nullable): a tenant id or domain; %NULL for "organizations"
 * @client_id: (nullable): the app registration; %NULL for the default
 *
 * Returns: (transfer full): a new RdEntraAuth, or %NULL if the endpoint is
 *   not https:// (or loopback), or the tenant or client id is not valid
 */
RdEntraAuth *
rd_entra_auth_new (const char  *cloud_id,
                   const char  *login_endpoint,
                   const char  *tenant,
                   const char  *client_id,
                   GError     **error)
{
  g_return_val_if_fail (login_endpoint != NULL, NULL);

  return g_initable_new (RD_TYPE_ENTRA_AUTH, NULL, error, "cloud-id", cloud_id, "login-endpoint",
                         login_endpoint, "tenant", tenant, "client-id", client_id, NULL);
}

/**
 * rd_entra_auth_new_for_cloud:
 * @cloud: the national cloud, whose login endpoint (maybe overridden) is used
 * @tenant: (nullable): a tenant id or domain; %NULL for "organizations"
 * @client_id: (nullable): the app registration; %NULL for the default
 *
 * Returns: (transfer full): a new RdEntraAuth keyed by the cloud's name
 */
RdEntraAuth *
rd_entra_auth_new_for_cloud (RdCloud     *cloud,
                             const char  *tenant,
                             const char  *client_id,
                             GError     **error)
{
  g_return_val_if_fail (RD_IS_CLOUD (cloud), NULL);

  return rd_entra_auth_new (rd_cloud_kind_to_string (rd_cloud_get_kind (cloud)),
                            rd_cloud_get_login_endpoint (cloud), tenant, client_id, error);
}

const char *
rd_entra_auth_get_cloud_id (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->cloud_id;
}

const char *
rd_entra_auth_get_login_endpoint (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->login_endpoint;
}

const char *
rd_entra_auth_get_tenant (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->tenant;
}

const char *
rd_entra_auth_get_client_id (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->client_id;
}

const char * const *
rd_entra_auth_get_scopes (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return (const char * const *) self->scopes;
}

/**
 * rd_entra_auth_get_signed_in:
 *
 * Returns: whether there is an access token or a refresh token
 */
gboolean
rd_entra_auth_get_signed_in (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);

  return self->signed_in;
}

const char *
rd_entra_auth_get_username (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->username;
}

const char *
rd_entra_auth_get_display_name (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->display_name;
}

const char *
rd_entra_auth_get_tenant_id (RdEntraAuth *self)
{
  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), NULL);

  return self->tenant_id;
}

void
rd_entra_auth_set_poll_interval_scale (RdEntraAuth *self,
                                       double       scale)
{
  g_return_if_fail (RD_IS_ENTRA_AUTH (self));
  g_return_if_fail (scale > 0);

  self->poll_interval_scale = scale;
}

/**
 * _rd_entra_auth_take_token_response:
 * @body: an answer of the token endpoint
 *
 * Reads @body as the answer to a refresh and, when it holds tokens, takes
 * them (and the claims shown for them), skipping the Secret Service. For the
 * fuzzers.
 *
 * Returns: %FALSE with @error set when @body is an error or malformed
 */
gboolean
_rd_entra_auth_take_token_response (RdEntraAuth  *self,
                                    GBytes       *body,
                                    GError      **error)
{
  g_autoptr (JsonObject) reply = NULL;
  g_autoptr (Tokens) tokens = NULL;

  g_return_val_if_fail (RD_IS_ENTRA_AUTH (self), FALSE);
  g_return_val_if_fail (body != NULL, FALSE);

  reply = reply_from_body (body);
  if (reply == NULL)
    {
      g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE,
                   "The answer is not a JSON object");
      return FALSE;
    }

  if (member_string (reply, "error") != NULL)
    {
      const char *secrets[] = { self->refresh_token, NULL };

      g_propagate_error (error, oauth_error (self, reply, GRANT_REFRESH_TOKEN, secrets));
      return FALSE;
    }

  tokens = parse_tokens (reply, error);
  if (tokens == NULL)
    return FALSE;

  apply_tokens (self, tokens);
  return TRUE;
}
