/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-ui-test-util.h"

#include "rd-device-card-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* Helpers the ui tests share: running the main loop, finding widgets and
 * dialogs, waiting for an async call, reading what an export wrote,
 * saving a screenshot, clicking as the admin would, and opening a window
 * on the demo tenant. */

/* Runs the main loop for @ms milliseconds, enough for a few frames. */
void
rd_ui_test_iterate (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

/* Runs the main loop until @done (@data) holds, for at most @seconds;
 * returns whether it came to hold. */
gboolean
rd_ui_test_iterate_until (gboolean (*done) (gpointer data),
                          gpointer data,
                          guint    seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
    }

  return TRUE;
}

/* The template child @name of @widget's @type, which must be there. */
gpointer
rd_ui_test_template_child (gpointer    widget,
                           GType       type,
                           const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (child);
  return child;
}

/* Adds every descendant of @widget of @type to @found, depth first. */
void
rd_ui_test_collect (GtkWidget *widget,
                    GType      type,
                    GPtrArray *found)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        g_ptr_array_add (found, child);
      rd_ui_test_collect (child, type, found);
    }
}

/* The message dialog on screen, if any; there must not be two. */
AdwMessageDialog *
rd_ui_test_find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  AdwMessageDialog *found = NULL;
  guint n = g_list_model_get_n_items (toplevels);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        {
          g_assert_null (found);
          found = ADW_MESSAGE_DIALOG (window);
        }
    }

  return found;
}

/* A window of @width × @height showing @child, not presented yet. The
 * caller holds a reference, which rd_ui_test_close_window() drops. */
GtkWindow *
rd_ui_test_window_new (GtkWidget *child,
                       int        width,
                       int        height)
{
  GtkWindow *window = g_object_ref (GTK_WINDOW (gtk_window_new ()));

  gtk_window_set_default_size (window, width, height);
  gtk_window_set_child (window, child);

  return window;
}

/* Destroys @window, runs the main loop for @ms milliseconds so that it
 * goes away, and checks that the caller's reference was the last. */
void
rd_ui_test_close_window (gpointer window,
                         guint    ms)
{
  gtk_window_destroy (GTK_WINDOW (window));
  rd_ui_test_iterate (ms);
  g_assert_finalize_object (window);
}

/* Saves @widget, as it is drawn now, as a PNG at @path. */
void
rd_ui_test_save_screenshot (GtkWidget  *widget,
                            const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* A GAsyncReadyCallback that stores a reference to @result in the
 * GAsyncResult * that @user_data points to. */
void
rd_ui_test_async_result_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Runs the main loop until rd_ui_test_async_result_cb() has filled
 * @result in. */
GAsyncResult *
rd_ui_test_wait_for_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

/* Reads the file at @path, which must be there, and deletes it. */
char *
rd_ui_test_take_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);

  return g_steal_pointer (&text);
}

/* The last mapped button below @root whose label is @label (NULL: a
 * button without one), so the newest toast's or dialog's; or NULL. */
GtkWidget *
rd_ui_test_find_button (GtkWidget  *root,
                        const char *label)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  rd_ui_test_collect (root, GTK_TYPE_BUTTON, buttons);
  for (guint i = buttons->len; i > 0; i--)
    if (g_strcmp0 (gtk_button_get_label (buttons->pdata[i - 1]), label) == 0 &&
        gtk_widget_get_mapped (buttons->pdata[i - 1]))
      return buttons->pdata[i - 1];

  return NULL;
}

/* Clicks the button labelled @label below @root, which must be on
 * screen, as the admin would. */
void
rd_ui_test_click (GtkWidget  *root,
                  const char *label)
{
  GtkWidget *button = rd_ui_test_find_button (root, label);

  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
has_label (GtkWidget  *root,
           const char *text,
           gboolean    mapped_only)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  rd_ui_test_collect (root, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if ((!mapped_only || gtk_widget_get_mapped (labels->pdata[i])) &&
        strstr (gtk_label_get_label (labels->pdata[i]), text) != NULL)
      return TRUE;

  return FALSE;
}

/* Whether a label on screen below @root contains @text. */
gboolean
rd_ui_test_label_shows (GtkWidget  *root,
                        const char *text)
{
  return has_label (root, text, TRUE);
}

/* Whether any label below @root, on screen or not (a page not shown, a
 * list row scrolled away), contains @text. */
gboolean
rd_ui_test_label_holds (GtkWidget  *root,
                        const char *text)
{
  return has_label (root, text, FALSE);
}

/* For rd_ui_test_iterate_until(): a message dialog is on screen. */
gboolean
rd_ui_test_has_dialog (gpointer data)
{
  return rd_ui_test_find_dialog () != NULL;
}

/* For rd_ui_test_iterate_until(): no message dialog is on screen. */
gboolean
rd_ui_test_no_dialog (gpointer data)
{
  return rd_ui_test_find_dialog () == NULL;
}

/* Waits up to 10 s for a message dialog to come on screen; returns a new
 * reference to it, for rd_ui_test_close_dialog(). */
AdwMessageDialog *
rd_ui_test_wait_dialog (void)
{
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_has_dialog, NULL, 10));
  return g_object_ref (rd_ui_test_find_dialog ());
}

