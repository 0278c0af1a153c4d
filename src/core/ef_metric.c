/* ef_metric.c: a reading's values through the catalog into named, checked
 * metrics. */
#include "ef_metric.h"

#include "ef_copy.h"
#include "ef_inline.h"
#include "ef_metric_memo.h"
#include "ef_text.h"

#include <json-c/json.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quotas the catalog does not know land here, apart from the catalog's own
 * fields, so that a new firmware quota can never clash with a known one. */
#define GENERIC_MEASUREMENT "ecoflow_raw"
#define GENERIC_COLLECTD_TYPE "gauge"
/* The largest integer a double carries exactly: 2^53. */
#define EXACT_INTEGER_MAX INT64_C(9007199254740992)
/* Room for a metric's names: type instance, field, tag values. */
#define NAMES_LEN (4 * EF_NAME_LEN + EF_TEXT_LEN)

/* A fallback row's value is kept until the reading has been walked: only
 * then is it known whether the device sent the quota it stands in for.
 * Longer text (a base64 bit field is at most 256 characters) is no value
 * of a fallback row. */
#define FALLBACK_TEXT_LEN 264

typedef struct {
  const ef_quota *quota;
  ef_leaf leaf; /* its text in text */
  char text[FALLBACK_TEXT_LEN];
  /* The memo's entry of its path (a row without captures: its pattern),
   * valid for the whole reading (the memo begins again only between
   * readings); or NULL. */
  ef_memo_path *path;
} deferred;

/* One reading going through the catalog. */
typedef struct {
  ef_metric_policy policy;
  ef_metric_cb cb;
  void *ctx;
  ef_metric_stats *stats;
  uint32_t seen; /* fallback bits whose quota this reading holds */
  deferred fallbacks[EF_MAX_FALLBACKS];
  size_t n_fallbacks;
  char names[NAMES_LEN]; /* the current metric's names */
  size_t names_used;
  /* The text of the last first capture asked for (a pack's serial number,
   * the same for all its values), and its length; first_len 0: none. */
  char first[EF_NAME_LEN];
  size_t first_len;
  /* first's number among the reading's (the memo's, from 1), 0 past the
   * memo's count: a metric's series variant (ef_metric.h); and its text
   * as names take it: the memo's copy, which lasts as long as the
   * reading's series, or first itself. */
  uint32_t first_number;
  const char *first_text;
  /* Where first was read, and its parent's walk (ef_leaf) when it lay in
   * the parent's path: the same place of the same walk is the same text. */
  const char *first_at;
  uint64_t first_serial;
  /* The current value's path, its parent's length and walk. */
  const char *leaf_path;
  size_t leaf_parent_len;
  uint64_t leaf_serial;
  ef_memo_path *path; /* the current value's path in the memo, or NULL */
  /* The current metric's ef_metric_guard_series when its names came
   * from the memo with it; 0: to be made. */
  uint32_t guard_series;
} run;

EF_HOT void publish(run *r, ef_metric *metric) {
  metric->collectd_value = metric->number;
  if (metric->quota != NULL && !r->policy.without_collectd_names) {
    double divisor = ef_catalog_collectd_divisor(metric->quota);
    if (divisor > 0 && divisor != 1)
      metric->collectd_value = metric->number / divisor;
  }
  r->stats->published++;
  r->cb(metric, r->ctx);
}

/* A name of the current metric: the template expanded into the run's
 * buffer when it captures, else the template itself. NULL when it does
 * not fit. */
static const char *expand(run *r, const char *template_, int captures,
                          const ef_captures *caps) {
  if (!captures)
    return template_;
  char *out = r->names + r->names_used;
  int len = ef_catalog_expand(template_, caps, out, NAMES_LEN - r->names_used);
  if (len < 0)
    return NULL;
  r->names_used += (size_t)len + 1;
  return out;
}

