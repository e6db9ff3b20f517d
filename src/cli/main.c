/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recovery-desk-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "rd-cli.h"
#include "rd-malloc.h"
#include "rd-cli-session.h"
#include "rd-cli-table.h"
#include "rd-audit-log.h"
#include "rd-core-error.h"
#include "rd-csv.h"
#include "rd-device-actions.h"
#include "rd-graph-error.h"
#include "rd-method.h"
#include "rd-readiness.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* The command-line front end: each command is a few calls into rd-core and
 * rd-graph, then output. Data goes to stdout, messages to stderr. */

static RdCliOptions global_options;
static GCancellable *global_cancellable;

/* Errors and waiting */

G_DEFINE_QUARK (rd - cli - error - quark, rd_cli_error)

int
rd_cli_exit_code_for_error (const GError *error)
{
  if (error->domain == RD_CLI_ERROR)
    {
      switch ((RdCliError) error->code)
        {
        case RD_CLI_ERROR_USAGE:
          return RD_CLI_EXIT_USAGE;
        case RD_CLI_ERROR_NOT_FOUND:
          return RD_CLI_EXIT_NOT_FOUND;
        case RD_CLI_ERROR_AMBIGUOUS:
          return RD_CLI_EXIT_AMBIGUOUS;
        case RD_CLI_ERROR_REFUSED:
          return RD_CLI_EXIT_REFUSED;
        case RD_CLI_ERROR_FAILED:
        default:
          return RD_CLI_EXIT_FAILED;
        }
    }

  if (error->domain == G_OPTION_ERROR)
    return RD_CLI_EXIT_USAGE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return RD_CLI_EXIT_CANCELLED;

  /* A keyring that cannot be reached is a failure, not a missing sign-in. */
  if (error->domain == RD_AUTH_ERROR)
    return error->code == RD_AUTH_ERROR_FAILED ? RD_CLI_EXIT_FAILED : RD_CLI_EXIT_NOT_SIGNED_IN;

  if (g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_UNAUTHORIZED))
    return RD_CLI_EXIT_NOT_SIGNED_IN;
  if (g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT))
    return RD_CLI_EXIT_USAGE;

  if (g_error_matches (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED) ||
      g_error_matches (error, RD_CORE_ERROR, RD_CORE_ERROR_METHOD_NOT_IN_LANE))
    return RD_CLI_EXIT_REFUSED;

  if (error->domain == RD_DEVICE_ACTIONS_ERROR)
    {
      switch ((RdDeviceActionsError) error->code)
        {
        case RD_DEVICE_ACTIONS_ERROR_UNSUPPORTED_METHOD:
        case RD_DEVICE_ACTIONS_ERROR_NOT_READY:
        case RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT:
        case RD_DEVICE_ACTIONS_ERROR_BLOCKED:
        case RD_DEVICE_ACTIONS_ERROR_WIPE_PENDING:
        case RD_DEVICE_ACTIONS_ERROR_NOT_INTERRUPTED:
          return RD_CLI_EXIT_REFUSED;
        case RD_DEVICE_ACTIONS_ERROR_NO_DEVICE:
          return RD_CLI_EXIT_NOT_FOUND;
        case RD_DEVICE_ACTIONS_ERROR_NOT_SAVED:
        case RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN:
        case RD_DEVICE_ACTIONS_ERROR_ACTION_FAILED:
        default:
          return RD_CLI_EXIT_FAILED;
        }
    }

  return RD_CLI_EXIT_FAILED;
}

void
rd_cli_message (const char *format,
                ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("%s\n", text);
}

/**
 * rd_cli_report_error:
 *
 * Prints @error for a person, with the request-id of a Graph error (what
 * Microsoft support asks for), and returns the exit code it stands for.
 */
int
rd_cli_report_error (const GError *error)
{
  const char *request_id = NULL;

  if (error->domain == RD_GRAPH_ERROR)
    request_id = rd_graph_error_get_request_id (error);

  if (request_id != NULL)
    g_printerr ("%s: %s (request-id %s)\n", g_get_prgname (), error->message, request_id);
  else
    g_printerr ("%s: %s\n", g_get_prgname (), error->message);

  if (error->domain == RD_CLI_ERROR && error->code == RD_CLI_ERROR_USAGE)
    g_printerr (_ ("Run “%s --help” for the commands and options.\n"), g_get_prgname ());

  return rd_cli_exit_code_for_error (error);
}

void
rd_cli_store_result_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Runs the main context until an asynchronous call has stored its result. */
void
rd_cli_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
on_interrupt_cb (gpointer user_data)
{
  g_cancellable_cancel (global_cancellable);

  return G_SOURCE_CONTINUE;
}

