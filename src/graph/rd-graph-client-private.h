/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-graph-client.h"

G_BEGIN_DECLS

/* Test knobs: how long backoff waits, the cap on Retry-After, and how many
 * retries a request gets. The defaults are 1 s, 60 s, 60 s and 4. */
void rd_graph_client_set_retry_policy (RdGraphClient *self,
                                       guint          backoff_base_ms,
                                       guint          backoff_cap_ms,
                                       guint          retry_after_cap_ms,
                                       guint          max_retries);

G_END_DECLS
