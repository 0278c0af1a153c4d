/* exchange.h: a request as the endpoint handlers see it, and the reply
 * they fill in.
 *
 * Promises: handlers never touch HTTP. They read a sim_call and write a
 * sim_reply (status, body, how to send it); the server turns that into a
 * response. Replies use the cloud's own words: the envelope
 * {"code","message","data","eagleEyeTraceId","tid"} with HTTP 200 for
 * business errors, {"code":"405","message":"Method Not Allowed"} for HTTP
 * errors. */
#ifndef SIM_EXCHANGE_H
#define SIM_EXCHANGE_H

#include "ef_params.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;
struct sim_ctx;

/* Business errors as the cloud words them: a code and its message, to
 * pass to sim_reply_error. */
#define SIM_ERR_SIGNATURE "8521", "signature is wrong"
#define SIM_ERR_ACCESS_KEY "8513", "accessKey is invalid"
#define SIM_ERR_NOT_BOUND "8512", "no permission to do it"
#define SIM_ERR_NOT_OPEN                                                       \
  "1006", "current device is not allowed to get device info"
#define SIM_ERR_PARAMS "1008", "request fail,please check your params"
/* The live code for this one is unknown (docs/wire-facts.md); 1008 is a
 * guess. */
#define SIM_ERR_SPAN "1008", "time must be less than one week"

typedef struct {
  const struct sim_ctx *ctx;
  /* The query string's arguments, decoded. */
  const ef_params *query;
  /* The JSON body of a POST, or NULL. */
  struct json_object *body;
  /* The serial number the request names, or NULL, and its device index
   * (-1 when not in the fleet). */
  const char *sn;
  ssize_t device;
  /* Simulated time the request is answered at (s). */
  int64_t now;
} sim_call;

/* The value of a query argument ("" for "?key"), or NULL. */
const char *sim_call_query(const sim_call *call, const char *key);

typedef enum {
  SIM_SEND_WHOLE,  /* the body as it is */
  SIM_SEND_STALL,  /* headers and part of the body, then nothing */
  SIM_SEND_PADDED, /* a valid envelope padded to padded_size bytes */
} sim_send_mode;

typedef struct {
  unsigned status;
  const char *content_type;
  char *body;
  size_t body_len;
  sim_send_mode send;
  size_t padded_size;
  /* Retry-After (s) when not 0. */
  unsigned long retry_after_s;
  /* How much longer than usual the answer takes (ms). */
  unsigned long delay_ms;
  /* The envelope's code, for the log; "" when there is none. */
  char code[16];
} sim_reply;

/* {"code","message","data","eagleEyeTraceId":"","tid":""} as an object;
 * takes data (NULL: no "data" member). NULL when out of memory. */
struct json_object *sim_envelope_new(const char *code, const char *message,
                                     struct json_object *data);

/* The envelope as the reply, HTTP 200; takes data. */
void sim_reply_envelope(sim_reply *reply, const char *code, const char *message,
                        struct json_object *data);
/* A success envelope around data (taken); HTTP 500 when data is NULL,
 * which only running out of memory makes. */
void sim_reply_data(sim_reply *reply, struct json_object *data);
/* A business error: HTTP 200 and an envelope without data. */
void sim_reply_error(sim_reply *reply, const char *code, const char *message);
/* HTTP status with {"code":"<status>","message":"<reason>"}. */
void sim_reply_http_error(sim_reply *reply, unsigned status);
/* Any JSON (taken) with any status, for the control endpoints. */
void sim_reply_json(sim_reply *reply, unsigned status,
                    struct json_object *object);
void sim_reply_text(sim_reply *reply, unsigned status, const char *content_type,
                    const char *text);
void sim_reply_free(sim_reply *reply);

#endif
