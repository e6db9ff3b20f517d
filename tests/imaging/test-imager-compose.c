/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging-test"

#include "config.h"

#include "rd-drive-monitor.h"
#include "rd-imager-process.h"
#include "rd-imager-progress.h"

#include "imaging-test-common.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* `recovery-desk-imager compose` end to end: the real helper (RD_IMAGER) composes keys from a
 * Windows-like UDF ISO made at test time, onto --output files and onto loop devices through a
 * real udisksd (run the suite through udisks-session.sh, as root; without UDisks those cases
 * skip), and each result is checked as an outsider would (rd_test_check_composed_image). The
 * scratch folder must be empty after every run, refused, failed or killed. */

#define MIB (1024 * 1024)
/* Small parts, so that the fixture's WIMs really are split. */
#define SPLIT_MIB 2
#define INSTALL_MIB 6
#define PAYLOAD_MIB 6

/* Made once: the ISO and the payload folders are read-only inputs to every case. */
static char *shared_dir;
static char *shared_iso;
static char *shared_tree;
static char *payload_universal;
static char *payload_oem;

typedef struct
{
  char *dir;
  char *scratch;
  RdDriveMonitor *monitor;
  GPtrArray *loops; /* object paths */
} Fixture;

typedef struct
{
  RdMediaLayout layout;
  RdPartitionTable table;
} Case;

static const Case cases[] = {
  { RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_GPT },
  { RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_MBR },
  { RD_MEDIA_LAYOUT_WINPE_IMAGES, RD_PARTITION_TABLE_GPT },
  { RD_MEDIA_LAYOUT_WINPE_IMAGES, RD_PARTITION_TABLE_MBR },
};

static const char *
layout_arg (RdMediaLayout layout)
{
  return layout == RD_MEDIA_LAYOUT_SETUP ? "setup" : "winpe-images";
}

static const char *
table_arg (RdPartitionTable table)
{
  return table == RD_PARTITION_TABLE_MBR ? "mbr" : "gpt";
}

/* Everything below @path, recursively, as "a/b" lines; "" when it is empty or gone. */
static char *
list_tree (const char *path)
{
  GString *out = g_string_new (NULL);
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *below = list_tree (child);

      g_string_append_printf (out, "%s\n%s", child, below);
    }
  if (dir != NULL)
    g_dir_close (dir);
  return g_string_free (out, FALSE);
}

static void
assert_scratch_empty (Fixture *f)
{
  g_autofree char *left = list_tree (f->scratch);

  if (left[0] != '\0')
    g_error ("the scratch folder still holds:\n%s", left);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("rd-compose-XXXXXX", &error);
  g_assert_no_error (error);
  f->scratch = g_build_filename (f->dir, "scratch", NULL);
  g_assert_cmpint (g_mkdir (f->scratch, 0755), ==, 0);
  f->loops = g_ptr_array_new_with_free_func (g_free);
  if (imaging_have_udisks ())
    {
      f->monitor = rd_drive_monitor_new (NULL, &error);
      g_assert_no_error (error);
    }
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->loops->len; i++)
    imaging_loop_delete (g_ptr_array_index (f->loops, i));
  g_ptr_array_unref (f->loops);
  if (f->monitor != NULL)
    g_assert_finalize_object (f->monitor);
  imaging_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->scratch);
}

/* The helper */

/* A Windows-like ISO with an install.wim of @install_mib MiB, in a new folder @name of the
 * fixture's. */
static char *
make_iso (Fixture *f, const char *name, const char *label, guint install_mib, RdTestIsoFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (f->dir, name, NULL);
  char *iso;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  iso = rd_test_make_windows_iso (dir, label, install_mib, flags, NULL, &error);
  g_assert_no_error (error);
  return iso;
}

