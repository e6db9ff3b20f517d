/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void                  rd_view_set_tooltip       (GtkWidget                *widget,
                                                 const char               *text);
const char           *rd_view_get_tooltip       (GtkWidget                *widget);
void                  rd_view_set_cell          (GtkLabel                 *label,
                                                 const char               *text,
                                                 const char               *tooltip,
                                                 const char               *style);
void                  rd_view_set_badge         (GtkLabel                 *label,
                                                 const char               *text,
                                                 const char               *tooltip,
                                                 const char               *style);
void                  rd_view_label_setup_cb    (GtkSignalListItemFactory *factory,
                                                 GtkListItem              *list_item,
                                                 gpointer                  user_data);
void                  rd_view_badge_setup_cb    (GtkSignalListItemFactory *factory,
                                                 GtkListItem              *list_item,
                                                 gpointer                  user_data);
GtkSingleSelection   *rd_view_set_column_model  (GtkColumnView            *column_view,
                                                 GListModel               *model);
GtkSingleSelection   *rd_view_set_stable_model  (GtkColumnView            *column_view,
                                                 GListModel               *model);
gpointer              rd_view_list_item_get_item (GtkListItem             *list_item);

GtkFileChooserNative *rd_view_csv_chooser_new   (GtkWidget                *widget,
                                                 const char               *title,
                                                 const char               *name_format);
GFile                *rd_view_chooser_take_file (GtkNativeDialog          *chooser,
                                                 int                       response);
void                  rd_view_save_csv          (GTask                    *task,
                                                 GFile                    *file,
                                                 const char               *csv);
void                  rd_view_add_export_toast  (AdwToastOverlay          *overlay,
                                                 GFile                    *file,
                                                 const GError             *error);

G_END_DECLS
