/* ef_report.c: report indexes named and scaled, and the windows they cover. */
#include "ef_report.h"

#include "ef_hash.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_S (24 * 3600)
/* 1970-01-01, day 0, was a Thursday: day + this is 0 mod 7 on Mondays. */
#define MONDAY_OFFSET 3

/* Units as the API writes them, and how each is published. */
static const struct {
  const char *unit;
  const char *collectd_type;
  const char *published_unit;
  int decimal_shift; /* published = sent x 10^shift */
} units[] = {
    {"kWh", "energy_wh", "Wh", 3},
    {"Wh", "energy_wh", "Wh", 0},
    {"MWh", "energy_wh", "Wh", 6},
    {"%", "percent", "%", 0},
};

#define OTHER_COLLECTD_TYPE "gauge"
#define PERCENT_TYPE "percent"
/* Indexes named so are a fraction of 1 sent with the unit "%". */
#define FRACTION_SUFFIX "_pct"
#define PERCENT_MAX 100

/* text x 10^shift by moving the decimal point: "12.34", 3 -> "12340".
 * Returns 0, or -1 when text is not a plain decimal ([-]digits[.digits])
 * or does not fit out. */
static int shift_decimal(const char *text, int shift, char *out, size_t size) {
  int negative = *text == '-';
  text += negative;
  size_t whole = strspn(text, "0123456789");
  const char *fraction = text[whole] == '.' ? text + whole + 1 : NULL;
  size_t decimals = fraction ? strspn(fraction, "0123456789") : 0;
  const char *end = fraction ? fraction + decimals : text + whole;
  if (whole == 0 || *end != '\0' || (fraction && decimals == 0) ||
      whole + (size_t)shift >= EF_REPORT_TEXT_LEN)
    return -1;
  char digits[EF_REPORT_TEXT_LEN];
  memcpy(digits, text, whole);
  size_t n = whole;
  for (size_t i = 0; i < (size_t)shift; i++)
    digits[n++] = i < decimals ? fraction[i] : '0';
  digits[n] = '\0';
  const char *rest =
      fraction != NULL && decimals > (size_t)shift ? fraction + shift : "";
  size_t rest_len = decimals > (size_t)shift ? decimals - (size_t)shift : 0;
  while (rest_len > 0 && rest[rest_len - 1] == '0')
    rest_len--;
  const char *lead = digits + strspn(digits, "0");
  if (*lead == '\0')
    lead--; /* keep one zero */
  int zero = strcmp(lead, "0") == 0 && rest_len == 0;
  int written = snprintf(out, size, "%s%s%s%.*s", negative && !zero ? "-" : "",
                         lead, rest_len ? "." : "", (int)rest_len, rest);
  return written < 0 || (size_t)written >= size ? -1 : 0;
}

int ef_report_value_make(const ef_history_value *index, ef_report_value *out) {
  *out = (ef_report_value){.collectd_type = OTHER_COLLECTD_TYPE,
                           .unit = index->unit ? index->unit : "",
                           .number = index->value};
  ef_metric_generic_name(index->name, out->name, sizeof(out->name));
  int shift = 0;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
    if (index->unit != NULL && strcasecmp(index->unit, units[i].unit) == 0) {
      out->collectd_type = units[i].collectd_type;
      out->unit = units[i].published_unit;
      shift = units[i].decimal_shift;
      break;
    }
  size_t name_len = strlen(out->name);
  if (strcmp(out->collectd_type, PERCENT_TYPE) == 0 &&
      name_len > strlen(FRACTION_SUFFIX) &&
      strcmp(out->name + name_len - strlen(FRACTION_SUFFIX), FRACTION_SUFFIX) ==
          0)
    shift = 2; /* a fraction of 1, as a percentage */
  if (index->text != NULL &&
      shift_decimal(index->text, shift, out->text, sizeof(out->text)) == 0)
    out->number = strtod(out->text, NULL);
  else
    for (int i = 0; i < shift; i++)
      out->number *= 10;
  return isfinite(out->number) ? 0 : -1;
}

/* 1 when one of out[0, n) has name; else it is taken as out[n]'s. The
 * names in a hash set of indexes + 1, so that a report of thousands of
 * indexes costs no quadratic search. */
static int name_taken(uint32_t *slots, size_t mask, const ef_report_value *out,
                      size_t n) {
  for (size_t at = ef_fnv32_text(EF_FNV32_BASIS, out[n].name) & mask;;
       at = (at + 1) & mask) {
    if (slots[at] == 0) {
      slots[at] = (uint32_t)n + 1;
      return 0;
    }
    if (strcmp(out[slots[at] - 1].name, out[n].name) == 0)
      return 1;
  }
}

size_t ef_report_values(const ef_history_value *indexes, size_t n, size_t max,
                        ef_report_value *out, ef_report_stats *stats) {
  if (max == 0)
    max = EF_DEFAULT_MAX_UNKNOWN;
  size_t room = n < max ? n : max, cap = 16;
  while (cap < 2 * room)
    cap *= 2;
  uint32_t *slots = calloc(cap, sizeof(*slots));
  if (slots == NULL)
    return (size_t)-1;
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (kept == max) {
      stats->cut += n - i;
      break;
    }
    ef_report_value *value = &out[kept];
    int made = ef_report_value_make(&indexes[i], value);
    if (ef_value_no_reading(indexes[i].value)) {
      stats->no_reading++;
    } else if (made != 0 ||
               (strcmp(value->collectd_type, PERCENT_TYPE) == 0 &&
                !(value->number >= 0 && value->number <= PERCENT_MAX))) {
      stats->implausible++;
    } else if (name_taken(slots, cap - 1, out, kept)) {
      stats->collided++;
    } else {
      kept++;
    }
  }
  free(slots);
  return kept;
}

ef_window ef_report_week_so_far(time_t now) {
  time_t days = now / DAY_S - (now % DAY_S < 0);
  time_t since_monday = ((days + MONDAY_OFFSET) % 7 + 7) % 7;
  ef_window week = {.begin = (days - since_monday) * DAY_S, .end = now};
  if (week.end <= week.begin)
    week.end = week.begin + 1;
  return week;
}

size_t ef_report_windows(time_t begin, time_t end, ef_window *out, size_t max) {
  if (end <= begin)
    return 0;
  size_t n = ef_history_windows(begin, end - 1, out, max);
  /* Only the last window can be a single second. */
  if (begin + (time_t)(n - 1) * EF_WEEK_S == end - 1)
    n--;
  return n;
}

int ef_report_code_valid(const char *code) {
  size_t len = strlen(code);
  if (len == 0 || len > EF_REPORT_CODE_MAX)
    return 0;
  for (const char *c = code; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
      return 0;
  return 1;
}
