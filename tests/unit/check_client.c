/* Unit tests of ef_client.c and ef_poll.c against a small in-process HTTP
 * server (libmicrohttpd on a loopback port): what goes on the wire,
 * concurrency, caps, timeouts, the one retry of 8521. */
#include "ef_client.h"
#include "ef_discovery.h"
#include "ef_poll.h"
#include "ef_sign.h"
#include "unit.h"
#include "unit_server.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCESS_KEY UNIT_ACCESS_KEY
#define SECRET_KEY UNIT_SECRET_KEY
#define SERVER_AHEAD_MS UNIT_SERVER_AHEAD_MS

/* How the server answers; set by each test before its requests. */
static struct {
  int transient_8521_left; /* answer 8521 this many times first */
  int delay_ms;
  int poll_delay_ms;     /* of requests naming a device only */
  size_t answer_padding; /* extra bytes in each answer */
  unsigned fail_status;  /* answer every request with this HTTP status */
  char x_timestamp[32];  /* the server time sent; "": an hour ahead */
  char retry_after[32];  /* a Retry-After header, unless "" */
} server;

static void handle(const unit_request *request, unit_reply *reply, void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&unit_server.lock);
  int transient = server.transient_8521_left > 0;
  if (transient)
    server.transient_8521_left--;
  reply->delay_ms = request->sn != NULL && server.poll_delay_ms
                        ? server.poll_delay_ms
                        : server.delay_ms;
  size_t padding = server.answer_padding;
  unsigned fail_status = server.fail_status;
  snprintf(reply->x_timestamp, sizeof(reply->x_timestamp), "%s",
           server.x_timestamp);
  snprintf(reply->retry_after, sizeof(reply->retry_after), "%s",
           server.retry_after);
  pthread_mutex_unlock(&unit_server.lock);
  if (fail_status != 0) {
    reply->status = fail_status;
    reply->body = strdup("<html>busy</html>");
  } else if (transient) {
    reply->body = strdup("{\"code\":\"8521\",\"message\":\"signature is "
                         "wrong\"}");
  } else if (strcmp(request->path, "/iot-open/sign/device/list") == 0) {
    char *pad = calloc(padding + 1, 1);
    memset(pad, ' ', padding);
    if (asprintf(&reply->body,
                 "{\"code\":\"0\",\"data\":[{\"sn\":\"A\",\"online\":1,"
                 "\"productName\":\"PowerOcean\"},%s{\"sn\":\"B\","
                 "\"online\":0,\"deviceName\":\"garage\"},{\"online\":1}]}",
                 pad) < 0)
      reply->body = NULL;
    free(pad);
  } else {
    char *pad = calloc(padding + 1, 1);
    memset(pad, ' ', padding);
    if (asprintf(&reply->body,
                 "{\"code\":\"0\",\"data\":{\"sn\":\"%s\",\"bpSoc\":42,"
                 "\"body\":%zu}%s}",
                 request->sn ? request->sn : "post", request->body_len,
                 pad) < 0)
      reply->body = NULL;
    free(pad);
  }
}

static char endpoint[64];

static void start_server(void) {
  server.transient_8521_left = server.delay_ms = server.poll_delay_ms = 0;
  server.answer_padding = 0;
  server.fail_status = 0;
  server.x_timestamp[0] = server.retry_after[0] = '\0';
  unit_server_start(handle, NULL, endpoint, sizeof(endpoint));
}

static void stop_server(void) { unit_server_stop(); }

static ef_client *new_client(unsigned max_concurrent, long timeout_ms,
                             size_t max_body) {
  ef_client_options options = {.endpoint = endpoint,
                               .access_key = ACCESS_KEY,
                               .secret_key = SECRET_KEY,
                               .max_concurrent = max_concurrent,
                               .timeout_ms = timeout_ms,
                               .max_body = max_body};
  ef_error err;
  ef_client *client = ef_client_new(&options, &err);
  ck_assert_msg(client != NULL, "%s", err.message);
  return client;
}

