/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rd-cloud.h"
#include "rd-token-source.h"

G_BEGIN_DECLS

/* Microsoft Graph Command Line Tools, the client Graph PowerShell uses. The
 * app works with it out of the box; tenants that block it, or admins who
 * want their own consent, register a dedicated public client (README). */
#define RD_ENTRA_AUTH_DEFAULT_CLIENT_ID "14d82eec-204b-4c2f-b7e8-296a70dab67e"
#define RD_ENTRA_AUTH_DEFAULT_TENANT    "organizations"

/* The device code a user types in at the verification URI. */
#define RD_TYPE_ENTRA_DEVICE_CODE (rd_entra_device_code_get_type ())

typedef struct _RdEntraDeviceCode RdEntraDeviceCode;

GType              rd_entra_device_code_get_type             (void) G_GNUC_CONST;
RdEntraDeviceCode *rd_entra_device_code_ref                  (RdEntraDeviceCode *code);
void               rd_entra_device_code_unref                (RdEntraDeviceCode *code);
const char        *rd_entra_device_code_get_user_code        (RdEntraDeviceCode *code);
const char        *rd_entra_device_code_get_verification_uri (RdEntraDeviceCode *code);
const char        *rd_entra_device_code_get_message          (RdEntraDeviceCode *code);
int                rd_entra_device_code_get_expires_in       (RdEntraDeviceCode *code);
GDateTime         *rd_entra_device_code_get_expires_at       (RdEntraDeviceCode *code);
int                rd_entra_device_code_get_interval         (RdEntraDeviceCode *code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RdEntraDeviceCode, rd_entra_device_code_unref)

#define RD_TYPE_ENTRA_AUTH (rd_entra_auth_get_type ())

G_DECLARE_FINAL_TYPE (RdEntraAuth, rd_entra_auth, RD, ENTRA_AUTH, GObject)

RdEntraAuth        *rd_entra_auth_new                        (const char          *cloud_id,
                                                              const char          *login_endpoint,
                                                              const char          *tenant,
                                                              const char          *client_id,
                                                              GError             **error);
RdEntraAuth        *rd_entra_auth_new_for_cloud              (RdCloud             *cloud,
                                                              const char          *tenant,
                                                              const char          *client_id,
                                                              GError             **error);

const char         *rd_entra_auth_get_cloud_id               (RdEntraAuth         *self);
const char         *rd_entra_auth_get_login_endpoint         (RdEntraAuth         *self);
const char         *rd_entra_auth_get_tenant                 (RdEntraAuth         *self);
const char         *rd_entra_auth_get_client_id              (RdEntraAuth         *self);
const char * const *rd_entra_auth_get_scopes                 (RdEntraAuth         *self);
gboolean            rd_entra_auth_get_signed_in              (RdEntraAuth         *self);
const char         *rd_entra_auth_get_username               (RdEntraAuth         *self);
const char         *rd_entra_auth_get_display_name           (RdEntraAuth         *self);
const char         *rd_entra_auth_get_tenant_id              (RdEntraAuth         *self);

/* Device-code sign-in: show the code, then wait for the user. */
void                rd_entra_auth_begin_device_code_async    (RdEntraAuth         *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
RdEntraDeviceCode  *rd_entra_auth_begin_device_code_finish   (RdEntraAuth         *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                rd_entra_auth_complete_device_code_async (RdEntraAuth         *self,
                                                              RdEntraDeviceCode   *code,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean            rd_entra_auth_complete_device_code_finish (RdEntraAuth        *self,
                                                               GAsyncResult       *result,
                                                               GError            **error);

/* Browser sign-in: open the returned URL, then wait for the redirect. */
char               *rd_entra_auth_begin_browser              (RdEntraAuth         *self,
                                                              GError             **error);
void                rd_entra_auth_complete_browser_async     (RdEntraAuth         *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean            rd_entra_auth_complete_browser_finish    (RdEntraAuth         *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);

/* The refresh token kept in the Secret Service. */
void                rd_entra_auth_load_async                 (RdEntraAuth         *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean            rd_entra_auth_load_finish                (RdEntraAuth         *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                rd_entra_auth_restore_async              (RdEntraAuth         *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean            rd_entra_auth_restore_finish             (RdEntraAuth         *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                rd_entra_auth_refresh_async              (RdEntraAuth         *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean            rd_entra_auth_refresh_finish             (RdEntraAuth         *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                rd_entra_auth_sign_out_async             (RdEntraAuth         *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean            rd_entra_auth_sign_out_finish            (RdEntraAuth         *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);

G_END_DECLS
