/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-test-media-composer"

#include "config.h"

#include "imaging-test-common.h"
#include "rd-imaging-error.h"
#include "rd-media-composer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MIB (G_GUINT64_CONSTANT (1024) * 1024)

/* Made once per run: ISOs and payload folders, in one temp folder. */
typedef struct
{
  char *dir;
  char *iso; /* install.wim of about 4 MiB: over a 1 MiB split size */
  char *tree;
  char *big_iso;   /* install.wim of about 64 MiB, for cancelling mid-copy */
  char *oem;       /* HP-style: Recovery.WIM over the split size, DEPLOY.CMD, ... */
  char *universal; /* Images/ with Drivers/SKU_Folder.json and driver folders, a small WIM */
} Media;

static Media media;

typedef struct
{
  char *scratch;
  char *out_dir;
} Fixture;

static void
make_file (const char *path, gsize size, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree guint8 *data = g_malloc (MAX (size, 1));
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < size; i++)
    data[i] = g_rand_int (rand);
  g_rand_free (rand);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);
}

static void
make_text (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* A WIM captured with wimlib-imagex from @n_files generated files of @file_size bytes. */
static void
make_wim (const char *wim, const char *scratch, guint n_files, gsize file_size)
{
  g_autofree char *cmd = NULL;

  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *name = g_strdup_printf ("Windows/file-%u.bin", i);
      g_autofree char *path = g_build_filename (scratch, name, NULL);

      make_file (path, file_size, 100 + i);
    }
  cmd = g_strdup_printf ("sh -c 'wimlib-imagex capture %s %s Recovery --compress=none >/dev/null'",
                         scratch, wim);
  imaging_run (cmd);
}

static char *
make_iso (const char *name, guint install_mib, RdTestIsoFlags flags, char **tree)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (media.dir, name, NULL);
  char *iso;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  iso = rd_test_make_windows_iso (dir, "CCCOMA_X64FRE", install_mib, flags, tree, &error);
  g_assert_no_error (error);
  return iso;
}

