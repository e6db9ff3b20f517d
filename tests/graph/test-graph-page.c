/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-device-mapper.h"
#include "rd-graph-page-private.h"

#include <string.h>

/* RdGraphPage, the reader of the sync's list pages: what it accepts must
 * read as json-glib reads it, and what json-glib refuses it refuses. */

static RdGraphPage *
read_page (const char  *text,
           GError     **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return rd_graph_page_new (bytes, error);
}

/* Names of every length from 1 to 40 that differ from one another in
 * one byte, first, in the middle or last: each is found as itself, alone
 * and among several, and a name one byte longer or shorter is not. */
static void
test_member_names (void)
{
  for (guint length = 1; length <= 40; length++)
    {
      g_autoptr (GString) text = g_string_new ("{\"value\": [{");
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GError) error = NULL;
      g_autoptr (RdGraphPage) page = NULL;
      guint positions[] = { 0, length / 2, length - 1 };

      g_ptr_array_add (names, g_strnfill (length, 'm'));
      for (guint i = 0; i < G_N_ELEMENTS (positions); i++)
        {
          char *name = g_strnfill (length, 'm');

          name[positions[i]] = 'x';
          if (!g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL))
            g_ptr_array_add (names, name);
          else
            g_free (name);
        }
      for (guint i = 0; i < names->len; i++)
        g_string_append_printf (text, "%s\"%s\": \"v%u\"", i > 0 ? ", " : "",
                                (char *) names->pdata[i], i);
      g_string_append (text, "}]}");

      page = rd_graph_page_new_take (g_bytes_new (text->str, text->len), &error);
      g_assert_no_error (error);

      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *expected = g_strdup_printf ("v%u", i);
          RdGraphPageName name = { names->pdata[i], length };
          const char *value = NULL;

          g_assert_cmpstr (rd_graph_page_get_string (page, 0, names->pdata[i]), ==, expected);
          rd_graph_page_get_strings (page, 0, &name, 1, &value);
          g_assert_cmpstr (value, ==, expected);
        }

      {
        g_autofree char *longer = g_strnfill (length + 1, 'm');
        g_autofree char *shorter = g_strnfill (length - 1, 'm');

        g_assert_null (rd_graph_page_get_string (page, 0, longer));
        g_assert_null (rd_graph_page_get_string (page, 0, shorter));
      }
    }
}

