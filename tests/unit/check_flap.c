/* Unit tests of ef_flap.c: a device's status changes, told or said to
 * flap once. */
#include "ef_flap.h"
#include "unit.h"

START_TEST(changes_are_told_while_rare) {
  ef_flap f;
  ef_flap_init(&f, 1);
  ck_assert_int_eq(ef_flap_note(&f, 1, 0, 1000), EF_FLAP_QUIET);
  ck_assert_int_eq(ef_flap_note(&f, 0, 1, 2000), EF_FLAP_TELL);
  ck_assert_int_eq(ef_flap_note(&f, 0, 0, 3000), EF_FLAP_QUIET);
  ck_assert_int_eq(ef_flap_note(&f, 1, 1, 70000), EF_FLAP_TELL);
  ck_assert_int_eq(ef_flap_note(&f, 0, 1, 140000), EF_FLAP_TELL);
  ck_assert_int_eq(ef_flap_settle(&f, 400000), EF_FLAP_QUIET);
}
END_TEST

/* A batch that went away and back tells nothing; the count of changes
 * still grows. A status that changed without a count counts once. */
START_TEST(back_and_forth_in_one_batch_is_quiet) {
  ef_flap f;
  ef_flap_init(&f, 1);
  ck_assert_int_eq(ef_flap_note(&f, 1, 2, 1000), EF_FLAP_QUIET);
  ck_assert_uint_eq(f.changes, 2);
  ck_assert_int_eq(ef_flap_note(&f, 0, 0, 2000), EF_FLAP_TELL);
  ck_assert_uint_eq(f.changes, 3);
}
END_TEST

/* 150,000 changes in a few batches: flapping said once, nothing else
 * until it has been steady for the window; then its status, once. */
START_TEST(flood_is_said_once_then_steady) {
  ef_flap f;
  ef_flap_init(&f, 1);
  int starts = 0, tells = 0;
  int64_t now = 0;
  for (int batch = 0; batch < 5; batch++) {
    now += 1000;
    ef_flap_verdict v = ef_flap_note(&f, batch % 2, 30000, now);
    starts += v == EF_FLAP_STARTS;
    tells += v == EF_FLAP_TELL;
    ck_assert_int_eq(ef_flap_settle(&f, now), EF_FLAP_QUIET);
  }
  ck_assert_int_eq(starts, 1);
  ck_assert_int_eq(tells, 0);
  ck_assert_int_eq(ef_flap_settle(&f, now + EF_FLAP_WINDOW_MS - 1),
                   EF_FLAP_QUIET);
  ck_assert_int_eq(ef_flap_settle(&f, now + EF_FLAP_WINDOW_MS), EF_FLAP_ENDS);
  ck_assert_int_eq(f.told, 0);
  ck_assert_int_eq(ef_flap_settle(&f, now + 2 * EF_FLAP_WINDOW_MS),
                   EF_FLAP_QUIET);
  /* Rare changes are told again afterwards. */
  ck_assert_int_eq(ef_flap_note(&f, 1, 1, now + 3 * EF_FLAP_WINDOW_MS),
                   EF_FLAP_TELL);
}
END_TEST

/* Changes one by one, EF_FLAP_CHANGES within the window: the last makes
 * it flap; a change while flapping keeps it from settling. */
START_TEST(steady_single_changes_add_up) {
  ef_flap f;
  ef_flap_init(&f, 1);
  int64_t now = 0;
  for (unsigned i = 1; i < EF_FLAP_CHANGES; i++)
    ck_assert_int_eq(ef_flap_note(&f, (int)(i % 2 == 0), 1, now += 1000),
                     EF_FLAP_TELL);
  ck_assert_int_eq(ef_flap_note(&f, EF_FLAP_CHANGES % 2 == 0, 1, now += 1000),
                   EF_FLAP_STARTS);
  ck_assert_int_eq(ef_flap_settle(&f, now + EF_FLAP_WINDOW_MS - 1000),
                   EF_FLAP_QUIET);
  ck_assert_int_eq(ef_flap_note(&f, 1, 1, now + EF_FLAP_WINDOW_MS - 500),
                   EF_FLAP_QUIET);
  ck_assert_int_eq(ef_flap_settle(&f, now + EF_FLAP_WINDOW_MS), EF_FLAP_QUIET);
  ck_assert_int_eq(ef_flap_settle(&f, now + 2 * EF_FLAP_WINDOW_MS),
                   EF_FLAP_ENDS);
}
END_TEST

UNIT_MAIN("flap", changes_are_told_while_rare,
          back_and_forth_in_one_batch_is_quiet, flood_is_said_once_then_steady,
          steady_single_changes_add_up)
