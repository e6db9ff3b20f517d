/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

/* The UDF view is read here from the anchor down, not through libudf (libcdio): libudf 2.1.0
 * trusts what it reads. udf_get_root() skips a file entry's extended attributes by their claimed
 * length (ECMA-167 4/14.9.19, "Length of Extended Attributes") without checking it against the
 * block, so a crafted root file entry makes it read past the buffer and segfault in
 * udf_get_lba(); it asks calloc() for SIZE_MAX bytes for a logical volume identifier whose
 * dstring length byte is 255 (ECMA-167 1/7.2.12); and a multi-block udf_read_block() reads on
 * past the end of an extent, so files whose extents are not contiguous come back wrong. Each
 * step below checks its descriptor tag (ECMA-167 3/7.2: checksum, CRC, identifier, location)
 * and every length against the block that holds it:
 *
 *   anchor volume descriptor pointer at sector 256, else N - 256, else N - 1
 *     (ECMA-167 3/8.4.2.1 and 3/10.2, N the number of sectors; OSTA UDF 1.02 2.2.3)
 *   main volume descriptor sequence, else the reserve one, walked up to its terminating
 *     descriptor, its extent's end or MAX_VDS_SECTORS (ECMA-167 3/8.4, 3/10.3, 3/10.9):
 *     partition descriptor (3/10.5; its starting location) and logical volume descriptor
 *     (3/10.6; OSTA UDF 1.02 2.2.4: 2048-byte blocks, the volume identifier that is the label,
 *     the partition map and the file set descriptor's place)
 *   file set descriptor (ECMA-167 4/14.1; OSTA UDF 1.02 2.3.2) and its root folder's ICB
 *   file entries (4/14.9), allocation descriptors (4/14.14) and file identifiers (4/14.4)
 *
 * ISO 9660 and Joliet go through libarchive, with the root folders checked in probe() first. */

#include "config.h"

#include "rd-iso-reader.h"

#include "rd-imaging-error.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 2048
#define VD_FIRST 16
#define VD_MAX 64
#define COPY_CHUNK (1024 * 1024)
#define MAX_DEPTH 64
#define MAX_ENTRIES 1000000
#define MAX_AD_BLOCKS 4096
#define UDF_LEN_MASK 0x3fffffffu
#define TAG_AVDP 2
#define TAG_VDP 3
#define TAG_PD 5
#define TAG_LVD 6
#define TAG_TD 8
#define TAG_FSD 256
#define TAG_FE 261
#define TAG_EFE 266
#define TAG_AED 258
#define TAG_FID 257
#define MAX_DIRECTORY (64 * 1024 * 1024)
#define MAX_VDS_SECTORS 256
#define MAX_PARTITIONS 64
/* File characteristics of a file identifier descriptor (ECMA-167 4/14.4.3). */
#define FID_DIRECTORY (1 << 1)
#define FID_DELETED (1 << 2)
#define FID_PARENT (1 << 3)

/* Where a piece of a UDF file lies in the image, in file order. */
typedef struct
{
  guint64 offset;
  guint64 length;
  gboolean zeros; /* allocated but not recorded, or not allocated: reads as zeros */
} Extent;

typedef struct
{
  RdIsoEntry entry; /* first: a node is its entry */
  GArray *extents;  /* UDF: Extent */
  GBytes *embedded; /* UDF: data kept inside the file entry */
  char *link;       /* ISO 9660: the path of the file whose data this one shares */
  guint64 disk_order;
  guint index;
} IsoNode;

struct _RdIsoFile
{
  RdIsoReader *reader;
  IsoNode *node;
  guint64 position;
  guint extent;
  guint64 extent_pos;
  struct archive *archive; /* ISO 9660: positioned at the file's data */
};

struct _RdIsoReader
{
  GObject parent_instance;

  char *path;
  int fd;
  guint64 image_size;
  RdIsoFormat format;
  char *volume_label;
  guint64 content_size;

  GPtrArray *entries; /* IsoNode, directories before what they hold */
  GPtrArray *files;   /* IsoNode, regular files in the order the image stores them */
  GHashTable *lookup; /* ASCII-folded path → IsoNode */
};

G_DEFINE_FINAL_TYPE (RdIsoReader, rd_iso_reader, G_TYPE_OBJECT)

static void
iso_node_free (gpointer data)
{
  IsoNode *node = data;

  g_free (node->entry.path);
  g_clear_pointer (&node->extents, g_array_unref);
  g_clear_pointer (&node->embedded, g_bytes_unref);
  g_free (node->link);
  g_free (node);
}

static void
rd_iso_reader_finalize (GObject *object)
{
  RdIsoReader *self = RD_ISO_READER (object);

  if (self->fd >= 0)
    close (self->fd);
  g_clear_pointer (&self->lookup, g_hash_table_unref);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_free (self->volume_label);
  g_free (self->path);

  G_OBJECT_CLASS (rd_iso_reader_parent_class)->finalize (object);
}

static void
rd_iso_reader_class_init (RdIsoReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = rd_iso_reader_finalize;
}

static void
rd_iso_reader_init (RdIsoReader *self)
{
  self->fd = -1;
  self->volume_label = g_strdup ("");
  self->entries = g_ptr_array_new_with_free_func (iso_node_free);
  self->files = g_ptr_array_new ();
  self->lookup = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* Little-endian fields at any alignment. */
static inline guint16
le16 (const guint8 *p)
{
  guint16 v;

  memcpy (&v, p, sizeof v);
  return GUINT16_FROM_LE (v);
}

static inline guint32
le32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_LE (v);
}

static inline guint64
le64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_LE (v);
}

/* Errors */

static void
set_damaged_error (RdIsoReader *self, GError **error, const char *what)
{
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
               _ ("“%s” is damaged (%s). Download the ISO again."), self->path, what);
}

static void
set_file_damaged_error (RdIsoReader *self, GError **error, const char *file, const char *what)
{
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
               _ ("“%s” is damaged: “%s” %s. Download the ISO again."), self->path, file, what);
}

static void
set_bad_name_error (RdIsoReader *self, GError **error, const char *name)
{
  g_autofree char *shown = g_strescape (name, NULL);

  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
               _ ("“%s” holds a file named “%s”, which could be written outside the key’s folders. "
                  "The ISO is damaged or not genuine: download it again from its publisher."),
               self->path, shown);
}

/* Names and paths */