static void
test_members (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphPage) page = NULL;
  g_autoptr (JsonNode) states = NULL;
  g_autoptr (JsonNode) number = NULL;
  gboolean value = FALSE;

  page = read_page (" {\"@odata.context\": \"x\", \"value\": [\n"
                    "  {\"id\": \"a\\\"b\\\\c\\/d\\n\", \"name\": \"\\u00d6lund \\ud83d\\ude00\","
                    "   \"empty\": \"\", \"nothing\": null, \"yes\": true, \"no\": false,"
                    "   \"n\": -1.5e3, \"states\": [\"x\", {\"y\": [1, \"\\u0041\"]}]},"
                    "  42,"
                    "  {}"
                    "], \"@odata.nextLink\": \"http://127.0.0.1/next?$skiptoken=a%2Cb\"}\n",
                    &error);
  g_assert_no_error (error);
  g_assert_nonnull (page);

  g_assert_cmpuint (rd_graph_page_get_n_items (page), ==, 3);
  g_assert_cmpstr (rd_graph_page_get_next_link (page), ==,
                   "http://127.0.0.1/next?$skiptoken=a%2Cb");
  g_assert_true (rd_graph_page_is_object (page, 0));
  g_assert_false (rd_graph_page_is_object (page, 1));
  g_assert_true (rd_graph_page_is_object (page, 2));

  g_assert_cmpstr (rd_graph_page_get_string (page, 0, "id"), ==, "a\"b\\c/d\n");
  g_assert_cmpstr (rd_graph_page_get_string (page, 0, "name"), ==, "Ölund 😀");
  /* Empty, null, missing and non-string members are all "no string". */
  g_assert_null (rd_graph_page_get_string (page, 0, "empty"));
  g_assert_null (rd_graph_page_get_string (page, 0, "nothing"));
  g_assert_null (rd_graph_page_get_string (page, 0, "missing"));
  g_assert_null (rd_graph_page_get_string (page, 0, "yes"));
  g_assert_null (rd_graph_page_get_string (page, 2, "id"));

  /* Several at once, in any order, as one at a time. */
  {
    const RdGraphPageName names[] = {
      RD_GRAPH_PAGE_NAME ("nothing"), RD_GRAPH_PAGE_NAME ("name"),  RD_GRAPH_PAGE_NAME ("id"),
      RD_GRAPH_PAGE_NAME ("missing"), RD_GRAPH_PAGE_NAME ("empty"), RD_GRAPH_PAGE_NAME ("yes"),
      RD_GRAPH_PAGE_NAME ("name"),
    };
    const char *values[G_N_ELEMENTS (names)];

    for (guint item = 0; item < 3; item += 2)
      {
        rd_graph_page_get_strings (page, item, names, G_N_ELEMENTS (names), values);
        for (guint i = 0; i < G_N_ELEMENTS (names); i++)
          g_assert_cmpstr (values[i], ==, rd_graph_page_get_string (page, item, names[i].name));
      }
    g_assert_cmpstr (values[1], ==, NULL);
    rd_graph_page_get_strings (page, 0, names, G_N_ELEMENTS (names), values);
    g_assert_cmpstr (values[2], ==, "a\"b\\c/d\n");
    g_assert_cmpstr (values[6], ==, "Ölund 😀");
  }

  g_assert_true (rd_graph_page_get_boolean (page, 0, "yes", &value));
  g_assert_true (value);
  g_assert_true (rd_graph_page_get_boolean (page, 0, "no", &value));
  g_assert_false (value);
  g_assert_false (rd_graph_page_get_boolean (page, 0, "id", &value));

  /* Nested values keep their text, escapes included. */
  states = rd_graph_page_dup_node (page, 0, "states");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (states));
  g_assert_cmpstr (json_array_get_string_element (json_node_get_array (states), 0), ==, "x");
  number = rd_graph_page_dup_node (page, 0, "n");
  g_assert_cmpfloat (json_node_get_double (number), ==, -1500.0);
  g_assert_null (rd_graph_page_dup_node (page, 0, "missing"));
}

static void
test_last_page (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphPage) page = read_page ("{\"value\":[],\"@odata.nextLink\":null}", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (rd_graph_page_get_n_items (page), ==, 0);
  g_assert_null (rd_graph_page_get_next_link (page));
}

static char *
peek (const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return rd_graph_page_peek_next_link (bytes);
}

/* The quick look at a page's next link, before the page is read: what it
 * sees, it sees right, for every page that reads. */
