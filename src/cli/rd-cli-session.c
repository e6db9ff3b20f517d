/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-cli"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-cli-session.h"
#include "rd-cli.h"
#include "rd-graph-error.h"
#include "rd-tenant-sync.h"

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
usage_error (GError **error,
             GError  *cause)
{
  g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE, cause->message);
  g_error_free (cause);
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
  g_autofree char *cloud = NULL;
  g_autofree char *graph_endpoint = NULL;
  g_autofree char *login_endpoint = NULL;
  g_autofree char *tenant = NULL;
  g_autofree char *client_id = NULL;
  GError *local_error = NULL;

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

  if (options->demo)
    {
      self->session = rd_session_new_demo (options->demo_devices, options->demo_data, error);
      if (self->session == NULL)
        return NULL;
      if (options->client_id != NULL)
        rd_session_set_client_id (self->session, options->client_id);

      return g_steal_pointer (&self);
    }

  settings = open_settings ();
  cloud = choose (options->cloud, settings, "cloud");
  graph_endpoint = choose (options->graph_endpoint, settings, "graph-endpoint");
  login_endpoint = choose (options->login_endpoint, settings, "login-endpoint");
  tenant = choose (options->tenant, settings, "tenant");
  client_id = choose (options->client_id, settings, "client-id");

  /* Only a cloud name or an endpoint can be refused: the command line's. */
  self->session = rd_session_new (cloud, graph_endpoint, login_endpoint, tenant, client_id,
                                  &local_error);
  if (self->session == NULL)
    {
      usage_error (error, local_error);
      return NULL;
    }

  return g_steal_pointer (&self);
}

void
rd_cli_session_free (RdCliSession *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_free (self);
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
  g_autoptr (GAsyncResult) result = NULL;
  RdEntraAuth *auth;

  if (rd_session_get_connected (self->session))
    return TRUE;

  if (rd_session_get_demo (self->session) != NULL)
    return rd_session_connect_demo (self->session, error);

  if (env_token != NULL && *env_token != '\0')
    {
      /* It fails only when the tenant is unknown, which an option fixes. */
      if (rd_session_connect_with_token (self->session, env_token, NULL))
        return TRUE;

      g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                           _ ("The token in RECOVERY_DESK_ACCESS_TOKEN does not say which "
                              "tenant it is for: give the tenant id with --tenant."));
      return FALSE;
    }

  auth = rd_session_get_auth (self->session, error);
  if (auth == NULL)
    return FALSE;

  rd_entra_auth_restore_async (auth, self->cancellable, rd_cli_store_result_cb, &result);
  rd_cli_wait (&result);
  if (!rd_entra_auth_restore_finish (auth, result, error))
    return FALSE;

  return rd_session_connect_with_auth (self->session, error);
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
  if (rd_session_resolve_tenant_id (self->session))
    return TRUE;

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
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) local_error = NULL;
  RdTenantSync *sync;

  /* Reading the cache sends nothing: before a connection, the session's
   * sync has a client that is never used. */
  if (cached)
    {
      if (!rd_cli_session_resolve_tenant (self, error))
        return NULL;
      return load_cache (self, rd_session_get_sync (self->session), error);
    }

  if (!rd_cli_session_connect (self, error))
    return NULL;

  sync = rd_session_get_sync (self->session);
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
 * Returns: (transfer full): the session's board over the tenant's plan
 *   store (the GUI's), with the saved plans and @devices
 */
RdBoard *
rd_cli_session_open_board (RdCliSession *self,
                           GPtrArray    *devices)
{
  g_autoptr (GError) error = NULL;
  RdBoard *board;

  g_return_val_if_fail (rd_session_get_tenant_id (self->session) != NULL, NULL);

  /* An unreadable store has been moved aside, not lost: say where, and go
   * on without its plans. */
  board = rd_session_open_board (self->session, &error);
  if (error != NULL)
    rd_cli_message (_ ("Warning: %s"), error->message);
  if (devices != NULL)
    rd_board_set_devices (board, devices);

  return g_object_ref (board);
}
