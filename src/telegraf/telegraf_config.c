/* telegraf_config.c: settings from the file, environment and command line. */
#include "telegraf_config.h"

#include "ef_engine.h"
#include "ef_history.h"
#include "ef_number.h"
#include "ef_report.h"
#include "ef_roster.h"
#include "ef_text.h"

#include <ctype.h>
#include <errno.h>
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
  KIND_NUMBER,  /* a number the setting's check keeps */
  KIND_DEVICE,  /* SN[=NAME], appended */
  KIND_LIST,    /* a word, appended to a tg_list */
  KIND_TIME,    /* a time (ef_history.h), into a tg_time */
  KIND_FLAG,    /* an int: 1 without a value (command line), else a
                   boolean word (file) */
  KIND_CONFIG,  /* --config FILE: read before everything else */
} setting_kind;

/* The verdict on a text value: 0 with the kept value in *out (malloc'ed),
 * or -1 with problem filled (EF_PROBLEM_LEN). */
typedef int (*text_check)(const char *value, char **out, char *problem);
/* The verdict on a number: 0 with it kept at member, or -1. */
typedef int (*number_check)(double value, void *member, char *problem);
/* 1 when a word can go into a request as it is. */
typedef int (*word_check)(const char *value);

typedef struct {
  const char *key; /* in the file; on the command line with dashes */
  const char *env; /* environment variable, or NULL */
  unsigned from;   /* the tg_origin values that may set it */
  setting_kind kind;
  size_t offset;       /* of the member in tg_config */
  size_t clears;       /* of a member this one replaces, or NO_OFFSET */
  double min, max;     /* KIND_SECONDS */
  text_check text;     /* KIND_TEXT: NULL keeps the text as it is */
  number_check number; /* KIND_NUMBER */
  word_check word;     /* KIND_TEXT, KIND_LIST: what requests accept */
  const char *what;    /* what the word must be, in a refusal */
  const char *metavar; /* in --help */
  const char *help;
} setting;

#define AT(member) offsetof(tg_config, member)

static int check_access_key(const char *value, char **out, char *problem) {
  return ef_account_key(value, "access key", out, problem);
}

static int check_secret_key(const char *value, char **out, char *problem) {
  return ef_account_key(value, "secret key", out, problem);
}

static int check_timeout(double value, void *member, char *problem) {
  return ef_account_timeout(value, member, problem);
}

static int check_max_concurrent(double value, void *member, char *problem) {
  return ef_account_max_concurrent(value, member, problem);
}

static int check_push_refresh(double value, void *member, char *problem) {
  return ef_account_push_refresh(value, member, problem);
}

static int check_push_silence(double value, void *member, char *problem) {
  return ef_account_push_silence(value, member, problem);
}

static int check_max_unknown(double value, void *member, char *problem) {
  return ef_account_max_unknown(value, member, problem);
}

static int check_counter_glitch(double value, void *member, char *problem) {
  return ef_account_counter_glitch(value, member, problem);
}

/* Kept as text; tg_config_finish puts it into the account. */
static int check_shard(const char *value, char **out, char *problem) {
  unsigned index, count;
  if (ef_account_shard(value, &index, &count, problem) != 0)
    return -1;
  if ((*out = strdup(value)) == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return -1;
  }
  return 0;
}

static int check_max_windows(double value, void *member, char *problem) {
  if (!(value >= 1 && value <= EF_BACKFILL_MAX_WINDOWS) ||
      value != (long)value) {
    snprintf(problem, EF_PROBLEM_LEN, "not a whole number from 1 to %d",
             EF_BACKFILL_MAX_WINDOWS);
    return -1;
  }
  *(long *)member = (long)value;
  return 0;
}

