/* Unit tests of ef_report.c: names, units and exact scaling of report
 * indexes, and the windows of a week so far and of a backfill. */
#include "ef_report.h"
#include "unit.h"
#include "unit_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ef_report_value made(const char *name, double value, const char *text,
                            const char *unit) {
  ef_history_value index = {
      .name = name, .value = value, .text = text, .unit = unit};
  ef_report_value out;
  ef_report_value_make(&index, &out);
  return out;
}

START_TEST(names_are_snake_case) {
  ck_assert_str_eq(made("From Solar", 1, "1", "kWh").name, "from_solar");
  ck_assert_str_eq(made("Self-sufficiency", 1, "1", "%").name,
                   "self_sufficiency");
  ck_assert_str_eq(made("pv_to_powerplus_pct", 1, "1", "%").name,
                   "pv_to_powerplus_pct");
  ck_assert_str_eq(made("To Home", 1, "1", "kWh").name, "to_home");
}
END_TEST

/* Each unit's type, published unit, value and exact text. */
static const struct {
  double value;
  const char *text, *unit;
  const char *type, *published_unit, *published_text;
  double number;
} scaled[] = {
    {12.34, "12.34", "kWh", "energy_wh", "Wh", "12340", 12340},
    {0.5, "0.5", "kWh", "energy_wh", "Wh", "500", 500},
    {0.0123, "0.0123", "kWh", "energy_wh", "Wh", "12.3", 12.3},
    {3, "3", "kWh", "energy_wh", "Wh", "3000", 3000},
    {-1.25, "-1.25", "kWh", "energy_wh", "Wh", "-1250", -1250},
    {0, "0.00", "kWh", "energy_wh", "Wh", "0", 0},
    {-0.0, "-0.00", "KWH", "energy_wh", "Wh", "0", 0},
    {1.5, "1.5", "Wh", "energy_wh", "Wh", "1.5", 1.5},
    {99.57, "99.57", "%", "percent", "%", "99.57", 99.57},
    {0.4123, "0.4123", "%", "percent", "%", "0.4123", 0.4123},
    {110, "110", "%", "percent", "%", "110", 110}, /* judged later */
    {7, "7", "", "gauge", "", "7", 7},
    {7, "7", "kg", "gauge", "kg", "7", 7},
    /* An exponent is not a plain decimal: scaled as a number, no text. */
    {1200, "1.2e3", "kWh", "energy_wh", "Wh", "", 1200000},
};

START_TEST(units_scale_exactly) {
  for (size_t i = 0; i < sizeof(scaled) / sizeof(scaled[0]); i++) {
    ef_report_value v =
        made("x", scaled[i].value, scaled[i].text, scaled[i].unit);
    ck_assert_str_eq(v.collectd_type, scaled[i].type);
    ck_assert_str_eq(v.unit, scaled[i].published_unit);
    ck_assert_str_eq(v.text, scaled[i].published_text);
    ck_assert_double_eq(v.number, scaled[i].number);
  }
  /* Without text, the number alone. */
  ef_report_value v = made("x", 2.5, NULL, "kWh");
  ck_assert_str_eq(v.text, "");
  ck_assert_double_eq(v.number, 2500);
}
END_TEST

/* An index named "..._pct" is a fraction of 1 (the reference's example
 * sends 0.7162 for 71.62 %): published as the percentage it is. */
START_TEST(fractions_become_percentages) {
  ef_report_value v = made("pv_to_powerplus_pct", 0.7162, "0.7162", "%");
  ck_assert_str_eq(v.collectd_type, "percent");
  ck_assert_str_eq(v.text, "71.62");
  ck_assert_double_eq(v.number, 71.62);
  v = made("Self-sufficiency", 95.17, "95.17", "%");
  ck_assert_str_eq(v.text, "95.17");
  v = made("weight_pct", 0.5, "0.5", "kg"); /* no percentage: as sent */
  ck_assert_str_eq(v.text, "0.5");
}
END_TEST

