/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-drive.h"

#include "rd-drive-private.h"
#include "rd-imaging-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct _RdDrive
{
  GObject parent_instance;

  UDisksObject *object;
  UDisksClient *client;
  char *object_path;
  char *device;
  dev_t device_number;
  char *vendor;
  char *model;
  char *serial;
  char *bus;
  char *backing_file;
  guint64 size;
  gboolean read_only;
  gboolean hint_system;
  gboolean removable;
  gboolean is_loop;
};

G_DEFINE_FINAL_TYPE (RdDrive, rd_drive, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_OBJECT_PATH,
  PROP_DEVICE,
  PROP_VENDOR,
  PROP_MODEL,
  PROP_SERIAL,
  PROP_BUS,
  PROP_SIZE,
  PROP_READ_ONLY,
  PROP_HINT_SYSTEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
rd_drive_dispose (GObject *object)
{
  RdDrive *self = RD_DRIVE (object);

  g_clear_object (&self->object);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (rd_drive_parent_class)->dispose (object);
}

static void
rd_drive_finalize (GObject *object)
{
  RdDrive *self = RD_DRIVE (object);

  g_free (self->object_path);
  g_free (self->device);
  g_free (self->vendor);
  g_free (self->model);
  g_free (self->serial);
  g_free (self->bus);
  g_free (self->backing_file);

  G_OBJECT_CLASS (rd_drive_parent_class)->finalize (object);
}

static void
rd_drive_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdDrive *self = RD_DRIVE (object);

  switch (prop_id)
    {
    case PROP_OBJECT_PATH:
      g_value_set_string (value, self->object_path);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;
    case PROP_VENDOR:
      g_value_set_string (value, self->vendor);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_SERIAL:
      g_value_set_string (value, self->serial);
      break;
    case PROP_BUS:
      g_value_set_string (value, self->bus);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;
    case PROP_READ_ONLY:
      g_value_set_boolean (value, self->read_only);
      break;
    case PROP_HINT_SYSTEM:
      g_value_set_boolean (value, self->hint_system);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_drive_class_init (RdDriveClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_drive_dispose;
  object_class->finalize = rd_drive_finalize;
  object_class->get_property = rd_drive_get_property;

  properties[PROP_OBJECT_PATH] = g_param_spec_string ("object-path", NULL, NULL, NULL, flags);
  properties[PROP_DEVICE] = g_param_spec_string ("device", NULL, NULL, NULL, flags);
  properties[PROP_VENDOR] = g_param_spec_string ("vendor", NULL, NULL, NULL, flags);
  properties[PROP_MODEL] = g_param_spec_string ("model", NULL, NULL, NULL, flags);
  properties[PROP_SERIAL] = g_param_spec_string ("serial", NULL, NULL, NULL, flags);
  properties[PROP_BUS] = g_param_spec_string ("bus", NULL, NULL, NULL, flags);
  properties[PROP_SIZE] = g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_READ_ONLY] = g_param_spec_boolean ("read-only", NULL, NULL, FALSE, flags);
  properties[PROP_HINT_SYSTEM] = g_param_spec_boolean ("hint-system", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_drive_init (RdDrive *self)
{
}

static gboolean
is_removable_bus (const char *bus)
{
  return g_strcmp0 (bus, "usb") == 0 || g_strcmp0 (bus, "sdio") == 0
         || g_strcmp0 (bus, "ieee1394") == 0;
}

/**
 * rd_drive_is_candidate:
 *
 * Whether @object is a whole disk Recovery Desk may offer as a key: a removable, USB or SD
 * drive that is not optical, or a loop device over a file (what the tests use as sticks).
 */
gboolean
rd_drive_is_candidate (UDisksClient *client, UDisksObject *object)
{
  UDisksBlock *block = udisks_object_peek_block (object);
  UDisksLoop *loop = udisks_object_peek_loop (object);
  g_autoptr (UDisksDrive) drive = NULL;

  if (block == NULL || udisks_object_peek_partition (object) != NULL)
    return FALSE;
  if (udisks_block_get_size (block) == 0 || udisks_block_get_hint_ignore (block))
    return FALSE;

  if (loop != NULL)
    {
      const char *backing = udisks_loop_get_backing_file (loop);
      return backing != NULL && backing[0] != '\0';
    }

  drive = udisks_client_get_drive_for_block (client, block);
  if (drive == NULL || udisks_drive_get_optical (drive))
    return FALSE;

  return udisks_drive_get_removable (drive)
         || is_removable_bus (udisks_drive_get_connection_bus (drive));
}

RdDrive *
rd_drive_new_for_object (UDisksClient *client, UDisksObject *object)
{
  UDisksBlock *block = udisks_object_peek_block (object);
  UDisksLoop *loop = udisks_object_peek_loop (object);
  g_autoptr (UDisksDrive) drive = NULL;
  RdDrive *self;

  g_return_val_if_fail (UDISKS_IS_CLIENT (client), NULL);
  g_return_val_if_fail (block != NULL, NULL);

  self = g_object_new (RD_TYPE_DRIVE, NULL);
  self->object = g_object_ref (object);
  self->client = g_object_ref (client);
  self->object_path = g_strdup (g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
  self->device = g_strdup (udisks_block_get_device (block));
  self->device_number = (dev_t) udisks_block_get_device_number (block);
  self->size = udisks_block_get_size (block);
  self->read_only = udisks_block_get_read_only (block);
  self->hint_system = udisks_block_get_hint_system (block);

  drive = udisks_client_get_drive_for_block (client, block);
  if (drive != NULL)
    {
      self->vendor = g_strdup (udisks_drive_get_vendor (drive));
      self->model = g_strdup (udisks_drive_get_model (drive));
      self->serial = g_strdup (udisks_drive_get_serial (drive));
      self->bus = g_strdup (udisks_drive_get_connection_bus (drive));
      self->removable = udisks_drive_get_removable (drive) || is_removable_bus (self->bus);
    }
  else
    {
      self->vendor = g_strdup ("");
      self->model = g_strdup (loop != NULL ? "Loop device" : "");
      self->serial = g_strdup ("");
      self->bus = g_strdup (loop != NULL ? "loop" : "");
    }

  if (loop != NULL)
    {
      self->is_loop = TRUE;
      self->backing_file = g_strdup (udisks_loop_get_backing_file (loop));
    }

  return self;
}

RdDrive *
rd_drive_new_for_testing (const char *device,
                          dev_t       device_number,
                          guint64     size,
                          gboolean    read_only,
                          gboolean    hint_system,
                          gboolean    removable)
{
  RdDrive *self = g_object_new (RD_TYPE_DRIVE, NULL);

  self->object_path = g_strdup ("/org/freedesktop/UDisks2/block_devices/test");
  self->device = g_strdup (device);
  self->device_number = device_number;
  self->size = size;
  self->read_only = read_only;
  self->hint_system = hint_system;
  self->removable = removable;
  self->vendor = g_strdup ("Test");
  self->model = g_strdup ("Drive");
  self->serial = g_strdup ("");
  self->bus = g_strdup (removable ? "usb" : "ata");
  return self;
}

void
rd_drive_set_identity_for_testing (RdDrive    *self,
                                   const char *object_path,
                                   const char *vendor,
                                   const char *model,
                                   const char *serial)
{
  g_return_if_fail (RD_IS_DRIVE (self));

  g_free (self->object_path);
  self->object_path = g_strdup (object_path);
  g_free (self->vendor);
  self->vendor = g_strdup (vendor);
  g_free (self->model);
  self->model = g_strdup (model);
  g_free (self->serial);
  self->serial = g_strdup (serial);
}

/* Which disks hold what */

static gboolean
read_dev_file (const char *path, dev_t *out)
{
  g_autofree char *contents = NULL;
  unsigned int maj, min;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  if (sscanf (contents, "%u:%u", &maj, &min) != 2)
    return FALSE;
  *out = makedev (maj, min);
  return TRUE;
}

static void
add_unique (GArray *disks, dev_t dev)
{
  for (guint i = 0; i < disks->len; i++)
    if (g_array_index (disks, dev_t, i) == dev)
      return;
  g_array_append_val (disks, dev);
}

static void
collect_whole_disks (dev_t dev, GArray *disks, int depth)
{
  g_autofree char *link = NULL;
  g_autofree char *sys = NULL;
  g_autofree char *partition = NULL;
  g_autofree char *slaves = NULL;
  g_autofree char *backing = NULL;
  g_autofree char *backing_path = NULL;
  GDir *dir;

  if (dev == 0 || depth > 8)
    return;
  add_unique (disks, dev);

  link = g_strdup_printf ("/sys/dev/block/%u:%u", major (dev), minor (dev));
  sys = realpath (link, NULL);
  if (sys == NULL)
    return;

  partition = g_build_filename (sys, "partition", NULL);
  if (g_file_test (partition, G_FILE_TEST_EXISTS))
    {
      g_autofree char *parent = g_path_get_dirname (sys);
      g_autofree char *parent_dev = g_build_filename (parent, "dev", NULL);
      dev_t whole;

      if (read_dev_file (parent_dev, &whole))
        collect_whole_disks (whole, disks, depth + 1);
    }

  slaves = g_build_filename (sys, "slaves", NULL);
  dir = g_dir_open (slaves, 0, NULL);
  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *slave_dev = g_build_filename (slaves, name, "dev", NULL);
          dev_t slave;

          if (read_dev_file (slave_dev, &slave))
            collect_whole_disks (slave, disks, depth + 1);
        }
      g_dir_close (dir);
    }

  /* A loop device's data lives on whatever holds its backing file. */
  backing_path = g_build_filename (sys, "loop", "backing_file", NULL);
  if (g_file_get_contents (backing_path, &backing, NULL, NULL))
    {
      struct stat st;

      g_strchomp (backing);
      if (stat (backing, &st) == 0)
        collect_whole_disks (S_ISBLK (st.st_mode) ? st.st_rdev : st.st_dev, disks, depth + 1);
    }
}

void
rd_drive_collect_whole_disks (dev_t dev, GArray *disks)
{
  collect_whole_disks (dev, disks, 0);
}

typedef struct
{
  dev_t dev;
  char *mount_point;
  char *source;
} MountEntry;

static void
mount_entry_clear (gpointer data)
{
  MountEntry *entry = data;

  g_free (entry->mount_point);
  g_free (entry->source);
}

static GArray *
read_mountinfo (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (MountEntry));

  g_array_set_clear_func (entries, mount_entry_clear);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return entries;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (fields);
      unsigned int maj, min;
      MountEntry entry = { 0 };

      if (n < 10 || sscanf (fields[2], "%u:%u", &maj, &min) != 2)
        continue;
      entry.dev = makedev (maj, min);
      entry.mount_point = g_strcompress (fields[4]);
      for (guint j = 6; j + 2 < n; j++)
        if (g_str_equal (fields[j], "-"))
          {
            entry.source = g_strcompress (fields[j + 2]);
            break;
          }
      g_array_append_val (entries, entry);
    }
  return entries;
}

