/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-media-composer.h"

#include "rd-imaging-error.h"
#include "rd-iso-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libfdisk/libfdisk.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <wimlib.h>

#define MIB (G_GUINT64_CONSTANT (1024) * 1024)
#define SECTOR 512
#define ALIGN MIB
/* FAT32 holds files up to 4 GiB - 1 byte. */
#define FAT32_MAX_FILE G_GUINT64_CONSTANT (0xffffffff)
/* Fewer clusters than this and it is FAT16, whatever the boot sector says. */
#define FAT32_MIN_CLUSTERS 65525
/* The backup GPT: 32 sectors of entries and the header. */
#define GPT_BACKUP_SIZE (33 * SECTOR)
/* ISO files from this size are streamed straight into mcopy; smaller ones are staged and
 * copied with one mcopy call for the whole tree. */
#define STREAM_MIN (4 * MIB)
#define COPY_BUFFER (1024 * 1024)

#define ESP_GUID "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define BASIC_DATA_GUID "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
#define WIM_VERSION_SOLID 0xe00

typedef struct
{
  char *dest;              /* '/'-separated path in the FAT file system, no leading '/' */
  char *source;            /* a payload's local file, or NULL for the ISO's */
  const RdIsoEntry *entry; /* the ISO's entry, or NULL */
  guint64 size;
  gboolean is_dir;
  gboolean split; /* split into dest's NAME.swm, NAME2.swm, ... */
} Item;

typedef struct
{
  char *label;           /* FAT volume label, also the GPT partition name */
  gboolean boot;         /* ESP type on GPT, active on MBR */
  GPtrArray *items;      /* Item, directories before what they hold */
  GHashTable *dests;     /* folded dest -> Item, to find clashes */
  GHashTable *seen_dirs; /* "dev:inode" of the payload folders walked, to stop at loops */
  guint64 content;       /* bytes of the files as they land (split WIMs as their parts) */
  guint32 cluster;       /* bytes */
  guint64 start;         /* bytes from the start of the disk */
  guint64 size;          /* bytes */
} Part;

struct _RdMediaComposer
{
  GObject parent_instance;

  char *iso_path;
  RdMediaLayout layout;
  RdPartitionTable table;
  guint split_mib;
  guint winpe_mib;
  GPtrArray *payloads;
  char *scratch_dir;

  /* From prepare. */
  RdIsoReader *reader;
  GPtrArray *parts; /* Part */
  guint64 image_size;
  guint64 scratch_needed;
  char *volume_label;
  gboolean prepared;

  /* From compose: a private folder in the scratch directory holds everything made. */
  char *work_dir;
  char *image_path;
  gboolean image_saved;

  GMutex progress_lock;
  RdComposeStep step;
  guint64 bytes_done;
  guint64 bytes_total;
};

G_DEFINE_FINAL_TYPE (RdMediaComposer, rd_media_composer, G_TYPE_OBJECT)

static void
item_free (Item *item)
{
  g_free (item->dest);
  g_free (item->source);
  g_free (item);
}

static void
part_free (Part *part)
{
  g_free (part->label);
  g_ptr_array_unref (part->items);
  g_hash_table_unref (part->dests);
  g_hash_table_unref (part->seen_dirs);
  g_free (part);
}

static Part *
part_new (const char *label, gboolean boot)
{
  Part *part = g_new0 (Part, 1);

  part->label = g_strdup (label);
  part->boot = boot;
  part->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  part->dests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  part->seen_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return part;
}

/* Helpers */

static void
set_progress (RdMediaComposer *self, RdComposeStep step, guint64 add_bytes)
{
  g_mutex_lock (&self->progress_lock);
  self->step = step;
  self->bytes_done += add_bytes;
  g_mutex_unlock (&self->progress_lock);
}

static void
add_progress (RdMediaComposer *self, guint64 add_bytes)
{
  g_mutex_lock (&self->progress_lock);
  self->bytes_done += add_bytes;
  g_mutex_unlock (&self->progress_lock);
}

static gboolean
has_suffix_ci (const char *name, const char *suffix)
{
  gsize n = strlen (name), s = strlen (suffix);

  return n > s && g_ascii_strcasecmp (name + n - s, suffix) == 0;
}

static gboolean
is_wim_name (const char *path)
{
  return has_suffix_ci (path, ".wim") || has_suffix_ci (path, ".esd");
}

/* "sources/install.wim" -> "sources/install" */
static char *
strip_extension (const char *path)
{
  const char *dot = strrchr (path, '.');

  return g_strndup (path, dot != NULL ? (gsize) (dot - path) : strlen (path));
}

/* Upper case, at most 11 bytes, only characters FAT allows in labels. */
static char *
fat_label (const char *from, const char *fallback)
{
  GString *label = g_string_new (NULL);

  for (const char *p = from != NULL ? from : ""; *p != '\0' && label->len < 11; p++)
    {
      char c = g_ascii_toupper (*p);

      if (g_ascii_isalnum (c) || strchr (" !#$%&'()-@^_`{}~", c) != NULL)
        g_string_append_c (label, c);
      else if ((guchar) c >= 0x20)
        g_string_append_c (label, '_');
    }
  while (label->len > 0 && label->str[label->len - 1] == ' ')
    g_string_truncate (label, label->len - 1);
  if (label->len == 0)
    g_string_assign (label, fallback);
  return g_string_free (label, FALSE);
}

/* Characters a FAT long name cannot hold. */
static gboolean
valid_fat_name (const char *name)
{
  for (const char *p = name; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || strchr ("\"*:<>?\\|", *p) != NULL)
      return FALSE;
  return TRUE;
}

static gboolean
remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return errno == ENOENT;
  if (S_ISDIR (st.st_mode))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      const char *name;

      if (dir != NULL)
        {
          while ((name = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *child = g_build_filename (path, name, NULL);

              remove_tree (child);
            }
          g_dir_close (dir);
        }
      return g_rmdir (path) == 0;
    }
  return g_unlink (path) == 0;
}

