/* ef_client.c: signed requests of one account as a libcurl multi batch. */
#include <config.h>

#include "ef_client.h"
#include "ef_envelope.h"
#include "ef_number.h"
#include "ef_sign.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* At most this many idle easy handles are kept between transfers. */
#define IDLE_HANDLES_KEPT 16

struct ef_client {
  char *endpoint;
  char *access_key;
  ef_signer *signer;            /* the secret key, ready to sign */
  struct json_tokener *tokener; /* every answer's, reset each time */
  char *ca_file;
  long timeout_ms;
  unsigned max_concurrent;
  ef_answer_cap cap; /* of requests without their own */
  CURLM *multi; /* owns the connection and DNS caches, kept across batches */
  /* Easy handles of transfers that went well, reset, for the next ones:
   * a handle is costly to make, a reset one is not. */
  CURL *idle[IDLE_HANDLES_KEPT];
  size_t n_idle;
  int64_t clock_offset_ms;
  int clock_skewed; /* the last ef_client_clock_news said so */
  int64_t cooldown_until_ms;
  int64_t cooldown_ms; /* the next pause; doubles while errors go on */
  size_t batch_sent, batch_overloaded; /* outcomes of the running batch */
  unsigned long connections_opened;
  atomic_int stopped; /* ef_client_stop */
};

/* One request in flight. */
typedef struct {
  ef_client *client;
  const ef_request *request;
  CURL *easy;
  struct curl_slist *headers;
  char *url;
  char *body;
  const ef_answer_cap *cap; /* the request's, or the client's */
  char *answer;
  size_t answer_len, answer_room;
  int too_large;
  int64_t server_time_ms;
  /* The Date header, read only when no x-timestamp came: a date takes
   * far longer to parse than a number. */
  char date[64];
  long retry_after_s;
  char curl_error[CURL_ERROR_SIZE];
} transfer;

int64_t ef_now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int ef_client_global_init(void) {
  /* OpenSSL sets its random generator up on first use, under atomics
   * helgrind cannot see: done here, before any thread starts, it comes
   * before every nonce of every thread (the read's, push mode's
   * certification), whichever signs first. */
  (void)RAND_status();
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void ef_client_global_cleanup(void) { curl_global_cleanup(); }

void ef_client_free(ef_client *client) {
  if (client == NULL)
    return;
  while (client->n_idle > 0)
    curl_easy_cleanup(client->idle[--client->n_idle]);
  if (client->multi != NULL)
    curl_multi_cleanup(client->multi);
  free(client->endpoint);
  free(client->access_key);
  ef_signer_free(client->signer);
  if (client->tokener != NULL)
    json_tokener_free(client->tokener); /* json-c 0.16's takes no NULL */
  free(client->ca_file);
  free(client);
}

ef_client *ef_client_new(const ef_client_options *options, ef_error *err) {
  memset(err, 0, sizeof(*err));
  if (options->endpoint == NULL || options->endpoint[0] == '\0') {
    ef_error_set(err, EF_ERR_INTERNAL, "no endpoint configured");
    return NULL;
  }
  if (options->access_key == NULL || options->access_key[0] == '\0' ||
      options->secret_key == NULL || options->secret_key[0] == '\0') {
    ef_error_set(err, EF_ERR_INTERNAL, "access key or secret key missing");
    return NULL;
  }
  ef_client *client = calloc(1, sizeof(*client));
  if (client == NULL) {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    return NULL;
  }
  size_t endpoint_len = strlen(options->endpoint);
  while (endpoint_len > 0 && options->endpoint[endpoint_len - 1] == '/')
    endpoint_len--;
  client->endpoint = strndup(options->endpoint, endpoint_len);
  client->access_key = strdup(options->access_key);
  client->signer = ef_signer_new(options->secret_key);
  client->tokener = json_tokener_new();
  client->ca_file = options->ca_file ? strdup(options->ca_file) : NULL;
  client->timeout_ms =
      options->timeout_ms > 0 ? options->timeout_ms : EF_DEFAULT_TIMEOUT_MS;
  client->max_concurrent = options->max_concurrent > 0
                               ? options->max_concurrent
                               : EF_DEFAULT_MAX_CONCURRENT;
  client->cap = (ef_answer_cap){
      .max_body =
          options->max_body > 0 ? options->max_body : EF_DEFAULT_MAX_BODY,
      .what = "one device's quotas or reports, or the certification "
              "(answers that do not grow with the account)"};
  client->multi = curl_multi_init();
  if (client->endpoint == NULL || client->access_key == NULL ||
      client->signer == NULL || client->tokener == NULL ||
      (options->ca_file != NULL && client->ca_file == NULL) ||
      client->multi == NULL) {
    ef_error_set(err, EF_ERR_INTERNAL,
                 client->signer == NULL
                     ? "cannot sign requests: OpenSSL's HMAC-SHA256 is "
                       "unavailable, or memory ran out"
                     : "out of memory");
    ef_client_free(client);
    return NULL;
  }
  /* Keep idle connections for the next batch (one per parallel slot). */
  curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS,
                    (long)client->max_concurrent);
  return client;
}

