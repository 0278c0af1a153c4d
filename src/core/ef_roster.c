/* ef_roster.c: configured and listed devices, merged, and each one's turn. */
#include "ef_roster.h"

#include "ef_account.h"
#include "ef_grow.h"
#include "ef_hash.h"
#include "ef_text.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_NAME_MAX 128

/* ---- instances ---------------------------------------------------------- */

/* A set of strings (open addressing, linear probing): thousands of
 * devices claim theirs without a quadratic search. */
struct ef_instances {
  pthread_mutex_t lock;
  char **slots; /* NULL: empty; removed: a slot freed since */
  size_t cap;   /* a power of two */
  size_t used;  /* slots not empty (live or removed) */
};

static char removed_slot;
#define REMOVED (&removed_slot)

/* collectd's csv and rrdtool write a '/' of an identifier as '_': two
 * instances that differ only there would share a file. */
static unsigned char folded(char c) {
  return c == '/' ? '_' : (unsigned char)c;
}

static size_t instance_hash(const char *text) {
  uint64_t hash = EF_FNV64_BASIS;
  for (const char *c = text; *c != '\0'; c++)
    hash = ef_fnv64_byte(hash, folded(*c));
  return (size_t)hash;
}

static int instance_same(const char *a, const char *b) {
  for (; *a != '\0' && folded(*a) == folded(*b); a++, b++)
    ;
  return *a == '\0' && *b == '\0';
}

ef_instances *ef_instances_new(void) {
  ef_instances *instances = calloc(1, sizeof(*instances));
  if (instances == NULL)
    return NULL;
  instances->cap = 64;
  instances->slots = calloc(instances->cap, sizeof(*instances->slots));
  if (instances->slots == NULL) {
    free(instances);
    return NULL;
  }
  pthread_mutex_init(&instances->lock, NULL);
  return instances;
}

void ef_instances_free(ef_instances *instances) {
  if (instances == NULL)
    return;
  for (size_t i = 0; i < instances->cap; i++)
    if (instances->slots[i] != REMOVED)
      free(instances->slots[i]);
  free(instances->slots);
  pthread_mutex_destroy(&instances->lock);
  free(instances);
}

/* The slot of text, or of the empty slot where it would go. Callers hold
 * the lock. */
static char **instance_slot(const ef_instances *instances, const char *text) {
  size_t mask = instances->cap - 1;
  char **reusable = NULL;
  for (size_t i = instance_hash(text) & mask;; i = (i + 1) & mask) {
    char **slot = &instances->slots[i];
    if (*slot == NULL)
      return reusable != NULL ? reusable : slot;
    if (*slot == REMOVED) {
      if (reusable == NULL)
        reusable = slot;
    } else if (instance_same(*slot, text)) {
      return slot;
    }
  }
}

/* Room for one more, growing at half full. Returns -1 when out of
 * memory. Callers hold the lock. */
static int instances_reserve(ef_instances *instances) {
  if (2 * (instances->used + 1) <= instances->cap)
    return 0;
  ef_instances grown = {.cap = 2 * instances->cap};
  grown.slots = calloc(grown.cap, sizeof(*grown.slots));
  if (grown.slots == NULL)
    return -1;
  for (size_t i = 0; i < instances->cap; i++) {
    char *text = instances->slots[i];
    if (text != NULL && text != REMOVED) {
      *instance_slot(&grown, text) = text;
      grown.used++;
    }
  }
  free(instances->slots);
  instances->slots = grown.slots;
  instances->cap = grown.cap;
  instances->used = grown.used;
  return 0;
}

/* Takes wanted, or the first free "wanted~2", "wanted~3", ... (wanted cut
 * so that it fits EF_DEVICE_NAME_MAX). Returns a copy of the instance
 * taken, or NULL when out of memory. */
