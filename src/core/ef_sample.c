/* ef_sample.c: API data (flat, nested or mixed) walked value by value. */
#include "ef_sample.h"

#include "ef_catalog.h"
#include "ef_copy.h"
#include "ef_hash.h"
#include "ef_inline.h"
#include "ef_number.h"
#include "ef_path_hash.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON text inside a string is expanded at most this deep: the cloud nests
 * one level (bp_addr.<packSN>); more is a broken or hostile answer. */
#define MAX_EMBEDDED_DEPTH 2
/* A list kept whole is cut here: huge arrays must not become huge log
 * lines or line-protocol fields. */
#define MAX_LIST_TEXT 1024

/* ---- the walk ------------------------------------------------------------
 */

/* The paths a walk handed out, by 64-bit hash (open addressing): a path
 * the answer holds twice (flat "a.b" next to nested {"a":{"b"}}) is handed
 * out once, the first time, so that no front end gets two values of one
 * name in one reading. A slot belongs to the walk of its number; any other
 * is empty: the table is kept from walk to walk and never cleared. */
typedef struct {
  uint64_t hash;
  uint32_t walk;
} seen_path;

typedef struct {
  seen_path *slots;
  size_t cap, used;
  uint32_t walk; /* this walk's number, never 0 */
} seen_paths;

/* A walk's table of paths starts with at most this many slots, however
 * many values the top level holds (a cloud's flood of keys). */
#define EF_WALK_SEEN_START_MAX 4096

typedef struct {
  ef_leaf_cb cb;
  void *ctx;
  size_t cut;
  size_t parent_len;      /* of the string whose JSON text is walked, or 0 */
  uint64_t parent_serial; /* that text's walk's number (ef_leaf), or 0 */
  size_t longest_text;    /* of the JSON texts in strings the tokener parsed */
  seen_paths *seen;
  struct json_tokener **tokener;   /* for JSON text in strings, once needed */
  char number[EF_NUMBER_TEXT_LEN]; /* an integer's text */
  /* Room past the longest path for the last word's load (ef_path_hash.h):
   * initialized with the walk, so such a load reads defined bytes. */
  char path[EF_PATH_MAX + 8];
} walk;

struct ef_walker {
  seen_paths seen;
  struct json_tokener *tokener;
  int walking;
  walk w;
};

/* Where the walk is: the path's length and hash (ef_path_hash.h), with
 * the words state carried down so that each value hashes its last
 * segment only. */
typedef struct {
  size_t len;
  uint64_t words;
  uint64_t hash;
} walk_at;

#define TOP ((walk_at){.len = 0, .words = ef_path_basis()})

static seen_path *seen_slot(const seen_paths *seen, uint64_t hash) {
  size_t mask = seen->cap - 1;
  for (size_t at = (size_t)hash & mask;; at = (at + 1) & mask)
    if (seen->slots[at].walk != seen->walk || seen->slots[at].hash == hash)
      return &seen->slots[at];
}

/* Gives seen cap slots (a power of two, more than it holds): 0, or -1
 * when memory runs out (seen is then as it was). */
static int seen_resize(seen_paths *seen, size_t cap) {
  seen_path *slots = calloc(cap, sizeof(*slots));
  if (slots == NULL)
    return -1;
  seen_paths grown = {
      .slots = slots, .cap = cap, .used = seen->used, .walk = seen->walk};
  for (size_t i = 0; i < seen->cap; i++)
    if (seen->slots[i].walk == seen->walk)
      *seen_slot(&grown, seen->slots[i].hash) = seen->slots[i];
  free(seen->slots);
  *seen = grown;
  return 0;
}

/* An empty table for the next walk, with room for room paths when memory
 * allows (it grows as it fills). */
static void seen_begin(seen_paths *seen, size_t room) {
  seen->used = 0;
  if (++seen->walk == 0) { /* numbers run out: every slot made empty */
    if (seen->slots != NULL)
      memset(seen->slots, 0, seen->cap * sizeof(*seen->slots));
    seen->walk = 1;
  }
  if (seen->cap < room)
    seen_resize(seen, room);
}

