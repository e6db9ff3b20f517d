/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-demo-tenant.h"
#include "rd-device-mapper.h"
#include "rd-device-private.h"
#include "rd-graph-client.h"
#include "rd-graph-error.h"
#include "rd-static-token-source.h"
#include "rd-tenant-sync.h"

#include "graph-test-server.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* RdTenantSync against the demo tenant (data/demo-tenant.json, or a tenant
 * written by the test), and a scripted server for exact error paths. Each
 * test runs with its own $XDG_CACHE_HOME (G_TEST_OPTION_ISOLATE_DIRS). */

typedef struct
{
  RdDemoTenant *tenant;
  RdGraphClient *client;
  RdTenantSync *sync;
} Fixture;

/* A sync of the fixture's tenant; a second one is as the app at its next start. */
static RdTenantSync *
fixture_new_sync (Fixture *fixture)
{
  return rd_tenant_sync_new (fixture->client, rd_demo_tenant_get_tenant_id (fixture->tenant));
}

static void
fixture_start (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdTokenSource) tokens = NULL;
  g_autofree char *token = NULL;
  g_autofree char *graph_url = NULL;

  g_assert_true (rd_demo_tenant_start (fixture->tenant, &error));
  g_assert_no_error (error);

  token = rd_demo_tenant_issue_access_token (fixture->tenant);
  tokens = rd_static_token_source_new (token);
  graph_url = rd_demo_tenant_dup_graph_url (fixture->tenant);
  fixture->client = rd_graph_client_new (graph_url, tokens);
  fixture->sync = fixture_new_sync (fixture);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->tenant = rd_demo_tenant_new ();
  g_assert_true (rd_demo_tenant_load (fixture->tenant, NULL, &error));
  g_assert_no_error (error);
  fixture_start (fixture);
}

/* For tests that load their own data before starting. */
static void
fixture_set_up_empty (Fixture       *fixture,
                      gconstpointer  data)
{
  fixture->tenant = rd_demo_tenant_new ();
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->sync != NULL)
    g_assert_finalize_object (fixture->sync);
  if (fixture->client != NULL)
    g_assert_finalize_object (fixture->client);
  rd_demo_tenant_stop (fixture->tenant);
  g_assert_finalize_object (fixture->tenant);
}

static void
on_result_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GPtrArray *
run_sync (RdTenantSync  *sync,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_tenant_sync_run_async (sync, cancellable, on_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return rd_tenant_sync_run_finish (sync, result, error);
}

static GPtrArray *
load_cache (RdTenantSync  *sync,
            GDateTime    **saved_at,
            GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_tenant_sync_load_cache_async (sync, NULL, on_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return rd_tenant_sync_load_cache_finish (sync, result, saved_at, NULL, error);
}

/* The cache that @sync loads holds as many devices as @devices, saved at @synced_at. */
static void
assert_cache_holds (RdTenantSync *sync,
                    GPtrArray    *devices,
                    GDateTime    *synced_at)
{
  g_autoptr (GPtrArray) cached = NULL;
  g_autoptr (GDateTime) saved_at = NULL;

  cached = rd_tenant_sync_load_cache (sync, &saved_at);
  g_assert_nonnull (cached);
  g_assert_cmpuint (cached->len, ==, devices->len);
  g_assert_true (g_date_time_equal (saved_at, synced_at));
}

/* Waits for the cache write of the last sync, which must succeed. */
static void
flush_cache (RdTenantSync *sync)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  rd_tenant_sync_flush_cache_async (sync, NULL, on_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (rd_tenant_sync_flush_cache_finish (sync, result, &error));
  g_assert_no_error (error);
}

static RdDevice *
find_device (GPtrArray  *devices,
             const char *name)
{
  for (guint i = 0; i < devices->len; i++)
    {
      RdDevice *device = g_ptr_array_index (devices, i);

      if (g_strcmp0 (rd_device_get_name (device), name) == 0)
        return device;
    }

  return NULL;
}

static RdDevice *
get_device (GPtrArray  *devices,
            const char *name)
{
  RdDevice *device = find_device (devices, name);

  if (device == NULL)
    g_error ("No device named %s", name);

  return device;
}

static guint
count_notes (RdTenantSync *sync)
{
  const char *const *notes = rd_tenant_sync_get_notes (sync);

  return notes != NULL ? g_strv_length ((char **) notes) : 0;
}

/* A full sync of the bundled demo tenant */

static void
test_full_sync (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device;

  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (devices);

  g_assert_cmpint (rd_tenant_sync_get_phase (fixture->sync), ==, RD_SYNC_PHASE_DONE);
  g_assert_cmpuint (rd_tenant_sync_get_devices_loaded (fixture->sync), ==, 42);
  g_assert_cmpuint (rd_tenant_sync_get_pages_loaded (fixture->sync), >=, 4);
  g_assert_cmpuint (count_notes (fixture->sync), ==, 0);
  g_assert_false (rd_tenant_sync_get_stale (fixture->sync));
  g_assert_nonnull (rd_tenant_sync_get_synced_at (fixture->sync));

  /* The iPhone, the Pixel and the MacBook are counted, not returned. */
  g_assert_cmpuint (rd_tenant_sync_get_non_windows_count (fixture->sync), ==, 3);
  g_assert_cmpuint (devices->len, ==, 39);
  for (guint i = 0; i < devices->len; i++)
    g_assert_true (rd_device_is_windows (g_ptr_array_index (devices, i)));
  g_assert_null (find_device (devices, "Isabelle's iPhone"));
  g_assert_null (find_device (devices, "MBP-DESIGN-04"));

  /* Two escrowed keys, Autopilot enrolled, in the encryption report. */
  device = get_device (devices, "CON-LT-0100");
  g_assert_cmpstr (rd_device_get_id (device), ==, "ea5f5468-0d7b-4c94-8a44-ad2b1803c69c");
  g_assert_cmpstr (rd_device_get_entra_device_id (device), ==,
                   "81ec5433-4cc3-49ea-bb68-4ca5c4a2f61e");
  g_assert_cmpstr (rd_device_get_serial (device), ==, "F2WM4BK");
  g_assert_cmpstr (rd_device_get_model (device), ==, "Latitude 5440");
  g_assert_cmpstr (rd_device_get_user_principal_name (device), ==, "adele.vance@contoso.example");
  g_assert_cmpstr (rd_device_get_management_agent (device), ==, "mdm");
  g_assert_cmpstr (rd_device_get_enrollment_type (device), ==, "windowsAzureADJoin");
  g_assert_cmpint (rd_device_get_os_build (device), ==, 22631);
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 2);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_YES);
  g_assert_cmpstr (rd_device_get_autopilot_state (device), ==, "enrolled");
  g_assert_cmpint (rd_device_get_encrypted (device), ==, RD_TRISTATE_YES);
  g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "2.0");
  g_assert_cmpint (rd_device_get_encryption_readiness (device), ==, RD_ENCRYPTION_READINESS_READY);
  g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_CONFIGURED);
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_ENTRA_JOINED);
  g_assert_cmpint (rd_device_get_owner_type (device), ==, RD_OWNER_TYPE_COMPANY);
  g_assert_cmpint (rd_device_get_compliance (device), ==, RD_COMPLIANCE_COMPLIANT);
  g_assert_cmpint (rd_device_get_management_state (device), ==, RD_MANAGEMENT_STATE_MANAGED);
  g_assert_nonnull (rd_device_get_last_sync (device));
  g_assert_nonnull (rd_device_get_enrolled (device));

  /* Not encrypted, no key escrowed. */
  device = get_device (devices, "CON-LT-0420");
  g_assert_cmpint (rd_device_get_encrypted (device), ==, RD_TRISTATE_NO);
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 0);
  g_assert_cmpint (rd_device_get_compliance (device), ==, RD_COMPLIANCE_NONCOMPLIANT);

  /* Encrypted, but the key backup failed. */
  device = get_device (devices, "CON-LT-0433");
  g_assert_cmpint (rd_device_get_encrypted (device), ==, RD_TRISTATE_YES);
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 0);

  /* WinRE not configured, per the BitLocker report. */
  device = get_device (devices, "CON-LT-0501");
  g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_NOT_CONFIGURED);

  /* TPM 1.2. */
  device = get_device (devices, "CON-DT-0088");
  g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "1.2");

  /* A VM without a TPM: "" is no version; other BitLocker states, so WinRE
   * counts as configured. */
  device = get_device (devices, "CON-VM-TEST-01");
  g_assert_null (rd_device_get_tpm_version (device));
  g_assert_cmpint (rd_device_get_encryption_readiness (device), ==,
                   RD_ENCRYPTION_READINESS_NOT_READY);
  g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_CONFIGURED);

  /* Not in Autopilot, while the Autopilot list loaded. */
  device = get_device (devices, "CON-DT-0190");
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_NO);
  g_assert_null (rd_device_get_autopilot_state (device));

  /* Absent from the encryption report: unknown, not "no". */
  device = get_device (devices, "CON-EAS-LEGACY");
  g_assert_null (rd_device_get_tpm_version (device));
  g_assert_cmpint (rd_device_get_encryption_readiness (device), ==,
                   RD_ENCRYPTION_READINESS_UNKNOWN);
  g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_UNKNOWN);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_NO);

  /* Beta-only facts. */
  device = get_device (devices, "CON-LT-0275");
  g_assert_cmpint (rd_device_get_management_state (device), ==, RD_MANAGEMENT_STATE_WIPE_PENDING);
  g_assert_true (rd_device_has_wipe_pending (device));
  device = get_device (devices, "CON-HYB-0142");
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_HYBRID_JOINED);
  device = get_device (devices, "DESKTOP-7H2KQ1M");
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_ENTRA_REGISTERED);
  g_assert_cmpint (rd_device_get_owner_type (device), ==, RD_OWNER_TYPE_PERSONAL);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_NO);

  /* A name outside ASCII arrives intact. */
  device = get_device (devices, "RÉCEPTION-ÅSA-01");
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 1);

  /* The managed device list came from beta, with $select. */
  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (fixture->tenant, "GET", "/deviceManagement/managedDevices"),
    ==, 1);
}

