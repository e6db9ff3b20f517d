/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-plan-store"

#include "config.h"

#include "rd-plan-store.h"

#include "rd-core-error.h"
#include "rd-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TENANT "contoso.onmicrosoft.com"
#define CRASH_TENANT "11111111-2222-3333-4444-555555555555"
#define CRASH_N_PLANS 2000
#define CRASH_ROUNDS 100
#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer user_data)
{
  fixture->dir = rd_test_make_tmp_dir ("rd-plan-store-XXXXXX");
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer user_data)
{
  rd_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

/* Helpers */

static RdPlan *
make_plan (const char *id, const char *name, RdLane lane, RdMethod method)
{
  g_autoptr (RdDevice) device = g_object_new (RD_TYPE_DEVICE, "id", id, "name", name, "serial",
                                              "SN-", NULL);

  return rd_plan_new (device, lane, method);
}

static void
transition (RdPlan *plan, RdPlanState state)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (rd_plan_transition (plan, state, &error));
  g_assert_no_error (error);
}

/* Several plans, between them every field a plan saves. */
static GPtrArray *
make_sample_plans (void)
{
  GPtrArray *plans = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  RdPlan *plan;

  plan = make_plan ("dev-wipe", "PC-0001", RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
  rd_plan_set_notes (plan, "Screen flickers; user \"Zoë\" says:\nreset it, please\t✓");
  transition (plan, RD_PLAN_STATE_READY);
  transition (plan, RD_PLAN_STATE_SENDING);
  rd_plan_add_request_id (plan, "7f7c5c2a-0000-4000-8000-000000000001");
  transition (plan, RD_PLAN_STATE_SENT);
  rd_plan_add_request_id (plan, "7f7c5c2a-0000-4000-8000-000000000002");
  transition (plan, RD_PLAN_STATE_PENDING);
  g_ptr_array_add (plans, plan);

  plan = make_plan ("dev-oem", "PC-0002", RD_LANE_REUSE, RD_METHOD_REIMAGE_OEM);
  transition (plan, RD_PLAN_STATE_READY);
  g_assert_true (
    rd_plan_record_usb_key (plan, "Contoso-OEM-21H2.img.xz", SHA_A, "USB-4C530001", &error));
  g_assert_no_error (error);
  rd_plan_set_notes (plan, "Key is in drawer 3");
  g_ptr_array_add (plans, plan);

  plan = make_plan ("dev-reset", "PC-0003", RD_LANE_REUSE, RD_METHOD_AUTOPILOT_RESET);
  transition (plan, RD_PLAN_STATE_READY);
  transition (plan, RD_PLAN_STATE_SENDING);
  transition (plan, RD_PLAN_STATE_FAILED);
  rd_plan_set_last_error (plan, "Graph answered 409: a wipe is already pending");
  g_ptr_array_add (plans, plan);

  plan = make_plan ("dev-draft", "PC-0004", RD_LANE_REUSE, RD_METHOD_REIMAGE_UNIVERSAL);
  g_ptr_array_add (plans, plan);

  plan = make_plan ("dev-cancelled", "PC-0005", RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
  transition (plan, RD_PLAN_STATE_BLOCKED);
  transition (plan, RD_PLAN_STATE_CANCELLED);
  g_ptr_array_add (plans, plan);

  return plans;
}

static JsonNode *
plans_to_json (GPtrArray *plans)
{
  g_autoptr (JsonArray) array = json_array_new ();

  for (guint i = 0; i < plans->len; i++)
    json_array_add_element (array, rd_plan_to_json (g_ptr_array_index (plans, i)));

  return json_node_init_array (json_node_alloc (), array);
}

static gboolean
strv_equal0 (const char *const *a, const char *const *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  return g_strv_equal (a, b);
}

static void
assert_plans_equal (GPtrArray *expected, GPtrArray *actual)
{
  g_autoptr (JsonNode) expected_json = NULL;
  g_autoptr (JsonNode) actual_json = NULL;

  g_assert_cmpuint (actual->len, ==, expected->len);

  for (guint i = 0; i < expected->len; i++)
    {
      RdPlan *a = g_ptr_array_index (expected, i);
      RdPlan *b = g_ptr_array_index (actual, i);

      g_assert_cmpstr (rd_plan_get_device_id (b), ==, rd_plan_get_device_id (a));
      g_assert_cmpstr (rd_plan_get_device_name (b), ==, rd_plan_get_device_name (a));
      g_assert_cmpstr (rd_plan_get_device_serial (b), ==, rd_plan_get_device_serial (a));
      g_assert_cmpint (rd_plan_get_lane (b), ==, rd_plan_get_lane (a));
      g_assert_cmpint (rd_plan_get_method (b), ==, rd_plan_get_method (a));
      g_assert_cmpint (rd_plan_get_state (b), ==, rd_plan_get_state (a));
      g_assert_true (g_date_time_equal (rd_plan_get_created (b), rd_plan_get_created (a)));
      g_assert_true (g_date_time_equal (rd_plan_get_updated (b), rd_plan_get_updated (a)));
      g_assert_cmpstr (rd_plan_get_notes (b), ==, rd_plan_get_notes (a));
      g_assert_cmpstr (rd_plan_get_last_error (b), ==, rd_plan_get_last_error (a));
      g_assert_true (strv_equal0 (rd_plan_get_request_ids (b), rd_plan_get_request_ids (a)));
      g_assert_cmpstr (rd_plan_get_usb_image_name (b), ==, rd_plan_get_usb_image_name (a));
      g_assert_cmpstr (rd_plan_get_usb_image_sha256 (b), ==, rd_plan_get_usb_image_sha256 (a));
      g_assert_cmpstr (rd_plan_get_usb_drive_serial (b), ==, rd_plan_get_usb_drive_serial (a));
    }

  expected_json = plans_to_json (expected);
  actual_json = plans_to_json (actual);
  g_assert_true (json_node_equal (expected_json, actual_json));
}

static void
write_file (const char *path, const char *contents, gssize length)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, contents, length, &error));
  g_assert_no_error (error);
}

