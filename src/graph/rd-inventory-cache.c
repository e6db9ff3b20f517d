/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-inventory-cache"

#include "config.h"

#include "rd-device-private.h"
#include "rd-file-private.h"
#include "rd-inventory-cache-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The inventory cache in a form that loads fast. The JSON cache
 * (inventory-<tenant>.json) stays the cache of record: it is what older
 * builds read and what people can look at. Beside it, inventory-<tenant>.bin
 * holds the same devices as length-prefixed fields, with each device's
 * search text and collation key, and names the JSON file it mirrors by size
 * and modification time. Reading 100,000 devices from it takes a fraction of
 * parsing 70 MB of JSON; when it is missing, stale or unreadable the JSON is
 * read instead and the companion written again.
 *
 * Layout, in this machine's byte order (a file from another one fails the
 * byte-order mark and is ignored):
 *
 *   "RDINVBIN" u32 version  u32 0x01020304
 *   u64 JSON size  i64 JSON mtime (s)  i64 JSON mtime (ns)
 *   str header (the JSON cache's object without "devices")
 *   str LC_COLLATE the sort keys were made for
 *   u32 device count
 *   per device: NSTRINGS str, NINTS i32, NDATES i64 (µs since 1970, or NONE)
 *   "RDINVEND"
 *
 * where str is a u32 length (or NULL_LENGTH) followed by the bytes and a
 * NUL, so that strings are read in place. */

#define MAGIC "RDINVBIN"
#define END_MAGIC "RDINVEND"
#define VERSION 1
#define BYTE_ORDER_MARK 0x01020304u
#define NULL_LENGTH G_MAXUINT32
#define NONE G_MININT64

enum
{
  S_ID,
  S_NAME,
  S_ENTRA_DEVICE_ID,
  S_SERIAL,
  S_MANUFACTURER,
  S_MODEL,
  S_OPERATING_SYSTEM,
  S_OS_VERSION,
  S_USER_PRINCIPAL_NAME,
  S_USER_DISPLAY_NAME,
  S_MANAGEMENT_AGENT,
  S_ENROLLMENT_TYPE,
  S_AUTOPILOT_STATE,
  S_TPM_VERSION,
  S_SEARCH_TEXT,
  S_SORT_KEY,
  NSTRINGS
};

enum
{
  I_COMPLIANCE,
  I_OWNER_TYPE,
  I_JOIN_TYPE,
  I_ENCRYPTED,
  I_MANAGEMENT_STATE,
  I_ESCROWED_KEYS,
  I_AUTOPILOT,
  I_ENCRYPTION_READINESS,
  I_WINRE_STATE,
  NINTS
};

enum
{
  D_ENROLLED,
  D_LAST_SYNC,
  NDATES
};

char *
_rd_inventory_cache_dup_binary_path (const char *json_path)
{
  gsize length = strlen (json_path);

  if (g_str_has_suffix (json_path, ".json"))
    length -= strlen (".json");

  return g_strdup_printf ("%.*s.bin", (int) length, json_path);
}

static const char *
collate_locale (void)
{
  const char *locale = setlocale (LC_COLLATE, NULL);

  return locale != NULL ? locale : "";
}

/* Writing */

static void
put (GString       *out,
     gconstpointer  data,
     gsize          size)
{
  g_string_append_len (out, data, size);
}

static void
put_u32 (GString *out,
         guint32  value)
{
  put (out, &value, sizeof value);
}

static void
put_i64 (GString *out,
         gint64   value)
{
  put (out, &value, sizeof value);
}

static void
put_string (GString    *out,
            const char *s)
{
  if (s == NULL)
    {
      put_u32 (out, NULL_LENGTH);
      return;
    }

  put_u32 (out, strlen (s));
  g_string_append_len (out, s, strlen (s) + 1);
}

static void
put_date_time (GString *out,
               gint64   usec)
{
  put_i64 (out, usec != RD_DEVICE_NO_DATE ? usec : NONE);
}

static void
put_device (GString  *out,
            RdDevice *device)
{
  const char *strings[NSTRINGS] = {
    [S_ID] = rd_device_get_id (device),
    [S_NAME] = rd_device_get_name (device),
    [S_ENTRA_DEVICE_ID] = rd_device_get_entra_device_id (device),
    [S_SERIAL] = rd_device_get_serial (device),
    [S_MANUFACTURER] = rd_device_get_manufacturer (device),
    [S_MODEL] = rd_device_get_model (device),
    [S_OPERATING_SYSTEM] = rd_device_get_operating_system (device),
    [S_OS_VERSION] = rd_device_get_os_version (device),
    [S_USER_PRINCIPAL_NAME] = rd_device_get_user_principal_name (device),
    [S_USER_DISPLAY_NAME] = rd_device_get_user_display_name (device),
    [S_MANAGEMENT_AGENT] = rd_device_get_management_agent (device),
    [S_ENROLLMENT_TYPE] = rd_device_get_enrollment_type (device),
    [S_AUTOPILOT_STATE] = rd_device_get_autopilot_state (device),
    [S_TPM_VERSION] = rd_device_get_tpm_version (device),
    [S_SEARCH_TEXT] = rd_device_get_search_text (device),
    [S_SORT_KEY] = _rd_device_get_sort_key (device),
  };
  gint32 ints[NINTS] = {
    [I_COMPLIANCE] = rd_device_get_compliance (device),
    [I_OWNER_TYPE] = rd_device_get_owner_type (device),
    [I_JOIN_TYPE] = rd_device_get_join_type (device),
    [I_ENCRYPTED] = rd_device_get_encrypted (device),
    [I_MANAGEMENT_STATE] = rd_device_get_management_state (device),
    [I_ESCROWED_KEYS] = rd_device_get_escrowed_keys (device),
    [I_AUTOPILOT] = rd_device_get_autopilot (device),
    [I_ENCRYPTION_READINESS] = rd_device_get_encryption_readiness (device),
    [I_WINRE_STATE] = rd_device_get_winre_state (device),
  };

  for (guint i = 0; i < NSTRINGS; i++)
    put_string (out, strings[i]);
  put (out, ints, sizeof ints);
  put_date_time (out, rd_device_get_enrolled_usec (device));
  put_date_time (out, rd_device_get_last_sync_usec (device));
}

/* Where the size and mtime of the JSON file are, after the magic, the
 * version and the byte-order mark. */
#define JSON_STAT_OFFSET (strlen (MAGIC) + 2 * sizeof (guint32))

static void
put_header (GString           *out,
            const struct stat *json_stat,
            const char        *header,
            guint              n_devices)
{
  put (out, MAGIC, strlen (MAGIC));
  put_u32 (out, VERSION);
  put_u32 (out, BYTE_ORDER_MARK);
  put_i64 (out, json_stat->st_size);
  put_i64 (out, json_stat->st_mtim.tv_sec);
  put_i64 (out, json_stat->st_mtim.tv_nsec);
  put_string (out, header);
  put_string (out, collate_locale ());
  put_u32 (out, n_devices);
}

/* Closes @fd, the temporary file @temporary, and renames it over @path when
 * everything was @written; removes it otherwise. */
static gboolean
finish_temporary (int          fd,
                  gboolean     written,
                  const char  *temporary,
                  const char  *path,
                  GError     **error)
{
  if (close (fd) != 0 && written)
    {
      int saved_errno = errno;

      g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                           g_strerror (saved_errno));
      written = FALSE;
    }
  if (written && g_rename (temporary, path) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s", path,
                   g_strerror (saved_errno));
      written = FALSE;
    }
  if (!written)
    g_unlink (temporary);

  return written;
}

