/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-application"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-application.h"
#include "rd-window.h"

struct _RdApplication
{
  AdwApplication parent_instance;

  RdBoard *board;
};

G_DEFINE_FINAL_TYPE (RdApplication, rd_application, ADW_TYPE_APPLICATION)

static void
on_quit_activated_cb (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "quit", on_quit_activated_cb },
};

static void
rd_application_startup (GApplication *application)
{
  static const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (rd_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions,
                                   G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit", quit_accels);
}

static void
rd_application_activate (GApplication *application)
{
  RdApplication *self = RD_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));

  if (window == NULL)
    window = GTK_WINDOW (rd_window_new (self));

  gtk_window_present (window);
}

static void
rd_application_dispose (GObject *object)
{
  RdApplication *self = (RdApplication *) object;

  g_clear_object (&self->board);

  G_OBJECT_CLASS (rd_application_parent_class)->dispose (object);
}

static void
rd_application_class_init (RdApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = rd_application_dispose;
  app_class->startup = rd_application_startup;
  app_class->activate = rd_application_activate;
}

static void
rd_application_init (RdApplication *self)
{
  /* Until a tenant is signed in to there is no store to keep plans in. */
  self->board = rd_board_new (NULL);
}

RdApplication *
rd_application_new (void)
{
  return g_object_new (RD_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", RESOURCE_PREFIX,
                       NULL);
}

RdBoard *
rd_application_get_board (RdApplication *self)
{
  g_return_val_if_fail (RD_IS_APPLICATION (self), NULL);

  return self->board;
}
