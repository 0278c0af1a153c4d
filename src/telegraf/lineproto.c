/* lineproto.c: escaping and number formatting of line protocol, written
 * into one buffer per batch of lines. */
#include "lineproto.h"

#include "ef_copy.h"
#include "ef_grow.h"
#include "ef_hash.h"
#include "ef_inline.h"
#include "ef_number.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the buffer ------------------------------------------------------- */

typedef lp_buffer buffer;

/* Room for more bytes, the buffer grown. Small to start with: every point
 * of a series keeps its fields' buffer from one reading to the next. */
static int grow(buffer *b, size_t more) {
  if (b->failed)
    return -1;
  char *data = ef_grown(b->data, &b->cap, b->len + more, 1, 64);
  if (data == NULL) {
    b->failed = 1;
    return -1;
  }
  b->data = data;
  return 0;
}

/* The common case, room already there, without a call. */
static inline int reserve(buffer *b, size_t more) {
  return b->len + more <= b->cap && !b->failed ? 0 : grow(b, more);
}

EF_HOT void put(buffer *b, const void *bytes, size_t n) {
  if (n > 0 && reserve(b, n) == 0) {
    ef_copy(b->data + b->len, bytes, n);
    b->len += n;
  }
}

static void put_char(buffer *b, char c) {
  if (reserve(b, 1) == 0)
    b->data[b->len++] = c;
}

static void put_text(buffer *b, const char *text) {
  put(b, text, strlen(text));
}

/* ---- escaping --------------------------------------------------------- */

/* How each element is read, hence written. Backslashes themselves are
 * escaped only inside string fields: elsewhere every reader keeps a
 * backslash that does not precede a character it unescapes. */
typedef struct {
  const char *specials; /* written with a backslash before them */
  int pairs; /* Telegraf reads it as backslash pairs (as InfluxDB 1.x does
                field keys): `\\` is one unit, not an escaped backslash */
  int quote_unescaped;   /* Telegraf and InfluxDB read `\"` as `"` */
  int id;                /* its row of plain_bytes */
  int escapes_backslash; /* '\\' is one of specials */
} element;

static const element MEASUREMENT = {", ", 1, 0, 0, 0};
static const element TAG = {", =", 0, 1, 1, 0}; /* keys and values */
static const element FIELD_KEY = {", =", 1, 1, 2, 0};
static const element STRING_FIELD = {"\"\\", 0, 0, 3, 1};
#define N_ELEMENTS 4

static int is_special(int c, const element *kind) {
  for (const char *s = kind->specials; *s != '\0'; s++)
    if (*s == c)
      return 1;
  return 0;
}

/* Per element, 1 for a byte written as it is: printable ASCII that is
 * neither special nor a backslash (which may need a look at what follows
 * it). Filled once. */
static unsigned char plain_bytes[N_ELEMENTS][256];
static pthread_once_t plain_once = PTHREAD_ONCE_INIT;

static void fill_plain_bytes(void) {
  static const element *const kinds[N_ELEMENTS] = {&MEASUREMENT, &TAG,
                                                   &FIELD_KEY, &STRING_FIELD};
  for (int k = 0; k < N_ELEMENTS; k++)
    for (int c = 0x20; c < 0x7F; c++)
      plain_bytes[k][c] = c != '\\' && !is_special(c, kinds[k]);
}

/* The length of the valid UTF-8 sequence at s, or 0 when s does not start
 * one (overlong forms, surrogates and code points past U+10FFFF included).
 * A NUL fails every continuation test, so s is never read past its end. */
static size_t utf8_sequence_len(const unsigned char *s) {
  unsigned char lead = s[0], low = 0x80, high = 0xBF;
  size_t len;
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    low = lead == 0xE0 ? 0xA0 : low;
    high = lead == 0xED ? 0x9F : high;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    low = lead == 0xF0 ? 0x90 : low;
    high = lead == 0xF4 ? 0x8F : high;
  } else {
    return 0;
  }
  if (s[1] < low || s[1] > high)
    return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return len;
}

/* The byte s[i] is written as: a control character as a space, invalid
 * UTF-8 as '?'; 0 when s[i] starts a multi-byte sequence, kept as it is,
 * or i is len. */
static int written_byte(const unsigned char *s, size_t i, size_t len) {
  if (i >= len)
    return 0;
  size_t seq = utf8_sequence_len(s + i);
  if (seq != 1)
    return seq == 0 ? '?' : 0;
  return s[i] < 0x20 || s[i] == 0x7F ? ' ' : s[i];
}

/* How many of a run of backslashes before next (as written_byte gives
 * it) to write, so that readers neither pair the last one with the escape
 * of next (an odd run, in an element read as pairs, loses one) nor take
 * it for the escape of a quote (such backslashes are dropped). */