/* The compose command line for @c, with --scratch; the caller adds targets or --output. */
static GPtrArray *
compose_argv (Fixture *f, const char *iso, RdMediaLayout layout, RdPartitionTable table)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (g_getenv ("RD_IMAGER")));
  g_ptr_array_add (argv, g_strdup ("compose"));
  g_ptr_array_add (argv, g_strdup ("--iso"));
  g_ptr_array_add (argv, g_strdup (iso));
  g_ptr_array_add (argv, g_strdup ("--layout"));
  g_ptr_array_add (argv, g_strdup (layout_arg (layout)));
  g_ptr_array_add (argv, g_strdup ("--table"));
  g_ptr_array_add (argv, g_strdup (table_arg (table)));
  g_ptr_array_add (argv, g_strdup_printf ("--split-size=%u", SPLIT_MIB));
  g_ptr_array_add (argv, g_strdup_printf ("--scratch=%s", f->scratch));
  g_ptr_array_add (argv, g_strdup ("--progress=json"));
  if (layout == RD_MEDIA_LAYOUT_WINPE_IMAGES)
    {
      g_ptr_array_add (argv, g_strdup_printf ("--payload=%s", payload_universal));
      g_ptr_array_add (argv, g_strdup_printf ("--payload=%s", payload_oem));
      /* The WINPE partition no bigger than the fixture ISO needs, so the keys stay small. */
      g_ptr_array_add (argv, g_strdup ("--winpe-size=64"));
    }
  return argv;
}

/* Runs the helper; returns its exit status, its stdout in @out and stderr in @err. */
static int
run_argv (GPtrArray *argv, char **out, char **err)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ignored_out = NULL;
  g_autofree char *ignored_err = NULL;
  int status;

  g_ptr_array_add (argv, NULL);
  /* Standard output is captured always: it must not mix into this test's TAP output. */
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                out != NULL ? out : &ignored_out, err != NULL ? err : &ignored_err, &status,
                &error);
  g_assert_no_error (error);
  g_ptr_array_remove_index (argv, argv->len - 1);
  g_assert_true (WIFEXITED (status));
  if (err != NULL && *err != NULL && **err != '\0')
    g_test_message ("helper stderr: %s", *err);
  return WEXITSTATUS (status);
}

static GPtrArray *
parse_events (const char *out)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_imager_event_unref);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      RdImagerEvent *event;

      if (lines[i][0] == '\0')
        continue;
      event = rd_imager_event_parse (lines[i], -1, &error);
      g_assert_no_error (error);
      g_ptr_array_add (events, event);
    }
  return events;
}

static RdImagerEvent *
event_at (GPtrArray *events, guint i)
{
  g_assert_cmpuint (i, <, events->len);
  return events->pdata[i];
}

static guint
count_type (GPtrArray *events, RdImagerEventType type)
{
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    if (event_at (events, i)->type == type)
      n++;
  return n;
}

/* compose-start, compose-progress…, compose-done, then (unless @output) write's own start,
 * phase/progress…, done: in this order, each kind where it belongs. Returns compose-start. */
static RdImagerEvent *
assert_event_order (GPtrArray *events, const Case *c, gboolean output)
{
  RdImagerEvent *start = event_at (events, 0);
  guint i = 1;

  g_assert_cmpint (start->type, ==, RD_IMAGER_EVENT_COMPOSE_START);
  g_assert_cmpstr (start->layout, ==, layout_arg (c->layout));
  g_assert_cmpstr (start->table, ==, table_arg (c->table));
  g_assert_cmpuint (start->split_size, ==, (guint64) SPLIT_MIB * MIB);
  g_assert_cmpstr (start->iso, ==, shared_iso);
  g_assert_nonnull (start->volume_label);
  g_assert_true (g_str_has_prefix ("CCCOMA_X64FRE", start->volume_label));
  /* Whole MiB partitions, and the backup GPT after the last one. */
  g_assert_cmpuint (start->image_size % MIB, ==, c->table == RD_PARTITION_TABLE_GPT ? 33 * 512 : 0);

  while (event_at (events, i)->type == RD_IMAGER_EVENT_COMPOSE_PROGRESS)
    {
      RdImagerEvent *progress = event_at (events, i++);

      g_assert_cmpuint (progress->bytes, <=, progress->total);
    }
  g_assert_cmpint (event_at (events, i)->type, ==, RD_IMAGER_EVENT_COMPOSE_DONE);
  g_assert_cmpuint (event_at (events, i)->image_size, ==, start->image_size);
  g_assert_cmpfloat (event_at (events, i)->seconds, >, 0);
  i++;

  if (output)
    {
      g_assert_cmpuint (i, ==, events->len);
      return start;
    }

  g_assert_cmpint (event_at (events, i)->type, ==, RD_IMAGER_EVENT_START);
  g_assert_cmpuint (event_at (events, i)->total, ==, start->image_size);
  for (i++; i + 1 < events->len; i++)
    {
      RdImagerEventType type = event_at (events, i)->type;

      g_assert_true (type == RD_IMAGER_EVENT_PHASE || type == RD_IMAGER_EVENT_PROGRESS);
    }
  g_assert_cmpint (event_at (events, i)->type, ==, RD_IMAGER_EVENT_DONE);
  g_assert_true (event_at (events, i)->verified);
  g_assert_true (rd_imager_event_get_target (event_at (events, i), 0)->ok);
  g_assert_cmpuint (event_at (events, i)->bytes, ==, start->image_size);
  return start;
}

