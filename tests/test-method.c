/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-method"

#include "config.h"

#include "rd-method.h"

#include <string.h>

#define N_METHODS (RD_METHOD_AUTOPILOT_RESET + 1)

/* What each method keeps and loses. The wipe and Autopilot Reset rows are
 * those of the seed's tables (seed/recover-devices.md), in its order; a row
 * the app words at more length must start with the seed's words. */

typedef struct
{
  RdMethod method;
  const char *kept[8];
  const char *lost[8];
} KeptLostCase;

static const KeptLostCase kept_lost_cases[] = {
  { RD_METHOD_WIPE_RETAIN,
    { "User accounts associated with the device",
      "Machine state (domain join, Microsoft Entra joined)",
      "Mobile device management (MDM) enrollment",
      "OEM pre-installed apps (store and Win32 apps)",
      "User profile and some user configured settings",
      "User data outside of the user profile",
      "User autologin settings",
      NULL },
    { "User files",
      "User-installed apps (store and Win32 apps)",
      "Non-default device settings",
      NULL } },
  { RD_METHOD_AUTOPILOT_RESET,
    { "User accounts associated with the device",
      "Machine state (domain join, Microsoft Entra joined)",
      "Mobile device management (MDM) enrollment",
      "OEM pre-installed apps (store)",
      NULL },
    { "User profiles",
      "User-installed apps (store and Win32 apps)",
      "Non-default device settings",
      "OEM pre-installed apps (Win32 apps)",
      NULL } },
  { RD_METHOD_REIMAGE_OEM,
    { "The device's Windows Autopilot registration", NULL },
    { "Everything on the drive", "The Intune enrollment and Microsoft Entra join", NULL } },
  { RD_METHOD_REIMAGE_UNIVERSAL,
    { "The device's Windows Autopilot registration", NULL },
    { "Everything on the drive", "The Intune enrollment and Microsoft Entra join", NULL } },
};

static void
assert_rows (const char *const *actual,
             const char *const *expected)
{
  g_assert_nonnull (actual);
  g_assert_cmpuint (g_strv_length ((char **) actual), >, 0);

  for (guint i = 0; expected[i] != NULL; i++)
    {
      g_assert_nonnull (actual[i]);
      if (!g_str_has_prefix (actual[i], expected[i]))
        g_error ("Row %u is “%s”, expected “%s”", i, actual[i], expected[i]);
    }
  g_assert_cmpuint (g_strv_length ((char **) actual), ==, g_strv_length ((char **) expected));
}

static void
test_kept_lost (gconstpointer data)
{
  const KeptLostCase *kc = data;
  g_auto(GStrv) kept = rd_method_dup_kept (kc->method);
  g_auto(GStrv) lost = rd_method_dup_lost (kc->method);

  assert_rows ((const char *const *) kept, kc->kept);
  assert_rows ((const char *const *) lost, kc->lost);

  /* Nothing is both kept and lost. */
  for (guint i = 0; kept[i] != NULL; i++)
    g_assert_false (g_strv_contains ((const char *const *) lost, kept[i]));
}

