/* model.c: a day in the life of a simulated solar, battery, heat pump and
 * EV installation, in closed form so that any second can be computed
 * without simulating the ones before it. */
#include "model.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#define SECONDS_PER_DAY 86400
#define SECONDS_PER_HOUR 3600.0
#define HOURS_PER_DAY 24.0

/* Totals count from the installation day (2023-01-01, a UTC midnight, so
 * that hours since it are hours of the UTC day); earlier clocks read the
 * first day's values. */
#define INSTALLED_AT (19358 * (int64_t)SECONDS_PER_DAY)

/* What sets one device apart from another, drawn from its seed. */
enum trait {
  TRAIT_PV_PEAK,
  TRAIT_BASE_LOAD,
  TRAIT_EV_START,
  TRAIT_EV_POWER,
  TRAIT_SOH,
  TRAIT_RESIDUAL_VOLTAGE,
  /* Salts of the time-varying noise. */
  NOISE_WEATHER,
  NOISE_LOAD,
  NOISE_PHASE,
  NOISE_GRID_HZ = NOISE_PHASE + SIM_PHASES,
  NOISE_AMBIENT,
  NOISE_AMBIENT_GAP,
  NOISE_CELL,
  NOISE_CELL_SPREAD = NOISE_CELL + SIM_PACKS,
  NOISE_SENSOR_SPREAD = NOISE_CELL_SPREAD + SIM_PACKS * SIM_CELLS,
  NOISE_BUS = NOISE_SENSOR_SPREAD + SIM_PACKS * SIM_CELL_SENSORS,
  TRAIT_CELL_ENDS,
  TRAIT_REAL_SOH,
};

#define PACK_WH 5120.0
#define PACK_NOMINAL_V 51.2
#define MAH_PER_AH 1000.0
#define BATTERY_WH (PACK_WH * SIM_PACKS)
/* The state of charge swings between SOC_MID -/+ SOC_SWING, lowest at
 * SOC_LOW_HOUR and highest twelve hours later. */
#define SOC_MID 55.0
#define SOC_SWING 35.0
#define SOC_LOW_HOUR 5.0
#define SUNRISE_HOUR 6.0
#define DAYLIGHT_HOURS 14.0
/* Clouds scale PV between WEATHER_MIN and 1; totals use the mean. */
#define WEATHER_MIN 0.55
#define WEATHER_MEAN ((1.0 + WEATHER_MIN) / 2)
#define EV_CHARGE_HOURS 3.0
#define EV_PREPARE_HOURS 0.25
#define ROD_START_SURPLUS_W 1500.0
#define ROD_MAX_W 3000.0
#define GRID_EXPORT_SHARE_OF_SOLAR 0.3
#define GRID_IMPORT_SHARE_OF_LOAD 0.3
#define ROD_SHARE_OF_SOLAR 0.12

static const double pi = 3.14159265358979323846;

static uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

uint64_t sim_model_seed(uint64_t hash, const char *text) {
  return ef_fnv64_text(hash, text);
}

/* A uniform number in [0, 1) for (seed, salt, slot). */
static double uniform(uint64_t seed, uint64_t salt, int64_t slot) {
  uint64_t hash =
      mix(seed ^ mix(salt * 0x9e3779b97f4a7c15u ^ mix((uint64_t)slot)));
  return (double)(hash >> 11) / 9007199254740992.0;
}

static double trait(uint64_t seed, enum trait which) {
  return uniform(seed, which, 0);
}

/* Readings wander instead of jumping: value noise with a cosine blend
 * between one random target per period. */
double sim_model_drift(uint64_t seed, uint64_t salt, int64_t t, double period) {
  double x = (double)t / period;
  double slot = floor(x);
  double blend = (1 - cos(pi * (x - slot))) / 2;
  return uniform(seed, salt, (int64_t)slot) * (1 - blend) +
         uniform(seed, salt, (int64_t)slot + 1) * blend;
}

