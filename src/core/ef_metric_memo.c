/* ef_metric_memo.c: paths' rows and names, remembered: a table of paths by
 * hash, their copies and names in one arena. */
#include "ef_metric_memo.h"

#include "ef_hash.h"
#include "ef_path_hash.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The index is at most half full. */
#define INDEX_SLOTS (2 * EF_METRIC_MEMO_PATHS)
/* A path is kept this near its hash's slot, or not at all: keys made to
 * share a slot cost a cloud's flood a few probes each, not thousands. */
#define MAX_PROBES 16
/* Longer paths are looked up each time: none of the API's is near it, and
 * a cloud's long keys must not make the memo begin again. */
#define PATH_MAX_KEPT 256

typedef struct ef_memo_names ef_memo_names;

/* A capture of a shape after its first: where it lies in the shape's
 * tail; or a capture of a whole path kept (an index): where in the
 * path. */
typedef struct {
  const char *name; /* the catalog's */
  size_t name_len;
  size_t at, len;
} tail_capture;

struct ef_memo_path {
  const ef_quota *quota; /* NULL: no row names it */
  /* The memo's copy of the path, or of a shape's tail (T: what follows
   * the pack's path). */
  const char *path;
  size_t len;
  uint64_t path_hash; /* of the path; a shape's: of its tail and group */
  int group;          /* a shape's group + 1 (ef_catalog_shape_group); 0: a
                         whole path */
  /* A shape's captures: the first (V, the pack's serial number) by name,
   * the others in the tail. */
  const char *first_name;
  size_t first_name_len;
  size_t n_tail_captures; /* a whole path's: all of its captures */
  tail_capture *tail_captures;
  ef_memo_names *names; /* the names kept for it */
  /* The entry found right after it the last time it was found: a reading
   * walks its paths in the answer's order, the same for every reading of
   * every device of a family, so the next entry is mostly known. */
  ef_memo_path *next_found;
};

/* A kept tag value that is the first capture of a shape, whole ("pack"'s
 * "{pack}"): each value's own is put in its place. */
static const char first_capture[] = "";

struct ef_memo_names {
  ef_names_key key;
  uint64_t series;       /* of its measurement and tags (ef_metric.h); 0 */
  int first_in_tag;      /* a tag's value is the first capture's */
  uint32_t guard_series; /* ef_metric_guard_series; 0 when first_in_tag */
  /* Copies of the texts the naming made; the others (the catalog's, the
   * measurement, collectd type and tag keys) kept as they are. */
  const char *collectd_type, *collectd_instance, *measurement, *field;
  ef_memo_names *next;
  size_t n_tags;
  ef_tag tags[]; /* n_tags */
};

/* A measurement and tag set that names were kept with. */
typedef struct {
  const ef_memo_names *names; /* the first kept with it */
  uint32_t family;            /* hash of its measurement and tag keys */
  uint64_t series;            /* 0: handed out as none (may_share_a_point) */
} memo_series;

/* Pack paths at most this long have their shape group remembered. */
#define PARENT_KEPT 64

struct ef_metric_memo {
  /* The last pack's path (the values of a pack come one after another) and
   * its shape group (ef_catalog_shape_group: -1 none) and value_at. */
  char parent[PARENT_KEPT];
  size_t parent_len, value_at;
  uint64_t parent_serial; /* its walk's (ef_leaf), 0: not known */
  int parent_group;
  int parent_may_be_exact; /* ef_catalog_shape_may_be_exact of the group */
  ef_memo_path *paths;     /* EF_METRIC_MEMO_PATHS; n_paths of them in use */
  size_t n_paths;
  uint16_t *index; /* INDEX_SLOTS: a path's place + 1, by hash; 0 empty */
  char *arena;     /* EF_METRIC_MEMO_BYTES; used of them in use */
  size_t used;
  /* The series of the names kept: each measurement and tag set once, by
   * hash (a series' number + 1; 0 empty), numbered from epoch up. */
  memo_series *series;
  size_t n_series;
  uint16_t *series_index; /* INDEX_SLOTS */
  uint64_t epoch;
  ef_memo_path *last_found; /* the entry found last, or NULL */
  int full; /* room ran out this reading: it begins again at the next */
  /* This reading's first captures' texts, numbered by place + 1. */
  char firsts[EF_METRIC_MEMO_FIRSTS][EF_NAME_LEN];
  size_t n_firsts;
};