static const setting settings[] = {
    {"sn", NULL, TG_FROM_FILE | TG_FROM_ARGV, KIND_DEVICE, AT(devices),
     NO_OFFSET, 0, 0, NULL, NULL, NULL, NULL, "SN[=NAME]",
     "a device's serial number, and the name to tag it with; repeat for "
     "more devices (on the command line, replaces the file's)"},
    {"quota", NULL, ALL & ~TG_FROM_ENV, KIND_LIST, AT(quotas), NO_OFFSET, 0, 0,
     NULL, NULL, ef_roster_quota_valid,
     "a quota name (letters, digits and _.-[])", "QUOTA",
     "read only this quota or group (bpSoc, pcsAPhase, ...) of the --sn "
     "devices, through POST quota: smaller answers; repeatable"},
    {"discover", NULL, ALL & ~TG_FROM_ENV, KIND_FLAG, AT(discover), NO_OFFSET,
     0, 0, NULL, NULL, NULL, NULL, NULL,
     "also read every other device of the account (device/list): the "
     "default without --sn; offline devices are skipped"},
    {"discover_refresh", NULL, ALL & ~TG_FROM_ENV, KIND_SECONDS,
     AT(discover_refresh_ms), NO_OFFSET, 1, 86400, NULL, NULL, NULL, NULL, "S",
     "with --execd, ask the account's device list again every S seconds "
     "(default 600): names, products, online flags, new devices"},
    {"endpoint", "ECOFLOW_ENDPOINT", ALL, KIND_TEXT, AT(account.endpoint),
     NO_OFFSET, 0, 0, ef_account_endpoint, NULL, NULL, NULL, "URL",
     "the API host: " TG_DEFAULT_ENDPOINT " (Europe, the default), "
     "https://api-a.ecoflow.com (Americas)"},
    {"access_key", "ECOFLOW_ACCESS_KEY", NOT_ARGV, KIND_TEXT,
     AT(account.access_key), NO_OFFSET, 0, 0, check_access_key, NULL, NULL,
     NULL, "KEY", "the access key of the EcoFlow developer account"},
    {"secret_key", "ECOFLOW_SECRET_KEY", NOT_ARGV, KIND_TEXT,
     AT(account.secret_key), AT(secret_key_file), 0, 0, check_secret_key, NULL,
     NULL, NULL, "KEY", "the secret key of that account"},
    {"secret_key_file", "ECOFLOW_SECRET_KEY_FILE", ALL, KIND_TEXT,
     AT(secret_key_file), AT(account.secret_key), 0, 0, NULL, NULL, NULL, NULL,
     "FILE",
     "a file holding the secret key: mode 600, or 640 when root owns it and "
     "its group is this program's"},
    {"config", NULL, TG_FROM_ARGV, KIND_CONFIG, NO_OFFSET, NO_OFFSET, 0, 0,
     NULL, NULL, NULL, NULL, "FILE",
     "read `key = value` settings (the long option names with _) "
     "from FILE"},
    {"timeout", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER, AT(account.timeout_ms),
     NO_OFFSET, 0, 0, NULL, check_timeout, NULL, NULL, "S",
     "give up on a request after S seconds (default 10, at most 300)"},
    {"max_concurrent", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER,
     AT(account.max_concurrent), NO_OFFSET, 0, 0, NULL, check_max_concurrent,
     NULL, NULL, "N", "at most N requests in flight (default 8, at most 256)"},
    {"ca_file", NULL, ALL & ~TG_FROM_ENV, KIND_TEXT, AT(account.ca_file),
     NO_OFFSET, 0, 0, ef_account_ca_file, NULL, NULL, NULL, "FILE",
     "verify the API's certificate against the CAs in FILE"},
    {"execd", NULL, TG_FROM_ARGV, KIND_FLAG, AT(execd), NO_OFFSET, 0, 0, NULL,
     NULL, NULL, NULL, NULL,
     "run under inputs.execd: poll whenever a line arrives on stdin, exit at "
     "its end"},
    {"mqtt", NULL, ALL & ~TG_FROM_ENV, KIND_FLAG, AT(mqtt), NO_OFFSET, 0, 0,
     NULL, NULL, NULL, NULL, NULL,
     "with --execd, push mode: subscribe to the devices' MQTT messages and "
     "print their values as they arrive (stamped with their arrival); each "
     "device is read over HTTP once, then every --mqtt-refresh"},
    {"mqtt_client_id_suffix", NULL, ALL & ~TG_FROM_ENV, KIND_TEXT,
     AT(mqtt_suffix), NO_OFFSET, 0, 0, ef_account_push_suffix, NULL, NULL, NULL,
     "SUFFIX",
     "the end of the MQTT client id, after the certificate account (default "
     "telegraf); each program of an account needs its own"},
    {"mqtt_refresh", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER, AT(mqtt_refresh_ms),
     NO_OFFSET, 0, 0, NULL, check_push_refresh, NULL, NULL, "S",
     "with --mqtt, read each device over HTTP every S seconds to heal "
     "missed messages (default 600)"},
    {"mqtt_silence", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER, AT(mqtt_silence_ms),
     NO_OFFSET, 0, 0, NULL, check_push_silence, NULL, NULL, "S",
     "with --mqtt, a device without a message for S seconds is said to be "
     "silent (default 300)"},
    {"max_unknown_quotas", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER,
     AT(account.max_unknown), NO_OFFSET, 0, 0, NULL, check_max_unknown, NULL,
     NULL, "N",
     "take at most N values the catalog does not know (ecoflow_raw) from one "
     "reading (default 1000; the live PowerOcean sends about 350 values in "
     "all); what is cut is counted and said once per device"},
    {"counter_glitch_share", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER,
     AT(account.counter_glitch), NO_OFFSET, 0, 0, NULL, check_counter_glitch,
     NULL, NULL, "X",
     "a lifetime energy counter that steps back by less than this share of "
     "its value is a glitch, held out of that reading (default 0.01; a "
     "bigger step is a reset)"},
    {"shard", NULL, ALL & ~TG_FROM_ENV, KIND_TEXT, AT(shard), NO_OFFSET, 0, 0,
     check_shard, NULL, NULL, NULL, "K/N",
     "with discovery, read only the devices whose serial number hashes to "
     "part K (0 to N-1) of N: agents sharing an account split it without "
     "talking to each other"},
    {"interval", NULL, ALL & ~TG_FROM_ENV, KIND_SECONDS, AT(interval_ms),
     NO_OFFSET, 0.001, 86400, NULL, NULL, NULL, NULL, "S",
     "with --execd, also poll on its own every S seconds (signal = \"none\")"},
    {"history", NULL, ALL & ~TG_FROM_ENV, KIND_TEXT, AT(history), NO_OFFSET, 0,
     0, NULL, NULL, ef_report_code_valid,
     "a report code (letters, digits, _ and -)", "CODE",
     "print report CODE (e.g. JT303_Dashboard_Overview_Summary_Week) from "
     "--begin to --end as " EF_REPORT_MEASUREMENT " points, one per window "
     "of less than a week, stamped with its start, and exit. Windows are "
     "asked --max-concurrent at a time, a group a second at most; a long "
     "backfill says on stderr where it is, once a second, and what it "
     "skipped"},
    {"history_max_windows", NULL, ALL & ~TG_FROM_ENV, KIND_NUMBER,
     AT(history_max_windows), NO_OFFSET, 0, 0, NULL, check_max_windows, NULL,
     NULL, "N",
     "with --history, refuse a range of more than N windows per device "
     "(default 520, about ten years)"},
    {"begin", NULL, ALL & ~TG_FROM_ENV, KIND_TIME, AT(begin), NO_OFFSET, 0, 0,
     NULL, NULL, NULL, NULL, "TIME",
     "with --history: the first second, UTC \"YYYY-MM-DD HH:MM:SS\" or ISO "
     "8601 (2024-06-17T00:00:00+02:00)"},
    {"end", NULL, ALL & ~TG_FROM_ENV, KIND_TIME, AT(end), NO_OFFSET, 0, 0, NULL,
     NULL, NULL, NULL, "TIME",
     "with --history: where the backfill stops, not included (default: "
     "now); 2024-06-17 to 2024-06-24 is one week"},
    {"check", NULL, TG_FROM_ARGV, KIND_FLAG, AT(check), NO_OFFSET, 0, 0, NULL,
     NULL, NULL, NULL, NULL,
     "check the settings against the cloud and exit: which host (region) "
     "takes the keys, whether the clock agrees, the account's devices and "
     "what each one's quota/all gives; then the Telegraf and collectd "
     "configuration to paste. Exit status 0 when everything a run needs "
     "works"},
    {"list_metrics", NULL, TG_FROM_ARGV, KIND_FLAG, AT(list_metrics), NO_OFFSET,
     0, 0, NULL, NULL, NULL, NULL, NULL,
     "print the catalog of metrics and exit"},
    {"help", NULL, TG_FROM_ARGV, KIND_FLAG, AT(help), NO_OFFSET, 0, 0, NULL,
     NULL, NULL, NULL, NULL, "print this help and exit"},
    {"version", NULL, TG_FROM_ARGV, KIND_FLAG, AT(version), NO_OFFSET, 0, 0,
     NULL, NULL, NULL, NULL, NULL, "print the version and exit"},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

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

static const setting *find_setting(const char *key, size_t len) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strlen(settings[i].key) == len &&
        strncmp(settings[i].key, key, len) == 0)
      return &settings[i];
  return NULL;
}