/* One path component as the image names it: refuses what could escape the target folder. */
static gboolean
check_component (RdIsoReader *self, const char *name, GError **error)
{
  if (name[0] == '\0' || g_str_equal (name, ".") || g_str_equal (name, "..") ||
      strchr (name, '\\') != NULL || strchr (name, '/') != NULL)
    {
      set_bad_name_error (self, error, name);
      return FALSE;
    }
  if (!g_utf8_validate (name, -1, NULL))
    {
      set_bad_name_error (self, error, name);
      return FALSE;
    }
  return TRUE;
}

/* Makes @raw (as libarchive gives it) a relative '/'-separated path, or fails. */
static char *
normalize_path (RdIsoReader *self, const char *raw, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) path = g_string_new (NULL);
  const char *p = raw;

  if (raw[0] == '/')
    {
      set_bad_name_error (self, error, raw);
      return NULL;
    }
  while (g_str_has_prefix (p, "./"))
    p += 2;
  parts = g_strsplit (p, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      /* A directory's path ends with '/'. */
      if (parts[i][0] == '\0' && parts[i + 1] == NULL && i > 0)
        break;
      if (!check_component (self, parts[i], error))
        return NULL;
      if (path->len > 0)
        g_string_append_c (path, '/');
      g_string_append (path, parts[i]);
    }
  if (path->len == 0)
    {
      set_bad_name_error (self, error, raw);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&path), FALSE);
}

/* Directories before what they hold: compare component by component. */
static int
compare_paths (gconstpointer a, gconstpointer b)
{
  const IsoNode *na = *(IsoNode *const *) a;
  const IsoNode *nb = *(IsoNode *const *) b;
  const guchar *pa = (const guchar *) na->entry.path;
  const guchar *pb = (const guchar *) nb->entry.path;

  while (*pa != '\0' && *pa == *pb)
    pa++, pb++;
  if (*pa == *pb)
    return 0;
  if (*pa == '\0')
    return -1;
  if (*pb == '\0')
    return 1;
  if (*pa == '/')
    return -1;
  if (*pb == '/')
    return 1;
  return *pa < *pb ? -1 : 1;
}

static int
compare_disk_order (gconstpointer a, gconstpointer b)
{
  const IsoNode *na = *(IsoNode *const *) a;
  const IsoNode *nb = *(IsoNode *const *) b;

  if (na->disk_order != nb->disk_order)
    return na->disk_order < nb->disk_order ? -1 : 1;
  return na->index < nb->index ? -1 : (na->index > nb->index ? 1 : 0);
}

static IsoNode *
add_node (RdIsoReader *self, char *path, gboolean is_dir, guint64 size, GError **error)
{
  IsoNode *node;

  if (self->entries->len >= MAX_ENTRIES)
    {
      g_free (path);
      set_damaged_error (self, error, _ ("it claims more than a million files"));
      return NULL;
    }
  node = g_new0 (IsoNode, 1);
  node->entry.path = path;
  node->entry.is_dir = is_dir;
  node->entry.size = is_dir ? 0 : size;
  node->index = self->entries->len;
  g_ptr_array_add (self->entries, node);
  if (!is_dir)
    g_ptr_array_add (self->files, node);
  return node;
}

/* Adds the directories a path implies that the image did not list itself. */
static gboolean
add_implied_directories (RdIsoReader *self, GError **error)
{
  g_autoptr (GHashTable) dirs = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = self->entries->len;

  for (guint i = 0; i < n; i++)
    {
      IsoNode *node = g_ptr_array_index (self->entries, i);

      if (node->entry.is_dir)
        g_hash_table_add (dirs, node->entry.path);
    }
  for (guint i = 0; i < n; i++)
    {
      IsoNode *node = g_ptr_array_index (self->entries, i);
      g_autofree char *parent = g_strdup (node->entry.path);
      char *slash;

      while ((slash = strrchr (parent, '/')) != NULL)
        {
          IsoNode *dir;

          *slash = '\0';
          if (g_hash_table_contains (dirs, parent))
            break;
          dir = add_node (self, g_strdup (parent), TRUE, 0, error);
          if (dir == NULL)
            return FALSE;
          g_hash_table_add (dirs, dir->entry.path);
        }
    }
  return TRUE;
}

static void
finish_tree (RdIsoReader *self)
{
  g_ptr_array_sort (self->entries, compare_paths);
  for (guint i = 0; i < self->entries->len; i++)
    {
      IsoNode *node = g_ptr_array_index (self->entries, i);
      char *key = g_ascii_strdown (node->entry.path, -1);

      if (!node->entry.is_dir)
        self->content_size += node->entry.size;
      /* Names that differ only in case: the first one wins, as on Windows. */
      if (g_hash_table_contains (self->lookup, key))
        g_free (key);
      else
        g_hash_table_insert (self->lookup, key, node);
    }
}

/* Volume descriptors */

