/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A wait of @delay_ms on the thread-default main context that @cancellable
 * ends early with %G_IO_ERROR_CANCELLED. */
void     _rd_graph_sleep_async        (guint                delay_ms,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
gboolean _rd_graph_sleep_finish       (GAsyncResult        *result,
                                       GError             **error);

/* "https://graph.microsoft.com/v1.0" → "https://graph.microsoft.com"; %NULL
 * for a base URL that names no version. */
char    *_rd_graph_dup_endpoint_root (const char          *base_url);

/* Lowers the calling thread below the main thread, once (nice 10, on
 * Linux). For threads that only ever do the sync's page work: an
 * unprivileged thread cannot raise itself back. */
void     _rd_graph_lower_thread_priority (void);

G_END_DECLS
