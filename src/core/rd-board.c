/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-board"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "rd-board-private.h"
#include "rd-core-error.h"
#include "rd-device-query-model-private.h"
#include "rd-device-store-private.h"
#include "rd-method.h"
#include "rd-plan-private.h"
#include "rd-readiness.h"

/* The board holds the three lanes. Each known device sits in exactly one of
 * them: in Devices when it has no plan, else in its plan's lane. Every move,
 * whether a drag, a menu item, a shortcut or a CLI command, goes through
 * rd_board_move_device(), which keeps the lanes, the plans and the plan
 * store in step, and puts everything back as it was when the store cannot
 * save. */

struct _RdBoard
{
  GObject parent_instance;

  RdPlanStore *store;
  RdDeviceStore *lanes[RD_N_LANES];
  GHashTable *devices; /* id → RdDevice */
  GHashTable *plans;   /* device id → RdPlan */
  GTask *hand_off;     /* the hand-off under way, or NULL */
  GSource *hand_off_source;
  guint step_devices; /* for tests: at most this many devices a step, or 0 */
};

G_DEFINE_FINAL_TYPE (RdBoard, rd_board, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STORE,
  PROP_PENDING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void supersede_hand_off (RdBoard *self);

static void
rd_board_dispose (GObject *object)
{
  RdBoard *self = (RdBoard *) object;

  supersede_hand_off (self);
  g_clear_object (&self->store);
  for (guint i = 0; i < RD_N_LANES; i++)
    g_clear_object (&self->lanes[i]);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_pointer (&self->plans, g_hash_table_unref);

  G_OBJECT_CLASS (rd_board_parent_class)->dispose (object);
}

static void
rd_board_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  RdBoard *self = RD_BOARD (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_PENDING:
      g_value_set_boolean (value, self->hand_off != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_board_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  RdBoard *self = RD_BOARD (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_board_class_init (RdBoardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_board_dispose;
  object_class->get_property = rd_board_get_property;
  object_class->set_property = rd_board_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, RD_TYPE_PLAN_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * RdBoard:pending:
   *
   * Whether a hand-off of devices (rd_board_set_devices_async()) is under
   * way; the lanes show the devices as they were until it ends.
   */
  properties[PROP_PENDING] =
    g_param_spec_boolean ("pending", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_board_init (RdBoard *self)
{
  for (guint i = 0; i < RD_N_LANES; i++)
    self->lanes[i] = rd_device_store_new ();
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->plans = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
}

/**
 * rd_board_new:
 * @store: (nullable): where plans are saved, or %NULL to keep them in memory
 */
RdBoard *
rd_board_new (RdPlanStore *store)
{
  g_return_val_if_fail (store == NULL || RD_IS_PLAN_STORE (store), NULL);

  return g_object_new (RD_TYPE_BOARD, "store", store, NULL);
}

RdPlanStore *
rd_board_get_store (RdBoard *self)
{
  g_return_val_if_fail (RD_IS_BOARD (self), NULL);

  return self->store;
}

/* Plans are keyed by the device id they own, so the key lives as long as the
 * plan does. */
static void
insert_plan (RdBoard *self,
             RdPlan  *plan)
{
  g_hash_table_replace (self->plans, (gpointer) rd_plan_get_device_id (plan),
                        g_object_ref (plan));
}

static void
remove_from_lane (RdBoard  *self,
                  RdLane    lane,
                  RdDevice *device)
{
  rd_device_store_remove (self->lanes[lane], device);
}

/* Sets a plan that nothing has been done for to ready or blocked, from the
 * readiness of its device now. */
static void
evaluate_plan (RdPlan *plan)
{
  g_autoptr(GListModel) checks = NULL;
  RdPlanState state;

  if (rd_plan_get_device (plan) == NULL || !rd_plan_is_editable (plan) ||
      rd_plan_get_state (plan) == RD_PLAN_STATE_FAILED)
    return;

  checks = rd_readiness_evaluate (rd_plan_get_device (plan), rd_plan_get_method (plan), NULL);
  if (rd_readiness_worst_severity (checks) == RD_CHECK_SEVERITY_BLOCKER)
    state = RD_PLAN_STATE_BLOCKED;
  else
    state = RD_PLAN_STATE_READY;

  /* draft, ready and blocked reach each other, so this cannot fail. */
  rd_plan_transition (plan, state, NULL);
}

static gboolean
save (RdBoard  *self,
      GError  **error)
{
  g_autoptr(GPtrArray) plans = NULL;

  if (self->store == NULL)
    return TRUE;

  plans = rd_board_dup_plans (self);
  return rd_plan_store_save (self->store, plans, error);
}

/**
 * rd_board_load:
 *
 * Loads the saved plans. When the store's file cannot be read it has been
 * moved aside, the board starts without plans, and @error says where the
 * file went.
 */
gboolean
rd_board_load (RdBoard  *self,
               GError  **error)
{
  g_autoptr(GPtrArray) plans = NULL;

  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);

  if (self->store == NULL)
    return TRUE;

  plans = rd_plan_store_load (self->store, error);
  if (plans == NULL)
    return FALSE;

  for (guint i = 0; i < plans->len; i++)
    {
      RdPlan *plan = g_ptr_array_index (plans, i);
      RdDevice *device = g_hash_table_lookup (self->devices, rd_plan_get_device_id (plan));
      RdPlan *old = g_hash_table_lookup (self->plans, rd_plan_get_device_id (plan));

      if (old != NULL && rd_plan_get_device (old) != NULL)
        remove_from_lane (self, rd_plan_get_lane (old), rd_plan_get_device (old));

      insert_plan (self, plan);
      if (device != NULL)
        {
          rd_plan_set_device (plan, device);
          remove_from_lane (self, RD_LANE_INVENTORY, device);
          rd_device_store_append (self->lanes[rd_plan_get_lane (plan)], device);
        }
    }

  return TRUE;
}

/* Handing an inventory over
 *
 * A hand-off takes the listing in steps: each step takes devices in
 * listing order (a known device takes the new facts, on the main thread,
 * where its cards are bound to it) until its time is up, into a table of
 * the devices the board will hold. The board shows what it held before
 * until the last step, which swaps the tables and replaces the lanes with
 * one "items-changed" each, from the plans as they are then: a device
 * moved meanwhile is in its new lane, a device that left the tenant stays
 * when a plan holds it. A newer hand-off replaces one under way. */

/* About a third of a frame: the main loop dispatches between steps. */
#define STEP_USEC 6000
#define STEP_CHECK 256

typedef struct
{
  GPtrArray *listing; /* RdDevice, as the caller gave them */
  guint next;         /* the next of @listing to take */
  GHashTable *taken;  /* id → RdDevice: the board's devices after this */
  GPtrArray *order;   /* RdDevice, in listing order, once each */
} HandOff;

static void
hand_off_free (HandOff *hand_off)
{
  g_ptr_array_unref (hand_off->listing);
  g_clear_pointer (&hand_off->order, g_ptr_array_unref);
  g_clear_pointer (&hand_off->taken, g_hash_table_unref);
  g_free (hand_off);
}

static HandOff *
hand_off_new (GPtrArray *devices)
{
  HandOff *hand_off = g_new0 (HandOff, 1);

  hand_off->listing = g_ptr_array_ref (devices);
  hand_off->taken = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  hand_off->order = g_ptr_array_new_full (devices->len, g_object_unref);

  return hand_off;
}

/* Takes devices from the listing until @deadline (monotonic time; 0: all
 * of them), at most @limit in all; a device of @known (id → RdDevice, or
 * %NULL) takes the new facts. Returns whether every device has been
 * taken. */
static gboolean
take_devices_from (HandOff    *hand_off,
                   GHashTable *known,
                   guint       limit,
                   gint64      deadline)
{
  GPtrArray *listing = hand_off->listing;

  while (hand_off->next < listing->len)
    {
      RdDevice *fresh = g_ptr_array_index (listing, hand_off->next);
      const char *id = rd_device_get_id (fresh);
      RdDevice *device = NULL;

      hand_off->next++;
      if (hand_off->next > limit ||
          (deadline != 0 && hand_off->next % STEP_CHECK == 0 &&
           g_get_monotonic_time () >= deadline))
        {
          hand_off->next--;
          return FALSE;
        }

      /* A device listed twice is taken once, the first time. */
      if (id == NULL || g_hash_table_contains (hand_off->taken, id))
        continue;

      if (known != NULL)
        device = g_hash_table_lookup (known, id);
      if (device == NULL)
        device = fresh;
      else if (device != fresh)
        rd_device_update_from (device, fresh);

      /* References taken while the device is in the cache anyway. */
      g_hash_table_insert (hand_off->taken, (gpointer) rd_device_get_id (device),
                           g_object_ref (device));
      g_ptr_array_add (hand_off->order, g_object_ref (device));
    }

  return TRUE;
}

static gboolean
take_devices (RdBoard *self,
              HandOff *hand_off,
              gint64   deadline)
{
  guint limit = deadline != 0 && self->step_devices != 0 ? hand_off->next + self->step_devices
                                                         : G_MAXUINT;

  return take_devices_from (hand_off, g_hash_table_size (self->devices) > 0 ? self->devices : NULL,
                            limit, deadline);
}

/* What a hand-off lets go of: the references to 100,000 devices, each a
 * cache miss, a few thousand at a time. */
typedef struct
{
  GPtrArray *items;  /* RdDevice, owned */
  GHashTable *table; /* owning its values */
  GHashTableIter iter;
  gboolean iterating;
} Release;

static void
release_free (Release *release)
{
  g_ptr_array_unref (release->items);
  g_hash_table_unref (release->table);
  g_free (release);
}

static gboolean
release_step_cb (gpointer user_data)
{
  Release *release = user_data;
  gint64 deadline = g_get_monotonic_time () + STEP_USEC;
  guint n = 0;

  while (release->items->len > 0)
    {
      g_object_unref (g_ptr_array_steal_index_fast (release->items, release->items->len - 1));
      if (++n % STEP_CHECK == 0 && g_get_monotonic_time () >= deadline)
        return G_SOURCE_CONTINUE;
    }

  if (!release->iterating)
    g_hash_table_iter_init (&release->iter, release->table);
  release->iterating = TRUE;
  while (g_hash_table_iter_next (&release->iter, NULL, NULL))
    {
      g_hash_table_iter_remove (&release->iter);
      if (++n % STEP_CHECK == 0 && g_get_monotonic_time () >= deadline)
        return G_SOURCE_CONTINUE;
    }

  return G_SOURCE_REMOVE;
}

/* The last step: the board holds the devices taken, and the lanes show
 * them as the plans place them now. With @defer_release, the table of the
 * devices before is let go in an iteration of its own (a reference less
 * for 100,000 devices, each a cache miss). */
static void
commit_devices (RdBoard              *self,
                HandOff              *hand_off,
                RdDeviceQueryEntries *entries,
                gboolean              defer_release)
{
  g_autoptr(GHashTable) old_devices = NULL;
  g_autoptr(GHashTable) planned = NULL;
  g_autoptr(GPtrArray) old_inventory = NULL;
  GPtrArray *inventory;
  GPtrArray *in_lanes[RD_N_LANES] = { NULL };
  GHashTableIter iter;
  gpointer value;
  gboolean plans_changed = FALSE;

  /* Plans take the devices of this listing and are evaluated again; a
   * device the listing does not have stays while a plan holds it. */
  if (g_hash_table_size (self->plans) > 0)
    planned = g_hash_table_new (NULL, NULL);
  g_hash_table_iter_init (&iter, self->plans);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      RdPlan *plan = value;
      const char *id = rd_plan_get_device_id (plan);
      RdDevice *device = g_hash_table_lookup (hand_off->taken, id);

      if (device != NULL)
        {
          RdPlanState before = rd_plan_get_state (plan);

          rd_plan_set_device (plan, device);
          evaluate_plan (plan);
          plans_changed |= before != rd_plan_get_state (plan);
        }
      else if ((device = g_hash_table_lookup (self->devices, id)) != NULL)
        g_hash_table_insert (hand_off->taken, (gpointer) rd_device_get_id (device),
                             g_object_ref (device));

      if (device != NULL)
        g_hash_table_add (planned, device);
    }

  old_devices = g_steal_pointer (&self->devices);
  self->devices = g_steal_pointer (&hand_off->taken);

  /* Devices: the listing's order, without the devices in a plan's lane. */
  inventory = g_steal_pointer (&hand_off->order);
  if (planned != NULL)
    {
      guint kept = 0;

      for (guint i = 0; i < inventory->len; i++)
        if (g_hash_table_contains (planned, inventory->pdata[i]))
          g_object_unref (inventory->pdata[i]);
        else
          inventory->pdata[kept++] = inventory->pdata[i];
      g_ptr_array_set_free_func (inventory, NULL);
      g_ptr_array_set_size (inventory, kept);
      g_ptr_array_set_free_func (inventory, g_object_unref);
    }

  /* The plan lanes keep their order; devices new to a lane go last. */
  for (guint lane = RD_LANE_BREAK_FIX; lane < RD_N_LANES; lane++)
    {
      GListModel *model = G_LIST_MODEL (self->lanes[lane]);
      guint n = g_list_model_get_n_items (model);

      in_lanes[lane] = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < n; i++)
        {
          RdDevice *device = g_list_model_get_item (model, i);
          RdPlan *plan = g_hash_table_lookup (self->plans, rd_device_get_id (device));

          if (plan != NULL && rd_plan_get_lane (plan) == lane &&
              g_hash_table_lookup (self->devices, rd_device_get_id (device)) == device)
            g_ptr_array_add (in_lanes[lane], device);
          else
            g_object_unref (device);
        }
    }

  g_hash_table_iter_init (&iter, self->plans);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      RdPlan *plan = value;
      RdDevice *device = rd_plan_get_device (plan);
      GPtrArray *lane = in_lanes[rd_plan_get_lane (plan)];

      if (device != NULL && !g_ptr_array_find (lane, device, NULL))
        g_ptr_array_add (lane, g_object_ref (device));
    }

  /* One "items-changed" per lane, whatever the number of devices. */
  old_inventory = _rd_device_store_take_all_prepared (self->lanes[RD_LANE_INVENTORY], inventory,
                                                      entries);
  for (guint lane = RD_LANE_BREAK_FIX; lane < RD_N_LANES; lane++)
    rd_device_store_replace_all (self->lanes[lane], in_lanes[lane]);
  for (guint lane = RD_LANE_BREAK_FIX; lane < RD_N_LANES; lane++)
    g_ptr_array_unref (in_lanes[lane]);

  if (plans_changed)
    {
      g_autoptr(GError) error = NULL;

      /* A plan's state is derived here, so failing to save it loses
       * nothing: it is derived again at the next start. */
      if (!save (self, &error))
        g_debug ("Could not save re-evaluated plans: %s", error->message);
    }

  if (defer_release && g_hash_table_size (old_devices) + old_inventory->len > 4096)
    {
      Release *release = g_new0 (Release, 1);

      release->items = g_steal_pointer (&old_inventory);
      release->table = g_steal_pointer (&old_devices);
      g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, release_step_cb, release,
                       (GDestroyNotify) release_free);
    }
}

/* Ends the hand-off under way, if any, as replaced by a newer one. */
static void
supersede_hand_off (RdBoard *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->hand_off);

  if (task == NULL)
    return;

  if (self->hand_off_source != NULL)
    g_source_destroy (self->hand_off_source);
  g_clear_pointer (&self->hand_off_source, g_source_unref);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "A newer inventory replaced this one");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
}

