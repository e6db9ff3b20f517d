/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-startup"

#include "config.h"

#include "ui-bench.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>

/* The start benchmark of issue 4: the real recovery-desk binary, started
 * on a tenant whose inventory cache holds the 100,000 devices of
 * `--demo=100000`, until its first frame that shows them.
 *
 * The cache is made first, untimed: a real RdTenantSync of the generated
 * tenant (ui_bench_sync_demo) writes it under a temporary $XDG_CACHE_HOME,
 * as the app does. Then the app is started, each run in a fresh process,
 * the way a signed-in start goes: `RECOVERY_DESK_ACCESS_TOKEN` holds a
 * token for that tenant (its "tid" names it), so the window opens the
 * tenant's board, loads the cache, hands its devices to the board and
 * starts a refresh. The refresh goes to a closed port on 127.0.0.1 (the
 * "graph-endpoint" setting, through the keyfile GSettings backend) and
 * fails after the figure is taken.
 *
 * bench/first-frame-probe.so, loaded with LD_PRELOAD, notes the first
 * frame and the first frame whose inventory list holds every cached
 * device, then ends the process. The figure runs from just before the
 * fork (CLOCK_MONOTONIC here, the same clock in the app) to that frame:
 * exec, dynamic linking, GTK and libadwaita start, the window, reading and
 * parsing the cache, rd_board_set_devices () and the frame. The cache file
 * is in the page cache (it was just written): this is a warm start. */

#define TARGET_MS 500.0

static gboolean
write_settings (const char  *graph_endpoint,
                GError     **error)
{
  g_autofree char *folder = g_build_filename (g_get_user_config_dir (), "glib-2.0", "settings",
                                              NULL);
  g_autofree char *path = g_build_filename (folder, "keyfile", NULL);
  g_autofree char *contents = g_strdup_printf ("[io/github/recoverydesk/RecoveryDesk]\n"
                                               "graph-endpoint='%s'\n"
                                               "window-width=1600\n"
                                               "window-height=1000\n",
                                               graph_endpoint);

  g_mkdir_with_parents (folder, 0700);
  return g_file_set_contents (path, contents, -1, error);
}

static char *
read_value (const char *contents,
            const char *key)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == '=')
      return g_strdup (lines[i] + strlen (key) + 1);

  return NULL;
}

/* Waits until the bus forgets the app that just ended: the next start
 * would otherwise find its name still owned, ask that dead instance to
 * activate, and fail ("Failed to register: ... NoReply"). */
static void
wait_for_name_released (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (bus != NULL && g_get_monotonic_time () < deadline)
    {
      g_autoptr(GVariant) reply = NULL;
      gboolean owned = FALSE;

      reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "NameHasOwner",
                                           g_variant_new ("(s)", APPLICATION_ID),
                                           G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                           NULL, NULL);
      if (reply == NULL)
        return;
      g_variant_get (reply, "(b)", &owned);
      if (!owned)
        return;
      g_usleep (2000);
    }
}

/* One start; FALSE when the app ended or hung before showing the devices. */
static gboolean show_log;

