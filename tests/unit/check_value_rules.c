/* Unit tests of ef_value_rules.c: "no reading" markers and the guard of
 * lifetime counters. */
#include "ef_value_rules.h"
#include "unit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SHARE 0.01
#define SERIES 7u

START_TEST(markers_and_their_scaled_forms) {
  const double markers[] = {65535,
                            6553.5,
                            655.35,
                            65.535,
                            4294967295.0,
                            429496729.5,
                            42949672.95,
                            4294967.295,
                            -3270,
                            -327,
                            -3270.0,
                            6553.50,
                            strtod("655.35", NULL)};
  for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
    ck_assert_msg(ef_value_no_reading(markers[i]), "%.17g", markers[i]);
  /* Neighbours are readings, and so is -32.7 (a winter's night). */
  static const double readings[] = {
      0,         1,     -1,    65534,  65536,        6553.4,  655.3,
      65.53,     -32.7, -3269, -327.1, 100,          229.70,  4294967294.0,
      429496729, 1e28,  -1e28, -1e4,   4294967296.0, 65535.5, INFINITY,
      -INFINITY, NAN};
  for (size_t i = 0; i < sizeof(readings) / sizeof(readings[0]); i++)
    ck_assert_msg(!ef_value_no_reading(readings[i]), "%.17g", readings[i]);
}
END_TEST

typedef struct {
  double value;
  ef_counter_verdict verdict;
} step;

/* Judges each step's value, after a fresh memory, as its verdict says. */
static void judged(const step *steps, size_t n) {
  ef_value_memory memory = {0};
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(ef_counter_judge(&memory, SERIES, steps[i].value, SHARE) ==
                      steps[i].verdict,
                  "step %zu: %.17g", i, steps[i].value);
  ef_value_memory_clear(&memory);
  ck_assert_ptr_null(memory.counters);
}

#define JUDGED(...)                                                            \
  judged((const step[]){__VA_ARGS__},                                          \
         sizeof((const step[]){__VA_ARGS__}) / sizeof(step))

#define PUBLISH EF_COUNTER_PUBLISH
#define NONE EF_COUNTER_NO_READING
#define GLITCH EF_COUNTER_GLITCH
#define UNSURE EF_COUNTER_UNSURE

/* A counter grows; a small step back is a glitch, and the counter goes on
 * from before it. */
START_TEST(counters_grow_and_hold_small_glitches) {
  JUDGED({4.3e7, PUBLISH}, {4.3e7 + 250, PUBLISH}, {4.3e7 + 250, PUBLISH},
         {4.3e7 - 10000, GLITCH}, {4.3e7 + 300, PUBLISH});
}
END_TEST

/* 0 and the markers are no reading, before the first value and after. */
START_TEST(zero_and_markers_are_no_reading) {
  JUDGED({0, NONE}, {4294967295.0, NONE}, {5e6, PUBLISH}, {0, NONE},
         {65535, NONE}, {5e6 + 1, PUBLISH});
}
END_TEST

/* A one-reading spike is held, its return is no reset, and it is
 * forgotten; so is a dip to a tenth that comes back. */
START_TEST(a_spike_that_returns_is_a_glitch) {
  JUDGED({4.3e7, PUBLISH}, {9e9, UNSURE}, {4.3e7 + 100, PUBLISH},
         {4.3e7 + 200, PUBLISH}, {4.3e6, UNSURE}, {4.3e7 + 300, PUBLISH});
}
END_TEST

/* A reset is believed once the counter grows from its new value; a jump
 * up (a long silence) once the next reading stays there; an unsure value
 * followed by one far from both is judged afresh. */
START_TEST(a_reset_is_believed_when_it_grows) {
  JUDGED({4.3e7, PUBLISH}, {500, UNSURE}, {520, PUBLISH}, {540, PUBLISH},
         {2e6, UNSURE}, {2e6 + 5, PUBLISH}, {9e9, UNSURE}, {7e8, UNSURE},
         {7e8 + 1, PUBLISH});
}
END_TEST

/* A young counter grows by more than the share a reading: the floor. */
START_TEST(small_counters_grow_freely) {
  step steps[21];
  for (size_t i = 0; i < 21; i++)
    steps[i] = (step){10 + (double)i * EF_COUNTER_STEP_FLOOR * 0.9, PUBLISH};
  judged(steps, 21);
}
END_TEST

/* Series are apart; past EF_MAX_COUNTERS a counter is published
 * unguarded; a counter costs 16 bytes. */
START_TEST(memory_is_small_and_bounded) {
  ck_assert_uint_le(sizeof(ef_counter), 16);
  ef_value_memory memory = {0};
  for (uint32_t s = 0; s < EF_MAX_COUNTERS + 5; s++)
    ck_assert_int_eq(ef_counter_judge(&memory, s, 1e6, SHARE),
                     EF_COUNTER_PUBLISH);
  ck_assert_uint_eq(memory.n_counters, EF_MAX_COUNTERS);
  ck_assert_int_eq(ef_counter_judge(&memory, 3, 1e6 - 1, SHARE),
                   EF_COUNTER_GLITCH);
  ck_assert_int_eq(ef_counter_judge(&memory, EF_MAX_COUNTERS + 2, 1, SHARE),
                   EF_COUNTER_PUBLISH);
  ef_value_memory_clear(&memory);
  const char *a[] = {"ecoflow", "solar_energy_total"};
  const char *b[] = {"ecoflowsolar", "_energy_total"};
  ck_assert_uint_ne(ef_value_series_hash(a, 2), ef_value_series_hash(b, 2));
  ck_assert_uint_eq(ef_value_series_hash(a, 2), ef_value_series_hash(a, 2));
}
END_TEST

/* The ten markers, and nothing else, whatever the bits: each marker's
 * nearest doubles either side, both zeros, and 2,000,000 doubles of random
 * bits and of the readings' range, against a scan of the list. */
START_TEST(only_the_markers_are_no_reading) {
  static const double ten[] = {
      -3270.0, -327.0,      65.535,      655.35,      6553.5,
      65535.0, 4294967.295, 42949672.95, 429496729.5, 4294967295.0};
  enum { N = sizeof(ten) / sizeof(ten[0]) };
  for (size_t i = 0; i < N; i++) {
    ck_assert(ef_value_no_reading(ten[i]));
    ck_assert(!ef_value_no_reading(nextafter(ten[i], INFINITY)));
    ck_assert(!ef_value_no_reading(nextafter(ten[i], -INFINITY)));
    ck_assert(!ef_value_no_reading(-ten[i]));
  }
  ck_assert(!ef_value_no_reading(0.0));
  ck_assert(!ef_value_no_reading(-0.0));
  uint64_t state = UINT64_C(0x2545F4914F6CDD1D);
  for (int i = 0; i < 2000000; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    double value;
    if (i % 2 == 0) {
      memcpy(&value, &state, sizeof(value));
    } else {
      /* A reading's decimal: -5000.000 to 4294967.295 by thousandths. */
      value = (double)(int64_t)(state % UINT64_C(4299967295)) / 1000 - 5000;
    }
    int listed = 0;
    for (size_t k = 0; k < N; k++)
      listed |= ten[k] == value;
    ck_assert_msg(ef_value_no_reading(value) == listed, "%.17g", value);
  }
}
END_TEST

UNIT_MAIN("value_rules", markers_and_their_scaled_forms,
          only_the_markers_are_no_reading,
          counters_grow_and_hold_small_glitches,
          zero_and_markers_are_no_reading, a_spike_that_returns_is_a_glitch,
          a_reset_is_believed_when_it_grows, small_counters_grow_freely,
          memory_is_small_and_bounded)
