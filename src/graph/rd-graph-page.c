/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-page"

#include "config.h"

#include "rd-graph-page-private.h"

#include <gio/gio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The reader works in place on a copy of the body: a string is unescaped
 * over its own text (never longer than the escaped form) and ended with a
 * NUL, so that a member is two pointers into the buffer. It accepts exactly
 * RFC 8259 JSON in UTF-8, as json-glib does, and refuses a \u0000 in a
 * string, which a C string cannot hold, and nesting deeper than MAX_DEPTH. */

#define MAX_DEPTH 64

typedef enum
{
  KIND_NULL,
  KIND_FALSE,
  KIND_TRUE,
  KIND_NUMBER,
  KIND_STRING,
  KIND_OBJECT,
  KIND_ARRAY,
} Kind;

typedef struct
{
  const char *name;
  const char *value; /* a NUL-terminated string, or the JSON text of the rest */
  gsize length;
  Kind kind;
  guint32 name_length;
} Member;

G_STATIC_ASSERT (sizeof (Member) == 32);

typedef struct
{
  guint first; /* into members */
  guint n_members;
  gboolean object;
} Item;

struct _RdGraphPage
{
  char *buffer;
  Member *members;
  guint n_members;
  guint members_size;
  GArray *items;   /* of Item */
  const char *next_link;
  guint cursor; /* where the last member was found */
};

typedef struct
{
  char *p;
  char *end;
  const char *problem;
  gboolean shape; /* valid JSON, but not a page */
  gsize length;   /* of the string read_string() stored last */
} Reader;

static gboolean
fail (Reader     *reader,
      const char *problem)
{
  if (reader->problem == NULL)
    reader->problem = problem;
  return FALSE;
}

static void
skip_space (Reader *reader)
{
  while (reader->p < reader->end &&
         (*reader->p == ' ' || *reader->p == '\n' || *reader->p == '\r' || *reader->p == '\t'))
    reader->p++;
}

static gboolean
fail_shape (Reader     *reader,
            const char *problem)
{
  if (reader->problem == NULL)
    reader->shape = TRUE;
  return fail (reader, problem);
}

static gboolean
expect (Reader *reader,
        char    c)
{
  skip_space (reader);
  if (reader->p >= reader->end || *reader->p != c)
    return fail (reader, "unexpected character");
  reader->p++;
  return TRUE;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
read_hex4 (Reader   *reader,
           gunichar *unit)
{
  *unit = 0;
  if (reader->end - reader->p < 4)
    return fail (reader, "a \\u escape cut short");
  for (int i = 0; i < 4; i++)
    {
      int digit = hex_digit (reader->p[i]);

      if (digit < 0)
        return fail (reader, "a bad \\u escape");
      *unit = (*unit << 4) | (gunichar) digit;
    }
  reader->p += 4;
  return TRUE;
}

/* Bytes that end a plain run in a string: controls, '"' and '\\'. */
static const guint8 stops[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1, ['\\'] = 1,
};

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* The high bit of each byte of @v below @n (at most 0x80), exact up to the
 * first such byte: a borrow only runs towards the later bytes. */
#define LESS(v, n) (((v) - ONES * (n)) & ~(v) & HIGHS)

/* The end of the plain run at @p: the first stop, or @end. @high gathers
 * the bits of the bytes passed. Page text is nearly all ASCII: sixteen
 * bytes at a time with SSE2 (every x86-64 has it), else eight, the first
 * stop or byte outside ASCII found by its bit. */
static char *
skip_plain (char   *p,
            char   *end,
            guchar *high)
{
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8 ('"');
  const __m128i backslash = _mm_set1_epi8 ('\\');
  const __m128i space = _mm_set1_epi8 (0x20);

  while (end - p >= 16)
    {
      __m128i v = _mm_loadu_si128 ((const __m128i *) (const void *) p);
      /* A signed comparison: the bytes from 0x80 up are below 0x20 too. */
      __m128i hits = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v, quote),
                                                 _mm_cmpeq_epi8 (v, backslash)),
                                   _mm_cmplt_epi8 (v, space));
      int mask = _mm_movemask_epi8 (hits);

      if (mask == 0)
        {
          p += 16;
          continue;
        }

      p += __builtin_ctz ((unsigned int) mask);
      if (stops[(guchar) *p])
        return p;
      /* A byte outside ASCII. */
      *high |= (guchar) *p++;
    }
