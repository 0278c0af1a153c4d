/* Unit tests of ef_sample.c and ef_envelope.c: from answer bytes to samples. */
#include "ef_envelope.h"
#include "ef_sample.h"
#include "unit.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_text(ef_samples *samples, const char *json) {
  ck_assert_int_eq(ef_samples_add_text(samples, json), 0);
}

static const ef_sample *find(const ef_samples *samples, const char *path) {
  const ef_sample *sample = ef_samples_find(samples, path);
  ck_assert_msg(sample != NULL, "no sample %s", path);
  return sample;
}

/* quota/all's flat keys and POST quota's nested objects meet in one path. */
START_TEST(flat_and_nested_meet) {
  ef_samples flat = {0}, nested = {0};
  add_text(&flat, "{\"pcsAPhase.vol\":229.70134,\"pcsAPhase.amp\":3.6087508,"
                  "\"bpSoc\":42}");
  add_text(&nested, "{\"pcsAPhase\":{\"vol\":229.70134,\"amp\":3.6087508},"
                    "\"bpSoc\":42}");
  ck_assert_uint_eq(flat.len, 3);
  ck_assert_uint_eq(nested.len, 3);
  for (size_t i = 0; i < flat.len; i++) {
    const ef_sample *other = find(&nested, flat.items[i].path);
    ck_assert_int_eq(other->kind, flat.items[i].kind);
    ck_assert_str_eq(other->text, flat.items[i].text);
  }
  ef_samples_clear(&flat);
  ef_samples_clear(&nested);
}
END_TEST

START_TEST(numbers_keep_their_text) {
  ef_samples samples = {0};
  add_text(&samples, "{\"a\":229.70134,\"b\":0.085432455,\"c\":22.50,"
                     "\"d\":4294967295,\"e\":-3270,\"f\":1.48e28}");
  ck_assert_str_eq(find(&samples, "a")->text, "229.70134");
  ck_assert_int_eq(find(&samples, "a")->kind, EF_KIND_NUMBER);
  ck_assert_str_eq(find(&samples, "b")->text, "0.085432455");
  ck_assert_str_eq(find(&samples, "c")->text, "22.50");
  ck_assert_int_eq(find(&samples, "d")->kind, EF_KIND_INTEGER);
  ck_assert_int_eq(find(&samples, "d")->integer, 4294967295LL);
  ck_assert_int_eq(find(&samples, "e")->integer, -3270);
  ck_assert(find(&samples, "f")->number > 1.47e28);
  ef_samples_clear(&samples);
}
END_TEST

/* An integer's text is the walk's, its length told with it (the JSON
 * grammar's digits); every other kind's length is left to be read. */
static void check_text_len(const char *path, const ef_leaf *leaf, void *ctx) {
  (void)path;
  int *n = ctx;
  if (leaf->kind == EF_KIND_INTEGER) {
    ck_assert_uint_eq(leaf->text_len, strlen(leaf->text));
    ck_assert_uint_gt(leaf->text_len, 0);
  } else {
    ck_assert_uint_eq(leaf->text_len, 0);
  }
  (*n)++;
}

START_TEST(integers_tell_their_texts_length) {
  struct json_object *data = json_tokener_parse(
      "{\"a\":0,\"b\":-3270,\"c\":9223372036854775807,"
      "\"d\":-9223372036854775808,\"e\":22.50,\"f\":true,\"g\":\"7\","
      "\"h\":[1,2],\"i\":\"{\\\"j\\\":65535}\"}");
  ck_assert_ptr_nonnull(data);
  int n = 0;
  ck_assert_int_eq(ef_walk(data, check_text_len, &n, NULL), 0);
  ck_assert_int_eq(n, 10); /* h's items each, and i's j */
  json_object_put(data);
}
END_TEST

START_TEST(lists_of_objects_take_an_index) {
  ef_samples samples = {0};
  add_text(&samples, "{\"mpptHeartBeat\":[{\"mpptPv\":[{\"vol\":0,\"amp\":"
                     "0.085432455,\"pwr\":0},{\"vol\":26.255978,\"amp\":0,"
                     "\"pwr\":0}]}],\"hrEnergyStream\":[{\"temp\":22,"
                     "\"hrPwr\":0}]}");
  ck_assert_uint_eq(samples.len, 8);
  ck_assert_str_eq(find(&samples, "mpptHeartBeat[0].mpptPv[1].vol")->text,
                   "26.255978");
  ck_assert_str_eq(find(&samples, "hrEnergyStream[0].temp")->text, "22");
  ef_samples_clear(&samples);
}
END_TEST

/* A broken or hostile answer's huge array must not become thousands of
 * series downstream. */
