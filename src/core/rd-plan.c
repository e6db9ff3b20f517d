/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-plan"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "rd-plan.h"
#include "rd-plan-private.h"
#include "rd-core-error.h"
#include "rd-method.h"

#include <string.h>

/* A recovery plan: one device, in one lane, with one method, moving through
 * a state machine that admits only legal transitions. Sending a wipe twice
 * is what the machine exists to prevent: once a plan is "sending", the only
 * ways on are forward. */

struct _RdPlan
{
  GObject parent_instance;

  RdDevice *device;
  char *device_id;
  char *device_name;
  char *device_serial;
  RdLane lane;
  RdMethod method;
  RdPlanState state;
  GDateTime *created;
  GDateTime *updated;
  char *notes;
  char *last_error;
  GPtrArray *request_ids;
  char *usb_image_name;
  char *usb_image_sha256;
  char *usb_drive_serial;
};

G_DEFINE_FINAL_TYPE (RdPlan, rd_plan, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DEVICE,
  PROP_DEVICE_ID,
  PROP_DEVICE_NAME,
  PROP_LANE,
  PROP_METHOD,
  PROP_STATE,
  PROP_UPDATED,
  PROP_NOTES,
  PROP_LAST_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define STATE_BIT(s) (1u << (s))

/* The states each state may move to, for every method. */
static const guint common_transitions[] = {
  [RD_PLAN_STATE_DRAFT] = STATE_BIT (RD_PLAN_STATE_READY) | STATE_BIT (RD_PLAN_STATE_BLOCKED) |
                          STATE_BIT (RD_PLAN_STATE_CANCELLED),
  [RD_PLAN_STATE_READY] = STATE_BIT (RD_PLAN_STATE_DRAFT) | STATE_BIT (RD_PLAN_STATE_BLOCKED) |
                          STATE_BIT (RD_PLAN_STATE_CANCELLED),
  [RD_PLAN_STATE_BLOCKED] = STATE_BIT (RD_PLAN_STATE_DRAFT) | STATE_BIT (RD_PLAN_STATE_READY) |
                            STATE_BIT (RD_PLAN_STATE_CANCELLED),
  [RD_PLAN_STATE_SENDING] = 0,
  [RD_PLAN_STATE_SENT] = 0,
  [RD_PLAN_STATE_PENDING] = 0,
  [RD_PLAN_STATE_DONE] = 0,
  [RD_PLAN_STATE_FAILED] = STATE_BIT (RD_PLAN_STATE_DRAFT) | STATE_BIT (RD_PLAN_STATE_READY) |
                           STATE_BIT (RD_PLAN_STATE_BLOCKED) | STATE_BIT (RD_PLAN_STATE_CANCELLED),
  [RD_PLAN_STATE_CANCELLED] = 0,
  [RD_PLAN_STATE_USB_PREPARED] = 0,
  [RD_PLAN_STATE_AWAITING_RE_ENROLLMENT] = 0,
};

/* A wipe (Break and Fix, Autopilot Reset) is sent through Graph and then
 * followed until Intune reports it done. A plan found in "sending" after a
 * crash may have reached Intune or not: the admin checks, then marks it sent
 * or failed; it is never sent again from there. */
static const guint wipe_transitions[] = {
  [RD_PLAN_STATE_READY] = STATE_BIT (RD_PLAN_STATE_SENDING),
  [RD_PLAN_STATE_SENDING] = STATE_BIT (RD_PLAN_STATE_SENT) | STATE_BIT (RD_PLAN_STATE_FAILED),
  [RD_PLAN_STATE_SENT] = STATE_BIT (RD_PLAN_STATE_PENDING) | STATE_BIT (RD_PLAN_STATE_DONE) |
                         STATE_BIT (RD_PLAN_STATE_FAILED),
  [RD_PLAN_STATE_PENDING] = STATE_BIT (RD_PLAN_STATE_DONE) | STATE_BIT (RD_PLAN_STATE_FAILED),
  [RD_PLAN_STATE_AWAITING_RE_ENROLLMENT] = 0,
};

/* A reimage is done by hand with a USB key; the plan records the key, then
 * waits for the device's serial to enroll again. */
static const guint reimage_transitions[] = {
  [RD_PLAN_STATE_READY] = STATE_BIT (RD_PLAN_STATE_USB_PREPARED),
  [RD_PLAN_STATE_USB_PREPARED] = STATE_BIT (RD_PLAN_STATE_READY) |
                                 STATE_BIT (RD_PLAN_STATE_AWAITING_RE_ENROLLMENT) |
                                 STATE_BIT (RD_PLAN_STATE_CANCELLED),
  [RD_PLAN_STATE_AWAITING_RE_ENROLLMENT] = STATE_BIT (RD_PLAN_STATE_DONE) |
                                           STATE_BIT (RD_PLAN_STATE_FAILED),
};

G_STATIC_ASSERT (G_N_ELEMENTS (common_transitions) == RD_PLAN_STATE_AWAITING_RE_ENROLLMENT + 1);

static guint
allowed_from (RdMethod    method,
              RdPlanState from)
{
  guint allowed = common_transitions[from];

  if (rd_method_is_reimage (method))
    {
      if (from < G_N_ELEMENTS (reimage_transitions))
        allowed |= reimage_transitions[from];
    }
  else if (from < G_N_ELEMENTS (wipe_transitions))
    allowed |= wipe_transitions[from];

  return allowed;
}

/* Whether @state can occur at all for @method. */
static gboolean
state_fits_method (RdPlanState state,
                   RdMethod    method)
{
  switch (state)
    {
    case RD_PLAN_STATE_SENDING:
    case RD_PLAN_STATE_SENT:
    case RD_PLAN_STATE_PENDING:
      return !rd_method_is_reimage (method);
    case RD_PLAN_STATE_USB_PREPARED:
    case RD_PLAN_STATE_AWAITING_RE_ENROLLMENT:
      return rd_method_is_reimage (method);
    case RD_PLAN_STATE_DRAFT:
    case RD_PLAN_STATE_READY:
    case RD_PLAN_STATE_BLOCKED:
    case RD_PLAN_STATE_DONE:
    case RD_PLAN_STATE_FAILED:
    case RD_PLAN_STATE_CANCELLED:
    default:
      return TRUE;
    }
}

static void
touch (RdPlan *self)
{
  g_clear_pointer (&self->updated, g_date_time_unref);
  self->updated = g_date_time_new_now_utc ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED]);
}

