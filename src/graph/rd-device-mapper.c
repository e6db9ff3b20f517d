/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-mapper"

#include "config.h"

#include "rd-device-mapper.h"

#include <string.h>

typedef struct
{
  const char *graph;
  int value;
} EnumName;

static int
lookup (const EnumName *names,
        guint           n_names,
        const char     *value)
{
  if (value == NULL)
    return 0;

  /* Graph's enum members are camelCase; compare without case so that a
   * service that capitalises them ("Compliant") still maps. */
  for (guint i = 0; i < n_names; i++)
    if (g_ascii_strcasecmp (names[i].graph, value) == 0)
      return names[i].value;

  return 0;
}

RdCompliance
rd_device_mapper_compliance_from_graph (const char *value)
{
  static const EnumName names[] = {
    { "compliant", RD_COMPLIANCE_COMPLIANT },
    { "noncompliant", RD_COMPLIANCE_NONCOMPLIANT },
    { "conflict", RD_COMPLIANCE_CONFLICT },
    { "error", RD_COMPLIANCE_ERROR },
    { "inGracePeriod", RD_COMPLIANCE_IN_GRACE_PERIOD },
    { "configManager", RD_COMPLIANCE_CONFIG_MANAGER },
  };

  return lookup (names, G_N_ELEMENTS (names), value);
}

RdOwnerType
rd_device_mapper_owner_type_from_graph (const char *value)
{
  static const EnumName names[] = {
    { "company", RD_OWNER_TYPE_COMPANY },
    { "personal", RD_OWNER_TYPE_PERSONAL },
  };

  return lookup (names, G_N_ELEMENTS (names), value);
}

RdJoinType
rd_device_mapper_join_type_from_graph (const char *value)
{
  static const EnumName names[] = {
    { "azureADJoined", RD_JOIN_TYPE_ENTRA_JOINED },
    { "hybridAzureADJoined", RD_JOIN_TYPE_HYBRID_JOINED },
    { "azureADRegistered", RD_JOIN_TYPE_ENTRA_REGISTERED },
  };

  return lookup (names, G_N_ELEMENTS (names), value);
}

RdManagementState
rd_device_mapper_management_state_from_graph (const char *value)
{
  static const EnumName names[] = {
    { "managed", RD_MANAGEMENT_STATE_MANAGED },
    { "retirePending", RD_MANAGEMENT_STATE_RETIRE_PENDING },
    { "retireFailed", RD_MANAGEMENT_STATE_RETIRE_FAILED },
    { "wipePending", RD_MANAGEMENT_STATE_WIPE_PENDING },
    { "wipeFailed", RD_MANAGEMENT_STATE_WIPE_FAILED },
    { "unhealthy", RD_MANAGEMENT_STATE_UNHEALTHY },
    { "deletePending", RD_MANAGEMENT_STATE_DELETE_PENDING },
    { "retireIssued", RD_MANAGEMENT_STATE_RETIRE_ISSUED },
    { "wipeIssued", RD_MANAGEMENT_STATE_WIPE_ISSUED },
    { "wipeCanceled", RD_MANAGEMENT_STATE_WIPE_CANCELED },
    { "retireCanceled", RD_MANAGEMENT_STATE_RETIRE_CANCELED },
    { "discovered", RD_MANAGEMENT_STATE_DISCOVERED },
  };

  return lookup (names, G_N_ELEMENTS (names), value);
}

RdEncryptionReadiness
rd_device_mapper_readiness_from_graph (const char *value)
{
  static const EnumName names[] = {
    { "ready", RD_ENCRYPTION_READINESS_READY },
    { "notReady", RD_ENCRYPTION_READINESS_NOT_READY },
  };

  return lookup (names, G_N_ELEMENTS (names), value);
}

static gboolean
flags_contain (const char *flags,
               const char *flag)
{
  g_auto (GStrv) parts = g_strsplit (flags, ",", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (parts[i]), flag) == 0)
      return TRUE;

  return FALSE;
}

/**
 * rd_device_mapper_winre_state_from_graph:
 * @advanced_bitlocker_states: (nullable): the member of a
 *   managedDeviceEncryptionState: a flags enum, which Graph writes as one
 *   comma-separated string; an array of names is accepted too
 *
 * Returns: NOT_CONFIGURED when the BitLocker report names
 *   windowsRecoveryEnvironmentNotConfigured, CONFIGURED when it reports
 *   states without it, UNKNOWN when it reports nothing
 */
RdWinreState
rd_device_mapper_winre_state_from_graph (JsonNode *advanced_bitlocker_states)
{
  static const char flag[] = "windowsRecoveryEnvironmentNotConfigured";
  JsonNode *node = advanced_bitlocker_states;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return RD_WINRE_STATE_UNKNOWN;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *value = json_node_get_string (node);

      if (*value == '\0')
        return RD_WINRE_STATE_UNKNOWN;
      return flags_contain (value, flag) ? RD_WINRE_STATE_NOT_CONFIGURED
                                         : RD_WINRE_STATE_CONFIGURED;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      if (n == 0)
        return RD_WINRE_STATE_UNKNOWN;
      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_VALUE (element) &&
              json_node_get_value_type (element) == G_TYPE_STRING &&
              flags_contain (json_node_get_string (element), flag))
            return RD_WINRE_STATE_NOT_CONFIGURED;
        }
      return RD_WINRE_STATE_CONFIGURED;
    }

  return RD_WINRE_STATE_UNKNOWN;
}

