/* ef_discovery.h: the devices bound to an account (GET device/list).
 *
 * Promises: the list as the cloud gives it (serial, name, online flag,
 * product when present: the cloud may leave it out), or an error naming
 * what was wrong. An empty list is a valid answer. */
#ifndef EF_DISCOVERY_H
#define EF_DISCOVERY_H

#include "ef_client.h"

#include <stddef.h>

typedef struct {
  char *sn;
  char *name;    /* deviceName, or NULL */
  char *product; /* productName, or NULL */
  int online;
} ef_listed_device;

typedef struct {
  ef_listed_device *items;
  size_t len;
} ef_device_list;

/* Replaces *list with the account's devices. Returns 0, or -1 with err
 * filled (the list is then empty). */
int ef_discover(ef_client *client, ef_device_list *list, ef_error *err);

/* The entry for sn, or NULL. */
const ef_listed_device *ef_device_list_find(const ef_device_list *list,
                                            const char *sn);

void ef_device_list_clear(ef_device_list *list);

#endif
