/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-lane-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-device-card.h"
#include "rd-device-query-model.h"
#include "rd-lane-view.h"
#include "rd-method.h"
#include "rd-readiness.h"
#include "rd-run-ready-button.h"
#include "rd-stable-selection.h"
#include "rd-view-utils.h"

/* One lane of the board: its title, how many devices it holds, and the
 * devices as cards, or an empty state that says what the lane is for.
 *
 * The pipeline is the board's lane → RdDeviceQueryModel → GtkMultiSelection
 * → RdStableSelection → GtkListView. The query model sorts and filters a
 * long lane on a worker and swaps the result in with one "items-changed";
 * the sort keys are the devices' own, made where the devices are made.
 * The stable selection keeps the list view's cards where they are and
 * gives them their new devices, so that a keystroke in the search of
 * 100,000 devices costs the main thread a rebind of the cards it shows,
 * not new cards. Only the Devices lane sorts; the plan lanes keep the
 * board's order. A new query shows its result from the top.
 *
 * A lane is a drop target for one device or a list of them. Drops, the
 * cards' menus and the Ctrl+1/2/3 shortcuts all activate the window's
 * "board.move-devices" action, which moves through rd_board_move_device(). */

struct _RdLaneView
{
  GtkWidget parent_instance;

  RdBoard *board;
  RdLane lane;
  GListModel *model;

  RdDeviceQueryModel *query;
  GtkMultiSelection *selection;
  RdStableSelection *rows;
  GPtrArray *stale_items; /* (element-type GtkListItem): cards to bind again */
  int row_height;         /* the lowest row seen on screen, an estimate, or 0 */
  guint stale_tick;
  gint64 stale_since;         /* the frame counter when cards last went stale */
  GdkFrameClock *frame_clock; /* while realized */
  guint step_source;
  RdDevice *selected_device;
  gboolean scroll_to_top;

  /* Filter criteria, handed to the query model. */
  char *search;
  char **words;
  gboolean only_noncompliant;
  gboolean only_unencrypted;
  gboolean only_without_autopilot;
  gboolean only_stale;
  char *sort_by;

  GtkLabel *title_label;
  GtkLabel *count_label;
  RdRunReadyButton *run_ready_button;
  GtkMenuButton *filter_button;
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
  PROP_SELECTED_DEVICE,
  PROP_SEARCH,
  PROP_ONLY_NONCOMPLIANT,
  PROP_ONLY_UNENCRYPTED,
  PROP_ONLY_WITHOUT_AUTOPILOT,
  PROP_ONLY_STALE,
  PROP_SORT_BY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_count (RdLaneView *self)
{
  guint total = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->query));
  g_autofree char *count = NULL;

  if (shown != total)
    /* Translators: how many devices a search shows, of how many in the lane. */
    count = g_strdup_printf (_("%u of %u"), shown, total);
  else
    count = g_strdup_printf ("%u", total);
  gtk_label_set_label (self->count_label, count);

  /* While the query model works, the last result stays up. */
  if (rd_device_query_model_get_pending (self->query) && shown == 0)
    return;
  if (total == 0)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else if (shown == 0)
    gtk_stack_set_visible_child_name (self->stack, "no-results");
  else
    gtk_stack_set_visible_child_name (self->stack, "list");
}

static void
update_selected_device (RdLaneView *self)
{
  g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  g_autoptr(RdDevice) device = NULL;

  if (gtk_bitset_get_size (selected) == 1)
    device = g_list_model_get_item (G_LIST_MODEL (self->selection), gtk_bitset_get_nth (selected, 0));

  if (g_set_object (&self->selected_device, device))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_DEVICE]);
}

