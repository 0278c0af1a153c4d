/* api.c: device/list, quota/all, quota and certification. */
#include "api.h"

#include "devices.h"
#include "groups.h"
#include "number.h"
#include "sim.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* Decimals a stepped-back counter keeps when it had a fraction. */
#define GLITCH_DECIMALS 6

/* Steps the fault's quota of data back; returns whether there was one. */
static bool step_back(struct json_object *data, const sim_fault *fault) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(data, fault->quota, &value) ||
      !(json_object_is_type(value, json_type_int) ||
        json_object_is_type(value, json_type_double)))
    return false;
  bool whole = json_object_is_type(value, json_type_int);
  json_object_object_add(
      data, fault->quota,
      sim_json_number(json_object_get_double(value) - fault->step,
                      whole ? 0 : GLITCH_DECIMALS));
  return true;
}

struct json_object *sim_api_device_data(const sim_ctx *ctx, size_t device,
                                        int64_t now, const char *group,
                                        char *glitched) {
  sim_fault fault = sim_faults_get(ctx->faults, (ssize_t)device);
  int64_t t = fault.kind == SIM_FAULT_OFFLINE ? fault.since : now;
  struct json_object *data =
      sim_device_quotas(&ctx->fleet.devices[device], t, group);
  bool stepped = data != NULL && fault.kind == SIM_FAULT_COUNTERBACK &&
                 step_back(data, &fault);
  char set_first[SIM_GLITCH_PATH_SIZE] = "";
  bool set = data != NULL &&
             sim_fault_set_values(&fault, data, set_first, sizeof(set_first));
  if (glitched != NULL)
    snprintf(glitched, SIM_GLITCH_PATH_SIZE, "%s",
             stepped ? fault.quota
             : set   ? set_first
                     : "");
  return data;
}

void sim_api_glitch_delivered(const sim_ctx *ctx, size_t device) {
  sim_faults_delivered(ctx->faults, (ssize_t)device);
}

void sim_api_device_list(const sim_call *call, sim_reply *reply) {
  const sim_ctx *ctx = call->ctx;
  struct json_object *list = json_object_new_array_ext((int)ctx->fleet.len);
  for (size_t i = 0; list != NULL && i < ctx->fleet.len; i++) {
    const sim_device *device = &ctx->fleet.devices[i];
    sim_fault fault = sim_faults_get(ctx->faults, (ssize_t)i);
    struct json_object *entry = json_object_new_object();
    if (fault.kind == SIM_FAULT_UNLISTED || entry == NULL) {
      json_object_put(entry);
      continue;
    }
    json_object_object_add(entry, "sn", json_object_new_string(device->sn));
    json_object_object_add(entry, "deviceName",
                           json_object_new_string(device->name));
    json_object_object_add(
        entry, "online",
        json_object_new_int(fault.kind == SIM_FAULT_OFFLINE ? 0 : 1));
    const char *product = sim_family_product_name(device->family);
    if (product != NULL && !device->hides_product_name)
      json_object_object_add(entry, "productName",
                             json_object_new_string(product));
    sim_fault_list_entry(&fault, entry);
    json_object_array_add(list, entry);
  }
  sim_reply_data(reply, list);
}

void sim_api_quota_all(const sim_call *call, sim_reply *reply) {
  char glitched[SIM_GLITCH_PATH_SIZE];
  struct json_object *data = sim_api_device_data(
      call->ctx, (size_t)call->device, call->now, NULL, glitched);
  if (data != NULL && glitched[0] != '\0')
    sim_api_glitch_delivered(call->ctx, (size_t)call->device);
  sim_reply_data(reply, data);
}

void sim_api_quota(const sim_call *call, sim_reply *reply) {
  struct json_object *params = NULL;
  struct json_object *quotas = NULL;
  if (!json_object_object_get_ex(call->body, "params", &params) ||
      !json_object_object_get_ex(params, "quotas", &quotas) ||
      !json_object_is_type(quotas, json_type_array)) {
    sim_reply_error(reply, SIM_ERR_PARAMS);
    return;
  }
  char glitched[SIM_GLITCH_PATH_SIZE];
  struct json_object *flat = sim_api_device_data(
      call->ctx, (size_t)call->device, call->now, NULL, glitched);
  struct json_object *data = json_object_new_object();
  size_t count = json_object_array_length(quotas);
  bool glitch_sent = false;
  for (size_t i = 0; flat != NULL && data != NULL && i < count; i++) {
    const char *quota =
        json_object_get_string(json_object_array_get_idx(quotas, i));
    /* A top-level quota answers as itself, a group nested. */
    if (quota == NULL || !sim_group_add(data, flat, quota))
      continue;
    glitch_sent = glitch_sent || strcmp(quota, glitched) == 0 ||
                  sim_group_has(quota, glitched);
  }
  if (glitch_sent && data != NULL)
    sim_api_glitch_delivered(call->ctx, (size_t)call->device);
  if (flat == NULL) {
    json_object_put(data);
    data = NULL;
  }
  json_object_put(flat);
  sim_reply_data(reply, data);
}

/* The password certification hands out: the password file's as it is now,
 * else the one of the start. A new string. */
static char *certificate_password(const sim_ctx *ctx) {
  static const char *const names[] = {"certificate_password"};
  char *password = NULL;
  char **const slots[] = {&password};
  char err[256];
  if (ctx->mqtt_password_file != NULL &&
      sim_keys_read_file(ctx->mqtt_password_file, names, slots, 1, err,
                         sizeof(err)) != 0)
    fprintf(stderr, "ecoflow-sim: certification: %s\n", err);
  return password != NULL ? password : strdup(ctx->mqtt_password);
}

void sim_api_certification(const sim_call *call, sim_reply *reply) {
  const sim_ctx *ctx = call->ctx;
  char *password = certificate_password(ctx);
  char port[8];
  snprintf(port, sizeof(port), "%u", ctx->mqtt_port);
  struct json_object *data = password != NULL ? json_object_new_object() : NULL;
  if (data != NULL) {
    json_object_object_add(data, "certificateAccount",
                           json_object_new_string(ctx->mqtt_account));
    json_object_object_add(data, "certificatePassword",
                           json_object_new_string(password));
    json_object_object_add(data, "url", json_object_new_string(ctx->mqtt_host));
    json_object_object_add(data, "port", json_object_new_string(port));
    json_object_object_add(data, "protocol", json_object_new_string("mqtts"));
  }
  sim_keys_wipe(password);
  sim_reply_data(reply, data);
}
