/* ef_metric.h: a reading's values turned into publishable metrics, through
 * the catalog: the one gate every value of a reading passes (polled or
 * pushed, named by a row or not).
 *
 * Promises: every value either becomes one or more metrics named by its
 * catalog row (plus the rows derived from it: import and export from a
 * signed power), or a generic metric named after its path when the catalog
 * does not know it, or is counted: as "no reading" (EcoFlow's markers,
 * ef_value_rules.h, whatever row carries them, and the row's own
 * sentinels; a lifetime counter's 0), as implausible (outside the row's
 * range, a 1.48e28 W decoding glitch, a lifetime counter's glitch or a
 * jump not yet confirmed, a boolean or a hex string where a number
 * belongs, a number where a state name belongs, an integer a double
 * cannot carry exactly), or as cut (an unknown value beyond the reading's
 * cap, an item past the list cap). A fallback row (ef_catalog.h) is
 * published only when the device has not sent the quota it stands in
 * for. Numbers keep the API's exact text. Error codes are decoded: a
 * count (a number) plus the list of codes (text).
 *
 * Each field has one type, forever: a row's numbers are floats (error
 * counts integers), its states and code lists strings; a value no row
 * names (or a row of ANY places) is a float when it is a number, a
 * boolean (0 or 1) or a decimal string, and otherwise text under its name
 * with EF_TEXT_SUFFIX, never under the name a number takes; an empty list
 * is no value. collectd gets every number as its row's type (in the unit
 * the type holds: collectd_value), or as "gauge".
 *
 * Nothing is allocated per value: names are built in the run's own buffer,
 * or kept in the policy's memo, and valid during the callback. The front ends
 * only translate these into collectd values or line protocol. */
#ifndef EF_METRIC_H
#define EF_METRIC_H

#include "ef_catalog.h"
#include "ef_number.h"
#include "ef_sample.h"
#include "ef_value_rules.h"

#include <stddef.h>
#include <stdint.h>

struct json_object;
/* ef_metric_memo.h */
typedef struct ef_metric_memo ef_metric_memo;

#define EF_NAME_LEN 128
#define EF_MAX_TAGS EF_CATALOG_MAX_TAGS
#define EF_TEXT_LEN 512
/* Unknown values taken from one reading unless the policy says: the live
 * PowerOcean sends about 350 values in all. */
#define EF_DEFAULT_MAX_UNKNOWN 1000
/* A lifetime counter that steps back by less than this share of its value
 * is a glitch; more is a counter that was reset. */
#define EF_DEFAULT_COUNTER_GLITCH 0.01

/* An error row (ef_catalog.h: ERROR_LIST, ERROR_BITS) publishes two
 * metrics: the number of active codes, and the codes as text ("601,602").
 * Their fields are the row's field with these suffixes. */
#define EF_ERROR_COUNT_SUFFIX "_count"
#define EF_ERROR_CODES_SUFFIX "_codes"
/* Text that is no number, of a value no row names: its own field. */
#define EF_TEXT_SUFFIX "_text"

typedef enum {
  EF_VALUE_FLOAT,
  EF_VALUE_INT,
  EF_VALUE_STRING,
} ef_value_type;

typedef struct {
  const char *key;
  const char *value;
} ef_tag;

/* The least series (ef_metric) handed out: a front end may number its own
 * points (none of them the catalog's measurements) below it. */
#define EF_SERIES_FIRST UINT64_C(65536)