typedef struct {
  int ok, failed;
  char last_error[512];
  char sns[32][8];
} tally;

/* The text of data's member key; the test fails when it has none. */
static const char *member_text(struct json_object *data, const char *key) {
  struct json_object *member = NULL;
  ck_assert(json_object_object_get_ex(data, key, &member));
  return json_object_get_string(member);
}

static void count_reading(const ef_reading *reading, void *ctx) {
  tally *t = ctx;
  if (reading->error != NULL) {
    ef_error_format(reading->error, t->last_error, sizeof(t->last_error));
    t->failed++;
    return;
  }
  ck_assert_str_eq(member_text(reading->data, "bpSoc"), "42");
  ck_assert_str_eq(member_text(reading->data, "sn"), reading->target->sn);
  t->ok++;
}

static void make_targets(ef_poll_target *targets, size_t n, char names[][8]) {
  for (size_t i = 0; i < n; i++) {
    snprintf(names[i], 8, "SN%02zu", i);
    targets[i] = (ef_poll_target){.sn = names[i]};
  }
}

/* Polls n devices SN00, SN01, ... in one batch and counts the outcomes. */
static tally poll_devices(ef_client *client, size_t n) {
  tally t = {0};
  ef_poll_target targets[32];
  ck_assert_uint_le(n, 32);
  make_targets(targets, n, t.sns);
  ef_error err;
  ck_assert_int_eq(ef_poll_quotas(client, targets, n, count_reading, &t, &err),
                   0);
  return t;
}

START_TEST(batch_respects_the_concurrency_limit) {
  start_server();
  /* Long enough for four requests to be sent before the first answer,
   * under valgrind on a busy machine. */
  server.delay_ms = 300;
  ef_client *client = new_client(4, 5000, 0);
  tally t = poll_devices(client, 12);
  ck_assert_int_eq(t.ok, 12);
  ck_assert_int_eq(unit_server.bad_signatures, 0);
  /* All of them in flight together, never more than four. */
  ck_assert_int_eq(unit_server.max_in_flight, 4);
  ck_assert_str_eq(unit_server.last_method, "GET");
  ck_assert_str_eq(unit_server.last_content_type,
                   ""); /* a GET signs its query */
  ck_assert_uint_eq(ef_client_connections_opened(client), 4);
  /* The next poll reuses the four connections. */
  t = poll_devices(client, 12);
  ck_assert_int_eq(t.ok, 12);
  ck_assert_uint_eq(ef_client_connections_opened(client), 4);
  ef_client_free(client);
  stop_server();
}
END_TEST

/* The server echoes a POST as "sn":"post" with the body's length. */
static void check_posted(const ef_reading *reading, void *ctx) {
  ck_assert_ptr_null(reading->error);
  ck_assert_str_eq(member_text(reading->data, "sn"), "post");
  ck_assert_str_eq(member_text(reading->data, "body"), "54");
  (*(int *)ctx)++;
}

START_TEST(selected_quotas_are_posted_as_signed_json) {
  start_server();
  ef_client *client = new_client(0, 5000, 0);
  const char *quotas[] = {"bpSoc", "pcsAPhase"};
  ef_poll_target target = {.sn = "HJ1", .quotas = quotas, .n_quotas = 2};
  int posted = 0;
  ef_error err;
  ck_assert_int_eq(
      ef_poll_quotas(client, &target, 1, check_posted, &posted, &err), 0);
  /* {"sn":"HJ1","params":{"quotas":["bpSoc","pcsAPhase"]}} went out whole */
  ck_assert_int_eq(posted, 1);
  ck_assert_str_eq(unit_server.last_method, "POST");
  ck_assert_str_eq(unit_server.last_content_type,
                   "application/json;charset=UTF-8");
  /* The POST's handle, kept, carries nothing of it into the next
   * transfers: GET polls go out as GETs, without its body or Content-Type,
   * signed once. */
  for (int i = 0; i < 3; i++) {
    tally t = poll_devices(client, 1);
    ck_assert_int_eq(t.ok, 1);
    ck_assert_str_eq(unit_server.last_method, "GET");
    ck_assert_str_eq(unit_server.last_content_type, "");
  }
  ck_assert_int_eq(unit_server.bad_signatures, 0);
  ef_client_free(client);
  stop_server();
}
END_TEST

