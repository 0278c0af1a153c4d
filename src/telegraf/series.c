/* series.c: grouping fields into points by measurement and tag set. */
#include "series.h"

#include "ef_copy.h"
#include "ef_hash.h"
#include "ef_inline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Copies of what is added live in blocks that never move (a pointer into
 * one stays valid until the flush) and are reused by the next reading. */
#define BLOCK_SIZE 16384

typedef struct block {
  struct block *next;
  size_t used, size;
  char data[];
} block;

typedef struct {
  const char *measurement;
  lp_tag *tags; /* n_tags, in the arena: the shared ones, then its own */
  size_t n_tags;
  const lp_tag *shared; /* the shared tags it was added with, or NULL */
  size_t n_shared;
  uint32_t hash;
  int indexed;      /* in the index (hash made) */
  int keys_lasting; /* every tag key a literal or the core's (they never
                       change where they are): lp_writer_add_fields_lasting */
  lp_fields fields; /* written as they come; kept across readings */
} point;

/* A point remembered under its caller's key, for the share of number
 * share (any other: empty). */
typedef struct {
  tg_series_key key;
  uint32_t share;
  uint32_t point;
} known_point;

struct tg_series {
  block *blocks;  /* the first is kept across flushes */
  block *current; /* the one allocated from */
  point *points;
  size_t n_points, cap_points;
  uint32_t *index; /* point + 1 by hash of its series; 0 empty */
  size_t index_cap;
  size_t last;            /* the point added to last, + 1; 0: none */
  tg_series_key last_key; /* its key, when it was found or made by one
                             (series 0: none) */
  const lp_tag *shared;   /* tg_series_share's copies, in the arena */
  size_t n_shared;
  int share_failed;      /* the last share ran out of memory: no add until the
                            next share or flush, never a point without them */
  int shared_keys_given; /* the shared tags' keys are the caller's own */
  lp_buffer written_key, written_value; /* a shared tag as lines write it */
  lp_writer *writer;
  known_point *known; /* by hash of key, at most half full */
  size_t known_cap, n_known;
  uint32_t share; /* this share's number, never 0 */
  /* Until a point of the share is looked for by names, a point added by
   * a key not known yet is new, by the keys' promise: it is neither looked
   * for nor indexed (nor hashed). The first look indexes them all. */
  int names_looked;
  size_t unindexed_from; /* points before it are all indexed */
};

tg_series *tg_series_new(void) {
  tg_series *series = calloc(1, sizeof(tg_series));
  if (series != NULL && (series->writer = lp_writer_new()) == NULL) {
    free(series);
    series = NULL;
  }
  return series;
}

static void free_blocks(block *b) {
  while (b != NULL) {
    block *next = b->next;
    free(b);
    b = next;
  }
}

void tg_series_free(tg_series *series) {
  if (series == NULL)
    return;
  for (size_t i = 0; i < series->cap_points; i++)
    lp_fields_free(&series->points[i].fields);
  free(series->points);
  free(series->index);
  free_blocks(series->blocks);
  free(series->written_key.data);
  free(series->written_value.data);
  free(series->known);
  lp_writer_free(series->writer);
  free(series);
}

/* No point is known by key any more. */
static void forget_known(tg_series *series) {
  series->n_known = 0;
  series->names_looked = 0;
  if (++series->share == 0) { /* numbers run out: every slot made empty */
    if (series->known != NULL)
      memset(series->known, 0, series->known_cap * sizeof(*series->known));
    series->share = 1;
  }
}

void tg_series_clear(tg_series *series) {
  forget_known(series);
  series->n_points = 0;
  series->unindexed_from = 0;
  series->last = 0;
  series->shared = NULL;
  series->n_shared = 0;
  series->shared_keys_given = 1; /* none */
  series->share_failed = 0;
  if (series->index != NULL)
    memset(series->index, 0, series->index_cap * sizeof(*series->index));
  if (series->blocks != NULL) {
    free_blocks(series->blocks->next);
    series->blocks->next = NULL;
    series->blocks->used = 0;
  }
  series->current = series->blocks;
}

/* size bytes from the arena, or NULL when out of memory. */
EF_HOT void *arena_alloc(tg_series *series, size_t size) {
  size = (size + 7) & ~(size_t)7;
  block *b = series->current;
  if (b == NULL || b->used + size > b->size) {
    size_t room = size > BLOCK_SIZE ? size : BLOCK_SIZE;
    block *fresh = malloc(sizeof(block) + room);
    if (fresh == NULL)
      return NULL;
    *fresh = (block){.size = room};
    if (b != NULL)
      b->next = fresh;
    else
      series->blocks = fresh;
    series->current = b = fresh;
  }
  void *out = b->data + b->used;
  b->used += size;
  return out;
}

