/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-device-query-model"

#include "config.h"

#include "rd-device-private.h"
#include "rd-device-query-model-private.h"

#include <string.h>

/* A lane's devices as the lane shows them: sorted, then filtered by the
 * search and the quick filters. It does the work of GtkSortListModel →
 * GtkFilterListModel, for 100,000 devices without stalling the main loop:
 *
 * - every device gets an entry made on the main thread, which holds what
 *   sorting and filtering read (the collation key and the search text, both
 *   GRefStrings that the device computed where it was made, and the quick
 *   filters' facts), so that a worker never touches a device; a device whose
 *   facts changed since (its revision tells) gets a new entry at the next
 *   query, as a GtkFilterListModel would read its facts again;
 * - a long list is sorted and filtered on a worker, and the result swapped
 *   in with a single "items-changed" that spares the common start and end;
 *   a newer query cancels the one under way, whose result is dropped;
 * - a query that only narrows the last one (another letter, another word,
 *   another quick filter) filters the devices shown, not all of them;
 * - the results of the last queries are kept, tied to the sorted list they
 *   came from: a query asked again (a backspace after a letter) shows its
 *   result at once, and a query that narrows one of them filters the
 *   smallest such result. Any change of the sorted list (a device's facts,
 *   devices come or go, another sort) makes a new sorted array, and results
 *   of another array are never used;
 * - a short list, or a change of a few devices in a long one (a move to
 *   another lane), is done at once, so that callers see it on return.
 *
 * Arrays of entries are never changed once made: a worker may still read
 * one that the main thread has replaced. */

#define SMALL_CHANGE 64
#define NEVER G_MININT64

typedef struct
{
  gatomicrefcount ref;
  RdDevice *device;
  char *key;  /* GRefString */
  char *text; /* GRefString */
  gint64 last_sync;
  guint serial;
  guint revision;
  RdCompliance compliance;
  RdTristate encrypted;
  RdTristate autopilot;
} Entry;

typedef struct
{
  gatomicrefcount ref;
  char **words; /* non-empty only */
  RdDeviceQuickFilters flags;
  gint64 stale_before;
} Filter;

struct _RdDeviceQueryModel
{
  GObject parent_instance;

  GListModel *model;
  RdDeviceSort sort;
  guint next_serial;

  GPtrArray *source; /* Entry, in the model's order */
  GPtrArray *source_told; /* a source whose order was told, or NULL */
  guint source_unsorted;  /* for @source_told: as RdDeviceQueryEntries */
  GPtrArray *sorted; /* Entry, sorted, or NULL until sorted */
  GPtrArray *shown;  /* Entry, sorted and filtered: what the list holds */
  Filter *filter;    /* the filter wanted */
  Filter *applied;   /* the filter @shown went through */

  GPtrArray *results_from; /* the sorted list @results came from */
  GPtrArray *results;      /* Result, least recently used first */

  gboolean resort;   /* @source changed or the sort did since @sorted */
  guint revisions;   /* _rd_device_get_revisions () when @source was checked */
  gboolean patching; /* update_few() is emitting "items-changed" */
  GCancellable *job_cancellable;
  guint generation;
  struct _Build *build; /* entries being made for a long change, or NULL */
  guint build_source;
};

enum
{
  PROP_0,
  PROP_PENDING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void rd_device_query_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RdDeviceQueryModel, rd_device_query_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      rd_device_query_model_list_model_init))

/* Entries */

static Entry *
entry_new (RdDevice *device,
           guint     serial)
{
  Entry *entry = g_new0 (Entry, 1);
  gint64 last_sync = rd_device_get_last_sync_usec (device);

  g_atomic_ref_count_init (&entry->ref);
  entry->device = g_object_ref (device);
  entry->key = g_ref_string_acquire ((char *) _rd_device_get_sort_key (device));
  entry->text = g_ref_string_acquire ((char *) rd_device_get_search_text (device));
  entry->last_sync = last_sync != RD_DEVICE_NO_DATE ? last_sync / G_USEC_PER_SEC : NEVER;
  entry->serial = serial;
  entry->revision = _rd_device_get_revision (device);
  entry->compliance = rd_device_get_compliance (device);
  entry->encrypted = rd_device_get_encrypted (device);
  entry->autopilot = rd_device_get_autopilot (device);

  return entry;
}

static gpointer
entry_ref (gconstpointer src,
           gpointer      user_data)
{
  Entry *entry = (Entry *) src;

  g_atomic_ref_count_inc (&entry->ref);
  return entry;
}

static void
entry_unref (gpointer data)
{
  Entry *entry = data;

  if (!g_atomic_ref_count_dec (&entry->ref))
    return;

  /* Devices are GObjects, whose last unref may run on a worker. */
  g_object_unref (entry->device);
  g_ref_string_release (entry->key);
  g_ref_string_release (entry->text);
  g_free (entry);
}

static GPtrArray *
entries_copy (GPtrArray *entries)
{
  return g_ptr_array_copy (entries, entry_ref, NULL);
}

/* Filters */

static Filter *
filter_new (const char *const    *words,
            RdDeviceQuickFilters  flags,
            gint64                stale_before)
{
  Filter *filter = g_new0 (Filter, 1);
  GPtrArray *kept = g_ptr_array_new ();

  g_atomic_ref_count_init (&filter->ref);
  for (guint i = 0; words != NULL && words[i] != NULL; i++)
    if (*words[i] != '\0')
      g_ptr_array_add (kept, g_strdup (words[i]));
  g_ptr_array_add (kept, NULL);
  filter->words = (char **) g_ptr_array_free (kept, FALSE);
  filter->flags = flags;
  filter->stale_before = (flags & RD_DEVICE_QUICK_FILTER_STALE) != 0 ? stale_before : 0;

  return filter;
}