START_TEST(transient_8521_is_retried_once) {
  start_server();
  server.transient_8521_left = 1;
  ef_client *client = new_client(0, 5000, 0);
  tally t = poll_devices(client, 3);
  ck_assert_int_eq(t.ok, 3);
  ck_assert_int_eq(unit_server.requests, 4);
  /* A wrong secret fails twice, then is reported. */
  ef_client_options options = {
      .endpoint = endpoint, .access_key = ACCESS_KEY, .secret_key = "wrong"};
  ef_error err;
  ef_client *wrong = ef_client_new(&options, &err);
  t = poll_devices(wrong, 1);
  ck_assert_int_eq(t.failed, 1);
  ck_assert_int_eq(unit_server.requests, 6);
  ck_assert_str_eq(t.last_error, "HTTP 200, API code 8521: signature is wrong");
  ck_assert_ptr_null(strstr(t.last_error, "wrong\"")); /* no secret */
  ef_client_free(wrong);
  ef_client_free(client);
  stop_server();
}
END_TEST

START_TEST(oversized_answers_are_cut_off) {
  start_server();
  server.answer_padding = 4096;
  ef_client *client = new_client(0, 5000, 1024);
  tally t = poll_devices(client, 1);
  ck_assert_int_eq(t.failed, 1);
  ck_assert_str_eq(t.last_error,
                   "answer larger than the 1024 bytes allowed for one "
                   "device's quotas or reports, or the certification "
                   "(answers that do not grow with the account)");
  ef_client_free(client);
  stop_server();
}
END_TEST

static void keep_answer_error(const ef_answer *answer, void *ctx) {
  *(ef_error *)ctx = answer->error;
}

/* The cap follows what the answer is: a device list grows with the
 * account and has its own, which the error names. */
START_TEST(answer_caps_follow_the_answer) {
  start_server();
  server.answer_padding = 4096;
  ef_client *client = new_client(0, 5000, 1024);
  ef_device_list list = {0};
  ef_error err;
  ck_assert_int_eq(ef_discover(client, &list, &err), 0);
  ck_assert_uint_eq(list.len, 2);
  ef_device_list_clear(&list);

  ef_request request = {0};
  ef_discovery_request(&request, &list);
  ck_assert_uint_eq(request.cap->max_body, 25600000);
  ck_assert_str_eq(request.cap->what,
                   "a device list (room for 100000 devices of 256 bytes "
                   "each)");
  ef_answer_cap small = {.max_body = 2048, .what = "a test's list"};
  request.cap = &small;
  ef_error batch;
  ck_assert_int_eq(
      ef_client_run(client, &request, 1, keep_answer_error, &err, &batch), 0);
  ck_assert_int_eq(err.kind, EF_ERR_TOO_LARGE);
  ck_assert_str_eq(err.message,
                   "answer larger than the 2048 bytes allowed for a test's "
                   "list");
  ck_assert_uint_eq(list.len, 0);
  ef_device_list_clear(&list);
  ef_client_free(client);
  stop_server();
}
END_TEST

START_TEST(slow_answers_time_out) {
  start_server();
  server.delay_ms = 1500;
  ef_client *client = new_client(0, 300, 0);
  tally t = poll_devices(client, 1);
  ck_assert_int_eq(t.failed, 1);
  ck_assert_ptr_nonnull(strstr(t.last_error, "Timeout"));
  ef_client_free(client);
  stop_server();
}
END_TEST

