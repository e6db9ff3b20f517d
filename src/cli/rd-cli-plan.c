/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-cli"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-cli.h"
#include "rd-cli-session.h"
#include "rd-cli-table.h"
#include "rd-audit-log.h"
#include "rd-device-actions.h"
#include "rd-method.h"
#include "rd-readiness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* `plan add|remove|list|show|run`: every change goes through RdBoard, every
 * send through RdDeviceActions, so the CLI keeps the rules the app keeps. */

static char *lane_name;
static char *method_name;
static char *format_name;
static gboolean cached;
static gboolean dry_run;
static gboolean assume_yes;
static gboolean wait_done;

/* Finding DEVICE */

static char *
fold (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text, -1, G_NORMALIZE_ALL_COMPOSE);

  return normalized != NULL ? g_utf8_casefold (normalized, -1) : g_strdup ("");
}

static gboolean
same (const char *value,
      const char *folded_query)
{
  g_autofree char *folded = NULL;

  if (value == NULL)
    return FALSE;
  folded = fold (value);
  return g_str_equal (folded, folded_query);
}

static char *
describe_device (RdDevice *device)
{
  return g_strdup_printf (_ ("%s (serial number %s, Intune id %s)"), rd_device_get_name (device),
                          rd_device_get_serial (device) != NULL ? rd_device_get_serial (device)
                                                                : _ ("none"),
                          rd_device_get_id (device));
}

/**
 * resolve_device:
 *
 * Finds the one device whose name, serial number or Intune id is @query,
 * without regard to case.
 *
 * Returns: (transfer none): the device, or %NULL with %RD_CLI_ERROR_NOT_FOUND
 *   or %RD_CLI_ERROR_AMBIGUOUS (naming every match)
 */
static RdDevice *
resolve_device (GPtrArray   *devices,
                const char  *query,
                GError     **error)
{
  g_autoptr (GPtrArray) matches = g_ptr_array_new ();
  g_autofree char *folded = fold (query);
  g_autoptr (GString) list = NULL;

  for (guint i = 0; i < devices->len; i++)
    {
      RdDevice *device = g_ptr_array_index (devices, i);

      if (same (rd_device_get_name (device), folded) ||
          same (rd_device_get_serial (device), folded) || same (rd_device_get_id (device), folded))
        g_ptr_array_add (matches, device);
    }

  if (matches->len == 1)
    return g_ptr_array_index (matches, 0);

  if (matches->len == 0)
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_NOT_FOUND,
                   _ ("No Windows device has the name, serial number or Intune id “%s”."), query);
      return NULL;
    }

  list = g_string_new (NULL);
  for (guint i = 0; i < matches->len; i++)
    {
      g_autofree char *description = describe_device (g_ptr_array_index (matches, i));

      g_string_append_printf (list, "\n  %s", description);
    }
  g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_AMBIGUOUS,
               g_dngettext (GETTEXT_PACKAGE, "“%s” matches %u device:%s",
                            "“%s” matches %u devices:%s\nName one by its serial number or Intune "
                            "id.",
                            matches->len),
               query, matches->len, list->str);
  return NULL;
}

/* A plan's request, as RdDeviceActions will send it. */
static gboolean
describe_request (RdCliSession  *session,
                  RdPlan        *plan,
                  char         **method,
                  char         **url,
                  char         **body)
{
  g_autofree char *path = NULL;

  if (!rd_device_actions_describe_request (plan, method, &path, body))
    return FALSE;

  *url = g_strconcat (rd_graph_client_get_base_url (rd_session_get_client (session->session)), path,
                      NULL);
  return TRUE;
}

static const char *
severity_to_string (RdCheckSeverity severity)
{
  switch (severity)
    {
    case RD_CHECK_SEVERITY_PASS:
      return _ ("pass");
    case RD_CHECK_SEVERITY_INFO:
      return _ ("info");
    case RD_CHECK_SEVERITY_WARNING:
      return _ ("warning");
    case RD_CHECK_SEVERITY_BLOCKER:
      return _ ("blocker");
    default:
      return "";
    }
}

