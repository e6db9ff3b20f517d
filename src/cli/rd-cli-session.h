/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-board.h"
#include "rd-cloud.h"
#include "rd-demo-tenant.h"
#include "rd-entra-auth.h"
#include "rd-graph-client.h"

G_BEGIN_DECLS

/* The global options, as given on the command line. */
typedef struct
{
  gboolean demo;
  guint demo_devices; /* 0: the bundled data */
  char *demo_data;
  char *cloud;
  char *tenant;
  char *client_id;
  char *graph_endpoint;
  char *login_endpoint;
} RdCliOptions;

void          rd_cli_options_clear            (RdCliOptions   *options);

/* What a command works with: the cloud and sign-in settings, the demo tenant
 * when there is one, and once connected, a Graph client and who is signed
 * in. Not a GObject: one lives for one command. */
typedef struct
{
  RdCloud *cloud;
  char *tenant;
  char *client_id;
  RdDemoTenant *demo;
  GCancellable *cancellable;
  gboolean report_inventory; /* say how many devices were left out */

  RdEntraAuth *auth;
  RdTokenSource *token_source;
  RdGraphClient *client;
  char *tenant_id;
  char *username;
  char *display_name;
} RdCliSession;

RdCliSession *rd_cli_session_new              (const RdCliOptions *options,
                                               GError            **error);
void          rd_cli_session_free             (RdCliSession       *self);

RdEntraAuth  *rd_cli_session_create_auth      (RdCliSession       *self,
                                               GError            **error);
gboolean      rd_cli_session_connect          (RdCliSession       *self,
                                               GError            **error);
gboolean      rd_cli_session_resolve_tenant   (RdCliSession       *self,
                                               GError            **error);
GPtrArray    *rd_cli_session_load_devices     (RdCliSession       *self,
                                               gboolean            cached,
                                               gboolean            cache_when_offline,
                                               GError            **error);
RdBoard      *rd_cli_session_open_board       (RdCliSession       *self,
                                               GPtrArray          *devices);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdCliSession, rd_cli_session_free)

G_END_DECLS
