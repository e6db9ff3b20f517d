/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "rd-device.h"

G_BEGIN_DECLS

#define RD_TYPE_PLAN (rd_plan_get_type ())

G_DECLARE_FINAL_TYPE (RdPlan, rd_plan, RD, PLAN, GObject)

RdPlan             *rd_plan_new                  (RdDevice      *device,
                                                  RdLane         lane,
                                                  RdMethod       method);
RdPlan             *rd_plan_new_from_json        (JsonObject    *object,
                                                  GError       **error);
JsonNode           *rd_plan_to_json              (RdPlan        *self);

const char         *rd_plan_get_device_id        (RdPlan        *self);
const char         *rd_plan_get_device_name      (RdPlan        *self);
const char         *rd_plan_get_device_serial    (RdPlan        *self);
RdDevice           *rd_plan_get_device           (RdPlan        *self);
void                rd_plan_set_device           (RdPlan        *self,
                                                  RdDevice      *device);
RdLane              rd_plan_get_lane             (RdPlan        *self);
RdMethod            rd_plan_get_method           (RdPlan        *self);
gboolean            rd_plan_set_method           (RdPlan        *self,
                                                  RdMethod       method,
                                                  GError       **error);
RdPlanState         rd_plan_get_state            (RdPlan        *self);
gboolean            rd_plan_can_transition       (RdPlan        *self,
                                                  RdPlanState    state);
gboolean            rd_plan_transition           (RdPlan        *self,
                                                  RdPlanState    state,
                                                  GError       **error);
gboolean            rd_plan_is_editable          (RdPlan        *self);
gboolean            rd_plan_is_in_flight         (RdPlan        *self);
gboolean            rd_plan_is_closed            (RdPlan        *self);
GDateTime          *rd_plan_get_created          (RdPlan        *self);
GDateTime          *rd_plan_get_updated          (RdPlan        *self);
const char         *rd_plan_get_notes            (RdPlan        *self);
void                rd_plan_set_notes            (RdPlan        *self,
                                                  const char    *notes);
const char         *rd_plan_get_last_error       (RdPlan        *self);
void                rd_plan_set_last_error       (RdPlan        *self,
                                                  const char    *message);
const char *const  *rd_plan_get_request_ids      (RdPlan        *self);
void                rd_plan_add_request_id       (RdPlan        *self,
                                                  const char    *request_id);
gboolean            rd_plan_record_usb_key       (RdPlan        *self,
                                                  const char    *image_name,
                                                  const char    *image_sha256,
                                                  const char    *drive_serial,
                                                  GError       **error);
const char         *rd_plan_get_usb_image_name   (RdPlan        *self);
const char         *rd_plan_get_usb_image_sha256 (RdPlan        *self);
const char         *rd_plan_get_usb_drive_serial (RdPlan        *self);

const char         *rd_plan_state_to_string      (RdPlanState    state);

G_END_DECLS
