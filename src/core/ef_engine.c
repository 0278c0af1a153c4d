/* ef_engine.c: the read cycle: list, polls, reports and pushed values
 * handed to the sink (its tellers: ef_engine_tell.c). */
#include <config.h>

#include "ef_engine.h"

#include "ef_discovery.h"
#include "ef_engine_private.h"
#include "ef_freshness.h"
#include "ef_grow.h"
#include "ef_health.h"
#include "ef_metric_memo.h"
#include "ef_poll.h"
#include "ef_push.h"
#include "ef_schedule.h"

#include <inttypes.h>
#include <json-c/json.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The cloud repeating a reading this often in a row means the device is
 * offline (it serves its cached copy); once could be a slow device. */
#define STALE_READINGS_OFFLINE 3

typedef struct {
  const ef_report_config *config;
  ef_schedule schedule;
  ef_health health;
} report_state;

/* The engine's own state of a roster device (its user). */
typedef struct {
  unsigned stale_readings;  /* in a row: repeats of the cloud's cached copy */
  ef_push_device push;      /* push mode's (ef_push.h) */
  unsigned long polls;      /* settled so far */
  unsigned long first_read; /* the engine's read that settled the first */
  report_state *reports;    /* the device's own, then the account's */
  size_t n_reports;
  ef_value_memory values;  /* its counters, the quotas it sent */
  int family_known;        /* the catalog has rows for its family */
  int unknown_cut_said;    /* the cap on unknown values cut, and it was said */
  int report_numbers_said; /* report indexes were left out, and said */
} device_state;

typedef enum { PENDING_LIST, PENDING_QUOTA, PENDING_REPORT } pending_kind;

struct read_state;

/* One request of a read, handed back with its answer. */
typedef struct {
  pending_kind kind;
  struct read_state *read;
  const ef_poll_target *target; /* QUOTA */
  ef_roster_device *device;     /* REPORT */
  report_state *report;         /* REPORT */
  ef_window window;             /* REPORT */
} pending;

/* A polled reading kept until the list gives its device's tags. */
typedef struct held_reading {
  ef_roster_device *device;
  struct json_object *data; /* a reference of its own */
  int64_t time_ms;
  int64_t clock_offset_ms; /* the server's clock ahead of ours, then */
} held_reading;

/* One read (or backfill) of one engine. */
typedef struct read_state {
  ef_engine *engine;
  int64_t started_ms;
  ef_read_summary summary;
  pending *pendings;
  ef_request *requests;
  size_t n, cap;
  /* The list, when it travels with the read. */
  ef_device_list list;
  ef_error list_error;
  int list_answered;
  /* Readings that came before the list their tags wait for (the list
   * travels with the read): handed out once it is merged. */
  int hold_for_list;
  int list_merged; /* as it was answered, for the readings held */
  struct held_reading *held;
  size_t n_held, held_cap;
  /* The running batch's answers, and those without an HTTP answer: when
   * every one of a batch had none, the host is down (host_error says how)
   * and the read's later batches are answered unsent. */
  size_t answered, unanswered;
  int host_down;
  ef_error host_error;
  size_t sent; /* requests of every batch of the read */
} read_state;

/* ---- devices ---------------------------------------------------------- */

static void device_state_free(void *user) {
  device_state *state = user;
  if (state == NULL)
    return;
  free(state->reports);
  ef_value_memory_clear(&state->values);
  ef_push_device_clear(&state->push);
  free(state);
}

/* Gives a roster device the engine's state: its reports (its own, then
 * the account's), all due at once. Returns -1 when out of memory. */
static int device_attach(const ef_engine *engine, ef_roster_device *device) {
  const ef_device_config *config = device->config;
  size_t own = config != NULL ? config->n_reports : 0;
  size_t n = own + engine->options.n_reports;
  device_state *state = calloc(1, sizeof(*state));
  if (state != NULL && n > 0)
    state->reports = calloc(n, sizeof(*state->reports));
  if (state == NULL || (n > 0 && state->reports == NULL)) {
    device_state_free(state);
    return -1;
  }
  state->n_reports = n;
  for (size_t i = 0; i < n; i++) {
    report_state *report = &state->reports[i];
    report->config =
        i < own ? &config->reports[i] : &engine->options.reports[i - own];
    ef_schedule_start(&report->schedule, report->config->interval_ms, 0);
  }
  device->user = state;
  return 0;
}

