/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-util"

#include "config.h"

#include "rd-graph-util-private.h"

#include <errno.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

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

/* Worker threads */

/* The sync's workers (reading pages, mapping and joining devices) are
 * throughput: a page read later is no loss. The main thread is latency: it
 * sends the next request of each list as soon as a page is in, and draws
 * the window. With the workers on the same cores at the same priority, the
 * main thread waited some 160 ms to run during a sync of 100,000 devices
 * (perf sched, 2 cores), and the server waited for requests. */
#define WORKER_NICE 10

void
_rd_graph_lower_thread_priority (void)
{
#ifdef __linux__
  static __thread gboolean lowered;
  /* On Linux the nice value is a thread's own (see setpriority(2)). */
  id_t tid = (id_t) syscall (SYS_gettid);
  int nice;

  if (lowered)
    return;
  lowered = TRUE;

  errno = 0;
  nice = getpriority (PRIO_PROCESS, tid);
  if (errno == 0 && nice < WORKER_NICE && setpriority (PRIO_PROCESS, tid, WORKER_NICE) != 0)
    g_debug ("Could not lower a worker thread's priority: %s", g_strerror (errno));
#endif
}