static size_t backslashes_kept(size_t run, int next, const element *kind) {
  if (next == '"' && kind->quote_unescaped)
    return 0;
  int escaped = next != 0 && is_special(next, kind);
  return kind->pairs && escaped && run % 2 == 1 ? run - 1 : run;
}

/* Copies the plain bytes at the start of s (len bytes) and returns how
 * many: room made for all len. */
static inline size_t put_plain_run(buffer *b, const char *s, size_t len,
                                   const unsigned char *plain) {
  if (len == 0)
    return 0; /* a buffer never written has no data to point into */
  if (reserve(b, len) != 0)
    return len; /* nothing more to write: memory ran out */
  const unsigned char *bytes = (const unsigned char *)s;
  char *out = b->data + b->len;
  size_t i = 0;
  while (i < len && plain[bytes[i]]) {
    out[i] = s[i];
    i++;
  }
  b->len += i;
  return i;
}

/* put_escaped from the first byte that is not plain. */
static __attribute__((noinline)) void put_escaped_rest(buffer *b, const char *s,
                                                       size_t len, size_t i,
                                                       const element *kind) {
  const unsigned char *bytes = (const unsigned char *)s;
  const unsigned char *plain = plain_bytes[kind->id];
  int escapes_backslash = kind->escapes_backslash;
  while (i < len) {
    i += put_plain_run(b, s + i, len - i, plain);
    if (i >= len)
      break;
    if (bytes[i] == '\\' && !escapes_backslash) {
      size_t run = 0;
      while (i + run < len && bytes[i + run] == '\\')
        run++;
      size_t kept =
          backslashes_kept(run, written_byte(bytes, i + run, len), kind);
      put(b, s + i, kept);
      i += run;
      continue;
    }
    int c = written_byte(bytes, i, len);
    if (c == 0) {
      size_t seq = utf8_sequence_len(bytes + i);
      put(b, bytes + i, seq);
      i += seq;
      continue;
    }
    i++;
    if (is_special(c, kind))
      put_char(b, '\\');
    put_char(b, (char)c);
  }
}

/* Writes the first len bytes of s with the kind's specials escaped,
 * control characters as spaces and invalid UTF-8 as '?'. Runs of plain
 * bytes, nearly all of any name, are copied in the one pass that finds
 * them: here, inline, for a name all plain (the common one). */
EF_HOT void put_escaped(buffer *b, const char *s, size_t len,
                        const element *kind) {
  size_t plain = put_plain_run(b, s, len, plain_bytes[kind->id]);
  if (plain < len)
    put_escaped_rest(b, s, len, plain, kind);
}

/* How much of a measurement, key or tag value can be written: all but its
 * trailing backslashes, which would escape the separator after them. */
static size_t name_len(const char *s) {
  if (s == NULL)
    return 0;
  size_t len = strlen(s);
  while (len > 0 && s[len - 1] == '\\')
    len--;
  return len;
}

/* InfluxDB refuses "time" as a tag or field key. */
static void put_key(buffer *b, const char *key, const element *kind) {
  size_t len = name_len(key);
  put_escaped(b, key, len, kind);
  if (len == 4 && memcmp(key, "time", 4) == 0)
    put_char(b, '_');
}

static void put_measurement(buffer *b, const char *name, size_t len) {
  if (name[0] == '#') {
    put_char(b, '_');
    name++;
    len--;
  }
  put_escaped(b, name, len, &MEASUREMENT);
}

/* ---- numbers ---------------------------------------------------------- */

/* Digits from s on: how many. A loop, not strspn: a number's runs of
 * digits are short, and every float field of every line is scanned. */
static size_t digits_at(const char *s) {
  size_t n = 0;
  while (s[n] >= '0' && s[n] <= '9')
    n++;
  return n;
}

/* The length of s when it is a number in the JSON grammar (a subset of
 * what every line-protocol reader takes as a float, so an API number's own
 * text can be passed through) shorter than LP_FLOAT_LEN; else 0. */
EF_HOT size_t json_number_len(const char *s) {
  const char *start = s;
  s += *s == '-';
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    s += digits_at(s);
  else
    return 0;
  if (*s == '.') {
    size_t digits = digits_at(++s);
    if (digits == 0)
      return 0;
    s += digits;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    s += *s == '+' || *s == '-';
    size_t digits = digits_at(s);
    if (digits == 0)
      return 0;
    s += digits;
  }
  size_t len = (size_t)(s - start);
  return *s == '\0' && len < LP_FLOAT_LEN ? len : 0;
}

static int format_float(double number, const char *text, int text_exact,
                        char *out) {
  if (!isfinite(number))
    return -1;
  size_t len = text != NULL ? json_number_len(text) : 0;
  if (len > 0 && (text_exact || strtod(text, NULL) == number)) {
    memcpy(out, text, len + 1);
    return 0;
  }
  return ef_number_text(number, out);
}

int lp_format_float(double number, const char *text, char *out) {
  return format_float(number, text, 0, out);
}

