/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-readiness"

#include "config.h"

#include "rd-readiness.h"
#include "rd-method.h"
#include "rd-test-util.h"

#include <string.h>

/* The clock every rule test runs at, so that "stale" is exact. */
#define NOW "2024-06-15T12:00:00Z"

static GDateTime *
fixed_now (void)
{
  GDateTime *now = g_date_time_new_from_iso8601 (NOW, NULL);

  g_assert_nonnull (now);
  return now;
}

/* A device that passes every rule of every method. */
static RdDevice *
ready_device (void)
{
  g_autoptr(GDateTime) last_sync = g_date_time_new_from_iso8601 ("2024-06-14T09:30:00Z", NULL);

  return rd_test_ready_device ("0f1e2d3c-aaaa-4bbb-8ccc-000000000001", "DESK-0001",
                               "10.0.19045.3803", last_sync);
}

/* Sets one property from "name=value": enums by nick, an empty value is
 * NULL (unknown) for strings and dates, "" is the empty string, dates are in
 * ISO 8601. */
static void
set_from_string (GObject    *object,
                 const char *assignment)
{
  g_auto(GStrv) parts = g_strsplit (assignment, "=", 2);
  g_auto(GValue) value = G_VALUE_INIT;
  GParamSpec *pspec;
  const char *text;

  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (object), parts[0]);
  g_assert_nonnull (pspec);
  text = parts[1];

  g_value_init (&value, pspec->value_type);
  if (G_IS_PARAM_SPEC_ENUM (pspec))
    {
      GEnumValue *ev = g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM (pspec)->enum_class, text);

      g_assert_nonnull (ev);
      g_value_set_enum (&value, ev->value);
    }
  else if (pspec->value_type == G_TYPE_STRING)
    {
      if (g_str_equal (text, "\"\""))
        g_value_set_string (&value, "");
      else
        g_value_set_string (&value, *text != '\0' ? text : NULL);
    }
  else if (pspec->value_type == G_TYPE_INT)
    {
      gint64 v;

      g_assert_true (g_ascii_string_to_signed (text, 10, G_MININT, G_MAXINT, &v, NULL));
      g_value_set_int (&value, (int) v);
    }
  else if (pspec->value_type == G_TYPE_DATE_TIME)
    {
      g_autoptr(GDateTime) dt = NULL;

      if (*text != '\0')
        {
          dt = g_date_time_new_from_iso8601 (text, NULL);
          g_assert_nonnull (dt);
        }
      g_value_set_boxed (&value, dt);
    }
  else
    g_assert_not_reached ();

  g_object_set_property (object, parts[0], &value);
}

/* Returns the one check with @id in @checks, or NULL; fails on duplicates. */
static RdCheck *
find_check (GListModel *checks,
            const char *id)
{
  RdCheck *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (checks); i++)
    {
      g_autoptr(RdCheck) check = g_list_model_get_item (checks, i);

      if (g_strcmp0 (rd_check_get_id (check), id) == 0)
        {
          g_assert_null (found);
          found = check;
        }
    }

  return found;
}

static const char *
severity_nick (RdCheckSeverity severity)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (RD_TYPE_CHECK_SEVERITY);
  GEnumValue *ev = g_enum_get_value (klass, severity);

  g_assert_nonnull (ev);
  return ev->value_nick;
}

#define assert_severity(check, expected)                                                           \
  g_assert_cmpstr (severity_nick (rd_check_get_severity (check)), ==, severity_nick (expected))

/* Rules, each both ways and unknown */

typedef struct
{
  const char *name;
  RdMethod method;
  const char *set;
  const char *check_id;
  RdCheckSeverity severity;
} RuleCase;

#define WIPE RD_METHOD_WIPE_RETAIN
#define OEM RD_METHOD_REIMAGE_OEM
#define UNIVERSAL RD_METHOD_REIMAGE_UNIVERSAL
#define RESET RD_METHOD_AUTOPILOT_RESET
#define PASS RD_CHECK_SEVERITY_PASS
#define INFO RD_CHECK_SEVERITY_INFO
#define WARNING RD_CHECK_SEVERITY_WARNING
#define BLOCKER RD_CHECK_SEVERITY_BLOCKER

