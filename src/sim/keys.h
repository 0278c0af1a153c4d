/* keys.h: the one account (access key and secret key) the simulator
 * accepts.
 *
 * Promises: keys come from a keys file or the environment, never from the
 * command line, where ps would show the secret; the secret is wiped from
 * memory when freed. */
#ifndef SIM_KEYS_H
#define SIM_KEYS_H

#include <stddef.h>

typedef struct {
  char *access_key;
  char *secret_key;
} sim_keys;

/* From keys_file when it is not NULL (lines "access_key = ..." and
 * "secret_key = ..."; '#' starts a comment), else from the environment
 * (ECOFLOW_ACCESS_KEY, ECOFLOW_SECRET_KEY). Returns 0, or -1 with a reason
 * in err. */
int sim_keys_load(sim_keys *keys, const char *keys_file, char *err,
                  size_t err_size);

void sim_keys_free(sim_keys *keys);

/* Reads a settings file of "name = value" lines ('#' starts a comment; a
 * quoted value means the same value): slots[i] gets a new copy of the value
 * of names[i], for each of the count names the file has (an earlier value
 * is freed). Lines with other names are left alone. Returns 0, or -1 with a
 * reason in err. */
int sim_keys_read_file(const char *path, const char *const *names,
                       char **const *slots, size_t count, char *err,
                       size_t err_size);

/* Wipes and frees a secret. */
void sim_keys_wipe(char *secret);

#endif