static gboolean
write_all (int            fd,
           const GString *text,
           GError       **error)
{
  return _rd_file_write_all_error (fd, text->str, text->len, error);
}

/**
 * _rd_inventory_cache_write_binary:
 * @json_path: the JSON cache, already written, that this one mirrors
 * @header: the JSON cache's object without its "devices", as JSON text
 * @devices: (element-type RdDevice): the devices of the JSON cache, which
 *   no other thread changes meanwhile
 *
 * Writes the fast companion of @json_path, through a temporary file renamed
 * over the old one.
 */
gboolean
_rd_inventory_cache_write_binary (const char  *json_path,
                                  const char  *header,
                                  GPtrArray   *devices,
                                  GError     **error)
{
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (json_path);
  g_autofree char *temporary = g_strconcat (path, ".XXXXXX", NULL);
  g_autoptr(GString) out = g_string_sized_new (1 << 20);
  struct stat st;
  gboolean written = TRUE;
  int fd;

  if (g_stat (json_path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s",
                   json_path, g_strerror (saved_errno));
      return FALSE;
    }

  fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s",
                   temporary, g_strerror (saved_errno));
      return FALSE;
    }

  put_header (out, &st, header, devices->len);
  for (guint i = 0; written && i < devices->len; i++)
    {
      put_device (out, g_ptr_array_index (devices, i));
      if (out->len >= (1 << 20) - 4096)
        {
          written = write_all (fd, out, error);
          g_string_truncate (out, 0);
        }
    }
  put (out, END_MAGIC, strlen (END_MAGIC));
  written = written && write_all (fd, out, error);

  return finish_temporary (fd, written, temporary, path, error);
}