static const RuleCase rule_cases[] = {
  /* Windows only, for every method. */
  { "windows", WIPE, "operating-system=Windows", "windows", PASS },
  { "windows-lowercase", RESET, "operating-system=windows", "windows", PASS },
  { "macos", WIPE, "operating-system=macOS", "windows", BLOCKER },
  { "ios", OEM, "operating-system=iOS", "windows", BLOCKER },
  { "android", UNIVERSAL, "operating-system=Android", "windows", BLOCKER },
  { "linux", RESET, "operating-system=Linux", "windows", BLOCKER },
  { "os-unknown", WIPE, "operating-system=", "windows", WARNING },
  { "os-unknown", OEM, "operating-system=", "windows", WARNING },
  { "os-empty", RESET, "operating-system=\"\"", "windows", WARNING },

  /* A pending wipe blocks everything. */
  { "managed", WIPE, "management-state=managed", "no-pending-wipe", PASS },
  { "wipe-pending", WIPE, "management-state=wipe-pending", "no-pending-wipe", BLOCKER },
  { "wipe-pending", OEM, "management-state=wipe-pending", "no-pending-wipe", BLOCKER },
  { "wipe-pending", UNIVERSAL, "management-state=wipe-pending", "no-pending-wipe", BLOCKER },
  { "wipe-pending", RESET, "management-state=wipe-pending", "no-pending-wipe", BLOCKER },
  { "wipe-issued", WIPE, "management-state=wipe-issued", "no-pending-wipe", BLOCKER },
  { "wipe-issued", RESET, "management-state=wipe-issued", "no-pending-wipe", BLOCKER },
  { "wipe-failed", WIPE, "management-state=wipe-failed", "no-pending-wipe", PASS },
  { "wipe-canceled", RESET, "management-state=wipe-canceled", "no-pending-wipe", PASS },
  { "retire-not-wipe", WIPE, "management-state=retire-pending", "no-pending-wipe", PASS },
  { "state-unknown", WIPE, "management-state=unknown", "no-pending-wipe", INFO },

  /* A device leaving management is blocked too. */
  { "managed", OEM, "management-state=managed", "not-leaving-management", PASS },
  { "retire-pending", WIPE, "management-state=retire-pending", "not-leaving-management", BLOCKER },
  { "retire-pending", UNIVERSAL, "management-state=retire-pending", "not-leaving-management",
    BLOCKER },
  { "retire-issued", RESET, "management-state=retire-issued", "not-leaving-management", BLOCKER },
  { "delete-pending", RESET, "management-state=delete-pending", "not-leaving-management", BLOCKER },
  { "delete-pending", OEM, "management-state=delete-pending", "not-leaving-management", BLOCKER },
  { "retire-canceled", WIPE, "management-state=retire-canceled", "not-leaving-management", PASS },
  { "wipe-not-retire", WIPE, "management-state=wipe-pending", "not-leaving-management", PASS },
  { "state-unknown", RESET, "management-state=unknown", "not-leaving-management", INFO },

  /* Last check-in: a warning where the action waits for it, information
   * for a reimage. NOW is 2024-06-15T12:00:00Z. */
  { "recent", WIPE, "last-sync=2024-06-14T12:00:00Z", "last-sync", PASS },
  { "seven-days", WIPE, "last-sync=2024-06-08T12:00:00Z", "last-sync", PASS },
  { "seven-days-and-a-second", WIPE, "last-sync=2024-06-08T11:59:59Z", "last-sync", WARNING },
  { "months", WIPE, "last-sync=2024-01-02T08:00:00Z", "last-sync", WARNING },
  { "other-zone", WIPE, "last-sync=2024-06-08T13:59:59+02:00", "last-sync", WARNING },
  { "clock-skew", WIPE, "last-sync=2024-06-15T12:05:00Z", "last-sync", PASS },
  { "never", WIPE, "last-sync=0001-01-01T00:00:00Z", "last-sync", WARNING },
  { "unknown", WIPE, "last-sync=", "last-sync", WARNING },
  { "recent", RESET, "last-sync=2024-06-10T00:00:00Z", "last-sync", PASS },
  { "stale", RESET, "last-sync=2024-05-01T00:00:00Z", "last-sync", WARNING },
  { "unknown", RESET, "last-sync=", "last-sync", WARNING },
  { "recent", OEM, "last-sync=2024-06-15T11:00:00Z", "last-sync", PASS },
  { "stale", OEM, "last-sync=2024-05-01T00:00:00Z", "last-sync", INFO },
  { "unknown", OEM, "last-sync=", "last-sync", INFO },
  { "stale", UNIVERSAL, "last-sync=2023-11-30T00:00:00Z", "last-sync", INFO },
  { "never", UNIVERSAL, "last-sync=0001-01-01T00:00:00Z", "last-sync", INFO },

  /* MDM-managed, for the wipe and Autopilot Reset. */
  { "mdm", WIPE, "management-agent=mdm", "mdm-managed", PASS },
  { "eas-mdm", WIPE, "management-agent=easMdm", "mdm-managed", PASS },
  { "co-managed", WIPE, "management-agent=configurationManagerClientMdm", "mdm-managed", PASS },
  { "eas", WIPE, "management-agent=eas", "mdm-managed", BLOCKER },
  { "intune-client", WIPE, "management-agent=intuneClient", "mdm-managed", BLOCKER },
  { "config-manager", WIPE, "management-agent=configurationManagerClient", "mdm-managed",
    BLOCKER },
  { "missing", WIPE, "management-agent=", "mdm-managed", WARNING },
  { "unknown", WIPE, "management-agent=unknown", "mdm-managed", WARNING },
  { "mdm", RESET, "management-agent=mdm", "mdm-managed", PASS },
  { "eas", RESET, "management-agent=eas", "mdm-managed", BLOCKER },
  { "unknown", RESET, "management-agent=unknown", "mdm-managed", WARNING },

  /* Corporate-owned, for the wipe and Autopilot Reset. */
  { "company", WIPE, "owner-type=company", "corporate-owned", PASS },
  { "personal", WIPE, "owner-type=personal", "corporate-owned", BLOCKER },
  { "unknown", WIPE, "owner-type=unknown", "corporate-owned", WARNING },
  { "company", RESET, "owner-type=company", "corporate-owned", PASS },
  { "personal", RESET, "owner-type=personal", "corporate-owned", BLOCKER },
  { "unknown", RESET, "owner-type=unknown", "corporate-owned", WARNING },

  /* Windows 10 1709 for the wipe, 1809 for Autopilot Reset. */
  { "1709", WIPE, "os-version=10.0.16299.15", "windows-version", PASS },
  { "1803", WIPE, "os-version=10.0.17134.1", "windows-version", PASS },
  { "windows-11", WIPE, "os-version=10.0.22631.3296", "windows-version", PASS },
  { "below-1709", WIPE, "os-version=10.0.16298.0", "windows-version", BLOCKER },
  { "1703", WIPE, "os-version=10.0.15063.0", "windows-version", BLOCKER },
  { "unknown", WIPE, "os-version=", "windows-version", WARNING },
  { "unreadable", WIPE, "os-version=Windows 10 Enterprise", "windows-version", WARNING },
  { "not-windows", WIPE, "operating-system=macOS", "windows-version", BLOCKER },
  { "1809", RESET, "os-version=10.0.17763.1", "windows-version", PASS },
  { "windows-11", RESET, "os-version=10.0.26100.1", "windows-version", PASS },
  { "1803", RESET, "os-version=10.0.17134.1", "windows-version", BLOCKER },
  { "1709", RESET, "os-version=10.0.16299.15", "windows-version", BLOCKER },
  { "unknown", RESET, "os-version=", "windows-version", WARNING },

  /* Entra joined, for Autopilot Reset. */
  { "entra-joined", RESET, "join-type=entra-joined", "entra-joined", PASS },
  { "hybrid-joined", RESET, "join-type=hybrid-joined", "entra-joined", BLOCKER },
  { "entra-registered", RESET, "join-type=entra-registered", "entra-joined", BLOCKER },
  { "unknown", RESET, "join-type=unknown", "entra-joined", WARNING },

  /* A working Windows Recovery Environment, for Autopilot Reset. */
  { "configured", RESET, "winre-state=configured", "winre", PASS },
  { "not-configured", RESET, "winre-state=not-configured", "winre", BLOCKER },
  { "unknown", RESET, "winre-state=unknown", "winre", INFO },

  /* An Autopilot record, before a reimage or for Autopilot Reset. */
  { "registered", OEM, "autopilot=yes", "autopilot-record", PASS },
  { "not-registered", OEM, "autopilot=no", "autopilot-record", BLOCKER },
  { "unknown", OEM, "autopilot=unknown", "autopilot-record", WARNING },
  { "registered", UNIVERSAL, "autopilot=yes", "autopilot-record", PASS },
  { "not-registered", UNIVERSAL, "autopilot=no", "autopilot-record", BLOCKER },
  { "unknown", UNIVERSAL, "autopilot=unknown", "autopilot-record", WARNING },
  { "registered", RESET, "autopilot=yes", "autopilot-record", PASS },
  { "not-registered", RESET, "autopilot=no", "autopilot-record", BLOCKER },
  { "unknown", RESET, "autopilot=unknown", "autopilot-record", WARNING },

  /* BitLocker, for the Reuse lane. */
  { "encrypted", OEM, "encrypted=yes", "bitlocker-encrypted", PASS },
  { "not-encrypted", OEM, "encrypted=no", "bitlocker-encrypted", WARNING },
  { "unknown", OEM, "encrypted=unknown", "bitlocker-encrypted", WARNING },
  { "encrypted", UNIVERSAL, "encrypted=yes", "bitlocker-encrypted", PASS },
  { "not-encrypted", UNIVERSAL, "encrypted=no", "bitlocker-encrypted", WARNING },
  { "encrypted", RESET, "encrypted=yes", "bitlocker-encrypted", PASS },
  { "not-encrypted", RESET, "encrypted=no", "bitlocker-encrypted", WARNING },
  { "unknown", RESET, "encrypted=unknown", "bitlocker-encrypted", WARNING },
  { "one-key", OEM, "escrowed-keys=1", "bitlocker-key-escrowed", PASS },
  { "three-keys", OEM, "escrowed-keys=3", "bitlocker-key-escrowed", PASS },
  { "no-key", OEM, "escrowed-keys=0", "bitlocker-key-escrowed", WARNING },
  { "unknown", OEM, "escrowed-keys=-1", "bitlocker-key-escrowed", WARNING },
  { "one-key", UNIVERSAL, "escrowed-keys=1", "bitlocker-key-escrowed", PASS },
  { "no-key", UNIVERSAL, "escrowed-keys=0", "bitlocker-key-escrowed", WARNING },
  { "one-key", RESET, "escrowed-keys=2", "bitlocker-key-escrowed", PASS },
  { "no-key", RESET, "escrowed-keys=0", "bitlocker-key-escrowed", WARNING },
  { "unknown", RESET, "escrowed-keys=-1", "bitlocker-key-escrowed", WARNING },
};