/* Autopilot's serial "PF3KX7AB" against the device's "pf3kx7ab". */
static void
test_serial_case (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device;

  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);

  device = get_device (devices, "CON-LT-0618");
  g_assert_cmpstr (rd_device_get_serial (device), ==, "pf3kx7ab");
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_YES);
  g_assert_cmpstr (rd_device_get_autopilot_state (device), ==, "enrolled");
}

/* Joins at their edges, on a tenant written here. */

static const char custom_tenant[] =
  "{\"tenant\": {\"id\": \"0b5e7a3c-0000-4000-8000-0000000c0570\"},"
  " \"managedDevices\": ["
  /* Entra id in capitals; its keys in mixed case. */
  "  {\"id\": \"d-upper\", \"deviceName\": \"UPPER-01\", \"operatingSystem\": \"Windows\","
  "   \"azureADDeviceId\": \"AABBCCDD-1111-4000-8000-000000000001\", \"serialNumber\": \"S-UP\","
  "   \"complianceState\": \"inGracePeriod\", \"managementState\": \"wipeIssued\","
  "   \"enrolledDateTime\": \"0001-01-01T00:00:00Z\"},"
  /* In the encryption report under another id, by its name in other case. */
  "  {\"id\": \"d-byname\", \"deviceName\": \"LAB-PC-01\", \"operatingSystem\": \"Windows\","
  "   \"azureADDeviceId\": \"00000000-0000-0000-0000-000000000000\", \"serialNumber\": \"XyZ\"},"
  /* Two devices of one name: the name cannot pick either. */
  "  {\"id\": \"d-dup-1\", \"deviceName\": \"DUP-PC\", \"operatingSystem\": \"Windows\"},"
  "  {\"id\": \"d-dup-2\", \"deviceName\": \"DUP-PC\", \"operatingSystem\": \"Windows\","
  "   \"serialNumber\": \"abc-123\"},"
  /* No isEncrypted: the encryption report says. */
  "  {\"id\": \"d-noenc\", \"deviceName\": \"NOENC\", \"operatingSystem\": \"windows\","
  "   \"isEncrypted\": null, \"managedDeviceOwnerType\": \"unknown\", \"joinType\": \"bogus\"},"
  /* Outside ASCII: a serial that Autopilot writes in other case, an id
   * the encryption report writes with other ASCII letters. */
  "  {\"id\": \"d-Ünï\", \"deviceName\": \"UNI\", \"operatingSystem\": \"Windows\","
  "   \"serialNumber\": \"ÉCRAN-7\"},"
  "  {\"id\": \"d-linux\", \"deviceName\": \"tux\", \"operatingSystem\": \"Linux\"}"
  " ],"
  " \"bitlockerRecoveryKeys\": ["
  "  {\"id\": \"k1\", \"deviceId\": \"aabbccdd-1111-4000-8000-000000000001\"},"
  "  {\"id\": \"k2\", \"deviceId\": \"AABBCCDD-1111-4000-8000-000000000001\"},"
  "  {\"id\": \"k3\", \"deviceId\": \"AaBbCcDd-1111-4000-8000-000000000001\"}"
  " ],"
  " \"windowsAutopilotDeviceIdentities\": ["
  "  {\"id\": \"a1\", \"serialNumber\": \"XYZ\", \"enrollmentState\": \"failed\"},"
  "  {\"id\": \"a2\", \"serialNumber\": \"XyZ\", \"enrollmentState\": \"pendingReset\"},"
  "  {\"id\": \"a3\", \"serialNumber\": \"ABC-123\", \"enrollmentState\": \"notContacted\"},"
  "  {\"id\": \"a4\", \"serialNumber\": \"écran-7\", \"enrollmentState\": \"enrolled\"}"
  " ],"
  " \"managedDeviceEncryptionStates\": ["
  "  {\"id\": \"es-other\", \"deviceName\": \"lab-pc-01\", \"tpmSpecificationVersion\": \"2.0\","
  "   \"encryptionReadinessState\": \"ready\", \"encryptionState\": \"encrypted\","
  "   \"advancedBitLockerStates\":"
  "     \"osVolumeUnprotected,windowsRecoveryEnvironmentNotConfigured\"},"
  "  {\"id\": \"es-dup\", \"deviceName\": \"DUP-PC\", \"tpmSpecificationVersion\": \"1.2\"},"
  "  {\"id\": \"D-ÜNï\", \"deviceName\": \"elsewhere\", \"tpmSpecificationVersion\": \"2.0\"},"
  "  {\"id\": \"D-NOENC\", \"deviceName\": \"elsewhere\", \"encryptionState\": \"encrypted\","
  "   \"encryptionReadinessState\": \"ready\"},"
  /* Listed again, later: this one counts. */
  "  {\"id\": \"d-NoEnc\", \"deviceName\": \"elsewhere\", \"encryptionState\": \"encrypted\","
  "   \"encryptionReadinessState\": \"notReady\", \"tpmSpecificationVersion\": \"1.2\"}"
  " ]}";

