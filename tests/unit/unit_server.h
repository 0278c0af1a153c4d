/* unit_server.h: a small EcoFlow-like HTTP server inside a unit test
 * (libmicrohttpd on a loopback port), for the core's client and engine.
 *
 * Promises: every request's signature is checked the way the cloud does
 * (the query of a GET, the JSON body of a POST) with UNIT_SECRET_KEY; a
 * wrong one is answered 8521 and counted. Otherwise the test's handler
 * writes the answer. The server counts requests, those in flight at once,
 * and remembers the last request's method, Content-Type and signing time.
 * Every answer carries x-timestamp (the server's clock, by default
 * UNIT_SERVER_AHEAD_MS ahead of ours). */
#ifndef EF_UNIT_SERVER_H
#define EF_UNIT_SERVER_H

#include <pthread.h>
#include <stddef.h>

#define UNIT_ACCESS_KEY "test-access-key"
#define UNIT_SECRET_KEY "test-secret-key"
#define UNIT_SERVER_AHEAD_MS (3600 * 1000)

typedef struct {
  const char *method; /* "GET", "POST" */
  const char *path;   /* "/iot-open/sign/device/quota/all" */
  const char *sn;     /* the sn= query argument, or NULL */
  const char *body;   /* a POST's body, or NULL */
  size_t body_len;
} unit_request;

typedef struct {
  unsigned status;      /* HTTP status: 200 unless set */
  char *body;           /* malloc'ed by the handler; NULL: an empty body */
  int delay_ms;         /* before the answer goes out */
  char retry_after[32]; /* a Retry-After header, unless "" */
  char x_timestamp[32]; /* the server time sent, unless "" */
} unit_reply;

/* Called on the server's threads for every correctly signed request. */
typedef void (*unit_handler)(const unit_request *request, unit_reply *reply,
                             void *ctx);

/* What the server saw; read it with unit_server_lock held, or once the
 * requests are over. */
typedef struct {
  pthread_mutex_t lock;
  int requests, in_flight, max_in_flight, bad_signatures;
  char last_method[8];
  char last_content_type[128];
  char last_timestamp[32];
} unit_server_stats;

extern unit_server_stats unit_server;

/* Starts the server on a free loopback port with handler; its base URL
 * (with a trailing slash) into endpoint. */
void unit_server_start(unit_handler handler, void *ctx, char *endpoint,
                       size_t size);
void unit_server_stop(void);

/* The body of a successful API answer: {"code":"0",...,"data":DATA}. */
char *unit_answer(const char *data_json);

#endif