static Filter *
filter_ref (Filter *filter)
{
  g_atomic_ref_count_inc (&filter->ref);
  return filter;
}

static void
filter_unref (Filter *filter)
{
  if (filter == NULL || !g_atomic_ref_count_dec (&filter->ref))
    return;

  g_strfreev (filter->words);
  g_free (filter);
}

static gboolean
filter_is_active (const Filter *filter)
{
  return filter->flags != 0 || filter->words[0] != NULL;
}

static gboolean
filter_equal (const Filter *a,
              const Filter *b)
{
  return a->flags == b->flags && a->stale_before == b->stale_before &&
         g_strv_equal ((const char *const *) a->words, (const char *const *) b->words);
}

/* Whether everything @narrower lets through, @wider lets through too. */
static gboolean
filter_narrows (const Filter *narrower,
                const Filter *wider)
{
  if ((narrower->flags & wider->flags) != wider->flags)
    return FALSE;
  if ((wider->flags & RD_DEVICE_QUICK_FILTER_STALE) != 0 &&
      narrower->stale_before > wider->stale_before)
    return FALSE;

  /* Each wider word is inside a narrower one, so a text that holds every
   * narrower word holds it too. */
  for (guint i = 0; wider->words[i] != NULL; i++)
    {
      gboolean inside = FALSE;

      for (guint j = 0; !inside && narrower->words[j] != NULL; j++)
        inside = strstr (narrower->words[j], wider->words[i]) != NULL;
      if (!inside)
        return FALSE;
    }

  return TRUE;
}

static gboolean
is_noncompliant (RdCompliance compliance)
{
  return compliance == RD_COMPLIANCE_NONCOMPLIANT || compliance == RD_COMPLIANCE_IN_GRACE_PERIOD ||
         compliance == RD_COMPLIANCE_CONFLICT || compliance == RD_COMPLIANCE_ERROR;
}

/* Whether @text holds @word, which is not empty: strstr() prepares its
 * search anew at each call, which for words of three letters or more costs
 * more than the search in a device's short text, 100,000 times a query. */
static gboolean
text_contains (const char *text,
               const char *word)
{
  size_t rest = strlen (word + 1);

  for (const char *p = strchr (text, word[0]); p != NULL; p = strchr (p + 1, word[0]))
    if (rest == 0 || strncmp (p + 1, word + 1, rest) == 0)
      return TRUE;

  return FALSE;
}

/* "Unknown" is not "no": the quick filters show only what Intune said. */
static gboolean
filter_matches (const Filter *filter,
                const Entry  *entry)
{
  RdDeviceQuickFilters flags = filter->flags;

  if ((flags & RD_DEVICE_QUICK_FILTER_NONCOMPLIANT) != 0 && !is_noncompliant (entry->compliance))
    return FALSE;
  if ((flags & RD_DEVICE_QUICK_FILTER_UNENCRYPTED) != 0 && entry->encrypted != RD_TRISTATE_NO)
    return FALSE;
  if ((flags & RD_DEVICE_QUICK_FILTER_WITHOUT_AUTOPILOT) != 0 &&
      entry->autopilot != RD_TRISTATE_NO)
    return FALSE;
  if ((flags & RD_DEVICE_QUICK_FILTER_STALE) != 0 && entry->last_sync != NEVER &&
      entry->last_sync >= filter->stale_before)
    return FALSE;

  for (guint i = 0; filter->words[i] != NULL; i++)
    if (!text_contains (entry->text, filter->words[i]))
      return FALSE;

  return TRUE;
}

/* Results: what recent filters let through, in order */

#define RESULTS_MAX 32

typedef struct
{
  Filter *filter;
  GPtrArray *shown; /* Entry; may be the sorted list itself */
} Result;

static void
result_free (gpointer data)
{
  Result *result = data;

  filter_unref (result->filter);
  g_ptr_array_unref (result->shown);
  g_free (result);
}

/* Drops the results unless they came from @sorted. */
static void
results_check (RdDeviceQueryModel *self,
               GPtrArray          *sorted)
{
  if (self->results_from == sorted)
    return;

  g_ptr_array_set_size (self->results, 0);
  g_clear_pointer (&self->results_from, g_ptr_array_unref);
  if (sorted != NULL)
    self->results_from = g_ptr_array_ref (sorted);
}

/* Keeps @shown, which @filter let through out of @sorted. The oldest
 * results go first, when there are too many or they hold more entries than
 * twice the sorted list; results that are the whole list cost nothing. */
static void
results_add (RdDeviceQueryModel *self,
             GPtrArray          *sorted,
             Filter             *filter,
             GPtrArray          *shown)
{
  Result *result;
  gsize held = 0;

  results_check (self, sorted);
  for (guint i = 0; i < self->results->len; i++)
    if (filter_equal (((Result *) self->results->pdata[i])->filter, filter))
      {
        g_ptr_array_remove_index (self->results, i);
        break;
      }

  result = g_new0 (Result, 1);
  result->filter = filter_ref (filter);
  result->shown = g_ptr_array_ref (shown);
  g_ptr_array_add (self->results, result);

  for (guint i = 0; i < self->results->len; i++)
    {
      Result *kept = self->results->pdata[i];

      held += kept->shown != sorted ? kept->shown->len : 0;
    }
  while (self->results->len > RESULTS_MAX ||
         (self->results->len > 1 && held > 2 * (gsize) sorted->len))
    {
      Result *oldest = self->results->pdata[0];

      held -= oldest->shown != sorted ? oldest->shown->len : 0;
      g_ptr_array_remove_index (self->results, 0);
    }
}

