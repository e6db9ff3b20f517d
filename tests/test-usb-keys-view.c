/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "imaging-test-common.h"
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
fixture_teardown (Fixture *f, gconstpointer data)
{
  rd_ui_test_close_window (f->window, 100);
  g_assert_finalize_object (f->view);
  if (f->drives != NULL)
    g_assert_finalize_object (f->drives);
  imaging_remove_tree (f->dir);
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

static gboolean
widget_shown (Fixture *f, const char *name)
{
  return gtk_widget_get_visible (GTK_WIDGET (child (f, name)));
}

/* The key built from the chosen Windows ISO has been sized. */
static gboolean
composed_size_known (gpointer data)
{
  Fixture *f = data;

  return rd_usb_keys_view_get_composed_size (f->view) > 0;
}

static gboolean
refusal_shown (gpointer data)
{
  return widget_shown (data, "refusal_row");
}

static guint64
wait_for_composed_size (Fixture *f)
{
  g_assert_true (rd_ui_test_iterate_until (composed_size_known, f, 30));
  return rd_usb_keys_view_get_composed_size (f->view);
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

static GPtrArray *
payload_rows (Fixture *f)
{
  GPtrArray *rows = g_ptr_array_new ();
  GtkListBox *list = GTK_LIST_BOX (child (f, "payload_list"));
  GtkListBoxRow *row;

  for (guint i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    g_ptr_array_add (rows, row);
  return rows;
}

static void
make_kit_file (const char *dir, const char *rel, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* A Windows ISO: no refusal, but the layouts with when to use each, GPT or MBR, and for WinPE +
 * images the folders of the images partition, listed with remove buttons; the confirmation
 * says what is built and that the key is erased; then the real helper builds a setup key onto a
 * file standing in for it, writes and verifies it, and leaves no scratch image behind. */
static void
test_windows_media (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iso_dir = g_build_filename (f->dir, "iso", NULL);
  g_autofree char *scratch = g_build_filename (f->dir, "scratch", NULL);
  g_autofree char *kit = g_build_filename (f->dir, "universal-kit", NULL);
  g_autofree char *oem = g_build_filename (f->dir, "oem-kit", NULL);
  g_autofree char *key = g_build_filename (f->dir, "key.img", NULL);
  g_autofree char *tree = NULL;
  g_autofree char *iso = NULL;
  g_autoptr (RdDrive) drive = make_drive (0, "SanDisk", "Ultra Fit", "4C530001", 32000000000, key);
  g_autoptr (GPtrArray) payloads = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GDir) left = NULL;
  const char *summary;
  AdwMessageDialog *dialog;
  const char *body;
  guint64 shown_size;
  GtkCheckButton *winpe_check = GTK_CHECK_BUTTON (child (f, "winpe_check"));
  AdwComboRow *table_row = ADW_COMBO_ROW (child (f, "table_row"));
  GtkWidget *setup_row = gtk_widget_get_ancestor (GTK_WIDGET (child (f, "setup_check")),
                                                  ADW_TYPE_ACTION_ROW);
  GtkWidget *winpe_row = gtk_widget_get_ancestor (GTK_WIDGET (winpe_check), ADW_TYPE_ACTION_ROW);

  g_assert_cmpint (g_mkdir (iso_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (scratch, 0755), ==, 0);
  iso = rd_test_make_windows_iso (iso_dir, "CCCOMA_X64FRE", 3, 0, &tree, &error);
  g_assert_no_error (error);
  make_kit_file (kit, "Images/SKU_Folder.json", "{\"8A3C\": \"HP EliteBook 840 G8\"}\n");
  make_kit_file (kit, "Images/Drivers/hpkbd.inf", "[Version]\r\n");
  make_kit_file (oem, "Deploy.cmd", "dism /Apply-Image /ImageFile:D:\\HP\\Recovery.wim\r\n");
  /* The helper makes its scratch image here; it must be empty again afterwards. */
  g_setenv ("RECOVERY_DESK_SCRATCH", scratch, TRUE);

  g_list_store_append (f->drives, drive);
  rd_usb_keys_view_set_image (f->view, iso);
  g_assert_true (rd_ui_test_iterate_until (image_read, f, 20));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "kind_label"))), ==,
                   "Windows installation media");
  g_assert_false (widget_shown (f, "refusal_row"));
  g_assert_true (widget_shown (f, "media_group"));
  g_assert_false (widget_shown (f, "payload_group"));
  wait_for_composed_size (f);

  /* The layouts, each with when to use it; Windows setup and GPT by default. */
  g_assert_nonnull (setup_row);
  g_assert_nonnull (winpe_row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (setup_row)), ==,
                   "Windows Setup");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (setup_row)),
                            "install Windows from Microsoft’s ISO"));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (winpe_row)), ==,
                   "WinPE + Images");
  {
    const char *line = adw_action_row_get_subtitle (ADW_ACTION_ROW (winpe_row));

    g_assert_nonnull (strstr (line, "Microsoft Managed Desktop"));
    g_assert_nonnull (strstr (line, "HP’s recovery WIM with its deploy script"));
    g_assert_nonnull (strstr (line, "SKU_Folder.json"));
  }
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (child (f, "setup_check"))));
  g_assert_cmpuint (adw_combo_row_get_selected (table_row), ==, 0);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (table_row)),
                            "MBR for old BIOS PCs"));

  rows = drive_rows (f);
  rd_usb_drive_row_set_active (rows->pdata[0], TRUE);
  g_assert_true (write_enabled (f));
  summary = gtk_label_get_label (GTK_LABEL (child (f, "summary_label")));
  g_assert_nonnull (strstr (summary, "Windows setup key"));

  /* WinPE + images needs the folders of its images partition. */
  gtk_check_button_set_active (winpe_check, TRUE);
  g_assert_true (widget_shown (f, "payload_group"));
  g_assert_false (write_enabled (f));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "summary_label"))), ==,
                   "Add the folders for the IMAGES partition.");
  rd_usb_keys_view_add_payload (f->view, kit);
  rd_usb_keys_view_add_payload (f->view, oem);
  rd_usb_keys_view_add_payload (f->view, kit);
  payloads = payload_rows (f);
  g_assert_cmpuint (payloads->len, ==, 2);
  g_assert_cmpstr (adw_preferences_row_get_title (payloads->pdata[0]), ==, "universal-kit");
  g_assert_cmpstr (adw_preferences_row_get_title (payloads->pdata[1]), ==, "oem-kit");
  g_assert_cmpstr (adw_action_row_get_subtitle (payloads->pdata[1]), ==, f->dir);
  /* Not before the key is sized. */
  g_assert_false (write_enabled (f));
  wait_for_composed_size (f);
  g_assert_true (write_enabled (f));

  /* Each row's remove button takes its folder off the list. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "usb-keys.remove-payload", "s",
                                             oem));
  g_clear_pointer (&payloads, g_ptr_array_unref);
  payloads = payload_rows (f);
  g_assert_cmpuint (payloads->len, ==, 1);
  g_assert_cmpstr (adw_preferences_row_get_title (payloads->pdata[0]), ==, "universal-kit");
  rd_usb_keys_view_add_payload (f->view, oem);
  adw_combo_row_set_selected (table_row, 1);
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "summary_label"))), ==,
                   "Working out the size of the key…");
  wait_for_composed_size (f);
  summary = gtk_label_get_label (GTK_LABEL (child (f, "summary_label")));
  g_assert_nonnull (strstr (summary, "WinPE + images key from the ISO and 2 folders"));

  /* The confirmation names the drive, says it is erased, and what it gets. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "usb-keys.write", NULL));
  rd_ui_test_iterate (50);
  dialog = rd_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Erase 1 USB Key?");
  body = adw_message_dialog_get_body (dialog);
  g_test_message ("%s", body);
  g_assert_nonnull (strstr (body, "will be erased"));
  g_assert_nonnull (strstr (body, "WinPE + images key built from “CCCOMA_X64FRE.iso” and 2 "
                                  "folders (MBR)"));
  g_assert_nonnull (strstr (body, "SanDisk Ultra Fit, 32.0\u00a0GB (/dev/sdx)"));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "write"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);

  /* A WinPE partition is 4 GiB: the key built end to end here is the (small) setup layout;
   * the imaging suite builds WinPE + images keys (test-imager-compose). */
  adw_message_dialog_response (dialog, "cancel");
  rd_ui_test_iterate (50);
  if (rd_ui_test_find_dialog () != NULL)
    gtk_window_destroy (GTK_WINDOW (rd_ui_test_find_dialog ()));
  g_assert_false (rd_usb_keys_view_get_writing (f->view));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (child (f, "setup_check")), TRUE);
  g_assert_false (widget_shown (f, "payload_group"));
  shown_size = wait_for_composed_size (f);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "usb-keys.write", NULL));
  rd_ui_test_iterate (50);
  dialog = rd_ui_test_find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog),
                            "Windows setup key built from “CCCOMA_X64FRE.iso” (MBR)"));

  adw_message_dialog_response (dialog, "write");
  rd_ui_test_iterate (20);
  g_assert_true (rd_usb_keys_view_get_writing (f->view));
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (child (f, "media_group"))));
  g_assert_true (rd_ui_test_iterate_until (not_writing, f, 120));
  rd_ui_test_iterate (50);

  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = progress_rows (f);
  g_assert_cmpuint (rows->len, ==, 1);
  g_test_message ("row: %s", rd_usb_key_progress_row_get_status (rows->pdata[0]));
  g_assert_cmpint (rd_usb_key_progress_row_get_phase (rows->pdata[0]), ==, RD_WRITE_PHASE_DONE);
  g_assert_cmpstr (
    adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (child (f, "progress_group"))), ==,
    "Written");

  /* What the key holds, as an outsider sees it. */
  {
    const char *iso_trees[] = { tree, NULL };
    const RdTestComposedPartition parts[] = { { "CCCOMA_X64F", TRUE, iso_trees } };

    rd_test_check_composed_image (key, RD_PARTITION_TABLE_MBR, parts, G_N_ELEMENTS (parts));
  }
  /* The size the drives were judged against is the size of the key the helper built. */
  {
    GStatBuf st;

    g_assert_cmpint (g_stat (key, &st), ==, 0);
    g_assert_cmpuint ((guint64) st.st_size, ==, shown_size);
  }
  left = g_dir_open (scratch, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (left));
  g_unsetenv ("RECOVERY_DESK_SCRATCH");
}