/* ---- points ----------------------------------------------------------- */

/* A tag in key order: its index in the point, and whether its key is
 * written as the key before it in that order is. */
typedef struct {
  size_t index;
  int repeats;
} ranked;

/* What the writer keeps of the tags of the current key set: by a tag's
 * index in the point (at, key_at), and by rank in key order (order,
 * line_*). */
typedef struct {
  size_t at;              /* its key as written: offset into keys (at n: end) */
  const char *key_at;     /* the address of its key as given */
  ranked order;           /* the tag of this rank, ties in the order given */
  const char *line_value; /* the value of this rank in the last line */
  size_t line_at, line_len; /* and the bytes it was written as, in out */
} tag_slot;

/* A key set remembered by the addresses of its keys (lasting ones, which
 * never change there: lp_writer_add_fields_lasting), as write_keys made
 * it: a reading's points take turns among a few key sets (a pack's, its
 * sensors', its cells'), each then written and sorted once in the
 * writer's life, not at every turn. */
#define KEY_SETS_KEPT 16
#define KEY_SET_TAGS_KEPT 8

typedef struct {
  int valid;
  size_t n, n_written;
  const char *key_at[KEY_SET_TAGS_KEPT];
  size_t at[KEY_SET_TAGS_KEPT + 1];
  ranked order[KEY_SET_TAGS_KEPT];
  int repeats;
  buffer keys, given;
} key_set;

struct lp_writer {
  buffer out;      /* the lines so far */
  buffer keys;     /* the current point's tag keys as written, NUL-terminated */
  tag_slot *slots; /* n_slots of room */
  size_t n_slots;
  /* The tag keys as given that keys, at and order were made of (the first
   * n_given_written as written already): the points of a batch mostly
   * share them, so they are escaped and sorted once. */
  buffer given;
  size_t n_given, n_given_written;
  int given_valid;
  /* Where the last point's tag keys were: lp_writer_add_fields' caller
   * keeps its texts as they are until the flush, so until then keys at
   * the same addresses are the same keys, told without reading them. */
  int addresses_valid;
  /* The slots' line_* are the last line's, of this key set, in out: the
   * lines of a pack's cells differ in one tag, the others copied. */
  int line_valid;
  int repeats;       /* keys written alike in the key set: every tag written */
  lp_fields scratch; /* lp_writer_add's fields */
  uint32_t *set; /* field keys written so far: index in fields + 1, 0 empty */
  size_t set_cap;
  /* The last measurement (its len bytes as given) and as it was written:
   * the lines of a batch come in runs of one measurement (a pack's cells),
   * each escaped once. */
  buffer measurement_given, measurement_written;
  int measurement_valid;
  key_set key_sets[KEY_SETS_KEPT];
  size_t next_key_set; /* the one a new set takes: the oldest */
  /* The last timestamp written, as text: the points of a batch share one. */
  int64_t stamp_ns;
  char stamp[EF_NUMBER_TEXT_LEN];
  size_t stamp_len; /* 0: none yet */
};

lp_writer *lp_writer_new(void) {
  pthread_once(&plain_once, fill_plain_bytes);
  return calloc(1, sizeof(lp_writer));
}

void lp_writer_free(lp_writer *w) {
  if (w == NULL)
    return;
  free(w->out.data);
  free(w->keys.data);
  free(w->given.data);
  free(w->measurement_given.data);
  free(w->measurement_written.data);
  free(w->slots);
  lp_fields_free(&w->scratch);
  free(w->set);
  for (size_t i = 0; i < KEY_SETS_KEPT; i++) {
    free(w->key_sets[i].keys.data);
    free(w->key_sets[i].given.data);
  }
  free(w);
}

int lp_writer_flush(lp_writer *w, FILE *out) {
  int status = 0;
  if (w->out.len > 0 && fwrite(w->out.data, 1, w->out.len, out) != w->out.len)
    status = -1;
  w->out.len = 0;
  w->addresses_valid = 0;
  w->line_valid = 0;
  return status;
}

static const char *tag_key(const lp_writer *w, size_t i) {
  return w->keys.data + w->slots[i].at;
}

/* The length of tag key i as written. */
static size_t key_len(const lp_writer *w, size_t i) {
  return w->slots[i + 1].at - w->slots[i].at - 1;
}

/* Remembers where tags' keys are, until the flush. */
static void note_addresses(lp_writer *w, const lp_tag *tags, size_t n_tags) {
  for (size_t i = 0; i < n_tags; i++)
    w->slots[i].key_at = tags[i].key;
  w->addresses_valid = 1;
}

/* Whether tags' keys are where the last point's were. */
static int same_addresses(const lp_writer *w, const lp_tag *tags,
                          size_t n_tags) {
  if (!w->addresses_valid)
    return 0;
  for (size_t i = 0; i < n_tags; i++)
    if (tags[i].key != w->slots[i].key_at)
      return 0;
  return 1;
}

