/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-imaging-enums.h"
#include "rd-imaging-types.h"

G_BEGIN_DECLS

/* Composes a bootable USB key from a Windows or WinPE ISO (issue 6), in user space: the ISO is
 * read with RdIsoReader, the disk is built in a sparse scratch image (partition table with
 * libfdisk, FAT32 file systems and their files with mtools), WIMs over the split size are split
 * into .swm parts with wimlib. The result is a raw disk image that RdImageWriter writes and
 * verifies like any other. Nothing is mounted, nothing needs root.
 *
 *   setup:         GPT: p1 "EFI system partition" type, FAT32, label from the ISO's label;
 *                  MBR: p1 type 0x0C, active. The ISO's files; sources/install.wim or
 *                  install.esd over the split size becomes install.swm, install2.swm, ...
 *   winpe-images:  p1 WINPE (as above, the ISO's files; 4 GiB unless they need more) and p2
 *                  IMAGES (FAT32, basic data / 0x0C, not active) with each payload folder's
 *                  contents at its root; any WIM over the split size is split.
 *
 * Partitions start on 1 MiB boundaries. Labels are valid FAT labels (upper case, 11 bytes); on GPT
 * the partition names are the labels. The scratch image holds only the partitions (and the backup
 * GPT): it ends where the last partition does. */

#define RD_MEDIA_COMPOSER_DEFAULT_SPLIT_MIB 4094
#define RD_MEDIA_COMPOSER_DEFAULT_WINPE_MIB 4096

#define RD_TYPE_MEDIA_COMPOSER (rd_media_composer_get_type ())

G_DECLARE_FINAL_TYPE (RdMediaComposer, rd_media_composer, RD, MEDIA_COMPOSER, GObject)

RdMediaComposer *rd_media_composer_new                (const char        *iso_path,
                                                       RdMediaLayout      layout);
void             rd_media_composer_set_partition_table (RdMediaComposer  *self,
                                                       RdPartitionTable   table);
/* Part size for .swm files, in MiB; 1..4095 (FAT32's file size limit). */
void             rd_media_composer_set_split_size     (RdMediaComposer   *self,
                                                       guint              mib);
/* The WINPE partition's size in MiB (winpe-images only), grown when the ISO needs more. */
void             rd_media_composer_set_winpe_size     (RdMediaComposer   *self,
                                                       guint              mib);
void             rd_media_composer_add_payload        (RdMediaComposer   *self,
                                                       const char        *directory);
/* Where the scratch image (and split parts) are made; default: $RECOVERY_DESK_SCRATCH, else
 * g_get_user_cache_dir ()/recovery-desk. */
void             rd_media_composer_set_scratch_dir    (RdMediaComposer   *self,
                                                       const char        *directory);
/* The folder set, else the default above; it may not exist yet. */
const char      *rd_media_composer_get_scratch_dir    (RdMediaComposer   *self);

/* Opens the ISO and the payloads, checks them and sizes the disk; writes nothing. Errors
 * (RD_IMAGING_ERROR domain): no bootmgr or efi/boot/bootx64.efi (_UNSUPPORTED, the message
 * says the key would not boot on UEFI), a payload folder missing or unreadable (_NOT_FOUND /
 * _IO), a solid WIM that must be split (_UNSUPPORTED, suggests winpe-images), not enough free
 * space in the scratch directory (_TOO_SMALL, names both sizes). */
gboolean         rd_media_composer_prepare            (RdMediaComposer   *self,
                                                       GCancellable      *cancellable,
                                                       GError           **error);
/* After prepare: the composed disk's size (what a key must hold), the free space compose needs in
 * the scratch directory, and the ISO's own label (the setup layout's FAT label is made from it). */
guint64          rd_media_composer_get_image_size     (RdMediaComposer   *self);
guint64          rd_media_composer_get_scratch_needed (RdMediaComposer   *self);
const char      *rd_media_composer_get_volume_label   (RdMediaComposer   *self);

/* Builds the scratch image (prepare first). On failure or cancel the scratch files are removed
 * before it returns. May run in a thread; get_progress is thread-safe. */
gboolean         rd_media_composer_compose            (RdMediaComposer   *self,
                                                       GCancellable      *cancellable,
                                                       GError           **error);
/* Copies (or renames, on the same file system) the composed image to @path, holes kept; for
 * --output. Afterwards get_image_path returns @path, and cleanup and finalize leave it. */
gboolean         rd_media_composer_save               (RdMediaComposer   *self,
                                                       const char        *path,
                                                       GError           **error);
const char      *rd_media_composer_get_image_path     (RdMediaComposer   *self);
RdComposeStep    rd_media_composer_get_progress       (RdMediaComposer   *self,
                                                       guint64           *bytes_done,
                                                       guint64           *bytes_total);
/* Removes the scratch image and anything else made; also done on finalize. */
void             rd_media_composer_cleanup            (RdMediaComposer   *self);

G_END_DECLS
