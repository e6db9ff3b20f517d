/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-image-source.h"

#include "rd-imaging-error.h"
#include "rd-read-ahead-private.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* How much decompressed data detection looks at; ISO root directories further in are read up to
 * DETECT_MAX. */
#define DETECT_HEAD  (64 * 1024)
#define DETECT_MAX   (8 * 1024 * 1024)
#define INPUT_SIZE   (1024 * 1024)
#define ISO_SECTOR   2048
#define ISO_VD_START (16 * ISO_SECTOR)

struct _RdImageSource
{
  GObject parent_instance;

  char *path;
  int fd;
  struct stat st;

  RdImageCompression compression;
  RdImageKind kind;
  RdPartitionTable partition_table;
  gboolean is_iso;
  gboolean windows_media;
  char *volume_label;
  guint64 uncompressed_size;
  RdSizeCertainty size_certainty;

  /* Streaming state; one reader at a time. */
  gboolean started;
  gboolean finished;
  guint64 raw_offset;
  lzma_stream lzma;
  gboolean lzma_active;
  gboolean input_eof;
  guint8 *input;
  guint64 input_consumed;
  struct archive *archive;
};

G_DEFINE_FINAL_TYPE (RdImageSource, rd_image_source, G_TYPE_OBJECT)

static void
close_decoder (RdImageSource *self)
{
  if (self->lzma_active)
    {
      lzma_end (&self->lzma);
      self->lzma_active = FALSE;
    }
  if (self->archive != NULL)
    {
      archive_read_free (self->archive);
      self->archive = NULL;
    }
  self->started = FALSE;
  self->finished = FALSE;
  self->raw_offset = 0;
  self->input_eof = FALSE;
  self->input_consumed = 0;
}

static void
rd_image_source_finalize (GObject *object)
{
  RdImageSource *self = RD_IMAGE_SOURCE (object);

  close_decoder (self);
  if (self->fd >= 0)
    close (self->fd);
  g_free (self->input);
  g_free (self->path);
  g_free (self->volume_label);

  G_OBJECT_CLASS (rd_image_source_parent_class)->finalize (object);
}

static void
rd_image_source_class_init (RdImageSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_image_source_finalize;
}

static void
rd_image_source_init (RdImageSource *self)
{
  self->fd = -1;
}

/* Sizes */

static gboolean
read_exact_at (int fd, void *buffer, gsize count, guint64 offset)
{
  gsize done = 0;

  while (done < count)
    {
      ssize_t n = pread (fd, (guint8 *) buffer + done, count - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += n;
    }
  return TRUE;
}

static gboolean
xz_uncompressed_size (int fd, guint64 file_size, guint64 *out_size)
{
  lzma_stream strm = LZMA_STREAM_INIT;
  lzma_index *index = NULL;
  g_autofree guint8 *buffer = g_malloc (64 * 1024);
  guint64 pos = 0;
  gboolean ok = FALSE;

  if (lzma_file_info_decoder (&strm, &index, UINT64_MAX, file_size) != LZMA_OK)
    return FALSE;

  for (;;)
    {
      lzma_ret ret;

      if (strm.avail_in == 0)
        {
          ssize_t n = pread (fd, buffer, 64 * 1024, pos);

          if (n < 0)
            break;
          pos += n;
          strm.next_in = buffer;
          strm.avail_in = n;
        }

      ret = lzma_code (&strm, LZMA_RUN);
      if (ret == LZMA_SEEK_NEEDED)
        {
          pos = strm.seek_pos;
          strm.avail_in = 0;
          continue;
        }
      if (ret == LZMA_STREAM_END)
        {
          *out_size = lzma_index_uncompressed_size (index);
          ok = TRUE;
          break;
        }
      if (ret != LZMA_OK)
        break;
    }

  if (index != NULL)
    lzma_index_end (index, NULL);
  lzma_end (&strm);
  return ok;
}

static gboolean
zip_inspect (RdImageSource *self, GError **error)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  int n_files = 0;
  gboolean ok = TRUE;

  archive_read_support_format_zip_seekable (a);
  if (lseek (self->fd, 0, SEEK_SET) < 0
      || archive_read_open_fd (a, self->fd, INPUT_SIZE) != ARCHIVE_OK)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                   _("“%s” is not a readable zip archive: %s"), self->path,
                   archive_error_string (a));
      archive_read_free (a);
      return FALSE;
    }

  for (;;)
    {
      int r = archive_read_next_header (a, &entry);

      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                       _("“%s” is not a readable zip archive: %s"), self->path,
                       archive_error_string (a));
          ok = FALSE;
          break;
        }
      if (archive_entry_filetype (entry) == AE_IFDIR)
        continue;
      n_files++;
      if (archive_entry_size_is_set (entry))
        {
          self->uncompressed_size = archive_entry_size (entry);
          self->size_certainty = RD_SIZE_EXACT;
        }
    }

  if (ok && n_files != 1)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("The zip archive “%s” holds %d files; it must hold exactly one disk image"),
                   self->path, n_files);
      ok = FALSE;
    }

  archive_read_free (a);
  return ok;
}

