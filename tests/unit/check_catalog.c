/* Unit tests of ef_catalog.c and ef_metric.c: what each quota becomes. */
#include "ef_catalog.h"
#include "ef_metric.h"
#include "ef_metric_memo.h"
#include "ef_path_hash.h"
#include "unit.h"

#include <json-c/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METRICS 64

/* A metric's names live during its callback only: each is copied. */
#define NAMES_PER_METRIC (5 + 2 * EF_MAX_TAGS)

typedef struct {
  size_t n;
  ef_metric metrics[MAX_METRICS];
  char texts[MAX_METRICS][EF_TEXT_LEN];
  char names[MAX_METRICS][NAMES_PER_METRIC][EF_NAME_LEN];
} captured;

static const char *keep_name(captured *out, size_t *used, const char *name) {
  if (name == NULL)
    return NULL;
  ck_assert_uint_lt(*used, NAMES_PER_METRIC);
  char *copy = out->names[out->n][(*used)++];
  ck_assert_uint_lt(strlen(name), EF_NAME_LEN);
  strcpy(copy, name);
  return copy;
}

static void capture(const ef_metric *metric, void *ctx) {
  captured *out = ctx;
  ck_assert_uint_lt(out->n, MAX_METRICS);
  ef_metric *kept = &out->metrics[out->n];
  size_t used = 0;
  /* A length told with a text is its own, and the text a JSON number's
   * (the front ends write it without a look). */
  if (metric->text_len != 0) {
    ck_assert_int_eq(metric->type, EF_VALUE_FLOAT);
    ck_assert_ptr_nonnull(metric->text);
    ck_assert_uint_eq(strlen(metric->text), metric->text_len);
    ck_assert_uint_eq(strspn(metric->text, "-0123456789"), metric->text_len);
  }
  *kept = *metric;
  kept->path = keep_name(out, &used, metric->path);
  kept->collectd_type = keep_name(out, &used, metric->collectd_type);
  kept->collectd_instance = keep_name(out, &used, metric->collectd_instance);
  kept->measurement = keep_name(out, &used, metric->measurement);
  kept->field = keep_name(out, &used, metric->field);
  for (size_t i = 0; i < metric->n_tags; i++) {
    kept->tags[i].key = keep_name(out, &used, metric->tags[i].key);
    kept->tags[i].value = keep_name(out, &used, metric->tags[i].value);
  }
  if (metric->text != NULL) {
    snprintf(out->texts[out->n], EF_TEXT_LEN, "%s", metric->text);
    kept->text = out->texts[out->n];
  }
  out->n++;
}

static void drop_metric(const ef_metric *metric, void *ctx) {
  (void)metric;
  (void)ctx;
}

/* A copy of memory, as it is now. */
static ef_value_memory memory_copy(const ef_value_memory *memory) {
  ef_value_memory copy = *memory;
  if (memory->counters_cap > 0) {
    copy.counters = malloc(memory->counters_cap * sizeof(ef_counter));
    ck_assert_ptr_nonnull(copy.counters);
    memcpy(copy.counters, memory->counters,
           memory->counters_cap * sizeof(ef_counter));
  }
  return copy;
}

static void same_text_or_null(const char *a, const char *b) {
  ck_assert_msg((a == NULL) == (b == NULL), "%s against %s", a ? a : "NULL",
                b ? b : "NULL");
  if (a != NULL)
    ck_assert_str_eq(a, b);
}

/* y has x's line-protocol names: measurement, field and tags. */
static void same_names(const ef_metric *x, const ef_metric *y) {
  ck_assert_str_eq(y->measurement, x->measurement);
  ck_assert_str_eq(y->field, x->field);
  ck_assert_uint_eq(y->n_tags, x->n_tags);
  for (size_t t = 0; t < x->n_tags; t++) {
    ck_assert_str_eq(y->tags[t].key, x->tags[t].key);
    ck_assert_str_eq(y->tags[t].value, x->tags[t].value);
  }
}

/* Every metric of b is that of a, in every part. */
static void same_metrics(const captured *a, const captured *b) {
  ck_assert_uint_eq(b->n, a->n);
  for (size_t i = 0; i < a->n; i++) {
    const ef_metric *x = &a->metrics[i], *y = &b->metrics[i];
    ck_assert_ptr_eq(y->quota, x->quota);
    ck_assert_str_eq(y->path, x->path);
    ck_assert_uint_eq(y->type, x->type);
    ck_assert(memcmp(&y->number, &x->number, sizeof(double)) == 0);
    ck_assert(y->integer == x->integer);
    same_text_or_null(y->text, x->text);
    same_text_or_null(y->collectd_type, x->collectd_type);
    same_text_or_null(y->collectd_instance, x->collectd_instance);
    ck_assert(memcmp(&y->collectd_value, &x->collectd_value, sizeof(double)) ==
              0);
    same_names(x, y);
  }
}

/* New keys enough to fill a memo: half as many again as it keeps, since a
 * key whose hash's slot is too crowded is not kept, and how many are
 * depends on the hash. */
#define FLOOD_KEYS (EF_METRIC_MEMO_PATHS * 3 / 2)

/* The metrics of data under policy, with a memo (ef_metric_memo.h) that
 * sees its paths first, then again, then after filling up with other
 * paths: each time what out holds, made without one. memory: the device's
 * memory as it was before out was made. */
static void memo_changes_nothing(struct json_object *data,
                                 const ef_metric_policy *policy,
                                 const ef_value_memory *memory,
                                 const captured *out) {
  ef_metric_memo *memo = ef_metric_memo_new();
  ck_assert_ptr_nonnull(memo);
  captured *with_memo = calloc(1, sizeof(*with_memo));
  ck_assert_ptr_nonnull(with_memo);
  for (int round = 0; round < 3; round++) {
    if (round == 2) {
      /* Paths enough to fill it: it begins again, and still gives the
       * same. */
      struct json_object *others = json_object_new_object();
      char key[32];
      for (int i = 0; i < FLOOD_KEYS; i++) {
        snprintf(key, sizeof(key), "other%d", i);
        json_object_object_add(others, key, json_object_new_int(i + 1));
      }
      ef_metric_policy fill = {.memo = memo};
      ck_assert_int_eq(
          ef_metrics_of_json(others, &fill, drop_metric, NULL, NULL), 0);
      json_object_put(others);
    }
    ef_metric_policy with = policy ? *policy : (ef_metric_policy){0};
    ef_value_memory copy = {0};
    if (policy != NULL && policy->memory != NULL) {
      copy = memory_copy(memory);
      with.memory = &copy;
    }
    with.memo = memo;
    memset(with_memo, 0, sizeof(*with_memo));
    ck_assert_int_eq(ef_metrics_of_json(data, &with, capture, with_memo, NULL),
                     0);
    ef_value_memory_clear(&copy);
    same_metrics(out, with_memo);
  }
  free(with_memo);
  ef_metric_memo_free(memo);
}

/* The metrics of json under policy, walked straight from the parsed JSON
 * (every poll's path); the same from kept samples (the pushed state's)
 * must give the same, from the device's memory as it was before; and so
 * must a memo of paths. */
static ef_metric_stats
metrics_under(const char *json, const ef_metric_policy *policy, captured *out) {
  ef_value_memory before = {0}, pristine = {0};
  ef_metric_policy again_policy = policy ? *policy : (ef_metric_policy){0};
  if (policy != NULL && policy->memory != NULL) {
    before = memory_copy(policy->memory);
    pristine = memory_copy(policy->memory);
    again_policy.memory = &before;
  }
  struct json_object *data = json_tokener_parse(json);
  ck_assert_ptr_nonnull(data);
  memset(out, 0, sizeof(*out));
  ef_metric_stats stats = {0};
  ck_assert_int_eq(ef_metrics_of_json(data, policy, capture, out, &stats), 0);
  memo_changes_nothing(data, policy, &pristine, out);
  ef_value_memory_clear(&pristine);
  json_object_put(data);

  ef_samples samples = {0};
  ck_assert_int_eq(ef_samples_add_text(&samples, json), 0);
  captured *again = calloc(1, sizeof(*again));
  ef_metric_stats stats_again = {0};
  ef_metrics_each(&samples, &again_policy, capture, again, &stats_again);
  ef_samples_clear(&samples);
  ef_value_memory_clear(&before);
  ck_assert_uint_eq(again->n, out->n);
  for (size_t i = 0; i < out->n; i++) {
    ck_assert_str_eq(again->metrics[i].path, out->metrics[i].path);
    ck_assert_uint_eq(again->metrics[i].type, out->metrics[i].type);
  }
  ck_assert_uint_eq(stats_again.published, stats.published);
  ck_assert_uint_eq(stats_again.implausible, stats.implausible);
  free(again);
  return stats;
}

static ef_metric_stats metrics_of(const char *json, captured *out) {
  return metrics_under(json, NULL, out);
}

static const ef_metric *by_field(const captured *out, const char *measurement,
                                 const char *field) {
  for (size_t i = 0; i < out->n; i++)
    if (strcmp(out->metrics[i].measurement, measurement) == 0 &&
        strcmp(out->metrics[i].field, field) == 0)
      return &out->metrics[i];
  ck_abort_msg("no metric %s %s", measurement, field);
  return NULL;
}

/* Every quota of the reference document, flat as quota/all sends it, with
 * the collectd and line-protocol names it must get. */
