/* ef_roster.h: which devices of one account a front end polls, and when.
 *
 * Promises: the devices configured for an account, merged with the list
 * the cloud gives (device/list, ef_discovery.h) when the front end uses it.
 * With discovery on, every listed device (of the roster's shard) is
 * polled too, and a discovered
 * device that leaves the list stops being polled (a configured one never
 * does). The list is asked again every refresh period, so that new devices
 * appear without a restart; after a failed list, sooner (from
 * EF_ROSTER_LIST_RETRY_MS, doubling up to the period). A failing list
 * never stops the configured devices.
 *
 * A device the list shows offline is not polled (the cloud would only
 * serve its cached copy) and is handed to the front end as skipped, not
 * as an error; once it is online again it is due at once. Each device
 * keeps its schedule, health and freshness across refreshes, so that a
 * device the cloud refuses for good (1006: a model or sub-device EcoFlow
 * does not open to the API) is reported once and re-tried hourly
 * (ef_schedule.h), however often the list is refreshed. Changes (a device
 * added, removed, gone offline, back online; the list failing or
 * recovering) reach the front end once, when they happen.
 *
 * A device's listed name and product, once the list gave them, stay: a
 * list that fails, leaves the device out or omits a name changes none
 * (a new name replaces the old one).
 *
 * Each device has an instance: the identifier a front end that names
 * series by one string publishes it under (collectd's plugin instance):
 * its configured name, else its serial number. Instances never collide,
 * within a roster nor among the rosters that share one registry (the
 * accounts of one collectd): a device whose instance is taken (a
 * configured name equal to a listed serial, the same device listed by two
 * accounts) gets the first free one of "INSTANCE~2", "INSTANCE~3", ...,
 * told once (EF_ROSTER_INSTANCE_TAKEN), so that two devices never write
 * into one series. Instances are compared as collectd writes them to
 * disk ('/' as '_'), and fit a collectd name (EF_DEVICE_NAME_MAX). */
#ifndef EF_ROSTER_H
#define EF_ROSTER_H

#include "ef_client.h"
#include "ef_discovery.h"
#include "ef_freshness.h"
#include "ef_health.h"
#include "ef_poll.h"
#include "ef_schedule.h"

#include <stddef.h>
#include <stdint.h>

#define EF_ROSTER_DEFAULT_REFRESH_MS (10 * 60 * 1000)
#define EF_ROSTER_LIST_RETRY_MS (60 * 1000)

typedef enum {
  EF_PRESENCE_UNKNOWN, /* the list says nothing: no list, or not in it */
  EF_PRESENCE_ONLINE,
  EF_PRESENCE_OFFLINE,
} ef_presence;

/* A device the front end was configured with. Every pointer is borrowed
 * and must outlive the roster. */
typedef struct {
  const char *sn;
  const char *name;          /* NULL: none configured */
  int64_t interval_ms;       /* 0: the roster's interval */
  const char *const *quotas; /* NULL: quota/all; else POST quota */
  size_t n_quotas;
  void *config; /* the front end's own, handed back */
} ef_roster_entry;

/* The instances taken, shared by rosters whose devices' series must not
 * meet. Safe from any thread. */
typedef struct ef_instances ef_instances;

/* An empty registry, or NULL when out of memory. */
ef_instances *ef_instances_new(void);
/* Frees it. The rosters that share it may still be freed afterwards (they
 * only use it when the list drops or adds a device). NULL is fine. */
void ef_instances_free(ef_instances *instances);

typedef struct {
  int use_list; /* ask device/list: names, products, online flags */
  int discover; /* also poll listed devices not configured (uses the list) */
  int64_t refresh_ms;  /* 0: EF_ROSTER_DEFAULT_REFRESH_MS */
  int64_t interval_ms; /* of discovered devices and entries without one */
  void (*free_user)(void *user); /* frees a device's user state; or NULL */
  /* Discovery takes only the listed devices of shard shard_index of
   * shard_count (ef_serial_shard; 0: every device): agents that share an
   * account split it without talking to each other. Configured devices
   * are polled whatever their shard. */
  unsigned shard_index, shard_count;
  ef_instances *instances; /* shared with other rosters; NULL: its own */
} ef_roster_options;

typedef struct {
  char *sn;
  char *name;        /* the configured name, or NULL */
  char *instance;    /* unique: the name, else the serial (see above) */
  char *listed_name; /* deviceName from the list, or NULL */
  char *product;     /* productName from the list, or NULL */
  ef_presence presence;
  const char *const *quotas; /* the entry's; NULL for quota/all */
  size_t n_quotas;
  int configured; /* 1 for an entry, 0 for a device discovery added */
  void *config;   /* the entry's config (may be NULL) */
  ef_schedule schedule;
  ef_health health;
  ef_freshness freshness;
  void *user; /* the front end's per-device state (options.free_user) */
} ef_roster_device;

