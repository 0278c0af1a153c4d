/* ef_error.h: what went wrong with one request, as a value.
 *
 * Promises: every failure the core reports carries its kind and the facts a
 * user needs (HTTP status, API code and message, transport error), and
 * ef_error_format turns it into one line that never contains a secret. */
#ifndef EF_ERROR_H
#define EF_ERROR_H

#include <stddef.h>

typedef enum {
  EF_OK = 0,
  EF_ERR_TRANSPORT, /* connect, DNS, TLS, timeout: message from libcurl */
  EF_ERR_HTTP,      /* an HTTP status other than 200 */
  EF_ERR_API,       /* HTTP 200, API code other than "0" */
  EF_ERR_PARSE,     /* the body is not the JSON the API promises */
  EF_ERR_TOO_LARGE, /* the body exceeded the configured cap */
  EF_ERR_INTERNAL,  /* out of memory, crypto failure */
  EF_ERR_PAUSED,    /* not sent: the account cools down after many errors */
  EF_ERR_ABORTED,   /* not sent, or cut off: the program is stopping */
} ef_error_kind;

#define EF_ERROR_MESSAGE_LEN 256
#define EF_ERROR_CODE_LEN 32

typedef struct {
  ef_error_kind kind;
  long http_status;                 /* 0 when no HTTP answer arrived */
  char api_code[EF_ERROR_CODE_LEN]; /* "" unless kind is EF_ERR_API, or an
                                       HTTP error carried an envelope */
  char message[EF_ERROR_MESSAGE_LEN];
  long retry_after_s;       /* from Retry-After (capped), 0 when absent */
  long retry_after_asked_s; /* what Retry-After asked for, before the cap */
} ef_error;

/* Sets err to kind with a printf-style message. */
void ef_error_set(ef_error *err, ef_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line, e.g. "HTTP 200, API code 8521: signature is wrong". */
void ef_error_format(const ef_error *err, char *buf, size_t size);

/* What a user should do about err, or NULL when there is no advice (from
 * the table of codes seen on the live cloud, docs/wire-facts.md). */
const char *ef_error_advice(const ef_error *err);

/* 1 when err and other describe the same failure (kind, status, code and
 * message, whatever the numbers in the message: elapsed times and byte
 * counts vary): used to log a fault once, not every interval. */
int ef_error_same(const ef_error *err, const ef_error *other);

#endif
