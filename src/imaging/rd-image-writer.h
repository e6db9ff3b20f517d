/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-image-source.h"

G_BEGIN_DECLS

#define RD_TYPE_IMAGE_WRITER (rd_image_writer_get_type ())

G_DECLARE_FINAL_TYPE (RdImageWriter, rd_image_writer, RD, IMAGE_WRITER, GObject)

#define RD_IMAGE_WRITER_MAX_TARGETS 8

RdImageWriter *rd_image_writer_new                (RdImageSource  *source);
void           rd_image_writer_set_verify         (RdImageWriter  *self,
                                                   gboolean        verify);
gboolean       rd_image_writer_add_target_fd      (RdImageWriter  *self,
                                                   const char     *name,
                                                   int             fd,
                                                   GError        **error);
gboolean       rd_image_writer_add_target_file    (RdImageWriter  *self,
                                                   const char     *path,
                                                   GError        **error);
guint          rd_image_writer_get_n_targets      (RdImageWriter  *self);
const char    *rd_image_writer_get_target_name    (RdImageWriter  *self,
                                                   guint           index);

gboolean       rd_image_writer_run                (RdImageWriter  *self,
                                                   GCancellable   *cancellable,
                                                   GError        **error);
void           rd_image_writer_run_async          (RdImageWriter      *self,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
gboolean       rd_image_writer_run_finish         (RdImageWriter  *self,
                                                   GAsyncResult   *result,
                                                   GError        **error);

/* Thread-safe snapshots, for progress reporting while running. */
void           rd_image_writer_get_progress       (RdImageWriter  *self,
                                                   guint64        *bytes_read,
                                                   guint64        *source_position,
                                                   guint64        *total);
RdWritePhase   rd_image_writer_get_target_progress (RdImageWriter *self,
                                                   guint           index,
                                                   guint64        *bytes_written,
                                                   guint64        *bytes_verified);
GError        *rd_image_writer_dup_target_error   (RdImageWriter  *self,
                                                   guint           index);
char          *rd_image_writer_dup_sha256         (RdImageWriter  *self);

G_END_DECLS
