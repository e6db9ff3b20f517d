/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-graph-page"

#include "config.h"

#include "fuzz-common.h"

#include "rd-device-mapper.h"
#include "rd-graph-client-private.h"
#include "rd-graph-error.h"
#include "rd-graph-page-private.h"
#include "rd-static-token-source.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#define BASE_URL "https://graph.microsoft.com/v1.0"
#define NEXT_LINK "@odata.nextLink"

static RdGraphClient *client;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr (RdTokenSource) token_source = NULL;

  rd_fuzz_init ();
  token_source = rd_static_token_source_new ("fuzz-token");
  client = rd_graph_client_new (BASE_URL, token_source);

  return 0;
}

/* What a sync does with a page's items: managed devices become RdDevices,
 * the other sources are read member by member. */
static void
read_item (JsonNode *item)
{
  g_autoptr (RdDevice) device = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (item))
    return;

  object = json_node_get_object (item);
  device = rd_device_mapper_device_from_graph (object);
  if (device != NULL)
    g_assert_true (RD_IS_DEVICE (device));

  rd_device_mapper_get_string (object, "id");
  rd_device_mapper_get_string (object, "deviceId");
  rd_device_mapper_get_string (object, "serialNumber");
  rd_device_mapper_readiness_from_graph (
    rd_device_mapper_get_string (object, "encryptionReadinessState"));
  rd_device_mapper_winre_state_from_graph (
    json_object_get_member (object, "advancedBitLockerStates"));
}

/* The sync's own reader, RdGraphPage, and its quick look at the next link
 * before the page is read: for a page that reads, the look sees the page's
 * link or nothing, when the text names "@odata.nextLink" once and has no
 * escape that could spell it another way. */
static void
read_raw_page (const uint8_t *data,
               size_t         size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (RdGraphPage) page = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *peeked = rd_graph_page_peek_next_link (bytes);
  const char *next_link;
  guint n_named = 0;

  page = rd_graph_page_new (bytes, &error);
  if (page == NULL)
    {
      g_assert_true (g_error_matches (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA) ||
                     g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
      return;
    }

  for (guint i = 0; i < rd_graph_page_get_n_items (page); i++)
    {
      g_autoptr (RdDevice) device = rd_device_mapper_device_from_page (page, i);

      if (device != NULL)
        g_assert_true (RD_IS_DEVICE (device));
    }

  next_link = rd_graph_page_get_next_link (page);
  for (const uint8_t *p = data, *end = data + size;
       (p = memmem (p, end - p, NEXT_LINK, strlen (NEXT_LINK))) != NULL; p++)
    n_named++;
  if (peeked != NULL && n_named == 1 && memchr (data, '\\', size) == NULL)
    g_assert_cmpstr (peeked, ==, next_link);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;
  const char *next_link = NULL;
  JsonObject *page;
  JsonArray *items;

  read_raw_page (data, size);

  if (!_rd_graph_client_parse_body (bytes, SOUP_STATUS_OK, TRUE, "request-id", "client-request-id",
                                    &node, &error))
    {
      g_assert_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_MALFORMED_RESPONSE);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      if (rd_fuzz_verbose ())
        fprintf (stderr, "refused: %s\n", error->message);
      return 0;
    }

  /* Read the page as on_list_page_cb() does once the worker accepted it. */
  g_assert_nonnull (node);
  page = json_node_get_object (node);
  items = json_object_get_array_member (page, "value");
  if (json_object_has_member (page, "@odata.nextLink") &&
      !json_object_get_null_member (page, "@odata.nextLink"))
    next_link = json_object_get_string_member (page, "@odata.nextLink");

  for (guint i = 0; i < json_array_get_length (items); i++)
    read_item (json_array_get_element (items, i));

  if (rd_fuzz_verbose ())
    fprintf (stderr, "page: %u items, next link %s\n", json_array_get_length (items),
             next_link != NULL ? next_link : "(none)");

  if (next_link == NULL)
    return 0;

  /* The link is followed whole, but never to another origin. */
  uri = _rd_graph_client_resolve_uri (client, next_link, &error);
  if (uri == NULL)
    {
      g_assert_nonnull (error);
      if (rd_fuzz_verbose ())
        fprintf (stderr, "link refused: %s\n", error->message);
      return 0;
    }

  g_assert_cmpstr (g_uri_get_scheme (uri), ==, "https");
  g_assert_cmpint (g_ascii_strcasecmp (g_uri_get_host (uri), "graph.microsoft.com"), ==, 0);

  return 0;
}
