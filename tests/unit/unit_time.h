/* unit_time.h: UTC times and history windows, as the Check suites of
 * ef_history.c and ef_report.c write and assert them. */
#ifndef EF_UNIT_TIME_H
#define EF_UNIT_TIME_H

#include "ef_history.h"

#include <check.h>

static inline time_t at(const char *text) {
  time_t t = 0;
  ck_assert_msg(ef_time_parse(text, &t) == 0, "cannot parse %s", text);
  return t;
}

/* w runs from begin to end, both "YYYY-MM-DD HH:MM:SS", and is shorter
 * than the week the API refuses. */
static inline void assert_window(const ef_window *w, const char *begin,
                                 const char *end) {
  char text[EF_TIME_TEXT_LEN];
  ef_time_format(w->begin, text);
  ck_assert_str_eq(text, begin);
  ef_time_format(w->end, text);
  ck_assert_str_eq(text, end);
  ck_assert_int_lt(w->end - w->begin, EF_WEEK_S);
}

#endif
