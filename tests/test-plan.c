/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-core-error.h"
#include "rd-method.h"
#include "rd-plan.h"

#define S(x) (1u << RD_PLAN_STATE_##x)

/* The legal transitions, written out here independently of rd-plan.c: for
 * each state, the states a plan may move to. */
static const guint wipe_legal[] = {
  [RD_PLAN_STATE_DRAFT] = S (READY) | S (BLOCKED) | S (CANCELLED),
  [RD_PLAN_STATE_READY] = S (DRAFT) | S (BLOCKED) | S (CANCELLED) | S (SENDING),
  [RD_PLAN_STATE_BLOCKED] = S (DRAFT) | S (READY) | S (CANCELLED),
  [RD_PLAN_STATE_SENDING] = S (SENT) | S (FAILED),
  [RD_PLAN_STATE_SENT] = S (PENDING) | S (DONE) | S (FAILED),
  [RD_PLAN_STATE_PENDING] = S (DONE) | S (FAILED),
  [RD_PLAN_STATE_DONE] = 0,
  [RD_PLAN_STATE_FAILED] = S (DRAFT) | S (READY) | S (BLOCKED) | S (CANCELLED),
  [RD_PLAN_STATE_CANCELLED] = 0,
  [RD_PLAN_STATE_USB_PREPARED] = 0,
  [RD_PLAN_STATE_AWAITING_RE_ENROLLMENT] = 0,
};

static const guint reimage_legal[] = {
  [RD_PLAN_STATE_DRAFT] = S (READY) | S (BLOCKED) | S (CANCELLED),
  [RD_PLAN_STATE_READY] = S (DRAFT) | S (BLOCKED) | S (CANCELLED) | S (USB_PREPARED),
  [RD_PLAN_STATE_BLOCKED] = S (DRAFT) | S (READY) | S (CANCELLED),
  [RD_PLAN_STATE_SENDING] = 0,
  [RD_PLAN_STATE_SENT] = 0,
  [RD_PLAN_STATE_PENDING] = 0,
  [RD_PLAN_STATE_DONE] = 0,
  [RD_PLAN_STATE_FAILED] = S (DRAFT) | S (READY) | S (BLOCKED) | S (CANCELLED),
  [RD_PLAN_STATE_CANCELLED] = 0,
  [RD_PLAN_STATE_USB_PREPARED] = S (READY) | S (AWAITING_RE_ENROLLMENT) | S (CANCELLED),
  [RD_PLAN_STATE_AWAITING_RE_ENROLLMENT] = S (DONE) | S (FAILED),
};

/* States a plan of each kind can be in at all. */
static const guint wipe_states = ~(S (USB_PREPARED) | S (AWAITING_RE_ENROLLMENT));
static const guint reimage_states = ~(S (SENDING) | S (SENT) | S (PENDING));

#define N_STATES (RD_PLAN_STATE_AWAITING_RE_ENROLLMENT + 1)

static const char *
state_nick (RdPlanState state)
{
  return rd_plan_state_to_string (state);
}

