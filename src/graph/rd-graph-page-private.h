/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A page of a Graph list ({"value": [...], "@odata.nextLink": "..."}) read
 * by a small strict JSON reader made for it: the items' members are kept as
 * text inside one buffer, with no tree of JsonNodes, so that a page of 1,000
 * managed devices costs one allocation and a pass over the bytes instead of
 * some 40,000 nodes. Members holding an object or an array are kept as
 * their JSON text, for rd_graph_page_dup_node(). Not thread-safe; a page is
 * read on one thread and dropped there. */

typedef struct _RdGraphPage RdGraphPage;

RdGraphPage *rd_graph_page_new          (GBytes       *body,
                                         GError      **error);
RdGraphPage *rd_graph_page_new_take     (GBytes       *body,
                                         GError      **error);
void         rd_graph_page_free         (RdGraphPage  *self);
char        *rd_graph_page_peek_next_link (GBytes     *body);

/* A member's name and its length, for rd_graph_page_get_strings(). */
typedef struct
{
  const char *name;
  gsize length;
} RdGraphPageName;

#define RD_GRAPH_PAGE_NAME(literal) { "" literal, sizeof (literal) - 1 }

guint        rd_graph_page_get_n_items  (RdGraphPage  *self);
const char  *rd_graph_page_get_next_link (RdGraphPage *self);
gboolean     rd_graph_page_is_object    (RdGraphPage  *self,
                                         guint         item);
const char  *rd_graph_page_get_string   (RdGraphPage  *self,
                                         guint         item,
                                         const char   *member);
void         rd_graph_page_get_strings  (RdGraphPage           *self,
                                         guint                  item,
                                         const RdGraphPageName *members,
                                         guint                  n_members,
                                         const char           **values);
gboolean     rd_graph_page_get_boolean  (RdGraphPage  *self,
                                         guint         item,
                                         const char   *member,
                                         gboolean     *value);
JsonNode    *rd_graph_page_dup_node     (RdGraphPage  *self,
                                         guint         item,
                                         const char   *member);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdGraphPage, rd_graph_page_free)

G_END_DECLS