static int attach_new_devices(const ef_engine *engine) {
  for (size_t i = 0; i < ef_roster_size(engine->roster); i++) {
    ef_roster_device *device = ef_roster_device_at(engine->roster, i);
    if (device->user == NULL && device_attach(engine, device) != 0)
      return -1;
  }
  return 0;
}

/* ---- the list --------------------------------------------------------- */

static void on_roster_event(ef_roster_event event, ef_roster_device *device,
                            const ef_error *error, void *ctx) {
  const ef_engine *engine = ctx;
  if (engine->mqtt != NULL && event == EF_ROSTER_ADDED &&
      ef_mqtt_watch(engine->mqtt, device->sn) != 0)
    ef_engine_note(engine, EF_LEVEL_ERROR, device, "out of memory");
  if (engine->mqtt != NULL && event == EF_ROSTER_REMOVED)
    ef_mqtt_unwatch(engine->mqtt, device->sn);
  ef_engine_tell_roster(engine, event, device, error);
}

/* Merges what the list said (list, or error when it failed), tells what
 * changed and the online flags. Returns -1 when out of memory. */
static int merge_list(ef_engine *engine, const ef_device_list *list,
                      const ef_error *error, int64_t now_ms) {
  int status = ef_roster_merge(engine->roster, list, error, now_ms,
                               on_roster_event, engine);
  if (status == 0)
    status = attach_new_devices(engine);
  if (error == NULL || error->kind == EF_OK) {
    if (list->skipped > 0 && engine->lists == 0)
      ef_engine_note(
          engine, EF_LEVEL_WARNING, NULL,
          "device/list names %zu device%s without a valid serial number "
          "(or twice): not polled",
          list->skipped, list->skipped == 1 ? "" : "s");
    engine->lists++;
    ef_engine_tell_online(engine, now_ms);
  }
  return status;
}

/* The request for device/list; its entries go into the read's list, only
 * those the roster takes (its devices, its shard's). */
static void list_request(read_state *read, ef_request *request) {
  read->list.keep = ef_roster_keeps;
  read->list.keep_ctx = read->engine->roster;
  ef_discovery_request(request, &read->list);
}

static void on_list_answer(const ef_answer *answer, void *ctx) {
  read_state *read = ctx;
  ef_discovery_parse(answer, &read->list, &read->list_error);
  read->list_answered = 1;
}

/* Asks the list alone and merges it. Returns -1 when out of memory. */
static int list_first(read_state *read, int64_t now_ms) {
  ef_engine *engine = read->engine;
  ef_request request = {0};
  list_request(read, &request);
  ef_error batch_error;
  read->list_answered = 0;
  read->sent++;
  ef_client_run(engine->client, &request, 1, on_list_answer, read,
                &batch_error);
  if (!read->list_answered)
    read->list_error = batch_error;
  if (read->list_error.kind == EF_ERR_ABORTED)
    return 0;
  int status = merge_list(engine, &read->list, &read->list_error, now_ms);
  ef_device_list_clear(&read->list);
  return status;
}

/* ---- readings --------------------------------------------------------- */

typedef struct {
  const ef_engine *engine;
  const ef_reading_view *view;
} metric_pass;

static void on_metric(const ef_metric *metric, void *ctx) {
  const metric_pass *pass = ctx;
  pass->engine->sink.metric(pass->engine->ctx, pass->view, metric);
}

/* The cloud repeating its copy: said once it shows the device offline,
 * and once when new data comes back. */
static void note_staleness(const ef_engine *engine, ef_roster_device *device,
                           int stale) {
  device_state *state = device->user;
  if (stale) {
    if (++state->stale_readings == STALE_READINGS_OFFLINE)
      ef_engine_tell(engine, &(ef_news){.kind = EF_NEWS_STALE,
                                        .level = EF_LEVEL_WARNING,
                                        .device = device,
                                        .text = device->freshness.stamp});
    return;
  }
  if (state->stale_readings >= STALE_READINGS_OFFLINE)
    ef_engine_tell(engine, &(ef_news){.kind = EF_NEWS_FRESH,
                                      .level = EF_LEVEL_NOTICE,
                                      .device = device});
  state->stale_readings = 0;
}

