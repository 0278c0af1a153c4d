/* telegraf_config.c: settings from the file, environment and command line. */
#include "telegraf_config.h"

#include "ef_engine.h"
#include "ef_history.h"
#include "ef_number.h"
#include "ef_report.h"
#include "ef_roster.h"
#include "ef_settings.h"
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

typedef ef_setting setting;

/* Where each setting lands in tg_config, and the member a text setting
 * replaces (the secret key and its file, whichever came last): offsets
 * plus one, so that 0 is nowhere. The names, kinds and verdicts are the
 * core's (ef_settings.def). */
#define AT(member) (offsetof(tg_config, member) + 1)
static const struct {
  size_t at, clears;
} members[EF_SETTINGS_N] = {
    [EF_SET_ACCESS_KEY] = {AT(account.access_key), 0},
    [EF_SET_SECRET_KEY] = {AT(account.secret_key), AT(secret_key_file)},
    [EF_SET_SECRET_KEY_FILE] = {AT(secret_key_file), AT(account.secret_key)},
    [EF_SET_ENDPOINT] = {AT(account.endpoint), 0},
    [EF_SET_TIMEOUT] = {AT(account.timeout_ms), 0},
    [EF_SET_MAX_CONCURRENT] = {AT(account.max_concurrent), 0},
    [EF_SET_CA_FILE] = {AT(account.ca_file), 0},
    [EF_SET_DISCOVER] = {AT(discover), 0},
    [EF_SET_DISCOVER_REFRESH] = {AT(discover_refresh_ms), 0},
    [EF_SET_MQTT] = {AT(push.enabled), 0},
    [EF_SET_MQTT_SUFFIX] = {AT(push.client_id_suffix), 0},
    [EF_SET_MQTT_REFRESH] = {AT(push.refresh_ms), 0},
    [EF_SET_MQTT_SILENCE] = {AT(push.silence_ms), 0},
    [EF_SET_INTERVAL] = {AT(interval_ms), 0},
    [EF_SET_QUOTA] = {AT(quotas), 0},
    [EF_SET_MAX_UNKNOWN] = {AT(account.max_unknown), 0},
    [EF_SET_COUNTER_GLITCH] = {AT(account.counter_glitch), 0},
    [EF_SET_SHARD] = {AT(shard), 0},
    [EF_SET_DEVICE] = {AT(devices), 0},
    [EF_SET_EXECD] = {AT(execd), 0},
    [EF_SET_HISTORY] = {AT(history), 0},
    [EF_SET_HISTORY_MAX_WINDOWS] = {AT(history_max_windows), 0},
    [EF_SET_BEGIN] = {AT(begin), 0},
    [EF_SET_END] = {AT(end), 0},
    [EF_SET_CHECK] = {AT(check), 0},
    [EF_SET_LIST_METRICS] = {AT(list_metrics), 0},
    [EF_SET_HELP] = {AT(help), 0},
    [EF_SET_VERSION] = {AT(version), 0},
};

/* The member at (an offset plus one) of config. */
static void *member_at(tg_config *config, size_t at) {
  return (char *)config + at - 1;
}

