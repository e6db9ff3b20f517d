/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging-test"

#include "config.h"

#include "imaging-test-common.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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

void
imaging_remove_tree (const char *path)
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

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        imaging_remove_tree (child);
      else
        g_unlink (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

double
imaging_median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

guint8
imaging_byte_at (const char *path, guint64 offset)
{
  guint8 b = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, &b, 1, offset), ==, 1);
  close (fd);
  return b;
}

void
imaging_files_clear (ImagingFixtureFiles *files)
{
  imaging_remove_tree (files->dir);
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

/* rd_test_make_windows_iso */

static gboolean
run_argv (const char *const *argv, GError **error)
{
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s failed: %s", argv[0], err);
      return FALSE;
    }
  return TRUE;
}

/* Incompressible bytes from a xorshift64* generator seeded by @seed, written in 1 MiB chunks. */
static gboolean
write_generated_file (const char *path, guint64 size, guint64 seed, GError **error)
{
  const gsize chunk = 1024 * 1024;
  g_autofree guint64 *buf = g_malloc (chunk);
  guint64 x = seed * 0x9e3779b97f4a7c15ull + 1;
  guint64 done = 0;
  int fd;

  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  while (done < size)
    {
      gsize n = MIN (chunk, size - done);

      for (gsize i = 0; i < (n + 7) / 8; i++)
        {
          x ^= x >> 12;
          x ^= x << 25;
          x ^= x >> 27;
          buf[i] = x * 0x2545f4914f6cdd1dull;
        }
      if (write (fd, buf, n) != (gssize) n)
        {
          int saved = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                       g_strerror (saved));
          close (fd);
          return FALSE;
        }
      done += n;
    }
  close (fd);
  return TRUE;
}

static gboolean
make_file (const char *tree, const char *rel, guint64 size, guint64 seed, GError **error)
{
  g_autofree char *path = g_build_filename (tree, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", parent,
                   g_strerror (saved));
      return FALSE;
    }
  return write_generated_file (path, size, seed, error);
}