static void
update_lane_texts (RdLaneView *self)
{
  const char *description;

  gtk_label_set_label (self->title_label, rd_lane_get_title (self->lane));
  gtk_widget_set_visible (GTK_WIDGET (self->filter_button), self->lane == RD_LANE_INVENTORY);
  gtk_widget_set_visible (GTK_WIDGET (self->run_ready_button), self->lane != RD_LANE_INVENTORY);
  rd_run_ready_button_set_lane (self->run_ready_button, self->lane);

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
update_sorter (RdLaneView *self)
{
  RdDeviceSort sort = RD_DEVICE_SORT_NONE;

  if (self->lane == RD_LANE_INVENTORY)
    sort = g_strcmp0 (self->sort_by, "last-sync") == 0 ? RD_DEVICE_SORT_LAST_SYNC
                                                         : RD_DEVICE_SORT_NAME;

  self->scroll_to_top = TRUE;
  rd_device_query_model_set_sort (self->query, sort);
}

static void
rebind (RdLaneView *self)
{
  self->model = self->board != NULL ? rd_board_get_lane (self->board, self->lane) : NULL;
  rd_device_query_model_set_model (self->query, self->model);
  update_count (self);
}

/* Filtering: the query is split and case-folded once; the query model
 * matches it against the devices' folded search text. */

static void
refilter (RdLaneView *self)
{
  g_autoptr(GDateTime) stale_before = NULL;
  RdDeviceQuickFilters filters = RD_DEVICE_QUICK_FILTER_NONE;

  if (self->only_noncompliant)
    filters |= RD_DEVICE_QUICK_FILTER_NONCOMPLIANT;
  if (self->only_unencrypted)
    filters |= RD_DEVICE_QUICK_FILTER_UNENCRYPTED;
  if (self->only_without_autopilot)
    filters |= RD_DEVICE_QUICK_FILTER_WITHOUT_AUTOPILOT;
  if (self->only_stale)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

      filters |= RD_DEVICE_QUICK_FILTER_STALE;
      stale_before = g_date_time_add_days (now, -RD_READINESS_STALE_DAYS);
    }

  self->scroll_to_top = TRUE;
  rd_device_query_model_set_filter (self->query, (const char *const *) self->words, filters,
                                    stale_before);
  if (self->only_noncompliant || self->only_unencrypted || self->only_without_autopilot ||
      self->only_stale)
    gtk_widget_add_css_class (GTK_WIDGET (self->filter_button), "filtering");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->filter_button), "filtering");
}

static void
set_quick_filter (RdLaneView *self,
                  gboolean   *field,
                  gboolean    value,
                  guint       prop_id)
{
  if (*field == value)
    return;

  *field = value;
  refilter (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/* Moves */

static GPtrArray *
devices_from_value (const GValue *value)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  if (G_VALUE_HOLDS (value, RD_TYPE_DEVICE) && g_value_get_object (value) != NULL)
    g_ptr_array_add (devices, g_value_dup_object (value));
  else if (G_VALUE_HOLDS (value, G_TYPE_LIST_MODEL) && g_value_get_object (value) != NULL)
    {
      GListModel *list = g_value_get_object (value);
      guint n = g_list_model_get_n_items (list);

      for (guint i = 0; i < n; i++)
        {
          gpointer item = g_list_model_get_item (list, i);

          if (RD_IS_DEVICE (item))
            g_ptr_array_add (devices, item);
          else
            g_clear_object (&item);
        }
    }

  return devices;
}

static GPtrArray *
devices_from_provider (GdkContentProvider *content)
{
  GValue value = G_VALUE_INIT;
  GPtrArray *devices = NULL;

  g_value_init (&value, RD_TYPE_DEVICE);
  if (gdk_content_provider_get_value (content, &value, NULL))
    devices = devices_from_value (&value);
  g_value_unset (&value);

  if (devices == NULL)
    {
      g_value_init (&value, G_TYPE_LIST_MODEL);
      if (gdk_content_provider_get_value (content, &value, NULL))
        devices = devices_from_value (&value);
      g_value_unset (&value);
    }

  return devices;
}

static gboolean
move_devices (RdLaneView *self,
              GPtrArray  *devices,
              RdLane      lane)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();

  for (guint i = 0; i < devices->len; i++)
    g_ptr_array_add (ids, (gpointer) rd_device_get_id (g_ptr_array_index (devices, i)));
  g_ptr_array_add (ids, NULL);

  if (ids->len == 1)
    return FALSE;

  return gtk_widget_activate_action (GTK_WIDGET (self), "board.move-devices", "(^ass)",
                                     (const char *const *) ids->pdata, rd_lane_to_string (lane));
}

