/* ef_text.c: control characters and broken UTF-8 out of cloud text. */
#include "ef_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 character at s (at most left bytes) that
 * is not a control character, or 0. */
static size_t clean_char(const unsigned char *s, size_t left) {
  if (s[0] < 0x20 || s[0] == 0x7f)
    return 0;
  if (s[0] < 0x80)
    return 1;
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
    return 0;
  }
  if (n > left)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    code = code << 6 | (s[i] & 0x3fu);
  }
  /* Overlong forms, surrogates, beyond U+10FFFF, and the C1 controls. */
  static const unsigned int least[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < least[n] || (code >= 0xd800 && code <= 0xdfff) ||
      code > 0x10ffff || (code >= 0x80 && code <= 0x9f))
    return 0;
  return n;
}

char *ef_text_clean(const char *in, size_t len, char *out, size_t size) {
  if (size == 0)
    return out;
  const unsigned char *s = (const unsigned char *)in;
  size_t i = 0, n = 0;
  while (i < len && s[i] != '\0') {
    size_t step = clean_char(s + i, len - i);
    size_t write = step ? step : 1;
    if (n + write >= size)
      break;
    if (step)
      memcpy(out + n, s + i, step);
    else
      out[n] = '?';
    n += write;
    i += step ? step : 1;
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
    size_t step = clean_char(s + i, len - i);
    if (step == 0)
      return 0;
    i += step;
  }
  return 1;
}

char *ef_text_trimmed(const char *text) {
  while (isspace((unsigned char)*text))
    text++;
  size_t len = strlen(text);
  while (len > 0 && isspace((unsigned char)text[len - 1]))
    len--;
  return strndup(text, len);
}
