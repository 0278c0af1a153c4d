/* ef_hash.h: FNV-1a, the project's one hash of text, 32 and 64 bit.
 *
 * Promises: the published FNV-1a (its offset bases and primes), on
 * fixed-width types, so that a hash is the same on every architecture and
 * in every release: what is derived from it and must never move (the
 * shard a serial number falls in, ef_serial_shard; the simulator's
 * devices) stays put. A hash is continued by handing it back; one starts
 * from EF_FNV32_BASIS or EF_FNV64_BASIS. */
#ifndef EF_HASH_H
#define EF_HASH_H

#include <stddef.h>
#include <stdint.h>

#define EF_FNV32_BASIS UINT32_C(2166136261)
#define EF_FNV32_PRIME UINT32_C(16777619)
#define EF_FNV64_BASIS UINT64_C(14695981039346656037)
#define EF_FNV64_PRIME UINT64_C(1099511628211)

static inline uint32_t ef_fnv32_byte(uint32_t hash, unsigned char byte) {
  return (hash ^ byte) * EF_FNV32_PRIME;
}

static inline uint64_t ef_fnv64_byte(uint64_t hash, unsigned char byte) {
  return (hash ^ byte) * EF_FNV64_PRIME;
}

/* hash continued over the len bytes at data. */
static inline uint32_t ef_fnv32_bytes(uint32_t hash, const void *data,
                                      size_t len) {
  const unsigned char *byte = data;
  for (size_t i = 0; i < len; i++)
    hash = ef_fnv32_byte(hash, byte[i]);
  return hash;
}

/* Eight bytes a step: every path of every reading is hashed here, and the
 * loop's own test and count then cost once per eight bytes, not per byte
 * (the hash is the same). */
static inline uint64_t ef_fnv64_bytes(uint64_t hash, const void *data,
                                      size_t len) {
  const unsigned char *byte = data;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    hash = ef_fnv64_byte(hash, byte[i]);
    hash = ef_fnv64_byte(hash, byte[i + 1]);
    hash = ef_fnv64_byte(hash, byte[i + 2]);
    hash = ef_fnv64_byte(hash, byte[i + 3]);
    hash = ef_fnv64_byte(hash, byte[i + 4]);
    hash = ef_fnv64_byte(hash, byte[i + 5]);
    hash = ef_fnv64_byte(hash, byte[i + 6]);
    hash = ef_fnv64_byte(hash, byte[i + 7]);
  }
  for (; i < len; i++)
    hash = ef_fnv64_byte(hash, byte[i]);
  return hash;
}

/* hash continued over text, up to its NUL. */
static inline uint32_t ef_fnv32_text(uint32_t hash, const char *text) {
  for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
    hash = ef_fnv32_byte(hash, *c);
  return hash;
}

/* hash continued over text and a 0xFF that ends it (no UTF-8 text holds
 * that byte), so that texts hashed one after another are told apart
 * wherever one ends: "ab" then "c" is not "a" then "bc". */
static inline uint32_t ef_fnv32_text_ended(uint32_t hash, const char *text) {
  return ef_fnv32_byte(ef_fnv32_text(hash, text), 0xFF);
}

static inline uint64_t ef_fnv64_text(uint64_t hash, const char *text) {
  for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
    hash = ef_fnv64_byte(hash, *c);
  return hash;
}

#endif
