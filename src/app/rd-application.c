/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-application"

#include "config.h"


#include <glib/gi18n.h>

#include "rd-application.h"
#include "rd-malloc.h"

#include "rd-preferences-window.h"
#include "rd-session.h"
#include "rd-window.h"

/* The application: its command line (`--demo[=N]`), the app-wide actions
 * (preferences, about, quit) and the main window, which it hands the
 * session to show. The style follows the system's dark preference through
 * AdwStyleManager's default color scheme. */

struct _RdApplication
{
  AdwApplication parent_instance;

  RdBoard *board;
  RdSession *start_session; /* opened as the app started, for the first window */
  char *start_error;        /* why the demo tenant could not start */
  guint n_flushing; /* cache writes the app waits for before it exits */
  gboolean quit_pending;
  gboolean demo;
  guint demo_devices; /* 0: the bundled demo data */
};

G_DEFINE_FINAL_TYPE (RdApplication, rd_application, ADW_TYPE_APPLICATION)

static gboolean
parse_demo_cb (const char  *option_name,
               const char  *value,
               gpointer     user_data,
               GError     **error)
{
  RdApplication *self = RD_APPLICATION (user_data);
  guint64 n = 0;

  if (value != NULL &&
      (!g_ascii_string_to_unsigned (value, 10, 1, 1000000, &n, NULL)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--demo takes a number of devices from 1 to 1000000, not “%s”"), value);
      return FALSE;
    }

  self->demo = TRUE;
  self->demo_devices = (guint) n;
  return TRUE;
}

/* Actions */

static void
on_quit_activated_cb (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  GtkApplication *application = GTK_APPLICATION (user_data);
  g_autoptr(GPtrArray) windows = g_ptr_array_new_with_free_func (g_object_unref);

  /* Closing the main windows saves their size and view. */
  for (GList *l = gtk_application_get_windows (application); l != NULL; l = l->next)
    if (RD_IS_WINDOW (l->data))
      g_ptr_array_add (windows, g_object_ref (l->data));
  for (guint i = 0; i < windows->len; i++)
    gtk_window_close (windows->pdata[i]);

  /* A sync writes its cache after it hands the inventory over: closing a
   * window starts waiting for that write, and the app quits when it ends,
   * so that the next start opens on this inventory. */
  if (RD_APPLICATION (application)->n_flushing > 0)
    RD_APPLICATION (application)->quit_pending = TRUE;
  else
    g_application_quit (G_APPLICATION (application));
}

static void
on_preferences_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  gtk_window_present (GTK_WINDOW (rd_preferences_window_new (parent)));
}

