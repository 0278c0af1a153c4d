/* ef_number.c: numbers as text, and text as numbers. */
#include "ef_number.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text of number when it is a whole number of thousandths of at
 * most 15 digits (an age in milliseconds: every reading has one), as the
 * printf below would write it, without it; 0 when it is not such a
 * number. */
static int thousandths_text(double number, char out[EF_NUMBER_TEXT_LEN]) {
  if (!(number > -1e12 && number < 1e12))
    return 0;
  double scaled = number * 1000;
  int64_t whole = (int64_t)scaled;
  if ((double)whole != scaled || (double)whole / 1000.0 != number || whole == 0)
    return 0;
  uint64_t magnitude = whole < 0 ? 0 - (uint64_t)whole : (uint64_t)whole;
  char digits[EF_NUMBER_TEXT_LEN];
  int n = ef_int_text((int64_t)(magnitude / 1000), digits);
  char *at = out;
  if (whole < 0)
    *at++ = '-';
  memcpy(at, digits, (size_t)n);
  at += n;
  unsigned fraction = (unsigned)(magnitude % 1000);
  if (fraction != 0) {
    *at++ = '.';
    *at++ = (char)('0' + fraction / 100);
    fraction %= 100;
    if (fraction != 0) {
      *at++ = (char)('0' + fraction / 10);
      fraction %= 10;
      if (fraction != 0)
        *at++ = (char)('0' + fraction);
    }
  }
  *at = '\0';
  return 1;
}

int ef_number_text(double number, char out[EF_NUMBER_TEXT_LEN]) {
  out[0] = '\0';
  if (!isfinite(number))
    return -1;
  if (thousandths_text(number, out))
    return 0;
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(out, EF_NUMBER_TEXT_LEN, "%.*g", digits, number);
    if (strtod(out, NULL) == number)
      break;
  }
  return 0;
}

/* "00" to "99": an integer is written two digits a step (every integer
 * of every reading is, and most have several). */
static const char digit_pairs[] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

/* 10^n for n from 0 to 19, the last that a uint64_t holds. */
static const uint64_t powers_of_ten[20] = {1u,
                                           10u,
                                           100u,
                                           1000u,
                                           10000u,
                                           100000u,
                                           1000000u,
                                           10000000u,
                                           100000000u,
                                           1000000000u,
                                           10000000000u,
                                           100000000000u,
                                           1000000000000u,
                                           10000000000000u,
                                           100000000000000u,
                                           1000000000000000u,
                                           10000000000000000u,
                                           100000000000000000u,
                                           1000000000000000000u,
                                           10000000000000000000u};

/* Without a division per digit: every integer of every reading passes.
 * The bits give the count or one less (1233 / 4096 is just below
 * log10 2); one compare tells which. */
static int digit_count(uint64_t magnitude) {
  if (magnitude == 0)
    return 1;
  int bits = 64 - __builtin_clzll(magnitude);
  int n = (bits * 1233) >> 12;
  return n + (magnitude >= powers_of_ten[n]);
}

int ef_int_text(int64_t number, char out[EF_NUMBER_TEXT_LEN]) {
  /* In unsigned arithmetic, so that INT64_MIN has a magnitude too. */
  uint64_t magnitude = number < 0 ? 0 - (uint64_t)number : (uint64_t)number;
  int len = (number < 0) + digit_count(magnitude);
  if (number < 0)
    out[0] = '-';
  out[len] = '\0';
  char *at = out + len;
  for (; magnitude >= 100; magnitude /= 100) {
    at -= 2;
    memcpy(at, digit_pairs + 2 * (magnitude % 100), 2);
  }
  if (magnitude >= 10) {
    at -= 2;
    memcpy(at, digit_pairs + 2 * magnitude, 2);
  } else {
    at[-1] = (char)('0' + magnitude);
  }
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
