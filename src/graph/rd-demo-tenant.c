/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-demo-tenant"

#include "config.h"

#include "rd-demo-tenant.h"

#include "rd-demo-data.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* RdDemoTenant plays Microsoft Entra ID and Microsoft Graph on 127.0.0.1,
 * for the tests, the benchmarks and `--demo`. It answers with the shapes,
 * statuses and error bodies that reference/graph-entra.md documents, so
 * that code which works here has met the real service's rules.
 *
 * The server runs in its own thread, with its own main context; every
 * piece of state sits behind one mutex, so the knobs and counters can be
 * used from any thread while it runs.
 *
 * The data is kept as pre-rendered JSON: every row of a collection is an
 * array of JSON texts, one per property of the resource's schema (NULL for
 * null), stored in a GStringChunk. A page is then a concatenation, and a
 * tenant of 100,000 devices costs a few tens of megabytes. */

#define STATUS_TOO_MANY_REQUESTS 429
#define DEFAULT_PAGE_SIZE 1000
#define MAX_BATCH_REQUESTS 20
#define DEVICE_CODE_EXPIRES_IN 900
#define AUTH_CODE_LIFETIME (10 * G_TIME_SPAN_MINUTE)
#define GRAPH_APP_ID "00000003-0000-0000-c000-000000000000"
#define ODATA_JSON                                                                                 \
  "application/"                                                                                   \
  "json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

/* Schemas */

enum
{
  FIELD_BETA = 1 << 0,   /* beta only: unknown to v1.0 */
  FIELD_HIDDEN = 1 << 1, /* never in a list; on a single GET only with $select */
};

typedef struct
{
  const char *name;
  guint flags;
} Field;

/* managedDevice, v1.0 properties then the beta-only ones (reference §3). */
static const Field device_fields[] = {
  { "id", 0 },
  { "userId", 0 },
  { "deviceName", 0 },
  { "managedDeviceOwnerType", 0 },
  { "enrolledDateTime", 0 },
  { "lastSyncDateTime", 0 },
  { "operatingSystem", 0 },
  { "complianceState", 0 },
  { "jailBroken", 0 },
  { "managementAgent", 0 },
  { "osVersion", 0 },
  { "easActivated", 0 },
  { "easDeviceId", 0 },
  { "easActivationDateTime", 0 },
  { "azureADRegistered", 0 },
  { "deviceEnrollmentType", 0 },
  { "activationLockBypassCode", 0 },
  { "emailAddress", 0 },
  { "azureADDeviceId", 0 },
  { "deviceRegistrationState", 0 },
  { "deviceCategoryDisplayName", 0 },
  { "isSupervised", 0 },
  { "exchangeLastSuccessfulSyncDateTime", 0 },
  { "exchangeAccessState", 0 },
  { "exchangeAccessStateReason", 0 },
  { "remoteAssistanceSessionUrl", 0 },
  { "remoteAssistanceSessionErrorDetails", 0 },
  { "isEncrypted", 0 },
  { "userPrincipalName", 0 },
  { "model", 0 },
  { "manufacturer", 0 },
  { "imei", 0 },
  { "complianceGracePeriodExpirationDateTime", 0 },
  { "serialNumber", 0 },
  { "phoneNumber", 0 },
  { "androidSecurityPatchLevel", 0 },
  { "userDisplayName", 0 },
  { "configurationManagerClientEnabledFeatures", 0 },
  { "wiFiMacAddress", 0 },
  { "deviceHealthAttestationState", 0 },
  { "subscriberCarrier", 0 },
  { "meid", 0 },
  { "totalStorageSpaceInBytes", 0 },
  { "freeStorageSpaceInBytes", 0 },
  { "managedDeviceName", 0 },
  { "partnerReportedThreatState", 0 },
  { "requireUserEnrollmentApproval", 0 },
  { "managementCertificateExpirationDate", 0 },
  { "iccid", 0 },
  { "udid", 0 },
  { "notes", 0 },
  { "ethernetMacAddress", 0 },
  { "physicalMemoryInBytes", 0 },
  { "deviceActionResults", 0 },
  { "joinType", FIELD_BETA },
  { "autopilotEnrolled", FIELD_BETA },
  { "managementState", FIELD_BETA },
  { "managementFeatures", FIELD_BETA },
  { "enrollmentProfileName", FIELD_BETA },
  { "skuFamily", FIELD_BETA },
  { "chassisType", FIELD_BETA },
  { "deviceType", FIELD_BETA },
  { "processorArchitecture", FIELD_BETA },
  { "usersLoggedOn", FIELD_BETA },
  { "hardwareInformation", FIELD_BETA },
  { "azureActiveDirectoryDeviceId", FIELD_BETA },
};

/* bitlockerRecoveryKey (reference §4). */
static const Field key_fields[] = {
  { "id", 0 },       { "createdDateTime", 0 }, { "volumeType", 0 },
  { "deviceId", 0 }, { "key", FIELD_HIDDEN },
};

/* windowsAutopilotDeviceIdentity (reference §5). */
static const Field autopilot_fields[] = {
  { "id", 0 },
  { "groupTag", 0 },
  { "purchaseOrderIdentifier", 0 },
  { "serialNumber", 0 },
  { "productKey", 0 },
  { "manufacturer", 0 },
  { "model", 0 },
  { "enrollmentState", 0 },
  { "lastContactedDateTime", 0 },
  { "addressableUserName", 0 },
  { "userPrincipalName", 0 },
  { "resourceName", 0 },
  { "skuNumber", 0 },
  { "systemFamily", 0 },
  { "azureActiveDirectoryDeviceId", 0 },
  { "managedDeviceId", 0 },
  { "displayName", 0 },
  { "azureAdDeviceId", FIELD_BETA },
  { "deploymentProfileAssignmentStatus", FIELD_BETA },
  { "deploymentProfileAssignmentDetailedStatus", FIELD_BETA },
  { "deploymentProfileAssignedDateTime", FIELD_BETA },
};

/* managedDeviceEncryptionState, beta only (reference §4). */
static const Field encryption_fields[] = {
  { "id", 0 },
  { "userPrincipalName", 0 },
  { "deviceType", 0 },
  { "osVersion", 0 },
  { "tpmSpecificationVersion", 0 },
  { "deviceName", 0 },
  { "encryptionReadinessState", 0 },
  { "encryptionState", 0 },
  { "encryptionPolicySettingState", 0 },
  { "advancedBitLockerStates", 0 },
  { "fileVaultStates", 0 },
  { "policyDetails", 0 },
};

typedef enum
{
  TABLE_DEVICES,
  TABLE_KEYS,
  TABLE_AUTOPILOT,
  TABLE_ENCRYPTION,
  N_TABLES
} TableId;

typedef struct
{
  const char *member;  /* the array's name in demo-tenant.json */
  const char *entity;  /* for "@odata.context" and error messages */
  const char *context; /* the collection's path in "@odata.context" */
  const Field *fields;
  guint n_fields;
} TableInfo;

static const TableInfo table_info[N_TABLES] = {
  { "managedDevices", "microsoft.graph.managedDevice", "deviceManagement/managedDevices",
    device_fields, G_N_ELEMENTS (device_fields) },
  { "bitlockerRecoveryKeys", "microsoft.graph.bitlockerRecoveryKey",
    "informationProtection/bitlocker/recoveryKeys", key_fields, G_N_ELEMENTS (key_fields) },
  { "windowsAutopilotDeviceIdentities", "microsoft.graph.windowsAutopilotDeviceIdentity",
    "deviceManagement/windowsAutopilotDeviceIdentities", autopilot_fields,
    G_N_ELEMENTS (autopilot_fields) },
  { "managedDeviceEncryptionStates", "microsoft.graph.managedDeviceEncryptionState",
    "deviceManagement/managedDeviceEncryptionStates", encryption_fields,
    G_N_ELEMENTS (encryption_fields) },
};

/* Column indices the code itself reads or writes. */
enum
{
  DEVICE_ID = 0,
  DEVICE_NAME = 2,
  DEVICE_LAST_SYNC = 5,
  DEVICE_OPERATING_SYSTEM = 6,
  DEVICE_AZURE_AD_DEVICE_ID = 18,
  DEVICE_SERIAL = 33,
  DEVICE_ACTION_RESULTS = 53,
  DEVICE_MANAGEMENT_STATE = 56,
};

enum
{
  KEY_ID = 0,
  KEY_DEVICE_ID = 3,
  KEY_KEY = 4,
};

enum
{
  AUTOPILOT_SERIAL = 3,
};

/* Sign-in state */

typedef struct
{
  char *scope;
  char *correlation;
  gint64 expires;
  guint pending_left;
  gboolean slow_down;
  RdDemoDeviceCodeOutcome outcome;
} DeviceCode;

typedef struct
{
  char *client_id;
  char *redirect_uri;
  char *scope;
  char *challenge;
  char *challenge_method;
  gint64 expires;
} AuthCode;

/* A device action (wipe) that the tenant carries out over time. */
typedef struct
{
  char *device_id;
  char *name;
  gint64 started;
  gint64 duration;
  gboolean done;
} Action;

/* A device whose actions the tenant refuses, with a Graph error. */
typedef struct
{
  guint status;
  char *code;
  char *message;
} ActionFailure;

/* Requests and replies, shared by the outer handlers and $batch */

typedef enum
{
  ROUTE_UNKNOWN,
  ROUTE_DEVICES,
  ROUTE_DEVICE,
  ROUTE_WIPE,
  ROUTE_SYNC,
  ROUTE_KEYS,
  ROUTE_KEY,
  ROUTE_AUTOPILOT,
  ROUTE_ENCRYPTION,
  ROUTE_BATCH,
} Route;

static const char *const route_patterns[] = {
  NULL,
  "/deviceManagement/managedDevices",
  "/deviceManagement/managedDevices/{id}",
  "/deviceManagement/managedDevices/{id}/wipe",
  "/deviceManagement/managedDevices/{id}/syncDevice",
  "/informationProtection/bitlocker/recoveryKeys",
  "/informationProtection/bitlocker/recoveryKeys/{id}",
  "/deviceManagement/windowsAutopilotDeviceIdentities",
  "/deviceManagement/managedDeviceEncryptionStates",
  "/$batch",
};

typedef struct
{
  const char *method;
  const char *version; /* "v1.0" or "beta" */
  char *path;          /* after the version, from "/" */
  GHashTable *query;   /* decoded query options */
  const char *authorization;
  const char *client_request_id;
  GBytes *body;
  char *request_id;
  gboolean inner; /* inside $batch */
  Route route;
  char *route_id;
} Request;

typedef struct
{
  guint status;
  const char *content_type;
  GString *body;      /* NULL: no body */
  GPtrArray *headers; /* name, value, name, value, ... */
} Reply;

typedef struct _Data Data;

struct _Data
{
  GStringChunk *chunk;
  GPtrArray *tables[N_TABLES]; /* char ** rows */
  GHashTable *device_index;    /* id -> index + 1 */
  char *tenant_id;
  char *tenant_domain;
  char *user_id;
  char *user_name;
  char *user_upn;
};

struct _RdDemoTenant
{
  GObject parent_instance;

  GMutex lock;

  Data *data;

  /* Sign-in */
  GHashTable *device_codes;   /* device_code -> DeviceCode */
  GHashTable *auth_codes;     /* code -> AuthCode */
  GHashTable *access_tokens;  /* token -> expiry (µs, real time) */
  GHashTable *refresh_tokens; /* token -> scope */
  RdDemoDeviceCodeOutcome device_code_outcome;
  guint device_code_pending;
  gboolean device_code_slow_down;
  guint device_code_interval;
  gboolean authorize_denied;
  gboolean public_client_flows;
  double token_lifetime;

  /* Graph knobs */
  guint latency;
  guint throttle_every;
  guint throttle_count;
  double retry_after;
  guint unavailable_every;
  guint unavailable_count;
  guint drop_every;
  guint drop_count;
  guint malformed_page;
  guint page_size;
  RdDemoSource forbidden;
  gint64 action_duration;
  GHashTable *action_failures; /* device id -> ActionFailure */

  /* Actions */
  GPtrArray *actions; /* Action */

  /* Counters */
  GHashTable *counters; /* "METHOD pattern" -> count */
  guint total_requests;
  GPtrArray *wipe_requests;

  /* Server thread; server and delayed live in it */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  GPtrArray *delayed; /* GSource, latency timers */
  char *base_url;
  GCond cond;
  gboolean ready;
  GError *start_error;
};

G_DEFINE_FINAL_TYPE (RdDemoTenant, rd_demo_tenant, G_TYPE_OBJECT)

/* Helpers */

static void
device_code_free (gpointer data)
{
  DeviceCode *code = data;

  g_free (code->scope);
  g_free (code->correlation);
  g_free (code);
}

static void
auth_code_free (gpointer data)
{
  AuthCode *code = data;

  g_free (code->client_id);
  g_free (code->redirect_uri);
  g_free (code->scope);
  g_free (code->challenge);
  g_free (code->challenge_method);
  g_free (code);
}

static void
action_failure_free (gpointer data)
{
  ActionFailure *failure = data;

  g_free (failure->code);
  g_free (failure->message);
  g_free (failure);
}

static void
action_free (gpointer data)
{
  Action *action = data;

  g_free (action->device_id);
  g_free (action->name);
  g_free (action);
}

void
rd_demo_wipe_request_free (RdDemoWipeRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->device_id);
  g_free (request->body);
  g_free (request->version);
  g_free (request);
}

static void
append_json_string (GString *out, const char *str)
{
  const char *run = str;
  const char *p;

  /* Plain runs are copied whole: the generator and the pages lean on this. */
  g_string_append_c (out, '"');
  for (p = str; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          g_string_append_printf (out, "\\u%04x", c);
        }
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

static void
append_json_node (GString *out, JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      g_string_append (out, "null");
      return;
    }

  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType type = json_node_get_value_type (node);
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      if (type == G_TYPE_STRING)
        append_json_string (out, json_node_get_string (node));
      else if (type == G_TYPE_BOOLEAN)
        g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      else if (type == G_TYPE_INT64)
        g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      else
        g_string_append (out, g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
      return;
    }

  {
    g_autofree char *text = json_to_string (node, FALSE);

    g_string_append (out, text);
  }
}

/* The contents of a rendered JSON string, or NULL when it is not one. */
static char *
json_text_to_string (const char *text)
{
  g_autoptr (JsonNode) node = NULL;

  if (text == NULL || text[0] != '"')
    return NULL;
  if (strchr (text, '\\') == NULL)
    return g_strndup (text + 1, strlen (text) - 2);

  node = json_from_string (text, NULL);
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static char *
base64url (const guchar *data, gsize len)
{
  char *text = g_base64_encode (data, len);
  char *p;

  for (p = text; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }
  return text;
}

static char *
random_base64url (gsize n_bytes)
{
  g_autofree guchar *bytes = g_malloc (n_bytes);
  gsize i;

  for (i = 0; i < n_bytes; i++)
    bytes[i] = (guchar) g_random_int_range (0, 256);
  return base64url (bytes, n_bytes);
}

static char *
format_date_time (gint64 usec, gboolean entra)
{
  time_t seconds = (time_t) (usec / G_USEC_PER_SEC);
  struct tm tm;

  /* gmtime_r, not GDateTime: the generator formats a few hundred thousand. */
  gmtime_r (&seconds, &tm);
  return g_strdup_printf (
    entra ? "%04d-%02d-%02d %02d:%02d:%02dZ" : "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *
format_seconds (double seconds)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%g", seconds));
}

static void
reply_clear (Reply *reply)
{
  if (reply->body != NULL)
    g_string_free (reply->body, TRUE);
  g_clear_pointer (&reply->headers, g_ptr_array_unref);
}

static void
reply_add_header (Reply *reply, const char *name, const char *value)
{
  if (reply->headers == NULL)
    reply->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (reply->headers, g_strdup (name));
  g_ptr_array_add (reply->headers, g_strdup (value));
}

static void
reply_set_json (Reply *reply, guint status, const char *content_type, GString *body)
{
  reply->status = status;
  reply->content_type = content_type;
  if (reply->body != NULL)
    g_string_free (reply->body, TRUE);
  reply->body = body;
}

static void
reply_set_builder (Reply *reply, guint status, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  reply_set_json (reply, status, "application/json; charset=utf-8", g_string_new (text));
}

static GHashTable *
parse_query (const char *query)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) pairs = NULL;
  int i;

  if (query == NULL || *query == '\0')
    return params;

  pairs = g_strsplit (query, "&", -1);
  for (i = 0; pairs[i] != NULL; i++)
    {
      char *eq;
      char *key;
      char *value;

      if (pairs[i][0] == '\0')
        continue;

      g_strdelimit (pairs[i], "+", ' ');
      eq = strchr (pairs[i], '=');
      if (eq != NULL)
        *eq = '\0';
      key = g_uri_unescape_string (pairs[i], NULL);
      value = g_uri_unescape_string (eq != NULL ? eq + 1 : "", NULL);
      if (key == NULL)
        key = g_strdup (pairs[i]);
      if (value == NULL)
        value = g_strdup (eq != NULL ? eq + 1 : "");
      g_hash_table_replace (params, key, value);
    }
  return params;
}

