/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-imager-process.h"

#include "rd-imaging-error.h"

#include <glib/gi18n-lib.h>
#include <signal.h>

/* The helper's exit codes (src/imager/PROTOCOL.md). */
#define EXIT_PARTIAL 3
#define EXIT_CANCELLED 130

#define READ_CHUNK 16384
/* Enough of the helper's stderr to explain a crash; the rest is dropped. */
#define MAX_STDERR 65536

struct _RdImagerProcess
{
  GObject parent_instance;

  char *helper;
  GSubprocess *subprocess;
  GCancellable *io_cancellable; /* stops reading when the task is dropped */
  GTask *task;
  GCancellable *cancellable;
  gulong cancelled_id;
  RdImagerProgressParser *parser;
  GString *stderr_text;
  GError *protocol_error;
  RdImagerEvent *start;
  RdImagerEvent *done;
  RdImagerEvent *error;
  RdImagerEvent *compose_start;
  RdImagerEvent *compose_done;
  gboolean output_only; /* compose --output: compose-done is the result, no "done" comes */
  guint pending; /* stdout, stderr, exit */
  gboolean cancel_requested;
};

G_DEFINE_FINAL_TYPE (RdImagerProcess, rd_imager_process, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_HELPER,
  PROP_RUNNING,
  N_PROPS
};

enum
{
  SIGNAL_EVENT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/**
 * rd_imager_process_find_helper:
 *
 * Where recovery-desk-imager is: `$RECOVERY_DESK_IMAGER` when set (tests and `meson devenv`
 * point it at the build directory's binary), else the installed one in libexecdir.
 *
 * Returns: (transfer full): the helper's path
 */
char *
rd_imager_process_find_helper (void)
{
  const char *env = g_getenv ("RECOVERY_DESK_IMAGER");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_build_filename (RD_LIBEXECDIR, "recovery-desk-imager", NULL);
}

static void
rd_imager_process_dispose (GObject *object)
{
  RdImagerProcess *self = RD_IMAGER_PROCESS (object);

  /* The running task holds a reference, so nothing is running here; this is for safety. */
  if (self->subprocess != NULL)
    g_subprocess_send_signal (self->subprocess, SIGTERM);
  g_cancellable_cancel (self->io_cancellable);
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->subprocess);

  G_OBJECT_CLASS (rd_imager_process_parent_class)->dispose (object);
}

static void
rd_imager_process_finalize (GObject *object)
{
  RdImagerProcess *self = RD_IMAGER_PROCESS (object);

  g_free (self->helper);
  g_clear_pointer (&self->parser, rd_imager_progress_parser_free);
  if (self->stderr_text != NULL)
    g_string_free (self->stderr_text, TRUE);
  g_clear_error (&self->protocol_error);
  g_clear_pointer (&self->start, rd_imager_event_unref);
  g_clear_pointer (&self->done, rd_imager_event_unref);
  g_clear_pointer (&self->error, rd_imager_event_unref);
  g_clear_pointer (&self->compose_start, rd_imager_event_unref);
  g_clear_pointer (&self->compose_done, rd_imager_event_unref);

  G_OBJECT_CLASS (rd_imager_process_parent_class)->finalize (object);
}

static void
rd_imager_process_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdImagerProcess *self = RD_IMAGER_PROCESS (object);

  switch (prop_id)
    {
    case PROP_HELPER:
      g_value_set_string (value, self->helper);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, rd_imager_process_get_running (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_imager_process_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  RdImagerProcess *self = RD_IMAGER_PROCESS (object);

  switch (prop_id)
    {
    case PROP_HELPER:
      rd_imager_process_set_helper (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_imager_process_class_init (RdImagerProcessClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_imager_process_dispose;
  object_class->finalize = rd_imager_process_finalize;
  object_class->get_property = rd_imager_process_get_property;
  object_class->set_property = rd_imager_process_set_property;

  properties[PROP_HELPER]
    = g_param_spec_string ("helper", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING]
    = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RdImagerProcess::event:
   * @event: the parsed line
   *
   * One line of progress; detailed by the event's name ("start", "phase", "progress",
   * "target-failed", "done", "error", or a name a later helper adds).
   */
  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL,
                                        NULL, G_TYPE_NONE, 1,
                                        RD_TYPE_IMAGER_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
rd_imager_process_init (RdImagerProcess *self)
{
  self->helper = rd_imager_process_find_helper ();
}

RdImagerProcess *
rd_imager_process_new (void)
{
  return g_object_new (RD_TYPE_IMAGER_PROCESS, NULL);
}

const char *
rd_imager_process_get_helper (RdImagerProcess *self)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), NULL);
  return self->helper;
}

/**
 * rd_imager_process_set_helper:
 * @helper: (nullable): the helper to run; %NULL for rd_imager_process_find_helper()'s
 */
void
rd_imager_process_set_helper (RdImagerProcess *self, const char *helper)
{
  g_autofree char *found = NULL;

  g_return_if_fail (RD_IS_IMAGER_PROCESS (self));

  if (helper == NULL)
    helper = found = rd_imager_process_find_helper ();
  if (g_strcmp0 (self->helper, helper) == 0)
    return;
  g_free (self->helper);
  self->helper = g_strdup (helper);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HELPER]);
}

