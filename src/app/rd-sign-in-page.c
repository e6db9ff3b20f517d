/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-sign-in-page"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-sign-in-page.h"

#include "rd-graph-error.h"

/* The first-run page: sign in to the organization with a device code (the
 * code shown large, to type in at the verification page on any device) or
 * in the browser (PKCE on a loopback redirect), or explore the demo tenant.
 * It emits ::signed-in when RdEntraAuth holds tokens, and ::explore-demo
 * when the admin asks for the demo; errors stay on the page, saying what to
 * do. */

struct _RdSignInPage
{
  GtkWidget parent_instance;

  RdEntraAuth *auth;
  RdEntraDeviceCode *code;
  GCancellable *cancellable;

  GtkStack *stack;
  AdwStatusPage *code_page;
  GtkLabel *code_label;
  GtkLabel *error_label;
  GtkButton *copy_button;
  GtkSpinner *code_spinner;
  GtkSpinner *browser_spinner;
};

G_DEFINE_FINAL_TYPE (RdSignInPage, rd_sign_in_page, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_SIGNED_IN,
  SIGNAL_EXPLORE_DEMO,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
cancel_sign_in (RdSignInPage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->code, rd_entra_device_code_unref);
  gtk_spinner_stop (self->code_spinner);
  gtk_spinner_stop (self->browser_spinner);
}

static GCancellable *
begin_sign_in (RdSignInPage *self)
{
  cancel_sign_in (self);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  self->cancellable = g_cancellable_new ();

  return self->cancellable;
}

/* What a failed sign-in tells the admin. The auth layer's messages say what
 * to do already; a network failure gets where to look. */
static void
fail (RdSignInPage *self,
      const GError *error)
{
  g_autofree char *message = NULL;

  cancel_sign_in (self);

  if (g_error_matches (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_NETWORK))
    /* Translators: the message is why the network request failed. */
    message = g_strdup_printf (_("The sign-in service cannot be reached: %s Check the network "
                                 "connection, and the sign-in endpoint in Preferences."),
                               error->message);
  else
    message = g_strdup (error->message);

  rd_sign_in_page_show_error (self, message);
}

/* Device-code sign-in */

static void
on_complete_device_code_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr (RdSignInPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!rd_entra_auth_complete_device_code_finish (RD_ENTRA_AUTH (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error);
      return;
    }

  cancel_sign_in (self);
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0);
}

static void
on_begin_device_code_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr (RdSignInPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RdEntraDeviceCode) code = NULL;
  g_autofree char *description = NULL;
  g_autofree char *uri_markup = NULL;
  const char *uri;

  code = rd_entra_auth_begin_device_code_finish (RD_ENTRA_AUTH (source), result, &error);
  if (code == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error);
      return;
    }

  uri = rd_entra_device_code_get_verification_uri (code);
  uri_markup = g_markup_printf_escaped ("<a href=\"%s\">%s</a>", uri, uri);
  /* Translators: the placeholder is a web address such as microsoft.com/devicelogin. */
  description = g_strdup_printf (_("Open %s on this or any other device, enter the code below, "
                                   "then sign in with an Intune administrator account."),
                                 uri_markup);
  adw_status_page_set_description (self->code_page, description);
  gtk_label_set_label (self->code_label, rd_entra_device_code_get_user_code (code));
  gtk_spinner_start (self->code_spinner);
  gtk_stack_set_visible_child_name (self->stack, "code");

  self->code = rd_entra_device_code_ref (code);
  rd_entra_auth_complete_device_code_async (self->auth, code, self->cancellable,
                                            on_complete_device_code_cb, g_object_ref (self));
}

static void
on_sign_in_button_clicked_cb (RdSignInPage *self)
{
  GCancellable *cancellable;

  g_return_if_fail (self->auth != NULL);

  cancellable = begin_sign_in (self);
  rd_entra_auth_begin_device_code_async (self->auth, cancellable, on_begin_device_code_cb,
                                         g_object_ref (self));
}

static void
on_copy_button_clicked_cb (RdSignInPage *self)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                          gtk_label_get_label (self->code_label));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->copy_button), _("Copied"));
}

