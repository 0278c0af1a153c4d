/* ecoflow_config.c: <Plugin ecoflow> -> ecoflow_config, refusing at start-up
 * whatever would otherwise fail later, one readable message at a time. */
#include "ecoflow_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* EcoFlow keys are 32 characters; a file this large holds something else. */
#define SECRET_FILE_MAX 4096
#define TIMEOUT_MAX_S 300.0
#define MAX_CONCURRENT_MAX 64

#define ACCOUNT_OPTIONS                                                        \
  "AccessKey, SecretKey, SecretKeyFile, Endpoint, Timeout, MaxConcurrent, "    \
  "CAFile, <Device>"

typedef struct {
  ecoflow_report_fn report;
  void *report_ctx;
  ecoflow_config *config;
  double default_interval_s;
  bool default_interval_used;
} parser;

static void report(const parser *p, ecoflow_severity severity,
                   const char *format, va_list ap) {
  char message[1024] = "ecoflow plugin: ";
  size_t prefix = strlen(message);
  vsnprintf(message + prefix, sizeof(message) - prefix, format, ap);
  p->report(severity, message, p->report_ctx);
}

/* Reports an error and returns -1, so that `return fail(...)` ends a check. */
__attribute__((format(printf, 2, 3))) static int
fail(const parser *p, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  report(p, ECOFLOW_CONFIG_ERROR, format, ap);
  va_end(ap);
  return -1;
}

__attribute__((format(printf, 2, 3))) static void
warn(const parser *p, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  report(p, ECOFLOW_CONFIG_WARNING, format, ap);
  va_end(ap);
}

static void wipe_and_free(char *secret) {
  if (secret != NULL)
    explicit_bzero(secret, strlen(secret));
  free(secret);
}

static char *trimmed_copy(const char *text, size_t len) {
  while (len > 0 && isspace((unsigned char)text[0])) {
    text++;
    len--;
  }
  while (len > 0 && isspace((unsigned char)text[len - 1]))
    len--;
  return strndup(text, len);
}

static bool has_space_or_control(const char *text) {
  for (; *text != '\0'; text++)
    if (isspace((unsigned char)*text) || iscntrl((unsigned char)*text))
      return true;
  return false;
}

/* The single string argument of item (a block's name, or an option's
 * value), trimmed and not empty, into *out, which must still be unset:
 * an option given twice is refused rather than silently overridden. */
static int get_string(const parser *p, const oconfig_item_t *item,
                      const char *where, char **out) {
  if (*out != NULL)
    return fail(p, "`%s' is given twice in %s", item->key, where);
  if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_STRING)
    return fail(p, "`%s' in %s needs exactly one argument, in double quotes",
                item->key, where);
  const char *text = item->values[0].value.string;
  *out = trimmed_copy(text, strlen(text));
  if (*out == NULL)
    return fail(p, "out of memory");
  if ((*out)[0] == '\0')
    return fail(p, "`%s' in %s is empty", item->key, where);
  return 0;
}

/* The single number argument of item, within [min, max], into *out, which
 * must still be 0 (unset). */
static int get_number(const parser *p, const oconfig_item_t *item,
                      const char *where, double min, double max,
                      double *out) {
  if (*out != 0)
    return fail(p, "`%s' is given twice in %s", item->key, where);
  if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_NUMBER)
    return fail(p, "`%s' in %s needs exactly one number, without quotes",
                item->key, where);
  double value = item->values[0].value.number;
  if (!(value >= min && value <= max))
    return fail(p, "`%s' in %s is %g: it must be between %g and %g",
                item->key, where, value, min, max);
  *out = value;
  return 0;
}

/* Names become plugin instances and read-callback names: collectd splits
 * identifiers at '/', and keeps at most ECOFLOW_NAME_MAX characters. */
