/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-device-actions.h"

#include "graph-test-server.h"
#include "rd-demo-tenant.h"
#include "rd-device-actions-private.h"
#include "rd-graph-client-private.h"
#include "rd-graph-error.h"
#include "rd-method.h"
#include "rd-readiness.h"
#include "rd-static-token-source.h"
#include "../rd-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* RdDeviceActions against the demo tenant, with a real board, plan store and
 * audit log in a temporary folder. The demo's counters say what reached
 * "Intune"; the plan store on disk says what a restarted app would see. */

#define RETAIN_BODY "{\"keepEnrollmentData\":true,\"keepUserData\":true}"
#define RESET_BODY "{\"keepEnrollmentData\":true,\"keepUserData\":false}"
#define WIPE_PATTERN "/deviceManagement/managedDevices/{id}/wipe"
/* In the demo data this Windows device already has a wipe pending. */
#define DEMO_WIPE_PENDING_ID "b50097e9-0bfe-4e83-8069-188a4dd7bc22"
#define USER "admin@contoso.example"
#define SHA256_HEX "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

typedef struct
{
  RdDemoTenant *tenant;
  RdTokenSource *tokens;
  RdGraphClient *client;
  char *dir;
  RdPlanStore *store;
  RdBoard *board;
  RdAuditLog *audit;
  RdDeviceActions *actions;
  GPtrArray *devices; /* ready RdDevices for the demo's managed Windows devices */
} Fixture;

/* What the client logged about each answer: "request-id" as the demo sent
 * it in its header, keyed by the request's path. */
static GHashTable *seen_request_ids;
static GHashTable *seen_client_request_ids;

static void
on_client_log_cb (const char     *domain,
                  GLogLevelFlags  level,
                  const char     *message,
                  gpointer        user_data)
{
  g_autoptr (GRegex) regex = g_regex_new (
    "^POST (\\S+): HTTP \\d+ \\(request-id (\\S+), client-request-id (\\S+)\\)$", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  if (g_regex_match (regex, message, 0, &match))
    {
      g_hash_table_replace (seen_request_ids, g_match_info_fetch (match, 1),
                            g_match_info_fetch (match, 2));
      g_hash_table_replace (seen_client_request_ids, g_match_info_fetch (match, 1),
                            g_match_info_fetch (match, 3));
    }
}

static void
on_result_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static void
spin (guint msec)
{
  gint64 end = g_get_monotonic_time () + msec * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static RdDevice *
ready_device (const char *id,
              const char *name,
              const char *serial)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  RdDevice *device = rd_test_ready_device (id, name, "10.0.19045.3803", now);

  g_object_set (device, "serial", serial, NULL);
  return device;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (JsonArray) items = NULL;
  g_autofree char *token = NULL;
  g_autofree char *graph_url = NULL;
  g_autofree char *audit_path = NULL;
  static const char *const select[] = { "id", "deviceName", "serialNumber", "operatingSystem",
                                        NULL };

  f->tenant = rd_demo_tenant_new ();
  g_assert_true (rd_demo_tenant_load (f->tenant, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rd_demo_tenant_start (f->tenant, &error));
  g_assert_no_error (error);

  token = rd_demo_tenant_issue_access_token (f->tenant);
  f->tokens = rd_static_token_source_new (token);
  graph_url = rd_demo_tenant_dup_graph_url (f->tenant);
  f->client = rd_graph_client_new (graph_url, f->tokens);
  rd_graph_client_set_retry_policy (f->client, 10, 100, 1000, 2);

  f->dir = rd_test_make_tmp_dir ("rd-device-actions-XXXXXX");
  f->store = rd_plan_store_new (f->dir, rd_demo_tenant_get_tenant_id (f->tenant));
  f->board = rd_board_new (f->store);
  g_assert_true (rd_board_load (f->board, &error));
  g_assert_no_error (error);
  audit_path = g_build_filename (f->dir, "audit.jsonl", NULL);
  f->audit = rd_audit_log_new (audit_path);

  /* The demo's own Windows devices, with facts that pass every rule. */
  rd_graph_client_list_async (f->client, "/deviceManagement/managedDevices", select, NULL, 0, NULL,
                              NULL, NULL, NULL, on_result_cb, &result);
  items = rd_graph_client_list_finish (f->client, wait_for (&result), NULL, &error);
  g_assert_no_error (error);
  f->devices = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (g_strcmp0 (json_object_get_string_member (item, "operatingSystem"), "Windows") != 0 ||
          g_str_equal (json_object_get_string_member (item, "id"), DEMO_WIPE_PENDING_ID))
        continue;
      g_ptr_array_add (f->devices,
                       ready_device (json_object_get_string_member (item, "id"),
                                     json_object_get_string_member (item, "deviceName"),
                                     json_object_get_string_member (item, "serialNumber")));
    }
  g_assert_cmpuint (f->devices->len, >=, 26);
  g_ptr_array_add (f->devices, ready_device (DEMO_WIPE_PENDING_ID, "CON-LT-0275", "006052598069"));
  rd_board_set_devices (f->board, f->devices);

  f->actions = rd_device_actions_new (f->client, f->board, f->audit, USER,
                                      rd_demo_tenant_get_tenant_id (f->tenant));
  rd_device_actions_set_poll_interval (f->actions, 30, 200);
  rd_demo_tenant_set_action_duration (f->tenant, 300);
  rd_demo_tenant_reset_counters (f->tenant);
  g_hash_table_remove_all (seen_request_ids);
  g_hash_table_remove_all (seen_client_request_ids);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->actions);
  g_assert_finalize_object (f->board);
  g_assert_finalize_object (f->store);
  g_assert_finalize_object (f->audit);
  g_assert_finalize_object (f->client);
  g_assert_finalize_object (f->tokens);
  g_ptr_array_unref (f->devices);
  rd_demo_tenant_stop (f->tenant);
  g_assert_finalize_object (f->tenant);
  rd_test_remove_tree (f->dir);
  g_free (f->dir);
}