static void
rd_plan_dispose (GObject *object)
{
  RdPlan *self = (RdPlan *) object;

  g_clear_object (&self->device);

  G_OBJECT_CLASS (rd_plan_parent_class)->dispose (object);
}

static void
rd_plan_finalize (GObject *object)
{
  RdPlan *self = (RdPlan *) object;

  g_free (self->device_id);
  g_free (self->device_name);
  g_free (self->device_serial);
  g_clear_pointer (&self->created, g_date_time_unref);
  g_clear_pointer (&self->updated, g_date_time_unref);
  g_free (self->notes);
  g_free (self->last_error);
  g_ptr_array_unref (self->request_ids);
  g_free (self->usb_image_name);
  g_free (self->usb_image_sha256);
  g_free (self->usb_drive_serial);

  G_OBJECT_CLASS (rd_plan_parent_class)->finalize (object);
}

static void
rd_plan_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  RdPlan *self = RD_PLAN (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    case PROP_DEVICE_ID:
      g_value_set_string (value, self->device_id);
      break;
    case PROP_DEVICE_NAME:
      g_value_set_string (value, self->device_name);
      break;
    case PROP_LANE:
      g_value_set_enum (value, self->lane);
      break;
    case PROP_METHOD:
      g_value_set_enum (value, self->method);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_UPDATED:
      g_value_set_boxed (value, self->updated);
      break;
    case PROP_NOTES:
      g_value_set_string (value, self->notes);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_plan_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  RdPlan *self = RD_PLAN (object);

  switch (prop_id)
    {
    case PROP_NOTES:
      rd_plan_set_notes (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_plan_class_init (RdPlanClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_plan_dispose;
  object_class->finalize = rd_plan_finalize;
  object_class->get_property = rd_plan_get_property;
  object_class->set_property = rd_plan_set_property;

  properties[PROP_DEVICE] = g_param_spec_object ("device", NULL, NULL, RD_TYPE_DEVICE, ro);
  properties[PROP_DEVICE_ID] = g_param_spec_string ("device-id", NULL, NULL, NULL, ro);
  properties[PROP_DEVICE_NAME] = g_param_spec_string ("device-name", NULL, NULL, NULL, ro);
  properties[PROP_LANE] =
    g_param_spec_enum ("lane", NULL, NULL, RD_TYPE_LANE, RD_LANE_BREAK_FIX, ro);
  properties[PROP_METHOD] =
    g_param_spec_enum ("method", NULL, NULL, RD_TYPE_METHOD, RD_METHOD_WIPE_RETAIN, ro);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, RD_TYPE_PLAN_STATE, RD_PLAN_STATE_DRAFT, ro);
  properties[PROP_UPDATED] = g_param_spec_boxed ("updated", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_NOTES] =
    g_param_spec_string ("notes", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_plan_init (RdPlan *self)
{
  self->request_ids = g_ptr_array_new_with_free_func (g_free);
  self->state = RD_PLAN_STATE_DRAFT;
}

/**
 * rd_plan_new:
 * @device: the device
 * @lane: %RD_LANE_BREAK_FIX or %RD_LANE_REUSE
 * @method: a method of @lane
 *
 * Returns: (transfer full): a draft plan
 */
RdPlan *
rd_plan_new (RdDevice *device,
             RdLane    lane,
             RdMethod  method)
{
  RdPlan *self;

  g_return_val_if_fail (RD_IS_DEVICE (device), NULL);
  g_return_val_if_fail (lane != RD_LANE_INVENTORY, NULL);
  g_return_val_if_fail (rd_method_get_lane (method) == lane, NULL);

  self = g_object_new (RD_TYPE_PLAN, NULL);
  self->lane = lane;
  self->method = method;
  self->created = g_date_time_new_now_utc ();
  self->updated = g_date_time_ref (self->created);
  rd_plan_set_device (self, device);

  return self;
}

const char *
rd_plan_get_device_id (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->device_id;
}

const char *
rd_plan_get_device_name (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->device_name;
}

const char *
rd_plan_get_device_serial (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->device_serial;
}

/**
 * rd_plan_get_device:
 *
 * Returns: (nullable) (transfer none): the device, or %NULL for a plan
 *   loaded from disk whose device the inventory has not yet shown
 */
RdDevice *
rd_plan_get_device (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->device;
}

/**
 * rd_plan_set_device:
 *
 * Attaches the live device object. The plan keeps the device's id, name and
 * serial too, so it still names the device when the inventory does not.
 */
void
rd_plan_set_device (RdPlan   *self,
                    RdDevice *device)
{
  g_return_if_fail (RD_IS_PLAN (self));
  g_return_if_fail (RD_IS_DEVICE (device));
  g_return_if_fail (self->device_id == NULL ||
                    g_strcmp0 (self->device_id, rd_device_get_id (device)) == 0);

  if (g_set_object (&self->device, device))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);

  if (self->device_id == NULL)
    {
      self->device_id = g_strdup (rd_device_get_id (device));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_ID]);
    }

  if (g_strcmp0 (self->device_name, rd_device_get_name (device)) != 0)
    {
      g_free (self->device_name);
      self->device_name = g_strdup (rd_device_get_name (device));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_NAME]);
    }

  if (rd_device_get_serial (device) != NULL)
    {
      g_free (self->device_serial);
      self->device_serial = g_strdup (rd_device_get_serial (device));
    }
}

