/* ef_metric.c: samples through the catalog into named, checked metrics. */
#include "ef_metric.h"

#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quotas the catalog does not know land here, apart from the catalog's own
 * fields, so that a new firmware quota can never clash with a known one. */
#define GENERIC_MEASUREMENT "ecoflow_raw"
#define GENERIC_COLLECTD_TYPE "gauge"

typedef struct {
  ef_metric_cb cb;
  void *ctx;
  ef_metric_stats *stats;
} emitter;

static void publish(emitter *out, const ef_metric *metric) {
  out->stats->published++;
  out->cb(metric, out->ctx);
}

void ef_metric_generic_name(const char *path, char *out, size_t size) {
  size_t n = 0;
  char previous = '\0';
  for (const char *p = path; *p != '\0' && n + 1 < size; p++) {
    unsigned char c = (unsigned char)*p;
    if (isupper(c) && n + 2 < size &&
        (islower((unsigned char)previous) || isdigit((unsigned char)previous)))
      out[n++] = '_';
    if (isalnum(c))
      out[n++] = (char)tolower(c);
    else if (n > 0 && out[n - 1] != '_')
      out[n++] = '_';
    previous = (char)c;
  }
  while (n > 0 && out[n - 1] == '_')
    n--;
  if (n == 0 && size > 1)
    out[n++] = '_';
  if (size > 0)
    out[n] = '\0';
}

static void copy_name(char *out, size_t size, const char *name,
                      const char *suffix) {
  snprintf(out, size, "%s%s", name, suffix);
}

/* Fills the names of a catalog metric; field_suffix tells the two metrics
 * of an error row apart. Returns -1 when a name does not fit. */
static int name_quota_metric(ef_metric *metric, const ef_quota *quota,
                             const ef_captures *caps, const char *field_suffix,
                             int with_collectd) {
  metric->collectd_type[0] = '\0';
  metric->collectd_instance[0] = '\0';
  if (with_collectd && quota->collectd_type != NULL) {
    copy_name(metric->collectd_type, sizeof(metric->collectd_type),
              quota->collectd_type, "");
    if (ef_catalog_expand(quota->collectd_instance, caps,
                          metric->collectd_instance,
                          sizeof(metric->collectd_instance)) != 0)
      return -1;
  }
  copy_name(metric->measurement, sizeof(metric->measurement),
            quota->measurement, "");
  copy_name(metric->field, sizeof(metric->field), quota->field, field_suffix);

  metric->n_tags = 0;
  char templates[EF_NAME_LEN * EF_MAX_TAGS];
  snprintf(templates, sizeof(templates), "%s", quota->tags);
  char *save = NULL;
  for (char *pair = strtok_r(templates, ",", &save); pair != NULL;
       pair = strtok_r(NULL, ",", &save)) {
    char *equals = strchr(pair, '=');
    if (equals == NULL || metric->n_tags == EF_MAX_TAGS)
      return -1;
    *equals = '\0';
    ef_tag *tag = &metric->tags[metric->n_tags++];
    copy_name(tag->key, sizeof(tag->key), pair, "");
    if (ef_catalog_expand(equals + 1, caps, tag->value, sizeof(tag->value)) !=
        0)
      return -1;
  }
  return 0;
}

static void publish_generic(emitter *out, const ef_sample *sample) {
  ef_metric metric = {.path = sample->path};
  ef_metric_generic_name(sample->path, metric.field, sizeof(metric.field));
  copy_name(metric.measurement, sizeof(metric.measurement), GENERIC_MEASUREMENT,
            "");
  switch (sample->kind) {
  case EF_KIND_NUMBER:
  case EF_KIND_INTEGER:
    if (!isfinite(sample->number)) {
      out->stats->implausible++;
      return;
    }
    metric.type = EF_VALUE_FLOAT;
    metric.number = sample->number;
    metric.text = sample->text;
    break;
  case EF_KIND_BOOL:
    metric.type = EF_VALUE_BOOL;
    metric.number = sample->number;
    metric.integer = sample->integer;
    break;
  case EF_KIND_STRING:
  case EF_KIND_LIST:
    metric.type = EF_VALUE_STRING;
    metric.text = sample->text;
    break;
  }
  if (metric.type != EF_VALUE_STRING) {
    copy_name(metric.collectd_type, sizeof(metric.collectd_type),
              GENERIC_COLLECTD_TYPE, "");
    copy_name(metric.collectd_instance, sizeof(metric.collectd_instance),
              metric.field, "");
  }
  publish(out, &metric);
}

/* The sample as a number, if it is one: numbers sent as strings count. */
static int sample_number(const ef_sample *sample, double *number) {
  switch (sample->kind) {
  case EF_KIND_NUMBER:
  case EF_KIND_INTEGER:
  case EF_KIND_BOOL:
    *number = sample->number;
    return 0;
  case EF_KIND_STRING: {
    char *end = NULL;
    *number = strtod(sample->text, &end);
    return end != sample->text && *end == '\0' ? 0 : -1;
  }
  case EF_KIND_LIST:
    break;
  }
  return -1;
}

static int is_sentinel(const ef_quota *quota, double raw) {
  for (unsigned i = 0; i < quota->n_sentinels; i++)
    if (raw == quota->sentinels[i])
      return 1;
  return 0;
}

