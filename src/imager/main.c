/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imager"

#include "config.h"

#include "rd-drive-monitor.h"
#include "rd-drive.h"
#include "rd-image-source.h"
#include "rd-image-writer.h"
#include "rd-imaging-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit codes; PROTOCOL.md documents them. */
enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
  EXIT_PARTIAL = 3,
  EXIT_REFUSED = 4,
  EXIT_VERIFY = 5,
  EXIT_UDISKS = 6,
  EXIT_CANCELLED = 130,
};

static gboolean json_progress;

/* JSON output */

static void
json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s ? s : ""; *p != '\0'; p++)
    {
      unsigned char c = *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

static void
emit_line (GString *line)
{
  g_string_append_c (line, '\n');
  fwrite (line->str, 1, line->len, stdout);
  fflush (stdout);
  g_string_free (line, TRUE);
}

static const char *
error_code_name (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  if (error->domain != RD_IMAGING_ERROR)
    return "failed";
  switch ((RdImagingError) error->code)
    {
    case RD_IMAGING_ERROR_IO:
      return "io";
    case RD_IMAGING_ERROR_UNSUPPORTED:
      return "unsupported";
    case RD_IMAGING_ERROR_CORRUPT:
      return "corrupt";
    case RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA:
      return "needs-windows-media";
    case RD_IMAGING_ERROR_SYSTEM_DRIVE:
      return "system-drive";
    case RD_IMAGING_ERROR_HOLDS_SOURCE:
      return "holds-source";
    case RD_IMAGING_ERROR_HOLDS_SYSTEM:
      return "holds-system";
    case RD_IMAGING_ERROR_READ_ONLY:
      return "read-only";
    case RD_IMAGING_ERROR_TOO_SMALL:
      return "too-small";
    case RD_IMAGING_ERROR_NOT_REMOVABLE:
      return "not-removable";
    case RD_IMAGING_ERROR_NOT_FOUND:
      return "not-found";
    case RD_IMAGING_ERROR_VERIFY_MISMATCH:
      return "verify-mismatch";
    case RD_IMAGING_ERROR_TARGETS_FAILED:
      return "targets-failed";
    case RD_IMAGING_ERROR_TOO_MANY_TARGETS:
      return "too-many-targets";
    case RD_IMAGING_ERROR_UDISKS:
      return "udisks";
    case RD_IMAGING_ERROR_FAILED:
    default:
      return "failed";
    }
}

static int
exit_code_for (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return EXIT_CANCELLED;
  if (error->domain != RD_IMAGING_ERROR)
    return EXIT_FAILED;
  switch ((RdImagingError) error->code)
    {
    case RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA:
    case RD_IMAGING_ERROR_SYSTEM_DRIVE:
    case RD_IMAGING_ERROR_HOLDS_SOURCE:
    case RD_IMAGING_ERROR_HOLDS_SYSTEM:
    case RD_IMAGING_ERROR_READ_ONLY:
    case RD_IMAGING_ERROR_TOO_SMALL:
    case RD_IMAGING_ERROR_NOT_REMOVABLE:
    case RD_IMAGING_ERROR_TOO_MANY_TARGETS:
      return EXIT_REFUSED;
    case RD_IMAGING_ERROR_VERIFY_MISMATCH:
      return EXIT_VERIFY;
    case RD_IMAGING_ERROR_UDISKS:
      return EXIT_UDISKS;
    case RD_IMAGING_ERROR_TARGETS_FAILED:
      return EXIT_PARTIAL;
    case RD_IMAGING_ERROR_FAILED:
    case RD_IMAGING_ERROR_IO:
    case RD_IMAGING_ERROR_UNSUPPORTED:
    case RD_IMAGING_ERROR_CORRUPT:
    case RD_IMAGING_ERROR_NOT_FOUND:
    default:
      return EXIT_FAILED;
    }
}

/* Reports @error as an "error" event (with --progress json) and on stderr; returns the exit
 * code. */
static int
report_error (const GError *error)
{
  if (json_progress)
    {
      GString *line = g_string_new ("{\"event\":\"error\",\"code\":");

      json_string (line, error_code_name (error));
      g_string_append (line, ",\"message\":");
      json_string (line, error->message);
      g_string_append_c (line, '}');
      emit_line (line);
    }
  g_printerr ("%s\n", error->message);
  return exit_code_for (error);
}

static void
append_drive_json (GString *out, RdDrive *drive)
{
  g_string_append (out, "{\"object_path\":");
  json_string (out, rd_drive_get_object_path (drive));
  g_string_append (out, ",\"device\":");
  json_string (out, rd_drive_get_device (drive));
  g_string_append (out, ",\"vendor\":");
  json_string (out, rd_drive_get_vendor (drive));
  g_string_append (out, ",\"model\":");
  json_string (out, rd_drive_get_model (drive));
  g_string_append (out, ",\"serial\":");
  json_string (out, rd_drive_get_serial (drive));
  g_string_append_printf (out, ",\"size\":%" G_GUINT64_FORMAT ",\"bus\":",
                          rd_drive_get_size (drive));
  json_string (out, rd_drive_get_bus (drive));
  g_string_append_printf (out, ",\"read_only\":%s,\"system\":%s}",
                          rd_drive_get_read_only (drive) ? "true" : "false",
                          rd_drive_get_hint_system (drive) ? "true" : "false");
}

static void
print_drive_text (RdDrive *drive, const char *prefix)
{
  g_autofree char *name = rd_drive_dup_display_name (drive);

  g_print ("%s%s  %s  bus=%s serial=%s%s%s\n", prefix, rd_drive_get_object_path (drive), name,
           rd_drive_get_bus (drive), rd_drive_get_serial (drive),
           rd_drive_get_read_only (drive) ? " read-only" : "",
           rd_drive_get_hint_system (drive) ? " system" : "");
}

/* list */

static gboolean
on_quit_signal_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static void
on_drive_event_cb (RdDriveMonitor *monitor, RdDrive *drive, gpointer user_data)
{
  const char *event = user_data;

  if (json_progress)
    {
      GString *line = g_string_new ("{\"event\":");

      json_string (line, event);
      g_string_append (line, ",\"drive\":");
      append_drive_json (line, drive);
      g_string_append_c (line, '}');
      emit_line (line);
    }
  else
    {
      print_drive_text (drive, g_str_equal (event, "drive-added") ? "+ " : "- ");
    }
}

static int
cmd_list (int argc, char **argv)
{
  gboolean json = FALSE, watch = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "watch", 0, 0, G_OPTION_ARG_NONE, &watch, N_("Keep running and report drives as they come and go"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("list");
  g_autoptr (RdDriveMonitor) monitor = NULL;
  g_autoptr (GError) error = NULL;
  guint n;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  json_progress = json;

  monitor = rd_drive_monitor_new (NULL, &error);
  if (monitor == NULL)
    return report_error (error);

  n = g_list_model_get_n_items (G_LIST_MODEL (monitor));
  if (json && !watch)
    {
      GString *line = g_string_new ("{\"drives\":[");

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (RdDrive) drive = g_list_model_get_item (G_LIST_MODEL (monitor), i);

          if (i > 0)
            g_string_append_c (line, ',');
          append_drive_json (line, drive);
        }
      g_string_append (line, "]}");
      emit_line (line);
    }
  else
    {
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (RdDrive) drive = g_list_model_get_item (G_LIST_MODEL (monitor), i);

          on_drive_event_cb (monitor, drive, (gpointer) "drive-added");
        }
    }

  if (watch)
    {
      g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

      g_signal_connect (monitor, "drive-added", G_CALLBACK (on_drive_event_cb),
                        (gpointer) "drive-added");
      g_signal_connect (monitor, "drive-removed", G_CALLBACK (on_drive_event_cb),
                        (gpointer) "drive-removed");
      g_unix_signal_add (SIGINT, on_quit_signal_cb, loop);
      g_unix_signal_add (SIGTERM, on_quit_signal_cb, loop);
      g_main_loop_run (loop);
    }
  return EXIT_OK;
}

