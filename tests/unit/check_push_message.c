/* Unit tests of ef_push_message.c: broker messages to values or a status. */
#include "ef_push_message.h"
#include "unit.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNT "open-0123456789abcdef"
#define SN "HJ31SIMOCEAN0001"
#define QUOTA_TOPIC "/open/" ACCOUNT "/" SN "/quota"
#define STATUS_TOPIC "/open/" ACCOUNT "/" SN "/status"

static ef_push_verdict parse(const char *topic, const char *payload,
                             ef_push_message *message) {
  return ef_push_message_parse(ACCOUNT, topic, payload, strlen(payload), NULL,
                               message);
}

static const char *text_at(const ef_push_message *message, const char *path) {
  const ef_sample *sample = ef_samples_find(&message->values, path);
  return sample != NULL ? sample->text : NULL;
}

START_TEST(typecode_shape_is_flattened) {
  ef_push_message m;
  ck_assert_int_eq(parse(QUOTA_TOPIC,
                         "{\"typeCode\":\"pdStatus\",\"params\":{\"pcsAPhase\":"
                         "{\"vol\":229.70134,\"amp\":1.5},\"bpSoc\":87}}",
                         &m),
                   EF_PUSH_OK);
  ck_assert_int_eq(m.kind, EF_PUSH_QUOTA);
  ck_assert_str_eq(m.sn, SN);
  ck_assert_uint_eq(m.values.len, 3);
  ck_assert_str_eq(text_at(&m, "pcsAPhase.vol"), "229.70134");
  ck_assert_str_eq(text_at(&m, "pcsAPhase.amp"), "1.5");
  ck_assert_str_eq(text_at(&m, "bpSoc"), "87");
  ef_samples_clear(&m.values);
}
END_TEST

START_TEST(cmdfunc_shape_uses_param) {
  ef_push_message m;
  ck_assert_int_eq(
      parse(QUOTA_TOPIC,
            "{\"cmdFunc\":96,\"cmdId\":1,\"addr\":\"ems\",\"param\":"
            "{\"mpptHeartBeat\":[{\"mpptPv\":[{\"pwr\":12.5}]}]}}",
            &m),
      EF_PUSH_OK);
  ck_assert_uint_eq(m.values.len, 1);
  ck_assert_str_eq(text_at(&m, "mpptHeartBeat[0].mpptPv[0].pwr"), "12.5");
  ef_samples_clear(&m.values);
}
END_TEST

/* params wins over param; a params that is no object leaves param. */
START_TEST(params_before_param) {
  ef_push_message m;
  ck_assert_int_eq(
      parse(QUOTA_TOPIC, "{\"params\":{\"a\":1},\"param\":{\"b\":2}}", &m),
      EF_PUSH_OK);
  ck_assert_ptr_nonnull(text_at(&m, "a"));
  ck_assert_ptr_null(text_at(&m, "b"));
  ef_samples_clear(&m.values);
  ck_assert_int_eq(parse(QUOTA_TOPIC, "{\"params\":7,\"param\":{\"b\":2}}", &m),
                   EF_PUSH_OK);
  ck_assert_ptr_nonnull(text_at(&m, "b"));
  ef_samples_clear(&m.values);
}
END_TEST

