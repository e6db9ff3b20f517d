/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-imaging-error.h"
#include "rd-imaging-types.h"

G_BEGIN_DECLS

/* One line of recovery-desk-imager's JSON Lines progress protocol (src/imager/PROTOCOL.md),
 * parsed. Events the protocol may add later parse as RD_IMAGER_EVENT_UNKNOWN. */
typedef enum
{
  RD_IMAGER_EVENT_UNKNOWN,
  RD_IMAGER_EVENT_START,
  RD_IMAGER_EVENT_PHASE,
  RD_IMAGER_EVENT_PROGRESS,
  RD_IMAGER_EVENT_TARGET_FAILED,
  RD_IMAGER_EVENT_DONE,
  RD_IMAGER_EVENT_ERROR,
  RD_IMAGER_EVENT_COMPOSE_START,
  RD_IMAGER_EVENT_COMPOSE_PROGRESS,
  RD_IMAGER_EVENT_COMPOSE_DONE,
} RdImagerEventType;

/* A target as "start", "progress" and "done" describe it; each event fills what it carries. */
typedef struct
{
  guint index;
  /* start */
  char *name;
  gboolean is_drive;
  char *object_path;
  char *device;
  char *vendor;
  char *model;
  char *serial;
  guint64 size;
  /* progress */
  RdWritePhase phase;
  guint64 written;
  guint64 verified;
  /* done */
  gboolean ok;
} RdImagerTarget;

typedef struct
{
  RdImagerEventType type;
  char *event_name;         /* as sent, also for unknown events */

  char *source;             /* start */
  char *compression;        /* start */
  gboolean verify;          /* start */
  guint64 total;            /* start, progress */
  gboolean total_known;     /* start, progress: false when the helper sent null */
  guint target;             /* phase, target-failed */
  RdWritePhase phase;       /* phase, progress */
  guint64 bytes;            /* progress, done */
  guint64 source_position;  /* progress */
  double rate;              /* progress: bytes per second */
  double eta;               /* progress: seconds */
  gboolean eta_known;       /* progress */
  char *name;               /* target-failed */
  char *code;               /* target-failed, error */
  char *message;            /* target-failed, error */
  char *sha256;             /* done */
  gboolean verified;        /* done */
  GArray *targets;          /* start, progress, done: RdImagerTarget, never NULL */

  /* compose: bytes and total (compose-progress) are the fields above */
  char *iso;                /* compose-start */
  char *layout;             /* compose-start: "setup", "winpe-images" */
  char *table;              /* compose-start: "gpt", "mbr" */
  guint64 split_size;       /* compose-start, bytes */
  guint64 image_size;       /* compose-start, compose-done */
  char *volume_label;       /* compose-start */
  RdComposeStep step;       /* compose-progress */
  double seconds;           /* compose-done */
  char *output;             /* compose-done, with --output */
} RdImagerEvent;

#define RD_TYPE_IMAGER_EVENT (rd_imager_event_get_type ())

GType          rd_imager_event_get_type     (void) G_GNUC_CONST;
RdImagerEvent *rd_imager_event_parse        (const char          *line,
                                             gssize               length,
                                             GError             **error);
RdImagerEvent *rd_imager_event_ref          (RdImagerEvent       *event);
void           rd_imager_event_unref        (RdImagerEvent       *event);
RdImagerTarget *rd_imager_event_get_target  (RdImagerEvent       *event,
                                             guint                index);
GError        *rd_imager_event_to_error     (RdImagerEvent       *event);

RdImagingError rd_imaging_error_from_code   (const char          *code);
gboolean       rd_write_phase_from_string   (const char          *name,
                                             RdWritePhase        *phase);
gboolean       rd_compose_step_from_string  (const char          *name,
                                             RdComposeStep       *step);
const char    *rd_compose_step_to_string    (RdComposeStep        step);
const char    *rd_compose_step_get_title    (RdComposeStep        step);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdImagerEvent, rd_imager_event_unref)

/* Splits the helper's stdout into lines as it arrives, however it is chunked, and parses
 * each complete line. */
typedef struct _RdImagerProgressParser RdImagerProgressParser;

RdImagerProgressParser *rd_imager_progress_parser_new    (void);
void                    rd_imager_progress_parser_free   (RdImagerProgressParser *self);
gboolean                rd_imager_progress_parser_feed   (RdImagerProgressParser *self,
                                                          const char             *data,
                                                          gsize                   length,
                                                          GPtrArray              *events,
                                                          GError                **error);
gboolean                rd_imager_progress_parser_finish (RdImagerProgressParser *self,
                                                          GError                **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdImagerProgressParser, rd_imager_progress_parser_free)

G_END_DECLS
