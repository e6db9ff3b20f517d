/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-malloc"

#include "config.h"

#include "rd-malloc.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

/**
 * rd_malloc_tune:
 *
 * Sets glibc's malloc() up for what the app does, in the GUI, the CLI and
 * the benchmarks alike. Call it first in main(), before any thread starts.
 *
 * - Large blocks, once freed, are kept for the next ones (the mmap and
 *   trim thresholds): a window's frame drawn with cairo is a block of some
 *   6 MB (1600 × 1000 pixels), which malloc() would otherwise map anew for
 *   each frame and the kernel fill with fresh pages, a few thousand page
 *   faults a frame (10–20 ms at a start).
 * - A thread's heap grows in one step, not a page at a time (the top pad):
 *   glibc grows the heap of a thread's arena by what each allocation
 *   needs, with an mprotect() for each new page, and applies the pad only
 *   as it makes a heap (64 MiB of address space). A sync of 100,000
 *   devices made some 12,500 of those calls on the two threads that build
 *   its devices; with the pad, none, and 10 % less CPU time
 *   (bench/sync-100k, 14 interleaved runs each). The pad is address space:
 *   memory is only used as it is touched.
 */
void
rd_malloc_tune (void)
{
#ifdef __GLIBC__
  mallopt (M_MMAP_THRESHOLD, 64 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  mallopt (M_TOP_PAD, 64 * 1024 * 1024);
#endif
}