/* The result of @filter over @sorted, if kept; it becomes the most recent. */
static GPtrArray *
results_find (RdDeviceQueryModel *self,
              GPtrArray          *sorted,
              const Filter       *filter)
{
  results_check (self, sorted);
  for (guint i = 0; i < self->results->len; i++)
    {
      Result *result = self->results->pdata[i];

      if (filter_equal (result->filter, filter))
        {
          g_ptr_array_steal_index (self->results, i);
          g_ptr_array_add (self->results, result);
          return result->shown;
        }
    }

  return NULL;
}

/* The shortest kept result over @sorted that holds every device @filter
 * lets through, or %NULL. */
static GPtrArray *
results_find_wider (RdDeviceQueryModel *self,
                    GPtrArray          *sorted,
                    const Filter       *filter)
{
  GPtrArray *best = NULL;

  results_check (self, sorted);
  for (guint i = 0; i < self->results->len; i++)
    {
      Result *result = self->results->pdata[i];

      if ((best == NULL || result->shown->len < best->len) &&
          filter_narrows (filter, result->filter))
        best = result->shown;
    }

  return best;
}

/* Sorting */

static int
compare_entries (const Entry  *a,
                 const Entry  *b,
                 RdDeviceSort  sort)
{
  int order = 0;

  if (sort == RD_DEVICE_SORT_NAME)
    order = strcmp (a->key, b->key);
  else if (sort == RD_DEVICE_SORT_LAST_SYNC)
    {
      /* Most recent first; devices that never checked in last. */
      if (a->last_sync != b->last_sync)
        order = a->last_sync > b->last_sync ? -1 : 1;
    }

  if (order == 0)
    order = a->serial < b->serial ? -1 : a->serial > b->serial;

  return order;
}

static int
compare_entry_pointers (gconstpointer a,
                        gconstpointer b,
                        gpointer      user_data)
{
  return compare_entries (*(Entry *const *) a, *(Entry *const *) b,
                          GPOINTER_TO_INT (user_data));
}

/* Where @entry goes in @entries, sorted by @sort. */
static guint
bisect (GPtrArray    *entries,
        const Entry  *entry,
        RdDeviceSort  sort)
{
  guint low = 0, high = entries->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;

      if (compare_entries (g_ptr_array_index (entries, middle), entry, sort) < 0)
        low = middle + 1;
      else
        high = middle;
    }

  return low;
}

/* Whether @entries are in order already, as the cached inventory comes:
 * one comparison per pair, and for devices in another order, few. */
static gboolean
entries_sorted (GPtrArray    *entries,
                RdDeviceSort  sort)
{
  if (sort == RD_DEVICE_SORT_NONE)
    return TRUE;

  for (guint i = 1; i < entries->len; i++)
    if (compare_entries (entries->pdata[i - 1], entries->pdata[i], sort) > 0)
      return FALSE;

  return TRUE;
}

/* Prepared entries */

struct _RdDeviceQueryEntries
{
  GPtrArray *entries; /* Entry, serials 0, 1, … in order; NULL once taken */
  guint revisions;    /* _rd_device_get_revisions () before they were made */
  guint unsorted;     /* (1 << RdDeviceSort) for each sort they are not in */
};

/**
 * _rd_device_query_entries_new:
 *
 * Starts the entries a query model would make for a store's new contents,
 * made on any thread with _rd_device_query_entries_catch_up(): the app's
 * start makes them on the thread that reads the cached inventory, as it
 * reads each device, so that the main thread need not visit 100,000
 * devices again (see _rd_device_store_take_all_prepared()).
 */
RdDeviceQueryEntries *
_rd_device_query_entries_new (void)
{
  RdDeviceQueryEntries *self = g_new0 (RdDeviceQueryEntries, 1);

  self->revisions = _rd_device_get_revisions ();
  self->entries = g_ptr_array_new_with_free_func (entry_unref);

  return self;
}

/* Makes entries for the devices of @devices past those it has: devices
 * that no other thread touches yet. */
void
_rd_device_query_entries_catch_up (RdDeviceQueryEntries *entries,
                                   GPtrArray            *devices)
{
  for (guint i = entries->entries->len; i < devices->len; i++)
    {
      Entry *entry = entry_new (devices->pdata[i], i);

      /* Whether they are in order, told while the entries are at hand. */
      if (i > 0)
        for (RdDeviceSort sort = RD_DEVICE_SORT_NAME; sort <= RD_DEVICE_SORT_LAST_SYNC; sort++)
          if (compare_entries (entries->entries->pdata[i - 1], entry, sort) > 0)
            entries->unsorted |= 1u << sort;
      g_ptr_array_add (entries->entries, entry);
    }
}

void
_rd_device_query_entries_free (RdDeviceQueryEntries *entries)
{
  g_clear_pointer (&entries->entries, g_ptr_array_unref);
  g_free (entries);
}

/* Jobs: what a worker (or, for a short list, the caller) computes */

typedef struct
{
  GWeakRef self;
  guint generation;
  RdDeviceSort sort;
  GPtrArray *source; /* to sort, or NULL */
  gboolean in_order; /* @source is sorted already */
  GPtrArray *base;   /* to filter when @source is NULL */
  GPtrArray *from;   /* the sorted list @base came from */
  Filter *filter;
  GPtrArray *sorted; /* out */
  GPtrArray *shown;  /* out */
} Job;

static void
job_free (Job *job)
{
  g_weak_ref_clear (&job->self);
  g_clear_pointer (&job->source, g_ptr_array_unref);
  g_clear_pointer (&job->base, g_ptr_array_unref);
  g_clear_pointer (&job->from, g_ptr_array_unref);
  filter_unref (job->filter);
  g_clear_pointer (&job->sorted, g_ptr_array_unref);
  g_clear_pointer (&job->shown, g_ptr_array_unref);
  g_free (job);
}