/* The values of a report: markers are no reading, percentages outside
 * 0-100 implausible, a clean name taken once, the rest past the cap
 * cut; each counted. */
START_TEST(report_values_pass_the_gate) {
  const ef_history_value indexes[] = {
      {.name = "From Solar", .value = 32.27, .text = "32.27", .unit = "kWh"},
      {.name = "from_solar", .value = 1, .text = "1", .unit = "kWh"},
      {.name = "To Grid", .value = 65535, .text = "65535", .unit = "kWh"},
      {.name = "Self-sufficiency", .value = 101, .text = "101", .unit = "%"},
      {.name = "Ratio", .value = 4294967295.0, .text = "4294967295"},
      {.name = "To Home", .value = 22.77, .text = "22.77", .unit = "kWh"},
      {.name = "To Battery", .value = 9.1, .text = "9.1", .unit = "kWh"},
      {.name = "From Grid", .value = 5.13, .text = "5.13", .unit = "kWh"},
  };
  size_t n = sizeof(indexes) / sizeof(indexes[0]);
  ef_report_value out[8];
  ef_report_stats stats = {0};
  ck_assert_uint_eq(ef_report_values(indexes, n, 3, out, &stats), 3);
  ck_assert_str_eq(out[0].name, "from_solar");
  ck_assert_str_eq(out[0].text, "32270");
  ck_assert_str_eq(out[1].name, "to_home");
  ck_assert_str_eq(out[2].name, "to_battery");
  ck_assert_uint_eq(stats.collided, 1);
  ck_assert_uint_eq(stats.no_reading, 2);
  ck_assert_uint_eq(stats.implausible, 1);
  ck_assert_uint_eq(stats.cut, 1);
  /* Thousands of indexes: the cap holds, in one pass. */
  enum { MANY = 15000 };
  ef_history_value *many = calloc(MANY, sizeof(*many));
  char(*names)[16] = calloc(MANY, sizeof(*names));
  for (size_t i = 0; i < MANY; i++) {
    snprintf(names[i], sizeof(names[i]), "index %zu", i);
    many[i] = (ef_history_value){.name = names[i], .value = 1, .text = "1"};
  }
  ef_report_value capped[10];
  stats = (ef_report_stats){0};
  ck_assert_uint_eq(ef_report_values(many, MANY, 10, capped, &stats), 10);
  ck_assert_uint_eq(stats.cut, MANY - 10);
  ck_assert_str_eq(capped[9].name, "index_9");
  free(many);
  free(names);
}
END_TEST

/* A value that is a double in kWh but none in Wh is refused, not made
 * infinite; the largest that fits is kept. */
START_TEST(values_beyond_a_double_once_scaled_are_refused) {
  static const struct {
    double value;
    const char *text, *unit;
    int made;
  } edges[] = {
      {1e308, "1e+308", "kWh", -1}, {-1e308, "-1e308", "kWh", -1},
      {1e303, "1e303", "MWh", -1},  {1.7e305, "1.7e305", "kWh", 0},
      {1e308, "1e308", "Wh", 0},    {1e308, "1e308", "%", 0},
      {-1e305, "-1e305", "kWh", 0}, {1e308, NULL, "kWh", -1},
  };
  for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
    ef_history_value index = {.name = "x",
                              .value = edges[i].value,
                              .text = edges[i].text,
                              .unit = edges[i].unit};
    ef_report_value out;
    ck_assert_msg(ef_report_value_make(&index, &out) == edges[i].made, "%s %s",
                  edges[i].text ? edges[i].text : "(no text)", edges[i].unit);
  }
}
END_TEST

