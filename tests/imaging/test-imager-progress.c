/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-imager-progress.h"

#include <string.h>

/* The helper's JSON Lines, as PROTOCOL.md documents them and main.c writes them. */

#define START_LINE                                                                          \
  "{\"event\":\"start\",\"source\":\"/srv/images/oem.img.xz\",\"compression\":\"xz\","       \
  "\"total\":20971520,\"verify\":true,\"targets\":[{\"target\":0,\"name\":\"SanDisk Cruzer " \
  "(/dev/sdb, 16.0 GB)\",\"kind\":\"drive\",\"drive\":{\"object_path\":\"/org/freedesktop/"  \
  "UDisks2/block_devices/sdb\",\"device\":\"/dev/sdb\",\"vendor\":\"SanDisk\",\"model\":"    \
  "\"Cruzer\",\"serial\":\"4C53000123\",\"size\":16008609792,\"bus\":\"usb\",\"read_only\":" \
  "false,\"system\":false}},{\"target\":1,\"name\":\"/tmp/key.img\",\"kind\":\"file\"}]}"

#define PROGRESS_LINE                                                                         \
  "{\"event\":\"progress\",\"phase\":\"writing\",\"bytes\":8388608,\"total\":20971520,"        \
  "\"source_position\":8390000,\"rate\":41943040,\"eta\":0.3,\"targets\":[{\"target\":0,"      \
  "\"phase\":\"writing\",\"written\":8388608,\"verified\":0},{\"target\":1,\"phase\":"         \
  "\"verifying\",\"written\":20971520,\"verified\":1048576}]}"

#define DONE_LINE                                                                              \
  "{\"event\":\"done\",\"sha256\":\"163a0d3c5b6e2b6b8f5fd5fa1e3a4f07fd2f3c8de4f1b0bcd41c3a1bd9"  \
  "f0e2aa\",\"bytes\":20971520,\"verified\":true,\"targets\":[{\"target\":0,\"ok\":true},"      \
  "{\"target\":1,\"ok\":false}]}"

static RdImagerEvent *
parse_ok (const char *line)
{
  g_autoptr (GError) error = NULL;
  RdImagerEvent *event = rd_imager_event_parse (line, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (event);
  return event;
}

static void
test_start (void)
{
  g_autoptr (RdImagerEvent) event = parse_ok (START_LINE);
  RdImagerTarget *target;

  g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_START);
  g_assert_cmpstr (event->event_name, ==, "start");
  g_assert_cmpstr (event->source, ==, "/srv/images/oem.img.xz");
  g_assert_cmpstr (event->compression, ==, "xz");
  g_assert_true (event->total_known);
  g_assert_cmpuint (event->total, ==, 20971520);
  g_assert_true (event->verify);
  g_assert_cmpuint (event->targets->len, ==, 2);

  target = rd_imager_event_get_target (event, 0);
  g_assert_nonnull (target);
  g_assert_true (target->is_drive);
  g_assert_cmpstr (target->name, ==, "SanDisk Cruzer (/dev/sdb, 16.0 GB)");
  g_assert_cmpstr (target->object_path, ==, "/org/freedesktop/UDisks2/block_devices/sdb");
  g_assert_cmpstr (target->device, ==, "/dev/sdb");
  g_assert_cmpstr (target->vendor, ==, "SanDisk");
  g_assert_cmpstr (target->model, ==, "Cruzer");
  g_assert_cmpstr (target->serial, ==, "4C53000123");
  g_assert_cmpuint (target->size, ==, G_GUINT64_CONSTANT (16008609792));

  target = rd_imager_event_get_target (event, 1);
  g_assert_false (target->is_drive);
  g_assert_cmpstr (target->name, ==, "/tmp/key.img");
  g_assert_null (target->serial);
  g_assert_null (rd_imager_event_get_target (event, 2));

  /* An unknown size is null. */
  g_clear_pointer (&event, rd_imager_event_unref);
  event = parse_ok ("{\"event\":\"start\",\"source\":\"a.img.gz\",\"compression\":\"gzip\","
                    "\"total\":null,\"verify\":false,\"targets\":[]}");
  g_assert_false (event->total_known);
  g_assert_false (event->verify);
  g_assert_cmpuint (event->targets->len, ==, 0);
}