static gboolean
check_cancelled (GCancellable *cancellable, GError **error)
{
  return g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Sizing */

/* Microsoft's default FAT32 cluster sizes. */
static guint32
cluster_for_size (guint64 size)
{
  if (size < 64 * MIB)
    return 512;
  if (size < 128 * MIB)
    return 1024;
  if (size < 256 * MIB)
    return 2048;
  if (size < 8192 * MIB)
    return 4096;
  if (size < 16384 * MIB)
    return 8192;
  if (size < 32768 * MIB)
    return 16384;
  return 32768;
}

static guint64
div_up (guint64 a, guint64 b)
{
  return (a + b - 1) / b;
}

/* Directory entries an item takes in its parent: the short entry and its long-name entries. */
static guint64
dirent_bytes (const char *name)
{
  return 32 * (1 + div_up (strlen (name), 13));
}

static guint64
split_parts (RdMediaComposer *self, guint64 size)
{
  return div_up (size, (guint64) self->split_mib * MIB);
}

/* Clusters the part's files and folders take with @cluster-byte clusters. */
static guint64
part_clusters (RdMediaComposer *self, Part *part, guint32 cluster)
{
  g_autoptr (GHashTable) dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer value;
  guint64 clusters = 0;

  /* The root holds the volume label entry. */
  g_hash_table_insert (dirs, g_strdup (""), GSIZE_TO_POINTER (32));
  for (guint i = 0; i < part->items->len; i++)
    {
      Item *item = g_ptr_array_index (part->items, i);
      g_autofree char *parent = g_path_get_dirname (item->dest);
      g_autofree char *name = g_path_get_basename (item->dest);
      gsize bytes;

      if (g_str_equal (parent, "."))
        {
          g_free (parent);
          parent = g_strdup ("");
        }
      bytes = GPOINTER_TO_SIZE (g_hash_table_lookup (dirs, parent));
      if (item->is_dir)
        {
          bytes += dirent_bytes (name);
          g_hash_table_insert (dirs, g_strdup (item->dest), GSIZE_TO_POINTER (64));
        }
      else if (item->split)
        {
          guint64 n = split_parts (self, item->size);

          /* Each part repeats the WIM's header, XML and blob table: allow 1 MiB each. */
          bytes += n * dirent_bytes (name);
          clusters += div_up (item->size + n * MIB, cluster) + n;
        }
      else
        {
          bytes += dirent_bytes (name);
          clusters += div_up (item->size, cluster);
        }
      g_hash_table_insert (dirs, g_strdup (parent), GSIZE_TO_POINTER (bytes));
    }
  g_hash_table_iter_init (&iter, dirs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    clusters += MAX (1, div_up (GPOINTER_TO_SIZE (value), cluster));
  return clusters;
}

/* The FAT32 partition size (whole MiB) for @clusters of content, with 5 % slack, and never so
 * small that it would not be FAT32. */
static guint64
fat32_size (guint64 clusters, guint32 cluster)
{
  guint64 total = clusters + clusters / 20 + 64;
  guint64 fat_sectors;

  total = MAX (total, FAT32_MIN_CLUSTERS + 1024);
  fat_sectors = div_up ((total + 2) * 4, SECTOR);
  return div_up ((32 + 2 * fat_sectors) * SECTOR + total * cluster, MIB) * MIB;
}

static void
size_part (RdMediaComposer *self, Part *part, guint64 minimum)
{
  guint32 cluster = cluster_for_size (MAX (minimum, part->content + part->content / 20));
  guint64 size = 0;

  /* The cluster size depends on the size and the size on the cluster size; two rounds settle
   * it (a larger cluster can only grow the estimate, never make FAT32 invalid). */
  for (int round = 0; round < 2; round++)
    {
      size = MAX (minimum, fat32_size (part_clusters (self, part, cluster), cluster));
      if (cluster_for_size (size) == cluster)
        break;
      cluster = cluster_for_size (size);
    }
  part->cluster = cluster;
  part->size = MAX (size, fat32_size (part_clusters (self, part, cluster), cluster));
}

/* Prepare */

static gboolean
add_item (Part *part, Item *item, const char *origin, GError **error)
{
  g_autofree char *folded = g_utf8_casefold (item->dest, -1);
  Item *other = g_hash_table_lookup (part->dests, folded);
  g_autofree char *name = g_path_get_basename (item->dest);

  if (!valid_fat_name (name))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” in %s has a name FAT32 cannot hold (it contains one of \" * : < > ? \\ "
                      "|). Rename it and try again."),
                   item->dest, origin);
      item_free (item);
      return FALSE;
    }
  if (other != NULL)
    {
      if (other->is_dir && item->is_dir)
        {
          item_free (item);
          return TRUE;
        }
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” from %s clashes with “%s”, already on the partition (FAT32 ignores "
                      "case). Rename one of them or leave one payload folder out."),
                   item->dest, origin, other->dest);
      item_free (item);
      return FALSE;
    }
  if (!item->is_dir && !item->split && item->size > FAT32_MAX_FILE)
    {
      g_autofree char *size = g_format_size (item->size);

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” in %s is %s; FAT32 holds files up to 4 GiB. Only WIM and ESD images "
                      "can be split into parts: split or shrink the file first."),
                   item->dest, origin, size);
      item_free (item);
      return FALSE;
    }
  if (item->split)
    {
      /* The first part's name stands for all of them. */
      g_autofree char *base = strip_extension (item->dest);
      g_autofree char *swm = g_strconcat (base, ".swm", NULL);

      g_free (folded);
      folded = g_utf8_casefold (swm, -1);
      if (g_hash_table_contains (part->dests, folded))
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                       _("“%s” from %s would be split into “%s”, which is already on the "
                          "partition. Rename one of them or leave one out."),
                       item->dest, origin, swm);
          item_free (item);
          return FALSE;
        }
    }
  g_hash_table_insert (part->dests, g_steal_pointer (&folded), item);
  g_ptr_array_add (part->items, item);
  if (!item->is_dir)
    part->content += item->size;
  return TRUE;
}

static gboolean
solid_blob_cb (const struct wimlib_resource_entry *resource, void *user_data)
{
  gboolean *solid = user_data;

  if (resource->packed)
    {
      *solid = TRUE;
      return 1;
    }
  return 0;
}

static gpointer
init_wimlib (gpointer data)
{
  return GINT_TO_POINTER (wimlib_global_init (0));
}

static gboolean
ensure_wimlib (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  int ret = GPOINTER_TO_INT (g_once (&once, init_wimlib, NULL));

  if (ret != 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                   _("wimlib could not start: %s"), wimlib_get_error_string (ret));
      return FALSE;
    }
  return TRUE;
}

static void
set_solid_error (RdMediaComposer *self, const char *name, GError **error)
{
  if (self->layout == RD_MEDIA_LAYOUT_SETUP)
    g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                 _("“%s” is a solid (ESD-style) WIM over the %u MiB split size, and solid WIMs "
                    "cannot be split into .swm parts for FAT32. Use the winpe-images layout with "
                    "a non-solid image, or convert it first with “wimlib-imagex export %s all "
                    "install.wim --compress=LZX”."),
                 name, self->split_mib, name);
  else
    g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                 _("“%s” is a solid (ESD-style) WIM over the %u MiB split size, and solid WIMs "
                    "cannot be split into .swm parts for FAT32. Convert it first with "
                    "“wimlib-imagex export %s all NEW.wim --compress=LZX”."),
                 name, self->split_mib, name);
}

/* A payload WIM is a local file: wimlib reads its blob table. */
static gboolean
check_local_wim (RdMediaComposer *self, const char *path, GError **error)
{
  WIMStruct *wim = NULL;
  gboolean solid = FALSE;
  int ret;

  if (!ensure_wimlib (error))
    return FALSE;
  ret = wimlib_open_wim (path, 0, &wim);
  if (ret != 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                   _("“%s” is over the %u MiB split size but is not a WIM that can be split: %s. "
                      "Check the file, or leave it out of the payload folder."),
                   path, self->split_mib, wimlib_get_error_string (ret));
      return FALSE;
    }
  wimlib_iterate_lookup_table (wim, 0, solid_blob_cb, &solid);
  wimlib_free (wim);
  if (solid)
    {
      set_solid_error (self, path, error);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  RdMediaComposer *self;
  GPtrArray *wims; /* const Item *, the ISO's WIMs to split */
  guint found;
} HeaderCheck;

static GQuark
stop_quark (void)
{
  return g_quark_from_static_string ("rd-media-composer-stop");
}

/* The ISO's WIMs cannot be opened in place; their header's version says whether they are
 * solid (0xE00), which is what wimlib writes and DISM expects for solid resources. */
