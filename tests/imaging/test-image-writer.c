/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging-test"

#include "config.h"

#include "rd-drive-monitor.h"
#include "rd-drive-private.h"
#include "rd-image-source.h"
#include "rd-image-writer-private.h"
#include "rd-imaging-error.h"

#include "imaging-test-common.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Writes to real loop devices set up through a real udisksd (run the suite through
 * udisks-session.sh, as root); without UDisks every test here skips. */

#define MIB (1024 * 1024)
#define STICK_SIZE (64 * MIB)

typedef struct
{
  ImagingFixtureFiles files;
  RdDriveMonitor *monitor;
  GPtrArray *loops;    /* object paths */
  GPtrArray *backings; /* backing files */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  imaging_files_init (&f->files, data ? GPOINTER_TO_SIZE (data) : 12 * MIB + 123);
  f->loops = g_ptr_array_new_with_free_func (g_free);
  f->backings = g_ptr_array_new_with_free_func (g_free);
  if (!imaging_have_udisks ())
    return;
  f->monitor = rd_drive_monitor_new (NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->loops->len; i++)
    imaging_loop_delete (g_ptr_array_index (f->loops, i));
  g_ptr_array_unref (f->loops);
  g_ptr_array_unref (f->backings);
  if (f->monitor != NULL)
    g_assert_finalize_object (f->monitor);
  imaging_files_clear (&f->files);
}

static RdDrive *
add_stick (Fixture *f, guint64 size)
{
  char *backing = NULL;
  RdDrive *drive = imaging_add_stick (f->monitor, f->files.dir, f->loops, size, &backing);

  g_ptr_array_add (f->backings, backing);
  return drive;
}

static const char *
backing (Fixture *f, guint i)
{
  return g_ptr_array_index (f->backings, i);
}

/* The first MiB must not look like the image: wiped, or never touched. */
static void
assert_head_not_image (Fixture *f, guint i)
{
  guint8 b0 = imaging_byte_at (backing (f, i), 510);
  guint8 b1 = imaging_byte_at (backing (f, i), 511);

  g_assert_false (b0 == 0x55 && b1 == 0xaa);
}

static RdImageWriter *
writer_for (Fixture *f, const char *source_path, RdDrive **drives, guint n_drives)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdImageSource) source = rd_image_source_open (source_path, NULL, &error);
  RdImageWriter *writer;

  g_assert_no_error (error);
  writer = rd_image_writer_new (source);
  for (guint i = 0; i < n_drives; i++)
    {
      g_autofree char *name = rd_drive_dup_display_name (drives[i]);
      int fd;

      g_assert_true (rd_drive_check_target (drives[i], source, &error));
      g_assert_no_error (error);
      fd = rd_drive_monitor_open_drive (f->monitor, drives[i], NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (fcntl (fd, F_GETFL) & O_DIRECT, !=, 0);
      g_assert_true (rd_image_writer_add_target_fd (writer, name, fd, &error));
      g_assert_no_error (error);
    }
  return writer;
}

static const char *const formats[] = { "raw", "xz", "gz", "zst", "bz2", "zip" };

static void
run_format (Fixture *f, const char *format)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autofree char *path = NULL;
  g_autofree char *file_target = g_build_filename (f->files.dir, "copy.img", NULL);
  g_autofree char *digest = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *copy = NULL;
  gsize copy_len;
  guint64 written, verified;

  path = g_str_equal (format, "raw") ? g_strdup (f->files.raw)
                                      : imaging_files_compress (&f->files, format);
  drive = add_stick (f, STICK_SIZE);
  writer = writer_for (f, path, &drive, 1);
  /* A regular-file target from the same read stream. */
  g_assert_true (rd_image_writer_add_target_file (writer, file_target, &error));
  g_assert_no_error (error);

  g_assert_true (rd_image_writer_run (writer, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 0, &written, &verified), ==,
                   RD_WRITE_PHASE_DONE);
  g_assert_cmpuint (written, ==, f->files.raw_size);
  g_assert_cmpuint (verified, ==, f->files.raw_size);
  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 1, NULL, NULL), ==,
                   RD_WRITE_PHASE_DONE);
  digest = rd_image_writer_dup_sha256 (writer);
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, f->files.raw_data, f->files.raw_size);
  g_assert_cmpstr (digest, ==, expected);
  g_assert_finalize_object (g_steal_pointer (&writer));

  /* Byte exact on the stick, and the image file is exactly the image. */
  imaging_assert_file_prefix (backing (f, 0), f->files.raw_data, f->files.raw_size);
  g_file_get_contents (file_target, &copy, &copy_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (copy, copy_len, f->files.raw_data, f->files.raw_size);
  /* Beyond the image, the old end of the stick was wiped before writing. */
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), STICK_SIZE - 1), ==, 0);
}

