/* ef_news.h: what the core has to say, how grave it is, and its words.
 *
 * Promises: news is edge-triggered (ef_engine.h): each kind below is told
 * when something starts or stops, never again while it lasts. Each kind
 * is worded here once (ef_news_describe), for every front end; a front
 * end names the device or account the news is about its own way and maps
 * levels and kinds to its own log levels and notifications, nothing
 * more. */
#ifndef EF_NEWS_H
#define EF_NEWS_H

#include "ef_error.h"
#include "ef_history.h"
#include "ef_roster.h"

#include <stddef.h>

typedef enum {
  EF_LEVEL_ERROR,
  EF_LEVEL_WARNING,
  EF_LEVEL_NOTICE,
  EF_LEVEL_INFO,
} ef_level;

/* A new kind needs its words (ef_news.c) and a row in check_news.c. */
typedef enum {
  /* A device's polls, or one of its reports (news.report set). */
  EF_NEWS_FAILING,   /* error, text: the error and what to do about it */
  EF_NEWS_CHANGED,   /* failing differently: error, text */
  EF_NEWS_RECOVERED, /* failures: how many in a row */
  /* The cloud serves the same reading again and again. */
  EF_NEWS_STALE, /* text: the repeated stamp; no values until new data */
  EF_NEWS_FRESH, /* new data again after EF_NEWS_STALE */
  /* The account's device list. */
  EF_NEWS_ADDED,   /* first_list: it came with the first list */
  EF_NEWS_REMOVED, /* the device is forgotten after the news */
  EF_NEWS_OFFLINE,
  EF_NEWS_ONLINE,
  EF_NEWS_LIST_FAILING, /* device NULL; error, text */
  EF_NEWS_LIST_RECOVERED,
  /* The account. */
  EF_NEWS_CLOCK_SKEWED,  /* text */
  EF_NEWS_CLOCK_IN_STEP, /* text */
  EF_NEWS_NOTE,          /* level, text: anything else said once (device may be
                            set) */
  /* A device found by discovery whose instance (ef_roster.h) another
   * device has: it got device->instance instead. Only for front ends that
   * name series by instance. */
  EF_NEWS_INSTANCE_TAKEN,
  /* Push mode (MQTT). */
  EF_NEWS_SILENT,       /* no message for the silence limit: text, seconds */
  EF_NEWS_HEARD,        /* a message again after EF_NEWS_SILENT */
  EF_NEWS_PUSH_OFFLINE, /* its status message says offline */
  EF_NEWS_PUSH_ONLINE,  /* and online again */
} ef_news_kind;

typedef struct {
  ef_news_kind kind;
  ef_level level; /* how grave it is */
  const ef_roster_device *device;
  const char *report;      /* the report's code, for a report's news */
  const ef_window *window; /* the report's window, in a backfill */
  const ef_error *error;
  const char *text;
  unsigned failures;
  int first_list;
} ef_news;

/* Room for the words of any news (ef_news_describe). */
#define EF_NEWS_WORDS_LEN (EF_ERROR_MESSAGE_LEN + 1024)

/* Words news into out (size bytes, always terminated; EF_NEWS_WORDS_LEN
 * holds any): what happened and, for a failure, what to do about it,
 * after "report CODE: " (with the window's dates in a backfill) for a
 * report's news. The device or account it is about is not named: the
 * front end puts its own name for it first ("device SN: " and the
 * words). brief: a failure's error without the advice, for a notification
 * that has little room; the same words otherwise. Returns 0, or -1 (and
 * out empty) for a kind this build does not know. */
int ef_news_describe(const ef_news *news, int brief, char *out, size_t size);

#endif