#endif

  while (end - p >= 8)
    {
      guint64 v;
      guint64 hits;

      memcpy (&v, p, sizeof v);
      v = GUINT64_FROM_LE (v);
      hits = (v & HIGHS) | LESS (v, 0x20) | LESS (v ^ (ONES * '"'), 1) |
             LESS (v ^ (ONES * '\\'), 1);
      if (hits == 0)
        {
          p += 8;
          continue;
        }

      p += __builtin_ctzll (hits) / 8;
      if (stops[(guchar) *p])
        return p;
      /* A byte outside ASCII. */
      *high |= (guchar) *p++;
    }

  for (; p < end && !stops[(guchar) *p]; p++)
    *high |= (guchar) *p;

  return p;
}

/* The common case of read_string(), at the opening quote: a string of
 * ASCII without escapes, which needs no copy and no check, only a NUL over
 * its closing quote. Returns FALSE, having changed nothing, for any other
 * string: read_string() then reads it. */
static inline gboolean
read_plain_string (Reader  *reader,
                   char   **out)
{
  char *start = reader->p + 1;
  char *p = start;

#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8 ('"');
  const __m128i backslash = _mm_set1_epi8 ('\\');
  const __m128i space = _mm_set1_epi8 (0x20);

  while (reader->end - p >= 16)
    {
      __m128i v = _mm_loadu_si128 ((const __m128i *) (const void *) p);
      /* Signed: the bytes from 0x80 up are below 0x20 too. */
      int mask = _mm_movemask_epi8 (
        _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v, quote), _mm_cmpeq_epi8 (v, backslash)),
                      _mm_cmplt_epi8 (v, space)));

      if (mask != 0)
        {
          /* The loop below stops there at once. */
          p += __builtin_ctz ((unsigned int) mask);
          break;
        }
      p += 16;
    }
#endif

  while (p < reader->end && *p != '"' && *p != '\\' && (guchar) *p >= 0x20 && (guchar) *p < 0x80)
    p++;

  if (p >= reader->end || *p != '"')
    return FALSE;

  *p = '\0';
  *out = start;
  reader->length = p - start;
  reader->p = p + 1;
  return TRUE;
}

/* At the opening quote. With @out, unescapes in place and stores the
 * NUL-terminated string there; without, only checks the string. */
static gboolean
read_string (Reader  *reader,
             char   **out)
{
  char *start;
  char *w;
  guchar high = 0; /* the bits of every plain byte: ASCII needs no check */

  skip_space (reader);
  if (reader->p >= reader->end || *reader->p != '"')
    return fail (reader, "a string was expected");
  start = w = ++reader->p;

  for (;;)
    {
      guchar c;

      /* The plain run, the common case: copied only once an escape has
       * shifted the text. */
      if (w == reader->p)
        w = reader->p = skip_plain (reader->p, reader->end, &high);
      else
        while (reader->p < reader->end && !stops[(guchar) *reader->p])
          {
            high |= (guchar) *reader->p;
            if (out != NULL)
              *w = *reader->p;
            w++;
            reader->p++;
          }

      if (reader->p >= reader->end)
        return fail (reader, "a string without its closing quote");

      c = (guchar) *reader->p++;
      if (c == '"')
        break;
      if (c < 0x20)
        return fail (reader, "a control character in a string");

      /* A backslash. */
      if (reader->p >= reader->end)
        return fail (reader, "a string without its closing quote");
      c = (guchar) *reader->p++;
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'u':
          {
            gunichar unit;
            gunichar low;
            char utf8[6];
            int n;

            if (!read_hex4 (reader, &unit))
              return FALSE;
            if (unit >= 0xdc00 && unit <= 0xdfff)
              return fail (reader, "a lone low surrogate");
            if (unit >= 0xd800 && unit <= 0xdbff)
              {
                if (reader->end - reader->p < 2 || reader->p[0] != '\\' || reader->p[1] != 'u')
                  return fail (reader, "a lone high surrogate");
                reader->p += 2;
                if (!read_hex4 (reader, &low))
                  return FALSE;
                if (low < 0xdc00 || low > 0xdfff)
                  return fail (reader, "a lone high surrogate");
                unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
              }
            if (unit == 0)
              return fail (reader, "a \\u0000 in a string");

            n = g_unichar_to_utf8 (unit, utf8);
            if (out != NULL)
              memcpy (w, utf8, n);
            w += n;
            continue;
          }
        default:
          return fail (reader, "a bad escape in a string");
        }
      if (out != NULL)
        *w = (char) c;
      w++;
    }

  if (out != NULL)
    {
      /* The closing quote lies at or after w, so this NUL overwrites only
       * text already read. */
      *w = '\0';
      if ((high & 0x80) != 0 && !g_utf8_validate_len (start, w - start, NULL))
        return fail (reader, "a string that is not UTF-8");
      *out = start;
      reader->length = w - start;
    }
  else if ((high & 0x80) != 0 && !g_utf8_validate_len (start, reader->p - 1 - start, NULL))
    return fail (reader, "a string that is not UTF-8");

  return TRUE;
}