static gboolean
hand_off_step_cb (gpointer user_data)
{
  RdBoard *self = user_data;
  g_autoptr(GTask) task = g_object_ref (self->hand_off);
  HandOff *hand_off = g_task_get_task_data (task);

  if (!g_cancellable_is_cancelled (g_task_get_cancellable (task)) &&
      !take_devices (self, hand_off, g_get_monotonic_time () + STEP_USEC))
    return G_SOURCE_CONTINUE;
  /* A device's notify handler may have handed over newer devices. */
  if (self->hand_off != task)
    return G_SOURCE_REMOVE;

  /* Over before the lanes change or the callback runs, either of which
   * may start another. */
  g_clear_object (&self->hand_off);
  g_clear_pointer (&self->hand_off_source, g_source_unref);
  if (!g_task_return_error_if_cancelled (task))
    {
      commit_devices (self, hand_off, NULL, TRUE);
      g_task_return_boolean (task, TRUE);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);

  return G_SOURCE_REMOVE;
}

/**
 * rd_board_set_devices:
 * @devices: (element-type RdDevice): the tenant's devices, as a sync found them
 *
 * Takes in a fresh inventory, at once. A device already known keeps its
 * object and takes the new facts; a device with a plan goes to its plan's
 * lane, the others to Devices in the order given (a device listed twice,
 * the first time). A device that is gone from the tenant leaves the board
 * unless a plan holds it. Plans that nothing has been done for are
 * evaluated again, since their facts may have changed. A hand-off under
 * way (rd_board_set_devices_async()) is replaced by this one.
 *
 * With 100,000 devices this holds the main loop for a while; a program
 * with a window calls rd_board_set_devices_async().
 */
