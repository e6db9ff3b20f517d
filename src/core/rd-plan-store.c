/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-plan-store"

#include "config.h"

#include "rd-plan-store.h"

#include "rd-core-error.h"
#include "rd-file-private.h"
#include "rd-json-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names longer than this are hashed, to stay well inside NAME_MAX. */
#define MAX_PLAIN_TENANT_LENGTH 128

/* How often load() starts over when another process changes the file under it. */
#define MAX_LOAD_ATTEMPTS 3

struct _RdPlanStore
{
  GObject parent_instance;

  char *directory;
  char *tenant_id;
  char *path;
  char *basename;
  char *temp_prefix;
};

G_DEFINE_FINAL_TYPE (RdPlanStore, rd_plan_store, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DIRECTORY,
  PROP_TENANT_ID,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Helpers */

static gboolean
is_plain_tenant_id (const char *tenant_id)
{
  size_t len = strlen (tenant_id);

  if (len == 0 || len > MAX_PLAIN_TENANT_LENGTH)
    return FALSE;

  for (const char *p = tenant_id; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
        return FALSE;
    }

  return TRUE;
}

static char *
utc_timestamp (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y%m%dT%H%M%SZ");
}

/* Renames @from to @to unless @to exists. Returns 0, or an errno value. */
static int
rename_no_replace (const char *from, const char *to)
{
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;

  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;

  /* The file system cannot rename without replacing; a hard link cannot replace either. */
  if (link (from, to) != 0)
    return errno;
  if (unlink (from) != 0)
    return errno;

  return 0;
}

/* Moves the file at @path aside as "<name>.<kind>-<UTC time>[-N]", never over
 * an existing file. Returns the new path, or NULL with errno set. */
static char *
move_aside (const char *path, const char *kind)
{
  g_autofree char *stamp = utc_timestamp ();

  for (unsigned int n = 0; n < 1000; n++)
    {
      g_autofree char *target = NULL;
      int result;

      if (n == 0)
        target = g_strdup_printf ("%s.%s-%s", path, kind, stamp);
      else
        target = g_strdup_printf ("%s.%s-%s-%u", path, kind, stamp, n);

      result = rename_no_replace (path, target);
      if (result == 0)
        return g_steal_pointer (&target);
      if (result != EEXIST)
        {
          errno = result;
          return NULL;
        }
    }

  errno = EEXIST;
  return NULL;
}

static gboolean
is_temp_name (RdPlanStore *self, const char *name)
{
  const char *suffix;

  if (!g_str_has_prefix (name, self->temp_prefix))
    return FALSE;

  suffix = name + strlen (self->temp_prefix);
  if (strlen (suffix) != 6)
    return FALSE;

  for (const char *p = suffix; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p))
        return FALSE;
    }

  return TRUE;
}

/* A save holds an exclusive flock() on its temp file until the rename, and the
 * kernel drops the lock when the saving process dies. A temp file that can be
 * locked is therefore a leftover of a crash and can go, while one that another
 * process is still writing is left alone. */
static void
remove_leftover_temp_files (RdPlanStore *self)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  dir = g_dir_open (self->directory, 0, NULL);
  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *temp_path = NULL;
      int fd;

      if (!is_temp_name (self, name))
        continue;

      temp_path = g_build_filename (self->directory, name, NULL);
      fd = open (temp_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        continue;

      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        {
          if (unlink (temp_path) != 0)
            g_debug ("Could not remove the leftover file %s: %s", temp_path, g_strerror (errno));
        }

      close (fd);
    }
}

/* Creates a locked temp file next to the store file. Returns the fd or -1. */
static int
create_locked_temp_file (RdPlanStore *self, char **temp_path_out, GError **error)
{
  for (unsigned int attempt = 0; attempt < 10; attempt++)
    {
      g_autofree char *temp_path = NULL;
      struct stat st;
      int fd;

      temp_path = g_strdup_printf ("%s/%sXXXXXX", self->directory, self->temp_prefix);
      fd = g_mkstemp_full (temp_path, O_RDWR | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          _rd_file_set_io_error (error, errno, _ ("Could not create a file in “%s”"),
                                 self->directory);
          return -1;
        }

      if (flock (fd, LOCK_EX) != 0 || fstat (fd, &st) != 0)
        {
          int saved_errno = errno;

          close (fd);
          unlink (temp_path);
          _rd_file_set_io_error (error, saved_errno, _ ("Could not lock the file “%s”"), temp_path);
          return -1;
        }

      /* A concurrent cleanup took the fresh file for a leftover and removed it. */
      if (st.st_nlink == 0)
        {
          close (fd);
          continue;
        }

      *temp_path_out = g_steal_pointer (&temp_path);
      return fd;
    }

  g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_IO,
               _ ("Could not create a file in “%s” that stays in place"), self->directory);
  return -1;
}