static gboolean
read_at (RdIsoReader *self,
         void *buffer,
         gsize count,
         guint64 offset,
         gsize *out_read,
         GError **error)
{
  gsize done = 0;

  while (done < count)
    {
      gssize n = pread (self->fd, (guint8 *) buffer + done, count - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _ ("Could not read “%s”: %s"),
                       self->path, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        break;
      done += n;
    }
  *out_read = done;
  return TRUE;
}

static char *
trimmed_label (const guint8 *data, gsize len)
{
  g_autofree char *raw = g_strndup ((const char *) data, len);

  g_strchomp (raw);
  if (!g_utf8_validate (raw, -1, NULL))
    return g_convert (raw, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
  return g_steal_pointer (&raw);
}

/* Finds the ISO 9660 primary volume descriptor and the UDF volume recognition sequence. */
static gboolean
probe (RdIsoReader *self, gboolean *out_iso9660, gboolean *out_udf, GError **error)
{
  gboolean iso9660 = FALSE, udf = FALSE, recognized = FALSE;
  guint64 volume_size = 0;
  guint8 vd[SECTOR];

  for (guint i = VD_FIRST; i < VD_FIRST + VD_MAX; i++)
    {
      gsize n = 0;

      if (!read_at (self, vd, SECTOR, (guint64) i * SECTOR, &n, error))
        return FALSE;
      if (n < SECTOR)
        break;
      if (memcmp (vd + 1, "CD001", 5) == 0)
        {
          recognized = TRUE;
          /* Primary and supplementary (Joliet) volume descriptors (ECMA-119 8.4 and 8.5). */
          if (vd[0] == 1 || vd[0] == 2)
            {
              guint64 size = (guint64) le32 (vd + 80) * le16 (vd + 128);

              volume_size = MAX (volume_size, size);
              /* libarchive 3.6.2 allocates as much as a root directory record claims before it
               * reads the folder (subfolders it checks against the volume size). */
              if ((guint64) le32 (vd + 156 + 2) * SECTOR + le32 (vd + 156 + 10) > self->image_size)
                {
                  set_damaged_error (self, error,
                                     _ ("its root folder lies past the end of the image"));
                  return FALSE;
                }
            }
          if (vd[0] == 1 && !iso9660)
            {
              iso9660 = TRUE;
              g_free (self->volume_label);
              self->volume_label = trimmed_label (vd + 40, 32);
            }
        }
      else if (memcmp (vd + 1, "NSR02", 5) == 0 || memcmp (vd + 1, "NSR03", 5) == 0)
        {
          recognized = TRUE;
          udf = TRUE;
        }
      else if (memcmp (vd + 1, "BEA01", 5) == 0 || memcmp (vd + 1, "TEA01", 5) == 0 ||
               memcmp (vd + 1, "BOOT2", 5) == 0 || memcmp (vd + 1, "CDW02", 5) == 0)
        {
          recognized = TRUE;
        }
      else
        {
          break;
        }
    }

  if (!recognized)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _ ("“%s” is not an ISO image: it has neither an ISO 9660 nor a UDF volume. "
                      "Choose the Windows or WinPE .iso file."),
                   self->path);
      return FALSE;
    }
  if (!iso9660 && !udf)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                   _ ("“%s” is damaged: its volume descriptors are incomplete. Download the ISO "
                      "again."),
                   self->path);
      return FALSE;
    }
  if (volume_size > self->image_size)
    {
      g_autofree char *want = g_format_size_full (volume_size, G_FORMAT_SIZE_LONG_FORMAT);
      g_autofree char *have = g_format_size_full (self->image_size, G_FORMAT_SIZE_LONG_FORMAT);

      g_set_error (
        error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
        _ ("“%s” is incomplete: it should hold %s but holds %s. Download the ISO again."),
        self->path, want, have);
      return FALSE;
    }
  *out_iso9660 = iso9660;
  *out_udf = udf;
  return TRUE;
}

/* UDF */

/* Descriptor tag: checksum, identifier, location, and the CRC of what follows when it has one. */
static gboolean
udf_descriptor_ok (const guint8 *desc,
                   gsize len,
                   guint16 id,
                   gboolean check_location,
                   guint32 location)
{
  guint8 sum = 0;
  guint16 crc_len = le16 (desc + 10);
  guint16 crc = 0;

  for (int i = 0; i < 16; i++)
    if (i != 4)
      sum += desc[i];
  if (sum != desc[4] || le16 (desc) != id || (check_location && le32 (desc + 12) != location))
    return FALSE;
  if (16u + crc_len > len)
    return FALSE;
  for (guint i = 16; i < 16u + crc_len; i++)
    {
      crc ^= (guint16) desc[i] << 8;
      for (int bit = 0; bit < 8; bit++)
        crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    }
  return crc == le16 (desc + 8);
}

/* A file identifier in OSTA compressed Unicode: 8 bits (Latin-1) or 16 bits (UCS-2 big endian). */
static char *
udf_decode_name (const guint8 *data, gsize len, gboolean *out_bad)
{
  g_autoptr (GString) name = g_string_new (NULL);

  *out_bad = FALSE;
  if (len == 0)
    return g_string_free (g_steal_pointer (&name), FALSE);
  if (data[0] == 8)
    {
      for (gsize i = 1; i < len; i++)
        {
          if (data[i] == 0)
            *out_bad = TRUE;
          g_string_append_unichar (name, data[i]);
        }
    }
  else if (data[0] == 16)
    {
      for (gsize i = 1; i + 1 < len; i += 2)
        {
          gunichar c = (data[i] << 8) | data[i + 1];

          if (c >= 0xd800 && c < 0xdc00 && i + 3 < len)
            {
              gunichar low = (data[i + 2] << 8) | data[i + 3];

              if (low >= 0xdc00 && low < 0xe000)
                {
                  c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                  i += 2;
                }
            }
          if (c == 0)
            *out_bad = TRUE;
          if (c >= 0xd800 && c < 0xe000)
            c = 0xfffd;
          g_string_append_unichar (name, c);
        }
    }
  else
    {
      *out_bad = TRUE;
    }
  return g_string_free (g_steal_pointer (&name), FALSE);
}

/* Reads the allocation descriptors of @node's file entry @fe into extents, following allocation
 * extent descriptors. */
