/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-image-writer.h"

#include "rd-image-writer-private.h"
#include "rd-imaging-error.h"
#include "rd-read-ahead-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* A ring of aligned chunks: the reader fills one while the writers drain the others. A
 * writer that falls behind takes up to MAX_BATCH filled chunks in one request: larger
 * requests keep more I/O in flight (16 MiB writes beat 4 MiB ones by about a third on the
 * benchmark's loop device), and the reader still has chunks to fill meanwhile. */
#define CHUNK_SIZE  (4 * 1024 * 1024)
#define N_SLOTS     8
#define MAX_BATCH   4
#define ALIGNMENT   4096
#define HEAD_SIZE   (1024 * 1024)
#define SYNC_EVERY  ((guint64) 256 * 1024 * 1024)
#define DIGEST_LEN  32

typedef struct
{
  guint8 *data;
  gsize len;
  guint64 offset;
  int pending; /* targets that have not consumed it yet */
} Slot;

typedef struct
{
  RdImageWriter *writer;
  char *name;
  char *created_path; /* a regular file this writer created, removed on failure */
  int fd;
  gboolean is_block;
  gboolean direct;
  guint64 size; /* G_MAXUINT64 for regular files */
  GThread *thread;
  guint8 *buffer; /* verify and wipe buffer, CHUNK_SIZE, aligned */

  /* Under writer->lock */
  RdWritePhase phase;
  guint64 written;
  guint64 verified;
  GError *error;
} Target;

struct _RdImageWriter
{
  GObject parent_instance;

  RdImageSource *source;
  gboolean verify;
  GPtrArray *targets;
  GCancellable *cancellable;
  gboolean running;

  RdImageWriterChunkHook hook;
  gpointer hook_data;

  GMutex lock;
  GCond cond;
  GMutex source_lock;
  Slot slots[N_SLOTS];
  guint64 produced;
  gboolean eof;
  gboolean aborted;
  guint n_alive;
  guint64 bytes_read;
  guint64 source_position;
  guint64 total;
  guint8 *head;
  gsize head_len;
  guint8 digest[DIGEST_LEN];
  gboolean have_digest;
};

G_DEFINE_FINAL_TYPE (RdImageWriter, rd_image_writer, G_TYPE_OBJECT)

static guint8 *
aligned_alloc_or_abort (gsize size)
{
  void *p = NULL;

  if (posix_memalign (&p, ALIGNMENT, size) != 0)
    g_error ("Out of memory allocating %" G_GSIZE_FORMAT " bytes", size);
  return p;
}

static void
target_free (gpointer data)
{
  Target *t = data;

  if (t->fd >= 0)
    close (t->fd);
  g_clear_error (&t->error);
  free (t->buffer);
  g_free (t->name);
  g_free (t->created_path);
  g_free (t);
}

static void
rd_image_writer_dispose (GObject *object)
{
  RdImageWriter *self = RD_IMAGE_WRITER (object);

  g_clear_object (&self->source);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (rd_image_writer_parent_class)->dispose (object);
}

static void
rd_image_writer_finalize (GObject *object)
{
  RdImageWriter *self = RD_IMAGE_WRITER (object);

  g_ptr_array_unref (self->targets);
  for (int i = 0; i < N_SLOTS; i++)
    free (self->slots[i].data);
  free (self->head);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->source_lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (rd_image_writer_parent_class)->finalize (object);
}

static void
rd_image_writer_class_init (RdImageWriterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_image_writer_dispose;
  object_class->finalize = rd_image_writer_finalize;
}

static void
rd_image_writer_init (RdImageWriter *self)
{
  self->verify = TRUE;
  self->targets = g_ptr_array_new_with_free_func (target_free);
  g_mutex_init (&self->lock);
  g_mutex_init (&self->source_lock);
  g_cond_init (&self->cond);
}

RdImageWriter *
rd_image_writer_new (RdImageSource *source)
{
  RdImageWriter *self;

  g_return_val_if_fail (RD_IS_IMAGE_SOURCE (source), NULL);

  self = g_object_new (RD_TYPE_IMAGE_WRITER, NULL);
  self->source = g_object_ref (source);
  return self;
}

void
rd_image_writer_set_verify (RdImageWriter *self, gboolean verify)
{
  g_return_if_fail (RD_IS_IMAGE_WRITER (self));
  self->verify = !!verify;
}

void
rd_image_writer_set_chunk_hook (RdImageWriter         *self,
                                RdImageWriterChunkHook hook,
                                gpointer               user_data)
{
  g_return_if_fail (RD_IS_IMAGE_WRITER (self));
  self->hook = hook;
  self->hook_data = user_data;
}

static gboolean
check_can_add (RdImageWriter *self, GError **error)
{
  if (self->running)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                   _("Targets cannot be added while writing"));
      return FALSE;
    }
  if (self->targets->len >= RD_IMAGE_WRITER_MAX_TARGETS)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_MANY_TARGETS,
                   _("At most %d keys can be written at once"), RD_IMAGE_WRITER_MAX_TARGETS);
      return FALSE;
    }
  return TRUE;
}