START_TEST(status_as_number_or_string) {
  static const struct {
    const char *payload;
    ef_push_verdict verdict;
    int online;
  } cases[] = {
      {"{\"id\":1,\"version\":\"1.0\",\"params\":{\"status\":1}}", EF_PUSH_OK,
       1},
      {"{\"params\":{\"status\":0}}", EF_PUSH_OK, 0},
      {"{\"params\":{\"status\":\"1\"}}", EF_PUSH_OK, 1},
      {"{\"params\":{\"status\":\"0\"}}", EF_PUSH_OK, 0},
      {"{\"params\":{\"status\":2}}", EF_PUSH_NO_STATUS, 0},
      {"{\"params\":{\"status\":\"yes\"}}", EF_PUSH_NO_STATUS, 0},
      {"{\"params\":{\"status\":true}}", EF_PUSH_NO_STATUS, 0},
      {"{\"params\":{}}", EF_PUSH_NO_STATUS, 0},
      {"{\"status\":1}", EF_PUSH_NO_STATUS, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ef_push_message m;
    ck_assert_int_eq(parse(STATUS_TOPIC, cases[i].payload, &m),
                     cases[i].verdict);
    ck_assert_int_eq(m.kind, EF_PUSH_STATUS);
    ck_assert_uint_eq(m.values.len, 0);
    if (cases[i].verdict == EF_PUSH_OK)
      ck_assert_int_eq(m.online, cases[i].online);
  }
}
END_TEST

START_TEST(topics_of_others_are_refused) {
  static const struct {
    const char *topic;
    ef_push_verdict verdict;
  } cases[] = {
      {"/open/" ACCOUNT "/" SN "/set_reply", EF_PUSH_OTHER_TOPIC},
      {"/open/" ACCOUNT "/" SN "/quota/more", EF_PUSH_OTHER_TOPIC},
      {"/open/" ACCOUNT "/" SN "/quotas", EF_PUSH_OTHER_TOPIC},
      {"/open/" ACCOUNT "/" SN, EF_PUSH_OTHER_TOPIC},
      {"/open/" ACCOUNT "x/" SN "/quota", EF_PUSH_OTHER_TOPIC},
      {"/open/open-other/" SN "/quota", EF_PUSH_OTHER_TOPIC},
      {"open/" ACCOUNT "/" SN "/quota", EF_PUSH_OTHER_TOPIC},
      {"", EF_PUSH_OTHER_TOPIC},
      {"/open/" ACCOUNT "//quota", EF_PUSH_BAD_SERIAL},
      {"/open/" ACCOUNT "/HJ31\x01SIM/quota", EF_PUSH_BAD_SERIAL},
      {"/open/" ACCOUNT "/HJ31 SIM/quota", EF_PUSH_BAD_SERIAL},
      {"/open/" ACCOUNT
       "/0123456789012345678901234567890123456789012345678901234567890123"
       "4/quota",
       EF_PUSH_BAD_SERIAL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ef_push_message m;
    ck_assert_msg(parse(cases[i].topic, "{\"params\":{\"a\":1}}", &m) ==
                      cases[i].verdict,
                  "topic %zu", i);
    ck_assert_uint_eq(m.values.len, 0);
  }
  ef_push_message m;
  ck_assert_int_eq(ef_push_message_parse(ACCOUNT, NULL, "{}", 2, NULL, &m),
                   EF_PUSH_OTHER_TOPIC);
}
END_TEST

START_TEST(broken_payloads_get_their_verdict) {
  static const struct {
    const char *payload;
    ef_push_verdict verdict;
  } cases[] = {
      {"", EF_PUSH_EMPTY},
      {"[1,2]", EF_PUSH_NOT_JSON},
      {"\"text\"", EF_PUSH_NOT_JSON},
      {"{\"params\":{\"a\":", EF_PUSH_NOT_JSON},
      {"not json", EF_PUSH_NOT_JSON},
      {"{\"typeCode\":\"pdStatus\"}", EF_PUSH_NO_VALUES},
      {"{\"params\":[1],\"param\":\"x\"}", EF_PUSH_NO_VALUES},
      /* One JSON text, as an answer must be: nothing after the object
       * but blanks. */
      {"{\"params\":{\"a\":1}}garbage", EF_PUSH_NOT_JSON},
      {"{\"params\":{\"a\":1}}{\"params\":{\"b\":2}}", EF_PUSH_NOT_JSON},
      {"{\"params\":{\"a\":1}} \r\n\t", EF_PUSH_OK},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ef_push_message m;
    ck_assert_msg(parse(QUOTA_TOPIC, cases[i].payload, &m) == cases[i].verdict,
                  "payload %zu", i);
    ck_assert_uint_eq(m.values.len, cases[i].verdict == EF_PUSH_OK ? 1 : 0);
    ck_assert_str_ne(ef_push_verdict_text(cases[i].verdict), "unknown");
    ef_samples_clear(&m.values);
  }
  /* A NUL byte, which JSON never holds, inside the payload's size. */
  ef_push_message m;
  const char with_nul[] = "{\"params\":{\"a\":1}}\0{\"b\":2}";
  ck_assert_int_eq(ef_push_message_parse(ACCOUNT, QUOTA_TOPIC, with_nul,
                                         sizeof(with_nul) - 1, NULL, &m),
                   EF_PUSH_NOT_JSON);
  ck_assert_uint_eq(m.values.len, 0);
}
END_TEST

/* The size is the payload's, not where a NUL happens to be; a payload
 * over the cap is refused before it is parsed. */
START_TEST(payload_length_is_honoured) {
  ef_push_message m;
  const char text[] = "{\"params\":{\"a\":1}}garbage";
  ck_assert_int_eq(
      ef_push_message_parse(ACCOUNT, QUOTA_TOPIC, text, 10, NULL, &m),
      EF_PUSH_NOT_JSON);
  ef_samples_clear(&m.values);
  size_t size = EF_PUSH_MESSAGE_MAX + 1;
  char *big = malloc(size);
  ck_assert_ptr_nonnull(big);
  memset(big, ' ', size);
  memcpy(big, "{\"params\":{\"a\":1}}", 18);
  ck_assert_int_eq(
      ef_push_message_parse(ACCOUNT, QUOTA_TOPIC, big, size, NULL, &m),
      EF_PUSH_TOO_LONG);
  ck_assert_int_eq(
      ef_push_message_parse(ACCOUNT, QUOTA_TOPIC, big, size - 1, NULL, &m),
      EF_PUSH_OK);
  ef_samples_clear(&m.values);
  free(big);
}
END_TEST

/* A tokener kept over many messages (as the MQTT thread keeps one) judges
 * each as a new one would, whatever the message before left in it: a
 * text cut short, garbage, another shape. */
/* The same values, in the same order. */
static void assert_same_samples(const ef_samples *got_all,
                                const ef_samples *want_all) {
  ck_assert_uint_eq(got_all->len, want_all->len);
  for (size_t k = 0; k < want_all->len; k++) {
    const ef_sample *want = &want_all->items[k];
    const ef_sample *got = &got_all->items[k];
    ck_assert_str_eq(got->path, want->path);
    ck_assert_int_eq(got->kind, want->kind);
    ck_assert_int_eq(got->integer, want->integer);
    ck_assert_double_eq(got->number, want->number);
    ck_assert_str_eq(got->text ? got->text : "", want->text ? want->text : "");
  }
}

static const char *const payloads[] = {
    "{\"params\":{\"a\":",
    "{\"typeCode\":\"pdStatus\",\"params\":{\"pcsAPhase\":{\"vol\":229.7}}}",
    "not json",
    "{\"cmdFunc\":96,\"param\":{\"bpSoc\":87}}",
    "[1,",
    "{\"params\":{\"bpSoc\":88,\"b\":\"x\",\"c\":[1,2],\"d\":null}}",
    "{\"params\":7,\"param\":{\"a.b\":1,\"a\":{\"b\":2}}}",
    "{\"id\":1}",
};

/* Stream mode's form of a status message keeps no values. */
START_TEST(json_form_of_a_status) {
  ef_push_message status;
  ck_assert_int_eq(ef_push_message_parse_json(ACCOUNT, STATUS_TOPIC,
                                              "{\"params\":{\"status\":1}}", 23,
                                              NULL, &status),
                   EF_PUSH_OK);
  ck_assert_int_eq(status.online, 1);
  ck_assert_ptr_null(status.object);
}
END_TEST

/* A kept tokener judges as a new one; so does stream mode's form (the
 * values kept as JSON), whose JSON walks to the flattened values, and
 * which keeps nothing when refused. */
START_TEST(kept_tokener_judges_as_a_new_one) {
  struct json_tokener *kept = json_tokener_new();
  ck_assert_ptr_nonnull(kept);
  for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
    ef_push_message fresh, reused;
    size_t size = strlen(payloads[i]);
    ef_push_verdict verdict = ef_push_message_parse(
        ACCOUNT, QUOTA_TOPIC, payloads[i], size, NULL, &fresh);
    ck_assert_msg(ef_push_message_parse(ACCOUNT, QUOTA_TOPIC, payloads[i], size,
                                        kept, &reused) == verdict,
                  "payload %zu", i);
    assert_same_samples(&reused.values, &fresh.values);
    ef_push_message json;
    ck_assert_msg(ef_push_message_parse_json(ACCOUNT, QUOTA_TOPIC, payloads[i],
                                             size, kept, &json) == verdict,
                  "payload %zu", i);
    ck_assert_uint_eq(json.values.len, 0);
    ck_assert_msg((json.object != NULL) == (verdict == EF_PUSH_OK),
                  "payload %zu", i);
    ef_samples walked = {0};
    if (json.object != NULL)
      ck_assert_int_eq(ef_samples_add_json(&walked, json.object), 0);
    assert_same_samples(&walked, &fresh.values);
    ef_samples_clear(&walked);
    json_object_put(json.object);
    ef_samples_clear(&fresh.values);
    ef_samples_clear(&reused.values);
  }
  json_tokener_free(kept);
}
END_TEST

UNIT_MAIN("push_message", typecode_shape_is_flattened, cmdfunc_shape_uses_param,
          params_before_param, status_as_number_or_string,
          topics_of_others_are_refused, broken_payloads_get_their_verdict,
          payload_length_is_honoured, kept_tokener_judges_as_a_new_one,
          json_form_of_a_status)
