/* server.c: libmicrohttpd daemon, routing, signature check, fault
 * injection and delayed answers. */
#include "server.h"

#include "api.h"
#include "clock.h"
#include "control.h"
#include "history.h"
#include "timer.h"
#include "verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define API_PREFIX "/iot-open/sign/"
#define MAX_BODY_BYTES (1024 * 1024)
/* How often a stalled answer looks whether its client has given up. */
#define STALL_CHECK_MS 200
#define STREAM_BLOCK_BYTES (64 * 1024)
#define IDLE_TIMEOUT_S 120
#define LISTEN_BACKLOG 1024
/* Descriptors kept for everything but connections (listen socket, epoll,
 * eventfds, stdio). */
#define SPARE_DESCRIPTORS 64
#define MAX_CONNECTIONS 16384

enum { ROUTE_SIGNED = 1, ROUTE_DEVICE = 2 };

typedef struct {
  const char *path;
  const char *method;
  unsigned flags;
  sim_endpoint endpoint;
  void (*handle)(const sim_call *call, sim_reply *reply);
} route;

static const route routes[] = {
    {API_PREFIX "device/list", "GET", ROUTE_SIGNED, SIM_EP_DEVICE_LIST,
     sim_api_device_list},
    {API_PREFIX "device/quota/all", "GET", ROUTE_SIGNED | ROUTE_DEVICE,
     SIM_EP_QUOTA_ALL, sim_api_quota_all},
    {API_PREFIX "device/quota", "POST", ROUTE_SIGNED | ROUTE_DEVICE,
     SIM_EP_QUOTA, sim_api_quota},
    {API_PREFIX "device/quota/data", "POST", ROUTE_SIGNED | ROUTE_DEVICE,
     SIM_EP_QUOTA_DATA, sim_history_quota_data},
    {API_PREFIX "certification", "GET", ROUTE_SIGNED, SIM_EP_CERTIFICATION,
     sim_api_certification},
    {"/sim/quota", "GET", ROUTE_DEVICE, SIM_EP_UNKNOWN, sim_control_quota},
    {"/sim/fault", "POST", 0, SIM_EP_UNKNOWN, sim_control_set_fault},
    {"/sim/stats", "GET", 0, SIM_EP_UNKNOWN, sim_control_stats},
    {"/sim/stats/reset", "POST", 0, SIM_EP_UNKNOWN, sim_control_reset_stats},
    {"/sim/clock", "GET", 0, SIM_EP_UNKNOWN, sim_control_clock},
    {"/sim/clock", "POST", 0, SIM_EP_UNKNOWN, sim_control_set_clock},
    {"/sim/mqtt", "GET", 0, SIM_EP_UNKNOWN, sim_control_mqtt},
    {"/sim/mqtt/publish", "POST", ROUTE_DEVICE, SIM_EP_UNKNOWN,
     sim_control_mqtt_publish},
    {"/sim/mqtt/periodic", "POST", 0, SIM_EP_UNKNOWN,
     sim_control_mqtt_periodic},
    {"/sim/mqtt/silent", "POST", ROUTE_DEVICE, SIM_EP_UNKNOWN,
     sim_control_mqtt_silent},
};

struct sim_server {
  struct MHD_Daemon *daemon;
  sim_timer *timer;
  sim_ctx *ctx;
  unsigned port;
};

/* One request, from its headers to the end of its answer. */
typedef struct {
  struct MHD_Connection *connection;
  /* Under API_PREFIX: counted, in flight, delayed by --latency-ms. */
  bool api;
  char *body;
  size_t body_len;
  bool body_too_large;
  /* The reply is made; what is left is to wait out its delay. */
  bool prepared;
  sim_reply reply;
  char sn[72];
  int64_t arrived_ms;
} request;

/* A stalled answer: part of the body goes out, then nothing until the
 * client gives up or the simulator stops. */
typedef struct {
  sim_server *server;
  struct MHD_Connection *connection;
  char *body;
  size_t shown;
} stall;

static int64_t monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The route for url, preferring the one for method; *method_ok says
 * whether it is (else the answer is 405). NULL when no route has the path
 * (404). */