static void
report_blockers (RdBoard  *board,
                 RdDevice *device)
{
  g_autoptr (GListModel) checks = rd_board_evaluate (board, device);

  for (guint i = 0; i < g_list_model_get_n_items (checks); i++)
    {
      g_autoptr (RdCheck) check = g_list_model_get_item (checks, i);

      if (rd_check_get_severity (check) == RD_CHECK_SEVERITY_BLOCKER)
        rd_cli_message (_ ("  Blocked: %s. %s"), rd_check_get_title (check),
                        rd_check_get_explanation (check));
    }
}

/* The common start of the commands that name a device: the inventory, the
 * board over it, and the device. */
static RdDevice *
open_device (RdCliSession  *session,
             const char    *query,
             gboolean       from_cache,
             GPtrArray    **devices_out,
             RdBoard      **board_out,
             GError       **error)
{
  g_autoptr (GPtrArray) devices = NULL;
  RdDevice *device;

  devices = rd_cli_session_load_devices (session, from_cache, FALSE, error);
  if (devices == NULL)
    return NULL;

  device = resolve_device (devices, query, error);
  if (device == NULL)
    return NULL;

  *board_out = rd_cli_session_open_board (session, devices);
  *devices_out = g_steal_pointer (&devices);
  return device;
}

static gboolean
one_device (char   **args,
            GError **error)
{
  guint n = g_strv_length (args);

  if (n < 2)
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE, _ ("“plan %s” needs a DEVICE."),
                   args[0]);
      return FALSE;
    }
  if (n > 2)
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("“plan %s” takes one DEVICE; “%s” is one too many."), args[0], args[2]);
      return FALSE;
    }

  return TRUE;
}

static RdPlan *
require_plan (RdBoard   *board,
              RdDevice  *device,
              GError   **error)
{
  RdPlan *plan = rd_board_get_plan (board, device);

  if (plan == NULL)
    g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_NOT_FOUND,
                 _ ("%s has no plan. Add one with “plan add %s --lane break-fix|reuse”."),
                 rd_device_get_name (device), rd_device_get_name (device));

  return plan;
}

static void
report_plan (RdBoard  *board,
             RdDevice *device)
{
  RdPlan *plan = rd_board_get_plan (board, device);

  if (plan == NULL)
    {
      rd_cli_message (_ ("%s is in Devices, without a plan."), rd_device_get_name (device));
      return;
    }

  rd_cli_message (_ ("%s is in %s: %s (%s)."), rd_device_get_name (device),
                  rd_lane_get_title (rd_plan_get_lane (plan)),
                  rd_method_get_title (rd_plan_get_method (plan)),
                  rd_plan_state_to_string (rd_plan_get_state (plan)));
  if (rd_plan_get_state (plan) == RD_PLAN_STATE_BLOCKED)
    report_blockers (board, device);
}

/* plan add */

static int
plan_add (char **args)
{
  const GOptionEntry entries[] = {
    { "lane", 0, 0, G_OPTION_ARG_STRING, &lane_name, N_ ("The lane: break-fix or reuse"),
      N_ ("LANE") },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_name,
      N_ ("The method: wipe-retain (Break and Fix); reimage-oem, reimage-universal or "
          "autopilot-reset (Reuse). The lane’s default when not given"),
      N_ ("METHOD") },
    { "cached", 0, 0, G_OPTION_ARG_NONE, &cached,
      N_ ("Find DEVICE in the last inventory loaded, without going online"), NULL },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device;
  RdLane lane = RD_LANE_INVENTORY;
  RdMethod method = RD_METHOD_WIPE_RETAIN;

  if (!rd_cli_parse ("plan add", _ ("DEVICE"),
                     _ ("Put a device in the Break and Fix or Reuse lane, with a recovery plan."),
                     entries, &args, &error) ||
      !one_device (args, &error))
    return rd_cli_report_error (error);

  if (lane_name != NULL && (!rd_lane_from_string (lane_name, &lane) || lane == RD_LANE_INVENTORY))
    {
      g_set_error (&error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("Unknown lane “%s”: use break-fix or reuse. To take a device out of its "
                      "lane, use “plan remove”."),
                   lane_name);
      return rd_cli_report_error (error);
    }
  if (method_name != NULL && !rd_method_from_string (method_name, &method))
    {
      g_set_error (&error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("Unknown method “%s”: use wipe-retain, reimage-oem, reimage-universal or "
                      "autopilot-reset."),
                   method_name);
      return rd_cli_report_error (error);
    }
  if (lane_name == NULL && method_name == NULL)
    {
      g_set_error_literal (&error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                           _ ("“plan add” needs --lane break-fix|reuse (or a --method)."));
      return rd_cli_report_error (error);
    }
  if (lane_name == NULL)
    lane = rd_method_get_lane (method);
  else if (method_name != NULL && rd_method_get_lane (method) != lane)
    {
      g_set_error (&error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("The method %s belongs to %s, not %s."), method_name,
                   rd_lane_get_title (rd_method_get_lane (method)), rd_lane_get_title (lane));
      return rd_cli_report_error (error);
    }

  if ((session = rd_cli_open_session (&error)) == NULL ||
      (device = open_device (session, args[1], cached, &devices, &board, &error)) == NULL)
    return rd_cli_report_error (error);

  if (!rd_board_move_device (board, device, lane, &error))
    return rd_cli_report_error (error);
  if (method_name != NULL && rd_plan_get_method (rd_board_get_plan (board, device)) != method &&
      !rd_board_set_method (board, device, method, &error))
    return rd_cli_report_error (error);

  report_plan (board, device);
  return RD_CLI_EXIT_OK;
}