static gboolean
udf_read_extents (RdIsoReader *self, IsoNode *node, guint8 *fe, guint32 part_start, GError **error)
{
  guint16 tag = le16 (fe);
  guint16 flags = le16 (fe + 34);
  guint header = tag == TAG_EFE ? 216 : 176;
  guint32 ea_len = le32 (fe + header - 8);
  guint32 ad_len = le32 (fe + header - 4);
  guint ad_type = flags & 7;
  gsize ad_size = ad_type == 1 ? 16 : 8;
  guint64 size = node->entry.size;
  guint64 total = 0;
  const guint8 *ads;
  guint8 aed[SECTOR];
  guint hops = 0;

  if ((guint64) header + ea_len + ad_len > SECTOR)
    {
      set_file_damaged_error (self, error, node->entry.path, _ ("has a malformed file entry"));
      return FALSE;
    }
  ads = fe + header + ea_len;

  if (ad_type == 3)
    {
      if (ad_len < size)
        {
          set_file_damaged_error (self, error, node->entry.path, _ ("is shorter than it claims"));
          return FALSE;
        }
      node->embedded = g_bytes_new (ads, size);
      return TRUE;
    }
  if (ad_type != 0 && ad_type != 1)
    {
      set_file_damaged_error (self, error, node->entry.path,
                              _ ("uses allocation descriptors this reader does not know"));
      return FALSE;
    }

  node->extents = g_array_new (FALSE, FALSE, sizeof (Extent));
  node->disk_order = G_MAXUINT64;
  while (total < size)
    {
      guint32 raw_len, pos;
      guint32 len;
      guint kind;

      if (ad_len < ad_size)
        {
          set_file_damaged_error (self, error, node->entry.path, _ ("is shorter than it claims"));
          return FALSE;
        }
      raw_len = le32 (ads);
      pos = le32 (ads + 4);
      len = raw_len & UDF_LEN_MASK;
      kind = raw_len >> 30;
      ads += ad_size;
      ad_len -= ad_size;

      if (len == 0)
        {
          set_file_damaged_error (self, error, node->entry.path, _ ("is shorter than it claims"));
          return FALSE;
        }
      if (kind == 3)
        {
          gsize n = 0;
          guint32 aed_len;

          /* The descriptors continue in an allocation extent descriptor. */
          if (++hops > MAX_AD_BLOCKS)
            {
              set_file_damaged_error (self, error, node->entry.path,
                                      _ ("has a loop in its allocation descriptors"));
              return FALSE;
            }
          if (!read_at (self, aed, SECTOR, ((guint64) part_start + pos) * SECTOR, &n, error))
            return FALSE;
          aed_len = le32 (aed + 20);
          if (n < SECTOR || !udf_descriptor_ok (aed, SECTOR, TAG_AED, TRUE, pos) ||
              aed_len > SECTOR - 24)
            {
              set_file_damaged_error (self, error, node->entry.path,
                                      _ ("has damaged allocation descriptors"));
              return FALSE;
            }
          ads = aed + 24;
          ad_len = aed_len;
          continue;
        }

      {
        Extent extent = { 0 };

        extent.length = MIN ((guint64) len, size - total);
        extent.zeros = kind != 0;
        extent.offset = ((guint64) part_start + pos) * SECTOR;
        if (!extent.zeros && extent.offset + extent.length > self->image_size)
          {
            set_file_damaged_error (self, error, node->entry.path,
                                    _ ("lies past the end of the image, which is incomplete"));
            return FALSE;
          }
        if (!extent.zeros && node->disk_order == G_MAXUINT64)
          node->disk_order = extent.offset;
        g_array_append_val (node->extents, extent);
        total += extent.length;
      }
    }
  if (node->disk_order == G_MAXUINT64)
    node->disk_order = 0;
  return TRUE;
}

/* Reads the file entry at logical block @lba into @fe. */
static gboolean
udf_read_file_entry (RdIsoReader *self,
                     const char *path,
                     guint32 part_start,
                     guint32 lba,
                     guint8 *fe,
                     GError **error)
{
  gsize n = 0;

  if (!read_at (self, fe, SECTOR, ((guint64) part_start + lba) * SECTOR, &n, error))
    return FALSE;
  if (n < SECTOR || !(udf_descriptor_ok (fe, SECTOR, TAG_FE, TRUE, lba) ||
                      udf_descriptor_ok (fe, SECTOR, TAG_EFE, TRUE, lba)))
    {
      set_file_damaged_error (self, error, path, _ ("has no valid file entry"));
      return FALSE;
    }
  return TRUE;
}

/* The whole contents of a directory: its file identifier descriptors. */
static guint8 *
udf_read_directory (RdIsoReader *self, IsoNode *dir, GError **error)
{
  g_autofree guint8 *data = NULL;
  guint64 done = 0;

  if (dir->entry.size > MAX_DIRECTORY)
    {
      set_file_damaged_error (self, error, dir->entry.path, _ ("is a folder of impossible size"));
      return NULL;
    }
  data = g_malloc (dir->entry.size + 1);
  if (dir->embedded != NULL)
    {
      /* An empty GBytes has no data pointer, and memcpy() takes none. */
      if (dir->entry.size > 0)
        memcpy (data, g_bytes_get_data (dir->embedded, NULL), dir->entry.size);
      return g_steal_pointer (&data);
    }
  for (guint i = 0; i < dir->extents->len; i++)
    {
      const Extent *extent = &g_array_index (dir->extents, Extent, i);
      gsize n = 0;

      if (extent->zeros)
        memset (data + done, 0, extent->length);
      else if (!read_at (self, data + done, extent->length, extent->offset, &n, error))
        return NULL;
      else if (n < extent->length)
        {
          set_file_damaged_error (self, error, dir->entry.path,
                                  _ ("ends early: the image is incomplete"));
          return NULL;
        }
      done += extent->length;
    }
  return g_steal_pointer (&data);
}

/* Walks the directory whose file entry is at @lba, parsing its file identifiers itself so that a
 * damaged one is an error rather than the end of the folder. */
static gboolean
udf_walk (RdIsoReader *self,
          const char *prefix,
          guint32 part_start,
          guint32 lba,
          GHashTable *visited,
          guint depth,
          GCancellable *cancellable,
          GError **error)
{
  const char *shown = prefix[0] != '\0' ? prefix : "/";
  IsoNode dir = { 0 };
  g_autofree guint8 *data = NULL;
  guint8 fe[SECTOR];
  gsize offset = 0;
  gboolean ok = FALSE;

  if (depth > MAX_DEPTH || !g_hash_table_add (visited, GUINT_TO_POINTER (lba)))
    {
      set_file_damaged_error (self, error, shown, _ ("is a folder that contains itself"));
      return FALSE;
    }
  if (!udf_read_file_entry (self, shown, part_start, lba, fe, error))
    return FALSE;
  dir.entry.path = (char *) shown;
  dir.entry.size = le64 (fe + 56);
  if (!udf_read_extents (self, &dir, fe, part_start, error))
    goto out;
  data = udf_read_directory (self, &dir, error);
  if (data == NULL)
    goto out;

  while (offset < dir.entry.size)
    {
      const guint8 *fid = data + offset;
      gsize left = dir.entry.size - offset;
      g_autofree char *name = NULL;
      g_autofree char *path = NULL;
      guint8 characteristics;
      guint8 name_len;
      guint16 imp_len;
      gsize fid_len;
      gboolean bad = FALSE;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      /* Descriptors never straddle a block; the rest of a block may be padding. */
      if (left < 38)
        {
          set_file_damaged_error (self, error, shown, _ ("is a damaged folder"));
          goto out;
        }
      name_len = fid[19];
      imp_len = le16 (fid + 36);
      fid_len = 38 + imp_len + name_len;
      /* The CRC covers the padding to a multiple of 4 bytes too. */
      if (fid_len > left ||
          !udf_descriptor_ok (fid, MIN ((fid_len + 3) & ~(gsize) 3, left), TAG_FID, FALSE, 0))
        {
          set_file_damaged_error (self, error, shown, _ ("is a damaged folder"));
          goto out;
        }
      offset += (fid_len + 3) & ~(gsize) 3;
      characteristics = fid[18];
      if (characteristics & (FID_PARENT | FID_DELETED))
        continue;

      name = udf_decode_name (fid + 38 + imp_len, name_len, &bad);
      if (bad)
        {
          set_bad_name_error (self, error, name);
          goto out;
        }
      if (!check_component (self, name, error))
        goto out;
      path = prefix[0] != '\0' ? g_strconcat (prefix, "/", name, NULL) : g_strdup (name);

      if (characteristics & FID_DIRECTORY)
        {
          if (add_node (self, g_strdup (path), TRUE, 0, error) == NULL ||
              !udf_walk (self, path, part_start, le32 (fid + 24), visited, depth + 1, cancellable,
                         error))
            goto out;
        }
      else
        {
          guint8 file_fe[SECTOR];
          IsoNode *node;

          if (!udf_read_file_entry (self, path, part_start, le32 (fid + 24), file_fe, error))
            goto out;
          node = add_node (self, g_steal_pointer (&path), FALSE, le64 (file_fe + 56), error);
          if (node == NULL || !udf_read_extents (self, node, file_fe, part_start, error))
            goto out;
        }
    }
  ok = TRUE;

out:
  g_clear_pointer (&dir.extents, g_array_unref);
  g_clear_pointer (&dir.embedded, g_bytes_unref);
  return ok;
}

