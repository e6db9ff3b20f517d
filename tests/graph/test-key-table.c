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

  return g_test_run ();
}
