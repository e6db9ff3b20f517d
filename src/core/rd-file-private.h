/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean _rd_file_set_io_error   (GError     **error,
                                  int          saved_errno,
                                  const char  *format,
                                  ...) G_GNUC_PRINTF (3, 4);
gboolean _rd_file_make_directory (const char  *directory,
                                  GError     **error);
gboolean _rd_file_write_all      (int          fd,
                                  const char  *data,
                                  size_t       length);
gboolean _rd_file_write_all_error (int         fd,
                                   const char *data,
                                   size_t      length,
                                   GError    **error);
gboolean _rd_file_read_all       (int          fd,
                                  size_t       size_hint,
                                  char       **contents_out,
                                  size_t      *length_out);
gboolean _rd_file_sync_directory (const char  *directory,
                                  GError     **error);

G_END_DECLS
