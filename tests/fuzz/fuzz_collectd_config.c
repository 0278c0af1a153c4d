/* libFuzzer target: the collectd plugin's <Plugin ecoflow> block, from
 * text in collectd's syntax (oconfig_text.h) to accounts, through
 * ecoflow_config.c.
 *
 * Input: the inside of the block. The paths of SecretKeyFile and CAFile
 * are kept inside a sandbox directory of prepared files (private and
 * readable secrets, an empty one, a large one, a directory ...): the
 * fuzzer picks among them by name and never reaches the rest of the file
 * system. Besides memory errors, abort() on a broken promise: a failure
 * without exactly one error message, a message without the plugin's
 * prefix, an account that misses a setting or holds one out of range,
 * names or serials that collide, or the same block accepted twice. */
#include "ecoflow_config.h"
#include "fuzz_support.h"
#include "oconfig_text.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "ecoflow plugin: "

/* ---- the sandbox ------------------------------------------------------- */

typedef struct {
  const char *name;
  mode_t mode;
  const char *content; /* NULL: a directory */
} sandbox_file;

static const sandbox_file sandbox_files[] = {
    {"secret", 0600, "SECRETKEY0123456789abcdefghijklm\n"},
    {"public", 0644, "SECRETKEY0123456789abcdefghijklm"},
    {"group", 0640, "SECRETKEY0123456789abcdefghijklm"},
    {"empty", 0600, ""},
    {"blank", 0600, " \n\t\n"},
    {"spaced", 0600, "SECRET KEY"},
    {"ca.pem", 0644, "-----BEGIN CERTIFICATE-----\n"},
    {"dir", 0700, NULL},
};

#define N_SANDBOX_FILES (sizeof(sandbox_files) / sizeof(sandbox_files[0]))
#define LARGE_SECRET_SIZE 5000 /* past the plugin's 4096-byte cap */

static char sandbox[64];

static void write_file(const char *path, mode_t mode, const char *content,
                       size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  fuzz_require(fd >= 0 && write(fd, content, len) == (ssize_t)len &&
                   fchmod(fd, mode) == 0 && close(fd) == 0,
               "(the sandbox cannot be written)");
}

static void sandbox_remove(void) {
  char path[128];
  for (size_t i = 0; i < N_SANDBOX_FILES; i++) {
    snprintf(path, sizeof(path), "%s/%s", sandbox, sandbox_files[i].name);
    (sandbox_files[i].content ? unlink : rmdir)(path);
  }
  snprintf(path, sizeof(path), "%s/large", sandbox);
  unlink(path);
  rmdir(sandbox);
}

