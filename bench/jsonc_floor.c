/* jsonc_floor.c: what json-c alone costs for one quota/all answer.
 *
 * Promises: parses the answer in FILE (the bytes of one HTTP answer body)
 * ITERATIONS times with json_tokener_parse_ex and one reused tokener, and
 * walks each parse recursively, reading every value through its typed
 * getter, then frees it: the floor a poller that uses json-c cannot go
 * under. A string holding JSON text (a pack's "bp_addr.<SN>" holds its
 * quotas so) is parsed and walked too, as a poller must to read them. Prints
 * one line of JSON: the answer's bytes, the values it holds, and the CPU time
 * per answer (the median of BATCHES batches, in ns), for bench/bench.py. Under
 * callgrind, the instructions of two runs with different ITERATIONS give the
 * instructions per answer without the start-up. Exit status 0, or 1 with a
 * message on stderr. */
#include <json-c/json.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCHES 5

typedef struct {
  uint64_t values;   /* every value, containers included */
  uint64_t embedded; /* strings that held JSON text */
  uint64_t sum;      /* what the walk read, so that no read is optimised out */
  struct json_tokener *inner; /* for JSON text in strings, reused */
} walk_tally;

static void walk(struct json_object *value, walk_tally *tally);

/* A string's JSON text (an object or a list), parsed and walked: 1, or 0
 * when the string holds none. */
static int walk_embedded(const char *text, walk_tally *tally) {
  while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
    text++;
  if (*text != '{' && *text != '[')
    return 0;
  json_tokener_reset(tally->inner);
  struct json_object *inner = json_tokener_parse_ex(tally->inner, text, -1);
  int parsed = inner != NULL &&
               json_tokener_get_error(tally->inner) == json_tokener_success;
  if (parsed) {
    tally->embedded++;
    walk(inner, tally);
  }
  json_object_put(inner);
  return parsed;
}

static void walk(struct json_object *value, walk_tally *tally) {
  tally->values++;
  switch (json_object_get_type(value)) {
  case json_type_object: {
    json_object_object_foreach(value, key, member) {
      tally->sum += (unsigned char)key[0];
      walk(member, tally);
    }
    break;
  }
  case json_type_array: {
    size_t n = json_object_array_length(value);
    for (size_t i = 0; i < n; i++)
      walk(json_object_array_get_idx(value, i), tally);
    break;
  }
  case json_type_string:
    if (!walk_embedded(json_object_get_string(value), tally))
      tally->sum += (uint64_t)json_object_get_string_len(value) +
                    (unsigned char)json_object_get_string(value)[0];
    break;
  case json_type_int:
    tally->sum += (uint64_t)json_object_get_int64(value);
    break;
  case json_type_double:
    tally->sum += (uint64_t)(int64_t)json_object_get_double(value);
    break;
  case json_type_boolean:
    tally->sum += (uint64_t)json_object_get_boolean(value);
    break;
  case json_type_null:
    break;
  }
}

static char *read_file(const char *path, size_t *len) {
  FILE *in = fopen(path, "rb");
  if (in == NULL)
    return NULL;
  char *text = NULL;
  size_t size = 0;
  if (fseek(in, 0, SEEK_END) == 0) {
    long end = ftell(in);
    if (end > 0 && fseek(in, 0, SEEK_SET) == 0) {
      size = (size_t)end;
      text = malloc(size + 1);
      if (text != NULL && fread(text, 1, size, in) != size) {
        free(text);
        text = NULL;
      }
    }
  }
  fclose(in);
  if (text != NULL) {
    text[size] = '\0';
    *len = size;
  }
  return text;
}

static int64_t cpu_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* One parse and walk; 0, or -1 when the answer is not JSON. */
static int parse_and_walk(struct json_tokener *tokener, const char *text,
                          size_t len, walk_tally *tally) {
  json_tokener_reset(tokener);
  struct json_object *root = json_tokener_parse_ex(tokener, text, (int)len);
  if (root == NULL || json_tokener_get_error(tokener) != json_tokener_success)
    return -1;
  walk(root, tally);
  json_object_put(root);
  return 0;
}

static int compare_ns(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE ITERATIONS\n", argv[0]);
    return 1;
  }
  char *end;
  errno = 0;
  long iterations = strtol(argv[2], &end, 10);
  if (errno != 0 || *end != '\0' || iterations < BATCHES) {
    fprintf(stderr, "jsonc_floor: ITERATIONS must be a number >= %d\n",
            BATCHES);
    return 1;
  }
  size_t len;
  char *text = read_file(argv[1], &len);
  if (text == NULL) {
    fprintf(stderr, "jsonc_floor: cannot read %s\n", argv[1]);
    return 1;
  }
  struct json_tokener *tokener = json_tokener_new();
  walk_tally tally = {.inner = json_tokener_new()};
  int64_t batch_ns[BATCHES];
  long done = 0;
  int status = 0;
  for (int b = 0; b < BATCHES && status == 0; b++) {
    long until = iterations * (b + 1) / BATCHES;
    int64_t start = cpu_ns();
    for (; done < until && status == 0; done++)
      status = parse_and_walk(tokener, text, len, &tally);
    batch_ns[b] = (cpu_ns() - start) / (until - iterations * b / BATCHES);
  }
  json_tokener_free(tokener);
  json_tokener_free(tally.inner);
  free(text);
  if (status != 0) {
    fprintf(stderr, "jsonc_floor: %s is not one JSON document\n", argv[1]);
    return 1;
  }
  qsort(batch_ns, BATCHES, sizeof batch_ns[0], compare_ns);
  printf("{\"bytes\": %zu, \"values\": %llu, \"embedded\": %llu, "
         "\"iterations\": %ld, \"cpu_ns_per_answer\": %lld, "
         "\"checksum\": %llu}\n",
         len, (unsigned long long)(tally.values / (uint64_t)iterations),
         (unsigned long long)(tally.embedded / (uint64_t)iterations),
         iterations, (long long)batch_ns[BATCHES / 2],
         (unsigned long long)tally.sum);
  return 0;
}
