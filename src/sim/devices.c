/* devices.c: the quota tables of each device family, and the few builders
 * for values that are not a single number. */
#include "devices.h"

#include "clock.h"
#include "groups.h"
#include "model.h"
#include "number.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define LEN(array) (sizeof(array) / sizeof(*(array)))

/* Readings that wander take a new direction this often (s). */
#define LEVEL_PERIOD_S 300
/* Serialisation of JSON that the cloud puts inside a string. */
#define EMBEDDED_JSON_STYLE                                                    \
  (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |                         \
   JSON_C_TO_STRING_NOSLASHESCAPE)

typedef struct {
  const sim_device *device;
  const sim_model *model;
  int64_t t;
} quota_source;

typedef enum {
  Q_NUMBER,  /* a double at .field of the values, rounded to .decimals */
  Q_STATE,   /* a const char * at .field of the values */
  Q_NUMBERS, /* a list of .count doubles from .field on, rounded */
  Q_LEVEL,   /* a reading wandering in [.low, .high], per key */
  Q_LEVELS,  /* .count such readings, or .rows lists of .count */
  Q_LITERAL, /* constant JSON text */
  Q_TEXT,    /* a constant string */
  Q_TIME,    /* "YYYY-MM-DD HH:MM:SS", .lag_s before the data's time */
  Q_BUILT,   /* .build writes its key(s) itself */
} quota_kind;

typedef struct {
  const char *key;
  quota_kind kind;
  size_t field;
  int count, rows;
  int decimals;
  double low, high;
  const char *text;
  int lag_s;
  void (*build)(struct json_object *data, const quota_source *source);
} quota_def;

#define NUMBER_OF(type, k, member, places)                                     \
  {                                                                            \
    .key = k, .kind = Q_NUMBER, .field = offsetof(type, member),               \
    .decimals = places                                                         \
  }
#define NUMBER(k, member, places) NUMBER_OF(sim_model, k, member, places)
#define NUMBERS_OF(type, k, member, places)                                    \
  {                                                                            \
    .key = k, .kind = Q_NUMBERS, .field = offsetof(type, member),              \
    .count = (int)(sizeof(((type *)0)->member) / sizeof(double)),              \
    .decimals = places                                                         \
  }
#define STATE(k, member)                                                       \
  { .key = k, .kind = Q_STATE, .field = offsetof(sim_model, member) }
#define LEVEL(k, lo, hi, places)                                               \
  { .key = k, .kind = Q_LEVEL, .low = lo, .high = hi, .decimals = places }
#define LEVELS(k, n, lo, hi, places)                                           \
  {                                                                            \
    .key = k, .kind = Q_LEVELS, .count = n, .low = lo, .high = hi,             \
    .decimals = places                                                         \
  }
#define LEVEL_ROWS(k, r, n, lo, hi, places)                                    \
  {                                                                            \
    .key = k, .kind = Q_LEVELS, .rows = r, .count = n, .low = lo, .high = hi,  \
    .decimals = places                                                         \
  }
#define LITERAL(k, json)                                                       \
  { .key = k, .kind = Q_LITERAL, .text = json }
#define TEXT(k, string)                                                        \
  { .key = k, .kind = Q_TEXT, .text = string }
#define TIME(k, lag)                                                           \
  { .key = k, .kind = Q_TIME, .lag_s = lag }
/* .key is the one group the builder writes, when it writes one: what lets
 * a single group be made without the rest. */
#define BUILT(function)                                                        \
  { .kind = Q_BUILT, .build = function }
#define BUILT_GROUP(group, function)                                           \
  { .key = group, .kind = Q_BUILT, .build = function }

/* Where a wandering reading is in [low, high] at the data's time: each key
 * (and each item of a list) wanders on its own, also the same field in two
 * groups. */
static struct json_object *level(const quota_def *def, uint64_t salt,
                                 const quota_source *source) {
  double walk =
      sim_model_drift(source->device->seed, salt, source->t, LEVEL_PERIOD_S);
  return sim_json_number(def->low + (def->high - def->low) * walk,
                         def->decimals);
}

static struct json_object *
list_of(int count, struct json_object *(*item)(const void *, int),
        const void *context) {
  struct json_object *list = json_object_new_array_ext(count);
  for (int i = 0; list != NULL && i < count; i++)
    json_object_array_add(list, item(context, i));
  return list;
}