char *
rd_test_make_windows_iso (const char      *dir,
                          const char      *label,
                          guint            install_mib,
                          RdTestIsoFlags   flags,
                          char           **out_tree,
                          GError         **error)
{
  g_autofree char *tree = g_build_filename (dir, "iso-tree", NULL);
  g_autofree char *boot_src = g_build_filename (dir, "boot-wim-src", NULL);
  g_autofree char *install_src = g_build_filename (dir, "install-wim-src", NULL);
  g_autofree char *boot_wim = g_build_filename (tree, "sources", "boot.wim", NULL);
  g_autofree char *install_wim = NULL;
  g_autofree char *iso_name = g_strdup_printf ("%s.iso", label);
  g_autofree char *iso = g_build_filename (dir, iso_name, NULL);
  guint64 remaining = (guint64) install_mib * 1024 * 1024;
  guint64 seed = 1;
  /* Mixed-case names in nested folders, as on real media. */
  static const struct
  {
    const char *path;
    guint64 size;
  } others[] = {
    { "bootmgr.efi", 150 * 1024 + 17 },
    { "boot/bcd", 16 * 1024 },
    { "boot/Fonts/Segmono_Boot.ttf", 40 * 1024 + 3 },
    { "efi/microsoft/boot/bcd", 16 * 1024 },
    { "efi/microsoft/boot/Resources/en-US/bootres.dll.mui", 9000 },
    { "sources/en-US/Setup.exe.MUI", 70 * 1024 + 1 },
    { "sources/ei.cfg", 0 },
    { "Support/Logging/ReadMe.TXT", 1234 },
    { "autorun.inf", 128 },
  };

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s is not a folder", dir);
      return NULL;
    }

  if (!(flags & RD_TEST_ISO_NO_BOOTMGR)
      && !make_file (tree, "bootmgr", 400 * 1024 + 5, seed++, error))
    return NULL;
  /* Without bootx64.efi, efi/boot/ stays as an empty folder. */
  {
    g_autofree char *efi_boot = g_build_filename (tree, "efi", "boot", NULL);

    g_mkdir_with_parents (efi_boot, 0755);
  }
  if (!(flags & RD_TEST_ISO_NO_EFI)
      && !make_file (tree, "efi/boot/bootx64.efi", 2 * 1024 * 1024 + 11, seed++, error))
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    if (!make_file (tree, others[i].path, others[i].size, seed++, error))
      return NULL;

  /* boot.wim: a small WinPE-like image. */
  if (!make_file (boot_src, "Windows/System32/winpeshl.ini", 60, seed++, error)
      || !make_file (boot_src, "Windows/System32/Boot/winload.efi", 300 * 1024, seed++, error))
    return NULL;
  {
    const char *argv[] = { "wimlib-imagex", "capture", boot_src, boot_wim, "Microsoft Windows PE",
                           NULL };

    if (!run_argv (argv, error))
      return NULL;
  }
  imaging_remove_tree (boot_src);

  /* install.wim / install.esd: about @install_mib MiB of incompressible files of up to 64 MiB. */
  for (guint n = 0; remaining > 0; n++)
    {
      guint64 size = MIN (remaining, (guint64) 64 * 1024 * 1024);
      g_autofree char *rel = g_strdup_printf ("Windows/System32/Payload/file-%03u.bin", n);

      if (!make_file (install_src, rel, size, seed++, error))
        return NULL;
      remaining -= size;
    }
  if (install_mib == 0 && !make_file (install_src, "Windows/win.ini", 92, seed++, error))
    return NULL;
  {
    gboolean solid = (flags & RD_TEST_ISO_SOLID_INSTALL) != 0;
    const char *argv[] = { "wimlib-imagex", "capture", install_src, NULL, "Windows 11 Pro",
                           solid ? "--solid" : "--compress=none", NULL };

    install_wim = g_build_filename (tree, "sources", solid ? "install.esd" : "install.wim", NULL);
    argv[3] = install_wim;
    if (!run_argv (argv, error))
      return NULL;
  }
  imaging_remove_tree (install_src);

  {
    GPtrArray *argv = g_ptr_array_new ();
    gboolean ok;

    g_ptr_array_add (argv, (char *) "genisoimage");
    g_ptr_array_add (argv, (char *) "-quiet");
    if (!(flags & RD_TEST_ISO_JOLIET_ONLY))
      g_ptr_array_add (argv, (char *) "-udf");
    g_ptr_array_add (argv, (char *) "-J");
    g_ptr_array_add (argv, (char *) "-R");
    g_ptr_array_add (argv, (char *) "-iso-level");
    g_ptr_array_add (argv, (char *) "3");
    g_ptr_array_add (argv, (char *) "-V");
    g_ptr_array_add (argv, (char *) label);
    g_ptr_array_add (argv, (char *) "-o");
    g_ptr_array_add (argv, iso);
    g_ptr_array_add (argv, tree);
    g_ptr_array_add (argv, NULL);
    ok = run_argv ((const char *const *) argv->pdata, error);
    g_ptr_array_unref (argv);
    if (!ok)
      return NULL;
  }

  if (out_tree != NULL)
    *out_tree = g_steal_pointer (&tree);
  return g_steal_pointer (&iso);
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

gboolean
imaging_need_udisks (void)
{
  if (imaging_have_udisks ())
    return TRUE;
  g_test_skip ("needs root and udisksd on the system bus (run through udisks-session.sh)");
  return FALSE;
}

UDisksClient *
imaging_udisks_client (void)
{
  g_assert_true (imaging_have_udisks ());
  return client;
}

/* Loop devices set up and not deleted yet. A failed assertion aborts the test before its
 * teardown: the handler detaches them (open, ioctl and close are async-signal-safe), so that no
 * run leaves a loop device behind. */
#define MAX_LOOPS 64

static struct
{
  char object_path[128];
  char device[32];
} live_loops[MAX_LOOPS];

static void
detach_live_loops (void)
{
  for (guint i = 0; i < MAX_LOOPS; i++)
    {
      int fd;

      if (live_loops[i].device[0] == '\0')
        continue;
      fd = open (live_loops[i].device, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          /* A device still open elsewhere (a helper being killed) is cleared on its last close. */
          ioctl (fd, LOOP_CLR_FD, 0);
          close (fd);
        }
      live_loops[i].device[0] = '\0';
    }
}