unsigned long ef_client_connections_opened(const ef_client *client) {
  return client->connections_opened;
}

int64_t ef_client_clock_offset_ms(const ef_client *client) {
  return client->clock_offset_ms;
}

ef_clock_news ef_client_clock_news(ef_client *client, char *buf, size_t size) {
  int64_t offset = client->clock_offset_ms;
  int64_t apart_s = ((offset < 0 ? -offset : offset) + 500) / 1000;
  /* Back in step only well under the limit: an offset near it must not
   * be reported at every batch. */
  if (!client->clock_skewed && apart_s * 1000 > EF_CLOCK_SKEW_MS) {
    client->clock_skewed = 1;
    snprintf(buf, size,
             "this machine's clock is %" PRId64 " s %s the EcoFlow "
             "server's: requests are signed with the server's time "
             "instead, but set this machine's clock right (NTP)",
             apart_s, offset > 0 ? "behind" : "ahead of");
    return EF_CLOCK_SKEWED;
  }
  if (client->clock_skewed && apart_s * 1000 <= EF_CLOCK_SKEW_MS / 2) {
    client->clock_skewed = 0;
    snprintf(buf, size,
             "this machine's clock agrees with the EcoFlow server's again "
             "(%" PRId64 " s apart)",
             apart_s);
    return EF_CLOCK_IN_STEP;
  }
  return EF_CLOCK_UNCHANGED;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
  transfer *t = user;
  size_t len = size * nmemb;
  if (len > t->cap->max_body - t->answer_len) {
    t->too_large = 1;
    return 0; /* aborts the transfer: never buffer an oversized answer */
  }
  if (t->answer_len + len + 1 > t->answer_room) {
    /* Doubling: a list of megabytes arrives in thousands of pieces. */
    size_t room = t->answer_room ? 2 * t->answer_room : 16 * 1024;
    while (room < t->answer_len + len + 1)
      room *= 2;
    if (room > t->cap->max_body + 1)
      room = t->cap->max_body + 1;
    char *grown = realloc(t->answer, room);
    if (grown == NULL)
      return 0;
    t->answer = grown;
    t->answer_room = room;
  }
  memcpy(t->answer + t->answer_len, data, len);
  t->answer_len += len;
  t->answer[t->answer_len] = '\0';
  return len;
}

/* Header value if line is "name: value", trimmed into out. */
static int header_value(const char *line, size_t len, const char *name,
                        char *out, size_t size) {
  size_t name_len = strlen(name);
  if (len <= name_len || strncasecmp(line, name, name_len) != 0 ||
      line[name_len] != ':')
    return 0;
  const char *value = line + name_len + 1;
  size_t value_len = len - name_len - 1;
  while (value_len > 0 && (*value == ' ' || *value == '\t')) {
    value++;
    value_len--;
  }
  while (value_len > 0 && strchr(" \t\r\n", value[value_len - 1]) != NULL)
    value_len--;
  if (value_len >= size)
    value_len = size - 1; /* cut to fit */
  memcpy(out, value, value_len);
  out[value_len] = '\0';
  return 1;
}