static gboolean
read_digits (Reader *reader)
{
  const char *start = reader->p;

  while (reader->p < reader->end && g_ascii_isdigit (*reader->p))
    reader->p++;
  return reader->p > start || fail (reader, "a bad number");
}

static gboolean
read_number (Reader *reader)
{
  if (reader->p < reader->end && *reader->p == '-')
    reader->p++;
  if (reader->p < reader->end && *reader->p == '0')
    reader->p++;
  else if (!read_digits (reader))
    return FALSE;
  if (reader->p < reader->end && *reader->p == '.')
    {
      reader->p++;
      if (!read_digits (reader))
        return FALSE;
    }
  if (reader->p < reader->end && (*reader->p == 'e' || *reader->p == 'E'))
    {
      reader->p++;
      if (reader->p < reader->end && (*reader->p == '+' || *reader->p == '-'))
        reader->p++;
      if (!read_digits (reader))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_literal (Reader     *reader,
              const char *word)
{
  gsize length = strlen (word);

  if ((gsize) (reader->end - reader->p) < length || memcmp (reader->p, word, length) != 0)
    return fail (reader, "an unexpected word");
  reader->p += length;
  return TRUE;
}

/* Checks any value, changing nothing; @kind says what it was. */
static gboolean
skip_value (Reader *reader,
            int     depth,
            Kind   *kind)
{
  Kind ignored;

  if (kind == NULL)
    kind = &ignored;

  skip_space (reader);
  if (reader->p >= reader->end)
    return fail (reader, "the text ends early");

  switch (*reader->p)
    {
    case '"':
      *kind = KIND_STRING;
      return read_string (reader, NULL);
    case 't':
      *kind = KIND_TRUE;
      return read_literal (reader, "true");
    case 'f':
      *kind = KIND_FALSE;
      return read_literal (reader, "false");
    case 'n':
      *kind = KIND_NULL;
      return read_literal (reader, "null");
    case '{':
    case '[':
      {
        char close = *reader->p == '{' ? '}' : ']';

        *kind = close == '}' ? KIND_OBJECT : KIND_ARRAY;
        if (depth >= MAX_DEPTH)
          return fail (reader, "nesting too deep");
        reader->p++;
        skip_space (reader);
        if (reader->p < reader->end && *reader->p == close)
          {
            reader->p++;
            return TRUE;
          }
        for (;;)
          {
            if (close == '}' && (!read_string (reader, NULL) || !expect (reader, ':')))
              return FALSE;
            if (!skip_value (reader, depth + 1, NULL))
              return FALSE;
            skip_space (reader);
            if (reader->p < reader->end && *reader->p == ',')
              {
                reader->p++;
                continue;
              }
            return expect (reader, close);
          }
      }
    default:
      *kind = KIND_NUMBER;
      return read_number (reader);
    }
}

/* A member's value inside an item: strings unescaped in place, the rest
 * kept as text. */
static gboolean
read_member_value (Reader *reader,
                   Member *member)
{
  char *start;

  skip_space (reader);
  if (reader->p < reader->end && *reader->p == '"')
    {
      char *value;

      member->kind = KIND_STRING;
      if (!read_plain_string (reader, &value) && !read_string (reader, &value))
        return FALSE;
      member->value = value;
      member->length = reader->length;
      return TRUE;
    }

  start = reader->p;
  if (!skip_value (reader, 2, &member->kind))
    return FALSE;
  member->value = start;
  member->length = reader->p - start;
  return TRUE;
}

static gboolean
read_item (RdGraphPage *self,
           Reader      *reader)
{
  Item item = { self->n_members, 0, FALSE };

  skip_space (reader);
  if (reader->p >= reader->end || *reader->p != '{')
    {
      /* Not an object: checked, counted, and skipped by the callers. */
      if (!skip_value (reader, 1, NULL))
        return FALSE;
      g_array_append_val (self->items, item);
      return TRUE;
    }

  item.object = TRUE;
  reader->p++;
  skip_space (reader);
  if (reader->p < reader->end && *reader->p == '}')
    reader->p++;
  else
    for (;;)
      {
        Member member = { 0 };
        char *name;

        /* Graph writes no space between the tokens: each step tries that
         * first. */
        if (!(reader->p < reader->end && *reader->p == '"' && read_plain_string (reader, &name)) &&
            !read_string (reader, &name))
          return FALSE;
        /* Longer names than that are never asked for; they match none. */
        member.name_length = (guint32) MIN (reader->length, G_MAXUINT32);
        if (reader->p < reader->end && *reader->p == ':')
          reader->p++;
        else if (!expect (reader, ':'))
          return FALSE;
        if (!read_member_value (reader, &member))
          return FALSE;
        member.name = name;
        if (self->n_members == self->members_size)
          {
            self->members_size = MAX (2 * self->members_size, 64);
            self->members = g_renew (Member, self->members, self->members_size);
          }
        self->members[self->n_members++] = member;
        item.n_members++;

        if (reader->p < reader->end && *reader->p == ',')
          {
            reader->p++;
            continue;
          }
        skip_space (reader);
        if (reader->p < reader->end && *reader->p == ',')
          {
            reader->p++;
            continue;
          }
        if (!expect (reader, '}'))
          return FALSE;
        break;
      }

  g_array_append_val (self->items, item);
  return TRUE;
}

static gboolean
read_items (RdGraphPage *self,
            Reader      *reader)
{
  /* A repeated "value" replaces the first, as in json-glib. */
  g_array_set_size (self->items, 0);
  self->n_members = 0;

  if (!expect (reader, '['))
    return FALSE;
  skip_space (reader);
  if (reader->p < reader->end && *reader->p == ']')
    {
      reader->p++;
      return TRUE;
    }

  for (;;)
    {
      if (!read_item (self, reader))
        return FALSE;
      skip_space (reader);
      if (reader->p < reader->end && *reader->p == ',')
        {
          reader->p++;
          continue;
        }
      return expect (reader, ']');
    }
}

static gboolean
read_page (RdGraphPage *self,
           Reader      *reader,
           gboolean    *has_value)
{
  if (!expect (reader, '{'))
    return FALSE;
  skip_space (reader);
  if (reader->p < reader->end && *reader->p == '}')
    {
      reader->p++;
      return TRUE;
    }

  for (;;)
    {
      char *name;

      if (!read_string (reader, &name) || !expect (reader, ':'))
        return FALSE;

      skip_space (reader);
      if (g_str_equal (name, "value"))
        {
          if (reader->p >= reader->end || *reader->p != '[')
            return fail_shape (reader, "a page of results without a “value” list");
          if (!read_items (self, reader))
            return FALSE;
          *has_value = TRUE;
        }
      else if (g_str_equal (name, "@odata.nextLink"))
        {
          char *link = NULL;

          if (reader->p < reader->end && *reader->p == '"')
            {
              if (!read_string (reader, &link))
                return FALSE;
            }
          else
            {
              Kind kind;

              if (!skip_value (reader, 1, &kind))
                return FALSE;
              if (kind != KIND_NULL)
                return fail_shape (reader, "a page of results with a bad “@odata.nextLink”");
            }
          self->next_link = link;
        }
      else if (!skip_value (reader, 1, NULL))
        return FALSE;

      skip_space (reader);
      if (reader->p < reader->end && *reader->p == ',')
        {
          reader->p++;
          continue;
        }
      return expect (reader, '}');
    }
}

/* Reads the page in @buffer, which it takes. No NUL needs to end it. */
static RdGraphPage *
page_new (char    *buffer,
          gsize    size,
          GError **error)
{
  g_autoptr (RdGraphPage) self = g_new0 (RdGraphPage, 1);
  Reader reader = { 0 };
  gboolean has_value = FALSE;

  /* An empty body may come without memory; the reader needs some. */
  self->buffer = buffer != NULL ? buffer : g_malloc (1);
  /* A member takes some 30 to 50 bytes of a page: room for all of them,
   * most likely, in memory that is only touched as it fills. */
  self->members_size = MIN (size / 24 + 64, 1 << 20);
  self->members = g_new (Member, self->members_size);
  self->items = g_array_new (FALSE, FALSE, sizeof (Item));

  reader.p = self->buffer;
  reader.end = self->buffer + size;
  if (read_page (self, &reader, &has_value))
    {
      skip_space (&reader);
      if (reader.p != reader.end)
        fail (&reader, "text after the page");
      else if (!has_value)
        fail_shape (&reader, "a page of results without a “value” list");
    }

  if (reader.problem != NULL && reader.shape)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, reader.problem);
      return NULL;
    }
  if (reader.problem != NULL)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, "%s at byte %zu",
                   reader.problem, (gsize) (reader.p - self->buffer));
      return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * rd_graph_page_new:
 * @body: a page as Graph sends it
 *
 * Returns: (transfer full) (nullable): the page, or %NULL with @error:
 *   %JSON_PARSER_ERROR_INVALID_DATA when @body is not valid JSON in UTF-8,
 *   %G_IO_ERROR_INVALID_DATA when it is not an object with a "value"
 *   array and a string or null "@odata.nextLink"
 */