/* Options */

static gboolean
on_demo_option_cb (const char  *option_name,
                   const char  *value,
                   gpointer     data,
                   GError     **error)
{
  guint64 n = 0;

  global_options.demo = TRUE;
  global_options.demo_devices = 0;
  if (value == NULL || *value == '\0')
    return TRUE;

  if (!g_ascii_string_to_unsigned (value, 10, 1, 1000000, &n, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("--demo takes a number of devices from 1 to 1000000, not “%s”."), value);
      return FALSE;
    }
  global_options.demo_devices = (guint) n;

  return TRUE;
}

static const GOptionEntry global_entries[] = {
  { "demo", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_demo_option_cb,
    N_ ("Run against a demo tenant on this computer: the bundled devices, or N generated ones"),
    N_ ("N") },
  { "demo-data", 0, 0, G_OPTION_ARG_FILENAME, &global_options.demo_data,
    N_ ("With --demo, the demo tenant’s data from this file instead"), N_ ("FILE") },
  { "cloud", 0, 0, G_OPTION_ARG_STRING, &global_options.cloud,
    N_ ("Microsoft cloud: global, us-gov, us-gov-dod or china"), N_ ("CLOUD") },
  { "tenant", 0, 0, G_OPTION_ARG_STRING, &global_options.tenant,
    N_ ("Tenant to sign in to: a tenant ID, a domain, or “organizations”"), N_ ("TENANT") },
  { "client-id", 0, 0, G_OPTION_ARG_STRING, &global_options.client_id,
    N_ ("Application (client) ID of the app registration to sign in with"), N_ ("ID") },
  { "graph-endpoint", 0, 0, G_OPTION_ARG_STRING, &global_options.graph_endpoint,
    N_ ("Microsoft Graph endpoint (https:// only)"), N_ ("URL") },
  { "login-endpoint", 0, 0, G_OPTION_ARG_STRING, &global_options.login_endpoint,
    N_ ("Sign-in endpoint (https:// only)"), N_ ("URL") },
  { NULL },
};

/* GOption takes the word after an optional argument's option as its value
 * ("--demo devices"); "--demo=" keeps the command a command. */
static void
spell_out_demo (char **args)
{
  for (guint i = 1; args[i] != NULL && !g_str_equal (args[i], "--"); i++)
    if (g_str_equal (args[i], "--demo"))
      {
        g_free (args[i]);
        args[i] = g_strdup ("--demo=");
      }
}

static GOptionGroup *
global_group_new (void)
{
  GOptionGroup *group = g_option_group_new ("global", _ ("Global options:"),
                                            _ ("Show the global options"), NULL, NULL);

  g_option_group_add_entries (group, global_entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);

  return group;
}

static const char *
exit_codes_text (void)
{
  return _ ("Exit status:\n"
            "  0    success\n"
            "  1    failed: Microsoft Graph, the network, the keyring or a file\n"
            "  2    usage: an unknown command, option or value\n"
            "  3    not signed in, or the sign-in was refused or expired\n"
            "  4    not found: no device, or no plan, matches DEVICE\n"
            "  5    ambiguous: DEVICE matches several devices\n"
            "  6    refused: nothing was sent or changed (not confirmed, not ready,\n"
            "       already sent, or in flight)\n"
            "  130  interrupted\n"
            "\n"
            "DEVICE is a device name, a serial number or an Intune device id.\n"
            "Set RECOVERY_DESK_ACCESS_TOKEN to use a token instead of signing in.");
}

/**
 * rd_cli_parse:
 * @args: (inout): the command's arguments, args[0] being its name; on
 *   return, what is left after the options
 *
 * Parses a command's options and the global ones, which may also come
 * after the command.
 */
gboolean
rd_cli_parse (const char           *command,
              const char           *parameters,
              const char           *summary,
              const GOptionEntry   *entries,
              char               ***args,
              GError              **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *title = g_strdup_printf ("%s %s", command, parameters);
  GError *local_error = NULL;

  context = g_option_context_new (title);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, exit_codes_text ());
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, global_group_new ());

  spell_out_demo (*args);
  if (!g_option_context_parse_strv (context, args, &local_error))
    {
      g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE, local_error->message);
      g_error_free (local_error);
      return FALSE;
    }

  return TRUE;
}

/**
 * rd_cli_open_session:
 *
 * Returns: (transfer full): a session over the global options, sharing
 *   the Ctrl+C cancellable
 */
