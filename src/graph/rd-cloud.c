/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-cloud"

#include "config.h"

#include "rd-cloud.h"

#include "rd-graph-enums.h"
#include "rd-graph-error.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

struct _RdCloud
{
  GObject parent_instance;

  RdCloudKind kind;
  char *graph_endpoint;
  char *login_endpoint;
};

G_DEFINE_FINAL_TYPE (RdCloud, rd_cloud, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_KIND,
  PROP_GRAPH_ENDPOINT,
  PROP_LOGIN_ENDPOINT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  const char *login;
  const char *graph;
} CloudEndpoints;

/* Indexed by RdCloudKind; reference/graph-entra.md §7. Microsoft's Entra
 * documentation names https://login.partner.microsoftonline.cn for China
 * while the Graph deployment documentation names
 * https://login.chinacloudapi.cn; the two documents disagree, and we follow
 * the Graph one. Both are overridable for a tenant that needs the other. */
static const CloudEndpoints default_endpoints[] = {
  [RD_CLOUD_KIND_GLOBAL] = { "https://login.microsoftonline.com", "https://graph.microsoft.com" },
  [RD_CLOUD_KIND_US_GOV] = { "https://login.microsoftonline.us", "https://graph.microsoft.us" },
  [RD_CLOUD_KIND_US_GOV_DOD] = { "https://login.microsoftonline.us",
                                 "https://dod-graph.microsoft.us" },
  [RD_CLOUD_KIND_CHINA] = { "https://login.chinacloudapi.cn",
                            "https://microsoftgraph.chinacloudapi.cn" },
};

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  /* GUri hands IPv6 literals back without their brackets. */
  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    return FALSE;

  /* 127.0.0.0/8 for IPv4, ::1 for IPv6. */
  return g_inet_address_get_is_loopback (address);
}

/**
 * rd_cloud_check_endpoint:
 * @uri: an endpoint such as "https://graph.microsoft.com"
 *
 * Accepts `https://` endpoints, and `http://` ones only on a loopback host
 * (127.0.0.0/8, `localhost`, `[::1]`), where the demo tenant and the tests
 * run. Anything else would send the access token in the clear.
 *
 * Returns: %TRUE if @uri may be used, else %FALSE with
 *   %RD_GRAPH_ERROR_INSECURE_ENDPOINT set
 */
gboolean
rd_cloud_check_endpoint (const char  *uri,
                         GError     **error)
{
  g_autoptr (GUri) parsed = NULL;
  const char *scheme;
  const char *host;

  if (uri != NULL)
    parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);

  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    {
      g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT,
                   _ ("“%s” is not a web address. Give an endpoint such as "
                      "https://graph.microsoft.com."),
                   uri != NULL ? uri : "");
      return FALSE;
    }

  scheme = g_uri_get_scheme (parsed);
  host = g_uri_get_host (parsed);

  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;

  if (g_ascii_strcasecmp (scheme, "http") == 0 && host_is_loopback (host))
    return TRUE;

  g_set_error (error, RD_GRAPH_ERROR, RD_GRAPH_ERROR_INSECURE_ENDPOINT,
               _ ("The endpoint “%s” is not secure. Use an https:// address; plain http:// is "
                  "only allowed on this computer (127.0.0.1, localhost or [::1])."),
               uri);
  return FALSE;
}

static char *
normalize_endpoint (const char *endpoint)
{
  char *copy = g_strdup (endpoint);
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';

  return copy;
}

static gboolean
set_endpoint (RdCloud     *self,
              char       **field,
              const char  *default_endpoint,
              const char  *endpoint,
              GParamSpec  *pspec,
              GError     **error)
{
  g_autofree char *normalized = NULL;

  if (endpoint == NULL || *endpoint == '\0')
    endpoint = default_endpoint;

  if (!rd_cloud_check_endpoint (endpoint, error))
    return FALSE;

  normalized = normalize_endpoint (endpoint);
  if (g_strcmp0 (normalized, *field) == 0)
    return TRUE;

  g_free (*field);
  *field = g_steal_pointer (&normalized);
  g_object_notify_by_pspec (G_OBJECT (self), pspec);

  return TRUE;
}

static void
rd_cloud_finalize (GObject *object)
{
  RdCloud *self = RD_CLOUD (object);

  g_free (self->graph_endpoint);
  g_free (self->login_endpoint);

  G_OBJECT_CLASS (rd_cloud_parent_class)->finalize (object);
}

static void
rd_cloud_constructed (GObject *object)
{
  RdCloud *self = RD_CLOUD (object);

  G_OBJECT_CLASS (rd_cloud_parent_class)->constructed (object);

  self->graph_endpoint = g_strdup (default_endpoints[self->kind].graph);
  self->login_endpoint = g_strdup (default_endpoints[self->kind].login);
}