/* The values of a reading: a polled answer's data, or pushed samples. */
typedef struct {
  struct json_object *data;
  const ef_samples *samples;
} reading_values;

/* Only the catalog's metrics, unless the device (or else the engine) asks
 * for every quota, or the catalog knows nothing of the device's family. */
static int catalog_only(const ef_engine *engine, ef_roster_device *device,
                        const reading_values *values) {
  const ef_device_config *config = device->config;
  device_state *state = device->user;
  int only = config != NULL && config->raw_quotas != 0
                 ? config->raw_quotas < 0
                 : engine->options.catalog_only;
  if (!only)
    return 0;
  if (!state->family_known)
    state->family_known =
        values->data != NULL ? ef_metrics_family_known(values->data)
                             : ef_metrics_family_known_samples(values->samples);
  return state->family_known;
}

int ef_engine_tags_pending(const ef_engine *engine) {
  return engine->options.tags_from_list && engine->lists == 0;
}

static size_t max_unknown(const ef_engine *engine) {
  size_t cap = engine->options.account->max_unknown;
  return cap > 0 ? cap : EF_DEFAULT_MAX_UNKNOWN;
}

/* A reading of device, whatever source it came from: its metrics handed
 * out unless view says it is stale, or the list's tags are still wanted. */
static void hand_out(const ef_engine *engine, ef_roster_device *device,
                     const reading_values *values, ef_reading_view *view) {
  device_state *state = device->user;
  if (ef_engine_tags_pending(engine))
    return;
  if (engine->sink.reading_begin != NULL)
    engine->sink.reading_begin(engine->ctx, view);
  if (!view->stale) {
    ef_metric_policy policy = {
        .catalog_only = catalog_only(engine, device, values),
        .skip_detail = engine->options.skip_detail,
        .max_unknown = max_unknown(engine),
        .memory = &state->values,
        .counter_glitch = engine->options.account->counter_glitch,
        .without_collectd_names = engine->sink.without_collectd_names,
        .memo = engine->memo,
        .walker = engine->walker};
    metric_pass pass = {.engine = engine, .view = view};
    if (values->data != NULL)
      ef_metrics_of_json(values->data, &policy, on_metric, &pass, &view->stats);
    else
      ef_metrics_each(values->samples, &policy, on_metric, &pass, &view->stats);
  }
  if (view->stats.unknown_cut > 0 && !state->unknown_cut_said) {
    state->unknown_cut_said = 1;
    ef_engine_note(
        engine, EF_LEVEL_WARNING, device,
        "a reading held %zu more values than the %zu the catalog does not "
        "know that one reading may bring: they are left out (and counted "
        "as cut; the cap is a setting); said once",
        view->stats.unknown_cut, max_unknown(engine));
  }
  if (engine->sink.reading_end != NULL)
    engine->sink.reading_end(engine->ctx, view);
}

/* The cloud's stamp of a reading, if it has one. */
static const char *cloud_stamp(const reading_values *values) {
  if (values->data != NULL) {
    struct json_object *stamp = NULL;
    return json_object_object_get_ex(values->data, EF_CLOUD_STAMP_PATH,
                                     &stamp) &&
                   json_object_is_type(stamp, json_type_string)
               ? json_object_get_string(stamp)
               : NULL;
  }
  const ef_sample *stamp =
      ef_samples_find(values->samples, EF_CLOUD_STAMP_PATH);
  return stamp != NULL && stamp->kind == EF_KIND_STRING ? stamp->text : NULL;
}

/* How far the server's clock was ahead of ours when reading came: by its
 * own answer, since a reading held for the list is handed out after later
 * answers, whose clock may have moved on (a stamp would look hours old). */
static int64_t clock_offset_of(const ef_engine *engine,
                               const ef_reading *reading) {
  return reading->server_time_ms != 0
             ? reading->server_time_ms - reading->time_ms
             : ef_client_clock_offset_ms(engine->client);
}