RdCliSession *
rd_cli_open_session (GError **error)
{
  RdCliSession *session = rd_cli_session_new (&global_options, error);

  if (session != NULL)
    g_set_object (&session->cancellable, global_cancellable);

  return session;
}

/* Shared formatting */

const char *
rd_cli_tristate_to_string (RdTristate value)
{
  switch (value)
    {
    case RD_TRISTATE_YES:
      return _ ("yes");
    case RD_TRISTATE_NO:
      return _ ("no");
    case RD_TRISTATE_UNKNOWN:
    default:
      return _ ("unknown");
    }
}

char *
rd_cli_format_time (GDateTime *time,
                    gboolean   for_table)
{
  g_autoptr (GDateTime) utc = NULL;

  if (time == NULL)
    return g_strdup ("");

  utc = g_date_time_to_utc (time);
  if (for_table)
    return g_date_time_format (utc, "%Y-%m-%d %H:%M");

  return g_date_time_format_iso8601 (utc);
}

static void
write_table (RdCliTable  *table,
             RdCliFormat  format)
{
  g_autofree char *text = NULL;

  if (format == RD_CLI_FORMAT_CSV)
    text = rd_cli_table_to_csv (table);
  else
    text = rd_cli_table_to_text (table);
  rd_cli_write (text);
}

static void
write_json (JsonNode *node)
{
  g_autofree char *text = rd_cli_json_to_string (node);

  rd_cli_write (text);
}

/* A listing in the chosen format: the JSON array, the core's CSV of the
 * listed objects (the same columns the app exports), or the table. */
static void
write_listing (RdCliFormat  format,
               JsonArray   *array,
               RdCliTable  *table,
               char       *(*format_csv) (GListModel *),
               GListModel  *listed)
{
  if (format == RD_CLI_FORMAT_JSON)
    {
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

      json_node_set_array (root, array);
      write_json (root);
    }
  else if (format == RD_CLI_FORMAT_CSV)
    {
      g_autofree char *csv = format_csv (listed);

      rd_cli_write (csv);
    }
  else
    write_table (table, format);
}

static gboolean
no_arguments (char   **args,
              GError **error)
{
  if (g_strv_length (args) > 1)
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("“%s” takes no arguments; “%s” is one too many."), args[0], args[1]);
      return FALSE;
    }

  return TRUE;
}

/* sign-in, sign-out, whoami */

static int
cmd_sign_in (char **args)
{
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (RdEntraDeviceCode) code = NULL;
  g_autoptr (GAsyncResult) begun = NULL;
  g_autoptr (GAsyncResult) completed = NULL;
  g_autoptr (GError) error = NULL;
  RdEntraAuth *auth;

  if (!rd_cli_parse ("sign-in", "", _ ("Sign in to Microsoft Entra ID with a device code."), NULL,
                     &args, &error) ||
      !no_arguments (args, &error) || (session = rd_cli_open_session (&error)) == NULL ||
      (auth = rd_session_get_auth (session->session, &error)) == NULL)
    return rd_cli_report_error (error);

  rd_entra_auth_begin_device_code_async (auth, session->cancellable, rd_cli_store_result_cb,
                                         &begun);
  rd_cli_wait (&begun);
  code = rd_entra_auth_begin_device_code_finish (auth, begun, &error);
  if (code == NULL)
    return rd_cli_report_error (error);

  if (rd_entra_device_code_get_message (code) != NULL)
    rd_cli_message ("%s", rd_entra_device_code_get_message (code));
  else
    rd_cli_message (_ ("To sign in, open %s and enter the code %s."),
                    rd_entra_device_code_get_verification_uri (code),
                    rd_entra_device_code_get_user_code (code));
  if (rd_session_get_demo (session->session) != NULL)
    rd_cli_message (_ ("The demo tenant approves the sign-in by itself."));
  rd_cli_message (_ ("Waiting for the sign-in… (Ctrl+C to stop)"));

  rd_entra_auth_complete_device_code_async (auth, code, session->cancellable,
                                            rd_cli_store_result_cb, &completed);
  rd_cli_wait (&completed);
  if (!rd_entra_auth_complete_device_code_finish (auth, completed, &error))
    return rd_cli_report_error (error);

  rd_cli_message (
    _ ("Signed in as %s (%s), tenant %s."),
    rd_entra_auth_get_display_name (auth) != NULL ? rd_entra_auth_get_display_name (auth)
                                                  : _ ("unknown name"),
    rd_entra_auth_get_username (auth) != NULL ? rd_entra_auth_get_username (auth)
                                              : _ ("unknown user"),
    rd_entra_auth_get_tenant_id (auth) != NULL ? rd_entra_auth_get_tenant_id (auth)
                                               : rd_session_get_tenant (session->session));

  /* The demo tenant ends with this command, and its refresh token with it:
   * keeping that in the keyring would only leave a dead sign-in behind. */
  if (rd_session_get_demo (session->session) != NULL)
    {
      g_autoptr (GAsyncResult) signed_out = NULL;

      rd_entra_auth_sign_out_async (auth, NULL, rd_cli_store_result_cb, &signed_out);
      rd_cli_wait (&signed_out);
      if (!rd_entra_auth_sign_out_finish (auth, signed_out, &error))
        g_debug ("Could not forget the demo sign-in: %s", error->message);
      rd_cli_message (_ ("The demo tenant lives only as long as one command; the other commands "
                         "sign in to it by themselves with --demo."));
    }

  return RD_CLI_EXIT_OK;
}

