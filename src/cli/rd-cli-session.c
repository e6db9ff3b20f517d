/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-cli"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-cli-session.h"
#include "rd-cli.h"
#include "rd-graph-error.h"
#include "rd-jwt.h"
#include "rd-plan-store.h"
#include "rd-static-token-source.h"
#include "rd-tenant-sync.h"

/* The seed of `--demo=N`: the same N gives the same devices every time, so
 * that plans made in one run find their devices in the next. */
#define DEMO_SEED 20240603

/* The demo approves a device-code sign-in after a couple of polls; a short
 * interval keeps that to a second or two. */
#define DEMO_DEVICE_CODE_INTERVAL 1

void
rd_cli_options_clear (RdCliOptions *options)
{
  g_clear_pointer (&options->demo_data, g_free);
  g_clear_pointer (&options->cloud, g_free);
  g_clear_pointer (&options->tenant, g_free);
  g_clear_pointer (&options->client_id, g_free);
  g_clear_pointer (&options->graph_endpoint, g_free);
  g_clear_pointer (&options->login_endpoint, g_free);
}

/* The app's settings give the defaults when their schema is installed; the
 * CLI works without it, on the built-in defaults. */
static GSettings *
open_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE);
  if (schema == NULL)
    {
      g_debug ("Settings schema %s not installed; using the built-in defaults", SCHEMA_ID);
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}

/* An option given on the command line, else the setting, else NULL. */
static char *
choose (const char *option,
        GSettings  *settings,
        const char *key)
{
  g_autofree char *value = NULL;

  if (option != NULL)
    return g_strdup (option);
  if (settings == NULL)
    return NULL;

  /* "cloud" is an enum key: its string is the nick. */
  value = g_settings_get_string (settings, key);

  return value != NULL && *value != '\0' ? g_steal_pointer (&value) : NULL;
}

static void
set_str (char       **field,
         const char  *value)
{
  char *copy = g_strdup (value);

  g_free (*field);
  *field = copy;
}

static void
usage_error (GError **error,
             GError  *cause)
{
  g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE, cause->message);
  g_error_free (cause);
}

static gboolean
start_demo (RdCliSession        *self,
            const RdCliOptions  *options,
            GError             **error)
{
  g_autofree char *graph_url = NULL;

  self->demo = rd_demo_tenant_new ();
  if (options->demo_devices > 0)
    rd_demo_tenant_generate (self->demo, options->demo_devices, DEMO_SEED);
  else if (!rd_demo_tenant_load (self->demo, options->demo_data, error))
    return FALSE;

  rd_demo_tenant_set_device_code_interval (self->demo, DEMO_DEVICE_CODE_INTERVAL);
  if (!rd_demo_tenant_start (self->demo, error))
    return FALSE;

  g_free (self->tenant);
  self->tenant = g_strdup (rd_demo_tenant_get_tenant_id (self->demo));

  return TRUE;
}

/**
 * rd_cli_session_new:
 *
 * Chooses the cloud, its endpoints, the tenant and the client id from the
 * options and the settings, and starts the demo tenant for `--demo`. Nothing
 * goes over the network yet.
 */
RdCliSession *
rd_cli_session_new (const RdCliOptions  *options,
                    GError             **error)
{
  g_autoptr (RdCliSession) self = g_new0 (RdCliSession, 1);
  g_autoptr (GSettings) settings = NULL;
  g_autofree char *cloud_name = NULL;
  g_autofree char *graph_endpoint = NULL;
  g_autofree char *login_endpoint = NULL;
  GError *local_error = NULL;
  RdCloudKind kind = RD_CLOUD_KIND_GLOBAL;

  self->cancellable = g_cancellable_new ();

  if (options->demo && (options->cloud != NULL || options->graph_endpoint != NULL ||
                        options->login_endpoint != NULL || options->tenant != NULL))
    {
      g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                           _ ("--demo runs against its own tenant: it cannot be combined with "
                              "--cloud, --tenant, --graph-endpoint or --login-endpoint."));
      return NULL;
    }
  if (options->demo_data != NULL && !options->demo)
    {
      g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                           _ ("--demo-data needs --demo."));
      return NULL;
    }

  if (!options->demo)
    settings = open_settings ();

  cloud_name = choose (options->cloud, settings, "cloud");
  if (cloud_name != NULL && !rd_cloud_kind_from_string (cloud_name, &kind, &local_error))
    {
      usage_error (error, local_error);
      return NULL;
    }
  self->cloud = rd_cloud_new (kind);

  graph_endpoint = choose (options->graph_endpoint, settings, "graph-endpoint");
  if (graph_endpoint != NULL &&
      !rd_cloud_set_graph_endpoint (self->cloud, graph_endpoint, &local_error))
    {
      usage_error (error, local_error);
      return NULL;
    }
  login_endpoint = choose (options->login_endpoint, settings, "login-endpoint");
  if (login_endpoint != NULL &&
      !rd_cloud_set_login_endpoint (self->cloud, login_endpoint, &local_error))
    {
      usage_error (error, local_error);
      return NULL;
    }

  self->tenant = choose (options->tenant, settings, "tenant");
  if (self->tenant == NULL)
    self->tenant = g_strdup (RD_ENTRA_AUTH_DEFAULT_TENANT);
  self->client_id = choose (options->client_id, settings, "client-id");
  if (self->client_id == NULL)
    self->client_id = g_strdup (RD_ENTRA_AUTH_DEFAULT_CLIENT_ID);

  if (options->demo && !start_demo (self, options, error))
    return NULL;

  return g_steal_pointer (&self);
}