static gboolean
detect_compression (RdImageSource *self, GError **error)
{
  guint8 magic[18] = { 0 };
  gsize n = MIN ((guint64) sizeof magic, (guint64) self->st.st_size);

  if (n > 0 && !read_exact_at (self->fd, magic, n, 0))
    {
      int saved_errno = errno;
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _("Could not read “%s”: %s"),
                   self->path, g_strerror (saved_errno));
      return FALSE;
    }

  if (n >= 6 && memcmp (magic, "\xfd" "7zXZ\0", 6) == 0)
    {
      self->compression = RD_IMAGE_COMPRESSION_XZ;
      if (xz_uncompressed_size (self->fd, self->st.st_size, &self->uncompressed_size))
        self->size_certainty = RD_SIZE_EXACT;
    }
  else if (n >= 3 && magic[0] == 0x1f && magic[1] == 0x8b && magic[2] == 8)
    {
      guint8 isize[4];

      self->compression = RD_IMAGE_COMPRESSION_GZIP;
      /* ISIZE is the size modulo 2^32, so it is only a lower bound. */
      if (self->st.st_size >= 18 && read_exact_at (self->fd, isize, 4, self->st.st_size - 4))
        {
          self->uncompressed_size = (guint64) isize[0] | (guint64) isize[1] << 8
                                    | (guint64) isize[2] << 16 | (guint64) isize[3] << 24;
          self->size_certainty = RD_SIZE_LOWER_BOUND;
        }
    }
  else if (n >= 4 && memcmp (magic, "\x28\xb5\x2f\xfd", 4) == 0)
    {
      unsigned long long size = ZSTD_getFrameContentSize (magic, n);

      self->compression = RD_IMAGE_COMPRESSION_ZSTD;
      if (size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR)
        {
          self->uncompressed_size = size;
          self->size_certainty = RD_SIZE_LOWER_BOUND;
        }
    }
  else if (n >= 4 && memcmp (magic, "BZh", 3) == 0 && magic[3] >= '1' && magic[3] <= '9')
    {
      self->compression = RD_IMAGE_COMPRESSION_BZIP2;
    }
  else if (n >= 4 && memcmp (magic, "PK\x03\x04", 4) == 0)
    {
      self->compression = RD_IMAGE_COMPRESSION_ZIP;
      if (!zip_inspect (self, error))
        return FALSE;
    }
  else
    {
      self->compression = RD_IMAGE_COMPRESSION_NONE;
      self->uncompressed_size = self->st.st_size;
      self->size_certainty = RD_SIZE_EXACT;
    }

  return TRUE;
}

/* Streaming */

