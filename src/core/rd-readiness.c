/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-readiness"

#include "config.h"

#include "rd-readiness.h"
#include "rd-method.h"

#include <glib/gi18n-lib.h>

/* RdCheck is one verdict of the readiness rules: a stable id that plans,
 * the audit log and tests can name, a severity, and what to tell the admin.
 * It is immutable; a new evaluation makes new checks. */

struct _RdCheck
{
  GObject parent_instance;

  char *id;
  RdCheckSeverity severity;
  char *title;
  char *explanation;
};

G_DEFINE_FINAL_TYPE (RdCheck, rd_check, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_SEVERITY,
  PROP_TITLE,
  PROP_EXPLANATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
rd_check_finalize (GObject *object)
{
  RdCheck *self = (RdCheck *) object;

  g_free (self->id);
  g_free (self->title);
  g_free (self->explanation);

  G_OBJECT_CLASS (rd_check_parent_class)->finalize (object);
}

static void
rd_check_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  RdCheck *self = RD_CHECK (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_SEVERITY:
      g_value_set_enum (value, self->severity);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_EXPLANATION:
      g_value_set_string (value, self->explanation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_check_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  RdCheck *self = RD_CHECK (object);

  /* Every property is construct-only, so each is set exactly once. */
  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_SEVERITY:
      self->severity = g_value_get_enum (value);
      break;
    case PROP_TITLE:
      self->title = g_value_dup_string (value);
      break;
    case PROP_EXPLANATION:
      self->explanation = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_check_class_init (RdCheckClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                      G_PARAM_STATIC_STRINGS;

  object_class->finalize = rd_check_finalize;
  object_class->get_property = rd_check_get_property;
  object_class->set_property = rd_check_set_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_SEVERITY] = g_param_spec_enum ("severity", NULL, NULL, RD_TYPE_CHECK_SEVERITY,
                                                 RD_CHECK_SEVERITY_PASS, flags);
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, flags);
  properties[PROP_EXPLANATION] = g_param_spec_string ("explanation", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_check_init (RdCheck *self)
{
}

/**
 * rd_check_new:
 * @id: the stable id of the rule, such as "windows-version"
 * @severity: the verdict
 * @title: the rule, short and translated
 * @explanation: why, and what the admin should do, translated
 */
RdCheck *
rd_check_new (const char      *id,
              RdCheckSeverity  severity,
              const char      *title,
              const char      *explanation)
{
  g_return_val_if_fail (id != NULL, NULL);

  return g_object_new (RD_TYPE_CHECK,
                       "id", id,
                       "severity", severity,
                       "title", title,
                       "explanation", explanation,
                       NULL);
}

const char *
rd_check_get_id (RdCheck *self)
{
  g_return_val_if_fail (RD_IS_CHECK (self), NULL);

  return self->id;
}

RdCheckSeverity
rd_check_get_severity (RdCheck *self)
{
  g_return_val_if_fail (RD_IS_CHECK (self), RD_CHECK_SEVERITY_PASS);

  return self->severity;
}

const char *
rd_check_get_title (RdCheck *self)
{
  g_return_val_if_fail (RD_IS_CHECK (self), NULL);

  return self->title;
}

const char *
rd_check_get_explanation (RdCheck *self)
{
  g_return_val_if_fail (RD_IS_CHECK (self), NULL);

  return self->explanation;
}

/* Rules */

static RdCheck *
check_take (const char      *id,
            RdCheckSeverity  severity,
            const char      *title,
            char            *explanation)
{
  g_autofree char *owned = explanation;

  return rd_check_new (id, severity, title, owned);
}

static RdCheck *
check_windows (RdDevice  *device,
               RdMethod   method,
               GDateTime *now)
{
  const char *id = "windows";
  const char *title = _("Windows device");
  const char *os = rd_device_get_operating_system (device);

  if (os == NULL || *os == '\0')
    return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                         _("Intune did not report the device’s operating system, so Recovery Desk "
                           "could not confirm it runs Windows. Check it in the Intune admin center "
                           "before you go on."));

  if (!rd_device_is_windows (device))
    return check_take (id, RD_CHECK_SEVERITY_BLOCKER, title,
                       g_strdup_printf (_("The device runs %s. Recovery Desk only recovers Windows "
                                          "devices; use the Intune admin center for this one."),
                                        os));

  return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                       _("Intune reports that the device runs Windows."));
}

static RdCheck *
check_no_pending_wipe (RdDevice  *device,
                       RdMethod   method,
                       GDateTime *now)
{
  const char *id = "no-pending-wipe";
  const char *title = _("No wipe pending");

  if (rd_device_has_wipe_pending (device))
    return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                         _("Intune already has a wipe pending for this device; it runs at the "
                           "device’s next check-in. Recovery Desk never sends a second one: wait "
                           "until it is done, or cancel it in the Intune admin center first."));

  /* managementState is a beta-only field, so "unknown" is common and must
   * not flag every device; but it is not a "no" either. */
  if (rd_device_get_management_state (device) == RD_MANAGEMENT_STATE_UNKNOWN)
    return rd_check_new (id, RD_CHECK_SEVERITY_INFO, title,
                         _("Intune did not report the device’s management state, so Recovery Desk "
                           "could not confirm that no wipe is pending. Check the device’s actions "
                           "in the Intune admin center."));

  return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                       _("Intune reports no wipe pending for this device."));
}

