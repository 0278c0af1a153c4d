/* ef_metric.h: samples turned into publishable metrics, through the catalog.
 *
 * Promises: every sample either becomes one or more metrics named by its
 * catalog entry, or a generic metric named after its path when the catalog
 * does not know it (never dropped silently), or is counted as a sentinel
 * ("no reading") or as implausible (outside the entry's range, e.g. a
 * 1.48e28 W decoding glitch). Error codes are decoded: a count (a number)
 * plus the list of codes (text). The front ends only translate these into
 * collectd values or line protocol. */
#ifndef EF_METRIC_H
#define EF_METRIC_H

#include "ef_catalog.h"
#include "ef_sample.h"

#include <stddef.h>
#include <stdint.h>

#define EF_NAME_LEN 128
#define EF_MAX_TAGS 3
#define EF_TEXT_LEN 512

/* An error row (ef_catalog.h: ERROR_LIST, ERROR_BITS) publishes two metrics:
 * the number of active codes, and the codes as text ("601,602"). Their
 * fields are the row's field with these suffixes. */
#define EF_ERROR_COUNT_SUFFIX "_count"
#define EF_ERROR_CODES_SUFFIX "_codes"

typedef enum {
  EF_VALUE_FLOAT,
  EF_VALUE_INT,
  EF_VALUE_BOOL,
  EF_VALUE_STRING,
} ef_value_type;

typedef struct {
  char key[32];
  char value[EF_NAME_LEN];
} ef_tag;

typedef struct {
  const ef_quota *quota; /* NULL for a quota the catalog does not know */
  const char *path;      /* the sample's quota path */
  ef_value_type type;
  double number;    /* FLOAT, INT, BOOL: the value */
  int64_t integer;  /* INT, BOOL */
  const char *text; /* FLOAT/INT: the API's exact text, or NULL; STRING:
                       the text */
  /* collectd: type from types.db and type instance; type is "" when the
   * metric is text (collectd carries numbers only). */
  char collectd_type[EF_NAME_LEN];
  char collectd_instance[EF_NAME_LEN];
  /* line protocol: measurement, tags (besides sn/name/product, which the
   * front end adds), field key. */
  char measurement[EF_NAME_LEN];
  ef_tag tags[EF_MAX_TAGS];
  size_t n_tags;
  char field[EF_NAME_LEN];
} ef_metric;

typedef struct {
  size_t published;
  size_t no_reading;  /* sentinel values skipped */
  size_t implausible; /* out-of-range values dropped */
} ef_metric_stats;

typedef void (*ef_metric_cb)(const ef_metric *metric, void *ctx);

/* Calls cb once for every metric of samples, in sample order, and adds to
 * stats (may be NULL). The metric and its strings are valid during cb. */
void ef_metrics_each(const ef_samples *samples, ef_metric_cb cb, void *ctx,
                     ef_metric_stats *stats);

/* The generic name for a path the catalog does not know: snake_case,
 * [A-Za-z0-9_] only ("20_1.invOutputWatts" -> "20_1_inv_output_watts"). */
void ef_metric_generic_name(const char *path, char *out, size_t size);

#endif