static int
cmd_sign_out (char **args)
{
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  RdEntraAuth *auth;

  if (!rd_cli_parse ("sign-out", "",
                     _ ("Sign out: remove the sign-in kept in the keyring for this cloud, tenant "
                        "and client id."),
                     NULL, &args, &error) ||
      !no_arguments (args, &error) || (session = rd_cli_open_session (&error)) == NULL ||
      (auth = rd_session_get_auth (session->session, &error)) == NULL)
    return rd_cli_report_error (error);

  rd_entra_auth_sign_out_async (auth, session->cancellable, rd_cli_store_result_cb, &result);
  rd_cli_wait (&result);
  if (!rd_entra_auth_sign_out_finish (auth, result, &error))
    return rd_cli_report_error (error);

  rd_cli_message (_ ("Signed out of tenant %s."), rd_session_get_tenant (session->session));
  if (g_getenv ("RECOVERY_DESK_ACCESS_TOKEN") != NULL)
    rd_cli_message (_ ("RECOVERY_DESK_ACCESS_TOKEN is still set: unset it too."));

  return RD_CLI_EXIT_OK;
}

static int
cmd_whoami (char **args)
{
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (!rd_cli_parse ("whoami", "", _ ("Show who is signed in, to which tenant and cloud."), NULL,
                     &args, &error) ||
      !no_arguments (args, &error) || (session = rd_cli_open_session (&error)) == NULL ||
      !rd_cli_session_connect (session, &error))
    return rd_cli_report_error (error);

  g_string_append_printf (out, "%s\t%s\n", _ ("Name:"),
                          rd_session_get_display_name (session->session) != NULL
                            ? rd_session_get_display_name (session->session)
                            : "");
  g_string_append_printf (out, "%s\t%s\n", _ ("User:"),
                          rd_session_get_username (session->session) != NULL
                            ? rd_session_get_username (session->session)
                            : "");
  g_string_append_printf (out, "%s\t%s\n", _ ("Tenant:"),
                          rd_session_get_tenant_id (session->session));
  g_string_append_printf (
    out, "%s\t%s\n", _ ("Cloud:"),
    rd_session_get_demo (session->session) != NULL
      ? "demo"
      : rd_cloud_kind_to_string (rd_cloud_get_kind (rd_session_get_cloud (session->session))));
  g_string_append_printf (out, "%s\t%s\n", _ ("Graph:"),
                          rd_graph_client_get_base_url (rd_session_get_client (session->session)));
  rd_cli_write (out->str);

  return RD_CLI_EXIT_OK;
}

/* devices, bitlocker */

static char *format_name;
static gboolean cached;
static gboolean not_ready_only;

static const GOptionEntry format_entry = { "format",
                                           0,
                                           0,
                                           G_OPTION_ARG_STRING,
                                           &format_name,
                                           N_ ("Output format: table (the default), json or csv"),
                                           N_ ("FORMAT") };

static gboolean
parse_format (RdCliFormat  *format,
              GError      **error)
{
  if (format_name == NULL)
    {
      *format = RD_CLI_FORMAT_TABLE;
      return TRUE;
    }

  return rd_cli_format_from_string (format_name, format, error);
}

