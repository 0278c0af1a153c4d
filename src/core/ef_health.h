/* ef_health.h: a device's error state, so faults are reported on change.
 *
 * Promises: feeding every reading's outcome tells the caller exactly when
 * to report: when a device starts failing, when its failure changes (a
 * different status, code or message), and when it recovers; never for a
 * failure that merely persists, nor for the requests of a failing device
 * left unsent while its account cools down (ef_client.h). */
#ifndef EF_HEALTH_H
#define EF_HEALTH_H

#include "ef_error.h"

typedef enum {
  EF_HEALTH_UNCHANGED,
  EF_HEALTH_FAILED,    /* was fine (or unknown), now failing */
  EF_HEALTH_CHANGED,   /* was failing, now failing differently */
  EF_HEALTH_RECOVERED, /* was failing, now fine */
} ef_health_event;

typedef struct {
  int failing;
  unsigned failures; /* consecutive */
  ef_error last;
} ef_health;

/* err NULL means success. */
ef_health_event ef_health_update(ef_health *health, const ef_error *err);

#endif
