/* exchange.c: building the replies handlers send. */
#include "exchange.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE "application/json"
#define SERIAL_STYLE (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

const char *sim_call_query(const sim_call *call, const char *key) {
  for (size_t i = 0; i < call->query->len; i++)
    if (strcmp(call->query->items[i].key, key) == 0)
      return call->query->items[i].value;
  return NULL;
}

static const struct {
  unsigned status;
  const char *reason;
} reasons[] = {
    {400, "Bad Request"},           {404, "Not Found"},
    {405, "Method Not Allowed"},    {409, "Conflict"},
    {413, "Payload Too Large"},     {429, "Too Many Requests"},
    {500, "Internal Server Error"}, {503, "Service Unavailable"},
};

static const char *reason_of(unsigned status) {
  for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
    if (reasons[i].status == status)
      return reasons[i].reason;
  return "Error";
}

static void set_body(sim_reply *reply, unsigned status,
                     const char *content_type, const char *text) {
  free(reply->body);
  reply->body = text != NULL ? strdup(text) : NULL;
  if (reply->body == NULL && text != NULL) {
    /* Out of memory: a static answer still tells the client. */
    status = 500;
    content_type = "text/plain";
  }
  reply->status = status;
  reply->content_type = content_type;
  reply->body_len = reply->body != NULL ? strlen(reply->body) : 0;
}

void sim_reply_json(sim_reply *reply, unsigned status,
                    struct json_object *object) {
  const char *text = object != NULL
                         ? json_object_to_json_string_ext(object, SERIAL_STYLE)
                         : NULL;
  if (text == NULL)
    set_body(reply, 500, "text/plain", NULL);
  else
    set_body(reply, status, JSON_TYPE, text);
  json_object_put(object);
}

struct json_object *sim_envelope_new(const char *code, const char *message,
                                     struct json_object *data) {
  struct json_object *envelope = json_object_new_object();
  if (envelope == NULL) {
    json_object_put(data);
    return NULL;
  }
  json_object_object_add(envelope, "code", json_object_new_string(code));
  json_object_object_add(envelope, "message", json_object_new_string(message));
  if (data != NULL)
    json_object_object_add(envelope, "data", data);
  json_object_object_add(envelope, "eagleEyeTraceId",
                         json_object_new_string(""));
  json_object_object_add(envelope, "tid", json_object_new_string(""));
  return envelope;
}

void sim_reply_envelope(sim_reply *reply, const char *code, const char *message,
                        struct json_object *data) {
  sim_reply_json(reply, 200, sim_envelope_new(code, message, data));
  snprintf(reply->code, sizeof(reply->code), "%s", code);
}

void sim_reply_data(sim_reply *reply, struct json_object *data) {
  if (data == NULL)
    sim_reply_http_error(reply, 500);
  else
    sim_reply_envelope(reply, "0", "Success", data);
}

void sim_reply_error(sim_reply *reply, const char *code, const char *message) {
  sim_reply_envelope(reply, code, message, NULL);
}

void sim_reply_http_error(sim_reply *reply, unsigned status) {
  char text[128];
  snprintf(text, sizeof(text), "{\"code\":\"%u\",\"message\":\"%s\"}", status,
           reason_of(status));
  set_body(reply, status, JSON_TYPE, text);
  snprintf(reply->code, sizeof(reply->code), "%u", status);
}

void sim_reply_text(sim_reply *reply, unsigned status, const char *content_type,
                    const char *text) {
  set_body(reply, status, content_type, text);
}

void sim_reply_free(sim_reply *reply) {
  free(reply->body);
  *reply = (sim_reply){0};
}
