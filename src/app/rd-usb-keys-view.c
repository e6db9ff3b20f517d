/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-usb-keys-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-drive-monitor.h"
#include "rd-image-source.h"
#include "rd-image-writer.h"
#include "rd-imager-process.h"
#include "rd-media-composer.h"
#include "rd-method.h"
#include "rd-ui-utils.h"
#include "rd-usb-drive-row.h"
#include "rd-usb-key-progress-row.h"
#include "rd-usb-keys-view.h"

/* USB reimage keys: choose an image (and see what it is, and its SHA-256), choose keys from the
 * live drive list, confirm erasing them, and follow recovery-desk-imager writing and verifying
 * them. A Windows or WinPE ISO is not written byte for byte: the admin picks a layout (Windows
 * setup, or WinPE + the folders of an images partition) and a partition table, and the helper
 * builds the key from the ISO (`compose`) before writing and verifying it the same way. Opened for
 * a Reuse plan with a reimage method, a verified key is recorded in the plan, which goes to "USB
 * key prepared". The view parses no JSON and opens no device: the imaging library does both
 * (RdImagerProcess, RdDriveMonitor). */

#define MAX_RECENT_IMAGES 6

struct _RdUsbKeysView
{
  GtkWidget parent_instance;

  RdBoard *board;
  RdPlan *plan;
  GListModel *drives;
  RdDriveMonitor *monitor;
  GError *monitor_error;
  gboolean drives_injected;
  GSettings *settings;
  GtkFileChooserNative *chooser;
  GtkFileChooserNative *folder_chooser;
  GPtrArray *payloads; /* folders for the IMAGES partition (WinPE + Images) */

  /* The key built from a Windows ISO with the chosen layout, table and payloads: sized in a
   * thread (rd_media_composer_prepare) whenever the choice changes. */
  GCancellable *size_cancellable; /* set while sizing */
  guint64 composed_size;          /* 0 until known */
  char *scratch_dir;              /* where the helper will build it */
  GError *compose_error;          /* why it cannot be built */

  char *image_path;
  RdImageSource *source;
  GError *image_error;
  gboolean raw_writable;
  char *image_sha256;
  GCancellable *image_cancellable;

  RdImagerProcess *process;
  GCancellable *write_cancellable;
  GPtrArray *write_rows; /* RdUsbKeyProgressRow, by target index */
  char *write_image_path;
  gboolean write_composes;

  GtkBox *plan_box;
  GtkLabel *plan_title_label;
  GtkLabel *plan_state_label;
  GtkLabel *plan_subtitle_label;
  GtkLabel *plan_result_label;
  GtkMenuButton *recent_button;
  AdwActionRow *image_row;
  GtkSpinner *inspect_spinner;
  AdwActionRow *kind_row;
  GtkLabel *kind_label;
  AdwActionRow *size_row;
  GtkLabel *size_label;
  AdwActionRow *sha_row;
  GtkSpinner *sha_spinner;
  GtkLabel *sha_label;
  GtkButton *copy_sha_button;
  AdwActionRow *refusal_row;
  AdwComboRow *label_row;
  AdwEntryRow *model_row;
  AdwPreferencesGroup *media_group;
  GtkCheckButton *setup_check;
  GtkCheckButton *winpe_check;
  AdwComboRow *table_row;
  AdwPreferencesGroup *payload_group;
  GtkListBox *payload_list;
  GtkLabel *selected_label;
  GtkStack *drives_stack;
  GtkListBox *drive_list;
  AdwStatusPage *empty_page;
  AdwStatusPage *unavailable_page;
  AdwPreferencesGroup *progress_group;
  GtkListBox *progress_list;
  GtkLabel *summary_label;
  GtkButton *cancel_button;
  GtkButton *write_button;
};

G_DEFINE_FINAL_TYPE (RdUsbKeysView, rd_usb_keys_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_BOARD,
  PROP_PLAN,
  PROP_DRIVES,
  PROP_IMAGE,
  PROP_IMAGE_SHA256,
  PROP_WRITING,
  N_PROPS
};

enum
{
  SIGNAL_KEY_RECORDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

enum
{
  LABEL_OEM,
  LABEL_UNIVERSAL,
};

enum
{
  TABLE_GPT,
  TABLE_MBR,
};

/* Async callbacks hold the view weakly: a helper run outlives a closed window. */
static GWeakRef *
weak_ref_new (gpointer object)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, object);
  return ref;
}

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GWeakRef, weak_ref_free)

/* Words */

static const char *
kind_title (RdImageKind kind)
{
  switch (kind)
    {
    case RD_IMAGE_KIND_RAW:
      return _("Disk image");
    case RD_IMAGE_KIND_HYBRID_ISO:
      return _("Hybrid ISO image");
    case RD_IMAGE_KIND_WINDOWS_ISO:
      return _("Windows installation media");
    default:
      return "";
    }
}

static const char *
table_title (RdPartitionTable table)
{
  switch (table)
    {
    case RD_PARTITION_TABLE_GPT:
      return _("GPT partition table");
    case RD_PARTITION_TABLE_MBR:
      return _("MBR partition table");
    case RD_PARTITION_TABLE_NONE:
    default:
      return _("no partition table");
    }
}

static const char *
compression_title (RdImageCompression compression)
{
  switch (compression)
    {
    case RD_IMAGE_COMPRESSION_XZ:
      return _("xz-compressed");
    case RD_IMAGE_COMPRESSION_GZIP:
      return _("gzip-compressed");
    case RD_IMAGE_COMPRESSION_ZSTD:
      return _("Zstandard-compressed");
    case RD_IMAGE_COMPRESSION_BZIP2:
      return _("bzip2-compressed");
    case RD_IMAGE_COMPRESSION_ZIP:
      return _("in a ZIP archive");
    case RD_IMAGE_COMPRESSION_NONE:
    default:
      return NULL;
    }
}

/* Windows media */

/* A Windows or WinPE ISO: the key is composed from it rather than written byte for byte. */
static gboolean
composing (RdUsbKeysView *self)
{
  return self->source != NULL && rd_image_source_get_windows_media (self->source);
}

static RdMediaLayout
chosen_layout (RdUsbKeysView *self)
{
  return gtk_check_button_get_active (self->winpe_check) ? RD_MEDIA_LAYOUT_WINPE_IMAGES
                                                         : RD_MEDIA_LAYOUT_SETUP;
}

static RdPartitionTable
chosen_table (RdUsbKeysView *self)
{
  return adw_combo_row_get_selected (self->table_row) == TABLE_MBR ? RD_PARTITION_TABLE_MBR
                                                                   : RD_PARTITION_TABLE_GPT;
}

static void
update_media (RdUsbKeysView *self)
{
  gboolean compose = composing (self);

  gtk_widget_set_visible (GTK_WIDGET (self->media_group), compose);
  gtk_widget_set_visible (GTK_WIDGET (self->payload_group),
                          compose && chosen_layout (self) == RD_MEDIA_LAYOUT_WINPE_IMAGES);
}

