/* Unit tests of ef_history.c: windows and times the API accepts. */
#include "ef_history.h"
#include "unit.h"
#include "unit_time.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

START_TEST(reference_week_is_one_window) {
  ef_window w[4];
  ck_assert_uint_eq(ef_history_windows(at("2024-06-17 00:00:00"),
                                       at("2024-06-23 23:59:59"), w, 4),
                    1);
  assert_window(&w[0], "2024-06-17 00:00:00", "2024-06-23 23:59:59");
}
END_TEST

/* Exactly 7 days (00:00 to 00:00 a week later) is refused by the API: it
 * becomes a full window and a one-second one. */
START_TEST(exactly_seven_days_is_split) {
  ef_window w[4];
  ck_assert_uint_eq(ef_history_windows(at("2024-06-17 00:00:00"),
                                       at("2024-06-24 00:00:00"), w, 4),
                    2);
  assert_window(&w[0], "2024-06-17 00:00:00", "2024-06-23 23:59:59");
  assert_window(&w[1], "2024-06-24 00:00:00", "2024-06-24 00:00:00");
}
END_TEST

START_TEST(thirty_days_are_five_windows) {
  ef_window w[8];
  ck_assert_uint_eq(
      ef_history_windows(at("2024-06-01"), at("2024-06-30 23:59:59"), w, 8), 5);
  assert_window(&w[0], "2024-06-01 00:00:00", "2024-06-07 23:59:59");
  assert_window(&w[3], "2024-06-22 00:00:00", "2024-06-28 23:59:59");
  assert_window(&w[4], "2024-06-29 00:00:00", "2024-06-30 23:59:59");
  /* A short buffer still learns how many windows are needed. */
  ck_assert_uint_eq(
      ef_history_windows(at("2024-06-01"), at("2024-06-30 23:59:59"), w, 2), 5);
  ck_assert_uint_eq(
      ef_history_windows(at("2024-06-02"), at("2024-06-01"), w, 8), 0);
}
END_TEST

START_TEST(times_parse_as_utc) {
  ck_assert_int_eq(at("1970-01-01 00:00:00"), 0);
  ck_assert_int_eq(at("2024-06-17 00:00:00"), 1718582400);
  ck_assert_int_eq(at("2024-06-17T00:00:00Z"), 1718582400);
  ck_assert_int_eq(at("2024-06-17"), 1718582400);
  ck_assert_int_eq(at("2024-06-17T02:00:00+02:00"), 1718582400);
  ck_assert_int_eq(at("2024-06-16T19:00:00-0500"), 1718582400);
  ck_assert_int_eq(at("2024-06-17T00:00:00.250Z"), 1718582400);
  time_t t;
  ck_assert_int_eq(ef_time_parse("yesterday", &t), -1);
  ck_assert_int_eq(ef_time_parse("2024-06-17 00:00", &t), -1);
  ck_assert_int_eq(ef_time_parse("2024-06-17T00:00:00Q", &t), -1);
  ck_assert_int_eq(ef_time_parse("2024-06-17 00:00:00 junk", &t), -1);
}
END_TEST

/* Found by fuzz_time: "9999-12-31 23:59:61" is in the year 10000, whose
 * text overflowed the buffer and was left unterminated. */
START_TEST(time_past_year_9999_formats_empty) {
  char text[EF_TIME_TEXT_LEN];
  memset(text, 'x', sizeof(text));
  ef_time_format(at("9999-12-31 23:59:61"), text);
  ck_assert_str_eq(text, "");
}
END_TEST

typedef struct {
  size_t n_values, implausible;
  char names[4][32];
  char texts[4][48];
} delivered;

static void keep_result(const ef_history_result *result, void *ctx) {
  delivered *d = ctx;
  ck_assert_ptr_null(result->error);
  d->n_values = result->n_values;
  d->implausible = result->implausible;
  for (size_t i = 0; i < result->n_values && i < 4; i++) {
    snprintf(d->names[i], sizeof(d->names[i]), "%s", result->values[i].name);
    snprintf(d->texts[i], sizeof(d->texts[i]), "%s", result->values[i].text);
  }
}

/* A value that is no number a double carries exactly is left out and
 * counted, never clamped (2^64 + 1 would read as 2^64 - 1, then
 * 18446744073709551615000 Wh); a boolean or text too. */
START_TEST(history_numbers_stay_honest) {
  struct json_object *data = json_tokener_parse(
      "{\"code\":\"0\",\"message\":\"Success\",\"data\":["
      "{\"indexName\":\"Big\",\"indexValue\":18446744073709551617,"
      "\"unit\":\"kWh\"},"
      "{\"indexName\":\"Max\",\"indexValue\":18446744073709551615},"
      "{\"indexName\":\"Past 2^53\",\"indexValue\":9007199254740993},"
      "{\"indexName\":\"Flag\",\"indexValue\":true},"
      "{\"indexName\":\"Text\",\"indexValue\":\"12\"},"
      "{\"indexName\":\"Inf\",\"indexValue\":1e999},"
      "{\"indexName\":\"None\",\"indexValue\":null},"
      "{\"indexName\":\"Solar\",\"indexValue\":12.5,\"unit\":\"kWh\"},"
      "{\"indexName\":\"Exact\",\"indexValue\":9007199254740992}]}");
  ck_assert_ptr_nonnull(data);
  ef_answer answer = {.error = {.kind = EF_OK}, .data = data};
  ef_window window = {.begin = 0, .end = 1};
  delivered d = {0};
  ef_history_deliver(&answer, &window, keep_result, &d);
  ck_assert_uint_eq(d.n_values, 2);
  ck_assert_str_eq(d.names[0], "Solar");
  ck_assert_str_eq(d.texts[0], "12.5");
  ck_assert_str_eq(d.names[1], "Exact");
  ck_assert_uint_eq(d.implausible, 6); /* null is "no reading" */
  json_object_put(data);
}
END_TEST

UNIT_MAIN("history", reference_week_is_one_window, exactly_seven_days_is_split,
          thirty_days_are_five_windows, times_parse_as_utc,
          time_past_year_9999_formats_empty, history_numbers_stay_honest)