/* Filtering: a long list in two halves, on two threads, since the main
 * thread waits for the result and a machine has a second core. */

#define FILTER_SPLIT_MIN 16384

typedef struct
{
  const Filter *filter;
  GPtrArray *entries;
  guint start;
  guint end;
  GCancellable *cancellable;
  GPtrArray *shown; /* out; NULL when cancelled */
} FilterPart;

static gpointer
filter_part (gpointer data)
{
  FilterPart *part = data;
  /* No references yet: a query that lets everything through is common
   * (the first letters typed) and needs none. */
  GPtrArray *shown = g_ptr_array_sized_new ((part->end - part->start) / 4);

  for (guint i = part->start; i < part->end; i++)
    {
      Entry *entry = g_ptr_array_index (part->entries, i);

      /* The entries and their texts are all over the heap, in no order a
       * sorted list follows: ask for them a few entries ahead. */
      if (i + 16 < part->end)
        __builtin_prefetch (g_ptr_array_index (part->entries, i + 16));
      if (i + 8 < part->end)
        {
          const char *text = ((Entry *) g_ptr_array_index (part->entries, i + 8))->text;

          __builtin_prefetch (text);
          __builtin_prefetch (text + 64);
          __builtin_prefetch (text + 128);
        }

      if ((i - part->start) % 4096 == 0 && g_cancellable_is_cancelled (part->cancellable))
        {
          g_ptr_array_unref (shown);
          return NULL;
        }
      if (filter_matches (part->filter, entry))
        g_ptr_array_add (shown, entry);
    }

  part->shown = shown;
  return part;
}

/* The entries of @entries that @filter lets through, in order, or %NULL
 * when @cancellable is cancelled; @entries itself when all of them pass,
 * since arrays of entries are never changed. */
static GPtrArray *
filter_entries (const Filter *filter,
                GPtrArray    *entries,
                GCancellable *cancellable)
{
  FilterPart parts[2] = {
    { filter, entries, 0, entries->len, cancellable, NULL },
    { filter, entries, entries->len, entries->len, cancellable, NULL },
  };
  GThread *thread = NULL;
  GPtrArray *shown;

  if (entries->len >= FILTER_SPLIT_MIN && g_get_num_processors () > 1)
    {
      parts[0].end = parts[1].start = entries->len / 2;
      thread = g_thread_try_new ("rd-query-filter", filter_part, &parts[1], NULL);
      if (thread == NULL)
        parts[0].end = entries->len;
    }

  filter_part (&parts[0]);
  if (thread != NULL)
    g_thread_join (thread);
  else
    filter_part (&parts[1]);

  if (parts[0].shown == NULL || parts[1].shown == NULL)
    {
      g_clear_pointer (&parts[0].shown, g_ptr_array_unref);
      g_clear_pointer (&parts[1].shown, g_ptr_array_unref);
      return NULL;
    }

  g_ptr_array_extend_and_steal (parts[0].shown, parts[1].shown);
  shown = parts[0].shown;
  if (shown->len == entries->len)
    {
      g_ptr_array_unref (shown);
      return g_ptr_array_ref (entries);
    }

  for (guint i = 0; i < shown->len; i++)
    {
      if (i + 16 < shown->len)
        __builtin_prefetch (shown->pdata[i + 16], 1);
      entry_ref (shown->pdata[i], NULL);
    }
  g_ptr_array_set_free_func (shown, entry_unref);

  return shown;
}

static gboolean
job_run (Job          *job,
         GCancellable *cancellable)
{
  GPtrArray *base;

  if (job->source != NULL && job->in_order)
    {
      /* Arrays are never changed once made: the source is the sorted list. */
      job->sorted = g_ptr_array_ref (job->source);
      base = job->sorted;
    }
  else if (job->source != NULL)
    {
      job->sorted = entries_copy (job->source);
      if (job->sort != RD_DEVICE_SORT_NONE)
        g_qsort_with_data (job->sorted->pdata, job->sorted->len, sizeof (gpointer),
                           compare_entry_pointers, GINT_TO_POINTER (job->sort));
      base = job->sorted;
    }
  else
    base = job->base;

  if (!filter_is_active (job->filter))
    {
      job->shown = g_ptr_array_ref (base);
      return TRUE;
    }

  job->shown = filter_entries (job->filter, base, cancellable);

  return job->shown != NULL;
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  if (job_run (task_data, cancellable))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Superseded");
}

/* Swapping results in */