static void
test_formats (Fixture *f, gconstpointer data)
{
  if (!imaging_need_udisks ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_test_message ("format %s", formats[i]);
      run_format (f, formats[i]);
      imaging_loop_delete (g_ptr_array_index (f->loops, 0));
      g_ptr_array_set_size (f->loops, 0);
      g_ptr_array_set_size (f->backings, 0);
    }
}

static void
test_corrupt_xz (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  if (!imaging_need_udisks ())
    return;
  path = imaging_files_compress (&f->files, "xz");
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  for (gsize i = len / 2; i < len / 2 + 64; i++)
    contents[i] ^= 0xff;
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);

  drive = add_stick (f, STICK_SIZE);
  writer = writer_for (f, path, &drive, 1);
  g_assert_false (rd_image_writer_run (writer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "cannot be decompressed"));
  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 0, NULL, NULL), ==,
                   RD_WRITE_PHASE_FAILED);
  g_assert_null (rd_image_writer_dup_sha256 (writer));
  g_assert_finalize_object (g_steal_pointer (&writer));
  assert_head_not_image (f, 0);
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), 0), ==, 0);
}

static void
test_too_small (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autofree char *path = NULL;
  g_autofree char *image_bytes = NULL;
  int fd;

  if (!imaging_need_udisks ())
    return;
  path = imaging_files_compress (&f->files, "gz");
  drive = add_stick (f, 4 * MIB);
  source = rd_image_source_open (f->files.raw, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (rd_drive_check_target (drive, source, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL);
  image_bytes = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", f->files.raw_size);
  g_assert_nonnull (strstr (error->message, image_bytes));
  g_assert_nonnull (strstr (error->message, "4194304 bytes"));
  g_clear_error (&error);

  /* The writer refuses too, even for a gzip whose size is only a lower bound. */
  g_clear_object (&source);
  source = rd_image_source_open (path, NULL, &error);
  g_assert_no_error (error);
  writer = rd_image_writer_new (source);
  fd = rd_drive_monitor_open_drive (f->monitor, drive, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (rd_image_writer_add_target_fd (writer, "small", fd, &error));
  g_assert_false (rd_image_writer_run (writer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL);
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), 0), ==, IMAGING_STICK_MARK);
}

static void
test_holds_source (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (RdDrive) drive = NULL;
  char *path;

  if (!imaging_need_udisks ())
    return;
  /* A loop device over the image file itself. */
  path = imaging_loop_setup (f->files.raw, 0);
  g_ptr_array_add (f->loops, path);
  drive = imaging_wait_for_drive (f->monitor, path);
  source = rd_image_source_open (f->files.raw, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (rd_drive_check_target (drive, source, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_HOLDS_SOURCE);
}

static void
test_windows_iso (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autofree char *iso = NULL;
  int fd;

  if (!imaging_need_udisks ())
    return;
  iso = imaging_make_windows_iso (f->files.dir);
  drive = add_stick (f, STICK_SIZE);
  source = rd_image_source_open (iso, NULL, &error);
  g_assert_no_error (error);
  writer = rd_image_writer_new (source);
  fd = rd_drive_monitor_open_drive (f->monitor, drive, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (rd_image_writer_add_target_fd (writer, "key", fd, &error));
  g_assert_false (rd_image_writer_run (writer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA);
  g_assert_nonnull (strstr (error->message, "Windows media mode"));
  /* Nothing was touched. */
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), 0), ==, IMAGING_STICK_MARK);
}

static void
test_verify_flipped (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autoptr (RdImageSource) source = NULL;
  const guint64 offset = 5 * MIB + 7;
  guint8 b;
  int fd;

  if (!imaging_need_udisks ())
    return;
  drive = add_stick (f, STICK_SIZE);
  writer = writer_for (f, f->files.raw, &drive, 1);
  g_assert_true (rd_image_writer_run (writer, NULL, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&writer));

  /* Flip one byte on the key behind the writer's back. */
  b = imaging_byte_at (backing (f, 0), offset) ^ 0x01;
  fd = open (backing (f, 0), O_WRONLY | O_CLOEXEC);
  g_assert_cmpint (pwrite (fd, &b, 1, offset), ==, 1);
  fsync (fd);
  close (fd);

  source = rd_image_source_open (f->files.raw, NULL, &error);
  g_assert_no_error (error);
  fd = rd_drive_monitor_open_drive_for_reading (f->monitor, drive, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (rd_image_source_compare_fd (source, fd, "key", NULL, NULL, &error));
  close (fd);
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH);
  g_assert_nonnull (strstr (error->message, "at byte 5242887"));
}

/* Cancel, detach and break targets at a known point: after the reader handed out 8 MiB of a
 * 40 MiB image, more than the ring holds, so the writers are mid-image. */
#define BIG_IMAGE (40 * MIB + 123)
#define BREAK_AT (8 * MIB)

typedef struct
{
  Fixture *f;
  GCancellable *cancellable;
  guint break_index;
  gboolean done;
} HookData;

static void
cancel_hook (RdImageWriter *writer, guint64 bytes_read, gpointer user_data)
{
  HookData *hook = user_data;

  if (bytes_read >= BREAK_AT && !hook->done)
    {
      hook->done = TRUE;
      g_cancellable_cancel (hook->cancellable);
    }
}

/* What a pulled key looks like to a writer: UDisks detaches the loop device (lazily, as it is
 * open) and its capacity drops to zero, so every further write fails. */
static void
detach_hook (RdImageWriter *writer, guint64 bytes_read, gpointer user_data)
{
  HookData *hook = user_data;
  const char *device;
  int fd;

  if (bytes_read < BREAK_AT || hook->done)
    return;
  hook->done = TRUE;
  device = imaging_loop_device (g_ptr_array_index (hook->f->loops, hook->break_index));
  imaging_loop_delete (g_ptr_array_index (hook->f->loops, hook->break_index));
  g_assert_cmpint (truncate (backing (hook->f, hook->break_index), 0), ==, 0);
  fd = open (device, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ioctl (fd, LOOP_SET_CAPACITY, 0), ==, 0);
  close (fd);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  HookData hook = { f, cancellable, 0, FALSE };
  guint64 written;

  if (!imaging_need_udisks ())
    return;
  drive = add_stick (f, STICK_SIZE);
  writer = writer_for (f, f->files.raw, &drive, 1);
  rd_image_writer_set_chunk_hook (writer, cancel_hook, &hook);
  g_assert_false (rd_image_writer_run (writer, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (hook.done);
  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 0, &written, NULL), ==,
                   RD_WRITE_PHASE_CANCELLED);
  g_assert_cmpuint (written, <, f->files.raw_size);
  g_assert_null (rd_image_writer_dup_sha256 (writer));
  g_assert_finalize_object (g_steal_pointer (&writer));
  /* Wiped at both ends. */
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), 0), ==, 0);
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), STICK_SIZE - 1), ==, 0);
  assert_head_not_image (f, 0);
}

