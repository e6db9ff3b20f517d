/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rd-board.h"

G_BEGIN_DECLS

void
_rd_board_set_hand_off_step (RdBoard *self, guint devices);

G_END_DECLS
