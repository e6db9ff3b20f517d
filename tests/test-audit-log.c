/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-audit-log"

#include "config.h"

#include "rd-audit-log.h"

#include "rd-core-error.h"
#include "rd-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRASH_ROUNDS 30
#define CRASH_PADDING 65536

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer user_data)
{
  fixture->dir = rd_test_make_tmp_dir ("rd-audit-log-XXXXXX");
  fixture->path = g_build_filename (fixture->dir, "recovery-desk", "audit.jsonl", NULL);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *sub = g_path_get_dirname (fixture->path);

  if (g_file_test (fixture->path, G_FILE_TEST_EXISTS))
    g_assert_no_errno (g_unlink (fixture->path));
  if (g_file_test (sub, G_FILE_TEST_EXISTS))
    g_assert_no_errno (g_rmdir (sub));
  g_assert_no_errno (g_rmdir (fixture->dir));

  g_free (fixture->path);
  g_free (fixture->dir);
}

/* Helpers */

static RdAuditEntry *
make_entry (const char *device_name, const char *outcome, int http_status)
{
  g_autoptr (GDateTime) whole_second = g_date_time_new_utc (2024, 5, 17, 9, 30, 12);
  g_autoptr (GDateTime) time = g_date_time_add (whole_second, 345678);

  /* clang-format off */
  return g_object_new (RD_TYPE_AUDIT_ENTRY,
                       "time", time,
                       "user", "admin@contoso.com",
                       "tenant", "11111111-2222-3333-4444-555555555555",
                       "device-id", "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
                       "device-name", device_name,
                       "method", "wipe-retain",
                       "request-method", "POST",
                       "request-path", "/deviceManagement/managedDevices/0f1e2d3c/wipe",
                       "request-body", "{\"keepEnrollmentData\": true, \"keepUserData\": true}",
                       "http-status", http_status,
                       "request-id", "req-5e6f",
                       "client-request-id", "client-7a8b",
                       "outcome", outcome,
                       NULL);
  /* clang-format on */
}

static void
append (RdAuditLog *log, RdAuditEntry *entry)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (rd_audit_log_append (log, entry, &error));
  g_assert_no_error (error);
}

static GListModel *
read_log (RdAuditLog *log, guint *n_skipped)
{
  g_autoptr (GError) error = NULL;
  GListModel *entries = rd_audit_log_read (log, n_skipped, &error);

  g_assert_no_error (error);
  g_assert_nonnull (entries);
  g_assert_true (g_list_model_get_item_type (entries) == RD_TYPE_AUDIT_ENTRY);
  return entries;
}

static RdAuditEntry *
get_entry (GListModel *entries, guint i)
{
  g_autoptr (RdAuditEntry) entry = g_list_model_get_item (entries, i);

  g_assert_nonnull (entry);
  return entry;
}

static void
append_raw (const char *path, const char *bytes)
{
  int fd = g_open (path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, bytes, strlen (bytes)), ==, (ssize_t) strlen (bytes));
  g_assert_no_errno (close (fd));
}

static char **
read_lines (const char *path)
{
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  return g_strsplit (contents, "\n", -1);
}

/* Tests */

