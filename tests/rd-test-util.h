/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-device-query-model.h"
#include "rd-device.h"

G_BEGIN_DECLS

char     *rd_test_make_tmp_dir (const char        *tmpl);
void      rd_test_remove_tree  (const char        *path);
RdDevice *rd_test_ready_device (const char        *id,
                                const char        *name,
                                const char        *os_version,
                                GDateTime         *last_sync);
char     *rd_test_self_exe     (void);
void      rd_test_write_byte   (char               c);
GPid      rd_test_spawn_child  (const char *const *argv,
                                int               *out_fd);
void      rd_test_kill_child   (GPid               pid);
void      rd_test_wait_settled (RdDeviceQueryModel *query);

G_END_DECLS