RdGraphPage *
rd_graph_page_new (GBytes  *body,
                   GError **error)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (body, &size);

  return page_new (g_memdup2 (data, size), size, error);
}

/**
 * rd_graph_page_new_take:
 * @body: (transfer full): a page as Graph sends it
 *
 * Like rd_graph_page_new(), reading the page in @body's own memory when
 * nothing else holds @body, instead of in a copy: a page of managed
 * devices is a megabyte.
 */
RdGraphPage *
rd_graph_page_new_take (GBytes  *body,
                        GError **error)
{
  gsize size = 0;
  char *data = g_bytes_unref_to_data (body, &size);

  return page_new (data, size, error);
}

/* Peeking at the next link */

#define PEEK_MAX_STRING 16384
#define PEEK_MAX_MEMBERS 8

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* A string without escapes or control bytes, whose opening quote is at
 * @p: its end (the closing quote) in @end_out, or FALSE. */
static gboolean
plain_string_after (const char  *p,
                    const char  *end,
                    const char **end_out)
{
  const char *limit = p + MIN (end - p, PEEK_MAX_STRING);

  for (p++; p < limit; p++)
    {
      if (*p == '"')
        {
          *end_out = p;
          return TRUE;
        }
      if (*p == '\\' || (guchar) *p < 0x20)
        return FALSE;
    }

  return FALSE;
}

