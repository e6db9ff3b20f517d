/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-imaging"

#include "config.h"

#include "rd-imaging-error.h"

G_DEFINE_QUARK (rd-imaging-error-quark, rd_imaging_error)
