/* Unit tests of schedule.c and health.c: when to poll, when to report. */
#include "health.h"
#include "schedule.h"
#include "unit.h"

#include <string.h>

static ef_error api_error(const char *code, const char *message) {
  ef_error err = {.kind = EF_ERR_API, .http_status = 200};
  strcpy(err.api_code, code);
  strcpy(err.message, message);
  return err;
}

START_TEST(interval_never_below_ten_seconds) {
  ck_assert_int_eq(ef_schedule_interval(1000), EF_MIN_INTERVAL_MS);
  ck_assert_int_eq(ef_schedule_interval(30000), 30000);
  ef_schedule s;
  ef_schedule_start(&s, 0, 5000);
  ck_assert_int_eq(s.interval_ms, EF_MIN_INTERVAL_MS);
  ck_assert(ef_schedule_due(&s, 5000));
}
END_TEST

START_TEST(due_after_interval_with_jitter_allowed) {
  ef_schedule s;
  ef_schedule_start(&s, 30000, 0);
  ef_schedule_record(&s, NULL, 100);
  ck_assert(!ef_schedule_due(&s, 20000));
  ck_assert(ef_schedule_due(&s, 29500)); /* a timer firing 0.6 s early */
  ck_assert(!ef_schedule_due(&s, 28000));
  ck_assert(ef_schedule_due(&s, 30100));
}
END_TEST

START_TEST(failures_back_off_and_success_resets) {
  ef_schedule s;
  ef_schedule_start(&s, 10000, 0);
  ef_error err = {.kind = EF_ERR_TRANSPORT};
  int64_t expected[] = {10000, 20000, 40000, 80000};
  for (int i = 0; i < 4; i++) {
    ef_schedule_record(&s, &err, 0);
    ck_assert_int_eq(s.next_ms, expected[i]);
  }
  for (int i = 0; i < 20; i++)
    ef_schedule_record(&s, &err, 0);
  ck_assert_int_eq(s.next_ms, EF_MAX_BACKOFF_MS);
  ef_schedule_record(&s, NULL, 0);
  ck_assert_int_eq(s.next_ms, 10000);
  ck_assert_uint_eq(s.failures, 0);
}
END_TEST

START_TEST(retry_after_is_honoured) {
  ef_schedule s;
  ef_schedule_start(&s, 10000, 0);
  ef_error err = {.kind = EF_ERR_HTTP, .http_status = 429,
                  .retry_after_s = 120};
  ef_schedule_record(&s, &err, 1000);
  ck_assert_int_eq(s.next_ms, 121000);
}
END_TEST

START_TEST(refused_devices_retry_hourly) {
  ef_schedule s;
  ef_schedule_start(&s, 10000, 0);
  ef_error err = api_error("1006", "current device is not allowed to get "
                                   "device info");
  ef_schedule_record(&s, &err, 0);
  ck_assert_int_eq(s.next_ms, EF_REFUSED_RETRY_MS);
  err = api_error("8521", "signature is wrong");
  ef_schedule_start(&s, 10000, 0);
  ef_schedule_record(&s, &err, 0);
  ck_assert_int_eq(s.next_ms, 10000);
}
END_TEST

START_TEST(long_intervals_are_not_shortened_by_backoff) {
  ef_schedule s;
  ef_schedule_start(&s, 2 * EF_MAX_BACKOFF_MS, 0);
  ef_error err = {.kind = EF_ERR_TRANSPORT};
  ef_schedule_record(&s, &err, 0);
  ck_assert_int_eq(s.next_ms, 2 * EF_MAX_BACKOFF_MS);
}
END_TEST

START_TEST(health_reports_changes_only) {
  ef_health h = {0};
  ef_error timeout = {.kind = EF_ERR_TRANSPORT};
  strcpy(timeout.message, "Timeout was reached");
  ef_error wrong = api_error("8521", "signature is wrong");
  ck_assert_int_eq(ef_health_update(&h, NULL), EF_HEALTH_UNCHANGED);
  ck_assert_int_eq(ef_health_update(&h, &timeout), EF_HEALTH_FAILED);
  ck_assert_int_eq(ef_health_update(&h, &timeout), EF_HEALTH_UNCHANGED);
  ck_assert_int_eq(ef_health_update(&h, &timeout), EF_HEALTH_UNCHANGED);
  ck_assert_uint_eq(h.failures, 3);
  ck_assert_int_eq(ef_health_update(&h, &wrong), EF_HEALTH_CHANGED);
  ck_assert_str_eq(h.last.api_code, "8521");
  ck_assert_int_eq(ef_health_update(&h, NULL), EF_HEALTH_RECOVERED);
  ck_assert_int_eq(ef_health_update(&h, NULL), EF_HEALTH_UNCHANGED);
  ck_assert_uint_eq(h.failures, 0);
}
END_TEST

UNIT_MAIN("schedule", interval_never_below_ten_seconds,
          due_after_interval_with_jitter_allowed,
          failures_back_off_and_success_resets, retry_after_is_honoured,
          refused_devices_retry_hourly,
          long_intervals_are_not_shortened_by_backoff,
          health_reports_changes_only)
