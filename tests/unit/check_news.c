/* Unit tests of ef_news.c: every kind of news worded once, for every front
 * end. */
#include "ef_news.h"
#include "unit.h"

#include <string.h>

/* 2024-06-17 00:00:00 and a week later, UTC. */
#define MONDAY 1718582400
#define WEEK (7 * 86400)

static ef_roster_device device = {
    .sn = "R351ZE1AZH4E0042", .name = "house", .instance = "house~2"};

/* Each kind, in the order of ef_news_kind, with the news a test hands it
 * and the words a log line carries. */
static const struct {
  ef_news news;
  const char *words;
} kinds[] = {
    {{.kind = EF_NEWS_FAILING,
      .device = &device,
      .text = "HTTP 500; the cloud answers later"},
     "HTTP 500; the cloud answers later"},
    {{.kind = EF_NEWS_CHANGED, .device = &device, .text = "HTTP 503"},
     "HTTP 503"},
    {{.kind = EF_NEWS_RECOVERED, .device = &device, .failures = 3},
     "answers again after 3 failures"},
    {{.kind = EF_NEWS_STALE, .device = &device, .text = "2024-06-17 00:00:00"},
     "the cloud repeats the same reading (2024-06-17 00:00:00): the device "
     "seems offline; no values until new data arrives"},
    {{.kind = EF_NEWS_FRESH, .device = &device}, "new data again"},
    {{.kind = EF_NEWS_ADDED, .device = &device},
     "found by discovery: polled from now"},
    {{.kind = EF_NEWS_REMOVED, .device = &device},
     "no longer listed by the account: not polled any more"},
    {{.kind = EF_NEWS_OFFLINE, .device = &device},
     "offline (device/list): not polled until it is online again"},
    {{.kind = EF_NEWS_ONLINE, .device = &device}, "online again (device/list)"},
    {{.kind = EF_NEWS_LIST_FAILING, .text = "HTTP 500"},
     "listing the account's devices (device/list): HTTP 500; configured "
     "devices are still polled, and the list is asked again later"},
    {{.kind = EF_NEWS_LIST_RECOVERED},
     "listing the account's devices works again"},
    {{.kind = EF_NEWS_CLOCK_SKEWED, .text = "the server's clock is 90 s ahead"},
     "the server's clock is 90 s ahead"},
    {{.kind = EF_NEWS_CLOCK_IN_STEP, .text = "the clocks agree again"},
     "the clocks agree again"},
    {{.kind = EF_NEWS_NOTE, .text = "anything else"}, "anything else"},
    {{.kind = EF_NEWS_INSTANCE_TAKEN, .device = &device},
     "another device (a configured Name, or the same device discovered by "
     "another account) already has plugin instance \"house\": its values are "
     "dispatched as plugin instance \"house~2\""},
    {{.kind = EF_NEWS_SILENT, .device = &device, .text = "300"},
     "no MQTT message for 300 s: silent, no values until the next one"},
    {{.kind = EF_NEWS_HEARD, .device = &device}, "MQTT messages again"},
    {{.kind = EF_NEWS_PUSH_OFFLINE, .device = &device},
     "offline (its MQTT status)"},
    {{.kind = EF_NEWS_PUSH_ONLINE, .device = &device},
     "online again (its MQTT status)"},
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

START_TEST(every_kind_has_its_words) {
  char words[EF_NEWS_WORDS_LEN];
  for (size_t i = 0; i < N_KINDS; i++) {
    ck_assert_int_eq(kinds[i].news.kind, i);
    ck_assert_int_eq(ef_news_describe(&kinds[i].news, 0, words, sizeof(words)),
                     0);
    ck_assert_str_eq(words, kinds[i].words);
  }
}
END_TEST

/* A kind this test has no words for fails here: add it to kinds. */
START_TEST(no_kind_past_the_last) {
  char words[EF_NEWS_WORDS_LEN] = "left over";
  ef_news news = {.kind = (ef_news_kind)N_KINDS, .device = &device};
  ck_assert_int_eq(ef_news_describe(&news, 0, words, sizeof(words)), -1);
  ck_assert_str_eq(words, "");
}
END_TEST

START_TEST(one_failure_is_singular) {
  char words[EF_NEWS_WORDS_LEN];
  ef_news news = {.kind = EF_NEWS_RECOVERED, .device = &device, .failures = 1};
  ef_news_describe(&news, 0, words, sizeof(words));
  ck_assert_str_eq(words, "answers again after 1 failure");
}
END_TEST

START_TEST(a_report_is_named_with_its_window) {
  char words[EF_NEWS_WORDS_LEN];
  ef_news news = {.kind = EF_NEWS_FAILING,
                  .device = &device,
                  .report = "BMS_HEAT",
                  .text = "HTTP 500"};
  ef_news_describe(&news, 0, words, sizeof(words));
  ck_assert_str_eq(words, "report BMS_HEAT: HTTP 500");
  ef_window window = {.begin = MONDAY, .end = MONDAY + WEEK};
  news.window = &window;
  ef_news_describe(&news, 0, words, sizeof(words));
  ck_assert_str_eq(words, "report BMS_HEAT, 2024-06-17 00:00:00 .. "
                          "2024-06-24 00:00:00: HTTP 500");
  news = (ef_news){.kind = EF_NEWS_RECOVERED,
                   .device = &device,
                   .report = "BMS_HEAT",
                   .failures = 2};
  ef_news_describe(&news, 0, words, sizeof(words));
  ck_assert_str_eq(words, "report BMS_HEAT: answers again after 2 failures");
}
END_TEST

/* A notification has little room: a failure's error without the advice;
 * any other news in the same words as the log line. */
START_TEST(brief_is_the_error_alone) {
  char full[EF_NEWS_WORDS_LEN], brief[EF_NEWS_WORDS_LEN];
  ef_error error;
  ef_error_set(&error, EF_ERR_TRANSPORT, "Could not resolve host");
  ef_news news = {.kind = EF_NEWS_FAILING,
                  .device = &device,
                  .report = "BMS_HEAT",
                  .error = &error,
                  .text = "Could not resolve host; check the endpoint"};
  ef_news_describe(&news, 1, brief, sizeof(brief));
  ck_assert_str_eq(brief, "report BMS_HEAT: Could not resolve host");
  for (size_t i = 0; i < N_KINDS; i++) {
    if (kinds[i].news.kind == EF_NEWS_FAILING ||
        kinds[i].news.kind == EF_NEWS_CHANGED)
      continue;
    ef_news_describe(&kinds[i].news, 0, full, sizeof(full));
    ef_news_describe(&kinds[i].news, 1, brief, sizeof(brief));
    ck_assert_str_eq(brief, full);
  }
}
END_TEST

/* Words longer than the room are cut, terminated, never overrun. */
START_TEST(words_are_cut_to_the_room) {
  char words[16 + 1];
  memset(words, 'x', sizeof(words));
  for (size_t i = 0; i < N_KINDS; i++) {
    words[16] = '#';
    ck_assert_int_eq(ef_news_describe(&kinds[i].news, 0, words, 16), 0);
    ck_assert_uint_le(strlen(words), 15);
    ck_assert_int_eq(strncmp(words, kinds[i].words, strlen(words)), 0);
    ck_assert_int_eq(words[16], '#');
  }
  ef_news news = {.kind = EF_NEWS_FAILING,
                  .device = &device,
                  .report = "A_REPORT_CODE_LONGER_THAN_THE_ROOM",
                  .text = "HTTP 500"};
  ck_assert_int_eq(ef_news_describe(&news, 0, words, 16), 0);
  ck_assert_str_eq(words, "report A_REPORT");
  ck_assert_int_eq(words[16], '#');
}
END_TEST

UNIT_MAIN("news", every_kind_has_its_words, no_kind_past_the_last,
          one_failure_is_singular, a_report_is_named_with_its_window,
          brief_is_the_error_alone, words_are_cut_to_the_room)