/* Helpers */

static RdDevice *
device_at (Fixture *f,
           guint    i)
{
  return g_ptr_array_index (f->devices, i);
}

static RdDevice *
wipe_pending_device (Fixture *f)
{
  return g_ptr_array_index (f->devices, f->devices->len - 1);
}

static RdPlan *
make_plan (Fixture  *f,
           RdDevice *device,
           RdMethod  method)
{
  g_autoptr (GError) error = NULL;
  RdPlan *plan;

  g_assert_true (rd_board_move_device (f->board, device, rd_method_get_lane (method), &error));
  g_assert_no_error (error);
  g_assert_true (rd_board_set_method (f->board, device, method, &error));
  g_assert_no_error (error);
  plan = rd_board_get_plan (f->board, device);
  g_assert_nonnull (plan);
  return plan;
}

static gboolean
run_sync (Fixture       *f,
          RdPlan        *plan,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_device_actions_run_async (f->actions, plan, cancellable, on_result_cb, &result);
  return rd_device_actions_run_finish (f->actions, wait_for (&result), error);
}

static gboolean
follow_sync (Fixture       *f,
             RdPlan        *plan,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_device_actions_follow_async (f->actions, plan, cancellable, on_result_cb, &result);
  return rd_device_actions_follow_finish (f->actions, wait_for (&result), error);
}

static GPtrArray *
run_many_sync (Fixture      *f,
               GPtrArray    *plans,
               GCancellable *cancellable)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *errors;

  rd_device_actions_run_many_async (f->actions, plans, cancellable, on_result_cb, &result);
  errors = rd_device_actions_run_many_finish (f->actions, wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (errors);
  g_assert_cmpuint (errors->len, ==, plans->len);
  return errors;
}

static guint
wipe_count (Fixture *f)
{
  return rd_demo_tenant_get_request_count (f->tenant, "POST", WIPE_PATTERN);
}

static GListModel *
read_audit (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  guint n_skipped = 0;
  GListModel *entries = rd_audit_log_read (f->audit, &n_skipped, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (n_skipped, ==, 0);
  return entries;
}

static RdAuditEntry *
audit_entry_for (GListModel *entries,
                 const char *device_id,
                 const char *outcome)
{
  for (guint i = 0; i < g_list_model_get_n_items (entries); i++)
    {
      g_autoptr (RdAuditEntry) entry = g_list_model_get_item (entries, i);

      if (g_strcmp0 (rd_audit_entry_get_device_id (entry), device_id) == 0 &&
          g_strcmp0 (rd_audit_entry_get_outcome (entry), outcome) == 0)
        return g_steal_pointer (&entry);
    }

  return NULL;
}

/* A new board over the same store, as the app would have after a restart. */
static RdBoard *
reload_board (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdPlanStore) store = NULL;
  RdBoard *board;

  store = rd_plan_store_new (f->dir, rd_demo_tenant_get_tenant_id (f->tenant));
  board = rd_board_new (store);
  g_assert_true (rd_board_load (board, &error));
  g_assert_no_error (error);
  return board;
}

static RdPlan *
reloaded_plan (RdBoard    *board,
               const char *device_id)
{
  g_autoptr (GPtrArray) plans = rd_board_dup_plans (board);

  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);

      if (g_str_equal (rd_plan_get_device_id (plan), device_id))
        return plan;
    }

  return NULL;
}

static void
on_plan_state_cb (RdPlan     *plan,
                  GParamSpec *pspec,
                  GArray     *states)
{
  RdPlanState state = rd_plan_get_state (plan);

  g_array_append_val (states, state);
}

static char *
dup_wipe_path (RdDevice *device)
{
  return g_strdup_printf ("/deviceManagement/managedDevices/%s/wipe", rd_device_get_id (device));
}

/* Tests */

static void
test_wipe_retain (Fixture       *f,
                  gconstpointer  data)
{
  RdDevice *device = device_at (f, 0);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (RdPlanState));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) wipes = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autofree char *path = dup_wipe_path (device);
  g_autofree char *full_path = g_strconcat ("/v1.0", path, NULL);
  const char *request_id;
  RdPlan *stored;

  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_signal_connect (plan, "notify::state", G_CALLBACK (on_plan_state_cb), states);

  g_assert_true (run_sync (f, plan, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_SENT);

  /* Exactly one POST, with exactly this body. */
  g_assert_cmpuint (wipe_count (f), ==, 1);
  wipes = rd_demo_tenant_dup_wipe_requests (f->tenant);
  g_assert_cmpuint (wipes->len, ==, 1);
  {
    RdDemoWipeRequest *wipe = g_ptr_array_index (wipes, 0);

    g_assert_cmpstr (wipe->device_id, ==, rd_device_get_id (device));
    g_assert_cmpstr (wipe->body, ==, RETAIN_BODY);
    g_assert_cmpint (wipe->status, ==, 204);
  }

  /* The request-id the demo sent in its header is on the plan and in the log. */
  request_id = g_hash_table_lookup (seen_request_ids, full_path);
  g_assert_nonnull (request_id);
  g_assert_nonnull (rd_plan_get_request_ids (plan));
  g_assert_cmpstr (rd_plan_get_request_ids (plan)[0], ==, request_id);
  g_assert_null (rd_plan_get_request_ids (plan)[1]);

  entries = read_audit (f);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 1);
  entry = audit_entry_for (entries, rd_device_get_id (device), "sent");
  g_assert_nonnull (entry);
  g_assert_cmpstr (rd_audit_entry_get_request_id (entry), ==, request_id);
  g_assert_cmpstr (rd_audit_entry_get_client_request_id (entry), ==,
                   g_hash_table_lookup (seen_client_request_ids, full_path));
  g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 204);
  g_assert_cmpstr (rd_audit_entry_get_request_method (entry), ==, "POST");
  g_assert_cmpstr (rd_audit_entry_get_request_path (entry), ==, path);
  g_assert_cmpstr (rd_audit_entry_get_request_body (entry), ==, RETAIN_BODY);
  g_assert_cmpstr (rd_audit_entry_get_user (entry), ==, USER);
  g_assert_cmpstr (rd_audit_entry_get_tenant (entry), ==, rd_demo_tenant_get_tenant_id (f->tenant));
  g_assert_cmpstr (rd_audit_entry_get_method (entry), ==,
                   rd_method_to_string (RD_METHOD_WIPE_RETAIN));
  g_assert_cmpstr (rd_audit_entry_get_device_name (entry), ==, rd_device_get_name (device));

  /* Followed until the demo says it is done. */
  g_assert_true (follow_sync (f, plan, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_DONE);
  g_assert_cmpuint (states->len, ==, 4);
  g_assert_cmpint (g_array_index (states, RdPlanState, 0), ==, RD_PLAN_STATE_SENDING);
  g_assert_cmpint (g_array_index (states, RdPlanState, 1), ==, RD_PLAN_STATE_SENT);
  g_assert_cmpint (g_array_index (states, RdPlanState, 2), ==, RD_PLAN_STATE_PENDING);
  g_assert_cmpint (g_array_index (states, RdPlanState, 3), ==, RD_PLAN_STATE_DONE);
  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (f->tenant, "GET", "/deviceManagement/managedDevices/{id}"),
    >=, 2);
  g_assert_cmpuint (wipe_count (f), ==, 1);
  g_signal_handlers_disconnect_by_func (plan, on_plan_state_cb, states);

  /* All of it is on disk. */
  board = reload_board (f);
  stored = reloaded_plan (board, rd_device_get_id (device));
  g_assert_nonnull (stored);
  g_assert_cmpint (rd_plan_get_state (stored), ==, RD_PLAN_STATE_DONE);
  g_assert_cmpstr (rd_plan_get_request_ids (stored)[0], ==, request_id);
}