/* inspect */

static int
cmd_inspect (int argc, char **argv)
{
  gboolean json = FALSE, sha256 = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "sha256", 0, 0, G_OPTION_ARG_NONE, &sha256, N_("Also compute the SHA-256 of the uncompressed image"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SOURCE");
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) writable_error = NULL;
  g_autofree char *digest = NULL;
  gboolean writable;
  guint64 size;
  RdSizeCertainty certainty;
  const char *certainty_name;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("%s\n", error ? error->message : _("Usage: recovery-desk-imager inspect SOURCE"));
      return EXIT_USAGE;
    }
  json_progress = json;

  source = rd_image_source_open (argv[1], NULL, &error);
  if (source == NULL)
    return report_error (error);
  if (sha256)
    {
      digest = rd_image_source_compute_sha256 (source, NULL, &error);
      if (digest == NULL)
        return report_error (error);
    }

  writable = rd_image_source_check_raw_writable (source, &writable_error);
  size = rd_image_source_get_uncompressed_size (source);
  certainty = rd_image_source_get_size_certainty (source);
  certainty_name = certainty == RD_SIZE_EXACT ? "exact"
                   : certainty == RD_SIZE_LOWER_BOUND ? "lower-bound"
                                                      : "unknown";

  if (json)
    {
      GString *line = g_string_new ("{\"path\":");

      json_string (line, rd_image_source_get_path (source));
      g_string_append (line, ",\"kind\":");
      json_string (line, rd_image_kind_to_string (rd_image_source_get_kind (source)));
      g_string_append (line, ",\"compression\":");
      json_string (line, rd_image_compression_to_string (rd_image_source_get_compression (source)));
      g_string_append_printf (line, ",\"compressed_size\":%" G_GUINT64_FORMAT,
                              rd_image_source_get_compressed_size (source));
      if (certainty == RD_SIZE_UNKNOWN)
        g_string_append (line, ",\"uncompressed_size\":null");
      else
        g_string_append_printf (line, ",\"uncompressed_size\":%" G_GUINT64_FORMAT, size);
      g_string_append (line, ",\"uncompressed_size_certainty\":");
      json_string (line, certainty_name);
      g_string_append (line, ",\"partition_table\":");
      json_string (line, rd_partition_table_to_string (rd_image_source_get_partition_table (source)));
      g_string_append_printf (line, ",\"iso\":%s,\"windows_media\":%s,\"volume_label\":",
                              rd_image_source_get_is_iso (source) ? "true" : "false",
                              rd_image_source_get_windows_media (source) ? "true" : "false");
      if (rd_image_source_get_volume_label (source) != NULL)
        json_string (line, rd_image_source_get_volume_label (source));
      else
        g_string_append (line, "null");
      g_string_append_printf (line, ",\"raw_writable\":%s", writable ? "true" : "false");
      if (!writable)
        {
          g_string_append (line, ",\"refusal\":");
          json_string (line, writable_error->message);
        }
      if (digest != NULL)
        {
          g_string_append (line, ",\"sha256\":");
          json_string (line, digest);
        }
      g_string_append_c (line, '}');
      emit_line (line);
    }
  else
    {
      g_print ("%s\n", rd_image_source_get_path (source));
      g_print ("  kind:            %s\n", rd_image_kind_to_string (rd_image_source_get_kind (source)));
      g_print ("  compression:     %s\n",
               rd_image_compression_to_string (rd_image_source_get_compression (source)));
      g_print ("  size:            %" G_GUINT64_FORMAT " bytes compressed\n",
               rd_image_source_get_compressed_size (source));
      if (certainty == RD_SIZE_UNKNOWN)
        g_print ("  image size:      unknown\n");
      else
        g_print ("  image size:      %" G_GUINT64_FORMAT " bytes (%s)\n", size, certainty_name);
      g_print ("  partition table: %s\n",
               rd_partition_table_to_string (rd_image_source_get_partition_table (source)));
      if (rd_image_source_get_is_iso (source))
        g_print ("  ISO label:       %s%s\n",
                 rd_image_source_get_volume_label (source) ? rd_image_source_get_volume_label (source) : "",
                 rd_image_source_get_windows_media (source) ? " (Windows/WinPE media)" : "");
      if (digest != NULL)
        g_print ("  sha256:          %s\n", digest);
      if (!writable)
        g_print ("  %s\n", writable_error->message);
    }
  return EXIT_OK;
}

