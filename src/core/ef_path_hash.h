/* ef_path_hash.h: the hash of a value's path, eight bytes a step.
 *
 * Every path of every reading is hashed as the walk builds it (its table of
 * paths handed out, the memo, the catalog's index of exact rows): byte by
 * byte (FNV-1a, ef_hash.h) that was three instructions a byte. This one
 * takes a word a step.
 *
 * Promises: the same value for the same bytes, however the hash was built
 * (whole, or continued segment by segment as a path grows), within one
 * process. Nothing more: it is not FNV-1a, starts from a random state in
 * each process and may change in any release, so it is never stored,
 * sent, or compared with another process's; what must never move (a
 * serial number's shard) uses ef_hash.h.
 *
 * A path's hash is built in two parts: its words state, over its whole
 * eight-byte words (the first len & ~7 bytes), which a longer path
 * continues; and its end, which adds the last len & 7 bytes and the
 * length. */
#ifndef EF_PATH_HASH_H
#define EF_PATH_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The words state of no bytes: a random start in each process
 * (ef_path_hash.c), so that an answer's paths cannot be made to meet on
 * purpose (the walk takes two paths of one hash for one path). */
extern uint64_t ef_path_seeded_basis;

static inline uint64_t ef_path_basis(void) { return ef_path_seeded_basis; }

#define EF_PATH_MULTIPLIER UINT64_C(0xFF51AFD7ED558CCD)

/* One word into the state: the full product's two halves folded into
 * one (every bit of the result depends on every bit of state and word,
 * so a difference in a word cannot be cancelled by a chosen difference
 * in the next without knowing the state). */
static inline uint64_t ef_path_step(uint64_t state, uint64_t word) {
#ifdef __SIZEOF_INT128__
  unsigned __int128 product =
      (unsigned __int128)(state ^ word) * EF_PATH_MULTIPLIER;
  return (uint64_t)product ^ (uint64_t)(product >> 64);
#else
  uint64_t mixed = (state ^ word) * EF_PATH_MULTIPLIER;
  mixed ^= mixed >> 32;
  mixed *= UINT64_C(0xC4CEB9FE1A85EC53);
  return mixed ^ (mixed >> 29);
#endif
}

static inline uint64_t ef_path_word_at(const char *bytes) {
  uint64_t word;
  memcpy(&word, bytes, sizeof(word));
  return word;
}

/* The words state of text's first `to` bytes, from state, that of its
 * first `from` (from <= to): only the words between are read. */
static inline uint64_t ef_path_words(uint64_t state, const char *text,
                                     size_t from, size_t to) {
  for (size_t at = from & ~(size_t)7; at + 8 <= to; at += 8)
    state = ef_path_step(state, ef_path_word_at(text + at));
  return state;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define EF_PATH_TAIL_MASK(bits) (~UINT64_C(0) << (64 - (bits)))
#define EF_PATH_FREE_BYTE_SHIFT 0
#else
#define EF_PATH_TAIL_MASK(bits) (~UINT64_C(0) >> (64 - (bits)))
#define EF_PATH_FREE_BYTE_SHIFT 56
#endif

/* The last word of text's first len bytes: its len & 7 bytes in the
 * places a whole word's load would put them, the rest 0. */
static inline uint64_t ef_path_tail(const char *text, size_t len) {
  uint64_t word = 0;
  memcpy(&word, text + (len & ~(size_t)7), len & 7);
  return word;
}

/* The same, where the eight bytes from text + (len & ~7) may be read
 * whatever they hold (a buffer with room past its text): one load and a
 * mask, no copy. */
static inline uint64_t ef_path_tail_padded(const char *text, size_t len) {
  unsigned bits = (unsigned)(len & 7) * 8;
  return bits == 0 ? 0
                   : ef_path_word_at(text + (len & ~(size_t)7)) &
                         EF_PATH_TAIL_MASK(bits);
}

/* The hash of a path of len bytes from its words state and its tail. The
 * tail holds at most seven bytes: the length goes in the eighth, so that
 * a tail ending in zero bytes is told from a shorter one. */
static inline uint64_t ef_path_end(uint64_t words, uint64_t tail, size_t len) {
  return ef_path_step(
      words, tail ^ ((uint64_t)(len & 0xFF) << EF_PATH_FREE_BYTE_SHIFT));
}

/* The hash of the len bytes at text. */
static inline uint64_t ef_path_hash(const char *text, size_t len) {
  return ef_path_end(ef_path_words(ef_path_basis(), text, 0, len),
                     ef_path_tail(text, len), len);
}

#endif
