/* ef_backfill.c: a report over a range of the past, window by window, for
 * every device of the engine (ef_engine_backfill, ef_engine.h). */
#include "ef_engine.h"

#include "ef_engine_private.h"
#include "ef_health.h"
#include "ef_history.h"
#include "ef_report.h"
#include "ef_schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* One device's part of a backfill. */
typedef struct {
  const ef_engine *engine;
  ef_roster_device *device;
  const ef_report_config *config;
  int64_t started_ms;
  size_t read;    /* windows read */
  size_t skipped; /* windows that failed, or were not asked */
  ef_window first_skipped, last_skipped;
} backfill_fetch;

/* The whole backfill: how far it is, and when it last said so. */
typedef struct {
  const ef_engine *engine;
  const char *code;
  size_t done, total;
  int64_t started_ms, said_ms; /* local clock (ef_now_ms) */
  int said;                    /* progress was told */
} backfill_run;

/* The windows of a group are answered in any order: the range skipped is
 * kept by their dates. */
static void note_skipped(backfill_fetch *fetch, const ef_window *window) {
  if (fetch->skipped == 0 || window->begin < fetch->first_skipped.begin)
    fetch->first_skipped = *window;
  if (fetch->skipped == 0 || window->end > fetch->last_skipped.end)
    fetch->last_skipped = *window;
  fetch->skipped++;
}

static void on_backfill_window(const ef_history_result *result, void *ctx) {
  backfill_fetch *fetch = ctx;
  const ef_error *error = result->error;
  if (error != NULL && error->kind == EF_ERR_ABORTED)
    return;
  unsigned failures = fetch->device->health.failures;
  ef_health_event event = ef_health_update(&fetch->device->health, error);
  if (error != NULL) {
    note_skipped(fetch, result->window);
    if (event != EF_HEALTH_RECOVERED)
      ef_engine_tell_health(fetch->engine, fetch->device, fetch->config->code,
                            result->window, event, failures, error);
    return;
  }
  fetch->read++;
  ef_engine_tell_report(fetch->engine, fetch->device, fetch->config, result,
                        fetch->started_ms);
}

/* Where the backfill is, at most every EF_BACKFILL_PROGRESS_MS. */
static void tell_progress(backfill_run *run, const ef_roster_device *device,
                          const ef_window *window) {
  int64_t now = ef_now_ms();
  if (now - (run->said ? run->said_ms : run->started_ms) <
      EF_BACKFILL_PROGRESS_MS)
    return;
  run->said = 1;
  run->said_ms = now;
  char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
  ef_time_format(window->begin, begin);
  ef_time_format(window->end, end);
  ef_engine_note(run->engine, EF_LEVEL_INFO, device,
                 "history %s: window %zu of %zu (%s .. %s), %.0f s so far",
                 run->code, run->done, run->total, begin, end,
                 (now - run->started_ms) / 1000.0);
}

/* Waits until EF_BACKFILL_PACE_MS after the last group began (or the
 * engine stops). */
static void pace(const ef_engine *engine, int64_t *group_ms) {
  const struct timespec nap = {.tv_nsec = 50 * 1000 * 1000};
  while (*group_ms != 0 && ef_now_ms() - *group_ms < EF_BACKFILL_PACE_MS &&
         !ef_client_stopping(engine->client))
    nanosleep(&nap, NULL);
  *group_ms = ef_now_ms();
}

/* The windows of one device, a group of requests in flight at a time. */
static void backfill_device(backfill_run *run, backfill_fetch *fetch,
                            const ef_window *windows, size_t n,
                            int64_t *group_ms) {
  const ef_engine *engine = run->engine;
  size_t group = engine->options.account->max_concurrent
                     ? engine->options.account->max_concurrent
                     : EF_DEFAULT_MAX_CONCURRENT;
  for (size_t i = 0; i < n; i += group) {
    size_t count = n - i < group ? n - i : group;
    const ef_error *last = &fetch->device->health.last;
    if (fetch->device->health.failing && ef_schedule_refused(last)) {
      /* Refused for good: said once already; the rest is not asked. */
      for (size_t k = i; k < n; k++)
        note_skipped(fetch, &windows[k]);
      run->done += n - i;
      return;
    }
    pace(engine, group_ms);
    if (ef_client_stopping(engine->client))
      return;
    ef_error error;
    ef_history_fetch(engine->client, fetch->device->sn, run->code, windows + i,
                     count, on_backfill_window, fetch, &error);
    run->done += count;
    tell_progress(run, fetch->device, &windows[i + count - 1]);
  }
}

/* What a device's backfill could not read, said once at the end. */
static void tell_skipped(const ef_engine *engine, const backfill_fetch *fetch,
                         size_t n) {
  if (fetch->skipped == 0)
    return;
  char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
  ef_time_format(fetch->first_skipped.begin, begin);
  ef_time_format(fetch->last_skipped.end, end);
  ef_engine_note(
      engine, EF_LEVEL_WARNING, fetch->device,
      "history %s: %zu of %zu windows skipped, between %s and %s (failed, "
      "or not asked after a refusal): run the backfill again for them",
      fetch->config->code, fetch->skipped, n, begin, end);
}

int ef_engine_backfill(ef_engine *engine, int64_t now_ms, const char *code,
                       time_t begin, time_t end, size_t max_windows,
                       char *problem) {
  if (max_windows == 0)
    max_windows = EF_BACKFILL_DEFAULT_MAX_WINDOWS;
  size_t n = ef_report_windows(begin, end, NULL, 0);
  if (n == 0) {
    snprintf(problem, EF_PROBLEM_LEN,
             "the range holds no window the API accepts (at least two "
             "seconds)");
    return -1;
  }
  if (n > max_windows) {
    snprintf(problem, EF_PROBLEM_LEN,
             "the range holds %zu report windows (a week each), more than "
             "the %zu allowed per device",
             n, max_windows);
    return EF_BACKFILL_TOO_MANY;
  }
  ef_window *windows = calloc(n, sizeof(*windows));
  if (windows == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return -1;
  }
  ef_report_windows(begin, end, windows, n);
  int status = ef_engine_list_now(engine, now_ms);
  if (status == 0 && ef_engine_tags_pending(engine)) {
    snprintf(problem, EF_PROBLEM_LEN,
             "device/list did not answer: the reports are not written "
             "without the name and product tags it gives each device");
    free(windows);
    return -1;
  }
  ef_report_config config = {.code = code};
  size_t devices = ef_roster_size(engine->roster), windows_read = 0;
  backfill_run run = {.engine = engine,
                      .code = code,
                      .total = n * devices,
                      .started_ms = ef_now_ms()};
  int64_t group_ms = 0;
  for (size_t i = 0;
       status == 0 && i < devices && !ef_client_stopping(engine->client); i++) {
    backfill_fetch fetch = {.engine = engine,
                            .device = ef_roster_device_at(engine->roster, i),
                            .config = &config,
                            .started_ms = now_ms};
    backfill_device(&run, &fetch, windows, n, &group_ms);
    windows_read += fetch.read;
    if (!ef_client_stopping(engine->client))
      tell_skipped(engine, &fetch, n);
  }
  if (run.said)
    ef_engine_note(engine, EF_LEVEL_INFO, NULL,
                   "history %s: %zu of %zu windows read in %.0f s", code,
                   windows_read, run.total,
                   (ef_now_ms() - run.started_ms) / 1000.0);
  free(windows);
  if (status != 0) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return -1;
  }
  return (int)windows_read;
}
