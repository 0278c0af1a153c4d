/* sink.c: readings, reports and online flags as line protocol, news as
 * Telegraf log lines. */
#include "sink.h"

#include "ef_inline.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <string.h>

/* sn, name and product: the tags every point of a device starts with
 * (name: configured, else listed; a tag without a value is left out). */
#define DEVICE_TAGS 3
/* stale and age_s: what an ecoflow_read point of a cached copy has. */
#define READ_FIELDS_WHEN_STALE 2

static const lp_type lp_types[] = {
    [EF_VALUE_FLOAT] = LP_FLOAT,
    [EF_VALUE_INT] = LP_INT,
    [EF_VALUE_STRING] = LP_STRING,
};

static void device_tags(const ef_roster_device *device,
                        lp_tag tags[DEVICE_TAGS]) {
  tags[0] = (lp_tag){.key = "sn", .value = device->sn};
  tags[1] = (lp_tag){.key = "name", .value = ef_roster_device_name(device)};
  tags[2] = (lp_tag){.key = "product", .value = device->product};
}

/* The points added next start with device's tags. */
static void share_device_tags(tg_printer *printer,
                              const ef_roster_device *device) {
  lp_tag tags[DEVICE_TAGS];
  device_tags(device, tags);
  if (tg_series_share(printer->series, tags, DEVICE_TAGS) != 0)
    printer->output_error = ENOMEM;
}

/* The device tags of reading shared, once per reading. */
EF_HOT void share_reading_tags(tg_printer *printer,
                               const ef_reading_view *reading) {
  if (printer->shared_for == reading)
    return;
  share_device_tags(printer, reading->device);
  printer->shared_for = reading;
}

static void add_field(tg_printer *printer, const char *measurement,
                      const lp_tag *tags, size_t n_tags,
                      const lp_field *field) {
  if (tg_series_add(printer->series, measurement, tags, n_tags, field) != 0)
    printer->output_error = ENOMEM;
}

/* Adds field to the point of key when it is known (without a look at
 * names): 1, or 0 when it is not. */
EF_HOT int add_known(tg_printer *printer, const tg_series_key *key,
                     const lp_field *field) {
  int known = tg_series_add_known(printer->series, key, field);
  if (known < 0)
    printer->output_error = ENOMEM;
  return known != 0;
}

static void add_keyed(tg_printer *printer, const tg_series_key *key,
                      const char *measurement, const lp_tag *tags,
                      size_t n_tags, const lp_field *field) {
  if (tg_series_add_keyed(printer->series, key, measurement, tags, n_tags,
                          field) != 0)
    printer->output_error = ENOMEM;
}

/* The reading's own point, numbered below the core's series: its
 * measurement is none of the catalog's (a test looks), so it is never a
 * point the core numbers, and need not be looked for by names. */
static const tg_series_key read_series = {.series = 1};
_Static_assert(1 < EF_SERIES_FIRST, "the core's series start above");

static void flush_at(tg_printer *printer, int64_t time_ns) {
  printer->shared_for = NULL; /* the series forgets its shared tags */
  errno = 0;
  if (tg_series_flush(printer->series, printer->out, time_ns) < 0 ||
      fflush(printer->out) != 0)
    printer->output_error = errno ? errno : EIO;
}

void tg_output_failed(int err) {
  if (err != EPIPE)
    return;
  signal(SIGPIPE, SIG_DFL);
  raise(SIGPIPE);
}

static void on_metric(void *ctx, const ef_reading_view *reading,
                      const ef_metric *metric) {
  tg_printer *printer = ctx;
  share_reading_tags(printer, reading);
  lp_field field = {.key = metric->field,
                    .type = lp_types[metric->type],
                    .number = metric->number,
                    .integer = metric->integer,
                    .text = metric->text,
                    /* The core's promise: the text denotes the number. */
                    .text_exact = 1,
                    .text_len = metric->text_len,
                    /* And a series' names are the memo's while it is. */
                    .key_series = metric->series};
  /* The core's series: the point of a metric whose series came before in
   * this reading is found without a look at its names. */
  const tg_series_key key = {.series = metric->series,
                             .variant = metric->series_variant};
  if (add_known(printer, &key, &field))
    return;
  lp_tag tags[EF_MAX_TAGS];
  for (size_t i = 0; i < metric->n_tags; i++)
    tags[i] =
        (lp_tag){.key = metric->tags[i].key, .value = metric->tags[i].value};
  add_keyed(printer, &key, metric->measurement, tags, metric->n_tags, &field);
}