static void
move_selection_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  RdLaneView *self = RD_LANE_VIEW (widget);
  g_autoptr(GPtrArray) devices = rd_lane_view_dup_selected_devices (self);
  RdLane lane;

  if (!rd_lane_from_string (g_variant_get_string (parameter, NULL), &lane))
    return;

  move_devices (self, devices, lane);
}

/* Callbacks */

static void
on_filter_model_items_changed_cb (RdLaneView *self)
{
  update_count (self);

  /* Rows below the screen come and go after the frame that shows the
   * change, a step a frame. */
  if (self->frame_clock != NULL && rd_stable_selection_get_held (self->rows))
    gdk_frame_clock_request_phase (self->frame_clock, GDK_FRAME_CLOCK_PHASE_AFTER_PAINT);

  /* The cards stay in place when the result changes, and so would the
   * scroll position: a new query starts at the top. */
  if (self->scroll_to_top && !rd_device_query_model_get_pending (self->query))
    {
      GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view));

      self->scroll_to_top = FALSE;
      if (vadjustment != NULL && gtk_adjustment_get_value (vadjustment) > 0)
        gtk_adjustment_set_value (vadjustment, 0);
    }
}

static void
on_selection_changed_cb (RdLaneView *self)
{
  update_selected_device (self);
}

static void
on_factory_setup_cb (GtkSignalListItemFactory *factory,
                     GtkListItem              *item,
                     RdLaneView               *self)
{
  gtk_list_item_set_child (item, rd_device_card_new ());
}

/* Cards. When the list changes, the cards stay and their slots get new
 * devices (RdStableSelection). GTK 4.8's list view keeps about 200 cards,
 * a dozen of them on screen: those are bound again at once, the others a
 * few at a time after, so that a keystroke that changes the result costs
 * the main thread the cards the admin sees: a batch a frame, from the
 * frame clock, so that no frame lays out more than a few of them. */

#define STALE_CARDS_PER_FRAME 16

static GQuark
stale_quark (void)
{
  static GQuark quark;

  if (quark == 0)
    quark = g_quark_from_static_string ("rd-lane-view-stale");

  return quark;
}

static void
bind_card (RdLaneView  *self,
           GtkListItem *item)
{
  RdDeviceCard *card = RD_DEVICE_CARD (gtk_list_item_get_child (item));
  RdDevice *device = rd_view_list_item_get_item (item);

  g_object_set_qdata (G_OBJECT (item), stale_quark (), NULL);
  if (gtk_widget_get_mapped (GTK_WIDGET (card)))
    {
      int height = gtk_widget_get_height (gtk_widget_get_parent (GTK_WIDGET (card)));

      if (height > 0 && (self->row_height == 0 || height < self->row_height))
        self->row_height = height;
    }
  rd_device_card_set_device (card, device);
  rd_device_card_set_plan (card, self->board != NULL && device != NULL
                                   ? rd_board_get_plan (self->board, device)
                                   : NULL);
}

static gboolean
bind_stale_cards_cb (GtkWidget     *widget,
                     GdkFrameClock *frame_clock,
                     gpointer       user_data)
{
  RdLaneView *self = RD_LANE_VIEW (widget);
  guint n = 0;

  /* The frame that shows a change lays out the cards on screen only. */
  if (gdk_frame_clock_get_frame_counter (frame_clock) <= self->stale_since + 1)
    return G_SOURCE_CONTINUE;

  while (self->stale_items->len > 0 && n < STALE_CARDS_PER_FRAME)
    {
      g_autoptr(GtkListItem) item = g_ptr_array_steal_index (self->stale_items,
                                                             self->stale_items->len - 1);

      /* Unbound meanwhile, or bound again by the list view. */
      if (g_object_get_qdata (G_OBJECT (item), stale_quark ()) == NULL)
        continue;
      bind_card (self, item);
      n++;
    }

  if (self->stale_items->len > 0)
    return G_SOURCE_CONTINUE;

  self->stale_tick = 0;
  return G_SOURCE_REMOVE;
}