START_TEST(huge_arrays_of_objects_are_cut) {
  struct json_object *data = json_object_new_object();
  struct json_object *strings = json_object_new_array();
  for (int i = 0; i < 3 * EF_MAX_ARRAY_ITEMS; i++) {
    struct json_object *pv = json_object_new_object();
    json_object_object_add(pv, "pwr", json_object_new_int(i));
    json_object_array_add(strings, pv);
  }
  json_object_object_add(data, "mpptPv", strings);
  json_object_object_add(data, "bpSoc", json_object_new_int(42));
  ef_samples samples = {0};
  ck_assert_int_eq(ef_samples_add_json(&samples, data), 0);
  ck_assert_uint_eq(samples.len, EF_MAX_ARRAY_ITEMS + 1);
  ck_assert_str_eq(find(&samples, "mpptPv[63].pwr")->text, "63");
  ck_assert_ptr_null(ef_samples_find(&samples, "mpptPv[64].pwr"));
  ck_assert_str_eq(find(&samples, "bpSoc")->text, "42");
  ef_samples_clear(&samples);
  json_object_put(data);
}
END_TEST

START_TEST(lists_of_scalars_stay_lists) {
  ef_samples samples = {0};
  add_text(&samples, "{\"emsErrCode\":{\"errCode\":[601,602]},"
                     "\"emsErrCode2.errCode\":[]}");
  const ef_sample *codes = find(&samples, "emsErrCode.errCode");
  ck_assert_int_eq(codes->kind, EF_KIND_LIST);
  ck_assert_int_eq(codes->integer, 2);
  ck_assert_str_eq(codes->text, "601,602");
  ck_assert_int_eq(find(&samples, "emsErrCode2.errCode")->integer, 0);
  ck_assert_str_eq(find(&samples, "emsErrCode2.errCode")->text, "");
  ef_samples_clear(&samples);
}
END_TEST

/* bp_addr.<packSN> holds JSON text in a string: expanded below its key. */
START_TEST(json_text_in_strings_expands) {
  ef_samples samples = {0};
  add_text(&samples,
           "{\"bp_addr.HJ32ZDH4ZF7C0214\":\"{\\\"bpSoc\\\":81,\\\"bpSoh\\\":"
           "100.0,\\\"bpCycles\\\":12}\",\"bp_addr.updateTime\":"
           "\"2024-06-17 10:00:00\"}");
  ck_assert_str_eq(find(&samples, "bp_addr.HJ32ZDH4ZF7C0214.bpSoc")->text,
                   "81");
  ck_assert_str_eq(find(&samples, "bp_addr.HJ32ZDH4ZF7C0214.bpSoh")->text,
                   "100.0");
  ck_assert_int_eq(find(&samples, "bp_addr.updateTime")->kind, EF_KIND_STRING);
  ck_assert_ptr_null(ef_samples_find(&samples, "bp_addr.HJ32ZDH4ZF7C0214"));
  ef_samples_clear(&samples);
}
END_TEST

/* Each leaf's parent and its walk's number, by path. */
typedef struct {
  char path[8][64];
  size_t parent_len[8];
  uint64_t serial[8];
  size_t n;
} parents;

static void note_parent(const char *path, const ef_leaf *leaf, void *ctx) {
  parents *p = ctx;
  ck_assert_uint_lt(p->n, 8);
  snprintf(p->path[p->n], sizeof(p->path[p->n]), "%s", path);
  p->parent_len[p->n] = leaf->parent_len;
  p->serial[p->n++] = leaf->parent_serial;
}

static uint64_t serial_of(const parents *p, const char *path) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->path[i], path) == 0)
      return p->serial[i];
  ck_abort_msg("no leaf %s", path);
  return 0;
}

/* The values below one walk of JSON text share its number (what lets a
 * pack's values skip reading their pack's serial number again), and no
 * other walk has it: not the next pack's, not a text inside the pack
 * (after which the pack's number is back), not the same text walked
 * again; values not below JSON text have none. */
START_TEST(a_texts_values_share_its_walks_number) {
  struct json_object *data = json_tokener_parse(
      "{\"top\":1,"
      "\"bp_addr.A\":\"{\\\"x\\\":1,\\\"in\\\":\\\"{\\\\\\\"z\\\\\\\":2}\\\","
      "\\\"w\\\":3}\","
      "\"bp_addr.B\":\"{\\\"x\\\":4}\"}");
  ck_assert_ptr_nonnull(data);
  ef_walker *walker = ef_walker_new();
  ck_assert_ptr_nonnull(walker);
  parents first = {0}, again = {0};
  ck_assert_int_eq(ef_walker_walk(walker, data, note_parent, &first, NULL), 0);
  ck_assert_uint_eq(first.n, 5);
  uint64_t a = serial_of(&first, "bp_addr.A.x"),
           inner = serial_of(&first, "bp_addr.A.in.z"),
           b = serial_of(&first, "bp_addr.B.x");
  ck_assert_uint_eq(serial_of(&first, "top"), 0);
  ck_assert(a != 0 && inner != 0 && b != 0);
  ck_assert(a != inner && a != b && inner != b);
  ck_assert(serial_of(&first, "bp_addr.A.w") == a);
  ck_assert_int_eq(ef_walker_walk(walker, data, note_parent, &again, NULL), 0);
  ck_assert_uint_eq(again.n, 5);
  for (size_t i = 0; i < again.n; i++)
    for (size_t k = 0; k < first.n; k++)
      ck_assert(again.serial[i] == 0 || again.serial[i] != first.serial[k]);
  ef_walker_free(walker);
  json_object_put(data);
}
END_TEST