static int check_name(const parser *p, const char *what, const char *name,
                      const char *where) {
  if (strlen(name) > ECOFLOW_NAME_MAX)
    return fail(p, "%s \"%s\" in %s is longer than %d characters", what, name,
                where, ECOFLOW_NAME_MAX);
  for (const char *c = name; *c != '\0'; c++)
    if (*c == '/' || iscntrl((unsigned char)*c))
      return fail(p, "%s \"%s\" in %s contains '/' or a control character",
                  what, name, where);
  return 0;
}

/* A serial number goes into the request's query string and is signed as
 * it is: only the characters EcoFlow serials are made of. */
static int check_serial(const parser *p, const char *serial) {
  for (const char *c = serial; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && strchr("-_.", *c) == NULL)
      return fail(p,
                  "<Device \"%s\">: a serial number has only letters, digits, "
                  "'-', '_' and '.'",
                  serial);
  if (strlen(serial) > ECOFLOW_NAME_MAX)
    return fail(p, "<Device \"%s\">: serial number too long", serial);
  return 0;
}

static int check_key(const parser *p, const char *option, const char *key,
                     const char *where) {
  if (has_space_or_control(key))
    return fail(p,
                "`%s' in %s contains whitespace: copy the key again from the "
                "EcoFlow developer portal",
                option, where);
  return 0;
}

/* Strips trailing slashes, so that paths append cleanly. */
static int check_endpoint(const parser *p, char *endpoint, const char *where) {
  const char *host = NULL;
  if (strncasecmp(endpoint, "https://", 8) == 0)
    host = endpoint + 8;
  else if (strncasecmp(endpoint, "http://", 7) == 0)
    host = endpoint + 7;
  if (host == NULL || *host == '\0' || *host == '/' ||
      has_space_or_control(endpoint))
    return fail(p,
                "`Endpoint' in %s is \"%s\": it must be an http:// or "
                "https:// URL such as \"" ECOFLOW_DEFAULT_ENDPOINT "\"",
                where, endpoint);
  size_t len = strlen(endpoint);
  while (len > 0 && endpoint[len - 1] == '/')
    endpoint[--len] = '\0';
  return 0;
}

/* path as a shell word, so that the advice can be pasted as it is. */
static void shell_quote(const char *path, char *out, size_t size) {
  bool plain = path[0] != '\0';
  for (const char *c = path; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && strchr("/._-+,:@%", *c) == NULL)
      plain = false;
  if (plain) {
    snprintf(out, size, "%s", path);
    return;
  }
  size_t n = 0;
  out[n++] = '\'';
  for (const char *c = path; *c != '\0' && n + 5 < size; c++) {
    if (*c == '\'') {
      memcpy(out + n, "'\\''", 4);
      n += 4;
    } else {
      out[n++] = *c;
    }
  }
  out[n++] = '\'';
  out[n] = '\0';
}

/* Reads the secret from path into *out, trimmed: editors add a newline.
 * Refuses a file that other users can read, since whoever reads the
 * secret can sign requests for the whole account. */
static int read_secret_file(const parser *p, const char *path,
                            const char *where, char **out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(p, "cannot open `SecretKeyFile' \"%s\" in %s: %s", path, where,
                strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(p, "`SecretKeyFile' \"%s\" in %s is not a regular file", path,
                where);
  }
  if (st.st_mode & (S_IRGRP | S_IROTH)) {
    close(fd);
    char quoted[1024];
    shell_quote(path, quoted, sizeof(quoted));
    return fail(p,
                "`SecretKeyFile' \"%s\" in %s can be read by other users "
                "(mode %04o); make it private: chmod 600 %s",
                path, where, (unsigned)(st.st_mode & 07777), quoted);
  }

  char buffer[SECRET_FILE_MAX + 1];
  size_t len = 0;
  ssize_t got;
  while (len < sizeof(buffer) &&
         (got = read(fd, buffer + len, sizeof(buffer) - len)) != 0) {
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      int error = errno;
      close(fd);
      explicit_bzero(buffer, len);
      return fail(p, "cannot read `SecretKeyFile' \"%s\" in %s: %s", path,
                  where, strerror(error));
    }
    len += (size_t)got;
  }
  close(fd);
  if (len > SECRET_FILE_MAX) {
    explicit_bzero(buffer, len);
    return fail(p, "`SecretKeyFile' \"%s\" in %s is too large to hold a key",
                path, where);
  }
  *out = trimmed_copy(buffer, strnlen(buffer, len));
  explicit_bzero(buffer, len);
  if (*out == NULL)
    return fail(p, "out of memory");
  if ((*out)[0] == '\0')
    return fail(p, "`SecretKeyFile' \"%s\" in %s is empty", path, where);
  return 0;
}

