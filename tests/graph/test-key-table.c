/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-key-table-private.h"

#include <string.h>

static void
key_for (RdKey      *key,
         const char *text)
{
  rd_key_init (key, text, strlen (text));
}

/* RdKeyTable against a GHashTable, as it grows from empty: the same
 * answers for every key added, one at a time or a page at a time, and
 * none for keys never added. Keys of ids, serials, and some longer than an
 * entry holds. */
static void
test_reference (void)
{
  g_autoptr (RdKeyTable) table = rd_key_table_new ();
  g_autoptr (GHashTable) reference = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  GRand *rand = g_rand_new_with_seed (42);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < 60000; i++)
    {
      guint kind = g_rand_int_range (rand, 0, 10);
      char *text;
      RdKey k;
      gboolean added;
      gpointer *slot;

      if (kind < 5)
        text = g_strdup_printf ("%08x-1111-4000-8000-%012x", g_rand_int_range (rand, 0, 30000),
                                i % 7);
      else if (kind < 9)
        text = g_strdup_printf ("SN%u", g_rand_int_range (rand, 0, 20000));
      else
        text = g_strdup_printf ("a serial number longer than an entry holds, %u",
                                g_rand_int_range (rand, 0, 3000));
      g_ptr_array_add (texts, text);

      /* Every 1000 keys, room for the next 1000 at once. */
      if (i % 1000 == 0)
        rd_key_table_reserve (table, 1000);
      key_for (&k, text);
      slot = rd_key_table_lookup_or_add (table, &k, &added);
      g_assert_cmpint (added, ==, !g_hash_table_contains (reference, text));
      if (added)
        g_assert_null (*slot);
      else
        g_assert_true (*slot == g_hash_table_lookup (reference, text));
      *slot = GUINT_TO_POINTER (i + 1);
      g_hash_table_replace (reference, g_strdup (text), GUINT_TO_POINTER (i + 1));
    }
  g_assert_cmpuint (rd_key_table_get_size (table), ==, g_hash_table_size (reference));

  g_hash_table_iter_init (&iter, reference);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      RdKey k;

      key_for (&k, key);
      g_assert_true (rd_key_table_lookup (table, &k) == value);
    }

  /* A page of keys at a time, half of them never added. */
  for (guint page = 0; page < 20; page++)
    {
      RdKey keys[500];
      gpointer values[G_N_ELEMENTS (keys)];
      g_autoptr (GPtrArray) absent = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        {
          const char *text;

          if (i % 2 == 0)
            text = g_ptr_array_index (texts, g_rand_int_range (rand, 0, (gint32) texts->len));
          else
            {
              text = g_strdup_printf ("%08x-1111-4000-8000-%012x", 40000 + page * 500 + i, i % 7);
              g_ptr_array_add (absent, (gpointer) text);
            }
          key_for (&keys[i], text);
        }
      rd_key_table_lookup_many (table, keys, G_N_ELEMENTS (keys), values);
      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        g_assert_true (values[i] == g_hash_table_lookup (reference, keys[i].key));
    }

  g_rand_free (rand);
}

/* Tables grown one key at a time, and by reservations, from empty to
 * sizes on both sides of the mapped ones: after every key, the keys added
 * so far are all found (a table that grows places its entries again in
 * place, where a run of full slots may wrap from the last slot to the
 * first), and a key never added is not. */
static void
test_growth (void)
{
  GRand *rand = g_rand_new_with_seed (7);

  for (guint round = 0; round < 40; round++)
    {
      g_autoptr (RdKeyTable) table = rd_key_table_new ();
      g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      guint n = round < 36 ? (guint) g_rand_int_range (rand, 1, 3000) : 40000 + round * 1000;
      guint checked = 0;

      for (guint i = 0; i < n; i++)
        {
          RdKey k;
          gboolean added;

          g_ptr_array_add (
            texts, g_strdup_printf ("%08x-%04x-4000-8000-%012x", g_rand_int (rand), round, i));
          if (round % 3 == 0 && i % 500 == 0)
            rd_key_table_reserve (table, g_rand_int_range (rand, 1, 2000));
          key_for (&k, texts->pdata[i]);
          *rd_key_table_lookup_or_add (table, &k, &added) = GUINT_TO_POINTER (i + 1);
          g_assert_true (added);

          /* Every key after each of the first doublings, then now and then. */
          if (i < 2000 || i % 4096 == 0 || i == n - 1)
            {
              for (guint j = (i < 2000 ? 0 : checked); j <= i; j++)
                {
                  key_for (&k, texts->pdata[j]);
                  g_assert_cmpuint (GPOINTER_TO_UINT (rd_key_table_lookup (table, &k)), ==, j + 1);
                }
              checked = i < 2000 ? 0 : i;
            }
        }

      for (guint j = 0; j < n; j++)
        {
          RdKey k;

          key_for (&k, texts->pdata[j]);
          g_assert_cmpuint (GPOINTER_TO_UINT (rd_key_table_lookup (table, &k)), ==, j + 1);
        }
      {
        RdKey k;

        key_for (&k, "00000000-0000-4000-8000-000000000000");
        g_assert_null (rd_key_table_lookup (table, &k));
      }
      g_assert_cmpuint (rd_key_table_get_size (table), ==, n);
    }

  g_rand_free (rand);
}