static void
load_custom_tenant (Fixture    *fixture,
                    const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "custom-tenant.json", NULL);

  g_assert_true (g_file_set_contents (path, json, -1, &error));
  g_assert_no_error (error);
  g_assert_true (rd_demo_tenant_load (fixture->tenant, path, &error));
  g_assert_no_error (error);
  fixture_start (fixture);
}

static void
test_join_edges (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device;

  load_custom_tenant (fixture, custom_tenant);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 6);
  g_assert_cmpuint (rd_tenant_sync_get_non_windows_count (fixture->sync), ==, 1);

  /* Serials fold as g_utf8_casefold() folds them; ids lower their ASCII
   * letters only ("Ü" is not "ü" in an id). */
  device = get_device (devices, "UNI");
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_YES);
  g_assert_cmpstr (rd_device_get_autopilot_state (device), ==, "enrolled");
  g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "2.0");

  /* Keys of every case count for the GUID. */
  device = get_device (devices, "UPPER-01");
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 3);
  g_assert_cmpint (rd_device_get_compliance (device), ==, RD_COMPLIANCE_IN_GRACE_PERIOD);
  g_assert_cmpint (rd_device_get_management_state (device), ==, RD_MANAGEMENT_STATE_WIPE_ISSUED);
  g_assert_true (rd_device_has_wipe_pending (device));
  g_assert_null (rd_device_get_enrolled (device)); /* 0001-01-01 is "never" */
  /* A serial in no Autopilot record. */
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_NO);
  /* In no encryption state, by id or by name. */
  g_assert_null (rd_device_get_tpm_version (device));

  /* The nil GUID is no Entra device: escrow unknown, not 0. The exact
   * serial wins over one differing in case. The encryption state joined
   * by name. */
  device = get_device (devices, "LAB-PC-01");
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, -1);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_YES);
  g_assert_cmpstr (rd_device_get_autopilot_state (device), ==, "pendingReset");
  g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "2.0");
  g_assert_cmpint (rd_device_get_encryption_readiness (device), ==, RD_ENCRYPTION_READINESS_READY);
  g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_NOT_CONFIGURED);

  /* Two devices named DUP-PC: no name join. Without a serial, Autopilot
   * stays unknown; "abc-123" matches "ABC-123". */
  for (guint i = 0; i < devices->len; i++)
    {
      device = g_ptr_array_index (devices, i);
      if (g_strcmp0 (rd_device_get_name (device), "DUP-PC") != 0)
        continue;
      g_assert_null (rd_device_get_tpm_version (device));
      if (g_str_equal (rd_device_get_id (device), "d-dup-1"))
        {
          g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_UNKNOWN);
          g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, -1);
        }
      else
        {
          g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_YES);
          g_assert_cmpstr (rd_device_get_autopilot_state (device), ==, "notContacted");
        }
    }

  /* Joined by id without case, to the later of its two states; encrypted
   * from the report as isEncrypted is null; unknown enum strings are
   * unknown. */
  device = get_device (devices, "NOENC");
  g_assert_cmpint (rd_device_get_encrypted (device), ==, RD_TRISTATE_YES);
  g_assert_cmpint (rd_device_get_encryption_readiness (device), ==,
                   RD_ENCRYPTION_READINESS_NOT_READY);
  g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "1.2");
  g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_UNKNOWN);
  g_assert_cmpint (rd_device_get_owner_type (device), ==, RD_OWNER_TYPE_UNKNOWN);
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_UNKNOWN);
  g_assert_cmpint (rd_device_get_compliance (device), ==, RD_COMPLIANCE_UNKNOWN);
}

/* Optional sources refused */

typedef struct
{
  RdDemoSource sources;
  const char *permission;
} ForbiddenCase;

static const ForbiddenCase forbidden_keys = { RD_DEMO_SOURCE_BITLOCKER_KEYS,
                                              "BitLockerKey.ReadBasic.All" };
static const ForbiddenCase forbidden_autopilot = { RD_DEMO_SOURCE_AUTOPILOT,
                                                   "DeviceManagementServiceConfig.Read.All" };
static const ForbiddenCase forbidden_encryption = { RD_DEMO_SOURCE_ENCRYPTION_STATES,
                                                    "DeviceManagementConfiguration.Read.All" };

static void
test_forbidden (Fixture       *fixture,
                gconstpointer  data)
{
  const ForbiddenCase *test_case = data;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  const char *const *notes;
  RdDevice *device;

  rd_demo_tenant_set_forbidden (fixture->tenant, test_case->sources);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 39);
  g_assert_cmpint (rd_tenant_sync_get_phase (fixture->sync), ==, RD_SYNC_PHASE_DONE);

  notes = rd_tenant_sync_get_notes (fixture->sync);
  g_assert_cmpuint (count_notes (fixture->sync), ==, 1);
  g_assert_nonnull (strstr (notes[0], test_case->permission));
  g_assert_nonnull (strstr (notes[0], "unknown"));

  for (guint i = 0; i < devices->len; i++)
    {
      device = g_ptr_array_index (devices, i);
      if (test_case->sources == RD_DEMO_SOURCE_BITLOCKER_KEYS)
        g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, -1);
      else if (test_case->sources == RD_DEMO_SOURCE_AUTOPILOT)
        {
          g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_UNKNOWN);
          g_assert_null (rd_device_get_autopilot_state (device));
        }
      else
        {
          g_assert_null (rd_device_get_tpm_version (device));
          g_assert_cmpint (rd_device_get_encryption_readiness (device), ==,
                           RD_ENCRYPTION_READINESS_UNKNOWN);
          g_assert_cmpint (rd_device_get_winre_state (device), ==, RD_WINRE_STATE_UNKNOWN);
        }
    }

  /* The sources that loaded are still joined. */
  device = get_device (devices, "CON-LT-0100");
  if (test_case->sources != RD_DEMO_SOURCE_BITLOCKER_KEYS)
    g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 2);
  if (test_case->sources != RD_DEMO_SOURCE_AUTOPILOT)
    g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_YES);
  if (test_case->sources != RD_DEMO_SOURCE_ENCRYPTION_STATES)
    g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "2.0");
}

