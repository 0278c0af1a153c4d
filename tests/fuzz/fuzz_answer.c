/* libFuzzer target: any bytes as an API answer, through everything the
 * core does with one (envelope, samples, catalog, metrics) and with an
 * MQTT-style merge into a device state. */
#include "ef_envelope.h"
#include "ef_metric.h"
#include "ef_sample.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

static void consume(const ef_metric *metric, void *ctx) {
  size_t *total = ctx;
  *total += metric->n_tags + (metric->text ? 1 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct json_object *root = NULL, *payload = NULL;
  ef_error err;
  if (ef_envelope_parse((const char *)data, size, 200, &root, &payload, &err) !=
      0)
    return 0;
  ef_samples samples = {0}, state = {0};
  ef_samples_add_json(&samples, payload);
  size_t total = 0;
  ef_metric_stats stats = {0};
  ef_metrics_each(&samples, consume, &total, &stats);
  for (size_t i = 0; i < samples.len; i++)
    ef_samples_put(&state, &samples.items[i]);
  ef_samples_clear(&samples);
  ef_samples_clear(&state);
  json_object_put(root);
  return 0;
}