gboolean
rd_imager_process_get_running (RdImagerProcess *self)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), FALSE);
  return self->task != NULL;
}

/**
 * rd_imager_process_get_start:
 *
 * Returns: (nullable) (transfer none): the last run's "start" event, naming its targets
 */
RdImagerEvent *
rd_imager_process_get_start (RdImagerProcess *self)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), NULL);
  return self->start;
}

/**
 * rd_imager_process_get_done:
 *
 * Returns: (nullable) (transfer none): the last run's "done" event: the image's SHA-256 and
 *   which targets were written and verified
 */
RdImagerEvent *
rd_imager_process_get_done (RdImagerProcess *self)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), NULL);
  return self->done;
}

/**
 * rd_imager_process_get_compose_start:
 *
 * Returns: (nullable) (transfer none): the last compose run's "compose-start" event: the
 *   layout, the partition table and the size of the image the key receives
 */
RdImagerEvent *
rd_imager_process_get_compose_start (RdImagerProcess *self)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), NULL);
  return self->compose_start;
}

/**
 * rd_imager_process_get_compose_done:
 *
 * Returns: (nullable) (transfer none): the last compose run's "compose-done" event
 */
RdImagerEvent *
rd_imager_process_get_compose_done (RdImagerProcess *self)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), NULL);
  return self->compose_done;
}

/* Running */

static char *
last_stderr_line (RdImagerProcess *self)
{
  g_auto (GStrv) lines = NULL;

  if (self->stderr_text == NULL)
    return NULL;
  lines = g_strsplit (self->stderr_text->str, "\n", -1);
  for (guint i = g_strv_length (lines); i > 0; i--)
    {
      g_strstrip (lines[i - 1]);
      if (lines[i - 1][0] != '\0')
        return g_strdup (lines[i - 1]);
    }
  return NULL;
}

static GError *
result_error (RdImagerProcess *self)
{
  GSubprocess *subprocess = self->subprocess;
  g_autofree char *detail = last_stderr_line (self);
  int status;

  if (!g_subprocess_get_if_exited (subprocess))
    {
      if (self->cancel_requested)
        return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Writing was cancelled"));
      return g_error_new (RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                          _("The imaging helper was stopped by signal %d"),
                          g_subprocess_get_term_sig (subprocess));
    }

  status = g_subprocess_get_exit_status (subprocess);
  if (status == 0)
    {
      if (self->output_only ? self->compose_done != NULL : self->done != NULL)
        return NULL;
      return g_error_new (RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                          _("The imaging helper finished without reporting the result: %s"),
                          self->protocol_error ? self->protocol_error->message : _("no “done” line"));
    }
  if (status == EXIT_CANCELLED || (self->cancel_requested && self->done == NULL))
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Writing was cancelled"));
  if (self->error != NULL)
    return rd_imager_event_to_error (self->error);
  if (status == EXIT_PARTIAL)
    return g_error_new_literal (RD_IMAGING_ERROR, RD_IMAGING_ERROR_TARGETS_FAILED,
                                detail ? detail : _("Some keys could not be written"));
  return g_error_new (RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                      _("The imaging helper failed (exit status %d): %s"), status,
                      detail ? detail
                             : self->protocol_error ? self->protocol_error->message
                                                    : _("it gave no reason"));
}

