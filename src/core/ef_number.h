/* ef_number.h: numbers as text, exactly and without printf, and text as
 * numbers, decimal only.
 *
 * Promises: a double's text is the shortest of %.15g, %.16g and %.17g
 * that reads back as the same double (0.421, not 0.42099999999999999);
 * an integer's is its plain decimal digits. Both are cheap enough for
 * every value of every reading. The one reading of a number written as
 * text, whoever wrote it (the cloud, a user's option), takes plain
 * decimal only: what strtod would also take (hex, hex floats, inf, nan,
 * blanks) is refused. */
#ifndef EF_NUMBER_H
#define EF_NUMBER_H

#include <stdint.h>

/* Room for either text, its NUL included. */
#define EF_NUMBER_TEXT_LEN 32

/* Returns 0, or -1 when number is not finite (out is then empty). */
int ef_number_text(double number, char out[EF_NUMBER_TEXT_LEN]);

/* The number text writes in plain decimal, [+-]digits[.digits][e[+-]digits]
 * (or [+-].digits...), into *number. Returns 0, or -1 for anything else,
 * and for a number beyond a double (1e999) or too small for one. */
int ef_number_parse(const char *text, double *number);

/* Writes the decimal digits of number (a '-' first when negative) and
 * returns their length. */
int ef_int_text(int64_t number, char out[EF_NUMBER_TEXT_LEN]);

#endif
