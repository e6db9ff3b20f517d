/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench"

#include "config.h"

#include "imaging-test-common.h"
#include "rd-media-composer.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* RdMediaComposer making a setup-layout (GPT + one FAT32 partition) image from a Windows-like ISO
 * held in the page cache, against a plain copy of the same ISO into a file in the same scratch
 * folder (what writing that many bytes costs there), in the same run.
 *
 *   compose-setup [--iso FILE.iso] [--size-mib N] [--split-mib N] [--rounds N]
 *
 * Without --iso it makes an ISO with an install.wim of N MiB (default 1000) in a temporary folder
 * (TMPDIR), which is also the scratch folder, and removes it afterwards. --split-mib below the
 * install.wim's size makes the composer split it into .swm parts. */

#define CHUNK (1024 * 1024)

/* CPU seconds of this process and its waited-for children (mcopy and friends). */
static double
cpu_seconds (void)
{
  struct rusage self, children;

  getrusage (RUSAGE_SELF, &self);
  getrusage (RUSAGE_CHILDREN, &children);
  return self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec +
         children.ru_stime.tv_sec +
         (self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec +
          children.ru_stime.tv_usec) /
           1e6;
}

static double
plain_copy (const char *from, const char *to, double *cpu)
{
  g_autofree char *buffer = g_malloc (CHUNK);
  int in = g_open (from, O_RDONLY, 0);
  int out = g_open (to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  gint64 start;
  gssize n;
  double seconds;

  g_assert (in >= 0 && out >= 0);
  /* Both start with no dirty pages of the machine's to write back. */
  sync ();
  start = g_get_monotonic_time ();
  *cpu = cpu_seconds ();
  while ((n = read (in, buffer, CHUNK)) > 0)
    g_assert (write (out, buffer, n) == n);
  close (in);
  close (out);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  *cpu = cpu_seconds () - *cpu;
  g_unlink (to);
  return seconds;
}

static double
compose (const char *iso, const char *scratch, guint split_mib, guint64 *image_size, double *cpu)
{
  g_autoptr (RdMediaComposer) composer = rd_media_composer_new (iso, RD_MEDIA_LAYOUT_SETUP);
  g_autoptr (GError) error = NULL;
  gint64 start;
  double seconds;

  sync ();
  start = g_get_monotonic_time ();
  *cpu = cpu_seconds ();
  rd_media_composer_set_scratch_dir (composer, scratch);
  rd_media_composer_set_split_size (composer, split_mib);
  if (!rd_media_composer_prepare (composer, NULL, &error) ||
      !rd_media_composer_compose (composer, NULL, &error))
    g_error ("%s", error->message);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  *cpu = cpu_seconds () - *cpu;
  *image_size = rd_media_composer_get_image_size (composer);
  rd_media_composer_cleanup (composer);
  return seconds;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *scratch = NULL;
  g_autofree char *copy = NULL;
  int size_mib = 1000, split_mib = RD_MEDIA_COMPOSER_DEFAULT_SPLIT_MIB, rounds = 3;
  GOptionEntry options[] = {
    { "iso", 0, 0, G_OPTION_ARG_FILENAME, &iso, "ISO to compose from (default: make one)", "FILE" },
    { "size-mib", 0, 0, G_OPTION_ARG_INT, &size_mib, "install.wim size to make", "N" },
    { "split-mib", 0, 0, G_OPTION_ARG_INT, &split_mib, "split size", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds (median reported)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- time composing a setup key");
  g_autoptr (GArray) plain = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) plain_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) ours_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  double pc, oc;
  guint64 image_size = 0;
  struct stat st;
  double ratio;

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  dir = g_dir_make_tmp ("rd-compose-bench-XXXXXX", &error);
  g_assert_no_error (error);
  if (iso == NULL)
    {
      gint64 start = g_get_monotonic_time ();

      iso = rd_test_make_windows_iso (dir, "BENCH", size_mib, 0, NULL, &error);
      if (iso == NULL)
        g_error ("Could not make the ISO: %s", error->message);
      g_print ("made %s in %.1f s\n", iso, (g_get_monotonic_time () - start) / 1e6);
    }
  scratch = g_build_filename (dir, "scratch", NULL);
  g_assert (g_mkdir (scratch, 0700) == 0);
  copy = g_build_filename (scratch, "copy.iso", NULL);
  g_assert (stat (iso, &st) == 0);

  plain_copy (iso, copy, &pc); /* the ISO into the page cache */
  for (int i = 0; i < rounds; i++)
    {
      double p, o;

      if (i % 2 == 0)
        {
          p = plain_copy (iso, copy, &pc);
          o = compose (iso, scratch, split_mib, &image_size, &oc);
        }
      else
        {
          o = compose (iso, scratch, split_mib, &image_size, &oc);
          p = plain_copy (iso, copy, &pc);
        }
      g_array_append_val (plain, p);
      g_array_append_val (ours, o);
      g_array_append_val (plain_cpu, pc);
      g_array_append_val (ours_cpu, oc);
    }

  ratio = imaging_median (ours) / imaging_median (plain);
  g_print ("setup layout, GPT, split size %d MiB, ISO %.0f MiB, image %.0f MiB, median of %d "
           "rounds:\n",
           split_mib, st.st_size / 1048576.0, image_size / 1048576.0, rounds);
  g_print ("  plain copy of the ISO into the scratch folder  %6.2f s  (CPU %.2f s)\n",
           imaging_median (plain), imaging_median (plain_cpu));
  g_print ("  prepare + compose                              %6.2f s  (CPU %.2f s, %.0f MiB/s)\n",
           imaging_median (ours), imaging_median (ours_cpu),
           st.st_size / 1048576.0 / imaging_median (ours));
  g_print ("  ratio %.2f\n", ratio);

  {
    g_autofree char *cmd = NULL;
    g_autofree char *quoted = g_shell_quote (dir);

    cmd = g_strdup_printf ("rm -rf %s", quoted);
    imaging_run (cmd);
  }
  return 0;
}