static gboolean
check_iso_wim_cb (const RdIsoEntry *entry, RdIsoFile *file, gpointer user_data, GError **error)
{
  HeaderCheck *check = user_data;

  for (guint i = 0; i < check->wims->len; i++)
    {
      const Item *item = g_ptr_array_index (check->wims, i);
      guint8 header[208];
      guint32 version;
      gsize got = 0;

      if (g_ascii_strcasecmp (item->entry->path, entry->path) != 0)
        continue;
      while (got < sizeof header)
        {
          gssize n = rd_iso_file_read (file, header + got, sizeof header - got, error);

          if (n < 0)
            return FALSE;
          if (n == 0)
            break;
          got += n;
        }
      if (got < sizeof header || memcmp (header, "MSWIM\0\0\0", 8) != 0)
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_CORRUPT,
                       _("“%s” in the ISO is over the %u MiB split size but is not a WIM file. "
                          "The ISO may be damaged: download it again."),
                       entry->path, check->self->split_mib);
          return FALSE;
        }
      memcpy (&version, header + 12, sizeof version);
      if (GUINT32_FROM_LE (version) == WIM_VERSION_SOLID)
        {
          set_solid_error (check->self, entry->path, error);
          return FALSE;
        }
      if (++check->found == check->wims->len)
        {
          g_set_error_literal (error, stop_quark (), 0, "");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
collect_iso (RdMediaComposer *self, Part *part, GCancellable *cancellable, GError **error)
{
  GPtrArray *entries = rd_iso_reader_get_entries (self->reader);
  g_autoptr (GPtrArray) wims = g_ptr_array_new ();
  g_autofree char *origin = g_strdup_printf (_("the ISO “%s”"), self->iso_path);
  guint64 split_bytes = (guint64) self->split_mib * MIB;

  for (guint i = 0; i < entries->len; i++)
    {
      const RdIsoEntry *entry = g_ptr_array_index (entries, i);
      Item *item = g_new0 (Item, 1);

      item->dest = g_strdup (entry->path);
      item->entry = entry;
      item->size = entry->size;
      item->is_dir = entry->is_dir;
      /* Windows setup looks for sources/install.swm; WinPE kits may carry it too. */
      item->split = !entry->is_dir && entry->size > split_bytes &&
                    (g_ascii_strcasecmp (entry->path, "sources/install.wim") == 0 ||
                     g_ascii_strcasecmp (entry->path, "sources/install.esd") == 0);
      if (item->split)
        g_ptr_array_add (wims, item);
      if (!add_item (part, item, origin, error))
        return FALSE;
    }

  if (wims->len > 0)
    {
      HeaderCheck check = { self, wims, 0 };
      g_autoptr (GError) local_error = NULL;

      if (!rd_iso_reader_foreach_file (self->reader, check_iso_wim_cb, &check, cancellable,
                                       &local_error) &&
          !g_error_matches (local_error, stop_quark (), 0))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
collect_dir (RdMediaComposer *self,
             Part            *part,
             const char      *root,
             const char      *relative,
             GError         **error)
{
  g_autofree char *path = relative[0] != '\0' ? g_build_filename (root, relative, NULL)
                                              : g_strdup (root);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir;
  const char *name;
  guint64 split_bytes = (guint64) self->split_mib * MIB;
  struct stat st_dir;

  /* A symbolic link back up the tree would otherwise be walked for ever. */
  if (stat (path, &st_dir) == 0 &&
      !g_hash_table_add (part->seen_dirs, g_strdup_printf ("%ju:%ju", (uintmax_t) st_dir.st_dev,
                                                           (uintmax_t) st_dir.st_ino)))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("The payload folder “%s” is reached twice (a symbolic link loops back or "
                      "two payloads overlap). Remove the link or choose folders that do not "
                      "hold each other."),
                   path);
      return FALSE;
    }
  dir = g_dir_open (path, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("The payload folder “%s” cannot be read: %s. Check its permissions."), path,
                   local_error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  /* A stable order, so the key's layout does not depend on the file system's. */
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *child_name = g_ptr_array_index (names, i);
      g_autofree char *child_rel = relative[0] != '\0'
                                     ? g_strconcat (relative, "/", child_name, NULL)
                                     : g_strdup (child_name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);
      Item *item;
      struct stat st;

      if (stat (child, &st) != 0 || (!S_ISDIR (st.st_mode) && access (child, R_OK) != 0))
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                       _("“%s” in the payload folder cannot be read: %s. Check its permissions."),
                       child, g_strerror (errno));
          return FALSE;
        }
      if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
        continue;
      item = g_new0 (Item, 1);
      item->dest = g_strdup (child_rel);
      item->source = g_steal_pointer (&child);
      item->is_dir = S_ISDIR (st.st_mode);
      item->size = item->is_dir ? 0 : (guint64) st.st_size;
      item->split = !item->is_dir && item->size > split_bytes && is_wim_name (child_name);
      if (item->split && !check_local_wim (self, item->source, error))
        {
          item_free (item);
          return FALSE;
        }
      if (!add_item (part, item, root, error))
        return FALSE;
      if (S_ISDIR (st.st_mode) && !collect_dir (self, part, root, child_rel, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
collect_payload (RdMediaComposer *self, Part *part, const char *payload, GError **error)
{
  if (!g_file_test (payload, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                   _("The payload folder “%s” does not exist. Choose the folder that holds the "
                      "images (an OEM recovery WIM with its deploy script, or the universal "
                      "image’s Images folder)."),
                   payload);
      return FALSE;
    }
  if (!g_file_test (payload, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_NOT_FOUND,
                   _("The payload “%s” is a file, not a folder. Choose the folder that holds it."),
                   payload);
      return FALSE;
    }
  return collect_dir (self, part, payload, "", error);
}

/* The nearest existing folder of @path, for statvfs before the scratch folder exists. */
static char *
existing_ancestor (const char *path)
{
  g_autofree char *current = g_canonicalize_filename (path, NULL);

  while (!g_file_test (current, G_FILE_TEST_IS_DIR))
    {
      char *parent = g_path_get_dirname (current);

      if (g_str_equal (parent, current))
        {
          g_free (parent);
          break;
        }
      g_free (current);
      current = parent;
    }
  return g_steal_pointer (&current);
}

static const char *
scratch_dir (RdMediaComposer *self)
{
  if (self->scratch_dir == NULL)
    {
      const char *env = g_getenv ("RECOVERY_DESK_SCRATCH");

      if (env != NULL && env[0] != '\0')
        self->scratch_dir = g_strdup (env);
      else
        self->scratch_dir = g_build_filename (g_get_user_cache_dir (), "recovery-desk", NULL);
    }
  return self->scratch_dir;
}

static gboolean
check_scratch_space (RdMediaComposer *self, GError **error)
{
  g_autofree char *where = existing_ancestor (scratch_dir (self));
  struct statvfs st;
  guint64 free_bytes;

  if (statvfs (where, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not check the free space in the scratch folder “%s”: %s. Set "
                      "RECOVERY_DESK_SCRATCH to a folder you can write to."),
                   scratch_dir (self), g_strerror (saved));
      return FALSE;
    }
  free_bytes = (guint64) st.f_bavail * st.f_frsize;
  if (free_bytes < self->scratch_needed)
    {
      g_autofree char *needed = g_format_size (self->scratch_needed);
      g_autofree char *have = g_format_size (free_bytes);

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL,
                   _("Not enough free space in the scratch folder “%s”: composing the key needs "
                      "%s, only %s is free. Free some space there, or set RECOVERY_DESK_SCRATCH "
                      "to a folder on a disk with more room."),
                   scratch_dir (self), needed, have);
      return FALSE;
    }
  return TRUE;
}

static void
clear_plan (RdMediaComposer *self)
{
  g_clear_pointer (&self->parts, g_ptr_array_unref);
  g_clear_object (&self->reader);
  g_clear_pointer (&self->volume_label, g_free);
  self->image_size = 0;
  self->scratch_needed = 0;
  self->prepared = FALSE;
}

gboolean
rd_media_composer_prepare (RdMediaComposer *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) part_free);
  g_autofree char *label = NULL;
  guint64 offset = ALIGN, staged = 0, split_peak = 0, written = 0;
  Part *boot;

  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), FALSE);

  set_progress (self, RD_COMPOSE_STEP_PREPARING, 0);
  clear_plan (self);
  if (self->layout == RD_MEDIA_LAYOUT_SETUP && self->payloads->len > 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("Payload folders go on the IMAGES partition of the winpe-images layout; "
                      "the setup layout holds only the ISO’s files. Choose winpe-images, or "
                      "leave the payload folders out."));
      return FALSE;
    }

  self->reader = rd_iso_reader_open (self->iso_path, cancellable, error);
  if (self->reader == NULL)
    return FALSE;
  if (rd_iso_reader_lookup (self->reader, "bootmgr") == NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” has no bootmgr at its root, so the key would not boot: it is not "
                      "Windows or WinPE media. Choose a Windows setup or WinPE ISO."),
                   self->iso_path);
      return FALSE;
    }
  if (rd_iso_reader_lookup (self->reader, "efi/boot/bootx64.efi") == NULL)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” has no efi/boot/bootx64.efi, so the key would not boot on UEFI PCs. "
                      "Choose a 64-bit Windows or WinPE ISO made for UEFI."),
                   self->iso_path);
      return FALSE;
    }

  self->volume_label = g_strdup (rd_iso_reader_get_volume_label (self->reader));
  if (self->layout == RD_MEDIA_LAYOUT_SETUP)
    label = fat_label (self->volume_label, "WINSETUP");
  else
    label = g_strdup ("WINPE");
  boot = part_new (label, TRUE);
  g_ptr_array_add (parts, boot);
  if (!collect_iso (self, boot, cancellable, error))
    return FALSE;

  if (self->layout == RD_MEDIA_LAYOUT_WINPE_IMAGES)
    {
      Part *images = part_new ("IMAGES", FALSE);

      g_ptr_array_add (parts, images);
      for (guint i = 0; i < self->payloads->len; i++)
        if (!collect_payload (self, images, g_ptr_array_index (self->payloads, i), error))
          return FALSE;
    }

  for (guint i = 0; i < parts->len; i++)
    {
      Part *part = g_ptr_array_index (parts, i);
      guint64 minimum = 0;

      if (self->layout == RD_MEDIA_LAYOUT_WINPE_IMAGES && part == boot)
        minimum = (guint64) self->winpe_mib * MIB;
      size_part (self, part, minimum);
      part->start = offset;
      offset += part->size;

      /* Scratch space: what lands in the image, the staged small ISO files, and at the peak of
       * splitting the extracted WIM and its parts side by side. */
      written += part->content + 2 * div_up (part->size / part->cluster * 4, MIB) * MIB;
      for (guint j = 0; j < part->items->len; j++)
        {
          Item *item = g_ptr_array_index (part->items, j);
          guint64 peak;

          if (item->is_dir)
            continue;
          if (item->split)
            {
              peak = item->size + split_parts (self, item->size) * MIB;
              if (item->entry != NULL)
                peak += item->size;
              split_peak = MAX (split_peak, peak);
            }
          else if (item->entry != NULL && item->size < STREAM_MIN)
            {
              staged += item->size;
            }
        }
    }

  self->image_size = offset;
  if (self->table == RD_PARTITION_TABLE_GPT)
    self->image_size += GPT_BACKUP_SIZE;
  self->scratch_needed = written + staged + split_peak + 16 * MIB;
  if (!check_scratch_space (self, error))
    return FALSE;

  self->parts = g_steal_pointer (&parts);
  self->prepared = TRUE;
  return TRUE;
}