typedef struct {
  const quota_def *def;
  const quota_source *source;
  const double *numbers;
  uint64_t salt;
} list_context;

static struct json_object *number_item(const void *context, int i) {
  const list_context *c = context;
  return sim_json_number(c->numbers[i], c->def->decimals);
}

static struct json_object *level_item(const void *context, int i) {
  const list_context *c = context;
  return level(c->def, c->salt + (uint64_t)i, c->source);
}

static struct json_object *level_row(const void *context, int row) {
  list_context c = *(const list_context *)context;
  c.salt += (uint64_t)(row * c.def->count);
  return list_of(c.def->count, level_item, &c);
}

static struct json_object *quota_value(const quota_def *def, const char *prefix,
                                       const void *values,
                                       const quota_source *source) {
  const char *at = (const char *)values + def->field;
  uint64_t salt = sim_model_seed(
      sim_model_seed(SIM_SEED_START, prefix ? prefix : ""), def->key);
  list_context list = {.def = def,
                       .source = source,
                       .numbers = (const double *)at,
                       .salt = salt + 1};
  switch (def->kind) {
  case Q_NUMBER:
    return sim_json_number(*(const double *)at, def->decimals);
  case Q_NUMBERS:
    return list_of(def->count, number_item, &list);
  case Q_STATE:
    return json_object_new_string(*(const char *const *)at);
  case Q_LEVEL:
    return level(def, salt, source);
  case Q_LEVELS:
    return def->rows > 0 ? list_of(def->rows, level_row, &list)
                         : list_of(def->count, level_item, &list);
  case Q_LITERAL:
    return sim_json_literal(def->text);
  case Q_TEXT:
    return json_object_new_string(def->text);
  case Q_TIME: {
    char text[SIM_TIME_TEXT_SIZE];
    sim_clock_format(source->t - def->lag_s, text);
    return json_object_new_string(text);
  }
  case Q_BUILT:
    break;
  }
  return NULL;
}

/* Writes each quota of defs into data, keys as "prefix.key" when prefix is
 * not NULL; Q_NUMBER and Q_STATE read from the struct values points to. */
static void add_quotas(struct json_object *data, const char *prefix,
                       const quota_def *defs, size_t len, const void *values,
                       const quota_source *source) {
  for (size_t i = 0; i < len; i++) {
    if (defs[i].kind == Q_BUILT) {
      defs[i].build(data, source);
      continue;
    }
    char key[128];
    if (prefix != NULL)
      snprintf(key, sizeof(key), "%s.%s", prefix, defs[i].key);
    json_object_object_add(data, prefix != NULL ? key : defs[i].key,
                           quota_value(&defs[i], prefix, values, source));
  }
}

static struct json_object *object_of(const quota_def *defs, size_t len,
                                     const void *values,
                                     const quota_source *source) {
  struct json_object *object = json_object_new_object();
  if (object != NULL)
    add_quotas(object, NULL, defs, len, values, source);
  return object;
}

/* Arrays the cloud sends as arrays, one object per item. */
static struct json_object *array_of(struct json_object *item) {
  struct json_object *array = json_object_new_array();
  if (array != NULL)
    json_object_array_add(array, item);
  else
    json_object_put(item);
  return array;
}

static const quota_def phase_fields[] = {
    NUMBER_OF(sim_phase, "vol", vol, 5),
    NUMBER_OF(sim_phase, "amp", amp, 7),
    NUMBER_OF(sim_phase, "actPwr", act_pwr, 5),
    NUMBER_OF(sim_phase, "reactPwr", react_pwr, 5),
    NUMBER_OF(sim_phase, "apparentPwr", apparent_pwr, 4),
};

static void build_phases(struct json_object *data, const quota_source *source) {
  for (int i = 0; i < SIM_PHASES; i++) {
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "pcs%cPhase", 'A' + i);
    add_quotas(data, prefix, phase_fields, LEN(phase_fields),
               &source->model->phases[i], source);
  }
}

static const quota_def pv_string_fields[] = {
    NUMBER_OF(sim_pv_string, "vol", vol, 6),
    NUMBER_OF(sim_pv_string, "amp", amp, 7),
    NUMBER_OF(sim_pv_string, "pwr", pwr, 4),
};

