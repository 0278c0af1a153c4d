/* Unit tests of ef_schedule.c and ef_health.c: when to poll, when to report. */
#include "ef_health.h"
#include "ef_schedule.h"
#include "unit.h"

#include <stdlib.h>
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

/* The soak test's hook lowers the minimum, and only to a number of ms
 * from 1 to the real minimum: anything else leaves the cloud's limit. */
START_TEST(test_hook_lowers_the_minimum_only_when_valid) {
  static const char *const ignored[] = {
      "", "0", "-5", "abc", "50ms", "10001", "99999999999999999999"};
  for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
    ck_assert_int_eq(setenv(EF_TEST_MIN_INTERVAL_ENV, ignored[i], 1), 0);
    ck_assert_int_eq(ef_schedule_min_interval_ms(), EF_MIN_INTERVAL_MS);
    ck_assert_int_eq(ef_schedule_interval(1000), EF_MIN_INTERVAL_MS);
  }
  ck_assert_int_eq(setenv(EF_TEST_MIN_INTERVAL_ENV, "50", 1), 0);
  ck_assert_int_eq(ef_schedule_interval(20), 50);
  ck_assert_int_eq(ef_schedule_interval(1000), 1000);
  ck_assert_int_eq(unsetenv(EF_TEST_MIN_INTERVAL_ENV), 0);
  ck_assert_int_eq(ef_schedule_interval(1000), EF_MIN_INTERVAL_MS);
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
  ef_error err = {
      .kind = EF_ERR_HTTP, .http_status = 429, .retry_after_s = 120};
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

/* libcurl's message of the same timeout differs in the milliseconds. */
START_TEST(health_ignores_numbers_in_messages) {
  ef_health h = {0};
  ef_error first = {.kind = EF_ERR_TRANSPORT}, again = first;
  strcpy(first.message, "Operation timed out after 2001 milliseconds with 90 "
                        "out of 181 bytes received");
  strcpy(again.message, "Operation timed out after 2000 milliseconds with 91 "
                        "out of 182 bytes received");
  ck_assert_int_eq(ef_health_update(&h, &first), EF_HEALTH_FAILED);
  ck_assert_int_eq(ef_health_update(&h, &again), EF_HEALTH_UNCHANGED);
  strcpy(again.message, "Operation timed out after 2000 milliseconds with 0 "
                        "bytes received");
  ck_assert_int_eq(ef_health_update(&h, &again), EF_HEALTH_CHANGED);
}
END_TEST

/* A failing device's request left unsent by the account's cool-down is no
 * news; a healthy device's is. */
START_TEST(health_is_quiet_about_pauses_of_failing_devices) {
  ef_health h = {0};
  ef_error server = {.kind = EF_ERR_HTTP, .http_status = 500};
  ef_error paused = {.kind = EF_ERR_PAUSED};
  ck_assert_int_eq(ef_health_update(&h, &server), EF_HEALTH_FAILED);
  ck_assert_int_eq(ef_health_update(&h, &paused), EF_HEALTH_UNCHANGED);
  ck_assert_int_eq(ef_health_update(&h, &server), EF_HEALTH_UNCHANGED);
  ck_assert_uint_eq(h.failures, 3);
  ef_health healthy = {0};
  ck_assert_int_eq(ef_health_update(&healthy, &paused), EF_HEALTH_FAILED);
}
END_TEST

UNIT_MAIN("schedule", interval_never_below_ten_seconds,
          test_hook_lowers_the_minimum_only_when_valid,
          due_after_interval_with_jitter_allowed,
          failures_back_off_and_success_resets, retry_after_is_honoured,
          refused_devices_retry_hourly,
          long_intervals_are_not_shortened_by_backoff,
          health_reports_changes_only, health_ignores_numbers_in_messages,
          health_is_quiet_about_pauses_of_failing_devices)
