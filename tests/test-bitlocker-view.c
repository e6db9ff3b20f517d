/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>

#include "rd-bitlocker-view.h"
#include "rd-device-query-model.h"
#include "rd-ui-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* The BitLocker view, driven as an admin would: the counts for a known mix
 * of devices spread over the three lanes, the "Not Ready Only" toggle,
 * sorting by a column, the CSV export and activating a row.
 * RD_SCREENSHOT_DIR=dir saves dir/bitlocker-view.png. */

typedef struct
{
  RdBoard *board;
  GPtrArray *devices;
  GtkWindow *window;
  RdBitlockerView *view;
  RdDevice *shown;
  guint n_shown;
  guint expected_rows;
} Fixture;

static gpointer
template_child (Fixture    *f,
                const char *name)
{
  return rd_ui_test_template_child (f->view, RD_TYPE_BITLOCKER_VIEW, name);
}

static RdDevice *
make_device (const char *id,
             const char *name,
             const char *user,
             RdTristate  encrypted,
             int         keys,
             const char *tpm,
             int         days_since_sync)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) last_sync = g_date_time_add_hours (now, -24 * days_since_sync - 2);
  g_autofree char *upn = g_strdup_printf ("%s@contoso.example", id);

  return g_object_new (RD_TYPE_DEVICE,
                       "id", id, "name", name, "user-display-name", user,
                       "user-principal-name", upn, "operating-system", "Windows",
                       "os-version", days_since_sync % 2 ? "10.0.19045.3803" : "10.0.22631.4460",
                       "encrypted", encrypted, "escrowed-keys", keys, "tpm-version", tpm,
                       "encryption-readiness",
                       tpm != NULL ? RD_ENCRYPTION_READINESS_READY
                                   : RD_ENCRYPTION_READINESS_NOT_READY,
                       "last-sync", days_since_sync >= 0 ? last_sync : NULL,
                       "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", RD_JOIN_TYPE_ENTRA_JOINED, NULL);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->board = rd_board_new (NULL);
  f->devices = g_ptr_array_new_with_free_func (g_object_unref);
  /* Two ready, four not: not escrowed, not encrypted, nothing known, and
   * encrypted with the keys unknown. */
  g_ptr_array_add (f->devices, make_device ("d1", "HR, \"Main\" PC", "Ada Lovelace",
                                            RD_TRISTATE_YES, 2, "2.0", 0));
  g_ptr_array_add (f->devices, make_device ("d2", "FIN-LT-0204", "Katherine Johnson",
                                            RD_TRISTATE_YES, 0, "2.0", 1));
  g_ptr_array_add (f->devices, make_device ("d3", "FIN-PC-0031", "Alan Turing",
                                            RD_TRISTATE_NO, 1, "1.2", 12));
  g_ptr_array_add (f->devices, make_device ("d4", "LAB-WS-0009", NULL,
                                            RD_TRISTATE_UNKNOWN, -1, NULL, -1));
  g_ptr_array_add (f->devices, make_device ("d5", "OPS-LT-0388", "Edsger Dijkstra",
                                            RD_TRISTATE_YES, 1, "2.0", 4));
  g_ptr_array_add (f->devices, make_device ("d6", "OPS-LT-0391", "Margaret Hamilton",
                                            RD_TRISTATE_YES, -1, "2.0", 3));
  rd_board_set_devices (f->board, f->devices);

  /* The view shows every lane, not only Devices. */
  g_assert_true (rd_board_move_device (f->board, f->devices->pdata[1], RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (f->board, f->devices->pdata[4], RD_LANE_REUSE, &error));
  g_assert_no_error (error);

  f->view = g_object_ref_sink (RD_BITLOCKER_VIEW (rd_bitlocker_view_new ()));
  f->window = rd_ui_test_window_new (GTK_WIDGET (f->view), 1280, 560);
  rd_bitlocker_view_set_board (f->view, f->board);
  gtk_window_present (f->window);
  rd_ui_test_iterate (250);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  rd_ui_test_close_window (f->window, 250);
  g_assert_finalize_object (f->view);
  g_clear_object (&f->shown);
  g_ptr_array_unref (f->devices);
  g_assert_finalize_object (f->board);
}

static guint
n_rows (Fixture *f)
{
  return g_list_model_get_n_items (rd_bitlocker_view_get_model (f->view));
}

static RdDevice *
row (Fixture *f,
     guint    i)
{
  g_autoptr(RdDevice) device = g_list_model_get_item (rd_bitlocker_view_get_model (f->view), i);

  return device;
}