/* Targets */

typedef struct
{
  char *arg;
  RdDrive *drive; /* NULL for a regular file */
} TargetArg;

static void
target_arg_clear (gpointer data)
{
  TargetArg *t = data;

  g_free (t->arg);
  g_clear_object (&t->drive);
}

static gboolean
is_block_target (const char *arg)
{
  struct stat st;

  if (g_str_has_prefix (arg, "/org/freedesktop/UDisks2/"))
    return TRUE;
  return stat (arg, &st) == 0 && S_ISBLK (st.st_mode);
}

/* Resolves the targets; drives through UDisks and checked against @source. */
static gboolean
resolve_targets (char          **args,
                 RdImageSource  *source,
                 gboolean        check,
                 RdDriveMonitor **monitor,
                 GArray         *targets,
                 GError        **error)
{
  for (guint i = 0; args[i] != NULL; i++)
    {
      TargetArg target = { g_strdup (args[i]), NULL };

      if (is_block_target (args[i]))
        {
          if (*monitor == NULL)
            *monitor = rd_drive_monitor_new (NULL, error);
          if (*monitor == NULL)
            {
              target_arg_clear (&target);
              return FALSE;
            }
          target.drive = rd_drive_monitor_lookup (*monitor, args[i], error);
          if (target.drive == NULL
              || (check && !rd_drive_check_target (target.drive, source, error)))
            {
              target_arg_clear (&target);
              return FALSE;
            }
        }
      g_array_append_val (targets, target);
    }
  return TRUE;
}

