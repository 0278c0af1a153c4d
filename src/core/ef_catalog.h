/* ef_catalog.h: what every quota of the EcoFlow API is.
 *
 * Promises: one table (ef_catalog.def) says, for each quota path pattern,
 * the device family, unit, "no reading" sentinels, plausible range, how it
 * is decoded, and the names the front ends publish it under (collectd type
 * and type instance, line-protocol measurement, tags and field). Docs and
 * `--list-metrics` are generated from it. Patterns are quota paths in the
 * form of ef_sample.h where "{name}" captures one path segment or list
 * index (e.g. "bp_addr.{pack}.bpSoc",
 * "mpptHeartBeat[{mppt}].mpptPv[{pv}].pwr"); the captured text fills the same
 * "{name}" in the name templates, and
 * "{name:g}" fills in its generic snake_case form. Lookup is by hash, not
 * by scanning the table: a path the catalog does not know costs two
 * probes. Rows that derive a value from another (import and export from a
 * signed grid power) follow their source row and say their rule. */
#ifndef EF_CATALOG_H
#define EF_CATALOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  EF_FAMILY_ANY,
  EF_FAMILY_POWEROCEAN,
  EF_FAMILY_POWERHEAT,
  EF_FAMILY_POWERGLOW,
  EF_FAMILY_POWERPULSE,
} ef_family;

typedef enum {
  EF_DECODE_VALUE,      /* a number published as it is */
  EF_DECODE_COUNTER,    /* a number that only grows (a lifetime energy):
                           a small step back is a glitch, held out */
  EF_DECODE_STATE,      /* a string enum (EV_CHG_STS_CHARGING): text only */
  EF_DECODE_ERROR_LIST, /* a list of error codes ([601]), kept whole */
  EF_DECODE_ERROR_BITS, /* base64 of an error bit field ("AAAAAAAAAAA=") */
  EF_DECODE_ANY,        /* whatever a known group holds besides its named
                           values (a pack's other fields): named by the row,
                           published and counted as an unknown quota */
  EF_DECODE_POSITIVE,   /* derived: the source row's value when above 0,
                           else 0 */
  EF_DECODE_NEGATIVE,   /* derived: minus the source row's value when below
                           0, else 0 */
} ef_decode;

#define EF_MAX_SENTINELS 3
#define EF_MAX_CAPTURES 3

typedef struct {
  const char *pattern; /* derived rows: their source row's */
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
  const char *field;             /* line protocol field template */
  int detail;          /* one value per battery cell or sensor: a front end may
                          leave such rows out (collectd's default, ef_metric.h) */
  const char *primary; /* a fallback row: the pattern of the row it stands
                          in for (same names), published only for a device
                          that never sent primary's quota; else NULL */
} ef_quota;

/* Tags a row names ("key=template,..."), at most. */
#define EF_CATALOG_MAX_TAGS 3

/* A row's names, split once: its tags' keys and value templates, and which
 * of its templates capture ("{pack}": expanded for each value; the others
 * are the names as they are). */
typedef struct {
  int valid; /* the row's tags are well formed and fit */
  int field_captures, instance_captures;
  size_t n_tags;
  struct {
    const char *key, *value; /* value: a template when it captures */
    int captures;
  } tags[EF_CATALOG_MAX_TAGS];
} ef_row_names;

/* Fallback rows, and the rows they stand in for, are numbered below this
 * (a bit each in ef_value_memory.sent). */
#define EF_MAX_FALLBACKS 8

typedef struct {
  size_t n;
  struct {
    const char *name; /* points into the pattern */
    size_t name_len;
    const char *value; /* points into the path */
    size_t value_len;
  } items[EF_MAX_CAPTURES];
} ef_captures;

/* Builds the index, once: lookups do it on first use, but a program that
 * looks up from several threads calls this first, before it starts them,
 * so that every thread sees the index built before it began (which tools
 * like helgrind can tell; pthread_once alone they cannot). */
void ef_catalog_init(void);

/* The entry whose pattern matches path, filling caps (may be NULL), or
 * NULL when the catalog does not know the quota. */
const ef_quota *ef_catalog_lookup(const char *path, ef_captures *caps);

