/* stats.c: request counters. */
#include "stats.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdlib.h>

static const char *const endpoint_names[SIM_EP_COUNT] = {
    [SIM_EP_DEVICE_LIST] = "device/list",
    [SIM_EP_QUOTA_ALL] = "device/quota/all",
    [SIM_EP_QUOTA] = "device/quota",
    [SIM_EP_QUOTA_DATA] = "device/quota/data",
    [SIM_EP_CERTIFICATION] = "certification",
    [SIM_EP_UNKNOWN] = "unknown",
};

struct sim_stats {
  atomic_ulong requests;
  atomic_ulong by_endpoint[SIM_EP_COUNT];
  atomic_ulong unknown_sn;
  atomic_ulong signature_failures;
  atomic_ulong faults_injected;
  atomic_long in_flight;
  atomic_long max_in_flight;
  size_t devices;
  atomic_ulong by_device[];
};

sim_stats *sim_stats_new(size_t devices) {
  sim_stats *stats =
      calloc(1, sizeof(*stats) + devices * sizeof(stats->by_device[0]));
  if (stats != NULL)
    stats->devices = devices;
  return stats;
}

void sim_stats_free(sim_stats *stats) { free(stats); }

void sim_stats_open(sim_stats *stats) {
  long open = atomic_fetch_add(&stats->in_flight, 1) + 1;
  long max = atomic_load(&stats->max_in_flight);
  while (open > max &&
         !atomic_compare_exchange_weak(&stats->max_in_flight, &max, open))
    ;
}

void sim_stats_close(sim_stats *stats) {
  atomic_fetch_sub(&stats->in_flight, 1);
}

void sim_stats_count(sim_stats *stats, sim_endpoint endpoint, const char *sn,
                     ssize_t device) {
  atomic_fetch_add(&stats->requests, 1);
  atomic_fetch_add(&stats->by_endpoint[endpoint], 1);
  if (device >= 0 && (size_t)device < stats->devices)
    atomic_fetch_add(&stats->by_device[device], 1);
  else if (sn != NULL)
    atomic_fetch_add(&stats->unknown_sn, 1);
}

void sim_stats_signature_failure(sim_stats *stats) {
  atomic_fetch_add(&stats->signature_failures, 1);
}

void sim_stats_fault_injected(sim_stats *stats) {
  atomic_fetch_add(&stats->faults_injected, 1);
}

void sim_stats_reset(sim_stats *stats) {
  atomic_store(&stats->requests, 0);
  for (int i = 0; i < SIM_EP_COUNT; i++)
    atomic_store(&stats->by_endpoint[i], 0);
  for (size_t i = 0; i < stats->devices; i++)
    atomic_store(&stats->by_device[i], 0);
  atomic_store(&stats->unknown_sn, 0);
  atomic_store(&stats->signature_failures, 0);
  atomic_store(&stats->faults_injected, 0);
  atomic_store(&stats->max_in_flight, atomic_load(&stats->in_flight));
}

static void add_count(struct json_object *object, const char *key,
                      unsigned long count) {
  json_object_object_add(object, key, json_object_new_uint64(count));
}

struct json_object *sim_stats_json(sim_stats *stats, const sim_fleet *fleet) {
  struct json_object *root = json_object_new_object();
  struct json_object *endpoints = json_object_new_object();
  struct json_object *devices = json_object_new_object();
  if (root == NULL || endpoints == NULL || devices == NULL) {
    json_object_put(root);
    json_object_put(endpoints);
    json_object_put(devices);
    return NULL;
  }
  for (int i = 0; i < SIM_EP_COUNT; i++)
    add_count(endpoints, endpoint_names[i],
              atomic_load(&stats->by_endpoint[i]));
  for (size_t i = 0; i < stats->devices && i < fleet->len; i++) {
    unsigned long count = atomic_load(&stats->by_device[i]);
    if (count > 0)
      add_count(devices, fleet->devices[i].sn, count);
  }
  add_count(root, "requests", atomic_load(&stats->requests));
  json_object_object_add(root, "endpoints", endpoints);
  json_object_object_add(root, "devices", devices);
  add_count(root, "unknown_sn", atomic_load(&stats->unknown_sn));
  add_count(root, "signature_failures",
            atomic_load(&stats->signature_failures));
  add_count(root, "faults_injected", atomic_load(&stats->faults_injected));
  json_object_object_add(root, "in_flight",
                         json_object_new_int64(atomic_load(&stats->in_flight)));
  json_object_object_add(
      root, "max_in_flight",
      json_object_new_int64(atomic_load(&stats->max_in_flight)));
  return root;
}
