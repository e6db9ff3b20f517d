/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The Microsoft national clouds (reference/graph-entra.md §7). GCC
 * (moderate) tenants use the global cloud. */
typedef enum
{
  RD_CLOUD_KIND_GLOBAL,
  RD_CLOUD_KIND_US_GOV,
  RD_CLOUD_KIND_US_GOV_DOD,
  RD_CLOUD_KIND_CHINA,
} RdCloudKind;

#define RD_TYPE_CLOUD (rd_cloud_get_type ())

G_DECLARE_FINAL_TYPE (RdCloud, rd_cloud, RD, CLOUD, GObject)

RdCloud     *rd_cloud_new                   (RdCloudKind   kind);
RdCloudKind  rd_cloud_get_kind              (RdCloud      *self);
const char  *rd_cloud_get_graph_endpoint    (RdCloud      *self);
gboolean     rd_cloud_set_graph_endpoint    (RdCloud      *self,
                                             const char   *endpoint,
                                             GError      **error);
const char  *rd_cloud_get_login_endpoint    (RdCloud      *self);
gboolean     rd_cloud_set_login_endpoint    (RdCloud      *self,
                                             const char   *endpoint,
                                             GError      **error);
char        *rd_cloud_dup_graph_base_url    (RdCloud      *self);
char        *rd_cloud_dup_graph_beta_url    (RdCloud      *self);

const char  *rd_cloud_kind_to_string        (RdCloudKind   kind);
gboolean     rd_cloud_kind_from_string      (const char   *name,
                                             RdCloudKind  *kind,
                                             GError      **error);

gboolean     rd_cloud_check_endpoint        (const char   *uri,
                                             GError      **error);

G_END_DECLS
