/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gtk/gtk.h>

#include "rd-application.h"
#include "rd-lane-view.h"
#include "rd-window.h"

/* The @skip-th descendant of @widget of @type, depth first. */
static GtkWidget *
find_nth (GtkWidget *widget,
          GType      type,
          guint     *skip)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type) && (*skip)-- == 0)
        return child;
      found = find_nth (child, type, skip);
      if (found != NULL)
        return found;
    }

  return NULL;
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type,
                 guint      skip)
{
  return find_nth (widget, type, &skip);
}

static void
collect_lanes (GtkWidget  *widget,
               GPtrArray  *lanes)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (RD_IS_LANE_VIEW (child))
        g_ptr_array_add (lanes, child);
      else
        collect_lanes (child, lanes);
    }
}

static const char *
lane_page (RdLaneView *lane)
{
  GtkStack *stack = GTK_STACK (find_descendant (GTK_WIDGET (lane), GTK_TYPE_STACK, 0));

  return gtk_stack_get_visible_child_name (stack);
}

static const char *
lane_count (RdLaneView *lane)
{
  /* The second label of the lane's header is its count. */
  return gtk_label_get_label (GTK_LABEL (find_descendant (GTK_WIDGET (lane), GTK_TYPE_LABEL, 1)));
}

static void
wait_for_frames (GtkWidget *widget)
{
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC / 4;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
save_screenshot (GtkWidget  *widget,
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
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

static RdDevice *
make_device (const char *id,
             const char *name)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_object_new (RD_TYPE_DEVICE,
                       "id", id, "name", name, "model", "EliteBook 840 G8",
                       "operating-system", "Windows", "os-version", "10.0.22631.4460",
                       "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", RD_JOIN_TYPE_ENTRA_JOINED, "last-sync", now,
                       NULL);
}

static void
test_window_lanes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdApplication) app = rd_application_new ();
  g_autoptr(GPtrArray) lanes = g_ptr_array_new ();
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  RdWindow *window;
  RdBoard *board;
  const char *screenshot = g_getenv ("RD_SCREENSHOT");

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  window = g_object_ref (rd_window_new (app));
  gtk_window_present (GTK_WINDOW (window));
  wait_for_frames (GTK_WIDGET (window));

  collect_lanes (GTK_WIDGET (window), lanes);
  g_assert_cmpuint (lanes->len, ==, 3);
  g_assert_cmpint (rd_lane_view_get_lane (lanes->pdata[0]), ==, RD_LANE_INVENTORY);
  g_assert_cmpint (rd_lane_view_get_lane (lanes->pdata[1]), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpint (rd_lane_view_get_lane (lanes->pdata[2]), ==, RD_LANE_REUSE);

  /* Empty board: every lane shows its empty state. */
  for (guint i = 0; i < lanes->len; i++)
    {
      g_assert_cmpstr (lane_page (lanes->pdata[i]), ==, "empty");
      g_assert_cmpstr (lane_count (lanes->pdata[i]), ==, "0");
    }

  /* The lanes follow the board's models. */
  board = rd_application_get_board (app);
  g_ptr_array_add (devices, make_device ("d1", "HR-LT-001"));
  g_ptr_array_add (devices, make_device ("d2", "HR-LT-002"));
  rd_board_set_devices (board, devices);
  g_assert_true (rd_board_move_device (board, devices->pdata[1], RD_LANE_BREAK_FIX, &error));
  g_assert_no_error (error);
  wait_for_frames (GTK_WIDGET (window));

  g_assert_cmpstr (lane_page (lanes->pdata[0]), ==, "list");
  g_assert_cmpstr (lane_count (lanes->pdata[0]), ==, "1");
  g_assert_cmpstr (lane_page (lanes->pdata[1]), ==, "list");
  g_assert_cmpstr (lane_count (lanes->pdata[1]), ==, "1");
  g_assert_cmpstr (lane_page (lanes->pdata[2]), ==, "empty");

  if (screenshot != NULL)
    save_screenshot (GTK_WIDGET (window), screenshot);

  gtk_window_destroy (GTK_WINDOW (window));
  wait_for_frames (NULL);
  g_assert_finalize_object (window);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/window/lanes", test_window_lanes);

  return g_test_run ();
}
