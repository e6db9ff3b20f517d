/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-token-source.h"

G_BEGIN_DECLS

#define RD_TYPE_STATIC_TOKEN_SOURCE (rd_static_token_source_get_type ())

G_DECLARE_FINAL_TYPE (RdStaticTokenSource, rd_static_token_source, RD, STATIC_TOKEN_SOURCE, GObject)

RdTokenSource *rd_static_token_source_new (const char *token);

G_END_DECLS