static gboolean
start_decoder (RdImageSource *self, GError **error)
{
  close_decoder (self);

  if (lseek (self->fd, 0, SEEK_SET) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _("Could not read “%s”: %s"),
                   self->path, g_strerror (saved_errno));
      return FALSE;
    }

  switch (self->compression)
    {
    case RD_IMAGE_COMPRESSION_NONE:
      posix_fadvise (self->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
      break;

    case RD_IMAGE_COMPRESSION_XZ:
      {
        lzma_stream init = LZMA_STREAM_INIT;
        lzma_mt mt = { 0 };
        lzma_ret ret;
        guint64 physmem = lzma_physmem ();

        /* Decoding is only parallel when the file was compressed in blocks (xz -T); otherwise
         * the decoder falls back to one thread by itself. */
        self->lzma = init;
        mt.flags = LZMA_CONCATENATED;
        mt.threads = CLAMP (g_get_num_processors (), 1, 8);
        mt.timeout = 0;
        mt.memlimit_threading = physmem > 0 ? MAX (physmem / 4, 64u << 20) : 512u << 20;
        mt.memlimit_stop = physmem > 0 ? MAX (physmem / 2, 256u << 20) : UINT64_MAX;
        ret = lzma_stream_decoder_mt (&self->lzma, &mt);
        if (ret != LZMA_OK)
          ret = lzma_stream_decoder (&self->lzma, UINT64_MAX, LZMA_CONCATENATED);
        if (ret != LZMA_OK)
          {
            g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                         _("Could not start the xz decoder (error %d)"), (int) ret);
            return FALSE;
          }
        self->lzma_active = TRUE;
        if (self->input == NULL)
          self->input = g_malloc (INPUT_SIZE);
        break;
      }

    case RD_IMAGE_COMPRESSION_GZIP:
    case RD_IMAGE_COMPRESSION_ZSTD:
    case RD_IMAGE_COMPRESSION_BZIP2:
    case RD_IMAGE_COMPRESSION_ZIP:
      {
        struct archive_entry *entry;
        int r;

        self->archive = archive_read_new ();
        if (self->compression == RD_IMAGE_COMPRESSION_ZIP)
          {
            archive_read_support_format_zip_seekable (self->archive);
          }
        else
          {
            archive_read_support_filter_all (self->archive);
            archive_read_support_format_raw (self->archive);
          }
        r = archive_read_open_fd (self->archive, self->fd, INPUT_SIZE);
        if (r == ARCHIVE_OK)
          {
            do
              r = archive_read_next_header (self->archive, &entry);
            while (r == ARCHIVE_OK && archive_entry_filetype (entry) == AE_IFDIR);
          }
        if (r < ARCHIVE_WARN || r == ARCHIVE_EOF)
          {
            g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                         _("The compressed image “%s” could not be read: %s"), self->path,
                         archive_error_string (self->archive) ? archive_error_string (self->archive)
                                                              : _("no data"));
            return FALSE;
          }
        break;
      }

    default:
      g_assert_not_reached ();
    }

  self->started = TRUE;
  return TRUE;
}

gboolean
rd_image_source_rewind (RdImageSource *self, GError **error)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), FALSE);

  return start_decoder (self, error);
}

static gssize
read_xz (RdImageSource *self, guint8 *buffer, gsize count, GError **error)
{
  self->lzma.next_out = buffer;
  self->lzma.avail_out = count;

  while (self->lzma.avail_out > 0)
    {
      lzma_ret ret;

      if (self->lzma.avail_in == 0 && !self->input_eof)
        {
          ssize_t n = read (self->fd, self->input, INPUT_SIZE);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              int saved_errno = errno;
              g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                           _("Could not read “%s”: %s"), self->path, g_strerror (saved_errno));
              return -1;
            }
          if (n == 0)
            self->input_eof = TRUE;
          self->lzma.next_in = self->input;
          self->lzma.avail_in = n;
          self->input_consumed += n;
        }

      ret = lzma_code (&self->lzma, self->input_eof ? LZMA_FINISH : LZMA_RUN);
      if (ret == LZMA_STREAM_END)
        {
          self->finished = TRUE;
          break;
        }
      if (ret != LZMA_OK)
        {
          const char *what;

          if (ret == LZMA_DATA_ERROR)
            what = _("the data is damaged");
          else if (ret == LZMA_BUF_ERROR)
            what = _("the file is truncated");
          else if (ret == LZMA_FORMAT_ERROR || ret == LZMA_OPTIONS_ERROR)
            what = _("the file is not a valid xz stream");
          else if (ret == LZMA_MEM_ERROR || ret == LZMA_MEMLIMIT_ERROR)
            what = _("not enough memory to decode it");
          else
            what = _("the decoder failed");
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                       _("The compressed image “%s” cannot be decompressed: %s (after %"
                         G_GUINT64_FORMAT " bytes of output)"),
                       self->path, what, (guint64) self->lzma.total_out);
          return -1;
        }
    }

  return count - self->lzma.avail_out;
}