/* The disks under a mounted filesystem: its device number, and its source device for
 * filesystems (btrfs, ...) whose st_dev is anonymous. */
static void
collect_mount_disks (const MountEntry *entry, GArray *disks)
{
  struct stat st;

  collect_whole_disks (entry->dev, disks, 0);
  if (entry->source != NULL && g_str_has_prefix (entry->source, "/dev/")
      && stat (entry->source, &st) == 0 && S_ISBLK (st.st_mode))
    collect_whole_disks (st.st_rdev, disks, 0);
}

static void
collect_file_disks (GArray *mounts, dev_t st_dev, GArray *disks)
{
  collect_whole_disks (st_dev, disks, 0);
  for (guint i = 0; i < mounts->len; i++)
    {
      const MountEntry *entry = &g_array_index (mounts, MountEntry, i);

      if (entry->dev == st_dev)
        collect_mount_disks (entry, disks);
    }
}

static gboolean
disks_contain (GArray *disks, dev_t dev)
{
  for (guint i = 0; i < disks->len; i++)
    if (g_array_index (disks, dev_t, i) == dev)
      return TRUE;
  return FALSE;
}

/* Returns what of the running system @self holds ("/", "/boot", "swap (/dev/sda3)"), or NULL. */
static char *
find_system_use (RdDrive *self, const char *mountinfo_path, const char *swaps_path)
{
  static const char *const system_mounts[] = { "/", "/boot", "/boot/efi", "/efi", "/usr", NULL };
  g_autoptr (GArray) mounts = read_mountinfo (mountinfo_path);
  g_autofree char *swaps = NULL;

  for (guint i = 0; i < mounts->len; i++)
    {
      const MountEntry *entry = &g_array_index (mounts, MountEntry, i);
      g_autoptr (GArray) disks = NULL;

      if (!g_strv_contains (system_mounts, entry->mount_point))
        continue;
      disks = g_array_new (FALSE, FALSE, sizeof (dev_t));
      collect_mount_disks (entry, disks);
      if (disks_contain (disks, self->device_number))
        return g_strdup (entry->mount_point);
    }

  if (g_file_get_contents (swaps_path, &swaps, NULL, NULL))
    {
      g_auto (GStrv) lines = g_strsplit (swaps, "\n", -1);

      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_autofree char *raw = NULL;
          g_autofree char *file = NULL;
          g_autoptr (GArray) disks = NULL;
          struct stat st;
          char *space = strpbrk (lines[i], " \t");

          if (space == NULL)
            continue;
          raw = g_strndup (lines[i], space - lines[i]);
          file = g_strcompress (raw);
          if (stat (file, &st) != 0)
            continue;
          disks = g_array_new (FALSE, FALSE, sizeof (dev_t));
          if (S_ISBLK (st.st_mode))
            collect_whole_disks (st.st_rdev, disks, 0);
          else
            collect_file_disks (mounts, st.st_dev, disks);
          if (disks_contain (disks, self->device_number))
            return g_strdup_printf ("swap (%s)", file);
        }
    }

  return NULL;
}

