/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-imager-progress.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* A line longer than this is not progress: the helper's longest lines ("start" with eight
 * drives) are a few KiB. */
#define MAX_LINE_LENGTH (1024 * 1024)

G_DEFINE_BOXED_TYPE (RdImagerEvent, rd_imager_event, rd_imager_event_ref, rd_imager_event_unref)

static void
target_clear (gpointer data)
{
  RdImagerTarget *target = data;

  g_free (target->name);
  g_free (target->object_path);
  g_free (target->device);
  g_free (target->vendor);
  g_free (target->model);
  g_free (target->serial);
}

static void
event_clear (gpointer data)
{
  RdImagerEvent *event = data;

  g_free (event->event_name);
  g_free (event->source);
  g_free (event->compression);
  g_free (event->name);
  g_free (event->code);
  g_free (event->message);
  g_free (event->sha256);
  g_clear_pointer (&event->targets, g_array_unref);
  g_free (event->iso);
  g_free (event->layout);
  g_free (event->table);
  g_free (event->volume_label);
  g_free (event->output);
}

RdImagerEvent *
rd_imager_event_ref (RdImagerEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  return g_atomic_rc_box_acquire (event);
}

void
rd_imager_event_unref (RdImagerEvent *event)
{
  g_return_if_fail (event != NULL);
  g_atomic_rc_box_release_full (event, event_clear);
}

/**
 * rd_imager_event_get_target:
 *
 * Returns: (nullable): the target with index @index in the event's targets, or %NULL
 */
RdImagerTarget *
rd_imager_event_get_target (RdImagerEvent *event, guint index)
{
  g_return_val_if_fail (event != NULL, NULL);

  for (guint i = 0; i < event->targets->len; i++)
    {
      RdImagerTarget *target = &g_array_index (event->targets, RdImagerTarget, i);

      if (target->index == index)
        return target;
    }
  return NULL;
}

gboolean
rd_write_phase_from_string (const char *name, RdWritePhase *phase)
{
  static const struct
  {
    const char *name;
    RdWritePhase phase;
  } phases[] = {
    { "pending", RD_WRITE_PHASE_PENDING },     { "preparing", RD_WRITE_PHASE_PREPARING },
    { "writing", RD_WRITE_PHASE_WRITING },     { "flushing", RD_WRITE_PHASE_FLUSHING },
    { "verifying", RD_WRITE_PHASE_VERIFYING }, { "done", RD_WRITE_PHASE_DONE },
    { "failed", RD_WRITE_PHASE_FAILED },       { "cancelled", RD_WRITE_PHASE_CANCELLED },
  };

  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (phases); i++)
    if (g_str_equal (name, phases[i].name))
      {
        *phase = phases[i].phase;
        return TRUE;
      }
  return FALSE;
}

/* The compose steps as compose-progress names them, in RdComposeStep order. */
static const char *const compose_steps[] = { "preparing", "partitioning", "splitting", "copying",
                                             "done" };

gboolean
rd_compose_step_from_string (const char *name, RdComposeStep *step)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (compose_steps); i++)
    if (g_str_equal (name, compose_steps[i]))
      {
        *step = (RdComposeStep) i;
        return TRUE;
      }
  return FALSE;
}

/**
 * rd_compose_step_to_string:
 *
 * Returns: the step's name in compose-progress events ("preparing", "copying", ...)
 */
const char *
rd_compose_step_to_string (RdComposeStep step)
{
  if ((guint) step >= G_N_ELEMENTS (compose_steps))
    return "unknown";
  return compose_steps[step];
}

/**
 * rd_compose_step_get_title:
 *
 * Returns: what the step does, for people ("Reading the ISO", "Copying files", ...)
 */
const char *
rd_compose_step_get_title (RdComposeStep step)
{
  switch (step)
    {
    case RD_COMPOSE_STEP_PREPARING:
      return _("Reading the ISO");
    case RD_COMPOSE_STEP_PARTITIONING:
      return _("Making the partitions");
    case RD_COMPOSE_STEP_SPLITTING:
      return _("Splitting install.wim");
    case RD_COMPOSE_STEP_COPYING:
      return _("Copying files");
    case RD_COMPOSE_STEP_DONE:
    default:
      return _("Composed");
    }
}