/* 1 when the walk handed out the path of hash before; else remembers it.
 * When memory runs out, paths are no longer told apart (handed out as
 * they come). */
EF_HOT int seen_before(seen_paths *seen, uint64_t hash) {
  if (seen->used + 1 > seen->cap / 2 &&
      seen_resize(seen, seen->cap ? 2 * seen->cap : 64) != 0)
    return 0;
  seen_path *slot = seen_slot(seen, hash);
  if (slot->walk == seen->walk)
    return 1;
  *slot = (seen_path){.hash = hash, .walk = seen->walk};
  seen->used++;
  return 0;
}

static int is_scalar(struct json_object *value) {
  return !json_object_is_type(value, json_type_object) &&
         !json_object_is_type(value, json_type_array);
}

/* The path extended by the len bytes written at its end. */
EF_HOT walk_at extended(const walk *w, walk_at from, size_t len) {
  size_t to = from.len + len;
  uint64_t words = ef_path_words(from.words, w->path, from.len, to);
  return (walk_at){
      .len = to,
      .words = words,
      .hash = ef_path_end(words, ef_path_tail_padded(w->path, to), to)};
}

/* White space as the C locale has it, whatever locale the program runs
 * in: every key of every reading is trimmed by it. */
static const unsigned char blank_bytes[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1};

static int is_blank(char c) { return blank_bytes[(unsigned char)c]; }

/* Appends ".key" (trimmed; without the dot at the top) or "[index]" to the
 * path at from; where it then ends (length 0 when it does not fit). */
EF_HOT walk_at join_key(walk *w, walk_at from, const char *key) {
  while (is_blank(*key))
    key++;
  size_t key_len = strlen(key);
  while (key_len > 0 && is_blank(key[key_len - 1]))
    key_len--;
  size_t dot = from.len > 0;
  if (from.len + dot + key_len + 1 > EF_PATH_MAX)
    return TOP;
  if (dot)
    w->path[from.len] = '.';
  ef_copy(w->path + from.len + dot, key, key_len);
  w->path[from.len + dot + key_len] = '\0';
  return extended(w, from, dot + key_len);
}

EF_HOT walk_at join_index(walk *w, walk_at from, size_t index) {
  char digits[EF_NUMBER_TEXT_LEN];
  size_t n = (size_t)ef_int_text((int64_t)index, digits);
  if (from.len + n + 3 > EF_PATH_MAX)
    return TOP;
  char *end = w->path + from.len;
  *end = '[';
  memcpy(end + 1, digits, n);
  end[n + 1] = ']';
  end[n + 2] = '\0';
  return extended(w, from, n + 2);
}

EF_HOT void emit(walk *w, walk_at path, ef_kind kind, double number,
                 int64_t integer, const char *text, size_t text_len) {
  if (seen_before(w->seen, path.hash)) {
    w->cut++;
    return;
  }
  ef_leaf leaf = {.kind = kind,
                  .number = number,
                  .integer = integer,
                  .text = text,
                  .text_len = text_len,
                  .path_len = path.len,
                  .path_hash = path.hash,
                  .parent_len = w->parent_len,
                  .parent_serial = w->parent_serial};
  w->cb(w->path, &leaf, w->ctx);
}

static void walk_value(walk *w, walk_at path, struct json_object *value,
                       int depth);

static void walk_object(walk *w, walk_at path, struct json_object *object,
                        int depth) {
  json_object_object_foreach(object, key, child) {
    walk_at child_path = join_key(w, path, key);
    if (child_path.len == 0) {
      w->cut++;
      continue;
    }
    walk_value(w, child_path, child, depth);
    w->path[path.len] = '\0';
  }
}

/* A list kept whole: its items' text joined with ','. */
static void emit_list(walk *w, walk_at path, struct json_object *list) {
  size_t n = json_object_array_length(list);
  char text[MAX_LIST_TEXT + 8];
  size_t used = 0;
  text[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    struct json_object *item = json_object_array_get_idx(list, i);
    const char *item_text = item ? json_object_get_string(item) : "null";
    size_t item_len = strlen(item_text);
    if (used + item_len + 5 > MAX_LIST_TEXT) {
      memcpy(text + used, ",...", 5);
      break;
    }
    if (i > 0)
      text[used++] = ',';
    memcpy(text + used, item_text, item_len + 1);
    used += item_len;
  }
  emit(w, path, EF_KIND_LIST, (double)n, (int64_t)n, text, 0);
}