/**
 * _rd_inventory_cache_encode_binary:
 * @json_stat: the JSON cache's size and mtime when it was read, before
 *   reading it
 * @header: the JSON cache's object without its "devices", as JSON text
 * @devices: (element-type RdDevice): the devices read from it
 *
 * Encodes the fast companion of a JSON cache just read, on the thread that
 * read it (no other thread holds the devices yet), for
 * _rd_inventory_cache_write_encoded() to write later, in order with the
 * sync's cache writes.
 *
 * Returns: (transfer full): the companion's contents
 */
GBytes *
_rd_inventory_cache_encode_binary (const struct stat *json_stat,
                                   const char        *header,
                                   GPtrArray         *devices)
{
  GString *out = g_string_sized_new (1 << 20);

  put_header (out, json_stat, header, devices->len);
  for (guint i = 0; i < devices->len; i++)
    put_device (out, g_ptr_array_index (devices, i));
  put (out, END_MAGIC, strlen (END_MAGIC));

  return g_string_free_to_bytes (out);
}

/**
 * _rd_inventory_cache_write_encoded:
 * @json_path: the JSON cache that @encoded mirrors
 * @encoded: from _rd_inventory_cache_encode_binary()
 *
 * Writes @encoded as the fast companion of @json_path, through a temporary
 * file renamed over the old one, unless @json_path changed since it was
 * read (a sync wrote a newer inventory meanwhile): then it fails with
 * %G_FILE_ERROR_AGAIN and writes nothing, so that the companion never
 * claims to mirror a JSON file whose devices it does not hold.
 */
gboolean
_rd_inventory_cache_write_encoded (const char  *json_path,
                                   GBytes      *encoded,
                                   GError     **error)
{
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (json_path);
  g_autofree char *temporary = g_strconcat (path, ".XXXXXX", NULL);
  gsize length;
  const char *data = g_bytes_get_data (encoded, &length);
  gint64 stamp[3];
  struct stat st;
  gboolean written;
  int fd;

  g_return_val_if_fail (length >= JSON_STAT_OFFSET + sizeof stamp, FALSE);

  memcpy (stamp, data + JSON_STAT_OFFSET, sizeof stamp);
  if (g_stat (json_path, &st) != 0 || st.st_size != stamp[0] || st.st_mtim.tv_sec != stamp[1] ||
      st.st_mtim.tv_nsec != stamp[2])
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_AGAIN,
                   "%s changed since it was read; its companion is written with it", json_path);
      return FALSE;
    }

  fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s",
                   temporary, g_strerror (saved_errno));
      return FALSE;
    }

  written = _rd_file_write_all_error (fd, data, length, error);
  return finish_temporary (fd, written, temporary, path, error);
}

/* Reading */

typedef struct
{
  const char *p;
  const char *end;
  gboolean ok;
} Cursor;

static gboolean
take (Cursor   *cursor,
      gpointer  data,
      gsize     size)
{
  if (!cursor->ok || (gsize) (cursor->end - cursor->p) < size)
    return cursor->ok = FALSE;

  memcpy (data, cursor->p, size);
  cursor->p += size;
  return TRUE;
}

static guint32
take_u32 (Cursor *cursor)
{
  guint32 value = 0;

  take (cursor, &value, sizeof value);
  return value;
}

static gint64
take_i64 (Cursor *cursor)
{
  gint64 value = 0;

  take (cursor, &value, sizeof value);
  return value;
}

/* g_utf8_validate (s, length, NULL), which takes a byte at a time: most
 * of the cache's text is ASCII, checked here 16 or 8 bytes at a time for a
 * byte that is 0 or above 0x7f (either sends the string to GLib). It was a
 * quarter of reading 100,000 devices. @available bytes from @s can be read
 * (at least @length): a string's last block is read whole and the bytes
 * past its end ignored. */
static gboolean
utf8_validate (const char *s,
               gsize       length,
               gsize       available)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  gsize i = 0;

#ifdef __SSE2__
  for (; i < length && i + 16 <= available; i += 16)
    {
      __m128i bytes = _mm_loadu_si128 ((const __m128i *) (gconstpointer) (s + i));
      /* movemask takes the high bits; a zero byte compares equal to 0. */
      guint mask = (guint) _mm_movemask_epi8 (
        _mm_or_si128 (bytes, _mm_cmpeq_epi8 (bytes, _mm_setzero_si128 ())));

      if (length - i < 16)
        mask &= (1u << (length - i)) - 1;
      if (mask != 0)
        return g_utf8_validate (s, length, NULL);
    }
  if (i >= length)
    return TRUE;
