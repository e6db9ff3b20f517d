/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-preferences-window.h"

#include "rd-cloud.h"

/* Where to sign in: the cloud, the tenant, the client id and the endpoint
 * overrides, kept in GSettings. An endpoint that is neither https:// nor
 * loopback is refused on its row (rd_cloud_check_endpoint()) and never
 * saved. The rows apply on Enter or their apply button, so that a
 * half-typed address is never stored. */

struct _RdPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  GSettings *settings;

  AdwComboRow *cloud_row;
  AdwEntryRow *tenant_row;
  AdwEntryRow *client_id_row;
  AdwEntryRow *graph_endpoint_row;
  AdwEntryRow *login_endpoint_row;
  GtkImage *graph_endpoint_error;
  GtkImage *login_endpoint_error;
};

G_DEFINE_FINAL_TYPE (RdPreferencesWindow, rd_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static const char *
endpoint_key (RdPreferencesWindow *self,
              AdwEntryRow         *row)
{
  return row == self->graph_endpoint_row ? "graph-endpoint" : "login-endpoint";
}

static GtkImage *
endpoint_error (RdPreferencesWindow *self,
                AdwEntryRow         *row)
{
  return row == self->graph_endpoint_row ? self->graph_endpoint_error : self->login_endpoint_error;
}

static char *
row_text (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

/* Shows on @row whether its address is acceptable; an empty one is: it
 * stands for the cloud's own endpoint. */
static gboolean
check_endpoint_row (RdPreferencesWindow *self,
                    AdwEntryRow         *row)
{
  g_autofree char *text = row_text (row);
  g_autoptr (GError) error = NULL;
  GtkImage *icon = endpoint_error (self, row);
  gboolean valid = *text == '\0' || rd_cloud_check_endpoint (text, &error);

  if (valid)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (icon), NULL);
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (icon), error->message);
    }
  gtk_widget_set_visible (GTK_WIDGET (icon), !valid);

  return valid;
}

/* Callbacks */

static void
on_cloud_row_notify_selected_cb (RdPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->cloud_row);

  if (selected != GTK_INVALID_LIST_POSITION &&
      g_settings_get_enum (self->settings, "cloud") != (int) selected)
    g_settings_set_enum (self->settings, "cloud", (int) selected);
}

static void
on_tenant_row_apply_cb (RdPreferencesWindow *self)
{
  g_autofree char *text = row_text (self->tenant_row);

  if (*text == '\0')
    g_settings_reset (self->settings, "tenant");
  else
    g_settings_set_string (self->settings, "tenant", text);
}

static void
on_client_id_row_apply_cb (RdPreferencesWindow *self)
{
  g_autofree char *text = row_text (self->client_id_row);

  if (*text == '\0')
    g_settings_reset (self->settings, "client-id");
  else
    g_settings_set_string (self->settings, "client-id", text);
}

static void
on_endpoint_row_changed_cb (RdPreferencesWindow *self,
                            GtkEditable         *editable)
{
  check_endpoint_row (self, ADW_ENTRY_ROW (editable));
}

static void
on_endpoint_row_apply_cb (RdPreferencesWindow *self,
                          AdwEntryRow         *row)
{
  g_autofree char *text = row_text (row);

  if (!check_endpoint_row (self, row))
    return;

  g_settings_set_string (self->settings, endpoint_key (self, row), text);
}

/* GObject overrides */

static void
rd_preferences_window_dispose (GObject *object)
{
  RdPreferencesWindow *self = (RdPreferencesWindow *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (rd_preferences_window_parent_class)->dispose (object);
}

static void
rd_preferences_window_class_init (RdPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/rd-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, cloud_row);
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, tenant_row);
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, client_id_row);
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, graph_endpoint_row);
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, login_endpoint_row);
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, graph_endpoint_error);
  gtk_widget_class_bind_template_child (widget_class, RdPreferencesWindow, login_endpoint_error);
  gtk_widget_class_bind_template_callback (widget_class, on_cloud_row_notify_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_tenant_row_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_client_id_row_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_endpoint_row_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_endpoint_row_apply_cb);
}

static void
rd_preferences_window_init (RdPreferencesWindow *self)
{
  g_autofree char *tenant = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *graph_endpoint = NULL;
  g_autofree char *login_endpoint = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (SCHEMA_ID);
  tenant = g_settings_get_string (self->settings, "tenant");
  client_id = g_settings_get_string (self->settings, "client-id");
  graph_endpoint = g_settings_get_string (self->settings, "graph-endpoint");
  login_endpoint = g_settings_get_string (self->settings, "login-endpoint");

  adw_combo_row_set_selected (self->cloud_row, g_settings_get_enum (self->settings, "cloud"));
  gtk_editable_set_text (GTK_EDITABLE (self->tenant_row), tenant);
  gtk_editable_set_text (GTK_EDITABLE (self->client_id_row), client_id);
  gtk_editable_set_text (GTK_EDITABLE (self->graph_endpoint_row), graph_endpoint);
  gtk_editable_set_text (GTK_EDITABLE (self->login_endpoint_row), login_endpoint);
}

/**
 * rd_preferences_window_new:
 * @parent: (nullable): the window it belongs to
 */
RdPreferencesWindow *
rd_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (RD_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
}