static void
rebuild_payload_list (RdUsbKeysView *self)
{
  GtkListBoxRow *old;

  while ((old = gtk_list_box_get_row_at_index (self->payload_list, 0)) != NULL)
    gtk_list_box_remove (self->payload_list, GTK_WIDGET (old));

  for (guint i = 0; i < self->payloads->len; i++)
    {
      const char *path = self->payloads->pdata[i];
      g_autofree char *name = g_path_get_basename (path);
      g_autofree char *parent = g_path_get_dirname (path);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), parent);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("folder-symbolic"));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "usb-keys.remove-payload");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "s", path);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      gtk_list_box_append (self->payload_list, row);
    }
}

/* Drives */

static GPtrArray *
dup_drive_rows (RdUsbKeysView *self, gboolean only_active)
{
  GPtrArray *rows = g_ptr_array_new ();

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->drive_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (RD_IS_USB_DRIVE_ROW (child)
        && (!only_active || rd_usb_drive_row_get_active (RD_USB_DRIVE_ROW (child))))
      g_ptr_array_add (rows, child);
  return rows;
}

/* A drive is judged against what will be written to it: the image, or for a Windows ISO the key
 * built from it, whose size is known once sized (until then only the other checks apply). */
static void
update_drive_row (RdUsbKeysView *self, RdUsbDriveRow *row)
{
  g_autoptr (GPtrArray) paths = NULL;

  if (!composing (self))
    {
      rd_usb_drive_row_set_source (row, self->source);
      return;
    }
  paths = g_ptr_array_new ();
  if (chosen_layout (self) == RD_MEDIA_LAYOUT_WINPE_IMAGES)
    for (guint i = 0; i < self->payloads->len; i++)
      g_ptr_array_add (paths, self->payloads->pdata[i]);
  if (self->scratch_dir != NULL)
    g_ptr_array_add (paths, self->scratch_dir);
  g_ptr_array_add (paths, NULL);
  rd_usb_drive_row_set_composed_source (row, self->source, (const char *const *) paths->pdata,
                                        self->composed_size);
}

static void
update_rows_for_source (RdUsbKeysView *self)
{
  g_autoptr (GPtrArray) rows = dup_drive_rows (self, FALSE);

  for (guint i = 0; i < rows->len; i++)
    update_drive_row (self, rows->pdata[i]);
}

static gboolean
is_writing (RdUsbKeysView *self)
{
  return self->process != NULL && rd_imager_process_get_running (self->process);
}

static void
update_state (RdUsbKeysView *self)
{
  g_autoptr (GPtrArray) chosen = dup_drive_rows (self, TRUE);
  gboolean writing = is_writing (self);
  gboolean can_write;
  g_autofree char *summary = NULL;
  g_autofree char *selected = NULL;

  gboolean compose = composing (self);
  gboolean needs_payload = compose && chosen_layout (self) == RD_MEDIA_LAYOUT_WINPE_IMAGES
                           && self->payloads->len == 0;
  gboolean sizing = compose && self->size_cancellable != NULL;
  gboolean unbuildable = compose && self->compose_error != NULL;

  can_write = !writing && self->source != NULL && (self->raw_writable || compose)
              && !needs_payload && !sizing && !unbuildable && chosen->len > 0
              && chosen->len <= RD_IMAGE_WRITER_MAX_TARGETS;

  if (writing)
    {
      g_autofree char *name = g_path_get_basename (self->write_image_path);

      summary = g_strdup_printf (ngettext ("Writing “%s” to %u key…", "Writing “%s” to %u keys…",
                                           self->write_rows->len),
                                 name, self->write_rows->len);
    }
  else if (self->image_path == NULL)
    summary = g_strdup (_("Choose an image to write."));
  else if (self->source == NULL && self->image_error == NULL)
    summary = g_strdup (_("Reading the image…"));
  else if (self->source == NULL || (!self->raw_writable && !compose))
    summary = g_strdup (_("This image cannot be written to a key byte for byte."));
  else if (unbuildable)
    summary = g_strdup (_("The key cannot be built from this ISO: see why above."));
  else if (needs_payload)
    summary = g_strdup (_("Add the folders for the IMAGES partition."));
  else if (sizing)
    summary = g_strdup (_("Working out the size of the key…"));
  else if (chosen->len == 0)
    summary = g_strdup (_("Choose the keys to write."));
  else if (chosen->len > RD_IMAGE_WRITER_MAX_TARGETS)
    summary = g_strdup_printf (_("At most %d keys can be written at once."),
                               RD_IMAGE_WRITER_MAX_TARGETS);
  else if (compose && chosen_layout (self) == RD_MEDIA_LAYOUT_SETUP)
    summary = g_strdup_printf (ngettext ("Builds a Windows setup key from the ISO, writes it to %u "
                                         "key, then reads it back to verify it.",
                                         "Builds a Windows setup key from the ISO, writes it to %u "
                                         "keys, then reads them back to verify them.",
                                         chosen->len),
                               chosen->len);
  else if (compose)
    summary = g_strdup_printf (ngettext ("Builds a WinPE + images key from the ISO and %u "
                                         "folders, writes it to %u key, then reads it back to "
                                         "verify it.",
                                         "Builds a WinPE + images key from the ISO and %u "
                                         "folders, writes it to %u keys, then reads them back to "
                                         "verify them.",
                                         chosen->len),
                               self->payloads->len, chosen->len);
  else
    {
      g_autofree char *size = g_format_size (rd_image_source_get_uncompressed_size (self->source));

      summary = g_strdup_printf (ngettext ("Writes %s to %u key, then reads it back to verify it.",
                                           "Writes %s to %u keys, then reads them back to verify "
                                           "them.",
                                           chosen->len),
                                 size, chosen->len);
    }
  gtk_label_set_label (self->summary_label, summary);

  if (chosen->len > 0)
    selected = g_strdup_printf (ngettext ("%u chosen", "%u chosen", chosen->len), chosen->len);
  gtk_label_set_label (self->selected_label, selected ? selected : "");

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.write", can_write);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.cancel", writing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.choose-image", !writing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.open-recent", !writing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.copy-sha256",
                                 self->image_sha256 != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), writing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->drive_list), !writing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->label_row), !writing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->model_row), !writing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->media_group), !writing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->payload_group), !writing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.add-payload", !writing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "usb-keys.remove-payload", !writing);
}

static void
update_drives_page (RdUsbKeysView *self)
{
  if (self->drives == NULL)
    {
      adw_status_page_set_description (self->unavailable_page,
                                       self->monitor_error ? self->monitor_error->message : NULL);
      gtk_stack_set_visible_child_name (self->drives_stack, "unavailable");
    }
  else if (g_list_model_get_n_items (self->drives) == 0)
    {
      gtk_stack_set_visible_child_name (self->drives_stack, "empty");
    }
  else
    {
      gtk_stack_set_visible_child_name (self->drives_stack, "list");
    }
  update_state (self);
}

static void
on_drive_row_active_cb (RdUsbKeysView *self)
{
  update_state (self);
}

