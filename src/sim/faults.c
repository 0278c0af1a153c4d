/* faults.c: reading fault specs, keeping each device's fault, and bending
 * replies accordingly. */
#include "faults.h"

#include "clock.h"
#include "number.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
  ARG_NONE,
  ARG_AMOUNT,
  ARG_CODE_MESSAGE,
  ARG_QUOTA_STEP,
  ARG_JSON_OBJECT,
  ARG_ANSWERS_JSON
} fault_arg;

/* counterback: how large a step and how many answers one may ask for. */
#define MAX_STEP 1e12
#define MAX_GLITCH_ANSWERS 1000

static const struct {
  const char *name;
  sim_fault_kind kind;
  fault_arg arg;
  long long min_amount, max_amount;
  /* Preset code and message of a business error without arguments. */
  const char *code, *message;
} fault_specs[] = {
    {"clear", SIM_FAULT_NONE, ARG_NONE, 0, 0, NULL, NULL},
    {"http500", SIM_FAULT_HTTP500, ARG_NONE, 0, 0, NULL, NULL},
    {"http405", SIM_FAULT_HTTP405, ARG_NONE, 0, 0, NULL, NULL},
    /* Up to the absurd: a client must cap what it honours. */
    {"http429", SIM_FAULT_HTTP429, ARG_AMOUNT, 0, 1000000000, NULL, NULL},
    {"delay", SIM_FAULT_DELAY, ARG_AMOUNT, 0, 3600000, NULL, NULL},
    {"stall", SIM_FAULT_STALL, ARG_NONE, 0, 0, NULL, NULL},
    {"truncated", SIM_FAULT_TRUNCATED, ARG_NONE, 0, 0, NULL, NULL},
    {"notjson", SIM_FAULT_NOTJSON, ARG_NONE, 0, 0, NULL, NULL},
    {"malformed", SIM_FAULT_MALFORMED, ARG_NONE, 0, 0, NULL, NULL},
    {"api", SIM_FAULT_API, ARG_CODE_MESSAGE, 0, 0, NULL, NULL},
    {"1006", SIM_FAULT_API, ARG_NONE, 0, 0, SIM_ERR_NOT_OPEN},
    {"offline", SIM_FAULT_OFFLINE, ARG_NONE, 0, 0, NULL, NULL},
    {"huge", SIM_FAULT_HUGE, ARG_AMOUNT, 1, 1LL << 32, NULL, NULL},
    {"unlisted", SIM_FAULT_UNLISTED, ARG_NONE, 0, 0, NULL, NULL},
    {"counterback", SIM_FAULT_COUNTERBACK, ARG_QUOTA_STEP, 1,
     MAX_GLITCH_ANSWERS, NULL, NULL},
    {"listed", SIM_FAULT_LISTED, ARG_JSON_OBJECT, 0, 0, NULL, NULL},
    {"set", SIM_FAULT_SET, ARG_ANSWERS_JSON, 1, MAX_GLITCH_ANSWERS, NULL, NULL},
};

#define SPEC_COUNT (sizeof(fault_specs) / sizeof(*fault_specs))

/* What a captive portal or a gateway in trouble sends instead of JSON. */
static const char html_error_page[] =
    "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    "<body><h1>Service temporarily unavailable</h1><p>The server is "
    "busy. Please try again later.</p><hr><address>Tengine</address>"
    "</body></html>\n";

static const char padding_head[] =
    "{\"code\":\"0\",\"message\":\"Success\",\"data\":{\"padding\":\"";
static const char padding_tail[] = "\"},\"eagleEyeTraceId\":\"\",\"tid\":\"\"}";
#define PADDING_MIN_SIZE (sizeof(padding_head) - 1 + sizeof(padding_tail) - 1)

size_t sim_fault_padding(size_t padded_size, uint64_t offset, char *out,
                         size_t size) {
  size_t head_len = sizeof(padding_head) - 1;
  size_t tail_start = padded_size - (sizeof(padding_tail) - 1);
  size_t written = 0;
  for (; written < size && offset + written < padded_size; written++) {
    uint64_t at = offset + written;
    if (at < head_len)
      out[written] = padding_head[at];
    else if (at >= tail_start)
      out[written] = padding_tail[at - tail_start];
    else
      out[written] = 'x';
  }
  return written;
}