/* Reads the sector at @sector whole into @buffer; *@out_full is FALSE past the end of the image. */
static gboolean
read_sector (RdIsoReader *self,
             guint64 sector,
             guint8 *buffer,
             gboolean *out_full,
             GError **error)
{
  gsize n = 0;

  *out_full = FALSE;
  if (sector > G_MAXUINT32)
    return TRUE;
  if (!read_at (self, buffer, SECTOR, sector * SECTOR, &n, error))
    return FALSE;
  *out_full = n == SECTOR;
  return TRUE;
}

/* A volume descriptor's tag records the sector that holds it. */
static gboolean
read_volume_descriptor (RdIsoReader *self,
                        guint64 sector,
                        guint16 id,
                        guint8 *desc,
                        gboolean *out_ok,
                        GError **error)
{
  if (!read_sector (self, sector, desc, out_ok, error))
    return FALSE;
  *out_ok = *out_ok && udf_descriptor_ok (desc, SECTOR, id, TRUE, sector);
  return TRUE;
}

typedef struct
{
  guint16 number;
  guint32 vdsn;
  guint32 start;
} UdfPartition;

/* Walks one volume descriptor sequence, keeping the prevailing partition descriptors (by
 * partition number) and logical volume descriptor: the one with the highest volume descriptor
 * sequence number (ECMA-167 3/8.4.3). */
static gboolean
udf_read_vds (RdIsoReader *self,
              guint32 location,
              guint32 length,
              GArray *partitions,
              guint8 *lvd,
              gboolean *have_lvd,
              GError **error)
{
  guint32 lvd_vdsn = 0;
  guint64 sector = location;
  guint64 end = (guint64) location + length / SECTOR;
  guint visited = 0;

  while (sector < end && visited++ < MAX_VDS_SECTORS)
    {
      guint8 desc[SECTOR];
      gboolean full = FALSE;
      guint16 id;
      guint32 vdsn;

      if (!read_sector (self, sector, desc, &full, error))
        return FALSE;
      id = le16 (desc);
      /* A sequence ends at its terminating descriptor, or where its descriptors stop. */
      if (!full || id == TAG_TD || !udf_descriptor_ok (desc, SECTOR, id, TRUE, sector))
        break;
      vdsn = le32 (desc + 16);
      sector++;
      if (id == TAG_VDP)
        {
          /* The sequence goes on in another extent (ECMA-167 3/10.3). */
          sector = le32 (desc + 24);
          end = sector + le32 (desc + 20) / SECTOR;
        }
      else if (id == TAG_PD)
        {
          UdfPartition partition = { le16 (desc + 22), vdsn, le32 (desc + 188) };
          guint i;

          for (i = 0; i < partitions->len; i++)
            {
              UdfPartition *known = &g_array_index (partitions, UdfPartition, i);

              if (known->number == partition.number)
                {
                  if (partition.vdsn > known->vdsn)
                    *known = partition;
                  break;
                }
            }
          if (i == partitions->len && partitions->len < MAX_PARTITIONS)
            g_array_append_val (partitions, partition);
        }
      else if (id == TAG_LVD && (!*have_lvd || vdsn > lvd_vdsn))
        {
          memcpy (lvd, desc, SECTOR);
          lvd_vdsn = vdsn;
          *have_lvd = TRUE;
        }
    }
  return TRUE;
}

/* The partition number that partition reference @ref of @lvd stands for; -1 with @error set when
 * it names none, or a partition this reader cannot read. */
static int
udf_partition_number (RdIsoReader *self, const guint8 *lvd, guint16 ref, GError **error)
{
  guint32 table_len = le32 (lvd + 264);
  guint32 n_maps = le32 (lvd + 268);
  gsize offset = 440;
  gsize table_end;

  if (table_len > SECTOR - offset)
    {
      set_damaged_error (self, error, _ ("its UDF partition maps are malformed"));
      return -1;
    }
  table_end = offset + table_len;
  for (guint32 i = 0; i < n_maps; i++)
    {
      guint8 type, len;

      if (offset + 2 > table_end)
        {
          set_damaged_error (self, error, _ ("its UDF partition maps are malformed"));
          return -1;
        }
      type = lvd[offset];
      len = lvd[offset + 1];
      if (len < 2 || offset + len > table_end)
        {
          set_damaged_error (self, error, _ ("its UDF partition maps are malformed"));
          return -1;
        }
      if (i == ref)
        {
          if (type == 1 && len == 6)
            return le16 (lvd + offset + 4);
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                       _ ("“%s” keeps its files in a kind of UDF partition this app cannot read "
                          "(virtual, sparable or metadata). Use the ISO as its publisher "
                          "distributes it."),
                       self->path);
          return -1;
        }
      offset += len;
    }
  set_damaged_error (self, error, _ ("its UDF file set lies in a partition it does not describe"));
  return -1;
}

