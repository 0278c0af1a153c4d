/* control.c: the /sim/ endpoints. */
#include "control.h"

#include "api.h"
#include "clock.h"
#include "number.h"
#include "sim.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_control_error(sim_reply *reply, unsigned status, const char *message) {
  struct json_object *error = json_object_new_object();
  if (error != NULL)
    json_object_object_add(error, "error", json_object_new_string(message));
  sim_reply_json(reply, status, error);
}

void sim_control_quota(const sim_call *call, sim_reply *reply) {
  sim_reply_json(reply, 200,
                 sim_api_device_data(call->ctx, (size_t)call->device, call->now,
                                     NULL, NULL));
}

void sim_control_set_fault(const sim_call *call, sim_reply *reply) {
  const char *sn = sim_call_query(call, "sn");
  const char *spec = sim_call_query(call, "spec");
  if (sn == NULL || spec == NULL) {
    sim_control_error(reply, 400, "sn and spec are required");
    return;
  }
  ssize_t device = sim_fault_slot(sn, sim_fleet_find(&call->ctx->fleet, sn));
  if (device == SIM_FAULT_NOWHERE) {
    sim_control_error(reply, 404, "unknown sn");
    return;
  }
  sim_fault fault;
  char err[256];
  if (sim_fault_parse(spec, &fault, err, sizeof(err)) != 0) {
    sim_control_error(reply, 400, err);
    return;
  }
  bool was_online =
      sim_faults_get(call->ctx->faults, device).kind != SIM_FAULT_OFFLINE;
  sim_faults_set(call->ctx->faults, device, &fault);
  bool online = fault.kind != SIM_FAULT_OFFLINE;
  /* A device going offline or coming back says so on its status topic. */
  if (call->ctx->mqtt != NULL && device >= 0 && online != was_online)
    sim_mqtt_online_changed(call->ctx->mqtt, (size_t)device, online);
  struct json_object *answer = json_object_new_object();
  if (answer != NULL) {
    json_object_object_add(answer, "sn", json_object_new_string(sn));
    json_object_object_add(answer, "fault", json_object_new_string(spec));
  }
  sim_reply_json(reply, 200, answer);
}

void sim_control_stats(const sim_call *call, sim_reply *reply) {
  sim_reply_json(reply, 200,
                 sim_stats_json(call->ctx->stats, &call->ctx->fleet));
}

void sim_control_reset_stats(const sim_call *call, sim_reply *reply) {
  sim_stats_reset(call->ctx->stats);
  sim_control_stats(call, reply);
}

void sim_control_clock(const sim_call *call, sim_reply *reply) {
  (void)call;
  int64_t now_ms = sim_clock_now_ms();
  int64_t now = sim_clock_now();
  char text[SIM_TIME_TEXT_SIZE];
  sim_clock_format(now, text);
  struct json_object *clock = json_object_new_object();
  if (clock != NULL) {
    json_object_object_add(clock, "now", json_object_new_int64(now));
    json_object_object_add(clock, "now_ms", json_object_new_int64(now_ms));
    json_object_object_add(clock, "time", json_object_new_string(text));
    json_object_object_add(clock, "frozen",
                           json_object_new_boolean(sim_clock_is_frozen()));
  }
  sim_reply_json(reply, 200, clock);
}

void sim_control_set_clock(const sim_call *call, sim_reply *reply) {
  const char *at = sim_call_query(call, "at");
  const char *advance = sim_call_query(call, "advance");
  const char *run = sim_call_query(call, "run");
  long long seconds = 0;
  if (at != NULL && sim_parse_integer(at, 0, SIM_CLOCK_MAX, &seconds) == 0)
    sim_clock_freeze(seconds);
  else if (advance != NULL && sim_parse_integer(advance, -SIM_CLOCK_MAX,
                                                SIM_CLOCK_MAX, &seconds) == 0)
    sim_clock_advance(seconds);
  else if (run != NULL)
    sim_clock_run();
  else {
    sim_control_error(reply, 400,
                      "expected at=UNIX_SECONDS, advance=SECONDS or run=1");
    return;
  }
  sim_control_clock(call, reply);
}