/* write */

typedef struct
{
  GMainLoop *loop;
  RdImageWriter *writer;
  GCancellable *cancellable;
  gboolean finished;
  gboolean success;
  GError *error;
  RdWritePhase *phases;
  gboolean *reported_failed;
  guint n_targets;
  RdWritePhase phase;
  guint64 last_bytes;
  gint64 last_time;
  double rate;
} WriteRun;

static const char *
phase_name (RdWritePhase phase)
{
  switch (phase)
    {
    case RD_WRITE_PHASE_PENDING:
      return "pending";
    case RD_WRITE_PHASE_PREPARING:
      return "preparing";
    case RD_WRITE_PHASE_WRITING:
      return "writing";
    case RD_WRITE_PHASE_FLUSHING:
      return "flushing";
    case RD_WRITE_PHASE_VERIFYING:
      return "verifying";
    case RD_WRITE_PHASE_DONE:
      return "done";
    case RD_WRITE_PHASE_FAILED:
      return "failed";
    case RD_WRITE_PHASE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
    }
}

static void
report_progress (WriteRun *run, gboolean final)
{
  guint64 bytes_read, position, total;
  guint64 slowest = G_MAXUINT64;
  RdWritePhase overall = RD_WRITE_PHASE_DONE;
  gint64 now = g_get_monotonic_time ();
  gboolean any_alive = FALSE;
  GString *line;

  rd_image_writer_get_progress (run->writer, &bytes_read, &position, &total);

  for (guint i = 0; i < run->n_targets; i++)
    {
      guint64 written, verified;
      RdWritePhase phase = rd_image_writer_get_target_progress (run->writer, i, &written, &verified);

      if (phase != run->phases[i])
        {
          run->phases[i] = phase;
          if (phase == RD_WRITE_PHASE_FAILED && !run->reported_failed[i])
            {
              g_autoptr (GError) error = rd_image_writer_dup_target_error (run->writer, i);

              run->reported_failed[i] = TRUE;
              if (json_progress)
                {
                  line = g_string_new (NULL);
                  g_string_printf (line, "{\"event\":\"target-failed\",\"target\":%u,\"name\":", i);
                  json_string (line, rd_image_writer_get_target_name (run->writer, i));
                  g_string_append (line, ",\"code\":");
                  json_string (line, error ? error_code_name (error) : "failed");
                  g_string_append (line, ",\"message\":");
                  json_string (line, error ? error->message : "");
                  g_string_append_c (line, '}');
                  emit_line (line);
                }
              g_printerr (_("Failed: %s\n"), error ? error->message : "");
            }
          else if (json_progress)
            {
              line = g_string_new (NULL);
              g_string_printf (line, "{\"event\":\"phase\",\"target\":%u,\"phase\":\"%s\"}", i,
                               phase_name (phase));
              emit_line (line);
            }
        }
      if (phase == RD_WRITE_PHASE_FAILED || phase == RD_WRITE_PHASE_CANCELLED)
        continue;
      any_alive = TRUE;
      if (phase < overall)
        overall = phase;
      if (phase == RD_WRITE_PHASE_VERIFYING)
        slowest = MIN (slowest, verified);
      else if (phase == RD_WRITE_PHASE_DONE)
        slowest = MIN (slowest, total);
      else
        slowest = MIN (slowest, written);
    }
  if (!any_alive)
    return;
  if (overall != run->phase)
    {
      /* The rate restarts with each phase: verifying reads at a different speed. */
      run->phase = overall;
      run->rate = 0;
      run->last_bytes = overall == RD_WRITE_PHASE_VERIFYING ? 0 : slowest;
      run->last_time = now;
    }
  else if (now > run->last_time && slowest >= run->last_bytes)
    {
      double instant = (double) (slowest - run->last_bytes) * G_USEC_PER_SEC / (now - run->last_time);

      run->rate = run->rate == 0 ? instant : 0.8 * run->rate + 0.2 * instant;
      run->last_bytes = slowest;
      run->last_time = now;
    }

  if (json_progress)
    {
      line = g_string_new (NULL);
      g_string_printf (line,
                       "{\"event\":\"progress\",\"phase\":\"%s\",\"bytes\":%" G_GUINT64_FORMAT
                       ",\"total\":",
                       phase_name (overall), slowest);
      if (total > 0)
        g_string_append_printf (line, "%" G_GUINT64_FORMAT, total);
      else
        g_string_append (line, "null");
      g_string_append_printf (line, ",\"source_position\":%" G_GUINT64_FORMAT ",\"rate\":%.0f,\"eta\":",
                              position, run->rate);
      if (total > 0 && run->rate > 0 && total >= slowest)
        g_string_append_printf (line, "%.1f", (total - slowest) / run->rate);
      else
        g_string_append (line, "null");
      g_string_append (line, ",\"targets\":[");
      for (guint i = 0; i < run->n_targets; i++)
        {
          guint64 written, verified;
          RdWritePhase phase = rd_image_writer_get_target_progress (run->writer, i, &written, &verified);

          g_string_append_printf (line,
                                  "%s{\"target\":%u,\"phase\":\"%s\",\"written\":%" G_GUINT64_FORMAT
                                  ",\"verified\":%" G_GUINT64_FORMAT "}",
                                  i > 0 ? "," : "", i, phase_name (phase), written, verified);
        }
      g_string_append (line, "]}");
      emit_line (line);
    }
  else if (!final)
    {
      g_autofree char *done = g_format_size (slowest);
      g_autofree char *all = total ? g_format_size (total) : g_strdup ("?");
      g_autofree char *speed = g_format_size ((guint64) run->rate);

      g_printerr ("\r%-10s %s / %s  %s/s   ", phase_name (overall), done, all, speed);
    }
}