void
rd_board_set_devices (RdBoard   *self,
                      GPtrArray *devices)
{
  HandOff *hand_off;

  g_return_if_fail (RD_IS_BOARD (self));
  g_return_if_fail (devices != NULL);

  supersede_hand_off (self);

  hand_off = hand_off_new (devices);
  take_devices (self, hand_off, 0);
  commit_devices (self, hand_off, NULL, FALSE);
  hand_off_free (hand_off);
}

/* A listing filed ahead */

struct _RdBoardListing
{
  /* Every device taken, as into a board without any; its order is NULL
   * while it would be its listing: no device is listed twice. */
  HandOff *hand_off;
  RdDeviceQueryEntries *entries; /* for the order */
};

/**
 * rd_board_listing_catch_up:
 *
 * Files the devices added to the listing's array since it was made or
 * last caught up: a reader can file devices as it makes them, while their
 * memory is at hand.
 */
void
rd_board_listing_catch_up (RdBoardListing *listing)
{
  HandOff *hand_off;
  GPtrArray *devices;

  g_return_if_fail (listing != NULL);
  g_return_if_fail (listing->entries != NULL);

  hand_off = listing->hand_off;
  devices = hand_off->listing;
  for (; hand_off->order == NULL && hand_off->next < devices->len; hand_off->next++)
    {
      RdDevice *device = devices->pdata[hand_off->next];
      const char *id = rd_device_get_id (device);

      /* A device listed twice: from here on, as a hand-off takes them. */
      if (id == NULL || g_hash_table_contains (hand_off->taken, id))
        {
          hand_off->order = g_ptr_array_new_full (devices->len, g_object_unref);
          for (guint i = 0; i < hand_off->next; i++)
            g_ptr_array_add (hand_off->order, g_object_ref (devices->pdata[i]));
          break;
        }
      g_hash_table_insert (hand_off->taken, (gpointer) id, g_object_ref (device));
    }
  if (hand_off->order != NULL)
    take_devices_from (hand_off, NULL, G_MAXUINT, 0);

  _rd_device_query_entries_catch_up (listing->entries,
                                     hand_off->order != NULL ? hand_off->order : devices);
}