static void
test_forbidden_all (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  RdDevice *device;

  rd_demo_tenant_set_forbidden (fixture->tenant, RD_DEMO_SOURCE_BITLOCKER_KEYS |
                                                   RD_DEMO_SOURCE_AUTOPILOT |
                                                   RD_DEMO_SOURCE_ENCRYPTION_STATES);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 39);
  g_assert_cmpuint (count_notes (fixture->sync), ==, 3);

  device = get_device (devices, "CON-LT-0100");
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, -1);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_UNKNOWN);
  g_assert_null (rd_device_get_tpm_version (device));
  /* managedDevice's own facts are there. */
  g_assert_cmpint (rd_device_get_encrypted (device), ==, RD_TRISTATE_YES);
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_ENTRA_JOINED);
}

/* managedDevices failing fails the sync */

static void
test_devices_malformed (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cache_path = rd_tenant_sync_dup_cache_path (fixture->sync);

  rd_demo_tenant_set_page_size (fixture->tenant, 10);
  rd_demo_tenant_set_malformed_page (fixture->tenant, 2);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
  g_assert_null (devices);
  g_assert_cmpint (rd_tenant_sync_get_phase (fixture->sync), ==, RD_SYNC_PHASE_FAILED);
  g_assert_null (rd_tenant_sync_get_synced_at (fixture->sync));
  g_assert_false (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  /* The next sync is not refused as "already running". */
  rd_demo_tenant_set_malformed_page (fixture->tenant, 0);
  g_clear_error (&error);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 39);
}

static void
queue_empty_lists (GraphTestServer *server,
                   const char      *version)
{
  static const char *const paths[] = {
    "/informationProtection/bitlocker/recoveryKeys",
    "/deviceManagement/windowsAutopilotDeviceIdentities",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *path = g_strconcat ("/v1.0", paths[i], NULL);

      graph_test_server_queue (server, path, 200, "{\"value\": []}");
    }
  graph_test_server_queue (server, "/beta/deviceManagement/managedDeviceEncryptionStates", 200,
                           "{\"value\": []}");
}

static RdTenantSync *
new_sync_for_server (GraphTestServer  *server,
                     RdGraphClient   **client_out)
{
  g_autoptr (RdTokenSource) tokens = rd_static_token_source_new ("test-token");

  *client_out = rd_graph_client_new (graph_test_server_get_base_url (server), tokens);
  return rd_tenant_sync_new (*client_out, "scripted");
}

static void
test_devices_forbidden (void)
{
  g_autoptr (GraphTestServer) server = graph_test_server_new ();
  g_autoptr (RdGraphClient) client = NULL;
  g_autoptr (RdTenantSync) sync = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;

  sync = new_sync_for_server (server, &client);
  queue_empty_lists (server, "v1.0");
  graph_test_server_queue (
    server, "/beta/deviceManagement/managedDevices", 403,
    "{\"error\": {\"code\": \"Forbidden\", \"message\": \"Application is not authorized to "
    "perform this operation\", \"innerError\": {\"request-id\": \"5f1c0d6e-0000-4000-8000-"
    "000000000403\"}}}");

  devices = run_sync (sync, NULL, &error);
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN);
  g_assert_cmpint (rd_graph_error_get_http_status (error), ==, 403);
  g_assert_null (devices);
  g_assert_cmpint (rd_tenant_sync_get_phase (sync), ==, RD_SYNC_PHASE_FAILED);

  g_clear_object (&sync);
  g_clear_object (&client);
}

/* Beta by default (joinType, managementState); v1.0 when asked, and those
 * stay unknown. */
static void
test_devices_version (void)
{
  static const char page[] =
    "{\"value\": [{\"id\": \"d1\", \"deviceName\": \"PC-1\", \"operatingSystem\": \"Windows\","
    " \"joinType\": \"hybridAzureADJoined\", \"managementState\": \"wipePending\","
    " \"azureADDeviceId\": \"11111111-2222-4333-8444-555555555555\", \"serialNumber\": \"SN1\"}]}";
  g_autoptr (GraphTestServer) server = graph_test_server_new ();
  g_autoptr (RdGraphClient) client = NULL;
  g_autoptr (RdTenantSync) sync = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *requests;
  RdDevice *device;
  gboolean seen_beta = FALSE;
  gboolean seen_v1 = FALSE;

  sync = new_sync_for_server (server, &client);
  g_assert_true (rd_tenant_sync_get_use_beta (sync));

  queue_empty_lists (server, "v1.0");
  graph_test_server_queue (server, "/beta/deviceManagement/managedDevices", 200, page);
  devices = run_sync (sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  device = g_ptr_array_index (devices, 0);
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_HYBRID_JOINED);
  g_assert_cmpint (rd_device_get_management_state (device), ==, RD_MANAGEMENT_STATE_WIPE_PENDING);
  /* Both lists loaded empty: no key → 0, no record → not registered. */
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 0);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_NO);
  g_clear_pointer (&devices, g_ptr_array_unref);

  rd_tenant_sync_set_use_beta (sync, FALSE);
  queue_empty_lists (server, "v1.0");
  /* v1.0 does not know the beta-only fields; the server here ignores
   * $select, so the test checks the query the client sent. */
  graph_test_server_queue (server, "/v1.0/deviceManagement/managedDevices", 200,
                           "{\"value\": [{\"id\": \"d1\", \"deviceName\": \"PC-1\","
                           " \"operatingSystem\": \"Windows\"}]}");
  devices = run_sync (sync, NULL, &error);
  g_assert_no_error (error);
  device = g_ptr_array_index (devices, 0);
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_UNKNOWN);
  g_assert_cmpint (rd_device_get_management_state (device), ==, RD_MANAGEMENT_STATE_UNKNOWN);

  requests = graph_test_server_get_requests (server);
  for (guint i = 0; i < requests->len; i++)
    {
      GraphTestRequest *request = g_ptr_array_index (requests, i);

      g_assert_nonnull (strstr (request->path_and_query, "$select="));
      /* The key list takes no $top (reference §4). */
      g_assert_null (strstr (request->path_and_query, "$top"));
      if (g_str_equal (request->path, "/beta/deviceManagement/managedDevices"))
        {
          seen_beta = TRUE;
          g_assert_nonnull (strstr (request->path_and_query, "joinType"));
          g_assert_nonnull (strstr (request->path_and_query, "managementState"));
        }
      else if (g_str_equal (request->path, "/v1.0/deviceManagement/managedDevices"))
        {
          seen_v1 = TRUE;
          g_assert_null (strstr (request->path_and_query, "joinType"));
        }
    }
  g_assert_true (seen_beta);
  g_assert_true (seen_v1);

  g_clear_object (&sync);
  g_clear_object (&client);
}

/* A device listed twice (paging over a changing collection) counts once:
 * the later copy, in the place Graph listed it. Joined facts follow the
 * copy that counts, whether the other lists come in after the device pages
 * (the pages mapped before are joined then) or before (each page is joined
 * as it is mapped). */