/* GTK 4.8's list view maps the rows it shows, and keeps the others
 * unmapped until they scroll into view. */
static gboolean
on_screen (GtkWidget *card)
{
  return gtk_widget_get_mapped (card);
}

static void
bind_card_later (RdLaneView  *self,
                 GtkListItem *item)
{
  if (g_object_get_qdata (G_OBJECT (item), stale_quark ()) == NULL)
    {
      g_object_set_qdata (G_OBJECT (item), stale_quark (), GINT_TO_POINTER (TRUE));
      g_ptr_array_add (self->stale_items, g_object_ref (item));
    }
  if (self->frame_clock != NULL)
    self->stale_since = gdk_frame_clock_get_frame_counter (self->frame_clock);
  if (self->stale_tick == 0)
    self->stale_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), bind_stale_cards_cb, NULL,
                                                     NULL);
}

/* The list's width, and the top and bottom of what it shows. Until the
 * list view is laid out (an empty lane shows its "empty" page instead), the
 * lane's stack's size, which the list will take then. */
static int
get_view (RdLaneView *self,
          double     *top,
          double     *bottom)
{
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view));
  int width = gtk_widget_get_width (GTK_WIDGET (self->list_view));

  *top = vadjustment != NULL ? gtk_adjustment_get_value (vadjustment) : 0;
  if (width > 0 && vadjustment != NULL)
    {
      *bottom = *top + gtk_adjustment_get_page_size (vadjustment);
      return width;
    }

  *bottom = *top + gtk_widget_get_height (GTK_WIDGET (self->stack));
  return gtk_widget_get_width (GTK_WIDGET (self->stack));
}

/* The height of a row, for the rows not yet on screen: the lowest row
 * seen; before any was, the first row shown; before any row shows (an empty
 * lane at a start getting 100,000 devices), an empty card measured at the
 * lane's width, which is no taller than a row. 0 while the lane has no
 * width. */
static int
get_row_height (RdLaneView *self)
{
  double top, bottom;
  int width;

  if (self->row_height > 0)
    return self->row_height;

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list_view)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (gtk_widget_get_mapped (row) && gtk_widget_get_height (row) > 0)
      return self->row_height = gtk_widget_get_height (row);

  width = get_view (self, &top, &bottom);
  if (width > 0)
    {
      GtkWidget *card = g_object_ref_sink (rd_device_card_new ());
      int height;

      gtk_widget_measure (card, GTK_ORIENTATION_VERTICAL, width, &height, NULL, NULL, NULL);
      g_object_unref (card);
      self->row_height = height;
    }

  return self->row_height;
}

/* Whether a new row at @position is at least two rows away from what the
 * lane shows, by the height of a row: a list that grows gets rows far
 * below the fold. */
static gboolean
far_off_screen (RdLaneView *self,
                guint       position)
{
  double top, bottom, y;

  if (get_row_height (self) <= 0 || get_view (self, &top, &bottom) <= 0)
    return FALSE;

  y = (double) position * self->row_height;

  return y > bottom + 2 * self->row_height || y + 3 * self->row_height < top;
}

static void
on_slot_notify_item_cb (RdListSlot  *slot,
                        GParamSpec  *pspec,
                        GtkListItem *item)
{
  GtkWidget *card = gtk_list_item_get_child (item);
  RdLaneView *self = RD_LANE_VIEW (gtk_widget_get_ancestor (card, RD_TYPE_LANE_VIEW));

  if (self == NULL || on_screen (card))
    {
      if (self != NULL)
        bind_card (self, item);
      return;
    }

  bind_card_later (self, item);
}

