/* ef_engine_tell.c: the engine's tellers: what happened (a device's
 * health, the list's events, anything said once), worded as news for the
 * front end's sink. */
#include "ef_engine_private.h"

#include <stdarg.h>
#include <stdio.h>

/* Room for an error and what to do about it (ef_roster_explain). */
#define EXPLAINED_LEN (EF_ERROR_MESSAGE_LEN + 512)

void ef_engine_tell(const ef_engine *engine, const ef_news *news) {
  engine->sink.news(engine->ctx, news);
}

void ef_engine_note(const ef_engine *engine, ef_level level,
                    const ef_roster_device *device, const char *format, ...) {
  char text[EXPLAINED_LEN];
  va_list ap;
  va_start(ap, format);
  vsnprintf(text, sizeof(text), format, ap);
  va_end(ap);
  ef_engine_tell(engine, &(ef_news){.kind = EF_NEWS_NOTE,
                                    .level = level,
                                    .device = device,
                                    .text = text});
}

/* A device's (or its report's) health changed: say so. */
void ef_engine_tell_health(const ef_engine *engine,
                           const ef_roster_device *device, const char *report,
                           const ef_window *window, ef_health_event event,
                           unsigned failures, const ef_error *error) {
  char text[EXPLAINED_LEN] = "";
  ef_news news = {.device = device,
                  .report = report,
                  .window = window,
                  .error = error,
                  .failures = failures,
                  .text = text};
  switch (event) {
  case EF_HEALTH_UNCHANGED:
    return;
  case EF_HEALTH_FAILED:
  case EF_HEALTH_CHANGED:
    news.kind = event == EF_HEALTH_FAILED ? EF_NEWS_FAILING : EF_NEWS_CHANGED;
    news.level = EF_LEVEL_ERROR;
    ef_roster_explain(error, engine->options.daemon, text, sizeof(text));
    break;
  case EF_HEALTH_RECOVERED:
    news.kind = EF_NEWS_RECOVERED;
    news.level = EF_LEVEL_NOTICE;
    news.error = NULL;
    break;
  }
  ef_engine_tell(engine, &news);
}

/* The news of each roster event, and its level (a failed list's is graver
 * when nothing is left to poll). */
static const struct {
  ef_news_kind kind;
  ef_level level;
} roster_news[] = {
    [EF_ROSTER_ADDED] = {EF_NEWS_ADDED, EF_LEVEL_INFO},
    [EF_ROSTER_REMOVED] = {EF_NEWS_REMOVED, EF_LEVEL_NOTICE},
    [EF_ROSTER_OFFLINE] = {EF_NEWS_OFFLINE, EF_LEVEL_NOTICE},
    [EF_ROSTER_ONLINE] = {EF_NEWS_ONLINE, EF_LEVEL_NOTICE},
    [EF_ROSTER_LIST_FAILED] = {EF_NEWS_LIST_FAILING, EF_LEVEL_WARNING},
    [EF_ROSTER_LIST_RECOVERED] = {EF_NEWS_LIST_RECOVERED, EF_LEVEL_NOTICE},
    [EF_ROSTER_INSTANCE_TAKEN] = {EF_NEWS_INSTANCE_TAKEN, EF_LEVEL_WARNING},
};

/* What the list changed in the roster (ef_roster_merge's events). */
void ef_engine_tell_roster(const ef_engine *engine, ef_roster_event event,
                           const ef_roster_device *device,
                           const ef_error *error) {
  char text[EXPLAINED_LEN] = "";
  ef_news news = {.kind = roster_news[event].kind,
                  .level = roster_news[event].level,
                  .device = device,
                  .text = text,
                  .first_list = event == EF_ROSTER_ADDED && engine->lists == 0};
  if (event == EF_ROSTER_LIST_FAILED) {
    news.error = error;
    if (ef_roster_size(engine->roster) == 0)
      news.level = EF_LEVEL_ERROR;
    ef_roster_explain(error, engine->options.daemon, text, sizeof(text));
  }
  ef_engine_tell(engine, &news);
}