static void
test_rule (gconstpointer data)
{
  const RuleCase *rc = data;
  g_autoptr(GDateTime) now = fixed_now ();
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GListModel) checks = NULL;
  RdCheck *check;

  set_from_string (G_OBJECT (device), rc->set);
  checks = rd_readiness_evaluate (device, rc->method, now);
  g_assert_nonnull (checks);
  g_assert_true (g_list_model_get_item_type (checks) == RD_TYPE_CHECK);

  check = find_check (checks, rc->check_id);
  g_assert_nonnull (check);
  assert_severity (check, rc->severity);
  g_assert_cmpstr (rd_check_get_title (check), !=, "");
  g_assert_nonnull (rd_check_get_explanation (check));
  g_assert_cmpuint (strlen (rd_check_get_explanation (check)), >, 20);

  if (rc->severity == RD_CHECK_SEVERITY_BLOCKER)
    g_assert_nonnull (rd_readiness_first_blocker (checks));

  g_assert_finalize_object (g_steal_pointer (&checks));
  g_assert_finalize_object (g_steal_pointer (&device));
}

/* Which rules gate which method, and in what order */

typedef struct
{
  RdMethod method;
  const char *ids[16];
} MethodIds;

static const MethodIds method_ids[] = {
  { RD_METHOD_WIPE_RETAIN,
    { "windows", "no-pending-wipe", "not-leaving-management", "last-sync", "mdm-managed",
      "corporate-owned", "windows-version", NULL } },
  { RD_METHOD_REIMAGE_OEM,
    { "windows", "no-pending-wipe", "not-leaving-management", "last-sync", "autopilot-record",
      "bitlocker-encrypted", "bitlocker-key-escrowed", NULL } },
  { RD_METHOD_REIMAGE_UNIVERSAL,
    { "windows", "no-pending-wipe", "not-leaving-management", "last-sync", "autopilot-record",
      "bitlocker-encrypted", "bitlocker-key-escrowed", "universal-image-fallback", NULL } },
  { RD_METHOD_AUTOPILOT_RESET,
    { "windows", "no-pending-wipe", "not-leaving-management", "last-sync", "mdm-managed",
      "corporate-owned", "entra-joined", "windows-version", "winre", "autopilot-record",
      "bitlocker-encrypted", "bitlocker-key-escrowed", "oem-apps-not-restored", NULL } },
};

