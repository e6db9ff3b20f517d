/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-first-frame"

#include "config.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <unistd.h>

/* Loaded into the real recovery-desk with LD_PRELOAD by bench/startup-cached:
 * it watches every frame ("after-paint", through an emission hook, so the
 * app is not changed) and writes to $RD_PROBE_OUTPUT when the first frame
 * was painted, the first frame in which a list showed any item (the first
 * cards of the inventory lane, which fills its rows a few dozen at a time),
 * and the first frame with a list of at least $RD_PROBE_ITEMS items (the
 * whole inventory lane) was, as CLOCK_MONOTONIC microseconds, then ends the
 * process. */

static gint64 first_frame_at;
static gint64 first_rows_at; /* the first frame in which a list shows any item */
static guint wanted_items;
static gboolean log_frames;

/* The most items a mapped GtkListView below @widget holds. */
static guint
most_items (GtkWidget *widget)
{
  guint most = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      guint below = most_items (child);

      if (GTK_IS_LIST_VIEW (child) && gtk_widget_get_mapped (child))
        {
          GtkSelectionModel *model = gtk_list_view_get_model (GTK_LIST_VIEW (child));

          if (model != NULL)
            below = MAX (below, g_list_model_get_n_items (G_LIST_MODEL (model)));
        }
      most = MAX (most, below);
    }

  return most;
}

static gboolean
on_after_paint_hook_cb (GSignalInvocationHint *hint,
                        guint                  n_values,
                        const GValue          *values,
                        gpointer               user_data)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GListModel) toplevels = NULL;
  const char *path;
  FILE *output;

  if (first_frame_at == 0)
    first_frame_at = now;

  toplevels = gtk_window_get_toplevels ();
  g_object_ref (toplevels);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) window = g_list_model_get_item (toplevels, i);
      guint items = most_items (window);

      /* RD_PROBE_FRAMES=1: every frame on stderr, with the items shown. */
      if (log_frames)
        fprintf (stderr, "probe: frame at %" G_GINT64_FORMAT " us, %u items\n", now, items);
      if (items > 0 && first_rows_at == 0)
        first_rows_at = now;
      if (items < wanted_items)
        continue;

      /* Written aside, then renamed: the benchmark polls for the file and
       * ends the app when it appears, which could be before its lines. */
      path = g_getenv ("RD_PROBE_OUTPUT");
      if (path != NULL)
        {
          g_autofree char *partial = g_strconcat (path, ".partial", NULL);

          output = fopen (partial, "w");
          if (output != NULL)
            {
              fprintf (output,
                       "first-frame=%" G_GINT64_FORMAT "\nrows-frame=%" G_GINT64_FORMAT
                       "\nitems-frame=%" G_GINT64_FORMAT "\n",
                       first_frame_at, first_rows_at, now);
              if (fclose (output) == 0)
                rename (partial, path);
            }
        }
      _exit (0);
    }

  return TRUE;
}

__attribute__ ((constructor)) static void
probe_init (void)
{
  const char *items = g_getenv ("RD_PROBE_ITEMS");

  wanted_items = items != NULL ? (guint) g_ascii_strtoull (items, NULL, 10) : 1;
  log_frames = g_getenv ("RD_PROBE_FRAMES") != NULL;
  /* The signal exists once the class does. */
  g_type_class_ref (GDK_TYPE_FRAME_CLOCK);
  g_signal_add_emission_hook (g_signal_lookup ("after-paint", GDK_TYPE_FRAME_CLOCK), 0,
                              on_after_paint_hook_cb, NULL, NULL);
}