static void
test_round_trip (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdAuditLog) log = rd_audit_log_new (fixture->path);
  g_autofree char *sub = g_path_get_dirname (fixture->path);
  g_autoptr (RdAuditEntry) full = make_entry ("PC-0001 \"front desk\"\nsecond line", "sent", 204);
  g_autoptr (RdAuditEntry) sparse = NULL;
  g_autoptr (GDateTime) local_time = NULL;
  g_autoptr (GTimeZone) tz = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) expected_body = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  RdAuditEntry *entry;
  JsonObject *object;
  JsonObject *request;
  guint n_skipped = 99;
  struct stat st;

  /* A time in another zone is written in UTC; a failed request has no status or body. */
  tz = g_time_zone_new_offset (2 * 3600);
  local_time = g_date_time_new (tz, 2024, 5, 17, 11, 45, 0);
  /* clang-format off */
  sparse = g_object_new (RD_TYPE_AUDIT_ENTRY,
                         "time", local_time,
                         "user", "admin@contoso.com",
                         "device-id", "dev-2",
                         "method", "autopilot-reset",
                         "request-method", "POST",
                         "request-path", "/deviceManagement/managedDevices/dev-2/wipe",
                         "outcome", "failed: could not connect",
                         NULL);
  /* clang-format on */

  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
  append (log, full);
  append (log, sparse);

  g_assert_no_errno (g_stat (fixture->path, &st));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_no_errno (g_stat (sub, &st));
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);

  entries = read_log (log, &n_skipped);
  g_assert_cmpuint (n_skipped, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 2);

  entry = get_entry (entries, 0);
  g_assert_true (
    g_date_time_equal (rd_audit_entry_get_time (entry), rd_audit_entry_get_time (full)));
  g_assert_cmpint (g_date_time_get_microsecond (rd_audit_entry_get_time (entry)), ==, 345678);
  g_assert_cmpstr (rd_audit_entry_get_user (entry), ==, "admin@contoso.com");
  g_assert_cmpstr (rd_audit_entry_get_tenant (entry), ==, "11111111-2222-3333-4444-555555555555");
  g_assert_cmpstr (rd_audit_entry_get_device_id (entry), ==,
                   "0f1e2d3c-aaaa-bbbb-cccc-000000000001");
  g_assert_cmpstr (rd_audit_entry_get_device_name (entry), ==,
                   "PC-0001 \"front desk\"\nsecond line");
  g_assert_cmpstr (rd_audit_entry_get_method (entry), ==, "wipe-retain");
  g_assert_cmpstr (rd_audit_entry_get_request_method (entry), ==, "POST");
  g_assert_cmpstr (rd_audit_entry_get_request_path (entry), ==,
                   "/deviceManagement/managedDevices/0f1e2d3c/wipe");
  g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 204);
  g_assert_cmpstr (rd_audit_entry_get_request_id (entry), ==, "req-5e6f");
  g_assert_cmpstr (rd_audit_entry_get_client_request_id (entry), ==, "client-7a8b");
  g_assert_cmpstr (rd_audit_entry_get_outcome (entry), ==, "sent");
  body = json_from_string (rd_audit_entry_get_request_body (entry), &error);
  g_assert_no_error (error);
  expected_body = json_from_string (rd_audit_entry_get_request_body (full), &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (body, expected_body));

  entry = get_entry (entries, 1);
  g_assert_true (g_date_time_equal (rd_audit_entry_get_time (entry), local_time));
  g_assert_cmpstr (rd_audit_entry_get_tenant (entry), ==, NULL);
  g_assert_cmpstr (rd_audit_entry_get_device_name (entry), ==, NULL);
  g_assert_cmpstr (rd_audit_entry_get_request_body (entry), ==, NULL);
  g_assert_cmpint (rd_audit_entry_get_http_status (entry), ==, 0);
  g_assert_cmpstr (rd_audit_entry_get_request_id (entry), ==, NULL);
  g_assert_cmpstr (rd_audit_entry_get_outcome (entry), ==, "failed: could not connect");

  /* On disk: one object per line, camelCase keys, UTC times, the body as an object. */
  lines = read_lines (fixture->path);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_cmpstr (lines[2], ==, "");

  g_assert_true (json_parser_load_from_data (parser, lines[0], -1, &error));
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "time"), ==,
                   "2024-05-17T09:30:12.345678Z");
  g_assert_cmpstr (json_object_get_string_member (object, "deviceId"), ==,
                   "0f1e2d3c-aaaa-bbbb-cccc-000000000001");
  g_assert_cmpint (json_object_get_int_member (object, "httpStatus"), ==, 204);
  g_assert_cmpstr (json_object_get_string_member (object, "clientRequestId"), ==, "client-7a8b");
  request = json_object_get_object_member (object, "request");
  g_assert_cmpstr (json_object_get_string_member (request, "method"), ==, "POST");
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (request, "body"),
                                                 "keepUserData"));

  g_assert_true (json_parser_load_from_data (parser, lines[1], -1, &error));
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "time"), ==, "2024-05-17T09:45:00Z");
  g_assert_true (json_object_get_null_member (object, "httpStatus"));
  g_assert_true (
    json_object_get_null_member (json_object_get_object_member (object, "request"), "body"));

  g_assert_finalize_object (g_steal_pointer (&entries));
  g_assert_finalize_object (g_steal_pointer (&log));
}