/* Finds the UDF volume's partition start and root folder, and takes its label. */
static gboolean
udf_find_root (RdIsoReader *self, guint32 *out_part_start, guint32 *out_root_lba, GError **error)
{
  g_autoptr (GArray) partitions = g_array_new (FALSE, FALSE, sizeof (UdfPartition));
  guint64 n_sectors = self->image_size / SECTOR;
  guint64 anchors[] = { 256, n_sectors > 512 ? n_sectors - 256 : 0, n_sectors - 1 };
  guint8 avdp[SECTOR], lvd[SECTOR], fsd[SECTOR];
  gboolean found = FALSE, have_lvd = FALSE;
  const UdfPartition *partition = NULL;
  guint32 fsd_lba, root_lba;
  guint16 fsd_ref;
  int number;

  for (guint i = 0; i < G_N_ELEMENTS (anchors) && !found; i++)
    if (anchors[i] >= 256 &&
        !read_volume_descriptor (self, anchors[i], TAG_AVDP, avdp, &found, error))
      return FALSE;
  if (!found)
    {
      set_damaged_error (self, error, _ ("its UDF anchor volume descriptor is missing"));
      return FALSE;
    }

  /* The main sequence, else its copy, the reserve sequence. */
  for (guint i = 0; i < 2 && (!have_lvd || partitions->len == 0); i++)
    {
      g_array_set_size (partitions, 0);
      have_lvd = FALSE;
      if (!udf_read_vds (self, le32 (avdp + 20 + 8 * i), le32 (avdp + 16 + 8 * i), partitions, lvd,
                         &have_lvd, error))
        return FALSE;
    }
  if (!have_lvd || partitions->len == 0)
    {
      set_damaged_error (self, error, _ ("its UDF volume descriptors are missing"));
      return FALSE;
    }
  if (le32 (lvd + 212) != SECTOR)
    {
      set_damaged_error (self, error, _ ("its UDF logical blocks are not 2048 bytes long"));
      return FALSE;
    }

  /* The logical volume identifier: a dstring of 128 bytes whose last byte is its length. */
  if (lvd[84 + 127] > 0 && lvd[84 + 127] < 128)
    {
      gboolean bad = FALSE;
      g_autofree char *label = udf_decode_name (lvd + 84, lvd[84 + 127], &bad);

      g_strchomp (label);
      if (!bad && label[0] != '\0')
        {
          g_free (self->volume_label);
          self->volume_label = g_steal_pointer (&label);
        }
    }

  /* Logical volume contents use: the long_ad of the file set descriptor. */
  fsd_lba = le32 (lvd + 252);
  fsd_ref = le16 (lvd + 256);
  number = udf_partition_number (self, lvd, fsd_ref, error);
  if (number < 0)
    return FALSE;
  for (guint i = 0; i < partitions->len; i++)
    if (g_array_index (partitions, UdfPartition, i).number == number)
      partition = &g_array_index (partitions, UdfPartition, i);
  if (partition == NULL || partition->start >= n_sectors)
    {
      set_damaged_error (self, error, _ ("its UDF partition is missing"));
      return FALSE;
    }

  if (!read_sector (self, (guint64) partition->start + fsd_lba, fsd, &found, error))
    return FALSE;
  if (!found || !udf_descriptor_ok (fsd, SECTOR, TAG_FSD, TRUE, fsd_lba))
    {
      set_damaged_error (self, error, _ ("its UDF file set descriptor is missing"));
      return FALSE;
    }
  /* The root directory ICB: a long_ad, in the file set's partition (only one is read). */
  root_lba = le32 (fsd + 404);
  if (le16 (fsd + 408) != fsd_ref)
    {
      set_damaged_error (self, error, _ ("its UDF root folder lies in another partition"));
      return FALSE;
    }
  *out_part_start = partition->start;
  *out_root_lba = root_lba;
  return TRUE;
}

static gboolean
read_udf (RdIsoReader *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GHashTable) visited = g_hash_table_new (NULL, NULL);
  guint32 part_start, root_lba;

  if (!udf_find_root (self, &part_start, &root_lba, error))
    return FALSE;
  if (!udf_walk (self, "", part_start, root_lba, visited, 0, cancellable, error))
    return FALSE;
  g_ptr_array_sort (self->files, compare_disk_order);
  return TRUE;
}

/* ISO 9660 through libarchive */

