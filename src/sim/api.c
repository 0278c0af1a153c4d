/* api.c: device/list, quota/all, quota and certification. */
#include "api.h"

#include "devices.h"
#include "model.h"
#include "sim.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

struct json_object *sim_api_device_data(const sim_ctx *ctx, size_t device,
                                        int64_t now) {
  sim_fault fault = sim_faults_get(ctx->faults, (ssize_t)device);
  int64_t t = fault.kind == SIM_FAULT_OFFLINE ? fault.since : now;
  return sim_device_quotas(&ctx->fleet.devices[device], t);
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
    json_object_array_add(list, entry);
  }
  sim_reply_data(reply, list);
}

void sim_api_quota_all(const sim_call *call, sim_reply *reply) {
  sim_reply_data(
      reply, sim_api_device_data(call->ctx, (size_t)call->device, call->now));
}

/* The quotas of a flat group, "pcsAPhase.vol" and so on, nested as
 * {"vol":..}; NULL when the group has none. */
static struct json_object *group_of(struct json_object *flat,
                                    const char *group) {
  size_t len = strlen(group);
  struct json_object *nested = NULL;
  json_object_object_foreach(flat, key, value) {
    if (strncmp(key, group, len) != 0 || key[len] != '.')
      continue;
    if (nested == NULL && (nested = json_object_new_object()) == NULL)
      return NULL;
    json_object_object_add(nested, key + len + 1, json_object_get(value));
  }
  return nested;
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
  struct json_object *flat =
      sim_api_device_data(call->ctx, (size_t)call->device, call->now);
  struct json_object *data = json_object_new_object();
  size_t count = json_object_array_length(quotas);
  for (size_t i = 0; flat != NULL && data != NULL && i < count; i++) {
    const char *quota =
        json_object_get_string(json_object_array_get_idx(quotas, i));
    struct json_object *value = NULL;
    /* A top-level quota answers as itself, a group nested. */
    if (quota == NULL)
      continue;
    if (json_object_object_get_ex(flat, quota, &value))
      json_object_object_add(data, quota, json_object_get(value));
    else if ((value = group_of(flat, quota)) != NULL)
      json_object_object_add(data, quota, value);
  }
  if (flat == NULL) {
    json_object_put(data);
    data = NULL;
  }
  json_object_put(flat);
  sim_reply_data(reply, data);
}

void sim_api_certification(const sim_call *call, sim_reply *reply) {
  const sim_ctx *ctx = call->ctx;
  /* Stable per account, as the cloud's are, so a test broker can be set up
   * with them after one call. */
  uint64_t account = sim_model_seed(SIM_SEED_START, ctx->keys.access_key);
  char user[32];
  char password[48];
  char port[8];
  snprintf(user, sizeof(user), "open-%016" PRIx64, account);
  snprintf(password, sizeof(password), "%016" PRIx64 "%016" PRIx64,
           sim_model_seed(account, "password"),
           sim_model_seed(account, "salt"));
  snprintf(port, sizeof(port), "%u", ctx->mqtt_port);
  struct json_object *data = json_object_new_object();
  if (data != NULL) {
    json_object_object_add(data, "certificateAccount",
                           json_object_new_string(user));
    json_object_object_add(data, "certificatePassword",
                           json_object_new_string(password));
    json_object_object_add(data, "url", json_object_new_string(ctx->mqtt_host));
    json_object_object_add(data, "port", json_object_new_string(port));
    json_object_object_add(data, "protocol", json_object_new_string("mqtts"));
  }
  sim_reply_data(reply, data);
}