static void
rd_cloud_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  RdCloud *self = RD_CLOUD (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;

    case PROP_GRAPH_ENDPOINT:
      g_value_set_string (value, self->graph_endpoint);
      break;

    case PROP_LOGIN_ENDPOINT:
      g_value_set_string (value, self->login_endpoint);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_cloud_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  RdCloud *self = RD_CLOUD (object);

  switch (prop_id)
    {
    case PROP_KIND:
      self->kind = g_value_get_enum (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rd_cloud_class_init (RdCloudClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rd_cloud_finalize;
  object_class->constructed = rd_cloud_constructed;
  object_class->get_property = rd_cloud_get_property;
  object_class->set_property = rd_cloud_set_property;

  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, RD_TYPE_CLOUD_KIND, RD_CLOUD_KIND_GLOBAL,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /* Read-only as properties: the setters check the endpoint and can fail. */
  properties[PROP_GRAPH_ENDPOINT] =
    g_param_spec_string ("graph-endpoint", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_LOGIN_ENDPOINT] =
    g_param_spec_string ("login-endpoint", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rd_cloud_init (RdCloud *self)
{
}

RdCloud *
rd_cloud_new (RdCloudKind kind)
{
  g_return_val_if_fail (kind >= RD_CLOUD_KIND_GLOBAL && kind <= RD_CLOUD_KIND_CHINA, NULL);

  return g_object_new (RD_TYPE_CLOUD, "kind", kind, NULL);
}

RdCloudKind
rd_cloud_get_kind (RdCloud *self)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), RD_CLOUD_KIND_GLOBAL);

  return self->kind;
}

/**
 * rd_cloud_get_graph_endpoint:
 *
 * Returns: the Graph host, such as "https://graph.microsoft.com", without a
 *   trailing slash or version
 */
const char *
rd_cloud_get_graph_endpoint (RdCloud *self)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), NULL);

  return self->graph_endpoint;
}

/**
 * rd_cloud_set_graph_endpoint:
 * @endpoint: (nullable): the new endpoint, or %NULL for the cloud's default
 *
 * Overrides the Graph endpoint (`--graph-endpoint`, GSettings, the demo
 * tenant). An insecure endpoint is refused and the old one kept.
 */
gboolean
rd_cloud_set_graph_endpoint (RdCloud     *self,
                             const char  *endpoint,
                             GError     **error)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), FALSE);

  return set_endpoint (self, &self->graph_endpoint, default_endpoints[self->kind].graph, endpoint,
                       properties[PROP_GRAPH_ENDPOINT], error);
}

const char *
rd_cloud_get_login_endpoint (RdCloud *self)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), NULL);

  return self->login_endpoint;
}

/**
 * rd_cloud_set_login_endpoint:
 * @endpoint: (nullable): the new endpoint, or %NULL for the cloud's default
 */
gboolean
rd_cloud_set_login_endpoint (RdCloud     *self,
                             const char  *endpoint,
                             GError     **error)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), FALSE);

  return set_endpoint (self, &self->login_endpoint, default_endpoints[self->kind].login, endpoint,
                       properties[PROP_LOGIN_ENDPOINT], error);
}

/**
 * rd_cloud_dup_graph_base_url:
 *
 * Returns: (transfer full): the v1.0 base URL, such as
 *   "https://graph.microsoft.com/v1.0"
 */
char *
rd_cloud_dup_graph_base_url (RdCloud *self)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), NULL);

  return g_strconcat (self->graph_endpoint, "/v1.0", NULL);
}

/**
 * rd_cloud_dup_graph_beta_url:
 *
 * Returns: (transfer full): the beta base URL, used only for what v1.0
 *   lacks (the managed device encryption states)
 */
char *
rd_cloud_dup_graph_beta_url (RdCloud *self)
{
  g_return_val_if_fail (RD_IS_CLOUD (self), NULL);

  return g_strconcat (self->graph_endpoint, "/beta", NULL);
}

/**
 * rd_cloud_kind_to_string:
 *
 * Returns: the name used by `--cloud` and GSettings: "global", "us-gov",
 *   "us-gov-dod" or "china"
 */
const char *
rd_cloud_kind_to_string (RdCloudKind kind)
{
  g_autoptr (GEnumClass) enum_class = g_type_class_ref (RD_TYPE_CLOUD_KIND);
  GEnumValue *value = g_enum_get_value (enum_class, kind);

  g_return_val_if_fail (value != NULL, NULL);

  return value->value_nick;
}

gboolean
rd_cloud_kind_from_string (const char   *name,
                           RdCloudKind  *kind,
                           GError      **error)
{
  g_autoptr (GEnumClass) enum_class = g_type_class_ref (RD_TYPE_CLOUD_KIND);
  GEnumValue *value = NULL;

  if (name != NULL)
    value = g_enum_get_value_by_nick (enum_class, name);

  if (value == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("Unknown cloud “%s”. Use one of global, us-gov, us-gov-dod or china."),
                   name != NULL ? name : "");
      return FALSE;
    }

  if (kind != NULL)
    *kind = value->value;

  return TRUE;
}
