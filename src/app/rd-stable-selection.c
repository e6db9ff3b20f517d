/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-stable-selection"

#include "config.h"

#include "rd-stable-selection.h"

/* A list view's rows that stay where they are when the list changes.
 *
 * GTK 4.8's GtkListView keeps a widget for up to 200 rows, and a row whose
 * item is removed loses its widget: when a search swaps 8,768 devices for
 * 893 others, the list view disposes of 200 cards and builds 200 new ones,
 * hundreds of milliseconds of main thread for what is, on screen, new text
 * in the same cards.
 *
 * RdStableSelection stands between a selection model and the list view.
 * Its items are RdListSlots, one per position, and a slot stays the item
 * of its position for as long as the list is that long: when the wrapped
 * model changes, the slots of the changed positions take their new items
 * (a "notify::item" the row rebinds on) and only a change in length
 * reaches the list view, as items added or removed at the end. Selection
 * is the wrapped model's, position for position.
 *
 * Slots are made when the list view asks for them and forgotten when it
 * lets them go, so that a change of 100,000 devices touches only the rows
 * that have widgets.
 *
 * Rows the list gains can be announced a few at a time
 * (rd_stable_selection_set_fill_steps()): the list view builds a widget for
 * each row it is given up to its limit, all in one go. An empty list shows
 * its first screenful in a frame of its own and gets the rest before the
 * next; a list that grows gets a step between frames.
 *
 * Told how many rows a screen shows (rd_stable_selection_set_screen_rows()),
 * a change of length beyond those rows waits for the frame that shows the
 * new items: rows the list gains below the screen come a step after each
 * frame (rd_stable_selection_after_frame()), and rows it loses stay, empty
 * (their slots hold no item), and go a step after each frame. GTK 4.8's
 * list view builds or disposes of a widget for each of those rows, which
 * would otherwise all fall in that frame. A list that becomes shorter than
 * a screen loses its rows at once, since they would show. */

struct _RdListSlot
{
  GObject parent_instance;

  RdStableSelection *owner; /* not owned; cleared when the owner goes */
  guint position;
  GObject *item;
};

G_DEFINE_FINAL_TYPE (RdListSlot, rd_list_slot, G_TYPE_OBJECT)

enum
{
  SLOT_PROP_0,
  SLOT_PROP_ITEM,
  SLOT_N_PROPS
};

static GParamSpec *slot_properties[SLOT_N_PROPS];

struct _RdStableSelection
{
  GObject parent_instance;

  GtkSelectionModel *model;
  GPtrArray *slots; /* (element-type RdListSlot) (nullable): weak, one per row */
  guint n_items;    /* the rows announced, at most the model's */
  GtkBitset *selected; /* the rows the view was last told are selected */

  guint fill_step;
  guint fill_limit;
  guint fill_source;
  gboolean from_empty; /* filling a list that was empty */
  guint screen_rows;   /* rows that change at once, or 0 */
};

static void
rd_stable_selection_list_model_init (GListModelInterface *iface);
static void
rd_stable_selection_selection_model_init (GtkSelectionModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RdStableSelection,
                               rd_stable_selection,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      rd_stable_selection_list_model_init)
                                 G_IMPLEMENT_INTERFACE (GTK_TYPE_SELECTION_MODEL,
                                                        rd_stable_selection_selection_model_init))

/* RdListSlot */

static void
rd_list_slot_finalize (GObject *object)
{
  RdListSlot *self = (RdListSlot *) object;

  if (self->owner != NULL && self->position < self->owner->slots->len &&
      g_ptr_array_index (self->owner->slots, self->position) == self)
    g_ptr_array_index (self->owner->slots, self->position) = NULL;
  g_clear_object (&self->item);

  G_OBJECT_CLASS (rd_list_slot_parent_class)->finalize (object);
}

