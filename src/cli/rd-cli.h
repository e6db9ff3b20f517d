/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-cli-session.h"
#include "rd-types.h"

G_BEGIN_DECLS

/* What recovery-desk-cli exits with; documented in --help and the README. */
typedef enum
{
  RD_CLI_EXIT_OK = 0,
  RD_CLI_EXIT_FAILED = 1,        /* Graph, the network, the keyring or a file failed */
  RD_CLI_EXIT_USAGE = 2,         /* the command line is wrong */
  RD_CLI_EXIT_NOT_SIGNED_IN = 3, /* sign in first, or the sign-in was refused */
  RD_CLI_EXIT_NOT_FOUND = 4,     /* no device, or no plan, matches DEVICE */
  RD_CLI_EXIT_AMBIGUOUS = 5,     /* DEVICE matches several devices */
  RD_CLI_EXIT_REFUSED = 6,       /* nothing was sent or changed: not confirmed, not ready, in flight */
  RD_CLI_EXIT_CANCELLED = 130,   /* interrupted (Ctrl+C) */
} RdCliExit;

#define RD_CLI_ERROR (rd_cli_error_quark ())

typedef enum
{
  RD_CLI_ERROR_USAGE,
  RD_CLI_ERROR_NOT_FOUND,
  RD_CLI_ERROR_AMBIGUOUS,
  RD_CLI_ERROR_REFUSED,
  RD_CLI_ERROR_FAILED,
} RdCliError;

GQuark      rd_cli_error_quark          (void);
int         rd_cli_exit_code_for_error  (const GError  *error);
int         rd_cli_report_error         (const GError  *error);
void        rd_cli_message              (const char    *format,
                                         ...) G_GNUC_PRINTF (1, 2);

/* Running the asynchronous library calls to completion. */
void        rd_cli_store_result_cb      (GObject       *source,
                                         GAsyncResult  *result,
                                         gpointer       user_data);
void        rd_cli_wait                 (GAsyncResult **result);

/* Commands. */
gboolean      rd_cli_parse               (const char          *command,
                                          const char          *parameters,
                                          const char          *summary,
                                          const GOptionEntry  *entries,
                                          char              ***args,
                                          GError             **error);
RdCliSession *rd_cli_open_session        (GError             **error);
int           rd_cli_plan                (char               **args);

const char   *rd_cli_tristate_to_string  (RdTristate           value);
char         *rd_cli_format_time         (GDateTime           *time,
                                          gboolean             for_table);

G_END_DECLS
