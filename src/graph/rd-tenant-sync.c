/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-tenant-sync"

#include "config.h"

#include "rd-tenant-sync.h"

#include "rd-device-mapper.h"
#include "rd-device-private.h"
#include "rd-file-private.h"
#include "rd-graph-client-private.h"
#include "rd-graph-enums.h"
#include "rd-graph-error.h"
#include "rd-graph-page-private.h"
#include "rd-graph-util-private.h"
#include "rd-inventory-cache-private.h"
#include "rd-key-table-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* RdTenantSync loads the tenant's inventory: the managed devices, the
 * BitLocker recovery key list, the Autopilot device identities and the
 * (beta) encryption report, all four lists at once, and joins them into
 * RdDevices.
 *
 * Threads: the client reads each page on a worker thread (RdGraphPage: no
 * json-glib tree, which for 100,000 devices cost more than all the rest)
 * and hands it to us on the caller's main context. The page callback only
 * passes the page on: managed devices to a pool with a thread per core,
 * which maps them to RdDevices while the network brings the next pages
 * (each page keeps its place, so the order does not depend on which thread
 * was faster); the other sources to one more thread, which files them into
 * hash tables in the order Graph listed them. Once those are all filed,
 * the pool joins each device page as it maps it, and the pages mapped
 * before. When every list is in, one more worker waits for both and puts
 * the pages together. The main loop does nothing per device. The inventory
 * is handed back first and the cache written after, on a thread of its own
 * (see "Cache writes").
 *
 * Decisions (reference/graph-entra.md):
 * - managedDevices is listed from beta by default, because joinType and
 *   managementState (how a pending wipe shows) exist only there (§3). With
 *   "use-beta" off the list comes from v1.0 and those two stay unknown.
 *   autopilotEnrolled ("enrolled via Autopilot") is not used: it says how
 *   the device enrolled, not that an Autopilot record still exists.
 * - The beta endpoints are reached by absolute URLs on the client's host
 *   ("<endpoint>/beta/..."), derived from a base URL that ends in /v1.0 or
 *   /beta. Any other base URL leaves the encryption report unknown.
 * - BitLocker keys are counted per deviceId, every volume type, joined to
 *   the managed device's azureADDeviceId. Both are GUIDs, which compare
 *   without case, so the count is kept under the case-folded id: it holds
 *   the exact matches and the ones differing in case. A device without an
 *   Entra device id keeps "unknown".
 * - Autopilot joins by serial number, exact first, then without case. A
 *   device without a record is "not registered" only when the list loaded,
 *   and only when the device has a serial number to look for.
 * - Whether managedDeviceEncryptionState's id is the managed device id is
 *   UNCONFIRMED (§4). The report is joined by that id (without case), and a
 *   state whose id matched no device falls back to its deviceName, when the
 *   name is unique both among the report's unmatched states and among the
 *   managed devices. A device absent from the report keeps "unknown".
 * - A failure of an optional source (403 or 401: a missing permission; or
 *   anything else once the client's retries are spent) leaves its facts
 *   unknown and adds a note; it never fails the sync. A failure of
 *   managedDevices fails it.
 */

#define CACHE_FORMAT "recovery-desk-inventory"
#define CACHE_VERSION 1

typedef enum
{
  SOURCE_DEVICES,
  SOURCE_KEYS,
  SOURCE_AUTOPILOT,
  SOURCE_ENCRYPTION,
  N_SOURCES
} Source;

static const char *const device_select_v1[] = {
  "id",
  "deviceName",
  "azureADDeviceId",
  "serialNumber",
  "manufacturer",
  "model",
  "operatingSystem",
  "osVersion",
  "userPrincipalName",
  "userDisplayName",
  "complianceState",
  "managementAgent",
  "managedDeviceOwnerType",
  "deviceEnrollmentType",
  "enrolledDateTime",
  "lastSyncDateTime",
  "isEncrypted",
  NULL,
};

static const char *const device_select_beta[] = {
  "id",
  "deviceName",
  "azureADDeviceId",
  "serialNumber",
  "manufacturer",
  "model",
  "operatingSystem",
  "osVersion",
  "userPrincipalName",
  "userDisplayName",
  "complianceState",
  "managementAgent",
  "managedDeviceOwnerType",
  "deviceEnrollmentType",
  "enrolledDateTime",
  "lastSyncDateTime",
  "isEncrypted",
  "joinType",
  "managementState",
  NULL,
};

static const char *const key_select[] = { "id", "deviceId", NULL };

static const char *const autopilot_select[] = { "id", "serialNumber", "enrollmentState", NULL };

#define ENCRYPTION_MEMBERS(name)                                                                   \
  name ("id"), name ("deviceName"), name ("tpmSpecificationVersion"),                              \
    name ("encryptionReadinessState"), name ("encryptionState"), name ("advancedBitLockerStates")
#define SELECT_NAME(literal) literal

static const char *const encryption_select[] = { ENCRYPTION_MEMBERS (SELECT_NAME), NULL };

/* The same, for reading the pages. */
static const RdGraphPageName encryption_members[] = { ENCRYPTION_MEMBERS (RD_GRAPH_PAGE_NAME) };

typedef struct
{
  const char *path;
  gboolean beta_only;
  /* The least-privileged delegated permission that reads it (§8). */
  const char *permission;
} SourceInfo;

static const SourceInfo sources[N_SOURCES] = {
  [SOURCE_DEVICES] = { "/deviceManagement/managedDevices", FALSE,
                       "DeviceManagementManagedDevices.Read.All" },
  [SOURCE_KEYS] = { "/informationProtection/bitlocker/recoveryKeys", FALSE,
                    "BitLockerKey.ReadBasic.All" },
  [SOURCE_AUTOPILOT] = { "/deviceManagement/windowsAutopilotDeviceIdentities", FALSE,
                         "DeviceManagementServiceConfig.Read.All" },
  [SOURCE_ENCRYPTION] = { "/deviceManagement/managedDeviceEncryptionStates", TRUE,
                          "DeviceManagementConfiguration.Read.All" },
};

/* The note for an optional source that was refused for want of
 * @permission. */
static char *
dup_forbidden_note (Source      source,
                    const char *permission)
{
  switch (source)
    {
    case SOURCE_KEYS:
      return g_strdup_printf (_ ("BitLocker keys: the signed-in account lacks %s; escrow status "
                                 "is unknown"),
                              permission);
    case SOURCE_AUTOPILOT:
      return g_strdup_printf (_ ("Autopilot: the signed-in account lacks %s; Autopilot "
                                 "registration is unknown"),
                              permission);
    case SOURCE_ENCRYPTION:
      return g_strdup_printf (_ ("Encryption report: the signed-in account lacks %s; TPM "
                                 "version, encryption readiness and WinRE state are unknown"),
                              permission);
    case SOURCE_DEVICES:
    case N_SOURCES:
    default:
      g_assert_not_reached ();
    }
}

/* The note for an optional source that failed otherwise, for @reason. */
static char *
dup_failed_note (Source      source,
                 const char *reason)
{
  switch (source)
    {
    case SOURCE_KEYS:
      return g_strdup_printf (_ ("BitLocker keys could not be loaded (%s); escrow status is "
                                 "unknown"),
                              reason);
    case SOURCE_AUTOPILOT:
      return g_strdup_printf (_ ("Autopilot devices could not be loaded (%s); Autopilot "
                                 "registration is unknown"),
                              reason);
    case SOURCE_ENCRYPTION:
      return g_strdup_printf (_ ("The encryption report could not be loaded (%s); TPM version, "
                                 "encryption readiness and WinRE state are unknown"),
                              reason);
    case SOURCE_DEVICES:
    case N_SOURCES:
    default:
      g_assert_not_reached ();
    }
}

struct _RdTenantSync
{
  GObject parent_instance;

  RdGraphClient *client;
  char *tenant_id;
  gboolean use_beta;

  RdSyncPhase phase;
  guint pages_loaded;
  guint devices_loaded;
  guint non_windows_count;
  GPtrArray *notes; /* NULL-terminated */
  GDateTime *synced_at;
  gboolean stale;
  gboolean running;
  struct _CacheWrite *cache_write; /* the last run's */
};

G_DEFINE_FINAL_TYPE (RdTenantSync, rd_tenant_sync, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_TENANT_ID,
  PROP_USE_BETA,
  PROP_PHASE,
  PROP_PAGES_LOADED,
  PROP_DEVICES_LOADED,
  PROP_NON_WINDOWS_COUNT,
  PROP_SYNCED_AT,
  PROP_STALE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* One encryption report entry, reduced to what the device shows. Its
 * strings live in the run's string chunk. */
typedef struct
{
  const char *id; /* lowered */
  const char *name;
  const char *tpm_version;
  RdEncryptionReadiness readiness;
  RdWinreState winre;
  RdTristate encrypted;
  int used; /* atomic: pages are joined on several threads */
} EncryptionState;

static void
encryption_state_free (gpointer data)
{
  g_free (data);
}

/* A page of managed devices, mapped. A device listed twice (paging over a
 * changing collection) counts once, the later copy: the earlier one is
 * marked dropped as soon as both are mapped, and left out at the end. */
typedef struct _DevicePage DevicePage;

typedef struct
{
  DevicePage *page;
  guint index;
} Slot;

struct _DevicePage
{
  guint number;
  GPtrArray *devices; /* of RdDevice, Windows only */
  Slot *slots;        /* one per device, for the table of ids */
  gboolean *dropped;  /* under the run's lock */
  GArray *unmatched;  /* of guint: the devices the encryption report has no id for */
  gboolean joined;    /* under the run's lock: joined, or being joined */
};

/* A device on a page holds two references: the inventory's, and the
 * cache writer's, taken while the device is fresh in the cache of the
 * core that made it; taken in the join, they were some 88,000 misses (9 ms
 * and more) between the last page and the result at 100,000 devices. */
static void
device_unref_both (gpointer device)
{
  g_object_unref (device);
  g_object_unref (device);
}

static void
device_page_free (DevicePage *page)
{
  /* A page of a run that stopped may never have come. */
  if (page == NULL)
    return;

  g_ptr_array_unref (page->devices);
  g_free (page->slots);
  g_free (page->dropped);
  g_array_unref (page->unmatched);
  g_free (page);
}

/* The sync's worker threads (see workers_new()). */
typedef struct _Workers Workers;

/* One sync. Shared by the main context (the list callbacks) and the
 * workers; reference-counted because a worker may still hold it when a
 * cancelled sync returns. */
typedef struct
{
  GMutex lock;

  /* Under the lock, filled by the device pool. */
  GPtrArray *device_pages; /* of DevicePage, by page number */
  RdKeyTable *device_ids;  /* id → Slot of the copy that counts */
  guint non_windows;

  /* Filled by the facts thread alone; read by the joins once facts_ready
   * is set. */
  RdKeyTable *key_counts;      /* lowered Entra device id → count */
  RdKeyTable *autopilot_exact; /* serial → enrollmentState ("" for none) */
  RdKeyTable *autopilot_folded;
  /* The strings of the tables above and of the encryption states, copied
   * in blocks rather than one allocation each: 100,000 Autopilot records
   * and as many keys and states. States and TPM versions are interned. */
  GStringChunk *strings;
  GPtrArray *encryption_states; /* of EncryptionState */
  RdKeyTable *encryption_by_id; /* lowered id → EncryptionState, the later of two */
  gboolean filed[N_SOURCES];    /* whether the list loaded and is filed */

  /* Under the lock. */
  guint facts_pending; /* optional lists not yet filed */
  gboolean facts_ready;
  gboolean stopping; /* the pools are going away */

  /* Main context only, but that the facts thread pushes pages to join to
   * the device pool, under the lock, unless stopping. */
  Workers *device_pool;
  Workers *facts_pool;       /* one thread: the other sources, in order */
  GCancellable *cancellable; /* ours: cancelled with the caller's, or on failure */
  GCancellable *outer;
  gulong cancelled_id;
  guint pending;
  guint device_page_count;
  gboolean loaded[N_SOURCES];
  GError *errors[N_SOURCES];
  GPtrArray *notes;

  /* Read-only once started. */
  char *cache_path;
  char *tenant_id;
} Run;

/* What only the mapping and the join need, dropped early. */
static void
run_clear_tables (Run *run)
{
  g_clear_pointer (&run->device_ids, rd_key_table_free);
  g_clear_pointer (&run->key_counts, rd_key_table_free);
  g_clear_pointer (&run->autopilot_exact, rd_key_table_free);
  g_clear_pointer (&run->autopilot_folded, rd_key_table_free);
  g_clear_pointer (&run->encryption_by_id, rd_key_table_free);
  g_clear_pointer (&run->encryption_states, g_ptr_array_unref);
  g_clear_pointer (&run->strings, g_string_chunk_free);
}

static void
run_clear (gpointer data)
{
  Run *run = data;

  g_mutex_clear (&run->lock);
  run_clear_tables (run);
  g_clear_pointer (&run->device_pages, g_ptr_array_unref);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->outer);
  for (guint i = 0; i < N_SOURCES; i++)
    g_clear_error (&run->errors[i]);
  g_clear_pointer (&run->notes, g_ptr_array_unref);
  g_free (run->cache_path);
  g_free (run->tenant_id);
}

static Run *
run_ref (Run *run)
{
  return g_atomic_rc_box_acquire (run);
}

static void
run_unref (Run *run)
{
  g_atomic_rc_box_release_full (run, run_clear);
}

static Run *
run_new (void)
{
  Run *run = g_atomic_rc_box_new0 (Run);

  g_mutex_init (&run->lock);
  run->device_pages = g_ptr_array_new_with_free_func ((GDestroyNotify) device_page_free);
  run->device_ids = rd_key_table_new ();
  run->key_counts = rd_key_table_new ();
  run->autopilot_exact = rd_key_table_new ();
  run->autopilot_folded = rd_key_table_new ();
  run->strings = g_string_chunk_new (64 * 1024);
  run->encryption_states = g_ptr_array_new_with_free_func (encryption_state_free);
  run->encryption_by_id = rd_key_table_new ();
  run->cancellable = g_cancellable_new ();
  run->notes = g_ptr_array_new_with_free_func (g_free);

  return run;
}

/* Properties */

static void
set_phase (RdTenantSync *self,
           RdSyncPhase   phase)
{
  if (self->phase == phase)
    return;

  self->phase = phase;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PHASE]);
}

