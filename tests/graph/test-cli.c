/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* recovery-desk-cli as a script runs it: the built executable, spawned with
 * --demo and its own XDG data and cache folders, its standard input a pipe
 * (not a terminal). Each test checks what the command prints and exits
 * with, and what it leaves in the plan store and the audit log. */

#define EXIT_OK 0
#define EXIT_USAGE 2
#define EXIT_NOT_FOUND 4
#define EXIT_AMBIGUOUS 5
#define EXIT_REFUSED 6

typedef struct
{
  char *dir;
  JsonObject *demo; /* data/demo-tenant.json */
  JsonParser *parser;
} Fixture;

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_free (Run *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
    }
  g_remove (path);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("rd-test-cli-XXXXXX", &error);
  g_assert_no_error (error);

  f->parser = json_parser_new ();
  json_parser_load_from_file (f->parser, g_getenv ("RD_DEMO_DATA"), &error);
  g_assert_no_error (error);
  f->demo = json_node_get_object (json_parser_get_root (f->parser));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_clear_object (&f->parser);
}

/* Runs the CLI with the arguments given, NULL-terminated. No output may
 * ever hold a token: the demo's are JWTs, which start "eyJ". */
static Run *
run_cli (Fixture    *f,
         const char *first,
         ...)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *data_home = g_build_filename (f->dir, "data", NULL);
  g_autofree char *cache_home = g_build_filename (f->dir, "cache", NULL);
  Run *run = g_new0 (Run, 1);
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("RD_CLI"));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "RECOVERY_DESK_ACCESS_TOKEN");

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);

  g_test_message ("%s → %d\n%s%s", first, run->status, run->out, run->err);
  g_assert_null (strstr (run->out, "eyJ"));
  g_assert_null (strstr (run->err, "eyJ"));

  return run;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static JsonArray *
demo_devices (Fixture *f)
{
  return json_object_get_array_member (f->demo, "managedDevices");
}

static JsonObject *
demo_device (Fixture    *f,
             const char *name)
{
  JsonArray *devices = demo_devices (f);

  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);

      if (g_strcmp0 (json_object_get_string_member (device, "deviceName"), name) == 0)
        return device;
    }
  g_assert_not_reached ();
}

static guint
count_windows (Fixture *f)
{
  JsonArray *devices = demo_devices (f);
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (devices); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (devices, i),
                                                  "operatingSystem"),
                   "Windows") == 0)
      n++;
  return n;
}

/* The saved plans, through "plan list --format json". */
static JsonNode *
list_plans (Fixture *f)
{
  g_autoptr (Run) run = run_cli (f, "--demo", "plan", "list", "--format", "json", NULL);

  g_assert_cmpint (run->status, ==, EXIT_OK);
  return parse_json (run->out);
}

static const char *
plan_state (Fixture    *f,
            const char *device_name)
{
  g_autoptr (JsonNode) plans = list_plans (f);
  JsonArray *array = json_node_get_array (plans);
  static char state[32];

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *plan = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (plan, "deviceName"), device_name) == 0)
        {
          g_strlcpy (state, json_object_get_string_member (plan, "state"), sizeof state);
          return state;
        }
    }
  return NULL;
}

static JsonNode *
read_audit (Fixture *f)
{
  g_autoptr (Run) run = run_cli (f, "--demo", "audit", "--format", "json", NULL);

  g_assert_cmpint (run->status, ==, EXIT_OK);
  return parse_json (run->out);
}

static void
test_usage (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr (Run) help = run_cli (f, "--help", NULL);
  g_autoptr (Run) none = run_cli (f, NULL);
  g_autoptr (Run) unknown = run_cli (f, "--demo", "frobnicate", NULL);
  g_autoptr (Run) bad_demo = run_cli (f, "--demo=many", "devices", NULL);
  g_autoptr (Run) bad_format = run_cli (f, "--demo", "devices", "--format", "xml", NULL);
  g_autoptr (Run) bad_lane = run_cli (f, "--demo", "plan", "add", "CON-LT-0100", "--lane",
                                      "sideways", NULL);
  g_autoptr (Run) no_device = run_cli (f, "--demo", "plan", "show", NULL);
  g_autoptr (Run) insecure = run_cli (f, "--graph-endpoint", "http://graph.example.com", "whoami",
                                      NULL);

  g_assert_cmpint (help->status, ==, EXIT_OK);
  g_assert_nonnull (strstr (help->out, "Exit status"));
  g_assert_nonnull (strstr (help->out, "ambiguous"));
  g_assert_cmpint (none->status, ==, EXIT_USAGE);
  g_assert_cmpint (unknown->status, ==, EXIT_USAGE);
  g_assert_nonnull (strstr (unknown->err, "frobnicate"));
  g_assert_cmpint (bad_demo->status, ==, EXIT_USAGE);
  g_assert_cmpint (bad_format->status, ==, EXIT_USAGE);
  g_assert_cmpint (bad_lane->status, ==, EXIT_USAGE);
  g_assert_cmpint (no_device->status, ==, EXIT_USAGE);
  g_assert_cmpint (insecure->status, ==, EXIT_USAGE);
  g_assert_nonnull (strstr (insecure->err, "not secure"));
  g_assert_cmpstr (bad_format->out, ==, "");
}

