/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-mapper"

#include "config.h"

#include "rd-device-mapper.h"

#include "rd-device-private.h"

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
   * service that capitalises them ("Compliant") still maps. Graph's own
   * spelling first, found with strcmp(): g_ascii_strcasecmp() takes some
   * 300 instructions for "hybridAzureADJoined", a byte at a time. */
  for (guint i = 0; i < n_names; i++)
    if (strcmp (names[i].graph, value) == 0)
      return names[i].value;
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

/* Whether @flag is one of the comma-separated @flags, without case and
 * around white space. Read in place: the sync reads 100,000 of these. */
static gboolean
flags_contain (const char *flags,
               const char *flag)
{
  gsize length = strlen (flag);

  for (const char *p = flags;;)
    {
      const char *comma = strchr (p, ',');
      const char *end = comma != NULL ? comma : p + strlen (p);

      while (p < end && g_ascii_isspace (*p))
        p++;
      while (end > p && g_ascii_isspace (end[-1]))
        end--;
      if ((gsize) (end - p) == length && g_ascii_strncasecmp (p, flag, length) == 0)
        return TRUE;
      if (comma == NULL)
        return FALSE;
      p = comma + 1;
    }
}

/**
 * rd_device_mapper_winre_state_from_string:
 * @advanced_bitlocker_states: (nullable): advancedBitLockerStates as Graph
 *   writes it, one comma-separated string
 *
 * Returns: as rd_device_mapper_winre_state_from_graph()
 */