/* Compose: tools */

typedef struct
{
  RdMediaComposer *self;
  GSubprocess *process;
} Tool;

static GSubprocessLauncher *
tool_launcher (RdMediaComposer *self, GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags |
                                                             G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *log = g_build_filename (self->work_dir, "tool.log", NULL);

  /* No geometry checks on image files, VFAT long names, UTF-8 names. */
  g_subprocess_launcher_setenv (launcher, "MTOOLS_SKIP_CHECK", "1", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "MTOOLS_NO_VFAT");
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  return launcher;
}

static gboolean
tool_finish (RdMediaComposer *self, GSubprocess *process, const char *what, GError **error)
{
  g_autofree char *log_path = g_build_filename (self->work_dir, "tool.log", NULL);
  g_autofree char *log = NULL;

  if (g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0)
    return TRUE;
  g_file_get_contents (log_path, &log, NULL, NULL);
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _("%s failed: %s"), what,
               log != NULL && log[0] != '\0' ? g_strstrip (log) : _("no message"));
  return FALSE;
}

/* Runs @argv to its end; on cancel, kills it. */
static gboolean
run_tool (RdMediaComposer   *self,
          const char *const *argv,
          const char        *what,
          GCancellable      *cancellable,
          GError           **error)
{
  /* Standard input is /dev/null: mtools never waits on a question. */
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (self, G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) local_error = NULL;

  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL)
    {
      g_prefix_error (error, _("Could not run %s (install mtools): "), argv[0]);
      return FALSE;
    }
  if (!g_subprocess_wait (process, cancellable, &local_error))
    {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return tool_finish (self, process, what, error);
}

static char *
part_device (RdMediaComposer *self, Part *part)
{
  return g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, self->image_path, part->start);
}

static char *
fat_path (const char *dest)
{
  return g_strconcat ("::/", dest, NULL);
}

/* Compose: the disk */

static gboolean
fdisk_failed (int ret, const char *what, GError **error)
{
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
               _("Could not write the partition table (%s): %s"), what, g_strerror (-ret));
  return FALSE;
}

static gboolean
write_partition_table (RdMediaComposer *self, GError **error)
{
  struct fdisk_context *cxt = fdisk_new_context ();
  gboolean gpt = self->table == RD_PARTITION_TABLE_GPT;
  gboolean ok = FALSE;
  struct fdisk_label *label;
  int ret;

  if (cxt == NULL)
    return fdisk_failed (-ENOMEM, "libfdisk", error);
  if ((ret = fdisk_assign_device (cxt, self->image_path, 0)) != 0)
    {
      fdisk_failed (ret, "open", error);
      goto out;
    }
  fdisk_disable_dialogs (cxt, 1);
  if ((ret = fdisk_create_disklabel (cxt, gpt ? "gpt" : "dos")) != 0)
    {
      fdisk_failed (ret, "create", error);
      goto out;
    }
  label = fdisk_get_label (cxt, NULL);

  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);
      struct fdisk_partition *pa = fdisk_new_partition ();
      struct fdisk_parttype *type;

      fdisk_partition_set_partno (pa, i);
      fdisk_partition_set_start (pa, part->start / SECTOR);
      fdisk_partition_set_size (pa, part->size / SECTOR);
      /* Exactly this size: libfdisk would otherwise align the end on its own. */
      fdisk_partition_size_explicit (pa, 1);
      if (gpt)
        {
          type = fdisk_label_get_parttype_from_string (label,
                                                       part->boot ? ESP_GUID : BASIC_DATA_GUID);
          fdisk_partition_set_name (pa, part->label);
        }
      else
        {
          type = fdisk_label_get_parttype_from_code (label, 0x0c);
        }
      fdisk_partition_set_type (pa, type);
      ret = fdisk_add_partition (cxt, pa, NULL);
      fdisk_unref_partition (pa);
      fdisk_unref_parttype (type);
      if (ret != 0)
        {
          fdisk_failed (ret, "add partition", error);
          goto out;
        }
      if (!gpt && part->boot && (ret = fdisk_toggle_partition_flag (cxt, i, DOS_FLAG_ACTIVE)) != 0)
        {
          fdisk_failed (ret, "active flag", error);
          goto out;
        }
    }
  if ((ret = fdisk_write_disklabel (cxt)) != 0)
    {
      fdisk_failed (ret, "write", error);
      goto out;
    }
  ok = TRUE;