static gssize
read_archive (RdImageSource *self, guint8 *buffer, gsize count, GError **error)
{
  gsize done = 0;

  while (done < count)
    {
      la_ssize_t n = archive_read_data (self->archive, buffer + done, count - done);

      if (n == 0)
        {
          self->finished = TRUE;
          break;
        }
      if (n < 0)
        {
          if (n == ARCHIVE_RETRY || n == ARCHIVE_WARN)
            continue;
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                       _("The compressed image “%s” cannot be decompressed: %s"), self->path,
                       archive_error_string (self->archive) ? archive_error_string (self->archive)
                                                            : _("the data is damaged"));
          return -1;
        }
      done += n;
    }

  return done;
}

static gssize
read_raw (RdImageSource *self, guint8 *buffer, gsize count, GError **error)
{
  gsize done = 0;

  while (done < count)
    {
      ssize_t n = pread (self->fd, buffer + done, count - done, self->raw_offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _("Could not read “%s”: %s"),
                       self->path, g_strerror (saved_errno));
          return -1;
        }
      if (n == 0)
        {
          self->finished = TRUE;
          break;
        }
      done += n;
      self->raw_offset += n;
    }

  return done;
}

/**
 * rd_image_source_read:
 *
 * Reads the next @count bytes of the (decompressed) image. Short only at the end.
 *
 * Returns: the number of bytes read, 0 at the end, -1 on error
 */
gssize
rd_image_source_read (RdImageSource *self, void *buffer, gsize count, GError **error)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), -1);

  if (!self->started && !start_decoder (self, error))
    return -1;
  if (self->finished || count == 0)
    return 0;

  switch (self->compression)
    {
    case RD_IMAGE_COMPRESSION_NONE:
      return read_raw (self, buffer, count, error);
    case RD_IMAGE_COMPRESSION_XZ:
      return read_xz (self, buffer, count, error);
    case RD_IMAGE_COMPRESSION_GZIP:
    case RD_IMAGE_COMPRESSION_ZSTD:
    case RD_IMAGE_COMPRESSION_BZIP2:
    case RD_IMAGE_COMPRESSION_ZIP:
      return read_archive (self, buffer, count, error);
    default:
      g_assert_not_reached ();
    }
}

guint64
rd_image_source_get_compressed_position (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), 0);

  switch (self->compression)
    {
    case RD_IMAGE_COMPRESSION_NONE:
      return self->raw_offset;
    case RD_IMAGE_COMPRESSION_XZ:
      return self->input_consumed - (self->lzma_active ? self->lzma.avail_in : 0);
    case RD_IMAGE_COMPRESSION_GZIP:
    case RD_IMAGE_COMPRESSION_ZSTD:
    case RD_IMAGE_COMPRESSION_BZIP2:
    case RD_IMAGE_COMPRESSION_ZIP:
      return self->archive ? (guint64) archive_filter_bytes (self->archive, -1) : 0;
    default:
      g_assert_not_reached ();
    }
}

static char *digest_to_hex (const unsigned char *digest, unsigned int len);

/* Detection */

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static gboolean
has_mbr (const guint8 *data, gsize len)
{
  if (len < 512 || data[510] != 0x55 || data[511] != 0xaa)
    return FALSE;

  for (int i = 0; i < 4; i++)
    {
      const guint8 *entry = data + 446 + 16 * i;

      if ((entry[0] == 0x00 || entry[0] == 0x80) && entry[4] != 0 && le32 (entry + 12) != 0)
        return TRUE;
    }
  return FALSE;
}