static RdCheck *
check_not_leaving_management (RdDevice  *device,
                              RdMethod   method,
                              GDateTime *now)
{
  const char *id = "not-leaving-management";
  const char *title = _("Not being retired or deleted");

  switch (rd_device_get_management_state (device))
    {
    case RD_MANAGEMENT_STATE_RETIRE_PENDING:
    case RD_MANAGEMENT_STATE_RETIRE_ISSUED:
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("Intune is retiring this device, so it is leaving management and will "
                             "not stay enrolled. Wait until the retirement is done or cancel it in "
                             "the Intune admin center, then plan the device again."));

    case RD_MANAGEMENT_STATE_DELETE_PENDING:
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("Intune is deleting this device’s record, so it is leaving "
                             "management. Wait until it is gone and the device enrolls again, then "
                             "plan it again."));

    case RD_MANAGEMENT_STATE_UNKNOWN:
      return rd_check_new (id, RD_CHECK_SEVERITY_INFO, title,
                           _("Intune did not report the device’s management state, so Recovery "
                             "Desk could not confirm that it is not being retired or deleted."));

    case RD_MANAGEMENT_STATE_MANAGED:
    case RD_MANAGEMENT_STATE_RETIRE_FAILED:
    case RD_MANAGEMENT_STATE_WIPE_PENDING:
    case RD_MANAGEMENT_STATE_WIPE_FAILED:
    case RD_MANAGEMENT_STATE_UNHEALTHY:
    case RD_MANAGEMENT_STATE_WIPE_ISSUED:
    case RD_MANAGEMENT_STATE_WIPE_CANCELED:
    case RD_MANAGEMENT_STATE_RETIRE_CANCELED:
    case RD_MANAGEMENT_STATE_DISCOVERED:
    default:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("The device is not being retired or deleted."));
    }
}

/* Graph reports a device that never checked in with a sentinel date
 * (0001-01-01); anything before Windows 10 existed is no real check-in. */
#define EARLIEST_REAL_SYNC_YEAR 2000

