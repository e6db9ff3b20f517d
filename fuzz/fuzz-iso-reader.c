/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-iso-reader"

#include "config.h"

#include "fuzz-common.h"

#include "rd-imaging-error.h"
#include "rd-iso-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An input is an ISO image, either as it is or, when it starts with SPARSE_MAGIC, as records
 * that each write one run of sectors:
 *
 *   u16 LE first sector, u16 LE flags and length, then length bytes
 *
 * The run covers whole sectors (what the bytes leave is zeros), later records overwrite earlier
 * ones, and the image ends with the last sector written. With RECORD_FIX_TAGS set the UDF
 * descriptor tags at the start of each sector (and the file identifiers that follow one) get
 * their checksum and CRC recomputed, so that mutations reach past the tag checks. A UDF volume
 * needs its anchor at sector 256 and is mostly zeros: this keeps a seed of a few KiB where the
 * image is 870 KiB. RD_FUZZ_WRITE_IMAGE=FILE writes out the image an input stands for. */
#define SPARSE_MAGIC "RDSPARSE"
#define RECORD_FIX_TAGS 0x8000
#define RECORD_LENGTH_MASK 0x7fff
#define SECTOR 2048
#define TAG_FID 257

/* Reading is capped, as a file may claim terabytes of unrecorded extents that read as zeros. */
#define FILE_READ_BUDGET (4 * 1024 * 1024)
#define INPUT_READ_BUDGET (16 * 1024 * 1024)

/* Inputs this target found, kept in fuzz/corpus/iso-reader/ since their fixes so that they keep
 * guarding them (tests/imaging/test-iso-reader.c crafts the same damage in genisoimage output):
 *
 * - libudf-root-ea-length.sparse: the root folder's file entry (sector 259) claims 0x7fffff00
 *   bytes of extended attributes. libudf 2.1.0's udf_get_root() read the allocation descriptors
 *   past them without a bounds check: SEGV in udf_get_lba(), also without sanitizers. The reader
 *   now finds the UDF volume and its root folder itself and no longer uses libudf.
 * - udf-empty-embedded-folder.sparse: the root folder's data is embedded in its file entry (ICB
 *   flags 3) and is 0 bytes long. udf_read_directory() called memcpy (data, NULL, 0) (the data of
 *   an empty GBytes): UBSan reports a null argument declared nonnull.
 * - libarchive-root-length.sparse (ISO 9660 only): the primary volume descriptor's root directory
 *   record claims 3.5 GiB. libarchive 3.6.2 mallocs that much before reading it and then fails;
 *   libFuzzer stops on the malloc over its 2 GiB limit. probe() now refuses a root folder that
 *   lies past the end of the image; libarchive checks subfolders against the volume size, which
 *   probe() checks against the image size.
 *
 * A new finding replays with _build-fuzz/fuzz/fuzz-iso-reader FILE, and RD_FUZZ_WRITE_IMAGE=out.iso
 * writes the ISO image it stands for. */

static int image_fd = -1;
static char *image_path;
static int null_fd = -1;
static const char *write_image_path;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  rd_fuzz_init ();

  image_fd = memfd_create ("fuzz-iso-reader", MFD_CLOEXEC);
  g_assert_cmpint (image_fd, >=, 0);
  image_path = g_strdup_printf ("/proc/self/fd/%d", image_fd);
  null_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  g_assert_cmpint (null_fd, >=, 0);
  write_image_path = g_getenv ("RD_FUZZ_WRITE_IMAGE");

  return 0;
}

static void
write_image (const void *data,
             size_t      size,
             off_t       offset)
{
  const guint8 *p = data;

  while (size > 0)
    {
      ssize_t n = pwrite (image_fd, p, size, offset);

      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      p += n;
      size -= n;
      offset += n;
    }
}

