/* series.c: grouping fields into points by measurement and tag set. */
#include "series.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  char *measurement;
  lp_tag *tags; /* strings owned */
  size_t n_tags;
  lp_field *fields; /* key and text owned */
  size_t n_fields, cap_fields;
} point;

struct tg_series {
  point *points;
  size_t n_points, cap_points;
};

tg_series *tg_series_new(void) { return calloc(1, sizeof(tg_series)); }

void tg_series_free(tg_series *series) {
  if (series == NULL)
    return;
  tg_series_clear(series);
  free(series->points);
  free(series);
}

static void free_point(point *p) {
  free(p->measurement);
  for (size_t i = 0; i < p->n_tags; i++) {
    free((char *)p->tags[i].key);
    free((char *)p->tags[i].value);
  }
  free(p->tags);
  for (size_t i = 0; i < p->n_fields; i++) {
    free((char *)p->fields[i].key);
    free((char *)p->fields[i].text);
  }
  free(p->fields);
}

void tg_series_clear(tg_series *series) {
  for (size_t i = 0; i < series->n_points; i++)
    free_point(&series->points[i]);
  series->n_points = 0;
}

/* NULL and "" both mean "no value": the encoder leaves such tags out. */
static int same_text(const char *a, const char *b) {
  return strcmp(a ? a : "", b ? b : "") == 0;
}

static int is_series(const point *p, const char *measurement,
                     const lp_tag *tags, size_t n_tags) {
  if (p->n_tags != n_tags || !same_text(p->measurement, measurement))
    return 0;
  for (size_t i = 0; i < n_tags; i++)
    if (!same_text(p->tags[i].key, tags[i].key) ||
        !same_text(p->tags[i].value, tags[i].value))
      return 0;
  return 1;
}

static char *copy_text(const char *text, int *failed) {
  if (text == NULL)
    return NULL;
  char *copy = strdup(text);
  *failed |= copy == NULL;
  return copy;
}

/* A new, empty point for the series; NULL when out of memory. */
static point *new_point(tg_series *series, const char *measurement,
                        const lp_tag *tags, size_t n_tags) {
  if (series->n_points == series->cap_points) {
    size_t cap = series->cap_points ? 2 * series->cap_points : 16;
    point *points = realloc(series->points, cap * sizeof(*points));
    if (points == NULL)
      return NULL;
    series->points = points;
    series->cap_points = cap;
  }
  point *p = &series->points[series->n_points];
  *p = (point){0};
  int failed = 0;
  p->measurement = copy_text(measurement, &failed);
  p->tags = calloc(n_tags ? n_tags : 1, sizeof(*p->tags));
  failed |= p->tags == NULL;
  for (size_t i = 0; !failed && i < n_tags; i++, p->n_tags++)
    p->tags[i] = (lp_tag){.key = copy_text(tags[i].key, &failed),
                          .value = copy_text(tags[i].value, &failed)};
  if (failed) {
    free_point(p);
    return NULL;
  }
  series->n_points++;
  return p;
}

static int add_field(point *p, const lp_field *field) {
  if (p->n_fields == p->cap_fields) {
    size_t cap = p->cap_fields ? 2 * p->cap_fields : 8;
    lp_field *fields = realloc(p->fields, cap * sizeof(*fields));
    if (fields == NULL)
      return -1;
    p->fields = fields;
    p->cap_fields = cap;
  }
  int failed = 0;
  lp_field copy = *field;
  copy.key = copy_text(field->key, &failed);
  copy.text = copy_text(field->text, &failed);
  if (failed) {
    free((char *)copy.key);
    free((char *)copy.text);
    return -1;
  }
  p->fields[p->n_fields++] = copy;
  return 0;
}

int tg_series_add(tg_series *series, const char *measurement,
                  const lp_tag *tags, size_t n_tags, const lp_field *field) {
  point *p = NULL;
  for (size_t i = 0; p == NULL && i < series->n_points; i++)
    if (is_series(&series->points[i], measurement, tags, n_tags))
      p = &series->points[i];
  if (p == NULL)
    p = new_point(series, measurement, tags, n_tags);
  return p != NULL ? add_field(p, field) : -1;
}

int tg_series_flush(tg_series *series, FILE *out, int64_t time_ns) {
  int lines = 0;
  for (size_t i = 0; i < series->n_points && lines >= 0; i++) {
    const point *p = &series->points[i];
    lp_point line = {.measurement = p->measurement,
                     .tags = p->tags,
                     .n_tags = p->n_tags,
                     .fields = p->fields,
                     .n_fields = p->n_fields,
                     .time_ns = time_ns};
    int status = lp_write_point(out, &line);
    lines = status < 0 ? -1 : lines + status;
  }
  tg_series_clear(series);
  return lines;
}