typedef struct ef_roster ef_roster;

/* A roster of the configured devices, all due at now_ms. Returns NULL
 * when out of memory. */
ef_roster *ef_roster_new(const ef_roster_options *options,
                         const ef_roster_entry *configured, size_t n,
                         int64_t now_ms);

/* Frees every device (and its user state). NULL is fine. */
void ef_roster_free(ef_roster *roster);

size_t ef_roster_size(const ef_roster *roster);
ef_roster_device *ef_roster_device_at(const ef_roster *roster, size_t index);

typedef enum {
  EF_ROSTER_ADDED,       /* a listed device new to the roster, due at once */
  EF_ROSTER_REMOVED,     /* a discovered device left the list: its user state
                            is freed after the callback */
  EF_ROSTER_OFFLINE,     /* the list shows it offline: skipped until online */
  EF_ROSTER_ONLINE,      /* online again after EF_ROSTER_OFFLINE: due at once */
  EF_ROSTER_LIST_FAILED, /* device NULL; error says why (once) */
  EF_ROSTER_LIST_RECOVERED, /* device NULL */
  EF_ROSTER_INSTANCE_TAKEN, /* after ADDED: its instance was another's, it
                               got a suffix (ef_roster_wanted_instance) */
} ef_roster_event;

typedef void (*ef_roster_event_cb)(ef_roster_event event,
                                   ef_roster_device *device,
                                   const ef_error *error, void *ctx);

/* 1 when the front end should ask device/list at now_ms. */
int ef_roster_refresh_due(const ef_roster *roster, int64_t now_ms);

/* 1 when the last device/list failed: the presences are then what the
 * last good list said, and not news. */
int ef_roster_list_failing(const ef_roster *roster);

/* Whether roster (the ctx) takes the device list's entry for sn: one of
 * its devices, or one its discovery adds (of its shard). An
 * ef_device_list_keep, so that an agent copies only its part of a long
 * list. */
int ef_roster_keeps(const char *sn, void *ctx);

/* Merges an answer of device/list taken at now_ms: list, or err when the
 * list failed (list then unused). cb (may be NULL) hears every change.
 * Returns 0, or -1 when out of memory (devices may then be missing until
 * the next refresh). */
int ef_roster_merge(ef_roster *roster, const ef_device_list *list,
                    const ef_error *err, int64_t now_ms, ef_roster_event_cb cb,
                    void *ctx);

/* Asks device/list through client when it is due, and merges it. Returns
 * 1 when it asked, 0 when not due, -1 when out of memory. */
int ef_roster_refresh(ef_roster *roster, ef_client *client, int64_t now_ms,
                      ef_roster_event_cb cb, void *ctx);

/* One read's devices: those due to be polled (each target's user is its
 * ef_roster_device), and those due but offline (skipped: due again one
 * interval on). */
typedef struct {
  const ef_poll_target *targets;
  size_t n_targets;
  ef_roster_device *const *offline;
  size_t n_offline;
} ef_roster_round;

/* Fills round with the devices due at now_ms; it stays valid until the
 * next round, merge or free. Returns 0, or -1 when out of memory. */
int ef_roster_round_start(ef_roster *roster, int64_t now_ms,
                          ef_roster_round *round);

/* Records a poll of device that completed at now_ms (err NULL: success):
 * when it is due again, and what to report (ef_health.h). */
ef_health_event ef_roster_settle(ef_roster_device *device, const ef_error *err,
                                 int64_t now_ms);

/* The device with serial number sn, or NULL: a hash lookup. */
ef_roster_device *ef_roster_find(const ef_roster *roster, const char *sn);

/* The instance device would have had if it were free: its configured
 * name, else its serial number. A configured device whose instance is not
 * this one met a taken instance in ef_roster_new. */
const char *ef_roster_wanted_instance(const ef_roster_device *device);

/* The name to show: the configured one, else the listed one, else NULL. */
const char *ef_roster_device_name(const ef_roster_device *device);

/* One line for a failure: the error, what to do about it, and, when the
 * caller keeps its devices' schedules from one poll to the next (a
 * daemon: schedule_kept), that a refusal for good is re-tried hourly
 * rather than every interval. */
void ef_roster_explain(const ef_error *err, int schedule_kept, char *out,
                       size_t size);

/* 1 when quota can go into a POST quota request: a quota or group name
 * ("bpSoc", "pcsAPhase", "20_1.invOutputWatts"), nothing else. */
int ef_roster_quota_valid(const char *quota);

#endif