/**
 * rd_device_mapper_get_string:
 *
 * Returns: (nullable): the string member, or %NULL when it is missing,
 *   null, empty or not a string. Graph sends "" for many facts it does not
 *   have, which is "unknown" here.
 */
const char *
rd_device_mapper_get_string (JsonObject *object,
                             const char *member)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  value = json_node_get_string (node);
  return value != NULL && *value != '\0' ? value : NULL;
}

static GDateTime *
get_date_time (JsonObject *object,
               const char *member)
{
  const char *value = rd_device_mapper_get_string (object, member);
  g_autoptr (GTimeZone) utc = NULL;
  g_autoptr (GDateTime) dt = NULL;

  if (value == NULL)
    return NULL;

  utc = g_time_zone_new_utc ();
  dt = g_date_time_new_from_iso8601 (value, utc);

  /* Intune writes 0001-01-01T00:00:00Z for "never". */
  if (dt == NULL || g_date_time_get_year (dt) <= 1)
    return NULL;

  return g_steal_pointer (&dt);
}

/* Properties for g_object_new_with_properties(): one call per device, as
 * an inventory can hold 100,000 of them. */
#define MAX_PROPS 24

typedef struct
{
  const char *names[MAX_PROPS];
  GValue values[MAX_PROPS];
  guint n;
} Props;

static GValue *
props_add (Props      *props,
           const char *name,
           GType       type)
{
  GValue *value;

  g_assert (props->n < MAX_PROPS);
  props->names[props->n] = name;
  value = &props->values[props->n++];
  g_value_init (value, type);

  return value;
}

static void
props_add_string (Props      *props,
                  JsonObject *object,
                  const char *name,
                  const char *member)
{
  const char *value = rd_device_mapper_get_string (object, member);

  if (value != NULL)
    g_value_set_string (props_add (props, name, G_TYPE_STRING), value);
}

static void
props_add_enum (Props      *props,
                const char *name,
                GType       type,
                int         value)
{
  if (value != 0)
    g_value_set_enum (props_add (props, name, type), value);
}

static void
props_add_date_time (Props      *props,
                     JsonObject *object,
                     const char *name,
                     const char *member)
{
  GDateTime *dt = get_date_time (object, member);

  if (dt != NULL)
    g_value_take_boxed (props_add (props, name, G_TYPE_DATE_TIME), dt);
}

/**
 * rd_device_mapper_device_from_graph:
 * @managed_device: a managedDevice as Graph lists it (v1.0 or beta)
 *
 * Maps the facts the managedDevice itself carries. The facts from other
 * sources (BitLocker keys, Autopilot, the encryption report) stay unknown
 * here; RdTenantSync joins them.
 *
 * Returns: (transfer full) (nullable): the device, or %NULL when the
 *   object has no id
 */
RdDevice *
rd_device_mapper_device_from_graph (JsonObject *managed_device)
{
  JsonObject *o = managed_device;
  Props props = { 0 };
  JsonNode *encrypted;
  RdDevice *device;

  g_return_val_if_fail (managed_device != NULL, NULL);

  if (rd_device_mapper_get_string (o, "id") == NULL)
    return NULL;

  props_add_string (&props, o, "id", "id");
  props_add_string (&props, o, "name", "deviceName");
  props_add_string (&props, o, "entra-device-id", "azureADDeviceId");
  props_add_string (&props, o, "serial", "serialNumber");
  props_add_string (&props, o, "manufacturer", "manufacturer");
  props_add_string (&props, o, "model", "model");
  props_add_string (&props, o, "operating-system", "operatingSystem");
  props_add_string (&props, o, "os-version", "osVersion");
  props_add_string (&props, o, "user-principal-name", "userPrincipalName");
  props_add_string (&props, o, "user-display-name", "userDisplayName");
  props_add_string (&props, o, "management-agent", "managementAgent");
  props_add_string (&props, o, "enrollment-type", "deviceEnrollmentType");
  props_add_date_time (&props, o, "enrolled", "enrolledDateTime");
  props_add_date_time (&props, o, "last-sync", "lastSyncDateTime");

  props_add_enum (
    &props, "compliance", RD_TYPE_COMPLIANCE,
    rd_device_mapper_compliance_from_graph (rd_device_mapper_get_string (o, "complianceState")));
  props_add_enum (&props, "owner-type", RD_TYPE_OWNER_TYPE,
                  rd_device_mapper_owner_type_from_graph (
                    rd_device_mapper_get_string (o, "managedDeviceOwnerType")));
  props_add_enum (
    &props, "join-type", RD_TYPE_JOIN_TYPE,
    rd_device_mapper_join_type_from_graph (rd_device_mapper_get_string (o, "joinType")));
  props_add_enum (&props, "management-state", RD_TYPE_MANAGEMENT_STATE,
                  rd_device_mapper_management_state_from_graph (
                    rd_device_mapper_get_string (o, "managementState")));

  encrypted = json_object_get_member (o, "isEncrypted");
  if (encrypted != NULL && JSON_NODE_HOLDS_VALUE (encrypted) &&
      json_node_get_value_type (encrypted) == G_TYPE_BOOLEAN)
    props_add_enum (&props, "encrypted", RD_TYPE_TRISTATE,
                    json_node_get_boolean (encrypted) ? RD_TRISTATE_YES : RD_TRISTATE_NO);

  device = RD_DEVICE (
    g_object_new_with_properties (RD_TYPE_DEVICE, props.n, props.names, props.values));

  for (guint i = 0; i < props.n; i++)
    g_value_unset (&props.values[i]);

  return device;
}