RdLane
rd_plan_get_lane (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), RD_LANE_INVENTORY);

  return self->lane;
}

RdMethod
rd_plan_get_method (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), RD_METHOD_WIPE_RETAIN);

  return self->method;
}

/**
 * rd_plan_set_method:
 *
 * Changes the method of a plan that has not been acted on. The plan goes
 * back to draft, so its readiness must be evaluated again.
 */
gboolean
rd_plan_set_method (RdPlan    *self,
                    RdMethod   method,
                    GError   **error)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);

  if (method == self->method)
    return TRUE;

  if (rd_method_get_lane (method) != self->lane)
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_METHOD_NOT_IN_LANE,
                   _("“%s” is not a method of the %s lane. Move the device to the %s lane first."),
                   rd_method_get_title (method), rd_lane_get_title (self->lane),
                   rd_lane_get_title (rd_method_get_lane (method)));
      return FALSE;
    }

  if (!rd_plan_is_editable (self))
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION,
                   _("The method of %s cannot change while its plan is %s."), self->device_name,
                   rd_plan_state_to_string (self->state));
      return FALSE;
    }

  self->method = method;
  self->state = RD_PLAN_STATE_DRAFT;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METHOD]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  touch (self);

  return TRUE;
}

RdPlanState
rd_plan_get_state (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), RD_PLAN_STATE_DRAFT);

  return self->state;
}