static void
set_pending (RdDeviceQueryModel *self,
             gboolean            pending)
{
  gboolean was = rd_device_query_model_get_pending (self);

  if (!pending)
    g_clear_object (&self->job_cancellable);
  if (was != rd_device_query_model_get_pending (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
}

/* Shows @shown, with one "items-changed" over what differs from before. */
static void
show (RdDeviceQueryModel *self,
      GPtrArray          *shown)
{
  g_autoptr(GPtrArray) old = self->shown;
  guint prefix = 0, suffix = 0;

  self->shown = g_ptr_array_ref (shown);

  while (prefix < old->len && prefix < shown->len && old->pdata[prefix] == shown->pdata[prefix])
    prefix++;
  while (suffix < old->len - prefix && suffix < shown->len - prefix &&
         old->pdata[old->len - 1 - suffix] == shown->pdata[shown->len - 1 - suffix])
    suffix++;

  if (prefix + suffix < old->len || prefix + suffix < shown->len)
    g_list_model_items_changed (G_LIST_MODEL (self), prefix, old->len - prefix - suffix,
                                shown->len - prefix - suffix);
}

static void
apply_job (RdDeviceQueryModel *self,
           Job                *job)
{
  if (job->sorted != NULL)
    {
      g_clear_pointer (&self->sorted, g_ptr_array_unref);
      self->sorted = g_ptr_array_ref (job->sorted);
      self->resort = FALSE;
      results_check (self, self->sorted);
    }
  filter_unref (self->applied);
  self->applied = filter_ref (job->filter);
  if (filter_is_active (job->filter))
    {
      GPtrArray *from = job->sorted != NULL ? job->sorted : job->from;

      if (from != NULL && from == self->sorted)
        results_add (self, from, job->filter, job->shown);
    }
  show (self, job->shown);
}

static void
on_job_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(RdDeviceQueryModel) self = g_weak_ref_get (&job->self);

  if (!g_task_propagate_boolean (G_TASK (result), NULL) || self == NULL ||
      job->generation != self->generation)
    return;

  apply_job (self, job);
  set_pending (self, FALSE);
}

/* New entries for the devices whose facts changed; they keep their place
 * among equals. */
static void
refresh_entries (RdDeviceQueryModel *self)
{
  GPtrArray *source = NULL;

  /* Nothing changed anywhere: no need to look at 100,000 devices. */
  if (_rd_device_get_revisions () == self->revisions)
    return;
  self->revisions = _rd_device_get_revisions ();

  for (guint i = 0; i < self->source->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->source, i);

      if (_rd_device_get_revision (entry->device) == entry->revision)
        continue;
      if (source == NULL)
        source = entries_copy (self->source);
      source->pdata[i] = entry_new (entry->device, entry->serial);
      entry_unref (entry);
    }

  if (source != NULL)
    {
      g_ptr_array_unref (self->source);
      self->source = source;
      self->resort = TRUE;
    }
}

/* Brings the list up to date with the source, the sort and the filter:
 * at once when that is cheap, else on a worker. */
static void
update (RdDeviceQueryModel *self)
{
  Job *job;
  guint work;

  refresh_entries (self);
  /* The order told holds only for the source it was told of. */
  if (self->source_told != self->source)
    g_clear_pointer (&self->source_told, g_ptr_array_unref);

  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
  self->generation++;

  job = g_new0 (Job, 1);
  g_weak_ref_init (&job->self, self);
  job->generation = self->generation;
  job->sort = self->sort;
  job->filter = filter_ref (self->filter);

  /* @resort stays set until a job that sorted is applied, so that a filter
   * set meanwhile does not go back to the old order. */
  if (self->resort || self->sorted == NULL)
    job->source = g_ptr_array_ref (self->source);
  else
    {
      GPtrArray *base = self->sorted;

      job->from = g_ptr_array_ref (self->sorted);
      if (filter_is_active (self->filter))
        {
          GPtrArray *kept = results_find (self, self->sorted, self->filter);

          /* Asked before, over the same devices: no filtering at all. */
          if (kept != NULL)
            {
              job->shown = g_ptr_array_ref (kept);
              apply_job (self, job);
              job_free (job);
              set_pending (self, FALSE);
              return;
            }

          base = results_find_wider (self, self->sorted, self->filter);
          if (self->applied != NULL && !self->patching &&
              filter_narrows (self->filter, self->applied) &&
              (base == NULL || self->shown->len < base->len))
            base = self->shown;
        }
      job->base = g_ptr_array_ref (base != NULL ? base : self->sorted);
    }
  work = job->source != NULL ? job->source->len : job->base->len;

  /* No filter over sorted devices costs nothing (devices handed over in
   * order, as from the cache, need only be checked); a short list little. */
  if (job->source != NULL && job->source == self->source_told)
    job->in_order = (self->source_unsorted & (1u << job->sort)) == 0;
  else if (job->source != NULL && !filter_is_active (job->filter) &&
           work > RD_DEVICE_QUERY_MODEL_SYNC_LIMIT)
    job->in_order = entries_sorted (job->source, job->sort);
  if ((job->source == NULL && !filter_is_active (job->filter)) || job->in_order ||
      work <= RD_DEVICE_QUERY_MODEL_SYNC_LIMIT)
    {
      job_run (job, NULL);
      apply_job (self, job);
      job_free (job);
      set_pending (self, FALSE);
    }
  else
    {
      g_autoptr(GTask) task = NULL;
      gboolean was_pending = self->job_cancellable != NULL;

      g_clear_object (&self->job_cancellable);
      self->job_cancellable = g_cancellable_new ();
      task = g_task_new (NULL, self->job_cancellable, on_job_done_cb, NULL);
      g_task_set_source_tag (task, update);
      g_task_set_task_data (task, job, (GDestroyNotify) job_free);
      g_task_run_in_thread (task, job_thread);
      if (!was_pending)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
    }
}

/* A few devices came or went in a long, sorted list, and nothing is under
 * way: they are taken out and put in where they belong, at once. The
 * sorted list is made whole first; the shown one changes a device at a
 * time, with an "items-changed" each. A handler that changes the query
 * meanwhile replaces the shown list, which ends this. */
