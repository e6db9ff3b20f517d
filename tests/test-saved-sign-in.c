/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "rd-application.h"
#include "rd-board.h"
#include "rd-demo-tenant.h"
#include "rd-entra-auth-private.h"
#include "rd-entra-auth.h"
#include "rd-session.h"
#include "rd-tenant-sync.h"
#include "rd-window.h"

#include "rd-ui-test-util.h"

/* A start with a sign-in saved in the keyring (a private gnome-keyring,
 * tests/graph/keyring-session.sh): the window reads it without the
 * network, opens the tenant's cached inventory at once, and lets the
 * refresh that follows get the first access token. Offline, the cached
 * devices stay, marked stale; a sign-in revoked meanwhile leads to the
 * sign-in page, saying why. */

static RdApplication *app;

/* Points the settings the window's session is made from at @tenant. */
static void
use_tenant (RdDemoTenant *tenant)
{
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autofree char *graph_url = rd_demo_tenant_dup_graph_url (tenant);
  g_autofree char *login_url = rd_demo_tenant_dup_login_url (tenant);

  g_assert_true (g_str_has_suffix (graph_url, "/v1.0"));
  graph_url[strlen (graph_url) - strlen ("/v1.0")] = '\0';
  g_assert_true (g_settings_set_string (settings, "graph-endpoint", graph_url));
  g_assert_true (g_settings_set_string (settings, "login-endpoint", login_url));
}

static RdDemoTenant *
start_tenant (void)
{
  RdDemoTenant *tenant = rd_demo_tenant_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (rd_demo_tenant_load (tenant, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rd_demo_tenant_start (tenant, &error));
  g_assert_no_error (error);
  rd_demo_tenant_set_device_code_interval (tenant, 1);
  rd_demo_tenant_set_device_code_pending (tenant, 0);
  use_tenant (tenant);

  return tenant;
}

static RdSession *
session_from_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autofree char *graph = g_settings_get_string (settings, "graph-endpoint");
  g_autofree char *login = g_settings_get_string (settings, "login-endpoint");
  g_autoptr(GError) error = NULL;
  RdSession *session = rd_session_new (NULL, graph, login, NULL, NULL, &error);

  g_assert_no_error (error);
  return session;
}

/* Signs in to the tenant the settings name, as the sign-in page does,
 * which saves the sign-in; with @sync, a sync leaves its inventory in the
 * cache. Returns the number of devices synced. */
