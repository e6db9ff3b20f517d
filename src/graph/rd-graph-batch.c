/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-graph-batch"

#include "config.h"

#include "rd-graph-batch.h"

struct _RdGraphBatchRequest
{
  gatomicrefcount ref_count;

  char *id;
  char *method;
  char *url;
  JsonNode *body;
  GPtrArray *depends_on; /* NULL-terminated */
};

struct _RdGraphBatchResult
{
  gatomicrefcount ref_count;

  char *id;
  RdGraphResponse *response;
  GError *error;
};

G_DEFINE_BOXED_TYPE (RdGraphBatchRequest, rd_graph_batch_request, rd_graph_batch_request_ref,
                     rd_graph_batch_request_unref)

G_DEFINE_BOXED_TYPE (RdGraphBatchResult, rd_graph_batch_result, rd_graph_batch_result_ref,
                     rd_graph_batch_result_unref)

/**
 * rd_graph_batch_request_new:
 * @id: an id unique within the batch
 * @method: "GET", "POST", ...
 * @url: the URL relative to the version root, starting with "/"
 * @body: (nullable): a JSON body; sent with `Content-Type: application/json`
 */
RdGraphBatchRequest *
rd_graph_batch_request_new (const char *id,
                            const char *method,
                            const char *url,
                            JsonNode   *body)
{
  RdGraphBatchRequest *self;

  g_return_val_if_fail (id != NULL && *id != '\0', NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (url != NULL, NULL);

  self = g_new0 (RdGraphBatchRequest, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->id = g_strdup (id);
  self->method = g_ascii_strup (method, -1);
  self->url = g_strdup (url);
  self->body = body != NULL ? json_node_ref (body) : NULL;
  self->depends_on = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->depends_on, NULL);

  return self;
}

RdGraphBatchRequest *
rd_graph_batch_request_ref (RdGraphBatchRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
rd_graph_batch_request_unref (RdGraphBatchRequest *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->id);
  g_free (self->method);
  g_free (self->url);
  g_clear_pointer (&self->body, json_node_unref);
  g_ptr_array_unref (self->depends_on);
  g_free (self);
}

/**
 * rd_graph_batch_request_add_depends_on:
 * @id: the id of a request in the same batch that must succeed first
 *
 * Graph runs this request after @id, and answers 424 Failed Dependency
 * when @id fails.
 */
void
rd_graph_batch_request_add_depends_on (RdGraphBatchRequest *self,
                                       const char          *id)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (id != NULL);

  g_ptr_array_insert (self->depends_on, self->depends_on->len - 1, g_strdup (id));
}

const char *
rd_graph_batch_request_get_id (RdGraphBatchRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->id;
}

const char *
rd_graph_batch_request_get_method (RdGraphBatchRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->method;
}

const char *
rd_graph_batch_request_get_url (RdGraphBatchRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->url;
}

JsonNode *
rd_graph_batch_request_get_body (RdGraphBatchRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->body;
}

/**
 * rd_graph_batch_request_get_depends_on:
 *
 * Returns: (array zero-terminated=1) (transfer none): the ids this request
 *   depends on
 */
const char * const *
rd_graph_batch_request_get_depends_on (RdGraphBatchRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return (const char * const *) self->depends_on->pdata;
}

/**
 * rd_graph_batch_result_new:
 * @response: (nullable): the response, for a success
 * @error: (nullable) (transfer full): the error, for a failure
 */
RdGraphBatchResult *
rd_graph_batch_result_new (const char      *id,
                           RdGraphResponse *response,
                           GError          *error)
{
  RdGraphBatchResult *self;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail ((response == NULL) != (error == NULL), NULL);

  self = g_new0 (RdGraphBatchResult, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->id = g_strdup (id);
  self->response = response != NULL ? rd_graph_response_ref (response) : NULL;
  self->error = error;

  return self;
}

RdGraphBatchResult *
rd_graph_batch_result_ref (RdGraphBatchResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
rd_graph_batch_result_unref (RdGraphBatchResult *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->id);
  g_clear_pointer (&self->response, rd_graph_response_unref);
  g_clear_error (&self->error);
  g_free (self);
}

const char *
rd_graph_batch_result_get_id (RdGraphBatchResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->id;
}

/**
 * rd_graph_batch_result_get_response:
 *
 * Returns: (nullable) (transfer none): the response, when the request
 *   succeeded
 */
RdGraphResponse *
rd_graph_batch_result_get_response (RdGraphBatchResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->response;
}

/**
 * rd_graph_batch_result_get_error:
 *
 * Returns: (nullable) (transfer none): the error, when the request failed
 */
const GError *
rd_graph_batch_result_get_error (RdGraphBatchResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->error;
}
