/* lineproto.h: InfluxDB line protocol, one point per line.
 *
 * Promises: whatever the text of a point, its line parses in InfluxDB 1.x,
 * in Telegraf and in InfluxDB 2.x as the same point, or is not written:
 * - measurement: ',' and ' ' escaped; a leading '#' (a comment) becomes '_';
 * - tag keys, tag values and field keys: ',' '=' ' ' escaped;
 * - in all of these, a trailing backslash is dropped (it would escape the
 *   separator after it: unrepresentable in 1.x), and a tag whose key or
 *   value is empty, or a field whose key is empty, is left out (an empty
 *   measurement drops the line); the key "time", refused by InfluxDB, is
 *   written "time_";
 * - in measurements and field keys, which Telegraf reads as backslash
 *   pairs, an odd run of backslashes before an escaped character loses one
 *   (it would escape the escape); in keys and tag values, backslashes
 *   before a '"' are dropped (readers take `\"` for an escaped quote);
 * - string fields: quoted, '"' and '\' escaped;
 * - everywhere, control characters (\n \r \t ...) become spaces, so a value
 *   never breaks its line, and bytes that are not UTF-8 become '?';
 * - integers end in 'i', booleans are true/false, floats are written
 *   exactly (the source's own decimal text when it denotes the same
 *   double, else the shortest of %.15g..%.17g that reads back the same);
 *   non-finite floats are left out;
 * - tags sorted by key as written, the first of keys written alike kept
 *   (such as keys that differ in control characters only); likewise the
 *   first of field keys written alike; a line with no field left is not
 *   written. */
#ifndef EF_LINEPROTO_H
#define EF_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
  LP_FLOAT,
  LP_INT,
  LP_BOOL,
  LP_STRING,
} lp_type;

typedef struct {
  const char *key;
  lp_type type;
  double number;    /* LP_FLOAT */
  int64_t integer;  /* LP_INT; LP_BOOL: 0 or 1 */
  const char *text; /* LP_FLOAT: the exact decimal text, or NULL;
                       LP_STRING: the string */
  int text_exact;   /* LP_FLOAT: text is known to denote number (the core's
                       promise): not read back to check */
  /* LP_FLOAT, text_exact: when not 0, the length of text, which is known
   * to be in the JSON number grammar too (the core wrote it): not read to
   * find either; 0: read. */
  size_t text_len;
  /* Not 0: a number under which the key's address tells its text, for
   * as long as the number is used (the core's series: a series' names are
   * the memo's, unchanged while its number is handed out), so a key at
   * the address and number of the earlier reading's is not read again. */
  uint64_t key_series;
} lp_field;

typedef struct {
  const char *key;
  const char *value;
} lp_tag;

typedef struct {
  const char *measurement;
  const lp_tag *tags; /* in any order */
  size_t n_tags;
  const lp_field *fields;
  size_t n_fields;
  int64_t time_ns;
} lp_point;

/* Bytes being written. Zeroed: empty. */
typedef struct {
  char *data;
  size_t len, cap;
  int failed; /* out of memory: what was asked since is lost */
} lp_buffer;

/* Where a field's key is in the text of its point's fields. */
typedef struct {
  size_t at, len;
  int as_given;      /* the key is written as it was given */
  uint32_t hash;     /* of the key as written: made once, copied with it */
  const char *given; /* the key as given, and its key_series */
  uint64_t given_series;
} lp_span;

/* The fields of one point, written as they are added (",key=value" each:
 * key escaped, value formatted), so that nothing of them is copied or
 * escaped again when the line is written. Keys written alike are told
 * apart then, the first kept. Zeroed: no field; reused after
 * lp_fields_clear, freed by lp_fields_free. The fields added before the
 * last clear are kept too: the next reading of a series mostly adds the
 * same keys in the same order, and a key that is the one added at its
 * place then, written as given, is copied, not escaped again. */
typedef struct {
  lp_buffer text;
  lp_span *keys;
  size_t n, room;
  lp_buffer earlier_text; /* before the last clear */
  lp_span *earlier_keys;
  size_t n_earlier, earlier_room;
  /* No two keys are written alike: known of these keys (a writer found
   * none), of the earlier ones, and so of these when each is the earlier
   * key at its place (a reading of a series mostly adds the same keys). */
  int keys_distinct, earlier_distinct;
  int as_earlier; /* each key added since the clear is the earlier one */
} lp_fields;

/* Adds field. Returns 1 when it was written, 0 when it cannot be (its key
 * empty as written, its value not writable), -1 when out of memory (then
 * nothing of it is added). */
int lp_fields_add(lp_fields *fields, const lp_field *field);
void lp_fields_clear(lp_fields *fields);
void lp_fields_free(lp_fields *fields);

/* tag's key and value as a line writes them, each NUL-terminated, into
 * key and value (emptied first): for a tag that many lines carry, which
 * then need not escape it again (lp_writer_add_fields' n_written). A tag
 * a line would leave out is written as an empty key or value. Returns -1
 * when out of memory. */
int lp_tag_written(const lp_tag *tag, lp_buffer *key, lp_buffer *value);

/* Lines gathered in one buffer, written at once: no allocation per key or
 * per value once the buffers have grown to a batch's size. */
typedef struct lp_writer lp_writer;

lp_writer *lp_writer_new(void);
void lp_writer_free(lp_writer *writer);

/* Appends point as one line. Returns 1 when the line was added, 0 when
 * nothing of it was writable, -1 when out of memory (then nothing of it
 * is added). */
int lp_writer_add(lp_writer *writer, const lp_point *point);

/* The same for a point whose fields are written already, and whose first
 * n_written tags are too (lp_tag_written; copied as they are); notes in
 * fields whether their keys are distinct. The texts
 * of tags stay as they are until the flush: tags at the addresses of the
 * last point's are taken for the same tags. */
int lp_writer_add_fields(lp_writer *writer, const char *measurement,
                         const lp_tag *tags, size_t n_tags, size_t n_written,
                         lp_fields *fields, int64_t time_ns);

/* The same for tags whose keys never change at their addresses while the
 * writer lives (texts the program spells: literals, the catalog's names):
 * their key sets are remembered by those addresses, from one flush to the
 * next, and written and sorted once. */
int lp_writer_add_fields_lasting(lp_writer *writer, const char *measurement,
                                 const lp_tag *tags, size_t n_tags,
                                 size_t n_written, lp_fields *fields,
                                 int64_t time_ns);

/* Writes the lines added so far to out and forgets them. Returns 0, or -1
 * on an output error. */
int lp_writer_flush(lp_writer *writer, FILE *out);

/* Writes point as one line. Returns 1 when the line was written, 0 when
 * nothing of it was writable, -1 on an output error or when out of memory
 * (then nothing is written). */
int lp_write_point(FILE *out, const lp_point *point);

/* The text a float is written as, into out (LP_FLOAT_LEN bytes). Returns
 * 0, or -1 when number is not finite. */
#define LP_FLOAT_LEN 32 /* EF_NUMBER_TEXT_LEN */
int lp_format_float(double number, const char *text, char *out);

#endif
