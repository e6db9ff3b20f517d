/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gtk/gtk.h>

#include "rd-stable-selection.h"

/* RdStableSelection: the slots of a list view's rows stay put while the
 * list under them changes; only a change of length reaches the list view,
 * and the selection is the wrapped model's. */

typedef struct
{
  GtkStringList *strings;
  GtkMultiSelection *selection;
  RdStableSelection *rows;
  GArray *changes;    /* (position, removed, added) triples */
  GArray *selections; /* (position, n_items) pairs */
} Fixture;

static void
on_items_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Fixture    *fixture)
{
  guint change[3] = { position, removed, added };

  g_array_append_vals (fixture->changes, change, 3);
}

static void
on_selection_changed_cb (GtkSelectionModel *model,
                         guint              position,
                         guint              n_items,
                         Fixture           *fixture)
{
  guint change[2] = { position, n_items };

  g_array_append_vals (fixture->selections, change, 2);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  const char *const strings[] = { "a", "b", "c", "d", "e", "f", NULL };

  fixture->strings = gtk_string_list_new (strings);
  fixture->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (fixture->strings)));
  fixture->rows = rd_stable_selection_new (GTK_SELECTION_MODEL (fixture->selection));
  fixture->changes = g_array_new (FALSE, FALSE, sizeof (guint));
  fixture->selections = g_array_new (FALSE, FALSE, sizeof (guint));
  g_signal_connect (fixture->rows, "items-changed", G_CALLBACK (on_items_changed_cb), fixture);
  g_signal_connect (fixture->rows, "selection-changed", G_CALLBACK (on_selection_changed_cb),
                    fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->rows);
  g_clear_object (&fixture->selection);
  g_clear_object (&fixture->strings);
  g_array_unref (fixture->changes);
  g_array_unref (fixture->selections);
}

static const char *
slot_string (RdListSlot *slot)
{
  return gtk_string_object_get_string (rd_list_slot_get_item (slot));
}

/* Every row shows the wrapped model's item of its position. */
static void
assert_rows_follow (Fixture *fixture)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (fixture->strings));

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->rows)), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (RdListSlot) slot = g_list_model_get_item (G_LIST_MODEL (fixture->rows), i);

      g_assert_cmpuint (rd_list_slot_get_position (slot), ==, i);
      g_assert_cmpstr (slot_string (slot), ==, gtk_string_list_get_string (fixture->strings, i));
    }
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (fixture->rows), n));
}