static void
test_missing_file (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdAuditLog) log = rd_audit_log_new (fixture->path);
  g_autoptr (GListModel) entries = NULL;
  guint n_skipped = 99;

  g_assert_cmpstr (rd_audit_log_get_path (log), ==, fixture->path);

  entries = read_log (log, &n_skipped);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 0);
  g_assert_cmpuint (n_skipped, ==, 0);
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));

  g_assert_finalize_object (g_steal_pointer (&entries));
  g_assert_finalize_object (g_steal_pointer (&log));
}

static void
test_invalid_body (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdAuditLog) log = rd_audit_log_new (fixture->path);
  g_autoptr (RdAuditEntry) entry = NULL;
  g_autoptr (GListModel) entries = NULL;
  g_autoptr (GError) error = NULL;

  entry = g_object_new (RD_TYPE_AUDIT_ENTRY, "device-name", "PC-9", "request-body", "[1, 2", NULL);
  g_assert_false (rd_audit_log_append (log, entry, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "PC-9"));

  /* Nothing was written. */
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));

  g_assert_finalize_object (g_steal_pointer (&entry));
  g_assert_finalize_object (g_steal_pointer (&log));
}

static void
test_flushed_per_entry (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdAuditLog) writer = rd_audit_log_new (fixture->path);
  g_autoptr (RdAuditLog) reader = rd_audit_log_new (fixture->path);

  for (int i = 1; i <= 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("PC-%d", i);
      g_autoptr (RdAuditEntry) entry = make_entry (name, "sent", 202);
      g_autoptr (GListModel) entries = NULL;
      guint n_skipped = 99;

      append (writer, entry);

      /* Another instance, as another process would, sees the entry at once. */
      entries = read_log (reader, &n_skipped);
      g_assert_cmpuint (n_skipped, ==, 0);
      g_assert_cmpuint (g_list_model_get_n_items (entries), ==, (guint) i);
      g_assert_cmpstr (rd_audit_entry_get_device_name (get_entry (entries, (guint) i - 1)), ==,
                       name);
    }

  g_assert_finalize_object (g_steal_pointer (&writer));
  g_assert_finalize_object (g_steal_pointer (&reader));
}

static void
test_torn_last_line (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdAuditLog) log = rd_audit_log_new (fixture->path);
  g_autoptr (RdAuditEntry) first = make_entry ("PC-1", "sent", 202);
  g_autoptr (RdAuditEntry) after = make_entry ("PC-3", "sent after the crash", 202);
  g_autoptr (GListModel) entries = NULL;
  g_autofree char *whole = NULL;
  g_autofree char *torn = NULL;
  g_auto (GStrv) lines = NULL;
  guint n_skipped = 0;

  append (log, first);

  /* A crash in the middle of writing the second entry leaves half a line. */
  g_assert_true (g_file_get_contents (fixture->path, &whole, NULL, NULL));
  torn = g_strndup (whole, strlen (whole) / 2);
  append_raw (fixture->path, torn);

  entries = read_log (log, &n_skipped);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 1);
  g_assert_cmpuint (n_skipped, ==, 1);
  g_assert_cmpstr (rd_audit_entry_get_device_name (get_entry (entries, 0)), ==, "PC-1");
  g_clear_object (&entries);

  /* The next entry starts a line of its own, rather than finishing the torn one. */
  append (log, after);
  lines = read_lines (fixture->path);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[1], ==, torn);
  g_assert_true (g_str_has_prefix (lines[2], "{\"time\":"));
  g_assert_cmpstr (lines[3], ==, "");

  entries = read_log (log, &n_skipped);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 2);
  g_assert_cmpuint (n_skipped, ==, 1);
  g_assert_cmpstr (rd_audit_entry_get_device_name (get_entry (entries, 0)), ==, "PC-1");
  g_assert_cmpstr (rd_audit_entry_get_device_name (get_entry (entries, 1)), ==, "PC-3");
  g_assert_cmpstr (rd_audit_entry_get_outcome (get_entry (entries, 1)), ==, "sent after the crash");

  g_assert_finalize_object (g_steal_pointer (&entries));
  g_assert_finalize_object (g_steal_pointer (&log));
}