static void
count_request (RdDemoTenant *self, const char *method, const char *pattern)
{
  char *key = g_strconcat (method, " ", pattern, NULL);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->counters, key));

  g_hash_table_replace (self->counters, key, GUINT_TO_POINTER (count + 1));
}

/* Tokens */

static char *
make_jwt (JsonBuilder *payload)
{
  static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"rd-demo-tenant\"}";
  g_autoptr (JsonNode) root = json_builder_get_root (payload);
  g_autofree char *payload_text = json_to_string (root, FALSE);
  g_autofree char *h = base64url ((const guchar *) header, strlen (header));
  g_autofree char *p = base64url ((const guchar *) payload_text, strlen (payload_text));
  g_autofree char *s = random_base64url (256);

  return g_strdup_printf ("%s.%s.%s", h, p, s);
}

/* The scopes granted for a request: the Graph ones without their resource
 * prefix, and the OpenID Connect ones. */
static char *
granted_scopes (const char *scope, gboolean graph_only)
{
  g_auto (GStrv) words = g_strsplit_set (scope != NULL ? scope : "", " ", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  int i;

  for (i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];

      if (word[0] == '\0' || g_strcmp0 (word, "offline_access") == 0)
        continue;
      if (g_str_has_prefix (word, "https://graph.microsoft.com/"))
        word += strlen ("https://graph.microsoft.com/");
      if (graph_only && (g_str_equal (word, "openid") || g_str_equal (word, "profile") ||
                         g_str_equal (word, "email")))
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, word);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
scope_has (const char *scope, const char *word)
{
  g_auto (GStrv) words = g_strsplit_set (scope != NULL ? scope : "", " ", -1);

  return g_strv_contains ((const char *const *) words, word);
}

static char *
issue_access_token_locked (RdDemoTenant *self,
                           const char *client_id,
                           const char *scope,
                           gint64 *out_lifetime)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *scp = granted_scopes (scope, TRUE);
  g_autofree char *jti = g_uuid_string_random ();
  g_autofree char *iss = g_strdup_printf ("https://sts.windows.net/%s/", self->data->tenant_id);
  gint64 now = g_get_real_time ();
  gint64 expires = now + (gint64) (self->token_lifetime * G_USEC_PER_SEC);
  gint64 *stored;
  char *token;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "aud");
  json_builder_add_string_value (builder, "https://graph.microsoft.com");
  json_builder_set_member_name (builder, "iss");
  json_builder_add_string_value (builder, iss);
  json_builder_set_member_name (builder, "iat");
  json_builder_add_int_value (builder, now / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "nbf");
  json_builder_add_int_value (builder, now / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "exp");
  json_builder_add_int_value (builder, expires / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "appid");
  json_builder_add_string_value (builder, client_id != NULL ? client_id : "");
  json_builder_set_member_name (builder, "app_displayname");
  json_builder_add_string_value (builder, "Recovery Desk");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, self->data->user_name);
  json_builder_set_member_name (builder, "oid");
  json_builder_add_string_value (builder, self->data->user_id);
  json_builder_set_member_name (builder, "preferred_username");
  json_builder_add_string_value (builder, self->data->user_upn);
  json_builder_set_member_name (builder, "scp");
  json_builder_add_string_value (builder, scp);
  json_builder_set_member_name (builder, "tid");
  json_builder_add_string_value (builder, self->data->tenant_id);
  json_builder_set_member_name (builder, "unique_name");
  json_builder_add_string_value (builder, self->data->user_upn);
  json_builder_set_member_name (builder, "upn");
  json_builder_add_string_value (builder, self->data->user_upn);
  json_builder_set_member_name (builder, "uti");
  json_builder_add_string_value (builder, jti);
  json_builder_set_member_name (builder, "ver");
  json_builder_add_string_value (builder, "1.0");
  json_builder_end_object (builder);

  token = make_jwt (builder);
  stored = g_new (gint64, 1);
  *stored = expires;
  g_hash_table_replace (self->access_tokens, g_strdup (token), stored);
  if (out_lifetime != NULL)
    {
      /* Rounded up, so that a short test lifetime never reads as 0. */
      *out_lifetime = (gint64) self->token_lifetime;
      if ((double) *out_lifetime < self->token_lifetime)
        (*out_lifetime)++;
    }
  return token;
}

static char *
issue_id_token_locked (RdDemoTenant *self, const char *client_id)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *iss = g_strdup_printf ("https://login.microsoftonline.com/%s/v2.0",
                                          self->data->tenant_id);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "aud");
  json_builder_add_string_value (builder, client_id != NULL ? client_id : "");
  json_builder_set_member_name (builder, "iss");
  json_builder_add_string_value (builder, iss);
  json_builder_set_member_name (builder, "iat");
  json_builder_add_int_value (builder, now);
  json_builder_set_member_name (builder, "nbf");
  json_builder_add_int_value (builder, now);
  json_builder_set_member_name (builder, "exp");
  json_builder_add_int_value (builder, now + 3600);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, self->data->user_name);
  json_builder_set_member_name (builder, "oid");
  json_builder_add_string_value (builder, self->data->user_id);
  json_builder_set_member_name (builder, "preferred_username");
  json_builder_add_string_value (builder, self->data->user_upn);
  json_builder_set_member_name (builder, "sub");
  json_builder_add_string_value (builder, self->data->user_id);
  json_builder_set_member_name (builder, "tid");
  json_builder_add_string_value (builder, self->data->tenant_id);
  json_builder_set_member_name (builder, "ver");
  json_builder_add_string_value (builder, "2.0");
  json_builder_end_object (builder);

  return make_jwt (builder);
}

static void
reply_tokens_locked (RdDemoTenant *self, Reply *reply, const char *client_id, const char *scope)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *granted = granted_scopes (scope, FALSE);
  g_autofree char *access_token = NULL;
  gint64 lifetime = 0;

  access_token = issue_access_token_locked (self, client_id, scope, &lifetime);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "token_type");
  json_builder_add_string_value (builder, "Bearer");
  json_builder_set_member_name (builder, "scope");
  json_builder_add_string_value (builder, granted);
  json_builder_set_member_name (builder, "expires_in");
  json_builder_add_int_value (builder, lifetime);
  json_builder_set_member_name (builder, "ext_expires_in");
  json_builder_add_int_value (builder, lifetime);
  json_builder_set_member_name (builder, "access_token");
  json_builder_add_string_value (builder, access_token);
  if (scope_has (scope, "offline_access"))
    {
      g_autofree char *refresh = random_base64url (96);

      refresh[0] = '0';
      refresh[1] = '.';
      g_hash_table_replace (self->refresh_tokens, g_strdup (refresh), g_strdup (scope));
      json_builder_set_member_name (builder, "refresh_token");
      json_builder_add_string_value (builder, refresh);
    }
  if (scope_has (scope, "openid"))
    {
      g_autofree char *id_token = issue_id_token_locked (self, client_id);

      json_builder_set_member_name (builder, "id_token");
      json_builder_add_string_value (builder, id_token);
    }
  json_builder_end_object (builder);

  reply_set_builder (reply, SOUP_STATUS_OK, builder);
  reply_add_header (reply, "Cache-Control", "no-store, no-cache");
  reply_add_header (reply, "Pragma", "no-cache");
}

/* An OAuth error as Entra ID sends it (reference §7). */
static void
reply_token_error (Reply *reply,
                   guint status,
                   const char *error,
                   guint aadsts,
                   const char *description,
                   const char *correlation)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *trace_id = g_uuid_string_random ();
  g_autofree char *fresh_correlation = g_uuid_string_random ();
  g_autofree char *timestamp = format_date_time (g_get_real_time (), TRUE);
  g_autofree char *full = NULL;
  g_autofree char *error_uri = NULL;

  if (correlation == NULL)
    correlation = fresh_correlation;
  full = g_strdup_printf ("AADSTS%u: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts,
                          description, trace_id, correlation, timestamp);
  error_uri = g_strdup_printf ("https://login.microsoftonline.com/error?code=%u", aadsts);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, error);
  json_builder_set_member_name (builder, "error_description");
  json_builder_add_string_value (builder, full);
  json_builder_set_member_name (builder, "error_codes");
  json_builder_begin_array (builder);
  json_builder_add_int_value (builder, aadsts);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "timestamp");
  json_builder_add_string_value (builder, timestamp);
  json_builder_set_member_name (builder, "trace_id");
  json_builder_add_string_value (builder, trace_id);
  json_builder_set_member_name (builder, "correlation_id");
  json_builder_add_string_value (builder, correlation);
  json_builder_set_member_name (builder, "error_uri");
  json_builder_add_string_value (builder, error_uri);
  json_builder_end_object (builder);

  reply_set_builder (reply, status, builder);
  reply_add_header (reply, "Cache-Control", "no-store, no-cache");
}

/* Login endpoints */

static GHashTable *
parse_form (GBytes *body)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;

  text = g_strndup (data != NULL ? data : "", len);
  return soup_form_decode (text);
}

static void
handle_devicecode (RdDemoTenant *self,
                   const char *base_url,
                   GHashTable *form,
                   const char *correlation,
                   Reply *reply)
{
  const char *client_id = g_hash_table_lookup (form, "client_id");
  const char *scope = g_hash_table_lookup (form, "scope");
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *device_code = NULL;
  g_autofree char *user_code = NULL;
  g_autofree char *verification_uri = NULL;
  g_autofree char *message = NULL;
  static const char alphabet[] = "BCDFGHJKLMNPQRSTVWXZ23456789";
  DeviceCode *code;
  int i;

  if (client_id == NULL || *client_id == '\0')
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'client_id'.",
                         correlation);
      return;
    }
  if (scope == NULL || *scope == '\0')
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'scope'.",
                         correlation);
      return;
    }

  device_code = random_base64url (96);
  device_code[0] = 'D';
  device_code[1] = 'A';
  user_code = g_malloc0 (10);
  for (i = 0; i < 9; i++)
    user_code[i] = alphabet[g_random_int_range (0, (int) strlen (alphabet))];
  verification_uri = g_strdup_printf ("%s/login/devicelogin", base_url);
  message = g_strdup_printf ("To sign in, use a web browser to open the page %s and enter the "
                             "code %s to authenticate.",
                             verification_uri, user_code);

  code = g_new0 (DeviceCode, 1);
  code->scope = g_strdup (scope);
  code->correlation = g_strdup (correlation);
  code->expires = g_get_monotonic_time () + DEVICE_CODE_EXPIRES_IN * G_USEC_PER_SEC;
  code->pending_left = self->device_code_pending;
  code->slow_down = self->device_code_slow_down;
  code->outcome = self->device_code_outcome;
  g_hash_table_replace (self->device_codes, g_strdup (device_code), code);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "user_code");
  json_builder_add_string_value (builder, user_code);
  json_builder_set_member_name (builder, "device_code");
  json_builder_add_string_value (builder, device_code);
  json_builder_set_member_name (builder, "verification_uri");
  json_builder_add_string_value (builder, verification_uri);
  json_builder_set_member_name (builder, "expires_in");
  json_builder_add_int_value (builder, DEVICE_CODE_EXPIRES_IN);
  json_builder_set_member_name (builder, "interval");
  json_builder_add_int_value (builder, self->device_code_interval);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);

  reply_set_builder (reply, SOUP_STATUS_OK, builder);
}

static void
token_device_code (RdDemoTenant *self,
                   GHashTable *form,
                   const char *client_id,
                   const char *correlation,
                   Reply *reply)
{
  const char *device_code = g_hash_table_lookup (form, "device_code");
  DeviceCode *code;
  g_autofree char *scope = NULL;

  if (!self->public_client_flows)
    {
      reply_token_error (reply, SOUP_STATUS_UNAUTHORIZED, "invalid_client", 7000218,
                         "The request body must contain the following parameter: "
                         "'client_assertion' or 'client_secret'.",
                         correlation);
      return;
    }

  code = device_code != NULL ? g_hash_table_lookup (self->device_codes, device_code) : NULL;
  if (code == NULL)
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "bad_verification_code", 70019,
                         "The provided value for the input parameter 'device_code' is not valid.",
                         correlation);
      return;
    }

  if (g_get_monotonic_time () >= code->expires)
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "expired_token", 70020,
                         "The provided value for the input parameter 'device_code' is not "
                         "valid. This device code has expired.",
                         correlation);
      return;
    }

  if (code->slow_down)
    {
      code->slow_down = FALSE;
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "slow_down", 70016,
                         "OAuth 2.0 device flow error. Polling too fast: slow down.", correlation);
      return;
    }

  if (code->pending_left > 0)
    {
      code->pending_left--;
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "authorization_pending", 70016,
                         "OAuth 2.0 device flow error. Authorization is pending. Continue "
                         "polling.",
                         correlation);
      return;
    }

  switch (code->outcome)
    {
    case RD_DEMO_DEVICE_CODE_DECLINE:
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "authorization_declined", 70000,
                         "The end user denied the authorization request.", correlation);
      g_hash_table_remove (self->device_codes, device_code);
      return;
    case RD_DEMO_DEVICE_CODE_EXPIRE:
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "expired_token", 70020,
                         "The provided value for the input parameter 'device_code' is not "
                         "valid. This device code has expired.",
                         correlation);
      g_hash_table_remove (self->device_codes, device_code);
      return;
    case RD_DEMO_DEVICE_CODE_BAD_CODE:
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "bad_verification_code", 70019,
                         "The provided value for the input parameter 'device_code' is not valid.",
                         correlation);
      return;
    case RD_DEMO_DEVICE_CODE_APPROVE:
    default:
      break;
    }

  /* A device code is redeemed once. */
  scope = g_strdup (code->scope);
  g_hash_table_remove (self->device_codes, device_code);
  reply_tokens_locked (self, reply, client_id, scope);
}

static gboolean
verify_pkce (const AuthCode *code, const char *verifier)
{
  g_autoptr (GChecksum) checksum = NULL;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autofree char *expected = NULL;

  if (code->challenge == NULL)
    return verifier == NULL;
  if (verifier == NULL)
    return FALSE;
  if (g_strcmp0 (code->challenge_method, "plain") == 0)
    return g_str_equal (code->challenge, verifier);

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, (const guchar *) verifier, strlen (verifier));
  g_checksum_get_digest (checksum, digest, &digest_len);
  expected = base64url (digest, digest_len);
  return g_str_equal (expected, code->challenge);
}