static void
update_few (RdDeviceQueryModel *self,
            GPtrArray          *gone,
            GPtrArray          *added)
{
  g_autoptr(GPtrArray) sorted = entries_copy (self->sorted);
  g_autoptr(GPtrArray) shown = entries_copy (self->shown);

  for (guint i = 0; i < gone->len; i++)
    g_ptr_array_remove (sorted, g_ptr_array_index (gone, i));
  for (guint i = 0; i < added->len; i++)
    {
      Entry *entry = g_ptr_array_index (added, i);

      g_ptr_array_insert (sorted, bisect (sorted, entry, self->sort), entry_ref (entry, NULL));
    }
  g_ptr_array_unref (self->sorted);
  self->sorted = g_ptr_array_ref (sorted);

  g_ptr_array_unref (self->shown);
  self->shown = g_ptr_array_ref (shown);
  self->patching = TRUE;
  for (guint i = 0; i < gone->len + added->len; i++)
    {
      guint position;

      if (i < gone->len)
        {
          if (!g_ptr_array_find (shown, g_ptr_array_index (gone, i), &position))
            continue;
          g_ptr_array_remove_index (shown, position);
          g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
        }
      else
        {
          Entry *entry = g_ptr_array_index (added, i - gone->len);

          if (!filter_matches (self->applied, entry))
            continue;
          position = bisect (shown, entry, self->sort);
          g_ptr_array_insert (shown, position, entry_ref (entry, NULL));
          g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
        }

      if (self->shown != shown || self->job_cancellable != NULL)
        break;
    }
  self->patching = FALSE;
}

/* Long changes, in steps
 *
 * A change of many devices (a lane given a whole inventory) makes their
 * entries over several main-loop iterations, before the next frame, instead
 * of at once: the list shows the devices before until the entries are
 * made, then sorts and filters them as any change. The entries of the
 * devices before are kept for the devices that stay with the same facts,
 * found by position or, when the order changed (a sync's order after the
 * cache's), by device. A change that comes meanwhile only sets back how
 * far the entries go, since the model itself is read as the steps go. */

#define BUILD_MIN 16384
#define BUILD_STEP_USEC 5000

typedef struct _Build
{
  GPtrArray *entries; /* Entry, of the model's first entries->len items */
  GPtrArray *before;  /* Entry: the source before the change */
  GHashTable *by_device; /* RdDevice → Entry of @before, or NULL until needed */
  guint indexed;      /* how many of @before are in @by_device */
  gboolean changed;   /* anything but @before again, entry for entry */
} Build;

static void
build_free (Build *build)
{
  g_ptr_array_unref (build->entries);
  g_ptr_array_unref (build->before);
  g_clear_pointer (&build->by_device, g_hash_table_unref);
  g_free (build);
}

static void
build_cancel (RdDeviceQueryModel *self)
{
  if (self->build_source != 0)
    g_source_remove (self->build_source);
  self->build_source = 0;
  g_clear_pointer (&self->build, build_free);
}

static gboolean
time_is_up (guint  i,
            gint64 deadline)
{
  return i % 256 == 255 && g_get_monotonic_time () >= deadline;
}

/* Files the entries before by device, until @deadline. */
static gboolean
build_index (Build  *build,
             gint64  deadline)
{
  if (build->by_device == NULL)
    build->by_device = g_hash_table_new (NULL, NULL);

  for (; build->indexed < build->before->len; build->indexed++)
    {
      Entry *entry = build->before->pdata[build->indexed];

      if (time_is_up (build->indexed, deadline))
        return FALSE;
      g_hash_table_insert (build->by_device, entry->device, entry);
    }

  return TRUE;
}

/* Makes entries until @deadline; returns whether they are all made. */
static gboolean
build_entries (RdDeviceQueryModel *self,
               gint64              deadline)
{
  Build *build = self->build;
  guint n = g_list_model_get_n_items (self->model);

  while (build->entries->len < n)
    {
      guint i = build->entries->len;
      g_autoptr(RdDevice) device = NULL;
      Entry *old = NULL;
      Entry *entry;

      if (time_is_up (i, deadline))
        return FALSE;

      device = g_list_model_get_item (self->model, i);
      if (i < build->before->len && ((Entry *) build->before->pdata[i])->device == device)
        old = build->before->pdata[i];
      else if (build->before->len > 0)
        {
          if (!build_index (build, deadline))
            return FALSE;
          old = g_hash_table_lookup (build->by_device, device);
        }

      if (old != NULL && old->revision == _rd_device_get_revision (device))
        entry = entry_ref (old, NULL);
      else
        entry = entry_new (device, self->next_serial++);

      build->changed |= i >= build->before->len || build->before->pdata[i] != entry;
      g_ptr_array_add (build->entries, entry);
    }

  return TRUE;
}

static gboolean
build_step_cb (gpointer user_data)
{
  RdDeviceQueryModel *self = user_data;
  Build *build = self->build;
  gboolean changed;

  if (!build_entries (self, g_get_monotonic_time () + BUILD_STEP_USEC))
    return G_SOURCE_CONTINUE;

  self->build_source = 0;
  self->build = NULL;
  changed = build->changed || build->entries->len != build->before->len;
  g_ptr_array_unref (self->source);
  self->source = g_ptr_array_ref (build->entries);
  build_free (build);

  /* The same devices, unchanged, in the same order: nothing to do. */
  if (changed)
    {
      self->resort = TRUE;
      update (self);
    }
  if (!rd_device_query_model_get_pending (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);

  return G_SOURCE_REMOVE;
}

/* Takes a change of the model into the entries being made, or starts
 * making them for a long change. Returns whether the change is taken. */
static gboolean
build_follow (RdDeviceQueryModel *self,
              guint               position,
              guint               removed,
              guint               added)
{
  gboolean was_pending;

  if (self->build != NULL)
    {
      if (self->build->entries->len > position)
        g_ptr_array_set_size (self->build->entries, position);
      return TRUE;
    }

  if (added < BUILD_MIN)
    return FALSE;

  was_pending = rd_device_query_model_get_pending (self);
  self->build = g_new0 (Build, 1);
  self->build->entries = g_ptr_array_new_full (g_list_model_get_n_items (self->model),
                                               entry_unref);
  self->build->before = g_ptr_array_ref (self->source);

  /* Before the next frame is laid out (GDK_PRIORITY_REDRAW): the lane
   * does not show its old devices in frames after the change. */
  self->build_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 10, build_step_cb, self, NULL);
  g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->build_source),
                            "[recovery-desk] query model entries");
  if (!was_pending)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);

  return TRUE;
}

