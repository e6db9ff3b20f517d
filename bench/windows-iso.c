/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-bench"

#include "config.h"

#include "imaging-test-common.h"

#include <stdlib.h>

/* Makes the imaging tests' Windows-like UDF ISO (rd_test_make_windows_iso: bootmgr,
 * efi/boot/bootx64.efi, sources/boot.wim, an uncompressed sources/install.wim of about
 * INSTALL_MIB MiB of incompressible files) in DIR, for the scripted benchmarks; prints its path.
 *
 *   windows-iso DIR INSTALL_MIB [LABEL] */

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *iso = NULL;
  guint64 mib = 0;

  if (argc < 3 || argc > 4 || !g_ascii_string_to_unsigned (argv[2], 10, 0, 1024 * 1024, &mib, NULL))
    {
      g_printerr ("usage: %s DIR INSTALL_MIB [LABEL]\n", argv[0]);
      return 2;
    }
  iso = rd_test_make_windows_iso (argv[1], argc == 4 ? argv[3] : "CCCOMA_X64FRE", (guint) mib, 0,
                                  NULL, &error);
  if (iso == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("%s\n", iso);
  return EXIT_SUCCESS;
}