static GPtrArray *
list_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));

  return names;
}

static gboolean
name_in (GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    {
      if (strcmp (g_ptr_array_index (names, i), name) == 0)
        return TRUE;
    }

  return FALSE;
}

/* Returns the one name in @after that is not in @before. */
static char *
single_new_name (GPtrArray *before, GPtrArray *after)
{
  char *found = NULL;

  for (guint i = 0; i < after->len; i++)
    {
      const char *name = g_ptr_array_index (after, i);

      if (name_in (before, name))
        continue;

      g_assert_null (found);
      found = g_strdup (name);
    }

  g_assert_nonnull (found);
  return found;
}

static guint
count_temp_files (const char *dir)
{
  g_autoptr (GPtrArray) names = list_dir (dir);
  guint n = 0;

  for (guint i = 0; i < names->len; i++)
    {
      if (g_regex_match_simple ("^\\..*\\.tmp-[A-Za-z0-9]{6}$", g_ptr_array_index (names, i), 0, 0))
        n++;
    }

  return n;
}

/* Tests */

static void
test_round_trip (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdPlanStore) store = rd_plan_store_new (fixture->dir, TENANT);
  g_autoptr (RdPlanStore) other = NULL;
  g_autoptr (GPtrArray) plans = make_sample_plans ();
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GDateTime) saved_at = NULL;
  g_autofree char *expected_path = NULL;
  JsonObject *root;

  expected_path = g_build_filename (fixture->dir, "plans-" TENANT ".json", NULL);
  g_assert_cmpstr (rd_plan_store_get_path (store), ==, expected_path);
  g_assert_cmpstr (rd_plan_store_get_tenant_id (store), ==, TENANT);

  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);

  /* A second instance reads what the first wrote, from the disk. */
  other = rd_plan_store_new (fixture->dir, TENANT);
  loaded = rd_plan_store_load (other, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  assert_plans_equal (plans, loaded);
  g_assert_cmpint (rd_plan_get_state (g_ptr_array_index (loaded, 0)), ==, RD_PLAN_STATE_PENDING);
  g_assert_cmpint (rd_plan_get_state (g_ptr_array_index (loaded, 1)), ==,
                   RD_PLAN_STATE_USB_PREPARED);
  g_assert_cmpstr (rd_plan_get_usb_image_sha256 (g_ptr_array_index (loaded, 1)), ==, SHA_A);
  g_assert_cmpuint (
    g_strv_length ((char **) rd_plan_get_request_ids (g_ptr_array_index (loaded, 0))), ==, 2);

  /* The file carries its format version, tenant and time of saving. */
  g_assert_true (json_parser_load_from_file (parser, expected_path, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "formatVersion"), ==,
                   RD_PLAN_STORE_FORMAT_VERSION);
  g_assert_cmpstr (json_object_get_string_member (root, "tenantId"), ==, TENANT);
  saved_at = g_date_time_new_from_iso8601 (json_object_get_string_member (root, "savedAt"), NULL);
  g_assert_nonnull (saved_at);
  g_assert_cmpint (g_date_time_get_utc_offset (saved_at), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "plans")), ==,
                    plans->len);

  /* Saving fewer plans replaces the list, it does not merge. */
  g_ptr_array_remove_range (plans, 1, plans->len - 1);
  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  g_clear_pointer (&loaded, g_ptr_array_unref);
  loaded = rd_plan_store_load (other, &error);
  g_assert_no_error (error);
  assert_plans_equal (plans, loaded);

  g_assert_finalize_object (g_steal_pointer (&other));
  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_file_mode (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *directory = g_build_filename (fixture->dir, "data", "recovery-desk", NULL);
  g_autoptr (RdPlanStore) store = rd_plan_store_new (directory, TENANT);
  g_autoptr (GPtrArray) plans = make_sample_plans ();
  g_autoptr (GError) error = NULL;
  struct stat st;
  mode_t old_umask;

  /* With no umask to help, the modes come from the store alone. */
  old_umask = umask (0);

  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  g_assert_no_errno (g_stat (directory, &st));
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_no_errno (g_stat (rd_plan_store_get_path (store), &st));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_true (S_ISREG (st.st_mode));

  /* A file someone made readable by all is replaced by a private one. */
  g_assert_no_errno (g_chmod (rd_plan_store_get_path (store), 0666));
  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  g_assert_no_errno (g_stat (rd_plan_store_get_path (store), &st));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  umask (old_umask);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_missing_file (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *directory = g_build_filename (fixture->dir, "not-yet", NULL);
  g_autoptr (RdPlanStore) store = rd_plan_store_new (directory, TENANT);
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;

  loaded = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_cmpuint (loaded->len, ==, 0);

  /* Loading creates nothing. */
  g_assert_false (g_file_test (directory, G_FILE_TEST_EXISTS));

  /* The array owns what is added to it. */
  g_ptr_array_add (loaded, make_plan ("dev-x", "PC-X", RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN));

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_tenant_file_name (Fixture *fixture, gconstpointer user_data)
{
  const char *odd_tenant = "../Contoso Ltd/ü";
  g_autoptr (RdPlanStore) plain = rd_plan_store_new (fixture->dir, "a-B_9.x");
  g_autoptr (RdPlanStore) odd = rd_plan_store_new (fixture->dir, odd_tenant);
  g_autoptr (RdPlanStore) empty = rd_plan_store_new (fixture->dir, "");
  g_autoptr (GPtrArray) plans = make_sample_plans ();
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, odd_tenant, -1);
  g_autofree char *odd_name = g_strdup_printf ("plans-%s.json", hash);
  g_autofree char *odd_path = g_build_filename (fixture->dir, odd_name, NULL);
  g_autofree char *plain_path = g_build_filename (fixture->dir, "plans-a-B_9.x.json", NULL);
  g_autofree char *empty_dir = NULL;

  g_assert_cmpstr (rd_plan_store_get_path (plain), ==, plain_path);
  g_assert_cmpstr (rd_plan_store_get_path (odd), ==, odd_path);
  g_assert_cmpstr (rd_plan_store_get_tenant_id (odd), ==, odd_tenant);
  empty_dir = g_path_get_dirname (rd_plan_store_get_path (empty));
  g_assert_cmpstr (empty_dir, ==, fixture->dir);
  g_assert_cmpstr (rd_plan_store_get_path (empty), !=, rd_plan_store_get_path (plain));

  /* Each tenant has its own file. */
  g_assert_true (rd_plan_store_save (odd, plans, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (odd_path, G_FILE_TEST_IS_REGULAR));

  loaded = rd_plan_store_load (plain, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 0);
  g_clear_pointer (&loaded, g_ptr_array_unref);

  loaded = rd_plan_store_load (odd, &error);
  g_assert_no_error (error);
  assert_plans_equal (plans, loaded);

  g_assert_finalize_object (g_steal_pointer (&plain));
  g_assert_finalize_object (g_steal_pointer (&odd));
  g_assert_finalize_object (g_steal_pointer (&empty));
}

static gboolean
is_moved_aside_name (const char *name, const char *basename, const char *kind)
{
  g_autofree char *pattern = NULL;
  g_autofree char *escaped = g_regex_escape_string (basename, -1);

  pattern = g_strdup_printf ("^%s\\.%s-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$", escaped, kind);
  return g_regex_match_simple (pattern, name, 0, 0);
}

static void
test_corrupt (Fixture *fixture, gconstpointer user_data)
{
  static const char plan_json[] =
    "{\"deviceId\":\"d1\",\"deviceName\":\"PC\",\"deviceSerial\":null,\"lane\":\"break-fix\","
    "\"method\":\"wipe-retain\",\"state\":\"draft\",\"created\":\"2024-05-01T10:00:00Z\","
    "\"updated\":\"2024-05-01T10:00:00Z\",\"notes\":null,\"lastError\":null,\"requestIds\":[],"
    "\"usbKey\":null}";
  g_autoptr (RdPlanStore) store = rd_plan_store_new (fixture->dir, TENANT);
  g_autoptr (GPtrArray) plans = make_sample_plans ();
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *good = NULL;
  g_autofree char *truncated = NULL;
  g_autofree char *valid_plan_file = NULL;
  g_autofree char *bad_state = NULL;
  g_autofree char *other_tenant = NULL;
  g_autofree char *basename = g_path_get_basename (rd_plan_store_get_path (store));
  gsize good_length = 0;
  guint n_aside = 0;

  /* First make sure the hand-written plan is one the plan code accepts, so
   * the broken variants below fail for the reason they are meant to. */
  valid_plan_file = g_strdup_printf ("{\"formatVersion\":1,\"tenantId\":\"" TENANT "\","
                                     "\"savedAt\":\"2024-05-01T10:00:00Z\",\"plans\":[%s]}",
                                     plan_json);
  write_file (rd_plan_store_get_path (store), valid_plan_file, -1);
  loaded = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 1);
  g_assert_cmpstr (rd_plan_get_device_id (g_ptr_array_index (loaded, 0)), ==, "d1");
  g_clear_pointer (&loaded, g_ptr_array_unref);

  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (rd_plan_store_get_path (store), &good, &good_length, &error));
  g_assert_no_error (error);
  truncated = g_strndup (good, good_length / 2);

  bad_state = g_strdup (valid_plan_file);
  memcpy (strstr (bad_state, "\"draft\""), "\"zzzzz\"", 7);
  other_tenant = g_strdup (valid_plan_file);
  memcpy (strstr (other_tenant, TENANT), "fabrikam", 8);

  {
    const struct
    {
      const char *what;
      const char *contents;
      gssize length;
    } cases[] = {
      { "garbage", "\x01\x02 not json at all \xff", -1 },
      { "empty file", "", 0 },
      { "torn save", truncated, -1 },
      { "zeros", "\0\0\0\0\0\0\0\0", 8 },
      { "array root", "[1, 2, 3]", -1 },
      { "no version", "{\"tenantId\":\"" TENANT "\",\"plans\":[]}", -1 },
      { "string version", "{\"formatVersion\":\"1\",\"tenantId\":\"" TENANT "\",\"plans\":[]}",
        -1 },
      { "version 0", "{\"formatVersion\":0,\"tenantId\":\"" TENANT "\",\"plans\":[]}", -1 },
      { "plans not a list", "{\"formatVersion\":1,\"tenantId\":\"" TENANT "\",\"plans\":{}}", -1 },
      { "plan not an object", "{\"formatVersion\":1,\"tenantId\":\"" TENANT "\",\"plans\":[7]}",
        -1 },
      { "plan rejected", bad_state, -1 },
      { "plan missing fields",
        "{\"formatVersion\":1,\"tenantId\":\"" TENANT "\",\"plans\":[{\"deviceId\":\"d\"}]}", -1 },
      { "other tenant", other_tenant, -1 },
      /* Found by fuzz/fuzz-plan-store: json-glib 1.6 unescapes a lone surrogate
       * to bytes that are not UTF-8, which a save would then write out and the
       * next load refuse; and it quotes them in its parse errors. */
      { "not UTF-8 once unescaped",
        "{\"formatVersion\":1,\"tenantId\":\"" TENANT "\",\"plans\":[],\"x\":\"\\ud800x\"}", -1 },
      { "broken escape in a parse error", "{\"formatVersion\":1,\"ten\\ud800:\"x\"}", -1 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr (GPtrArray) before = NULL;
        g_autoptr (GPtrArray) after = NULL;
        g_autofree char *aside = NULL;
        g_autofree char *aside_path = NULL;
        g_autofree char *aside_contents = NULL;
        gsize aside_length = 0;
        gsize length = cases[i].length < 0 ? strlen (cases[i].contents) : (gsize) cases[i].length;

        g_test_message ("corrupt case: %s", cases[i].what);

        write_file (rd_plan_store_get_path (store), cases[i].contents, (gssize) length);
        before = list_dir (fixture->dir);

        loaded = rd_plan_store_load (store, &error);
        g_assert_null (loaded);
        g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_STORE_CORRUPT);
        g_assert_true (g_utf8_validate (error->message, -1, NULL));

        /* The file went aside under a new, timestamped name: nothing else changed. */
        after = list_dir (fixture->dir);
        g_assert_cmpuint (after->len, ==, before->len);
        g_assert_false (g_file_test (rd_plan_store_get_path (store), G_FILE_TEST_EXISTS));
        aside = single_new_name (before, after);
        g_assert_true (is_moved_aside_name (aside, basename, "corrupt"));
        n_aside++;

        /* The message names the moved file, so a person can find it. */
        aside_path = g_build_filename (fixture->dir, aside, NULL);
        g_assert_nonnull (strstr (error->message, aside_path));

        /* Its bytes are the original ones. */
        g_assert_true (g_file_get_contents (aside_path, &aside_contents, &aside_length, NULL));
        g_assert_cmpmem (aside_contents, aside_length, cases[i].contents, length);

        g_clear_error (&error);

        /* With the bad file gone the store is empty, not broken. */
        loaded = rd_plan_store_load (store, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (loaded->len, ==, 0);
        g_clear_pointer (&loaded, g_ptr_array_unref);
      }
  }

  /* All the cases ran within a few seconds: the moved files did not overwrite one another. */
  {
    g_autoptr (GPtrArray) names = list_dir (fixture->dir);
    guint n_found = 0;

    for (guint i = 0; i < names->len; i++)
      {
        if (is_moved_aside_name (g_ptr_array_index (names, i), basename, "corrupt"))
          n_found++;
      }
    g_assert_cmpuint (n_found, ==, n_aside);
  }

  /* The next save writes a fresh file, which loads. */
  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  loaded = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  assert_plans_equal (plans, loaded);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_newer_version (Fixture *fixture, gconstpointer user_data)
{
  static const char newer[] = "{\"formatVersion\":2,\"tenantId\":\"" TENANT "\","
                              "\"plans\":{\"new\":\"shape\"}}";
  g_autoptr (RdPlanStore) store = rd_plan_store_new (fixture->dir, TENANT);
  g_autoptr (GPtrArray) before = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GPtrArray) plans = make_sample_plans ();
  g_autoptr (GError) error = NULL;
  g_autofree char *basename = g_path_get_basename (rd_plan_store_get_path (store));
  g_autofree char *aside = NULL;
  g_autofree char *aside_path = NULL;
  g_autofree char *contents = NULL;

  write_file (rd_plan_store_get_path (store), newer, -1);
  before = list_dir (fixture->dir);

  loaded = rd_plan_store_load (store, &error);
  g_assert_null (loaded);
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_STORE_NEWER_VERSION);

  after = list_dir (fixture->dir);
  aside = single_new_name (before, after);
  g_assert_true (is_moved_aside_name (aside, basename, "newer"));
  aside_path = g_build_filename (fixture->dir, aside, NULL);
  g_assert_nonnull (strstr (error->message, aside_path));
  g_assert_true (g_file_get_contents (aside_path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, newer);
  g_assert_false (g_file_test (rd_plan_store_get_path (store), G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* Saving now does not touch the newer file. */
  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (aside_path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, newer);
  loaded = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  assert_plans_equal (plans, loaded);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_leftover_temp_files (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdPlanStore) store = rd_plan_store_new (fixture->dir, TENANT);
  g_autoptr (GPtrArray) plans = make_sample_plans ();
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *stale = g_build_filename (fixture->dir, ".plans-" TENANT ".json.tmp-Ab3xYz",
                                             NULL);
  g_autofree char *busy = g_build_filename (fixture->dir, ".plans-" TENANT ".json.tmp-BUSY01",
                                            NULL);
  g_autofree char *unrelated = g_build_filename (fixture->dir,
                                                 ".plans-" TENANT ".json.tmp-notes.txt", NULL);
  int busy_fd;

  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);

  /* A save cut short leaves a half-written temp file; another process may be writing one now. */
  write_file (stale, "{\"formatVersion\":1,\"plans\":[{\"dev", -1);
  write_file (busy, "{\"formatVersion\":1,", -1);
  write_file (unrelated, "mine", -1);
  busy_fd = g_open (busy, O_RDONLY | O_CLOEXEC, 0);
  g_assert_cmpint (busy_fd, >=, 0);
  g_assert_no_errno (flock (busy_fd, LOCK_EX | LOCK_NB));

  loaded = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  assert_plans_equal (plans, loaded);

  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (busy, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (unrelated, G_FILE_TEST_EXISTS));

  /* Once its writer is gone, the busy file is a leftover too. */
  g_assert_no_errno (close (busy_fd));
  g_clear_pointer (&loaded, g_ptr_array_unref);
  loaded = rd_plan_store_load (store, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (busy, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (unrelated, G_FILE_TEST_EXISTS));

  /* A save leaves no temp file behind. */
  g_assert_true (rd_plan_store_save (store, plans, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_temp_files (fixture->dir), ==, 0);

  g_assert_finalize_object (g_steal_pointer (&store));
}

/* The crash test */

static char *
large_plan_notes (char version, guint i)
{
  return g_strdup_printf ("Version %c of plan %u: a note long enough to make the file large, "
                          "with ünïcödé and \"quotes\".",
                          version, i);
}

static char *
large_plan_request_id (char version, guint i)
{
  return g_strdup_printf ("%c%07x-0000-4000-8000-000000000000", version, i);
}

/* Two versions of a large plan list, which differ in every plan. */
static GPtrArray *
make_large_plans (char version)
{
  GPtrArray *plans = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < CRASH_N_PLANS; i++)
    {
      g_autofree char *id = g_strdup_printf ("device-%05u", i);
      g_autofree char *name = g_strdup_printf ("PC-%05u", i);
      g_autofree char *notes = large_plan_notes (version, i);
      g_autofree char *request_id = large_plan_request_id (version, i);
      RdPlan *plan;

      if (i % 2 == 0)
        {
          plan = make_plan (id, name, RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
          transition (plan, RD_PLAN_STATE_READY);
          transition (plan, RD_PLAN_STATE_SENDING);
          rd_plan_add_request_id (plan, request_id);
        }
      else
        {
          g_autoptr (GError) error = NULL;

          plan = make_plan (id, name, RD_LANE_REUSE, RD_METHOD_REIMAGE_OEM);
          transition (plan, RD_PLAN_STATE_READY);
          g_assert_true (rd_plan_record_usb_key (plan, request_id, SHA_A, name, &error));
          g_assert_no_error (error);
        }
      rd_plan_set_notes (plan, notes);
      g_ptr_array_add (plans, plan);
    }

  return plans;
}

/* Returns which version @plans is, 'a' or 'b', after checking every plan
 * against it; fails the test on anything else. The child builds its own
 * plans, so the times differ and are not compared; the round trip test
 * covers them. */
static char
large_plans_version (GPtrArray *plans)
{
  char version;

  g_assert_cmpuint (plans->len, ==, CRASH_N_PLANS);

  version = g_str_has_prefix (rd_plan_get_notes (g_ptr_array_index (plans, 0)), "Version b") ? 'b'
                                                                                             : 'a';

  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      g_autofree char *id = g_strdup_printf ("device-%05u", i);
      g_autofree char *name = g_strdup_printf ("PC-%05u", i);
      g_autofree char *notes = large_plan_notes (version, i);
      g_autofree char *request_id = large_plan_request_id (version, i);
      const char *const *request_ids = rd_plan_get_request_ids (plan);

      g_assert_cmpstr (rd_plan_get_device_id (plan), ==, id);
      g_assert_cmpstr (rd_plan_get_device_name (plan), ==, name);
      g_assert_cmpstr (rd_plan_get_notes (plan), ==, notes);

      if (i % 2 == 0)
        {
          g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_WIPE_RETAIN);
          g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_SENDING);
          g_assert_nonnull (request_ids);
          g_assert_cmpstr (request_ids[0], ==, request_id);
          g_assert_null (request_ids[1]);
        }
      else
        {
          g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_REIMAGE_OEM);
          g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_USB_PREPARED);
          g_assert_cmpstr (rd_plan_get_usb_image_name (plan), ==, request_id);
          g_assert_cmpstr (rd_plan_get_usb_drive_serial (plan), ==, name);
        }
    }

  return version;
}