static void
test_garbage_lines (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (RdAuditLog) log = rd_audit_log_new (fixture->path);
  g_autoptr (RdAuditEntry) one = make_entry ("PC-1", "sent", 202);
  g_autoptr (RdAuditEntry) two = make_entry ("PC-2", "sent", 202);
  g_autoptr (GListModel) entries = NULL;
  guint n_skipped = 0;

  append (log, one);
  /* Not JSON, a JSON array, an entry without a time, a wrong type, bad UTF-8, zeros; and a blank
   * line. */
  append_raw (fixture->path, "this is not json\n"
                             "[1,2,3]\n"
                             "{\"user\":\"admin\"}\n"
                             "{\"time\":\"2024-05-17T09:30:12Z\",\"httpStatus\":\"204\"}\n"
                             "{\"time\":\"2024-05-17T09:30:12Z\",\"user\":\"\xff\xfe\"}\n"
                             "\n");
  {
    static const char zeros[] = "\0\0\0\0\n";
    int fd = g_open (fixture->path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);

    g_assert_cmpint (write (fd, zeros, sizeof zeros - 1), ==, (ssize_t) sizeof zeros - 1);
    g_assert_no_errno (close (fd));
  }
  append (log, two);

  entries = read_log (log, &n_skipped);
  g_assert_cmpuint (n_skipped, ==, 6);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 2);
  g_assert_cmpstr (rd_audit_entry_get_device_name (get_entry (entries, 0)), ==, "PC-1");
  g_assert_cmpstr (rd_audit_entry_get_device_name (get_entry (entries, 1)), ==, "PC-2");

  /* n_skipped is optional. */
  g_clear_object (&entries);
  entries = read_log (log, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (entries), ==, 2);

  g_assert_finalize_object (g_steal_pointer (&entries));
  g_assert_finalize_object (g_steal_pointer (&log));
}

/* The crash test */

/* Runs in the child: appends numbered entries, each with a large body so a
 * kill may land inside the write, and reports 'A' after each append. */
static int
child_append_loop (const char *path, const char *round)
{
  g_autoptr (RdAuditLog) log = rd_audit_log_new (path);
  g_autofree char *padding = g_strnfill (CRASH_PADDING, 'x');
  g_autofree char *body = g_strdup_printf ("{\"keepUserData\":true,\"padding\":\"%s\"}", padding);
  g_autoptr (GError) error = NULL;

  rd_test_write_byte ('R');

  for (guint i = 0;; i++)
    {
      g_autofree char *outcome = g_strdup_printf ("%s/%u", round, i);
      /* clang-format off */
      g_autoptr (RdAuditEntry) entry = g_object_new (RD_TYPE_AUDIT_ENTRY,
                                                     "device-name", "child",
                                                     "request-body", body,
                                                     "outcome", outcome,
                                                     NULL);
      /* clang-format on */

      if (!rd_audit_log_append (log, entry, &error))
        g_error ("%s", error->message);
      rd_test_write_byte ('A');
    }

  return 1;
}

