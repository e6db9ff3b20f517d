/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-pkce"

#include "config.h"

#include "rd-pkce.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* 32 bytes make a 43-character verifier, the shortest RFC 7636 allows, with
 * 256 bits of entropy. */
#define VERIFIER_BYTES 32

/**
 * rd_base64url_encode:
 *
 * Returns: (transfer full): @data in base64url, without padding
 */
char *
rd_base64url_encode (const guint8 *data,
                     size_t        len)
{
  char *text = g_base64_encode (data, len);
  char *out = text;

  for (char *p = text; *p != '\0'; p++)
    {
      if (*p == '=')
        continue;
      else if (*p == '+')
        *out++ = '-';
      else if (*p == '/')
        *out++ = '_';
      else
        *out++ = *p;
    }
  *out = '\0';

  return text;
}

/**
 * rd_base64url_decode:
 *
 * Decodes base64url, with or without padding. Unlike g_base64_decode(),
 * which skips characters it does not know, anything outside the alphabet
 * is refused.
 *
 * Returns: (transfer full) (nullable): the bytes, NUL-terminated for
 *   convenience (not counted in @out_len), or %NULL if @text is not base64url
 */
guint8 *
rd_base64url_decode (const char *text,
                     size_t     *out_len)
{
  g_autoptr (GString) padded = NULL;
  size_t len = strlen (text);
  size_t decoded_len = 0;
  guint8 *decoded;

  while (len > 0 && text[len - 1] == '=')
    len--;

  /* One character left over encodes no whole byte. */
  if (len % 4 == 1)
    return NULL;

  padded = g_string_sized_new (len + 3);
  for (size_t i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (!g_ascii_isalnum (c))
        return NULL;

      g_string_append_c (padded, c);
    }
  while (padded->len % 4 != 0)
    g_string_append_c (padded, '=');

  decoded = g_base64_decode (padded->str, &decoded_len);
  decoded = g_realloc (decoded, decoded_len + 1);
  decoded[decoded_len] = '\0';

  if (out_len != NULL)
    *out_len = decoded_len;

  return decoded;
}

/**
 * rd_pkce_new_random_string:
 *
 * Returns: (transfer full): @n_bytes from the kernel's CSPRNG, in base64url
 */
char *
rd_pkce_new_random_string (size_t n_bytes)
{
  g_autofree guint8 *bytes = g_malloc (n_bytes);
  size_t filled = 0;
  char *text;

  while (filled < n_bytes)
    {
      ssize_t n = getrandom (bytes + filled, n_bytes - filled, 0);

      if (n < 0 && errno == EINTR)
        continue;
      /* getrandom() without GRND_NONBLOCK only fails on an unsupported
       * kernel; a guessable verifier or state would be worse than stopping. */
      if (n < 0)
        g_error ("getrandom() failed: %s", g_strerror (errno));

      filled += (size_t) n;
    }

  text = rd_base64url_encode (bytes, n_bytes);
  memset (bytes, 0, n_bytes);

  return text;
}

/**
 * rd_pkce_new_verifier:
 *
 * Returns: (transfer full): a new PKCE code verifier; a secret
 */
char *
rd_pkce_new_verifier (void)
{
  return rd_pkce_new_random_string (VERIFIER_BYTES);
}

/**
 * rd_pkce_challenge_s256:
 *
 * Returns: (transfer full): BASE64URL(SHA256(@verifier)), the S256 challenge
 */
char *
rd_pkce_challenge_s256 (const char *verifier)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = sizeof digest;

  g_checksum_update (checksum, (const guchar *) verifier, strlen (verifier));
  g_checksum_get_digest (checksum, digest, &digest_len);

  return rd_base64url_encode (digest, digest_len);
}
