/* Unit tests of ef_text.c: what cloud text may hold once cleaned; and of
 * ef_copy.h, its short copies. */
#include "ef_account.h"
#include "ef_copy.h"
#include "ef_text.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

/* Each character that breaks a line or reorders the text around it, in
 * UTF-8: none may reach a log line or a pasted comment. */
static const struct {
  const char *what;
  const char *utf8;
} unsafe[] = {
    {"NEL U+0085", "\xc2\x85"},
    {"CSI U+009B", "\xc2\x9b"},
    {"LRM U+200E", "\xe2\x80\x8e"},
    {"RLM U+200F", "\xe2\x80\x8f"},
    {"line separator U+2028", "\xe2\x80\xa8"},
    {"paragraph separator U+2029", "\xe2\x80\xa9"},
    {"LRE U+202A", "\xe2\x80\xaa"},
    {"RLE U+202B", "\xe2\x80\xab"},
    {"PDF U+202C", "\xe2\x80\xac"},
    {"LRO U+202D", "\xe2\x80\xad"},
    {"RLO U+202E", "\xe2\x80\xae"},
    {"LRI U+2066", "\xe2\x81\xa6"},
    {"RLI U+2067", "\xe2\x81\xa7"},
    {"FSI U+2068", "\xe2\x81\xa8"},
    {"PDI U+2069", "\xe2\x81\xa9"},
    {"ALM U+061C", "\xd8\x9c"},
};

START_TEST(unsafe_characters_become_question_marks) {
  for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
    char in[64], out[64];
    snprintf(in, sizeof(in), "Roof%sfoor", unsafe[i].utf8);
    ef_text_clean(in, strlen(in), out, sizeof(out));
    ck_assert_msg(strcmp(out, "Roof?foor") == 0, "%s: got \"%s\"",
                  unsafe[i].what, out);
    ck_assert_msg(!ef_text_is_clean(in), "%s counts as clean", unsafe[i].what);
    char problem[EF_PROBLEM_LEN];
    ck_assert_msg(ef_account_name(in, "a device name", problem) != 0,
                  "%s is taken in a configured name", unsafe[i].what);
  }
}
END_TEST

/* Their neighbours, and the text of any language, stay as they are. */
START_TEST(other_characters_stay) {
  static const char *const kept[] = {
      "K\xc3\xbc"
      "che",                              /* Küche */
      "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", /* Hebrew, right to left by itself */
      "a\xe2\x80\x8d"
      "b", /* ZWJ U+200D */
      "a\xe2\x80\xaf"
      "b", /* narrow no-break space U+202F */
      "a\xe2\x80\xa7"
      "b", /* hyphenation point U+2027 */
      "a\xe2\x81\xa5"
      "b", /* U+2065 */
      "a\xc2\xa0"
      "b",                /* no-break space U+00A0 */
      "\xf0\x9f\x94\xa5", /* U+1F525 */
  };
  for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
    char out[64];
    ef_text_clean(kept[i], strlen(kept[i]), out, sizeof(out));
    ck_assert_str_eq(out, kept[i]);
    ck_assert(ef_text_is_clean(kept[i]));
    char problem[EF_PROBLEM_LEN];
    ck_assert_int_eq(ef_account_name(kept[i], "a device name", problem), 0);
  }
}
END_TEST

/* A cut never splits a character, nor leaves half of an unsafe one. */
START_TEST(cut_at_character_boundary) {
  char out[6];
  ef_text_clean("ab\xe2\x80\xae"
                "cdef",
                9, out, sizeof(out));
  ck_assert_str_eq(out, "ab?cd");
  ef_text_clean("abcd\xc3\xbc", 6, out, sizeof(out));
  ck_assert_str_eq(out, "abcd");
}
END_TEST

/* A copy cut as snprintf's "%s" cuts it, at every room from none to more
 * than enough, of empty, short and long texts; nothing past the room is
 * written. */
START_TEST(copies_cut_as_printf_cuts) {
  static const char *const texts[] = {"", "a", "2026-12-06 21:33:26",
                                      "\xc3\xa9t\xc3\xa9"};
  for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
    for (size_t size = 0; size <= 24; size++) {
      char ours[32], want[32];
      memset(ours, 'x', sizeof(ours));
      memset(want, 'x', sizeof(want));
      size_t len = ef_text_copy(ours, size, texts[t]);
      snprintf(want, size, "%s", texts[t]);
      ck_assert(memcmp(ours, want, sizeof(ours)) == 0);
      ck_assert_uint_eq(len, size ? strlen(want) : 0);
    }
}
END_TEST

/* ef_copy is memcpy: every length to 80 (each of its ways, and past
 * them), from and to every alignment, writes the n bytes and nothing
 * either side of them. */
START_TEST(short_copies_copy_exactly_their_bytes) {
  unsigned char from[128], to[128], expected[128];
  for (size_t i = 0; i < sizeof(from); i++)
    from[i] = (unsigned char)(i * 37 + 11);
  for (size_t n = 0; n <= 80; n++)
    for (size_t at = 0; at < 8; at++)
      for (size_t in = 0; in < 8; in++) {
        memset(to, 0xEE, sizeof(to));
        memset(expected, 0xEE, sizeof(expected));
        memcpy(expected + 16 + at, from + in, n);
        ef_copy(to + 16 + at, from + in, n);
        ck_assert_msg(memcmp(to, expected, sizeof(to)) == 0,
                      "n %zu, to +%zu, from +%zu", n, at, in);
      }
}
END_TEST

UNIT_MAIN("text", unsafe_characters_become_question_marks,
          other_characters_stay, cut_at_character_boundary,
          copies_cut_as_printf_cuts, short_copies_copy_exactly_their_bytes)