static gboolean
holds_file (RdDrive *self, dev_t file_dev, ino_t file_ino, const char *mountinfo_path)
{
  g_autoptr (GArray) mounts = read_mountinfo (mountinfo_path);
  g_autoptr (GArray) disks = g_array_new (FALSE, FALSE, sizeof (dev_t));
  struct stat st;

  /* A loop device over the image file itself would overwrite the image while reading it. */
  if (self->backing_file != NULL && stat (self->backing_file, &st) == 0 && st.st_dev == file_dev
      && st.st_ino == file_ino)
    return TRUE;

  collect_file_disks (mounts, file_dev, disks);
  return disks_contain (disks, self->device_number);
}

static gboolean
holds_source (RdDrive *self, RdImageSource *source, const char *mountinfo_path)
{
  return holds_file (self, rd_image_source_get_device (source), rd_image_source_get_inode (source),
                     mountinfo_path);
}

static gboolean
check_size (RdDrive *self, guint64 image_size, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *needed = NULL;
  g_autofree char *has = NULL;

  if (image_size <= self->size)
    return TRUE;
  name = rd_drive_dup_display_name (self);
  needed = g_format_size (image_size);
  has = g_format_size (self->size);
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL,
               _("%s is too small: the image needs %s (%" G_GUINT64_FORMAT " bytes) "
                 "and the drive has %s (%" G_GUINT64_FORMAT " bytes)"),
               name, needed, image_size, has, self->size);
  return FALSE;
}