static int
cmd_devices (char **args)
{
  const GOptionEntry entries[] = {
    format_entry,
    { "cached", 0, 0, G_OPTION_ARG_NONE, &cached,
      N_ ("Show the last inventory loaded, without going online"), NULL },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GError) error = NULL;
  RdCliFormat format;

  if (!rd_cli_parse ("devices", "", _ ("List the tenant’s Windows devices, after a sync."), entries,
                     &args, &error) ||
      !no_arguments (args, &error) || !parse_format (&format, &error) ||
      (session = rd_cli_open_session (&error)) == NULL)
    return rd_cli_report_error (error);

  session->report_inventory = TRUE;
  devices = rd_cli_session_load_devices (session, cached, TRUE, &error);
  if (devices == NULL)
    return rd_cli_report_error (error);

  board = rd_cli_session_open_board (session, devices);

  if (format == RD_CLI_FORMAT_JSON)
    {
      g_autoptr (JsonArray) array = json_array_sized_new (devices->len);
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

      for (guint i = 0; i < devices->len; i++)
        {
          RdDevice *device = g_ptr_array_index (devices, i);
          JsonNode *node = rd_device_to_json (device);

          json_object_set_string_member (
            json_node_get_object (node), "lane",
            rd_lane_to_string (rd_board_get_device_lane (board, device)));
          json_array_add_element (array, node);
        }
      json_node_set_array (root, array);
      write_json (root);
    }
  else
    {
      g_autoptr (RdCliTable) table = rd_cli_table_new ();
      gboolean for_table = format == RD_CLI_FORMAT_TABLE;

      rd_cli_table_add_column (table, "deviceName", _ ("Name"));
      rd_cli_table_add_column (table, "serialNumber", _ ("Serial number"));
      rd_cli_table_add_column (table, "userPrincipalName", _ ("User"));
      rd_cli_table_add_column (table, "manufacturer", _ ("Manufacturer"));
      rd_cli_table_add_column (table, "model", _ ("Model"));
      rd_cli_table_add_column (table, "osVersion", _ ("OS version"));
      rd_cli_table_add_column (table, "lastSyncDateTime", _ ("Last sync"));
      rd_cli_table_add_column (table, "lane", _ ("Lane"));
      rd_cli_table_add_column (table, "id", _ ("Intune id"));

      for (guint i = 0; i < devices->len; i++)
        {
          RdDevice *device = g_ptr_array_index (devices, i);
          RdLane lane = rd_board_get_device_lane (board, device);

          rd_cli_table_add_row (table);
          rd_cli_table_add_cell (table, rd_device_get_name (device));
          rd_cli_table_add_cell (table, rd_device_get_serial (device));
          rd_cli_table_add_cell (table, rd_device_get_user_principal_name (device));
          rd_cli_table_add_cell (table, rd_device_get_manufacturer (device));
          rd_cli_table_add_cell (table, rd_device_get_model (device));
          rd_cli_table_add_cell (table, rd_device_get_os_version (device));
          rd_cli_table_take_cell (table,
                                  rd_cli_format_time (rd_device_get_last_sync (device), for_table));
          rd_cli_table_add_cell (table,
                                 for_table ? rd_lane_get_title (lane) : rd_lane_to_string (lane));
          rd_cli_table_add_cell (table, rd_device_get_id (device));
        }
      write_table (table, format);
    }

  return RD_CLI_EXIT_OK;
}

/* Whether the device's BitLocker state lets its drive go to a new user, as
 * the app's BitLocker view sees it: anything unknown is not ready. */
static gboolean
bitlocker_ready (RdDevice *device)
{
  return rd_device_get_bitlocker_ready (device) == RD_TRISTATE_YES;
}

static const char *
readiness_to_string (RdEncryptionReadiness readiness,
                     gboolean              for_table)
{
  if (!for_table)
    return rd_enum_to_nick (RD_TYPE_ENCRYPTION_READINESS, readiness);

  switch (readiness)
    {
    case RD_ENCRYPTION_READINESS_READY:
      return _ ("ready");
    case RD_ENCRYPTION_READINESS_NOT_READY:
      return _ ("not ready");
    case RD_ENCRYPTION_READINESS_UNKNOWN:
    default:
      return _ ("unknown");
    }
}

static JsonNode *
bitlocker_to_json (RdDevice *device)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *last_sync = rd_cli_format_time (rd_device_get_last_sync (device), FALSE);
  RdTristate encrypted = rd_device_get_encrypted (device);
  int keys = rd_device_get_escrowed_keys (device);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, rd_device_get_id (device));
  json_builder_set_member_name (builder, "deviceName");
  json_builder_add_string_value (builder, rd_device_get_name (device));
  json_builder_set_member_name (builder, "serialNumber");
  json_builder_add_string_value (builder, rd_device_get_serial (device));
  json_builder_set_member_name (builder, "userPrincipalName");
  json_builder_add_string_value (builder, rd_device_get_user_principal_name (device));
  json_builder_set_member_name (builder, "osVersion");
  json_builder_add_string_value (builder, rd_device_get_os_version (device));
  json_builder_set_member_name (builder, "isEncrypted");
  if (encrypted == RD_TRISTATE_UNKNOWN)
    json_builder_add_null_value (builder);
  else
    json_builder_add_boolean_value (builder, encrypted == RD_TRISTATE_YES);
  json_builder_set_member_name (builder, "escrowedKeyCount");
  if (keys < 0)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, keys);
  json_builder_set_member_name (builder, "tpmVersion");
  json_builder_add_string_value (builder, rd_device_get_tpm_version (device));
  json_builder_set_member_name (builder, "encryptionReadiness");
  json_builder_add_string_value (
    builder, readiness_to_string (rd_device_get_encryption_readiness (device), FALSE));
  json_builder_set_member_name (builder, "lastSyncDateTime");
  if (*last_sync != '\0')
    json_builder_add_string_value (builder, last_sync);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "readyForReuse");
  json_builder_add_boolean_value (builder, bitlocker_ready (device));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static int
