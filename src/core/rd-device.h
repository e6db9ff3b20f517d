/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "rd-types.h"
#include "rd-core-enums.h"

G_BEGIN_DECLS

#define RD_TYPE_DEVICE (rd_device_get_type ())

G_DECLARE_FINAL_TYPE (RdDevice, rd_device, RD, DEVICE, GObject)

/* Build numbers of the Windows 10 releases the recovery rules name. */
#define RD_WINDOWS_BUILD_1709 16299
#define RD_WINDOWS_BUILD_1809 17763

/* What rd_device_get_enrolled_usec() and rd_device_get_last_sync_usec()
 * return for an unknown date. */
#define RD_DEVICE_NO_DATE G_GINT64_CONSTANT (0)

RdDevice             *rd_device_new                        (const char        *id,
                                                            const char        *name);
RdDevice             *rd_device_new_from_json              (JsonObject        *object,
                                                            GError           **error);
JsonNode             *rd_device_to_json                    (RdDevice          *self);
gboolean              rd_device_update_from                (RdDevice          *self,
                                                            RdDevice          *other);

const char           *rd_device_get_id                     (RdDevice          *self);
const char           *rd_device_get_name                   (RdDevice          *self);
const char           *rd_device_get_entra_device_id        (RdDevice          *self);
const char           *rd_device_get_serial                 (RdDevice          *self);
const char           *rd_device_get_manufacturer           (RdDevice          *self);
const char           *rd_device_get_model                  (RdDevice          *self);
const char           *rd_device_get_operating_system       (RdDevice          *self);
const char           *rd_device_get_os_version             (RdDevice          *self);
int                   rd_device_get_os_build               (RdDevice          *self);
gboolean              rd_device_is_windows                 (RdDevice          *self);
const char           *rd_device_get_user_principal_name    (RdDevice          *self);
const char           *rd_device_get_user_display_name      (RdDevice          *self);
RdCompliance          rd_device_get_compliance             (RdDevice          *self);
const char           *rd_device_get_management_agent       (RdDevice          *self);
RdTristate            rd_device_is_mdm_managed             (RdDevice          *self);
RdOwnerType           rd_device_get_owner_type             (RdDevice          *self);
RdJoinType            rd_device_get_join_type              (RdDevice          *self);
const char           *rd_device_get_enrollment_type        (RdDevice          *self);
GDateTime            *rd_device_get_enrolled               (RdDevice          *self);
GDateTime            *rd_device_get_last_sync              (RdDevice          *self);
gint64                rd_device_get_enrolled_usec          (RdDevice          *self);
gint64                rd_device_get_last_sync_usec         (RdDevice          *self);
RdTristate            rd_device_get_encrypted              (RdDevice          *self);
int                   rd_device_get_escrowed_keys          (RdDevice          *self);
RdTristate            rd_device_get_autopilot              (RdDevice          *self);
const char           *rd_device_get_autopilot_state        (RdDevice          *self);
const char           *rd_device_get_tpm_version            (RdDevice          *self);
RdEncryptionReadiness rd_device_get_encryption_readiness   (RdDevice          *self);
RdWinreState          rd_device_get_winre_state            (RdDevice          *self);
RdManagementState     rd_device_get_management_state       (RdDevice          *self);
gboolean              rd_device_has_wipe_pending           (RdDevice          *self);
RdTristate            rd_device_get_bitlocker_ready        (RdDevice          *self);
const char           *rd_device_get_search_text            (RdDevice          *self);
gboolean              rd_device_matches                    (RdDevice          *self,
                                                            const char *const *folded_words);

int                   rd_parse_windows_build               (const char        *os_version);

G_END_DECLS