static gboolean
check_target (RdDrive       *self,
              RdImageSource *source,
              gboolean       check_source_size,
              const char    *mountinfo_path,
              const char    *swaps_path,
              GError       **error)
{
  g_autofree char *name = NULL;
  g_autofree char *system_use = NULL;

  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (source), FALSE);

  name = rd_drive_dup_display_name (self);

  /* UDisks gives every loop device the system hint because it has no drive; loop devices over
   * files are what the tests use as keys, and the mount checks below still cover them. */
  if (self->hint_system && !self->is_loop)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_SYSTEM_DRIVE,
                   _("%s is a system drive (UDisks marks it so); Recovery Desk only writes to "
                     "removable, USB or SD drives"),
                   name);
      return FALSE;
    }
  if (!self->removable && !self->is_loop)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_REMOVABLE,
                   _("%s is not a removable, USB or SD drive"), name);
      return FALSE;
    }
  if (self->read_only)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_READ_ONLY,
                   _("%s is read-only; check the key’s write-protect switch"), name);
      return FALSE;
    }

  system_use = find_system_use (self, mountinfo_path, swaps_path);
  if (system_use != NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_HOLDS_SYSTEM,
                   _("%s holds the running system’s %s; it cannot be overwritten"), name,
                   system_use);
      return FALSE;
    }

  if (holds_source (self, source, mountinfo_path))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_HOLDS_SOURCE,
                   _("%s holds the image “%s” itself; copy the image to another drive first"),
                   name, rd_image_source_get_path (source));
      return FALSE;
    }

  if (check_source_size && rd_image_source_get_size_certainty (source) != RD_SIZE_UNKNOWN)
    return check_size (self, rd_image_source_get_uncompressed_size (source), error);
  return TRUE;
}