static const char *
ensure_media (void)
{
  g_autoptr (GError) error = NULL;

  if (media.dir != NULL)
    return media.dir;
  media.dir = g_dir_make_tmp ("rd-compose-media-XXXXXX", &error);
  g_assert_no_error (error);
  media.iso = make_iso ("win", 4, 0, &media.tree);
  media.big_iso = make_iso ("big", 64, 0, NULL);

  /* HP's Corporate Ready Image kit: the recovery WIM and its deploy script. */
  media.oem = g_build_filename (media.dir, "oem", NULL);
  {
    g_autofree char *wim = g_build_filename (media.oem, "Recovery.WIM", NULL);
    g_autofree char *src = g_build_filename (media.dir, "oem-src", NULL);
    g_autofree char *deploy = g_build_filename (media.oem, "DEPLOY.CMD", NULL);
    g_autofree char *partitions = g_build_filename (media.oem, "ReCreatePartitions.txt", NULL);

    g_assert_cmpint (g_mkdir_with_parents (media.oem, 0755), ==, 0);
    make_wim (wim, src, 3, 700 * 1024);
    make_text (deploy, "@echo off\r\ndiskpart /s ReCreatePartitions.txt\r\n"
                       "dism /Apply-Image /ImageFile:Recovery.swm /SWMFile:Recovery*.swm "
                       "/Index:1 /ApplyDir:W:\\\r\n");
    make_text (partitions, "select disk 0\r\nclean\r\nconvert gpt\r\n");
  }

  /* The universal image's folder: drivers per System SKU and a small WIM. */
  media.universal = g_build_filename (media.dir, "universal", NULL);
  {
    g_autofree char *sku = g_build_filename (media.universal, "Images", "Drivers",
                                             "SKU_Folder.json", NULL);
    g_autofree char *os_driver = g_build_filename (media.universal, "Images", "Drivers", "8A4C_OS",
                                                   "HpNic.inf", NULL);
    g_autofree char *pe_driver = g_build_filename (media.universal, "Images", "Drivers", "WinPE",
                                                   "storahci.sys", NULL);
    g_autofree char *empty = g_build_filename (media.universal, "Images", "Drivers", "WinRE", NULL);
    g_autofree char *wim = g_build_filename (media.universal, "Images", "Small.wim", NULL);
    g_autofree char *src = g_build_filename (media.dir, "universal-src", NULL);

    make_text (sku, "{ \"8A4C\": \"8A4C\", \"Generic\": \"OS\" }\n");
    make_file (os_driver, 3000, 7);
    make_file (pe_driver, 90 * 1024 + 3, 8);
    g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
    make_wim (wim, src, 1, 200 * 1024);
  }
  return media.dir;
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  ensure_media ();
  fixture->scratch = g_dir_make_tmp ("rd-compose-scratch-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->out_dir = g_dir_make_tmp ("rd-compose-out-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  imaging_remove_tree (fixture->scratch);
  imaging_remove_tree (fixture->out_dir);
  g_free (fixture->scratch);
  g_free (fixture->out_dir);
}

static void
assert_dir_empty (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  name = g_dir_read_name (dir);
  if (name != NULL)
    g_error ("%s should be empty but holds %s", path, name);
  g_dir_close (dir);
}

static RdMediaComposer *
new_composer (Fixture *fixture, const char *iso, RdMediaLayout layout, RdPartitionTable table)
{
  RdMediaComposer *composer = rd_media_composer_new (iso, layout);

  rd_media_composer_set_partition_table (composer, table);
  rd_media_composer_set_split_size (composer, 1);
  rd_media_composer_set_winpe_size (composer, 64);
  rd_media_composer_set_scratch_dir (composer, fixture->scratch);
  return composer;
}

static void
compose_ok (RdMediaComposer *composer)
{
  g_autoptr (GError) error = NULL;
  guint64 done = 0, total = 0;
  struct stat st;

  rd_media_composer_prepare (composer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rd_media_composer_get_scratch_needed (composer), >, 0);
  rd_media_composer_compose (composer, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpint (rd_media_composer_get_progress (composer, &done, &total), ==,
                   RD_COMPOSE_STEP_DONE);
  g_assert_cmpuint (total, >, 0);
  g_assert_cmpuint (done, ==, total);
  g_assert_cmpint (stat (rd_media_composer_get_image_path (composer), &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, ==, rd_media_composer_get_image_size (composer));
  /* Sparse: only what was written takes room. */
  g_assert_cmpuint ((guint64) st.st_blocks * 512, <, (guint64) st.st_size);
}

/* Saves next to the scratch folder (a rename) and, where /dev/shm is another file system, across
 * file systems (a copy that keeps the holes); the scratch folder is empty afterwards. */
static char *
save_and_check_sparse (Fixture *fixture, RdMediaComposer *composer, gboolean across)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  char *path;
  struct stat st, st_dir, st_shm;
  guint64 size = rd_media_composer_get_image_size (composer);

  if (across && stat ("/dev/shm", &st_shm) == 0 && stat (fixture->scratch, &st_dir) == 0 &&
      st_shm.st_dev != st_dir.st_dev && access ("/dev/shm", W_OK) == 0)
    {
      dir = g_strdup_printf ("/dev/shm/rd-compose-%d", getpid ());
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      path = g_build_filename (dir, "key.img", NULL);
    }
  else
    {
      if (across)
        g_test_message ("/dev/shm is not another writable file system: saving by rename only");
      path = g_build_filename (fixture->out_dir, "key.img", NULL);
    }

  rd_media_composer_save (composer, path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rd_media_composer_get_image_path (composer), ==, path);
  assert_dir_empty (fixture->scratch);
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, ==, size);
  g_assert_cmpuint ((guint64) st.st_blocks * 512, <, size);
  return path;
}

static void
test_setup (Fixture *fixture, gconstpointer data)
{
  RdPartitionTable table = GPOINTER_TO_INT (data);
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, media.iso, RD_MEDIA_LAYOUT_SETUP,
                                                       table);
  const char *const trees[] = { media.tree, NULL };
  const RdTestComposedPartition parts[] = { { "CCCOMA_X64F", TRUE, trees } };
  g_autofree char *saved = NULL;

  compose_ok (composer);
  g_assert_cmpstr (rd_media_composer_get_volume_label (composer), ==, "CCCOMA_X64FRE");
  rd_test_check_composed_image (rd_media_composer_get_image_path (composer), table, parts, 1);

  saved = save_and_check_sparse (fixture, composer, table == RD_PARTITION_TABLE_GPT);
  rd_test_check_composed_image (saved, table, parts, 1);
  g_clear_object (&composer);
  /* The saved image is the caller's: finalize leaves it. */
  g_assert_true (g_file_test (saved, G_FILE_TEST_IS_REGULAR));
  if (g_str_has_prefix (saved, "/dev/shm/"))
    {
      g_autofree char *dir = g_path_get_dirname (saved);

      imaging_remove_tree (dir);
    }
}

