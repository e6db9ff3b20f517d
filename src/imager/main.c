/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imager"

#include "config.h"

#include "rd-drive-monitor.h"
#include "rd-drive.h"
#include "rd-image-source.h"
#include "rd-image-writer.h"
#include "rd-imaging-error.h"
#include "rd-imager-progress.h"
#include "rd-media-composer.h"

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

/* The imaging layer's refusal of Windows media names the app's mode; on the command line it is
 * the compose command. */
static void
point_to_compose (GError *error, const char *source)
{
  g_autofree char *quoted = NULL;
  char *message;

  if (!g_error_matches (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA))
    return;
  quoted = g_shell_quote (source);
  message = g_strdup_printf (_("%s From the command line: recovery-desk-imager compose --iso %s "
                               "--layout setup|winpe-images TARGET…"),
                             error->message, quoted);
  g_free (error->message);
  error->message = message;
}

/* inspect */

static const RdMediaLayout all_layouts[] = { RD_MEDIA_LAYOUT_SETUP, RD_MEDIA_LAYOUT_WINPE_IMAGES };

static const char *
layout_name (RdMediaLayout layout)
{
  return layout == RD_MEDIA_LAYOUT_WINPE_IMAGES ? "winpe-images" : "setup";
}

/* What `compose` would make of @iso in @layout (GPT, default sizes, no payloads): the key's
 * size, or why it refuses. */
static RdMediaComposer *
prepare_layout (const char *iso, RdMediaLayout layout, GError **error)
{
  g_autoptr (RdMediaComposer) composer = rd_media_composer_new (iso, layout);

  if (!rd_media_composer_prepare (composer, NULL, error))
    return NULL;
  return g_steal_pointer (&composer);
}

static void
append_layouts_json (GString *line, const char *iso)
{
  g_string_append (line, ",\"layouts\":[");
  for (guint i = 0; i < G_N_ELEMENTS (all_layouts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RdMediaComposer) composer = prepare_layout (iso, all_layouts[i], &error);

      g_string_append_printf (line, "%s{\"layout\":\"%s\"", i > 0 ? "," : "",
                              layout_name (all_layouts[i]));
      if (composer != NULL)
        g_string_append_printf (line, ",\"image_size\":%" G_GUINT64_FORMAT "}",
                                rd_media_composer_get_image_size (composer));
      else
        {
          g_string_append (line, ",\"refusal\":");
          json_string (line, error->message);
          g_string_append_c (line, '}');
        }
    }
  g_string_append_c (line, ']');
}

static void
print_layouts (const char *iso)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_layouts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RdMediaComposer) composer = prepare_layout (iso, all_layouts[i], &error);
      g_autofree char *size = composer ? g_format_size (rd_media_composer_get_image_size (composer))
                                       : NULL;

      /* TRANSLATORS: a compose layout and the size of the key it makes, or why it cannot */
      g_print (_("  compose %-13s %s\n"), layout_name (all_layouts[i]),
               composer ? size : error->message);
    }
}

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
  if (!writable)
    point_to_compose (writable_error, argv[1]);
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
      if (rd_image_source_get_windows_media (source))
        append_layouts_json (line, argv[1]);
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
      if (rd_image_source_get_windows_media (source))
        print_layouts (argv[1]);
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

/* An empty array of TargetArg, for resolve_targets(). */
static GArray *
target_args_new (void)
{
  GArray *targets = g_array_new (FALSE, TRUE, sizeof (TargetArg));

  g_array_set_clear_func (targets, target_arg_clear);
  return targets;
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

/* SIGINT and SIGTERM cancel the run; the handlers stay until the command ends, so a signal
 * while a drive is opened or a key composed is not lost. */
typedef struct
{
  guint sigint_id;
  guint sigterm_id;
} CancelSignals;

static gboolean
on_cancel_signal_cb (gpointer user_data)
{
  g_printerr (_("\nCancelling…\n"));
  g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

static void
cancel_signals_add (CancelSignals *signals, GCancellable *cancellable)
{
  signals->sigint_id = g_unix_signal_add (SIGINT, on_cancel_signal_cb, cancellable);
  signals->sigterm_id = g_unix_signal_add (SIGTERM, on_cancel_signal_cb, cancellable);
}

static void
cancel_signals_remove (CancelSignals *signals)
{
  g_clear_handle_id (&signals->sigint_id, g_source_remove);
  g_clear_handle_id (&signals->sigterm_id, g_source_remove);
}

/* Declared after the cancellable, so that the handlers go before it does. */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CancelSignals, cancel_signals_remove)

/* Dispatches a signal that came while the main loop was not running. */
static gboolean
check_cancelled (GCancellable *cancellable, GError **error)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static void
on_write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  WriteRun *run = user_data;

  run->success = rd_image_writer_run_finish (RD_IMAGE_WRITER (object), result, &run->error);
  run->finished = TRUE;
  g_main_loop_quit (run->loop);
}