static void
finish_run (RdImagerProcess *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->task);
  GError *error;

  g_cancellable_disconnect (self->cancellable, self->cancelled_id);
  self->cancelled_id = 0;
  g_clear_object (&self->cancellable);

  error = result_error (self);
  g_clear_object (&self->subprocess);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
step_done (RdImagerProcess *self)
{
  g_assert (self->pending > 0);
  if (--self->pending == 0)
    finish_run (self);
}

static void
dispatch (RdImagerProcess *self, RdImagerEvent *event)
{
  RdImagerEvent **keep = NULL;

  switch (event->type)
    {
    case RD_IMAGER_EVENT_START:
      keep = &self->start;
      break;
    case RD_IMAGER_EVENT_DONE:
      keep = &self->done;
      break;
    case RD_IMAGER_EVENT_ERROR:
      keep = &self->error;
      break;
    case RD_IMAGER_EVENT_COMPOSE_START:
      keep = &self->compose_start;
      break;
    case RD_IMAGER_EVENT_COMPOSE_DONE:
      keep = &self->compose_done;
      break;
    case RD_IMAGER_EVENT_COMPOSE_PROGRESS:
    case RD_IMAGER_EVENT_UNKNOWN:
    case RD_IMAGER_EVENT_PHASE:
    case RD_IMAGER_EVENT_PROGRESS:
    case RD_IMAGER_EVENT_TARGET_FAILED:
    default:
      break;
    }
  if (keep != NULL)
    {
      g_clear_pointer (keep, rd_imager_event_unref);
      *keep = rd_imager_event_ref (event);
    }
  g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_from_string (event->event_name), event);
}

static void read_stdout (RdImagerProcess *self);

static void
on_stdout_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RdImagerProcess) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GPtrArray) events = NULL;
  gsize size;
  const char *data;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->protocol_error == NULL)
        self->protocol_error = g_steal_pointer (&error);
      step_done (self);
      return;
    }

  data = g_bytes_get_data (bytes, &size);
  if (size == 0)
    {
      if (!rd_imager_progress_parser_finish (self->parser, &error) && self->protocol_error == NULL)
        self->protocol_error = g_steal_pointer (&error);
      step_done (self);
      return;
    }

  events = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_imager_event_unref);
  if (!rd_imager_progress_parser_feed (self->parser, data, size, events, &error))
    {
      g_debug ("%s", error->message);
      if (self->protocol_error == NULL)
        self->protocol_error = g_steal_pointer (&error);
    }
  for (guint i = 0; i < events->len; i++)
    dispatch (self, g_ptr_array_index (events, i));
  read_stdout (self);
}

static void
read_stdout (RdImagerProcess *self)
{
  g_input_stream_read_bytes_async (g_subprocess_get_stdout_pipe (self->subprocess), READ_CHUNK,
                                   G_PRIORITY_DEFAULT, self->io_cancellable, on_stdout_read_cb,
                                   g_object_ref (self));
}

static void read_stderr (RdImagerProcess *self);

static void
on_stderr_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RdImagerProcess) self = user_data;
  g_autoptr (GBytes) bytes = NULL;
  gsize size;
  const char *data;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, NULL);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      step_done (self);
      return;
    }
  data = g_bytes_get_data (bytes, &size);
  if (self->stderr_text->len < MAX_STDERR)
    g_string_append_len (self->stderr_text, data, size);
  read_stderr (self);
}

static void
read_stderr (RdImagerProcess *self)
{
  g_input_stream_read_bytes_async (g_subprocess_get_stderr_pipe (self->subprocess), READ_CHUNK,
                                   G_PRIORITY_DEFAULT, self->io_cancellable, on_stderr_read_cb,
                                   g_object_ref (self));
}

static void
on_wait_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RdImagerProcess) self = user_data;

  /* Without a cancellable this only fails if the child could not be reaped at all. */
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  step_done (self);
}

static void
on_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  rd_imager_process_cancel (RD_IMAGER_PROCESS (user_data));
}

/* Starts the helper with @argv (NULL-terminated) for a task tagged @source_tag, or returns the
 * task's error; finish_helper() takes what it returns. */