static Target *
target_new (RdImageWriter *self, const char *name, int fd)
{
  Target *t = g_new0 (Target, 1);

  t->writer = self;
  t->name = g_strdup (name);
  t->fd = fd;
  t->direct = (fcntl (fd, F_GETFL) & O_DIRECT) != 0;
  t->size = G_MAXUINT64;
  t->phase = RD_WRITE_PHASE_PENDING;
  return t;
}

/**
 * rd_image_writer_add_target_fd:
 * @name: what messages call the target (a drive's display name)
 * @fd: a block device or regular file open for reading and writing; the writer owns it
 */
gboolean
rd_image_writer_add_target_fd (RdImageWriter *self, const char *name, int fd, GError **error)
{
  struct stat st;
  Target *t;

  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);

  if (!check_can_add (self, error))
    {
      close (fd);
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !(S_ISBLK (st.st_mode) || S_ISREG (st.st_mode)))
    {
      close (fd);
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("%s is neither a block device nor a regular file"), name);
      return FALSE;
    }

  t = target_new (self, name, fd);
  if (S_ISBLK (st.st_mode))
    {
      guint64 size = 0;

      t->is_block = TRUE;
      if (ioctl (fd, BLKGETSIZE64, &size) == 0)
        t->size = size;
    }
  g_ptr_array_add (self->targets, t);
  return TRUE;
}

/**
 * rd_image_writer_add_target_file:
 *
 * Adds a regular file to write the image into, created or truncated. A failed or cancelled
 * write removes it again.
 */
gboolean
rd_image_writer_add_target_file (RdImageWriter *self, const char *path, GError **error)
{
  struct stat st;
  int fd;
  Target *t;

  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), FALSE);

  if (!check_can_add (self, error))
    return FALSE;
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_UNSUPPORTED,
                   _("“%s” exists and is not a regular file"), path);
      return FALSE;
    }

  fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
  if (fd < 0 && errno == EINVAL)
    fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO, _("Could not create “%s”: %s"),
                   path, g_strerror (saved_errno));
      return FALSE;
    }

  t = target_new (self, path, fd);
  t->created_path = g_strdup (path);
  g_ptr_array_add (self->targets, t);
  return TRUE;
}

guint
rd_image_writer_get_n_targets (RdImageWriter *self)
{
  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), 0);
  return self->targets->len;
}

const char *
rd_image_writer_get_target_name (RdImageWriter *self, guint index)
{
  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), NULL);
  g_return_val_if_fail (index < self->targets->len, NULL);
  return ((Target *) g_ptr_array_index (self->targets, index))->name;
}

/* Target I/O */

static void
set_phase (Target *t, RdWritePhase phase)
{
  g_mutex_lock (&t->writer->lock);
  t->phase = phase;
  g_mutex_unlock (&t->writer->lock);
}

static gboolean
target_failed (Target *t)
{
  gboolean failed;

  g_mutex_lock (&t->writer->lock);
  failed = t->error != NULL;
  g_mutex_unlock (&t->writer->lock);
  return failed;
}

