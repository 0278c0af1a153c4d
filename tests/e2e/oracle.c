/* oracle.c: a quota/all answer on stdin through the core's catalog. */
#include "oracle.h"

#include "ef_catalog.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
  const ef_samples *samples;
  oracle_published_cb published;
  oracle_absent_cb absent;
  char *was_published; /* per sample */
} oracle;

static void on_published(const ef_metric *metric, void *ctx) {
  oracle *o = ctx;
  const ef_sample *sample = ef_samples_find(o->samples, metric->path);
  o->was_published[sample - o->samples->items] = 1;
  o->published(metric, sample);
}

static void on_absent(const ef_metric *metric, void *ctx) {
  ((oracle *)ctx)->absent(metric);
}

static void name_absent(oracle *o, const ef_sample *sample) {
  const ef_quota *quota = ef_catalog_lookup(sample->path, NULL);
  /* A fallback row not published stands in for a quota that was. */
  if (quota == NULL || quota->primary != NULL ||
      (quota->decode != EF_DECODE_VALUE && quota->decode != EF_DECODE_COUNTER))
    return;
  /* The stand-in is a reading (a counter's 0 is none). */
  ef_samples one = {0};
  ef_sample stand_in = {
      .path = sample->path, .kind = EF_KIND_NUMBER, .number = quota->max};
  if (ef_samples_put(&one, &stand_in) == 0)
    ef_metrics_each(&one, NULL, on_absent, o, NULL);
  ef_samples_clear(&one);
}

int oracle_run(const char *name, int catalog_only, int skip_detail,
               oracle_published_cb published, oracle_absent_cb absent) {
  struct json_object *root = json_object_from_fd(STDIN_FILENO);
  struct json_object *data = root, *member;
  if (json_object_object_get_ex(root, "data", &member))
    data = member;
  ef_samples samples = {0};
  if (root == NULL || ef_samples_add_json(&samples, data) != 0) {
    fprintf(stderr, "%s: stdin is not a quota/all answer\n", name);
    json_object_put(root);
    return 1;
  }
  oracle o = {.samples = &samples,
              .published = published,
              .absent = absent,
              .was_published = calloc(samples.len + 1, 1)};
  ef_metric_policy policy = {
      .catalog_only = catalog_only && ef_metrics_family_known_samples(&samples),
      .skip_detail = skip_detail};
  ef_metrics_each(&samples, &policy, on_published, &o, NULL);
  for (size_t i = 0; i < samples.len; i++)
    if (!o.was_published[i])
      name_absent(&o, &samples.items[i]);
  free(o.was_published);
  ef_samples_clear(&samples);
  json_object_put(root);
  return 0;
}