static void
test_whoami (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr (Run) run = run_cli (f, "--demo", "whoami", NULL);
  JsonObject *tenant = json_object_get_object_member (f->demo, "tenant");
  JsonObject *user = json_object_get_object_member (tenant, "signedInUser");
  g_autofree char *tenant_line = g_strdup_printf ("Tenant:\t%s\n",
                                                  json_object_get_string_member (tenant, "id"));
  g_autofree char *user_line = g_strdup_printf (
    "User:\t%s\n", json_object_get_string_member (user, "userPrincipalName"));

  g_assert_cmpint (run->status, ==, EXIT_OK);
  g_assert_nonnull (strstr (run->out, tenant_line));
  g_assert_nonnull (strstr (run->out, user_line));
}

static void
test_sign_in (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr (Run) run = run_cli (f, "--demo", "sign-in", NULL);
  JsonObject *tenant = json_object_get_object_member (f->demo, "tenant");
  JsonObject *user = json_object_get_object_member (tenant, "signedInUser");
  g_autofree char *signed_in = g_strdup_printf (
    "Signed in as %s (%s)", json_object_get_string_member (user, "displayName"),
    json_object_get_string_member (user, "userPrincipalName"));

  g_assert_cmpint (run->status, ==, EXIT_OK);
  g_assert_nonnull (strstr (run->err, "/devicelogin"));
  g_assert_nonnull (strstr (run->err, signed_in));
}

static void
test_devices_json (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (Run) run = run_cli (f, "--demo", "devices", "--format", "json", NULL);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *devices;

  g_assert_cmpint (run->status, ==, EXIT_OK);
  root = parse_json (run->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  devices = json_node_get_array (root);

  /* The bundled demo has 39 Windows devices and 3 others. */
  g_assert_cmpuint (count_windows (f), ==, 39);
  g_assert_cmpuint (json_array_get_length (devices), ==, count_windows (f));
  g_assert_nonnull (strstr (run->err, "3 devices that do not run Windows"));

  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);

      g_assert_cmpstr (json_object_get_string_member (device, "operatingSystem"), ==, "Windows");
      g_assert_true (json_object_has_member (device, "serialNumber"));
      g_assert_true (json_object_has_member (device, "lastSyncDateTime"));
      g_assert_false (json_object_has_member (device, "serial_number"));
      g_assert_cmpstr (json_object_get_string_member (device, "lane"), ==, "inventory");
      g_hash_table_add (names, (gpointer) json_object_get_string_member (device, "deviceName"));
    }
  g_assert_true (g_hash_table_contains (names, "RÉCEPTION-ÅSA-01"));
  g_assert_false (g_hash_table_contains (names, "MBP-DESIGN-04"));
}

