/* series.h: the fields of one device reading, one line per series.
 *
 * Promises: fields added one at a time (as the core hands out metrics)
 * are grouped by series, i.e. measurement and tag set, and written as one
 * line protocol point per series, in the order the series first appeared
 * and with one timestamp for them all. Everything added is copied, so the
 * caller's strings need only live for the call (but for a keyed point's
 * names: tg_series_add_keyed). */
#ifndef EF_TELEGRAF_SERIES_H
#define EF_TELEGRAF_SERIES_H

#include "lineproto.h"

#include <stdint.h>
#include <stdio.h>

typedef struct tg_series tg_series;

tg_series *tg_series_new(void);
void tg_series_free(tg_series *series);

/* The tags every point added from now on starts with, until the next call
 * or the flush (a device's sn, name and product, for the points of one
 * reading): copied here once, as lines write them (escaped once, not once
 * a line), so that adding a field compares only the point's own tags. A
 * key that lines write as it is given is kept as given, not copied: keys
 * are names the program spells, which last as long as the series.
 * Points added under another call are other points, whatever their tags.
 * Returns 0, or -1 when out of memory (then every add fails until the
 * next share or flush: no point goes without them). */
int tg_series_share(tg_series *series, const lp_tag *tags, size_t n_tags);

/* Adds field to the point of measurement and tags (the shared ones, then
 * these in the order given: the same tags in another order make another
 * series). Returns 0, or -1 when out of memory. */
int tg_series_add(tg_series *series, const char *measurement,
                  const lp_tag *tags, size_t n_tags, const lp_field *field);

/* A series as its caller numbers it (the core's ef_metric series and
 * variant): within one share, keys (series not 0) are the same when their
 * measurement and tags are, and differ when those do. Until a point is
 * looked for by names, a key not known yet is then a new point, made
 * without a look at names. */
typedef struct {
  uint64_t series;
  uint32_t variant;
} tg_series_key;

/* As tg_series_add, and remembers the point under key (NULL: none) until
 * the next share or flush. A key with a series (not 0) promises more:
 * measurement's and tags' values stay as they are until the flush (the
 * core's promise for a metric's series, ef_metric.h), and tags' keys for
 * as long as the series lives (names the program spells: the catalog's,
 * literals; the writer remembers key sets by their addresses,
 * lp_writer_add_fields_lasting), so they are kept as they are, not
 * copied (tags itself need not last). */
int tg_series_add_keyed(tg_series *series, const tg_series_key *key,
                        const char *measurement, const lp_tag *tags,
                        size_t n_tags, const lp_field *field);

/* Adds field to the point remembered under key, without a look at names:
 * 1, or 0 when no point is (then add it with tg_series_add_keyed), or -1
 * when out of memory. */
int tg_series_add_known(tg_series *series, const tg_series_key *key,
                        const lp_field *field);

/* Writes every point with time_ns, then forgets them all (and the shared
 * tags). Returns the
 * number of lines written, or -1 on an output error. */
int tg_series_flush(tg_series *series, FILE *out, int64_t time_ns);

/* Forgets every point (and the shared tags) without writing it. */
void tg_series_clear(tg_series *series);

#endif
