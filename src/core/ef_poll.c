/* ef_poll.c: quota reads of many devices in one client batch. */
#include "ef_poll.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define PATH_QUOTA_ALL "/iot-open/sign/device/quota/all"
#define PATH_QUOTA "/iot-open/sign/device/quota"

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

int ef_poll_request(ef_request *request, const ef_poll_target *target) {
  request->sn = target->sn;
  request->body = NULL;
  if (target->quotas == NULL) {
    request->method = EF_METHOD_GET;
    request->path = PATH_QUOTA_ALL;
    return 0;
  }
  request->method = EF_METHOD_POST;
  request->path = PATH_QUOTA;
  request->body = quota_body(target);
  return request->body != NULL ? 0 : -1;
}

void ef_poll_request_clear(ef_request *request) {
  json_object_put(request->body);
  request->body = NULL;
}

void ef_poll_deliver(const ef_answer *answer, const ef_poll_target *target,
                     ef_reading_cb cb, void *ctx) {
  ef_reading reading = {.target = target,
                        .time_ms = answer->received_ms,
                        .server_time_ms = answer->server_time_ms};
  ef_error error = answer->error;
  if (error.kind != EF_OK) {
    reading.error = &error;
  } else if (answer->data == NULL ||
             !json_object_is_type(answer->data, json_type_object)) {
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
    reading.data = answer->data;
  }
  cb(&reading, ctx);
}

typedef struct {
  ef_reading_cb cb;
  void *ctx;
} poll_batch;

static void on_answer(const ef_answer *answer, void *ctx) {
  poll_batch *batch = ctx;
  ef_poll_deliver(answer, answer->request->user, batch->cb, batch->ctx);
}

int ef_poll_quotas(ef_client *client, const ef_poll_target *targets, size_t n,
                   ef_reading_cb cb, void *ctx, ef_error *err) {
  ef_request *requests = calloc(n ? n : 1, sizeof(*requests));
  int status = requests != NULL ? 0 : -1;
  for (size_t i = 0; status == 0 && i < n; i++) {
    requests[i].user = (void *)&targets[i];
    status = ef_poll_request(&requests[i], &targets[i]);
  }
  if (status == 0) {
    poll_batch batch = {.cb = cb, .ctx = ctx};
    status = ef_client_run(client, requests, n, on_answer, &batch, err);
  } else {
    /* Every target still hears of it. */
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
      cb(&(ef_reading){.target = &targets[i],
                       .error = err,
                       .time_ms = ef_now_ms()},
         ctx);
  }
  for (size_t i = 0; requests != NULL && i < n; i++)
    ef_poll_request_clear(&requests[i]);
  free(requests);
  return status;
}
