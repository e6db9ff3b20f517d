/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RdKeyTable RdKeyTable;

/* A key and its hash, computed once: to prefetch its entry, then use it. */
typedef struct
{
  const char *key;
  gsize length;
  guint64 hash;
} RdKey;

void        rd_key_init                (RdKey       *key,
                                        const char  *text,
                                        gsize        length);

RdKeyTable *rd_key_table_new           (void);
void        rd_key_table_free          (RdKeyTable  *self);
guint       rd_key_table_get_size      (RdKeyTable  *self);
void        rd_key_table_reserve       (RdKeyTable  *self,
                                        guint        more);
void        rd_key_table_prefetch_ahead (RdKeyTable  *self,
                                        const RdKey *keys,
                                        guint        n_keys,
                                        guint        index);
gpointer    rd_key_table_lookup        (RdKeyTable  *self,
                                        const RdKey *key);
void        rd_key_table_lookup_many   (RdKeyTable  *self,
                                        const RdKey *keys,
                                        guint        n_keys,
                                        gpointer    *values);
gpointer   *rd_key_table_lookup_or_add (RdKeyTable  *self,
                                        const RdKey *key,
                                        gboolean    *added);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdKeyTable, rd_key_table_free)

G_END_DECLS
