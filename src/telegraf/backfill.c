/* backfill.c: report windows fetched per device, printed one point each. */
#include "backfill.h"

#include "ef_history.h"
#include "ef_report.h"

#include <stdlib.h>

typedef struct {
  tg_printer *printer;
  ef_roster_device *device;
  const char *code;
} window_sink;

static void print_window(window_sink *sink, const ef_history_result *result) {
  tg_printer *printer = sink->printer;
  lp_tag tags[TG_DEVICE_TAGS + 1];
  tg_device_tags(sink->device, tags);
  tags[TG_DEVICE_TAGS] = (lp_tag){.key = "code", .value = sink->code};
  for (size_t i = 0; i < result->n_values; i++) {
    ef_report_value value;
    ef_report_value_make(&result->values[i], &value);
    lp_field field = {.key = value.name,
                      .type = LP_FLOAT,
                      .number = value.number,
                      .text = value.text[0] ? value.text : NULL};
    if (tg_series_add(printer->series, EF_REPORT_MEASUREMENT, tags,
                      TG_DEVICE_TAGS + 1, &field) != 0)
      printer->output_error = 1;
  }
  if (tg_series_flush(printer->series, printer->out,
                      (int64_t)result->window->begin * INT64_C(1000000000)) < 0)
    printer->output_error = 1;
}

static void on_window(const ef_history_result *result, void *ctx) {
  window_sink *sink = ctx;
  ef_health_event event =
      ef_health_update(&sink->device->health, result->error);
  if (result->error == NULL) {
    sink->printer->read++;
    print_window(sink, result);
    return;
  }
  sink->printer->failed++;
  if (event != EF_HEALTH_FAILED && event != EF_HEALTH_CHANGED)
    return;
  char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
  ef_time_format(result->window->begin, begin);
  ef_time_format(result->window->end, end);
  char error[TG_ERROR_TEXT_LEN], message[TG_ERROR_TEXT_LEN + 128];
  ef_roster_explain(result->error, 0, error, sizeof(error));
  snprintf(message, sizeof(message), "report %s, %s .. %s: %s", sink->code,
           begin, end, error);
  tg_log_device(sink->printer->log, "E!", sink->device, message);
}

int tg_backfill(ef_client *client, const ef_roster *roster, const char *code,
                time_t begin, time_t end, tg_printer *printer) {
  size_t n = ef_report_windows(begin, end, NULL, 0);
  if (n == 0) {
    fputs("E! ecoflow: --begin to --end holds no window the API accepts "
          "(at least two seconds)\n",
          printer->log);
    return -1;
  }
  ef_window *windows = calloc(n, sizeof(*windows));
  if (windows == NULL) {
    fputs("E! ecoflow: out of memory\n", printer->log);
    return -1;
  }
  ef_report_windows(begin, end, windows, n);
  size_t read_before = printer->read;
  for (size_t i = 0; i < ef_roster_size(roster); i++) {
    window_sink sink = {.printer = printer,
                        .device = ef_roster_device_at(roster, i),
                        .code = code};
    ef_error error;
    if (ef_history_fetch(client, sink.device->sn, code, windows, n, on_window,
                         &sink, &error) != 0) {
      char text[TG_ERROR_TEXT_LEN];
      ef_roster_explain(&error, 0, text, sizeof(text));
      tg_log_device(printer->log, "E!", sink.device, text);
    }
  }
  free(windows);
  if (fflush(printer->out) != 0 || printer->output_error) {
    fputs("E! ecoflow: writing to stdout failed\n", printer->log);
    return -1;
  }
  return (int)(printer->read - read_before);
}