static void
test_counts (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GtkLabel *count = template_child (f, "count_label");
  GtkStack *stack = template_child (f, "stack");

  g_assert_cmpuint (rd_bitlocker_view_get_n_devices (f->view), ==, 6);
  g_assert_cmpuint (rd_bitlocker_view_get_n_ready (f->view), ==, 2);
  g_assert_cmpstr (gtk_label_get_label (count), ==, "2 of 6 ready");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "list");
  g_assert_cmpuint (n_rows (f), ==, 6);

  /* Moving a device between lanes keeps it in the view. */
  g_assert_true (rd_board_move_device (f->board, f->devices->pdata[0], RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gtk_label_get_label (count), ==, "2 of 6 ready");

  /* A refresh with new facts updates the counts: d2's key got escrowed. */
  g_object_set (f->devices->pdata[1], "escrowed-keys", 1, NULL);
  rd_board_set_devices (f->board, f->devices);
  g_assert_cmpstr (gtk_label_get_label (count), ==, "3 of 6 ready");
  g_assert_cmpuint (rd_bitlocker_view_get_n_ready (f->view), ==, 3);

  /* No board, no devices: the empty state. */
  rd_bitlocker_view_set_board (f->view, NULL);
  g_assert_cmpstr (gtk_label_get_label (count), ==, "0 of 0 ready");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (template_child (f, "column_view"))));
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (template_child (f, "export_button"))));
}

static void
test_not_ready_filter (Fixture       *f,
                       gconstpointer  data)
{
  GtkStack *stack = template_child (f, "stack");

  g_assert_cmpuint (n_rows (f), ==, 6);

  /* The toggle button's action. */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "bitlocker.not-ready-only", NULL);
  g_assert_true (rd_bitlocker_view_get_not_ready_only (f->view));
  g_assert_cmpuint (n_rows (f), ==, 4);
  for (guint i = 0; i < n_rows (f); i++)
    g_assert_cmpint (rd_device_get_bitlocker_ready (row (f, i)), !=, RD_TRISTATE_YES);
  /* The counts are the fleet's, not the filter's. */
  g_assert_cmpstr (gtk_label_get_label (template_child (f, "count_label")), ==, "2 of 6 ready");

  /* Every device ready: the filter shows the "all ready" page. */
  for (guint i = 0; i < f->devices->len; i++)
    g_object_set (f->devices->pdata[i], "encrypted", RD_TRISTATE_YES, "escrowed-keys", 1, NULL);
  rd_board_set_devices (f->board, f->devices);
  g_assert_cmpuint (n_rows (f), ==, 0);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "all-ready");

  rd_bitlocker_view_set_not_ready_only (f->view, FALSE);
  g_assert_cmpuint (n_rows (f), ==, 6);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "list");
}

static void
test_sort (Fixture       *f,
           gconstpointer  data)
{
  GtkColumnView *column_view = template_child (f, "column_view");

  /* By name, A to Z, from the start. */
  g_assert_cmpstr (rd_device_get_name (row (f, 0)), ==, "FIN-LT-0204");
  g_assert_cmpstr (rd_device_get_name (row (f, 5)), ==, "OPS-LT-0391");

  gtk_column_view_sort_by_column (column_view, template_child (f, "name_column"),
                                  GTK_SORT_DESCENDING);
  for (guint i = 1; i < n_rows (f); i++)
    g_assert_cmpint (g_utf8_collate (rd_device_get_name (row (f, i - 1)),
                                     rd_device_get_name (row (f, i))), >, 0);

  /* Escrowed keys: unknown, none, then by count. */
  gtk_column_view_sort_by_column (column_view, template_child (f, "keys_column"),
                                  GTK_SORT_ASCENDING);
  for (guint i = 1; i < n_rows (f); i++)
    g_assert_cmpint (rd_device_get_escrowed_keys (row (f, i - 1)), <=,
                     rd_device_get_escrowed_keys (row (f, i)));
  g_assert_cmpint (rd_device_get_escrowed_keys (row (f, 0)), ==, -1);
  g_assert_cmpint (rd_device_get_escrowed_keys (row (f, 5)), ==, 2);

  /* Encrypted: problems first. */
  gtk_column_view_sort_by_column (column_view, template_child (f, "encrypted_column"),
                                  GTK_SORT_ASCENDING);
  g_assert_cmpint (rd_device_get_encrypted (row (f, 0)), ==, RD_TRISTATE_NO);
  g_assert_cmpint (rd_device_get_encrypted (row (f, 1)), ==, RD_TRISTATE_UNKNOWN);
  g_assert_cmpint (rd_device_get_encrypted (row (f, 5)), ==, RD_TRISTATE_YES);

  /* OS version, number by number. */
  gtk_column_view_sort_by_column (column_view, template_child (f, "os_column"),
                                  GTK_SORT_DESCENDING);
  g_assert_cmpstr (rd_device_get_os_version (row (f, 0)), ==, "10.0.22631.4460");
  g_assert_cmpstr (rd_device_get_os_version (row (f, 3)), ==, "10.0.19045.3803");
  g_assert_cmpstr (rd_device_get_os_version (row (f, 2)), ==, "10.0.22631.4460");

  /* Last sync, oldest first; never synced before all. */
  gtk_column_view_sort_by_column (column_view, template_child (f, "sync_column"),
                                  GTK_SORT_ASCENDING);
  g_assert_null (rd_device_get_last_sync (row (f, 0)));
  g_assert_cmpstr (rd_device_get_id (row (f, 1)), ==, "d3");
  g_assert_cmpstr (rd_device_get_id (row (f, 5)), ==, "d1");
}