static void
test_autopilot_reset (Fixture       *f,
                      gconstpointer  data)
{
  RdDevice *device = device_at (f, 1);
  RdPlan *plan = make_plan (f, device, RD_METHOD_AUTOPILOT_RESET);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) wipes = NULL;
  g_autofree char *method = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autofree char *expected_path = dup_wipe_path (device);

  g_assert_true (rd_device_actions_describe_request (plan, &method, &path, &body));
  g_assert_cmpstr (method, ==, "POST");
  g_assert_cmpstr (path, ==, expected_path);
  g_assert_cmpstr (body, ==, RESET_BODY);

  g_assert_true (run_sync (f, plan, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_SENT);

  wipes = rd_demo_tenant_dup_wipe_requests (f->tenant);
  g_assert_cmpuint (wipes->len, ==, 1);
  g_assert_cmpstr (((RdDemoWipeRequest *) g_ptr_array_index (wipes, 0))->body, ==, RESET_BODY);
}

static void
test_not_a_wipe (Fixture       *f,
                 gconstpointer  data)
{
  RdPlan *plan = make_plan (f, device_at (f, 2), RD_METHOD_REIMAGE_OEM);
  g_autoptr (GError) error = NULL;

  g_assert_false (rd_device_actions_describe_request (plan, NULL, NULL, NULL));
  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_UNSUPPORTED_METHOD);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_cmpuint (rd_demo_tenant_get_total_requests (f->tenant), ==, 0);
}

static void
test_blocked (Fixture       *f,
              gconstpointer  data)
{
  RdDevice *old = device_at (f, 3);
  RdDevice *changed = device_at (f, 4);
  RdPlan *blocked_plan;
  RdPlan *ready_plan;
  g_autoptr (GListModel) checks = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;

  /* Windows 10 1703 cannot keep its enrollment: the plan is blocked. */
  g_object_set (old, "os-version", "10.0.15063.0", NULL);
  blocked_plan = make_plan (f, old, RD_METHOD_WIPE_RETAIN);
  g_assert_cmpint (rd_plan_get_state (blocked_plan), ==, RD_PLAN_STATE_BLOCKED);
  g_assert_false (run_sync (f, blocked_plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_READY);
  g_clear_error (&error);

  /* A plan made ready whose device gained a blocker since: evaluated again
   * at the moment of sending. */
  ready_plan = make_plan (f, changed, RD_METHOD_WIPE_RETAIN);
  g_assert_cmpint (rd_plan_get_state (ready_plan), ==, RD_PLAN_STATE_READY);
  g_object_set (changed, "os-version", "10.0.15063.0", NULL);
  checks = rd_board_evaluate (f->board, changed);
  g_assert_nonnull (rd_readiness_first_blocker (checks));
  g_assert_cmpint (rd_plan_get_state (ready_plan), ==, RD_PLAN_STATE_READY);

  g_assert_false (run_sync (f, ready_plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_BLOCKED);
  g_assert_cmpint (rd_plan_get_state (ready_plan), ==, RD_PLAN_STATE_READY);

  g_assert_cmpuint (wipe_count (f), ==, 0);
  entries = read_audit (f);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 0);
}

static void
test_wipe_pending_refused (Fixture       *f,
                           gconstpointer  data)
{
  RdDevice *device = device_at (f, 5);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  /* A sync shows a wipe pending (sent from the Intune portal, say). */
  g_object_set (device, "management-state", RD_MANAGEMENT_STATE_WIPE_PENDING, NULL);
  g_assert_true (rd_device_has_wipe_pending (device));

  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_WIPE_PENDING);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_cmpuint (wipe_count (f), ==, 0);
}

