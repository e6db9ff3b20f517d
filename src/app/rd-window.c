/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-window"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-lane-view.h"
#include "rd-window.h"

struct _RdWindow
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;

  RdLaneView *inventory_lane;
  RdLaneView *break_fix_lane;
  RdLaneView *reuse_lane;
};

G_DEFINE_FINAL_TYPE (RdWindow, rd_window, ADW_TYPE_APPLICATION_WINDOW)

static void
save_window_state (RdWindow *self)
{
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
}

static gboolean
rd_window_close_request (GtkWindow *window)
{
  save_window_state (RD_WINDOW (window));

  return GTK_WINDOW_CLASS (rd_window_parent_class)->close_request (window);
}

static void
rd_window_dispose (GObject *object)
{
  RdWindow *self = (RdWindow *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (rd_window_parent_class)->dispose (object);
}

static void
rd_window_class_init (RdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = rd_window_dispose;
  window_class->close_request = rd_window_close_request;

  g_type_ensure (RD_TYPE_LANE_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RdWindow, inventory_lane);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, break_fix_lane);
  gtk_widget_class_bind_template_child (widget_class, RdWindow, reuse_lane);
}

static void
rd_window_init (RdWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (SCHEMA_ID);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
}

RdWindow *
rd_window_new (RdApplication *application)
{
  RdWindow *self;
  RdBoard *board;

  g_return_val_if_fail (RD_IS_APPLICATION (application), NULL);

  self = g_object_new (RD_TYPE_WINDOW, "application", application, NULL);
  board = rd_application_get_board (application);
  rd_lane_view_set_board (self->inventory_lane, board);
  rd_lane_view_set_board (self->break_fix_lane, board);
  rd_lane_view_set_board (self->reuse_lane, board);

  return self;
}