static const struct {
  const char *path;
  const char *json_value;
  const char *collectd; /* type-instance */
  const char *measurement;
  const char *tag; /* "key=value" or NULL */
  const char *field;
} reference[] = {
    {"mpptPwr", "0", "power-pv", "ecoflow", NULL, "pv_power"},
    {"bpSoc", "42", "percent-battery_soc", "ecoflow", NULL, "battery_soc"},
    {"bpPwr", "-104", "power-battery", "ecoflow", NULL, "battery_power"},
    {"sysLoadPwr", "101", "power-load", "ecoflow", NULL, "load_power"},
    {"sysGridPwr", "-3", "power-grid", "ecoflow", NULL, "grid_power"},
    {"pcsAPhase.vol", "229.70134", "voltage-phase_a", "ecoflow_phase",
     "phase=a", "voltage"},
    {"pcsBPhase.amp", "3.2976089", "current-phase_b", "ecoflow_phase",
     "phase=b", "current"},
    {"pcsCPhase.actPwr", "-776.1484", "power-phase_c", "ecoflow_phase",
     "phase=c", "active_power"},
    {"pcsAPhase.reactPwr", "173.24965", "gauge-phase_a_reactive_power_var",
     "ecoflow_phase", "phase=a", "reactive_power"},
    {"pcsBPhase.apparentPwr", "756.7776", "gauge-phase_b_apparent_power_va",
     "ecoflow_phase", "phase=b", "apparent_power"},
    {"sectorA.tempCurr", "22.5", "temperature-zone_a", "ecoflow_heating_zone",
     "zone=a", "temperature"},
    {"sectorB.tempCurr", "22.7", "temperature-zone_b", "ecoflow_heating_zone",
     "zone=b", "temperature"},
    {"sectorDhw.tempCurr", "22.5", "temperature-zone_dhw",
     "ecoflow_heating_zone", "zone=dhw", "temperature"},
    {"hpMaster.tempInlet", "22.5", "temperature-inlet", "ecoflow_heat_pump",
     NULL, "inlet_temperature"},
    {"hpMaster.tempOutlet", "22.5", "temperature-outlet", "ecoflow_heat_pump",
     NULL, "outlet_temperature"},
    {"hpMaster.tempAmbient", "7.5", "temperature-ambient", "ecoflow_heat_pump",
     NULL, "ambient_temperature"},
    {"evPwr", "0", "power-ev_charger", "ecoflow", NULL, "ev_power"},
};

START_TEST(reference_quotas_are_named) {
  for (size_t i = 0; i < sizeof(reference) / sizeof(reference[0]); i++) {
    char json[256];
    snprintf(json, sizeof(json), "{\"%s\":%s}", reference[i].path,
             reference[i].json_value);
    captured out;
    metrics_of(json, &out);
    /* Signed flows also give their two derived values (below). */
    size_t derived = ef_catalog_derived(
        ef_catalog_lookup(reference[i].path, NULL), &(const ef_quota *){0});
    ck_assert_msg(out.n == 1 + derived, "%s: %zu metrics", reference[i].path,
                  out.n);
    const ef_metric *m = &out.metrics[0];
    ck_assert_ptr_nonnull(m->quota);
    char collectd[2 * EF_NAME_LEN + 2];
    snprintf(collectd, sizeof(collectd), "%s-%s", m->collectd_type,
             m->collectd_instance);
    ck_assert_str_eq(collectd, reference[i].collectd);
    ck_assert_str_eq(m->measurement, reference[i].measurement);
    ck_assert_str_eq(m->field, reference[i].field);
    ck_assert_int_eq(m->type, EF_VALUE_FLOAT);
    ck_assert_str_eq(m->text, reference[i].json_value);
    ck_assert_double_eq(m->number, strtod(reference[i].json_value, NULL));
    if (reference[i].tag == NULL) {
      ck_assert_uint_eq(m->n_tags, 0);
    } else {
      char tag[2 * EF_NAME_LEN + 2];
      ck_assert_uint_eq(m->n_tags, 1);
      snprintf(tag, sizeof(tag), "%s=%s", m->tags[0].key, m->tags[0].value);
      ck_assert_str_eq(tag, reference[i].tag);
    }
  }
}
END_TEST

START_TEST(pv_strings_and_rods_are_tagged) {
  captured out;
  metrics_of("{\"mpptHeartBeat\":[{\"mpptPv\":[{\"vol\":0,\"amp\":0.085432455,"
             "\"pwr\":0},{\"vol\":26.255978,\"amp\":0,\"pwr\":0}]}],"
             "\"hrEnergyStream\":[{\"temp\":22,\"hrPwr\":0}]}",
             &out);
  ck_assert_uint_eq(out.n, 8);
  const ef_metric *vol = &out.metrics[3];
  ck_assert_str_eq(vol->path, "mpptHeartBeat[0].mpptPv[1].vol");
  ck_assert_str_eq(vol->collectd_instance, "mppt0_pv1");
  ck_assert_str_eq(vol->measurement, "ecoflow_pv");
  ck_assert_uint_eq(vol->n_tags, 2);
  ck_assert_str_eq(vol->tags[0].key, "mppt");
  ck_assert_str_eq(vol->tags[0].value, "0");
  ck_assert_str_eq(vol->tags[1].key, "pv");
  ck_assert_str_eq(vol->tags[1].value, "1");
  ck_assert_str_eq(vol->text, "26.255978");
  const ef_metric *rod =
      by_field(&out, "ecoflow_heating_rod", "water_temperature");
  ck_assert_str_eq(rod->collectd_type, "temperature");
  ck_assert_str_eq(rod->collectd_instance, "heating_rod0");
}
END_TEST

START_TEST(battery_packs_stay_apart) {
  captured out;
  metrics_of("{\"bp_addr.HJ32A\":\"{\\\"bpSoc\\\":81,\\\"bpSoh\\\":99.5,"
             "\\\"bpCycles\\\":12}\",\"bp_addr.HJ32B\":\"{\\\"bpSoc\\\":79}\"}",
             &out);
  ck_assert_uint_eq(out.n, 4);
  ck_assert_str_eq(out.metrics[0].collectd_instance, "pack_HJ32A_soc");
  ck_assert_str_eq(out.metrics[1].collectd_instance, "pack_HJ32A_soh");
  ck_assert_str_eq(out.metrics[2].collectd_type, "count");
  ck_assert_str_eq(out.metrics[2].collectd_instance, "pack_HJ32A_cycles");
  ck_assert_str_eq(out.metrics[3].collectd_instance, "pack_HJ32B_soc");
  ck_assert_str_eq(out.metrics[3].measurement, "ecoflow_battery_pack");
  ck_assert_str_eq(out.metrics[3].tags[0].value, "HJ32B");
  ck_assert_str_eq(out.metrics[3].field, "soc");
}
END_TEST

START_TEST(sentinels_are_no_reading) {
  captured out;
  ef_metric_stats stats = metrics_of(
      "{\"hpMaster.tempAmbient\":-3270,\"bpSoc\":65535,\"hpMaster.tempInlet\":"
      "-3270.0,\"bp_addr.P\":\"{\\\"bpSoc\\\":4294967295}\"}",
      &out);
  ck_assert_uint_eq(out.n, 0);
  ck_assert_uint_eq(stats.no_reading, 4);
  ck_assert_uint_eq(stats.implausible, 0);
}
END_TEST

/* The markers are no reading whatever row carries them: the catch-all
 * rows of a pack, quotas the catalog does not know, numbers sent as text,
 * a counter, the scaled forms; the numbers beside them pass. */
START_TEST(markers_are_no_reading_everywhere) {
  captured out;
  ef_metric_stats stats = metrics_of(
      "{\"bp_addr.P\":\"{\\\"bpEcloundSoc\\\":65535,"
      "\\\"bpRealSoh\\\":4294967295,\\\"bpHvMosTemp\\\":-3270,"
      "\\\"bpOther\\\":\\\"6553.5\\\",\\\"bpSub\\\":{\\\"x\\\":-327}}\","
      "\"ems_change_report.emsKeepSoc\":4294967295,\"96_1.invTemp\":-3270,"
      "\"96_1.pct\":429496729.5,\"20_1.v\":\"655.35\",\"20_1.w\":65.535,"
      "\"energy_stream.solarTotalEnergy\":4294967295,\"20_1.ok\":-32.7,"
      "\"pcs_change_report.invTemp\":-327.0}",
      &out);
  ck_assert_uint_eq(stats.no_reading, 12);
  ck_assert_uint_eq(out.n, 1);
  ck_assert_str_eq(out.metrics[0].field, "20_1_ok");
}
END_TEST

START_TEST(implausible_values_are_dropped) {
  captured out;
  ef_metric_stats stats =
      metrics_of("{\"mpptPwr\":1.48e28,\"bpSoc\":101,\"sectorA.tempCurr\":"
                 "\"warm\",\"sysLoadPwr\":\"250.5\",\"bpPwr\":1e999}",
                 &out);
  ck_assert_uint_eq(stats.implausible, 4);
  ck_assert_uint_eq(out.n, 1); /* a number sent as a string still counts */
  ck_assert_str_eq(out.metrics[0].field, "load_power");
  ck_assert_double_eq(out.metrics[0].number, 250.5);
  ck_assert_uint_eq(stats.published, 1);
}
END_TEST

START_TEST(error_lists_are_decoded) {
  captured out;
  metrics_of("{\"emsErrCode\":{\"errCode\":[601,602]}}", &out);
  ck_assert_uint_eq(out.n, 2);
  ck_assert_int_eq(out.metrics[0].type, EF_VALUE_INT);
  ck_assert_int_eq(out.metrics[0].integer, 2);
  ck_assert_str_eq(out.metrics[0].collectd_type, "count");
  ck_assert_str_eq(out.metrics[0].field, "ems_error_count");
  ck_assert_int_eq(out.metrics[1].type, EF_VALUE_STRING);
  ck_assert_str_eq(out.metrics[1].text, "601,602");
  ck_assert_str_eq(out.metrics[1].field, "ems_error_codes");
  ck_assert_str_eq(out.metrics[1].collectd_type, "");
}
END_TEST

START_TEST(error_bits_are_decoded) {
  captured out;
  metrics_of("{\"errorCode\":\"AAAAAAAAAAA=\"}", &out);
  ck_assert_uint_eq(out.n, 2);
  ck_assert_int_eq(out.metrics[0].integer, 0);
  ck_assert_str_eq(out.metrics[1].text, "");
  /* 0x05 0x00 0x80: bits 0, 2 and 23 */
  metrics_of("{\"errorCode\":\"BQCA\"}", &out);
  ck_assert_int_eq(out.metrics[0].integer, 3);
  ck_assert_str_eq(out.metrics[1].text, "0,2,23");
  ck_assert_str_eq(out.metrics[1].field, "ev_error_codes");
  ef_metric_stats stats = metrics_of("{\"errorCode\":\"not base64!\"}", &out);
  ck_assert_uint_eq(out.n, 0);
  ck_assert_uint_eq(stats.implausible, 1);
}
END_TEST