gboolean
rd_plan_can_transition (RdPlan      *self,
                        RdPlanState  state)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);

  if ((guint) state > RD_PLAN_STATE_AWAITING_RE_ENROLLMENT)
    return FALSE;

  /* Only rd_plan_record_usb_key() reaches usb-prepared, with the key. */
  if (state == RD_PLAN_STATE_USB_PREPARED)
    return FALSE;

  return (allowed_from (self->method, self->state) & STATE_BIT (state)) != 0;
}

/**
 * rd_plan_transition:
 *
 * Moves the plan to @state when the state machine allows it. An illegal
 * transition changes nothing and is reported in @error.
 */
gboolean
rd_plan_transition (RdPlan       *self,
                    RdPlanState   state,
                    GError      **error)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);

  if (state == self->state)
    return TRUE;

  if (!rd_plan_can_transition (self, state))
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION,
                   _("The plan for %s cannot go from %s to %s."),
                   self->device_name ? self->device_name : self->device_id,
                   rd_plan_state_to_string (self->state), rd_plan_state_to_string (state));
      return FALSE;
    }

  self->state = state;
  if (state == RD_PLAN_STATE_READY && self->usb_image_name != NULL)
    {
      /* Going back from usb-prepared: the key is no longer vouched for. */
      g_clear_pointer (&self->usb_image_name, g_free);
      g_clear_pointer (&self->usb_image_sha256, g_free);
      g_clear_pointer (&self->usb_drive_serial, g_free);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  touch (self);

  return TRUE;
}

/*
 * _rd_plan_restore_state:
 *
 * Puts back the state a plan had before a transition whose save failed, so
 * that memory and disk agree. Not a transition: only RdBoard calls it, right
 * after the transition it undoes.
 */
void
_rd_plan_restore_state (RdPlan      *self,
                        RdPlanState  state)
{
  g_return_if_fail (RD_IS_PLAN (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/**
 * _rd_plan_restore_usb_key:
 *
 * Puts back the state and the USB key a plan had before rd_plan_record_usb_key() whose save
 * failed. Only RdBoard calls it, right after the recording it undoes.
 */
void
_rd_plan_restore_usb_key (RdPlan      *self,
                          RdPlanState  state,
                          const char  *image_name,
                          const char  *image_sha256,
                          const char  *drive_serial)
{
  g_return_if_fail (RD_IS_PLAN (self));

  g_free (self->usb_image_name);
  self->usb_image_name = g_strdup (image_name);
  g_free (self->usb_image_sha256);
  self->usb_image_sha256 = g_strdup (image_sha256);
  g_free (self->usb_drive_serial);
  self->usb_drive_serial = g_strdup (drive_serial);
  _rd_plan_restore_state (self, state);
}

/**
 * rd_plan_is_editable:
 *
 * Returns: whether nothing has been done for the plan yet, so its method may
 *   change and it may be dropped
 */
gboolean
rd_plan_is_editable (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);

  return self->state == RD_PLAN_STATE_DRAFT || self->state == RD_PLAN_STATE_READY ||
         self->state == RD_PLAN_STATE_BLOCKED || self->state == RD_PLAN_STATE_FAILED;
}

/**
 * rd_plan_is_in_flight:
 *
 * Returns: whether an action has left for the device (or may have) and has
 *   not finished: such a plan cannot be moved or dropped
 */
gboolean
rd_plan_is_in_flight (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);

  return self->state == RD_PLAN_STATE_SENDING || self->state == RD_PLAN_STATE_SENT ||
         self->state == RD_PLAN_STATE_PENDING ||
         self->state == RD_PLAN_STATE_AWAITING_RE_ENROLLMENT;
}

gboolean
rd_plan_is_closed (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);

  return self->state == RD_PLAN_STATE_DONE || self->state == RD_PLAN_STATE_CANCELLED;
}

GDateTime *
rd_plan_get_created (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->created;
}

GDateTime *
rd_plan_get_updated (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->updated;
}

const char *
rd_plan_get_notes (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->notes;
}

void
rd_plan_set_notes (RdPlan     *self,
                   const char *notes)
{
  g_return_if_fail (RD_IS_PLAN (self));

  if (g_strcmp0 (self->notes, notes) == 0)
    return;

  g_free (self->notes);
  self->notes = g_strdup (notes);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTES]);
  touch (self);
}

const char *
rd_plan_get_last_error (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->last_error;
}