/* The names of a catalog metric, made. */
static int make_quota_names(run *r, ef_metric *metric, const ef_quota *quota,
                            const ef_captures *caps, const char *field_suffix,
                            int with_collectd) {
  const ef_row_names *names = ef_catalog_names(quota);
  if (!names->valid)
    return -1;
  r->names_used = 0;
  metric->collectd_type = "";
  metric->collectd_instance = "";
  if (with_collectd && quota->collectd_type != NULL &&
      !r->policy.without_collectd_names) {
    metric->collectd_type = quota->collectd_type;
    if ((metric->collectd_instance = expand(r, quota->collectd_instance,
                                            names->instance_captures, caps)) ==
        NULL)
      return -1;
  }
  metric->measurement = quota->measurement;
  metric->field = expand(r, quota->field, names->field_captures, caps);
  if (metric->field != NULL && field_suffix[0] != '\0') {
    char *out = r->names + r->names_used;
    int n = snprintf(out, NAMES_LEN - r->names_used, "%s%s", metric->field,
                     field_suffix);
    if (n < 0 || (size_t)n >= NAMES_LEN - r->names_used)
      return -1;
    /* The expanded name, if it was, is the last in the buffer: in place. */
    if (metric->field != quota->field) {
      r->names_used -= strlen(metric->field) + 1;
      memmove(r->names + r->names_used, out, (size_t)n + 1);
      out = r->names + r->names_used;
    }
    metric->field = out;
    r->names_used += (size_t)n + 1;
  }
  if (metric->field == NULL)
    return -1;
  metric->n_tags = names->n_tags;
  for (size_t i = 0; i < names->n_tags; i++) {
    const char *value =
        expand(r, names->tags[i].value, names->tags[i].captures, caps);
    if (value == NULL)
      return -1;
    metric->tags[i] = (ef_tag){.key = names->tags[i].key, .value = value};
  }
  return 0;
}

/* The names of a metric the catalog does not know: its path's. */
static void make_generic_names(run *r, ef_metric *metric, const char *suffix) {
  r->names_used = 0;
  size_t len =
      ef_catalog_generic_name(metric->path, strlen(metric->path), r->names,
                              EF_NAME_LEN - sizeof(EF_TEXT_SUFFIX));
  memcpy(r->names + len, suffix, strlen(suffix) + 1);
  metric->field = metric->collectd_instance = r->names;
  metric->measurement = GENERIC_MEASUREMENT;
  metric->collectd_type = GENERIC_COLLECTD_TYPE;
  metric->n_tags = 0;
}

/* caps's first capture as text (the memo's copy, or the run's, made when
 * it changed), or NULL when there is none or it is too long. Only with a
 * memo (r->path). */
EF_HOT const char *first_capture_text(run *r, const ef_captures *caps) {
  if (caps == NULL || caps->n == 0 ||
      caps->items[0].value_len >= sizeof(r->first))
    return NULL;
  const char *value = caps->items[0].value;
  size_t len = caps->items[0].value_len;
  /* A pack's values after its first: its serial number, read from the
   * parent's path, not read again. */
  if (r->leaf_serial != 0 && r->leaf_serial == r->first_serial &&
      value == r->first_at && len == r->first_len)
    return r->first_text;
  uintptr_t at = (uintptr_t)value, parent = (uintptr_t)r->leaf_path;
  r->first_at = value;
  r->first_serial = at >= parent && at + len <= parent + r->leaf_parent_len
                        ? r->leaf_serial
                        : 0;
  if (len != r->first_len || memcmp(r->first, value, len) != 0) {
    ef_copy(r->first, value, len);
    r->first[len] = '\0';
    r->first_len = len;
    r->first_number = ef_metric_memo_first_number(r->policy.memo, r->first, len,
                                                  &r->first_text);
    if (r->first_text == NULL)
      r->first_text = r->first;
  }
  return r->first_text;
}

/* The names of a metric of row quota (NULL: one the catalog does not
 * know, named after its path); field_suffix tells the two metrics of an
 * error row apart, and text from numbers. From the memo when the value's
 * path has them, else made (and kept there). Returns -1 when a name does
 * not fit. */
EF_HOT int name_metric(run *r, ef_metric *metric, const ef_quota *quota,
                       const ef_captures *caps, const char *field_suffix,
                       int with_collectd) {
  ef_names_key key = {.row = quota,
                      .suffix = field_suffix,
                      .with_collectd = with_collectd,
                      .without_collectd_names =
                          r->policy.without_collectd_names};
  int kept = 0;
  r->guard_series = 0;
  if (r->path != NULL) {
    const char *first = first_capture_text(r, caps);
    kept = ef_metric_memo_names(r->path, &key, first, r->first_number, metric,
                                &r->guard_series);
  }
  if (kept > 0)
    return 0;
  if (quota == NULL)
    make_generic_names(r, metric, field_suffix);
  else if (make_quota_names(r, metric, quota, caps, field_suffix,
                            with_collectd) != 0)
    return -1;
  if (r->path != NULL && kept == 0)
    ef_metric_memo_keep(r->policy.memo, r->path, &key, metric, r->names,
                        sizeof(r->names));
  return 0;
}