static void
test_detach (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  HookData hook = { f, NULL, 0, FALSE };

  if (!imaging_need_udisks ())
    return;
  drive = add_stick (f, STICK_SIZE);
  writer = writer_for (f, f->files.raw, &drive, 1);
  rd_image_writer_set_chunk_hook (writer, detach_hook, &hook);
  g_assert_false (rd_image_writer_run (writer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO);
  g_test_message ("detached: %s", error->message);
  g_assert_true (hook.done);
  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 0, NULL, NULL), ==,
                   RD_WRITE_PHASE_FAILED);
}

static void
test_multi_target (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  RdDrive *drives[3];
  HookData hook = { f, NULL, 1, FALSE };
  g_autoptr (GError) failed = NULL;

  if (!imaging_need_udisks ())
    return;
  for (guint i = 0; i < 3; i++)
    drives[i] = add_stick (f, STICK_SIZE);
  writer = writer_for (f, f->files.raw, drives, 3);
  rd_image_writer_set_chunk_hook (writer, detach_hook, &hook);
  g_assert_false (rd_image_writer_run (writer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TARGETS_FAILED);
  g_assert_nonnull (strstr (error->message, "1 of 3"));

  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 0, NULL, NULL), ==,
                   RD_WRITE_PHASE_DONE);
  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 1, NULL, NULL), ==,
                   RD_WRITE_PHASE_FAILED);
  g_assert_cmpint (rd_image_writer_get_target_progress (writer, 2, NULL, NULL), ==,
                   RD_WRITE_PHASE_DONE);
  failed = rd_image_writer_dup_target_error (writer, 1);
  g_assert_nonnull (failed);
  g_assert_null (rd_image_writer_dup_target_error (writer, 0));
  g_assert_finalize_object (g_steal_pointer (&writer));

  imaging_assert_file_prefix (backing (f, 0), f->files.raw_data, f->files.raw_size);
  imaging_assert_file_prefix (backing (f, 2), f->files.raw_data, f->files.raw_size);
  for (guint i = 0; i < 3; i++)
    g_object_unref (drives[i]);
}