static void
test_devices_csv (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (Run) run = run_cli (f, "--demo", "devices", "--format", "csv", NULL);
  g_autoptr (Run) table = run_cli (f, "--demo", "devices", NULL);
  g_auto (GStrv) records = NULL;
  g_auto (GStrv) lines = NULL;
  JsonObject *device = demo_device (f, "CON-LT-0100");
  g_autofree char *row = NULL;
  guint n;

  g_assert_cmpint (run->status, ==, EXIT_OK);
  g_assert_true (g_str_has_suffix (run->out, "\r\n"));
  records = g_strsplit (run->out, "\r\n", -1);
  n = g_strv_length (records);
  g_assert_cmpuint (n, ==, count_windows (f) + 2); /* header, rows, "" after the last CRLF */
  g_assert_cmpstr (records[0], ==,
                   "deviceName,serialNumber,userPrincipalName,manufacturer,model,osVersion,"
                   "lastSyncDateTime,lane,id");
  row = g_strdup_printf ("CON-LT-0100,%s,%s,",
                         json_object_get_string_member (device, "serialNumber"),
                         json_object_get_string_member (device, "userPrincipalName"));
  g_assert_true (g_str_has_prefix (records[1], row));
  g_assert_true (g_str_has_suffix (records[1], json_object_get_string_member (device, "id")));

  /* The table lines up by display width, with non-ASCII names too. */
  g_assert_cmpint (table->status, ==, EXIT_OK);
  lines = g_strsplit (table->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      const char *serial_column = strstr (lines[0], "Serial number");
      const char *name_end = g_utf8_offset_to_pointer (
        lines[i], g_utf8_pointer_to_offset (lines[0], serial_column) - 2);

      g_assert_true (name_end[0] == ' ' && name_end[1] == ' ' && name_end[2] != ' ');
    }
}

static void
test_bitlocker (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (Run) all = run_cli (f, "--demo", "bitlocker", "--format", "json", NULL);
  g_autoptr (Run) not_ready = run_cli (f, "--demo", "bitlocker", "--not-ready", "--format", "json",
                                       NULL);
  g_autoptr (JsonNode) all_root = NULL;
  g_autoptr (JsonNode) not_ready_root = NULL;
  JsonArray *array;
  guint n;

  g_assert_cmpint (all->status, ==, EXIT_OK);
  g_assert_cmpint (not_ready->status, ==, EXIT_OK);
  all_root = parse_json (all->out);
  not_ready_root = parse_json (not_ready->out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (all_root)), ==, count_windows (f));

  array = json_node_get_array (not_ready_root);
  n = json_array_get_length (array);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (n, <, count_windows (f));
  for (guint i = 0; i < n; i++)
    {
      JsonObject *device = json_array_get_object_element (array, i);
      JsonNode *keys = json_object_get_member (device, "escrowedKeyCount");
      JsonNode *encrypted = json_object_get_member (device, "isEncrypted");

      g_assert_false (json_object_get_boolean_member (device, "readyForReuse"));
      g_assert_true (JSON_NODE_HOLDS_NULL (encrypted) || JSON_NODE_HOLDS_NULL (keys) ||
                     !json_node_get_boolean (encrypted) || json_node_get_int (keys) == 0);
    }
}

static void
test_plan_add (Fixture       *f,
               gconstpointer  data)
{
  JsonObject *by_serial = demo_device (f, "CON-DT-0107");
  g_autoptr (Run) by_name = run_cli (f, "--demo", "plan", "add", "con-lt-0100", "--lane",
                                     "break-fix", NULL);
  g_autoptr (Run) serial = run_cli (f, "--demo", "plan", "add",
                                    json_object_get_string_member (by_serial, "serialNumber"),
                                    "--lane", "reuse", "--method", "autopilot-reset", NULL);
  g_autoptr (Run) missing = run_cli (f, "--demo", "plan", "add", "CON-NOPE-9999", "--lane", "reuse",
                                     NULL);
  g_autoptr (Run) wrong_method = run_cli (f, "--demo", "plan", "add", "CON-LT-0114", "--lane",
                                          "break-fix", "--method", "reimage-oem", NULL);
  g_autoptr (Run) mac = run_cli (f, "--demo", "plan", "add", "MBP-DESIGN-04", "--lane", "reuse",
                                 NULL);
  g_autoptr (JsonNode) plans = list_plans (f);
  JsonArray *array = json_node_get_array (plans);
  JsonObject *first;
  JsonObject *second;

  g_assert_cmpint (by_name->status, ==, EXIT_OK);
  g_assert_nonnull (strstr (by_name->err, "CON-LT-0100 is in Break and Fix"));
  g_assert_cmpint (serial->status, ==, EXIT_OK);
  g_assert_cmpint (missing->status, ==, EXIT_NOT_FOUND);
  g_assert_nonnull (strstr (missing->err, "CON-NOPE-9999"));
  g_assert_cmpint (wrong_method->status, ==, EXIT_USAGE);
  g_assert_cmpint (mac->status, ==, EXIT_NOT_FOUND); /* not Windows: not on the board */

  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  first = json_array_get_object_element (array, 0);
  second = json_array_get_object_element (array, 1);
  g_assert_cmpstr (json_object_get_string_member (first, "deviceName"), ==, "CON-DT-0107");
  g_assert_cmpstr (json_object_get_string_member (first, "lane"), ==, "reuse");
  g_assert_cmpstr (json_object_get_string_member (first, "method"), ==, "autopilot-reset");
  g_assert_cmpstr (json_object_get_string_member (second, "deviceName"), ==, "CON-LT-0100");
  g_assert_cmpstr (json_object_get_string_member (second, "lane"), ==, "break-fix");
  g_assert_cmpstr (json_object_get_string_member (second, "method"), ==, "wipe-retain");
  g_assert_cmpstr (json_object_get_string_member (second, "state"), ==, "ready");
}

