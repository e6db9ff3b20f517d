/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "imaging-test-common.h"
#include "rd-imager-process.h"

#include <glib/gstdio.h>
#include <string.h>

/* RdImagerProcess running the real recovery-desk-imager (RECOVERY_DESK_IMAGER, set by meson)
 * against regular-file targets, which need no UDisks. */

typedef struct
{
  ImagingFixtureFiles files;
  RdImagerProcess *process;
  GPtrArray *events;
  GAsyncResult *result;
  gboolean cancel_on_writing;
  GCancellable *cancellable;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  imaging_files_init (&f->files, 3 * 1024 * 1024 + 1234);
  f->process = rd_imager_process_new ();
  f->events = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_imager_event_unref);
  f->cancellable = g_cancellable_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->result);
  g_assert_finalize_object (f->process);
  g_ptr_array_unref (f->events);
  g_object_unref (f->cancellable);
  imaging_files_clear (&f->files);
}

static void
on_event_cb (RdImagerProcess *process, RdImagerEvent *event, Fixture *f)
{
  g_ptr_array_add (f->events, rd_imager_event_ref (event));
  if (f->cancel_on_writing && event->type == RD_IMAGER_EVENT_PHASE
      && event->phase == RD_WRITE_PHASE_WRITING)
    g_cancellable_cancel (f->cancellable);
}

static void
on_write_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->result = g_object_ref (result);
}

