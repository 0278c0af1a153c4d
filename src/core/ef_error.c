/* ef_error.c: formatting and advice for request errors. */
#include "ef_error.h"

#include "ef_setting_id.h"

#include <pthread.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ef_error_set(ef_error *err, ef_error_kind kind, const char *fmt, ...) {
  err->kind = kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

void ef_error_format(const ef_error *err, char *buf, size_t size) {
  switch (err->kind) {
  case EF_OK:
    snprintf(buf, size, "ok");
    break;
  case EF_ERR_API:
    snprintf(buf, size, "HTTP %ld, API code %s: %s", err->http_status,
             err->api_code, err->message);
    break;
  case EF_ERR_HTTP:
    if (err->api_code[0] != '\0')
      snprintf(buf, size, "HTTP %ld (API code %s: %s)", err->http_status,
               err->api_code, err->message);
    else
      snprintf(buf, size, "HTTP %ld%s%s", err->http_status,
               err->message[0] ? ": " : "", err->message);
    break;
  case EF_ERR_PARSE:
    snprintf(buf, size, "HTTP %ld, unreadable answer: %s", err->http_status,
             err->message);
    break;
  case EF_ERR_TOO_LARGE:
  case EF_ERR_TRANSPORT:
  case EF_ERR_INTERNAL:
  case EF_ERR_PAUSED:
  case EF_ERR_ABORTED:
    snprintf(buf, size, "%s", err->message);
    break;
  }
}

/* What users of the live cloud hit most, and what fixes it
 * (docs/wire-facts.md). */
static const struct {
  const char *code;
  const char *advice;
} api_advice[] = {
    {"8521", "check the secret key (stray whitespace or a newline in it?)"},
    {"8513", "the access key is unknown, or belongs to the other region: "
             "European accounts use https://api-e.ecoflow.com, American "
             "accounts https://api-a.ecoflow.com"},
    {"8512", "this serial number is not bound to the account of this key"},
    {"1006", "EcoFlow does not open this model or sub-device to the API: "
             "read it through its PowerOcean's serial number"},
    {"1008", "the request's parameters were refused"},
};

/* Names the setting through the table, so built once. */
static char certificate_advice[256];
static pthread_once_t certificate_once = PTHREAD_ONCE_INIT;

static void build_certificate_advice(void) {
  snprintf(certificate_advice, sizeof(certificate_advice),
           "the server's certificate could not be verified: install the "
           "system's CA certificates (ca-certificates), or name the CA "
           "bundle that signed it (%s)",
           ef_setting_where(EF_SET_CA_FILE));
}

const char *ef_error_advice(const ef_error *err) {
  if (err->api_code[0] != '\0')
    for (size_t i = 0; i < sizeof(api_advice) / sizeof(api_advice[0]); i++)
      if (strcmp(err->api_code, api_advice[i].code) == 0)
        return api_advice[i].advice;
  if (err->kind == EF_ERR_HTTP && err->http_status == 429)
    return "the account is rate limited: poll less often";
  /* libcurl names certificate trouble in its message ("SSL certificate
   * problem: unable to get local issuer certificate"). */
  if (err->kind == EF_ERR_TRANSPORT &&
      (strstr(err->message, "certificate") || strstr(err->message, "SSL"))) {
    pthread_once(&certificate_once, build_certificate_advice);
    return certificate_advice;
  }
  return NULL;
}

/* Messages that differ only in their numbers: libcurl's "timed out after
 * 2001 milliseconds with 90 out of 181 bytes received" and a parser's
 * "(1234 bytes)" vary from one attempt to the next for the same fault. */
static int same_but_numbers(const char *a, const char *b) {
  while (*a != '\0' && *b != '\0') {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      while (isdigit((unsigned char)*a))
        a++;
      while (isdigit((unsigned char)*b))
        b++;
    } else if (*a++ != *b++) {
      return 0;
    }
  }
  return *a == *b;
}

int ef_error_same(const ef_error *err, const ef_error *other) {
  return err->kind == other->kind && err->http_status == other->http_status &&
         strcmp(err->api_code, other->api_code) == 0 &&
         same_but_numbers(err->message, other->message);
}