START_TEST(broken_json_text_stays_a_string) {
  ef_samples samples = {0};
  add_text(&samples, "{\"bp_addr.X\":\"{\\\"bpSoc\\\":8\",\"y\":1}");
  ck_assert_int_eq(find(&samples, "bp_addr.X")->kind, EF_KIND_STRING);
  ck_assert_str_eq(find(&samples, "bp_addr.X")->text, "{\"bpSoc\":8");
  ck_assert_uint_eq(samples.len, 2);
  ef_samples_clear(&samples);
}
END_TEST

START_TEST(nulls_are_no_reading_and_keys_are_trimmed) {
  ef_samples samples = {0};
  add_text(&samples, "{\" chargingStatus\":\"EV_CHG_STS_AVAILABLE\","
                     "\"gone\":null,\"on\":true}");
  ck_assert_uint_eq(samples.len, 2);
  ck_assert_str_eq(find(&samples, "chargingStatus")->text,
                   "EV_CHG_STS_AVAILABLE");
  ck_assert_int_eq(find(&samples, "on")->kind, EF_KIND_BOOL);
  ck_assert_int_eq(find(&samples, "on")->integer, 1);
  ef_samples_clear(&samples);
}
END_TEST

/* MQTT delivers partial updates: put merges them into the last state. */
START_TEST(put_merges_partial_updates) {
  ef_samples state = {0}, update = {0};
  add_text(&state, "{\"bpSoc\":40,\"bpPwr\":-100}");
  add_text(&update, "{\"bpSoc\":41.5}");
  for (size_t i = 0; i < update.len; i++)
    ck_assert_int_eq(ef_samples_put(&state, &update.items[i]), 0);
  ck_assert_uint_eq(state.len, 2);
  ck_assert_str_eq(find(&state, "bpSoc")->text, "41.5");
  ck_assert_int_eq(find(&state, "bpSoc")->kind, EF_KIND_NUMBER);
  ck_assert_str_eq(find(&state, "bpPwr")->text, "-100");
  ef_samples_clear(&state);
  ef_samples_clear(&update);
}
END_TEST

START_TEST(data_must_be_an_object) {
  ef_samples samples = {0};
  ck_assert_int_eq(ef_samples_add_text(&samples, "\"text\""), -1);
  ck_assert_int_eq(ef_samples_add_text(&samples, "[1]"), -1);
  ck_assert_int_eq(ef_samples_add_text(&samples, "{\"a\":"), -1);
  ck_assert_uint_eq(samples.len, 0);
  ef_samples_clear(&samples);
}
END_TEST

/* Envelope: what reaches the user for each kind of answer. */
static int parse(const char *body, long status, ef_error *err,
                 struct json_object **data) {
  struct json_object *root = NULL;
  int result =
      ef_envelope_parse(body, strlen(body), status, NULL, &root, data, err);
  if (result == 0) {
    ck_assert_ptr_nonnull(root);
    json_object_put(root);
  } else {
    ck_assert_ptr_null(root);
  }
  return result;
}

START_TEST(envelope_success_with_string_or_number_code) {
  ef_error err;
  struct json_object *data;
  ck_assert_int_eq(parse("{\"code\":\"0\",\"message\":\"Success\",\"data\":{"
                         "\"a\":1},\"eagleEyeTraceId\":\"\",\"tid\":\"\"}",
                         200, &err, &data),
                   0);
  ck_assert_int_eq(parse("{\"code\":0,\"data\":{\"a\":1}}", 200, &err, &data),
                   0);
  /* data may be missing on success */
  ck_assert_int_eq(
      parse("{\"code\":\"0\",\"message\":\"Success\"}", 200, &err, &data), 0);
  ck_assert_ptr_null(data);
}
END_TEST

START_TEST(envelope_api_error_keeps_code_and_message) {
  ef_error err;
  struct json_object *data;
  ck_assert_int_eq(parse("{\"code\":\"8521\",\"message\":\"signature is wrong\""
                         "}",
                         200, &err, &data),
                   -1);
  ck_assert_int_eq(err.kind, EF_ERR_API);
  ck_assert_str_eq(err.api_code, "8521");
  ck_assert_str_eq(err.message, "signature is wrong");
  char line[512];
  ef_error_format(&err, line, sizeof(line));
  ck_assert_str_eq(line, "HTTP 200, API code 8521: signature is wrong");
  ck_assert_ptr_nonnull(ef_error_advice(&err));
  ck_assert_ptr_nonnull(strstr(ef_error_advice(&err), "whitespace"));
  ef_error tls = {.kind = EF_ERR_TRANSPORT};
  ef_error_set(&tls, EF_ERR_TRANSPORT,
               "SSL peer certificate or SSH remote key was not OK: SSL "
               "certificate problem: unable to get local issuer certificate");
  ck_assert_ptr_nonnull(strstr(ef_error_advice(&tls), "CAFile"));
  ef_error refused = {.kind = EF_ERR_TRANSPORT};
  ef_error_set(&refused, EF_ERR_TRANSPORT, "Couldn't connect to server");
  ck_assert_ptr_null(ef_error_advice(&refused));
}
END_TEST

