/* ef_schedule.h: when each device is due to be polled again.
 *
 * Promises: a device is never polled more often than every
 * EF_MIN_INTERVAL_MS (the cloud blocks accounts that burst); a failing
 * device backs off exponentially up to EF_MAX_BACKOFF_MS, honours the
 * server's Retry-After, and a device the cloud refuses for good reasons
 * (1006: model not open to the API; 8512: not bound to the account) is
 * re-tried only every EF_REFUSED_RETRY_MS; success restores the interval. */
#ifndef EF_SCHEDULE_H
#define EF_SCHEDULE_H

#include "ef_error.h"

#include <stdint.h>

#define EF_MIN_INTERVAL_MS 10000
#define EF_MAX_BACKOFF_MS (30 * 60 * 1000)
#define EF_REFUSED_RETRY_MS (60 * 60 * 1000)

typedef struct {
  int64_t interval_ms;
  int64_t next_ms;
  unsigned failures; /* consecutive */
} ef_schedule;

/* The environment variable of a test hook: ms (1 to EF_MIN_INTERVAL_MS)
 * that replace EF_MIN_INTERVAL_MS, so that a soak test (bench/soak.py)
 * can run thousands of read cycles against ecoflow-sim in minutes. Never
 * set it against the real cloud, which blocks accounts that poll faster
 * than EF_MIN_INTERVAL_MS. Ignored when unset or not such a number. */
#define EF_TEST_MIN_INTERVAL_ENV "ECOFLOW_TEST_MIN_INTERVAL_MS"

/* EF_MIN_INTERVAL_MS, or what the test hook above sets instead. */
int64_t ef_schedule_min_interval_ms(void);

/* requested_ms raised to ef_schedule_min_interval_ms() when below it. */
int64_t ef_schedule_interval(int64_t requested_ms);

/* A schedule with the (clamped) interval, due at now_ms. */
void ef_schedule_start(ef_schedule *schedule, int64_t interval_ms,
                       int64_t now_ms);

/* 1 when the device should be polled at now_ms. Reads that fire a little
 * early (timer jitter) still count as due, so that no cycle is skipped. */
int ef_schedule_due(const ef_schedule *schedule, int64_t now_ms);

/* 1 when err is a refusal for good (1006, 8512): retried only every
 * EF_REFUSED_RETRY_MS, whatever the interval. */
int ef_schedule_refused(const ef_error *err);

/* Records the outcome of a poll that completed at now_ms (err NULL or
 * EF_OK: success) and sets the next due time. */
void ef_schedule_record(ef_schedule *schedule, const ef_error *err,
                        int64_t now_ms);

#endif