static struct archive *
open_archive (RdIsoReader *self, GError **error)
{
  struct archive *a = archive_read_new ();

  archive_read_support_format_iso9660 (a);
  if (archive_read_open_filename (a, self->path, COPY_CHUNK) != ARCHIVE_OK)
    {
      set_damaged_error (self, error, archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

/* Next regular file or directory header; NULL at the end or on error (@error set). */
static struct archive_entry *
next_header (RdIsoReader *self, struct archive *a, GError **error)
{
  struct archive_entry *entry;

  for (;;)
    {
      int r = archive_read_next_header (a, &entry);
      mode_t type;

      if (r == ARCHIVE_EOF)
        return NULL;
      if (r < ARCHIVE_WARN)
        {
          set_damaged_error (self, error, archive_error_string (a));
          return NULL;
        }
      type = archive_entry_filetype (entry);
      if (type == AE_IFREG || type == AE_IFDIR)
        return entry;
      g_debug ("%s: skipping %s, neither a file nor a folder", self->path,
               archive_entry_pathname (entry));
    }
}

static gboolean
is_root_path (const char *raw)
{
  return raw == NULL || g_str_equal (raw, ".") || g_str_equal (raw, "./") ||
         g_str_equal (raw, "") || g_str_equal (raw, "/");
}

static char *
entry_path (RdIsoReader *self, struct archive_entry *entry, GError **error)
{
  const char *raw = archive_entry_pathname_utf8 (entry);

  if (raw == NULL)
    raw = archive_entry_pathname (entry);
  if (raw == NULL)
    {
      set_damaged_error (self, error, _ ("a file has no name"));
      return NULL;
    }
  return normalize_path (self, raw, error);
}

static gboolean
read_iso9660 (RdIsoReader *self, GCancellable *cancellable, GError **error)
{
  struct archive *a = open_archive (self, error);
  struct archive_entry *entry;
  g_autoptr (GHashTable) sizes = g_hash_table_new (g_str_hash, g_str_equal);
  GError *local = NULL;

  if (a == NULL)
    return FALSE;
  while ((entry = next_header (self, a, &local)) != NULL)
    {
      g_autofree char *path = NULL;
      gboolean is_dir = archive_entry_filetype (entry) == AE_IFDIR;
      IsoNode *node;

      if (g_cancellable_set_error_if_cancelled (cancellable, &local))
        break;
      /* The root folder itself. */
      if (is_dir && is_root_path (archive_entry_pathname (entry)))
        continue;
      path = entry_path (self, entry, &local);
      if (path == NULL)
        break;
      node = add_node (self, g_steal_pointer (&path), is_dir, archive_entry_size (entry), &local);
      if (node == NULL)
        break;
      /* A file stored once under two names comes back as a hard link to the first one. */
      if (!is_dir && archive_entry_hardlink (entry) != NULL)
        {
          node->link = normalize_path (self, archive_entry_hardlink (entry), &local);
          if (node->link == NULL)
            break;
          node->entry.size = GPOINTER_TO_SIZE (g_hash_table_lookup (sizes, node->link));
          g_debug ("%s: “%s” shares the data of “%s”", self->path, node->entry.path, node->link);
        }
      else if (!is_dir)
        {
          g_hash_table_insert (sizes, node->entry.path, GSIZE_TO_POINTER (node->entry.size));
        }
    }
  archive_read_free (a);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return add_implied_directories (self, error);
}

/* Positions a new archive at the data of the @index-th regular file. */
static struct archive *
open_archive_at (RdIsoReader *self, guint index, GError **error)
{
  struct archive *a = open_archive (self, error);
  struct archive_entry *entry;
  guint n = 0;

  if (a == NULL)
    return NULL;
  while ((entry = next_header (self, a, error)) != NULL)
    {
      if (archive_entry_filetype (entry) != AE_IFREG)
        continue;
      if (n++ == index)
        return a;
    }
  if (error != NULL && *error == NULL)
    set_damaged_error (self, error, _ ("a file vanished while reading it"));
  archive_read_free (a);
  return NULL;
}

static guint
stream_index (RdIsoReader *self, IsoNode *node)
{
  for (guint i = 0; i < self->files->len; i++)
    if (g_ptr_array_index (self->files, i) == node)
      return i;
  g_return_val_if_reached (0);
}

static IsoNode *
lookup_exact (RdIsoReader *self, const char *path)
{
  for (guint i = 0; i < self->files->len; i++)
    {
      IsoNode *node = g_ptr_array_index (self->files, i);

      if (g_str_equal (node->entry.path, path))
        return node;
    }
  return NULL;
}

/* Public API */

RdIsoReader *
rd_iso_reader_open (const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (RdIsoReader) self = NULL;
  gboolean iso9660 = FALSE, udf = FALSE;
  struct stat st;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (RD_TYPE_ISO_READER, NULL);
  self->path = g_strdup (path);
  self->fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (self->fd < 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                     _ ("“%s” does not exist. Choose the ISO file again."), path);
      else
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _ ("Could not open “%s”: %s"),
                     path, g_strerror (saved));
      return NULL;
    }
  if (fstat (self->fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _ ("“%s” is not an ISO file. Choose the Windows or WinPE .iso file."), path);
      return NULL;
    }
  self->image_size = st.st_size;
  posix_fadvise (self->fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  if (!probe (self, &iso9660, &udf, error))
    return NULL;

  /* Windows ISOs hold files over 4 GiB in their UDF view only: prefer it. */
  self->format = udf ? RD_ISO_FORMAT_UDF : RD_ISO_FORMAT_ISO9660;
  if (udf ? !read_udf (self, cancellable, error) : !read_iso9660 (self, cancellable, error))
    return NULL;
  finish_tree (self);
  return g_steal_pointer (&self);
}

const char *
rd_iso_reader_get_path (RdIsoReader *self)
{
  g_return_val_if_fail (RD_IS_ISO_READER (self), NULL);
  return self->path;
}

RdIsoFormat
rd_iso_reader_get_format (RdIsoReader *self)
{
  g_return_val_if_fail (RD_IS_ISO_READER (self), RD_ISO_FORMAT_UDF);
  return self->format;
}

const char *
rd_iso_reader_get_volume_label (RdIsoReader *self)
{
  g_return_val_if_fail (RD_IS_ISO_READER (self), NULL);
  return self->volume_label;
}

GPtrArray *
rd_iso_reader_get_entries (RdIsoReader *self)
{
  g_return_val_if_fail (RD_IS_ISO_READER (self), NULL);
  return self->entries;
}

const RdIsoEntry *
rd_iso_reader_lookup (RdIsoReader *self, const char *path)
{
  g_autofree char *key = NULL;
  const char *p = path;
  gsize len;

  g_return_val_if_fail (RD_IS_ISO_READER (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  while (*p == '/')
    p++;
  key = g_ascii_strdown (p, -1);
  len = strlen (key);
  while (len > 0 && key[len - 1] == '/')
    key[--len] = '\0';
  return g_hash_table_lookup (self->lookup, key);
}

guint64
rd_iso_reader_get_content_size (RdIsoReader *self)
{
  g_return_val_if_fail (RD_IS_ISO_READER (self), 0);
  return self->content_size;
}

GArray *
rd_iso_reader_dup_extents (RdIsoReader *self, const RdIsoEntry *entry)
{
  IsoNode *node = (IsoNode *) entry;
  g_autoptr (GArray) extents = NULL;

  g_return_val_if_fail (RD_IS_ISO_READER (self), NULL);
  g_return_val_if_fail (entry != NULL && !entry->is_dir, NULL);
  g_return_val_if_fail (rd_iso_reader_lookup (self, entry->path) != NULL, NULL);

  if (self->format != RD_ISO_FORMAT_UDF || node->extents == NULL)
    return NULL;
  extents = g_array_sized_new (FALSE, FALSE, sizeof (RdIsoExtent), node->extents->len);
  for (guint i = 0; i < node->extents->len; i++)
    {
      const Extent *extent = &g_array_index (node->extents, Extent, i);
      RdIsoExtent *last = extents->len > 0
                            ? &g_array_index (extents, RdIsoExtent, extents->len - 1)
                            : NULL;

      if (extent->zeros)
        return NULL;
      if (last != NULL && last->offset + last->length == extent->offset)
        {
          last->length += extent->length;
        }
      else
        {
          RdIsoExtent piece = { extent->offset, extent->length };

          g_array_append_val (extents, piece);
        }
    }
  return g_steal_pointer (&extents);
}

static gssize
udf_file_read (RdIsoFile *file, void *buffer, gsize count, GError **error)
{
  RdIsoReader *self = file->reader;
  IsoNode *node = file->node;
  guint64 left = node->entry.size - file->position;
  const Extent *extent;
  gsize n = 0;

  count = MIN (count, left);
  if (count == 0)
    return 0;
  if (node->embedded != NULL)
    {
      memcpy (buffer, (const guint8 *) g_bytes_get_data (node->embedded, NULL) + file->position,
              count);
      file->position += count;
      return count;
    }

  while (file->extent < node->extents->len &&
         file->extent_pos >= g_array_index (node->extents, Extent, file->extent).length)
    {
      file->extent++;
      file->extent_pos = 0;
    }
  g_assert (file->extent < node->extents->len);
  extent = &g_array_index (node->extents, Extent, file->extent);
  count = MIN (count, extent->length - file->extent_pos);

  if (extent->zeros)
    {
      memset (buffer, 0, count);
      n = count;
    }
  else
    {
      if (!read_at (self, buffer, count, extent->offset + file->extent_pos, &n, error))
        return -1;
      if (n < count)
        {
          set_file_damaged_error (self, error, node->entry.path,
                                  _ ("ends early: the image is incomplete"));
          return -1;
        }
    }
  file->extent_pos += n;
  file->position += n;
  return n;
}

gssize
rd_iso_file_read (RdIsoFile *file, void *buffer, gsize count, GError **error)
{
  la_ssize_t n;

  g_return_val_if_fail (file != NULL, -1);
  g_return_val_if_fail (buffer != NULL || count == 0, -1);

  if (file->archive == NULL)
    return udf_file_read (file, buffer, count, error);

  count = MIN (count, file->node->entry.size - file->position);
  if (count == 0)
    return 0;
  n = archive_read_data (file->archive, buffer, count);
  if (n < 0)
    {
      set_file_damaged_error (file->reader, error, file->node->entry.path,
                              archive_error_string (file->archive));
      return -1;
    }
  if (n == 0)
    {
      set_file_damaged_error (file->reader, error, file->node->entry.path,
                              _ ("ends early: the image is incomplete"));
      return -1;
    }
  file->position += n;
  return n;
}

static gboolean
write_all (RdIsoFile *file, int fd, const guint8 *data, gsize len, GError **error)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _ ("Could not write “%s”: %s"),
                       file->node->entry.path, g_strerror (saved));
          return FALSE;
        }
      data += n;
      len -= n;
    }
  return TRUE;
}