/**
 * rd_board_listing_new:
 * @devices: (element-type RdDevice): the tenant's devices, which no other
 *   thread touches yet; the listing keeps a reference, so do not change
 *   the array other than by adding devices for
 *   rd_board_listing_catch_up()
 *
 * Files @devices, on any thread, for a board that holds no devices yet:
 * rd_board_take_listing() then takes them in at once. The app's start
 * files the cached inventory on the thread that read it, while the window
 * is being built, so that the window's first frame can show the devices:
 * for 100,000 devices, rd_board_set_devices_async() spends some 100 ms of
 * the main thread on what this does elsewhere.
 *
 * Returns: (transfer full): the filed devices
 */
RdBoardListing *
rd_board_listing_new (GPtrArray *devices)
{
  RdBoardListing *listing;

  g_return_val_if_fail (devices != NULL, NULL);

  listing = g_new0 (RdBoardListing, 1);
  listing->hand_off = hand_off_new (devices);
  g_clear_pointer (&listing->hand_off->order, g_ptr_array_unref);
  listing->entries = _rd_device_query_entries_new ();
  rd_board_listing_catch_up (listing);

  return listing;
}

void
rd_board_listing_free (RdBoardListing *listing)
{
  if (listing == NULL)
    return;

  hand_off_free (listing->hand_off);
  g_clear_pointer (&listing->entries, _rd_device_query_entries_free);
  g_free (listing);
}

