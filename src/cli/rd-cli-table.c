/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-cli"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-cli-table.h"
#include "rd-cli.h"
#include "rd-csv.h"

#include <stdio.h>
#include <string.h>

struct _RdCliTable
{
  GPtrArray *keys;
  GPtrArray *titles;
  GPtrArray *rows; /* GPtrArray of char * */
};

gboolean
rd_cli_format_from_string (const char   *name,
                           RdCliFormat  *format,
                           GError      **error)
{
  if (g_strcmp0 (name, "table") == 0)
    *format = RD_CLI_FORMAT_TABLE;
  else if (g_strcmp0 (name, "json") == 0)
    *format = RD_CLI_FORMAT_JSON;
  else if (g_strcmp0 (name, "csv") == 0)
    *format = RD_CLI_FORMAT_CSV;
  else
    {
      g_set_error (error, RD_CLI_ERROR, RD_CLI_ERROR_USAGE,
                   _ ("Unknown format “%s”: use table, json or csv."), name);
      return FALSE;
    }

  return TRUE;
}

RdCliTable *
rd_cli_table_new (void)
{
  RdCliTable *self = g_new0 (RdCliTable, 1);

  self->keys = g_ptr_array_new_with_free_func (g_free);
  self->titles = g_ptr_array_new_with_free_func (g_free);
  self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  return self;
}

void
rd_cli_table_free (RdCliTable *self)
{
  if (self == NULL)
    return;

  g_ptr_array_unref (self->keys);
  g_ptr_array_unref (self->titles);
  g_ptr_array_unref (self->rows);
  g_free (self);
}

void
rd_cli_table_add_column (RdCliTable *self,
                         const char *key,
                         const char *title)
{
  g_return_if_fail (self->rows->len == 0);

  g_ptr_array_add (self->keys, g_strdup (key));
  g_ptr_array_add (self->titles, g_strdup (title));
}

void
rd_cli_table_add_row (RdCliTable *self)
{
  g_ptr_array_add (self->rows, g_ptr_array_new_with_free_func (g_free));
}

void
rd_cli_table_take_cell (RdCliTable *self,
                        char       *text)
{
  GPtrArray *row;

  g_return_if_fail (self->rows->len > 0);

  row = g_ptr_array_index (self->rows, self->rows->len - 1);
  g_return_if_fail (row->len < self->keys->len);

  /* Text from Graph is not trusted to be UTF-8. */
  if (text != NULL && !g_utf8_validate (text, -1, NULL))
    {
      char *valid = g_utf8_make_valid (text, -1);

      g_free (text);
      text = valid;
    }
  g_ptr_array_add (row, text != NULL ? text : g_strdup (""));
}

void
rd_cli_table_add_cell (RdCliTable *self,
                       const char *text)
{
  rd_cli_table_take_cell (self, g_strdup (text));
}

guint
rd_cli_table_get_n_rows (RdCliTable *self)
{
  return self->rows->len;
}

/**
 * rd_cli_display_width:
 *
 * Returns: how many terminal columns @text takes: wide (East Asian)
 *   characters take two, combining marks none.
 */
int
rd_cli_display_width (const char *text)
{
  int width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }

  return width;
}

/* A cell on one line: control characters (a newline in a device name)
 * would break the alignment, so they show as spaces. */
static char *
cell_for_table (const char *text)
{
  GString *s = g_string_sized_new (strlen (text));

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (s, ' ');
      else
        g_string_append_unichar (s, c);
    }

  return g_string_free (s, FALSE);
}

static void
append_padded (GString    *out,
               const char *text,
               int         width,
               gboolean    last)
{
  g_string_append (out, text);
  if (last)
    return;
  for (int i = rd_cli_display_width (text); i < width; i++)
    g_string_append_c (out, ' ');
  g_string_append (out, "  ");
}

static void
append_table_row (GString   *out,
                  GPtrArray *cells,
                  const int *widths)
{
  for (guint i = 0; i < cells->len; i++)
    append_padded (out, g_ptr_array_index (cells, i), widths[i], i + 1 == cells->len);
  g_string_append_c (out, '\n');
}

/**
 * rd_cli_table_to_text:
 *
 * Returns: (transfer full): the rows under their titles, in columns aligned
 *   by display width
 */
char *
rd_cli_table_to_text (RdCliTable *self)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autofree int *widths = g_new0 (int, self->keys->len);
  GString *out = g_string_new (NULL);
  GPtrArray *header = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->titles->len; i++)
    g_ptr_array_add (header, cell_for_table (g_ptr_array_index (self->titles, i)));
  g_ptr_array_add (lines, header);

  for (guint r = 0; r < self->rows->len; r++)
    {
      GPtrArray *row = g_ptr_array_index (self->rows, r);
      GPtrArray *line = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < self->keys->len; i++)
        g_ptr_array_add (line, cell_for_table (i < row->len ? g_ptr_array_index (row, i) : ""));
      g_ptr_array_add (lines, line);
    }

  for (guint r = 0; r < lines->len; r++)
    {
      GPtrArray *line = g_ptr_array_index (lines, r);

      for (guint i = 0; i < line->len; i++)
        widths[i] = MAX (widths[i], rd_cli_display_width (g_ptr_array_index (line, i)));
    }

  for (guint r = 0; r < lines->len; r++)
    append_table_row (out, g_ptr_array_index (lines, r), widths);

  return g_string_free (out, FALSE);
}

static void
append_csv_record (GString   *out,
                   GPtrArray *cells,
                   guint      n_columns)
{
  g_autofree const char **fields = g_new0 (const char *, n_columns);

  for (guint i = 0; i < n_columns && i < cells->len; i++)
    fields[i] = g_ptr_array_index (cells, i);
  rd_csv_append_record (out, fields, n_columns);
}

/**
 * rd_cli_table_to_csv:
 *
 * Returns: (transfer full): RFC 4180 CSV: a header of the column keys, then
 *   one record per row, each ended by CRLF
 */
char *
rd_cli_table_to_csv (RdCliTable *self)
{
  GString *out = g_string_new (NULL);

  append_csv_record (out, self->keys, self->keys->len);
  for (guint r = 0; r < self->rows->len; r++)
    append_csv_record (out, g_ptr_array_index (self->rows, r), self->keys->len);

  return g_string_free (out, FALSE);
}

char *
rd_cli_json_to_string (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  GString *out;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  out = g_string_new (NULL);
  json_generator_to_gstring (generator, out);
  g_string_append_c (out, '\n');

  return g_string_free (out, FALSE);
}

/* Data goes to stdout as UTF-8 bytes, unconverted, for scripts to read. */
void
rd_cli_write (const char *text)
{
  fputs (text, stdout);
  fflush (stdout);
}