static void
test_phase (void)
{
  static const struct
  {
    const char *name;
    RdWritePhase phase;
  } phases[] = {
    { "preparing", RD_WRITE_PHASE_PREPARING }, { "writing", RD_WRITE_PHASE_WRITING },
    { "flushing", RD_WRITE_PHASE_FLUSHING },   { "verifying", RD_WRITE_PHASE_VERIFYING },
    { "done", RD_WRITE_PHASE_DONE },           { "cancelled", RD_WRITE_PHASE_CANCELLED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      g_autofree char *line
        = g_strdup_printf ("{\"event\":\"phase\",\"target\":%u,\"phase\":\"%s\"}", i + 1,
                           phases[i].name);
      g_autoptr (RdImagerEvent) event = parse_ok (line);

      g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_PHASE);
      g_assert_cmpuint (event->target, ==, i + 1);
      g_assert_cmpint (event->phase, ==, phases[i].phase);
    }
}

static void
test_progress (void)
{
  g_autoptr (RdImagerEvent) event = parse_ok (PROGRESS_LINE);
  RdImagerTarget *target;

  g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_PROGRESS);
  g_assert_cmpint (event->phase, ==, RD_WRITE_PHASE_WRITING);
  g_assert_cmpuint (event->bytes, ==, 8388608);
  g_assert_true (event->total_known);
  g_assert_cmpuint (event->total, ==, 20971520);
  g_assert_cmpuint (event->source_position, ==, 8390000);
  g_assert_cmpfloat_with_epsilon (event->rate, 41943040.0, 0.5);
  g_assert_true (event->eta_known);
  g_assert_cmpfloat_with_epsilon (event->eta, 0.3, 0.001);
  target = rd_imager_event_get_target (event, 1);
  g_assert_cmpint (target->phase, ==, RD_WRITE_PHASE_VERIFYING);
  g_assert_cmpuint (target->written, ==, 20971520);
  g_assert_cmpuint (target->verified, ==, 1048576);

  /* No total, no ETA yet. */
  g_clear_pointer (&event, rd_imager_event_unref);
  event = parse_ok ("{\"event\":\"progress\",\"phase\":\"writing\",\"bytes\":0,\"total\":null,"
                    "\"source_position\":0,\"rate\":0,\"eta\":null,\"targets\":[]}");
  g_assert_false (event->total_known);
  g_assert_false (event->eta_known);
  g_assert_cmpfloat (event->rate, ==, 0.0);
}

static void
test_target_failed (void)
{
  g_autoptr (RdImagerEvent) event = parse_ok (
    "{\"event\":\"target-failed\",\"target\":1,\"name\":\"Kingston DT (/dev/sdc, 8.0 GB)\","
    "\"code\":\"io\",\"message\":\"Writing to Kingston DT failed at byte 4194304: Input/output "
    "error\"}");
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_TARGET_FAILED);
  g_assert_cmpuint (event->target, ==, 1);
  g_assert_cmpstr (event->name, ==, "Kingston DT (/dev/sdc, 8.0 GB)");
  g_assert_cmpstr (event->code, ==, "io");
  error = rd_imager_event_to_error (event);
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "Input/output error"));
}

static void
test_done (void)
{
  g_autoptr (RdImagerEvent) event = parse_ok (DONE_LINE);

  g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_DONE);
  g_assert_cmpstr (event->sha256, ==,
                   "163a0d3c5b6e2b6b8f5fd5fa1e3a4f07fd2f3c8de4f1b0bcd41c3a1bd9f0e2aa");
  g_assert_cmpuint (event->bytes, ==, 20971520);
  g_assert_true (event->verified);
  g_assert_true (rd_imager_event_get_target (event, 0)->ok);
  g_assert_false (rd_imager_event_get_target (event, 1)->ok);
  g_assert_null (rd_imager_event_to_error (event));
}

