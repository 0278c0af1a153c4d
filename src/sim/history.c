/* history.c: energy summaries over a window of simulated time. */
#include "history.h"

#include "clock.h"
#include "model.h"
#include "number.h"
#include "sim.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MAX_SPAN_S (7 * 86400)

/* What happened over the window, kWh unless said otherwise. */
typedef struct {
  double solar, home, to_battery, from_battery, from_grid, to_grid,
      solar_to_heating_rod, solar_to_heat_pump, solar_to_home,
      solar_share_of_home, self_sufficiency_pct;
} summary;

/* The reference's index names, in its order. */
static const struct {
  const char *name;
  size_t field;
  int decimals;
  const char *unit;
} summary_indexes[] = {
    {"pv_to_powerglow", offsetof(summary, solar_to_heating_rod), 2, "kWh"},
    {"From Solar", offsetof(summary, solar), 2, "kWh"},
    {"Self-sufficiency", offsetof(summary, self_sufficiency_pct), 2, "%"},
    {"pv_to_powerplus", offsetof(summary, solar_to_home), 2, "kWh"},
    {"pv_to_heatpump", offsetof(summary, solar_to_heat_pump), 2, "kWh"},
    /* A fraction despite its unit, as in the reference. */
    {"pv_to_powerplus_pct", offsetof(summary, solar_share_of_home), 4, "%"},
    {"To Battery", offsetof(summary, to_battery), 2, "kWh"},
    {"From Battery", offsetof(summary, from_battery), 2, "kWh"},
    {"From Grid", offsetof(summary, from_grid), 2, "kWh"},
    {"To Grid", offsetof(summary, to_grid), 2, "kWh"},
    {"To Home", offsetof(summary, home), 2, "kWh"},
};

static void summarise(summary *s, uint64_t seed, int64_t begin, int64_t end) {
  sim_model from, to;
  sim_model_at(&from, seed, begin);
  sim_model_at(&to, seed, end);
  *s = (summary){
      .solar = (to.solar_wh - from.solar_wh) / 1000,
      .home = (to.load_wh - from.load_wh) / 1000,
      .to_battery = (to.charged_wh - from.charged_wh) / 1000,
      .from_battery = (to.discharged_wh - from.discharged_wh) / 1000,
      .from_grid = (to.grid_import_wh - from.grid_import_wh) / 1000,
      .to_grid = (to.grid_export_wh - from.grid_export_wh) / 1000,
      .solar_to_heating_rod = (to.rod_wh - from.rod_wh) / 1000,
  };
  s->solar_to_home =
      fmax(0, s->solar - s->to_grid - s->to_battery - s->solar_to_heating_rod);
  s->solar_share_of_home =
      s->home > 0 ? fmin(1, s->solar_to_home / s->home) : 0;
  s->self_sufficiency_pct =
      s->home > 0 ? 100 * fmax(0, 1 - s->from_grid / s->home) : 100;
}

static const char *text_param(struct json_object *params, const char *key) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(params, key, &value) ||
      !json_object_is_type(value, json_type_string))
    return NULL;
  return json_object_get_string(value);
}

void sim_history_quota_data(const sim_call *call, sim_reply *reply) {
  struct json_object *params = NULL;
  const char *code = NULL;
  const char *begin_text = NULL;
  const char *end_text = NULL;
  int64_t begin = 0;
  int64_t end = 0;
  if (json_object_object_get_ex(call->body, "params", &params)) {
    code = text_param(params, "code");
    begin_text = text_param(params, "beginTime");
    end_text = text_param(params, "endTime");
  }
  bool readable = code != NULL && code[0] != '\0' && begin_text != NULL &&
                  end_text != NULL &&
                  sim_clock_parse(begin_text, &begin) == 0 &&
                  sim_clock_parse(end_text, &end) == 0;
  const sim_ctx *ctx = call->ctx;
  /* Tests read the windows a client asked for from here. */
  if (ctx->verbose && readable)
    fprintf(stderr,
            "ecoflow-sim: quota/data sn=%s code=%s window %s .. %s "
            "span %" PRId64 " s\n",
            call->sn, code, begin_text, end_text, end - begin);
  if (!readable || end <= begin) {
    sim_reply_error(reply, SIM_ERR_PARAMS);
    return;
  }
  if (end - begin >= MAX_SPAN_S) {
    sim_reply_error(reply, SIM_ERR_SPAN);
    return;
  }
  summary s;
  summarise(&s, ctx->fleet.devices[call->device].seed, begin, end);
  struct json_object *indexes = json_object_new_array();
  for (size_t i = 0; indexes != NULL &&
                     i < sizeof(summary_indexes) / sizeof(*summary_indexes);
       i++) {
    struct json_object *index = json_object_new_object();
    if (index == NULL)
      continue;
    json_object_object_add(index, "indexName",
                           json_object_new_string(summary_indexes[i].name));
    json_object_object_add(
        index, "indexValue",
        sim_json_number(
            *(const double *)((const char *)&s + summary_indexes[i].field),
            summary_indexes[i].decimals));
    json_object_object_add(index, "unit",
                           json_object_new_string(summary_indexes[i].unit));
    json_object_array_add(indexes, index);
  }
  /* The inner envelope repeats the outer one, as the reference shows. */
  sim_reply_data(reply, indexes != NULL
                            ? sim_envelope_new("0", "Success", indexes)
                            : NULL);
}