static gboolean
has_rows (gpointer data)
{
  Fixture *f = data;

  return n_rows (f) == f->expected_rows;
}

/* Rows i - 1 and i in the order a GtkStringSorter on the name gives. */
static int
compare_names (Fixture *f,
               guint    i)
{
  g_autofree char *a = g_utf8_casefold (rd_device_get_name (row (f, i - 1)), -1);
  g_autofree char *b = g_utf8_casefold (rd_device_get_name (row (f, i)), -1);

  return g_utf8_collate (a, b);
}

/* More devices than RdDeviceQueryModel sorts on the calling thread: the
 * name order comes from a worker, and is the same, case and all. */
static void
test_sort_many (Fixture       *f,
                gconstpointer  data)
{
  GtkColumnView *column_view = template_child (f, "column_view");
  guint n = RD_DEVICE_QUERY_MODEL_SYNC_LIMIT + 904;

  for (guint i = 0; i < n; i++)
    {
      /* Shuffled, in mixed case. */
      guint k = (i * 7919) % n;
      g_autofree char *id = g_strdup_printf ("m%u", i);
      g_autofree char *name = g_strdup_printf (k % 3 ? "pc-%05u" : "PC-%05u", k);

      g_ptr_array_add (f->devices, make_device (id, name, NULL, RD_TRISTATE_YES, 1, "2.0", 1));
    }
  rd_board_set_devices (f->board, f->devices);
  f->expected_rows = f->devices->len;
  g_assert_true (rd_ui_test_iterate_until (has_rows, f, 10));

  for (guint i = 1; i < n_rows (f); i++)
    g_assert_cmpint (compare_names (f, i), <, 0);

  gtk_column_view_sort_by_column (column_view, template_child (f, "name_column"),
                                  GTK_SORT_DESCENDING);
  for (guint i = 1; i < n_rows (f); i++)
    g_assert_cmpint (compare_names (f, i), >, 0);
}

