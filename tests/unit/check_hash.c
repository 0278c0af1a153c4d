/* Unit tests of ef_hash.h: FNV-1a as published, and what must never move
 * with it; and of ef_path_hash.h: one value for one path, however built. */
#include "ef_account.h"
#include "ef_hash.h"
#include "ef_path_hash.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

/* The FNV-1a test vectors of its authors (Fowler, Noll, Vo). */
static const struct {
  const char *text;
  uint32_t fnv32;
  uint64_t fnv64;
} vectors[] = {
    {"", UINT32_C(0x811c9dc5), UINT64_C(0xcbf29ce484222325)},
    {"a", UINT32_C(0xe40c292c), UINT64_C(0xaf63dc4c8601ec8c)},
    {"foobar", UINT32_C(0xbf9cf968), UINT64_C(0x85944171f73967e8)},
};

START_TEST(published_vectors) {
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    const char *text = vectors[i].text;
    ck_assert_uint_eq(ef_fnv32_text(EF_FNV32_BASIS, text), vectors[i].fnv32);
    ck_assert_uint_eq(ef_fnv32_bytes(EF_FNV32_BASIS, text, strlen(text)),
                      vectors[i].fnv32);
    ck_assert_uint_eq(ef_fnv64_text(EF_FNV64_BASIS, text), vectors[i].fnv64);
    ck_assert_uint_eq(ef_fnv64_bytes(EF_FNV64_BASIS, text, strlen(text)),
                      vectors[i].fnv64);
  }
}
END_TEST

/* Bytes are hashed eight at a time where they can be: the same hash as
 * byte by byte, whatever the length and wherever a hash is continued. */
START_TEST(bytes_hash_as_text_at_every_length) {
  const char *text = "bp_addr.HJ3AAD462A2F9601.bpCellVol[12]";
  size_t len = strlen(text);
  for (size_t n = 0; n <= len; n++) {
    char prefix[64];
    memcpy(prefix, text, n);
    prefix[n] = '\0';
    uint64_t whole = ef_fnv64_text(EF_FNV64_BASIS, prefix);
    ck_assert_uint_eq(ef_fnv64_bytes(EF_FNV64_BASIS, text, n), whole);
    for (size_t cut = 0; cut <= n; cut++)
      ck_assert_uint_eq(
          ef_fnv64_bytes(ef_fnv64_bytes(EF_FNV64_BASIS, text, cut), text + cut,
                         n - cut),
          whole);
  }
}
END_TEST

/* A hash handed back goes on where it stopped: "foo" then "bar" is
 * "foobar"; bytes go on past a NUL, text stops at it. */
START_TEST(a_hash_continues) {
  ck_assert_uint_eq(ef_fnv32_text(ef_fnv32_text(EF_FNV32_BASIS, "foo"), "bar"),
                    UINT32_C(0xbf9cf968));
  ck_assert_uint_eq(ef_fnv64_text(ef_fnv64_text(EF_FNV64_BASIS, "foo"), "bar"),
                    UINT64_C(0x85944171f73967e8));
  ck_assert_uint_eq(ef_fnv64_byte(ef_fnv64_text(EF_FNV64_BASIS, "fooba"), 'r'),
                    UINT64_C(0x85944171f73967e8));
  ck_assert_uint_ne(ef_fnv32_bytes(EF_FNV32_BASIS, "a\0b", 3),
                    ef_fnv32_text(EF_FNV32_BASIS, "a\0b"));
}
END_TEST

/* The shard a serial number falls in is part of how agents split a fleet:
 * it must never move between releases (values of the hash as released). */
START_TEST(shards_never_move) {
  ck_assert_uint_eq(ef_serial_shard("HJ31ZDH2ZF690029", 4096), 2071);
  ck_assert_uint_eq(ef_serial_shard("R351ZE1AZH4E0042", 4), 0);
  ck_assert_uint_eq(ef_serial_shard("BK11ZEB4HF5E0123", 3), 2);
  ck_assert_uint_eq(ef_serial_shard("HW51ZOH4SF4E0042", 16), 5);
}
END_TEST

/* A path's hash as the walk builds it: segment by segment, the words
 * state handed on, each end taken with the padded load from a buffer
 * whose bytes past the path hold anything. */