/* Epochs of all memos, so that a series number is never handed out twice
 * in a process: not by two memos, nor by one before and after it began
 * again. A series is its epoch times this, plus its number + 1. */
#define SERIES_PER_EPOCH EF_SERIES_FIRST
static atomic_uint_fast64_t next_epoch = 1;

static uint64_t new_epoch(void) { return atomic_fetch_add(&next_epoch, 1); }

/* A new series is compared with at most this many of its family (the
 * same measurement and tag keys) for a point they may share; past them it
 * is handed out as none. */
#define FAMILY_COMPARED 64

ef_metric_memo *ef_metric_memo_new(void) {
  ef_metric_memo *memo = calloc(1, sizeof(*memo));
  if (memo == NULL)
    return NULL;
  memo->paths = malloc(EF_METRIC_MEMO_PATHS * sizeof(*memo->paths));
  memo->index = calloc(INDEX_SLOTS, sizeof(*memo->index));
  memo->arena = malloc(EF_METRIC_MEMO_BYTES);
  memo->series = malloc(EF_METRIC_MEMO_PATHS * sizeof(*memo->series));
  memo->series_index = calloc(INDEX_SLOTS, sizeof(*memo->series_index));
  memo->epoch = new_epoch();
  if (memo->paths == NULL || memo->index == NULL || memo->arena == NULL ||
      memo->series == NULL || memo->series_index == NULL) {
    ef_metric_memo_free(memo);
    return NULL;
  }
  return memo;
}

void ef_metric_memo_free(ef_metric_memo *memo) {
  if (memo == NULL)
    return;
  free(memo->paths);
  free(memo->index);
  free(memo->arena);
  free(memo->series);
  free(memo->series_index);
  free(memo);
}

/* size bytes of the arena, aligned for any of the memo's structs; NULL
 * when they are not left. */
static void *take(ef_metric_memo *memo, size_t size) {
  size_t at = (memo->used + 7) & ~(size_t)7;
  if (at > EF_METRIC_MEMO_BYTES || size > EF_METRIC_MEMO_BYTES - at)
    return NULL;
  memo->used = at + size;
  return memo->arena + at;
}

static void forget_all(ef_metric_memo *memo) {
  memo->full = 0;
  memo->last_found = NULL; /* no entry made before leads to one after */
  memo->n_paths = 0;
  memo->used = 0;
  memset(memo->index, 0, INDEX_SLOTS * sizeof(*memo->index));
  memo->n_series = 0;
  memset(memo->series_index, 0, INDEX_SLOTS * sizeof(*memo->series_index));
  memo->epoch = new_epoch();
}

void ef_metric_memo_reading_start(ef_metric_memo *memo) {
  if (memo->full)
    forget_all(memo);
  memo->n_firsts = 0;
}

uint32_t ef_metric_memo_first_number(ef_metric_memo *memo, const char *text,
                                     size_t len, const char **kept) {
  *kept = NULL;
  if (len >= EF_NAME_LEN)
    return 0;
  for (size_t i = 0; i < memo->n_firsts; i++)
    if (memcmp(memo->firsts[i], text, len) == 0 &&
        memo->firsts[i][len] == '\0') {
      *kept = memo->firsts[i];
      return (uint32_t)i + 1;
    }
  if (memo->n_firsts == EF_METRIC_MEMO_FIRSTS)
    return 0;
  char *copy = memo->firsts[memo->n_firsts++];
  memcpy(copy, text, len);
  copy[len] = '\0';
  *kept = copy;
  return (uint32_t)memo->n_firsts;
}

