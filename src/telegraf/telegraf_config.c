/* telegraf_config.c: settings from the file, environment and command line. */
#include "telegraf_config.h"

#include "ef_history.h"
#include "ef_report.h"
#include "ef_roster.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE (64 * 1024)
#define ALL (TG_FROM_FILE | TG_FROM_ENV | TG_FROM_ARGV)
#define NOT_ARGV (TG_FROM_FILE | TG_FROM_ENV)
#define NO_OFFSET ((size_t)-1)

typedef enum {
  KIND_TEXT,    /* a string; secret_key and secret_key_file clear each other */
  KIND_SECONDS, /* a number of seconds, kept in ms */
  KIND_COUNT,   /* a whole number */
  KIND_DEVICE,  /* SN[=NAME], appended */
  KIND_LIST,    /* a word, appended to a tg_list */
  KIND_TIME,    /* a time (ef_history.h), into a tg_time */
  KIND_FLAG,    /* an int: 1 without a value (command line), else a
                   boolean word (file) */
  KIND_CONFIG,  /* --config FILE: read before everything else */
} setting_kind;

typedef struct {
  const char *key; /* in the file; on the command line with dashes */
  const char *env; /* environment variable, or NULL */
  unsigned from;   /* the tg_origin values that may set it */
  setting_kind kind;
  size_t offset;       /* of the member in tg_config */
  size_t clears;       /* of a member this one replaces, or NO_OFFSET */
  double min, max;     /* KIND_SECONDS, KIND_COUNT */
  const char *metavar; /* in --help */
  const char *help;
} setting;

#define AT(member) offsetof(tg_config, member)