static RdPlan *
plan_in_state (RdMethod     method,
               RdPlanState  state,
               GError     **error)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "deviceId", "dev-1");
  json_object_set_string_member (object, "deviceName", "PC-1");
  json_object_set_string_member (object, "lane", rd_lane_to_string (rd_method_get_lane (method)));
  json_object_set_string_member (object, "method", rd_method_to_string (method));
  json_object_set_string_member (object, "state", state_nick (state));
  json_object_set_string_member (object, "created", "2026-11-01T10:00:00Z");
  json_object_set_string_member (object, "updated", "2026-11-01T10:00:00Z");
  if (state == RD_PLAN_STATE_USB_PREPARED)
    {
      JsonObject *key = json_object_new ();

      json_object_set_string_member (key, "imageName", "HP-EliteBook.wim");
      json_object_set_string_member (
        key, "imageSha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
      json_object_set_string_member (key, "driveSerial", "AA0011");
      json_object_set_object_member (object, "usbKey", key);
    }

  return rd_plan_new_from_json (object, error);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
check_method_transitions (RdMethod     method,
                          const guint *legal,
                          guint        reachable)
{
  guint n_legal = 0;

  for (RdPlanState from = 0; from < N_STATES; from++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RdPlan) probe = plan_in_state (method, from, &error);

      if (!(reachable & (1u << from)))
        {
          /* A state that cannot exist for this method is refused on load. */
          g_assert_null (probe);
          g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);
          continue;
        }
      g_assert_no_error (error);

      for (RdPlanState to = 0; to < N_STATES; to++)
        {
          g_autoptr(RdPlan) plan = NULL;
          gboolean expected = (legal[from] & (1u << to)) != 0 || from == to;
          guint notified = 0;
          gboolean ok;

          /* usb-prepared is reached only by recording a key (test_usb_key). */
          if (to == RD_PLAN_STATE_USB_PREPARED)
            expected = from == to;

          plan = plan_in_state (method, from, NULL);
          g_signal_connect (plan, "notify::state", G_CALLBACK (count_notify), &notified);
          g_assert_cmpint (rd_plan_can_transition (plan, to), ==, expected && from != to);

          ok = rd_plan_transition (plan, to, &error);
          if (g_test_verbose ())
            g_test_message ("%s: %s → %s: %s", rd_method_to_string (method), state_nick (from),
                            state_nick (to), ok ? "legal" : "illegal");
          if (expected)
            {
              g_assert_no_error (error);
              g_assert_true (ok);
              g_assert_cmpint (rd_plan_get_state (plan), ==, to);
              g_assert_cmpuint (notified, ==, from == to ? 0 : 1);
              n_legal += from != to;
            }
          else
            {
              g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION);
              g_assert_false (ok);
              /* An illegal transition changes nothing. */
              g_assert_cmpint (rd_plan_get_state (plan), ==, from);
              g_assert_cmpuint (notified, ==, 0);
              g_clear_error (&error);
            }
          g_assert_finalize_object (g_steal_pointer (&plan));
        }

      g_assert_finalize_object (g_steal_pointer (&probe));
    }

  g_assert_cmpuint (n_legal, >, 0);
}

static void
test_transitions_wipe_retain (void)
{
  check_method_transitions (RD_METHOD_WIPE_RETAIN, wipe_legal, wipe_states);
}

static void
test_transitions_autopilot_reset (void)
{
  check_method_transitions (RD_METHOD_AUTOPILOT_RESET, wipe_legal, wipe_states);
}

static void
test_transitions_reimage_oem (void)
{
  check_method_transitions (RD_METHOD_REIMAGE_OEM, reimage_legal, reimage_states);
}

static void
test_transitions_reimage_universal (void)
{
  check_method_transitions (RD_METHOD_REIMAGE_UNIVERSAL, reimage_legal, reimage_states);
}

static const char *sha = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

static void
test_usb_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdPlan) plan = NULL;
  g_autoptr(RdPlan) wipe = NULL;

  /* Only a ready reimage plan takes a key. */
  plan = plan_in_state (RD_METHOD_REIMAGE_OEM, RD_PLAN_STATE_BLOCKED, NULL);
  g_assert_false (rd_plan_record_usb_key (plan, "img.wim", sha, "SER1", &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION);
  g_clear_error (&error);
  g_assert_null (rd_plan_get_usb_image_name (plan));

  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));
  g_assert_false (rd_plan_record_usb_key (plan, "img.wim", "not-a-hash", "SER1", &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  g_assert_true (rd_plan_record_usb_key (plan, "img.wim", sha, "SER1", &error));
  g_assert_no_error (error);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_USB_PREPARED);
  g_assert_cmpstr (rd_plan_get_usb_image_name (plan), ==, "img.wim");
  g_assert_cmpstr (rd_plan_get_usb_image_sha256 (plan), ==,
                   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  g_assert_cmpstr (rd_plan_get_usb_drive_serial (plan), ==, "SER1");

  /* Going back to ready forgets the key. */
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));
  g_assert_null (rd_plan_get_usb_image_name (plan));
  g_assert_null (rd_plan_get_usb_image_sha256 (plan));

  wipe = plan_in_state (RD_METHOD_WIPE_RETAIN, RD_PLAN_STATE_READY, NULL);
  g_assert_false (rd_plan_record_usb_key (wipe, "img.wim", sha, "SER1", &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION);
  g_assert_cmpint (rd_plan_get_state (wipe), ==, RD_PLAN_STATE_READY);
}

