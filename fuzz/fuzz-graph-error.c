/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-graph-error"

#include "config.h"

#include "fuzz-common.h"

#include "rd-graph-client-private.h"
#include "rd-graph-error.h"
#include "rd-graph-response.h"

#include <stdio.h>
#include <string.h>

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  rd_fuzz_init ();

  return 0;
}

static void
check_error (const GError *error,
             guint         status)
{
  const char *permission;

  g_assert_nonnull (error);
  g_assert_true (error->domain == RD_GRAPH_ERROR);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_cmpint (rd_graph_error_get_http_status (error), ==, status);

  rd_graph_error_get_request_id (error);
  rd_graph_error_get_client_request_id (error);
  rd_graph_error_get_code (error);
  permission = rd_graph_error_get_missing_permission (error);
  if (permission != NULL)
    g_assert_nonnull (strstr (error->message, permission));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The statuses Graph answers with (reference §9), each with and without
   * a request-id header, so that innerError is searched too. */
  static const guint statuses[] = { 400, 401, 403, 404, 409, 424, 429, 500, 503, 504, 418 };
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (JsonNode) body = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autoptr (JsonNode) node = NULL;
      g_autoptr (GError) error = NULL;
      const char *request_id = i % 2 == 0 ? NULL : "header-request-id";

      g_assert_false (_rd_graph_client_parse_body (bytes, statuses[i], FALSE, request_id,
                                                   "client-request-id", &node, &error));
      g_assert_null (node);
      check_error (error, statuses[i]);
      if (rd_fuzz_verbose () && i == 2)
        fprintf (stderr, "%u: %s\n", statuses[i], error->message);
    }

  /* An inner response of a $batch arrives parsed, as any JSON value. */
  if (_rd_graph_client_parse_body (bytes, 200, FALSE, NULL, NULL, &body, NULL))
    {
      g_autoptr (RdGraphResponse) response = rd_graph_response_new (403, NULL, body, NULL, NULL);
      g_autoptr (GError) error = rd_graph_response_to_error (response);

      check_error (error, 403);
    }

  return 0;
}
