/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char *rd_csv_quote_field     (const char        *text);
void  rd_csv_append_record   (GString           *out,
                              const char *const *fields,
                              guint              n_fields);
char *rd_csv_format_bitlocker (GListModel       *devices);
char *rd_csv_format_audit    (GListModel        *entries);

void     rd_csv_save_async   (GFile               *file,
                              const char          *csv,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);
gboolean rd_csv_save_finish  (GAsyncResult        *result,
                              GError             **error);

G_END_DECLS
