/* ef_flap.h: which changes of a device's pushed status to tell, so that
 * a status that flaps is said once, not once per change.
 *
 * Promises: the changes come in batches (the status messages that arrived
 * between two takes, coalesced: the latest status and how many times it
 * changed). A change is told while they come slower than
 * EF_FLAP_CHANGES within EF_FLAP_WINDOW_MS; a batch that only went back
 * to the status told last tells nothing. Beyond that the device flaps:
 * said once, and no change is told until none has come for
 * EF_FLAP_WINDOW_MS; then its status, steady again, is said once. Pure:
 * the caller hands in the times. */
#ifndef EF_FLAP_H
#define EF_FLAP_H

#include <stdint.h>

#define EF_FLAP_CHANGES 4
#define EF_FLAP_WINDOW_MS (60 * 1000)

typedef struct {
  int status;         /* the latest: 1 online, 0 offline */
  int told;           /* the status told last */
  int flapping;       /* said to flap, not steady since */
  int64_t window_ms;  /* when the changes being counted began */
  unsigned changes;   /* since window_ms */
  int64_t changed_ms; /* the latest change */
} ef_flap;

typedef enum {
  EF_FLAP_QUIET,  /* nothing to tell */
  EF_FLAP_TELL,   /* the status changed: tell it */
  EF_FLAP_STARTS, /* it flaps: say so, once */
  EF_FLAP_ENDS,   /* steady again: tell its status, once */
} ef_flap_verdict;

/* A device whose status is taken to be status (told already). */
void ef_flap_init(ef_flap *flap, int status);

/* A batch at now_ms: the latest status, and how many times it changed
 * since the last batch (0: the same status again). */
ef_flap_verdict ef_flap_note(ef_flap *flap, int status, unsigned changes,
                             int64_t now_ms);

/* Whether a flapping status has been steady long enough at now_ms:
 * EF_FLAP_ENDS once it has, else EF_FLAP_QUIET. */
ef_flap_verdict ef_flap_settle(ef_flap *flap, int64_t now_ms);

#endif