static const route *find_route(const char *url, const char *method,
                               bool *method_ok) {
  const route *found = NULL;
  for (size_t i = 0; i < sizeof(routes) / sizeof(*routes); i++) {
    if (strcmp(routes[i].path, url) != 0)
      continue;
    found = &routes[i];
    if (strcmp(routes[i].method, method) == 0)
      break;
  }
  *method_ok = found != NULL && strcmp(found->method, method) == 0;
  return found;
}

static enum MHD_Result collect_argument(void *cls, enum MHD_ValueKind kind,
                                        const char *key, const char *value) {
  (void)kind;
  return ef_params_add(cls, key, value != NULL ? value : "") == 0 ? MHD_YES
                                                                  : MHD_NO;
}

static const char *header(struct MHD_Connection *connection, const char *name) {
  return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

/* Refuses a bad signature as the cloud does (HTTP 200, 8521 or 8513) and
 * logs the canonical string it expected, which has the access key in it
 * but never the secret. Returns true when the signature is good. */
static bool signature_ok(sim_server *server, request *req, const char *method,
                         const char *url, const ef_params *query,
                         struct json_object *body) {
  struct MHD_Connection *c = req->connection;
  sim_signed_request signed_request = {
      .method = method,
      .content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
      .access_key = header(c, "accessKey"),
      .nonce = header(c, "nonce"),
      .timestamp = header(c, "timestamp"),
      .sign = header(c, "sign"),
      .query = query,
      .body = body,
  };
  const char *why = NULL;
  char *expected = NULL;
  sim_verdict verdict =
      sim_verify(&server->ctx->keys, &signed_request, &why, &expected);
  if (verdict == SIM_VERIFY_OK)
    return true;
  sim_stats_signature_failure(server->ctx->stats);
  if (verdict == SIM_VERIFY_BAD_ACCESS_KEY) {
    fprintf(stderr, "ecoflow-sim: %s %s: accessKey is invalid\n", method, url);
    sim_reply_error(&req->reply, SIM_ERR_ACCESS_KEY);
  } else {
    fprintf(stderr,
            "ecoflow-sim: %s %s: signature is wrong (%s); expected it over "
            "\"%s\"\n",
            method, url, why, expected != NULL ? expected : "");
    sim_reply_error(&req->reply, SIM_ERR_SIGNATURE);
  }
  free(expected);
  return false;
}

static void answer(const route *r, const sim_call *call, sim_reply *reply) {
  if ((r->flags & ROUTE_DEVICE) && call->device < 0) {
    bool missing = call->sn == NULL;
    if (!(r->flags & ROUTE_SIGNED))
      sim_control_error(reply, missing ? 400 : 404,
                        missing ? "sn is required" : "unknown sn");
    else if (missing)
      sim_reply_error(reply, SIM_ERR_PARAMS);
    else
      sim_reply_error(reply, SIM_ERR_NOT_BOUND);
    return;
  }
  r->handle(call, reply);
}

/* Makes req->reply: every check the cloud makes, the handler, the fault. */
static void prepare(sim_server *server, request *req, const char *url,
                    const char *method) {
  sim_ctx *ctx = server->ctx;
  bool method_ok = false;
  const route *r = find_route(url, method, &method_ok);
  if (!method_ok) {
    if (req->api)
      sim_stats_count(ctx->stats,
                      r != NULL && (r->flags & ROUTE_SIGNED) ? r->endpoint
                                                             : SIM_EP_UNKNOWN,
                      NULL, -1);
    sim_reply_http_error(&req->reply, r != NULL ? 405 : 404);
    return;
  }
  if (req->body_too_large) {
    sim_reply_http_error(&req->reply, 413);
    return;
  }
  ef_params query = {0};
  MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND,
                            collect_argument, &query);
  bool json =
      sim_is_json_type(header(req->connection, MHD_HTTP_HEADER_CONTENT_TYPE));
  struct json_object *body =
      json && req->body_len > 0 ? json_tokener_parse(req->body) : NULL;
  sim_call call = {.ctx = ctx,
                   .query = &query,
                   .body = json_object_is_type(body, json_type_object) ? body
                                                                       : NULL,
                   .device = -1,
                   .now = sim_clock_now()};
  struct json_object *sn = NULL;
  if (call.body != NULL)
    call.sn = json_object_object_get_ex(call.body, "sn", &sn)
                  ? json_object_get_string(sn)
                  : NULL;
  else
    call.sn = sim_call_query(&call, "sn");
  if (call.sn != NULL) {
    call.device = sim_fleet_find(&ctx->fleet, call.sn);
    snprintf(req->sn, sizeof(req->sn), "%s", call.sn);
  }

  if (!(r->flags & ROUTE_SIGNED)) {
    answer(r, &call, &req->reply);
  } else {
    sim_stats_count(ctx->stats, r->endpoint, call.sn, call.device);
    if (json && req->body_len > 0 && call.body == NULL)
      sim_reply_error(&req->reply, SIM_ERR_PARAMS);
    else if (signature_ok(server, req, method, url, &query, call.body)) {
      sim_fault fault = sim_faults_get(
          ctx->faults, (r->flags & ROUTE_DEVICE)           ? call.device
                       : r->endpoint == SIM_EP_DEVICE_LIST ? SIM_FAULT_LIST
                                                           : SIM_FAULT_ACCOUNT);
      answer(r, &call, &req->reply);
      if (sim_fault_shape(&fault, &req->reply))
        sim_stats_fault_injected(ctx->stats);
    }
  }
  json_object_put(body);
  ef_params_clear(&query);
}