static const setting settings[] = {
    {"sn", NULL, TG_FROM_FILE | TG_FROM_ARGV, KIND_DEVICE, AT(devices),
     NO_OFFSET, 0, 0, "SN[=NAME]",
     "a device's serial number, and the name to tag it with; repeat for "
     "more devices (on the command line, replaces the file's)"},
    {"quota", NULL, ALL & ~TG_FROM_ENV, KIND_LIST, AT(quotas), NO_OFFSET, 0, 0,
     "QUOTA",
     "read only this quota or group (bpSoc, pcsAPhase, ...) of the --sn "
     "devices, through POST quota: smaller answers; repeatable"},
    {"discover", NULL, ALL & ~TG_FROM_ENV, KIND_FLAG, AT(discover), NO_OFFSET,
     0, 0, NULL,
     "also read every other device of the account (device/list): the "
     "default without --sn; offline devices are skipped"},
    {"discover_refresh", NULL, ALL & ~TG_FROM_ENV, KIND_SECONDS,
     AT(discover_refresh_ms), NO_OFFSET, 1, 86400, "S",
     "with --execd, ask the account's device list again every S seconds "
     "(default 600): names, products, online flags, new devices"},
    {"endpoint", "ECOFLOW_ENDPOINT", ALL, KIND_TEXT, AT(endpoint), NO_OFFSET, 0,
     0, "URL",
     "the API host: " TG_DEFAULT_ENDPOINT " (Europe, the default), "
     "https://api-a.ecoflow.com (Americas)"},
    {"access_key", "ECOFLOW_ACCESS_KEY", NOT_ARGV, KIND_TEXT, AT(access_key),
     NO_OFFSET, 0, 0, "KEY", "the access key of the EcoFlow developer account"},
    {"secret_key", "ECOFLOW_SECRET_KEY", NOT_ARGV, KIND_TEXT, AT(secret_key),
     AT(secret_key_file), 0, 0, "KEY", "the secret key of that account"},
    {"secret_key_file", "ECOFLOW_SECRET_KEY_FILE", ALL, KIND_TEXT,
     AT(secret_key_file), AT(secret_key), 0, 0, "FILE",
     "a file holding the secret key (mode 600)"},
    {"config", NULL, TG_FROM_ARGV, KIND_CONFIG, NO_OFFSET, NO_OFFSET, 0, 0,
     "FILE",
     "read `key = value` settings (the long option names with _) "
     "from FILE"},
    {"timeout", NULL, ALL & ~TG_FROM_ENV, KIND_SECONDS, AT(timeout_ms),
     NO_OFFSET, 0.001, 3600, "S",
     "give up on a request after S seconds "
     "(default 10)"},
    {"max_concurrent", NULL, ALL & ~TG_FROM_ENV, KIND_COUNT, AT(max_concurrent),
     NO_OFFSET, 1, 1000, "N", "at most N requests in flight (default 8)"},
    {"ca_file", NULL, ALL & ~TG_FROM_ENV, KIND_TEXT, AT(ca_file), NO_OFFSET, 0,
     0, "FILE", "verify the API's certificate against the CAs in FILE"},
    {"execd", NULL, TG_FROM_ARGV, KIND_FLAG, AT(execd), NO_OFFSET, 0, 0, NULL,
     "run under inputs.execd: poll whenever a line arrives on stdin, exit at "
     "its end"},
    {"interval", NULL, ALL & ~TG_FROM_ENV, KIND_SECONDS, AT(interval_ms),
     NO_OFFSET, 0.001, 86400, "S",
     "with --execd, also poll on its own every S seconds (signal = \"none\")"},
    {"history", NULL, ALL & ~TG_FROM_ENV, KIND_TEXT, AT(history), NO_OFFSET, 0,
     0, "CODE",
     "print report CODE (e.g. JT303_Dashboard_Overview_Summary_Week) from "
     "--begin to --end as " EF_REPORT_MEASUREMENT " points, one per window "
     "of less than a week, stamped with its start, and exit"},
    {"begin", NULL, ALL & ~TG_FROM_ENV, KIND_TIME, AT(begin), NO_OFFSET, 0, 0,
     "TIME",
     "with --history: the first second, UTC \"YYYY-MM-DD HH:MM:SS\" or ISO "
     "8601 (2024-06-17T00:00:00+02:00)"},
    {"end", NULL, ALL & ~TG_FROM_ENV, KIND_TIME, AT(end), NO_OFFSET, 0, 0,
     "TIME",
     "with --history: where the backfill stops, not included (default: "
     "now); 2024-06-17 to 2024-06-24 is one week"},
    {"list_metrics", NULL, TG_FROM_ARGV, KIND_FLAG, AT(list_metrics), NO_OFFSET,
     0, 0, NULL, "print the catalog of metrics and exit"},
    {"help", NULL, TG_FROM_ARGV, KIND_FLAG, AT(help), NO_OFFSET, 0, 0, NULL,
     "print this help and exit"},
    {"version", NULL, TG_FROM_ARGV, KIND_FLAG, AT(version), NO_OFFSET, 0, 0,
     NULL, "print the version and exit"},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Words that go into requests as they are: the core says which are
 * valid. */
static const struct {
  const char *key;
  int (*valid)(const char *value);
  const char *what;
} word_checks[] = {
    {"quota", ef_roster_quota_valid,
     "a quota name (letters, digits and _.-[])"},
    {"history", ef_report_code_valid,
     "a report code (letters, digits, _ and -)"},
};

/* Why value cannot be s's, into problem; 0 when it can. */
static int check_word(const setting *s, const char *value, char *problem) {
  for (size_t i = 0; i < sizeof(word_checks) / sizeof(word_checks[0]); i++)
    if (strcmp(word_checks[i].key, s->key) == 0 && value[0] != '\0' &&
        !word_checks[i].valid(value)) {
      snprintf(problem, TG_ERROR_LEN, "\"%s\" is not %s", value,
               word_checks[i].what);
      return -1;
    }
  return 0;
}

static void fail(char *err, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, const char *origin, const char *fmt, ...) {
  int n = snprintf(err, TG_ERROR_LEN, "%s: ", origin);
  if (n < 0 || n >= TG_ERROR_LEN)
    n = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, TG_ERROR_LEN - (size_t)n, fmt, ap);
  va_end(ap);
}