static void
scan_iso_root (RdImageSource *self, const guint8 *data, gsize len, const guint8 *pvd)
{
  guint64 extent = (guint64) le32 (pvd + 156 + 2) * ISO_SECTOR;
  guint64 size = le32 (pvd + 156 + 10);
  gboolean has_sources = FALSE, has_bootmgr = FALSE;

  if (extent + size > len || size > 1024 * 1024)
    return;

  for (guint64 pos = extent; pos < extent + size;)
    {
      const guint8 *rec = data + pos;
      guint rec_len = rec[0];
      g_autofree char *name = NULL;
      char *semicolon;

      if (rec_len == 0)
        {
          /* Records do not cross sectors; a zero length means skip to the next one. */
          pos = (pos / ISO_SECTOR + 1) * ISO_SECTOR;
          continue;
        }
      if (rec_len < 34 || pos + rec_len > extent + size || 33u + rec[32] > rec_len)
        break;

      name = g_ascii_strup ((const char *) rec + 33, rec[32]);
      semicolon = strchr (name, ';');
      if (semicolon != NULL)
        *semicolon = '\0';
      /* Level 1 names of files without an extension end in a dot: "BOOTMGR.;1". */
      if (name[0] != '\0' && name[strlen (name) - 1] == '.')
        name[strlen (name) - 1] = '\0';
      if ((rec[25] & 2) != 0 && g_str_equal (name, "SOURCES"))
        has_sources = TRUE;
      else if (g_str_equal (name, "BOOTMGR") || g_str_equal (name, "BOOTMGR.EFI"))
        has_bootmgr = TRUE;
      pos += rec_len;
    }

  self->windows_media = has_sources && has_bootmgr;
}

static gboolean
detect_kind (RdImageSource *self, GError **error)
{
  g_autofree guint8 *data = g_malloc (DETECT_MAX);
  gssize len;
  const guint8 *pvd = NULL;

  len = rd_image_source_read (self, data, DETECT_HEAD, error);
  if (len < 0)
    return FALSE;

  if (len >= 4096 + 8 && memcmp (data + 4096, "EFI PART", 8) == 0)
    self->partition_table = RD_PARTITION_TABLE_GPT;
  if (len >= 512 + 8 && memcmp (data + 512, "EFI PART", 8) == 0)
    self->partition_table = RD_PARTITION_TABLE_GPT;
  else if (self->partition_table == RD_PARTITION_TABLE_NONE && has_mbr (data, len))
    self->partition_table = RD_PARTITION_TABLE_MBR;

  for (gsize off = ISO_VD_START; off + ISO_SECTOR <= (gsize) len; off += ISO_SECTOR)
    {
      const guint8 *vd = data + off;

      if (memcmp (vd + 1, "CD001", 5) == 0)
        {
          self->is_iso = TRUE;
          if (vd[0] == 1 && pvd == NULL)
            pvd = vd;
          if (vd[0] == 255)
            continue;
        }
      else if (memcmp (vd + 1, "BEA01", 5) == 0 || memcmp (vd + 1, "NSR02", 5) == 0
               || memcmp (vd + 1, "NSR03", 5) == 0)
        {
          self->is_iso = TRUE;
        }
    }

  if (pvd != NULL)
    {
      guint64 extent = (guint64) le32 (pvd + 156 + 2) * ISO_SECTOR;
      guint64 size = le32 (pvd + 156 + 10);
      gsize pvd_offset = pvd - data;

      self->volume_label = g_strstrip (g_strndup ((const char *) pvd + 40, 32));
      if (extent + size > (guint64) len && extent + size <= DETECT_MAX)
        {
          gssize more = rd_image_source_read (self, data + len, extent + size - len, error);

          if (more < 0)
            return FALSE;
          len += more;
        }
      scan_iso_root (self, data, len, data + pvd_offset);
    }

  if (self->is_iso && self->partition_table == RD_PARTITION_TABLE_NONE)
    self->kind = RD_IMAGE_KIND_WINDOWS_ISO;
  else if (self->is_iso)
    self->kind = RD_IMAGE_KIND_HYBRID_ISO;
  else
    self->kind = RD_IMAGE_KIND_RAW;

  return rd_image_source_rewind (self, error);
}

/**
 * rd_image_source_open:
 * @path: a regular file (or a block device, for reading a key back)
 *
 * Opens @path, detects its compression and kind, and reads what sizes are knowable.
 */