static int read_code_message(const char *arg, sim_fault *fault) {
  const char *colon = arg != NULL ? strchr(arg, ':') : NULL;
  if (colon == NULL || colon == arg || colon[1] == '\0' ||
      (size_t)(colon - arg) >= sizeof(fault->code) ||
      strlen(colon + 1) >= sizeof(fault->message))
    return -1;
  snprintf(fault->code, sizeof(fault->code), "%.*s", (int)(colon - arg), arg);
  snprintf(fault->message, sizeof(fault->message), "%s", colon + 1);
  return 0;
}

/* "PATH:STEP[:ANSWERS]": a quota path without ':', a positive step, and
 * how many answers carry it (default 1). */
static int read_quota_step(const char *arg, long long min_answers,
                           long long max_answers, sim_fault *fault) {
  const char *colon = arg != NULL ? strchr(arg, ':') : NULL;
  if (colon == NULL || colon == arg ||
      (size_t)(colon - arg) >= sizeof(fault->quota))
    return -1;
  snprintf(fault->quota, sizeof(fault->quota), "%.*s", (int)(colon - arg), arg);
  char *end = NULL;
  fault->step = strtod(colon + 1, &end);
  if (end == colon + 1 || !(fault->step > 0 && fault->step <= MAX_STEP))
    return -1;
  long long answers = 1;
  if (*end == ':' &&
      sim_parse_integer(end + 1, min_answers, max_answers, &answers) != 0)
    return -1;
  if (*end != ':' && *end != '\0')
    return -1;
  fault->amount = (unsigned long)answers;
  return 0;
}

/* A JSON object, kept as text for each device/list to parse again. */
static int read_json_object(const char *arg, sim_fault *fault) {
  if (arg == NULL || strlen(arg) >= sizeof(fault->json))
    return -1;
  struct json_object *object = json_tokener_parse(arg);
  int status = json_object_is_type(object, json_type_object) ? 0 : -1;
  json_object_put(object);
  if (status == 0)
    snprintf(fault->json, sizeof(fault->json), "%s", arg);
  return status;
}

/* "ANSWERS:JSON": how many answers carry it, then a JSON object. */
static int read_answers_json(const char *arg, long long min_answers,
                             long long max_answers, sim_fault *fault) {
  const char *colon = arg != NULL ? strchr(arg, ':') : NULL;
  char number[16];
  long long answers = 0;
  if (colon == NULL || (size_t)(colon - arg) >= sizeof(number))
    return -1;
  snprintf(number, sizeof(number), "%.*s", (int)(colon - arg), arg);
  if (sim_parse_integer(number, min_answers, max_answers, &answers) != 0)
    return -1;
  fault->amount = (unsigned long)answers;
  return read_json_object(colon + 1, fault);
}

/* Sets member path of the JSON text that key of data holds; 1 when key
 * holds a JSON object as text. */