static void
set_uint (RdTenantSync *self,
          guint        *field,
          guint         value,
          guint         prop_id)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_stale (RdTenantSync *self,
           gboolean      stale)
{
  stale = !!stale;
  if (self->stale == stale)
    return;

  self->stale = stale;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STALE]);
}

static void
set_synced_at (RdTenantSync *self,
               GDateTime    *synced_at)
{
  if (self->synced_at == synced_at || (self->synced_at != NULL && synced_at != NULL &&
                                       g_date_time_equal (self->synced_at, synced_at)))
    return;

  g_clear_pointer (&self->synced_at, g_date_time_unref);
  self->synced_at = synced_at != NULL ? g_date_time_ref (synced_at) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNCED_AT]);
}

static void
set_notes (RdTenantSync *self,
           GPtrArray    *notes)
{
  g_ptr_array_set_size (self->notes, 0);
  for (guint i = 0; notes != NULL && i < notes->len; i++)
    g_ptr_array_add (self->notes, g_strdup (g_ptr_array_index (notes, i)));
  g_ptr_array_add (self->notes, NULL);
}

/* Workers: the pages */

typedef struct
{
  Run *run;
  Source source;
  guint page;
  /* Freed here, not on the main thread. %NULL for the facts thread's note
   * that @source's list is complete. */
  RdGraphPage *items;
  gboolean loaded;
  /* Or, for the device pool, a page to join. */
  DevicePage *join;
} Work;

static void workers_push (Workers *workers,
                          Work    *work);

static void
work_free (gpointer data)
{
  Work *work = data;

  run_unref (work->run);
  g_clear_pointer (&work->items, rd_graph_page_free);
  g_free (work);
}

/* The string member of item @i, or %NULL when the item is not an object. */
static const char *
item_string (RdGraphPage *items,
             guint        i,
             const char  *member)
{
  return rd_graph_page_is_object (items, i) ? rd_graph_page_get_string (items, i, member) : NULL;
}

/* g_ascii_strdown(), without a function call per byte. */
static char *
dup_ascii_down (const char *text)
{
  gsize length = strlen (text);
  char *out = g_malloc (length + 1);

  for (gsize i = 0; i <= length; i++)
    out[i] = (char) (text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);

  return out;
}

/* g_utf8_casefold(), without its cost for the common case: for ASCII text
 * it lowers the letters and leaves the rest as it is. */
static char *
dup_folded (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return g_utf8_casefold (text, -1);

  return dup_ascii_down (text);
}

/* The keys of a page's @n @texts, for RdKeyTable: lowered (ASCII only)
 * with @lower, folded as g_utf8_casefold() does with @fold, else as they
 * are. A NULL text gets an empty key. Their copies are in what this
 * returns, to be freed when the keys are. */
typedef enum
{
  KEYS_EXACT,
  KEYS_LOWER,
  KEYS_FOLD,
} KeysCase;

