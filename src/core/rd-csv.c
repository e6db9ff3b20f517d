/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-csv"

#include "config.h"

#include "rd-csv.h"

#include "rd-audit-log.h"
#include "rd-device.h"
#include "rd-method.h"

#include <string.h>

/* CSV as RFC 4180 writes it, for the app's exports and the CLI's
 * --format csv alike: a header row of stable camelCase keys (the names the
 * JSON output uses), then one record per item, each ended by CRLF. Values
 * are meant for spreadsheets and scripts, so they are not translated:
 * true/false, enum nicks, ISO 8601 times in UTC, and an empty field for
 * "unknown". */

/**
 * rd_csv_quote_field:
 * @text: (nullable): one value; %NULL is an empty field
 *
 * Returns: (transfer full): @text as one RFC 4180 field: in double quotes,
 *   with its double quotes doubled, when it holds a comma, a double quote,
 *   a line break, or leading or trailing space (which spreadsheets would
 *   otherwise trim); as it is otherwise. Text that is not UTF-8 is made
 *   valid first.
 */
char *
rd_csv_quote_field (const char *text)
{
  g_autofree char *valid = NULL;
  GString *s;
  size_t len;

  if (text == NULL)
    return g_strdup ("");

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  len = strlen (text);
  if (strpbrk (text, ",\"\r\n") == NULL &&
      (len == 0 || (!g_ascii_isspace (text[0]) && !g_ascii_isspace (text[len - 1]))))
    return g_strdup (text);

  s = g_string_sized_new (len + 2);
  g_string_append_c (s, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');

  return g_string_free (s, FALSE);
}

/**
 * rd_csv_append_record:
 * @out: where the record goes
 * @fields: (array length=n_fields) (nullable): the values; a %NULL value is
 *   an empty field
 *
 * Appends one record, its fields quoted as needed, ended by CRLF.
 */
void
rd_csv_append_record (GString           *out,
                      const char *const *fields,
                      guint              n_fields)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (fields != NULL || n_fields == 0);

  for (guint i = 0; i < n_fields; i++)
    {
      g_autofree char *field = rd_csv_quote_field (fields[i]);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, field);
    }
  g_string_append (out, "\r\n");
}

/* Columns */

typedef char *(*CellFunc) (gpointer item);

typedef struct
{
  const char *key;
  CellFunc cell;
} Column;

static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) utc = NULL;

  if (time == NULL)
    return NULL;

  utc = g_date_time_to_utc (time);
  return g_date_time_format_iso8601 (utc);
}

static char *
format_tristate (RdTristate value)
{
  switch (value)
    {
    case RD_TRISTATE_YES:
      return g_strdup ("true");
    case RD_TRISTATE_NO:
      return g_strdup ("false");
    case RD_TRISTATE_UNKNOWN:
    default:
      return NULL;
    }
}

static char *
format_count (int count)
{
  return count >= 0 ? g_strdup_printf ("%d", count) : NULL;
}

static char *
format_model (GListModel   *model,
              GType         item_type,
              const Column *columns,
              guint         n_columns)
{
  g_autofree const char **keys = g_new0 (const char *, n_columns);
  g_autofree char **cells = g_new0 (char *, n_columns);
  guint n_items = g_list_model_get_n_items (model);
  GString *out = g_string_sized_new (128 * (n_items + 1));

  for (guint c = 0; c < n_columns; c++)
    keys[c] = columns[c].key;
  rd_csv_append_record (out, keys, n_columns);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (model, i);

      /* Flatten, filter and sort models say only G_TYPE_OBJECT. */
      if (!G_TYPE_CHECK_INSTANCE_TYPE (item, item_type))
        {
          g_critical ("Item %u of the model is a %s, not a %s", i, G_OBJECT_TYPE_NAME (item),
                      g_type_name (item_type));
          continue;
        }

      for (guint c = 0; c < n_columns; c++)
        cells[c] = columns[c].cell (item);
      rd_csv_append_record (out, (const char *const *) cells, n_columns);
      for (guint c = 0; c < n_columns; c++)
        g_clear_pointer (&cells[c], g_free);
    }

  return g_string_free (out, FALSE);
}

/* BitLocker */

#define DEVICE_STRING(fn) \
  static char *cell_##fn (gpointer item) { return g_strdup (rd_device_get_##fn (item)); }

DEVICE_STRING (name)
DEVICE_STRING (serial)
DEVICE_STRING (user_display_name)
DEVICE_STRING (user_principal_name)
DEVICE_STRING (os_version)
DEVICE_STRING (tpm_version)
DEVICE_STRING (id)