/* The entry of (path_hash, key: len bytes, group), or NULL with *slot where
 * it would go (SIZE_MAX: too far from its hash's slot to be kept). */
static ef_memo_path *find(const ef_metric_memo *memo, uint64_t path_hash,
                          const char *key, size_t len, int group,
                          size_t *slot) {
  size_t mask = INDEX_SLOTS - 1;
  size_t at = (size_t)path_hash & mask;
  for (size_t probes = 0; probes < MAX_PROBES; at = (at + 1) & mask, probes++) {
    if (memo->index[at] == 0) {
      *slot = at;
      return NULL;
    }
    ef_memo_path *kept = &memo->paths[memo->index[at] - 1];
    if (kept->path_hash == path_hash && kept->len == len &&
        kept->group == group && memcmp(kept->path, key, len) == 0)
      return kept;
  }
  *slot = SIZE_MAX;
  return NULL;
}

/* The entry that followed the last one found, when it is the entry of
 * key (len bytes, group): what find would return, without a hash of key
 * or a probe. */
static ef_memo_path *predicted(const ef_metric_memo *memo, const char *key,
                               size_t len, int group) {
  ef_memo_path *next =
      memo->last_found != NULL ? memo->last_found->next_found : NULL;
  return next != NULL && next->group == group && next->len == len &&
                 memcmp(next->path, key, len) == 0
             ? next
             : NULL;
}

/* Notes kept as the entry found now, after the last. */
static void note_found(ef_metric_memo *memo, ef_memo_path *kept) {
  if (memo->last_found != NULL)
    memo->last_found->next_found = kept;
  memo->last_found = kept;
}

/* A new entry for key (len bytes) at slot, its copy and room for
 * n_tail_captures made; NULL when it is not kept (no slot, too long, no
 * room left: the memo begins again at the next reading). */
static ef_memo_path *add(ef_metric_memo *memo, const char *key, size_t len,
                         uint64_t path_hash, size_t slot,
                         size_t n_tail_captures) {
  if (slot == SIZE_MAX || len > PATH_MAX_KEPT)
    return NULL;
  size_t captures_size = n_tail_captures * sizeof(tail_capture);
  /* Room for the key and a few names, or the memo keeps nothing more
   * until it begins again, between readings: what it handed out during
   * this one stays valid (ef_metric.h: a series' names). */
  if (memo->full || memo->n_paths == EF_METRIC_MEMO_PATHS ||
      memo->used + len + 1 + captures_size + 8 +
              4 * (sizeof(ef_memo_names) + EF_NAME_LEN) >
          EF_METRIC_MEMO_BYTES) {
    memo->full = 1;
    return NULL;
  }
  tail_capture *captures =
      n_tail_captures > 0 ? take(memo, captures_size) : NULL;
  char *copy = take(memo, len + 1);
  if (copy == NULL || (n_tail_captures > 0 && captures == NULL))
    return NULL;
  memcpy(copy, key, len);
  copy[len] = '\0';
  ef_memo_path *kept = &memo->paths[memo->n_paths];
  /* Every field set: no entry of before the memo began again is linked
   * from it (next_found). */
  *kept = (struct ef_memo_path){.path = copy,
                                .len = len,
                                .path_hash = path_hash,
                                .n_tail_captures = n_tail_captures,
                                .tail_captures = captures,
                                .next_found = NULL};
  memo->index[slot] = (uint16_t)++memo->n_paths;
  return kept;
}

/* The shape group of the pack's path (path's first parent_len bytes), as
 * ef_catalog_shape_group, remembered for the pack's next values. */