void tg_config_init(tg_config *config) {
  *config = (tg_config){0};
  config->account.endpoint = strdup(TG_DEFAULT_ENDPOINT);
}

static void free_devices(tg_config *config) {
  for (size_t i = 0; i < config->n_devices; i++) {
    free(config->devices[i].sn);
    free(config->devices[i].name);
  }
  free(config->devices);
  config->devices = NULL;
  config->n_devices = config->cap_devices = 0;
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
  ef_account_clear(&config->account);
  ef_secret_free(config->secret_key_file);
  free(config->history);
  free(config->mqtt_suffix);
  free(config->shard);
  free_devices(config);
  free_list(&config->quotas);
  *config = (tg_config){0};
}

/* value is "SN" or "SN=NAME". Duplicates are found once all are given
 * (tg_config_finish): checking each against all would be quadratic. */
static int add_device(tg_config *config, const char *value, char *problem) {
  const char *equals = strchr(value, '=');
  char *sn_part =
      strndup(value, equals ? (size_t)(equals - value) : strlen(value));
  char *sn = sn_part ? ef_text_trimmed(sn_part) : NULL;
  char *name = equals ? ef_text_trimmed(equals + 1) : NULL;
  free(sn_part);
  int status = -1;
  if (sn == NULL || (equals && name == NULL))
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
  else if (ef_account_serial(sn, problem) == 0 &&
           (name == NULL ||
            ef_account_name(name, "a device name", problem) == 0))
    status = 0;
  if (status == 0 && config->n_devices == config->cap_devices) {
    size_t cap = config->cap_devices ? 2 * config->cap_devices : 8;
    tg_device *devices = realloc(config->devices, cap * sizeof(*devices));
    if (devices == NULL) {
      snprintf(problem, EF_PROBLEM_LEN, "out of memory");
      status = -1;
    } else {
      config->devices = devices;
      config->cap_devices = cap;
    }
  }
  if (status != 0) {
    free(sn);
    free(name);
    return -1;
  }
  config->devices[config->n_devices++] = (tg_device){.sn = sn, .name = name};
  return 0;
}

