/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RD_IMAGING_ERROR (rd_imaging_error_quark ())

typedef enum
{
  RD_IMAGING_ERROR_FAILED,
  RD_IMAGING_ERROR_IO,             /* reading the source or writing/reading a target failed */
  RD_IMAGING_ERROR_UNSUPPORTED,    /* unknown format, zip with several entries, ... */
  RD_IMAGING_ERROR_CORRUPT,        /* the compressed data is damaged */
  RD_IMAGING_ERROR_NEEDS_WINDOWS_MEDIA, /* an ISO without partition table */
  RD_IMAGING_ERROR_SYSTEM_DRIVE,
  RD_IMAGING_ERROR_HOLDS_SOURCE,
  RD_IMAGING_ERROR_HOLDS_SYSTEM,   /* mounted /, /boot or active swap */
  RD_IMAGING_ERROR_READ_ONLY,
  RD_IMAGING_ERROR_TOO_SMALL,
  RD_IMAGING_ERROR_NOT_REMOVABLE,
  RD_IMAGING_ERROR_NOT_FOUND,
  RD_IMAGING_ERROR_VERIFY_MISMATCH,
  RD_IMAGING_ERROR_TARGETS_FAILED, /* some targets failed, others may have succeeded */
  RD_IMAGING_ERROR_TOO_MANY_TARGETS,
  RD_IMAGING_ERROR_UDISKS,         /* UDisks is unavailable or refused */
} RdImagingError;

GQuark rd_imaging_error_quark (void);

G_END_DECLS