static int shape_group(ef_metric_memo *memo, const char *path,
                       size_t parent_len, uint64_t parent_serial,
                       size_t *value_at) {
  /* A pack's values after its first: the same walk of its text, whose
   * path's bytes have not changed (ef_leaf), told without reading them. */
  int same_walk = parent_serial != 0 && parent_serial == memo->parent_serial;
  if (parent_len != memo->parent_len ||
      (!same_walk && memcmp(memo->parent, path, parent_len) != 0)) {
    memo->parent_group = ef_catalog_shape_group(path, parent_len, value_at);
    memo->parent_may_be_exact =
        ef_catalog_shape_may_be_exact(memo->parent_group);
    memo->value_at = *value_at;
    /* A longer one is looked up each time. */
    memo->parent_len = parent_len <= PARENT_KEPT ? parent_len : 0;
    memcpy(memo->parent, path, memo->parent_len);
  }
  memo->parent_serial = parent_serial;
  *value_at = memo->value_at;
  return memo->parent_group;
}

/* Sets caps's items from the first on to kept's tail captures, which lie
 * in tail. */
static void tail_captures_of(const ef_memo_path *kept, const char *tail,
                             ef_captures *caps, size_t first) {
  caps->n = first + kept->n_tail_captures;
  for (size_t i = 0; i < kept->n_tail_captures; i++) {
    const tail_capture *c = &kept->tail_captures[i];
    caps->items[first + i].name = c->name;
    caps->items[first + i].name_len = c->name_len;
    caps->items[first + i].value = tail + c->at;
    caps->items[first + i].value_len = c->len;
  }
}

/* Keeps where caps's items from the first on lie in tail. */
static void keep_tail_captures(ef_memo_path *kept, const char *tail,
                               const ef_captures *caps, size_t first) {
  for (size_t i = first; i < caps->n; i++)
    kept->tail_captures[i - first] =
        (tail_capture){.name = caps->items[i].name,
                       .name_len = caps->items[i].name_len,
                       .at = (size_t)(caps->items[i].value - tail),
                       .len = caps->items[i].value_len};
}

/* Whether every capture is an index (digits only): the paths of every
 * device hold the same (a PV string's, a heating rod's), so a path whose
 * row captures them is worth keeping; any other text (a serial number)
 * would make it one device's own. */
static int captures_are_indexes(const ef_captures *caps) {
  for (size_t i = 0; i < caps->n; i++) {
    if (caps->items[i].value_len == 0)
      return 0;
    for (size_t k = 0; k < caps->items[i].value_len; k++)
      if (caps->items[i].value[k] < '0' || caps->items[i].value[k] > '9')
        return 0;
  }
  return 1;
}

/* As ef_metric_memo_lookup, for a value below a pack's path (parent_len
 * bytes of path) whose row, by the catalog's promise, its tail alone
 * decides (group: the path's shape group, value_at: where its pack's
 * serial number begins): kept by shape (group and tail), for every pack
 * of every device. */
static const ef_quota *lookup_shape(ef_metric_memo *memo, const char *path,
                                    size_t len, uint64_t path_hash,
                                    size_t parent_len, int group,
                                    size_t value_at, ef_captures *caps,
                                    ef_memo_path **entry) {
  const char *tail = path + parent_len, *value = path + value_at;
  size_t tail_len = len - parent_len, value_len = parent_len - value_at;
  uint64_t shape = 0;
  size_t slot = SIZE_MAX;
  ef_memo_path *kept = predicted(memo, tail, tail_len, group + 1);
  if (kept == NULL) {
    shape = ef_path_step(ef_path_hash(tail, tail_len), (uint64_t)group);
    kept = find(memo, shape, tail, tail_len, group + 1, &slot);
  }
  if (kept != NULL) {
    caps->items[0].name = kept->first_name;
    caps->items[0].name_len = kept->first_name_len;
    caps->items[0].value = value;
    caps->items[0].value_len = value_len;
    tail_captures_of(kept, tail, caps, 1);
    *entry = kept;
    return kept->quota;
  }
  const ef_quota *quota = ef_catalog_lookup_hashed(path, len, path_hash, caps);
  /* Kept when the row captures V first, whole, and the rest in the tail
   * (a row without one names its value after the whole path). */
  if (quota == NULL || caps->n == 0 || caps->items[0].value != value ||
      caps->items[0].value_len != value_len)
    return quota;
  for (size_t i = 1; i < caps->n; i++)
    if (caps->items[i].value < tail)
      return quota;
  kept = add(memo, tail, tail_len, shape, slot, caps->n - 1);
  if (kept == NULL)
    return quota;
  kept->quota = quota;
  kept->group = group + 1;
  kept->first_name = caps->items[0].name;
  kept->first_name_len = caps->items[0].name_len;
  keep_tail_captures(kept, tail, caps, 1);
  *entry = kept;
  return quota;
}