static void
test_ready_device (gconstpointer data)
{
  const MethodIds *mi = data;
  g_autoptr(GDateTime) now = fixed_now ();
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GListModel) checks = rd_readiness_evaluate (device, mi->method, now);
  guint n = g_list_model_get_n_items (checks);

  g_assert_cmpuint (n, ==, g_strv_length ((char **) mi->ids));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdCheck) check = g_list_model_get_item (checks, i);
      const char *id = rd_check_get_id (check);

      g_assert_cmpstr (id, ==, mi->ids[i]);
      g_assert_nonnull (rd_check_get_title (check));
      g_assert_cmpstr (rd_check_get_explanation (check), !=, "");

      /* A ready device passes everything but the two reminders that
       * hold whatever the device. */
      if (g_str_equal (id, "oem-apps-not-restored"))
        assert_severity (check, RD_CHECK_SEVERITY_WARNING);
      else if (g_str_equal (id, "universal-image-fallback"))
        assert_severity (check, RD_CHECK_SEVERITY_INFO);
      else
        assert_severity (check, RD_CHECK_SEVERITY_PASS);
    }

  g_assert_null (rd_readiness_first_blocker (checks));
}

static void
test_reuse_lane_checks (void)
{
  g_autoptr(RdDevice) device = ready_device ();

  /* The BitLocker rules follow the lane, not a list of methods. */
  for (RdMethod m = RD_METHOD_WIPE_RETAIN; m <= RD_METHOD_AUTOPILOT_RESET; m++)
    {
      g_autoptr(GListModel) checks = rd_readiness_evaluate (device, m, NULL);
      gboolean reuse = rd_method_get_lane (m) == RD_LANE_REUSE;

      g_assert_true ((find_check (checks, "bitlocker-encrypted") != NULL) == reuse);
      g_assert_true ((find_check (checks, "bitlocker-key-escrowed") != NULL) == reuse);
      g_assert_true ((find_check (checks, "autopilot-record") != NULL) == reuse);
      g_assert_true ((find_check (checks, "mdm-managed") != NULL) == rd_method_sends_wipe (m));
    }
}

