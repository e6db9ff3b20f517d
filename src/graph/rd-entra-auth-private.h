/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsecret/secret.h>

#include "rd-entra-auth.h"

G_BEGIN_DECLS

/* The schema the refresh token is stored under, for tests to look it up. */
const SecretSchema *rd_entra_auth_get_secret_schema       (void) G_GNUC_CONST;

/* Multiplies every device-code poll interval (and the code's lifetime) by
 * @scale, so that tests do not wait whole seconds. 1.0 outside tests. */
void                rd_entra_auth_set_poll_interval_scale (RdEntraAuth *self,
                                                           double       scale);

/* The fuzzers' entry point (fuzz/): a token endpoint answer, read as a
 * refresh reads it. */
gboolean            _rd_entra_auth_take_token_response    (RdEntraAuth  *self,
                                                           GBytes       *body,
                                                           GError      **error);

G_END_DECLS