/**
 * rd_board_take_listing:
 * @listing: devices filed by rd_board_listing_new()
 *
 * Takes in the devices of @listing at once, as rd_board_set_devices()
 * would, when the board holds no devices and no hand-off is under way;
 * the Devices lane's query models take the entries made with the listing.
 * A listing is taken once. The board may take over the array of devices
 * given to rd_board_listing_new() as the Devices lane's own (it then
 * holds each device once, with g_object_unref() as its free function):
 * let go of it after this.
 *
 * Returns: whether the board took the devices; if not, nothing changed,
 *   and the caller hands them over as usual
 */
gboolean
rd_board_take_listing (RdBoard        *self,
                       RdBoardListing *listing)
{
  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);
  g_return_val_if_fail (listing != NULL, FALSE);

  if (g_hash_table_size (self->devices) > 0 || self->hand_off != NULL ||
      listing->hand_off->taken == NULL)
    return FALSE;

  /* No device listed twice: the listing itself is the order, whose
   * devices the board does not visit again. */
  if (listing->hand_off->order == NULL)
    listing->hand_off->order = g_ptr_array_ref (listing->hand_off->listing);

  commit_devices (self, listing->hand_off, listing->entries, FALSE);
  g_clear_pointer (&listing->entries, _rd_device_query_entries_free);

  return TRUE;
}