static void build_mppt_heartbeat(struct json_object *data,
                                 const quota_source *source) {
  struct json_object *strings = json_object_new_array();
  for (int i = 0; strings != NULL && i < SIM_PV_STRINGS; i++)
    json_object_array_add(strings,
                          object_of(pv_string_fields, LEN(pv_string_fields),
                                    &source->model->strings[i], source));
  struct json_object *beat = json_object_new_object();
  if (beat != NULL)
    json_object_object_add(beat, "mpptPv", strings);
  else
    json_object_put(strings);
  json_object_object_add(data, "mpptHeartBeat", array_of(beat));
}

static const quota_def pack_fields[] = {
    NUMBER_OF(sim_pack, "bpPwr", pwr, 2),
    NUMBER_OF(sim_pack, "bpSoc", soc, 0),
    NUMBER_OF(sim_pack, "bpSoh", soh, 0),
    NUMBER_OF(sim_pack, "bpVol", vol, 3),
    NUMBER_OF(sim_pack, "bpAmp", amp, 4),
    NUMBER_OF(sim_pack, "bpCycles", cycles, 0),
    NUMBER_OF(sim_pack, "bpMaxCellTemp", max_cell_temp, 1),
    NUMBER_OF(sim_pack, "bpMinCellTemp", min_cell_temp, 1),
    NUMBER_OF(sim_pack, "bpEnvTemp", env_temp, 1),
    NUMBER_OF(sim_pack, "bpHvMosTemp", mos_temp, 1),
    NUMBER_OF(sim_pack, "bpCellMaxVol", max_cell_mv, 0),
    NUMBER_OF(sim_pack, "bpCellMinVol", min_cell_mv, 0),
    NUMBER_OF(sim_pack, "bpRealSoc", soc, 2),
    NUMBER_OF(sim_pack, "bpRemainWatth", remain_wh, 1),
    NUMBER_OF(sim_pack, "bpAccuChgEnergy", charged_wh, 0),
    NUMBER_OF(sim_pack, "bpAccuDsgEnergy", discharged_wh, 0),
    NUMBERS_OF(sim_pack, "bpTemp", cell_temp, 1),
    NUMBERS_OF(sim_pack, "bpCellVol", cell_mv, 0),
    NUMBER_OF(sim_pack, "bpMaxMosTemp", mos_temp, 1),
    NUMBER_OF(sim_pack, "bpMinMosTemp", lv_mos_temp, 1),
    NUMBER_OF(sim_pack, "bpLvMosTemp", lv_mos_temp, 1),
    NUMBER_OF(sim_pack, "bpPtcTemp", ptc_temp, 1),
    NUMBER_OF(sim_pack, "bpBusVol", bus_vol, 2),
    NUMBER_OF(sim_pack, "bpRealSoh", real_soh, 2),
    NUMBER_OF(sim_pack, "bpCycleSoh", soh, 0),
    NUMBER_OF(sim_pack, "bpAccuChgCap", charged_mah, 0),
    NUMBER_OF(sim_pack, "bpAccuDsgCap", discharged_mah, 0),
    LITERAL("bpDownLimitSoc", "20"),
    LITERAL("bpUpLimitSoc", "100"),
    LITERAL("bpErrCode", "0"),
    LITERAL("bpBalanceState", "0"),
    LITERAL("bpDesignCap", "100000"),
    LITERAL("bpFullCap", "100000"),
    LITERAL("bpChgSop", "37"),
    LITERAL("bpDsgSop", "80"),
    LITERAL("bpCalendarSoh", "100.0"),
    LITERAL("bpHeartbeatVer", "33"),
    LITERAL("bpAcRechargeFlag", "false"),
    LITERAL("bpPtcHeatFlag", "false"),
    TEXT("bpRunSta", "RUNSTA_RUN"),
    TEXT("bmsChgDsgSta", "PB_STANDBY_STATE"),
    TEXT("bpSysState", "NORMAL_STATE"),
    /* A "no reading" value inside the pack, as live packs send it. */
    LITERAL("bpEcloundSoc", "65535"),
};

#define PACK_GROUP "bp_addr."