static GPtrArray *
make_keys (const char **texts,
           guint        n,
           KeysCase     keys_case,
           RdKey       *keys)
{
  g_autofree gsize *lengths = g_new (gsize, n);
  GPtrArray *copies = g_ptr_array_new_with_free_func (g_free);
  gsize size = 1;
  char *w;

  for (guint i = 0; i < n; i++)
    {
      lengths[i] = texts[i] != NULL ? strlen (texts[i]) : 0;
      size += lengths[i] + 1;
    }
  if (keys_case == KEYS_EXACT)
    {
      for (guint i = 0; i < n; i++)
        rd_key_init (&keys[i], texts[i] != NULL ? texts[i] : "", lengths[i]);
      return copies;
    }

  w = g_malloc (size);
  g_ptr_array_add (copies, w);
  for (guint i = 0; i < n; i++)
    {
      const char *text = texts[i] != NULL ? texts[i] : "";
      gboolean ascii = TRUE;

      for (gsize j = 0; j < lengths[i]; j++)
        {
          char c = text[j];

          ascii &= (guchar) c < 0x80;
          w[j] = (char) (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
      w[lengths[i]] = '\0';

      if (!ascii && keys_case == KEYS_FOLD)
        {
          /* Rare: a serial outside ASCII, folded on its own. */
          char *folded = g_utf8_casefold (text, (gssize) lengths[i]);

          g_ptr_array_add (copies, folded);
          rd_key_init (&keys[i], folded, strlen (folded));
        }
      else
        rd_key_init (&keys[i], w, lengths[i]);
      w += lengths[i] + 1;
    }

  return copies;
}

/* The joins: the facts of the other sources, set on the devices of a page
 * once every source is filed. Called on several threads at once, for
 * different pages; the tables are read-only by then. */

static gboolean
is_nil_guid (const char *id)
{
  /* Most ids are not: their first byte says so. */
  if (id == NULL)
    return TRUE;
  if (*id != '0' && *id != '-' && *id != '\0')
    return FALSE;
  return strspn (id, "0-") == strlen (id);
}

/* The lookups of a page's devices in one table: their keys, a table's
 * answers for them, and what the keys are made of. */
typedef struct
{
  RdKey *keys;
  gpointer *values;
  GPtrArray *copies;
} Lookups;

static void
lookups_run (Lookups      *lookups,
             RdKeyTable   *table,
             const char  **texts,
             guint         n,
             KeysCase      keys_case)
{
  lookups->keys = g_new (RdKey, n);
  lookups->values = g_new (gpointer, n);
  lookups->copies = make_keys (texts, n, keys_case, lookups->keys);
  rd_key_table_lookup_many (table, lookups->keys, n, lookups->values);
}

static void
lookups_clear (Lookups *lookups)
{
  g_clear_pointer (&lookups->keys, g_free);
  g_clear_pointer (&lookups->values, g_free);
  g_clear_pointer (&lookups->copies, g_ptr_array_unref);
}

static void
apply_encryption_state (RdDevice        *device,
                        EncryptionState *state)
{
  g_atomic_int_set (&state->used, TRUE);
  _rd_device_set_encryption_report (device, state->tpm_version, state->readiness, state->winre,
                                    state->encrypted);
}

/* Each source's table is looked up for the whole page at once, a few
 * devices ahead of the one handled (see rd-key-table.c). */
static void
join_page (Run        *run,
           DevicePage *page)
{
  guint n = page->devices->len;
  g_autofree const char **texts = g_new (const char *, n);
  Lookups keys = { NULL };
  Lookups autopilot = { NULL };
  Lookups encryption = { NULL };

  if (run->filed[SOURCE_KEYS])
    {
      for (guint i = 0; i < n; i++)
        {
          const char *entra_id = rd_device_get_entra_device_id (page->devices->pdata[i]);

          /* Intune writes the nil GUID for a device that is not in Entra ID. */
          texts[i] = is_nil_guid (entra_id) ? NULL : entra_id;
        }
      lookups_run (&keys, run->key_counts, texts, n, KEYS_LOWER);
      for (guint i = 0; i < n; i++)
        if (texts[i] != NULL)
          _rd_device_set_escrowed_keys (page->devices->pdata[i], GPOINTER_TO_INT (keys.values[i]));
    }

  if (run->filed[SOURCE_AUTOPILOT])
    {
      for (guint i = 0; i < n; i++)
        texts[i] = rd_device_get_serial (page->devices->pdata[i]);
      lookups_run (&autopilot, run->autopilot_exact, texts, n, KEYS_EXACT);
      for (guint i = 0; i < n; i++)
        {
          const char *state = autopilot.values[i];

          if (texts[i] == NULL)
            continue;
          /* A serial that differs in case only: rare, looked up alone. */
          if (state == NULL)
            {
              RdKey folded;
              g_autoptr (GPtrArray) copies = make_keys (&texts[i], 1, KEYS_FOLD, &folded);

              state = rd_key_table_lookup (run->autopilot_folded, &folded);
            }
          if (state == NULL)
            _rd_device_set_autopilot (page->devices->pdata[i], RD_TRISTATE_NO, NULL);
          else
            _rd_device_set_autopilot (page->devices->pdata[i], RD_TRISTATE_YES,
                                      *state != '\0' ? state : NULL);
        }
    }

  if (run->filed[SOURCE_ENCRYPTION])
    {
      for (guint i = 0; i < n; i++)
        texts[i] = rd_device_get_id (page->devices->pdata[i]);
      lookups_run (&encryption, run->encryption_by_id, texts, n, KEYS_LOWER);
      for (guint i = 0; i < n; i++)
        if (encryption.values[i] != NULL)
          apply_encryption_state (page->devices->pdata[i], encryption.values[i]);
        else
          g_array_append_val (page->unmatched, i);
    }

  lookups_clear (&keys);
  lookups_clear (&autopilot);
  lookups_clear (&encryption);
}

/* The fallback of the encryption report, once all devices are in: a state
 * whose id matched no device joins by its deviceName, when the name is
 * unique both among those states and among the devices. */
static void
join_encryption_by_name (Run       *run,
                         GPtrArray *devices,
                         GPtrArray *unmatched)
{
  g_autoptr (GHashTable) by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) device_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                               NULL);
  static EncryptionState ambiguous;

  for (guint i = 0; i < run->encryption_states->len; i++)
    {
      EncryptionState *state = g_ptr_array_index (run->encryption_states, i);
      char *folded;

      if (g_atomic_int_get (&state->used) || state->name == NULL)
        continue;

      folded = dup_folded (state->name);
      if (g_hash_table_contains (by_name, folded))
        g_hash_table_replace (by_name, folded, &ambiguous);
      else
        g_hash_table_insert (by_name, folded, state);
    }

  if (g_hash_table_size (by_name) == 0)
    return;

  for (guint i = 0; i < devices->len; i++)
    {
      const char *name = rd_device_get_name (g_ptr_array_index (devices, i));
      char *folded;
      gpointer count;

      if (name == NULL)
        continue;

      folded = dup_folded (name);
      count = g_hash_table_lookup (device_names, folded);
      g_hash_table_replace (device_names, folded, GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
    }

  for (guint i = 0; i < unmatched->len; i++)
    {
      RdDevice *device = g_ptr_array_index (unmatched, i);
      const char *name = rd_device_get_name (device);
      g_autofree char *folded = NULL;
      EncryptionState *state;

      if (name == NULL)
        continue;

      folded = dup_folded (name);
      state = g_hash_table_lookup (by_name, folded);
      if (state == NULL || state == &ambiguous ||
          GPOINTER_TO_UINT (g_hash_table_lookup (device_names, folded)) != 1)
        continue;

      g_debug ("Encryption state %s joined by its name to device %s", state->id,
               rd_device_get_id (device));
      apply_encryption_state (device, state);
    }
}

/* The device pool: maps a page of managed devices, files it in its place,
 * marks the earlier copy of each device listed twice, and joins the page
 * at once when the other sources are all filed. */
static void
work_devices (Run         *run,
              RdGraphPage *items,
              guint        number)
{
  guint n = rd_graph_page_get_n_items (items);
  DevicePage *page = g_new0 (DevicePage, 1);
  g_autofree RdKey *ids = NULL;
  guint non_windows = 0;
  gboolean join;

  page->number = number;
  page->devices = g_ptr_array_new_full (n, device_unref_both);
  page->unmatched = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < n; i++)
    {
      gboolean other_os;
      RdDevice *device = rd_device_mapper_windows_device_from_page (items, i, &other_os);

      /* Only Windows devices go to the lanes; the others are counted, and
       * not built. */
      if (other_os)
        non_windows++;
      else if (device == NULL)
        g_debug ("Skipping a managed device without an id on page %u", number);
      else
        g_ptr_array_add (page->devices, g_object_ref (device));
    }
  page->slots = g_new (Slot, page->devices->len);
  page->dropped = g_new0 (gboolean, page->devices->len);
  ids = g_new (RdKey, page->devices->len);
  for (guint i = 0; i < page->devices->len; i++)
    {
      const char *id = rd_device_get_id (g_ptr_array_index (page->devices, i));

      rd_key_init (&ids[i], id, strlen (id));
    }

  g_mutex_lock (&run->lock);
  if (run->device_pages->len <= number)
    g_ptr_array_set_size (run->device_pages, number + 1);
  g_ptr_array_index (run->device_pages, number) = page;
  run->non_windows += non_windows;
  rd_key_table_reserve (run->device_ids, page->devices->len);
  for (guint i = 0; i < page->devices->len; i++)
    {
      Slot *slot = &page->slots[i];
      gboolean added;
      gpointer *value;
      Slot *other;

      rd_key_table_prefetch_ahead (run->device_ids, ids, page->devices->len, i);
      value = rd_key_table_lookup_or_add (run->device_ids, &ids[i], &added);
      other = *value;
      slot->page = page;
      slot->index = i;
      /* An earlier page, or earlier on this one. */
      if (other == NULL || other->page->number <= number)
        {
          if (other != NULL)
            other->page->dropped[other->index] = TRUE;
          *value = slot;
        }
      else
        page->dropped[i] = TRUE;
    }
  join = page->joined = run->facts_ready;
  g_mutex_unlock (&run->lock);

  if (join)
    join_page (run, page);
}

/* The facts thread, alone, fills the tables of the other sources: no lock. */

static void
work_keys (Run         *run,
           RdGraphPage *items)
{
  guint n = rd_graph_page_get_n_items (items);
  g_autofree const char **ids = g_new (const char *, n);
  g_autofree RdKey *keys = g_new (RdKey, n);
  g_autoptr (GPtrArray) copies = NULL;
  guint m = 0;

  for (guint i = 0; i < n; i++)
    if ((ids[m] = item_string (items, i, "deviceId")) != NULL)
      m++;

  copies = make_keys (ids, m, KEYS_LOWER, keys);
  rd_key_table_reserve (run->key_counts, m);
  for (guint i = 0; i < m; i++)
    {
      gboolean added;
      gpointer *count;

      rd_key_table_prefetch_ahead (run->key_counts, keys, m, i);
      count = rd_key_table_lookup_or_add (run->key_counts, &keys[i], &added);
      *count = GUINT_TO_POINTER (GPOINTER_TO_UINT (*count) + 1);
    }
}

/* g_string_chunk_insert_const() for the few values a list repeats
 * (Autopilot states, TPM versions), checking the last one first: most
 * records repeat a value seen just before, and a strcmp() is cheaper than
 * the chunk's hash of the text. */
static const char *
intern (GStringChunk  *strings,
        const char   **last,
        const char    *value)
{
  if (*last == NULL || strcmp (*last, value) != 0)
    *last = g_string_chunk_insert_const (strings, value);

  return *last;
}

static void
work_autopilot (Run         *run,
                RdGraphPage *items)
{
  guint n = rd_graph_page_get_n_items (items);
  const char *last_state = NULL;
  g_autofree const char **serials = g_new (const char *, n);
  g_autofree const char **states = g_new (const char *, n);
  g_autofree RdKey *exact = g_new (RdKey, n);
  g_autofree RdKey *folded = g_new (RdKey, n);
  g_autoptr (GPtrArray) exact_copies = NULL;
  g_autoptr (GPtrArray) folded_copies = NULL;
  guint m = 0;

  for (guint i = 0; i < n; i++)
    {
      const char *serial = item_string (items, i, "serialNumber");
      const char *state;

      if (serial == NULL)
        continue;

      state = rd_graph_page_get_string (items, i, "enrollmentState");
      serials[m] = serial;
      states[m++] = intern (run->strings, &last_state, state != NULL ? state : "");
    }

  exact_copies = make_keys (serials, m, KEYS_EXACT, exact);
  folded_copies = make_keys (serials, m, KEYS_FOLD, folded);
  rd_key_table_reserve (run->autopilot_exact, m);
  rd_key_table_reserve (run->autopilot_folded, m);
  for (guint i = 0; i < m; i++)
    {
      gboolean added;
      gpointer *value;

      rd_key_table_prefetch_ahead (run->autopilot_exact, exact, m, i);
      rd_key_table_prefetch_ahead (run->autopilot_folded, folded, m, i);

      /* A serial listed twice: the later state counts by the exact serial,
       * the earlier by the folded one, which is then filed already. */
      value = rd_key_table_lookup_or_add (run->autopilot_exact, &exact[i], &added);
      *value = (gpointer) states[i];
      if (!added)
        continue;
      value = rd_key_table_lookup_or_add (run->autopilot_folded, &folded[i], &added);
      if (added)
        *value = (gpointer) states[i];
    }
}

/* @states: the member as a string, if it is one */
static RdWinreState
item_winre_state (RdGraphPage *items,
                  guint        i,
                  const char  *states)
{
  g_autoptr (JsonNode) node = NULL;

  /* A string, as Graph writes it; anything else goes through json-glib. */
  if (states != NULL)
    return rd_device_mapper_winre_state_from_string (states);

  node = rd_graph_page_dup_node (items, i, "advancedBitLockerStates");
  return rd_device_mapper_winre_state_from_graph (node);
}

