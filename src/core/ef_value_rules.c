/* ef_value_rules.c: "no reading" markers and the lifetime-counter guard. */
#include "ef_value_rules.h"

#include "ef_hash.h"

#include <math.h>
#include <stdlib.h>

/* The markers as the API sends them, and scaled as a value in tenths,
 * hundredths or thousandths is: -3270, -327, 65535 / 10^k (k = 0..3) and
 * 4294967295 / 10^k. Each literal is the double nearest its decimal, as
 * strtod reads the API's text, and 65535 / 100.0 computes it: both are
 * correctly rounded. -3270 scaled further (-32.7) is a real winter
 * temperature, so it stops at tenths.
 *
 * Each in the slot its bits' hash gives (ef_value_rules.h), found for
 * these ten by trying multipliers: one load and one compare for every
 * value of every reading. The others are NaN, which equals nothing.
 * check_value_rules asks for every marker and its neighbours. */
const double ef_no_reading_slots[EF_NO_READING_SLOTS] = {
    [0] = 429496729.5, [1] = -327.0,  [2] = 4294967295.0,
    [3] = NAN,         [4] = -3270.0, [5] = NAN,
    [6] = 6553.5,      [7] = NAN,     [8] = 655.35,
    [9] = 42949672.95, [10] = NAN,    [11] = 4294967.295,
    [12] = 65.535,     [13] = NAN,    [14] = NAN,
    [15] = 65535.0,
};

void ef_value_memory_clear(ef_value_memory *memory) {
  free(memory->counters);
  *memory = (ef_value_memory){0};
}

uint32_t ef_value_series_hash(const char *const *texts, size_t n) {
  uint32_t hash = EF_FNV32_BASIS;
  for (size_t i = 0; i < n; i++)
    hash = ef_fnv32_text_ended(hash, texts[i]);
  return hash;
}

_Static_assert(EF_MAX_COUNTERS == 4 * 4 * 4, "4, 16, 64 reach the cap");

/* The counter of series, or a new one remembering value; NULL when there
 * is no room (published unguarded). *fresh says it is new. */
static ef_counter *counter_of(ef_value_memory *memory, uint32_t series,
                              double value, int *fresh) {
  *fresh = 0;
  for (size_t i = 0; i < memory->n_counters; i++)
    if (memory->counters[i].series == series)
      return &memory->counters[i];
  if (memory->n_counters == memory->counters_cap) {
    /* 4, 16, 64: a PowerOcean's first reading brings 14 counters. */
    size_t cap = memory->counters_cap ? 4u * memory->counters_cap : 4;
    if (cap > EF_MAX_COUNTERS)
      return NULL;
    ef_counter *grown = realloc(memory->counters, cap * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    memory->counters = grown;
    memory->counters_cap = (uint16_t)cap;
  }
  *fresh = 1;
  ef_counter *counter = &memory->counters[memory->n_counters++];
  *counter = (ef_counter){.series = series, .candidate = NAN, .last = value};
  return counter;
}

ef_counter_verdict ef_counter_judge(ef_value_memory *memory, uint32_t series,
                                    double value, double glitch_share) {
  if (value == 0 || ef_value_no_reading(value))
    return EF_COUNTER_NO_READING;
  int fresh;
  ef_counter *counter = counter_of(memory, series, value, &fresh);
  if (counter == NULL || fresh)
    return EF_COUNTER_PUBLISH; /* nothing to compare with */
  if (!isnan(counter->candidate)) {
    double candidate = counter->candidate;
    counter->candidate = NAN;
    /* The second reading decides: near the new value, it was true (a
     * reset, or a jump after a long silence); near the old one, a spike. */
    if (fabs(value - candidate) < fabs(value - counter->last)) {
      counter->last = value;
      return EF_COUNTER_PUBLISH;
    }
  }
  double last = counter->last;
  if (value >= last) {
    double room = glitch_share * last;
    if (value - last <=
        (room > EF_COUNTER_STEP_FLOOR ? room : EF_COUNTER_STEP_FLOOR)) {
      counter->last = value;
      return EF_COUNTER_PUBLISH;
    }
  } else if (last - value < glitch_share * last) {
    return EF_COUNTER_GLITCH;
  }
  counter->candidate = (float)value;
  return EF_COUNTER_UNSURE;
}