/* Takes @error. The first error of a target is the one reported. */
static void
fail_target (Target *t, GError *error)
{
  RdImageWriter *self = t->writer;

  g_mutex_lock (&self->lock);
  if (t->error == NULL)
    {
      t->error = error;
      t->phase = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                   ? RD_WRITE_PHASE_CANCELLED
                   : RD_WRITE_PHASE_FAILED;
      g_assert (self->n_alive > 0);
      self->n_alive--;
      g_cond_broadcast (&self->cond);
    }
  else
    {
      g_error_free (error);
    }
  g_mutex_unlock (&self->lock);
}

static GError *
io_error (Target *t, const char *what, guint64 offset, int err)
{
  if (err == ENOSPC && t->is_block)
    return g_error_new (RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                        _("Writing to %s failed at byte %" G_GUINT64_FORMAT
                          ": the device ended (was the key removed?)"),
                        t->name, offset);
  return g_error_new (RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                      _("%s %s failed at byte %" G_GUINT64_FORMAT ": %s"), what, t->name, offset,
                      g_strerror (err));
}

static gboolean
set_direct (Target *t, gboolean direct)
{
  int flags = fcntl (t->fd, F_GETFL);

  if (flags < 0)
    return FALSE;
  flags = direct ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  return fcntl (t->fd, F_SETFL, flags) == 0;
}

