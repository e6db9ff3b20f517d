/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-application.h"
#include "rd-session.h"

G_BEGIN_DECLS

#define RD_TYPE_WINDOW (rd_window_get_type ())

G_DECLARE_FINAL_TYPE (RdWindow, rd_window, RD, WINDOW, AdwApplicationWindow)

RdWindow *rd_window_new        (RdApplication *application);
RdBoard  *rd_window_get_board  (RdWindow      *self);
void      rd_window_set_board  (RdWindow      *self,
                                RdBoard       *board);
void      rd_window_show_toast (RdWindow      *self,
                                const char    *message);

RdSession *rd_window_get_session  (RdWindow  *self);
void       rd_window_open_session (RdWindow  *self,
                                   RdSession *session);

G_END_DECLS