static void
work_encryption (Run         *run,
                 RdGraphPage *items)
{
  guint n = rd_graph_page_get_n_items (items);
  const char *last_tpm_version = NULL;
  g_autofree const char **ids = g_new (const char *, n);
  g_autofree EncryptionState **states = g_new (EncryptionState *, n);
  g_autofree RdKey *keys = g_new (RdKey, n);
  g_autoptr (GPtrArray) copies = NULL;
  guint m = 0;

  for (guint i = 0; i < n; i++)
    {
      /* In the order of encryption_members, as the page lists them. */
      enum
      {
        ID,
        NAME,
        TPM_VERSION,
        READINESS,
        ENCRYPTED,
        WINRE,
        N_MEMBERS
      };
      EncryptionState *state;
      const char *values[N_MEMBERS];
      const char *encrypted;

      G_STATIC_ASSERT (G_N_ELEMENTS (encryption_members) == N_MEMBERS);
      if (!rd_graph_page_is_object (items, i))
        continue;
      rd_graph_page_get_strings (items, i, encryption_members, N_MEMBERS, values);
      if (values[ID] == NULL)
        continue;

      state = g_new0 (EncryptionState, 1);
      state->id = g_string_chunk_insert (run->strings, values[ID]);
      state->name = values[NAME] != NULL ? g_string_chunk_insert (run->strings, values[NAME])
                                         : NULL;
      state->tpm_version = values[TPM_VERSION] != NULL
                             ? intern (run->strings, &last_tpm_version, values[TPM_VERSION])
                             : NULL;
      state->readiness = rd_device_mapper_readiness_from_graph (values[READINESS]);
      state->winre = item_winre_state (items, i, values[WINRE]);
      encrypted = values[ENCRYPTED];
      if (g_strcmp0 (encrypted, "encrypted") == 0)
        state->encrypted = RD_TRISTATE_YES;
      else if (g_strcmp0 (encrypted, "notEncrypted") == 0)
        state->encrypted = RD_TRISTATE_NO;
      g_ptr_array_add (run->encryption_states, state);
      ids[m] = state->id;
      states[m++] = state;
    }

  /* By id without case. A state listed twice: the later one counts. Filed
   * as they come, not in a pass over 100,000 states between the last page
   * and the joins. */
  copies = make_keys (ids, m, KEYS_LOWER, keys);
  rd_key_table_reserve (run->encryption_by_id, m);
  for (guint i = 0; i < m; i++)
    {
      gboolean added;

      rd_key_table_prefetch_ahead (run->encryption_by_id, keys, m, i);
      *rd_key_table_lookup_or_add (run->encryption_by_id, &keys[i], &added) = states[i];
    }
}

/* @source's list is complete, loaded or not. Once the last optional one
 * is, the device pages mapped so far go back to the device pool to be
 * joined, on every core, and the pool joins the others as it maps them. */
static void
work_settled (Run      *run,
              Source    source,
              gboolean  loaded)
{
  gboolean last;

  run->filed[source] = loaded;

  g_mutex_lock (&run->lock);
  g_assert (run->facts_pending > 0);
  last = --run->facts_pending == 0;
  g_mutex_unlock (&run->lock);
  if (!last)
    return;

  g_mutex_lock (&run->lock);
  run->facts_ready = TRUE;
  for (guint i = 0; !run->stopping && i < run->device_pages->len; i++)
    {
      DevicePage *page = g_ptr_array_index (run->device_pages, i);
      Work *work;

      if (page == NULL || page->joined)
        continue;

      page->joined = TRUE;
      work = g_new0 (Work, 1);
      work->run = run_ref (run);
      work->source = SOURCE_DEVICES;
      work->join = page;
      workers_push (run->device_pool, work);
    }
  g_mutex_unlock (&run->lock);
}

static void
work_func (gpointer data,
           gpointer user_data)
{
  Work *work = data;

  if (work->join != NULL)
    join_page (work->run, work->join);
  else if (work->items == NULL)
    work_settled (work->run, work->source, work->loaded);
  else
    switch (work->source)
      {
      case SOURCE_DEVICES:
        work_devices (work->run, work->items, work->page);
        break;
      case SOURCE_KEYS:
        work_keys (work->run, work->items);
        break;
      case SOURCE_AUTOPILOT:
        work_autopilot (work->run, work->items);
        break;
      case SOURCE_ENCRYPTION:
        work_encryption (work->run, work->items);
        break;
      case N_SOURCES:
      default:
        g_assert_not_reached ();
      }

  work_free (work);
}

/* The workers: threads of a run's own, which end with it. They run below
 * the main thread (see _rd_graph_lower_thread_priority()), and as a thread
 * cannot raise itself back, no other work may run on them: a GThreadPool
 * hands its threads on to other pools once it is freed. */

struct _Workers
{
  gatomicrefcount ref_count;
  GAsyncQueue *queue;
  GPtrArray *threads;
  int dropping; /* atomic: drop the work not yet started */
};

static Work stop_work; /* pushed once for each thread, to end it */

static Workers *
workers_ref (Workers *workers)
{
  g_atomic_ref_count_inc (&workers->ref_count);
  return workers;
}

static void
workers_unref (Workers *workers)
{
  if (!g_atomic_ref_count_dec (&workers->ref_count))
    return;
  g_async_queue_unref (workers->queue);
  g_clear_pointer (&workers->threads, g_ptr_array_unref);
  g_free (workers);
}

static gpointer
workers_thread (gpointer data)
{
  Workers *workers = data;

  _rd_graph_lower_thread_priority ();
  for (;;)
    {
      Work *work = g_async_queue_pop (workers->queue);

      if (work == &stop_work)
        break;
      if (g_atomic_int_get (&workers->dropping))
        work_free (work);
      else
        work_func (work, NULL);
    }
  workers_unref (workers);

  return NULL;
}

/* @n threads, which take the work in the order it is pushed. */
static Workers *
workers_new (guint n)
{
  Workers *workers = g_new0 (Workers, 1);

  g_atomic_ref_count_init (&workers->ref_count);
  workers->queue = g_async_queue_new ();
  workers->threads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_thread_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (workers->threads,
                     g_thread_new ("rd-sync-worker", workers_thread, workers_ref (workers)));

  return workers;
}

static void
workers_push (Workers *workers,
              Work    *work)
{
  g_async_queue_push (workers->queue, work);
}

static void
workers_end (Workers *workers)
{
  for (guint i = 0; i < workers->threads->len; i++)
    g_async_queue_push (workers->queue, &stop_work);
}

/* Runs all work pushed so far, and waits for the threads to end. */
static void
workers_finish (Workers *workers)
{
  workers_end (workers);
  while (workers->threads->len > 0)
    g_thread_join (g_ptr_array_steal_index (workers->threads, workers->threads->len - 1));
  workers_unref (workers);
}

/* Drops the work not yet started, without waiting for the work under way
 * (which holds its own reference on the run). */
static void
workers_stop (Workers *workers)
{
  g_atomic_int_set (&workers->dropping, TRUE);
  workers_end (workers);
  workers_unref (workers);
}

/* Worker: the join */

typedef struct _CacheWrite CacheWrite;

static void cache_write_unref (CacheWrite *write);

typedef struct
{
  GPtrArray *devices; /* Windows devices */
  guint non_windows;
  GDateTime *synced_at;
  CacheWrite *cache_write; /* queued, for the sync to wait on */
} Inventory;

static void
inventory_free (Inventory *inventory)
{
  g_clear_pointer (&inventory->devices, g_ptr_array_unref);
  g_clear_pointer (&inventory->synced_at, g_date_time_unref);
  g_clear_pointer (&inventory->cache_write, cache_write_unref);
  g_free (inventory);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Inventory, inventory_free)

/* The Devices lane's order, which the cache is written in. */
static int
compare_sort_keys (gconstpointer a,
                   gconstpointer b)
{
  return g_strcmp0 (_rd_device_get_sort_key (*(RdDevice **) a),
                    _rd_device_get_sort_key (*(RdDevice **) b));
}

/* The cache is one JSON document, streamed to a temporary file a device at
 * a time and renamed over the old cache, so that a crash leaves the old or
 * the new one: at 100,000 devices the text is some 70 MB, which is never
 * held whole, and a tree of it would cost far more. There is no fsync: it
 * stalled the sync for as long as the disk needed, and a cache that a power
 * cut leaves short reads as corrupt, is moved aside, and costs one full
 * sync. */
static void
save_cache (Run       *run,
            Inventory *inventory)
{
  g_autoptr (GPtrArray) devices = g_ptr_array_sized_new (inventory->devices->len);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) header = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *saved_at = NULL;
  g_autofree char *header_text = NULL;
  g_autofree char *temporary = NULL;
  gboolean written;
  int fd;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, CACHE_FORMAT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, CACHE_VERSION);
  json_builder_set_member_name (builder, "tenantId");
  json_builder_add_string_value (builder, run->tenant_id);
  json_builder_set_member_name (builder, "savedAt");
  saved_at = g_date_time_format_iso8601 (inventory->synced_at);
  json_builder_add_string_value (builder, saved_at);
  json_builder_set_member_name (builder, "nonWindowsCount");
  json_builder_add_int_value (builder, inventory->non_windows);
  json_builder_set_member_name (builder, "notes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < run->notes->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (run->notes, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  header = json_builder_get_root (builder);
  header_text = json_to_string (header, FALSE);

  /* In the Devices lane's order, by name (a stable sort on the collation
   * keys), so that a start hands the board devices its lane need not sort. */
  for (guint i = 0; i < inventory->devices->len; i++)
    g_ptr_array_add (devices, g_ptr_array_index (inventory->devices, i));
  g_ptr_array_sort (devices, compare_sort_keys);

  directory = g_path_get_dirname (run->cache_path);
  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved_errno = errno;

      g_debug ("Could not create the cache folder %s: %s", directory, g_strerror (saved_errno));
      return;
    }

  temporary = g_strconcat (run->cache_path, ".XXXXXX", NULL);
  fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_debug ("Could not write the inventory cache: %s", g_strerror (saved_errno));
      return;
    }

  /* {"format": ..., "notes": [...], "devices": [...]} */
  text = g_string_sized_new (1 << 20);
  g_string_append_len (text, header_text, strlen (header_text) - 1);
  g_string_append (text, ",\"devices\":[\n");
  written = TRUE;
  for (guint i = 0; written && i < devices->len; i++)
    {
      if (i > 0)
        g_string_append (text, ",\n");
      _rd_device_append_json (g_ptr_array_index (devices, i), text);
      if (text->len >= (1 << 20) - 4096)
        {
          written = _rd_file_write_all_error (fd, text->str, text->len, &error);
          g_string_truncate (text, 0);
        }
    }
  g_string_append (text, "\n]}\n");
  written = written && _rd_file_write_all_error (fd, text->str, text->len, &error);

  if (close (fd) != 0 && written)
    {
      int saved_errno = errno;

      g_set_error_literal (&error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                           g_strerror (saved_errno));
      written = FALSE;
    }
  if (written && g_rename (temporary, run->cache_path) != 0)
    {
      int saved_errno = errno;

      g_set_error_literal (&error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                           g_strerror (saved_errno));
      written = FALSE;
    }
  if (!written)
    {
      g_debug ("Could not write the inventory cache: %s", error->message);
      g_unlink (temporary);
    }
  else if (!_rd_inventory_cache_write_binary (run->cache_path, header_text, devices, &error))
    g_debug ("Could not write the fast inventory cache: %s", error->message);
}

/* Cache writes */

