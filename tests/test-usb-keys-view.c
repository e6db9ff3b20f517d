/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "rd-drive-private.h"
#include "rd-method.h"
#include "rd-usb-drive-row.h"
#include "rd-usb-key-progress-row.h"
#include "rd-usb-keys-view.h"
#include "rd-ui-test-util.h"

/* The USB keys view with real widgets, and the real recovery-desk-imager writing to regular
 * files that stand in for keys. This suite runs without udisksd, so the view's own drive list
 * shows its empty state; the other tests give it a list of test drives. */

#define IMAGE_SIZE (2 * 1024 * 1024 + 512)

typedef struct
{
  GtkWindow *window;
  RdUsbKeysView *view;
  GListStore *drives;
  char *dir;
  char *image;
  char *image_sha256;
} Fixture;

static GObject *
child (Fixture *f, const char *name)
{
  GObject *object
    = gtk_widget_get_template_child (GTK_WIDGET (f->view), RD_TYPE_USB_KEYS_VIEW, name);

  g_assert_nonnull (object);
  return object;
}

static const char *
drives_page (Fixture *f)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (child (f, "drives_stack")));
}

/* The Write button follows the usb-keys.write action's enabled state. */
static gboolean
write_enabled (Fixture *f)
{
  return gtk_widget_get_sensitive (GTK_WIDGET (child (f, "write_button")));
}

static void
write_image (Fixture *f)
{
  GRand *rand = g_rand_new_with_seed (7);
  g_autofree guint8 *data = g_malloc (IMAGE_SIZE);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < IMAGE_SIZE; i++)
    data[i] = g_rand_int (rand) & 0xff;
  /* An MBR with one partition: a disk image, writable byte for byte. */
  memset (data + 446, 0, 64);
  data[446 + 4] = 0x0c;
  data[446 + 8] = 0x08;
  data[446 + 12] = 0x10;
  data[510] = 0x55;
  data[511] = 0xaa;
  g_rand_free (rand);

  f->image = g_build_filename (f->dir, "elitebook-840-g8-oem.img", NULL);
  g_file_set_contents (f->image, (const char *) data, IMAGE_SIZE, &error);
  g_assert_no_error (error);
  f->image_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, IMAGE_SIZE);
}

static RdDrive *
make_drive (guint       n,
            const char *vendor,
            const char *model,
            const char *serial,
            guint64     size,
            const char *target)
{
  g_autofree char *device = g_strdup_printf ("/dev/sd%c", 'x' + n);
  RdDrive *drive = rd_drive_new_for_testing (device, makedev (259, 4000 + n), size, FALSE, FALSE,
                                             TRUE);

  rd_drive_set_identity_for_testing (drive, target, vendor, model, serial);
  return drive;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("rd-usb-keys-XXXXXX", &error);
  g_assert_no_error (error);
  write_image (f);

  f->view = RD_USB_KEYS_VIEW (g_object_ref_sink (rd_usb_keys_view_new ()));
  if (data != NULL)
    {
      f->drives = g_list_store_new (RD_TYPE_DRIVE);
      rd_usb_keys_view_set_drives (f->view, G_LIST_MODEL (f->drives));
    }
  f->window = rd_ui_test_window_new (GTK_WIDGET (f->view), 820, 980);
  gtk_window_present (f->window);
  rd_ui_test_iterate (200);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_unlink (file);
    }
  if (dir != NULL)
    g_dir_close (dir);
  g_rmdir (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  rd_ui_test_close_window (f->window, 100);
  g_assert_finalize_object (f->view);
  if (f->drives != NULL)
    g_assert_finalize_object (f->drives);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->image);
  g_free (f->image_sha256);
}

static GPtrArray *
drive_rows (Fixture *f)
{
  GPtrArray *rows = g_ptr_array_new ();
  GtkWidget *list = GTK_WIDGET (child (f, "drive_list"));

  for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (RD_IS_USB_DRIVE_ROW (row))
      g_ptr_array_add (rows, row);
  return rows;
}

static GPtrArray *
progress_rows (Fixture *f)
{
  GPtrArray *rows = g_ptr_array_new ();
  GtkWidget *list = GTK_WIDGET (child (f, "progress_list"));

  for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (RD_IS_USB_KEY_PROGRESS_ROW (row))
      g_ptr_array_add (rows, row);
  return rows;
}

static gboolean
sha_known (gpointer data)
{
  Fixture *f = data;

  return rd_usb_keys_view_get_image_sha256 (f->view) != NULL;
}

static gboolean
not_writing (gpointer data)
{
  Fixture *f = data;

  return !rd_usb_keys_view_get_writing (f->view);
}

static gboolean
image_read (gpointer data)
{
  Fixture *f = data;

  return !gtk_widget_get_visible (GTK_WIDGET (child (f, "inspect_spinner")));
}

