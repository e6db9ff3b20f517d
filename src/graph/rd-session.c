/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-session"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-session.h"

#include "rd-graph-error.h"
#include "rd-jwt.h"
#include "rd-plan-store.h"
#include "rd-static-token-source.h"

/* Everything a front end works with for one tenant, built the same way for
 * the desktop app and the CLI: the cloud and its endpoints, the sign-in,
 * the demo tenant when there is one, and once connected the Graph client,
 * who is signed in, the inventory sync, the board over the tenant's plan
 * store, the audit log and the device actions. Nothing goes over the
 * network until a front end connects. */

struct _RdSession
{
  GObject parent_instance;

  RdCloud *cloud;
  char *tenant;
  char *client_id;
  RdDemoTenant *demo;

  RdEntraAuth *auth;
  RdTokenSource *token_source;
  RdGraphClient *client;
  char *tenant_id;
  char *username;
  char *display_name;

  RdTenantSync *sync;
  RdBoard *board;
  RdAuditLog *audit_log;
  RdDeviceActions *actions;
};

G_DEFINE_FINAL_TYPE (RdSession, rd_session, G_TYPE_OBJECT)

static void
set_str (char       **field,
         const char  *value)
{
  char *copy = g_strdup (value);

  g_free (*field);
  *field = copy;
}

static const char *
non_empty (const char *value)
{
  return value != NULL && *value != '\0' ? value : NULL;
}

static gboolean
is_tenant_guid (const char *tenant)
{
  return tenant != NULL && g_uuid_string_is_valid (tenant);
}

/* GObject overrides */

static void
rd_session_dispose (GObject *object)
{
  RdSession *self = (RdSession *) object;

  g_clear_object (&self->actions);
  g_clear_object (&self->audit_log);
  g_clear_object (&self->board);
  g_clear_object (&self->sync);
  g_clear_object (&self->client);
  g_clear_object (&self->token_source);
  g_clear_object (&self->auth);
  if (self->demo != NULL)
    rd_demo_tenant_stop (self->demo);
  g_clear_object (&self->demo);
  g_clear_object (&self->cloud);

  G_OBJECT_CLASS (rd_session_parent_class)->dispose (object);
}

static void
rd_session_finalize (GObject *object)
{
  RdSession *self = (RdSession *) object;

  g_free (self->tenant);
  g_free (self->client_id);
  g_free (self->tenant_id);
  g_free (self->username);
  g_free (self->display_name);

  G_OBJECT_CLASS (rd_session_parent_class)->finalize (object);
}

static void
rd_session_class_init (RdSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_session_dispose;
  object_class->finalize = rd_session_finalize;
}

static void
rd_session_init (RdSession *self)
{
}

/**
 * rd_session_new:
 * @cloud: (nullable): a cloud name ("global", "us-gov", ...), or %NULL for
 *   the global cloud
 * @graph_endpoint: (nullable): a Graph endpoint override, or %NULL or ""
 * @login_endpoint: (nullable): a sign-in endpoint override, or %NULL or ""
 * @tenant: (nullable): the tenant to sign in to, or %NULL for any work or
 *   school account
 * @client_id: (nullable): the public client, or %NULL for the default
 *
 * Chooses the cloud, its endpoints, the tenant and the client id. Nothing
 * goes over the network yet.
 *
 * Returns: (transfer full): a new session, or %NULL when a name or an
 *   endpoint is not acceptable
 */
RdSession *
rd_session_new (const char  *cloud,
                const char  *graph_endpoint,
                const char  *login_endpoint,
                const char  *tenant,
                const char  *client_id,
                GError     **error)
{
  g_autoptr (RdSession) self = g_object_new (RD_TYPE_SESSION, NULL);
  RdCloudKind kind = RD_CLOUD_KIND_GLOBAL;

  if (non_empty (cloud) != NULL && !rd_cloud_kind_from_string (cloud, &kind, error))
    return NULL;
  self->cloud = rd_cloud_new (kind);

  if (non_empty (graph_endpoint) != NULL &&
      !rd_cloud_set_graph_endpoint (self->cloud, graph_endpoint, error))
    return NULL;
  if (non_empty (login_endpoint) != NULL &&
      !rd_cloud_set_login_endpoint (self->cloud, login_endpoint, error))
    return NULL;

  self->tenant = g_strdup (non_empty (tenant) != NULL ? tenant : RD_ENTRA_AUTH_DEFAULT_TENANT);
  self->client_id = g_strdup (non_empty (client_id) != NULL ? client_id
                                                            : RD_ENTRA_AUTH_DEFAULT_CLIENT_ID);

  return g_steal_pointer (&self);
}