/* The rows that decide between methods, said plainly. */
static void
test_kept_lost_differences (void)
{
  g_auto(GStrv) wipe_kept = rd_method_dup_kept (RD_METHOD_WIPE_RETAIN);
  g_auto(GStrv) wipe_lost = rd_method_dup_lost (RD_METHOD_WIPE_RETAIN);
  g_auto(GStrv) reset_kept = rd_method_dup_kept (RD_METHOD_AUTOPILOT_RESET);
  g_auto(GStrv) reset_lost = rd_method_dup_lost (RD_METHOD_AUTOPILOT_RESET);
  g_auto(GStrv) reimage_kept = rd_method_dup_kept (RD_METHOD_REIMAGE_OEM);
  const char *mdm = "Mobile device management (MDM) enrollment";
  gboolean reset_loses_win32 = FALSE;

  g_assert_true (g_strv_contains ((const char *const *) wipe_kept, mdm));
  g_assert_true (g_strv_contains ((const char *const *) reset_kept, mdm));
  g_assert_false (g_strv_contains ((const char *const *) reimage_kept, mdm));

  /* The wipe keeps the user profile; Autopilot Reset loses it. */
  g_assert_true (g_strv_contains ((const char *const *) wipe_kept,
                                  "User profile and some user configured settings"));
  g_assert_true (g_strv_contains ((const char *const *) reset_lost, "User profiles"));
  g_assert_false (g_strv_contains ((const char *const *) wipe_lost, "User profiles"));

  /* OEM Win32 apps: kept by the wipe, lost by Autopilot Reset. */
  g_assert_true (g_strv_contains ((const char *const *) wipe_kept,
                                  "OEM pre-installed apps (store and Win32 apps)"));
  g_assert_false (g_strv_contains ((const char *const *) reset_kept,
                                   "OEM pre-installed apps (store and Win32 apps)"));
  for (guint i = 0; reset_lost[i] != NULL; i++)
    if (g_str_has_prefix (reset_lost[i], "OEM pre-installed apps (Win32 apps)"))
      reset_loses_win32 = TRUE;
  g_assert_true (reset_loses_win32);
}

/* Lanes and defaults */

typedef struct
{
  RdMethod method;
  const char *nick;
  RdLane lane;
  gboolean reimage;
  gboolean sends_wipe;
} MethodCase;

static const MethodCase method_cases[] = {
  { RD_METHOD_WIPE_RETAIN, "wipe-retain", RD_LANE_BREAK_FIX, FALSE, TRUE },
  { RD_METHOD_REIMAGE_OEM, "reimage-oem", RD_LANE_REUSE, TRUE, FALSE },
  { RD_METHOD_REIMAGE_UNIVERSAL, "reimage-universal", RD_LANE_REUSE, TRUE, FALSE },
  { RD_METHOD_AUTOPILOT_RESET, "autopilot-reset", RD_LANE_REUSE, FALSE, TRUE },
};

G_STATIC_ASSERT (G_N_ELEMENTS (method_cases) == N_METHODS);

static void
test_method (gconstpointer data)
{
  const MethodCase *mc = data;
  RdMethod parsed = (RdMethod) -1;
  g_autoptr(GEnumClass) enum_class = g_type_class_ref (RD_TYPE_METHOD);

  g_assert_cmpint (rd_method_get_lane (mc->method), ==, mc->lane);
  g_assert_cmpint (rd_method_is_reimage (mc->method), ==, mc->reimage);
  g_assert_cmpint (rd_method_sends_wipe (mc->method), ==, mc->sends_wipe);

  /* The string form is the enum's nick, and it round-trips. */
  g_assert_cmpstr (rd_method_to_string (mc->method), ==, mc->nick);
  g_assert_cmpstr (g_enum_get_value (enum_class, mc->method)->value_nick, ==, mc->nick);
  g_assert_true (rd_method_from_string (mc->nick, &parsed));
  g_assert_cmpint (parsed, ==, mc->method);

  g_assert_nonnull (rd_method_get_title (mc->method));
  g_assert_cmpstr (rd_method_get_title (mc->method), !=, "");
  g_assert_cmpstr (rd_method_get_description (mc->method), !=, "");
}

static void
test_titles_distinct (void)
{
  for (RdMethod a = 0; a < N_METHODS; a++)
    for (RdMethod b = a + 1; b < N_METHODS; b++)
      {
        g_assert_cmpstr (rd_method_get_title (a), !=, rd_method_get_title (b));
        g_assert_cmpstr (rd_method_get_description (a), !=, rd_method_get_description (b));
      }
}

typedef struct
{
  RdLane lane;
  const char *nick;
  const char *title;
} LaneCase;