static uint64_t hash_as_walked(const char *text, const size_t *cuts,
                               size_t n_cuts, size_t len) {
  char buffer[64 + 8];
  memset(buffer, 0xA5, sizeof(buffer)); /* what a longer path left */
  memcpy(buffer, text, len);
  uint64_t words = ef_path_basis(), hash = 0;
  size_t at = 0;
  for (size_t i = 0; i <= n_cuts; i++) {
    size_t to = i < n_cuts ? cuts[i] : len;
    words = ef_path_words(words, buffer, at, to);
    hash = ef_path_end(words, ef_path_tail_padded(buffer, to), to);
    at = to;
  }
  return hash;
}

START_TEST(a_path_hashes_alike_however_built) {
  const char *text = "bp_addr.HJ3AAD462A2F9601.bpCellVol[12]";
  size_t len = strlen(text);
  for (size_t n = 0; n <= len; n++) {
    uint64_t whole = ef_path_hash(text, n);
    ck_assert_uint_eq(hash_as_walked(text, NULL, 0, n), whole);
    for (size_t a = 0; a <= n; a++) {
      size_t one[] = {a};
      ck_assert_uint_eq(hash_as_walked(text, one, 1, n), whole);
      for (size_t b = a; b <= n; b++) {
        size_t two[] = {a, b};
        ck_assert_uint_eq(hash_as_walked(text, two, 2, n), whole);
      }
    }
  }
}
END_TEST

/* Paths that differ, however little (one bit of one byte anywhere, a
 * length, trailing zero bytes), hash apart: 2^-64 chances aside, which
 * the walk's table of paths handed out takes for one path. */
START_TEST(paths_that_differ_hash_apart) {
  enum { LEN = 24 };
  uint64_t hashes[(LEN + 1) + LEN + LEN * 8];
  size_t n = 0;
  char text[LEN + 1];
  for (size_t i = 0; i < LEN; i++)
    text[i] = (char)('a' + i);
  /* Every prefix, with and without a zero byte after it. */
  for (size_t len = 0; len <= LEN; len++) {
    char zeroed[LEN + 2];
    memcpy(zeroed, text, len);
    zeroed[len] = '\0';
    hashes[n++] = ef_path_hash(zeroed, len);
    if (len < LEN)
      hashes[n++] = ef_path_hash(zeroed, len + 1);
  }
  /* Every single-bit change of the whole path. */
  for (size_t at = 0; at < LEN; at++)
    for (int bit = 0; bit < 8; bit++) {
      char changed[LEN];
      memcpy(changed, text, LEN);
      changed[at] = (char)(changed[at] ^ (1 << bit));
      hashes[n++] = ef_path_hash(changed, LEN);
    }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      ck_assert_msg(hashes[i] != hashes[j], "hashes %zu and %zu meet", i, j);
  /* And a table's low bits: 100,000 paths of a fleet's shape spread over
   * 2^16 slots as random keys would (about 100,000 * (1 - e^-1.53) / 1.53
   * distinct slots: 51,500; a hash that ignores a word fills far fewer). */
  static unsigned char used[1 << 16];
  size_t distinct = 0;
  for (unsigned i = 0; i < 100000; i++) {
    char path[64];
    int len = snprintf(path, sizeof(path), "bp_addr.HJ3%09uF.bpVol", i);
    size_t slot = ef_path_hash(path, (size_t)len) & 0xFFFF;
    distinct += !used[slot];
    used[slot] = 1;
  }
  ck_assert_uint_gt(distinct, 50000);
}
END_TEST

/* Paths made to meet under a hash without a random start or with a
 * one-multiply step do not meet: a pair a search found against the
 * fixed start, and the difference a multiply passes unchanged (the top
 * bit of a word), cancelled by the next word as it would be then. */
START_TEST(paths_made_to_meet_do_not) {
  const char *found[2] = {"aaaaaaaabbbbbbbb", "XOBLJTQG5Vtjxcb)"};
  ck_assert_uint_ne(ef_path_hash(found[0], 16), ef_path_hash(found[1], 16));
  unsigned char one[16], other[16];
  memcpy(one, "bp_addr.HJ3AAD46", 16);
  memcpy(other, one, 16);
  other[7] ^= 0x80;  /* the first word's top bit */
  other[15] ^= 0x80; /* and the second's, */
  other[11] ^= 0x80; /* with bit 31 of its fold */
  ck_assert_uint_ne(ef_path_hash((const char *)one, 16),
                    ef_path_hash((const char *)other, 16));
}
END_TEST

UNIT_MAIN("hash", published_vectors, bytes_hash_as_text_at_every_length,
          a_hash_continues, shards_never_move,
          a_path_hashes_alike_however_built, paths_that_differ_hash_apart,
          paths_made_to_meet_do_not)