static RdCheck *
check_last_sync (RdDevice  *device,
                 RdMethod   method,
                 GDateTime *now)
{
  const char *id = "last-sync";
  const char *title = _("Checked in recently");
  GDateTime *last_sync = rd_device_get_last_sync (device);
  /* A reimage happens at the desk and does not wait for a check-in; there
   * an old check-in only means the facts here may be out of date. */
  gboolean waits = rd_method_sends_wipe (method);
  RdCheckSeverity severity = waits ? RD_CHECK_SEVERITY_WARNING : RD_CHECK_SEVERITY_INFO;
  GTimeSpan age;
  int days;

  if (last_sync == NULL || g_date_time_get_year (last_sync) < EARLIEST_REAL_SYNC_YEAR)
    {
      if (waits)
        return rd_check_new (id, severity, title,
                             _("Intune has no record of the device’s last check-in. Intune sends "
                               "the action at the device’s next check-in, so make sure the device "
                               "is switched on and online."));
      return rd_check_new (id, severity, title,
                           _("Intune has no record of the device’s last check-in, so what it "
                             "reports about the device may be out of date. Confirm its Autopilot "
                             "registration and BitLocker state before you wipe the drive."));
    }

  age = g_date_time_difference (now, last_sync);
  days = (int) MIN (age / G_TIME_SPAN_DAY, G_MAXINT);

  if (age <= RD_READINESS_STALE_DAYS * G_TIME_SPAN_DAY)
    return check_take (id, RD_CHECK_SEVERITY_PASS, title,
                       g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "The device checked in within the last day.",
                                                     "The device checked in within the last %d "
                                                     "days.",
                                                     RD_READINESS_STALE_DAYS),
                                        RD_READINESS_STALE_DAYS));

  if (waits)
    return check_take (id, severity, title,
                       g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "The device last checked in %d day ago. "
                                                     "Intune sends the action at its next "
                                                     "check-in, so nothing happens until the "
                                                     "device is back online: ask its user to "
                                                     "switch it on and connect it, then sync it "
                                                     "from Intune.",
                                                     "The device last checked in %d days ago. "
                                                     "Intune sends the action at its next "
                                                     "check-in, so nothing happens until the "
                                                     "device is back online: ask its user to "
                                                     "switch it on and connect it, then sync it "
                                                     "from Intune.",
                                                     days),
                                        days));

  return check_take (id, severity, title,
                     g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                   "The device last checked in %d day ago, so what "
                                                   "Intune reports about it may be out of date. "
                                                   "Confirm its Autopilot registration and "
                                                   "BitLocker state before you wipe the drive.",
                                                   "The device last checked in %d days ago, so "
                                                   "what Intune reports about it may be out of "
                                                   "date. Confirm its Autopilot registration and "
                                                   "BitLocker state before you wipe the drive.",
                                                   days),
                                      days));
}

static RdCheck *
check_mdm_managed (RdDevice  *device,
                   RdMethod   method,
                   GDateTime *now)
{
  const char *id = "mdm-managed";
  const char *title = _("Managed through MDM");

  switch (rd_device_is_mdm_managed (device))
    {
    case RD_TRISTATE_YES:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("Intune manages the device through mobile device management (MDM)."));

    case RD_TRISTATE_NO:
      return check_take (id, RD_CHECK_SEVERITY_BLOCKER, title,
                         g_strdup_printf (_("Intune does not manage this device through mobile "
                                            "device management (management agent “%s”), so it "
                                            "cannot reset it. Enroll the device in Intune MDM "
                                            "first, or reimage it."),
                                          rd_device_get_management_agent (device)));

    case RD_TRISTATE_UNKNOWN:
    default:
      return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                           _("Intune did not report how the device is managed, so Recovery Desk "
                             "could not confirm that it is enrolled in MDM. The reset fails "
                             "without MDM enrollment: check the device in the Intune admin "
                             "center."));
    }
}