static guint16
le16 (const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

static gboolean
is_udf_tag (guint16 id)
{
  return (id >= 1 && id <= 9) || (id >= 256 && id <= 266);
}

/* Recomputes the checksum and CRC of the descriptor at @p; returns its size for a file
 * identifier, 0 otherwise. */
static gsize
fix_tag (guint8 *p,
         gsize   left)
{
  guint16 crc_len = le16 (p + 10);
  guint16 crc = 0;
  guint8 sum = 0;

  if (16u + crc_len > left)
    crc_len = left - 16;
  for (gsize i = 16; i < 16u + crc_len; i++)
    {
      crc ^= (guint16) p[i] << 8;
      for (int bit = 0; bit < 8; bit++)
        crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    }
  p[8] = crc & 0xff;
  p[9] = crc >> 8;
  for (int i = 0; i < 16; i++)
    if (i != 4)
      sum += p[i];
  p[4] = sum;

  if (le16 (p) != TAG_FID || left < 38)
    return 0;
  return (38 + le16 (p + 36) + p[19] + 3) & ~(gsize) 3;
}

static void
fix_tags (guint8 *run,
          gsize   length)
{
  for (gsize start = 0; start < length; start += SECTOR)
    {
      gsize offset = start;

      while (offset + 16 <= length && is_udf_tag (le16 (run + offset)))
        {
          gsize next = fix_tag (run + offset, length - offset);

          if (next == 0)
            break;
          offset += next;
        }
    }
}

/* Lays the input out in the memfd; FALSE for a sparse input with no record. */
static gboolean
build_image (const uint8_t *data,
             size_t         size)
{
  const size_t magic_len = strlen (SPARSE_MAGIC);
  gboolean wrote = FALSE;

  g_assert_cmpint (ftruncate (image_fd, 0), ==, 0);
  if (size < magic_len || memcmp (data, SPARSE_MAGIC, magic_len) != 0)
    {
      if (size > 0)
        write_image (data, size, 0);
      return TRUE;
    }

  data += magic_len;
  size -= magic_len;
  while (size >= 4)
    {
      guint16 sector = le16 (data);
      guint16 flags = le16 (data + 2);
      gsize length = MIN (flags & RECORD_LENGTH_MASK, size - 4);
      gsize run_length = MAX ((length + SECTOR - 1) / SECTOR, 1) * SECTOR;
      g_autofree guint8 *run = g_malloc0 (run_length);

      memcpy (run, data + 4, length);
      if (flags & RECORD_FIX_TAGS)
        fix_tags (run, run_length);
      write_image (run, run_length, (off_t) sector * SECTOR);
      data += 4 + length;
      size -= 4 + length;
      wrote = TRUE;
    }
  return wrote;
}

/* RD_FUZZ_WRITE_IMAGE=FILE keeps the image an input makes, to replay it elsewhere. */
static void
save_image (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (image_path, &contents, &length, &error) ||
      !g_file_set_contents (write_image_path, contents, length, &error))
    g_error ("Could not write the image to %s: %s", write_image_path, error->message);
}

/* Reading */

typedef struct
{
  RdIsoReader *reader;
  guint64 image_size;
  gsize budget;
  guint n_files;
} ReadState;

/* A file's recorded extents must hold what reading it returns. */
static void
check_against_extents (GArray       *extents,
                       guint64       position,
                       const guint8 *buffer,
                       gsize         count)
{
  guint64 start = 0;

  for (guint i = 0; i < extents->len && count > 0; i++)
    {
      const RdIsoExtent *extent = &g_array_index (extents, RdIsoExtent, i);
      guint64 end = start + extent->length;

      if (position < end)
        {
          gsize n = MIN (count, end - position);
          g_autofree guint8 *expected = g_malloc (n);

          g_assert_cmpint (pread (image_fd, expected, n, extent->offset + (position - start)), ==,
                           (gssize) n);
          g_assert_true (memcmp (expected, buffer, n) == 0);
          buffer += n;
          position += n;
          count -= n;
        }
      start = end;
    }
  g_assert_cmpuint (count, ==, 0);
}

static gboolean
read_file_cb (const RdIsoEntry  *entry,
              RdIsoFile         *file,
              gpointer           user_data,
              GError           **error)
{
  ReadState *state = user_data;
  g_autoptr (GArray) extents = rd_iso_reader_dup_extents (state->reader, entry);
  g_autofree guint8 *buffer = g_malloc (64 * 1024);
  guint64 position = 0;
  gsize file_budget = FILE_READ_BUDGET;

  g_assert_false (entry->is_dir);
  state->n_files++;

  if (extents != NULL)
    {
      guint64 total = 0;

      for (guint i = 0; i < extents->len; i++)
        {
          const RdIsoExtent *extent = &g_array_index (extents, RdIsoExtent, i);

          g_assert_cmpuint (extent->length, >, 0);
          g_assert_cmpuint (extent->offset, <=, state->image_size);
          g_assert_cmpuint (extent->length, <=, state->image_size - extent->offset);
          total += extent->length;
        }
      g_assert_cmpuint (total, ==, entry->size);
    }

  for (;;)
    {
      gssize n;

      if (file_budget == 0 || state->budget == 0)
        {
          /* Not the reader's failure: the rest of this input is not worth the time. */
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "fuzz read budget spent");
          return FALSE;
        }
      n = rd_iso_file_read (file, buffer, MIN (64 * 1024, file_budget), error);
      if (n < 0)
        {
          g_assert_true (error == NULL || *error != NULL);
          return FALSE;
        }
      if (n == 0)
        break;
      g_assert_cmpuint ((guint64) n, <=, entry->size - position);
      if (extents != NULL)
        check_against_extents (extents, position, buffer, n);
      position += n;
      file_budget -= MIN ((gsize) n, file_budget);
      state->budget -= MIN ((gsize) n, state->budget);
    }
  g_assert_cmpuint (position, ==, entry->size);
  return TRUE;
}

