/* Unit tests of ef_freshness.c: cached readings and data age. */
#include "ef_freshness.h"
#include "ef_metric.h"
#include "ef_sample.h"
#include "unit.h"

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

UNIT_MAIN("freshness", unchanged_stamp_is_stale, age_follows_the_server_clock,
          no_stamp_is_fresh, age_prints_as_short_as_it_is)
