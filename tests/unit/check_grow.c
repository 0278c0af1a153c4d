/* Unit tests of ef_grow.h: arrays that double as they fill. */
#include "ef_grow.h"
#include "unit.h"

#include <stdint.h>

/* Room starts at first and doubles until it holds what is needed; an
 * array with room enough is itself, unmoved. */
START_TEST(room_doubles_from_first) {
  size_t room = 0;
  int *items = ef_grown(NULL, &room, 1, sizeof(int), 4);
  ck_assert_ptr_nonnull(items);
  ck_assert_uint_eq(room, 4);
  for (int i = 0; i < 4; i++)
    items[i] = i;
  ck_assert_ptr_eq(ef_grown(items, &room, 4, sizeof(int), 4), items);
  ck_assert_uint_eq(room, 4);
  items = ef_grown(items, &room, 5, sizeof(int), 4);
  ck_assert_ptr_nonnull(items);
  ck_assert_uint_eq(room, 8);
  items = ef_grown(items, &room, 33, sizeof(int), 4);
  ck_assert_ptr_nonnull(items);
  ck_assert_uint_eq(room, 64);
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(items[i], i); /* kept as they were */
  free(items);
}
END_TEST

/* A size past what a size_t holds is refused, the array and its room as
 * they were (the caller still frees it). */
START_TEST(sizes_past_size_t_are_refused) {
  size_t room = 4;
  char *items = malloc(4 * 16);
  ck_assert_ptr_nonnull(items);
  ck_assert_ptr_null(ef_grown(items, &room, SIZE_MAX / 2 + 2, 1, 4));
  ck_assert_uint_eq(room, 4);
  ck_assert_ptr_null(ef_grown(items, &room, SIZE_MAX / 16 + 1, 16, 4));
  ck_assert_uint_eq(room, 4);
  free(items);
}
END_TEST

UNIT_MAIN("grow", room_doubles_from_first, sizes_past_size_t_are_refused)