/* The same, backwards from its closing quote at @p: its opening quote in
 * @start_out. Without a backslash in between, the quote before is the
 * opening one. */
static gboolean
plain_string_before (const char  *start,
                     const char  *p,
                     const char **start_out)
{
  const char *limit = p - MIN (p - start, PEEK_MAX_STRING);

  while (p > limit)
    {
      p--;
      if (*p == '"')
        {
          *start_out = p;
          return TRUE;
        }
      if (*p == '\\' || (guchar) *p < 0x20)
        return FALSE;
    }

  return FALSE;
}

static gboolean
is_next_link_name (const char *name,
                   const char *end)
{
  static const char next_link[] = "@odata.nextLink";

  return end - name == sizeof next_link - 1 && memcmp (name, next_link, end - name) == 0;
}

/* The last member, when it is "@odata.nextLink" with a plain string, as
 * Graph's Intune lists and the demo tenant write it:
 * …], "@odata.nextLink": "…"} */
static char *
peek_last_member (const char *start,
                  const char *end)
{
  const char *p = end;
  const char *value;
  const char *name;

  while (p > start && is_space (p[-1]))
    p--;
  if (p == start || *--p != '}')
    return NULL;
  while (p > start && is_space (p[-1]))
    p--;
  if (p == start || *--p != '"' || !plain_string_before (start, p, &value))
    return NULL;
  end = p;
  p = value;
  while (p > start && is_space (p[-1]))
    p--;
  if (p == start || *--p != ':')
    return NULL;
  while (p > start && is_space (p[-1]))
    p--;
  if (p == start || *--p != '"' || !plain_string_before (start, p, &name) ||
      !is_next_link_name (name + 1, p))
    return NULL;

  return g_strndup (value + 1, end - value - 1);
}

