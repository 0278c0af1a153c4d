/* Unit tests of ef_engine.c, the read cycle both front ends share, against
 * the in-process server (unit_server.h): what the sink hears, in which
 * order, how often, and that every device that is due settles once. */
#include "ef_client.h"
#include "ef_engine.h"
#include "unit.h"
#include "unit_server.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_GAP_MS 11000 /* devices are due again after 10 s */

/* What the server answers: per serial number, the cloud stamp of the next
 * reading, or a failure; and the device list. */
static struct {
  char stamp[32];          /* quota_cloud_ts of every reading */
  unsigned failing_status; /* HTTP status of the failing device's polls */
  char failing_sn[16];
  const char *list; /* device/list's data */
  int hang_ms;      /* every quota/all and quota/data answer waits so long */
  const char *report_data; /* quota/data's data; NULL: one value, 1.5 kWh */
  size_t report_indexes;   /* else so many values, "Index <i>" */
  unsigned list_status;    /* device/list answers this HTTP status; 0: 200 */
  int list_awaits_poll;    /* device/list answers once a poll has come */
  int polls_seen;          /* quota/all requests so far */
  int list_saw_poll;       /* a poll came while device/list waited */
  int reports_fail;        /* quota/data answers HTTP 500 ... */
  const char *late_begin;  /* ... 300 ms late for the window that begins so */
  char list_clock[32];     /* device/list's x-timestamp, unless "" */
  char poll_clock[32];     /* quota/all's x-timestamp, unless "" */
} cloud;

/* quota/data's answer of cloud.report_indexes values, a new string. */
static char *many_indexes(void) {
  size_t size = 64 + 64 * cloud.report_indexes, used = 0;
  char *data = malloc(size);
  ck_assert_ptr_nonnull(data);
  used += (size_t)snprintf(data, size, "{\"code\":\"0\",\"data\":[");
  for (size_t i = 0; i < cloud.report_indexes; i++)
    used += (size_t)snprintf(data + used, size - used,
                             "%s{\"indexName\":\"Index %zu\",\"indexValue\""
                             ":%zu,\"unit\":\"kWh\"}",
                             i ? "," : "", i, i + 1);
  snprintf(data + used, size - used, "]}");
  return data;
}

static void handle(const unit_request *request, unit_reply *reply, void *ctx) {
  (void)ctx;
  char data[512];
  pthread_mutex_lock(&unit_server.lock);
  if (strstr(request->path, "quota") != NULL)
    reply->delay_ms = cloud.hang_ms;
  if (strstr(request->path, "quota/all") != NULL)
    cloud.polls_seen++;
  if (strcmp(request->path, "/iot-open/sign/device/list") == 0 &&
      cloud.list_status != 0) {
    reply->status = cloud.list_status;
    reply->body = strdup("busy");
  } else if (strcmp(request->path, "/iot-open/sign/device/list") == 0) {
    reply->body = unit_answer(cloud.list ? cloud.list : "[]");
    snprintf(reply->x_timestamp, sizeof(reply->x_timestamp), "%s",
             cloud.list_clock);
    /* At most 5 s: a list asked before the polls waits for nothing. */
    for (int waited = 0;
         cloud.list_awaits_poll && !cloud.list_saw_poll && waited < 5000;
         waited += 10) {
      pthread_mutex_unlock(&unit_server.lock);
      usleep(10 * 1000);
      pthread_mutex_lock(&unit_server.lock);
      cloud.list_saw_poll = cloud.polls_seen > 0;
    }
    /* The poll's answer, begun, goes out first (on a busy machine it may
     * not: then the reading is not held, which the tests allow). */
    if (cloud.list_saw_poll)
      reply->delay_ms = 100;
  } else if (strstr(request->path, "quota/data") != NULL &&
             cloud.reports_fail) {
    reply->status = 500;
    reply->body = strdup("busy");
    if (cloud.late_begin != NULL && request->body != NULL &&
        strstr(request->body, cloud.late_begin) != NULL)
      reply->delay_ms = 300;
  } else if (strstr(request->path, "quota/data") != NULL &&
             cloud.report_indexes > 0) {
    char *many = many_indexes();
    reply->body = unit_answer(many);
    free(many);
  } else if (strstr(request->path, "quota/data") != NULL) {
    snprintf(data, sizeof(data), "{\"code\":\"0\",\"data\":%s}",
             cloud.report_data ? cloud.report_data
                               : "[{\"indexName\":\"From Solar\","
                                 "\"indexValue\":1.5,\"unit\":\"kWh\"}]");
    reply->body = unit_answer(data);
  } else if (request->sn != NULL && cloud.failing_status != 0 &&
             strcmp(request->sn, cloud.failing_sn) == 0) {
    reply->status = cloud.failing_status;
    reply->body = strdup("busy");
  } else {
    snprintf(data, sizeof(data),
             "{\"bpSoc\":42,\"sysGridPwr\":-1500.5,\"someUnknownQuota\":7,"
             "\"quota_cloud_ts\":\"%s\"}",
             cloud.stamp);
    reply->body = unit_answer(data);
    snprintf(reply->x_timestamp, sizeof(reply->x_timestamp), "%s",
             cloud.poll_clock);
  }
  pthread_mutex_unlock(&unit_server.lock);
}