static void
on_drive_cb (RdDriveMonitor *monitor, RdDrive *drive, gpointer user_data)
{
  char **seen = user_data;

  g_free (*seen);
  *seen = g_strdup (rd_drive_get_object_path (drive));
}

static void
test_monitor_live (Fixture *f, gconstpointer data)
{
  g_autofree char *added = NULL;
  g_autofree char *removed = NULL;
  g_autofree char *backing_file = NULL;
  g_autofree char *path = NULL;
  gint64 deadline;

  if (!imaging_need_udisks ())
    return;
  g_signal_connect (f->monitor, "drive-added", G_CALLBACK (on_drive_cb), &added);
  g_signal_connect (f->monitor, "drive-removed", G_CALLBACK (on_drive_cb), &removed);

  backing_file = g_build_filename (f->files.dir, "live.img", NULL);
  path = imaging_loop_setup (backing_file, 16 * MIB);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_strcmp0 (added, path) != 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (added, ==, path);

  imaging_loop_delete (path);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_strcmp0 (removed, path) != 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (removed, ==, path);
}

/* The helper binary, end to end. */

static int
run_imager (const char *const *args, char **out)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *ignored = NULL;
  int status;

  g_ptr_array_add (argv, (char *) g_getenv ("RD_IMAGER"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  /* Standard output is captured always: it must not mix into this test's TAP output. */
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                out != NULL ? out : &ignored, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_imager (Fixture *f, gconstpointer data)
{
  g_autoptr (RdDrive) drive = NULL;
  g_autofree char *xz = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  guint n;

  if (!imaging_need_udisks ())
    return;
  g_assert_nonnull (g_getenv ("RD_IMAGER"));
  xz = imaging_files_compress (&f->files, "xz");
  iso = imaging_make_windows_iso (f->files.dir);
  drive = add_stick (f, STICK_SIZE);

  /* A block device needs --yes. */
  g_assert_cmpint (run_imager ((const char *[]){ "write", xz, rd_drive_get_object_path (drive), NULL }, NULL), ==, 2);
  g_assert_cmpuint (imaging_byte_at (backing (f, 0), 0), ==, IMAGING_STICK_MARK);

  /* Windows media: refused, exit 4, an error event. */
  g_assert_cmpint (run_imager ((const char *[]){ "write", iso, rd_drive_get_device (drive), "--yes", "--progress", "json", NULL }, &out), ==, 4);
  g_assert_nonnull (strstr (out, "\"event\":\"error\",\"code\":\"needs-windows-media\""));
  g_clear_pointer (&out, g_free);

  /* Write and verify through the object path; JSON lines from start to done. */
  g_assert_cmpint (run_imager ((const char *[]){ "write", xz, rd_drive_get_object_path (drive), "--yes", "--progress", "json", NULL }, &out), ==, 0);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 2);
  g_assert_true (g_str_has_prefix (lines[0], "{\"event\":\"start\""));
  g_assert_true (g_str_has_prefix (lines[n - 1], "{\"event\":\"done\""));
  g_assert_nonnull (strstr (lines[n - 1], "\"targets\":[{\"target\":0,\"ok\":true}]"));
  imaging_assert_file_prefix (backing (f, 0), f->files.raw_data, f->files.raw_size);

  /* verify: exit 0 on a match. */
  g_assert_cmpint (run_imager ((const char *[]){ "verify", f->files.raw, rd_drive_get_device (drive), NULL }, NULL), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, size, func) \
  g_test_add (path, Fixture, GSIZE_TO_POINTER (size), fixture_setup, func, fixture_teardown)
  ADD ("/rd/image-writer/formats", 0, test_formats);
  ADD ("/rd/image-writer/corrupt-xz", 0, test_corrupt_xz);
  ADD ("/rd/image-writer/too-small", 0, test_too_small);
  ADD ("/rd/image-writer/holds-source", 0, test_holds_source);
  ADD ("/rd/image-writer/windows-iso-refused", 0, test_windows_iso);
  ADD ("/rd/image-writer/verify-flipped-byte", 0, test_verify_flipped);
  ADD ("/rd/image-writer/cancel", BIG_IMAGE, test_cancel);
  ADD ("/rd/image-writer/detach", BIG_IMAGE, test_detach);
  ADD ("/rd/image-writer/multi-target", BIG_IMAGE, test_multi_target);
  ADD ("/rd/drive-monitor/live", 0, test_monitor_live);
  ADD ("/rd/imager/cli", 0, test_imager);
#undef ADD

  return g_test_run ();
}
