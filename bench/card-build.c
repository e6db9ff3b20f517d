/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-card"

#include "config.h"

#include "ui-bench.h"

#include "rd-device-card.h"
#include "rd-device.h"
#include "rd-plan.h"

#include <adwaita.h>
#include <string.h>
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif

/* What one RdDeviceCard costs (issue 4): GTK 4.8's list view builds up to
 * 200 new cards whenever the list it shows changes, so the card's own
 * price sets the worst keystroke of search-100k. This builds N cards
 * (200 by default) bound to the Windows devices of a generated demo
 * tenant of N devices (the generator and seed of `--demo`; some devices
 * show on two cards, as about 12 % are not Windows), appends them to a GtkBox in a scrolled
 * window that is on screen, and times, round by round:
 *
 *  - build: rd_device_card_new(), binding the device (and with --plans a
 *    Break and Fix plan) and appending the card to the box, which
 *    realizes and maps it, as a list view does with a row's child;
 *  - frame: the next frame, from the frame clock's "before-paint" to the
 *    end of its "paint" phase, split into layout (CSS, measure, allocate)
 *    and paint (snapshot and render);
 *  - dispose: removing every card from the box, which finalizes them
 *    (checked).
 *
 * Every figure is printed in ms per 200 cards, wall time and this thread's
 * CPU time. Run it under Xvfb as bench/ui-benchmarks.sh runs the others;
 * bench/README.md has the command. Under `valgrind --tool=callgrind` each
 * step of each round is dumped on its own ("build", "frame", "dispose"):
 * instruction counts that do not depend on what else the machine runs. */

typedef struct
{
  gint64 before_paint;
  gint64 layout_done;
  gint64 paint_done;
  gint64 before_paint_cpu;
  gint64 paint_done_cpu;
  gboolean waiting;
  gboolean painted;
} Frame;

static Frame frame;

static gint64
thread_cpu_us (void)
{
  struct timespec now;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000;
}

/* Connected after GTK's own handlers (the window is realized first), so
 * these see the end of each phase. */
static void
on_before_paint_cb (GdkFrameClock *clock,
                    gpointer       user_data)
{
  if (!frame.waiting)
    return;
  frame.before_paint = g_get_monotonic_time ();
  frame.before_paint_cpu = thread_cpu_us ();
  CALLGRIND_ZERO_STATS;
}

static void
on_layout_cb (GdkFrameClock *clock,
              gpointer       user_data)
{
  if (frame.waiting)
    frame.layout_done = g_get_monotonic_time ();
}

static void
on_paint_cb (GdkFrameClock *clock,
             gpointer       user_data)
{
  if (!frame.waiting)
    return;
  CALLGRIND_DUMP_STATS_AT ("frame");
  frame.paint_done = g_get_monotonic_time ();
  frame.paint_done_cpu = thread_cpu_us ();
  frame.waiting = FALSE;
  frame.painted = TRUE;
}

static void
on_card_finalized_cb (gpointer  user_data,
                      GObject  *where_the_object_was)
{
  guint *finalized = user_data;

  (*finalized)++;
}

/* The steps timed, as functions of their own for profilers. */
G_GNUC_NO_INLINE static void
build_cards (GtkBox    *box,
             GPtrArray *devices,
             GPtrArray *plans,
             int        n_cards,
             guint     *finalized)
{
  for (int i = 0; i < n_cards; i++)
    {
      GtkWidget *card = rd_device_card_new ();
      guint index = i % devices->len;

      rd_device_card_set_device (RD_DEVICE_CARD (card), devices->pdata[index]);
      if (plans != NULL)
        rd_device_card_set_plan (RD_DEVICE_CARD (card), plans->pdata[index]);
      g_object_weak_ref (G_OBJECT (card), on_card_finalized_cb, finalized);
      gtk_box_append (box, card);
    }
}

G_GNUC_NO_INLINE static void
dispose_cards (GtkBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_box_remove (box, child);
}

enum
{
  BUILD,
  BUILD_CPU,
  LAYOUT,
  PAINT,
  FRAME,
  FRAME_CPU,
  DISPOSE,
  DISPOSE_CPU,
  N_FIGURES
};