static gboolean
pwrite_all (Target *t, const guint8 *data, gsize len, guint64 offset, GError **error)
{
  gsize aligned = t->direct ? (len & ~(gsize) (ALIGNMENT - 1)) : len;
  gsize done = 0;

  while (done < len)
    {
      gboolean tail = done >= aligned;
      ssize_t n;

      /* An O_DIRECT fd only takes whole blocks; the unaligned end of an image goes through
       * the page cache, and the final fdatasync flushes it. */
      if (tail && t->direct && !set_direct (t, FALSE))
        {
          g_propagate_error (error, io_error (t, _("Writing to"), offset + done, errno));
          return FALSE;
        }
      n = pwrite (t->fd, data + done, (tail ? len : aligned) - done, offset + done);
      if (tail && t->direct)
        set_direct (t, TRUE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_propagate_error (error,
                             io_error (t, _("Writing to"), offset + done, n == 0 ? ENOSPC : errno));
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

/* Writes whole, aligned chunks that follow each other on the target in one request. */
static gboolean
pwritev_all (Target *t, struct iovec *iov, int n_iov, guint64 offset, GError **error)
{
  while (n_iov > 0)
    {
      ssize_t n = pwritev (t->fd, iov, n_iov, offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_propagate_error (error,
                             io_error (t, _("Writing to"), offset, n == 0 ? ENOSPC : errno));
          return FALSE;
        }
      offset += n;
      while (n_iov > 0 && (gsize) n >= iov->iov_len)
        {
          n -= iov->iov_len;
          iov++;
          n_iov--;
        }
      if (n_iov > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + n;
          iov->iov_len -= n;
        }
    }
  return TRUE;
}

static gboolean
sync_target (Target *t, GError **error)
{
  if (fdatasync (t->fd) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_IO,
                   _("Flushing %s failed: %s (was the key removed?)"), t->name,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Reads [offset, offset + len) into t->buffer; len <= CHUNK_SIZE. */
static gboolean
pread_exact (Target *t, guint64 offset, gsize len, GError **error)
{
  gsize want = t->direct ? ((len + ALIGNMENT - 1) & ~(gsize) (ALIGNMENT - 1)) : len;
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pread (t->fd, t->buffer + done, want - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_propagate_error (error, io_error (t, _("Reading back"), offset + done, errno));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                       _("%s ends at byte %" G_GUINT64_FORMAT ", before the end of the image"),
                       t->name, offset + done);
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

/* Zeroes the first and last MiB, so that a key whose write did not finish never looks like
 * a valid disk (the backup GPT lives at the end). Best effort: the key may be gone. */
static void
wipe_edges (Target *t)
{
  memset (t->buffer, 0, HEAD_SIZE);
  if (t->is_block)
    {
      if (pwrite (t->fd, t->buffer, HEAD_SIZE, 0) < 0)
        g_debug ("Could not wipe the start of %s: %s", t->name, g_strerror (errno));
      if (t->size != G_MAXUINT64 && t->size >= 2 * HEAD_SIZE
          && pwrite (t->fd, t->buffer, HEAD_SIZE, (t->size - HEAD_SIZE) & ~(guint64) (ALIGNMENT - 1))
               < 0)
        g_debug ("Could not wipe the end of %s: %s", t->name, g_strerror (errno));
      fdatasync (t->fd);
    }
  else if (t->created_path != NULL)
    {
      g_unlink (t->created_path);
    }
  else if (ftruncate (t->fd, 0) != 0)
    {
      g_debug ("Could not truncate %s: %s", t->name, g_strerror (errno));
    }
}

static gboolean
check_cancelled (Target *t, GError **error)
{
  return g_cancellable_set_error_if_cancelled (t->writer->cancellable, error);
}

/* Finds the first byte where the key differs from the image, by reading both again. */
static guint64
find_first_difference (Target *t, guint64 total)
{
  RdImageWriter *self = t->writer;
  g_autofree guint8 *image = g_malloc (CHUNK_SIZE);
  guint64 result = G_MAXUINT64;

  g_mutex_lock (&self->source_lock);
  if (rd_image_source_rewind (self->source, NULL))
    {
      for (guint64 offset = 0; offset < total && result == G_MAXUINT64; offset += CHUNK_SIZE)
        {
          gsize len = MIN ((guint64) CHUNK_SIZE, total - offset);
          gssize n = rd_image_source_read (self->source, image, len, NULL);

          if (n != (gssize) len || !pread_exact (t, offset, len, NULL))
            break;
          for (gsize i = 0; i < len; i++)
            if (image[i] != t->buffer[i])
              {
                result = offset + i;
                break;
              }
        }
    }
  g_mutex_unlock (&self->source_lock);
  return result;
}

static gboolean
verify_target (Target *t, guint64 total, GError **error)
{
  RdImageWriter *self = t->writer;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  RdReadAhead *ahead;
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  gboolean ok = TRUE;

  /* Drop cached pages so buffered tail bytes are read from the device too. */
  posix_fadvise (t->fd, 0, 0, POSIX_FADV_DONTNEED);

  /* The key is read a few chunks ahead on another thread while this one hashes, so verifying
   * runs at the speed of the slower of the two rather than of both added up. */
  ahead = rd_read_ahead_new (t->fd, t->name, total);
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  for (guint64 offset = 0; offset < total;)
    {
      const guint8 *chunk;
      gsize len = 0;

      if (check_cancelled (t, error))
        {
          ok = FALSE;
          break;
        }
      chunk = rd_read_ahead_next (ahead, &len, error);
      if (chunk == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                         _("%s ends at byte %" G_GUINT64_FORMAT ", before the end of the image"),
                         t->name, offset);
          ok = FALSE;
          break;
        }
      EVP_DigestUpdate (ctx, chunk, len);
      rd_read_ahead_release (ahead);
      offset += len;
      g_mutex_lock (&self->lock);
      t->verified = offset;
      g_mutex_unlock (&self->lock);
    }
  g_clear_pointer (&ahead, rd_read_ahead_free);
  EVP_DigestFinal_ex (ctx, digest, &digest_len);
  EVP_MD_CTX_free (ctx);

  if (ok && (digest_len != DIGEST_LEN || memcmp (digest, self->digest, DIGEST_LEN) != 0))
    {
      guint64 offset = find_first_difference (t, total);

      if (offset != G_MAXUINT64)
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                     _("Verification of %s failed: the key differs from the image at byte %"
                       G_GUINT64_FORMAT " (MiB %" G_GUINT64_FORMAT ")"),
                     t->name, offset, offset / (1024 * 1024));
      else
        g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_VERIFY_MISMATCH,
                     _("Verification of %s failed: what was read back does not match the image"),
                     t->name);
      ok = FALSE;
    }
  return ok;
}

static gboolean
write_slot (Target *t, const Slot *slot, GError **error)
{
  const guint8 *data = slot->data;
  gsize len = slot->len;
  guint64 offset = slot->offset;

  /* The first MiB waits until everything else is on the key. */
  if (offset == 0)
    {
      gsize skip = MIN ((gsize) HEAD_SIZE, len);

      data += skip;
      len -= skip;
      offset += skip;
    }
  return len == 0 || pwrite_all (t, data, len, offset, error);
}

/* Writes @n_slots consecutive slots: in one request when they are all whole chunks past the
 * first MiB, else one by one. */
static gboolean
write_slots (Target *t, Slot **slots, guint n_slots, guint64 *since_sync, GError **error)
{
  guint64 start = slots[0]->offset;
  guint64 end = slots[n_slots - 1]->offset + slots[n_slots - 1]->len;
  struct iovec iov[MAX_BATCH];
  gboolean whole = start != 0;

  if (end > t->size)
    {
      g_autofree char *drive_size = g_format_size (t->size);

      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL,
                   _("%s is too small: the image is larger than its %s (%" G_GUINT64_FORMAT
                     " bytes)"),
                   t->name, drive_size, t->size);
      return FALSE;
    }

  for (guint i = 0; i < n_slots; i++)
    {
      iov[i].iov_base = slots[i]->data;
      iov[i].iov_len = slots[i]->len;
      whole = whole && slots[i]->len == CHUNK_SIZE;
    }
  if (n_slots > 1 && whole)
    {
      if (!pwritev_all (t, iov, n_slots, start, error))
        return FALSE;
    }
  else
    {
      for (guint i = 0; i < n_slots; i++)
        if (!write_slot (t, slots[i], error))
          return FALSE;
    }

  *since_sync += end - start;
  if (*since_sync >= SYNC_EVERY)
    {
      *since_sync = 0;
      if (!sync_target (t, error))
        return FALSE;
    }
  return TRUE;
}

static gpointer
target_thread (gpointer data)
{
  Target *t = data;
  RdImageWriter *self = t->writer;
  GError *error = NULL;
  guint64 cursor = 0;
  guint64 since_sync = 0;
  guint64 total;
  gboolean aborted;

  t->buffer = aligned_alloc_or_abort (CHUNK_SIZE);

  set_phase (t, RD_WRITE_PHASE_PREPARING);
  if (t->is_block)
    {
      /* Whatever was on the key stops looking valid before any of the image lands. */
      memset (t->buffer, 0, HEAD_SIZE);
      if (!pwrite_all (t, t->buffer, HEAD_SIZE, 0, &error)
          || (t->size != G_MAXUINT64 && t->size >= 2 * HEAD_SIZE
              && !pwrite_all (t, t->buffer, HEAD_SIZE,
                              (t->size - HEAD_SIZE) & ~(guint64) (ALIGNMENT - 1), &error))
          || !sync_target (t, &error))
        fail_target (t, g_steal_pointer (&error));
    }
  if (!target_failed (t))
    set_phase (t, RD_WRITE_PHASE_WRITING);

  for (;;)
    {
      Slot *slots[MAX_BATCH];
      guint n_slots;

      g_mutex_lock (&self->lock);
      while (cursor >= self->produced && !self->eof && !self->aborted)
        g_cond_wait (&self->cond, &self->lock);
      if (self->aborted || cursor >= self->produced)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      n_slots = MIN (self->produced - cursor, MAX_BATCH);
      for (guint i = 0; i < n_slots; i++)
        slots[i] = &self->slots[(cursor + i) % N_SLOTS];
      g_mutex_unlock (&self->lock);

      /* A failed target keeps draining the ring, without I/O, so the others never wait. */
      if (!target_failed (t))
        {
          if (check_cancelled (t, &error)
              || !write_slots (t, slots, n_slots, &since_sync, &error))
            fail_target (t, g_steal_pointer (&error));
        }

      g_mutex_lock (&self->lock);
      if (t->error == NULL)
        t->written = slots[n_slots - 1]->offset + slots[n_slots - 1]->len;
      for (guint i = 0; i < n_slots; i++)
        slots[i]->pending--;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      cursor += n_slots;
    }

  g_mutex_lock (&self->lock);
  aborted = self->aborted;
  total = self->total;
  g_mutex_unlock (&self->lock);

  if (aborted || target_failed (t))
    goto out;

  set_phase (t, RD_WRITE_PHASE_FLUSHING);
  if (!sync_target (t, &error)
      || (self->head_len > 0 && !pwrite_all (t, self->head, self->head_len, 0, &error))
      || !sync_target (t, &error))
    {
      fail_target (t, g_steal_pointer (&error));
      goto out;
    }
  if (!t->is_block && ftruncate (t->fd, total) != 0)
    {
      fail_target (t, io_error (t, _("Truncating"), total, errno));
      goto out;
    }
  g_mutex_lock (&self->lock);
  t->written = total;
  g_mutex_unlock (&self->lock);

  if (self->verify)
    {
      set_phase (t, RD_WRITE_PHASE_VERIFYING);
      if (!verify_target (t, total, &error))
        {
          fail_target (t, g_steal_pointer (&error));
          goto out;
        }
    }
  set_phase (t, RD_WRITE_PHASE_DONE);
  return NULL;

out:
  if (!target_failed (t))
    {
      /* The reader gave up: cancelled or the source is broken. */
      if (!g_cancellable_set_error_if_cancelled (self->cancellable, &error))
        g_set_error (&error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED,
                     _("Writing %s stopped because the image could not be read"), t->name);
      fail_target (t, g_steal_pointer (&error));
    }
  wipe_edges (t);
  return NULL;
}

/* Suspend inhibition through logind; without logind (containers, tests) writing goes on. */
static int
inhibit_suspend (void)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GError) error = NULL;
  int handle;

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      g_debug ("No system bus, not inhibiting suspend: %s", error->message);
      return -1;
    }
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
    bus, "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
    "Inhibit",
    g_variant_new ("(ssss)", "sleep", "Recovery Desk", _("Writing a USB key"), "block"),
    G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 2000, NULL, &fds, NULL, &error);
  if (reply == NULL)
    {
      g_debug ("Could not inhibit suspend: %s", error->message);
      return -1;
    }
  g_variant_get (reply, "(h)", &handle);
  return g_unix_fd_list_get (fds, handle, NULL);
}

