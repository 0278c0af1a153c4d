/* Unit tests of ef_catalog.c and ef_metric.c: what each quota becomes. */
#include "ef_catalog.h"
#include "ef_metric.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METRICS 64

typedef struct {
  size_t n;
  ef_metric metrics[MAX_METRICS];
  char texts[MAX_METRICS][EF_TEXT_LEN];
  char paths[MAX_METRICS][EF_NAME_LEN];
} captured;

static void capture(const ef_metric *metric, void *ctx) {
  captured *out = ctx;
  ck_assert_uint_lt(out->n, MAX_METRICS);
  out->metrics[out->n] = *metric;
  snprintf(out->paths[out->n], EF_NAME_LEN, "%s", metric->path);
  out->metrics[out->n].path = out->paths[out->n];
  if (metric->text != NULL) {
    snprintf(out->texts[out->n], EF_TEXT_LEN, "%s", metric->text);
    out->metrics[out->n].text = out->texts[out->n];
  }
  out->n++;
}

static ef_metric_stats metrics_of(const char *json, captured *out) {
  ef_samples samples = {0};
  ck_assert_int_eq(ef_samples_add_text(&samples, json), 0);
  memset(out, 0, sizeof(*out));
  ef_metric_stats stats = {0};
  ef_metrics_each(&samples, capture, out, &stats);
  ef_samples_clear(&samples);
  return stats;
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
    {"pcsAPhase.reactPwr", "173.24965", "power-phase_a_reactive",
     "ecoflow_phase", "phase=a", "reactive_power"},
    {"pcsBPhase.apparentPwr", "756.7776", "power-phase_b_apparent",
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
    ck_assert_msg(out.n == 1, "%s: %zu metrics", reference[i].path, out.n);
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
  metrics_of("{\" chargingStatus\":\"EV_CHG_STS_AVAILABLE\","
             "\"ems_ev.chargingStatus\":\"EV_CHG_STS_CHARGING\"}",
             &out);
  ck_assert_uint_eq(out.n, 2);
  ck_assert_int_eq(out.metrics[0].type, EF_VALUE_STRING);
  ck_assert_str_eq(out.metrics[0].text, "EV_CHG_STS_AVAILABLE");
  ck_assert_str_eq(out.metrics[0].field, "ev_charging_status");
  ck_assert_str_eq(out.metrics[0].collectd_type, "");
}
END_TEST

START_TEST(unknown_quotas_are_kept) {
  captured out;
  metrics_of("{\"20_1.invOutputWatts\":230.5,\"96_1.flagX\":true,"
             "\"newThing\":\"ON\",\"listy\":[1,2]}",
             &out);
  ck_assert_uint_eq(out.n, 4);
  ck_assert_ptr_null(out.metrics[0].quota);
  ck_assert_str_eq(out.metrics[0].measurement, "ecoflow_raw");
  ck_assert_str_eq(out.metrics[0].field, "20_1_inv_output_watts");
  ck_assert_str_eq(out.metrics[0].collectd_type, "gauge");
  ck_assert_str_eq(out.metrics[0].collectd_instance, "20_1_inv_output_watts");
  ck_assert_str_eq(out.metrics[0].text, "230.5");
  ck_assert_int_eq(out.metrics[1].type, EF_VALUE_BOOL);
  ck_assert_str_eq(out.metrics[1].collectd_type, "gauge");
  ck_assert_int_eq(out.metrics[2].type, EF_VALUE_STRING);
  ck_assert_str_eq(out.metrics[2].collectd_type, "");
  ck_assert_str_eq(out.metrics[3].text, "1,2");
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
    ck_assert_msg(ef_catalog_lookup(q->pattern, NULL) == q ||
                      strchr(q->pattern, '{') != NULL,
                  "%s: shadowed by an earlier row", q->pattern);
    for (size_t j = 0; j < i; j++) {
      const ef_quota *other = ef_catalog_entry(j);
      ck_assert_msg(strcmp(q->pattern, other->pattern) != 0, "%s twice",
                    q->pattern);
      int same_measurement = strcmp(q->measurement, other->measurement) == 0;
      ck_assert_msg(
          !same_measurement || strcmp(q->field, other->field) != 0 ||
              strcmp(q->tags, other->tags) != 0 || q->decode == EF_DECODE_STATE,
          "%s and %s publish the same field", q->pattern, other->pattern);
    }
  }
  ck_assert_ptr_null(ef_catalog_entry(ef_catalog_size()));
}
END_TEST

START_TEST(captures_stop_at_segments) {
  ef_captures caps;
  ck_assert_ptr_null(ef_catalog_lookup("bp_addr.A.B.bpSoc", &caps));
  ck_assert_ptr_null(ef_catalog_lookup("bp_addr..bpSoc", &caps));
  const ef_quota *q = ef_catalog_lookup("bp_addr.A1.bpSoc", &caps);
  ck_assert_ptr_nonnull(q);
  char out[8];
  ck_assert_int_eq(ef_catalog_expand("p_{pack}", &caps, out, sizeof(out)), 0);
  ck_assert_str_eq(out, "p_A1");
  ck_assert_int_eq(
      ef_catalog_expand("{pack}{pack}{pack}{pack}", &caps, out, sizeof(out)),
      -1);
  ck_assert_int_eq(ef_catalog_expand("{nope}", &caps, out, sizeof(out)), -1);
}
END_TEST

UNIT_MAIN("catalog", reference_quotas_are_named, pv_strings_and_rods_are_tagged,
          battery_packs_stay_apart, sentinels_are_no_reading,
          implausible_values_are_dropped, error_lists_are_decoded,
          error_bits_are_decoded, states_are_text, unknown_quotas_are_kept,
          generic_names, catalog_rows_are_consistent, captures_stop_at_segments)