/* Whether the point's tag keys are the ones keys and order were made of
 * (NULL being ""). */
static int same_tag_keys(lp_writer *w, const lp_tag *tags, size_t n_tags,
                         size_t n_written) {
  if (!w->given_valid || n_tags != w->n_given ||
      n_written != w->n_given_written)
    return 0;
  if (same_addresses(w, tags, n_tags))
    return 1;
  const char *given = w->given.data;
  for (size_t i = 0; i < n_tags; i++) {
    const char *key = tags[i].key ? tags[i].key : "";
    while (*key != '\0' && *key == *given) {
      key++;
      given++;
    }
    if (*key != *given)
      return 0;
    given++;
  }
  note_addresses(w, tags, n_tags);
  return 1;
}

/* Sorts the tags by key as written, stably (the first of keys written
 * alike comes first), and marks the keys that repeat the one before. */
static void rank_tags(lp_writer *w, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t k = i;
    for (; k > 0 &&
           strcmp(tag_key(w, w->slots[k - 1].order.index), tag_key(w, i)) > 0;
         k--)
      w->slots[k].order = w->slots[k - 1].order;
    w->slots[k].order.index = i;
  }
  w->repeats = 0;
  for (size_t k = 0; k < n; k++) {
    ranked *rank = &w->slots[k].order;
    rank->repeats =
        k > 0 && strcmp(tag_key(w, rank->index),
                        tag_key(w, w->slots[k - 1].order.index)) == 0;
    w->repeats |= rank->repeats;
  }
}

static int is_key_set(const key_set *s, const lp_tag *tags, size_t n,
                      size_t n_written) {
  if (!s->valid || s->n != n || s->n_written != n_written)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s->key_at[i] != tags[i].key)
      return 0;
  return 1;
}

/* The key set of tags (n, the first n_written written already) where it
 * is remembered, or where it would be (the oldest); NULL for one too
 * large to remember. A few sets, each looked at until its count or first
 * key differs: no hash of addresses, whose places would depend on where
 * the program is loaded. */
static key_set *key_set_of(lp_writer *w, const lp_tag *tags, size_t n,
                           size_t n_written) {
  if (n > KEY_SET_TAGS_KEPT)
    return NULL;
  for (size_t i = 0; i < KEY_SETS_KEPT; i++)
    if (is_key_set(&w->key_sets[i], tags, n, n_written))
      return &w->key_sets[i];
  key_set *oldest = &w->key_sets[w->next_key_set];
  w->next_key_set = (w->next_key_set + 1) % KEY_SETS_KEPT;
  return oldest;
}

/* Room for n tags' slots. */
static int reserve_slots(lp_writer *w, size_t n) {
  if (w->slots != NULL && n + 1 <= w->n_slots)
    return 0;
  tag_slot *slots = realloc(w->slots, (n + 1) * sizeof(*slots));
  if (slots == NULL)
    return -1;
  w->slots = slots;
  w->n_slots = n + 1;
  return 0;
}

/* Copies the bytes of from into to (emptied first); -1 when out of
 * memory. */
static int copy_buffer(buffer *to, const buffer *from) {
  to->len = 0;
  put(to, from->data, from->len);
  if (to->failed) {
    to->failed = 0;
    to->len = 0;
    return -1;
  }
  return 0;
}

/* The writer's key set made the one s remembers (tags at its addresses):
 * 0, or -1 when out of memory. */
static int take_key_set(lp_writer *w, const key_set *s, const lp_tag *tags) {
  if (reserve_slots(w, s->n) != 0 || copy_buffer(&w->keys, &s->keys) != 0 ||
      copy_buffer(&w->given, &s->given) != 0)
    return -1;
  for (size_t i = 0; i < s->n; i++) {
    w->slots[i].at = s->at[i];
    w->slots[i].order = s->order[i];
  }
  w->slots[s->n].at = s->at[s->n];
  w->repeats = s->repeats;
  note_addresses(w, tags, s->n);
  w->n_given = s->n;
  w->n_given_written = s->n_written;
  w->given_valid = 1;
  return 0;
}

/* Remembers the writer's key set, just made for tags, in s. */
static void keep_key_set(lp_writer *w, key_set *s, const lp_tag *tags, size_t n,
                         size_t n_written) {
  s->valid = 0;
  if (copy_buffer(&s->keys, &w->keys) != 0 ||
      copy_buffer(&s->given, &w->given) != 0)
    return; /* made again next time */
  for (size_t i = 0; i < n; i++) {
    s->key_at[i] = tags[i].key;
    s->at[i] = w->slots[i].at;
    s->order[i] = w->slots[i].order;
  }
  s->at[n] = w->slots[n].at;
  s->n = n;
  s->n_written = n_written;
  s->repeats = w->repeats;
  s->valid = 1;
}