static char *
format_target_failures (RdImageWriter *self, guint n_failed)
{
  GString *message = g_string_new (NULL);

  g_string_printf (message,
                   g_dngettext (GETTEXT_PACKAGE, "%u of %u keys failed:", "%u of %u keys failed:",
                                self->targets->len),
                   n_failed, self->targets->len);
  for (guint i = 0; i < self->targets->len; i++)
    {
      Target *t = g_ptr_array_index (self->targets, i);

      if (t->error != NULL)
        g_string_append_printf (message, "\n%s", t->error->message);
    }
  return g_string_free (message, FALSE);
}

/**
 * rd_image_writer_run:
 *
 * Writes the image to every target, flushes, writes the first MiB, flushes again and (unless
 * turned off) verifies each target by reading it back. Blocks; see rd_image_writer_run_async().
 * Succeeds only when every target is written, flushed and verified. When some targets fail,
 * the others still finish; the error (%RD_IMAGING_ERROR_TARGETS_FAILED with several targets)
 * names the failed ones, and rd_image_writer_get_target_progress() tells them apart.
 */
gboolean
rd_image_writer_run (RdImageWriter *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) source_error = NULL;
  EVP_MD_CTX *ctx;
  unsigned int digest_len = 0;
  guint n_failed = 0;
  int inhibit_fd;

  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (self->targets->len == 0)
    {
      g_set_error (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_FAILED, _("No target to write to"));
      return FALSE;
    }
  if (!rd_image_source_check_raw_writable (self->source, error)
      || !rd_image_source_rewind (self->source, error))
    return FALSE;

  self->running = TRUE;
  g_set_object (&self->cancellable, cancellable);
  for (int i = 0; i < N_SLOTS; i++)
    if (self->slots[i].data == NULL)
      self->slots[i].data = aligned_alloc_or_abort (CHUNK_SIZE);
  if (self->head == NULL)
    self->head = aligned_alloc_or_abort (HEAD_SIZE);
  self->n_alive = self->targets->len;

  /* A target known to be too small fails at once rather than after filling it. */
  for (guint i = 0; i < self->targets->len; i++)
    {
      Target *t = g_ptr_array_index (self->targets, i);
      guint64 need = rd_image_source_get_uncompressed_size (self->source);

      if (rd_image_source_get_size_certainty (self->source) != RD_SIZE_UNKNOWN && need > t->size)
        {
          g_autofree char *image_size = g_format_size (need);
          g_autofree char *drive_size = g_format_size (t->size);

          t->buffer = aligned_alloc_or_abort (CHUNK_SIZE);
          fail_target (t, g_error_new (RD_IMAGING_ERROR, RD_IMAGING_ERROR_TOO_SMALL,
                                       _("%s is too small: the image needs %s (%" G_GUINT64_FORMAT
                                         " bytes) and the drive has %s (%" G_GUINT64_FORMAT
                                         " bytes)"),
                                       t->name, image_size, need, drive_size, t->size));
        }
    }

  inhibit_fd = inhibit_suspend ();

  for (guint i = 0; i < self->targets->len; i++)
    {
      Target *t = g_ptr_array_index (self->targets, i);

      if (t->error == NULL)
        t->thread = g_thread_new ("rd-writer", target_thread, t);
    }

  ctx = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  for (guint64 seq = 0;; seq++)
    {
      Slot *slot = &self->slots[seq % N_SLOTS];
      gboolean stop = FALSE;
      gssize n;

      g_mutex_lock (&self->lock);
      while (slot->pending > 0 && self->n_alive > 0 && !g_cancellable_is_cancelled (cancellable))
        g_cond_wait_until (&self->cond, &self->lock, g_get_monotonic_time () + 100 * 1000);
      stop = self->n_alive == 0 || g_cancellable_is_cancelled (cancellable);
      if (stop)
        {
          self->aborted = TRUE;
          g_cond_broadcast (&self->cond);
        }
      g_mutex_unlock (&self->lock);
      if (stop)
        break;

      /* Writers that failed still drain slots; wait for them so no slot is refilled in use. */
      g_mutex_lock (&self->lock);
      while (slot->pending > 0)
        g_cond_wait (&self->cond, &self->lock);
      g_mutex_unlock (&self->lock);

      g_mutex_lock (&self->source_lock);
      n = rd_image_source_read (self->source, slot->data, CHUNK_SIZE, &source_error);
      g_mutex_unlock (&self->source_lock);

      g_mutex_lock (&self->lock);
      self->source_position = rd_image_source_get_compressed_position (self->source);
      if (n < 0)
        {
          self->aborted = TRUE;
          g_cond_broadcast (&self->cond);
          g_mutex_unlock (&self->lock);
          break;
        }
      if (n == 0)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      g_mutex_unlock (&self->lock);

      EVP_DigestUpdate (ctx, slot->data, n);
      if (seq == 0)
        {
          self->head_len = MIN ((gsize) n, (gsize) HEAD_SIZE);
          memcpy (self->head, slot->data, self->head_len);
        }

      g_mutex_lock (&self->lock);
      slot->len = n;
      slot->offset = self->bytes_read;
      slot->pending = self->targets->len;
      for (guint i = 0; i < self->targets->len; i++)
        if (((Target *) g_ptr_array_index (self->targets, i))->thread == NULL)
          slot->pending--; /* refused before starting */
      self->bytes_read += n;
      self->produced++;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);

      if (self->hook != NULL)
        self->hook (self, self->bytes_read, self->hook_data);
    }

  EVP_DigestFinal_ex (ctx, self->digest, &digest_len);
  EVP_MD_CTX_free (ctx);

  g_mutex_lock (&self->lock);
  self->have_digest = !self->aborted;
  self->total = self->bytes_read;
  self->eof = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < self->targets->len; i++)
    {
      Target *t = g_ptr_array_index (self->targets, i);

      if (t->thread != NULL)
        g_thread_join (g_steal_pointer (&t->thread));
      if (t->error != NULL)
        n_failed++;
    }

  if (inhibit_fd >= 0)
    close (inhibit_fd);
  g_clear_object (&self->cancellable);

  if (source_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&source_error));
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (n_failed == 0)
    return TRUE;
  if (self->targets->len == 1)
    {
      Target *t = g_ptr_array_index (self->targets, 0);

      g_propagate_error (error, g_error_copy (t->error));
      return FALSE;
    }
  {
    g_autofree char *message = format_target_failures (self, n_failed);

    g_set_error_literal (error, RD_IMAGING_ERROR, RD_IMAGING_ERROR_TARGETS_FAILED, message);
  }
  return FALSE;
}