static bool peer_gone(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == NULL)
    return true;
  char byte;
  ssize_t got = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return got == 0 ||
         (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static ssize_t read_stall(void *cls, uint64_t pos, char *buf, size_t max) {
  stall *s = cls;
  if (pos < s->shown) {
    size_t len = s->shown - (size_t)pos < max ? s->shown - (size_t)pos : max;
    memcpy(buf, s->body + pos, len);
    return (ssize_t)len;
  }
  if (sim_timer_draining(s->server->timer) || peer_gone(s->connection))
    return MHD_CONTENT_READER_END_WITH_ERROR;
  /* Nothing to send: sleep without holding the thread, then look again. */
  MHD_suspend_connection(s->connection);
  sim_timer_resume_after(s->server->timer, s->connection, STALL_CHECK_MS);
  return 0;
}

static void free_stall(void *cls) {
  stall *s = cls;
  free(s->body);
  free(s);
}

static ssize_t read_padded(void *cls, uint64_t pos, char *buf, size_t max) {
  size_t written = sim_fault_padding(*(size_t *)cls, pos, buf, max);
  return written > 0 ? (ssize_t)written : MHD_CONTENT_READER_END_OF_STREAM;
}

static struct MHD_Response *response_of(sim_server *server, request *req) {
  sim_reply *reply = &req->reply;
  struct MHD_Response *response = NULL;
  switch (reply->send) {
  case SIM_SEND_WHOLE:
    response = MHD_create_response_from_buffer(reply->body_len, reply->body,
                                               MHD_RESPMEM_MUST_FREE);
    if (response != NULL)
      reply->body = NULL;
    break;
  case SIM_SEND_STALL: {
    stall *s = malloc(sizeof(*s));
    if (s == NULL)
      break;
    *s = (stall){.server = server,
                 .connection = req->connection,
                 .body = reply->body,
                 .shown = reply->body_len / 2};
    response = MHD_create_response_from_callback(
        reply->body_len, STREAM_BLOCK_BYTES, read_stall, s, free_stall);
    if (response != NULL)
      reply->body = NULL;
    else
      free(s);
    break;
  }
  case SIM_SEND_PADDED: {
    size_t *size = malloc(sizeof(*size));
    if (size == NULL)
      break;
    *size = reply->padded_size;
    response = MHD_create_response_from_callback(
        reply->padded_size, STREAM_BLOCK_BYTES, read_padded, size, free);
    if (response == NULL)
      free(size);
    break;
  }
  }
  return response;
}

static enum MHD_Result send_reply(sim_server *server, request *req,
                                  const char *method, const char *url) {
  sim_reply *reply = &req->reply;
  struct MHD_Response *response = response_of(server, req);
  if (response == NULL)
    return MHD_NO;
  int64_t now_ms = sim_clock_now_ms();
  char timestamp[24];
  char date[SIM_HTTP_DATE_SIZE];
  char retry_after[24];
  snprintf(timestamp, sizeof(timestamp), "%" PRId64, now_ms);
  sim_clock_http_date(now_ms / 1000, date);
  if (reply->content_type != NULL)
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            reply->content_type);
  MHD_add_response_header(response, "x-timestamp", timestamp);
  MHD_add_response_header(response, MHD_HTTP_HEADER_DATE, date);
  if (reply->retry_after_s > 0) {
    snprintf(retry_after, sizeof(retry_after), "%lu", reply->retry_after_s);
    MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
  }
  enum MHD_Result queued =
      MHD_queue_response(req->connection, reply->status, response);
  MHD_destroy_response(response);
  if (server->ctx->verbose)
    fprintf(stderr, "ecoflow-sim: %s %s%s%s -> %u%s%s in %" PRId64 " ms\n",
            method, url, req->sn[0] ? " sn=" : "", req->sn, reply->status,
            reply->code[0] ? " code " : "", reply->code,
            monotonic_ms() - req->arrived_ms);
  return queued;
}

