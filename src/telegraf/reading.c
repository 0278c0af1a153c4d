/* reading.c: one device reading as line protocol, or as a logged fault. */
#include "reading.h"

#include "ef_metric.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* stale and age_s: what an ecoflow_read point of a cached copy has. */
#define READ_FIELDS_WHEN_STALE 2

static const lp_type lp_types[] = {
    [EF_VALUE_FLOAT] = LP_FLOAT,
    [EF_VALUE_INT] = LP_INT,
    [EF_VALUE_BOOL] = LP_BOOL,
    [EF_VALUE_STRING] = LP_STRING,
};

typedef struct {
  tg_printer *printer;
  const ef_roster_device *device;
} metric_sink;

void tg_device_tags(const ef_roster_device *device,
                    lp_tag tags[TG_DEVICE_TAGS]) {
  tags[0] = (lp_tag){.key = "sn", .value = device->sn};
  tags[1] = (lp_tag){.key = "name", .value = ef_roster_device_name(device)};
  tags[2] = (lp_tag){.key = "product", .value = device->product};
}

static void add_fields(tg_printer *printer, const char *measurement,
                       const lp_tag *tags, size_t n_tags,
                       const lp_field *fields, size_t n_fields) {
  for (size_t i = 0; i < n_fields; i++)
    if (tg_series_add(printer->series, measurement, tags, n_tags, &fields[i]) !=
        0)
      printer->output_error = 1;
}

static void add_metric(const ef_metric *metric, void *ctx) {
  metric_sink *sink = ctx;
  lp_tag tags[TG_DEVICE_TAGS + EF_MAX_TAGS];
  tg_device_tags(sink->device, tags);
  for (size_t i = 0; i < metric->n_tags; i++)
    tags[TG_DEVICE_TAGS + i] =
        (lp_tag){.key = metric->tags[i].key, .value = metric->tags[i].value};
  lp_field field = {.key = metric->field,
                    .type = lp_types[metric->type],
                    .number = metric->number,
                    .integer = metric->integer,
                    .text = metric->text};
  add_fields(sink->printer, metric->measurement, tags,
             TG_DEVICE_TAGS + metric->n_tags, &field, 1);
}

static void print_lines(tg_printer *printer, ef_roster_device *device,
                        const ef_reading *reading) {
  ef_freshness_verdict fresh =
      ef_freshness_check(&device->freshness, reading->samples, reading->time_ms,
                         ef_client_clock_offset_ms(printer->client));
  metric_sink sink = {.printer = printer, .device = device};
  ef_metric_stats stats = {0};
  if (!fresh.stale)
    ef_metrics_each(reading->samples, add_metric, &sink, &stats);
  /* An unknown age is NaN, which the encoder leaves out; the counts after
   * the first two fields only describe values that were published. */
  const lp_field read[] = {
      {.key = "stale", .type = LP_BOOL, .integer = fresh.stale},
      {.key = "age_s",
       .type = LP_FLOAT,
       .number = fresh.has_age ? fresh.age_s : NAN},
      {.key = "published", .type = LP_INT, .integer = (int64_t)stats.published},
      {.key = "no_reading",
       .type = LP_INT,
       .integer = (int64_t)stats.no_reading},
      {.key = "implausible",
       .type = LP_INT,
       .integer = (int64_t)stats.implausible},
  };
  lp_tag tags[TG_DEVICE_TAGS];
  tg_device_tags(device, tags);
  add_fields(printer, TG_READ_MEASUREMENT, tags, TG_DEVICE_TAGS, read,
             fresh.stale ? READ_FIELDS_WHEN_STALE
                         : sizeof(read) / sizeof(read[0]));
  if (tg_series_flush(printer->series, printer->out,
                      reading->time_ms * INT64_C(1000000)) < 0)
    printer->output_error = 1;
}

void tg_log_device(FILE *log, const char *level, const ef_roster_device *device,
                   const char *message) {
  const char *name = ef_roster_device_name(device);
  fprintf(log, "%s ecoflow: device %s", level, device->sn);
  if (name != NULL)
    fprintf(log, " (%s)", name);
  fprintf(log, ": %s\n", message);
  fflush(log);
}

/* Settles the device's poll (schedule and health) and says what changed. */
static void report_health(tg_printer *printer, ef_roster_device *device,
                          const ef_error *error) {
  unsigned failures = device->health.failures;
  char text[TG_ERROR_TEXT_LEN];
  switch (ef_roster_settle(device, error, printer->started_ms)) {
  case EF_HEALTH_UNCHANGED:
    break;
  case EF_HEALTH_FAILED:
  case EF_HEALTH_CHANGED:
    ef_roster_explain(error, printer->long_running, text, sizeof(text));
    tg_log_device(printer->log, "E!", device, text);
    break;
  case EF_HEALTH_RECOVERED:
    snprintf(text, sizeof(text), "read again after %u failed poll%s", failures,
             failures == 1 ? "" : "s");
    tg_log_device(printer->log, "I!", device, text);
    break;
  }
}

void tg_print_reading(const ef_reading *reading, void *ctx) {
  tg_printer *printer = ctx;
  ef_roster_device *device = reading->target->user;
  report_health(printer, device, reading->error);
  if (reading->error != NULL) {
    printer->failed++;
    return;
  }
  printer->read++;
  print_lines(printer, device, reading);
}
