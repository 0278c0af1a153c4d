/* telegraf_expected.c: what ecoflow-telegraf must write for one quota/all
 * answer, according to the core's catalog: the oracle of test_telegraf.py,
 * which checks InfluxDB's copy of the output against it.
 *
 * Reads a quota/all "data" object (or a whole answer) as JSON on stdin and
 * prints one JSON object per line:
 *   {"kind":"published","path","measurement","tags":{..},"field",
 *    "type":"float|int|string","value","text","generic":true|false,
 *    "rule":null|"positive"|"negative","source"}
 *      a field InfluxDB must hold: value as the core computed it, text the
 *      API's own text of the sample (null when it sent none), so that the
 *      test can also compare with the simulator's number itself; a value
 *      derived from a signed one has its rule and the source's text
 *      instead, so that the test can apply the rule itself;
 *   {"kind":"absent","path","measurement","tags":{..},"field"}
 *      a known quota without a reading (sentinel or implausible): the field
 *      must not be there.
 * The tags are the catalog's; the front end adds sn, name and product. */
#include "oracle.h"

#include <json-c/json.h>
#include <stdio.h>

static const char *const type_names[] = {
    [EF_VALUE_FLOAT] = "float",
    [EF_VALUE_INT] = "int",
    [EF_VALUE_STRING] = "string",
};

static struct json_object *text_or_null(const char *text) {
  return text ? json_object_new_string(text) : NULL;
}

/* {"kind","path","measurement","tags","field"}, the common part. */
static struct json_object *record(const char *kind, const char *path,
                                  const char *measurement, const ef_tag *tags,
                                  size_t n_tags, const char *field) {
  struct json_object *line = json_object_new_object();
  struct json_object *tag_object = json_object_new_object();
  for (size_t i = 0; i < n_tags; i++)
    json_object_object_add(tag_object, tags[i].key,
                           json_object_new_string(tags[i].value));
  json_object_object_add(line, "kind", json_object_new_string(kind));
  json_object_object_add(line, "path", json_object_new_string(path));
  json_object_object_add(line, "measurement",
                         json_object_new_string(measurement));
  json_object_object_add(line, "tags", tag_object);
  json_object_object_add(line, "field", json_object_new_string(field));
  return line;
}

static void print_record(struct json_object *line) {
  puts(json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
  json_object_put(line);
}

static struct json_object *metric_value(const ef_metric *metric) {
  char text[32];
  switch (metric->type) {
  case EF_VALUE_FLOAT:
    snprintf(text, sizeof(text), "%.17g", metric->number);
    return json_object_new_double_s(metric->number, text);
  case EF_VALUE_INT:
    return json_object_new_int64(metric->integer);
  case EF_VALUE_STRING:
    break;
  }
  return json_object_new_string(metric->text);
}

static void print_published(const ef_metric *metric, const ef_sample *sample) {
  struct json_object *line =
      record("published", metric->path, metric->measurement, metric->tags,
             metric->n_tags, metric->field);
  json_object_object_add(line, "type",
                         json_object_new_string(type_names[metric->type]));
  json_object_object_add(line, "value", metric_value(metric));
  const char *rule = metric->quota == NULL                         ? NULL
                     : metric->quota->decode == EF_DECODE_POSITIVE ? "positive"
                     : metric->quota->decode == EF_DECODE_NEGATIVE ? "negative"
                                                                   : NULL;
  /* A boolean is published as the float 0 or 1: its text. */
  json_object_object_add(line, "text",
                         text_or_null(rule ? NULL
                                      : sample->kind == EF_KIND_BOOL
                                          ? metric->text
                                          : sample->text));
  json_object_object_add(line, "rule", text_or_null(rule));
  json_object_object_add(line, "source", text_or_null(sample->text));
  json_object_object_add(line, "generic",
                         json_object_new_boolean(metric->quota == NULL));
  print_record(line);
}

static void print_absent(const ef_metric *metric) {
  print_record(record("absent", metric->path, metric->measurement, metric->tags,
                      metric->n_tags, metric->field));
}

int main(void) {
  return oracle_run("telegraf_expected", 0, 0, print_published, print_absent);
}
