/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gtk/gtk.h>

#include "rd-application.h"
#include "rd-device-card.h"
#include "rd-lane-view.h"
#include "rd-plan-pane.h"
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
  GObject *stack = gtk_widget_get_template_child (GTK_WIDGET (lane), RD_TYPE_LANE_VIEW, "stack");

  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

static const char *
lane_count (RdLaneView *lane)
{
  GObject *label = gtk_widget_get_template_child (GTK_WIDGET (lane), RD_TYPE_LANE_VIEW,
                                                  "count_label");

  return gtk_label_get_label (GTK_LABEL (label));
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

  gtk_window_destroy (GTK_WINDOW (window));
  wait_for_frames (NULL);
  g_assert_finalize_object (window);
}

static RdDevice *
make_fleet_device (const char  *id,
                   const char  *name,
                   const char  *model,
                   const char  *user,
                   int          days_since_sync,
                   RdTristate   encrypted,
                   RdTristate   autopilot,
                   RdCompliance compliance,
                   RdJoinType   join_type)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) last_sync = g_date_time_add_hours (now, -24 * days_since_sync - 3);

  return g_object_new (RD_TYPE_DEVICE,
                       "id", id, "name", name, "model", model, "user-display-name", user,
                       "operating-system", "Windows", "os-version", "10.0.22631.4460",
                       "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", join_type, "last-sync", last_sync,
                       "encrypted", encrypted, "escrowed-keys", encrypted == RD_TRISTATE_YES ? 1 : 0,
                       "autopilot", autopilot, "compliance", compliance,
                       "winre-state", RD_WINRE_STATE_CONFIGURED,
                       "management-state", RD_MANAGEMENT_STATE_MANAGED,
                       NULL);
}

/* A board as an admin sees it: cards with their badges in every lane and a
 * plan open. RD_SCREENSHOT=file.png saves it. */
static void
test_window_board (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdApplication) app = rd_application_new ();
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  const char *screenshot = g_getenv ("RD_SCREENSHOT");
  RdLaneView *reuse;
  RdPlanPane *pane;
  RdWindow *window;
  RdBoard *board;
  RdDevice *hybrid;

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_set_application_id (G_APPLICATION (app), "io.github.recoverydesk.BoardTest");
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  board = rd_application_get_board (app);
  g_ptr_array_add (devices, make_fleet_device ("d1", "HR-LT-0142", "EliteBook 840 G8", "Ada Lovelace", 0,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d2", "HR-LT-0177", "Latitude 7440", "Grace Hopper", 2,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_NONCOMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d3", "FIN-PC-0031", "ThinkCentre M70q", "Alan Turing", 12,
                                               RD_TRISTATE_NO, RD_TRISTATE_NO, RD_COMPLIANCE_IN_GRACE_PERIOD,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d4", "FIN-LT-0204", "Surface Laptop 5", "Katherine Johnson", 1,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d5", "LAB-WS-0009", "Precision 3660", "Barbara Liskov", 0,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_HYBRID_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d6", "OPS-LT-0388", "EliteBook 840 G8", "Edsger Dijkstra", 4,
                                               RD_TRISTATE_YES, RD_TRISTATE_UNKNOWN, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  g_ptr_array_add (devices, make_fleet_device ("d7", "OPS-LT-0391", "EliteBook 840 G8", "Margaret Hamilton", 0,
                                               RD_TRISTATE_YES, RD_TRISTATE_YES, RD_COMPLIANCE_COMPLIANT,
                                               RD_JOIN_TYPE_ENTRA_JOINED));
  rd_board_set_devices (board, devices);
  hybrid = devices->pdata[4];
  g_assert_true (rd_board_move_device (board, devices->pdata[1], RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, devices->pdata[3], RD_LANE_BREAK_FIX, &error));
  g_assert_true (rd_board_move_device (board, hybrid, RD_LANE_REUSE, &error));
  g_assert_true (rd_board_set_method (board, hybrid, RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_true (rd_board_move_device (board, devices->pdata[6], RD_LANE_REUSE, &error));
  g_assert_no_error (error);

  window = g_object_ref (rd_window_new (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 900);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_frames (GTK_WIDGET (window));

  reuse = RD_LANE_VIEW (gtk_widget_get_template_child (GTK_WIDGET (window), RD_TYPE_WINDOW,
                                                       "reuse_lane"));
  g_assert_true (gtk_selection_model_select_item (rd_lane_view_get_selection (reuse), 0, TRUE));
  wait_for_frames (GTK_WIDGET (window));
  wait_for_frames (GTK_WIDGET (window));

  pane = RD_PLAN_PANE (find_descendant (GTK_WIDGET (window), RD_TYPE_PLAN_PANE, 0));
  g_assert_true (rd_plan_pane_get_device (pane) == hybrid);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (pane)));
  g_assert_nonnull (find_descendant (GTK_WIDGET (window), RD_TYPE_DEVICE_CARD, 6));

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
  g_test_add_func ("/rd/window/board", test_window_board);

  return g_test_run ();
}
