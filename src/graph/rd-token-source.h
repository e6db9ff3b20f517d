/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RD_TYPE_TOKEN_SOURCE (rd_token_source_get_type ())

G_DECLARE_INTERFACE (RdTokenSource, rd_token_source, RD, TOKEN_SOURCE, GObject)

/* Where RdGraphClient gets its access token: RdEntraAuth after sign-in, or
 * a fixed token (RECOVERY_DESK_ACCESS_TOKEN, tests). @force_refresh asks for
 * a new token after Graph answered 401 to the current one. The token is a
 * secret: it is never logged. */
struct _RdTokenSourceInterface
{
  GTypeInterface parent_iface;

  void   (*get_token_async)  (RdTokenSource       *self,
                              gboolean             force_refresh,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);
  char  *(*get_token_finish) (RdTokenSource       *self,
                              GAsyncResult        *result,
                              GError             **error);
};

void  rd_token_source_get_token_async  (RdTokenSource       *self,
                                        gboolean             force_refresh,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
char *rd_token_source_get_token_finish (RdTokenSource       *self,
                                        GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
