/* lineproto_check.c: reads line protocol the way Telegraf and InfluxDB 1.x
 * do, to judge what the encoder wrote. Written apart from lineproto.c on
 * purpose: an oracle that shared the encoder's code would share its
 * mistakes. */
#include "lineproto_check.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *at, *end; /* the rest of the line, without its newline */
  char *scratch;        /* unescaped elements, one after the other */
  size_t used;
  const char **tag_keys, **field_keys;
  size_t n_tag_keys, n_field_keys;
} line_reader;

/* Telegraf reads measurements and field keys as backslash pairs; tags as
 * pairs too, except that `\\` consumes one backslash only, so that `\\\,`
 * is a backslash and an escaped comma. */
typedef enum { MEASUREMENT, TAG, FIELD_KEY } element_kind;

static int valid_utf8(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    unsigned lead = s[i];
    size_t n;
    uint32_t code, least;
    if (lead < 0x80) {
      i++;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      n = 2, code = lead & 0x1F, least = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      n = 3, code = lead & 0x0F, least = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      n = 4, code = lead & 0x07, least = 0x10000;
    } else {
      return 0;
    }
    if (i + n > len)
      return 0;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      code = code << 6 | (s[i + k] & 0x3F);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return 0;
    i += n;
  }
  return 1;
}

/* The escapes Telegraf's unescapers undo (escape.go); every other pair is
 * kept as written. */
static int unescapes(element_kind kind, char c) {
  return strchr(kind == MEASUREMENT ? ", " : ", =\"", c) != NULL;
}

/* Reads one element up to an unescaped character of stops, unescaped into
 * the scratch buffer. Returns it, or NULL when it is empty or malformed. */
static const char *read_element(line_reader *r, element_kind kind,
                                const char *stops, const char **problem) {
  char *out = r->scratch + r->used;
  size_t n = 0;
  while (r->at < r->end && strchr(stops, *r->at) == NULL) {
    if (*r->at != '\\') {
      out[n++] = *r->at++;
      continue;
    }
    if (r->at + 1 == r->end) {
      *problem = "a backslash escapes the end of the line";
      return NULL;
    }
    char next = r->at[1];
    if (kind == TAG && next == '\\') {
      out[n++] = *r->at++;
    } else {
      if (!unescapes(kind, next))
        out[n++] = '\\';
      out[n++] = next;
      r->at += 2;
    }
  }
  if (n == 0) {
    *problem = kind == MEASUREMENT ? "empty measurement"
               : kind == TAG       ? "empty tag key or value"
                                   : "empty field key";
    return NULL;
  }
  out[n] = '\0';
  r->used += n + 1;
  return out;
}

static int expect(line_reader *r, char c) {
  if (r->at == r->end || *r->at != c)
    return -1;
  r->at++;
  return 0;
}

/* Adds key to keys; the problem when it is "time" or already there. */
static const char *add_key(const char **keys, size_t *n, const char *key) {
  if (strcmp(key, "time") == 0)
    return "the key \"time\", refused by InfluxDB";
  for (size_t i = 0; i < *n; i++)
    if (strcmp(keys[i], key) == 0)
      return "a duplicate key";
  keys[(*n)++] = key;
  return NULL;
}

static int digits(const char *s, size_t len) {
  return len > 0 && strspn(s, "0123456789") >= len;
}

/* Telegraf's float: '-'? (digit+ ('.' digit*)? | '.' digit+), then an
 * optional exponent; finite. */
static int is_float(const char *s, size_t len) {
  const char *p = s, *end = s + len;
  p += p < end && *p == '-';
  size_t whole = strspn(p, "0123456789");
  whole = whole > (size_t)(end - p) ? (size_t)(end - p) : whole;
  p += whole;
  size_t fraction = 0;
  if (p < end && *p == '.') {
    p++;
    fraction = strspn(p, "0123456789");
    fraction = fraction > (size_t)(end - p) ? (size_t)(end - p) : fraction;
    p += fraction;
  }
  if (whole == 0 && fraction == 0)
    return 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    p += p < end && (*p == '+' || *p == '-');
    if (!digits(p, (size_t)(end - p)))
      return 0;
    p = end;
  }
  char copy[64];
  if (p != end || len >= sizeof(copy))
    return 0;
  memcpy(copy, s, len);
  copy[len] = '\0';
  return isfinite(strtod(copy, NULL));
}