/* Server times outside these years are not a clock to sign with: a
 * forged or broken x-timestamp must not send the signatures astray. */
#define SANE_SERVER_TIME_MIN_MS INT64_C(1577836800000) /* 2020-01-01 */
#define SANE_SERVER_TIME_MAX_MS INT64_C(4102444800000) /* 2100-01-01 */

static void note_server_time(transfer *t, long long ms) {
  if (ms >= SANE_SERVER_TIME_MIN_MS && ms < SANE_SERVER_TIME_MAX_MS)
    t->server_time_ms = ms;
}

/* Seconds in a Retry-After value, a number or an HTTP date; -1 when it is
 * neither. */
static long retry_after_seconds(const char *value) {
  char *end = NULL;
  errno = 0;
  long long seconds = strtoll(value, &end, 10);
  if (end != value && *end == '\0') {
    if (seconds < 0)
      return 0;
    return errno == ERANGE || seconds > LONG_MAX ? LONG_MAX : (long)seconds;
  }
  time_t date = curl_getdate(value, NULL);
  if (date <= 0)
    return -1;
  time_t now = time(NULL);
  return date > now ? (long)(date - now) : 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *user) {
  transfer *t = user;
  size_t len = size * nmemb;
  char value[128];
  /* Told by their first letter first: every answer has several headers. */
  char first = len > 0 ? (char)tolower((unsigned char)line[0]) : '\0';
  if (first == 'x' &&
      header_value(line, len, "x-timestamp", value, sizeof(value))) {
    char *end = NULL;
    errno = 0;
    long long ms = strtoll(value, &end, 10);
    if (end != value && *end == '\0' && errno == 0)
      note_server_time(t, ms);
  } else if (first == 'd' &&
             header_value(line, len, "Date", t->date, sizeof(t->date))) {
    /* read at the end of the answer, if it is needed */
  } else if (first == 'r' &&
             header_value(line, len, "Retry-After", value, sizeof(value))) {
    long seconds = retry_after_seconds(value);
    if (seconds >= 0)
      t->retry_after_s = seconds;
  }
  return len;
}

static int add_header(transfer *t, const char *name, const char *value) {
  /* "name: value", the value cut to fit (names are this file's short
   * constants): without a format to read, for the headers of every
   * request. */
  char line[512];
  size_t name_len = strlen(name), value_len = strlen(value);
  if (name_len > sizeof(line) - 3)
    name_len = sizeof(line) - 3;
  if (value_len > sizeof(line) - 3 - name_len)
    value_len = sizeof(line) - 3 - name_len;
  memcpy(line, name, name_len);
  memcpy(line + name_len, ": ", 2);
  memcpy(line + name_len + 2, value, value_len);
  line[name_len + 2 + value_len] = '\0';
  struct curl_slist *headers = curl_slist_append(t->headers, line);
  if (headers == NULL)
    return -1;
  t->headers = headers;
  return 0;
}

/* The signature covers the query of a GET and the JSON body of a POST
 * (docs/wire-facts.md: which one the server reads depends on Content-Type). */