static void
rd_list_slot_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  RdListSlot *self = RD_LIST_SLOT (object);

  switch (prop_id)
    {
    case SLOT_PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_list_slot_class_init (RdListSlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_list_slot_finalize;
  object_class->get_property = rd_list_slot_get_property;

  slot_properties[SLOT_PROP_ITEM] = g_param_spec_object (
    "item", NULL, NULL, G_TYPE_OBJECT,
    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, SLOT_N_PROPS, slot_properties);
}

static void
rd_list_slot_init (RdListSlot *self)
{
}

/**
 * rd_list_slot_get_item:
 *
 * Returns: (transfer none) (type GObject) (nullable): the item of the
 *   slot's position; "notify::item" says when it changes
 */
gpointer
rd_list_slot_get_item (RdListSlot *self)
{
  g_return_val_if_fail (RD_IS_LIST_SLOT (self), NULL);

  return self->item;
}

guint
rd_list_slot_get_position (RdListSlot *self)
{
  g_return_val_if_fail (RD_IS_LIST_SLOT (self), 0);

  return self->position;
}

static void
slot_set_item (RdListSlot *self,
               gpointer    item)
{
  if (g_set_object (&self->item, item))
    g_object_notify_by_pspec (G_OBJECT (self), slot_properties[SLOT_PROP_ITEM]);
}

/* Slots beyond the end are forgotten: their rows go with the next
 * "items-changed", and a later slot of the same position is a new one. */
static void
truncate_slots (RdStableSelection *self,
                guint              length)
{
  for (guint i = length; i < self->slots->len; i++)
    {
      RdListSlot *slot = g_ptr_array_index (self->slots, i);

      if (slot != NULL)
        slot->owner = NULL;
    }
  g_ptr_array_set_size (self->slots, length);
}

/* GListModel */

static GType
rd_stable_selection_get_item_type (GListModel *list)
{
  return RD_TYPE_LIST_SLOT;
}

static guint
rd_stable_selection_get_n_items (GListModel *list)
{
  return RD_STABLE_SELECTION (list)->n_items;
}

static gpointer
rd_stable_selection_get_item (GListModel *list,
                              guint       position)
{
  RdStableSelection *self = RD_STABLE_SELECTION (list);
  RdListSlot *slot;

  if (position >= self->n_items)
    return NULL;

  slot = g_ptr_array_index (self->slots, position);
  if (slot != NULL)
    return g_object_ref (slot);

  slot = g_object_new (RD_TYPE_LIST_SLOT, NULL);
  slot->owner = self;
  slot->position = position;
  slot->item = g_list_model_get_item (G_LIST_MODEL (self->model), position);
  g_ptr_array_index (self->slots, position) = slot;

  return slot;
}

static void
rd_stable_selection_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = rd_stable_selection_get_item_type;
  iface->get_n_items = rd_stable_selection_get_n_items;
  iface->get_item = rd_stable_selection_get_item;
}

/* GtkSelectionModel: the wrapped model's, position for position. */

static gboolean
rd_stable_selection_is_selected (GtkSelectionModel *model,
                                 guint              position)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  return position < self->n_items && gtk_selection_model_is_selected (self->model, position);
}

static GtkBitset *
rd_stable_selection_get_selection_in_range (GtkSelectionModel *model,
                                            guint              position,
                                            guint              n_items)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);
  GtkBitset *selection = gtk_selection_model_get_selection_in_range (self->model, position,
                                                                     n_items);

  /* Rows still to be announced are not there yet; a copy, since selection
   * models may hand out their own bitset. */
  if (position + n_items > self->n_items)
    {
      GtkBitset *copy = gtk_bitset_copy (selection);

      gtk_bitset_unref (selection);
      gtk_bitset_remove_range_closed (copy, self->n_items, G_MAXUINT);
      return copy;
    }

  return selection;
}

/* Rows past the wrapped model's end, empty until they go, hold nothing to
 * select: a range is cut to the model's items. */
static guint
clamp_range (RdStableSelection *self,
             guint              position,
             guint              n_items)
{
  guint available = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  return position < available ? MIN (n_items, available - position) : 0;
}

static gboolean
rd_stable_selection_select_item (GtkSelectionModel *model,
                                 guint              position,
                                 gboolean           unselect_rest)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  if (clamp_range (self, position, 1) == 0)
    return FALSE;

  return gtk_selection_model_select_item (self->model, position, unselect_rest);
}

static gboolean
rd_stable_selection_unselect_item (GtkSelectionModel *model,
                                   guint              position)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  if (clamp_range (self, position, 1) == 0)
    return FALSE;

  return gtk_selection_model_unselect_item (self->model, position);
}