/* Takes the entries prepared for the store's new devices, when the store
 * has any (see _rd_device_store_take_all_prepared()) and they are for
 * every one of its devices, in order, and the list was empty. Returns
 * whether they are taken. */
static gboolean
take_prepared (RdDeviceQueryModel *self,
               guint               position,
               guint               removed,
               guint               added)
{
  RdDeviceQueryEntries *prepared;
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *items;
  guint next = 0;
  guint made;

  if (!RD_IS_DEVICE_STORE (self->model) || self->build != NULL || self->source->len > 0 ||
      position > 0 || removed > 0)
    return FALSE;
  prepared = _rd_device_store_peek_prepared (RD_DEVICE_STORE (self->model));
  items = _rd_device_store_peek_items (RD_DEVICE_STORE (self->model));
  if (prepared == NULL || prepared->entries == NULL || items->len != added ||
      added > prepared->entries->len)
    return FALSE;

  made = prepared->entries->len;

  /* The store may hold fewer of the devices (the board keeps a device in
   * a plan's lane out of the inventory), never others. All of them, the
   * entries are taken as they are, order told. */
  if (added == made)
    {
      for (guint i = 0; i < added; i++)
        if (((Entry *) prepared->entries->pdata[i])->device != items->pdata[i])
          return FALSE;
      entries = g_steal_pointer (&prepared->entries);
      g_clear_pointer (&self->source_told, g_ptr_array_unref);
      self->source_told = g_ptr_array_ref (entries);
      self->source_unsorted = prepared->unsorted;
    }
  else
    {
      entries = g_ptr_array_new_full (added, entry_unref);
      for (guint i = 0; i < added; i++)
        {
          while (next < prepared->entries->len &&
                 ((Entry *) prepared->entries->pdata[next])->device != items->pdata[i])
            next++;
          if (next == prepared->entries->len)
            return FALSE;
          g_ptr_array_add (entries, entry_ref (prepared->entries->pdata[next++], NULL));
        }
    }

  g_ptr_array_unref (self->source);
  self->source = g_steal_pointer (&entries);
  self->next_serial = MAX (self->next_serial, made);
  /* A device changed since the entries were made has its entry made again
   * in update(). */
  self->revisions = prepared->revisions;
  self->resort = TRUE;
  update (self);

  return TRUE;
}

static void
on_model_items_changed_cb (GListModel         *model,
                           guint               position,
                           guint               removed,
                           guint               added,
                           RdDeviceQueryModel *self)
{
  g_autoptr(GPtrArray) source = NULL;
  g_autoptr(GPtrArray) gone = NULL;
  g_autoptr(GPtrArray) fresh = NULL;
  gboolean unchanged = removed == added;

  if (take_prepared (self, position, removed, added) ||
      build_follow (self, position, removed, added))
    return;

  source = g_ptr_array_new_full (self->source->len - removed + added, entry_unref);
  gone = g_ptr_array_new_full (removed, entry_unref);
  fresh = g_ptr_array_new_full (added, entry_unref);
  for (guint i = 0; i < position; i++)
    g_ptr_array_add (source, entry_ref (self->source->pdata[i], NULL));
  for (guint i = 0; i < removed; i++)
    g_ptr_array_add (gone, entry_ref (self->source->pdata[position + i], NULL));
  /* A refresh hands the lane its devices again, mostly the same objects
   * with the same facts in the same places: their entries stay. */
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(RdDevice) device = g_list_model_get_item (model, position + i);
      Entry *old = i < removed ? g_ptr_array_index (gone, i) : NULL;
      Entry *entry;

      if (old != NULL && old->device == device &&
          old->revision == _rd_device_get_revision (device))
        entry = entry_ref (old, NULL);
      else
        {
          entry = entry_new (device, self->next_serial++);
          unchanged = FALSE;
        }

      g_ptr_array_add (source, entry);
      g_ptr_array_add (fresh, entry_ref (entry, NULL));
    }
  for (guint i = position + removed; i < self->source->len; i++)
    g_ptr_array_add (source, entry_ref (self->source->pdata[i], NULL));

  g_ptr_array_unref (self->source);
  self->source = g_steal_pointer (&source);

  /* The same devices, unchanged, in the same order: nothing to do. */
  if (unchanged)
    return;

  if (removed + added <= SMALL_CHANGE && self->sort != RD_DEVICE_SORT_NONE &&
      self->job_cancellable == NULL && self->sorted != NULL && !self->resort &&
      self->applied != NULL && filter_equal (self->applied, self->filter) &&
      self->source->len > RD_DEVICE_QUERY_MODEL_SYNC_LIMIT)
    update_few (self, gone, fresh);
  else
    {
      self->resort = TRUE;
      update (self);
    }
}

/* GListModel */

static GType
rd_device_query_model_get_item_type (GListModel *model)
{
  return RD_TYPE_DEVICE;
}

static guint
rd_device_query_model_get_n_items (GListModel *model)
{
  return RD_DEVICE_QUERY_MODEL (model)->shown->len;
}

static gpointer
rd_device_query_model_get_item (GListModel *model,
                                guint       position)
{
  RdDeviceQueryModel *self = RD_DEVICE_QUERY_MODEL (model);
  Entry *entry;

  if (position >= self->shown->len)
    return NULL;

  entry = g_ptr_array_index (self->shown, position);
  return g_object_ref (entry->device);
}

static void
rd_device_query_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = rd_device_query_model_get_item_type;
  iface->get_n_items = rd_device_query_model_get_n_items;
  iface->get_item = rd_device_query_model_get_item;
}