/**
 * rd_board_set_devices_async:
 * @devices: (element-type RdDevice): the tenant's devices, as a sync found
 *   them; the board keeps a reference, so do not change the array
 * @io_priority: the priority of the steps in the thread-default main
 *   context: below GDK_PRIORITY_REDRAW (such as %G_PRIORITY_DEFAULT_IDLE)
 *   for frames between steps, above it to have the devices in the next
 *   frame
 *
 * Takes in a fresh inventory as rd_board_set_devices() does, over several
 * main-loop iterations of a few milliseconds each, so that a window keeps
 * responding while 100,000 devices are handed over. Devices take their new
 * facts as the steps reach them; the lanes and rd_board_lookup_device()
 * show the board as it was until the last step, which changes every lane
 * at once. Moves, plans and their saving work meanwhile, and the last step
 * places the devices by the plans as they are then.
 *
 * A newer hand-off, synchronous or not, replaces this one: its callback
 * then gets %G_IO_ERROR_CANCELLED, as it does when @cancellable is
 * cancelled (the devices taken so far keep their new facts, the lanes
 * stay as they were).
 */
void
rd_board_set_devices_async (RdBoard             *self,
                            GPtrArray           *devices,
                            int                  io_priority,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) old = NULL;

  g_return_if_fail (RD_IS_BOARD (self));
  g_return_if_fail (devices != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* The one under way ends after this one is in place, since its callback
   * may run at once. */
  old = g_steal_pointer (&self->hand_off);
  if (self->hand_off_source != NULL)
    g_source_destroy (self->hand_off_source);
  g_clear_pointer (&self->hand_off_source, g_source_unref);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_board_set_devices_async);
  g_task_set_priority (task, io_priority);
  g_task_set_task_data (task, hand_off_new (devices), (GDestroyNotify) hand_off_free);

  self->hand_off = g_object_ref (task);
  self->hand_off_source = g_idle_source_new ();
  g_source_set_priority (self->hand_off_source, io_priority);
  g_source_set_callback (self->hand_off_source, hand_off_step_cb, self, NULL);
  g_source_set_static_name (self->hand_off_source, "[recovery-desk] board hand-off");
  g_source_attach (self->hand_off_source, g_task_get_context (task));

  if (old != NULL)
    g_task_return_new_error (old, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "A newer inventory replaced this one");
  else
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
}

/**
 * rd_board_set_devices_finish:
 *
 * Returns: %TRUE once the board holds the devices; %FALSE with
 *   %G_IO_ERROR_CANCELLED when cancelled or replaced by a newer hand-off
 */
gboolean
rd_board_set_devices_finish (RdBoard       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_board_set_devices_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rd_board_get_pending:
 *
 * Returns: whether a hand-off (rd_board_set_devices_async()) is under way
 */
gboolean
rd_board_get_pending (RdBoard *self)
{
  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);

  return self->hand_off != NULL;
}

/**
 * rd_board_get_lane:
 *
 * Returns: (transfer none): the devices in @lane, a #GListModel of #RdDevice
 */
GListModel *
rd_board_get_lane (RdBoard *self,
                   RdLane   lane)
{
  g_return_val_if_fail (RD_IS_BOARD (self), NULL);
  g_return_val_if_fail ((guint) lane < RD_N_LANES, NULL);

  return G_LIST_MODEL (self->lanes[lane]);
}

RdDevice *
rd_board_lookup_device (RdBoard    *self,
                        const char *device_id)
{
  g_return_val_if_fail (RD_IS_BOARD (self), NULL);

  return device_id != NULL ? g_hash_table_lookup (self->devices, device_id) : NULL;
}

RdLane
rd_board_get_device_lane (RdBoard  *self,
                          RdDevice *device)
{
  RdPlan *plan = rd_board_get_plan (self, device);

  return plan != NULL ? rd_plan_get_lane (plan) : RD_LANE_INVENTORY;
}

/**
 * rd_board_get_plan:
 *
 * Returns: (nullable) (transfer none): the device's plan, if it is in a lane
 */
RdPlan *
rd_board_get_plan (RdBoard  *self,
                   RdDevice *device)
{
  g_return_val_if_fail (RD_IS_BOARD (self), NULL);
  g_return_val_if_fail (RD_IS_DEVICE (device), NULL);

  return g_hash_table_lookup (self->plans, rd_device_get_id (device));
}

/**
 * rd_board_dup_plans:
 *
 * Returns: (transfer container) (element-type RdPlan): every plan, including
 *   those whose device the inventory does not show, ordered by device id
 */
GPtrArray *
rd_board_dup_plans (RdBoard *self)
{
  GPtrArray *plans;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (RD_IS_BOARD (self), NULL);

  plans = g_ptr_array_new_full (g_hash_table_size (self->plans), g_object_unref);
  g_hash_table_iter_init (&iter, self->plans);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (plans, g_object_ref (value));

  return plans;
}

/* Puts @device into @lane with @plan (or none, for Devices), replacing
 * whatever it had; used both to move and to undo a move. */