/**
 * rd_session_new_demo:
 * @n_devices: how many devices to generate, or 0 for the bundled demo data
 * @demo_data: (nullable): a demo tenant file to load instead of the bundled
 *   one (when @n_devices is 0)
 *
 * Starts the demo tenant on 127.0.0.1, in this process, and makes a session
 * for it. Its tenant id is known at once: it names the plan store and the
 * inventory cache.
 *
 * Returns: (transfer full): a new session, or %NULL when the demo tenant
 *   could not be loaded or started
 */
RdSession *
rd_session_new_demo (guint        n_devices,
                     const char  *demo_data,
                     GError     **error)
{
  g_autoptr (RdSession) self = g_object_new (RD_TYPE_SESSION, NULL);

  self->cloud = rd_cloud_new (RD_CLOUD_KIND_GLOBAL);
  self->demo = rd_demo_tenant_new ();
  if (n_devices > 0)
    rd_demo_tenant_generate (self->demo, n_devices, RD_SESSION_DEMO_SEED);
  else if (!rd_demo_tenant_load (self->demo, demo_data, error))
    return NULL;

  rd_demo_tenant_set_device_code_interval (self->demo, RD_SESSION_DEMO_DEVICE_CODE_INTERVAL);
  if (!rd_demo_tenant_start (self->demo, error))
    return NULL;

  self->tenant = g_strdup (rd_demo_tenant_get_tenant_id (self->demo));
  self->tenant_id = g_strdup (self->tenant);
  self->client_id = g_strdup (RD_ENTRA_AUTH_DEFAULT_CLIENT_ID);

  return g_steal_pointer (&self);
}

RdCloud *
rd_session_get_cloud (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->cloud;
}

/**
 * rd_session_get_demo:
 *
 * Returns: (transfer none) (nullable): the demo tenant this session runs
 *   against, if any
 */
RdDemoTenant *
rd_session_get_demo (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->demo;
}

const char *
rd_session_get_tenant (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->tenant;
}

const char *
rd_session_get_client_id (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->client_id;
}

/**
 * rd_session_set_client_id:
 * @client_id: (nullable): the public client, or %NULL or "" for the default
 *
 * Signs in as another public client than the one the session was made
 * with; for the demo, whose session takes the default (the CLI's `--demo
 * --client-id`). Only before the sign-in is made: see
 * rd_session_get_auth().
 */
void
rd_session_set_client_id (RdSession  *self,
                          const char *client_id)
{
  g_return_if_fail (RD_IS_SESSION (self));
  g_return_if_fail (self->auth == NULL);

  set_str (&self->client_id,
           non_empty (client_id) != NULL ? client_id : RD_ENTRA_AUTH_DEFAULT_CLIENT_ID);
}

/**
 * rd_session_get_auth:
 *
 * Returns: (transfer none): the Entra sign-in for the chosen cloud, tenant
 *   and client id; for the demo, its login endpoint, kept in the keyring
 *   under the cloud name "demo" so that it never replaces a real sign-in
 */
RdEntraAuth *
rd_session_get_auth (RdSession  *self,
                     GError    **error)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  if (self->auth != NULL)
    return self->auth;

  if (self->demo != NULL)
    {
      g_autofree char *login_url = rd_demo_tenant_dup_login_url (self->demo);

      self->auth = rd_entra_auth_new ("demo", login_url, self->tenant, self->client_id, error);
    }
  else
    self->auth = rd_entra_auth_new_for_cloud (self->cloud, self->tenant, self->client_id, error);

  return self->auth;
}

