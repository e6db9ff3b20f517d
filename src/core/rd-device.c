/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device"

#include "config.h"

#include "rd-device.h"
#include "rd-device-private.h"
#include "rd-core-error.h"
#include "rd-method.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* A device is the set of triage facts Recovery Desk reads from Graph. Every
 * fact is a property described once in the table below, which drives the
 * GObject properties, the JSON form (the inventory cache and the CLI's
 * output) and rd_device_update_from(). */

/* A date as a device keeps it: microseconds since 1970 in UTC, or
 * %RD_DEVICE_NO_DATE, and the GDateTime made of it when first asked for. */
typedef struct
{
  gint64 usec;
  GDateTime *dt;
} RdDeviceDate;

struct _RdDevice
{
  GObject parent_instance;

  char *id;
  char *name;
  char *entra_device_id;
  char *serial;
  char *manufacturer;
  char *model;
  char *operating_system;
  char *os_version;
  char *user_principal_name;
  char *user_display_name;
  int compliance;
  char *management_agent;
  int owner_type;
  int join_type;
  char *enrollment_type;
  RdDeviceDate enrolled;
  RdDeviceDate last_sync;
  int encrypted;
  int escrowed_keys;
  int autopilot;
  char *autopilot_state;
  char *tpm_version;
  int encryption_readiness;
  int winre_state;
  int management_state;

  int os_build;
  /* GRefStrings, so that a list model's worker can hold them while the
   * main thread replaces them. */
  char *search_text;
  char *sort_key;
  /* The strings _rd_device_new_from_facts() copied, in one allocation;
   * a string set later is allocated on its own. */
  char *block;
  gsize block_size;
  /* Counts changes of any fact, so that a list model sees which devices
   * changed without a signal per device. */
  guint revision;
};

G_DEFINE_FINAL_TYPE (RdDevice, rd_device, G_TYPE_OBJECT)

/* Dates */

/* The GDateTime range, in microseconds since 1970: 0001-01-01 to the end
 * of 9999-12-31. */
#define DATE_MIN_USEC (G_GINT64_CONSTANT (-62135596800) * G_USEC_PER_SEC)
#define DATE_MAX_USEC ((G_GINT64_CONSTANT (253402300800) * G_USEC_PER_SEC) - 1)

/**
 * _rd_device_date_is_valid:
 * @usec: microseconds since 1970-01-01T00:00:00Z
 *
 * Returns: whether a #GDateTime can hold @usec
 */
gboolean
_rd_device_date_is_valid (gint64 usec)
{
  return usec >= DATE_MIN_USEC && usec <= DATE_MAX_USEC;
}

/**
 * _rd_device_date_from_usec:
 * @usec: microseconds since 1970-01-01T00:00:00Z
 *
 * Returns: @usec as RdDeviceFacts takes it: the one instant that cannot be
 *   told from "unknown" (%RD_DEVICE_NO_DATE) is kept a microsecond later
 */
gint64
_rd_device_date_from_usec (gint64 usec)
{
  return usec != RD_DEVICE_NO_DATE ? usec : 1;
}

/**
 * _rd_device_date_from_date_time:
 * @dt: (nullable): a date
 *
 * Returns: @dt as RdDeviceFacts takes it
 */
gint64
_rd_device_date_from_date_time (GDateTime *dt)
{
  if (dt == NULL)
    return RD_DEVICE_NO_DATE;

  return _rd_device_date_from_usec (g_date_time_to_unix (dt) * G_USEC_PER_SEC +
                                    g_date_time_get_microsecond (dt));
}

/* Whole seconds since 1970 (rounded down, also before 1970) and the
 * microseconds past them. */
static gint64
split_usec (gint64  usec,
            int    *micro)
{
  gint64 seconds = usec / G_USEC_PER_SEC - (usec % G_USEC_PER_SEC < 0);

  *micro = (int) (usec - seconds * G_USEC_PER_SEC);
  return seconds;
}

/* A device keeps a date as a number, and makes its GDateTime when first
 * asked for it: the sync and a start from the cache build 100,000 devices,
 * where two GDateTimes each were two allocations of the eight a device
 * took. The getters may run on a list model's workers, hence the atomic
 * hand-over. */
static GDateTime *
date_get (RdDeviceDate *date)
{
  GDateTime *dt = g_atomic_pointer_get (&date->dt);
  GDateTime *whole;
  int micro;

  if (dt != NULL || date->usec == RD_DEVICE_NO_DATE)
    return dt;

  whole = g_date_time_new_from_unix_utc (split_usec (date->usec, &micro));
  dt = g_date_time_add (whole, micro);
  g_date_time_unref (whole);
  if (!g_atomic_pointer_compare_and_exchange (&date->dt, NULL, dt))
    {
      g_date_time_unref (dt);
      dt = g_atomic_pointer_get (&date->dt);
    }

  return dt;
}

/* Returns whether @date changed. */
static gboolean
date_set (RdDeviceDate *date,
          GDateTime    *dt)
{
  gint64 usec = _rd_device_date_from_date_time (dt);

  if (usec == date->usec)
    return FALSE;
  date->usec = usec;
  g_clear_pointer (&date->dt, g_date_time_unref);
  if (dt != NULL)
    date->dt = g_date_time_ref (dt);

  return TRUE;
}

/* Changes of any device's facts, for _rd_device_get_revisions (). */
static int revisions;

typedef enum
{
  FIELD_STRING,
  FIELD_ENUM,
  FIELD_INT,
  FIELD_DATE_TIME,
} FieldKind;

typedef struct
{
  const char *name;
  const char *json_key;
  FieldKind kind;
  gsize offset;
  GType (*enum_type) (void);
  gboolean searchable;
} Field;

