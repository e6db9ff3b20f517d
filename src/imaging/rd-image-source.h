/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "rd-imaging-enums.h"
#include "rd-imaging-types.h"

G_BEGIN_DECLS

#define RD_TYPE_IMAGE_SOURCE (rd_image_source_get_type ())

G_DECLARE_FINAL_TYPE (RdImageSource, rd_image_source, RD, IMAGE_SOURCE, GObject)

RdImageSource     *rd_image_source_open                   (const char    *path,
                                                           GCancellable  *cancellable,
                                                           GError       **error);
const char        *rd_image_source_get_path               (RdImageSource *self);
RdImageKind        rd_image_source_get_kind               (RdImageSource *self);
RdImageCompression rd_image_source_get_compression        (RdImageSource *self);
RdPartitionTable   rd_image_source_get_partition_table    (RdImageSource *self);
gboolean           rd_image_source_get_is_iso             (RdImageSource *self);
gboolean           rd_image_source_get_windows_media      (RdImageSource *self);
const char        *rd_image_source_get_volume_label       (RdImageSource *self);
guint64            rd_image_source_get_compressed_size    (RdImageSource *self);
guint64            rd_image_source_get_uncompressed_size  (RdImageSource *self);
RdSizeCertainty    rd_image_source_get_size_certainty     (RdImageSource *self);
dev_t              rd_image_source_get_device             (RdImageSource *self);
ino_t              rd_image_source_get_inode              (RdImageSource *self);
gboolean           rd_image_source_check_raw_writable     (RdImageSource *self,
                                                           GError       **error);

gboolean           rd_image_source_rewind                 (RdImageSource *self,
                                                           GError       **error);
gssize             rd_image_source_read                   (RdImageSource *self,
                                                           void          *buffer,
                                                           gsize          count,
                                                           GError       **error);
guint64            rd_image_source_get_compressed_position (RdImageSource *self);
char              *rd_image_source_compute_sha256         (RdImageSource *self,
                                                           GCancellable  *cancellable,
                                                           GError       **error);
gboolean           rd_image_source_compare_fd             (RdImageSource *self,
                                                           int            fd,
                                                           const char    *name,
                                                           GCancellable  *cancellable,
                                                           char         **out_sha256,
                                                           GError       **error);

const char        *rd_image_compression_to_string         (RdImageCompression compression);
const char        *rd_image_kind_to_string                (RdImageKind        kind);
const char        *rd_partition_table_to_string           (RdPartitionTable   table);

G_END_DECLS
