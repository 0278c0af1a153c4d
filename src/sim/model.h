/* model.h: what a simulated installation is doing at a given moment.
 *
 * Promises: every value is a pure function of (seed, t): the same device
 * at the same second reads the same everywhere, so tests can compare
 * answers. The values are plausible and consistent with each other: PV
 * follows a day curve with passing clouds, the battery charges by day and
 * discharges by night, grid = load - PV + battery, and every energy total
 * (Wh) only grows. Each device draws its own sizes from its seed. */
#ifndef SIM_MODEL_H
#define SIM_MODEL_H

#include "ef_hash.h"

#include <stdint.h>

#define SIM_PV_STRINGS 2
#define SIM_PHASES 3
#define SIM_PACKS 2
/* Cells in series and cell temperature sensors per pack. */
#define SIM_CELLS 16
#define SIM_CELL_SENSORS 8

/* Every reading is a double so that quota tables can point at any of them
 * the same way (offsetof). */
typedef struct {
  double vol, amp, pwr;
} sim_pv_string;

typedef struct {
  double vol, amp, act_pwr, react_pwr, apparent_pwr;
} sim_phase;

typedef struct {
  double soc, soh, cycles, vol, amp, pwr, max_cell_temp, min_cell_temp,
      env_temp, mos_temp, max_cell_mv, min_cell_mv, remain_wh, charged_wh,
      discharged_wh;
  /* The low-voltage MOS runs cooler than mos_temp, the high-voltage one. */
  double lv_mos_temp, ptc_temp, bus_vol, real_soh;
  /* Charge through the pack since installation (mAh), growing with the
   * energies. */
  double charged_mah, discharged_mah;
  /* Each list spans exactly [min, max] of its pack once rounded: one cell
   * sits at each end. */
  double cell_mv[SIM_CELLS], cell_temp[SIM_CELL_SENSORS];
} sim_pack;

typedef struct {
  /* Power, W. battery_w > 0 charges (the reference's bpPwr < 0 is a
   * discharge); grid_w > 0 imports. */
  double pv_w, load_w, battery_w, grid_w, soc;
  sim_pv_string strings[SIM_PV_STRINGS];
  sim_phase phases[SIM_PHASES];
  double grid_hz;
  sim_pack packs[SIM_PACKS];
  /* Totals since installation, Wh. */
  double solar_wh, load_wh, grid_import_wh, grid_export_wh, charged_wh,
      discharged_wh;
  /* Heat pump, deg C; ambient_c is -3270 (no reading) at times. */
  double inlet_c, outlet_c, ambient_c, zone_a_c, zone_b_c, hot_water_c;
  /* Heating rod. */
  double rod_w, rod_water_c, rod_wh;
  /* EV charger. */
  double ev_w, ev_wh;
  const char *ev_status;
} sim_model;

/* The "no reading" value the cloud sends for a temperature it lacks. */
#define SIM_NO_READING (-3270.0)

void sim_model_at(sim_model *model, uint64_t seed, int64_t t);

/* FNV-1a of text (ef_hash.h), continuing from hash (start from
 * SIM_SEED_START): a device's seed from its serial number, a reading's
 * salt from its key. */
#define SIM_SEED_START EF_FNV64_BASIS
uint64_t sim_model_seed(uint64_t hash, const char *text);

/* A number in [0, 1) that wanders smoothly with t, taking a new direction
 * every period seconds; different salts give unrelated walks. For
 * readings the model does not otherwise explain. */
double sim_model_drift(uint64_t seed, uint64_t salt, int64_t t, double period);

#endif