static void
test_conflict (Fixture       *f,
               gconstpointer  data)
{
  RdDevice *device = wipe_pending_device (f);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;
  g_autofree char *path = dup_wipe_path (device);
  g_autofree char *full_path = g_strconcat ("/v1.0", path, NULL);
  const char *request_id;

  /* The board's copy of the device does not know of the pending wipe; the
   * tenant does, and answers 409. */
  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_CONFLICT);
  request_id = g_hash_table_lookup (seen_request_ids, full_path);
  g_assert_nonnull (request_id);
  g_assert_cmpstr (rd_graph_error_get_request_id (error), ==, request_id);

  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_FAILED);
  g_assert_nonnull (strstr (rd_plan_get_last_error (plan), request_id));
  g_assert_cmpstr (rd_plan_get_request_ids (plan)[0], ==, request_id);
  g_assert_cmpuint (wipe_count (f), ==, 1);

  entries = read_audit (f);
  entry = audit_entry_for (entries, rd_device_get_id (device), "failed");
  g_assert_nonnull (entry);
  g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 409);
  g_assert_cmpstr (rd_audit_entry_get_request_id (entry), ==, request_id);
}

static GraphTestResponse *
forbidden_handler (GraphTestServer  *server,
                   GraphTestRequest *request,
                   gpointer          user_data)
{
  GraphTestResponse *response = graph_test_response_new (
    403, "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Application is not authorized to "
         "perform this operation. Application must have one of the following scopes: "
         "DeviceManagementManagedDevices.PrivilegedOperations.All\"}}");

  graph_test_response_add_header (response, "Content-Type", "application/json");
  graph_test_response_add_header (response, "request-id", "forbidden-request-id");
  return response;
}

static void
test_forbidden (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GraphTestServer) server = graph_test_server_new ();
  g_autoptr (RdGraphClient) client = NULL;
  g_autoptr (RdDeviceActions) actions = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;
  RdDevice *device = device_at (f, 6);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autofree char *path = dup_wipe_path (device);
  g_autofree char *server_path = g_strconcat ("/v1.0", path, NULL);

  client = rd_graph_client_new (graph_test_server_get_base_url (server), f->tokens);
  actions = rd_device_actions_new (client, f->board, f->audit, USER, "tenant");
  graph_test_server_set_handler (server, server_path, forbidden_handler, NULL);

  rd_device_actions_run_async (actions, plan, NULL, on_result_cb, &result);
  g_assert_false (rd_device_actions_run_finish (actions, wait_for (&result), &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
  g_assert_cmpuint (graph_test_server_count (server, server_path), ==, 1);

  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_FAILED);
  g_assert_nonnull (strstr (rd_plan_get_last_error (plan), "forbidden-request-id"));
  entries = read_audit (f);
  entry = audit_entry_for (entries, rd_device_get_id (device), "failed");
  g_assert_nonnull (entry);
  g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 403);
  g_assert_cmpstr (rd_audit_entry_get_request_id (entry), ==, "forbidden-request-id");

  /* A failed plan can be made ready again by the admin, and then sent. */
  g_clear_error (&error);
  g_assert_true (rd_board_transition_plan (f->board, plan, RD_PLAN_STATE_READY, &error));
  g_assert_no_error (error);
  g_assert_true (run_sync (f, plan, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wipe_count (f), ==, 1);

  g_clear_object (&result);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (g_steal_pointer (&actions));
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_twice (Fixture       *f,
            gconstpointer  data)
{
  RdPlan *plan = make_plan (f, device_at (f, 7), RD_METHOD_WIPE_RETAIN);
  RdPlan *other = make_plan (f, device_at (f, 8), RD_METHOD_WIPE_RETAIN);
  g_autoptr (GAsyncResult) first = NULL;
  g_autoptr (GAsyncResult) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;
  gboolean ok1, ok2;

  g_assert_true (run_sync (f, plan, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT);
  g_clear_error (&error);
  g_assert_cmpuint (wipe_count (f), ==, 1);

  /* Two runs of one plan started together (a double click). */
  rd_device_actions_run_async (f->actions, other, NULL, on_result_cb, &first);
  rd_device_actions_run_async (f->actions, other, NULL, on_result_cb, &second);
  wait_for (&first);
  wait_for (&second);
  ok1 = rd_device_actions_run_finish (f->actions, first, NULL);
  ok2 = rd_device_actions_run_finish (f->actions, second, &error);
  g_assert_true (ok1);
  g_assert_false (ok2);
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT);
  g_assert_cmpuint (wipe_count (f), ==, 2);

  entries = read_audit (f);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 2);
}

