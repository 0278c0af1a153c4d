/* number.h: numbers in and out: readings written as short decimal texts,
 * integers read from the command line and query strings.
 *
 * Promises: a value's JSON text is the value rounded to the given number of
 * decimals without trailing zeros ("229.7", "-104"), and the object holds
 * exactly the double that text parses to. Every reader (json-c, Python, a
 * test comparing two answers) therefore sees the same value, however many
 * times it is serialised. A value that only its rounding makes one of
 * EcoFlow's "no reading" markers (ef_value_rules.h) is stepped one unit of
 * its last place away, since the product takes such a value for no
 * reading; a marker given as the value (the model's) stays one. */
#ifndef SIM_NUMBER_H
#define SIM_NUMBER_H

struct json_object;

/* A number rounded to decimals places: an integer object when nothing is
 * left after the point, a double carrying its text otherwise; null when the
 * value is not finite. */
struct json_object *sim_json_number(double value, int decimals);

/* A JSON literal given as text: true, false, null, a number (kept exactly as
 * written, "253.0" stays "253.0"), a "string" or an array/object. NULL when
 * the text is not JSON. */
struct json_object *sim_json_literal(const char *text);

/* Reads text, a whole decimal integer in [min, max], into *out. Returns
 * 0, or -1 for anything else (empty, trailing junk, out of range). */
int sim_parse_integer(const char *text, long long min, long long max,
                      long long *out);

#endif
