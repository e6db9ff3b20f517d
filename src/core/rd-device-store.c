/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-store"

#include "config.h"

#include "rd-device-store-private.h"

/* A list of devices in an array: what each of the board's lanes is.
 * GListStore keeps its items in a GSequence, a balanced tree that every
 * g_list_model_get_item() walks; with 100,000 devices that walk, a cache
 * miss per level, was the first cost of every search and sort. Here an item
 * is one array read, and replacing a lane is one "items-changed". */

struct _RdDeviceStore
{
  GObject parent_instance;

  GPtrArray *items;
  /* While take_all_prepared() emits "items-changed" */
  RdDeviceQueryEntries *prepared;
};

static void rd_device_store_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RdDeviceStore, rd_device_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      rd_device_store_list_model_init))

static GType
rd_device_store_get_item_type (GListModel *model)
{
  return RD_TYPE_DEVICE;
}

static guint
rd_device_store_get_n_items (GListModel *model)
{
  return RD_DEVICE_STORE (model)->items->len;
}

static gpointer
rd_device_store_get_item (GListModel *model,
                          guint       position)
{
  RdDeviceStore *self = RD_DEVICE_STORE (model);

  if (position >= self->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
rd_device_store_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = rd_device_store_get_item_type;
  iface->get_n_items = rd_device_store_get_n_items;
  iface->get_item = rd_device_store_get_item;
}

static void
rd_device_store_finalize (GObject *object)
{
  RdDeviceStore *self = (RdDeviceStore *) object;

  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (rd_device_store_parent_class)->finalize (object);
}

static void
rd_device_store_class_init (RdDeviceStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_device_store_finalize;
}

static void
rd_device_store_init (RdDeviceStore *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

RdDeviceStore *
rd_device_store_new (void)
{
  return g_object_new (RD_TYPE_DEVICE_STORE, NULL);
}

gboolean
rd_device_store_find (RdDeviceStore *self,
                      RdDevice      *device,
                      guint         *position)
{
  g_return_val_if_fail (RD_IS_DEVICE_STORE (self), FALSE);

  return g_ptr_array_find (self->items, device, position);
}

void
rd_device_store_append (RdDeviceStore *self,
                        RdDevice      *device)
{
  g_return_if_fail (RD_IS_DEVICE_STORE (self));
  g_return_if_fail (RD_IS_DEVICE (device));

  g_ptr_array_add (self->items, g_object_ref (device));
  g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
}

/* Returns: whether @device was in the list */
gboolean
rd_device_store_remove (RdDeviceStore *self,
                        RdDevice      *device)
{
  guint position;

  g_return_val_if_fail (RD_IS_DEVICE_STORE (self), FALSE);

  if (!g_ptr_array_find (self->items, device, &position))
    return FALSE;

  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  return TRUE;
}

/**
 * rd_device_store_replace_all:
 * @devices: (element-type RdDevice): the new contents, in order
 *
 * Replaces every item with one "items-changed" over the whole list, even
 * where the devices are the same objects: their facts may have changed, and
 * views read them again when their rows are bound.
 */
void
rd_device_store_replace_all (RdDeviceStore *self,
                             GPtrArray     *devices)
{
  g_autoptr(GPtrArray) old = NULL;

  g_return_if_fail (RD_IS_DEVICE_STORE (self));
  g_return_if_fail (devices != NULL);

  if (self->items->len == 0 && devices->len == 0)
    return;

  old = g_steal_pointer (&self->items);
  self->items = g_ptr_array_new_full (devices->len, g_object_unref);
  for (guint i = 0; i < devices->len; i++)
    g_ptr_array_add (self->items, g_object_ref (g_ptr_array_index (devices, i)));

  g_list_model_items_changed (G_LIST_MODEL (self), 0, old->len, self->items->len);
}

/**
 * rd_device_store_take_all:
 * @devices: (transfer full) (element-type RdDevice): the new contents, in
 *   order, an array whose free function is g_object_unref()
 *
 * Replaces every item as rd_device_store_replace_all() does, with @devices
 * itself: its references become the store's, and no device is touched.
 *
 * Returns: (transfer full) (element-type RdDevice): the items before, whose
 *   references the caller lets go of when it suits it
 */
GPtrArray *
rd_device_store_take_all (RdDeviceStore *self,
                          GPtrArray     *devices)
{
  GPtrArray *old;

  g_return_val_if_fail (RD_IS_DEVICE_STORE (self), NULL);
  g_return_val_if_fail (devices != NULL, NULL);

  old = self->items;
  self->items = devices;
  if (old->len > 0 || devices->len > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old->len, devices->len);

  return old;
}

/**
 * _rd_device_store_take_all_prepared:
 * @devices: (transfer full) (element-type RdDevice): as for
 *   rd_device_store_take_all()
 * @entries: (nullable): entries made for @devices, or for devices of which
 *   @devices keeps some, in the same order
 *
 * rd_device_store_take_all(), with entries that a list model of the store
 * may take while it hears of the change, instead of making its own.
 *
 * Returns: (transfer full) (element-type RdDevice): the items before
 */
GPtrArray *
_rd_device_store_take_all_prepared (RdDeviceStore        *self,
                                    GPtrArray            *devices,
                                    RdDeviceQueryEntries *entries)
{
  GPtrArray *old;

  g_return_val_if_fail (RD_IS_DEVICE_STORE (self), NULL);

  self->prepared = entries;
  old = rd_device_store_take_all (self, devices);
  self->prepared = NULL;

  return old;
}

/* The store's own array: for a list model of the store, which must not
 * keep it. */
GPtrArray *
_rd_device_store_peek_items (RdDeviceStore *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_STORE (self), NULL);

  return self->items;
}

/* The entries _rd_device_store_take_all_prepared() was given, while it
 * emits "items-changed"; else %NULL. */
RdDeviceQueryEntries *
_rd_device_store_peek_prepared (RdDeviceStore *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_STORE (self), NULL);

  return self->prepared;
}
