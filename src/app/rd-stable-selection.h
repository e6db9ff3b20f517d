/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define RD_TYPE_LIST_SLOT (rd_list_slot_get_type ())

G_DECLARE_FINAL_TYPE (RdListSlot, rd_list_slot, RD, LIST_SLOT, GObject)

gpointer            rd_list_slot_get_item               (RdListSlot        *self);
guint               rd_list_slot_get_position           (RdListSlot        *self);

#define RD_TYPE_STABLE_SELECTION (rd_stable_selection_get_type ())

G_DECLARE_FINAL_TYPE (RdStableSelection, rd_stable_selection, RD, STABLE_SELECTION, GObject)

RdStableSelection  *rd_stable_selection_new             (GtkSelectionModel *model);
GtkSelectionModel  *rd_stable_selection_get_model       (RdStableSelection *self);
void                rd_stable_selection_set_fill_steps  (RdStableSelection *self,
                                                         guint              step,
                                                         guint              limit);
void                rd_stable_selection_set_screen_rows (RdStableSelection *self,
                                                         guint              rows);
gboolean            rd_stable_selection_get_held        (RdStableSelection *self);
gboolean            rd_stable_selection_after_frame     (RdStableSelection *self);

G_END_DECLS
