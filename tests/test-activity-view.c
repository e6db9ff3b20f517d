/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>

#include "rd-activity-view.h"
#include "rd-ui-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* The Activity view over a real audit log in a temporary folder: loading
 * off the main thread, the outcome and device filters, the CSV export, the
 * empty and error states, copying a request ID.
 * RD_SCREENSHOT_DIR=dir saves dir/activity-view.png and
 * dir/activity-view-empty.png. */

typedef struct
{
  char *dir;
  char *path;
  RdAuditLog *log;
  GtkWindow *window;
  RdActivityView *view;
} Fixture;

static void
wait_until_loaded (Fixture *f)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (rd_activity_view_get_loading (f->view))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
}

static gpointer
template_child (Fixture    *f,
                const char *name)
{
  return rd_ui_test_template_child (f->view, RD_TYPE_ACTIVITY_VIEW, name);
}

static const char *
page (Fixture *f)
{
  return gtk_stack_get_visible_child_name (template_child (f, "stack"));
}

static void
append (Fixture    *f,
        int         minutes_ago,
        const char *device_id,
        const char *device_name,
        const char *method,
        int         http_status,
        const char *request_id,
        const char *outcome)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) time = g_date_time_add_minutes (now, -minutes_ago);
  g_autofree char *path = g_strdup_printf ("/deviceManagement/managedDevices/%s/wipe", device_id);
  g_autoptr(RdAuditEntry) entry = NULL;
  g_autoptr(GError) error = NULL;

  /* clang-format off */
  entry = g_object_new (RD_TYPE_AUDIT_ENTRY,
                        "time", time,
                        "user", "admin@contoso.example",
                        "tenant", "8f2c0d3e-0000-4c5e-9b0e-000000000001",
                        "device-id", device_id,
                        "device-name", device_name,
                        "method", method,
                        "request-method", "POST",
                        "request-path", path,
                        "request-body", "{\"keepEnrollmentData\":true,\"keepUserData\":true}",
                        "http-status", http_status,
                        "request-id", request_id,
                        "client-request-id", "c0ffee00-0000-4000-8000-000000000000",
                        "outcome", outcome,
                        NULL);
  /* clang-format on */
  g_assert_true (rd_audit_log_append (f->log, entry, &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("rd-activity-view-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "audit.jsonl", NULL);
  f->log = rd_audit_log_new (f->path);

  f->view = g_object_ref_sink (RD_ACTIVITY_VIEW (rd_activity_view_new ()));
  f->window = rd_ui_test_window_new (GTK_WIDGET (f->view), 1280, 480);
  gtk_window_present (f->window);
}

static void
fill (Fixture *f)
{
  append (f, 180, "d1", "HR-LT-0142", "wipe-retain", 204, "5f1c2b3a-7a0e-4bd3-9d0e-1a2b3c4d5e6f",
          "sent");
  append (f, 150, "d2", "FIN, \"Main\" PC", "autopilot-reset", 400,
          "0a9b8c7d-1e2f-4a3b-8c5d-6e7f8a9b0c1d", "failed");
  append (f, 95, "d3", "FIN-LT-0204", "wipe-retain", 0, NULL, "unknown");
  append (f, 40, "d2", "FIN, \"Main\" PC", "autopilot-reset", 204,
          "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a", "sent");
  append (f, 5, "d4", "OPS-LT-0388", "wipe-retain", 429, "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
          "failed");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  rd_ui_test_close_window (f->window, 250);
  g_assert_finalize_object (f->view);
  g_assert_finalize_object (f->log);

  g_remove (f->path);
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->path);
  g_free (f->dir);
}

static guint
n_rows (Fixture *f)
{
  return g_list_model_get_n_items (rd_activity_view_get_model (f->view));
}

static RdAuditEntry *
row (Fixture *f,
     guint    i)
{
  g_autoptr(RdAuditEntry) entry = g_list_model_get_item (rd_activity_view_get_model (f->view), i);

  return entry;
}

static void
test_lists (Fixture       *f,
            gconstpointer  data)
{
  fill (f);
  rd_activity_view_set_audit_log (f->view, f->log);
  g_assert_true (rd_activity_view_get_loading (f->view));
  wait_until_loaded (f);

  g_assert_cmpuint (n_rows (f), ==, 5);
  g_assert_cmpstr (page (f), ==, "list");
  g_assert_cmpstr (gtk_label_get_label (template_child (f, "count_label")), ==, "5 actions");

  /* Newest first. */
  g_assert_cmpstr (rd_audit_entry_get_device_id (row (f, 0)), ==, "d4");
  g_assert_cmpstr (rd_audit_entry_get_device_id (row (f, 4)), ==, "d1");
  for (guint i = 1; i < n_rows (f); i++)
    g_assert_cmpint (g_date_time_compare (rd_audit_entry_get_time (row (f, i - 1)),
                                          rd_audit_entry_get_time (row (f, i))), >, 0);

  /* A reload picks up what was appended since. */
  append (f, 0, "d5", "LAB-WS-0009", "wipe-retain", 204, "9e8d7c6b-0000-4000-8000-5a4b3c2d1e0f",
          "sent");
  gtk_widget_activate_action (GTK_WIDGET (f->view), "activity.reload", NULL);
  wait_until_loaded (f);
  g_assert_cmpuint (n_rows (f), ==, 6);
  g_assert_cmpstr (rd_audit_entry_get_device_id (row (f, 0)), ==, "d5");
}

static void
test_filters (Fixture       *f,
              gconstpointer  data)
{
  GtkDropDown *dropdown = template_child (f, "outcome_dropdown");

  fill (f);
  rd_activity_view_set_audit_log (f->view, f->log);
  wait_until_loaded (f);

  rd_activity_view_set_outcome (f->view, "failed");
  g_assert_cmpuint (n_rows (f), ==, 2);
  for (guint i = 0; i < n_rows (f); i++)
    g_assert_cmpstr (rd_audit_entry_get_outcome (row (f, i)), ==, "failed");
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, 2);
  g_assert_cmpstr (gtk_label_get_label (template_child (f, "count_label")), ==,
                   "2 of 5 actions");

  /* The drop-down drives the same filter. */
  gtk_drop_down_set_selected (dropdown, 3);
  g_assert_cmpstr (rd_activity_view_get_outcome (f->view), ==, "unknown");
  g_assert_cmpuint (n_rows (f), ==, 1);
  g_assert_cmpstr (rd_audit_entry_get_device_id (row (f, 0)), ==, "d3");

  gtk_drop_down_set_selected (dropdown, 1);
  g_assert_cmpstr (rd_activity_view_get_outcome (f->view), ==, "sent");
  g_assert_cmpuint (n_rows (f), ==, 2);

  /* By device: name or Intune id, whatever the case. */
  rd_activity_view_set_outcome (f->view, NULL);
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, 0);
  rd_activity_view_set_search (f->view, "fin");
  g_assert_cmpuint (n_rows (f), ==, 3);
  rd_activity_view_set_search (f->view, "fin, \"MAIN\"");
  g_assert_cmpuint (n_rows (f), ==, 2);
  rd_activity_view_set_search (f->view, "D4");
  g_assert_cmpuint (n_rows (f), ==, 1);
  g_assert_cmpstr (rd_audit_entry_get_device_name (row (f, 0)), ==, "OPS-LT-0388");

  /* Both filters at once, then nothing left. */
  rd_activity_view_set_search (f->view, "fin");
  rd_activity_view_set_outcome (f->view, "sent");
  g_assert_cmpuint (n_rows (f), ==, 1);
  g_assert_cmpstr (rd_audit_entry_get_request_id (row (f, 0)), ==,
                   "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a");
  rd_activity_view_set_search (f->view, "OPS");
  g_assert_cmpuint (n_rows (f), ==, 0);
  g_assert_cmpstr (page (f), ==, "no-results");
  g_assert_false (gtk_widget_is_sensitive (template_child (f, "export_button")));

  rd_activity_view_set_search (f->view, NULL);
  rd_activity_view_set_outcome (f->view, "all");
  g_assert_null (rd_activity_view_get_outcome (f->view));
  g_assert_cmpuint (n_rows (f), ==, 5);
  g_assert_cmpstr (page (f), ==, "list");
}