/* Each pack is "bp_addr.<pack SN>" holding the pack's JSON as text, which
 * names the pack again (bpSn). */
static void build_packs(struct json_object *data, const quota_source *source) {
  for (int i = 0; i < SIM_PACKS; i++) {
    char key[64];
    snprintf(key, sizeof(key), PACK_GROUP "HJ3A%010" PRIX64 "%02d",
             (source->device->seed >> 20) & 0xffffffffffu, i + 1);
    struct json_object *pack = object_of(pack_fields, LEN(pack_fields),
                                         &source->model->packs[i], source);
    if (pack != NULL)
      json_object_object_add(pack, "bpSn",
                             json_object_new_string(key + strlen(PACK_GROUP)));
    const char *text =
        pack != NULL ? json_object_to_json_string_ext(pack, EMBEDDED_JSON_STYLE)
                     : NULL;
    json_object_object_add(data, key,
                           text != NULL ? json_object_new_string(text) : NULL);
    json_object_put(pack);
  }
}

static const quota_def heating_rod_fields[] = {
    NUMBER("temp", rod_water_c, 0),
    NUMBER("hrPwr", rod_w, 0),
};

static void build_heating_rod_stream(struct json_object *data,
                                     const quota_source *source) {
  json_object_object_add(
      data, "hrEnergyStream",
      array_of(object_of(heating_rod_fields, LEN(heating_rod_fields),
                         source->model, source)));
}

static const quota_def numeric_group_fields[] = {
    LEVEL("invOutputWatts", 0, 6000, 4),
    LEVEL("invInputWatts", 0, 6000, 4),
    LEVEL("invOutputVolt", 226, 238, 5),
    LEVEL("invOutputAmp", 0, 26, 6),
    LEVEL("invOutputFreq", 49.95, 50.05, 5),
    LEVEL("invTemp", 25, 55, 4),
    LEVEL("pvInputWatts", 0, 5000, 4),
    LEVEL("pvInputVolt", 250, 450, 5),
    LEVEL("pvInputAmp", 0, 12, 6),
    LEVEL("pvTemp", 20, 50, 4),
    LEVEL("batInputWatts", -3000, 3000, 4),
    LEVEL("batInputVolt", 48, 56, 5),
    LEVEL("batInputAmp", -60, 60, 6),
    LEVEL("batTemp", 18, 35, 4),
    LEVEL("batSoc", 5, 100, 0),
    LEVEL("llcTemp", 25, 50, 4),
    LEVEL("busVolt", 760, 840, 4),
    LEVEL("dcdcTemp", 25, 50, 4),
    LEVEL("fanLevel", 0, 3, 0),
    LEVEL("chgRemainTime", 0, 5999, 0),
    LEVEL("dsgRemainTime", 0, 5999, 0),
    LEVEL("wifiRssi", -85, -40, 0),
    LEVEL("meterPowerA", -3000, 3000, 4),
    LEVEL("meterPowerB", -3000, 3000, 4),
    LEVEL("meterPowerC", -3000, 3000, 4),
    LEVEL("cpuLoad", 3, 60, 0),
    LITERAL("heartbeatFrequency", "30"),
    LITERAL("wirelessErrCode", "0"),
    LITERAL("sysVer", "33620480"),
    LITERAL("errCode", "0"),
    LITERAL("warnCode", "0"),
    LITERAL("ratedPower", "10000"),
    LITERAL("lowerLimit", "10"),
    LITERAL("upperLimit", "100"),
    LITERAL("ledBrightness", "40"),
    LITERAL("supplyPriority", "0"),
    LITERAL("feedLimitWatts", "800.0"),
    LITERAL("acRelayState", "true"),
    LITERAL("dcRelayState", "true"),
    LITERAL("antiBackflowFlag", "false"),
    TEXT("runStatus", "RUNSTA_RUN"),
    TEXT("bmsRunSta", "PB_BMS_STATE_DISCHARGEABLE"),
    TEXT("bmsChgDsgSta", "PB_STANDBY_STATE"),
    TEXT("moduleSn", "SEozMVpEMUFaSDNVMDE0MA=="),
};