/* ---- numbers ---------------------------------------------------------------
 */

/* The value of leaf as a reading of a numeric quota, if it is one: numbers,
 * and numbers sent as decimal strings. Booleans, lists, other strings and
 * integers a double cannot carry exactly are not. */
EF_HOT int leaf_number(const ef_leaf *leaf, double *number) {
  switch (leaf->kind) {
  case EF_KIND_NUMBER:
    *number = leaf->number;
    return isfinite(*number) ? 0 : -1;
  case EF_KIND_INTEGER:
    /* Judged on the integer: 2^53 + 1 rounds to a double that passes. */
    *number = leaf->number;
    return leaf->integer >= -EXACT_INTEGER_MAX &&
                   leaf->integer <= EXACT_INTEGER_MAX
               ? 0
               : -1;
  case EF_KIND_STRING:
    return ef_number_parse(leaf->text, number);
  case EF_KIND_BOOL:
  case EF_KIND_LIST:
    break;
  }
  return -1;
}

void ef_metric_generic_name(const char *path, char *out, size_t size) {
  ef_catalog_generic_name(path, strlen(path), out, size);
}

/* ---- the kinds of rows ---------------------------------------------------
 */

EF_HOT int is_sentinel(const ef_quota *quota, double raw) {
  for (unsigned i = 0; i < quota->n_sentinels; i++)
    if (raw == quota->sentinels[i])
      return 1;
  return ef_value_no_reading(raw);
}

/* A metric of quota at path: its value set, its names not yet (the naming
 * sets them, and its tags up to n_tags); the tags after them are not
 * written, as nobody reads them (every value of every reading is made
 * here, and would clear them all). */
static void metric_start(ef_metric *metric, const ef_quota *quota,
                         const char *path, ef_value_type type, double number,
                         const char *text, size_t text_len) {
  metric->quota = quota;
  metric->path = path;
  metric->type = type;
  metric->number = number;
  metric->integer = 0;
  metric->text = text;
  metric->text_len = text_len;
  metric->collectd_type = NULL;
  metric->collectd_instance = NULL;
  metric->collectd_value = 0;
  metric->measurement = NULL;
  metric->n_tags = 0;
  metric->field = NULL;
  metric->series = 0;
  metric->series_variant = 0;
}

/* A value the catalog does not know (quota NULL: named after its path), or
 * that a row of ANY takes, by the rule that keeps each field's type:
 * numbers, booleans and decimal strings as floats; other text under its
 * own name; an empty list as nothing. Returns 1 when it was published. */
static int publish_any(run *r, const char *path, const ef_leaf *leaf,
                       const ef_quota *quota, const ef_captures *caps) {
  ef_metric metric;
  metric_start(&metric, quota, path, EF_VALUE_FLOAT, 0, NULL, 0);
  switch (leaf->kind) {
  case EF_KIND_NUMBER:
  case EF_KIND_INTEGER:
    if (leaf_number(leaf, &metric.number) != 0) {
      r->stats->implausible++;
      return 0;
    }
    metric.text = leaf->text;
    metric.text_len = leaf->text_len;
    break;
  case EF_KIND_BOOL:
    metric.number = (double)leaf->integer;
    metric.text = leaf->integer ? "1" : "0";
    metric.text_len = 1;
    break;
  case EF_KIND_STRING:
    if (ef_number_parse(leaf->text, &metric.number) == 0) {
      metric.text = leaf->text;
      break;
    }
    metric.type = EF_VALUE_STRING;
    metric.text = leaf->text;
    break;
  case EF_KIND_LIST:
    if (leaf->integer == 0)
      return 0; /* no value at all */
    metric.type = EF_VALUE_STRING;
    metric.text = leaf->text;
    break;
  }
  if (metric.type == EF_VALUE_FLOAT && ef_value_no_reading(metric.number)) {
    r->stats->no_reading++;
    return 0;
  }
  const char *suffix = metric.type == EF_VALUE_STRING ? EF_TEXT_SUFFIX : "";
  if (name_metric(r, &metric, quota, caps, suffix, 1) != 0) {
    r->stats->implausible++;
    return 0;
  }
  if (metric.type == EF_VALUE_STRING)
    metric.collectd_type = "";
  publish(r, &metric);
  return 1;
}