static int sign_request(transfer *t, ef_params *params) {
  const ef_request *request = t->request;
  if (request->method == EF_METHOD_POST) {
    if (request->body == NULL || ef_params_add_json(params, request->body))
      return -1;
  } else if (request->sn != NULL) {
    if (ef_params_add(params, "sn", request->sn) != 0)
      return -1;
  }
  char nonce[EF_NONCE_LEN + 1];
  char timestamp[EF_NUMBER_TEXT_LEN];
  char signature[EF_SIGN_HEX_LEN + 1];
  if (ef_signer_nonce(t->client->signer, nonce) != 0)
    return -1;
  ef_int_text(ef_now_ms() + t->client->clock_offset_ms, timestamp);
  char *canonical =
      ef_sign_canonical(params, t->client->access_key, nonce, timestamp);
  if (canonical == NULL)
    return -1;
  int status = ef_signer_sign(t->client->signer, canonical, signature);
  OPENSSL_cleanse(canonical, strlen(canonical));
  free(canonical);
  if (status != 0)
    return -1;
  if (add_header(t, "accessKey", t->client->access_key) != 0 ||
      add_header(t, "nonce", nonce) != 0 ||
      add_header(t, "timestamp", timestamp) != 0 ||
      add_header(t, "sign", signature) != 0)
    return -1;
  /* A POST's body goes at once, without "Expect: 100-continue"; a GET
   * never sends Expect, so it needs no header to turn it off. */
  if (request->method == EF_METHOD_POST &&
      (add_header(t, "Content-Type", "application/json;charset=UTF-8") != 0 ||
       add_header(t, "Expect", "") != 0))
    return -1;
  return 0;
}

static int build_url(transfer *t) {
  const ef_request *request = t->request;
  if (request->method == EF_METHOD_GET && request->sn != NULL) {
    char *escaped = curl_easy_escape(t->easy, request->sn, 0);
    if (escaped == NULL)
      return -1;
    int status = asprintf(&t->url, "%s%s?sn=%s", t->client->endpoint,
                          request->path, escaped);
    curl_free(escaped);
    return status < 0 ? -1 : 0;
  }
  return asprintf(&t->url, "%s%s", t->client->endpoint, request->path) < 0 ? -1
                                                                           : 0;
}

/* An easy handle for a transfer: an idle one, or a new one (NULL when
 * out of memory). */
static CURL *take_handle(ef_client *client) {
  return client->n_idle > 0 ? client->idle[--client->n_idle] : curl_easy_init();
}

/* Frees t; its easy handle is kept for the next transfer when
 * handle_reusable (its transfer completed without an error of libcurl's:
 * a handle cut off mid-way, a resolver left behind, is not reused). */
static void transfer_end(transfer *t, int handle_reusable) {
  if (t == NULL)
    return;
  if (t->easy != NULL) {
    ef_client *client = t->client;
    curl_multi_remove_handle(client->multi, t->easy);
    if (handle_reusable && client->n_idle < IDLE_HANDLES_KEPT) {
      curl_easy_reset(t->easy); /* nothing of t is left in it */
      client->idle[client->n_idle++] = t->easy;
    } else {
      curl_easy_cleanup(t->easy);
    }
  }
  curl_slist_free_all(t->headers);
  free(t->url);
  free(t->body);
  free(t->answer);
  free(t);
}

static void transfer_free(transfer *t) { transfer_end(t, 0); }

static transfer *transfer_new(ef_client *client, const ef_request *request) {
  transfer *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->client = client;
  t->request = request;
  t->cap = request->cap != NULL ? request->cap : &client->cap;
  t->easy = take_handle(client);
  ef_params params = {0};
  int status =
      t->easy == NULL || build_url(t) != 0 || sign_request(t, &params) != 0;
  ef_params_clear(&params);
  if (status == 0 && request->method == EF_METHOD_POST) {
    const char *text =
        json_object_to_json_string_ext(request->body, JSON_C_TO_STRING_PLAIN);
    t->body = text ? strdup(text) : NULL;
    status = t->body == NULL;
  }
  if (status != 0) {
    transfer_free(t);
    return NULL;
  }
  CURL *e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, t->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, client->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, client->timeout_ms);
  /* A name lookup that outlasts the timeout (a resolver that never
   * answers) is left to finish in its thread: without this, libcurl joins
   * the thread when the transfer times out or is cut off, for as long as
   * the system's resolver insists (glibc: 5 s, twice, per nameserver). */
  curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (client->ca_file != NULL)
    curl_easy_setopt(e, CURLOPT_CAINFO, client->ca_file);
  curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
  if (request->method == EF_METHOD_POST)
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
  return t;
}