static void
token_authorization_code (RdDemoTenant *self,
                          GHashTable *form,
                          const char *client_id,
                          const char *correlation,
                          Reply *reply)
{
  const char *code_value = g_hash_table_lookup (form, "code");
  const char *redirect_uri = g_hash_table_lookup (form, "redirect_uri");
  const char *verifier = g_hash_table_lookup (form, "code_verifier");
  g_autofree char *scope = NULL;
  AuthCode *code;

  code = code_value != NULL ? g_hash_table_lookup (self->auth_codes, code_value) : NULL;
  if (code == NULL || g_get_monotonic_time () >= code->expires)
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 70008,
                         "The provided authorization code or refresh token has expired due to "
                         "inactivity. Send a new interactive authorization request for this user "
                         "and resource.",
                         correlation);
      return;
    }

  if (g_strcmp0 (code->client_id, client_id) != 0)
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 70002,
                         "The client does not match the client of the authorization code.",
                         correlation);
      return;
    }

  if (g_strcmp0 (code->redirect_uri, redirect_uri) != 0)
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 500112,
                         "The reply address does not match the reply address provided when "
                         "requesting Authorization code.",
                         correlation);
      return;
    }

  if (!verify_pkce (code, verifier))
    {
      /* Entra burns the code on a failed redemption too. */
      g_hash_table_remove (self->auth_codes, code_value);
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 501481,
                         "The Code_Verifier does not match the code_challenge supplied in the "
                         "authorization request.",
                         correlation);
      return;
    }

  scope = g_strdup (code->scope);
  g_hash_table_remove (self->auth_codes, code_value);
  reply_tokens_locked (self, reply, client_id, scope);
}

static void
token_refresh (RdDemoTenant *self,
               GHashTable *form,
               const char *client_id,
               const char *correlation,
               Reply *reply)
{
  const char *refresh = g_hash_table_lookup (form, "refresh_token");
  const char *scope = g_hash_table_lookup (form, "scope");
  g_autofree char *stolen = NULL;
  g_autofree char *original = NULL;

  /* Rotation: the old refresh token is gone once it is used. */
  if (refresh == NULL ||
      !g_hash_table_steal_extended (self->refresh_tokens, refresh, (gpointer *) &stolen,
                                    (gpointer *) &original))
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_grant", 9002313,
                         "Invalid request. Request is malformed or invalid. The refresh token "
                         "is not valid: it has expired, was revoked, or was already redeemed.",
                         correlation);
      return;
    }

  /* A refresh keeps offline_access, so a new refresh token comes back. */
  if (scope == NULL || *scope == '\0')
    scope = original;
  if (!scope_has (scope, "offline_access"))
    {
      g_autofree char *with_offline = g_strconcat (scope, " offline_access", NULL);

      reply_tokens_locked (self, reply, client_id, with_offline);
      return;
    }
  reply_tokens_locked (self, reply, client_id, scope);
}

static void
handle_token (RdDemoTenant *self, GHashTable *form, const char *correlation, Reply *reply)
{
  const char *grant_type = g_hash_table_lookup (form, "grant_type");
  const char *client_id = g_hash_table_lookup (form, "client_id");

  if (client_id == NULL || *client_id == '\0')
    {
      reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'client_id'.",
                         correlation);
      return;
    }

  if (g_hash_table_contains (form, "client_secret"))
    {
      reply_token_error (reply, SOUP_STATUS_UNAUTHORIZED, "invalid_client", 700025,
                         "Client is public so neither 'client_assertion' nor 'client_secret' "
                         "should be presented.",
                         correlation);
      return;
    }

  if (g_strcmp0 (grant_type, "urn:ietf:params:oauth:grant-type:device_code") == 0 ||
      g_strcmp0 (grant_type, "device_code") == 0)
    token_device_code (self, form, client_id, correlation, reply);
  else if (g_strcmp0 (grant_type, "authorization_code") == 0)
    token_authorization_code (self, form, client_id, correlation, reply);
  else if (g_strcmp0 (grant_type, "refresh_token") == 0)
    token_refresh (self, form, client_id, correlation, reply);
  else
    reply_token_error (reply, SOUP_STATUS_BAD_REQUEST, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type.", correlation);
}

static gboolean
redirect_uri_allowed (const char *redirect_uri)
{
  g_autoptr (GUri) uri = NULL;
  const char *host;

  if (redirect_uri == NULL)
    return FALSE;
  uri = g_uri_parse (redirect_uri, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "http") != 0)
    return FALSE;

  /* The registration is http://localhost; the port is ignored (RFC 8252),
   * and 127.0.0.1 is what Microsoft recommends. [::1] is not supported. */
  host = g_uri_get_host (uri);
  return g_strcmp0 (host, "localhost") == 0 || g_strcmp0 (host, "127.0.0.1") == 0;
}

static char *
redirect_with (const char *redirect_uri, ...)
{
  g_autoptr (GUri) uri = g_uri_parse (redirect_uri, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr (GString) query = g_string_new (NULL);
  const char *path = g_uri_get_path (uri);
  va_list args;
  const char *name;

  va_start (args, redirect_uri);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);
      g_autofree char *escaped = NULL;

      if (value == NULL)
        continue;
      escaped = g_uri_escape_string (value, NULL, FALSE);
      if (query->len > 0)
        g_string_append_c (query, '&');
      g_string_append_printf (query, "%s=%s", name, escaped);
    }
  va_end (args);

  /* A redirect URI without a path comes back with a trailing "/". */
  {
    g_autoptr (GUri) target = g_uri_build (
      G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri), g_uri_get_port (uri),
      (path == NULL || *path == '\0') ? "/" : path, query->str, NULL);

    return g_uri_to_string (target);
  }
}

static void
handle_authorize (RdDemoTenant *self,
                  GHashTable *query,
                  const char *correlation,
                  Reply *reply,
                  char **location)
{
  const char *client_id = g_hash_table_lookup (query, "client_id");
  const char *redirect_uri = g_hash_table_lookup (query, "redirect_uri");
  const char *response_type = g_hash_table_lookup (query, "response_type");
  const char *state = g_hash_table_lookup (query, "state");
  const char *challenge = g_hash_table_lookup (query, "code_challenge");
  const char *method = g_hash_table_lookup (query, "code_challenge_method");
  g_autofree char *code_value = NULL;
  AuthCode *code;

  /* Errors that cannot go back to the app are shown to the user. */
  if (client_id == NULL || !redirect_uri_allowed (redirect_uri))
    {
      g_autofree char *page = g_strdup_printf (
        "<!DOCTYPE html><html><body><h1>Sign in</h1><p>AADSTS50011: The redirect URI '%s' "
        "specified in the request does not match the redirect URIs configured for the "
        "application '%s'.</p></body></html>",
        redirect_uri != NULL ? redirect_uri : "", client_id != NULL ? client_id : "");

      reply_set_json (reply, SOUP_STATUS_BAD_REQUEST, "text/html; charset=utf-8",
                      g_string_new (page));
      return;
    }

  if (g_strcmp0 (response_type, "code") != 0)
    {
      *location = redirect_with (redirect_uri, "error", "unsupported_response_type",
                                 "error_description",
                                 "AADSTS700054: response_type 'id_token' is not enabled for the "
                                 "application.",
                                 "state", state, NULL);
      return;
    }

  if (challenge != NULL && method != NULL && g_strcmp0 (method, "S256") != 0 &&
      g_strcmp0 (method, "plain") != 0)
    {
      *location = redirect_with (redirect_uri, "error", "invalid_request", "error_description",
                                 "AADSTS501491: Invalid size of Code_Challenge parameter.", "state",
                                 state, NULL);
      return;
    }

  if (self->authorize_denied)
    {
      *location = redirect_with (redirect_uri, "error", "access_denied", "error_description",
                                 "AADSTS65004: User declined to consent to access the app.",
                                 "state", state, NULL);
      return;
    }

  code_value = random_base64url (120);
  code_value[0] = '1';
  code_value[1] = '.';
  code = g_new0 (AuthCode, 1);
  code->client_id = g_strdup (client_id);
  code->redirect_uri = g_strdup (redirect_uri);
  code->scope = g_strdup (g_hash_table_lookup (query, "scope"));
  code->challenge = g_strdup (challenge);
  code->challenge_method = g_strdup (method != NULL ? method : "plain");
  code->expires = g_get_monotonic_time () + AUTH_CODE_LIFETIME;
  g_hash_table_replace (self->auth_codes, g_strdup (code_value), code);

  *location = redirect_with (redirect_uri, "code", code_value, "state", state, "session_state",
                             self->data->tenant_id, NULL);
}

/* Data */

static void
data_free (Data *data)
{
  int i;

  for (i = 0; i < N_TABLES; i++)
    g_clear_pointer (&data->tables[i], g_ptr_array_unref);
  g_clear_pointer (&data->device_index, g_hash_table_unref);
  g_clear_pointer (&data->chunk, g_string_chunk_free);
  g_free (data->tenant_id);
  g_free (data->tenant_domain);
  g_free (data->user_id);
  g_free (data->user_name);
  g_free (data->user_upn);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Data, data_free)

static Data *
data_new (gsize chunk_size)
{
  Data *data = g_new0 (Data, 1);
  int i;

  data->chunk = g_string_chunk_new (chunk_size);
  for (i = 0; i < N_TABLES; i++)
    data->tables[i] = g_ptr_array_new_with_free_func (g_free);
  data->device_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return data;
}

static char **
data_add_row (Data *data, TableId table)
{
  char **row = g_new0 (char *, table_info[table].n_fields);

  g_ptr_array_add (data->tables[table], row);
  return row;
}

static void
data_index_devices (Data *data)
{
  GPtrArray *rows = data->tables[TABLE_DEVICES];
  guint i;

  g_hash_table_remove_all (data->device_index);
  for (i = 0; i < rows->len; i++)
    {
      char **row = g_ptr_array_index (rows, i);
      char *id = json_text_to_string (row[DEVICE_ID]);

      if (id != NULL)
        g_hash_table_replace (data->device_index, id, GUINT_TO_POINTER (i + 1));
    }
}

static int
find_field (TableId table, const char *name)
{
  guint i;

  for (i = 0; i < table_info[table].n_fields; i++)
    if (g_str_equal (table_info[table].fields[i].name, name))
      return (int) i;
  return -1;
}

static void
shift_date_times (JsonNode *node, GTimeSpan delta)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint i;

      for (i = 0; i < json_array_get_length (array); i++)
        shift_date_times (json_array_get_element (array, i), delta);
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        {
          if (g_str_has_suffix (name, "DateTime") &&
              json_node_get_value_type (member) == G_TYPE_STRING)
            {
              g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
              g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (
                json_node_get_string (member), utc);
              g_autoptr (GDateTime) shifted = NULL;
              g_autofree char *text = NULL;

              /* Graph writes "0001-01-01T00:00:00Z" for "never": keep it. */
              if (dt == NULL || g_date_time_get_year (dt) < 1900)
                continue;
              shifted = g_date_time_add (dt, delta);
              text = g_date_time_format (shifted, "%Y-%m-%dT%H:%M:%SZ");
              json_node_set_string (member, text);
            }
          else
            shift_date_times (member, delta);
        }
    }
}

static char *
dup_member (JsonObject *object, const char *name, const char *fallback)
{
  const char *value = NULL;

  if (object != NULL)
    value = json_object_get_string_member_with_default (object, name, NULL);
  return g_strdup (value != NULL ? value : fallback);
}

static Data *
data_new_from_bytes (GBytes *bytes, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (Data) data = NULL;
  g_autoptr (GString) scratch = g_string_new (NULL);
  JsonObject *root;
  JsonObject *tenant = NULL;
  JsonObject *user = NULL;
  GTimeSpan delta = 0;
  gsize len;
  const char *text = g_bytes_get_data (bytes, &len);
  int t;

  if (!json_parser_load_from_data (parser, text, (gssize) len, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The demo tenant data is not a JSON object");
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  data = data_new (64 * 1024);
  if (json_object_has_member (root, "tenant") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "tenant")))
    tenant = json_object_get_object_member (root, "tenant");
  if (tenant != NULL && json_object_has_member (tenant, "signedInUser") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (tenant, "signedInUser")))
    user = json_object_get_object_member (tenant, "signedInUser");
  data->tenant_id = dup_member (tenant, "id", "72f988bf-0000-4000-8000-00000000c0de");
  data->tenant_domain = dup_member (tenant, "domain", "contoso.example");
  data->user_id = dup_member (user, "id", "0d2b5d2e-5f43-4c3a-9a55-6b1d0a2b7c11");
  data->user_name = dup_member (user, "displayName", "Demo Admin");
  data->user_upn = dup_member (user, "userPrincipalName", "admin@contoso.example");

  /* Dates in the file are relative to "asOf": they move with the clock, so
   * that a device "synced an hour ago" stays so, and a stale one stale. */
  if (tenant != NULL && json_object_has_member (tenant, "asOf"))
    {
      g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
      g_autoptr (GDateTime) as_of = g_date_time_new_from_iso8601 (
        json_object_get_string_member (tenant, "asOf"), utc);
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

      if (as_of == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "The demo tenant's \"asOf\" is not an ISO 8601 date");
          return NULL;
        }
      delta = g_date_time_difference (now, as_of);
    }

  for (t = 0; t < N_TABLES; t++)
    {
      JsonArray *array;
      guint i;

      if (!json_object_has_member (root, table_info[t].member))
        continue;
      if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, table_info[t].member)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "The demo tenant's \"%s\" is not an array", table_info[t].member);
          return NULL;
        }
      array = json_object_get_array_member (root, table_info[t].member);
      for (i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          JsonObjectIter iter;
          const char *name;
          JsonNode *member;
          char **row;

          if (!JSON_NODE_HOLDS_OBJECT (element) ||
              !json_object_has_member (json_node_get_object (element), "id"))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s[%u] is not an object with an \"id\"", table_info[t].member, i);
              return NULL;
            }
          if (delta != 0)
            shift_date_times (element, delta);

          row = data_add_row (data, t);
          json_object_iter_init (&iter, json_node_get_object (element));
          while (json_object_iter_next (&iter, &name, &member))
            {
              int field = find_field (t, name);

              if (field < 0)
                {
                  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "%s[%u]: \"%s\" is not a property of %s", table_info[t].member, i,
                               name, table_info[t].entity);
                  return NULL;
                }
              if (JSON_NODE_HOLDS_NULL (member))
                continue;
              g_string_truncate (scratch, 0);
              append_json_node (scratch, member);
              row[field] = g_string_chunk_insert_const (data->chunk, scratch->str);
            }
        }
    }

  data_index_devices (data);
  return g_steal_pointer (&data);
}

/* Generator */

static const char *const first_names[] = {
  "Aino",  "Bruno",  "Chiara", "Dmitri",    "Elif",  "Farah",   "Gustav", "Hana",    "Ibrahim",
  "Jonas", "Kaito",  "Lena",   "Mateo",     "Nadia", "Olivier", "Priya",  "Quentin", "Rosa",
  "Sven",  "Tomasz", "Uma",    "Valentina", "Wei",   "Ximena",  "Yusuf",  "Zofia",
};

static const char *const last_names[] = {
  "Andersen", "Bianchi", "Costa",  "Dubois",     "Eriksson", "Fischer", "García",
  "Horvat",   "Ivanova", "Jensen", "Kowalski",   "Laine",    "Moreau",  "Nakamura",
  "Okafor",   "Petrov",  "Quinn",  "Rossi",      "Schmidt",  "Tanaka",  "Ueda",
  "Virtanen", "Weber",   "Yilmaz", "Zimmermann",
};

static const char *const departments[] = {
  "FIN", "HR", "ENG", "OPS", "SLS", "MKT", "LEG", "IT", "LOG", "RND",
};

typedef struct
{
  const char *manufacturer;
  const char *model;
  const char *serial_prefix;
  int serial_digits;
} Hardware;