void
rd_plan_set_last_error (RdPlan     *self,
                        const char *message)
{
  g_return_if_fail (RD_IS_PLAN (self));

  if (g_strcmp0 (self->last_error, message) == 0)
    return;

  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

/**
 * rd_plan_get_request_ids:
 *
 * Returns: (array zero-terminated=1) (transfer none): the `request-id`s of
 *   the Graph requests sent for this plan, oldest first
 */
const char *const *
rd_plan_get_request_ids (RdPlan *self)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (RD_IS_PLAN (self), none);

  if (self->request_ids->len == 0)
    return none;

  /* Keep the array NULL-terminated without counting the terminator. */
  g_ptr_array_add (self->request_ids, NULL);
  g_ptr_array_set_size (self->request_ids, self->request_ids->len - 1);

  return (const char *const *) self->request_ids->pdata;
}

void
rd_plan_add_request_id (RdPlan     *self,
                        const char *request_id)
{
  g_return_if_fail (RD_IS_PLAN (self));
  g_return_if_fail (request_id != NULL && *request_id != '\0');

  g_ptr_array_add (self->request_ids, g_strdup (request_id));
  touch (self);
}

static gboolean
is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;

  for (; *s != '\0'; s++)
    if (!g_ascii_isxdigit (*s))
      return FALSE;

  return TRUE;
}

/**
 * rd_plan_record_usb_key:
 * @image_name: the image written to the key
 * @image_sha256: its SHA-256, in hex
 * @drive_serial: the serial number of the USB drive
 *
 * Records a verified USB key for a reimage plan that is ready, and moves the
 * plan to usb-prepared.
 */
gboolean
rd_plan_record_usb_key (RdPlan      *self,
                        const char  *image_name,
                        const char  *image_sha256,
                        const char  *drive_serial,
                        GError     **error)
{
  g_return_val_if_fail (RD_IS_PLAN (self), FALSE);
  g_return_val_if_fail (image_name != NULL, FALSE);

  if (!is_sha256_hex (image_sha256))
    {
      g_set_error_literal (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                           _("The image hash is not a SHA-256 digest."));
      return FALSE;
    }

  if ((allowed_from (self->method, self->state) & STATE_BIT (RD_PLAN_STATE_USB_PREPARED)) == 0)
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION,
                   _("A USB key can only be recorded for a reimage plan that is ready; the plan "
                     "for %s is %s."),
                   self->device_name ? self->device_name : self->device_id,
                   rd_plan_state_to_string (self->state));
      return FALSE;
    }

  g_free (self->usb_image_name);
  self->usb_image_name = g_strdup (image_name);
  g_free (self->usb_image_sha256);
  self->usb_image_sha256 = g_ascii_strdown (image_sha256, -1);
  g_free (self->usb_drive_serial);
  self->usb_drive_serial = g_strdup (drive_serial);

  self->state = RD_PLAN_STATE_USB_PREPARED;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  touch (self);

  return TRUE;
}

const char *
rd_plan_get_usb_image_name (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->usb_image_name;
}

const char *
rd_plan_get_usb_image_sha256 (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->usb_image_sha256;
}

const char *
rd_plan_get_usb_drive_serial (RdPlan *self)
{
  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  return self->usb_drive_serial;
}

const char *
rd_plan_state_to_string (RdPlanState state)
{
  const char *nick = rd_enum_to_nick (RD_TYPE_PLAN_STATE, state);

  return nick != NULL ? nick : "invalid";
}

/* JSON */

static void
add_string_member (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_time_member (JsonBuilder *builder,
                 const char  *name,
                 GDateTime   *value)
{
  g_autofree char *s = value != NULL ? g_date_time_format_iso8601 (value) : NULL;

  add_string_member (builder, name, s);
}

JsonNode *
rd_plan_to_json (RdPlan *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (RD_IS_PLAN (self), NULL);

  json_builder_begin_object (builder);
  add_string_member (builder, "deviceId", self->device_id);
  add_string_member (builder, "deviceName", self->device_name);
  add_string_member (builder, "deviceSerial", self->device_serial);
  add_string_member (builder, "lane", rd_lane_to_string (self->lane));
  add_string_member (builder, "method", rd_method_to_string (self->method));
  add_string_member (builder, "state", rd_plan_state_to_string (self->state));
  add_time_member (builder, "created", self->created);
  add_time_member (builder, "updated", self->updated);
  add_string_member (builder, "notes", self->notes);
  add_string_member (builder, "lastError", self->last_error);

  json_builder_set_member_name (builder, "requestIds");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->request_ids->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->request_ids, i));
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "usbKey");
  if (self->usb_image_name != NULL)
    {
      json_builder_begin_object (builder);
      add_string_member (builder, "imageName", self->usb_image_name);
      add_string_member (builder, "imageSha256", self->usb_image_sha256);
      add_string_member (builder, "driveSerial", self->usb_drive_serial);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Reads an optional string member; anything but a string or null is an
 * error. */
static gboolean
get_string (JsonObject  *object,
            const char  *name,
            gboolean     required,
            char       **out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (!required)
        return TRUE;
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      *out = g_strdup (json_node_get_string (node));
      return TRUE;
    }

  g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
               _("A saved plan has a missing or invalid “%s”."), name);
  return FALSE;
}

