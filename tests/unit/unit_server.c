/* unit_server.c: the signed-API server of the core's unit tests. */
#include "unit_server.h"

#include "ef_client.h"
#include "ef_params.h"
#include "ef_sign.h"

#include <arpa/inet.h>
#include <check.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unit_server_stats unit_server = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Daemon *daemon_;
static unit_handler handler_;
static void *handler_ctx;

typedef struct {
  char *body;
  size_t len;
} upload;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  (void)kind;
  if (value != NULL)
    ef_params_add(cls, key, value);
  return MHD_YES;
}

/* Checks the signature the way the cloud does (query for GET, JSON body
 * for POST). */
static int signature_ok(struct MHD_Connection *c, const upload *up) {
  ef_params params = {0};
  if (up->body != NULL) {
    struct json_object *body = json_tokener_parse(up->body);
    ef_params_add_json(&params, body);
    json_object_put(body);
  } else {
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_header,
                              &params);
  }
  const char *nonce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "nonce");
  const char *time =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "timestamp");
  const char *key =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "accessKey");
  const char *sign = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "sign");
  int ok = 0;
  if (nonce && time && key && sign && strlen(nonce) == EF_NONCE_LEN) {
    char *canonical = ef_sign_canonical(&params, key, nonce, time);
    char expected[EF_SIGN_HEX_LEN + 1];
    ok = ef_sign_hmac(UNIT_SECRET_KEY, canonical, expected) == 0 &&
         ef_sign_equal(expected, sign);
    free(canonical);
  }
  ef_params_clear(&params);
  return ok;
}

/* Counts a request that begins, and remembers what it was. */
static void note_request(struct MHD_Connection *c, const char *method) {
  pthread_mutex_lock(&unit_server.lock);
  unit_server.requests++;
  if (++unit_server.in_flight > unit_server.max_in_flight)
    unit_server.max_in_flight = unit_server.in_flight;
  const char *type =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
  snprintf(unit_server.last_content_type, sizeof(unit_server.last_content_type),
           "%s", type ? type : "");
  snprintf(unit_server.last_method, sizeof(unit_server.last_method), "%s",
           method);
  const char *signed_at =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "timestamp");
  snprintf(unit_server.last_timestamp, sizeof(unit_server.last_timestamp), "%s",
           signed_at ? signed_at : "");
  pthread_mutex_unlock(&unit_server.lock);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *data_size, void **state) {
  (void)cls;
  (void)version;
  upload *up = *state;
  if (up == NULL) {
    *state = calloc(1, sizeof(upload));
    return MHD_YES;
  }
  if (*data_size > 0) {
    up->body = realloc(up->body, up->len + *data_size + 1);
    memcpy(up->body + up->len, data, *data_size);
    up->len += *data_size;
    up->body[up->len] = '\0';
    *data_size = 0;
    return MHD_YES;
  }
  note_request(c, method);
  unit_reply reply = {.status = MHD_HTTP_OK};
  if (signature_ok(c, up)) {
    unit_request request = {
        .method = method,
        .path = url,
        .sn = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sn"),
        .body = up->body,
        .body_len = up->len};
    handler_(&request, &reply, handler_ctx);
  } else {
    pthread_mutex_lock(&unit_server.lock);
    unit_server.bad_signatures++;
    pthread_mutex_unlock(&unit_server.lock);
    reply.body = strdup("{\"code\":\"8521\",\"message\":\"signature is "
                        "wrong\"}");
  }
  usleep((useconds_t)reply.delay_ms * 1000);
  char *text = reply.body ? reply.body : strdup("");
  struct MHD_Response *response = MHD_create_response_from_buffer(
      strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (reply.x_timestamp[0] == '\0')
    snprintf(reply.x_timestamp, sizeof(reply.x_timestamp), "%lld",
             (long long)ef_now_ms() + UNIT_SERVER_AHEAD_MS);
  MHD_add_response_header(response, "x-timestamp", reply.x_timestamp);
  if (reply.retry_after[0] != '\0')
    MHD_add_response_header(response, "Retry-After", reply.retry_after);
  enum MHD_Result result = MHD_queue_response(c, reply.status, response);
  MHD_destroy_response(response);
  pthread_mutex_lock(&unit_server.lock);
  unit_server.in_flight--;
  pthread_mutex_unlock(&unit_server.lock);
  return result;
}

static void request_done(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode code) {
  (void)cls;
  (void)c;
  (void)code;
  upload *up = *state;
  if (up != NULL)
    free(up->body);
  free(up);
  *state = NULL;
}

void unit_server_start(unit_handler handler, void *ctx, char *endpoint,
                       size_t size) {
  pthread_mutex_lock(&unit_server.lock);
  unit_server.requests = unit_server.in_flight = 0;
  unit_server.max_in_flight = unit_server.bad_signatures = 0;
  unit_server.last_method[0] = unit_server.last_content_type[0] = '\0';
  unit_server.last_timestamp[0] = '\0';
  pthread_mutex_unlock(&unit_server.lock);
  handler_ = handler;
  handler_ctx = ctx;
  daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
          MHD_USE_ERROR_LOG,
      0, NULL, NULL, answer, NULL, MHD_OPTION_NOTIFY_COMPLETED, request_done,
      NULL, MHD_OPTION_SOCK_ADDR,
      &(struct sockaddr_in){.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)},
      MHD_OPTION_END);
  ck_assert_ptr_nonnull(daemon_);
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(endpoint, size, "http://127.0.0.1:%u/", (unsigned)info->port);
}

void unit_server_stop(void) {
  MHD_stop_daemon(daemon_);
  daemon_ = NULL;
}

char *unit_answer(const char *data_json) {
  char *text = NULL;
  if (asprintf(&text,
               "{\"code\":\"0\",\"message\":\"Success\",\"data\":%s,"
               "\"eagleEyeTraceId\":\"x\",\"tid\":\"y\"}",
               data_json) < 0)
    return NULL;
  return text;
}
