/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-demo-server"

#include "config.h"

#include "rd-demo-tenant.h"

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

/* The demo tenant in a process of its own, so that a benchmark measures the
 * client alone: generates N synthetic devices, serves them on 127.0.0.1,
 * writes what a client needs to stdout and serves until SIGTERM or SIGINT.
 *
 *   graph-url=http://127.0.0.1:PORT/v1.0
 *   tenant-id=...
 *   token=...
 *   ready
 */

static gboolean
on_signal_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdDemoTenant) tenant = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *graph_url = NULL;
  g_autofree char *token = NULL;
  int n_devices = 100000;
  int page_size = 1000;
  int seed = 42;
  const GOptionEntry entries[] = {
    { "devices", 'n', 0, G_OPTION_ARG_INT, &n_devices, "How many devices (100000)", "N" },
    { "page-size", 'p', 0, G_OPTION_ARG_INT, &page_size, "Items per page (1000)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &seed, "The generator's seed (42)", "N" },
    { NULL },
  };

  context = g_option_context_new ("- serve a generated demo tenant until killed");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (n_devices < 1 || page_size < 1 || seed < 0)
    {
      g_printerr ("--devices and --page-size must be positive\n");
      return 2;
    }

  tenant = rd_demo_tenant_new ();
  rd_demo_tenant_generate (tenant, (guint) n_devices, (guint32) seed);
  rd_demo_tenant_set_page_size (tenant, (guint) page_size);
  /* A token that outlives any benchmark. */
  rd_demo_tenant_set_token_lifetime (tenant, 24 * 3600);
  if (!rd_demo_tenant_start (tenant, &error))
    {
      g_printerr ("Could not start the demo tenant: %s\n", error->message);
      return 1;
    }

  graph_url = rd_demo_tenant_dup_graph_url (tenant);
  token = rd_demo_tenant_issue_access_token (tenant);
  printf ("graph-url=%s\ntenant-id=%s\ntoken=%s\nready\n", graph_url,
          rd_demo_tenant_get_tenant_id (tenant), token);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal_cb, loop);
  g_unix_signal_add (SIGINT, on_signal_cb, loop);
  g_main_loop_run (loop);

  rd_demo_tenant_stop (tenant);
  return 0;
}
