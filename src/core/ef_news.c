/* ef_news.c: each kind of news in words, once for every front end. */
#include "ef_news.h"

#include <stdio.h>

/* "report CODE: ", with the window's dates in a backfill, into out;
 * returns its length (less than size). */
static size_t about_report(const ef_news *news, char *out, size_t size) {
  out[0] = '\0';
  if (news->report == NULL)
    return 0;
  int n;
  if (news->window != NULL) {
    char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
    ef_time_format(news->window->begin, begin);
    ef_time_format(news->window->end, end);
    n = snprintf(out, size, "report %s, %s .. %s: ", news->report, begin, end);
  } else {
    n = snprintf(out, size, "report %s: ", news->report);
  }
  if (n < 0)
    return 0;
  return (size_t)n < size ? (size_t)n : size - 1;
}

/* Each kind's words, around the news' text for a kind that carries one
 * (ef_news.h); a kind whose words need its numbers has none here. */
static const struct {
  const char *before;
  const char *after; /* NULL: no text */
} words_of[] = {
    [EF_NEWS_FAILING] = {"", ""},
    [EF_NEWS_CHANGED] = {"", ""},
    [EF_NEWS_STALE] = {"the cloud repeats the same reading (",
                       "): the device seems offline; no values until new "
                       "data arrives"},
    [EF_NEWS_FRESH] = {"new data again", NULL},
    [EF_NEWS_ADDED] = {"found by discovery: polled from now", NULL},
    [EF_NEWS_REMOVED] = {"no longer listed by the account: not polled any "
                         "more",
                         NULL},
    [EF_NEWS_OFFLINE] = {"offline (device/list): not polled until it is "
                         "online again",
                         NULL},
    [EF_NEWS_ONLINE] = {"online again (device/list)", NULL},
    [EF_NEWS_LIST_FAILING] = {"listing the account's devices (device/list): ",
                              "; configured devices are still polled, and "
                              "the list is asked again later"},
    [EF_NEWS_LIST_RECOVERED] = {"listing the account's devices works again",
                                NULL},
    [EF_NEWS_CLOCK_SKEWED] = {"", ""},
    [EF_NEWS_CLOCK_IN_STEP] = {"", ""},
    [EF_NEWS_NOTE] = {"", ""},
    [EF_NEWS_SILENT] = {"no MQTT message for ",
                        " s: silent, no values until the next one"},
    [EF_NEWS_HEARD] = {"MQTT messages again", NULL},
    [EF_NEWS_PUSH_OFFLINE] = {"offline (its MQTT status)", NULL},
    [EF_NEWS_PUSH_ONLINE] = {"online again (its MQTT status)", NULL},
};

#define N_WORDS (sizeof(words_of) / sizeof(words_of[0]))

int ef_news_describe(const ef_news *news, int brief, char *out, size_t size) {
  if (size == 0)
    return -1;
  const ef_roster_device *device = news->device;
  size_t n = about_report(news, out, size);
  char *words = out + n;
  size_t room = size - n;
  switch (news->kind) {
  case EF_NEWS_FAILING:
  case EF_NEWS_CHANGED:
    if (brief && news->error != NULL) {
      ef_error_format(news->error, words, room);
      return 0;
    }
    break;
  case EF_NEWS_RECOVERED:
    snprintf(words, room, "answers again after %u failure%s", news->failures,
             news->failures == 1 ? "" : "s");
    return 0;
  case EF_NEWS_INSTANCE_TAKEN:
    snprintf(words, room,
             "another device (a configured Name, or the same device "
             "discovered by another account) already has plugin instance "
             "\"%s\": its values are dispatched as plugin instance \"%s\"",
             device ? ef_roster_wanted_instance(device) : "",
             device ? device->instance : "");
    return 0;
  default:
    break;
  }
  if ((size_t)news->kind >= N_WORDS || words_of[news->kind].before == NULL) {
    out[0] = '\0';
    return -1;
  }
  const char *after = words_of[news->kind].after;
  snprintf(words, room, "%s%s%s", words_of[news->kind].before,
           after == NULL        ? ""
           : news->text != NULL ? news->text
                                : "",
           after == NULL ? "" : after);
  return 0;
}