static void
test_plan_add_ambiguous (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "demo-tenant.json", NULL);
  g_autofree char *option = g_strdup_printf ("--demo-data=%s", path);
  JsonObject *original = demo_device (f, "CON-LT-0100");
  g_autofree char *original_text = json_to_string (json_array_get_element (demo_devices (f), 0),
                                                   FALSE);
  JsonNode *copy = json_from_string (original_text, NULL); /* deep, unlike json_node_copy() */
  JsonObject *twin = json_node_get_object (copy);
  g_autofree char *twin_id = g_uuid_string_random ();
  g_autofree char *twin_entra_id = g_uuid_string_random ();

  /* A second device named like the first, as a renamed or re-enrolled PC. */
  json_object_set_string_member (twin, "id", twin_id);
  json_object_set_string_member (twin, "azureADDeviceId", twin_entra_id);
  json_object_set_string_member (twin, "serialNumber", "TWIN0001");
  json_array_add_element (demo_devices (f), copy);
  json_generator_set_root (generator, json_parser_get_root (f->parser));
  json_generator_to_file (generator, path, &error);
  g_assert_no_error (error);

  {
    g_autoptr (Run) ambiguous = run_cli (f, "--demo", option, "plan", "add", "CON-LT-0100",
                                         "--lane", "break-fix", NULL);
    g_autoptr (Run) by_serial = run_cli (f, "--demo", option, "plan", "add", "twin0001", "--lane",
                                         "break-fix", NULL);
    g_autoptr (Run) listed = run_cli (f, "--demo", option, "plan", "list", "--format", "csv", NULL);

    g_assert_cmpint (ambiguous->status, ==, EXIT_AMBIGUOUS);
    g_assert_nonnull (strstr (ambiguous->err, json_object_get_string_member (original, "id")));
    g_assert_nonnull (strstr (ambiguous->err, twin_id));
    g_assert_cmpint (by_serial->status, ==, EXIT_OK);
    g_assert_nonnull (strstr (listed->out, twin_id));
    g_assert_null (strstr (listed->out, json_object_get_string_member (original, "id")));
  }
}

static char *
find_body_line (const char *text,
                const char *after)
{
  g_auto (GStrv) lines = g_strsplit (strstr (text, after), "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (lines[i]));

      if (stripped[0] == '{')
        return g_steal_pointer (&stripped);
    }
  return NULL;
}

static void
assert_wipe_body (const char *text,
                  gboolean    keep_user_data)
{
  g_autofree char *line = find_body_line (text, "/wipe");
  g_autoptr (JsonNode) body = NULL;
  JsonObject *object;

  g_assert_nonnull (line);
  body = parse_json (line);
  object = json_node_get_object (body);
  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  g_assert_true (json_object_get_boolean_member (object, "keepEnrollmentData"));
  g_assert_true (json_object_get_boolean_member (object, "keepUserData") == keep_user_data);
}