static RdCheck *
check_corporate_owned (RdDevice  *device,
                       RdMethod   method,
                       GDateTime *now)
{
  const char *id = "corporate-owned";
  const char *title = _("Corporate-owned");

  switch (rd_device_get_owner_type (device))
    {
    case RD_OWNER_TYPE_COMPANY:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("Intune lists the device as corporate-owned."));

    case RD_OWNER_TYPE_PERSONAL:
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("Intune lists the device as personal. A reset that keeps the "
                             "enrollment is only for corporate-owned devices. If the organization "
                             "owns it, change its ownership in the Intune admin center first."));

    case RD_OWNER_TYPE_UNKNOWN:
    default:
      return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                           _("Intune did not report who owns the device, so Recovery Desk could "
                             "not confirm that it is corporate-owned. Check its ownership in the "
                             "Intune admin center."));
    }
}

static RdCheck *
check_entra_joined (RdDevice  *device,
                    RdMethod   method,
                    GDateTime *now)
{
  const char *id = "entra-joined";
  const char *title = _("Microsoft Entra joined");

  switch (rd_device_get_join_type (device))
    {
    case RD_JOIN_TYPE_ENTRA_JOINED:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("The device is Microsoft Entra joined."));

    case RD_JOIN_TYPE_HYBRID_JOINED:
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("The device is Microsoft Entra hybrid joined, and Autopilot Reset "
                             "does not support hybrid-joined devices: they need a full wipe. "
                             "Reimage the device instead."));

    case RD_JOIN_TYPE_ENTRA_REGISTERED:
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("The device is only Microsoft Entra registered, and Autopilot Reset "
                             "needs a Microsoft Entra joined device. Reimage the device instead."));

    case RD_JOIN_TYPE_UNKNOWN:
    default:
      return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                           _("Intune did not report how the device is joined, so Recovery Desk "
                             "could not confirm that it is Microsoft Entra joined. Autopilot Reset "
                             "does not support hybrid-joined devices: check the join type in the "
                             "Intune admin center."));
    }
}

static RdCheck *
check_windows_version (RdDevice  *device,
                       RdMethod   method,
                       GDateTime *now)
{
  const char *id = "windows-version";
  gboolean reset = method == RD_METHOD_AUTOPILOT_RESET;
  const char *title = reset ? _("Windows 10, version 1809 or later")
                            : _("Windows 10, version 1709 or later");
  const char *version = reset ? "1809" : "1709";
  int min_build = reset ? RD_WINDOWS_BUILD_1809 : RD_WINDOWS_BUILD_1709;
  const char *os = rd_device_get_operating_system (device);
  const char *os_version = rd_device_get_os_version (device);
  int build = rd_device_get_os_build (device);

  if (os != NULL && *os != '\0' && !rd_device_is_windows (device))
    return check_take (id, RD_CHECK_SEVERITY_BLOCKER, title,
                       g_strdup_printf (_("This method needs Windows 10, version %s or later, and "
                                          "the device runs %s."),
                                        version, os));

  if (build <= 0 && (os_version == NULL || *os_version == '\0'))
    return check_take (id, RD_CHECK_SEVERITY_WARNING, title,
                       g_strdup_printf (_("Intune did not report the device’s Windows version, so "
                                          "Recovery Desk could not confirm Windows 10, version %s "
                                          "or later. Check the OS version in the Intune admin "
                                          "center."),
                                        version));

  if (build <= 0)
    return check_take (id, RD_CHECK_SEVERITY_WARNING, title,
                       g_strdup_printf (_("Recovery Desk could not read a Windows build from the "
                                          "OS version “%s”, so it could not confirm Windows 10, "
                                          "version %s or later. Check the OS version in the "
                                          "Intune admin center."),
                                        os_version, version));

  if (build < min_build)
    return check_take (id, RD_CHECK_SEVERITY_BLOCKER, title,
                       g_strdup_printf (_("The device runs Windows build %d, and this method needs "
                                          "Windows 10, version %s (build %d) or later. Update "
                                          "Windows first, or reimage the device instead."),
                                        build, version, min_build));

  return check_take (id, RD_CHECK_SEVERITY_PASS, title,
                     g_strdup_printf (_("The device runs Windows build %d."), build));
}