static char **text_at(tg_config *config, size_t offset) {
  return (char **)((char *)config + offset);
}

static void wipe_free(char *text) {
  if (text != NULL)
    explicit_bzero(text, strlen(text));
  free(text);
}

/* A copy of text without its surrounding white space: a secret pasted
 * with a newline would otherwise fail as a wrong signature. */
static char *trimmed_copy(const char *text) {
  while (isspace((unsigned char)*text))
    text++;
  size_t len = strlen(text);
  while (len > 0 && isspace((unsigned char)text[len - 1]))
    len--;
  return strndup(text, len);
}

static const setting *find_setting(const char *key, size_t len) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strlen(settings[i].key) == len &&
        strncmp(settings[i].key, key, len) == 0)
      return &settings[i];
  return NULL;
}

void tg_config_init(tg_config *config) {
  *config = (tg_config){0};
  config->endpoint = strdup(TG_DEFAULT_ENDPOINT);
}

static void free_devices(tg_config *config) {
  for (size_t i = 0; i < config->n_devices; i++) {
    free(config->devices[i].sn);
    free(config->devices[i].name);
  }
  free(config->devices);
  config->devices = NULL;
  config->n_devices = 0;
}

static void free_list(tg_list *list) {
  for (size_t i = 0; i < list->len; i++)
    free(list->items[i]);
  free(list->items);
  *list = (tg_list){0};
}

/* Empties a repeatable setting: the command line replaces the file's. */
static void clear_repeated(tg_config *config, const setting *s) {
  if (s->kind == KIND_DEVICE)
    free_devices(config);
  else if (s->kind == KIND_LIST)
    free_list((tg_list *)((char *)config + s->offset));
}

void tg_config_free(tg_config *config) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (settings[i].kind == KIND_TEXT)
      wipe_free(*text_at(config, settings[i].offset));
    else
      clear_repeated(config, &settings[i]);
  *config = (tg_config){0};
}

static int valid_sn(const char *sn) {
  if (*sn == '\0')
    return 0;
  for (; *sn != '\0'; sn++)
    if (!isalnum((unsigned char)*sn) && strchr("-_.", *sn) == NULL)
      return 0;
  return 1;
}

static const char *check_device(const tg_config *config, const char *sn,
                                const char *name, char *problem) {
  if (!valid_sn(sn))
    snprintf(problem, TG_ERROR_LEN,
             "\"%s\" is not a serial number (letters and digits)", sn);
  else if (name != NULL && name[0] == '\0')
    snprintf(problem, TG_ERROR_LEN, "the name after \"%s=\" is empty", sn);
  else
    for (size_t i = 0; i < config->n_devices; i++)
      if (strcmp(config->devices[i].sn, sn) == 0)
        snprintf(problem, TG_ERROR_LEN, "device %s is given twice", sn);
  return problem[0] ? problem : NULL;
}

/* value is "SN" or "SN=NAME". */
static int add_device(tg_config *config, const char *value, char *problem) {
  const char *equals = strchr(value, '=');
  char *sn_part =
      strndup(value, equals ? (size_t)(equals - value) : strlen(value));
  char *sn = sn_part ? trimmed_copy(sn_part) : NULL;
  char *name = equals ? trimmed_copy(equals + 1) : NULL;
  tg_device *devices = NULL;
  problem[0] = '\0';
  if (sn == NULL || (equals && name == NULL))
    snprintf(problem, TG_ERROR_LEN, "out of memory");
  else if (check_device(config, sn, name, problem) == NULL) {
    devices =
        realloc(config->devices, (config->n_devices + 1) * sizeof(*devices));
    if (devices == NULL)
      snprintf(problem, TG_ERROR_LEN, "out of memory");
  }
  free(sn_part);
  if (devices == NULL) {
    free(sn);
    free(name);
    return -1;
  }
  config->devices = devices;
  config->devices[config->n_devices++] = (tg_device){.sn = sn, .name = name};
  return 0;
}