START_TEST(states_are_text) {
  captured out;
  metrics_of("{\" chargingStatus\":\"EV_CHG_STS_AVAILABLE\"}", &out);
  ck_assert_uint_eq(out.n, 1);
  ck_assert_int_eq(out.metrics[0].type, EF_VALUE_STRING);
  ck_assert_str_eq(out.metrics[0].text, "EV_CHG_STS_AVAILABLE");
  ck_assert_str_eq(out.metrics[0].field, "ev_charging_status");
  ck_assert_str_eq(out.metrics[0].collectd_type, "");
  /* A number is no state name: never text in the field of names. */
  ef_metric_stats stats =
      metrics_of("{\"ems_change_report.emsWorkMode\":\"1\",\"chargingStatus\""
                 ":2,\"x\":{\"emsWorkMode\":true}}",
                 &out);
  ck_assert_uint_eq(stats.implausible, 2);
  ck_assert_uint_eq(out.n, 1); /* x.emsWorkMode: no row names it */
  ck_assert_int_eq(out.metrics[0].type, EF_VALUE_FLOAT);
}
END_TEST

/* A fallback row stands in for its quota only when the device did not
 * send it: in this reading (before or after it), or ever (its memory). */
START_TEST(fallbacks_stand_in_once) {
  captured out;
  metrics_of("{\"ems_change_report\":{\"bpTotalChgEnergy\":5000},"
             "\"energy_stream\":{\"bpChgTotalEnergy\":5100},"
             "\"ems_heating_rod.heatingPower\":300}",
             &out);
  ck_assert_uint_eq(out.n, 2);
  const ef_metric *charged =
      by_field(&out, "ecoflow", "battery_charged_energy_total");
  ck_assert_str_eq(charged->path, "energy_stream.bpChgTotalEnergy");
  ck_assert_str_eq(charged->text, "5100");
  const ef_metric *rod = by_field(&out, "ecoflow_heating_rod", "power");
  ck_assert_str_eq(rod->path, "ems_heating_rod.heatingPower");
  ck_assert_str_eq(rod->collectd_instance, "heating_rod0");
  ck_assert_str_eq(rod->tags[0].value, "0");

  ef_value_memory memory = {0};
  ef_metric_policy policy = {.memory = &memory};
  metrics_under("{\"ems_change_report.bpTotalChgEnergy\":5000}", &policy, &out);
  ck_assert_uint_eq(out.n, 1);
  ck_assert_str_eq(out.metrics[0].field, "battery_charged_energy_total");
  metrics_under("{\"hrEnergyStream\":[{\"hrPwr\":20}],"
                "\"ems_ev.chargingStatus\":\"EV_CHG_STS_CHARGING\"}",
                &policy, &out);
  ck_assert_uint_eq(out.n, 2);
  /* The device sent hrEnergyStream once: its stand-in is not published. */
  metrics_under("{\"ems_heating_rod.heatingPower\":300,"
                "\"ems_ev.chargingStatus\":\"EV_CHG_STS_CHARGING\"}",
                &policy, &out);
  ck_assert_uint_eq(out.n, 1);
  ck_assert_str_eq(out.metrics[0].field, "ev_charging_status");
  ef_value_memory_clear(&memory);
}
END_TEST

/* collectd gets each value in the unit its type holds. */
START_TEST(collectd_units) {
  captured out;
  metrics_of("{\"bp_addr.P\":\"{\\\"bpCellMaxVol\\\":3505,"
             "\\\"bpFullCap\\\":100000,\\\"bpCellVol\\\":[3330]}\","
             "\"bpSoc\":50}",
             &out);
  const ef_metric *max =
      by_field(&out, "ecoflow_battery_pack", "cell_voltage_max_mv");
  ck_assert_str_eq(max->collectd_type, "voltage");
  ck_assert_str_eq(max->collectd_instance, "pack_P_cell_max");
  ck_assert_double_eq(max->number, 3505);
  ck_assert_double_eq(max->collectd_value, 3.505);
  const ef_metric *full =
      by_field(&out, "ecoflow_battery_pack", "full_capacity_mah");
  ck_assert_str_eq(full->collectd_type, "charge");
  ck_assert_double_eq(full->collectd_value, 100);
  const ef_metric *cell = by_field(&out, "ecoflow_battery_cell", "voltage_mv");
  ck_assert_str_eq(cell->collectd_instance, "pack_P_cell0");
  ck_assert_double_eq(cell->collectd_value, 3.33);
  ck_assert_double_eq(by_field(&out, "ecoflow", "battery_soc")->collectd_value,
                      50);
}
END_TEST

START_TEST(unknown_quotas_are_kept) {
  captured out;
  metrics_of("{\"20_1.invOutputWatts\":230.5,\"96_1.flagX\":true,"
             "\"newThing\":\"ON\",\"listy\":[1,2]}",
             &out);
  ck_assert_uint_eq(out.n, 5);
  ck_assert_ptr_null(out.metrics[0].quota);
  ck_assert_str_eq(out.metrics[0].measurement, "ecoflow_raw");
  ck_assert_str_eq(out.metrics[0].field, "20_1_inv_output_watts");
  ck_assert_str_eq(out.metrics[0].collectd_type, "gauge");
  ck_assert_str_eq(out.metrics[0].collectd_instance, "20_1_inv_output_watts");
  ck_assert_str_eq(out.metrics[0].text, "230.5");
  /* A flag is a float 0 or 1, as a number in its place would be. */
  ck_assert_int_eq(out.metrics[1].type, EF_VALUE_FLOAT);
  ck_assert_double_eq(out.metrics[1].number, 1);
  ck_assert_str_eq(out.metrics[1].text, "1");
  ck_assert_str_eq(out.metrics[1].collectd_type, "gauge");
  /* Text has a field of its own. */
  ck_assert_int_eq(out.metrics[2].type, EF_VALUE_STRING);
  ck_assert_str_eq(out.metrics[2].field, "new_thing_text");
  ck_assert_str_eq(out.metrics[2].collectd_type, "");
  /* Each number of a list is a value of its own. */
  ck_assert_str_eq(out.metrics[3].field, "listy_0");
  ck_assert_str_eq(out.metrics[3].collectd_instance, "listy_0");
  ck_assert_int_eq(out.metrics[3].type, EF_VALUE_FLOAT);
  ck_assert_str_eq(out.metrics[4].field, "listy_1");
  ck_assert_double_eq(out.metrics[4].number, 2);
}
END_TEST

START_TEST(generic_names) {
  char name[16];
  ef_metric_generic_name("mpptHeartBeat[0].mpptPv[1].pwr", name, sizeof(name));
  ck_assert_str_eq(name, "mppt_heart_beat"); /* cut to the buffer */
  char long_name[EF_NAME_LEN];
  ef_metric_generic_name("mpptHeartBeat[0].mpptPv[1].pwr", long_name,
                         sizeof(long_name));
  ck_assert_str_eq(long_name, "mppt_heart_beat_0_mppt_pv_1_pwr");
  ef_metric_generic_name("..", long_name, sizeof(long_name));
  ck_assert_str_eq(long_name, "_");
}
END_TEST

/* The table's own consistency: what a typo in ef_catalog.def would break. */
START_TEST(catalog_rows_are_consistent) {
  ck_assert_uint_gt(ef_catalog_size(), 40);
  for (size_t i = 0; i < ef_catalog_size(); i++) {
    const ef_quota *q = ef_catalog_entry(i);
    ck_assert_msg(q->min <= q->max, "%s: range", q->pattern);
    ck_assert_msg(q->field[0] != '\0', "%s: field", q->pattern);
    ck_assert_msg(strchr(q->field, '-') == NULL, "%s: field", q->pattern);
    ck_assert_msg(q->collectd_type == NULL ||
                      strchr(q->collectd_type, '-') == NULL,
                  "%s: type", q->pattern);
    ck_assert_msg((q->decode == EF_DECODE_STATE) == (q->collectd_type == NULL),
                  "%s: only states lack a collectd type", q->pattern);
    /* Its names split once, as they are written in the table. */
    const ef_row_names *names = ef_catalog_names(q);
    ck_assert_msg(names->valid, "%s: tags \"%s\" malformed or too long",
                  q->pattern, q->tags);
    char tags[256] = "";
    for (size_t t = 0; t < names->n_tags; t++)
      snprintf(tags + strlen(tags), sizeof(tags) - strlen(tags), "%s%s=%s",
               t ? "," : "", names->tags[t].key, names->tags[t].value);
    ck_assert_str_eq(tags, q->tags);
    ck_assert_int_eq(names->field_captures, strchr(q->field, '{') != NULL);
    ck_assert_int_eq(names->instance_captures,
                     q->collectd_instance != NULL &&
                         strchr(q->collectd_instance, '{') != NULL);
    for (size_t t = 0; t < names->n_tags; t++)
      ck_assert_int_eq(names->tags[t].captures,
                       strchr(names->tags[t].value, '{') != NULL);
    if (ef_catalog_rule(q) != NULL) {
      /* A derived row follows its source, which has its pattern. */
      const ef_quota *source = ef_catalog_lookup(q->pattern, NULL);
      ck_assert_msg(source != NULL && source < q, "%s: derived from nothing",
                    q->field);
      const ef_quota *first;
      size_t n = ef_catalog_derived(source, &first);
      ck_assert_msg(q >= first && q < first + n, "%s: not next to its source",
                    q->field);
      continue;
    }
    ck_assert_msg(ef_catalog_lookup(q->pattern, NULL) == q ||
                      strchr(q->pattern, '{') != NULL,
                  "%s: shadowed by an earlier row", q->pattern);
    for (size_t j = 0; j < i; j++) {
      const ef_quota *other = ef_catalog_entry(j);
      ck_assert_msg(ef_catalog_rule(other) != NULL ||
                        strcmp(q->pattern, other->pattern) != 0,
                    "%s twice", q->pattern);
      /* One name, one quantity: only a fallback shares its primary's. */
      int same_measurement = strcmp(q->measurement, other->measurement) == 0;
      ck_assert_msg(
          !same_measurement || strcmp(q->field, other->field) != 0 ||
              strcmp(q->tags, other->tags) != 0 ||
              (q->primary != NULL && strcmp(q->primary, other->pattern) == 0),
          "%s and %s publish the same field", q->pattern, other->pattern);
    }
  }
  ck_assert_ptr_null(ef_catalog_entry(ef_catalog_size()));
}
END_TEST

/* A fallback row stands in for a row of the table, under its names, and
 * captures nothing (its value is kept whole until the reading's end). */
