/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "rd-audit-log.h"
#include "rd-csv.h"
#include "rd-device.h"

#include <glib/gstdio.h>
#include <string.h>

/* The CSV writer that the app's exports and the CLI share: RFC 4180
 * quoting, the header rows, and one record per item in the model's order. */

static void
test_quote_field (void)
{
  const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { NULL, "" },
    { "", "" },
    { "HR-LT-0142", "HR-LT-0142" },
    { "Ölund café", "Ölund café" },
    { "a,b", "\"a,b\"" },
    { "say \"hi\"", "\"say \"\"hi\"\"\"" },
    { "\"", "\"\"\"\"" },
    { "two\nlines", "\"two\nlines\"" },
    { "cr\rhere", "\"cr\rhere\"" },
    { "crlf\r\n", "\"crlf\r\n\"" },
    { " leading", "\" leading\"" },
    { "trailing\t", "\"trailing\t\"" },
    { "in side", "in side" },
    { "'single'", "'single'" },
    { "=1+1", "=1+1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *quoted = rd_csv_quote_field (cases[i].in);

      g_assert_cmpstr (quoted, ==, cases[i].out);
    }
}

static void
test_quote_invalid_utf8 (void)
{
  g_autofree char *quoted = rd_csv_quote_field ("PC\xff,1");

  g_assert_true (g_utf8_validate (quoted, -1, NULL));
  g_assert_cmpstr (quoted, ==, "\"PC\xef\xbf\xbd,1\"");
}

static void
test_append_record (void)
{
  const char *fields[] = { "a", NULL, "b,c", "", "d\"e" };
  g_autoptr(GString) out = g_string_new ("x\r\n");

  rd_csv_append_record (out, fields, G_N_ELEMENTS (fields));
  g_assert_cmpstr (out->str, ==, "x\r\na,,\"b,c\",,\"d\"\"e\"\r\n");

  g_string_truncate (out, 0);
  rd_csv_append_record (out, NULL, 0);
  g_assert_cmpstr (out->str, ==, "\r\n");
}

static void
test_bitlocker (void)
{
  g_autoptr(GListStore) store = g_list_store_new (RD_TYPE_DEVICE);
  g_autoptr(GDateTime) synced = g_date_time_new_from_iso8601 ("2026-11-24T18:00:00+01:00", NULL);
  g_autoptr(RdDevice) ready = NULL;
  g_autoptr(RdDevice) unknown = NULL;
  g_autofree char *csv = NULL;
  g_auto(GStrv) records = NULL;

  ready = g_object_new (RD_TYPE_DEVICE,
                        "id", "d1", "name", "HR, \"Main\" PC", "serial", "5CG1",
                        "user-display-name", "Anna Lund",
                        "user-principal-name", "anna@contoso.example",
                        "os-version", "10.0.22631.4460", "encrypted", RD_TRISTATE_YES,
                        "escrowed-keys", 2, "tpm-version", "2.0",
                        "encryption-readiness", RD_ENCRYPTION_READINESS_READY,
                        "last-sync", synced, NULL);
  unknown = rd_device_new ("d2", "LAB-01");
  g_list_store_append (store, ready);
  g_list_store_append (store, unknown);

  csv = rd_csv_format_bitlocker (G_LIST_MODEL (store));
  records = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (records), ==, 4);
  g_assert_cmpstr (records[0], ==,
                   "deviceName,serialNumber,userDisplayName,userPrincipalName,osVersion,"
                   "isEncrypted,escrowedKeyCount,tpmVersion,encryptionReadiness,lastSyncDateTime,"
                   "readyForReuse,id");
  g_assert_cmpstr (records[1], ==,
                   "\"HR, \"\"Main\"\" PC\",5CG1,Anna Lund,anna@contoso.example,10.0.22631.4460,"
                   "true,2,2.0,ready,2026-11-24T17:00:00Z,true,d1");
  /* Unknown facts are empty fields, and unknown is not ready. */
  g_assert_cmpstr (records[2], ==, "LAB-01,,,,,,,,unknown,,false,d2");
  g_assert_cmpstr (records[3], ==, "");
}