/* A polled reading: judged fresh or stale by the cloud's stamp. */
static void deliver_reading(const ef_engine *engine, ef_roster_device *device,
                            const reading_values *values, int64_t time_ms,
                            int64_t clock_offset_ms) {
  ef_freshness_verdict verdict = ef_freshness_check(
      &device->freshness, cloud_stamp(values), time_ms, clock_offset_ms);
  note_staleness(engine, device, verdict.stale);
  ef_reading_view view = {.device = device,
                          .time_ms = time_ms,
                          .interval_ms = device->schedule.interval_ms,
                          .stale = verdict.stale,
                          .has_age = verdict.has_age,
                          .age_s = verdict.age_s};
  hand_out(engine, device, values, &view);
}

/* Records a poll of device (error NULL: success) and tells what changed.
 * A request cut off because the program stops changes nothing. */
static void settle(read_state *read, ef_roster_device *device,
                   const ef_error *error) {
  if (error != NULL && error->kind == EF_ERR_ABORTED)
    return;
  if (error != NULL)
    read->summary.failed++;
  else if (ef_engine_tags_pending(read->engine))
    read->summary.held++;
  else
    read->summary.read++;
  unsigned failures = device->health.failures;
  device_state *state = device->user;
  if (state->polls++ == 0)
    state->first_read = read->engine->reads;
  /* From the read's start, so that a slow answer does not push a device
   * past its next read. */
  ef_health_event event = ef_roster_settle(device, error, read->started_ms);
  ef_engine_tell_health(read->engine, device, NULL, NULL, event, failures,
                        error);
}

/* Keeps a reading until the list that travels with the read is merged
 * (settle counted it as held). Out of memory, it stays held for good. */
static void hold_reading(read_state *read, ef_roster_device *device,
                         const ef_reading *reading) {
  held_reading *held =
      ef_grown(read->held, &read->held_cap, read->n_held + 1, sizeof(*held), 8);
  if (held == NULL) {
    ef_engine_note(read->engine, EF_LEVEL_ERROR, device, "out of memory");
    return;
  }
  read->held = held;
  read->held[read->n_held++] =
      (held_reading){.device = device,
                     .data = json_object_get(reading->data),
                     .time_ms = reading->time_ms,
                     .clock_offset_ms = clock_offset_of(read->engine, reading)};
}

/* Hands out the held readings once the list has given their tags, or
 * drops them (still counted as held) when it failed. */
static void release_held(read_state *read) {
  int tagged = !ef_engine_tags_pending(read->engine);
  for (size_t i = 0; i < read->n_held; i++) {
    held_reading *h = &read->held[i];
    if (tagged) {
      read->summary.held--;
      read->summary.read++;
      deliver_reading(read->engine, h->device,
                      &(reading_values){.data = h->data}, h->time_ms,
                      h->clock_offset_ms);
    }
    json_object_put(h->data);
  }
  read->n_held = 0;
}

static void on_reading(const ef_reading *reading, void *ctx) {
  read_state *read = ctx;
  const ef_engine *engine = read->engine;
  ef_roster_device *device = reading->target->user;
  /* Pushed devices are polled once to seed their state, then only now and
   * then to heal what was missed. */
  if (reading->error == NULL && engine->mqtt != NULL &&
      device->schedule.interval_ms < ef_push_refresh_ms(engine))
    device->schedule.interval_ms = ef_push_refresh_ms(engine);
  settle(read, device, reading->error);
  if (reading->error != NULL)
    return;
  if (engine->mqtt != NULL)
    ef_push_polled(engine, device, reading->data);
  if (read->hold_for_list && ef_engine_tags_pending(engine)) {
    hold_reading(read, device, reading);
    return;
  }
  reading_values values = {.data = reading->data};
  if (engine->mqtt == NULL || engine->options.push.stream)
    deliver_reading(engine, device, &values, reading->time_ms,
                    clock_offset_of(engine, reading));
}

/* ---- reports ---------------------------------------------------------- */

/* The report values of result, handed to the sink: through the gate of
 * every value, at most the cap on values the catalog does not know. What
 * was left out for another reason than a marker is said once per device. */
