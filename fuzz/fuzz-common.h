/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* libFuzzer's entry points, which each fuzz-<thing>.c defines. */
int      LLVMFuzzerInitialize   (int     *argc,
                                 char  ***argv);
int      LLVMFuzzerTestOneInput (const uint8_t *data,
                                 size_t         size);

void     rd_fuzz_init           (void);
gboolean rd_fuzz_verbose        (void);

G_END_DECLS