static char **
export (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "activity.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  rd_activity_view_export_async (f->view, file, NULL, rd_ui_test_async_result_cb, &result);
  g_assert_true (
    rd_activity_view_export_finish (f->view, rd_ui_test_wait_for_result (&result), &error));
  g_assert_no_error (error);
  text = rd_ui_test_take_file (path);

  g_assert_true (g_str_has_suffix (text, "\r\n"));
  return g_strsplit (text, "\r\n", -1);
}

static void
test_export (Fixture       *f,
             gconstpointer  data)
{
  g_auto(GStrv) all = NULL;
  g_auto(GStrv) failed = NULL;

  fill (f);
  rd_activity_view_set_audit_log (f->view, f->log);
  wait_until_loaded (f);

  all = export (f);
  g_assert_cmpuint (g_strv_length (all), ==, n_rows (f) + 2);
  g_assert_cmpstr (all[0], ==,
                   "time,user,tenant,deviceName,deviceId,method,request,httpStatus,outcome,"
                   "requestId,clientRequestId");
  /* Row for row, in the order shown; none of these fields needs quoting
   * except the device name. */
  for (guint i = 0; i < n_rows (f); i++)
    {
      RdAuditEntry *entry = row (f, i);
      g_autofree char *device_id = g_strdup_printf (",%s,", rd_audit_entry_get_device_id (entry));
      g_autofree char *outcome = g_strdup_printf (",%s,", rd_audit_entry_get_outcome (entry));

      g_assert_nonnull (strstr (all[i + 1], device_id));
      g_assert_nonnull (strstr (all[i + 1], outcome));
      if (rd_audit_entry_get_request_id (entry) != NULL)
        g_assert_nonnull (strstr (all[i + 1], rd_audit_entry_get_request_id (entry)));
    }
  g_assert_nonnull (strstr (all[2], ",\"FIN, \"\"Main\"\" PC\",d2,autopilot-reset,"));
  g_assert_nonnull (strstr (all[3], ",FIN-LT-0204,d3,wipe-retain,"
                                    "POST /deviceManagement/managedDevices/d3/wipe,,unknown,,"));

  /* Only what the filters show. */
  rd_activity_view_set_outcome (f->view, "failed");
  failed = export (f);
  g_assert_cmpuint (g_strv_length (failed), ==, 4);
  g_assert_nonnull (strstr (failed[1], ",d4,wipe-retain,"));
  g_assert_nonnull (strstr (failed[1], ",429,failed,2b3c4d5e-"));
  g_assert_nonnull (strstr (failed[2], ",d2,autopilot-reset,"));
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  /* No log yet: nothing was ever sent. */
  rd_activity_view_set_audit_log (f->view, f->log);
  wait_until_loaded (f);
  g_assert_cmpuint (n_rows (f), ==, 0);
  g_assert_cmpstr (page (f), ==, "empty");
  g_assert_false (gtk_widget_get_visible (template_child (f, "count_label")));
  g_assert_false (gtk_widget_is_sensitive (template_child (f, "export_button")));
}

