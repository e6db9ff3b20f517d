/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-actions"

#include "config.h"

#include "rd-device-actions.h"

#include "rd-device-actions-private.h"
#include "rd-graph-error.h"
#include "rd-graph-util-private.h"
#include "rd-method.h"
#include "rd-readiness.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* RdDeviceActions sends the Graph actions of plans (reference §1, §2, §6).
 *
 * A wipe is sent at most once. Before the request leaves, the plan is saved
 * in "sending" through RdBoard; if that save fails, nothing is sent. From
 * then on the request is not cancellable: cancelling could only turn a known
 * outcome into an unknown one. A 204 makes the plan "sent", an error answer
 * "failed", and a connection that broke before the answer leaves it in
 * "sending", where the admin decides what happened
 * (rd_device_actions_resolve_interrupted()). Nothing ever sends a plan out
 * of "sending". Every attempt that left is written to the audit log. */

#define DEFAULT_POLL_INITIAL_MSEC 2000
#define DEFAULT_POLL_MAX_MSEC 60000
/* Intune devices service: 200 writes per 20 s per app per tenant (§6). */
#define DEFAULT_MAX_WRITES 200
#define DEFAULT_WRITE_PERIOD_MSEC 20000
#define MAX_BATCH_SIZE 20
/* A device's action results carry the server's clock, to the second. */
#define ACTION_CLOCK_SLACK (5 * G_TIME_SPAN_MINUTE)

struct _RdDeviceActions
{
  GObject parent_instance;

  RdGraphClient *client;
  RdBoard *board;
  RdAuditLog *audit_log;
  char *user;
  char *tenant;

  guint poll_initial_msec;
  guint poll_max_msec;

  /* The write limit, as a token bucket that may go negative: a caller that
   * takes more than is there waits until the debt is refilled. */
  guint max_writes;
  guint write_period_msec;
  RdDeviceActionsClock clock;
  double tokens;
  gint64 refilled_at;
  guint n_write_waits;
};

G_DEFINE_FINAL_TYPE (RdDeviceActions, rd_device_actions, G_TYPE_OBJECT)

G_DEFINE_QUARK (rd-device-actions-error-quark, rd_device_actions_error)

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_BOARD,
  PROP_AUDIT_LOG,
  PROP_USER,
  PROP_TENANT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum
{
  ACTION_UNKNOWN,
  ACTION_PENDING,
  ACTION_DONE,
  ACTION_FAILED,
} ActionState;

/* Helpers */

static const char *
plan_display_name (RdPlan *plan)
{
  const char *name = rd_plan_get_device_name (plan);

  return name != NULL && *name != '\0' ? name : rd_plan_get_device_id (plan);
}

static JsonNode *
build_wipe_body (RdMethod method)
{
  g_autoptr (JsonBuilder) builder = NULL;

  /* Break and Fix keeps the user's data; Autopilot Reset does not (§1, §2). */
  if (method != RD_METHOD_WIPE_RETAIN && method != RD_METHOD_AUTOPILOT_RESET)
    return NULL;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "keepEnrollmentData");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "keepUserData");
  json_builder_add_boolean_value (builder, method == RD_METHOD_WIPE_RETAIN);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static char *
dup_device_path (const char *device_id,
                 const char *action)
{
  g_autofree char *escaped = g_uri_escape_string (device_id, NULL, TRUE);

  if (action == NULL)
    return g_strconcat ("/deviceManagement/managedDevices/", escaped, NULL);

  return g_strconcat ("/deviceManagement/managedDevices/", escaped, "/", action, NULL);
}

static void
error_free_nullable (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static gboolean
plan_is_on_board (RdDeviceActions *self,
                  RdPlan          *plan)
{
  g_autoptr (GPtrArray) plans = rd_board_dup_plans (self->board);
  guint index;

  return g_ptr_array_find (plans, plan, &index);
}

/* The write limit */

static void
reset_write_limit (RdDeviceActions *self)
{
  self->tokens = self->max_writes;
  self->refilled_at = self->clock ();
}

/* Takes @n writes from the bucket; returns how many milliseconds to wait
 * before they may be sent. */
static guint
reserve_writes (RdDeviceActions *self,
                guint            n)
{
  gint64 now = self->clock ();
  double per_usec = (double) self->max_writes / ((double) self->write_period_msec * 1000.0);

  self->tokens = MIN ((double) self->max_writes,
                      self->tokens + (double) (now - self->refilled_at) * per_usec);
  self->refilled_at = now;
  self->tokens -= n;

  if (self->tokens >= 0)
    return 0;

  self->n_write_waits++;
  return (guint) (-self->tokens / per_usec / 1000.0) + 1;
}

static void
refund_writes (RdDeviceActions *self,
               guint            n)
{
  self->tokens = MIN ((double) self->max_writes, self->tokens + n);
}

typedef void (*TaskStep) (GTask *task);

typedef struct
{
  GTask *task;
  TaskStep send;
} WriteSlot;

static void
on_write_slot_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autofree WriteSlot *slot = user_data;
  GTask *task = slot->task;
  RdDeviceActions *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;

  if (!_rd_graph_sleep_finish (result, &error))
    {
      refund_writes (self, 1);
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  slot->send (task);
}

/* Takes one write from the bucket for @task, then hands @task (and its
 * reference) to @send, at once or after the wait the write limit asks for.
 * A cancelled wait gives the write back. */
static void
send_within_write_limit (GTask    *task,
                         TaskStep  send)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  guint wait_ms = reserve_writes (self, 1);
  WriteSlot *slot;

  if (wait_ms == 0)
    {
      send (task);
      return;
    }

  slot = g_new0 (WriteSlot, 1);
  slot->task = task;
  slot->send = send;
  g_debug ("Waiting %u ms for Intune's write limit", wait_ms);
  _rd_graph_sleep_async (wait_ms, g_task_get_cancellable (task), on_write_slot_cb, slot);
}

