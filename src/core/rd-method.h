/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-types.h"
#include "rd-core-enums.h"

G_BEGIN_DECLS

RdLane              rd_method_get_lane           (RdMethod       method);
RdMethod            rd_method_get_default        (RdLane         lane);
gboolean            rd_method_is_reimage         (RdMethod       method);
gboolean            rd_method_sends_wipe         (RdMethod       method);
const char         *rd_method_get_title          (RdMethod       method);
const char         *rd_method_get_description    (RdMethod       method);
GStrv               rd_method_dup_kept           (RdMethod       method);
GStrv               rd_method_dup_lost           (RdMethod       method);

const char         *rd_lane_get_title            (RdLane         lane);
const char         *rd_lane_to_string            (RdLane         lane);
gboolean            rd_lane_from_string          (const char    *nick,
                                                  RdLane        *lane);
const char         *rd_method_to_string          (RdMethod       method);
gboolean            rd_method_from_string        (const char    *nick,
                                                  RdMethod      *method);

const char         *rd_enum_to_nick              (GType          type,
                                                  int            value);
gboolean            rd_enum_from_nick            (GType          type,
                                                  const char    *nick,
                                                  int           *value);

G_END_DECLS