/* What the helper's image must hold, checked by rd_test_check_composed_image; @size is the
 * image's own size, when @path is a larger key that holds it at its start. */
static void
check_image (const char *path, const Case *c, guint64 size)
{
  const char *iso_trees[] = { shared_tree, NULL };
  const char *payload_trees[] = { payload_universal, payload_oem, NULL };
  const RdTestComposedPartition setup[] = { { "CCCOMA_X64F", TRUE, iso_trees } };
  const RdTestComposedPartition winpe[] = { { "WINPE", TRUE, iso_trees },
                                            { "IMAGES", FALSE, payload_trees } };
  g_autofree char *copy = NULL;
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  if ((guint64) st.st_size > size)
    {
      g_autofree char *cmd = NULL;

      /* The checker wants the image alone: what the key holds up to the image's end. */
      copy = g_strdup_printf ("%s.head", path);
      cmd = g_strdup_printf ("dd if='%s' of='%s' bs=1M count=%" G_GUINT64_FORMAT
                             " iflag=count_bytes conv=sparse status=none",
                             path, copy, size);
      imaging_run (cmd);
      path = copy;
    }
  if (c->layout == RD_MEDIA_LAYOUT_SETUP)
    rd_test_check_composed_image (path, c->table, setup, G_N_ELEMENTS (setup));
  else
    rd_test_check_composed_image (path, c->table, winpe, G_N_ELEMENTS (winpe));
  if (copy != NULL)
    g_unlink (copy);
}

static const char *
case_name (const Case *c)
{
  g_autofree char *name = g_strdup_printf ("%s-%s", layout_arg (c->layout), table_arg (c->table));

  return g_intern_string (name);
}

/* Onto --output files: both layouts and both tables. */
static void
test_output (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      g_autofree char *image = g_strdup_printf ("%s/%s.img", f->dir, case_name (c));
      g_autoptr (GPtrArray) argv = compose_argv (f, shared_iso, c->layout, c->table);
      g_autoptr (GPtrArray) events = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      RdImagerEvent *start;
      struct stat st;

      g_test_message ("%s", case_name (c));
      g_ptr_array_add (argv, g_strdup_printf ("--output=%s", image));
      g_assert_cmpint (run_argv (argv, &out, &err), ==, 0);
      events = parse_events (out);
      start = assert_event_order (events, c, TRUE);
      g_assert_cmpstr (event_at (events, events->len - 1)->output, ==, image);
      g_assert_cmpint (g_stat (image, &st), ==, 0);
      g_assert_cmpuint (st.st_size, ==, start->image_size);
      check_image (image, c, start->image_size);
      assert_scratch_empty (f);
      g_unlink (image);
    }
}

/* Onto a loop device through UDisks: the same checks on what the key holds. */
static void
test_loop (Fixture *f, gconstpointer data)
{
  if (!imaging_need_udisks ())
    return;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      g_autofree char *backing = NULL;
      g_autoptr (RdDrive) drive = imaging_add_stick (f->monitor, f->dir, f->loops, 256 * MIB,
                                                     &backing);
      g_autoptr (GPtrArray) argv = compose_argv (f, shared_iso, c->layout, c->table);
      g_autoptr (GPtrArray) events = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      g_test_message ("%s onto %s", case_name (c), rd_drive_get_device (drive));
      g_ptr_array_add (argv, g_strdup ("--yes"));
      g_ptr_array_add (argv, g_strdup (rd_drive_get_object_path (drive)));
      g_assert_cmpint (run_argv (argv, &out, &err), ==, 0);
      events = parse_events (out);
      check_image (backing, c, assert_event_order (events, c, FALSE)->image_size);
      assert_scratch_empty (f);
    }
}

