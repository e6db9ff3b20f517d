/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-cloud.h"
#include "rd-graph-enums.h"
#include "rd-graph-error.h"

#include <gio/gio.h>
#include <string.h>

static void
test_defaults (void)
{
  struct
  {
    RdCloudKind kind;
    const char *name;
    const char *graph;
    const char *login;
  } clouds[] = {
    { RD_CLOUD_KIND_GLOBAL, "global", "https://graph.microsoft.com",
      "https://login.microsoftonline.com" },
    { RD_CLOUD_KIND_US_GOV, "us-gov", "https://graph.microsoft.us",
      "https://login.microsoftonline.us" },
    { RD_CLOUD_KIND_US_GOV_DOD, "us-gov-dod", "https://dod-graph.microsoft.us",
      "https://login.microsoftonline.us" },
    { RD_CLOUD_KIND_CHINA, "china", "https://microsoftgraph.chinacloudapi.cn",
      "https://login.chinacloudapi.cn" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (clouds); i++)
    {
      g_autoptr (RdCloud) cloud = rd_cloud_new (clouds[i].kind);
      g_autofree char *base = NULL;
      g_autofree char *beta = NULL;
      RdCloudKind parsed = RD_CLOUD_KIND_GLOBAL;

      g_assert_cmpint (rd_cloud_get_kind (cloud), ==, clouds[i].kind);
      g_assert_cmpstr (rd_cloud_get_graph_endpoint (cloud), ==, clouds[i].graph);
      g_assert_cmpstr (rd_cloud_get_login_endpoint (cloud), ==, clouds[i].login);

      base = rd_cloud_dup_graph_base_url (cloud);
      beta = rd_cloud_dup_graph_beta_url (cloud);
      g_assert_true (g_str_has_prefix (base, clouds[i].graph));
      g_assert_true (g_str_has_suffix (base, "/v1.0"));
      g_assert_cmpuint (strlen (base), ==, strlen (clouds[i].graph) + 5);
      g_assert_true (g_str_has_suffix (beta, "/beta"));

      g_assert_cmpstr (rd_cloud_kind_to_string (clouds[i].kind), ==, clouds[i].name);
      g_assert_true (rd_cloud_kind_from_string (clouds[i].name, &parsed, NULL));
      g_assert_cmpint (parsed, ==, clouds[i].kind);

      g_assert_finalize_object (g_steal_pointer (&cloud));
    }
}

static void
test_kind_from_string_unknown (void)
{
  g_autoptr (GError) error = NULL;
  RdCloudKind kind = RD_CLOUD_KIND_CHINA;

  g_assert_false (rd_cloud_kind_from_string ("mars", &kind, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "us-gov-dod"));
  g_assert_cmpint (kind, ==, RD_CLOUD_KIND_CHINA);
}

static void
test_check_endpoint (void)
{
  const char *accepted[] = {
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "HTTPS://proxy.example.org:8443/graph",
    "http://127.0.0.1:8080",
    "http://127.5.6.7",
    "http://127.255.255.254:1/v1.0",
    "http://localhost:3000",
    "http://LOCALHOST",
    "http://[::1]:8080",
  };
  const char *refused[] = {
    "http://graph.microsoft.com",
    "http://128.0.0.1",
    "http://126.255.255.255",
    "http://10.0.0.1",
    "http://[::2]",
    "http://localhost.example.com",
    "http://127.0.0.1.example.com",
    "http://127.0.0.1@evil.example.com/",
    "ftp://graph.microsoft.com",
    "graph.microsoft.com",
    "https://",
    "not a uri at all",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr (GError) error = NULL;

      if (!rd_cloud_check_endpoint (accepted[i], &error))
        g_error ("%s refused: %s", accepted[i], error->message);
    }

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;

      if (rd_cloud_check_endpoint (refused[i], &error))
        g_error ("%s accepted", refused[i]);
      g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT);
      g_assert_cmpstr (error->message, !=, "");
    }

  g_assert_false (rd_cloud_check_endpoint (NULL, NULL));
}

static void
on_notify_cb (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_override (void)
{
  g_autoptr (RdCloud) cloud = rd_cloud_new (RD_CLOUD_KIND_US_GOV);
  g_autoptr (GError) error = NULL;
  g_autofree char *base = NULL;
  guint graph_notifies = 0;
  guint login_notifies = 0;

  g_signal_connect (cloud, "notify::graph-endpoint", G_CALLBACK (on_notify_cb), &graph_notifies);
  g_signal_connect (cloud, "notify::login-endpoint", G_CALLBACK (on_notify_cb), &login_notifies);

  g_assert_true (rd_cloud_set_graph_endpoint (cloud, "http://127.0.0.1:4321/", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (rd_cloud_get_graph_endpoint (cloud), ==, "http://127.0.0.1:4321");
  base = rd_cloud_dup_graph_base_url (cloud);
  g_assert_cmpstr (base, ==, "http://127.0.0.1:4321/v1.0");
  g_assert_cmpuint (graph_notifies, ==, 1);

  /* The same value again changes nothing. */
  g_assert_true (rd_cloud_set_graph_endpoint (cloud, "http://127.0.0.1:4321", NULL));
  g_assert_cmpuint (graph_notifies, ==, 1);

  /* An insecure one is refused and the old one kept. */
  g_assert_false (rd_cloud_set_graph_endpoint (cloud, "http://graph.example.com", &error));
  g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT);
  g_assert_nonnull (strstr (error->message, "https://"));
  g_clear_error (&error);
  g_assert_cmpstr (rd_cloud_get_graph_endpoint (cloud), ==, "http://127.0.0.1:4321");
  g_assert_cmpuint (graph_notifies, ==, 1);

  /* NULL restores the cloud's own. */
  g_assert_true (rd_cloud_set_graph_endpoint (cloud, NULL, NULL));
  g_assert_cmpstr (rd_cloud_get_graph_endpoint (cloud), ==, "https://graph.microsoft.us");
  g_assert_cmpuint (graph_notifies, ==, 2);

  g_assert_true (rd_cloud_set_login_endpoint (cloud, "https://login.partner.microsoftonline.cn",
                                              NULL));
  g_assert_cmpstr (rd_cloud_get_login_endpoint (cloud), ==,
                   "https://login.partner.microsoftonline.cn");
  g_assert_false (rd_cloud_set_login_endpoint (cloud, "http://login.example.com", NULL));
  g_assert_cmpstr (rd_cloud_get_login_endpoint (cloud), ==,
                   "https://login.partner.microsoftonline.cn");
  g_assert_cmpuint (login_notifies, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&cloud));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/graph/cloud/defaults", test_defaults);
  g_test_add_func ("/rd/graph/cloud/kind-from-string-unknown", test_kind_from_string_unknown);
  g_test_add_func ("/rd/graph/cloud/check-endpoint", test_check_endpoint);
  g_test_add_func ("/rd/graph/cloud/override", test_override);

  return g_test_run ();
}