START_TEST(envelope_http_error_keeps_body_code) {
  ef_error err;
  struct json_object *data;
  ck_assert_int_eq(parse("{\"code\":\"405\",\"message\":\"Method Not "
                         "Allowed\"}",
                         405, &err, &data),
                   -1);
  ck_assert_int_eq(err.kind, EF_ERR_HTTP);
  ck_assert_int_eq(err.http_status, 405);
  char line[512];
  ef_error_format(&err, line, sizeof(line));
  ck_assert_str_eq(line, "HTTP 405 (API code 405: Method Not Allowed)");
  ck_assert_int_eq(parse("<html>bad gateway</html>", 502, &err, &data), -1);
  ef_error_format(&err, line, sizeof(line));
  ck_assert_str_eq(line, "HTTP 502");
}
END_TEST

START_TEST(envelope_unreadable_bodies) {
  ef_error err;
  struct json_object *data;
  ck_assert_int_eq(parse("{\"code\":\"0\",\"data\":{\"a\":", 200, &err, &data),
                   -1);
  ck_assert_int_eq(err.kind, EF_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(err.message, "truncated"));
  ck_assert_int_eq(parse("<html>\n<b>oops</b>", 200, &err, &data), -1);
  ck_assert_ptr_nonnull(strstr(err.message, "not JSON"));
  ck_assert_ptr_null(strchr(err.message, '\n'));
  ck_assert_int_eq(parse("", 200, &err, &data), -1);
  ck_assert_int_eq(err.kind, EF_ERR_PARSE);
  ck_assert_int_eq(parse("[1,2]", 200, &err, &data), -1);
  ck_assert_int_eq(err.kind, EF_ERR_PARSE);
  ck_assert_int_eq(parse("{\"message\":\"x\"}", 200, &err, &data), -1);
  ck_assert_ptr_nonnull(strstr(err.message, "code"));
  ck_assert_int_eq(parse("{\"code\":\"0\"} trailing", 200, &err, &data), -1);
}
END_TEST

/* A list's items one at a time (ef_envelope_parse_items), joined with '|'
 * as json-c writes them; a restart starts them again. */
typedef struct {
  char text[1024];
  int starts;
} gathered;

static int gather(int restart, struct json_object *item, void *ctx) {
  gathered *g = ctx;
  if (restart) {
    g->text[0] = '\0';
    g->starts++;
    return 0;
  }
  size_t len = strlen(g->text);
  snprintf(g->text + len, sizeof(g->text) - len, "%s|",
           json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN));
  return 0;
}

/* The same list's items from the whole tree (ef_envelope_parse). */
static void tree_items(struct json_object *data, char *text, size_t size) {
  text[0] = '\0';
  for (size_t i = 0; data != NULL && i < json_object_array_length(data); i++) {
    size_t len = strlen(text);
    snprintf(text + len, size - len, "%s|",
             json_object_to_json_string_ext(json_object_array_get_idx(data, i),
                                            JSON_C_TO_STRING_PLAIN));
  }
}

/* Item by item, an answer says what the whole tree says: the same items,
 * the same verdict, the same code and message; data named twice is the
 * last, code may follow data, json-c's leniencies (trailing commas) pass. */
