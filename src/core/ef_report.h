/* ef_report.h: historical reports (quota/data, ef_history.h) as values to
 * publish.
 *
 * Promises: each index of a report answer ("From Solar", 12.34, "kWh")
 * becomes a clean name ("from_solar", the snake_case of ef_metric.h), the
 * unit the front ends publish it in and a collectd type: energies in Wh
 * (kWh x 1000, the decimal point moved in the API's own text so that the
 * value stays exact) as "energy_wh", percentages as "percent" in 0-100
 * (an index named "..._pct" is a fraction of 1, as the reference's own
 * example shows: 0.7162 is 71.62 %), anything else unchanged as "gauge".
 * A report's values pass the gate of every value (ef_value_rules.h): a
 * marker is no reading, a percentage outside 0-100 implausible; an index
 * whose clean name an earlier one has is left out (never two values of
 * one name), and so is every index past the cap on values the catalog
 * does not know: each counted. Both front ends name report values this
 * way and no other. Times are UTC; every window is one the API accepts
 * (strictly shorter than a week, end after begin). */
#ifndef EF_REPORT_H
#define EF_REPORT_H

#include "ef_history.h"
#include "ef_metric.h"

#include <stddef.h>
#include <time.h>

/* How often a periodic report is fetched unless configured otherwise. */
#define EF_REPORT_DEFAULT_INTERVAL_MS (60 * 60 * 1000)
/* The line protocol measurement of report values; tags sn, code (and the
 * device's name and product when known), one field per index. */
#define EF_REPORT_MEASUREMENT "ecoflow_history"
#define EF_REPORT_CODE_MAX 64
#define EF_REPORT_TEXT_LEN 48

typedef struct {
  char name[EF_NAME_LEN];        /* "from_solar" */
  const char *collectd_type;     /* "energy_wh", "percent" or "gauge" */
  const char *unit;              /* as published: "Wh", "%", or as sent */
  double number;                 /* in unit */
  char text[EF_REPORT_TEXT_LEN]; /* number's exact decimal text, or "" */
} ef_report_value;

/* The publishable form of one index of a report answer. Returns 0, or -1
 * when the value in the published unit is beyond a double (1e308 kWh is
 * no number of Wh): implausible, to be left out and counted. */
int ef_report_value_make(const ef_history_value *index, ef_report_value *out);

typedef struct {
  size_t no_reading;  /* markers */
  size_t implausible; /* percentages outside 0-100, beyond a double */
  size_t collided;    /* a clean name an earlier index has */
  size_t cut;         /* past the cap */
} ef_report_stats;

/* The publishable values of n indexes, at most max (0:
 * EF_DEFAULT_MAX_UNKNOWN) into out, which has room for that many (or n
 * when fewer); what is left out is added to stats. Returns how many were
 * written, or (size_t)-1 when out of memory. */
size_t ef_report_values(const ef_history_value *indexes, size_t n, size_t max,
                        ef_report_value *out, ef_report_stats *stats);

/* The week so far at now: from Monday 00:00:00 UTC to now (one second at
 * least, so that end is after begin), what a periodic report fetches. */
ef_window ef_report_week_so_far(time_t now);

/* Splits [begin, end), end not included, into the windows of a backfill
 * (ef_history.h: consecutive, each strictly shorter than a week, the first
 * from begin): 2024-06-17 to 2024-06-24 is one window, a 30-day month
 * five. A last window that would end where it begins (the range is a
 * whole number of weeks and one second) is left out: the API refuses it.
 * Writes at most max; returns how many the range needs. */
size_t ef_report_windows(time_t begin, time_t end, ef_window *out, size_t max);

/* 1 when code can be sent as a report code
 * ("JT303_Dashboard_Overview_Summary_Week"): letters, digits, '_', '-'. */
int ef_report_code_valid(const char *code);

#endif