static void
assert_change (Fixture *fixture,
               guint    index,
               guint    position,
               guint    removed,
               guint    added)
{
  g_assert_cmpuint (fixture->changes->len, >, index * 3 + 2);
  g_assert_cmpuint (g_array_index (fixture->changes, guint, index * 3), ==, position);
  g_assert_cmpuint (g_array_index (fixture->changes, guint, index * 3 + 1), ==, removed);
  g_assert_cmpuint (g_array_index (fixture->changes, guint, index * 3 + 2), ==, added);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_slots_stay (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *const replacement[] = { "x", NULL };
  g_autoptr (RdListSlot) first = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 0);
  g_autoptr (RdListSlot) second = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 1);
  g_autoptr (RdListSlot) fifth = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 4);
  g_autoptr (RdListSlot) last = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 5);
  g_autoptr (RdListSlot) again = NULL;
  guint first_notified = 0, second_notified = 0, fifth_notified = 0;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->rows)), ==, 6);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (fixture->rows)) == RD_TYPE_LIST_SLOT);
  assert_rows_follow (fixture);

  /* A held slot is the item of its position for as long as it is held. */
  again = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 1);
  g_assert_true (again == second);

  g_signal_connect (first, "notify::item", G_CALLBACK (count_notify_cb), &first_notified);
  g_signal_connect (second, "notify::item", G_CALLBACK (count_notify_cb), &second_notified);
  g_signal_connect (fifth, "notify::item", G_CALLBACK (count_notify_cb), &fifth_notified);

  /* "b" and "c" give way to "x": everything after shifts, and the list
   * view hears of one row less at the end. */
  gtk_string_list_splice (fixture->strings, 1, 2, replacement);
  assert_rows_follow (fixture);
  g_assert_cmpuint (fixture->changes->len, ==, 3);
  assert_change (fixture, 0, 5, 1, 0);
  g_assert_cmpuint (first_notified, ==, 0);
  g_assert_cmpuint (second_notified, ==, 1);
  g_assert_cmpuint (fifth_notified, ==, 1);
  g_assert_cmpstr (slot_string (second), ==, "x");
  g_assert_cmpstr (slot_string (fifth), ==, "f");

  /* The slot cut off at the end is no longer the list's: a new one is
   * made if the position comes back. */
  gtk_string_list_append (fixture->strings, "g");
  assert_change (fixture, 1, 5, 0, 1);
  {
    g_autoptr (RdListSlot) new_last = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 5);

    g_assert_true (new_last != last);
    g_assert_cmpstr (slot_string (new_last), ==, "g");
  }
  assert_rows_follow (fixture);

  /* A change in place touches only its own positions, and tells the
   * list view nothing about rows. */
  first_notified = second_notified = fifth_notified = 0;
  g_array_set_size (fixture->changes, 0);
  gtk_string_list_splice (fixture->strings, 1, 1, (const char *const[]){ "y", NULL });
  assert_rows_follow (fixture);
  g_assert_cmpuint (fixture->changes->len, ==, 0);
  g_assert_cmpuint (first_notified, ==, 0);
  g_assert_cmpuint (second_notified, ==, 1);
  g_assert_cmpuint (fifth_notified, ==, 0);

  /* Emptied and filled again. */
  gtk_string_list_splice (fixture->strings, 0, 6, NULL);
  assert_rows_follow (fixture);
  assert_change (fixture, 0, 0, 6, 0);
  gtk_string_list_splice (fixture->strings, 0, 0, (const char *const[]){ "p", "q", NULL });
  assert_rows_follow (fixture);
  assert_change (fixture, 1, 0, 0, 2);
}

static void
test_forgotten_slots (Fixture       *fixture,
                      gconstpointer  data)
{
  RdListSlot *slot = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 2);
  GWeakRef weak;

  /* Slots nobody holds are not kept, nor updated. */
  g_weak_ref_init (&weak, slot);
  g_object_unref (slot);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);

  gtk_string_list_remove (fixture->strings, 0);
  assert_rows_follow (fixture);

  /* A slot outliving its model keeps its item. */
  slot = g_list_model_get_item (G_LIST_MODEL (fixture->rows), 0);
  g_clear_object (&fixture->rows);
  g_assert_cmpstr (slot_string (slot), ==, "b");
  g_object_unref (slot);
}

/* Whether a "selection-changed" covered positions @first to @last. */
static gboolean
selection_told (Fixture *fixture,
                guint    first,
                guint    last)
{
  for (guint i = 0; i + 1 < fixture->selections->len; i += 2)
    {
      guint position = g_array_index (fixture->selections, guint, i);
      guint n_items = g_array_index (fixture->selections, guint, i + 1);

      if (position <= first && position + n_items > last)
        return TRUE;
    }

  return FALSE;
}