out:
  /* nosync: libfdisk would otherwise sync () every file system on the machine. */
  fdisk_deassign_device (cxt, 1);
  fdisk_unref_context (cxt);
  return ok;
}

static gboolean
format_part (RdMediaComposer *self, Part *part, GCancellable *cancellable, GError **error)
{
  g_autofree char *device = part_device (self, part);
  g_autofree char *sectors = g_strdup_printf ("%" G_GUINT64_FORMAT, part->size / SECTOR);
  /* Hidden sectors = the partition's first LBA, as Windows expects of a partitioned disk. */
  g_autofree char *hidden = g_strdup_printf ("%" G_GUINT64_FORMAT, part->start / SECTOR);
  g_autofree char *cluster = g_strdup_printf ("%u", part->cluster / SECTOR);
  g_autofree char *serial = g_strdup_printf ("%08x", g_random_int ());
  const char *argv[] = { "mformat", "-i",   device, "-F",        "-T",   sectors, "-h",
                         "255",     "-s",   "63",   "-H",        hidden, "-c",    cluster,
                         "-N",      serial, "-v",   part->label, "::",   NULL };
  g_autoptr (GPtrArray) mmd = g_ptr_array_new_with_free_func (g_free);

  g_autofree char *what = g_strdup_printf (_("Making the FAT32 file system %s (mformat)"),
                                           part->label);

  if (!run_tool (self, argv, what, cancellable, error))
    return FALSE;

  /* Every folder up front, so big files can be streamed in while the rest is staged. */
  g_ptr_array_add (mmd, g_strdup ("mmd"));
  g_ptr_array_add (mmd, g_strdup ("-i"));
  g_ptr_array_add (mmd, g_strdup (device));
  for (guint i = 0; i < part->items->len; i++)
    {
      Item *item = g_ptr_array_index (part->items, i);

      if (item->is_dir)
        g_ptr_array_add (mmd, fat_path (item->dest));
    }
  if (mmd->len == 3)
    return TRUE;
  g_ptr_array_add (mmd, NULL);
  g_free (what);
  what = g_strdup_printf (_("Making the folders on %s (mmd)"), part->label);
  return run_tool (self, (const char *const *) mmd->pdata, what, cancellable, error);
}

/* Compose: files */

typedef struct
{
  RdMediaComposer *self;
  Part *part;
  GHashTable *items; /* ISO path -> Item, the ISO's files for this part */
  char *stage;
  guint64 staged;
  GCancellable *cancellable;
  guint8 *buffer;
  int iso_fd;         /* the ISO file, for reading extents straight from it; -1 if not open */
  gboolean no_splice; /* splice(2) failed once here: pread and write instead */
} CopyIso;

static void
set_pipe_error (int saved, GError **error)
{
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
               _("Could not copy into the FAT32 file system: %s"), g_strerror (saved));
}

/* Writes all of @buffer to the pipe; SIGPIPE is blocked by the caller, so a dead mcopy shows
 * up as EPIPE. */
static gboolean
write_all (int fd, const guint8 *buffer, gsize count, GError **error)
{
  while (count > 0)
    {
      gssize n = write (fd, buffer, count);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_pipe_error (errno, error);
          return FALSE;
        }
      buffer += n;
      count -= n;
    }
  return TRUE;
}

static void
block_sigpipe (sigset_t *old)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, old);
}

/* Drops a SIGPIPE our writes raised while blocked, then restores the mask. */
static void
unblock_sigpipe (const sigset_t *old)
{
  sigset_t set, pending;
  struct timespec zero = { 0, 0 };

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  sigpending (&pending);
  if (sigismember (&pending, SIGPIPE) && !sigismember (old, SIGPIPE))
    while (sigtimedwait (&set, NULL, &zero) == SIGPIPE)
      ;
  pthread_sigmask (SIG_SETMASK, old, NULL);
}

static void
set_iso_read_error (CopyIso *copy, int saved, GError **error)
{
  g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _("Could not read the ISO “%s”: %s"),
               copy->self->iso_path, g_strerror (saved));
}

/* Copies [offset, offset + length) of the ISO file into @fd, mcopy's standard input: with
 * splice(2) the page cache's pages go into the pipe without passing through this process; where
 * the file system cannot splice, with pread and write. */
static gboolean
feed_extent (CopyIso *copy, int fd, guint64 offset, guint64 length, GError **error)
{
  guint64 done = 0;

  while (done < length)
    {
      gsize want = MIN (length - done, COPY_BUFFER);
      gssize n;

      if (check_cancelled (copy->cancellable, error))
        return FALSE;
      if (!copy->no_splice)
        {
          loff_t in = offset + done;

          n = splice (copy->iso_fd, &in, fd, NULL, want, SPLICE_F_MOVE | SPLICE_F_MORE);
          if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
              g_debug ("splice from %s: %s; copying through a buffer", copy->self->iso_path,
                       g_strerror (errno));
              copy->no_splice = TRUE;
              continue;
            }
          if (n < 0 && errno == EPIPE)
            {
              set_pipe_error (EPIPE, error);
              return FALSE;
            }
        }
      else
        {
          n = pread (copy->iso_fd, copy->buffer, want, offset + done);
          if (n > 0 && !write_all (fd, copy->buffer, n, error))
            return FALSE;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_iso_read_error (copy, errno, error);
          return FALSE;
        }
      if (n == 0)
        {
          set_iso_read_error (copy, EIO, error);
          return FALSE;
        }
      done += n;
      add_progress (copy->self, n);
    }
  return TRUE;
}

/* Feeds @item into @fd: from the ISO file's extents where the reader knows them (UDF), else
 * through @file. */
static gboolean
feed_pipe (CopyIso *copy, Item *item, RdIsoFile *file, int fd, GError **error)
{
  g_autoptr (GArray) extents = NULL;

  if (copy->iso_fd >= 0)
    extents = rd_iso_reader_dup_extents (copy->self->reader, item->entry);
  if (extents != NULL)
    {
      for (guint i = 0; i < extents->len; i++)
        {
          const RdIsoExtent *extent = &g_array_index (extents, RdIsoExtent, i);

          if (!feed_extent (copy, fd, extent->offset, extent->length, error))
            return FALSE;
        }
      return TRUE;
    }

  for (;;)
    {
      gssize n;

      if (check_cancelled (copy->cancellable, error))
        return FALSE;
      n = rd_iso_file_read (file, copy->buffer, COPY_BUFFER, error);
      if (n <= 0)
        return n == 0;
      if (!write_all (fd, copy->buffer, n, error))
        return FALSE;
      add_progress (copy->self, n);
    }
}

static gboolean
stream_file (CopyIso *copy, Item *item, RdIsoFile *file, GError **error)
{
  RdMediaComposer *self = copy->self;
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (self, G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *device = part_device (self, copy->part);
  g_autofree char *target = fat_path (item->dest);
  const char *argv[] = { "mcopy", "-i", device, "-D", "o", "-", target, NULL };
  g_autofree char *what = g_strdup_printf (_("Copying %s onto %s (mcopy)"), item->dest,
                                           copy->part->label);
  g_autoptr (GError) local_error = NULL;
  gboolean ok = TRUE;
  sigset_t old;
  int fd;

  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL)
    {
      g_prefix_error (error, _("Could not run mcopy (install mtools): "));
      return FALSE;
    }
  fd = g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (g_subprocess_get_stdin_pipe (process)));