START_TEST(fallbacks_name_their_primary) {
  size_t fallbacks = 0;
  for (size_t i = 0; i < ef_catalog_size(); i++) {
    const ef_quota *q = ef_catalog_entry(i);
    if (q->primary == NULL)
      continue;
    fallbacks++;
    ck_assert_msg(strchr(q->pattern, '{') == NULL, "%s captures", q->pattern);
    int bit = ef_catalog_fallback_bit(q);
    ck_assert_msg(bit >= 0 && bit < EF_MAX_FALLBACKS, "%s: no bit", q->pattern);
    const ef_quota *primary = NULL;
    for (size_t j = 0; j < ef_catalog_size(); j++)
      if (strcmp(ef_catalog_entry(j)->pattern, q->primary) == 0 &&
          ef_catalog_entry(j)->primary == NULL)
        primary = ef_catalog_entry(j);
    ck_assert_msg(primary != NULL, "%s: no row %s", q->pattern, q->primary);
    ck_assert_int_eq(ef_catalog_primary_bit(primary), bit);
    ck_assert_int_eq(q->decode, primary->decode);
    ck_assert_str_eq(q->unit, primary->unit);
    ck_assert_str_eq(q->measurement, primary->measurement);
    ck_assert_str_eq(q->field, primary->field);
  }
  ck_assert_uint_ge(fallbacks, 5);
  ck_assert_int_eq(ef_catalog_fallback_bit(ef_catalog_lookup("bpSoc", NULL)),
                   -1);
}
END_TEST

/* Every collectd type holds its row's unit: volts under voltage, watts
 * under power (mV and mAh dispatched as V and Ah); a unit no type holds
 * goes as a gauge whose instance ends with it; percentages are 0-100. */
START_TEST(collectd_types_hold_their_units) {
  for (size_t i = 0; i < ef_catalog_size(); i++) {
    const ef_quota *q = ef_catalog_entry(i);
    if (q->collectd_type == NULL)
      continue;
    double divisor = ef_catalog_collectd_divisor(q);
    ck_assert_msg(divisor > 0, "%s: %s is no type for %s", q->pattern,
                  q->collectd_type, q->unit);
    const char *unit = ef_catalog_collectd_unit(q);
    if (strcmp(q->collectd_type, "gauge") == 0) {
      ck_assert_ptr_null(unit);
      if (q->decode == EF_DECODE_ANY || q->unit[0] == '\0')
        continue;
      char suffix[16];
      size_t n = 0;
      suffix[n++] = '_';
      for (const char *c = q->unit; *c != '\0' && n + 1 < sizeof(suffix); c++)
        suffix[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
      suffix[n] = '\0';
      size_t len = strlen(q->collectd_instance);
      ck_assert_msg(len > n &&
                        strcmp(q->collectd_instance + len - n, suffix) == 0,
                    "%s: gauge-%s does not end with its unit", q->pattern,
                    q->collectd_instance);
      continue;
    }
    ck_assert_ptr_nonnull(unit);
    if (divisor == 1)
      ck_assert_msg(strcmp(unit, q->unit) == 0, "%s: %s in %s", q->pattern,
                    q->unit, q->collectd_type);
    if (strcmp(q->unit, "%") == 0)
      ck_assert_msg(q->min >= 0 && q->max <= 100, "%s: percent range",
                    q->pattern);
  }
}
END_TEST

START_TEST(captures_stop_at_segments) {
  ef_captures caps;
  /* A group inside a pack: the catch-all of groups, not the pack's SoC. */
  ck_assert_int_eq(ef_catalog_lookup("bp_addr.A.B.bpSoc", &caps)->decode,
                   EF_DECODE_ANY);
  ck_assert_ptr_null(ef_catalog_lookup("bp_addr.A.B.C.bpSoc", &caps));
  ck_assert_ptr_null(ef_catalog_lookup("bp_addr..bpSoc", &caps));
  const ef_quota *q = ef_catalog_lookup("bp_addr.A1.bpSoc", &caps);
  ck_assert_ptr_nonnull(q);
  char out[8];
  ck_assert_int_eq(ef_catalog_expand("p_{pack}", &caps, out, sizeof(out)), 4);
  ck_assert_str_eq(out, "p_A1");
  ck_assert_int_eq(
      ef_catalog_expand("{pack}{pack}{pack}{pack}", &caps, out, sizeof(out)),
      -1);
  ck_assert_int_eq(ef_catalog_expand("{nope}", &caps, out, sizeof(out)), -1);
}
END_TEST

/* Each number of a list is a value of its own, named <key>_<i> (lists of
 * lists _<i>_<j>); lists of codes keep their count and codes; a huge list
 * is cut at the cap, and what is cut is counted. */
START_TEST(numeric_lists_become_numbers) {
  captured out;
  ef_metric_stats stats = metrics_of(
      "{\"bmsMaster\":{\"cellVol\":[3333,3334.5]},"
      "\"mainsLoadWatt\":{\"watth\":[[1,2],[3]]},"
      "\"emsErrCode\":{\"errCode\":[601,602]},\"modes\":[\"a\",\"b\"]}",
      &out);
  static const struct {
    const char *field, *text;
  } want[] = {{"bms_master_cell_vol_0", "3333"},
              {"bms_master_cell_vol_1", "3334.5"},
              {"mains_load_watt_watth_0_0", "1"},
              {"mains_load_watt_watth_0_1", "2"},
              {"mains_load_watt_watth_1_0", "3"}};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    const ef_metric *m = by_field(&out, "ecoflow_raw", want[i].field);
    ck_assert_int_eq(m->type, EF_VALUE_FLOAT);
    ck_assert_str_eq(m->text, want[i].text);
    ck_assert_str_eq(m->collectd_type, "gauge");
    ck_assert_str_eq(m->collectd_instance, want[i].field);
  }
  ck_assert_int_eq(by_field(&out, "ecoflow", "ems_error_count")->integer, 2);
  ck_assert_str_eq(by_field(&out, "ecoflow", "ems_error_codes")->text,
                   "601,602");
  ck_assert_str_eq(by_field(&out, "ecoflow_raw", "modes_text")->text, "a,b");
  ck_assert_uint_eq(out.n, 8);
  ck_assert_uint_eq(stats.cut, 0);

  char big[4096] = "{\"big\":[";
  for (int i = 0; i < EF_MAX_ARRAY_ITEMS + 36; i++)
    snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s%d", i ? "," : "",
             i);
  strcat(big, "]}");
  captured *many = calloc(1, sizeof(*many));
  stats = metrics_under(big, &(ef_metric_policy){0}, many);
  ck_assert_uint_eq(stats.published, EF_MAX_ARRAY_ITEMS);
  ck_assert_uint_eq(stats.cut, 36);
  free(many);
}
END_TEST

/* The lifetime energy counters are named, in Wh, and pass the guard of
 * the device's memory (ef_value_rules.h); 0 is no reading. */
START_TEST(energy_counters_are_named_and_guarded) {
  captured out;
  ef_value_memory walked = {0};
  ef_metric_policy policy = {.memory = &walked};
  ef_metric_stats stats =
      metrics_under("{\"energy_stream\":{\"solarTotalEnergy\":1234567,"
                    "\"gridInTotalEnergy\":7654.5,\"homeTotalEnergy\":0},"
                    "\"bp_addr.P\":\"{\\\"bpAccuChgEnergy\\\":90}\"}",
                    &policy, &out);
  ck_assert_uint_eq(out.n, 3);
  ck_assert_uint_eq(stats.no_reading, 1);
  /* A spike of the solar counter, a step back of the other: held. */
  stats = metrics_under("{\"energy_stream\":{\"solarTotalEnergy\":9e9,"
                        "\"gridInTotalEnergy\":7654}}",
                        &(ef_metric_policy){.memory = &walked}, &out);
  ck_assert_uint_eq(out.n, 0);
  ck_assert_uint_eq(stats.implausible, 2);
  ef_value_memory_clear(&walked);
  stats =
      metrics_of("{\"energy_stream\":{\"solarTotalEnergy\":1234567}}", &out);
  const ef_metric *solar = by_field(&out, "ecoflow", "solar_energy_total");
  ck_assert_str_eq(solar->collectd_type, "energy_wh");
  ck_assert_str_eq(solar->collectd_instance, "solar_total");
  ck_assert_str_eq(solar->quota->unit, "Wh");
  ck_assert_int_eq(solar->quota->decode, EF_DECODE_COUNTER);
  ck_assert_str_eq(solar->text, "1234567");
}
END_TEST

/* Import and export, charge and discharge: non-negative values computed
 * from the signed ones by their rows' rules, next to the signed one. */
START_TEST(signed_flows_are_split) {
  captured out;
  metrics_of("{\"sysGridPwr\":-1500.25,\"bpPwr\":200}", &out);
  ck_assert_uint_eq(out.n, 6);
  ck_assert_str_eq(by_field(&out, "ecoflow", "grid_power")->text, "-1500.25");
  const ef_metric *import = by_field(&out, "ecoflow", "grid_import_power");
  const ef_metric *export_ = by_field(&out, "ecoflow", "grid_export_power");
  ck_assert_double_eq(import->number, 0);
  ck_assert_double_eq(export_->number, 1500.25);
  ck_assert_str_eq(export_->text, "1500.25");
  ck_assert_str_eq(export_->collectd_type, "power");
  ck_assert_str_eq(export_->collectd_instance, "grid_export");
  ck_assert_str_eq(export_->path, "sysGridPwr");
  ck_assert_str_eq(ef_catalog_rule(export_->quota),
                   "minus the source's value when below 0, else 0");
  ck_assert_double_eq(by_field(&out, "ecoflow", "battery_charge_power")->number,
                      200);
  ck_assert_double_eq(
      by_field(&out, "ecoflow", "battery_discharge_power")->number, 0);
  /* An integer's text tells its length, its sign dropped where a derived
   * row takes the other side (capture checks every length told). */
  metrics_of("{\"bpPwr\":-200}", &out);
  ck_assert_uint_eq(by_field(&out, "ecoflow", "battery_power")->text_len, 4);
  const ef_metric *discharge =
      by_field(&out, "ecoflow", "battery_discharge_power");
  ck_assert_str_eq(discharge->text, "200");
  ck_assert_uint_eq(discharge->text_len, 3);
  ck_assert_uint_eq(by_field(&out, "ecoflow", "battery_charge_power")->text_len,
                    1);
  /* A sentinel or an implausible source derives nothing. */
  ef_metric_stats stats = metrics_of("{\"sysGridPwr\":1e9}", &out);
  ck_assert_uint_eq(out.n, 0);
  ck_assert_uint_eq(stats.implausible, 1);
}
END_TEST