/* Under the split size install.wim is copied whole, streamed into mcopy: from a UDF ISO with
 * splice(2) straight from the ISO file, from an ISO 9660 one (data) through libarchive. */
static void
test_setup_no_split (Fixture *fixture, gconstpointer data)
{
  RdTestIsoFlags flags = GPOINTER_TO_INT (data);
  g_autofree char *own_tree = NULL;
  g_autofree char *own_iso = flags != 0 ? make_iso ("no-split", 6, flags, &own_tree) : NULL;
  const char *iso = own_iso != NULL ? own_iso : media.iso;
  const char *tree = own_tree != NULL ? own_tree : media.tree;
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, iso, RD_MEDIA_LAYOUT_SETUP,
                                                       RD_PARTITION_TABLE_GPT);
  const char *const trees[] = { tree, NULL };
  const RdTestComposedPartition parts[] = { { "CCCOMA_X64F", TRUE, trees } };
  g_autofree char *install = g_build_filename (tree, "sources", "install.wim", NULL);
  struct stat st;

  g_assert_cmpint (stat (install, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, >=, 4 * MIB);
  rd_media_composer_set_split_size (composer, RD_MEDIA_COMPOSER_DEFAULT_SPLIT_MIB);
  compose_ok (composer);
  rd_test_check_composed_image (rd_media_composer_get_image_path (composer), RD_PARTITION_TABLE_GPT,
                                parts, 1);
  rd_media_composer_cleanup (composer);
  assert_dir_empty (fixture->scratch);
}

static void
test_winpe_images (Fixture *fixture, gconstpointer data)
{
  RdPartitionTable table = GPOINTER_TO_INT (data);
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, media.iso,
                                                       RD_MEDIA_LAYOUT_WINPE_IMAGES, table);
  const char *const iso_trees[] = { media.tree, NULL };
  const char *const payloads[] = { media.oem, media.universal, NULL };
  const RdTestComposedPartition parts[] = { { "WINPE", TRUE, iso_trees },
                                            { "IMAGES", FALSE, payloads } };

  rd_media_composer_add_payload (composer, media.oem);
  rd_media_composer_add_payload (composer, media.universal);
  compose_ok (composer);
  /* WINPE is at least the size asked for. */
  g_assert_cmpuint (rd_media_composer_get_image_size (composer), >, 64 * MIB + 33 * MIB);
  rd_test_check_composed_image (rd_media_composer_get_image_path (composer), table, parts, 2);

  /* Cleaning up removes everything made. */
  rd_media_composer_cleanup (composer);
  g_assert_null (rd_media_composer_get_image_path (composer));
  assert_dir_empty (fixture->scratch);
}

/* Errors */

static void
assert_prepare_fails (Fixture *fixture, RdMediaComposer *composer, int code, const char *in_message)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (rd_media_composer_prepare (composer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, in_message) == NULL)
    g_error ("expected “%s” in: %s", in_message, error->message);
  assert_dir_empty (fixture->scratch);
}

static void
test_no_bootmgr (Fixture *fixture, gconstpointer data)
{
  g_autofree char *iso = make_iso ("no-bootmgr", 0, RD_TEST_ISO_NO_BOOTMGR, NULL);
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, iso, RD_MEDIA_LAYOUT_SETUP,
                                                       RD_PARTITION_TABLE_GPT);

  assert_prepare_fails (fixture, composer, RD_IMAGING_ERROR_UNSUPPORTED, "bootmgr");
}

static void
test_no_efi (Fixture *fixture, gconstpointer data)
{
  g_autofree char *iso = make_iso ("no-efi", 0, RD_TEST_ISO_NO_EFI, NULL);
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, iso, RD_MEDIA_LAYOUT_WINPE_IMAGES,
                                                       RD_PARTITION_TABLE_MBR);

  assert_prepare_fails (fixture, composer, RD_IMAGING_ERROR_UNSUPPORTED, "UEFI");
}

static void
test_solid (Fixture *fixture, gconstpointer data)
{
  g_autofree char *iso = make_iso ("solid", 4, RD_TEST_ISO_SOLID_INSTALL, NULL);
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, iso, RD_MEDIA_LAYOUT_SETUP,
                                                       RD_PARTITION_TABLE_GPT);

  assert_prepare_fails (fixture, composer, RD_IMAGING_ERROR_UNSUPPORTED, "winpe-images");

  /* Under the split size it is copied whole, solid or not. */
  rd_media_composer_set_split_size (composer, 64);
  compose_ok (composer);
  rd_media_composer_cleanup (composer);
  assert_dir_empty (fixture->scratch);
}