void
rd_cli_session_free (RdCliSession *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->client);
  g_clear_object (&self->token_source);
  g_clear_object (&self->auth);
  if (self->demo != NULL)
    rd_demo_tenant_stop (self->demo);
  g_clear_object (&self->demo);
  g_clear_object (&self->cloud);
  g_clear_object (&self->cancellable);
  g_free (self->tenant);
  g_free (self->client_id);
  g_free (self->tenant_id);
  g_free (self->username);
  g_free (self->display_name);
  g_free (self);
}

/**
 * rd_cli_session_create_auth:
 *
 * Returns: (transfer none): the Entra sign-in for the chosen cloud, tenant
 *   and client id; for the demo, its login endpoint, kept in the keyring
 *   under the cloud name "demo" so that it never replaces a real sign-in
 */
RdEntraAuth *
rd_cli_session_create_auth (RdCliSession  *self,
                            GError       **error)
{
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
 * printed). */
static void
take_identity_from_token (RdCliSession *self,
                          const char   *token)
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
  if (claim (claims, "tid") != NULL)
    set_str (&self->tenant_id, claim (claims, "tid"));
}

static gboolean
is_tenant_guid (const char *tenant)
{
  return tenant != NULL && g_uuid_string_is_valid (tenant);
}

static RdGraphClient *
new_client (RdCliSession *self)
{
  g_autofree char *base_url = NULL;

  if (self->demo != NULL)
    base_url = rd_demo_tenant_dup_graph_url (self->demo);
  else
    base_url = rd_cloud_dup_graph_base_url (self->cloud);

  return rd_graph_client_new (base_url, self->token_source);
}

/**
 * rd_cli_session_connect:
 *
 * Gets an access token and learns who it is for: from the demo tenant, from
 * `RECOVERY_DESK_ACCESS_TOKEN`, or from the sign-in kept in the keyring
 * (refreshed over the network).
 */
gboolean
rd_cli_session_connect (RdCliSession  *self,
                        GError       **error)
{
  const char *env_token = g_getenv ("RECOVERY_DESK_ACCESS_TOKEN");

  if (self->client != NULL)
    return TRUE;

  if (self->demo != NULL)
    {
      g_autofree char *token = rd_demo_tenant_issue_access_token (self->demo);

      self->token_source = rd_static_token_source_new (token);
      take_identity_from_token (self, token);
      set_str (&self->tenant_id, rd_demo_tenant_get_tenant_id (self->demo));
    }
  else if (env_token != NULL && *env_token != '\0')
    {
      self->token_source = rd_static_token_source_new (env_token);
      take_identity_from_token (self, env_token);
      if (self->tenant_id == NULL && is_tenant_guid (self->tenant))
        self->tenant_id = g_strdup (self->tenant);
      if (self->tenant_id == NULL)
        {
          g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                               _ ("The token in RECOVERY_DESK_ACCESS_TOKEN does not say which "
                                  "tenant it is for: give the tenant id with --tenant."));
          return FALSE;
        }
    }
  else
    {
      g_autoptr (GAsyncResult) result = NULL;
      RdEntraAuth *auth = rd_cli_session_create_auth (self, error);

      if (auth == NULL)
        return FALSE;

      rd_entra_auth_restore_async (auth, self->cancellable, rd_cli_store_result_cb, &result);
      rd_cli_wait (&result);
      if (!rd_entra_auth_restore_finish (auth, result, error))
        return FALSE;

      self->token_source = g_object_ref (RD_TOKEN_SOURCE (auth));
      set_str (&self->username, rd_entra_auth_get_username (auth));
      set_str (&self->display_name, rd_entra_auth_get_display_name (auth));
      set_str (&self->tenant_id, rd_entra_auth_get_tenant_id (auth));
      if (self->tenant_id == NULL)
        {
          g_set_error_literal (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                               _ ("The sign-in does not say which tenant it is for. Sign out, "
                                  "then sign in again."));
          return FALSE;
        }
    }

  self->client = new_client (self);
  return TRUE;
}

/**
 * rd_cli_session_resolve_tenant:
 *
 * Learns the tenant id, which names the plan store and the inventory cache,
 * without the network where it can: the demo's, or a tenant id given with
 * `--tenant`. Otherwise it connects.
 */