static int plausible(const ef_quota *quota, double value) {
  return isfinite(value) && value >= quota->min && value <= quota->max;
}

/* The rows derived from quota, from its value and exact text (text_len
 * bytes, as ef_metric's). */
EF_HOT void publish_derived(run *r, const char *path, const ef_quota *quota,
                            const ef_captures *caps, double value,
                            const char *text, size_t text_len) {
  const ef_quota *row;
  size_t n = ef_catalog_derived(quota, &row);
  for (size_t i = 0; i < n; i++, row++) {
    int positive = row->decode == EF_DECODE_POSITIVE;
    int takes = positive ? value > 0 : value < 0;
    /* The source's text without its sign is exact. */
    const char *exact = "0";
    size_t exact_len = 1;
    if (takes && (positive || text == NULL)) {
      exact = text;
      exact_len = text_len;
    } else if (takes) {
      exact = text[0] == '-' ? text + 1 : NULL;
      exact_len = exact != NULL && text_len > 1 ? text_len - 1 : 0;
    }
    ef_metric metric;
    metric_start(&metric, row, path, EF_VALUE_FLOAT, takes ? fabs(value) : 0,
                 exact, exact_len);
    if (name_metric(r, &metric, row, caps, "", 1) == 0)
      publish(r, &metric);
  }
}

uint32_t ef_metric_guard_series(const ef_metric *metric) {
  const char *texts[2 + EF_MAX_TAGS] = {metric->measurement, metric->field};
  for (size_t i = 0; i < metric->n_tags; i++)
    texts[2 + i] = metric->tags[i].value;
  return ef_value_series_hash(texts, 2 + metric->n_tags);
}

/* A lifetime counter's value judged against what the device sent before
 * (ef_value_rules.h); 0 is no reading even without a memory. Returns 1
 * when it may be published. */
static int counter_passes(run *r, const ef_metric *metric) {
  if (metric->number == 0) {
    r->stats->no_reading++;
    return 0;
  }
  if (r->policy.memory == NULL)
    return 1;
  double share = r->policy.counter_glitch > 0 ? r->policy.counter_glitch
                                              : EF_DEFAULT_COUNTER_GLITCH;
  uint32_t series =
      r->guard_series != 0 ? r->guard_series : ef_metric_guard_series(metric);
  switch (ef_counter_judge(r->policy.memory, series, metric->number, share)) {
  case EF_COUNTER_PUBLISH:
    return 1;
  case EF_COUNTER_NO_READING:
    r->stats->no_reading++;
    return 0;
  case EF_COUNTER_GLITCH:
  case EF_COUNTER_UNSURE:
    break;
  }
  r->stats->implausible++;
  return 0;
}

EF_HOT void publish_value(run *r, const char *path, const ef_leaf *leaf,
                          const ef_quota *quota, const ef_captures *caps) {
  double value = 0;
  if (leaf_number(leaf, &value) != 0) {
    r->stats->implausible++;
    return;
  }
  if (is_sentinel(quota, value)) {
    r->stats->no_reading++;
    return;
  }
  if (!plausible(quota, value)) {
    r->stats->implausible++;
    return;
  }
  /* The API's own text keeps every digit it sent (229.70134, not
   * 229.701). */
  ef_metric metric;
  metric_start(&metric, quota, path, EF_VALUE_FLOAT, value, leaf->text,
               leaf->text_len);
  if (name_metric(r, &metric, quota, caps, "", 1) != 0) {
    r->stats->implausible++;
    return;
  }
  if (quota->decode == EF_DECODE_COUNTER && !counter_passes(r, &metric))
    return;
  publish(r, &metric);
  publish_derived(r, path, quota, caps, value, leaf->text, leaf->text_len);
}

/* A state is a name ("WORKMODE_SELFUSE"): a number there (1, "1", true)
 * is no state name, and never shares the field with the names. */
