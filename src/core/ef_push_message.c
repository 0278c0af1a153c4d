/* ef_push_message.c: topic and payload of a broker message to a device's
 * values or online flag. */
#include "ef_push_message.h"

#include "ef_envelope.h"

#include <json-c/json.h>
#include <string.h>

#define TOPIC_ROOT "/open/"

static const struct {
  const char *suffix;
  ef_push_kind kind;
} topic_kinds[] = {
    {"/quota", EF_PUSH_QUOTA},
    {"/status", EF_PUSH_STATUS},
};

static const char *const verdict_texts[] = {
    [EF_PUSH_OK] = "taken",
    [EF_PUSH_OTHER_TOPIC] = "a topic of another account or kind",
    [EF_PUSH_BAD_SERIAL] = "a topic whose serial number is not one",
    [EF_PUSH_EMPTY] = "an empty message",
    [EF_PUSH_TOO_LONG] = "a message over 256 KiB",
    [EF_PUSH_NOT_JSON] = "not a JSON object",
    [EF_PUSH_NO_VALUES] = "a quota message without params or param",
    [EF_PUSH_NO_STATUS] = "a status message without params.status 0 or 1",
    [EF_PUSH_NO_MEMORY] = "out of memory",
};

const char *ef_push_verdict_text(ef_push_verdict verdict) {
  return (size_t)verdict < sizeof(verdict_texts) / sizeof(verdict_texts[0])
             ? verdict_texts[verdict]
             : "unknown";
}

/* The serial number and kind of a topic of account. */
static ef_push_verdict split_topic(const char *account, const char *topic,
                                   ef_push_message *message) {
  size_t root = strlen(TOPIC_ROOT), account_len = strlen(account);
  if (topic == NULL || strncmp(topic, TOPIC_ROOT, root) != 0 ||
      strncmp(topic + root, account, account_len) != 0 ||
      topic[root + account_len] != '/')
    return EF_PUSH_OTHER_TOPIC;
  const char *sn = topic + root + account_len + 1;
  const char *slash = strchr(sn, '/');
  if (slash == NULL)
    return EF_PUSH_OTHER_TOPIC;
  size_t i = 0;
  while (i < sizeof(topic_kinds) / sizeof(topic_kinds[0]) &&
         strcmp(slash, topic_kinds[i].suffix) != 0)
    i++;
  if (i == sizeof(topic_kinds) / sizeof(topic_kinds[0]))
    return EF_PUSH_OTHER_TOPIC;
  size_t sn_len = (size_t)(slash - sn);
  if (sn_len == 0 || sn_len >= sizeof(message->sn))
    return EF_PUSH_BAD_SERIAL;
  memcpy(message->sn, sn, sn_len);
  message->sn[sn_len] = '\0';
  message->kind = topic_kinds[i].kind;
  return ef_serial_valid(message->sn) ? EF_PUSH_OK : EF_PUSH_BAD_SERIAL;
}

static struct json_object *member(struct json_object *object, const char *key) {
  struct json_object *value = NULL;
  return json_object_object_get_ex(object, key, &value) ? value : NULL;
}

/* params.status, 0 or 1 as a number or a string; -1 when it has none. */
static int status_of(struct json_object *root) {
  struct json_object *status = member(member(root, "params"), "status");
  if (json_object_is_type(status, json_type_int)) {
    int64_t number = json_object_get_int64(status);
    return number == 0 || number == 1 ? (int)number : -1;
  }
  if (json_object_is_type(status, json_type_string)) {
    const char *text = json_object_get_string(status);
    return strcmp(text, "1") == 0 ? 1 : strcmp(text, "0") == 0 ? 0 : -1;
  }
  return -1;
}

/* The values: params (typeCode's shape), else param (cmdFunc's); kept
 * as JSON, or flattened into message->values. */
static ef_push_verdict values_of(struct json_object *root, int flatten,
                                 ef_push_message *message) {
  struct json_object *object = member(root, "params");
  if (!json_object_is_type(object, json_type_object))
    object = member(root, "param");
  if (!json_object_is_type(object, json_type_object))
    return EF_PUSH_NO_VALUES;
  if (!flatten) {
    message->object = json_object_get(object);
    return EF_PUSH_OK;
  }
  return ef_samples_add_json(&message->values, object) == 0 ? EF_PUSH_OK
                                                            : EF_PUSH_NO_MEMORY;
}

static ef_push_verdict parse(const char *account, const char *topic,
                             const void *payload, size_t size,
                             struct json_tokener *tokener, int flatten,
                             ef_push_message *message) {
  *message = (ef_push_message){.kind = EF_PUSH_QUOTA};
  ef_push_verdict verdict = split_topic(account, topic, message);
  if (verdict != EF_PUSH_OK)
    return verdict;
  if (size == 0 || payload == NULL)
    return EF_PUSH_EMPTY;
  if (size > EF_PUSH_MESSAGE_MAX)
    return EF_PUSH_TOO_LONG;
  /* One JSON text, as an answer must be: a NUL byte or bytes after the
   * object make it none. (A kept tokener spares each message a large
   * allocation.) */
  ef_error error;
  memset(&error, 0, sizeof(error));
  struct json_object *root =
      ef_envelope_whole_json(payload, size, tokener, &error);
  if (root == NULL && error.kind == EF_ERR_INTERNAL)
    return EF_PUSH_NO_MEMORY;
  if (!json_object_is_type(root, json_type_object))
    verdict = EF_PUSH_NOT_JSON;
  else if (message->kind == EF_PUSH_STATUS)
    verdict = (message->online = status_of(root)) >= 0 ? EF_PUSH_OK
                                                       : EF_PUSH_NO_STATUS;
  else
    verdict = values_of(root, flatten, message);
  json_object_put(root);
  return verdict;
}

ef_push_verdict ef_push_message_parse(const char *account, const char *topic,
                                      const void *payload, size_t size,
                                      struct json_tokener *tokener,
                                      ef_push_message *message) {
  return parse(account, topic, payload, size, tokener, 1, message);
}

ef_push_verdict ef_push_message_parse_json(const char *account,
                                           const char *topic,
                                           const void *payload, size_t size,
                                           struct json_tokener *tokener,
                                           ef_push_message *message) {
  return parse(account, topic, payload, size, tokener, 0, message);
}