/* Without udisksd (as in this suite) the list says so, and nothing can be written. */
static void
test_empty_state (Fixture *f, gconstpointer data)
{
  AdwStatusPage *page;
  const char *name = drives_page (f);

  if (rd_usb_keys_view_get_drives (f->view) == NULL)
    {
      g_assert_cmpstr (name, ==, "unavailable");
      page = ADW_STATUS_PAGE (child (f, "unavailable_page"));
      g_assert_cmpstr (adw_status_page_get_title (page), ==, "UDisks Is Not Available");
      g_assert_nonnull (strstr (adw_status_page_get_description (page), "UDisks"));
    }
  else
    {
      /* A machine with udisksd: an empty or a real list, never the error. */
      g_test_message ("UDisks is running here; the drive list is live");
      g_assert_cmpstr (name, !=, "unavailable");
    }
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "summary_label"))), ==,
                   "Choose an image to write.");
  g_assert_false (write_enabled (f));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (f, "plan_box"))));
}

/* The list follows its model live: "Insert a USB key" when empty. */
static void
test_drives_live (Fixture *f, gconstpointer data)
{
  g_autoptr (RdDrive) drive = make_drive (0, "SanDisk", "Cruzer Blade", "4C530001", 16000000000,
                                          "/org/freedesktop/UDisks2/block_devices/sdx");
  g_autoptr (GPtrArray) rows = NULL;
  AdwStatusPage *empty = ADW_STATUS_PAGE (child (f, "empty_page"));

  g_assert_cmpstr (drives_page (f), ==, "empty");
  g_assert_cmpstr (adw_status_page_get_title (empty), ==, "Insert a USB Key");

  g_list_store_append (f->drives, drive);
  rd_ui_test_iterate (20);
  g_assert_cmpstr (drives_page (f), ==, "list");
  rows = drive_rows (f);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpstr (adw_preferences_row_get_title (rows->pdata[0]), ==, "SanDisk Cruzer Blade");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (rows->pdata[0]), "4C530001"));

  g_list_store_remove (f->drives, 0);
  rd_ui_test_iterate (20);
  g_assert_cmpstr (drives_page (f), ==, "empty");
}

/* The image as inspect sees it, its SHA-256 from the background, and the safety check of each
 * drive against it. */
static void
test_image (Fixture *f, gconstpointer data)
{
  g_autoptr (RdDrive) big = make_drive (0, "Kingston", "DataTraveler", "K1", 32000000000,
                                        "/org/freedesktop/UDisks2/block_devices/sdx");
  g_autoptr (RdDrive) tiny = make_drive (1, "Generic", "Flash Disk", "G1", 1024 * 1024,
                                         "/org/freedesktop/UDisks2/block_devices/sdy");
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *iso = g_build_filename (f->dir, "win.iso", NULL);
  g_autofree guint8 *iso_data = g_malloc0 (64 * 1024);
  g_autoptr (GError) error = NULL;
  GtkLabel *sha_label = GTK_LABEL (child (f, "sha_label"));

  g_list_store_append (f->drives, big);
  g_list_store_append (f->drives, tiny);
  rows = drive_rows (f);
  g_assert_cmpuint (rows->len, ==, 2);
  /* Before an image, nothing is refused yet. */
  g_assert_null (rd_usb_drive_row_get_refusal (rows->pdata[1]));

  rd_usb_keys_view_set_image (f->view, f->image);
  g_assert_true (rd_ui_test_iterate_until (sha_known, f, 20));
  g_assert_cmpstr (rd_usb_keys_view_get_image_sha256 (f->view), ==, f->image_sha256);
  g_assert_cmpstr (gtk_label_get_label (sha_label), ==, f->image_sha256);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (f, "image_row"))),
                   ==, "elitebook-840-g8-oem.img");
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "kind_label"))), ==,
                   "Disk image with MBR partition table");
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (child (f, "size_label"))), "MB"));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (f, "refusal_row"))));

  /* The 1 MiB drive is too small: it says so, and cannot be chosen. */
  g_assert_null (rd_usb_drive_row_get_refusal (rows->pdata[0]));
  g_assert_nonnull (strstr (rd_usb_drive_row_get_refusal (rows->pdata[1]), "too small"));
  g_assert_false (gtk_widget_get_sensitive (rows->pdata[1]));
  rd_usb_drive_row_set_active (rows->pdata[1], TRUE);
  g_assert_false (rd_usb_drive_row_get_active (rows->pdata[1]));
  g_assert_false (write_enabled (f));
  rd_usb_drive_row_set_active (rows->pdata[0], TRUE);
  g_assert_true (write_enabled (f));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "selected_label"))), ==, "1 chosen");

  /* Windows media: shown as such, and not writable byte for byte. */
  iso_data[32768] = 1;
  memcpy (iso_data + 32769, "CD001", 5);
  iso_data[32768 + 6] = 1;
  memcpy (iso_data + 32768 + 40, "CCCOMA_X64FRE", 13);
  iso_data[34816] = 255;
  memcpy (iso_data + 34817, "CD001", 5);
  g_file_set_contents (iso, (const char *) iso_data, 64 * 1024, &error);
  g_assert_no_error (error);
  rd_usb_keys_view_set_image (f->view, iso);
  g_assert_null (rd_usb_keys_view_get_image_sha256 (f->view));
  g_assert_true (rd_ui_test_iterate_until (image_read, f, 20));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (f, "refusal_row"))));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (f, "refusal_row"))),
                            "Windows media mode"));
  g_assert_false (write_enabled (f));

  /* A file that is no image says why. */
  rd_usb_keys_view_set_image (f->view, "/nonexistent/image.img");
  g_assert_true (rd_ui_test_iterate_until (image_read, f, 20));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (f, "refusal_row"))));
  g_assert_false (write_enabled (f));
}