static void
on_factory_bind_cb (GtkSignalListItemFactory *factory,
                    GtkListItem              *item,
                    RdLaneView               *self)
{
  if (far_off_screen (self, gtk_list_item_get_position (item)))
    bind_card_later (self, item);
  else
    bind_card (self, item);
  g_signal_connect (gtk_list_item_get_item (item), "notify::item",
                    G_CALLBACK (on_slot_notify_item_cb), item);
}

static void
on_factory_unbind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item,
                      RdLaneView               *self)
{
  RdDeviceCard *card = RD_DEVICE_CARD (gtk_list_item_get_child (item));

  g_signal_handlers_disconnect_by_func (gtk_list_item_get_item (item), on_slot_notify_item_cb,
                                        item);
  g_object_set_qdata (G_OBJECT (item), stale_quark (), NULL);
  rd_device_card_set_device (card, NULL);
  rd_device_card_set_plan (card, NULL);
}

static gboolean
on_drop_target_accept_cb (GtkDropTarget *target,
                          GdkDrop       *drop,
                          RdLaneView    *self)
{
  GdkContentFormats *formats = gdk_drop_get_formats (drop);
  g_autoptr(GPtrArray) devices = NULL;
  GdkDrag *drag;

  if ((gdk_drop_get_actions (drop) & GDK_ACTION_MOVE) == 0 ||
      (!gdk_content_formats_contain_gtype (formats, RD_TYPE_DEVICE) &&
       !gdk_content_formats_contain_gtype (formats, G_TYPE_LIST_MODEL)))
    return FALSE;

  /* A drag from this process says what it carries right away. Cards that
   * are all in this lane already are refused, so their own lane does not
   * light up as a target. */
  drag = gdk_drop_get_drag (drop);
  if (drag == NULL || self->board == NULL)
    return TRUE;
  devices = devices_from_provider (gdk_drag_get_content (drag));
  if (devices == NULL)
    return TRUE;
  for (guint i = 0; i < devices->len; i++)
    if (rd_board_get_device_lane (self->board, g_ptr_array_index (devices, i)) != self->lane)
      return TRUE;

  return FALSE;
}

static gboolean
on_drop_target_drop_cb (GtkDropTarget *target,
                        const GValue  *value,
                        double         x,
                        double         y,
                        RdLaneView    *self)
{
  g_autoptr(GPtrArray) devices = devices_from_value (value);

  return move_devices (self, devices, self->lane);
}

/* Rows on screen: how far down the list a row may show, by the height of
 * the lowest row seen; rows below wait for frames (RdStableSelection). */
static void
update_screen_rows (RdLaneView *self)
{
  double top, bottom;
  guint rows = 0;

  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && get_row_height (self) > 0 &&
      get_view (self, &top, &bottom) > 0)
    rows = (guint) (bottom / self->row_height) + 2;
  rd_stable_selection_set_screen_rows (self->rows, rows);
}

static gboolean
step_rows_cb (gpointer user_data)
{
  RdLaneView *self = RD_LANE_VIEW (user_data);

  self->step_source = 0;
  if (rd_stable_selection_after_frame (self->rows) && self->frame_clock != NULL)
    gdk_frame_clock_request_phase (self->frame_clock, GDK_FRAME_CLOCK_PHASE_AFTER_PAINT);

  return G_SOURCE_REMOVE;
}

/* A step of the rows held back once a frame is out, from the main loop
 * rather than the frame, so that input comes first, and before the next
 * frame, which an animation may ask for at once. */
static void
on_frame_clock_after_paint_cb (GdkFrameClock *frame_clock,
                               RdLaneView    *self)
{
  update_screen_rows (self);
  if (self->step_source == 0 && rd_stable_selection_get_held (self->rows))
    {
      self->step_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 10, step_rows_cb, self, NULL);
      g_source_set_name_by_id (self->step_source, "[recovery-desk] lane rows step");
    }
}

/* GtkWidget overrides */