static char *instance_claim(ef_instances *instances, const char *wanted) {
  char candidate[EF_DEVICE_NAME_MAX + 1];
  ef_text_copy(candidate, sizeof(candidate), wanted);
  char *mine = NULL;
  pthread_mutex_lock(&instances->lock);
  if (instances_reserve(instances) == 0) {
    char **slot = instance_slot(instances, candidate);
    for (unsigned k = 2; *slot != NULL && *slot != REMOVED; k++) {
      char suffix[16];
      int n = snprintf(suffix, sizeof(suffix), "~%u", k);
      int keep = (int)strlen(wanted);
      if (keep > EF_DEVICE_NAME_MAX - n)
        keep = EF_DEVICE_NAME_MAX - n;
      while (keep > 0 && ((unsigned char)wanted[keep] & 0xc0) == 0x80)
        keep--; /* not inside a UTF-8 character */
      snprintf(candidate, sizeof(candidate), "%.*s%s", keep, wanted, suffix);
      slot = instance_slot(instances, candidate);
    }
    char *kept = strdup(candidate);
    mine = kept != NULL ? strdup(candidate) : NULL;
    if (mine != NULL) {
      instances->used += *slot == NULL;
      *slot = kept;
    } else {
      free(kept);
    }
  }
  pthread_mutex_unlock(&instances->lock);
  return mine;
}

static void instance_release(ef_instances *instances, const char *instance) {
  pthread_mutex_lock(&instances->lock);
  char **slot = instance_slot(instances, instance);
  if (*slot != NULL && *slot != REMOVED) {
    free(*slot);
    *slot = REMOVED;
  }
  pthread_mutex_unlock(&instances->lock);
}

/* ---- the roster --------------------------------------------------------- */

struct ef_roster {
  ef_roster_options options;
  ef_instances *own_instances; /* when none is shared */
  ef_roster_device **devices;
  size_t len, cap;
  /* device/list: when it is due next, and whether it fails. */
  int64_t list_next_ms;
  int64_t list_retry_ms; /* after the next failure */
  ef_health list_health;
  /* One round's devices, with room for every device. */
  ef_poll_target *targets;
  ef_roster_device **offline;
  size_t round_cap;
  /* The devices by serial number (open addressing, linear probing, at
   * most half full): a list's entries and pushed messages find theirs
   * without a search through thousands. */
  ef_roster_device **by_sn;
  size_t by_sn_cap; /* a power of two, or 0 */
};

/* ---- the devices by serial number --------------------------------------- */

static ef_roster_device **sn_slot(ef_roster_device **slots, size_t cap,
                                  const char *sn) {
  size_t mask = cap - 1;
  for (size_t i = (size_t)ef_fnv64_text(EF_FNV64_BASIS, sn) & mask;;
       i = (i + 1) & mask)
    if (slots[i] == NULL || strcmp(slots[i]->sn, sn) == 0)
      return &slots[i];
}

/* Fills the table again from the devices (after some left). */
static void index_rebuild(ef_roster *roster) {
  if (roster->by_sn_cap == 0)
    return;
  memset(roster->by_sn, 0, roster->by_sn_cap * sizeof(*roster->by_sn));
  for (size_t i = 0; i < roster->len; i++)
    *sn_slot(roster->by_sn, roster->by_sn_cap, roster->devices[i]->sn) =
        roster->devices[i];
}

/* Room in the table for one device more. Returns -1 when out of memory. */
static int index_reserve(ef_roster *roster) {
  if (2 * (roster->len + 1) <= roster->by_sn_cap)
    return 0;
  size_t cap = roster->by_sn_cap ? 2 * roster->by_sn_cap : 16;
  ef_roster_device **slots = calloc(cap, sizeof(*slots));
  if (slots == NULL)
    return -1;
  free(roster->by_sn);
  roster->by_sn = slots;
  roster->by_sn_cap = cap;
  index_rebuild(roster);
  return 0;
}

static void device_free(const ef_roster *roster, ef_roster_device *device) {
  if (device == NULL)
    return;
  if (device->user != NULL && roster->options.free_user != NULL)
    roster->options.free_user(device->user);
  free(device->sn);
  free(device->name);
  free(device->instance);
  free(device->listed_name);
  free(device->product);
  free(device);
}

/* Appends a device for sn, due at now_ms; NULL when out of memory. */
static ef_roster_device *device_add(ef_roster *roster, const char *sn,
                                    const char *name, int64_t interval_ms,
                                    int64_t now_ms) {
  ef_roster_device **grown = ef_grown(roster->devices, &roster->cap,
                                      roster->len + 1, sizeof(*grown), 8);
  if (grown == NULL)
    return NULL;
  roster->devices = grown;
  if (index_reserve(roster) != 0)
    return NULL;
  ef_roster_device *device = calloc(1, sizeof(*device));
  if (device == NULL)
    return NULL;
  device->sn = strdup(sn);
  device->name = name != NULL ? strdup(name) : NULL;
  device->instance =
      instance_claim(roster->options.instances, name != NULL ? name : sn);
  if (device->sn == NULL || (name != NULL && device->name == NULL) ||
      device->instance == NULL) {
    if (device->instance != NULL)
      instance_release(roster->options.instances, device->instance);
    device_free(roster, device);
    return NULL;
  }
  ef_schedule_start(&device->schedule,
                    interval_ms ? interval_ms : roster->options.interval_ms,
                    now_ms);
  roster->devices[roster->len++] = device;
  *sn_slot(roster->by_sn, roster->by_sn_cap, device->sn) = device;
  return device;
}