/* A block device target needs --yes; nothing is composed or written without it. */
static void
test_needs_yes (Fixture *f, gconstpointer data)
{
  g_autofree char *backing = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!imaging_need_udisks ())
    return;
  drive = imaging_add_stick (f->monitor, f->dir, f->loops, 256 * MIB, &backing);
  argv = compose_argv (f, shared_iso, RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_GPT);
  g_ptr_array_add (argv, g_strdup (rd_drive_get_device (drive)));
  g_assert_cmpint (run_argv (argv, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--yes"));
  g_assert_null (strstr (out, "compose-start"));
  g_assert_cmpuint (imaging_byte_at (backing, 0), ==, IMAGING_STICK_MARK);
  assert_scratch_empty (f);
}

/* A key smaller than the composed image: exit 4 before composing, the key untouched. */
static void
test_too_small (Fixture *f, gconstpointer data)
{
  g_autofree char *backing = NULL;
  g_autoptr (RdDrive) drive = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  RdImagerEvent *last;

  if (!imaging_need_udisks ())
    return;
  drive = imaging_add_stick (f->monitor, f->dir, f->loops, 8 * MIB, &backing);
  argv = compose_argv (f, shared_iso, RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_GPT);
  g_ptr_array_add (argv, g_strdup ("--yes"));
  g_ptr_array_add (argv, g_strdup (rd_drive_get_object_path (drive)));
  g_assert_cmpint (run_argv (argv, &out, &err), ==, 4);
  events = parse_events (out);
  g_assert_cmpuint (events->len, ==, 1);
  last = event_at (events, 0);
  g_assert_cmpint (last->type, ==, RD_IMAGER_EVENT_ERROR);
  g_assert_cmpstr (last->code, ==, "too-small");
  g_assert_nonnull (strstr (last->message, "too small"));
  g_assert_nonnull (strstr (last->message, rd_drive_get_device (drive)));
  g_assert_cmpuint (count_type (events, RD_IMAGER_EVENT_COMPOSE_START), ==, 0);
  g_assert_cmpuint (imaging_byte_at (backing, 0), ==, IMAGING_STICK_MARK);
  assert_scratch_empty (f);
}

/* Runs a compose that must be refused before anything is made; returns the error event. */
static RdImagerEvent *
run_refused (Fixture *f, GPtrArray *argv, int expected_status)
{
  g_autofree char *image = g_build_filename (f->dir, "refused.img", NULL);
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  RdImagerEvent *last;

  g_ptr_array_add (argv, g_strdup_printf ("--output=%s", image));
  g_assert_cmpint (run_argv (argv, &out, &err), ==, expected_status);
  events = parse_events (out);
  g_assert_cmpuint (events->len, ==, 1);
  last = event_at (events, 0);
  g_assert_cmpint (last->type, ==, RD_IMAGER_EVENT_ERROR);
  /* The same message on stderr, for a person at a terminal. */
  g_assert_nonnull (strstr (err, last->message));
  g_assert_false (g_file_test (image, G_FILE_TEST_EXISTS));
  assert_scratch_empty (f);
  return rd_imager_event_ref (last);
}

/* No efi/boot/bootx64.efi: the key would not boot on UEFI; refused (4) before writing. */
static void
test_no_boot_files (Fixture *f, gconstpointer data)
{
  g_autofree char *iso = make_iso (f, "no-efi", "NOEFI", 1, RD_TEST_ISO_NO_EFI);
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (RdImagerEvent) refusal = NULL;

  argv = compose_argv (f, iso, RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_GPT);
  refusal = run_refused (f, argv, 4);
  g_assert_cmpstr (refusal->code, ==, "unsupported");
  g_assert_nonnull (strstr (refusal->message, "UEFI"));
}

/* A solid install.esd over the split size cannot be split: refused (4), pointing to
 * winpe-images. */
static void
test_solid_wim (Fixture *f, gconstpointer data)
{
  g_autofree char *iso = make_iso (f, "solid", "SOLID", 2 * SPLIT_MIB, RD_TEST_ISO_SOLID_INSTALL);
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (RdImagerEvent) refusal = NULL;

  argv = compose_argv (f, iso, RD_MEDIA_LAYOUT_SETUP, RD_PARTITION_TABLE_GPT);
  refusal = run_refused (f, argv, 4);
  g_assert_cmpstr (refusal->code, ==, "unsupported");
  g_assert_nonnull (strstr (refusal->message, "winpe-images"));
}

/* A payload folder that does not exist: exit 1, named. */
static void
test_missing_payload (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "no-such-folder", NULL);
  g_autoptr (GPtrArray) argv = compose_argv (f, shared_iso, RD_MEDIA_LAYOUT_WINPE_IMAGES,
                                             RD_PARTITION_TABLE_GPT);
  g_autoptr (RdImagerEvent) refusal = NULL;

  g_ptr_array_add (argv, g_strdup_printf ("--payload=%s", missing));
  refusal = run_refused (f, argv, 1);
  g_assert_nonnull (strstr (refusal->message, "no-such-folder"));
}