/* A write of the cache, queued by the join once the inventory is complete
 * and carried out after the run has handed it back: the CLI and the app get
 * their devices a few hundred milliseconds sooner at 100,000 devices. The
 * write holds the run (its path, tenant and notes, which no one changes any
 * more) and an array of the devices of its own. A cache read from JSON
 * queues the write of its fast companion the same way, already encoded
 * (@run is then %NULL), so that it cannot overtake, or be overtaken by, a
 * sync's write of the same cache. */
struct _CacheWrite
{
  Run *run;
  Inventory *inventory;
  char *json_path; /* with @binary, instead of @run */
  GBytes *binary;
  gboolean done; /* under cache_lock */
};

/* Every write of the process goes through one thread, in the order the
 * joins queued them, so that an older inventory never replaces a newer
 * one; reading a cache waits for the writes pending on its path. */
static GMutex cache_lock;
static GCond cache_cond;
static GPtrArray *pending_writes; /* of CacheWrite, under cache_lock */
static guint n_sync_writes;       /* writes of a sync's inventory queued, under cache_lock */
static GThreadPool *cache_writer;

static CacheWrite *
cache_write_ref (CacheWrite *write)
{
  return g_atomic_rc_box_acquire (write);
}

static void
cache_write_clear (gpointer data)
{
  CacheWrite *write = data;

  g_clear_pointer (&write->run, run_unref);
  g_clear_pointer (&write->inventory, inventory_free);
  g_clear_pointer (&write->json_path, g_free);
  g_clear_pointer (&write->binary, g_bytes_unref);
}

static void
cache_write_unref (CacheWrite *write)
{
  g_atomic_rc_box_release_full (write, cache_write_clear);
}

/* @devices: (transfer full): @inventory's, with references of their own */
static CacheWrite *
cache_write_new (Run       *run,
                 Inventory *inventory,
                 GPtrArray *devices)
{
  CacheWrite *write = g_atomic_rc_box_new0 (CacheWrite);

  write->run = run_ref (run);
  write->inventory = g_new0 (Inventory, 1);
  write->inventory->devices = devices;
  write->inventory->non_windows = inventory->non_windows;
  write->inventory->synced_at = g_date_time_ref (inventory->synced_at);

  return write;
}

static gboolean
is_write_pending (const char *path)
{
  for (guint i = 0; pending_writes != NULL && i < pending_writes->len; i++)
    {
      CacheWrite *write = g_ptr_array_index (pending_writes, i);

      if (g_str_equal (write->run != NULL ? write->run->cache_path : write->json_path, path))
        return TRUE;
    }

  return FALSE;
}

/* Blocks until no write of @path is pending. */
static void
wait_for_cache_writes (const char *path)
{
  g_mutex_lock (&cache_lock);
  while (is_write_pending (path))
    g_cond_wait (&cache_cond, &cache_lock);
  g_mutex_unlock (&cache_lock);
}

static void
wait_for_cache_write (CacheWrite *write)
{
  g_mutex_lock (&cache_lock);
  while (!write->done)
    g_cond_wait (&cache_cond, &cache_lock);
  g_mutex_unlock (&cache_lock);
}

static void
write_cache_func (gpointer data,
                  gpointer user_data)
{
  CacheWrite *write = data;

  if (write->binary != NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!_rd_inventory_cache_write_encoded (write->json_path, write->binary, &error))
        g_debug ("Could not write the fast inventory cache: %s", error->message);
      g_clear_pointer (&write->binary, g_bytes_unref);
    }
  else
    {
      Inventory *inventory = g_steal_pointer (&write->inventory);

      save_cache (write->run, inventory);
      /* The last references on the devices may be these. */
      inventory_free (inventory);
      /* What the join left, which no one reads any more. */
      g_clear_pointer (&write->run->device_pages, g_ptr_array_unref);
      run_clear_tables (write->run);
    }

  g_mutex_lock (&cache_lock);
  write->done = TRUE;
  g_ptr_array_remove (pending_writes, write);
  g_cond_broadcast (&cache_cond);
  g_mutex_unlock (&cache_lock);

  cache_write_unref (write);
}

static void
queue_cache_write (CacheWrite *write)
{
  g_mutex_lock (&cache_lock);
  if (cache_writer == NULL)
    {
      pending_writes = g_ptr_array_new ();
      cache_writer = g_thread_pool_new (write_cache_func, NULL, 1, FALSE, NULL);
    }
  g_ptr_array_add (pending_writes, write);
  if (write->run != NULL)
    n_sync_writes++;
  g_thread_pool_push (cache_writer, cache_write_ref (write), NULL);
  g_mutex_unlock (&cache_lock);
}

static void
join_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Run *run = task_data;
  g_autoptr (Inventory) inventory = g_new0 (Inventory, 1);
  g_autoptr (GPtrArray) unmatched = g_ptr_array_new ();
  g_autoptr (GPtrArray) written = NULL;
  guint total = 0;

  /* Let the pools finish every page they were given, the facts thread
   * first, as it hands pages to the device pool: every device page is
   * then mapped and joined, since every optional list is filed. */
  workers_finish (g_steal_pointer (&run->facts_pool));
  workers_finish (g_steal_pointer (&run->device_pool));
  g_assert (run->facts_ready);

  for (guint i = 0; i < run->device_pages->len; i++)
    {
      DevicePage *page = g_ptr_array_index (run->device_pages, i);

      for (guint j = 0; page != NULL && j < page->devices->len; j++)
        total += !page->dropped[j];
    }

  /* The devices move from the pages to the inventory and to the cache
   * writer, each with its reference, in the order Graph listed them; the
   * earlier copies of devices listed twice are dropped. */
  inventory->devices = g_ptr_array_new_full (total, g_object_unref);
  written = g_ptr_array_new_full (total, g_object_unref);
  inventory->non_windows = run->non_windows;
  for (guint i = 0; i < run->device_pages->len; i++)
    {
      DevicePage *page = g_ptr_array_index (run->device_pages, i);

      if (page == NULL)
        continue;

      for (guint j = 0; j < page->unmatched->len; j++)
        {
          guint index = g_array_index (page->unmatched, guint, j);

          if (!page->dropped[index])
            g_ptr_array_add (unmatched, g_ptr_array_index (page->devices, index));
        }

      g_ptr_array_set_free_func (page->devices, NULL);
      for (guint j = 0; j < page->devices->len; j++)
        {
          RdDevice *device = g_ptr_array_index (page->devices, j);

          if (page->dropped[j])
            device_unref_both (device);
          else
            {
              g_ptr_array_add (inventory->devices, device);
              g_ptr_array_add (written, device);
            }
        }
      g_ptr_array_set_size (page->devices, 0);
    }

  if (run->filed[SOURCE_ENCRYPTION] && unmatched->len > 0)
    join_encryption_by_name (run, inventory->devices, unmatched);

  inventory->synced_at = g_date_time_new_now_utc ();

  /* The devices of an earlier run are written before these are handed
   * back, to a caller that may update those from these. */
  wait_for_cache_writes (run->cache_path);
  inventory->cache_write = cache_write_new (run, inventory, g_steal_pointer (&written));
  queue_cache_write (inventory->cache_write);

  /* The tables, some 400,000 entries at 100,000 devices, are freed by the
   * cache writer: a GTask hands its answer on only once this returns. */
  g_task_return_pointer (task, g_steal_pointer (&inventory), (GDestroyNotify) inventory_free);
}

/* The lists */

static void
complete_run (GTask *task)
{
  RdTenantSync *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  g_cancellable_disconnect (run->outer, run->cancelled_id);
  run->cancelled_id = 0;
  self->running = FALSE;
}

static void
on_join_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  RdTenantSync *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr (Inventory) inventory = NULL;
  g_autoptr (GError) error = NULL;

  inventory = g_task_propagate_pointer (G_TASK (result), &error);
  complete_run (task);

  /* Queued even when the caller has given up on the run. */
  if (inventory != NULL)
    {
      g_clear_pointer (&self->cache_write, cache_write_unref);
      self->cache_write = g_steal_pointer (&inventory->cache_write);
    }

  if (inventory == NULL || g_task_return_error_if_cancelled (task))
    {
      set_phase (self, RD_SYNC_PHASE_FAILED);
      if (error != NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_object_freeze_notify (G_OBJECT (self));
  set_notes (self, run->notes);
  set_uint (self, &self->non_windows_count, inventory->non_windows, PROP_NON_WINDOWS_COUNT);
  set_synced_at (self, inventory->synced_at);
  set_stale (self, FALSE);
  set_phase (self, RD_SYNC_PHASE_DONE);
  g_object_thaw_notify (G_OBJECT (self));

  g_task_return_pointer (task, g_steal_pointer (&inventory->devices),
                         (GDestroyNotify) g_ptr_array_unref);
}

static void
add_source_note (Run    *run,
                 Source  source,
                 GError *error)
{
  const SourceInfo *info = &sources[source];

  if (g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_FORBIDDEN) ||
      g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_UNAUTHORIZED))
    {
      g_debug ("%s: %s (Graph names the permission: %s)", info->path, error->message,
               rd_graph_error_get_missing_permission (error));
      g_ptr_array_add (run->notes, dup_forbidden_note (source, info->permission));
    }
  else
    g_ptr_array_add (run->notes, dup_failed_note (source, error->message));
}

static void
lists_done (GTask *task)
{
  RdTenantSync *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr (GTask) join = NULL;

  if (run->errors[SOURCE_DEVICES] != NULL || g_cancellable_is_cancelled (run->outer))
    {
      /* Drop the pages not yet mapped; a page being mapped holds its own
       * reference on the run. The facts thread hands no more pages to the
       * device pool. */
      g_mutex_lock (&run->lock);
      run->stopping = TRUE;
      g_mutex_unlock (&run->lock);
      workers_stop (g_steal_pointer (&run->device_pool));
      workers_stop (g_steal_pointer (&run->facts_pool));
      complete_run (task);
      set_phase (self, RD_SYNC_PHASE_FAILED);
      if (!g_task_return_error_if_cancelled (task))
        g_task_return_error (task, g_steal_pointer (&run->errors[SOURCE_DEVICES]));
      g_object_unref (task);
      return;
    }

  for (guint i = SOURCE_KEYS; i < N_SOURCES; i++)
    if (run->errors[i] != NULL)
      add_source_note (run, i, run->errors[i]);

  set_phase (self, RD_SYNC_PHASE_JOINING);

  /* No source object: the worker thread may drop the last reference to
   * the join task after its answer was handed on, and must not hold self. */
  join = g_task_new (NULL, NULL, on_join_done_cb, task);
  g_task_set_source_tag (join, join_thread);
  g_task_set_task_data (join, run_ref (run), (GDestroyNotify) run_unref);
  g_task_run_in_thread (join, join_thread);
}

