/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging-test"

#include "config.h"

#include "rd-image-source.h"
#include "rd-imaging-error.h"

#include "imaging-test-common.h"

#include <glib/gstdio.h>
#include <string.h>

/* 5 MiB + 123 bytes: several decoder reads, and an end that is not block-aligned. */
#define IMAGE_SIZE (5 * 1024 * 1024 + 123)

typedef struct
{
  ImagingFixtureFiles files;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  imaging_files_init (&f->files, IMAGE_SIZE);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  imaging_files_clear (&f->files);
}

static GBytes *
read_all (RdImageSource *source)
{
  g_autoptr (GError) error = NULL;
  GByteArray *out = g_byte_array_new ();
  g_autofree guint8 *buffer = g_malloc (1024 * 1024);

  g_assert_true (rd_image_source_rewind (source, &error));
  g_assert_no_error (error);
  for (;;)
    {
      gssize n = rd_image_source_read (source, buffer, 1024 * 1024, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >=, 0);
      if (n == 0)
        break;
      g_byte_array_append (out, buffer, n);
    }
  return g_byte_array_free_to_bytes (out);
}

typedef struct
{
  const char *format;
  RdImageCompression compression;
  RdSizeCertainty certainty;
} FormatCase;

static const FormatCase format_cases[] = {
  { "raw", RD_IMAGE_COMPRESSION_NONE, RD_SIZE_EXACT },
  { "xz", RD_IMAGE_COMPRESSION_XZ, RD_SIZE_EXACT },
  { "gz", RD_IMAGE_COMPRESSION_GZIP, RD_SIZE_LOWER_BOUND },
  { "zst", RD_IMAGE_COMPRESSION_ZSTD, RD_SIZE_LOWER_BOUND },
  { "bz2", RD_IMAGE_COMPRESSION_BZIP2, RD_SIZE_UNKNOWN },
  { "zip", RD_IMAGE_COMPRESSION_ZIP, RD_SIZE_EXACT },
};

static void
test_formats (Fixture *f, gconstpointer data)
{
  const FormatCase *c = data;
  g_autofree char *path = NULL;
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *expected = NULL;

  path = g_str_equal (c->format, "raw") ? g_strdup (f->files.raw)
                                         : imaging_files_compress (&f->files, c->format);
  source = rd_image_source_open (path, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpint (rd_image_source_get_compression (source), ==, c->compression);
  g_assert_cmpint (rd_image_source_get_kind (source), ==, RD_IMAGE_KIND_RAW);
  g_assert_cmpint (rd_image_source_get_partition_table (source), ==, RD_PARTITION_TABLE_MBR);
  g_assert_cmpint (rd_image_source_get_size_certainty (source), ==, c->certainty);
  if (c->certainty != RD_SIZE_UNKNOWN)
    g_assert_cmpuint (rd_image_source_get_uncompressed_size (source), ==, IMAGE_SIZE);
  g_assert_true (rd_image_source_check_raw_writable (source, &error));
  g_assert_no_error (error);

  /* Twice: rewinding must start the stream over. */
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GBytes) again = read_all (source);

      g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again), f->files.raw_data,
                       f->files.raw_size);
    }
  g_assert_cmpuint (rd_image_source_get_compressed_position (source), >, 0);

  digest = rd_image_source_compute_sha256 (source, NULL, &error);
  g_assert_no_error (error);
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, f->files.raw_data, f->files.raw_size);
  g_assert_cmpstr (digest, ==, expected);
  g_assert_finalize_object (g_steal_pointer (&source));
}

static void
test_corrupt_xz (Fixture *f, gconstpointer data)
{
  g_autofree char *path = imaging_files_compress (&f->files, "xz");
  g_autofree char *contents = NULL;
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *buffer = g_malloc (1024 * 1024);
  gsize len;
  gssize n = 1;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  for (gsize i = len / 2; i < len / 2 + 64; i++)
    contents[i] ^= 0xff;
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);

  /* The index at the end is intact, so opening works; decoding must fail, not end early. */
  source = rd_image_source_open (path, NULL, &error);
  g_assert_no_error (error);
  while (n > 0)
    n = rd_image_source_read (source, buffer, 1024 * 1024, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "cannot be decompressed"));
}

