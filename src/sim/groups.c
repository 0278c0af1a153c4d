/* groups.c: flat keys to nested groups. */
#include "groups.h"

#include <json-c/json.h>
#include <string.h>

/* The length of path's group name. */
static size_t group_length(const char *path) {
  const char *dot = strchr(path, '.');
  return dot != NULL ? (size_t)(dot - path) : strlen(path);
}

bool sim_group_has(const char *group, const char *path) {
  size_t len = group_length(path);
  return strlen(group) == len && strncmp(group, path, len) == 0;
}

bool sim_group_add(struct json_object *out, struct json_object *flat,
                   const char *group) {
  struct json_object *value = NULL;
  if (json_object_object_get_ex(flat, group, &value)) {
    json_object_object_add(out, group, json_object_get(value));
    return true;
  }
  size_t len = strlen(group);
  struct json_object *nested = NULL;
  json_object_object_foreach(flat, key, item) {
    if (strncmp(key, group, len) != 0 || key[len] != '.')
      continue;
    if (nested == NULL && (nested = json_object_new_object()) == NULL)
      return false;
    json_object_object_add(nested, key + len + 1, json_object_get(item));
  }
  if (nested == NULL)
    return false;
  json_object_object_add(out, group, nested);
  return true;
}

static bool listed(struct json_object *names, const char *name, size_t len) {
  size_t count = json_object_array_length(names);
  for (size_t i = 0; i < count; i++) {
    const char *seen =
        json_object_get_string(json_object_array_get_idx(names, i));
    if (strlen(seen) == len && strncmp(seen, name, len) == 0)
      return true;
  }
  return false;
}

struct json_object *sim_groups_of(struct json_object *flat) {
  struct json_object *names = json_object_new_array();
  json_object_object_foreach(flat, key, value) {
    (void)value;
    size_t len = group_length(key);
    if (names != NULL && !listed(names, key, len))
      json_object_array_add(names, json_object_new_string_len(key, (int)len));
  }
  return names;
}