cmd_bitlocker (char **args)
{
  const GOptionEntry entries[] = {
    format_entry,
    { "not-ready", 0, 0, G_OPTION_ARG_NONE, &not_ready_only,
      N_ ("Only the devices not ready for reuse: not known to be encrypted, or without a recovery "
          "key known to be escrowed"),
      NULL },
    { "cached", 0, 0, G_OPTION_ARG_NONE, &cached,
      N_ ("Show the last inventory loaded, without going online"), NULL },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdCliTable) table = rd_cli_table_new ();
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (GListStore) listed = g_list_store_new (RD_TYPE_DEVICE);
  RdCliFormat format;
  gboolean for_table;

  if (!rd_cli_parse ("bitlocker", "",
                     _ ("Review BitLocker: encryption, escrowed recovery keys, TPM and readiness "
                        "of every Windows device."),
                     entries, &args, &error) ||
      !no_arguments (args, &error) || !parse_format (&format, &error) ||
      (session = rd_cli_open_session (&error)) == NULL)
    return rd_cli_report_error (error);

  session->report_inventory = TRUE;
  devices = rd_cli_session_load_devices (session, cached, TRUE, &error);
  if (devices == NULL)
    return rd_cli_report_error (error);

  for_table = format == RD_CLI_FORMAT_TABLE;
  rd_cli_table_add_column (table, "deviceName", _ ("Name"));
  rd_cli_table_add_column (table, "userPrincipalName", _ ("User"));
  rd_cli_table_add_column (table, "osVersion", _ ("OS version"));
  rd_cli_table_add_column (table, "isEncrypted", _ ("Encrypted"));
  rd_cli_table_add_column (table, "escrowedKeyCount", _ ("Escrowed keys"));
  rd_cli_table_add_column (table, "tpmVersion", _ ("TPM"));
  rd_cli_table_add_column (table, "encryptionReadiness", _ ("Readiness"));
  rd_cli_table_add_column (table, "lastSyncDateTime", _ ("Last sync"));
  rd_cli_table_add_column (table, "readyForReuse", _ ("Ready for reuse"));

  for (guint i = 0; i < devices->len; i++)
    {
      RdDevice *device = g_ptr_array_index (devices, i);
      int keys = rd_device_get_escrowed_keys (device);
      RdTristate encrypted = rd_device_get_encrypted (device);

      if (not_ready_only && bitlocker_ready (device))
        continue;

      if (format == RD_CLI_FORMAT_JSON)
        {
          json_array_add_element (array, bitlocker_to_json (device));
          continue;
        }

      /* CSV comes from the writer the app's export uses, so both agree. */
      if (!for_table)
        {
          g_list_store_append (listed, device);
          continue;
        }

      rd_cli_table_add_row (table);
      rd_cli_table_add_cell (table, rd_device_get_name (device));
      rd_cli_table_add_cell (table, rd_device_get_user_principal_name (device));
      rd_cli_table_add_cell (table, rd_device_get_os_version (device));
      rd_cli_table_add_cell (table, rd_cli_tristate_to_string (encrypted));
      if (keys >= 0)
        rd_cli_table_take_cell (table, g_strdup_printf ("%d", keys));
      else
        rd_cli_table_add_cell (table, _ ("unknown"));
      rd_cli_table_add_cell (table, rd_device_get_tpm_version (device));
      rd_cli_table_add_cell (
        table, readiness_to_string (rd_device_get_encryption_readiness (device), for_table));
      rd_cli_table_take_cell (table,
                              rd_cli_format_time (rd_device_get_last_sync (device), for_table));
      rd_cli_table_add_cell (table, bitlocker_ready (device) ? _ ("yes") : _ ("no"));
    }

  write_listing (format, array, table, rd_csv_format_bitlocker, G_LIST_MODEL (listed));

  return RD_CLI_EXIT_OK;
}

