/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <udisks/udisks.h>

#include "rd-drive-monitor.h"

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

/* Loop devices through UDisks Manager.LoopSetup over sparse files. */
gboolean      imaging_have_udisks     (void);
UDisksClient *imaging_udisks_client   (void);
char         *imaging_loop_setup      (const char     *backing_file,
                                       guint64         size);
void          imaging_loop_delete     (const char     *object_path);
RdDrive      *imaging_wait_for_drive  (RdDriveMonitor *monitor,
                                       const char     *object_path);
const char   *imaging_loop_device     (const char     *object_path);
void          imaging_assert_file_prefix (const char  *path,
                                       const guint8   *data,
                                       gsize           len);

G_END_DECLS