ef_roster *ef_roster_new(const ef_roster_options *options,
                         const ef_roster_entry *configured, size_t n,
                         int64_t now_ms) {
  ef_roster *roster = calloc(1, sizeof(*roster));
  if (roster == NULL)
    return NULL;
  roster->options = *options;
  if (roster->options.instances == NULL) {
    roster->own_instances = ef_instances_new();
    if (roster->own_instances == NULL) {
      free(roster);
      return NULL;
    }
    roster->options.instances = roster->own_instances;
  }
  if (roster->options.discover)
    roster->options.use_list = 1;
  if (roster->options.refresh_ms <= 0)
    roster->options.refresh_ms = EF_ROSTER_DEFAULT_REFRESH_MS;
  roster->list_next_ms = now_ms;
  roster->list_retry_ms = EF_ROSTER_LIST_RETRY_MS;
  for (size_t i = 0; i < n; i++) {
    ef_roster_device *device =
        device_add(roster, configured[i].sn, configured[i].name,
                   configured[i].interval_ms, now_ms);
    if (device == NULL) {
      ef_roster_free(roster);
      return NULL;
    }
    device->configured = 1;
    device->quotas = configured[i].quotas;
    device->n_quotas = configured[i].n_quotas;
    device->config = configured[i].config;
  }
  return roster;
}

void ef_roster_free(ef_roster *roster) {
  if (roster == NULL)
    return;
  for (size_t i = 0; i < roster->len; i++)
    device_free(roster, roster->devices[i]);
  free(roster->devices);
  free(roster->targets);
  free(roster->offline);
  free(roster->by_sn);
  ef_instances_free(roster->own_instances);
  free(roster);
}

size_t ef_roster_size(const ef_roster *roster) { return roster->len; }

ef_roster_device *ef_roster_device_at(const ef_roster *roster, size_t index) {
  return index < roster->len ? roster->devices[index] : NULL;
}

int ef_roster_refresh_due(const ef_roster *roster, int64_t now_ms) {
  return roster->options.use_list && now_ms >= roster->list_next_ms;
}

int ef_roster_list_failing(const ef_roster *roster) {
  return roster->list_health.failing;
}

ef_roster_device *ef_roster_find(const ef_roster *roster, const char *sn) {
  return roster->by_sn_cap == 0
             ? NULL
             : *sn_slot(roster->by_sn, roster->by_sn_cap, sn);
}

/* Replaces *field with a copy of text (NULL stays NULL); on a failed copy
 * the old text stays: a name is not worth losing the device over. */
static void replace_text(char **field, const char *text) {
  if (*field != NULL && text != NULL && strcmp(*field, text) == 0)
    return;
  char *copy = text != NULL ? strdup(text) : NULL;
  if (text != NULL && copy == NULL)
    return;
  free(*field);
  *field = copy;
}

static void tell(ef_roster_event_cb cb, void *ctx, ef_roster_event event,
                 ef_roster_device *device, const ef_error *error) {
  if (cb != NULL)
    cb(event, device, error, ctx);
}

/* What the list says of a device's names; a name it leaves out once (a
 * productName missing) stays what it was: a series keeps its tags. */
static void note_names(ef_roster_device *device,
                       const ef_listed_device *entry) {
  if (entry->name != NULL)
    replace_text(&device->listed_name, entry->name);
  if (entry->product != NULL)
    replace_text(&device->product, entry->product);
}

/* The list's word on one device: its names, and the edge of its online
 * flag. */
