/* lineproto.c: escaping and number formatting of line protocol. */
#include "lineproto.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How each element is read, hence written. Backslashes themselves are
 * escaped only inside string fields: elsewhere every reader keeps a
 * backslash that does not precede a character it unescapes. */
typedef struct {
  const char *specials; /* written with a backslash before them */
  int pairs; /* Telegraf reads it as backslash pairs (as InfluxDB 1.x does
                field keys): `\\` is one unit, not an escaped backslash */
  int quote_unescaped; /* Telegraf and InfluxDB read `\"` as `"` */
} element;

static const element MEASUREMENT = {", ", 1, 0};
static const element TAG = {", =", 0, 1}; /* keys and values */
static const element FIELD_KEY = {", =", 1, 1};
static const element STRING_FIELD = {"\"\\", 0, 0};

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
  int escaped = next != 0 && strchr(kind->specials, next) != NULL;
  return kind->pairs && escaped && run % 2 == 1 ? run - 1 : run;
}

/* Writes the first len bytes of s with the kind's specials escaped,
 * control characters as spaces and invalid UTF-8 as '?'. */
static void put_escaped(FILE *out, const char *s, size_t len,
                        const element *kind) {
  const unsigned char *bytes = (const unsigned char *)s;
  int escapes_backslash = strchr(kind->specials, '\\') != NULL;
  for (size_t i = 0; i < len;) {
    if (bytes[i] == '\\' && !escapes_backslash) {
      size_t run = 0;
      while (i + run < len && bytes[i + run] == '\\')
        run++;
      size_t kept =
          backslashes_kept(run, written_byte(bytes, i + run, len), kind);
      fprintf(out, "%.*s", (int)kept, s + i);
      i += run;
      continue;
    }
    int c = written_byte(bytes, i, len);
    if (c == 0) {
      size_t seq = utf8_sequence_len(bytes + i);
      fwrite(bytes + i, 1, seq, out);
      i += seq;
      continue;
    }
    i++;
    if (strchr(kind->specials, c) != NULL)
      fputc('\\', out);
    fputc(c, out);
  }
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
static void put_key(FILE *out, const char *key, const element *kind) {
  size_t len = name_len(key);
  put_escaped(out, key, len, kind);
  if (len == 4 && memcmp(key, "time", 4) == 0)
    fputc('_', out);
}

/* Keys as written: distinct keys can be written alike (control characters,
 * invalid UTF-8, dropped backslashes, "time"), so they are compared,
 * sorted and told apart in this form, never as given. */
typedef struct {
  char **tags;   /* of point->tags[i] */
  char **fields; /* of point->fields[i] */
  size_t n_tags, n_fields;
} written_keys;

/* The text key is written as (never NULL but when out of memory). */
static char *written_key(const char *key, const element *kind) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (out == NULL)
    return NULL;
  put_key(out, key, kind);
  if (fclose(out) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

static void free_written_keys(written_keys *keys) {
  for (size_t i = 0; i < keys->n_tags; i++)
    free(keys->tags[i]);
  for (size_t i = 0; i < keys->n_fields; i++)
    free(keys->fields[i]);
  free(keys->tags);
  free(keys->fields);
}

/* Returns 0, or -1 when out of memory (keys is then still to be freed). */
static int write_keys(const lp_point *point, written_keys *keys) {
  *keys = (written_keys){.n_tags = point->n_tags, .n_fields = point->n_fields};
  keys->tags = calloc(point->n_tags + 1, sizeof(char *));
  keys->fields = calloc(point->n_fields + 1, sizeof(char *));
  if (keys->tags == NULL || keys->fields == NULL) {
    keys->n_tags = keys->n_fields = 0;
    return -1;
  }
  for (size_t i = 0; i < point->n_tags; i++)
    if ((keys->tags[i] = written_key(point->tags[i].key, &TAG)) == NULL)
      return -1;
  for (size_t i = 0; i < point->n_fields; i++)
    if ((keys->fields[i] = written_key(point->fields[i].key, &FIELD_KEY)) ==
        NULL)
      return -1;
  return 0;
}

static void put_measurement(FILE *out, const char *name) {
  size_t len = name_len(name);
  if (name[0] == '#') {
    fputc('_', out);
    name++;
    len--;
  }
  put_escaped(out, name, len, &MEASUREMENT);
}

static int tag_writable(const lp_tag *tag, const char *written) {
  return written[0] != '\0' && name_len(tag->value) > 0;
}

/* Writes the tags in key order, each key once (the first given wins), by
 * repeatedly picking the least key above the last one written: tag sets
 * are small, and this needs no copy of them. */
static void put_tags(FILE *out, const lp_point *point,
                     const written_keys *keys) {
  const char *last = NULL;
  for (;;) {
    size_t next = point->n_tags;
    for (size_t i = 0; i < point->n_tags; i++) {
      const char *key = keys->tags[i];
      if (!tag_writable(&point->tags[i], key) ||
          (last != NULL && strcmp(key, last) <= 0))
        continue;
      if (next == point->n_tags || strcmp(key, keys->tags[next]) < 0)
        next = i;
    }
    if (next == point->n_tags)
      return;
    const lp_tag *tag = &point->tags[next];
    fprintf(out, ",%s=", keys->tags[next]);
    put_escaped(out, tag->value, name_len(tag->value), &TAG);
    last = keys->tags[next];
  }
}

/* The JSON number grammar: a subset of what every line-protocol reader
 * takes as a float, so an API number's own text can be passed through. */
static int is_json_number(const char *s) {
  s += *s == '-';
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    s += strspn(s, "0123456789");
  else
    return 0;
  if (*s == '.') {
    size_t digits = strspn(++s, "0123456789");
    if (digits == 0)
      return 0;
    s += digits;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    s += *s == '+' || *s == '-';
    size_t digits = strspn(s, "0123456789");
    if (digits == 0)
      return 0;
    s += digits;
  }
  return *s == '\0';
}

int lp_format_float(double number, const char *text, char *out) {
  if (!isfinite(number))
    return -1;
  if (text != NULL && strlen(text) < LP_FLOAT_LEN && is_json_number(text) &&
      strtod(text, NULL) == number) {
    strcpy(out, text);
    return 0;
  }
  for (int precision = 15; precision <= 17; precision++) {
    snprintf(out, LP_FLOAT_LEN, "%.*g", precision, number);
    if (strtod(out, NULL) == number)
      break;
  }
  return 0;
}

static int field_writable(const lp_field *field, const char *written) {
  if (written[0] == '\0')
    return 0;
  if (field->type == LP_FLOAT)
    return isfinite(field->number);
  if (field->type == LP_STRING)
    return field->text != NULL;
  return 1;
}

/* Writable and the first of its key. */
static int field_wanted(const lp_point *point, const written_keys *keys,
                        size_t index) {
  if (!field_writable(&point->fields[index], keys->fields[index]))
    return 0;
  for (size_t i = 0; i < index; i++)
    if (field_writable(&point->fields[i], keys->fields[i]) &&
        strcmp(keys->fields[i], keys->fields[index]) == 0)
      return 0;
  return 1;
}

static void put_value(FILE *out, const lp_field *field) {
  char number[LP_FLOAT_LEN];
  switch (field->type) {
  case LP_FLOAT:
    lp_format_float(field->number, field->text, number);
    fputs(number, out);
    break;
  case LP_INT:
    fprintf(out, "%" PRId64 "i", field->integer);
    break;
  case LP_BOOL:
    fputs(field->integer ? "true" : "false", out);
    break;
  case LP_STRING:
    fputc('"', out);
    put_escaped(out, field->text, strlen(field->text), &STRING_FIELD);
    fputc('"', out);
    break;
  }
}

int lp_write_point(FILE *out, const lp_point *point) {
  written_keys keys;
  if (write_keys(point, &keys) != 0) {
    free_written_keys(&keys);
    return -1;
  }
  size_t first = 0;
  while (first < point->n_fields &&
         !field_writable(&point->fields[first], keys.fields[first]))
    first++;
  /* A measurement of only "#" would leave a lone "_": still a name. */
  if (first == point->n_fields || name_len(point->measurement) == 0) {
    free_written_keys(&keys);
    return 0;
  }

  put_measurement(out, point->measurement);
  put_tags(out, point, &keys);
  for (size_t i = first; i < point->n_fields; i++) {
    if (!field_wanted(point, &keys, i))
      continue;
    fprintf(out, "%c%s=", i == first ? ' ' : ',', keys.fields[i]);
    put_value(out, &point->fields[i]);
  }
  fprintf(out, " %" PRId64 "\n", point->time_ns);
  free_written_keys(&keys);
  return ferror(out) ? -1 : 1;
}
