/* lineproto_check.h: an independent reader of line protocol, the oracle of
 * the encoder's fuzz target.
 *
 * Promises: a text passes when every line of it is a point that Telegraf's
 * influx parser reads (its grammar, plugins/parsers/influx/machine.go.rl:
 * backslash pairs in measurements and field keys, the tag rule that lets
 * `\\` precede an escape, quoted strings with only `\"` and `\\`) and that
 * InfluxDB 1.x stores: no control character but the newline that ends the
 * line, valid UTF-8, a measurement not starting a comment, no empty or
 * duplicate tag key, no duplicate field key, no key "time", numbers in
 * range, and an integer timestamp before every newline. */
#ifndef EF_FUZZ_LINEPROTO_CHECK_H
#define EF_FUZZ_LINEPROTO_CHECK_H

#include <stddef.h>

/* Returns NULL when text[0..len) is well formed, else what is wrong with
 * it; *lines receives the number of lines. */
const char *lp_check_text(const char *text, size_t len, size_t *lines);

#endif
