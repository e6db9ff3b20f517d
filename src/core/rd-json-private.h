/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gboolean _rd_json_node_is_utf8 (JsonNode *node);

G_END_DECLS