static const Hardware hardware[] = {
  { "Dell Inc.", "Latitude 5440", "", 7 },
  { "Dell Inc.", "Latitude 7430", "", 7 },
  { "Dell Inc.", "OptiPlex 7010", "", 7 },
  { "HP", "HP EliteBook 840 G9 Notebook PC", "5CG", 7 },
  { "HP", "HP ProBook 450 G10 Notebook PC", "5CD", 7 },
  { "HP", "HP EliteDesk 800 G6 Desktop Mini PC", "8CC", 7 },
  { "LENOVO", "20XW0055UK", "PF", 6 },
  { "LENOVO", "21CB007GGE", "PW", 6 },
  { "Microsoft Corporation", "Surface Laptop 5", "0", 11 },
  { "Microsoft Corporation", "Surface Pro 9", "0", 11 },
};

static const char *const windows_builds[] = {
  "10.0.22631.4317", "10.0.22631.4169", "10.0.22621.3880", "10.0.19045.4894",
  "10.0.19045.5011", "10.0.19044.3086", "10.0.17763.6293", "10.0.16299.2166",
};

static char *
random_guid (GRand *rand)
{
  static const char hex[] = "0123456789abcdef";
  char *guid = g_malloc (37);
  guint32 words[4];
  int i;
  int n = 0;

  for (i = 0; i < 4; i++)
    words[i] = g_rand_int (rand);
  for (i = 0; i < 32; i++)
    {
      guint nibble = (words[i / 8] >> ((i % 8) * 4)) & 0xf;

      if (i == 8 || i == 12 || i == 16 || i == 20)
        guid[n++] = '-';
      if (i == 12)
        nibble = 4;
      else if (i == 16)
        nibble = 8 | (nibble & 3);
      guid[n++] = hex[nibble];
    }
  guid[n] = '\0';
  return guid;
}

static void
put_string (Data *data, GString *scratch, char **row, int field, const char *value, gboolean shared)
{
  if (value == NULL)
    return;
  g_string_truncate (scratch, 0);
  append_json_string (scratch, value);
  row[field] = shared ? g_string_chunk_insert_const (data->chunk, scratch->str)
                      : g_string_chunk_insert (data->chunk, scratch->str);
}

static void
put_raw (Data *data, char **row, int field, const char *json_text)
{
  row[field] = g_string_chunk_insert_const (data->chunk, json_text);
}

static char *
date_ago (gint64 now, gint64 seconds)
{
  return format_date_time (now - seconds * G_USEC_PER_SEC, FALSE);
}

static Data *
data_generate (guint n_devices, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (GString) scratch = g_string_new (NULL);
  Data *data = data_new (4 * 1024 * 1024);
  gint64 now = g_get_real_time ();
  guint i;

  data->tenant_id = g_strdup ("72f988bf-0000-4000-8000-00000000c0de");
  data->tenant_domain = g_strdup ("fabrikam.example");
  data->user_id = g_strdup ("0d2b5d2e-5f43-4c3a-9a55-6b1d0a2b7c11");
  data->user_name = g_strdup ("Demo Admin");
  data->user_upn = g_strdup ("admin@fabrikam.example");

  for (i = 0; i < n_devices; i++)
    {
      char **row = data_add_row (data, TABLE_DEVICES);
      g_autofree char *id = random_guid (rand);
      g_autofree char *entra_id = random_guid (rand);
      g_autofree char *user_id = random_guid (rand);
      g_autofree char *name = NULL;
      g_autofree char *serial = NULL;
      g_autofree char *upn = NULL;
      g_autofree char *display = NULL;
      g_autofree char *enrolled = NULL;
      g_autofree char *last_sync = NULL;
      const Hardware *hw = &hardware[g_rand_int_range (rand, 0, G_N_ELEMENTS (hardware))];
      const char *first = first_names[g_rand_int_range (rand, 0, G_N_ELEMENTS (first_names))];
      const char *last = last_names[g_rand_int_range (rand, 0, G_N_ELEMENTS (last_names))];
      int kind = g_rand_int_range (rand, 0, 100);
      gboolean windows = kind < 88;
      gboolean encrypted = windows && g_rand_int_range (rand, 0, 100) < 92;
      gboolean hybrid = windows && g_rand_int_range (rand, 0, 100) < 15;
      gboolean has_user = g_rand_int_range (rand, 0, 100) < 97;
      gint64 sync_age = g_rand_int_range (rand, 0, 100) < 6
                          ? g_rand_int_range (rand, 31, 120) * 86400
                          : g_rand_int_range (rand, 60, 72 * 3600);
      int d;

      serial = g_malloc0 (strlen (hw->serial_prefix) + hw->serial_digits + 1);
      strcpy (serial, hw->serial_prefix);
      for (d = 0; d < hw->serial_digits; d++)
        serial[strlen (hw->serial_prefix) + d] =
          hw->serial_digits == 11
            ? (char) ('0' + g_rand_int_range (rand, 0, 10))
            : "0123456789BCDFGHJKLMNPQRSTVWXYZ"[g_rand_int_range (rand, 0, 31)];
      name = windows
               ? g_strdup_printf ("FAB-%s-%06u", departments[i % G_N_ELEMENTS (departments)], i)
               : g_strdup_printf ("%s's %s", first, kind < 94 ? "iPhone" : "Android");
      upn = g_ascii_strdown (first, -1);
      {
        char *full = g_strdup_printf ("%s.%c%u@fabrikam.example", upn, g_ascii_tolower (last[0]),
                                      i);

        g_free (upn);
        upn = full;
      }
      display = g_strdup_printf ("%s %s", first, last);
      enrolled = date_ago (now, g_rand_int_range (rand, 40, 1400) * 86400);
      last_sync = date_ago (now, sync_age);

      put_string (data, scratch, row, DEVICE_ID, id, FALSE);
      put_string (data, scratch, row, 1, has_user ? user_id : NULL, FALSE);
      put_string (data, scratch, row, DEVICE_NAME, name, FALSE);
      put_raw (data, row, 3, g_rand_int_range (rand, 0, 100) < 4 ? "\"personal\"" : "\"company\"");
      put_string (data, scratch, row, 4, enrolled, FALSE);
      put_string (data, scratch, row, DEVICE_LAST_SYNC, last_sync, FALSE);
      put_raw (data, row, DEVICE_OPERATING_SYSTEM,
               windows     ? "\"Windows\""
               : kind < 94 ? "\"iOS\""
                           : "\"Android\"");
      put_raw (data, row, 7,
               g_rand_int_range (rand, 0, 100) < 90 ? "\"compliant\"" : "\"noncompliant\"");
      put_raw (data, row, 9,
               !windows ? "\"mdm\""
               : hybrid ? "\"configurationManagerClientMdm\""
                        : "\"mdm\"");
      put_string (
        data, scratch, row, 10,
        windows
          ? windows_builds[g_rand_int_range (rand, 0, 100) < 97 ? g_rand_int_range (rand, 0, 6)
                                                                : g_rand_int_range (rand, 6, 8)]
        : kind < 94 ? "17.5.1"
                    : "14",
        TRUE);
      put_raw (data, row, 14, hybrid ? "false" : "true");
      put_raw (data, row, 15, hybrid ? "\"windowsCoManagement\"" : "\"windowsAzureADJoin\"");
      put_string (data, scratch, row, 17, has_user ? upn : NULL, FALSE);
      put_string (data, scratch, row, DEVICE_AZURE_AD_DEVICE_ID, entra_id, FALSE);
      put_raw (data, row, 19, "\"registered\"");
      put_raw (data, row, 27, encrypted ? "true" : "false");
      put_string (data, scratch, row, 28, has_user ? upn : NULL, FALSE);
      put_string (data, scratch, row, 29, windows ? hw->model : "iPhone 15", TRUE);
      put_string (data, scratch, row, 30, windows ? hw->manufacturer : "Apple", TRUE);
      put_string (data, scratch, row, DEVICE_SERIAL, serial, FALSE);
      put_string (data, scratch, row, 36, has_user ? display : NULL, FALSE);
      put_raw (data, row, 42, "256060514304");
      put_raw (data, row, 43, "120259084288");
      put_raw (data, row, DEVICE_ACTION_RESULTS, "[]");
      put_raw (data, row, 54,
               !windows ? "\"unknown\""
               : hybrid ? "\"hybridAzureADJoined\""
                        : "\"azureADJoined\"");
      put_raw (data, row, 55, windows && !hybrid ? "true" : "false");
      put_raw (data, row, DEVICE_MANAGEMENT_STATE, "\"managed\"");

      if (encrypted)
        {
          char **key = data_add_row (data, TABLE_KEYS);
          g_autofree char *key_id = random_guid (rand);

          put_string (data, scratch, key, KEY_ID, key_id, FALSE);
          put_string (data, scratch, key, 1, enrolled, FALSE);
          put_raw (data, key, 2, "1");
          put_string (data, scratch, key, KEY_DEVICE_ID, entra_id, FALSE);
        }

      if (windows && g_rand_int_range (rand, 0, 100) < 90)
        {
          char **ap = data_add_row (data, TABLE_AUTOPILOT);
          g_autofree char *ap_id = random_guid (rand);

          put_string (data, scratch, ap, 0, ap_id, FALSE);
          put_raw (data, ap, 1, "\"Fabrikam-Standard\"");
          put_string (data, scratch, ap, AUTOPILOT_SERIAL, serial, FALSE);
          put_string (data, scratch, ap, 5, hw->manufacturer, TRUE);
          put_string (data, scratch, ap, 6, hw->model, TRUE);
          put_raw (data, ap, 7, "\"enrolled\"");
          put_string (data, scratch, ap, 14, entra_id, FALSE);
          put_string (data, scratch, ap, 15, id, FALSE);
          put_raw (data, ap, 18, "\"assignedInSync\"");
        }

      if (windows)
        {
          char **es = data_add_row (data, TABLE_ENCRYPTION);
          gboolean winre_broken = g_rand_int_range (rand, 0, 100) < 3;

          put_string (data, scratch, es, 0, id, FALSE);
          put_string (data, scratch, es, 1, has_user ? upn : NULL, FALSE);
          put_raw (data, es, 2, "\"desktop\"");
          put_raw (data, es, 4, g_rand_int_range (rand, 0, 100) < 2 ? "\"1.2\"" : "\"2.0\"");
          put_string (data, scratch, es, 5, name, FALSE);
          put_raw (data, es, 6, "\"ready\"");
          put_raw (data, es, 7, encrypted ? "\"encrypted\"" : "\"notEncrypted\"");
          put_raw (data, es, 8, encrypted ? "\"compliant\"" : "\"nonCompliant\"");
          put_raw (data, es, 9,
                   winre_broken ? "\"windowsRecoveryEnvironmentNotConfigured\""
                   : encrypted  ? "\"success\""
                                : "\"osVolumeUnprotected\"");
        }
    }

  data_index_devices (data);
  return data;
}

/* Graph answers */

static void
reply_graph_error (RdDemoTenant *self,
                   Request *req,
                   Reply *reply,
                   guint status,
                   const char *code,
                   const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *date = format_date_time (g_get_real_time (), FALSE);

  /* Graph writes the date without a zone designator here. */
  date[strlen (date) - 1] = '\0';

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "innerError");
  json_builder_begin_object (builder);
  if (status == STATUS_TOO_MANY_REQUESTS)
    {
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, "429");
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, "Please retry after");
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, "429");
    }
  json_builder_set_member_name (builder, "date");
  json_builder_add_string_value (builder, date);
  json_builder_set_member_name (builder, "request-id");
  json_builder_add_string_value (builder, req->request_id);
  json_builder_set_member_name (builder, "client-request-id");
  json_builder_add_string_value (builder, req->client_request_id != NULL ? req->client_request_id
                                                                         : req->request_id);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  reply_set_builder (reply, status, builder);
}

/* Intune's services put a JSON document inside "message" (reference §9). */
static void
reply_intune_error (RdDemoTenant *self,
                    Request *req,
                    Reply *reply,
                    guint status,
                    const char *code,
                    const char *text)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *message = NULL;
  g_autofree char *full = NULL;

  full = g_strdup_printf (
    "%s - Operation ID (for customer support): "
    "00000000-0000-0000-0000-000000000000 - Activity ID: %s - Url: "
    "https://fef.demo01.manage.microsoft.example/DeviceFE/StatelessDeviceFEService"
    "%s?api-version=2024-01-01",
    text, req->request_id, req->path);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "_version");
  json_builder_add_int_value (builder, 3);
  json_builder_set_member_name (builder, "Message");
  json_builder_add_string_value (builder, full);
  json_builder_set_member_name (builder, "CustomApiErrorPhrase");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "RetryAfter");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "ErrorSourceService");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "HttpHeaders");
  json_builder_add_string_value (builder, "{}");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  message = json_to_string (root, FALSE);

  reply_graph_error (self, req, reply, status, code, message);
}

static void
reply_forbidden (RdDemoTenant *self, Request *req, Reply *reply, const char *permissions)
{
  g_autofree char *message = g_strdup_printf (
    "Application is not authorized to perform this operation. Application must have one of the "
    "following scopes: %s - Operation ID (for customer support): "
    "00000000-0000-0000-0000-000000000000 - Activity ID: %s - Url: %s/%s%s",
    permissions, req->request_id, "https://graph.microsoft.com", req->version, req->path);

  reply_graph_error (self, req, reply, SOUP_STATUS_FORBIDDEN, "Forbidden", message);
}

static gboolean
check_token_locked (RdDemoTenant *self, Request *req, Reply *reply)
{
  const char *auth = req->authorization;
  const char *token;
  gint64 *expires;

  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 || auth[7] == '\0')
    {
      reply_graph_error (self, req, reply, SOUP_STATUS_UNAUTHORIZED, "InvalidAuthenticationToken",
                         "Access token is empty.");
    }
  else
    {
      token = auth + 7;
      expires = g_hash_table_lookup (self->access_tokens, token);
      if (expires == NULL)
        {
          if (strchr (token, '.') == NULL)
            reply_graph_error (self, req, reply, SOUP_STATUS_UNAUTHORIZED,
                               "InvalidAuthenticationToken",
                               "IDX14100: JWT is not well formed, there are no dots (.).");
          else
            reply_graph_error (self, req, reply, SOUP_STATUS_UNAUTHORIZED,
                               "InvalidAuthenticationToken", "Access token validation failure.");
        }
      else if (g_get_real_time () >= *expires)
        reply_graph_error (self, req, reply, SOUP_STATUS_UNAUTHORIZED, "InvalidAuthenticationToken",
                           "Lifetime validation failed, the token is expired.");
      else
        return TRUE;
    }

  reply_add_header (reply, "WWW-Authenticate",
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/"
                    "common/oauth2/authorize\", client_id=\"" GRAPH_APP_ID "\"");
  return FALSE;
}

/* $select */

static GArray *
parse_select (RdDemoTenant *self, Request *req, Reply *reply, TableId table, gboolean single)
{
  const char *select = g_hash_table_lookup (req->query, "$select");
  const TableInfo *info = &table_info[table];
  gboolean beta = g_str_equal (req->version, "beta");
  GArray *fields = g_array_new (FALSE, FALSE, sizeof (int));
  g_auto (GStrv) names = NULL;
  int i;

  if (select == NULL || *g_strstrip ((char *) select) == '\0')
    {
      for (i = 0; i < (int) info->n_fields; i++)
        {
          if ((info->fields[i].flags & FIELD_BETA) && !beta)
            continue;
          if (info->fields[i].flags & FIELD_HIDDEN)
            continue;
          g_array_append_val (fields, i);
        }
      return fields;
    }

  names = g_strsplit (select, ",", -1);
  for (i = 0; names[i] != NULL; i++)
    {
      char *name = g_strstrip (names[i]);
      int field = find_field (table, name);

      if (field < 0 || ((info->fields[field].flags & FIELD_BETA) && !beta))
        {
          g_autofree char *message = g_strdup_printf (
            "Could not find a property named '%s' on type '%s'.", name, info->entity);

          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest", message);
          g_array_unref (fields);
          return NULL;
        }
      /* A list never returns a hidden property (the BitLocker key). */
      if ((info->fields[field].flags & FIELD_HIDDEN) && !single)
        continue;
      g_array_append_val (fields, field);
    }
  return fields;
}

