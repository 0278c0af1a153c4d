/* devices.h: the devices one ecoflow-telegraf run reads.
 *
 * Promises: the devices of the settings (--sn, with their --quota) and,
 * with --discover or without any --sn, every other device of the account,
 * kept by the core (ef_roster.h). device/list is asked once per run in exec
 * mode and once per refresh period in execd mode; a failing list never
 * stops the --sn devices. Its changes reach the log once, in Telegraf's
 * style: I! for a device gone offline, back online, added or gone (the
 * devices of the first list are not news), W! for a failing list while
 * devices are left to poll, E! when none is. After each list, unless told
 * otherwise, every listed device's online flag is printed as a point of
 * TG_DEVICE_MEASUREMENT (tags sn, name, product; boolean field online). */
#ifndef EF_TELEGRAF_DEVICES_H
#define EF_TELEGRAF_DEVICES_H

#include "ef_roster.h"
#include "reading.h"
#include "telegraf_config.h"

#define TG_DEVICE_MEASUREMENT "ecoflow_device"

typedef struct {
  ef_roster *roster;
  ef_client *client;
  tg_printer *printer;
  size_t lists;     /* device/list answers merged so far */
  int print_online; /* print the online flags at each list */
} tg_devices;

/* The devices of config, read through client, printed through printer.
 * Returns 0, or -1 when out of memory. */
int tg_devices_init(tg_devices *devices, const tg_config *config,
                    ef_client *client, tg_printer *printer);

void tg_devices_free(tg_devices *devices);

/* Asks device/list when it is due at now_ms, logs what changed and prints
 * the online flags. Returns 0, or -1 when out of memory or output
 * failed. */
int tg_devices_refresh(tg_devices *devices, int64_t now_ms);

#endif