/* Digits, after an optional '-', that fit an int64. */
static int is_int64(const char *s, size_t len) {
  char copy[32];
  size_t sign = len > 0 && s[0] == '-';
  if (len >= sizeof(copy) || !digits(s + sign, len - sign))
    return 0;
  memcpy(copy, s, len);
  copy[len] = '\0';
  errno = 0;
  strtoll(copy, NULL, 10);
  return errno == 0;
}

static const char *read_string(line_reader *r) {
  for (r->at++; r->at < r->end; r->at++) {
    if (*r->at == '"') {
      r->at++;
      return NULL;
    }
    if (*r->at == '\\') {
      if (r->at + 1 == r->end || strchr("\\\"", r->at[1]) == NULL)
        return "a backslash in a string escapes neither '\\' nor '\"'";
      r->at++;
    }
  }
  return "a string without its closing quote";
}

static const char *read_value(line_reader *r) {
  if (r->at < r->end && *r->at == '"')
    return read_string(r);
  const char *value = r->at;
  size_t len = strcspn(value, ", ");
  len = len > (size_t)(r->end - value) ? (size_t)(r->end - value) : len;
  r->at += len;
  static const char *const booleans[] = {"true",  "TRUE",  "True",  "T", "t",
                                         "false", "FALSE", "False", "F", "f"};
  for (size_t i = 0; i < sizeof(booleans) / sizeof(booleans[0]); i++)
    if (strlen(booleans[i]) == len && memcmp(booleans[i], value, len) == 0)
      return NULL;
  if (len > 1 && value[len - 1] == 'i') {
    size_t sign = value[0] == '-';
    int leading_zero = value[sign] == '0' && len - 1 - sign > 1;
    return !leading_zero && is_int64(value, len - 1)
               ? NULL
               : "an integer out of range or malformed";
  }
  return is_float(value, len) ? NULL
                              : "a value that is no number, boolean "
                                "or string";
}

static const char *read_line(line_reader *r) {
  size_t len = (size_t)(r->end - r->at);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)r->at[i] < 0x20 || r->at[i] == 0x7F)
      return "a control character inside the line";
  if (!valid_utf8((const unsigned char *)r->at, len))
    return "invalid UTF-8";
  if (len > 0 && r->at[0] == '#')
    return "a line that starts a comment";
  const char *problem = NULL, *key;
  if (read_element(r, MEASUREMENT, " ,", &problem) == NULL)
    return problem;
  while (expect(r, ',') == 0) {
    if ((key = read_element(r, TAG, " ,=", &problem)) == NULL)
      return problem;
    if (expect(r, '=') != 0)
      return "a tag without '='";
    if (read_element(r, TAG, " ,=", &problem) == NULL)
      return problem;
    if ((problem = add_key(r->tag_keys, &r->n_tag_keys, key)) != NULL)
      return problem;
  }
  if (expect(r, ' ') != 0)
    return "no single space before the fields";
  do {
    if ((key = read_element(r, FIELD_KEY, " ,=", &problem)) == NULL)
      return problem;
    if (expect(r, '=') != 0)
      return "a field without '='";
    if ((problem = read_value(r)) != NULL ||
        (problem = add_key(r->field_keys, &r->n_field_keys, key)) != NULL)
      return problem;
  } while (expect(r, ',') == 0);
  if (expect(r, ' ') != 0)
    return "no single space before the timestamp";
  return is_int64(r->at, (size_t)(r->end - r->at))
             ? NULL
             : "a line that does not end in an integer timestamp";
}

static const char *check_line(const char *line, size_t len) {
  line_reader r = {.at = line, .end = line + len};
  r.scratch = malloc(len + 1);
  r.tag_keys = malloc((len / 2 + 1) * sizeof(*r.tag_keys));
  r.field_keys = malloc((len / 2 + 1) * sizeof(*r.field_keys));
  const char *problem = r.scratch && r.tag_keys && r.field_keys
                            ? read_line(&r)
                            : NULL; /* out of memory: nothing to judge */
  free(r.scratch);
  free(r.tag_keys);
  free(r.field_keys);
  return problem;
}

const char *lp_check_text(const char *text, size_t len, size_t *lines) {
  *lines = 0;
  for (size_t start = 0; start < len;) {
    const char *newline = memchr(text + start, '\n', len - start);
    if (newline == NULL)
      return "a line without its newline";
    size_t line_len = (size_t)(newline - (text + start));
    const char *problem = check_line(text + start, line_len);
    if (problem != NULL)
      return problem;
    ++*lines;
    start += line_len + 1;
  }
  return NULL;
}