static gboolean
write_file_atomically (RdPlanStore *self, const char *data, size_t length, GError **error)
{
  g_autofree char *temp_path = NULL;
  int fd;
  int saved_errno;

  if (!_rd_file_make_directory (self->directory, error))
    return FALSE;

  fd = create_locked_temp_file (self, &temp_path, error);
  if (fd < 0)
    return FALSE;

  /* The mode given to mkstemp is masked by the umask, which can only make it stricter. */
  if (fchmod (fd, 0600) != 0 || !_rd_file_write_all (fd, data, length) || fsync (fd) != 0)
    {
      saved_errno = errno;
      close (fd);
      unlink (temp_path);
      return _rd_file_set_io_error (error, saved_errno, _ ("Could not write the file “%s”"),
                                    temp_path);
    }

  /* The rename happens while the lock is held, so a cleanup never takes this file for a leftover.
   */
  if (rename (temp_path, self->path) != 0)
    {
      saved_errno = errno;
      close (fd);
      unlink (temp_path);
      return _rd_file_set_io_error (error, saved_errno, _ ("Could not replace the file “%s”"),
                                    self->path);
    }

  close (fd);

  return _rd_file_sync_directory (self->directory, error);
}

/* Reads the whole file. Returns FALSE with errno set; ENOENT means no file. */
static gboolean
read_file (const char *path, char **contents_out, size_t *length_out, struct stat *st_out)
{
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;

  if (fstat (fd, st_out) != 0 ||
      !_rd_file_read_all (fd, (size_t) st_out->st_size, contents_out, length_out))
    {
      int saved_errno = errno;

      close (fd);
      errno = saved_errno;
      return FALSE;
    }

  close (fd);
  return TRUE;
}

typedef enum
{
  PARSE_OK,
  PARSE_CORRUPT,
  PARSE_NEWER,
} ParseResult;

static ParseResult
parse_contents (RdPlanStore *self,
                const char *contents,
                size_t length,
                GPtrArray **plans_out,
                gint64 *version_out,
                char **reason_out)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) plans = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonObject *root;
  JsonNode *node;
  JsonArray *array;
  gint64 version;

  if (!g_utf8_validate (contents, (gssize) length, NULL))
    {
      *reason_out = g_strdup (_ ("it is not UTF-8 text"));
      return PARSE_CORRUPT;
    }

  if (!json_parser_load_from_data (parser, contents, (gssize) length, &local_error))
    {
      /* json-glib quotes the offending text, which may be a broken escape. */
      g_autofree char *message = g_utf8_make_valid (local_error->message, -1);

      *reason_out = g_strdup_printf (_ ("it is not valid JSON: %s"), message);
      return PARSE_CORRUPT;
    }

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      *reason_out = g_strdup (_ ("it does not hold a JSON object"));
      return PARSE_CORRUPT;
    }
  if (!_rd_json_node_is_utf8 (node))
    {
      *reason_out = g_strdup (_ ("it is not UTF-8 text"));
      return PARSE_CORRUPT;
    }
  root = json_node_get_object (node);

  node = json_object_get_member (root, "formatVersion");
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      *reason_out = g_strdup (_ ("it has no format version"));
      return PARSE_CORRUPT;
    }

  version = json_node_get_int (node);
  *version_out = version;
  if (version > RD_PLAN_STORE_FORMAT_VERSION)
    return PARSE_NEWER;
  if (version < 1)
    {
      *reason_out = g_strdup_printf (_ ("its format version %" G_GINT64_FORMAT " is not valid"),
                                     version);
      return PARSE_CORRUPT;
    }

  node = json_object_get_member (root, "tenantId");
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      *reason_out = g_strdup (_ ("it names no tenant"));
      return PARSE_CORRUPT;
    }
  if (g_strcmp0 (json_node_get_string (node), self->tenant_id) != 0)
    {
      *reason_out = g_strdup_printf (_ ("it holds the plans of tenant “%s”"),
                                     json_node_get_string (node));
      return PARSE_CORRUPT;
    }

  node = json_object_get_member (root, "plans");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      *reason_out = g_strdup (_ ("it has no list of plans"));
      return PARSE_CORRUPT;
    }
  array = json_node_get_array (node);

  plans = g_ptr_array_new_full (json_array_get_length (array), g_object_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      RdPlan *plan;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        {
          *reason_out = g_strdup_printf (_ ("plan %u is not a JSON object"), i + 1);
          return PARSE_CORRUPT;
        }

      plan = rd_plan_new_from_json (json_node_get_object (element), &local_error);
      if (plan == NULL)
        {
          *reason_out = g_strdup_printf (_ ("plan %u cannot be read: %s"), i + 1,
                                         local_error != NULL ? local_error->message : "");
          return PARSE_CORRUPT;
        }

      g_ptr_array_add (plans, plan);
    }

  *plans_out = g_steal_pointer (&plans);
  return PARSE_OK;
}