static void
test_plan_show (Fixture       *f,
                gconstpointer  data)
{
  JsonObject *device = demo_device (f, "CON-LT-0100");
  g_autofree char *path = g_strdup_printf ("/v1.0/deviceManagement/managedDevices/%s/wipe",
                                           json_object_get_string_member (device, "id"));
  g_autoptr (Run) none = run_cli (f, "--demo", "plan", "show", "CON-LT-0100", NULL);
  g_autoptr (Run) added = run_cli (f, "--demo", "plan", "add", "CON-LT-0100", "--lane", "break-fix",
                                   NULL);
  g_autoptr (Run) shown = run_cli (f, "--demo", "plan", "show", "CON-LT-0100", NULL);
  g_autoptr (Run) reset = run_cli (f, "--demo", "plan", "add", "CON-LT-0100", "--lane", "reuse",
                                   "--method", "autopilot-reset", NULL);
  g_autoptr (Run) reset_shown = run_cli (f, "--demo", "plan", "show", "CON-LT-0100", NULL);
  g_autoptr (Run) hybrid = run_cli (f, "--demo", "plan", "add", "CON-HYB-0142", "--lane", "reuse",
                                    "--method", "autopilot-reset", NULL);
  g_autoptr (Run) hybrid_shown = run_cli (f, "--demo", "plan", "show", "CON-HYB-0142", NULL);

  g_assert_cmpint (none->status, ==, EXIT_NOT_FOUND);
  g_assert_cmpint (added->status, ==, EXIT_OK);
  g_assert_cmpint (shown->status, ==, EXIT_OK);
  g_assert_nonnull (strstr (shown->out, "Wipe, keeping enrollment and user account"));
  g_assert_nonnull (strstr (shown->out, "State: ready"));
  g_assert_nonnull (strstr (shown->out, "  pass "));
  g_assert_nonnull (strstr (shown->out, "Lost:\n  • User files\n"));
  g_assert_nonnull (strstr (shown->out, "Kept:\n  • User accounts associated with the device\n"));
  g_assert_nonnull (strstr (shown->out, "  POST http://127.0.0.1:"));
  g_assert_nonnull (strstr (shown->out, path));
  assert_wipe_body (shown->out, TRUE);

  g_assert_cmpint (reset->status, ==, EXIT_OK);
  assert_wipe_body (reset_shown->out, FALSE);

  /* A hybrid-joined device cannot take Autopilot Reset: a blocker, explained. */
  g_assert_cmpint (hybrid->status, ==, EXIT_OK);
  g_assert_nonnull (strstr (hybrid->err, "Blocked:"));
  g_assert_nonnull (strstr (hybrid_shown->out, "State: blocked"));
  g_assert_nonnull (strstr (hybrid_shown->out, "  blocker "));
}

static void
test_plan_run (Fixture       *f,
               gconstpointer  data)
{
  JsonObject *device = demo_device (f, "CON-LT-0100");
  const char *id = json_object_get_string_member (device, "id");
  g_autoptr (Run) added = run_cli (f, "--demo", "plan", "add", "CON-LT-0100", "--lane", "break-fix",
                                   NULL);
  g_autoptr (JsonNode) audit = NULL;
  g_autoptr (JsonNode) audit_after = NULL;
  JsonObject *entry;
  const char *state;

  g_assert_cmpint (added->status, ==, EXIT_OK);

  /* Not a terminal, no --yes: refused, nothing sent. */
  {
    g_autoptr (Run) run = run_cli (f, "--demo", "plan", "run", "CON-LT-0100", NULL);
    g_autoptr (JsonNode) entries = read_audit (f);

    g_assert_cmpint (run->status, ==, EXIT_REFUSED);
    g_assert_nonnull (strstr (run->err, "--yes"));
    g_assert_nonnull (strstr (run->err, "received 0 wipe requests"));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (entries)), ==, 0);
    g_assert_cmpstr (plan_state (f, "CON-LT-0100"), ==, "ready");
  }

  /* A dry run prints the request and sends nothing, --yes or not. */
  {
    g_autoptr (Run) run = run_cli (f, "--demo", "plan", "run", "CON-LT-0100", "--dry-run", "--yes",
                                   NULL);
    g_autoptr (JsonNode) entries = read_audit (f);

    g_assert_cmpint (run->status, ==, EXIT_OK);
    g_assert_nonnull (strstr (run->out, id));
    assert_wipe_body (run->out, TRUE);
    g_assert_nonnull (strstr (run->err, "received 0 wipe requests"));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (entries)), ==, 0);
    g_assert_cmpstr (plan_state (f, "CON-LT-0100"), ==, "ready");
  }

  /* --yes sends exactly once. */
  {
    g_autoptr (Run) run = run_cli (f, "--demo", "plan", "run", "CON-LT-0100", "--yes", NULL);

    g_assert_cmpint (run->status, ==, EXIT_OK);
    g_assert_nonnull (strstr (run->err, "received 1 wipe request."));
    g_assert_nonnull (strstr (run->err, "request-id "));
  }
  state = plan_state (f, "CON-LT-0100");
  g_assert_true (g_strcmp0 (state, "sent") == 0 || g_strcmp0 (state, "pending") == 0 ||
                 g_strcmp0 (state, "done") == 0);

  audit = read_audit (f);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (audit)), ==, 1);
  entry = json_array_get_object_element (json_node_get_array (audit), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "deviceId"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (entry, "method"), ==, "wipe-retain");
  g_assert_nonnull (json_object_get_string_member (entry, "requestId"));
  g_assert_cmpstr (json_object_get_string_member (entry, "requestId"), !=, "");
  g_assert_true (json_object_get_boolean_member (
    json_object_get_object_member (json_object_get_object_member (entry, "request"), "body"),
    "keepUserData"));

  /* Never twice: a second run is refused and sends nothing. */
  {
    g_autoptr (Run) again = run_cli (f, "--demo", "plan", "run", "CON-LT-0100", "--yes", NULL);
    g_autoptr (Run) moved = run_cli (f, "--demo", "plan", "remove", "CON-LT-0100", NULL);

    g_assert_cmpint (again->status, ==, EXIT_REFUSED);
    g_assert_nonnull (strstr (again->err, "Nothing was sent"));
    g_assert_cmpint (moved->status, ==, EXIT_REFUSED);
  }
  audit_after = read_audit (f);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (audit_after)), ==, 1);
}

