/* ef_push_message.h: one message of EcoFlow's MQTT broker, taken apart.
 *
 * Promises: a pure function of the certificate account, the topic and the
 * payload, all untrusted: the device's serial number and what the message
 * says. A quota message (topic /open/<account>/<sn>/quota) brings values,
 * as typeCode + params or as cmdFunc/cmdId + param, flattened to
 * quota/all's paths (ef_sample.h); a status message (/status) brings the
 * online flag, params.status 0 or 1 (a number or a string). Anything else
 * is a verdict naming what was wrong, never a crash: a topic of another
 * account or kind, a serial number that is not one, an empty payload or
 * one over EF_PUSH_MESSAGE_MAX bytes, text that is not one JSON object
 * (ef_envelope_whole_json: a NUL byte or bytes after it make it none), a
 * quota message without values, a status message without a status.
 * Nothing here prints or keeps anything. */
#ifndef EF_PUSH_MESSAGE_H
#define EF_PUSH_MESSAGE_H

#include "ef_account.h"
#include "ef_sample.h"

#include <stddef.h>

struct json_tokener;

#define EF_PUSH_MESSAGE_MAX (256 * 1024)

typedef enum {
  EF_PUSH_QUOTA,  /* values */
  EF_PUSH_STATUS, /* online */
} ef_push_kind;

typedef enum {
  EF_PUSH_OK,
  EF_PUSH_OTHER_TOPIC, /* not /open/<account>/<sn>/quota or /status */
  EF_PUSH_BAD_SERIAL,  /* the topic's serial number is not one */
  EF_PUSH_EMPTY,
  EF_PUSH_TOO_LONG, /* over EF_PUSH_MESSAGE_MAX */
  EF_PUSH_NOT_JSON, /* not a JSON object */
  EF_PUSH_NO_VALUES,
  EF_PUSH_NO_STATUS,
  EF_PUSH_NO_MEMORY,
} ef_push_verdict;

typedef struct {
  ef_push_kind kind;
  char sn[EF_SERIAL_MAX + 1];
  int online;        /* STATUS: 0 or 1 */
  ef_samples values; /* QUOTA; the caller clears them, whatever the verdict */
  /* QUOTA from ef_push_message_parse_json: the values' object itself,
   * not flattened; the caller puts it (json_object_put), whatever the
   * verdict. */
  struct json_object *object;
} ef_push_message;

/* Takes the message of topic and payload (size bytes, not NUL-terminated)
 * apart into *message, which starts empty. tokener: json-c's, kept by a
 * caller that parses many messages (reset here before each), or NULL for
 * one of its own; the verdict and values are the same either way. */
ef_push_verdict ef_push_message_parse(const char *account, const char *topic,
                                      const void *payload, size_t size,
                                      struct json_tokener *tokener,
                                      ef_push_message *message);

/* The same, but a quota message's values stay JSON (message->object,
 * for ef_walk): nothing is copied for a caller that hands them on once.
 * The verdict is the same as ef_push_message_parse's. */
ef_push_verdict ef_push_message_parse_json(const char *account,
                                           const char *topic,
                                           const void *payload, size_t size,
                                           struct json_tokener *tokener,
                                           ef_push_message *message);

/* What a verdict means, in a few words ("not a JSON object"). */
const char *ef_push_verdict_text(ef_push_verdict verdict);

#endif
