/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>

#include "rd-preferences-window.h"
#include "rd-ui-test-util.h"

/* The preferences save what is acceptable and refuse, on the row, an
 * endpoint that is neither https:// nor loopback. */

static GObject *
template_child (gpointer    widget,
                const char *name)
{
  return rd_ui_test_template_child (widget, RD_TYPE_PREFERENCES_WINDOW, name);
}

static char *
setting (GSettings  *settings,
         const char *key)
{
  return g_settings_get_string (settings, key);
}

static void
test_preferences_endpoints (void)
{
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
  RdPreferencesWindow *window = g_object_ref_sink (rd_preferences_window_new (NULL));
  GtkWidget *row = GTK_WIDGET (template_child (window, "graph_endpoint_row"));
  GtkWidget *icon = GTK_WIDGET (template_child (window, "graph_endpoint_error"));
  GtkWidget *login_row = GTK_WIDGET (template_child (window, "login_endpoint_row"));
  g_autofree char *value = NULL;

  gtk_window_present (GTK_WINDOW (window));
  rd_ui_test_iterate (100);

  /* http:// to a remote host: shown as an error, not saved. */
  gtk_editable_set_text (GTK_EDITABLE (row), "http://graph.example.com");
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_true (gtk_widget_get_visible (icon));
  g_assert_nonnull (gtk_widget_get_tooltip_text (icon));
  g_signal_emit_by_name (row, "apply");
  value = setting (settings, "graph-endpoint");
  g_assert_cmpstr (value, ==, "");
  g_clear_pointer (&value, g_free);

  /* https:// is saved, and the error goes. */
  gtk_editable_set_text (GTK_EDITABLE (row), "https://graph.microsoft.us");
  g_assert_false (gtk_widget_has_css_class (row, "error"));
  g_assert_false (gtk_widget_get_visible (icon));
  g_signal_emit_by_name (row, "apply");
  value = setting (settings, "graph-endpoint");
  g_assert_cmpstr (value, ==, "https://graph.microsoft.us");
  g_clear_pointer (&value, g_free);

  /* Loopback over http:// is the demo tenant's, and allowed. */
  gtk_editable_set_text (GTK_EDITABLE (login_row), "http://127.0.0.1:8080");
  g_assert_false (gtk_widget_has_css_class (login_row, "error"));
  g_signal_emit_by_name (login_row, "apply");
  value = setting (settings, "login-endpoint");
  g_assert_cmpstr (value, ==, "http://127.0.0.1:8080");
  g_clear_pointer (&value, g_free);

  /* Empty goes back to the cloud's own. */
  gtk_editable_set_text (GTK_EDITABLE (row), "");
  g_signal_emit_by_name (row, "apply");
  value = setting (settings, "graph-endpoint");
  g_assert_cmpstr (value, ==, "");

  g_settings_reset (settings, "login-endpoint");
  rd_ui_test_close_window (window, 50);
}

static void
test_preferences_sign_in (void)
{
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
  RdPreferencesWindow *window = g_object_ref_sink (rd_preferences_window_new (NULL));
  AdwComboRow *cloud = ADW_COMBO_ROW (template_child (window, "cloud_row"));
  GtkWidget *tenant = GTK_WIDGET (template_child (window, "tenant_row"));
  g_autofree char *value = NULL;

  /* The rows start from the settings. */
  g_assert_cmpuint (adw_combo_row_get_selected (cloud), ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (tenant)), ==, "organizations");

  adw_combo_row_set_selected (cloud, 1);
  g_assert_cmpint (g_settings_get_enum (settings, "cloud"), ==, 1);

  gtk_editable_set_text (GTK_EDITABLE (tenant), "  contoso.onmicrosoft.com ");
  g_signal_emit_by_name (tenant, "apply");
  value = g_settings_get_string (settings, "tenant");
  g_assert_cmpstr (value, ==, "contoso.onmicrosoft.com");

  g_settings_reset (settings, "cloud");
  g_settings_reset (settings, "tenant");
  rd_ui_test_close_window (window, 50);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/rd/preferences-window/endpoints", test_preferences_endpoints);
  g_test_add_func ("/rd/preferences-window/sign-in", test_preferences_sign_in);

  return g_test_run ();
}
