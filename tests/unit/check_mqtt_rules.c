/* Unit tests of ef_mqtt_rules.c: the client id, the pauses between
 * attempts, deadlines and what a closed connection means. */
#include "ef_mqtt_rules.h"
#include "unit.h"

#include <string.h>

#define ACCOUNT "open-0123456789abcdef"

START_TEST(client_id_is_account_and_suffix) {
  char id[EF_MQTT_CLIENT_ID_MAX + 1];
  ck_assert_int_eq(ef_mqtt_client_id(ACCOUNT, "collectd", id), 0);
  ck_assert_str_eq(id, ACCOUNT "-collectd");
  ck_assert_int_eq(ef_mqtt_client_id(ACCOUNT, NULL, id), 0);
  ck_assert_str_eq(id, ACCOUNT);
  ck_assert_int_eq(ef_mqtt_client_id(ACCOUNT, "", id), 0);
  ck_assert_str_eq(id, ACCOUNT);
}
END_TEST

/* A long certificate account is cut, never the suffix: two programs of
 * one account keep two ids, two long accounts with one prefix too. */
START_TEST(long_account_keeps_the_suffix_whole) {
  const char *long_a =
      "open-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1";
  const char *long_b =
      "open-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2";
  const char *suffix = "suffix-of-thirty-two-characters_";
  char a1[EF_MQTT_CLIENT_ID_MAX + 1], a2[EF_MQTT_CLIENT_ID_MAX + 1],
      b1[EF_MQTT_CLIENT_ID_MAX + 1], again[EF_MQTT_CLIENT_ID_MAX + 1];
  ck_assert_uint_eq(strlen(suffix), EF_MQTT_SUFFIX_MAX);
  ck_assert_int_eq(ef_mqtt_client_id(long_a, suffix, a1), 0);
  ck_assert_int_eq(ef_mqtt_client_id(long_a, "telegraf", a2), 0);
  ck_assert_int_eq(ef_mqtt_client_id(long_b, suffix, b1), 0);
  ck_assert_int_eq(ef_mqtt_client_id(long_a, suffix, again), 0);
  ck_assert_uint_le(strlen(a1), EF_MQTT_CLIENT_ID_MAX);
  ck_assert_uint_le(strlen(a2), EF_MQTT_CLIENT_ID_MAX);
  size_t n = strlen(a1), s = strlen(suffix);
  ck_assert_str_eq(a1 + n - s, suffix);
  ck_assert_int_eq(a1[n - s - 1], '-');
  ck_assert_str_eq(a2 + strlen(a2) - strlen("-telegraf"), "-telegraf");
  ck_assert_str_ne(a1, b1);
  ck_assert_str_eq(a1, again);
  ck_assert_int_eq(strncmp(a1, "open-aaaa", 9), 0);
}
END_TEST

/* Characters an id does not take are left out, and the account marked:
 * "open-a b" and "open-ab" differ. */
START_TEST(dropped_characters_mark_the_account) {
  char spaced[EF_MQTT_CLIENT_ID_MAX + 1], plain[EF_MQTT_CLIENT_ID_MAX + 1];
  ck_assert_int_eq(ef_mqtt_client_id("open-a b", "x", spaced), 0);
  ck_assert_int_eq(ef_mqtt_client_id("open-ab", "x", plain), 0);
  ck_assert_str_eq(plain, "open-ab-x");
  ck_assert_str_ne(spaced, plain);
  ck_assert_int_eq(strncmp(spaced, "open-ab-", 8), 0);
  for (const char *c = spaced; *c; c++)
    ck_assert(strchr(" /+#", *c) == NULL);
}
END_TEST

START_TEST(suffix_that_cannot_fit_is_refused) {
  char id[EF_MQTT_CLIENT_ID_MAX + 1] = "x";
  ck_assert_int_eq(
      ef_mqtt_client_id(ACCOUNT, "suffix-of-thirty-three-characters", id), -1);
  ck_assert_str_eq(id, "");
  ck_assert_int_eq(ef_mqtt_client_id(ACCOUNT, "with space", id), -1);
  ck_assert_int_eq(ef_mqtt_client_id(ACCOUNT, "a/b", id), -1);
}
END_TEST

/* 1 s doubling to 5 min while attempts fail. */
START_TEST(pause_doubles_to_five_minutes) {
  ef_mqtt_plan plan;
  ef_mqtt_plan_init(&plan);
  int64_t now = 1000, expected = 1000;
  for (int i = 0; i < 12; i++) {
    ef_mqtt_plan_attempt(&plan, now, 10000);
    int64_t next = ef_mqtt_plan_failed(&plan, now);
    ck_assert_int_eq(next - now, expected);
    ck_assert_int_eq(plan.deadline_ms, 0);
    now = next;
    expected = expected * 2 > 300000 ? 300000 : expected * 2;
  }
  ck_assert_int_eq(plan.pause_ms, 300000);
}
END_TEST