/* A setting given by its name alone on the command line. */
static int is_flag(const setting *s) {
  return s->kind == EF_SETTING_BOOL || s->kind == EF_SETTING_ACTION;
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

/* --name-with-dashes of setting id, as the command line takes it. Each
 * call returns the next of a few buffers, so that one message may name
 * several settings. */
static const char *flag(ef_setting_id id) {
  static char names[4][EF_SETTING_FLAG_LEN];
  static unsigned next;
  return ef_setting_flag(ef_setting_get(id), names[next++ % 4]);
}

/* apply_args keeps one bit per setting. */
_Static_assert(EF_SETTINGS_N <= 64, "more settings than bits");

static const setting *find_setting(const char *key, size_t len) {
  return ef_setting_by_telegraf(key, len);
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
  if (s->kind == EF_SETTING_DEVICE)
    free_devices(config);
  else if (s->kind == EF_SETTING_LIST)
    free_list(member_at(config, members[s->id].at));
}

void tg_config_free(tg_config *config) {
  ef_account_clear(&config->account);
  ef_secret_free(config->secret_key_file);
  free(config->history);
  ef_push_settings_clear(&config->push);
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
  char **member = member_at(config, members[s->id].at);
  ef_secret_free(*member);
  *member = kept;
  if (members[s->id].clears != 0) {
    char **cleared = member_at(config, members[s->id].clears);
    ef_secret_free(*cleared);
    *cleared = NULL;
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
    snprintf(problem, EF_PROBLEM_LEN, "not %s", s->word_what);
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
  if (s->kind == EF_SETTING_CONFIG)
    return 0;                   /* --config: read before everything else */
  if (members[s->id].at == 0) { /* a row added to the table, not here */
    snprintf(problem, EF_PROBLEM_LEN, "not taken by this program yet");
    return -1;
  }
  void *member = member_at(config, members[s->id].at);
  double number;
  switch (s->kind) {
  case EF_SETTING_TEXT:
  case EF_SETTING_SECRET:
  case EF_SETTING_FILE:
    return apply_text(config, s, value, problem);
  case EF_SETTING_SECONDS:
    if (parse_number(value, &number, problem) != 0)
      return -1;
    if (number < s->min || number > s->max) {
      snprintf(problem, EF_PROBLEM_LEN, "not a number of seconds from %g to %g",
               s->min, s->max);
      return -1;
    }
    *(long *)member = lround(number * 1000);
    return 0;
  case EF_SETTING_NUMBER:
    return parse_number(value, &number, problem) ||
           s->number(number, member, problem);
  case EF_SETTING_DEVICE:
    return add_device(config, value, problem);
  case EF_SETTING_LIST:
    if (value[0] == '\0' || !s->word(value)) {
      snprintf(problem, EF_PROBLEM_LEN, "not %s", s->word_what);
      return -1;
    }
    return add_to_list(member, value, problem);
  case EF_SETTING_TIME: {
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
  case EF_SETTING_BOOL:
  case EF_SETTING_ACTION:
    return parse_flag(value, member, problem);
  case EF_SETTING_CONFIG:
  case EF_SETTING_BLOCK:
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
             "environment, or %s in a %s file only you can read",
             s->env, s->telegraf, flag(EF_SET_CONFIG));
  else
    snprintf(problem, EF_PROBLEM_LEN, "%s is a command-line option only",
             s->telegraf);
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
    fail(err, origin, "unknown setting \"%s\" (see %s)",
         ef_setting_name_quoted(key, "(not a setting)"), flag(EF_SET_HELP));
    return -1;
  }
  /* A file's line is named with the setting it sets. */
  char named[TG_ERROR_LEN];
  snprintf(named, sizeof(named), "%s: %s", origin, s->telegraf);
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
    const setting *s = find_setting(name, strlen(name));
    *has_secret |= status == 0 && s->id == EF_SET_SECRET_KEY;
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
  for (size_t i = 0; i < EF_SETTINGS_N; i++) {
    const setting *s = ef_setting_get(i);
    const char *value = s->env ? lookup(s->env) : NULL;
    if (value != NULL && value[0] != '\0' &&
        set_found(config, s, TG_FROM_ENV, s->env, value, err) != 0)
      return -1;
  }
  return 0;
}

/* prefix and the first len bytes of text into out, cut to its size as
 * snprintf cuts; the length written. (Every --sn of a long command line
 * passes here twice: no printf.) */
static size_t cut_copy(char *out, size_t size, const char *prefix,
                       const char *text, size_t len) {
  size_t prefix_len = strlen(prefix);
  size_t room = size - 1;
  prefix_len = prefix_len < room ? prefix_len : room;
  memcpy(out, prefix, prefix_len);
  len = len < room - prefix_len ? len : room - prefix_len;
  memcpy(out + prefix_len, text, len);
  out[prefix_len + len] = '\0';
  return prefix_len + len;
}

int tg_config_apply_args(tg_config *config, int argc, char *const argv[],
                         int apply_settings, const char **config_path,
                         char *err) {
  unsigned long long replaced = 0; /* bit id: its file values dropped */
  int interval_given = 0, refresh_given = 0;
  *config_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0)
      arg = "--help";
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
      fail(err, ef_setting_name_quoted(arg, "an argument"),
           "unexpected (see %s)", flag(EF_SET_HELP));
      return -1;
    }
    char key[64];
    size_t len = strcspn(arg + 2, "=");
    size_t key_len = cut_copy(key, sizeof(key), "", arg + 2, len);
    for (char *c = key; *c != '\0'; c++)
      *c = *c == '-' ? '_' : *c;
    const setting *s = find_setting(key, key_len);
    char origin[80] = "an option";
    if (s != NULL || ef_setting_name_quotable(key))
      cut_copy(origin, sizeof(origin), "--", arg + 2, len);
    if (s == NULL) {
      fail(err, origin, "unknown option (see %s)", flag(EF_SET_HELP));
      return -1;
    }
    const char *value = arg[2 + len] == '=' ? arg + 3 + len : NULL;
    if (is_flag(s) && value != NULL) {
      fail(err, origin, "takes no value");
      return -1;
    }
    if (!is_flag(s) && value == NULL && (s->from & TG_FROM_ARGV)) {
      if (i + 1 == argc) {
        fail(err, origin, "needs a value: %s %s", origin, s->metavar);
        return -1;
      }
      value = argv[++i];
    }
    if (s->kind == EF_SETTING_CONFIG)
      *config_path = value;
    if (!apply_settings && (s->from & TG_FROM_ARGV))
      continue;
    unsigned long long bit = 1ULL << s->id;
    if ((s->kind == EF_SETTING_DEVICE || s->kind == EF_SETTING_LIST) &&
        !(replaced & bit)) {
      clear_repeated(config, s);
      replaced |= bit;
    }
    interval_given |= s->id == EF_SET_INTERVAL;
    refresh_given |= s->id == EF_SET_DISCOVER_REFRESH;
    if (set_found(config, s, TG_FROM_ARGV, origin, value, err) != 0)
      return -1;
  }
  if ((interval_given || refresh_given) && !config->execd) {
    fail(err, flag(interval_given ? EF_SET_INTERVAL : EF_SET_DISCOVER_REFRESH),
         "only applies with %s", flag(EF_SET_EXECD));
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
    fail(err, flag(EF_SET_DEVICE), "out of memory");
    return -1;
  }
  for (size_t i = 0; i < config->n_devices; i++)
    sorted[i] = &config->devices[i];
  qsort(sorted, config->n_devices, sizeof(*sorted), by_serial);
  int status = 0;
  for (size_t i = 1; status == 0 && i < config->n_devices; i++)
    if (strcmp(sorted[i]->sn, sorted[i - 1]->sn) == 0) {
      fail(err, flag(EF_SET_DEVICE), "device %s is given twice", sorted[i]->sn);
      status = -1;
    }
  free(sorted);
  return status;
}