#ifdef F_SETPIPE_SZ
  fcntl (fd, F_SETPIPE_SZ, COPY_BUFFER);
#endif

  block_sigpipe (&old);
  ok = feed_pipe (copy, item, file, fd, &local_error);
  g_output_stream_close (g_subprocess_get_stdin_pipe (process), NULL, NULL);
  unblock_sigpipe (&old);

  if (!ok)
    {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      /* mcopy's own message says more than EPIPE does. */
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !tool_finish (self, process, what, error))
        return FALSE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!g_subprocess_wait (process, copy->cancellable, &local_error))
    {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return tool_finish (self, process, what, error);
}

static gboolean
stage_file (CopyIso *copy, Item *item, RdIsoFile *file, GError **error)
{
  g_autofree char *path = g_build_filename (copy->stage, item->dest, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  gboolean ok;
  int fd;

  if (g_mkdir_with_parents (parent, 0700) != 0 ||
      (fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write “%s” in the scratch folder: %s"), path, g_strerror (saved));
      return FALSE;
    }
  ok = rd_iso_file_copy_to_fd (file, fd, copy->cancellable, error);
  if (close (fd) != 0 && ok)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write “%s” in the scratch folder: %s"), path, g_strerror (saved));
      ok = FALSE;
    }
  copy->staged += item->size;
  return ok;
}

static gboolean
copy_iso_cb (const RdIsoEntry *entry, RdIsoFile *file, gpointer user_data, GError **error)
{
  CopyIso *copy = user_data;
  g_autofree char *key = g_ascii_strdown (entry->path, -1);
  Item *item = g_hash_table_lookup (copy->items, key);

  if (check_cancelled (copy->cancellable, error))
    return FALSE;
  if (item == NULL || item->split)
    return TRUE;
  if (item->size >= STREAM_MIN)
    return stream_file (copy, item, file, error);
  return stage_file (copy, item, file, error);
}

/* One mcopy for a whole staged tree: its top-level entries into the root. */
static gboolean
copy_stage (RdMediaComposer *self,
            Part            *part,
            const char      *stage,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree char *device = part_device (self, part);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *what = NULL;
  GDir *dir = g_dir_open (stage, 0, NULL);
  const char *name;

  if (dir == NULL)
    return TRUE;
  g_ptr_array_add (argv, g_strdup ("mcopy"));
  g_ptr_array_add (argv, g_strdup ("-i"));
  g_ptr_array_add (argv, g_strdup (device));
  g_ptr_array_add (argv, g_strdup ("-s"));
  g_ptr_array_add (argv, g_strdup ("-Q"));
  g_ptr_array_add (argv, g_strdup ("-D"));
  g_ptr_array_add (argv, g_strdup ("o"));
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (argv, g_build_filename (stage, name, NULL));
  g_dir_close (dir);
  if (argv->len == 7)
    return TRUE;
  g_ptr_array_add (argv, g_strdup ("::/"));
  g_ptr_array_add (argv, NULL);
  what = g_strdup_printf (_("Copying the files onto %s (mcopy)"), part->label);
  return run_tool (self, (const char *const *) argv->pdata, what, cancellable, error);
}

/* A new folder stage-@index in the scratch folder, for one part's files; NULL with @error if
 * it cannot be made. */
static char *
make_stage (RdMediaComposer *self, guint index, GError **error)
{
  g_autofree char *stage_name = g_strdup_printf ("stage-%u", index);
  g_autofree char *stage = g_build_filename (self->work_dir, stage_name, NULL);

  if (g_mkdir (stage, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write in the scratch folder “%s”: %s"), self->work_dir,
                   g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&stage);
}

static gboolean
copy_iso_part (RdMediaComposer *self,
               Part            *part,
               guint            index,
               GCancellable    *cancellable,
               GError         **error)
{
  g_autoptr (GHashTable) items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *stage = make_stage (self, index, error);
  g_autofree guint8 *buffer = g_malloc (COPY_BUFFER);
  CopyIso copy = { self, part, items, stage, 0, cancellable, buffer, -1, FALSE };
  gboolean ok;

  if (stage == NULL)
    return FALSE;
  for (guint i = 0; i < part->items->len; i++)
    {
      Item *item = g_ptr_array_index (part->items, i);

      if (item->entry != NULL && !item->is_dir)
        g_hash_table_insert (items, g_ascii_strdown (item->entry->path, -1), item);
    }

  set_progress (self, RD_COMPOSE_STEP_COPYING, 0);
  copy.iso_fd = open (self->iso_path, O_RDONLY | O_CLOEXEC);
  if (copy.iso_fd >= 0)
    posix_fadvise (copy.iso_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  ok = rd_iso_reader_foreach_file (self->reader, copy_iso_cb, &copy, cancellable, error) &&
       copy_stage (self, part, stage, cancellable, error);
  if (copy.iso_fd >= 0)
    close (copy.iso_fd);
  if (ok)
    add_progress (self, copy.staged);
  remove_tree (stage);
  return ok;
}

/* A payload is on a local disk already: the staged tree is symbolic links to it, which mcopy
 * follows. */
static gboolean
copy_payload_part (RdMediaComposer *self,
                   Part            *part,
                   guint            index,
                   GCancellable    *cancellable,
                   GError         **error)
{
  g_autofree char *stage = make_stage (self, index, error);
  guint64 bytes = 0;
  gboolean ok;

  if (stage == NULL)
    return FALSE;
  set_progress (self, RD_COMPOSE_STEP_COPYING, 0);
  for (guint i = 0; i < part->items->len; i++)
    {
      Item *item = g_ptr_array_index (part->items, i);
      g_autofree char *path = g_build_filename (stage, item->dest, NULL);
      int ret;

      if (item->source == NULL || item->split)
        continue;
      ret = item->is_dir ? g_mkdir (path, 0700) : symlink (item->source, path);
      if (ret != 0)
        {
          int saved = errno;

          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                       _("Could not write “%s” in the scratch folder: %s"), path,
                       g_strerror (saved));
          remove_tree (stage);
          return FALSE;
        }
      if (!item->is_dir)
        bytes += item->size;
    }
  ok = copy_stage (self, part, stage, cancellable, error);
  if (ok)
    add_progress (self, bytes);
  remove_tree (stage);
  return ok;
}

/* Splitting */

typedef struct
{
  RdMediaComposer *self;
  GCancellable *cancellable;
  guint64 reported;
} SplitProgress;

static enum wimlib_progress_status
split_progress_cb (enum wimlib_progress_msg msg, union wimlib_progress_info *info, void *user_data)
{
  SplitProgress *progress = user_data;

  if (g_cancellable_is_cancelled (progress->cancellable))
    return WIMLIB_PROGRESS_STATUS_ABORT;
  if (msg == WIMLIB_PROGRESS_MSG_WRITE_STREAMS &&
      info->write_streams.completed_compressed_bytes > progress->reported)
    {
      add_progress (progress->self,
                    info->write_streams.completed_compressed_bytes - progress->reported);
      progress->reported = info->write_streams.completed_compressed_bytes;
    }
  return WIMLIB_PROGRESS_STATUS_CONTINUE;
}

static gboolean
extract_wim (RdMediaComposer *self,
             Item            *item,
             const char      *path,
             GCancellable    *cancellable,
             GError         **error)
{
  gboolean ok;
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write “%s” in the scratch folder: %s"), path, g_strerror (saved));
      return FALSE;
    }
  ok = rd_iso_reader_extract_to_fd (self->reader, item->entry, fd, cancellable, error);
  if (close (fd) != 0 && ok)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write “%s” in the scratch folder: %s"), path, g_strerror (saved));
      ok = FALSE;
    }
  return ok;
}