static GtkWidget *
create_drive_row (gpointer item, gpointer user_data)
{
  RdUsbKeysView *self = user_data;
  GtkWidget *row = rd_usb_drive_row_new (RD_DRIVE (item));

  update_drive_row (self, RD_USB_DRIVE_ROW (row));
  g_signal_connect_object (row, "notify::active", G_CALLBACK (on_drive_row_active_cb), self,
                           G_CONNECT_SWAPPED);
  return row;
}

static void
on_drives_changed_cb (RdUsbKeysView *self)
{
  update_drives_page (self);
}

static void
bind_drives (RdUsbKeysView *self, GListModel *drives)
{
  if (self->drives != NULL)
    g_signal_handlers_disconnect_by_func (self->drives, on_drives_changed_cb, self);
  gtk_list_box_bind_model (self->drive_list, NULL, NULL, NULL, NULL);
  g_set_object (&self->drives, drives);
  if (drives != NULL)
    {
      gtk_list_box_bind_model (self->drive_list, drives, create_drive_row, self, NULL);
      g_signal_connect_swapped (drives, "items-changed", G_CALLBACK (on_drives_changed_cb), self);
    }
  update_drives_page (self);
}

/* The live list comes from UDisks once the view is shown, unless a model was given. */
static void
ensure_monitor (RdUsbKeysView *self)
{
  if (self->drives_injected || self->monitor != NULL || self->monitor_error != NULL)
    return;
  self->monitor = rd_drive_monitor_new (NULL, &self->monitor_error);
  bind_drives (self, G_LIST_MODEL (self->monitor));
}

/* The plan */

static void
update_plan (RdUsbKeysView *self)
{
  RdDevice *device;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  RdPlanState state;

  gtk_widget_set_visible (GTK_WIDGET (self->plan_box), self->plan != NULL);
  if (self->plan == NULL)
    return;

  device = rd_plan_get_device (self->plan);
  title = g_strdup_printf (_("USB Key for %s"), rd_plan_get_device_name (self->plan)
                                                  ? rd_plan_get_device_name (self->plan)
                                                  : rd_plan_get_device_id (self->plan));
  gtk_label_set_label (self->plan_title_label, title);
  if (device != NULL && rd_device_get_model (device) != NULL)
    /* TRANSLATORS: a device's model, its serial number, and the plan's method */
    subtitle = g_strdup_printf (_("%s · serial %s · %s"), rd_device_get_model (device),
                                rd_plan_get_device_serial (self->plan)
                                  ? rd_plan_get_device_serial (self->plan)
                                  : _("unknown"),
                                rd_method_get_title (rd_plan_get_method (self->plan)));
  else
    subtitle = g_strdup (rd_method_get_title (rd_plan_get_method (self->plan)));
  gtk_label_set_label (self->plan_subtitle_label, subtitle);

  state = rd_plan_get_state (self->plan);
  gtk_label_set_label (self->plan_state_label, rd_ui_plan_state_title (state));
  rd_ui_set_style (GTK_WIDGET (self->plan_state_label), rd_ui_plan_state_style (state));
}

static void
on_plan_state_cb (RdUsbKeysView *self)
{
  update_plan (self);
}

static void
show_plan_result (RdUsbKeysView *self, const char *text, gboolean ok)
{
  gtk_label_set_label (self->plan_result_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->plan_result_label), text != NULL);
  gtk_widget_remove_css_class (GTK_WIDGET (self->plan_result_label), ok ? "error" : "success");
  gtk_widget_add_css_class (GTK_WIDGET (self->plan_result_label), ok ? "success" : "error");
}

/* Records the first key written and verified in the plan, through the board so that it is
 * saved; the plan goes to usb-prepared. */
static void
record_key (RdUsbKeysView *self, RdImagerEvent *done)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  RdDrive *drive = NULL;
  RdDevice *device;
  const char *serial;
  gboolean ok;

  if (self->plan == NULL || done == NULL || !done->verified)
    return;
  for (guint i = 0; drive == NULL && i < self->write_rows->len; i++)
    {
      RdImagerTarget *target = rd_imager_event_get_target (done, i);

      if (target != NULL && target->ok)
        drive = rd_usb_key_progress_row_get_drive (self->write_rows->pdata[i]);
    }
  if (drive == NULL)
    return;

  name = g_path_get_basename (self->write_image_path);
  serial = rd_drive_get_serial (drive);
  device = rd_plan_get_device (self->plan);
  if (self->board != NULL && device != NULL && rd_board_get_plan (self->board, device) == self->plan)
    ok = rd_board_record_usb_key (self->board, self->plan, name, done->sha256, serial, &error);
  else
    ok = rd_plan_record_usb_key (self->plan, name, done->sha256, serial, &error);

  if (!ok)
    {
      message = g_strdup_printf (_("The key was written, but not recorded in the plan: %s"),
                                 error->message);
      show_plan_result (self, message, FALSE);
      return;
    }
  message = g_strdup_printf (_("Recorded in the plan: “%s” on the key with serial %s"), name,
                             serial != NULL && serial[0] != '\0' ? serial : _("unknown"));
  show_plan_result (self, message, TRUE);
  g_signal_emit (self, signals[SIGNAL_KEY_RECORDED], 0, self->plan);
}

/* The image */

static void
update_recent_menu (RdUsbKeysView *self)
{
  g_autoptr (GMenu) menu = g_menu_new ();
  g_auto (GStrv) recent = NULL;
  guint n = 0;

  if (self->settings != NULL)
    recent = g_settings_get_strv (self->settings, "recent-images");
  for (guint i = 0; recent != NULL && recent[i] != NULL; i++)
    {
      g_autofree char *label = NULL;
      g_autoptr (GMenuItem) item = NULL;

      if (!g_file_test (recent[i], G_FILE_TEST_IS_REGULAR))
        continue;
      label = g_path_get_basename (recent[i]);
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "usb-keys.open-recent", "s", recent[i]);
      g_menu_append_item (menu, item);
      n++;
    }
  gtk_menu_button_set_menu_model (self->recent_button, G_MENU_MODEL (menu));
  gtk_widget_set_visible (GTK_WIDGET (self->recent_button), n > 0);
}

static void
remember_image (RdUsbKeysView *self, const char *path)
{
  g_auto (GStrv) recent = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) updated = NULL;
  guint n = 1;

  if (self->settings == NULL)
    return;
  recent = g_settings_get_strv (self->settings, "recent-images");
  g_strv_builder_add (builder, path);
  for (guint i = 0; recent[i] != NULL && n < MAX_RECENT_IMAGES; i++)
    if (!g_str_equal (recent[i], path))
      {
        g_strv_builder_add (builder, recent[i]);
        n++;
      }
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-images", (const char *const *) updated);
  update_recent_menu (self);
}

