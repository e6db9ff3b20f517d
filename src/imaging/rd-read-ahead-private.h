/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads a target back from the start on a thread of its own, a few aligned chunks ahead of
 * the caller, so that reading the device and hashing or comparing what was read overlap. */
typedef struct _RdReadAhead RdReadAhead;

RdReadAhead  *rd_read_ahead_new     (int           fd,
                                     const char   *name,
                                     guint64       total);
const guint8 *rd_read_ahead_next    (RdReadAhead  *self,
                                     gsize        *len,
                                     GError      **error);
void          rd_read_ahead_release (RdReadAhead  *self);
void          rd_read_ahead_free    (RdReadAhead  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdReadAhead, rd_read_ahead_free)

G_END_DECLS