static gboolean
rd_stable_selection_select_range (GtkSelectionModel *model,
                                  guint              position,
                                  guint              n_items,
                                  gboolean           unselect_rest)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  n_items = clamp_range (self, position, n_items);
  if (n_items == 0 && !unselect_rest)
    return FALSE;
  if (n_items == 0)
    return gtk_selection_model_unselect_all (self->model);

  return gtk_selection_model_select_range (self->model, position, n_items, unselect_rest);
}

static gboolean
rd_stable_selection_unselect_range (GtkSelectionModel *model,
                                    guint              position,
                                    guint              n_items)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  n_items = clamp_range (self, position, n_items);
  if (n_items == 0)
    return FALSE;

  return gtk_selection_model_unselect_range (self->model, position, n_items);
}

static gboolean
rd_stable_selection_select_all (GtkSelectionModel *model)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  return gtk_selection_model_select_all (self->model);
}

static gboolean
rd_stable_selection_unselect_all (GtkSelectionModel *model)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  return gtk_selection_model_unselect_all (self->model);
}

static gboolean
rd_stable_selection_set_selection (GtkSelectionModel *model,
                                   GtkBitset         *selected,
                                   GtkBitset         *mask)
{
  RdStableSelection *self = RD_STABLE_SELECTION (model);

  return gtk_selection_model_set_selection (self->model, selected, mask);
}

static void
rd_stable_selection_selection_model_init (GtkSelectionModelInterface *iface)
{
  iface->is_selected = rd_stable_selection_is_selected;
  iface->get_selection_in_range = rd_stable_selection_get_selection_in_range;
  iface->select_item = rd_stable_selection_select_item;
  iface->unselect_item = rd_stable_selection_unselect_item;
  iface->select_range = rd_stable_selection_select_range;
  iface->unselect_range = rd_stable_selection_unselect_range;
  iface->select_all = rd_stable_selection_select_all;
  iface->unselect_all = rd_stable_selection_unselect_all;
  iface->set_selection = rd_stable_selection_set_selection;
}

/* Following the wrapped model */

/* How many rows to announce of @available: all of them, unless an empty
 * or short list is being filled step by step. */
static guint
rows_to_announce (RdStableSelection *self,
                  guint              available)
{
  if (self->fill_step == 0 || available == self->n_items)
    return available;

  /* Rows below the screen, up to those the list view may have widgets
   * for, go after the next frame; beyond those, at once. */
  if (available < self->n_items)
    return self->screen_rows > 0 && available >= self->screen_rows
             ? MAX (available, MIN (self->n_items, self->fill_limit))
             : available;

  /* An empty list shows its first screenful, and the rest next. */
  if (self->n_items == 0)
    {
      self->from_empty = TRUE;
      return MIN (available, self->fill_step);
    }
  if (self->from_empty || self->n_items >= self->fill_limit)
    return available;
  if (self->screen_rows > 0)
    return MIN (available, MAX (self->n_items, self->screen_rows));

  return MIN (available, self->n_items + self->fill_step);
}

static void
schedule_fill (RdStableSelection *self);

/* Makes the announced length @length, as rows added or removed at the
 * end. */
static void
announce (RdStableSelection *self,
          guint              length)
{
  guint old_length = self->n_items;

  if (length == old_length)
    return;

  if (length < old_length)
    truncate_slots (self, length);
  else
    g_ptr_array_set_size (self->slots, length);
  self->n_items = length;

  if (length < old_length)
    g_list_model_items_changed (G_LIST_MODEL (self), length, old_length - length, 0);
  else
    g_list_model_items_changed (G_LIST_MODEL (self), old_length, 0, length - old_length);
}

