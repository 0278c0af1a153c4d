/* ef_envelope.c: code/message/data of an API answer, or why it is unusable. */
#include "ef_envelope.h"
#include "ef_text.h"

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* The documented code is a string ("0"); some answers carry a number. */
static int read_code(struct json_object *root, char *code, size_t size) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(root, "code", &value))
    return -1;
  if (json_object_is_type(value, json_type_string))
    ef_text_clean(json_object_get_string(value),
                  (size_t)json_object_get_string_len(value), code, size);
  else if (json_object_is_type(value, json_type_int))
    snprintf(code, size, "%" PRId64, json_object_get_int64(value));
  else
    return -1;
  return code[0] == '\0' ? -1 : 0;
}

static void read_message(struct json_object *root, char *message, size_t size) {
  struct json_object *value = NULL;
  if (json_object_object_get_ex(root, "message", &value) &&
      json_object_is_type(value, json_type_string))
    ef_text_clean(json_object_get_string(value),
                  (size_t)json_object_get_string_len(value), message, size);
  else
    snprintf(message, size, "(no message)");
}

static struct json_object *parse(const char *body, size_t len, ef_error *err) {
  struct json_tokener *tokener = json_tokener_new();
  if (tokener == NULL) {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    return NULL;
  }
  struct json_object *root = json_tokener_parse_ex(tokener, body, (int)len);
  enum json_tokener_error status = json_tokener_get_error(tokener);
  if (root != NULL && (size_t)json_tokener_get_parse_end(tokener) < len) {
    /* Trailing garbage after a complete value is not the API's JSON. */
    size_t end = json_tokener_get_parse_end(tokener);
    while (end < len && strchr(" \t\r\n", body[end]) != NULL)
      end++;
    if (end < len) {
      json_object_put(root);
      root = NULL;
      status = json_tokener_error_parse_unexpected;
    }
  }
  json_tokener_free(tokener);
  if (root == NULL) {
    if (status == json_tokener_continue || status == json_tokener_success)
      ef_error_set(err, EF_ERR_PARSE, "truncated JSON (%zu bytes)", len);
    else if (body[0] != '{' && body[0] != '[') {
      char start[24];
      ef_text_clean(body, len, start, sizeof(start));
      ef_error_set(err, EF_ERR_PARSE, "not JSON (%zu bytes starting \"%s\")",
                   len, start);
    } else
      ef_error_set(err, EF_ERR_PARSE, "invalid JSON: %s",
                   json_tokener_error_desc(status));
  }
  return root;
}

int ef_envelope_parse(const char *body, size_t len, long http_status,
                      struct json_object **root_out,
                      struct json_object **data_out, ef_error *err) {
  *root_out = NULL;
  *data_out = NULL;
  memset(err, 0, sizeof(*err));
  err->http_status = http_status;

  struct json_object *root = len > 0 ? parse(body, len, err) : NULL;
  if (len == 0)
    ef_error_set(err, EF_ERR_PARSE, "empty body");
  if (root != NULL && !json_object_is_type(root, json_type_object)) {
    ef_error_set(err, EF_ERR_PARSE, "the answer is not a JSON object");
    json_object_put(root);
    root = NULL;
  }

  char code[EF_ERROR_CODE_LEN] = "";
  int has_code = root != NULL && read_code(root, code, sizeof(code)) == 0;

  if (http_status != 200) {
    /* Keep what the body says (405 carries an envelope), but the HTTP
     * status is the failure. */
    err->kind = EF_ERR_HTTP;
    err->message[0] = '\0';
    if (has_code) {
      snprintf(err->api_code, sizeof(err->api_code), "%s", code);
      read_message(root, err->message, sizeof(err->message));
    }
    json_object_put(root);
    return -1;
  }
  if (root == NULL)
    return -1;
  if (!has_code) {
    ef_error_set(err, EF_ERR_PARSE, "no \"code\" in the answer");
    json_object_put(root);
    return -1;
  }
  if (strcmp(code, "0") != 0) {
    err->kind = EF_ERR_API;
    snprintf(err->api_code, sizeof(err->api_code), "%s", code);
    read_message(root, err->message, sizeof(err->message));
    json_object_put(root);
    return -1;
  }
  struct json_object *data = NULL;
  if (json_object_object_get_ex(root, "data", &data) &&
      json_object_is_type(data, json_type_null))
    data = NULL;
  *root_out = root;
  *data_out = data;
  return 0;
}