/* A small RFC 4180 reader, to check the export field by field. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *record = NULL;
  GString *field = g_string_new (NULL);
  const char *p = text;

  while (*p != '\0')
    {
      gboolean quoted = *p == '"';

      if (record == NULL)
        record = g_ptr_array_new_with_free_func (g_free);

      g_string_truncate (field, 0);
      if (quoted)
        {
          for (p++;; p++)
            {
              g_assert_true (*p != '\0');
              if (*p == '"' && p[1] == '"')
                g_string_append_c (field, *p++);
              else if (*p == '"')
                break;
              else
                g_string_append_c (field, *p);
            }
          p++;
        }
      else
        {
          for (; *p != ',' && *p != '\r' && *p != '\0'; p++)
            {
              g_assert_true (*p != '"' && *p != '\n');
              g_string_append_c (field, *p);
            }
        }
      g_ptr_array_add (record, g_strdup (field->str));

      if (*p == ',')
        p++;
      else
        {
          g_assert_true (p[0] == '\r' && p[1] == '\n');
          p += 2;
          g_ptr_array_add (records, g_steal_pointer (&record));
        }
    }
  g_assert_null (record);
  g_string_free (field, TRUE);

  return records;
}

static GPtrArray *
export (Fixture    *f,
        const char *dir,
        char      **out_text)
{
  g_autofree char *path = g_build_filename (dir, "bitlocker.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  rd_bitlocker_view_export_async (f->view, file, NULL, rd_ui_test_async_result_cb, &result);
  g_assert_true (
    rd_bitlocker_view_export_finish (f->view, rd_ui_test_wait_for_result (&result), &error));
  g_assert_no_error (error);

  text = rd_ui_test_take_file (path);

  if (out_text != NULL)
    *out_text = g_strdup (text);

  return parse_csv (text);
}

static const char *
field (GPtrArray  *records,
       guint       r,
       const char *key)
{
  GPtrArray *header = records->pdata[0];
  GPtrArray *record = records->pdata[r];

  g_assert_cmpuint (record->len, ==, header->len);
  for (guint i = 0; i < header->len; i++)
    if (g_strcmp0 (header->pdata[i], key) == 0)
      return record->pdata[i];

  g_assert_not_reached ();
}

static void
check_export (Fixture   *f,
              GPtrArray *records)
{
  g_assert_cmpuint (records->len, ==, n_rows (f) + 1);
  for (guint i = 0; i < n_rows (f); i++)
    {
      RdDevice *device = row (f, i);
      int keys = rd_device_get_escrowed_keys (device);
      g_autofree char *keys_text = keys >= 0 ? g_strdup_printf ("%d", keys) : g_strdup ("");
      RdTristate encrypted = rd_device_get_encrypted (device);

      g_assert_cmpstr (field (records, i + 1, "id"), ==, rd_device_get_id (device));
      g_assert_cmpstr (field (records, i + 1, "deviceName"), ==, rd_device_get_name (device));
      g_assert_cmpstr (field (records, i + 1, "escrowedKeyCount"), ==, keys_text);
      g_assert_cmpstr (field (records, i + 1, "isEncrypted"), ==,
                       encrypted == RD_TRISTATE_YES  ? "true"
                       : encrypted == RD_TRISTATE_NO ? "false"
                                                     : "");
      g_assert_cmpstr (field (records, i + 1, "readyForReuse"), ==,
                       rd_device_get_bitlocker_ready (device) == RD_TRISTATE_YES ? "true"
                                                                                 : "false");
    }
}

static void
test_export (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *dir = g_dir_make_tmp ("rd-bitlocker-view-XXXXXX", NULL);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) not_ready = NULL;
  g_autofree char *text = NULL;

  all = export (f, dir, &text);
  check_export (f, all);
  /* The name with a comma and quotes, quoted as RFC 4180 says. */
  g_assert_nonnull (strstr (text, "\r\n\"HR, \"\"Main\"\" PC\",,Ada Lovelace,"));
  g_assert_cmpstr (field (all, 1, "deviceName"), ==, "FIN-LT-0204");
  g_assert_cmpstr (field (all, 3, "deviceName"), ==, "HR, \"Main\" PC");

  /* What is exported is what is shown: filtered and sorted. */
  rd_bitlocker_view_set_not_ready_only (f->view, TRUE);
  gtk_column_view_sort_by_column (template_child (f, "column_view"),
                                  template_child (f, "name_column"), GTK_SORT_DESCENDING);
  not_ready = export (f, dir, NULL);
  check_export (f, not_ready);
  g_assert_cmpuint (not_ready->len, ==, 5);
  g_assert_cmpstr (field (not_ready, 1, "deviceName"), ==, "OPS-LT-0391");

  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
on_show_device_cb (RdBitlockerView *view,
                   RdDevice        *device,
                   Fixture         *f)
{
  g_set_object (&f->shown, device);
  f->n_shown++;
}

static void
test_activate (Fixture       *f,
               gconstpointer  data)
{
  GtkColumnView *column_view = template_child (f, "column_view");

  g_signal_connect (f->view, "show-device", G_CALLBACK (on_show_device_cb), f);

  g_signal_emit_by_name (column_view, "activate", 2);
  g_assert_cmpuint (f->n_shown, ==, 1);
  g_assert_true (f->shown == row (f, 2));

  /* Positions are the filtered, sorted rows'. */
  rd_bitlocker_view_set_not_ready_only (f->view, TRUE);
  g_signal_emit_by_name (column_view, "activate", 0);
  g_assert_cmpuint (f->n_shown, ==, 2);
  g_assert_cmpstr (rd_device_get_id (f->shown), ==, "d2");
}

static void
test_screenshot (Fixture       *f,
                 gconstpointer  data)
{
  const char *dir = g_getenv ("RD_SCREENSHOT_DIR");
  g_autofree char *path = NULL;

  /* The view renders a row per device. */
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (template_child (f, "column_view"))));
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (f->view)), >, 0);

  if (dir == NULL)
    {
      g_test_skip ("RD_SCREENSHOT_DIR is not set");
      return;
    }

  path = g_build_filename (dir, "bitlocker-view.png", NULL);
  rd_ui_test_save_screenshot (GTK_WIDGET (f->window), path);
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

  ADD ("/rd/bitlocker-view/counts", test_counts);
  ADD ("/rd/bitlocker-view/not-ready-filter", test_not_ready_filter);
  ADD ("/rd/bitlocker-view/sort", test_sort);
  ADD ("/rd/bitlocker-view/sort-many", test_sort_many);
  ADD ("/rd/bitlocker-view/export", test_export);
  ADD ("/rd/bitlocker-view/activate", test_activate);
  ADD ("/rd/bitlocker-view/screenshot", test_screenshot);

  return g_test_run ();
}