/* The tree as rd-iso-reader.h promises it: safe relative paths, directories before what they
 * hold, every path found again by lookup. */
static void
check_entries (RdIsoReader *reader)
{
  GPtrArray *entries = rd_iso_reader_get_entries (reader);
  g_autoptr (GHashTable) dirs = g_hash_table_new (g_str_hash, g_str_equal);
  guint64 content_size = 0;

  g_assert_true (g_utf8_validate (rd_iso_reader_get_volume_label (reader), -1, NULL));

  for (guint i = 0; i < entries->len; i++)
    {
      const RdIsoEntry *entry = g_ptr_array_index (entries, i);
      g_auto (GStrv) parts = NULL;
      g_autofree char *parent = NULL;
      const RdIsoEntry *found;
      char *slash;

      g_assert_nonnull (entry->path);
      g_assert_true (g_utf8_validate (entry->path, -1, NULL));
      g_assert_null (strchr (entry->path, '\\'));
      parts = g_strsplit (entry->path, "/", -1);
      for (guint j = 0; parts[j] != NULL; j++)
        {
          g_assert_cmpstr (parts[j], !=, "");
          g_assert_cmpstr (parts[j], !=, ".");
          g_assert_cmpstr (parts[j], !=, "..");
        }

      parent = g_strdup (entry->path);
      slash = strrchr (parent, '/');
      if (slash != NULL)
        {
          *slash = '\0';
          g_assert_true (g_hash_table_contains (dirs, parent));
        }

      if (entry->is_dir)
        {
          g_assert_cmpuint (entry->size, ==, 0);
          g_hash_table_add (dirs, entry->path);
        }
      else
        {
          content_size += entry->size;
        }

      found = rd_iso_reader_lookup (reader, entry->path);
      g_assert_nonnull (found);
      g_assert_cmpint (g_ascii_strcasecmp (found->path, entry->path), ==, 0);
    }
  g_assert_cmpuint (rd_iso_reader_get_content_size (reader), ==, content_size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (RdIsoReader) reader = NULL;
  g_autoptr (GError) error = NULL;
  const RdIsoEntry *bootmgr;
  ReadState state = { 0 };
  gboolean ok;

  if (!build_image (data, size))
    return 0;
  if (write_image_path != NULL)
    save_image ();

  reader = rd_iso_reader_open (image_path, NULL, &error);
  if (reader == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == RD_IMAGING_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      if (rd_fuzz_verbose ())
        fprintf (stderr, "refused: %s\n", error->message);
      return 0;
    }
  g_assert_no_error (error);

  check_entries (reader);

  state.reader = reader;
  state.image_size = lseek (image_fd, 0, SEEK_END);
  state.budget = INPUT_READ_BUDGET;
  ok = rd_iso_reader_foreach_file (reader, read_file_cb, &state, NULL, &error);
  g_assert_true (ok == (error == NULL));
  if (!ok)
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
  if (rd_fuzz_verbose ())
    fprintf (stderr, "%s: %s, %u entries, %u files read%s%s\n",
             rd_iso_reader_get_format (reader) == RD_ISO_FORMAT_UDF ? "UDF" : "ISO 9660",
             rd_iso_reader_get_volume_label (reader), rd_iso_reader_get_entries (reader)->len,
             state.n_files, ok ? "" : ", then ", ok ? "" : error->message);
  g_clear_error (&error);

  /* What the media composer does to find out that the ISO is Windows media. */
  bootmgr = rd_iso_reader_lookup (reader, "bootmgr");
  if (bootmgr != NULL && !bootmgr->is_dir && bootmgr->size <= FILE_READ_BUDGET)
    {
      if (!rd_iso_reader_extract_to_fd (reader, bootmgr, null_fd, NULL, &error))
        g_assert_nonnull (error);
      else if (rd_fuzz_verbose ())
        fprintf (stderr, "bootmgr: %" G_GUINT64_FORMAT " bytes\n", bootmgr->size);
    }

  return 0;
}
