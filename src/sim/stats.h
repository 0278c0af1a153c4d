/* stats.h: counters of what the simulator was asked, for tests and
 * benchmarks (GET /sim/stats).
 *
 * Promises: counting is lock-free and safe from any thread; "max in
 * flight" is the largest number of API requests that were open at the same
 * moment, which is how a test proves a client's concurrency limit. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include "fleet.h"

#include <stddef.h>
#include <sys/types.h>

struct json_object;

typedef enum {
  SIM_EP_DEVICE_LIST,
  SIM_EP_QUOTA_ALL,
  SIM_EP_QUOTA,
  SIM_EP_QUOTA_DATA,
  SIM_EP_CERTIFICATION,
  /* A path under the API that is none of the above. */
  SIM_EP_UNKNOWN,
  SIM_EP_COUNT
} sim_endpoint;

typedef struct sim_stats sim_stats;

sim_stats *sim_stats_new(size_t devices);
void sim_stats_free(sim_stats *stats);

/* An API request opened and closed: the in-flight gauge. */
void sim_stats_open(sim_stats *stats);
void sim_stats_close(sim_stats *stats);

/* One API request to endpoint, naming serial number sn (NULL: none) of
 * device index device (-1: not in the fleet). */
void sim_stats_count(sim_stats *stats, sim_endpoint endpoint, const char *sn,
                     ssize_t device);
void sim_stats_signature_failure(sim_stats *stats);
void sim_stats_fault_injected(sim_stats *stats);

/* Zeroes every counter; max in flight restarts from what is open now. */
void sim_stats_reset(sim_stats *stats);

/* {"requests":N,"endpoints":{..},"devices":{sn:N,..},"unknown_sn":N,
 *  "signature_failures":N,"faults_injected":N,"in_flight":N,
 *  "max_in_flight":N}; devices lists only those asked about. */
struct json_object *sim_stats_json(sim_stats *stats, const sim_fleet *fleet);

#endif
