/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>

#include "rd-application.h"
#include "rd-ui-test-util.h"

/* What the application sets up as it starts: the environment that spares
 * GTK work it would throw away (rd_application_prepare_start()), and the
 * keyboard shortcuts window, built when first asked for. GTK is started
 * by the tests themselves, some in a subprocess of their own. */

static RdApplication *
new_registered_app (void)
{
  g_autoptr(GError) error = NULL;
  RdApplication *app = rd_application_new ();

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  return app;
}

/* Whether libadwaita's style sheet is loaded: GTK's own themes define no
 * card colours. */
static gboolean
has_adwaita_style (void)
{
  GtkWidget *label = g_object_ref_sink (gtk_label_new (NULL));
  GdkRGBA color;
  gboolean found;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  found = gtk_style_context_lookup_color (gtk_widget_get_style_context (label), "card_bg_color",
                                          &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_assert_finalize_object (label);

  return found;
}

/* With the cairo renderer: GTK starts without GL and without parsing its
 * default theme, then libadwaita loads its style sheet as usual, and
 * neither variable is left for the processes the app starts. */
static void
test_prepare_start_cairo (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(RdApplication) app = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *theme = NULL;

      g_setenv ("GSK_RENDERER", "cairo", TRUE);
      g_unsetenv ("GDK_DEBUG");
      g_unsetenv ("GTK_THEME");
      rd_application_prepare_start ();
      g_assert_cmpstr (g_getenv ("GDK_DEBUG"), ==, "gl-disable");
      g_assert_cmpstr (g_getenv ("GTK_THEME"), ==, "Adwaita-empty");

      g_assert_false (gtk_is_initialized ());
      app = new_registered_app ();
      g_assert_true (gtk_is_initialized ());
      g_assert_null (g_getenv ("GDK_DEBUG"));
      g_assert_null (g_getenv ("GTK_THEME"));

      g_assert_false (gdk_display_prepare_gl (gdk_display_get_default (), &error));
      g_assert_nonnull (error);
      g_object_get (gtk_settings_get_default (), "gtk-theme-name", &theme, NULL);
      g_assert_cmpstr (theme, ==, "Adwaita-empty");
      g_assert_true (has_adwaita_style ());
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Another renderer keeps GL; a GDK_DEBUG or GTK_THEME of the user's own is
 * left as it is. */
static void
test_prepare_start_own (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(RdApplication) app = NULL;

      g_setenv ("GSK_RENDERER", "cairo", TRUE);
      g_setenv ("GDK_DEBUG", "nograbs", TRUE);
      g_setenv ("GTK_THEME", "Adwaita", TRUE);
      rd_application_prepare_start ();
      g_assert_cmpstr (g_getenv ("GDK_DEBUG"), ==, "nograbs");
      g_assert_cmpstr (g_getenv ("GTK_THEME"), ==, "Adwaita");

      g_setenv ("GSK_RENDERER", "gl", TRUE);
      g_unsetenv ("GDK_DEBUG");
      rd_application_prepare_start ();
      g_assert_null (g_getenv ("GDK_DEBUG"));

      app = new_registered_app ();
      g_assert_null (g_getenv ("GDK_DEBUG"));
      g_assert_cmpstr (g_getenv ("GTK_THEME"), ==, "Adwaita");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The shortcuts window is no longer built with every main window, yet
 * Ctrl+? and the menu item still open it: built on first use, then kept
 * until the window closes. */
static void
test_help_overlay (void)
{
  g_autoptr(RdApplication) app = NULL;
  g_auto(GStrv) accels = NULL;
  GtkShortcutsWindow *overlay = NULL;
  GtkWindow *window;
  GAction *action;

  gtk_init ();
  app = new_registered_app ();

  /* GtkApplication builds "gtk/help-overlay.ui" with each window. */
  g_assert_false (g_resources_get_info (RESOURCE_PREFIX "/gtk/help-overlay.ui",
                                        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL, NULL, NULL));
  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.show-help-overlay");
  g_assert_cmpstrv (accels, ((const char *const[]){ "<Control>question", NULL }));

  window = GTK_WINDOW (g_object_ref (rd_window_new (app)));
  gtk_window_present (window);
  rd_ui_test_iterate (100);
  g_assert_null (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
  action = g_action_map_lookup_action (G_ACTION_MAP (window), "show-help-overlay");
  g_assert_nonnull (action);
  g_assert_true (g_action_get_enabled (action));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  rd_ui_test_iterate (100);
  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (overlay)) == window);
  g_object_add_weak_pointer (G_OBJECT (overlay), (gpointer *) &overlay);

  /* Closed, it hides; asked for again, the same one shows. */
  gtk_window_close (GTK_WINDOW (overlay));
  rd_ui_test_iterate (50);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  g_assert_true (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)) ==
                 overlay);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));

  rd_ui_test_close_window (window, 250);
  g_assert_null (overlay);
}

int
main (int   argc,
      char *argv[])
{
  /* Not gtk_test_init(): the start tests start GTK in a subprocess. */
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/application/prepare-start/cairo", test_prepare_start_cairo);
  g_test_add_func ("/rd/application/prepare-start/own", test_prepare_start_own);
  g_test_add_func ("/rd/application/help-overlay", test_help_overlay);

  return g_test_run ();
}