/* The publisher, or NULL after refusing the request. */
static sim_mqtt *publisher(const sim_call *call, sim_reply *reply) {
  if (call->ctx->mqtt == NULL)
    sim_control_error(reply, 409,
                      "no MQTT publisher: start ecoflow-sim with "
                      "--mqtt-publisher");
  return call->ctx->mqtt;
}

void sim_control_mqtt(const sim_call *call, sim_reply *reply) {
  sim_mqtt *mqtt = publisher(call, reply);
  if (mqtt != NULL)
    sim_reply_json(reply, 200, sim_mqtt_state(mqtt));
}

/* status=0|1, or -1 when not given; -2 for anything else. */
static int status_argument(const sim_call *call) {
  const char *text = sim_call_query(call, "status");
  long long status = -1;
  if (text != NULL && sim_parse_integer(text, 0, 1, &status) != 0)
    return -2;
  return (int)status;
}

void sim_control_mqtt_publish(const sim_call *call, sim_reply *reply) {
  sim_mqtt *mqtt = publisher(call, reply);
  if (mqtt == NULL)
    return;
  const char *shape = sim_call_query(call, "shape");
  sim_mqtt_message message = {.group = sim_call_query(call, "group"),
                              .status = status_argument(call)};
  if (shape == NULL || !sim_msg_shape_parse(shape, &message.shape) ||
      message.status == -2) {
    sim_control_error(reply, 400,
                      "expected shape=typecode|cmdfunc|status, and status=0|1 "
                      "if any");
    return;
  }
  sim_mqtt_sent sent;
  char err[256];
  unsigned status = sim_mqtt_publish(mqtt, (size_t)call->device, &message,
                                     &sent, err, sizeof(err));
  if (status != 0) {
    sim_control_error(reply, status, err);
    return;
  }
  struct json_object *answer = json_object_new_object();
  if (answer != NULL) {
    json_object_object_add(answer, "topic", json_object_new_string(sent.topic));
    json_object_object_add(answer, "payload",
                           json_object_new_string(sent.payload));
    json_object_object_add(answer, "shape", json_object_new_string(shape));
    json_object_object_add(answer, "group", json_object_new_string(sent.group));
    json_object_object_add(answer, "id",
                           json_object_new_int64((int64_t)sent.id));
  }
  free(sent.topic);
  free(sent.payload);
  sim_reply_json(reply, 200, answer);
}

static const struct {
  const char *name;
  sim_mqtt_shapes shapes;
} shapes_arguments[] = {
    {"mixed", SIM_MQTT_MIXED},
    {"typecode", SIM_MQTT_TYPECODE_ONLY},
    {"cmdfunc", SIM_MQTT_CMDFUNC_ONLY},
};

void sim_control_mqtt_periodic(const sim_call *call, sim_reply *reply) {
  sim_mqtt *mqtt = publisher(call, reply);
  if (mqtt == NULL)
    return;
  const char *every = sim_call_query(call, "every_ms");
  const char *shapes = sim_call_query(call, "shapes");
  long long every_ms = 0;
  size_t i = 0;
  while (shapes != NULL &&
         i < sizeof(shapes_arguments) / sizeof(*shapes_arguments) &&
         strcmp(shapes, shapes_arguments[i].name) != 0)
    i++;
  if (every == NULL ||
      sim_parse_integer(every, 0, SIM_MQTT_MAX_PERIOD_MS, &every_ms) != 0 ||
      i == sizeof(shapes_arguments) / sizeof(*shapes_arguments)) {
    sim_control_error(reply, 400,
                      "expected every_ms=N (0 stops) and shapes=mixed|"
                      "typecode|cmdfunc if any");
    return;
  }
  sim_mqtt_set_period(mqtt, (unsigned)every_ms, shapes_arguments[i].shapes);
  sim_control_mqtt(call, reply);
}

void sim_control_mqtt_silent(const sim_call *call, sim_reply *reply) {
  sim_mqtt *mqtt = publisher(call, reply);
  if (mqtt == NULL)
    return;
  const char *on = sim_call_query(call, "on");
  long long silent = 1;
  if (on != NULL && sim_parse_integer(on, 0, 1, &silent) != 0) {
    sim_control_error(reply, 400, "expected on=1 or on=0");
    return;
  }
  sim_mqtt_set_silent(mqtt, (size_t)call->device, silent != 0);
  sim_control_mqtt(call, reply);
}
