/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RD_CORE_ERROR (rd_core_error_quark ())

typedef enum
{
  RD_CORE_ERROR_INVALID_DATA,
  RD_CORE_ERROR_ILLEGAL_TRANSITION,
  RD_CORE_ERROR_MOVE_REFUSED,
  RD_CORE_ERROR_METHOD_NOT_IN_LANE,
  RD_CORE_ERROR_STORE_CORRUPT,
  RD_CORE_ERROR_STORE_NEWER_VERSION,
  RD_CORE_ERROR_IO,
} RdCoreError;

GQuark rd_core_error_quark (void);

G_END_DECLS
