/* Unit tests of ef_value_rules.c: "no reading" markers and the guard of
 * lifetime counters. */
#include "ef_value_rules.h"
#include "unit.h"

#include <stdlib.h>

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
      0,     1,      -1,  65534,  65536,        6553.4,    655.3, 65.53, -32.7,
      -3269, -327.1, 100, 229.70, 4294967294.0, 429496729, 1e28,  -1e28};
  for (size_t i = 0; i < sizeof(readings) / sizeof(readings[0]); i++)
    ck_assert_msg(!ef_value_no_reading(readings[i]), "%.17g", readings[i]);
}
END_TEST

static ef_counter_verdict judge(ef_value_memory *memory, double value) {
  return ef_counter_judge(memory, SERIES, value, SHARE);
}

START_TEST(counters_grow_and_hold_small_glitches) {
  ef_value_memory memory = {0};
  ck_assert_int_eq(judge(&memory, 4.3e7), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 4.3e7 + 250), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 4.3e7 + 250), EF_COUNTER_PUBLISH);
  /* A small step back is a glitch; the counter goes on from before. */
  ck_assert_int_eq(judge(&memory, 4.3e7 - 10000), EF_COUNTER_GLITCH);
  ck_assert_int_eq(judge(&memory, 4.3e7 + 300), EF_COUNTER_PUBLISH);
  ck_assert_double_eq(memory.counters[0].last, 4.3e7 + 300);
  ef_value_memory_clear(&memory);
  ck_assert_ptr_null(memory.counters);
}
END_TEST

START_TEST(zero_and_markers_are_no_reading) {
  ef_value_memory memory = {0};
  ck_assert_int_eq(judge(&memory, 0), EF_COUNTER_NO_READING);
  ck_assert_int_eq(judge(&memory, 4294967295.0), EF_COUNTER_NO_READING);
  ck_assert_uint_eq(memory.n_counters, 0); /* nothing remembered of them */
  ck_assert_int_eq(judge(&memory, 5e6), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 0), EF_COUNTER_NO_READING);
  ck_assert_int_eq(judge(&memory, 65535), EF_COUNTER_NO_READING);
  ck_assert_int_eq(judge(&memory, 5e6 + 1), EF_COUNTER_PUBLISH);
  ef_value_memory_clear(&memory);
}
END_TEST

/* A one-reading spike is held, its return is no reset, and it is
 * forgotten: the counter goes on as if it had never been. */
START_TEST(a_spike_that_returns_is_a_glitch) {
  ef_value_memory memory = {0};
  ck_assert_int_eq(judge(&memory, 4.3e7), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 9e9), EF_COUNTER_UNSURE);
  ck_assert_int_eq(judge(&memory, 4.3e7 + 100), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 4.3e7 + 200), EF_COUNTER_PUBLISH);
  /* And a dip to a tenth that comes back: no reset either. */
  ck_assert_int_eq(judge(&memory, 4.3e6), EF_COUNTER_UNSURE);
  ck_assert_int_eq(judge(&memory, 4.3e7 + 300), EF_COUNTER_PUBLISH);
  ef_value_memory_clear(&memory);
}
END_TEST

/* A reset is believed once the counter grows from its new value; a jump
 * up (a long silence) once the next reading stays there. */
START_TEST(a_reset_is_believed_when_it_grows) {
  ef_value_memory memory = {0};
  ck_assert_int_eq(judge(&memory, 4.3e7), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 500), EF_COUNTER_UNSURE);
  ck_assert_int_eq(judge(&memory, 520), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 540), EF_COUNTER_PUBLISH);
  ck_assert_int_eq(judge(&memory, 2e6), EF_COUNTER_UNSURE);
  ck_assert_int_eq(judge(&memory, 2e6 + 5), EF_COUNTER_PUBLISH);
  /* An unsure value followed by another far from both: judged afresh. */
  ck_assert_int_eq(judge(&memory, 9e9), EF_COUNTER_UNSURE);
  ck_assert_int_eq(judge(&memory, 7e8), EF_COUNTER_UNSURE);
  ck_assert_int_eq(judge(&memory, 7e8 + 1), EF_COUNTER_PUBLISH);
  ef_value_memory_clear(&memory);
}
END_TEST

/* A young counter grows by more than the share a reading: the floor. */
START_TEST(small_counters_grow_freely) {
  ef_value_memory memory = {0};
  double value = 10;
  ck_assert_int_eq(judge(&memory, value), EF_COUNTER_PUBLISH);
  for (int i = 0; i < 20; i++) {
    value += EF_COUNTER_STEP_FLOOR * 0.9;
    ck_assert_int_eq(judge(&memory, value), EF_COUNTER_PUBLISH);
  }
  ef_value_memory_clear(&memory);
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

UNIT_MAIN("value_rules", markers_and_their_scaled_forms,
          counters_grow_and_hold_small_glitches,
          zero_and_markers_are_no_reading, a_spike_that_returns_is_a_glitch,
          a_reset_is_believed_when_it_grows, small_counters_grow_freely,
          memory_is_small_and_bounded)
