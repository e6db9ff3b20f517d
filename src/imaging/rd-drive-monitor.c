/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-drive-monitor.h"

#include "rd-drive-private.h"
#include "rd-imaging-error.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n-lib.h>
#include <sys/stat.h>
#include <udisks/udisks.h>
#include <unistd.h>

struct _RdDriveMonitor
{
  GObject parent_instance;

  UDisksClient *client;
  GPtrArray *drives; /* RdDrive, sorted by object path */
  gulong changed_id;
};

static void rd_drive_monitor_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RdDriveMonitor, rd_drive_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      rd_drive_monitor_list_model_init))

enum
{
  DRIVE_ADDED,
  DRIVE_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* GListModel */

static GType
rd_drive_monitor_get_item_type (GListModel *model)
{
  return RD_TYPE_DRIVE;
}

static guint
rd_drive_monitor_get_n_items (GListModel *model)
{
  return RD_DRIVE_MONITOR (model)->drives->len;
}

static gpointer
rd_drive_monitor_get_item (GListModel *model, guint position)
{
  RdDriveMonitor *self = RD_DRIVE_MONITOR (model);

  if (position >= self->drives->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->drives, position));
}

static void
rd_drive_monitor_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = rd_drive_monitor_get_item_type;
  iface->get_n_items = rd_drive_monitor_get_n_items;
  iface->get_item = rd_drive_monitor_get_item;
}

/* Tracking */

static int
compare_drives (gconstpointer a, gconstpointer b)
{
  RdDrive *da = *(RdDrive **) a;
  RdDrive *db = *(RdDrive **) b;

  return g_strcmp0 (rd_drive_get_object_path (da), rd_drive_get_object_path (db));
}

static RdDrive *
find_by_path (GPtrArray *drives, const char *object_path)
{
  for (guint i = 0; i < drives->len; i++)
    {
      RdDrive *drive = g_ptr_array_index (drives, i);

      if (g_strcmp0 (rd_drive_get_object_path (drive), object_path) == 0)
        return drive;
    }
  return NULL;
}

static gboolean
same_drive (RdDrive *a, RdDrive *b)
{
  return g_strcmp0 (rd_drive_get_device (a), rd_drive_get_device (b)) == 0
         && rd_drive_get_size (a) == rd_drive_get_size (b)
         && rd_drive_get_read_only (a) == rd_drive_get_read_only (b);
}

/**
 * rd_drive_monitor_refresh:
 *
 * Re-reads the drives from the UDisks client's object manager. Called by itself on every
 * change UDisks signals; tests call it after waiting for a device.
 */
void
rd_drive_monitor_refresh (RdDriveMonitor *self)
{
  g_autoptr (GPtrArray) fresh = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) old = NULL;
  GDBusObjectManager *manager;
  GList *objects;
  gboolean changed;

  g_return_if_fail (RD_IS_DRIVE_MONITOR (self));

  manager = udisks_client_get_object_manager (self->client);
  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      UDisksObject *object = UDISKS_OBJECT (l->data);

      if (rd_drive_is_candidate (self->client, object))
        g_ptr_array_add (fresh, rd_drive_new_for_object (self->client, object));
    }
  g_list_free_full (objects, g_object_unref);
  g_ptr_array_sort (fresh, compare_drives);

  changed = fresh->len != self->drives->len;
  for (guint i = 0; !changed && i < fresh->len; i++)
    changed = !same_drive (g_ptr_array_index (fresh, i), g_ptr_array_index (self->drives, i));
  if (!changed)
    return;

  old = g_steal_pointer (&self->drives);
  self->drives = g_steal_pointer (&fresh);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old->len, self->drives->len);

  for (guint i = 0; i < old->len; i++)
    {
      RdDrive *drive = g_ptr_array_index (old, i);

      if (find_by_path (self->drives, rd_drive_get_object_path (drive)) == NULL)
        g_signal_emit (self, signals[DRIVE_REMOVED], 0, drive);
    }
  for (guint i = 0; i < self->drives->len; i++)
    {
      RdDrive *drive = g_ptr_array_index (self->drives, i);

      if (find_by_path (old, rd_drive_get_object_path (drive)) == NULL)
        g_signal_emit (self, signals[DRIVE_ADDED], 0, drive);
    }
}