RdWinreState
rd_device_mapper_winre_state_from_string (const char *advanced_bitlocker_states)
{
  if (advanced_bitlocker_states == NULL || *advanced_bitlocker_states == '\0')
    return RD_WINRE_STATE_UNKNOWN;

  return flags_contain (advanced_bitlocker_states, "windowsRecoveryEnvironmentNotConfigured")
           ? RD_WINRE_STATE_NOT_CONFIGURED
           : RD_WINRE_STATE_CONFIGURED;
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
    return rd_device_mapper_winre_state_from_string (json_node_get_string (node));

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

/* The string members of a managedDevice that make a device, in the order
 * of the sync's $select, which is how Graph lists them: a page item then
 * finds each one at the first try. Those up to operatingSystem come first,
 * to tell Windows from the rest. */
typedef enum
{
  FACT_ID,
  FACT_NAME,
  FACT_ENTRA_DEVICE_ID,
  FACT_SERIAL,
  FACT_MANUFACTURER,
  FACT_MODEL,
  FACT_OPERATING_SYSTEM,
  N_FIRST_FACTS,
  FACT_OS_VERSION = N_FIRST_FACTS,
  FACT_USER_PRINCIPAL_NAME,
  FACT_USER_DISPLAY_NAME,
  FACT_COMPLIANCE,
  FACT_MANAGEMENT_AGENT,
  FACT_OWNER_TYPE,
  FACT_ENROLLMENT_TYPE,
  FACT_ENROLLED,
  FACT_LAST_SYNC,
  FACT_JOIN_TYPE,
  FACT_MANAGEMENT_STATE,
  N_FACTS
} Fact;

static const RdGraphPageName fact_members[N_FACTS] = {
  [FACT_ID] = RD_GRAPH_PAGE_NAME ("id"),
  [FACT_NAME] = RD_GRAPH_PAGE_NAME ("deviceName"),
  [FACT_ENTRA_DEVICE_ID] = RD_GRAPH_PAGE_NAME ("azureADDeviceId"),
  [FACT_SERIAL] = RD_GRAPH_PAGE_NAME ("serialNumber"),
  [FACT_MANUFACTURER] = RD_GRAPH_PAGE_NAME ("manufacturer"),
  [FACT_MODEL] = RD_GRAPH_PAGE_NAME ("model"),
  [FACT_OPERATING_SYSTEM] = RD_GRAPH_PAGE_NAME ("operatingSystem"),
  [FACT_OS_VERSION] = RD_GRAPH_PAGE_NAME ("osVersion"),
  [FACT_USER_PRINCIPAL_NAME] = RD_GRAPH_PAGE_NAME ("userPrincipalName"),
  [FACT_USER_DISPLAY_NAME] = RD_GRAPH_PAGE_NAME ("userDisplayName"),
  [FACT_COMPLIANCE] = RD_GRAPH_PAGE_NAME ("complianceState"),
  [FACT_MANAGEMENT_AGENT] = RD_GRAPH_PAGE_NAME ("managementAgent"),
  [FACT_OWNER_TYPE] = RD_GRAPH_PAGE_NAME ("managedDeviceOwnerType"),
  [FACT_ENROLLMENT_TYPE] = RD_GRAPH_PAGE_NAME ("deviceEnrollmentType"),
  [FACT_ENROLLED] = RD_GRAPH_PAGE_NAME ("enrolledDateTime"),
  [FACT_LAST_SYNC] = RD_GRAPH_PAGE_NAME ("lastSyncDateTime"),
  /* isEncrypted, a boolean, comes between these in the $select. */
  [FACT_JOIN_TYPE] = RD_GRAPH_PAGE_NAME ("joinType"),
  [FACT_MANAGEMENT_STATE] = RD_GRAPH_PAGE_NAME ("managementState"),
};

/* Reads the string members from @first (a Fact) to before @last into
 * @values, from a JsonObject or a page item alike. */
typedef void (*GetStrings) (gconstpointer  source,
                            Fact           first,
                            Fact           last,
                            const char   **values);
typedef gboolean (*GetBoolean) (gconstpointer  source,
                                const char    *member,
                                gboolean      *value);

/* Whether @value is "YYYY-MM-DDTHH:MM:SSZ", the form Graph writes. Each
 * byte is looked at only when those before it matched, so never past the
 * NUL. */
static gboolean
is_plain_utc (const char *value)
{
#define DIGIT(i) ((guint) ((guchar) value[i] - '0') <= 9)
  return DIGIT (0) && DIGIT (1) && DIGIT (2) && DIGIT (3) && value[4] == '-' && DIGIT (5) &&
         DIGIT (6) && value[7] == '-' && DIGIT (8) && DIGIT (9) && value[10] == 'T' &&
         DIGIT (11) && DIGIT (12) && value[13] == ':' && DIGIT (14) && DIGIT (15) &&
         value[16] == ':' && DIGIT (17) && DIGIT (18) && value[19] == 'Z' && value[20] == '\0';
#undef DIGIT
}

static int
digits (const char *p,
        guint       n)
{
  int value = 0;

  for (guint i = 0; i < n; i++)
    value = value * 10 + (p[i] - '0');

  return value;
}

/* Whether the plain UTC date @value (see is_plain_utc()) has every field
 * in range and a year from 2 on, with its Unix time in @unix_time. */
static gboolean
plain_utc_to_unix (const char *value,
                   gint64     *unix_time)
{
  static const guint8 month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int year = digits (value, 4);
  int month = digits (value + 5, 2);
  int day = digits (value + 8, 2);
  int hour = digits (value + 11, 2);
  int minute = digits (value + 14, 2);
  int second = digits (value + 17, 2);
  gboolean leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  gint64 y;
  gint64 era;
  gint64 year_of_era;
  gint64 day_of_year;
  gint64 day_of_era;
  gint64 days;

  if (year <= 1 || month < 1 || month > 12 || day < 1 ||
      day > month_days[month - 1] + (month == 2 && leap) || hour > 23 || minute > 59 ||
      second > 59)
    return FALSE;

  /* Days since 1970-01-01 in the proleptic Gregorian calendar, by eras of
   * 400 years starting on 1 March, so that the leap day ends a year. */
  y = year - (month <= 2);
  era = y / 400;
  year_of_era = y - era * 400;
  day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  days = era * 146097 + day_of_era - 719468;

  *unix_time = days * 86400 + hour * 3600 + minute * 60 + second;
  return TRUE;
}

/* A Graph date as RdDeviceFacts takes it: microseconds since 1970, or
 * %RD_DEVICE_NO_DATE. */
static gint64
parse_date_time (const char *value,
                 GTimeZone  *utc)
{
  g_autoptr (GDateTime) dt = NULL;

  if (value == NULL)
    return RD_DEVICE_NO_DATE;

  /* What g_date_time_new_from_iso8601() makes of it, counted here from
   * the digits without its general parser or a GDateTime. It alone for
   * the rest, such as a leap second, a fraction or another offset. */
  if (is_plain_utc (value))
    {
      gint64 unix_time;

      /* Its year is 2 or later. */
      if (plain_utc_to_unix (value, &unix_time))
        return _rd_device_date_from_usec (unix_time * G_USEC_PER_SEC);
    }
  dt = g_date_time_new_from_iso8601 (value, utc);

  /* Intune writes 0001-01-01T00:00:00Z for "never". */
  if (dt == NULL || g_date_time_get_year (dt) <= 1)
    return RD_DEVICE_NO_DATE;

  return _rd_device_date_from_date_time (dt);
}

/* With @other_os, a device that is not Windows is %NULL, *@other_os set,
 * and not built. */
static RdDevice *
device_from (gconstpointer  source,
             GetStrings     get_strings,
             GetBoolean     get_boolean,
             gboolean      *other_os)
{
  static GTimeZone *utc;
  const char *values[N_FACTS];
  RdDeviceFacts facts = { 0 };
  gboolean encrypted;

  get_strings (source, 0, N_FIRST_FACTS, values);
  if (values[FACT_ID] == NULL)
    return NULL;
  /* As rd_device_is_windows(). */
  if (other_os != NULL && (values[FACT_OPERATING_SYSTEM] == NULL ||
                           g_ascii_strncasecmp (values[FACT_OPERATING_SYSTEM], "windows", 7) != 0))
    {
      *other_os = TRUE;
      return NULL;
    }
  get_strings (source, N_FIRST_FACTS, FACT_JOIN_TYPE, values);
  if (get_boolean (source, "isEncrypted", &encrypted))
    facts.encrypted = encrypted ? RD_TRISTATE_YES : RD_TRISTATE_NO;
  get_strings (source, FACT_JOIN_TYPE, N_FACTS, values);

  /* One zone for every date of every device, not one each. */
  if (g_once_init_enter (&utc))
    g_once_init_leave (&utc, g_time_zone_new_utc ());

  facts.id = values[FACT_ID];
  facts.name = values[FACT_NAME];
  facts.entra_device_id = values[FACT_ENTRA_DEVICE_ID];
  facts.serial = values[FACT_SERIAL];
  facts.manufacturer = values[FACT_MANUFACTURER];
  facts.model = values[FACT_MODEL];
  facts.operating_system = values[FACT_OPERATING_SYSTEM];
  facts.os_version = values[FACT_OS_VERSION];
  facts.user_principal_name = values[FACT_USER_PRINCIPAL_NAME];
  facts.user_display_name = values[FACT_USER_DISPLAY_NAME];
  facts.compliance = rd_device_mapper_compliance_from_graph (values[FACT_COMPLIANCE]);
  facts.management_agent = values[FACT_MANAGEMENT_AGENT];
  facts.owner_type = rd_device_mapper_owner_type_from_graph (values[FACT_OWNER_TYPE]);
  facts.enrollment_type = values[FACT_ENROLLMENT_TYPE];
  facts.enrolled = parse_date_time (values[FACT_ENROLLED], utc);
  facts.last_sync = parse_date_time (values[FACT_LAST_SYNC], utc);
  facts.join_type = rd_device_mapper_join_type_from_graph (values[FACT_JOIN_TYPE]);
  facts.management_state = rd_device_mapper_management_state_from_graph (
    values[FACT_MANAGEMENT_STATE]);

  return _rd_device_new_from_facts (&facts);
}

static void
object_get_strings (gconstpointer   source,
                    Fact            first,
                    Fact            last,
                    const char    **values)
{
  for (Fact fact = first; fact < last; fact++)
    values[fact] = rd_device_mapper_get_string ((JsonObject *) source, fact_members[fact].name);
}

static gboolean
object_get_boolean (gconstpointer  source,
                    const char    *member,
                    gboolean      *value)
{
  JsonNode *node = json_object_get_member ((JsonObject *) source, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;

  *value = json_node_get_boolean (node);
  return TRUE;
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
  g_return_val_if_fail (managed_device != NULL, NULL);

  return device_from (managed_device, object_get_strings, object_get_boolean, NULL);
}

typedef struct
{
  RdGraphPage *page;
  guint item;
} PageItem;

static void
page_get_strings (gconstpointer   source,
                  Fact            first,
                  Fact            last,
                  const char    **values)
{
  const PageItem *item = source;

  rd_graph_page_get_strings (item->page, item->item, fact_members + first, last - first,
                             values + first);
}

static gboolean
page_get_boolean (gconstpointer  source,
                  const char    *member,
                  gboolean      *value)
{
  const PageItem *item = source;

  return rd_graph_page_get_boolean (item->page, item->item, member, value);
}

/**
 * rd_device_mapper_device_from_page:
 * @item: the index of a managedDevice on @page
 *
 * Like rd_device_mapper_device_from_graph(), for an item of a page read by
 * RdGraphPage.
 *
 * Returns: (transfer full) (nullable): the device, or %NULL when the item
 *   is not an object or has no id
 */
RdDevice *
rd_device_mapper_device_from_page (RdGraphPage *page,
                                   guint        item)
{
  PageItem source = { page, item };

  g_return_val_if_fail (page != NULL, NULL);

  if (!rd_graph_page_is_object (page, item))
    return NULL;

  return device_from (&source, page_get_strings, page_get_boolean, NULL);
}

/**
 * rd_device_mapper_windows_device_from_page:
 * @other_os: (out): set when the item is a device that is not Windows
 *
 * Like rd_device_mapper_device_from_page(), building only Windows devices
 * (as rd_device_is_windows() says): the sync counts the others.
 *
 * Returns: (transfer full) (nullable): the device, or %NULL when the item
 *   is not an object, has no id, or is not Windows (@other_os %TRUE)
 */
RdDevice *
rd_device_mapper_windows_device_from_page (RdGraphPage *page,
                                           guint        item,
                                           gboolean    *other_os)
{
  PageItem source = { page, item };

  g_return_val_if_fail (page != NULL, NULL);
  g_return_val_if_fail (other_os != NULL, NULL);

  *other_os = FALSE;
  if (!rd_graph_page_is_object (page, item))
    return NULL;

  return device_from (&source, page_get_strings, page_get_boolean, other_os);
}