static gboolean
fill_cb (gpointer user_data)
{
  RdStableSelection *self = RD_STABLE_SELECTION (user_data);

  self->fill_source = 0;
  announce (self, rows_to_announce (self, g_list_model_get_n_items (G_LIST_MODEL (self->model))));
  schedule_fill (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_fill (RdStableSelection *self)
{
  if (self->n_items >= g_list_model_get_n_items (G_LIST_MODEL (self->model)))
    self->from_empty = FALSE;
  if (self->fill_source != 0 ||
      self->n_items >= g_list_model_get_n_items (G_LIST_MODEL (self->model)))
    return;
  /* A list that grows below the screen waits for frames instead. */
  if (self->screen_rows > 0 && !self->from_empty)
    return;

  /* The rest of an empty list's rows before the next frame is laid out
   * (GDK_PRIORITY_REDRAW), so that animations that ask for frames do not
   * hold them back; a growing list's rows a step between frames. */
  self->fill_source = g_idle_add_full (self->from_empty ? G_PRIORITY_HIGH_IDLE + 10
                                                        : G_PRIORITY_DEFAULT_IDLE,
                                       fill_cb, self, NULL);
  g_source_set_name_by_id (self->fill_source, "[recovery-desk] stable selection fill");
}

/* Tells the view about the rows from @position, @n_items of them, whose
 * selection differs from what it was last told. Only those: in GTK 4.8 a
 * row told about its selection is bound again (unbind, then bind). */
static void
update_selected (RdStableSelection *self,
                 guint              position,
                 guint              n_items)
{
  g_autoptr(GtkBitset) range = NULL;
  g_autoptr(GtkBitset) selected = NULL;
  g_autoptr(GtkBitset) changed = NULL;

  gtk_bitset_remove_range_closed (self->selected, self->n_items, G_MAXUINT);
  if (position >= self->n_items || n_items == 0)
    return;
  n_items = MIN (n_items, self->n_items - position);

  range = gtk_bitset_new_range (position, n_items);
  /* A copy: selection models may hand out their own bitset. */
  selected = gtk_bitset_copy (range);
  {
    g_autoptr(GtkBitset) model_selected =
      gtk_selection_model_get_selection_in_range (self->model, position, n_items);

    gtk_bitset_intersect (selected, model_selected);
  }
  changed = gtk_bitset_copy (self->selected);
  gtk_bitset_intersect (changed, range);
  gtk_bitset_difference (changed, selected);

  gtk_bitset_subtract (self->selected, range);
  gtk_bitset_union (self->selected, selected);

  if (!gtk_bitset_is_empty (changed))
    {
      guint first = gtk_bitset_get_minimum (changed);
      guint last = gtk_bitset_get_maximum (changed);

      gtk_selection_model_selection_changed (GTK_SELECTION_MODEL (self), first, last - first + 1);
    }
}

static void
on_model_items_changed_cb (GListModel        *model,
                           guint              position,
                           guint              removed,
                           guint              added,
                           RdStableSelection *self)
{
  guint length = rows_to_announce (self, g_list_model_get_n_items (model));
  guint changed_end;

  /* A change in place moves nothing after it; anything else shifts every
   * position after @position, up to the end of the rows kept. */
  changed_end = removed == added ? position + added : G_MAXUINT;
  changed_end = MIN (changed_end, MIN (length, self->n_items));

  for (guint i = position; i < changed_end; i++)
    {
      RdListSlot *slot = g_ptr_array_index (self->slots, i);
      g_autoptr (GObject) item = NULL;

      if (slot == NULL)
        continue;
      item = g_list_model_get_item (model, i);
      slot_set_item (slot, item);
    }

  announce (self, length);
  schedule_fill (self);

  /* The rows kept may now show items selected or not. */
  update_selected (self, 0, self->n_items);
}

static void
on_model_selection_changed_cb (GtkSelectionModel *model,
                               guint              position,
                               guint              n_items,
                               RdStableSelection *self)
{
  update_selected (self, position, n_items);
}

/* GObject overrides */

static void
rd_stable_selection_dispose (GObject *object)
{
  RdStableSelection *self = (RdStableSelection *) object;

  g_clear_handle_id (&self->fill_source, g_source_remove);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  if (self->slots != NULL)
    truncate_slots (self, 0);

  G_OBJECT_CLASS (rd_stable_selection_parent_class)->dispose (object);
}

static void
rd_stable_selection_finalize (GObject *object)
{
  RdStableSelection *self = (RdStableSelection *) object;

  g_ptr_array_unref (self->slots);
  g_clear_pointer (&self->selected, gtk_bitset_unref);

  G_OBJECT_CLASS (rd_stable_selection_parent_class)->finalize (object);
}

static void
rd_stable_selection_class_init (RdStableSelectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_stable_selection_dispose;
  object_class->finalize = rd_stable_selection_finalize;
}

static void
rd_stable_selection_init (RdStableSelection *self)
{
  self->slots = g_ptr_array_new ();
}

/**
 * rd_stable_selection_new:
 * @model: (transfer none): the selection model whose items the slots hold
 */
RdStableSelection *
rd_stable_selection_new (GtkSelectionModel *model)
{
  RdStableSelection *self;

  g_return_val_if_fail (GTK_IS_SELECTION_MODEL (model), NULL);

  self = g_object_new (RD_TYPE_STABLE_SELECTION, NULL);
  self->model = g_object_ref (model);
  self->n_items = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_ptr_array_set_size (self->slots, self->n_items);
  self->selected = gtk_bitset_new_empty ();
  update_selected (self, 0, self->n_items);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_model_items_changed_cb), self);
  g_signal_connect (model, "selection-changed", G_CALLBACK (on_model_selection_changed_cb), self);

  return self;
}