static bool set_embedded(struct json_object *data, const char *key,
                         const char *member, struct json_object *value) {
  struct json_object *text = NULL;
  if (!json_object_object_get_ex(data, key, &text) ||
      !json_object_is_type(text, json_type_string))
    return false;
  struct json_object *embedded =
      json_tokener_parse(json_object_get_string(text));
  if (!json_object_is_type(embedded, json_type_object)) {
    json_object_put(embedded);
    return false;
  }
  json_object_object_add(embedded, member, json_object_get(value));
  json_object_object_add(
      data, key,
      json_object_new_string(json_object_to_json_string_ext(
          embedded, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
  json_object_put(embedded);
  return true;
}

static void set_value(struct json_object *data, const char *path,
                      struct json_object *value) {
  if (!json_object_object_get_ex(data, path, NULL)) {
    /* The longest key of data that path continues with a '.'. */
    char key[sizeof(((sim_fault *)0)->json)];
    snprintf(key, sizeof(key), "%s", path);
    for (char *dot = strrchr(key, '.'); dot != NULL; dot = strrchr(key, '.')) {
      *dot = '\0';
      if (set_embedded(data, key, dot + 1, value))
        return;
    }
  }
  json_object_object_add(data, path, json_object_get(value));
}

bool sim_fault_set_values(const sim_fault *fault, struct json_object *data,
                          char *first, size_t size) {
  if (fault->kind != SIM_FAULT_SET)
    return false;
  struct json_object *values = json_tokener_parse(fault->json);
  first[0] = '\0';
  json_object_object_foreach(values, path, value) {
    set_value(data, path, value);
    if (first[0] == '\0')
      snprintf(first, size, "%s", path);
  }
  json_object_put(values);
  return true;
}

void sim_fault_list_entry(const sim_fault *fault, struct json_object *entry) {
  if (fault->kind != SIM_FAULT_LISTED)
    return;
  struct json_object *members = json_tokener_parse(fault->json);
  json_object_object_foreach(members, key, value) {
    json_object_object_add(entry, key, json_object_get(value));
  }
  json_object_put(members);
}

int sim_fault_parse(const char *spec, sim_fault *fault, char *err,
                    size_t err_size) {
  *fault = (sim_fault){.kind = SIM_FAULT_NONE};
  if (strlen(spec) >= sizeof(fault->spec)) {
    snprintf(err, err_size, "fault spec too long");
    return -1;
  }
  const char *colon = strchr(spec, ':');
  size_t name_len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  const char *arg = colon != NULL ? colon + 1 : NULL;
  for (size_t i = 0; i < SPEC_COUNT; i++) {
    if (strlen(fault_specs[i].name) != name_len ||
        strncmp(fault_specs[i].name, spec, name_len) != 0)
      continue;
    fault->kind = fault_specs[i].kind;
    snprintf(fault->spec, sizeof(fault->spec), "%s", spec);
    if (fault_specs[i].code != NULL) {
      snprintf(fault->code, sizeof(fault->code), "%s", fault_specs[i].code);
      snprintf(fault->message, sizeof(fault->message), "%s",
               fault_specs[i].message);
    }
    long long amount = 0;
    int status = 0;
    switch (fault_specs[i].arg) {
    case ARG_NONE:
      status = arg == NULL ? 0 : -1;
      break;
    case ARG_AMOUNT:
      status = sim_parse_integer(arg, fault_specs[i].min_amount,
                                 fault_specs[i].max_amount, &amount);
      fault->amount = (unsigned long)amount;
      break;
    case ARG_CODE_MESSAGE:
      status = read_code_message(arg, fault);
      break;
    case ARG_QUOTA_STEP:
      status = read_quota_step(arg, fault_specs[i].min_amount,
                               fault_specs[i].max_amount, fault);
      break;
    case ARG_JSON_OBJECT:
      status = read_json_object(arg, fault);
      break;
    case ARG_ANSWERS_JSON:
      status = read_answers_json(arg, fault_specs[i].min_amount,
                                 fault_specs[i].max_amount, fault);
      break;
    }
    if (status != 0)
      snprintf(err, err_size, "bad argument in fault spec \"%s\"", spec);
    return status;
  }
  snprintf(err, err_size,
           "unknown fault \"%s\" (clear, http500, http405, http429:S, "
           "delay:MS, stall, truncated, notjson, malformed, api:CODE:MESSAGE, "
           "1006, offline, huge:BYTES, unlisted, "
           "counterback:PATH:STEP[:ANSWERS], listed:JSON, set:ANSWERS:JSON)",
           spec);
  return -1;
}

int sim_fault_shape(const sim_fault *fault, sim_reply *reply) {
  switch (fault->kind) {
  case SIM_FAULT_NONE:
  case SIM_FAULT_OFFLINE:
  case SIM_FAULT_UNLISTED:
  case SIM_FAULT_COUNTERBACK:
  case SIM_FAULT_LISTED:
  case SIM_FAULT_SET:
    return 0;
  case SIM_FAULT_HTTP500:
    sim_reply_http_error(reply, 500);
    break;
  case SIM_FAULT_HTTP405:
    sim_reply_http_error(reply, 405);
    break;
  case SIM_FAULT_HTTP429:
    sim_reply_http_error(reply, 429);
    reply->retry_after_s = fault->amount;
    break;
  case SIM_FAULT_DELAY:
    reply->delay_ms += fault->amount;
    break;
  case SIM_FAULT_STALL:
    reply->send = SIM_SEND_STALL;
    break;
  case SIM_FAULT_TRUNCATED:
    /* Half of a JSON object never closes it, so this never parses. */
    reply->body_len /= 2;
    break;
  case SIM_FAULT_NOTJSON:
    sim_reply_text(reply, 200, "text/html; charset=utf-8", html_error_page);
    break;
  case SIM_FAULT_MALFORMED:
    sim_reply_envelope(reply, "0", "Success",
                       json_object_new_string("quota service unavailable"));
    break;
  case SIM_FAULT_API:
    sim_reply_error(reply, fault->code, fault->message);
    break;
  case SIM_FAULT_HUGE:
    reply->send = SIM_SEND_PADDED;
    reply->padded_size =
        fault->amount > PADDING_MIN_SIZE ? fault->amount : PADDING_MIN_SIZE;
    break;
  }
  return 1;
}

struct sim_faults {
  pthread_mutex_t lock;
  sim_fault account;
  sim_fault list;
  size_t devices;
  sim_fault by_device[];
};

sim_faults *sim_faults_new(size_t devices) {
  sim_faults *faults =
      calloc(1, sizeof(*faults) + devices * sizeof(faults->by_device[0]));
  if (faults == NULL)
    return NULL;
  pthread_mutex_init(&faults->lock, NULL);
  faults->devices = devices;
  return faults;
}

void sim_faults_free(sim_faults *faults) {
  if (faults == NULL)
    return;
  pthread_mutex_destroy(&faults->lock);
  free(faults);
}

ssize_t sim_fault_slot(const char *sn, ssize_t device) {
  if (strcmp(sn, SIM_FAULT_ACCOUNT_NAME) == 0)
    return SIM_FAULT_ACCOUNT;
  if (strcmp(sn, SIM_FAULT_LIST_NAME) == 0)
    return SIM_FAULT_LIST;
  return device >= 0 ? device : SIM_FAULT_NOWHERE;
}

static sim_fault *slot_of(sim_faults *faults, ssize_t device) {
  if (device >= 0 && (size_t)device < faults->devices)
    return &faults->by_device[device];
  if (device == SIM_FAULT_LIST)
    return &faults->list;
  return &faults->account;
}

void sim_faults_set(sim_faults *faults, ssize_t device,
                    const sim_fault *fault) {
  int64_t now = sim_clock_now();
  pthread_mutex_lock(&faults->lock);
  sim_fault *slot = slot_of(faults, device);
  /* Saying "offline" again must not move the moment the values froze. */
  int64_t since =
      slot->kind == SIM_FAULT_OFFLINE && fault->kind == SIM_FAULT_OFFLINE
          ? slot->since
          : now;
  *slot = *fault;
  slot->since = since;
  pthread_mutex_unlock(&faults->lock);
}

/* The slot whose fault a request about device meets. Callers hold the
 * lock. */
static sim_fault *effective_slot(sim_faults *faults, ssize_t device) {
  sim_fault *own = slot_of(faults, device);
  return own->kind != SIM_FAULT_NONE ? own : &faults->account;
}

sim_fault sim_faults_get(sim_faults *faults, ssize_t device) {
  pthread_mutex_lock(&faults->lock);
  sim_fault fault = *effective_slot(faults, device);
  pthread_mutex_unlock(&faults->lock);
  return fault;
}

void sim_faults_delivered(sim_faults *faults, ssize_t device) {
  pthread_mutex_lock(&faults->lock);
  sim_fault *slot = effective_slot(faults, device);
  if ((slot->kind == SIM_FAULT_COUNTERBACK || slot->kind == SIM_FAULT_SET) &&
      --slot->amount == 0)
    *slot = (sim_fault){.kind = SIM_FAULT_NONE};
  pthread_mutex_unlock(&faults->lock);
}