static void
test_error (void)
{
  static const struct
  {
    const char *code;
    GQuark domain;
    int error;
  } codes[] = {
    { "too-small", 0, RD_IMAGING_ERROR_TOO_SMALL },
    { "needs-windows-media", 0, RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA },
    { "udisks", 0, RD_IMAGING_ERROR_UDISKS },
    { "verify-mismatch", 0, RD_IMAGING_ERROR_VERIFY_MISMATCH },
    { "something-new", 0, RD_IMAGING_ERROR_FAILED },
    { "cancelled", 1, G_IO_ERROR_CANCELLED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *line = g_strdup_printf (
        "{\"event\":\"error\",\"code\":\"%s\",\"message\":\"Because “%u”\"}", codes[i].code, i);
      g_autoptr (RdImagerEvent) event = parse_ok (line);
      g_autoptr (GError) error = rd_imager_event_to_error (event);
      g_autofree char *message = g_strdup_printf ("Because “%u”", i);

      g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_ERROR);
      g_assert_cmpstr (event->code, ==, codes[i].code);
      g_assert_error (error, (codes[i].domain ? G_IO_ERROR : RD_IMAGING_ERROR), codes[i].error);
      g_assert_cmpstr (error->message, ==, message);
    }
}

/* Unknown events and members are ignored, as the protocol asks. */
static void
test_unknown (void)
{
  g_autoptr (RdImagerEvent) event
    = parse_ok ("{\"event\":\"drive-added\",\"drive\":{\"device\":\"/dev/sdd\"}}");
  g_autoptr (RdImagerEvent) extra = parse_ok (
    "{\"event\":\"phase\",\"target\":0,\"phase\":\"writing\",\"new\":[1,2,{\"x\":null}]}");

  g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_UNKNOWN);
  g_assert_cmpstr (event->event_name, ==, "drive-added");
  g_assert_cmpint (extra->type, ==, RD_IMAGER_EVENT_PHASE);
}

static void
test_malformed (void)
{
  static const struct
  {
    const char *line;
    const char *says;
  } lines[] = {
    { "not json at all", "not JSON" },
    { "{\"event\":\"phase\",\"target\":0", "not JSON" },
    { "[1,2,3]", "not a JSON object" },
    { "{\"phase\":\"writing\"}", "without an “event”" },
    { "{\"event\":42}", "without an “event”" },
    { "{\"event\":\"phase\",\"target\":-1,\"phase\":\"writing\"}", "“target”" },
    { "{\"event\":\"phase\",\"target\":0,\"phase\":\"dancing\"}", "a known phase" },
    { "{\"event\":\"progress\",\"phase\":\"writing\",\"bytes\":\"many\"}", "“bytes”" },
    { "{\"event\":\"progress\",\"phase\":\"writing\",\"bytes\":1,\"rate\":\"fast\"}", "“rate”" },
    { "{\"event\":\"progress\",\"phase\":\"writing\",\"bytes\":1.5}", "“bytes”" },
    { "{\"event\":\"start\",\"source\":\"a\",\"targets\":{}}", "“targets”" },
    { "{\"event\":\"start\",\"targets\":[{\"target\":0}]}", "“name”" },
    { "{\"event\":\"start\",\"targets\":[7]}", "“targets”" },
    { "{\"event\":\"done\",\"bytes\":1,\"targets\":[]}", "“sha256”" },
    { "{\"event\":\"done\",\"sha256\":\"ab\",\"targets\":[{\"target\":0,\"ok\":\"yes\"}]}",
      "“ok”" },
    { "{\"event\":\"error\",\"code\":\"io\"}", "“message”" },
    { "{\"event\":\"target-failed\",\"message\":\"m\"}", "“target”" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RdImagerEvent) event = rd_imager_event_parse (lines[i].line, -1, &error);

      g_test_message ("%s", lines[i].line);
      g_assert_null (event);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, lines[i].says));
    }
}

