/* Unit tests of ef_freshness.c: cached readings and data age. */
#include "ef_freshness.h"
#include "ef_metric.h"
#include "ef_sample.h"
#include "unit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ef_freshness_verdict judge(ef_freshness *f, const char *json,
                                  int64_t now_ms, int64_t offset_ms) {
  ef_samples samples = {0};
  ck_assert_int_eq(ef_samples_add_text(&samples, json), 0);
  const ef_sample *stamp = ef_samples_find(&samples, EF_CLOUD_STAMP_PATH);
  ef_freshness_verdict verdict = ef_freshness_check(
      f, stamp != NULL && stamp->kind == EF_KIND_STRING ? stamp->text : NULL,
      now_ms, offset_ms);
  ef_samples_clear(&samples);
  return verdict;
}

/* 2024-06-17 00:00:00 UTC */
#define T0_MS 1718582400000LL

START_TEST(unchanged_stamp_is_stale) {
  ef_freshness f = {{0}};
  ef_freshness_verdict v =
      judge(&f, "{\"quota_cloud_ts\":\"2024-06-17 00:00:00\",\"bpSoc\":1}",
            T0_MS + 90000, 0);
  ck_assert(!v.stale);
  ck_assert(v.has_age);
  ck_assert_double_eq(v.age_s, 90.0);
  v = judge(&f, "{\"quota_cloud_ts\":\"2024-06-17 00:00:00\",\"bpSoc\":2}",
            T0_MS + 100000, 0);
  ck_assert(v.stale);
  ck_assert_double_eq(v.age_s, 100.0);
  v = judge(&f, "{\"quota_cloud_ts\":\"2024-06-17 00:01:30\"}", T0_MS + 100000,
            0);
  ck_assert(!v.stale);
  ck_assert_double_eq(v.age_s, 10.0);
}
END_TEST

START_TEST(age_follows_the_server_clock) {
  ef_freshness f = {{0}};
  /* Our clock is 30 s behind the server's. */
  ef_freshness_verdict v =
      judge(&f, "{\"quota_cloud_ts\":\"2024-06-17 00:00:00\"}", T0_MS, 30000);
  ck_assert_double_eq(v.age_s, 30.0);
}
END_TEST

START_TEST(no_stamp_is_fresh) {
  ef_freshness f = {{0}};
  ck_assert(!judge(&f, "{\"bpSoc\":1}", T0_MS, 0).stale);
  ck_assert(!judge(&f, "{\"bpSoc\":1}", T0_MS, 0).stale);
  ef_freshness_verdict v = judge(&f, "{\"quota_cloud_ts\":\"soon\"}", T0_MS, 0);
  ck_assert(!v.stale);
  ck_assert(!v.has_age);
  ck_assert(judge(&f, "{\"quota_cloud_ts\":\"soon\"}", T0_MS, 0).stale);
}
END_TEST

/* An age in milliseconds prints as short as it is, not as a float widened
 * to double (0.42100000381469727). */
START_TEST(age_prints_as_short_as_it_is) {
  ef_freshness f = {{0}};
  ef_freshness_verdict v =
      judge(&f, "{\"quota_cloud_ts\":\"2024-06-17 00:00:00\"}", T0_MS + 421, 0);
  char text[EF_NUMBER_TEXT_LEN];
  ck_assert_int_eq(ef_number_text(v.age_s, text), 0);
  ck_assert_str_eq(text, "0.421");
  ck_assert_int_eq(ef_number_text(-2.5, text), 0);
  ck_assert_str_eq(text, "-2.5");
  ck_assert_int_eq(ef_number_text(0.1 + 0.2, text), 0);
  ck_assert_str_eq(text, "0.30000000000000004");
}
END_TEST

/* What ef_number_text promises: the first of 15, 16, 17 digits that reads
 * back as the number. */
static void printed(double number, char out[EF_NUMBER_TEXT_LEN]) {
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(out, EF_NUMBER_TEXT_LEN, "%.*g", digits, number);
    if (strtod(out, NULL) == number)
      return;
  }
}

/* Whole numbers of thousandths (ages in milliseconds), written without
 * printf, are written as printf writes them: small and large, negative,
 * with trailing zeros, at 15 digits and past them; and numbers near them
 * that are none. */
START_TEST(thousandths_print_as_printf_does) {
  uint64_t state = 42;
  size_t checked = 0;
  for (int i = 0; i < 200000; i++) {
    state = state * UINT64_C(6364136223846793005) + 1442695040888963407u;
    int64_t k;
    switch (i % 5) {
    case 0:
      k = (int64_t)(state >> 44); /* up to 2^20 */
      break;
    case 1:
      k = (int64_t)(state >> 14) % INT64_C(2000000000000000); /* 2e15 */
      break;
    case 2:
      k = (int64_t)((state >> 40) % 1000) * 1000; /* whole numbers */
      break;
    case 3:
      k = INT64_C(999999999999999) - (int64_t)(state >> 54); /* 15 digits */
      break;
    default:
      k = (int64_t)(state >> 34) * 10; /* trailing zeros */
      break;
    }
    if (state & 1)
      k = -k;
    double numbers[] = {(double)k / 1000.0, nextafter((double)k / 1000.0, 0),
                        (double)k / 1000.0 + 0.0005};
    for (size_t n = 0; n < 3; n++) {
      char ours[EF_NUMBER_TEXT_LEN], want[EF_NUMBER_TEXT_LEN];
      ck_assert_int_eq(ef_number_text(numbers[n], ours), 0);
      printed(numbers[n], want);
      ck_assert_msg(strcmp(ours, want) == 0, "%.17g: %s, printf %s", numbers[n],
                    ours, want);
      checked++;
    }
  }
  char text[EF_NUMBER_TEXT_LEN];
  ck_assert_int_eq(ef_number_text(-0.0, text), 0);
  ck_assert_str_eq(text, "-0");
  ck_assert_int_eq(ef_number_text(0.001, text), 0);
  ck_assert_str_eq(text, "0.001");
  ck_assert_int_eq(ef_number_text(-12.3, text), 0);
  ck_assert_str_eq(text, "-12.3");
  ck_assert_uint_eq(checked, 600000);
}
END_TEST

UNIT_MAIN("freshness", unchanged_stamp_is_stale, age_follows_the_server_clock,
          no_stamp_is_fresh, age_prints_as_short_as_it_is,
          thousandths_print_as_printf_does)