/* plan remove */

static int
plan_remove (char **args)
{
  const GOptionEntry entries[] = {
    { "cached", 0, 0, G_OPTION_ARG_NONE, &cached,
      N_ ("Find DEVICE in the last inventory loaded, without going online"), NULL },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device;

  if (!rd_cli_parse ("plan remove", _ ("DEVICE"),
                     _ ("Move a device back to Devices, dropping its plan. A plan whose action "
                        "has been sent cannot be removed."),
                     entries, &args, &error) ||
      !one_device (args, &error) || (session = rd_cli_open_session (&error)) == NULL ||
      (device = open_device (session, args[1], cached, &devices, &board, &error)) == NULL ||
      require_plan (board, device, &error) == NULL ||
      !rd_board_move_device (board, device, RD_LANE_INVENTORY, &error))
    return rd_cli_report_error (error);

  rd_cli_message (_ ("%s is back in Devices; its plan is removed."), rd_device_get_name (device));
  return RD_CLI_EXIT_OK;
}

/* plan list */

static int
compare_plans (gconstpointer a,
               gconstpointer b)
{
  RdPlan *plan_a = *(RdPlan **) a;
  RdPlan *plan_b = *(RdPlan **) b;
  int by_name = g_utf8_collate (
    rd_plan_get_device_name (plan_a) != NULL ? rd_plan_get_device_name (plan_a) : "",
    rd_plan_get_device_name (plan_b) != NULL ? rd_plan_get_device_name (plan_b) : "");

  return by_name != 0 ? by_name
                      : g_strcmp0 (rd_plan_get_device_id (plan_a), rd_plan_get_device_id (plan_b));
}

static int
plan_list (char **args)
{
  const GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name,
      N_ ("Output format: table (the default), json or csv"), N_ ("FORMAT") },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GPtrArray) plans = NULL;
  g_autoptr (GError) error = NULL;
  RdCliFormat format = RD_CLI_FORMAT_TABLE;

  if (!rd_cli_parse ("plan list", "", _ ("List the recovery plans, as saved: no sync is needed."),
                     entries, &args, &error) ||
      (format_name != NULL && !rd_cli_format_from_string (format_name, &format, &error)) ||
      (session = rd_cli_open_session (&error)) == NULL ||
      !rd_cli_session_resolve_tenant (session, &error))
    return rd_cli_report_error (error);

  if (g_strv_length (args) > 1)
    {
      g_set_error (&error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("“plan list” takes no arguments; “%s” is one too many."), args[1]);
      return rd_cli_report_error (error);
    }

  board = rd_cli_session_open_board (session, NULL);
  plans = rd_board_dup_plans (board);
  g_ptr_array_sort (plans, compare_plans);

  if (format == RD_CLI_FORMAT_JSON)
    {
      g_autoptr (JsonArray) array = json_array_sized_new (plans->len);
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *text = NULL;

      for (guint i = 0; i < plans->len; i++)
        json_array_add_element (array, rd_plan_to_json (g_ptr_array_index (plans, i)));
      json_node_set_array (root, array);
      text = rd_cli_json_to_string (root);
      rd_cli_write (text);
    }
  else
    {
      g_autoptr (RdCliTable) table = rd_cli_table_new ();
      g_autofree char *text = NULL;
      gboolean for_table = format == RD_CLI_FORMAT_TABLE;

      rd_cli_table_add_column (table, "deviceName", _ ("Device"));
      rd_cli_table_add_column (table, "deviceSerial", _ ("Serial number"));
      rd_cli_table_add_column (table, "lane", _ ("Lane"));
      rd_cli_table_add_column (table, "method", _ ("Method"));
      rd_cli_table_add_column (table, "state", _ ("State"));
      rd_cli_table_add_column (table, "updated", _ ("Updated"));
      rd_cli_table_add_column (table, "deviceId", _ ("Intune id"));

      for (guint i = 0; i < plans->len; i++)
        {
          RdPlan *plan = g_ptr_array_index (plans, i);

          rd_cli_table_add_row (table);
          rd_cli_table_add_cell (table, rd_plan_get_device_name (plan));
          rd_cli_table_add_cell (table, rd_plan_get_device_serial (plan));
          rd_cli_table_add_cell (table, for_table ? rd_lane_get_title (rd_plan_get_lane (plan))
                                                  : rd_lane_to_string (rd_plan_get_lane (plan)));
          rd_cli_table_add_cell (table, rd_method_to_string (rd_plan_get_method (plan)));
          rd_cli_table_add_cell (table, rd_plan_state_to_string (rd_plan_get_state (plan)));
          rd_cli_table_take_cell (table,
                                  rd_cli_format_time (rd_plan_get_updated (plan), for_table));
          rd_cli_table_add_cell (table, rd_plan_get_device_id (plan));
        }

      text = for_table ? rd_cli_table_to_text (table) : rd_cli_table_to_csv (table);
      rd_cli_write (text);
      if (for_table && plans->len == 0)
        rd_cli_message (_ ("No plans yet. Add one with “plan add DEVICE --lane break-fix|reuse”."));
    }

  return RD_CLI_EXIT_OK;
}