/* $filter */

typedef enum
{
  OP_EQ,
  OP_CONTAINS,
} FilterOp;

typedef struct
{
  int field;
  FilterOp op;
  char *literal; /* OP_EQ: the value as JSON text; OP_CONTAINS: the string */
} Clause;

static void
clause_free (gpointer data)
{
  Clause *clause = data;

  g_free (clause->literal);
  g_free (clause);
}

static void
skip_spaces (const char **p)
{
  while (**p == ' ')
    (*p)++;
}

static char *
read_identifier (const char **p)
{
  const char *start = *p;

  while (g_ascii_isalnum (**p) || **p == '_')
    (*p)++;
  return *p > start ? g_strndup (start, *p - start) : NULL;
}

/* A literal: 'text' (with '' for a quote), true, false, null, or a number;
 * returned as JSON text. */
static char *
read_literal (const char **p, char **raw)
{
  g_autoptr (GString) value = g_string_new (NULL);
  g_autoptr (GString) json = g_string_new (NULL);

  if (**p == '\'')
    {
      (*p)++;
      for (;;)
        {
          if (**p == '\0')
            return NULL;
          if (**p == '\'')
            {
              if ((*p)[1] != '\'')
                break;
              (*p)++;
            }
          g_string_append_c (value, **p);
          (*p)++;
        }
      (*p)++;
      append_json_string (json, value->str);
      if (raw != NULL)
        *raw = g_strdup (value->str);
      return g_string_free (g_steal_pointer (&json), FALSE);
    }

  while (g_ascii_isalnum (**p) || **p == '-' || **p == '.')
    {
      g_string_append_c (value, **p);
      (*p)++;
    }
  if (value->len == 0)
    return NULL;
  if (raw != NULL)
    *raw = NULL;
  return g_string_free (g_steal_pointer (&value), FALSE);
}

static GPtrArray *
parse_filter (const char *text, TableId table, gboolean beta, char **error_message)
{
  g_autoptr (GPtrArray) clauses = g_ptr_array_new_with_free_func (clause_free);
  const TableInfo *info = &table_info[table];
  const char *p = text;

  for (;;)
    {
      g_autofree char *word = NULL;
      g_autofree char *property = NULL;
      g_autofree char *raw = NULL;
      Clause *clause;

      skip_spaces (&p);
      word = read_identifier (&p);
      if (word == NULL)
        goto invalid;
      clause = g_new0 (Clause, 1);
      clause->field = -1;
      g_ptr_array_add (clauses, clause);

      skip_spaces (&p);
      if (*p == '(' && (g_str_equal (word, "contains") || g_str_equal (word, "startswith")))
        {
          p++;
          skip_spaces (&p);
          property = read_identifier (&p);
          skip_spaces (&p);
          if (property == NULL || *p != ',')
            goto invalid;
          p++;
          skip_spaces (&p);
          g_free (read_literal (&p, &raw));
          skip_spaces (&p);
          if (raw == NULL || *p != ')')
            goto invalid;
          p++;
          /* Intune's startswith() behaves like contains() (reference §3). */
          clause->op = OP_CONTAINS;
          clause->literal = g_steal_pointer (&raw);
        }
      else
        {
          g_autofree char *op = read_identifier (&p);

          property = g_steal_pointer (&word);
          if (op == NULL)
            goto invalid;
          if (!g_str_equal (op, "eq"))
            {
              *error_message = g_strdup_printf ("The operator '%s' is not supported.", op);
              return NULL;
            }
          skip_spaces (&p);
          clause->op = OP_EQ;
          clause->literal = read_literal (&p, NULL);
          if (clause->literal == NULL)
            goto invalid;
        }

      clause->field = find_field (table, property);
      if (clause->field < 0 || ((info->fields[clause->field].flags & FIELD_BETA) && !beta))
        {
          *error_message = g_strdup_printf ("Could not find a property named '%s' on type '%s'.",
                                            property, info->entity);
          return NULL;
        }

      skip_spaces (&p);
      if (*p == '\0')
        break;
      g_clear_pointer (&word, g_free);
      word = read_identifier (&p);
      if (g_strcmp0 (word, "and") != 0)
        goto invalid;
    }

  return g_steal_pointer (&clauses);

invalid:
  *error_message = g_strdup_printf ("Invalid filter clause: the query specified in the URI is not "
                                    "valid near position %d of '%s'.",
                                    (int) (p - text), text);
  return NULL;
}

static gboolean
contains_ascii_casefold (const char *haystack, gsize haystack_len, const char *needle)
{
  gsize n = strlen (needle);
  gsize i;

  if (n > haystack_len)
    return FALSE;
  for (i = 0; i + n <= haystack_len; i++)
    if (g_ascii_strncasecmp (haystack + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
row_matches (char **row, GPtrArray *clauses)
{
  guint i;

  if (clauses == NULL)
    return TRUE;

  for (i = 0; i < clauses->len; i++)
    {
      const Clause *clause = g_ptr_array_index (clauses, i);
      const char *value = row[clause->field];

      if (clause->op == OP_EQ)
        {
          if (g_str_equal (clause->literal, "null"))
            {
              if (value != NULL)
                return FALSE;
            }
          else if (value == NULL || g_ascii_strcasecmp (value, clause->literal) != 0)
            return FALSE;
        }
      else
        {
          gsize len;

          if (value == NULL || value[0] != '"')
            return FALSE;
          len = strlen (value);
          if (!contains_ascii_casefold (value + 1, len - 2, clause->literal))
            return FALSE;
        }
    }
  return TRUE;
}

/* Paging */

static char *
encode_skiptoken (TableId table, guint position, guint page)
{
  g_autofree char *plain = g_strdup_printf ("RDT1:%d:%u:%u:%08x", table, position, page,
                                            (position * 2654435761u) ^ (page * 40503u) ^ table);

  return base64url ((const guchar *) plain, strlen (plain));
}

static gboolean
decode_skiptoken (const char *token, TableId table, guint *position, guint *page)
{
  g_autofree char *padded = NULL;
  g_autofree guchar *plain = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  int t;
  guint check;

  padded = g_strnfill (strlen (token) + (4 - strlen (token) % 4) % 4, '=');
  memcpy (padded, token, strlen (token));
  g_strdelimit (padded, "-", '+');
  g_strdelimit (padded, "_", '/');
  plain = g_base64_decode (padded, &len);
  text = g_strndup ((const char *) plain, len);
  if (sscanf (text, "RDT1:%d:%u:%u:%08x", &t, position, page, &check) != 4)
    return FALSE;
  return t == (int) table &&
         check == ((*position * 2654435761u) ^ (*page * 40503u) ^ (guint) table);
}

static void
append_escaped_param (GString *out, const char *name, const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, "$,'()", FALSE);

  g_string_append_printf (out, "%s%s=%s", out->len > 0 ? "&" : "", name, escaped);
}

static void
append_row (GString *out, const Field *fields, char **row, GArray *select)
{
  guint i;

  g_string_append_c (out, '{');
  for (i = 0; i < select->len; i++)
    {
      int field = g_array_index (select, int, i);
      const char *value = row[field];

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '"');
      g_string_append (out, fields[field].name);
      g_string_append (out, "\":");
      g_string_append (out, value != NULL ? value : "null");
    }
  g_string_append_c (out, '}');
}

static void
append_context (RdDemoTenant *self,
                GString *out,
                Request *req,
                TableId table,
                GArray *select,
                const char *suffix)
{
  g_autoptr (GString) context = g_string_new (NULL);
  const char *select_text = g_hash_table_lookup (req->query, "$select");
  guint i;

  g_string_append_printf (context, "%s/%s/$metadata#%s", self->base_url, req->version,
                          table_info[table].context);
  if (select_text != NULL && select != NULL)
    {
      g_string_append_c (context, '(');
      for (i = 0; i < select->len; i++)
        g_string_append_printf (context, "%s%s", i > 0 ? "," : "",
                                table_info[table].fields[g_array_index (select, int, i)].name);
      g_string_append_c (context, ')');
    }
  if (suffix != NULL)
    g_string_append (context, suffix);
  g_string_append (out, "\"@odata.context\":");
  append_json_string (out, context->str);
}

static void
serve_list (RdDemoTenant *self,
            Data *data,
            Request *req,
            Reply *reply,
            TableId table,
            gboolean top_allowed,
            gboolean eq_allowed,
            gboolean contains_allowed,
            gboolean filter_allowed)
{
  GPtrArray *rows = data->tables[table];
  const char *filter = g_hash_table_lookup (req->query, "$filter");
  const char *top = g_hash_table_lookup (req->query, "$top");
  const char *skiptoken = g_hash_table_lookup (req->query, "$skiptoken");
  g_autoptr (GArray) select = NULL;
  g_autoptr (GPtrArray) clauses = NULL;
  GString *out;
  guint page_size = self->page_size > 0 ? self->page_size : DEFAULT_PAGE_SIZE;
  guint position = 0;
  guint page = 1;
  guint n = 0;

  if (top != NULL)
    {
      guint64 value = 0;

      if (!top_allowed)
        {
          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                             "The query specified in the URI is not valid. Query option 'Top' is "
                             "not allowed. To allow it, set the 'AllowedQueryOptions' property on "
                             "EnableQueryAttribute or QueryValidationSettings.");
          return;
        }
      if (!g_ascii_string_to_unsigned (top, 10, 1, G_MAXINT, &value, NULL))
        {
          g_autofree char *message = g_strdup_printf (
            "Invalid value '%s' for $top query option found. The $top query "
            "option requires a non-negative integer value.",
            top);

          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest", message);
          return;
        }
      page_size = MIN ((guint) value, DEFAULT_PAGE_SIZE);
    }

  select = parse_select (self, req, reply, table, FALSE);
  if (select == NULL)
    return;

  if (filter != NULL && *filter != '\0')
    {
      g_autofree char *error_message = NULL;
      guint i;

      if (!filter_allowed)
        {
          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                             "The query specified in the URI is not valid. Query option 'Filter' "
                             "is not allowed.");
          return;
        }
      clauses = parse_filter (filter, table, g_str_equal (req->version, "beta"), &error_message);
      for (i = 0; clauses != NULL && i < clauses->len && error_message == NULL; i++)
        {
          const Clause *clause = g_ptr_array_index (clauses, i);

          if ((clause->op == OP_EQ && !eq_allowed) ||
              (clause->op == OP_CONTAINS && !contains_allowed))
            error_message = g_strdup_printf ("Unsupported or invalid query filter clause "
                                             "specified for property '%s' of resource '%s'.",
                                             table_info[table].fields[clause->field].name,
                                             table_info[table].entity);
          if (table == TABLE_KEYS && clause->field != KEY_DEVICE_ID && error_message == NULL)
            error_message = g_strdup_printf ("Unsupported or invalid query filter clause "
                                             "specified for property '%s' of resource "
                                             "'BitlockerRecoveryKey'.",
                                             table_info[table].fields[clause->field].name);
        }
      if (error_message != NULL)
        {
          if (table == TABLE_KEYS)
            reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                               error_message);
          else
            reply_intune_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                                error_message);
          return;
        }
    }

  if (skiptoken != NULL && !decode_skiptoken (skiptoken, table, &position, &page))
    {
      reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                         "The $skiptoken is not valid.");
      return;
    }

  out = g_string_sized_new (256 + (gsize) page_size * 64 * MAX (select->len, 1));
  g_string_append_c (out, '{');
  append_context (self, out, req, table, select, NULL);
  g_string_append (out, ",\"value\":[");
  for (; position < rows->len && n < page_size; position++)
    {
      char **row = g_ptr_array_index (rows, position);

      if (!row_matches (row, clauses))
        continue;
      if (n > 0)
        g_string_append_c (out, ',');
      append_row (out, table_info[table].fields, row, select);
      n++;
    }
  while (position < rows->len && !row_matches (g_ptr_array_index (rows, position), clauses))
    position++;
  g_string_append_c (out, ']');

  if (position < rows->len)
    {
      g_autoptr (GString) params = g_string_new (NULL);
      g_autofree char *token = encode_skiptoken (table, position, page + 1);
      g_autoptr (GString) link = NULL;

      if (g_hash_table_contains (req->query, "$select"))
        append_escaped_param (params, "$select", g_hash_table_lookup (req->query, "$select"));
      if (filter != NULL)
        append_escaped_param (params, "$filter", filter);
      if (top != NULL)
        append_escaped_param (params, "$top", top);
      append_escaped_param (params, "$skiptoken", token);
      link = g_string_new (NULL);
      g_string_append_printf (link, "%s/%s%s?%s", self->base_url, req->version, req->path,
                              params->str);
      g_string_append (out, ",\"@odata.nextLink\":");
      append_json_string (out, link->str);
    }
  g_string_append_c (out, '}');

  /* The malformed-page knob: a page cut short, as a broken proxy would. */
  if (table == TABLE_DEVICES && !req->inner && self->malformed_page == page)
    g_string_truncate (out, out->len / 2);

  reply_set_json (reply, SOUP_STATUS_OK, ODATA_JSON, out);
}

static char **
lookup_device (Data *data, const char *id)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (data->device_index, id));

  return index > 0 ? g_ptr_array_index (data->tables[TABLE_DEVICES], index - 1) : NULL;
}

static void
reply_device_not_found (RdDemoTenant *self, Request *req, Reply *reply)
{
  g_autofree char *text = g_strdup_printf ("Resource not found: no managed device with id '%s'.",
                                           req->route_id);

  reply_intune_error (self, req, reply, SOUP_STATUS_NOT_FOUND, "ResourceNotFound", text);
}

static void
serve_single (RdDemoTenant *self, Data *data, Request *req, Reply *reply, TableId table, char **row)
{
  g_autoptr (GArray) select = parse_select (self, req, reply, table, TRUE);
  GString *out;
  guint i;

  if (select == NULL)
    return;

  out = g_string_new ("{");
  append_context (self, out, req, table, select, "/$entity");
  for (i = 0; i < select->len; i++)
    {
      int field = g_array_index (select, int, i);

      g_string_append_printf (out, ",\"%s\":%s", table_info[table].fields[field].name,
                              row[field] != NULL ? row[field] : "null");
    }
  g_string_append_c (out, '}');
  reply_set_json (reply, SOUP_STATUS_OK, ODATA_JSON, out);
}

/* Device actions */

static void
render_action_results (RdDemoTenant *self, Data *data, const char *device_id)
{
  g_autoptr (GString) out = g_string_new ("[");
  char **row = lookup_device (data, device_id);
  guint i;
  gboolean first = TRUE;

  if (row == NULL)
    return;

  for (i = 0; i < self->actions->len; i++)
    {
      Action *action = g_ptr_array_index (self->actions, i);
      g_autofree char *started = NULL;
      g_autofree char *updated = NULL;

      if (!g_str_equal (action->device_id, device_id))
        continue;
      started = format_date_time (action->started, FALSE);
      updated = format_date_time (
        action->done ? action->started + action->duration : action->started, FALSE);
      g_string_append_printf (out,
                              "%s{\"actionName\":\"%s\",\"actionState\":\"%s\","
                              "\"startDateTime\":\"%s\",\"lastUpdatedDateTime\":\"%s\"}",
                              first ? "" : ",", action->name, action->done ? "done" : "pending",
                              started, updated);
      first = FALSE;
    }
  g_string_append_c (out, ']');
  row[DEVICE_ACTION_RESULTS] = g_string_chunk_insert (data->chunk, out->str);
}

