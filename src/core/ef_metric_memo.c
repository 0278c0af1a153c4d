/* ef_metric_memo.c: paths' rows and names, remembered: a table of paths by
 * hash, their copies and names in one arena. */
#include "ef_metric_memo.h"

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

struct ef_memo_path {
  const ef_quota *quota; /* NULL: no row names it */
  const char *path;      /* the memo's copy */
  size_t len;
  uint64_t fnv64;
  ef_memo_names *names; /* the names kept for it */
};

struct ef_memo_names {
  ef_names_key key;
  /* Copies of the texts the naming made; the others (the catalog's, the
   * measurement, collectd type and tag keys) kept as they are. */
  const char *collectd_type, *collectd_instance, *measurement, *field;
  ef_memo_names *next;
  size_t n_tags;
  ef_tag tags[]; /* n_tags */
};

struct ef_metric_memo {
  ef_memo_path *paths; /* EF_METRIC_MEMO_PATHS; n_paths of them in use */
  size_t n_paths;
  uint16_t *index; /* INDEX_SLOTS: a path's place + 1, by hash; 0 empty */
  char *arena;     /* EF_METRIC_MEMO_BYTES; used of them in use */
  size_t used;
};

ef_metric_memo *ef_metric_memo_new(void) {
  ef_metric_memo *memo = calloc(1, sizeof(*memo));
  if (memo == NULL)
    return NULL;
  memo->paths = malloc(EF_METRIC_MEMO_PATHS * sizeof(*memo->paths));
  memo->index = calloc(INDEX_SLOTS, sizeof(*memo->index));
  memo->arena = malloc(EF_METRIC_MEMO_BYTES);
  if (memo->paths == NULL || memo->index == NULL || memo->arena == NULL) {
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
  memo->n_paths = 0;
  memo->used = 0;
  memset(memo->index, 0, INDEX_SLOTS * sizeof(*memo->index));
}

const ef_quota *ef_metric_memo_lookup(ef_metric_memo *memo, const char *path,
                                      size_t len, uint64_t fnv64,
                                      ef_captures *caps, ef_memo_path **entry) {
  size_t mask = INDEX_SLOTS - 1;
  size_t home = (size_t)fnv64 & mask, at = home, probes = 0;
  for (; memo->index[at] != 0 && probes < MAX_PROBES;
       at = (at + 1) & mask, probes++) {
    ef_memo_path *kept = &memo->paths[memo->index[at] - 1];
    if (kept->fnv64 == fnv64 && kept->len == len &&
        memcmp(kept->path, path, len) == 0) {
      caps->n = 0;
      *entry = kept;
      return kept->quota;
    }
  }
  *entry = NULL;
  const ef_quota *quota = ef_catalog_lookup_hashed(path, len, fnv64, caps);
  /* A path whose row captures part of it (a pack's serial number) is one
   * device's own: kept, it would be found by no other. */
  if (caps->n > 0 || len > PATH_MAX_KEPT || probes == MAX_PROBES)
    return quota;
  /* Room for the path and a few names, or the memo begins again. */
  if (memo->n_paths == EF_METRIC_MEMO_PATHS ||
      memo->used + len + 1 + 4 * (sizeof(ef_memo_names) + EF_NAME_LEN) >
          EF_METRIC_MEMO_BYTES) {
    forget_all(memo);
    at = home;
  }
  char *copy = take(memo, len + 1);
  if (copy == NULL)
    return quota;
  memcpy(copy, path, len);
  copy[len] = '\0';
  ef_memo_path *kept = &memo->paths[memo->n_paths];
  *kept = (struct ef_memo_path){
      .quota = quota, .path = copy, .len = len, .fnv64 = fnv64};
  memo->index[at] = (uint16_t)++memo->n_paths;
  *entry = kept;
  return quota;
}

static int same_key(const ef_names_key *a, const ef_names_key *b) {
  return a->row == b->row && a->with_collectd == b->with_collectd &&
         a->without_collectd_names == b->without_collectd_names &&
         (a->suffix == b->suffix || strcmp(a->suffix, b->suffix) == 0);
}

int ef_metric_memo_names(const ef_memo_path *entry, const ef_names_key *key,
                         ef_metric *metric) {
  for (const ef_memo_names *kept = entry->names; kept != NULL;
       kept = kept->next)
    if (same_key(&kept->key, key)) {
      metric->collectd_type = kept->collectd_type;
      metric->collectd_instance = kept->collectd_instance;
      metric->measurement = kept->measurement;
      metric->field = kept->field;
      metric->n_tags = kept->n_tags;
      memcpy(metric->tags, kept->tags, kept->n_tags * sizeof(ef_tag));
      return 1;
    }
  return 0;
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
      kept->tags[i] = (ef_tag){.key = metric->tags[i].key,
                               .value = keep_text(memo, metric->tags[i].value,
                                                  made, made_len, &failed)};
  }
  if (failed) {
    memo->used = mark;
    return;
  }
  entry->names = kept;
}