/* Unknown is never taken as "no": a device Graph told nothing about is
 * neither blocked nor passed by any rule. */
static void
test_unknown_device (void)
{
  g_autoptr(GDateTime) now = fixed_now ();
  g_autoptr(RdDevice) device = rd_device_new ("0f1e2d3c-aaaa-4bbb-8ccc-000000000002", "DESK-0002");

  for (RdMethod m = RD_METHOD_WIPE_RETAIN; m <= RD_METHOD_AUTOPILOT_RESET; m++)
    {
      g_autoptr(GListModel) checks = rd_readiness_evaluate (device, m, now);
      guint n = g_list_model_get_n_items (checks);

      g_assert_cmpuint (n, >=, 7);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(RdCheck) check = g_list_model_get_item (checks, i);
          RdCheckSeverity severity = rd_check_get_severity (check);

          g_test_message ("%s: %s", rd_check_get_id (check), severity_nick (severity));
          g_assert_true (severity == RD_CHECK_SEVERITY_INFO ||
                         severity == RD_CHECK_SEVERITY_WARNING);
        }

      g_assert_null (rd_readiness_first_blocker (checks));
      g_assert_cmpint (rd_readiness_worst_severity (checks), ==, RD_CHECK_SEVERITY_WARNING);
    }
}

/* Explanations that tell the admin what to do */

