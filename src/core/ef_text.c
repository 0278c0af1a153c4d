/* ef_text.c: control characters, bidi controls and broken UTF-8 out of
 * cloud text. */
#include "ef_text.h"

#include "ef_copy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Characters that break a line or reorder the text around them: a name
 * holding one could forge a log line, or make a pasted comment show
 * other text than the one it holds (Trojan Source, CVE-2021-42574). */
static const struct {
  unsigned int first, last;
} unsafe[] = {
    {0x80, 0x9f},     /* the C1 controls, NEL (U+0085) among them */
    {0x200e, 0x200f}, /* left-to-right and right-to-left marks */
    {0x2028, 0x2029}, /* line and paragraph separators */
    {0x202a, 0x202e}, /* bidi embeddings and overrides, and their end */
    {0x2066, 0x2069}, /* bidi isolates, and their end */
    {0x061c, 0x061c}, /* the Arabic letter mark */
};

/* The length of the character at s (at most left bytes): of a valid
 * UTF-8 character, else 1 (a byte that is not part of one). *clean tells
 * whether it may stay: valid, and neither a control character nor an
 * unsafe one. */
static size_t char_at(const unsigned char *s, size_t left, int *clean) {
  *clean = 0;
  if (s[0] < 0x20 || s[0] == 0x7f)
    return 1;
  if (s[0] < 0x80) {
    *clean = 1;
    return 1;
  }
  size_t n;
  unsigned int code;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2;
    code = s[0] & 0x1fu;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
    code = s[0] & 0x0fu;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
    code = s[0] & 0x07u;
  } else {
    return 1;
  }
  if (n > left)
    return 1;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 1;
    code = code << 6 | (s[i] & 0x3fu);
  }
  /* Overlong forms, surrogates, beyond U+10FFFF. */
  static const unsigned int least[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < least[n] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
    return 1;
  /* A valid character that may not stay becomes one '?'. */
  for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
    if (code >= unsafe[i].first && code <= unsafe[i].last)
      return n;
  *clean = 1;
  return n;
}

char *ef_text_clean(const char *in, size_t len, char *out, size_t size) {
  if (size == 0)
    return out;
  const unsigned char *s = (const unsigned char *)in;
  size_t i = 0, n = 0;
  while (i < len && s[i] != '\0') {
    /* Printable ASCII, nearly all of any name, copied in one pass. */
    while (i < len && s[i] >= 0x20 && s[i] < 0x7f && n + 1 < size)
      out[n++] = (char)s[i++];
    if (i == len || s[i] == '\0' || n + 1 >= size)
      break;
    int clean;
    size_t step = char_at(s + i, len - i, &clean);
    size_t write = clean ? step : 1;
    if (n + write >= size)
      break;
    if (clean)
      memcpy(out + n, s + i, step);
    else
      out[n] = '?';
    n += write;
    i += step;
  }
  out[n] = '\0';
  return out;
}

char *ef_text_clean_dup(const char *in) {
  size_t len = strlen(in);
  char *out = malloc(len + 1);
  return out != NULL ? ef_text_clean(in, len, out, len + 1) : NULL;
}

int ef_text_is_clean(const char *in) {
  const unsigned char *s = (const unsigned char *)in;
  size_t len = strlen(in);
  for (size_t i = 0; i < len;) {
    int clean;
    i += char_at(s + i, len - i, &clean);
    if (!clean)
      return 0;
  }
  return 1;
}

void ef_text_wrap(FILE *out, const char *lead, int indent, const char *text) {
  enum { WIDTH = 79 };
  int column = fprintf(out, "%s", lead);
  if (column + 1 > indent)
    column = fprintf(out, "\n") - 1;
  column += fprintf(out, "%*s", indent - column, "");
  for (int first = 1;; first = 0) {
    text += strspn(text, " ");
    int word = (int)strcspn(text, " ");
    if (word == 0)
      break;
    if (!first && column + 1 + word > WIDTH)
      column = fprintf(out, "\n%*s", indent, "") - 1;
    else if (!first)
      column += fprintf(out, " ");
    column += fprintf(out, "%.*s", word, text);
    text += word;
  }
  fputc('\n', out);
}

size_t ef_text_copy(char *out, size_t size, const char *text) {
  if (size == 0)
    return 0;
  size_t len = strnlen(text, size - 1);
  ef_copy(out, text, len);
  out[len] = '\0';
  return len;
}

char *ef_text_trimmed(const char *text) {
  while (isspace((unsigned char)*text))
    text++;
  size_t len = strlen(text);
  while (len > 0 && isspace((unsigned char)text[len - 1]))
    len--;
  return strndup(text, len);
}