/* Keys as written: distinct keys can be written alike (control characters,
 * invalid UTF-8, dropped backslashes, "time"), so they are compared,
 * sorted and told apart in this form, never as given: the tags' here, the
 * fields' as they are written into the line. Returns -1 when out of
 * memory. */
static int write_keys(lp_writer *w, const lp_tag *tags, size_t n,
                      size_t n_written, int keys_lasting) {
  if (same_tag_keys(w, tags, n, n_written))
    return 0;
  w->given_valid = 0;
  w->line_valid = 0; /* the last line's ranks are another key set's */
  key_set *kept = keys_lasting ? key_set_of(w, tags, n, n_written) : NULL;
  if (kept != NULL && is_key_set(kept, tags, n, n_written))
    return take_key_set(w, kept, tags);
  if (reserve_slots(w, n) != 0)
    return -1;
  w->keys.len = 0;
  w->given.len = 0;
  for (size_t i = 0; i < n; i++) {
    const char *key = tags[i].key;
    w->slots[i].at = w->keys.len;
    if (i < n_written)
      put_text(&w->keys, key ? key : "");
    else
      put_key(&w->keys, key, &TAG);
    put_char(&w->keys, '\0');
    if (key != NULL)
      put_text(&w->given, key);
    put_char(&w->given, '\0');
  }
  w->slots[n].at = w->keys.len;
  if (w->keys.failed || w->given.failed) {
    w->keys.failed = w->given.failed = 0;
    return -1;
  }
  rank_tags(w, n);
  note_addresses(w, tags, n);
  w->n_given = n;
  w->n_given_written = n_written;
  w->given_valid = 1;
  if (kept != NULL)
    keep_key_set(w, kept, tags, n, n_written);
  return 0;
}

/* Writes tag i as ",key=value", unless it is left out. */
EF_HOT void put_tag(lp_writer *w, const lp_tag *tag, size_t i, int written) {
  if (key_len(w, i) == 0)
    return;
  const char *value = tag->value;
  size_t value_len = !written        ? name_len(value)
                     : value != NULL ? strlen(value)
                                     : 0;
  if (value_len == 0)
    return;
  /* ",key=" and a written value at once, room made for both. */
  size_t key_length = key_len(w, i);
  if (reserve(&w->out, 2 + key_length + value_len) != 0)
    return;
  char *out = w->out.data + w->out.len;
  out[0] = ',';
  ef_copy(out + 1, tag_key(w, i), key_length);
  out[1 + key_length] = '=';
  w->out.len += 2 + key_length;
  if (written) {
    ef_copy(out + 2 + key_length, value, value_len);
    w->out.len += value_len;
  } else {
    put_escaped(&w->out, value, value_len, &TAG);
  }
}

/* Appends the len bytes of out at from (before its end) to it. */
EF_HOT void put_earlier(buffer *out, size_t from, size_t len) {
  if (len > 0 && reserve(out, len) == 0) {
    ef_copy(out->data + out->len, out->data + from, len);
    out->len += len;
  }
}

/* Writes the tags in key order, each key once (the first given whose
 * key and value are not empty wins). A tag of the rank and value of the
 * last line's (of the same key set, its texts unchanged till the flush)
 * is the bytes it was written as there: runs of them copied at once. */
EF_HOT void put_tags(lp_writer *w, const lp_tag *tags, size_t n_tags,
                     size_t n_written) {
  /* (line_valid is ended wherever the addresses are.) */
  int reuse = w->line_valid && !w->repeats;
  size_t copy_from = 0, copy_len = 0; /* the last line's, not copied yet */
  int run_written = 0;                /* a tag of the current key was written */
  for (size_t k = 0; k < n_tags; k++) {
    tag_slot *rank = &w->slots[k];
    size_t i = rank->order.index;
    if (reuse && tags[i].value == rank->line_value) {
      if (copy_len == 0)
        copy_from = rank->line_at;
      rank->line_at = w->out.len + copy_len;
      copy_len += rank->line_len;
      continue;
    }
    put_earlier(&w->out, copy_from, copy_len);
    copy_len = 0;
    size_t start = w->out.len;
    if (!rank->order.repeats)
      run_written = 0;
    if (!run_written)
      put_tag(w, &tags[i], i, i < n_written);
    run_written |= w->out.len > start;
    rank->line_value = tags[i].value;
    rank->line_at = start;
    rank->line_len = w->out.len - start;
  }
  put_earlier(&w->out, copy_from, copy_len);
  w->line_valid = !w->out.failed;
}

int lp_tag_written(const lp_tag *tag, lp_buffer *key, lp_buffer *value) {
  pthread_once(&plain_once, fill_plain_bytes);
  key->len = value->len = 0;
  put_key(key, tag->key, &TAG);
  put_escaped(value, tag->value, name_len(tag->value), &TAG);
  put_char(key, '\0');
  put_char(value, '\0');
  if (key->failed || value->failed) {
    key->failed = value->failed = 0;
    return -1;
  }
  return 0;
}