static void apply_entry(ef_roster_device *device, const ef_listed_device *entry,
                        int64_t now_ms, ef_roster_event_cb cb, void *ctx) {
  note_names(device, entry);
  ef_presence was = device->presence;
  device->presence = entry->online ? EF_PRESENCE_ONLINE : EF_PRESENCE_OFFLINE;
  if (device->presence == EF_PRESENCE_OFFLINE && was != EF_PRESENCE_OFFLINE) {
    tell(cb, ctx, EF_ROSTER_OFFLINE, device, NULL);
  } else if (device->presence == EF_PRESENCE_ONLINE &&
             was == EF_PRESENCE_OFFLINE) {
    /* Its last poll was skipped: the first fresh values should not wait
     * a whole interval. */
    device->schedule.next_ms = now_ms;
    tell(cb, ctx, EF_ROSTER_ONLINE, device, NULL);
  }
}

/* Drops discovered devices the list no longer has; configured ones only
 * lose their presence. */
static void drop_unlisted(ef_roster *roster, const ef_device_list *list,
                          ef_roster_event_cb cb, void *ctx) {
  size_t kept = 0;
  for (size_t i = 0; i < roster->len; i++) {
    ef_roster_device *device = roster->devices[i];
    if (ef_device_list_find(list, device->sn) != NULL) {
      roster->devices[kept++] = device;
    } else if (device->configured) {
      device->presence = EF_PRESENCE_UNKNOWN;
      roster->devices[kept++] = device;
    } else {
      tell(cb, ctx, EF_ROSTER_REMOVED, device, NULL);
      instance_release(roster->options.instances, device->instance);
      device_free(roster, device);
    }
  }
  roster->len = kept;
  index_rebuild(roster);
}

static void note_list_outcome(ef_roster *roster, const ef_error *err,
                              int64_t now_ms, ef_roster_event_cb cb,
                              void *ctx) {
  ef_health_event event = ef_health_update(&roster->list_health, err);
  if (err == NULL) {
    roster->list_next_ms = now_ms + roster->options.refresh_ms;
    roster->list_retry_ms = EF_ROSTER_LIST_RETRY_MS;
  } else {
    int64_t wait = roster->list_retry_ms < roster->options.refresh_ms
                       ? roster->list_retry_ms
                       : roster->options.refresh_ms;
    roster->list_next_ms = now_ms + wait;
    roster->list_retry_ms = 2 * wait;
  }
  if (event == EF_HEALTH_FAILED || event == EF_HEALTH_CHANGED)
    tell(cb, ctx, EF_ROSTER_LIST_FAILED, NULL, err);
  else if (event == EF_HEALTH_RECOVERED)
    tell(cb, ctx, EF_ROSTER_LIST_RECOVERED, NULL, NULL);
}

static int in_shard(const ef_roster_options *options, const char *sn) {
  return options->shard_count == 0 ||
         ef_serial_shard(sn, options->shard_count) == options->shard_index;
}

int ef_roster_keeps(const char *sn, void *ctx) {
  const ef_roster *roster = ctx;
  return ef_roster_find(roster, sn) != NULL ||
         (roster->options.discover && in_shard(&roster->options, sn));
}

int ef_roster_merge(ef_roster *roster, const ef_device_list *list,
                    const ef_error *err, int64_t now_ms, ef_roster_event_cb cb,
                    void *ctx) {
  if (err != NULL && err->kind == EF_OK)
    err = NULL;
  note_list_outcome(roster, err, now_ms, cb, ctx);
  if (err != NULL)
    return 0; /* what the last good list said still holds */
  if (roster->options.discover)
    drop_unlisted(roster, list, cb, ctx);
  else
    for (size_t i = 0; i < roster->len; i++)
      if (ef_device_list_find(list, roster->devices[i]->sn) == NULL)
        roster->devices[i]->presence = EF_PRESENCE_UNKNOWN;
  int status = 0;
  for (size_t i = 0; i < list->len; i++) {
    const ef_listed_device *entry = &list->items[i];
    ef_roster_device *device = ef_roster_find(roster, entry->sn);
    if (device == NULL && roster->options.discover &&
        in_shard(&roster->options, entry->sn)) {
      device = device_add(roster, entry->sn, NULL, 0, now_ms);
      if (device == NULL) {
        status = -1;
        continue;
      }
      note_names(device, entry);
      tell(cb, ctx, EF_ROSTER_ADDED, device, NULL);
      if (strcmp(device->instance, entry->sn) != 0)
        tell(cb, ctx, EF_ROSTER_INSTANCE_TAKEN, device, NULL);
    }
    if (device != NULL)
      apply_entry(device, entry, now_ms, cb, ctx);
  }
  return status;
}

