/* libFuzzer target: any topic and payload as a message of the broker,
 * through ef_push_message_parse (ef_push_message.c), then its values
 * through the metrics as the pushed state publishes them.
 *
 * Input: two NUL-separated texts (fuzz_support.h), the topic and the
 * payload (the payload's own NULs kept). Besides memory errors and
 * undefined behaviour, abort() when a message is taken for a serial number
 * that is not one or not the topic's, when a status is other than 0 or 1,
 * when a refused message keeps values, or when parsing the same message
 * twice (or into the JSON form) gives another verdict. */
#include "ef_metric.h"
#include "ef_push_message.h"
#include "fuzz_support.h"

#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#define ACCOUNT "open-fuzz"

static void consume(const ef_metric *metric, void *ctx) {
  fuzz_require(metric->path != NULL && metric->field != NULL,
               "a metric without names");
  (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input input;
  fuzz_input_init(&input, data, size);
  const char *topic = fuzz_input_token(&input);
  const char *payload = fuzz_input_token(&input);
  if (topic == NULL) {
    fuzz_input_free(&input);
    return 0;
  }
  size_t payload_size = payload != NULL ? (size_t)(input.end - payload) : 0;
  /* The second judgement through a tokener kept over every input, as the
   * MQTT thread keeps one: whatever came before must not change it. */
  static struct json_tokener *kept;
  if (kept == NULL)
    kept = json_tokener_new();
  ef_push_message message, again;
  ef_push_verdict verdict = ef_push_message_parse(ACCOUNT, topic, payload,
                                                  payload_size, NULL, &message);
  fuzz_require(ef_push_message_parse(ACCOUNT, topic, payload, payload_size,
                                     kept, &again) == verdict,
               "the same message judged twice differently");
  ef_samples_clear(&again.values);
  /* Stream mode's form: the same verdict, and its JSON walks to the
   * values the flattened form holds. */
  ef_push_message json;
  fuzz_require(ef_push_message_parse_json(ACCOUNT, topic, payload, payload_size,
                                          kept, &json) == verdict,
               "the JSON form judged differently");
  fuzz_require((json.object != NULL) ==
                   (verdict == EF_PUSH_OK && json.kind == EF_PUSH_QUOTA),
               "the JSON form kept values it should not, or lost them");
  ef_samples walked = {0};
  if (json.object != NULL && ef_samples_add_json(&walked, json.object) == 0 &&
      verdict == EF_PUSH_OK)
    fuzz_require(walked.len == message.values.len,
                 "the JSON form walks to other values");
  ef_samples_clear(&walked);
  json_object_put(json.object);
  if (verdict == EF_PUSH_OK) {
    fuzz_require(ef_serial_valid(message.sn), "an invalid serial taken");
    fuzz_require(strstr(topic, message.sn) != NULL,
                 "a serial number not the topic's");
    fuzz_require(message.kind != EF_PUSH_STATUS ||
                     (message.online == 0 || message.online == 1),
                 "a status other than 0 or 1");
    size_t metrics = 0;
    ef_metric_stats stats = {0};
    ef_metric_policy policy = {.max_unknown = 50};
    ef_metrics_each(&message.values, &policy, consume, &metrics, &stats);
  } else {
    fuzz_require(message.values.len == 0 || verdict == EF_PUSH_NO_MEMORY,
                 "a refused message with values");
    fuzz_require(strcmp(ef_push_verdict_text(verdict), "unknown") != 0,
                 "a verdict without words");
  }
  ef_samples_clear(&message.values);
  fuzz_input_free(&input);
  return 0;
}