static void sandbox_create(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(sandbox, sizeof(sandbox), "%.40s/fuzz-ecoflow.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  fuzz_require(mkdtemp(sandbox) != NULL, "(no sandbox directory)");
  char path[128];
  for (size_t i = 0; i < N_SANDBOX_FILES; i++) {
    const sandbox_file *file = &sandbox_files[i];
    snprintf(path, sizeof(path), "%s/%s", sandbox, file->name);
    if (file->content != NULL)
      write_file(path, file->mode, file->content, strlen(file->content));
    else
      fuzz_require(mkdir(path, file->mode) == 0, "(no sandbox subdirectory)");
  }
  static char large[LARGE_SECRET_SIZE];
  memset(large, 'k', sizeof(large));
  snprintf(path, sizeof(path), "%s/large", sandbox);
  write_file(path, 0600, large, sizeof(large));
  atexit(sandbox_remove);
}

/* The sandbox path for a path the input gave: its letters, digits, '.',
 * '-' and '_' only, and no leading '.', so that it names a file directly
 * in the sandbox. */
static char *sandboxed(const char *path) {
  char name[64];
  size_t n = 0;
  for (; *path != '\0' && n + 1 < sizeof(name); path++)
    if (isalnum((unsigned char)*path) || strchr("._-", *path) != NULL)
      if (n > 0 || *path != '.')
        name[n++] = *path;
  name[n] = '\0';
  size_t size = sizeof(sandbox) + sizeof(name) + 1;
  char *result = malloc(size);
  if (result != NULL)
    snprintf(result, size, "%s/%s", sandbox, name);
  return result;
}

/* Points every path option of the tree into the sandbox. */
static void sandbox_paths(oconfig_item_t *item) {
  if (strcasecmp(item->key, "SecretKeyFile") == 0 ||
      strcasecmp(item->key, "CAFile") == 0)
    for (int i = 0; i < item->values_num; i++) {
      oconfig_value_t *value = item->values + i;
      if (value->type != OCONFIG_TYPE_STRING)
        continue;
      char *path = sandboxed(value->value.string);
      free(value->value.string);
      value->value.string = path ? path : strdup("");
    }
  for (int i = 0; i < item->children_num; i++)
    sandbox_paths(item->children + i);
}

/* ---- the promises ------------------------------------------------------ */

typedef struct {
  int errors, warnings;
} reports;

static void count_report(ecoflow_severity severity, const char *message,
                         void *ctx) {
  reports *seen = ctx;
  fuzz_require(strncmp(message, PREFIX, strlen(PREFIX)) == 0 &&
                   strlen(message) > strlen(PREFIX),
               "a message without the plugin's prefix");
  if (severity == ECOFLOW_CONFIG_ERROR)
    seen->errors++;
  else
    seen->warnings++;
}

static int is_name(const char *name) {
  if (name == NULL || name[0] == '\0' || strlen(name) > ECOFLOW_NAME_MAX)
    return 0;
  for (; *name != '\0'; name++)
    if (*name == '/' || iscntrl((unsigned char)*name))
      return 0;
  return 1;
}

static int is_key(const char *key) {
  if (key == NULL || key[0] == '\0')
    return 0;
  for (; *key != '\0'; key++)
    if (isspace((unsigned char)*key) || iscntrl((unsigned char)*key))
      return 0;
  return 1;
}

static void check_device(const ecoflow_device *device) {
  fuzz_require(is_name(device->serial) && is_name(device->name),
               "a device without a usable serial and name");
  for (const char *c = device->serial; *c != '\0'; c++)
    fuzz_require(isalnum((unsigned char)*c) || strchr("-_.", *c) != NULL,
                 "a serial number that is not signed as it is");
  fuzz_require(device->interval_s >= ECOFLOW_MIN_INTERVAL_S,
               "an interval below the minimum");
}

static void check_account(const ecoflow_account *account) {
  fuzz_require(is_name(account->name), "an account without a usable name");
  fuzz_require(is_key(account->account.access_key) &&
                   is_key(account->account.secret_key),
               "an account without both keys");
  const char *endpoint = account->account.endpoint;
  size_t len = endpoint ? strlen(endpoint) : 0;
  fuzz_require(len > 0 && (strncasecmp(endpoint, "https://", 8) == 0 ||
                           strncasecmp(endpoint, "http://", 7) == 0),
               "an endpoint that is not an http(s) URL");
  fuzz_require(endpoint[len - 1] != '/', "an endpoint ending in '/'");
  fuzz_require(account->account.timeout_ms >= 0 &&
                   account->account.timeout_ms <= 300 * 1000,
               "a timeout out of range");
  fuzz_require(account->account.max_concurrent <= EF_MAX_CONCURRENT_MAX,
               "max_concurrent out of range");
  fuzz_require(account->n_devices > 0 || account->discover,
               "an account with nothing to poll");
  for (size_t i = 0; i < account->n_devices; i++)
    check_device(&account->devices[i]);
}

/* Serials, device names and account names are each unique. */
static void check_unique(const ecoflow_config *config) {
  const ecoflow_device *seen[256];
  size_t n_seen = 0;
  for (size_t a = 0; a < config->n_accounts; a++) {
    const ecoflow_account *account = config->accounts[a];
    for (size_t b = 0; b < a; b++)
      fuzz_require(strcmp(config->accounts[b]->name, account->name) != 0,
                   "two accounts of one name");
    for (size_t d = 0; d < account->n_devices && n_seen < 256; d++) {
      const ecoflow_device *device = &account->devices[d];
      for (size_t i = 0; i < n_seen; i++)
        fuzz_require(strcmp(seen[i]->serial, device->serial) != 0 &&
                         strcmp(seen[i]->name, device->name) != 0,
                     "two devices of one serial or name");
      seen[n_seen++] = device;
    }
  }
}

static void fuzz_block(const oconfig_item_t *block, double interval_s) {
  ecoflow_config config = {0};
  reports seen = {0};
  int status =
      ecoflow_config_parse(&config, block, interval_s, count_report, &seen);
  fuzz_require(status == 0 || status == -1, "a status other than 0 or -1");
  fuzz_require(seen.errors == (status != 0),
               "not one error message per failure");
  for (size_t a = 0; a < config.n_accounts; a++)
    check_account(config.accounts[a]);
  check_unique(&config);
  if (status == 0) {
    /* The same block again (as collectd hands a second <Plugin ecoflow>):
     * every account or device in it now exists twice. */
    seen = (reports){0};
    fuzz_require(ecoflow_config_parse(&config, block, interval_s, count_report,
                                      &seen) != 0 &&
                     seen.errors == 1,
                 "the same block accepted twice");
  }
  ecoflow_config_free(&config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (sandbox[0] == '\0')
    sandbox_create();
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  oconfig_value_t name = {.value.string = "ecoflow",
                          .type = OCONFIG_TYPE_STRING};
  oconfig_item_t block = {.key = "Plugin", .values = &name, .values_num = 1};
  if (oconfig_text_read(&block, text) == 0) {
    sandbox_paths(&block);
    /* The plugin's own interval, below or above the minimum (devices
     * without Interval take it): the first byte picks, so that both paths
     * are fuzzed. */
    fuzz_block(&block, size > 0 && (data[0] & 1) ? 1.0 : 60.0);
  }
  oconfig_text_free(&block);
  free(text);
  return 0;
}