/* The audit log */

static void
append_audit (RdDeviceActions *self,
              const char      *device_id,
              const char      *device_name,
              const char      *method,
              const char      *request_method,
              const char      *request_path,
              const char      *request_body,
              int              http_status,
              const char      *request_id,
              const char      *client_request_id,
              const char      *outcome)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (RdAuditEntry) entry = NULL;
  g_autoptr (GError) error = NULL;

  /* clang-format off */
  entry = g_object_new (RD_TYPE_AUDIT_ENTRY,
                        "time", now,
                        "user", self->user,
                        "tenant", self->tenant,
                        "device-id", device_id,
                        "device-name", device_name,
                        "method", method,
                        "request-method", request_method,
                        "request-path", request_path,
                        "request-body", request_body,
                        "http-status", http_status,
                        "request-id", request_id,
                        "client-request-id", client_request_id,
                        "outcome", outcome,
                        NULL);
  /* clang-format on */

  /* The action has happened whatever the log says; the admin is told. */
  if (!rd_audit_log_append (self->audit_log, entry, &error))
    g_warning ("Could not record “%s %s” (%s) in the audit log: %s", request_method, request_path,
               outcome, error->message);
}

static void
audit_wipe (RdDeviceActions *self,
            RdPlan          *plan,
            const char      *path,
            const char      *body,
            int              http_status,
            const char      *request_id,
            const char      *client_request_id,
            const char      *outcome)
{
  append_audit (self, rd_plan_get_device_id (plan), rd_plan_get_device_name (plan),
                rd_method_to_string (rd_plan_get_method (plan)), "POST", path, body, http_status,
                request_id, client_request_id, outcome);
}

/* Sending once */

/* Whether @plan may be sent now; nothing is changed. */
static gboolean
check_plan (RdDeviceActions  *self,
            RdPlan           *plan,
            GError          **error)
{
  RdMethod method = rd_plan_get_method (plan);
  const char *name = plan_display_name (plan);
  g_autoptr (JsonNode) body = build_wipe_body (method);
  g_autoptr (GListModel) checks = NULL;
  RdDevice *device;
  RdCheck *blocker;

  if (!rd_method_sends_wipe (method) || body == NULL)
    {
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_UNSUPPORTED_METHOD,
                   _ ("“%s” is planned for %s, which is not sent through Intune."), name,
                   rd_method_get_title (method));
      return FALSE;
    }

  switch (rd_plan_get_state (plan))
    {
    case RD_PLAN_STATE_READY:
      break;

    case RD_PLAN_STATE_SENDING:
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT,
                   _ ("The wipe of “%s” may already have reached Intune. Check the device in "
                      "Intune and mark the plan sent or not sent; it is never sent again "
                      "automatically."),
                   name);
      return FALSE;

    case RD_PLAN_STATE_SENT:
    case RD_PLAN_STATE_PENDING:
    case RD_PLAN_STATE_DONE:
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT,
                   _ ("The wipe of “%s” has already been sent; it is not sent twice."), name);
      return FALSE;

    case RD_PLAN_STATE_DRAFT:
    case RD_PLAN_STATE_BLOCKED:
    case RD_PLAN_STATE_FAILED:
    case RD_PLAN_STATE_CANCELLED:
    case RD_PLAN_STATE_USB_PREPARED:
    case RD_PLAN_STATE_AWAITING_RE_ENROLLMENT:
    default:
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_READY,
                   _ ("The plan for “%s” is “%s”, not ready, so nothing was sent."), name,
                   rd_plan_state_to_string (rd_plan_get_state (plan)));
      return FALSE;
    }

  device = rd_plan_get_device (plan);
  if (device == NULL || rd_board_get_plan (self->board, device) != plan)
    {
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NO_DEVICE,
                   _ ("“%s” is not in the current device list. Refresh the devices, then try "
                      "again."),
                   name);
      return FALSE;
    }

  if (rd_device_has_wipe_pending (device))
    {
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_WIPE_PENDING,
                   _ ("“%s” already has a wipe pending in Intune; another one is not sent."), name);
      return FALSE;
    }

  /* The facts may have changed since the plan was made ready. */
  checks = rd_board_evaluate (self->board, device);
  blocker = rd_readiness_first_blocker (checks);
  if (blocker != NULL)
    {
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_BLOCKED,
                   _ ("“%s” cannot be sent: %s"), name, rd_check_get_title (blocker));
      return FALSE;
    }

  return TRUE;
}

/* Checks @plan and saves it in "sending"; only then may its request leave. */
static gboolean
begin_send (RdDeviceActions  *self,
            RdPlan           *plan,
            GError          **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!check_plan (self, plan, error))
    return FALSE;

  rd_plan_set_last_error (plan, NULL);
  if (!rd_board_transition_plan (self->board, plan, RD_PLAN_STATE_SENDING, &local_error))
    {
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_SAVED,
                   _ ("The wipe of “%s” was not sent, because its plan could not be saved "
                      "first: %s"),
                   plan_display_name (plan), local_error->message);
      return FALSE;
    }

  return TRUE;
}

/* Errors that come before anything is sent: no token, a refused endpoint. */
static gboolean
error_never_left (const GError *error)
{
  return error->domain == RD_AUTH_ERROR ||
         g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT);
}

static char *
dup_message_with_request_id (const GError *error,
                             const char   *request_id)
{
  if (request_id == NULL || *request_id == '\0' || strstr (error->message, request_id) != NULL)
    return g_strdup (error->message);

  return g_strdup_printf (_ ("%s (request-id %s)"), error->message, request_id);
}