static void device_clear(ecoflow_device *device) {
  free(device->serial);
  free(device->name);
}

/* The device configured under serial or name, in config or in account
 * (the account being parsed), or NULL. */
static const ecoflow_device *find_device(const ecoflow_config *config,
                                         const ecoflow_account *account,
                                         const char *serial,
                                         const char *name) {
  for (size_t a = 0; a <= config->n_accounts; a++) {
    const ecoflow_account *in =
        a < config->n_accounts ? config->accounts[a] : account;
    for (size_t d = 0; d < in->n_devices; d++)
      if (strcmp(in->devices[d].serial, serial) == 0 ||
          strcmp(in->devices[d].name, name) == 0)
        return &in->devices[d];
  }
  return NULL;
}

static int device_parse(parser *p, ecoflow_device *device,
                        const ecoflow_account *account,
                        const oconfig_item_t *block, const char *account_where) {
  if (get_string(p, block, account_where, &device->serial) != 0 ||
      check_serial(p, device->serial) != 0)
    return -1;
  char where[ECOFLOW_NAME_MAX + 16];
  snprintf(where, sizeof(where), "<Device \"%s\">", device->serial);

  for (int i = 0; i < block->children_num; i++) {
    const oconfig_item_t *child = block->children + i;
    int status;
    if (strcasecmp(child->key, "Name") == 0)
      status = get_string(p, child, where, &device->name) ||
               check_name(p, "`Name'", device->name, where);
    else if (strcasecmp(child->key, "Interval") == 0)
      status = get_number(p, child, where, 0.001, 86400, &device->interval_s);
    else
      status = fail(p, "unknown option `%s' in %s (known: Name, Interval)",
                    child->key, where);
    if (status != 0)
      return -1;
  }

  if (device->name == NULL && (device->name = strdup(device->serial)) == NULL)
    return fail(p, "out of memory");
  const ecoflow_device *twin =
      find_device(p->config, account, device->serial, device->name);
  if (twin != NULL && strcmp(twin->serial, device->serial) == 0)
    return fail(p, "%s is configured twice", where);
  if (twin != NULL)
    return fail(p,
                "%s and <Device \"%s\"> are both named \"%s\": each device "
                "needs its own `Name' (it is the plugin instance)",
                where, twin->serial, device->name);

  if (device->interval_s == 0) {
    device->interval_s = p->default_interval_s;
    p->default_interval_used = true;
  } else if (device->interval_s < ECOFLOW_MIN_INTERVAL_S) {
    warn(p,
         "`Interval' %g in %s is below %g s: polling every %g s instead "
         "(the EcoFlow cloud blocks accounts that poll faster)",
         device->interval_s, where, ECOFLOW_MIN_INTERVAL_S,
         ECOFLOW_MIN_INTERVAL_S);
  }
  if (device->interval_s < ECOFLOW_MIN_INTERVAL_S)
    device->interval_s = ECOFLOW_MIN_INTERVAL_S;
  return 0;
}

static int account_add_device(parser *p, ecoflow_account *account,
                              const oconfig_item_t *block,
                              const char *account_where) {
  ecoflow_device device = {0};
  if (device_parse(p, &device, account, block, account_where) != 0) {
    device_clear(&device);
    return -1;
  }
  ecoflow_device *grown = realloc(
      account->devices, (account->n_devices + 1) * sizeof(*account->devices));
  if (grown == NULL) {
    device_clear(&device);
    return fail(p, "out of memory");
  }
  account->devices = grown;
  account->devices[account->n_devices++] = device;
  return 0;
}