static void walk_array(walk *w, walk_at path, struct json_object *array,
                       int depth) {
  size_t n = json_object_array_length(array);
  int numbers = n > 0, scalars = 1;
  /* One look at each item's type (a pack's cells and sensors are lists
   * of numbers: every reading passes here). */
  for (size_t i = 0; i < n && scalars; i++) {
    enum json_type type =
        json_object_get_type(json_object_array_get_idx(array, i));
    numbers = numbers && (type == json_type_int || type == json_type_double);
    scalars = type != json_type_object && type != json_type_array;
  }
  /* Lists of codes, of words, and empty lists: one value. */
  if (scalars &&
      (!numbers || ef_catalog_keeps_list(w->path, path.len, path.hash))) {
    emit_list(w, path, array);
    return;
  }
  /* Each item becomes a series of its own downstream (a collectd type
   * instance, an RRD file): a huge array is a broken answer. */
  if (n > EF_MAX_ARRAY_ITEMS) {
    w->cut += n - EF_MAX_ARRAY_ITEMS;
    n = EF_MAX_ARRAY_ITEMS;
  }
  for (size_t i = 0; i < n; i++) {
    walk_at item_path = join_index(w, path, i);
    if (item_path.len == 0) {
      w->cut++;
      continue;
    }
    walk_value(w, item_path, json_object_array_get_idx(array, i), depth);
    w->path[path.len] = '\0';
  }
}

/* The walks of JSON text in strings, numbered from 1 in a process. */
static atomic_uint_fast64_t next_parent_serial = 1;

/* A string holding a JSON object or array is expanded below its key;
 * returns 0 when it was, 1 when the string is to be kept as it is. */
static int walk_embedded(walk *w, walk_at path, const char *text,
                         size_t text_len, int depth) {
  while (is_blank(*text))
    text++;
  if ((*text != '{' && *text != '[') || depth >= MAX_EMBEDDED_DEPTH)
    return 1;
  /* As json_tokener_parse, with the walker's tokener. */
  if (*w->tokener == NULL && (*w->tokener = json_tokener_new()) == NULL)
    return 1;
  json_tokener_reset(*w->tokener);
  if (text_len > w->longest_text)
    w->longest_text = text_len;
  struct json_object *embedded = json_tokener_parse_ex(*w->tokener, text, -1);
  if (embedded != NULL &&
      json_tokener_get_error(*w->tokener) != json_tokener_success) {
    json_object_put(embedded);
    embedded = NULL;
  }
  if (embedded == NULL || is_scalar(embedded)) {
    json_object_put(embedded);
    return 1;
  }
  size_t outer_parent = w->parent_len;
  uint64_t outer_serial = w->parent_serial;
  w->parent_len = path.len;
  w->parent_serial = atomic_fetch_add(&next_parent_serial, 1);
  if (json_object_is_type(embedded, json_type_object))
    walk_object(w, path, embedded, depth + 1);
  else
    walk_array(w, path, embedded, depth + 1);
  w->parent_len = outer_parent;
  w->parent_serial = outer_serial;
  json_object_put(embedded);
  return 0;
}