START_TEST(week_so_far_starts_monday_utc) {
  /* Wednesday 2024-06-19 12:00 UTC: the week began Monday the 17th. */
  ef_window w = ef_report_week_so_far(at("2024-06-19 12:00:00"));
  assert_window(&w, "2024-06-17 00:00:00", "2024-06-19 12:00:00");
  w = ef_report_week_so_far(at("2024-06-23 23:59:59"));
  assert_window(&w, "2024-06-17 00:00:00", "2024-06-23 23:59:59");
  w = ef_report_week_so_far(at("2024-06-24 00:00:00"));
  assert_window(&w, "2024-06-24 00:00:00", "2024-06-24 00:00:01");
  w = ef_report_week_so_far(at("1970-01-01 00:00:00")); /* a Thursday */
  ck_assert_int_eq(w.begin, -3 * 86400);
}
END_TEST

/* Backfill ranges, end not included, and the windows they need. */
static const struct {
  const char *begin, *end;
  size_t n;
  const char *windows[5][2];
} backfills[] = {
    /* Exactly 7 days: one window of 6 days 23:59:59. */
    {"2024-06-17 00:00:00",
     "2024-06-24 00:00:00",
     1,
     {{"2024-06-17 00:00:00", "2024-06-23 23:59:59"}}},
    /* A 30-day month: five. */
    {"2024-06-01",
     "2024-07-01",
     5,
     {{"2024-06-01 00:00:00", "2024-06-07 23:59:59"},
      {"2024-06-08 00:00:00", "2024-06-14 23:59:59"},
      {"2024-06-15 00:00:00", "2024-06-21 23:59:59"},
      {"2024-06-22 00:00:00", "2024-06-28 23:59:59"},
      {"2024-06-29 00:00:00", "2024-06-30 23:59:59"}}},
    /* A week and a second: the single-second window is left out ... */
    {"2024-06-17 00:00:00",
     "2024-06-24 00:00:01",
     1,
     {{"2024-06-17 00:00:00", "2024-06-23 23:59:59"}}},
    /* ... a week and two seconds need two windows. */
    {"2024-06-17 00:00:00",
     "2024-06-24 00:00:02",
     2,
     {{"2024-06-17 00:00:00", "2024-06-23 23:59:59"},
      {"2024-06-24 00:00:00", "2024-06-24 00:00:01"}}},
    {"2024-06-17 00:00:00", "2024-06-17 00:00:01", 0, {{NULL}}},
    {"2024-06-17", "2024-06-17", 0, {{NULL}}},
    {"2024-06-18", "2024-06-17", 0, {{NULL}}},
};

START_TEST(backfill_windows) {
  for (size_t i = 0; i < sizeof(backfills) / sizeof(backfills[0]); i++) {
    ef_window w[8];
    ck_assert_uint_eq(
        ef_report_windows(at(backfills[i].begin), at(backfills[i].end), w, 8),
        backfills[i].n);
    for (size_t k = 0; k < backfills[i].n; k++) {
      assert_window(&w[k], backfills[i].windows[k][0],
                    backfills[i].windows[k][1]);
      ck_assert_int_gt(w[k].end, w[k].begin); /* refused otherwise */
    }
  }
  /* A short buffer still learns how many windows are needed. */
  ef_window w[2];
  ck_assert_uint_eq(ef_report_windows(at("2024-06-01"), at("2024-07-01"), w, 2),
                    5);
}
END_TEST

START_TEST(codes) {
  ck_assert(ef_report_code_valid("JT303_Dashboard_Overview_Summary_Week"));
  ck_assert(ef_report_code_valid("A-1"));
  ck_assert(!ef_report_code_valid(""));
  ck_assert(!ef_report_code_valid("JT303 Week"));
  ck_assert(!ef_report_code_valid("a&b=c"));
  char long_code[EF_REPORT_CODE_MAX + 2];
  memset(long_code, 'A', sizeof(long_code) - 1);
  long_code[sizeof(long_code) - 1] = '\0';
  ck_assert(!ef_report_code_valid(long_code));
}
END_TEST

UNIT_MAIN("report", names_are_snake_case, units_scale_exactly,
          fractions_become_percentages, report_values_pass_the_gate,
          values_beyond_a_double_once_scaled_are_refused,
          week_so_far_starts_monday_utc, backfill_windows, codes)