static void
update_image (RdUsbKeysView *self)
{
  gboolean have = self->source != NULL;
  g_autoptr (GError) refusal = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->kind_row), have);
  gtk_widget_set_visible (GTK_WIDGET (self->size_row), have);
  gtk_widget_set_visible (GTK_WIDGET (self->sha_row), have);
  gtk_widget_set_visible (GTK_WIDGET (self->copy_sha_button), self->image_sha256 != NULL);
  update_media (self);

  if (self->image_error != NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->refusal_row),
                                     _("The image cannot be read"));
      adw_action_row_set_subtitle (self->refusal_row, self->image_error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->refusal_row), TRUE);
      return;
    }
  if (!have)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->refusal_row), FALSE);
      return;
    }

  {
    g_autofree char *kind = NULL;
    g_autofree char *size = NULL;
    g_autofree char *compressed = g_format_size (rd_image_source_get_compressed_size (self->source));
    guint64 uncompressed = rd_image_source_get_uncompressed_size (self->source);
    const char *compression = compression_title (rd_image_source_get_compression (self->source));

    if (rd_image_source_get_kind (self->source) == RD_IMAGE_KIND_WINDOWS_ISO)
      kind = g_strdup (kind_title (RD_IMAGE_KIND_WINDOWS_ISO));
    else
      /* TRANSLATORS: e.g. "Disk image with a GPT partition table" */
      kind = g_strdup_printf (_("%s with %s"), kind_title (rd_image_source_get_kind (self->source)),
                              table_title (rd_image_source_get_partition_table (self->source)));
    gtk_label_set_label (self->kind_label, kind);

    switch (rd_image_source_get_size_certainty (self->source))
      {
      case RD_SIZE_EXACT:
        size = g_format_size (uncompressed);
        break;
      case RD_SIZE_LOWER_BOUND:
        {
          g_autofree char *at_least = g_format_size (uncompressed);

          size = g_strdup_printf (_("at least %s"), at_least);
          break;
        }
      case RD_SIZE_UNKNOWN:
      default:
        size = g_strdup (_("unknown until written"));
        break;
      }
    if (compression != NULL)
      {
        g_autofree char *plain = g_steal_pointer (&size);

        /* TRANSLATORS: the image's size, then its file's size and how it is compressed */
        size = g_strdup_printf (_("%s (%s file, %s)"), plain, compressed, compression);
      }
    if (composing (self) && self->composed_size > 0)
      {
        g_autofree char *iso_size = g_steal_pointer (&size);
        g_autofree char *key_size = g_format_size (self->composed_size);

        /* TRANSLATORS: the ISO's size, then the size of the key built from it */
        size = g_strdup_printf (_("%s (the key built from it: %s)"), iso_size, key_size);
      }
    gtk_label_set_label (self->size_label, size);
  }

  if (composing (self) && self->compose_error != NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->refusal_row),
                                     _("The key cannot be built"));
      adw_action_row_set_subtitle (self->refusal_row, self->compose_error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->refusal_row), TRUE);
    }
  else if (!self->raw_writable && !composing (self)
      && rd_image_source_check_raw_writable (self->source, &refusal) == FALSE)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->refusal_row),
                                     rd_image_source_get_windows_media (self->source)
                                       ? _("Needs Windows media mode")
                                       : _("Cannot be written byte for byte"));
      adw_action_row_set_subtitle (self->refusal_row, refusal->message);
      gtk_widget_set_visible (GTK_WIDGET (self->refusal_row), TRUE);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->refusal_row), FALSE);
    }
}


/* The composed key's size */

typedef struct
{
  char *iso;
  RdMediaLayout layout;
  RdPartitionTable table;
  GStrv payloads;
} SizeJob;

static void
size_job_free (SizeJob *job)
{
  g_free (job->iso);
  g_strfreev (job->payloads);
  g_free (job);
}

static void
size_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  SizeJob *job = task_data;
  g_autoptr (RdMediaComposer) composer = rd_media_composer_new (job->iso, job->layout);
  GError *error = NULL;

  rd_media_composer_set_partition_table (composer, job->table);
  for (guint i = 0; job->payloads[i] != NULL; i++)
    rd_media_composer_add_payload (composer, job->payloads[i]);
  /* Reads the ISO's folders and the payloads' sizes; builds nothing. */
  if (!rd_media_composer_prepare (composer, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&composer), g_object_unref);
}

static void
on_size_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GWeakRef) ref = user_data;
  g_autoptr (RdUsbKeysView) self = g_weak_ref_get (ref);
  g_autoptr (GError) error = NULL;
  g_autoptr (RdMediaComposer) composer = g_task_propagate_pointer (G_TASK (result), &error);

  /* A stale sizing (the choice changed since) was cancelled and its answer is dropped. */
  if (self == NULL || g_task_get_cancellable (G_TASK (result)) != self->size_cancellable
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->size_cancellable);
  if (composer == NULL)
    {
      self->compose_error = g_steal_pointer (&error);
    }
  else
    {
      self->composed_size = rd_media_composer_get_image_size (composer);
      g_free (self->scratch_dir);
      self->scratch_dir = g_strdup (rd_media_composer_get_scratch_dir (composer));
    }
  update_rows_for_source (self);
  update_image (self);
  update_state (self);
}

/* Sizes the key built from the chosen ISO with the chosen layout, table and payloads, dropping
 * any sizing still running for an earlier choice. */
static void
start_sizing (RdUsbKeysView *self)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GStrvBuilder) payloads = g_strv_builder_new ();
  SizeJob *job;

  g_cancellable_cancel (self->size_cancellable);
  g_clear_object (&self->size_cancellable);
  g_clear_error (&self->compose_error);
  self->composed_size = 0;

  if (composing (self))
    {
      job = g_new0 (SizeJob, 1);
      job->iso = g_strdup (self->image_path);
      job->layout = chosen_layout (self);
      job->table = chosen_table (self);
      if (job->layout == RD_MEDIA_LAYOUT_WINPE_IMAGES)
        for (guint i = 0; i < self->payloads->len; i++)
          g_strv_builder_add (payloads, self->payloads->pdata[i]);
      job->payloads = g_strv_builder_end (payloads);

      self->size_cancellable = g_cancellable_new ();
      task = g_task_new (NULL, self->size_cancellable, on_size_cb, weak_ref_new (self));
      g_task_set_source_tag (task, start_sizing);
      g_task_set_task_data (task, job, (GDestroyNotify) size_job_free);
      g_task_run_in_thread (task, size_thread);
    }

  update_rows_for_source (self);
  update_image (self);
  update_state (self);
}

static void
sha_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (RdImageSource) source = NULL;
  g_autoptr (GError) error = NULL;
  char *digest;

  /* A source of its own: RdImageSource reads from one thread at a time. */
  source = rd_image_source_open (task_data, cancellable, &error);
  digest = source ? rd_image_source_compute_sha256 (source, cancellable, &error) : NULL;
  if (digest == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, digest, g_free);
}

static void
on_sha_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GWeakRef) ref = user_data;
  g_autoptr (RdUsbKeysView) self = g_weak_ref_get (ref);
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = g_task_propagate_pointer (G_TASK (result), &error);

  if (self == NULL || g_task_get_cancellable (G_TASK (result)) != self->image_cancellable
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  gtk_spinner_stop (self->sha_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->sha_spinner), FALSE);
  if (digest == NULL)
    {
      gtk_label_set_label (self->sha_label, error->message);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->sha_label), error->message);
      return;
    }
  self->image_sha256 = g_steal_pointer (&digest);
  gtk_label_set_label (self->sha_label, self->image_sha256);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sha_label), self->image_sha256);
  update_image (self);
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_SHA256]);
}