static int plausible(const ef_quota *quota, double value) {
  return isfinite(value) && value >= quota->min && value <= quota->max;
}

static void publish_value(emitter *out, const ef_sample *sample,
                          const ef_quota *quota, const ef_captures *caps) {
  double raw = 0;
  if (sample_number(sample, &raw) != 0) {
    out->stats->implausible++;
    return;
  }
  if (is_sentinel(quota, raw)) {
    out->stats->no_reading++;
    return;
  }
  if (!plausible(quota, raw)) {
    out->stats->implausible++;
    return;
  }
  ef_metric metric = {.quota = quota,
                      .path = sample->path,
                      .type = EF_VALUE_FLOAT,
                      .number = raw};
  /* The API's own text keeps every digit it sent (229.70134, not 229.701). */
  if (sample->kind != EF_KIND_STRING && sample->kind != EF_KIND_BOOL)
    metric.text = sample->text;
  if (name_quota_metric(&metric, quota, caps, "", 1) != 0) {
    out->stats->implausible++;
    return;
  }
  publish(out, &metric);
}

static void publish_state(emitter *out, const ef_sample *sample,
                          const ef_quota *quota, const ef_captures *caps) {
  ef_metric metric = {.quota = quota,
                      .path = sample->path,
                      .type = EF_VALUE_STRING,
                      .text = sample->text};
  if (name_quota_metric(&metric, quota, caps, "", 0) != 0) {
    out->stats->implausible++;
    return;
  }
  publish(out, &metric);
}

/* Set bits of a base64 bit field, as "3,17"; the count in *count. */
static int decode_error_bits(const char *base64, char *codes, size_t size,
                             int64_t *count) {
  size_t len = strlen(base64);
  if (len == 0 || len % 4 != 0 || len > 4 * 64)
    return -1;
  unsigned char bytes[3 * 64];
  int decoded = EVP_DecodeBlock(bytes, (const unsigned char *)base64, (int)len);
  if (decoded < 0)
    return -1;
  /* EVP_DecodeBlock counts the bytes that '=' padding stands for. */
  for (size_t i = len; i > 0 && base64[i - 1] == '='; i--)
    decoded--;
  size_t n = 0;
  *count = 0;
  codes[0] = '\0';
  for (int byte = 0; byte < decoded; byte++)
    for (int bit = 0; bit < 8; bit++)
      if (bytes[byte] & (1u << bit)) {
        int written = snprintf(codes + n, size - n, "%s%d", *count ? "," : "",
                               byte * 8 + bit);
        if (written > 0 && (size_t)written < size - n)
          n += (size_t)written;
        (*count)++;
      }
  return 0;
}

static void publish_errors(emitter *out, const ef_sample *sample,
                           const ef_quota *quota, const ef_captures *caps) {
  char codes[EF_TEXT_LEN];
  int64_t count = 0;
  if (quota->decode == EF_DECODE_ERROR_BITS) {
    if (sample->kind != EF_KIND_STRING ||
        decode_error_bits(sample->text, codes, sizeof(codes), &count) != 0) {
      out->stats->implausible++;
      return;
    }
  } else if (sample->kind == EF_KIND_LIST) {
    count = sample->integer;
    snprintf(codes, sizeof(codes), "%s", sample->text);
  } else if (sample->kind == EF_KIND_INTEGER) {
    /* A lone code instead of a list; 0 means none. */
    count = sample->integer != 0;
    snprintf(codes, sizeof(codes), "%s", count ? sample->text : "");
  } else {
    out->stats->implausible++;
    return;
  }
  if (!plausible(quota, (double)count)) {
    out->stats->implausible++;
    return;
  }
  ef_metric metric = {.quota = quota,
                      .path = sample->path,
                      .type = EF_VALUE_INT,
                      .number = (double)count,
                      .integer = count};
  if (name_quota_metric(&metric, quota, caps, EF_ERROR_COUNT_SUFFIX, 1) != 0) {
    out->stats->implausible++;
    return;
  }
  publish(out, &metric);
  ef_metric text = {.quota = quota,
                    .path = sample->path,
                    .type = EF_VALUE_STRING,
                    .text = codes};
  if (name_quota_metric(&text, quota, caps, EF_ERROR_CODES_SUFFIX, 0) == 0)
    publish(out, &text);
}

void ef_metrics_each(const ef_samples *samples, ef_metric_cb cb, void *ctx,
                     ef_metric_stats *stats) {
  ef_metric_stats scratch = {0};
  emitter out = {.cb = cb, .ctx = ctx, .stats = stats ? stats : &scratch};
  for (size_t i = 0; i < samples->len; i++) {
    const ef_sample *sample = &samples->items[i];
    ef_captures caps;
    const ef_quota *quota = ef_catalog_lookup(sample->path, &caps);
    if (quota == NULL) {
      publish_generic(&out, sample);
      continue;
    }
    switch (quota->decode) {
    case EF_DECODE_VALUE:
      publish_value(&out, sample, quota, &caps);
      break;
    case EF_DECODE_STATE:
      publish_state(&out, sample, quota, &caps);
      break;
    case EF_DECODE_ERROR_LIST:
    case EF_DECODE_ERROR_BITS:
      publish_errors(&out, sample, quota, &caps);
      break;
    }
  }
}