int ef_roster_refresh(ef_roster *roster, ef_client *client, int64_t now_ms,
                      ef_roster_event_cb cb, void *ctx) {
  if (!ef_roster_refresh_due(roster, now_ms))
    return 0;
  ef_device_list list = {0};
  ef_error err;
  int listed = ef_discover(client, &list, &err) == 0;
  int status =
      ef_roster_merge(roster, &list, listed ? NULL : &err, now_ms, cb, ctx);
  ef_device_list_clear(&list);
  return status == 0 ? 1 : -1;
}

static int reserve_round(ef_roster *roster) {
  if (roster->round_cap >= roster->len)
    return 0;
  size_t cap = roster->cap;
  ef_poll_target *targets = realloc(roster->targets, cap * sizeof(*targets));
  if (targets != NULL)
    roster->targets = targets;
  ef_roster_device **offline = realloc(roster->offline, cap * sizeof(*offline));
  if (offline != NULL)
    roster->offline = offline;
  if (targets == NULL || offline == NULL)
    return -1;
  roster->round_cap = cap;
  return 0;
}

int ef_roster_round_start(ef_roster *roster, int64_t now_ms,
                          ef_roster_round *round) {
  *round = (ef_roster_round){0};
  if (reserve_round(roster) != 0)
    return -1;
  size_t n_targets = 0, n_offline = 0;
  for (size_t i = 0; i < roster->len; i++) {
    ef_roster_device *device = roster->devices[i];
    if (!ef_schedule_due(&device->schedule, now_ms))
      continue;
    if (device->presence == EF_PRESENCE_OFFLINE) {
      /* Not a failure: no back-off, and its health stays as it was. */
      device->schedule.next_ms = now_ms + device->schedule.interval_ms;
      roster->offline[n_offline++] = device;
      continue;
    }
    roster->targets[n_targets++] =
        (ef_poll_target){.sn = device->sn,
                         .quotas = device->quotas,
                         .n_quotas = device->n_quotas,
                         .user = device};
  }
  *round = (ef_roster_round){.targets = roster->targets,
                             .n_targets = n_targets,
                             .offline = roster->offline,
                             .n_offline = n_offline};
  return 0;
}

ef_health_event ef_roster_settle(ef_roster_device *device, const ef_error *err,
                                 int64_t now_ms) {
  if (err != NULL && err->kind == EF_OK)
    err = NULL;
  ef_schedule_record(&device->schedule, err, now_ms);
  return ef_health_update(&device->health, err);
}

const char *ef_roster_wanted_instance(const ef_roster_device *device) {
  return device->name != NULL ? device->name : device->sn;
}

const char *ef_roster_device_name(const ef_roster_device *device) {
  return device->name != NULL ? device->name : device->listed_name;
}

/* How long the server's Retry-After makes the device wait, said once
 * with its failure: a long silence must not go without a word, nor a
 * request for a longer one go unnoticed when it is cut short. */
static void explain_wait(const ef_error *err, char *out, size_t size) {
  out[0] = '\0';
  if (err->retry_after_s <= 0 || err->kind == EF_ERR_PAUSED)
    return;
  if (err->retry_after_asked_s > err->retry_after_s)
    snprintf(out, size,
             "; the server asks to wait %ld s (Retry-After): it waits %ld s, "
             "the longest it honours, before asking again",
             err->retry_after_asked_s, err->retry_after_s);
  else
    snprintf(out, size,
             "; the server asks to wait %ld s (Retry-After): not asked again "
             "before",
             err->retry_after_s);
}

void ef_roster_explain(const ef_error *err, int schedule_kept, char *out,
                       size_t size) {
  char text[EF_ERROR_MESSAGE_LEN + 64], wait[160];
  ef_error_format(err, text, sizeof(text));
  explain_wait(err, wait, sizeof(wait));
  const char *advice = ef_error_advice(err);
  snprintf(out, size, "%s%s%s%s%s", text, advice ? "; " : "",
           advice ? advice : "", wait,
           schedule_kept && ef_schedule_refused(err)
               ? "; re-tried every hour, not every interval"
               : "");
}

int ef_roster_quota_valid(const char *quota) {
  size_t len = strlen(quota);
  if (len == 0 || len > QUOTA_NAME_MAX)
    return 0;
  for (const char *c = quota; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && strchr("_.-[]", *c) == NULL)
      return 0;
  return 1;
}
