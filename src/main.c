/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recovery-desk"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "rd-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(RdApplication) app = NULL;

  rd_application_prepare_start ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Recovery Desk"));

  app = rd_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