#define STRING(n, k, m, s) { n, k, FIELD_STRING, G_STRUCT_OFFSET (RdDevice, m), NULL, s }
#define ENUM(n, k, m, t) { n, k, FIELD_ENUM, G_STRUCT_OFFSET (RdDevice, m), t, FALSE }

enum
{
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_ENTRA_DEVICE_ID,
  PROP_SERIAL,
  PROP_MANUFACTURER,
  PROP_MODEL,
  PROP_OPERATING_SYSTEM,
  PROP_OS_VERSION,
  PROP_USER_PRINCIPAL_NAME,
  PROP_USER_DISPLAY_NAME,
  PROP_COMPLIANCE,
  PROP_MANAGEMENT_AGENT,
  PROP_OWNER_TYPE,
  PROP_JOIN_TYPE,
  PROP_ENROLLMENT_TYPE,
  PROP_ENROLLED,
  PROP_LAST_SYNC,
  PROP_ENCRYPTED,
  PROP_ESCROWED_KEYS,
  PROP_AUTOPILOT,
  PROP_AUTOPILOT_STATE,
  PROP_TPM_VERSION,
  PROP_ENCRYPTION_READINESS,
  PROP_WINRE_STATE,
  PROP_MANAGEMENT_STATE,
  N_FIELD_PROPS,
  PROP_OS_BUILD = N_FIELD_PROPS,
  PROP_SEARCH_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Indexed by property id - 1. */
static const Field fields[] = {
  STRING ("id", "id", id, TRUE),
  STRING ("name", "deviceName", name, TRUE),
  STRING ("entra-device-id", "entraDeviceId", entra_device_id, TRUE),
  STRING ("serial", "serialNumber", serial, TRUE),
  STRING ("manufacturer", "manufacturer", manufacturer, TRUE),
  STRING ("model", "model", model, TRUE),
  STRING ("operating-system", "operatingSystem", operating_system, FALSE),
  STRING ("os-version", "osVersion", os_version, TRUE),
  STRING ("user-principal-name", "userPrincipalName", user_principal_name, TRUE),
  STRING ("user-display-name", "userDisplayName", user_display_name, TRUE),
  ENUM ("compliance", "complianceState", compliance, rd_compliance_get_type),
  STRING ("management-agent", "managementAgent", management_agent, FALSE),
  ENUM ("owner-type", "ownerType", owner_type, rd_owner_type_get_type),
  ENUM ("join-type", "joinType", join_type, rd_join_type_get_type),
  STRING ("enrollment-type", "enrollmentType", enrollment_type, FALSE),
  { "enrolled", "enrolledDateTime", FIELD_DATE_TIME, G_STRUCT_OFFSET (RdDevice, enrolled) },
  { "last-sync", "lastSyncDateTime", FIELD_DATE_TIME, G_STRUCT_OFFSET (RdDevice, last_sync) },
  ENUM ("encrypted", "isEncrypted", encrypted, rd_tristate_get_type),
  { "escrowed-keys", "escrowedKeyCount", FIELD_INT, G_STRUCT_OFFSET (RdDevice, escrowed_keys) },
  ENUM ("autopilot", "autopilotRegistered", autopilot, rd_tristate_get_type),
  STRING ("autopilot-state", "autopilotEnrollmentState", autopilot_state, FALSE),
  STRING ("tpm-version", "tpmVersion", tpm_version, FALSE),
  ENUM ("encryption-readiness", "encryptionReadiness", encryption_readiness,
        rd_encryption_readiness_get_type),
  ENUM ("winre-state", "winreState", winre_state, rd_winre_state_get_type),
  ENUM ("management-state", "managementState", management_state, rd_management_state_get_type),
};

G_STATIC_ASSERT (G_N_ELEMENTS (fields) == N_FIELD_PROPS - 1);

#define FIELD_PTR(self, field, type) ((type *) G_STRUCT_MEMBER_P ((self), (field)->offset))

static void
free_string (RdDevice *self,
             char     *text)
{
  guintptr p = (guintptr) text;

  if (p < (guintptr) self->block || p >= (guintptr) self->block + self->block_size)
    g_free (text);
}

static void
invalidate_derived (RdDevice *self,
                    guint     prop_id)
{
  self->revision++;
  g_atomic_int_inc (&revisions);
  if (prop_id == PROP_OS_VERSION)
    {
      int build = rd_parse_windows_build (self->os_version);

      if (build != self->os_build)
        {
          self->os_build = build;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OS_BUILD]);
        }
    }

  if (prop_id == PROP_NAME)
    g_clear_pointer (&self->sort_key, g_ref_string_release);
  if (fields[prop_id - 1].searchable && self->search_text != NULL)
    {
      g_clear_pointer (&self->search_text, g_ref_string_release);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH_TEXT]);
    }
}

/* Stores @value in the field of @prop_id; returns whether it changed. */
static gboolean
set_field (RdDevice     *self,
           guint         prop_id,
           const GValue *value)
{
  const Field *field = &fields[prop_id - 1];

  switch (field->kind)
    {
    case FIELD_STRING:
      {
        char **p = FIELD_PTR (self, field, char *);
        const char *v = g_value_get_string (value);

        if (g_strcmp0 (*p, v) == 0)
          return FALSE;
        free_string (self, *p);
        *p = g_strdup (v);
      }
      break;

    case FIELD_ENUM:
    case FIELD_INT:
      {
        int v = field->kind == FIELD_ENUM ? g_value_get_enum (value) : g_value_get_int (value);
        int *p = FIELD_PTR (self, field, int);

        if (*p == v)
          return FALSE;
        *p = v;
      }
      break;

    case FIELD_DATE_TIME:
      if (!date_set (FIELD_PTR (self, field, RdDeviceDate), g_value_get_boxed (value)))
        return FALSE;
      break;

    default:
      g_assert_not_reached ();
    }

  invalidate_derived (self, prop_id);
  return TRUE;
}