static void
inspect_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  RdImageSource *source = rd_image_source_open (task_data, cancellable, &error);

  if (source == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, source, g_object_unref);
}

static void
on_inspect_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GWeakRef) ref = user_data;
  g_autoptr (RdUsbKeysView) self = g_weak_ref_get (ref);
  g_autoptr (GError) error = NULL;
  g_autoptr (RdImageSource) source = g_task_propagate_pointer (G_TASK (result), &error);
  g_autoptr (GTask) task = NULL;

  if (self == NULL || g_task_get_cancellable (G_TASK (result)) != self->image_cancellable
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  gtk_spinner_stop (self->inspect_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->inspect_spinner), FALSE);
  if (source == NULL)
    {
      self->image_error = g_steal_pointer (&error);
      update_image (self);
      update_state (self);
      return;
    }

  self->source = g_steal_pointer (&source);
  self->raw_writable = rd_image_source_check_raw_writable (self->source, NULL);
  remember_image (self, self->image_path);
  start_sizing (self);

  gtk_label_set_label (self->sha_label, _("Computing…"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sha_label), NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->sha_spinner), TRUE);
  gtk_spinner_start (self->sha_spinner);
  task = g_task_new (NULL, self->image_cancellable, on_sha_cb, weak_ref_new (self));
  g_task_set_source_tag (task, on_inspect_cb);
  g_task_set_task_data (task, g_strdup (self->image_path), g_free);
  g_task_run_in_thread (task, sha_thread);

  update_image (self);
  update_state (self);
}

/* Write */

static RdUsbKeyProgressRow *
row_for_target (RdUsbKeysView *self, guint index)
{
  if (self->write_rows == NULL || index >= self->write_rows->len)
    return NULL;
  return self->write_rows->pdata[index];
}

static void
on_process_event_cb (RdImagerProcess *process, RdImagerEvent *event, RdUsbKeysView *self)
{
  RdUsbKeyProgressRow *row;

  switch (event->type)
    {
    case RD_IMAGER_EVENT_PHASE:
      row = row_for_target (self, event->target);
      if (row != NULL)
        rd_usb_key_progress_row_update (row, event->phase, 0, 0, 0, -1);
      break;
    case RD_IMAGER_EVENT_PROGRESS:
      for (guint i = 0; i < event->targets->len; i++)
        {
          RdImagerTarget *target = &g_array_index (event->targets, RdImagerTarget, i);
          gboolean slowest = target->phase == event->phase;

          row = row_for_target (self, target->index);
          if (row == NULL)
            continue;
          rd_usb_key_progress_row_update (
            row, target->phase,
            target->phase == RD_WRITE_PHASE_VERIFYING ? target->verified : target->written,
            event->total_known ? event->total : 0, slowest ? event->rate : 0,
            slowest && event->eta_known ? event->eta : -1);
        }
      break;
    case RD_IMAGER_EVENT_TARGET_FAILED:
      row = row_for_target (self, event->target);
      if (row != NULL)
        rd_usb_key_progress_row_set_failed (row, event->message);
      break;
    case RD_IMAGER_EVENT_DONE:
      for (guint i = 0; i < self->write_rows->len; i++)
        {
          RdImagerTarget *target = rd_imager_event_get_target (event, i);

          if (target != NULL && target->ok)
            rd_usb_key_progress_row_set_done (self->write_rows->pdata[i]);
          else
            rd_usb_key_progress_row_set_failed (self->write_rows->pdata[i],
                                                _("This key was not written."));
        }
      break;
    case RD_IMAGER_EVENT_ERROR:
      for (guint i = 0; i < self->write_rows->len; i++)
        rd_usb_key_progress_row_set_failed (self->write_rows->pdata[i], event->message);
      break;
    case RD_IMAGER_EVENT_COMPOSE_START:
    case RD_IMAGER_EVENT_COMPOSE_PROGRESS:
      for (guint i = 0; i < self->write_rows->len; i++)
        rd_usb_key_progress_row_update_step (
          self->write_rows->pdata[i],
          rd_compose_step_get_title (event->type == RD_IMAGER_EVENT_COMPOSE_START
                                       ? RD_COMPOSE_STEP_PREPARING
                                       : event->step),
          event->bytes, event->total_known ? event->total : 0);
      break;
    case RD_IMAGER_EVENT_START:
      adw_preferences_group_set_title (self->progress_group, _("Writing"));
      break;
    case RD_IMAGER_EVENT_COMPOSE_DONE:
    case RD_IMAGER_EVENT_UNKNOWN:
    default:
      break;
    }
}

static void
on_write_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GWeakRef) ref = user_data;
  g_autoptr (RdUsbKeysView) self = g_weak_ref_get (ref);
  g_autoptr (GError) error = NULL;
  gboolean cancelled;

  if (g_async_result_is_tagged (result, rd_imager_process_compose_async))
    rd_imager_process_compose_finish (RD_IMAGER_PROCESS (object), result, &error);
  else
    rd_imager_process_write_finish (RD_IMAGER_PROCESS (object), result, &error);
  if (self == NULL || RD_IMAGER_PROCESS (object) != self->process)
    return;

  cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  for (guint i = 0; i < self->write_rows->len; i++)
    {
      if (cancelled)
        rd_usb_key_progress_row_set_cancelled (self->write_rows->pdata[i]);
      else if (error != NULL)
        rd_usb_key_progress_row_set_failed (self->write_rows->pdata[i], error->message);
    }

  adw_preferences_group_set_title (self->progress_group,
                                   cancelled ? _("Stopped")
                                   : error != NULL && rd_imager_process_get_done (self->process) == NULL
                                     ? _("Not Written")
                                     : _("Written"));
  record_key (self, rd_imager_process_get_done (self->process));
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WRITING]);
}

