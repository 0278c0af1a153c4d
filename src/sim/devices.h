/* devices.h: the device families and the quotas each one reports.
 *
 * Promises: a device's quota/all data as the cloud sends it: flat, with one
 * level of nesting folded into the key ("pcsAPhase.vol"), arrays left as
 * arrays (mpptHeartBeat), battery packs as JSON text inside a string, and
 * the odd enum, boolean, null and base64 value. A PowerOcean answer has
 * 300-350 keys and about 13 KB, like a live one; it carries its heat pump,
 * heating rod and EV charger too, as the gateway does. What a family
 * reports is data (quota tables), not code. */
#ifndef SIM_DEVICES_H
#define SIM_DEVICES_H

#include "fleet.h"

#include <stdint.h>

struct json_object;

typedef struct sim_family sim_family;

/* The family named on the command line ("powerocean"), or NULL. */
const sim_family *sim_family_find(const char *name);
/* All family names, comma separated, for messages. */
const char *sim_family_names(void);
/* "PowerOcean": the start of a default device name. */
const char *sim_family_label(const sim_family *family);
/* device/list's productName, or NULL where the cloud leaves it out. */
const char *sim_family_product_name(const sim_family *family);

/* The device's quota/all data at simulated time t, a new object; with a
 * group (groups.h), only what is needed to have that group's quotas (a few
 * others may come along), which costs a fraction of the whole. */
struct json_object *sim_device_quotas(const sim_device *device, int64_t t,
                                      const char *group);

#endif