/* Whether the value of field can be written (its key aside). */
static int value_writable(const lp_field *field) {
  if (field->type == LP_FLOAT)
    return isfinite(field->number);
  if (field->type == LP_STRING)
    return field->text != NULL;
  return 1;
}

/* A set of the written field keys of a point with many, so that the first
 * of each is told in one probe, not by comparing with every field before
 * it. Returns its size, or 0 when out of memory. */
static size_t reset_set(lp_writer *w, size_t n_fields) {
  size_t cap = 16;
  while (cap < 2 * n_fields)
    cap *= 2;
  if (cap > w->set_cap) {
    uint32_t *set = realloc(w->set, cap * sizeof(*set));
    if (set == NULL)
      return 0;
    w->set = set;
    w->set_cap = cap;
  }
  memset(w->set, 0, cap * sizeof(*w->set));
  return cap;
}

/* Points of at most this many fields (nearly all: a cell's, a phase's)
 * tell repeated keys by comparing with the fields before, without the
 * set. */
#define FIELDS_WITHOUT_SET 8

/* Whether fields a and b have keys written alike. */
static int same_key(const lp_fields *fields, const lp_span *a,
                    const lp_span *b) {
  return a->len == b->len && memcmp(fields->text.data + a->at,
                                    fields->text.data + b->at, a->len) == 0;
}

/* 1 when the key of field index is the first so written in the point's
 * fields (and remembers it in the set, of size cap, when there is one). */
static int first_of_key(lp_writer *w, const lp_fields *fields, size_t index,
                        size_t cap) {
  const lp_span *key = &fields->keys[index];
  if (fields->n <= FIELDS_WITHOUT_SET) {
    for (size_t before = 0; before < index; before++)
      if (same_key(fields, &fields->keys[before], key))
        return 0;
    return 1;
  }
  size_t mask = cap - 1;
  for (size_t at = key->hash & mask;; at = (at + 1) & mask) {
    if (w->set[at] == 0) {
      w->set[at] = (uint32_t)index + 1;
      return 1;
    }
    if (same_key(fields, &fields->keys[w->set[at] - 1], key))
      return 0;
  }
}

/* The length of field's text when it is written as it is: a float's text
 * known to denote its number, in the JSON grammar; else 0. */
EF_HOT size_t exact_text_len(const lp_field *field) {
  if (field->type != LP_FLOAT || !field->text_exact || field->text == NULL ||
      !isfinite(field->number))
    return 0;
  if (field->text_len != 0)
    return field->text_len < LP_FLOAT_LEN ? field->text_len : 0;
  return json_number_len(field->text);
}

static void put_value(buffer *b, const lp_field *field) {
  char number[LP_FLOAT_LEN];
  switch (field->type) {
  case LP_FLOAT: {
    size_t exact_len = exact_text_len(field);
    if (exact_len > 0) {
      put(b, field->text, exact_len);
      break;
    }
    format_float(field->number, field->text, field->text_exact, number);
    put_text(b, number);
    break;
  }
  case LP_INT:
    put(b, number, (size_t)ef_int_text(field->integer, number));
    put_char(b, 'i');
    break;
  case LP_BOOL:
    put_text(b, field->integer ? "true" : "false");
    break;
  case LP_STRING:
    put_char(b, '"');
    put_escaped(b, field->text, strlen(field->text), &STRING_FIELD);
    put_char(b, '"');
    break;
  }
}

/* ---- fields ------------------------------------------------------------ */

void lp_fields_clear(lp_fields *f) {
  /* What was added becomes the earlier fields; the earlier ones' room is
   * reused. */
  lp_buffer text = f->earlier_text;
  lp_span *keys = f->earlier_keys;
  size_t room = f->earlier_room;
  int distinct = f->keys_distinct || (f->as_earlier && f->earlier_distinct);
  f->earlier_text = f->text;
  f->earlier_keys = f->keys;
  f->earlier_room = f->room;
  f->n_earlier = f->text.failed ? 0 : f->n;
  f->earlier_distinct = !f->text.failed && distinct;
  f->keys_distinct = 0;
  f->as_earlier = 1;
  f->text = text;
  f->keys = keys;
  f->room = room;
  f->text.len = 0;
  f->text.failed = 0;
  f->n = 0;
}

void lp_fields_free(lp_fields *f) {
  free(f->text.data);
  free(f->keys);
  free(f->earlier_text.data);
  free(f->earlier_keys);
  *f = (lp_fields){0};
}

/* 1 when the bytes of text at span are key, whole. */
static int span_is(const char *text, const lp_span *span, const char *key) {
  return key != NULL && strncmp(text + span->at, key, span->len) == 0 &&
         key[span->len] == '\0';
}