static int parse_number(const setting *s, const char *value, double *number,
                        char *problem) {
  char *end = NULL;
  errno = 0;
  *number = strtod(value, &end);
  int whole = s->kind != KIND_COUNT || *number == floor(*number);
  if (end == value || *end != '\0' || errno != 0 || !isfinite(*number) ||
      !whole || *number < s->min || *number > s->max) {
    snprintf(problem, TG_ERROR_LEN, "\"%s\" is not %s from %g to %g", value,
             s->kind == KIND_COUNT ? "a whole number" : "a number of seconds",
             s->min, s->max);
    return -1;
  }
  return 0;
}

static int add_to_list(tg_list *list, const char *value, char *problem) {
  for (size_t i = 0; i < list->len; i++)
    if (strcmp(list->items[i], value) == 0) {
      snprintf(problem, TG_ERROR_LEN, "\"%s\" is given twice", value);
      return -1;
    }
  char *copy = strdup(value);
  char **items =
      copy ? realloc(list->items, (list->len + 1) * sizeof(*items)) : NULL;
  if (items == NULL) {
    free(copy);
    snprintf(problem, TG_ERROR_LEN, "out of memory");
    return -1;
  }
  list->items = items;
  list->items[list->len++] = copy;
  return 0;
}

/* A flag's word in a file; none (the command line) means on. */
static int parse_flag(const char *value, int *out, char *problem) {
  static const struct {
    const char *word;
    int value;
  } words[] = {{"", 1},      {"true", 1}, {"yes", 1}, {"on", 1}, {"1", 1},
               {"false", 0}, {"no", 0},   {"off", 0}, {"0", 0}};
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if (strcasecmp(value, words[i].word) == 0) {
      *out = words[i].value;
      return 0;
    }
  snprintf(problem, TG_ERROR_LEN, "\"%s\" is not true or false", value);
  return -1;
}

/* Sets s from value (already trimmed); problem says why not. */
static int apply(tg_config *config, const setting *s, const char *value,
                 char *problem) {
  void *member = s->offset == NO_OFFSET ? NULL : (char *)config + s->offset;
  double number;
  if (check_word(s, value, problem) != 0)
    return -1;
  switch (s->kind) {
  case KIND_TEXT: {
    if (value[0] == '\0') {
      snprintf(problem, TG_ERROR_LEN, "empty");
      return -1;
    }
    char *copy = strdup(value);
    if (copy == NULL) {
      snprintf(problem, TG_ERROR_LEN, "out of memory");
      return -1;
    }
    wipe_free(*(char **)member);
    *(char **)member = copy;
    if (s->clears != NO_OFFSET) {
      wipe_free(*text_at(config, s->clears));
      *text_at(config, s->clears) = NULL;
    }
    return 0;
  }
  case KIND_SECONDS:
    if (parse_number(s, value, &number, problem) != 0)
      return -1;
    *(long *)member = lround(number * 1000);
    return 0;
  case KIND_COUNT:
    if (parse_number(s, value, &number, problem) != 0)
      return -1;
    *(unsigned *)member = (unsigned)number;
    return 0;
  case KIND_DEVICE:
    return add_device(config, value, problem);
  case KIND_LIST:
    if (value[0] == '\0') {
      snprintf(problem, TG_ERROR_LEN, "empty");
      return -1;
    }
    return add_to_list(member, value, problem);
  case KIND_TIME: {
    tg_time *time = member;
    if (ef_time_parse(value, &time->t) != 0) {
      snprintf(problem, TG_ERROR_LEN,
               "\"%s\" is not a time: \"YYYY-MM-DD HH:MM:SS\" (UTC) or ISO "
               "8601 (2024-06-17T00:00:00Z)",
               value);
      return -1;
    }
    time->set = 1;
    return 0;
  }
  case KIND_FLAG:
    return parse_flag(value, member, problem);
  case KIND_CONFIG:
    return 0;
  }
  return -1;
}

