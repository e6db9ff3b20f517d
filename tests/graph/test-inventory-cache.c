/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "rd-device-private.h"
#include "rd-graph-client.h"
#include "rd-inventory-cache-private.h"
#include "rd-static-token-source.h"
#include "rd-tenant-sync.h"
#include "../rd-test-util.h"

/* The fast companion of the inventory cache (rd-inventory-cache.c), read
 * and written directly and through RdTenantSync's cache functions. */

typedef struct
{
  char *home;
  char *json_path;
  GPtrArray *devices;
} Fixture;

#define HEADER "{\"format\":\"recovery-desk-inventory\",\"version\":1,\"tenantId\":\"t\"," \
               "\"savedAt\":\"2026-11-20T08:00:00Z\",\"nonWindowsCount\":2,\"notes\":[\"n\"]}"

static RdDevice *
full_device (guint i)
{
  g_autoptr(GDateTime) enrolled = g_date_time_new_utc (2024, 3, 1, 9, 30, 12.25);
  g_autoptr(GDateTime) last_sync = g_date_time_new_utc (2026, 11, 19, 17, 0, 0);
  g_autofree char *id = g_strdup_printf ("0000-%04u", i);
  g_autofree char *name = g_strdup_printf ("RÉCEPTION-ÅSA-%02u", i);
  RdDevice *device = rd_device_new (id, name);

  g_object_set (device, "entra-device-id", "e-1", "serial", "SN\"1\n", "manufacturer", "Dell Inc.",
                "model", "Latitude 7440", "operating-system", "Windows",
                "os-version", "10.0.22631.4460", "user-principal-name", "asa@contoso.example",
                "user-display-name", "Åsa Öberg", "compliance", RD_COMPLIANCE_IN_GRACE_PERIOD,
                "management-agent", "mdm", "owner-type", RD_OWNER_TYPE_COMPANY, "join-type",
                RD_JOIN_TYPE_HYBRID_JOINED, "enrollment-type", "windowsAzureADJoin", "enrolled",
                enrolled, "last-sync", i % 2 == 0 ? last_sync : NULL, "encrypted",
                RD_TRISTATE_NO, "escrowed-keys", (int) i % 3 - 1, "autopilot", RD_TRISTATE_YES,
                "autopilot-state", "enrolled", "tpm-version", "2.0", "encryption-readiness",
                RD_ENCRYPTION_READINESS_READY, "winre-state", RD_WINRE_STATE_NOT_CONFIGURED,
                "management-state", RD_MANAGEMENT_STATE_WIPE_PENDING, NULL);
  return device;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *dir = NULL;

  fixture->home = rd_test_make_tmp_dir ("rd-inventory-cache-XXXXXX");
  g_setenv ("XDG_CACHE_HOME", fixture->home, TRUE);
  dir = g_build_filename (fixture->home, "recovery-desk", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  fixture->json_path = g_build_filename (dir, "inventory-t.json", NULL);

  fixture->devices = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (fixture->devices, full_device (i));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_ptr_array_unref (fixture->devices);
  rd_test_remove_tree (fixture->home);
  g_free (fixture->home);
  g_free (fixture->json_path);
}

/* The JSON cache of @devices, as the sync writes it. */
static void
write_json (Fixture   *fixture,
            GPtrArray *devices)
{
  g_autoptr(GString) text = g_string_new (HEADER);
  g_autoptr(GError) error = NULL;

  g_string_truncate (text, text->len - 1);
  g_string_append (text, ",\"devices\":[");
  for (guint i = 0; i < devices->len; i++)
    {
      if (i > 0)
        g_string_append_c (text, ',');
      _rd_device_append_json (g_ptr_array_index (devices, i), text);
    }
  g_string_append (text, "]}");
  g_assert_true (g_file_set_contents (fixture->json_path, text->str, text->len, &error));
  g_assert_no_error (error);
}

static char *
to_json (RdDevice *device)
{
  g_autoptr(JsonNode) node = rd_device_to_json (device);

  return json_to_string (node, FALSE);
}

static void
assert_same_devices (GPtrArray *expected,
                     GPtrArray *actual)
{
  g_assert_nonnull (actual);
  g_assert_cmpuint (actual->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      g_autofree char *a = to_json (g_ptr_array_index (expected, i));
      g_autofree char *b = to_json (g_ptr_array_index (actual, i));

      g_assert_cmpstr (a, ==, b);
      g_assert_cmpstr (rd_device_get_search_text (g_ptr_array_index (expected, i)), ==,
                       rd_device_get_search_text (g_ptr_array_index (actual, i)));
      g_assert_cmpstr (_rd_device_get_sort_key (g_ptr_array_index (expected, i)), ==,
                       _rd_device_get_sort_key (g_ptr_array_index (actual, i)));
    }
}

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *header = NULL;
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (fixture->json_path);
  g_autoptr (RdBoardListing) listing = NULL;
  g_autoptr (RdBoard) board = NULL;
  GListModel *inventory;
  struct stat st;

  g_assert_true (g_str_has_suffix (path, "/inventory-t.bin"));

  /* None yet: no devices, and no error. */
  write_json (fixture, fixture->devices);
  g_assert_null (_rd_inventory_cache_read_binary (fixture->json_path, &header, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (_rd_inventory_cache_write_binary (fixture->json_path, HEADER, fixture->devices,
                                                   &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  read = _rd_inventory_cache_read_binary (fixture->json_path, &header, NULL, &error);
  g_assert_no_error (error);
  assert_same_devices (fixture->devices, read);
  g_assert_cmpstr (header, ==, HEADER);
  g_assert_true (rd_device_has_wipe_pending (g_ptr_array_index (read, 0)));
  g_assert_null (rd_device_get_last_sync (g_ptr_array_index (read, 1)));
  g_clear_pointer (&read, g_ptr_array_unref);
  g_clear_pointer (&header, g_free);

  /* Filed for a board as they are read: the board takes them as they are. */
  read = _rd_inventory_cache_read_binary (fixture->json_path, &header, &listing, &error);
  g_assert_no_error (error);
  g_assert_nonnull (listing);
  board = rd_board_new (NULL);
  g_assert_true (rd_board_take_listing (board, listing));
  inventory = rd_board_get_lane (board, RD_LANE_INVENTORY);
  g_assert_cmpuint (g_list_model_get_n_items (inventory), ==, read->len);
  for (guint i = 0; i < read->len; i++)
    {
      g_autoptr (RdDevice) device = g_list_model_get_item (inventory, i);

      g_assert_true (device == read->pdata[i]);
      g_assert_true (rd_board_lookup_device (board, rd_device_get_id (device)) == device);
    }
}

/* A companion is used only for the very JSON file it was written after. */
static void
test_stale (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *header = NULL;
  struct utimbuf times = { 1000000, 1000000 };

  write_json (fixture, fixture->devices);
  g_assert_true (_rd_inventory_cache_write_binary (fixture->json_path, HEADER, fixture->devices,
                                                   &error));
  g_assert_cmpint (utime (fixture->json_path, &times), ==, 0);
  g_assert_null (_rd_inventory_cache_read_binary (fixture->json_path, &header, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_unlink (fixture->json_path), ==, 0);
  g_assert_null (_rd_inventory_cache_read_binary (fixture->json_path, &header, NULL, &error));
  g_assert_no_error (error);
}

/* Every truncation and a flipped byte are errors, not crashes. */
static void
test_damaged (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (fixture->json_path);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  write_json (fixture, fixture->devices);
  g_assert_true (_rd_inventory_cache_write_binary (fixture->json_path, HEADER, fixture->devices,
                                                   &error));
  g_assert_true (g_file_get_contents (path, &contents, &length, &error));

  for (gsize cut = 48; cut < length; cut += 7)
    {
      g_autoptr(GPtrArray) read = NULL;
      g_autofree char *header = NULL;

      g_assert_true (g_file_set_contents (path, contents, cut, &error));
      read = _rd_inventory_cache_read_binary (fixture->json_path, &header, NULL, &error);
      g_assert_null (read);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_clear_error (&error);
    }

  /* An enum out of range in the last device (its ints precede two dates
   * and the end mark). */
  contents[length - 8 - 16 - 4] = 0x7f;
  g_assert_true (g_file_set_contents (path, contents, length, &error));
  g_assert_null (_rd_inventory_cache_read_binary (fixture->json_path, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* Strings of every length around the reader's 8- and 16-byte blocks, in
 * ASCII or not, read back as written; a zero byte or a byte that is not
 * UTF-8 inside one makes the companion damaged, a valid character does
 * not. */
static void
test_strings (Fixture       *fixture,
              gconstpointer  data)
{
  static const char marker[] = "MARKER-0123456789-ABCDEFGHIJKLMNOP-XYZ";
  static const gsize offsets[] = { 3, 20, 35 };
  static const char bad[] = { '\0', '\xff', '\x80' };
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (fixture->json_path);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  RdDevice *marked;
  gsize length;
  char *at;

  for (guint i = 0; i <= 40; i++)
    {
      RdDevice *device = full_device (i);
      g_autofree char *ascii = g_strnfill (i, 'a' + i % 26);
      g_autofree char *before = g_strnfill (i % 24, 'b');
      g_autofree char *accented = g_strconcat (before, "Ö", "-tail", NULL);

      g_object_set (device, "name", ascii, "user-display-name", accented, NULL);
      g_ptr_array_add (devices, device);
    }
  marked = full_device (99);
  g_object_set (marked, "model", marker, NULL);
  g_ptr_array_insert (devices, 7, marked);

  write_json (fixture, devices);
  g_assert_true (_rd_inventory_cache_write_binary (fixture->json_path, HEADER, devices, &error));
  g_assert_no_error (error);
  read = _rd_inventory_cache_read_binary (fixture->json_path, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_devices (devices, read);
  g_clear_pointer (&read, g_ptr_array_unref);

  /* The model is searchable, but the search text holds it in lower case:
   * the marker is there once. */
  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  at = memmem (contents, length, marker, strlen (marker));
  g_assert_nonnull (at);
  g_assert_null (memmem (at + 1, length - (at + 1 - contents), marker, strlen (marker)));

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    for (guint j = 0; j < G_N_ELEMENTS (bad); j++)
      {
        char saved = at[offsets[i]];

        at[offsets[i]] = bad[j];
        g_assert_true (g_file_set_contents (path, contents, length, &error));
        g_assert_null (_rd_inventory_cache_read_binary (fixture->json_path, NULL, NULL, &error));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_clear_error (&error);
        at[offsets[i]] = saved;
      }

  /* Two ASCII bytes become one two-byte character. */
  memcpy (at + 20, "Ö", 2);
  g_assert_true (g_file_set_contents (path, contents, length, &error));
  read = _rd_inventory_cache_read_binary (fixture->json_path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rd_device_get_model (g_ptr_array_index (read, 7)), ==,
                   "MARKER-0123456789-ABÖEFGHIJKLMNOP-XYZ");
}

static RdTenantSync *
new_sync (void)
{
  g_autoptr(RdTokenSource) tokens = rd_static_token_source_new ("unused");
  g_autoptr(RdGraphClient) client = rd_graph_client_new ("http://127.0.0.1:9/v1.0", tokens);

  return rd_tenant_sync_new (client, "t");
}

/* Through RdTenantSync: an old JSON-only cache is read and its companion
 * written; the companion is then what loads; a damaged one is replaced. */
static void
test_load_cache (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (fixture->json_path);
  g_autoptr(RdTenantSync) sync = new_sync ();
  g_autoptr(GPtrArray) cached = NULL;
  g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GDateTime) saved_at = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cache_path = rd_tenant_sync_dup_cache_path (sync);

  g_assert_cmpstr (cache_path, ==, fixture->json_path);
  write_json (fixture, fixture->devices);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  cached = rd_tenant_sync_load_cache (sync, &saved_at);
  assert_same_devices (fixture->devices, cached);
  /* The cache writer writes the companion, in order with syncs' writes. */
  rd_tenant_sync_flush_cache (sync);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (rd_tenant_sync_get_non_windows_count (sync), ==, 2);
  g_clear_pointer (&cached, g_ptr_array_unref);
  g_clear_pointer (&saved_at, g_date_time_unref);

  /* The companion is read, not the JSON: one that says otherwise wins. */
  g_ptr_array_add (others, full_device (42));
  g_assert_true (_rd_inventory_cache_write_binary (fixture->json_path, HEADER, others, &error));
  cached = rd_tenant_sync_load_cache (sync, &saved_at);
  assert_same_devices (others, cached);
  g_clear_pointer (&cached, g_ptr_array_unref);
  g_clear_pointer (&saved_at, g_date_time_unref);

  /* A damaged companion: the JSON is read, and the companion written anew. */
  g_assert_true (g_file_set_contents (path, "RDINVBIN", -1, &error));
  cached = rd_tenant_sync_load_cache (sync, &saved_at);
  assert_same_devices (fixture->devices, cached);
  g_clear_pointer (&cached, g_ptr_array_unref);
  g_clear_pointer (&saved_at, g_date_time_unref);
  rd_tenant_sync_flush_cache (sync);
  cached = _rd_inventory_cache_read_binary (fixture->json_path, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_devices (fixture->devices, cached);
}

/* A companion encoded from a JSON cache that a sync replaced before the
 * companion was written is not written: it would name the new JSON file
 * while holding the old devices. */
static void
test_encoded_stale (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *path = _rd_inventory_cache_dup_binary_path (fixture->json_path);
  g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  write_json (fixture, fixture->devices);
  g_assert_cmpint (g_stat (fixture->json_path, &st), ==, 0);
  encoded = _rd_inventory_cache_encode_binary (&st, HEADER, fixture->devices);

  /* Unchanged: written, and read back. */
  g_assert_true (_rd_inventory_cache_write_encoded (fixture->json_path, encoded, &error));
  g_assert_no_error (error);
  read = _rd_inventory_cache_read_binary (fixture->json_path, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_devices (fixture->devices, read);
  g_clear_pointer (&read, g_ptr_array_unref);
  g_assert_cmpint (g_unlink (path), ==, 0);

  /* A newer JSON cache (another size, a later mtime): nothing written. */
  g_ptr_array_add (others, full_device (42));
  write_json (fixture, others);
  {
    struct utimbuf later = { st.st_atime + 10, st.st_mtime + 10 };

    g_assert_cmpint (g_utime (fixture->json_path, &later), ==, 0);
  }
  g_assert_false (_rd_inventory_cache_write_encoded (fixture->json_path, encoded, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_AGAIN);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* GLib keeps the first $XDG_CACHE_HOME it reads: the fixture works on
 * the cache the sync reads, wherever an earlier test left that. */
static void
use_sync_cache (Fixture      *fixture,
                RdTenantSync *sync)
{
  g_autofree char *dir = NULL;

  g_free (fixture->json_path);
  fixture->json_path = rd_tenant_sync_dup_cache_path (sync);
  dir = g_path_get_dirname (fixture->json_path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
}

static void
remove_sync_cache (Fixture *fixture)
{
  if (!g_str_equal (g_get_user_cache_dir (), fixture->home))
    rd_test_remove_tree (g_get_user_cache_dir ());
}

/* A prefetch reads the cache on a thread of its own; the next load of that
 * cache takes what it read, and the one after reads the file again. */
static void
test_prefetch (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(RdTenantSync) sync = new_sync ();
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) cached = NULL;
  gint64 deadline;

  use_sync_cache (fixture, sync);
  path = _rd_inventory_cache_dup_binary_path (fixture->json_path);

  /* A JSON cache alone: the read queues the writing of its companion, so
   * the companion's appearance says that the prefetch has read. */
  write_json (fixture, fixture->devices);
  rd_tenant_sync_prefetch_cache (sync);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!g_file_test (path, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* The cache changes on disk after that read: the load gets what the
   * prefetch read, and the next load the file as it is now. */
  rd_tenant_sync_flush_cache (sync);
  g_ptr_array_add (others, full_device (42));
  write_json (fixture, others);
  g_assert_cmpint (g_unlink (path), ==, 0);

  cached = rd_tenant_sync_load_cache (sync, NULL);
  assert_same_devices (fixture->devices, cached);
  g_clear_pointer (&cached, g_ptr_array_unref);

  cached = rd_tenant_sync_load_cache (sync, NULL);
  assert_same_devices (others, cached);
  g_clear_pointer (&cached, g_ptr_array_unref);
  rd_tenant_sync_flush_cache (sync);
  remove_sync_cache (fixture);
}

/* A prefetch of another tenant's cache is dropped by a load of this one,
 * and a prefetch of a missing cache gives nothing. */
static void
test_prefetch_other (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(RdTenantSync) sync = new_sync ();
  g_autoptr(RdTokenSource) tokens = rd_static_token_source_new ("unused");
  g_autoptr(RdGraphClient) client = rd_graph_client_new ("http://127.0.0.1:9/v1.0", tokens);
  g_autoptr(RdTenantSync) other = rd_tenant_sync_new (client, "other");
  g_autoptr(GPtrArray) cached = NULL;

  use_sync_cache (fixture, sync);
  write_json (fixture, fixture->devices);

  rd_tenant_sync_prefetch_cache (other);
  cached = rd_tenant_sync_load_cache (sync, NULL);
  assert_same_devices (fixture->devices, cached);
  g_clear_pointer (&cached, g_ptr_array_unref);
  g_assert_null (rd_tenant_sync_load_cache (other, NULL));

  rd_tenant_sync_prefetch_cache (other);
  g_assert_null (rd_tenant_sync_load_cache (other, NULL));
  rd_tenant_sync_flush_cache (sync);
  remove_sync_cache (fixture);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/rd/inventory-cache/round-trip", Fixture, NULL, fixture_set_up, test_round_trip,
              fixture_tear_down);
  g_test_add ("/rd/inventory-cache/stale", Fixture, NULL, fixture_set_up, test_stale,
              fixture_tear_down);
  g_test_add ("/rd/inventory-cache/strings", Fixture, NULL, fixture_set_up, test_strings,
              fixture_tear_down);
  g_test_add ("/rd/inventory-cache/damaged", Fixture, NULL, fixture_set_up, test_damaged,
              fixture_tear_down);
  g_test_add ("/rd/inventory-cache/load-cache", Fixture, NULL, fixture_set_up, test_load_cache,
              fixture_tear_down);
  g_test_add ("/rd/inventory-cache/encoded-stale", Fixture, NULL, fixture_set_up,
              test_encoded_stale, fixture_tear_down);
  g_test_add ("/rd/inventory-cache/prefetch", Fixture, NULL, fixture_set_up, test_prefetch,
              fixture_tear_down);
  g_test_add ("/rd/inventory-cache/prefetch-other", Fixture, NULL, fixture_set_up,
              test_prefetch_other, fixture_tear_down);

  return g_test_run ();
}