static void
advance_actions_locked (RdDemoTenant *self, Data *data)
{
  gint64 now = g_get_real_time ();
  guint i;

  for (i = 0; i < self->actions->len; i++)
    {
      Action *action = g_ptr_array_index (self->actions, i);
      char **row;

      if (action->done || now < action->started + action->duration)
        continue;

      action->done = TRUE;
      row = lookup_device (data, action->device_id);
      if (row != NULL)
        {
          g_autofree char *synced = format_date_time (now, FALSE);
          g_autoptr (GString) text = g_string_new (NULL);

          /* The device reset itself and checked in again, still enrolled. */
          append_json_string (text, synced);
          row[DEVICE_LAST_SYNC] = g_string_chunk_insert (data->chunk, text->str);
          row[DEVICE_MANAGEMENT_STATE] = g_string_chunk_insert_const (data->chunk, "\"managed\"");
        }
      render_action_results (self, data, action->device_id);
    }
}

static const char *const wipe_parameters[] = {
  "keepEnrollmentData", "keepUserData",    "persistEsimDataPlan",
  "useProtectedWipe",   "macOsUnlockCode", "obliterationBehavior",
};

static gboolean
validate_wipe_body (RdDemoTenant *self, Request *req, Reply *reply)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *text = req->body != NULL ? g_bytes_get_data (req->body, &len) : NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (len == 0)
    return TRUE;

  if (!json_parser_load_from_data (parser, text, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                         "Invalid JSON. A token was not recognized in the JSON content.");
      return FALSE;
    }

  json_object_iter_init (&iter, json_node_get_object (json_parser_get_root (parser)));
  while (json_object_iter_next (&iter, &name, &member))
    {
      gboolean known = FALSE;
      gboolean boolean;
      guint i;

      for (i = 0; i < G_N_ELEMENTS (wipe_parameters); i++)
        known |= g_str_equal (name, wipe_parameters[i]);
      if (g_str_equal (name, "useProtectedWipe") && !g_str_equal (req->version, "beta"))
        known = FALSE;
      if (!known)
        {
          g_autofree char *message = g_strdup_printf (
            "The parameter '%s' in the request payload is not a valid parameter for the "
            "operation 'wipe'.",
            name);

          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest", message);
          return FALSE;
        }

      boolean = !g_str_equal (name, "macOsUnlockCode") &&
                !g_str_equal (name, "obliterationBehavior");
      if (JSON_NODE_HOLDS_NULL (member))
        continue;
      if (!JSON_NODE_HOLDS_VALUE (member) ||
          json_node_get_value_type (member) != (boolean ? G_TYPE_BOOLEAN : G_TYPE_STRING))
        {
          g_autofree char *value = json_to_string (member, FALSE);
          g_autofree char *message = g_strdup_printf (
            "Cannot convert the literal '%s' to the expected type '%s'.", value,
            boolean ? "Edm.Boolean" : "Edm.String");

          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest", message);
          return FALSE;
        }
    }
  return TRUE;
}

static void
serve_wipe (RdDemoTenant *self, Data *data, Request *req, Reply *reply)
{
  char **row = lookup_device (data, req->route_id);
  RdDemoWipeRequest *record;
  gsize len = 0;
  const char *body = req->body != NULL ? g_bytes_get_data (req->body, &len) : NULL;
  ActionFailure *failure = g_hash_table_lookup (self->action_failures, req->route_id);

  if (row == NULL)
    reply_device_not_found (self, req, reply);
  else if (!validate_wipe_body (self, req, reply))
    ;
  else if (failure != NULL)
    reply_graph_error (self, req, reply, failure->status, failure->code, failure->message);
  else if (g_strcmp0 (row[DEVICE_MANAGEMENT_STATE], "\"wipePending\"") == 0)
    {
      /* A second wipe while one is pending is refused as a conflict. */
      reply_intune_error (self, req, reply, SOUP_STATUS_CONFLICT, "Conflict",
                          "A wipe is already pending for this device; another wipe cannot be "
                          "issued until it completes.");
    }
  else
    {
      Action *action = g_new0 (Action, 1);

      action->device_id = g_strdup (req->route_id);
      action->name = g_strdup ("wipe");
      action->started = g_get_real_time ();
      action->duration = self->action_duration;
      g_ptr_array_add (self->actions, action);
      row[DEVICE_MANAGEMENT_STATE] = g_string_chunk_insert_const (data->chunk, "\"wipePending\"");
      render_action_results (self, data, req->route_id);
      reply->status = SOUP_STATUS_NO_CONTENT;
    }

  record = g_new0 (RdDemoWipeRequest, 1);
  record->device_id = g_strdup (req->route_id);
  record->body = g_strndup (body != NULL ? body : "", len);
  record->version = g_strdup (req->version);
  record->status = (int) reply->status;
  g_ptr_array_add (self->wipe_requests, record);
}

static void
serve_sync (RdDemoTenant *self, Data *data, Request *req, Reply *reply)
{
  char **row = lookup_device (data, req->route_id);
  g_autofree char *now = NULL;
  g_autoptr (GString) text = g_string_new (NULL);

  if (row == NULL)
    {
      reply_device_not_found (self, req, reply);
      return;
    }

  now = format_date_time (g_get_real_time (), FALSE);
  append_json_string (text, now);
  row[DEVICE_LAST_SYNC] = g_string_chunk_insert (data->chunk, text->str);
  reply->status = SOUP_STATUS_NO_CONTENT;
}

static void
serve_key (RdDemoTenant *self, Data *data, Request *req, Reply *reply)
{
  GPtrArray *rows = data->tables[TABLE_KEYS];
  g_autoptr (GString) wanted = g_string_new (NULL);
  guint i;

  append_json_string (wanted, req->route_id);
  for (i = 0; i < rows->len; i++)
    {
      char **row = g_ptr_array_index (rows, i);

      if (g_strcmp0 (row[KEY_ID], wanted->str) == 0)
        {
          serve_single (self, data, req, reply, TABLE_KEYS, row);
          return;
        }
    }
  reply_graph_error (self, req, reply, SOUP_STATUS_NOT_FOUND, "Request_ResourceNotFound",
                     "Resource could not be found.");
}

/* Routing */

static void
resolve_route (Request *req)
{
  g_auto (GStrv) parts = g_strsplit (req->path + 1, "/", -1);
  guint n = g_strv_length (parts);

  req->route = ROUTE_UNKNOWN;
  if (n == 1 && g_str_equal (parts[0], "$batch"))
    req->route = ROUTE_BATCH;
  else if (n >= 2 && g_str_equal (parts[0], "deviceManagement"))
    {
      if (g_str_equal (parts[1], "managedDevices"))
        {
          if (n == 2)
            req->route = ROUTE_DEVICES;
          else if (n == 3 && parts[2][0] != '\0')
            req->route = ROUTE_DEVICE;
          else if (n == 4 && g_str_equal (parts[3], "wipe"))
            req->route = ROUTE_WIPE;
          else if (n == 4 && g_str_equal (parts[3], "syncDevice"))
            req->route = ROUTE_SYNC;
          if (n >= 3)
            req->route_id = g_strdup (parts[2]);
        }
      else if (n == 2 && g_str_equal (parts[1], "windowsAutopilotDeviceIdentities"))
        req->route = ROUTE_AUTOPILOT;
      else if (n == 2 && g_str_equal (parts[1], "managedDeviceEncryptionStates"))
        req->route = ROUTE_ENCRYPTION;
    }
  else if (n >= 3 && g_str_equal (parts[0], "informationProtection") &&
           g_str_equal (parts[1], "bitlocker") && g_str_equal (parts[2], "recoveryKeys"))
    {
      if (n == 3)
        req->route = ROUTE_KEYS;
      else if (n == 4)
        {
          req->route = ROUTE_KEY;
          req->route_id = g_strdup (parts[3]);
        }
    }
}

static void
count_graph_request_locked (RdDemoTenant *self, Request *req)
{
  self->total_requests++;
  count_request (self, req->method,
                 req->route != ROUTE_UNKNOWN ? route_patterns[req->route] : req->path);
}

static void
serve_batch (RdDemoTenant *self, Data *data, Request *req, Reply *reply);

static void
graph_dispatch_locked (RdDemoTenant *self, Request *req, Reply *reply)
{
  Data *data = self->data;
  gboolean get = g_str_equal (req->method, "GET");
  gboolean post = g_str_equal (req->method, "POST");
  gboolean beta = g_str_equal (req->version, "beta");

  if (self->throttle_every > 0 && ++self->throttle_count % self->throttle_every == 0)
    {
      g_autofree char *seconds = format_seconds (self->retry_after);

      reply_graph_error (self, req, reply, STATUS_TOO_MANY_REQUESTS, "TooManyRequests",
                         "Please retry again later.");
      reply_add_header (reply, "Retry-After", seconds);
      return;
    }
  if (self->unavailable_every > 0 && ++self->unavailable_count % self->unavailable_every == 0)
    {
      reply_graph_error (self, req, reply, SOUP_STATUS_SERVICE_UNAVAILABLE, "serviceNotAvailable",
                         "The service is temporarily unavailable. Please retry later.");
      return;
    }

  if (!req->inner && !check_token_locked (self, req, reply))
    return;

  advance_actions_locked (self, data);

  switch (req->route)
    {
    case ROUTE_DEVICES:
      if (get)
        serve_list (self, data, req, reply, TABLE_DEVICES, TRUE, TRUE, TRUE, TRUE);
      break;
    case ROUTE_DEVICE:
      if (get)
        {
          char **row = lookup_device (data, req->route_id);

          if (row == NULL)
            reply_device_not_found (self, req, reply);
          else
            serve_single (self, data, req, reply, TABLE_DEVICES, row);
        }
      break;
    case ROUTE_WIPE:
      if (post)
        serve_wipe (self, data, req, reply);
      break;
    case ROUTE_SYNC:
      if (post)
        serve_sync (self, data, req, reply);
      break;
    case ROUTE_KEYS:
    case ROUTE_KEY:
      if (get && (self->forbidden & RD_DEMO_SOURCE_BITLOCKER_KEYS))
        reply_forbidden (self, req, reply, "BitLockerKey.ReadBasic.All, BitLockerKey.Read.All");
      else if (get && req->route == ROUTE_KEYS)
        serve_list (self, data, req, reply, TABLE_KEYS, FALSE, TRUE, FALSE, TRUE);
      else if (get)
        serve_key (self, data, req, reply);
      break;
    case ROUTE_AUTOPILOT:
      if (get && (self->forbidden & RD_DEMO_SOURCE_AUTOPILOT))
        reply_forbidden (self, req, reply,
                         "DeviceManagementServiceConfig.Read.All, "
                         "DeviceManagementServiceConfig.ReadWrite.All");
      else if (get)
        serve_list (self, data, req, reply, TABLE_AUTOPILOT, TRUE, FALSE, TRUE, TRUE);
      break;
    case ROUTE_ENCRYPTION:
      if (!beta)
        {
          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                             "Resource not found for the segment "
                             "'managedDeviceEncryptionStates'.");
          return;
        }
      if (get && (self->forbidden & RD_DEMO_SOURCE_ENCRYPTION_STATES))
        reply_forbidden (self, req, reply,
                         "DeviceManagementConfiguration.Read.All, "
                         "DeviceManagementConfiguration.ReadWrite.All");
      else if (get)
        serve_list (self, data, req, reply, TABLE_ENCRYPTION, TRUE, FALSE, FALSE, FALSE);
      break;
    case ROUTE_BATCH:
      if (req->inner)
        {
          reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest",
                             "A $batch request cannot contain another $batch request.");
          return;
        }
      if (post)
        serve_batch (self, data, req, reply);
      break;
    case ROUTE_UNKNOWN:
    default:
      {
        g_autofree char *message = NULL;
        const char *last = strrchr (req->path, '/');

        message = g_strdup_printf ("Resource not found for the segment '%s'.",
                                   last != NULL ? last + 1 : req->path);
        reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest", message);
        return;
      }
    }

  if (reply->status == 0)
    reply_graph_error (self, req, reply, SOUP_STATUS_METHOD_NOT_ALLOWED, "BadRequest",
                       "The HTTP method is not allowed for this resource.");
}

static void
request_clear (Request *req)
{
  g_free (req->path);
  g_clear_pointer (&req->query, g_hash_table_unref);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req->request_id);
  g_free (req->route_id);
}

/* $batch */

typedef struct
{
  JsonObject *request;
  char *id;
  int status; /* 0 until run; -1 while running */
  GString *json;
} BatchItem;

static void
batch_item_free (gpointer data)
{
  BatchItem *item = data;

  g_free (item->id);
  if (item->json != NULL)
    g_string_free (item->json, TRUE);
  g_free (item);
}

static BatchItem *
find_batch_item (GPtrArray *items, const char *id)
{
  guint i;

  for (i = 0; i < items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (items, i);

      if (g_str_equal (item->id, id))
        return item;
    }
  return NULL;
}

static void
run_batch_item (RdDemoTenant *self, Request *outer, GPtrArray *items, BatchItem *item)
{
  JsonObject *object = item->request;
  const char *url = json_object_get_string_member_with_default (object, "url", "");
  Request req = { 0 };
  Reply reply = { 0 };
  g_autofree char *path = NULL;
  const char *question;
  gboolean failed_dependency = FALSE;
  guint i;

  item->status = -1;
  if (json_object_has_member (object, "dependsOn"))
    {
      JsonArray *depends = json_object_get_array_member (object, "dependsOn");

      for (i = 0; depends != NULL && i < json_array_get_length (depends); i++)
        {
          BatchItem *dependency = find_batch_item (items,
                                                   json_array_get_string_element (depends, i));

          if (dependency->status == 0)
            run_batch_item (self, outer, items, dependency);
          if (dependency->status < 200 || dependency->status >= 400)
            failed_dependency = TRUE;
        }
    }

  req.method = json_object_get_string_member_with_default (object, "method", "GET");
  req.version = outer->version;
  req.authorization = outer->authorization;
  req.inner = TRUE;
  req.request_id = g_uuid_string_random ();
  question = strchr (url, '?');
  path = question != NULL ? g_strndup (url, question - url) : g_strdup (url);
  req.path = g_uri_unescape_string (path, NULL);
  if (req.path == NULL)
    req.path = g_strdup (path);
  if (req.path[0] != '/')
    {
      char *rooted = g_strconcat ("/", req.path, NULL);

      g_free (req.path);
      req.path = rooted;
    }
  req.query = parse_query (question != NULL ? question + 1 : NULL);
  if (json_object_has_member (object, "headers"))
    {
      JsonObject *headers = json_object_get_object_member (object, "headers");
      GList *names = headers != NULL ? json_object_get_members (headers) : NULL;
      GList *l;

      for (l = names; l != NULL; l = l->next)
        if (g_ascii_strcasecmp (l->data, "client-request-id") == 0)
          req.client_request_id = json_object_get_string_member_with_default (headers, l->data,
                                                                              NULL);
      g_list_free (names);
    }
  if (json_object_has_member (object, "body"))
    {
      g_autofree char *text = json_to_string (json_object_get_member (object, "body"), FALSE);

      req.body = g_bytes_new (text, strlen (text));
    }
  resolve_route (&req);
  count_graph_request_locked (self, &req);

  if (failed_dependency)
    {
      g_autofree char *message = g_strdup_printf (
        "Request with id '%s' was not executed because a request it depends on failed.", item->id);

      reply_graph_error (self, &req, &reply, 424, "FailedDependency", message);
    }
  else
    graph_dispatch_locked (self, &req, &reply);

  item->status = (int) reply.status;
  item->json = g_string_new ("{\"id\":");
  append_json_string (item->json, item->id);
  g_string_append_printf (item->json, ",\"status\":%u,\"headers\":{", reply.status);
  if (reply.body != NULL)
    {
      g_string_append (item->json, "\"Content-Type\":");
      append_json_string (item->json, reply.content_type);
    }
  for (i = 0; reply.headers != NULL && i + 1 < reply.headers->len; i += 2)
    {
      if (reply.body != NULL || i > 0)
        g_string_append_c (item->json, ',');
      append_json_string (item->json, g_ptr_array_index (reply.headers, i));
      g_string_append_c (item->json, ':');
      append_json_string (item->json, g_ptr_array_index (reply.headers, i + 1));
    }
  g_string_append_c (item->json, '}');
  if (reply.body != NULL)
    {
      g_string_append (item->json, ",\"body\":");
      g_string_append_len (item->json, reply.body->str, reply.body->len);
    }
  g_string_append_c (item->json, '}');

  reply_clear (&reply);
  request_clear (&req);
}