static void
run_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (rd_image_writer_run (RD_IMAGE_WRITER (source_object), cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
rd_image_writer_run_async (RdImageWriter      *self,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (RD_IS_IMAGE_WRITER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rd_image_writer_run_async);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, run_thread);
}

gboolean
rd_image_writer_run_finish (RdImageWriter *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Snapshots */

void
rd_image_writer_get_progress (RdImageWriter *self,
                              guint64       *bytes_read,
                              guint64       *source_position,
                              guint64       *total)
{
  g_return_if_fail (RD_IS_IMAGE_WRITER (self));

  g_mutex_lock (&self->lock);
  if (bytes_read != NULL)
    *bytes_read = self->bytes_read;
  if (source_position != NULL)
    *source_position = self->source_position;
  if (total != NULL)
    {
      if (self->eof)
        *total = self->total;
      else if (rd_image_source_get_size_certainty (self->source) == RD_SIZE_EXACT)
        *total = rd_image_source_get_uncompressed_size (self->source);
      else
        *total = 0;
    }
  g_mutex_unlock (&self->lock);
}

RdWritePhase
rd_image_writer_get_target_progress (RdImageWriter *self,
                                     guint          index,
                                     guint64       *bytes_written,
                                     guint64       *bytes_verified)
{
  Target *t;
  RdWritePhase phase;

  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), RD_WRITE_PHASE_FAILED);
  g_return_val_if_fail (index < self->targets->len, RD_WRITE_PHASE_FAILED);

  t = g_ptr_array_index (self->targets, index);
  g_mutex_lock (&self->lock);
  phase = t->phase;
  if (bytes_written != NULL)
    *bytes_written = t->written;
  if (bytes_verified != NULL)
    *bytes_verified = t->verified;
  g_mutex_unlock (&self->lock);
  return phase;
}

GError *
rd_image_writer_dup_target_error (RdImageWriter *self, guint index)
{
  Target *t;
  GError *error;

  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), NULL);
  g_return_val_if_fail (index < self->targets->len, NULL);

  t = g_ptr_array_index (self->targets, index);
  g_mutex_lock (&self->lock);
  error = t->error ? g_error_copy (t->error) : NULL;
  g_mutex_unlock (&self->lock);
  return error;
}

/**
 * rd_image_writer_dup_sha256:
 *
 * Returns: (nullable): the SHA-256 of the image as written, in hex, once it was read whole
 */
char *
rd_image_writer_dup_sha256 (RdImageWriter *self)
{
  GString *hex;

  g_return_val_if_fail (RD_IS_IMAGE_WRITER (self), NULL);

  g_mutex_lock (&self->lock);
  if (!self->have_digest)
    {
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  hex = g_string_sized_new (2 * DIGEST_LEN);
  for (int i = 0; i < DIGEST_LEN; i++)
    g_string_append_printf (hex, "%02x", self->digest[i]);
  g_mutex_unlock (&self->lock);
  return g_string_free (hex, FALSE);
}