/* A caller that reads no collectd names gets the same metrics otherwise:
 * the same line-protocol names, numbers and texts, with no collectd type
 * or instance and the number itself as collectd's value. */
START_TEST(collectd_names_only_when_wanted) {
  static const char json[] =
      "{\"bpSoc\":42,\"pcsAPhase.vol\":229.7,\"sysLoadPwr\":\"x\","
      "\"ems_change_report.emsWorkMode\":\"WORKMODE_SELFUSE\","
      "\"bp_addr.HJ32A\":\"{\\\"bpCellVol\\\":[3330,3340],"
      "\\\"bpEnvTemp\\\":21,\\\"fanLevel\\\":2}\",\"newQuota\":7}";
  captured *all = calloc(1, sizeof(*all)), *lean = calloc(1, sizeof(*lean));
  ck_assert_ptr_nonnull(all);
  ck_assert_ptr_nonnull(lean);
  metrics_of(json, all);
  metrics_under(json, &(ef_metric_policy){.without_collectd_names = 1}, lean);
  ck_assert_uint_eq(lean->n, all->n);
  int converted = 0;
  for (size_t i = 0; i < all->n; i++) {
    const ef_metric *a = &all->metrics[i], *l = &lean->metrics[i];
    same_names(a, l);
    ck_assert_double_eq(l->number, a->number);
    ck_assert_str_eq(l->text ? l->text : "", a->text ? a->text : "");
    if (a->quota != NULL) {
      ck_assert_str_eq(l->collectd_type, "");
      ck_assert_str_eq(l->collectd_instance, "");
      ck_assert_double_eq(l->collectd_value, l->number);
    }
    converted += a->collectd_value != a->number;
  }
  ck_assert_int_gt(converted, 0); /* the cells' mV, in V for collectd */
  free(all);
  free(lean);
}
END_TEST

/* Every value of a pack lands under its pack: the named ones with their
 * names, cells and sensors as tagged series, the rest named after their
 * keys, never with the pack's serial number in a field name. */
START_TEST(pack_values_carry_the_pack) {
  captured out;
  metrics_of("{\"bp_addr.HJ32A\":\"{\\\"bpRemainWatth\\\":4100.5,"
             "\\\"bpEnvTemp\\\":21,\\\"bpCellMaxVol\\\":3350,"
             "\\\"bpCellVol\\\":[3330,3340],\\\"bpTemp\\\":[20,-3270],"
             "\\\"bpHeartbeatVer\\\":7,\\\"bpBalanceState\\\":[1,0],"
             "\\\"bmsInfo\\\":{\\\"fanLevel\\\":2},"
             "\\\"updateTime\\\":\\\"2024-06-17 12:00:00\\\"}\"}",
             &out);
  for (size_t i = 0; i < out.n; i++) {
    const ef_metric *m = &out.metrics[i];
    ck_assert_msg(m->n_tags >= 1 && strcmp(m->tags[0].key, "pack") == 0 &&
                      strcmp(m->tags[0].value, "HJ32A") == 0,
                  "%s has no pack tag", m->path);
    ck_assert_msg(strstr(m->field, "HJ32A") == NULL, "%s: %s", m->path,
                  m->field);
    ck_assert_msg(m->collectd_type[0] == '\0' ||
                      strncmp(m->collectd_instance, "pack_HJ32A_", 11) == 0,
                  "%s: %s", m->path, m->collectd_instance);
  }
  ck_assert_str_eq(
      by_field(&out, "ecoflow_battery_pack", "remaining_energy")->text,
      "4100.5");
  ck_assert_str_eq(
      by_field(&out, "ecoflow_battery_pack", "environment_temperature")
          ->collectd_instance,
      "pack_HJ32A_environment");
  const ef_metric *cell = by_field(&out, "ecoflow_battery_cell", "voltage_mv");
  ck_assert_str_eq(cell->tags[1].key, "cell");
  ck_assert_str_eq(cell->tags[1].value, "0");
  ck_assert_str_eq(cell->collectd_instance, "pack_HJ32A_cell0");
  const ef_metric *sensor =
      by_field(&out, "ecoflow_battery_sensor", "temperature");
  ck_assert_str_eq(sensor->tags[1].value, "0"); /* 1 is "no reading" */
  ck_assert_str_eq(by_field(&out, "ecoflow_battery_pack", "bp_heartbeat_ver")
                       ->collectd_instance,
                   "pack_HJ32A_bp_heartbeat_ver");
  ck_assert_double_eq(
      by_field(&out, "ecoflow_battery_pack", "bp_balance_state_1")->number, 0);
  ck_assert_double_eq(
      by_field(&out, "ecoflow_battery_pack", "bms_info_fan_level")->number, 2);
  ck_assert_int_eq(
      by_field(&out, "ecoflow_battery_pack", "update_time_text")->type,
      EF_VALUE_STRING);
  ck_assert_uint_eq(out.n, 11);
}
END_TEST

/* A boolean or a hex string is no reading of a number, and a number a
 * double cannot carry exactly is counted, never clamped. */
START_TEST(numbers_stay_honest) {
  captured out;
  ef_metric_stats stats =
      metrics_of("{\"bpSoc\":true,\"sysLoadPwr\":\"0x10\",\"mpptPwr\":"
                 "18446744073709551615,\"pvInvPwr\":18446744073709551617,"
                 "\"sysGridPwr\":\" 12\",\"raw1\":9007199254740993,"
                 "\"raw2\":9007199254740992,\"raw3\":\"0x10\",\"raw4\":false}",
                 &out);
  ck_assert_uint_eq(stats.implausible, 6);
  ck_assert_uint_eq(out.n, 3);
  ck_assert_str_eq(by_field(&out, "ecoflow_raw", "raw2")->text,
                   "9007199254740992");
  ck_assert_int_eq(by_field(&out, "ecoflow_raw", "raw3_text")->type,
                   EF_VALUE_STRING);
  ck_assert_int_eq(by_field(&out, "ecoflow_raw", "raw4")->type, EF_VALUE_FLOAT);
}
END_TEST

/* Unknown values are capped per reading, and the cut counted; with
 * catalog_only they are not published at all. */
START_TEST(unknown_values_are_capped) {
  char json[8192] = "{\"bpSoc\":50";
  for (int i = 0; i < 300; i++)
    snprintf(json + strlen(json), sizeof(json) - strlen(json), ",\"k%d\":%d", i,
             i);
  strcat(json, "}");
  captured *out = calloc(1, sizeof(*out));
  ef_metric_policy capped = {.max_unknown = 40};
  ef_metric_stats stats = metrics_under(json, &capped, out);
  ck_assert_uint_eq(stats.published, 41);
  ck_assert_uint_eq(stats.unknown, 40);
  ck_assert_uint_eq(stats.unknown_cut, 260);
  ck_assert_uint_eq(stats.cut, 260);
  ef_metric_policy catalog_only = {.catalog_only = 1};
  stats = metrics_under(json, &catalog_only, out);
  ck_assert_uint_eq(stats.published, 1);
  ck_assert_uint_eq(stats.unknown_cut, 0);
  free(out);
  struct json_object *known = json_tokener_parse("{\"x\":1,\"bpSoc\":3}");
  struct json_object *other = json_tokener_parse("{\"x\":1,\"y\":[1]}");
  ck_assert_int_eq(ef_metrics_family_known(known), 1);
  ck_assert_int_eq(ef_metrics_family_known(other), 0);
  json_object_put(known);
  json_object_put(other);
}
END_TEST

/* A path the answer holds twice (flat and nested) is published once. */
START_TEST(a_path_twice_is_published_once) {
  captured out;
  ef_metric_stats stats =
      metrics_of("{\"pcsAPhase.vol\":230,\"pcsAPhase\":{\"vol\":231}}", &out);
  ck_assert_uint_eq(out.n, 1);
  ck_assert_str_eq(out.metrics[0].text, "230");
  ck_assert_uint_eq(stats.cut, 1);
}
END_TEST

/* Paths whose hashes share the memo's slot (as a cloud could make them):
 * each is still named as without a memo, those past the memo's probes
 * included. */
START_TEST(paths_sharing_a_slot_are_named_alike) {
  char json[4096] = "{";
  size_t used = 1;
  int found = 0;
  for (unsigned i = 0; found < 40; i++) {
    char key[16];
    snprintf(key, sizeof(key), "k%u", i);
    /* The memo's index has twice as many slots as it keeps paths. */
    if ((ef_path_hash(key, strlen(key)) & (2 * EF_METRIC_MEMO_PATHS - 1)) != 7)
      continue;
    used += (size_t)snprintf(json + used, sizeof(json) - used, "%s\"%s\":%d",
                             found ? "," : "", key, found + 1);
    found++;
  }
  snprintf(json + used, sizeof(json) - used, "}");
  captured *out = calloc(1, sizeof(*out));
  ck_assert_ptr_nonnull(out);
  ef_metric_stats stats = metrics_of(json, out);
  ck_assert_uint_eq(stats.published, 40);
  free(out);
}
END_TEST

/* Every metric of a reading in one text: its path, names, tags, type and
 * value, whatever their length. */
/* A series (ef_metric.h) a reading handed out, and its point's
 * measurement and tags. */
typedef struct {
  uint64_t series;
  uint32_t variant;
  char point[512];
} series_seen;

#define MAX_SERIES_SEEN 64

typedef struct {
  char text[32768];
  size_t len;
  size_t packs; /* pack tags that were the reading's serial number */
  const char *serial;
  series_seen series[MAX_SERIES_SEEN];
  size_t n_series;
  size_t keyed; /* metrics with a series */
} fingerprint;

/* A metric's series is its point's: the metrics of a reading with one
 * series and variant have one measurement and tag set, and those with
 * another have another. */
/* Every (series, field address) seen in this test binary, with the field
 * key it had: ef_metric's promise is that it never has another. */
#define FIELDS_SEEN 8192
static struct {
  uint64_t series;
  const char *at;
  char text[EF_NAME_LEN];
} fields_seen[FIELDS_SEEN];

