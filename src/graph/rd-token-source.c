/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-token-source"

#include "config.h"

#include "rd-token-source.h"

G_DEFINE_INTERFACE (RdTokenSource, rd_token_source, G_TYPE_OBJECT)

static void
rd_token_source_default_init (RdTokenSourceInterface *iface)
{
}

void
rd_token_source_get_token_async (RdTokenSource       *self,
                                 gboolean             force_refresh,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (RD_IS_TOKEN_SOURCE (self));

  RD_TOKEN_SOURCE_GET_IFACE (self)->get_token_async (self, force_refresh, cancellable, callback,
                                                     user_data);
}

/**
 * rd_token_source_get_token_finish:
 *
 * Returns: (transfer full): the access token; free it with g_free()
 */
char *
rd_token_source_get_token_finish (RdTokenSource  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (RD_IS_TOKEN_SOURCE (self), NULL);

  return RD_TOKEN_SOURCE_GET_IFACE (self)->get_token_finish (self, result, error);
}