static void on_reading_end(void *ctx, const ef_reading_view *reading) {
  tg_printer *printer = ctx;
  /* A pushed message carries only what changed: its values, at once. */
  if (reading->pushed) {
    flush_at(printer, reading->time_ms * INT64_C(1000000));
    return;
  }
  /* An unknown age is NaN, which the encoder leaves out; the counts after
   * the first two fields only describe values that were published. */
  const lp_field read[] = {
      {.key = "stale", .type = LP_BOOL, .integer = reading->stale},
      {.key = "age_s",
       .type = LP_FLOAT,
       .number = reading->has_age ? reading->age_s : NAN},
      {.key = "published",
       .type = LP_INT,
       .integer = (int64_t)reading->stats.published},
      {.key = "no_reading",
       .type = LP_INT,
       .integer = (int64_t)reading->stats.no_reading},
      {.key = "implausible",
       .type = LP_INT,
       .integer = (int64_t)reading->stats.implausible},
  };
  share_reading_tags(printer, reading);
  size_t n =
      reading->stale ? READ_FIELDS_WHEN_STALE : sizeof(read) / sizeof(read[0]);
  for (size_t i = 0; i < n; i++)
    if (!add_known(printer, &read_series, &read[i]))
      add_keyed(printer, &read_series, TG_READ_MEASUREMENT, NULL, 0, &read[i]);
  flush_at(printer, reading->time_ms * INT64_C(1000000));
}

static void on_report(void *ctx, const ef_report_view *report) {
  tg_printer *printer = ctx;
  share_device_tags(printer, report->device);
  const lp_tag code = {.key = "code", .value = report->config->code};
  for (size_t i = 0; i < report->n_values; i++) {
    const ef_report_value *value = &report->values[i];
    lp_field field = {.key = value->name,
                      .type = LP_FLOAT,
                      .number = value->number,
                      .text = value->text[0] ? value->text : NULL};
    add_field(printer, EF_REPORT_MEASUREMENT, &code, 1, &field);
  }
  flush_at(printer, (int64_t)report->window->begin * INT64_C(1000000000));
}

static void on_online(void *ctx, const ef_roster_device *device, int online,
                      int64_t time_ms, int64_t valid_ms) {
  (void)valid_ms;
  tg_printer *printer = ctx;
  if (!printer->print_online)
    return;
  share_device_tags(printer, device);
  lp_field field = {.key = "online", .type = LP_BOOL, .integer = online};
  add_field(printer, TG_DEVICE_MEASUREMENT, NULL, 0, &field);
  flush_at(printer, time_ms * INT64_C(1000000));
}

static const char *const prefixes[] = {
    [EF_LEVEL_ERROR] = "E!",
    [EF_LEVEL_WARNING] = "W!",
    [EF_LEVEL_NOTICE] = "I!",
    [EF_LEVEL_INFO] = "I!",
};

/* The news (ef_news_describe's words) as a Telegraf log line: "LEVEL
 * ecoflow: device SN (NAME): what". */
static void on_news(void *ctx, const ef_news *news) {
  tg_printer *printer = ctx;
  /* Not said: the devices of the first list (what the run starts with),
   * and a taken instance (points carry the serial number: they never
   * meet). */
  if ((news->kind == EF_NEWS_ADDED && news->first_list) ||
      news->kind == EF_NEWS_INSTANCE_TAKEN)
    return;
  const char *level = prefixes[news->level];
  char what[EF_NEWS_WORDS_LEN];
  ef_news_describe(news, 0, what, sizeof(what));
  const ef_roster_device *device = news->device;
  const char *name = device ? ef_roster_device_name(device) : NULL;
  if (device == NULL)
    fprintf(printer->log, "%s ecoflow: %s\n", level, what);
  else if (name != NULL)
    fprintf(printer->log, "%s ecoflow: device %s (%s): %s\n", level, device->sn,
            name, what);
  else
    fprintf(printer->log, "%s ecoflow: device %s: %s\n", level, device->sn,
            what);
  fflush(printer->log);
}

const ef_sink tg_sink = {
    .metric = on_metric,
    .reading_end = on_reading_end,
    .report = on_report,
    .online = on_online,
    .news = on_news,
    .without_collectd_names = 1,
};