static gboolean
run (Fixture *f, const char *source, const char *const *targets, GError **error)
{
  gulong id = g_signal_connect (f->process, "event", G_CALLBACK (on_event_cb), f);
  gboolean ok;

  g_clear_object (&f->result);
  g_ptr_array_set_size (f->events, 0);
  rd_imager_process_write_async (f->process, source, targets, f->cancellable, on_write_cb, f);
  while (f->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (f->process, id);

  g_assert_false (rd_imager_process_get_running (f->process));
  ok = rd_imager_process_write_finish (f->process, f->result, error);
  return ok;
}

static guint
count_events (Fixture *f, RdImagerEventType type)
{
  guint n = 0;

  for (guint i = 0; i < f->events->len; i++)
    if (((RdImagerEvent *) f->events->pdata[i])->type == type)
      n++;
  return n;
}

static gboolean
saw_phase (Fixture *f, guint target, RdWritePhase phase)
{
  for (guint i = 0; i < f->events->len; i++)
    {
      RdImagerEvent *event = f->events->pdata[i];

      if (event->type == RD_IMAGER_EVENT_PHASE && event->target == target && event->phase == phase)
        return TRUE;
    }
  return FALSE;
}

static char *
sha256_of (const guint8 *data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

static void
test_helper_path (Fixture *f, gconstpointer data)
{
  g_autofree char *found = rd_imager_process_find_helper ();

  /* Meson points the tests at the build directory's helper. */
  g_assert_cmpstr (found, ==, g_getenv ("RECOVERY_DESK_IMAGER"));
  g_assert_cmpstr (rd_imager_process_get_helper (f->process), ==, found);
  g_assert_true (g_file_test (found, G_FILE_TEST_IS_EXECUTABLE));
}

static void
on_done_detail_cb (RdImagerProcess *process, RdImagerEvent *event, gboolean *seen)
{
  g_assert_cmpint (event->type, ==, RD_IMAGER_EVENT_DONE);
  *seen = TRUE;
}

static void
on_running_cb (GObject *object, GParamSpec *pspec, guint *changes)
{
  (*changes)++;
}

static void
test_write_files (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *xz = imaging_files_compress (&f->files, "xz");
  g_autofree char *key1 = g_build_filename (f->files.dir, "key1.img", NULL);
  g_autofree char *key2 = g_build_filename (f->files.dir, "key2.img", NULL);
  g_autofree char *sha = sha256_of (f->files.raw_data, f->files.raw_size);
  const char *targets[] = { key1, key2, NULL };
  RdImagerEvent *start, *done, *last;
  gboolean detailed_done = FALSE;
  guint changes = 0;
  gulong id;

  id = g_signal_connect (f->process, "event::done", G_CALLBACK (on_done_detail_cb),
                         &detailed_done);
  g_assert_true (run (f, xz, targets, &error));
  g_assert_no_error (error);
  g_assert_true (detailed_done);
  g_signal_handler_disconnect (f->process, id);

  start = f->events->pdata[0];
  last = f->events->pdata[f->events->len - 1];
  g_assert_cmpint (start->type, ==, RD_IMAGER_EVENT_START);
  g_assert_cmpint (last->type, ==, RD_IMAGER_EVENT_DONE);
  g_assert_true (rd_imager_process_get_start (f->process) == start);
  g_assert_cmpstr (start->compression, ==, "xz");
  g_assert_cmpuint (start->targets->len, ==, 2);
  g_assert_false (rd_imager_event_get_target (start, 0)->is_drive);
  g_assert_cmpstr (rd_imager_event_get_target (start, 1)->name, ==, key2);

  /* Phases are sampled 5 times a second, so a small image may skip straight to done. */
  g_assert_true (saw_phase (f, 0, RD_WRITE_PHASE_DONE));
  g_assert_true (saw_phase (f, 1, RD_WRITE_PHASE_DONE));
  g_assert_cmpuint (count_events (f, RD_IMAGER_EVENT_PROGRESS), >=, 1);
  g_assert_cmpuint (count_events (f, RD_IMAGER_EVENT_ERROR), ==, 0);

  done = rd_imager_process_get_done (f->process);
  g_assert_true (done == last);
  g_assert_cmpstr (done->sha256, ==, sha);
  g_assert_true (done->verified);
  g_assert_cmpuint (done->bytes, ==, f->files.raw_size);
  g_assert_true (rd_imager_event_get_target (done, 0)->ok);
  g_assert_true (rd_imager_event_get_target (done, 1)->ok);

  imaging_assert_file_prefix (key1, f->files.raw_data, f->files.raw_size);
  imaging_assert_file_prefix (key2, f->files.raw_data, f->files.raw_size);

  /* The same object runs again; "running" goes up and down. */
  id = g_signal_connect (f->process, "notify::running", G_CALLBACK (on_running_cb), &changes);
  g_assert_true (run (f, f->files.raw, (const char *[]){ key1, NULL }, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changes, ==, 2);
  g_signal_handler_disconnect (f->process, id);
  g_assert_cmpstr (rd_imager_process_get_done (f->process)->sha256, ==, sha);
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->files.dir, "no-such.img", NULL);
  g_autofree char *key = g_build_filename (f->files.dir, "key.img", NULL);
  RdImagerEvent *last;

  g_assert_false (run (f, missing, (const char *[]){ key, NULL }, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == RD_IMAGING_ERROR);
  g_assert_nonnull (strstr (error->message, "no-such.img"));
  last = f->events->pdata[f->events->len - 1];
  g_assert_cmpint (last->type, ==, RD_IMAGER_EVENT_ERROR);
  g_assert_null (rd_imager_process_get_done (f->process));
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
}

static void
test_missing_helper (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = g_build_filename (f->files.dir, "key.img", NULL);

  rd_imager_process_set_helper (f->process, "/nonexistent/recovery-desk-imager");
  g_assert_false (run (f, f->files.raw, (const char *[]){ key, NULL }, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/recovery-desk-imager"));

  rd_imager_process_set_helper (f->process, NULL);
  g_assert_cmpstr (rd_imager_process_get_helper (f->process), ==,
                   g_getenv ("RECOVERY_DESK_IMAGER"));
}

/* Cancelling sends SIGTERM; the helper removes the half-written file and exits 130. */
static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_build_filename (f->files.dir, "big.img", NULL);
  g_autofree char *key = g_build_filename (f->files.dir, "key.img", NULL);
  g_autofree char *cmd = g_strdup_printf ("truncate -s 2G %s", big);
  g_autofree char *copy = NULL;

  /* A sparse image with the fixture's MBR in front: big enough not to finish first. */
  imaging_run (cmd);
  copy = g_strdup_printf ("dd if=%s of=%s bs=512 count=1 conv=notrunc status=none",
                          f->files.raw, big);
  imaging_run (copy);

  f->cancel_on_writing = TRUE;
  g_assert_false (run (f, big, (const char *[]){ key, NULL }, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (rd_imager_process_get_done (f->process));
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
  g_unlink (big);

  /* An already cancelled cancellable starts nothing. */
  g_clear_error (&error);
  g_assert_false (run (f, f->files.raw, (const char *[]){ key, NULL }, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->events->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/rd/imager-process/helper-path", test_helper_path);
  ADD ("/rd/imager-process/write-files", test_write_files);
  ADD ("/rd/imager-process/refused", test_refused);
  ADD ("/rd/imager-process/missing-helper", test_missing_helper);
  ADD ("/rd/imager-process/cancel", test_cancel);
#undef ADD

  return g_test_run ();
}