static void
get_field (RdDevice *self,
           guint     prop_id,
           GValue   *value)
{
  const Field *field = &fields[prop_id - 1];

  switch (field->kind)
    {
    case FIELD_STRING:
      g_value_set_string (value, *FIELD_PTR (self, field, char *));
      break;
    case FIELD_ENUM:
      g_value_set_enum (value, *FIELD_PTR (self, field, int));
      break;
    case FIELD_INT:
      g_value_set_int (value, *FIELD_PTR (self, field, int));
      break;
    case FIELD_DATE_TIME:
      g_value_set_boxed (value, date_get (FIELD_PTR (self, field, RdDeviceDate)));
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
field_differs (RdDevice *self,
               RdDevice *other,
               guint     prop_id)
{
  const Field *field = &fields[prop_id - 1];

  switch (field->kind)
    {
    case FIELD_STRING:
      return g_strcmp0 (*FIELD_PTR (self, field, char *), *FIELD_PTR (other, field, char *)) != 0;
    case FIELD_ENUM:
    case FIELD_INT:
      return *FIELD_PTR (self, field, int) != *FIELD_PTR (other, field, int);
    case FIELD_DATE_TIME:
      return FIELD_PTR (self, field, RdDeviceDate)->usec !=
             FIELD_PTR (other, field, RdDeviceDate)->usec;
    default:
      g_assert_not_reached ();
    }
}

static void
rd_device_finalize (GObject *object)
{
  RdDevice *self = (RdDevice *) object;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (fields[i].kind == FIELD_STRING)
        free_string (self, *FIELD_PTR (self, &fields[i], char *));
      else if (fields[i].kind == FIELD_DATE_TIME)
        g_clear_pointer (&FIELD_PTR (self, &fields[i], RdDeviceDate)->dt, g_date_time_unref);
    }
  g_clear_pointer (&self->search_text, g_ref_string_release);
  g_clear_pointer (&self->sort_key, g_ref_string_release);
  g_free (self->block);

  G_OBJECT_CLASS (rd_device_parent_class)->finalize (object);
}

static void
rd_device_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  RdDevice *self = RD_DEVICE (object);

  if (prop_id > PROP_0 && prop_id < N_FIELD_PROPS)
    get_field (self, prop_id, value);
  else if (prop_id == PROP_OS_BUILD)
    g_value_set_int (value, self->os_build);
  else if (prop_id == PROP_SEARCH_TEXT)
    g_value_set_string (value, rd_device_get_search_text (self));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
rd_device_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  RdDevice *self = RD_DEVICE (object);

  if (prop_id > PROP_0 && prop_id < N_FIELD_PROPS)
    {
      if (set_field (self, prop_id, value))
        g_object_notify_by_pspec (object, pspec);
    }
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static GParamSpec *
field_pspec (const Field *field)
{
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  switch (field->kind)
    {
    case FIELD_STRING:
      return g_param_spec_string (field->name, NULL, NULL, NULL, flags);
    case FIELD_ENUM:
      return g_param_spec_enum (field->name, NULL, NULL, field->enum_type (), 0, flags);
    case FIELD_INT:
      return g_param_spec_int (field->name, NULL, NULL, -1, G_MAXINT, -1, flags);
    case FIELD_DATE_TIME:
      return g_param_spec_boxed (field->name, NULL, NULL, G_TYPE_DATE_TIME, flags);
    default:
      g_assert_not_reached ();
    }
}

static void
rd_device_class_init (RdDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_device_finalize;
  object_class->get_property = rd_device_get_property;
  object_class->set_property = rd_device_set_property;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    properties[i + 1] = field_pspec (&fields[i]);

  properties[PROP_OS_BUILD] =
    g_param_spec_int ("os-build", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEARCH_TEXT] =
    g_param_spec_string ("search-text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_device_init (RdDevice *self)
{
  self->escrowed_keys = -1;
}

RdDevice *
rd_device_new (const char *id,
               const char *name)
{
  return g_object_new (RD_TYPE_DEVICE, "id", id, "name", name, NULL);
}

/* JSON */

static gboolean
field_from_json (RdDevice    *self,
                 guint        prop_id,
                 JsonNode    *node,
                 GError     **error)
{
  const Field *field = &fields[prop_id - 1];
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, properties[prop_id]->value_type);

  if (JSON_NODE_HOLDS_NULL (node))
    {
      if (field->kind == FIELD_INT)
        g_value_set_int (&value, -1);
      else if (field->kind == FIELD_ENUM)
        g_value_set_enum (&value, 0);
    }
  else if (field->kind == FIELD_STRING && JSON_NODE_HOLDS_VALUE (node) &&
           json_node_get_value_type (node) == G_TYPE_STRING &&
           g_utf8_validate (json_node_get_string (node), -1, NULL))
    {
      g_value_set_string (&value, json_node_get_string (node));
    }
  else if (field->kind == FIELD_INT && JSON_NODE_HOLDS_VALUE (node) &&
           json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (node);

      if (v < -1 || v > G_MAXINT)
        goto invalid;
      g_value_set_int (&value, (int) v);
    }
  else if (field->kind == FIELD_ENUM && JSON_NODE_HOLDS_VALUE (node) &&
           json_node_get_value_type (node) == G_TYPE_STRING)
    {
      int v;

      if (!rd_enum_from_nick (field->enum_type (), json_node_get_string (node), &v))
        goto invalid;
      g_value_set_enum (&value, v);
    }
  else if (field->kind == FIELD_DATE_TIME && JSON_NODE_HOLDS_VALUE (node) &&
           json_node_get_value_type (node) == G_TYPE_STRING)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (json_node_get_string (node), NULL);

      if (dt == NULL)
        goto invalid;
      g_value_set_boxed (&value, dt);
    }
  else
    goto invalid;

  set_field (self, prop_id, &value);
  return TRUE;

invalid:
  g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
               "Device field “%s” has an invalid value", field->json_key);
  return FALSE;
}