/* Too little free space for the scratch image: refused (4), both sizes named. The scratch
 * folder is a 4 MiB tmpfs in a mount namespace of the helper's own, which needs root. */
static void
test_scratch_space (Fixture *f, gconstpointer data)
{
  g_autofree char *unshare = g_find_program_in_path ("unshare");
  g_autofree char *image = g_build_filename (f->dir, "refused.img", NULL);
  g_autofree char *script = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  RdImagerEvent *last;
  int status;

  if (getuid () != 0 || unshare == NULL)
    {
      g_test_skip ("needs root and unshare(1) for a small private tmpfs");
      return;
    }

  script = g_strdup_printf ("mount -t tmpfs -o size=4m rd-scratch '%s' && exec \"$@\"", f->scratch);
  argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup (unshare));
  g_ptr_array_add (argv, g_strdup ("--mount"));
  g_ptr_array_add (argv, g_strdup ("--propagation=private"));
  g_ptr_array_add (argv, g_strdup ("sh"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup ("sh"));
  {
    g_autoptr (GPtrArray) compose = compose_argv (f, shared_iso, RD_MEDIA_LAYOUT_SETUP,
                                                  RD_PARTITION_TABLE_GPT);

    for (guint i = 0; i < compose->len; i++)
      g_ptr_array_add (argv, g_strdup (compose->pdata[i]));
  }
  g_ptr_array_add (argv, g_strdup_printf ("--output=%s", image));

  status = run_argv (argv, &out, &err);
  if (status != 4 && strstr (err, "mount") != NULL)
    {
      g_test_skip ("could not mount a tmpfs here");
      return;
    }
  g_assert_cmpint (status, ==, 4);
  events = parse_events (out);
  g_assert_cmpuint (events->len, ==, 1);
  last = event_at (events, 0);
  g_assert_cmpstr (last->code, ==, "too-small");
  g_assert_nonnull (strstr (last->message, f->scratch));
  g_assert_false (g_file_test (image, G_FILE_TEST_EXISTS));
  /* The tmpfs went with the helper's namespace; the real folder below it stays empty. */
  assert_scratch_empty (f);
}

/* Usage errors: exit 2, nothing made. */
static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (f->dir, "x.img", NULL);
  static const char *const bad[][4] = {
    { "--layout=setup", NULL },                            /* neither --output nor targets */
    { "--layout=setup", "--table=apm", "--output", NULL }, /* unknown table */
    { "--layout=wrong", "--output", NULL },
    { "--layout=setup", "--payload=/tmp", "--output", NULL }, /* payloads are for winpe-images */
    { "--layout=setup", "--split-size=4096", "--output", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *err = NULL;

      g_ptr_array_add (argv, g_strdup (g_getenv ("RD_IMAGER")));
      g_ptr_array_add (argv, g_strdup ("compose"));
      g_ptr_array_add (argv, g_strdup_printf ("--iso=%s", shared_iso));
      g_ptr_array_add (argv, g_strdup_printf ("--scratch=%s", f->scratch));
      for (guint j = 0; bad[i][j] != NULL; j++)
        {
          if (g_str_equal (bad[i][j], "--output"))
            g_ptr_array_add (argv, g_strdup_printf ("--output=%s", image));
          else
            g_ptr_array_add (argv, g_strdup (bad[i][j]));
        }
      g_assert_cmpint (run_argv (argv, NULL, &err), ==, 2);
      g_assert_cmpstr (err, !=, "");
      g_assert_false (g_file_test (image, G_FILE_TEST_EXISTS));
    }
  assert_scratch_empty (f);
}

