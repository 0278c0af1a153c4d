/* ef_freshness.c: stale readings and data age from the cloud's stamp. */
#include "ef_freshness.h"
#include "ef_history.h"
#include "ef_text.h"

#include <stdio.h>
#include <string.h>

ef_freshness_verdict ef_freshness_check(ef_freshness *freshness,
                                        const char *stamp, int64_t now_ms,
                                        int64_t offset_ms) {
  ef_freshness_verdict verdict = {0};
  if (stamp == NULL || stamp[0] == '\0')
    return verdict;
  verdict.stale = strcmp(freshness->stamp, stamp) == 0;
  ef_text_copy(freshness->stamp, sizeof(freshness->stamp), stamp);
  time_t when;
  if (ef_time_parse(stamp, &when) == 0) {
    verdict.has_age = 1;
    verdict.age_s =
        (double)(now_ms + offset_ms - (int64_t)when * 1000) / 1000.0;
  }
  return verdict;
}