/* A copy of text in the arena (NULL stays NULL); *failed set when out of
 * memory. */
static const char *copy_text(tg_series *series, const char *text, int *failed) {
  if (text == NULL)
    return NULL;
  size_t len = strlen(text) + 1;
  char *copy = arena_alloc(series, len);
  if (copy == NULL) {
    *failed = 1;
    return NULL;
  }
  ef_copy(copy, text, len);
  return copy;
}

/* A copy of text, or the earlier copy kept when it is the same text: the
 * points of a reading share most of their tags (the device's). */
static const char *share_text(tg_series *series, const char *text,
                              const char *earlier, int *failed) {
  if (text != NULL && earlier != NULL && strcmp(text, earlier) == 0)
    return earlier;
  return copy_text(series, text, failed);
}

/* NULL and "" both mean "no value": the encoder leaves such tags out. */
static const char *or_empty(const char *text) { return text ? text : ""; }

/* Each text ended, so that the texts of a series are told apart. */
static uint32_t mix(uint32_t hash, const char *text) {
  return ef_fnv32_text_ended(hash, or_empty(text));
}

/* A point's own tags: those after the shared ones. */
static const lp_tag *own_tags(const point *p) { return p->tags + p->n_shared; }

/* The series of a field: its measurement and own tags, and the shared tags
 * (told by identity: one copy is made of them per tg_series_share). */
typedef struct {
  const char *measurement;
  const lp_tag *tags;
  size_t n_tags;
  const lp_tag *shared;
  uint32_t hash;
} series_key;

static uint32_t series_hash(const series_key *key) {
  uint32_t hash = mix(EF_FNV32_BASIS, key->measurement);
  for (size_t i = 0; i < key->n_tags; i++)
    hash = mix(mix(hash, key->tags[i].key), key->tags[i].value);
  return hash ^ (uint32_t)((uintptr_t)key->shared >> 3);
}

static int same_text(const char *a, const char *b) {
  return strcmp(or_empty(a), or_empty(b)) == 0;
}

/* Whether p is the point of key, the hash aside; the series' own tags
 * compared first, as they tell points apart. */
static int is_series(const point *p, const series_key *key) {
  if (p->shared != key->shared || p->n_tags - p->n_shared != key->n_tags ||
      !same_text(p->measurement, key->measurement))
    return 0;
  const lp_tag *own = own_tags(p);
  for (size_t i = key->n_tags; i-- > 0;)
    if (!same_text(own[i].value, key->tags[i].value) ||
        !same_text(own[i].key, key->tags[i].key))
      return 0;
  return 1;
}

/* The index slot of the series, empty when it has no point yet. */
static uint32_t *index_slot(const tg_series *series, const series_key *key) {
  size_t mask = series->index_cap - 1;
  for (size_t at = key->hash & mask;; at = (at + 1) & mask) {
    uint32_t *slot = &series->index[at];
    if (*slot == 0 || (series->points[*slot - 1].hash == key->hash &&
                       is_series(&series->points[*slot - 1], key)))
      return slot;
  }
}

/* The key of point p, with the hash it is indexed by. */
static series_key key_of(const point *p) {
  return (series_key){.measurement = p->measurement,
                      .tags = own_tags(p),
                      .n_tags = p->n_tags - p->n_shared,
                      .shared = p->shared,
                      .hash = p->hash};
}

/* Room for one more point, the index at most half full. */
static int reserve_point(tg_series *series) {
  if (series->points == NULL)
    series->cap_points = 0; /* no room without an array */
  if (series->points == NULL || series->n_points == series->cap_points) {
    size_t cap = series->cap_points ? 2 * series->cap_points : 16;
    point *points = realloc(series->points, cap * sizeof(*points));
    if (points == NULL)
      return -1;
    memset(points + series->cap_points, 0,
           (cap - series->cap_points) * sizeof(*points));
    series->points = points;
    series->cap_points = cap;
  }
  if (2 * (series->n_points + 1) > series->index_cap) {
    size_t cap = series->index_cap ? 2 * series->index_cap : 64;
    uint32_t *index = calloc(cap, sizeof(*index));
    if (index == NULL)
      return -1;
    free(series->index);
    series->index = index;
    series->index_cap = cap;
    for (size_t i = 0; series->points != NULL && i < series->n_points; i++) {
      const point *p = &series->points[i];
      if (!p->indexed)
        continue;
      series_key key = key_of(p);
      *index_slot(series, &key) = (uint32_t)i + 1;
    }
  }
  return 0;
}

/* A new, empty point for the series; NULL when out of memory. Its texts
 * are the key's when texts_kept (they stay as they are until the flush),
 * else copies, shared with the point added to last where they are the
 * same. */