static void
test_payload_missing (Fixture *fixture, gconstpointer data)
{
  g_autoptr (RdMediaComposer) composer = new_composer (
    fixture, media.iso, RD_MEDIA_LAYOUT_WINPE_IMAGES, RD_PARTITION_TABLE_GPT);
  g_autofree char *missing = g_build_filename (media.dir, "no-such-folder", NULL);

  rd_media_composer_add_payload (composer, media.oem);
  rd_media_composer_add_payload (composer, missing);
  assert_prepare_fails (fixture, composer, RD_IMAGING_ERROR_NOT_FOUND, "no-such-folder");
}

/* A symbolic link back up the payload tree is refused, not walked for ever. */
static void
test_payload_loop (Fixture *fixture, gconstpointer data)
{
  g_autoptr (RdMediaComposer) composer = new_composer (
    fixture, media.iso, RD_MEDIA_LAYOUT_WINPE_IMAGES, RD_PARTITION_TABLE_GPT);
  g_autofree char *payload = g_build_filename (fixture->out_dir, "payload", NULL);
  g_autofree char *file = g_build_filename (payload, "Images", "readme.txt", NULL);
  g_autofree char *link = g_build_filename (payload, "Images", "again", NULL);

  make_text (file, "loop");
  g_assert_cmpint (symlink (payload, link), ==, 0);
  rd_media_composer_add_payload (composer, payload);
  assert_prepare_fails (fixture, composer, RD_IMAGING_ERROR_UNSUPPORTED, "symbolic link");
}

static void
test_payload_in_setup (Fixture *fixture, gconstpointer data)
{
  g_autoptr (RdMediaComposer) composer = new_composer (fixture, media.iso, RD_MEDIA_LAYOUT_SETUP,
                                                       RD_PARTITION_TABLE_GPT);

  rd_media_composer_add_payload (composer, media.oem);
  assert_prepare_fails (fixture, composer, RD_IMAGING_ERROR_UNSUPPORTED, "winpe-images");
}