static int account_option(parser *p, ecoflow_account *account,
                          const oconfig_item_t *child, const char *where) {
  const char *key = child->key;
  if (strcasecmp(key, "AccessKey") == 0)
    return get_string(p, child, where, &account->access_key) ||
           check_key(p, key, account->access_key, where);
  if (strcasecmp(key, "SecretKey") == 0 ||
      strcasecmp(key, "SecretKeyFile") == 0) {
    if (account->secret_key != NULL)
      return fail(p,
                  "%s gives the secret key twice: use one `SecretKey' or one "
                  "`SecretKeyFile'",
                  where);
    if (strcasecmp(key, "SecretKey") == 0)
      return get_string(p, child, where, &account->secret_key) ||
             check_key(p, key, account->secret_key, where);
    char *path = NULL;
    int status = get_string(p, child, where, &path) ||
                 read_secret_file(p, path, where, &account->secret_key) ||
                 check_key(p, key, account->secret_key, where);
    free(path);
    return status;
  }
  if (strcasecmp(key, "Endpoint") == 0)
    return get_string(p, child, where, &account->endpoint) ||
           check_endpoint(p, account->endpoint, where);
  if (strcasecmp(key, "CAFile") == 0) {
    if (get_string(p, child, where, &account->ca_file) != 0)
      return -1;
    if (access(account->ca_file, R_OK) != 0)
      return fail(p, "cannot read `CAFile' \"%s\" in %s: %s", account->ca_file,
                  where, strerror(errno));
    return 0;
  }
  if (strcasecmp(key, "Timeout") == 0) {
    double seconds = account->timeout_ms / 1000.0;
    int status = get_number(p, child, where, 0.001, TIMEOUT_MAX_S, &seconds);
    account->timeout_ms = (long)(seconds * 1000 + 0.5);
    return status;
  }
  if (strcasecmp(key, "MaxConcurrent") == 0) {
    double count = account->max_concurrent;
    if (get_number(p, child, where, 1, MAX_CONCURRENT_MAX, &count) != 0)
      return -1;
    if (count != (unsigned)count)
      return fail(p, "`MaxConcurrent' in %s must be a whole number", where);
    account->max_concurrent = (unsigned)count;
    return 0;
  }
  if (strcasecmp(key, "Device") == 0)
    return account_add_device(p, account, child, where);
  if (strcasecmp(key, "Account") == 0)
    return fail(p, "<Account> blocks cannot be nested (found in %s)", where);
  return fail(p, "unknown option `%s' in %s (known: " ACCOUNT_OPTIONS ")", key,
              where);
}

/* Everything an account needs that has no default. */
static int account_check(const parser *p, const ecoflow_account *account,
                         const char *where) {
  if (account->access_key == NULL)
    return fail(p,
                "%s has no `AccessKey': create a key pair on the EcoFlow "
                "developer portal",
                where);
  if (account->secret_key == NULL)
    return fail(p, "%s has no `SecretKey' or `SecretKeyFile'", where);
  if (account->n_devices == 0)
    return fail(p, "%s has no <Device \"SERIAL\"> block: nothing to poll",
                where);
  return 0;
}

static int account_fill_defaults(const parser *p, ecoflow_account *account) {
  if (account->endpoint == NULL &&
      (account->endpoint = strdup(ECOFLOW_DEFAULT_ENDPOINT)) == NULL)
    return fail(p, "out of memory");
  return 0;
}

static int config_append(const parser *p, ecoflow_account *account) {
  ecoflow_config *config = p->config;
  ecoflow_account **grown = realloc(
      config->accounts, (config->n_accounts + 1) * sizeof(*config->accounts));
  if (grown == NULL)
    return fail(p, "out of memory");
  config->accounts = grown;
  config->accounts[config->n_accounts++] = account;
  return 0;
}

