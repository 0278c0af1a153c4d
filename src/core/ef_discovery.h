/* ef_discovery.h: the devices bound to an account (GET device/list).
 *
 * Promises: the list as the cloud gives it (serial, name, online flag,
 * product when present: the cloud may leave it out), or an error naming
 * what was wrong. An empty list is a valid answer. Names and products are
 * cleaned (ef_text.h); an entry whose serial number could not be
 * configured (ef_serial_valid), or that repeats one, is left out and
 * counted, never polled. */
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
  ef_listed_device *items; /* in the order of the answer */
  size_t len;
  size_t skipped; /* entries left out: no valid, unique serial number */
  size_t *by_sn;  /* indexes of items in serial number order */
} ef_device_list;

/* Replaces *list with the account's devices. Returns 0, or -1 with err
 * filled (the list is then empty). */
int ef_discover(ef_client *client, ef_device_list *list, ef_error *err);

/* The request for the list, and the list in its answer: 0, or -1 with
 * err filled (the list is then empty). */
void ef_discovery_request(ef_request *request);
int ef_discovery_parse(const ef_answer *answer, ef_device_list *list,
                       ef_error *err);

/* The entry for sn, or NULL. */
const ef_listed_device *ef_device_list_find(const ef_device_list *list,
                                            const char *sn);

void ef_device_list_clear(ef_device_list *list);

#endif