static const char *
claim (JsonObject *claims,
       const char *name)
{
  JsonNode *node = json_object_get_member (claims, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* Who a token is for, read from its claims (the token itself is never
 * logged). */
static void
take_identity_from_token (RdSession  *self,
                          const char *token)
{
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (GError) error = NULL;
  const char *username;

  claims = rd_jwt_decode_claims (token, &error);
  if (claims == NULL)
    {
      g_debug ("The access token's claims are unreadable: %s", error->message);
      return;
    }

  username = claim (claims, "preferred_username");
  if (username == NULL)
    username = claim (claims, "upn");
  if (username == NULL)
    username = claim (claims, "unique_name");

  set_str (&self->username, username);
  set_str (&self->display_name, claim (claims, "name"));
  if (self->demo == NULL && claim (claims, "tid") != NULL)
    set_str (&self->tenant_id, claim (claims, "tid"));
}

static void
create_client (RdSession *self)
{
  g_autofree char *base_url = NULL;

  if (self->demo != NULL)
    base_url = rd_demo_tenant_dup_graph_url (self->demo);
  else
    base_url = rd_cloud_dup_graph_base_url (self->cloud);

  g_clear_object (&self->client);
  self->client = rd_graph_client_new (base_url, self->token_source);

  /* A sync made before (for the cache) has no way to the network. */
  g_clear_object (&self->sync);
  g_clear_object (&self->actions);
}

/**
 * rd_session_connect_with_token:
 * @token: an access token, for instance from `RECOVERY_DESK_ACCESS_TOKEN`
 *
 * Uses @token for every request, and learns from its claims who it is for.
 *
 * Returns: %FALSE when the token does not say which tenant it is for and
 *   the session's tenant is not a tenant id
 */
gboolean
rd_session_connect_with_token (RdSession   *self,
                               const char  *token,
                               GError     **error)
{
  g_return_val_if_fail (RD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (token != NULL, FALSE);

  take_identity_from_token (self, token);
  if (self->tenant_id == NULL && is_tenant_guid (self->tenant))
    self->tenant_id = g_ascii_strdown (self->tenant, -1);
  if (self->tenant_id == NULL)
    {
      g_set_error_literal (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                           _ ("The access token does not say which tenant it is for: give the "
                              "tenant id in the settings."));
      return FALSE;
    }

  g_clear_object (&self->token_source);
  self->token_source = rd_static_token_source_new (token);
  create_client (self);

  return TRUE;
}

/**
 * rd_session_connect_demo:
 *
 * Signs in to the demo tenant with a token it issues at once.
 */
gboolean
rd_session_connect_demo (RdSession  *self,
                         GError    **error)
{
  g_autofree char *token = NULL;

  g_return_val_if_fail (RD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (self->demo != NULL, FALSE);

  token = rd_demo_tenant_issue_access_token (self->demo);
  return rd_session_connect_with_token (self, token, error);
}

/**
 * rd_session_connect_with_auth:
 *
 * Uses the signed-in RdEntraAuth (after a sign-in or a restore) for every
 * request, and takes who is signed in from it.
 */
gboolean
rd_session_connect_with_auth (RdSession  *self,
                              GError    **error)
{
  g_return_val_if_fail (RD_IS_SESSION (self), FALSE);
  g_return_val_if_fail (self->auth != NULL, FALSE);

  if (!rd_entra_auth_get_signed_in (self->auth))
    {
      g_set_error_literal (error, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN,
                           _ ("You are not signed in. Sign in to your organization."));
      return FALSE;
    }

  set_str (&self->username, rd_entra_auth_get_username (self->auth));
  set_str (&self->display_name, rd_entra_auth_get_display_name (self->auth));
  if (self->demo == NULL)
    set_str (&self->tenant_id, rd_entra_auth_get_tenant_id (self->auth));
  if (self->tenant_id == NULL)
    {
      g_set_error_literal (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                           _ ("The sign-in does not say which tenant it is for. Sign out, then "
                              "sign in again."));
      return FALSE;
    }

  g_clear_object (&self->token_source);
  self->token_source = g_object_ref (RD_TOKEN_SOURCE (self->auth));
  create_client (self);

  return TRUE;
}

/**
 * rd_session_resolve_tenant_id:
 *
 * Learns the tenant id without the network where it can: the demo's, or a
 * tenant id given as the tenant.
 *
 * Returns: whether the tenant id is known
 */
gboolean
rd_session_resolve_tenant_id (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), FALSE);

  if (self->tenant_id == NULL && is_tenant_guid (self->tenant))
    self->tenant_id = g_ascii_strdown (self->tenant, -1);

  return self->tenant_id != NULL;
}

gboolean
rd_session_get_connected (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), FALSE);

  return self->client != NULL;
}