static char *
cell_encrypted (gpointer item)
{
  return format_tristate (rd_device_get_encrypted (item));
}

static char *
cell_escrowed_keys (gpointer item)
{
  return format_count (rd_device_get_escrowed_keys (item));
}

static char *
cell_encryption_readiness (gpointer item)
{
  return g_strdup (rd_enum_to_nick (RD_TYPE_ENCRYPTION_READINESS,
                                    rd_device_get_encryption_readiness (item)));
}

static char *
cell_last_sync (gpointer item)
{
  return format_time (rd_device_get_last_sync (item));
}

/* "Unknown" is not ready, so this column is never empty. */
static char *
cell_ready_for_reuse (gpointer item)
{
  return g_strdup (rd_device_get_bitlocker_ready (item) == RD_TRISTATE_YES ? "true" : "false");
}

static const Column bitlocker_columns[] = {
  { "deviceName", cell_name },
  { "serialNumber", cell_serial },
  { "userDisplayName", cell_user_display_name },
  { "userPrincipalName", cell_user_principal_name },
  { "osVersion", cell_os_version },
  { "isEncrypted", cell_encrypted },
  { "escrowedKeyCount", cell_escrowed_keys },
  { "tpmVersion", cell_tpm_version },
  { "encryptionReadiness", cell_encryption_readiness },
  { "lastSyncDateTime", cell_last_sync },
  { "readyForReuse", cell_ready_for_reuse },
  { "id", cell_id },
};

/**
 * rd_csv_format_bitlocker:
 * @devices: a model of #RdDevice
 *
 * Returns: (transfer full): the devices' BitLocker review as CSV, in the
 *   model's order
 */
char *
rd_csv_format_bitlocker (GListModel *devices)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (devices), NULL);

  return format_model (devices, RD_TYPE_DEVICE, bitlocker_columns, G_N_ELEMENTS (bitlocker_columns));
}

/* Audit log */

#define ENTRY_STRING(fn) \
  static char *cell_entry_##fn (gpointer item) { return g_strdup (rd_audit_entry_get_##fn (item)); }

ENTRY_STRING (user)
ENTRY_STRING (tenant)
ENTRY_STRING (device_id)
ENTRY_STRING (device_name)
ENTRY_STRING (method)
ENTRY_STRING (outcome)
ENTRY_STRING (request_id)
ENTRY_STRING (client_request_id)

static char *
cell_entry_time (gpointer item)
{
  return format_time (rd_audit_entry_get_time (item));
}

static char *
cell_entry_request (gpointer item)
{
  const char *method = rd_audit_entry_get_request_method (item);
  const char *path = rd_audit_entry_get_request_path (item);

  if (method == NULL && path == NULL)
    return NULL;

  return g_strdup_printf ("%s %s", method != NULL ? method : "", path != NULL ? path : "");
}

static char *
cell_entry_http_status (gpointer item)
{
  int status = rd_audit_entry_get_http_status (item);

  return status != 0 ? g_strdup_printf ("%d", status) : NULL;
}

static const Column audit_columns[] = {
  { "time", cell_entry_time },
  { "user", cell_entry_user },
  { "tenant", cell_entry_tenant },
  { "deviceName", cell_entry_device_name },
  { "deviceId", cell_entry_device_id },
  { "method", cell_entry_method },
  { "request", cell_entry_request },
  { "httpStatus", cell_entry_http_status },
  { "outcome", cell_entry_outcome },
  { "requestId", cell_entry_request_id },
  { "clientRequestId", cell_entry_client_request_id },
};

/**
 * rd_csv_format_audit:
 * @entries: a model of #RdAuditEntry
 *
 * Returns: (transfer full): the audit entries as CSV, in the model's order
 */
char *
rd_csv_format_audit (GListModel *entries)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (entries), NULL);

  return format_model (entries, RD_TYPE_AUDIT_ENTRY, audit_columns, G_N_ELEMENTS (audit_columns));
}

/* Saving */

static void
on_replace_contents_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * rd_csv_save_async:
 * @file: where the CSV goes; an existing file is replaced
 * @csv: the text, as rd_csv_format_bitlocker() or rd_csv_format_audit()
 *   return it
 *
 * Writes @csv to @file off the main thread, through a temporary file that
 * replaces @file only once it is complete, so a failed export never leaves
 * half a file behind.
 */
void
rd_csv_save_async (GFile               *file,
                   const char          *csv,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (csv != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_csv_save_async);

  bytes = g_bytes_new (csv, strlen (csv));
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                       cancellable, on_replace_contents_cb,
                                       g_steal_pointer (&task));
}

gboolean
rd_csv_save_finish (GAsyncResult  *result,
                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_csv_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
