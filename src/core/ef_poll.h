/* ef_poll.h: one read of many devices' quotas.
 *
 * Promises: every target is read concurrently through the client
 * (quota/all, or POST quota when the target names quotas), and the caller
 * gets each device's reading as it completes: its data (the answer's
 * "data" object, walked with ef_walk or ef_metrics_of_json, never copied)
 * or the error that names what went wrong. One failing device never
 * affects the others. The request and the reading of one target are also
 * offered apart, so that quota reads can share a batch with other
 * requests (ef_engine.h). */
#ifndef EF_POLL_H
#define EF_POLL_H

#include "ef_client.h"

struct json_object;

typedef struct {
  const char *sn;
  const char *const *quotas; /* NULL: quota/all; else POST quota */
  size_t n_quotas;
  void *user; /* the front end's own device, handed back */
} ef_poll_target;

typedef struct {
  const ef_poll_target *target;
  const ef_error *error;    /* NULL on success */
  struct json_object *data; /* an object; NULL on error; valid during the
                               callback */
  int64_t time_ms;          /* when the answer completed */
  int64_t server_time_ms;   /* the server's clock in that answer; 0: none */
} ef_reading;

typedef void (*ef_reading_cb)(const ef_reading *reading, void *ctx);

/* Every target gets exactly one callback, even when the batch breaks off.
 * Returns 0, or -1 with err filled when the batch broke off (the targets
 * cut off were answered with that error). */
int ef_poll_quotas(ef_client *client, const ef_poll_target *targets, size_t n,
                   ef_reading_cb cb, void *ctx, ef_error *err);

/* The request that reads target (request->user is left to the caller).
 * Returns 0, or -1 when out of memory; ef_poll_request_clear frees what
 * it holds either way. */
int ef_poll_request(ef_request *request, const ef_poll_target *target);
void ef_poll_request_clear(ef_request *request);

/* Turns the answer to target's request into its reading for cb. */
void ef_poll_deliver(const ef_answer *answer, const ef_poll_target *target,
                     ef_reading_cb cb, void *ctx);

#endif