RdImageSource *
rd_image_source_open (const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (RdImageSource) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  self = g_object_new (RD_TYPE_IMAGE_SOURCE, NULL);
  self->path = g_strdup (path);
  self->fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (self->fd < 0 || fstat (self->fd, &self->st) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, RD_IMAGING_ERROR,
                   saved_errno == ENOENT ? RD_IMAGING_ERROR_NOT_FOUND : RD_IMAGING_ERROR_IO,
                   _("Could not open the image “%s”: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (self->st.st_mode))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("The image “%s” is not a regular file"), path);
      return NULL;
    }
  if (self->st.st_size == 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("The image “%s” is empty"), path);
      return NULL;
    }

  if (!detect_compression (self, error) || !detect_kind (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * rd_image_source_check_raw_writable:
 *
 * Fails with %RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA when writing the image byte for byte would
 * give a key that cannot boot.
 */
gboolean
rd_image_source_check_raw_writable (RdImageSource *self, GError **error)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), FALSE);

  if (self->kind == RD_IMAGE_KIND_WINDOWS_ISO)
    {
      if (self->windows_media)
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA,
                     _("“%s” is Windows or WinPE installation media: it has no partition table, "
                       "so a key written byte for byte would not boot. Use Windows media mode, "
                       "which builds a bootable GPT + FAT32 key from it."),
                     self->path);
      else
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA,
                     _("“%s” is an ISO image without a partition table in its system area, so a "
                       "key written byte for byte would not boot. If it is Windows or WinPE "
                       "media, use Windows media mode."),
                     self->path);
      return FALSE;
    }
  return TRUE;
}

char *
rd_image_source_compute_sha256 (RdImageSource *self, GCancellable *cancellable, GError **error)
{
  const gsize chunk = 4 * 1024 * 1024;
  g_autofree guint8 *buffer = g_malloc (chunk);
  EVP_MD_CTX *ctx;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), NULL);

  if (!rd_image_source_rewind (self, error))
    return NULL;

  ctx = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  for (;;)
    {
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      n = rd_image_source_read (self, buffer, chunk, error);
      if (n < 0)
        {
          ok = FALSE;
          break;
        }
      if (n == 0)
        break;
      EVP_DigestUpdate (ctx, buffer, n);
    }
  EVP_DigestFinal_ex (ctx, digest, &digest_len);
  EVP_MD_CTX_free (ctx);

  if (!ok)
    return NULL;
  return digest_to_hex (digest, digest_len);
}

static char *
digest_to_hex (const unsigned char *digest, unsigned int len)
{
  GString *hex = g_string_sized_new (2 * len);

  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

/**
 * rd_image_source_compare_fd:
 * @fd: a target (block device or file) open for reading, possibly with O_DIRECT
 * @name: what messages call the target
 * @out_sha256: (out) (optional): the image's SHA-256
 *
 * Reads the image and the first image-size bytes of @fd side by side, and fails with
 * %RD_IMAGING_ERROR_VERIFY_MISMATCH naming the first byte that differs.
 */
gboolean
rd_image_source_compare_fd (RdImageSource *self,
                            int            fd,
                            const char    *name,
                            GCancellable  *cancellable,
                            char         **out_sha256,
                            GError       **error)
{
  const gsize chunk = 4 * 1024 * 1024;
  g_autofree guint8 *image = g_malloc (chunk);
  g_autoptr (RdReadAhead) ahead = NULL;
  struct stat st;
  guint64 limit = G_MAXUINT64;
  EVP_MD_CTX *ctx;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  guint64 offset = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), FALSE);

  if (!rd_image_source_rewind (self, error))
    return FALSE;
  posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);

  /* The target is read ahead on another thread while this one reads, hashes and compares the
   * image. It is read to its end when the image size is not known exactly; a short target
   * shows as soon as the image goes on past it. */
  if (self->size_certainty == RD_SIZE_EXACT)
    limit = self->uncompressed_size;
  else if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    limit = st.st_size;
  else if (fstat (fd, &st) == 0 && S_ISBLK (st.st_mode) && ioctl (fd, BLKGETSIZE64, &limit) != 0)
    limit = G_MAXUINT64;
  ahead = rd_read_ahead_new (fd, name, limit);

  ctx = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  while (ok)
    {
      const guint8 *target;
      gsize got = 0;
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      n = rd_image_source_read (self, image, chunk, error);
      if (n < 0)
        {
          ok = FALSE;
          break;
        }
      if (n == 0)
        break;
      EVP_DigestUpdate (ctx, image, n);

      target = rd_read_ahead_next (ahead, &got, error);
      if (target == NULL && error != NULL && *error == NULL)
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                     _("%s ends at byte %" G_GUINT64_FORMAT ", before the end of the image"),
                     name, offset);
      if (target == NULL)
        {
          ok = FALSE;
          break;
        }
      if ((gsize) n > got)
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                       _("%s ends at byte %" G_GUINT64_FORMAT ", before the end of the image"),
                       name, offset + got);
          ok = FALSE;
          break;
        }
      if (memcmp (image, target, n) != 0)
        {
          gsize i = 0;

          while (image[i] == target[i])
            i++;
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                       _("Verification of %s failed: the key differs from the image at byte %"
                         G_GUINT64_FORMAT " (MiB %" G_GUINT64_FORMAT ")"),
                       name, offset + i, (offset + i) / (1024 * 1024));
          ok = FALSE;
        }
      rd_read_ahead_release (ahead);
      offset += n;
    }
  EVP_DigestFinal_ex (ctx, digest, &digest_len);
  EVP_MD_CTX_free (ctx);

  if (ok && out_sha256 != NULL)
    *out_sha256 = digest_to_hex (digest, digest_len);
  return ok;
}

