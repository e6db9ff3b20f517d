/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rd-application.h"
#include "rd-device-card.h"
#include "rd-lane-view.h"
#include "rd-plan-pane.h"
#include "rd-session.h"
#include "rd-window.h"

G_BEGIN_DECLS

/* A window on a fresh demo tenant: rd_ui_test_demo_open() fills all but
 * @board in, which the caller sets once the sync is done. */
typedef struct
{
  RdSession *session;
  RdDemoTenant *demo;
  RdWindow *window;
  RdBoard *board;
  RdLaneView *inventory;
  RdLaneView *break_fix;
  RdPlanPane *pane;
} RdUiTestDemo;

void              rd_ui_test_iterate         (guint          ms);
gboolean          rd_ui_test_iterate_until   (gboolean     (*done) (gpointer data),
                                              gpointer       data,
                                              guint          seconds);
gpointer          rd_ui_test_template_child  (gpointer       widget,
                                              GType          type,
                                              const char    *name);
void              rd_ui_test_collect         (GtkWidget     *widget,
                                              GType          type,
                                              GPtrArray     *found);
AdwMessageDialog *rd_ui_test_find_dialog     (void);
GtkWindow        *rd_ui_test_window_new      (GtkWidget     *child,
                                              int            width,
                                              int            height);
void              rd_ui_test_close_window    (gpointer       window,
                                              guint          ms);
void              rd_ui_test_save_screenshot (GtkWidget     *widget,
                                              const char    *path);
void              rd_ui_test_async_result_cb (GObject       *source,
                                              GAsyncResult  *result,
                                              gpointer       user_data);
GAsyncResult     *rd_ui_test_wait_for_result (GAsyncResult **result);
char             *rd_ui_test_take_file       (const char    *path);
GtkWidget        *rd_ui_test_find_button     (GtkWidget     *root,
                                              const char    *label);
void              rd_ui_test_click           (GtkWidget     *root,
                                              const char    *label);
gboolean          rd_ui_test_label_shows     (GtkWidget     *root,
                                              const char    *text);
gboolean          rd_ui_test_label_holds     (GtkWidget     *root,
                                              const char    *text);
gboolean          rd_ui_test_has_dialog      (gpointer       data);
gboolean          rd_ui_test_no_dialog       (gpointer       data);
AdwMessageDialog *rd_ui_test_wait_dialog     (void);
void              rd_ui_test_answer_dialog   (AdwMessageDialog *dialog,
                                              const char       *label);
void              rd_ui_test_close_dialog    (AdwMessageDialog *dialog);
RdDeviceCard     *rd_ui_test_find_card       (RdLaneView    *lane,
                                              RdDevice      *device);
GtkWidget        *rd_ui_test_card_part       (RdDeviceCard  *card,
                                              const char    *name);
void              rd_ui_test_demo_open       (RdUiTestDemo  *demo,
                                              RdApplication *app,
                                              guint          latency_msec);
gboolean          rd_ui_test_demo_synced     (gpointer       data);
void              rd_ui_test_demo_close      (RdUiTestDemo  *demo);
RdApplication    *rd_ui_test_demo_app_new    (int           *argc,
                                              char        ***argv,
                                              const char    *app_id);

G_END_DECLS
