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

/* Each listed device's online flag, valid until the next list. */
void ef_engine_tell_online(const ef_engine *engine, int64_t now_ms) {
  if (engine->sink.online == NULL)
    return;
  int64_t valid_ms = engine->options.refresh_ms > 0
                         ? engine->options.refresh_ms
                         : EF_ROSTER_DEFAULT_REFRESH_MS;
  for (size_t i = 0; i < ef_roster_size(engine->roster); i++) {
    const ef_roster_device *device = ef_roster_device_at(engine->roster, i);
    if (device->presence != EF_PRESENCE_UNKNOWN)
      engine->sink.online(engine->ctx, device,
                          device->presence == EF_PRESENCE_ONLINE, now_ms,
                          valid_ms);
  }
}

/* Says once that values wait for the list (and why), while they do. */
void ef_engine_note_tags_pending(ef_engine *engine) {
  if (!ef_engine_tags_pending(engine)) {
    engine->tags_said = 0;
    return;
  }
  if (engine->tags_said)
    return;
  engine->tags_said = 1;
  ef_engine_note(
      engine, EF_LEVEL_WARNING, NULL,
      "no device's values are written until device/list answers: each "
      "point carries the name and product the list gives, and points "
      "without them would make a second series of the device");
}

void ef_engine_tell_clock(const ef_engine *engine) {
  char text[256];
  switch (ef_client_clock_news(engine->client, text, sizeof(text))) {
  case EF_CLOCK_SKEWED:
    ef_engine_tell(engine, &(ef_news){.kind = EF_NEWS_CLOCK_SKEWED,
                                      .level = EF_LEVEL_WARNING,
                                      .text = text});
    break;
  case EF_CLOCK_IN_STEP:
    ef_engine_tell(engine, &(ef_news){.kind = EF_NEWS_CLOCK_IN_STEP,
                                      .level = EF_LEVEL_NOTICE,
                                      .text = text});
    break;
  case EF_CLOCK_UNCHANGED:
    break;
  }
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
