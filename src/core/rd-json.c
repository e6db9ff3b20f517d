/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-json"

#include "config.h"

#include "rd-json-private.h"

/**
 * _rd_json_node_is_utf8:
 * @node: (nullable): a parsed document
 *
 * Checks every string and member name in @node. Valid UTF-8 input is not
 * enough: json-glib 1.6 turns a lone surrogate escape ("\ud800") into bytes
 * that are not UTF-8, which would then reach labels, logs and saved files.
 *
 * Returns: %TRUE when all of @node's text is UTF-8
 */
gboolean
_rd_json_node_is_utf8 (JsonNode *node)
{
  g_autoptr (GPtrArray) pending = g_ptr_array_new ();

  if (node != NULL)
    g_ptr_array_add (pending, node);

  /* A loop rather than recursion: the nesting depth is the input's to choose. */
  while (pending->len > 0)
    {
      node = g_ptr_array_steal_index_fast (pending, pending->len - 1);

      switch (JSON_NODE_TYPE (node))
        {
        case JSON_NODE_OBJECT:
          {
            JsonObjectIter iter;
            const char *name;
            JsonNode *member;

            json_object_iter_init (&iter, json_node_get_object (node));
            while (json_object_iter_next (&iter, &name, &member))
              {
                if (!g_utf8_validate (name, -1, NULL))
                  return FALSE;
                g_ptr_array_add (pending, member);
              }
          }
          break;

        case JSON_NODE_ARRAY:
          {
            JsonArray *array = json_node_get_array (node);

            for (guint i = 0; i < json_array_get_length (array); i++)
              g_ptr_array_add (pending, json_array_get_element (array, i));
          }
          break;

        case JSON_NODE_VALUE:
          if (json_node_get_value_type (node) == G_TYPE_STRING &&
              !g_utf8_validate (json_node_get_string (node), -1, NULL))
            return FALSE;
          break;

        case JSON_NODE_NULL:
        default:
          break;
        }
    }

  return TRUE;
}
