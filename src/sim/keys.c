/* keys.c: loading the account keys from a file or the environment. */
#include "keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *text) {
  while (isspace((unsigned char)*text))
    text++;
  char *end = text + strlen(text);
  while (end > text && isspace((unsigned char)end[-1]))
    *--end = '\0';
  /* A value written as a quoted string means the same value. */
  if (end - text >= 2 && text[0] == '"' && end[-1] == '"') {
    end[-1] = '\0';
    text++;
  }
  return text;
}

static int set_key(char **slot, const char *value) {
  sim_keys_wipe(*slot);
  *slot = strdup(value);
  return *slot == NULL ? -1 : 0;
}

int sim_keys_read_file(const char *path, const char *const *names,
                       char **const *slots, size_t count, char *err,
                       size_t err_size) {
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t line_size = 0;
  int status = 0;
  while (status == 0 && getline(&line, &line_size, file) >= 0) {
    char *comment = strchr(line, '#');
    if (comment != NULL)
      *comment = '\0';
    char *equals = strchr(line, '=');
    if (equals == NULL)
      continue;
    *equals = '\0';
    const char *name = trim(line);
    const char *value = trim(equals + 1);
    for (size_t i = 0; status == 0 && i < count; i++)
      if (strcmp(name, names[i]) == 0)
        status = set_key(slots[i], value);
  }
  if (line != NULL) {
    explicit_bzero(line, line_size);
    free(line);
  }
  fclose(file);
  if (status != 0)
    snprintf(err, err_size, "out of memory reading %s", path);
  return status;
}

void sim_keys_wipe(char *secret) {
  if (secret != NULL)
    explicit_bzero(secret, strlen(secret));
  free(secret);
}

static int load_file(sim_keys *keys, const char *path, char *err,
                     size_t err_size) {
  static const char *const names[] = {"access_key", "secret_key"};
  char **const slots[] = {&keys->access_key, &keys->secret_key};
  return sim_keys_read_file(path, names, slots, 2, err, err_size);
}

int sim_keys_load(sim_keys *keys, const char *keys_file, char *err,
                  size_t err_size) {
  *keys = (sim_keys){0};
  const char *source = keys_file;
  if (keys_file != NULL) {
    if (load_file(keys, keys_file, err, err_size) != 0) {
      sim_keys_free(keys);
      return -1;
    }
  } else {
    source = "the environment (ECOFLOW_ACCESS_KEY, ECOFLOW_SECRET_KEY)";
    const char *access_key = getenv("ECOFLOW_ACCESS_KEY");
    const char *secret_key = getenv("ECOFLOW_SECRET_KEY");
    if ((access_key != NULL && set_key(&keys->access_key, access_key) != 0) ||
        (secret_key != NULL && set_key(&keys->secret_key, secret_key) != 0)) {
      snprintf(err, err_size, "out of memory");
      sim_keys_free(keys);
      return -1;
    }
  }
  if (keys->access_key == NULL || keys->access_key[0] == '\0' ||
      keys->secret_key == NULL || keys->secret_key[0] == '\0') {
    snprintf(err, err_size, "no access_key and secret_key in %s", source);
    sim_keys_free(keys);
    return -1;
  }
  return 0;
}

void sim_keys_free(sim_keys *keys) {
  sim_keys_wipe(keys->secret_key);
  free(keys->access_key);
  *keys = (sim_keys){0};
}
