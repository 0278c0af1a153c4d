/* ef_discovery.h: the devices bound to an account (GET device/list).
 *
 * Promises: the list as the cloud gives it (serial, name, online flag,
 * product when present: the cloud may leave it out), or an error naming
 * what was wrong. An empty list is a valid answer. Names and products are
 * cleaned (ef_text.h); an entry whose serial number could not be
 * configured (ef_serial_valid), or that repeats one, is left out and
 * counted, never polled.
 *
 * The list grows with the account, so its answer has its own cap
 * (EF_DEVICE_LIST_MAX_BODY, room for EF_DEVICE_LIST_MAX_DEVICES devices),
 * and it is read one entry at a time as it is parsed, never as one tree
 * (ef_envelope_parse_items): an agent holds the answer's bytes, one entry,
 * and the entries it keeps. Which it keeps is the caller's rule (keep:
 * an agent of one shard keeps its shard's devices and those it was
 * configured with), so that every agent of a sharded account parses the
 * whole list once per refresh and copies only its part. */
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

/* The largest account whose list is read: 100,000 devices of up to 256
 * bytes each, 25.6 MB. An entry of the simulator takes 88 bytes (serial
 * number, name, online flag, product), a live one about 110 with a
 * 16-character serial number; 256 leaves room for long names. */
#define EF_DEVICE_LIST_MAX_DEVICES 100000
#define EF_DEVICE_LIST_ENTRY_BYTES 256
#define EF_DEVICE_LIST_MAX_BODY                                                \
  ((size_t)EF_DEVICE_LIST_MAX_DEVICES * EF_DEVICE_LIST_ENTRY_BYTES)

/* Which listed devices a caller keeps (1), by serial number. */
typedef int (*ef_device_list_keep)(const char *sn, void *ctx);

typedef struct {
  ef_listed_device *items; /* in the order of the answer */
  size_t len;
  size_t skipped; /* entries left out: no valid, unique serial number */
  size_t others;  /* entries with a valid serial number keep left out */
  size_t *by_sn;  /* indexes of items in serial number order */
  size_t room;    /* of items */
  /* Set before the list is asked (NULL: keep every entry); clearing the
   * list leaves them. */
  ef_device_list_keep keep;
  void *keep_ctx;
} ef_device_list;

/* Replaces *list with the account's devices (those list->keep keeps).
 * Returns 0, or -1 with err filled (the list is then empty). */
int ef_discover(ef_client *client, ef_device_list *list, ef_error *err);

/* The request for the list, whose entries go into list as they are
 * parsed (emptied first; list must outlive the request), and the list
 * once its answer came: 0, or -1 with err filled (the list is then
 * empty). */
void ef_discovery_request(ef_request *request, ef_device_list *list);
int ef_discovery_parse(const ef_answer *answer, ef_device_list *list,
                       ef_error *err);

/* The entry for sn, or NULL. */
const ef_listed_device *ef_device_list_find(const ef_device_list *list,
                                            const char *sn);

/* Frees the entries; the keep rule stays. */
void ef_device_list_clear(ef_device_list *list);

#endif