static void
on_client_changed_cb (UDisksClient *client, RdDriveMonitor *self)
{
  rd_drive_monitor_refresh (self);
}

static void
rd_drive_monitor_dispose (GObject *object)
{
  RdDriveMonitor *self = RD_DRIVE_MONITOR (object);

  g_clear_signal_handler (&self->changed_id, self->client);
  g_clear_object (&self->client);
  g_clear_pointer (&self->drives, g_ptr_array_unref);

  G_OBJECT_CLASS (rd_drive_monitor_parent_class)->dispose (object);
}

static void
rd_drive_monitor_class_init (RdDriveMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_drive_monitor_dispose;

  signals[DRIVE_ADDED] = g_signal_new ("drive-added", G_TYPE_FROM_CLASS (klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                       RD_TYPE_DRIVE);
  signals[DRIVE_REMOVED] = g_signal_new ("drive-removed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                         RD_TYPE_DRIVE);
}

static void
rd_drive_monitor_init (RdDriveMonitor *self)
{
  self->drives = g_ptr_array_new_with_free_func (g_object_unref);
}

RdDriveMonitor *
rd_drive_monitor_new (GCancellable *cancellable, GError **error)
{
  g_autoptr (RdDriveMonitor) self = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *owner = NULL;
  UDisksClient *client;

  client = udisks_client_new_sync (cancellable, &local_error);
  if (client == NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                   _("Could not connect to UDisks on the system bus: %s"), local_error->message);
      return NULL;
    }
  owner = g_dbus_object_manager_client_get_name_owner (
    G_DBUS_OBJECT_MANAGER_CLIENT (udisks_client_get_object_manager (client)));
  if (owner == NULL)
    {
      g_object_unref (client);
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                   _("UDisks is not running (org.freedesktop.UDisks2 has no owner on the "
                     "system bus)"));
      return NULL;
    }

  self = g_object_new (RD_TYPE_DRIVE_MONITOR, NULL);
  self->client = client;
  self->changed_id = g_signal_connect (client, "changed", G_CALLBACK (on_client_changed_cb), self);
  rd_drive_monitor_refresh (self);
  return g_steal_pointer (&self);
}

/**
 * rd_drive_monitor_lookup:
 * @object_path_or_device: a UDisks object path or a block device node
 *
 * Finds the whole-disk block device, whether or not it is a candidate: the caller runs
 * rd_drive_check_target(), which explains refusals.
 */
RdDrive *
rd_drive_monitor_lookup (RdDriveMonitor *self, const char *target, GError **error)
{
  g_autoptr (UDisksObject) object = NULL;

  g_return_val_if_fail (RD_IS_DRIVE_MONITOR (self), NULL);
  g_return_val_if_fail (target != NULL, NULL);

  if (g_str_has_prefix (target, "/org/freedesktop/UDisks2/"))
    {
      object = udisks_client_get_object (self->client, target);
    }
  else
    {
      struct stat st;
      g_autoptr (UDisksBlock) block = NULL;

      if (stat (target, &st) != 0 || !S_ISBLK (st.st_mode))
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                       _("“%s” is not a block device"), target);
          return NULL;
        }
      block = udisks_client_get_block_for_dev (self->client, st.st_rdev);
      if (block != NULL)
        object = UDISKS_OBJECT (g_dbus_interface_dup_object (G_DBUS_INTERFACE (block)));
    }

  if (object == NULL || udisks_object_peek_block (object) == NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                   _("UDisks does not know the drive “%s”"), target);
      return NULL;
    }
  if (udisks_object_peek_partition (object) != NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” is a partition; choose the whole drive"), target);
      return NULL;
    }

  return rd_drive_new_for_object (self->client, object);
}