START_TEST(list_items_agree_with_the_tree) {
  static const struct {
    const char *body;
    long status;
  } answers[] = {
      {"{\"code\":\"0\",\"message\":\"Success\",\"data\":[{\"sn\":\"A\","
       "\"online\":1},{\"sn\":\"B\",\"x\":[1,{\"y\":null}]}],\"tid\":\"\"}",
       200},
      {" {\"data\" : [ {\"sn\":\"A\"} , 7 , \"s\" , null ] , \"code\" : 0 } \n",
       200},
      {"{\"code\":\"0\",\"data\":[]}", 200},
      {"{\"code\":\"0\"}", 200},
      {"{\"code\":\"0\",\"data\":null}", 200},
      {"{\"code\":\"0\",\"data\":[1],\"data\":[2,3]}", 200},
      {"{\"code\":\"0\",\"data\":[1],\"data\":null}", 200},
      {"{\"code\":\"0\",\"data\":[{\"a\":1},],}", 200},
      {"{\"code\":\"8521\",\"message\":\"signature is wrong\"}", 200},
      {"{\"data\":[{\"sn\":\"A\"}],\"code\":\"8513\",\"message\":\"accessKey "
       "is invalid\"}",
       200},
      {"{\"code\":\"405\",\"message\":\"Method Not Allowed\"}", 405},
      {"{\"code\":\"0\",\"data\":[{\"sn\":\"A\"}]}", 502},
      {"<html>bad gateway</html>", 502},
      {"", 200},
      {"nope", 200},
      {"[1,2]", 200},
      {"{\"message\":\"x\",\"data\":[1]}", 200},
      {"{\"code\":\"0\",\"data\":[{\"sn\":\"A\"}", 200},
      {"{\"code\":\"0\",\"data\":[1 2]}", 200},
      {"{\"code\":\"0\",\"data\":[1,,2]}", 200},
      {"{\"code\" \"0\"}", 200},
      {"{\"code\":\"0\",3:4}", 200},
      {"{\"code\":\"0\"} trailing", 200},
      {"{\"code\":\"8521\",\"message\":\"x\"} // a note\n", 200},
      {"{\"code\":\"0\",\"data\":[1]}/* a note */ \n", 200},
      {"{\"code\":\"0\",\"data\":[1]}/* a note */ /", 200},
      {"{\"code\":\"0\",\"data\":[1]}// no end of line", 200},
      {"{\"code\":\"0\",\"data\":[1]}/* never closed", 200},
      {"// a note\n{\"code\":\"0\",\"data\":[1]}", 200},
      {"/x{\"code\":\"0\",\"data\":[1]}", 200},
      {"{ /* a */ \"code\" // b\n : \"1001\" /**/ , \"message\":\"m\" }", 200},
      {"{\"code\":\"0\",\"data\":[1 /* one */, 2]}", 200},
      {"{\"code\":\"0\"/", 200},
      {"{\"code\":\"0\"/x}", 200},
      {"{\"code\":\"0\",\"data\":[1]", 200},
  };
  struct json_tokener *kept = json_tokener_new();
  ck_assert_ptr_nonnull(kept);
  for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
    const char *body = answers[i].body;
    ef_error tree_err, items_err;
    struct json_object *root = NULL, *data = NULL;
    int tree = ef_envelope_parse(body, strlen(body), answers[i].status, NULL,
                                 &root, &data, &tree_err);
    /* A tokener kept over every answer (as a client keeps one) judges
     * each as a new one, whatever the answer before left in it. */
    ef_error kept_err;
    struct json_object *kept_root = NULL, *kept_data = NULL;
    ck_assert_int_eq(ef_envelope_parse(body, strlen(body), answers[i].status,
                                       kept, &kept_root, &kept_data, &kept_err),
                     tree);
    ck_assert_int_eq(kept_err.kind, tree_err.kind);
    ck_assert_str_eq(kept_err.message, tree_err.message);
    ck_assert_str_eq(kept_data ? json_object_to_json_string(kept_data) : "",
                     data ? json_object_to_json_string(data) : "");
    json_object_put(kept_root);
    gathered g = {.text = "unset"};
    int items = ef_envelope_parse_items(body, strlen(body), answers[i].status,
                                        gather, &g, &items_err);
    ck_assert_msg(items == tree, "%s: %d, the tree %d", body, items, tree);
    ck_assert_int_ge(g.starts, 1);
    ck_assert_int_eq(items_err.kind, tree_err.kind);
    ck_assert_int_eq(items_err.http_status, tree_err.http_status);
    ck_assert_str_eq(items_err.api_code, tree_err.api_code);
    if (tree_err.kind != EF_ERR_PARSE)
      ck_assert_str_eq(items_err.message, tree_err.message);
    if (tree == 0) {
      char expected[1024];
      tree_items(data, expected, sizeof(expected));
      ck_assert_str_eq(g.text, expected);
    }
    json_object_put(root);
  }
  json_tokener_free(kept);
}
END_TEST

/* One body through both readers. */
typedef struct {
  int tree, items; /* their verdicts */
  ef_error tree_err, items_err;
  int data_is_list; /* the tree read data as a list, or found none */
} both_readers;

static both_readers read_both(const char *body, size_t len) {
  both_readers both;
  struct json_object *root = NULL, *data = NULL;
  both.tree =
      ef_envelope_parse(body, len, 200, NULL, &root, &data, &both.tree_err);
  both.data_is_list =
      both.tree == 0 &&
      (data == NULL || json_object_is_type(data, json_type_array));
  json_object_put(root);
  gathered g = {.text = "unset"};
  both.items =
      ef_envelope_parse_items(body, len, 200, gather, &g, &both.items_err);
  return both;
}

/* JSON holds no NUL byte, and json-c reads one in a comment inside an
 * object as the end of the text, handing back the inner object: both
 * readers refuse a body holding one, and say where it is. */
START_TEST(a_nul_byte_is_refused_by_both_readers) {
  static const struct {
    const char *body;
    size_t len, at;
  } answers[] = {
#define WITH_NUL(text, at) {text, sizeof(text) - 1, at}
      WITH_NUL("{\"code\":\"0\",\"data\":{\"p\":{\"code\":\"1001\",\"message\":"
               "\"x\"}// a\0",
               57),
      WITH_NUL("{\"code\":\"0\",\"data\":[1]}\0", 23),
      WITH_NUL("{\"code\":\"0\",\"data\":[1]}// a\0\n", 27),
      WITH_NUL("{\"code\":\"0\",\"data\":[\"a\0b\"]}", 22),
#undef WITH_NUL
  };
  for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
    char expected[64];
    snprintf(expected, sizeof(expected), "invalid JSON: a NUL byte at byte %zu",
             answers[i].at);
    both_readers both = read_both(answers[i].body, answers[i].len);
    ck_assert_int_eq(both.tree, -1);
    ck_assert_int_eq(both.tree_err.kind, EF_ERR_PARSE);
    ck_assert_str_eq(both.tree_err.message, expected);
    ck_assert_int_eq(both.items, -1);
    ck_assert_int_eq(both.items_err.kind, EF_ERR_PARSE);
    ck_assert_str_eq(both.items_err.message, expected);
  }
  /* A body that is no JSON at all (gzip here) is said to be none. */
  static const char gzip[] = "\x1f\x8b\x08\0\0\0\0\0";
  both_readers both = read_both(gzip, sizeof(gzip) - 1);
  ck_assert_int_eq(both.tree, -1);
  ck_assert_int_eq(both.items, -1);
  ck_assert_msg(strncmp(both.tree_err.message, "not JSON", 8) == 0, "%s",
                both.tree_err.message);
  ck_assert_str_eq(both.items_err.message, both.tree_err.message);
}
END_TEST