typedef struct
{
  GTask *task;
  Source source;
} ListContext;

static void
list_context_free (gpointer data)
{
  ListContext *context = data;

  g_object_unref (context->task);
  g_free (context);
}

static ListContext *
list_context_new (GTask  *task,
                  Source  source)
{
  ListContext *context = g_new0 (ListContext, 1);

  context->task = g_object_ref (task);
  context->source = source;

  return context;
}

static void
on_page_cb (RdGraphPage *items,
            gpointer     user_data)
{
  g_autoptr (RdGraphPage) page = items;
  ListContext *context = user_data;
  RdTenantSync *self = g_task_get_source_object (context->task);
  Run *run = g_task_get_task_data (context->task);
  guint n_items = rd_graph_page_get_n_items (page);
  Work *work;

  if (run->device_pool == NULL || g_cancellable_is_cancelled (run->cancellable))
    return;

  work = g_new0 (Work, 1);
  work->run = run_ref (run);
  work->source = context->source;
  work->items = g_steal_pointer (&page);
  if (context->source == SOURCE_DEVICES)
    {
      work->page = run->device_page_count++;
      workers_push (run->device_pool, work);
    }
  else
    workers_push (run->facts_pool, work);

  g_object_freeze_notify (G_OBJECT (self));
  set_uint (self, &self->pages_loaded, self->pages_loaded + 1, PROP_PAGES_LOADED);
  if (context->source == SOURCE_DEVICES)
    set_uint (self, &self->devices_loaded, self->devices_loaded + n_items, PROP_DEVICES_LOADED);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
on_list_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ListContext *context = user_data;
  GTask *task = context->task;
  Run *run = g_task_get_task_data (task);
  g_autoptr (JsonArray) items = NULL;
  g_autoptr (GError) error = NULL;
  Source source = context->source;

  items = rd_graph_client_list_finish (RD_GRAPH_CLIENT (object), result, NULL, &error);
  if (items != NULL)
    run->loaded[source] = TRUE;
  else
    {
      g_debug ("Listing %s failed: %s", sources[source].path, error->message);
      /* Without the devices there is no inventory: stop the others. */
      if (source == SOURCE_DEVICES)
        g_cancellable_cancel (run->cancellable);
      run->errors[source] = g_steal_pointer (&error);
    }

  /* After the list's last page, on the same thread. */
  if (source != SOURCE_DEVICES && run->facts_pool != NULL)
    {
      Work *work = g_new0 (Work, 1);

      work->run = run_ref (run);
      work->source = source;
      work->loaded = run->loaded[source];
      workers_push (run->facts_pool, work);
    }

  g_object_ref (task);
  list_context_free (context);

  g_assert (run->pending > 0);
  if (--run->pending == 0)
    lists_done (task);
  else
    g_object_unref (task);
}

static void
on_outer_cancelled_cb (GCancellable *outer,
                       gpointer      user_data)
{
  GCancellable *cancellable = user_data;

  g_cancellable_cancel (cancellable);
}

static char *
dup_cache_path (const char *tenant_id)
{
  g_autofree char *name = NULL;
  g_autofree char *file = NULL;

  name = g_strdup (tenant_id != NULL && *tenant_id != '\0' ? tenant_id : "default");
  /* The tenant id names a file: keep it to a safe alphabet. */
  g_strcanon (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", '_');
  if (name[0] == '.')
    name[0] = '_';
  file = g_strdup_printf ("inventory-%s.json", name);

  return g_build_filename (g_get_user_cache_dir (), "recovery-desk", file, NULL);
}

/**
 * rd_tenant_sync_run_async:
 *
 * Loads the inventory from Graph. Progress shows in "phase",
 * "pages-loaded" and "devices-loaded". On success "synced-at" is now,
 * "stale" is %FALSE, "non-windows-count" and the notes describe this sync,
 * and the inventory is written to the cache just after it is handed back,
 * on a thread of its own: rd_tenant_sync_flush_cache() waits for it, and
 * so do reading the cache and finalizing @self.
 */
void
rd_tenant_sync_run_async (RdTenantSync        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *root = NULL;
  Run *run;
  gboolean devices_beta;

  g_return_if_fail (RD_IS_TENANT_SYNC (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_tenant_sync_run_async);

  if (self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _ ("The inventory is already being loaded."));
      return;
    }

  run = run_new ();
  run->outer = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  run->cancelled_id = g_cancellable_connect (run->outer, G_CALLBACK (on_outer_cancelled_cb),
                                             g_object_ref (run->cancellable), g_object_unref);
  run->tenant_id = g_strdup (self->tenant_id);
  run->cache_path = dup_cache_path (self->tenant_id);
  run->device_pool = workers_new (CLAMP (g_get_num_processors (), 1, 4));
  run->facts_pool = workers_new (1);
  g_task_set_task_data (task, run, (GDestroyNotify) run_unref);

  self->running = TRUE;
  g_object_freeze_notify (G_OBJECT (self));
  set_uint (self, &self->pages_loaded, 0, PROP_PAGES_LOADED);
  set_uint (self, &self->devices_loaded, 0, PROP_DEVICES_LOADED);
  set_phase (self, RD_SYNC_PHASE_LOADING);
  g_object_thaw_notify (G_OBJECT (self));

  root = _rd_graph_dup_endpoint_root (rd_graph_client_get_base_url (self->client));
  devices_beta = self->use_beta && root != NULL;

  /* Counted before any list starts, since one may fail at once. */
  for (Source source = SOURCE_KEYS; source < N_SOURCES; source++)
    if (!sources[source].beta_only || root != NULL)
      run->facts_pending++;
  run->facts_ready = run->facts_pending == 0;

  for (Source source = 0; source < N_SOURCES; source++)
    {
      const SourceInfo *info = &sources[source];
      gboolean beta = info->beta_only || (source == SOURCE_DEVICES && devices_beta);
      const char *const *select;
      g_autofree char *url = NULL;

      if (beta && root == NULL)
        {
          g_ptr_array_add (run->notes,
                           dup_failed_note (source, _ ("the Graph endpoint has no beta version")));
          continue;
        }

      if (root != NULL)
        url = g_strconcat (root, beta ? "/beta" : "/v1.0", info->path, NULL);
      else
        url = g_strdup (info->path);

      switch (source)
        {
        case SOURCE_DEVICES:
          select = devices_beta ? device_select_beta : device_select_v1;
          break;
        case SOURCE_KEYS:
          select = key_select;
          break;
        case SOURCE_AUTOPILOT:
          select = autopilot_select;
          break;
        case SOURCE_ENCRYPTION:
          select = encryption_select;
          break;
        case N_SOURCES:
        default:
          g_assert_not_reached ();
        }

      /* No $top: the key list does not support it (§4), and Graph's own
       * page size (1000 for managed devices) is the largest known to work. */
      run->pending++;
      _rd_graph_client_list_pages_async (
        self->client, url, select, NULL, 0, on_page_cb, list_context_new (task, source),
        list_context_free, run->cancellable, on_list_done_cb, list_context_new (task, source));
    }
}

/**
 * rd_tenant_sync_run_finish:
 *
 * The devices are read by the cache writer until it is done: change them
 * only after rd_tenant_sync_flush_cache(), or through a later run's result
 * (which is handed back only once this one is written).
 *
 * Returns: (transfer container) (element-type RdDevice): the tenant's
 *   Windows devices, or %NULL with @error set: the error of the managed
 *   device list, or %G_IO_ERROR_CANCELLED
 */
GPtrArray *
rd_tenant_sync_run_finish (RdTenantSync  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_tenant_sync_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * rd_tenant_sync_flush_cache:
 *
 * Blocks until the inventory of the last run that got as far as its join
 * is in the cache (or its write failed, which is logged and leaves the
 * cache as it was), and so is every other write of the tenant's cache
 * queued before the call (such as the fast companion of a JSON cache just
 * read). Returns at once when there is nothing to write.
 * Finalizing @self does the same, so a program that drops the sync before
 * it exits keeps the cache; a program that keeps it should call this, or
 * rd_tenant_sync_flush_cache_async() from a main loop, before exiting.
 */
void
rd_tenant_sync_flush_cache (RdTenantSync *self)
{
  g_autofree char *path = NULL;

  g_return_if_fail (RD_IS_TENANT_SYNC (self));

  if (self->cache_write != NULL)
    wait_for_cache_write (self->cache_write);
  path = dup_cache_path (self->tenant_id);
  wait_for_cache_writes (path);
}

typedef struct
{
  CacheWrite *write; /* or NULL */
  char *path;
} FlushData;

static void
flush_data_free (FlushData *data)
{
  g_clear_pointer (&data->write, cache_write_unref);
  g_free (data->path);
  g_free (data);
}

static void
flush_cache_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  FlushData *data = task_data;

  if (data->write != NULL)
    wait_for_cache_write (data->write);
  wait_for_cache_writes (data->path);
  g_task_return_boolean (task, TRUE);
}

/**
 * rd_tenant_sync_flush_cache_async:
 *
 * Like rd_tenant_sync_flush_cache(), without blocking the caller.
 */
void
rd_tenant_sync_flush_cache_async (RdTenantSync        *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  FlushData *data;
  gboolean pending;

  g_return_if_fail (RD_IS_TENANT_SYNC (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_tenant_sync_flush_cache_async);

  data = g_new0 (FlushData, 1);
  if (self->cache_write != NULL)
    data->write = cache_write_ref (self->cache_write);
  data->path = dup_cache_path (self->tenant_id);
  g_task_set_task_data (task, data, (GDestroyNotify) flush_data_free);

  g_mutex_lock (&cache_lock);
  pending = (data->write != NULL && !data->write->done) ||
            is_write_pending (data->path);
  g_mutex_unlock (&cache_lock);
  if (!pending)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, flush_cache_thread);
}

/**
 * rd_tenant_sync_flush_cache_finish:
 *
 * Returns: %TRUE once the write is done, %FALSE with
 *   %G_IO_ERROR_CANCELLED if the wait was cancelled
 */
gboolean
rd_tenant_sync_flush_cache_finish (RdTenantSync  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
    g_task_get_source_tag (G_TASK (result)) == rd_tenant_sync_flush_cache_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Cache */

typedef struct
{
  GPtrArray *devices;
  GDateTime *saved_at;
  guint non_windows;
  GPtrArray *notes;
  char *header; /* the JSON object without "devices" */
  RdBoardListing *listing; /* @devices filed for a board, or NULL */
} CacheContents;

static void
cache_contents_free (CacheContents *contents)
{
  g_clear_pointer (&contents->devices, g_ptr_array_unref);
  g_clear_pointer (&contents->saved_at, g_date_time_unref);
  g_clear_pointer (&contents->notes, g_ptr_array_unref);
  g_clear_pointer (&contents->listing, rd_board_listing_free);
  g_free (contents->header);
  g_free (contents);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CacheContents, cache_contents_free)

/* Reads the JSON cache, or with @cached_devices (from the fast companion)
 * only its header. */
static CacheContents *
parse_cache (const char  *text,
             gsize        length,
             GPtrArray   *cached_devices,
             GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CacheContents) contents = g_new0 (CacheContents, 1);
  g_autoptr (JsonObject) header = json_object_new ();
  g_autoptr (JsonNode) header_node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *root;
  JsonArray *devices;
  JsonArray *notes = NULL;
  GList *members;
  const char *saved_at;
  gint64 non_windows;

  if (!json_parser_load_from_data (parser, text, length, error))
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto invalid;
  root = json_node_get_object (json_parser_get_root (parser));

  if (g_strcmp0 (json_object_get_string_member_with_default (root, "format", NULL), CACHE_FORMAT) !=
      0)
    goto invalid;
  if (json_object_get_int_member_with_default (root, "version", 0) != CACHE_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "Inventory cache version %" G_GINT64_FORMAT " is not %d",
                   json_object_get_int_member_with_default (root, "version", 0), CACHE_VERSION);
      return NULL;
    }

  saved_at = json_object_get_string_member_with_default (root, "savedAt", NULL);
  contents->saved_at = saved_at != NULL ? g_date_time_new_from_iso8601 (saved_at, NULL) : NULL;
  if (contents->saved_at == NULL)
    goto invalid;

  non_windows = json_object_get_int_member_with_default (root, "nonWindowsCount", 0);
  if (non_windows < 0 || non_windows > G_MAXUINT)
    goto invalid;
  contents->non_windows = (guint) non_windows;

  contents->notes = g_ptr_array_new_with_free_func (g_free);
  if (json_object_has_member (root, "notes"))
    {
      if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "notes")))
        goto invalid;
      notes = json_object_get_array_member (root, "notes");
    }
  for (guint i = 0; notes != NULL && i < json_array_get_length (notes); i++)
    {
      JsonNode *node = json_array_get_element (notes, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        goto invalid;
      g_ptr_array_add (contents->notes, g_strdup (json_node_get_string (node)));
    }

  /* The header again, for the fast companion. */
  members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_str_equal (l->data, "devices"))
      json_object_set_member (header, l->data,
                              json_node_copy (json_object_get_member (root, l->data)));
  g_list_free (members);
  json_node_set_object (header_node, header);
  contents->header = json_to_string (header_node, FALSE);

  if (cached_devices != NULL)
    {
      contents->devices = g_ptr_array_ref (cached_devices);
      return g_steal_pointer (&contents);
    }

  if (!json_object_has_member (root, "devices") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "devices")))
    goto invalid;
  devices = json_object_get_array_member (root, "devices");

  contents->devices = g_ptr_array_new_full (json_array_get_length (devices), g_object_unref);
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonNode *node = json_array_get_element (devices, i);
      RdDevice *device;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        goto invalid;
      device = rd_device_new_from_json (json_node_get_object (node), error);
      if (device == NULL)
        return NULL;
      g_ptr_array_add (contents->devices, device);
    }

  return g_steal_pointer (&contents);