/* plan show */

static void
append_list (GString    *out,
             const char *title,
             GStrv       items)
{
  g_string_append_printf (out, "\n%s\n", title);
  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    g_string_append_printf (out, "  • %s\n", items[i]);
}

static int
plan_show (char **args)
{
  const GOptionEntry entries[] = {
    { "cached", 0, 0, G_OPTION_ARG_NONE, &cached,
      N_ ("Find DEVICE in the last inventory loaded, without going online"), NULL },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) checks = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_auto (GStrv) kept = NULL;
  g_auto (GStrv) lost = NULL;
  g_autofree char *request_method = NULL;
  g_autofree char *url = NULL;
  g_autofree char *body = NULL;
  RdDevice *device;
  RdPlan *plan;
  RdMethod method;

  if (!rd_cli_parse ("plan show", _ ("DEVICE"),
                     _ ("Show a device’s plan: its checks, what the device keeps and loses, and "
                        "the exact request that running it sends."),
                     entries, &args, &error) ||
      !one_device (args, &error) || (session = rd_cli_open_session (&error)) == NULL ||
      (device = open_device (session, args[1], cached, &devices, &board, &error)) == NULL ||
      (plan = require_plan (board, device, &error)) == NULL)
    return rd_cli_report_error (error);

  /* The URL is the client's: with --cached, the one a connection would use. */
  if (!rd_cli_session_connect (session, &error))
    return rd_cli_report_error (error);

  method = rd_plan_get_method (plan);
  g_string_append_printf (out, "%s %s\n", _ ("Device:"), rd_device_get_name (device));
  g_string_append_printf (out, "%s %s\n", _ ("Serial number:"),
                          rd_device_get_serial (device) != NULL ? rd_device_get_serial (device)
                                                                : "");
  g_string_append_printf (out, "%s %s\n", _ ("Intune id:"), rd_device_get_id (device));
  g_string_append_printf (out, "%s %s\n", _ ("User:"),
                          rd_device_get_user_principal_name (device) != NULL
                            ? rd_device_get_user_principal_name (device)
                            : "");
  g_string_append_printf (out, "%s %s\n", _ ("Lane:"), rd_lane_get_title (rd_plan_get_lane (plan)));
  g_string_append_printf (out, "%s %s (%s)\n", _ ("Method:"), rd_method_get_title (method),
                          rd_method_to_string (method));
  g_string_append_printf (out, "%s %s\n", _ ("State:"),
                          rd_plan_state_to_string (rd_plan_get_state (plan)));
  if (rd_plan_get_last_error (plan) != NULL)
    g_string_append_printf (out, "%s %s\n", _ ("Last error:"), rd_plan_get_last_error (plan));

  g_string_append_printf (out, "\n%s\n", _ ("Checks:"));
  checks = rd_board_evaluate (board, device);
  for (guint i = 0; i < g_list_model_get_n_items (checks); i++)
    {
      g_autoptr (RdCheck) check = g_list_model_get_item (checks, i);
      const char *severity = severity_to_string (rd_check_get_severity (check));
      int pad = 9 - rd_cli_display_width (severity);

      g_string_append_printf (out, "  %s%*s %s\n", severity, MAX (pad, 0), "",
                              rd_check_get_title (check));
      g_string_append_printf (out, "  %9s %s\n", "", rd_check_get_explanation (check));
    }

  kept = rd_method_dup_kept (method);
  lost = rd_method_dup_lost (method);
  append_list (out, _ ("Kept:"), kept);
  append_list (out, _ ("Lost:"), lost);

  g_string_append_printf (out, "\n%s\n", _ ("Request:"));
  if (describe_request (session, plan, &request_method, &url, &body))
    g_string_append_printf (out, "  %s %s\n  %s\n", request_method, url, body);
  else
    g_string_append_printf (out, "  %s\n",
                            _ ("None: a reimage is done from a USB key, not through Microsoft "
                               "Graph."));

  rd_cli_write (out->str);
  return RD_CLI_EXIT_OK;
}

