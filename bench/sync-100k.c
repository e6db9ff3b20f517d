/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-sync"

#include "config.h"

#include "rd-graph-client.h"
#include "rd-malloc.h"
#include "rd-static-token-source.h"
#include "rd-tenant-sync.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* The sync benchmark of issue 3: a full RdTenantSync of a generated tenant
 * (100,000 devices, pages of 1,000) against curl fetching the same pages in
 * the same run, from the demo tenant in another process (bench/demo-server).
 *
 * 1. A walk, untimed for the target: for each of the four lists, one curl
 *    process per page, following @odata.nextLink, the four lists at once.
 *    It collects every page URL and warms the server.
 * 2. curl, timed: for each list, ONE curl process given all of that list's
 *    page URLs, so that it fetches them one after another on one kept-alive
 *    connection, the four lists at once, bodies to /dev/null. This is the
 *    floor a client could reach: the same requests, the same bytes, no
 *    process per page, no JSON. The sync's target is ≤ 1.5× this time.
 * 3. The sync, timed, in this process: rd_tenant_sync_run_async() until its
 *    callback, which hands the inventory over before the cache is written
 *    (to a temporary $XDG_CACHE_HOME); then, for information, how much
 *    longer rd_tenant_sync_flush_cache() waits for the cache. Measured
 *    alongside: the peak RSS of this process during the sync (VmHWM, reset
 *    before it through /proc/self/clear_refs), the longest main-loop stall
 *    (a 10 ms timeout, its lateness) and the CPU time of all threads.
 *
 * The $select lists are those of rd-tenant-sync.c (beta managedDevices and
 * encryption states, v1.0 recovery keys and Autopilot identities). */

#define TARGET_RATIO 1.5
#define TARGET_RSS_MB 300.0
#define TARGET_STALL_MS 50.0
#define TICK_MS 10

typedef struct
{
  const char *version;
  const char *path;
  const char *select;
} ListInfo;

static const ListInfo lists[] = {
  { "beta", "/deviceManagement/managedDevices",
    "id,deviceName,azureADDeviceId,serialNumber,manufacturer,model,operatingSystem,osVersion,"
    "userPrincipalName,userDisplayName,complianceState,managementAgent,managedDeviceOwnerType,"
    "deviceEnrollmentType,enrolledDateTime,lastSyncDateTime,isEncrypted,joinType,"
    "managementState" },
  { "v1.0", "/informationProtection/bitlocker/recoveryKeys", "id,deviceId" },
  { "v1.0", "/deviceManagement/windowsAutopilotDeviceIdentities",
    "id,serialNumber,enrollmentState" },
  { "beta", "/deviceManagement/managedDeviceEncryptionStates",
    "id,deviceName,tpmSpecificationVersion,encryptionReadinessState,encryptionState,"
    "advancedBitLockerStates" },
};

#define N_LISTS G_N_ELEMENTS (lists)

static const char *curl_path = "curl";
static char *authorization;

/* Server */

typedef struct
{
  GSubprocess *process;
  char *graph_url;
  char *tenant_id;
  char *token;
} Server;

static gboolean
server_start (Server      *server,
              const char  *path,
              int          n_devices,
              int          page_size,
              GError     **error)
{
  g_autofree char *devices = g_strdup_printf ("--devices=%d", n_devices);
  g_autofree char *pages = g_strdup_printf ("--page-size=%d", page_size);
  g_autoptr (GDataInputStream) out = NULL;
  char *line;

  server->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, error, path, devices, pages,
                                      NULL);
  if (server->process == NULL)
    return FALSE;

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  while ((line = g_data_input_stream_read_line (out, NULL, NULL, error)) != NULL)
    {
      if (g_str_has_prefix (line, "graph-url="))
        server->graph_url = g_strdup (line + strlen ("graph-url="));
      else if (g_str_has_prefix (line, "tenant-id="))
        server->tenant_id = g_strdup (line + strlen ("tenant-id="));
      else if (g_str_has_prefix (line, "token="))
        server->token = g_strdup (line + strlen ("token="));
      else if (g_str_equal (line, "ready"))
        {
          g_free (line);
          return TRUE;
        }
      g_free (line);
    }

  if (error != NULL && *error == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s stopped before it was ready", path);
  return FALSE;
}

static void
server_stop (Server *server)
{
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      g_subprocess_wait (server->process, NULL, NULL);
      g_clear_object (&server->process);
    }
}

/* curl */