void ef_engine_tell_report(const ef_engine *engine,
                           const ef_roster_device *device,
                           const ef_report_config *config,
                           const ef_history_result *result, int64_t time_ms) {
  if (ef_engine_tags_pending(engine))
    return;
  size_t max = max_unknown(engine);
  size_t room = result->n_values < max ? result->n_values : max;
  ef_report_value *values = calloc(room ? room : 1, sizeof(*values));
  ef_report_stats stats = {0};
  size_t n = values == NULL ? (size_t)-1
                            : ef_report_values(result->values, result->n_values,
                                               max, values, &stats);
  if (n == (size_t)-1) {
    free(values);
    ef_engine_note(engine, EF_LEVEL_ERROR, device, "out of memory");
    return;
  }
  device_state *state = device->user;
  size_t implausible = result->implausible + stats.implausible;
  if (implausible + stats.collided + stats.cut > 0 &&
      !state->report_numbers_said) {
    state->report_numbers_said = 1;
    ef_engine_note(
        engine, EF_LEVEL_WARNING, device,
        "report %s: %zu indexes left out: %zu no number (a boolean, text, a "
        "number a double cannot carry exactly or none once in its published "
        "unit, a percentage outside 0-100), %zu named as an earlier one once "
        "cleaned, %zu past the cap "
        "of %zu values the catalog does not know (a setting); said once",
        config->code, implausible + stats.collided + stats.cut, implausible,
        stats.collided, stats.cut, max);
  }
  ef_report_view view = {.device = device,
                         .config = config,
                         .window = result->window,
                         .values = values,
                         .n_values = n,
                         .time_ms = time_ms};
  if (engine->sink.report != NULL)
    engine->sink.report(engine->ctx, &view);
  free(values);
}

static void on_report(const ef_history_result *result, void *ctx) {
  pending *p = ctx;
  const ef_error *error = result->error;
  if (error != NULL && error->kind == EF_ERR_ABORTED)
    return;
  report_state *report = p->report;
  ef_schedule_record(&report->schedule, error, p->read->started_ms);
  unsigned failures = report->health.failures;
  ef_health_event event = ef_health_update(&report->health, error);
  ef_engine_tell_health(p->read->engine, p->device, report->config->code, NULL,
                        event, failures, error);
  if (error == NULL)
    ef_engine_tell_report(p->read->engine, p->device, report->config, result,
                          p->read->started_ms);
}

/* ---- one read --------------------------------------------------------- */

static pending *add_pending(read_state *read, pending_kind kind) {
  if (read->n == read->cap) {
    size_t cap = read->cap ? 2 * read->cap : 16;
    pending *pendings = realloc(read->pendings, cap * sizeof(*pendings));
    if (pendings != NULL)
      read->pendings = pendings;
    ef_request *requests = realloc(read->requests, cap * sizeof(*requests));
    if (requests != NULL)
      read->requests = requests;
    if (pendings == NULL || requests == NULL)
      return NULL;
    read->cap = cap;
  }
  read->requests[read->n] = (ef_request){0};
  pending *p = &read->pendings[read->n++];
  *p = (pending){.kind = kind, .read = read};
  return p;
}

/* 1 when error says the host itself failed (no HTTP answer at all). */
static int host_failed(const ef_error *error) {
  return error->kind == EF_ERR_TRANSPORT;
}

static void on_answer(const ef_answer *answer, void *ctx) {
  read_state *read = ctx;
  pending *p = answer->request->user;
  read->answered++;
  if (host_failed(&answer->error)) {
    read->unanswered++;
    read->host_error = answer->error;
  }
  switch (p->kind) {
  case PENDING_LIST:
    on_list_answer(answer, p->read);
    if (read->hold_for_list && read->list_error.kind != EF_ERR_ABORTED) {
      if (merge_list(read->engine, &read->list, &read->list_error,
                     read->started_ms) != 0)
        ef_engine_note(read->engine, EF_LEVEL_ERROR, NULL, "out of memory");
      read->list_merged = 1;
      read->hold_for_list = 0;
      release_held(read);
    }
    break;
  case PENDING_QUOTA:
    ef_poll_deliver(answer, p->target, on_reading, p->read);
    break;
  case PENDING_REPORT:
    ef_history_deliver(answer, &p->window, on_report, p);
    break;
  }
}

/* The reports of every device that are due, over the week so far by the
 * server's clock. Offline devices have none due (the cloud has nothing
 * new), nor have devices the cloud refuses for good (said already); so a
 * device never polled has its reports asked only after its first poll
 * (first: the reports of devices polled before; else of the others). */