/* An atomic, not a volatile sig_atomic_t: the signal handler of one thread
 * sets it, and the read threads test it. Lock-free, so safe in a handler. */
static atomic_int stop_requested;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free");

void ef_client_stop_all(void) { atomic_store(&stop_requested, 1); }

void ef_client_stop(ef_client *client) { atomic_store(&client->stopped, 1); }

int ef_client_stopping(const ef_client *client) {
  return atomic_load(&stop_requested) != 0 ||
         atomic_load(&client->stopped) != 0;
}

/* The answer to t's request as it completed (result: libcurl's outcome),
 * with the JSON root that owns answer->data in *root. */
static void answer_of(transfer *t, CURLcode result, ef_answer *answer,
                      struct json_object **root) {
  *answer = (ef_answer){.request = t->request, .received_ms = ef_now_ms()};
  *root = NULL;
  long connects = 0;
  if (curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects) ==
          CURLE_OK &&
      connects > 0)
    t->client->connections_opened += (unsigned long)connects;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (result != CURLE_OK) {
    answer->error.http_status = status;
    if (t->too_large)
      ef_error_set(&answer->error, EF_ERR_TOO_LARGE,
                   "answer larger than the %zu bytes allowed for %s",
                   t->cap->max_body, t->cap->what);
    else
      ef_error_set(&answer->error, EF_ERR_TRANSPORT, "%s%s%s",
                   curl_easy_strerror(result), t->curl_error[0] ? ": " : "",
                   t->curl_error);
  } else if (t->request->items != NULL) {
    ef_envelope_parse_items(t->answer ? t->answer : "", t->answer_len, status,
                            t->request->items, t->request->items_ctx,
                            &answer->error);
  } else {
    ef_envelope_parse(t->answer ? t->answer : "", t->answer_len, status,
                      t->client->tokener, root, &answer->data, &answer->error);
  }
  answer->error.retry_after_asked_s = t->retry_after_s;
  answer->error.retry_after_s = t->retry_after_s > EF_MAX_RETRY_AFTER_S
                                    ? EF_MAX_RETRY_AFTER_S
                                    : t->retry_after_s;
  if (t->server_time_ms == 0 && t->date[0] != '\0') {
    time_t date = curl_getdate(t->date, NULL);
    if (date > 0)
      note_server_time(t, (long long)date * 1000);
  }
  answer->server_time_ms = t->server_time_ms;
  if (t->server_time_ms > 0)
    t->client->clock_offset_ms = t->server_time_ms - answer->received_ms;
}

/* Failing like a server that is down or pushing back. */
static int overloaded(const ef_error *error) {
  return error->kind == EF_ERR_TRANSPORT || error->kind == EF_ERR_TOO_LARGE ||
         (error->kind == EF_ERR_HTTP &&
          (error->http_status >= 500 || error->http_status == 429));
}

/* At least three answers and most of the batch failed like a server that
 * is down or pushing back: pause the account, longer each time. */
static void update_cooldown(ef_client *client) {
  size_t sent = client->batch_sent, failed = client->batch_overloaded;
  if (sent == 0)
    return;
  if (failed >= 3 && failed * 2 > sent) {
    if (client->cooldown_ms == 0)
      client->cooldown_ms = EF_FIRST_COOLDOWN_MS;
    client->cooldown_until_ms = ef_now_ms() + client->cooldown_ms;
    client->cooldown_ms *= 2;
    if (client->cooldown_ms > EF_MAX_COOLDOWN_MS)
      client->cooldown_ms = EF_MAX_COOLDOWN_MS;
  } else if (failed * 2 <= sent) {
    client->cooldown_ms = 0;
  }
}

/* docs/wire-facts.md: the cloud answers 8521 "signature is wrong" now and then
 * for a correct signature; one more try tells that from a wrong secret. */