static void set_cloud(const char *stamp, const char *failing_sn,
                      unsigned status, const char *list) {
  pthread_mutex_lock(&unit_server.lock);
  snprintf(cloud.stamp, sizeof(cloud.stamp), "%s", stamp);
  snprintf(cloud.failing_sn, sizeof(cloud.failing_sn), "%s",
           failing_sn ? failing_sn : "");
  cloud.failing_status = status;
  cloud.list = list;
  cloud.hang_ms = 0;
  cloud.report_data = NULL;
  cloud.reports_fail = 0;
  cloud.late_begin = NULL;
  cloud.report_indexes = 0;
  cloud.list_status = 0;
  cloud.list_awaits_poll = cloud.polls_seen = cloud.list_saw_poll = 0;
  cloud.list_clock[0] = cloud.poll_clock[0] = '\0';
  pthread_mutex_unlock(&unit_server.lock);
}

/* ---- a sink that writes down what it hears ------------------------------ */

#define MAX_EVENTS 256

typedef struct {
  char events[MAX_EVENTS][256]; /* "begin SN", "metric SN field", ... */
  int n;
} journal;

static void write_down(journal *j, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void write_down(journal *j, const char *format, ...) {
  ck_assert_int_lt(j->n, MAX_EVENTS);
  va_list ap;
  va_start(ap, format);
  vsnprintf(j->events[j->n++], sizeof(j->events[0]), format, ap);
  va_end(ap);
}

/* The data age of the last reading begun (-1: none). */
static double last_age_s = -1;

static void on_begin(void *ctx, const ef_reading_view *reading) {
  last_age_s = reading->has_age ? reading->age_s : -1;
  write_down(ctx, "begin %s%s", reading->device->sn,
             reading->stale ? " stale" : "");
}

static void on_metric(void *ctx, const ef_reading_view *reading,
                      const ef_metric *metric) {
  write_down(ctx, "metric %s %s", reading->device->sn, metric->field);
}

static void on_end(void *ctx, const ef_reading_view *reading) {
  write_down(ctx, "end %s %zu", reading->device->sn, reading->stats.published);
}

static void on_report(void *ctx, const ef_report_view *report) {
  write_down(ctx, "report %s %s=%s of %zu", report->device->sn,
             report->config->code,
             report->n_values ? report->values[0].text : "", report->n_values);
}

static void on_online(void *ctx, const ef_roster_device *device, int online,
                      int64_t time_ms, int64_t valid_ms) {
  (void)time_ms;
  (void)valid_ms;
  write_down(ctx, "online %s %d", device->sn, online);
}

static const char *const kinds[] = {
    [EF_NEWS_FAILING] = "failing",
    [EF_NEWS_CHANGED] = "changed",
    [EF_NEWS_RECOVERED] = "recovered",
    [EF_NEWS_STALE] = "stale",
    [EF_NEWS_FRESH] = "fresh",
    [EF_NEWS_ADDED] = "added",
    [EF_NEWS_REMOVED] = "removed",
    [EF_NEWS_OFFLINE] = "offline",
    [EF_NEWS_ONLINE] = "online",
    [EF_NEWS_LIST_FAILING] = "list failing",
    [EF_NEWS_LIST_RECOVERED] = "list recovered",
    [EF_NEWS_CLOCK_SKEWED] = "clock",
    [EF_NEWS_CLOCK_IN_STEP] = "clock ok",
    [EF_NEWS_NOTE] = "note",
    [EF_NEWS_INSTANCE_TAKEN] = "instance taken",
};

/* A note's text follows (cut to what the journal holds). */
static void on_news(void *ctx, const ef_news *news) {
  write_down(ctx, "news %s %s%s%s", kinds[news->kind],
             news->device ? news->device->sn : "-",
             news->kind == EF_NEWS_NOTE && news->text ? " " : "",
             news->kind == EF_NEWS_NOTE && news->text ? news->text : "");
}

static const ef_sink sink = {.reading_begin = on_begin,
                             .metric = on_metric,
                             .reading_end = on_end,
                             .report = on_report,
                             .online = on_online,
                             .news = on_news};

/* How many events start with prefix. */
static int count(const journal *j, const char *prefix) {
  int n = 0;
  for (int i = 0; i < j->n; i++)
    n += strncmp(j->events[i], prefix, strlen(prefix)) == 0;
  return n;
}

static int position(const journal *j, const char *event) {
  for (int i = 0; i < j->n; i++)
    if (strcmp(j->events[i], event) == 0)
      return i;
  return -1;
}

/* ---- fixture -------------------------------------------------------------
 */

static char endpoint[64];
static ef_account account;
static journal heard;

/* The account's request timeout. */
#define TIMEOUT_MS 2000

/* How often reads come (ef_engine_options.read_interval_ms); 0: once. */
static int64_t read_interval_ms;
/* ef_engine_options.tags_from_list of the next engine. */
static int tags_from_list;

static ef_engine *engine_for(const ef_device_config *devices, size_t n,
                             int discover, int daemon) {
  account = (ef_account){.endpoint = endpoint,
                         .access_key = UNIT_ACCESS_KEY,
                         .secret_key = UNIT_SECRET_KEY,
                         .timeout_ms = TIMEOUT_MS};
  ef_engine_options options = {.account = &account,
                               .devices = devices,
                               .n_devices = n,
                               .discover = discover,
                               .use_list = discover,
                               .interval_ms = 10000,
                               .read_interval_ms = read_interval_ms,
                               .tags_from_list = tags_from_list,
                               .daemon = daemon};
  char problem[EF_PROBLEM_LEN];
  heard = (journal){0};
  ef_engine *engine = ef_engine_new(&options, &sink, &heard, problem);
  ck_assert_msg(engine != NULL, "%s", problem);
  return engine;
}

static const ef_device_config two[] = {{.sn = "SN1", .name = "house"},
                                       {.sn = "SN2"}};

/* One read: each device's reading begins, hands out its metrics, ends;
 * each is settled once. */
START_TEST(a_read_tells_each_reading_once) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  ef_engine *engine = engine_for(two, 2, 0, 1);
  ef_read_summary summary;
  ck_assert_int_eq(ef_engine_read(engine, 1000, &summary), 0);
  ck_assert_uint_eq(summary.read, 2);
  ck_assert_uint_eq(summary.failed, 0);
  ck_assert_int_eq(unit_server.requests, 2);
  for (int d = 1; d <= 2; d++) {
    char begin[32], end[32], metric[48];
    snprintf(begin, sizeof(begin), "begin SN%d", d);
    /* 3 quotas, the stamp, and grid import and export from the signed grid
     * power */
    snprintf(end, sizeof(end), "end SN%d 6", d);
    snprintf(metric, sizeof(metric), "metric SN%d battery_soc", d);
    ck_assert_int_eq(count(&heard, begin), 1);
    ck_assert_int_ge(position(&heard, metric), position(&heard, begin));
    ck_assert_int_gt(position(&heard, end), position(&heard, metric));
  }
  /* Not due again before its interval: nothing is asked. */
  ck_assert_int_eq(ef_engine_read(engine, 2000, &summary), 0);
  ck_assert_uint_eq(summary.read, 0);
  ck_assert_int_eq(unit_server.requests, 2);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* The cloud repeating its copy: stale readings publish nothing; the third
 * says, once, that the device seems offline; new data says so once. */
START_TEST(staleness_is_told_once) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  ef_engine *engine = engine_for(two, 1, 0, 1);
  int64_t now = 1000;
  for (int read = 0; read < 5; read++, now += READ_GAP_MS)
    ef_engine_read(engine, now, NULL);
  ck_assert_int_eq(count(&heard, "begin SN1 stale"), 4);
  ck_assert_int_eq(count(&heard, "metric SN1"), 6); /* the first only */
  ck_assert_int_eq(count(&heard, "news stale SN1"), 1);
  set_cloud("2024-06-17 12:05:00", NULL, 0, NULL);
  ef_engine_read(engine, now, NULL);
  ck_assert_int_eq(count(&heard, "news fresh SN1"), 1);
  ck_assert_int_eq(count(&heard, "metric SN1"), 12);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* A device that fails is told once when it starts failing, not at every
 * read, and once when it recovers; the other is read all along. */
START_TEST(failures_are_told_on_change) {
  set_cloud("2024-06-17 12:00:00", "SN2", 500, NULL);
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  ef_engine *engine = engine_for(two, 2, 0, 1);
  int64_t now = 1000;
  ef_read_summary summary;
  for (int read = 0; read < 3; read++, now += 3 * READ_GAP_MS) {
    ef_engine_read(engine, now, &summary);
    ck_assert_uint_eq(summary.read, 1);
    ck_assert_uint_eq(summary.failed, 1);
  }
  ck_assert_int_eq(count(&heard, "news failing SN2"), 1);
  ck_assert_int_eq(count(&heard, "begin SN1"), 3);
  set_cloud("2024-06-17 12:10:00", NULL, 0, NULL);
  ef_engine_read(engine, now + 10 * READ_GAP_MS, NULL);
  ck_assert_int_eq(count(&heard, "news recovered SN2"), 1);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* With discovery, the list comes first: its devices are added (news of the
 * first list), their online flags told, and the online one polled. */
START_TEST(discovery_lists_then_polls) {
  set_cloud("2024-06-17 12:00:00", NULL, 0,
            "[{\"sn\":\"SNA\",\"online\":1,\"productName\":\"PowerOcean\"},"
            "{\"sn\":\"SNB\",\"online\":0},{\"sn\":\"bad sn\",\"online\":1}]");
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  ef_engine *engine = engine_for(NULL, 0, 1, 1);
  ef_read_summary summary;
  ef_engine_read(engine, 1000, &summary);
  ck_assert_uint_eq(summary.devices, 2);
  ck_assert_uint_eq(summary.read, 1);
  ck_assert_uint_eq(summary.skipped, 1);
  ck_assert_int_eq(count(&heard, "news added"), 2);
  ck_assert_int_eq(count(&heard, "news note -"), 1); /* the bad serial */
  ck_assert_int_ge(position(&heard, "begin SNA"),
                   position(&heard, "online SNA 1"));
  ck_assert_int_eq(count(&heard, "online SNB 0"), 1);
  ck_assert_int_eq(count(&heard, "begin SNB"), 0);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* SN1 with report WEEK every hour, against a started server. */
static const ef_report_config week = {.code = "WEEK",
                                      .interval_ms = 3600 * 1000};
static const ef_device_config with_week = {
    .sn = "SN1", .reports = &week, .n_reports = 1};

static ef_engine *engine_with_weekly_report(void) {
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  return engine_for(&with_week, 1, 0, 1);
}

/* A report is fetched once its device has been polled, and handed out
 * made (kWh as Wh). */
START_TEST(reports_follow_the_first_poll) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  ef_engine *engine = engine_with_weekly_report();
  ef_engine_read(engine, 1000, NULL);
  ck_assert_int_eq(count(&heard, "report SN1 WEEK=1500"), 1);
  ck_assert_int_gt(position(&heard, "report SN1 WEEK=1500 of 1"),
                   position(&heard, "end SN1 4"));
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* Two fetches of the weekly report, an hour apart, each handed out as
 * report says; what was left out is said once, as said begins. Frees
 * engine. */
static void fetched_twice_said_once(ef_engine *engine, const char *report,
                                    const char *said) {
  ef_engine_read(engine, 1000, NULL);
  ck_assert_int_eq(count(&heard, report), 1);
  ck_assert_int_eq(count(&heard, "news note SN1"), 1);
  ck_assert_int_eq(count(&heard, said), 1);
  ef_engine_read(engine, 1000 + 3600 * 1000 + READ_GAP_MS, NULL);
  ck_assert_int_eq(count(&heard, report), 2);
  ck_assert_int_eq(count(&heard, "news note SN1"), 1);
  ef_engine_free(engine);
  unit_server_stop();
}

/* A report value that is no number (a boolean here), or one beyond a
 * double once in Wh (+-1e308 kWh), is left out, the numbers beside it
 * kept, and all are said once, not at every fetch. */
START_TEST(report_values_that_are_no_numbers_are_said_once) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  cloud.report_data = "[{\"indexName\":\"From Solar\",\"indexValue\":true,"
                      "\"unit\":\"kWh\"},{\"indexName\":\"To Home\","
                      "\"indexValue\":1e308,\"unit\":\"kWh\"},"
                      "{\"indexName\":\"To Grid\","
                      "\"indexValue\":2,\"unit\":\"kWh\"},"
                      "{\"indexName\":\"From Grid\","
                      "\"indexValue\":-1e308,\"unit\":\"kWh\"}]";
  ef_engine *engine = engine_with_weekly_report();
  fetched_twice_said_once(
      engine, "report SN1 WEEK=2000 of 1",
      "news note SN1 report WEEK: 3 indexes left out: 3 no number");
}
END_TEST

/* A report of 15,000 indexes makes no 15,000 values: the cap on values
 * the catalog does not know holds, and what it cut is said once. */
START_TEST(report_indexes_are_capped) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  cloud.report_indexes = 15000;
  ef_engine *engine = engine_with_weekly_report();
  account.max_unknown = 10;
  fetched_twice_said_once(
      engine, "report SN1 WEEK=1000 of 10",
      "news note SN1 report WEEK: 14990 indexes left out: 0 no number");
  cloud.report_indexes = 0;
}
END_TEST

/* A front end whose series carry the list's name and product: the list is
 * asked first, and while it fails no device's values are handed out (its
 * points would lack those tags), said once, though the device is polled
 * (its failures would be told); once the list answers, the device is
 * read, and a later failing list changes nothing. */
START_TEST(values_wait_for_the_lists_tags) {
  set_cloud("2024-06-17 12:00:00", NULL, 0,
            "[{\"sn\":\"SN1\",\"deviceName\":\"house\",\"online\":1,"
            "\"productName\":\"PowerOcean\"}]");
  cloud.list_status = 500;
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  tags_from_list = 1;
  ef_engine *engine = engine_for(two, 1, 0, 0);
  tags_from_list = 0;
  ef_read_summary summary;
  ef_engine_read(engine, 1000, &summary);
  ck_assert_uint_eq(summary.read + summary.failed, 0);
  ck_assert_uint_eq(summary.held, 1); /* polled, its values held */
  ck_assert_int_eq(count(&heard, "begin SN1"), 0);
  ck_assert_int_eq(count(&heard, "news list failing"), 1);
  ck_assert_int_eq(count(&heard, "news note -"), 1);
  ck_assert_int_eq(unit_server.requests, 2); /* the list and the poll */
  int64_t now = 1000 + EF_ROSTER_LIST_RETRY_MS;
  ef_engine_read(engine, now, &summary);
  ck_assert_int_eq(count(&heard, "begin SN1"), 0);
  ck_assert_int_eq(count(&heard, "news note -"), 1);
  cloud.list_status = 0;
  now += 2 * EF_ROSTER_LIST_RETRY_MS;
  ef_engine_read(engine, now, &summary);
  ck_assert_uint_eq(summary.read, 1);
  ck_assert_int_eq(count(&heard, "begin SN1"), 1);
  ck_assert_str_eq(ef_engine_device(engine, 0)->product, "PowerOcean");
  cloud.list_status = 500;
  now += EF_ROSTER_DEFAULT_REFRESH_MS;
  ef_engine_read(engine, now, &summary);
  ck_assert_uint_eq(summary.read, 1);
  ck_assert_str_eq(ef_engine_device(engine, 0)->product, "PowerOcean");
  ck_assert_str_eq(ef_roster_device_name(ef_engine_device(engine, 0)), "house");
  cloud.list_status = 0;
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* A one-shot run asks the list with its polls, not before them: the
 * readings answered before the list are held, then handed out with its
 * tags, and nothing is said about values waiting. */
START_TEST(a_one_shot_runs_list_travels_with_its_polls) {
  set_cloud("2024-06-17 12:00:00", NULL, 0,
            "[{\"sn\":\"SN1\",\"deviceName\":\"house\",\"online\":1,"
            "\"productName\":\"PowerOcean\"}]");
  cloud.list_awaits_poll = 1; /* so the poll's answer comes first */
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  tags_from_list = 1;
  ef_engine *engine = engine_for(two, 1, 0, 0);
  tags_from_list = 0;
  ef_read_summary summary;
  ck_assert_int_eq(ef_engine_read(engine, 1000, &summary), 0);
  ck_assert_uint_eq(summary.read, 1);
  ck_assert_uint_eq(summary.held, 0);
  ck_assert_int_eq(unit_server.requests, 2);
  ck_assert_int_eq(cloud.list_saw_poll, 1); /* in one batch */
  ck_assert_int_eq(count(&heard, "begin SN1"), 1);
  ck_assert_int_eq(count(&heard, "metric SN1 battery_soc"), 1);
  ck_assert_int_eq(count(&heard, "news note -"), 0);
  ck_assert_str_eq(ef_engine_device(engine, 0)->product, "PowerOcean");
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* A reading held for the list is aged by its own answer's clock: the
 * list's answer, though later, may carry a server clock that has moved on
 * (here two hours, as a simulated day steps). */
START_TEST(a_held_reading_is_aged_by_its_own_answer) {
  set_cloud("2024-06-17 12:00:00", NULL, 0,
            "[{\"sn\":\"SN1\",\"deviceName\":\"house\",\"online\":1,"
            "\"productName\":\"PowerOcean\"}]");
  cloud.list_awaits_poll = 1; /* so the poll's answer comes first */
  const long long stamp_ms = 1718625600000LL; /* 2024-06-17 12:00:00 */
  snprintf(cloud.poll_clock, sizeof(cloud.poll_clock), "%lld", stamp_ms + 5000);
  snprintf(cloud.list_clock, sizeof(cloud.list_clock), "%lld",
           stamp_ms + 7200 * 1000);
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  tags_from_list = 1;
  ef_engine *engine = engine_for(two, 1, 0, 0);
  tags_from_list = 0;
  ef_read_summary summary;
  last_age_s = -1;
  ck_assert_int_eq(ef_engine_read(engine, 1000, &summary), 0);
  ck_assert_uint_eq(summary.read, 1);
  ck_assert_int_eq(cloud.list_saw_poll, 1); /* one batch: list and poll */
  ck_assert_int_eq(count(&heard, "begin SN1"), 1);
  /* Its answer came 5 s after the stamp, by that answer's clock. */
  ck_assert_msg(last_age_s > 4.999 && last_age_s < 5.001, "age %.3f s",
                last_age_s);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* A host that refuses: every device due settles once, failing, and the
 * read ends. A stopped engine sends nothing. */
START_TEST(dead_host_and_stop) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  unit_server_stop(); /* nothing listens there any more */
  ef_engine *engine = engine_for(two, 2, 0, 1);
  ef_read_summary summary;
  ef_engine_read(engine, 1000, &summary);
  ck_assert_uint_eq(summary.failed, 2);
  ck_assert_int_eq(count(&heard, "news failing"), 2);
  ef_engine_stop(engine);
  heard.n = 0;
  ef_engine_read(engine, 1000 + 10 * READ_GAP_MS, &summary);
  ck_assert_uint_eq(summary.read + summary.failed, 0);
  ck_assert_int_eq(heard.n, 0);
  ef_engine_free(engine);
}
END_TEST

/* The list answers, the device's poll hangs: its report, due after its
 * first poll, is not sent into the same hanging host. The read costs one
 * timeout, not two, and the report's failure is told. */
START_TEST(a_hanging_host_costs_one_timeout) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, "[{\"sn\":\"SN1\",\"online\":1}]");
  cloud.hang_ms = TIMEOUT_MS + 1000;
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  ef_device_config device = {.sn = "SN1", .reports = &week, .n_reports = 1};
  ef_engine *engine = engine_for(&device, 1, 1, 1);
  int64_t started = ef_now_ms();
  ef_read_summary summary;
  ef_engine_read(engine, 1000, &summary);
  int64_t took = ef_now_ms() - started;
  ck_assert_uint_eq(summary.failed, 1);
  /* One timeout (2015 ms under valgrind and two busy loops), not two. */
  ck_assert_msg(took < 2 * TIMEOUT_MS, "the read took %lld ms",
                (long long)took);
  pthread_mutex_lock(&unit_server.lock);
  int requests = unit_server.requests; /* the list and the poll */
  pthread_mutex_unlock(&unit_server.lock);
  ck_assert_int_eq(requests, 2);
  ck_assert_int_eq(count(&heard, "news failing SN1"), 2); /* poll, report */
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* A read that takes longer than the interval between reads says so once,
 * with what would make it fit; the next slow read says nothing. */
START_TEST(a_slow_read_is_told_once) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  cloud.hang_ms = 400;
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  read_interval_ms = 300;
  ef_engine *engine = engine_for(two, 2, 0, 1);
  read_interval_ms = 0;
  ef_engine_read(engine, 1000, NULL);
  ck_assert_int_eq(count(&heard, "news note -"), 1);
  ef_engine_read(engine, 1000 + READ_GAP_MS, NULL);
  ck_assert_int_eq(count(&heard, "news note -"), 1);
  ck_assert_int_eq(count(&heard, "begin SN"), 4);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

/* The event that begins with prefix and holds text, or NULL. */
static const char *find(const journal *j, const char *prefix,
                        const char *text) {
  for (int i = 0; i < j->n; i++)
    if (strncmp(j->events[i], prefix, strlen(prefix)) == 0 &&
        strstr(j->events[i], text) != NULL)
      return j->events[i];
  return NULL;
}

/* A backfill's windows are answered in whatever order the cloud answers
 * them: the range it skipped is told from the earliest window to the
 * latest, not from the first failure heard to the last. */
START_TEST(skipped_windows_are_told_as_one_range) {
  set_cloud("2024-06-17 12:00:00", NULL, 0, NULL);
  cloud.reports_fail = 1;
  cloud.late_begin = "2024-01-01 00:00:00";
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
  ef_engine *engine = engine_for(two, 1, 0, 0);
  char problem[EF_PROBLEM_LEN];
  /* 2024-01-01 to 2024-01-22 UTC: three windows, asked together. */
  ck_assert_int_eq(ef_engine_backfill(engine, 1000, "WEEK", 1704067200,
                                      1704067200 + 21 * 86400, 0, problem),
                   0);
  ck_assert_int_eq(unit_server.requests, 3);
  const char *said = find(&heard, "news note SN1", "3 of 3 windows skipped");
  ck_assert_msg(said != NULL, "nothing said of the skipped windows");
  ck_assert_msg(strstr(said, "between 2024-01-01 00:00:00 and 2024-01-21 "
                             "23:59:59") != NULL,
                "%s", said);
  ef_engine_free(engine);
  unit_server_stop();
}
END_TEST

int main(void) {
  ef_client_global_init();
  const TTest *const tests[] = {a_read_tells_each_reading_once,
                                staleness_is_told_once,
                                failures_are_told_on_change,
                                discovery_lists_then_polls,
                                reports_follow_the_first_poll,
                                dead_host_and_stop,
                                a_hanging_host_costs_one_timeout,
                                a_slow_read_is_told_once,
                                report_values_that_are_no_numbers_are_said_once,
                                report_indexes_are_capped,
                                values_wait_for_the_lists_tags,
                                a_one_shot_runs_list_travels_with_its_polls,
                                a_held_reading_is_aged_by_its_own_answer,

                                skipped_windows_are_told_as_one_range};
  int status = unit_run("engine", tests, sizeof(tests) / sizeof(tests[0]));
  ef_client_global_cleanup();
  return status;
}
