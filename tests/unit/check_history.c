/* Unit tests of history.c: windows and times the API accepts. */
#include "history.h"
#include "unit.h"

static time_t at(const char *text) {
  time_t t = 0;
  ck_assert_msg(ef_time_parse(text, &t) == 0, "cannot parse %s", text);
  return t;
}

static void assert_window(const ef_window *w, const char *begin,
                          const char *end) {
  char text[EF_TIME_TEXT_LEN];
  ef_time_format(w->begin, text);
  ck_assert_str_eq(text, begin);
  ef_time_format(w->end, text);
  ck_assert_str_eq(text, end);
  ck_assert_int_lt(w->end - w->begin, EF_WEEK_S);
}

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
  ck_assert_uint_eq(ef_history_windows(at("2024-06-01"),
                                       at("2024-06-30 23:59:59"), w, 8),
                    5);
  assert_window(&w[0], "2024-06-01 00:00:00", "2024-06-07 23:59:59");
  assert_window(&w[3], "2024-06-22 00:00:00", "2024-06-28 23:59:59");
  assert_window(&w[4], "2024-06-29 00:00:00", "2024-06-30 23:59:59");
  /* A short buffer still learns how many windows are needed. */
  ck_assert_uint_eq(ef_history_windows(at("2024-06-01"),
                                       at("2024-06-30 23:59:59"), w, 2),
                    5);
  ck_assert_uint_eq(ef_history_windows(at("2024-06-02"), at("2024-06-01"), w,
                                       8),
                    0);
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

UNIT_MAIN("history", reference_week_is_one_window, exactly_seven_days_is_split,
          thirty_days_are_five_windows, times_parse_as_utc)
