/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device"

#include "config.h"

#include "rd-device.h"
#include "rd-device-private.h"
#include "rd-core-error.h"
#include "rd-method.h"

#include <stdlib.h>
#include <string.h>

/* A device is the set of triage facts Recovery Desk reads from Graph. Every
 * fact is a property described once in the table below, which drives the
 * GObject properties, the JSON form (the inventory cache and the CLI's
 * output) and rd_device_update_from(). */

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
  GDateTime *enrolled;
  GDateTime *last_sync;
  int encrypted;
  int escrowed_keys;
  int autopilot;
  char *autopilot_state;
  char *tpm_version;
  int encryption_readiness;
  int winre_state;
  int management_state;

  int os_build;
  char *search_text;
};

G_DEFINE_FINAL_TYPE (RdDevice, rd_device, G_TYPE_OBJECT)

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
invalidate_derived (RdDevice *self,
                    guint     prop_id)
{
  if (prop_id == PROP_OS_VERSION)
    {
      int build = rd_parse_windows_build (self->os_version);

      if (build != self->os_build)
        {
          self->os_build = build;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OS_BUILD]);
        }
    }

  if (fields[prop_id - 1].searchable && self->search_text != NULL)
    {
      g_clear_pointer (&self->search_text, g_free);
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
        g_free (*p);
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
      {
        GDateTime **p = FIELD_PTR (self, field, GDateTime *);
        GDateTime *v = g_value_get_boxed (value);

        if (*p == v || (*p != NULL && v != NULL && g_date_time_equal (*p, v)))
          return FALSE;
        g_clear_pointer (p, g_date_time_unref);
        *p = v != NULL ? g_date_time_ref (v) : NULL;
      }
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
      g_value_set_boxed (value, *FIELD_PTR (self, field, GDateTime *));
      break;
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
        g_clear_pointer (FIELD_PTR (self, &fields[i], char *), g_free);
      else if (fields[i].kind == FIELD_DATE_TIME)
        g_clear_pointer (FIELD_PTR (self, &fields[i], GDateTime *), g_date_time_unref);
    }
  g_free (self->search_text);

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
   * on a worker), so that the first search does not build 100,000 of them
   * on the main thread. */
  rd_device_get_search_text (self);

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
            GDateTime *dt = *FIELD_PTR (self, field, GDateTime *);
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

  g_object_freeze_notify (G_OBJECT (self));
  for (guint prop_id = PROP_ID; prop_id < N_FIELD_PROPS; prop_id++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

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
GETTER (GDateTime *, rd_device_get_enrolled, self->enrolled, NULL)
GETTER (GDateTime *, rd_device_get_last_sync, self->last_sync, NULL)
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
      GString *text = g_string_new (NULL);

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          const char *s;

          if (!fields[i].searchable)
            continue;
          s = *FIELD_PTR (self, &fields[i], char *);
          if (s == NULL || *s == '\0')
            continue;
          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, s);
        }

      self->search_text = g_utf8_casefold (text->str, text->len);
      g_string_free (text, TRUE);
    }

  return self->search_text;
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
  g_auto(GStrv) parts = NULL;
  guint64 build;

  if (os_version == NULL)
    return 0;

  parts = g_strsplit (os_version, ".", 4);
  if (g_strv_length (parts) < 3)
    return 0;
  if (!g_ascii_string_to_unsigned (parts[2], 10, 1, G_MAXINT, &build, NULL))
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

  self->id = g_strdup (facts->id);
  self->name = g_strdup (facts->name);
  self->entra_device_id = g_strdup (facts->entra_device_id);
  self->serial = g_strdup (facts->serial);
  self->manufacturer = g_strdup (facts->manufacturer);
  self->model = g_strdup (facts->model);
  self->operating_system = g_strdup (facts->operating_system);
  self->os_version = g_strdup (facts->os_version);
  self->os_build = rd_parse_windows_build (self->os_version);
  self->user_principal_name = g_strdup (facts->user_principal_name);
  self->user_display_name = g_strdup (facts->user_display_name);
  self->compliance = facts->compliance;
  self->management_agent = g_strdup (facts->management_agent);
  self->owner_type = facts->owner_type;
  self->join_type = facts->join_type;
  self->enrollment_type = g_strdup (facts->enrollment_type);
  self->enrolled = facts->enrolled != NULL ? g_date_time_ref (facts->enrolled) : NULL;
  self->last_sync = facts->last_sync != NULL ? g_date_time_ref (facts->last_sync) : NULL;
  self->encrypted = facts->encrypted;
  self->management_state = facts->management_state;

  /* The sync builds devices on its workers; nothing else holds this one yet,
   * so its search text is built here rather than on the first keystroke. */
  rd_device_get_search_text (self);

  return self;
}

static void
replace_string (char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
}

/* The setters below change facts that are not searchable, so the search
 * text stays valid. */

void
_rd_device_set_escrowed_keys (RdDevice *self,
                              int       escrowed_keys)
{
  g_return_if_fail (RD_IS_DEVICE (self));

  self->escrowed_keys = escrowed_keys;
}

void
_rd_device_set_autopilot (RdDevice   *self,
                          RdTristate  autopilot,
                          const char *autopilot_state)
{
  g_return_if_fail (RD_IS_DEVICE (self));

  self->autopilot = autopilot;
  replace_string (&self->autopilot_state, autopilot_state);
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

  replace_string (&self->tpm_version, tpm_version);
  self->encryption_readiness = readiness;
  self->winre_state = winre_state;
  if (self->encrypted == RD_TRISTATE_UNKNOWN)
    self->encrypted = encrypted;
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

/* As g_date_time_format_iso8601() writes it, without its format parser for
 * the common case, a date in UTC. */
static void
append_date_time (GString   *out,
                  GDateTime *dt)
{
  g_autofree char *text = NULL;
  int year, month, day, usec;

  if (g_date_time_get_utc_offset (dt) != 0 || g_date_time_get_year (dt) > 9999)
    {
      text = g_date_time_format_iso8601 (dt);
      append_json_string (out, text);
      return;
    }

  g_date_time_get_ymd (dt, &year, &month, &day);
  g_string_append_printf (out, "\"%04d-%02d-%02dT%02d:%02d:%02d", year, month, day,
                          g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                          g_date_time_get_second (dt));
  usec = g_date_time_get_microsecond (dt);
  if (usec != 0)
    g_string_append_printf (out, ".%06d", usec);
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
  g_return_if_fail (RD_IS_DEVICE (self));

  g_string_append_c (out, '{');
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const Field *field = &fields[i];

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '"');
      g_string_append (out, field->json_key);
      g_string_append (out, "\":");
      switch (field->kind)
        {
        case FIELD_STRING:
          {
            const char *s = *FIELD_PTR (self, field, char *);

            if (s != NULL)
              append_json_string (out, s);
            else
              g_string_append (out, "null");
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
              g_string_append (out, "null");
          }
          break;

        case FIELD_INT:
          {
            int v = *FIELD_PTR (self, field, int);

            if (v >= 0)
              g_string_append_printf (out, "%d", v);
            else
              g_string_append (out, "null");
          }
          break;

        case FIELD_DATE_TIME:
          {
            GDateTime *dt = *FIELD_PTR (self, field, GDateTime *);

            if (dt != NULL)
              append_date_time (out, dt);
            else
              g_string_append (out, "null");
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  g_string_append_c (out, '}');
}