/* Records what became of a wipe whose request was sent: exactly one of
 * @response (a 2xx) and @send_error is set. Returns TRUE when Intune
 * accepted the wipe and the plan is saved as "sent". */
static gboolean
conclude_send (RdDeviceActions  *self,
               RdPlan           *plan,
               const char       *path,
               const char       *body,
               RdGraphResponse  *response,
               const GError     *send_error,
               GError          **error)
{
  const char *name = plan_display_name (plan);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *message = NULL;
  const char *request_id = NULL;
  const char *client_request_id = NULL;
  int status = 0;

  if (response != NULL)
    {
      request_id = rd_graph_response_get_request_id (response);
      client_request_id = rd_graph_response_get_client_request_id (response);

      if (request_id != NULL)
        rd_plan_add_request_id (plan, request_id);
      audit_wipe (self, plan, path, body, (int) rd_graph_response_get_status (response), request_id,
                  client_request_id, "sent");

      if (!rd_board_transition_plan (self->board, plan, RD_PLAN_STATE_SENT, &local_error))
        {
          message = g_strdup_printf (_ ("Intune accepted the wipe of “%s” (request-id %s), but "
                                        "the plan could not be saved as sent: %s. Mark it sent "
                                        "once saving works again."),
                                     name, request_id != NULL ? request_id : "?",
                                     local_error->message);
          rd_plan_set_last_error (plan, message);
          g_set_error_literal (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_SAVED,
                               message);
          return FALSE;
        }

      return TRUE;
    }

  g_assert (send_error != NULL);

  if (send_error->domain == RD_GRAPH_ERROR)
    {
      status = rd_graph_error_get_http_status (send_error);
      request_id = rd_graph_error_get_request_id (send_error);
      client_request_id = rd_graph_error_get_client_request_id (send_error);
    }

  if (status >= 400 || error_never_left (send_error))
    {
      message = dup_message_with_request_id (send_error, request_id);
      if (request_id != NULL)
        rd_plan_add_request_id (plan, request_id);
      rd_plan_set_last_error (plan, message);

      /* Graph answered with an error: the wipe was not carried out. */
      if (status >= 400)
        audit_wipe (self, plan, path, body, status, request_id, client_request_id, "failed");

      if (!rd_board_transition_plan (self->board, plan, RD_PLAN_STATE_FAILED, &local_error))
        g_warning ("Could not save the failed plan for “%s”: %s", name, local_error->message);

      g_propagate_error (error, g_error_copy (send_error));
      return FALSE;
    }

  /* No answer: the wipe may or may not have been carried out. The plan
   * stays "sending" for the admin to check; it is not failed (that would
   * let it be sent again) nor sent (that would claim what is not known). */
  message = g_strdup_printf (_ ("%s Check “%s” in Intune, then mark its plan sent or not sent."),
                             send_error->message, name);
  rd_plan_set_last_error (plan, message);
  audit_wipe (self, plan, path, body, status, request_id, client_request_id, "unknown");
  if (!rd_board_save (self->board, &local_error))
    g_warning ("Could not save the interrupted plan for “%s”: %s", name, local_error->message);

  g_set_error_literal (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN,
                       message);
  return FALSE;
}

/* GObject */

static void
rd_device_actions_dispose (GObject *object)
{
  RdDeviceActions *self = (RdDeviceActions *) object;

  g_clear_object (&self->client);
  g_clear_object (&self->board);
  g_clear_object (&self->audit_log);

  G_OBJECT_CLASS (rd_device_actions_parent_class)->dispose (object);
}

static void
rd_device_actions_finalize (GObject *object)
{
  RdDeviceActions *self = (RdDeviceActions *) object;

  g_free (self->user);
  g_free (self->tenant);

  G_OBJECT_CLASS (rd_device_actions_parent_class)->finalize (object);
}

static void
rd_device_actions_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  RdDeviceActions *self = RD_DEVICE_ACTIONS (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_BOARD:
      g_value_set_object (value, self->board);
      break;

    case PROP_AUDIT_LOG:
      g_value_set_object (value, self->audit_log);
      break;

    case PROP_USER:
      g_value_set_string (value, self->user);
      break;

    case PROP_TENANT:
      g_value_set_string (value, self->tenant);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_device_actions_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  RdDeviceActions *self = RD_DEVICE_ACTIONS (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    case PROP_BOARD:
      self->board = g_value_dup_object (value);
      break;

    case PROP_AUDIT_LOG:
      self->audit_log = g_value_dup_object (value);
      break;

    case PROP_USER:
      self->user = g_value_dup_string (value);
      break;

    case PROP_TENANT:
      self->tenant = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_device_actions_class_init (RdDeviceActionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                      G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_device_actions_dispose;
  object_class->finalize = rd_device_actions_finalize;
  object_class->get_property = rd_device_actions_get_property;
  object_class->set_property = rd_device_actions_set_property;

  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, RD_TYPE_GRAPH_CLIENT, flags);
  properties[PROP_BOARD] = g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD, flags);
  properties[PROP_AUDIT_LOG] = g_param_spec_object ("audit-log", NULL, NULL, RD_TYPE_AUDIT_LOG,
                                                    flags);
  properties[PROP_USER] = g_param_spec_string ("user", NULL, NULL, NULL, flags);
  properties[PROP_TENANT] = g_param_spec_string ("tenant", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_device_actions_init (RdDeviceActions *self)
{
  self->poll_initial_msec = DEFAULT_POLL_INITIAL_MSEC;
  self->poll_max_msec = DEFAULT_POLL_MAX_MSEC;
  self->max_writes = DEFAULT_MAX_WRITES;
  self->write_period_msec = DEFAULT_WRITE_PERIOD_MSEC;
  self->clock = g_get_monotonic_time;
  reset_write_limit (self);
}

/**
 * rd_device_actions_new:
 * @client: the Graph client, signed in to the tenant
 * @board: the board whose plans are run
 * @audit_log: where every action sent is recorded
 * @user: (nullable): the signed-in admin, for the audit log
 * @tenant: (nullable): the tenant, for the audit log
 *
 * Returns: (transfer full): a new #RdDeviceActions
 */
RdDeviceActions *
rd_device_actions_new (RdGraphClient *client,
                       RdBoard       *board,
                       RdAuditLog    *audit_log,
                       const char    *user,
                       const char    *tenant)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (client), NULL);
  g_return_val_if_fail (RD_IS_BOARD (board), NULL);
  g_return_val_if_fail (RD_IS_AUDIT_LOG (audit_log), NULL);

  /* clang-format off */
  return g_object_new (RD_TYPE_DEVICE_ACTIONS,
                       "client", client,
                       "board", board,
                       "audit-log", audit_log,
                       "user", user,
                       "tenant", tenant,
                       NULL);
  /* clang-format on */
}