START_TEST(attempt_has_a_deadline) {
  ef_mqtt_plan plan;
  ef_mqtt_plan_init(&plan);
  ck_assert(!ef_mqtt_plan_overdue(&plan, 1000000));
  ef_mqtt_plan_attempt(&plan, 5000, 2500);
  ck_assert(!ef_mqtt_plan_overdue(&plan, 7499));
  ck_assert(ef_mqtt_plan_overdue(&plan, 7500));
  ef_mqtt_plan_connected(&plan, 6000);
  ck_assert(!ef_mqtt_plan_overdue(&plan, 100000));
}
END_TEST

/* A connection that lasted starts the pauses again at 1 s; one that did
 * not goes on doubling. */
START_TEST(lasting_connection_resets_the_pause) {
  ef_mqtt_plan plan;
  ef_mqtt_plan_init(&plan);
  int takeover;
  int64_t now = 0;
  for (int i = 0; i < 5; i++) /* 1, 2, 4, 8, 16 s */
    now = ef_mqtt_plan_failed(&plan, now);
  ef_mqtt_plan_connected(&plan, now);
  now += EF_MQTT_STABLE_S * 1000 - 1; /* a short connection: no reset */
  ck_assert_int_eq(ef_mqtt_plan_lost(&plan, now, 0, &takeover) - now, 32000);
  ef_mqtt_plan_connected(&plan, now);
  ck_assert(!ef_mqtt_plan_stable(&plan, now + EF_MQTT_STABLE_S * 1000 - 1));
  ck_assert(ef_mqtt_plan_stable(&plan, now + EF_MQTT_STABLE_S * 1000));
  now += EF_MQTT_STABLE_S * 1000;
  ck_assert_int_eq(ef_mqtt_plan_lost(&plan, now, 1, &takeover) - now, 1000);
  ck_assert(!takeover);
  ck_assert_int_eq(ef_mqtt_plan_failed(&plan, now) - now, 2000);
}
END_TEST

/* Three closes by the broker right after being accepted, each attempt
 * in between accepted: another client has the id. Once. */
START_TEST(quick_closes_mean_a_takeover) {
  ef_mqtt_plan plan;
  ef_mqtt_plan_init(&plan);
  int takeover, said = 0;
  int64_t now = 0;
  for (int i = 0; i < 6; i++) {
    ef_mqtt_plan_attempt(&plan, now, 10000);
    ef_mqtt_plan_connected(&plan, now + 50);
    now = ef_mqtt_plan_lost(&plan, now + 2000, 1, &takeover);
    said += takeover;
    ck_assert_int_eq(takeover, i == EF_MQTT_TAKEOVER_AFTER - 1);
  }
  ck_assert_int_eq(said, 1);
}
END_TEST

/* Not a takeover: closes our side made (a packet the library refused),
 * closes of connections that lasted a while, a failed attempt between
 * closes (the broker restarting). */
START_TEST(other_closes_are_no_takeover) {
  static const struct {
    int by_broker;
    int64_t lasted_ms;
    int fail_between;
  } runs[] = {
      {0, 500, 0},
      {1, EF_MQTT_TAKEOVER_WITHIN_S * 1000, 0}, /* and stable */
      {1, 500, 1},
  };
  for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
    ef_mqtt_plan plan;
    ef_mqtt_plan_init(&plan);
    int64_t now = 0;
    for (int i = 0; i < 10; i++) {
      int takeover;
      ef_mqtt_plan_attempt(&plan, now, 10000);
      ef_mqtt_plan_connected(&plan, now);
      now = ef_mqtt_plan_lost(&plan, now + runs[r].lasted_ms, runs[r].by_broker,
                              &takeover);
      ck_assert_msg(!takeover, "run %zu, close %d", r, i);
      if (runs[r].fail_between) {
        ef_mqtt_plan_attempt(&plan, now, 10000);
        now = ef_mqtt_plan_failed(&plan, now);
      }
    }
  }
}
END_TEST

UNIT_MAIN("mqtt_rules", client_id_is_account_and_suffix,
          long_account_keeps_the_suffix_whole,
          dropped_characters_mark_the_account,
          suffix_that_cannot_fit_is_refused, pause_doubles_to_five_minutes,
          attempt_has_a_deadline, lasting_connection_resets_the_pause,
          quick_closes_mean_a_takeover, other_closes_are_no_takeover)
