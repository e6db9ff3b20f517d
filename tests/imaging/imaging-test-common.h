/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <udisks/udisks.h>

#include "rd-drive-monitor.h"
#include "rd-imaging-types.h"

G_BEGIN_DECLS

/* A temp dir with a random raw image (an MBR, an unaligned tail) and its compressed forms. */
typedef struct
{
  char *dir;
  char *raw;      /* image.img */
  gsize raw_size;
  guint8 *raw_data;
} ImagingFixtureFiles;

void  imaging_files_init      (ImagingFixtureFiles *files,
                               gsize                size);
void  imaging_files_clear     (ImagingFixtureFiles *files);
char *imaging_files_compress  (ImagingFixtureFiles *files,
                               const char          *format);
char *imaging_make_windows_iso (const char         *dir);
void  imaging_run             (const char          *command_line);

typedef enum
{
  RD_TEST_ISO_NO_BOOTMGR    = 1 << 0, /* leave out bootmgr */
  RD_TEST_ISO_NO_EFI        = 1 << 1, /* leave out efi/boot/bootx64.efi */
  RD_TEST_ISO_SOLID_INSTALL = 1 << 2, /* sources/install.esd, solid (wimlib-imagex --solid) */
  RD_TEST_ISO_JOLIET_ONLY   = 1 << 3, /* genisoimage -J -R without -udf */
} RdTestIsoFlags;

/* Makes DIR/iso-tree/ (bootmgr, bootmgr.efi, boot/bcd, efi/boot/bootx64.efi,
 * efi/microsoft/boot/bcd, sources/boot.wim (a small WIM), sources/install.wim of about
 * INSTALL_MIB MiB of incompressible generated files captured with `wimlib-imagex capture
 * --compress=none`, a few nested folders with mixed-case names and a 0-byte file) and
 * DIR/LABEL.iso made with `genisoimage -udf -J -R -iso-level 3 -V LABEL` from it. Returns the
 * ISO's path (g_free) and, in *out_tree, the tree's path to compare against. */
char *rd_test_make_windows_iso (const char      *dir,
                                const char      *label,
                                guint            install_mib,
                                RdTestIsoFlags   flags,
                                char           **out_tree,
                                GError         **error);

/* Checks a disk image from RdMediaComposer as an outsider would: `sfdisk --json` (label type,
 * partition types, GPT names = FAT labels, MBR active flag, 1 MiB alignment, the image ending
 * with the last partition and the backup GPT), `minfo` (FAT32, label, hidden sectors =
 * partition start), `fsck.fat -n` on each partition cut out with dd (at least 65,525 clusters),
 * and every file of @trees copied back out with `mcopy` and compared byte for byte (names'
 * case included), nothing else on the partition; a .wim or .esd not on the key must be there as
 * NAME.swm, NAME2.swm, ... (each under 4 GiB, at least two, numbered k/N by `wiminfo`), whole by
 * `wimlib-imagex verify NAME.swm --ref=NAME*.swm`. Asserts on any difference. */
typedef struct
{
  const char *label;        /* the FAT volume label, also the GPT partition name */
  gboolean boot;            /* GPT: EFI system partition type (else basic data); MBR: active */
  const char *const *trees; /* NULL-terminated folders whose contents are at the root */
} RdTestComposedPartition;

void rd_test_check_composed_image (const char                    *image,
                                   RdPartitionTable               table,
                                   const RdTestComposedPartition *partitions,
                                   guint                          n_partitions);

#define IMAGING_MIB (G_GUINT64_CONSTANT (1024) * 1024)
#define IMAGING_STICK_MARK 0xee

/* Removes @path and everything below it (symbolic links, not what they point to). */
void    imaging_remove_tree (const char *path);
guint8  imaging_byte_at     (const char *path,
                             guint64     offset);
/* The median of @values (doubles), which it sorts; for the benchmarks' rounds. */
double  imaging_median      (GArray     *values);

/* Loop devices through UDisks Manager.LoopSetup over sparse files. Those not deleted when a
 * test aborts (a failed assertion skips its teardown) are detached on the way out. */
gboolean      imaging_have_udisks     (void);
/* imaging_have_udisks (), else the test is skipped (g_test_skip) saying what it needs. */
gboolean      imaging_need_udisks     (void);
UDisksClient *imaging_udisks_client   (void);
char         *imaging_loop_setup      (const char     *backing_file,
                                       guint64         size);
void          imaging_loop_delete     (const char     *object_path);
/* A sparse "stick" DIR/stickN.img (N = @loops->len) whose first and last MiB hold
 * IMAGING_STICK_MARK, so writes and wipes show, as a loop device; its object path is added to
 * @loops (imaging_loop_delete each at teardown), its backing file returned in @out_backing. */
RdDrive      *imaging_add_stick       (RdDriveMonitor *monitor,
                                       const char     *dir,
                                       GPtrArray      *loops,
                                       guint64         size,
                                       char          **out_backing);
RdDrive      *imaging_wait_for_drive  (RdDriveMonitor *monitor,
                                       const char     *object_path);
const char   *imaging_loop_device     (const char     *object_path);
void          imaging_assert_file_prefix (const char  *path,
                                       const guint8   *data,
                                       gsize           len);

G_END_DECLS