/**
 * rd_imaging_error_from_code:
 * @code: an error `code` of the protocol ("too-small", "udisks", ...)
 *
 * Returns: the #RdImagingError the helper had; RD_IMAGING_ERROR_FAILED for codes it does not
 *   know
 */
RdImagingError
rd_imaging_error_from_code (const char *code)
{
  static const struct
  {
    const char *code;
    RdImagingError error;
  } codes[] = {
    { "io", RD_IMAGING_ERROR_IO },
    { "unsupported", RD_IMAGING_ERROR_UNSUPPORTED },
    { "corrupt", RD_IMAGING_ERROR_CORRUPT },
    { "needs-windows-media", RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA },
    { "system-drive", RD_IMAGING_ERROR_SYSTEM_DRIVE },
    { "holds-source", RD_IMAGING_ERROR_HOLDS_SOURCE },
    { "holds-system", RD_IMAGING_ERROR_HOLDS_SYSTEM },
    { "read-only", RD_IMAGING_ERROR_READ_ONLY },
    { "too-small", RD_IMAGING_ERROR_TOO_SMALL },
    { "not-removable", RD_IMAGING_ERROR_NOT_REMOVABLE },
    { "not-found", RD_IMAGING_ERROR_NOT_FOUND },
    { "verify-mismatch", RD_IMAGING_ERROR_VERIFY_MISMATCH },
    { "targets-failed", RD_IMAGING_ERROR_TARGETS_FAILED },
    { "too-many-targets", RD_IMAGING_ERROR_TOO_MANY_TARGETS },
    { "udisks", RD_IMAGING_ERROR_UDISKS },
  };

  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (codes); i++)
    if (g_str_equal (code, codes[i].code))
      return codes[i].error;
  return RD_IMAGING_ERROR_FAILED;
}

/**
 * rd_imager_event_to_error:
 *
 * Returns: (nullable): for "error" and "target-failed" events, the error they report
 *   (G_IO_ERROR_CANCELLED for code "cancelled"); %NULL for other events
 */
GError *
rd_imager_event_to_error (RdImagerEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);

  if (event->type != RD_IMAGER_EVENT_ERROR && event->type != RD_IMAGER_EVENT_TARGET_FAILED)
    return NULL;
  if (g_strcmp0 (event->code, "cancelled") == 0)
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, event->message);
  return g_error_new_literal (RD_IMAGING_ERROR, rd_imaging_error_from_code (event->code),
                              event->message);
}

/* Parsing */

typedef struct
{
  JsonObject *object;
  const char *event;
  GError **error;
} Reader;

static gboolean
fail (Reader *reader, const char *member, const char *expected)
{
  g_set_error (reader->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The imaging helper sent a “%s” event whose “%s” is not %s"), reader->event,
               member, expected);
  return FALSE;
}

static JsonNode *
member_node (Reader *reader, const char *member)
{
  return json_object_get_member (reader->object, member);
}