static const quota_def ocean_power[] = {
    NUMBER("sysGridPwr", grid_w, 0),
    NUMBER("sysLoadPwr", load_w, 0),
    NUMBER("mpptPwr", pv_w, 0),
    NUMBER("bpPwr", battery_w, 0),
    NUMBER("bpSoc", soc, 0),
    LITERAL("emsBpAliveNum", "2"),
    LITERAL("pvInvPwr", "0.0"),
    BUILT_GROUP("mpptHeartBeat", build_mppt_heartbeat),
    BUILT(build_phases),
};

static const quota_def ev_power[] = {
    NUMBER("evPwr", ev_w, 0),
};

static const quota_def ocean_reports[] = {
    NUMBER("energy_stream.solarTotalEnergy", solar_wh, 0),
    NUMBER("energy_stream.loadTotalEnergy", load_wh, 0),
    NUMBER("energy_stream.gridImportTotalEnergy", grid_import_wh, 0),
    NUMBER("energy_stream.gridExportTotalEnergy", grid_export_wh, 0),
    /* The names live PowerOceans use for the lifetime counters. */
    NUMBER("energy_stream.gridInTotalEnergy", grid_import_wh, 0),
    NUMBER("energy_stream.gridOutTotalEnergy", grid_export_wh, 0),
    NUMBER("energy_stream.homeTotalEnergy", load_wh, 0),
    NUMBER("energy_stream.bpChgTotalEnergy", charged_wh, 0),
    NUMBER("energy_stream.bpDsgTotalEnergy", discharged_wh, 0),
    TIME("energy_stream.updateTime", 5),
    NUMBER("ems_change_report.bpTotalChgEnergy", charged_wh, 0),
    NUMBER("ems_change_report.bpTotalDsgEnergy", discharged_wh, 0),
    NUMBER("ems_change_report.bpSoc", soc, 0),
    NUMBER("ems_change_report.chgDsgPwr", battery_w, 1),
    TEXT("ems_change_report.emsWorkMode", "WORKMODE_SELFUSE"),
    TEXT("ems_change_report.pcsRunSta", "RUNSTA_RUN"),
    LITERAL("ems_change_report.bpOnlineSum", "2"),
    LITERAL("ems_change_report.emsFeedMode", "1"),
    LITERAL("ems_change_report.emsFeedPwr", "10000"),
    LITERAL("ems_change_report.emsSgReadyEn", "false"),
    LITERAL("ems_change_report.sys14aEnable", "false"),
    LITERAL("ems_change_report.rateCtrlSwtich", "true"),
    LITERAL("ems_change_report.iot4gPdp", "-1"),
    LITERAL("ems_change_report.evBindList.evSn", "[]"),
    LITERAL("ems_change_report.emsTouParam", "null"),
    TEXT("ems_change_report.wireless4gIccid", ""),
    TIME("ems_change_report.updateTime", 1),
    NUMBER("pcs_change_report.gridFreq", grid_hz, 2),
    LEVEL("pcs_change_report.busVol", 780, 840, 1),
    LEVEL("pcs_change_report.invTemp", 28, 48, 1),
    TIME("pcs_change_report.updateTime", 2),
};

/* Status groups of the energy manager that the quota tables of other
 * families never have. */
static const quota_def ocean_status[] = {
    NUMBER("ems_edev_sys.socCur", soc, 5),
    LITERAL("ems_edev_sys.feedPwrCap", "10000.0"),
    LITERAL("ems_edev_sys.dispatchType", "1"),
    LITERAL("ems_edev_sys.devInfoFix.devSubInfoFix", "[]"),
    TIME("ems_edev_sys.updateTime", 12),
    LITERAL("error_code.pcsErrCode.errCode", "[]"),
    TEXT("error_code.pcsErrCode.moduleSn", "SEozMTIxMDJCRzNBMDQzNw=="),
    TIME("error_code.updateTime", 6),
    LITERAL("ems_param_change_report.sysZone", "0"),
    LITERAL("ems_param_change_report.smartCtrl", "false"),
    TEXT("ems_param_change_report.emsPeakShavingReport.peakShavingStatus",
         "NO_PEAK_SHAVING_TASK"),
    TIME("ems_param_change_report.updateTime", 7),
    TEXT("ems_eco_logy_dev.HPReport.devSn", ""),
    TEXT("ems_eco_logy_dev.HPReport.errorCode", ""),
    LITERAL("ems_eco_logy_dev.HPReport.online", "0"),
    TIME("ems_eco_logy_dev.updateTime", 8),
};

