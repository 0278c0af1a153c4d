/* ef_client.h: one EcoFlow account's HTTP client.
 *
 * Promises: signed requests (ef_sign.h) run as one libcurl multi batch, at most
 * max_concurrent in flight, connections reused across batches; every
 * request has a timeout, TLS is verified (optionally against ca_file), and
 * a body over max_body is cut off and reported, never buffered whole. Each
 * answer is handed to the caller as soon as it completes, in the calling
 * thread, then freed: a batch of N never holds N bodies. The cap follows
 * what the answer is: a request may carry its own (a device list grows
 * with the account, ef_discovery.h), else the client's max_body holds
 * (one device's quotas or reports, the certification: answers that do not
 * grow with the account); the error names the cap and what it was for.
 * When most of a
 * batch fails the way an overloaded or blocking server fails (no answer,
 * HTTP 5xx or 429), the whole account cools down: the next batches are not
 * sent (each request is answered EF_ERR_PAUSED) for a pause that doubles
 * up to EF_MAX_COOLDOWN_MS, so that retries never pile onto the cloud.
 *
 * Every request of a batch gets exactly one answer, even when the batch
 * breaks off. A transient "8521 signature is wrong" (docs/wire-facts.md) is
 * sent once more, freshly signed, before it is answered. When a wave's
 * worth of answers in a row (max_concurrent of them, or the whole batch
 * when smaller) come without an HTTP answer (the host refuses, hangs or
 * cannot be resolved), the requests still waiting are answered at once
 * with that same error, unsent: a dead host costs one timeout, not one
 * per wave, even after a quick answer (a device list ahead of polls that
 * hang). After
 * ef_client_stop_all, requests in flight are cut off within
 * EF_STOP_LATENCY_MS and none starts (answered EF_ERR_ABORTED).
 *
 * A name lookup is bound by the timeout too, and neither a timeout nor a
 * stop waits for it: a resolver that never answers costs one timeout, the
 * lookup's thread (libcurl's) being left to end on its own when the
 * system's resolver gives up (one per request that was in flight).
 *
 * What a server says is held to sane bounds: a Retry-After asks for at most
 * EF_MAX_RETRY_AFTER_S, and a server time outside the years 2020 to 2100
 * is ignored. A client is used by one thread at a time. The secret never
 * appears in an error. */
#ifndef EF_CLIENT_H
#define EF_CLIENT_H

#include "ef_envelope.h"
#include "ef_error.h"

#include <stddef.h>
#include <stdint.h>

struct json_object;

typedef struct ef_client ef_client;

#define EF_DEFAULT_TIMEOUT_MS 10000
#define EF_DEFAULT_MAX_CONCURRENT 8
#define EF_DEFAULT_MAX_BODY (1024 * 1024)
#define EF_FIRST_COOLDOWN_MS (30 * 1000)
#define EF_MAX_COOLDOWN_MS (15 * 60 * 1000)
#define EF_STOP_LATENCY_MS 200
#define EF_MAX_RETRY_AFTER_S 3600

typedef struct {
  const char *endpoint; /* "https://api-e.ecoflow.com" */
  const char *access_key;
  const char *secret_key;
  long timeout_ms;         /* 0: EF_DEFAULT_TIMEOUT_MS */
  unsigned max_concurrent; /* 0: EF_DEFAULT_MAX_CONCURRENT */
  const char *ca_file;     /* NULL: the system's CA store */
  size_t max_body;         /* 0: EF_DEFAULT_MAX_BODY */
} ef_client_options;

/* Copies what it needs from options. Returns NULL and fills err when the
 * options are unusable (no endpoint, no keys) or memory ran out. Call
 * ef_client_global_init once per process first, before any thread starts. */
ef_client *ef_client_new(const ef_client_options *options, ef_error *err);

/* Releases every handle and wipes the secret from memory. NULL is fine. */
void ef_client_free(ef_client *client);

int ef_client_global_init(void);
void ef_client_global_cleanup(void);

typedef enum { EF_METHOD_GET, EF_METHOD_POST } ef_method;

/* The largest answer a request takes, and what it is sized for, as an
 * error says it: "answer larger than the 1048576 bytes allowed for ...". */
typedef struct {
  size_t max_body;
  const char *what; /* "a device list of up to 100000 devices" */
} ef_answer_cap;

typedef struct {
  ef_method method;
  const char *path;         /* "/iot-open/sign/device/quota/all" */
  const char *sn;           /* GET: the sn= query parameter, or NULL */
  struct json_object *body; /* POST: the request body (borrowed) */
  void *user;               /* handed back with the answer */
  const ef_answer_cap *cap; /* NULL: the client's max_body */
  /* A list that grows with the account (device/list): its items go to
   * items (ef_envelope_parse_items, with items_ctx) as they are parsed,
   * before the answer, which then has no data. NULL: data whole. */
  ef_envelope_item_cb items;
  void *items_ctx;
} ef_request;

typedef struct {
  const ef_request *request;
  /* kind EF_OK: data is the envelope's "data" (NULL when absent, or when
   * the request took its items), valid only during the callback. Otherwise
   * data is NULL, the items handed out are not the answer's, and error
   * says why;
   * error.retry_after_s is what the server asked for, capped. */
  ef_error error;
  struct json_object *data;
  int64_t server_time_ms; /* from x-timestamp, else Date; 0 when absent */
  int64_t received_ms;    /* local clock when the answer completed */
} ef_answer;

typedef void (*ef_answer_cb)(const ef_answer *answer, void *ctx);

/* Runs every request, calling cb once per request as it completes.
 * Returns 0, or -1 with err filled when the batch broke off (the requests
 * it left were answered with that error). */
int ef_client_run(ef_client *client, const ef_request *requests, size_t n,
                  ef_answer_cb cb, void *ctx, ef_error *err);

/* Stops client: what is in flight is cut off, nothing new is sent. Safe
 * from any thread; cannot be undone. */
void ef_client_stop(ef_client *client);

/* Stops every client of the process, as ef_client_stop. Safe in a signal
 * handler; cannot be undone. */
void ef_client_stop_all(void);

/* 1 once client (or every client) was stopped. */
int ef_client_stopping(const ef_client *client);

/* The offset of the server clock from ours, in ms, as measured from the
 * last answer that carried a server time (0 before that). */
int64_t ef_client_clock_offset_ms(const ef_client *client);

/* Beyond this offset a user hears of it: requests are then signed with
 * the server's time, which hides a wrong clock that other programs of the
 * machine still suffer from. */
#define EF_CLOCK_SKEW_MS (60 * 1000)

typedef enum {
  EF_CLOCK_UNCHANGED,
  EF_CLOCK_SKEWED,  /* the offset grew beyond EF_CLOCK_SKEW_MS */
  EF_CLOCK_IN_STEP, /* and came back under half of it */
} ef_clock_news;

/* Whether the measured offset crossed the limit since the last call, with
 * a line for the log in buf when it did ("this machine's clock is 3600 s
 * behind the EcoFlow server's: ..."). Front ends call it after each batch,
 * so that a skew is said once, not every interval. */
ef_clock_news ef_client_clock_news(ef_client *client, char *buf, size_t size);

/* How many connections the client has opened so far: connections are kept
 * across batches, so a steady poll opens none after the first. */
unsigned long ef_client_connections_opened(const ef_client *client);

/* Milliseconds since the epoch, from CLOCK_REALTIME. */
int64_t ef_now_ms(void);

#endif