/* GObject */

static void
rd_plan_store_constructed (GObject *object)
{
  RdPlanStore *self = RD_PLAN_STORE (object);

  G_OBJECT_CLASS (rd_plan_store_parent_class)->constructed (object);

  g_assert (self->directory != NULL);
  g_assert (self->tenant_id != NULL);

  if (is_plain_tenant_id (self->tenant_id))
    {
      self->basename = g_strdup_printf ("plans-%s.json", self->tenant_id);
    }
  else
    {
      g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, self->tenant_id,
                                                             -1);

      self->basename = g_strdup_printf ("plans-%s.json", hash);
    }

  self->path = g_build_filename (self->directory, self->basename, NULL);
  self->temp_prefix = g_strdup_printf (".%s.tmp-", self->basename);
}

static void
rd_plan_store_finalize (GObject *object)
{
  RdPlanStore *self = RD_PLAN_STORE (object);

  g_clear_pointer (&self->directory, g_free);
  g_clear_pointer (&self->tenant_id, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->basename, g_free);
  g_clear_pointer (&self->temp_prefix, g_free);

  G_OBJECT_CLASS (rd_plan_store_parent_class)->finalize (object);
}

static void
rd_plan_store_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdPlanStore *self = RD_PLAN_STORE (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;

    case PROP_TENANT_ID:
      g_value_set_string (value, self->tenant_id);
      break;

    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_plan_store_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  RdPlanStore *self = RD_PLAN_STORE (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      self->directory = g_value_dup_string (value);
      break;

    case PROP_TENANT_ID:
      self->tenant_id = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_plan_store_class_init (RdPlanStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = rd_plan_store_constructed;
  object_class->finalize = rd_plan_store_finalize;
  object_class->get_property = rd_plan_store_get_property;
  object_class->set_property = rd_plan_store_set_property;

  properties[PROP_DIRECTORY] = g_param_spec_string (
    "directory", NULL, NULL, NULL,
    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_TENANT_ID] = g_param_spec_string (
    "tenant-id", NULL, NULL, NULL,
    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_plan_store_init (RdPlanStore *self)
{
}

/* Public API */

/**
 * rd_plan_store_new:
 * @directory: the folder that holds the plan files
 * @tenant_id: the tenant whose plans the store keeps
 *
 * Returns: (transfer full): a store for the plans of @tenant_id in @directory
 */
RdPlanStore *
rd_plan_store_new (const char *directory, const char *tenant_id)
{
  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (tenant_id != NULL, NULL);

  return g_object_new (RD_TYPE_PLAN_STORE, "directory", directory, "tenant-id", tenant_id, NULL);
}

/**
 * rd_plan_store_new_default:
 * @tenant_id: the tenant whose plans the store keeps
 *
 * Returns: (transfer full): a store in `$XDG_DATA_HOME/recovery-desk`
 */
RdPlanStore *
rd_plan_store_new_default (const char *tenant_id)
{
  g_autofree char *directory = NULL;

  g_return_val_if_fail (tenant_id != NULL, NULL);

  directory = g_build_filename (g_get_user_data_dir (), "recovery-desk", NULL);
  return rd_plan_store_new (directory, tenant_id);
}

const char *
rd_plan_store_get_path (RdPlanStore *self)
{
  g_return_val_if_fail (RD_IS_PLAN_STORE (self), NULL);

  return self->path;
}

const char *
rd_plan_store_get_tenant_id (RdPlanStore *self)
{
  g_return_val_if_fail (RD_IS_PLAN_STORE (self), NULL);

  return self->tenant_id;
}

/**
 * rd_plan_store_load:
 * @self: a store
 * @error: return location for an error
 *
 * Reads the tenant's plans. A missing file holds no plans. A file that cannot
 * be read, or that a newer version wrote, is moved aside, never deleted, and
 * reported with %RD_CORE_ERROR_STORE_CORRUPT or
 * %RD_CORE_ERROR_STORE_NEWER_VERSION; the next save then starts a fresh file.
 *
 * Returns: (transfer full) (element-type RdPlan): the plans, or %NULL on error
 */
GPtrArray *
rd_plan_store_load (RdPlanStore *self, GError **error)
{
  g_return_val_if_fail (RD_IS_PLAN_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  remove_leftover_temp_files (self);

  for (unsigned int attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++)
    {
      g_autofree char *contents = NULL;
      g_autofree char *reason = NULL;
      g_autofree char *aside = NULL;
      g_autoptr (GPtrArray) plans = NULL;
      struct stat read_st;
      struct stat now_st;
      size_t length = 0;
      gint64 version = 0;
      ParseResult result;

      if (!read_file (self->path, &contents, &length, &read_st))
        {
          if (errno == ENOENT)
            return g_ptr_array_new_with_free_func (g_object_unref);

          _rd_file_set_io_error (error, errno, _ ("Could not read the saved plans in “%s”"),
                                 self->path);
          return NULL;
        }

      result = parse_contents (self, contents, length, &plans, &version, &reason);
      if (result == PARSE_OK)
        return g_steal_pointer (&plans);

      /* Another process may have saved a good file since we read; only move aside what we read. */
      if (stat (self->path, &now_st) != 0 || now_st.st_dev != read_st.st_dev ||
          now_st.st_ino != read_st.st_ino)
        continue;

      aside = move_aside (self->path, result == PARSE_NEWER ? "newer" : "corrupt");
      if (aside == NULL)
        {
          if (errno == ENOENT)
            continue;

          _rd_file_set_io_error (
            error, errno, _ ("Could not move the unreadable plan file “%s” aside"), self->path);
          return NULL;
        }

      /* Make the move durable, so the unreadable file is not found in place again. */
      if (!_rd_file_sync_directory (self->directory, NULL))
        g_debug ("Could not flush %s after moving %s aside", self->directory, self->path);

      if (result == PARSE_NEWER)
        g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_STORE_NEWER_VERSION,
                     _ ("The saved plans of tenant “%s” were written by a newer version of "
                        "Recovery Desk (file format %" G_GINT64_FORMAT ", this version reads up to "
                        "%d). The file was moved to “%s”. Update Recovery Desk to use those plans, "
                        "then move the file back to “%s”."),
                     self->tenant_id, version, RD_PLAN_STORE_FORMAT_VERSION, aside, self->path);
      else
        g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_STORE_CORRUPT,
                     _ ("The saved plans of tenant “%s” could not be read: %s. The file was moved "
                        "to “%s” and nothing was deleted; Recovery Desk starts over with no saved "
                        "plans for this tenant. Check the devices' state in Intune before "
                        "sending any action again."),
                     self->tenant_id, reason, aside);

      return NULL;
    }

  g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_IO,
               _ ("The saved plans in “%s” kept changing while they were read; another copy of "
                  "Recovery Desk may be writing them. Try again."),
               self->path);
  return NULL;
}

/**
 * rd_plan_store_save:
 * @self: a store
 * @plans: (element-type RdPlan): the tenant's plans
 * @error: return location for an error
 *
 * Replaces the saved plans with @plans, atomically and durably: after a crash
 * or power loss at any moment the file holds either the old or the new plans.
 *
 * Returns: %TRUE once the plans are on disk
 */
gboolean
rd_plan_store_save (RdPlanStore *self, GPtrArray *plans, GError **error)
{
  g_autoptr (JsonObject) root = NULL;
  g_autoptr (JsonArray) array = NULL;
  g_autoptr (JsonNode) root_node = NULL;
  g_autoptr (JsonGenerator) generator = NULL;
  g_autoptr (GDateTime) now = NULL;
  g_autofree char *saved_at = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  g_return_val_if_fail (RD_IS_PLAN_STORE (self), FALSE);
  g_return_val_if_fail (plans != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  array = json_array_sized_new (plans->len);
  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);

      g_return_val_if_fail (RD_IS_PLAN (plan), FALSE);
      json_array_add_element (array, rd_plan_to_json (plan));
    }

  now = g_date_time_new_now_utc ();
  saved_at = g_date_time_format_iso8601 (now);

  root = json_object_new ();
  json_object_set_int_member (root, "formatVersion", RD_PLAN_STORE_FORMAT_VERSION);
  json_object_set_string_member (root, "tenantId", self->tenant_id);
  json_object_set_string_member (root, "savedAt", saved_at);
  json_object_set_array_member (root, "plans", g_steal_pointer (&array));

  root_node = json_node_init_object (json_node_alloc (), root);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root_node);
  data = json_generator_to_data (generator, &length);

  return write_file_atomically (self, data, length, error);
}