static void
test_peek_next_link (void)
{
  static const struct
  {
    const char *page;
    const char *link; /* what the peek sees */
  } pages[] = {
    { "{\"value\":[{\"id\":\"a\"}],\"@odata.nextLink\":\"https://h/v1.0/x?$skiptoken=1\"}",
      "https://h/v1.0/x?$skiptoken=1" },
    { " { \"value\" : [ ] , \"@odata.nextLink\" :\n \"https://h/2\" } \n", "https://h/2" },
    { "{\"@odata.context\":\"c\",\"@odata.count\":-1.5e3,\"@odata.nextLink\":\"https://h/3\","
      "\"value\":[]}",
      "https://h/3" },
    { "{\"@odata.nextLink\":\"https://h/4\",\"value\":[{\"@odata.nextLink\":\"https://h/no\"}]}",
      "https://h/4" },
    /* Not seen: escapes, null, none, a link only inside an item, after a
     * member that is not plain, or not last. */
    { "{\"value\":[],\"@odata.nextLink\":\"https:\\/\\/h\\/5\"}", NULL },
    { "{\"value\":[],\"@odata.nextLink\":null}", NULL },
    { "{\"value\":[]}", NULL },
    { "{\"value\":[{\"id\":\"a\",\"@odata.nextLink\":\"https://h/no\"}]}", NULL },
    { "{\"x\":{\"y\":1},\"@odata.nextLink\":\"https://h/6\",\"value\":[]}", NULL },
    { "{\"value\":[],\"@odata.nextLink\":\"https://h/7\",\"@odata.count\":0}", NULL },
    { "{\"value\":[],\"x\":\"\\\"@odata.nextLink\\\":\\\"https://h/no\"}", NULL },
    /* Two links: the peek sees the first, the page means the last. */
    { "{\"@odata.nextLink\":\"https://h/first\",\"value\":[],"
      "\"@odata.nextLink\":\"https://h/last\",\"@odata.count\":0}",
      "https://h/first" },
  };
  /* Pages that do not read: what the peek says does not matter, but it
   * reads nothing outside them. */
  static const char *const broken[] = {
    "",
    "\"",
    "}",
    "\"}",
    ":\"x\"}",
    "\"@odata.nextLink\":\"x\"}",
    "{\"@odata.nextLink\"",
    "{\"@odata.nextLink\":",
    "{\"@odata.nextLink\":\"x",
    "{\"@odata.count\":1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RdGraphPage) page = read_page (pages[i].page, &error);
      g_autofree char *link = peek (pages[i].page);

      g_test_message ("%s", pages[i].page);
      g_assert_no_error (error);
      g_assert_cmpstr (link, ==, pages[i].link);
      if (link != NULL && i < G_N_ELEMENTS (pages) - 1)
        g_assert_cmpstr (link, ==, rd_graph_page_get_next_link (page));
    }

  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      /* Exactly as long as the text, no NUL after it. */
      gsize length = strlen (broken[i]);
      g_autoptr (GBytes) bytes = g_bytes_new_take (g_memdup2 (broken[i], length), length);
      g_autofree char *link = rd_graph_page_peek_next_link (bytes);

      g_assert_true (link == NULL || g_str_equal (link, "x"));
    }
}