/* audit */

static JsonNode *
audit_entry_to_json (RdAuditEntry *entry)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *time = rd_cli_format_time (rd_audit_entry_get_time (entry), FALSE);
  const char *body = rd_audit_entry_get_request_body (entry);
  g_autoptr (JsonNode) body_node = NULL;
  struct
  {
    const char *name;
    const char *value;
  } strings[] = {
    { "user", rd_audit_entry_get_user (entry) },
    { "tenant", rd_audit_entry_get_tenant (entry) },
    { "deviceId", rd_audit_entry_get_device_id (entry) },
    { "deviceName", rd_audit_entry_get_device_name (entry) },
    { "method", rd_audit_entry_get_method (entry) },
  };

  if (body != NULL && *body != '\0')
    body_node = json_from_string (body, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "time");
  json_builder_add_string_value (builder, time);
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      json_builder_set_member_name (builder, strings[i].name);
      json_builder_add_string_value (builder, strings[i].value);
    }
  json_builder_set_member_name (builder, "request");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "method");
  json_builder_add_string_value (builder, rd_audit_entry_get_request_method (entry));
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, rd_audit_entry_get_request_path (entry));
  json_builder_set_member_name (builder, "body");
  if (body_node != NULL)
    json_builder_add_value (builder, g_steal_pointer (&body_node));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "httpStatus");
  if (rd_audit_entry_get_http_status (entry) != 0)
    json_builder_add_int_value (builder, rd_audit_entry_get_http_status (entry));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "requestId");
  json_builder_add_string_value (builder, rd_audit_entry_get_request_id (entry));
  json_builder_set_member_name (builder, "clientRequestId");
  json_builder_add_string_value (builder, rd_audit_entry_get_client_request_id (entry));
  json_builder_set_member_name (builder, "outcome");
  json_builder_add_string_value (builder, rd_audit_entry_get_outcome (entry));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static int
cmd_audit (char **args)
{
  const GOptionEntry entries[] = {
    format_entry,
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GListModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdCliTable) table = rd_cli_table_new ();
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (GListStore) listed = g_list_store_new (RD_TYPE_AUDIT_ENTRY);
  const char *tenant = NULL;
  RdCliFormat format;
  gboolean for_table;
  guint n_skipped = 0;

  if (!rd_cli_parse ("audit", "",
                     _ ("Show the audit log of actions sent, shared with the app. With --demo, "
                        "only the demo tenant’s; with a tenant id given to --tenant, only that "
                        "tenant’s."),
                     entries, &args, &error) ||
      !no_arguments (args, &error) || !parse_format (&format, &error) ||
      (session = rd_cli_open_session (&error)) == NULL)
    return rd_cli_report_error (error);

  /* The log is a local file: reading it needs no sign-in. The tenant is
   * the demo's, or a tenant id given with --tenant. */
  if (rd_session_resolve_tenant_id (session->session))
    tenant = rd_session_get_tenant_id (session->session);

  model = rd_audit_log_read (rd_session_get_audit_log (session->session), &n_skipped, &error);
  if (model == NULL)
    return rd_cli_report_error (error);
  if (n_skipped > 0)
    rd_cli_message (g_dngettext (GETTEXT_PACKAGE, "%u line of the audit log could not be read.",
                                 "%u lines of the audit log could not be read.", n_skipped),
                    n_skipped);

  for_table = format == RD_CLI_FORMAT_TABLE;
  rd_cli_table_add_column (table, "time", _ ("Time"));
  rd_cli_table_add_column (table, "user", _ ("User"));
  rd_cli_table_add_column (table, "deviceName", _ ("Device"));
  rd_cli_table_add_column (table, "method", _ ("Method"));
  rd_cli_table_add_column (table, "request", _ ("Request"));
  rd_cli_table_add_column (table, "httpStatus", _ ("Status"));
  rd_cli_table_add_column (table, "outcome", _ ("Outcome"));
  rd_cli_table_add_column (table, "requestId", _ ("Request id"));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (RdAuditEntry) entry = g_list_model_get_item (model, i);
      int status = rd_audit_entry_get_http_status (entry);

      if (tenant != NULL && g_ascii_strcasecmp (tenant, rd_audit_entry_get_tenant (entry) != NULL
                                                          ? rd_audit_entry_get_tenant (entry)
                                                          : "") != 0)
        continue;

      if (format == RD_CLI_FORMAT_JSON)
        {
          json_array_add_element (array, audit_entry_to_json (entry));
          continue;
        }

      if (!for_table)
        {
          g_list_store_append (listed, entry);
          continue;
        }

      rd_cli_table_add_row (table);
      rd_cli_table_take_cell (table,
                              rd_cli_format_time (rd_audit_entry_get_time (entry), for_table));
      rd_cli_table_add_cell (table, rd_audit_entry_get_user (entry));
      rd_cli_table_add_cell (table, rd_audit_entry_get_device_name (entry));
      rd_cli_table_add_cell (table, rd_audit_entry_get_method (entry));
      rd_cli_table_take_cell (table, g_strdup_printf ("%s %s",
                                                      rd_audit_entry_get_request_method (entry)
                                                        ? rd_audit_entry_get_request_method (entry)
                                                        : "",
                                                      rd_audit_entry_get_request_path (entry)
                                                        ? rd_audit_entry_get_request_path (entry)
                                                        : ""));
      rd_cli_table_take_cell (table, status != 0 ? g_strdup_printf ("%d", status) : NULL);
      rd_cli_table_add_cell (table, rd_audit_entry_get_outcome (entry));
      rd_cli_table_add_cell (table, rd_audit_entry_get_request_id (entry));
    }

  write_listing (format, array, table, rd_csv_format_audit, G_LIST_MODEL (listed));

  return RD_CLI_EXIT_OK;
}

