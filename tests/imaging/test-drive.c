/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging-test"

#include "config.h"

#include "rd-drive-private.h"
#include "rd-image-source.h"
#include "rd-imaging-error.h"

#include "imaging-test-common.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* The safety predicate, on drives whose facts the test sets: UDisks never marks a loop
 * device the way a real system disk is marked, so these cases cannot come from loop devices. */

typedef struct
{
  ImagingFixtureFiles files;
  RdImageSource *source;
  char *mountinfo;
  char *swaps;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  imaging_files_init (&f->files, 3 * 1024 * 1024);
  f->source = rd_image_source_open (f->files.raw, NULL, &error);
  g_assert_no_error (error);
  f->mountinfo = g_build_filename (f->files.dir, "mountinfo", NULL);
  f->swaps = g_build_filename (f->files.dir, "swaps", NULL);
  g_file_set_contents (f->mountinfo, "", 0, NULL);
  g_file_set_contents (f->swaps, "Filename\tType\tSize\tUsed\tPriority\n", -1, NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->source);
  g_free (f->mountinfo);
  g_free (f->swaps);
  imaging_files_clear (&f->files);
}

static void
check (Fixture *f, RdDrive *drive, int expected_code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = rd_drive_check_target_full (drive, f->source, f->mountinfo, f->swaps, &error);

  if (expected_code < 0)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      return;
    }
  g_assert_false (ok);
  g_assert_error (error, RD_IMAGING_ERROR, expected_code);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
}

static void
test_accepts_removable (Fixture *f, gconstpointer data)
{
  RdDrive *drive = rd_drive_new_for_testing ("/dev/sdz", makedev (8, 250), 64 << 20, FALSE, FALSE, TRUE);

  check (f, drive, -1, NULL);
  g_assert_finalize_object (drive);
}

static void
test_system_hint (Fixture *f, gconstpointer data)
{
  RdDrive *drive = rd_drive_new_for_testing ("/dev/sdz", makedev (8, 250), 64 << 20, FALSE, TRUE, TRUE);

  check (f, drive, RD_IMAGING_ERROR_SYSTEM_DRIVE, "system drive");
  g_assert_finalize_object (drive);
}

static void
test_not_removable (Fixture *f, gconstpointer data)
{
  RdDrive *drive = rd_drive_new_for_testing ("/dev/sdz", makedev (8, 250), 64 << 20, FALSE, FALSE, FALSE);

  check (f, drive, RD_IMAGING_ERROR_NOT_REMOVABLE, NULL);
  g_assert_finalize_object (drive);
}

static void
test_read_only (Fixture *f, gconstpointer data)
{
  RdDrive *drive = rd_drive_new_for_testing ("/dev/sdz", makedev (8, 250), 64 << 20, TRUE, FALSE, TRUE);

  check (f, drive, RD_IMAGING_ERROR_READ_ONLY, "read-only");
  g_assert_finalize_object (drive);
}

static void
test_too_small (Fixture *f, gconstpointer data)
{
  RdDrive *drive = rd_drive_new_for_testing ("/dev/sdz", makedev (8, 250), 1 << 20, FALSE, FALSE, TRUE);

  /* Both sizes, in bytes. */
  check (f, drive, RD_IMAGING_ERROR_TOO_SMALL, "3145728 bytes");
  check (f, drive, RD_IMAGING_ERROR_TOO_SMALL, "1048576 bytes");
  g_assert_finalize_object (drive);
}

static void
test_holds_root (Fixture *f, gconstpointer data)
{
  RdDrive *drive = rd_drive_new_for_testing ("/dev/sdz", makedev (8, 250), 64 << 20, FALSE, FALSE, TRUE);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (f->mountinfo,
                       "22 1 8:250 / / rw,relatime shared:1 - ext4 /dev/sdz1 rw\n"
                       "23 22 0:5 / /proc rw shared:2 - proc proc rw\n",
                       -1, &error);
  g_assert_no_error (error);
  check (f, drive, RD_IMAGING_ERROR_HOLDS_SYSTEM, "/");
  g_assert_finalize_object (drive);
}

