/* ef_number.c: numbers as text, and text as numbers. */
#include "ef_number.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ef_number_text(double number, char out[EF_NUMBER_TEXT_LEN]) {
  out[0] = '\0';
  if (!isfinite(number))
    return -1;
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(out, EF_NUMBER_TEXT_LEN, "%.*g", digits, number);
    if (strtod(out, NULL) == number)
      break;
  }
  return 0;
}

int ef_int_text(int64_t number, char out[EF_NUMBER_TEXT_LEN]) {
  char digits[EF_NUMBER_TEXT_LEN];
  /* In unsigned arithmetic, so that INT64_MIN has a magnitude too. */
  uint64_t magnitude = number < 0 ? 0 - (uint64_t)number : (uint64_t)number;
  int n = 0;
  do {
    digits[n++] = (char)('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  int len = 0;
  if (number < 0)
    out[len++] = '-';
  while (n > 0)
    out[len++] = digits[--n];
  out[len] = '\0';
  return len;
}

int ef_number_parse(const char *text, double *number) {
  const char *c = text + (*text == '-' || *text == '+');
  if (!isdigit((unsigned char)*c) &&
      !(*c == '.' && isdigit((unsigned char)c[1])))
    return -1;
  /* Only these characters: strtod then tells where the number ends. */
  for (; *c != '\0'; c++)
    if (!isdigit((unsigned char)*c) && strchr(".eE+-", *c) == NULL)
      return -1;
  char *end = NULL;
  errno = 0;
  *number = strtod(text, &end);
  return *end == '\0' && errno == 0 && isfinite(*number) ? 0 : -1;
}
