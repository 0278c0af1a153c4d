/* ef_freshness.c: stale readings and data age from the cloud's stamp. */
#include "ef_freshness.h"
#include "ef_history.h"

#include <stdio.h>
#include <string.h>

ef_freshness_verdict ef_freshness_check(ef_freshness *freshness,
                                        const ef_samples *samples,
                                        int64_t now_ms, int64_t offset_ms) {
  ef_freshness_verdict verdict = {0};
  const ef_sample *stamp = ef_samples_find(samples, EF_CLOUD_STAMP_PATH);
  if (stamp == NULL || stamp->text == NULL || stamp->text[0] == '\0')
    return verdict;
  verdict.stale = strcmp(freshness->stamp, stamp->text) == 0;
  snprintf(freshness->stamp, sizeof(freshness->stamp), "%s", stamp->text);
  time_t when;
  if (ef_time_parse(stamp->text, &when) == 0) {
    verdict.has_age = 1;
    verdict.age_s = (double)(now_ms + offset_ms) / 1000.0 - (double)when;
  }
  return verdict;
}
