/* libFuzzer target: points of arbitrary measurements, tags and values,
 * grouped by series.c and written by lineproto.c; what comes out must be
 * line protocol that Telegraf and InfluxDB read (lineproto_check.h), else
 * abort(), which libFuzzer reports as a crash.
 *
 * Input: NUL-separated tokens (fuzz_support.h). The first is the
 * measurement; each later token's first byte says what it is and the rest
 * is its key, the value being the token after it:
 *   m NAME         later fields go to measurement NAME
 *   t KEY, VALUE   a tag for later fields
 *   c              drops the tags so far
 *   f KEY, TEXT    a float, strtod(TEXT), with TEXT as its exact text
 *   x KEY, TEXT    the same, TEXT known to denote the number when strtod
 *                  reads all of it (text_exact: the core's promise)
 *   d KEY, TEXT    a float, strtod(TEXT), without a text (formatted)
 *   i KEY, TEXT    an integer, strtoll(TEXT)
 *   b KEY, TEXT    a boolean: the first byte of TEXT is odd
 *   s KEY, TEXT    a string
 *   T TEXT         the timestamp, strtoll(TEXT)
 * A missing value is NULL, which the encoder must take too. The points
 * are added and written twice, as two readings of one series: the second
 * (which copies the keys of the first) must be written byte for byte as
 * the first. */
#include "fuzz_support.h"
#include "lineproto_check.h"
#include "series.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAGS 16

typedef struct {
  const char *measurement;
  lp_tag tags[MAX_TAGS];
  size_t n_tags;
  int64_t time_ns;
} point_state;

static lp_field field_of(char kind, const char *key, const char *text) {
  lp_field field = {.key = key, .text = text};
  const char *number = text ? text : "";
  char *end = NULL;
  switch (kind) {
  case 'f':
  case 'x':
  case 'd':
    field.type = LP_FLOAT;
    field.number = strtod(number, &end);
    field.text = kind != 'd' ? text : NULL;
    field.text_exact = kind == 'x' && text != NULL && *end == '\0';
    break;
  case 'i':
    field.type = LP_INT;
    field.integer = strtoll(number, NULL, 10);
    field.text = NULL;
    break;
  case 'b':
    field.type = LP_BOOL;
    field.integer = number[0] & 1;
    field.text = NULL;
    break;
  default:
    field.type = LP_STRING;
    break;
  }
  return field;
}

/* Applies one token; returns -1 when the series is out of memory. */
static int apply_token(fuzz_input *input, tg_series *series, point_state *state,
                       const char *token) {
  const char *rest = token + (token[0] != '\0');
  switch (token[0]) {
  case 'm':
    state->measurement = rest;
    return 0;
  case 't': {
    const char *value = fuzz_input_token(input);
    if (state->n_tags < MAX_TAGS)
      state->tags[state->n_tags++] = (lp_tag){.key = rest, .value = value};
    return 0;
  }
  case 'c':
    state->n_tags = 0;
    return 0;
  case 'f':
  case 'x':
  case 'd':
  case 'i':
  case 'b':
  case 's': {
    lp_field field = field_of(token[0], rest, fuzz_input_token(input));
    return tg_series_add(series, state->measurement, state->tags, state->n_tags,
                         &field);
  }
  case 'T':
    state->time_ns = strtoll(rest, NULL, 10);
    return 0;
  default:
    return 0;
  }
}

static void check_output(const char *text, size_t len, int written) {
  size_t lines = 0;
  const char *problem = lp_check_text(text, len, &lines);
  if (problem == NULL && written >= 0 && lines != (size_t)written)
    problem = "a line count other than the one returned";
  if (problem == NULL)
    return;
  fprintf(stderr, "malformed line protocol: %s, in:\n%.*s\n", problem, (int)len,
          text);
  abort();
}

/* Adds the input's points to series and writes them to out: the lines
 * written, or -1. */
static int one_reading(const uint8_t *data, size_t size, tg_series *series,
                       FILE *out) {
  fuzz_input input;
  fuzz_input_init(&input, data, size);
  int written = -1;
  if (input.text != NULL) {
    point_state state = {.measurement = fuzz_input_token(&input),
                         .time_ns = 1718582400000000000};
    const char *token;
    int status = 0;
    while (status == 0 && (token = fuzz_input_token(&input)) != NULL)
      status = apply_token(&input, series, &state, token);
    written = tg_series_flush(series, out, state.time_ns);
  }
  fuzz_input_free(&input);
  return written;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tg_series *series = tg_series_new();
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (series != NULL && out != NULL) {
    int written = one_reading(data, size, series, out);
    if (fflush(out) == 0) {
      check_output(text, len, written);
      size_t first = len;
      int again = one_reading(data, size, series, out);
      if (fflush(out) == 0 && written >= 0 && again >= 0 &&
          (again != written || len != 2 * first ||
           memcmp(text, text + first, first) != 0)) {
        fprintf(stderr, "a second reading written otherwise:\n%.*s\n%.*s\n",
                (int)first, text, (int)(len - first), text + first);
        abort();
      }
    }
  }
  if (out != NULL)
    fclose(out);
  free(text);
  tg_series_free(series);
  return 0;
}
