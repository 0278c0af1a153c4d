/* fleet.c: building and searching the simulated account's device list. */
#include "fleet.h"

#include "devices.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SN_MAX_LEN 64
/* One generated device in this many has no productName, like the odd old
 * device on a real account. */
#define GENERATED_HIDDEN_PRODUCT_EVERY 50

/* The devices a simulator started without --device or --devices has: one
 * of each family, with serial numbers shaped like real ones. */
static const struct {
  const char *sn;
  const char *family;
} default_devices[] = {
    {"HJ31SIMOCEAN0001", "powerocean"},
    {"HJ31SIMHEAT00001", "powerheat"},
    {"HJ31SIMGLOW00001", "powerglow"},
    {"HJ31SIMPULSE0001", "powerpulse"},
};

static bool valid_sn(const char *sn) {
  size_t len = strlen(sn);
  return len > 0 && len <= SN_MAX_LEN &&
         strspn(sn, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789_-") == len;
}

static int add_device(sim_fleet *fleet, const char *sn, const char *family_name,
                      const char *name, char *err, size_t err_size) {
  const sim_family *family = sim_family_find(family_name);
  if (family == NULL) {
    snprintf(err, err_size, "unknown family \"%s\" (one of: %s)", family_name,
             sim_family_names());
    return -1;
  }
  if (!valid_sn(sn)) {
    snprintf(err, err_size,
             "bad serial number \"%s\" (1 to %d letters, digits, _ or -)", sn,
             SN_MAX_LEN);
    return -1;
  }
  if (fleet->len == fleet->cap) {
    size_t cap = fleet->cap ? fleet->cap * 2 : 8;
    sim_device *devices = realloc(fleet->devices, cap * sizeof(*devices));
    if (devices == NULL) {
      snprintf(err, err_size, "out of memory");
      return -1;
    }
    fleet->devices = devices;
    fleet->cap = cap;
  }
  sim_device device = {.family = family,
                       .seed = sim_model_seed(SIM_SEED_START, sn)};
  device.sn = strdup(sn);
  if (name != NULL)
    device.name = strdup(name);
  else if (asprintf(&device.name, "%s %s", sim_family_label(family),
                    sn + (strlen(sn) > 4 ? strlen(sn) - 4 : 0)) < 0)
    device.name = NULL;
  if (device.sn == NULL || device.name == NULL) {
    free(device.sn);
    free(device.name);
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  fleet->devices[fleet->len++] = device;
  return 0;
}

int sim_fleet_add_spec(sim_fleet *fleet, const char *spec, char *err,
                       size_t err_size) {
  char *copy = strdup(spec);
  if (copy == NULL) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  char *family = strchr(copy, ':');
  int status = -1;
  if (family == NULL) {
    snprintf(err, err_size, "expected SN:FAMILY[:NAME], got \"%s\"", spec);
  } else {
    *family++ = '\0';
    char *name = strchr(family, ':');
    if (name != NULL)
      *name++ = '\0';
    status = add_device(fleet, copy, family, name, err, err_size);
  }
  free(copy);
  return status;
}

int sim_fleet_add_generated(sim_fleet *fleet, size_t count, char *err,
                            size_t err_size) {
  for (size_t i = 0; i < count; i++) {
    char sn[32];
    snprintf(sn, sizeof(sn), "SIM%06zu", i);
    if (add_device(fleet, sn, "powerocean", NULL, err, err_size) != 0)
      return -1;
    if (i % GENERATED_HIDDEN_PRODUCT_EVERY ==
        GENERATED_HIDDEN_PRODUCT_EVERY - 1)
      fleet->devices[fleet->len - 1].hides_product_name = true;
  }
  return 0;
}

int sim_fleet_add_defaults(sim_fleet *fleet, char *err, size_t err_size) {
  for (size_t i = 0; i < sizeof(default_devices) / sizeof(*default_devices);
       i++)
    if (add_device(fleet, default_devices[i].sn, default_devices[i].family,
                   NULL, err, err_size) != 0)
      return -1;
  return 0;
}

static int by_sn(const void *a, const void *b, void *fleet) {
  const sim_device *devices = ((const sim_fleet *)fleet)->devices;
  return strcmp(devices[*(const size_t *)a].sn, devices[*(const size_t *)b].sn);
}

int sim_fleet_seal(sim_fleet *fleet, char *err, size_t err_size) {
  free(fleet->by_sn);
  fleet->by_sn = malloc((fleet->len ? fleet->len : 1) * sizeof(size_t));
  if (fleet->by_sn == NULL) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < fleet->len; i++)
    fleet->by_sn[i] = i;
  qsort_r(fleet->by_sn, fleet->len, sizeof(size_t), by_sn, fleet);
  for (size_t i = 1; i < fleet->len; i++) {
    const char *sn = fleet->devices[fleet->by_sn[i]].sn;
    if (strcmp(fleet->devices[fleet->by_sn[i - 1]].sn, sn) == 0) {
      snprintf(err, err_size, "serial number %s given twice", sn);
      return -1;
    }
  }
  return 0;
}

ssize_t sim_fleet_find(const sim_fleet *fleet, const char *sn) {
  size_t low = 0;
  size_t high = fleet->len;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    size_t index = fleet->by_sn[middle];
    int order = strcmp(sn, fleet->devices[index].sn);
    if (order == 0)
      return (ssize_t)index;
    if (order < 0)
      high = middle;
    else
      low = middle + 1;
  }
  return -1;
}

void sim_fleet_free(sim_fleet *fleet) {
  for (size_t i = 0; i < fleet->len; i++) {
    free(fleet->devices[i].sn);
    free(fleet->devices[i].name);
  }
  free(fleet->devices);
  free(fleet->by_sn);
  *fleet = (sim_fleet){0};
}
