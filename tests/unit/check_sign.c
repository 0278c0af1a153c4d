/* Unit tests of ef_params.c and ef_sign.c: the signature the cloud computes. */
#include "ef_sign.h"
#include "unit.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_KEY "Fp4SvIprYSDPXtYJidEtUAd1o"
#define SECRET_KEY "WIbFEKre0s6sLnh4ei7SPUeYnptHG6V"
#define NONCE "345164"
#define TIMESTAMP "1671171709428"

/* Canonical string and signature of a JSON body (NULL: no parameters). */
static void sign_body(const char *body, char **canonical,
                      char signature[EF_SIGN_HEX_LEN + 1]) {
  ef_params params = {0};
  if (body != NULL) {
    struct json_object *json = json_tokener_parse(body);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(ef_params_add_json(&params, json), 0);
    json_object_put(json);
  }
  *canonical = ef_sign_canonical(&params, ACCESS_KEY, NONCE, TIMESTAMP);
  ck_assert_ptr_nonnull(*canonical);
  ck_assert_int_eq(ef_sign_hmac(SECRET_KEY, *canonical, signature), 0);
  ef_params_clear(&params);
}

START_TEST(official_vector) {
  char *canonical;
  char signature[EF_SIGN_HEX_LEN + 1];
  sign_body("{\"sn\":\"123456789\",\"params\":{\"cmdSet\":11,\"id\":24,"
            "\"eps\":0}}",
            &canonical, signature);
  ck_assert_str_eq(canonical,
                   "params.cmdSet=11&params.eps=0&params.id=24&sn=123456789&"
                   "accessKey=" ACCESS_KEY "&nonce=" NONCE
                   "&timestamp=" TIMESTAMP);
  ck_assert_str_eq(
      signature,
      "07c13b65e037faf3b153d51613638fa80003c4c38d2407379a7f52851af1473e");
  free(canonical);
}
END_TEST

START_TEST(no_parameters) {
  char *canonical;
  char signature[EF_SIGN_HEX_LEN + 1];
  sign_body(NULL, &canonical, signature);
  ck_assert_str_eq(canonical, "accessKey=" ACCESS_KEY "&nonce=" NONCE
                              "&timestamp=" TIMESTAMP);
  ck_assert_str_eq(
      signature,
      "4409ae9efeaf0be9b8b48f02ebef8e804387e745e513588c136955606ca496f5");
  free(canonical);
}
END_TEST

/* A GET signs its query: the same pair added by hand as from a body. */
START_TEST(get_query_sn) {
  ef_params params = {0};
  ck_assert_int_eq(ef_params_add(&params, "sn", "123456789"), 0);
  char *canonical = ef_sign_canonical(&params, ACCESS_KEY, NONCE, TIMESTAMP);
  char signature[EF_SIGN_HEX_LEN + 1];
  ck_assert_int_eq(ef_sign_hmac(SECRET_KEY, canonical, signature), 0);
  ck_assert_str_eq(
      signature,
      "2296b02874dc12a165e0691e8f0c76c4424c582b335b48cd9c95518bebefbef5");
  free(canonical);
  ef_params_clear(&params);
}
END_TEST

/* One signer for many requests gives each the signature of its own text,
 * whatever it signed before: the official vector after another text, and
 * again after it. */
START_TEST(signer_is_reset_between_signatures) {
  static const char vector[] =
      "params.cmdSet=11&params.eps=0&params.id=24&sn=123456789&"
      "accessKey=" ACCESS_KEY "&nonce=" NONCE "&timestamp=" TIMESTAMP;
  static const char expected[] =
      "07c13b65e037faf3b153d51613638fa80003c4c38d2407379a7f52851af1473e";
  ef_signer *signer = ef_signer_new(SECRET_KEY);
  ck_assert_ptr_nonnull(signer);
  char signature[EF_SIGN_HEX_LEN + 1], other[EF_SIGN_HEX_LEN + 1];
  ck_assert_int_eq(ef_signer_sign(signer, "accessKey=x", other), 0);
  ck_assert_int_eq(ef_signer_sign(signer, vector, signature), 0);
  ck_assert_str_eq(signature, expected);
  ck_assert_str_ne(other, expected);
  ck_assert_int_eq(ef_signer_sign(signer, vector, signature), 0);
  ck_assert_str_eq(signature, expected);
  ck_assert_int_eq(ef_sign_hmac(SECRET_KEY, "accessKey=x", signature), 0);
  ck_assert_str_eq(signature, other);
  ef_signer_free(signer);
}
END_TEST