/**
 * rd_device_new_from_json:
 * @object: a device in the form rd_device_to_json() writes
 *
 * Members that are missing keep their default, which is "unknown".
 */
RdDevice *
rd_device_new_from_json (JsonObject  *object,
                         GError     **error)
{
  g_autoptr(RdDevice) self = NULL;
  const char *id = NULL;
  JsonNode *id_node;

  g_return_val_if_fail (object != NULL, NULL);

  /* Not json_object_get_string_member_with_default(): it fails an assertion
   * when the member is an object or an array. */
  id_node = json_object_get_member (object, "id");
  if (id_node != NULL && JSON_NODE_HOLDS_VALUE (id_node) &&
      json_node_get_value_type (id_node) == G_TYPE_STRING)
    id = json_node_get_string (id_node);
  if (id == NULL || *id == '\0')
    {
      g_set_error_literal (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                           "A device has no id");
      return NULL;
    }

  self = g_object_new (RD_TYPE_DEVICE, NULL);
  for (guint prop_id = PROP_ID; prop_id < N_FIELD_PROPS; prop_id++)
    {
      JsonNode *node = json_object_get_member (object, fields[prop_id - 1].json_key);

      if (node != NULL && !field_from_json (self, prop_id, node, error))
        return NULL;
    }

  /* Built here while no other thread can see the device (the cache is read
   * on a worker), so that the first search and the first sort do not build
   * 100,000 of them on the main thread. */
  rd_device_get_search_text (self);
  _rd_device_get_sort_key (self);

  return g_steal_pointer (&self);
}

