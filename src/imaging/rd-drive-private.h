/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <udisks/udisks.h>

#include "rd-drive.h"

G_BEGIN_DECLS

RdDrive      *rd_drive_new_for_object      (UDisksClient *client,
                                            UDisksObject *object);
UDisksObject *rd_drive_get_udisks_object   (RdDrive      *self);
gboolean      rd_drive_is_candidate        (UDisksClient *client,
                                            UDisksObject *object);

/* For tests: a drive with the given facts and no UDisks object behind it. */
RdDrive      *rd_drive_new_for_testing     (const char   *device,
                                            dev_t         device_number,
                                            guint64       size,
                                            gboolean      read_only,
                                            gboolean      hint_system,
                                            gboolean      removable);

/* For tests: a test drive's identity. @object_path may name a regular file, which the
 * helper then writes as an image file. */
void          rd_drive_set_identity_for_testing (RdDrive    *self,
                                                 const char *object_path,
                                                 const char *vendor,
                                                 const char *model,
                                                 const char *serial);

/* The safety predicate with the /proc files it reads made explicit. */
gboolean      rd_drive_check_target_full   (RdDrive       *self,
                                            RdImageSource *source,
                                            const char    *mountinfo_path,
                                            const char    *swaps_path,
                                            GError       **error);

/* The whole disks (dev_t) under @dev: through partitions, dm/md slaves and loop backing
 * files. */
void          rd_drive_collect_whole_disks (dev_t         dev,
                                            GArray       *disks);

G_END_DECLS
