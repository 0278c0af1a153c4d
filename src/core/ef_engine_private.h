/* ef_engine_private.h: what the engine's own files share (ef_engine.c,
 * the read cycle; its side jobs beside it; ef_engine_tell.c, its
 * tellers): the engine itself and the way it tells the front end. Front ends
 * see ef_engine.h only.
 *
 * Promises: news reaches the front end through the tellers below only,
 * each calling the sink in the calling thread. */
#ifndef EF_ENGINE_PRIVATE_H
#define EF_ENGINE_PRIVATE_H

#include "ef_client.h"
#include "ef_engine.h"
#include "ef_health.h"
#include "ef_history.h"
#include "ef_mqtt.h"
#include "ef_roster.h"

#include <stddef.h>

struct ef_engine {
  ef_engine_options options; /* pointers borrowed from the front end */
  ef_sink sink;
  void *ctx;
  ef_client *client;
  ef_roster *roster;
  size_t lists;        /* device lists merged so far */
  unsigned long reads; /* so far, counting the running one */
  ef_mqtt *mqtt;       /* push mode, or NULL */
  size_t flapping;     /* devices whose pushed status may flap (ef_push.c) */
  int slow_said;       /* a read outlasted the interval, and it was said */
  int tags_said;       /* values waited for the list's tags, and it was said */
  /* Paths' rows and names: readings are handed out on one thread. */
  ef_metric_memo *memo;
  ef_walker *walker; /* the walks of its readings' data */
};

/* 1 while a device's series would lack the tags the list gives: no list
 * has answered yet, and the front end names series by them
 * (ef_engine_options.tags_from_list). */
int ef_engine_tags_pending(const ef_engine *engine);

/* Hands news to the sink as it is. */
void ef_engine_tell(const ef_engine *engine, const ef_news *news);

/* Anything else said once, as EF_NEWS_NOTE of level about device (NULL:
 * the account); the text is cut at the length of an error and its
 * advice. */
__attribute__((format(printf, 4, 5))) void
ef_engine_note(const ef_engine *engine, ef_level level,
               const ef_roster_device *device, const char *format, ...);

/* How a device's health changed (ef_health_update; nothing when
 * unchanged): for its polls or, with report set, one of its reports
 * (window set: in a backfill); a failure with what to do about it;
 * failures: how many in a row before. */
void ef_engine_tell_health(const ef_engine *engine,
                           const ef_roster_device *device, const char *report,
                           const ef_window *window, ef_health_event event,
                           unsigned failures, const ef_error *error);

/* What the list changed in the roster, as news (ef_roster_merge's event;
 * error: why the list failed, for EF_ROSTER_LIST_FAILED). */
void ef_engine_tell_roster(const ef_engine *engine, ef_roster_event event,
                           const ef_roster_device *device,
                           const ef_error *error);

/* Each listed device's online flag, valid until the next list. */
void ef_engine_tell_online(const ef_engine *engine, int64_t now_ms);

/* Says once that values wait for the list (and why), while they do. */
void ef_engine_note_tags_pending(ef_engine *engine);

/* What the client learned of the server's clock, when it changed. */
void ef_engine_tell_clock(const ef_engine *engine);

/* The values of a report's result, fetched by the read at time_ms. */
void ef_engine_tell_report(const ef_engine *engine,
                           const ef_roster_device *device,
                           const ef_report_config *config,
                           const ef_history_result *result, int64_t time_ms);

#endif
