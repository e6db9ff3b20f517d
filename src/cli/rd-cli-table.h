/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  RD_CLI_FORMAT_TABLE,
  RD_CLI_FORMAT_JSON,
  RD_CLI_FORMAT_CSV,
} RdCliFormat;

gboolean    rd_cli_format_from_string (const char   *name,
                                       RdCliFormat  *format,
                                       GError      **error);

/* Rows of text for the table and CSV outputs. Each column has a stable key,
 * the CSV header, and a translated title, the table header. */
typedef struct _RdCliTable RdCliTable;

RdCliTable *rd_cli_table_new          (void);
void        rd_cli_table_free         (RdCliTable   *self);
void        rd_cli_table_add_column   (RdCliTable   *self,
                                       const char   *key,
                                       const char   *title);
void        rd_cli_table_add_row      (RdCliTable   *self);
void        rd_cli_table_add_cell     (RdCliTable   *self,
                                       const char   *text);
void        rd_cli_table_take_cell    (RdCliTable   *self,
                                       char         *text);
guint       rd_cli_table_get_n_rows   (RdCliTable   *self);
char       *rd_cli_table_to_text      (RdCliTable   *self);
char       *rd_cli_table_to_csv       (RdCliTable   *self);

int         rd_cli_display_width      (const char   *text);
char       *rd_cli_json_to_string     (JsonNode     *node);
void        rd_cli_write              (const char   *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdCliTable, rd_cli_table_free)

G_END_DECLS
