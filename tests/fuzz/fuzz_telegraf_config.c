/* libFuzzer target: ecoflow-telegraf's settings from all three sources,
 * the `key = value` file, the ECOFLOW_* environment and the command line,
 * through telegraf_config.c.
 *
 * Input: three NUL-separated parts (fuzz_support.h): the config file's text;
 * the environment as NAME=VALUE lines; the command line, one argument per
 * line. Besides memory errors, abort() on a broken promise: an error that
 * is not one NUL-terminated message, settings out of their ranges after
 * success, or credentials taken from the command line. Files are never
 * read: secret_key_file is only checked when it is unset. */
#include "fuzz_support.h"
#include "telegraf_config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

/* The environment part as NUL-terminated NAME=VALUE entries, for lookup. */
static char *environment;
static size_t environment_len;

static const char *lookup(const char *name) {
  size_t name_len = strlen(name);
  for (size_t at = 0; at < environment_len;) {
    const char *entry = environment + at;
    if (strncmp(entry, name, name_len) == 0 && entry[name_len] == '=')
      return entry + name_len + 1;
    at += strlen(entry) + 1;
  }
  return NULL;
}

/* Splits a copy of part at newlines into lines (a NUL for each). */
static char *split_lines(const char *part, size_t *len) {
  char *copy = strdup(part ? part : "");
  if (copy == NULL)
    return NULL;
  *len = strlen(copy);
  for (char *c = copy; *c != '\0'; c++)
    if (*c == '\n')
      *c = '\0';
  return copy;
}

/* argv from lines (a last empty line is no argument), argv[0] being the
 * program. Returns argc. */
static int build_argv(char *lines, size_t len, char *argv[MAX_ARGS]) {
  int argc = 0;
  argv[argc++] = "ecoflow-telegraf";
  for (size_t at = 0; at < len && argc < MAX_ARGS; at += strlen(lines + at) + 1)
    argv[argc++] = lines + at;
  return argc;
}

/* A failure must come with one message that fits err. */
static void check_status(int status, const char *err) {
  fuzz_require(status == 0 || status == -1, "a status other than 0 or -1");
  if (status != 0)
    fuzz_require(memchr(err, '\0', TG_ERROR_LEN) != NULL && err[0] != '\0',
                 "an error without a NUL-terminated message");
}

static int valid_serial(const char *sn) {
  if (sn == NULL || *sn == '\0' || strlen(sn) > EF_SERIAL_MAX)
    return 0;
  for (; *sn != '\0'; sn++)
    if (!isalnum((unsigned char)*sn) && strchr("-_.", *sn) == NULL)
      return 0;
  return 1;
}

static int has_control(const char *text) {
  for (; text != NULL && *text != '\0'; text++)
    if (iscntrl((unsigned char)*text))
      return 1;
  return 0;
}

/* finished: tg_config_finish accepted it all (devices given twice are
 * found there). */
static void check_settings(const tg_config *config, int finished) {
  fuzz_require(config->account.endpoint != NULL &&
                   config->account.endpoint[0] != '\0',
               "no endpoint");
  fuzz_require(config->account.secret_key == NULL ||
                   config->secret_key_file == NULL,
               "both secret_key and secret_key_file");
  fuzz_require(config->account.timeout_ms >= 0 &&
                   config->account.timeout_ms <= 300 * 1000,
               "timeout out of range");
  fuzz_require(config->interval_ms >= 0 && config->interval_ms <= 86400 * 1000,
               "interval out of range");
  fuzz_require(config->account.max_concurrent <= 256,
               "max_concurrent out of range");
  const char *texts[] = {config->account.endpoint, config->account.access_key,
                         config->account.secret_key, config->account.ca_file,
                         config->history};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
    fuzz_require(!has_control(texts[i]), "a setting with a control character");
  for (size_t i = 0; i < config->n_devices; i++) {
    const tg_device *device = &config->devices[i];
    fuzz_require(valid_serial(device->sn), "a device without a valid serial");
    fuzz_require(device->name == NULL || device->name[0] != '\0',
                 "a device with an empty name");
    fuzz_require(!has_control(device->name), "a name with a control character");
    for (size_t j = 0; finished && j < i; j++)
      fuzz_require(strcmp(config->devices[j].sn, device->sn) != 0,
                   "a device given twice");
  }
}

/* The command line alone must never set a credential. */
static void check_no_credentials_from_argv(int argc, char *argv[]) {
  tg_config config;
  tg_config_init(&config);
  char err[TG_ERROR_LEN];
  const char *path = NULL;
  tg_config_apply_args(&config, argc, argv, 1, &path, err);
  fuzz_require(config.account.access_key == NULL &&
                   config.account.secret_key == NULL,
               "a credential taken from the command line");
  tg_config_free(&config);
}

static void fuzz_settings(const char *file, char *argv[], int argc) {
  tg_config config;
  tg_config_init(&config);
  char err[TG_ERROR_LEN];
  memset(err, 'x', sizeof(err)); /* so that a missing NUL shows */
  int has_secret = 0;
  const char *path = NULL;
  int status =
      tg_config_apply_text(&config, file, "fuzz.conf", &has_secret, err);
  check_status(status, err);
  if (status == 0)
    check_status(status = tg_config_apply_env(&config, lookup, err), err);
  if (status == 0)
    check_status(
        status = tg_config_apply_args(&config, argc, argv, 1, &path, err), err);
  int finished = 0;
  if (status == 0 && config.secret_key_file == NULL) {
    check_status(status = tg_config_finish(&config, err), err);
    finished =
        status == 0 && !config.help && !config.version && !config.list_metrics;
    fuzz_require(status != 0 || config.help || config.version ||
                     config.list_metrics ||
                     (config.account.access_key != NULL &&
                      config.account.secret_key != NULL),
                 "finished without both keys");
  }
  if (status == 0)
    check_settings(&config, finished);
  tg_config_free(&config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input input;
  fuzz_input_init(&input, data, size);
  if (input.text == NULL)
    return 0;
  const char *file = fuzz_input_token(&input);
  environment = split_lines(fuzz_input_token(&input), &environment_len);
  size_t args_len = 0;
  char *args = split_lines(fuzz_input_token(&input), &args_len);
  if (environment != NULL && args != NULL) {
    char *argv[MAX_ARGS];
    int argc = build_argv(args, args_len, argv);
    fuzz_settings(file, argv, argc);
    check_no_credentials_from_argv(argc, argv);
  }
  free(args);
  free(environment);
  environment = NULL;
  fuzz_input_free(&input);
  return 0;
}
