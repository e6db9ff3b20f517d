/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-board.h"
#include "rd-session.h"

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

/* What a command works with: the tenant's RdSession (shared with the app),
 * and how this command reports. Not a GObject: one lives for one command. */
typedef struct
{
  RdSession *session;
  GCancellable *cancellable;
  gboolean report_inventory; /* say how many devices were left out */
} RdCliSession;

RdCliSession *rd_cli_session_new              (const RdCliOptions *options,
                                               GError            **error);
void          rd_cli_session_free             (RdCliSession       *self);

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