static gboolean
split_wim (RdMediaComposer *self,
           const char      *wim_path,
           const char      *display,
           const char      *swm_path,
           GCancellable    *cancellable,
           GError         **error)
{
  SplitProgress progress = { self, cancellable, 0 };
  WIMStruct *wim = NULL;
  gboolean solid = FALSE;
  int ret;

  if (!ensure_wimlib (error))
    return FALSE;
  ret = wimlib_open_wim_with_progress (wim_path, 0, &wim, split_progress_cb, &progress);
  if (ret == 0)
    {
      /* The ISO's WIMs were only checked by their header; this is the real test. */
      wimlib_iterate_lookup_table (wim, 0, solid_blob_cb, &solid);
      if (solid)
        {
          wimlib_free (wim);
          set_solid_error (self, display, error);
          return FALSE;
        }
      ret = wimlib_split (wim, swm_path, (guint64) self->split_mib * MIB, 0);
      wimlib_free (wim);
    }
  if (ret == WIMLIB_ERR_ABORTED_BY_PROGRESS || g_cancellable_is_cancelled (cancellable))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }
  if (ret == WIMLIB_ERR_UNSUPPORTED)
    {
      set_solid_error (self, display, error);
      return FALSE;
    }
  if (ret != 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not split “%s” into .swm parts: %s"), display,
                   wimlib_get_error_string (ret));
      return FALSE;
    }
  return TRUE;
}

static gboolean
split_item (RdMediaComposer *self,
            Part            *part,
            Item            *item,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree char *split_dir = g_build_filename (self->work_dir, "split", NULL);
  g_autofree char *base_dest = strip_extension (item->dest);
  g_autofree char *base = g_path_get_basename (base_dest);
  g_autofree char *dest_dir = g_path_get_dirname (item->dest);
  g_autofree char *swm_name = g_strconcat (base, ".swm", NULL);
  g_autofree char *swm_path = g_build_filename (split_dir, swm_name, NULL);
  g_autofree char *extracted = NULL;
  g_autofree char *device = part_device (self, part);
  const char *display = item->source != NULL ? item->source : item->dest;
  gboolean ok;
  guint64 done_before;

  g_mutex_lock (&self->progress_lock);
  self->step = RD_COMPOSE_STEP_SPLITTING;
  done_before = self->bytes_done;
  g_mutex_unlock (&self->progress_lock);

  if (g_mkdir (split_dir, 0700) != 0 && errno != EEXIST)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write in the scratch folder “%s”: %s"), self->work_dir,
                   g_strerror (saved));
      return FALSE;
    }
  if (item->entry != NULL)
    {
      extracted = g_build_filename (self->work_dir, "extracted.wim", NULL);
      if (!extract_wim (self, item, extracted, cancellable, error))
        {
          g_unlink (extracted);
          return FALSE;
        }
    }
  ok = split_wim (self, extracted != NULL ? extracted : item->source, display, swm_path,
                  cancellable, error);
  if (extracted != NULL)
    g_unlink (extracted);
  if (!ok)
    return FALSE;

  g_mutex_lock (&self->progress_lock);
  self->step = RD_COMPOSE_STEP_COPYING;
  self->bytes_done = done_before + item->size;
  g_mutex_unlock (&self->progress_lock);

  /* wimlib names the parts NAME.swm, NAME2.swm, ...; copy them in order, each deleted once
   * it is on the key. */
  for (guint n = 1;; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup (swm_name) : g_strdup_printf ("%s%u.swm", base, n);
      g_autofree char *path = g_build_filename (split_dir, name, NULL);
      g_autofree char *dest = g_str_equal (dest_dir, ".")
                                ? g_strdup (name)
                                : g_build_path ("/", dest_dir, name, NULL);
      g_autofree char *target = fat_path (dest);
      const char *argv[] = { "mcopy", "-i", device, "-D", "o", path, target, NULL };
      g_autofree char *what = g_strdup_printf (_("Copying %s onto %s (mcopy)"), dest, part->label);
      struct stat st;

      if (stat (path, &st) != 0)
        break;
      if ((guint64) st.st_size > FAT32_MAX_FILE)
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                       _("A part of “%s” is over 4 GiB, which FAT32 cannot hold. Choose a "
                          "smaller split size."),
                       display);
          return FALSE;
        }
      if (!run_tool (self, argv, what, cancellable, error))
        return FALSE;
      add_progress (self, st.st_size);
      g_unlink (path);
    }
  g_rmdir (split_dir);
  return TRUE;
}

/* Compose */

static gboolean
create_image (RdMediaComposer *self, GError **error)
{
  int fd = open (self->image_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0 || ftruncate (fd, self->image_size) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not create the scratch image “%s”: %s. Set RECOVERY_DESK_SCRATCH to "
                      "a folder you can write to."),
                   self->image_path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static gboolean
make_work_dir (RdMediaComposer *self, GError **error)
{
  g_autofree char *template = g_build_filename (scratch_dir (self), "rd-compose-XXXXXX", NULL);

  if (g_mkdir_with_parents (scratch_dir (self), 0700) != 0 ||
      g_mkdtemp_full (template, 0700) == NULL)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not write in the scratch folder “%s”: %s. Set RECOVERY_DESK_SCRATCH "
                      "to a folder you can write to."),
                   scratch_dir (self), g_strerror (saved));
      return FALSE;
    }
  self->work_dir = g_steal_pointer (&template);
  self->image_path = g_build_filename (self->work_dir, "key.img", NULL);
  return TRUE;
}

static gboolean
compose (RdMediaComposer *self, GCancellable *cancellable, GError **error)
{
  guint64 total = 0;

  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);

      for (guint j = 0; j < part->items->len; j++)
        {
          Item *item = g_ptr_array_index (part->items, j);

          /* A split WIM is read once to split it and its parts once to copy them. */
          total += item->split ? 2 * item->size : item->size;
        }
    }
  g_mutex_lock (&self->progress_lock);
  self->step = RD_COMPOSE_STEP_PARTITIONING;
  self->bytes_done = 0;
  self->bytes_total = total;
  g_mutex_unlock (&self->progress_lock);

  if (!make_work_dir (self, error) || !create_image (self, error) ||
      !write_partition_table (self, error))
    return FALSE;
  for (guint i = 0; i < self->parts->len; i++)
    if (!format_part (self, g_ptr_array_index (self->parts, i), cancellable, error))
      return FALSE;

  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);

      if (check_cancelled (cancellable, error))
        return FALSE;
      if (i == 0 && !copy_iso_part (self, part, i, cancellable, error))
        return FALSE;
      if (i > 0 && !copy_payload_part (self, part, i, cancellable, error))
        return FALSE;
    }
  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);

      for (guint j = 0; j < part->items->len; j++)
        {
          Item *item = g_ptr_array_index (part->items, j);

          if (!item->split)
            continue;
          if (check_cancelled (cancellable, error) ||
              !split_item (self, part, item, cancellable, error))
            return FALSE;
        }
    }

  {
    g_autofree char *log = g_build_filename (self->work_dir, "tool.log", NULL);

    g_unlink (log);
  }
  g_mutex_lock (&self->progress_lock);
  self->step = RD_COMPOSE_STEP_DONE;
  self->bytes_done = self->bytes_total;
  g_mutex_unlock (&self->progress_lock);
  return TRUE;
}

gboolean
rd_media_composer_compose (RdMediaComposer *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), FALSE);
  g_return_val_if_fail (self->prepared, FALSE);

  rd_media_composer_cleanup (self);
  if (compose (self, cancellable, error))
    return TRUE;
  rd_media_composer_cleanup (self);
  return FALSE;
}

/* Saving */

