/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-device.h"
#include "rd-device-private.h"

#include <locale.h>
#include <string.h>

/* The sort key of a device is made without GLib for ASCII names (a fast
 * path for the sync, which makes 100,000 of them); these tests hold it to
 * what GLib makes, byte for byte and in the order it gives. */

/* Locales to try besides the test's own; those not installed are skipped. */
static const char *const locales[] = {
  "C.UTF-8", "C", "POSIX", "en_US.UTF-8", "de_DE.UTF-8", "sv_SE.UTF-8", "tr_TR.UTF-8",
};

static const char *const tricky[] = {
  "",
  " ",
  "  ",
  "a",
  "A",
  "Z",
  "z",
  "_",
  "-",
  "~",
  "\x7f",
  "\x01",
  "\t",
  "0",
  "9",
  "a b",
  "a-b",
  "a_b",
  "ab",
  "a.b",
  "A-B",
  "aB",
  "Ab",
  "AB",
  "b",
  "PC-9",
  "PC-10",
  "pc-10",
  "PC 10",
  "PC10",
  "FAB-ENG-040112",
  "fab-eng-040112",
  "FAB-ENG-04011",
  "FAB-ENG-0401120",
  "DESKTOP-1A2B3C",
  "LAPTOP-ZZZ",
  "@home",
  "[x]",
  "{x}",
  "x|y",
  "back\\slash",
  "q\"uote",
  "it's",
  "a,b",
  "a;b",
  "1+1=2",
  "100%",
  "#1",
  "$PC",
  "^",
  "`",
  "?",
  /* Not ASCII: GLib's own path. */
  "FIN-LT-Ölund",
  "fin-lt-ölund",
  "FIN-LT-Olund",
  "straße",
  "STRASSE",
  "ﬁle",
  "file",
  "Å-PC",
  "A\xcc\x8a-PC",
  "ä",
  "z-PC",
  "東京-PC",
  "ｆｕｌｌ",
  "full",
};

static char *
expected_key (const char *name)
{
  g_autofree char *folded = g_utf8_casefold (name, -1);

  return g_utf8_collate_key (folded, -1);
}

/* Names like the demo tenant's and admins' own: letters of both cases,
 * digits, punctuation, spaces, and now and then a letter outside ASCII. */
static char *
random_name (GRand *rand)
{
  static const char *const extra[] = { "ö", "é", "ß", "Å", "ı", "İ" };
  GString *name = g_string_new (NULL);
  int length = g_rand_int_range (rand, 0, 24);

  for (int i = 0; i < length; i++)
    {
      int pick = g_rand_int_range (rand, 0, 100);

      if (pick < 2)
        g_string_append (name, extra[g_rand_int_range (rand, 0, G_N_ELEMENTS (extra))]);
      else if (pick < 30)
        g_string_append_c (name, (char) g_rand_int_range (rand, 'A', 'Z' + 1));
      else if (pick < 50)
        g_string_append_c (name, (char) g_rand_int_range (rand, 'a', 'z' + 1));
      else if (pick < 75)
        g_string_append_c (name, (char) g_rand_int_range (rand, '0', '9' + 1));
      else
        g_string_append_c (name, (char) g_rand_int_range (rand, 1, 0x80));
    }

  return g_string_free (name, FALSE);
}

static GPtrArray *
make_names (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GString *all_ascii = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tricky); i++)
    g_ptr_array_add (names, g_strdup (tricky[i]));

  /* Every ASCII byte, and lengths around the fast path's limit of 127. */
  for (int c = 1; c < 0x80; c++)
    g_string_append_c (all_ascii, (char) c);
  g_ptr_array_add (names, g_string_free (all_ascii, FALSE));
  for (guint length = 120; length <= 130; length++)
    {
      g_ptr_array_add (names, g_strnfill (length, 'Q'));
      g_ptr_array_add (names, g_strnfill (length, '-'));
    }
  g_ptr_array_add (names, g_strnfill (400, 'w'));

  for (guint i = 0; i < 3000; i++)
    g_ptr_array_add (names, random_name (rand));

  return names;
}

static GPtrArray *
make_devices (GPtrArray *names)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *id = g_strdup_printf ("id-%u", i);

      g_ptr_array_add (devices, rd_device_new (id, g_ptr_array_index (names, i)));
    }

  return devices;
}

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  RdDevice *device_a = *(RdDevice **) a;
  RdDevice *device_b = *(RdDevice **) b;

  return strcmp (_rd_device_get_sort_key (device_a), _rd_device_get_sort_key (device_b));
}

static void
check_locale (const char *locale)
{
  g_autoptr (GPtrArray) names = make_names ();
  g_autoptr (GPtrArray) devices = make_devices (names);
  guint ascii = 0;

  /* The same bytes as GLib makes, for every name. */
  for (guint i = 0; i < devices->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *expected = expected_key (name);

      if (strcmp (_rd_device_get_sort_key (g_ptr_array_index (devices, i)), expected) != 0)
        g_error ("locale %s: the sort key of \"%s\" differs from g_utf8_collate_key()'s", locale,
                 name);
      if (g_str_is_ascii (name) && strlen (name) < 128)
        ascii++;
    }
  g_assert_cmpuint (ascii, >, devices->len / 2);

  /* And so the same order as g_utf8_collate() gives the folded names. */
  g_ptr_array_sort (devices, compare_keys);
  for (guint i = 1; i < devices->len; i++)
    {
      const char *before = rd_device_get_name (g_ptr_array_index (devices, i - 1));
      const char *after = rd_device_get_name (g_ptr_array_index (devices, i));
      g_autofree char *folded_before = g_utf8_casefold (before, -1);
      g_autofree char *folded_after = g_utf8_casefold (after, -1);

      if (g_utf8_collate (folded_before, folded_after) > 0)
        g_error ("locale %s: \"%s\" sorted before \"%s\"", locale, before, after);
    }
}

static void
test_same_as_glib (void)
{
  g_autofree char *saved = g_strdup (setlocale (LC_ALL, NULL));
  guint tried = 0;

  for (guint i = 0; i < G_N_ELEMENTS (locales); i++)
    {
      if (setlocale (LC_ALL, locales[i]) == NULL)
        {
          g_test_message ("locale %s is not installed; skipped", locales[i]);
          continue;
        }
      g_test_message ("locale %s", locales[i]);
      check_locale (locales[i]);
      tried++;
    }
  setlocale (LC_ALL, saved);
  check_locale (saved);

  g_assert_cmpuint (tried, >=, 2);
}

static void
test_follows_name (void)
{
  g_autoptr (RdDevice) device = rd_device_new ("id-1", "PC-B");
  g_autofree char *first = g_strdup (_rd_device_get_sort_key (device));
  g_autofree char *expected = expected_key ("PC-A");

  g_object_set (device, "name", "PC-A", NULL);
  g_assert_cmpstr (_rd_device_get_sort_key (device), !=, first);
  g_assert_cmpstr (_rd_device_get_sort_key (device), ==, expected);
}

int
main (int argc, char *argv[])
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/device/sort-key/same-as-glib", test_same_as_glib);
  g_test_add_func ("/rd/device/sort-key/follows-name", test_follows_name);

  return g_test_run ();
}