static void
on_fatal_signal (int signum)
{
  detach_live_loops ();
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
track_loop (const char *object_path)
{
  static const int fatal[] = { SIGABRT, SIGTRAP, SIGSEGV, SIGBUS, SIGTERM, SIGINT };
  static gsize handlers = 0;

  if (g_once_init_enter (&handlers))
    {
      for (guint i = 0; i < G_N_ELEMENTS (fatal); i++)
        signal (fatal[i], on_fatal_signal);
      g_once_init_leave (&handlers, 1);
    }
  for (guint i = 0; i < MAX_LOOPS; i++)
    if (live_loops[i].device[0] == '\0')
      {
        /* UDisks names a block device's object after its node: .../block_devices/loop3. */
        g_autofree char *name = g_path_get_basename (object_path);

        g_assert_true (g_str_has_prefix (name, "loop"));
        g_strlcpy (live_loops[i].object_path, object_path, sizeof live_loops[i].object_path);
        g_snprintf (live_loops[i].device, sizeof live_loops[i].device, "/dev/%s", name);
        return;
      }
  g_error ("more than %d loop devices at once", MAX_LOOPS);
}

static void
untrack_loop (const char *object_path)
{
  for (guint i = 0; i < MAX_LOOPS; i++)
    if (live_loops[i].device[0] != '\0' && g_str_equal (live_loops[i].object_path, object_path))
      live_loops[i].device[0] = '\0';
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
  track_loop (path);
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
  untrack_loop (object_path);
}

RdDrive *
imaging_add_stick (RdDriveMonitor *monitor,
                   const char     *dir,
                   GPtrArray      *loops,
                   guint64         size,
                   char          **out_backing)
{
  g_autofree char *backing = g_strdup_printf ("%s/stick%u.img", dir, loops->len);
  g_autofree guint8 *mark = g_malloc (IMAGING_MIB);
  char *path;
  int fd;

  g_assert_cmpuint (size, >=, 2 * IMAGING_MIB);
  memset (mark, IMAGING_STICK_MARK, IMAGING_MIB);
  fd = open (backing, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, size), ==, 0);
  g_assert_cmpint (pwrite (fd, mark, IMAGING_MIB, 0), ==, IMAGING_MIB);
  g_assert_cmpint (pwrite (fd, mark, IMAGING_MIB, size - IMAGING_MIB), ==, IMAGING_MIB);
  close (fd);

  path = imaging_loop_setup (backing, 0);
  g_ptr_array_add (loops, path);
  if (out_backing != NULL)
    *out_backing = g_steal_pointer (&backing);
  return imaging_wait_for_drive (monitor, path);
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

/* rd_test_check_composed_image */

static char *
check_capture (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "MTOOLS_SKIP_CHECK", "1", TRUE);
  char *out = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s on %s failed: %s%s", argv[0], argv[1], out, err);
  return out;
}

static void
check_same_file (const char *expected, const char *actual)
{
  const gsize chunk = 1024 * 1024;
  g_autofree char *a = g_malloc (chunk);
  g_autofree char *b = g_malloc (chunk);
  FILE *fa = fopen (expected, "rb");
  FILE *fb = fopen (actual, "rb");
  guint64 offset = 0;

  g_assert_nonnull (fa);
  if (fb == NULL)
    g_error ("%s is not on the key (as %s)", expected, actual);
  for (;;)
    {
      gsize na = fread (a, 1, chunk, fa);
      gsize nb = fread (b, 1, chunk, fb);

      if (na != nb || memcmp (a, b, na) != 0)
        g_error ("%s differs from %s near byte %" G_GUINT64_FORMAT, actual, expected, offset);
      if (na == 0)
        break;
      offset += na;
    }
  fclose (fa);
  fclose (fb);
}

static gboolean
name_is_wim (const char *name)
{
  return g_str_has_suffix (name, ".wim") || g_str_has_suffix (name, ".esd")
         || g_str_has_suffix (name, ".WIM") || g_str_has_suffix (name, ".ESD");
}

static guint
wim_field (const char *info, const char *field)
{
  const char *line = strstr (info, field);

  g_assert_nonnull (line);
  line += strlen (field);
  while (*line == ' ' || *line == ':')
    line++;
  return (guint) g_ascii_strtoull (line, NULL, 10);
}

/* @original was split into @out_dir's NAME.swm, NAME2.swm, ...: all there, each under 4 GiB,
 * and together a whole WIM with the original's images, every blob's SHA-1 verified. */
