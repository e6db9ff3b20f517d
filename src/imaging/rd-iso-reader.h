/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Reads the files of an ISO image in user space, without mounting it: UDF by its own parser,
 * else ISO 9660 with Joliet or Rock Ridge names through libarchive. Windows and WinPE
 * ISOs are UDF with an ISO 9660 bridge; files over 4 GiB exist only in the UDF view. */

typedef enum
{
  RD_ISO_FORMAT_UDF,
  RD_ISO_FORMAT_ISO9660,
} RdIsoFormat;

typedef struct
{
  char    *path;   /* '/'-separated, relative, no leading '/': "efi/boot/bootx64.efi" */
  guint64  size;   /* 0 for a directory */
  gboolean is_dir;
} RdIsoEntry;

/* Where a piece of a file's data lies in the ISO file. */
typedef struct
{
  guint64 offset; /* bytes from the start of the ISO file */
  guint64 length;
} RdIsoExtent;

typedef struct _RdIsoFile RdIsoFile;

/* Called for each regular file, in the order the ISO stores them. @file is readable only during
 * the call. Return FALSE with @error set to stop. */
typedef gboolean (*RdIsoFileFunc) (const RdIsoEntry  *entry,
                                   RdIsoFile         *file,
                                   gpointer           user_data,
                                   GError           **error);

#define RD_TYPE_ISO_READER (rd_iso_reader_get_type ())

G_DECLARE_FINAL_TYPE (RdIsoReader, rd_iso_reader, RD, ISO_READER, GObject)

/* Opens the ISO and reads its whole directory tree. RD_IMAGING_ERROR_UNSUPPORTED when it is not
 * an ISO, RD_IMAGING_ERROR_CORRUPT when its directory cannot be read. */
RdIsoReader      *rd_iso_reader_open              (const char     *path,
                                                   GCancellable   *cancellable,
                                                   GError        **error);
const char       *rd_iso_reader_get_path          (RdIsoReader    *self);
RdIsoFormat       rd_iso_reader_get_format        (RdIsoReader    *self);
const char       *rd_iso_reader_get_volume_label  (RdIsoReader    *self);
/* Every entry, directories before what they hold; element type RdIsoEntry. */
GPtrArray        *rd_iso_reader_get_entries       (RdIsoReader    *self);
/* ASCII case-insensitive, as Windows looks up "bootmgr" or "EFI/BOOT/BOOTX64.EFI". */
const RdIsoEntry *rd_iso_reader_lookup            (RdIsoReader    *self,
                                                   const char     *path);
/* Sum of the sizes of the regular files. */
guint64           rd_iso_reader_get_content_size  (RdIsoReader    *self);

gboolean          rd_iso_reader_foreach_file      (RdIsoReader    *self,
                                                   RdIsoFileFunc   func,
                                                   gpointer        user_data,
                                                   GCancellable   *cancellable,
                                                   GError        **error);
/* Copies one file (found with rd_iso_reader_lookup) to @fd. */
gboolean          rd_iso_reader_extract_to_fd     (RdIsoReader      *self,
                                                   const RdIsoEntry *entry,
                                                   int               fd,
                                                   GCancellable     *cancellable,
                                                   GError          **error);

/* @entry's data as byte ranges of the ISO file, in file order, adjacent runs merged: for reading
 * it straight from the file (pread, splice, copy_file_range). Only a UDF file whose every extent
 * is recorded has them: NULL for ISO 9660 (read through libarchive), data embedded in its file
 * entry, or extents that read as zeros. Element type RdIsoExtent; none for an empty file. */
GArray           *rd_iso_reader_dup_extents       (RdIsoReader      *self,
                                                   const RdIsoEntry *entry);

/* Reads up to @count bytes of the current file; 0 at its end. RD_IMAGING_ERROR_IO or _CORRUPT. */
gssize            rd_iso_file_read                (RdIsoFile      *file,
                                                   void           *buffer,
                                                   gsize           count,
                                                   GError        **error);
/* Copies the rest of the current file to @fd (a pipe or a file); @cancellable checked per MiB. */
gboolean          rd_iso_file_copy_to_fd          (RdIsoFile      *file,
                                                   int             fd,
                                                   GCancellable   *cancellable,
                                                   GError        **error);

G_END_DECLS
