/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-ui"

#include "config.h"

#include "ui-bench.h"

#include "rd-demo-tenant.h"
#include "rd-graph-client.h"
#include "rd-session.h"
#include "rd-static-token-source.h"
#include "rd-tenant-sync.h"

#include <glib/gstdio.h>

typedef struct
{
  GMainLoop *loop;
  GPtrArray *devices;
  GError *error;
} SyncRun;

static void
on_sync_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SyncRun *run = user_data;

  run->devices = rd_tenant_sync_run_finish (RD_TENANT_SYNC (object), result, &run->error);
  g_main_loop_quit (run->loop);
}

/**
 * ui_bench_sync_demo:
 *
 * Generates the demo tenant that `--demo=N` would (same seed), serves it
 * from this process and syncs it once with RdTenantSync, which writes the
 * inventory cache under $XDG_CACHE_HOME as the app does. Not timed.
 *
 * Returns: whether the sync worked; @devices are its Windows devices
 */
gboolean
ui_bench_sync_demo (guint        n_devices,
                    GPtrArray  **devices,
                    char       **tenant_id,
                    char       **token,
                    GError     **error)
{
  g_autoptr(RdDemoTenant) tenant = rd_demo_tenant_new ();
  g_autoptr(RdTokenSource) tokens = NULL;
  g_autoptr(RdGraphClient) client = NULL;
  g_autoptr(RdTenantSync) sync = NULL;
  g_autofree char *graph_url = NULL;
  g_autofree char *access_token = NULL;
  SyncRun run = { 0 };

  rd_demo_tenant_generate (tenant, n_devices, RD_SESSION_DEMO_SEED);
  rd_demo_tenant_set_page_size (tenant, 1000);
  rd_demo_tenant_set_token_lifetime (tenant, 24 * 3600);
  if (!rd_demo_tenant_start (tenant, error))
    return FALSE;

  graph_url = rd_demo_tenant_dup_graph_url (tenant);
  access_token = rd_demo_tenant_issue_access_token (tenant);
  tokens = rd_static_token_source_new (access_token);
  client = rd_graph_client_new (graph_url, tokens);
  sync = rd_tenant_sync_new (client, rd_demo_tenant_get_tenant_id (tenant));

  run.loop = g_main_loop_new (NULL, FALSE);
  rd_tenant_sync_run_async (sync, NULL, on_sync_done_cb, &run);
  g_main_loop_run (run.loop);
  g_main_loop_unref (run.loop);
  /* The cache is written after the devices are handed back. */
  rd_tenant_sync_flush_cache (sync);
  rd_demo_tenant_stop (tenant);

  if (run.devices == NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }

  *devices = run.devices;
  if (tenant_id != NULL)
    *tenant_id = g_strdup (rd_demo_tenant_get_tenant_id (tenant));
  if (token != NULL)
    *token = g_steal_pointer (&access_token);
  return TRUE;
}

/* A temporary folder with cache, config, data and state folders, which
 * the XDG variables then point at, so that a benchmark never reads or
 * writes the user's own. */
char *
ui_bench_make_tmp_home (GError **error)
{
  static const struct
  {
    const char *variable;
    const char *folder;
  } dirs[] = {
    { "XDG_CACHE_HOME", "cache" },
    { "XDG_CONFIG_HOME", "config" },
    { "XDG_DATA_HOME", "data" },
    { "XDG_STATE_HOME", "state" },
  };
  g_autofree char *home = g_dir_make_tmp ("rd-bench-ui-XXXXXX", error);

  if (home == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (home, dirs[i].folder, NULL);

      g_mkdir_with_parents (path, 0700);
      g_setenv (dirs[i].variable, path, TRUE);
    }

  return g_steal_pointer (&home);
}

void
ui_bench_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
            !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          ui_bench_remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

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

/* The @skip-th descendant of @root of @type, depth first. */
GtkWidget *
ui_bench_find (GtkWidget *root,
               GType      type,
               guint      skip)
{
  return find_nth (root, type, &skip);
}

/* Runs the main context until nothing has been dispatched for @quiet_ms
 * (frames included), or for @timeout_ms at most. */
void
ui_bench_wait_idle (guint quiet_ms,
                    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  gint64 quiet_since = g_get_monotonic_time ();

  while (g_get_monotonic_time () < end)
    {
      if (g_main_context_iteration (NULL, FALSE))
        quiet_since = g_get_monotonic_time ();
      else if (g_get_monotonic_time () - quiet_since >= quiet_ms * (gint64) 1000)
        return;
      else
        g_usleep (1000);
    }
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

void
ui_bench_sort_doubles (GArray *values)
{
  g_array_sort (values, compare_doubles);
}

double
ui_bench_median (GArray *sorted)
{
  guint n = sorted->len;

  if (n == 0)
    return 0;
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}