static void
choose_all_and_write (Fixture *f)
{
  g_autoptr (GPtrArray) rows = drive_rows (f);

  for (guint i = 0; i < rows->len; i++)
    rd_usb_drive_row_set_active (rows->pdata[i], TRUE);
  g_assert_true (write_enabled (f));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "usb-keys.write", NULL));
}

/* "Write" asks first, naming every drive that will be erased. */
static void
test_confirm_names_drives (Fixture *f, gconstpointer data)
{
  g_autoptr (RdDrive) a = make_drive (0, "SanDisk", "Cruzer Blade", "S1", 16008609792,
                                      "/org/freedesktop/UDisks2/block_devices/sdx");
  g_autoptr (RdDrive) b = make_drive (1, "Kingston", "DataTraveler 3.0", "K2", 32015679488,
                                      "/org/freedesktop/UDisks2/block_devices/sdy");
  AdwMessageDialog *dialog;
  const char *body;

  g_list_store_append (f->drives, a);
  g_list_store_append (f->drives, b);
  rd_usb_keys_view_set_image (f->view, f->image);
  g_assert_true (rd_ui_test_iterate_until (image_read, f, 20));
  g_assert_null (rd_ui_test_find_dialog ());

  choose_all_and_write (f);
  rd_ui_test_iterate (50);
  dialog = rd_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Erase 2 USB Keys?");
  body = adw_message_dialog_get_body (dialog);
  g_test_message ("%s", body);
  g_assert_nonnull (strstr (body, "elitebook-840-g8-oem.img"));
  g_assert_nonnull (strstr (body, "SanDisk Cruzer Blade, 16.0\u00a0GB (/dev/sdx)"));
  g_assert_nonnull (strstr (body, "Kingston DataTraveler 3.0, 32.0\u00a0GB (/dev/sdy)"));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "write"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");

  /* Cancel writes nothing. */
  adw_message_dialog_response (dialog, "cancel");
  rd_ui_test_iterate (50);
  g_assert_false (rd_usb_keys_view_get_writing (f->view));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (f, "progress_group"))));
  if (rd_ui_test_find_dialog () != NULL)
    gtk_window_destroy (GTK_WINDOW (rd_ui_test_find_dialog ()));
}

static RdDevice *
make_device (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_object_new (RD_TYPE_DEVICE, "id", "d1", "name", "HR-LT-0142", "model",
                       "EliteBook 840 G8", "serial", "5CG1234XYZ", "user-display-name",
                       "Ada Lovelace", "operating-system", "Windows", "os-version",
                       "10.0.22631.4460", "management-agent", "mdm", "owner-type",
                       RD_OWNER_TYPE_COMPANY, "join-type", RD_JOIN_TYPE_ENTRA_JOINED, "last-sync",
                       now, "compliance", RD_COMPLIANCE_COMPLIANT, "encrypted", RD_TRISTATE_YES,
                       "escrowed-keys", 1, "autopilot", RD_TRISTATE_YES, "winre-state",
                       RD_WINRE_STATE_CONFIGURED, "management-state", RD_MANAGEMENT_STATE_MANAGED,
                       NULL);
}

static void
on_key_recorded_cb (RdUsbKeysView *view, RdPlan *plan, guint *count)
{
  (*count)++;
}

/* From a Reuse plan: two keys (files standing in for them) written and verified by the real
 * helper; the plan records the image, its SHA-256 and the first key's serial, and is
 * usb-prepared. */
