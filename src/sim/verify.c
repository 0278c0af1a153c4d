/* verify.c: the server side of the request signature. */
#include "verify.h"

#include "ef_sign.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool sim_is_json_type(const char *content_type) {
  static const char json[] = "application/json";
  return content_type != NULL &&
         strncasecmp(content_type, json, sizeof(json) - 1) == 0 &&
         strchr("; \t", content_type[sizeof(json) - 1]) != NULL;
}

/* The parameters the client should have signed, in a list of our own
 * (signing sorts it in place). */
static int signed_params(const sim_signed_request *request, bool json,
                         ef_params *params) {
  if (json)
    return request->body != NULL ? ef_params_add_json(params, request->body)
                                 : -1;
  for (size_t i = 0; i < request->query->len; i++)
    if (ef_params_add(params, request->query->items[i].key,
                      request->query->items[i].value) != 0)
      return -1;
  return 0;
}

sim_verdict sim_verify(const sim_keys *keys, const sim_signed_request *request,
                       const char **why, char **expected) {
  *why = NULL;
  *expected = NULL;
  if (request->access_key == NULL ||
      strcmp(request->access_key, keys->access_key) != 0)
    return SIM_VERIFY_BAD_ACCESS_KEY;
  if (request->nonce == NULL || request->timestamp == NULL ||
      request->sign == NULL) {
    *why = "nonce, timestamp or sign header missing";
    return SIM_VERIFY_BAD_SIGNATURE;
  }
  bool json = sim_is_json_type(request->content_type);
  if (json && strcmp(request->method, "GET") == 0) {
    *why = "a GET with a JSON Content-Type";
    return SIM_VERIFY_BAD_SIGNATURE;
  }
  ef_params params = {0};
  if (signed_params(request, json, &params) != 0) {
    ef_params_clear(&params);
    *why = "no JSON object to take the parameters from";
    return SIM_VERIFY_BAD_SIGNATURE;
  }
  char *canonical = ef_sign_canonical(&params, request->access_key,
                                      request->nonce, request->timestamp);
  ef_params_clear(&params);
  char sign[EF_SIGN_HEX_LEN + 1];
  if (canonical != NULL &&
      ef_sign_hmac(keys->secret_key, canonical, sign) == 0 &&
      ef_sign_equal(sign, request->sign)) {
    free(canonical);
    return SIM_VERIFY_OK;
  }
  *why = canonical != NULL ? "signature mismatch" : "out of memory";
  *expected = canonical;
  return SIM_VERIFY_BAD_SIGNATURE;
}