/* Clicks @dialog's response labelled @label and waits up to 10 s for it
 * to leave the screen. */
void
rd_ui_test_answer_dialog (AdwMessageDialog *dialog,
                          const char       *label)
{
  rd_ui_test_click (GTK_WIDGET (dialog), label);
  g_assert_true (rd_ui_test_iterate_until (rd_ui_test_no_dialog, NULL, 10));
}

/* Destroys @dialog, answered already, and checks that the reference from
 * rd_ui_test_wait_dialog() was the last. */
void
rd_ui_test_close_dialog (AdwMessageDialog *dialog)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
}

/* The card of @device in @lane, or NULL. */
RdDeviceCard *
rd_ui_test_find_card (RdLaneView *lane,
                      RdDevice   *device)
{
  g_autoptr(GPtrArray) cards = g_ptr_array_new ();

  rd_ui_test_collect (GTK_WIDGET (lane), RD_TYPE_DEVICE_CARD, cards);
  for (guint i = 0; i < cards->len; i++)
    if (rd_device_card_get_device (cards->pdata[i]) == device)
      return cards->pdata[i];

  return NULL;
}

/* @card's part called @name ("state_label", "result_box", …), which must
 * be built. */
GtkWidget *
rd_ui_test_card_part (RdDeviceCard *card,
                      const char   *name)
{
  GtkWidget *part = rd_device_card_get_part (card, name);

  g_assert_nonnull (part);
  return part;
}

/* Opens a demo session on @app, its tenant answering after @latency_msec,
 * in a new window of 1400 × 860 that starts loading it. */
void
rd_ui_test_demo_open (RdUiTestDemo  *demo,
                      RdApplication *app,
                      guint          latency_msec)
{
  g_autoptr(GError) error = NULL;

  demo->session = rd_session_new_demo (0, NULL, &error);
  g_assert_no_error (error);
  demo->demo = rd_session_get_demo (demo->session);
  rd_demo_tenant_set_latency (demo->demo, latency_msec);

  demo->window = g_object_ref (rd_window_new (app));
  gtk_window_set_default_size (GTK_WINDOW (demo->window), 1400, 860);
  demo->inventory = RD_LANE_VIEW (
    rd_ui_test_template_child (demo->window, RD_TYPE_WINDOW, "inventory_lane"));
  demo->break_fix = RD_LANE_VIEW (
    rd_ui_test_template_child (demo->window, RD_TYPE_WINDOW, "break_fix_lane"));
  demo->pane = RD_PLAN_PANE (rd_ui_test_template_child (demo->window, RD_TYPE_WINDOW, "plan_pane"));
  gtk_window_present (GTK_WINDOW (demo->window));
  rd_window_open_session (demo->window, demo->session);
}

/* For rd_ui_test_iterate_until(): the demo's sync (an RdUiTestDemo) is
 * done, and the board has its devices (the window hands them over in
 * steps, rd_board_set_devices_async()). */
gboolean
rd_ui_test_demo_synced (gpointer data)
{
  RdUiTestDemo *demo = data;
  RdTenantSync *sync = rd_session_get_sync (demo->session);
  RdBoard *board = rd_session_get_board (demo->session);

  return sync != NULL && rd_tenant_sync_get_phase (sync) == RD_SYNC_PHASE_DONE &&
         (board == NULL || !rd_board_get_pending (board));
}

/* Closes the demo's window and checks that the session and its board go
 * away with it. */
void
rd_ui_test_demo_close (RdUiTestDemo *demo)
{
  RdBoard *board = rd_session_get_board (demo->session);

  rd_ui_test_close_window (demo->window, 200);
  if (board != NULL)
    g_object_add_weak_pointer (G_OBJECT (board), (gpointer *) &board);
  g_assert_finalize_object (demo->session);
  g_assert_null (board);
}

/* For a test that opens demo sessions: points XDG_DATA_HOME and
 * XDG_CACHE_HOME at a new folder of its own (plans, audit log, inventory
 * cache), starts GTK for tests and returns a new application, registered
 * as @app_id. */
RdApplication *
rd_ui_test_demo_app_new (int         *argc,
                         char      ***argv,
                         const char  *app_id)
{
  g_autofree char *home = g_dir_make_tmp ("rd-ui-test-XXXXXX", NULL);
  g_autofree char *data = NULL;
  g_autofree char *cache = NULL;
  RdApplication *app;

  g_assert_nonnull (home);
  data = g_build_filename (home, "data", NULL);
  cache = g_build_filename (home, "cache", NULL);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  gtk_test_init (argc, argv, NULL);

  app = rd_application_new ();
  g_application_set_application_id (G_APPLICATION (app), app_id);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));

  return app;
}
