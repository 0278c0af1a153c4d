/* number.c: short, exact number texts for the simulated quotas. */
#include "number.h"

#include "ef_value_rules.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Integers go out as integers because the cloud does the same ("bpPwr":
 * -104 beside "vol": 229.70134), and clients must cope with both. */
static struct json_object *number_from_text(const char *text) {
  if (strpbrk(text, ".eE") == NULL)
    return json_object_new_int64(strtoll(text, NULL, 10));
  return json_object_new_double_s(strtod(text, NULL), text);
}

/* value rounded to decimals places, as text. */
static void rounded_text(double value, int decimals, char text[64]) {
  snprintf(text, 64, "%.*f", decimals, value);
}

struct json_object *sim_json_number(double value, int decimals) {
  if (!isfinite(value))
    return NULL;
  char text[64];
  rounded_text(value, decimals, text);
  /* A reading that rounds to one of EcoFlow's "no reading" markers (-327
   * W, 6553.5 ...) steps one unit of its last place away: the product
   * drops a value there by design, so a simulated device would seem to
   * lose a reading it sent (a pushed message of that value alone makes no
   * line). A marker the model sends on purpose (SIM_NO_READING) stays. */
  if (ef_value_no_reading(strtod(text, NULL)) && !ef_value_no_reading(value))
    rounded_text(value + pow(10, -decimals), decimals, text);
  char *point = strchr(text, '.');
  if (point != NULL) {
    char *end = text + strlen(text);
    while (end > point + 1 && end[-1] == '0')
      *--end = '\0';
    if (end == point + 1)
      *point = '\0';
  }
  if (strcmp(text, "-0") == 0)
    strcpy(text, "0");
  return number_from_text(text);
}

struct json_object *sim_json_literal(const char *text) {
  if (strcmp(text, "null") == 0)
    return NULL;
  if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
    return json_object_new_boolean(text[0] == 't');
  if (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))
    return number_from_text(text);
  return json_tokener_parse(text);
}

int sim_parse_integer(const char *text, long long min, long long max,
                      long long *out) {
  if (text == NULL || text[0] == '\0')
    return -1;
  char *end = NULL;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max)
    return -1;
  *out = value;
  return 0;
}