/* Values nested near json-c's depth limit get the same verdict from both
 * readers, whether data is a list of them or one of them, with or without
 * an API error. */
START_TEST(nesting_limits_agree) {
  static const char *const heads[] = {
      "{\"code\":\"0\",\"data\":[", "{\"code\":\"1001\",\"data\":[",
      "{\"code\":\"0\",\"data\":",  "{\"code\":\"1001\",\"data\":",
      "{\"code\":\"1001\",\"x\":",  "{\"code\":\"0\",\"x\":",
  };
  for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++)
    for (int depth = JSON_TOKENER_DEFAULT_DEPTH - 4;
         depth <= JSON_TOKENER_DEFAULT_DEPTH + 1; depth++) {
      char body[256];
      size_t len = strlen(heads[h]);
      memcpy(body, heads[h], len);
      memset(body + len, '[', (size_t)depth);
      memset(body + len + depth, ']', (size_t)depth);
      len += 2 * (size_t)depth;
      if (heads[h][strlen(heads[h]) - 1] == '[')
        body[len++] = ']';
      body[len++] = '}';
      both_readers both = read_both(body, len);
      ck_assert_msg(
          both.items == (both.data_is_list ? both.tree : -1) &&
              (both.tree == 0 || both.items_err.kind == both.tree_err.kind),
          "%s with %d levels: the tree %d (%s), the list %d (%s)", heads[h],
          depth, both.tree, both.tree_err.message, both.items,
          both.items_err.message);
    }
}
END_TEST

/* Blanks and comments before a value are not counted against the length
 * a value of a list answer may have: an answer whose members stand after
 * more than EF_ENVELOPE_VALUE_MAX blank bytes is read as the tree reads
 * it. */
START_TEST(blanks_before_a_value_are_not_its_bytes) {
  static const char *const parts[][2] = {
      {"{\"code\":\"1001\",\"message\":", "\"x\"}"},
      {"{\"code\":\"0\",\"data\":", "[1,2]}"},
      {"{\"code\":\"0\",\"data\":[", "1,2]}"},
      {"{\"code\":", "\"8521\"}"},
  };
  size_t blanks = EF_ENVELOPE_VALUE_MAX + 100;
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    size_t head = strlen(parts[i][0]), tail = strlen(parts[i][1]);
    size_t len = head + blanks + tail;
    char *body = malloc(len);
    ck_assert_ptr_nonnull(body);
    memcpy(body, parts[i][0], head);
    memset(body + head, ' ', blanks);
    memcpy(body + head + 2, "/* a comment */", 15);
    memcpy(body + head + blanks, parts[i][1], tail);
    both_readers both = read_both(body, len);
    ck_assert_msg(
        both.items == both.tree && both.items_err.kind == both.tree_err.kind,
        "%s: the tree %d (%s), the list %d (%s)", parts[i][0], both.tree,
        both.tree_err.message, both.items, both.items_err.message);
    ck_assert_str_eq(both.items_err.api_code, both.tree_err.api_code);
    free(body);
  }
}
END_TEST

static int count_item(int restart, struct json_object *item, void *ctx) {
  (void)item;
  *(size_t *)ctx += !restart;
  return 0;
}

/* What the tree would take whole but a list's items refuse: data that is
 * no list, and a value longer than EF_ENVELOPE_VALUE_MAX (its tree could
 * take hundreds of times its bytes). */