static void
test_windows_iso (Fixture *f, gconstpointer data)
{
  g_autofree char *iso = imaging_make_windows_iso (f->files.dir);
  g_autofree char *genisoimage = g_find_program_in_path ("genisoimage");
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;

  source = rd_image_source_open (iso, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (rd_image_source_get_is_iso (source));
  g_assert_cmpint (rd_image_source_get_kind (source), ==, RD_IMAGE_KIND_WINDOWS_ISO);
  g_assert_cmpint (rd_image_source_get_partition_table (source), ==, RD_PARTITION_TABLE_NONE);
  g_assert_cmpstr (rd_image_source_get_volume_label (source), ==, "CCCOMA_X64FRE");
  g_assert_false (rd_image_source_check_raw_writable (source, &error));
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA);
  g_assert_nonnull (strstr (error->message, "Windows media mode"));
  if (genisoimage != NULL)
    g_assert_true (rd_image_source_get_windows_media (source));
}

static void
test_hybrid_iso (Fixture *f, gconstpointer data)
{
  g_autofree char *iso = imaging_make_windows_iso (f->files.dir);
  g_autofree char *contents = NULL;
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  /* An isohybrid-style MBR in the system area makes it writable byte for byte. */
  g_file_get_contents (iso, &contents, &len, &error);
  g_assert_no_error (error);
  contents[446] = (char) 0x80;
  contents[446 + 4] = 0x17;
  contents[446 + 12] = 0x40;
  contents[510] = 0x55;
  contents[511] = (char) 0xaa;
  g_file_set_contents (iso, contents, len, &error);
  g_assert_no_error (error);

  source = rd_image_source_open (iso, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rd_image_source_get_kind (source), ==, RD_IMAGE_KIND_HYBRID_ISO);
  g_assert_cmpint (rd_image_source_get_partition_table (source), ==, RD_PARTITION_TABLE_MBR);
  g_assert_true (rd_image_source_check_raw_writable (source, &error));
  g_assert_no_error (error);
}

static void
test_gpt (Fixture *f, gconstpointer data)
{
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;

  memcpy (f->files.raw_data + 512, "EFI PART", 8);
  g_file_set_contents (f->files.raw, (const char *) f->files.raw_data, f->files.raw_size, &error);
  g_assert_no_error (error);
  source = rd_image_source_open (f->files.raw, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rd_image_source_get_partition_table (source), ==, RD_PARTITION_TABLE_GPT);
}

static void
test_bad_sources (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->files.dir, "missing.img", NULL);
  g_autofree char *empty = g_build_filename (f->files.dir, "empty.img", NULL);
  g_autofree char *zip = NULL;
  g_autofree char *cmd = NULL;
  g_autoptr (GError) error = NULL;
  RdImageSource *source;

  source = rd_image_source_open (missing, NULL, &error);
  g_assert_null (source);
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_file_set_contents (empty, "", 0, NULL);
  source = rd_image_source_open (empty, NULL, &error);
  g_assert_null (source);
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* A zip with two files is not one image. */
  zip = imaging_files_compress (&f->files, "zip");
  cmd = g_strdup_printf ("sh -c 'cd %s && cp image.img second.img && zip -q image.zip second.img'",
                         f->files.dir);
  imaging_run (cmd);
  source = rd_image_source_open (zip, NULL, &error);
  g_assert_null (source);
  g_assert_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "holds 2 files"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (format_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/rd/image-source/format/%s", format_cases[i].format);

      g_test_add (name, Fixture, &format_cases[i], fixture_setup, test_formats, fixture_teardown);
    }
  g_test_add ("/rd/image-source/corrupt-xz", Fixture, NULL, fixture_setup, test_corrupt_xz,
              fixture_teardown);
  g_test_add ("/rd/image-source/windows-iso-refused", Fixture, NULL, fixture_setup,
              test_windows_iso, fixture_teardown);
  g_test_add ("/rd/image-source/hybrid-iso", Fixture, NULL, fixture_setup, test_hybrid_iso,
              fixture_teardown);
  g_test_add ("/rd/image-source/gpt", Fixture, NULL, fixture_setup, test_gpt, fixture_teardown);
  g_test_add ("/rd/image-source/bad-sources", Fixture, NULL, fixture_setup, test_bad_sources,
              fixture_teardown);

  return g_test_run ();
}