static RdCheck *
check_winre (RdDevice  *device,
             RdMethod   method,
             GDateTime *now)
{
  const char *id = "winre";
  const char *title = _("Windows Recovery Environment enabled");

  switch (rd_device_get_winre_state (device))
    {
    case RD_WINRE_STATE_CONFIGURED:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("Intune reports that the Windows Recovery Environment is "
                             "configured."));

    case RD_WINRE_STATE_NOT_CONFIGURED:
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("Intune reports that the Windows Recovery Environment is not "
                             "configured. Autopilot Reset would fail with error 0x80070032 "
                             "(ERROR_NOT_SUPPORTED), which shows only in the device’s logs. Run "
                             "“reagentc /enable” as an administrator on the device, let it check "
                             "in, then plan it again."));

    case RD_WINRE_STATE_UNKNOWN:
    default:
      /* Intune's encryption report only names WinRE when it is broken, so
       * silence is the usual case, not a sign of trouble. */
      return rd_check_new (id, RD_CHECK_SEVERITY_INFO, title,
                           _("Intune did not report the state of the Windows Recovery Environment. "
                             "If Autopilot Reset fails with error 0x80070032, run “reagentc "
                             "/enable” as an administrator on the device."));
    }
}

static RdCheck *
check_autopilot_record (RdDevice  *device,
                        RdMethod   method,
                        GDateTime *now)
{
  const char *id = "autopilot-record";
  const char *title = _("Registered in Windows Autopilot");

  switch (rd_device_get_autopilot (device))
    {
    case RD_TRISTATE_YES:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("The device has a Windows Autopilot record, so it can enroll again "
                             "afterwards."));

    case RD_TRISTATE_NO:
      if (method == RD_METHOD_AUTOPILOT_RESET)
        return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                             _("The device has no Windows Autopilot record, and Autopilot Reset "
                               "needs a current one. Register the device’s hardware hash in "
                               "Windows Autopilot first."));
      return rd_check_new (id, RD_CHECK_SEVERITY_BLOCKER, title,
                           _("The device has no Windows Autopilot record, so after a reimage it "
                             "could not enroll again. Register the device’s hardware hash in "
                             "Windows Autopilot before you wipe the drive."));

    case RD_TRISTATE_UNKNOWN:
    default:
      return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                           _("Recovery Desk could not read the tenant’s Windows Autopilot devices, "
                             "so it could not confirm that this device is registered. Without a "
                             "record it cannot enroll again: check it in the Intune admin center "
                             "before you go on."));
    }
}

static RdCheck *
check_bitlocker_encrypted (RdDevice  *device,
                           RdMethod   method,
                           GDateTime *now)
{
  const char *id = "bitlocker-encrypted";
  const char *title = _("Drive encrypted with BitLocker");

  switch (rd_device_get_encrypted (device))
    {
    case RD_TRISTATE_YES:
      return rd_check_new (id, RD_CHECK_SEVERITY_PASS, title,
                           _("The drive is encrypted, so the last user’s data stays unreadable to "
                             "the next user."));

    case RD_TRISTATE_NO:
      return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                           _("The drive is not encrypted. BitLocker is what keeps the last user’s "
                             "data unreadable once the device is reset or reimaged; without it "
                             "that data may be recoverable by the next user. Make sure the data is "
                             "destroyed before you hand the device on, and enable BitLocker for "
                             "the next user."));

    case RD_TRISTATE_UNKNOWN:
    default:
      return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                           _("Intune did not report whether the drive is encrypted. BitLocker is "
                             "what keeps the last user’s data unreadable after a reset: check the "
                             "device’s encryption in the Intune admin center before reuse."));
    }
}