static guint
sign_in (gboolean sync)
{
  g_autoptr(RdSession) session = session_from_settings ();
  g_autoptr(RdEntraDeviceCode) code = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;
  RdEntraAuth *auth = rd_session_get_auth (session, &error);

  g_assert_no_error (error);
  rd_entra_auth_set_poll_interval_scale (auth, 0.01);
  rd_entra_auth_begin_device_code_async (auth, NULL, rd_ui_test_async_result_cb, &result);
  code = rd_entra_auth_begin_device_code_finish (auth, rd_ui_test_wait_for_result (&result),
                                                 &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  rd_entra_auth_complete_device_code_async (auth, code, NULL, rd_ui_test_async_result_cb, &result);
  g_assert_true (rd_entra_auth_complete_device_code_finish (
    auth, rd_ui_test_wait_for_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  if (!sync)
    return 0;

  g_assert_true (rd_session_connect_with_auth (session, &error));
  g_assert_no_error (error);
  rd_tenant_sync_run_async (rd_session_get_sync (session), NULL, rd_ui_test_async_result_cb,
                            &result);
  devices = rd_tenant_sync_run_finish (rd_session_get_sync (session),
                                       rd_ui_test_wait_for_result (&result), &error);
  g_assert_no_error (error);
  rd_tenant_sync_flush_cache (rd_session_get_sync (session));

  return devices->len;
}

static GtkStack *
main_stack (RdWindow *window)
{
  return GTK_STACK (rd_ui_test_template_child (window, RD_TYPE_WINDOW, "main_stack"));
}

typedef struct
{
  RdWindow *window;
  guint n_devices;
} Expect;

/* The board holds the cached devices, and the refresh is over. */
static gboolean
cached_board_shown (gpointer data)
{
  Expect *expect = data;
  RdBoard *board = rd_window_get_board (expect->window);
  GtkWidget *refresh = rd_ui_test_template_child (expect->window, RD_TYPE_WINDOW,
                                                  "stale_revealer");

  return board != NULL &&
         g_list_model_get_n_items (rd_board_get_lane (board, RD_LANE_INVENTORY)) ==
           expect->n_devices &&
         gtk_revealer_get_reveal_child (GTK_REVEALER (refresh)) &&
         rd_ui_test_label_shows (GTK_WIDGET (expect->window), "may be out of date");
}

static gboolean
sign_in_shown (gpointer data)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (main_stack (data)), "sign-in") == 0;
}

static gboolean
sign_in_shown_plainly (gpointer data)
{
  return sign_in_shown (data) && !rd_ui_test_label_shows (GTK_WIDGET (data), "was revoked");
}

static void
test_offline (void)
{
  g_autoptr(RdDemoTenant) tenant = start_tenant ();
  Expect expect = { 0 };

  expect.n_devices = sign_in (TRUE);
  g_assert_cmpuint (expect.n_devices, >, 0);

  /* Entra ID and Graph are gone. */
  rd_demo_tenant_stop (tenant);

  expect.window = g_object_ref (rd_window_new (app));
  gtk_window_present (GTK_WINDOW (expect.window));
  rd_window_open_session (expect.window, NULL);
  g_assert_true (rd_ui_test_iterate_until (cached_board_shown, &expect, 20));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (main_stack (expect.window)), ==, "content");
  /* Who is signed in, from the keyring. */
  g_assert_nonnull (strchr (gtk_label_get_label (GTK_LABEL (rd_ui_test_template_child (
                              expect.window, RD_TYPE_WINDOW, "account_user_label"))),
                            '@'));
  g_assert_true (rd_ui_test_label_shows (GTK_WIDGET (expect.window), "could not be loaded"));

  rd_ui_test_close_window (expect.window, 200);
}

/* The tenant restarted: the saved refresh token means nothing to it. */
static void
test_revoked (void)
{
  g_autoptr(RdDemoTenant) tenant = start_tenant ();
  g_autoptr(RdDemoTenant) restarted = NULL;
  RdWindow *window;

  sign_in (FALSE);
  rd_demo_tenant_stop (tenant);
  restarted = start_tenant ();

  window = g_object_ref (rd_window_new (app));
  gtk_window_present (GTK_WINDOW (window));
  rd_window_open_session (window, NULL);
  g_assert_true (rd_ui_test_iterate_until (sign_in_shown, window, 20));
  g_assert_null (rd_window_get_board (window));
  /* The demo tenant's answer to a refresh token it never issued. */
  g_assert_true (rd_ui_test_label_shows (GTK_WIDGET (window), "was revoked"));

  /* Forgotten: the next start asks for a sign-in without an error (once it
   * has looked in the keyring, which takes a while on a loaded machine). */
  rd_window_open_session (window, NULL);
  g_assert_true (rd_ui_test_iterate_until (sign_in_shown_plainly, window, 20));
  rd_ui_test_iterate (300);
  g_assert_true (sign_in_shown (window));
  g_assert_false (rd_ui_test_label_shows (GTK_WIDGET (window), "was revoked"));

  rd_ui_test_close_window (window, 200);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  app = rd_ui_test_demo_app_new (&argc, &argv, "io.github.recoverydesk.SavedSignInTest");

  g_test_add_func ("/rd/saved-sign-in/offline", test_offline);
  g_test_add_func ("/rd/saved-sign-in/revoked", test_revoked);

  status = g_test_run ();

  g_clear_object (&app);
  return status;
}