/* plan run */

/* Whether @plan may be sent now; else why not, for the admin. */
static gboolean
check_runnable (RdBoard   *board,
                RdPlan    *plan,
                RdDevice  *device,
                GError   **error)
{
  RdPlanState state = rd_plan_get_state (plan);

  if (!rd_method_sends_wipe (rd_plan_get_method (plan)))
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_REFUSED,
                   _ ("%s: %s is done from a USB key, not sent through Microsoft Graph."),
                   rd_device_get_name (device), rd_method_get_title (rd_plan_get_method (plan)));
      return FALSE;
    }

  if (rd_device_has_wipe_pending (device))
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_REFUSED,
                   _ ("%s already has a wipe pending in Intune; another is never sent."),
                   rd_device_get_name (device));
      return FALSE;
    }

  if (state == RD_PLAN_STATE_BLOCKED)
    {
      report_blockers (board, device);
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_REFUSED,
                   _ ("%s is blocked by the checks above; see “plan show %s”."),
                   rd_device_get_name (device), rd_device_get_name (device));
      return FALSE;
    }

  if (state != RD_PLAN_STATE_READY)
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_REFUSED,
                   _ ("%s’s plan is %s, not ready: it is never sent twice."),
                   rd_device_get_name (device), rd_plan_state_to_string (state));
      return FALSE;
    }

  return TRUE;
}

static gboolean
confirm (GPtrArray  *plans,
         GError    **error)
{
  char answer[64] = "";

  if (!isatty (STDIN_FILENO))
    {
      g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_REFUSED,
                           _ ("Nothing was sent: the input is not a terminal, so there is no one "
                              "to confirm. Review the plans with “plan show”, then run again "
                              "with --yes."));
      return FALSE;
    }

  rd_cli_message (g_dngettext (GETTEXT_PACKAGE, "This sends %u action to Microsoft Intune:",
                               "This sends %u actions to Microsoft Intune:", plans->len),
                  plans->len);
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      g_auto (GStrv) lost = rd_method_dup_lost (rd_plan_get_method (plan));
      g_autofree char *lost_text = g_strjoinv ("; ", lost);

      rd_cli_message ("  %s: %s", rd_plan_get_device_name (plan),
                      rd_method_get_title (rd_plan_get_method (plan)));
      rd_cli_message (_ ("    Lost: %s"), lost_text);
    }
  g_printerr ("%s", _ ("It cannot be taken back. Type “yes” to send: "));

  if (fgets (answer, sizeof answer, stdin) == NULL)
    answer[0] = '\0';
  g_strstrip (answer);
  if (g_ascii_strcasecmp (answer, "yes") != 0 && g_strcmp0 (answer, _ ("yes")) != 0)
    {
      g_set_error_literal (error, RD_CLI_ERROR, RD_CLI_ERROR_REFUSED,
                           _ ("Not confirmed: nothing was sent."));
      return FALSE;
    }

  return TRUE;
}

