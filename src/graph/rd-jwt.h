/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonObject *rd_jwt_decode_claims (const char  *jwt,
                                  GError     **error);

G_END_DECLS
