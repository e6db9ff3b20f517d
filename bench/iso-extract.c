/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench"

#include "config.h"

#include "imaging-test-common.h"
#include "rd-iso-reader.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* RdIsoReader extracting sources/install.wim from a UDF ISO held in the page cache, against a
 * plain sequential read of the same ISO in 1 MiB blocks (the page cache's own speed), in the same
 * run. Target: extraction ≥ 0.9× the plain read.
 *
 *   iso-extract [--iso FILE.iso] [--size-mib N] [--rounds N]
 *
 * Without --iso it makes a Windows-like ISO with an install.wim of N MiB (default 1024) in a
 * temporary folder next to the build (TMPDIR) and removes it afterwards. */

#define CHUNK (1024 * 1024)

typedef struct
{
  double wall; /* MiB/s */
  double cpu;  /* MiB per CPU second */
} Speed;

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static Speed
speed (guint64 bytes, gint64 wall_start, double cpu_start)
{
  Speed result;

  result.wall = bytes / 1048576.0 / ((g_get_monotonic_time () - wall_start) / 1e6);
  result.cpu = bytes / 1048576.0 / (cpu_seconds () - cpu_start);
  return result;
}

static Speed
plain_read (const char *path, int out)
{
  g_autofree char *buffer = g_malloc (CHUNK);
  int fd = g_open (path, O_RDONLY, 0);
  guint64 total = 0;
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_seconds ();
  gssize n;

  g_assert (fd >= 0);
  while ((n = read (fd, buffer, CHUNK)) > 0)
    {
      g_assert (write (out, buffer, n) == n);
      total += n;
    }
  close (fd);
  return speed (total, start, cpu_start);
}

static Speed
extract (RdIsoReader *reader, const RdIsoEntry *entry, int out)
{
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_seconds ();

  if (!rd_iso_reader_extract_to_fd (reader, entry, out, NULL, &error))
    g_error ("%s", error->message);
  return speed (entry->size, start, cpu_start);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *dir = NULL;
  int size_mib = 1024, rounds = 3;
  GOptionEntry options[] = {
    { "iso", 0, 0, G_OPTION_ARG_FILENAME, &iso, "ISO to read (default: make one)", "FILE" },
    { "size-mib", 0, 0, G_OPTION_ARG_INT, &size_mib, "install.wim size to make", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds (median reported)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- time ISO extraction");
  g_autoptr (RdIsoReader) reader = NULL;
  g_autoptr (GArray) plain = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) plain_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) ours_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  const RdIsoEntry *entry;
  double ratio;
  int null_fd;

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (iso == NULL)
    {
      gint64 start = g_get_monotonic_time ();

      dir = g_dir_make_tmp ("rd-iso-bench-XXXXXX", &error);
      g_assert_no_error (error);
      iso = rd_test_make_windows_iso (dir, "BENCH", size_mib, 0, NULL, &error);
      if (iso == NULL)
        g_error ("Could not make the ISO: %s", error->message);
      g_print ("made %s in %.1f s\n", iso, (g_get_monotonic_time () - start) / 1e6);
    }

  reader = rd_iso_reader_open (iso, NULL, &error);
  if (reader == NULL)
    g_error ("%s", error->message);
  entry = rd_iso_reader_lookup (reader, "sources/install.wim");
  if (entry == NULL)
    entry = rd_iso_reader_lookup (reader, "sources/install.esd");
  if (entry == NULL)
    g_error ("%s holds no sources/install.wim", iso);

  null_fd = g_open ("/dev/null", O_WRONLY, 0);
  plain_read (iso, null_fd); /* into the page cache */
  for (int i = 0; i < rounds; i++)
    {
      /* Alternate which one goes first. */
      Speed p, o;

      if (i % 2 == 0)
        {
          p = plain_read (iso, null_fd);
          o = extract (reader, entry, null_fd);
        }
      else
        {
          o = extract (reader, entry, null_fd);
          p = plain_read (iso, null_fd);
        }
      g_array_append_val (plain, p.wall);
      g_array_append_val (ours, o.wall);
      g_array_append_val (plain_cpu, p.cpu);
      g_array_append_val (ours_cpu, o.cpu);
    }
  close (null_fd);

  /* The copy is CPU-bound (page cache to /dev/null) and the machine is shared: the ratio is taken
   * on CPU time, which other jobs move less than wall time. */
  ratio = imaging_median (ours_cpu) / imaging_median (plain_cpu);
  g_print ("install.wim %.0f MiB from the page cache into /dev/null, median of %d rounds:\n",
           entry->size / 1048576.0, rounds);
  g_print ("                                        wall MiB/s   MiB per CPU s\n");
  g_print ("  plain read of the ISO, 1 MiB blocks   %10.0f   %13.0f\n", imaging_median (plain),
           imaging_median (plain_cpu));
  g_print ("  rd_iso_reader_extract_to_fd           %10.0f   %13.0f\n", imaging_median (ours),
           imaging_median (ours_cpu));
  g_print ("  ratio (CPU) %.2f, ratio (wall) %.2f (target >= 0.90 on CPU): %s\n", ratio,
           imaging_median (ours) / imaging_median (plain), ratio >= 0.9 ? "PASS" : "MISS");

  g_clear_object (&reader);
  if (dir != NULL)
    {
      g_autofree char *cmd = NULL;
      g_autofree char *quoted = g_shell_quote (dir);

      cmd = g_strdup_printf ("rm -rf %s", quoted);
      imaging_run (cmd);
    }
  return ratio >= 0.9 ? 0 : 1;
}