static void
test_devices_twice (void)
{
  static const char *const expected[][2] = {
    { "a", "A-2" }, { "c", "C-1" }, { "b", "B-2" }, { "d", "D-1" },
  };

  for (guint facts_last = 0; facts_last < 2; facts_last++)
    {
      g_autoptr (GraphTestServer) server = graph_test_server_new ();
      g_autoptr (RdGraphClient) client = NULL;
      g_autoptr (RdTenantSync) sync = NULL;
      g_autoptr (GPtrArray) devices = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *first = NULL;
      GraphTestResponse *response;

      sync = new_sync_for_server (server, &client);
      graph_test_server_queue (server, "/v1.0/informationProtection/bitlocker/recoveryKeys", 200,
                               "{\"value\": []}");
      graph_test_server_queue (server, "/v1.0/deviceManagement/windowsAutopilotDeviceIdentities",
                               200, "{\"value\": []}");
      response = graph_test_server_queue (
        server, "/beta/deviceManagement/managedDeviceEncryptionStates", 200, "{\"value\": []}");
      response->delay_ms = facts_last ? 300 : 0;

      first = g_strdup_printf (
        "{\"value\": ["
        "{\"id\": \"a\", \"deviceName\": \"A-1\", \"serialNumber\": \"SN-A\","
        " \"operatingSystem\": \"Windows\"},"
        "{\"id\": \"b\", \"deviceName\": \"B-1\", \"serialNumber\": \"SN-B\","
        " \"operatingSystem\": \"Windows\"},"
        "{\"id\": \"a\", \"deviceName\": \"A-2\", \"serialNumber\": \"SN-A\","
        " \"operatingSystem\": \"Windows\"}],"
        " \"@odata.nextLink\": \"%s/beta/deviceManagement/managedDevices?page=2\"}",
        graph_test_server_get_origin (server));
      response = graph_test_server_queue (server, "/beta/deviceManagement/managedDevices", 200,
                                          first);
      response->delay_ms = facts_last ? 0 : 300;
      graph_test_server_queue (
        server, "/beta/deviceManagement/managedDevices", 200,
        "{\"value\": ["
        "{\"id\": \"c\", \"deviceName\": \"C-1\", \"serialNumber\": \"SN-C\","
        " \"operatingSystem\": \"Windows\"},"
        "{\"id\": \"b\", \"deviceName\": \"B-2\", \"serialNumber\": \"SN-B\","
        " \"operatingSystem\": \"Windows\"},"
        "{\"id\": \"d\", \"deviceName\": \"D-1\", \"serialNumber\": \"SN-D\","
        " \"operatingSystem\": \"Windows\"},"
        "{\"id\": \"A\", \"deviceName\": \"iOS\", \"operatingSystem\": \"iOS\"}]}");

      devices = run_sync (sync, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (devices->len, ==, G_N_ELEMENTS (expected));
      for (guint i = 0; i < devices->len; i++)
        {
          RdDevice *device = g_ptr_array_index (devices, i);

          g_assert_cmpstr (rd_device_get_id (device), ==, expected[i][0]);
          g_assert_cmpstr (rd_device_get_name (device), ==, expected[i][1]);
          /* Joined: the Autopilot list loaded empty. */
          g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_NO);
        }
      g_assert_cmpuint (rd_tenant_sync_get_non_windows_count (sync), ==, 1);

      g_clear_object (&sync);
      g_clear_object (&client);
    }
}

/* Many pages */

typedef struct
{
  gint64 last;
  gint64 longest;
} StallWatch;

static gboolean
on_tick_cb (gpointer user_data)
{
  StallWatch *watch = user_data;
  gint64 now = g_get_monotonic_time ();

  watch->longest = MAX (watch->longest, now - watch->last);
  watch->last = now;

  return G_SOURCE_CONTINUE;
}

static void
on_notify_count_cb (GObject    *object,
                    GParamSpec *pspec,
                    gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_paging (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  StallWatch watch = { 0 };
  guint page_notifies = 0;
  guint autopilot_yes = 0;
  guint autopilot_no = 0;
  guint encrypted = 0;
  guint tick;

  rd_demo_tenant_generate (fixture->tenant, 5000, 42);
  rd_demo_tenant_set_page_size (fixture->tenant, 200);
  fixture_start (fixture);

  g_signal_connect (fixture->sync, "notify::pages-loaded", G_CALLBACK (on_notify_count_cb),
                    &page_notifies);
  watch.last = g_get_monotonic_time ();
  tick = g_timeout_add (5, on_tick_cb, &watch);

  devices = run_sync (fixture->sync, NULL, &error);
  g_source_remove (tick);
  g_assert_no_error (error);

  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (fixture->tenant, "GET", "/deviceManagement/managedDevices"),
    ==, 25);
  g_assert_cmpuint (rd_tenant_sync_get_devices_loaded (fixture->sync), ==, 5000);
  g_assert_cmpuint (rd_tenant_sync_get_non_windows_count (fixture->sync), >, 0);
  g_assert_cmpuint (devices->len + rd_tenant_sync_get_non_windows_count (fixture->sync), ==, 5000);
  /* 25 device pages, and the other lists' pages. */
  g_assert_cmpuint (rd_tenant_sync_get_pages_loaded (fixture->sync), >, 25);
  g_assert_cmpuint (page_notifies, ==, rd_tenant_sync_get_pages_loaded (fixture->sync));

  /* The generator escrows one key for each encrypted device, puts every
   * Windows device in the encryption report under its id, and about 90%
   * in Autopilot. */
  for (guint i = 0; i < devices->len; i++)
    {
      RdDevice *device = g_ptr_array_index (devices, i);

      g_assert_true (g_hash_table_add (ids, (gpointer) rd_device_get_id (device)));
      g_assert_true (rd_device_is_windows (device));
      if (rd_device_get_encrypted (device) == RD_TRISTATE_YES)
        {
          encrypted++;
          g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 1);
        }
      else
        {
          g_assert_cmpint (rd_device_get_encrypted (device), ==, RD_TRISTATE_NO);
          g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 0);
        }
      g_assert_nonnull (rd_device_get_tpm_version (device));
      g_assert_cmpint (rd_device_get_encryption_readiness (device), ==,
                       RD_ENCRYPTION_READINESS_READY);
      g_assert_cmpint (rd_device_get_winre_state (device), !=, RD_WINRE_STATE_UNKNOWN);
      if (rd_device_get_autopilot (device) == RD_TRISTATE_YES)
        autopilot_yes++;
      else if (rd_device_get_autopilot (device) == RD_TRISTATE_NO)
        autopilot_no++;
    }
  g_assert_cmpuint (encrypted, >, devices->len / 2);
  g_assert_cmpuint (autopilot_yes + autopilot_no, ==, devices->len);
  g_assert_cmpuint (autopilot_yes, >, autopilot_no);
  g_assert_cmpuint (autopilot_no, >, 0);

  /* The main loop kept turning: no callback held it for long. */
  g_test_message ("Longest main loop stall: %" G_GINT64_FORMAT " µs", watch.longest);
  g_assert_cmpint (watch.longest, <, 250 * 1000);
}

/* Cancellation */