static void
place (RdBoard  *self,
       RdDevice *device,
       RdLane    lane,
       RdPlan   *plan)
{
  RdPlan *current = g_hash_table_lookup (self->plans, rd_device_get_id (device));

  remove_from_lane (self, current != NULL ? rd_plan_get_lane (current) : RD_LANE_INVENTORY,
                    device);
  g_hash_table_remove (self->plans, rd_device_get_id (device));

  if (plan != NULL)
    insert_plan (self, plan);
  rd_device_store_append (self->lanes[lane], device);
}

/**
 * rd_board_move_device:
 * @device: a device on the board
 * @lane: where it goes
 *
 * The one way a device moves. A move to Break and Fix or Reuse gives the
 * device a new plan with the lane's default method, evaluated for
 * readiness; a move back to Devices drops the plan. A device whose action
 * has been sent (or may have been) cannot move: a wipe cannot be un-sent.
 * The plans are saved before this returns; if they cannot be, nothing moves.
 */
gboolean
rd_board_move_device (RdBoard   *self,
                      RdDevice  *device,
                      RdLane     lane,
                      GError   **error)
{
  g_autoptr(RdPlan) previous = NULL;
  g_autoptr(RdPlan) plan = NULL;
  RdLane from;

  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);
  g_return_val_if_fail (RD_IS_DEVICE (device), FALSE);
  g_return_val_if_fail ((guint) lane < RD_N_LANES, FALSE);

  if (g_hash_table_lookup (self->devices, rd_device_get_id (device)) != device)
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED,
                   _("%s is not on the board. Refresh the inventory and try again."),
                   rd_device_get_name (device));
      return FALSE;
    }

  previous = g_hash_table_lookup (self->plans, rd_device_get_id (device));
  if (previous != NULL)
    g_object_ref (previous);
  from = previous != NULL ? rd_plan_get_lane (previous) : RD_LANE_INVENTORY;

  if (from == lane)
    return TRUE;

  if (previous != NULL && rd_plan_is_in_flight (previous))
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_MOVE_REFUSED,
                   _("%s cannot leave %s: its action has been sent to the device (%s) and "
                     "cannot be taken back. Wait until it is done or has failed."),
                   rd_device_get_name (device), rd_lane_get_title (from),
                   rd_plan_state_to_string (rd_plan_get_state (previous)));
      return FALSE;
    }

  if (lane != RD_LANE_INVENTORY)
    {
      plan = rd_plan_new (device, lane, rd_method_get_default (lane));
      evaluate_plan (plan);
    }

  place (self, device, lane, plan);

  if (!save (self, error))
    {
      place (self, device, from, previous);
      return FALSE;
    }

  return TRUE;
}

/**
 * rd_board_set_method:
 *
 * Changes the method of the device's plan, evaluates it again and saves.
 */
gboolean
rd_board_set_method (RdBoard   *self,
                     RdDevice  *device,
                     RdMethod   method,
                     GError   **error)
{
  RdPlan *plan;
  RdMethod old_method;
  RdPlanState old_state;

  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);
  g_return_val_if_fail (RD_IS_DEVICE (device), FALSE);

  plan = rd_board_get_plan (self, device);
  if (plan == NULL)
    {
      g_set_error (error, RD_CORE_ERROR, RD_CORE_ERROR_METHOD_NOT_IN_LANE,
                   _("%s has no plan. Move it to Break and Fix or Reuse first."),
                   rd_device_get_name (device));
      return FALSE;
    }

  old_method = rd_plan_get_method (plan);
  old_state = rd_plan_get_state (plan);
  if (!rd_plan_set_method (plan, method, error))
    return FALSE;
  evaluate_plan (plan);

  if (!save (self, error))
    {
      rd_plan_set_method (plan, old_method, NULL);
      _rd_plan_restore_state (plan, old_state);
      return FALSE;
    }

  return TRUE;
}

/**
 * rd_board_transition_plan:
 *
 * Moves @plan to @state and saves it durably before returning, so that a
 * plan is on disk as "sending" before its request leaves. When the save
 * fails the plan keeps its old state and nothing may be sent.
 */
gboolean
rd_board_transition_plan (RdBoard      *self,
                          RdPlan       *plan,
                          RdPlanState   state,
                          GError      **error)
{
  RdPlanState old_state;

  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);
  g_return_val_if_fail (RD_IS_PLAN (plan), FALSE);
  g_return_val_if_fail (g_hash_table_lookup (self->plans, rd_plan_get_device_id (plan)) == plan,
                        FALSE);

  old_state = rd_plan_get_state (plan);
  if (!rd_plan_transition (plan, state, error))
    return FALSE;

  if (!save (self, error))
    {
      _rd_plan_restore_state (plan, old_state);
      return FALSE;
    }

  return TRUE;
}