static void
test_selection (Fixture       *fixture,
                gconstpointer  data)
{
  GtkSelectionModel *rows = GTK_SELECTION_MODEL (fixture->rows);
  GtkSelectionModel *selection = GTK_SELECTION_MODEL (fixture->selection);
  g_autoptr (GtkBitset) selected = NULL;

  /* Selecting a row selects the wrapped model's item there. */
  g_assert_true (gtk_selection_model_select_item (rows, 2, TRUE));
  g_assert_true (gtk_selection_model_is_selected (selection, 2));
  g_assert_true (gtk_selection_model_is_selected (rows, 2));
  g_assert_false (gtk_selection_model_is_selected (rows, 1));
  g_assert_cmpuint (fixture->selections->len, >=, 2);

  g_assert_true (gtk_selection_model_select_range (rows, 4, 2, FALSE));
  selected = gtk_selection_model_get_selection (rows);
  g_assert_cmpuint (gtk_bitset_get_size (selected), ==, 3);
  g_assert_true (gtk_bitset_contains (selected, 5));
  g_clear_pointer (&selected, gtk_bitset_unref);

  /* "c" stays selected when "a" goes: its row is now the second, and the
   * rows whose items moved are told to look again. */
  g_array_set_size (fixture->selections, 0);
  gtk_string_list_remove (fixture->strings, 0);
  g_assert_true (gtk_selection_model_is_selected (rows, 1));
  g_assert_false (gtk_selection_model_is_selected (rows, 2));
  g_assert_true (gtk_selection_model_is_selected (rows, 3));
  g_assert_true (gtk_selection_model_is_selected (rows, 4));
  g_assert_false (gtk_selection_model_is_selected (rows, 5));
  g_assert_true (selection_told (fixture, 1, 3));
  g_assert_false (selection_told (fixture, 4, 4));

  selected = gtk_selection_model_get_selection_in_range (rows, 0, 3);
  g_assert_true (gtk_bitset_contains (selected, 1));
  g_assert_false (gtk_bitset_contains (selected, 0));
  g_clear_pointer (&selected, gtk_bitset_unref);

  g_assert_true (gtk_selection_model_unselect_all (rows));
  selected = gtk_selection_model_get_selection (selection);
  g_assert_true (gtk_bitset_is_empty (selected));
}

static void
iterate_until_length (Fixture *fixture,
                      guint    length)
{
  for (guint i = 0; i < 100 && g_list_model_get_n_items (G_LIST_MODEL (fixture->rows)) < length;
       i++)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_fill_steps (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *const strings[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", NULL };

  rd_stable_selection_set_fill_steps (fixture->rows, 3, 6);
  gtk_string_list_splice (fixture->strings, 0, 6, NULL);
  g_array_set_size (fixture->changes, 0);

  /* From empty to ten: three rows at once, then the rest. */
  gtk_string_list_splice (fixture->strings, 0, 0, strings);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->rows)), ==, 3);
  assert_change (fixture, 0, 0, 0, 3);
  iterate_until_length (fixture, 10);
  assert_change (fixture, 1, 3, 0, 7);
  g_assert_cmpuint (fixture->changes->len, ==, 6);
  assert_rows_follow (fixture);

  /* From two to ten: three more per main-loop iteration up to six, then
   * the rest. */
  gtk_string_list_splice (fixture->strings, 2, 8, NULL);
  g_array_set_size (fixture->changes, 0);
  gtk_string_list_splice (fixture->strings, 2, 0, strings + 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->rows)), ==, 5);
  iterate_until_length (fixture, 10);
  assert_change (fixture, 0, 2, 0, 3);
  assert_change (fixture, 1, 5, 0, 3);
  assert_change (fixture, 2, 8, 0, 2);
  g_assert_cmpuint (fixture->changes->len, ==, 9);
  assert_rows_follow (fixture);

  /* Rows the model loses while it fills are not announced. */
  gtk_string_list_splice (fixture->strings, 0, 10, NULL);
  gtk_string_list_splice (fixture->strings, 0, 0, strings);
  gtk_string_list_splice (fixture->strings, 1, 9, NULL);
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  assert_rows_follow (fixture);
  g_assert_cmpstr (gtk_string_list_get_string (fixture->strings, 0), ==, "1");
}

/* Told how many rows a screen shows, the rows keep their length beyond
 * those until frames have shown the change: rows lost stay, empty, and go
 * a step after each frame; rows gained below the screen come a step after
 * each frame. A list shorter than a screen changes at once. */
