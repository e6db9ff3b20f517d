/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging-test"

#include "config.h"

#include "imaging-test-common.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

void
imaging_run (const char *command_line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_command_line_sync (command_line, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("“%s” failed: %s", command_line, err);
}

void
imaging_files_init (ImagingFixtureFiles *files, gsize size)
{
  g_autoptr (GError) error = NULL;
  GRand *rand = g_rand_new_with_seed (42);

  files->dir = g_dir_make_tmp ("rd-imaging-XXXXXX", &error);
  g_assert_no_error (error);
  files->raw = g_build_filename (files->dir, "image.img", NULL);
  files->raw_size = size;
  files->raw_data = g_malloc (size);
  for (gsize i = 0; i + 4 <= size; i += 4)
    {
      guint32 v = g_rand_int (rand);
      memcpy (files->raw_data + i, &v, 4);
    }
  for (gsize i = size & ~(gsize) 3; i < size; i++)
    files->raw_data[i] = 0x5a;
  /* A one-partition MBR, so the image is a disk image with a partition table. */
  memset (files->raw_data + 446, 0, 64);
  files->raw_data[446 + 4] = 0x0c;
  files->raw_data[446 + 8] = 0x08;
  files->raw_data[446 + 12] = 0x10;
  files->raw_data[510] = 0x55;
  files->raw_data[511] = 0xaa;
  g_rand_free (rand);

  g_file_set_contents (files->raw, (const char *) files->raw_data, size, &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

void
imaging_files_clear (ImagingFixtureFiles *files)
{
  remove_tree (files->dir);
  g_clear_pointer (&files->dir, g_free);
  g_clear_pointer (&files->raw, g_free);
  g_clear_pointer (&files->raw_data, g_free);
}

/* Compresses image.img with the command-line tool for @format; returns the new path. */
char *
imaging_files_compress (ImagingFixtureFiles *files, const char *format)
{
  g_autofree char *quoted_dir = g_shell_quote (files->dir);
  g_autofree char *cmd = NULL;
  g_autofree char *script = NULL;
  const char *ext;

  if (g_str_equal (format, "xz"))
    {
      /* Blocks, so that the multi-threaded decoder really runs in parallel. */
      ext = "img.xz";
      cmd = g_strdup ("xz -T2 --block-size=1MiB -k -f image.img");
    }
  else if (g_str_equal (format, "gz"))
    {
      ext = "img.gz";
      cmd = g_strdup ("gzip -k -f image.img");
    }
  else if (g_str_equal (format, "zst"))
    {
      ext = "img.zst";
      cmd = g_strdup ("zstd -q -f -k image.img");
    }
  else if (g_str_equal (format, "bz2"))
    {
      ext = "img.bz2";
      cmd = g_strdup ("bzip2 -k -f image.img");
    }
  else if (g_str_equal (format, "zip"))
    {
      ext = "zip";
      cmd = g_strdup ("zip -q image.zip image.img");
    }
  else
    {
      g_assert_not_reached ();
    }

  script = g_strdup_printf ("sh -c 'cd %s && %s'", quoted_dir, cmd);
  imaging_run (script);
  return g_strdup_printf ("%s/image.%s", files->dir, ext);
}

/* Windows-like install media: ISO 9660 + UDF, BOOTMGR and SOURCES/, no partition table. */
char *
imaging_make_windows_iso (const char *dir)
{
  g_autofree char *tree = g_build_filename (dir, "wintree", NULL);
  g_autofree char *sources = g_build_filename (tree, "sources", NULL);
  g_autofree char *bootmgr = g_build_filename (tree, "bootmgr", NULL);
  g_autofree char *wim = g_build_filename (sources, "boot.wim", NULL);
  char *iso = g_build_filename (dir, "win.iso", NULL);
  g_autofree char *tool = g_find_program_in_path ("genisoimage");
  g_autoptr (GError) error = NULL;

  if (tool == NULL)
    tool = g_find_program_in_path ("mkisofs");

  if (tool != NULL)
    {
      g_autofree char *cmd = NULL;

      g_mkdir_with_parents (sources, 0755);
      g_file_set_contents (bootmgr, "bootmgr", -1, &error);
      g_assert_no_error (error);
      g_file_set_contents (wim, "MSWIM\0\0\0", 8, &error);
      g_assert_no_error (error);
      cmd = g_strdup_printf ("%s -quiet -udf -V CCCOMA_X64FRE -o %s %s", tool, iso, tree);
      imaging_run (cmd);
    }
  else
    {
      /* No ISO tool: a primary volume descriptor at 32 KiB and zeros before it. */
      g_autofree guint8 *data = g_malloc0 (64 * 1024);

      data[32768] = 1;
      memcpy (data + 32769, "CD001", 5);
      data[32768 + 6] = 1;
      memcpy (data + 32768 + 40, "CCCOMA_X64FRE", 13);
      data[34816] = 255;
      memcpy (data + 34817, "CD001", 5);
      g_file_set_contents (iso, (const char *) data, 64 * 1024, &error);
      g_assert_no_error (error);
    }
  return iso;
}

static UDisksClient *client;

gboolean
imaging_have_udisks (void)
{
  g_autofree char *owner = NULL;

  if (getuid () != 0)
    return FALSE;
  if (client == NULL)
    client = udisks_client_new_sync (NULL, NULL);
  if (client == NULL)
    return FALSE;
  owner = g_dbus_object_manager_client_get_name_owner (
    G_DBUS_OBJECT_MANAGER_CLIENT (udisks_client_get_object_manager (client)));
  return owner != NULL;
}

UDisksClient *
imaging_udisks_client (void)
{
  g_assert_true (imaging_have_udisks ());
  return client;
}

char *
imaging_loop_setup (const char *backing_file, guint64 size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (UDisksObject) manager_object = NULL;
  UDisksManager *manager = udisks_client_get_manager (imaging_udisks_client ());
  char *path = NULL;
  int fd;

  fd = open (backing_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  if (size > 0)
    g_assert_cmpint (ftruncate (fd, size), ==, 0);
  g_unix_fd_list_append (fds, fd, &error);
  g_assert_no_error (error);
  close (fd);

  udisks_manager_call_loop_setup_sync (manager, g_variant_new_handle (0),
                                       g_variant_new ("a{sv}", NULL), fds, &path, NULL, NULL,
                                       &error);
  g_assert_no_error (error);
  return path;
}

void
imaging_loop_delete (const char *object_path)
{
  g_autoptr (UDisksObject) object = NULL;
  UDisksLoop *loop;

  udisks_client_settle (imaging_udisks_client ());
  object = udisks_client_get_object (imaging_udisks_client (), object_path);
  loop = object ? udisks_object_peek_loop (object) : NULL;
  if (loop != NULL)
    udisks_loop_call_delete_sync (loop, g_variant_new ("a{sv}", NULL), NULL, NULL);
}

/* Waits until the monitor's own UDisks client knows the loop device, its backing file set. */
RdDrive *
imaging_wait_for_drive (RdDriveMonitor *monitor, const char *object_path)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (RdDrive) drive = NULL;

      rd_drive_monitor_refresh (monitor);
      drive = rd_drive_monitor_lookup (monitor, object_path, NULL);
      if (drive != NULL && rd_drive_get_size (drive) > 0 && rd_drive_get_backing_file (drive) != NULL
          && rd_drive_get_backing_file (drive)[0] != '\0')
        return g_steal_pointer (&drive);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (20 * 1000);
    }
  g_error ("UDisks did not show %s in time", object_path);
  return NULL;
}

const char *
imaging_loop_device (const char *object_path)
{
  g_autoptr (UDisksObject) object = NULL;

  udisks_client_settle (imaging_udisks_client ());
  object = udisks_client_get_object (imaging_udisks_client (), object_path);
  g_assert_nonnull (object);
  return g_intern_string (udisks_block_get_device (udisks_object_peek_block (object)));
}

void
imaging_assert_file_prefix (const char *path, const guint8 *data, gsize len)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >=, len);
  for (gsize i = 0; i < len; i++)
    if ((guint8) contents[i] != data[i])
      g_error ("%s differs from the image at byte %" G_GSIZE_FORMAT, path, i);
}