/* The inverter's grid-code settings: constants, reported all the same. */
static const quota_def grid_code_settings[] = {
    LITERAL("pcsHighVolOnGrid", "253.0"),
    LITERAL("pcsLowVolOnGrid", "195.5"),
    LITERAL("pcsHighFreqOnGrid", "50.1"),
    LITERAL("pcsLowFreqOnGrid", "47.53"),
    LITERAL("pcsOverVol1", "287.5"),
    LITERAL("pcsOverVol2", "287.5"),
    LITERAL("pcsLowVol1", "184.0"),
    LITERAL("pcsLowVol2", "103.5"),
    LITERAL("pcsLowVol3", "57.5"),
    LITERAL("pcsOverFreq1", "51.5"),
    LITERAL("pcsOverFreq2", "51.5"),
    LITERAL("pcsLowFreq1", "47.5"),
    LITERAL("pcsLowFreq2", "47.5"),
    LITERAL("pcsOverVolTime1", "100"),
    LITERAL("pcsLowVolTime1", "3000"),
    LITERAL("pcsOnGridWaitTime", "60000"),
    LITERAL("pcsPfValue", "1.0"),
    LITERAL("pcsQuV1", "213.90001"),
    LITERAL("pcsQuV2", "223.1"),
    LITERAL("pcsQuV3", "236.9"),
    LITERAL("pcsQuV4", "246.1"),
    LITERAL("pcsQuQ1", "0.6"),
    LITERAL("pcsQuQ4", "-0.6"),
    LITERAL("pcsCospPf1", "-1.0"),
    LITERAL("pcsCospPf3", "-0.9"),
    LITERAL("pcsActivePowerGradient", "0.0033"),
    LITERAL("pcsSafetyCountryCodeSelection", "4"),
    LITERAL("pcsAntiBackFlowSwitch", "1"),
    LITERAL("pcsIslandDetectSwitch", "1"),
    LITERAL("pcsHvrtLvrtSwitch", "1"),
    LITERAL("afciEn", "0"),
    LITERAL("afciIsExist", "0"),
    LITERAL("emsCtrlLedBright", "40"),
    LITERAL("sysBatDsgDownLimit", "20"),
    LITERAL("sysMulPeakTime", "1200"),
    LITERAL("sysRateCtrlTime", "60"),
};

static const quota_def ocean_packs[] = {
    BUILT_GROUP("bp_addr", build_packs),
    TIME("bp_addr.updateTime", 3),
};

static const quota_def heat_pump[] = {
    NUMBER("hpMaster.tempInlet", inlet_c, 1),
    NUMBER("hpMaster.tempOutlet", outlet_c, 1),
    NUMBER("hpMaster.tempAmbient", ambient_c, 1),
    NUMBER("sectorA.tempCurr", zone_a_c, 1),
    NUMBER("sectorB.tempCurr", zone_b_c, 1),
    NUMBER("sectorDhw.tempCurr", hot_water_c, 1),
};

static const quota_def heating_rod[] = {
    BUILT_GROUP("hrEnergyStream", build_heating_rod_stream),
};

/* What the PowerOcean reports of its heating rod and EV charger. */
static const quota_def ocean_gateway[] = {
    NUMBER("ems_heating_rod.heatingPower", rod_w, 0),
    TIME("ems_heating_rod.updateTime", 4),
    STATE("ems_ev.chargingStatus", ev_status),
    NUMBER("ems_ev.evChargingEnergy", ev_wh, 0),
    TEXT("ems_ev.errorCode", "AAAAAAAAAAA="),
    TIME("ems_ev.updateTime", 4),
};

static const quota_def charger_status[] = {
    STATE("chargingStatus", ev_status),
    TEXT("errorCode", "AAAAAAAAAAA="),
};

static const quota_def ocean_errors[] = {
    LITERAL("emsErrCode.errCode", "[523]")};
static const quota_def heat_pump_errors[] = {
    LITERAL("emsErrCode.errCode", "[601]")};
static const quota_def heating_rod_errors[] = {
    LITERAL("emsErrCode.errCode", "[602]")};

