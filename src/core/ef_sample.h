/* ef_sample.h: the values of one device reading, keyed by quota path.
 *
 * Promises: the flat form of quota/all ("pcsAPhase.vol"), the nested form
 * of POST quota and MQTT ({"pcsAPhase":{"vol":..}}) and mixtures of both
 * give the same paths. Lists of objects take an index
 * ("mpptHeartBeat[0].mpptPv[1].pwr"); so does each number of a list of
 * numbers ("bpCellVol[3]"; a list of lists: "watth[2][0]"), unless the
 * catalog keeps the list whole (a list of error codes: ef_catalog.h),
 * which then is one value, its items' text joined with ','; any other list
 * of scalars (strings, booleans) is kept whole too. Only the first
 * EF_MAX_ARRAY_ITEMS items of a list count: the rest of a huge array is
 * left out, and counted. JSON text inside a string (the per-pack
 * "bp_addr.<packSN>") is expanded below its key; when it is broken the
 * string stays a string. Numbers keep the API's exact text. Whitespace
 * around keys (the reference's " chargingStatus") is trimmed; nulls are
 * "no reading" and give nothing. A path met twice in one answer (flat
 * "a.b" next to nested {"a":{"b":..}}) counts the first time only.
 *
 * Two ways to have them: ef_walk hands each value to a callback as it goes,
 * copying nothing (the path and text live during the call): the hot path
 * of every poll; ef_samples keeps copies, for the state of a device that
 * pushes partial updates (MQTT) and for tests. */
#ifndef EF_SAMPLE_H
#define EF_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Real devices index their strings, packs, rods and cells below 64. */
#define EF_MAX_ARRAY_ITEMS 64
/* Paths longer than this are left out (and counted). */
#define EF_PATH_MAX 512

typedef enum {
  EF_KIND_NUMBER,  /* floating point: number and text */
  EF_KIND_INTEGER, /* integer: integer, number and text */
  EF_KIND_BOOL,    /* integer 0/1, number, text "true"/"false" */
  EF_KIND_STRING,  /* text */
  EF_KIND_LIST,    /* a list kept whole: text is the items' text joined
                      with ',' ("601,602"), integer the item count */
} ef_kind;

/* One value of a reading, borrowed during a walk. */
typedef struct {
  ef_kind kind;
  double number;
  int64_t integer;
  const char *text;
  /* INTEGER: the length of text, which the walk wrote (an integer's
   * digits: the JSON grammar's); 0: not known (any other kind). */
  size_t text_len;
  /* The path's length, and its hash (ef_path_hash.h):
   * what a lookup by path needs, found as the walk builds the path; a
   * path_hash of 0 means neither is known. */
  size_t path_len;
  uint64_t path_hash;
  /* Below JSON text in a string (a pack's values): the length of that
   * string's path, which the rest of the path follows from a '.' or '[';
   * else 0. */
  size_t parent_len;
  /* And that text's walk, numbered: values of one number lie below one
   * parent, whose path's bytes (at the same address) are the same for
   * all of them; no two walks of a text in a process share one. 0: not
   * known (kept samples; not below JSON text). */
  uint64_t parent_serial;
} ef_leaf;

typedef void (*ef_leaf_cb)(const char *path, const ef_leaf *leaf, void *ctx);

/* Walks an API "data" object, calling cb for every value in order. Adds
 * the values left out (past EF_MAX_ARRAY_ITEMS, with too long a path, or
 * a path met before) to *cut (may be NULL). Returns 0, or -1 when data is not
 * an object. */
int ef_walk(struct json_object *data, ef_leaf_cb cb, void *ctx, size_t *cut);

/* What a walk needs besides the answer (its table of paths, its parser of
 * JSON text in strings, its path), kept from one walk to the next: the
 * hot path of a poll allocates none of it per reading. A walker holds at
 * most EF_WALKER_KEPT_PATHS paths' room between walks, and a parser only
 * while no JSON text in a string was longer than EF_WALKER_KEPT_TEXT
 * bytes; a larger answer's room is given back after it. Not for two
 * threads at once. */
typedef struct ef_walker ef_walker;
#define EF_WALKER_KEPT_PATHS 2048
#define EF_WALKER_KEPT_TEXT (64 * 1024)

/* NULL when out of memory. */
ef_walker *ef_walker_new(void);
void ef_walker_free(ef_walker *walker); /* NULL is fine */

/* What walker holds between walks, for tests and benchmarks: its table's
 * room (in paths), and whether it keeps a parser. */
typedef struct {
  size_t paths_room;
  int keeps_parser;
} ef_walker_held;
ef_walker_held ef_walker_holding(const ef_walker *walker);

/* For tests: walker counts walks as if n more had been made (its count
 * wraps after 2^32, a device read every 10 s by 1000 for a year and a
 * half). */
void ef_walker_skip_walks(ef_walker *walker, uint32_t n);

/* As ef_walk, with walker's room (NULL, or a walker already walking, as
 * from a callback: room of its own for this walk). */
int ef_walker_walk(ef_walker *walker, struct json_object *data, ef_leaf_cb cb,
                   void *ctx, size_t *cut);

typedef struct {
  char *path;
  ef_kind kind;
  double number;
  int64_t integer;
  char *text;
} ef_sample;

typedef struct {
  ef_sample *items;
  size_t len;
  size_t cap;
} ef_samples;

/* Appends every value of data, as ef_walk finds them. Returns 0, or -1
 * when data is not an object or memory ran out (the samples added so far
 * stay valid). */
int ef_samples_add_json(ef_samples *samples, struct json_object *data);

/* Parses JSON text (e.g. an MQTT message's params) and adds it as above.
 * Returns 0, or -1 when the text is not a JSON object. */
int ef_samples_add_text(ef_samples *samples, const char *json_text);

/* Adds or replaces one sample (a copy). Used to merge partial updates into
 * a device's last known state. Returns 0, or -1 when out of memory. */
int ef_samples_put(ef_samples *samples, const ef_sample *sample);

/* The sample at path, or NULL. */
const ef_sample *ef_samples_find(const ef_samples *samples, const char *path);

/* Calls cb for every sample, in order, as a walk would. */
void ef_samples_each(const ef_samples *samples, ef_leaf_cb cb, void *ctx);

/* Frees every sample; the set can be reused afterwards. */
void ef_samples_clear(ef_samples *samples);

#endif
