/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-ui-test-util.h"

#include <glib/gstdio.h>

/* Helpers the ui tests share: running the main loop, finding widgets and
 * dialogs, waiting for an async call, reading what an export wrote, and
 * saving a screenshot. */

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