static point *new_point(tg_series *series, const series_key *key, int indexed,
                        int texts_kept) {
  if (reserve_point(series) != 0)
    return NULL;
  const point *last =
      series->last != 0 ? &series->points[series->last - 1] : NULL;
  size_t last_own = last != NULL ? last->n_tags - last->n_shared : 0;
  point *p = &series->points[series->n_points];
  int failed = 0;
  size_t n_tags = series->n_shared + key->n_tags;
  lp_tag *copies = arena_alloc(series, (n_tags ? n_tags : 1) * sizeof(lp_tag));
  failed |= copies == NULL;
  for (size_t i = 0; !failed && i < series->n_shared; i++)
    copies[i] = series->shared[i];
  if (texts_kept && !failed && key->n_tags > 0)
    memcpy(copies + series->n_shared, key->tags,
           key->n_tags * sizeof(*key->tags));
  for (size_t i = 0; !failed && !texts_kept && i < key->n_tags; i++) {
    const lp_tag *given = &key->tags[i];
    const lp_tag *earlier = i < last_own ? &own_tags(last)[i] : NULL;
    copies[series->n_shared + i] =
        (lp_tag){.key = share_text(series, given->key,
                                   earlier ? earlier->key : NULL, &failed),
                 .value = share_text(series, given->value,
                                     earlier ? earlier->value : NULL, &failed)};
  }
  const char *name = texts_kept
                         ? key->measurement
                         : share_text(series, key->measurement,
                                      last ? last->measurement : NULL, &failed);
  if (failed)
    return NULL;
  p->measurement = name;
  p->tags = copies;
  p->n_tags = n_tags;
  p->shared = series->shared;
  p->n_shared = series->n_shared;
  p->hash = key->hash;
  p->indexed = indexed;
  p->keys_lasting = texts_kept && series->shared_keys_given;
  lp_fields_clear(&p->fields); /* its room kept from an earlier reading */
  series->n_points++;
  if (indexed)
    *index_slot(series, key) = (uint32_t)series->n_points;
  return p;
}

EF_HOT int add_field(point *p, const lp_field *field) {
  return lp_fields_add(&p->fields, field) < 0 ? -1 : 0;
}

/* A copy of tag as lines write it: the lines of a reading all carry the
 * shared tags, which are so escaped once, not once a line. A key written
 * as it is given is kept as given (tg_series_share); *key_given says
 * whether it was. */
static lp_tag written_copy(tg_series *series, const lp_tag *tag, int *failed,
                           int *key_given) {
  if (lp_tag_written(tag, &series->written_key, &series->written_value) != 0) {
    *failed = 1;
    return (lp_tag){0};
  }
  *key_given =
      tag->key != NULL && strcmp(tag->key, series->written_key.data) == 0;
  return (lp_tag){
      .key = *key_given ? tag->key
                        : copy_text(series, series->written_key.data, failed),
      .value = copy_text(series, series->written_value.data, failed)};
}

int tg_series_share(tg_series *series, const lp_tag *tags, size_t n_tags) {
  int failed = 0, all_given = 1;
  lp_tag *copies = NULL;
  if (n_tags > 0) {
    copies = arena_alloc(series, n_tags * sizeof(lp_tag));
    failed |= copies == NULL;
    for (size_t i = 0; !failed && i < n_tags; i++) {
      int given = 0;
      copies[i] = written_copy(series, &tags[i], &failed, &given);
      all_given &= given;
    }
  }
  series->shared_keys_given = all_given;
  series->share_failed = failed;
  forget_known(series);
  if (failed)
    return -1;
  series->shared = copies;
  series->n_shared = n_tags;
  series->last = 0; /* the next field's point is found by its key */
  return 0;
}

/* Before the share's first look by names: indexes the points added by key
 * alone; every point made after it is indexed as it is made. */
static void index_all(tg_series *series) {
  if (series->names_looked)
    return; /* every point since is indexed */
  for (size_t i = series->unindexed_from; i < series->n_points; i++) {
    point *p = &series->points[i];
    if (p->indexed)
      continue;
    series_key key = key_of(p);
    key.hash = p->hash = series_hash(&key);
    p->indexed = 1;
    *index_slot(series, &key) = (uint32_t)i + 1;
  }
  series->unindexed_from = series->n_points;
  series->names_looked = 1;
}

static size_t known_start(const tg_series *series, const tg_series_key *key) {
  uint64_t mixed = (key->series ^ ((uint64_t)key->variant << 32)) *
                   UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(mixed >> 32) & (series->known_cap - 1);
}

/* The slot of key: its own, or the empty one it would take. */
EF_HOT known_point *known_slot(const tg_series *series,
                               const tg_series_key *key) {
  size_t mask = series->known_cap - 1;
  for (size_t at = known_start(series, key);; at = (at + 1) & mask) {
    known_point *slot = &series->known[at];
    if (slot->share != series->share ||
        (slot->key.series == key->series && slot->key.variant == key->variant))
      return slot;
  }
}