static void
test_crash (Fixture       *f,
            gconstpointer  data)
{
  RdDevice *device = device_at (f, 9);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autofree char *device_id = g_strdup (rd_device_get_id (device));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) interrupted = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;
  RdBoard *board;
  RdDeviceActions *actions;
  RdPlan *found;

  /* The state right before the request leaves, saved: then the process dies. */
  g_assert_true (rd_board_transition_plan (f->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&f->actions));
  g_assert_finalize_object (g_steal_pointer (&f->board));
  g_assert_finalize_object (g_steal_pointer (&f->store));

  /* The next start: a new board from the same store, a fresh inventory. */
  board = reload_board (f);
  rd_board_set_devices (board, f->devices);
  actions = rd_device_actions_new (f->client, board, f->audit, USER, "tenant");
  spin (200);
  g_assert_cmpuint (wipe_count (f), ==, 0);

  interrupted = rd_device_actions_find_interrupted (actions);
  g_assert_cmpuint (interrupted->len, ==, 1);
  found = g_ptr_array_index (interrupted, 0);
  g_assert_cmpstr (rd_plan_get_device_id (found), ==, device_id);
  g_assert_cmpint (rd_plan_get_state (found), ==, RD_PLAN_STATE_SENDING);

  /* Running it does nothing: only the admin's decision moves it. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    rd_device_actions_run_async (actions, found, NULL, on_result_cb, &result);
    g_assert_false (rd_device_actions_run_finish (actions, wait_for (&result), &error));
    g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT);
    g_clear_error (&error);
  }
  {
    g_autoptr (GPtrArray) plans = g_ptr_array_new ();
    g_autoptr (GPtrArray) errors = NULL;
    g_autoptr (GAsyncResult) result = NULL;

    g_ptr_array_add (plans, found);
    rd_device_actions_run_many_async (actions, plans, NULL, on_result_cb, &result);
    errors = rd_device_actions_run_many_finish (actions, wait_for (&result), &error);
    g_assert_no_error (error);
    g_assert_error ((GError *) g_ptr_array_index (errors, 0), RD_DEVICE_ACTIONS_ERROR,
                    RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT);
  }
  g_assert_cmpuint (wipe_count (f), ==, 0);
  g_assert_cmpuint (rd_demo_tenant_get_request_count (f->tenant, "POST", "/$batch"), ==, 0);

  /* The admin checked Intune: it was not sent. */
  g_assert_true (rd_device_actions_resolve_interrupted (actions, found, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (found), ==, RD_PLAN_STATE_FAILED);
  g_assert_false (rd_device_actions_resolve_interrupted (actions, found, TRUE, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_INTERRUPTED);
  g_clear_error (&error);
  g_ptr_array_set_size (interrupted, 0);
  g_ptr_array_unref (g_steal_pointer (&interrupted));
  interrupted = rd_device_actions_find_interrupted (actions);
  g_assert_cmpuint (interrupted->len, ==, 0);

  entries = read_audit (f);
  entry = audit_entry_for (entries, device_id, "confirmed-not-sent");
  g_assert_nonnull (entry);
  g_assert_cmpuint (wipe_count (f), ==, 0);

  /* Persisted; and the admin may now make it ready and send it, once. */
  {
    g_autoptr (RdBoard) again = reload_board (f);

    g_assert_cmpint (rd_plan_get_state (reloaded_plan (again, device_id)), ==,
                     RD_PLAN_STATE_FAILED);
  }
  g_assert_true (rd_board_transition_plan (board, found, RD_PLAN_STATE_READY, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GAsyncResult) result = NULL;

    rd_device_actions_run_async (actions, found, NULL, on_result_cb, &result);
    g_assert_true (rd_device_actions_run_finish (actions, wait_for (&result), &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (wipe_count (f), ==, 1);

  /* The fixture's objects are the restarted ones now. */
  f->board = board;
  f->actions = actions;
  f->store = g_object_ref (rd_board_get_store (board));
}

static void
test_resolve_sent (Fixture       *f,
                   gconstpointer  data)
{
  RdDevice *device = device_at (f, 10);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;

  g_assert_false (rd_device_actions_resolve_interrupted (f->actions, plan, TRUE, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_INTERRUPTED);
  g_clear_error (&error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  g_assert_true (rd_board_transition_plan (f->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_true (rd_device_actions_resolve_interrupted (f->actions, plan, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_SENT);
  g_assert_cmpuint (wipe_count (f), ==, 0);

  entries = read_audit (f);
  entry = audit_entry_for (entries, rd_device_get_id (device), "confirmed-sent");
  g_assert_nonnull (entry);
  g_assert_cmpstr (rd_audit_entry_get_request_body (entry), ==, RETAIN_BODY);
}

static void
test_dropped_connection (Fixture       *f,
                         gconstpointer  data)
{
  RdDevice *device = device_at (f, 11);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;
  g_autoptr (RdBoard) board = NULL;
  g_autoptr (GPtrArray) interrupted = NULL;
  RdPlan *stored;

  rd_demo_tenant_set_drop_connection (f->tenant, 1);
  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN);
  g_clear_error (&error);
  rd_demo_tenant_set_drop_connection (f->tenant, 0);

  /* One POST reached the tenant and was not sent again. */
  g_assert_cmpuint (wipe_count (f), ==, 1);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_SENDING);
  g_assert_nonnull (rd_plan_get_last_error (plan));

  entries = read_audit (f);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 1);
  entry = audit_entry_for (entries, rd_device_get_id (device), "unknown");
  g_assert_nonnull (entry);
  g_assert_cmpstr (rd_audit_entry_get_request_body (entry), ==, RETAIN_BODY);
  g_assert_nonnull (rd_audit_entry_get_client_request_id (entry));

  /* Nothing sends it again, and a restart shows it for the admin to check. */
  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT);
  g_assert_cmpuint (wipe_count (f), ==, 1);

  board = reload_board (f);
  stored = reloaded_plan (board, rd_device_get_id (device));
  g_assert_cmpint (rd_plan_get_state (stored), ==, RD_PLAN_STATE_SENDING);
  g_assert_cmpstr (rd_plan_get_last_error (stored), ==, rd_plan_get_last_error (plan));
  interrupted = rd_device_actions_find_interrupted (f->actions);
  g_assert_cmpuint (interrupted->len, ==, 1);
  g_assert_true (g_ptr_array_index (interrupted, 0) == plan);
}

static void
test_save_fails (Fixture       *f,
                 gconstpointer  data)
{
  RdPlan *plan = make_plan (f, device_at (f, 12), RD_METHOD_WIPE_RETAIN);
  g_autofree char *blocker = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *store_dir = g_path_get_dirname (rd_plan_store_get_path (f->store));

  /* The store's folder turns into a file: no save can succeed, even as root. */
  rd_test_remove_tree (store_dir);
  g_assert_true (g_file_set_contents (store_dir, "", 0, NULL));

  g_assert_false (run_sync (f, plan, NULL, &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_SAVED);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_cmpuint (wipe_count (f), ==, 0);
  g_assert_cmpuint (rd_demo_tenant_get_total_requests (f->tenant), ==, 0);

  g_assert_no_errno (g_unlink (store_dir));
  g_assert_no_errno (g_mkdir_with_parents (store_dir, 0700));
}

static void
test_batch (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr (GPtrArray) plans = g_ptr_array_new ();
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) wipes = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (GError) error = NULL;
  RdPlan *blocked;
  RdPlan *conflict;
  guint n = 25;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (plans, make_plan (f, device_at (f, i), RD_METHOD_WIPE_RETAIN));
  /* Refused without sending, failed by the tenant, listed twice. */
  g_object_set (device_at (f, n), "os-version", "10.0.15063.0", NULL);
  blocked = make_plan (f, device_at (f, n), RD_METHOD_WIPE_RETAIN);
  g_ptr_array_add (plans, blocked);
  conflict = make_plan (f, wipe_pending_device (f), RD_METHOD_WIPE_RETAIN);
  g_ptr_array_add (plans, conflict);
  g_ptr_array_add (plans, g_ptr_array_index (plans, 0));

  errors = run_many_sync (f, plans, NULL);

  for (guint i = 0; i < n; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);

      g_assert_no_error ((GError *) g_ptr_array_index (errors, i));
      g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_SENT);
      g_assert_nonnull (rd_plan_get_request_ids (plan));
    }
  g_assert_error ((GError *) g_ptr_array_index (errors, n), RD_DEVICE_ACTIONS_ERROR,
                  RD_DEVICE_ACTIONS_ERROR_NOT_READY);
  g_assert_error ((GError *) g_ptr_array_index (errors, n + 1), RD_GRAPH_ERROR,
                  RD_GRAPH_ERROR_CONFLICT);
  g_assert_cmpint (rd_plan_get_state (conflict), ==, RD_PLAN_STATE_FAILED);
  g_assert_nonnull (rd_plan_get_request_ids (conflict));
  g_assert_error ((GError *) g_ptr_array_index (errors, n + 2), RD_DEVICE_ACTIONS_ERROR,
                  RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT);

  /* 26 wipes left, at most 20 to a batch; each device exactly once. */
  g_assert_cmpuint (rd_demo_tenant_get_request_count (f->tenant, "POST", "/$batch"), ==, 2);
  g_assert_cmpuint (wipe_count (f), ==, n + 1);
  wipes = rd_demo_tenant_dup_wipe_requests (f->tenant);
  g_assert_cmpuint (wipes->len, ==, n + 1);
  for (guint i = 0; i < wipes->len; i++)
    {
      RdDemoWipeRequest *wipe = g_ptr_array_index (wipes, i);
      g_autoptr (JsonNode) body = json_from_string (wipe->body, &error);

      g_assert_no_error (error);
      g_assert_true (
        json_object_get_boolean_member (json_node_get_object (body), "keepEnrollmentData"));
      g_assert_true (json_object_get_boolean_member (json_node_get_object (body), "keepUserData"));
      g_assert_cmpuint (json_object_get_size (json_node_get_object (body)), ==, 2);
      g_assert_false (g_hash_table_contains (seen, wipe->device_id));
      g_hash_table_add (seen, wipe->device_id);
    }
  g_assert_false (g_hash_table_contains (seen, rd_device_get_id (device_at (f, n))));

  entries = read_audit (f);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, n + 1);
  for (guint i = 0; i < n; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      g_autoptr (RdAuditEntry) entry = audit_entry_for (entries, rd_plan_get_device_id (plan),
                                                        "sent");

      g_assert_nonnull (entry);
      g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 204);
      g_assert_cmpstr (rd_audit_entry_get_request_id (entry), ==,
                       rd_plan_get_request_ids (plan)[0]);
    }
}

static void
test_batch_dropped (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (GPtrArray) plans = g_ptr_array_new ();
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) interrupted = NULL;
  g_autoptr (GListModel) entries = NULL;

  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (plans, make_plan (f, device_at (f, i), RD_METHOD_AUTOPILOT_RESET));

  rd_demo_tenant_set_drop_connection (f->tenant, 1);
  errors = run_many_sync (f, plans, NULL);
  rd_demo_tenant_set_drop_connection (f->tenant, 0);

  /* The $batch POST reached the tenant once and was not repeated. */
  g_assert_cmpuint (rd_demo_tenant_get_request_count (f->tenant, "POST", "/$batch"), ==, 1);
  for (guint i = 0; i < plans->len; i++)
    {
      g_assert_error ((GError *) g_ptr_array_index (errors, i), RD_DEVICE_ACTIONS_ERROR,
                      RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN);
      g_assert_cmpint (rd_plan_get_state (g_ptr_array_index (plans, i)), ==, RD_PLAN_STATE_SENDING);
    }
  interrupted = rd_device_actions_find_interrupted (f->actions);
  g_assert_cmpuint (interrupted->len, ==, 3);
  entries = read_audit (f);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 3);
  for (guint i = 0; i < plans->len; i++)
    {
      g_autoptr (RdAuditEntry) entry = audit_entry_for (
        entries, rd_plan_get_device_id (g_ptr_array_index (plans, i)), "unknown");

      g_assert_nonnull (entry);
    }
}