/* inspect lists what each layout makes of the ISO; write refuses it and points to compose. */
static void
test_inspect_and_write (Fixture *f, gconstpointer data)
{
  g_autofree char *key = g_build_filename (f->dir, "key.img", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  JsonArray *layouts;

  g_ptr_array_add (argv, g_strdup (g_getenv ("RD_IMAGER")));
  g_ptr_array_add (argv, g_strdup ("inspect"));
  g_ptr_array_add (argv, g_strdup ("--json"));
  g_ptr_array_add (argv, g_strdup (shared_iso));
  g_assert_cmpint (run_argv (argv, &out, &err), ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  layouts = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "layouts");
  g_assert_cmpuint (json_array_get_length (layouts), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *layout = json_array_get_object_element (layouts, i);

      g_assert_cmpstr (json_object_get_string_member (layout, "layout"), ==,
                       i == 0 ? "setup" : "winpe-images");
      g_assert_cmpint (json_object_get_int_member (layout, "image_size"), >,
                       (gint64) INSTALL_MIB * MIB);
    }
  g_assert_nonnull (strstr (
    json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "refusal"),
    "recovery-desk-imager compose --iso"));

  g_ptr_array_set_size (argv, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_ptr_array_add (argv, g_strdup ("write"));
  g_ptr_array_add (argv, g_strdup ("--progress=json"));
  g_ptr_array_add (argv, g_strdup (shared_iso));
  g_ptr_array_add (argv, g_strdup (key));
  g_assert_cmpint (run_argv (argv, &out, &err), ==, 4);
  g_assert_nonnull (strstr (out, "\"code\":\"needs-windows-media\""));
  g_assert_nonnull (strstr (err, "recovery-desk-imager compose --iso"));
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
}

/* SIGTERM while composing, and while writing: exit 130, the scratch folder empty, the target
 * file removed. */
typedef struct
{
  GPid pid;
  const char *kill_on; /* a piece of the line to kill on */
  GString *out;
  gboolean killed;
  int status;
  gboolean exited;
  gboolean eof;
} KillRun;

static gboolean
on_stdout_cb (GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
  KillRun *run = user_data;
  char buf[4096];
  gsize n = 0;
  GIOStatus status = g_io_channel_read_chars (channel, buf, sizeof buf, &n, NULL);

  g_string_append_len (run->out, buf, n);
  if (!run->killed && strstr (run->out->str, run->kill_on) != NULL)
    {
      run->killed = TRUE;
      kill (run->pid, SIGTERM);
    }
  if (status == G_IO_STATUS_NORMAL || status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  run->eof = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_child_exit_cb (GPid pid, int status, gpointer user_data)
{
  KillRun *run = user_data;

  run->status = status;
  run->exited = TRUE;
  g_spawn_close_pid (pid);
}

static int
run_and_kill (GPtrArray *argv, const char *kill_on, char **out)
{
  g_autoptr (GError) error = NULL;
  KillRun run = { 0, kill_on, g_string_new (NULL), FALSE, 0, FALSE, FALSE };
  GIOChannel *channel;
  int out_fd;

  g_ptr_array_add (argv, NULL);
  g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                            NULL, &run.pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  channel = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (channel, TRUE);
  g_io_channel_set_encoding (channel, NULL, NULL);
  /* Each line as it comes: a buffered channel would wait for 4 KiB or the end. */
  g_io_channel_set_buffered (channel, FALSE);
  g_io_channel_set_flags (channel, G_IO_FLAG_NONBLOCK, &error);
  g_assert_no_error (error);
  g_io_add_watch (channel, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdout_cb, &run);
  g_child_watch_add (run.pid, on_child_exit_cb, &run);
  /* Until it has exited and all its output is read. */
  while (!run.exited || !run.eof)
    g_main_context_iteration (NULL, TRUE);
  g_io_channel_unref (channel);

  g_assert_true (run.killed);
  *out = g_string_free (run.out, FALSE);
  g_assert_true (WIFEXITED (run.status));
  return WEXITSTATUS (run.status);
}

static void
test_sigterm (Fixture *f, gconstpointer data)
{
  g_autofree char *iso = NULL;
  g_autofree char *image = g_build_filename (f->dir, "killed.img", NULL);
  g_autofree char *key = g_build_filename (f->dir, "key.img", NULL);
  g_autofree char *out = NULL;

  /* Big enough that composing and writing each take longer than a progress tick. */
  iso = make_iso (f, "big", "BIG", 256, 0);

  {
    g_autoptr (GPtrArray) argv = compose_argv (f, iso, RD_MEDIA_LAYOUT_SETUP,
                                               RD_PARTITION_TABLE_GPT);

    g_ptr_array_add (argv, g_strdup_printf ("--output=%s", image));
    /* The first progress tick comes 200 ms into composing, which takes seconds here: the
     * scratch image exists by then. */
    g_assert_cmpint (run_and_kill (argv, "\"compose-progress\"", &out), ==, 130);
    g_assert_nonnull (strstr (out, "\"code\":\"cancelled\""));
    g_assert_null (strstr (out, "compose-done"));
    g_assert_false (g_file_test (image, G_FILE_TEST_EXISTS));
    assert_scratch_empty (f);
    g_clear_pointer (&out, g_free);
  }

  {
    g_autoptr (GPtrArray) argv = compose_argv (f, iso, RD_MEDIA_LAYOUT_SETUP,
                                               RD_PARTITION_TABLE_GPT);

    /* A regular file as the key: the writer removes it when cancelled. */
    g_ptr_array_add (argv, g_strdup (key));
    g_assert_cmpint (run_and_kill (argv, "\"event\":\"start\"", &out), ==, 130);
    g_assert_nonnull (strstr (out, "compose-done"));
    g_assert_null (strstr (out, "\"event\":\"done\""));
    g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
    assert_scratch_empty (f);
  }
}

/* RdImagerProcess follows a compose run: its events, compose-start and compose-done kept, the
 * key (a regular file) written and verified. */
static void
on_compose_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
on_event_cb (RdImagerProcess *process, RdImagerEvent *event, GPtrArray *events)
{
  g_ptr_array_add (events, rd_imager_event_ref (event));
}

static void
test_process (Fixture *f, gconstpointer data)
{
  g_autoptr (RdImagerProcess) process = rd_imager_process_new ();
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func (
    (GDestroyNotify) rd_imager_event_unref);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = g_build_filename (f->dir, "key.img", NULL);
  const char *payloads[] = { payload_universal, payload_oem, NULL };
  const char *targets[] = { key, NULL };
  RdImagerComposeOptions options = {
    .iso = shared_iso,
    .layout = RD_MEDIA_LAYOUT_WINPE_IMAGES,
    .table = RD_PARTITION_TABLE_MBR,
    .payloads = payloads,
    .split_mib = SPLIT_MIB,
    .winpe_mib = 64,
    .scratch_dir = f->scratch,
  };
  const Case c = { RD_MEDIA_LAYOUT_WINPE_IMAGES, RD_PARTITION_TABLE_MBR };
  RdImagerEvent *start;

  g_signal_connect (process, "event", G_CALLBACK (on_event_cb), events);
  rd_imager_process_compose_async (process, &options, targets, NULL, on_compose_cb, &result);
  g_assert_true (rd_imager_process_get_running (process));
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (rd_imager_process_compose_finish (process, result, &error));
  g_assert_no_error (error);

  start = assert_event_order (events, &c, FALSE);
  g_assert_true (rd_imager_process_get_compose_start (process) == start);
  g_assert_nonnull (rd_imager_process_get_compose_done (process));
  g_assert_nonnull (rd_imager_process_get_done (process));
  check_image (key, &c, start->image_size);
  assert_scratch_empty (f);

  /* Refused before composing: the helper's error, with its code. */
  g_clear_object (&result);
  g_ptr_array_set_size (events, 0);
  options.split_mib = 0;
  options.iso = "/nonexistent/win.iso";
  rd_imager_process_compose_async (process, &options, targets, NULL, on_compose_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (rd_imager_process_compose_finish (process, result, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/win.iso"));
  g_assert_null (rd_imager_process_get_compose_start (process));
  g_assert_null (rd_imager_process_get_done (process));

  g_signal_handlers_disconnect_by_data (process, events);
  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&process));
}

/* Fixtures shared by every case */

static void
make_payloads (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src = g_build_filename (shared_dir, "wim-src", NULL);
  g_autofree char *blob = g_build_filename (src, "Windows", "System32", "data.bin", NULL);
  g_autofree char *images = NULL;
  g_autofree char *drivers = NULL;
  g_autofree char *oem_dir = NULL;
  g_autofree char *cmd = NULL;
  g_autofree guint8 *data = g_malloc (PAYLOAD_MIB * MIB);
  GRand *rand = g_rand_new_with_seed (11);

  payload_universal = g_build_filename (shared_dir, "universal-kit", NULL);
  payload_oem = g_build_filename (shared_dir, "oem-kit", NULL);
  images = g_build_filename (payload_universal, "Images", NULL);
  drivers = g_build_filename (images, "Drivers", "HP EliteBook 840 G8", NULL);
  oem_dir = g_build_filename (payload_oem, "HP", NULL);
  g_assert_cmpint (g_mkdir_with_parents (drivers, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (oem_dir, 0755), ==, 0);
  {
    g_autofree char *parent = g_path_get_dirname (blob);

    g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  }

  for (gsize i = 0; i < PAYLOAD_MIB * MIB; i += 4)
    {
      guint32 v = g_rand_int (rand);

      memcpy (data + i, &v, 4);
    }
  g_rand_free (rand);
  g_file_set_contents (blob, (const char *) data, PAYLOAD_MIB * MIB, &error);
  g_assert_no_error (error);

  /* The universal image kit: a WIM over the split size, its SKU map and drivers. */
  cmd = g_strdup_printf ("sh -c \"wimlib-imagex capture '%s' '%s/universal.wim' "
                         "'Windows 11 Enterprise' --compress=none >/dev/null\"",
                         src, images);
  imaging_run (cmd);
  g_clear_pointer (&cmd, g_free);
  {
    g_autofree char *sku = g_build_filename (images, "SKU_Folder.json", NULL);
    g_autofree char *inf = g_build_filename (drivers, "hpkbd.inf", NULL);

    g_file_set_contents (sku, "{\"8A3C\": \"HP EliteBook 840 G8\"}\n", -1, &error);
    g_assert_no_error (error);
    g_file_set_contents (inf, "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\n", -1, &error);
    g_assert_no_error (error);
  }

  /* The OEM recovery kit: HP's recovery WIM (LZX, also over the split size) and its deploy
   * script. */
  cmd = g_strdup_printf ("sh -c \"wimlib-imagex capture '%s/Windows/System32' "
                         "'%s/recovery.wim' 'HP Recovery' --compress=lzx >/dev/null\"",
                         src, oem_dir);
  imaging_run (cmd);
  {
    g_autofree char *script = g_build_filename (payload_oem, "Deploy.cmd", NULL);

    g_file_set_contents (script,
                         "dism /Apply-Image /ImageFile:D:\\HP\\recovery.wim /Index:1 "
                         "/ApplyDir:W:\\\r\n",
                         -1, &error);
    g_assert_no_error (error);
  }
  imaging_remove_tree (src);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("RD_IMAGER"));

  shared_dir = g_dir_make_tmp ("rd-compose-iso-XXXXXX", &error);
  g_assert_no_error (error);
  shared_iso = rd_test_make_windows_iso (shared_dir, "CCCOMA_X64FRE", INSTALL_MIB, 0, &shared_tree,
                                         &error);
  g_assert_no_error (error);
  make_payloads ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/rd/imager-compose/output", test_output);
  ADD ("/rd/imager-compose/loop", test_loop);
  ADD ("/rd/imager-compose/needs-yes", test_needs_yes);
  ADD ("/rd/imager-compose/too-small", test_too_small);
  ADD ("/rd/imager-compose/no-boot-files", test_no_boot_files);
  ADD ("/rd/imager-compose/solid-wim", test_solid_wim);
  ADD ("/rd/imager-compose/missing-payload", test_missing_payload);
  ADD ("/rd/imager-compose/scratch-space", test_scratch_space);
  ADD ("/rd/imager-compose/usage", test_usage);
  ADD ("/rd/imager-compose/inspect-and-write", test_inspect_and_write);
  ADD ("/rd/imager-compose/sigterm", test_sigterm);
  ADD ("/rd/imager-compose/process", test_process);
#undef ADD

  status = g_test_run ();
  imaging_remove_tree (shared_dir);
  g_free (shared_dir);
  g_free (shared_iso);
  g_free (shared_tree);
  g_free (payload_universal);
  g_free (payload_oem);
  return status;
}