static void walk_value(walk *w, walk_at path, struct json_object *value,
                       int depth) {
  switch (json_object_get_type(value)) {
  case json_type_null:
    return;
  case json_type_object:
    walk_object(w, path, value, depth);
    return;
  case json_type_array:
    walk_array(w, path, value, depth);
    return;
  case json_type_boolean: {
    int truth = json_object_get_boolean(value) ? 1 : 0;
    emit(w, path, EF_KIND_BOOL, truth, truth, truth ? "true" : "false", 0);
    return;
  }
  case json_type_int: {
    /* Written here: json-c would format it with printf, and keep it. */
    int64_t integer = json_object_get_int64(value);
    size_t len = (size_t)ef_int_text(integer, w->number);
    emit(w, path, EF_KIND_INTEGER, (double)integer, integer, w->number, len);
    return;
  }
  case json_type_double: {
    /* The parser keeps a double's own text as its userdata
     * (json_object_new_double_s); json_object_get_string would build a
     * copy of it for every value. */
    const char *text = json_object_get_userdata(value);
    emit(w, path, EF_KIND_NUMBER, json_object_get_double(value), 0,
         text != NULL ? text : json_object_get_string(value), 0);
    return;
  }
  case json_type_string: {
    const char *text = json_object_get_string(value);
    if (walk_embedded(w, path, text, (size_t)json_object_get_string_len(value),
                      depth) != 0)
      emit(w, path, EF_KIND_STRING, 0, 0, text, 0);
    return;
  }
  }
}

ef_walker *ef_walker_new(void) { return calloc(1, sizeof(ef_walker)); }

void ef_walker_free(ef_walker *walker) {
  if (walker == NULL)
    return;
  free(walker->seen.slots);
  if (walker->tokener != NULL)
    json_tokener_free(walker->tokener);
  free(walker);
}

int ef_walker_walk(ef_walker *walker, struct json_object *data, ef_leaf_cb cb,
                   void *ctx, size_t *cut) {
  if (walker == NULL || walker->walking)
    return ef_walk(data, cb, ctx, cut);
  if (!json_object_is_type(data, json_type_object))
    return -1;
  /* Room for twice the top level's values at once (a PowerOcean's packs
   * add more than one for each of theirs): the table seldom grows. */
  size_t room = 64;
  while (room < 4 * (size_t)json_object_object_length(data) &&
         room < EF_WALK_SEEN_START_MAX)
    room *= 2;
  seen_begin(&walker->seen, room);
  walk *w = &walker->w;
  *w = (walk){
      .cb = cb, .ctx = ctx, .seen = &walker->seen, .tokener = &walker->tokener};
  walker->walking = 1;
  walk_object(w, TOP, data, 0);
  walker->walking = 0;
  if (cut != NULL)
    *cut += w->cut;
  /* A flood's room is not kept for months; nor is the parser of a long
   * text, whose buffer json-c's reset keeps at the size of its longest
   * string. */
  if (walker->seen.cap > 2 * EF_WALKER_KEPT_PATHS) {
    free(walker->seen.slots);
    walker->seen = (seen_paths){.walk = walker->seen.walk};
  }
  if (w->longest_text > EF_WALKER_KEPT_TEXT && walker->tokener != NULL) {
    json_tokener_free(walker->tokener);
    walker->tokener = NULL;
  }
  return 0;
}

ef_walker_held ef_walker_holding(const ef_walker *walker) {
  return (ef_walker_held){.paths_room = walker->seen.cap / 2,
                          .keeps_parser = walker->tokener != NULL};
}

void ef_walker_skip_walks(ef_walker *walker, uint32_t n) {
  walker->seen.walk += n;
}

int ef_walk(struct json_object *data, ef_leaf_cb cb, void *ctx, size_t *cut) {
  ef_walker *walker = ef_walker_new();
  if (walker == NULL)
    return -1;
  int status = ef_walker_walk(walker, data, cb, ctx, cut);
  ef_walker_free(walker);
  return status;
}

/* ---- kept samples --------------------------------------------------------
 * A hash index of paths (open addressing, indexes + 1, 0 empty), so that
 * merging a device's partial updates costs no scan of its state. */

static size_t path_hash(const char *path) {
  return (size_t)ef_fnv64_text(EF_FNV64_BASIS, path);
}

typedef struct {
  size_t *slots;
  size_t cap; /* a power of two, at least twice the samples */
} path_index;

/* The index lives behind the items, allocated with them: ef_samples keeps
 * its three public fields. */
static path_index *index_of(const ef_samples *samples) {
  return samples->items != NULL ? (path_index *)(samples->items + samples->cap)
                                : NULL;
}