#define TRANSIENT_CODE "8521"
#define MAX_TRIES 2

/* One run of ef_client_run. */
typedef struct {
  ef_client *client;
  const ef_request *requests;
  ef_answer_cb cb;
  void *ctx;
  /* Indexes of requests to send: the batch, then the ones sent again. */
  size_t *queue;
  size_t next, queued;
  unsigned char *tries;
  transfer **slots;
  unsigned n_slots, in_flight;
  /* A wave: as many answers as requests in flight. When a wave's worth of
   * answers in a row came without an HTTP answer (the last such error in
   * host_error), the host is down, whatever answered before (a quick
   * device list ahead of polls that hang). */
  size_t wave, unanswered_in_a_row;
  ef_error host_error;
} batch;

static void answer_request(batch *b, const ef_answer *answer) {
  b->client->batch_sent++;
  if (overloaded(&answer->error))
    b->client->batch_overloaded++;
  b->cb(answer, b->ctx);
}

/* Answers request with error, unsent (or cut off). */
static void answer_unsent(batch *b, size_t index, const ef_error *error) {
  ef_answer answer = {.request = &b->requests[index],
                      .received_ms = ef_now_ms(),
                      .error = *error};
  answer_request(b, &answer);
}

/* Answers every request in flight and every one waiting with error. */
static void answer_the_rest(batch *b, const ef_error *error) {
  for (unsigned i = 0; i < b->n_slots; i++)
    if (b->slots[i] != NULL) {
      size_t index = (size_t)(b->slots[i]->request - b->requests);
      transfer_free(b->slots[i]);
      b->slots[i] = NULL;
      answer_unsent(b, index, error);
    }
  b->in_flight = 0;
  while (b->next < b->queued)
    answer_unsent(b, b->queue[b->next++], error);
}

static void start_waiting(batch *b) {
  for (unsigned i = 0; i < b->n_slots && b->next < b->queued; i++) {
    if (b->slots[i] != NULL)
      continue;
    size_t index = b->queue[b->next++];
    const ef_request *request = &b->requests[index];
    b->tries[index]++;
    ef_error error = {0};
    transfer *t = transfer_new(b->client, request);
    if (t == NULL) {
      ef_error_set(&error, EF_ERR_INTERNAL, "could not build the request");
    } else if (curl_multi_add_handle(b->client->multi, t->easy) != CURLM_OK) {
      transfer_free(t);
      ef_error_set(&error, EF_ERR_INTERNAL, "could not start the request");
    } else {
      b->slots[i] = t;
      b->in_flight++;
      continue;
    }
    answer_unsent(b, index, &error);
  }
}

/* 1 when a whole wave came back without an HTTP answer and requests are
 * left: the host is down, and the rest need not wait. */
static int host_down(const batch *b) {
  return b->unanswered_in_a_row >= b->wave &&
         (b->in_flight > 0 || b->next < b->queued);
}

/* 0 while the answers in a row so far came without an HTTP answer and some
 * of their wave are still in flight: the wave is waited for before more is
 * sent, so that a host that hangs costs one wave however far apart its
 * timeouts land (on a busy machine, one slot's timeout can come a while
 * before the other's). */
static int may_send_more(const batch *b) {
  return b->unanswered_in_a_row == 0 || b->in_flight == 0;
}

static void complete(batch *b, transfer *t, CURLcode result) {
  size_t index = (size_t)(t->request - b->requests);
  ef_answer answer;
  struct json_object *root;
  answer_of(t, result, &answer, &root);
  if (answer.error.kind == EF_ERR_API &&
      strcmp(answer.error.api_code, TRANSIENT_CODE) == 0 &&
      b->tries[index] < MAX_TRIES && !ef_client_stopping(b->client)) {
    b->queue[b->queued++] = index; /* answered after its second try */
    json_object_put(root);
    return;
  }
  if (answer.error.kind == EF_ERR_TRANSPORT) {
    b->unanswered_in_a_row++;
    b->host_error = answer.error;
  } else {
    b->unanswered_in_a_row = 0;
  }
  answer_request(b, &answer);
  json_object_put(root);
}