static void note_field_key(const ef_metric *metric) {
  uint64_t mixed = (metric->series ^ (uint64_t)(uintptr_t)metric->field) *
                   UINT64_C(0x9E3779B97F4A7C15);
  for (size_t at = (size_t)(mixed >> 40) % FIELDS_SEEN, probes = 0;
       probes < FIELDS_SEEN / 2; at = (at + 1) % FIELDS_SEEN, probes++) {
    if (fields_seen[at].at == NULL) {
      ck_assert_uint_lt(strlen(metric->field), EF_NAME_LEN);
      fields_seen[at].series = metric->series;
      fields_seen[at].at = metric->field;
      strcpy(fields_seen[at].text, metric->field);
      return;
    }
    if (fields_seen[at].series == metric->series &&
        fields_seen[at].at == metric->field) {
      ck_assert_str_eq(metric->field, fields_seen[at].text);
      return;
    }
  }
}

static void note_series(fingerprint *f, const ef_metric *metric) {
  if (metric->series == 0)
    return;
  note_field_key(metric);
  f->keyed++;
  char point[512];
  size_t len = (size_t)snprintf(point, sizeof(point), "%s",
                                metric->measurement ? metric->measurement : "");
  for (size_t t = 0; t < metric->n_tags && len < sizeof(point); t++)
    len += (size_t)snprintf(point + len, sizeof(point) - len, ",%s=%s",
                            metric->tags[t].key, metric->tags[t].value);
  ck_assert_uint_lt(len, sizeof(point));
  for (size_t i = 0; i < f->n_series; i++) {
    if (f->series[i].series == metric->series &&
        f->series[i].variant == metric->series_variant) {
      ck_assert_str_eq(point, f->series[i].point);
      return;
    }
    ck_assert_str_ne(point, f->series[i].point);
  }
  ck_assert_uint_lt(f->n_series, MAX_SERIES_SEEN);
  series_seen *seen = &f->series[f->n_series++];
  seen->series = metric->series;
  seen->variant = metric->series_variant;
  memcpy(seen->point, point, len + 1);
}

static void print_metric(const ef_metric *metric, void *ctx) {
  fingerprint *f = ctx;
  int n = snprintf(
      f->text + f->len, sizeof(f->text) - f->len, "%s|%s|%s|%s|%s|%d|%.17g|%s",
      metric->path, metric->collectd_type ? metric->collectd_type : "(null)",
      metric->collectd_instance ? metric->collectd_instance : "(null)",
      metric->measurement, metric->field, (int)metric->type, metric->number,
      metric->text ? metric->text : "(null)");
  ck_assert(n > 0 && (size_t)n < sizeof(f->text) - f->len);
  f->len += (size_t)n;
  for (size_t t = 0; t < metric->n_tags; t++) {
    n = snprintf(f->text + f->len, sizeof(f->text) - f->len, "|%s=%s",
                 metric->tags[t].key,
                 metric->tags[t].value ? metric->tags[t].value : "(null)");
    ck_assert(n > 0 && (size_t)n < sizeof(f->text) - f->len);
    f->len += (size_t)n;
    if (strcmp(metric->tags[t].key, "pack") == 0 &&
        strcmp(metric->tags[t].value, f->serial) == 0)
      f->packs++;
  }
  ck_assert_uint_lt(f->len + 1, sizeof(f->text));
  f->text[f->len++] = '\n';
  f->text[f->len] = '\0';
  note_series(f, metric);
}

/* A pack of serial number %s%s, as quota/all has it. */
#define PACK_JSON                                                              \
  "\"bp_addr.%s%s\":\"{\\\"bpSoc\\\":81,\\\"bpPwr\\\":-12.5,"                  \
  "\\\"bpCellVol\\\":[3330,3340],\\\"bpTemp\\\":[21,22],"                      \
  "\\\"bpNewKey\\\":5,\\\"bpObj\\\":{\\\"a\\\":1},\\\"bpList\\\":[1,[2]]}\""

/* texts (n readings) give the same metrics through one memo, kept from
 * reading to reading, as without: with collectd's names and without, and
 * again once the memo has seen them all. When serials are given, each
 * reading whose serial is a plain segment has at least min_packs pack tags
 * with it. */
static void memo_keeps_every_text(const char *const *texts,
                                  const char *const *serials, size_t n,
                                  size_t min_packs) {
  fingerprint *plain = calloc(1, sizeof(*plain));
  fingerprint *memoized = calloc(1, sizeof(*memoized));
  ck_assert_ptr_nonnull(plain);
  ck_assert_ptr_nonnull(memoized);
  for (int without = 0; without < 2; without++) {
    ef_metric_memo *memo = ef_metric_memo_new();
    ck_assert_ptr_nonnull(memo);
    for (int twice = 0; twice < 2; twice++)
      for (size_t i = 0; i < n; i++) {
        struct json_object *data = json_tokener_parse(texts[i]);
        ck_assert_ptr_nonnull(data);
        const char *serial = serials != NULL ? serials[i] : "";
        ef_metric_policy policy = {.without_collectd_names = without};
        *plain = (fingerprint){.serial = serial};
        ck_assert_int_eq(
            ef_metrics_of_json(data, &policy, print_metric, plain, NULL), 0);
        policy.memo = memo;
        *memoized = (fingerprint){.serial = serial};
        ck_assert_int_eq(
            ef_metrics_of_json(data, &policy, print_metric, memoized, NULL), 0);
        ck_assert_str_eq(memoized->text, plain->text);
        if (serials != NULL && strpbrk(serial, ".[") == NULL)
          ck_assert_uint_ge(plain->packs, min_packs);
        /* Series come with names kept, and only then (a pack's names
         * are kept only without collectd's, whose instance holds the
         * pack). */
        ck_assert_uint_eq(plain->keyed, 0);
        if (twice && without)
          ck_assert_uint_gt(memoized->keyed, 0);
        json_object_put(data);
      }
    ef_metric_memo_free(memo);
  }
  free(plain);
  free(memoized);
}

/* A pack's values are kept by shape (ef_metric_memo.h): one memo for
 * readings of many packs gives each value the names of its own pack, as a
 * reading without a memo does: short, long (past the memo's copy of a
 * pack's path) and longer (past a name's length) serial numbers, one with
 * a dot (no shape), a pack path that ends in an index, and the first packs
 * again at the end. */
START_TEST(pack_shapes_change_nothing) {
  char long_sn[80], longer_sn[200];
  memset(long_sn, 'L', sizeof(long_sn) - 1);
  long_sn[sizeof(long_sn) - 1] = '\0';
  memset(longer_sn, 'M', sizeof(longer_sn) - 1);
  longer_sn[sizeof(longer_sn) - 1] = '\0';
  const char *serials[] = {"HJ32A", "HJ32B", "Q",     long_sn, longer_sn,
                           "A.B",   "X[0]",  "HJ32B", "HJ32A"};
  enum { N = sizeof(serials) / sizeof(serials[0]) };
  /* The packs' group is one whose rows a pack's serial number does not
   * decide; a pack path with more segments, or none after the prefix, has
   * no shape. */
  size_t at = 0;
  const char *path = "bp_addr.HJ32A.bpSoc";
  ck_assert_int_ge(ef_catalog_shape_group(path, strlen("bp_addr.HJ32A"), &at),
                   0);
  ck_assert_uint_eq(at, strlen("bp_addr."));
  ck_assert_int_eq(
      ef_catalog_shape_group("bp_addr.A.B.bpSoc", strlen("bp_addr.A.B"), &at),
      -1);
  ck_assert_int_eq(ef_catalog_shape_group("bp_addr..bpSoc", 8, &at), -1);
  /* Two packs a reading: the second's values follow the first's shapes. */
  static char json[N][2048];
  const char *texts[N];
  for (size_t i = 0; i < N; i++) {
    snprintf(json[i], sizeof(json[i]),
             "{" PACK_JSON "," PACK_JSON ",\"bpSoc\":80}", serials[i], "",
             serials[i], "Z");
    texts[i] = json[i];
  }
  /* Each pack value carries its own pack: bpSoc, bpPwr, two cells, two
   * sensors, the new key, the object's member, the list's. */
  memo_keeps_every_text(texts, serials, N, 9);
}
END_TEST

/* A shape group whose paths can have no exact row says so, and only
 * then: every row without captures, cut at each of its segments, lies in
 * no group that says none; the packs' group is such a one. */
START_TEST(shape_groups_know_their_exact_rows) {
  size_t at = 0, exact = 0;
  int packs = ef_catalog_shape_group("bp_addr.HJ32A.bpSoc",
                                     strlen("bp_addr.HJ32A"), &at);
  ck_assert_int_ge(packs, 0);
  ck_assert_int_eq(ef_catalog_shape_may_be_exact(packs), 0);
  ck_assert_int_eq(ef_catalog_shape_may_be_exact(-1), 0);
  for (size_t i = 0; i < ef_catalog_size(); i++) {
    const char *pattern = ef_catalog_entry(i)->pattern;
    if (strchr(pattern, '{') != NULL)
      continue;
    exact++;
    for (size_t cut = 1; pattern[cut] != '\0'; cut++) {
      if (pattern[cut] != '.' && pattern[cut] != '[')
        continue;
      int group = ef_catalog_shape_group(pattern, cut, &at);
      ck_assert_msg(group < 0 || ef_catalog_shape_may_be_exact(group),
                    "%s, cut at %zu", pattern, cut);
    }
  }
  ck_assert_uint_gt(exact, 20);
}
END_TEST

/* The memo finds the entry that followed the last one without a look-up
 * (a reading's paths come in the same order every time): readings whose
 * paths come in other orders, or are other paths of the same length, or
 * a path both as a flat key and in a pack (an index-like serial: two
 * entries, a whole path's and a shape's), or where the entry that came
 * next before has the same bytes in another group or a longer path, still
 * get the names of their own. */