/**
 * rd_board_record_usb_key:
 * @plan: a reimage plan on the board, ready
 * @image_name: the image written to the key
 * @image_sha256: its SHA-256, in hex, as the key was verified against
 * @drive_serial: the key's serial number
 *
 * Records a verified USB key in @plan, which goes to usb-prepared, and saves the plans before
 * returning. When the save fails the plan keeps its old state and key, as on disk.
 */
gboolean
rd_board_record_usb_key (RdBoard     *self,
                         RdPlan      *plan,
                         const char  *image_name,
                         const char  *image_sha256,
                         const char  *drive_serial,
                         GError     **error)
{
  g_autofree char *old_name = NULL;
  g_autofree char *old_sha256 = NULL;
  g_autofree char *old_serial = NULL;
  RdPlanState old_state;

  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);
  g_return_val_if_fail (RD_IS_PLAN (plan), FALSE);
  g_return_val_if_fail (g_hash_table_lookup (self->plans, rd_plan_get_device_id (plan)) == plan,
                        FALSE);

  old_state = rd_plan_get_state (plan);
  old_name = g_strdup (rd_plan_get_usb_image_name (plan));
  old_sha256 = g_strdup (rd_plan_get_usb_image_sha256 (plan));
  old_serial = g_strdup (rd_plan_get_usb_drive_serial (plan));
  if (!rd_plan_record_usb_key (plan, image_name, image_sha256, drive_serial, error))
    return FALSE;

  if (!save (self, error))
    {
      _rd_plan_restore_usb_key (plan, old_state, old_name, old_sha256, old_serial);
      return FALSE;
    }

  return TRUE;
}

/**
 * rd_board_evaluate:
 *
 * Returns: (transfer full): the readiness checks of the device for its
 *   plan's method, a #GListModel of #RdCheck; empty without a plan
 */
GListModel *
rd_board_evaluate (RdBoard  *self,
                   RdDevice *device)
{
  RdPlan *plan;

  g_return_val_if_fail (RD_IS_BOARD (self), NULL);
  g_return_val_if_fail (RD_IS_DEVICE (device), NULL);

  plan = rd_board_get_plan (self, device);
  if (plan == NULL)
    return G_LIST_MODEL (g_list_store_new (RD_TYPE_CHECK));

  return rd_readiness_evaluate (device, rd_plan_get_method (plan), NULL);
}

gboolean
rd_board_save (RdBoard  *self,
               GError  **error)
{
  g_return_val_if_fail (RD_IS_BOARD (self), FALSE);

  return save (self, error);
}

/**
 * rd_board_dup_ready_plans:
 * @lane: Break and Fix or Reuse
 *
 * The plans a lane's "Run all ready" sends: those in @lane, in the lane's
 * order, that are ready, whose method sends an Intune wipe (a reimage is
 * done by hand from a USB key), whose device has no wipe pending, and that
 * no readiness check blocks now.
 *
 * Returns: (transfer container) (element-type RdPlan): the plans
 */
GPtrArray *
rd_board_dup_ready_plans (RdBoard *self,
                          RdLane   lane)
{
  GListModel *model;
  GPtrArray *plans;
  guint n;

  g_return_val_if_fail (RD_IS_BOARD (self), NULL);
  g_return_val_if_fail ((guint) lane < RD_N_LANES, NULL);

  plans = g_ptr_array_new_with_free_func (g_object_unref);
  model = rd_board_get_lane (self, lane);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdDevice) device = g_list_model_get_item (model, i);
      g_autoptr(GListModel) checks = NULL;
      RdPlan *plan = rd_board_get_plan (self, device);

      if (plan == NULL || rd_plan_get_state (plan) != RD_PLAN_STATE_READY ||
          !rd_method_sends_wipe (rd_plan_get_method (plan)) || rd_device_has_wipe_pending (device))
        continue;

      checks = rd_readiness_evaluate (device, rd_plan_get_method (plan), NULL);
      if (rd_readiness_first_blocker (checks) == NULL)
        g_ptr_array_add (plans, g_object_ref (plan));
    }

  return plans;
}

/* For tests: a hand-off takes at most @devices devices a step (0: as many
 * as its time allows), so that a short listing takes several steps. */
void
_rd_board_set_hand_off_step (RdBoard *self,
                             guint    devices)
{
  g_return_if_fail (RD_IS_BOARD (self));

  self->step_devices = devices;
}