/* As ef_metric_memo_lookup, but without noting the entry it finds: the
 * caller notes it, in one place for every way there is to find one. */
static const ef_quota *lookup(ef_metric_memo *memo, const char *path,
                              size_t len, uint64_t path_hash, size_t parent_len,
                              uint64_t parent_serial, ef_captures *caps,
                              ef_memo_path **entry) {
  *entry = NULL;
  size_t value_at = 0;
  int group =
      parent_len > 0 && parent_len < len &&
              (path[parent_len] == '.' || path[parent_len] == '[')
          ? shape_group(memo, path, parent_len, parent_serial, &value_at)
          : -1;
  /* An exact row wins over a shape's (where the group has any). */
  if (group >= 0 &&
      !(memo->parent_may_be_exact && ef_catalog_exact_row(path, path_hash)))
    return lookup_shape(memo, path, len, path_hash, parent_len, group, value_at,
                        caps, entry);
  size_t slot = SIZE_MAX;
  ef_memo_path *kept = predicted(memo, path, len, 0);
  if (kept == NULL)
    kept = find(memo, path_hash, path, len, 0, &slot);
  if (kept != NULL) {
    tail_captures_of(kept, path, caps, 0);
    *entry = kept;
    return kept->quota;
  }
  const ef_quota *quota = ef_catalog_lookup_hashed(path, len, path_hash, caps);
  /* A path whose row captures other text than indexes is one device's
   * own: kept, it would be found by no other (a pack's are kept by shape,
   * above). */
  if (caps->n > 0 && !captures_are_indexes(caps))
    return quota;
  kept = add(memo, path, len, path_hash, slot, caps->n);
  if (kept != NULL) {
    kept->quota = quota;
    keep_tail_captures(kept, path, caps, 0);
    *entry = kept;
  }
  return quota;
}

const ef_quota *ef_metric_memo_lookup(ef_metric_memo *memo, const char *path,
                                      const ef_leaf *leaf, ef_captures *caps,
                                      ef_memo_path **entry) {
  const ef_quota *quota =
      lookup(memo, path, leaf->path_len, leaf->path_hash, leaf->parent_len,
             leaf->parent_serial, caps, entry);
  if (*entry != NULL)
    note_found(memo, *entry);
  return quota;
}

static int same_key(const ef_names_key *a, const ef_names_key *b) {
  return a->row == b->row && a->with_collectd == b->with_collectd &&
         a->without_collectd_names == b->without_collectd_names &&
         (a->suffix == b->suffix || strcmp(a->suffix, b->suffix) == 0);
}

int ef_metric_memo_names(const ef_memo_path *entry, const ef_names_key *key,
                         const char *first_text, uint32_t first_number,
                         ef_metric *metric, uint32_t *guard_series) {
  for (const ef_memo_names *kept = entry->names; kept != NULL;
       kept = kept->next)
    if (same_key(&kept->key, key)) {
      metric->collectd_type = kept->collectd_type;
      metric->collectd_instance = kept->collectd_instance;
      metric->measurement = kept->measurement;
      metric->field = kept->field;
      metric->n_tags = kept->n_tags;
      for (size_t i = 0; i < kept->n_tags; i++) {
        metric->tags[i] = kept->tags[i];
        if (kept->tags[i].value == first_capture) {
          if (first_text == NULL)
            return -1;
          metric->tags[i].value = first_text;
        }
      }
      /* A first capture without a number has no series. */
      metric->series =
          kept->first_in_tag && first_number == 0 ? 0 : kept->series;
      metric->series_variant = kept->first_in_tag ? first_number : 0;
      *guard_series = kept->guard_series;
      return 1;
    }
  return 0;
}