/* Hands every finished transfer its answer. */
static void collect_finished(batch *b) {
  CURLMsg *message;
  int queued = 0;
  while ((message = curl_multi_info_read(b->client->multi, &queued)) != NULL) {
    if (message->msg != CURLMSG_DONE)
      continue;
    for (unsigned i = 0; i < b->n_slots; i++) {
      transfer *t = b->slots[i];
      if (t == NULL || t->easy != message->easy_handle)
        continue;
      CURLcode result = message->data.result;
      b->slots[i] = NULL;
      b->in_flight--;
      complete(b, t, result);
      transfer_end(t, result == CURLE_OK);
      break;
    }
  }
}

/* Answers every request without sending it while the account cools down.
 * Returns 1 when it did. */
static int paused(batch *b, size_t n) {
  int64_t left_ms = b->client->cooldown_until_ms - ef_now_ms();
  if (left_ms <= 0)
    return 0;
  ef_error error = {0};
  ef_error_set(&error, EF_ERR_PAUSED,
               "not sent: the account pauses after repeated server errors");
  error.retry_after_s = (long)((left_ms + 999) / 1000);
  for (size_t i = 0; i < n; i++)
    b->cb(&(ef_answer){.request = &b->requests[i],
                       .received_ms = ef_now_ms(),
                       .error = error},
          b->ctx);
  return 1;
}

static void batch_free(batch *b) {
  free(b->queue);
  free(b->tries);
  free(b->slots);
}

int ef_client_run(ef_client *client, const ef_request *requests, size_t n,
                  ef_answer_cb cb, void *ctx, ef_error *err) {
  memset(err, 0, sizeof(*err));
  batch b = {.client = client,
             .requests = requests,
             .cb = cb,
             .ctx = ctx,
             .n_slots = client->max_concurrent,
             .queued = n};
  if (n == 0 || paused(&b, n))
    return 0;
  b.queue = calloc(n * MAX_TRIES, sizeof(*b.queue));
  b.tries = calloc(n, sizeof(*b.tries));
  b.slots = calloc(b.n_slots, sizeof(*b.slots));
  if (b.queue == NULL || b.tries == NULL || b.slots == NULL) {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
      answer_unsent(&b, i, err);
    batch_free(&b);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    b.queue[i] = i;
  b.wave = n < b.n_slots ? n : b.n_slots;
  client->batch_sent = client->batch_overloaded = 0;
  ef_error stopping = {0};
  ef_error_set(&stopping, EF_ERR_ABORTED, "not sent: the program is stopping");
  int status = 0;
  while (b.next < b.queued || b.in_flight > 0) {
    if (ef_client_stopping(client)) {
      answer_the_rest(&b, &stopping);
      break;
    }
    if (host_down(&b)) {
      answer_the_rest(&b, &b.host_error);
      break;
    }
    if (may_send_more(&b))
      start_waiting(&b);
    int running = 0;
    CURLMcode code = curl_multi_perform(client->multi, &running);
    if (code != CURLM_OK) {
      ef_error_set(err, EF_ERR_INTERNAL, "curl_multi_perform: %s",
                   curl_multi_strerror(code));
      answer_the_rest(&b, err);
      status = -1;
      break;
    }
    collect_finished(&b);
    /* A slot it freed is filled before any wait: waiting first would hold
     * the next request until one still in flight answers, a whole latency
     * when that one was itself just started. */
    if (b.next < b.queued && b.in_flight < b.n_slots && may_send_more(&b))
      continue;
    /* Short waits, so that a stop is seen within EF_STOP_LATENCY_MS. */
    if (b.in_flight > 0 && running > 0)
      curl_multi_poll(client->multi, NULL, 0, EF_STOP_LATENCY_MS, NULL);
  }
  batch_free(&b);
  update_cooldown(client);
  return status;
}