RdGraphClient *
rd_device_actions_get_client (RdDeviceActions *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);

  return self->client;
}

RdBoard *
rd_device_actions_get_board (RdDeviceActions *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);

  return self->board;
}

RdAuditLog *
rd_device_actions_get_audit_log (RdDeviceActions *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);

  return self->audit_log;
}

const char *
rd_device_actions_get_user (RdDeviceActions *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);

  return self->user;
}

const char *
rd_device_actions_get_tenant (RdDeviceActions *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);

  return self->tenant;
}

/**
 * rd_device_actions_set_poll_interval:
 * @initial_msec: the first wait between two polls of a device
 * @max_msec: the longest wait; the wait doubles up to it
 */
void
rd_device_actions_set_poll_interval (RdDeviceActions *self,
                                     guint            initial_msec,
                                     guint            max_msec)
{
  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));
  g_return_if_fail (initial_msec > 0);

  self->poll_initial_msec = initial_msec;
  self->poll_max_msec = MAX (initial_msec, max_msec);
}

/**
 * rd_device_actions_set_write_limit:
 * @max_writes: how many writes (POSTs, batched or not) may go out...
 * @period_msec: ...per this period; the bucket refills evenly over it
 *
 * Also refills the bucket.
 */
void
rd_device_actions_set_write_limit (RdDeviceActions *self,
                                   guint            max_writes,
                                   guint            period_msec)
{
  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));
  g_return_if_fail (max_writes > 0);
  g_return_if_fail (period_msec > 0);

  self->max_writes = max_writes;
  self->write_period_msec = period_msec;
  reset_write_limit (self);
}

guint
_rd_device_actions_get_n_write_waits (RdDeviceActions *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), 0);

  return self->n_write_waits;
}

void
_rd_device_actions_set_clock (RdDeviceActions      *self,
                              RdDeviceActionsClock  clock)
{
  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));

  self->clock = clock != NULL ? clock : g_get_monotonic_time;
  reset_write_limit (self);
}

/**
 * rd_device_actions_describe_request:
 * @plan: a plan
 * @method: (out) (optional): "POST"
 * @path: (out) (optional): the path relative to the version root
 * @body: (out) (optional): the JSON body, exactly as it is sent
 *
 * Returns: %TRUE when @plan's method sends a request through Graph
 */
gboolean
rd_device_actions_describe_request (RdPlan  *plan,
                                    char   **method,
                                    char   **path,
                                    char   **body)
{
  g_autoptr (JsonNode) node = NULL;

  g_return_val_if_fail (RD_IS_PLAN (plan), FALSE);

  node = build_wipe_body (rd_plan_get_method (plan));
  if (node == NULL)
    return FALSE;

  if (method != NULL)
    *method = g_strdup ("POST");
  if (path != NULL)
    *path = dup_device_path (rd_plan_get_device_id (plan), "wipe");
  if (body != NULL)
    *body = json_to_string (node, FALSE);

  return TRUE;
}

/* Running one plan */

typedef struct
{
  RdPlan *plan;
  char *path;
  char *body;
} RunData;

static void
run_data_free (RunData *data)
{
  g_clear_object (&data->plan);
  g_free (data->path);
  g_free (data->body);
  g_free (data);
}

