/* verify.h: checking a request's signature the way the cloud does.
 *
 * Promises: the signed parameters are the flattened JSON body when the
 * request carries Content-Type application/json (with or without
 * parameters such as charset), the query string otherwise; a GET that
 * carries a JSON Content-Type never passes, as on the live cloud. The
 * canonical string and the HMAC come from the project core (ef_sign.h), the
 * very code the client signs with. */
#ifndef SIM_VERIFY_H
#define SIM_VERIFY_H

#include "ef_params.h"
#include "keys.h"

#include <stdbool.h>

struct json_object;

typedef enum {
  SIM_VERIFY_OK,
  SIM_VERIFY_BAD_ACCESS_KEY,
  SIM_VERIFY_BAD_SIGNATURE,
} sim_verdict;

typedef struct {
  const char *method;
  /* Header values, NULL when absent. */
  const char *content_type;
  const char *access_key, *nonce, *timestamp, *sign;
  const ef_params *query;
  /* The parsed body when the request is JSON, else NULL. */
  struct json_object *body;
} sim_signed_request;

bool sim_is_json_type(const char *content_type);

/* On SIM_VERIFY_BAD_SIGNATURE, *why says what was wrong and *expected is
 * the canonical string the signature should have been computed over (for
 * the log: it holds the access key, never the secret), or NULL when there
 * is none; the caller frees it. */
sim_verdict sim_verify(const sim_keys *keys, const sim_signed_request *request,
                       const char **why, char **expected);

#endif
