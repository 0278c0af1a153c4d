/* ef_number.c: numbers as text. */
#include "ef_number.h"

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