/* Getters */

const char *
rd_image_source_get_path (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), NULL);
  return self->path;
}

RdImageKind
rd_image_source_get_kind (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), RD_IMAGE_KIND_RAW);
  return self->kind;
}

RdImageCompression
rd_image_source_get_compression (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), RD_IMAGE_COMPRESSION_NONE);
  return self->compression;
}

RdPartitionTable
rd_image_source_get_partition_table (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), RD_PARTITION_TABLE_NONE);
  return self->partition_table;
}

gboolean
rd_image_source_get_is_iso (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), FALSE);
  return self->is_iso;
}

gboolean
rd_image_source_get_windows_media (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), FALSE);
  return self->windows_media;
}

const char *
rd_image_source_get_volume_label (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), NULL);
  return self->volume_label;
}

guint64
rd_image_source_get_compressed_size (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), 0);
  return self->st.st_size;
}

/**
 * rd_image_source_get_uncompressed_size:
 *
 * Returns: the uncompressed size, 0 if unknown; see rd_image_source_get_size_certainty()
 */
guint64
rd_image_source_get_uncompressed_size (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), 0);
  return self->uncompressed_size;
}

RdSizeCertainty
rd_image_source_get_size_certainty (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), RD_SIZE_UNKNOWN);
  return self->size_certainty;
}

dev_t
rd_image_source_get_device (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), 0);
  return self->st.st_dev;
}

ino_t
rd_image_source_get_inode (RdImageSource *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (self), 0);
  return self->st.st_ino;
}

const char *
rd_image_compression_to_string (RdImageCompression compression)
{
  switch (compression)
    {
    case RD_IMAGE_COMPRESSION_NONE:
      return "none";
    case RD_IMAGE_COMPRESSION_XZ:
      return "xz";
    case RD_IMAGE_COMPRESSION_GZIP:
      return "gzip";
    case RD_IMAGE_COMPRESSION_ZSTD:
      return "zstd";
    case RD_IMAGE_COMPRESSION_BZIP2:
      return "bzip2";
    case RD_IMAGE_COMPRESSION_ZIP:
      return "zip";
    default:
      return "unknown";
    }
}

const char *
rd_image_kind_to_string (RdImageKind kind)
{
  switch (kind)
    {
    case RD_IMAGE_KIND_RAW:
      return "raw";
    case RD_IMAGE_KIND_HYBRID_ISO:
      return "hybrid-iso";
    case RD_IMAGE_KIND_WINDOWS_ISO:
      return "windows-iso";
    default:
      return "unknown";
    }
}

const char *
rd_partition_table_to_string (RdPartitionTable table)
{
  switch (table)
    {
    case RD_PARTITION_TABLE_NONE:
      return "none";
    case RD_PARTITION_TABLE_MBR:
      return "mbr";
    case RD_PARTITION_TABLE_GPT:
      return "gpt";
    default:
      return "unknown";
    }
}
