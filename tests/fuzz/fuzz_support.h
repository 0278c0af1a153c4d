/* fuzz_support.h: what the fuzz targets share.
 *
 * Promises: the input's bytes become one NUL-terminated text (its own NULs
 * kept), read as a sequence of NUL-separated tokens, so that a target can
 * take several strings from one input and libFuzzer can mutate each of
 * them; a broken promise of the code under test ends the run with
 * abort(), which libFuzzer reports as a crash. */
#ifndef EF_FUZZ_SUPPORT_H
#define EF_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  char *text;       /* the input and a NUL; NULL when out of memory */
  const char *next; /* the next token */
  const char *end;  /* text + size: the final NUL */
} fuzz_input;

/* Copies data; fuzz_input_free releases the copy. */
void fuzz_input_init(fuzz_input *input, const uint8_t *data, size_t size);
void fuzz_input_free(fuzz_input *input);

/* The next NUL-terminated token, or NULL after the last one (an input of
 * n NULs has n + 1 tokens). */
const char *fuzz_input_token(fuzz_input *input);

/* Unless promise holds, says what broke on stderr and aborts. */
void fuzz_require(int promise, const char *what);

/* The entry each target (fuzz_<name>.c) defines: libFuzzer calls it, and
 * so does replay.c under `make check'. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
