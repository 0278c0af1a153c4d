/* ef_poll.c: quota reads of many devices in one client batch. */
#include "ef_poll.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define PATH_QUOTA_ALL "/iot-open/sign/device/quota/all"
#define PATH_QUOTA "/iot-open/sign/device/quota"

/* wire-facts.md: the cloud answers 8521 "signature is wrong" now and then
 * for a correct signature; one more try tells that from a wrong secret. */
#define TRANSIENT_CODE "8521"

typedef struct {
  ef_reading_cb cb;
  void *ctx;
  ef_request *retry; /* requests to send once more; NULL: no retries */
  size_t n_retry;
} poll_batch;

/* {"sn":..,"params":{"quotas":[..]}}, the body of POST quota. */
static struct json_object *quota_body(const ef_poll_target *target) {
  struct json_object *body = json_object_new_object();
  struct json_object *params = json_object_new_object();
  struct json_object *quotas = json_object_new_array();
  if (body == NULL || params == NULL || quotas == NULL) {
    json_object_put(body);
    json_object_put(params);
    json_object_put(quotas);
    return NULL;
  }
  json_object_object_add(body, "sn", json_object_new_string(target->sn));
  for (size_t i = 0; i < target->n_quotas; i++)
    json_object_array_add(quotas, json_object_new_string(target->quotas[i]));
  json_object_object_add(params, "quotas", quotas);
  json_object_object_add(body, "params", params);
  return body;
}

static void on_answer(const ef_answer *answer, void *ctx) {
  poll_batch *batch = ctx;
  if (batch->retry != NULL && answer->error.kind == EF_ERR_API &&
      strcmp(answer->error.api_code, TRANSIENT_CODE) == 0) {
    batch->retry[batch->n_retry++] = *answer->request;
    return;
  }
  ef_reading reading = {.target = answer->request->user,
                        .time_ms = answer->received_ms};
  ef_error error = answer->error;
  ef_samples samples = {0};
  if (error.kind != EF_OK) {
    reading.error = &error;
  } else if (answer->data == NULL ||
             ef_samples_add_json(&samples, answer->data) != 0) {
    /* Without data, a reading of no values would pass for a healthy
     * device. */
    if (answer->data == NULL)
      ef_error_set(&error, EF_ERR_PARSE, "no \"data\" in the answer");
    else
      ef_error_set(&error, EF_ERR_PARSE, "\"data\" is %s, not an object",
                   json_type_to_name(json_object_get_type(answer->data)));
    error.http_status = 200;
    reading.error = &error;
  } else {
    reading.samples = &samples;
  }
  batch->cb(&reading, batch->ctx);
  ef_samples_clear(&samples);
}

int ef_poll_quotas(ef_client *client, const ef_poll_target *targets, size_t n,
                   ef_reading_cb cb, void *ctx, ef_error *err) {
  ef_request *requests = calloc(n ? n : 1, sizeof(*requests));
  if (requests == NULL) {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const ef_poll_target *target = &targets[i];
    requests[i].user = (void *)target;
    requests[i].sn = target->sn;
    if (target->quotas == NULL) {
      requests[i].method = EF_METHOD_GET;
      requests[i].path = PATH_QUOTA_ALL;
    } else {
      requests[i].method = EF_METHOD_POST;
      requests[i].path = PATH_QUOTA;
      requests[i].body = quota_body(target);
    }
  }
  poll_batch batch = {
      .cb = cb, .ctx = ctx, .retry = calloc(n ? n : 1, sizeof(*batch.retry))};
  int status = ef_client_run(client, requests, n, on_answer, &batch, err);
  if (batch.n_retry > 0) {
    /* Sent even when the first batch broke off: every target is answered. */
    ef_request *again = batch.retry;
    batch.retry = NULL; /* the second answer is final, whatever it is */
    ef_error retry_err;
    if (ef_client_run(client, again, batch.n_retry, on_answer, &batch,
                      &retry_err) != 0 &&
        status == 0) {
      *err = retry_err;
      status = -1;
    }
    batch.retry = again;
  }
  free(batch.retry);
  for (size_t i = 0; i < n; i++)
    json_object_put(requests[i].body);
  free(requests);
  return status;
}
