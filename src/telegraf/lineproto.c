/* lineproto.c: escaping and number formatting of line protocol. */
#include "lineproto.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What each element escapes with a backslash. Backslashes themselves are
 * escaped only inside string fields: elsewhere every reader keeps a
 * backslash that does not precede one of these characters. */
#define MEASUREMENT_SPECIALS ", "
#define KEY_SPECIALS ", ="
#define STRING_SPECIALS "\"\\"

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

/* Writes the first len bytes of s with specials escaped, control
 * characters as spaces and invalid UTF-8 as '?'. */
static void put_escaped(FILE *out, const char *s, size_t len,
                        const char *specials) {
  const unsigned char *bytes = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    size_t seq = utf8_sequence_len(bytes + i);
    if (seq == 0) {
      fputc('?', out);
      i++;
      continue;
    }
    if (seq > 1) {
      fwrite(bytes + i, 1, seq, out);
      i += seq;
      continue;
    }
    int c = bytes[i++];
    if (c < 0x20 || c == 0x7F)
      c = ' ';
    if (strchr(specials, c) != NULL)
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

static int same_name(const char *a, const char *b) {
  size_t len = name_len(a);
  return len == name_len(b) && memcmp(a, b, len) == 0;
}

static int compare_names(const char *a, const char *b) {
  size_t len_a = name_len(a), len_b = name_len(b);
  int order = memcmp(a, b, len_a < len_b ? len_a : len_b);
  if (order != 0)
    return order;
  return (len_a > len_b) - (len_a < len_b);
}

/* InfluxDB refuses "time" as a tag or field key. */
static void put_key(FILE *out, const char *key) {
  size_t len = name_len(key);
  put_escaped(out, key, len, KEY_SPECIALS);
  if (len == 4 && memcmp(key, "time", 4) == 0)
    fputc('_', out);
}

static void put_measurement(FILE *out, const char *name) {
  size_t len = name_len(name);
  if (name[0] == '#') {
    fputc('_', out);
    name++;
    len--;
  }
  put_escaped(out, name, len, MEASUREMENT_SPECIALS);
}

static int tag_writable(const lp_tag *tag) {
  return name_len(tag->key) > 0 && name_len(tag->value) > 0;
}

/* Writes the tags in key order, each key once (the first given wins), by
 * repeatedly picking the least key above the last one written: tag sets
 * are small, and this needs no copy of them. */
static void put_tags(FILE *out, const lp_point *point) {
  const lp_tag *last = NULL;
  for (;;) {
    const lp_tag *next = NULL;
    for (size_t i = 0; i < point->n_tags; i++) {
      const lp_tag *tag = &point->tags[i];
      if (!tag_writable(tag) ||
          (last != NULL && compare_names(tag->key, last->key) <= 0))
        continue;
      if (next == NULL || compare_names(tag->key, next->key) < 0)
        next = tag;
    }
    if (next == NULL)
      return;
    fputc(',', out);
    put_key(out, next->key);
    fputc('=', out);
    put_escaped(out, next->value, name_len(next->value), KEY_SPECIALS);
    last = next;
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

static int field_writable(const lp_field *field) {
  if (name_len(field->key) == 0)
    return 0;
  if (field->type == LP_FLOAT)
    return isfinite(field->number);
  if (field->type == LP_STRING)
    return field->text != NULL;
  return 1;
}

/* Writable and the first of its key. */
static int field_wanted(const lp_point *point, size_t index) {
  const lp_field *field = &point->fields[index];
  if (!field_writable(field))
    return 0;
  for (size_t i = 0; i < index; i++)
    if (field_writable(&point->fields[i]) &&
        same_name(point->fields[i].key, field->key))
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
    put_escaped(out, field->text, strlen(field->text), STRING_SPECIALS);
    fputc('"', out);
    break;
  }
}

int lp_write_point(FILE *out, const lp_point *point) {
  size_t first = 0;
  while (first < point->n_fields && !field_writable(&point->fields[first]))
    first++;
  /* A measurement of only "#" would leave a lone "_": still a name. */
  if (first == point->n_fields || name_len(point->measurement) == 0)
    return 0;

  put_measurement(out, point->measurement);
  put_tags(out, point);
  for (size_t i = first; i < point->n_fields; i++) {
    if (!field_wanted(point, i))
      continue;
    fputc(i == first ? ' ' : ',', out);
    put_key(out, point->fields[i].key);
    fputc('=', out);
    put_value(out, &point->fields[i]);
  }
  fprintf(out, " %" PRId64 "\n", point->time_ns);
  return ferror(out) ? -1 : 1;
}