#endif
  for (; i + 8 <= length; i += 8)
    {
      guint64 word;

      memcpy (&word, s + i, sizeof word);
      /* A high bit set, or a zero byte (the second term's classic test). */
      if ((word & highs) != 0 || ((word - ones) & ~word & highs) != 0)
        return g_utf8_validate (s, length, NULL);
    }
  for (; i < length; i++)
    if (s[i] == '\0' || (guchar) s[i] > 0x7f)
      return g_utf8_validate (s, length, NULL);

  return TRUE;
}

/* A string in place: valid UTF-8, NUL-terminated, or %NULL. */
static const char *
take_string (Cursor *cursor)
{
  guint32 length = take_u32 (cursor);
  const char *s;

  if (!cursor->ok || length == NULL_LENGTH)
    return NULL;
  if ((gsize) (cursor->end - cursor->p) <= length || cursor->p[length] != '\0' ||
      !utf8_validate (cursor->p, length, cursor->end - cursor->p))
    {
      cursor->ok = FALSE;
      return NULL;
    }

  s = cursor->p;
  cursor->p += length + 1;
  return s;
}

/* A date as RdDeviceFacts takes it. */
static gint64
take_date_time (Cursor *cursor)
{
  gint64 usec = take_i64 (cursor);

  if (!cursor->ok || usec == NONE)
    return RD_DEVICE_NO_DATE;
  if (usec == RD_DEVICE_NO_DATE || !_rd_device_date_is_valid (usec))
    cursor->ok = FALSE;

  return usec;
}

static gboolean
in_enum (GEnumClass *klass,
         gint32      value)
{
  return value >= klass->minimum && value <= klass->maximum;
}

static RdDevice *
take_device (Cursor      *cursor,
             gboolean     same_locale,
             GEnumClass **enums)
{
  const char *strings[NSTRINGS];
  gint32 ints[NINTS];
  gint64 enrolled, last_sync;
  RdDeviceFacts facts = { 0 };
  RdDevice *device;

  for (guint i = 0; i < NSTRINGS; i++)
    strings[i] = take_string (cursor);
  take (cursor, ints, sizeof ints);
  enrolled = take_date_time (cursor);
  last_sync = take_date_time (cursor);

  if (!cursor->ok || strings[S_ID] == NULL || *strings[S_ID] == '\0' ||
      ints[I_ESCROWED_KEYS] < -1)
    return cursor->ok = FALSE, NULL;
  for (guint i = 0; i < NINTS; i++)
    if (enums[i] != NULL && !in_enum (enums[i], ints[i]))
      return cursor->ok = FALSE, NULL;

  facts.id = strings[S_ID];
  facts.name = strings[S_NAME];
  facts.entra_device_id = strings[S_ENTRA_DEVICE_ID];
  facts.serial = strings[S_SERIAL];
  facts.manufacturer = strings[S_MANUFACTURER];
  facts.model = strings[S_MODEL];
  facts.operating_system = strings[S_OPERATING_SYSTEM];
  facts.os_version = strings[S_OS_VERSION];
  facts.user_principal_name = strings[S_USER_PRINCIPAL_NAME];
  facts.user_display_name = strings[S_USER_DISPLAY_NAME];
  facts.compliance = ints[I_COMPLIANCE];
  facts.management_agent = strings[S_MANAGEMENT_AGENT];
  facts.owner_type = ints[I_OWNER_TYPE];
  facts.join_type = ints[I_JOIN_TYPE];
  facts.enrollment_type = strings[S_ENROLLMENT_TYPE];
  facts.enrolled = enrolled;
  facts.last_sync = last_sync;
  facts.encrypted = ints[I_ENCRYPTED];
  facts.management_state = ints[I_MANAGEMENT_STATE];
  facts.search_text = strings[S_SEARCH_TEXT];
  facts.sort_key = same_locale ? strings[S_SORT_KEY] : NULL;
  facts.autopilot_state = strings[S_AUTOPILOT_STATE];
  facts.tpm_version = strings[S_TPM_VERSION];

  device = _rd_device_new_from_facts (&facts);
  _rd_device_set_escrowed_keys (device, ints[I_ESCROWED_KEYS]);
  _rd_device_set_autopilot (device, ints[I_AUTOPILOT], strings[S_AUTOPILOT_STATE]);
  _rd_device_set_encryption_report (device, strings[S_TPM_VERSION], ints[I_ENCRYPTION_READINESS],
                                    ints[I_WINRE_STATE], ints[I_ENCRYPTED]);

  return device;
}