static void
on_run_sent_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdDeviceActions *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr (RdGraphResponse) response = NULL;
  g_autoptr (GError) send_error = NULL;
  g_autoptr (GError) error = NULL;

  response = rd_graph_client_request_finish (RD_GRAPH_CLIENT (object), result, &send_error);
  if (conclude_send (self, data->plan, data->path, data->body, response, send_error, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
run_send (GTask *task)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GError) error = NULL;

  if (!begin_send (self, data->plan, &error))
    {
      refund_writes (self, 1);
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  body = json_from_string (data->body, NULL);
  rd_graph_client_request_async (self->client, "POST", data->path, body, NULL, on_run_sent_cb,
                                 task);
}

/**
 * rd_device_actions_run_async:
 * @plan: a "ready" plan on the board, for Break and Fix or Autopilot Reset
 *
 * Sends the plan's wipe, at most once (see the file's comment). The checks
 * run at once; a refused plan sends nothing. @cancellable stops a wait for
 * the write limit; once the plan is "sending", the request is seen through.
 */
void
rd_device_actions_run_async (RdDeviceActions     *self,
                             RdPlan              *plan,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  RunData *data;

  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));
  g_return_if_fail (RD_IS_PLAN (plan));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_device_actions_run_async);

  data = g_new0 (RunData, 1);
  data->plan = g_object_ref (plan);
  rd_device_actions_describe_request (plan, NULL, &data->path, &data->body);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  if (!check_plan (self, plan, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  send_within_write_limit (g_steal_pointer (&task), run_send);
}

/**
 * rd_device_actions_run_finish:
 *
 * Returns: %TRUE when Intune accepted the wipe and the plan is "sent"
 */
gboolean
rd_device_actions_run_finish (RdDeviceActions  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_device_actions_run_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Running several plans */

typedef struct
{
  GPtrArray *plans;  /* RdPlan */
  GPtrArray *errors; /* GError or NULL, one per plan */
  GArray *in_flight; /* indices into plans, in the batch being sent */
  GPtrArray *paths;  /* char *, one per plan */
  GPtrArray *bodies; /* char *, one per plan */
  guint next;        /* the first plan not yet taken up */
  guint reserved;    /* writes reserved for the next batch */
} ManyData;

static void
many_data_free (ManyData *data)
{
  g_ptr_array_unref (data->plans);
  g_ptr_array_unref (data->errors);
  g_array_unref (data->in_flight);
  g_ptr_array_unref (data->paths);
  g_ptr_array_unref (data->bodies);
  g_free (data);
}

static void many_next (GTask *task);

static void
many_return (GTask *task)
{
  ManyData *data = g_task_get_task_data (task);

  g_task_return_pointer (task, g_ptr_array_ref (data->errors), (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

static void
many_cancel_rest (GTask        *task,
                  const GError *error)
{
  ManyData *data = g_task_get_task_data (task);

  for (; data->next < data->plans->len; data->next++)
    g_ptr_array_index (data->errors, data->next) = g_error_copy (error);
}

static void
on_many_sent_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  RdDeviceActions *self = g_task_get_source_object (task);
  ManyData *data = g_task_get_task_data (task);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) batch_error = NULL;

  results = rd_graph_client_batch_finish (RD_GRAPH_CLIENT (object), result, &batch_error);

  for (guint k = 0; k < data->in_flight->len; k++)
    {
      guint i = g_array_index (data->in_flight, guint, k);
      RdPlan *plan = g_ptr_array_index (data->plans, i);
      RdGraphResponse *response = NULL;
      const GError *send_error = batch_error;
      GError *error = NULL;

      if (results != NULL)
        {
          RdGraphBatchResult *one = g_ptr_array_index (results, k);

          response = rd_graph_batch_result_get_response (one);
          send_error = rd_graph_batch_result_get_error (one);
        }

      conclude_send (self, plan, g_ptr_array_index (data->paths, i),
                     g_ptr_array_index (data->bodies, i), response, send_error, &error);
      g_ptr_array_index (data->errors, i) = error;
    }

  g_array_set_size (data->in_flight, 0);
  many_next (task);
}

static void
many_send_batch (GTask *task)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  ManyData *data = g_task_get_task_data (task);
  g_autoptr (GPtrArray) requests = NULL;

  requests = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_graph_batch_request_unref);

  while (data->in_flight->len < data->reserved && data->next < data->plans->len)
    {
      guint i = data->next++;
      RdPlan *plan = g_ptr_array_index (data->plans, i);
      g_autofree char *id = NULL;
      g_autoptr (JsonNode) body = NULL;
      GError *error = NULL;

      if (!begin_send (self, plan, &error))
        {
          g_ptr_array_index (data->errors, i) = error;
          continue;
        }

      id = g_strdup_printf ("%u", i + 1);
      body = json_from_string (g_ptr_array_index (data->bodies, i), NULL);
      g_ptr_array_add (requests, rd_graph_batch_request_new (
                                   id, "POST", g_ptr_array_index (data->paths, i), body));
      g_array_append_val (data->in_flight, i);
    }

  refund_writes (self, data->reserved - data->in_flight->len);
  data->reserved = 0;

  if (requests->len == 0)
    {
      many_next (task);
      return;
    }

  g_debug ("Sending %u wipes in one batch", requests->len);
  rd_graph_client_batch_async (self->client, requests, NULL, on_many_sent_cb, task);
}

static void
on_many_write_slot_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GTask *task = user_data;
  RdDeviceActions *self = g_task_get_source_object (task);
  ManyData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!_rd_graph_sleep_finish (result, &error))
    {
      refund_writes (self, data->reserved);
      data->reserved = 0;
      many_cancel_rest (task, error);
      many_return (task);
      return;
    }

  many_send_batch (task);
}

static void
many_next (GTask *task)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  ManyData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr (GError) error = NULL;
  guint wait_ms;

  if (data->next >= data->plans->len)
    {
      many_return (task);
      return;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      many_cancel_rest (task, error);
      many_return (task);
      return;
    }

  data->reserved = MIN (MIN (MAX_BATCH_SIZE, data->plans->len - data->next), self->max_writes);
  wait_ms = reserve_writes (self, data->reserved);
  if (wait_ms > 0)
    {
      g_debug ("Waiting %u ms for Intune's write limit", wait_ms);
      _rd_graph_sleep_async (wait_ms, cancellable, on_many_write_slot_cb, task);
      return;
    }

  many_send_batch (task);
}

/**
 * rd_device_actions_run_many_async:
 * @plans: (element-type RdPlan): the plans to send
 *
 * Sends the plans' wipes through `$batch`, at most 20 to a batch and within
 * the write limit. Each plan is checked, saved in "sending" and concluded on
 * its own, right before its batch leaves; a plan refused or failed does not
 * hold back the others. Cancelling stops before the next batch: the plans
 * not yet taken up are left as they were, with %G_IO_ERROR_CANCELLED.
 */