static char *
dup_explanation (RdDevice   *device,
                 RdMethod    method,
                 const char *id)
{
  g_autoptr(GDateTime) now = fixed_now ();
  g_autoptr(GListModel) checks = rd_readiness_evaluate (device, method, now);
  RdCheck *check = find_check (checks, id);

  g_assert_nonnull (check);
  return g_strdup (rd_check_get_explanation (check));
}

static void
assert_explains (RdDevice   *device,
                 RdMethod    method,
                 const char *id,
                 const char *needle)
{
  g_autofree char *text = dup_explanation (device, method, id);

  if (strstr (text, needle) == NULL)
    g_error ("The explanation of “%s” lacks “%s”: %s", id, needle, text);
}

static void
test_explanations (void)
{
  g_autoptr(RdDevice) device = ready_device ();
  g_autofree char *reimage_record = NULL;
  g_autofree char *reset_record = NULL;

  set_from_string (G_OBJECT (device), "winre-state=not-configured");
  assert_explains (device, RESET, "winre", "reagentc /enable");
  assert_explains (device, RESET, "winre", "0x80070032");

  assert_explains (device, RESET, "oem-apps-not-restored", "Microsoft 365 Apps");
  assert_explains (device, RESET, "oem-apps-not-restored", "Company Portal");
  assert_explains (device, RESET, "oem-apps-not-restored", "Reimaging is the preferred");

  set_from_string (G_OBJECT (device), "last-sync=2024-06-05T10:00:00Z");
  assert_explains (device, WIPE, "last-sync", "10 days ago");
  assert_explains (device, WIPE, "last-sync", "next check-in");
  set_from_string (G_OBJECT (device), "last-sync=0001-01-01T00:00:00Z");
  assert_explains (device, WIPE, "last-sync", "no record");
  set_from_string (G_OBJECT (device), "last-sync=2024-06-14T10:00:00Z");
  assert_explains (device, WIPE, "last-sync", "within the last 7 days");

  set_from_string (G_OBJECT (device), "os-version=10.0.15063.0");
  assert_explains (device, WIPE, "windows-version", "15063");
  assert_explains (device, WIPE, "windows-version", "1709");
  assert_explains (device, RESET, "windows-version", "1809");

  set_from_string (G_OBJECT (device), "join-type=hybrid-joined");
  assert_explains (device, RESET, "entra-joined", "hybrid");

  set_from_string (G_OBJECT (device), "encrypted=no");
  assert_explains (device, OEM, "bitlocker-encrypted", "last user");
  set_from_string (G_OBJECT (device), "escrowed-keys=0");
  assert_explains (device, OEM, "bitlocker-key-escrowed", "Escrow the key");

  set_from_string (G_OBJECT (device), "management-agent=eas");
  assert_explains (device, WIPE, "mdm-managed", "eas");

  set_from_string (G_OBJECT (device), "operating-system=macOS");
  assert_explains (device, WIPE, "windows", "macOS");

  /* A reimage and a reset need the record for different reasons. */
  set_from_string (G_OBJECT (device), "autopilot=no");
  reimage_record = dup_explanation (device, OEM, "autopilot-record");
  reset_record = dup_explanation (device, RESET, "autopilot-record");
  g_assert_cmpstr (reimage_record, !=, reset_record);
  g_assert_nonnull (strstr (reimage_record, "before you wipe the drive"));

  g_assert_finalize_object (g_steal_pointer (&device));
}

static void
test_titles_per_method (void)
{
  g_autoptr(GDateTime) now = fixed_now ();
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GListModel) wipe = rd_readiness_evaluate (device, WIPE, now);
  g_autoptr(GListModel) reset = rd_readiness_evaluate (device, RESET, now);

  g_assert_nonnull (strstr (rd_check_get_title (find_check (wipe, "windows-version")), "1709"));
  g_assert_nonnull (strstr (rd_check_get_title (find_check (reset, "windows-version")), "1809"));
}

/* The clock */

