/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-token-response"

#include "config.h"

#include "fuzz-common.h"

#include "rd-entra-auth-private.h"
#include "rd-graph-error.h"

#include <stdio.h>
#include <string.h>

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  rd_fuzz_init ();

  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (GBytes) body = g_bytes_new (data, size);
  g_autoptr (RdEntraAuth) auth = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *username = NULL;
  g_autofree char *display_name = NULL;
  g_autofree char *tenant_id = NULL;
  gboolean signed_in = FALSE;

  /* A fresh object each time, so that no input depends on the one before. */
  auth = rd_entra_auth_new ("global", "https://login.microsoftonline.com", "organizations", NULL,
                            &error);
  g_assert_no_error (error);

  if (!_rd_entra_auth_take_token_response (auth, body, &error))
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == RD_GRAPH_ERROR || error->domain == RD_AUTH_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      if (rd_fuzz_verbose ())
        fprintf (stderr, "refused: %s\n", error->message);
      return 0;
    }

  g_object_get (auth, "signed-in", &signed_in, "username", &username, "display-name", &display_name,
                "tenant-id", &tenant_id, NULL);
  g_assert_true (signed_in);
  /* The claims are shown as they are. */
  g_assert_true (username == NULL || g_utf8_validate (username, -1, NULL));
  g_assert_true (display_name == NULL || g_utf8_validate (display_name, -1, NULL));
  g_assert_true (tenant_id == NULL || g_utf8_validate (tenant_id, -1, NULL));

  if (rd_fuzz_verbose ())
    fprintf (stderr, "signed in: user %s, name %s, tenant %s\n", username, display_name, tenant_id);

  return 0;
}