/* Splits t into whole days since installation and hours into the day. */
static void day_and_hour(int64_t t, double hour_offset, double *days,
                         double *hour) {
  double since = (double)(t - INSTALLED_AT) - hour_offset * SECONDS_PER_HOUR;
  if (since < 0)
    since = 0;
  *days = floor(since / SECONDS_PER_DAY);
  *hour = (since - *days * SECONDS_PER_DAY) / SECONDS_PER_HOUR;
}

/* The clear-sky fraction of peak PV at this hour, and the integral of it
 * (in peak-hours) from midnight. */
static double sun(double hour) {
  double x = (hour - SUNRISE_HOUR) / DAYLIGHT_HOURS;
  return x > 0 && x < 1 ? sin(pi * x) : 0;
}

static double sun_hours_until(double hour) {
  double x = (hour - SUNRISE_HOUR) / DAYLIGHT_HOURS;
  if (x <= 0)
    return 0;
  if (x > 1)
    x = 1;
  return DAYLIGHT_HOURS / pi * (1 - cos(pi * x));
}

/* Household demand: a base with a morning and an evening bump, as a
 * multiple of the base, and its integral (in base-hours) from midnight. */
static const struct {
  double height, center_hour, width_hours;
} load_bumps[] = {{0.5, 7.5, 1.2}, {0.9, 19.0, 2.0}};

static double demand(double hour) {
  double level = 1;
  for (size_t i = 0; i < sizeof(load_bumps) / sizeof(*load_bumps); i++) {
    double z = (hour - load_bumps[i].center_hour) / load_bumps[i].width_hours;
    level += load_bumps[i].height * exp(-z * z);
  }
  return level;
}

static double demand_hours_until(double hour) {
  double total = hour;
  for (size_t i = 0; i < sizeof(load_bumps) / sizeof(*load_bumps); i++) {
    double c = load_bumps[i].center_hour;
    double w = load_bumps[i].width_hours;
    total += load_bumps[i].height * w * sqrt(pi) / 2 *
             (erf((hour - c) / w) - erf(-c / w));
  }
  return total;
}

static void model_power(sim_model *m, uint64_t seed, int64_t t) {
  double days, hour;
  day_and_hour(t, 0, &days, &hour);
  double pv_peak_w = 4000 + 6000 * trait(seed, TRAIT_PV_PEAK);
  double base_load_w = 300 + 400 * trait(seed, TRAIT_BASE_LOAD);
  double weather =
      WEATHER_MIN +
      (1 - WEATHER_MIN) * sim_model_drift(seed, NOISE_WEATHER, t, 1800);

  m->pv_w = pv_peak_w * sun(hour) * weather;
  m->solar_wh = pv_peak_w * WEATHER_MEAN *
                (days * sun_hours_until(HOURS_PER_DAY) + sun_hours_until(hour));

  double battery_days, battery_hour;
  day_and_hour(t, SOC_LOW_HOUR, &battery_days, &battery_hour);
  double phase = 2 * pi * battery_hour / HOURS_PER_DAY;
  m->soc = SOC_MID - SOC_SWING * cos(phase);
  m->battery_w =
      BATTERY_WH / 100 * SOC_SWING * (2 * pi / HOURS_PER_DAY) * sin(phase);
  /* Charging runs from the low to the high point, discharging back down:
   * each half day moves 2 * SOC_SWING percent of the battery. */
  double swing_wh = BATTERY_WH * 2 * SOC_SWING / 100;
  double low_soc = SOC_MID - SOC_SWING;
  double high_soc = SOC_MID + SOC_SWING;
  bool charging = phase < pi;
  m->charged_wh = battery_days * swing_wh +
                  (charging ? BATTERY_WH * (m->soc - low_soc) / 100 : swing_wh);
  m->discharged_wh = battery_days * swing_wh +
                     (charging ? 0 : BATTERY_WH * (high_soc - m->soc) / 100);

  m->load_w = base_load_w * demand(hour) +
              100 * (sim_model_drift(seed, NOISE_LOAD, t, 300) - 0.5);
  /* In self-use mode the battery never discharges into the grid. */
  if (m->load_w < -m->battery_w + 20)
    m->load_w = -m->battery_w + 20;
  m->load_wh = base_load_w * (days * demand_hours_until(HOURS_PER_DAY) +
                              demand_hours_until(hour));
  m->grid_w = m->load_w - m->pv_w + m->battery_w;
  m->grid_import_wh = GRID_IMPORT_SHARE_OF_LOAD * m->load_wh;
  m->grid_export_wh = GRID_EXPORT_SHARE_OF_SOLAR * m->solar_wh;
}