static gboolean
read_string (Reader *reader, const char *member, gboolean required, char **out)
{
  JsonNode *node = member_node (reader, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return required ? fail (reader, member, _("a string")) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fail (reader, member, _("a string"));
  g_free (*out);
  *out = json_node_dup_string (node);
  return TRUE;
}

static gboolean
is_number (JsonNode *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
read_double (Reader *reader, const char *member, gboolean required, double *out, gboolean *known)
{
  JsonNode *node = member_node (reader, member);

  if (known != NULL)
    *known = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return required && known == NULL ? fail (reader, member, _("a number")) : TRUE;
  if (!is_number (node))
    return fail (reader, member, _("a number"));
  *out = json_node_get_double (node);
  if (known != NULL)
    *known = TRUE;
  return TRUE;
}

/* A byte count or index: a non-negative integer. With @known, null is allowed and says so. */
static gboolean
read_count (Reader *reader, const char *member, gboolean required, guint64 *out, gboolean *known)
{
  JsonNode *node = member_node (reader, member);

  if (known != NULL)
    *known = FALSE;
  if (node == NULL || (JSON_NODE_HOLDS_NULL (node) && known == NULL))
    return required ? fail (reader, member, _("a whole number")) : TRUE;
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0)
    return fail (reader, member, _("a whole number"));
  *out = (guint64) json_node_get_int (node);
  if (known != NULL)
    *known = TRUE;
  return TRUE;
}

static gboolean
read_index (Reader *reader, const char *member, guint *out)
{
  guint64 value = 0;

  if (!read_count (reader, member, TRUE, &value, NULL))
    return FALSE;
  if (value > G_MAXUINT)
    return fail (reader, member, _("a target index"));
  *out = (guint) value;
  return TRUE;
}

static gboolean
read_bool (Reader *reader, const char *member, gboolean *out)
{
  JsonNode *node = member_node (reader, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return fail (reader, member, _("true or false"));
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
read_phase (Reader *reader, const char *member, RdWritePhase *out)
{
  g_autofree char *name = NULL;

  if (!read_string (reader, member, TRUE, &name))
    return FALSE;
  if (!rd_write_phase_from_string (name, out))
    return fail (reader, member, _("a known phase"));
  return TRUE;
}

static gboolean
read_step (Reader *reader, const char *member, RdComposeStep *out)
{
  g_autofree char *name = NULL;

  if (!read_string (reader, member, TRUE, &name))
    return FALSE;
  if (!rd_compose_step_from_string (name, out))
    return fail (reader, member, _("a known step"));
  return TRUE;
}

static gboolean
read_target (Reader *parent, JsonNode *node, RdImagerEventType type, RdImagerTarget *target)
{
  Reader reader = { NULL, parent->event, parent->error };
  g_autofree char *kind = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (parent, "targets", _("a list of objects"));
  reader.object = json_node_get_object (node);
  if (!read_index (&reader, "target", &target->index))
    return FALSE;

  switch (type)
    {
    case RD_IMAGER_EVENT_START:
      {
        JsonNode *drive = member_node (&reader, "drive");

        if (!read_string (&reader, "name", TRUE, &target->name)
            || !read_string (&reader, "kind", FALSE, &kind))
          return FALSE;
        target->is_drive = g_strcmp0 (kind, "drive") == 0;
        if (drive != NULL && JSON_NODE_HOLDS_OBJECT (drive))
          {
            Reader drive_reader = { json_node_get_object (drive), parent->event, parent->error };

            if (!read_string (&drive_reader, "object_path", FALSE, &target->object_path)
                || !read_string (&drive_reader, "device", FALSE, &target->device)
                || !read_string (&drive_reader, "vendor", FALSE, &target->vendor)
                || !read_string (&drive_reader, "model", FALSE, &target->model)
                || !read_string (&drive_reader, "serial", FALSE, &target->serial)
                || !read_count (&drive_reader, "size", FALSE, &target->size, NULL))
              return FALSE;
          }
        else if (drive != NULL && !JSON_NODE_HOLDS_NULL (drive))
          {
            return fail (parent, "drive", _("an object"));
          }
        return TRUE;
      }
    case RD_IMAGER_EVENT_PROGRESS:
      return read_phase (&reader, "phase", &target->phase)
             && read_count (&reader, "written", FALSE, &target->written, NULL)
             && read_count (&reader, "verified", FALSE, &target->verified, NULL);
    case RD_IMAGER_EVENT_DONE:
      return read_bool (&reader, "ok", &target->ok);
    case RD_IMAGER_EVENT_UNKNOWN:
    case RD_IMAGER_EVENT_PHASE:
    case RD_IMAGER_EVENT_TARGET_FAILED:
    case RD_IMAGER_EVENT_ERROR:
    case RD_IMAGER_EVENT_COMPOSE_START:
    case RD_IMAGER_EVENT_COMPOSE_PROGRESS:
    case RD_IMAGER_EVENT_COMPOSE_DONE:
    default:
      return TRUE;
    }
}

static gboolean
read_targets (Reader *reader, RdImagerEvent *event)
{
  JsonNode *node = member_node (reader, "targets");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return fail (reader, "targets", _("a list"));
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      RdImagerTarget target = { 0 };

      if (!read_target (reader, json_array_get_element (array, i), event->type, &target))
        {
          target_clear (&target);
          return FALSE;
        }
      g_array_append_val (event->targets, target);
    }
  return TRUE;
}

static RdImagerEventType
event_type_from_name (const char *name)
{
  if (g_str_equal (name, "start"))
    return RD_IMAGER_EVENT_START;
  if (g_str_equal (name, "phase"))
    return RD_IMAGER_EVENT_PHASE;
  if (g_str_equal (name, "progress"))
    return RD_IMAGER_EVENT_PROGRESS;
  if (g_str_equal (name, "target-failed"))
    return RD_IMAGER_EVENT_TARGET_FAILED;
  if (g_str_equal (name, "done"))
    return RD_IMAGER_EVENT_DONE;
  if (g_str_equal (name, "error"))
    return RD_IMAGER_EVENT_ERROR;
  if (g_str_equal (name, "compose-start"))
    return RD_IMAGER_EVENT_COMPOSE_START;
  if (g_str_equal (name, "compose-progress"))
    return RD_IMAGER_EVENT_COMPOSE_PROGRESS;
  if (g_str_equal (name, "compose-done"))
    return RD_IMAGER_EVENT_COMPOSE_DONE;
  return RD_IMAGER_EVENT_UNKNOWN;
}

static gboolean
read_event (Reader *reader, RdImagerEvent *event)
{
  switch (event->type)
    {
    case RD_IMAGER_EVENT_START:
      return read_string (reader, "source", FALSE, &event->source)
             && read_string (reader, "compression", FALSE, &event->compression)
             && read_count (reader, "total", FALSE, &event->total, &event->total_known)
             && read_bool (reader, "verify", &event->verify) && read_targets (reader, event);
    case RD_IMAGER_EVENT_PHASE:
      return read_index (reader, "target", &event->target)
             && read_phase (reader, "phase", &event->phase);
    case RD_IMAGER_EVENT_PROGRESS:
      return read_phase (reader, "phase", &event->phase)
             && read_count (reader, "bytes", TRUE, &event->bytes, NULL)
             && read_count (reader, "total", FALSE, &event->total, &event->total_known)
             && read_count (reader, "source_position", FALSE, &event->source_position, NULL)
             && read_double (reader, "rate", FALSE, &event->rate, NULL)
             && read_double (reader, "eta", FALSE, &event->eta, &event->eta_known)
             && (member_node (reader, "targets") == NULL || read_targets (reader, event));
    case RD_IMAGER_EVENT_TARGET_FAILED:
      if (!read_index (reader, "target", &event->target)
          || !read_string (reader, "name", FALSE, &event->name)
          || !read_string (reader, "code", FALSE, &event->code)
          || !read_string (reader, "message", TRUE, &event->message))
        return FALSE;
      if (event->code == NULL)
        event->code = g_strdup ("failed");
      return TRUE;
    case RD_IMAGER_EVENT_DONE:
      return read_string (reader, "sha256", TRUE, &event->sha256)
             && read_count (reader, "bytes", FALSE, &event->bytes, NULL)
             && read_bool (reader, "verified", &event->verified) && read_targets (reader, event);
    case RD_IMAGER_EVENT_ERROR:
      return read_string (reader, "code", TRUE, &event->code)
             && read_string (reader, "message", TRUE, &event->message);
    case RD_IMAGER_EVENT_COMPOSE_START:
      return read_string (reader, "iso", FALSE, &event->iso)
             && read_string (reader, "layout", TRUE, &event->layout)
             && read_string (reader, "table", FALSE, &event->table)
             && read_count (reader, "split_size", FALSE, &event->split_size, NULL)
             && read_count (reader, "image_size", TRUE, &event->image_size, NULL)
             && read_string (reader, "volume_label", FALSE, &event->volume_label);
    case RD_IMAGER_EVENT_COMPOSE_PROGRESS:
      return read_step (reader, "step", &event->step)
             && read_count (reader, "bytes", TRUE, &event->bytes, NULL)
             && read_count (reader, "total", FALSE, &event->total, &event->total_known);
    case RD_IMAGER_EVENT_COMPOSE_DONE:
      return read_count (reader, "image_size", FALSE, &event->image_size, NULL)
             && read_double (reader, "seconds", FALSE, &event->seconds, NULL)
             && read_string (reader, "output", FALSE, &event->output);
    case RD_IMAGER_EVENT_UNKNOWN:
    default:
      return TRUE;
    }
}

/**
 * rd_imager_event_parse:
 * @line: one line of the helper's stdout, without its newline
 * @length: its length, or -1 when it is nul-terminated
 *
 * Parses one event. Unknown events parse as RD_IMAGER_EVENT_UNKNOWN and unknown members are
 * ignored, as the protocol asks; a line that is not a JSON object, has no "event", or whose
 * known members have the wrong type is an error (G_IO_ERROR_INVALID_DATA) saying what is wrong.
 *
 * Returns: (transfer full) (nullable): the event
 */
RdImagerEvent *
rd_imager_event_parse (const char *line, gssize length, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (RdImagerEvent) event = NULL;
  JsonNode *root;
  JsonNode *name;
  Reader reader = { NULL, NULL, error };

  g_return_val_if_fail (line != NULL, NULL);

  if (!json_parser_load_from_data (parser, line, length, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The imaging helper sent a line that is not JSON: %s"),
                   local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The imaging helper sent a line that is not a JSON object"));
      return NULL;
    }
  reader.object = json_node_get_object (root);
  name = json_object_get_member (reader.object, "event");
  if (name == NULL || !JSON_NODE_HOLDS_VALUE (name)
      || json_node_get_value_type (name) != G_TYPE_STRING)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The imaging helper sent an object without an “event” name"));
      return NULL;
    }

  event = g_atomic_rc_box_new0 (RdImagerEvent);
  event->targets = g_array_new (FALSE, TRUE, sizeof (RdImagerTarget));
  g_array_set_clear_func (event->targets, target_clear);
  event->event_name = json_node_dup_string (name);
  event->type = event_type_from_name (event->event_name);
  reader.event = event->event_name;

  if (!read_event (&reader, event))
    return NULL;
  return g_steal_pointer (&event);
}

/* Line splitting */

struct _RdImagerProgressParser
{
  GString *pending;
  guint line_number;
};

RdImagerProgressParser *
rd_imager_progress_parser_new (void)
{
  RdImagerProgressParser *self = g_new0 (RdImagerProgressParser, 1);

  self->pending = g_string_new (NULL);
  return self;
}

void
rd_imager_progress_parser_free (RdImagerProgressParser *self)
{
  if (self == NULL)
    return;
  g_string_free (self->pending, TRUE);
  g_free (self);
}

static gboolean
parse_line (RdImagerProgressParser *self,
            const char             *line,
            gsize                   length,
            GPtrArray              *events,
            GError                **error)
{
  g_autoptr (GError) local_error = NULL;
  RdImagerEvent *event;

  self->line_number++;
  if (length > 0 && line[length - 1] == '\r')
    length--;
  if (length == 0)
    return TRUE;

  event = rd_imager_event_parse (line, length, &local_error);
  if (event == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Line %u: "),
                                  self->line_number);
      return FALSE;
    }
  g_ptr_array_add (events, event);
  return TRUE;
}

/**
 * rd_imager_progress_parser_feed:
 * @data: the next bytes of the helper's stdout, split anywhere
 * @events: (element-type RdImagerEvent): where the events of the complete lines are appended
 *
 * Parses every line @data completes; the rest waits for the next call. A malformed line does
 * not stop the lines after it: they are parsed too, and the first error is returned.
 *
 * Returns: %FALSE when a line could not be parsed
 */
gboolean
rd_imager_progress_parser_feed (RdImagerProgressParser *self,
                                const char             *data,
                                gsize                   length,
                                GPtrArray              *events,
                                GError                **error)
{
  g_autoptr (GError) first_error = NULL;
  gsize start = 0;
  const char *newline;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (events != NULL, FALSE);

  g_string_append_len (self->pending, data, length);
  while ((newline = memchr (self->pending->str + start, '\n', self->pending->len - start)) != NULL)
    {
      gsize end = newline - self->pending->str;
      g_autoptr (GError) line_error = NULL;

      if (!parse_line (self, self->pending->str + start, end - start, events, &line_error)
          && first_error == NULL)
        first_error = g_steal_pointer (&line_error);
      start = end + 1;
    }
  g_string_erase (self->pending, 0, start);

  if (self->pending->len > MAX_LINE_LENGTH)
    {
      g_string_truncate (self->pending, 0);
      if (first_error == NULL)
        g_set_error (&first_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("The imaging helper sent a line longer than %u bytes"), MAX_LINE_LENGTH);
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * rd_imager_progress_parser_finish:
 *
 * Called at the end of the helper's output: fails when it ended in the middle of a line (the
 * helper was killed while writing it).
 */
gboolean
rd_imager_progress_parser_finish (RdImagerProgressParser *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->pending->len > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                   _("The imaging helper’s output ended in the middle of a line (%u bytes)"),
                   (guint) self->pending->len);
      g_string_truncate (self->pending, 0);
      return FALSE;
    }
  return TRUE;
}