/**
 * rd_stable_selection_get_model:
 *
 * Returns: (transfer none): the wrapped selection model
 */
GtkSelectionModel *
rd_stable_selection_get_model (RdStableSelection *self)
{
  g_return_val_if_fail (RD_IS_STABLE_SELECTION (self), NULL);

  return self->model;
}

/**
 * rd_stable_selection_set_fill_steps:
 * @step: rows to add per main-loop iteration, or 0 to add them all at once
 * @limit: the length up to which rows are added step by step
 *
 * An empty list is given @step rows at once and the rest in an idle of
 * higher priority than drawing. A list that grows while shorter than
 * @limit is given @step rows per idle of default priority; past @limit,
 * all at once.
 */
void
rd_stable_selection_set_fill_steps (RdStableSelection *self,
                                    guint              step,
                                    guint              limit)
{
  g_return_if_fail (RD_IS_STABLE_SELECTION (self));

  self->fill_step = step;
  self->fill_limit = limit;
}

/**
 * rd_stable_selection_set_screen_rows:
 * @rows: how many rows a screen of the list view shows, or 0
 *
 * With fill steps set and @rows nonzero, a change of the list's length
 * reaches the list view at once only within the first @rows rows; beyond,
 * it comes a fill step at a time from rd_stable_selection_after_frame().
 * Setting 0 announces at once what is held back.
 */
void
rd_stable_selection_set_screen_rows (RdStableSelection *self,
                                     guint              rows)
{
  g_return_if_fail (RD_IS_STABLE_SELECTION (self));

  if (self->screen_rows == rows)
    return;

  self->screen_rows = rows;
  if (rows == 0 && rd_stable_selection_get_held (self))
    {
      announce (self, g_list_model_get_n_items (G_LIST_MODEL (self->model)));
      update_selected (self, 0, self->n_items);
    }
}

/**
 * rd_stable_selection_get_held:
 *
 * Returns: whether a change of length waits for frames
 */
gboolean
rd_stable_selection_get_held (RdStableSelection *self)
{
  g_return_val_if_fail (RD_IS_STABLE_SELECTION (self), FALSE);

  return self->n_items != g_list_model_get_n_items (G_LIST_MODEL (self->model));
}

/**
 * rd_stable_selection_after_frame:
 *
 * Announces a fill step of a change of length held back, once a frame has
 * shown the list: rows gained up to the fill limit, or rows lost.
 *
 * Returns: whether more of it waits for the next frame
 */
gboolean
rd_stable_selection_after_frame (RdStableSelection *self)
{
  guint available;

  g_return_val_if_fail (RD_IS_STABLE_SELECTION (self), FALSE);

  available = g_list_model_get_n_items (G_LIST_MODEL (self->model));
  /* An empty list's rest comes before the next frame anyway. */
  if (self->n_items == available || (self->fill_source != 0 && self->from_empty))
    return FALSE;
  g_clear_handle_id (&self->fill_source, g_source_remove);

  if (self->n_items < available)
    announce (self, self->n_items >= self->fill_limit
                      ? available
                      : MIN (available, self->n_items + self->fill_step));
  else
    announce (self, self->n_items - MIN (self->n_items - available, self->fill_step));
  update_selected (self, 0, self->n_items);

  return rd_stable_selection_get_held (self);
}
