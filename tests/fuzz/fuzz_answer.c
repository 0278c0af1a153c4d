/* libFuzzer target: any bytes as an API answer, through everything the
 * core does with one (envelope, walk, catalog, metrics) straight from the
 * JSON as a poll does, and through kept samples as the pushed state does,
 * with an MQTT-style merge into a device state. Both ways must publish the
 * same metrics, and every metric must have its names. */
#include "ef_envelope.h"
#include "ef_metric.h"
#include "ef_sample.h"
#include "fuzz_support.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t metrics;
  size_t name_bytes;
} tally;

static void consume(const ef_metric *metric, void *ctx) {
  tally *t = ctx;
  if (metric->path == NULL || metric->measurement == NULL ||
      metric->field == NULL || metric->collectd_type == NULL ||
      metric->collectd_instance == NULL ||
      (metric->type == EF_VALUE_STRING && metric->text == NULL))
    abort();
  t->metrics++;
  t->name_bytes += strlen(metric->field) + strlen(metric->collectd_instance);
  for (size_t i = 0; i < metric->n_tags; i++)
    t->name_bytes +=
        strlen(metric->tags[i].key) + strlen(metric->tags[i].value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct json_object *root = NULL, *payload = NULL;
  ef_error err;
  if (ef_envelope_parse((const char *)data, size, 200, &root, &payload, &err) !=
      0)
    return 0;
  /* Each pass with a memory of its own: the counters' guard is taken and
   * judges both passes alike. */
  ef_value_memory walked_memory = {0}, kept_memory = {0};
  ef_metric_policy policy = {.max_unknown = 50, .memory = &walked_memory};
  tally walked = {0}, kept = {0};
  ef_metric_stats walked_stats = {0}, kept_stats = {0};
  int walk_status =
      ef_metrics_of_json(payload, &policy, consume, &walked, &walked_stats);

  ef_samples samples = {0}, state = {0};
  int kept_status = ef_samples_add_json(&samples, payload);
  policy.memory = &kept_memory;
  ef_metrics_each(&samples, &policy, consume, &kept, &kept_stats);
  ef_value_memory_clear(&walked_memory);
  ef_value_memory_clear(&kept_memory);
  /* The samples hold what a walk finds; only memory running out differs. */
  if (walk_status == 0 && kept_status == 0 &&
      (walked.metrics != kept.metrics || walked.name_bytes != kept.name_bytes ||
       walked_stats.published != kept_stats.published))
    abort();
  for (size_t i = 0; i < samples.len; i++)
    ef_samples_put(&state, &samples.items[i]);
  ef_metrics_family_known(payload);
  ef_samples_clear(&samples);
  ef_samples_clear(&state);
  json_object_put(root);
  return 0;
}