static void
test_now_defaults_to_current_time (void)
{
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GDateTime) current = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) an_hour_ago = g_date_time_add_hours (current, -1);
  g_autoptr(GDateTime) a_month_ago = g_date_time_add_days (current, -30);
  g_autoptr(GListModel) recent = NULL;
  g_autoptr(GListModel) stale = NULL;

  g_object_set (device, "last-sync", an_hour_ago, NULL);
  recent = rd_readiness_evaluate (device, WIPE, NULL);
  assert_severity (find_check (recent, "last-sync"), RD_CHECK_SEVERITY_PASS);

  g_object_set (device, "last-sync", a_month_ago, NULL);
  stale = rd_readiness_evaluate (device, WIPE, NULL);
  assert_severity (find_check (stale, "last-sync"), RD_CHECK_SEVERITY_WARNING);
}

static void
test_now_is_honoured (void)
{
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GDateTime) early = g_date_time_new_from_iso8601 ("2024-06-16T00:00:00Z", NULL);
  g_autoptr(GDateTime) late = g_date_time_new_from_iso8601 ("2024-07-16T00:00:00Z", NULL);
  g_autoptr(GListModel) at_early = rd_readiness_evaluate (device, RESET, early);
  g_autoptr(GListModel) at_late = rd_readiness_evaluate (device, RESET, late);

  /* Same device, same method: only the clock moved. */
  assert_severity (find_check (at_early, "last-sync"), RD_CHECK_SEVERITY_PASS);
  assert_severity (find_check (at_late, "last-sync"), RD_CHECK_SEVERITY_WARNING);
}

/* Several blockers: the list keeps its order */

static void
test_several_blockers (void)
{
  g_autoptr(GDateTime) now = fixed_now ();
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GListModel) checks = NULL;
  RdCheck *blocker;

  set_from_string (G_OBJECT (device), "management-state=wipe-pending");
  set_from_string (G_OBJECT (device), "join-type=hybrid-joined");
  checks = rd_readiness_evaluate (device, RESET, now);

  blocker = rd_readiness_first_blocker (checks);
  g_assert_nonnull (blocker);
  g_assert_cmpstr (rd_check_get_id (blocker), ==, "no-pending-wipe");
  g_assert_true (blocker == find_check (checks, "no-pending-wipe"));
  assert_severity (find_check (checks, "entra-joined"), RD_CHECK_SEVERITY_BLOCKER);
  g_assert_cmpint (rd_readiness_worst_severity (checks), ==, RD_CHECK_SEVERITY_BLOCKER);

  g_clear_object (&checks);
  set_from_string (G_OBJECT (device), "operating-system=macOS");
  checks = rd_readiness_evaluate (device, RESET, now);
  g_assert_cmpstr (rd_check_get_id (rd_readiness_first_blocker (checks)), ==, "windows");
}

/* Helpers */

typedef struct
{
  const char *name;
  RdCheckSeverity severities[6];
  guint n;
  RdCheckSeverity worst;
  int first_blocker;
} HelperCase;

static const HelperCase helper_cases[] = {
  { "empty", { 0 }, 0, PASS, -1 },
  { "all-pass", { PASS, PASS, PASS }, 3, PASS, -1 },
  { "info", { PASS, INFO, PASS }, 3, INFO, -1 },
  { "warning-after-info", { INFO, PASS, WARNING, INFO }, 4, WARNING, -1 },
  { "blocker-last", { PASS, WARNING, INFO, BLOCKER }, 4, BLOCKER, 3 },
  { "blocker-first", { BLOCKER, PASS, BLOCKER, WARNING }, 4, BLOCKER, 0 },
  { "two-blockers", { PASS, INFO, BLOCKER, WARNING, BLOCKER }, 5, BLOCKER, 2 },
};

static void
test_helpers (gconstpointer data)
{
  const HelperCase *hc = data;
  g_autoptr(GListStore) store = g_list_store_new (RD_TYPE_CHECK);
  RdCheck *blocker;

  for (guint i = 0; i < hc->n; i++)
    {
      g_autofree char *id = g_strdup_printf ("check-%u", i);
      g_autoptr(RdCheck) check = rd_check_new (id, hc->severities[i], "Title", "Explanation");

      g_list_store_append (store, check);
    }

  g_assert_cmpstr (severity_nick (rd_readiness_worst_severity (G_LIST_MODEL (store))), ==,
                   severity_nick (hc->worst));

  blocker = rd_readiness_first_blocker (G_LIST_MODEL (store));
  if (hc->first_blocker < 0)
    {
      g_assert_null (blocker);
    }
  else
    {
      g_autoptr(RdCheck) expected = g_list_model_get_item (G_LIST_MODEL (store),
                                                           hc->first_blocker);

      /* Borrowed: the very object the list holds, with no reference added. */
      g_assert_true (blocker == expected);
      g_assert_cmpuint (G_OBJECT (blocker)->ref_count, ==, 2);
    }

  g_assert_finalize_object (g_steal_pointer (&store));
}