static void
start_helper (RdImagerProcess    *self,
              gpointer            source_tag,
              GPtrArray          *argv,
              gboolean            output_only,
              GCancellable       *cancellable,
              GAsyncReadyCallback callback,
              gpointer            user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;

  g_task_set_source_tag (task, source_tag);
  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("The imaging helper is already writing"));
      return;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* The helper's messages are read by people; its JSON is not translated anyway. */
  self->subprocess = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                                   &error);
  if (self->subprocess == NULL)
    {
      g_task_return_new_error (task, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                               _("Could not start the imaging helper “%s”: %s"), self->helper,
                               error->message);
      return;
    }

  g_clear_pointer (&self->start, rd_imager_event_unref);
  g_clear_pointer (&self->done, rd_imager_event_unref);
  g_clear_pointer (&self->error, rd_imager_event_unref);
  g_clear_pointer (&self->compose_start, rd_imager_event_unref);
  g_clear_pointer (&self->compose_done, rd_imager_event_unref);
  g_clear_error (&self->protocol_error);
  g_clear_pointer (&self->parser, rd_imager_progress_parser_free);
  self->parser = rd_imager_progress_parser_new ();
  if (self->stderr_text != NULL)
    g_string_free (self->stderr_text, TRUE);
  self->stderr_text = g_string_new (NULL);
  self->cancel_requested = FALSE;
  self->output_only = output_only;
  g_clear_object (&self->io_cancellable);
  self->io_cancellable = g_cancellable_new ();
  self->task = g_steal_pointer (&task);
  self->pending = 3;

  read_stdout (self);
  read_stderr (self);
  g_subprocess_wait_async (self->subprocess, NULL, on_wait_cb, g_object_ref (self));
  if (cancellable != NULL)
    {
      self->cancellable = g_object_ref (cancellable);
      self->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled_cb),
                                                  self, NULL);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* The end of a run that start_helper() began for @source_tag. */
static gboolean
finish_helper (RdImagerProcess *self,
               GAsyncResult    *result,
               gpointer         source_tag,
               GError         **error)
{
  g_return_val_if_fail (RD_IS_IMAGER_PROCESS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, source_tag), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rd_imager_process_write_async:
 * @source: the image file
 * @targets: (array zero-terminated=1): UDisks object paths, device nodes or regular files, at
 *   most eight
 * @cancellable: (nullable): cancelling it sends SIGTERM to the helper, which stops, wipes the
 *   start and end of each key and exits; the run then finishes with G_IO_ERROR_CANCELLED
 *
 * Runs `recovery-desk-imager write SOURCE TARGET… --yes --progress json`: the caller has
 * already had the admin confirm erasing the targets. Emits #RdImagerProcess::event per line.
 */
void
rd_imager_process_write_async (RdImagerProcess    *self,
                               const char         *source,
                               const char *const  *targets,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_autoptr (GPtrArray) argv = NULL;

  g_return_if_fail (RD_IS_IMAGER_PROCESS (self));
  g_return_if_fail (source != NULL);
  g_return_if_fail (targets != NULL && targets[0] != NULL);

  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, self->helper);
  g_ptr_array_add (argv, (char *) "write");
  g_ptr_array_add (argv, (char *) "--yes");
  g_ptr_array_add (argv, (char *) "--progress");
  g_ptr_array_add (argv, (char *) "json");
  g_ptr_array_add (argv, (char *) source);
  for (guint i = 0; targets[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) targets[i]);
  g_ptr_array_add (argv, NULL);

  start_helper (self, rd_imager_process_write_async, argv, FALSE, cancellable, callback, user_data);
}

/**
 * rd_imager_process_write_finish:
 *
 * Returns: %TRUE when every target was written, flushed and verified; else @error says why:
 *   the helper's own error (RD_IMAGING_ERROR_TOO_SMALL, ...), RD_IMAGING_ERROR_TARGETS_FAILED
 *   when only some targets failed (rd_imager_process_get_done() says which), or
 *   G_IO_ERROR_CANCELLED
 */
gboolean
rd_imager_process_write_finish (RdImagerProcess *self, GAsyncResult *result, GError **error)
{
  return finish_helper (self, result, rd_imager_process_write_async, error);
}

