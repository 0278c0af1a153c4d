/* ef_settings.c: the settings table, its lookups and its verdicts. */
#include "ef_settings.h"

#include "ef_account.h"
#include "ef_engine.h"
#include "ef_report.h"
#include "ef_roster.h"
#include "ef_schedule.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The columns of ef_settings.def, as initialisers of ef_setting. */
#define IN_PLUGIN EF_SETTING_IN_PLUGIN
#define IN_ACCOUNT EF_SETTING_IN_ACCOUNT
#define IN_DEVICE EF_SETTING_IN_DEVICE
#define IN_REPORT EF_SETTING_IN_REPORT
#define FROM_FILE EF_SETTING_FROM_FILE
#define FROM_ENV EF_SETTING_FROM_ENV
#define FROM_ARGV EF_SETTING_FROM_ARGV
#define KIND_TEXT EF_SETTING_TEXT
#define KIND_SECRET EF_SETTING_SECRET
#define KIND_FILE EF_SETTING_FILE
#define KIND_BOOL EF_SETTING_BOOL
#define KIND_NUMBER EF_SETTING_NUMBER
#define KIND_SECONDS EF_SETTING_SECONDS
#define KIND_LIST EF_SETTING_LIST
#define KIND_DEVICE EF_SETTING_DEVICE
#define KIND_TIME EF_SETTING_TIME
#define KIND_BLOCK EF_SETTING_BLOCK
#define KIND_CONFIG EF_SETTING_CONFIG
#define KIND_ACTION EF_SETTING_ACTION
#define TEXT_VERDICT(f) .text = (f)
#define NUMBER_VERDICT(f) .number = (f)
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define WORD(accepts, what) .word = (accepts), .word_what = (what)
#define NONE .text = NULL

static const ef_setting settings[] = {
#define SETTING(id_, collectd_, blocks_, telegraf_, env_, from_, kind_,        \
                verdict_, default_, metavar_, help_)                           \
  [EF_SET_##id_] = {.id = EF_SET_##id_,                                        \
                    .collectd = (collectd_),                                   \
                    .blocks = (blocks_),                                       \
                    .telegraf = (telegraf_),                                   \
                    .env = (env_),                                             \
                    .from = (from_),                                           \
                    .kind = KIND_##kind_,                                      \
                    verdict_,                                                  \
                    .default_text = (default_),                                \
                    .metavar = (metavar_),                                     \
                    .help = (help_)},
#include "ef_settings.def"
#undef SETTING
};

const ef_setting *ef_setting_get(ef_setting_id id) { return &settings[id]; }

const ef_setting *ef_setting_by_collectd(const char *key, unsigned blocks) {
  for (size_t i = 0; i < EF_SETTINGS_N; i++)
    if (settings[i].collectd != NULL && (settings[i].blocks & blocks) &&
        strcasecmp(settings[i].collectd, key) == 0)
      return &settings[i];
  return NULL;
}

const ef_setting *ef_setting_by_telegraf(const char *key, size_t len) {
  if (len == 0)
    return NULL; /* no setting is named "" */
  /* Told by the first byte before anything is counted: a long command
   * line looks every --sn up here. */
  for (size_t i = 0; i < EF_SETTINGS_N; i++) {
    const char *name = settings[i].telegraf;
    if (name != NULL && name[0] == key[0] && strlen(name) == len &&
        memcmp(name, key, len) == 0)
      return &settings[i];
  }
  return NULL;
}

const char *ef_setting_flag(const ef_setting *s,
                            char out[EF_SETTING_FLAG_LEN]) {
  int n = snprintf(out, EF_SETTING_FLAG_LEN, "--%s", s->telegraf);
  for (int c = 2; c < n && c < EF_SETTING_FLAG_LEN; c++)
    out[c] = out[c] == '_' ? '-' : out[c];
  return out;
}

int ef_setting_collectd_block(const ef_setting *s) {
  return s->kind == EF_SETTING_BLOCK || s->kind == EF_SETTING_DEVICE;
}

/* Long enough for every option of the table, each with ", <...>". */
#define LIST_MAX (EF_SETTINGS_N * (EF_SETTING_NAME_QUOTABLE_MAX + 4) + 1)

static void build_list(unsigned blocks, char list[LIST_MAX]) {
  size_t used = 0;
  for (size_t i = 0; i < EF_SETTINGS_N; i++) {
    const ef_setting *s = &settings[i];
    if (s->collectd == NULL || !(s->blocks & blocks))
      continue;
    int block = ef_setting_collectd_block(s);
    used += (size_t)snprintf(list + used, LIST_MAX - used, "%s%s%s%s",
                             used ? ", " : "", block ? "<" : "", s->collectd,
                             block ? ">" : "");
  }
}

const char *ef_settings_collectd_list(unsigned blocks) {
  /* One list per set of blocks a front end asks for; built on first use
   * (collectd configures plugins from one thread). */
  static char lists[EF_SETTING_IN_REPORT * 2][LIST_MAX];
  static int built[EF_SETTING_IN_REPORT * 2];
  blocks &= EF_SETTING_IN_REPORT * 2 - 1;
  if (!built[blocks]) {
    build_list(blocks, lists[blocks]);
    built[blocks] = 1;
  }
  return lists[blocks];
}

