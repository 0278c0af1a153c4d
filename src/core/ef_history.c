/* ef_history.c: week-sized windows over quota/data, and its double wrapping. */
#include "ef_history.h"
#include "ef_text.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_QUOTA_DATA "/iot-open/sign/device/quota/data"

size_t ef_history_windows(time_t begin, time_t end, ef_window *out,
                          size_t max) {
  size_t n = 0;
  for (time_t start = begin; start <= end; start += EF_WEEK_S, n++) {
    time_t stop = start + EF_WEEK_S - 1;
    if (stop > end)
      stop = end;
    if (n < max)
      out[n] = (ef_window){.begin = start, .end = stop};
  }
  return n;
}

/* "Z", "+02:00", "-0530" or nothing (UTC) at text; the offset in seconds
 * east of UTC. Returns the rest of text, or NULL. */
static const char *parse_zone(const char *text, long *offset) {
  *offset = 0;
  if (*text == '\0')
    return text;
  if (*text == 'Z' || *text == 'z')
    return text + 1;
  if (*text != '+' && *text != '-')
    return NULL;
  int hours = 0, minutes = 0, used = 0;
  if (sscanf(text + 1, "%2d:%2d%n", &hours, &minutes, &used) != 2 &&
      sscanf(text + 1, "%2d%2d%n", &hours, &minutes, &used) != 2)
    return NULL;
  *offset = (hours * 3600L + minutes * 60L) * (*text == '-' ? -1 : 1);
  return text + 1 + used;
}

int ef_time_parse(const char *text, time_t *out) {
  struct tm tm = {0};
  const char *rest = strptime(text, "%Y-%m-%d", &tm);
  if (rest == NULL)
    return -1;
  if (*rest == ' ' || *rest == 'T') {
    rest = strptime(rest + 1, "%H:%M:%S", &tm);
    if (rest == NULL)
      return -1;
    if (*rest == '.') /* fractions of a second: the API has none */
      while (*++rest >= '0' && *rest <= '9')
        ;
  }
  long offset = 0;
  rest = parse_zone(rest, &offset);
  if (rest == NULL || *rest != '\0')
    return -1;
  *out = timegm(&tm) - offset;
  return 0;
}