static void
on_devices_loaded_cancel_cb (GObject    *object,
                             GParamSpec *pspec,
                             gpointer    user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cache_path = NULL;
  gulong handler;

  rd_demo_tenant_generate (fixture->tenant, 3000, 7);
  rd_demo_tenant_set_page_size (fixture->tenant, 100);
  rd_demo_tenant_set_latency (fixture->tenant, 20);
  fixture_start (fixture);
  cache_path = rd_tenant_sync_dup_cache_path (fixture->sync);

  handler = g_signal_connect (fixture->sync, "notify::devices-loaded",
                              G_CALLBACK (on_devices_loaded_cancel_cb), cancellable);
  devices = run_sync (fixture->sync, cancellable, &error);
  g_signal_handler_disconnect (fixture->sync, handler);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (devices);
  g_assert_cmpint (rd_tenant_sync_get_phase (fixture->sync), ==, RD_SYNC_PHASE_FAILED);
  /* It stopped: far fewer than the 30 device pages were asked for. */
  g_assert_cmpuint (rd_tenant_sync_get_devices_loaded (fixture->sync), <, 3000);
  g_assert_cmpuint (
    rd_demo_tenant_get_request_count (fixture->tenant, "GET", "/deviceManagement/managedDevices"),
    <, 10);
  g_assert_false (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  /* Cancelled before it starts. */
  g_clear_error (&error);
  devices = run_sync (fixture->sync, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* And the object is ready for the next sync. */
  g_clear_error (&error);
  rd_demo_tenant_set_latency (fixture->tenant, 0);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rd_tenant_sync_get_devices_loaded (fixture->sync), ==, 3000);
}

#ifdef __linux__
static int
thread_nice (void)
{
  return getpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid));
}

/* The nice value of each of the process's threads, from /proc. */
static GArray *
dup_thread_nices (void)
{
  GArray *nices = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", name, "stat", NULL);
      g_autofree char *text = NULL;
      g_auto (GStrv) fields = NULL;
      const char *after_comm;
      int nice;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue; /* a thread that has ended */
      /* After "(comm) ", the state is field 3: nice is field 19. */
      after_comm = strrchr (text, ')');
      g_assert_nonnull (after_comm);
      fields = g_strsplit (after_comm + 2, " ", -1);
      g_assert_cmpuint (g_strv_length (fields), >, 16);
      nice = atoi (fields[16]);
      g_array_append_val (nices, nice);
    }

  return nices;
}

static void
nice_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  g_task_return_int (task, thread_nice ());
}

static void
on_nice_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  int *nice = user_data;

  *nice = (int) g_task_propagate_int (G_TASK (result), NULL);
}

static void
record_nice (gpointer data,
             gpointer user_data)
{
  int *nice = data;

  *nice = thread_nice ();
  g_usleep (2000); /* so that the pool starts all its threads */
}
#endif

/* The threads that read pages run below the main thread, and no other
 * work runs on them: GTask's threads keep the main thread's priority
 * after a sync. */
static void
test_worker_priority (Fixture       *fixture,
                      gconstpointer  data)
{
#ifdef __linux__
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) nices = NULL;
  int main_nice = thread_nice ();
  gboolean lowered = FALSE;

  if (main_nice >= 10)
    {
      g_test_skip ("The test runs at nice 10 or more already");
      return;
    }

  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, >, 0);

  /* The page readers stay for the next sync, lowered. */
  nices = dup_thread_nices ();
  for (guint i = 0; i < nices->len; i++)
    lowered |= g_array_index (nices, int, i) == 10;
  g_assert_true (lowered);

  /* Threads of GLib's other pools do not: a pool that shares threads
   * takes those another pool left first. */
  {
    int seen[16];
    GThreadPool *pool = g_thread_pool_new (record_nice, NULL, 8, FALSE, NULL);

    for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
      g_thread_pool_push (pool, &seen[i], NULL);
    g_thread_pool_free (pool, FALSE, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
      g_assert_cmpint (seen[i], ==, main_nice);
  }

  /* Nor do GTask's. Several at once, to meet more of them. */
  for (guint round = 0; round < 8; round++)
    {
      int seen[4] = { -100, -100, -100, -100 };

      for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
        {
          g_autoptr (GTask) task = g_task_new (NULL, NULL, on_nice_cb, &seen[i]);

          g_task_run_in_thread (task, nice_thread);
        }
      for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
        {
          while (seen[i] == -100)
            g_main_context_iteration (NULL, TRUE);
          g_assert_cmpint (seen[i], ==, main_nice);
        }
    }
#else
  g_test_skip ("Thread priorities are Linux's");
#endif
}

