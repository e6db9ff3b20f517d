/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-core-json"

#include "config.h"

#include "fuzz-common.h"

#include "rd-core-error.h"
#include "rd-device.h"
#include "rd-plan.h"

#include <stdio.h>
#include <string.h>

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  rd_fuzz_init ();

  return 0;
}

/* A device or plan read back from what it writes is the same again. */
static void
read_object (JsonObject *object)
{
  g_autoptr (RdDevice) device = NULL;
  g_autoptr (RdPlan) plan = NULL;
  g_autoptr (GError) device_error = NULL;
  g_autoptr (GError) plan_error = NULL;

  device = rd_device_new_from_json (object, &device_error);
  if (device != NULL)
    {
      g_autoptr (JsonNode) written = rd_device_to_json (device);
      g_autoptr (RdDevice) copy = NULL;
      g_autoptr (JsonNode) rewritten = NULL;
      g_autoptr (GError) error = NULL;

      copy = rd_device_new_from_json (json_node_get_object (written), &error);
      g_assert_no_error (error);
      rewritten = rd_device_to_json (copy);
      g_assert_true (json_node_equal (written, rewritten));
    }
  else
    g_assert_error (device_error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);

  plan = rd_plan_new_from_json (object, &plan_error);
  if (plan != NULL)
    {
      g_autoptr (JsonNode) written = rd_plan_to_json (plan);
      g_autoptr (RdPlan) copy = NULL;
      g_autoptr (JsonNode) rewritten = NULL;
      g_autoptr (GError) error = NULL;

      copy = rd_plan_new_from_json (json_node_get_object (written), &error);
      g_assert_no_error (error);
      rewritten = rd_plan_to_json (copy);
      g_assert_true (json_node_equal (written, rewritten));
    }
  else
    g_assert_error (plan_error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);

  if (rd_fuzz_verbose ())
    fprintf (stderr, "device: %s; plan: %s\n", device != NULL ? "read" : device_error->message,
             plan != NULL ? "read" : plan_error->message);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  /* Both are read from files the app wrote, which are UTF-8 JSON. */
  if (!g_utf8_validate ((const char *) data, (gssize) size, NULL) ||
      !json_parser_load_from_data (parser, (const char *) data, (gssize) size, NULL))
    return 0;

  root = json_parser_get_root (parser);
  if (root == NULL)
    return 0;

  if (JSON_NODE_HOLDS_OBJECT (root))
    read_object (json_node_get_object (root));
  else if (JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *array = json_node_get_array (root);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_OBJECT (element))
            read_object (json_node_get_object (element));
        }
    }

  return 0;
}