static void model_pv_strings(sim_model *m, uint64_t seed, double hour) {
  static const double share[SIM_PV_STRINGS] = {0.55, 0.45};
  for (int i = 0; i < SIM_PV_STRINGS; i++) {
    sim_pv_string *s = &m->strings[i];
    s->pwr = m->pv_w * share[i];
    /* An unlit string still shows a few volts, as real ones do. */
    s->vol = s->pwr > 0 ? 300 + 120 * sun(hour) + 15 * i
                        : 20 + 10 * trait(seed, TRAIT_RESIDUAL_VOLTAGE);
    s->amp = s->pwr / s->vol;
  }
}

static void model_phases(sim_model *m, uint64_t seed, int64_t t) {
  /* The inverter's AC side carries PV minus what charges the battery;
   * negative actPwr is power the inverter puts out. */
  double inverter_w = m->pv_w - m->battery_w;
  for (int i = 0; i < SIM_PHASES; i++) {
    sim_phase *p = &m->phases[i];
    double imbalance =
        1 + 0.04 * (sim_model_drift(seed, NOISE_PHASE + i, t, 120) - 0.5);
    p->vol = 230 + 8 * (sim_model_drift(seed, NOISE_PHASE + i, t, 60) - 0.5);
    p->act_pwr = -inverter_w / SIM_PHASES * imbalance;
    p->react_pwr = 0.15 * fabs(p->act_pwr) + 40;
    p->apparent_pwr = hypot(p->act_pwr, p->react_pwr);
    p->amp = p->apparent_pwr / p->vol;
  }
  m->grid_hz = 50 + 0.1 * (sim_model_drift(seed, NOISE_GRID_HZ, t, 30) - 0.5);
}

/* Fills values[0..n) between low and high, each wandering on its own
 * (salts salt..salt+n-1), with one value pinned at each end so that the
 * list's extremes are the pack's reported minimum and maximum. */
static void spread(double *values, int n, double low, double high,
                   uint64_t seed, uint64_t salt, int64_t t) {
  int top = (int)(n * uniform(seed, TRAIT_CELL_ENDS, (int64_t)salt));
  int bottom =
      (top + 1 +
       (int)((n - 1) * uniform(seed, TRAIT_CELL_ENDS, -(int64_t)salt - 1))) %
      n;
  for (int j = 0; j < n; j++) {
    double share = j == top      ? 1
                   : j == bottom ? 0
                                 : sim_model_drift(seed, salt + j, t, 600);
    values[j] = low + (high - low) * share;
  }
}