/* One sync at a time per object. */
static void
test_already_running (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr (GAsyncResult) first = NULL;
  g_autoptr (GAsyncResult) second = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;

  rd_tenant_sync_run_async (fixture->sync, NULL, on_result_cb, &first);
  rd_tenant_sync_run_async (fixture->sync, NULL, on_result_cb, &second);
  while (first == NULL || second == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_null (rd_tenant_sync_run_finish (fixture->sync, second, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);
  devices = rd_tenant_sync_run_finish (fixture->sync, first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 39);
}

/* The cache */

static void
test_cache_round_trip (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GPtrArray) cached = NULL;
  g_autoptr (GDateTime) saved_at = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdTenantSync) second = NULL;
  g_autofree char *cache_path = rd_tenant_sync_dup_cache_path (fixture->sync);
  g_autofree char *expected_dir = g_build_filename (g_get_user_cache_dir (), "recovery-desk", NULL);
  g_autofree char *dir = g_path_get_dirname (cache_path);
  g_autofree char *base = g_path_get_basename (cache_path);
  g_autofree char *expected_base = g_strdup_printf ("inventory-%s.json",
                                                    rd_demo_tenant_get_tenant_id (fixture->tenant));
  RdDevice *device;
  struct stat st;

  g_assert_cmpstr (dir, ==, expected_dir);
  g_assert_cmpstr (base, ==, expected_base);
  g_assert_false (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  /* Nothing cached yet. */
  g_assert_null (rd_tenant_sync_load_cache (fixture->sync, &saved_at));
  g_assert_null (saved_at);
  g_assert_false (rd_tenant_sync_get_stale (fixture->sync));

  rd_demo_tenant_set_forbidden (fixture->tenant, RD_DEMO_SOURCE_AUTOPILOT);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);

  rd_tenant_sync_flush_cache (fixture->sync);
  g_assert_cmpint (g_stat (cache_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* A new object, as at the next start. */
  second = fixture_new_sync (fixture);
  cached = rd_tenant_sync_load_cache (second, &saved_at);
  g_assert_nonnull (cached);
  g_assert_cmpuint (cached->len, ==, devices->len);
  g_assert_true (g_date_time_equal (saved_at, rd_tenant_sync_get_synced_at (fixture->sync)));
  g_assert_true (g_date_time_equal (saved_at, rd_tenant_sync_get_synced_at (second)));
  g_assert_true (rd_tenant_sync_get_stale (second));
  g_assert_cmpint (rd_tenant_sync_get_age (second), >=, 0);
  g_assert_cmpint (rd_tenant_sync_get_age (second), <, 60 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (rd_tenant_sync_get_non_windows_count (second), ==, 3);
  g_assert_cmpuint (count_notes (second), ==, 1);
  g_assert_nonnull (
    strstr (rd_tenant_sync_get_notes (second)[0], "DeviceManagementServiceConfig.Read.All"));

  device = get_device (cached, "CON-LT-0100");
  g_assert_cmpint (rd_device_get_escrowed_keys (device), ==, 2);
  g_assert_cmpint (rd_device_get_autopilot (device), ==, RD_TRISTATE_UNKNOWN);
  g_assert_cmpstr (rd_device_get_tpm_version (device), ==, "2.0");
  g_assert_cmpint (rd_device_get_join_type (device), ==, RD_JOIN_TYPE_ENTRA_JOINED);
  device = get_device (cached, "CON-LT-0275");
  g_assert_true (rd_device_has_wipe_pending (device));
  g_assert_nonnull (get_device (cached, "RÉCEPTION-ÅSA-01"));

  /* A sync makes it fresh. */
  rd_demo_tenant_set_forbidden (fixture->tenant, RD_DEMO_SOURCE_NONE);
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = run_sync (second, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (rd_tenant_sync_get_stale (second));
  g_assert_cmpuint (count_notes (second), ==, 0);
  g_assert_true (g_date_time_compare (rd_tenant_sync_get_synced_at (second), saved_at) >= 0);

  g_clear_pointer (&cached, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&second));
}

/* A cache from two hours ago loads with its age. */
static void
test_cache_age (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GPtrArray) cached = NULL;
  g_autoptr (GDateTime) saved_at = NULL;
  g_autoptr (GDateTime) earlier = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdTenantSync) second = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *cache_path = rd_tenant_sync_dup_cache_path (fixture->sync);
  g_autofree char *earlier_text = NULL;
  GTimeSpan age;

  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  rd_tenant_sync_flush_cache (fixture->sync);

  g_assert_true (json_parser_load_from_file (parser, cache_path, &error));
  g_assert_no_error (error);
  earlier = g_date_time_add_hours (rd_tenant_sync_get_synced_at (fixture->sync), -2);
  earlier_text = g_date_time_format_iso8601 (earlier);
  json_object_set_string_member (json_node_get_object (json_parser_get_root (parser)), "savedAt",
                                 earlier_text);
  json_generator_set_root (generator, json_parser_get_root (parser));
  g_assert_true (json_generator_to_file (generator, cache_path, &error));
  g_assert_no_error (error);

  second = fixture_new_sync (fixture);
  cached = load_cache (second, &saved_at, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cached->len, ==, 39);
  g_assert_true (g_date_time_equal (saved_at, earlier));
  g_assert_true (rd_tenant_sync_get_stale (second));

  age = rd_tenant_sync_get_age (second);
  g_assert_cmpint (age, >=, 2 * G_TIME_SPAN_HOUR);
  g_assert_cmpint (age, <, 2 * G_TIME_SPAN_HOUR + G_TIME_SPAN_MINUTE);

  g_clear_pointer (&cached, g_ptr_array_unref);
  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&second));
}

/* The cache holds the devices by name, the Devices lane's order; a load
 * that a prefetch began before a sync's write gets the newer inventory. */
static void
test_cache_prefetch (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GPtrArray) cached = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdTenantSync) second = NULL;

  rd_demo_tenant_set_forbidden (fixture->tenant, RD_DEMO_SOURCE_AUTOPILOT);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  rd_tenant_sync_flush_cache (fixture->sync);
  g_clear_pointer (&devices, g_ptr_array_unref);

  /* As at a start: the read begins while the app sets up. */
  second = fixture_new_sync (fixture);
  rd_tenant_sync_prefetch_cache (second);

  /* Then a sync writes an inventory without the note the first had. */
  rd_demo_tenant_set_forbidden (fixture->tenant, RD_DEMO_SOURCE_NONE);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_notes (fixture->sync), ==, 0);

  cached = load_cache (second, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cached->len, ==, devices->len);
  g_assert_cmpuint (count_notes (second), ==, 0);
  for (guint i = 1; i < cached->len; i++)
    g_assert_cmpstr (_rd_device_get_sort_key (cached->pdata[i - 1]), <=,
                     _rd_device_get_sort_key (cached->pdata[i]));
}