static void
start_write (RdUsbKeysView *self)
{
  g_autoptr (GPtrArray) chosen = dup_drive_rows (self, TRUE);
  g_autoptr (GPtrArray) targets = g_ptr_array_new ();
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->progress_list))) != NULL)
    gtk_list_box_remove (self->progress_list, child);
  g_clear_pointer (&self->write_rows, g_ptr_array_unref);
  self->write_rows = g_ptr_array_new ();
  g_free (self->write_image_path);
  self->write_image_path = g_strdup (self->image_path);
  show_plan_result (self, NULL, TRUE);

  for (guint i = 0; i < chosen->len; i++)
    {
      RdDrive *drive = rd_usb_drive_row_get_drive (chosen->pdata[i]);
      GtkWidget *row = rd_usb_key_progress_row_new (drive);

      g_ptr_array_add (targets, (char *) rd_drive_get_object_path (drive));
      g_ptr_array_add (self->write_rows, row);
      gtk_list_box_append (self->progress_list, row);
    }
  g_ptr_array_add (targets, NULL);

  self->write_composes = composing (self);
  adw_preferences_group_set_title (self->progress_group, self->write_composes
                                                           ? _("Building the Key")
                                                           : _("Writing"));
  gtk_widget_set_visible (GTK_WIDGET (self->progress_group), TRUE);

  if (self->process != NULL)
    g_signal_handlers_disconnect_by_data (self->process, self);
  g_clear_object (&self->process);
  self->process = rd_imager_process_new ();
  g_signal_connect (self->process, "event", G_CALLBACK (on_process_event_cb), self);
  g_clear_object (&self->write_cancellable);
  self->write_cancellable = g_cancellable_new ();
  if (self->write_composes)
    {
      RdImagerComposeOptions options = { 0 };
      g_autoptr (GPtrArray) payloads = g_ptr_array_new ();

      for (guint i = 0; i < self->payloads->len; i++)
        g_ptr_array_add (payloads, self->payloads->pdata[i]);
      g_ptr_array_add (payloads, NULL);
      options.iso = self->write_image_path;
      options.layout = chosen_layout (self);
      options.table = chosen_table (self);
      if (options.layout == RD_MEDIA_LAYOUT_WINPE_IMAGES)
        options.payloads = (const char *const *) payloads->pdata;
      rd_imager_process_compose_async (self->process, &options,
                                       (const char *const *) targets->pdata,
                                       self->write_cancellable, on_write_cb, weak_ref_new (self));
    }
  else
    {
      rd_imager_process_write_async (self->process, self->write_image_path,
                                     (const char *const *) targets->pdata,
                                     self->write_cancellable, on_write_cb, weak_ref_new (self));
    }
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WRITING]);
}

static void
on_confirm_response_cb (AdwMessageDialog *dialog, const char *response, RdUsbKeysView *self)
{
  if (g_strcmp0 (response, "write") == 0 && !is_writing (self))
    start_write (self);
}

/* Actions */

static void
write_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (widget);
  g_autoptr (GPtrArray) chosen = dup_drive_rows (self, TRUE);
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree char *name = NULL;
  g_autofree char *heading = NULL;
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog;

  if (self->source == NULL || chosen->len == 0 || is_writing (self))
    return;

  name = g_path_get_basename (self->image_path);
  heading = g_strdup_printf (ngettext ("Erase %u USB Key?", "Erase %u USB Keys?", chosen->len),
                             chosen->len);
  if (composing (self) && chosen_layout (self) == RD_MEDIA_LAYOUT_SETUP)
    g_string_append_printf (body,
                            ngettext ("Everything on this key will be erased and replaced by a "
                                      "Windows setup key built from “%s” (%s):",
                                      "Everything on these keys will be erased and replaced by a "
                                      "Windows setup key built from “%s” (%s):",
                                      chosen->len),
                            name, chosen_table (self) == RD_PARTITION_TABLE_MBR ? "MBR" : "GPT");
  else if (composing (self))
    g_string_append_printf (body,
                            ngettext ("Everything on this key will be erased and replaced by a "
                                      "WinPE + images key built from “%s” and %u folders (%s):",
                                      "Everything on these keys will be erased and replaced by a "
                                      "WinPE + images key built from “%s” and %u folders (%s):",
                                      chosen->len),
                            name, self->payloads->len,
                            chosen_table (self) == RD_PARTITION_TABLE_MBR ? "MBR" : "GPT");
  else
    g_string_append_printf (body,
                            ngettext ("Everything on this key will be erased and replaced by "
                                      "“%s”:",
                                      "Everything on these keys will be erased and replaced by "
                                      "“%s”:",
                                      chosen->len),
                            name);
  g_string_append (body, "\n");
  for (guint i = 0; i < chosen->len; i++)
    {
      g_autofree char *description
        = rd_usb_drive_row_dup_description (rd_usb_drive_row_get_drive (chosen->pdata[i]));

      g_string_append_printf (body, "\n• %s", description);
    }

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading,
                                   body->str);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "write",
                                    _("_Erase and Write"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "write",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_confirm_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (widget);

  if (self->write_cancellable != NULL)
    g_cancellable_cancel (self->write_cancellable);
}

static void
close_chooser (RdUsbKeysView *self, GtkFileChooserNative **chooser)
{
  if (*chooser == NULL)
    return;
  g_signal_handlers_disconnect_by_data (*chooser, self);
  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (*chooser));
  g_clear_object (chooser);
}

/* The chosen file or folder's path when the chooser was accepted, else NULL. */
static char *
dup_chosen_path (GtkNativeDialog *chooser, int response)
{
  g_autoptr (GFile) file = NULL;

  if (response != GTK_RESPONSE_ACCEPT)
    return NULL;
  file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  return file ? g_file_get_path (file) : NULL;
}

/* The image chooser and the folder chooser: each open at most once, modal. */
static void
on_chooser_response_cb (GtkNativeDialog *chooser, int response, RdUsbKeysView *self)
{
  g_autofree char *path = dup_chosen_path (chooser, response);
  gboolean folder = chooser == GTK_NATIVE_DIALOG (self->folder_chooser);

  if (path != NULL && folder)
    rd_usb_keys_view_add_payload (self, path);
  else if (path != NULL)
    rd_usb_keys_view_set_image (self, path);
  close_chooser (self, folder ? &self->folder_chooser : &self->chooser);
}

static GtkFileChooserNative *
open_chooser (RdUsbKeysView        *self,
              const char           *title,
              GtkFileChooserAction  action,
              const char           *accept)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser
    = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, action,
                                   accept, _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response_cb), self);
  return chooser;
}

static void
choose_image_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (widget);
  GtkFileFilter *images = gtk_file_filter_new ();
  GtkFileFilter *all = gtk_file_filter_new ();
  static const char *const patterns[] = { "*.img", "*.raw", "*.bin", "*.iso", "*.xz", "*.gz",
                                          "*.zst", "*.bz2", "*.zip", NULL };

  if (self->chooser != NULL)
    return;

  gtk_file_filter_set_name (images, _("Disk Images"));
  for (guint i = 0; patterns[i] != NULL; i++)
    gtk_file_filter_add_pattern (images, patterns[i]);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");

  self->chooser = open_chooser (self, _("Choose an Image"), GTK_FILE_CHOOSER_ACTION_OPEN,
                                _("_Open"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), images);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  g_object_unref (images);
  g_object_unref (all);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
add_payload_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (widget);

  if (self->folder_chooser != NULL)
    return;
  self->folder_chooser = open_chooser (self, _("Add a Folder for the Images Partition"),
                                       GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Add"));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->folder_chooser));
}

static void
remove_payload_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  rd_usb_keys_view_remove_payload (RD_USB_KEYS_VIEW (widget),
                                   g_variant_get_string (parameter, NULL));
}

static void
on_layout_toggled_cb (RdUsbKeysView *self)
{
  update_media (self);
  start_sizing (self);
}

static void
on_table_selected_cb (RdUsbKeysView *self)
{
  start_sizing (self);
}

static void
open_recent_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  rd_usb_keys_view_set_image (RD_USB_KEYS_VIEW (widget), g_variant_get_string (parameter, NULL));
}

static void
copy_sha256_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (widget);

  if (self->image_sha256 != NULL)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->image_sha256);
}

static void
forget_plan_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  rd_usb_keys_view_prepare_for_plan (RD_USB_KEYS_VIEW (widget), NULL);
}

