/* ef_health.c: edge detection on a device's error state. */
#include "ef_health.h"

ef_health_event ef_health_update(ef_health *health, const ef_error *err) {
  if (err == NULL || err->kind == EF_OK) {
    health->failures = 0;
    if (!health->failing)
      return EF_HEALTH_UNCHANGED;
    health->failing = 0;
    return EF_HEALTH_RECOVERED;
  }
  health->failures++;
  /* Not sent while the account cools down: no news about a device that
   * already fails, and its last real failure stays the one to compare. */
  if (health->failing && err->kind == EF_ERR_PAUSED)
    return EF_HEALTH_UNCHANGED;
  ef_health_event event = EF_HEALTH_UNCHANGED;
  if (!health->failing)
    event = EF_HEALTH_FAILED;
  else if (!ef_error_same(&health->last, err))
    event = EF_HEALTH_CHANGED;
  health->failing = 1;
  health->last = *err;
  return event;
}
