/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-jwt-claims"

#include "config.h"

#include "fuzz-common.h"

#include "rd-graph-error.h"
#include "rd-jwt.h"
#include "rd-pkce.h"

#include <stdio.h>
#include <string.h>

/* {"alg":"none","typ":"JWT"} */
#define HEADER "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  rd_fuzz_init ();

  return 0;
}

static void
decode (const char *jwt)
{
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (GError) error = NULL;

  claims = rd_jwt_decode_claims (jwt, &error);
  if (claims == NULL)
    {
      g_assert_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED);
      if (rd_fuzz_verbose ())
        fprintf (stderr, "refused: %s\n", error->message);
      return;
    }

  g_assert_no_error (error);
  if (rd_fuzz_verbose ())
    fprintf (stderr, "claims: %u members\n", json_object_get_size (claims));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autofree char *payload = NULL;
  g_autofree char *jwt = NULL;
  g_autofree guint8 *decoded = NULL;
  size_t decoded_len = 0;

  /* The input as a whole token, as the login endpoint might send it. */
  decode (text);

  decoded = rd_base64url_decode (text, &decoded_len);
  if (decoded != NULL)
    g_assert_cmpint (decoded[decoded_len], ==, '\0');

  /* The input as the claims of a well-formed token, so that the JSON side is
   * reached without the fuzzer having to learn base64url. */
  payload = rd_base64url_encode (data, size);
  jwt = g_strconcat (HEADER ".", payload, ".c2ln", NULL);
  decode (jwt);

  return 0;
}