typedef struct {
  const ef_quota *quota; /* NULL for a quota the catalog does not know */
  const char *path;      /* the value's quota path */
  ef_value_type type;
  double number;    /* FLOAT, INT: the value */
  int64_t integer;  /* INT */
  const char *text; /* FLOAT: its exact decimal text, or NULL; STRING: the
                       text */
  /* FLOAT: when not 0, the length of text, which is then known to be in
   * the JSON number grammar (the core wrote it): a front end need not
   * read it again; 0: not known. */
  size_t text_len;
  /* collectd: type from types.db and type instance; type is "" when the
   * metric is text (collectd carries numbers only). */
  const char *collectd_type;
  const char *collectd_instance;
  double collectd_value; /* number in the unit of collectd_type */
  /* line protocol: measurement, tags (besides sn/name/product, which the
   * front end adds), field key. */
  const char *measurement;
  ef_tag tags[EF_MAX_TAGS];
  size_t n_tags;
  const char *field;
  /* For a front end that gathers metrics into points: within one reading,
   * metrics with the same series (not 0) and series_variant have the same
   * measurement and tags, and metrics with another series (not 0) or
   * variant have other ones. No series is handed out twice in a process.
   * 0: not known, tell the point by its names. A metric with a series has
   * the memo's field key text: the same series and field address are the
   * same field key, in every reading. And its names (measurement, tags'
   * keys and values, field) stay as they are until the next reading
   * starts through the same memo (ef_metric_memo.h): a front end may keep
   * them till the reading's end without a copy; its tags' keys (the
   * catalog's) for as long as the process runs. */
  uint64_t series;
  uint32_t series_variant;
} ef_metric;

typedef struct {
  size_t published;
  size_t no_reading;  /* markers, sentinels and counters' 0 skipped */
  size_t implausible; /* out of range, glitches, numbers that are none */
  size_t cut;         /* left out: over the unknown cap, past list caps */
  size_t unknown_cut; /* of cut: over the unknown cap */
  size_t unknown;     /* values the catalog does not know (or only places),
                         published */
} ef_metric_stats;

/* How a reading's values are judged. Zeroed: every value published, the
 * default cap, no memory of the device (no counter guard; fallback rows
 * judged by the reading alone). */
typedef struct {
  int catalog_only;   /* publish only what the catalog names (not what a row
                         of ANY only places, such as a pack's other values) */
  int skip_detail;    /* leave out the rows of one value per cell or sensor */
  size_t max_unknown; /* 0: EF_DEFAULT_MAX_UNKNOWN */
  /* The device's memory (ef_value_rules.h): its counters' guard and the
   * quotas it sent that fallback rows stand in for; NULL: none. */
  ef_value_memory *memory;
  double counter_glitch; /* 0: EF_DEFAULT_COUNTER_GLITCH */
  /* 1: the catalog's metrics get no collectd type or instance (empty) and
   * their collectd value is the number, for a caller that reads none of
   * them (values the catalog does not know keep their generic names). */
  int without_collectd_names;
  /* Rows and names of paths seen before (ef_metric_memo.h), made with the
   * same without_collectd_names; NULL: each value is looked up. */
  ef_metric_memo *memo;
  /* Room for the walk of the answer's data (ef_sample.h), kept from one
   * reading to the next; NULL: a walk's own. */
  ef_walker *walker;
} ef_metric_policy;

typedef void (*ef_metric_cb)(const ef_metric *metric, void *ctx);

/* Calls cb for every metric of an answer's data (flat, nested or mixed,
 * walked once: ef_walk), in order, and adds to stats (may be NULL). policy
 * may be NULL. Returns 0, or -1 when data is not an object. */
int ef_metrics_of_json(struct json_object *data, const ef_metric_policy *policy,
                       ef_metric_cb cb, void *ctx, ef_metric_stats *stats);

/* The same for kept samples (a device's pushed state). */
void ef_metrics_each(const ef_samples *samples, const ef_metric_policy *policy,
                     ef_metric_cb cb, void *ctx, ef_metric_stats *stats);

/* 1 when data holds a value of a family the catalog has rows for (not
 * only rows for any family): the device is known, and its unknown values
 * are extras; 0 when the catalog knows nothing of it. */
int ef_metrics_family_known(struct json_object *data);
int ef_metrics_family_known_samples(const ef_samples *samples);

/* The generic name for a path the catalog does not know: snake_case,
 * [A-Za-z0-9_] only ("20_1.invOutputWatts" -> "20_1_inv_output_watts"). */
void ef_metric_generic_name(const char *path, char *out, size_t size);

/* The hash a lifetime counter's guard (ef_value_rules.h) knows metric's
 * series by: of its measurement, field and tags' values, so the same for
 * a fallback row and the row it stands in for. */
uint32_t ef_metric_guard_series(const ef_metric *metric);

#endif