START_TEST(list_items_refuse_what_is_no_list) {
  ef_error err;
  gathered g = {0};
  const char *object = "{\"code\":\"0\",\"data\":{\"sn\":\"A\"}}";
  ck_assert_int_eq(
      ef_envelope_parse_items(object, strlen(object), 200, gather, &g, &err),
      -1);
  ck_assert_int_eq(err.kind, EF_ERR_PARSE);
  ck_assert_str_eq(err.message, "\"data\" is object, not a list");
  /* An API error first, whatever data holds. */
  const char *refused = "{\"data\":{},\"code\":\"8512\",\"message\":\"no\"}";
  ck_assert_int_eq(
      ef_envelope_parse_items(refused, strlen(refused), 200, gather, &g, &err),
      -1);
  ck_assert_int_eq(err.kind, EF_ERR_API);

  size_t long_len = EF_ENVELOPE_VALUE_MAX + 64;
  char *body = malloc(long_len + 64);
  int n = snprintf(body, 64, "{\"code\":\"0\",\"data\":[{\"sn\":\"");
  memset(body + n, 'x', long_len);
  strcpy(body + n + long_len, "\"}]}");
  ck_assert_int_eq(
      ef_envelope_parse_items(body, strlen(body), 200, gather, &g, &err), -1);
  ck_assert_int_eq(err.kind, EF_ERR_PARSE);
  ck_assert_str_eq(err.message, "a value of more than 65536 bytes in the "
                                "answer");
  /* Many small items pass: only one is held at a time. */
  size_t items = 20000;
  char *many = malloc(32 + items * 3);
  char *end = many + sprintf(many, "{\"code\":\"0\",\"data\":[");
  for (size_t i = 0; i < items; i++)
    end += sprintf(end, i + 1 < items ? "{}," : "{}]}");
  size_t count = 0;
  ck_assert_int_eq(ef_envelope_parse_items(many, strlen(many), 200, count_item,
                                           &count, &err),
                   0);
  ck_assert_uint_eq(count, items);
  free(many);
  free(body);
}
END_TEST

static void count_leaf(const char *path, const ef_leaf *leaf, void *ctx) {
  (void)path;
  (void)leaf;
  (*(size_t *)ctx)++;
}

/* An answer's data of n keys, k0 to k(n-1), each its number. */
static struct json_object *flood_of(size_t n) {
  struct json_object *flood = json_object_new_object();
  for (size_t k = 0; k < n; k++) {
    char key[32];
    snprintf(key, sizeof(key), "k%zu", k);
    json_object_object_add(flood, key, json_object_new_int((int)k));
  }
  return flood;
}

/* What one walk handed out, as "path=text;" in order. */
typedef struct {
  char text[8192];
  size_t len;
  ef_walker *nested; /* walked again from inside the callback, once */
  struct json_object *nested_data;
} walk_log;

static void log_leaf(const char *path, const ef_leaf *leaf, void *ctx) {
  walk_log *log = ctx;
  int n = snprintf(log->text + log->len, sizeof(log->text) - log->len, "%s=%s;",
                   path, leaf->text);
  ck_assert(n > 0 && (size_t)n < sizeof(log->text) - log->len);
  log->len += (size_t)n;
  if (log->nested_data != NULL) {
    struct json_object *data = log->nested_data;
    log->nested_data = NULL;
    walk_log inner = {0};
    size_t cut = 0;
    ck_assert_int_eq(ef_walker_walk(log->nested, data, log_leaf, &inner, &cut),
                     0);
    ck_assert_str_eq(inner.text, "a.b=1;");
    ck_assert_uint_eq(cut, 1);
  }
}

static void walk_logged(ef_walker *walker, struct json_object *data,
                        walk_log *log, size_t *cut) {
  *log = (walk_log){0};
  *cut = 0;
  ck_assert_int_eq(ef_walker_walk(walker, data, log_leaf, log, cut), 0);
}

/* A walker kept from walk to walk (the engine's) hands out what a fresh
 * walk does: no path seen in one walk counts as seen in the next, the
 * packs' JSON text is parsed with the same result, a flood's room is given
 * back, and a walk started from a callback has room of its own. */
START_TEST(a_kept_walker_walks_as_a_fresh_one) {
  const char *texts[] = {
      "{\"a.b\":1,\"a\":{\"b\":2},\"bp_addr.P1\":\"{\\\"bpSoc\\\":7}\"}",
      "{\"a\":{\"b\":3},\"c\":[1,2],\"bp_addr.P1\":\"{\\\"bpSoc\\\":8}\"}",
      "{\"a.b\":1,\"a\":{\"b\":2},\"bp_addr.P1\":\"{\\\"bpSoc\\\":7}\"}",
  };
  ef_walker *walker = ef_walker_new();
  ck_assert_ptr_nonnull(walker);
  for (int round = 0; round < 2; round++) {
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
      struct json_object *data = json_tokener_parse(texts[i]);
      walk_log kept, fresh;
      size_t kept_cut, fresh_cut;
      walk_logged(walker, data, &kept, &kept_cut);
      walk_logged(NULL, data, &fresh, &fresh_cut);
      ck_assert_str_eq(kept.text, fresh.text);
      ck_assert_uint_eq(kept_cut, fresh_cut);
      ck_assert_uint_eq(kept_cut, i == 1 ? 0 : 1);
      json_object_put(data);
    }
    /* A flood between the rounds: more paths than a walker keeps room
     * for, every one handed out. */
    size_t n = 4 * EF_WALKER_KEPT_PATHS;
    struct json_object *flood = flood_of(n);
    size_t handed = 0, cut = 0;
    ck_assert_int_eq(ef_walker_walk(walker, flood, count_leaf, &handed, &cut),
                     0);
    ck_assert_uint_eq(handed, n);
    ck_assert_uint_eq(cut, 0);
    json_object_put(flood);
  }
  /* From a callback: the walker is busy, the inner walk has its own room
   * and the outer one goes on as before. */
  struct json_object *outer = json_tokener_parse("{\"x\":1,\"y\":2,\"x \":3}");
  walk_log log = {.nested = walker,
                  .nested_data =
                      json_tokener_parse("{\"a.b\":1,\"a\":{\"b\":2}}")};
  struct json_object *inner = log.nested_data;
  size_t cut = 0;
  ck_assert_int_eq(ef_walker_walk(walker, outer, log_leaf, &log, &cut), 0);
  ck_assert_str_eq(log.text, "x=1;y=2;");
  ck_assert_uint_eq(cut, 1);
  json_object_put(inner);
  json_object_put(outer);
  ef_walker_free(walker);
}
END_TEST