static const quota_def cloud_time[] = {TIME("quota_cloud_ts", 0)};

/* A DELTA Pro beside a Smart Home Panel: a family the catalog does not
 * know, reporting what such devices send and the others do not: numeric
 * lists (cell voltages and temperatures, per-channel currents and
 * voltages), lists of lists (hourly energy per channel), lists of objects
 * and of booleans, an empty code list, and numeric group prefixes. Its
 * battery is the model's first pack (bmsMaster), an extra battery the
 * second (bms_bmsStatus). */
static const quota_def delta_battery[] = {
    NUMBER_OF(sim_pack, "soc", soc, 0),
    NUMBER_OF(sim_pack, "f32ShowSoc", soc, 2),
    NUMBER_OF(sim_pack, "cycles", cycles, 0),
    NUMBER_OF(sim_pack, "maxCellVol", max_cell_mv, 0),
    NUMBER_OF(sim_pack, "minCellVol", min_cell_mv, 0),
    NUMBERS_OF(sim_pack, "cellVol", cell_mv, 0),
    NUMBERS_OF(sim_pack, "cellTemp", cell_temp, 0),
    LEVEL("remainCap", 5000, 40000, 0),
    LITERAL("errCode", "0"),
};

static const quota_def delta_power[] = {
    NUMBER("pd.soc", soc, 0),
    NUMBER("pd.wattsInSum", pv_w, 0),
    NUMBER("pd.wattsOutSum", load_w, 0),
    LEVEL("pd.remainTime", 0, 5999, 0),
};

#define PANEL_CHANNELS 12
#define PANEL_HOURS 3

static const quota_def panel[] = {
    LEVELS("selfCheck.vIn", 2, 225, 240, 1),
    LEVELS("selfCheck.vOut", 2, 225, 240, 1),
    LEVELS("loadChCurInfo.cur", PANEL_CHANNELS, 0, 30, 0),
    LEVEL_ROWS("mainsLoadWatt.watth", PANEL_CHANNELS, PANEL_HOURS, 0, 900, 0),
    TIME("mainsLoadWatt.rtc", 3600),
    LEVEL("heartbeat.gridDayWatth", 0, 20000, 2),
    LEVEL("heartbeat.backupDayWatth", 0, 8000, 2),
    LEVEL("heartbeat.backupBatPer", 5, 100, 0),
    LITERAL("heartbeat.errorCodes", "[]"),
    LITERAL("chUseInfo.isEnable", "[true, true, true, true, false, false, "
                                  "true, true, false, false]"),
    LITERAL("channelPower.infoList", "[{\"powType\": 0, \"chWatt\": 12.5}, "
                                     "{\"powType\": 0, \"chWatt\": 230.0}]"),
    LITERAL("epsModeInfo.eps", "false"),
    LEVEL("gridInfo.gridVol", 226, 238, 0),
    LEVEL("gridInfo.gridFreq", 49.95, 50.05, 2),
    TEXT("areaInfo.area", "Europe"),
};

static const quota_def delta_inverter[] = {
    LEVEL("invOutputWatts", 0, 3600, 0),
    LEVEL("invInputWatts", 0, 3000, 0),
    LEVEL("pvInputWatts", 0, 1600, 0),
    LEVEL("invOutputVolt", 226, 238, 1),
    LITERAL("errCode", "0"),
};

typedef struct {
  const char *prefix;
  const quota_def *defs;
  size_t len;
  /* Where in sim_model the table's fields are (Q_NUMBER and the like). */
  size_t values_at;
} quota_table;

#define TABLE(table)                                                           \
  { .defs = table, .len = LEN(table) }
#define PREFIXED(group, table)                                                 \
  { .prefix = group, .defs = table, .len = LEN(table) }
#define PACK_TABLE(group, table, pack)                                         \
  {                                                                            \
    .prefix = group, .defs = table, .len = LEN(table),                         \
    .values_at = offsetof(sim_model, packs[pack])                              \
  }
#define MAX_FAMILY_TABLES 20

/* Live PowerOceans pad their answer with groups named by protocol numbers
 * ("96_1.", "20_1."): the same readings under several prefixes. */