/* RdCheck */

static void
test_check_properties (void)
{
  g_autoptr(RdCheck) check = rd_check_new ("winre", RD_CHECK_SEVERITY_BLOCKER, "A title",
                                           "An explanation");
  g_autofree char *id = NULL;
  g_autofree char *title = NULL;
  g_autofree char *explanation = NULL;
  RdCheckSeverity severity = RD_CHECK_SEVERITY_PASS;
  const char *const names[] = { "id", "severity", "title", "explanation" };

  g_object_get (check, "id", &id, "severity", &severity, "title", &title, "explanation",
                &explanation, NULL);
  g_assert_cmpstr (id, ==, "winre");
  g_assert_cmpint (severity, ==, RD_CHECK_SEVERITY_BLOCKER);
  g_assert_cmpstr (title, ==, "A title");
  g_assert_cmpstr (explanation, ==, "An explanation");

  g_assert_cmpstr (rd_check_get_id (check), ==, "winre");
  g_assert_cmpint (rd_check_get_severity (check), ==, RD_CHECK_SEVERITY_BLOCKER);
  g_assert_cmpstr (rd_check_get_title (check), ==, "A title");
  g_assert_cmpstr (rd_check_get_explanation (check), ==, "An explanation");

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (check), names[i]);
      GParamFlags want = G_PARAM_READABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS;

      g_assert_nonnull (pspec);
      g_assert_cmpint (pspec->flags & want, ==, want);
    }

  g_assert_finalize_object (g_steal_pointer (&check));
}

static void
test_checks_freed_with_list (void)
{
  g_autoptr(RdDevice) device = ready_device ();
  g_autoptr(GListModel) checks = rd_readiness_evaluate (device, RESET, NULL);
  gpointer first = g_list_model_get_item (checks, 0);
  gpointer last = g_list_model_get_item (checks, g_list_model_get_n_items (checks) - 1);

  g_object_add_weak_pointer (first, &first);
  g_object_add_weak_pointer (last, &last);
  g_object_unref (first);
  g_object_unref (last);
  g_assert_nonnull (first);

  g_assert_finalize_object (g_steal_pointer (&checks));
  g_assert_null (first);
  g_assert_null (last);
  g_assert_finalize_object (g_steal_pointer (&device));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (rule_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rd/readiness/rule/%s/%s/%s",
                                               rule_cases[i].check_id,
                                               rd_method_to_string (rule_cases[i].method),
                                               rule_cases[i].name);

      g_test_add_data_func (path, &rule_cases[i], test_rule);
    }

  for (guint i = 0; i < G_N_ELEMENTS (method_ids); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rd/readiness/ready-device/%s",
                                               rd_method_to_string (method_ids[i].method));

      g_test_add_data_func (path, &method_ids[i], test_ready_device);
    }

  for (guint i = 0; i < G_N_ELEMENTS (helper_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rd/readiness/helpers/%s", helper_cases[i].name);

      g_test_add_data_func (path, &helper_cases[i], test_helpers);
    }

  g_test_add_func ("/rd/readiness/reuse-lane-checks", test_reuse_lane_checks);
  g_test_add_func ("/rd/readiness/unknown-device", test_unknown_device);
  g_test_add_func ("/rd/readiness/explanations", test_explanations);
  g_test_add_func ("/rd/readiness/titles-per-method", test_titles_per_method);
  g_test_add_func ("/rd/readiness/now/default", test_now_defaults_to_current_time);
  g_test_add_func ("/rd/readiness/now/honoured", test_now_is_honoured);
  g_test_add_func ("/rd/readiness/several-blockers", test_several_blockers);
  g_test_add_func ("/rd/readiness/check/properties", test_check_properties);
  g_test_add_func ("/rd/readiness/check/freed-with-list", test_checks_freed_with_list);

  return g_test_run ();
}