static gboolean
refused_for_size (RdUsbDriveRow *row, guint64 size)
{
  const char *refusal = rd_usb_drive_row_get_refusal (row);
  g_autofree char *bytes = g_strdup_printf ("(%" G_GUINT64_FORMAT " bytes)", size);

  if (refusal == NULL)
    return FALSE;
  g_test_message ("refused: %s", refusal);
  g_assert_nonnull (strstr (refusal, "too small"));
  g_assert_nonnull (strstr (refusal, bytes));
  return TRUE;
}

/* For a Windows ISO the drives are judged against the key built from it, not against the ISO:
 * sized in the background for the chosen layout, table and folders, sized again when the choice
 * changes (an answer for an earlier choice is dropped), and a key that cannot be built says why
 * before anything is written. */
static void
test_windows_media_size (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iso_dir = g_build_filename (f->dir, "iso", NULL);
  g_autofree char *bad_dir = g_build_filename (f->dir, "bad", NULL);
  g_autofree char *scratch = g_build_filename (f->dir, "scratch", NULL);
  g_autofree char *kit = g_build_filename (f->dir, "kit", NULL);
  g_autofree char *iso = NULL;
  g_autofree char *bad_iso = NULL;
  g_autofree char *size_text = NULL;
  /* Larger than the ISO, smaller than any FAT32 key built from it. */
  g_autoptr (RdDrive) mid = make_drive (0, "Generic", "Flash", "M1", 16 * 1024 * 1024,
                                        "/org/freedesktop/UDisks2/block_devices/sdx");
  /* Holds a setup key, not a WinPE + images key (its WINPE partition alone is 4 GiB). */
  g_autoptr (RdDrive) small = make_drive (1, "Kingston", "DataTraveler", "K1", 2000000000,
                                          "/org/freedesktop/UDisks2/block_devices/sdy");
  g_autoptr (RdDrive) big = make_drive (2, "SanDisk", "Ultra Fit", "S1", 32000000000,
                                        "/org/freedesktop/UDisks2/block_devices/sdz");
  g_autoptr (GPtrArray) rows = NULL;
  GtkCheckButton *setup_check = GTK_CHECK_BUTTON (child (f, "setup_check"));
  GtkCheckButton *winpe_check = GTK_CHECK_BUTTON (child (f, "winpe_check"));
  AdwComboRow *table_row = ADW_COMBO_ROW (child (f, "table_row"));
  GStatBuf st;
  guint64 setup_gpt, setup_mbr, winpe_gpt, winpe_kit;

  g_assert_cmpint (g_mkdir (iso_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (bad_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (scratch, 0755), ==, 0);
  iso = rd_test_make_windows_iso (iso_dir, "CCCOMA_X64FRE", 3, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (iso, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, <, rd_drive_get_size (mid));
  make_kit_file (kit, "Images/install.wim", "not split: under the split size");
  g_setenv ("RECOVERY_DESK_SCRATCH", scratch, TRUE);

  g_list_store_append (f->drives, mid);
  g_list_store_append (f->drives, small);
  g_list_store_append (f->drives, big);
  rows = drive_rows (f);
  g_assert_cmpuint (rows->len, ==, 3);

  rd_usb_keys_view_set_image (f->view, iso);
  g_assert_true (rd_ui_test_iterate_until (image_read, f, 20));
  setup_gpt = wait_for_composed_size (f);
  g_test_message ("setup, GPT: %" G_GUINT64_FORMAT " bytes", setup_gpt);
  /* The ISO fits the mid drive; the key built from it does not. */
  g_assert_cmpuint (setup_gpt, >, rd_drive_get_size (mid));
  g_assert_cmpuint (setup_gpt, <, rd_drive_get_size (small));
  g_assert_true (refused_for_size (rows->pdata[0], setup_gpt));
  g_assert_false (gtk_widget_get_sensitive (rows->pdata[0]));
  g_assert_null (rd_usb_drive_row_get_refusal (rows->pdata[1]));
  g_assert_null (rd_usb_drive_row_get_refusal (rows->pdata[2]));
  size_text = g_format_size (setup_gpt);
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (child (f, "size_label"))),
                            size_text));
  rd_usb_drive_row_set_active (rows->pdata[0], TRUE);
  g_assert_false (rd_usb_drive_row_get_active (rows->pdata[0]));
  rd_usb_drive_row_set_active (rows->pdata[1], TRUE);
  g_assert_true (write_enabled (f));

  /* MBR has no backup GPT at the end: 33 sectors less. */
  adw_combo_row_set_selected (table_row, 1);
  g_assert_cmpuint (rd_usb_keys_view_get_composed_size (f->view), ==, 0);
  g_assert_false (write_enabled (f));
  setup_mbr = wait_for_composed_size (f);
  g_assert_cmpuint (setup_mbr, ==, setup_gpt - 33 * 512);
  g_assert_true (refused_for_size (rows->pdata[0], setup_mbr));
  adw_combo_row_set_selected (table_row, 0);
  g_assert_cmpuint (wait_for_composed_size (f), ==, setup_gpt);

  /* WinPE + images: the 4 GiB WINPE partition no longer fits the 2 GB key, which is dropped
   * from the choice; the 32 GB key takes it. */
  gtk_check_button_set_active (winpe_check, TRUE);
  winpe_gpt = wait_for_composed_size (f);
  g_assert_cmpuint (winpe_gpt, >=, (guint64) 4096 * 1024 * 1024);
  g_assert_true (refused_for_size (rows->pdata[0], winpe_gpt));
  g_assert_true (refused_for_size (rows->pdata[1], winpe_gpt));
  g_assert_false (rd_usb_drive_row_get_active (rows->pdata[1]));
  g_assert_null (rd_usb_drive_row_get_refusal (rows->pdata[2]));
  /* A payload folder makes the IMAGES partition grow with it. */
  rd_usb_keys_view_add_payload (f->view, kit);
  winpe_kit = wait_for_composed_size (f);
  g_assert_cmpuint (winpe_kit, >=, winpe_gpt);

  /* Changed twice before the first answer: only the last choice's size counts. */
  gtk_check_button_set_active (setup_check, TRUE);
  gtk_check_button_set_active (winpe_check, TRUE);
  gtk_check_button_set_active (setup_check, TRUE);
  g_assert_cmpuint (wait_for_composed_size (f), ==, setup_gpt);
  rd_ui_test_iterate (100);
  g_assert_cmpuint (rd_usb_keys_view_get_composed_size (f->view), ==, setup_gpt);
  g_assert_null (rd_usb_drive_row_get_refusal (rows->pdata[1]));
  g_assert_true (refused_for_size (rows->pdata[0], setup_gpt));

  /* An ISO that would not boot on UEFI says so before anything is written. */
  bad_iso = rd_test_make_windows_iso (bad_dir, "NOEFI", 1, RD_TEST_ISO_NO_EFI, NULL, &error);
  g_assert_no_error (error);
  rd_usb_keys_view_set_image (f->view, bad_iso);
  g_assert_true (rd_ui_test_iterate_until (image_read, f, 20));
  g_assert_true (rd_ui_test_iterate_until (refusal_shown, f, 30));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (f, "refusal_row"))),
                   ==, "The key cannot be built");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (f, "refusal_row"))),
                            "would not boot on UEFI"));
  g_assert_cmpuint (rd_usb_keys_view_get_composed_size (f->view), ==, 0);
  rd_usb_drive_row_set_active (rows->pdata[2], TRUE);
  g_assert_false (write_enabled (f));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (f, "summary_label"))), ==,
                   "The key cannot be built from this ISO: see why above.");
  g_unsetenv ("RECOVERY_DESK_SCRATCH");
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
  ADD ("/rd/usb-keys-view/windows-media", "injected", test_windows_media);
  ADD ("/rd/usb-keys-view/windows-media-size", "injected", test_windows_media_size);
#undef ADD

  return g_test_run ();
}