static void
test_cache_corrupt (Fixture       *fixture,
                    gconstpointer  data)
{
  static const char *const bad[] = {
    "{\"format\": \"recovery-desk-inventory\", \"version\": 1, \"devi",
    "[1, 2, 3]",
    "{\"format\": \"recovery-desk-inventory\", \"version\": 1, \"savedAt\": "
    "\"2024-06-01T10:00:00Z\", \"devices\": [{\"id\": \"x\", \"joinType\": \"sideways\"}]}",
    "{\"format\": \"recovery-desk-inventory\", \"version\": 1, \"savedAt\": \"yesterday\","
    " \"devices\": []}",
  };
  g_autofree char *cache_path = rd_tenant_sync_dup_cache_path (fixture->sync);
  g_autofree char *aside = g_strconcat (cache_path, ".corrupt", NULL);
  g_autofree char *dir = g_path_get_dirname (cache_path);
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GPtrArray) cached = NULL;
  g_autoptr (GDateTime) saved_at = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *moved = NULL;

      g_assert_true (g_file_set_contents (cache_path, bad[i], -1, &error));
      g_assert_no_error (error);

      g_assert_null (rd_tenant_sync_load_cache (fixture->sync, &saved_at));
      g_assert_null (saved_at);
      g_assert_false (rd_tenant_sync_get_stale (fixture->sync));
      g_assert_null (rd_tenant_sync_get_synced_at (fixture->sync));

      /* Moved aside, as it was. */
      g_assert_false (g_file_test (cache_path, G_FILE_TEST_EXISTS));
      g_assert_true (g_file_get_contents (aside, &moved, NULL, &error));
      g_assert_cmpstr (moved, ==, bad[i]);
    }

  /* A cache from a newer version is ignored, but left alone. */
  g_assert_true (g_file_set_contents (cache_path,
                                      "{\"format\": \"recovery-desk-inventory\", \"version\": 99,"
                                      " \"devices\": []}",
                                      -1, &error));
  g_assert_null (load_cache (fixture->sync, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  /* A sync replaces it, and the next load works. */
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  cached = rd_tenant_sync_load_cache (fixture->sync, &saved_at);
  g_assert_nonnull (cached);
  g_assert_cmpuint (cached->len, ==, devices->len);
  /* Loaded after a sync, the cache does not make the inventory stale. */
  g_assert_false (rd_tenant_sync_get_stale (fixture->sync));
}

/* The inventory is handed back before the cache is written (on a thread
 * of its own). Flushing waits for the write, reading the cache waits for
 * it, and so does dropping the sync. 3,000 devices take long enough to
 * write that a missing wait shows. */
static void
test_cache_flush (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GDateTime) saved_at = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdTenantSync) second = NULL;
  g_autofree char *cache_path = NULL;

  rd_demo_tenant_generate (fixture->tenant, 3000, 11);
  fixture_start (fixture);
  cache_path = rd_tenant_sync_dup_cache_path (fixture->sync);

  /* Nothing to wait for yet. */
  rd_tenant_sync_flush_cache (fixture->sync);
  flush_cache (fixture->sync);
  g_assert_false (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  flush_cache (fixture->sync);
  g_assert_true (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  /* A read right after a sync gets that sync's inventory, not the one
   * before. */
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  second = fixture_new_sync (fixture);
  assert_cache_holds (second, devices, rd_tenant_sync_get_synced_at (fixture->sync));

  /* Dropping the sync right after a run leaves its cache on disk. */
  g_assert_cmpint (g_unlink (cache_path), ==, 0);
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = run_sync (fixture->sync, NULL, &error);
  g_assert_no_error (error);
  saved_at = g_date_time_ref (rd_tenant_sync_get_synced_at (fixture->sync));
  g_assert_finalize_object (g_steal_pointer (&fixture->sync));
  g_assert_true (g_file_test (cache_path, G_FILE_TEST_EXISTS));

  assert_cache_holds (second, devices, saved_at);
  g_assert_finalize_object (g_steal_pointer (&second));
}

/* A tenant id cannot lead the cache out of its folder. */
static void
test_cache_path (void)
{
  g_autoptr (RdTokenSource) tokens = rd_static_token_source_new ("t");
  g_autoptr (RdGraphClient) client = rd_graph_client_new ("http://127.0.0.1:1/v1.0", tokens);
  g_autoptr (RdTenantSync) sync = rd_tenant_sync_new (client, "../../etc/passwd");
  g_autoptr (RdTenantSync) nameless = rd_tenant_sync_new (client, NULL);
  g_autofree char *path = rd_tenant_sync_dup_cache_path (sync);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *expected_dir = g_build_filename (g_get_user_cache_dir (), "recovery-desk", NULL);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *nameless_path = rd_tenant_sync_dup_cache_path (nameless);
  g_autofree char *nameless_base = g_path_get_basename (nameless_path);

  g_assert_cmpstr (dir, ==, expected_dir);
  g_assert_null (strchr (base, '/'));
  g_assert_true (g_str_has_prefix (base, "inventory-"));
  g_assert_cmpstr (nameless_base, ==, "inventory-default.json");
}

/* The mapper's enum names */

static void
test_mapper_enums (void)
{
  g_autoptr (JsonNode) list = json_from_string ("[\"success\", "
                                                "\"windowsRecoveryEnvironmentNotConfigured\"]",
                                                NULL);
  g_autoptr (JsonNode) flags = json_from_string ("\"tpmNotReady, "
                                                 "windowsRecoveryEnvironmentNotConfigured\"",
                                                 NULL);
  g_autoptr (JsonNode) success = json_from_string ("\"success\"", NULL);
  g_autoptr (JsonNode) null = json_from_string ("null", NULL);

  g_assert_cmpint (rd_device_mapper_compliance_from_graph ("configManager"), ==,
                   RD_COMPLIANCE_CONFIG_MANAGER);
  g_assert_cmpint (rd_device_mapper_compliance_from_graph ("unknown"), ==, RD_COMPLIANCE_UNKNOWN);
  g_assert_cmpint (rd_device_mapper_compliance_from_graph (NULL), ==, RD_COMPLIANCE_UNKNOWN);
  g_assert_cmpint (rd_device_mapper_owner_type_from_graph ("personal"), ==, RD_OWNER_TYPE_PERSONAL);
  g_assert_cmpint (rd_device_mapper_join_type_from_graph ("azureADRegistered"), ==,
                   RD_JOIN_TYPE_ENTRA_REGISTERED);
  g_assert_cmpint (rd_device_mapper_management_state_from_graph ("retireCanceled"), ==,
                   RD_MANAGEMENT_STATE_RETIRE_CANCELED);
  g_assert_cmpint (rd_device_mapper_management_state_from_graph ("somethingNew"), ==,
                   RD_MANAGEMENT_STATE_UNKNOWN);
  g_assert_cmpint (rd_device_mapper_readiness_from_graph ("notReady"), ==,
                   RD_ENCRYPTION_READINESS_NOT_READY);
  g_assert_cmpint (rd_device_mapper_winre_state_from_graph (list), ==,
                   RD_WINRE_STATE_NOT_CONFIGURED);
  g_assert_cmpint (rd_device_mapper_winre_state_from_graph (flags), ==,
                   RD_WINRE_STATE_NOT_CONFIGURED);
  g_assert_cmpint (rd_device_mapper_winre_state_from_graph (success), ==,
                   RD_WINRE_STATE_CONFIGURED);
  g_assert_cmpint (rd_device_mapper_winre_state_from_graph (null), ==, RD_WINRE_STATE_UNKNOWN);
  g_assert_cmpint (rd_device_mapper_winre_state_from_graph (NULL), ==, RD_WINRE_STATE_UNKNOWN);
}

int
main (int   argc,
      char *argv[])
{
  /* Isolated XDG dirs hide the system's GSettings schemas, which GIO's
   * GNOME proxy resolver needs; loopback needs no proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func, setup)                                                                     \
  g_test_add ("/rd/tenant-sync/" path, Fixture, NULL, setup, func, fixture_tear_down)

  ADD ("full", test_full_sync, fixture_set_up);
  ADD ("serial-case", test_serial_case, fixture_set_up);
  ADD ("join-edges", test_join_edges, fixture_set_up_empty);
  g_test_add ("/rd/tenant-sync/forbidden/keys", Fixture, &forbidden_keys, fixture_set_up,
              test_forbidden, fixture_tear_down);
  g_test_add ("/rd/tenant-sync/forbidden/autopilot", Fixture, &forbidden_autopilot, fixture_set_up,
              test_forbidden, fixture_tear_down);
  g_test_add ("/rd/tenant-sync/forbidden/encryption", Fixture, &forbidden_encryption,
              fixture_set_up, test_forbidden, fixture_tear_down);
  ADD ("forbidden/all", test_forbidden_all, fixture_set_up);
  ADD ("devices/malformed", test_devices_malformed, fixture_set_up);
  g_test_add_func ("/rd/tenant-sync/devices/forbidden", test_devices_forbidden);
  g_test_add_func ("/rd/tenant-sync/devices/version", test_devices_version);
  g_test_add_func ("/rd/tenant-sync/devices/twice", test_devices_twice);
  ADD ("paging", test_paging, fixture_set_up_empty);
  ADD ("cancel", test_cancel, fixture_set_up_empty);
  ADD ("already-running", test_already_running, fixture_set_up);
  ADD ("worker-priority", test_worker_priority, fixture_set_up);
  ADD ("cache/round-trip", test_cache_round_trip, fixture_set_up);
  ADD ("cache/age", test_cache_age, fixture_set_up);
  ADD ("cache/corrupt", test_cache_corrupt, fixture_set_up);
  ADD ("cache/prefetch", test_cache_prefetch, fixture_set_up);
  ADD ("cache/flush", test_cache_flush, fixture_set_up_empty);
  g_test_add_func ("/rd/tenant-sync/cache/path", test_cache_path);
  g_test_add_func ("/rd/device-mapper/enums", test_mapper_enums);

#undef ADD

  return g_test_run ();
}