invalid:
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "The inventory cache is not in the expected form");
  return NULL;
}

/* Reads the cache. A missing cache is %NULL without a word; an unreadable
 * or corrupt one is %NULL with a debug message, and a corrupt one is moved
 * aside so that it is looked at once, not at every start. With @file, the
 * devices are filed for a board as well (see rd_board_listing_new()). */
static CacheContents *
read_cache_now (const char *path,
                gboolean    file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cached_devices = NULL;
  g_autoptr (RdBoardListing) listing = NULL;
  g_autofree char *text = NULL;
  gsize length;
  CacheContents *contents;
  struct stat json_stat;
  gboolean have_stat;
  gint64 start;

  wait_for_cache_writes (path);

  /* The fast companion, when it mirrors this very JSON file. */
  start = g_get_monotonic_time ();
  cached_devices = _rd_inventory_cache_read_binary (path, &text, file ? &listing : NULL, &error);
  if (cached_devices != NULL)
    {
      contents = parse_cache (text, strlen (text), cached_devices, &error);
      g_debug ("Read %u devices from the fast inventory cache in %.0f ms", cached_devices->len,
               (g_get_monotonic_time () - start) / 1000.0);
      if (contents != NULL)
        {
          contents->listing = g_steal_pointer (&listing);
          return contents;
        }
      g_clear_pointer (&text, g_free);
    }
  if (error != NULL)
    {
      g_autofree char *binary_path = _rd_inventory_cache_dup_binary_path (path);

      g_debug ("Ignoring the fast inventory cache %s: %s", binary_path, error->message);
      g_unlink (binary_path);
      g_clear_error (&error);
    }

  /* Before the read: a companion stamped with this names no newer file. */
  have_stat = g_stat (path, &json_stat) == 0;
  if (!g_file_get_contents (path, &text, &length, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_debug ("Could not read the inventory cache %s: %s", path, error->message);
      return NULL;
    }

  contents = parse_cache (text, length, NULL, &error);
  if (contents == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        g_debug ("Ignoring the inventory cache %s: %s", path, error->message);
      else
        {
          g_autofree char *aside = g_strconcat (path, ".corrupt", NULL);

          g_debug ("Ignoring the corrupt inventory cache %s (moved to %s): %s", path, aside,
                   error->message);
          if (g_rename (path, aside) != 0)
            {
              int saved_errno = errno;

              g_debug ("Could not move %s aside: %s", path, g_strerror (saved_errno));
            }
        }
      return NULL;
    }

  g_debug ("Read %u devices from the inventory cache in %.0f ms", contents->devices->len,
           (g_get_monotonic_time () - start) / 1000.0);

  /* An older build's cache, or one edited since: the next start reads the
   * fast one. Encoded here, while no other thread has the devices; written
   * by the cache writer, after any sync's write queued before it, and only
   * if the JSON file is still the one read. */
  if (have_stat)
    {
      CacheWrite *write = g_atomic_rc_box_new0 (CacheWrite);

      write->json_path = g_strdup (path);
      write->binary = _rd_inventory_cache_encode_binary (&json_stat, contents->header,
                                                         contents->devices);
      queue_cache_write (write);
      cache_write_unref (write);
    }
  if (file)
    contents->listing = rd_board_listing_new (contents->devices);

  return contents;
}

/* A read of a cache started before anyone asks for it (the app starts one
 * as it starts, so that the read runs on another core while GTK starts and
 * the window is built). The next read of that cache takes its result
 * instead of reading again, unless a sync's write was queued since it
 * started; a read of another cache drops it. */
typedef struct
{
  char *path;
  guint n_sync_writes; /* when it started */
  CacheContents *contents;
  gboolean done;      /* under cache_lock */
  gboolean abandoned; /* under cache_lock: the thread frees it */
} Prefetch;

static Prefetch *prefetch; /* under cache_lock */

static void
prefetch_free (Prefetch *self)
{
  g_clear_pointer (&self->contents, cache_contents_free);
  g_free (self->path);
  g_free (self);
}

static gpointer
prefetch_thread (gpointer data)
{
  Prefetch *self = data;
  /* Filed for the window's board as they are read. */
  CacheContents *contents = read_cache_now (self->path, TRUE);
  gboolean abandoned;

  g_mutex_lock (&cache_lock);
  self->contents = contents;
  self->done = TRUE;
  abandoned = self->abandoned;
  g_cond_broadcast (&cache_cond);
  g_mutex_unlock (&cache_lock);

  if (abandoned)
    prefetch_free (self);

  return NULL;
}

/* Drops the prefetch, under cache_lock. */
static void
drop_prefetch_locked (void)
{
  Prefetch *old = g_steal_pointer (&prefetch);

  if (old == NULL)
    return;
  if (old->done)
    prefetch_free (old);
  else
    old->abandoned = TRUE;
}

/* Whether a prefetch of @path was there to take, waiting for it to end;
 * @contents is then its result (%NULL for no usable cache). */
static gboolean
take_prefetch (const char     *path,
               CacheContents **contents)
{
  Prefetch *taken;
  gboolean fresh;

  g_mutex_lock (&cache_lock);
  if (prefetch == NULL || !g_str_equal (prefetch->path, path))
    {
      drop_prefetch_locked ();
      g_mutex_unlock (&cache_lock);
      return FALSE;
    }
  taken = g_steal_pointer (&prefetch);
  while (!taken->done)
    g_cond_wait (&cache_cond, &cache_lock);
  fresh = taken->n_sync_writes == n_sync_writes;
  g_mutex_unlock (&cache_lock);

  if (fresh)
    *contents = g_steal_pointer (&taken->contents);
  prefetch_free (taken);

  return fresh;
}

static CacheContents *
read_cache (const char *path,
            gboolean    file)
{
  CacheContents *contents = NULL;

  if (take_prefetch (path, &contents))
    return contents;

  return read_cache_now (path, file);
}

static GPtrArray *
apply_cache (RdTenantSync   *self,
             CacheContents  *contents,
             GDateTime     **saved_at)
{
  /* A sync that finished meanwhile is fresher than the cache. */
  if (self->synced_at == NULL || self->stale)
    {
      g_object_freeze_notify (G_OBJECT (self));
      set_synced_at (self, contents->saved_at);
      set_stale (self, TRUE);
      set_uint (self, &self->non_windows_count, contents->non_windows, PROP_NON_WINDOWS_COUNT);
      set_notes (self, contents->notes);
      g_object_thaw_notify (G_OBJECT (self));
    }

  if (saved_at != NULL)
    *saved_at = g_date_time_ref (contents->saved_at);

  return g_steal_pointer (&contents->devices);
}

/**
 * rd_tenant_sync_dup_cache_path:
 *
 * Returns: (transfer full): `$XDG_CACHE_HOME/recovery-desk/inventory-<tenant>.json`
 */
char *
rd_tenant_sync_dup_cache_path (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);

  return dup_cache_path (self->tenant_id);
}

/**
 * rd_tenant_sync_prefetch_cache:
 *
 * Starts reading the tenant's cached inventory on a thread of its own, for
 * the next rd_tenant_sync_load_cache() or rd_tenant_sync_load_cache_async()
 * of this tenant, by this object or another: the app calls it as it starts,
 * for the tenant it is about to open, so that the read overlaps setting up
 * GTK and the window. That load then waits for the read under way, or takes
 * its result; it reads anew if a sync's cache write was queued meanwhile. A
 * load of another tenant's cache, or another prefetch, drops the result.
 */
