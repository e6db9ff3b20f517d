/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-util"

#include "config.h"

#include "rd-graph-util-private.h"

#include <string.h>

/* A cancellable sleep */

typedef struct
{
  GSource *timeout;
  GSource *cancel;
} SleepData;

static void
sleep_data_free (SleepData *data)
{
  if (data->timeout != NULL)
    {
      g_source_destroy (data->timeout);
      g_source_unref (data->timeout);
    }
  if (data->cancel != NULL)
    {
      g_source_destroy (data->cancel);
      g_source_unref (data->cancel);
    }
  g_free (data);
}

static gboolean
on_sleep_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  SleepData *data = g_task_get_task_data (task);

  if (data->cancel != NULL)
    g_source_destroy (data->cancel);
  g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sleep_cancelled_cb (GCancellable *cancellable,
                       gpointer      user_data)
{
  GTask *task = user_data;
  SleepData *data = g_task_get_task_data (task);

  g_source_destroy (data->timeout);
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

void
_rd_graph_sleep_async (guint                delay_ms,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  SleepData *data = g_new0 (SleepData, 1);

  g_task_set_source_tag (task, _rd_graph_sleep_async);
  g_task_set_task_data (task, data, (GDestroyNotify) sleep_data_free);

  /* Both sources hold a reference on the task; each drops the other. */
  data->timeout = g_timeout_source_new (delay_ms);
  g_task_attach_source (task, data->timeout, on_sleep_timeout_cb);
  if (cancellable != NULL)
    {
      data->cancel = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, data->cancel,
                            (GSourceFunc) (void (*) (void)) on_sleep_cancelled_cb);
    }
}

gboolean
_rd_graph_sleep_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == _rd_graph_sleep_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Addresses */

char *
_rd_graph_dup_endpoint_root (const char *base_url)
{
  g_autofree char *base = NULL;
  gsize length;
  char *slash;

  g_return_val_if_fail (base_url != NULL, NULL);

  base = g_strdup (base_url);
  length = strlen (base);
  while (length > 0 && base[length - 1] == '/')
    base[--length] = '\0';

  slash = strrchr (base, '/');
  if (slash == NULL || (strcmp (slash, "/v1.0") != 0 && strcmp (slash, "/beta") != 0))
    return NULL;

  *slash = '\0';
  return g_steal_pointer (&base);
}