static RdCheck *
check_bitlocker_key_escrowed (RdDevice  *device,
                              RdMethod   method,
                              GDateTime *now)
{
  const char *id = "bitlocker-key-escrowed";
  const char *title = _("BitLocker recovery key escrowed");
  int keys = rd_device_get_escrowed_keys (device);

  if (keys > 0)
    return check_take (id, RD_CHECK_SEVERITY_PASS, title,
                       g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "Microsoft Entra ID holds %d BitLocker "
                                                     "recovery key for the device.",
                                                     "Microsoft Entra ID holds %d BitLocker "
                                                     "recovery keys for the device.",
                                                     keys),
                                        keys));

  if (keys == 0)
    return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                         _("Microsoft Entra ID holds no BitLocker recovery key for this device. If "
                           "it asks for its recovery key during or after the reset, nobody can "
                           "unlock it. Escrow the key to Microsoft Entra ID, for example by "
                           "rotating it from Intune, before reuse."));

  return rd_check_new (id, RD_CHECK_SEVERITY_WARNING, title,
                       _("Recovery Desk could not read the device’s BitLocker recovery keys, "
                         "perhaps for lack of permission, so it could not confirm that one is "
                         "escrowed. Check the device’s recovery keys in the Intune admin center "
                         "before reuse."));
}

static RdCheck *
check_oem_apps_not_restored (RdDevice  *device,
                             RdMethod   method,
                             GDateTime *now)
{
  return rd_check_new ("oem-apps-not-restored", RD_CHECK_SEVERITY_WARNING,
                       _("OEM Win32 apps are not restored"),
                       _("Autopilot Reset does not restore the manufacturer’s pre-installed Win32 "
                         "apps, such as Microsoft 365 Apps: reinstall them through Company Portal "
                         "or an Intune app assignment afterwards. Reimaging is the preferred way "
                         "to hand a device to a new user."));
}

static RdCheck *
check_universal_image_fallback (RdDevice  *device,
                                RdMethod   method,
                                GDateTime *now)
{
  /* Core knows no image catalog, so this cannot tell whether an OEM image
   * fits; it only reminds, as information, that the OEM image comes first. */
  return rd_check_new ("universal-image-fallback", RD_CHECK_SEVERITY_INFO,
                       _("Universal image only as a fallback"),
                       _("The OEM image for the device’s model is preferred. Use the universal "
                         "image only for models that no OEM image fits."));
}

#define METHOD_BIT(method) (1u << (method))
#define ALL_METHODS                                                                                \
  (METHOD_BIT (RD_METHOD_WIPE_RETAIN) | METHOD_BIT (RD_METHOD_REIMAGE_OEM) |                       \
   METHOD_BIT (RD_METHOD_REIMAGE_UNIVERSAL) | METHOD_BIT (RD_METHOD_AUTOPILOT_RESET))
#define RESETS (METHOD_BIT (RD_METHOD_WIPE_RETAIN) | METHOD_BIT (RD_METHOD_AUTOPILOT_RESET))
#define REUSE_LANE                                                                                 \
  (METHOD_BIT (RD_METHOD_REIMAGE_OEM) | METHOD_BIT (RD_METHOD_REIMAGE_UNIVERSAL) |                 \
   METHOD_BIT (RD_METHOD_AUTOPILOT_RESET))

/* The rules, in the order the checks are listed, with the methods each
 * gates. Check ids are stable (plans, the UI and tests name them):
 *
 *   windows                   the device runs Windows
 *   no-pending-wipe           no wipe already pending or issued
 *   not-leaving-management    no retire or delete pending
 *   last-sync                 checked in within RD_READINESS_STALE_DAYS
 *   mdm-managed               managed through MDM
 *   corporate-owned           owned by the organization
 *   entra-joined              Microsoft Entra joined, not hybrid or registered
 *   windows-version           Windows 10 1709+ (wipe) or 1809+ (Autopilot Reset)
 *   winre                     Windows Recovery Environment not known broken
 *   autopilot-record          registered in Windows Autopilot
 *   bitlocker-encrypted       drive encrypted with BitLocker
 *   bitlocker-key-escrowed    a recovery key escrowed in Microsoft Entra ID
 *   oem-apps-not-restored     Autopilot Reset loses OEM Win32 apps (always)
 *   universal-image-fallback  the universal image only where no OEM image fits (always)
 */
