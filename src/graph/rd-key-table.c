/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-key-table"

#include "config.h"

#include "rd-key-table-private.h"

#include <string.h>
#include <sys/mman.h>

/* A table from ids and serials to pointers, for the sync's joins: some
 * 100,000 keys a list, each looked up once or twice, at random. In tables
 * that size nearly every lookup waits for memory, and a GHashTable, with
 * hashes, keys, values and the key's text in four places, waits several
 * times (some 250 ns a lookup here). An entry here is one cache line
 * holding the key's text (up to 44 bytes: ids are 36), its hash and its
 * value, and the callers work through a page of keys at a time, asking for
 * the entry of the key a few places ahead to be fetched while they handle
 * this one (rd_key_table_prefetch_ahead()): some 70 ns a lookup.
 *
 * Tables of 64 KiB and more are mapped on their own, asking for huge pages
 * (where the kernel gives them on request: transparent_hugepage=madvise):
 * some 10,000 fewer page faults and TLB misses at 100,000 keys. They grow
 * in place, in address space reserved for them (see grow_once()).
 *
 * Open addressing with linear probing, at most 4/5 full. Values are never
 * NULL (a lookup returns NULL for a missing key). Keys are copied. Not
 * thread-safe: one writer, or readers only. */

#define INLINE_KEY 44
#define AHEAD 8
#define HUGE_PAGE (2 * 1024 * 1024)
/* From this size on a table is mapped: it then grows without copying or
 * clearing memory (see double_memory()). */
#define MAPPED_SIZE (64 * 1024)

typedef struct
{
  guint64 hash; /* 0: the entry is empty */
  gpointer value;
  guint32 length;
  char key[INLINE_KEY]; /* the key, or a pointer to a copy when longer */
} Entry;

G_STATIC_ASSERT (sizeof (Entry) == 64);

struct _RdKeyTable
{
  Entry *entries;
  gsize reserved; /* bytes of address space mapped for the entries; 0: g_malloc() */
  gsize mask;
  guint size;
  guint limit;          /* the size at which it grows */
  GPtrArray *long_keys; /* copies of the keys longer than INLINE_KEY */
};

/* The key's 8-byte words mixed by multiplication, never 0: its lowest bit
 * is always set, so an entry's place comes from the bits above. */
void
rd_key_init (RdKey      *key,
             const char *text,
             gsize       length)
{
  const char *p = text;
  gsize left = length;
  guint64 hash = length * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  guint64 word;

  for (; left >= 8; p += 8, left -= 8)
    {
      memcpy (&word, p, 8);
      hash = (hash ^ word) * G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
      hash ^= hash >> 29;
    }
  word = 0;
  memcpy (&word, p, left);
  hash = (hash ^ word) * G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  hash ^= hash >> 32;

  key->key = text;
  key->length = length;
  key->hash = hash | 1;
}

/* Address space for a mapped table to grow in without moving: 2^24
 * entries, some 13 million keys. */
#define RESERVE ((gsize) 1 << 30)

/* Maps room for at least @size bytes of entries, aligned to a huge page,
 * and makes the first @size usable. Returns NULL when it cannot. */
