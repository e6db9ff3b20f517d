/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-audit-log"

#include "config.h"

#include "rd-audit-log.h"

#include "rd-core-error.h"
#include "rd-file-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* RdAuditEntry */

struct _RdAuditEntry
{
  GObject parent_instance;

  GDateTime *time;
  char *user;
  char *tenant;
  char *device_id;
  char *device_name;
  char *method;
  char *request_method;
  char *request_path;
  char *request_body;
  int http_status;
  char *request_id;
  char *client_request_id;
  char *outcome;
};

G_DEFINE_FINAL_TYPE (RdAuditEntry, rd_audit_entry, G_TYPE_OBJECT)

enum
{
  ENTRY_PROP_0,
  ENTRY_PROP_TIME,
  ENTRY_PROP_USER,
  ENTRY_PROP_TENANT,
  ENTRY_PROP_DEVICE_ID,
  ENTRY_PROP_DEVICE_NAME,
  ENTRY_PROP_METHOD,
  ENTRY_PROP_REQUEST_METHOD,
  ENTRY_PROP_REQUEST_PATH,
  ENTRY_PROP_REQUEST_BODY,
  ENTRY_PROP_HTTP_STATUS,
  ENTRY_PROP_REQUEST_ID,
  ENTRY_PROP_CLIENT_REQUEST_ID,
  ENTRY_PROP_OUTCOME,
  ENTRY_N_PROPS
};

static GParamSpec *entry_properties[ENTRY_N_PROPS];

/* The string properties, in property order, with the struct field each sets. */
static char **
entry_string_field (RdAuditEntry *self, guint prop_id)
{
  switch (prop_id)
    {
    case ENTRY_PROP_USER:
      return &self->user;
    case ENTRY_PROP_TENANT:
      return &self->tenant;
    case ENTRY_PROP_DEVICE_ID:
      return &self->device_id;
    case ENTRY_PROP_DEVICE_NAME:
      return &self->device_name;
    case ENTRY_PROP_METHOD:
      return &self->method;
    case ENTRY_PROP_REQUEST_METHOD:
      return &self->request_method;
    case ENTRY_PROP_REQUEST_PATH:
      return &self->request_path;
    case ENTRY_PROP_REQUEST_BODY:
      return &self->request_body;
    case ENTRY_PROP_REQUEST_ID:
      return &self->request_id;
    case ENTRY_PROP_CLIENT_REQUEST_ID:
      return &self->client_request_id;
    case ENTRY_PROP_OUTCOME:
      return &self->outcome;
    default:
      return NULL;
    }
}

static void
rd_audit_entry_finalize (GObject *object)
{
  RdAuditEntry *self = RD_AUDIT_ENTRY (object);

  g_clear_pointer (&self->time, g_date_time_unref);
  for (guint prop_id = ENTRY_PROP_USER; prop_id < ENTRY_N_PROPS; prop_id++)
    {
      char **field = entry_string_field (self, prop_id);

      if (field != NULL)
        g_clear_pointer (field, g_free);
    }

  G_OBJECT_CLASS (rd_audit_entry_parent_class)->finalize (object);
}

static void
rd_audit_entry_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdAuditEntry *self = RD_AUDIT_ENTRY (object);
  char **field;

  switch (prop_id)
    {
    case ENTRY_PROP_TIME:
      g_value_set_boxed (value, self->time);
      return;

    case ENTRY_PROP_HTTP_STATUS:
      g_value_set_int (value, self->http_status);
      return;

    default:
      break;
    }

  field = entry_string_field (self, prop_id);
  if (field != NULL)
    g_value_set_string (value, *field);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
rd_audit_entry_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  RdAuditEntry *self = RD_AUDIT_ENTRY (object);
  char **field;

  switch (prop_id)
    {
    case ENTRY_PROP_TIME:
      g_clear_pointer (&self->time, g_date_time_unref);
      self->time = g_value_dup_boxed (value);
      return;

    case ENTRY_PROP_HTTP_STATUS:
      self->http_status = g_value_get_int (value);
      return;

    default:
      break;
    }

  field = entry_string_field (self, prop_id);
  if (field != NULL)
    {
      g_free (*field);
      *field = g_value_dup_string (value);
    }
  else
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
entry_string_pspec (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                                G_PARAM_STATIC_STRINGS);
}