static void
on_label_selected_cb (RdUsbKeysView *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->model_row),
                          adw_combo_row_get_selected (self->label_row) == LABEL_OEM);
}

/* GObject */

static void
rd_usb_keys_view_map (GtkWidget *widget)
{
  ensure_monitor (RD_USB_KEYS_VIEW (widget));

  GTK_WIDGET_CLASS (rd_usb_keys_view_parent_class)->map (widget);
}

static void
rd_usb_keys_view_dispose (GObject *object)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (object);
  GtkWidget *child;

  g_cancellable_cancel (self->image_cancellable);
  g_clear_object (&self->image_cancellable);
  g_cancellable_cancel (self->size_cancellable);
  g_clear_object (&self->size_cancellable);
  /* Closing the view while writing stops the helper, which wipes what it had begun. */
  g_cancellable_cancel (self->write_cancellable);
  g_clear_object (&self->write_cancellable);
  if (self->process != NULL)
    g_signal_handlers_disconnect_by_data (self->process, self);
  g_clear_object (&self->process);
  g_clear_pointer (&self->write_rows, g_ptr_array_unref);
  close_chooser (self, &self->chooser);
  close_chooser (self, &self->folder_chooser);
  if (self->drives != NULL)
    g_signal_handlers_disconnect_by_func (self->drives, on_drives_changed_cb, self);
  if (self->plan != NULL)
    g_signal_handlers_disconnect_by_func (self->plan, on_plan_state_cb, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_USB_KEYS_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->drives);
  g_clear_object (&self->monitor);
  g_clear_object (&self->source);
  g_clear_object (&self->plan);
  g_clear_object (&self->board);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (rd_usb_keys_view_parent_class)->dispose (object);
}

static void
rd_usb_keys_view_finalize (GObject *object)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (object);

  g_clear_error (&self->monitor_error);
  g_clear_error (&self->image_error);
  g_clear_error (&self->compose_error);
  g_free (self->scratch_dir);
  g_free (self->image_path);
  g_free (self->image_sha256);
  g_free (self->write_image_path);
  g_ptr_array_unref (self->payloads);

  G_OBJECT_CLASS (rd_usb_keys_view_parent_class)->finalize (object);
}

static void
rd_usb_keys_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      g_value_set_object (value, self->board);
      break;
    case PROP_PLAN:
      g_value_set_object (value, self->plan);
      break;
    case PROP_DRIVES:
      g_value_set_object (value, self->drives);
      break;
    case PROP_IMAGE:
      g_value_set_string (value, self->image_path);
      break;
    case PROP_IMAGE_SHA256:
      g_value_set_string (value, self->image_sha256);
      break;
    case PROP_WRITING:
      g_value_set_boolean (value, is_writing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_usb_keys_view_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  RdUsbKeysView *self = RD_USB_KEYS_VIEW (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      rd_usb_keys_view_set_board (self, g_value_get_object (value));
      break;
    case PROP_PLAN:
      rd_usb_keys_view_prepare_for_plan (self, g_value_get_object (value));
      break;
    case PROP_DRIVES:
      rd_usb_keys_view_set_drives (self, g_value_get_object (value));
      break;
    case PROP_IMAGE:
      rd_usb_keys_view_set_image (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_usb_keys_view_class_init (RdUsbKeysViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_usb_keys_view_dispose;
  object_class->finalize = rd_usb_keys_view_finalize;
  object_class->get_property = rd_usb_keys_view_get_property;
  object_class->set_property = rd_usb_keys_view_set_property;
  widget_class->map = rd_usb_keys_view_map;

  properties[PROP_BOARD] = g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD, flags);
  properties[PROP_PLAN] = g_param_spec_object ("plan", NULL, NULL, RD_TYPE_PLAN, flags);
  properties[PROP_DRIVES] = g_param_spec_object ("drives", NULL, NULL, G_TYPE_LIST_MODEL, flags);
  properties[PROP_IMAGE] = g_param_spec_string ("image", NULL, NULL, NULL, flags);
  properties[PROP_IMAGE_SHA256]
    = g_param_spec_string ("image-sha256", NULL, NULL, NULL,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WRITING]
    = g_param_spec_boolean ("writing", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RdUsbKeysView::key-recorded:
   * @plan: the plan that now has its USB key (usb-prepared)
   */
  signals[SIGNAL_KEY_RECORDED] = g_signal_new ("key-recorded", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, RD_TYPE_PLAN);

  gtk_widget_class_install_action (widget_class, "usb-keys.choose-image", NULL,
                                   choose_image_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.write", NULL, write_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.copy-sha256", NULL, copy_sha256_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.forget-plan", NULL, forget_plan_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.add-payload", NULL, add_payload_action);
  gtk_widget_class_install_action (widget_class, "usb-keys.remove-payload", "s",
                                   remove_payload_action);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX
                                               "/rd-usb-keys-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "usbkeysview");
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, plan_box);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, plan_title_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, plan_state_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, plan_subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, plan_result_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, recent_button);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, image_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, inspect_spinner);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, kind_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, kind_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, size_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, size_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, sha_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, sha_spinner);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, sha_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, copy_sha_button);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, refusal_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, label_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, model_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, media_group);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, setup_check);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, winpe_check);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, table_row);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, payload_group);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, payload_list);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, selected_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, drives_stack);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, drive_list);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, unavailable_page);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, progress_group);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, progress_list);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, summary_label);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, RdUsbKeysView, write_button);
  gtk_widget_class_bind_template_callback (widget_class, on_label_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_layout_toggled_cb);
}

static void
rd_usb_keys_view_init (RdUsbKeysView *self)
{
  GSettingsSchemaSource *schemas = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  self->payloads = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->table_row, "notify::selected",
                            G_CALLBACK (on_table_selected_cb), self);

  /* Recent images live in the app's settings; without the schema (a test tree) there are none. */
  if (schemas != NULL)
    schema = g_settings_schema_source_lookup (schemas, SCHEMA_ID, TRUE);
  if (schema != NULL && g_settings_schema_has_key (schema, "recent-images"))
    self->settings = g_settings_new (SCHEMA_ID);

  update_recent_menu (self);
  update_image (self);
  update_plan (self);
  on_label_selected_cb (self);
  update_drives_page (self);
}

GtkWidget *
rd_usb_keys_view_new (void)
{
  return g_object_new (RD_TYPE_USB_KEYS_VIEW, NULL);
}

RdBoard *
rd_usb_keys_view_get_board (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), NULL);
  return self->board;
}

/**
 * rd_usb_keys_view_set_board:
 * @board: (nullable): the board whose plans a verified key is recorded in and saved through
 */
void
rd_usb_keys_view_set_board (RdUsbKeysView *self, RdBoard *board)
{
  g_return_if_fail (RD_IS_USB_KEYS_VIEW (self));
  g_return_if_fail (board == NULL || RD_IS_BOARD (board));

  if (g_set_object (&self->board, board))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOARD]);
}

RdPlan *
rd_usb_keys_view_get_plan (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), NULL);
  return self->plan;
}

