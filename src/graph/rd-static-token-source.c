/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-static-token-source"

#include "config.h"

#include "rd-static-token-source.h"

#include "rd-graph-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* A token given from outside (RECOVERY_DESK_ACCESS_TOKEN, tests). It cannot
 * be refreshed. The token is deliberately not a property, so that nothing
 * that dumps properties can print it. */
struct _RdStaticTokenSource
{
  GObject parent_instance;

  char *token;
};

static void rd_static_token_source_iface_init (RdTokenSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RdStaticTokenSource, rd_static_token_source, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RD_TYPE_TOKEN_SOURCE,
                                                      rd_static_token_source_iface_init))

static void
rd_static_token_source_get_token_async (RdTokenSource       *source,
                                        gboolean             force_refresh,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  RdStaticTokenSource *self = RD_STATIC_TOKEN_SOURCE (source);
  g_autoptr (GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_static_token_source_get_token_async);

  if (force_refresh)
    g_task_return_new_error (task, RD_AUTH_ERROR, RD_AUTH_ERROR_NOT_SIGNED_IN,
                             _ ("The token in RECOVERY_DESK_ACCESS_TOKEN was refused; set a fresh "
                                "one."));
  else
    g_task_return_pointer (task, g_strdup (self->token), g_free);
}

static char *
rd_static_token_source_get_token_finish (RdTokenSource  *source,
                                         GAsyncResult   *result,
                                         GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
rd_static_token_source_iface_init (RdTokenSourceInterface *iface)
{
  iface->get_token_async = rd_static_token_source_get_token_async;
  iface->get_token_finish = rd_static_token_source_get_token_finish;
}

static void
rd_static_token_source_finalize (GObject *object)
{
  RdStaticTokenSource *self = RD_STATIC_TOKEN_SOURCE (object);

  if (self->token != NULL)
    {
      explicit_bzero (self->token, strlen (self->token));
      g_free (self->token);
    }

  G_OBJECT_CLASS (rd_static_token_source_parent_class)->finalize (object);
}

static void
rd_static_token_source_class_init (RdStaticTokenSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_static_token_source_finalize;
}

static void
rd_static_token_source_init (RdStaticTokenSource *self)
{
}

/**
 * rd_static_token_source_new:
 * @token: an access token for Microsoft Graph
 *
 * Returns: (transfer full): a token source that always hands out @token
 */
RdTokenSource *
rd_static_token_source_new (const char *token)
{
  RdStaticTokenSource *self;

  g_return_val_if_fail (token != NULL && *token != '\0', NULL);

  self = g_object_new (RD_TYPE_STATIC_TOKEN_SOURCE, NULL);
  self->token = g_strdup (token);

  return RD_TOKEN_SOURCE (self);
}