gboolean
rd_iso_file_copy_to_fd (RdIsoFile *file, int fd, GCancellable *cancellable, GError **error)
{
  g_autofree guint8 *buffer = NULL;

  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);

  buffer = g_malloc (COPY_CHUNK);
  for (;;)
    {
      gsize filled = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* Fill a whole chunk, across extents, so each write is large. */
      while (filled < COPY_CHUNK)
        {
          gssize n = rd_iso_file_read (file, buffer + filled, COPY_CHUNK - filled, error);

          if (n < 0)
            return FALSE;
          if (n == 0)
            break;
          filled += n;
        }
      if (filled == 0)
        return TRUE;
      if (!write_all (file, fd, buffer, filled, error))
        return FALSE;
    }
}

static gboolean
call_with_file (RdIsoReader *self,
                IsoNode *node,
                struct archive *a,
                RdIsoFileFunc func,
                gpointer user_data,
                GError **error)
{
  RdIsoFile file = { 0 };

  file.reader = self;
  file.node = node;
  file.archive = a;
  return func (&node->entry, &file, user_data, error);
}

gboolean
rd_iso_reader_foreach_file (RdIsoReader *self,
                            RdIsoFileFunc func,
                            gpointer user_data,
                            GCancellable *cancellable,
                            GError **error)
{
  struct archive *a = NULL;
  struct archive_entry *entry;
  GError *local = NULL;
  guint i = 0;

  g_return_val_if_fail (RD_IS_ISO_READER (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (self->format == RD_ISO_FORMAT_UDF)
    {
      for (i = 0; i < self->files->len; i++)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (!call_with_file (self, g_ptr_array_index (self->files, i), NULL, func, user_data,
                               error))
            return FALSE;
        }
      return TRUE;
    }

  /* ISO 9660: one pass through the archive, in the order it stores the files. */
  a = open_archive (self, error);
  if (a == NULL)
    return FALSE;
  while ((entry = next_header (self, a, &local)) != NULL)
    {
      IsoNode *node;

      if (archive_entry_filetype (entry) != AE_IFREG)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, &local))
        break;
      if (i >= self->files->len)
        {
          set_damaged_error (self, &local, _ ("it changed while reading it"));
          break;
        }
      node = g_ptr_array_index (self->files, i++);
      if (node->link != NULL)
        {
          IsoNode *target = lookup_exact (self, node->link);
          struct archive *b = target ? open_archive_at (self, stream_index (self, target), &local)
                                     : NULL;
          gboolean ok;

          if (target == NULL && local == NULL)
            set_damaged_error (self, &local, _ ("a hard link points nowhere"));
          if (b == NULL)
            break;
          ok = call_with_file (self, node, b, func, user_data, &local);
          archive_read_free (b);
          if (!ok)
            break;
        }
      else if (!call_with_file (self, node, a, func, user_data, &local))
        {
          break;
        }
    }
  archive_read_free (a);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

gboolean
rd_iso_reader_extract_to_fd (RdIsoReader *self,
                             const RdIsoEntry *entry,
                             int fd,
                             GCancellable *cancellable,
                             GError **error)
{
  IsoNode *node = (IsoNode *) entry;
  RdIsoFile file = { 0 };
  gboolean ok;

  g_return_val_if_fail (RD_IS_ISO_READER (self), FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (rd_iso_reader_lookup (self, entry->path) != NULL, FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);

  if (entry->is_dir)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                   _ ("“%s” is a folder, not a file"), entry->path);
      return FALSE;
    }

  file.reader = self;
  file.node = node;
  if (self->format == RD_ISO_FORMAT_ISO9660)
    {
      IsoNode *data_node = node->link != NULL ? lookup_exact (self, node->link) : node;

      if (data_node == NULL)
        {
          set_damaged_error (self, error, _ ("a hard link points nowhere"));
          return FALSE;
        }
      file.archive = open_archive_at (self, stream_index (self, data_node), error);
      if (file.archive == NULL)
        return FALSE;
    }
  ok = rd_iso_file_copy_to_fd (&file, fd, cancellable, error);
  if (file.archive != NULL)
    archive_read_free (file.archive);
  return ok;
}