typedef struct
{
  const ListInfo *list;
  char *first_url;
  GPtrArray *urls; /* every page, the first included */
  guint64 bytes;
  GError *error;
} Walk;

/* The nextLink of a page as the demo tenant writes it: a plain JSON string
 * (its URLs are percent-escaped, so hold no backslash). */
static char *
dup_next_link (const char *body)
{
  static const char key[] = "\"@odata.nextLink\":\"";
  const char *start = g_strrstr (body, key);
  const char *end;

  if (start == NULL)
    return NULL;
  start += strlen (key);
  end = strchr (start, '"');
  return end != NULL ? g_strndup (start, end - start) : NULL;
}

static gpointer
walk_thread (gpointer data)
{
  Walk *walk = data;
  g_autofree char *url = g_strdup (walk->first_url);

  while (url != NULL)
    {
      const char *argv[] = { curl_path, "-s", "-f", "-H", authorization, "-H",
                             "Accept: application/json", url, NULL };
      g_autofree char *body = NULL;
      int status = 0;

      g_ptr_array_add (walk->urls, g_strdup (url));
      if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &body, NULL,
                         &status, &walk->error) ||
          !g_spawn_check_wait_status (status, &walk->error))
        return NULL;

      walk->bytes += strlen (body);
      g_free (url);
      url = dup_next_link (body);
    }

  return NULL;
}

/* Runs the four walks at once. */
static gboolean
walk_all (Walk     *walks,
          double   *seconds,
          GError  **error)
{
  GThread *threads[N_LISTS];
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < N_LISTS; i++)
    threads[i] = g_thread_new ("walk", walk_thread, &walks[i]);
  for (guint i = 0; i < N_LISTS; i++)
    g_thread_join (threads[i]);
  *seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  for (guint i = 0; i < N_LISTS; i++)
    if (walks[i].error != NULL)
      {
        g_propagate_prefixed_error (error, g_steal_pointer (&walks[i].error), "curl on %s: ",
                                    walks[i].list->path);
        return FALSE;
      }

  return TRUE;
}

/* One curl per list, given all its page URLs, the four at once. */
static gboolean
curl_all (Walk     *walks,
          double   *seconds,
          GError  **error)
{
  GPid pids[N_LISTS];
  gint64 start;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_LISTS; i++)
    {
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();

      g_ptr_array_add (argv, (char *) curl_path);
      g_ptr_array_add (argv, (char *) "-s");
      g_ptr_array_add (argv, (char *) "-f");
      g_ptr_array_add (argv, (char *) "-H");
      g_ptr_array_add (argv, authorization);
      g_ptr_array_add (argv, (char *) "-H");
      g_ptr_array_add (argv, (char *) "Accept: application/json");
      for (guint j = 0; j < walks[i].urls->len; j++)
        g_ptr_array_add (argv, g_ptr_array_index (walks[i].urls, j));
      g_ptr_array_add (argv, NULL);

      if (!g_spawn_async (NULL, (char **) argv->pdata, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                            G_SPAWN_STDOUT_TO_DEV_NULL,
                          NULL, NULL, &pids[i], error))
        return FALSE;
    }

  for (guint i = 0; i < N_LISTS; i++)
    {
      int status = 0;

      if (waitpid (pids[i], &status, 0) < 0 || !g_spawn_check_wait_status (status, error))
        return FALSE;
    }
  *seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  return TRUE;
}

/* The sync */

typedef struct
{
  GMainLoop *loop;
  GPtrArray *devices;
  GError *error;
  gint64 start;
  gint64 last_tick;
  gint64 max_stall;
  gint64 joining_at;
} SyncRun;

static void
on_phase_cb (RdTenantSync *sync,
             GParamSpec   *pspec,
             gpointer      user_data)
{
  SyncRun *run = user_data;

  if (rd_tenant_sync_get_phase (sync) == RD_SYNC_PHASE_JOINING)
    run->joining_at = g_get_monotonic_time ();
}

static gboolean
on_tick_cb (gpointer user_data)
{
  SyncRun *run = user_data;
  gint64 now = g_get_monotonic_time ();

  run->max_stall = MAX (run->max_stall, now - run->last_tick - TICK_MS * 1000);
  run->last_tick = now;
  return G_SOURCE_CONTINUE;
}

static void
on_sync_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SyncRun *run = user_data;

  run->devices = rd_tenant_sync_run_finish (RD_TENANT_SYNC (object), result, &run->error);
  g_main_loop_quit (run->loop);
}