static void
free_error (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static void
report_sent (RdPlan *plan)
{
  const char *const *ids = rd_plan_get_request_ids (plan);
  guint n = ids != NULL ? g_strv_length ((char **) ids) : 0;

  if (n > 0)
    rd_cli_message (_ ("%s: %s (request-id %s)"), rd_plan_get_device_name (plan),
                    rd_plan_state_to_string (rd_plan_get_state (plan)), ids[n - 1]);
  else
    rd_cli_message (_ ("%s: %s"), rd_plan_get_device_name (plan),
                    rd_plan_state_to_string (rd_plan_get_state (plan)));
}

static void
report_demo_wipes (RdCliSession *session)
{
  RdDemoTenant *demo = rd_session_get_demo (session->session);
  g_autoptr (GPtrArray) wipes = NULL;

  if (demo == NULL)
    return;

  wipes = rd_demo_tenant_dup_wipe_requests (demo);
  rd_cli_message (g_dngettext (GETTEXT_PACKAGE, "The demo tenant received %u wipe request.",
                               "The demo tenant received %u wipe requests.", wipes->len),
                  wipes->len);
}

static int
send_plans (RdCliSession *session,
            GPtrArray    *plans)
{
  /* The actions work on the session's board, the one the plans are on. */
  RdDeviceActions *actions = rd_session_get_actions (session->session);
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GError) error = NULL;
  int status = RD_CLI_EXIT_OK;

  if (plans->len == 1)
    {
      g_autoptr (GAsyncResult) result = NULL;

      rd_device_actions_run_async (actions, g_ptr_array_index (plans, 0), session->cancellable,
                                   rd_cli_store_result_cb, &result);
      rd_cli_wait (&result);
      errors = g_ptr_array_new_with_free_func (free_error);
      rd_device_actions_run_finish (actions, result, &error);
      g_ptr_array_add (errors, g_steal_pointer (&error));
    }
  else
    {
      g_autoptr (GAsyncResult) result = NULL;

      rd_device_actions_run_many_async (actions, plans, session->cancellable,
                                        rd_cli_store_result_cb, &result);
      rd_cli_wait (&result);
      errors = rd_device_actions_run_many_finish (actions, result, &error);
      if (errors == NULL)
        return rd_cli_report_error (error);
    }

  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      GError *plan_error = g_ptr_array_index (errors, i);

      if (plan_error == NULL)
        {
          report_sent (plan);
          continue;
        }

      {
        g_autoptr (GError) prefixed = g_error_copy (plan_error);
        int code;

        g_prefix_error (&prefixed, "%s: ", rd_plan_get_device_name (plan));
        code = rd_cli_report_error (prefixed);
        if (status == RD_CLI_EXIT_OK)
          status = code;
      }
    }

  if (wait_done)
    for (guint i = 0; i < plans->len; i++)
      {
        RdPlan *plan = g_ptr_array_index (plans, i);
        g_autoptr (GAsyncResult) result = NULL;

        if (g_ptr_array_index (errors, i) != NULL)
          continue;

        rd_cli_message (_ ("%s: waiting for Intune to carry out the action… (Ctrl+C to stop "
                           "waiting)"),
                        rd_plan_get_device_name (plan));
        rd_device_actions_follow_async (actions, plan, session->cancellable, rd_cli_store_result_cb,
                                        &result);
        rd_cli_wait (&result);
        if (!rd_device_actions_follow_finish (actions, result, &error))
          {
            int code;

            g_prefix_error (&error, "%s: ", rd_plan_get_device_name (plan));
            code = rd_cli_report_error (error);
            g_clear_error (&error);
            if (status == RD_CLI_EXIT_OK)
              status = code;
          }
        else
          report_sent (plan);
      }

  report_demo_wipes (session);
  return status;
}

