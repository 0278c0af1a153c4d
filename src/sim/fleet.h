/* fleet.h: the devices bound to the simulated account.
 *
 * Promises: devices keep the order they were added in (device/list shows
 * them so) and their index for life, which is how faults and counters
 * refer to them; lookup by serial number is a binary search, fast enough
 * for thousands of devices. */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sim_family;

typedef struct {
  char *sn;
  char *name;
  const struct sim_family *family;
  /* Everything a device reports is a pure function of this and the time. */
  uint64_t seed;
  /* The cloud leaves productName out for some devices. */
  bool hides_product_name;
} sim_device;

typedef struct {
  sim_device *devices;
  size_t len;
  size_t cap;
  /* Device indexes in serial number order, built by sim_fleet_seal. */
  size_t *by_sn;
} sim_fleet;

/* Adds one device from "SN:FAMILY[:NAME]". Returns 0, or -1 with a reason
 * in err. */
int sim_fleet_add_spec(sim_fleet *fleet, const char *spec, char *err,
                       size_t err_size);

/* Adds count PowerOcean devices SIM000000, SIM000001, ... */
int sim_fleet_add_generated(sim_fleet *fleet, size_t count, char *err,
                            size_t err_size);

/* Adds one device of each family, for a simulator started without any. */
int sim_fleet_add_defaults(sim_fleet *fleet, char *err, size_t err_size);

/* Ends the adding: builds the lookup and refuses duplicate serial numbers.
 * Returns 0, or -1 with a reason in err. */
int sim_fleet_seal(sim_fleet *fleet, char *err, size_t err_size);

/* The index of the device with this serial number, or -1. */
ssize_t sim_fleet_find(const sim_fleet *fleet, const char *sn);

void sim_fleet_free(sim_fleet *fleet);

#endif