static gboolean
batch_has_cycle (GPtrArray *items, BatchItem *item, guint depth)
{
  JsonArray *depends;
  guint i;

  if (depth > items->len)
    return TRUE;
  if (!json_object_has_member (item->request, "dependsOn"))
    return FALSE;
  depends = json_object_get_array_member (item->request, "dependsOn");
  for (i = 0; i < json_array_get_length (depends); i++)
    if (batch_has_cycle (items, find_batch_item (items, json_array_get_string_element (depends, i)),
                         depth + 1))
      return TRUE;
  return FALSE;
}

static void
serve_batch (RdDemoTenant *self, Data *data, Request *req, Reply *reply)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (batch_item_free);
  gsize len = 0;
  const char *text = req->body != NULL ? g_bytes_get_data (req->body, &len) : NULL;
  JsonArray *requests = NULL;
  const char *problem = NULL;
  GString *out;
  guint i;

  if (len == 0 || !json_parser_load_from_data (parser, text, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    problem = "Invalid batch payload format.";
  else
    {
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      JsonNode *node = json_object_get_member (root, "requests");

      if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
        problem = "Invalid batch payload format.";
      else
        requests = json_node_get_array (node);
    }

  if (problem == NULL && json_array_get_length (requests) > MAX_BATCH_REQUESTS)
    problem = "The number of batch requests exceeds the limit of 20.";

  for (i = 0; problem == NULL && i < json_array_get_length (requests); i++)
    {
      JsonNode *node = json_array_get_element (requests, i);
      JsonObject *object;
      BatchItem *item;
      JsonNode *id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          problem = "Invalid batch payload format.";
          break;
        }
      object = json_node_get_object (node);
      id = json_object_get_member (object, "id");
      if (id == NULL || json_node_get_value_type (id) != G_TYPE_STRING ||
          json_object_get_string_member_with_default (object, "method", NULL) == NULL ||
          json_object_get_string_member_with_default (object, "url", NULL) == NULL)
        {
          problem = "Each request in a batch needs a string 'id', a 'method' and a 'url'.";
          break;
        }
      if (g_str_has_prefix (json_object_get_string_member (object, "url"), "http"))
        {
          problem = "The url of a request in a batch must be relative.";
          break;
        }
      if (find_batch_item (items, json_node_get_string (id)) != NULL)
        {
          problem = "Each request in a batch needs a unique 'id'.";
          break;
        }
      if (json_object_has_member (object, "body"))
        {
          JsonObject *headers = NULL;
          gboolean has_type = FALSE;

          if (json_object_has_member (object, "headers") &&
              JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "headers")))
            headers = json_object_get_object_member (object, "headers");
          if (headers != NULL)
            {
              GList *names = json_object_get_members (headers);
              GList *l;

              for (l = names; l != NULL; l = l->next)
                has_type |= g_ascii_strcasecmp (l->data, "Content-Type") == 0;
              g_list_free (names);
            }
          if (!has_type)
            {
              problem = "A request in a batch that has a body needs a Content-Type header.";
              break;
            }
        }
      item = g_new0 (BatchItem, 1);
      item->request = object;
      item->id = g_strdup (json_node_get_string (id));
      g_ptr_array_add (items, item);
    }

  for (i = 0; problem == NULL && i < items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (items, i);
      JsonNode *depends = json_object_get_member (item->request, "dependsOn");
      guint j;

      if (depends == NULL)
        continue;
      if (!JSON_NODE_HOLDS_ARRAY (depends))
        {
          problem = "'dependsOn' must be an array of request ids.";
          break;
        }
      for (j = 0; j < json_array_get_length (json_node_get_array (depends)); j++)
        {
          JsonNode *dep = json_array_get_element (json_node_get_array (depends), j);

          if (json_node_get_value_type (dep) != G_TYPE_STRING ||
              find_batch_item (items, json_node_get_string (dep)) == NULL)
            {
              problem = "'dependsOn' names a request id that is not in the batch.";
              break;
            }
        }
      if (problem == NULL && batch_has_cycle (items, item, 0))
        problem = "The requests' 'dependsOn' form a cycle.";
    }

  if (problem != NULL)
    {
      reply_graph_error (self, req, reply, SOUP_STATUS_BAD_REQUEST, "BadRequest", problem);
      return;
    }

  for (i = 0; i < items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (items, i);

      if (item->status == 0)
        run_batch_item (self, req, items, item);
    }

  out = g_string_new ("{\"responses\":[");
  for (i = 0; i < items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (items, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_len (out, item->json->str, item->json->len);
    }
  g_string_append (out, "]}");
  reply_set_json (reply, SOUP_STATUS_OK, "application/json; charset=utf-8", out);
}

/* Server */

static void
delayed_source_free (gpointer data)
{
  GSource *source = data;

  g_source_destroy (source);
  g_source_unref (source);
}

typedef struct
{
  RdDemoTenant *self;
  SoupServerMessage *msg;
  GSource *source;
} Delayed;

static gboolean
on_delay_elapsed_cb (gpointer data)
{
  Delayed *delayed = data;

  soup_server_message_unpause (delayed->msg);
  g_ptr_array_remove_fast (delayed->self->delayed, delayed->source);
  return G_SOURCE_REMOVE;
}

static void
delayed_free (gpointer data)
{
  Delayed *delayed = data;

  g_object_unref (delayed->msg);
  g_free (delayed);
}

static void
send_reply (RdDemoTenant *self, SoupServerMessage *msg, Reply *reply, guint latency)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  guint i;

  soup_server_message_set_status (msg, reply->status, NULL);
  for (i = 0; reply->headers != NULL && i + 1 < reply->headers->len; i += 2)
    soup_message_headers_replace (headers, g_ptr_array_index (reply->headers, i),
                                  g_ptr_array_index (reply->headers, i + 1));
  if (reply->body != NULL)
    {
      gsize len = reply->body->len;
      char *body = g_string_free (g_steal_pointer (&reply->body), FALSE);

      soup_server_message_set_response (msg, reply->content_type, SOUP_MEMORY_TAKE, body, len);
    }

  if (latency > 0)
    {
      Delayed *delayed = g_new0 (Delayed, 1);

      delayed->self = self;
      delayed->msg = g_object_ref (msg);
      delayed->source = g_timeout_source_new (latency);
      g_source_set_callback (delayed->source, on_delay_elapsed_cb, delayed, delayed_free);
      g_ptr_array_add (self->delayed, delayed->source);
      soup_server_message_pause (msg);
      g_source_attach (delayed->source, self->context);
    }
}

static void
on_graph_request_cb (SoupServer *server,
                     SoupServerMessage *msg,
                     const char *path,
                     GHashTable *query,
                     gpointer user_data)
{
  RdDemoTenant *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  g_autofree char *full_path = g_uri_unescape_string (g_uri_get_path (uri), NULL);
  Request req = { 0 };
  Reply reply = { 0 };
  gboolean drop = FALSE;
  guint latency;

  if (full_path == NULL)
    full_path = g_strdup (g_uri_get_path (uri));

  req.method = soup_server_message_get_method (msg);
  req.version = g_str_has_prefix (full_path, "/beta") ? "beta" : "v1.0";
  req.path = g_strdup (full_path + strlen (req.version) + 1);
  if (req.path[0] != '/')
    {
      g_free (req.path);
      req.path = g_strdup ("/");
    }
  req.query = parse_query (g_uri_get_query (uri));
  req.authorization = soup_message_headers_get_one (headers, "Authorization");
  req.client_request_id = soup_message_headers_get_one (headers, "client-request-id");
  req.body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  req.request_id = g_uuid_string_random ();
  resolve_route (&req);

  g_mutex_lock (&self->lock);
  count_graph_request_locked (self, &req);
  if (self->drop_every > 0 && ++self->drop_count % self->drop_every == 0)
    drop = TRUE;
  else
    graph_dispatch_locked (self, &req, &reply);
  latency = self->latency;
  g_mutex_unlock (&self->lock);

  if (drop)
    {
      /* Close the socket without a word, as a failing front end would. */
      GIOStream *stream = soup_server_message_steal_connection (msg);

      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
    }
  else
    {
      reply_add_header (&reply, "request-id", req.request_id);
      reply_add_header (&reply, "client-request-id",
                        req.client_request_id != NULL ? req.client_request_id : req.request_id);
      reply_add_header (&reply, "x-ms-ags-diagnostic",
                        "{\"ServerInfo\":{\"DataCenter\":\"Demo Tenant\",\"Slice\":\"E\","
                        "\"Ring\":\"5\",\"ScaleUnit\":\"000\",\"RoleInstance\":\"RD-DEMO-01\"}}");
      send_reply (self, msg, &reply, latency);
    }

  reply_clear (&reply);
  request_clear (&req);
}

static gboolean
tenant_known (RdDemoTenant *self, const char *tenant)
{
  return g_str_equal (tenant, "common") || g_str_equal (tenant, "organizations") ||
         g_ascii_strcasecmp (tenant, self->data->tenant_id) == 0 ||
         g_ascii_strcasecmp (tenant, self->data->tenant_domain) == 0;
}

static void
on_login_request_cb (SoupServer *server,
                     SoupServerMessage *msg,
                     const char *path,
                     GHashTable *query,
                     gpointer user_data)
{
  RdDemoTenant *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *correlation = soup_message_headers_get_one (headers, "client-request-id");
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GBytes) body = NULL;
  g_autofree char *location = NULL;
  Reply reply = { 0 };
  const char *endpoint = NULL;
  guint latency;

  /* "", "login", tenant, "oauth2", "v2.0", endpoint */
  if (g_strv_length (parts) == 6 && g_str_equal (parts[3], "oauth2") &&
      g_str_equal (parts[4], "v2.0"))
    endpoint = parts[5];

  g_mutex_lock (&self->lock);
  self->total_requests++;
  if (endpoint != NULL)
    {
      g_autofree char *pattern = g_strdup_printf ("/login/{tenant}/oauth2/v2.0/%s", endpoint);

      count_request (self, method, pattern);
    }
  else
    count_request (self, method, path);

  if (g_str_equal (path, "/login/devicelogin"))
    reply_set_json (&reply, SOUP_STATUS_OK, "text/html; charset=utf-8",
                    g_string_new ("<!DOCTYPE html><html><body><h1>Recovery Desk demo tenant</h1>"
                                  "<p>The demo tenant approves sign-ins by itself. You can close "
                                  "this page.</p></body></html>"));
  else if (endpoint == NULL)
    reply_set_json (&reply, SOUP_STATUS_NOT_FOUND, "text/plain; charset=utf-8",
                    g_string_new ("Not found"));
  else if (!tenant_known (self, parts[2]))
    {
      g_autofree char *description = g_strdup_printf (
        "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud.",
        parts[2]);

      reply_token_error (&reply, SOUP_STATUS_BAD_REQUEST, "invalid_request", 90002, description,
                         correlation);
    }
  else if (g_str_equal (endpoint, "authorize") && g_str_equal (method, "GET"))
    {
      g_autoptr (GHashTable) params = parse_query (g_uri_get_query (uri));

      handle_authorize (self, params, correlation, &reply, &location);
    }
  else if ((g_str_equal (endpoint, "devicecode") || g_str_equal (endpoint, "token")) &&
           g_str_equal (method, "POST"))
    {
      g_autoptr (GHashTable) form = NULL;

      body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
      form = parse_form (body);
      if (g_str_equal (endpoint, "devicecode"))
        handle_devicecode (self, self->base_url, form, correlation, &reply);
      else
        handle_token (self, form, correlation, &reply);
    }
  else if (g_str_equal (endpoint, "authorize") || g_str_equal (endpoint, "devicecode") ||
           g_str_equal (endpoint, "token"))
    reply_token_error (&reply, SOUP_STATUS_METHOD_NOT_ALLOWED, "invalid_request", 900561,
                       "The endpoint only accepts POST requests.", correlation);
  else
    reply_set_json (&reply, SOUP_STATUS_NOT_FOUND, "text/plain; charset=utf-8",
                    g_string_new ("Not found"));
  latency = self->latency;
  g_mutex_unlock (&self->lock);

  if (location != NULL)
    {
      soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, location);
      if (latency > 0)
        send_reply (self, msg, &reply, latency);
    }
  else
    {
      if (correlation != NULL)
        reply_add_header (&reply, "client-request-id", correlation);
      send_reply (self, msg, &reply, latency);
    }
  reply_clear (&reply);
}

static gboolean
on_loop_running_cb (gpointer user_data)
{
  RdDemoTenant *self = user_data;

  g_mutex_lock (&self->lock);
  self->ready = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
server_thread (gpointer user_data)
{
  RdDemoTenant *self = user_data;
  g_autoptr (GError) error = NULL;
  SoupServer *server;
  GSList *uris;

  g_main_context_push_thread_default (self->context);

  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, "/v1.0", on_graph_request_cb, self, NULL);
  soup_server_add_handler (server, "/beta", on_graph_request_cb, self, NULL);
  soup_server_add_handler (server, "/login", on_login_request_cb, self, NULL);

  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_mutex_lock (&self->lock);
      self->start_error = g_steal_pointer (&error);
      self->ready = TRUE;
      g_cond_signal (&self->cond);
      g_mutex_unlock (&self->lock);
    }
  else
    {
      GSource *idle = g_idle_source_new ();

      uris = soup_server_get_uris (server);
      g_mutex_lock (&self->lock);
      self->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
      g_mutex_unlock (&self->lock);
      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

      /* Tell start() only once the loop runs, so that a stop() right after
       * it cannot be lost. */
      g_source_set_callback (idle, on_loop_running_cb, self, NULL);
      g_source_attach (idle, self->context);
      g_source_unref (idle);
      g_main_loop_run (self->loop);
    }

  g_ptr_array_set_size (self->delayed, 0);
  soup_server_disconnect (server);
  g_object_unref (server);
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* GObject */

static void
rd_demo_tenant_dispose (GObject *object)
{
  RdDemoTenant *self = RD_DEMO_TENANT (object);

  rd_demo_tenant_stop (self);

  G_OBJECT_CLASS (rd_demo_tenant_parent_class)->dispose (object);
}

static void
rd_demo_tenant_finalize (GObject *object)
{
  RdDemoTenant *self = RD_DEMO_TENANT (object);

  g_clear_pointer (&self->data, data_free);
  g_hash_table_unref (self->device_codes);
  g_hash_table_unref (self->auth_codes);
  g_hash_table_unref (self->access_tokens);
  g_hash_table_unref (self->refresh_tokens);
  g_ptr_array_unref (self->actions);
  g_hash_table_unref (self->action_failures);
  g_hash_table_unref (self->counters);
  g_ptr_array_unref (self->wipe_requests);
  g_ptr_array_unref (self->delayed);
  g_free (self->base_url);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (rd_demo_tenant_parent_class)->finalize (object);
}

static void
rd_demo_tenant_class_init (RdDemoTenantClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rd_demo_tenant_dispose;
  object_class->finalize = rd_demo_tenant_finalize;
}