static void
test_holds_swap (Fixture *f, gconstpointer data)
{
  struct stat st;
  RdDrive *drive;
  g_autoptr (GError) error = NULL;

  /* Any block device node will do for /proc/swaps' file name; loop7 exists on the CI kernel. */
  if (stat ("/dev/loop7", &st) != 0 || !S_ISBLK (st.st_mode))
    {
      g_test_skip ("no /dev/loop7");
      return;
    }
  drive = rd_drive_new_for_testing ("/dev/loop7", st.st_rdev, 64 << 20, FALSE, FALSE, TRUE);
  g_file_set_contents (f->swaps,
                       "Filename\tType\tSize\tUsed\tPriority\n"
                       "/dev/loop7                              partition\t1024\t0\t-2\n",
                       -1, &error);
  g_assert_no_error (error);
  check (f, drive, RD_IMAGING_ERROR_HOLDS_SYSTEM, "swap (/dev/loop7)");
  g_assert_finalize_object (drive);
}

static void
test_holds_source (Fixture *f, gconstpointer data)
{
  struct stat st;
  g_autoptr (GArray) disks = g_array_new (FALSE, FALSE, sizeof (dev_t));
  RdDrive *drive;
  dev_t whole;

  /* The drive under the test's temp dir is the one holding the image. */
  g_assert_cmpint (stat (f->files.raw, &st), ==, 0);
  g_file_set_contents (f->mountinfo, "", 0, NULL);
  rd_drive_collect_whole_disks (st.st_dev, disks);
  whole = g_array_index (disks, dev_t, disks->len - 1);
  drive = rd_drive_new_for_testing ("/dev/disk", whole, 64 << 20, FALSE, FALSE, TRUE);
  check (f, drive, RD_IMAGING_ERROR_HOLDS_SOURCE, "holds the image");
  g_assert_finalize_object (drive);
}

/* Ejecting */

static void
on_eject_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
eject (RdDrive *drive, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  rd_drive_eject_async (drive, NULL, on_eject_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return rd_drive_eject_finish (drive, result, error);
}

static void
test_eject_without_udisks (Fixture *f, gconstpointer data)
{
  g_autoptr (RdDrive) drive = rd_drive_new_for_testing ("/dev/sdx", makedev (8, 16), 1 << 30,
                                                        FALSE, FALSE, TRUE);
  g_autoptr (GError) error = NULL;

  g_assert_false (eject (drive, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS);
  g_assert_nonnull (strstr (error->message, "/dev/sdx"));
}

/* A loop device stands in for a key: ejecting it detaches it, and the monitor drops it. */
static void
test_eject_loop (Fixture *f, gconstpointer data)
{
  g_autoptr (RdDriveMonitor) monitor = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *backing = NULL;
  g_autofree char *path = NULL;
  gint64 deadline;

  if (!imaging_have_udisks ())
    {
      g_test_skip ("needs root and udisksd (run through udisks-session.sh)");
      return;
    }
  monitor = rd_drive_monitor_new (NULL, &error);
  g_assert_no_error (error);
  backing = g_build_filename (f->files.dir, "stick.img", NULL);
  path = imaging_loop_setup (backing, 8 * 1024 * 1024);
  drive = imaging_wait_for_drive (monitor, path);

  g_assert_true (eject (drive, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (RdDrive) gone = NULL;

      rd_drive_monitor_refresh (monitor);
      gone = rd_drive_monitor_lookup (monitor, path, NULL);
      if (gone == NULL || rd_drive_get_backing_file (gone) == NULL
          || rd_drive_get_backing_file (gone)[0] == '\0')
        break;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (20 * 1000);
    }
  g_assert_cmpint (g_get_monotonic_time (), <, deadline);
  imaging_loop_delete (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/rd/drive/check/accepts-removable", test_accepts_removable);
  ADD ("/rd/drive/check/system-hint", test_system_hint);
  ADD ("/rd/drive/check/not-removable", test_not_removable);
  ADD ("/rd/drive/check/read-only", test_read_only);
  ADD ("/rd/drive/check/too-small", test_too_small);
  ADD ("/rd/drive/check/holds-root", test_holds_root);
  ADD ("/rd/drive/check/holds-swap", test_holds_swap);
  ADD ("/rd/drive/check/holds-source", test_holds_source);
  ADD ("/rd/drive/eject/without-udisks", test_eject_without_udisks);
  ADD ("/rd/drive/eject/loop", test_eject_loop);
#undef ADD

  return g_test_run ();
}