static void
test_crash (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *exe = rd_test_self_exe ();
  g_autoptr (RdAuditLog) log = rd_audit_log_new (fixture->path);
  g_autoptr (GTimer) timer = g_timer_new ();
  guint total_confirmed = 0, total_entries = 0, torn_lines = 0;

  for (guint round = 0; round < CRASH_ROUNDS; round++)
    {
      g_autofree char *round_text = g_strdup_printf ("%u", round);
      g_autofree char *marker_outcome = g_strdup_printf ("marker %u", round);
      const char *argv[] = { exe, "--child-append-loop", fixture->path, round_text, NULL };
      g_autoptr (GListModel) entries = NULL;
      g_autoptr (RdAuditEntry) marker = NULL;
      guint confirmed = 0, in_round = 0, n_skipped = 0, n_items;
      GPid pid;
      int out_fd;
      char buffer[256];
      ssize_t n;

      pid = rd_test_spawn_child (argv, &out_fd);

      g_usleep ((gulong) g_test_rand_int_range (0, 20001));
      rd_test_kill_child (pid);

      while ((n = read (out_fd, buffer, sizeof buffer)) != 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          g_assert_cmpint (n, >, 0);
          for (ssize_t i = 0; i < n; i++)
            confirmed += buffer[i] == 'A';
        }
      g_assert_no_errno (close (out_fd));
      total_confirmed += confirmed;

      /* The log reads; this round's entries are numbered 0, 1, 2, ... with
       * every confirmed one present and at most the one in flight besides. */
      entries = read_log (log, &n_skipped);
      n_items = g_list_model_get_n_items (entries);
      for (guint i = 0; i < n_items; i++)
        {
          RdAuditEntry *entry = get_entry (entries, i);
          g_autofree char *expected = g_strdup_printf ("%s/%u", round_text, in_round);

          if (g_strcmp0 (rd_audit_entry_get_device_name (entry), "child") != 0 ||
              !g_str_has_prefix (rd_audit_entry_get_outcome (entry), round_text) ||
              rd_audit_entry_get_outcome (entry)[strlen (round_text)] != '/')
            continue;

          g_assert_cmpstr (rd_audit_entry_get_outcome (entry), ==, expected);
          g_assert_cmpuint (strlen (rd_audit_entry_get_request_body (entry)), >, CRASH_PADDING);
          in_round++;
        }
      g_assert_cmpuint (in_round, >=, confirmed);
      g_assert_cmpuint (in_round, <=, confirmed + 1);
      total_entries += in_round;

      /* Each kill can tear at most one line. */
      g_assert_cmpuint (n_skipped, <=, round + 1);
      torn_lines = n_skipped;

      /* The log goes on: the parent's entry reads back whole, as the last one. */
      marker = g_object_new (RD_TYPE_AUDIT_ENTRY, "device-name", "parent", "outcome",
                             marker_outcome, NULL);
      append (log, marker);
      g_clear_object (&entries);
      entries = read_log (log, NULL);
      g_assert_cmpuint (g_list_model_get_n_items (entries), ==, n_items + 1);
      g_assert_cmpstr (rd_audit_entry_get_outcome (get_entry (entries, n_items)), ==,
                       marker_outcome);
    }

  g_test_message ("audit crash test: %u kills in %.1f s; %u appends confirmed, %u entries read "
                  "back, %u lines torn by a kill",
                  CRASH_ROUNDS, g_timer_elapsed (timer, NULL), total_confirmed, total_entries,
                  torn_lines);

  g_assert_cmpuint (total_confirmed, >, 0);

  g_assert_finalize_object (g_steal_pointer (&log));
}

int
main (int argc, char *argv[])
{
  /* The crash test runs this binary again as the process it kills. */
  if (argc == 4 && strcmp (argv[1], "--child-append-loop") == 0)
    return child_append_loop (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);

  g_test_add ("/rd/audit-log/round-trip", Fixture, NULL, fixture_set_up, test_round_trip,
              fixture_tear_down);
  g_test_add ("/rd/audit-log/missing-file", Fixture, NULL, fixture_set_up, test_missing_file,
              fixture_tear_down);
  g_test_add ("/rd/audit-log/invalid-body", Fixture, NULL, fixture_set_up, test_invalid_body,
              fixture_tear_down);
  g_test_add ("/rd/audit-log/flushed-per-entry", Fixture, NULL, fixture_set_up,
              test_flushed_per_entry, fixture_tear_down);
  g_test_add ("/rd/audit-log/torn-last-line", Fixture, NULL, fixture_set_up, test_torn_last_line,
              fixture_tear_down);
  g_test_add ("/rd/audit-log/garbage-lines", Fixture, NULL, fixture_set_up, test_garbage_lines,
              fixture_tear_down);
  g_test_add ("/rd/audit-log/crash", Fixture, NULL, fixture_set_up, test_crash, fixture_tear_down);

  return g_test_run ();
}
