/* ef_sink.h: the one seam between the core and a front end: what the
 * engine (ef_engine.h) hands over, and the callbacks it hands it to.
 *
 * Promises: every callback gets the sink's ctx first; what it is handed is
 * valid during the call only. A reading is told as reading_begin, its
 * metrics, reading_end, whatever source it came from (polled or pushed). */
#ifndef EF_SINK_H
#define EF_SINK_H

#include "ef_history.h"
#include "ef_metric.h"
#include "ef_news.h"
#include "ef_report.h"
#include "ef_roster.h"

#include <stddef.h>
#include <stdint.h>

/* A report's configuration (ef_engine.h). */
typedef struct ef_report_config ef_report_config;

/* One reading of one device, as the sink sees it. */
typedef struct {
  const ef_roster_device *device;
  int64_t time_ms;     /* when it arrived */
  int64_t interval_ms; /* the device's */
  int pushed;          /* from MQTT: a message, or the pushed state */
  int stale;           /* the cloud's cached copy: no metrics follow */
  int has_age;         /* age_s: the data's age by the cloud's stamp */
  double age_s;
  ef_metric_stats stats; /* complete at reading_end */
} ef_reading_view;

/* One window of one report of one device. */
typedef struct {
  const ef_roster_device *device;
  const ef_report_config *config;
  const ef_window *window;
  const ef_report_value *values;
  size_t n_values;
  int64_t time_ms; /* when the read that fetched it started */
} ef_report_view;

/* What a front end does with what the engine tells. */
typedef struct {
  void (*reading_begin)(void *ctx, const ef_reading_view *reading);
  void (*metric)(void *ctx, const ef_reading_view *reading,
                 const ef_metric *metric);
  void (*reading_end)(void *ctx, const ef_reading_view *reading);
  void (*report)(void *ctx, const ef_report_view *report);
  /* After each successful list, for every device it names. */
  void (*online)(void *ctx, const ef_roster_device *device, int online,
                 int64_t time_ms, int64_t valid_ms);
  void (*news)(void *ctx, const ef_news *news);
  /* 1: metric reads no collectd type, instance or value (line protocol's
   * names only), so they are not made. */
  int without_collectd_names;
} ef_sink;

#endif
