/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-device.h"

G_BEGIN_DECLS

/* For RdTenantSync, which builds 100,000 devices on worker threads: a
 * device made whole in one call, and the joined facts set on a device that
 * no one else holds yet. Nothing here notifies, and no GValue is made. */

/* What a managedDevice itself says; %NULL and 0 are "unknown". The strings
 * are copied. A date is in microseconds since 1970 (UTC); one outside the
 * range of a GDateTime (see _rd_device_date_is_valid()) is unknown. */
typedef struct
{
  const char *id;
  const char *name;
  const char *entra_device_id;
  const char *serial;
  const char *manufacturer;
  const char *model;
  const char *operating_system;
  const char *os_version;
  const char *user_principal_name;
  const char *user_display_name;
  RdCompliance compliance;
  const char *management_agent;
  RdOwnerType owner_type;
  RdJoinType join_type;
  const char *enrollment_type;
  gint64 enrolled;
  gint64 last_sync;
  RdTristate encrypted;
  RdManagementState management_state;
  /* Facts a join fills in, when they are known already (from a cache): in
   * the device's one allocation of strings rather than one each. */
  const char *autopilot_state;
  const char *tpm_version;
  /* Optional: what rd_device_get_search_text() and _rd_device_get_sort_key()
   * would compute, as a cache kept them (the sort key only for the same
   * LC_COLLATE). */
  const char *search_text;
  const char *sort_key;
} RdDeviceFacts;

RdDevice *_rd_device_new_from_facts          (const RdDeviceFacts    *facts);
gboolean  _rd_device_date_is_valid           (gint64                  usec);
gint64    _rd_device_date_from_usec          (gint64                  usec);
gint64    _rd_device_date_from_date_time     (GDateTime              *dt);
void      _rd_device_set_escrowed_keys       (RdDevice               *self,
                                              int                     escrowed_keys);
void      _rd_device_set_autopilot           (RdDevice               *self,
                                              RdTristate              autopilot,
                                              const char             *autopilot_state);
void      _rd_device_set_encryption_report   (RdDevice               *self,
                                              const char             *tpm_version,
                                              RdEncryptionReadiness   readiness,
                                              RdWinreState            winre_state,
                                              RdTristate              encrypted);
void      _rd_device_append_json             (RdDevice               *self,
                                              GString                *out);
const char *_rd_device_get_sort_key          (RdDevice               *self);
guint     _rd_device_get_revision            (RdDevice               *self);
guint     _rd_device_get_revisions           (void);

G_END_DECLS