gboolean
rd_cli_session_resolve_tenant (RdCliSession  *self,
                               GError       **error)
{
  if (self->tenant_id != NULL)
    return TRUE;

  if (self->demo != NULL)
    {
      self->tenant_id = g_strdup (rd_demo_tenant_get_tenant_id (self->demo));
      return TRUE;
    }

  if (is_tenant_guid (self->tenant))
    {
      self->tenant_id = g_ascii_strdown (self->tenant, -1);
      return TRUE;
    }

  return rd_cli_session_connect (self, error);
}

static void
report_sync (RdCliSession *self,
             RdTenantSync *sync,
             guint         n_devices,
             GDateTime    *cached_at)
{
  const char *const *notes = rd_tenant_sync_get_notes (sync);
  guint non_windows = rd_tenant_sync_get_non_windows_count (sync);

  if (cached_at != NULL)
    {
      g_autofree char *when = g_date_time_format (cached_at, "%Y-%m-%d %H:%M %Z");

      rd_cli_message (_ ("Showing the inventory cached at %s; it may be out of date."), when);
    }
  if (self->report_inventory && non_windows > 0)
    rd_cli_message (g_dngettext (GETTEXT_PACKAGE,
                                 "%u Windows device; %u device that does not run Windows is left "
                                 "out.",
                                 "%u Windows devices; %u devices that do not run Windows are left "
                                 "out.",
                                 non_windows),
                    n_devices, non_windows);
  for (guint i = 0; notes != NULL && notes[i] != NULL; i++)
    rd_cli_message (_ ("Note: %s"), notes[i]);
}

static GPtrArray *
load_cache (RdCliSession  *self,
            RdTenantSync  *sync,
            GError       **error)
{
  g_autoptr (GDateTime) saved_at = NULL;
  g_autoptr (GPtrArray) devices = rd_tenant_sync_load_cache (sync, &saved_at);

  if (devices == NULL)
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_FAILED,
                   _ ("There is no cached inventory for tenant %s yet. Run the command once "
                      "while online, without --cached."),
                   rd_tenant_sync_get_tenant_id (sync));
      return NULL;
    }

  report_sync (self, sync, devices->len, saved_at);
  return g_steal_pointer (&devices);
}

/**
 * rd_cli_session_load_devices:
 * @cached: read the last inventory instead of syncing
 * @cache_when_offline: when Graph cannot be reached, fall back to the cache
 *
 * Returns: (transfer container) (element-type RdDevice): the tenant's
 *   Windows devices
 */
GPtrArray *
rd_cli_session_load_devices (RdCliSession  *self,
                             gboolean       cached,
                             gboolean       cache_when_offline,
                             GError       **error)
{
  g_autoptr (RdTenantSync) sync = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) local_error = NULL;

  if (cached)
    {
      g_autoptr (RdGraphClient) offline = NULL;

      if (!rd_cli_session_resolve_tenant (self, error))
        return NULL;
      if (self->client == NULL)
        {
          /* Reading the cache sends nothing: this client is never used. */
          g_autoptr (RdTokenSource) no_token = rd_static_token_source_new ("offline");
          g_autofree char *base_url = rd_cloud_dup_graph_base_url (self->cloud);

          offline = rd_graph_client_new (base_url, no_token);
        }
      sync = rd_tenant_sync_new (self->client != NULL ? self->client : offline, self->tenant_id);
      return load_cache (self, sync, error);
    }

  if (!rd_cli_session_connect (self, error))
    return NULL;

  sync = rd_tenant_sync_new (self->client, self->tenant_id);
  rd_tenant_sync_run_async (sync, self->cancellable, rd_cli_store_result_cb, &result);
  rd_cli_wait (&result);
  devices = rd_tenant_sync_run_finish (sync, result, &local_error);
  if (devices == NULL)
    {
      if (cache_when_offline &&
          g_error_matches (local_error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK))
        {
          g_autoptr (GPtrArray) from_cache = NULL;

          rd_cli_message (_ ("Microsoft Graph cannot be reached: %s"), local_error->message);
          from_cache = load_cache (self, sync, NULL);
          if (from_cache != NULL)
            return g_steal_pointer (&from_cache);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  report_sync (self, sync, devices->len, NULL);
  return g_steal_pointer (&devices);
}

/**
 * rd_cli_session_open_board:
 * @devices: (nullable) (element-type RdDevice): the inventory, if loaded
 *
 * Returns: (transfer full): the board over the tenant's plan store (the
 *   GUI's), with the saved plans and @devices
 */
RdBoard *
rd_cli_session_open_board (RdCliSession *self,
                           GPtrArray    *devices)
{
  g_autoptr (RdPlanStore) store = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (self->tenant_id != NULL, NULL);

  store = rd_plan_store_new_default (self->tenant_id);
  board = rd_board_new (store);

  /* An unreadable store has been moved aside, not lost: say where, and go
   * on without its plans. */
  if (!rd_board_load (board, &error))
    rd_cli_message (_ ("Warning: %s"), error->message);
  if (devices != NULL)
    rd_board_set_devices (board, devices);

  return g_steal_pointer (&board);
}
