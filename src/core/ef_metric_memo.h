/* ef_metric_memo.h: what the catalog says of each quota path, and the
 * names its metrics get, remembered. A device sends the same paths every
 * reading, and so do all devices of a family: each is looked up and named
 * once, not once per value. A pack's values differ from pack to pack only
 * in its serial number: they are kept by shape (what follows the pack's
 * path), once for every pack of every device, the serial number put in
 * its place.
 *
 * Promises: a memo changes no metric: its row, captures and names are the
 * ones the catalog and the naming give. Bounded: at most
 * EF_METRIC_MEMO_PATHS paths and EF_METRIC_MEMO_BYTES of copies; when
 * either is reached it keeps nothing more, and at the next reading's start
 * forgets every path and begins again, so that a cloud sending ever new
 * keys costs lookups, never memory. Never mid-reading: whatever it handed
 * out during a reading (entries, names, first captures' texts) stays as it
 * is until the next reading starts (ef_metric_memo_reading_start). One
 * thread at a time: an engine keeps one, and hands its readings out on
 * one. */
#ifndef EF_METRIC_MEMO_H
#define EF_METRIC_MEMO_H

#include "ef_catalog.h"
#include "ef_metric.h"

#include <stddef.h>
#include <stdint.h>

#define EF_METRIC_MEMO_PATHS 2048
#define EF_METRIC_MEMO_BYTES (256 * 1024)

/* What a metric's names are made from, besides its path: its row (NULL: a
 * path no row names, named after itself), its field's suffix, whether it
 * gets collectd's type and instance, and whether the reader wants any. */
typedef struct {
  const ef_quota *row;
  const char *suffix;
  int with_collectd;
  int without_collectd_names; /* the policy's (ef_metric.h) */
} ef_names_key;

/* A path the memo keeps: one no row captures from; or a pack's value's
 * shape (ef_catalog_shape_group): the group of its pack's path and what
 * follows that path, the same for every pack of every device. */
typedef struct ef_memo_path ef_memo_path;

ef_metric_memo *ef_metric_memo_new(void);
void ef_metric_memo_free(ef_metric_memo *memo);

/* A reading (a poll's answer, a pushed message) starts: the memo begins
 * again here when room ran out during the last, and the first captures'
 * numbers start again from 1. */
void ef_metric_memo_reading_start(ef_metric_memo *memo);

/* The number of a first capture's text (len bytes: a pack's serial
 * number, or the index another row captures first, a PV string's MPPT)
 * among those of this reading, from 1 (the same text, the same number),
 * and in *kept the memo's copy of it, the same until the next reading
 * starts; 0 and NULL past EF_METRIC_MEMO_FIRSTS texts (the values of the
 * packs past them get no series) or for one of EF_NAME_LEN bytes or
 * more. */
#define EF_METRIC_MEMO_FIRSTS 16
uint32_t ef_metric_memo_first_number(ef_metric_memo *memo, const char *text,
                                     size_t len, const char **kept);

/* As ef_catalog_lookup_hashed, from the memo when the path, or its shape,
 * was seen before: the path of leaf (ef_sample.h: its length and hash,
 * and where it lies below a pack's path; its parent_len 0 for a value not
 * below one). *entry is the path's entry or its shape's, or NULL when
 * neither is kept (outside a shape, a row captures other text than
 * indexes of it, such as a serial number: one device's own; it is too
 * long; no room). Valid until the next call, and only while the memo's
 * epoch is the same. */
const ef_quota *ef_metric_memo_lookup(ef_metric_memo *memo, const char *path,
                                      const ef_leaf *leaf, ef_captures *caps,
                                      ef_memo_path **entry);

/* Sets metric's names (collectd type and instance, measurement, field,
 * tags) to those kept for key under entry: 1, or 0 when none are kept. A
 * shape's tag whose value is its first capture takes first_text (the
 * value's own: its pack's serial number); without it (NULL), -1: names are
 * kept that cannot be used, and are not to be kept again. Sets the
 * metric's series too (ef_metric.h): the same for all names kept with one
 * measurement and tag set, the first capture's value aside, which
 * first_number tells (the caller's number for first_text: the same text,
 * the same number). And *guard_series to the names' hash for the
 * counters' guard (ef_metric_guard_series), made once when they were
 * kept; 0 when it is to be made for each value (a first capture's). */
int ef_metric_memo_names(const ef_memo_path *entry, const ef_names_key *key,
                         const char *first_text, uint32_t first_number,
                         ef_metric *metric, uint32_t *guard_series);

/* Where the memo keeps its epoch (for as long as the memo lives): a new
 * one each time it begins again. The series it hands out
 * (ef_metric_memo_names) are those of one epoch: two of them name two
 * points, unless their epochs differ. */
const uint64_t *ef_metric_memo_epoch(const ef_metric_memo *memo);

/* Keeps metric's names for key under entry: copies of those that lie in
 * made (made_len bytes: the buffer they were made in, which the next
 * metric's overwrite), the others as they are (constants: the catalog's
 * own, literals); nothing when there is no room left until the memo begins
 * again, nor for a shape whose names use its first capture other than as
 * a tag's whole value (they differ from pack to pack). */
void ef_metric_memo_keep(ef_metric_memo *memo, ef_memo_path *entry,
                         const ef_names_key *key, const ef_metric *metric,
                         const char *made, size_t made_len);

#endif
