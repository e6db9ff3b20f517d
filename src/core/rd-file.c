/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-file"

#include "config.h"

#include "rd-file-private.h"

#include "rd-core-error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <glib/gi18n-lib.h>
#include <unistd.h>

/* File helpers shared by the plan store and the audit log. */

/**
 * _rd_file_set_io_error:
 * @error: return location for an error
 * @saved_errno: the errno value to report
 * @format: what failed, translated, as a printf() format
 *
 * Sets @error to %RD_CORE_ERROR_IO, as "<what failed>: <strerror>".
 *
 * Returns: %FALSE, so a caller can return it directly
 */
gboolean
_rd_file_set_io_error (GError **error, int saved_errno, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_IO, "%s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

/**
 * _rd_file_make_directory:
 * @directory: the folder
 * @error: return location for an error
 *
 * Creates @directory and its parents, readable only by the user (0700). A
 * folder that exists already is left as it is.
 *
 * Returns: %TRUE if @directory exists
 */
gboolean
_rd_file_make_directory (const char *directory, GError **error)
{
  if (g_mkdir_with_parents (directory, 0700) != 0)
    return _rd_file_set_io_error (error, errno, _ ("Could not create the folder “%s”"), directory);

  return TRUE;
}

/**
 * _rd_file_write_all:
 * @fd: a file open for writing
 * @data: the bytes to write
 * @length: how many
 *
 * Writes all of @data, going on after short writes and interruptions.
 *
 * Returns: %TRUE, or %FALSE with errno set
 */
gboolean
_rd_file_write_all (int fd, const char *data, size_t length)
{
  while (length > 0)
    {
      ssize_t written = write (fd, data, length);

      if (written < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }

      data += written;
      length -= (size_t) written;
    }

  return TRUE;
}

/**
 * _rd_file_write_all_error:
 *
 * _rd_file_write_all(), with a #G_FILE_ERROR from errno when it fails.
 */
gboolean
_rd_file_write_all_error (int          fd,
                          const char  *data,
                          size_t       length,
                          GError     **error)
{
  int saved_errno;

  if (_rd_file_write_all (fd, data, length))
    return TRUE;

  saved_errno = errno;
  g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       g_strerror (saved_errno));
  return FALSE;
}

/**
 * _rd_file_read_all:
 * @fd: a file open for reading
 * @size_hint: how many bytes are expected, or 0
 * @contents_out: (out): the bytes read, with a NUL byte after them
 * @length_out: (out): how many bytes were read, without the NUL
 *
 * Reads @fd to its end; @fd stays open.
 *
 * Returns: %TRUE, or %FALSE with errno set and nothing returned
 */
gboolean
_rd_file_read_all (int fd, size_t size_hint, char **contents_out, size_t *length_out)
{
  g_autoptr (GByteArray) buffer = NULL;

  buffer = g_byte_array_sized_new ((guint) MIN (size_hint + 1, (size_t) G_MAXINT32));

  for (;;)
    {
      guint8 chunk[65536];
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;

      g_byte_array_append (buffer, chunk, (guint) n);
    }

  *length_out = buffer->len;
  g_byte_array_append (buffer, (const guint8 *) "", 1);
  *contents_out = (char *) g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  return TRUE;
}

/**
 * _rd_file_sync_directory:
 * @directory: the folder
 * @error: return location for an error
 *
 * Flushes @directory to disk, so that files created, renamed or removed in it
 * stay that way after a crash.
 *
 * Returns: %TRUE once the folder is on disk, as far as its file system allows
 */
gboolean
_rd_file_sync_directory (const char *directory, GError **error)
{
  int fd;
  int saved_errno;

  fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return _rd_file_set_io_error (error, errno, _ ("Could not open the folder “%s”"), directory);

  /* Some file systems cannot sync a directory; the rename is then as durable as they allow. */
  if (fsync (fd) != 0 && errno != EINVAL && errno != EROFS)
    {
      saved_errno = errno;
      close (fd);
      return _rd_file_set_io_error (error, saved_errno,
                                    _ ("Could not flush the folder “%s” to disk"), directory);
    }

  close (fd);
  return TRUE;
}
