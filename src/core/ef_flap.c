/* ef_flap.c: a device's status changes, told or said to flap. */
#include "ef_flap.h"

void ef_flap_init(ef_flap *flap, int status) {
  *flap = (ef_flap){.status = status, .told = status};
}

ef_flap_verdict ef_flap_note(ef_flap *flap, int status, unsigned changes,
                             int64_t now_ms) {
  if (status != flap->status && changes == 0)
    changes = 1;
  flap->status = status;
  if (changes == 0)
    return EF_FLAP_QUIET;
  flap->changed_ms = now_ms;
  if (flap->changes == 0 || now_ms - flap->window_ms > EF_FLAP_WINDOW_MS) {
    flap->window_ms = now_ms;
    flap->changes = 0;
  }
  flap->changes = flap->changes + changes > flap->changes
                      ? flap->changes + changes
                      : flap->changes; /* no wrap */
  if (flap->flapping)
    return EF_FLAP_QUIET;
  if (flap->changes >= EF_FLAP_CHANGES) {
    flap->flapping = 1;
    return EF_FLAP_STARTS;
  }
  if (status == flap->told)
    return EF_FLAP_QUIET;
  flap->told = status;
  return EF_FLAP_TELL;
}

ef_flap_verdict ef_flap_settle(ef_flap *flap, int64_t now_ms) {
  if (!flap->flapping || now_ms - flap->changed_ms < EF_FLAP_WINDOW_MS)
    return EF_FLAP_QUIET;
  flap->flapping = 0;
  flap->changes = 0;
  flap->told = flap->status;
  return EF_FLAP_ENDS;
}