static void
test_invalid (void)
{
  static const char *const syntax[] = {
    "",
    "{",
    "{\"value\": [",
    "{\"value\": [{\"id\": \"a\"}]",
    "{\"value\": [{\"id\": \"a\"}]} x",
    "{\"value\": [{\"id\": \"a\"},]}",
    "{\"value\": [{\"id\" \"a\"}]}",
    "{\"value\": [{\"id\": 'a'}]}",
    "{\"value\": [{\"id\": \"a\tb\"}]}",
    "{\"value\": [{\"id\": \"\\x\"}]}",
    "{\"value\": [{\"id\": \"\\u12\"}]}",
    "{\"value\": [{\"id\": \"\\ud83d\"}]}",
    "{\"value\": [{\"id\": \"\\ude00\"}]}",
    "{\"value\": [{\"id\": \"\\u0000\"}]}",
    "{\"value\": [{\"id\": \"\xc3\x28\"}]}",
    "{\"value\": [{\"n\": 01}]}",
    "{\"value\": [{\"n\": 1.}]}",
    "{\"value\": [{\"n\": -}]}",
    "{\"value\": [{\"b\": tru}]}",
    "{\"value\": [{\"x\": [1, 2}]}",
    "[]",
  };
  static const char *const shape[] = {
    "{}",
    "{\"value\": {}}",
    "{\"value\": [], \"@odata.nextLink\": 3}",
  };
  g_autoptr (GString) deep = g_string_new ("{\"value\": [{\"x\": ");

  for (guint i = 0; i < G_N_ELEMENTS (syntax); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("%s", syntax[i]);
      g_assert_null (read_page (syntax[i], &error));
      g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);
    }

  for (guint i = 0; i < G_N_ELEMENTS (shape); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_null (read_page (shape[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }

  /* Nesting is bounded, not a stack overflow. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (read_page (deep->str, &error));
    g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);
  }
}

/* The mapper reads a page item as it reads the same JsonObject. */
static void
test_mapper (void)
{
  static const char text[] =
    "{\"value\": [{\"id\": \"d1\", \"deviceName\": \"PC-\\u00c5SA\", \"operatingSystem\": "
    "\"Windows\", \"osVersion\": \"10.0.19045.3803\", \"complianceState\": \"noncompliant\", "
    "\"managedDeviceOwnerType\": \"personal\", \"joinType\": \"hybridAzureADJoined\", "
    "\"managementState\": \"wipePending\", \"isEncrypted\": false, \"serialNumber\": \"\", "
    "\"enrolledDateTime\": \"2024-01-02T03:04:05Z\", \"lastSyncDateTime\": "
    "\"0001-01-01T00:00:00Z\", \"userPrincipalName\": null}, {\"deviceName\": \"no id\"}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphPage) page = read_page (text, &error);
  g_autoptr (JsonNode) root = json_from_string (text, &error);
  JsonArray *items = json_object_get_array_member (json_node_get_object (root), "value");
  g_autoptr (RdDevice) from_page = NULL;
  g_autoptr (RdDevice) from_object = NULL;
  g_autoptr (JsonNode) a = NULL;
  g_autoptr (JsonNode) b = NULL;

  g_assert_no_error (error);
  from_page = rd_device_mapper_device_from_page (page, 0);
  from_object = rd_device_mapper_device_from_graph (json_array_get_object_element (items, 0));
  a = rd_device_to_json (from_page);
  b = rd_device_to_json (from_object);
  g_assert_true (json_node_equal (a, b));
  g_assert_cmpstr (rd_device_get_name (from_page), ==, "PC-ÅSA");
  g_assert_cmpint (rd_device_get_join_type (from_page), ==, RD_JOIN_TYPE_HYBRID_JOINED);
  g_assert_cmpint (rd_device_get_encrypted (from_page), ==, RD_TRISTATE_NO);
  g_assert_null (rd_device_get_serial (from_page));
  g_assert_null (rd_device_get_last_sync (from_page));
  g_assert_nonnull (rd_device_get_enrolled (from_page));
  g_assert_null (rd_device_mapper_device_from_page (page, 1));
}

/* The sync builds Windows devices only, and counts the others. */
static void
test_mapper_windows (void)
{
  static const char text[] =
    "{\"value\": [{\"id\": \"d1\", \"deviceName\": \"PC\", \"operatingSystem\": \"WINDOWS\","
    " \"osVersion\": \"10.0.22631.1\"}, {\"id\": \"d2\", \"operatingSystem\": \"iOS\"},"
    " {\"id\": \"d3\"}, {\"operatingSystem\": \"Windows\"}, 7,"
    " {\"id\": \"d4\", \"operatingSystem\": \"Win\"}]}";
  static const struct
  {
    gboolean built;
    gboolean other_os;
  } expected[] = {
    { TRUE, FALSE }, { FALSE, TRUE }, { FALSE, TRUE }, { FALSE, FALSE }, { FALSE, FALSE },
    { FALSE, TRUE },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (RdGraphPage) page = read_page (text, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (rd_graph_page_get_n_items (page), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr (RdDevice) all = rd_device_mapper_device_from_page (page, i);
      g_autoptr (RdDevice) device = NULL;
      gboolean other_os = !expected[i].other_os;

      device = rd_device_mapper_windows_device_from_page (page, i, &other_os);
      g_assert_cmpint (device != NULL, ==, expected[i].built);
      g_assert_cmpint (other_os, ==, expected[i].other_os);
      /* The same as rd_device_is_windows() says of the whole device. */
      g_assert_cmpint (all != NULL && rd_device_is_windows (all), ==, expected[i].built);
      g_assert_cmpint (all != NULL && !rd_device_is_windows (all), ==, expected[i].other_os);
      if (device != NULL)
        {
          g_autoptr (JsonNode) a = rd_device_to_json (device);
          g_autoptr (JsonNode) b = rd_device_to_json (all);

          g_assert_true (json_node_equal (a, b));
        }
    }
}

/* Strings are read eight bytes at a time: every kind of byte that ends or
 * breaks a plain run, at every place in and around such a word, reads as
 * json-glib reads it, or is refused where json-glib (after the client's
 * UTF-8 check) or RFC 8259 refuses it. */
static void
test_strings (void)
{
  static const struct
  {
    const char *text;
    gboolean rfc; /* allowed inside a JSON string */
  } specials[] = {
    { "\\\"", TRUE }, { "\\\\", TRUE }, { "\\n", TRUE }, { "\\u00e9", TRUE },
    { "\\ud83d\\ude00", TRUE }, { "é", TRUE }, { "😀", TRUE }, { "\x7f", TRUE },
    { "\\x", FALSE }, { "\x01", FALSE }, { "\x1f", FALSE }, { "\t", FALSE },
    { "\xff", FALSE }, { "\xc3", FALSE }, { "\xc3(", FALSE }, { "\"", FALSE },
  };

  for (guint length = 0; length < 40; length++)
    for (guint at = 0; at <= length; at++)
      for (guint k = 0; k < G_N_ELEMENTS (specials); k++)
        {
          g_autoptr (GString) text = g_string_new ("{\"value\": [{\"s\": \"");
          g_autoptr (JsonParser) parser = json_parser_new ();
          g_autoptr (RdGraphPage) page = NULL;
          g_autoptr (GError) error = NULL;
          gboolean valid;

          for (guint i = 0; i < at; i++)
            g_string_append_c (text, 'A' + i % 26);
          g_string_append (text, specials[k].text);
          for (guint i = at; i < length; i++)
            g_string_append_c (text, 'a' + i % 26);
          g_string_append (text, "\"}]}");

          valid = g_utf8_validate (text->str, text->len, NULL) &&
                  json_parser_load_from_data (parser, text->str, text->len, NULL);
          page = read_page (text->str, &error);
          if (!valid || !specials[k].rfc)
            {
              g_assert_null (page);
              g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA);
              continue;
            }
          g_assert_no_error (error);
          {
            JsonObject *root = json_node_get_object (json_parser_get_root (parser));
            JsonArray *items = json_object_get_array_member (root, "value");
            const char *expected = json_object_get_string_member (
              json_array_get_object_element (items, 0), "s");
            g_autoptr (RdGraphPage) taken = NULL;

            g_assert_cmpstr (rd_graph_page_get_string (page, 0, "s"), ==, expected);

            /* Read in the body's own memory, which ends with no NUL. */
            taken = rd_graph_page_new_take (g_bytes_new (text->str, text->len), &error);
            g_assert_no_error (error);
            g_assert_cmpstr (rd_graph_page_get_string (taken, 0, "s"), ==, expected);
          }
        }
}

/* advancedBitLockerStates: one flag among others, without case, around
 * white space. */
static void
test_winre_flags (void)
{
  static const struct
  {
    const char *flags;
    RdWinreState state;
  } rows[] = {
    { "windowsRecoveryEnvironmentNotConfigured", RD_WINRE_STATE_NOT_CONFIGURED },
    { "success", RD_WINRE_STATE_CONFIGURED },
    { "tpmNotReady, windowsRecoveryEnvironmentNotConfigured", RD_WINRE_STATE_NOT_CONFIGURED },
    { " \tWindowsRecoveryEnvironmentNotConfigured\n ,x", RD_WINRE_STATE_NOT_CONFIGURED },
    { "x,,windowsrecoveryenvironmentnotconfigured,", RD_WINRE_STATE_NOT_CONFIGURED },
    { "xwindowsRecoveryEnvironmentNotConfigured", RD_WINRE_STATE_CONFIGURED },
    { "windowsRecoveryEnvironmentNotConfiguredx, y", RD_WINRE_STATE_CONFIGURED },
    { "windowsRecovery EnvironmentNotConfigured", RD_WINRE_STATE_CONFIGURED },
    { ",", RD_WINRE_STATE_CONFIGURED },
    { "", RD_WINRE_STATE_UNKNOWN },
    { NULL, RD_WINRE_STATE_UNKNOWN },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_assert_cmpint (rd_device_mapper_winre_state_from_string (rows[i].flags), ==, rows[i].state);
}

/* Dates as g_date_time_new_from_iso8601() reads them, "never" as none: the
 * same instant, kept in UTC. */
static void
test_dates (void)
{
  static const char *const dates[] = {
    "2024-01-02T03:04:05Z",  "1999-12-31T23:59:59Z",  "2024-02-29T12:00:00Z",
    "2023-02-29T12:00:00Z",  "2024-13-01T00:00:00Z",  "2024-01-01T24:00:00Z",
    "2024-01-01T00:60:00Z",  "2024-01-01T00:00:60Z",  "2024-01-02T03:04:05.1234567Z",
    "2024-01-02T03:04:05+02:00", "2024-01-02T03:04:05", "2024-01-02 03:04:05Z",
    "0001-01-01T00:00:00Z",  "2024-1-02T03:04:05Z",   "2024-01-02T03:04:05Zx",
    "yesterday",             "2024-02-29T23:59:59+00:00", "1969-12-31T23:59:59.999Z",
    "2000-02-29T00:00:00-01:00", "2100-02-29T00:00:00Z", "2024-12-31T23:59:59z",
  };
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

  for (guint i = 0; i < G_N_ELEMENTS (dates); i++)
    {
      g_autofree char *text = g_strdup_printf (
        "{\"value\": [{\"id\": \"d\", \"enrolledDateTime\": \"%s\"}]}", dates[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (RdGraphPage) page = read_page (text, &error);
      g_autoptr (RdDevice) device = NULL;
      g_autoptr (GDateTime) expected = g_date_time_new_from_iso8601 (dates[i], utc);
      GDateTime *enrolled;

      g_assert_no_error (error);
      device = rd_device_mapper_device_from_page (page, 0);
      enrolled = rd_device_get_enrolled (device);
      if (expected == NULL || g_date_time_get_year (expected) <= 1)
        g_assert_null (enrolled);
      else
        {
          g_assert_nonnull (enrolled);
          g_assert_true (g_date_time_equal (enrolled, expected));
          g_assert_cmpint (g_date_time_get_utc_offset (enrolled), ==, 0);
          g_assert_cmpint (rd_device_get_enrolled_usec (device), ==,
                           g_date_time_to_unix (expected) * G_USEC_PER_SEC +
                             g_date_time_get_microsecond (expected));
        }
    }
}

/* The plain UTC dates the mapper counts itself, against
 * g_date_time_new_from_iso8601() on every day of the years around each
 * leap rule and the ends of the range, days 0 and 29 to 32 of each month
 * included, and random times. */
static void
test_dates_calendar (void)
{
  static const int years[] = { 0,    1,    2,    3,    4,    99,   100,  101,  399,
                               400,  1582, 1600, 1700, 1900, 1969, 1970, 1971, 1972,
                               2000, 2023, 2024, 2038, 2100, 2400, 9998, 9999 };
  static const char *const times[] = { "00:00:00", "23:59:59", "12:34:56", "00:00:01" };
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  GRand *rand = g_rand_new_with_seed (20261125);
  guint checked = 0;

  for (guint y = 0; y < G_N_ELEMENTS (years); y++)
    for (int month = 0; month <= 13; month++)
      for (int day = 0; day <= 32; day++)
        {
          g_autofree char *date = NULL;
          g_autofree char *text = NULL;
          g_autoptr (RdGraphPage) page = NULL;
          g_autoptr (RdDevice) device = NULL;
          g_autoptr (GDateTime) expected = NULL;
          g_autoptr (GError) error = NULL;
          GDateTime *enrolled;

          if (day % 2 == 0)
            date = g_strdup_printf ("%04d-%02d-%02dT%s", years[y], month, day,
                                    times[(month + day) % G_N_ELEMENTS (times)]);
          else
            date = g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d", years[y], month, day,
                                    g_rand_int_range (rand, 0, 24), g_rand_int_range (rand, 0, 60),
                                    g_rand_int_range (rand, 0, 60));
          text = g_strdup_printf ("{\"value\": [{\"id\": \"d\", \"enrolledDateTime\": \"%sZ\"}]}",
                                  date);
          page = read_page (text, &error);
          g_assert_no_error (error);
          device = rd_device_mapper_device_from_page (page, 0);
          enrolled = rd_device_get_enrolled (device);

          g_free (text);
          text = g_strconcat (date, "Z", NULL);
          expected = g_date_time_new_from_iso8601 (text, utc);
          if (expected == NULL || g_date_time_get_year (expected) <= 1)
            {
              g_assert_null (enrolled);
              continue;
            }
          g_assert_nonnull (enrolled);
          if (!g_date_time_equal (enrolled, expected))
            g_error ("%s read as %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT, text,
                     g_date_time_to_unix (enrolled), g_date_time_to_unix (expected));
          g_assert_cmpint (g_date_time_get_utc_offset (enrolled), ==, 0);
          g_assert_cmpint (g_date_time_get_year (enrolled), ==, years[y]);
          g_assert_cmpint (g_date_time_get_month (enrolled), ==, month);
          g_assert_cmpint (g_date_time_get_day_of_month (enrolled), ==, day);
          checked++;
        }

  /* Every valid day of the years listed, less year 0 and 1. */
  g_assert_cmpuint (checked, ==, 24 * 365 + 7);
  g_rand_free (rand);
}

/* Graph's enum names map in its own spelling (the strcmp() path) and in
 * any other case (the g_ascii_strcasecmp() path) alike. */
static void
test_enum_names (void)
{
  static const struct
  {
    const char *name;
    int value;
  } join[] = {
    { "azureADJoined", RD_JOIN_TYPE_ENTRA_JOINED },
    { "hybridAzureADJoined", RD_JOIN_TYPE_HYBRID_JOINED },
    { "azureADRegistered", RD_JOIN_TYPE_ENTRA_REGISTERED },
    { "HybridAzureADJoined", RD_JOIN_TYPE_HYBRID_JOINED },
    { "AZUREADREGISTERED", RD_JOIN_TYPE_ENTRA_REGISTERED },
    { "azureadjoined", RD_JOIN_TYPE_ENTRA_JOINED },
    { "azureADJoinedX", RD_JOIN_TYPE_UNKNOWN },
    { "azureADJoine", RD_JOIN_TYPE_UNKNOWN },
    { "", RD_JOIN_TYPE_UNKNOWN },
  };

  for (guint i = 0; i < G_N_ELEMENTS (join); i++)
    g_assert_cmpint (rd_device_mapper_join_type_from_graph (join[i].name), ==, join[i].value);

  g_assert_cmpint (rd_device_mapper_compliance_from_graph ("noncompliant"), ==,
                   RD_COMPLIANCE_NONCOMPLIANT);
  g_assert_cmpint (rd_device_mapper_compliance_from_graph ("NonCompliant"), ==,
                   RD_COMPLIANCE_NONCOMPLIANT);
  g_assert_cmpint (rd_device_mapper_compliance_from_graph ("Compliant"), ==,
                   RD_COMPLIANCE_COMPLIANT);
  g_assert_cmpint (rd_device_mapper_management_state_from_graph ("WIPEPENDING"), ==,
                   RD_MANAGEMENT_STATE_WIPE_PENDING);
  g_assert_cmpint (rd_device_mapper_owner_type_from_graph ("Company"), ==,
                   RD_OWNER_TYPE_COMPANY);
  g_assert_cmpint (rd_device_mapper_readiness_from_graph ("NOTREADY"), ==,
                   RD_ENCRYPTION_READINESS_NOT_READY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/graph-page/members", test_members);
  g_test_add_func ("/rd/graph-page/member-names", test_member_names);
  g_test_add_func ("/rd/graph-page/last-page", test_last_page);
  g_test_add_func ("/rd/graph-page/invalid", test_invalid);
  g_test_add_func ("/rd/graph-page/peek-next-link", test_peek_next_link);
  g_test_add_func ("/rd/graph-page/mapper", test_mapper);
  g_test_add_func ("/rd/graph-page/mapper-windows", test_mapper_windows);
  g_test_add_func ("/rd/graph-page/strings", test_strings);
  g_test_add_func ("/rd/graph-page/dates", test_dates);
  g_test_add_func ("/rd/graph-page/dates-calendar", test_dates_calendar);
  g_test_add_func ("/rd/graph-page/enum-names", test_enum_names);
  g_test_add_func ("/rd/graph-page/winre-flags", test_winre_flags);

  return g_test_run ();
}