static const LaneCase lane_cases[] = {
  { RD_LANE_INVENTORY, "inventory", "Devices" },
  { RD_LANE_BREAK_FIX, "break-fix", "Break and Fix" },
  { RD_LANE_REUSE, "reuse", "Reuse" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (lane_cases) == RD_N_LANES);

static void
test_lane (gconstpointer data)
{
  const LaneCase *lc = data;
  RdLane parsed = (RdLane) -1;
  g_autoptr(GEnumClass) enum_class = g_type_class_ref (RD_TYPE_LANE);

  g_assert_cmpstr (rd_lane_to_string (lc->lane), ==, lc->nick);
  g_assert_cmpstr (g_enum_get_value (enum_class, lc->lane)->value_nick, ==, lc->nick);
  g_assert_true (rd_lane_from_string (lc->nick, &parsed));
  g_assert_cmpint (parsed, ==, lc->lane);
  g_assert_cmpstr (rd_lane_get_title (lc->lane), ==, lc->title);
}

static void
test_default_method (void)
{
  /* Break and Fix wipes; Reuse starts with the preferred OEM reimage. */
  g_assert_cmpint (rd_method_get_default (RD_LANE_BREAK_FIX), ==, RD_METHOD_WIPE_RETAIN);
  g_assert_cmpint (rd_method_get_default (RD_LANE_REUSE), ==, RD_METHOD_REIMAGE_OEM);

  g_assert_cmpint (rd_method_get_lane (rd_method_get_default (RD_LANE_BREAK_FIX)), ==,
                   RD_LANE_BREAK_FIX);
  g_assert_cmpint (rd_method_get_lane (rd_method_get_default (RD_LANE_REUSE)), ==, RD_LANE_REUSE);
}

static void
test_reject_unknown_nicks (void)
{
  static const char *const bad_methods[] = {
    "", "wipe", "Wipe-Retain", "wipe_retain", "WIPE-RETAIN", "reimage", "autopilot",
    "autopilot-reset ", " reimage-oem", "break-fix", "reuse", "0",
  };
  static const char *const bad_lanes[] = {
    "", "Reuse", "break_fix", "breakfix", "break-and-fix", "devices", "wipe-retain", "0",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_methods); i++)
    {
      RdMethod method = RD_METHOD_AUTOPILOT_RESET;

      g_assert_false (rd_method_from_string (bad_methods[i], &method));
      /* A rejected nick leaves the output alone. */
      g_assert_cmpint (method, ==, RD_METHOD_AUTOPILOT_RESET);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad_lanes); i++)
    {
      RdLane lane = RD_LANE_REUSE;

      g_assert_false (rd_lane_from_string (bad_lanes[i], &lane));
      g_assert_cmpint (lane, ==, RD_LANE_REUSE);
    }

  {
    RdMethod method = RD_METHOD_REIMAGE_UNIVERSAL;
    RdLane lane = RD_LANE_BREAK_FIX;

    g_assert_false (rd_method_from_string (NULL, &method));
    g_assert_false (rd_lane_from_string (NULL, &lane));
    g_assert_cmpint (method, ==, RD_METHOD_REIMAGE_UNIVERSAL);
    g_assert_cmpint (lane, ==, RD_LANE_BREAK_FIX);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (kept_lost_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rd/method/kept-lost/%s",
                                               rd_method_to_string (kept_lost_cases[i].method));

      g_test_add_data_func (path, &kept_lost_cases[i], test_kept_lost);
    }

  for (guint i = 0; i < G_N_ELEMENTS (method_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rd/method/method/%s", method_cases[i].nick);

      g_test_add_data_func (path, &method_cases[i], test_method);
    }

  for (guint i = 0; i < G_N_ELEMENTS (lane_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rd/method/lane/%s", lane_cases[i].nick);

      g_test_add_data_func (path, &lane_cases[i], test_lane);
    }

  g_test_add_func ("/rd/method/kept-lost/differences", test_kept_lost_differences);
  g_test_add_func ("/rd/method/titles-distinct", test_titles_distinct);
  g_test_add_func ("/rd/method/default", test_default_method);
  g_test_add_func ("/rd/method/reject-unknown-nicks", test_reject_unknown_nicks);

  return g_test_run ();
}