/* The key added at the same place before the last clear, when it is key
 * and was written as given (so it would be now); else NULL. */
static const lp_span *earlier_key(const lp_fields *f, const lp_field *field) {
  if (f->n >= f->n_earlier)
    return NULL;
  const lp_span *earlier = &f->earlier_keys[f->n];
  if (!earlier->as_given)
    return NULL;
  if (field->key_series != 0 && earlier->given_series == field->key_series &&
      earlier->given == field->key)
    return earlier; /* its text, by lp_field's promise */
  return span_is(f->earlier_text.data, earlier, field->key) ? earlier : NULL;
}

/* The common field, ",key=value" at once: a float whose exact text is
 * written as it is, under earlier, the key of the earlier reading. 1 when
 * it was written, 0 when the field is not such a one, -1 when out of
 * memory. */
EF_HOT int add_known_float(lp_fields *f, const lp_field *field,
                           const lp_span *earlier) {
  size_t value_len = exact_text_len(field);
  if (value_len == 0)
    return 0;
  size_t need = 1 + earlier->len + 1 + value_len;
  /* (Room means data: said for the analyzer, which cannot see it.) */
  if (reserve(&f->text, need) != 0 || f->text.data == NULL) {
    f->text.failed = 0; /* nothing of it added */
    return -1;
  }
  char *out = f->text.data + f->text.len;
  out[0] = ',';
  ef_copy(out + 1, field->key, earlier->len);
  out[1 + earlier->len] = '=';
  ef_copy(out + 2 + earlier->len, field->text, value_len);
  f->keys[f->n++] = (lp_span){.at = f->text.len + 1,
                              .len = earlier->len,
                              .as_given = 1,
                              .hash = earlier->hash,
                              .given = field->key,
                              .given_series = field->key_series};
  f->text.len += need;
  f->keys_distinct = 0;
  return 1;
}

/* Room for one more key: 0, or -1 when memory ran out. */
static int reserve_key(lp_fields *f) {
  if (f->n < f->room)
    return 0; /* without a call: every field asks */
  lp_span *keys = ef_grown(f->keys, &f->room, f->n + 1, sizeof(*keys), 4);
  if (keys == NULL)
    return -1;
  f->keys = keys;
  return 0;
}

/* lp_fields_add for any field but the common one (add_known_float):
 * apart, so that the common one's path saves and restores few registers
 * (every value of every reading takes it). */
static __attribute__((noinline)) int
add_field_written(lp_fields *f, const lp_field *field, const lp_span *earlier) {
  pthread_once(&plain_once, fill_plain_bytes);
  size_t mark = f->text.len;
  put_char(&f->text, ',');
  lp_span key = {.at = f->text.len,
                 .as_given = 1,
                 .given = field->key,
                 .given_series = field->key_series};
  if (earlier != NULL)
    put(&f->text, field->key, earlier->len);
  else
    put_key(&f->text, field->key, &FIELD_KEY);
  key.len = f->text.len - key.at;
  if (earlier == NULL && !f->text.failed) {
    key.as_given = span_is(f->text.data, &key, field->key);
    key.hash = ef_fnv32_bytes(EF_FNV32_BASIS, f->text.data + key.at, key.len);
  } else if (earlier != NULL) {
    key.hash = earlier->hash;
  }
  if (key.len > 0) {
    put_char(&f->text, '=');
    put_value(&f->text, field);
  }
  if (key.len == 0 || f->text.failed) {
    int failed = f->text.failed;
    f->text.len = mark;
    f->text.failed = 0;
    return failed ? -1 : 0;
  }
  f->keys[f->n++] = key;
  f->keys_distinct = 0;
  f->as_earlier &= earlier != NULL;
  return 1;
}

int lp_fields_add(lp_fields *f, const lp_field *field) {
  if (!value_writable(field))
    return 0;
  if (reserve_key(f) != 0)
    return -1;
  const lp_span *earlier = earlier_key(f, field);
  int known = earlier != NULL ? add_known_float(f, field, earlier) : 0;
  return known != 0 ? known : add_field_written(f, field, earlier);
}

/* Field index's ",key=value" in the text of fields. */
static lp_span field_bytes(const lp_fields *fields, size_t index) {
  size_t from = fields->keys[index].at - 1;
  size_t to =
      index + 1 < fields->n ? fields->keys[index + 1].at - 1 : fields->text.len;
  return (lp_span){.at = from, .len = to - from};
}

/* Writes the fields, the first of each key as written, runs of them at
 * once: all at once when their keys are known to be distinct, else told
 * apart here (and then known). */
