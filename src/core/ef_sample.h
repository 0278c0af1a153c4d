/* ef_sample.h: the typed values of one device reading, keyed by quota path.
 *
 * Promises: the flat form of quota/all ("pcsAPhase.vol"), the nested form of
 * POST quota and MQTT ({"pcsAPhase":{"vol":..}}) and mixtures of both become
 * the same paths; lists of objects take an index
 * ("mpptHeartBeat[0].mpptPv[1].pwr"), for their first EF_MAX_ARRAY_ITEMS
 * items only (the rest of a huge array is left out); JSON text inside a
 * string (the per-pack "bp_addr.<packSN>") is expanded below its key, and
 * when it is broken the string is kept as a string. Numbers keep the API's
 * exact text.
 * Whitespace around keys (the reference's " chargingStatus") is trimmed;
 * nulls are "no reading" and produce no sample. */
#ifndef EF_SAMPLE_H
#define EF_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Real devices index their strings, packs and rods below 10. */
#define EF_MAX_ARRAY_ITEMS 64

typedef enum {
  EF_KIND_NUMBER,  /* floating point: number and text */
  EF_KIND_INTEGER, /* integer: integer, number and text */
  EF_KIND_BOOL,    /* integer 0/1, number, text "true"/"false" */
  EF_KIND_STRING,  /* text */
  EF_KIND_LIST,    /* list of scalars: text is the items' text joined with
                      ',' ("601,602"), integer is the item count */
} ef_kind;

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

/* Flattens an API "data" object into samples (appending). Returns 0, or -1
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

/* Frees every sample; the set can be reused afterwards. */
void ef_samples_clear(ef_samples *samples);

#endif
