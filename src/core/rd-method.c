/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-method"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "rd-method.h"

/* What each method keeps and loses. The wipe and Autopilot Reset tables are
 * the ones of Microsoft Managed Desktop's "Recover devices"; a reimage
 * replaces the whole drive and the device enrolls again through Autopilot. */

static const char *const wipe_retain_kept[] = {
  N_("User accounts associated with the device"),
  N_("Machine state (domain join, Microsoft Entra joined)"),
  N_("Mobile device management (MDM) enrollment"),
  N_("OEM pre-installed apps (store and Win32 apps)"),
  N_("User profile and some user configured settings"),
  N_("User data outside of the user profile"),
  N_("User autologin settings"),
  NULL
};

static const char *const wipe_retain_lost[] = {
  N_("User files"),
  N_("User-installed apps (store and Win32 apps)"),
  N_("Non-default device settings"),
  NULL
};

static const char *const autopilot_reset_kept[] = {
  N_("User accounts associated with the device"),
  N_("Machine state (domain join, Microsoft Entra joined)"),
  N_("Mobile device management (MDM) enrollment"),
  N_("OEM pre-installed apps (store)"),
  NULL
};

static const char *const autopilot_reset_lost[] = {
  N_("User profiles"),
  N_("User-installed apps (store and Win32 apps)"),
  N_("Non-default device settings"),
  N_("OEM pre-installed apps (Win32 apps), such as Microsoft 365 Apps"),
  NULL
};

static const char *const reimage_kept[] = {
  N_("The device's Windows Autopilot registration, held by the service, not the drive"),
  NULL
};

static const char *const reimage_lost[] = {
  N_("Everything on the drive: Windows, apps, user profiles, files and settings"),
  N_("The Intune enrollment and Microsoft Entra join: the device enrolls again through Autopilot"),
  NULL
};

static const struct
{
  RdLane lane;
  const char *title;
  const char *description;
  const char *const *kept;
  const char *const *lost;
} methods[] = {
  [RD_METHOD_WIPE_RETAIN] = {
    RD_LANE_BREAK_FIX,
    N_("Wipe, keeping enrollment and user account"),
    N_("Intune resets Windows with push-button reset. The device stays enrolled and joined, "
       "and its user can sign in again when the reset is done."),
    wipe_retain_kept, wipe_retain_lost },
  [RD_METHOD_REIMAGE_OEM] = {
    RD_LANE_REUSE,
    N_("Reimage with the OEM image"),
    N_("Boot the device from a USB key holding the manufacturer's image for its model. "
       "This is the preferred way to hand a device to a new user."),
    reimage_kept, reimage_lost },
  [RD_METHOD_REIMAGE_UNIVERSAL] = {
    RD_LANE_REUSE,
    N_("Reimage with the universal image"),
    N_("Boot the device from a USB key holding Microsoft Managed Desktop's universal image, "
       "for models that no OEM image fits."),
    reimage_kept, reimage_lost },
  [RD_METHOD_AUTOPILOT_RESET] = {
    RD_LANE_REUSE,
    N_("Autopilot Reset"),
    N_("Intune resets Windows to a business-ready state at the next check-in. OEM Win32 apps "
       "such as Microsoft 365 Apps are not restored and must be reinstalled from Company "
       "Portal or Intune."),
    autopilot_reset_kept, autopilot_reset_lost },
};

static const char *const lane_titles[] = {
  [RD_LANE_INVENTORY] = N_("Devices"),
  [RD_LANE_BREAK_FIX] = N_("Break and Fix"),
  [RD_LANE_REUSE] = N_("Reuse"),
};

#define VALID_METHOD(m) ((guint) (m) < G_N_ELEMENTS (methods))
#define VALID_LANE(l) ((guint) (l) < G_N_ELEMENTS (lane_titles))

RdLane
rd_method_get_lane (RdMethod method)
{
  g_return_val_if_fail (VALID_METHOD (method), RD_LANE_INVENTORY);

  return methods[method].lane;
}

/**
 * rd_method_get_default:
 *
 * Returns: the method a device dropped on @lane starts with: the wipe for
 *   Break and Fix, the OEM reimage (the preferred way) for Reuse
 */
RdMethod
rd_method_get_default (RdLane lane)
{
  return lane == RD_LANE_REUSE ? RD_METHOD_REIMAGE_OEM : RD_METHOD_WIPE_RETAIN;
}

gboolean
rd_method_is_reimage (RdMethod method)
{
  return method == RD_METHOD_REIMAGE_OEM || method == RD_METHOD_REIMAGE_UNIVERSAL;
}

/**
 * rd_method_sends_wipe:
 *
 * Returns: whether the method is an Intune wipe action sent through Graph
 */
gboolean
rd_method_sends_wipe (RdMethod method)
{
  return method == RD_METHOD_WIPE_RETAIN || method == RD_METHOD_AUTOPILOT_RESET;
}

const char *
rd_method_get_title (RdMethod method)
{
  g_return_val_if_fail (VALID_METHOD (method), NULL);

  return _(methods[method].title);
}

const char *
rd_method_get_description (RdMethod method)
{
  g_return_val_if_fail (VALID_METHOD (method), NULL);

  return _(methods[method].description);
}

static GStrv
dup_translated (const char *const *strv)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; strv[i] != NULL; i++)
    g_strv_builder_add (builder, _(strv[i]));

  return g_strv_builder_end (builder);
}

/**
 * rd_method_dup_kept:
 *
 * Returns: (transfer full): what the device keeps, translated
 */
GStrv
rd_method_dup_kept (RdMethod method)
{
  g_return_val_if_fail (VALID_METHOD (method), NULL);

  return dup_translated (methods[method].kept);
}

/**
 * rd_method_dup_lost:
 *
 * Returns: (transfer full): what the device loses, translated
 */
GStrv
rd_method_dup_lost (RdMethod method)
{
  g_return_val_if_fail (VALID_METHOD (method), NULL);

  return dup_translated (methods[method].lost);
}

const char *
rd_lane_get_title (RdLane lane)
{
  g_return_val_if_fail (VALID_LANE (lane), NULL);

  return _(lane_titles[lane]);
}

/* The nicks are those of the registered enums ("break-fix",
 * "autopilot-reset"), which the JSON forms use too. */
const char *
rd_enum_to_nick (GType type,
                 int   value)
{
  g_autoptr(GEnumClass) enum_class = g_type_class_ref (type);
  GEnumValue *ev = g_enum_get_value (enum_class, value);

  return ev != NULL ? ev->value_nick : NULL;
}

gboolean
rd_enum_from_nick (GType       type,
                   const char *nick,
                   int        *value)
{
  g_autoptr(GEnumClass) enum_class = g_type_class_ref (type);
  GEnumValue *ev = nick != NULL ? g_enum_get_value_by_nick (enum_class, nick) : NULL;

  if (ev == NULL)
    return FALSE;

  *value = ev->value;
  return TRUE;
}

const char *
rd_lane_to_string (RdLane lane)
{
  return rd_enum_to_nick (RD_TYPE_LANE, lane);
}

gboolean
rd_lane_from_string (const char *nick,
                     RdLane     *lane)
{
  return rd_enum_from_nick (RD_TYPE_LANE, nick, (int *) lane);
}

const char *
rd_method_to_string (RdMethod method)
{
  return rd_enum_to_nick (RD_TYPE_METHOD, method);
}

gboolean
rd_method_from_string (const char *nick,
                       RdMethod   *method)
{
  return rd_enum_from_nick (RD_TYPE_METHOD, nick, (int *) method);
}