EF_HOT void put_fields(lp_writer *w, lp_fields *fields) {
  if (fields->n == 1 || fields->keys_distinct ||
      (fields->as_earlier && fields->earlier_distinct)) {
    put_char(&w->out, ' '); /* not ',' before the first field */
    put(&w->out, fields->text.data + 1, fields->text.len - 1);
    return;
  }
  size_t cap = fields->n > FIELDS_WITHOUT_SET ? reset_set(w, fields->n) : 1;
  if (cap == 0) {
    w->out.failed = 1; /* no line */
    return;
  }
  size_t written = 0;
  lp_span run = {0}; /* kept fields not yet put, one after another */
  for (size_t i = 0; i < fields->n; i++) {
    if (!first_of_key(w, fields, i, cap)) {
      put(&w->out, fields->text.data + run.at, run.len);
      run.len = 0;
      continue;
    }
    lp_span bytes = field_bytes(fields, i);
    if (written++ == 0) { /* ' ' before the first field, not ',' */
      put_char(&w->out, ' ');
      bytes.at++;
      bytes.len--;
    }
    if (run.len == 0)
      run = bytes;
    else
      run.len += bytes.len;
  }
  put(&w->out, fields->text.data + run.at, run.len);
  fields->keys_distinct = written == fields->n;
}

/* Copies the measurement written last when name (len bytes of it, as
 * name_len finds) is the same, else writes it and keeps what it wrote. */
EF_HOT void put_measurement_kept(lp_writer *w, const char *name, size_t len) {
  if (w->measurement_valid && len == w->measurement_given.len &&
      memcmp(name, w->measurement_given.data, len) == 0) {
    put(&w->out, w->measurement_written.data, w->measurement_written.len);
    return;
  }
  size_t start = w->out.len;
  put_measurement(&w->out, name, len);
  if (w->out.failed)
    return;
  w->measurement_given.len = w->measurement_written.len = 0;
  put(&w->measurement_given, name, len);
  put(&w->measurement_written, w->out.data + start, w->out.len - start);
  w->measurement_valid =
      !w->measurement_given.failed && !w->measurement_written.failed;
  w->measurement_given.failed = w->measurement_written.failed = 0;
}

static int add_fields(lp_writer *w, const char *measurement, const lp_tag *tags,
                      size_t n_tags, size_t n_written, lp_fields *fields,
                      int64_t time_ns, int keys_lasting) {
  if (write_keys(w, tags, n_tags, n_written, keys_lasting) != 0)
    return -1;
  /* A measurement of only "#" would leave a lone "_": still a name. */
  size_t measurement_len = name_len(measurement);
  if (fields->n == 0 || measurement_len == 0)
    return 0;
  size_t start = w->out.len;
  put_measurement_kept(w, measurement, measurement_len);
  put_tags(w, tags, n_tags, n_written);
  put_fields(w, fields);
  if (w->stamp_len == 0 || w->stamp_ns != time_ns) {
    w->stamp_ns = time_ns;
    w->stamp_len = (size_t)ef_int_text(time_ns, w->stamp);
  }
  if (reserve(&w->out, w->stamp_len + 2) == 0) {
    char *out = w->out.data + w->out.len;
    out[0] = ' ';
    ef_copy(out + 1, w->stamp, w->stamp_len);
    out[1 + w->stamp_len] = '\n';
    w->out.len += w->stamp_len + 2;
  }
  if (w->out.failed) {
    /* Memory ran out: no line at all. */
    w->out.len = start;
    w->out.failed = 0;
    w->line_valid = 0;
    return -1;
  }
  return 1;
}

int lp_writer_add_fields(lp_writer *w, const char *measurement,
                         const lp_tag *tags, size_t n_tags, size_t n_written,
                         lp_fields *fields, int64_t time_ns) {
  return add_fields(w, measurement, tags, n_tags, n_written, fields, time_ns,
                    0);
}

int lp_writer_add_fields_lasting(lp_writer *w, const char *measurement,
                                 const lp_tag *tags, size_t n_tags,
                                 size_t n_written, lp_fields *fields,
                                 int64_t time_ns) {
  return add_fields(w, measurement, tags, n_tags, n_written, fields, time_ns,
                    1);
}

int lp_writer_add(lp_writer *w, const lp_point *point) {
  /* point's texts may change after the call, or have since the last. */
  w->addresses_valid = w->line_valid = 0;
  lp_fields_clear(&w->scratch);
  for (size_t i = 0; i < point->n_fields; i++)
    if (lp_fields_add(&w->scratch, &point->fields[i]) < 0)
      return -1;
  int status =
      lp_writer_add_fields(w, point->measurement, point->tags, point->n_tags, 0,
                           &w->scratch, point->time_ns);
  w->addresses_valid = w->line_valid = 0;
  return status;
}

int lp_write_point(FILE *out, const lp_point *point) {
  lp_writer *w = lp_writer_new();
  if (w == NULL)
    return -1;
  int status = lp_writer_add(w, point);
  if (status > 0 && (lp_writer_flush(w, out) != 0 || ferror(out)))
    status = -1;
  lp_writer_free(w);
  return status;
}
