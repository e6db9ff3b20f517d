/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-run-ready-button"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-run-ready-button.h"

#include "rd-method.h"

/* A plan lane's "Run all ready": a button that names how many of the
 * lane's plans are ready to run ("Run 3 Ready"), insensitive when none is.
 * Which plans are ready is the core's answer (rd_board_dup_ready_plans());
 * the button asks again whenever the lane, a plan's state or a device's
 * facts change. A click activates the window's "win.run-ready" with the
 * lane, which asks for confirmation before anything is sent. */

struct _RdRunReadyButton
{
  GtkButton parent_instance;

  RdBoard *board;
  RdLane lane;
  GListModel *model;  /* the board's lane */
  GPtrArray *watched; /* the lane's devices and plans, whose changes count */
  guint n_ready;
  guint update_id;
};

G_DEFINE_FINAL_TYPE (RdRunReadyButton, rd_run_ready_button, GTK_TYPE_BUTTON)

enum
{
  PROP_0,
  PROP_BOARD,
  PROP_LANE,
  PROP_N_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update (RdRunReadyButton *self)
{
  g_autoptr(GPtrArray) ready = NULL;
  g_autofree char *label = NULL;
  g_autofree char *tooltip = NULL;
  guint n = 0;

  g_clear_handle_id (&self->update_id, g_source_remove);

  if (self->board != NULL && self->lane != RD_LANE_INVENTORY)
    {
      ready = rd_board_dup_ready_plans (self->board, self->lane);
      n = ready->len;
    }

  /* Translators: a button in a lane's header; %u is how many plans are ready to run. */
  label = g_strdup_printf (ngettext ("Run %u Ready", "Run %u Ready", n), n);
  gtk_button_set_label (GTK_BUTTON (self), label);

  if (n > 0)
    tooltip = g_strdup_printf (ngettext ("Send the ready plan of this lane, after a confirmation "
                                         "that lists the device",
                                         "Send the %u ready plans of this lane, one after the "
                                         "other, after a confirmation that lists the devices",
                                         n),
                               n);
  else if (self->lane == RD_LANE_REUSE)
    tooltip = g_strdup (_("No Autopilot Reset in this lane is ready to run. A reimage runs from "
                           "a USB key: open its plan to prepare the key."));
  else
    tooltip = g_strdup (_("No plan in this lane is ready to run"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tooltip);
  gtk_widget_set_sensitive (GTK_WIDGET (self), n > 0);

  if (self->n_ready != n)
    {
      self->n_ready = n;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_READY]);
    }
}

static gboolean
update_idle_cb (gpointer user_data)
{
  RdRunReadyButton *self = user_data;

  self->update_id = 0;
  update (self);

  return G_SOURCE_REMOVE;
}

/* A sync changes devices one property at a time: count once after, before
 * the next frame. */
static void
queue_update (RdRunReadyButton *self)
{
  if (self->update_id == 0)
    self->update_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, update_idle_cb, self, NULL);
}

static void
unwatch (RdRunReadyButton *self)
{
  for (guint i = 0; i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->watched, i), self);
  g_ptr_array_set_size (self->watched, 0);
}

static void
watch (RdRunReadyButton *self,
       gpointer          object,
       const char       *signal)
{
  g_signal_connect_object (object, signal, G_CALLBACK (queue_update), self, G_CONNECT_SWAPPED);
  g_ptr_array_add (self->watched, g_object_ref (object));
}

/* The plan lanes hold the few devices an admin is working on, so every
 * change of the lane watches them all again. */
static void
on_model_items_changed_cb (RdRunReadyButton *self)
{
  guint n;

  unwatch (self);
  n = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdDevice) device = g_list_model_get_item (self->model, i);
      RdPlan *plan = rd_board_get_plan (self->board, device);

      watch (self, device, "notify");
      if (plan != NULL)
        watch (self, plan, "notify::state");
    }

  queue_update (self);
}

static void
rebind (RdRunReadyButton *self)
{
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  self->model = NULL;
  if (self->board != NULL && self->lane != RD_LANE_INVENTORY)
    {
      self->model = rd_board_get_lane (self->board, self->lane);
      g_signal_connect_object (self->model, "items-changed", G_CALLBACK (on_model_items_changed_cb),
                               self, G_CONNECT_SWAPPED);
    }

  on_model_items_changed_cb (self);
  update (self);
}

/* GtkButton overrides */