/**
 * rd_usb_keys_view_prepare_for_plan:
 * @plan: (nullable): a Reuse plan with a reimage method, or %NULL for keys not tied to a plan
 *
 * Shows the plan's device and model at the top and labels the image as its method says (the
 * OEM image for the device's model, or the universal image). When a key is then written and
 * verified, the plan records the image's name, its SHA-256 and the key's serial, and goes to
 * usb-prepared.
 */
void
rd_usb_keys_view_prepare_for_plan (RdUsbKeysView *self, RdPlan *plan)
{
  g_return_if_fail (RD_IS_USB_KEYS_VIEW (self));
  g_return_if_fail (plan == NULL || RD_IS_PLAN (plan));
  g_return_if_fail (plan == NULL || rd_method_is_reimage (rd_plan_get_method (plan)));

  if (self->plan == plan)
    return;
  if (self->plan != NULL)
    g_signal_handlers_disconnect_by_func (self->plan, on_plan_state_cb, self);
  g_set_object (&self->plan, plan);
  if (plan != NULL)
    {
      RdDevice *device = rd_plan_get_device (plan);

      g_signal_connect_swapped (plan, "notify::state", G_CALLBACK (on_plan_state_cb), self);
      adw_combo_row_set_selected (self->label_row,
                                  rd_plan_get_method (plan) == RD_METHOD_REIMAGE_UNIVERSAL
                                    ? LABEL_UNIVERSAL
                                    : LABEL_OEM);
      if (device != NULL && rd_device_get_model (device) != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->model_row), rd_device_get_model (device));
    }
  show_plan_result (self, NULL, TRUE);
  update_plan (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAN]);
}

/**
 * rd_usb_keys_view_get_drives:
 *
 * Returns: (nullable) (transfer none): the #RdDrive list shown, or %NULL when UDisks is not
 *   available
 */
GListModel *
rd_usb_keys_view_get_drives (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), NULL);
  return self->drives;
}

/**
 * rd_usb_keys_view_set_drives:
 * @drives: (nullable): a #GListModel of #RdDrive to show instead of UDisks' removable drives
 *   (tests, or a window that shares one #RdDriveMonitor); %NULL goes back to UDisks
 */
void
rd_usb_keys_view_set_drives (RdUsbKeysView *self, GListModel *drives)
{
  g_return_if_fail (RD_IS_USB_KEYS_VIEW (self));
  g_return_if_fail (drives == NULL || G_IS_LIST_MODEL (drives));

  if (drives == self->drives && drives != NULL)
    return;
  self->drives_injected = drives != NULL;
  g_clear_object (&self->monitor);
  g_clear_error (&self->monitor_error);
  bind_drives (self, drives);
  if (drives == NULL && gtk_widget_get_mapped (GTK_WIDGET (self)))
    ensure_monitor (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DRIVES]);
}

const char *
rd_usb_keys_view_get_image (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), NULL);
  return self->image_path;
}

/**
 * rd_usb_keys_view_set_image:
 * @path: (nullable): the image file
 *
 * Inspects the image in the background, then computes its SHA-256, also in the background.
 * Choosing another image cancels both.
 */
void
rd_usb_keys_view_set_image (RdUsbKeysView *self, const char *path)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (RD_IS_USB_KEYS_VIEW (self));

  if (g_strcmp0 (self->image_path, path) == 0 || is_writing (self))
    return;

  g_cancellable_cancel (self->image_cancellable);
  g_clear_object (&self->image_cancellable);
  g_clear_object (&self->source);
  g_clear_error (&self->image_error);
  g_cancellable_cancel (self->size_cancellable);
  g_clear_object (&self->size_cancellable);
  g_clear_error (&self->compose_error);
  self->composed_size = 0;
  g_clear_pointer (&self->image_sha256, g_free);
  self->raw_writable = FALSE;
  g_free (self->image_path);
  self->image_path = g_strdup (path);
  gtk_widget_set_visible (GTK_WIDGET (self->sha_spinner), FALSE);
  gtk_spinner_stop (self->sha_spinner);

  if (path == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->image_row), _("No image chosen"));
      adw_action_row_set_subtitle (self->image_row, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->inspect_spinner), FALSE);
    }
  else
    {
      g_autofree char *name = g_path_get_basename (path);
      g_autofree char *dir = g_path_get_dirname (path);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->image_row), name);
      adw_action_row_set_subtitle (self->image_row, dir);
      gtk_widget_set_visible (GTK_WIDGET (self->inspect_spinner), TRUE);
      gtk_spinner_start (self->inspect_spinner);

      self->image_cancellable = g_cancellable_new ();
      task = g_task_new (NULL, self->image_cancellable, on_inspect_cb, weak_ref_new (self));
      g_task_set_source_tag (task, rd_usb_keys_view_set_image);
      g_task_set_task_data (task, g_strdup (path), g_free);
      g_task_run_in_thread (task, inspect_thread);
    }

  update_rows_for_source (self);
  update_image (self);
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_SHA256]);
}

/**
 * rd_usb_keys_view_get_image_sha256:
 *
 * Returns: (nullable): the SHA-256 of the chosen image, once computed
 */
const char *
rd_usb_keys_view_get_image_sha256 (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), NULL);
  return self->image_sha256;
}

gboolean
rd_usb_keys_view_get_writing (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), FALSE);
  return is_writing (self);
}

/**
 * rd_usb_keys_view_add_payload:
 * @directory: a folder whose contents go on the IMAGES partition of a WinPE + images key (the
 *   OEM recovery kit, or the universal image kit)
 *
 * What the "Add Folder…" button does once a folder is chosen; a folder already listed is not
 * added twice.
 */
void
rd_usb_keys_view_add_payload (RdUsbKeysView *self, const char *directory)
{
  g_return_if_fail (RD_IS_USB_KEYS_VIEW (self));
  g_return_if_fail (directory != NULL);

  if (is_writing (self)
      || g_ptr_array_find_with_equal_func (self->payloads, directory, g_str_equal, NULL))
    return;
  g_ptr_array_add (self->payloads, g_strdup (directory));
  rebuild_payload_list (self);
  start_sizing (self);
}

void
rd_usb_keys_view_remove_payload (RdUsbKeysView *self, const char *directory)
{
  guint index;

  g_return_if_fail (RD_IS_USB_KEYS_VIEW (self));
  g_return_if_fail (directory != NULL);

  if (is_writing (self)
      || !g_ptr_array_find_with_equal_func (self->payloads, directory, g_str_equal, &index))
    return;
  g_ptr_array_remove_index (self->payloads, index);
  rebuild_payload_list (self);
  start_sizing (self);
}

/**
 * rd_usb_keys_view_get_composed_size:
 *
 * Returns: for a Windows or WinPE ISO, the size of the key built from it with the chosen layout,
 *   table and payload folders (what each drive is judged against), once worked out; else 0
 */
guint64
rd_usb_keys_view_get_composed_size (RdUsbKeysView *self)
{
  g_return_val_if_fail (RD_IS_USB_KEYS_VIEW (self), 0);
  return composing (self) ? self->composed_size : 0;
}