static void
rd_audit_entry_class_init (RdAuditEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_audit_entry_finalize;
  object_class->get_property = rd_audit_entry_get_property;
  object_class->set_property = rd_audit_entry_set_property;

  /* An entry records what happened, so it is fixed once built. */
  entry_properties[ENTRY_PROP_TIME] = g_param_spec_boxed (
    "time", NULL, NULL, G_TYPE_DATE_TIME,
    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  entry_properties[ENTRY_PROP_USER] = entry_string_pspec ("user");
  entry_properties[ENTRY_PROP_TENANT] = entry_string_pspec ("tenant");
  entry_properties[ENTRY_PROP_DEVICE_ID] = entry_string_pspec ("device-id");
  entry_properties[ENTRY_PROP_DEVICE_NAME] = entry_string_pspec ("device-name");
  entry_properties[ENTRY_PROP_METHOD] = entry_string_pspec ("method");
  entry_properties[ENTRY_PROP_REQUEST_METHOD] = entry_string_pspec ("request-method");
  entry_properties[ENTRY_PROP_REQUEST_PATH] = entry_string_pspec ("request-path");
  entry_properties[ENTRY_PROP_REQUEST_BODY] = entry_string_pspec ("request-body");
  entry_properties[ENTRY_PROP_HTTP_STATUS] = g_param_spec_int (
    "http-status", NULL, NULL, 0, 999, 0,
    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  entry_properties[ENTRY_PROP_REQUEST_ID] = entry_string_pspec ("request-id");
  entry_properties[ENTRY_PROP_CLIENT_REQUEST_ID] = entry_string_pspec ("client-request-id");
  entry_properties[ENTRY_PROP_OUTCOME] = entry_string_pspec ("outcome");

  g_object_class_install_properties (object_class, ENTRY_N_PROPS, entry_properties);
}

static void
rd_audit_entry_init (RdAuditEntry *self)
{
}

/**
 * rd_audit_entry_get_time:
 * @self: an entry
 *
 * Returns: (transfer none) (nullable): when the action was sent
 */
GDateTime *
rd_audit_entry_get_time (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->time;
}

const char *
rd_audit_entry_get_user (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->user;
}

const char *
rd_audit_entry_get_tenant (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->tenant;
}

const char *
rd_audit_entry_get_device_id (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->device_id;
}

const char *
rd_audit_entry_get_device_name (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->device_name;
}

const char *
rd_audit_entry_get_method (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->method;
}

const char *
rd_audit_entry_get_request_method (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->request_method;
}

const char *
rd_audit_entry_get_request_path (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->request_path;
}

/**
 * rd_audit_entry_get_request_body:
 * @self: an entry
 *
 * Returns: (nullable): the request's JSON body as text, or %NULL if it had none
 */
const char *
rd_audit_entry_get_request_body (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->request_body;
}

/**
 * rd_audit_entry_get_http_status:
 * @self: an entry
 *
 * Returns: the HTTP status of the response, or 0 if there was none
 */
int
rd_audit_entry_get_http_status (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), 0);

  return self->http_status;
}

const char *
rd_audit_entry_get_request_id (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->request_id;
}

const char *
rd_audit_entry_get_client_request_id (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->client_request_id;
}

const char *
rd_audit_entry_get_outcome (RdAuditEntry *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (self), NULL);

  return self->outcome;
}

/* Serialization */

