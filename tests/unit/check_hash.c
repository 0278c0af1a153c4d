/* Unit tests of ef_hash.h: FNV-1a as published, and what must never move
 * with it. */
#include "ef_account.h"
#include "ef_hash.h"
#include "unit.h"

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

UNIT_MAIN("hash", published_vectors, bytes_hash_as_text_at_every_length,
          a_hash_continues, shards_never_move)
