/* message.c: quota and status messages. */
#include "message.h"

#include "groups.h"
#include "model.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_STYLE (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* What PowerOceans send in the cmdFunc shape. */
#define CMD_FUNC 96
#define CMD_ADDR "ems"
/* cmdIds are spread over this many values, one per group. */
#define CMD_IDS 64

static const char *const shape_names[] = {
    [SIM_MSG_TYPECODE] = "typecode",
    [SIM_MSG_CMDFUNC] = "cmdfunc",
    [SIM_MSG_STATUS] = "status",
};

bool sim_msg_shape_parse(const char *name, sim_msg_shape *shape) {
  for (size_t i = 0; i < sizeof(shape_names) / sizeof(*shape_names); i++)
    if (strcmp(name, shape_names[i]) == 0) {
      *shape = (sim_msg_shape)i;
      return true;
    }
  return false;
}

const char *sim_msg_shape_name(sim_msg_shape shape) {
  return shape_names[shape];
}

char *sim_msg_topic(const char *account, const char *sn, sim_msg_shape shape) {
  char *topic = NULL;
  if (asprintf(&topic, "/open/%s/%s/%s", account, sn,
               shape == SIM_MSG_STATUS ? "status" : "quota") < 0)
    return NULL;
  return topic;
}

/* The text of message, a new string; takes message. */
static char *text_of(struct json_object *message) {
  const char *text = message != NULL
                         ? json_object_to_json_string_ext(message, SERIAL_STYLE)
                         : NULL;
  char *copy = text != NULL ? strdup(text) : NULL;
  json_object_put(message);
  return copy;
}

static void add_envelope(struct json_object *message, struct json_object *id) {
  json_object_object_add(message, "id", id);
  json_object_object_add(message, "version", json_object_new_string("1.0"));
}

char *sim_msg_quota(struct json_object *flat, const char *group,
                    sim_msg_shape shape, uint64_t id) {
  struct json_object *params = json_object_new_object();
  struct json_object *message = json_object_new_object();
  if (params == NULL || message == NULL ||
      !sim_group_add(params, flat, group)) {
    json_object_put(params);
    json_object_put(message);
    return NULL;
  }
  add_envelope(message, json_object_new_int64((int64_t)id));
  if (shape == SIM_MSG_CMDFUNC) {
    /* Each group keeps one cmdId, as each report type does on a device. */
    uint64_t cmd_id = 1 + sim_model_seed(SIM_SEED_START, group) % CMD_IDS;
    json_object_object_add(message, "cmdFunc", json_object_new_int(CMD_FUNC));
    json_object_object_add(message, "cmdId",
                           json_object_new_int64((int64_t)cmd_id));
    json_object_object_add(message, "param", params);
    json_object_object_add(message, "addr", json_object_new_string(CMD_ADDR));
  } else {
    json_object_object_add(message, "moduleType", json_object_new_int(1));
    json_object_object_add(message, "typeCode", json_object_new_string(group));
    json_object_object_add(message, "params", params);
  }
  return text_of(message);
}

char *sim_msg_status(bool online, uint64_t id, int64_t now_ms) {
  char id_text[24];
  snprintf(id_text, sizeof(id_text), "%" PRIu64, id);
  struct json_object *message = json_object_new_object();
  struct json_object *params = json_object_new_object();
  if (message == NULL || params == NULL) {
    json_object_put(message);
    json_object_put(params);
    return NULL;
  }
  add_envelope(message, json_object_new_string(id_text));
  json_object_object_add(message, "timestamp", json_object_new_int64(now_ms));
  json_object_object_add(params, "status", json_object_new_int(online));
  json_object_object_add(message, "params", params);
  return text_of(message);
}