static const char *const figure_names[N_FIGURES] = {
  "build_ms", "build_cpu_ms", "layout_ms",  "paint_ms",
  "frame_ms", "frame_cpu_ms", "dispose_ms", "dispose_cpu_ms",
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) plans = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkCssProvider) css = NULL;
  g_autoptr(GString) result = g_string_new ("RESULT");
  g_autofree char *home = NULL;
  GArray *figures[N_FIGURES];
  GdkFrameClock *clock;
  GtkWidget *window, *scrolled, *box;
  int n_cards = 200;
  int rounds = 5;
  gboolean with_plans = FALSE;
  double scale;
  const GOptionEntry entries[] = {
    { "cards", 'n', 0, G_OPTION_ARG_INT, &n_cards, "Cards per round (200)", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Rounds (5)", "R" },
    { "plans", 'p', 0, G_OPTION_ARG_NONE, &with_plans, "Bind a Break and Fix plan to each card",
      NULL },
    { NULL },
  };

  context = g_option_context_new ("- time building, painting and disposing device cards");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || n_cards < 1 || rounds < 1)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "--cards and --rounds must be positive");
      return 2;
    }
  scale = 200.0 / n_cards;
  for (guint i = 0; i < N_FIGURES; i++)
    figures[i] = g_array_new (FALSE, FALSE, sizeof (double));

  home = ui_bench_make_tmp_home (&error);
  if (home == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  gtk_init ();
  adw_init ();
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, RESOURCE_PREFIX "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  if (!ui_bench_sync_demo (n_cards, &devices, NULL, NULL, &error))
    {
      g_printerr ("The demo sync failed: %s\n", error->message);
      ui_bench_remove_tree (home);
      return 1;
    }
  ui_bench_remove_tree (home);
  if (devices->len == 0)
    {
      g_printerr ("The demo tenant has no Windows devices\n");
      return 1;
    }
  if (with_plans)
    for (guint i = 0; i < devices->len; i++)
      g_ptr_array_add (plans,
                       rd_plan_new (devices->pdata[i], RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN));

  /* A lane's width, the cards one under the other. */
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 420, 1000);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), box);
  gtk_window_set_child (GTK_WINDOW (window), scrolled);
  gtk_window_present (GTK_WINDOW (window));
  ui_bench_wait_idle (300, 5000);

  clock = gtk_widget_get_frame_clock (window);
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint_cb), NULL);
  g_signal_connect (clock, "layout", G_CALLBACK (on_layout_cb), NULL);
  g_signal_connect (clock, "paint", G_CALLBACK (on_paint_cb), NULL);

  /* One round more than asked: the first warms up caches (fonts, icons,
   * styles) and is not counted. */
  for (int round = 0; round <= rounds; round++)
    {
      guint finalized = 0;
      gint64 start, start_cpu, built, built_cpu, disposing, disposing_cpu, disposed, disposed_cpu;
      double values[N_FIGURES];

      start = g_get_monotonic_time ();
      start_cpu = thread_cpu_us ();
      CALLGRIND_ZERO_STATS;
      build_cards (GTK_BOX (box), devices, with_plans ? plans : NULL, n_cards, &finalized);
      CALLGRIND_DUMP_STATS_AT ("build");
      built = g_get_monotonic_time ();
      built_cpu = thread_cpu_us ();

      memset (&frame, 0, sizeof frame);
      frame.waiting = TRUE;
      gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
      while (!frame.painted)
        g_main_context_iteration (NULL, TRUE);
      ui_bench_wait_idle (100, 2000);

      disposing = g_get_monotonic_time ();
      disposing_cpu = thread_cpu_us ();
      CALLGRIND_ZERO_STATS;
      dispose_cards (GTK_BOX (box));
      CALLGRIND_DUMP_STATS_AT ("dispose");
      disposed = g_get_monotonic_time ();
      disposed_cpu = thread_cpu_us ();
      if (finalized != (guint) n_cards)
        {
          g_printerr ("%u of %d cards were finalized when removed\n", finalized, n_cards);
          return 1;
        }
      ui_bench_wait_idle (100, 2000);

      values[BUILD] = (built - start) / 1000.0 * scale;
      values[BUILD_CPU] = (built_cpu - start_cpu) / 1000.0 * scale;
      values[LAYOUT] = (frame.layout_done - frame.before_paint) / 1000.0 * scale;
      values[PAINT] = (frame.paint_done - frame.layout_done) / 1000.0 * scale;
      values[FRAME] = (frame.paint_done - frame.before_paint) / 1000.0 * scale;
      values[FRAME_CPU] = (frame.paint_done_cpu - frame.before_paint_cpu) / 1000.0 * scale;
      values[DISPOSE] = (disposed - disposing) / 1000.0 * scale;
      values[DISPOSE_CPU] = (disposed_cpu - disposing_cpu) / 1000.0 * scale;
      if (round == 0)
        continue;

      g_print ("round %d: build %.1f ms (cpu %.1f), frame %.1f ms (layout %.1f, paint %.1f; "
               "cpu %.1f), dispose %.1f ms (cpu %.1f)\n",
               round, values[BUILD], values[BUILD_CPU], values[FRAME], values[LAYOUT],
               values[PAINT], values[FRAME_CPU], values[DISPOSE], values[DISPOSE_CPU]);
      for (guint i = 0; i < N_FIGURES; i++)
        g_array_append_val (figures[i], values[i]);
    }

  g_print ("%d cards%s, %d rounds, ms per 200 cards (median):\n", n_cards,
           with_plans ? " with Break and Fix plans" : "", rounds);
  for (guint i = 0; i < N_FIGURES; i++)
    {
      ui_bench_sort_doubles (figures[i]);
      g_string_append_printf (result, " %s=%.1f", figure_names[i], ui_bench_median (figures[i]));
    }
  g_print ("%s\n", result->str);
  g_print ("total (build + frame + dispose) %.1f ms\n", ui_bench_median (figures[BUILD]) +
                                                          ui_bench_median (figures[FRAME]) +
                                                          ui_bench_median (figures[DISPOSE]));
  for (guint i = 0; i < N_FIGURES; i++)
    g_array_unref (figures[i]);

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