/**
 * rd_imager_process_compose_async:
 * @options: the ISO, the layout and the rest of what to build
 * @targets: (array zero-terminated=1) (nullable): UDisks object paths, device nodes or regular
 *   files, at most eight; %NULL or empty with @options->output
 * @cancellable: (nullable): cancelling it sends SIGTERM to the helper, which removes its scratch
 *   image, wipes the start and end of each key it had begun and exits
 *
 * Runs `recovery-desk-imager compose --iso ISO --layout … --yes --progress json TARGET…` (or
 * `--output FILE`): the helper composes the key in a scratch image ("compose-start",
 * "compose-progress", "compose-done"), then writes and verifies it as write does ("start" …
 * "done"). The caller has already had the admin confirm erasing the targets.
 */
void
rd_imager_process_compose_async (RdImagerProcess              *self,
                                 const RdImagerComposeOptions *options,
                                 const char *const            *targets,
                                 GCancellable                 *cancellable,
                                 GAsyncReadyCallback           callback,
                                 gpointer                      user_data)
{
  g_autoptr (GPtrArray) argv = NULL;
  gboolean output_only;

  g_return_if_fail (RD_IS_IMAGER_PROCESS (self));
  g_return_if_fail (options != NULL && options->iso != NULL);
  output_only = options->output != NULL;
  g_return_if_fail (output_only != (targets != NULL && targets[0] != NULL));

  argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup (self->helper));
  g_ptr_array_add (argv, g_strdup ("compose"));
  g_ptr_array_add (argv, g_strdup ("--progress"));
  g_ptr_array_add (argv, g_strdup ("json"));
  g_ptr_array_add (argv, g_strdup_printf ("--iso=%s", options->iso));
  g_ptr_array_add (argv, g_strdup_printf ("--layout=%s",
                                          options->layout == RD_MEDIA_LAYOUT_WINPE_IMAGES
                                            ? "winpe-images"
                                            : "setup"));
  g_ptr_array_add (argv, g_strdup_printf ("--table=%s", options->table == RD_PARTITION_TABLE_MBR
                                                          ? "mbr"
                                                          : "gpt"));
  for (guint i = 0; options->payloads != NULL && options->payloads[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--payload=%s", options->payloads[i]));
  if (options->split_mib > 0)
    g_ptr_array_add (argv, g_strdup_printf ("--split-size=%u", options->split_mib));
  if (options->winpe_mib > 0)
    g_ptr_array_add (argv, g_strdup_printf ("--winpe-size=%u", options->winpe_mib));
  if (options->scratch_dir != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--scratch=%s", options->scratch_dir));
  if (output_only)
    {
      g_ptr_array_add (argv, g_strdup_printf ("--output=%s", options->output));
    }
  else
    {
      g_ptr_array_add (argv, g_strdup ("--yes"));
      /* Targets after "--", so that none is taken for an option. */
      g_ptr_array_add (argv, g_strdup ("--"));
      for (guint i = 0; targets[i] != NULL; i++)
        g_ptr_array_add (argv, g_strdup (targets[i]));
    }
  g_ptr_array_add (argv, NULL);

  start_helper (self, rd_imager_process_compose_async, argv, output_only, cancellable, callback,
                user_data);
}

/**
 * rd_imager_process_compose_finish:
 *
 * Returns: %TRUE when the key was composed and every target written, flushed and verified (or
 *   the image saved, with an output); else @error says why, as for
 *   rd_imager_process_write_finish(); refusals before composing (no boot files, a solid WIM,
 *   too little scratch space, a key too small) are the helper's own errors
 */
gboolean
rd_imager_process_compose_finish (RdImagerProcess *self, GAsyncResult *result, GError **error)
{
  return finish_helper (self, result, rd_imager_process_compose_async, error);
}

/**
 * rd_imager_process_cancel:
 *
 * Asks the running helper to stop (SIGTERM). It wipes the start and end of each key it had
 * begun and exits; the write then finishes with G_IO_ERROR_CANCELLED.
 */
void
rd_imager_process_cancel (RdImagerProcess *self)
{
  g_return_if_fail (RD_IS_IMAGER_PROCESS (self));

  if (self->subprocess == NULL || self->task == NULL)
    return;
  self->cancel_requested = TRUE;
  g_subprocess_send_signal (self->subprocess, SIGTERM);
}