static void
test_plan_run_blocked (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr (Run) pending = run_cli (f, "--demo", "plan", "add", "CON-LT-0275", "--lane",
                                     "break-fix", NULL);
  g_autoptr (Run) run = run_cli (f, "--demo", "plan", "run", "CON-LT-0275", "--yes", NULL);
  g_autoptr (Run) missing = run_cli (f, "--demo", "plan", "run", "CON-LT-0100", "--yes", NULL);
  g_autoptr (JsonNode) audit = read_audit (f);

  /* CON-LT-0275 has a wipe pending in the demo data. */
  g_assert_cmpint (pending->status, ==, EXIT_OK);
  g_assert_cmpint (run->status, ==, EXIT_REFUSED);
  g_assert_nonnull (strstr (run->err, "wipe pending"));
  g_assert_nonnull (strstr (run->err, "Nothing was sent"));
  g_assert_cmpint (missing->status, ==, EXIT_NOT_FOUND);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (audit)), ==, 0);
}

static void
test_plan_remove (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (Run) added = run_cli (f, "--demo", "plan", "add", "CON-LT-0100", "--lane", "reuse",
                                   NULL);
  g_autoptr (Run) removed = run_cli (f, "--demo", "plan", "remove", "CON-LT-0100", NULL);
  g_autoptr (Run) again = run_cli (f, "--demo", "plan", "remove", "CON-LT-0100", NULL);
  g_autoptr (Run) table = run_cli (f, "--demo", "plan", "list", NULL);
  g_autoptr (JsonNode) plans = list_plans (f);

  g_assert_cmpint (added->status, ==, EXIT_OK);
  g_assert_cmpint (removed->status, ==, EXIT_OK);
  g_assert_cmpint (again->status, ==, EXIT_NOT_FOUND);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (plans)), ==, 0);
  g_assert_cmpint (table->status, ==, EXIT_OK);
  g_assert_null (strstr (table->out, "CON-LT-0100"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("RD_CLI") == NULL || g_getenv ("RD_DEMO_DATA") == NULL)
    {
      g_test_skip ("RD_CLI and RD_DEMO_DATA are not set; run through meson test");
      return g_test_run ();
    }

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/rd/cli/usage", test_usage);
  ADD ("/rd/cli/whoami", test_whoami);
  ADD ("/rd/cli/sign-in", test_sign_in);
  ADD ("/rd/cli/devices/json", test_devices_json);
  ADD ("/rd/cli/devices/csv", test_devices_csv);
  ADD ("/rd/cli/bitlocker", test_bitlocker);
  ADD ("/rd/cli/plan/add", test_plan_add);
  ADD ("/rd/cli/plan/add-ambiguous", test_plan_add_ambiguous);
  ADD ("/rd/cli/plan/show", test_plan_show);
  ADD ("/rd/cli/plan/run", test_plan_run);
  ADD ("/rd/cli/plan/run-refused", test_plan_run_blocked);
  ADD ("/rd/cli/plan/remove", test_plan_remove);
#undef ADD

  return g_test_run ();
}