static void
rd_lane_view_realize (GtkWidget *widget)
{
  RdLaneView *self = RD_LANE_VIEW (widget);

  GTK_WIDGET_CLASS (rd_lane_view_parent_class)->realize (widget);

  self->frame_clock = g_object_ref (gtk_widget_get_frame_clock (widget));
  g_signal_connect (self->frame_clock, "after-paint", G_CALLBACK (on_frame_clock_after_paint_cb),
                    self);
}

static void
rd_lane_view_unrealize (GtkWidget *widget)
{
  RdLaneView *self = RD_LANE_VIEW (widget);

  /* No frames come: what waits for them is announced now. */
  g_clear_handle_id (&self->step_source, g_source_remove);
  if (self->frame_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->frame_clock, on_frame_clock_after_paint_cb, self);
  g_clear_object (&self->frame_clock);
  if (self->rows != NULL)
    rd_stable_selection_set_screen_rows (self->rows, 0);

  GTK_WIDGET_CLASS (rd_lane_view_parent_class)->unrealize (widget);
}

/* GObject overrides */

static void
rd_lane_view_dispose (GObject *object)
{
  RdLaneView *self = (RdLaneView *) object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_LANE_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  if (self->stale_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->stale_tick);
  self->stale_tick = 0;
  g_clear_handle_id (&self->step_source, g_source_remove);
  if (self->frame_clock != NULL)
    g_signal_handlers_disconnect_by_func (self->frame_clock, on_frame_clock_after_paint_cb, self);
  g_clear_object (&self->frame_clock);
  g_clear_pointer (&self->stale_items, g_ptr_array_unref);
  g_clear_object (&self->rows);
  g_clear_object (&self->selection);
  g_clear_object (&self->query);
  g_clear_object (&self->selected_device);
  g_clear_object (&self->board);
  self->model = NULL;

  G_OBJECT_CLASS (rd_lane_view_parent_class)->dispose (object);
}

