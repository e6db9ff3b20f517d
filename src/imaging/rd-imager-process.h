/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-imager-progress.h"

G_BEGIN_DECLS

#define RD_TYPE_IMAGER_PROCESS (rd_imager_process_get_type ())

/* One run of recovery-desk-imager writing an image to keys, followed through its JSON Lines
 * progress: the "event" signal (detailed by the event's name, "event::progress") fires for
 * every line, on the thread-default main context of the caller. */
G_DECLARE_FINAL_TYPE (RdImagerProcess, rd_imager_process, RD, IMAGER_PROCESS, GObject)

/* What `recovery-desk-imager compose` builds (src/imager/PROTOCOL.md); zeros are the defaults. */
typedef struct
{
  const char        *iso;
  RdMediaLayout      layout;
  RdPartitionTable   table;       /* RD_PARTITION_TABLE_NONE: GPT */
  const char *const *payloads;    /* (nullable) folders for the IMAGES partition (winpe-images) */
  guint              split_mib;   /* 0: 4094 */
  guint              winpe_mib;   /* 0: 4096, grown when the ISO needs more */
  const char        *scratch_dir; /* (nullable) */
  const char        *output;      /* (nullable) save the image here instead of writing targets */
} RdImagerComposeOptions;

char            *rd_imager_process_find_helper    (void);

RdImagerProcess *rd_imager_process_new            (void);
const char      *rd_imager_process_get_helper     (RdImagerProcess     *self);
void             rd_imager_process_set_helper     (RdImagerProcess     *self,
                                                   const char          *helper);
gboolean         rd_imager_process_get_running    (RdImagerProcess     *self);
void             rd_imager_process_write_async    (RdImagerProcess     *self,
                                                   const char          *source,
                                                   const char *const   *targets,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean         rd_imager_process_write_finish   (RdImagerProcess     *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
void             rd_imager_process_compose_async  (RdImagerProcess              *self,
                                                   const RdImagerComposeOptions *options,
                                                   const char *const            *targets,
                                                   GCancellable                 *cancellable,
                                                   GAsyncReadyCallback           callback,
                                                   gpointer                      user_data);
gboolean         rd_imager_process_compose_finish (RdImagerProcess     *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
void             rd_imager_process_cancel         (RdImagerProcess     *self);
RdImagerEvent   *rd_imager_process_get_start      (RdImagerProcess     *self);
RdImagerEvent   *rd_imager_process_get_done       (RdImagerProcess     *self);
RdImagerEvent   *rd_imager_process_get_compose_start (RdImagerProcess  *self);
RdImagerEvent   *rd_imager_process_get_compose_done  (RdImagerProcess  *self);

G_END_DECLS