void
rd_device_actions_run_many_async (RdDeviceActions     *self,
                                  GPtrArray           *plans,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task;
  ManyData *data;

  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));
  g_return_if_fail (plans != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_device_actions_run_many_async);
  /* The per-plan outcome is returned even when cancelled. */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (ManyData, 1);
  data->plans = g_ptr_array_new_full (plans->len, g_object_unref);
  data->errors = g_ptr_array_new_full (plans->len, error_free_nullable);
  data->paths = g_ptr_array_new_full (plans->len, g_free);
  data->bodies = g_ptr_array_new_full (plans->len, g_free);
  data->in_flight = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      char *path = NULL;
      char *body = NULL;

      g_return_if_fail (RD_IS_PLAN (plan));
      rd_device_actions_describe_request (plan, NULL, &path, &body);
      g_ptr_array_add (data->plans, g_object_ref (plan));
      g_ptr_array_add (data->errors, NULL);
      g_ptr_array_add (data->paths, path);
      g_ptr_array_add (data->bodies, body);
    }
  g_task_set_task_data (task, data, (GDestroyNotify) many_data_free);

  many_next (task);
}

/**
 * rd_device_actions_run_many_finish:
 *
 * Returns: (transfer full) (element-type GError): one entry per plan, in
 *   order: %NULL for a plan sent, else why it was not (or may not have
 *   been) sent
 */
GPtrArray *
rd_device_actions_run_many_finish (RdDeviceActions  *self,
                                   GAsyncResult     *result,
                                   GError          **error)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_device_actions_run_many_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Following an action */

typedef struct
{
  RdPlan *plan;
  char *path;
  guint delay_ms;
} FollowData;

static void
follow_data_free (FollowData *data)
{
  g_clear_object (&data->plan);
  g_free (data->path);
  g_free (data);
}

static gboolean
is_wipe_action_name (const char *name)
{
  static const char *const names[] = {
    "wipe",
    "factoryReset",
    "factoryResetKeepEnrollmentData",
    "automaticRedeployment",
  };

  if (name == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_ascii_strcasecmp (name, names[i]) == 0)
        return TRUE;
    }

  return FALSE;
}

static const char *
object_get_string (JsonObject *object,
                   const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* Where the wipe that @plan sent stands, from the device as Graph shows it:
 * the newest wipe in deviceActionResults that started after the plan was
 * made, else the managementState. */
static ActionState
read_action_state (JsonObject  *device,
                   RdPlan      *plan,
                   const char **state_name)
{
  g_autoptr (GDateTime) since = g_date_time_add (rd_plan_get_created (plan), -ACTION_CLOCK_SLACK);
  g_autoptr (GDateTime) best_start = NULL;
  const char *best_state = NULL;
  JsonNode *results = json_object_get_member (device, "deviceActionResults");
  const char *management_state;

  if (results != NULL && JSON_NODE_HOLDS_ARRAY (results))
    {
      JsonArray *array = json_node_get_array (results);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          g_autoptr (GDateTime) start = NULL;
          JsonObject *result;
          const char *text;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          result = json_node_get_object (element);
          if (!is_wipe_action_name (object_get_string (result, "actionName")))
            continue;

          text = object_get_string (result, "startDateTime");
          if (text != NULL)
            start = g_date_time_new_from_iso8601 (text, NULL);
          if (start == NULL || g_date_time_compare (start, since) < 0)
            continue;

          if (best_start == NULL || g_date_time_compare (start, best_start) >= 0)
            {
              g_clear_pointer (&best_start, g_date_time_unref);
              best_start = g_date_time_ref (start);
              best_state = object_get_string (result, "actionState");
            }
        }
    }

  *state_name = best_state;
  if (best_state != NULL)
    {
      if (g_ascii_strcasecmp (best_state, "pending") == 0 ||
          g_ascii_strcasecmp (best_state, "active") == 0)
        return ACTION_PENDING;
      if (g_ascii_strcasecmp (best_state, "done") == 0)
        return ACTION_DONE;
      if (g_ascii_strcasecmp (best_state, "failed") == 0 ||
          g_ascii_strcasecmp (best_state, "canceled") == 0 ||
          g_ascii_strcasecmp (best_state, "notSupported") == 0)
        return ACTION_FAILED;
    }

  management_state = object_get_string (device, "managementState");
  if (management_state != NULL && g_ascii_strcasecmp (management_state, "wipePending") == 0)
    {
      *state_name = management_state;
      return ACTION_PENDING;
    }

  return ACTION_UNKNOWN;
}

static void follow_poll (GTask *task);

static void
on_follow_slept_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr (GError) error = NULL;

  if (!_rd_graph_sleep_finish (result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  follow_poll (task);
}

static void
follow_schedule (GTask *task)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  FollowData *data = g_task_get_task_data (task);
  guint delay_ms = data->delay_ms;

  data->delay_ms = MIN (self->poll_max_msec, delay_ms * 2);
  _rd_graph_sleep_async (delay_ms, g_task_get_cancellable (task), on_follow_slept_cb, task);
}