START_TEST(refused_connections_are_reported) {
  start_server();
  stop_server(); /* nothing listens on that port any more */
  ef_client *client = new_client(0, 2000, 0);
  tally t = poll_devices(client, 1);
  ck_assert_int_eq(t.failed, 1);
  ck_assert_ptr_nonnull(strstr(t.last_error, "connect"));
  ef_client_free(client);
}
END_TEST

START_TEST(server_clock_offset_is_measured) {
  start_server();
  ef_client *client = new_client(0, 5000, 0);
  poll_devices(client, 1);
  /* The server's clock is an hour ahead of this machine's. */
  ck_assert_int_gt(ef_client_clock_offset_ms(client), SERVER_AHEAD_MS - 60000);
  ck_assert_int_lt(ef_client_clock_offset_ms(client), SERVER_AHEAD_MS + 60000);
  /* Said once, not after every batch. */
  char news[256];
  ck_assert_int_eq(ef_client_clock_news(client, news, sizeof(news)),
                   EF_CLOCK_SKEWED);
  ck_assert_ptr_nonnull(strstr(news, " s behind the EcoFlow server's"));
  poll_devices(client, 1);
  ck_assert_int_eq(ef_client_clock_news(client, news, sizeof(news)),
                   EF_CLOCK_UNCHANGED);
  ef_client_free(client);
  stop_server();
}
END_TEST

/* A server time that cannot be one (it would overflow the offset, or sign
 * requests with a negative time) is not taken; the Date header is. */
START_TEST(insane_server_times_are_ignored) {
  static const char *const insane[] = {"9223372036854775807", "-5",
                                       "4102444800000", "1e30", "12abc"};
  start_server();
  ef_client *client = new_client(0, 5000, 0);
  for (size_t i = 0; i < sizeof(insane) / sizeof(insane[0]); i++) {
    snprintf(server.x_timestamp, sizeof(server.x_timestamp), "%s", insane[i]);
    poll_devices(client, 1);
    /* Only the Date header's time is taken then, to the second. */
    ck_assert_int_lt(llabs(ef_client_clock_offset_ms(client)), 2000);
  }
  poll_devices(client, 1); /* signed with our own clock, which is sane */
  long long signed_at = strtoll(unit_server.last_timestamp, NULL, 10);
  ck_assert_int_lt(llabs(signed_at - (long long)ef_now_ms()), 60000);
  ef_client_free(client);
  stop_server();
}
END_TEST

static void keep_error(const ef_reading *reading, void *ctx) {
  ck_assert_ptr_nonnull(reading->error);
  *(ef_error *)ctx = *reading->error;
}

/* Retry-After: 100000000 must not silence a device for three years. */
START_TEST(retry_after_is_capped) {
  start_server();
  server.fail_status = 429;
  snprintf(server.retry_after, sizeof(server.retry_after), "100000000");
  ef_client *client = new_client(0, 5000, 0);
  ef_poll_target target = {.sn = "SN1"};
  ef_error reading_error = {0}, err;
  ef_poll_quotas(client, &target, 1, keep_error, &reading_error, &err);
  ck_assert_int_eq(reading_error.http_status, 429);
  ck_assert_int_eq(reading_error.retry_after_s, EF_MAX_RETRY_AFTER_S);
  snprintf(server.retry_after, sizeof(server.retry_after), "120");
  ef_poll_quotas(client, &target, 1, keep_error, &reading_error, &err);
  ck_assert_int_eq(reading_error.retry_after_s, 120);
  ef_client_free(client);
  stop_server();
}
END_TEST

/* Counts each target's answers, by index in the batch. */
typedef struct {
  const ef_poll_target *targets;
  int answers[32];
  int aborted, timed_out;
} answer_count;

static void count_answers(const ef_reading *reading, void *ctx) {
  answer_count *count = ctx;
  count->answers[reading->target - count->targets]++;
  if (reading->error != NULL && reading->error->kind == EF_ERR_ABORTED)
    count->aborted++;
  if (reading->error != NULL && strstr(reading->error->message, "Timeout"))
    count->timed_out++;
}

