/* ef_freshness.h: new data, or the cloud's cached copy of old data?
 *
 * Promises: a reading whose cloud timestamp (quota_cloud_ts,
 * "YYYY-MM-DD HH:MM:SS") did not move since the device's previous reading
 * is stale: the cloud serves its cache for offline devices, and some values
 * freeze while no app session is open. Front ends do not publish a stale
 * reading as new values. When the stamp parses, the data's age is known,
 * measured against the server's clock (ef_client.h's offset). A reading
 * without a stamp counts as fresh. */
#ifndef EF_FRESHNESS_H
#define EF_FRESHNESS_H

#include <stdint.h>

#define EF_CLOUD_STAMP_PATH "quota_cloud_ts"

typedef struct {
  char stamp[64]; /* the previous reading's stamp, "" before one */
} ef_freshness;

typedef struct {
  int stale;
  int has_age;
  double age_s;
} ef_freshness_verdict;

/* Judges the device's newest reading, whose stamp is the text at
 * EF_CLOUD_STAMP_PATH (NULL: none), taken at now_ms, with the server clock
 * offset_ms ahead of ours, and remembers the stamp. The age is counted in
 * whole milliseconds, so that it reads as short as it is (0.421). */
ef_freshness_verdict ef_freshness_check(ef_freshness *freshness,
                                        const char *stamp, int64_t now_ms,
                                        int64_t offset_ms);

#endif