void ef_time_format(time_t t, char out[EF_TIME_TEXT_LEN]) {
  struct tm tm;
  /* Past the year 9999 the text does not fit, and strftime then leaves
   * out undefined (unterminated): empty it instead. */
  if (gmtime_r(&t, &tm) == NULL ||
      strftime(out, EF_TIME_TEXT_LEN, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    out[0] = '\0';
}

typedef struct {
  ef_history_cb cb;
  void *ctx;
} history_batch;

static struct json_object *window_body(const char *sn, const char *code,
                                       const ef_window *window) {
  char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
  ef_time_format(window->begin, begin);
  ef_time_format(window->end, end);
  struct json_object *params = json_object_new_object();
  struct json_object *body = json_object_new_object();
  if (params == NULL || body == NULL) {
    json_object_put(params);
    json_object_put(body);
    return NULL;
  }
  json_object_object_add(params, "code", json_object_new_string(code));
  json_object_object_add(params, "beginTime", json_object_new_string(begin));
  json_object_object_add(params, "endTime", json_object_new_string(end));
  json_object_object_add(body, "sn", json_object_new_string(sn));
  json_object_object_add(body, "params", params);
  return body;
}

static const char *member_text(struct json_object *object, const char *key) {
  struct json_object *value = NULL;
  if (!json_object_object_get_ex(object, key, &value) || value == NULL)
    return NULL;
  return json_object_get_string(value);
}

/* The largest integer a double carries exactly: 2^53. */
#define EXACT_INTEGER_MAX INT64_C(9007199254740992)

/* 1 when value is a number published as it is: json-c saturates integers
 * past 64 bits (2^64 + 1 reads as 2^64 - 1), and a double rounds those
 * past 2^53, so such a value is not the one sent. */
static int exact_number(struct json_object *value) {
  if (json_object_is_type(value, json_type_int)) {
    /* Judged on the integer: 2^53 + 1 rounds to a double that passes. */
    int64_t integer = json_object_get_int64(value);
    return integer >= -EXACT_INTEGER_MAX && integer <= EXACT_INTEGER_MAX;
  }
  return json_object_is_type(value, json_type_double) &&
         isfinite(json_object_get_double(value));
}

/* data is itself an envelope: {"code","message","data":[...]}. */
static size_t read_values(struct json_object *data, ef_history_value *values,
                          size_t max, size_t *implausible, ef_error *err) {
  const char *code = member_text(data, "code");
  if (code != NULL && strcmp(code, "0") != 0) {
    err->kind = EF_ERR_API;
    err->http_status = 200;
    ef_text_clean(code, SIZE_MAX, err->api_code, sizeof(err->api_code));
    const char *message = member_text(data, "message");
    ef_text_clean(message ? message : "(no message)", SIZE_MAX, err->message,
                  sizeof(err->message));
    return 0;
  }
  struct json_object *list = NULL;
  if (!json_object_object_get_ex(data, "data", &list) ||
      !json_object_is_type(list, json_type_array)) {
    ef_error_set(err, EF_ERR_PARSE, "no data.data[] list in the answer");
    err->http_status = 200;
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < json_object_array_length(list) && n < max; i++) {
    struct json_object *item = json_object_array_get_idx(list, i);
    struct json_object *value = NULL;
    const char *name = member_text(item, "indexName");
    if (name == NULL || !json_object_object_get_ex(item, "indexValue", &value))
      continue;
    if (!exact_number(value)) {
      (*implausible) += value != NULL;
      continue;
    }
    const char *unit = member_text(item, "unit");
    values[n++] = (ef_history_value){.name = name,
                                     .value = json_object_get_double(value),
                                     .text = json_object_get_string(value),
                                     .unit = unit ? unit : ""};
  }
  return n;
}

void ef_history_deliver(const ef_answer *answer, const ef_window *window,
                        ef_history_cb cb, void *ctx) {
  ef_error err = answer->error;
  ef_history_result result = {.window = window};
  ef_history_value *values = NULL;
  if (err.kind == EF_OK &&
      !json_object_is_type(answer->data, json_type_object)) {
    ef_error_set(&err, EF_ERR_PARSE, "\"data\" is not an object");
    err.http_status = 200;
  } else if (err.kind == EF_OK) {
    struct json_object *list = NULL;
    json_object_object_get_ex(answer->data, "data", &list);
    size_t max = json_object_is_type(list, json_type_array)
                     ? json_object_array_length(list)
                     : 0;
    values = calloc(max ? max : 1, sizeof(*values));
    if (values == NULL)
      ef_error_set(&err, EF_ERR_INTERNAL, "out of memory");
    else
      result.n_values =
          read_values(answer->data, values, max, &result.implausible, &err);
  }
  result.error = err.kind == EF_OK ? NULL : &err;
  result.values = values;
  cb(&result, ctx);
  free(values);
}

int ef_history_request(ef_request *request, const char *sn, const char *code,
                       const ef_window *window) {
  *request = (ef_request){.method = EF_METHOD_POST,
                          .path = PATH_QUOTA_DATA,
                          .sn = sn,
                          .body = window_body(sn, code, window),
                          .user = request->user};
  return request->body != NULL ? 0 : -1;
}

void ef_history_request_clear(ef_request *request) {
  json_object_put(request->body);
  request->body = NULL;
}

static void on_answer(const ef_answer *answer, void *ctx) {
  history_batch *batch = ctx;
  ef_history_deliver(answer, answer->request->user, batch->cb, batch->ctx);
}

int ef_history_fetch(ef_client *client, const char *sn, const char *code,
                     const ef_window *windows, size_t n, ef_history_cb cb,
                     void *ctx, ef_error *err) {
  ef_request *requests = calloc(n ? n : 1, sizeof(*requests));
  int status = requests != NULL ? 0 : -1;
  for (size_t i = 0; status == 0 && i < n; i++) {
    requests[i].user = (void *)&windows[i];
    status = ef_history_request(&requests[i], sn, code, &windows[i]);
  }
  if (status == 0) {
    history_batch batch = {.cb = cb, .ctx = ctx};
    status = ef_client_run(client, requests, n, on_answer, &batch, err);
  } else {
    ef_error_set(err, EF_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
      cb(&(ef_history_result){.window = &windows[i], .error = err}, ctx);
  }
  for (size_t i = 0; requests != NULL && i < n; i++)
    ef_history_request_clear(&requests[i]);
  free(requests);
  return status;
}