/* A host that hangs is recognised from the first wave: the rest of the
 * batch fails at once with the same error, unsent. */
START_TEST(dead_host_fails_the_batch_after_one_wave) {
  start_server();
  server.delay_ms = 1500;
  ef_client *client = new_client(2, 300, 0);
  ef_poll_target targets[10];
  char names[10][8];
  make_targets(targets, 10, names);
  answer_count count = {.targets = targets};
  ef_error err;
  ef_poll_quotas(client, targets, 10, count_answers, &count, &err);
  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(count.answers[i], 1);
  ck_assert_int_eq(count.timed_out, 10);
  ck_assert_int_eq(unit_server.requests, 2); /* the first wave only */
  ef_client_free(client);
  stop_server();
}
END_TEST

typedef struct {
  const ef_request *requests;
  int answers[16];
  int ok, timed_out;
} batch_count;

static void count_batch(const ef_answer *answer, void *ctx) {
  batch_count *count = ctx;
  count->answers[answer->request - count->requests]++;
  if (answer->error.kind == EF_OK)
    count->ok++;
  else if (strstr(answer->error.message, "Timeout") != NULL)
    count->timed_out++;
}

/* A quick answer first (the device list) does not hide a host whose polls
 * all hang: a wave's worth of answers in a row without an HTTP answer
 * fails the rest of the batch. */
START_TEST(dead_host_after_a_quick_answer) {
  /* Long enough for the list's answer under valgrind on a busy machine. */
  const int timeout_ms = 1000;
  start_server();
  server.poll_delay_ms = 4 * timeout_ms;
  ef_client *client = new_client(2, timeout_ms, 0);
  ef_request requests[11] = {{0}};
  ef_device_list list = {0};
  ef_discovery_request(&requests[0], &list);
  char names[10][8];
  for (int i = 0; i < 10; i++) {
    snprintf(names[i], sizeof(names[i]), "SN%02d", i);
    requests[i + 1] = (ef_request){.method = EF_METHOD_GET,
                                   .path = "/iot-open/sign/device/quota/all",
                                   .sn = names[i]};
  }
  batch_count count = {.requests = requests};
  ef_error err;
  int64_t started = ef_now_ms();
  ef_client_run(client, requests, 11, count_batch, &count, &err);
  int64_t took = ef_now_ms() - started;
  for (int i = 0; i < 11; i++)
    ck_assert_int_eq(count.answers[i], 1);
  ck_assert_int_eq(count.ok, 1);
  ck_assert_int_eq(count.timed_out, 10);
  /* The list and a wave; a slot freed by a timeout is given the next
   * request before the wave is complete, and that one is cut off. */
  ck_assert_int_le(unit_server.requests, 1 + 2 * 2 - 1);
  /* About one timeout (with 300 ms: 320 ms under valgrind and two busy
   * loops); without the rule the ten would time out two at a time, five
   * timeouts. */
  ck_assert_int_lt(took, 4 * timeout_ms);
  ef_device_list_clear(&list);
  ef_client_free(client);
  stop_server();
}
END_TEST

typedef struct {
  ef_client *client;
  int delay_ms;
} stopper;

static void *stop_later(void *arg) {
  stopper *s = arg;
  usleep((useconds_t)s->delay_ms * 1000);
  ef_client_stop(s->client);
  return NULL;
}

/* Stopped while its first wave hangs, a batch answers every target once
 * (in flight: cut off; waiting: never sent), and a stopped client sends
 * nothing more. */
