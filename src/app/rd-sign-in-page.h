/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-entra-auth.h"

G_BEGIN_DECLS

#define RD_TYPE_SIGN_IN_PAGE (rd_sign_in_page_get_type ())

G_DECLARE_FINAL_TYPE (RdSignInPage, rd_sign_in_page, RD, SIGN_IN_PAGE, GtkWidget)

RdEntraAuth *rd_sign_in_page_get_auth   (RdSignInPage *self);
void         rd_sign_in_page_set_auth   (RdSignInPage *self,
                                         RdEntraAuth  *auth);
void         rd_sign_in_page_reset      (RdSignInPage *self);
void         rd_sign_in_page_show_error (RdSignInPage *self,
                                         const char   *message);

G_END_DECLS