static void
rd_lane_view_finalize (GObject *object)
{
  RdLaneView *self = (RdLaneView *) object;

  g_free (self->search);
  g_strfreev (self->words);
  g_free (self->sort_by);

  G_OBJECT_CLASS (rd_lane_view_parent_class)->finalize (object);
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
    case PROP_SELECTED_DEVICE:
      g_value_set_object (value, self->selected_device);
      break;
    case PROP_SEARCH:
      g_value_set_string (value, self->search);
      break;
    case PROP_ONLY_NONCOMPLIANT:
      g_value_set_boolean (value, self->only_noncompliant);
      break;
    case PROP_ONLY_UNENCRYPTED:
      g_value_set_boolean (value, self->only_unencrypted);
      break;
    case PROP_ONLY_WITHOUT_AUTOPILOT:
      g_value_set_boolean (value, self->only_without_autopilot);
      break;
    case PROP_ONLY_STALE:
      g_value_set_boolean (value, self->only_stale);
      break;
    case PROP_SORT_BY:
      g_value_set_string (value, self->sort_by);
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
      update_sorter (self);
      rebind (self);
      break;
    case PROP_SEARCH:
      rd_lane_view_set_search (self, g_value_get_string (value));
      break;
    case PROP_ONLY_NONCOMPLIANT:
      set_quick_filter (self, &self->only_noncompliant, g_value_get_boolean (value), prop_id);
      break;
    case PROP_ONLY_UNENCRYPTED:
      set_quick_filter (self, &self->only_unencrypted, g_value_get_boolean (value), prop_id);
      break;
    case PROP_ONLY_WITHOUT_AUTOPILOT:
      set_quick_filter (self, &self->only_without_autopilot, g_value_get_boolean (value), prop_id);
      break;
    case PROP_ONLY_STALE:
      set_quick_filter (self, &self->only_stale, g_value_get_boolean (value), prop_id);
      break;
    case PROP_SORT_BY:
      if (g_strcmp0 (self->sort_by, g_value_get_string (value)) != 0)
        {
          g_free (self->sort_by);
          self->sort_by = g_value_dup_string (value);
          update_sorter (self);
          g_object_notify_by_pspec (object, pspec);
        }
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
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = rd_lane_view_dispose;
  object_class->finalize = rd_lane_view_finalize;
  object_class->get_property = rd_lane_view_get_property;
  object_class->set_property = rd_lane_view_set_property;

  widget_class->realize = rd_lane_view_realize;
  widget_class->unrealize = rd_lane_view_unrealize;

  properties[PROP_BOARD] = g_param_spec_object ("board", NULL, NULL, RD_TYPE_BOARD, flags);
  properties[PROP_LANE] =
    g_param_spec_enum ("lane", NULL, NULL, RD_TYPE_LANE, RD_LANE_INVENTORY,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_DEVICE] =
    g_param_spec_object ("selected-device", NULL, NULL, RD_TYPE_DEVICE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEARCH] = g_param_spec_string ("search", NULL, NULL, NULL, flags);
  properties[PROP_ONLY_NONCOMPLIANT] =
    g_param_spec_boolean ("only-noncompliant", NULL, NULL, FALSE, flags);
  properties[PROP_ONLY_UNENCRYPTED] =
    g_param_spec_boolean ("only-unencrypted", NULL, NULL, FALSE, flags);
  properties[PROP_ONLY_WITHOUT_AUTOPILOT] =
    g_param_spec_boolean ("only-without-autopilot", NULL, NULL, FALSE, flags);
  properties[PROP_ONLY_STALE] = g_param_spec_boolean ("only-stale", NULL, NULL, FALSE, flags);
  properties[PROP_SORT_BY] = g_param_spec_string ("sort-by", NULL, NULL, "name", flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (RD_TYPE_DEVICE);
  g_type_ensure (RD_TYPE_DEVICE_CARD);
  g_type_ensure (RD_TYPE_RUN_READY_BUTTON);

  gtk_widget_class_install_property_action (widget_class, "lane.only-noncompliant",
                                            "only-noncompliant");
  gtk_widget_class_install_property_action (widget_class, "lane.only-unencrypted",
                                            "only-unencrypted");
  gtk_widget_class_install_property_action (widget_class, "lane.only-without-autopilot",
                                            "only-without-autopilot");
  gtk_widget_class_install_property_action (widget_class, "lane.only-stale", "only-stale");
  gtk_widget_class_install_property_action (widget_class, "lane.sort-by", "sort-by");
  gtk_widget_class_install_action (widget_class, "lane.move-selection", "s",
                                   move_selection_action);

  /* The keyboard twins of dragging the selected cards to a lane. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK,
                                       "lane.move-selection", "s", "inventory");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_CONTROL_MASK,
                                       "lane.move-selection", "s", "break-fix");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_CONTROL_MASK,
                                       "lane.move-selection", "s", "reuse");

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lane");
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-lane-view.ui");
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, title_label);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, count_label);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, run_ready_button);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, filter_button);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, stack);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, RdLaneView, list_view);
  gtk_widget_class_bind_template_callback (widget_class, on_factory_setup_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_factory_bind_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_factory_unbind_cb);
}

static void
rd_lane_view_init (RdLaneView *self)
{
  GType types[2];
  GtkDropTarget *drop_target;

  /* Before the template: the filter menu reads the "sort-by" action's state. */
  self->sort_by = g_strdup ("name");

  gtk_widget_init_template (GTK_WIDGET (self));

  self->query = rd_device_query_model_new ();
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->query)));
  g_signal_connect_object (self->query, "items-changed",
                           G_CALLBACK (on_filter_model_items_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->query, "notify::pending",
                           G_CALLBACK (on_filter_model_items_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->selection, "selection-changed",
                           G_CALLBACK (on_selection_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->selection, "items-changed",
                           G_CALLBACK (on_selection_changed_cb), self, G_CONNECT_SWAPPED);
  /* An empty lane shows its first 32 cards in a frame of their own, then
   * the rest (the cards off screen bind later); a list that grows adds
   * 32 rows a main-loop iteration up to 256. */
  self->stale_items = g_ptr_array_new_with_free_func (g_object_unref);
  self->rows = rd_stable_selection_new (GTK_SELECTION_MODEL (self->selection));
  rd_stable_selection_set_fill_steps (self->rows, 32, 256);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->rows));

  types[0] = RD_TYPE_DEVICE;
  types[1] = G_TYPE_LIST_MODEL;
  drop_target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_MOVE);
  gtk_drop_target_set_gtypes (drop_target, types, G_N_ELEMENTS (types));
  g_signal_connect (drop_target, "accept", G_CALLBACK (on_drop_target_accept_cb), self);
  g_signal_connect (drop_target, "drop", G_CALLBACK (on_drop_target_drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop_target));

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

  rd_run_ready_button_set_board (self->run_ready_button, board);
  rebind (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOARD]);
}

