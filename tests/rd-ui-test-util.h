/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void              rd_ui_test_iterate         (guint          ms);
gboolean          rd_ui_test_iterate_until   (gboolean     (*done) (gpointer data),
                                              gpointer       data,
                                              guint          seconds);
gpointer          rd_ui_test_template_child  (gpointer       widget,
                                              GType          type,
                                              const char    *name);
void              rd_ui_test_collect         (GtkWidget     *widget,
                                              GType          type,
                                              GPtrArray     *found);
AdwMessageDialog *rd_ui_test_find_dialog     (void);
GtkWindow        *rd_ui_test_window_new      (GtkWidget     *child,
                                              int            width,
                                              int            height);
void              rd_ui_test_close_window    (gpointer       window,
                                              guint          ms);
void              rd_ui_test_save_screenshot (GtkWidget     *widget,
                                              const char    *path);
void              rd_ui_test_async_result_cb (GObject       *source,
                                              GAsyncResult  *result,
                                              gpointer       user_data);
GAsyncResult     *rd_ui_test_wait_for_result (GAsyncResult **result);
char             *rd_ui_test_take_file       (const char    *path);

G_END_DECLS