static void
on_follow_polled_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  RdDeviceActions *self = g_task_get_source_object (task);
  FollowData *data = g_task_get_task_data (task);
  g_autoptr (RdGraphResponse) response = NULL;
  g_autoptr (GError) error = NULL;
  const char *state_name = NULL;
  JsonObject *device;

  response = rd_graph_client_request_finish (RD_GRAPH_CLIENT (object), result, &error);
  if (response == NULL)
    {
      /* Polls are safe to repeat: a passing outage only delays the next. */
      if (g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK) ||
          g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_SERVER) ||
          g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_THROTTLED))
        {
          g_debug ("Polling %s failed, trying again later: %s", rd_plan_get_device_id (data->plan),
                   error->message);
          follow_schedule (task);
          return;
        }

      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  device = rd_graph_response_get_object (response);
  switch (device != NULL ? read_action_state (device, data->plan, &state_name) : ACTION_UNKNOWN)
    {
    case ACTION_PENDING:
      if (rd_plan_get_state (data->plan) == RD_PLAN_STATE_SENT &&
          !rd_board_transition_plan (self->board, data->plan, RD_PLAN_STATE_PENDING, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
          return;
        }
      break;

    case ACTION_DONE:
      if (!rd_board_transition_plan (self->board, data->plan, RD_PLAN_STATE_DONE, &error))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;

    case ACTION_FAILED:
      {
        g_autofree char *message = g_strdup_printf (_ ("Intune reports the wipe of “%s” as “%s”."),
                                                    plan_display_name (data->plan), state_name);

        rd_plan_set_last_error (data->plan, message);
        if (!rd_board_transition_plan (self->board, data->plan, RD_PLAN_STATE_FAILED, &error))
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_new_error (task, RD_DEVICE_ACTIONS_ERROR,
                                   RD_DEVICE_ACTIONS_ERROR_ACTION_FAILED, "%s", message);
        g_object_unref (task);
        return;
      }

    case ACTION_UNKNOWN:
    default:
      break;
    }

  follow_schedule (task);
}

static void
follow_poll (GTask *task)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  FollowData *data = g_task_get_task_data (task);

  rd_graph_client_request_async (self->client, "GET", data->path, NULL,
                                 g_task_get_cancellable (task), on_follow_polled_cb, task);
}

/**
 * rd_device_actions_follow_async:
 * @plan: a "sent" or "pending" wipe plan on the board
 *
 * Polls the plan's device from the beta endpoint (managementState is beta
 * only; deviceActionResults is in both) with backoff, moving the plan to
 * "pending", then "done" or "failed". A plan already "done" finishes at once.
 */
void
rd_device_actions_follow_async (RdDeviceActions     *self,
                                RdPlan              *plan,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *root = NULL;
  g_autofree char *device_path = NULL;
  FollowData *data;

  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));
  g_return_if_fail (RD_IS_PLAN (plan));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_device_actions_follow_async);

  switch (rd_plan_get_state (plan))
    {
    case RD_PLAN_STATE_SENT:
    case RD_PLAN_STATE_PENDING:
      break;

    case RD_PLAN_STATE_DONE:
      g_task_return_boolean (task, TRUE);
      return;

    case RD_PLAN_STATE_DRAFT:
    case RD_PLAN_STATE_READY:
    case RD_PLAN_STATE_BLOCKED:
    case RD_PLAN_STATE_SENDING:
    case RD_PLAN_STATE_FAILED:
    case RD_PLAN_STATE_CANCELLED:
    case RD_PLAN_STATE_USB_PREPARED:
    case RD_PLAN_STATE_AWAITING_RE_ENROLLMENT:
    default:
      g_task_return_new_error (task, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_READY,
                               _ ("The plan for “%s” is “%s”: there is no sent action to "
                                  "follow."),
                               plan_display_name (plan),
                               rd_plan_state_to_string (rd_plan_get_state (plan)));
      return;
    }

  data = g_new0 (FollowData, 1);
  data->plan = g_object_ref (plan);
  data->delay_ms = self->poll_initial_msec;
  device_path = dup_device_path (rd_plan_get_device_id (plan), NULL);
  root = _rd_graph_dup_endpoint_root (rd_graph_client_get_base_url (self->client));
  if (root != NULL)
    data->path = g_strconcat (root, "/beta", device_path,
                              "?$select=id,managementState,deviceActionResults,lastSyncDateTime",
                              NULL);
  else
    data->path = g_strconcat (device_path, "?$select=id,deviceActionResults,lastSyncDateTime",
                              NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) follow_data_free);

  follow_poll (g_steal_pointer (&task));
}

/**
 * rd_device_actions_follow_finish:
 *
 * Returns: %TRUE when the plan is "done"
 */
gboolean
rd_device_actions_follow_finish (RdDeviceActions  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_device_actions_follow_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Sync */

typedef struct
{
  RdDevice *device;
  char *path;
} SyncData;

static void
sync_data_free (SyncData *data)
{
  g_clear_object (&data->device);
  g_free (data->path);
  g_free (data);
}

static void
on_sync_sent_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdDeviceActions *self = g_task_get_source_object (task);
  SyncData *data = g_task_get_task_data (task);
  g_autoptr (RdGraphResponse) response = NULL;
  g_autoptr (GError) error = NULL;
  const char *device_id = rd_device_get_id (data->device);
  const char *device_name = rd_device_get_name (data->device);

  response = rd_graph_client_request_finish (RD_GRAPH_CLIENT (object), result, &error);
  if (response != NULL)
    {
      append_audit (self, device_id, device_name, "sync", "POST", data->path, NULL,
                    (int) rd_graph_response_get_status (response),
                    rd_graph_response_get_request_id (response),
                    rd_graph_response_get_client_request_id (response), "sent");
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (error->domain == RD_GRAPH_ERROR && !error_never_left (error))
    {
      int status = rd_graph_error_get_http_status (error);

      append_audit (self, device_id, device_name, "sync", "POST", data->path, NULL, status,
                    rd_graph_error_get_request_id (error),
                    rd_graph_error_get_client_request_id (error),
                    status >= 400 ? "failed" : "unknown");
    }
  g_task_return_error (task, g_steal_pointer (&error));
}

static void
sync_send (GTask *task)
{
  RdDeviceActions *self = g_task_get_source_object (task);
  SyncData *data = g_task_get_task_data (task);

  rd_graph_client_request_async (self->client, "POST", data->path, NULL, NULL, on_sync_sent_cb,
                                 task);
}

/**
 * rd_device_actions_sync_device_async:
 * @device: a managed device
 *
 * Asks Intune to have the device check in now (POST .../syncDevice), which
 * speeds up a pending wipe (§2). Audited like the wipes.
 */
void
rd_device_actions_sync_device_async (RdDeviceActions     *self,
                                     RdDevice            *device,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  SyncData *data;

  g_return_if_fail (RD_IS_DEVICE_ACTIONS (self));
  g_return_if_fail (RD_IS_DEVICE (device));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_device_actions_sync_device_async);

  data = g_new0 (SyncData, 1);
  data->device = g_object_ref (device);
  data->path = dup_device_path (rd_device_get_id (device), "syncDevice");
  g_task_set_task_data (task, data, (GDestroyNotify) sync_data_free);

  if (g_task_return_error_if_cancelled (task))
    return;

  send_within_write_limit (g_steal_pointer (&task), sync_send);
}