static void
test_method (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdDevice) device = rd_device_new ("dev-1", "PC-1");
  g_autoptr(RdPlan) plan = rd_plan_new (device, RD_LANE_REUSE, RD_METHOD_REIMAGE_OEM);
  g_autoptr(RdPlan) sent = NULL;

  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_DRAFT);
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));

  /* A method of another lane is refused. */
  g_assert_false (rd_plan_set_method (plan, RD_METHOD_WIPE_RETAIN, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_METHOD_NOT_IN_LANE);
  g_clear_error (&error);
  g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_REIMAGE_OEM);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_READY);

  /* A change sends the plan back to draft for a new evaluation. */
  g_assert_true (rd_plan_set_method (plan, RD_METHOD_AUTOPILOT_RESET, &error));
  g_assert_cmpint (rd_plan_get_method (plan), ==, RD_METHOD_AUTOPILOT_RESET);
  g_assert_cmpint (rd_plan_get_state (plan), ==, RD_PLAN_STATE_DRAFT);

  /* Once sent, the method is fixed. */
  sent = plan_in_state (RD_METHOD_AUTOPILOT_RESET, RD_PLAN_STATE_SENT, NULL);
  g_assert_false (rd_plan_set_method (sent, RD_METHOD_REIMAGE_OEM, &error));
  g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_ILLEGAL_TRANSITION);
  g_assert_cmpint (rd_plan_get_method (sent), ==, RD_METHOD_AUTOPILOT_RESET);

  g_assert_finalize_object (g_steal_pointer (&plan));
  g_assert_finalize_object (g_steal_pointer (&sent));
  g_assert_finalize_object (g_steal_pointer (&device));
}

static void
test_flags (void)
{
  static const struct
  {
    RdPlanState state;
    gboolean editable, in_flight, closed;
  } rows[] = {
    { RD_PLAN_STATE_DRAFT, TRUE, FALSE, FALSE },
    { RD_PLAN_STATE_READY, TRUE, FALSE, FALSE },
    { RD_PLAN_STATE_BLOCKED, TRUE, FALSE, FALSE },
    { RD_PLAN_STATE_SENDING, FALSE, TRUE, FALSE },
    { RD_PLAN_STATE_SENT, FALSE, TRUE, FALSE },
    { RD_PLAN_STATE_PENDING, FALSE, TRUE, FALSE },
    { RD_PLAN_STATE_DONE, FALSE, FALSE, TRUE },
    { RD_PLAN_STATE_FAILED, TRUE, FALSE, FALSE },
    { RD_PLAN_STATE_CANCELLED, FALSE, FALSE, TRUE },
    { RD_PLAN_STATE_USB_PREPARED, FALSE, FALSE, FALSE },
    { RD_PLAN_STATE_AWAITING_RE_ENROLLMENT, FALSE, TRUE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      RdMethod method = rows[i].state >= RD_PLAN_STATE_USB_PREPARED ? RD_METHOD_REIMAGE_OEM
                                                                    : RD_METHOD_WIPE_RETAIN;
      g_autoptr(RdPlan) plan = plan_in_state (method, rows[i].state, NULL);

      g_assert_nonnull (plan);
      g_assert_cmpint (rd_plan_is_editable (plan), ==, rows[i].editable);
      g_assert_cmpint (rd_plan_is_in_flight (plan), ==, rows[i].in_flight);
      g_assert_cmpint (rd_plan_is_closed (plan), ==, rows[i].closed);
    }
}

static void
test_json_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RdDevice) device = NULL;
  g_autoptr(RdPlan) plan = NULL;
  g_autoptr(RdPlan) copy = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) node2 = NULL;
  const char *const *ids;

  device = g_object_new (RD_TYPE_DEVICE, "id", "dev-9", "name", "LAB-Ä-9", "serial", "5CG1234", NULL);
  plan = rd_plan_new (device, RD_LANE_BREAK_FIX, RD_METHOD_WIPE_RETAIN);
  rd_plan_set_notes (plan, "Screen flickers; user agreed to reset.");
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_READY, &error));
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_SENDING, &error));
  g_assert_true (rd_plan_transition (plan, RD_PLAN_STATE_SENT, &error));
  rd_plan_add_request_id (plan, "req-1");
  rd_plan_add_request_id (plan, "req-2");
  rd_plan_set_last_error (plan, "none yet");

  node = rd_plan_to_json (plan);
  copy = rd_plan_new_from_json (json_node_get_object (node), &error);
  g_assert_no_error (error);
  g_assert_nonnull (copy);

  g_assert_null (rd_plan_get_device (copy));
  g_assert_cmpstr (rd_plan_get_device_id (copy), ==, "dev-9");
  g_assert_cmpstr (rd_plan_get_device_name (copy), ==, "LAB-Ä-9");
  g_assert_cmpstr (rd_plan_get_device_serial (copy), ==, "5CG1234");
  g_assert_cmpint (rd_plan_get_lane (copy), ==, RD_LANE_BREAK_FIX);
  g_assert_cmpint (rd_plan_get_method (copy), ==, RD_METHOD_WIPE_RETAIN);
  g_assert_cmpint (rd_plan_get_state (copy), ==, RD_PLAN_STATE_SENT);
  g_assert_cmpstr (rd_plan_get_notes (copy), ==, "Screen flickers; user agreed to reset.");
  g_assert_cmpstr (rd_plan_get_last_error (copy), ==, "none yet");
  ids = rd_plan_get_request_ids (copy);
  g_assert_cmpstr (ids[0], ==, "req-1");
  g_assert_cmpstr (ids[1], ==, "req-2");
  g_assert_null (ids[2]);
  g_assert_true (g_date_time_equal (rd_plan_get_created (copy), rd_plan_get_created (plan)));
  g_assert_true (g_date_time_equal (rd_plan_get_updated (copy), rd_plan_get_updated (plan)));

  node2 = rd_plan_to_json (copy);
  g_assert_true (json_node_equal (node, node2));

  /* Attaching the device refreshes the name the plan remembers. */
  g_object_set (device, "name", "LAB-9", NULL);
  rd_plan_set_device (copy, device);
  g_assert_true (rd_plan_get_device (copy) == device);
  g_assert_cmpstr (rd_plan_get_device_name (copy), ==, "LAB-9");
}

