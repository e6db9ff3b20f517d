/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/stat.h>

#include "rd-board.h"

G_BEGIN_DECLS

char      *_rd_inventory_cache_dup_binary_path (const char  *json_path);
gboolean   _rd_inventory_cache_write_binary    (const char  *json_path,
                                                const char  *header,
                                                GPtrArray   *devices,
                                                GError     **error);
GBytes    *_rd_inventory_cache_encode_binary  (const struct stat  *json_stat,
                                                const char         *header,
                                                GPtrArray          *devices);
gboolean   _rd_inventory_cache_write_encoded   (const char         *json_path,
                                                GBytes             *encoded,
                                                GError            **error);
GPtrArray *_rd_inventory_cache_read_binary     (const char         *json_path,
                                                char              **header,
                                                RdBoardListing    **listing,
                                                GError            **error);

G_END_DECLS