/* The stream splits lines anywhere: byte by byte, several per read, with \r\n and blank lines. */
static void
test_partial_lines (void)
{
  g_autofree char *stream
    = g_strconcat (START_LINE, "\n", "{\"event\":\"phase\",\"target\":0,\"phase\":\"writing\"}\r\n",
                   "\n", PROGRESS_LINE, "\n", DONE_LINE, "\n", NULL);
  gsize len = strlen (stream);
  static const gsize chunk_sizes[] = { 1, 7, 64, 4096 };

  for (guint c = 0; c < G_N_ELEMENTS (chunk_sizes); c++)
    {
      g_autoptr (RdImagerProgressParser) parser = rd_imager_progress_parser_new ();
      g_autoptr (GPtrArray) events
        = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_imager_event_unref);
      g_autoptr (GError) error = NULL;

      for (gsize at = 0; at < len; at += chunk_sizes[c])
        {
          gsize n = MIN (chunk_sizes[c], len - at);

          g_assert_true (rd_imager_progress_parser_feed (parser, stream + at, n, events, &error));
          g_assert_no_error (error);
          /* Nothing is parsed before its newline arrives. */
          if (at + n < strlen (START_LINE) + 1)
            g_assert_cmpuint (events->len, ==, 0);
        }
      g_assert_true (rd_imager_progress_parser_finish (parser, &error));
      g_assert_no_error (error);

      g_assert_cmpuint (events->len, ==, 4);
      g_assert_cmpint (((RdImagerEvent *) events->pdata[0])->type, ==, RD_IMAGER_EVENT_START);
      g_assert_cmpint (((RdImagerEvent *) events->pdata[1])->type, ==, RD_IMAGER_EVENT_PHASE);
      g_assert_cmpint (((RdImagerEvent *) events->pdata[2])->type, ==, RD_IMAGER_EVENT_PROGRESS);
      g_assert_cmpint (((RdImagerEvent *) events->pdata[3])->type, ==, RD_IMAGER_EVENT_DONE);
    }
}

/* A bad line is reported with its number; the lines after it still arrive. A stream cut in
 * the middle of a line fails at the end. */
static void
test_stream_errors (void)
{
  g_autoptr (RdImagerProgressParser) parser = rd_imager_progress_parser_new ();
  g_autoptr (GPtrArray) events
    = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_imager_event_unref);
  g_autoptr (GError) error = NULL;
  const char *data = "{\"event\":\"phase\",\"target\":0,\"phase\":\"writing\"}\n"
                     "garbage\n"
                     "{\"event\":\"phase\",\"target\":0,\"phase\":\"verifying\"}\n"
                     "{\"event\":\"done\",\"sha";

  g_assert_false (rd_imager_progress_parser_feed (parser, data, strlen (data), events, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message, "Line 2: "));
  g_clear_error (&error);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpint (((RdImagerEvent *) events->pdata[1])->phase, ==, RD_WRITE_PHASE_VERIFYING);

  g_assert_false (rd_imager_progress_parser_finish (parser, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  g_clear_error (&error);

  /* A runaway line without a newline is dropped with an error rather than kept growing. */
  {
    g_autofree char *big = g_malloc (2 * 1024 * 1024);

    memset (big, 'x', 2 * 1024 * 1024);
    g_assert_false (rd_imager_progress_parser_feed (parser, big, 2 * 1024 * 1024, events, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error (&error);
    g_assert_true (rd_imager_progress_parser_finish (parser, &error));
  }
}

static void
test_boxed (void)
{
  g_autoptr (RdImagerEvent) event = parse_ok (DONE_LINE);
  RdImagerEvent *copy = g_boxed_copy (RD_TYPE_IMAGER_EVENT, event);

  g_assert_true (copy == event);
  g_boxed_free (RD_TYPE_IMAGER_EVENT, copy);
  g_assert_cmpstr (event->event_name, ==, "done");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/imager-progress/start", test_start);
  g_test_add_func ("/rd/imager-progress/phase", test_phase);
  g_test_add_func ("/rd/imager-progress/progress", test_progress);
  g_test_add_func ("/rd/imager-progress/target-failed", test_target_failed);
  g_test_add_func ("/rd/imager-progress/done", test_done);
  g_test_add_func ("/rd/imager-progress/error", test_error);
  g_test_add_func ("/rd/imager-progress/unknown", test_unknown);
  g_test_add_func ("/rd/imager-progress/malformed", test_malformed);
  g_test_add_func ("/rd/imager-progress/partial-lines", test_partial_lines);
  g_test_add_func ("/rd/imager-progress/stream-errors", test_stream_errors);
  g_test_add_func ("/rd/imager-progress/boxed", test_boxed);

  return g_test_run ();
}