START_TEST(paths_in_any_order_change_nothing) {
  const char *texts[] = {
      "{\"bpSoc\":80,\"bp_addr.123.bpSoc\":5,\"bp_addr.123\":"
      "\"{\\\"bpSoc\\\":81,\\\"bpPwr\\\":-2,\\\"bpTemp\\\":[21,22]}\","
      "\"pcsAPhase.vol\":230.5,\"pcsBPhase.vol\":231.5}",
      "{\"pcsBPhase.vol\":231.5,\"pcsAPhase.vol\":230.5,\"bp_addr.123\":"
      "\"{\\\"bpTemp\\\":[22,21],\\\"bpPwr\\\":-2,\\\"bpSoc\\\":81}\","
      "\"bp_addr.123.bpSoc\":5,\"bpSoc\":80}",
      "{\"pcsAPhase.amp\":3.5,\"bp_addr.124\":"
      "\"{\\\"bpSoc\\\":82,\\\"bpPwr\\\":-3}\",\"bp_addr.123\":"
      "\"{\\\"bpPwr\\\":-2,\\\"bpSoc\\\":81}\",\"pcsBPhase.amp\":3.5}",
      "{\"bp_addr.124.bpSoc\":6,\"bp_addr.123\":"
      "\"{\\\"bpSoc\\\":81}\",\"bp_addr.124\":\"{\\\"bpSoc\\\":82}\","
      "\"sysLoadPwr\":390}",
  };
  enum { N = sizeof(texts) / sizeof(texts[0]) };
  const char *orders[][2 * N] = {
      {texts[0], texts[1], texts[2], texts[3], texts[0], texts[1], texts[2],
       texts[3]},
      {texts[3], texts[2], texts[1], texts[0], texts[2], texts[0], texts[3],
       texts[1]},
  };
  for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++)
    memo_keeps_every_text(orders[o], NULL, 2 * N, 0);
  /* After the same entry: a whole path of the bytes of a pack value's
   * tail (".bpSoc", another group), and a path one byte shorter than the
   * one that came there before. */
  const char *next_is_another[] = {
      "{\"sysLoadPwr\":390,\"bp_addr.125\":\"{\\\"bpSoc\\\":83}\"}",
      "{\"sysLoadPwr\":391,\".bpSoc\":7}",
      "{\"sysLoadPwr\":392,\"pcsAPhase.volt\":1,\"bpSoc\":80}",
      "{\"sysLoadPwr\":393,\"pcsAPhase.vol\":230.5,\"bpSoc\":81}",
  };
  memo_keeps_every_text(next_is_another, NULL,
                        sizeof(next_is_another) / sizeof(next_is_another[0]),
                        0);
}
END_TEST

/* The series (any nonzero) of a reading of text through memo (of the
 * catalog's metrics only: catalog_only). */
static void series_of_reading_of(ef_metric_memo *memo, const char *text,
                                 int catalog_only, fingerprint *f) {
  struct json_object *data = json_tokener_parse(text);
  ck_assert_ptr_nonnull(data);
  ef_metric_policy policy = {
      .without_collectd_names = 1, .memo = memo, .catalog_only = catalog_only};
  *f = (fingerprint){.serial = ""};
  ck_assert_int_eq(ef_metrics_of_json(data, &policy, print_metric, f, NULL), 0);
  json_object_put(data);
}

static void series_of_reading(ef_metric_memo *memo, const char *text,
                              fingerprint *f) {
  series_of_reading_of(memo, text, 0, f);
}

static int holds_series(const fingerprint *f, uint64_t series) {
  for (size_t i = 0; i < f->n_series; i++)
    if (f->series[i].series == series)
      return 1;
  return 0;
}

/* A series number is never handed out twice in a process: not by a memo
 * that began again (its old numbers may still be in a front end's hands),
 * nor by another memo. Metrics of one point share one. */
START_TEST(series_are_never_handed_out_twice) {
  const char *text = "{\"pcsAPhase.vol\":230.5,\"pcsAPhase.amp\":3.5,"
                     "\"bpSoc\":80,\"sysLoadPwr\":390}";
  fingerprint *before = calloc(1, sizeof(*before));
  fingerprint *after = calloc(1, sizeof(*after));
  fingerprint *other = calloc(1, sizeof(*other));
  ck_assert_ptr_nonnull(before);
  ck_assert_ptr_nonnull(after);
  ck_assert_ptr_nonnull(other);
  ef_metric_memo *memo = ef_metric_memo_new(), *second = ef_metric_memo_new();
  ck_assert_ptr_nonnull(memo);
  ck_assert_ptr_nonnull(second);
  series_of_reading(memo, text, before);
  ck_assert_uint_eq(before->keyed, 0); /* names made, not yet kept */
  series_of_reading(memo, text, before);
  ck_assert_uint_eq(before->keyed, 4);
  /* The phase's two values are one point; the device's two another. */
  ck_assert_uint_eq(before->n_series, 2);
  struct json_object *others = json_object_new_object();
  char key[32];
  for (int i = 0; i < FLOOD_KEYS; i++) {
    snprintf(key, sizeof(key), "other%d", i);
    json_object_object_add(others, key, json_object_new_int(i + 1));
  }
  ef_metric_policy fill = {.without_collectd_names = 1, .memo = memo};
  ck_assert_int_eq(ef_metrics_of_json(others, &fill, drop_metric, NULL, NULL),
                   0);
  json_object_put(others);
  series_of_reading(memo, text, after);
  series_of_reading(memo, text, after);
  series_of_reading(second, text, other);
  series_of_reading(second, text, other);
  ck_assert_uint_eq(after->n_series, 2);
  ck_assert_uint_eq(other->n_series, 2);
  for (size_t i = 0; i < 2; i++) {
    ck_assert(!holds_series(before, after->series[i].series));
    ck_assert(!holds_series(before, other->series[i].series));
    ck_assert(!holds_series(after, other->series[i].series));
  }
  ef_metric_memo_free(memo);
  ef_metric_memo_free(second);
  free(before);
  free(after);
  free(other);
}
END_TEST

/* Members enough to fill a memo (FLOOD_KEYS), each ended with ','. */
#define FLOOD_LEN (FLOOD_KEYS * 24)
static const char *memo_flood(void) {
  static char flood[FLOOD_LEN];
  size_t used = 0;
  if (flood[0] != '\0')
    return flood;
  for (int i = 0; i < FLOOD_KEYS; i++)
    used += (size_t)snprintf(flood + used, sizeof(flood) - used,
                             "\"other%d\":%d,", i, i + 1);
  return flood;
}

/* A reading whose packs come back (A, B, then A again) or that fills the
 * memo midway (it begins again at the next reading) still names each
 * point by one series: A's values have one variant, and no series of the
 * memo's new epoch names a point of its old one. */
START_TEST(series_name_each_point_once) {
  const char *flood = memo_flood();
  const char *again = "\"bp_addr.A\":\"{\\\"bpSoc\\\":81}\","
                      "\"bp_addr.B\":\"{\\\"bpSoc\\\":82}\","
                      "\"bp_addr\":{\"A\":\"{\\\"bpPwr\\\":5}\"}";
  static char texts[2][FLOOD_LEN + 512];
  snprintf(texts[0], sizeof(texts[0]), "{%s}", again);
  /* Packs X and Y kept, the flood, then Z and Y's other value: Y's
   * point before and after the memo began again. */
  snprintf(texts[1], sizeof(texts[1]),
           "{\"bp_addr.X\":\"{\\\"bpSoc\\\":81}\","
           "\"bp_addr.Y\":\"{\\\"bpSoc\\\":82}\",%s"
           "\"bp_addr.Z\":\"{\\\"bpPwr\\\":3}\","
           "\"bp_addr\":{\"Y\":\"{\\\"bpPwr\\\":4}\"}}",
           flood);
  fingerprint *f = calloc(1, sizeof(*f));
  ck_assert_ptr_nonnull(f);
  for (size_t t = 0; t < 2; t++) {
    ef_metric_memo *memo = ef_metric_memo_new();
    ck_assert_ptr_nonnull(memo);
    for (int round = 0; round < 3; round++)
      series_of_reading_of(memo, texts[t], 1, f); /* note_series asserts */
    if (t == 0) {
      ck_assert_uint_eq(f->keyed, 3);
      ck_assert_uint_eq(f->n_series, 2); /* pack A's, pack B's */
    }
    ef_metric_memo_free(memo);
  }
  free(f);
}
END_TEST

/* The names of the metrics with a series, as handed out: where each text
 * was, and a copy of it. */
typedef struct {
  const char *at[256];
  char copy[256][EF_NAME_LEN];
  size_t n;
  /* The tags' keys alone, which last as long as the process. */
  const char *key_at[64];
  char key_copy[64][EF_NAME_LEN];
  size_t n_keys;
  uint64_t epoch; /* the memo's during the reading, 0: not yet read */
  int epoch_changed;
  const uint64_t *epoch_at;
} kept_names;

static void note_kept_name(kept_names *k, const char *text) {
  if (text == NULL || k->n == 256)
    return;
  k->at[k->n] = text;
  snprintf(k->copy[k->n], sizeof(k->copy[k->n]), "%s", text);
  k->n++;
}

static void note_names(const ef_metric *metric, void *ctx) {
  kept_names *k = ctx;
  /* Those handed out before are as they were, at every value. */
  for (size_t i = 0; i < k->n; i++)
    ck_assert_str_eq(k->at[i], k->copy[i]);
  if (k->epoch == 0)
    k->epoch = *k->epoch_at;
  k->epoch_changed |= *k->epoch_at != k->epoch;
  if (metric->series == 0)
    return;
  note_kept_name(k, metric->measurement);
  note_kept_name(k, metric->field);
  for (size_t i = 0; i < metric->n_tags; i++) {
    note_kept_name(k, metric->tags[i].key);
    note_kept_name(k, metric->tags[i].value);
    if (k->n_keys < 64) {
      k->key_at[k->n_keys] = metric->tags[i].key;
      snprintf(k->key_copy[k->n_keys++], EF_NAME_LEN, "%s",
               metric->tags[i].key);
    }
  }
}

/* A metric's series promises its names as they are until the next
 * reading starts (what lets the Telegraf front end keep them without a
 * copy): a pack's serial number after the next pack's came, and every
 * name after a flood of new keys filled the memo midway. The memo begins
 * again only at the next reading. */