/* The first growth of a table (64 slots to 128) with runs of full slots
 * that wrap from the last slot to the first, before and after: keys whose
 * home is one of the last slots in both sizes, and keys whose home is one
 * of the first. Every key is still found. */
static void
test_growth_wrap (void)
{
  g_autoptr (RdKeyTable) table = rd_key_table_new ();
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  guint at_end = 0, at_start = 0;

  for (guint i = 0; at_end < 26 || at_start < 24; i++)
    {
      g_autofree char *text = g_strdup_printf ("SN%u", i);
      RdKey k;
      guint home;
      gboolean added;

      key_for (&k, text);
      /* The slot a key goes to first in a table of 128 (see place()). */
      home = (guint) ((k.hash >> 1) & 127);
      if (home >= 124 && at_end < 26)
        at_end++;
      else if (home <= 2 && at_start < 24)
        at_start++;
      else
        continue;
      *rd_key_table_lookup_or_add (table, &k, &added) = GUINT_TO_POINTER (texts->len + 1);
      g_assert_true (added);
      g_ptr_array_add (texts, g_steal_pointer (&text));
    }

  /* 50 keys fill 64 slots up to their limit; the next one doubles them. */
  for (guint i = 0; i < 10; i++)
    {
      char *text = g_strdup_printf ("more-%u", i);
      RdKey k;
      gboolean added;

      key_for (&k, text);
      *rd_key_table_lookup_or_add (table, &k, &added) = GUINT_TO_POINTER (texts->len + 1);
      g_ptr_array_add (texts, text);
    }

  for (guint j = 0; j < texts->len; j++)
    {
      RdKey k;

      key_for (&k, texts->pdata[j]);
      g_assert_cmpuint (GPOINTER_TO_UINT (rd_key_table_lookup (table, &k)), ==, j + 1);
    }
  g_assert_cmpuint (rd_key_table_get_size (table), ==, texts->len);
}

/* A key is its bytes up to its length, copied: the text it came from may
 * go on, and may go away. */
static void
test_lengths (void)
{
  g_autoptr (RdKeyTable) table = rd_key_table_new ();
  g_autofree char *text = g_strdup ("SERIAL-123 and more");
  RdKey k;
  gboolean added;

  rd_key_init (&k, text, 10);
  g_assert_true (rd_key_table_lookup_or_add (table, &k, &added) != NULL);
  g_assert_true (added);
  *rd_key_table_lookup_or_add (table, &k, &added) = GINT_TO_POINTER (1);
  g_assert_false (added);
  rd_key_init (&k, text, 8);
  *rd_key_table_lookup_or_add (table, &k, &added) = GINT_TO_POINTER (2);
  g_assert_true (added);
  g_clear_pointer (&text, g_free);

  key_for (&k, "SERIAL-123");
  g_assert_cmpint (GPOINTER_TO_INT (rd_key_table_lookup (table, &k)), ==, 1);
  key_for (&k, "SERIAL-1");
  g_assert_cmpint (GPOINTER_TO_INT (rd_key_table_lookup (table, &k)), ==, 2);
  key_for (&k, "SERIAL-12");
  g_assert_null (rd_key_table_lookup (table, &k));
  key_for (&k, "");
  g_assert_null (rd_key_table_lookup (table, &k));
  g_assert_cmpuint (rd_key_table_get_size (table), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/key-table/reference", test_reference);
  g_test_add_func ("/rd/key-table/lengths", test_lengths);
  g_test_add_func ("/rd/key-table/growth", test_growth);
  g_test_add_func ("/rd/key-table/growth-wrap", test_growth_wrap);

  return g_test_run ();
}
