/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-jwt"

#include "config.h"

#include "rd-jwt.h"

#include "rd-graph-error.h"
#include "rd-json-private.h"
#include "rd-pkce.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/**
 * rd_jwt_decode_claims:
 * @jwt: a JSON Web Token, `header.payload.signature`
 *
 * Reads the claims of @jwt without checking its signature. That is safe here
 * because the claims are only shown (who is signed in, to which tenant): the
 * app never grants or refuses anything on them. The token came straight from
 * the login endpoint over TLS, and Microsoft Graph checks the signature of
 * every access token it is sent. Microsoft also reserves the right to change
 * the access-token format, so nothing may depend on it.
 *
 * Error messages never quote the token.
 *
 * Returns: (transfer full): the payload object
 */
JsonObject *
rd_jwt_decode_claims (const char  *jwt,
                      GError     **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) parts = NULL;
  g_autofree guint8 *payload = NULL;
  size_t payload_len = 0;
  JsonNode *root;

  g_return_val_if_fail (jwt != NULL, NULL);

  parts = g_strsplit (jwt, ".", 4);
  if (g_strv_length (parts) != 3 || *parts[0] == '\0' || *parts[1] == '\0')
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("The token is not a JSON Web Token: it should have three parts "
                     "separated by dots."));
      return NULL;
    }

  payload = rd_base64url_decode (parts[1], &payload_len);
  if (payload == NULL)
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("The token’s claims are not valid base64url."));
      return NULL;
    }

  parser = json_parser_new ();
  if (memchr (payload, '\0', payload_len) != NULL ||
      !json_parser_load_from_data (parser, (const char *) payload, payload_len, &local_error))
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("The token’s claims are not valid JSON."));
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) || !_rd_json_node_is_utf8 (root))
    {
      g_set_error (error, RD_AUTH_ERROR, RD_AUTH_ERROR_FAILED,
                   _("The token’s claims are not a JSON object."));
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}
