/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Helpers the ui benchmarks share (bench/README.md). */

/* How many devices the ui benchmarks use unless told otherwise. */
#define UI_BENCH_DEVICES 100000

gboolean   ui_bench_sync_demo      (guint        n_devices,
                                    GPtrArray  **devices,
                                    char       **tenant_id,
                                    char       **token,
                                    GError     **error);
char      *ui_bench_make_tmp_home  (GError     **error);
void       ui_bench_remove_tree    (const char  *path);
GtkWidget *ui_bench_find           (GtkWidget   *root,
                                    GType        type,
                                    guint        skip);
void       ui_bench_wait_idle      (guint        quiet_ms,
                                    guint        timeout_ms);
void       ui_bench_sort_doubles   (GArray      *values);
double     ui_bench_median         (GArray      *sorted);

G_END_DECLS