static void
test_write_for_plan (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdBoard) board = rd_board_new (NULL);
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *key1 = g_build_filename (f->dir, "key1.img", NULL);
  g_autofree char *key2 = g_build_filename (f->dir, "key2.img", NULL);
  g_autoptr (RdDrive) a = make_drive (0, "SanDisk", "Ultra Fit", "4C530001231120115142",
                                      32000000000, key1);
  g_autoptr (RdDrive) b = make_drive (1, "Samsung", "BAR Plus", "0374620110004587", 64000000000,
                                      key2);
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *written = NULL;
  g_autofree char *written_sha256 = NULL;
  gsize written_len = 0;
  const char *screenshot = g_getenv ("RD_SCREENSHOT");
  AdwMessageDialog *dialog;
  RdDevice *device;
  RdPlan *plan;
  guint recorded = 0;

  g_ptr_array_add (devices, make_device ());
  rd_board_set_devices (board, devices);
  device = devices->pdata[0];
  g_assert_true (rd_board_move_device (board, device, RD_LANE_REUSE, &error));
  g_assert_no_error (error);
  plan = rd_board_get_plan (board, device);
  g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_REIMAGE_OEM);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  rd_usb_keys_view_set_board (f->view, board);
  rd_usb_keys_view_prepare_for_plan (f->view, plan);
  g_signal_connect (f->view, "key-recorded", G_CALLBACK (on_key_recorded_cb), &recorded);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (f, "plan_box"))));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "plan_title_label"))), ==,
                   "USB Key for HR-LT-0142");
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (child (f, "plan_subtitle_label"))),
                            "EliteBook 840 G8"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (f, "model_row"))), ==,
                   "EliteBook 840 G8");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (f, "label_row"))), ==, 0);

  g_list_store_append (f->drives, a);
  g_list_store_append (f->drives, b);
  rd_usb_keys_view_set_image (f->view, f->image);
  g_assert_true (rd_ui_test_iterate_until (sha_known, f, 20));

  choose_all_and_write (f);
  rd_ui_test_iterate (50);
  dialog = rd_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "write");
  rd_ui_test_iterate (20);
  g_assert_true (rd_usb_keys_view_get_writing (f->view));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (f, "progress_group"))));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (f, "cancel_button"))));
  g_assert_false (write_enabled (f));

  g_assert_true (rd_ui_test_iterate_until (not_writing, f, 60));
  rd_ui_test_iterate (50);

  rows = progress_rows (f);
  g_assert_cmpuint (rows->len, ==, 2);
  for (guint i = 0; i < rows->len; i++)
    {
      g_test_message ("row %u: %s", i, rd_usb_key_progress_row_get_status (rows->pdata[i]));
      g_assert_cmpint (rd_usb_key_progress_row_get_phase (rows->pdata[i]), ==,
                       RD_WRITE_PHASE_DONE);
      g_assert_cmpstr (rd_usb_key_progress_row_get_status (rows->pdata[i]), ==,
                       "Written and verified");
    }

  /* What the helper wrote is the image. */
  g_assert_true (g_file_get_contents (key1, &written, &written_len, &error));
  g_assert_cmpuint (written_len, ==, IMAGE_SIZE);
  written_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guint8 *) written,
                                                written_len);
  g_assert_cmpstr (written_sha256, ==, f->image_sha256);

  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_USB_PREPARED);
  g_assert_cmpstr (rd_plan_get_usb_image_name (plan), ==, "elitebook-840-g8-oem.img");
  g_assert_cmpstr (rd_plan_get_usb_image_sha256 (plan), ==, f->image_sha256);
  g_assert_cmpstr (rd_plan_get_usb_drive_serial (plan), ==, "4C530001231120115142");
  g_assert_cmpuint (recorded, ==, 1);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (f, "plan_result_label"))));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "plan_state_label"))), !=, "");

  if (screenshot != NULL)
    rd_ui_test_save_screenshot (GTK_WIDGET (f->window), screenshot);

  rd_usb_keys_view_prepare_for_plan (f->view, NULL);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (f, "plan_box"))));
  rd_usb_keys_view_set_board (f->view, NULL);
  g_clear_pointer (&devices, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&board));
}

int
main (int argc, char **argv)
{
  g_autoptr (GtkCssProvider) css = NULL;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, RESOURCE_PREFIX "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

#define ADD(path, injected, func) \
  g_test_add (path, Fixture, injected, fixture_setup, func, fixture_teardown)
  ADD ("/rd/usb-keys-view/empty-state", NULL, test_empty_state);
  ADD ("/rd/usb-keys-view/drives-live", "injected", test_drives_live);
  ADD ("/rd/usb-keys-view/image", "injected", test_image);
  ADD ("/rd/usb-keys-view/confirm-names-drives", "injected", test_confirm_names_drives);
  ADD ("/rd/usb-keys-view/write-for-plan", "injected", test_write_for_plan);
#undef ADD

  return g_test_run ();
}