/* Whether the names of a shape's metric can be kept: its row's names use
 * the first capture (V) only as a tag's whole value, which each value's
 * own then takes (ef_metric_memo_names); else they differ from pack to
 * pack. */
static int shape_names_keepable(const ef_memo_path *entry,
                                const ef_names_key *key) {
  const ef_quota *row = key->row;
  if (row == NULL)
    return 0; /* named after its whole path */
  const char *name = entry->first_name;
  size_t len = entry->first_name_len;
  /* The instance as ef_metric.c makes it: only for collectd's names. */
  int instance_made = key->with_collectd && !key->without_collectd_names &&
                      row->collectd_type != NULL;
  if (ef_catalog_template_use(row->field, name, len) != EF_TEMPLATE_WITHOUT ||
      (instance_made && ef_catalog_template_use(row->collectd_instance, name,
                                                len) != EF_TEMPLATE_WITHOUT))
    return 0;
  const ef_row_names *names = ef_catalog_names(row);
  for (size_t i = 0; i < names->n_tags; i++)
    if (ef_catalog_template_use(names->tags[i].value, name, len) ==
        EF_TEMPLATE_WITHIN)
      return 0;
  return 1;
}

static const char *or_empty(const char *text) { return text ? text : ""; }

static uint32_t hash_text(uint32_t hash, const char *text) {
  return ef_fnv32_text_ended(hash, or_empty(text));
}

/* The hash of names' measurement and tag keys (values: with_values);
 * 0xFF ends each text (no UTF-8 text holds it), 0xFE stands for the first
 * capture's value. */
static uint32_t series_hash(const ef_memo_names *names, int with_values) {
  uint32_t hash = hash_text(EF_FNV32_BASIS, names->measurement);
  for (size_t i = 0; i < names->n_tags; i++) {
    const ef_tag *tag = &names->tags[i];
    hash = hash_text(hash, tag->key);
    if (with_values)
      hash = tag->value == first_capture ? ef_fnv32_byte(hash, 0xFE)
                                         : hash_text(hash, tag->value);
  }
  return hash;
}

static int same_text(const char *a, const char *b) {
  return strcmp(or_empty(a), or_empty(b)) == 0;
}

/* Whether a and b have one measurement and tag set (loose: or may have,
 * a first capture's value standing for any text). */
static int same_series(const ef_memo_names *a, const ef_memo_names *b,
                       int loose) {
  if (a->n_tags != b->n_tags || !same_text(a->measurement, b->measurement))
    return 0;
  for (size_t i = 0; i < a->n_tags; i++) {
    const ef_tag *x = &a->tags[i], *y = &b->tags[i];
    int x_first = x->value == first_capture,
        y_first = y->value == first_capture;
    if (!same_text(x->key, y->key))
      return 0;
    if (x_first || y_first) {
      if (!loose && x_first != y_first)
        return 0;
    } else if (!same_text(x->value, y->value)) {
      return 0;
    }
  }
  return 1;
}

/* Whether a point of names may be one of a series kept before (a pack's
 * serial number that is another series' tag value): then the new series
 * is handed out as none, so that no two series handed out name one point
 * (ef_metric.h). */
static int may_share_a_point(const ef_metric_memo *memo,
                             const ef_memo_names *names, uint32_t family) {
  size_t compared = 0;
  for (size_t i = 0; i < memo->n_series; i++) {
    const memo_series *kept = &memo->series[i];
    if (kept->family != family)
      continue;
    if (++compared > FAMILY_COMPARED || same_series(kept->names, names, 1))
      return 1;
  }
  return 0;
}

/* The series of names: that of kept names with the same measurement and
 * tags, or a new one; 0 when there is no room (a series is then told by
 * its names). */