RdTokenSource *
rd_session_get_token_source (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->token_source;
}

/**
 * rd_session_get_client:
 *
 * Returns: (transfer none) (nullable): the Graph client, once connected
 */
RdGraphClient *
rd_session_get_client (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->client;
}

const char *
rd_session_get_tenant_id (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->tenant_id;
}

const char *
rd_session_get_username (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->username;
}

const char *
rd_session_get_display_name (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->display_name;
}

/**
 * rd_session_get_sync:
 *
 * The inventory sync of the tenant. Before the session is connected it can
 * only read the cache: its client has no token and is never used.
 *
 * Returns: (transfer none) (nullable): the sync, or %NULL while the tenant
 *   id is unknown
 */
RdTenantSync *
rd_session_get_sync (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  if (self->sync != NULL)
    return self->sync;
  if (self->tenant_id == NULL)
    return NULL;

  if (self->client != NULL)
    self->sync = rd_tenant_sync_new (self->client, self->tenant_id);
  else
    {
      g_autoptr (RdTokenSource) no_token = rd_static_token_source_new ("offline");
      g_autofree char *base_url = rd_cloud_dup_graph_base_url (self->cloud);
      g_autoptr (RdGraphClient) offline = rd_graph_client_new (base_url, no_token);

      self->sync = rd_tenant_sync_new (offline, self->tenant_id);
    }

  return self->sync;
}

/**
 * rd_session_open_board:
 * @load_error: (out) (optional): set when the saved plans could not be read
 *   (the file is moved aside, not lost); the board is usable all the same
 *
 * Returns: (transfer none) (nullable): the board over the tenant's plan
 *   store, with its saved plans; %NULL while the tenant id is unknown
 */
RdBoard *
rd_session_open_board (RdSession  *self,
                       GError    **load_error)
{
  g_autoptr (RdPlanStore) store = NULL;

  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  if (self->board != NULL)
    return self->board;
  if (self->tenant_id == NULL)
    return NULL;

  store = rd_plan_store_new_default (self->tenant_id);
  self->board = rd_board_new (store);
  rd_board_load (self->board, load_error);

  return self->board;
}

/**
 * rd_session_get_board:
 *
 * Returns: (transfer none) (nullable): the board, once opened
 */
RdBoard *
rd_session_get_board (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  return self->board;
}

RdAuditLog *
rd_session_get_audit_log (RdSession *self)
{
  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  if (self->audit_log == NULL)
    self->audit_log = rd_audit_log_new_default ();

  return self->audit_log;
}

/**
 * rd_session_get_actions:
 *
 * Returns: (transfer none) (nullable): the device actions on the board,
 *   audited under who is signed in; %NULL until the session is connected
 *   and its board opened
 */
RdDeviceActions *
rd_session_get_actions (RdSession *self)
{
  const char *user;

  g_return_val_if_fail (RD_IS_SESSION (self), NULL);

  if (self->actions != NULL)
    return self->actions;
  if (self->client == NULL || self->board == NULL)
    return NULL;

  user = self->username != NULL ? self->username : self->display_name;
  self->actions = rd_device_actions_new (self->client, self->board,
                                         rd_session_get_audit_log (self), user, self->tenant_id);

  return self->actions;
}