static void
test_json_invalid (void)
{
  static const char *const bad[] = {
    "{}",
    "{\"deviceId\":\"d\",\"lane\":\"break-fix\",\"method\":\"wipe-retain\",\"state\":\"ready\","
    "\"created\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":\"d\",\"lane\":\"inventory\",\"method\":\"wipe-retain\",\"state\":\"ready\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"wipe-retain\",\"state\":\"ready\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"sending\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"nonsense\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":42,\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"ready\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"ready\","
    "\"created\":\"yesterday\",\"updated\":\"2026-01-01T00:00:00Z\"}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"ready\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\","
    "\"requestIds\":[1]}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"ready\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\","
    "\"requestIds\":[{}]}",
    "{\"deviceId\":\"d\",\"lane\":\"reuse\",\"method\":\"reimage-oem\",\"state\":\"usb-prepared\","
    "\"created\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-01T00:00:00Z\","
    "\"usbKey\":{\"imageName\":\"a\",\"imageSha256\":\"xyz\"}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string (bad[i], &error);
      g_autoptr(RdPlan) plan = NULL;

      g_assert_no_error (error);
      plan = rd_plan_new_from_json (json_node_get_object (node), &error);
      g_assert_null (plan);
      g_assert_error (error, RD_CORE_ERROR, RD_CORE_ERROR_INVALID_DATA);
      g_assert_nonnull (error->message);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/plan/transitions/wipe-retain", test_transitions_wipe_retain);
  g_test_add_func ("/rd/plan/transitions/autopilot-reset", test_transitions_autopilot_reset);
  g_test_add_func ("/rd/plan/transitions/reimage-oem", test_transitions_reimage_oem);
  g_test_add_func ("/rd/plan/transitions/reimage-universal", test_transitions_reimage_universal);
  g_test_add_func ("/rd/plan/usb-key", test_usb_key);
  g_test_add_func ("/rd/plan/method", test_method);
  g_test_add_func ("/rd/plan/flags", test_flags);
  g_test_add_func ("/rd/plan/json/round-trip", test_json_round_trip);
  g_test_add_func ("/rd/plan/json/invalid", test_json_invalid);

  return g_test_run ();
}
