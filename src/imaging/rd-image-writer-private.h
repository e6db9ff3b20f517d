/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-image-writer.h"

G_BEGIN_DECLS

/* Called on the reader thread after each chunk is handed to the writers, with the number of
 * image bytes read so far. Tests use it to cancel or break a target at a known point. */
typedef void (*RdImageWriterChunkHook) (RdImageWriter *writer,
                                        guint64        bytes_read,
                                        gpointer       user_data);

void rd_image_writer_set_chunk_hook (RdImageWriter         *self,
                                     RdImageWriterChunkHook hook,
                                     gpointer               user_data);

G_END_DECLS