static void
rd_demo_tenant_init (RdDemoTenant *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->data = data_new (1024);
  self->data->tenant_id = g_strdup ("72f988bf-0000-4000-8000-00000000c0de");
  self->data->tenant_domain = g_strdup ("contoso.example");
  self->data->user_id = g_strdup ("0d2b5d2e-5f43-4c3a-9a55-6b1d0a2b7c11");
  self->data->user_name = g_strdup ("Demo Admin");
  self->data->user_upn = g_strdup ("admin@contoso.example");
  self->device_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, device_code_free);
  self->auth_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, auth_code_free);
  self->access_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->refresh_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->actions = g_ptr_array_new_with_free_func (action_free);
  self->counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->wipe_requests = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_demo_wipe_request_free);
  self->delayed = g_ptr_array_new_with_free_func (delayed_source_free);
  self->device_code_outcome = RD_DEMO_DEVICE_CODE_APPROVE;
  self->device_code_pending = 2;
  self->device_code_interval = 5;
  self->public_client_flows = TRUE;
  self->token_lifetime = 3600;
  self->retry_after = 1;
  self->action_duration = 3 * G_USEC_PER_SEC;
  self->action_failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                 action_failure_free);
}

/* Public API */

/**
 * rd_demo_tenant_new:
 *
 * Creates a demo tenant with no devices; load data with
 * rd_demo_tenant_load() or rd_demo_tenant_generate(), then start it.
 */
RdDemoTenant *
rd_demo_tenant_new (void)
{
  return g_object_new (RD_TYPE_DEMO_TENANT, NULL);
}

static void
replace_data (RdDemoTenant *self, Data *data)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->data, data_free);
  self->data = data;
  g_ptr_array_set_size (self->actions, 0);
  g_mutex_unlock (&self->lock);
}

/**
 * rd_demo_tenant_load:
 * @path: (nullable): a demo-tenant.json, or %NULL for the bundled one
 *
 * Replaces the tenant's data. On failure the old data stays.
 */
gboolean
rd_demo_tenant_load (RdDemoTenant *self, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  Data *data;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), FALSE);

  if (path == NULL)
    bytes = g_resource_lookup_data (rd_demo_data_get_resource (),
                                    "/io/github/recoverydesk/RecoveryDesk/demo-tenant.json",
                                    G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  else
    {
      char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &contents, &len, error))
        bytes = g_bytes_new_take (contents, len);
    }
  if (bytes == NULL)
    return FALSE;

  data = data_new_from_bytes (bytes, error);
  if (data == NULL)
    return FALSE;
  replace_data (self, data);
  return TRUE;
}

/**
 * rd_demo_tenant_generate:
 * @n_devices: how many devices
 * @seed: the same seed gives the same devices (dates follow the clock)
 *
 * Replaces the tenant's data with @n_devices synthetic devices, their
 * BitLocker keys, Autopilot identities and encryption states, for scale
 * runs. About nine in ten are Windows.
 */
void
rd_demo_tenant_generate (RdDemoTenant *self, guint n_devices, guint32 seed)
{
  g_return_if_fail (RD_IS_DEMO_TENANT (self));

  replace_data (self, data_generate (n_devices, seed));
}

/**
 * rd_demo_tenant_start:
 *
 * Listens on 127.0.0.1 on a free port, in a thread of its own. Returns
 * when the server answers.
 */
gboolean
rd_demo_tenant_start (RdDemoTenant *self, GError **error)
{
  GError *start_error;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), FALSE);

  if (self->thread != NULL)
    return TRUE;

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->ready = FALSE;
  self->thread = g_thread_new ("rd-demo-tenant", server_thread, self);

  g_mutex_lock (&self->lock);
  while (!self->ready)
    g_cond_wait (&self->cond, &self->lock);
  start_error = g_steal_pointer (&self->start_error);
  g_mutex_unlock (&self->lock);

  if (start_error != NULL)
    {
      g_propagate_error (error, start_error);
      rd_demo_tenant_stop (self);
      return FALSE;
    }
  return TRUE;
}

/**
 * rd_demo_tenant_stop:
 *
 * Closes the listening socket and every connection, and joins the thread.
 * Safe to call when not running. Tokens and data stay.
 */
void
rd_demo_tenant_stop (RdDemoTenant *self)
{
  g_return_if_fail (RD_IS_DEMO_TENANT (self));

  if (self->thread == NULL)
    return;

  g_main_loop_quit (self->loop);
  g_thread_join (g_steal_pointer (&self->thread));
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->base_url, g_free);
  g_mutex_unlock (&self->lock);
}

gboolean
rd_demo_tenant_is_running (RdDemoTenant *self)
{
  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), FALSE);

  return self->thread != NULL;
}

/**
 * rd_demo_tenant_get_base_url:
 *
 * Returns: (nullable): "http://127.0.0.1:PORT" while running. Graph is at
 *   "<base>/v1.0" and "<base>/beta", Entra ID at "<base>/login".
 */
const char *
rd_demo_tenant_get_base_url (RdDemoTenant *self)
{
  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), NULL);

  return self->base_url;
}

char *
rd_demo_tenant_dup_graph_url (RdDemoTenant *self)
{
  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), NULL);

  return self->base_url != NULL ? g_strconcat (self->base_url, "/v1.0", NULL) : NULL;
}

char *
rd_demo_tenant_dup_login_url (RdDemoTenant *self)
{
  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), NULL);

  return self->base_url != NULL ? g_strconcat (self->base_url, "/login", NULL) : NULL;
}

const char *
rd_demo_tenant_get_tenant_id (RdDemoTenant *self)
{
  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), NULL);

  return self->data->tenant_id;
}

guint
rd_demo_tenant_get_n_devices (RdDemoTenant *self)
{
  guint n;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), 0);

  g_mutex_lock (&self->lock);
  n = self->data->tables[TABLE_DEVICES]->len;
  g_mutex_unlock (&self->lock);
  return n;
}

/**
 * rd_demo_tenant_issue_access_token:
 *
 * Issues an access token as a sign-in would, for scripts and tests that do
 * not go through a sign-in flow.
 */
char *
rd_demo_tenant_issue_access_token (RdDemoTenant *self)
{
  char *token;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), NULL);

  g_mutex_lock (&self->lock);
  token = issue_access_token_locked (self, "14d82eec-204b-4c2f-b7e8-296a70dab67e",
                                     "DeviceManagementManagedDevices.Read.All "
                                     "DeviceManagementManagedDevices.PrivilegedOperations.All "
                                     "DeviceManagementServiceConfig.Read.All "
                                     "DeviceManagementConfiguration.Read.All "
                                     "BitLockerKey.ReadBasic.All",
                                     NULL);
  g_mutex_unlock (&self->lock);
  return token;
}

#define SETTER(body)                                                                               \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_return_if_fail (RD_IS_DEMO_TENANT (self));                                                   \
    g_mutex_lock (&self->lock);                                                                    \
    body;                                                                                          \
    g_mutex_unlock (&self->lock);                                                                  \
  }                                                                                                \
  G_STMT_END

void
rd_demo_tenant_set_device_code_outcome (RdDemoTenant *self, RdDemoDeviceCodeOutcome outcome)
{
  SETTER (self->device_code_outcome = outcome);
}

/**
 * rd_demo_tenant_set_device_code_pending:
 * @n_polls: how many polls answer authorization_pending (default 2)
 *
 * Applies to device codes issued afterwards, as the other device-code knobs.
 */
void
rd_demo_tenant_set_device_code_pending (RdDemoTenant *self, guint n_polls)
{
  SETTER (self->device_code_pending = n_polls);
}

/**
 * rd_demo_tenant_set_device_code_slow_down:
 * @once: whether the first poll answers slow_down
 */
void
rd_demo_tenant_set_device_code_slow_down (RdDemoTenant *self, gboolean once)
{
  SETTER (self->device_code_slow_down = once);
}

/**
 * rd_demo_tenant_set_device_code_interval:
 * @seconds: the "interval" the devicecode answer gives (default 5, as Entra)
 */
void
rd_demo_tenant_set_device_code_interval (RdDemoTenant *self, guint seconds)
{
  SETTER (self->device_code_interval = seconds);
}

/**
 * rd_demo_tenant_set_authorize_denied:
 * @denied: whether authorize redirects with error=access_denied
 */
void
rd_demo_tenant_set_authorize_denied (RdDemoTenant *self, gboolean denied)
{
  SETTER (self->authorize_denied = denied);
}

/**
 * rd_demo_tenant_set_public_client_flows:
 * @allowed: %FALSE answers device-code redemption with AADSTS7000218, as an
 *   app registration without "Allow public client flows" does
 */
void
rd_demo_tenant_set_public_client_flows (RdDemoTenant *self, gboolean allowed)
{
  SETTER (self->public_client_flows = allowed);
}

/**
 * rd_demo_tenant_set_token_lifetime:
 * @seconds: lifetime of access tokens issued afterwards (default 3600);
 *   fractions allowed. Graph refuses a token past it with 401.
 */
void
rd_demo_tenant_set_token_lifetime (RdDemoTenant *self, double seconds)
{
  g_return_if_fail (seconds >= 0);
  SETTER (self->token_lifetime = seconds);
}

/**
 * rd_demo_tenant_expire_tokens:
 *
 * Expires every access token issued so far.
 */
void
rd_demo_tenant_expire_tokens (RdDemoTenant *self)
{
  SETTER ({
    GHashTableIter iter;
    gpointer value;
    gint64 now = g_get_real_time ();

    g_hash_table_iter_init (&iter, self->access_tokens);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      *(gint64 *) value = MIN (*(gint64 *) value, now);
  });
}

/**
 * rd_demo_tenant_revoke_refresh_tokens:
 *
 * Revokes every refresh token: the next refresh gets invalid_grant.
 */
void
rd_demo_tenant_revoke_refresh_tokens (RdDemoTenant *self)
{
  SETTER (g_hash_table_remove_all (self->refresh_tokens));
}

/**
 * rd_demo_tenant_set_latency:
 * @msec: delay before every answer
 */
void
rd_demo_tenant_set_latency (RdDemoTenant *self, guint msec)
{
  SETTER (self->latency = msec);
}

/**
 * rd_demo_tenant_set_throttle:
 * @every: answer every @every-th Graph request from now on with 429 (0: never);
 *   requests inside a $batch count, each on its own
 * @retry_after: the Retry-After value in seconds, fractions allowed
 */
void
rd_demo_tenant_set_throttle (RdDemoTenant *self, guint every, double retry_after)
{
  SETTER ({
    self->throttle_every = every;
    self->throttle_count = 0;
    self->retry_after = retry_after;
  });
}

/**
 * rd_demo_tenant_set_unavailable:
 * @every: answer every @every-th Graph request from now on with 503 (0: never)
 */
void
rd_demo_tenant_set_unavailable (RdDemoTenant *self, guint every)
{
  SETTER ({
    self->unavailable_every = every;
    self->unavailable_count = 0;
  });
}

/**
 * rd_demo_tenant_set_drop_connection:
 * @every: close the connection without an answer on every @every-th Graph
 *   request from now on (0: never); $batch counts once
 */
void
rd_demo_tenant_set_drop_connection (RdDemoTenant *self, guint every)
{
  SETTER ({
    self->drop_every = every;
    self->drop_count = 0;
  });
}

/**
 * rd_demo_tenant_set_malformed_page:
 * @page: the page of managedDevices (from 1) to answer with truncated JSON,
 *   every time it is asked for; 0 for none
 */
void
rd_demo_tenant_set_malformed_page (RdDemoTenant *self, guint page)
{
  SETTER (self->malformed_page = page);
}

/**
 * rd_demo_tenant_set_page_size:
 * @page_size: items per page of every list; 0 for Graph's 1000
 */
void
rd_demo_tenant_set_page_size (RdDemoTenant *self, guint page_size)
{
  SETTER (self->page_size = page_size);
}

/**
 * rd_demo_tenant_set_forbidden:
 * @sources: the sources that answer 403, naming the permission they need
 */
void
rd_demo_tenant_set_forbidden (RdDemoTenant *self, RdDemoSource sources)
{
  SETTER (self->forbidden = sources);
}

/**
 * rd_demo_tenant_set_action_duration:
 * @msec: how long a wipe stays pending before it is done (default 3000)
 */
void
rd_demo_tenant_set_action_duration (RdDemoTenant *self, guint msec)
{
  SETTER (self->action_duration = (gint64) msec * 1000);
}

/**
 * rd_demo_tenant_set_action_failure:
 * @device_id: a managed device's id
 * @status: the HTTP status to answer, 400 to 599; 0 to carry out the
 *   device's actions again
 * @code: (nullable): the Graph error code, such as "Forbidden"
 * @message: (nullable): the Graph error message
 *
 * Makes every wipe of @device_id that passes the body check fail with a
 * Graph error body (code, message, innerError with the request-id); the
 * device is left as it was. Other devices are not affected.
 */
void
rd_demo_tenant_set_action_failure (RdDemoTenant *self,
                                   const char *device_id,
                                   guint status,
                                   const char *code,
                                   const char *message)
{
  g_return_if_fail (device_id != NULL);
  g_return_if_fail (status == 0 || (status >= 400 && status <= 599));

  SETTER ({
    if (status == 0)
      g_hash_table_remove (self->action_failures, device_id);
    else
      {
        ActionFailure *failure = g_new0 (ActionFailure, 1);

        failure->status = status;
        failure->code = g_strdup (code != NULL ? code : "BadRequest");
        failure->message = g_strdup (message != NULL ? message : "The action failed.");
        g_hash_table_replace (self->action_failures, g_strdup (device_id), failure);
      }
  });
}

/**
 * rd_demo_tenant_get_request_count:
 * @method: "GET", "POST", ...
 * @pattern: a path without the version, e.g.
 *   "/deviceManagement/managedDevices/{id}/wipe", "/$batch",
 *   "/login/{tenant}/oauth2/v2.0/token"
 *
 * Counts every request that reached the server, before any fault knob
 * answered it; requests inside a $batch count on their own too.
 */
guint
rd_demo_tenant_get_request_count (RdDemoTenant *self, const char *method, const char *pattern)
{
  g_autofree char *key = NULL;
  guint count;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), 0);

  key = g_strconcat (method, " ", pattern, NULL);
  g_mutex_lock (&self->lock);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->counters, key));
  g_mutex_unlock (&self->lock);
  return count;
}

guint
rd_demo_tenant_get_total_requests (RdDemoTenant *self)
{
  guint count;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), 0);

  g_mutex_lock (&self->lock);
  count = self->total_requests;
  g_mutex_unlock (&self->lock);
  return count;
}

/**
 * rd_demo_tenant_dup_wipe_requests:
 *
 * Returns: (transfer container) (element-type RdDemoWipeRequest): the wipe
 *   requests that passed the fault knobs and the token check, in order
 */
GPtrArray *
rd_demo_tenant_dup_wipe_requests (RdDemoTenant *self)
{
  GPtrArray *copy;
  guint i;

  g_return_val_if_fail (RD_IS_DEMO_TENANT (self), NULL);

  copy = g_ptr_array_new_with_free_func ((GDestroyNotify) rd_demo_wipe_request_free);
  g_mutex_lock (&self->lock);
  for (i = 0; i < self->wipe_requests->len; i++)
    {
      const RdDemoWipeRequest *request = g_ptr_array_index (self->wipe_requests, i);
      RdDemoWipeRequest *dup = g_new0 (RdDemoWipeRequest, 1);

      dup->device_id = g_strdup (request->device_id);
      dup->body = g_strdup (request->body);
      dup->version = g_strdup (request->version);
      dup->status = request->status;
      g_ptr_array_add (copy, dup);
    }
  g_mutex_unlock (&self->lock);
  return copy;
}

void
rd_demo_tenant_reset_counters (RdDemoTenant *self)
{
  SETTER ({
    g_hash_table_remove_all (self->counters);
    g_ptr_array_set_size (self->wipe_requests, 0);
    self->total_requests = 0;
  });
}
