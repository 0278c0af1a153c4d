/* ef_params.h: the flat key=value parameter list that the EcoFlow signature
 * is computed over.
 *
 * Promises: a JSON request body flattens exactly as the API signs it
 * (nested keys joined with '.', list items as key[i], values as their JSON
 * text, strings raw), and the list sorts in plain byte order. */
#ifndef EF_PARAMS_H
#define EF_PARAMS_H

#include <stddef.h>

struct json_object;

typedef struct {
  char *key;
  char *value;
} ef_param;

typedef struct {
  ef_param *items;
  size_t len;
  size_t cap;
} ef_params;

/* Appends a copy of key and value. Returns 0, or -1 when out of memory. */
int ef_params_add(ef_params *params, const char *key, const char *value);

/* Appends every leaf of a JSON object (a request body), flattened.
 * Returns 0, or -1 when out of memory or when body is not an object. */
int ef_params_add_json(ef_params *params, struct json_object *body);

/* Sorts by key in byte order (the order the signature requires). */
void ef_params_sort(ef_params *params);

/* Frees every entry; the list can be reused afterwards. */
void ef_params_clear(ef_params *params);

#endif
