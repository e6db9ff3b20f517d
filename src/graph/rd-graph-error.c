/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-error"

#include "config.h"

#include "rd-graph-error.h"

typedef struct
{
  int http_status;
  char *request_id;
  char *client_request_id;
  char *code;
  char *missing_permission;
} RdGraphErrorPrivate;

static void
rd_graph_error_private_init (RdGraphErrorPrivate *priv)
{
}

static void
rd_graph_error_private_copy (const RdGraphErrorPrivate *src,
                             RdGraphErrorPrivate       *dest)
{
  dest->http_status = src->http_status;
  dest->request_id = g_strdup (src->request_id);
  dest->client_request_id = g_strdup (src->client_request_id);
  dest->code = g_strdup (src->code);
  dest->missing_permission = g_strdup (src->missing_permission);
}

static void
rd_graph_error_private_clear (RdGraphErrorPrivate *priv)
{
  g_free (priv->request_id);
  g_free (priv->client_request_id);
  g_free (priv->code);
  g_free (priv->missing_permission);
}

G_DEFINE_EXTENDED_ERROR (RdGraphError, rd_graph_error)

G_DEFINE_QUARK (rd-auth-error-quark, rd_auth_error)

static RdGraphErrorPrivate *
get_private (const GError *error)
{
  if (error == NULL || error->domain != RD_GRAPH_ERROR)
    return NULL;

  return rd_graph_error_get_private (error);
}

/**
 * rd_graph_error_set_details:
 * @error: an error of %RD_GRAPH_ERROR
 *
 * Attaches what Graph said about a failure to @error.
 */
void
rd_graph_error_set_details (GError     *error,
                            int         http_status,
                            const char *request_id,
                            const char *client_request_id,
                            const char *graph_code,
                            const char *missing_permission)
{
  RdGraphErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);

  rd_graph_error_private_clear (priv);
  priv->http_status = http_status;
  priv->request_id = g_strdup (request_id);
  priv->client_request_id = g_strdup (client_request_id);
  priv->code = g_strdup (graph_code);
  priv->missing_permission = g_strdup (missing_permission);
}

/**
 * rd_graph_error_get_http_status:
 *
 * Returns: the HTTP status of the failed request, or 0 when no answer came
 */
int
rd_graph_error_get_http_status (const GError *error)
{
  RdGraphErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->http_status : 0;
}

/**
 * rd_graph_error_get_request_id:
 *
 * Returns: (nullable): the `request-id` Graph gave the failed request
 */
const char *
rd_graph_error_get_request_id (const GError *error)
{
  RdGraphErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->request_id : NULL;
}

const char *
rd_graph_error_get_client_request_id (const GError *error)
{
  RdGraphErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->client_request_id : NULL;
}

/**
 * rd_graph_error_get_code:
 *
 * Returns: (nullable): Graph's own error code, such as "Forbidden"
 */
const char *
rd_graph_error_get_code (const GError *error)
{
  RdGraphErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->code : NULL;
}

/**
 * rd_graph_error_get_missing_permission:
 *
 * Returns: (nullable): the delegated permission a 403 lacked, where known
 */
const char *
rd_graph_error_get_missing_permission (const GError *error)
{
  RdGraphErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->missing_permission : NULL;
}