gboolean
rd_drive_check_target_full (RdDrive       *self,
                            RdImageSource *source,
                            const char    *mountinfo_path,
                            const char    *swaps_path,
                            GError       **error)
{
  return check_target (self, source, TRUE, mountinfo_path, swaps_path, error);
}

/**
 * rd_drive_check_target:
 *
 * Whether @self may receive @source: refuses system drives, non-removable drives, read-only
 * drives, drives holding the running system or the image, and drives too small for it.
 */
gboolean
rd_drive_check_target (RdDrive *self, RdImageSource *source, GError **error)
{
  return rd_drive_check_target_full (self, source, "/proc/self/mountinfo", "/proc/swaps", error);
}

/**
 * rd_drive_check_compose_target:
 * @source: the ISO the key is composed from
 * @paths: (array zero-terminated=1) (nullable): other files and folders that go into the image
 *   or hold it while it is made (payload folders, the scratch folder); one not made yet counts
 *   where it will be made, in its nearest existing folder
 * @image_size: the composed image's size
 *
 * rd_drive_check_target() for a key that receives an image composed from @source: the same
 * refusals, the drive also must not hold any of @paths, and it must hold @image_size bytes.
 */
gboolean
rd_drive_check_compose_target (RdDrive           *self,
                               RdImageSource     *source,
                               const char *const *paths,
                               guint64            image_size,
                               GError           **error)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (source), FALSE);

  /* The ISO's own size says nothing here: only the composed image's does. */
  if (!check_target (self, source, FALSE, "/proc/self/mountinfo", "/proc/swaps", error))
    return FALSE;

  for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
    {
      g_autofree char *where = g_canonicalize_filename (paths[i], NULL);
      struct stat st;
      int ret;

      while ((ret = stat (where, &st)) != 0 && errno == ENOENT && !g_str_equal (where, "/"))
        {
          char *parent = g_path_get_dirname (where);

          g_free (where);
          where = parent;
        }
      if (ret == 0 && holds_file (self, st.st_dev, st.st_ino, "/proc/self/mountinfo"))
        {
          g_autofree char *name = rd_drive_dup_display_name (self);

          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_HOLDS_SOURCE,
                       _("%s holds “%s”, which the key is made from; copy it to another drive "
                         "first"),
                       name, paths[i]);
          return FALSE;
        }
    }

  return check_size (self, image_size, error);
}

UDisksObject *
rd_drive_get_udisks_object (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->object;
}

char *
rd_drive_dup_display_name (RdDrive *self)
{
  g_autofree char *size = NULL;
  g_autofree char *label = NULL;

  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);

  size = g_format_size (self->size);
  label = g_strstrip (g_strdup_printf ("%s %s", self->vendor ? self->vendor : "",
                                       self->model ? self->model : ""));
  if (label[0] == '\0')
    return g_strdup_printf ("%s (%s)", self->device, size);
  return g_strdup_printf ("%s (%s, %s)", label, self->device, size);
}

const char *
rd_drive_get_object_path (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->object_path;
}

const char *
rd_drive_get_device (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->device;
}

dev_t
rd_drive_get_device_number (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), 0);
  return self->device_number;
}

const char *
rd_drive_get_vendor (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->vendor;
}

const char *
rd_drive_get_model (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->model;
}

const char *
rd_drive_get_serial (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->serial;
}

const char *
rd_drive_get_bus (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->bus;
}

guint64
rd_drive_get_size (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), 0);
  return self->size;
}

gboolean
rd_drive_get_read_only (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  return self->read_only;
}

gboolean
rd_drive_get_hint_system (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  return self->hint_system;
}

gboolean
rd_drive_get_removable (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  return self->removable;
}

gboolean
rd_drive_get_is_loop (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  return self->is_loop;
}

const char *
rd_drive_get_backing_file (RdDrive *self)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), NULL);
  return self->backing_file;
}

/* Ejecting */

typedef struct
{
  GPtrArray *filesystems; /* UDisksFilesystem on the drive's block and its partitions */
  UDisksDrive *drive;     /* NULL for a loop device */
  UDisksLoop *loop;
  char *name;
} EjectData;

static void
eject_data_free (gpointer data)
{
  EjectData *eject = data;

  g_ptr_array_unref (eject->filesystems);
  g_clear_object (&eject->drive);
  g_clear_object (&eject->loop);
  g_free (eject->name);
  g_free (eject);
}

