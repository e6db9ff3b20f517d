/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-ui-utils"

#include "config.h"

#include <glib/gi18n.h>

#include "rd-ui-utils.h"

/* Words and colours the widgets share: how old a check-in is, what a plan's
 * state is called and how it is coloured, how a check's severity looks. */

/**
 * rd_ui_format_age:
 * @then: (nullable): when something happened, or %NULL for never
 * @now: the time to measure against
 *
 * Returns: (transfer full): a short relative age such as "3 days ago"
 */
char *
rd_ui_format_age (GDateTime *then,
                  GDateTime *now)
{
  GTimeSpan span;
  gint64 n;

  if (then == NULL)
    return g_strdup (_("Never synced"));

  span = MAX (g_date_time_difference (now, then), 0);

  if (span < G_TIME_SPAN_MINUTE)
    return g_strdup (_("Just now"));

  if (span < G_TIME_SPAN_HOUR)
    {
      n = span / G_TIME_SPAN_MINUTE;
      return g_strdup_printf (ngettext ("%d minute ago", "%d minutes ago", n),
                              (int) n);
    }

  if (span < G_TIME_SPAN_DAY)
    {
      n = span / G_TIME_SPAN_HOUR;
      return g_strdup_printf (ngettext ("%d hour ago", "%d hours ago", n),
                              (int) n);
    }

  if (span < 2 * G_TIME_SPAN_DAY)
    return g_strdup (_("Yesterday"));

  if (span < 60 * G_TIME_SPAN_DAY)
    {
      n = span / G_TIME_SPAN_DAY;
      return g_strdup_printf (ngettext ("%d day ago", "%d days ago", n),
                              (int) n);
    }

  if (span < 365 * G_TIME_SPAN_DAY)
    {
      n = span / (30 * G_TIME_SPAN_DAY);
      return g_strdup_printf (ngettext ("%d month ago", "%d months ago", n),
                              (int) n);
    }

  n = span / (365 * G_TIME_SPAN_DAY);
  return g_strdup_printf (ngettext ("%d year ago", "%d years ago", n),
                          (int) n);
}

const char *
rd_ui_plan_state_title (RdPlanState state)
{
  switch (state)
    {
    case RD_PLAN_STATE_DRAFT:
      return C_("plan state", "Draft");
    case RD_PLAN_STATE_READY:
      return C_("plan state", "Ready");
    case RD_PLAN_STATE_BLOCKED:
      return C_("plan state", "Blocked");
    case RD_PLAN_STATE_SENDING:
      return C_("plan state", "Sending");
    case RD_PLAN_STATE_SENT:
      return C_("plan state", "Sent");
    case RD_PLAN_STATE_PENDING:
      return C_("plan state", "Pending");
    case RD_PLAN_STATE_DONE:
      return C_("plan state", "Done");
    case RD_PLAN_STATE_FAILED:
      return C_("plan state", "Failed");
    case RD_PLAN_STATE_CANCELLED:
      return C_("plan state", "Cancelled");
    case RD_PLAN_STATE_USB_PREPARED:
      return C_("plan state", "USB Key Ready");
    case RD_PLAN_STATE_AWAITING_RE_ENROLLMENT:
      return C_("plan state", "Awaiting Enrollment");
    default:
      g_return_val_if_reached (NULL);
    }
}

/* One of the style classes .success, .warning, .error, .accent or .dim. */
const char *
rd_ui_plan_state_style (RdPlanState state)
{
  switch (state)
    {
    case RD_PLAN_STATE_READY:
    case RD_PLAN_STATE_DONE:
      return "success";
    case RD_PLAN_STATE_BLOCKED:
    case RD_PLAN_STATE_FAILED:
      return "error";
    case RD_PLAN_STATE_SENDING:
    case RD_PLAN_STATE_SENT:
    case RD_PLAN_STATE_PENDING:
    case RD_PLAN_STATE_USB_PREPARED:
    case RD_PLAN_STATE_AWAITING_RE_ENROLLMENT:
      return "accent";
    case RD_PLAN_STATE_DRAFT:
    case RD_PLAN_STATE_CANCELLED:
    default:
      return "dim";
    }
}

const char *
rd_ui_severity_icon_name (RdCheckSeverity severity)
{
  switch (severity)
    {
    case RD_CHECK_SEVERITY_PASS:
      return "emblem-ok-symbolic";
    case RD_CHECK_SEVERITY_INFO:
      return "dialog-information-symbolic";
    case RD_CHECK_SEVERITY_WARNING:
      return "dialog-warning-symbolic";
    case RD_CHECK_SEVERITY_BLOCKER:
    default:
      return "dialog-error-symbolic";
    }
}

const char *
rd_ui_severity_style (RdCheckSeverity severity)
{
  switch (severity)
    {
    case RD_CHECK_SEVERITY_PASS:
      return "success";
    case RD_CHECK_SEVERITY_INFO:
      return "accent";
    case RD_CHECK_SEVERITY_WARNING:
      return "warning";
    case RD_CHECK_SEVERITY_BLOCKER:
    default:
      return "error";
    }
}

/* Gives @widget exactly one of the colour classes, or none for %NULL. */
void
rd_ui_set_style (GtkWidget  *widget,
                 const char *style)
{
  static const char *const styles[] = { "success", "warning", "error", "accent", "dim" };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    if (g_strcmp0 (styles[i], style) != 0)
      gtk_widget_remove_css_class (widget, styles[i]);
  if (style != NULL)
    gtk_widget_add_css_class (widget, style);
}