/* The write limit's clock, stopped: only the waits let writes through. */
static gint64
frozen_clock (void)
{
  return 1000 * G_USEC_PER_SEC;
}

static void
test_rate_limit (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr (GPtrArray) plans = g_ptr_array_new ();
  g_autoptr (GPtrArray) errors = NULL;
  gint64 start;
  gint64 elapsed_ms;
  guint n = 25;

  /* 8 writes per 100 ms, on a stopped clock: 8 go at once, then each batch
   * waits for its own debt, 8, 16 and 17 writes: 100 + 200 + 212 ms. */
  _rd_device_actions_set_clock (f->actions, frozen_clock);
  rd_device_actions_set_write_limit (f->actions, 8, 100);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (plans, make_plan (f, device_at (f, i), RD_METHOD_WIPE_RETAIN));

  start = g_get_monotonic_time ();
  errors = run_many_sync (f, plans, NULL);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  for (guint i = 0; i < n; i++)
    g_assert_no_error ((GError *) g_ptr_array_index (errors, i));
  g_assert_cmpuint (wipe_count (f), ==, n);
  /* Batches no bigger than the limit. */
  g_assert_cmpuint (rd_demo_tenant_get_request_count (f->tenant, "POST", "/$batch"), ==, 4);
  g_assert_cmpuint (_rd_device_actions_get_n_write_waits (f->actions), ==, 3);
  g_assert_cmpint (elapsed_ms, >=, 500);
}