static int queue_reports(read_state *read, int first) {
  const ef_engine *engine = read->engine;
  int64_t now_ms = read->started_ms;
  ef_window week = ef_report_week_so_far(
      (time_t)((now_ms + ef_client_clock_offset_ms(engine->client)) / 1000));
  for (size_t i = 0; i < ef_roster_size(engine->roster); i++) {
    ef_roster_device *device = ef_roster_device_at(engine->roster, i);
    device_state *state = device->user;
    if (device->presence == EF_PRESENCE_OFFLINE ||
        (device->health.failing && ef_schedule_refused(&device->health.last)))
      continue;
    int polled_first_now =
        state->polls > 0 && state->first_read == engine->reads;
    if (first ? state->polls == 0 || polled_first_now : !polled_first_now)
      continue;
    for (size_t r = 0; r < state->n_reports; r++) {
      if (!ef_schedule_due(&state->reports[r].schedule, now_ms))
        continue;
      pending *p = add_pending(read, PENDING_REPORT);
      if (p == NULL)
        return -1;
      p->device = device;
      p->report = &state->reports[r];
      p->window = week;
    }
  }
  return 0;
}

/* Builds the requests of the pendings; answers a pending whose request
 * could not be built at once. Returns -1 when out of memory. */
static int build_requests(read_state *read) {
  for (size_t i = 0; i < read->n; i++) {
    pending *p = &read->pendings[i];
    ef_request *request = &read->requests[i];
    request->user = p;
    int status = 0;
    switch (p->kind) {
    case PENDING_LIST:
      list_request(read, request);
      break;
    case PENDING_QUOTA:
      status = ef_poll_request(request, p->target);
      break;
    case PENDING_REPORT:
      status = ef_history_request(request, p->device->sn,
                                  p->report->config->code, &p->window);
      break;
    }
    if (status != 0)
      return -1;
  }
  return 0;
}

static void clear_requests(read_state *read) {
  for (size_t i = 0; i < read->n; i++) {
    json_object_put(read->requests[i].body);
    read->requests[i].body = NULL;
  }
}

/* Answers every pending with error, unsent: the host is down. */
static void answer_unsent(read_state *read, const ef_error *error) {
  for (size_t i = 0; i < read->n; i++) {
    ef_answer answer = {.request = &read->requests[i],
                        .received_ms = ef_now_ms(),
                        .error = *error};
    on_answer(&answer, read);
  }
}

/* Sends the pendings of read as one batch, unless an earlier batch of the
 * read (the list alone, or the polls before the reports of devices polled
 * for the first time) found the host down: a read then costs one timeout,
 * not one per batch. */
static int run_batch(read_state *read) {
  if (build_requests(read) != 0)
    return -1;
  read->sent += read->n;
  if (read->host_down) {
    ef_error error = read->host_error;
    answer_unsent(read, &error);
  } else if (read->n > 0) {
    read->answered = read->unanswered = 0;
    ef_error batch_error;
    ef_client_run(read->engine->client, read->requests, read->n, on_answer,
                  read, &batch_error);
    read->host_down = read->answered > 0 && read->unanswered == read->answered;
  }
  return 0;
}

/* A read that outlasts the interval delays the next: said once, with what
 * would make it fit. Not for a host found down: more requests in flight
 * would only wait for it too. */
static void check_duration(ef_engine *engine, const read_state *read,
                           int64_t took_ms) {
  int64_t interval_ms = engine->options.read_interval_ms;
  if (interval_ms <= 0 || engine->slow_said || took_ms <= interval_ms ||
      read->sent < 2 || read->host_down)
    return;
  engine->slow_said = 1;
  unsigned in_flight = engine->options.account->max_concurrent
                           ? engine->options.account->max_concurrent
                           : EF_DEFAULT_MAX_CONCURRENT;
  double needed = (double)in_flight * (double)took_ms / (double)interval_ms;
  ef_engine_note(
      engine, EF_LEVEL_WARNING, NULL,
      "a read of %zu requests took %.1f s, longer than the interval of "
      "%.1f s: allow about %.0f requests in flight (now %u), or poll less "
      "often",
      read->sent, took_ms / 1000.0, interval_ms / 1000.0, needed + 1,
      in_flight);
}

static void read_state_clear(read_state *read) {
  release_held(read);
  free(read->held);
  clear_requests(read);
  free(read->pendings);
  free(read->requests);
  ef_device_list_clear(&read->list);
}