/* "@odata.nextLink" among the first members, before "value", when they
 * are all plain strings or numbers, as other Graph lists write it:
 * {"@odata.context": "…", "@odata.nextLink": "…", "value": [… */
static char *
peek_first_members (const char *p,
                    const char *end)
{
  while (p < end && is_space (*p))
    p++;
  if (p == end || *p++ != '{')
    return NULL;

  for (guint i = 0; i < PEEK_MAX_MEMBERS; i++)
    {
      const char *name;
      const char *name_end;
      const char *value_end;

      while (p < end && is_space (*p))
        p++;
      if (p == end || *p != '"' || !plain_string_after (p, end, &name_end))
        return NULL;
      name = p + 1;
      p = name_end + 1;
      while (p < end && is_space (*p))
        p++;
      if (p == end || *p++ != ':')
        return NULL;
      while (p < end && is_space (*p))
        p++;
      /* Not before the items: look no further. */
      if (name_end - name == 5 && memcmp (name, "value", 5) == 0)
        return NULL;

      if (p < end && *p == '"')
        {
          if (!plain_string_after (p, end, &value_end))
            return NULL;
          if (is_next_link_name (name, name_end))
            return g_strndup (p + 1, value_end - p - 1);
          p = value_end + 1;
        }
      else
        while (p < end && (g_ascii_isalnum (*p) || *p == '-' || *p == '+' || *p == '.'))
          p++;

      while (p < end && is_space (*p))
        p++;
      if (p == end || *p++ != ',')
        return NULL;
    }

  return NULL;
}

/**
 * rd_graph_page_peek_next_link:
 * @body: a page as Graph sends it
 *
 * A quick look for the page's "@odata.nextLink", without reading the page,
 * so that the next page can be asked for while this one is read: the last
 * member of the page, or one of the first before "value". Only links
 * without escapes are seen.
 *
 * Returns: (transfer full) (nullable): the link, or %NULL when none was
 *   seen. For a page that reads, it is the page's next link, except when
 *   the page names one twice, one before "value" and one after but not
 *   last: check it against rd_graph_page_get_next_link().
 */
char *
rd_graph_page_peek_next_link (GBytes *body)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (body, &size);
  char *link;

  if (data == NULL || size == 0)
    return NULL;

  link = peek_last_member (data, data + size);
  if (link == NULL)
    link = peek_first_members (data, data + size);

  return link;
}

void
rd_graph_page_free (RdGraphPage *self)
{
  if (self == NULL)
    return;

  g_free (self->buffer);
  g_free (self->members);
  g_array_unref (self->items);
  g_free (self);
}

guint
rd_graph_page_get_n_items (RdGraphPage *self)
{
  return self->items->len;
}

/**
 * rd_graph_page_get_next_link:
 *
 * Returns: (nullable): the page's "@odata.nextLink", or %NULL on the last
 *   page
 */
const char *
rd_graph_page_get_next_link (RdGraphPage *self)
{
  return self->next_link;
}

gboolean
rd_graph_page_is_object (RdGraphPage *self,
                         guint        item)
{
  g_return_val_if_fail (item < self->items->len, FALSE);

  return g_array_index (self->items, Item, item).object;
}

/* The search starts after the member found last, so that members asked
 * for in the order the page lists them take one comparison each. A name
 * that an item repeats finds one of its members. */
/* memcmp (a, b, n) == 0 for the short names of members, inline: eight
 * bytes at a time, the last word overlapping (memcmp() was 4 % of a sync's
 * CPU time, its call and set-up the most of it). */
static inline gboolean
same_bytes (const char *a,
            const char *b,
            gsize       n)
{
  if (n >= 8)
    {
      guint64 x, y;

      for (gsize i = 0; i + 8 < n; i += 8)
        {
          memcpy (&x, a + i, 8);
          memcpy (&y, b + i, 8);
          if (x != y)
            return FALSE;
        }
      memcpy (&x, a + n - 8, 8);
      memcpy (&y, b + n - 8, 8);
      return x == y;
    }
  if (n >= 4)
    {
      guint32 x1, y1, x2, y2;

      memcpy (&x1, a, 4);
      memcpy (&y1, b, 4);
      memcpy (&x2, a + n - 4, 4);
      memcpy (&y2, b + n - 4, 4);
      return x1 == y1 && x2 == y2;
    }
  for (gsize i = 0; i < n; i++)
    if (a[i] != b[i])
      return FALSE;
  return TRUE;
}