/* GObject */

static void
rd_device_query_model_dispose (GObject *object)
{
  RdDeviceQueryModel *self = (RdDeviceQueryModel *) object;

  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
  g_clear_object (&self->job_cancellable);
  build_cancel (self);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, on_model_items_changed_cb, self);
  g_clear_object (&self->model);

  G_OBJECT_CLASS (rd_device_query_model_parent_class)->dispose (object);
}

static void
rd_device_query_model_finalize (GObject *object)
{
  RdDeviceQueryModel *self = (RdDeviceQueryModel *) object;

  g_ptr_array_unref (self->source);
  g_clear_pointer (&self->source_told, g_ptr_array_unref);
  g_clear_pointer (&self->sorted, g_ptr_array_unref);
  g_ptr_array_unref (self->shown);
  filter_unref (self->filter);
  filter_unref (self->applied);
  g_ptr_array_unref (self->results);
  g_clear_pointer (&self->results_from, g_ptr_array_unref);

  G_OBJECT_CLASS (rd_device_query_model_parent_class)->finalize (object);
}

static void
rd_device_query_model_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  RdDeviceQueryModel *self = RD_DEVICE_QUERY_MODEL (object);

  switch (prop_id)
    {
    case PROP_PENDING:
      g_value_set_boolean (value, rd_device_query_model_get_pending (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_device_query_model_class_init (RdDeviceQueryModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_device_query_model_dispose;
  object_class->finalize = rd_device_query_model_finalize;
  object_class->get_property = rd_device_query_model_get_property;

  /**
   * RdDeviceQueryModel:pending:
   *
   * Whether a worker is sorting or filtering; the list shows the last
   * result until it is done.
   */
  properties[PROP_PENDING] =
    g_param_spec_boolean ("pending", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_device_query_model_init (RdDeviceQueryModel *self)
{
  self->source = g_ptr_array_new_with_free_func (entry_unref);
  self->shown = g_ptr_array_new_with_free_func (entry_unref);
  self->filter = filter_new (NULL, RD_DEVICE_QUICK_FILTER_NONE, 0);
  self->results = g_ptr_array_new_with_free_func (result_free);
}

/* Public API */

RdDeviceQueryModel *
rd_device_query_model_new (void)
{
  return g_object_new (RD_TYPE_DEVICE_QUERY_MODEL, NULL);
}

/**
 * rd_device_query_model_get_model:
 *
 * Returns: (nullable) (transfer none): the devices sorted and filtered
 */
GListModel *
rd_device_query_model_get_model (RdDeviceQueryModel *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_QUERY_MODEL (self), NULL);

  return self->model;
}

/**
 * rd_device_query_model_set_model:
 * @model: (nullable): a #GListModel of #RdDevice
 */
void
rd_device_query_model_set_model (RdDeviceQueryModel *self,
                                  GListModel         *model)
{
  guint n;

  g_return_if_fail (RD_IS_DEVICE_QUERY_MODEL (self));
  g_return_if_fail (model == NULL || G_IS_LIST_MODEL (model));

  if (self->model == model)
    return;

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, on_model_items_changed_cb, self);
  build_cancel (self);
  g_set_object (&self->model, model);
  if (model != NULL)
    g_signal_connect_object (model, "items-changed", G_CALLBACK (on_model_items_changed_cb),
                             self, 0);

  /* As if the old devices went and the new ones came. */
  n = model != NULL ? g_list_model_get_n_items (model) : 0;
  g_ptr_array_unref (self->source);
  self->source = g_ptr_array_new_with_free_func (entry_unref);
  if (n > 0)
    on_model_items_changed_cb (model, 0, 0, n, self);
  else
    {
      self->resort = TRUE;
      update (self);
    }
}

RdDeviceSort
rd_device_query_model_get_sort (RdDeviceQueryModel *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_QUERY_MODEL (self), RD_DEVICE_SORT_NONE);

  return self->sort;
}

void
rd_device_query_model_set_sort (RdDeviceQueryModel *self,
                                RdDeviceSort        sort)
{
  g_return_if_fail (RD_IS_DEVICE_QUERY_MODEL (self));

  if (self->sort == sort)
    return;

  self->sort = sort;
  self->resort = TRUE;
  update (self);
}

/**
 * rd_device_query_model_set_filter:
 * @folded_words: (nullable) (array zero-terminated=1): words that must all
 *   occur in a device's search text, each passed through g_utf8_casefold()
 * @filters: the quick filters
 * @stale_before: (nullable): with %RD_DEVICE_QUICK_FILTER_STALE, devices
 *   that checked in since are left out
 *
 * Filters the list, at once or, for a long list, on a worker; a newer
 * filter replaces one under way.
 */
void
rd_device_query_model_set_filter (RdDeviceQueryModel   *self,
                                  const char *const    *folded_words,
                                  RdDeviceQuickFilters  filters,
                                  GDateTime            *stale_before)
{
  Filter *filter;

  g_return_if_fail (RD_IS_DEVICE_QUERY_MODEL (self));
  g_return_if_fail ((filters & RD_DEVICE_QUICK_FILTER_STALE) == 0 || stale_before != NULL);

  filter = filter_new (folded_words, filters,
                       stale_before != NULL ? g_date_time_to_unix (stale_before) : 0);
  if (filter_equal (filter, self->filter))
    {
      filter_unref (filter);
      return;
    }

  filter_unref (self->filter);
  self->filter = filter;
  update (self);
}

gboolean
rd_device_query_model_get_pending (RdDeviceQueryModel *self)
{
  g_return_val_if_fail (RD_IS_DEVICE_QUERY_MODEL (self), FALSE);

  return self->job_cancellable != NULL || self->build != NULL;
}