static gboolean
get_time (JsonObject  *object,
          const char  *name,
          GDateTime  **out,
          GError     **error)
{
  g_autofree char *s = NULL;

  if (!get_string (object, name, TRUE, &s, error))
    return FALSE;

  *out = g_date_time_new_from_iso8601 (s, NULL);
  if (*out == NULL)
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                   _("A saved plan has a missing or invalid “%s”."), name);
      return FALSE;
    }

  return TRUE;
}

/**
 * rd_plan_new_from_json:
 * @object: a plan in the form rd_plan_to_json() writes
 *
 * Returns: (transfer full): the plan, without its device until
 *   rd_plan_set_device() attaches it, or %NULL when @object is not a valid
 *   plan
 */
RdPlan *
rd_plan_new_from_json (JsonObject  *object,
                       GError     **error)
{
  g_autoptr(RdPlan) self = g_object_new (RD_TYPE_PLAN, NULL);
  g_autofree char *lane = NULL;
  g_autofree char *method = NULL;
  g_autofree char *state = NULL;
  int state_value;
  JsonNode *node;

  g_return_val_if_fail (object != NULL, NULL);

  if (!get_string (object, "deviceId", TRUE, &self->device_id, error) ||
      !get_string (object, "deviceName", FALSE, &self->device_name, error) ||
      !get_string (object, "deviceSerial", FALSE, &self->device_serial, error) ||
      !get_string (object, "lane", TRUE, &lane, error) ||
      !get_string (object, "method", TRUE, &method, error) ||
      !get_string (object, "state", TRUE, &state, error) ||
      !get_time (object, "created", &self->created, error) ||
      !get_time (object, "updated", &self->updated, error) ||
      !get_string (object, "notes", FALSE, &self->notes, error) ||
      !get_string (object, "lastError", FALSE, &self->last_error, error))
    return NULL;

  if (!rd_lane_from_string (lane, &self->lane) || self->lane == RD_LANE_INVENTORY ||
      !rd_method_from_string (method, &self->method) ||
      rd_method_get_lane (self->method) != self->lane ||
      !rd_enum_from_nick (RD_TYPE_PLAN_STATE, state, &state_value) ||
      !state_fits_method (state_value, self->method))
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                   _("The saved plan for %s has an impossible lane, method or state "
                     "(%s, %s, %s)."),
                   self->device_id, lane, method, state);
      return NULL;
    }
  self->state = state_value;

  node = json_object_get_member (object, "requestIds");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          const char *id = NULL;

          if (JSON_NODE_HOLDS_VALUE (element) &&
              json_node_get_value_type (element) == G_TYPE_STRING)
            id = json_node_get_string (element);
          if (id == NULL)
            {
              g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                           _("A saved plan has a missing or invalid “%s”."), "requestIds");
              return NULL;
            }
          g_ptr_array_add (self->request_ids, g_strdup (id));
        }
    }

  node = json_object_get_member (object, "usbKey");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *key = json_node_get_object (node);

      if (!get_string (key, "imageName", TRUE, &self->usb_image_name, error) ||
          !get_string (key, "imageSha256", TRUE, &self->usb_image_sha256, error) ||
          !get_string (key, "driveSerial", FALSE, &self->usb_drive_serial, error))
        return NULL;
      if (!is_sha256_hex (self->usb_image_sha256))
        {
          g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                       _("A saved plan has a missing or invalid “%s”."), "imageSha256");
          return NULL;
        }
    }

  if (self->state == RD_PLAN_STATE_USB_PREPARED && self->usb_image_name == NULL)
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                   _("A saved plan has a missing or invalid “%s”."), "usbKey");
      return NULL;
    }

  return g_steal_pointer (&self);
}
