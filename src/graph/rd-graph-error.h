/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors from Microsoft Graph, or from talking to it. The GError carries
 * the details below (an extended error domain), so that a failure shown to
 * the admin can name its request-id. */
#define RD_GRAPH_ERROR (rd_graph_error_quark ())

typedef enum
{
  RD_GRAPH_ERROR_BAD_REQUEST,        /* 400 */
  RD_GRAPH_ERROR_UNAUTHORIZED,       /* 401 after one refresh */
  RD_GRAPH_ERROR_FORBIDDEN,          /* 403, with the missing permission where Graph names it */
  RD_GRAPH_ERROR_NOT_FOUND,          /* 404 */
  RD_GRAPH_ERROR_CONFLICT,           /* 409 */
  RD_GRAPH_ERROR_FAILED_DEPENDENCY,  /* 424, inside $batch */
  RD_GRAPH_ERROR_THROTTLED,          /* 429 after the retries */
  RD_GRAPH_ERROR_SERVER,             /* 5xx after the retries */
  RD_GRAPH_ERROR_NETWORK,            /* no answer: DNS, TLS, connection refused or dropped */
  RD_GRAPH_ERROR_MALFORMED_RESPONSE, /* an answer that is not what Graph sends */
  RD_GRAPH_ERROR_INSECURE_ENDPOINT,  /* an endpoint that is neither https:// nor loopback */
  RD_GRAPH_ERROR_FAILED,             /* any other status */
} RdGraphError;

GQuark      rd_graph_error_quark                  (void);

int         rd_graph_error_get_http_status        (const GError *error);
const char *rd_graph_error_get_request_id         (const GError *error);
const char *rd_graph_error_get_client_request_id  (const GError *error);
const char *rd_graph_error_get_code               (const GError *error);
const char *rd_graph_error_get_missing_permission (const GError *error);
void        rd_graph_error_set_details            (GError       *error,
                                                   int           http_status,
                                                   const char   *request_id,
                                                   const char   *client_request_id,
                                                   const char   *graph_code,
                                                   const char   *missing_permission);

/* Errors from Entra ID sign-in. */
#define RD_AUTH_ERROR (rd_auth_error_quark ())

typedef enum
{
  RD_AUTH_ERROR_DECLINED,              /* authorization_declined, access_denied */
  RD_AUTH_ERROR_EXPIRED,               /* expired_token: the code timed out */
  RD_AUTH_ERROR_BAD_VERIFICATION_CODE, /* bad_verification_code */
  RD_AUTH_ERROR_INTERACTION_REQUIRED,  /* invalid_grant, interaction_required: sign in again */
  RD_AUTH_ERROR_PUBLIC_CLIENT,         /* AADSTS7000218: public client flows are off */
  RD_AUTH_ERROR_STATE_MISMATCH,        /* a browser redirect that is not ours */
  RD_AUTH_ERROR_NOT_SIGNED_IN,         /* no token and no refresh token */
  RD_AUTH_ERROR_FAILED,
} RdAuthError;

GQuark      rd_auth_error_quark                   (void);

G_END_DECLS
