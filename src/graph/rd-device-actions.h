/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-audit-log.h"
#include "rd-board.h"
#include "rd-graph-client.h"

G_BEGIN_DECLS

/* Why RdDeviceActions refused or could not finish an action. Errors from
 * Graph itself (403, 409, ...) come back in RD_GRAPH_ERROR, with their
 * request-id in the error's details. */
#define RD_DEVICE_ACTIONS_ERROR (rd_device_actions_error_quark ())

typedef enum
{
  RD_DEVICE_ACTIONS_ERROR_UNSUPPORTED_METHOD, /* not a wipe method: nothing sent */
  RD_DEVICE_ACTIONS_ERROR_NOT_READY,          /* the plan is not "ready": nothing sent */
  RD_DEVICE_ACTIONS_ERROR_ALREADY_SENT,       /* the plan was sent (or is being sent): nothing sent */
  RD_DEVICE_ACTIONS_ERROR_BLOCKED,            /* readiness has a blocker: nothing sent */
  RD_DEVICE_ACTIONS_ERROR_WIPE_PENDING,       /* the device already has a wipe pending: nothing sent */
  RD_DEVICE_ACTIONS_ERROR_NO_DEVICE,          /* the plan's device is not on the board: nothing sent */
  RD_DEVICE_ACTIONS_ERROR_NOT_SAVED,          /* "sending" could not be saved: nothing sent */
  RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN,    /* the request may or may not have been carried out;
                                                 the plan stays "sending" for the admin to check */
  RD_DEVICE_ACTIONS_ERROR_NOT_INTERRUPTED,    /* resolve_interrupted on a plan not in "sending" */
  RD_DEVICE_ACTIONS_ERROR_ACTION_FAILED,      /* Intune reports the sent action failed */
} RdDeviceActionsError;

GQuark rd_device_actions_error_quark (void);

#define RD_TYPE_DEVICE_ACTIONS (rd_device_actions_get_type ())

G_DECLARE_FINAL_TYPE (RdDeviceActions, rd_device_actions, RD, DEVICE_ACTIONS, GObject)

RdDeviceActions *rd_device_actions_new                    (RdGraphClient        *client,
                                                           RdBoard              *board,
                                                           RdAuditLog           *audit_log,
                                                           const char           *user,
                                                           const char           *tenant);

RdGraphClient   *rd_device_actions_get_client             (RdDeviceActions      *self);
RdBoard         *rd_device_actions_get_board              (RdDeviceActions      *self);
RdAuditLog      *rd_device_actions_get_audit_log          (RdDeviceActions      *self);
const char      *rd_device_actions_get_user               (RdDeviceActions      *self);
const char      *rd_device_actions_get_tenant             (RdDeviceActions      *self);

/* The exact request a plan sends: "POST", the path relative to the version
 * root, and the JSON body. FALSE (and nothing set) for a method that sends
 * nothing through Graph. For "plan show" and the review dialog. */
gboolean         rd_device_actions_describe_request       (RdPlan               *plan,
                                                           char                **method,
                                                           char                **path,
                                                           char                **body);

/* Sends the plan's wipe once. Completes when Graph has answered: TRUE with
 * the plan "sent"; FALSE with the plan unchanged (refused,
 * RD_DEVICE_ACTIONS_ERROR), "failed" (an RD_GRAPH_ERROR), or still "sending"
 * (RD_DEVICE_ACTIONS_ERROR_OUTCOME_UNKNOWN). Does not follow the action:
 * call rd_device_actions_follow_async() for that. */
void             rd_device_actions_run_async              (RdDeviceActions      *self,
                                                           RdPlan               *plan,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean         rd_device_actions_run_finish             (RdDeviceActions      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* Sends several plans through $batch within Intune's write limit, each plan
 * under the same rules as rd_device_actions_run_async(). The result is an
 * array parallel to @plans holding NULL for each plan sent and a GError for
 * each plan that was not (free it with g_ptr_array_unref()); plans left out
 * by cancelling carry G_IO_ERROR_CANCELLED and are unchanged. */
void             rd_device_actions_run_many_async         (RdDeviceActions      *self,
                                                           GPtrArray            *plans,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
GPtrArray       *rd_device_actions_run_many_finish        (RdDeviceActions      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* Follows a "sent" or "pending" plan by polling its device with backoff
 * until Intune reports the action done (TRUE, plan "done") or failed (FALSE,
 * RD_DEVICE_ACTIONS_ERROR_ACTION_FAILED, plan "failed"). Cancelling stops
 * the polling and leaves the plan as it is. */
void             rd_device_actions_follow_async           (RdDeviceActions      *self,
                                                           RdPlan               *plan,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean         rd_device_actions_follow_finish          (RdDeviceActions      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* POST .../syncDevice, audited. */
void             rd_device_actions_sync_device_async      (RdDeviceActions      *self,
                                                           RdDevice             *device,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean         rd_device_actions_sync_device_finish     (RdDeviceActions      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* Plans left in "sending" (after a crash, or a dropped connection): never
 * sent again automatically. The admin checks in Intune and tells which way
 * it went: sent → "sent" (then follow it), not sent → "failed" (it can be
 * made ready and sent again). Returns a new array of RdPlan references. */
GPtrArray       *rd_device_actions_find_interrupted       (RdDeviceActions      *self);
gboolean         rd_device_actions_resolve_interrupted    (RdDeviceActions      *self,
                                                           RdPlan               *plan,
                                                           gboolean              was_sent,
                                                           GError              **error);

/* Moves each "awaiting-re-enrollment" plan whose device's serial number
 * (case-insensitive) appears in @fresh_devices (RdDevice) enrolled after the
 * plan reached that state to "done". Returns how many plans completed. */
guint            rd_device_actions_check_re_enrollment    (RdDeviceActions      *self,
                                                           GPtrArray            *fresh_devices,
                                                           GError              **error);

/* Polling backoff (default 2 s doubling to 60 s) and Intune's write limit
 * (default 200 writes per 20 s per tenant). Both are settable for tests. */
void             rd_device_actions_set_poll_interval      (RdDeviceActions      *self,
                                                           guint                 initial_msec,
                                                           guint                 max_msec);
void             rd_device_actions_set_write_limit        (RdDeviceActions      *self,
                                                           guint                 max_writes,
                                                           guint                 period_msec);

G_END_DECLS