static void
add_string_member (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* Returns one line of JSON, with its newline, or NULL if the body is not a JSON object. */
static char *
entry_to_line (RdAuditEntry *entry, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) utc = NULL;
  g_autofree char *time = NULL;
  g_autofree char *json = NULL;

  if (entry->request_body != NULL)
    {
      g_autoptr (GError) local_error = NULL;

      body = json_from_string (entry->request_body, &local_error);
      if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
        {
          g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA,
                       _ ("The request body of the action on device “%s” is not a JSON object"),
                       entry->device_name != NULL ? entry->device_name
                       : entry->device_id != NULL ? entry->device_id
                                                  : "");
          return NULL;
        }
    }

  if (entry->time != NULL)
    utc = g_date_time_to_utc (entry->time);
  else
    utc = g_date_time_new_now_utc ();
  time = g_date_time_format_iso8601 (utc);

  json_builder_begin_object (builder);
  add_string_member (builder, "time", time);
  add_string_member (builder, "user", entry->user);
  add_string_member (builder, "tenant", entry->tenant);
  add_string_member (builder, "deviceId", entry->device_id);
  add_string_member (builder, "deviceName", entry->device_name);
  add_string_member (builder, "method", entry->method);

  json_builder_set_member_name (builder, "request");
  json_builder_begin_object (builder);
  add_string_member (builder, "method", entry->request_method);
  add_string_member (builder, "path", entry->request_path);
  json_builder_set_member_name (builder, "body");
  if (body != NULL)
    json_builder_add_value (builder, g_steal_pointer (&body));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "httpStatus");
  if (entry->http_status != 0)
    json_builder_add_int_value (builder, entry->http_status);
  else
    json_builder_add_null_value (builder);
  add_string_member (builder, "requestId", entry->request_id);
  add_string_member (builder, "clientRequestId", entry->client_request_id);
  add_string_member (builder, "outcome", entry->outcome);
  json_builder_end_object (builder);

  /* The compact form escapes every newline inside strings, so one entry is one line. */
  root = json_builder_get_root (builder);
  json_generator_set_pretty (generator, FALSE);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);

  return g_strconcat (json, "\n", NULL);
}

/* Reads an optional string member; FALSE if it is there with another type. */
static gboolean
get_string_member (JsonObject *object, const char *name, const char **value)
{
  JsonNode *node = json_object_get_member (object, name);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;

  *value = json_node_get_string (node);
  return TRUE;
}

static RdAuditEntry *
entry_from_line (JsonParser *parser, const char *line, size_t length)
{
  g_autoptr (GDateTime) time = NULL;
  g_autofree char *body_text = NULL;
  JsonObject *object;
  JsonObject *request = NULL;
  JsonNode *node;
  const char *time_text;
  const char *user, *tenant, *device_id, *device_name, *method;
  const char *request_method = NULL, *request_path = NULL;
  const char *request_id, *client_request_id, *outcome;
  gint64 http_status = 0;

  if (!g_utf8_validate (line, (gssize) length, NULL))
    return NULL;
  if (!json_parser_load_from_data (parser, line, (gssize) length, NULL))
    return NULL;

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);

  if (!get_string_member (object, "time", &time_text) || time_text == NULL)
    return NULL;
  time = g_date_time_new_from_iso8601 (time_text, NULL);
  if (time == NULL)
    return NULL;

  if (!get_string_member (object, "user", &user) ||
      !get_string_member (object, "tenant", &tenant) ||
      !get_string_member (object, "deviceId", &device_id) ||
      !get_string_member (object, "deviceName", &device_name) ||
      !get_string_member (object, "method", &method) ||
      !get_string_member (object, "requestId", &request_id) ||
      !get_string_member (object, "clientRequestId", &client_request_id) ||
      !get_string_member (object, "outcome", &outcome))
    return NULL;

  node = json_object_get_member (object, "request");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    request = json_node_get_object (node);
  else if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    return NULL;

  if (request != NULL)
    {
      if (!get_string_member (request, "method", &request_method) ||
          !get_string_member (request, "path", &request_path))
        return NULL;

      node = json_object_get_member (request, "body");
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        body_text = json_to_string (node, FALSE);
      else if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
        return NULL;
    }

  node = json_object_get_member (object, "httpStatus");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (json_node_get_value_type (node) != G_TYPE_INT64)
        return NULL;
      http_status = json_node_get_int (node);
      if (http_status < 0 || http_status > 999)
        return NULL;
    }

  /* clang-format off */
  return g_object_new (RD_TYPE_AUDIT_ENTRY,
                       "time", time,
                       "user", user,
                       "tenant", tenant,
                       "device-id", device_id,
                       "device-name", device_name,
                       "method", method,
                       "request-method", request_method,
                       "request-path", request_path,
                       "request-body", body_text,
                       "http-status", (int) http_status,
                       "request-id", request_id,
                       "client-request-id", client_request_id,
                       "outcome", outcome,
                       NULL);
  /* clang-format on */
}