static void
test_error (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(RdAuditLog) unreadable = NULL;

  /* A folder where the log should be cannot be read. */
  g_assert_cmpint (g_mkdir (f->path, 0700), ==, 0);
  unreadable = rd_audit_log_new (f->path);
  rd_activity_view_set_audit_log (f->view, unreadable);
  wait_until_loaded (f);
  g_assert_cmpstr (page (f), ==, "error");
  g_assert_nonnull (adw_status_page_get_description (template_child (f, "error_page")));

  rd_activity_view_set_audit_log (f->view, NULL);
  g_assert_cmpstr (page (f), ==, "empty");
  g_assert_cmpint (g_rmdir (f->path), ==, 0);
}

static void
test_copy_request_id (Fixture       *f,
                      gconstpointer  data)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (f->view));
  GdkContentProvider *content;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  fill (f);
  rd_activity_view_set_audit_log (f->view, f->log);
  wait_until_loaded (f);

  gtk_widget_activate_action (GTK_WIDGET (f->view), "activity.copy-request-id", "s",
                              rd_audit_entry_get_request_id (row (f, 0)));
  content = gdk_clipboard_get_content (clipboard);
  g_assert_nonnull (content);
  g_value_init (&value, G_TYPE_STRING);
  g_assert_true (gdk_content_provider_get_value (content, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901");
}

/* Setting another log while one loads shows only the last one's entries. */
static void
test_switch_log (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *other_path = g_build_filename (f->dir, "other.jsonl", NULL);
  g_autoptr(RdAuditLog) other = rd_audit_log_new (other_path);

  fill (f);
  rd_activity_view_set_audit_log (f->view, f->log);
  rd_activity_view_set_audit_log (f->view, other);
  wait_until_loaded (f);
  rd_ui_test_iterate (250);
  g_assert_cmpuint (n_rows (f), ==, 0);
  g_assert_cmpstr (page (f), ==, "empty");
}

static void
save_screenshot (Fixture    *f,
                 const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("RD_SCREENSHOT_DIR"), name, NULL);

  rd_ui_test_save_screenshot (GTK_WIDGET (f->window), path);
}

static void
test_screenshot (Fixture       *f,
                 gconstpointer  data)
{
  rd_activity_view_set_audit_log (f->view, f->log);
  wait_until_loaded (f);
  rd_ui_test_iterate (250);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (template_child (f, "stack"))));
  if (g_getenv ("RD_SCREENSHOT_DIR") != NULL)
    save_screenshot (f, "activity-view-empty.png");

  fill (f);
  rd_activity_view_reload (f->view);
  wait_until_loaded (f);
  rd_ui_test_iterate (250);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (template_child (f, "column_view"))));

  if (g_getenv ("RD_SCREENSHOT_DIR") == NULL)
    {
      g_test_skip ("RD_SCREENSHOT_DIR is not set");
      return;
    }
  save_screenshot (f, "activity-view.png");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkCssProvider) css = NULL;

  /* Tests running side by side on one session bus race to start the
   * accessibility bus; these tests do not need it. */
  g_setenv ("GTK_A11Y", "none", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  /* The application loads its style sheet; these tests have none. */
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, RESOURCE_PREFIX "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/rd/activity-view/lists", test_lists);
  ADD ("/rd/activity-view/filters", test_filters);
  ADD ("/rd/activity-view/export", test_export);
  ADD ("/rd/activity-view/empty", test_empty);
  ADD ("/rd/activity-view/error", test_error);
  ADD ("/rd/activity-view/copy-request-id", test_copy_request_id);
  ADD ("/rd/activity-view/switch-log", test_switch_log);
  ADD ("/rd/activity-view/screenshot", test_screenshot);

  return g_test_run ();
}