/* Runs in the child: saves the two versions in turn, @first first, until
 * killed. It reports 'R' when it starts, and 'S' before and 'D' after each
 * save, so the parent can tell where its kill landed. */
static int
child_save_loop (const char *dir, char first)
{
  g_autoptr (RdPlanStore) store = rd_plan_store_new (dir, CRASH_TENANT);
  g_autoptr (GPtrArray) a = make_large_plans ('a');
  g_autoptr (GPtrArray) b = make_large_plans ('b');
  g_autoptr (GError) error = NULL;

  rd_test_write_byte ('R');

  for (guint i = 0;; i++)
    {
      GPtrArray *plans = (i % 2 == 0) == (first == 'a') ? a : b;

      rd_test_write_byte ('S');
      if (!rd_plan_store_save (store, plans, &error))
        g_error ("%s", error->message);
      rd_test_write_byte ('D');
    }

  return 1;
}

static void
test_crash (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *exe = rd_test_self_exe ();
  g_autoptr (RdPlanStore) store = rd_plan_store_new (fixture->dir, CRASH_TENANT);
  g_autoptr (GPtrArray) a = make_large_plans ('a');
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimer) timer = g_timer_new ();
  guint in_save = 0, left_temp = 0, after_rename = 0, changed = 0, unchanged = 0, saves = 0;
  guint max_delay_us;
  double save_time;
  char current = 'a';

  g_assert_true (rd_plan_store_save (store, a, &error));
  g_assert_no_error (error);
  g_timer_start (timer);
  g_assert_true (rd_plan_store_save (store, a, &error));
  g_assert_no_error (error);
  save_time = g_timer_elapsed (timer, NULL);

  /* The kills land anywhere from the start of a save to into the next one,
   * whatever this machine's speed: 0–50 ms, or more where a save takes longer. */
  max_delay_us = MAX (50000, (guint) (save_time * 1.5 * G_USEC_PER_SEC));
  g_timer_start (timer);

  for (guint round = 0; round < CRASH_ROUNDS; round++)
    {
      const char first[] = { current == 'a' ? 'b' : 'a', '\0' };
      const char *argv[] = { exe, "--child-save-loop", fixture->dir, first, NULL };
      g_autoptr (GPtrArray) loaded = NULL;
      GPid pid;
      int out_fd;
      char buffer[4096];
      char last = '\0';
      guint round_saves = 0;
      char saving;
      ssize_t n;
      char version;

      /* Wait until the child has built its plans and is about to save. */
      pid = rd_test_spawn_child (argv, &out_fd);

      g_usleep ((gulong) g_test_rand_int_range (0, (gint32) max_delay_us + 1));
      rd_test_kill_child (pid);

      while ((n = read (out_fd, buffer, sizeof buffer)) != 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          g_assert_cmpint (n, >, 0);
          last = buffer[n - 1];
          for (ssize_t i = 0; i < n; i++)
            round_saves += buffer[i] == 'D';
        }
      g_assert_no_errno (close (out_fd));
      saves += round_saves;

      /* The version the child was writing when it died. */
      saving = (round_saves % 2 == 0) ? first[0] : current;

      if (last == 'S')
        in_save++;
      if (count_temp_files (fixture->dir) > 0)
        left_temp++;

      /* Whatever the moment of the kill, the file holds one whole version. */
      loaded = rd_plan_store_load (store, &error);
      g_assert_no_error (error);
      g_assert_nonnull (loaded);
      version = large_plans_version (loaded);
      if (last == 'S' && version == saving)
        after_rename++;
      if (version != current)
        changed++;
      else
        unchanged++;
      current = version;

      /* Loading cleaned up what the killed save left behind. */
      g_assert_cmpuint (count_temp_files (fixture->dir), ==, 0);
    }

  g_test_message ("crash test: %u plans (a save takes %.0f ms), %u kills after 0-%u ms in "
                  "%.1f s; %u kills inside rd_plan_store_save(): %u while building the JSON, "
                  "%u with the temp file written but not renamed, %u after the rename; "
                  "%u saves completed; after the kills the file held the new version %u times "
                  "and the old one %u times, never anything else",
                  CRASH_N_PLANS, save_time * 1000, CRASH_ROUNDS, max_delay_us / 1000,
                  g_timer_elapsed (timer, NULL), in_save, in_save - left_temp - after_rename,
                  left_temp, after_rename, saves, changed, unchanged);

  /* The kills hit saves in progress, and both outcomes were seen. */
  g_assert_cmpuint (in_save, >=, CRASH_ROUNDS / 2);
  g_assert_cmpuint (changed, >, 0);
  g_assert_cmpuint (unchanged, >, 0);

  g_assert_finalize_object (g_steal_pointer (&store));
}

