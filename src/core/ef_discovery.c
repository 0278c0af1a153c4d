/* ef_discovery.c: GET device/list into a plain list. */
#include "ef_discovery.h"

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
  return strdup(json_object_get_string(value));
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

static void add_device(ef_device_list *list, struct json_object *entry) {
  if (!json_object_is_type(entry, json_type_object))
    return;
  char *sn = string_member(entry, "sn");
  if (sn == NULL || sn[0] == '\0') {
    free(sn);
    return; /* an entry without a serial number names nothing to poll */
  }
  ef_listed_device *device = &list->items[list->len++];
  *device = (ef_listed_device){.sn = sn,
                               .name = string_member(entry, "deviceName"),
                               .product = string_member(entry, "productName"),
                               .online = online_member(entry)};
}

static void on_answer(const ef_answer *answer, void *ctx) {
  discovery *d = ctx;
  if (answer->error.kind != EF_OK) {
    *d->err = answer->error;
    return;
  }
  if (answer->data == NULL)
    return;
  if (!json_object_is_type(answer->data, json_type_array)) {
    ef_error_set(d->err, EF_ERR_PARSE, "device list \"data\" is %s, not a list",
                 json_type_to_name(json_object_get_type(answer->data)));
    d->err->http_status = 200;
    return;
  }
  size_t n = json_object_array_length(answer->data);
  d->list->items = calloc(n ? n : 1, sizeof(*d->list->items));
  if (d->list->items == NULL) {
    ef_error_set(d->err, EF_ERR_INTERNAL, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++)
    add_device(d->list, json_object_array_get_idx(answer->data, i));
}

int ef_discover(ef_client *client, ef_device_list *list, ef_error *err) {
  ef_device_list_clear(list);
  memset(err, 0, sizeof(*err));
  ef_request request = {.method = EF_METHOD_GET, .path = PATH_DEVICE_LIST};
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
  for (size_t i = 0; i < list->len; i++)
    if (strcmp(list->items[i].sn, sn) == 0)
      return &list->items[i];
  return NULL;
}

void ef_device_list_clear(ef_device_list *list) {
  for (size_t i = 0; i < list->len; i++) {
    free(list->items[i].sn);
    free(list->items[i].name);
    free(list->items[i].product);
  }
  free(list->items);
  *list = (ef_device_list){0};
}