/* Why s may not come from there; the command line is refused credentials
 * with the way to give them instead. */
static void refuse(const setting *s, tg_origin from, char *problem) {
  if (from == TG_FROM_ARGV)
    snprintf(problem, TG_ERROR_LEN,
             "credentials are not accepted on the command line, where every "
             "user of this machine can read them (ps): set %s in the "
             "environment, or %s in a --config file only you can read",
             s->env, s->key);
  else
    snprintf(problem, TG_ERROR_LEN, "%s is a command-line option only", s->key);
}

static int set_found(tg_config *config, const setting *s, tg_origin from,
                     const char *origin, const char *value, char *err) {
  char problem[TG_ERROR_LEN];
  int status = -1;
  char *clean = trimmed_copy(value ? value : "");
  if (clean == NULL)
    snprintf(problem, TG_ERROR_LEN, "out of memory");
  else if ((s->from & from) == 0)
    refuse(s, from, problem);
  else
    status = apply(config, s, clean, problem);
  wipe_free(clean);
  if (status != 0)
    fail(err, origin, "%s", problem);
  return status;
}

int tg_config_set(tg_config *config, tg_origin from, const char *origin,
                  const char *key, const char *value, char *err) {
  const setting *s = find_setting(key, strlen(key));
  if (s == NULL) {
    fail(err, origin, "unknown setting \"%s\" (see --help)", key);
    return -1;
  }
  return set_found(config, s, from, origin, value, err);
}

/* `key = value` (or `key = "value"`, as in TOML), a blank line or a
 * `# comment`. */
static int apply_line(tg_config *config, char *line, const char *where,
                      int *has_secret, char *err) {
  char *key = line + strspn(line, " \t\r");
  if (*key == '\0' || *key == '#')
    return 0;
  char *equals = strchr(key, '=');
  if (equals == NULL) {
    fail(err, where, "expected `key = value`");
    return -1;
  }
  *equals = '\0';
  char *name = trimmed_copy(key), *value = trimmed_copy(equals + 1);
  int status = -1;
  if (name == NULL || value == NULL) {
    fail(err, where, "out of memory");
  } else {
    size_t len = strlen(value);
    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
      value[len - 1] = '\0';
      memmove(value, value + 1, len - 1);
    }
    status = tg_config_set(config, TG_FROM_FILE, where, name, value, err);
    *has_secret |= status == 0 && strcmp(name, "secret_key") == 0;
  }
  free(name);
  wipe_free(value);
  return status;
}

int tg_config_apply_text(tg_config *config, const char *text,
                         const char *origin, int *has_secret, char *err) {
  *has_secret = 0;
  int line_no = 0;
  for (const char *line = text; *line != '\0';) {
    size_t len = strcspn(line, "\n");
    char where[TG_ERROR_LEN / 2];
    snprintf(where, sizeof(where), "%s:%d", origin, ++line_no);
    char *copy = strndup(line, len);
    int status = copy ? apply_line(config, copy, where, has_secret, err) : -1;
    if (copy == NULL)
      fail(err, where, "out of memory");
    wipe_free(copy);
    if (status != 0)
      return -1;
    line += len + (line[len] == '\n');
  }
  return 0;
}

int tg_config_apply_env(tg_config *config,
                        const char *(*lookup)(const char *name), char *err) {
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const setting *s = &settings[i];
    const char *value = s->env ? lookup(s->env) : NULL;
    if (value != NULL && value[0] != '\0' &&
        set_found(config, s, TG_FROM_ENV, s->env, value, err) != 0)
      return -1;
  }
  return 0;
}