START_TEST(a_series_names_last_the_reading) {
  const char *flood = memo_flood();
  static char texts[2][FLOOD_LEN + 512];
  for (int flooded = 0; flooded < 2; flooded++)
    snprintf(texts[flooded], sizeof(texts[flooded]),
             "{\"sysLoadPwr\":390,\"pcsAPhase.vol\":230.5,"
             "\"bp_addr.A\":\"{\\\"bpSoc\\\":81,\\\"bpPwr\\\":5}\","
             "\"bp_addr.B\":\"{\\\"bpSoc\\\":82}\",%s"
             "\"bp_addr.C\":\"{\\\"bpSoc\\\":83}\"}",
             flooded ? flood : "");
  ef_metric_memo *memo = ef_metric_memo_new();
  ck_assert_ptr_nonnull(memo);
  kept_names *k = calloc(1, sizeof(*k));
  ck_assert_ptr_nonnull(k);
  ef_metric_policy policy = {.without_collectd_names = 1,
                             .max_unknown = 2 * EF_METRIC_MEMO_PATHS,
                             .memo = memo};
  uint64_t epochs[4];
  kept_names *first = calloc(1, sizeof(*first));
  ck_assert_ptr_nonnull(first);
  for (int round = 0; round < 4; round++) {
    /* Plain, then filled midway, twice. */
    int flooded = round % 2;
    struct json_object *data = json_tokener_parse(texts[flooded]);
    ck_assert_ptr_nonnull(data);
    *k = (kept_names){.epoch_at = ef_metric_memo_epoch(memo)};
    ck_assert_int_eq(ef_metrics_of_json(data, &policy, note_names, k, NULL), 0);
    json_object_put(data);
    ck_assert(!k->epoch_changed);
    epochs[round] = k->epoch;
    /* Filled midway, the names kept in the plain reading before name the
     * packs A, B and C and the system's, phase's values by series. */
    if (flooded)
      ck_assert_uint_ge(k->n, 5 * 3);
    /* And after the reading, till the next starts (the sink's flush). */
    for (size_t i = 0; i < k->n; i++)
      ck_assert_str_eq(k->at[i], k->copy[i]);
    if (round == 1)
      *first = *k;
  }
  /* The tags' keys of the first filled reading, after the memo began
   * again and filled up once more. */
  ck_assert_uint_gt(first->n_keys, 0);
  for (size_t i = 0; i < first->n_keys; i++)
    ck_assert_str_eq(first->key_at[i], first->key_copy[i]);
  free(first);
  /* Filled, the memo began again at the next reading, not before. */
  ck_assert(epochs[1] == epochs[0]);
  ck_assert(epochs[2] != epochs[1]);
  ck_assert(epochs[3] == epochs[2]);
  free(k);
  ef_metric_memo_free(memo);
}
END_TEST

/* From its second reading on, every point of a device is named by a
 * series (what the front ends' speed rests on): a PV string's and a
 * heating rod's (paths whose rows capture an index), a pack's, a fallback
 * row's; all but a value whose path holds another text a row captures
 * (a pack's serial number in a flat key: one device's own, not kept). */
START_TEST(steady_readings_name_every_point_by_series) {
  const char *text =
      "{\"sysLoadPwr\":390,\"pcsAPhase.vol\":230.5,"
      "\"mpptHeartBeat\":[{\"mpptPv\":[{\"vol\":410.5,\"amp\":4.5},"
      "{\"vol\":420.5,\"amp\":3.5}]}],"
      "\"hrEnergyStream\":[{\"temp\":22,\"hrPwr\":300}],"
      "\"ems_ev.chargingStatus\":\"EV_CHG_STS_AVAILABLE\","
      "\"bp_addr.A\":\"{\\\"bpSoc\\\":81}\","
      "\"bp_addr.B\":\"{\\\"bpSoc\\\":82}\","
      "\"bp_addr.FLAT.bpPwr\":5}";
  fingerprint *f = calloc(1, sizeof(*f));
  ck_assert_ptr_nonnull(f);
  ef_metric_memo *memo = ef_metric_memo_new();
  ck_assert_ptr_nonnull(memo);
  for (int round = 0; round < 3; round++)
    series_of_reading(memo, text, f);
  /* 2 + 4 PV + 2 rod + 1 fallback + 2 packs, and the flat one without. */
  ck_assert_uint_eq(f->keyed, 11);
  ck_assert_ptr_nonnull(strstr(f->text, "bp_addr.FLAT.bpPwr|"));
  ef_metric_memo_free(memo);
  free(f);
}
END_TEST

/* Names kept with a tag's value that a pack's serial number can take (a
 * row's own text, or another row's) get no series of their own: a point
 * of one might be a point of the other. */
START_TEST(series_that_may_share_a_point_are_none) {
  ef_metric_memo *memo = ef_metric_memo_new();
  ck_assert_ptr_nonnull(memo);
  fingerprint *f = calloc(1, sizeof(*f));
  ck_assert_ptr_nonnull(f);
  const char *packs = "{\"bp_addr.A\":\"{\\\"bpSoc\\\":81}\","
                      "\"bp_addr.B\":\"{\\\"bpSoc\\\":82}\"}";
  series_of_reading(memo, packs, f);
  series_of_reading(memo, packs, f);
  ck_assert_uint_eq(f->keyed, 2); /* the packs' series: ecoflow_battery_pack,
                                     pack=<its serial> */
  /* The same measurement and tag key, the tag's value a text: kept under
   * a path of its own, it gets no series. */
  const char *path = "sysLoadPwr";
  ef_captures caps;
  ef_memo_path *entry = NULL;
  ef_leaf leaf = {.path_len = strlen(path),
                  .path_hash = ef_path_hash(path, strlen(path))};
  const ef_quota *row = ef_metric_memo_lookup(memo, path, &leaf, &caps, &entry);
  ck_assert_ptr_nonnull(row);
  ck_assert_ptr_nonnull(entry);
  ef_names_key key = {.row = row, .suffix = "", .without_collectd_names = 1};
  ef_metric metric = {.measurement = "ecoflow_battery_pack",
                      .field = "soc",
                      .n_tags = 1,
                      .tags = {{.key = "pack", .value = "A"}}};
  char made[8] = "";
  ef_metric_memo_keep(memo, entry, &key, &metric, made, sizeof(made));
  ef_metric named = {0};
  uint32_t guard = 0;
  ck_assert_int_eq(ef_metric_memo_names(entry, &key, NULL, 0, &named, &guard),
                   1);
  ck_assert_str_eq(named.tags[0].value, "A");
  /* The counters' guard knows the names by their hash, made when kept. */
  ck_assert_uint_eq(guard, ef_metric_guard_series(&metric));
  ck_assert_uint_ne(guard, 0);
  ck_assert_uint_eq(named.series, 0);
  /* A literal point of two tags (a flat key with index captures) that a
   * pack's shape may name too: none either. */
  const char *shaped = "{\"bp_addr.5\":\"{\\\"bpCellVol\\\":[1,2,3,4]}\"}";
  const char *flat = "{\"bp_addr.0.bpCellVol[3]\":3100}";
  for (int round = 0; round < 2; round++)
    series_of_reading(memo, shaped, f);
  ck_assert_uint_eq(f->keyed, 4);
  for (int round = 0; round < 2; round++)
    series_of_reading(memo, flat, f);
  ck_assert_ptr_nonnull(strstr(f->text, "|pack=0|cell=3"));
  ck_assert_uint_eq(f->keyed, 0);
  /* Another tag value on its own is a series of its own. */
  path = "sysGridPwr";
  leaf = (ef_leaf){.path_len = strlen(path),
                   .path_hash = ef_path_hash(path, strlen(path))};
  row = ef_metric_memo_lookup(memo, path, &leaf, &caps, &entry);
  ck_assert_ptr_nonnull(entry);
  key.row = row;
  metric.measurement = "ecoflow_other";
  ef_metric_memo_keep(memo, entry, &key, &metric, made, sizeof(made));
  ck_assert_int_eq(ef_metric_memo_names(entry, &key, NULL, 0, &named, &guard),
                   1);
  ck_assert_uint_ne(named.series, 0);
  ck_assert_uint_eq(guard, ef_metric_guard_series(&metric));
  ef_metric_memo_free(memo);
  free(f);
}
END_TEST

/* The memo remembers the last pack path's shape group: a pack path of the
 * same length that has no shape ("bp_addr.X[0]Z": its capture is "X") must
 * not take the shape of the one before ("bp_addr.HJ32A"), nor the other way
 * round. */
START_TEST(pack_paths_of_one_length_keep_their_own_shape) {
  const char *texts[] = {
      "{\"bp_addr.HJ32A\":\"{\\\"bpSoc\\\":81}\"}",
      "{\"bp_addr.X[0]Z\":\"{\\\"bpSoc\\\":81}\"}",
      "{\"bp_addr.HJ32B\":\"{\\\"bpSoc\\\":82}\"}",
  };
  memo_keeps_every_text(texts, NULL, sizeof(texts) / sizeof(texts[0]), 0);
}
END_TEST

/* How a name template uses a capture, as ef_catalog_expand reads it. */
START_TEST(templates_tell_how_they_use_a_capture) {
  static const struct {
    const char *template_;
    ef_template_use use;
  } cases[] = {
      {"{pack}", EF_TEMPLATE_IS},
      {"pack_{pack}_soc", EF_TEMPLATE_WITHIN},
      {"{pack:g}", EF_TEMPLATE_WITHIN},
      {"{pack}{pack}", EF_TEMPLATE_WITHIN},
      {"{name}_{pack}", EF_TEMPLATE_WITHIN},
      {"{packs}", EF_TEMPLATE_WITHOUT},
      {"{pac}", EF_TEMPLATE_WITHOUT},
      {"pack", EF_TEMPLATE_WITHOUT},
      {"{name:g}", EF_TEMPLATE_WITHOUT},
      {"{pack", EF_TEMPLATE_WITHOUT},
      {NULL, EF_TEMPLATE_WITHOUT},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    ck_assert_msg(ef_catalog_template_use(cases[i].template_, "pack", 4) ==
                      cases[i].use,
                  "template %zu", i);
}
END_TEST

UNIT_MAIN("catalog", reference_quotas_are_named, pv_strings_and_rods_are_tagged,
          battery_packs_stay_apart, sentinels_are_no_reading,
          implausible_values_are_dropped, error_lists_are_decoded,
          error_bits_are_decoded, states_are_text, fallbacks_stand_in_once,
          collectd_units, markers_are_no_reading_everywhere,
          fallbacks_name_their_primary, collectd_types_hold_their_units,
          unknown_quotas_are_kept, generic_names, catalog_rows_are_consistent,
          captures_stop_at_segments, numeric_lists_become_numbers,
          energy_counters_are_named_and_guarded, signed_flows_are_split,
          pack_values_carry_the_pack, collectd_names_only_when_wanted,
          numbers_stay_honest, unknown_values_are_capped,
          a_path_twice_is_published_once, paths_sharing_a_slot_are_named_alike,
          pack_shapes_change_nothing, paths_in_any_order_change_nothing,
          shape_groups_know_their_exact_rows,
          pack_paths_of_one_length_keep_their_own_shape,
          series_are_never_handed_out_twice, series_name_each_point_once,
          a_series_names_last_the_reading,
          series_that_may_share_a_point_are_none,
          steady_readings_name_every_point_by_series,
          templates_tell_how_they_use_a_capture)