START_TEST(lists_take_an_index) {
  char *canonical;
  char signature[EF_SIGN_HEX_LEN + 1];
  sign_body(
      "{\"sn\":\"HJ1\",\"params\":{\"quotas\":[\"bpSoc\",\"pcsAPhase\"]}}",
      &canonical, signature);
  ck_assert_str_eq(canonical, "params.quotas[0]=bpSoc&params.quotas[1]="
                              "pcsAPhase&sn=HJ1&accessKey=" ACCESS_KEY
                              "&nonce=" NONCE "&timestamp=" TIMESTAMP);
  free(canonical);
}
END_TEST

START_TEST(values_as_json_text) {
  char *canonical;
  char signature[EF_SIGN_HEX_LEN + 1];
  sign_body("{\"b\":true,\"n\":null,\"f\":22.50,\"s\":\"2024-06-17 00:00:00\","
            "\"o\":{\"z\":[{\"k\":-1}]}}",
            &canonical, signature);
  /* Strings raw (a space stays a space), literals lower case, numbers as
   * written, objects inside lists flattened with both forms. */
  ck_assert_str_eq(canonical, "b=true&f=22.50&n=null&o.z[0].k=-1&"
                              "s=2024-06-17 00:00:00&accessKey=" ACCESS_KEY
                              "&nonce=" NONCE "&timestamp=" TIMESTAMP);
  free(canonical);
}
END_TEST

/* Byte order: upper case sorts before lower case, "a.b" before "a_b". */
START_TEST(sorted_in_byte_order) {
  ef_params params = {0};
  const char *keys[] = {"b", "a_b", "a.b", "B", "a"};
  for (size_t i = 0; i < 5; i++)
    ck_assert_int_eq(ef_params_add(&params, keys[i], "1"), 0);
  char *canonical = ef_sign_canonical(&params, "k", "1", "2");
  ck_assert_str_eq(canonical,
                   "B=1&a=1&a.b=1&a_b=1&b=1&accessKey=k&nonce=1&timestamp=2");
  free(canonical);
  ef_params_clear(&params);
}
END_TEST

START_TEST(nonce_is_six_fresh_digits) {
  /* Past several refills of the signer's random bytes: every nonce six
   * digits, every digit drawn (6000 digits: each about 600 times, below
   * 400 only if the draw is broken), and no nonce the one before it. */
  ef_signer *signer = ef_signer_new("secret");
  ck_assert_ptr_nonnull(signer);
  char before[EF_NONCE_LEN + 1] = "", nonce[EF_NONCE_LEN + 1];
  unsigned digits[10] = {0}, repeats = 0;
  for (int i = 0; i < 1000; i++) {
    ck_assert_int_eq(ef_signer_nonce(signer, nonce), 0);
    ck_assert_uint_eq(strlen(nonce), EF_NONCE_LEN);
    ck_assert_uint_eq(strspn(nonce, "0123456789"), EF_NONCE_LEN);
    for (int k = 0; k < EF_NONCE_LEN; k++)
      digits[nonce[k] - '0']++;
    repeats += strcmp(nonce, before) == 0;
    memcpy(before, nonce, sizeof(nonce));
  }
  for (int d = 0; d < 10; d++)
    ck_assert_uint_gt(digits[d], 400);
  ck_assert_uint_lt(repeats, 3); /* one in a million each */
  ef_signer_free(signer);
}
END_TEST

START_TEST(signatures_compare) {
  ck_assert(ef_sign_equal("abc", "abc"));
  ck_assert(!ef_sign_equal("abc", "abd"));
  ck_assert(!ef_sign_equal("abc", "abcd"));
}
END_TEST

START_TEST(body_must_be_an_object) {
  ef_params params = {0};
  struct json_object *list = json_tokener_parse("[1,2]");
  ck_assert_int_eq(ef_params_add_json(&params, list), -1);
  json_object_put(list);
  ef_params_clear(&params);
}
END_TEST

UNIT_MAIN("sign", official_vector, signer_is_reset_between_signatures,
          no_parameters, get_query_sn, lists_take_an_index, values_as_json_text,
          sorted_in_byte_order, nonce_is_six_fresh_digits, signatures_compare,
          body_must_be_an_object)