/* Remembers the point at under key: 0, or -1 when memory runs out (it is
 * then to be found by its names). */
EF_HOT int remember(tg_series *series, const tg_series_key *key, size_t at) {
  if (2 * (series->n_known + 1) > series->known_cap) {
    size_t cap = series->known_cap ? 2 * series->known_cap : 128;
    known_point *grown = calloc(cap, sizeof(*grown));
    if (grown == NULL)
      return -1;
    known_point *old = series->known;
    size_t old_cap = series->known_cap;
    series->known = grown;
    series->known_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].share == series->share)
        *known_slot(series, &old[i].key) = old[i];
    free(old);
  }
  known_point *slot = known_slot(series, key);
  if (slot->share != series->share)
    series->n_known++;
  *slot =
      (known_point){.key = *key, .share = series->share, .point = (uint32_t)at};
  return 0;
}

int tg_series_add_known(tg_series *series, const tg_series_key *key,
                        const lp_field *field) {
  if (series->share_failed)
    return -1;
  if (key->series == 0 || series->n_known == 0)
    return 0;
  /* A pack's values, a device's own: one point's fields come one after
   * another, told without a look in the table. */
  if (series->last != 0 && key->series == series->last_key.series &&
      key->variant == series->last_key.variant)
    return add_field(&series->points[series->last - 1], field) == 0 ? 1 : -1;
  const known_point *slot = known_slot(series, key);
  if (slot->share != series->share)
    return 0;
  series->last = slot->point + 1;
  series->last_key = *key;
  return add_field(&series->points[slot->point], field) == 0 ? 1 : -1;
}

static int add_by_names(tg_series *series, const char *measurement,
                        const lp_tag *tags, size_t n_tags,
                        const lp_field *field, int texts_kept);

int tg_series_add_keyed(tg_series *series, const tg_series_key *key,
                        const char *measurement, const lp_tag *tags,
                        size_t n_tags, const lp_field *field) {
  int keyed = key != NULL && key->series != 0;
  if (!keyed || series->names_looked) {
    int status = add_by_names(series, measurement, tags, n_tags, field, keyed);
    if (status == 0 && keyed) {
      remember(series, key, series->last - 1); /* else found by names */
      series->last_key = *key;
    }
    return status;
  }
  if (series->share_failed)
    return -1;
  /* A key not known yet, and only keys so far: a new point. */
  series_key names = {.measurement = measurement,
                      .tags = tags,
                      .n_tags = n_tags,
                      .shared = series->shared};
  point *p = new_point(series, &names, 0, 1);
  if (p == NULL)
    return -1;
  series->last = (size_t)(p - series->points) + 1;
  series->last_key = *key;
  if (remember(series, key, series->last - 1) != 0) {
    index_all(series); /* not found by its key: by its names */
  }
  return add_field(p, field);
}

int tg_series_add(tg_series *series, const char *measurement,
                  const lp_tag *tags, size_t n_tags, const lp_field *field) {
  return add_by_names(series, measurement, tags, n_tags, field, 0);
}

static int add_by_names(tg_series *series, const char *measurement,
                        const lp_tag *tags, size_t n_tags,
                        const lp_field *field, int texts_kept) {
  if (series->share_failed)
    return -1;
  index_all(series);
  series_key key = {.measurement = measurement,
                    .tags = tags,
                    .n_tags = n_tags,
                    .shared = series->shared};
  /* The fields of a series mostly come one after another: the series of
   * the last field is compared before anything is hashed. */
  if (series->last != 0 && is_series(&series->points[series->last - 1], &key))
    return add_field(&series->points[series->last - 1], field);
  key.hash = series_hash(&key);
  point *p = NULL;
  if (series->index_cap > 0) {
    uint32_t slot = *index_slot(series, &key);
    if (slot != 0)
      p = &series->points[slot - 1];
  }
  if (p == NULL)
    p = new_point(series, &key, 1, texts_kept);
  if (p == NULL)
    return -1;
  series->last = (size_t)(p - series->points) + 1;
  series->last_key = (tg_series_key){0}; /* found by names */
  return add_field(p, field);
}

int tg_series_flush(tg_series *series, FILE *out, int64_t time_ns) {
  int lines = 0;
  for (size_t i = 0; i < series->n_points && lines >= 0; i++) {
    point *p = &series->points[i];
    int status =
        (p->keys_lasting ? lp_writer_add_fields_lasting : lp_writer_add_fields)(
            series->writer, p->measurement, p->tags, p->n_tags, p->n_shared,
            &p->fields, time_ns);
    lines = status < 0 ? -1 : lines + status;
  }
  if (lp_writer_flush(series->writer, out) != 0)
    lines = -1;
  tg_series_clear(series);
  return lines;
}
