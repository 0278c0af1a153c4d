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

/* What the list changed in the roster (ef_roster_merge's events). */
void ef_engine_tell_roster(const ef_engine *engine, ef_roster_event event,
                           const ef_roster_device *device,
                           const ef_error *error) {
  char text[EXPLAINED_LEN] = "";
  ef_news news = {.device = device, .level = EF_LEVEL_NOTICE, .text = text};
  switch (event) {
  case EF_ROSTER_ADDED:
    news.kind = EF_NEWS_ADDED;
    news.level = EF_LEVEL_INFO;
    news.first_list = engine->lists == 0;
    break;
  case EF_ROSTER_REMOVED:
    news.kind = EF_NEWS_REMOVED;
    break;
  case EF_ROSTER_OFFLINE:
    news.kind = EF_NEWS_OFFLINE;
    break;
  case EF_ROSTER_ONLINE:
    news.kind = EF_NEWS_ONLINE;
    break;
  case EF_ROSTER_LIST_FAILED:
    news.kind = EF_NEWS_LIST_FAILING;
    news.error = error;
    /* Grave only when nothing is left to poll. */
    news.level =
        ef_roster_size(engine->roster) > 0 ? EF_LEVEL_WARNING : EF_LEVEL_ERROR;
    ef_roster_explain(error, engine->options.daemon, text, sizeof(text));
    break;
  case EF_ROSTER_LIST_RECOVERED:
    news.kind = EF_NEWS_LIST_RECOVERED;
    break;
  case EF_ROSTER_INSTANCE_TAKEN:
    news.kind = EF_NEWS_INSTANCE_TAKEN;
    news.level = EF_LEVEL_WARNING;
    break;
  }
  ef_engine_tell(engine, &news);
}