static gboolean
on_progress_timeout_cb (gpointer user_data)
{
  report_progress (user_data, FALSE);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_cancel_signal_cb (gpointer user_data)
{
  WriteRun *run = user_data;

  g_printerr (_("\nCancelling…\n"));
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
on_write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  WriteRun *run = user_data;

  run->success = rd_image_writer_run_finish (RD_IMAGE_WRITER (object), result, &run->error);
  run->finished = TRUE;
  g_main_loop_quit (run->loop);
}

static int
cmd_write (int argc, char **argv)
{
  gboolean no_verify = FALSE, yes = FALSE;
  g_autofree char *progress = NULL;
  GOptionEntry entries[] = {
    { "no-verify", 0, 0, G_OPTION_ARG_NONE, &no_verify, N_("Do not read the keys back"), NULL },
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, N_("Confirm erasing the target drives"), NULL },
    { "progress", 0, 0, G_OPTION_ARG_STRING, &progress, N_("Progress format: json or text"), "FORMAT" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SOURCE TARGET…");
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (RdDriveMonitor) monitor = NULL;
  g_autoptr (RdImageWriter) writer = NULL;
  g_autoptr (GArray) targets = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *digest = NULL;
  WriteRun run = { 0 };
  guint progress_id, sigint_id, sigterm_id;
  GString *line;
  int status;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 3)
    {
      g_printerr ("%s\n", error ? error->message
                                : _("Usage: recovery-desk-imager write SOURCE TARGET… [--yes]"));
      return EXIT_USAGE;
    }
  if (progress != NULL && !g_str_equal (progress, "json") && !g_str_equal (progress, "text"))
    {
      g_printerr (_("--progress must be json or text\n"));
      return EXIT_USAGE;
    }
  json_progress = g_strcmp0 (progress, "json") == 0;
  if (argc - 2 > RD_IMAGE_WRITER_MAX_TARGETS)
    {
      g_set_error (&error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_MANY_TARGETS,
                   _("At most %d keys can be written at once"), RD_IMAGE_WRITER_MAX_TARGETS);
      return report_error (error);
    }

  source = rd_image_source_open (argv[1], NULL, &error);
  if (source == NULL || !rd_image_source_check_raw_writable (source, &error))
    return report_error (error);

  targets = g_array_new (FALSE, TRUE, sizeof (TargetArg));
  g_array_set_clear_func (targets, target_arg_clear);
  if (!resolve_targets (argv + 2, source, TRUE, &monitor, targets, &error))
    return report_error (error);

  for (guint i = 0; i < targets->len; i++)
    if (g_array_index (targets, TargetArg, i).drive != NULL && !yes)
      {
        g_autofree char *name = rd_drive_dup_display_name (g_array_index (targets, TargetArg, i).drive);

        g_printerr (_("Writing erases everything on %s. Add --yes to confirm.\n"), name);
        return EXIT_USAGE;
      }

  cancellable = g_cancellable_new ();
  writer = rd_image_writer_new (source);
  rd_image_writer_set_verify (writer, !no_verify);
  for (guint i = 0; i < targets->len; i++)
    {
      TargetArg *t = &g_array_index (targets, TargetArg, i);

      if (t->drive != NULL)
        {
          g_autofree char *name = rd_drive_dup_display_name (t->drive);
          int fd = rd_drive_monitor_open_drive (monitor, t->drive, cancellable, &error);

          if (fd < 0 || !rd_image_writer_add_target_fd (writer, name, fd, &error))
            return report_error (error);
        }
      else if (!rd_image_writer_add_target_file (writer, t->arg, &error))
        {
          return report_error (error);
        }
    }

  if (json_progress)
    {
      line = g_string_new ("{\"event\":\"start\",\"source\":");
      json_string (line, rd_image_source_get_path (source));
      g_string_append (line, ",\"compression\":");
      json_string (line, rd_image_compression_to_string (rd_image_source_get_compression (source)));
      if (rd_image_source_get_size_certainty (source) == RD_SIZE_EXACT)
        g_string_append_printf (line, ",\"total\":%" G_GUINT64_FORMAT,
                                rd_image_source_get_uncompressed_size (source));
      else
        g_string_append (line, ",\"total\":null");
      g_string_append_printf (line, ",\"verify\":%s,\"targets\":[", no_verify ? "false" : "true");
      for (guint i = 0; i < targets->len; i++)
        {
          TargetArg *t = &g_array_index (targets, TargetArg, i);

          g_string_append_printf (line, "%s{\"target\":%u,\"name\":", i > 0 ? "," : "", i);
          json_string (line, rd_image_writer_get_target_name (writer, i));
          g_string_append (line, ",\"kind\":");
          json_string (line, t->drive ? "drive" : "file");
          if (t->drive != NULL)
            {
              g_string_append (line, ",\"drive\":");
              append_drive_json (line, t->drive);
            }
          g_string_append_c (line, '}');
        }
      g_string_append (line, "]}");
      emit_line (line);
    }

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.writer = writer;
  run.cancellable = cancellable;
  run.n_targets = targets->len;
  run.phases = g_new0 (RdWritePhase, targets->len);
  run.reported_failed = g_new0 (gboolean, targets->len);
  run.phase = RD_WRITE_PHASE_PENDING;

  sigint_id = g_unix_signal_add (SIGINT, on_cancel_signal_cb, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_cancel_signal_cb, &run);
  progress_id = g_timeout_add (200, on_progress_timeout_cb, &run);
  rd_image_writer_run_async (writer, cancellable, on_write_done_cb, &run);
  g_main_loop_run (loop);
  g_source_remove (progress_id);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  report_progress (&run, TRUE);
  if (!json_progress)
    g_printerr ("\n");

  digest = rd_image_writer_dup_sha256 (writer);
  if (run.success)
    {
      status = EXIT_OK;
    }
  else
    {
      status = exit_code_for (run.error);
      if (!json_progress || status != EXIT_PARTIAL)
        report_error (run.error);
      else
        g_printerr ("%s\n", run.error->message);
    }

  if (json_progress && (run.success || status == EXIT_PARTIAL))
    {
      guint64 total = 0;

      rd_image_writer_get_progress (writer, NULL, NULL, &total);
      line = g_string_new ("{\"event\":\"done\",\"sha256\":");
      json_string (line, digest);
      g_string_append_printf (line, ",\"bytes\":%" G_GUINT64_FORMAT ",\"verified\":%s,\"targets\":[",
                              total, no_verify ? "false" : "true");
      for (guint i = 0; i < targets->len; i++)
        {
          RdWritePhase phase = rd_image_writer_get_target_progress (writer, i, NULL, NULL);

          g_string_append_printf (line, "%s{\"target\":%u,\"ok\":%s}", i > 0 ? "," : "", i,
                                  phase == RD_WRITE_PHASE_DONE ? "true" : "false");
        }
      g_string_append (line, "]}");
      emit_line (line);
    }
  if (run.success)
    g_printerr (_("Done: %u written%s, SHA-256 %s\n"), targets->len,
                no_verify ? "" : _(" and verified"), digest);

  g_clear_error (&run.error);
  g_free (run.phases);
  g_free (run.reported_failed);
  return status;
}

/* verify */

static int
cmd_verify (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("SOURCE TARGET");
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (RdDriveMonitor) monitor = NULL;
  g_autoptr (GArray) targets = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *name = NULL;
  TargetArg *target;
  int fd;
  gboolean ok;

  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 3)
    {
      g_printerr ("%s\n", error ? error->message
                                : _("Usage: recovery-desk-imager verify SOURCE TARGET"));
      return EXIT_USAGE;
    }

  source = rd_image_source_open (argv[1], NULL, &error);
  if (source == NULL)
    return report_error (error);
  targets = g_array_new (FALSE, TRUE, sizeof (TargetArg));
  g_array_set_clear_func (targets, target_arg_clear);
  if (!resolve_targets (argv + 2, source, FALSE, &monitor, targets, &error))
    return report_error (error);

  target = &g_array_index (targets, TargetArg, 0);
  if (target->drive != NULL)
    {
      name = rd_drive_dup_display_name (target->drive);
      fd = rd_drive_monitor_open_drive_for_reading (monitor, target->drive, NULL, &error);
    }
  else
    {
      name = g_strdup (target->arg);
      fd = open (target->arg, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int saved_errno = errno;
          g_set_error (&error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                       _("Could not open “%s”: %s"), target->arg, g_strerror (saved_errno));
        }
    }
  if (fd < 0)
    return report_error (error);

  ok = rd_image_source_compare_fd (source, fd, name, NULL, &digest, &error);
  close (fd);
  if (!ok)
    return report_error (error);
  g_print (_("%s matches the image (SHA-256 %s)\n"), name, digest);
  return EXIT_OK;
}

static void
usage (void)
{
  g_printerr ("%s",
              _("Usage: recovery-desk-imager COMMAND [OPTIONS…]\n"
                "\n"
                "  list [--json] [--watch]\n"
                "  inspect SOURCE [--json] [--sha256]\n"
                "  write SOURCE TARGET… [--no-verify] [--yes] [--progress json|text]\n"
                "  verify SOURCE TARGET\n"
                "\n"
                "TARGET is a UDisks object path, a device node, or a regular file.\n"));
}

int
main (int argc, char **argv)
{
  const char *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* A closed pipe to the GUI must not kill the helper mid-write. */
  signal (SIGPIPE, SIG_IGN);

  if (argc < 2)
    {
      usage ();
      return EXIT_USAGE;
    }
  command = argv[1];
  argv[1] = argv[0];
  if (g_str_equal (command, "list"))
    return cmd_list (argc - 1, argv + 1);
  if (g_str_equal (command, "inspect"))
    return cmd_inspect (argc - 1, argv + 1);
  if (g_str_equal (command, "write"))
    return cmd_write (argc - 1, argv + 1);
  if (g_str_equal (command, "verify"))
    return cmd_verify (argc - 1, argv + 1);
  usage ();
  return EXIT_USAGE;
}