static gboolean
unmount_object (UDisksObject *object, GCancellable *cancellable, GError **error)
{
  UDisksFilesystem *fs = udisks_object_peek_filesystem (object);
  g_autoptr (GError) local_error = NULL;
  GVariantBuilder options;
  const char *const *mount_points;

  if (fs == NULL)
    return TRUE;
  mount_points = udisks_filesystem_get_mount_points (fs);
  if (mount_points == NULL || mount_points[0] == NULL)
    return TRUE;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "force", g_variant_new_boolean (TRUE));
  if (!udisks_filesystem_call_unmount_sync (fs, g_variant_builder_end (&options), cancellable,
                                            &local_error)
      && !g_error_matches (local_error, UDISKS_ERROR, UDISKS_ERROR_NOT_MOUNTED))
    {
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                   _("Could not unmount %s: %s"),
                   udisks_block_get_device (udisks_object_peek_block (object)),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static int
open_device (RdDrive *drive, const char *mode, int flags, GCancellable *cancellable, GError **error)
{
  UDisksBlock *block = udisks_object_peek_block (rd_drive_get_udisks_object (drive));
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GVariant) fd_handle = NULL;
  g_autoptr (GUnixFDList) fd_list = NULL;
  g_autofree char *name = rd_drive_dup_display_name (drive);
  GVariantBuilder options;
  struct stat st;
  int fd;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "flags",
                         g_variant_new_int32 (flags));
  if (!udisks_block_call_open_device_sync (block, mode, g_variant_builder_end (&options), NULL,
                                           &fd_handle, &fd_list, cancellable, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                   _("Could not open %s: %s"), name, local_error->message);
      return -1;
    }

  fd = g_unix_fd_list_get (fd_list, g_variant_get_handle (fd_handle), &local_error);
  if (fd < 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                   _("Could not open %s: %s"), name, local_error->message);
      return -1;
    }
  if (fstat (fd, &st) != 0 || !S_ISBLK (st.st_mode)
      || st.st_rdev != rd_drive_get_device_number (drive))
    {
      close (fd);
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                   _("UDisks returned a different device than %s"), name);
      return -1;
    }

  return fd;
}

/**
 * rd_drive_monitor_open_drive:
 *
 * Unmounts every filesystem on @drive through UDisks, then opens it through UDisks'
 * Block.OpenDevice for reading and writing with O_DIRECT|O_EXCL|O_CLOEXEC: one polkit prompt,
 * one fd for writing and verifying. The device node is never opened directly.
 *
 * Returns: the fd (owned by the caller), or -1
 */
int
rd_drive_monitor_open_drive (RdDriveMonitor *self,
                             RdDrive        *drive,
                             GCancellable   *cancellable,
                             GError        **error)
{
  UDisksObject *object;
  UDisksPartitionTable *table;

  g_return_val_if_fail (RD_IS_DRIVE_MONITOR (self), -1);
  g_return_val_if_fail (RD_IS_DRIVE (drive), -1);

  object = rd_drive_get_udisks_object (drive);
  g_return_val_if_fail (object != NULL, -1);

  if (!unmount_object (object, cancellable, error))
    return -1;
  table = udisks_object_peek_partition_table (object);
  if (table != NULL)
    {
      GList *partitions = udisks_client_get_partitions (self->client, table);
      gboolean ok = TRUE;

      for (GList *l = partitions; ok && l != NULL; l = l->next)
        {
          g_autoptr (UDisksObject) part_object
            = UDISKS_OBJECT (g_dbus_interface_dup_object (G_DBUS_INTERFACE (l->data)));

          if (part_object != NULL)
            ok = unmount_object (part_object, cancellable, error);
        }
      g_list_free_full (partitions, g_object_unref);
      if (!ok)
        return -1;
    }

  return open_device (drive, "rw", O_DIRECT | O_EXCL | O_CLOEXEC, cancellable, error);
}

/**
 * rd_drive_monitor_open_drive_for_reading:
 *
 * Opens @drive read-only through UDisks (O_DIRECT), for verifying a key written earlier.
 */
int
rd_drive_monitor_open_drive_for_reading (RdDriveMonitor *self,
                                         RdDrive        *drive,
                                         GCancellable   *cancellable,
                                         GError        **error)
{
  g_return_val_if_fail (RD_IS_DRIVE_MONITOR (self), -1);
  g_return_val_if_fail (RD_IS_DRIVE (drive), -1);
  g_return_val_if_fail (rd_drive_get_udisks_object (drive) != NULL, -1);

  return open_device (drive, "r", O_DIRECT | O_CLOEXEC, cancellable, error);
}