static void
check_split_wim (const char *original, const char *out_dir, const char *rel, GHashTable *seen)
{
  g_autofree char *base_name = g_path_get_basename (original);
  g_autofree char *base = g_strndup (base_name, strlen (base_name) - 4);
  g_autofree char *first = g_strdup_printf ("%s/%s.swm", out_dir, base);
  g_autofree char *ref = g_strdup_printf ("--ref=%s/%s*.swm", out_dir, base);
  g_autofree char *rel_dir = g_path_get_dirname (rel);
  g_autofree char *info = NULL;
  g_autofree char *original_info = NULL;
  guint parts = 0;

  if (!g_file_test (first, G_FILE_TEST_IS_REGULAR))
    g_error ("%s is neither on the key nor split into %s.swm parts", rel, base);
  for (guint n = 1;; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup_printf ("%s.swm", base)
                                     : g_strdup_printf ("%s%u.swm", base, n);
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      struct stat st;

      if (stat (path, &st) != 0)
        break;
      g_assert_cmpuint ((guint64) st.st_size, <=, G_GUINT64_CONSTANT (0xffffffff));
      g_hash_table_add (seen, g_str_equal (rel_dir, ".") ? g_strdup (name)
                                                         : g_build_filename (rel_dir, name, NULL));
      parts++;
    }
  g_assert_cmpuint (parts, >=, 2);

  /* Each part knows its place: "Part Number: k/N" (wiminfo reads one part at a time). */
  for (guint n = 1; n <= parts; n++)
    {
      g_autofree char *path = n == 1 ? g_strdup (first)
                                     : g_strdup_printf ("%s/%s%u.swm", out_dir, base, n);
      g_autofree char *part_number = g_strdup_printf ("%u/%u", n, parts);
      const char *argv[] = { "wiminfo", path, NULL };

      g_free (info);
      info = check_capture (argv);
      if (strstr (info, part_number) == NULL)
        g_error ("%s is not part %s:\n%s", path, part_number, info);
    }
  {
    const char *argv[] = { "wiminfo", first, NULL };
    const char *original_argv[] = { "wiminfo", original, NULL };

    g_free (info);
    info = check_capture (argv);
    original_info = check_capture (original_argv);
  }
  g_assert_cmpuint (wim_field (info, "Image Count"), ==, wim_field (original_info, "Image Count"));
  /* The parts together are the whole WIM: every blob read back and its SHA-1 checked. */
  {
    const char *argv[] = { "wimlib-imagex", "verify", first, ref, NULL };
    g_autofree char *out = check_capture (argv);
  }
}

static void
check_tree (const char *tree, const char *rel, const char *out, GHashTable *seen)
{
  g_autofree char *dir_path = rel[0] != '\0' ? g_build_filename (tree, rel, NULL) : g_strdup (tree);
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = rel[0] != '\0' ? g_build_filename (rel, name, NULL)
                                                  : g_strdup (name);
      g_autofree char *source = g_build_filename (tree, child_rel, NULL);
      g_autofree char *copied = g_build_filename (out, child_rel, NULL);

      if (g_file_test (source, G_FILE_TEST_IS_DIR))
        {
          if (!g_file_test (copied, G_FILE_TEST_IS_DIR))
            g_error ("the folder %s (with this case) is not on the key", child_rel);
          g_hash_table_add (seen, g_strdup (child_rel));
          check_tree (tree, child_rel, out, seen);
        }
      else if (!g_file_test (copied, G_FILE_TEST_EXISTS) && name_is_wim (name))
        {
          g_autofree char *out_dir = g_path_get_dirname (copied);

          check_split_wim (source, out_dir, child_rel, seen);
        }
      else
        {
          check_same_file (source, copied);
          g_hash_table_add (seen, g_strdup (child_rel));
        }
    }
  g_dir_close (dir);
}

/* Nothing on the key that is not in the trees. */
static void
check_no_extras (const char *out, const char *rel, GHashTable *seen)
{
  g_autofree char *dir_path = rel[0] != '\0' ? g_build_filename (out, rel, NULL) : g_strdup (out);
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = rel[0] != '\0' ? g_build_filename (rel, name, NULL)
                                                  : g_strdup (name);
      g_autofree char *child = g_build_filename (out, child_rel, NULL);

      if (!g_hash_table_contains (seen, child_rel))
        g_error ("%s is on the key but in none of the source folders", child_rel);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        check_no_extras (out, child_rel, seen);
    }
  g_dir_close (dir);
}

