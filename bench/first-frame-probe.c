/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench-first-frame"

#include "config.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <unistd.h>

/* Loaded into the real recovery-desk with LD_PRELOAD by bench/startup-cached:
 * it watches every frame ("after-paint", through an emission hook, so the
 * app is not changed) and writes to $RD_PROBE_OUTPUT when the first frame
 * was painted and when the first frame with a list of at least
 * $RD_PROBE_ITEMS items (the inventory lane) was, as CLOCK_MONOTONIC
 * microseconds, then ends the process. */

static gint64 first_frame_at;
static guint wanted_items;

static gboolean
shows_items (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_LIST_VIEW (child) && gtk_widget_get_mapped (child))
        {
          GtkSelectionModel *model = gtk_list_view_get_model (GTK_LIST_VIEW (child));

          if (model != NULL && g_list_model_get_n_items (G_LIST_MODEL (model)) >= wanted_items)
            return TRUE;
        }
      if (shows_items (child))
        return TRUE;
    }

  return FALSE;
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

      if (!shows_items (window))
        continue;

      path = g_getenv ("RD_PROBE_OUTPUT");
      output = path != NULL ? fopen (path, "w") : NULL;
      if (output != NULL)
        {
          fprintf (output, "first-frame=%" G_GINT64_FORMAT "\nitems-frame=%" G_GINT64_FORMAT "\n",
                   first_frame_at, now);
          fclose (output);
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
  /* The signal exists once the class does. */
  g_type_class_ref (GDK_TYPE_FRAME_CLOCK);
  g_signal_add_emission_hook (g_signal_lookup ("after-paint", GDK_TYPE_FRAME_CLOCK), 0,
                              on_after_paint_hook_cb, NULL, NULL);
}