static inline gboolean
is_named (const Member *member,
          const char   *name,
          gsize         length)
{
  return member->name_length == length && same_bytes (member->name, name, length);
}

static const Member *
find_member (RdGraphPage *self,
             guint        item,
             const char  *name)
{
  const Item *it;
  const Member *members;
  gsize length = strlen (name);

  g_return_val_if_fail (item < self->items->len, NULL);

  it = &g_array_index (self->items, Item, item);
  if (it->n_members == 0)
    return NULL;

  members = &self->members[it->first];
  for (guint k = 0, i = self->cursor; k < it->n_members; k++, i++)
    {
      if (i >= it->n_members)
        i = 0;
      if (is_named (&members[i], name, length))
        {
          self->cursor = i + 1;
          return &members[i];
        }
    }

  return NULL;
}

/**
 * rd_graph_page_get_string:
 *
 * Returns: (nullable): the string member, or %NULL when it is missing,
 *   null, empty or not a string, as rd_device_mapper_get_string()
 */
const char *
rd_graph_page_get_string (RdGraphPage *self,
                          guint        item,
                          const char  *member)
{
  const Member *found = find_member (self, item, member);

  if (found == NULL || found->kind != KIND_STRING || found->length == 0)
    return NULL;

  return found->value;
}

/**
 * rd_graph_page_get_strings:
 * @members: (array length=n_members): the names to look up, best in the
 *   order the page lists them
 * @values: (out caller-allocates) (array length=n_members): the strings,
 *   each as rd_graph_page_get_string() gives it
 *
 * rd_graph_page_get_string() for several members of an item at once: the
 * sync reads 19 of each of 100,000 managed devices.
 */
void
rd_graph_page_get_strings (RdGraphPage           *self,
                           guint                  item,
                           const RdGraphPageName *members,
                           guint                  n_members,
                           const char           **values)
{
  const Item *it;
  const Member *first;
  guint cursor = self->cursor;

  g_return_if_fail (item < self->items->len);

  it = &g_array_index (self->items, Item, item);
  first = &self->members[it->first];
  for (guint k = 0; k < n_members; k++)
    {
      const Member *found = NULL;

      /* As find_member(), inline: members asked for in page order are
       * each found at the first try. */
      for (guint tries = 0; tries < it->n_members; tries++, cursor++)
        {
          if (cursor >= it->n_members)
            cursor = 0;
          if (is_named (&first[cursor], members[k].name, members[k].length))
            {
              found = &first[cursor++];
              break;
            }
        }
      values[k] = found != NULL && found->kind == KIND_STRING && found->length > 0 ? found->value
                                                                                   : NULL;
    }
  self->cursor = cursor;
}

/**
 * rd_graph_page_get_boolean:
 *
 * Returns: whether the member is a boolean, stored in @value
 */
gboolean
rd_graph_page_get_boolean (RdGraphPage *self,
                           guint        item,
                           const char  *member,
                           gboolean    *value)
{
  const Member *found = find_member (self, item, member);

  if (found == NULL || (found->kind != KIND_TRUE && found->kind != KIND_FALSE))
    return FALSE;

  *value = found->kind == KIND_TRUE;
  return TRUE;
}

/**
 * rd_graph_page_dup_node:
 *
 * Returns: (transfer full) (nullable): the member as a JsonNode, %NULL
 *   when it is missing
 */
JsonNode *
rd_graph_page_dup_node (RdGraphPage *self,
                        guint        item,
                        const char  *member)
{
  const Member *found = find_member (self, item, member);
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *node;

  if (found == NULL)
    return NULL;

  switch (found->kind)
    {
    case KIND_NULL:
      return json_node_new (JSON_NODE_NULL);
    case KIND_TRUE:
    case KIND_FALSE:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_boolean (node, found->kind == KIND_TRUE);
      return node;
    case KIND_STRING:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, found->value);
      return node;
    case KIND_NUMBER:
    case KIND_OBJECT:
    case KIND_ARRAY:
    default:
      /* Already checked: json-glib reads it. */
      parser = json_parser_new_immutable ();
      if (!json_parser_load_from_data (parser, found->value, found->length, NULL) ||
          json_parser_get_root (parser) == NULL)
        return NULL;
      return json_node_ref (json_parser_get_root (parser));
    }
}
