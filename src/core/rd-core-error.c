/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-core"

#include "config.h"

#include "rd-core-error.h"

G_DEFINE_QUARK (rd-core-error-quark, rd_core_error)