/* The options write and compose share. */
typedef struct
{
  gboolean no_verify;
  gboolean yes;
  char *progress;
} WriteOptions;

static void
add_write_options (GOptionContext *context, WriteOptions *options)
{
  const GOptionEntry entries[] = {
    { "no-verify", 0, 0, G_OPTION_ARG_NONE, &options->no_verify, N_("Do not read the keys back"), NULL },
    { "yes", 0, 0, G_OPTION_ARG_NONE, &options->yes, N_("Confirm erasing the target drives"), NULL },
    { "progress", 0, 0, G_OPTION_ARG_STRING, &options->progress, N_("Progress format: json or text"), "FORMAT" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

static void
write_options_clear (WriteOptions *options)
{
  g_clear_pointer (&options->progress, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WriteOptions, write_options_clear)

static gboolean
parse_progress_option (const char *progress)
{
  if (progress != NULL && !g_str_equal (progress, "json") && !g_str_equal (progress, "text"))
    {
      g_printerr (_("--progress must be json or text\n"));
      return FALSE;
    }
  json_progress = g_strcmp0 (progress, "json") == 0;
  return TRUE;
}

static gboolean
check_target_count (guint n_targets, GError **error)
{
  if (n_targets <= RD_IMAGE_WRITER_MAX_TARGETS)
    return TRUE;
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_MANY_TARGETS,
               _("At most %d keys can be written at once"), RD_IMAGE_WRITER_MAX_TARGETS);
  return FALSE;
}

/* Erasing a drive needs --yes; a regular file does not. */
static gboolean
check_confirmed (GArray *targets, gboolean yes)
{
  for (guint i = 0; i < targets->len; i++)
    if (g_array_index (targets, TargetArg, i).drive != NULL && !yes)
      {
        g_autofree char *name = rd_drive_dup_display_name (g_array_index (targets, TargetArg, i).drive);

        g_printerr (_("Writing erases everything on %s. Add --yes to confirm.\n"), name);
        return FALSE;
      }
  return TRUE;
}

static void
emit_start (RdImageSource *source, RdImageWriter *writer, GArray *targets, gboolean verify)
{
  GString *line = g_string_new ("{\"event\":\"start\",\"source\":");

  json_string (line, rd_image_source_get_path (source));
  g_string_append (line, ",\"compression\":");
  json_string (line, rd_image_compression_to_string (rd_image_source_get_compression (source)));
  if (rd_image_source_get_size_certainty (source) == RD_SIZE_EXACT)
    g_string_append_printf (line, ",\"total\":%" G_GUINT64_FORMAT,
                            rd_image_source_get_uncompressed_size (source));
  else
    g_string_append (line, ",\"total\":null");
  g_string_append_printf (line, ",\"verify\":%s,\"targets\":[", verify ? "true" : "false");
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

/* Writes @source to the resolved and checked @targets, flushes, verifies unless told not to,
 * reporting progress; returns the exit code. The caller has installed the cancel signals. */
static int
write_targets (RdImageSource  *source,
               GArray         *targets,
               RdDriveMonitor *monitor,
               gboolean        verify,
               GCancellable   *cancellable)
{
  g_autoptr (RdImageWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *digest = NULL;
  WriteRun run = { 0 };
  guint progress_id;
  GString *line;
  int status;

  writer = rd_image_writer_new (source);
  rd_image_writer_set_verify (writer, verify);
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
    emit_start (source, writer, targets, verify);

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.writer = writer;
  run.cancellable = cancellable;
  run.n_targets = targets->len;
  run.phases = g_new0 (RdWritePhase, targets->len);
  run.reported_failed = g_new0 (gboolean, targets->len);
  run.phase = RD_WRITE_PHASE_PENDING;

  progress_id = g_timeout_add (200, on_progress_timeout_cb, &run);
  rd_image_writer_run_async (writer, cancellable, on_write_done_cb, &run);
  g_main_loop_run (loop);
  g_source_remove (progress_id);

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
                              total, verify ? "true" : "false");
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
                verify ? _(" and verified") : "", digest);

  g_clear_error (&run.error);
  g_free (run.phases);
  g_free (run.reported_failed);
  return status;
}

static int
cmd_write (int argc, char **argv)
{
  g_auto (WriteOptions) options = { 0 };
  g_autoptr (GOptionContext) context = g_option_context_new ("SOURCE TARGET…");
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (RdDriveMonitor) monitor = NULL;
  g_autoptr (GArray) targets = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_auto (CancelSignals) signals = { 0 };

  add_write_options (context, &options);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 3)
    {
      g_printerr ("%s\n", error ? error->message
                                : _("Usage: recovery-desk-imager write SOURCE TARGET… [--yes]"));
      return EXIT_USAGE;
    }
  if (!parse_progress_option (options.progress))
    return EXIT_USAGE;
  if (!check_target_count (argc - 2, &error))
    return report_error (error);

  source = rd_image_source_open (argv[1], NULL, &error);
  if (source == NULL)
    return report_error (error);
  if (!rd_image_source_check_raw_writable (source, &error))
    {
      point_to_compose (error, argv[1]);
      return report_error (error);
    }

  targets = target_args_new ();
  if (!resolve_targets (argv + 2, source, TRUE, &monitor, targets, &error))
    return report_error (error);
  if (!check_confirmed (targets, options.yes))
    return EXIT_USAGE;

  cancellable = g_cancellable_new ();
  cancel_signals_add (&signals, cancellable);
  return write_targets (source, targets, monitor, !options.no_verify, cancellable);
}

/* compose */

/* What the composer refuses before anything is written (no boot files, a solid WIM that must
 * be split, too little scratch space) exits 4 like the write command's refusals. */
static int
report_compose_error (const GError *error)
{
  int status = report_error (error);

  if (g_error_matches (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED))
    return EXIT_REFUSED;
  return status;
}

typedef struct
{
  GMainLoop *loop;
  RdMediaComposer *composer;
  gboolean finished;
  gboolean success;
  GError *error;
} ComposeRun;

static void
compose_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (rd_media_composer_compose (RD_MEDIA_COMPOSER (source_object), cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_compose_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  ComposeRun *run = user_data;

  run->success = g_task_propagate_boolean (G_TASK (result), &run->error);
  run->finished = TRUE;
  g_main_loop_quit (run->loop);
}

static gboolean
on_compose_progress_cb (gpointer user_data)
{
  ComposeRun *run = user_data;
  guint64 bytes = 0, total = 0;
  RdComposeStep step = rd_media_composer_get_progress (run->composer, &bytes, &total);

  if (json_progress)
    {
      GString *line = g_string_new (NULL);

      g_string_printf (line,
                       "{\"event\":\"compose-progress\",\"step\":\"%s\",\"bytes\":"
                       "%" G_GUINT64_FORMAT ",\"total\":%" G_GUINT64_FORMAT "}",
                       rd_compose_step_to_string (step), bytes, total);
      emit_line (line);
    }
  else
    {
      g_autofree char *done = g_format_size (bytes);
      g_autofree char *all = g_format_size (total);

      g_printerr ("\r%-22s %s / %s      ", rd_compose_step_get_title (step), done, all);
    }
  return G_SOURCE_CONTINUE;
}

static void
emit_compose_start (RdMediaComposer *composer,
                    const char      *iso,
                    RdMediaLayout    layout,
                    RdPartitionTable table,
                    guint            split_mib,
                    char           **payloads)
{
  GString *line = g_string_new ("{\"event\":\"compose-start\",\"iso\":");
  const char *label = rd_media_composer_get_volume_label (composer);

  json_string (line, iso);
  g_string_append_printf (line,
                          ",\"layout\":\"%s\",\"table\":\"%s\",\"split_size\":%" G_GUINT64_FORMAT
                          ",\"image_size\":%" G_GUINT64_FORMAT ",\"volume_label\":",
                          layout_name (layout), rd_partition_table_to_string (table),
                          (guint64) split_mib * 1024 * 1024,
                          rd_media_composer_get_image_size (composer));
  if (label != NULL)
    json_string (line, label);
  else
    g_string_append (line, "null");
  g_string_append (line, ",\"payloads\":[");
  for (guint i = 0; payloads != NULL && payloads[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (line, ',');
      json_string (line, payloads[i]);
    }
  g_string_append (line, "]}");
  emit_line (line);
}

static void
emit_compose_done (RdMediaComposer *composer, double seconds, const char *output)
{
  GString *line = g_string_new (NULL);

  g_string_printf (line,
                   "{\"event\":\"compose-done\",\"image_size\":%" G_GUINT64_FORMAT
                   ",\"seconds\":%.3f",
                   rd_media_composer_get_image_size (composer), seconds);
  if (output != NULL)
    {
      g_string_append (line, ",\"output\":");
      json_string (line, output);
    }
  g_string_append_c (line, '}');
  emit_line (line);
}

/* Builds the scratch image in a thread while the main loop reports progress. */
static gboolean
compose_image (RdMediaComposer *composer, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GTask) task = NULL;
  ComposeRun run = { loop, composer, FALSE, FALSE, NULL };
  guint progress_id;

  task = g_task_new (composer, cancellable, on_compose_done_cb, &run);
  g_task_set_source_tag (task, compose_image);
  g_task_run_in_thread (task, compose_thread);
  g_clear_object (&task);

  progress_id = g_timeout_add (200, on_compose_progress_cb, &run);
  g_main_loop_run (loop);
  g_source_remove (progress_id);
  if (!json_progress)
    g_printerr ("\n");

  if (!run.success)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_compose_choice (const char *option, const char *value, const char *a, const char *b, int *out)
{
  if (g_strcmp0 (value, a) == 0)
    *out = 0;
  else if (g_strcmp0 (value, b) == 0)
    *out = 1;
  else
    {
      g_printerr (_("%s must be %s or %s\n"), option, a, b);
      return FALSE;
    }
  return TRUE;
}

static int
cmd_compose (int argc, char **argv)
{
  g_auto (WriteOptions) options = { 0 };
  g_autofree char *iso = NULL;
  g_autofree char *layout_arg = NULL;
  g_autofree char *table_arg = NULL;
  g_autofree char *scratch = NULL;
  g_autofree char *output = NULL;
  g_auto (GStrv) payloads = NULL;
  int split_mib = RD_MEDIA_COMPOSER_DEFAULT_SPLIT_MIB;
  int winpe_mib = 0;
  GOptionEntry entries[] = {
    { "iso", 0, 0, G_OPTION_ARG_FILENAME, &iso, N_("The Windows or WinPE ISO"), "FILE" },
    { "payload", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &payloads, N_("A folder whose contents go to the IMAGES partition (winpe-images; repeatable)"), "DIR" },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout_arg, N_("setup or winpe-images"), "LAYOUT" },
    { "table", 0, 0, G_OPTION_ARG_STRING, &table_arg, N_("Partition table: gpt (default) or mbr"), "TABLE" },
    { "split-size", 0, 0, G_OPTION_ARG_INT, &split_mib, N_("Split WIM files into parts of this many MiB (1–4095, default 4094)"), "MIB" },
    { "winpe-size", 0, 0, G_OPTION_ARG_INT, &winpe_mib, N_("Size of the WINPE partition in MiB (default 4096, grown if needed)"), "MIB" },
    { "scratch", 0, 0, G_OPTION_ARG_FILENAME, &scratch, N_("Folder for the scratch image"), "DIR" },
    { "output", 0, 0, G_OPTION_ARG_FILENAME, &output, N_("Save the disk image to FILE instead of writing keys"), "FILE" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("(--output FILE | TARGET…)");
  g_autoptr (RdImageSource) iso_source = NULL;
  g_autoptr (RdMediaComposer) composer = NULL;
  g_autoptr (RdImageSource) image = NULL;
  g_autoptr (RdDriveMonitor) monitor = NULL;
  g_autoptr (GArray) targets = NULL;
  g_autoptr (GPtrArray) held = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_auto (CancelSignals) signals = { 0 };
  RdMediaLayout layout;
  RdPartitionTable table = RD_PARTITION_TABLE_GPT;
  gint64 started;
  int choice = 0;
  int status;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  add_write_options (context, &options);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  if (iso == NULL || layout_arg == NULL || (output == NULL) == (argc < 2))
    {
      g_printerr ("%s\n", _("Usage: recovery-desk-imager compose --iso FILE [--payload DIR]… "
                            "--layout setup|winpe-images [--table gpt|mbr] "
                            "(--output FILE.img | TARGET… [--yes])"));
      return EXIT_USAGE;
    }
  if (!parse_compose_choice ("--layout", layout_arg, "setup", "winpe-images", &choice))
    return EXIT_USAGE;
  layout = choice == 0 ? RD_MEDIA_LAYOUT_SETUP : RD_MEDIA_LAYOUT_WINPE_IMAGES;
  if (table_arg != NULL)
    {
      if (!parse_compose_choice ("--table", table_arg, "gpt", "mbr", &choice))
        return EXIT_USAGE;
      table = choice == 0 ? RD_PARTITION_TABLE_GPT : RD_PARTITION_TABLE_MBR;
    }
  if (split_mib < 1 || split_mib > 4095)
    {
      g_printerr (_("--split-size must be 1 to 4095 MiB: FAT32 holds no file of 4 GiB or more\n"));
      return EXIT_USAGE;
    }
  if (winpe_mib < 0 || (winpe_mib > 0 && layout != RD_MEDIA_LAYOUT_WINPE_IMAGES))
    {
      g_printerr (_("--winpe-size is a positive number of MiB, for --layout winpe-images\n"));
      return EXIT_USAGE;
    }
  if (payloads != NULL && layout != RD_MEDIA_LAYOUT_WINPE_IMAGES)
    {
      g_printerr (_("--payload is for --layout winpe-images: the setup layout holds only the "
                    "ISO's files\n"));
      return EXIT_USAGE;
    }
  if (!parse_progress_option (options.progress))
    return EXIT_USAGE;
  if (!check_target_count (argc - 1, &error))
    return report_error (error);

  /* From here on a signal cancels, and the scratch image goes with the composer. */
  cancellable = g_cancellable_new ();
  cancel_signals_add (&signals, cancellable);

  iso_source = rd_image_source_open (iso, cancellable, &error);
  if (iso_source == NULL)
    return report_error (error);

  composer = rd_media_composer_new (iso, layout);
  rd_media_composer_set_partition_table (composer, table);
  rd_media_composer_set_split_size (composer, split_mib);
  if (winpe_mib > 0)
    rd_media_composer_set_winpe_size (composer, winpe_mib);
  if (scratch != NULL)
    rd_media_composer_set_scratch_dir (composer, scratch);
  for (guint i = 0; payloads != NULL && payloads[i] != NULL; i++)
    rd_media_composer_add_payload (composer, payloads[i]);
  if (!rd_media_composer_prepare (composer, cancellable, &error))
    return report_compose_error (error);

  /* Every safety check of write, and the size of the composed image, before composing. */
  targets = target_args_new ();
  if (output == NULL)
    {
      /* The scratch folder may not exist yet: the drive check looks where it will be made. */
      held = g_ptr_array_new ();
      for (guint i = 0; payloads != NULL && payloads[i] != NULL; i++)
        g_ptr_array_add (held, payloads[i]);
      g_ptr_array_add (held, (char *) rd_media_composer_get_scratch_dir (composer));
      g_ptr_array_add (held, NULL);

      if (!resolve_targets (argv + 1, iso_source, FALSE, &monitor, targets, &error))
        return report_error (error);
      for (guint i = 0; i < targets->len; i++)
        {
          RdDrive *drive = g_array_index (targets, TargetArg, i).drive;

          if (drive != NULL
              && !rd_drive_check_compose_target (drive, iso_source,
                                                 (const char *const *) held->pdata,
                                                 rd_media_composer_get_image_size (composer),
                                                 &error))
            return report_error (error);
        }
      if (!check_confirmed (targets, options.yes))
        return EXIT_USAGE;
    }

  if (json_progress)
    emit_compose_start (composer, iso, layout, table, split_mib, payloads);
  else
    {
      g_autofree char *size = g_format_size (rd_media_composer_get_image_size (composer));

      g_printerr (_("Composing a %s key (%s) from %s…\n"), layout_name (layout), size, iso);
    }

  started = g_get_monotonic_time ();
  if (!check_cancelled (cancellable, &error) || !compose_image (composer, cancellable, &error))
    {
      rd_media_composer_cleanup (composer);
      return report_compose_error (error);
    }

  if (!check_cancelled (cancellable, &error))
    {
      status = report_error (error);
    }
  else if (output != NULL)
    {
      if (!rd_media_composer_save (composer, output, &error))
        status = report_error (error);
      else
        {
          if (json_progress)
            emit_compose_done (composer,
                               (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC,
                               output);
          g_printerr (_("Saved the disk image to %s\n"), output);
          status = EXIT_OK;
        }
    }
  else
    {
      if (json_progress)
        emit_compose_done (composer,
                           (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC, NULL);
      image = rd_image_source_open (rd_media_composer_get_image_path (composer), cancellable,
                                    &error);
      if (image == NULL)
        status = report_error (error);
      else
        status = write_targets (image, targets, monitor, !options.no_verify, cancellable);
    }

  g_clear_object (&image);
  rd_media_composer_cleanup (composer);
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
  targets = target_args_new ();
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
                "  compose --iso FILE [--payload DIR]… --layout setup|winpe-images\n"
                "          [--table gpt|mbr] [--split-size MIB] [--winpe-size MIB]\n"
                "          [--scratch DIR] (--output FILE.img | TARGET… [--yes])\n"
                "          [--no-verify] [--progress json|text]\n"
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
  if (g_str_equal (command, "compose"))
    return cmd_compose (argc - 1, argv + 1);
  usage ();
  return EXIT_USAGE;
}