static int
plan_run (char **args)
{
  const GOptionEntry entries[] = {
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
      N_ ("Print the requests that would be sent, and send nothing"), NULL },
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &assume_yes,
      N_ ("Send without asking; needed when the input is not a terminal"), NULL },
    { "wait", 0, 0, G_OPTION_ARG_NONE, &wait_done,
      N_ ("After sending, follow each action until Intune reports it done or failed"), NULL },
    { NULL },
  };
  g_autoptr (RdCliSession) session = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GPtrArray) plans = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  if (!rd_cli_parse ("plan run", _ ("DEVICE…"),
                     _ ("Send the action of each device’s plan, once. Asks for confirmation on a "
                        "terminal; refuses to send without --yes otherwise."),
                     entries, &args, &error))
    return rd_cli_report_error (error);

  if (args[1] == NULL)
    {
      g_set_error_literal (&error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                           _ ("“plan run” needs at least one DEVICE."));
      return rd_cli_report_error (error);
    }

  /* Always a fresh sync: a device's state decides whether it may be sent. */
  if ((session = rd_cli_open_session (&error)) == NULL ||
      (devices = rd_cli_session_load_devices (session, FALSE, FALSE, &error)) == NULL)
    return rd_cli_report_error (error);
  board = rd_cli_session_open_board (session, devices);

  for (guint i = 1; args[i] != NULL; i++)
    {
      RdDevice *device = resolve_device (devices, args[i], &error);
      RdPlan *plan;

      if (device == NULL || (plan = require_plan (board, device, &error)) == NULL)
        return rd_cli_report_error (error);
      if (!g_ptr_array_find (plans, plan, NULL))
        g_ptr_array_add (plans, plan);
    }

  /* Everything is checked before anything is asked or sent: either every
   * plan goes, or none does. */
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);

      if (!check_runnable (board, plan, rd_plan_get_device (plan), &error))
        {
          int status = rd_cli_report_error (error);

          rd_cli_message (_ ("Nothing was sent."));
          return status;
        }
    }

  if (dry_run)
    {
      g_autoptr (GString) out = g_string_new (NULL);

      for (guint i = 0; i < plans->len; i++)
        {
          RdPlan *plan = g_ptr_array_index (plans, i);
          g_autofree char *request_method = NULL;
          g_autofree char *url = NULL;
          g_autofree char *body = NULL;

          if (describe_request (session, plan, &request_method, &url, &body))
            g_string_append_printf (out, "%s\n  %s %s\n  %s\n", rd_plan_get_device_name (plan),
                                    request_method, url, body);
        }
      rd_cli_write (out->str);
      rd_cli_message (_ ("Dry run: nothing was sent."));
      report_demo_wipes (session);
      return RD_CLI_EXIT_OK;
    }

  if (!assume_yes && !confirm (plans, &error))
    {
      int status = rd_cli_report_error (error);

      report_demo_wipes (session);
      return status;
    }

  return send_plans (session, plans);
}

/* plan */

int
rd_cli_plan (char **args)
{
  static const struct
  {
    const char *name;
    int (*run) (char **args);
  } subcommands[] = {
    { "add", plan_add },   { "remove", plan_remove }, { "list", plan_list },
    { "show", plan_show }, { "run", plan_run },
  };
  const char *name = args[1];

  if (name != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
      if (g_str_equal (name, subcommands[i].name))
        return subcommands[i].run (args + 1);

  if (name == NULL || g_str_equal (name, "--help") || g_str_equal (name, "-h"))
    {
      g_autofree char *usage = g_strdup_printf (
        "%s\n  %s plan add DEVICE --lane break-fix|reuse [--method METHOD]\n"
        "  %s plan remove DEVICE\n  %s plan list [--format table|json|csv]\n"
        "  %s plan show DEVICE\n  %s plan run DEVICE… [--dry-run] [--yes] [--wait]\n",
        _ ("Usage:"), g_get_prgname (), g_get_prgname (), g_get_prgname (), g_get_prgname (),
        g_get_prgname ());

      if (name != NULL)
        {
          rd_cli_write (usage);
          return RD_CLI_EXIT_OK;
        }
      g_printerr ("%s", usage);
      return RD_CLI_EXIT_USAGE;
    }

  g_printerr (_ ("%s: unknown plan command “%s”: use add, remove, list, show or run.\n"),
              g_get_prgname (), name);
  return RD_CLI_EXIT_USAGE;
}
