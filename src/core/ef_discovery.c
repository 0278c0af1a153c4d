/* ef_discovery.c: GET device/list into a plain list. */
#include "ef_discovery.h"
#include "ef_account.h"
#include "ef_grow.h"
#include "ef_text.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define PATH_DEVICE_LIST "/iot-open/sign/device/list"

typedef struct {
  ef_device_list *list;
  ef_error *err;
} discovery;

static char *string_member(struct json_object *object, const char *key) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(object, key, &value) ||
      !json_object_is_type(value, json_type_string))
    return NULL;
  return ef_text_clean_dup(json_object_get_string(value));
}

/* The serial number as it goes into requests: raw, and only when valid. */
static const char *serial_member(struct json_object *object) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(object, "sn", &value) ||
      !json_object_is_type(value, json_type_string) ||
      (size_t)json_object_get_string_len(value) !=
          strlen(json_object_get_string(value)) ||
      !ef_serial_valid(json_object_get_string(value)))
    return NULL;
  return json_object_get_string(value);
}

/* online is 0|1 in the wild; accept a boolean or "1" too. */
static int online_member(struct json_object *object) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(object, "online", &value))
    return 0;
  if (json_object_is_type(value, json_type_string))
    return strcmp(json_object_get_string(value), "1") == 0;
  return json_object_get_int(value) != 0;
}

static void free_entry(ef_listed_device *entry) {
  free(entry->sn);
  free(entry->name);
  free(entry->product);
}

static void clear_entries(ef_device_list *list) {
  for (size_t i = 0; i < list->len; i++)
    free_entry(&list->items[i]);
  free(list->items);
  free(list->by_sn);
  *list = (ef_device_list){.keep = list->keep, .keep_ctx = list->keep_ctx};
}

/* Room for one more entry: 0, or -1 when out of memory. */
static int reserve_entry(ef_device_list *list) {
  ef_listed_device *grown =
      ef_grown(list->items, &list->room, list->len + 1, sizeof(*grown), 64);
  if (grown == NULL)
    return -1;
  list->items = grown;
  return 0;
}

/* One entry of the answer, as it is parsed (ef_envelope_item_cb), or the
 * list starting again. An entry without a valid serial number names
 * nothing to poll: counted, left out; one keep does not want is counted
 * as another's. Returns -1 when out of memory. */
static int add_device(int restart, struct json_object *entry, void *ctx) {
  ef_device_list *list = ctx;
  if (restart) {
    clear_entries(list);
    return 0;
  }
  const char *sn = json_object_is_type(entry, json_type_object)
                       ? serial_member(entry)
                       : NULL;
  if (sn == NULL) {
    list->skipped++;
    return 0;
  }
  if (list->keep != NULL && !list->keep(sn, list->keep_ctx)) {
    list->others++;
    return 0;
  }
  if (reserve_entry(list) != 0)
    return -1;
  ef_listed_device *device = &list->items[list->len];
  *device = (ef_listed_device){.sn = strdup(sn),
                               .name = string_member(entry, "deviceName"),
                               .product = string_member(entry, "productName"),
                               .online = online_member(entry)};
  if (device->sn == NULL) {
    free(device->name);
    free(device->product);
    return -1;
  }
  list->len++;
  return 0;
}

static const ef_device_list *sorting; /* qsort has no context argument */

static int by_sn_then_position(const void *a, const void *b) {
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  int order = strcmp(sorting->items[i].sn, sorting->items[j].sn);
  return order != 0 ? order : (i > j) - (i < j);
}

static void sort_by_sn(ef_device_list *list) {
  for (size_t i = 0; i < list->len; i++)
    list->by_sn[i] = i;
  sorting = list;
  qsort(list->by_sn, list->len, sizeof(*list->by_sn), by_sn_then_position);
}

/* Builds by_sn; of entries with the same serial number only the first is
 * kept: two devices must not become one series. */
static int index_by_sn(ef_device_list *list) {
  list->by_sn = calloc(list->len ? list->len : 1, sizeof(*list->by_sn));
  if (list->by_sn != NULL && list->len < 2) {
    list->by_sn[0] = 0;
    return 0;
  }
  unsigned char *drop = calloc(list->len ? list->len : 1, 1);
  if (list->by_sn == NULL || drop == NULL) {
    free(drop);
    return -1;
  }
  sort_by_sn(list);
  size_t dropped = 0;
  for (size_t k = 1; k < list->len; k++)
    if (strcmp(list->items[list->by_sn[k]].sn,
               list->items[list->by_sn[k - 1]].sn) == 0) {
      drop[list->by_sn[k]] = 1; /* the later of the two: sorted by position */
      dropped++;
    }
  if (dropped > 0) {
    size_t kept = 0;
    for (size_t i = 0; i < list->len; i++) {
      if (drop[i])
        free_entry(&list->items[i]);
      else
        list->items[kept++] = list->items[i];
    }
    list->len = kept;
    list->skipped += dropped;
    sort_by_sn(list);
  }
  free(drop);
  return 0;
}

#define TEXT_OF(x) #x
#define NUMBER_TEXT(x) TEXT_OF(x)

static const ef_answer_cap list_cap = {
    .max_body = EF_DEVICE_LIST_MAX_BODY,
    .what = "a device list (room for " NUMBER_TEXT(EF_DEVICE_LIST_MAX_DEVICES) " devices of " NUMBER_TEXT(
        EF_DEVICE_LIST_ENTRY_BYTES) " bytes each)"};

void ef_discovery_request(ef_request *request, ef_device_list *list) {
  *request = (ef_request){.method = EF_METHOD_GET,
                          .path = PATH_DEVICE_LIST,
                          .user = request->user,
                          .cap = &list_cap,
                          .items = add_device,
                          .items_ctx = list};
}

int ef_discovery_parse(const ef_answer *answer, ef_device_list *list,
                       ef_error *err) {
  *err = answer->error;
  if (err->kind == EF_OK && index_by_sn(list) != 0)
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
  if (err->kind != EF_OK) {
    clear_entries(list);
    return -1;
  }
  return 0;
}

static void on_answer(const ef_answer *answer, void *ctx) {
  discovery *d = ctx;
  ef_discovery_parse(answer, d->list, d->err);
}

int ef_discover(ef_client *client, ef_device_list *list, ef_error *err) {
  ef_device_list_clear(list);
  memset(err, 0, sizeof(*err));
  ef_request request = {0};
  ef_discovery_request(&request, list);
  discovery d = {.list = list, .err = err};
  ef_error batch_err;
  if (ef_client_run(client, &request, 1, on_answer, &d, &batch_err) != 0)
    *err = batch_err;
  if (err->kind != EF_OK) {
    ef_device_list_clear(list);
    return -1;
  }
  return 0;
}

const ef_listed_device *ef_device_list_find(const ef_device_list *list,
                                            const char *sn) {
  if (list->by_sn == NULL) {
    for (size_t i = 0; i < list->len; i++)
      if (strcmp(list->items[i].sn, sn) == 0)
        return &list->items[i];
    return NULL;
  }
  size_t low = 0, high = list->len;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    const ef_listed_device *entry = &list->items[list->by_sn[middle]];
    int order = strcmp(entry->sn, sn);
    if (order == 0)
      return entry;
    if (order < 0)
      low = middle + 1;
    else
      high = middle;
  }
  return NULL;
}

void ef_device_list_clear(ef_device_list *list) { clear_entries(list); }