/* RdAuditLog */

struct _RdAuditLog
{
  GObject parent_instance;

  char *path;
};

G_DEFINE_FINAL_TYPE (RdAuditLog, rd_audit_log, G_TYPE_OBJECT)

enum
{
  LOG_PROP_0,
  LOG_PROP_PATH,
  LOG_N_PROPS
};

static GParamSpec *log_properties[LOG_N_PROPS];

static void
rd_audit_log_finalize (GObject *object)
{
  RdAuditLog *self = RD_AUDIT_LOG (object);

  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (rd_audit_log_parent_class)->finalize (object);
}

static void
rd_audit_log_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdAuditLog *self = RD_AUDIT_LOG (object);

  switch (prop_id)
    {
    case LOG_PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_audit_log_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  RdAuditLog *self = RD_AUDIT_LOG (object);

  switch (prop_id)
    {
    case LOG_PROP_PATH:
      self->path = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_audit_log_class_init (RdAuditLogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_audit_log_finalize;
  object_class->get_property = rd_audit_log_get_property;
  object_class->set_property = rd_audit_log_set_property;

  log_properties[LOG_PROP_PATH] = g_param_spec_string (
    "path", NULL, NULL, NULL,
    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, LOG_N_PROPS, log_properties);
}

static void
rd_audit_log_init (RdAuditLog *self)
{
}

/**
 * rd_audit_log_new:
 * @path: the JSON Lines file
 *
 * Returns: (transfer full): an audit log kept in @path
 */
RdAuditLog *
rd_audit_log_new (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (RD_TYPE_AUDIT_LOG, "path", path, NULL);
}

/**
 * rd_audit_log_new_default:
 *
 * Returns: (transfer full): the audit log `$XDG_DATA_HOME/recovery-desk/audit.jsonl`
 */
RdAuditLog *
rd_audit_log_new_default (void)
{
  g_autofree char *path = NULL;

  path = g_build_filename (g_get_user_data_dir (), "recovery-desk", "audit.jsonl", NULL);
  return rd_audit_log_new (path);
}

const char *
rd_audit_log_get_path (RdAuditLog *self)
{
  g_return_val_if_fail (RD_IS_AUDIT_LOG (self), NULL);

  return self->path;
}

/**
 * rd_audit_log_append:
 * @self: an audit log
 * @entry: the entry to add
 * @error: return location for an error
 *
 * Adds @entry as one line at the end of the log and flushes it to disk before
 * returning. A line left unfinished by a crash is closed first, so the new
 * entry always starts a line of its own. An entry without a time is recorded
 * with the current time.
 *
 * Returns: %TRUE once the entry is on disk
 */
gboolean
rd_audit_log_append (RdAuditLog *self, RdAuditEntry *entry, GError **error)
{
  g_autofree char *directory = NULL;
  g_autofree char *line = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *to_write;
  struct stat st;
  int saved_errno;
  int fd;

  g_return_val_if_fail (RD_IS_AUDIT_LOG (self), FALSE);
  g_return_val_if_fail (RD_IS_AUDIT_ENTRY (entry), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  line = entry_to_line (entry, error);
  if (line == NULL)
    return FALSE;

  directory = g_path_get_dirname (self->path);
  if (!_rd_file_make_directory (directory, error))
    return FALSE;

  /* Read access is only for checking the last byte; every write goes to the end. */
  fd = open (self->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return _rd_file_set_io_error (error, errno, _ ("Could not open the audit log “%s”"),
                                  self->path);

  /* The lock keeps two processes from both closing the same unfinished line. */
  while (flock (fd, LOCK_EX) != 0)
    {
      if (errno != EINTR)
        {
          saved_errno = errno;
          close (fd);
          return _rd_file_set_io_error (error, saved_errno, _ ("Could not lock the audit log “%s”"),
                                        self->path);
        }
    }

  if (fstat (fd, &st) != 0)
    {
      saved_errno = errno;
      close (fd);
      return _rd_file_set_io_error (error, saved_errno, _ ("Could not read the audit log “%s”"),
                                    self->path);
    }

  to_write = line;
  if (st.st_size > 0)
    {
      char last = '\n';

      if (pread (fd, &last, 1, st.st_size - 1) != 1)
        {
          saved_errno = errno;
          close (fd);
          return _rd_file_set_io_error (error, saved_errno, _ ("Could not read the audit log “%s”"),
                                        self->path);
        }

      if (last != '\n')
        to_write = data = g_strconcat ("\n", line, NULL);
    }

  if (!_rd_file_write_all (fd, to_write, strlen (to_write)) || fdatasync (fd) != 0)
    {
      saved_errno = errno;
      close (fd);
      return _rd_file_set_io_error (error, saved_errno, _ ("Could not write to the audit log “%s”"),
                                    self->path);
    }

  if (close (fd) != 0)
    return _rd_file_set_io_error (error, errno, _ ("Could not write to the audit log “%s”"),
                                  self->path);

  /* A new file's directory entry must reach the disk too. */
  if (st.st_size == 0 && !_rd_file_sync_directory (directory, &local_error))
    g_debug ("%s", local_error->message);

  return TRUE;
}

/* Reads the whole log under a shared lock, so an append in progress is seen
 * whole or not at all. Returns FALSE with errno set; ENOENT means no log. */
static gboolean
read_locked (const char *path, char **contents_out, size_t *length_out)
{
  int saved_errno;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;

  while (flock (fd, LOCK_SH) != 0)
    {
      if (errno != EINTR)
        goto fail;
    }

  if (!_rd_file_read_all (fd, 0, contents_out, length_out))
    goto fail;

  close (fd);
  return TRUE;

fail:
  saved_errno = errno;
  close (fd);
  errno = saved_errno;
  return FALSE;
}

/**
 * rd_audit_log_read:
 * @self: an audit log
 * @n_skipped: (out) (optional): the number of lines that could not be read
 * @error: return location for an error
 *
 * Reads every entry, in the order they were added. Lines that cannot be read,
 * such as one cut short by a crash, are skipped and counted.
 *
 * Returns: (transfer full): a list of #RdAuditEntry, or %NULL on error
 */
GListModel *
rd_audit_log_read (RdAuditLog *self, guint *n_skipped, GError **error)
{
  g_autoptr (GListStore) store = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autofree char *contents = NULL;
  const char *line;
  const char *end;
  size_t length = 0;
  guint skipped = 0;

  g_return_val_if_fail (RD_IS_AUDIT_LOG (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  store = g_list_store_new (RD_TYPE_AUDIT_ENTRY);

  if (!read_locked (self->path, &contents, &length))
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        {
          if (n_skipped != NULL)
            *n_skipped = 0;
          return G_LIST_MODEL (g_steal_pointer (&store));
        }

      _rd_file_set_io_error (error, saved_errno, _ ("Could not read the audit log “%s”"),
                             self->path);
      return NULL;
    }

  parser = json_parser_new ();
  end = contents + length;

  for (line = contents; line < end;)
    {
      const char *newline = memchr (line, '\n', (size_t) (end - line));
      const char *line_end = newline != NULL ? newline : end;
      size_t line_length = (size_t) (line_end - line);
      g_autoptr (RdAuditEntry) entry = NULL;

      /* Blank lines carry nothing, not even a damaged entry. */
      if (line_length > 0 && !(line_length == 1 && line[0] == '\r'))
        {
          entry = entry_from_line (parser, line, line_length);
          if (entry != NULL)
            g_list_store_append (store, entry);
          else
            skipped++;
        }

      if (newline == NULL)
        break;
      line = newline + 1;
    }

  if (n_skipped != NULL)
    *n_skipped = skipped;

  return G_LIST_MODEL (g_steal_pointer (&store));
}
