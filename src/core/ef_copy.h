/* ef_copy.h: copies of a few bytes, inline.
 *
 * Every value of every reading copies a few bytes several times over (its
 * path's segment, its field key, its number's text, a line's tags): a call
 * to memcpy there costs more than the copy itself. Up to 32 bytes are
 * copied here as two to four words, overlapping where the length is not
 * a whole number of them; longer copies go to memcpy.
 *
 * Promises: as memcpy(to, from, n): reads only the n bytes at from, writes
 * only the n bytes at to; the two must not overlap. */
#ifndef EF_COPY_H
#define EF_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Not inlined: a caller's buffer of 32 bytes or less never gets here,
 * which the compiler cannot see, and would warn of. */
static __attribute__((noinline, unused)) void
ef_copy_long(void *to, const void *from, size_t n) {
  memcpy(to, from, n);
}

/* The n bytes at in (one to two words of type T) to out: the first and
 * the last word, which overlap unless n is two words. */
#define EF_COPY_ENDS(T, out, in, n)                                            \
  do {                                                                         \
    T first_, last_;                                                           \
    memcpy(&first_, (in), sizeof(T));                                          \
    memcpy(&last_, (in) + (n) - sizeof(T), sizeof(T));                         \
    memcpy((out), &first_, sizeof(T));                                         \
    memcpy((out) + (n) - sizeof(T), &last_, sizeof(T));                        \
  } while (0)

static inline void ef_copy(void *to, const void *from, size_t n) {
  unsigned char *out = to;
  const unsigned char *in = from;
  if (n > 32) {
    ef_copy_long(out, in, n);
  } else if (n > 16) {
    EF_COPY_ENDS(uint64_t, out, in, 16);
    EF_COPY_ENDS(uint64_t, out + n - 16, in + n - 16, 16);
  } else if (n >= 8) {
    EF_COPY_ENDS(uint64_t, out, in, n);
  } else if (n >= 4) {
    EF_COPY_ENDS(uint32_t, out, in, n);
  } else if (n > 0) {
    /* 1, 2 or 3 bytes: the first, the middle and the last. */
    unsigned char first = in[0], middle = in[n / 2], last = in[n - 1];
    out[0] = first;
    out[n / 2] = middle;
    out[n - 1] = last;
  }
}

#endif