int tg_config_apply_args(tg_config *config, int argc, char *const argv[],
                         int apply_settings, const char **config_path,
                         char *err) {
  unsigned long replaced = 0; /* bit i: settings[i]'s file values dropped */
  int interval_given = 0, refresh_given = 0;
  *config_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0)
      arg = "--help";
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
      fail(err, arg, "unexpected argument (see --help)");
      return -1;
    }
    char key[64];
    size_t len = strcspn(arg + 2, "=");
    snprintf(key, sizeof(key), "%.*s", (int)len, arg + 2);
    for (char *c = key; *c != '\0'; c++)
      *c = *c == '-' ? '_' : *c;
    const setting *s = find_setting(key, strlen(key));
    if (s == NULL) {
      fail(err, arg, "unknown option (see --help)");
      return -1;
    }
    const char *value = arg[2 + len] == '=' ? arg + 3 + len : NULL;
    if (s->kind == KIND_FLAG && value != NULL) {
      fail(err, arg, "takes no value");
      return -1;
    }
    if (s->kind != KIND_FLAG && value == NULL && (s->from & TG_FROM_ARGV)) {
      if (i + 1 == argc) {
        fail(err, arg, "needs a value: --%.*s %s", (int)len, arg + 2,
             s->metavar);
        return -1;
      }
      value = argv[++i];
    }
    if (s->kind == KIND_CONFIG)
      *config_path = value;
    if (!apply_settings && (s->from & TG_FROM_ARGV))
      continue;
    unsigned long bit = 1UL << (s - settings);
    if ((s->kind == KIND_DEVICE || s->kind == KIND_LIST) && !(replaced & bit)) {
      clear_repeated(config, s);
      replaced |= bit;
    }
    interval_given |= s->offset == AT(interval_ms);
    refresh_given |= s->offset == AT(discover_refresh_ms);
    char origin[80];
    snprintf(origin, sizeof(origin), "--%.*s", (int)len, arg + 2);
    if (set_found(config, s, TG_FROM_ARGV, origin, value, err) != 0)
      return -1;
  }
  if ((interval_given || refresh_given) && !config->execd) {
    fail(err, interval_given ? "--interval" : "--discover-refresh",
         "only applies with --execd");
    return -1;
  }
  return 0;
}

int tg_config_check_private(const char *path, mode_t mode, char *err) {
  if ((mode & (S_IRWXG | S_IRWXO)) == 0)
    return 0;
  fail(err, path,
       "holds a secret but is open to group or others (mode %04o): run "
       "`chmod 600 %s` (and let it belong to the user Telegraf runs as)",
       (unsigned)(mode & 07777), path);
  return -1;
}

char *tg_config_read_file(const char *path, mode_t *mode, char *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    fail(err, path, "%s", strerror(errno));
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  *mode = st.st_mode;
  char *text = NULL;
  if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
    fail(err, path, "not a regular file of at most %d bytes", MAX_FILE_SIZE);
  } else {
    text = calloc(1, (size_t)st.st_size + 1);
    ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
    if (got != st.st_size) {
      fail(err, path, "%s", got < 0 ? strerror(errno) : "changed while read");
      free(text);
      text = NULL;
    }
  }
  close(fd);
  return text;
}

/* Reads a file that holds a secret, which only its owner may read. */
static char *read_private(const char *path, char *err) {
  mode_t mode;
  char *text = tg_config_read_file(path, &mode, err);
  if (text != NULL && tg_config_check_private(path, mode, err) != 0) {
    wipe_free(text);
    return NULL;
  }
  return text;
}

/* Only a config file that holds a secret must be private: known once it
 * is parsed. */
static int apply_file(tg_config *config, const char *path, char *err) {
  mode_t mode;
  char *text = tg_config_read_file(path, &mode, err);
  if (text == NULL)
    return -1;
  int has_secret = 0;
  int status = tg_config_apply_text(config, text, path, &has_secret, err);
  wipe_free(text);
  if (status == 0 && has_secret)
    status = tg_config_check_private(path, mode, err);
  return status;
}