static void publish_state(run *r, const char *path, const ef_leaf *leaf,
                          const ef_quota *quota, const ef_captures *caps) {
  double number;
  if (leaf->kind != EF_KIND_STRING ||
      ef_number_parse(leaf->text, &number) == 0) {
    r->stats->implausible++;
    return;
  }
  ef_metric metric = {.quota = quota,
                      .path = path,
                      .type = EF_VALUE_STRING,
                      .text = leaf->text};
  if (name_metric(r, &metric, quota, caps, "", 0) != 0) {
    r->stats->implausible++;
    return;
  }
  publish(r, &metric);
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

static void publish_errors(run *r, const char *path, const ef_leaf *leaf,
                           const ef_quota *quota, const ef_captures *caps) {
  char codes[EF_TEXT_LEN];
  int64_t count = 0;
  if (quota->decode == EF_DECODE_ERROR_BITS) {
    if (leaf->kind != EF_KIND_STRING ||
        decode_error_bits(leaf->text, codes, sizeof(codes), &count) != 0) {
      r->stats->implausible++;
      return;
    }
  } else if (leaf->kind == EF_KIND_LIST) {
    count = leaf->integer;
    ef_text_copy(codes, sizeof(codes), leaf->text);
  } else if (leaf->kind == EF_KIND_INTEGER) {
    /* A lone code instead of a list; 0 means none. */
    count = leaf->integer != 0;
    ef_text_copy(codes, sizeof(codes), count ? leaf->text : "");
  } else {
    r->stats->implausible++;
    return;
  }
  if (!plausible(quota, (double)count)) {
    r->stats->implausible++;
    return;
  }
  ef_metric metric = {.quota = quota,
                      .path = path,
                      .type = EF_VALUE_INT,
                      .number = (double)count,
                      .integer = count};
  if (name_metric(r, &metric, quota, caps, EF_ERROR_COUNT_SUFFIX, 1) != 0) {
    r->stats->implausible++;
    return;
  }
  publish(r, &metric);
  ef_metric text = {
      .quota = quota, .path = path, .type = EF_VALUE_STRING, .text = codes};
  if (name_metric(r, &text, quota, caps, EF_ERROR_CODES_SUFFIX, 0) == 0)
    publish(r, &text);
}

/* ---- one value -----------------------------------------------------------
 */

EF_HOT void publish_known(run *r, const char *path, const ef_leaf *leaf,
                          const ef_quota *quota, const ef_captures *caps) {
  switch (quota->decode) {
  case EF_DECODE_VALUE:
  case EF_DECODE_COUNTER:
    publish_value(r, path, leaf, quota, caps);
    break;
  case EF_DECODE_STATE:
    publish_state(r, path, leaf, quota, caps);
    break;
  case EF_DECODE_ERROR_LIST:
  case EF_DECODE_ERROR_BITS:
    publish_errors(r, path, leaf, quota, caps);
    break;
  case EF_DECODE_ANY: /* on_leaf */
  case EF_DECODE_POSITIVE:
  case EF_DECODE_NEGATIVE:
    break; /* never found by path: they follow their source */
  }
}

/* A fallback row's value, kept for the end of the reading. */
static void defer_fallback(run *r, const ef_leaf *leaf, const ef_quota *quota,
                           const ef_captures *caps) {
  size_t len = strlen(leaf->text ? leaf->text : "");
  if (r->n_fallbacks == EF_MAX_FALLBACKS || len >= FALLBACK_TEXT_LEN) {
    r->stats->implausible++;
    return;
  }
  deferred *d = &r->fallbacks[r->n_fallbacks++];
  d->quota = quota;
  d->leaf = *leaf;
  memcpy(d->text, leaf->text ? leaf->text : "", len + 1);
  d->leaf.text = d->text;
  d->path = caps->n == 0 ? r->path : NULL;
}

/* The fallback rows' values whose quota the device did not send. */
static void publish_fallbacks(run *r) {
  uint32_t sent = r->seen | (r->policy.memory ? r->policy.memory->sent : 0);
  for (size_t i = 0; i < r->n_fallbacks; i++) {
    const deferred *d = &r->fallbacks[i];
    /* Named by their pattern, which is their path; through the memo's
     * entry found for that path. */
    r->path = d->path;
    if (!(sent & (1u << ef_catalog_fallback_bit(d->quota))))
      publish_known(r, d->quota->pattern, &d->leaf, d->quota,
                    &(ef_captures){0});
  }
  r->path = NULL;
  r->n_fallbacks = 0;
}

static void on_leaf(const char *path, const ef_leaf *leaf, void *ctx) {
  run *r = ctx;
  ef_captures caps;
  r->path = NULL;
  r->leaf_path = path;
  r->leaf_parent_len = leaf->parent_len;
  r->leaf_serial = leaf->parent_serial;
  const ef_quota *quota =
      leaf->path_hash == 0 ? ef_catalog_lookup(path, &caps)
      : r->policy.memo != NULL
          ? ef_metric_memo_lookup(r->policy.memo, path, leaf, &caps, &r->path)
          : ef_catalog_lookup_hashed(path, leaf->path_len, leaf->path_hash,
                                     &caps);
  /* A value the catalog does not know, or one a row of ANY only places
   * (under its pack): not the catalog's own, so it counts against the cap
   * and is left out when only the catalog's are wanted. */
  if (quota == NULL || quota->decode == EF_DECODE_ANY) {
    if (r->policy.catalog_only)
      return;
    size_t cap =
        r->policy.max_unknown ? r->policy.max_unknown : EF_DEFAULT_MAX_UNKNOWN;
    if (r->stats->unknown >= cap) {
      r->stats->cut++;
      r->stats->unknown_cut++;
      return;
    }
    if (publish_any(r, path, leaf, quota, quota ? &caps : NULL))
      r->stats->unknown++;
    return;
  }
  if (quota->detail && r->policy.skip_detail)
    return;
  int bit = ef_catalog_primary_bit(quota);
  if (bit >= 0) {
    r->seen |= 1u << bit;
    if (r->policy.memory != NULL)
      r->policy.memory->sent |= 1u << bit;
  }
  if (quota->primary != NULL) {
    bit = ef_catalog_fallback_bit(quota);
    uint32_t sent = r->policy.memory ? r->policy.memory->sent : 0;
    if (bit >= 0 && !((r->seen | sent) & (1u << bit)))
      defer_fallback(r, leaf, quota, &caps);
    return;
  }
  publish_known(r, path, leaf, quota, &caps);
}

static void run_init(run *r, const ef_metric_policy *policy, ef_metric_cb cb,
                     void *ctx, ef_metric_stats *stats,
                     ef_metric_stats *scratch) {
  r->policy = policy ? *policy : (ef_metric_policy){0};
  r->cb = cb;
  r->ctx = ctx;
  r->stats = stats ? stats : scratch;
  r->seen = 0;
  r->n_fallbacks = 0;
  r->names_used = 0;
  r->path = NULL;
  r->first[0] = '\0';
  r->first_len = 0;
  r->first_number = 0;
  r->first_text = r->first;
  r->first_at = NULL;
  r->first_serial = 0;
  r->leaf_path = NULL;
  r->leaf_parent_len = 0;
  r->leaf_serial = 0;
  if (r->policy.memo != NULL)
    ef_metric_memo_reading_start(r->policy.memo);
}

int ef_metrics_of_json(struct json_object *data, const ef_metric_policy *policy,
                       ef_metric_cb cb, void *ctx, ef_metric_stats *stats) {
  ef_metric_stats scratch = {0};
  run r;
  run_init(&r, policy, cb, ctx, stats, &scratch);
  int status =
      ef_walker_walk(r.policy.walker, data, on_leaf, &r, &r.stats->cut);
  publish_fallbacks(&r);
  return status;
}

void ef_metrics_each(const ef_samples *samples, const ef_metric_policy *policy,
                     ef_metric_cb cb, void *ctx, ef_metric_stats *stats) {
  ef_metric_stats scratch = {0};
  run r;
  run_init(&r, policy, cb, ctx, stats, &scratch);
  ef_samples_each(samples, on_leaf, &r);
  publish_fallbacks(&r);
}

/* ---- families ------------------------------------------------------------
 */

static void note_family(const char *path, const ef_leaf *leaf, void *ctx) {
  (void)leaf;
  const ef_quota *quota = ef_catalog_lookup(path, NULL);
  if (quota != NULL && quota->family != EF_FAMILY_ANY)
    *(int *)ctx = 1;
}

int ef_metrics_family_known(struct json_object *data) {
  int known = 0;
  ef_walk(data, note_family, &known, NULL);
  return known;
}

int ef_metrics_family_known_samples(const ef_samples *samples) {
  int known = 0;
  ef_samples_each(samples, note_family, &known);
  return known;
}
