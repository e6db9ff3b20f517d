/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* OAuth helpers for RdEntraAuth (and the demo tenant, which checks what
 * they produce): base64url without padding (RFC 4648 §5) and PKCE S256
 * (RFC 7636). */

char   *rd_base64url_encode        (const guint8 *data,
                                    size_t        len);
guint8 *rd_base64url_decode        (const char   *text,
                                    size_t       *out_len);

char   *rd_pkce_new_random_string  (size_t        n_bytes);
char   *rd_pkce_new_verifier       (void);
char   *rd_pkce_challenge_s256     (const char   *verifier);

G_END_DECLS