RdLane
rd_lane_view_get_lane (RdLaneView *self)
{
  g_return_val_if_fail (RD_IS_LANE_VIEW (self), RD_LANE_INVENTORY);

  return self->lane;
}

/**
 * rd_lane_view_get_selection:
 *
 * Returns: (transfer none): the devices the lane shows, sorted and
 *   filtered, with their selection
 */
GtkSelectionModel *
rd_lane_view_get_selection (RdLaneView *self)
{
  g_return_val_if_fail (RD_IS_LANE_VIEW (self), NULL);

  return GTK_SELECTION_MODEL (self->selection);
}

/**
 * rd_lane_view_get_selected_device:
 *
 * Returns: (nullable) (transfer none): the selected device when exactly one
 *   is selected
 */
RdDevice *
rd_lane_view_get_selected_device (RdLaneView *self)
{
  g_return_val_if_fail (RD_IS_LANE_VIEW (self), NULL);

  return self->selected_device;
}

/**
 * rd_lane_view_dup_selected_devices:
 *
 * Returns: (transfer container) (element-type RdDevice): the selected
 *   devices, in the order shown
 */
GPtrArray *
rd_lane_view_dup_selected_devices (RdLaneView *self)
{
  g_autoptr(GtkBitset) selected = NULL;
  GtkBitsetIter iter;
  GPtrArray *devices;
  guint position;

  g_return_val_if_fail (RD_IS_LANE_VIEW (self), NULL);

  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  devices = g_ptr_array_new_full (gtk_bitset_get_size (selected), g_object_unref);
  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    g_ptr_array_add (devices, g_list_model_get_item (G_LIST_MODEL (self->selection), position));

  return devices;
}

void
rd_lane_view_unselect_all (RdLaneView *self)
{
  g_return_if_fail (RD_IS_LANE_VIEW (self));

  gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (self->selection));
}

const char *
rd_lane_view_get_search (RdLaneView *self)
{
  g_return_val_if_fail (RD_IS_LANE_VIEW (self), NULL);

  return self->search;
}

/**
 * rd_lane_view_set_search:
 * @search: (nullable): words that must all occur in a device's name, serial,
 *   user, model or ids, in any case
 *
 * Filters the lane. A query that only grows (another letter, another word)
 * re-checks only the devices still shown.
 */
void
rd_lane_view_set_search (RdLaneView *self,
                         const char *search)
{
  g_autofree char *folded = NULL;
  g_auto(GStrv) words = NULL;
  guint n = 0;

  g_return_if_fail (RD_IS_LANE_VIEW (self));

  if (g_strcmp0 (search, self->search) == 0)
    return;

  folded = g_utf8_casefold (search != NULL ? search : "", -1);

  words = g_strsplit_set (folded, " \t\n", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] != '\0')
        words[n++] = words[i];
      else
        g_free (words[i]);
    }
  words[n] = NULL;

  g_free (self->search);
  self->search = g_strdup (search);
  g_strfreev (self->words);
  self->words = g_steal_pointer (&words);

  refilter (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH]);
}