START_TEST(every_target_is_answered_when_stopped) {
  start_server();
  server.delay_ms = 2000;
  ef_client *client = new_client(2, 10000, 0);
  ef_poll_target targets[10];
  char names[10][8];
  make_targets(targets, 10, names);
  answer_count count = {.targets = targets};
  stopper s = {.client = client, .delay_ms = 300};
  pthread_t thread;
  ck_assert_int_eq(pthread_create(&thread, NULL, stop_later, &s), 0);
  int64_t started = ef_now_ms();
  ef_error err;
  ef_poll_quotas(client, targets, 10, count_answers, &count, &err);
  int64_t took = ef_now_ms() - started;
  pthread_join(thread, NULL);
  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(count.answers[i], 1);
  ck_assert_int_eq(count.aborted, 10);
  ck_assert_int_eq(unit_server.requests, 2);
  ck_assert_int_lt(took, 2000); /* not the answers' 2 s, let alone 10 */
  count = (answer_count){.targets = targets};
  ef_poll_quotas(client, targets, 3, count_answers, &count, &err);
  ck_assert_int_eq(count.aborted, 3);
  ck_assert_int_eq(unit_server.requests, 2);
  ef_client_free(client);
  stop_server();
}
END_TEST

START_TEST(device_list_is_read) {
  start_server();
  ef_client *client = new_client(0, 5000, 0);
  ef_device_list list = {0};
  ef_error err;
  ck_assert_int_eq(ef_discover(client, &list, &err), 0);
  ck_assert_uint_eq(list.len, 2); /* the entry without "sn" is skipped */
  ck_assert_str_eq(list.items[0].sn, "A");
  ck_assert_int_eq(list.items[0].online, 1);
  ck_assert_str_eq(list.items[0].product, "PowerOcean");
  ck_assert_ptr_null(list.items[1].product);
  ck_assert_str_eq(list.items[1].name, "garage");
  ck_assert_int_eq(list.items[1].online, 0);
  ck_assert_ptr_nonnull(ef_device_list_find(&list, "B"));
  ck_assert_ptr_null(ef_device_list_find(&list, "C"));
  ef_device_list_clear(&list);
  ef_client_free(client);
  stop_server();
}
END_TEST

/* Most of a batch failing with 5xx pauses the account: the next batch is
 * answered without a request. */
START_TEST(failing_account_cools_down) {
  start_server();
  server.fail_status = 503;
  ef_client *client = new_client(0, 5000, 0);
  tally t = poll_devices(client, 4);
  ck_assert_int_eq(t.failed, 4);
  ck_assert_str_eq(t.last_error, "HTTP 503");
  ck_assert_int_eq(unit_server.requests, 4);
  t = poll_devices(client, 4);
  ck_assert_int_eq(t.failed, 4);
  ck_assert_int_eq(unit_server.requests, 4); /* nothing was sent */
  ck_assert_ptr_nonnull(strstr(t.last_error, "pauses"));
  ef_client_free(client);
  stop_server();
}
END_TEST

START_TEST(options_are_checked) {
  ef_error err;
  ef_client_options options = {.endpoint = "http://127.0.0.1:1",
                               .access_key = ACCESS_KEY};
  ck_assert_ptr_null(ef_client_new(&options, &err));
  ck_assert_str_eq(err.message, "access key or secret key missing");
  options = (ef_client_options){.access_key = "a", .secret_key = "b"};
  ck_assert_ptr_null(ef_client_new(&options, &err));
  ck_assert_str_eq(err.message, "no endpoint configured");
}
END_TEST

int main(void) {
  ef_client_global_init();
  const TTest *const tests[] = {batch_respects_the_concurrency_limit,
                                selected_quotas_are_posted_as_signed_json,
                                transient_8521_is_retried_once,
                                oversized_answers_are_cut_off,
                                answer_caps_follow_the_answer,
                                slow_answers_time_out,
                                refused_connections_are_reported,
                                server_clock_offset_is_measured,
                                insane_server_times_are_ignored,
                                retry_after_is_capped,
                                dead_host_after_a_quick_answer,
                                dead_host_fails_the_batch_after_one_wave,
                                every_target_is_answered_when_stopped,
                                device_list_is_read,
                                failing_account_cools_down,
                                options_are_checked};
  int status = unit_run("client", tests, sizeof(tests) / sizeof(tests[0]));
  ef_client_global_cleanup();
  return status;
}