/* A walker keeps room for a usual answer, gives back a flood's and the
 * parser of a long text, and counts its walks past 2^32 without taking a
 * path of the first walk for one of the walk that comes round to its
 * number again. */
START_TEST(a_walker_holds_what_a_usual_answer_needs) {
  ef_walker *walker = ef_walker_new();
  ck_assert_ptr_nonnull(walker);
  struct json_object *usual =
      json_tokener_parse("{\"a\":1,\"b\":{\"c\":2},\"bp_addr.P\":"
                         "\"{\\\"bpSoc\\\":7,\\\"bpPwr\\\":1}\"}");
  size_t handed = 0, cut = 0;
  ck_assert_int_eq(ef_walker_walk(walker, usual, count_leaf, &handed, &cut), 0);
  ck_assert_uint_eq(handed, 4);
  ef_walker_held held = ef_walker_holding(walker);
  ck_assert_uint_gt(held.paths_room, 0);
  ck_assert_int_eq(held.keeps_parser, 1);

  struct json_object *flood = flood_of(4 * EF_WALKER_KEPT_PATHS);
  ck_assert_int_eq(ef_walker_walk(walker, flood, count_leaf, &handed, &cut), 0);
  ck_assert_uint_le(ef_walker_holding(walker).paths_room, EF_WALKER_KEPT_PATHS);
  json_object_put(flood);

  /* A pack's text holding a string longer than a kept parser's. */
  size_t long_len = EF_WALKER_KEPT_TEXT + 16;
  char *inner = malloc(long_len + 32);
  ck_assert_ptr_nonnull(inner);
  int n = sprintf(inner, "{\"bpSn\":\"");
  memset(inner + n, 'x', long_len);
  strcpy(inner + n + long_len, "\"}");
  struct json_object *long_text = json_object_new_object();
  json_object_object_add(long_text, "bp_addr.P", json_object_new_string(inner));
  handed = 0;
  ck_assert_int_eq(ef_walker_walk(walker, long_text, count_leaf, &handed, &cut),
                   0);
  ck_assert_uint_eq(handed, 1);
  ck_assert_int_eq(ef_walker_holding(walker).keeps_parser, 0);
  json_object_put(long_text);
  free(inner);
  /* A usual answer after it: a parser again, the same values. */
  handed = cut = 0;
  ck_assert_int_eq(ef_walker_walk(walker, usual, count_leaf, &handed, &cut), 0);
  ck_assert_uint_eq(handed, 4);
  ck_assert_uint_eq(cut, 0);
  ck_assert_int_eq(ef_walker_holding(walker).keeps_parser, 1);
  ef_walker_free(walker);

  /* Past the last walk number: the first walk's paths are not seen. */
  walker = ef_walker_new();
  ck_assert_ptr_nonnull(walker);
  handed = cut = 0;
  ck_assert_int_eq(ef_walker_walk(walker, usual, count_leaf, &handed, &cut), 0);
  ef_walker_skip_walks(walker, UINT32_MAX - 1); /* the next is the last */
  for (int round = 0; round < 3; round++) {
    handed = cut = 0;
    ck_assert_int_eq(ef_walker_walk(walker, usual, count_leaf, &handed, &cut),
                     0);
    ck_assert_uint_eq(handed, 4);
    ck_assert_uint_eq(cut, 0);
  }
  ef_walker_free(walker);
  json_object_put(usual);
}
END_TEST

UNIT_MAIN("sample", flat_and_nested_meet, numbers_keep_their_text,
          integers_tell_their_texts_length, lists_of_objects_take_an_index,
          huge_arrays_of_objects_are_cut, lists_of_scalars_stay_lists,
          json_text_in_strings_expands, a_texts_values_share_its_walks_number,
          broken_json_text_stays_a_string,
          nulls_are_no_reading_and_keys_are_trimmed, put_merges_partial_updates,
          data_must_be_an_object, envelope_success_with_string_or_number_code,
          envelope_api_error_keeps_code_and_message,
          envelope_http_error_keeps_body_code, envelope_unreadable_bodies,
          list_items_agree_with_the_tree, list_items_refuse_what_is_no_list,
          a_nul_byte_is_refused_by_both_readers, nesting_limits_agree,
          blanks_before_a_value_are_not_its_bytes,
          a_kept_walker_walks_as_a_fresh_one,
          a_walker_holds_what_a_usual_answer_needs)