static void
test_screen_rows (Fixture       *fixture,
                  gconstpointer  data)
{
  GListModel *rows = G_LIST_MODEL (fixture->rows);
  const char *const strings[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", NULL };
  g_autoptr (RdListSlot) fifth = g_list_model_get_item (rows, 4);

  rd_stable_selection_set_fill_steps (fixture->rows, 2, 8);
  rd_stable_selection_set_screen_rows (fixture->rows, 3);
  g_assert_false (rd_stable_selection_get_held (fixture->rows));
  g_assert_false (rd_stable_selection_after_frame (fixture->rows));

  /* Six to four: the last two rows stay, their slots empty, until a
   * frame is out; they cannot be selected. */
  gtk_string_list_splice (fixture->strings, 0, 2, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 6);
  g_assert_cmpuint (fixture->changes->len, ==, 0);
  g_assert_true (rd_stable_selection_get_held (fixture->rows));
  g_assert_null (rd_list_slot_get_item (fifth));
  {
    g_autoptr (RdListSlot) first = g_list_model_get_item (rows, 0);
    g_autoptr (RdListSlot) last = g_list_model_get_item (rows, 5);

    g_assert_cmpstr (slot_string (first), ==, "c");
    g_assert_null (rd_list_slot_get_item (last));
  }
  g_assert_false (gtk_selection_model_select_item (GTK_SELECTION_MODEL (rows), 5, FALSE));
  g_assert_true (gtk_selection_model_select_all (GTK_SELECTION_MODEL (rows)));
  g_assert_true (gtk_selection_model_is_selected (GTK_SELECTION_MODEL (rows), 3));
  g_assert_false (gtk_selection_model_is_selected (GTK_SELECTION_MODEL (rows), 4));
  g_assert_true (gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (rows)));
  g_assert_false (rd_stable_selection_after_frame (fixture->rows));
  assert_change (fixture, 0, 4, 2, 0);
  assert_rows_follow (fixture);

  /* Four to one, shorter than a screen: at once. */
  g_array_set_size (fixture->changes, 0);
  gtk_string_list_splice (fixture->strings, 1, 3, NULL);
  assert_change (fixture, 0, 1, 3, 0);
  assert_rows_follow (fixture);
  g_assert_false (rd_stable_selection_get_held (fixture->rows));

  /* One to eleven: the rows a screen shows at once, then two a frame up
   * to eight, then the rest; the main loop alone adds none. */
  g_array_set_size (fixture->changes, 0);
  gtk_string_list_splice (fixture->strings, 1, 0, strings);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 3);
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 3);
  g_assert_true (rd_stable_selection_after_frame (fixture->rows));
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 5);
  g_assert_true (rd_stable_selection_after_frame (fixture->rows));
  g_assert_true (rd_stable_selection_after_frame (fixture->rows));
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 9);
  g_assert_false (rd_stable_selection_after_frame (fixture->rows));
  assert_change (fixture, 0, 1, 0, 2);
  assert_change (fixture, 1, 3, 0, 2);
  assert_change (fixture, 3, 7, 0, 2);
  assert_change (fixture, 4, 9, 0, 2);
  g_assert_cmpuint (fixture->changes->len, ==, 15);
  assert_rows_follow (fixture);

  /* Without frames (screen rows 0), what waits is announced at once. */
  gtk_string_list_splice (fixture->strings, 5, 6, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 8);
  rd_stable_selection_set_screen_rows (fixture->rows, 0);
  assert_rows_follow (fixture);
  g_assert_false (rd_stable_selection_get_held (fixture->rows));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/rd/stable-selection/slots-stay", test_slots_stay);
  ADD ("/rd/stable-selection/forgotten-slots", test_forgotten_slots);
  ADD ("/rd/stable-selection/selection", test_selection);
  ADD ("/rd/stable-selection/fill-steps", test_fill_steps);
  ADD ("/rd/stable-selection/screen-rows", test_screen_rows);
#undef ADD

  return g_test_run ();
}