/* A scratch folder on a 4 MiB tmpfs: the check happens before anything is written. */
static void
test_scratch_too_small (Fixture *fixture, gconstpointer data)
{
  g_autofree char *mount = g_strdup_printf ("mount -t tmpfs -o size=4m rd-compose-test %s",
                                            fixture->scratch);
  g_autofree char *umount = g_strdup_printf ("umount %s", fixture->scratch);
  int status = 0;

  if (getuid () != 0 || !g_spawn_command_line_sync (mount, NULL, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    {
      g_test_skip ("needs root to mount a small tmpfs as the scratch folder");
      return;
    }

  {
    g_autoptr (RdMediaComposer) composer = new_composer (fixture, media.iso, RD_MEDIA_LAYOUT_SETUP,
                                                         RD_PARTITION_TABLE_GPT);
    g_autoptr (GError) error = NULL;
    g_autofree char *free_size = NULL;
    g_autofree char *needed = NULL;
    struct statvfs st;

    g_assert_cmpint (statvfs (fixture->scratch, &st), ==, 0);
    free_size = g_format_size ((guint64) st.f_bavail * st.f_frsize);
    g_assert_false (rd_media_composer_prepare (composer, NULL, &error));
    g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL);
    g_test_message ("%s", error->message);
    needed = g_format_size (rd_media_composer_get_scratch_needed (composer));
    /* Both sizes named, and what to do. */
    g_assert_nonnull (strstr (error->message, needed));
    g_assert_nonnull (strstr (error->message, free_size));
    g_assert_nonnull (strstr (error->message, "RECOVERY_DESK_SCRATCH"));
    assert_dir_empty (fixture->scratch);
  }
  imaging_run (umount);
}

/* A payload file gone between prepare and compose: compose fails and leaves nothing behind. */
static void
test_compose_fails (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *payload = g_build_filename (fixture->out_dir, "payload", NULL);
  g_autofree char *file = g_build_filename (payload, "Images", "gone.txt", NULL);
  g_autoptr (RdMediaComposer) composer = new_composer (
    fixture, media.iso, RD_MEDIA_LAYOUT_WINPE_IMAGES, RD_PARTITION_TABLE_GPT);

  make_text (file, "here at prepare");
  rd_media_composer_add_payload (composer, payload);
  rd_media_composer_prepare (composer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (file), ==, 0);

  g_assert_false (rd_media_composer_compose (composer, NULL, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_null (rd_media_composer_get_image_path (composer));
  assert_dir_empty (fixture->scratch);
}

/* Cancelling */

typedef struct
{
  RdMediaComposer *composer;
  GCancellable *cancellable;
  GError *error;
  gboolean ok;
} ComposeThread;

static gpointer
compose_thread (gpointer data)
{
  ComposeThread *run = data;

  run->ok = rd_media_composer_compose (run->composer, run->cancellable, &run->error);
  return NULL;
}

/* Cancels once the composer is at @step with bytes moved: mid-split (extracting or wimlib
 * writing parts) or mid-copy (mcopy reading a streamed file, or the one for the staged tree). */
static void
test_cancel (Fixture *fixture, gconstpointer data)
{
  RdComposeStep at = GPOINTER_TO_INT (data);
  g_autoptr (RdMediaComposer) composer = new_composer (
    fixture, media.big_iso, RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_GPT);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  ComposeThread run = { composer, cancellable, NULL, FALSE };
  GThread *thread;
  RdComposeStep step = RD_COMPOSE_STEP_PREPARING;
  gboolean seen = FALSE;

  /* Split at 16 MiB (64 MiB, four parts) or not at all (streamed whole). */
  rd_media_composer_set_split_size (composer, at == RD_COMPOSE_STEP_SPLITTING ? 16 : 4094);
  rd_media_composer_prepare (composer, NULL, &error);
  g_assert_no_error (error);

  thread = g_thread_new ("compose", compose_thread, &run);
  while (step != RD_COMPOSE_STEP_DONE)
    {
      guint64 done = 0, total = 0;

      step = rd_media_composer_get_progress (composer, &done, &total);
      g_assert_cmpuint (done, <=, total);
      if (step == at && (at == RD_COMPOSE_STEP_SPLITTING || done > 0))
        {
          g_cancellable_cancel (cancellable);
          seen = TRUE;
          break;
        }
      g_usleep (500);
    }
  g_thread_join (thread);

  g_assert_true (seen);
  g_assert_false (run.ok);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);
  g_assert_null (rd_media_composer_get_image_path (composer));
  assert_dir_empty (fixture->scratch);

  /* Cancelled before it starts: nothing is made. */
  rd_media_composer_compose (composer, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_dir_empty (fixture->scratch);
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data)                                                                      \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  ADD ("/rd/media-composer/setup/gpt", test_setup, GINT_TO_POINTER (RD_PARTITION_TABLE_GPT));
  ADD ("/rd/media-composer/setup/mbr", test_setup, GINT_TO_POINTER (RD_PARTITION_TABLE_MBR));
  ADD ("/rd/media-composer/setup/no-split", test_setup_no_split, NULL);
  ADD ("/rd/media-composer/setup/no-split-iso9660", test_setup_no_split,
       GINT_TO_POINTER (RD_TEST_ISO_JOLIET_ONLY));
  ADD ("/rd/media-composer/winpe-images/gpt", test_winpe_images,
       GINT_TO_POINTER (RD_PARTITION_TABLE_GPT));
  ADD ("/rd/media-composer/winpe-images/mbr", test_winpe_images,
       GINT_TO_POINTER (RD_PARTITION_TABLE_MBR));
  ADD ("/rd/media-composer/error/no-bootmgr", test_no_bootmgr, NULL);
  ADD ("/rd/media-composer/error/no-efi", test_no_efi, NULL);
  ADD ("/rd/media-composer/error/solid-wim", test_solid, NULL);
  ADD ("/rd/media-composer/error/payload-missing", test_payload_missing, NULL);
  ADD ("/rd/media-composer/error/payload-loop", test_payload_loop, NULL);
  ADD ("/rd/media-composer/error/payload-in-setup", test_payload_in_setup, NULL);
  ADD ("/rd/media-composer/error/scratch-too-small", test_scratch_too_small, NULL);
  ADD ("/rd/media-composer/error/compose-fails", test_compose_fails, NULL);
  ADD ("/rd/media-composer/cancel/splitting", test_cancel,
       GINT_TO_POINTER (RD_COMPOSE_STEP_SPLITTING));
  ADD ("/rd/media-composer/cancel/copying", test_cancel, GINT_TO_POINTER (RD_COMPOSE_STEP_COPYING));

#undef ADD

  ret = g_test_run ();
  if (media.dir != NULL)
    imaging_remove_tree (media.dir);
  return ret;
}