static gboolean
run_once (const char  *app_path,
          const char  *probe_path,
          const char  *token,
          guint        n_items,
          const char  *output,
          const char  *stderr_path,
          double      *first_ms,
          double      *rows_ms,
          double      *items_ms,
          GError     **error)
{
  /* GLib writes debug messages to stdout: --log shows them. */
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (show_log ? G_SUBPROCESS_FLAGS_NONE
                                        : G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GSubprocess) app = NULL;
  g_autofree char *items = g_strdup_printf ("%u", n_items);
  g_autofree char *contents = NULL;
  g_autofree char *first = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *rows = NULL;
  g_autofree char *ended = NULL;
  gint64 start, deadline;

  g_unlink (output);
  g_subprocess_launcher_setenv (launcher, "RECOVERY_DESK_ACCESS_TOKEN", token, TRUE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
  g_subprocess_launcher_setenv (launcher, "LD_PRELOAD", probe_path, TRUE);
  g_subprocess_launcher_setenv (launcher, "RD_PROBE_OUTPUT", output, TRUE);
  g_subprocess_launcher_setenv (launcher, "RD_PROBE_ITEMS", items, TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
  if (show_log)
    g_subprocess_launcher_setenv (launcher, "RD_PROBE_FRAMES", "1", TRUE);

  start = g_get_monotonic_time ();
  if (show_log)
    g_print ("  spawning at %" G_GINT64_FORMAT " us\n", start);
  app = g_subprocess_launcher_spawn (launcher, error, app_path, NULL);
  if (app == NULL)
    return FALSE;

  /* The probe ends the app at the frame; this only guards against a hang,
   * or an app that ended before that frame (its identifier is gone once it
   * is reaped). */
  deadline = start + 60 * G_USEC_PER_SEC;
  while (!g_file_test (output, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline &&
         g_subprocess_get_identifier (app) != NULL)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  if (g_subprocess_get_identifier (app) == NULL && !g_file_test (output, G_FILE_TEST_EXISTS))
    {
      g_subprocess_wait (app, NULL, NULL);
      ended = g_subprocess_get_if_signaled (app)
                ? g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (app))
                : g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (app));
    }
  g_subprocess_force_exit (app);
  g_subprocess_wait (app, NULL, NULL);
  wait_for_name_released ();

  if (!g_file_get_contents (output, &contents, NULL, NULL) ||
      (first = read_value (contents, "first-frame")) == NULL ||
      (rows = read_value (contents, "rows-frame")) == NULL ||
      (shown = read_value (contents, "items-frame")) == NULL)
    {
      g_autofree char *log = NULL;

      g_file_get_contents (stderr_path, &log, NULL, NULL);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s did not show %u devices (it %s); it wrote:\n%s", app_path, n_items,
                   ended != NULL ? ended : "ran 60 s", log != NULL ? log : "");
      return FALSE;
    }

  *first_ms = (g_ascii_strtoll (first, NULL, 10) - start) / 1000.0;
  *rows_ms = (g_ascii_strtoll (rows, NULL, 10) - start) / 1000.0;
  *items_ms = (g_ascii_strtoll (shown, NULL, 10) - start) / 1000.0;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GArray) first_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) rows_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) items_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *app_path = NULL;
  g_autofree char *probe_path = NULL;
  g_autofree char *home = NULL;
  g_autofree char *tenant_id = NULL;
  g_autofree char *token = NULL;
  g_autofree char *output = NULL;
  g_autofree char *stderr_path = NULL;
  g_autofree char *cache_path = NULL;
  GStatBuf cache_stat = { 0 };
  GStatBuf binary_stat = { 0 };
  int n_devices = UI_BENCH_DEVICES;
  int runs = 3;
  guint n_items;
  double median, max;
  gboolean pass;
  const GOptionEntry entries[] = {
    { "app", 0, 0, G_OPTION_ARG_FILENAME, &app_path, "The recovery-desk to start", "PATH" },
    { "probe", 0, 0, G_OPTION_ARG_FILENAME, &probe_path, "first-frame-probe.so", "PATH" },
    { "devices", 'n', 0, G_OPTION_ARG_INT, &n_devices, "Devices (100000)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Starts to time (3)", "N" },
    { "log", 0, 0, G_OPTION_ARG_NONE, &show_log, "Print what the app wrote to stderr", NULL },
    { NULL },
  };

  /* The app writes its cache with the collation keys of its locale, which
   * a start then reads as they are: so does this one (not LC_NUMERIC,
   * which the RESULT line's parser needs as C). */
  setlocale (LC_COLLATE, "");
  setlocale (LC_CTYPE, "");

  context = g_option_context_new ("- time the start of recovery-desk on a cached inventory");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (app_path == NULL || probe_path == NULL || n_devices < 1 || runs < 1)
    {
      g_printerr ("Give --app PATH and --probe PATH\n");
      return 2;
    }

  home = ui_bench_make_tmp_home (&error);
  if (home == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  output = g_build_filename (home, "probe.txt", NULL);
  stderr_path = g_build_filename (home, "stderr.txt", NULL);

  if (!ui_bench_sync_demo (n_devices, &devices, &tenant_id, &token, &error) ||
      !write_settings ("http://127.0.0.1:9", &error))
    {
      g_printerr ("Could not make the cache: %s\n", error->message);
      ui_bench_remove_tree (home);
      return 1;
    }
  n_items = devices->len;
  g_clear_pointer (&devices, g_ptr_array_unref);
  cache_path = g_build_filename (g_get_user_cache_dir (), "recovery-desk", NULL);
  {
    g_autofree char *file = g_strdup_printf ("inventory-%s.json", tenant_id);
    g_autofree char *path = g_build_filename (cache_path, file, NULL);

    g_autofree char *binary_file = g_strdup_printf ("inventory-%s.bin", tenant_id);
    g_autofree char *binary_path = g_build_filename (cache_path, binary_file, NULL);

    g_stat (path, &cache_stat);
    g_stat (binary_path, &binary_stat);
  }

  g_print ("Start benchmark: %s on a cached inventory of %u Windows devices (%d generated, "
           "cache %.1f MB of JSON, %.1f MB fast companion)\n",
           app_path, n_items, n_devices, cache_stat.st_size / 1e6, binary_stat.st_size / 1e6);
  for (int i = 0; i < runs; i++)
    {
      double first, rows, shown;

      if (!run_once (app_path, probe_path, token, n_items, output, stderr_path, &first, &rows,
                     &shown, &error))
        {
          g_printerr ("%s\n", error->message);
          ui_bench_remove_tree (home);
          return 1;
        }
      g_array_append_val (first_ms, first);
      g_array_append_val (rows_ms, rows);
      g_array_append_val (items_ms, shown);
      if (show_log)
        {
          g_autofree char *log = NULL;

          if (g_file_get_contents (stderr_path, &log, NULL, NULL))
            g_print ("%s", log);
        }
      g_print ("  run %d: first frame %7.1f ms, first cards %7.1f ms, first frame with the devices "
               "%7.1f ms\n", i + 1, first, rows, shown);
    }

  ui_bench_sort_doubles (first_ms);
  ui_bench_sort_doubles (rows_ms);
  ui_bench_sort_doubles (items_ms);
  median = ui_bench_median (items_ms);
  max = g_array_index (items_ms, double, items_ms->len - 1);
  pass = median <= TARGET_MS;
  g_print ("  first frame (info)                median %7.1f ms  min %7.1f  max %7.1f\n",
           ui_bench_median (first_ms), g_array_index (first_ms, double, 0),
           g_array_index (first_ms, double, first_ms->len - 1));
  g_print ("  first cards of the list (info)    median %7.1f ms  min %7.1f  max %7.1f\n",
           ui_bench_median (rows_ms), g_array_index (rows_ms, double, 0),
           g_array_index (rows_ms, double, rows_ms->len - 1));
  g_print ("  first frame with the devices      median %7.1f ms  min %7.1f  max %7.1f\n", median,
           g_array_index (items_ms, double, 0), max);
  g_print ("  start to the cached inventory   %7.1f ms (median)  target <= %.0f ms  %s\n", median,
           TARGET_MS, pass ? "PASS" : "MISS");
  g_print ("RESULT start_ms=%.1f start_max_ms=%.1f first_frame_ms=%.1f first_cards_ms=%.1f\n",
           median, max, ui_bench_median (first_ms), ui_bench_median (rows_ms));

  ui_bench_remove_tree (home);
  return pass ? 0 : 1;
}