static void
test_bitlocker_empty (void)
{
  g_autoptr(GListStore) store = g_list_store_new (RD_TYPE_DEVICE);
  g_autofree char *csv = rd_csv_format_bitlocker (G_LIST_MODEL (store));

  /* The header alone, so that a script still finds its columns. */
  g_assert_true (g_str_has_prefix (csv, "deviceName,"));
  g_assert_true (g_str_has_suffix (csv, ",id\r\n"));
  g_assert_cmpstr (strchr (csv, '\n'), ==, "\n");
}

static void
test_audit (void)
{
  g_autoptr(GListStore) store = g_list_store_new (RD_TYPE_AUDIT_ENTRY);
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 ("2026-11-24T17:00:00Z", NULL);
  g_autoptr(RdAuditEntry) sent = NULL;
  g_autoptr(RdAuditEntry) broken = NULL;
  g_autofree char *csv = NULL;
  g_auto(GStrv) records = NULL;

  /* clang-format off */
  sent = g_object_new (RD_TYPE_AUDIT_ENTRY,
                       "time", time, "user", "admin@contoso.example", "tenant", "t1",
                       "device-id", "d1", "device-name", "FIN,01", "method", "wipe-retain",
                       "request-method", "POST",
                       "request-path", "/deviceManagement/managedDevices/d1/wipe",
                       "http-status", 204, "request-id", "r-1", "client-request-id", "c-1",
                       "outcome", "sent", NULL);
  broken = g_object_new (RD_TYPE_AUDIT_ENTRY,
                         "time", time, "device-id", "d2", "device-name", "FIN-02",
                         "method", "autopilot-reset", "outcome", "unknown", NULL);
  /* clang-format on */
  g_list_store_append (store, sent);
  g_list_store_append (store, broken);

  csv = rd_csv_format_audit (G_LIST_MODEL (store));
  records = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (records), ==, 4);
  g_assert_cmpstr (records[0], ==,
                   "time,user,tenant,deviceName,deviceId,method,request,httpStatus,outcome,"
                   "requestId,clientRequestId");
  g_assert_cmpstr (records[1], ==,
                   "2026-11-24T17:00:00Z,admin@contoso.example,t1,\"FIN,01\",d1,wipe-retain,"
                   "POST /deviceManagement/managedDevices/d1/wipe,204,sent,r-1,c-1");
  g_assert_cmpstr (records[2], ==, "2026-11-24T17:00:00Z,,,FIN-02,d2,autopilot-reset,,,unknown,,");
}

static void
on_saved_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_save (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rd-csv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.csv", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "missing", "out.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) bad_file = g_file_new_for_path (bad_path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_assert_true (g_file_set_contents (path, "old, longer contents\r\n", -1, NULL));

  rd_csv_save_async (file, "a,b\r\n", NULL, on_saved_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (rd_csv_save_finish (result, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "a,b\r\n");
  g_clear_object (&result);

  /* A folder that is not there is an error, not a crash. */
  rd_csv_save_async (bad_file, "a\r\n", NULL, on_saved_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (rd_csv_save_finish (result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rd/csv/quote-field", test_quote_field);
  g_test_add_func ("/rd/csv/quote-invalid-utf8", test_quote_invalid_utf8);
  g_test_add_func ("/rd/csv/append-record", test_append_record);
  g_test_add_func ("/rd/csv/bitlocker", test_bitlocker);
  g_test_add_func ("/rd/csv/bitlocker-empty", test_bitlocker_empty);
  g_test_add_func ("/rd/csv/audit", test_audit);
  g_test_add_func ("/rd/csv/save", test_save);

  return g_test_run ();
}