#define WHERE_LEN (2 * EF_SETTING_FLAG_LEN + 48)
static char wheres[EF_SETTINGS_N][WHERE_LEN];
static pthread_once_t wheres_once = PTHREAD_ONCE_INIT;

static void build_wheres(void) {
  for (size_t i = 0; i < EF_SETTINGS_N; i++) {
    const ef_setting *s = &settings[i];
    char flag[EF_SETTING_FLAG_LEN] = "";
    if (s->telegraf != NULL)
      ef_setting_flag(s, flag);
    snprintf(wheres[i], WHERE_LEN, "%s%s%s%s%s",
             s->collectd ? "collectd: " : "", s->collectd ? s->collectd : "",
             s->collectd && s->telegraf ? ", " : "",
             s->telegraf ? "ecoflow-telegraf: " : "", flag);
  }
}

const char *ef_setting_where(ef_setting_id id) {
  pthread_once(&wheres_once, build_wheres);
  return id < EF_SETTINGS_N ? wheres[id] : "";
}

int ef_setting_access_key(const char *raw, char **out, char *problem) {
  return ef_account_key(raw, "access key", out, problem);
}

int ef_setting_secret_key(const char *raw, char **out, char *problem) {
  return ef_account_key(raw, "secret key", out, problem);
}

int ef_setting_shard(const char *raw, char **out, char *problem) {
  unsigned index, count;
  if (ef_account_shard(raw, &index, &count, problem) != 0)
    return -1;
  if ((*out = strdup(raw)) == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return -1;
  }
  return 0;
}

/* The account's number verdicts (ef_account.h) with the table's
 * signature: the member's type is named once, and checked. */
#define NUMBER_VERDICT_OF(name, verdict, type)                                 \
  int name(double value, void *out, char *problem) {                           \
    return verdict(value, (type *)out, problem);                               \
  }
NUMBER_VERDICT_OF(ef_setting_timeout, ef_account_timeout, long)
NUMBER_VERDICT_OF(ef_setting_max_concurrent, ef_account_max_concurrent,
                  unsigned)
NUMBER_VERDICT_OF(ef_setting_push_refresh, ef_account_push_refresh, int64_t)
NUMBER_VERDICT_OF(ef_setting_push_silence, ef_account_push_silence, int64_t)
NUMBER_VERDICT_OF(ef_setting_max_unknown, ef_account_max_unknown, size_t)
NUMBER_VERDICT_OF(ef_setting_counter_glitch, ef_account_counter_glitch, double)

int ef_setting_max_windows(double count, void *windows, char *problem) {
  if (!(count >= 1 && count <= EF_BACKFILL_MAX_WINDOWS) ||
      count != (long)count) {
    snprintf(problem, EF_PROBLEM_LEN, "not a whole number from 1 to %d",
             EF_BACKFILL_MAX_WINDOWS);
    return -1;
  }
  *(long *)windows = (long)count;
  return 0;
}

ef_settings_rule ef_settings_together(const ef_settings_given *given) {
  if (!given->access_key)
    return EF_SETTINGS_NO_ACCESS_KEY;
  if (!given->secret_key)
    return EF_SETTINGS_NO_SECRET_KEY;
  if (given->devices == 0 && !given->discover)
    return EF_SETTINGS_NOTHING_TO_READ;
  if (given->mqtt_options && !given->mqtt)
    return EF_SETTINGS_PUSH_WITHOUT_MQTT;
  if (given->shard && !given->discover)
    return EF_SETTINGS_SHARD_WITHOUT_DISCOVERY;
  return EF_SETTINGS_FINE;
}

int ef_push_settings_extra(const ef_push_settings *push) {
  return push->client_id_suffix != NULL || push->refresh_ms != 0 ||
         push->silence_ms != 0;
}

ef_push_options ef_push_settings_options(const ef_push_settings *push,
                                         const char *program, int stream) {
  return (ef_push_options){.enabled = push->enabled,
                           .client_id_suffix = push->client_id_suffix
                                                   ? push->client_id_suffix
                                                   : program,
                           .refresh_ms = push->refresh_ms,
                           .silence_ms = push->silence_ms,
                           .stream = stream};
}

void ef_push_settings_clear(ef_push_settings *push) {
  free(push->client_id_suffix);
  *push = (ef_push_settings){0};
}

int ef_settings_interval_floor(double *interval_s, char *problem) {
  double least_s = ef_schedule_min_interval_ms() / 1000.0;
  if (*interval_s >= least_s)
    return 0;
  snprintf(problem, EF_PROBLEM_LEN,
           "polling every %g s instead (the EcoFlow cloud blocks accounts "
           "that poll faster)",
           least_s);
  *interval_s = least_s;
  return 1;
}

int ef_settings_hook_warning(char *problem) {
  if (ef_schedule_min_interval_ms() >= EF_MIN_INTERVAL_MS)
    return 0;
  snprintf(problem, EF_PROBLEM_LEN,
           "%s is set: devices may be polled every %g s. It is a test hook "
           "for ecoflow-sim only: the EcoFlow cloud blocks accounts that "
           "poll faster than every %g s",
           EF_TEST_MIN_INTERVAL_ENV, ef_schedule_min_interval_ms() / 1000.0,
           EF_MIN_INTERVAL_MS / 1000.0);
  return 1;
}