/**
 * _rd_inventory_cache_read_binary:
 * @json_path: the JSON cache
 * @header: (out) (optional): the JSON cache's object without "devices", as
 *   JSON text
 * @listing: (out) (optional): the devices filed for a board (see
 *   rd_board_listing_new()) as they are read
 *
 * Returns: (transfer container) (element-type RdDevice): the devices of
 *   @json_path's fast companion; %NULL without an error when there is none
 *   for that very JSON file, %NULL with one when it cannot be read
 */
GPtrArray *
_rd_inventory_cache_read_binary (const char      *json_path,
                                 char           **header,
                                 RdBoardListing **listing,
                                 GError         **error)
{
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (json_path);
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(RdBoardListing) filed = NULL;
  g_autoptr(GError) local_error = NULL;
  GEnumClass *enums[NINTS] = { NULL };
  const char *header_text, *locale;
  char magic[8];
  struct stat st;
  Cursor cursor;
  guint32 n;
  gint64 size, mtime, mtime_ns;
  gboolean same_locale;

  if (g_stat (json_path, &st) != 0)
    return NULL;

  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  cursor.p = g_mapped_file_get_contents (file);
  cursor.end = cursor.p + g_mapped_file_get_length (file);
  cursor.ok = cursor.p != NULL;

  take (&cursor, magic, sizeof magic);
  if (!cursor.ok || memcmp (magic, MAGIC, sizeof magic) != 0 || take_u32 (&cursor) != VERSION ||
      take_u32 (&cursor) != BYTE_ORDER_MARK)
    goto invalid;

  /* A companion of another JSON file (older, or edited since) is not used. */
  size = take_i64 (&cursor);
  mtime = take_i64 (&cursor);
  mtime_ns = take_i64 (&cursor);
  if (size != st.st_size || mtime != st.st_mtim.tv_sec || mtime_ns != st.st_mtim.tv_nsec)
    return NULL;

  header_text = take_string (&cursor);
  locale = take_string (&cursor);
  n = take_u32 (&cursor);
  if (!cursor.ok || header_text == NULL || locale == NULL ||
      n > (gsize) (cursor.end - cursor.p) / (NSTRINGS * 4 + sizeof (gint32) * NINTS))
    goto invalid;

  enums[I_COMPLIANCE] = g_type_class_ref (RD_TYPE_COMPLIANCE);
  enums[I_OWNER_TYPE] = g_type_class_ref (RD_TYPE_OWNER_TYPE);
  enums[I_JOIN_TYPE] = g_type_class_ref (RD_TYPE_JOIN_TYPE);
  enums[I_ENCRYPTED] = g_type_class_ref (RD_TYPE_TRISTATE);
  enums[I_MANAGEMENT_STATE] = g_type_class_ref (RD_TYPE_MANAGEMENT_STATE);
  enums[I_AUTOPILOT] = g_type_class_ref (RD_TYPE_TRISTATE);
  enums[I_ENCRYPTION_READINESS] = g_type_class_ref (RD_TYPE_ENCRYPTION_READINESS);
  enums[I_WINRE_STATE] = g_type_class_ref (RD_TYPE_WINRE_STATE);

  same_locale = g_str_equal (locale, collate_locale ());
  devices = g_ptr_array_new_full (n, g_object_unref);
  if (listing != NULL)
    filed = rd_board_listing_new (devices);
  for (guint32 i = 0; cursor.ok && i < n; i++)
    {
      RdDevice *device = take_device (&cursor, same_locale, enums);

      if (device != NULL)
        g_ptr_array_add (devices, device);
      /* Filed a few at a time, while they are in this core's cache. */
      if (filed != NULL && i % 32 == 31)
        rd_board_listing_catch_up (filed);
    }

  for (guint i = 0; i < NINTS; i++)
    if (enums[i] != NULL)
      g_type_class_unref (enums[i]);

  take (&cursor, magic, sizeof magic);
  if (!cursor.ok || memcmp (magic, END_MAGIC, sizeof magic) != 0 || cursor.p != cursor.end)
    goto invalid;

  if (header != NULL)
    *header = g_strdup (header_text);
  if (filed != NULL)
    {
      rd_board_listing_catch_up (filed);
      *listing = g_steal_pointer (&filed);
    }
  return g_steal_pointer (&devices);

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "The fast inventory cache %s is damaged", path);
  return NULL;
}