int
main (int argc, char *argv[])
{
  /* The crash test runs this binary again as the process it kills. */
  if (argc == 4 && strcmp (argv[1], "--child-save-loop") == 0)
    return child_save_loop (argv[2], argv[3][0]);

  g_test_init (&argc, &argv, NULL);

  g_test_add ("/rd/plan-store/round-trip", Fixture, NULL, fixture_set_up, test_round_trip,
              fixture_tear_down);
  g_test_add ("/rd/plan-store/file-mode", Fixture, NULL, fixture_set_up, test_file_mode,
              fixture_tear_down);
  g_test_add ("/rd/plan-store/missing-file", Fixture, NULL, fixture_set_up, test_missing_file,
              fixture_tear_down);
  g_test_add ("/rd/plan-store/tenant-file-name", Fixture, NULL, fixture_set_up,
              test_tenant_file_name, fixture_tear_down);
  g_test_add ("/rd/plan-store/corrupt", Fixture, NULL, fixture_set_up, test_corrupt,
              fixture_tear_down);
  g_test_add ("/rd/plan-store/newer-version", Fixture, NULL, fixture_set_up, test_newer_version,
              fixture_tear_down);
  g_test_add ("/rd/plan-store/leftover-temp-files", Fixture, NULL, fixture_set_up,
              test_leftover_temp_files, fixture_tear_down);
  g_test_add ("/rd/plan-store/crash", Fixture, NULL, fixture_set_up, test_crash, fixture_tear_down);

  return g_test_run ();
}