gboolean
rd_device_actions_sync_device_finish (RdDeviceActions  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
    g_task_get_source_tag (G_TASK (result)) == rd_device_actions_sync_device_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Interrupted sends */

/**
 * rd_device_actions_find_interrupted:
 *
 * Returns: (transfer full) (element-type RdPlan): the plans in "sending",
 *   whose request may or may not have reached Intune
 */
GPtrArray *
rd_device_actions_find_interrupted (RdDeviceActions *self)
{
  g_autoptr (GPtrArray) plans = NULL;
  GPtrArray *interrupted;

  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), NULL);

  plans = rd_board_dup_plans (self->board);
  interrupted = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);

      if (rd_plan_get_state (plan) == RD_PLAN_STATE_SENDING)
        g_ptr_array_add (interrupted, g_object_ref (plan));
    }

  return interrupted;
}

/**
 * rd_device_actions_resolve_interrupted:
 * @plan: a plan in "sending"
 * @was_sent: what the admin found in Intune
 *
 * Records the admin's answer: "sent" (follow it from there) or "failed"
 * (it may be made ready and sent again, by the admin). The decision goes to
 * the audit log. Nothing is sent.
 */
gboolean
rd_device_actions_resolve_interrupted (RdDeviceActions  *self,
                                       RdPlan           *plan,
                                       gboolean          was_sent,
                                       GError          **error)
{
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autofree char *message = NULL;

  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), FALSE);
  g_return_val_if_fail (RD_IS_PLAN (plan), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (rd_plan_get_state (plan) != RD_PLAN_STATE_SENDING || !plan_is_on_board (self, plan))
    {
      g_set_error (error, RD_DEVICE_ACTIONS_ERROR, RD_DEVICE_ACTIONS_ERROR_NOT_INTERRUPTED,
                   _ ("The plan for “%s” is not waiting for a decision about an interrupted "
                      "send."),
                   plan_display_name (plan));
      return FALSE;
    }

  if (was_sent)
    rd_plan_set_last_error (plan, NULL);
  else
    {
      message = g_strdup_printf (_ ("The wipe was interrupted and did not reach Intune, as %s "
                                    "confirmed."),
                                 self->user != NULL ? self->user : _ ("the admin"));
      rd_plan_set_last_error (plan, message);
    }

  if (!rd_board_transition_plan (self->board, plan,
                                 was_sent ? RD_PLAN_STATE_SENT : RD_PLAN_STATE_FAILED, error))
    return FALSE;

  rd_device_actions_describe_request (plan, NULL, &path, &body);
  audit_wipe (self, plan, path, body, 0, NULL, NULL,
              was_sent ? "confirmed-sent" : "confirmed-not-sent");

  return TRUE;
}

/* Reimage */

/**
 * rd_device_actions_check_re_enrollment:
 * @fresh_devices: (element-type RdDevice): the devices of a fresh sync
 *
 * A reimaged device enrolls again, usually under a new Intune id; its serial
 * number is what stays. The plan's last update (when it reached "awaiting
 * re-enrollment", unless edited since) is the time to beat. On a save
 * error, the plans completed before it stay completed.
 *
 * Returns: how many plans moved to "done"
 */
guint
rd_device_actions_check_re_enrollment (RdDeviceActions  *self,
                                       GPtrArray        *fresh_devices,
                                       GError          **error)
{
  g_autoptr (GPtrArray) plans = NULL;
  guint n_done = 0;

  g_return_val_if_fail (RD_IS_DEVICE_ACTIONS (self), 0);
  g_return_val_if_fail (fresh_devices != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  plans = rd_board_dup_plans (self->board);
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      const char *serial = rd_plan_get_device_serial (plan);
      g_autofree char *wanted = NULL;
      GDateTime *since = rd_plan_get_updated (plan);

      if (rd_plan_get_state (plan) != RD_PLAN_STATE_AWAITING_RE_ENROLLMENT || serial == NULL ||
          *serial == '\0')
        continue;

      wanted = g_utf8_casefold (serial, -1);
      for (guint j = 0; j < fresh_devices->len; j++)
        {
          RdDevice *device = g_ptr_array_index (fresh_devices, j);
          const char *device_serial = rd_device_get_serial (device);
          GDateTime *enrolled = rd_device_get_enrolled (device);
          g_autofree char *folded = NULL;

          if (device_serial == NULL || enrolled == NULL ||
              g_date_time_compare (enrolled, since) <= 0)
            continue;

          folded = g_utf8_casefold (device_serial, -1);
          if (strcmp (folded, wanted) != 0)
            continue;

          if (!rd_board_transition_plan (self->board, plan, RD_PLAN_STATE_DONE, error))
            return n_done;
          n_done++;
          break;
        }
    }

  return n_done;
}