static GVariant *
no_options (void)
{
  return g_variant_new ("a{sv}", NULL);
}

static void
add_filesystem (GPtrArray *filesystems, UDisksObject *object)
{
  UDisksFilesystem *fs = object != NULL ? udisks_object_get_filesystem (object) : NULL;

  if (fs != NULL)
    g_ptr_array_add (filesystems, fs);
}

static void
eject_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EjectData *eject = task_data;
  g_autoptr (GError) error = NULL;

  /* The desktop may have mounted the fresh key's partitions: unmount them first. */
  for (guint i = 0; i < eject->filesystems->len; i++)
    {
      UDisksFilesystem *fs = g_ptr_array_index (eject->filesystems, i);
      const char *const *mount_points = udisks_filesystem_get_mount_points (fs);

      if (mount_points == NULL || mount_points[0] == NULL)
        continue;
      if (!udisks_filesystem_call_unmount_sync (fs, no_options (), cancellable, &error)
          && !g_error_matches (error, UDISKS_ERROR, UDISKS_ERROR_NOT_MOUNTED))
        {
          g_dbus_error_strip_remote_error (error);
          g_task_return_new_error (task, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                                   _("Could not unmount %s before ejecting it: %s"), eject->name,
                                   error->message);
          return;
        }
      g_clear_error (&error);
    }

  if (eject->loop != NULL)
    {
      if (!udisks_loop_call_delete_sync (eject->loop, no_options (), cancellable, &error))
        goto failed;
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (udisks_drive_get_ejectable (eject->drive)
      && !udisks_drive_call_eject_sync (eject->drive, no_options (), cancellable, &error)
      && !udisks_drive_get_can_power_off (eject->drive))
    goto failed;
  g_clear_error (&error);
  /* Powering a USB stick off is what makes it safe to pull, as Files does. */
  if (udisks_drive_get_can_power_off (eject->drive)
      && !udisks_drive_call_power_off_sync (eject->drive, no_options (), cancellable, &error))
    goto failed;
  g_task_return_boolean (task, TRUE);
  return;

failed:
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_dbus_error_strip_remote_error (error);
  g_task_return_new_error (task, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                           _("Could not eject %s: %s"), eject->name, error->message);
}

/**
 * rd_drive_eject_async:
 *
 * Makes the key safe to pull out, through UDisks: unmounts whatever the desktop mounted on
 * it, then ejects the drive and powers it off (Drive.Eject, Drive.PowerOff, as far as the drive
 * supports them). A loop device is detached instead.
 */
void
rd_drive_eject_async (RdDrive            *self,
                      GCancellable       *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer            user_data)
{
  g_autoptr (GTask) task = NULL;
  EjectData *eject;
  UDisksBlock *block;
  UDisksPartitionTable *table;

  g_return_if_fail (RD_IS_DRIVE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_drive_eject_async);

  if (self->object == NULL || self->client == NULL)
    {
      g_task_return_new_error (task, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UDISKS,
                               _("%s is not a UDisks drive and cannot be ejected"), self->device);
      return;
    }

  block = udisks_object_peek_block (self->object);
  eject = g_new0 (EjectData, 1);
  eject->name = rd_drive_dup_display_name (self);
  eject->filesystems = g_ptr_array_new_with_free_func (g_object_unref);
  eject->loop = udisks_object_get_loop (self->object);
  if (eject->loop == NULL && block != NULL)
    eject->drive = udisks_client_get_drive_for_block (self->client, block);
  g_task_set_task_data (task, eject, eject_data_free);

  if (eject->loop == NULL && eject->drive == NULL)
    {
      g_task_return_new_error (task, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                               _("%s is gone"), eject->name);
      return;
    }

  add_filesystem (eject->filesystems, self->object);
  table = udisks_object_peek_partition_table (self->object);
  if (table != NULL)
    {
      GList *partitions = udisks_client_get_partitions (self->client, table);

      for (GList *l = partitions; l != NULL; l = l->next)
        {
          g_autoptr (UDisksObject) part_object
            = UDISKS_OBJECT (g_dbus_interface_dup_object (G_DBUS_INTERFACE (l->data)));

          add_filesystem (eject->filesystems, part_object);
        }
      g_list_free_full (partitions, g_object_unref);
    }

  g_task_run_in_thread (task, eject_thread);
}

gboolean
rd_drive_eject_finish (RdDrive *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (RD_IS_DRIVE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_drive_eject_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