/* The peak RSS since the last reset, in kB: VmHWM, else ru_maxrss. */
static gint64
read_peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  struct rusage usage;
  const char *hwm;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL) &&
      (hwm = strstr (status, "VmHWM:")) != NULL)
    return g_ascii_strtoll (hwm + strlen ("VmHWM:"), NULL, 10);

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/* Writing 5 to clear_refs resets VmHWM (Linux 4.0). */
static gboolean
reset_peak_rss (void)
{
  FILE *file = fopen ("/proc/self/clear_refs", "w");
  gboolean done;

  if (file == NULL)
    return FALSE;
  done = fputs ("5", file) >= 0;
  return fclose (file) == 0 && done;
}

static void
remove_cache (RdTenantSync *sync,
              const char   *cache_dir)
{
  g_autofree char *path = rd_tenant_sync_dup_cache_path (sync);
  g_autofree char *folder = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (folder);
  g_rmdir (cache_dir);
}

/* CPU time of the whole process (every thread), in seconds. */
static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static const char *
verdict (gboolean pass)
{
  return pass ? "PASS" : "MISS";
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdTokenSource) tokens = NULL;
  g_autoptr (RdGraphClient) client = NULL;
  g_autoptr (RdTenantSync) sync = NULL;
  g_autofree char *cache_dir = NULL;
  g_autofree char *server_path = NULL;
  g_autofree char *graph_url = NULL;
  g_autofree char *token = NULL;
  g_autofree char *tenant_id = NULL;
  g_autofree char *root = NULL;
  Server server = { 0 };
  Walk walks[N_LISTS] = { { 0 } };
  SyncRun run = { 0 };
  gboolean skip_curl = FALSE;
  int n_devices = 100000;
  int page_size = 1000;
  double walk_s = 0, curl_s = 0, sync_s = 0, flush_s, ratio;
  gint64 start, flush_start, rss_before_kb, rss_kb;
  guint64 total_bytes = 0;
  guint total_pages = 0;
  guint tick_id;
  double rss_mb, stall_ms, cpu_start, cpu_s;
  gboolean pass;
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_FILENAME, &server_path,
      "Start this demo-server and stop it afterwards", "PATH" },
    { "graph-url", 0, 0, G_OPTION_ARG_STRING, &graph_url,
      "Use a demo-server already running here (…/v1.0)", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "Its access token", "TOKEN" },
    { "tenant-id", 0, 0, G_OPTION_ARG_STRING, &tenant_id, "Its tenant id", "ID" },
    { "devices", 'n', 0, G_OPTION_ARG_INT, &n_devices, "Devices, with --server (100000)", "N" },
    { "page-size", 'p', 0, G_OPTION_ARG_INT, &page_size, "Page size, with --server (1000)", "N" },
    { "curl", 0, 0, G_OPTION_ARG_FILENAME, &curl_path, "The curl to run (curl)", "PATH" },
    { "skip-curl", 0, 0, G_OPTION_ARG_NONE, &skip_curl, "Time the sync only (profiling)", NULL },
    { NULL },
  };

  /* As the app and the CLI set malloc() up. */
  rd_malloc_tune ();
  context = g_option_context_new ("- time a full tenant sync against curl");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  /* The sync writes its inventory cache; keep it out of the real one. */
  cache_dir = g_dir_make_tmp ("rd-bench-sync-XXXXXX", &error);
  if (cache_dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);

  if (server_path != NULL)
    {
      if (!server_start (&server, server_path, n_devices, page_size, &error))
        {
          g_printerr ("Could not start %s: %s\n", server_path, error->message);
          server_stop (&server);
          return 1;
        }
      g_free (graph_url);
      graph_url = g_strdup (server.graph_url);
      g_free (token);
      token = g_strdup (server.token);
      g_free (tenant_id);
      tenant_id = g_strdup (server.tenant_id);
    }
  if (graph_url == NULL || token == NULL || !g_str_has_suffix (graph_url, "/v1.0"))
    {
      g_printerr ("Give --server PATH, or --graph-url …/v1.0 and --token\n");
      return 2;
    }

  root = g_strndup (graph_url, strlen (graph_url) - strlen ("/v1.0"));
  authorization = g_strconcat ("Authorization: Bearer ", token, NULL);

  if (!skip_curl)
    {
      for (guint i = 0; i < N_LISTS; i++)
        {
          walks[i].list = &lists[i];
          walks[i].first_url = g_strdup_printf ("%s/%s%s?$select=%s", root, lists[i].version,
                                                lists[i].path, lists[i].select);
          walks[i].urls = g_ptr_array_new_with_free_func (g_free);
        }

      if (!walk_all (walks, &walk_s, &error) || !curl_all (walks, &curl_s, &error))
        {
          g_printerr ("%s\n", error->message);
          server_stop (&server);
          return 1;
        }

      for (guint i = 0; i < N_LISTS; i++)
        {
          total_pages += walks[i].urls->len;
          total_bytes += walks[i].bytes;
        }
    }

  tokens = rd_static_token_source_new (token);
  client = rd_graph_client_new (graph_url, tokens);
  sync = rd_tenant_sync_new (client, tenant_id != NULL ? tenant_id : "bench");
  run.loop = g_main_loop_new (NULL, FALSE);

  rss_before_kb = read_peak_rss_kb ();
  if (!reset_peak_rss ())
    g_printerr ("Could not reset VmHWM; the peak RSS includes what came before the sync\n");

  g_signal_connect (sync, "notify::phase", G_CALLBACK (on_phase_cb), &run);
  cpu_start = cpu_seconds ();
  start = g_get_monotonic_time ();
  run.start = start;
  run.last_tick = start;
  tick_id = g_timeout_add (TICK_MS, on_tick_cb, &run);
  rd_tenant_sync_run_async (sync, NULL, on_sync_done_cb, &run);
  g_main_loop_run (run.loop);
  sync_s = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  cpu_s = cpu_seconds () - cpu_start;
  g_source_remove (tick_id);
  rss_kb = read_peak_rss_kb ();

  flush_start = g_get_monotonic_time ();
  rd_tenant_sync_flush_cache (sync);
  flush_s = (g_get_monotonic_time () - flush_start) / (double) G_USEC_PER_SEC;

  server_stop (&server);

  if (run.devices == NULL)
    {
      g_printerr ("The sync failed: %s\n", run.error->message);
      return 1;
    }

  rss_mb = rss_kb / 1024.0;
  stall_ms = run.max_stall / 1000.0;
  ratio = curl_s > 0 ? sync_s / curl_s : 0;

  g_print ("Sync benchmark: %s, %u Windows devices (+%u not Windows), %u pages, %.1f MB of JSON\n",
           graph_url, run.devices->len, rd_tenant_sync_get_non_windows_count (sync),
           total_pages, total_bytes / 1e6);
  if (!skip_curl)
    {
      g_print ("  curl walk (one process per page, for the URLs)  %8.2f s  (info)\n", walk_s);
      g_print ("  curl (one process per list, kept alive)         %8.2f s\n", curl_s);
    }
  g_print ("  RdTenantSync (fetch, parse, map, join)          %8.2f s  (lists %.2f s, join "
           "%.2f s)\n",
           sync_s, (run.joining_at - start) / (double) G_USEC_PER_SEC,
           sync_s - (run.joining_at - start) / (double) G_USEC_PER_SEC);
  g_print ("  RdTenantSync CPU time, all threads              %8.2f s  (info: load-independent)\n",
           cpu_s);
  g_print ("  cache written, after the sync returned          %8.2f s  (info)\n", flush_s);
  if (!skip_curl)
    g_print ("  ratio sync / curl         %6.2f   target <= %.1f     %s\n", ratio, TARGET_RATIO,
             verdict (ratio <= TARGET_RATIO));
  g_print ("  peak RSS during the sync  %6.0f MB target <= %.0f MB  %s  (%.0f MB before it)\n",
           rss_mb, TARGET_RSS_MB, verdict (rss_mb <= TARGET_RSS_MB), rss_before_kb / 1024.0);
  g_print ("  longest main-loop stall   %6.1f ms target < %.0f ms   %s\n", stall_ms,
           TARGET_STALL_MS, verdict (stall_ms < TARGET_STALL_MS));
  g_print ("RESULT curl_s=%.3f sync_s=%.3f ratio=%.3f rss_mb=%.1f stall_ms=%.1f cpu_s=%.2f\n",
           curl_s, sync_s, ratio, rss_mb, stall_ms, cpu_s);

  for (guint i = 0; i < N_LISTS; i++)
    {
      g_free (walks[i].first_url);
      g_clear_pointer (&walks[i].urls, g_ptr_array_unref);
    }
  g_clear_pointer (&run.devices, g_ptr_array_unref);
  g_main_loop_unref (run.loop);
  g_free (authorization);
  remove_cache (sync, cache_dir);

  pass = (skip_curl || ratio <= TARGET_RATIO) && rss_mb <= TARGET_RSS_MB &&
         stall_ms < TARGET_STALL_MS;
  return pass ? 0 : 1;
}
