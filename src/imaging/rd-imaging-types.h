/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a source image is, as far as writing it byte for byte goes. */
typedef enum
{
  RD_IMAGE_KIND_RAW,          /* a disk image (partition table or anything else) */
  RD_IMAGE_KIND_HYBRID_ISO,   /* ISO 9660 with an MBR or GPT in its system area */
  RD_IMAGE_KIND_WINDOWS_ISO,  /* ISO 9660 / UDF without a partition table */
} RdImageKind;

typedef enum
{
  RD_IMAGE_COMPRESSION_NONE,
  RD_IMAGE_COMPRESSION_XZ,
  RD_IMAGE_COMPRESSION_GZIP,
  RD_IMAGE_COMPRESSION_ZSTD,
  RD_IMAGE_COMPRESSION_BZIP2,
  RD_IMAGE_COMPRESSION_ZIP,
} RdImageCompression;

typedef enum
{
  RD_PARTITION_TABLE_NONE,
  RD_PARTITION_TABLE_MBR,
  RD_PARTITION_TABLE_GPT,
} RdPartitionTable;

/* How sure RdImageSource is of the uncompressed size. */
typedef enum
{
  RD_SIZE_UNKNOWN,
  RD_SIZE_EXACT,
  RD_SIZE_LOWER_BOUND, /* gzip ISIZE (mod 2^32), first zstd frame */
} RdSizeCertainty;

typedef enum
{
  RD_WRITE_PHASE_PENDING,
  RD_WRITE_PHASE_PREPARING,
  RD_WRITE_PHASE_WRITING,
  RD_WRITE_PHASE_FLUSHING,
  RD_WRITE_PHASE_VERIFYING,
  RD_WRITE_PHASE_DONE,
  RD_WRITE_PHASE_FAILED,
  RD_WRITE_PHASE_CANCELLED,
} RdWritePhase;

/* How a Windows or WinPE ISO is laid out on a key (issue 6). */
typedef enum
{
  RD_MEDIA_LAYOUT_SETUP,        /* one FAT32 partition with the ISO's files, install image split */
  RD_MEDIA_LAYOUT_WINPE_IMAGES, /* FAT32 WINPE (the ISO) + FAT32 IMAGES (the admin's payloads) */
} RdMediaLayout;

/* Where RdMediaComposer is, for progress. */
typedef enum
{
  RD_COMPOSE_STEP_PREPARING,    /* reading the ISO's directory, sizing, checking */
  RD_COMPOSE_STEP_PARTITIONING, /* partition table and FAT32 file systems */
  RD_COMPOSE_STEP_SPLITTING,    /* a WIM over the split size into .swm parts */
  RD_COMPOSE_STEP_COPYING,      /* files into the FAT32 file systems */
  RD_COMPOSE_STEP_DONE,
} RdComposeStep;

G_END_DECLS