static Entry *
map_entries (gsize  size,
             gsize *reserved)
{
  gsize want = MAX (RESERVE, size);
  char *start = mmap (NULL, want + HUGE_PAGE, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *aligned;
  char *end;

  if (start == MAP_FAILED)
    return NULL;
  aligned = (char *) (((guintptr) start + HUGE_PAGE - 1) & ~(guintptr) (HUGE_PAGE - 1));
  end = start + want + HUGE_PAGE;
  if (aligned > start)
    munmap (start, aligned - start);
  if (end > aligned + want)
    munmap (aligned + want, end - (aligned + want));
#ifdef MADV_HUGEPAGE
  madvise (aligned, want, MADV_HUGEPAGE);
#endif
  if (mprotect (aligned, size, PROT_READ | PROT_WRITE) != 0)
    {
      munmap (aligned, want);
      return NULL;
    }
  *reserved = want;
  return (Entry *) aligned;
}

static void
allocate (RdKeyTable *self,
          gsize       capacity)
{
  gsize size = capacity * sizeof (Entry);

  self->entries = NULL;
  self->reserved = 0;
  if (size >= MAPPED_SIZE)
    self->entries = map_entries (size, &self->reserved);
  if (self->entries == NULL)
    self->entries = g_new0 (Entry, capacity);
  self->mask = capacity - 1;
  self->limit = (guint) (capacity / 5 * 4);
}

static void
release (Entry *entries,
         gsize  reserved)
{
  if (reserved != 0)
    munmap (entries, reserved);
  else
    g_free (entries);
}

RdKeyTable *
rd_key_table_new (void)
{
  RdKeyTable *self = g_new0 (RdKeyTable, 1);

  allocate (self, 64);
  return self;
}

void
rd_key_table_free (RdKeyTable *self)
{
  if (self == NULL)
    return;

  release (self->entries, self->reserved);
  if (self->long_keys != NULL)
    g_ptr_array_unref (self->long_keys);
  g_free (self);
}

guint
rd_key_table_get_size (RdKeyTable *self)
{
  return self->size;
}

static inline gsize
place (RdKeyTable *self,
       guint64     hash)
{
  return (hash >> 1) & self->mask;
}

static inline const char *
entry_key (const Entry *entry)
{
  const char *copy;

  if (entry->length <= INLINE_KEY)
    return entry->key;
  memcpy (&copy, entry->key, sizeof copy);
  return copy;
}

static inline Entry *
find (RdKeyTable  *self,
      const RdKey *key)
{
  for (gsize i = place (self, key->hash);; i = (i + 1) & self->mask)
    {
      Entry *entry = &self->entries[i];

      if (entry->hash == 0 || (entry->hash == key->hash && entry->length == key->length &&
                               memcmp (entry_key (entry), key->key, key->length) == 0))
        return entry;
    }
}

/* The memory of a table twice the size, its first half the entries as
 * they are and its second half empty. A mapped table grows where it is,
 * into the address space it reserved, so that only the new half is fresh
 * memory (zeroed by the kernel, at some 0.3 to 0.7 ms a MiB here), where
 * allocating a new table beside the old one at each doubling, from 64
 * entries up, made twice the final size fresh and copied every entry. */
static void
double_memory (RdKeyTable *self)
{
  gsize old_capacity = self->mask + 1;
  gsize old_size = old_capacity * sizeof (Entry);
  Entry *old = self->entries;
  gsize old_reserved = self->reserved;

  if (old_reserved >= 2 * old_size &&
      mprotect ((char *) old + old_size, old_size, PROT_READ | PROT_WRITE) == 0)
    self->mask = 2 * old_capacity - 1;
  else if (old_reserved == 0 && 2 * old_size < MAPPED_SIZE)
    {
      self->entries = g_renew (Entry, old, 2 * old_capacity);
      memset (self->entries + old_capacity, 0, old_size);
      self->mask = 2 * old_capacity - 1;
    }
  else
    {
      allocate (self, 2 * old_capacity);
      memcpy (self->entries, old, old_size);
      release (old, old_reserved);
    }
  self->limit = (guint) ((self->mask + 1) / 5 * 4);
}

/* Doubles the table and places each entry again, in place.
 *
 * An entry whose home was slot p goes home to p or to p + the old size.
 * The old slots are taken in order from the one after an empty slot, so
 * that each run of full slots is taken from its start; each entry is taken
 * out and put in the first empty slot from its new home. Every slot that
 * probe passes holds an entry placed already (one that will not move
 * again), up to the slot the entry came from at the latest, or is in the
 * new half, which only placed entries fill. The one exception would be a
 * probe that wraps from the last slot to the first, where entries not yet
 * placed may stand: such an entry waits, and is put in once all others
 * are placed. (200,000 random tables with runs of full slots at both ends
 * met none: it is a guard.) */
static void
grow_once (RdKeyTable *self)
{
  gsize old_capacity = self->mask + 1;
  g_autoptr (GArray) waiting = NULL;
  Entry *entries;
  gsize start = 0;

  double_memory (self);
  entries = self->entries;

  while (entries[start].hash != 0)
    start++;
  for (gsize n = 1; n <= old_capacity; n++)
    {
      gsize i = (start + n) & (old_capacity - 1);
      Entry entry = entries[i];
      gsize j;

      if (entry.hash == 0)
        continue;
      /* An empty slot answers NULL. */
      entries[i].hash = 0;
      entries[i].value = NULL;
      for (j = place (self, entry.hash); entries[j].hash != 0 && j < self->mask; j++)
        ;
      if (entries[j].hash == 0)
        entries[j] = entry;
      else
        {
          if (waiting == NULL)
            waiting = g_array_new (FALSE, FALSE, sizeof (Entry));
          g_array_append_val (waiting, entry);
        }
    }

  for (guint k = 0; waiting != NULL && k < waiting->len; k++)
    {
      Entry *entry = &g_array_index (waiting, Entry, k);
      gsize j = place (self, entry->hash);

      while (entries[j].hash != 0)
        j = (j + 1) & self->mask;
      entries[j] = *entry;
    }
}

static void
grow (RdKeyTable *self,
      gsize       capacity)
{
  while (self->mask + 1 < capacity)
    grow_once (self);
}

/**
 * rd_key_table_reserve:
 * @more: how many keys may be added
 *
 * Makes room for @more keys, so that the table does not move while they
 * are added and entries asked for in advance stay where they were fetched.
 */
void
rd_key_table_reserve (RdKeyTable *self,
                      guint       more)
{
  gsize capacity = self->mask + 1;

  if ((gsize) self->size + more <= self->limit)
    return;
  while (((gsize) self->size + more) > capacity / 5 * 4)
    capacity *= 2;
  grow (self, capacity);
}

/* Asks for @key's first entry to be fetched from memory, to be looked up
 * a little later. */
static inline void
prefetch (RdKeyTable  *self,
          const RdKey *key)
{
  __builtin_prefetch (&self->entries[place (self, key->hash)]);
}

/**
 * rd_key_table_prefetch_ahead:
 * @index: the key about to be handled
 *
 * For a loop over @keys: asks for the entry of the key a few places after
 * @index to be fetched, and at 0 for those before it too.
 */
void
rd_key_table_prefetch_ahead (RdKeyTable  *self,
                             const RdKey *keys,
                             guint        n_keys,
                             guint        index)
{
  if (index == 0)
    for (guint i = 0; i < n_keys && i < AHEAD; i++)
      prefetch (self, &keys[i]);
  if (index + AHEAD < n_keys)
    prefetch (self, &keys[index + AHEAD]);
}

gpointer
rd_key_table_lookup (RdKeyTable  *self,
                     const RdKey *key)
{
  return find (self, key)->value;
}

/* The values of @keys, into @values (NULL for a missing key), fetching
 * entries a few keys ahead. */
void
rd_key_table_lookup_many (RdKeyTable  *self,
                          const RdKey *keys,
                          guint        n_keys,
                          gpointer    *values)
{
  for (guint i = 0; i < n_keys; i++)
    {
      rd_key_table_prefetch_ahead (self, keys, n_keys, i);
      values[i] = find (self, &keys[i])->value;
    }
}

/**
 * rd_key_table_lookup_or_add:
 * @added: (out): whether @key is new; its value is then %NULL, for the
 *   caller to set
 *
 * Returns: the address of @key's value, valid until the table grows
 */
gpointer *
rd_key_table_lookup_or_add (RdKeyTable  *self,
                            const RdKey *key,
                            gboolean    *added)
{
  Entry *entry = find (self, key);

  *added = entry->hash == 0;
  if (!*added)
    return &entry->value;

  if (self->size + 1 > self->limit)
    {
      grow (self, (self->mask + 1) * 2);
      entry = find (self, key);
    }
  entry->hash = key->hash;
  entry->length = (guint32) key->length;
  if (key->length <= INLINE_KEY)
    memcpy (entry->key, key->key, key->length);
  else
    {
      char *copy = g_strndup (key->key, key->length);

      if (self->long_keys == NULL)
        self->long_keys = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (self->long_keys, copy);
      memcpy (entry->key, &copy, sizeof copy);
    }
  entry->value = NULL;
  self->size++;

  return &entry->value;
}