static gboolean
write_all_at (int fd, const guint8 *buffer, gsize count, guint64 offset)
{
  while (count > 0)
    {
      gssize n = pwrite (fd, buffer, count, offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buffer += n;
      count -= n;
      offset += n;
    }
  return TRUE;
}

/* Copies [offset, end); FALSE with errno set. */
static gboolean
copy_range (int src, int dst, guint64 offset, guint64 end)
{
  g_autofree guint8 *buffer = NULL;

  while (offset < end)
    {
      loff_t in = offset, out = offset;
      gssize n = copy_file_range (src, &in, dst, &out, MIN (end - offset, 1 << 30), 0);

      if (n > 0)
        {
          offset += n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return FALSE;
      /* No copy_file_range between these file systems: read and write. */
      if (buffer == NULL)
        buffer = g_malloc (COPY_BUFFER);
      n = pread (src, buffer, MIN (end - offset, COPY_BUFFER), offset);
      if (n <= 0 || !write_all_at (dst, buffer, n, offset))
        return FALSE;
      offset += n;
    }
  return TRUE;
}

/* Copies only the data, leaving holes where the image has them. */
static gboolean
copy_sparse (const char *from, const char *to, GError **error)
{
  int src = open (from, O_RDONLY | O_CLOEXEC);
  int dst = -1;
  gboolean ok = FALSE;
  struct stat st;
  off_t data = 0;

  if (src < 0 || fstat (src, &st) != 0)
    goto out;
  dst = open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (dst < 0 || ftruncate (dst, st.st_size) != 0)
    goto out;
  for (;;)
    {
      off_t hole;

      data = lseek (src, data, SEEK_DATA);
      if (data < 0 && errno == ENXIO)
        break;
      if (data < 0)
        goto out;
      hole = lseek (src, data, SEEK_HOLE);
      if (hole < 0)
        goto out;
      if (!copy_range (src, dst, data, hole))
        goto out;
      data = hole;
    }
  ok = fsync (dst) == 0;

out:
  if (!ok)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not save the image as “%s”: %s. Check that the folder exists and has "
                      "room for it."),
                   to, g_strerror (saved));
    }
  if (src >= 0)
    close (src);
  if (dst >= 0 && close (dst) != 0 && ok)
    {
      int saved = errno;

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Could not save the image as “%s”: %s"), to, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok && dst >= 0)
    g_unlink (to);
  return ok;
}

gboolean
rd_media_composer_save (RdMediaComposer *self, const char *path, GError **error)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (self->image_path != NULL && self->work_dir != NULL, FALSE);

  if (rename (self->image_path, path) != 0)
    {
      int saved = errno;

      if (saved != EXDEV)
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                       _("Could not save the image as “%s”: %s"), path, g_strerror (saved));
          return FALSE;
        }
      if (!copy_sparse (self->image_path, path, error))
        return FALSE;
    }
  /* The saved image is the caller's; only the scratch folder goes. */
  g_free (self->image_path);
  self->image_path = g_strdup (path);
  self->image_saved = TRUE;
  remove_tree (self->work_dir);
  g_clear_pointer (&self->work_dir, g_free);
  return TRUE;
}

void
rd_media_composer_cleanup (RdMediaComposer *self)
{
  g_return_if_fail (RD_IS_MEDIA_COMPOSER (self));

  if (self->work_dir != NULL)
    {
      remove_tree (self->work_dir);
      g_clear_pointer (&self->work_dir, g_free);
    }
  if (!self->image_saved)
    g_clear_pointer (&self->image_path, g_free);
}

/* Accessors */

const char *
rd_media_composer_get_image_path (RdMediaComposer *self)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), NULL);

  return self->image_path;
}

guint64
rd_media_composer_get_image_size (RdMediaComposer *self)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), 0);

  return self->image_size;
}

guint64
rd_media_composer_get_scratch_needed (RdMediaComposer *self)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), 0);

  return self->scratch_needed;
}

const char *
rd_media_composer_get_volume_label (RdMediaComposer *self)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), NULL);

  return self->volume_label;
}

RdComposeStep
rd_media_composer_get_progress (RdMediaComposer *self, guint64 *bytes_done, guint64 *bytes_total)
{
  RdComposeStep step;

  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), RD_COMPOSE_STEP_PREPARING);

  g_mutex_lock (&self->progress_lock);
  step = self->step;
  if (bytes_done != NULL)
    *bytes_done = MIN (self->bytes_done, self->bytes_total);
  if (bytes_total != NULL)
    *bytes_total = self->bytes_total;
  g_mutex_unlock (&self->progress_lock);
  return step;
}

void
rd_media_composer_set_partition_table (RdMediaComposer *self, RdPartitionTable table)
{
  g_return_if_fail (RD_IS_MEDIA_COMPOSER (self));
  g_return_if_fail (table == RD_PARTITION_TABLE_GPT || table == RD_PARTITION_TABLE_MBR);

  self->table = table;
}

void
rd_media_composer_set_split_size (RdMediaComposer *self, guint mib)
{
  g_return_if_fail (RD_IS_MEDIA_COMPOSER (self));
  g_return_if_fail (mib >= 1 && mib <= 4095);

  self->split_mib = mib;
}

void
rd_media_composer_set_winpe_size (RdMediaComposer *self, guint mib)
{
  g_return_if_fail (RD_IS_MEDIA_COMPOSER (self));
  g_return_if_fail (mib >= 1);

  self->winpe_mib = mib;
}

void
rd_media_composer_add_payload (RdMediaComposer *self, const char *directory)
{
  g_return_if_fail (RD_IS_MEDIA_COMPOSER (self));
  g_return_if_fail (directory != NULL);

  g_ptr_array_add (self->payloads, g_canonicalize_filename (directory, NULL));
}

void
rd_media_composer_set_scratch_dir (RdMediaComposer *self, const char *directory)
{
  g_return_if_fail (RD_IS_MEDIA_COMPOSER (self));

  g_free (self->scratch_dir);
  self->scratch_dir = directory != NULL ? g_canonicalize_filename (directory, NULL) : NULL;
}

const char *
rd_media_composer_get_scratch_dir (RdMediaComposer *self)
{
  g_return_val_if_fail (RD_IS_MEDIA_COMPOSER (self), NULL);

  return scratch_dir (self);
}

/* Object */

static void
rd_media_composer_finalize (GObject *object)
{
  RdMediaComposer *self = RD_MEDIA_COMPOSER (object);

  rd_media_composer_cleanup (self);
  clear_plan (self);
  g_free (self->iso_path);
  g_ptr_array_unref (self->payloads);
  g_free (self->scratch_dir);
  g_free (self->image_path);
  g_mutex_clear (&self->progress_lock);

  G_OBJECT_CLASS (rd_media_composer_parent_class)->finalize (object);
}

static void
rd_media_composer_class_init (RdMediaComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_media_composer_finalize;
}

static void
rd_media_composer_init (RdMediaComposer *self)
{
  self->table = RD_PARTITION_TABLE_GPT;
  self->split_mib = RD_MEDIA_COMPOSER_DEFAULT_SPLIT_MIB;
  self->winpe_mib = RD_MEDIA_COMPOSER_DEFAULT_WINPE_MIB;
  self->payloads = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&self->progress_lock);
}

RdMediaComposer *
rd_media_composer_new (const char *iso_path, RdMediaLayout layout)
{
  RdMediaComposer *self;

  g_return_val_if_fail (iso_path != NULL, NULL);

  self = g_object_new (RD_TYPE_MEDIA_COMPOSER, NULL);
  self->iso_path = g_strdup (iso_path);
  self->layout = layout;
  return self;
}