static void model_packs(sim_model *m, uint64_t seed, int64_t t) {
  for (int i = 0; i < SIM_PACKS; i++) {
    sim_pack *pack = &m->packs[i];
    /* Packs drift a little apart, as real ones do. */
    double offset = i == 0 ? 0.6 : -0.6;
    pack->soc = fmin(100, fmax(0, m->soc + offset));
    pack->soh = 100 - floor(4 * uniform(seed, TRAIT_SOH, i));
    pack->cycles = floor(m->charged_wh / BATTERY_WH);
    pack->pwr = m->battery_w / SIM_PACKS * (1 + offset / 100);
    pack->vol = 49.6 + 0.045 * pack->soc + 0.0004 * pack->pwr;
    pack->amp = pack->pwr / pack->vol;
    pack->max_cell_temp = 21 + fabs(pack->pwr) / 250 +
                          2 * sim_model_drift(seed, NOISE_CELL + i, t, 600);
    pack->min_cell_temp =
        pack->max_cell_temp - 1 - uniform(seed, NOISE_CELL, i);
    pack->env_temp = pack->min_cell_temp - 1.5;
    pack->mos_temp = pack->max_cell_temp + 1;
    pack->max_cell_mv = 3200 + 3.5 * pack->soc +
                        5 * sim_model_drift(seed, NOISE_CELL + i, t, 60);
    pack->min_cell_mv =
        pack->max_cell_mv - 3 - 8 * uniform(seed, NOISE_CELL, i);
    pack->remain_wh = PACK_WH * pack->soc / 100;
    pack->charged_wh = m->charged_wh / SIM_PACKS * (1 + offset / 100);
    pack->discharged_wh = m->discharged_wh / SIM_PACKS * (1 + offset / 100);
    pack->lv_mos_temp = pack->max_cell_temp + 0.5;
    pack->ptc_temp = pack->env_temp + 0.5;
    pack->bus_vol =
        800 + 20 * (sim_model_drift(seed, NOISE_BUS + i, t, 60) - 0.5);
    pack->real_soh = pack->soh - uniform(seed, TRAIT_REAL_SOH, i);
    pack->charged_mah = pack->charged_wh / PACK_NOMINAL_V * MAH_PER_AH;
    pack->discharged_mah = pack->discharged_wh / PACK_NOMINAL_V * MAH_PER_AH;
    spread(pack->cell_mv, SIM_CELLS, pack->min_cell_mv, pack->max_cell_mv, seed,
           NOISE_CELL_SPREAD + i * SIM_CELLS, t);
    spread(pack->cell_temp, SIM_CELL_SENSORS, pack->min_cell_temp,
           pack->max_cell_temp, seed,
           NOISE_SENSOR_SPREAD + i * SIM_CELL_SENSORS, t);
  }
}

static void model_heat(sim_model *m, uint64_t seed, int64_t t, double hour) {
  double day_wave = sin(2 * pi * (hour - 9) / HOURS_PER_DAY);
  m->inlet_c = 32 + 4 * day_wave;
  m->outlet_c = m->inlet_c + 4 + sim_model_drift(seed, NOISE_AMBIENT, t, 300);
  /* The outdoor sensor drops out now and then: a third of the quarter
   * hours report the cloud's "no reading" value. */
  m->ambient_c =
      uniform(seed, NOISE_AMBIENT_GAP, t / 900) < 1.0 / 3
          ? SIM_NO_READING
          : 8 + 7 * day_wave + 3 * sim_model_drift(seed, NOISE_AMBIENT, t, 900);
  m->zone_a_c = 21 + day_wave;
  m->zone_b_c = 22 - 0.5 * day_wave;
  m->hot_water_c = 47 + 5 * day_wave;

  double surplus_w = m->pv_w - m->load_w - ROD_START_SURPLUS_W;
  m->rod_w = surplus_w <= 0 ? 0 : 10 * floor(fmin(surplus_w, ROD_MAX_W) / 10);
  m->rod_water_c = 40 + 25 * sun(hour);
  m->rod_wh = ROD_SHARE_OF_SOLAR * m->solar_wh;
}

static void model_ev(sim_model *m, uint64_t seed, int64_t t) {
  double start_hour = 9 + floor(6 * trait(seed, TRAIT_EV_START));
  double power_w = trait(seed, TRAIT_EV_POWER) < 0.5 ? 7400 : 11000;
  double days, hours_in;
  day_and_hour(t, start_hour, &days, &hours_in);
  bool charging = hours_in < EV_CHARGE_HOURS;
  m->ev_w = charging ? power_w : 0;
  m->ev_wh =
      power_w * (days * EV_CHARGE_HOURS + fmin(hours_in, EV_CHARGE_HOURS));
  if (charging)
    m->ev_status = "EV_CHG_STS_CHARGING";
  else if (hours_in > HOURS_PER_DAY - EV_PREPARE_HOURS)
    m->ev_status = "EV_CHG_STS_PREPARING";
  else
    m->ev_status = "EV_CHG_STS_AVAILABLE";
}

void sim_model_at(sim_model *model, uint64_t seed, int64_t t) {
  double days, hour;
  day_and_hour(t, 0, &days, &hour);
  model_power(model, seed, t);
  model_pv_strings(model, seed, hour);
  model_phases(model, seed, t);
  model_packs(model, seed, t);
  model_heat(model, seed, t, hour);
  model_ev(model, seed, t);
}