/* The rules between settings (ef_settings_together), this program's way:
 * without --sn, every device of the account is read. */
static ef_settings_rule rule_broken(const tg_config *config) {
  ef_settings_given given = {
      .access_key = config->account.access_key != NULL,
      .secret_key = config->account.secret_key != NULL,
      .devices = config->n_devices > 0,
      .discover = config->discover || config->n_devices == 0,
      .mqtt = config->push.enabled,
      .mqtt_options = ef_push_settings_extra(&config->push),
      .shard = config->shard != NULL,
  };
  return ef_settings_together(&given);
}

/* The settings that only mean something with others. */
static int check_together(const tg_config *config, char *err) {
  ef_settings_rule rule = rule_broken(config);
  char push_options[EF_SETTING_FLAG_LEN + 8];
  snprintf(push_options, sizeof(push_options), "%s-...", flag(EF_SET_MQTT));
  if (config->quotas.len > 0 && config->n_devices == 0)
    fail(err, flag(EF_SET_QUOTA),
         "applies to the devices named with %s (other models have other "
         "quotas): name them",
         flag(EF_SET_DEVICE));
  else if ((config->begin.set || config->end.set) && config->history == NULL)
    fail(err, flag(config->begin.set ? EF_SET_BEGIN : EF_SET_END),
         "only applies with %s", flag(EF_SET_HISTORY));
  else if (config->history != NULL && config->execd)
    fail(err, flag(EF_SET_HISTORY), "prints a backfill and exits: not with %s",
         flag(EF_SET_EXECD));
  else if (config->check && (config->execd || config->history != NULL))
    fail(err, flag(EF_SET_CHECK),
         "checks the settings and exits: not with %s or %s", flag(EF_SET_EXECD),
         flag(EF_SET_HISTORY));
  else if (config->push.enabled && !config->execd)
    fail(err, flag(EF_SET_MQTT), "streams values as they arrive: only with %s",
         flag(EF_SET_EXECD));
  else if (rule == EF_SETTINGS_PUSH_WITHOUT_MQTT)
    fail(err, push_options, "only applies with %s", flag(EF_SET_MQTT));
  else if (rule == EF_SETTINGS_SHARD_WITHOUT_DISCOVERY)
    fail(err, flag(EF_SET_SHARD),
         "splits the discovered devices: with %s, add %s (the %s devices are "
         "always read)",
         flag(EF_SET_DEVICE), flag(EF_SET_DISCOVER), flag(EF_SET_DEVICE));
  else if (config->history != NULL && !config->begin.set)
    fail(err, flag(EF_SET_HISTORY), "needs %s TIME (and %s TIME, or now)",
         flag(EF_SET_BEGIN), flag(EF_SET_END));
  else if (config->end.set && config->end.t <= config->begin.t)
    fail(err, flag(EF_SET_END), "is not after %s", flag(EF_SET_BEGIN));
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
  ef_settings_rule rule = rule_broken(config);
  if (rule == EF_SETTINGS_NO_ACCESS_KEY || rule == EF_SETTINGS_NO_SECRET_KEY) {
    int access = rule == EF_SETTINGS_NO_ACCESS_KEY;
    const setting *key =
        ef_setting_get(access ? EF_SET_ACCESS_KEY : EF_SET_SECRET_KEY);
    fail(err, "configuration",
         "no %s: set %s in the environment, or %s%s%s in the %s file",
         access ? "access key" : "secret key", key->env, key->telegraf,
         access ? "" : " or ",
         access ? "" : ef_setting_get(EF_SET_SECRET_KEY_FILE)->telegraf,
         flag(EF_SET_CONFIG));
    return -1;
  }
  if (config->shard != NULL) {
    char problem[EF_PROBLEM_LEN];
    if (ef_account_shard(config->shard, &config->account.shard_index,
                         &config->account.shard_count, problem) != 0) {
      fail(err, flag(EF_SET_SHARD), "%s", problem);
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
  for (size_t i = 0; i < EF_SETTINGS_N; i++) {
    const setting *s = ef_setting_get(i);
    if ((s->from & TG_FROM_ARGV) == 0)
      continue;
    char option[64];
    snprintf(option, sizeof(option), "%s%s%s", flag(s->id),
             s->metavar ? " " : "", s->metavar ? s->metavar : "");
    print_item(out, option, s->help);
  }
  fputs("\nFrom the environment, or as `key = value` in the --config file "
        "(credentials\nonly there: on the command line every user could read "
        "them):\n",
        out);
  for (size_t i = 0; i < EF_SETTINGS_N; i++) {
    const setting *s = ef_setting_get(i);
    if (s->env != NULL) {
      char text[TG_ERROR_LEN];
      snprintf(text, sizeof(text), "%s: %s", s->telegraf, s->help);
      print_item(out, s->env, text);
    }
  }
}
