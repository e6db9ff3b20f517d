/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-read-ahead-private.h"

#include "rd-imaging-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <unistd.h>

/* Four 4 MiB reads in flight at most: the same request size as the writer, and enough slack
 * that a slow hash never stalls the device. */
#define CHUNK_SIZE (4 * 1024 * 1024)
#define N_CHUNKS   4
#define ALIGNMENT  4096

struct _RdReadAhead
{
  int fd;
  gboolean direct;
  char *name;
  guint64 total;
  guint8 *chunks[N_CHUNKS];
  GThread *thread;

  /* Under lock */
  GMutex lock;
  GCond cond;
  guint64 n_read;     /* chunks filled */
  guint64 n_released; /* chunks given back */
  gsize lens[N_CHUNKS];
  gboolean stop;
  gboolean done; /* nothing more will be read */
  GError *error; /* the chunk after the last one read failed */
};

/* Returns how many bytes were read: fewer than @len only where the target ends, -1 on error. */
static gssize
read_chunk (RdReadAhead *self, guint8 *buffer, guint64 offset, gsize len, GError **error)
{
  /* An O_DIRECT fd only reads whole blocks; the image may end inside one. */
  gsize want = self->direct ? ((len + ALIGNMENT - 1) & ~(gsize) (ALIGNMENT - 1)) : len;
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pread (self->fd, buffer + done, want - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                       _("%s %s failed at byte %" G_GUINT64_FORMAT ": %s"), _("Reading back"),
                       self->name, offset + done, g_strerror (saved_errno));
          return -1;
        }
      if (n == 0)
        break;
      done += n;
    }
  return MIN (done, len);
}

static gpointer
read_thread (gpointer data)
{
  RdReadAhead *self = data;

  for (guint64 seq = 0; seq * CHUNK_SIZE < self->total; seq++)
    {
      guint64 offset = seq * CHUNK_SIZE;
      gsize len = MIN ((guint64) CHUNK_SIZE, self->total - offset);
      GError *error = NULL;
      gssize n;

      g_mutex_lock (&self->lock);
      while (seq - self->n_released >= N_CHUNKS && !self->stop)
        g_cond_wait (&self->cond, &self->lock);
      if (self->stop)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      g_mutex_unlock (&self->lock);

      n = read_chunk (self, self->chunks[seq % N_CHUNKS], offset, len, &error);

      g_mutex_lock (&self->lock);
      if (n >= 0)
        {
          self->lens[seq % N_CHUNKS] = n;
          self->n_read++;
        }
      else
        {
          self->error = error;
        }
      self->done = n < (gssize) len;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      if (self->done)
        break;
    }

  g_mutex_lock (&self->lock);
  self->done = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return NULL;
}

/**
 * rd_read_ahead_new:
 * @fd: (not owned): open for reading, possibly with O_DIRECT
 * @name: what messages call the target
 * @total: how many bytes to read from offset 0
 */
RdReadAhead *
rd_read_ahead_new (int fd, const char *name, guint64 total)
{
  RdReadAhead *self = g_new0 (RdReadAhead, 1);

  self->fd = fd;
  self->direct = (fcntl (fd, F_GETFL) & O_DIRECT) != 0;
  self->name = g_strdup (name);
  self->total = total;
  for (int i = 0; i < N_CHUNKS; i++)
    if (posix_memalign ((void **) &self->chunks[i], ALIGNMENT, CHUNK_SIZE) != 0)
      g_error ("Out of memory allocating %d bytes", CHUNK_SIZE);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->thread = g_thread_new ("rd-read-ahead", read_thread, self);
  return self;
}

/**
 * rd_read_ahead_next:
 * @len: (out): how many bytes the chunk holds; less than a whole chunk where the target ends
 *
 * Waits for the next chunk, which stays valid until rd_read_ahead_release().
 *
 * Returns: (nullable): the chunk, or %NULL after the last one (@error unset: the end of the
 *   target or of @total) or when reading failed
 */
const guint8 *
rd_read_ahead_next (RdReadAhead *self, gsize *len, GError **error)
{
  guint64 seq;
  const guint8 *chunk = NULL;

  g_mutex_lock (&self->lock);
  seq = self->n_released;
  while (seq >= self->n_read && !self->done)
    g_cond_wait (&self->cond, &self->lock);
  if (seq < self->n_read)
    {
      chunk = self->chunks[seq % N_CHUNKS];
      *len = self->lens[seq % N_CHUNKS];
    }
  else if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
    }
  g_mutex_unlock (&self->lock);
  return chunk;
}

void
rd_read_ahead_release (RdReadAhead *self)
{
  g_mutex_lock (&self->lock);
  g_assert (self->n_released < self->n_read);
  self->n_released++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
rd_read_ahead_free (RdReadAhead *self)
{
  g_mutex_lock (&self->lock);
  self->stop = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);

  for (int i = 0; i < N_CHUNKS; i++)
    free (self->chunks[i]);
  g_clear_error (&self->error);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->name);
  g_free (self);
}