/* The same for a path whose length and hash (ef_path_hash.h) the caller
 * has found already: a walk building the path. */
const ef_quota *ef_catalog_lookup_hashed(const char *path, size_t len,
                                         uint64_t path_hash, ef_captures *caps);

/* Shapes. A pack's values lie below its path P ("bp_addr.<packSN>"),
 * which ends in the segment V that the rows of P's prefix group capture
 * whole ("bp_addr.{pack}"). When that group is shape-safe (every row of
 * its prefix captures V whole, and no other group's prefix begins or ends
 * its own), the row of any path P + T, and every capture but the first
 * (which is V), depend on T alone, not on V: unless an exact row names
 * the path (ef_catalog_exact_row).
 *
 * The group of the path's first parent_len bytes (P), when those end in a
 * segment a shape-safe group's prefix comes before: its index, with
 * *value_at where V begins; else -1. */
int ef_catalog_shape_group(const char *path, size_t parent_len,
                           size_t *value_at);

/* 1 when a row without captures names path (its hash as for
 * ef_catalog_lookup_hashed). */
int ef_catalog_exact_row(const char *path, uint64_t path_hash);

/* 0 when no path of shape group (ef_catalog_shape_group) can have an
 * exact row: no row without captures starts with the group's prefix. */
int ef_catalog_shape_may_be_exact(int group);

/* 1 when the catalog keeps the list at path (len bytes, its hash as
 * for ef_catalog_lookup_hashed) whole (codes), not item by item. */
int ef_catalog_keeps_list(const char *path, size_t len, uint64_t path_hash);

/* row's names, split (valid for the life of the program). */
const ef_row_names *ef_catalog_names(const ef_quota *row);

/* The rows derived from row (those after it that name it as source), as
 * the range [*first, *first + return value). */
size_t ef_catalog_derived(const ef_quota *row, const ef_quota **first);

/* The rule of a derived row in words ("the value when above 0, else 0"),
 * or NULL for a row read from the API. */
const char *ef_catalog_rule(const ef_quota *row);

/* The bit of a fallback row (ef_quota.primary), or of the row a fallback
 * stands in for; -1 for any other row. A fallback and its primary have the
 * same bit. */
int ef_catalog_fallback_bit(const ef_quota *row);
int ef_catalog_primary_bit(const ef_quota *row);

/* What collectd gets of a row: the unit its types.db type holds ("V" for
 * type voltage; NULL for "gauge", whose instance ends with the unit), and
 * what the row's value is divided by to be in it (1; 1000 for mV as V and
 * mAh as Ah). The divisor is 0 for a row whose unit its type does not hold
 * (a mistake in the table, which the tests look for). */
const char *ef_catalog_collectd_unit(const ef_quota *row);
double ef_catalog_collectd_divisor(const ef_quota *row);

/* The table itself, for listings and tests. */
size_t ef_catalog_size(void);
const ef_quota *ef_catalog_entry(size_t index);

/* How a name template uses a capture: not at all, as the whole template
 * ("{pack}"), or within it ("pack_{pack}_soc", "{pack:g}"). */
typedef enum {
  EF_TEMPLATE_WITHOUT,
  EF_TEMPLATE_IS,
  EF_TEMPLATE_WITHIN,
} ef_template_use;

/* How template_ (NULL: none) uses the capture name (name_len bytes). */
ef_template_use ef_catalog_template_use(const char *template_, const char *name,
                                        size_t name_len);

/* Expands a name template ("pack_{pack}_soc", "{name:g}") with caps into
 * out. Returns its length, or -1 when it does not fit or names a capture
 * caps has not. */
int ef_catalog_expand(const char *template_, const ef_captures *caps, char *out,
                      size_t size);

/* The generic name of a path the catalog does not know: snake_case,
 * [A-Za-z0-9_] only ("20_1.invOutputWatts" -> "20_1_inv_output_watts").
 * Writes at most size - 1 characters of path[0, len); returns the name's
 * length. */
size_t ef_catalog_generic_name(const char *path, size_t len, char *out,
                               size_t size);

const char *ef_family_name(ef_family family);

#endif