static void
on_open_button_clicked_cb (RdSignInPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->code == NULL)
    return;

  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                rd_entra_device_code_get_verification_uri (self->code), GDK_CURRENT_TIME);
}

/* Browser sign-in */

static void
on_complete_browser_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr (RdSignInPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!rd_entra_auth_complete_browser_finish (RD_ENTRA_AUTH (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error);
      return;
    }

  cancel_sign_in (self);
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0);
}

static void
on_browser_button_clicked_cb (RdSignInPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  GCancellable *cancellable;
  GtkRoot *root;

  g_return_if_fail (self->auth != NULL);

  cancellable = begin_sign_in (self);
  url = rd_entra_auth_begin_browser (self->auth, &error);
  if (url == NULL)
    {
      fail (self, error);
      return;
    }

  root = gtk_widget_get_root (GTK_WIDGET (self));
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, url, GDK_CURRENT_TIME);
  gtk_spinner_start (self->browser_spinner);
  gtk_stack_set_visible_child_name (self->stack, "browser");
  rd_entra_auth_complete_browser_async (self->auth, cancellable, on_complete_browser_cb,
                                        g_object_ref (self));
}

static void
on_cancel_button_clicked_cb (RdSignInPage *self)
{
  rd_sign_in_page_reset (self);
}

static void
on_demo_button_clicked_cb (RdSignInPage *self)
{
  rd_sign_in_page_reset (self);
  g_signal_emit (self, signals[SIGNAL_EXPLORE_DEMO], 0);
}

/* GObject overrides */

static void
rd_sign_in_page_dispose (GObject *object)
{
  RdSignInPage *self = (RdSignInPage *) object;

  cancel_sign_in (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), RD_TYPE_SIGN_IN_PAGE);
  g_clear_object (&self->auth);

  G_OBJECT_CLASS (rd_sign_in_page_parent_class)->dispose (object);
}

static void
rd_sign_in_page_class_init (RdSignInPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rd_sign_in_page_dispose;

  /**
   * RdSignInPage::signed-in:
   *
   * The auth set on the page holds tokens now.
   */
  signals[SIGNAL_SIGNED_IN] = g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);
  /**
   * RdSignInPage::explore-demo:
   *
   * The admin asked for the demo tenant.
   */
  signals[SIGNAL_EXPLORE_DEMO] = g_signal_new ("explore-demo", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/rd-sign-in-page.ui");
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, stack);
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, code_page);
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, code_label);
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, copy_button);
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, code_spinner);
  gtk_widget_class_bind_template_child (widget_class, RdSignInPage, browser_spinner);
  gtk_widget_class_bind_template_callback (widget_class, on_sign_in_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_browser_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_demo_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_copy_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_open_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_button_clicked_cb);
}

static void
rd_sign_in_page_init (RdSignInPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

RdEntraAuth *
rd_sign_in_page_get_auth (RdSignInPage *self)
{
  g_return_val_if_fail (RD_IS_SIGN_IN_PAGE (self), NULL);

  return self->auth;
}

/**
 * rd_sign_in_page_set_auth:
 * @auth: (nullable): the sign-in to drive
 */
void
rd_sign_in_page_set_auth (RdSignInPage *self,
                          RdEntraAuth  *auth)
{
  g_return_if_fail (RD_IS_SIGN_IN_PAGE (self));
  g_return_if_fail (auth == NULL || RD_IS_ENTRA_AUTH (auth));

  if (self->auth == auth)
    return;

  rd_sign_in_page_reset (self);
  g_set_object (&self->auth, auth);
}

/**
 * rd_sign_in_page_reset:
 *
 * Stops a sign-in under way and shows the choices again.
 */
void
rd_sign_in_page_reset (RdSignInPage *self)
{
  g_return_if_fail (RD_IS_SIGN_IN_PAGE (self));

  cancel_sign_in (self);
  gtk_stack_set_visible_child_name (self->stack, "choose");
}

void
rd_sign_in_page_show_error (RdSignInPage *self,
                            const char   *message)
{
  g_return_if_fail (RD_IS_SIGN_IN_PAGE (self));

  gtk_stack_set_visible_child_name (self->stack, "choose");
  gtk_label_set_label (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL && *message != '\0');
}
