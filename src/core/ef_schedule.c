/* ef_schedule.c: poll intervals, backoff and Retry-After per device. */
#include "ef_schedule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A read that fires this early (at most a tenth of the interval) is due. */
#define MAX_EARLY_MS 1000

int64_t ef_schedule_min_interval_ms(void) {
  const char *hook = getenv(EF_TEST_MIN_INTERVAL_ENV);
  if (hook == NULL || *hook == '\0')
    return EF_MIN_INTERVAL_MS;
  char *end = NULL;
  errno = 0;
  long long ms = strtoll(hook, &end, 10);
  if (errno != 0 || *end != '\0' || ms < 1 || ms > EF_MIN_INTERVAL_MS)
    return EF_MIN_INTERVAL_MS;
  return ms;
}

int64_t ef_schedule_interval(int64_t requested_ms) {
  int64_t least = ef_schedule_min_interval_ms();
  return requested_ms < least ? least : requested_ms;
}

void ef_schedule_start(ef_schedule *schedule, int64_t interval_ms,
                       int64_t now_ms) {
  *schedule = (ef_schedule){.interval_ms = ef_schedule_interval(interval_ms),
                            .next_ms = now_ms};
}

int ef_schedule_due(const ef_schedule *schedule, int64_t now_ms) {
  int64_t early = schedule->interval_ms / 10;
  if (early > MAX_EARLY_MS)
    early = MAX_EARLY_MS;
  return now_ms + early >= schedule->next_ms;
}

int ef_schedule_refused(const ef_error *err) {
  return err->kind == EF_ERR_API && (strcmp(err->api_code, "1006") == 0 ||
                                     strcmp(err->api_code, "8512") == 0);
}

void ef_schedule_record(ef_schedule *schedule, const ef_error *err,
                        int64_t now_ms) {
  if (err == NULL || err->kind == EF_OK) {
    schedule->failures = 0;
    schedule->next_ms = now_ms + schedule->interval_ms;
    return;
  }
  schedule->failures++;
  /* The first failure is retried at the normal interval (the cloud has
   * transient faults); then the wait doubles. */
  int64_t delay = schedule->interval_ms;
  for (unsigned i = 1; i < schedule->failures && delay < EF_MAX_BACKOFF_MS; i++)
    delay *= 2;
  if (delay > EF_MAX_BACKOFF_MS)
    delay = EF_MAX_BACKOFF_MS;
  if (delay < schedule->interval_ms)
    delay = schedule->interval_ms;
  if (ef_schedule_refused(err) && delay < EF_REFUSED_RETRY_MS)
    delay = EF_REFUSED_RETRY_MS;
  if ((int64_t)err->retry_after_s * 1000 > delay)
    delay = (int64_t)err->retry_after_s * 1000;
  schedule->next_ms = now_ms + delay;
}