/* main */

typedef struct
{
  const char *name;
  int (*run) (char **args);
  const char *summary;
} Command;

static const Command commands[] = {
  { "sign-in", cmd_sign_in, N_ ("Sign in with a device code") },
  { "sign-out", cmd_sign_out, N_ ("Remove the sign-in from the keyring") },
  { "whoami", cmd_whoami, N_ ("Show who is signed in") },
  { "devices", cmd_devices, N_ ("List the Windows devices") },
  { "bitlocker", cmd_bitlocker, N_ ("Review BitLocker readiness") },
  { "plan", rd_cli_plan, N_ ("Add, remove, list, show and run recovery plans") },
  { "audit", cmd_audit, N_ ("Show the audit log") },
};

static char *
commands_summary (void)
{
  GString *s = g_string_new (_ ("Recovery Desk from the command line: recovery plans, the "
                                "inventory and BitLocker readiness of an Intune tenant."));

  g_string_append_printf (s, "\n\n%s\n", _ ("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "  %-10s %s\n", commands[i].name, _ (commands[i].summary));
  g_string_append (s, "\n  plan add DEVICE --lane break-fix|reuse [--method METHOD]\n"
                      "  plan remove DEVICE\n"
                      "  plan list\n"
                      "  plan show DEVICE\n"
                      "  plan run DEVICE… [--dry-run] [--yes] [--wait]\n\n");
  g_string_append_printf (s, _ ("Run “%s COMMAND --help” for a command’s options."),
                          g_get_prgname ());

  return g_string_free (s, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *summary = NULL;
  g_auto (GStrv) args = NULL;
  int status;

  rd_malloc_tune ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* stdout is for data only: debug messages go to stderr with the rest. */
  g_log_writer_default_set_use_stderr (TRUE);
  g_set_prgname ("recovery-desk-cli");
  g_set_application_name (_ ("Recovery Desk"));

  /* Global options come before the command; everything from the command
   * on is the command's to parse. */
  args = g_strdupv (argv);
  summary = commands_summary ();
  context = g_option_context_new (_ ("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_strict_posix (context, TRUE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, exit_codes_text ());
  g_option_context_add_main_entries (context, global_entries, GETTEXT_PACKAGE);
  spell_out_demo (args);
  if (!g_option_context_parse_strv (context, &args, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      g_printerr (_ ("Run “%s --help” for the commands and options.\n"), g_get_prgname ());
      return RD_CLI_EXIT_USAGE;
    }

  if (args[1] == NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return RD_CLI_EXIT_USAGE;
    }

  global_cancellable = g_cancellable_new ();
  g_unix_signal_add (SIGINT, on_interrupt_cb, NULL);
  g_unix_signal_add (SIGTERM, on_interrupt_cb, NULL);

  status = -1;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (args[1], commands[i].name))
      {
        g_auto (GStrv) command_args = g_strdupv (args + 1);

        status = commands[i].run (command_args);
        break;
      }

  if (status < 0)
    {
      g_printerr (_ ("%s: unknown command “%s”.\n"), g_get_prgname (), args[1]);
      g_printerr (_ ("Run “%s --help” for the commands and options.\n"), g_get_prgname ());
      status = RD_CLI_EXIT_USAGE;
    }

  g_clear_object (&global_cancellable);
  rd_cli_options_clear (&global_options);

  return status;
}