static void
on_about_activated_cb (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  static const char *developers[] = { "The Recovery Desk developers", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  adw_show_about_window (parent,
                         "application-name", _("Recovery Desk"),
                         "application-icon", APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "developer-name", _("The Recovery Desk developers"),
                         "developers", developers,
                         "comments", _("Triage, wipe and reimage the Windows PCs your "
                                       "organization manages with Microsoft Intune, and review "
                                       "their BitLocker readiness."),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

/* The keyboard shortcuts window, built the first time it is asked for
 * rather than with every main window (GtkApplication builds a
 * "gtk/help-overlay.ui" resource as it adds each window: 10 ms of a start).
 * Once built, GtkApplicationWindow keeps it and closes it with the window. */
static void
on_show_help_overlay_activated_cb (GSimpleAction *action,
                                   GVariant      *parameter,
                                   gpointer       user_data)
{
  GtkApplicationWindow *window = GTK_APPLICATION_WINDOW (user_data);
  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (window);

  if (overlay == NULL)
    {
      g_autoptr(GtkBuilder) builder =
        gtk_builder_new_from_resource (RESOURCE_PREFIX "/help-overlay.ui");

      overlay = GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay"));
      gtk_application_window_set_help_overlay (window, overlay);
    }

  gtk_window_present (GTK_WINDOW (overlay));
}

static const GActionEntry app_actions[] = {
  { "quit", on_quit_activated_cb },
  { "preferences", on_preferences_activated_cb },
  { "about", on_about_activated_cb },
};

static RdSession *
new_demo_session (RdApplication  *self,
                  char          **error_message)
{
  g_autoptr(GError) error = NULL;
  RdSession *session = rd_session_new_demo (self->demo_devices, NULL, &error);

  if (session == NULL)
    *error_message = g_strdup_printf (_("The demo tenant could not start: %s"), error->message);

  return session;
}

/* The session a start opens when it can tell which tenant that is without
 * asking anyone: the demo tenant, or a token's. The read of its cached
 * inventory then starts before GTK does, on a thread of its own, and runs
 * while GTK starts and the window is built. Other starts (a saved sign-in
 * restored through the Secret Service) leave it to the window. */
static void
open_start_session (RdApplication *self)
{
  const char *token = g_getenv ("RECOVERY_DESK_ACCESS_TOKEN");
  g_autoptr(RdSession) session = NULL;

  if (self->demo)
    {
      session = new_demo_session (self, &self->start_error);
      if (session == NULL)
        return;
      if (!rd_session_connect_demo (session, NULL))
        {
          /* The window connects it again, and says why that failed. */
          self->start_session = g_steal_pointer (&session);
          return;
        }
    }
  else if (token != NULL && *token != '\0')
    {
      g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
      g_autofree char *cloud = g_settings_get_string (settings, "cloud");
      g_autofree char *graph_endpoint = g_settings_get_string (settings, "graph-endpoint");
      g_autofree char *login_endpoint = g_settings_get_string (settings, "login-endpoint");
      g_autofree char *tenant = g_settings_get_string (settings, "tenant");
      g_autofree char *client_id = g_settings_get_string (settings, "client-id");

      /* Settings that do not pass: the window says what to fix. */
      session = rd_session_new (cloud, graph_endpoint, login_endpoint, tenant, client_id, NULL);
      if (session == NULL || !rd_session_connect_with_token (session, token, NULL))
        return;
    }
  else
    return;

  rd_tenant_sync_prefetch_cache (rd_session_get_sync (session));
  self->start_session = g_steal_pointer (&session);
}

/* The start's environment */

static gboolean start_set_gdk_debug;
static gboolean start_set_gtk_theme;

/**
 * rd_application_prepare_start:
 *
 * Spares a start two pieces of GTK set-up whose results are thrown away;
 * main() calls it first, while the process has a single thread (setting
 * the environment later could race with another thread reading it).
 *
 * - With `GSK_RENDERER=cairo` nothing is drawn with GL, yet GTK 4.8 sets
 *   GL up as it opens an X11 display, to pick a visual: 50–100 ms here.
 *   `GDK_DEBUG=gl-disable` skips that; GDK then picks the same 32-bit
 *   visual from the X server's list.
 * - GTK parses its default theme as it starts (about 25 ms), then
 *   libadwaita replaces it with its empty "Adwaita-empty" theme and its own
 *   style sheet. `GTK_THEME=Adwaita-empty` has GTK load the empty theme
 *   first; it is dropped again before libadwaita starts, which only loads
 *   its style sheet when `GTK_THEME` is unset.
 *
 * A `GDK_DEBUG` or `GTK_THEME` of the user's own is left as it is. Both
 * are dropped once GTK has started (see rd_application_startup()), so that
 * the processes the app starts do not inherit them.
 *
 * It also sets malloc() up (see rd_malloc_tune()).
 */
void
rd_application_prepare_start (void)
{
  const char *renderer = g_getenv ("GSK_RENDERER");

  rd_malloc_tune ();

  if (renderer != NULL && g_ascii_strcasecmp (renderer, "cairo") == 0 &&
      g_getenv ("GDK_DEBUG") == NULL)
    start_set_gdk_debug = g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
  if (g_getenv ("GTK_THEME") == NULL)
    start_set_gtk_theme = g_setenv ("GTK_THEME", "Adwaita-empty", FALSE);
}

/* Starts GTK with the environment rd_application_prepare_start() set, then
 * drops it (see there). Dropping a variable cannot make a concurrent
 * getenv() read freed memory, as adding one can. */
static void
start_gtk (void)
{
  if (!gtk_is_initialized ())
    {
      gtk_init ();
      /* The display's settings load the theme as they are made. */
      gtk_settings_get_default ();
    }
  if (start_set_gdk_debug)
    g_unsetenv ("GDK_DEBUG");
  if (start_set_gtk_theme)
    g_unsetenv ("GTK_THEME");
  start_set_gdk_debug = FALSE;
  start_set_gtk_theme = FALSE;
}

/* GApplication overrides */

static int
rd_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  RdApplication *self = RD_APPLICATION (application);

  /* The demo tenant runs inside this process: a demo is its own instance,
   * never handed to a window already open on a real tenant. */
  if (self->demo)
    g_application_set_flags (application,
                             g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);

  return -1;
}

static void
rd_application_startup (GApplication *application)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };
  static const char *help_overlay_accels[] = { "<Control>question", NULL };

  /* main() has set the locale; GTK setting it again while the prefetch
   * thread reads locale data would race with it. */
  if (!gtk_is_initialized ())
    gtk_disable_setlocale ();
  open_start_session (RD_APPLICATION (application));
  start_gtk ();

  G_APPLICATION_CLASS (rd_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions,
                                   G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.preferences",
                                         preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "win.show-help-overlay",
                                         help_overlay_accels);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_DEFAULT);
}