static uint64_t series_of_names(ef_metric_memo *memo,
                                const ef_memo_names *names) {
  size_t mask = INDEX_SLOTS - 1;
  size_t at = series_hash(names, 1) & mask;
  for (size_t probes = 0; probes < MAX_PROBES; at = (at + 1) & mask, probes++) {
    uint16_t number = memo->series_index[at];
    if (number == 0) {
      if (memo->n_series == EF_METRIC_MEMO_PATHS)
        return 0;
      uint32_t family = series_hash(names, 0);
      int alone = !may_share_a_point(memo, names, family);
      memo->series[memo->n_series] =
          (memo_series){.names = names,
                        .family = family,
                        .series = alone ? memo->epoch * SERIES_PER_EPOCH +
                                              (uint64_t)(memo->n_series + 1)
                                        : 0};
      memo->series_index[at] = (uint16_t)++memo->n_series;
      return memo->series[memo->n_series - 1].series;
    }
    if (same_series(memo->series[number - 1].names, names, 0))
      return memo->series[number - 1].series;
  }
  return 0;
}

const uint64_t *ef_metric_memo_epoch(const ef_metric_memo *memo) {
  return &memo->epoch;
}

/* text as kept: a copy in the arena when it lies in made (the naming's
 * buffer, made_len bytes: the next metric's names overwrite it), else
 * itself; NULL, with *failed set, when there is no room. */
static const char *keep_text(ef_metric_memo *memo, const char *text,
                             const char *made, size_t made_len, int *failed) {
  uintptr_t at = (uintptr_t)text, start = (uintptr_t)made;
  if (at < start || at - start >= made_len)
    return text;
  size_t size = strlen(text) + 1;
  char *copy = take(memo, size);
  if (copy == NULL) {
    *failed = 1;
    return NULL;
  }
  memcpy(copy, text, size);
  return copy;
}

void ef_metric_memo_keep(ef_metric_memo *memo, ef_memo_path *entry,
                         const ef_names_key *key, const ef_metric *metric,
                         const char *made, size_t made_len) {
  if (entry->group != 0 && !shape_names_keepable(entry, key))
    return;
  const ef_row_names *row_names =
      entry->group != 0 ? ef_catalog_names(key->row) : NULL;
  size_t mark = memo->used;
  ef_memo_names *kept =
      take(memo, sizeof(*kept) + metric->n_tags * sizeof(ef_tag));
  int failed = kept == NULL;
  if (!failed) {
    *kept = (ef_memo_names){.key = *key,
                            .collectd_type = metric->collectd_type,
                            .measurement = metric->measurement,
                            .next = entry->names,
                            .n_tags = metric->n_tags};
    kept->field = keep_text(memo, metric->field, made, made_len, &failed);
    /* A name the catalog does not know is its field and instance both. */
    kept->collectd_instance = metric->collectd_instance == metric->field
                                  ? kept->field
                                  : keep_text(memo, metric->collectd_instance,
                                              made, made_len, &failed);
    for (size_t i = 0; i < metric->n_tags && !failed; i++)
      kept->tags[i] = (ef_tag){
          .key = metric->tags[i].key,
          .value = row_names != NULL &&
                           ef_catalog_template_use(
                               row_names->tags[i].value, entry->first_name,
                               entry->first_name_len) == EF_TEMPLATE_IS
                       ? first_capture
                       : keep_text(memo, metric->tags[i].value, made, made_len,
                                   &failed)};
  }
  if (failed) {
    memo->used = mark;
    memo->full = 1;
    return;
  }
  for (size_t i = 0; i < kept->n_tags; i++)
    kept->first_in_tag |= kept->tags[i].value == first_capture;
  /* The kept texts are the metric's, copied. */
  kept->guard_series = kept->first_in_tag ? 0 : ef_metric_guard_series(metric);
  kept->series = series_of_names(memo, kept);
  entry->names = kept;
}