#define NUMERIC_GROUP_PADDING                                                  \
  PREFIXED("96_1", numeric_group_fields),                                      \
      PREFIXED("96_8", numeric_group_fields),                                  \
      PREFIXED("20_1", numeric_group_fields),                                  \
      PREFIXED("32_1", numeric_group_fields),                                  \
      PREFIXED("254_21", numeric_group_fields)

struct sim_family {
  const char *name;
  const char *label;
  const char *product_name;
  /* Up to the first with defs == NULL. */
  quota_table tables[MAX_FAMILY_TABLES];
};

static const sim_family families[] = {
    {"powerocean",
     "PowerOcean",
     "PowerOcean",
     {TABLE(ocean_power), TABLE(ev_power), TABLE(ocean_reports),
      TABLE(ocean_status), PREFIXED("ems_change_report", grid_code_settings),
      TABLE(ocean_packs), TABLE(heat_pump), TABLE(heating_rod),
      TABLE(ocean_gateway), NUMERIC_GROUP_PADDING, TABLE(ocean_errors),
      TABLE(cloud_time)}},
    {"powerheat",
     "PowerHeat",
     "PowerHeat",
     {TABLE(heat_pump), TABLE(heat_pump_errors), TABLE(cloud_time)}},
    {"powerglow",
     "PowerGlow",
     NULL,
     {TABLE(heating_rod), TABLE(heating_rod_errors), TABLE(cloud_time)}},
    {"powerpulse",
     "PowerPulse",
     "PowerPulse",
     {TABLE(ev_power), TABLE(charger_status), TABLE(cloud_time)}},
    {"deltapro",
     "DELTA Pro",
     "DELTA Pro",
     {PACK_TABLE("bmsMaster", delta_battery, 0),
      PACK_TABLE("bms_bmsStatus", delta_battery, 1), TABLE(delta_power),
      TABLE(panel), PREFIXED("20_1", delta_inverter),
      PREFIXED("32_1", delta_inverter), TABLE(cloud_time)}},
    /* The same PowerOcean without the numeric-group padding and the
     * grid-code settings: the live shape (flat groups, packs as JSON text,
     * lists of objects) with few values the catalog does not know, the
     * other kind of answer `make bench` measures. */
    {"poweroceanlean",
     "PowerOcean",
     "PowerOcean",
     {TABLE(ocean_power), TABLE(ev_power), TABLE(ocean_reports),
      TABLE(ocean_status), TABLE(ocean_packs), TABLE(heat_pump),
      TABLE(heating_rod), TABLE(ocean_gateway), TABLE(ocean_errors),
      TABLE(cloud_time)}},
};

const sim_family *sim_family_find(const char *name) {
  for (size_t i = 0; i < LEN(families); i++)
    if (strcmp(families[i].name, name) == 0)
      return &families[i];
  return NULL;
}

const char *sim_family_names(void) {
  static char names[128];
  size_t used = 0;
  for (size_t i = 0; i < LEN(families) && used < sizeof(names); i++)
    used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                             i > 0 ? ", " : "", families[i].name);
  return names;
}

const char *sim_family_label(const sim_family *family) { return family->label; }

const char *sim_family_product_name(const sim_family *family) {
  return family->product_name;
}

/* Whether def of a table with prefix may write a key of group (NULL: any
 * group). */
static bool may_write(const quota_def *def, const char *prefix,
                      const char *group) {
  if (group == NULL)
    return true;
  if (prefix != NULL)
    return strcmp(prefix, group) == 0;
  return def->key == NULL || sim_group_has(group, def->key);
}

struct json_object *sim_device_quotas(const sim_device *device, int64_t t,
                                      const char *group) {
  sim_model model;
  sim_model_at(&model, device->seed, t);
  quota_source source = {.device = device, .model = &model, .t = t};
  struct json_object *data = json_object_new_object();
  if (data == NULL)
    return NULL;
  const quota_table *tables = device->family->tables;
  for (size_t i = 0; i < MAX_FAMILY_TABLES && tables[i].defs != NULL; i++)
    for (size_t j = 0; j < tables[i].len; j++)
      if (may_write(&tables[i].defs[j], tables[i].prefix, group))
        add_quotas(data, tables[i].prefix, &tables[i].defs[j], 1,
                   (const char *)&model + tables[i].values_at, &source);
  return data;
}
