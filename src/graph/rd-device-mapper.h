/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "rd-device.h"
#include "rd-graph-page-private.h"

G_BEGIN_DECLS

/* Microsoft Graph's names for the triage facts (reference/graph-entra.md
 * §3-§5), turned into the core's RdDevice and enums. Everything Graph leaves
 * out, sends as null or spells in a way this code does not know is
 * "unknown". Safe to call from any thread. */

RdDevice              *rd_device_mapper_device_from_graph       (JsonObject *managed_device);
RdDevice              *rd_device_mapper_device_from_page        (RdGraphPage *page,
                                                                 guint       item);
RdDevice              *rd_device_mapper_windows_device_from_page (RdGraphPage *page,
                                                                  guint        item,
                                                                  gboolean    *other_os);

RdCompliance           rd_device_mapper_compliance_from_graph   (const char *value);
RdOwnerType            rd_device_mapper_owner_type_from_graph   (const char *value);
RdJoinType             rd_device_mapper_join_type_from_graph    (const char *value);
RdManagementState      rd_device_mapper_management_state_from_graph (const char *value);
RdEncryptionReadiness  rd_device_mapper_readiness_from_graph    (const char *value);
RdWinreState           rd_device_mapper_winre_state_from_graph  (JsonNode   *advanced_bitlocker_states);
RdWinreState           rd_device_mapper_winre_state_from_string (const char *advanced_bitlocker_states);

const char            *rd_device_mapper_get_string              (JsonObject *object,
                                                                 const char *member);

G_END_DECLS