int ef_engine_read(ef_engine *engine, int64_t now_ms,
                   ef_read_summary *summary) {
  read_state read = {.engine = engine, .started_ms = now_ms};
  int status = 0;
  int64_t began_ms = ef_now_ms(); /* now_ms is the caller's clock */
  engine->reads++;
  if (ef_client_stopping(engine->client))
    goto done;
  /* With discovery the list decides what is polled: it goes first. So
   * does a daemon's first list: only it is then signed before the server's
   * clock is known, and the daemon has time. */
  /* While values wait for the list's tags, the list is asked at every
   * read, not after its back-off: nothing is published until it answers.
   * A one-shot run's list travels with its polls (one round trip, not
   * two), and the readings that come before it are held until then. */
  int list_due = ef_roster_refresh_due(engine->roster, now_ms) ||
                 ef_engine_tags_pending(engine);
  int list_alone = list_due && (engine->options.discover ||
                                ef_roster_size(engine->roster) == 0 ||
                                (engine->options.daemon && engine->lists == 0));
  if (list_alone && list_first(&read, now_ms) != 0)
    status = -1;
  if (list_alone && host_failed(&read.list_error)) {
    read.host_down = 1;
    read.host_error = read.list_error;
  }
  if (ef_client_stopping(engine->client))
    goto done;
  /* Devices are polled all the same: their failures are told. */
  ef_roster_round round;
  if (status != 0 ||
      ef_roster_round_start(engine->roster, now_ms, &round) != 0) {
    status = -1;
    goto done;
  }
  read.summary.skipped = round.n_offline;
  if (list_due && !list_alone && add_pending(&read, PENDING_LIST) == NULL)
    status = -1;
  read.hold_for_list =
      list_due && !list_alone && ef_engine_tags_pending(engine);
  for (size_t i = 0; status == 0 && i < round.n_targets; i++) {
    pending *p = add_pending(&read, PENDING_QUOTA);
    if (p == NULL)
      status = -1;
    else
      p->target = &round.targets[i];
  }
  if (status == 0)
    status = queue_reports(&read, 1);
  if (status == 0)
    status = run_batch(&read);
  if (status != 0)
    goto done;
  /* The reports of devices just polled for the first time. */
  clear_requests(&read);
  read.n = 0;
  if (queue_reports(&read, 0) != 0 || run_batch(&read) != 0) {
    status = -1;
    goto done;
  }
  if (list_due && !list_alone && !read.list_merged &&
      !ef_client_stopping(engine->client)) {
    if (!read.list_answered)
      ef_error_set(&read.list_error, EF_ERR_INTERNAL, "device/list unanswered");
    status = merge_list(engine, &read.list, &read.list_error, now_ms);
  }
  ef_engine_note_tags_pending(engine);
  ef_engine_take_pushed(engine, now_ms);
  ef_engine_tell_clock(engine);
  check_duration(engine, &read, ef_now_ms() - began_ms);
done:
  if (status != 0)
    ef_engine_note(engine, EF_LEVEL_ERROR, NULL, "out of memory");
  read.summary.devices = ef_roster_size(engine->roster);
  if (summary != NULL)
    *summary = read.summary;
  read_state_clear(&read);
#ifdef HAVE_MALLOC_TRIM
  /* The read's answers (a device list's tree, each reading's) are freed by
   * now: a daemon gives their pages back, rather than holding its largest
   * read's memory for months. */
  if (engine->options.daemon)
    malloc_trim(0);
#endif
  return status;
}

/* ---- push mode (ef_push.c) -------------------------------------------- */

ef_push_device *ef_engine_push_device(ef_roster_device *device) {
  return &((device_state *)device->user)->push;
}

void ef_engine_hand_out_samples(const ef_engine *engine,
                                ef_roster_device *device,
                                const ef_samples *samples,
                                ef_reading_view *view) {
  hand_out(engine, device, &(reading_values){.samples = samples}, view);
}

void ef_engine_hand_out_json(const ef_engine *engine, ef_roster_device *device,
                             struct json_object *data, ef_reading_view *view) {
  hand_out(engine, device, &(reading_values){.data = data}, view);
}