static void append_body(request *req, const char *data, size_t size) {
  if (req->body_too_large || req->body_len + size > MAX_BODY_BYTES) {
    req->body_too_large = true;
    return;
  }
  char *body = realloc(req->body, req->body_len + size + 1);
  if (body == NULL) {
    req->body_too_large = true;
    return;
  }
  memcpy(body + req->body_len, data, size);
  req->body_len += size;
  body[req->body_len] = '\0';
  req->body = body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
  (void)version;
  sim_server *server = cls;
  request *req = *req_cls;
  if (req == NULL) {
    req = calloc(1, sizeof(*req));
    if (req == NULL)
      return MHD_NO;
    req->connection = connection;
    req->api = strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0;
    req->arrived_ms = monotonic_ms();
    if (req->api)
      sim_stats_open(server->ctx->stats);
    *req_cls = req;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    append_body(req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (!req->prepared) {
    req->prepared = true;
    prepare(server, req, url, method);
    unsigned long delay_ms =
        req->reply.delay_ms + (req->api ? server->ctx->latency_ms : 0);
    if (delay_ms > 0) {
      MHD_suspend_connection(connection);
      sim_timer_resume_after(server->timer, connection, delay_ms);
      return MHD_YES;
    }
  }
  return send_reply(server, req, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *connection,
                         void **req_cls, enum MHD_RequestTerminationCode toe) {
  (void)connection;
  (void)toe;
  sim_server *server = cls;
  request *req = *req_cls;
  if (req == NULL)
    return;
  if (req->api)
    sim_stats_close(server->ctx->stats);
  sim_reply_free(&req->reply);
  free(req->body);
  free(req);
  *req_cls = NULL;
}

/* A thousand clients need a thousand descriptors: take what the hard
 * limit allows. */
static unsigned connection_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 1024 - SPARE_DESCRIPTORS;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  rlim_t usable = limit.rlim_cur > 2 * SPARE_DESCRIPTORS
                      ? limit.rlim_cur - SPARE_DESCRIPTORS
                      : SPARE_DESCRIPTORS;
  return usable < MAX_CONNECTIONS ? (unsigned)usable : MAX_CONNECTIONS;
}

sim_server *sim_server_start(sim_ctx *ctx, unsigned port, unsigned threads,
                             char *err, size_t err_size) {
  sim_server *server = calloc(1, sizeof(*server));
  if (server == NULL) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  server->ctx = ctx;
  server->timer = sim_timer_start();
  if (server->timer == NULL) {
    snprintf(err, err_size, "cannot start the timer thread");
    free(server);
    return NULL;
  }
  struct sockaddr_in address = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  server->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
          MHD_ALLOW_SUSPEND_RESUME | (ctx->verbose ? MHD_USE_ERROR_LOG : 0),
      (uint16_t)port, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR,
      &address, MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
      server->daemon != NULL
          ? MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT)
          : NULL;
  if (info == NULL) {
    snprintf(err, err_size, "cannot listen on 127.0.0.1:%u: %s", port,
             strerror(errno));
    if (server->daemon != NULL)
      MHD_stop_daemon(server->daemon);
    sim_timer_drain(server->timer);
    sim_timer_free(server->timer);
    free(server);
    return NULL;
  }
  server->port = info->port;
  return server;
}

unsigned sim_server_port(const sim_server *server) { return server->port; }

void sim_server_stop(sim_server *server) {
  sim_timer_drain(server->timer);
  MHD_stop_daemon(server->daemon);
  sim_timer_free(server->timer);
  free(server);
}