static size_t *slot_for(const ef_samples *samples, const char *path) {
  path_index *index = index_of(samples);
  size_t mask = index->cap - 1;
  for (size_t at = path_hash(path) & mask;; at = (at + 1) & mask) {
    size_t *slot = &index->slots[at];
    if (*slot == 0 || strcmp(samples->items[*slot - 1].path, path) == 0)
      return slot;
  }
}

/* Room for one more sample, and its index rebuilt when it grew. */
static int reserve(ef_samples *samples) {
  if (samples->len < samples->cap)
    return 0;
  size_t cap = samples->cap ? samples->cap * 2 : 64;
  size_t slots = 2 * cap;
  char *block = malloc(cap * sizeof(ef_sample) + sizeof(path_index) +
                       slots * sizeof(size_t));
  if (block == NULL)
    return -1;
  if (samples->len > 0)
    memcpy(block, samples->items, samples->len * sizeof(ef_sample));
  free(samples->items);
  samples->items = (ef_sample *)block;
  samples->cap = cap;
  path_index *index = index_of(samples);
  index->slots = (size_t *)(index + 1);
  index->cap = slots;
  memset(index->slots, 0, slots * sizeof(size_t));
  for (size_t i = 0; i < samples->len; i++)
    *slot_for(samples, samples->items[i].path) = i + 1;
  return 0;
}

void ef_samples_clear(ef_samples *samples) {
  for (size_t i = 0; i < samples->len; i++) {
    free(samples->items[i].path);
    free(samples->items[i].text);
  }
  free(samples->items);
  *samples = (ef_samples){0};
}

const ef_sample *ef_samples_find(const ef_samples *samples, const char *path) {
  if (samples->len == 0)
    return NULL;
  size_t slot = *slot_for(samples, path);
  return slot ? &samples->items[slot - 1] : NULL;
}

int ef_samples_put(ef_samples *samples, const ef_sample *sample) {
  char *text = strdup(sample->text ? sample->text : "");
  if (text == NULL)
    return -1;
  size_t slot = samples->len > 0 ? *slot_for(samples, sample->path) : 0;
  if (slot != 0) {
    ef_sample *old = &samples->items[slot - 1];
    free(old->text);
    *old = (ef_sample){.path = old->path,
                       .kind = sample->kind,
                       .number = sample->number,
                       .integer = sample->integer,
                       .text = text};
    return 0;
  }
  char *path = strdup(sample->path);
  if (path == NULL || reserve(samples) != 0) {
    free(path);
    free(text);
    return -1;
  }
  samples->items[samples->len] = (ef_sample){.path = path,
                                             .kind = sample->kind,
                                             .number = sample->number,
                                             .integer = sample->integer,
                                             .text = text};
  *slot_for(samples, path) = ++samples->len;
  return 0;
}

typedef struct {
  ef_samples *samples;
  int failed;
} keeper;

static void keep_leaf(const char *path, const ef_leaf *leaf, void *ctx) {
  keeper *k = ctx;
  ef_sample sample = {.path = (char *)path,
                      .kind = leaf->kind,
                      .number = leaf->number,
                      .integer = leaf->integer,
                      .text = (char *)leaf->text};
  if (ef_samples_put(k->samples, &sample) != 0)
    k->failed = 1;
}

int ef_samples_add_json(ef_samples *samples, struct json_object *data) {
  keeper k = {.samples = samples};
  if (ef_walk(data, keep_leaf, &k, NULL) != 0)
    return -1;
  return k.failed ? -1 : 0;
}

int ef_samples_add_text(ef_samples *samples, const char *json_text) {
  struct json_object *data = json_tokener_parse(json_text);
  int status = ef_samples_add_json(samples, data);
  json_object_put(data);
  return status;
}

void ef_samples_each(const ef_samples *samples, ef_leaf_cb cb, void *ctx) {
  for (size_t i = 0; i < samples->len; i++) {
    const ef_sample *sample = &samples->items[i];
    ef_leaf leaf = {.kind = sample->kind,
                    .number = sample->number,
                    .integer = sample->integer,
                    .text = sample->text};
    cb(sample->path, &leaf, ctx);
  }
}