int ef_engine_list_now(ef_engine *engine, int64_t now_ms) {
  if (!ef_roster_refresh_due(engine->roster, now_ms) ||
      ef_client_stopping(engine->client))
    return 0;
  read_state read = {.engine = engine, .started_ms = now_ms};
  int status = list_first(&read, now_ms);
  read_state_clear(&read);
  ef_engine_tell_clock(engine);
  return status;
}

/* ---- life cycle ------------------------------------------------------- */

static ef_roster *roster_new(const ef_engine_options *options, int64_t now_ms) {
  ef_roster_entry *entries =
      calloc(options->n_devices ? options->n_devices : 1, sizeof(*entries));
  if (entries == NULL)
    return NULL;
  for (size_t i = 0; i < options->n_devices; i++) {
    const ef_device_config *device = &options->devices[i];
    entries[i] = (ef_roster_entry){.sn = device->sn,
                                   .name = device->name,
                                   .interval_ms = device->interval_ms,
                                   .quotas = device->quotas,
                                   .n_quotas = device->n_quotas,
                                   .config = (void *)device};
  }
  ef_roster_options roster_options = {
      .use_list = options->use_list || options->tags_from_list,
      .discover = options->discover,
      .refresh_ms = options->refresh_ms,
      .interval_ms = options->interval_ms,
      .free_user = device_state_free,
      .instances = options->instances,
      .shard_index = options->account->shard_index,
      .shard_count = options->account->shard_count};
  ef_roster *roster =
      ef_roster_new(&roster_options, entries, options->n_devices, now_ms);
  free(entries);
  return roster;
}

ef_engine *ef_engine_new(const ef_engine_options *options, const ef_sink *sink,
                         void *sink_ctx, char *problem) {
  ef_catalog_init(); /* before the MQTT thread, and collectd's readers */
  if (sink->news == NULL || sink->metric == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "the sink tells no news or metrics");
    return NULL;
  }
  ef_engine *engine = calloc(1, sizeof(*engine));
  if (engine == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return NULL;
  }
  engine->options = *options;
  engine->sink = *sink;
  engine->ctx = sink_ctx;
  const ef_account *account = options->account;
  ef_client_options client_options = {
      .endpoint = account->endpoint ? account->endpoint : EF_DEFAULT_ENDPOINT,
      .access_key = account->access_key,
      .secret_key = account->secret_key,
      .timeout_ms = account->timeout_ms,
      .max_concurrent = account->max_concurrent,
      .ca_file = account->ca_file};
  ef_error error = {0};
  engine->client = ef_client_new(&client_options, &error);
  if (engine->client == NULL) {
    ef_error_format(&error, problem, EF_PROBLEM_LEN);
    ef_engine_free(engine);
    return NULL;
  }
  /* Due at once: the first read lists and polls every device. */
  engine->roster = roster_new(options, 0);
  engine->memo = ef_metric_memo_new();
  engine->walker = ef_walker_new();
  if (engine->roster == NULL || engine->memo == NULL ||
      engine->walker == NULL || attach_new_devices(engine) != 0) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    ef_engine_free(engine);
    return NULL;
  }
  if (options->push.enabled && ef_push_start(engine, problem) != 0) {
    ef_engine_free(engine);
    return NULL;
  }
  if (ef_account_endpoint_in_clear(client_options.endpoint))
    ef_engine_note(
        engine, EF_LEVEL_WARNING, NULL,
        "the endpoint is plain http:// to another host: the access key "
        "and the request signatures travel unencrypted; use https://");
  return engine;
}

void ef_engine_free(ef_engine *engine) {
  if (engine == NULL)
    return;
  ef_mqtt_free(engine->mqtt);
  ef_roster_free(engine->roster);
  ef_client_free(engine->client);
  ef_metric_memo_free(engine->memo);
  ef_walker_free(engine->walker);
  free(engine);
}

void ef_engine_stop(ef_engine *engine) {
  if (engine != NULL && engine->client != NULL)
    ef_client_stop(engine->client);
}

size_t ef_engine_size(const ef_engine *engine) {
  return ef_roster_size(engine->roster);
}

const ef_roster_device *ef_engine_device(const ef_engine *engine,
                                         size_t index) {
  return ef_roster_device_at(engine->roster, index);
}

int ef_engine_list_failing(const ef_engine *engine) {
  return ef_roster_list_failing(engine->roster);
}