int tg_config_load(tg_config *config, int argc, char *const argv[],
                   const char *(*lookup)(const char *name), char *err) {
  const char *path = NULL;
  if (tg_config_apply_args(config, argc, argv, 0, &path, err) != 0)
    return -1;
  if (path != NULL && apply_file(config, path, err) != 0)
    return -1;
  if (tg_config_apply_env(config, lookup, err) != 0 ||
      tg_config_apply_args(config, argc, argv, 1, &path, err) != 0)
    return -1;
  return tg_config_finish(config, err);
}

/* The settings that only mean something with others. */
static int check_together(const tg_config *config, char *err) {
  if (config->quotas.len > 0 && config->n_devices == 0)
    fail(err, "--quota",
         "applies to the devices named with --sn (other models have other "
         "quotas): name them");
  else if ((config->begin.set || config->end.set) && config->history == NULL)
    fail(err, config->begin.set ? "--begin" : "--end",
         "only applies with --history");
  else if (config->history != NULL && config->execd)
    fail(err, "--history", "prints a backfill and exits: not with --execd");
  else if (config->history != NULL && !config->begin.set)
    fail(err, "--history", "needs --begin TIME (and --end TIME, or now)");
  else if (config->end.set && config->end.t <= config->begin.t)
    fail(err, "--end", "is not after --begin");
  else
    return 0;
  return -1;
}

int tg_config_finish(tg_config *config, char *err) {
  if (config->help || config->version || config->list_metrics)
    return 0;
  if (config->secret_key_file != NULL) {
    char *text = read_private(config->secret_key_file, err);
    if (text == NULL)
      return -1;
    wipe_free(config->secret_key);
    config->secret_key = trimmed_copy(text);
    wipe_free(text);
    if (config->secret_key == NULL || config->secret_key[0] == '\0') {
      fail(err, config->secret_key_file, "holds no secret key");
      return -1;
    }
  }
  if (config->access_key == NULL || config->secret_key == NULL) {
    fail(err, "configuration",
         "no %s: set %s in the environment, or %s in the --config file",
         config->access_key == NULL ? "access key" : "secret key",
         config->access_key == NULL ? "ECOFLOW_ACCESS_KEY"
                                    : "ECOFLOW_SECRET_KEY",
         config->access_key == NULL ? "access_key"
                                    : "secret_key or secret_key_file");
    return -1;
  }
  return check_together(config, err);
}

/* "  LEAD  text", text wrapped at 79 columns under itself. */
static void print_item(FILE *out, const char *lead, const char *text) {
  enum { INDENT = 26, WIDTH = 79 };
  int column = fprintf(out, "  %s", lead);
  if (column + 1 > INDENT)
    column = fprintf(out, "\n") - 1;
  column += fprintf(out, "%*s", INDENT - column, "");
  for (int first = 1;; first = 0) {
    text += strspn(text, " ");
    int word = (int)strcspn(text, " ");
    if (word == 0)
      break;
    if (!first && column + 1 + word > WIDTH)
      column = fprintf(out, "\n%*s", INDENT, "") - 1;
    else if (!first)
      column += fprintf(out, " ");
    column += fprintf(out, "%.*s", word, text);
    text += word;
  }
  fputc('\n', out);
}

void tg_config_usage(FILE *out) {
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const setting *s = &settings[i];
    if ((s->from & TG_FROM_ARGV) == 0)
      continue;
    char option[64];
    int n = snprintf(option, sizeof(option), "--%s%s%s", s->key,
                     s->metavar ? " " : "", s->metavar ? s->metavar : "");
    for (int c = 2; c < n && option[c] != ' '; c++)
      option[c] = option[c] == '_' ? '-' : option[c];
    print_item(out, option, s->help);
  }
  fputs("\nFrom the environment, or as `key = value` in the --config file "
        "(credentials\nonly there: on the command line every user could read "
        "them):\n",
        out);
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (settings[i].env != NULL) {
      char text[TG_ERROR_LEN];
      snprintf(text, sizeof(text), "%s: %s", settings[i].key, settings[i].help);
      print_item(out, settings[i].env, text);
    }
}