static void
rd_run_ready_button_clicked (GtkButton *button)
{
  RdRunReadyButton *self = RD_RUN_READY_BUTTON (button);

  if (self->n_ready == 0)
    return;

  gtk_widget_activate_action (GTK_WIDGET (self), "win.run-ready", "s",
                              rd_lane_to_string (self->lane));
}

/* GObject overrides */

static void
rd_run_ready_button_dispose (GObject *object)
{
  RdRunReadyButton *self = (RdRunReadyButton *) object;

  g_clear_handle_id (&self->update_id, g_source_remove);
  unwatch (self);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  self->model = NULL;
  g_clear_object (&self->board);

  G_OBJECT_CLASS (rd_run_ready_button_parent_class)->dispose (object);
}

static void
rd_run_ready_button_finalize (GObject *object)
{
  RdRunReadyButton *self = (RdRunReadyButton *) object;

  g_ptr_array_unref (self->watched);

  G_OBJECT_CLASS (rd_run_ready_button_parent_class)->finalize (object);
}

static void
rd_run_ready_button_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  RdRunReadyButton *self = RD_RUN_READY_BUTTON (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      g_value_set_object (value, self->board);
      break;
    case PROP_LANE:
      g_value_set_enum (value, self->lane);
      break;
    case PROP_N_READY:
      g_value_set_uint (value, self->n_ready);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_run_ready_button_set_property (GObject *object,
                                  guint prop_id,
                                  const GValue *value,
                                  GParamSpec *pspec)
{
  RdRunReadyButton *self = RD_RUN_READY_BUTTON (object);

  switch (prop_id)
    {
    case PROP_BOARD:
      rd_run_ready_button_set_board (self, g_value_get_object (value));
      break;
    case PROP_LANE:
      rd_run_ready_button_set_lane (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_run_ready_button_class_init (RdRunReadyButtonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkButtonClass *button_class = GTK_BUTTON_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_run_ready_button_dispose;
  object_class->finalize = rd_run_ready_button_finalize;
  object_class->get_property = rd_run_ready_button_get_property;
  object_class->set_property = rd_run_ready_button_set_property;
  button_class->clicked = rd_run_ready_button_clicked;

  properties[PROP_BOARD] = g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD, flags);
  properties[PROP_LANE] = g_param_spec_enum ("lane", NULL, NULL, RD_TYPE_LANE, RD_LANE_INVENTORY,
                                             flags);
  properties[PROP_N_READY] = g_param_spec_uint ("n-ready", NULL, NULL, 0, G_MAXUINT, 0,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                  G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_run_ready_button_init (RdRunReadyButton *self)
{
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  update (self);
}

GtkWidget *
rd_run_ready_button_new (void)
{
  return g_object_new (RD_TYPE_RUN_READY_BUTTON, NULL);
}

RdBoard *
rd_run_ready_button_get_board (RdRunReadyButton *self)
{
  g_return_val_if_fail (RD_IS_RUN_READY_BUTTON (self), NULL);

  return self->board;
}

void
rd_run_ready_button_set_board (RdRunReadyButton *self,
                               RdBoard          *board)
{
  g_return_if_fail (RD_IS_RUN_READY_BUTTON (self));
  g_return_if_fail (board == NULL || RD_IS_BOARD (board));

  if (self->board == board)
    return;

  /* The old board's lane goes before the reference that keeps it. */
  unwatch (self);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  self->model = NULL;
  g_set_object (&self->board, board);
  rebind (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOARD]);
}

RdLane
rd_run_ready_button_get_lane (RdRunReadyButton *self)
{
  g_return_val_if_fail (RD_IS_RUN_READY_BUTTON (self), RD_LANE_INVENTORY);

  return self->lane;
}

/**
 * rd_run_ready_button_set_lane:
 * @lane: Break and Fix or Reuse; Devices has nothing to run
 */
void
rd_run_ready_button_set_lane (RdRunReadyButton *self,
                              RdLane            lane)
{
  g_return_if_fail (RD_IS_RUN_READY_BUTTON (self));
  g_return_if_fail ((guint) lane < RD_N_LANES);

  if (self->lane == lane)
    return;

  self->lane = lane;
  rebind (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LANE]);
}

/**
 * rd_run_ready_button_get_n_ready:
 *
 * Returns: how many plans of the lane are ready to run, as the label says
 */
guint
rd_run_ready_button_get_n_ready (RdRunReadyButton *self)
{
  g_return_val_if_fail (RD_IS_RUN_READY_BUTTON (self), 0);

  return self->n_ready;
}
