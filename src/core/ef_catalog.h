/* ef_catalog.h: what every quota of the EcoFlow API is.
 *
 * Promises: one table (ef_catalog.def) says, for each quota path pattern, the
 * device family, unit, "no reading" sentinels, plausible range, and
 * the names the front ends publish it under (collectd type and type
 * instance, line-protocol measurement, tags and field). Docs and
 * `--list-metrics` are generated from it. Patterns are quota paths in the
 * form of ef_sample.h where "{name}" captures one path segment or list index
 * (e.g. "bp_addr.{pack}.bpSoc", "mpptHeartBeat[{mppt}].mpptPv[{pv}].pwr");
 * the captured text fills the same "{name}" in the name templates. */
#ifndef EF_CATALOG_H
#define EF_CATALOG_H

#include <stddef.h>

typedef enum {
  EF_FAMILY_ANY,
  EF_FAMILY_POWEROCEAN,
  EF_FAMILY_POWERHEAT,
  EF_FAMILY_POWERGLOW,
  EF_FAMILY_POWERPULSE,
} ef_family;

typedef enum {
  EF_DECODE_VALUE,      /* a number (or boolean) published as it is */
  EF_DECODE_STATE,      /* a string enum (EV_CHG_STS_CHARGING): text only */
  EF_DECODE_ERROR_LIST, /* a list of error codes ([601]) */
  EF_DECODE_ERROR_BITS, /* base64 of an error bit field ("AAAAAAAAAAA=") */
} ef_decode;

#define EF_MAX_SENTINELS 3
#define EF_MAX_CAPTURES 3

typedef struct {
  const char *pattern;
  ef_family family;
  const char *description;
  const char *unit;
  unsigned n_sentinels;
  double sentinels[EF_MAX_SENTINELS]; /* API values meaning "no reading" */
  double min, max;                    /* plausible range */
  ef_decode decode;
  const char *collectd_type;     /* types.db type; NULL: not for collectd */
  const char *collectd_instance; /* type instance template */
  const char *measurement;       /* line protocol measurement */
  const char *tags;              /* "key=template,..." or "" */
  const char *field;             /* line protocol field */
} ef_quota;

typedef struct {
  size_t n;
  struct {
    const char *name; /* points into the pattern */
    size_t name_len;
    const char *value; /* points into the path */
    size_t value_len;
  } items[EF_MAX_CAPTURES];
} ef_captures;

/* The entry whose pattern matches path, filling caps (may be NULL), or
 * NULL when the catalog does not know the quota. */
const ef_quota *ef_catalog_lookup(const char *path, ef_captures *caps);

/* The table itself, for listings and tests. */
size_t ef_catalog_size(void);
const ef_quota *ef_catalog_entry(size_t index);

/* Expands a name template ("pack_{pack}_soc") with caps into out.
 * Returns 0, or -1 when it does not fit. */
int ef_catalog_expand(const char *template_, const ef_captures *caps, char *out,
                      size_t size);

const char *ef_family_name(ef_family family);

#endif