static void
test_rate_limit_default (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr (GPtrArray) plans = g_ptr_array_new ();
  g_autoptr (GPtrArray) errors = NULL;
  guint n = 20;
  gint64 start;

  /* Intune's 200 writes per 20 s: 200 syncs use them up, so the batch of 20
   * wipes after them waits for 20 writes' refill, 2 s. */
  _rd_device_actions_set_clock (f->actions, frozen_clock);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (plans, make_plan (f, device_at (f, i), RD_METHOD_WIPE_RETAIN));
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GError) error = NULL;

      rd_device_actions_sync_device_async (f->actions, device_at (f, i % n), NULL, on_result_cb,
                                           &result);
      g_assert_true (rd_device_actions_sync_device_finish (f->actions, wait_for (&result), &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (_rd_device_actions_get_n_write_waits (f->actions), ==, 0);
  g_assert_cmpuint (wipe_count (f), ==, 0);

  start = g_get_monotonic_time ();
  errors = run_many_sync (f, plans, NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (_rd_device_actions_get_n_write_waits (f->actions), ==, 1);
  for (guint i = 0; i < n; i++)
    g_assert_no_error ((GError *) g_ptr_array_index (errors, i));
  g_assert_cmpuint (wipe_count (f), ==, n);
}

static void
test_sync_device (Fixture       *f,
                  gconstpointer  data)
{
  RdDevice *device = device_at (f, 13);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (RdAuditEntry) entry = NULL;
  g_autofree char *path = g_strdup_printf ("/deviceManagement/managedDevices/%s/syncDevice",
                                           rd_device_get_id (device));

  rd_device_actions_sync_device_async (f->actions, device, NULL, on_result_cb, &result);
  g_assert_true (rd_device_actions_sync_device_finish (f->actions, wait_for (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rd_demo_tenant_get_request_count (f->tenant, "POST",
                                                      "/deviceManagement/managedDevices/{id}/"
                                                      "syncDevice"),
                    ==, 1);
  g_assert_cmpuint (wipe_count (f), ==, 0);

  entries = read_audit (f);
  entry = audit_entry_for (entries, rd_device_get_id (device), "sent");
  g_assert_nonnull (entry);
  g_assert_cmpstr (rd_audit_entry_get_request_path (entry), ==, path);
  g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 204);
  g_assert_nonnull (rd_audit_entry_get_request_id (entry));
}

static GraphTestResponse *
failed_action_handler (GraphTestServer  *server,
                       GraphTestRequest *request,
                       gpointer          user_data)
{
  guint *n_polls = user_data;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *started = g_date_time_format_iso8601 (now);
  g_autofree char *body = NULL;

  /* Pending twice, then failed; an old, done wipe stays in the list. */
  (*n_polls)++;
  body = g_strdup_printf (
    "{\"id\":\"x\",\"managementState\":\"%s\",\"deviceActionResults\":["
    "{\"actionName\":\"wipe\",\"actionState\":\"done\",\"startDateTime\":\"2020-01-01T00:00:00Z\"},"
    "{\"actionName\":\"wipe\",\"actionState\":\"%s\",\"startDateTime\":\"%s\"}]}",
    *n_polls < 3 ? "wipePending" : "managed", *n_polls < 3 ? "pending" : "failed", started);
  return graph_test_response_add_header (graph_test_response_new (200, body), "Content-Type",
                                         "application/json");
}

static void
test_follow_failed (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr (GraphTestServer) server = graph_test_server_new ();
  g_autoptr (RdGraphClient) client = NULL;
  g_autoptr (RdDeviceActions) actions = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device = device_at (f, 14);
  RdPlan *plan = make_plan (f, device, RD_METHOD_WIPE_RETAIN);
  g_autofree char *server_path = g_strdup_printf ("/beta/deviceManagement/managedDevices/%s",
                                                  rd_device_get_id (device));
  GPtrArray *requests;
  GraphTestRequest *request;
  guint n_polls = 0;

  client = rd_graph_client_new (graph_test_server_get_base_url (server), f->tokens);
  actions = rd_device_actions_new (client, f->board, f->audit, USER, "tenant");
  rd_device_actions_set_poll_interval (actions, 10, 40);
  graph_test_server_set_handler (server, server_path, failed_action_handler, &n_polls);
  g_assert_true (rd_board_transition_plan (f->board, plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_true (rd_board_transition_plan (f->board, plan, RD_PLAN_STATE_SENT, &error));

  rd_device_actions_follow_async (actions, plan, NULL, on_result_cb, &result);
  g_assert_false (rd_device_actions_follow_finish (actions, wait_for (&result), &error));
  g_assert_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ACTION_FAILED);
  g_assert_cmpuint (n_polls, ==, 3);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_FAILED);
  g_assert_nonnull (strstr (rd_plan_get_last_error (plan), "failed"));

  /* From beta, with the fields it needs. */
  requests = graph_test_server_get_requests (server);
  request = g_ptr_array_index (requests, 0);
  g_assert_cmpstr (request->method, ==, "GET");
  g_assert_nonnull (strstr (request->path_and_query, "managementState"));
  g_assert_nonnull (strstr (request->path_and_query, "deviceActionResults"));

  g_clear_object (&result);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (g_steal_pointer (&actions));
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_autoptr (GPtrArray) plans = g_ptr_array_new ();
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  RdPlan *plan = make_plan (f, device_at (f, 0), RD_METHOD_WIPE_RETAIN);
  guint polls;

  /* Cancelled before: nothing sent, nothing changed. */
  g_cancellable_cancel (cancelled);
  g_assert_false (run_sync (f, plan, cancelled, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);
  g_assert_cmpuint (wipe_count (f), ==, 0);

  /* Following a wipe that takes a minute, cancelled while it is pending. */
  rd_demo_tenant_set_action_duration (f->tenant, 60000);
  g_assert_true (run_sync (f, plan, NULL, &error));
  g_assert_no_error (error);
  rd_device_actions_follow_async (f->actions, plan, cancellable, on_result_cb, &result);
  spin (150);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_PENDING);
  g_cancellable_cancel (cancellable);
  g_assert_false (rd_device_actions_follow_finish (f->actions, wait_for (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&result);
  polls = rd_demo_tenant_get_request_count (f->tenant, "GET",
                                            "/deviceManagement/managedDevices/{id}");
  g_assert_cmpuint (polls, >=, 1);
  spin (300);
  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (f->tenant, "GET", "/deviceManagement/managedDevices/{id}"),
    ==, polls);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_PENDING);

  /* Several plans, cancelled while waiting for the write limit: those not
   * yet taken up stay ready and unsent. */
  g_cancellable_reset (cancellable);
  rd_device_actions_set_write_limit (f->actions, 5, 10000);
  for (guint i = 1; i <= 12; i++)
    g_ptr_array_add (plans, make_plan (f, device_at (f, i), RD_METHOD_WIPE_RETAIN));
  rd_device_actions_run_many_async (f->actions, plans, cancellable, on_result_cb, &result);
  while (rd_demo_tenant_get_request_count (f->tenant, "POST", "/$batch") < 1 ||
         _rd_device_actions_get_n_write_waits (f->actions) < 1)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  errors = rd_device_actions_run_many_finish (f->actions, wait_for (&result), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *one = g_ptr_array_index (plans, i);

      if (i < 5)
        {
          g_assert_no_error ((GError *) g_ptr_array_index (errors, i));
          g_assert_cmpint (rd_plan_get_state (one), ==, RD_PLAN_STATE_SENT);
        }
      else
        {
          g_assert_error ((GError *) g_ptr_array_index (errors, i), G_IO_ERROR,
                          G_IO_ERROR_CANCELLED);
          g_assert_cmpint (rd_plan_get_state (one), ==, RD_PLAN_STATE_READY);
        }
    }
  g_assert_cmpuint (wipe_count (f), ==, 1 + 5);
}

static void
test_re_enrollment (Fixture       *f,
                    gconstpointer  data)
{
  RdDevice *device = device_at (f, 15);
  RdPlan *plan = make_plan (f, device, RD_METHOD_REIMAGE_OEM);
  RdPlan *wipe_plan = make_plan (f, device_at (f, 16), RD_METHOD_WIPE_RETAIN);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) fresh = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GDateTime) earlier = NULL;
  g_autoptr (GDateTime) later = NULL;
  g_autoptr (RdDevice) old_enrollment = NULL;
  g_autoptr (RdDevice) other_serial = NULL;
  g_autoptr (RdDevice) re_enrolled = NULL;
  g_autofree char *upper = NULL;
  g_autoptr (RdBoard) board = NULL;

  g_assert_true (rd_plan_record_usb_key (plan, "Dell OEM 23H2", SHA256_HEX, "USB-1", &error));
  g_assert_no_error (error);
  g_assert_true (
    rd_board_transition_plan (f->board, plan, RD_PLAN_STATE_AWAITING_RE_ENROLLMENT, &error));
  g_assert_no_error (error);

  earlier = g_date_time_add_hours (rd_plan_get_updated (plan), -1);
  later = g_date_time_add_minutes (rd_plan_get_updated (plan), 5);
  upper = g_ascii_strup (rd_device_get_serial (device), -1);

  /* The same serial enrolled before the key was used; another serial since. */
  old_enrollment = ready_device ("new-id-1", "DESKTOP-OLD", rd_device_get_serial (device));
  g_object_set (old_enrollment, "enrolled", earlier, NULL);
  other_serial = ready_device ("new-id-2", "DESKTOP-OTHER", "NOT-THE-SERIAL");
  g_object_set (other_serial, "enrolled", later, NULL);
  g_ptr_array_add (fresh, g_object_ref (old_enrollment));
  g_ptr_array_add (fresh, g_object_ref (other_serial));
  g_assert_cmpuint (rd_device_actions_check_re_enrollment (f->actions, fresh, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_AWAITING_RE_ENROLLMENT);

  /* Back, under a new id, its serial in another case, enrolled since. */
  re_enrolled = ready_device ("new-id-3", "DESKTOP-NEW", upper);
  g_object_set (re_enrolled, "enrolled", later, NULL);
  g_ptr_array_add (fresh, g_object_ref (re_enrolled));
  g_assert_cmpuint (rd_device_actions_check_re_enrollment (f->actions, fresh, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_DONE);
  g_assert_cmpint (rd_plan_get_state (wipe_plan), ==, RD_PLAN_STATE_READY);

  board = reload_board (f);
  g_assert_cmpint (rd_plan_get_state (reloaded_plan (board, rd_device_get_id (device))), ==,
                   RD_PLAN_STATE_DONE);
  g_assert_cmpuint (rd_device_actions_check_re_enrollment (f->actions, fresh, &error), ==, 0);
  g_assert_cmpuint (rd_demo_tenant_get_total_requests (f->tenant), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  seen_request_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  seen_client_request_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_log_set_handler ("rd-graph-client", G_LOG_LEVEL_DEBUG, on_client_log_cb, NULL);

#define ADD(path, func)                                                                            \
  g_test_add ("/rd/device-actions/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("wipe-retain", test_wipe_retain);
  ADD ("autopilot-reset", test_autopilot_reset);
  ADD ("not-a-wipe", test_not_a_wipe);
  ADD ("blocked", test_blocked);
  ADD ("wipe-pending", test_wipe_pending_refused);
  ADD ("conflict", test_conflict);
  ADD ("forbidden", test_forbidden);
  ADD ("twice", test_twice);
  ADD ("crash", test_crash);
  ADD ("resolve-sent", test_resolve_sent);
  ADD ("dropped-connection", test_dropped_connection);
  ADD ("save-fails", test_save_fails);
  ADD ("batch", test_batch);
  ADD ("batch-dropped", test_batch_dropped);
  ADD ("rate-limit", test_rate_limit);
  ADD ("rate-limit-default", test_rate_limit_default);
  ADD ("sync-device", test_sync_device);
  ADD ("follow-failed", test_follow_failed);
  ADD ("cancel", test_cancel);
  ADD ("re-enrollment", test_re_enrollment);

#undef ADD

  return g_test_run ();
}
