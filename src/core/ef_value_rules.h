/* ef_value_rules.h: the rules every number the core publishes passes,
 * whatever catalog row, catch-all row, raw quota, report index or MQTT
 * message carried it.
 *
 * Promises:
 * - "no reading": the markers EcoFlow sends where a value is missing
 *   (65535, 4294967295 and -3270, and those scaled as a value in tenths,
 *   hundredths or thousandths is: 6553.5, 429496729.5, -327, ...) are told
 *   apart from readings by a handful of comparisons, no allocation and no
 *   string work;
 * - lifetime counters: each counter of a device is judged against what
 *   the device sent before, by the series it is published as (so that two
 *   quotas of one quantity share one memory). 0 and the markers are no
 *   reading. A small step back is a glitch, held out. A step up by more
 *   than the glitch share (or more than EF_COUNTER_STEP_FLOOR), and a big
 *   step back, are held until the next reading says which is true: closer
 *   to the new value, it is believed (a reset grows from its new value;
 *   a real jump stays); closer to the old one, the new value was a spike
 *   and is forgotten. So a one-reading spike is never published, its
 *   return is no reset, and a reset is published once it grows;
 * - a device's memory of these rules is ef_value_memory: 16 bytes a
 *   counter it has sent (at most EF_MAX_COUNTERS), and a bit per quota a
 *   fallback row of the catalog stands in for (ef_catalog.h: the device
 *   sent the quota itself, so the stand-in is never published for it). */
#ifndef EF_VALUE_RULES_H
#define EF_VALUE_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Lifetime counters remembered per device; the catalog has a handful per
 * family (a PowerOcean with three packs: 18). */
#define EF_MAX_COUNTERS 64
/* A counter's step up (in its unit, Wh or mAh) that is always plausible
 * between two readings, however small the counter: a new installation's
 * counter grows by more than 1% a reading. */
#define EF_COUNTER_STEP_FLOOR 1000.0

/* The markers by the slot of their bits' hash (ef_value_rules.c). */
#define EF_NO_READING_SLOTS 16
#define EF_NO_READING_MULTIPLIER UINT64_C(0x544B0EC76D00616D)
extern const double ef_no_reading_slots[EF_NO_READING_SLOTS];

/* 1 when value is one of EcoFlow's "no reading" markers. Inline: every
 * value of every reading is asked. */
static inline int ef_value_no_reading(double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return ef_no_reading_slots[(bits * EF_NO_READING_MULTIPLIER) >> 60] == value;
}

typedef struct {
  uint32_t series; /* a hash of the series the counter is published as */
  /* A value waiting for the next reading, or NaN. Only compared, never
   * published (a believed value is the next reading's): a float is
   * precise enough, and keeps a counter in 16 bytes. */
  float candidate;
  double last; /* the last value published */
} ef_counter;

/* What one device's values are judged against. Zeroed: nothing known. */
typedef struct {
  ef_counter *counters; /* grown as they come, to EF_MAX_COUNTERS */
  uint16_t n_counters, counters_cap;
  uint32_t sent; /* bit b: the device sent the quota of fallback bit b */
} ef_value_memory;

/* Frees what memory holds and zeroes it. */
void ef_value_memory_clear(ef_value_memory *memory);

typedef enum {
  EF_COUNTER_PUBLISH,    /* published; remembered as the last value */
  EF_COUNTER_NO_READING, /* 0 or a marker */
  EF_COUNTER_GLITCH,     /* a small step back: held out */
  EF_COUNTER_UNSURE,     /* a jump or a big step back: held until the next
                            reading says whether it is true */
} ef_counter_verdict;

/* Judges value of the counter published as series (a hash: see
 * ef_value_series_hash), after what the device sent before; glitch_share
 * is the share of the last value below which a step back is a glitch and
 * above which a step up is a jump. A counter memory cannot hold (past
 * EF_MAX_COUNTERS, out of memory) is published unguarded. */
ef_counter_verdict ef_counter_judge(ef_value_memory *memory, uint32_t series,
                                    double value, double glitch_share);

/* The hash of a series: FNV-1a over each of the n texts, each ended. */
uint32_t ef_value_series_hash(const char *const *texts, size_t n);

#endif