static void
check_fat32 (const char                    *image,
             guint64                        start,
             guint64                        size,
             const RdTestComposedPartition *expected,
             const char                    *work)
{
  g_autofree char *device = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, image, start);
  g_autofree char *part_file = g_build_filename (work, "partition.img", NULL);
  g_autofree char *out = g_build_filename (work, "files", NULL);
  g_autofree char *label = g_strdup_printf ("disk label=\"%-11s\"", expected->label);
  g_autofree char *hidden = g_strdup_printf ("hidden sectors: %" G_GUINT64_FORMAT, start / 512);
  g_autofree char *minfo = NULL;
  g_autofree char *fsck = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *clusters;

  /* The label and the type as mtools reads the boot sector. */
  {
    const char *argv[] = { "minfo", "-i", device, "::", NULL };

    minfo = check_capture (argv);
  }
  if (strstr (minfo, label) == NULL)
    g_error ("expected %s in:\n%s", label, minfo);
  g_assert_nonnull (strstr (minfo, "disk type=\"FAT32   \""));
  g_assert_nonnull (strstr (minfo, hidden));

  /* fsck.fat on the partition alone, cut out of the image (it takes no offset). */
  {
    g_autofree char *skip = g_strdup_printf ("skip=%" G_GUINT64_FORMAT, start);
    g_autofree char *count = g_strdup_printf ("count=%" G_GUINT64_FORMAT, size);
    g_autofree char *input = g_strdup_printf ("if=%s", image);
    g_autofree char *output = g_strdup_printf ("of=%s", part_file);
    const char *dd[] = { "dd", input, output, "bs=1M", "iflag=skip_bytes,count_bytes", skip,
                         count, "conv=sparse", "status=none", NULL };
    const char *argv[] = { "fsck.fat", "-n", "-v", part_file, NULL };
    g_autofree char *dd_out = check_capture (dd);

    /* conv=sparse leaves a hole at the end unwritten: give the file its size. */
    g_assert_cmpint (truncate (part_file, size), ==, 0);
    fsck = check_capture (argv);
  }
  g_assert_nonnull (strstr (fsck, "32 bit entries"));
  clusters = strstr (fsck, " data clusters");
  g_assert_nonnull (clusters);
  while (clusters > fsck && g_ascii_isdigit (clusters[-1]))
    clusters--;
  g_assert_cmpuint (g_ascii_strtoull (clusters, NULL, 10), >=, 65525);
  g_unlink (part_file);

  /* Every file back out through mtools, compared byte for byte. */
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
  {
    const char *argv[] = { "mdir", "-i", device, "-a", "-b", "::/", NULL };
    g_autofree char *listing = check_capture (argv);

    if (listing[0] != '\0')
      {
        const char *copy[] = { "mcopy", "-s", "-n", "-i", device, "::/*", out, NULL };
        g_autofree char *copy_out = check_capture (copy);
      }
  }
  for (guint i = 0; expected->trees != NULL && expected->trees[i] != NULL; i++)
    check_tree (expected->trees[i], "", out, seen);
  check_no_extras (out, "", seen);
  imaging_remove_tree (out);
}

void
rd_test_check_composed_image (const char                    *image,
                              RdPartitionTable               table,
                              const RdTestComposedPartition *partitions,
                              guint                          n_partitions)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  g_autoptr (GError) tmp_error = NULL;
  g_autofree char *work = g_dir_make_tmp ("rd-check-XXXXXX", &tmp_error);
  gboolean gpt = table == RD_PARTITION_TABLE_GPT;
  JsonObject *pt;
  JsonArray *parts;
  guint64 end = 0;
  struct stat st;

  g_assert_no_error (tmp_error);
  {
    const char *argv[] = { "sfdisk", "--json", image, NULL };

    json = check_capture (argv);
  }
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  pt = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                      "partitiontable");
  g_assert_cmpstr (json_object_get_string_member (pt, "label"), ==, gpt ? "gpt" : "dos");
  if (json_object_has_member (pt, "sectorsize"))
    g_assert_cmpint (json_object_get_int_member (pt, "sectorsize"), ==, 512);
  parts = json_object_get_array_member (pt, "partitions");
  g_assert_cmpuint (json_array_get_length (parts), ==, n_partitions);

  for (guint i = 0; i < n_partitions; i++)
    {
      JsonObject *part = json_array_get_object_element (parts, i);
      const RdTestComposedPartition *expected = &partitions[i];
      guint64 start = json_object_get_int_member (part, "start");
      guint64 size = json_object_get_int_member (part, "size");
      const char *type = json_object_get_string_member (part, "type");
      gboolean bootable = json_object_has_member (part, "bootable")
                          && json_object_get_boolean_member (part, "bootable");

      /* 1 MiB aligned, whole MiB, one after the other. */
      g_assert_cmpuint (start % 2048, ==, 0);
      g_assert_cmpuint (size % 2048, ==, 0);
      g_assert_cmpuint (start * 512, >=, end);
      if (gpt)
        {
          g_assert_cmpstr (type, ==,
                           expected->boot ? "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
                                          : "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
          g_assert_cmpstr (json_object_get_string_member (part, "name"), ==, expected->label);
        }
      else
        {
          g_assert_cmpstr (type, ==, "c");
          g_assert_cmpint (bootable, ==, expected->boot);
        }
      end = (start + size) * 512;
      check_fat32 (image, start * 512, size * 512, expected, work);
    }

  /* The image ends with its last partition, and the backup GPT. */
  g_assert_cmpint (stat (image, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, ==, end + (gpt ? 33 * 512 : 0));
  imaging_remove_tree (work);
}