JsonNode *
rd_device_to_json (RdDevice *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (RD_IS_DEVICE (self), NULL);

  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const Field *field = &fields[i];

      json_builder_set_member_name (builder, field->json_key);
      switch (field->kind)
        {
        case FIELD_STRING:
          {
            const char *s = *FIELD_PTR (self, field, char *);

            if (s != NULL)
              json_builder_add_string_value (builder, s);
            else
              json_builder_add_null_value (builder);
          }
          break;

        case FIELD_ENUM:
          json_builder_add_string_value (
            builder, rd_enum_to_nick (field->enum_type (), *FIELD_PTR (self, field, int)));
          break;

        case FIELD_INT:
          {
            int v = *FIELD_PTR (self, field, int);

            if (v >= 0)
              json_builder_add_int_value (builder, v);
            else
              json_builder_add_null_value (builder);
          }
          break;

        case FIELD_DATE_TIME:
          {
            GDateTime *dt = date_get (FIELD_PTR (self, field, RdDeviceDate));
            g_autofree char *s = dt != NULL ? g_date_time_format_iso8601 (dt) : NULL;

            if (s != NULL)
              json_builder_add_string_value (builder, s);
            else
              json_builder_add_null_value (builder);
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * rd_device_update_from:
 * @self: the device the board and views hold
 * @other: a fresher copy of the same device
 *
 * Copies every fact of @other into @self, notifying only what changed, so
 * that a refresh keeps the objects the lanes and plans point at.
 *
 * Returns: whether anything changed
 */
gboolean
rd_device_update_from (RdDevice *self,
                       RdDevice *other)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (RD_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (RD_IS_DEVICE (other), FALSE);

  /* A refresh hands 100,000 devices over, most of them unchanged: those
   * cost a comparison of their fields, without a GValue or a notify queue. */
  for (guint prop_id = PROP_ID; !changed && prop_id < N_FIELD_PROPS; prop_id++)
    changed = field_differs (self, other, prop_id);
  if (!changed)
    return FALSE;
  changed = FALSE;

  g_object_freeze_notify (G_OBJECT (self));
  for (guint prop_id = PROP_ID; prop_id < N_FIELD_PROPS; prop_id++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      if (!field_differs (self, other, prop_id))
        continue;
      g_value_init (&value, properties[prop_id]->value_type);
      get_field (other, prop_id, &value);
      if (set_field (self, prop_id, &value))
        {
          g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
          changed = TRUE;
        }
    }
  g_object_thaw_notify (G_OBJECT (self));

  return changed;
}

/* Getters */

#define GETTER(ret, fn, expr, fallback)                                                            \
  ret fn (RdDevice *self)                                                                          \
  {                                                                                                \
    g_return_val_if_fail (RD_IS_DEVICE (self), fallback);                                          \
    return expr;                                                                                   \
  }

GETTER (const char *, rd_device_get_id, self->id, NULL)
GETTER (const char *, rd_device_get_name, self->name, NULL)
GETTER (const char *, rd_device_get_entra_device_id, self->entra_device_id, NULL)
GETTER (const char *, rd_device_get_serial, self->serial, NULL)
GETTER (const char *, rd_device_get_manufacturer, self->manufacturer, NULL)
GETTER (const char *, rd_device_get_model, self->model, NULL)
GETTER (const char *, rd_device_get_operating_system, self->operating_system, NULL)
GETTER (const char *, rd_device_get_os_version, self->os_version, NULL)
GETTER (int, rd_device_get_os_build, self->os_build, 0)
GETTER (const char *, rd_device_get_user_principal_name, self->user_principal_name, NULL)
GETTER (const char *, rd_device_get_user_display_name, self->user_display_name, NULL)
GETTER (RdCompliance, rd_device_get_compliance, self->compliance, 0)
GETTER (const char *, rd_device_get_management_agent, self->management_agent, NULL)
GETTER (RdOwnerType, rd_device_get_owner_type, self->owner_type, 0)
GETTER (RdJoinType, rd_device_get_join_type, self->join_type, 0)
GETTER (const char *, rd_device_get_enrollment_type, self->enrollment_type, NULL)
GETTER (GDateTime *, rd_device_get_enrolled, date_get (&self->enrolled), NULL)
GETTER (GDateTime *, rd_device_get_last_sync, date_get (&self->last_sync), NULL)
GETTER (gint64, rd_device_get_enrolled_usec, self->enrolled.usec, RD_DEVICE_NO_DATE)
GETTER (gint64, rd_device_get_last_sync_usec, self->last_sync.usec, RD_DEVICE_NO_DATE)
GETTER (RdTristate, rd_device_get_encrypted, self->encrypted, 0)
GETTER (int, rd_device_get_escrowed_keys, self->escrowed_keys, -1)
GETTER (RdTristate, rd_device_get_autopilot, self->autopilot, 0)
GETTER (const char *, rd_device_get_autopilot_state, self->autopilot_state, NULL)
GETTER (const char *, rd_device_get_tpm_version, self->tpm_version, NULL)
GETTER (RdEncryptionReadiness, rd_device_get_encryption_readiness, self->encryption_readiness, 0)
GETTER (RdWinreState, rd_device_get_winre_state, self->winre_state, 0)
GETTER (RdManagementState, rd_device_get_management_state, self->management_state, 0)

gboolean
rd_device_is_windows (RdDevice *self)
{
  g_return_val_if_fail (RD_IS_DEVICE (self), FALSE);

  return self->operating_system != NULL &&
         g_ascii_strncasecmp (self->operating_system, "windows", 7) == 0;
}

/**
 * rd_device_is_mdm_managed:
 *
 * Whether Intune manages the device through MDM, as Graph's managementAgent
 * says: every agent value that includes MDM counts.
 */
RdTristate
rd_device_is_mdm_managed (RdDevice *self)
{
  static const char *const mdm_agents[] = {
    "mdm", "easMdm", "configurationManagerClientMdm", "configurationManagerClientMdmEas",
    "microsoft365ManagedMdm", "intuneAosp", "googleCloudDevicePolicyController",
  };

  g_return_val_if_fail (RD_IS_DEVICE (self), RD_TRISTATE_UNKNOWN);

  if (self->management_agent == NULL || g_strcmp0 (self->management_agent, "unknown") == 0)
    return RD_TRISTATE_UNKNOWN;

  for (guint i = 0; i < G_N_ELEMENTS (mdm_agents); i++)
    if (g_ascii_strcasecmp (self->management_agent, mdm_agents[i]) == 0)
      return RD_TRISTATE_YES;

  return RD_TRISTATE_NO;
}

gboolean
rd_device_has_wipe_pending (RdDevice *self)
{
  g_return_val_if_fail (RD_IS_DEVICE (self), FALSE);

  return self->management_state == RD_MANAGEMENT_STATE_WIPE_PENDING ||
         self->management_state == RD_MANAGEMENT_STATE_WIPE_ISSUED;
}

/**
 * rd_device_get_bitlocker_ready:
 *
 * Whether the device's BitLocker state lets its drive go to a new user: the
 * drive is known to be encrypted and Microsoft Entra ID is known to hold at
 * least one of its recovery keys. This is the one definition the BitLocker
 * view, its CSV export and the CLI's `bitlocker --not-ready` share.
 *
 * Returns: %RD_TRISTATE_YES when ready; %RD_TRISTATE_NO when Intune says the
 *   drive is not encrypted or no key is escrowed; %RD_TRISTATE_UNKNOWN when
 *   either fact is missing. Only %RD_TRISTATE_YES is ready: "unknown" counts
 *   as not ready.
 */
RdTristate
rd_device_get_bitlocker_ready (RdDevice *self)
{
  g_return_val_if_fail (RD_IS_DEVICE (self), RD_TRISTATE_UNKNOWN);

  if (self->encrypted == RD_TRISTATE_NO || self->escrowed_keys == 0)
    return RD_TRISTATE_NO;
  if (self->encrypted == RD_TRISTATE_YES && self->escrowed_keys > 0)
    return RD_TRISTATE_YES;

  return RD_TRISTATE_UNKNOWN;
}

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Lowers the ASCII letters of @text in place, eight bytes at a time: all
 * that g_utf8_casefold() does to ASCII. Returns %FALSE, part of it lowered,
 * when @text is not all ASCII. */
static gboolean
lower_ascii (char  *text,
             gsize  length)
{
  gsize i = 0;

  for (; i + 8 <= length; i += 8)
    {
      guint64 v;
      guint64 upper;

      memcpy (&v, text + i, sizeof v);
      if ((v & HIGHS) != 0)
        return FALSE;
      /* The bytes from 'A' up to, not including, '[': no byte carries into
       * the next, as all are below 0x80. */
      upper = ((v + ONES * (0x80 - 'A')) ^ (v + ONES * (0x80 - '['))) & HIGHS;
      v |= upper >> 2;
      memcpy (text + i, &v, sizeof v);
    }

  for (; i < length; i++)
    {
      guchar c = (guchar) text[i];

      if (c >= 0x80)
        return FALSE;
      if (c >= 'A' && c <= 'Z')
        text[i] = (char) (c - 'A' + 'a');
    }

  return TRUE;
}

/* g_utf8_casefold(), without its cost for ASCII text: it lowers the letters
 * and leaves the rest as it is. */
static char *
dup_folded (const char *text)
{
  gsize length = 0;
  char *folded;

  for (; text[length] != '\0'; length++)
    if ((guchar) text[length] >= 0x80)
      return g_utf8_casefold (text, -1);

  folded = g_malloc (length + 1);
  for (gsize i = 0; i <= length; i++)
    folded[i] = (char) (text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);

  return folded;
}

/**
 * rd_device_get_search_text:
 *
 * Returns: the case-folded text a search matches against: the name, serial,
 *   user, model, manufacturer, OS version and ids.
 */
const char *
rd_device_get_search_text (RdDevice *self)
{
  g_return_val_if_fail (RD_IS_DEVICE (self), NULL);

  if (self->search_text == NULL)
    {
      g_autofree char *heap = NULL;
      const char *parts[G_N_ELEMENTS (fields)];
      gsize lengths[G_N_ELEMENTS (fields)];
      char stack[512];
      gsize size = 0;
      gsize length = 0;
      guint n = 0;
      char *text;

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          const char *s = fields[i].searchable ? *FIELD_PTR (self, &fields[i], char *) : NULL;

          if (s == NULL || *s == '\0')
            continue;
          parts[n] = s;
          lengths[n] = strlen (s);
          size += lengths[n++] + 1;
        }
      text = size <= sizeof stack ? stack : (heap = g_malloc (size));

      /* The searchable facts, one a line, as g_utf8_casefold() folds them.
       * For ASCII, which most devices' text is, that is lowering the
       * letters, done in place eight bytes at a time: the sync makes
       * 100,000 of these. */
      for (guint i = 0; i < n; i++)
        {
          if (i > 0)
            text[length++] = '\n';
          memcpy (text + length, parts[i], lengths[i]);
          length += lengths[i];
        }

      if (lower_ascii (text, length))
        self->search_text = g_ref_string_new_len (text, length);
      else
        {
          g_autoptr (GString) mixed = g_string_sized_new (size + 32);

          /* Only the facts outside ASCII go through g_utf8_casefold(). */
          for (guint i = 0; i < n; i++)
            {
              gsize start;

              if (i > 0)
                g_string_append_c (mixed, '\n');
              start = mixed->len;
              g_string_append_len (mixed, parts[i], lengths[i]);
              if (!lower_ascii (mixed->str + start, lengths[i]))
                {
                  g_autofree char *folded = g_utf8_casefold (parts[i], lengths[i]);

                  g_string_truncate (mixed, start);
                  g_string_append (mixed, folded);
                }
            }
          self->search_text = g_ref_string_new_len (mixed->str, mixed->len);
        }
    }

  return self->search_text;
}

#if defined(__STDC_ISO_10646__) && !defined(__APPLE__)
#define ASCII_SORT_KEY 1

/* Writes @weight as GLib's g_utf8_collate_key() writes each wchar_t that
 * wcsxfrm() gives: UTF-8 extended to six bytes, 31 bits. */
static gsize
put_weight (char    *out,
            wchar_t  weight)
{
  guint32 value = (guint32) weight;
  gsize length = 2;

  if (weight < 0x80)
    {
      out[0] = (char) weight;
      return 1;
    }

  while (length < 6 && (value >> (5 * length + 1)) != 0)
    length++;
  for (gsize i = length - 1; i > 0; i--)
    {
      out[i] = (char) (0x80 | (value & 0x3f));
      value >>= 6;
    }
  out[0] = (char) ((guchar) (0xff00 >> length) | value);

  return length;
}
#endif

/* g_utf8_collate_key (g_utf8_casefold (@name, -1), -1), byte for byte, for
 * an ASCII name of up to 127 bytes, without the normalization and the four
 * allocations: the sync makes 100,000 of these. On a C library whose wchar_t
 * holds code points (__STDC_ISO_10646__: glibc, musl), GLib normalizes the
 * text to NFKC code points, gives them to wcsxfrm() and writes its weights
 * out in UTF-8. NFKC and case folding leave ASCII as ASCII with the letters
 * lowered, so the lowered bytes can go to wcsxfrm() as they are, in the
 * same locale. Returns %NULL for any other name, which then takes GLib's
 * own path (test-device-sort-key compares the two). */
static char *
make_ascii_sort_key (const char *name)
{
#ifdef ASCII_SORT_KEY
  wchar_t text[128];
  wchar_t weights[256];
  char key[G_N_ELEMENTS (weights) * 6 + 1];
  gsize n_weights;
  gsize length = 0;
  gsize i;

  for (i = 0; name[i] != '\0'; i++)
    {
      guchar c = (guchar) name[i];

      if (c >= 0x80 || i + 1 >= G_N_ELEMENTS (text))
        return NULL;
      text[i] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
    }
  text[i] = L'\0';

  n_weights = wcsxfrm (weights, text, G_N_ELEMENTS (weights));
  if (n_weights >= G_N_ELEMENTS (weights))
    return NULL;
  for (i = 0; i < n_weights; i++)
    length += put_weight (key + length, weights[i]);

  return g_ref_string_new_len (key, length);
#else
  return NULL;
#endif
}

/**
 * _rd_device_get_sort_key:
 *
 * Returns: a #GRefString: the collation key of the case-folded name, which
 *   orders devices by name with strcmp(), as GtkStringSorter would
 */
const char *
_rd_device_get_sort_key (RdDevice *self)
{
  g_return_val_if_fail (RD_IS_DEVICE (self), NULL);

  if (self->sort_key == NULL)
    {
      const char *name = self->name != NULL ? self->name : "";

      self->sort_key = make_ascii_sort_key (name);
      if (self->sort_key == NULL)
        {
          g_autofree char *folded = dup_folded (name);
          g_autofree char *key = g_utf8_collate_key (folded, -1);

          self->sort_key = g_ref_string_new (key);
        }
    }

  return self->sort_key;
}

/**
 * _rd_device_get_revision:
 *
 * Returns: a number that changes whenever a fact of the device does
 */
guint
_rd_device_get_revision (RdDevice *self)
{
  g_return_val_if_fail (RD_IS_DEVICE (self), 0);

  return self->revision;
}

/**
 * _rd_device_get_revisions:
 *
 * Returns: a number that changes whenever a fact of any device does, so
 *   that a list of devices can tell at once whether any changed
 */
guint
_rd_device_get_revisions (void)
{
  return (guint) g_atomic_int_get (&revisions);
}

/**
 * rd_device_matches:
 * @folded_words: (array zero-terminated=1): the words of a query, each
 *   passed through g_utf8_casefold()
 *
 * Returns: whether every word occurs in the search text
 */
gboolean
rd_device_matches (RdDevice          *self,
                   const char *const *folded_words)
{
  const char *text;

  g_return_val_if_fail (RD_IS_DEVICE (self), FALSE);

  if (folded_words == NULL)
    return TRUE;

  text = rd_device_get_search_text (self);
  for (guint i = 0; folded_words[i] != NULL; i++)
    if (strstr (text, folded_words[i]) == NULL)
      return FALSE;

  return TRUE;
}

/**
 * rd_parse_windows_build:
 * @os_version: an osVersion as Intune reports it, such as "10.0.19045.3803"
 *
 * Returns: the build number (19045), or 0 when it cannot be read
 */
int
rd_parse_windows_build (const char *os_version)
{
  const char *start;
  const char *p;
  guint64 build = 0;

  if (os_version == NULL)
    return 0;

  /* The third dot-separated part, digits only, from 1 to G_MAXINT. Read in
   * place: the sync reads 100,000 of them. */
  p = strchr (os_version, '.');
  if (p != NULL)
    p = strchr (p + 1, '.');
  if (p == NULL)
    return 0;

  start = ++p;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      build = build * 10 + (guint64) (*p - '0');
      if (build > G_MAXINT)
        return 0;
    }
  if (p == start || (*p != '\0' && *p != '.'))
    return 0;

  return (int) build;
}

/* For the sync (rd-device-private.h) */

/**
 * _rd_device_new_from_facts:
 *
 * The device a managedDevice describes, built with no property machinery:
 * the sync makes one per device of the tenant.
 *
 * Returns: (transfer full): the device
 */
RdDevice *
_rd_device_new_from_facts (const RdDeviceFacts *facts)
{
  RdDevice *self = g_object_new (RD_TYPE_DEVICE, NULL);
  struct
  {
    char **field;
    const char *value;
    gsize size;
  } strings[] = {
    { &self->id, facts->id },
    { &self->name, facts->name },
    { &self->entra_device_id, facts->entra_device_id },
    { &self->serial, facts->serial },
    { &self->manufacturer, facts->manufacturer },
    { &self->model, facts->model },
    { &self->operating_system, facts->operating_system },
    { &self->os_version, facts->os_version },
    { &self->user_principal_name, facts->user_principal_name },
    { &self->user_display_name, facts->user_display_name },
    { &self->management_agent, facts->management_agent },
    { &self->enrollment_type, facts->enrollment_type },
    { &self->autopilot_state, facts->autopilot_state },
    { &self->tpm_version, facts->tpm_version },
  };
  gsize offset = 0;

  /* One allocation for the strings rather than one each: the sync makes
   * 100,000 devices on its workers. */
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (strings[i].value != NULL)
      {
        strings[i].size = strlen (strings[i].value) + 1;
        self->block_size += strings[i].size;
      }
  self->block = g_malloc (MAX (self->block_size, 1));
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (strings[i].value != NULL)
      {
        *strings[i].field = memcpy (self->block + offset, strings[i].value, strings[i].size);
        offset += strings[i].size;
      }

  self->os_build = rd_parse_windows_build (self->os_version);
  self->compliance = facts->compliance;
  self->owner_type = facts->owner_type;
  self->join_type = facts->join_type;
  if (_rd_device_date_is_valid (facts->enrolled))
    self->enrolled.usec = facts->enrolled;
  if (_rd_device_date_is_valid (facts->last_sync))
    self->last_sync.usec = facts->last_sync;
  self->encrypted = facts->encrypted;
  self->management_state = facts->management_state;

  /* The sync builds devices on its workers; nothing else holds this one yet,
   * so its search text and sort key are built here rather than on the main
   * thread. A cache that kept them hands them over as they were. */
  if (facts->search_text != NULL)
    self->search_text = g_ref_string_new (facts->search_text);
  else
    rd_device_get_search_text (self);
  if (facts->sort_key != NULL)
    self->sort_key = g_ref_string_new (facts->sort_key);
  else
    _rd_device_get_sort_key (self);

  return self;
}

static void
replace_string (RdDevice    *self,
                char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  free_string (self, *field);
  *field = g_strdup (value);
}

/* The setters below change facts that are not searchable, so the search
 * text stays valid. They are for devices no list holds yet, which the
 * sync's workers and the cache loader fill in: they leave the count
 * _rd_device_get_revisions() returns alone (two workers bumping it for
 * every device would pass its cache line back and forth). */

void
_rd_device_set_escrowed_keys (RdDevice *self,
                              int       escrowed_keys)
{
  g_return_if_fail (RD_IS_DEVICE (self));

  self->escrowed_keys = escrowed_keys;
  self->revision++;
}

void
_rd_device_set_autopilot (RdDevice   *self,
                          RdTristate  autopilot,
                          const char *autopilot_state)
{
  g_return_if_fail (RD_IS_DEVICE (self));

  self->autopilot = autopilot;
  replace_string (self, &self->autopilot_state, autopilot_state);
  self->revision++;
}

/**
 * _rd_device_set_encryption_report:
 * @encrypted: taken only while the device's own "encrypted" is unknown
 */
void
_rd_device_set_encryption_report (RdDevice              *self,
                                  const char            *tpm_version,
                                  RdEncryptionReadiness  readiness,
                                  RdWinreState           winre_state,
                                  RdTristate             encrypted)
{
  g_return_if_fail (RD_IS_DEVICE (self));

  replace_string (self, &self->tpm_version, tpm_version);
  self->encryption_readiness = readiness;
  self->winre_state = winre_state;
  if (self->encrypted == RD_TRISTATE_UNKNOWN)
    self->encrypted = encrypted;
  self->revision++;
}

static void
append_json_string (GString    *out,
                    const char *s)
{
  const char *run = s;
  const char *p;

  g_string_append_c (out, '"');
  for (p = s; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else
        g_string_append_printf (out, "\\u%04x", c);
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

/* Appends @value in decimal, at least @width digits: what printf()'s "%0*u"
 * writes, at a tenth of its cost (the cache's JSON text has five numbers a
 * date). */
static void
append_digits (GString *out,
               guint64  value,
               guint    width)
{
  char digits[24];
  guint n = 0;

  do
    {
      digits[sizeof digits - ++n] = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value > 0 && n < sizeof digits);
  while (n < width && n < sizeof digits)
    digits[sizeof digits - ++n] = '0';
  g_string_append_len (out, digits + sizeof digits - n, n);
}

/* As g_date_time_format_iso8601() writes the date @usec in UTC, without
 * a GDateTime: the sync writes 200,000 of them to the cache. */
static void
append_date_time (GString *out,
                  gint64   usec)
{
  int micro;
  gint64 seconds = split_usec (usec, &micro);
  gint64 days = seconds / 86400 - (seconds % 86400 < 0);
  int of_day = (int) (seconds - days * 86400);
  gint64 era, day_of_era, year_of_era, day_of_year, mp, year;
  int month, day;

  /* Days since 1970-01-01 to the proleptic Gregorian date, by eras of 400
   * years starting on 1 March (the inverse of the mapper's count). */
  days += 719468;
  era = (days >= 0 ? days : days - 146096) / 146097;
  day_of_era = days - era * 146097;
  year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  mp = (5 * day_of_year + 2) / 153;
  day = (int) (day_of_year - (153 * mp + 2) / 5 + 1);
  month = (int) (mp < 10 ? mp + 3 : mp - 9);
  year = year_of_era + era * 400 + (month <= 2);

  g_string_append_c (out, '"');
  append_digits (out, (guint64) year, 4);
  g_string_append_c (out, '-');
  append_digits (out, (guint64) month, 2);
  g_string_append_c (out, '-');
  append_digits (out, (guint64) day, 2);
  g_string_append_c (out, 'T');
  append_digits (out, (guint64) (of_day / 3600), 2);
  g_string_append_c (out, ':');
  append_digits (out, (guint64) (of_day / 60 % 60), 2);
  g_string_append_c (out, ':');
  append_digits (out, (guint64) (of_day % 60), 2);
  if (micro != 0)
    {
      g_string_append_c (out, '.');
      append_digits (out, (guint64) micro, 6);
    }
  g_string_append (out, "Z\"");
}

/**
 * _rd_device_append_json:
 *
 * Appends the object rd_device_to_json() makes, as compact JSON text, at a
 * fraction of its cost: the sync writes 100,000 of them to the cache.
 */
void
_rd_device_append_json (RdDevice *self,
                        GString  *out)
{
  /* Each member's `,"key":` (`{"key":` for the first), made once. */
  static char *prefixes[G_N_ELEMENTS (fields)];
  static gsize prefix_lengths[G_N_ELEMENTS (fields)];

  g_return_if_fail (RD_IS_DEVICE (self));

  if (g_once_init_enter (&prefixes[0]))
    {
      for (guint i = 1; i < G_N_ELEMENTS (fields); i++)
        {
          prefixes[i] = g_strdup_printf (",\"%s\":", fields[i].json_key);
          prefix_lengths[i] = strlen (prefixes[i]);
        }
      prefix_lengths[0] = strlen (fields[0].json_key) + 4;
      g_once_init_leave (&prefixes[0], g_strdup_printf ("{\"%s\":", fields[0].json_key));
    }

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const Field *field = &fields[i];

      g_string_append_len (out, prefixes[i], prefix_lengths[i]);
      switch (field->kind)
        {
        case FIELD_STRING:
          {
            const char *s = *FIELD_PTR (self, field, char *);

            if (s != NULL)
              append_json_string (out, s);
            else
              g_string_append_len (out, "null", 4);
          }
          break;

        case FIELD_ENUM:
          {
            /* The pspecs hold the enum classes. */
            GEnumClass *enum_class = g_type_class_peek (field->enum_type ());
            GEnumValue *ev = g_enum_get_value (enum_class, *FIELD_PTR (self, field, int));

            if (ev != NULL)
              append_json_string (out, ev->value_nick);
            else
              g_string_append_len (out, "null", 4);
          }
          break;

        case FIELD_INT:
          {
            int v = *FIELD_PTR (self, field, int);

            if (v >= 0)
              append_digits (out, (guint64) v, 1);
            else
              g_string_append_len (out, "null", 4);
          }
          break;

        case FIELD_DATE_TIME:
          {
            gint64 usec = FIELD_PTR (self, field, RdDeviceDate)->usec;

            if (usec != RD_DEVICE_NO_DATE)
              append_date_time (out, usec);
            else
              g_string_append_len (out, "null", 4);
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  g_string_append_c (out, '}');
}
