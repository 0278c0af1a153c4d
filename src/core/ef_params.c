/* ef_params.c: flattening and sorting of signed request parameters. */
#include "ef_params.h"

#include "ef_grow.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ef_params_add(ef_params *params, const char *key, const char *value) {
  ef_param *items =
      ef_grown(params->items, &params->cap, params->len + 1, sizeof(*items), 8);
  if (items == NULL)
    return -1;
  params->items = items;
  char *k = strdup(key);
  char *v = strdup(value);
  if (k == NULL || v == NULL) {
    free(k);
    free(v);
    return -1;
  }
  params->items[params->len++] = (ef_param){.key = k, .value = v};
  return 0;
}

/* The signature writes a value as its JSON text, except that strings go
 * raw: no quotes, no escaping. */
static const char *value_text(struct json_object *value) {
  if (value == NULL)
    return "null";
  if (json_object_is_type(value, json_type_string))
    return json_object_get_string(value);
  return json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
}

static int add_flattened(ef_params *params, const char *prefix,
                         struct json_object *value) {
  if (json_object_is_type(value, json_type_object)) {
    json_object_object_foreach(value, key, child) {
      char *path = NULL;
      if (prefix[0] == '\0')
        path = strdup(key);
      else if (asprintf(&path, "%s.%s", prefix, key) < 0)
        path = NULL;
      if (path == NULL)
        return -1;
      int status = add_flattened(params, path, child);
      free(path);
      if (status != 0)
        return status;
    }
    return 0;
  }
  if (json_object_is_type(value, json_type_array)) {
    size_t n = json_object_array_length(value);
    for (size_t i = 0; i < n; i++) {
      char *path = NULL;
      if (asprintf(&path, "%s[%zu]", prefix, i) < 0)
        return -1;
      int status =
          add_flattened(params, path, json_object_array_get_idx(value, i));
      free(path);
      if (status != 0)
        return status;
    }
    return 0;
  }
  return ef_params_add(params, prefix, value_text(value));
}

int ef_params_add_json(ef_params *params, struct json_object *body) {
  if (!json_object_is_type(body, json_type_object))
    return -1;
  return add_flattened(params, "", body);
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const ef_param *)a)->key, ((const ef_param *)b)->key);
}

void ef_params_sort(ef_params *params) {
  if (params->len > 1)
    qsort(params->items, params->len, sizeof(*params->items), by_key);
}

void ef_params_clear(ef_params *params) {
  for (size_t i = 0; i < params->len; i++) {
    free(params->items[i].key);
    free(params->items[i].value);
  }
  free(params->items);
  *params = (ef_params){0};
}
