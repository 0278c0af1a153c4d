/* ef_sample.c: API data (flat, nested or mixed) into typed samples by path. */
#include "ef_sample.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON text inside a string is expanded at most this deep: the cloud nests
 * one level (bp_addr.<packSN>); more is a broken or hostile answer. */
#define MAX_EMBEDDED_DEPTH 2
/* A list sample's text is cut here: huge arrays must not become huge log
 * lines or line-protocol fields. */
#define MAX_LIST_TEXT 1024

static void sample_free(ef_sample *sample) {
  free(sample->path);
  free(sample->text);
}

void ef_samples_clear(ef_samples *samples) {
  for (size_t i = 0; i < samples->len; i++)
    sample_free(&samples->items[i]);
  free(samples->items);
  *samples = (ef_samples){0};
}

const ef_sample *ef_samples_find(const ef_samples *samples, const char *path) {
  for (size_t i = 0; i < samples->len; i++)
    if (strcmp(samples->items[i].path, path) == 0)
      return &samples->items[i];
  return NULL;
}

/* Takes ownership of path and text. */
static int append(ef_samples *samples, char *path, ef_kind kind, double number,
                  int64_t integer, char *text) {
  if (path == NULL || text == NULL)
    goto fail;
  if (samples->len == samples->cap) {
    size_t cap = samples->cap ? samples->cap * 2 : 64;
    ef_sample *items = realloc(samples->items, cap * sizeof(*items));
    if (items == NULL)
      goto fail;
    samples->items = items;
    samples->cap = cap;
  }
  samples->items[samples->len++] = (ef_sample){.path = path,
                                               .kind = kind,
                                               .number = number,
                                               .integer = integer,
                                               .text = text};
  return 0;
fail:
  free(path);
  free(text);
  return -1;
}

int ef_samples_put(ef_samples *samples, const ef_sample *sample) {
  char *text = strdup(sample->text ? sample->text : "");
  for (size_t i = 0; i < samples->len; i++) {
    ef_sample *old = &samples->items[i];
    if (strcmp(old->path, sample->path) != 0)
      continue;
    if (text == NULL)
      return -1;
    free(old->text);
    *old = (ef_sample){.path = old->path,
                       .kind = sample->kind,
                       .number = sample->number,
                       .integer = sample->integer,
                       .text = text};
    return 0;
  }
  return append(samples, strdup(sample->path), sample->kind, sample->number,
                sample->integer, text);
}

static int is_scalar(struct json_object *value) {
  return !json_object_is_type(value, json_type_object) &&
         !json_object_is_type(value, json_type_array);
}

/* Keys with surrounding blanks exist in the reference (" chargingStatus"). */
static char *join_key(const char *prefix, const char *key) {
  while (isspace((unsigned char)*key))
    key++;
  size_t key_len = strlen(key);
  while (key_len > 0 && isspace((unsigned char)key[key_len - 1]))
    key_len--;
  char *path = NULL;
  if (asprintf(&path, "%s%s%.*s", prefix, prefix[0] ? "." : "", (int)key_len,
               key) < 0)
    return NULL;
  return path;
}

static char *join_index(const char *prefix, size_t index) {
  char *path = NULL;
  if (asprintf(&path, "%s[%zu]", prefix, index) < 0)
    return NULL;
  return path;
}

static int add_value(ef_samples *samples, char *path, struct json_object *value,
                     int depth);

static int add_object(ef_samples *samples, const char *prefix,
                      struct json_object *object, int depth) {
  int status = 0;
  json_object_object_foreach(object, key, child) {
    if (add_value(samples, join_key(prefix, key), child, depth) != 0)
      status = -1;
  }
  return status;
}

static int add_list(ef_samples *samples, char *path, struct json_object *list) {
  size_t n = json_object_array_length(list);
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (out == NULL) {
    free(path);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    struct json_object *item = json_object_array_get_idx(list, i);
    const char *item_text = item ? json_object_get_string(item) : "null";
    if (ftell(out) + strlen(item_text) + 4 > MAX_LIST_TEXT) {
      fputs(",...", out);
      break;
    }
    fprintf(out, "%s%s", i ? "," : "", item_text);
  }
  if (fclose(out) != 0) {
    free(text);
    text = NULL;
  }
  return append(samples, path, EF_KIND_LIST, (double)n, (int64_t)n, text);
}

static int add_array(ef_samples *samples, char *path, struct json_object *array,
                     int depth) {
  size_t n = json_object_array_length(array);
  int all_scalars = 1;
  for (size_t i = 0; i < n && all_scalars; i++)
    all_scalars = is_scalar(json_object_array_get_idx(array, i));
  if (all_scalars)
    return add_list(samples, path, array);
  int status = 0;
  /* Each item becomes series of its own downstream (a collectd type
   * instance, an RRD file): a huge array is a broken answer, not that
   * many strings or packs. */
  if (n > EF_MAX_ARRAY_ITEMS)
    n = EF_MAX_ARRAY_ITEMS;
  for (size_t i = 0; i < n; i++)
    if (add_value(samples, join_index(path, i),
                  json_object_array_get_idx(array, i), depth) != 0)
      status = -1;
  free(path);
  return status;
}

/* A string holding a JSON object or array is expanded below its key; when
 * the embedded text is broken, the caller keeps the string as it is. */
static int add_embedded(ef_samples *samples, const char *path, const char *text,
                        int depth) {
  while (isspace((unsigned char)*text))
    text++;
  if ((*text != '{' && *text != '[') || depth >= MAX_EMBEDDED_DEPTH)
    return 1;
  struct json_object *embedded = json_tokener_parse(text);
  if (embedded == NULL || is_scalar(embedded)) {
    json_object_put(embedded);
    return 1;
  }
  int status = json_object_is_type(embedded, json_type_object)
                   ? add_object(samples, path, embedded, depth + 1)
                   : add_array(samples, strdup(path), embedded, depth + 1);
  json_object_put(embedded);
  return status;
}

/* Takes ownership of path. */
static int add_value(ef_samples *samples, char *path, struct json_object *value,
                     int depth) {
  if (path == NULL)
    return -1;
  switch (json_object_get_type(value)) {
  case json_type_null:
    free(path);
    return 0;
  case json_type_object: {
    int status = add_object(samples, path, value, depth);
    free(path);
    return status;
  }
  case json_type_array:
    return add_array(samples, path, value, depth);
  case json_type_boolean: {
    int truth = json_object_get_boolean(value) ? 1 : 0;
    return append(samples, path, EF_KIND_BOOL, truth, truth,
                  strdup(truth ? "true" : "false"));
  }
  case json_type_int:
    return append(
        samples, path, EF_KIND_INTEGER, (double)json_object_get_int64(value),
        json_object_get_int64(value), strdup(json_object_get_string(value)));
  case json_type_double:
    return append(samples, path, EF_KIND_NUMBER, json_object_get_double(value),
                  0, strdup(json_object_get_string(value)));
  case json_type_string: {
    const char *text = json_object_get_string(value);
    int status = add_embedded(samples, path, text, depth);
    if (status <= 0) {
      free(path);
      return status;
    }
    return append(samples, path, EF_KIND_STRING, 0, 0, strdup(text));
  }
  }
  free(path);
  return 0;
}

int ef_samples_add_json(ef_samples *samples, struct json_object *data) {
  if (!json_object_is_type(data, json_type_object))
    return -1;
  return add_object(samples, "", data, 0);
}

int ef_samples_add_text(ef_samples *samples, const char *json_text) {
  struct json_object *data = json_tokener_parse(json_text);
  int status = ef_samples_add_json(samples, data);
  json_object_put(data);
  return status;
}