void
rd_tenant_sync_prefetch_cache (RdTenantSync *self)
{
  Prefetch *started;

  g_return_if_fail (RD_IS_TENANT_SYNC (self));

  started = g_new0 (Prefetch, 1);
  started->path = dup_cache_path (self->tenant_id);

  g_mutex_lock (&cache_lock);
  drop_prefetch_locked ();
  started->n_sync_writes = n_sync_writes;
  prefetch = started;
  g_mutex_unlock (&cache_lock);

  g_thread_unref (g_thread_new ("rd-cache-prefetch", prefetch_thread, started));
}

/**
 * rd_tenant_sync_load_cache:
 * @saved_at: (out) (optional) (transfer full): when the cached inventory
 *   was loaded from Graph
 *
 * Reads the tenant's last inventory, so that the app can show it at once.
 * It is marked stale: "stale" is %TRUE and "synced-at" is when it was
 * loaded, until a sync succeeds. A corrupt cache is ignored.
 *
 * Returns: (transfer container) (element-type RdDevice) (nullable): the
 *   cached Windows devices, or %NULL when there is no usable cache
 */
GPtrArray *
rd_tenant_sync_load_cache (RdTenantSync  *self,
                           GDateTime    **saved_at)
{
  g_autofree char *path = NULL;
  g_autoptr (CacheContents) contents = NULL;

  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);

  path = dup_cache_path (self->tenant_id);
  contents = read_cache (path, FALSE);
  if (contents == NULL)
    return NULL;

  return apply_cache (self, contents, saved_at);
}

static void
load_cache_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  CacheContents *contents = read_cache (task_data, TRUE);

  if (contents == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                             _ ("There is no saved inventory for this tenant."));
  else
    g_task_return_pointer (task, contents, (GDestroyNotify) cache_contents_free);
}

static void
on_cache_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  CacheContents *contents;

  contents = g_task_propagate_pointer (G_TASK (result), &error);
  if (contents == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, contents, (GDestroyNotify) cache_contents_free);
}

/**
 * rd_tenant_sync_load_cache_async:
 *
 * Like rd_tenant_sync_load_cache(), reading and parsing on a worker
 * thread, which a large inventory needs.
 */
void
rd_tenant_sync_load_cache_async (RdTenantSync        *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GTask) read = NULL;

  g_return_if_fail (RD_IS_TENANT_SYNC (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_tenant_sync_load_cache_async);

  /* The thread reads for an inner task without a source object, which the
   * worker may release last. */
  read = g_task_new (NULL, cancellable, on_cache_read_cb, g_steal_pointer (&task));
  g_task_set_source_tag (read, load_cache_thread);
  g_task_set_task_data (read, dup_cache_path (self->tenant_id), g_free);
  g_task_run_in_thread (read, load_cache_thread);
}

/**
 * rd_tenant_sync_load_cache_finish:
 * @saved_at: (out) (optional) (transfer full): when the cached inventory
 *   was loaded from Graph
 * @listing: (out) (optional) (transfer full): the devices filed on the
 *   worker for a board that holds none yet (see rd_board_take_listing())
 *
 * Returns: (transfer container) (element-type RdDevice): the cached
 *   Windows devices, or %NULL with %G_IO_ERROR_NOT_FOUND when there is no
 *   usable cache
 */
GPtrArray *
rd_tenant_sync_load_cache_finish (RdTenantSync    *self,
                                  GAsyncResult    *result,
                                  GDateTime      **saved_at,
                                  RdBoardListing **listing,
                                  GError         **error)
{
  g_autoptr (CacheContents) contents = NULL;

  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rd_tenant_sync_load_cache_async,
                        NULL);

  contents = g_task_propagate_pointer (G_TASK (result), error);
  if (contents == NULL)
    return NULL;

  if (listing != NULL)
    *listing = g_steal_pointer (&contents->listing);
  return apply_cache (self, contents, saved_at);
}

/* GObject */

static void
rd_tenant_sync_finalize (GObject *object)
{
  RdTenantSync *self = (RdTenantSync *) object;

  /* Keeps the promise of a run that succeeded for those who drop the sync
   * and exit: the cache holds its inventory. */
  if (self->cache_write != NULL)
    wait_for_cache_write (self->cache_write);
  g_clear_pointer (&self->cache_write, cache_write_unref);

  g_clear_object (&self->client);
  g_free (self->tenant_id);
  g_ptr_array_unref (self->notes);
  g_clear_pointer (&self->synced_at, g_date_time_unref);

  G_OBJECT_CLASS (rd_tenant_sync_parent_class)->finalize (object);
}

static void
rd_tenant_sync_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  RdTenantSync *self = RD_TENANT_SYNC (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_TENANT_ID:
      g_value_set_string (value, self->tenant_id);
      break;
    case PROP_USE_BETA:
      g_value_set_boolean (value, self->use_beta);
      break;
    case PROP_PHASE:
      g_value_set_enum (value, self->phase);
      break;
    case PROP_PAGES_LOADED:
      g_value_set_uint (value, self->pages_loaded);
      break;
    case PROP_DEVICES_LOADED:
      g_value_set_uint (value, self->devices_loaded);
      break;
    case PROP_NON_WINDOWS_COUNT:
      g_value_set_uint (value, self->non_windows_count);
      break;
    case PROP_SYNCED_AT:
      g_value_set_boxed (value, self->synced_at);
      break;
    case PROP_STALE:
      g_value_set_boolean (value, self->stale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_tenant_sync_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  RdTenantSync *self = RD_TENANT_SYNC (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_TENANT_ID:
      self->tenant_id = g_value_dup_string (value);
      break;
    case PROP_USE_BETA:
      rd_tenant_sync_set_use_beta (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_tenant_sync_class_init (RdTenantSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags read_only = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = rd_tenant_sync_finalize;
  object_class->get_property = rd_tenant_sync_get_property;
  object_class->set_property = rd_tenant_sync_set_property;

  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, RD_TYPE_GRAPH_CLIENT,
                                                 G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                   G_PARAM_STATIC_STRINGS);
  properties[PROP_TENANT_ID] = g_param_spec_string ("tenant-id", NULL, NULL, NULL,
                                                    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                      G_PARAM_STATIC_STRINGS);
  properties[PROP_USE_BETA] = g_param_spec_boolean (
    "use-beta", NULL, NULL, TRUE,
    G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PHASE] = g_param_spec_enum ("phase", NULL, NULL, RD_TYPE_SYNC_PHASE,
                                              RD_SYNC_PHASE_IDLE, read_only);
  properties[PROP_PAGES_LOADED] = g_param_spec_uint ("pages-loaded", NULL, NULL, 0, G_MAXUINT, 0,
                                                     read_only);
  properties[PROP_DEVICES_LOADED] = g_param_spec_uint ("devices-loaded", NULL, NULL, 0, G_MAXUINT,
                                                       0, read_only);
  properties[PROP_NON_WINDOWS_COUNT] = g_param_spec_uint ("non-windows-count", NULL, NULL, 0,
                                                          G_MAXUINT, 0, read_only);
  properties[PROP_SYNCED_AT] = g_param_spec_boxed ("synced-at", NULL, NULL, G_TYPE_DATE_TIME,
                                                   read_only);
  properties[PROP_STALE] = g_param_spec_boolean ("stale", NULL, NULL, FALSE, read_only);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_tenant_sync_init (RdTenantSync *self)
{
  self->use_beta = TRUE;
  self->notes = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->notes, NULL);
}

/**
 * rd_tenant_sync_new:
 * @client: the client, whose base URL is the Graph v1.0 (or beta) endpoint
 * @tenant_id: the tenant's id, which names its inventory cache
 */
RdTenantSync *
rd_tenant_sync_new (RdGraphClient *client,
                    const char    *tenant_id)
{
  g_return_val_if_fail (RD_IS_GRAPH_CLIENT (client), NULL);

  return g_object_new (RD_TYPE_TENANT_SYNC, "client", client, "tenant-id", tenant_id, NULL);
}

RdGraphClient *
rd_tenant_sync_get_client (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);

  return self->client;
}

const char *
rd_tenant_sync_get_tenant_id (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);

  return self->tenant_id;
}

gboolean
rd_tenant_sync_get_use_beta (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), FALSE);

  return self->use_beta;
}

/**
 * rd_tenant_sync_set_use_beta:
 * @use_beta: whether to list managed devices from Graph beta, which alone
 *   has joinType and managementState; the encryption report is beta only
 *   either way
 */
void
rd_tenant_sync_set_use_beta (RdTenantSync *self,
                             gboolean      use_beta)
{
  g_return_if_fail (RD_IS_TENANT_SYNC (self));

  use_beta = !!use_beta;
  if (self->use_beta == use_beta)
    return;

  self->use_beta = use_beta;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_BETA]);
}

RdSyncPhase
rd_tenant_sync_get_phase (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), RD_SYNC_PHASE_IDLE);

  return self->phase;
}

guint
rd_tenant_sync_get_pages_loaded (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), 0);

  return self->pages_loaded;
}

/**
 * rd_tenant_sync_get_devices_loaded:
 *
 * Returns: how many managed devices (of every OS) the running or last sync
 *   received so far
 */
guint
rd_tenant_sync_get_devices_loaded (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), 0);

  return self->devices_loaded;
}

/**
 * rd_tenant_sync_get_non_windows_count:
 *
 * Returns: how many managed devices of the inventory are not Windows:
 *   counted, but not returned
 */
guint
rd_tenant_sync_get_non_windows_count (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), 0);

  return self->non_windows_count;
}

/**
 * rd_tenant_sync_get_notes:
 *
 * Returns: (array zero-terminated=1) (transfer none): what the admin should
 *   know about the inventory held: each optional source that did not load
 *   and which facts it leaves unknown
 */
const char *const *
rd_tenant_sync_get_notes (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);

  return (const char *const *) self->notes->pdata;
}

/**
 * rd_tenant_sync_get_synced_at:
 *
 * Returns: (nullable) (transfer none): when the inventory held (from a
 *   sync or the cache) was loaded from Graph
 */
GDateTime *
rd_tenant_sync_get_synced_at (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), NULL);

  return self->synced_at;
}

/**
 * rd_tenant_sync_get_stale:
 *
 * Returns: whether the inventory held came from the cache and no sync has
 *   succeeded since
 */
gboolean
rd_tenant_sync_get_stale (RdTenantSync *self)
{
  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), FALSE);

  return self->stale;
}

/**
 * rd_tenant_sync_get_age:
 *
 * Returns: how old the inventory held is, or 0 when there is none
 */
GTimeSpan
rd_tenant_sync_get_age (RdTenantSync *self)
{
  g_autoptr (GDateTime) now = NULL;

  g_return_val_if_fail (RD_IS_TENANT_SYNC (self), 0);

  if (self->synced_at == NULL)
    return 0;

  now = g_date_time_new_now_utc ();
  return MAX (g_date_time_difference (now, self->synced_at), 0);
}