/* The number in value, written in decimal as the cloud's are (0x10 and
 * 0x1p-3 are not), or -1 with problem filled. */
static int parse_number(const char *value, double *number, char *problem) {
  if (ef_number_parse(value, number) != 0) {
    snprintf(problem, EF_PROBLEM_LEN, "not a decimal number");
    return -1;
  }
  return 0;
}

static int add_to_list(tg_list *list, const char *value, char *problem) {
  for (size_t i = 0; i < list->len; i++)
    if (strcmp(list->items[i], value) == 0) {
      snprintf(problem, EF_PROBLEM_LEN, "\"%s\" is given twice", value);
      return -1;
    }
  char *copy = strdup(value);
  char **items =
      copy ? realloc(list->items, (list->len + 1) * sizeof(*items)) : NULL;
  if (items == NULL) {
    free(copy);
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
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
  snprintf(problem, EF_PROBLEM_LEN, "not true or false");
  return -1;
}

/* Keeps kept (already checked) as the text of s, dropping what it
 * replaces. */
static void keep_text(tg_config *config, const setting *s, char *kept) {
  char **member = text_at(config, s->offset);
  ef_secret_free(*member);
  *member = kept;
  if (s->clears != NO_OFFSET) {
    ef_secret_free(*text_at(config, s->clears));
    *text_at(config, s->clears) = NULL;
  }
}

static int apply_text(tg_config *config, const setting *s, const char *value,
                      char *problem) {
  char *kept = NULL;
  if (value[0] == '\0') {
    snprintf(problem, EF_PROBLEM_LEN, "empty");
    return -1;
  }
  if (s->word != NULL && !s->word(value)) {
    snprintf(problem, EF_PROBLEM_LEN, "not %s", s->what);
    return -1;
  }
  if (s->text != NULL) {
    if (s->text(value, &kept, problem) != 0)
      return -1;
  } else if ((kept = strdup(value)) == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return -1;
  }
  keep_text(config, s, kept);
  return 0;
}

/* Sets s from value (already trimmed); problem says why not. */
static int apply(tg_config *config, const setting *s, const char *value,
                 char *problem) {
  if (s->kind == KIND_CONFIG || s->offset == NO_OFFSET)
    return 0; /* --config: read before everything else */
  void *member = (char *)config + s->offset;
  double number;
  switch (s->kind) {
  case KIND_TEXT:
    return apply_text(config, s, value, problem);
  case KIND_SECONDS:
    if (parse_number(value, &number, problem) != 0)
      return -1;
    if (number < s->min || number > s->max) {
      snprintf(problem, EF_PROBLEM_LEN, "not a number of seconds from %g to %g",
               s->min, s->max);
      return -1;
    }
    *(long *)member = lround(number * 1000);
    return 0;
  case KIND_NUMBER:
    return parse_number(value, &number, problem) ||
           s->number(number, member, problem);
  case KIND_DEVICE:
    return add_device(config, value, problem);
  case KIND_LIST:
    if (value[0] == '\0' || !s->word(value)) {
      snprintf(problem, EF_PROBLEM_LEN, "not %s", s->what);
      return -1;
    }
    return add_to_list(member, value, problem);
  case KIND_TIME: {
    tg_time *time = member;
    if (ef_time_parse(value, &time->t) != 0) {
      snprintf(problem, EF_PROBLEM_LEN,
               "not a time: \"YYYY-MM-DD HH:MM:SS\" (UTC) or ISO 8601 "
               "(2024-06-17T00:00:00Z)");
      return -1;
    }
    time->set = 1;
    return 0;
  }
  case KIND_FLAG:
    return parse_flag(value, member, problem);
  case KIND_CONFIG:
    break;
  }
  return 0;
}

/* Why s may not come from there; the command line is refused credentials
 * with the way to give them instead. */
static void refuse(const setting *s, tg_origin from, char *problem) {
  if (from == TG_FROM_ARGV)
    snprintf(problem, EF_PROBLEM_LEN,
             "credentials are not accepted on the command line, where every "
             "user of this machine can read them (ps): set %s in the "
             "environment, or %s in a --config file only you can read",
             s->env, s->key);
  else
    snprintf(problem, EF_PROBLEM_LEN, "%s is a command-line option only",
             s->key);
}

static int set_found(tg_config *config, const setting *s, tg_origin from,
                     const char *origin, const char *value, char *err) {
  char problem[EF_PROBLEM_LEN];
  int status = -1;
  char *clean = ef_text_trimmed(value ? value : "");
  if (clean == NULL)
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
  else if ((s->from & from) == 0)
    refuse(s, from, problem);
  else if (!ef_account_text_clean(clean))
    snprintf(problem, EF_PROBLEM_LEN, "holds a control character");
  else
    status = apply(config, s, clean, problem);
  ef_secret_free(clean);
  if (status != 0)
    fail(err, origin, "%s", problem);
  return status;
}

int tg_config_set(tg_config *config, tg_origin from, const char *origin,
                  const char *key, const char *value, char *err) {
  const setting *s = find_setting(key, strlen(key));
  if (s == NULL) {
    fail(err, origin, "unknown setting \"%s\" (see --help)",
         ef_setting_name_quoted(key, "(not a setting)"));
    return -1;
  }
  /* A file's line is named with the setting it sets. */
  char named[TG_ERROR_LEN];
  snprintf(named, sizeof(named), "%s: %s", origin, s->key);
  return set_found(config, s, from, from == TG_FROM_FILE ? named : origin,
                   value, err);
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
  char *name = ef_text_trimmed(key), *value = ef_text_trimmed(equals + 1);
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
  ef_secret_free(name);
  ef_secret_free(value);
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
    ef_secret_free(copy);
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
      fail(err, ef_setting_name_quoted(arg, "an argument"),
           "unexpected (see --help)");
      return -1;
    }
    char key[64];
    size_t len = strcspn(arg + 2, "=");
    snprintf(key, sizeof(key), "%.*s", (int)len, arg + 2);
    for (char *c = key; *c != '\0'; c++)
      *c = *c == '-' ? '_' : *c;
    const setting *s = find_setting(key, strlen(key));
    char origin[80] = "an option";
    if (s != NULL || ef_setting_name_quotable(key))
      snprintf(origin, sizeof(origin), "--%.*s", (int)len, arg + 2);
    if (s == NULL) {
      fail(err, origin, "unknown option (see --help)");
      return -1;
    }
    const char *value = arg[2 + len] == '=' ? arg + 3 + len : NULL;
    if (s->kind == KIND_FLAG && value != NULL) {
      fail(err, origin, "takes no value");
      return -1;
    }
    if (s->kind != KIND_FLAG && value == NULL && (s->from & TG_FROM_ARGV)) {
      if (i + 1 == argc) {
        fail(err, origin, "needs a value: %s %s", origin, s->metavar);
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

char *tg_config_read_file(const char *path, struct stat *st, char *err) {
  char problem[EF_PROBLEM_LEN];
  int fd = ef_account_open_file(path, MAX_FILE_SIZE, st, problem);
  if (fd < 0) {
    fail(err, path, "%s", problem);
    return NULL;
  }
  size_t size = (size_t)st->st_size;
  char *text = calloc(1, size + 1);
  ssize_t got = text ? read(fd, text, size) : -1;
  if (got < 0 || (size_t)got != size) {
    fail(err, path, "%s", got < 0 ? strerror(errno) : "changed while read");
    ef_secret_free(text);
    text = NULL;
  }
  close(fd);
  return text;
}

/* Refuses a file that holds a secret unless it is private (or root hands
 * it to this program's group: ef_account_check_private). */
static int check_private(const char *path, const struct stat *st, char *err) {
  char problem[EF_PROBLEM_LEN];
  if (ef_account_check_private(path, st, problem) == 0)
    return 0;
  fail(err, path, "%s", problem);
  return -1;
}

/* Only a config file that holds a secret must be private: known once it
 * is parsed. */
static int apply_file(tg_config *config, const char *path, char *err) {
  struct stat st;
  char *text = tg_config_read_file(path, &st, err);
  if (text == NULL)
    return -1;
  int has_secret = 0;
  int status = tg_config_apply_text(config, text, path, &has_secret, err);
  ef_secret_free(text);
  if (status == 0 && has_secret)
    status = check_private(path, &st, err);
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

static int by_serial(const void *a, const void *b) {
  return strcmp((*(const tg_device *const *)a)->sn,
                (*(const tg_device *const *)b)->sn);
}

/* A device given twice, found in n log n. */
static int check_duplicates(const tg_config *config, char *err) {
  if (config->n_devices < 2)
    return 0;
  const tg_device **sorted = calloc(config->n_devices, sizeof(*sorted));
  if (sorted == NULL) {
    fail(err, "--sn", "out of memory");
    return -1;
  }
  for (size_t i = 0; i < config->n_devices; i++)
    sorted[i] = &config->devices[i];
  qsort(sorted, config->n_devices, sizeof(*sorted), by_serial);
  int status = 0;
  for (size_t i = 1; status == 0 && i < config->n_devices; i++)
    if (strcmp(sorted[i]->sn, sorted[i - 1]->sn) == 0) {
      fail(err, "--sn", "device %s is given twice", sorted[i]->sn);
      status = -1;
    }
  free(sorted);
  return status;
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
  else if (config->check && (config->execd || config->history != NULL))
    fail(err, "--check",
         "checks the settings and exits: not with --execd or --history");
  else if (config->mqtt && !config->execd)
    fail(err, "--mqtt", "streams values as they arrive: only with --execd");
  else if ((config->mqtt_suffix || config->mqtt_refresh_ms ||
            config->mqtt_silence_ms) &&
           !config->mqtt)
    fail(err, "--mqtt-...", "only applies with --mqtt");
  else if (config->shard != NULL && config->n_devices > 0 && !config->discover)
    fail(err, "--shard",
         "splits the discovered devices: with --sn, add --discover (the "
         "--sn devices are always read)");
  else if (config->history != NULL && !config->begin.set)
    fail(err, "--history", "needs --begin TIME (and --end TIME, or now)");
  else if (config->end.set && config->end.t <= config->begin.t)
    fail(err, "--end", "is not after --begin");
  else
    return check_duplicates(config, err);
  return -1;
}

int tg_config_finish(tg_config *config, char *err) {
  if (config->help || config->version || config->list_metrics)
    return 0;
  if (config->secret_key_file != NULL) {
    char problem[EF_PROBLEM_LEN];
    char *secret = NULL;
    if (ef_account_secret_file(config->secret_key_file, &secret, problem) !=
        0) {
      fail(err, config->secret_key_file, "%s", problem);
      return -1;
    }
    ef_secret_free(config->account.secret_key);
    config->account.secret_key = secret;
  }
  if (config->account.access_key == NULL ||
      config->account.secret_key == NULL) {
    int access = config->account.access_key == NULL;
    fail(err, "configuration",
         "no %s: set %s in the environment, or %s in the --config file",
         access ? "access key" : "secret key",
         access ? "ECOFLOW_ACCESS_KEY" : "ECOFLOW_SECRET_KEY",
         access ? "access_key" : "secret_key or secret_key_file");
    return -1;
  }
  if (config->shard != NULL) {
    char problem[EF_PROBLEM_LEN];
    if (ef_account_shard(config->shard, &config->account.shard_index,
                         &config->account.shard_count, problem) != 0) {
      fail(err, "--shard", "%s", problem);
      return -1;
    }
  }
  return check_together(config, err);
}

/* "  LEAD  text", text wrapped at 79 columns under itself. */
static void print_item(FILE *out, const char *lead, const char *text) {
  char indented[80];
  snprintf(indented, sizeof(indented), "  %s", lead);
  ef_text_wrap(out, indented, 26, text);
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

int tg_config_setting(size_t i, const char **key, const char **env,
                      unsigned *from) {
  if (i >= N_SETTINGS)
    return -1;
  *key = settings[i].key;
  *env = settings[i].env;
  *from = settings[i].from;
  return 0;
}