/* Parses the options of block (an <Account>, or <Plugin ecoflow> itself
 * for the single-account form) into a new account named name. */
static int account_parse(parser *p, const oconfig_item_t *block,
                         const char *name, const char *where) {
  for (size_t a = 0; a < p->config->n_accounts; a++)
    if (strcmp(p->config->accounts[a]->name, name) == 0)
      return fail(p,
                  "account \"%s\" is configured twice: give each account "
                  "its own <Account \"name\"> block",
                  name);

  ecoflow_account *account = calloc(1, sizeof(*account));
  if (account == NULL || (account->name = strdup(name)) == NULL) {
    free(account);
    return fail(p, "out of memory");
  }
  int status = 0;
  for (int i = 0; status == 0 && i < block->children_num; i++)
    status = account_option(p, account, block->children + i, where);
  if (status == 0)
    status = account_check(p, account, where) ||
             account_fill_defaults(p, account) || config_append(p, account);
  if (status != 0) {
    ecoflow_account_free(account);
    return -1;
  }
  return 0;
}

static int account_block_parse(parser *p, const oconfig_item_t *block) {
  char *name = NULL;
  if (get_string(p, block, "<Plugin ecoflow>", &name) != 0 ||
      check_name(p, "<Account>", name, "<Plugin ecoflow>") != 0) {
    free(name);
    return -1;
  }
  char where[ECOFLOW_NAME_MAX + 16];
  snprintf(where, sizeof(where), "<Account \"%s\">", name);
  int status = account_parse(p, block, name, where);
  free(name);
  return status;
}

int ecoflow_config_parse(ecoflow_config *config, const oconfig_item_t *ci,
                         double default_interval_s, ecoflow_report_fn report,
                         void *report_ctx) {
  parser p = {
      .report = report,
      .report_ctx = report_ctx,
      .config = config,
      .default_interval_s = default_interval_s,
  };

  const oconfig_item_t *outside = NULL;
  int n_account_blocks = 0;
  for (int i = 0; i < ci->children_num; i++) {
    if (strcasecmp(ci->children[i].key, "Account") == 0)
      n_account_blocks++;
    else if (outside == NULL)
      outside = ci->children + i;
  }
  if (n_account_blocks > 0 && outside != NULL)
    return fail(&p,
                "`%s' is outside any <Account> block: once <Account> blocks "
                "are used, every option and <Device> goes inside one",
                outside->key);

  int status = 0;
  if (n_account_blocks == 0)
    status = account_parse(&p, ci, ECOFLOW_DEFAULT_ACCOUNT, "<Plugin ecoflow>");
  else
    for (int i = 0; status == 0 && i < ci->children_num; i++)
      status = account_block_parse(&p, ci->children + i);
  if (status != 0)
    return -1;

  if (p.default_interval_used && default_interval_s < ECOFLOW_MIN_INTERVAL_S)
    warn(&p,
         "the plugin's interval (%g s) is below %g s: devices without "
         "`Interval' are polled every %g s (the EcoFlow cloud blocks "
         "accounts that poll faster)",
         default_interval_s, ECOFLOW_MIN_INTERVAL_S, ECOFLOW_MIN_INTERVAL_S);
  return 0;
}

void ecoflow_account_free(ecoflow_account *account) {
  if (account == NULL)
    return;
  for (size_t i = 0; i < account->n_devices; i++)
    device_clear(account->devices + i);
  free(account->devices);
  free(account->name);
  free(account->endpoint);
  free(account->access_key);
  wipe_and_free(account->secret_key);
  free(account->ca_file);
  free(account);
}

void ecoflow_config_free(ecoflow_config *config) {
  for (size_t i = 0; i < config->n_accounts; i++)
    ecoflow_account_free(config->accounts[i]);
  free(config->accounts);
  config->accounts = NULL;
  config->n_accounts = 0;
}