static void
rd_application_activate (GApplication *application)
{
  RdApplication *self = RD_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));
  g_autoptr(RdSession) session = g_steal_pointer (&self->start_session);
  g_autofree char *start_error = g_steal_pointer (&self->start_error);

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }

  window = GTK_WINDOW (rd_window_new (self));
  /* A later window, once the first has closed, opens a demo of its own. */
  if (session == NULL && start_error == NULL && self->demo)
    session = new_demo_session (self, &start_error);
  if (start_error != NULL)
    rd_window_show_toast (RD_WINDOW (window), start_error);

  rd_window_open_session (RD_WINDOW (window), session);
  gtk_window_present (window);
}

static void
rd_application_window_added (GtkApplication *application,
                             GtkWindow      *window)
{
  static const GActionEntry window_actions[] = {
    { "show-help-overlay", on_show_help_overlay_activated_cb },
  };

  GTK_APPLICATION_CLASS (rd_application_parent_class)->window_added (application, window);

  if (GTK_IS_APPLICATION_WINDOW (window) &&
      g_action_map_lookup_action (G_ACTION_MAP (window), "show-help-overlay") == NULL)
    g_action_map_add_action_entries (G_ACTION_MAP (window), window_actions,
                                     G_N_ELEMENTS (window_actions), window);
}

static void
rd_application_dispose (GObject *object)
{
  RdApplication *self = (RdApplication *) object;

  g_clear_object (&self->board);
  g_clear_object (&self->start_session);
  g_clear_pointer (&self->start_error, g_free);

  G_OBJECT_CLASS (rd_application_parent_class)->dispose (object);
}

static void
rd_application_class_init (RdApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  GtkApplicationClass *gtk_app_class = GTK_APPLICATION_CLASS (klass);

  object_class->dispose = rd_application_dispose;
  app_class->handle_local_options = rd_application_handle_local_options;
  app_class->startup = rd_application_startup;
  app_class->activate = rd_application_activate;
  gtk_app_class->window_added = rd_application_window_added;
}

static void
rd_application_init (RdApplication *self)
{
  /* An option group, rather than main entries, so that the callback gets
   * the application; IN_MAIN lists --demo in the plain --help. */
  const GOptionEntry entries[] = {
    { "demo", 0, G_OPTION_FLAG_IN_MAIN | G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
      parse_demo_cb,
      N_("Explore a demo tenant running inside the app, with its bundled devices or N "
         "generated ones"),
      N_("N") },
    { NULL }
  };
  GOptionGroup *group = g_option_group_new ("recovery-desk", _("Recovery Desk Options"),
                                            _("Show the Recovery Desk options"), self, NULL);

  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_application_add_option_group (G_APPLICATION (self), group);

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

static void
on_flush_cache_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(RdApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!rd_tenant_sync_flush_cache_finish (RD_TENANT_SYNC (source), result, &error))
    g_warning ("Waiting for the inventory cache failed: %s", error->message);

  g_application_release (G_APPLICATION (self));
  if (--self->n_flushing == 0 && self->quit_pending)
    {
      self->quit_pending = FALSE;
      g_application_quit (G_APPLICATION (self));
    }
}

/**
 * rd_application_flush_cache:
 * @sync: a sync whose last inventory may still be on its way to the cache
 *
 * Keeps the application running until that inventory is in the cache (or
 * its write failed), without blocking the main loop; app.quit waits too.
 */
void
rd_application_flush_cache (RdApplication *self,
                            RdTenantSync  *sync)
{
  g_return_if_fail (RD_IS_APPLICATION (self));
  g_return_if_fail (RD_IS_TENANT_SYNC (sync));

  self->n_flushing++;
  g_application_hold (G_APPLICATION (self));
  rd_tenant_sync_flush_cache_async (sync, NULL, on_flush_cache_cb, g_object_ref (self));
}

/**
 * rd_application_get_flushing:
 *
 * Returns: whether the application waits for a cache write
 */
gboolean
rd_application_get_flushing (RdApplication *self)
{
  g_return_val_if_fail (RD_IS_APPLICATION (self), FALSE);

  return self->n_flushing > 0;
}