static const struct
{
  RdCheck *(*evaluate) (RdDevice *device, RdMethod method, GDateTime *now);
  guint methods;
} rules[] = {
  { check_windows, ALL_METHODS },
  { check_no_pending_wipe, ALL_METHODS },
  { check_not_leaving_management, ALL_METHODS },
  { check_last_sync, ALL_METHODS },
  { check_mdm_managed, RESETS },
  { check_corporate_owned, RESETS },
  { check_entra_joined, METHOD_BIT (RD_METHOD_AUTOPILOT_RESET) },
  { check_windows_version, RESETS },
  { check_winre, METHOD_BIT (RD_METHOD_AUTOPILOT_RESET) },
  { check_autopilot_record, REUSE_LANE },
  { check_bitlocker_encrypted, REUSE_LANE },
  { check_bitlocker_key_escrowed, REUSE_LANE },
  { check_oem_apps_not_restored, METHOD_BIT (RD_METHOD_AUTOPILOT_RESET) },
  { check_universal_image_fallback, METHOD_BIT (RD_METHOD_REIMAGE_UNIVERSAL) },
};

/**
 * rd_readiness_evaluate:
 * @device: the device to check
 * @method: the recovery method the checks gate
 * @now: (nullable): the time to measure the last check-in against, or %NULL
 *   for the current time
 *
 * Runs every rule that gates @method. Each rule gives a check, passing or
 * not, so the list is the same length and order for every device.
 *
 * Returns: (transfer full): a list of #RdCheck
 */
GListModel *
rd_readiness_evaluate (RdDevice  *device,
                       RdMethod   method,
                       GDateTime *now)
{
  g_autoptr(GListStore) store = NULL;
  g_autoptr(GDateTime) current = NULL;

  g_return_val_if_fail (RD_IS_DEVICE (device), NULL);
  g_return_val_if_fail ((guint) method <= RD_METHOD_AUTOPILOT_RESET, NULL);

  if (now == NULL)
    now = current = g_date_time_new_now_utc ();

  store = g_list_store_new (RD_TYPE_CHECK);
  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      g_autoptr(RdCheck) check = NULL;

      if ((rules[i].methods & METHOD_BIT (method)) == 0)
        continue;
      check = rules[i].evaluate (device, method, now);
      g_list_store_append (store, check);
    }

  return G_LIST_MODEL (g_steal_pointer (&store));
}

/**
 * rd_readiness_worst_severity:
 * @checks: a list of #RdCheck
 *
 * Returns: the most severe verdict in @checks, %RD_CHECK_SEVERITY_PASS when
 *   it is empty
 */
RdCheckSeverity
rd_readiness_worst_severity (GListModel *checks)
{
  RdCheckSeverity worst = RD_CHECK_SEVERITY_PASS;
  guint n;

  g_return_val_if_fail (G_IS_LIST_MODEL (checks), RD_CHECK_SEVERITY_PASS);

  n = g_list_model_get_n_items (checks);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdCheck) check = g_list_model_get_item (checks, i);

      worst = MAX (worst, check->severity);
    }

  return worst;
}

/**
 * rd_readiness_first_blocker:
 * @checks: a list of #RdCheck
 *
 * Returns: (transfer none) (nullable): the first check that blocks, which
 *   @checks keeps alive, or %NULL
 */
RdCheck *
rd_readiness_first_blocker (GListModel *checks)
{
  guint n;

  g_return_val_if_fail (G_IS_LIST_MODEL (checks), NULL);

  n = g_list_model_get_n_items (checks);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RdCheck) check = g_list_model_get_item (checks, i);

      if (check->severity == RD_CHECK_SEVERITY_BLOCKER)
        return check;
    }

  return NULL;
}
