/* libFuzzer target: the times of history requests and of the cloud's
 * stamps, through ef_time_parse, ef_time_format and ef_history_windows
 * (ef_history.c).
 *
 * Input: two NUL-separated texts (fuzz_support.h), the begin and the end of
 * a range. Besides memory errors and undefined behaviour, abort() when a
 * parsed time does not survive formatting and parsing again, or when the
 * windows of [begin, end] do not tile it in pieces shorter than a week. */
#include "ef_history.h"
#include "fuzz_support.h"

#include <stdint.h>
#include <string.h>

/* Windows checked one by one; a longer range is only counted. */
#define MAX_WINDOWS 1024

/* Parses text; on success, the API form of the time must read back as the
 * same time (years of four digits: the API's form has no other). */
static int parse_time(const char *text, time_t *t) {
  if (text == NULL || ef_time_parse(text, t) != 0)
    return -1;
  char formatted[EF_TIME_TEXT_LEN];
  ef_time_format(*t, formatted);
  if (strlen(formatted) == EF_TIME_TEXT_LEN - 1 && formatted[4] == '-') {
    time_t again;
    fuzz_require(ef_time_parse(formatted, &again) == 0,
                 "its own format refused");
    fuzz_require(again == *t, "a time that changes when formatted");
  }
  return 0;
}

static void check_windows(time_t begin, time_t end) {
  static ef_window windows[MAX_WINDOWS];
  size_t n = ef_history_windows(begin, end, windows, MAX_WINDOWS);
  fuzz_require((n == 0) == (end < begin), "windows for an empty range");
  for (size_t i = 0; i < n && i < MAX_WINDOWS; i++) {
    const ef_window *w = &windows[i];
    fuzz_require(w->begin <= w->end && w->end - w->begin < EF_WEEK_S,
                 "a window of a week or more");
    fuzz_require(w->begin == (i == 0 ? begin : windows[i - 1].end + 1),
                 "windows that do not follow each other");
    fuzz_require(w->end <= end, "a window past the range");
  }
  if (n > 0 && n <= MAX_WINDOWS)
    fuzz_require(windows[n - 1].end == end, "windows short of the range");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input input;
  fuzz_input_init(&input, data, size);
  time_t begin, end;
  int begin_ok = parse_time(fuzz_input_token(&input), &begin) == 0;
  int end_ok = parse_time(fuzz_input_token(&input), &end) == 0;
  if (begin_ok && end_ok)
    check_windows(begin, end);
  fuzz_input_free(&input);
  return 0;
}
