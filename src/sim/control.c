/* control.c: the /sim/ endpoints. */
#include "control.h"

#include "api.h"
#include "clock.h"
#include "number.h"
#include "sim.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

void sim_control_error(sim_reply *reply, unsigned status, const char *message) {
  struct json_object *error = json_object_new_object();
  if (error != NULL)
    json_object_object_add(error, "error", json_object_new_string(message));
  sim_reply_json(reply, status, error);
}

void sim_control_quota(const sim_call *call, sim_reply *reply) {
  sim_reply_json(
      reply, 200,
      sim_api_device_data(call->ctx, (size_t)call->device, call->now, NULL));
}

void sim_control_set_fault(const sim_call *call, sim_reply *reply) {
  const char *sn = sim_call_query(call, "sn");
  const char *spec = sim_call_query(call, "spec");
  if (sn == NULL || spec == NULL) {
    sim_control_error(reply, 400, "sn and spec are required");
    return;
  }
  ssize_t device = SIM_FAULT_ACCOUNT;
  if (strcmp(sn, SIM_FAULT_ACCOUNT_NAME) != 0 &&
      (device = sim_fleet_find(&call->ctx->fleet, sn)) < 0) {
    sim_control_error(reply, 404, "unknown sn");
    return;
  }
  sim_fault fault;
  char err[256];
  if (sim_fault_parse(spec, &fault, err, sizeof(err)) != 0) {
    sim_control_error(reply, 400, err);
    return;
  }
  sim_faults_set(call->ctx->faults, device, &fault);
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
