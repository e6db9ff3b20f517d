/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-lane-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-lane-view.h"
#include "rd-method.h"

/* One lane of the board: its title, how many devices it holds, and the
 * devices, or an empty state that says what the lane is for. */

struct _RdLaneView
{
  GtkWidget parent_instance;

  RdBoard *board;
  RdLane lane;
  GListModel *model;

  GtkLabel *title_label;
  GtkLabel *count_label;
  GtkStack *stack;
  AdwStatusPage *empty_page;
  GtkListView *list_view;
};

G_DEFINE_FINAL_TYPE (RdLaneView, rd_lane_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_BOARD,
  PROP_LANE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_count (RdLaneView *self)
{
  guint n = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;
  g_autofree char *count = g_strdup_printf ("%u", n);

  gtk_label_set_label (self->count_label, count);
  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "list" : "empty");
}

static void
on_model_items_changed_cb (GListModel *model,
                           guint       position,
                           guint       removed,
                           guint       added,
                           RdLaneView *self)
{
  update_count (self);
}

static void
update_lane_texts (RdLaneView *self)
{
  const char *description;

  gtk_label_set_label (self->title_label, rd_lane_get_title (self->lane));

  switch (self->lane)
    {
    case RD_LANE_BREAK_FIX:
      adw_status_page_set_icon_name (self->empty_page, "applications-engineering-symbolic");
      adw_status_page_set_title (self->empty_page, _("Nothing to Fix"));
      description = _("Drag a device here to reset it while keeping its enrollment and its "
                      "user account.");
      break;
    case RD_LANE_REUSE:
      adw_status_page_set_icon_name (self->empty_page, "emblem-synchronizing-symbolic");
      adw_status_page_set_title (self->empty_page, _("Nothing to Reuse"));
      description = _("Drag a device here to prepare it for a new user, by reimaging it or with "
                      "Autopilot Reset.");
      break;
    case RD_LANE_INVENTORY:
    default:
      adw_status_page_set_icon_name (self->empty_page, "computer-symbolic");
      adw_status_page_set_title (self->empty_page, _("No Devices"));
      description = _("The tenant’s Windows devices appear here once they are loaded.");
      break;
    }
  adw_status_page_set_description (self->empty_page, description);
}

static void
rebind (RdLaneView *self)
{
  g_autoptr(GtkNoSelection) selection = NULL;

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, on_model_items_changed_cb, self);
  g_clear_object (&self->model);

  if (self->board != NULL)
    {
      self->model = g_object_ref (rd_board_get_lane (self->board, self->lane));
      g_signal_connect_object (self->model, "items-changed",
                               G_CALLBACK (on_model_items_changed_cb), self, 0);
      selection = gtk_no_selection_new (g_object_ref (self->model));
    }

  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  update_count (self);
}

static void
rd_lane_view_dispose (GObject *object)
{
  RdLaneView *self = (RdLaneView *) object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_LANE_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->model);
  g_clear_object (&self->board);

  G_OBJECT_CLASS (rd_lane_view_parent_class)->dispose (object);
}

static void
rd_lane_view_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  RdLaneView *self = RD_LANE_VIEW (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      g_value_set_object (value, self->board);
      break;
    case PROP_LANE:
      g_value_set_enum (value, self->lane);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_lane_view_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  RdLaneView *self = RD_LANE_VIEW (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      rd_lane_view_set_board (self, g_value_get_object (value));
      break;
    case PROP_LANE:
      self->lane = g_value_get_enum (value);
      update_lane_texts (self);
      rebind (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_lane_view_class_init (RdLaneViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_lane_view_dispose;
  object_class->get_property = rd_lane_view_get_property;
  object_class->set_property = rd_lane_view_set_property;

  properties[PROP_BOARD] =
    g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LANE] =
    g_param_spec_enum ("lane", NULL, NULL, RD_TYPE_LANE, RD_LANE_INVENTORY,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (RD_TYPE_DEVICE);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lane");
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-lane-view.ui");
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, title_label);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, count_label);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, stack);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, list_view);
}

static void
rd_lane_view_init (RdLaneView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_lane_texts (self);
  update_count (self);
}

RdBoard *
rd_lane_view_get_board (RdLaneView *self)
{
  g_return_val_if_fail (RD_IS_LANE_VIEW (self), NULL);

  return self->board;
}

void
rd_lane_view_set_board (RdLaneView *self,
                        RdBoard    *board)
{
  g_return_if_fail (RD_IS_LANE_VIEW (self));
  g_return_if_fail (board == NULL || RD_IS_BOARD (board));

  if (!g_set_object (&self->board, board))
    return;

  rebind (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOARD]);
}

RdLane
rd_lane_view_get_lane (RdLaneView *self)
{
  g_return_val_if_fail (RD_IS_LANE_VIEW (self), RD_LANE_INVENTORY);

  return self->lane;
}
