/* libFuzzer target: any bytes as an API answer, through everything the
 * core does with one (envelope, walk, catalog, metrics) straight from the
 * JSON as a poll does, and through kept samples as the pushed state does,
 * with an MQTT-style merge into a device state. Both ways must publish the
 * same metrics, and every metric must have its names. Read as a list
 * (device/list: its items one at a time), the answer must give what its
 * whole tree gives: the same verdict and the same items. */
#include "ef_envelope.h"
#include "ef_metric.h"
#include "ef_sample.h"
#include "fuzz_support.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Items as json-c writes them, each ended by a newline. */
typedef struct {
  char *text;
  size_t len;
} joined;

static void join(joined *j, struct json_object *item) {
  const char *text =
      json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN);
  size_t len = strlen(text);
  char *grown = realloc(j->text, j->len + len + 2);
  if (grown == NULL)
    abort();
  memcpy(grown + j->len, text, len);
  grown[j->len + len] = '\n';
  grown[j->len + len + 1] = '\0';
  j->text = grown;
  j->len += len + 1;
}

static int gather(int restart, struct json_object *item, void *ctx) {
  joined *j = ctx;
  if (restart)
    j->len = 0;
  else
    join(j, item);
  return 0;
}

/* The verdict and items of the answer read as a list agree with its tree;
 * the list may refuse what the tree takes only when data is no list, or a
 * value is longer or deeper than a list's item may be, and may call an
 * answer too long where the tree finds another fault. */
static void list_agrees(const char *body, size_t size) {
  struct json_object *root = NULL, *data = NULL;
  ef_error tree_err, items_err;
  int tree = ef_envelope_parse(body, size, 200, NULL, &root, &data, &tree_err);
  joined items = {0}, whole = {0};
  int listed =
      ef_envelope_parse_items(body, size, 200, gather, &items, &items_err);
  if (tree == 0 && data != NULL && json_object_is_type(data, json_type_array))
    for (size_t i = 0; i < json_object_array_length(data); i++)
      join(&whole, json_object_array_get_idx(data, i));
  int data_is_list =
      tree == 0 && (data == NULL || json_object_is_type(data, json_type_array));
  if (listed == 0 &&
      (!data_is_list || items.len != whole.len ||
       (items.len > 0 && memcmp(items.text, whole.text, items.len) != 0)))
    abort();
  if (listed != 0 && data_is_list && items_err.kind != EF_ERR_INTERNAL &&
      strstr(items_err.message, "more than") == NULL &&
      strstr(items_err.message, "too deep") == NULL)
    abort();
  if (tree != 0 &&
      (listed == 0 || ((items_err.kind != tree_err.kind ||
                        strcmp(items_err.api_code, tree_err.api_code) != 0) &&
                       strstr(items_err.message, "more than") == NULL)))
    abort();
  free(items.text);
  free(whole.text);
  json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  list_agrees((const char *)data, size);
  /* Kept over every input, as a client keeps one: it must judge each as
   * the fresh one of list_agrees did. */
  static struct json_tokener *kept_tokener;
  if (kept_tokener == NULL && (kept_tokener = json_tokener_new()) == NULL)
    abort();
  struct json_object *root = NULL, *payload = NULL;
  ef_error err;
  int verdict = ef_envelope_parse((const char *)data, size, 200, kept_tokener,
                                  &root, &payload, &err);
  struct json_object *fresh_root = NULL, *fresh_payload = NULL;
  ef_error fresh_err;
  if (ef_envelope_parse((const char *)data, size, 200, NULL, &fresh_root,
                        &fresh_payload, &fresh_err) != verdict ||
      fresh_err.kind != err.kind || strcmp(fresh_err.message, err.message) != 0)
    abort();
  json_object_put(fresh_root);
  if (verdict != 0)
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
