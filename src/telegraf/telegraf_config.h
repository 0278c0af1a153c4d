/* telegraf_config.h: the settings of one ecoflow-telegraf run.
 *
 * Promises: the core's settings table (ef_settings.h) serves the config
 * file (`key = value`), the environment (ECOFLOW_*) and the command line
 * (--key-with-dashes), and the help text; this file only says where each
 * setting lands in tg_config. Later sources win: defaults, then the file, then
 * the environment, then the command line (where --sn replaces the file's
 * devices). Credentials are refused on the command line, where every user
 * can read them (ps); a config file that holds a secret is refused while
 * others than its owner may use it (but for a file root hands to this
 * program's group: ef_account_check_private), and so is such a
 * secret_key_file.
 * Values are checked as they are set, the account's settings by the core
 * (ef_account.h, the same verdicts as the collectd plugin's), and errors
 * name their source ("ecoflow.conf:3: ...") and the setting, never a
 * value that could be a secret; a control character in any value is
 * refused. Parsing does no I/O but reading the files named. Settings that
 * only make sense together are checked together (--quota needs --sn
 * devices; --begin and --end need --history). */
#ifndef EF_TELEGRAF_CONFIG_H
#define EF_TELEGRAF_CONFIG_H

#include "ef_account.h"
#include "ef_settings.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define TG_DEFAULT_ENDPOINT EF_DEFAULT_ENDPOINT
#define TG_ERROR_LEN 512

typedef struct {
  char *sn;
  char *name; /* NULL when not given */
} tg_device;

typedef struct {
  char **items;
  size_t len;
} tg_list;

typedef struct {
  int set;
  time_t t;
} tg_time;

typedef struct {
  ef_account account;    /* endpoint, keys, CA file, limits (ef_account.h) */
  char *secret_key_file; /* read into account.secret_key by finish */
  long interval_ms;      /* --execd: poll on its own every interval_ms; 0:
                            only when a line arrives on stdin */
  tg_device *devices;
  size_t n_devices, cap_devices;
  tg_list quotas;           /* --quota: POST quota for the --sn devices */
  int discover;             /* --discover: also every device of the account */
  long discover_refresh_ms; /* --execd: device/list this often; 0: default */
  char *history;            /* --history CODE: print a backfill and exit */
  tg_time begin;            /* --begin: the backfill's first second */
  tg_time end; /* --end: where it stops (not included); unset: now */
  long history_max_windows; /* --history-max-windows; 0: the engine's */
  int execd;
  ef_push_settings push; /* push mode (execd only) and its options */
  char *shard; /* --shard K/N, as given; parsed into account by finish */
  int check;   /* --check: the first-run check (ef_check.h), then exit */
  int list_metrics;
  int help;
  int version;
} tg_config;

/* Where a setting comes from: decides which settings it may carry. */
typedef enum {
  TG_FROM_FILE = EF_SETTING_FROM_FILE,
  TG_FROM_ENV = EF_SETTING_FROM_ENV,
  TG_FROM_ARGV = EF_SETTING_FROM_ARGV,
} tg_origin;

/* A config with its defaults. */
void tg_config_init(tg_config *config);

/* Frees everything and wipes the secret. */
void tg_config_free(tg_config *config);

/* Sets one setting by its file key ("max_concurrent"). Returns 0, or -1
 * with err filled ("origin: message"). */
int tg_config_set(tg_config *config, tg_origin from, const char *origin,
                  const char *key, const char *value, char *err);

/* Applies the text of a config file; origin names it in errors
 * ("FILE:LINE: ..."). *has_secret tells whether it set secret_key. */
int tg_config_apply_text(tg_config *config, const char *text,
                         const char *origin, int *has_secret, char *err);

/* Applies the ECOFLOW_* variables that lookup (getenv in real use) finds. */
int tg_config_apply_env(tg_config *config,
                        const char *(*lookup)(const char *name), char *err);

/* Applies the command line, argv[1..argc-1]. *config_path is set to the
 * value of --config (borrowed from argv) or NULL; the file is not read.
 * Applies nothing but --config when apply_settings is 0, so that the file
 * can be read first and the command line still win. */
int tg_config_apply_args(tg_config *config, int argc, char *const argv[],
                         int apply_settings, const char **config_path,
                         char *err);

/* Reads a regular file of at most 64 KiB into a new string (the caller
 * frees it with ef_secret_free), and its status into *st. */
char *tg_config_read_file(const char *path, struct stat *st, char *err);

/* Everything in order: --config FILE, the environment, the command line,
 * then tg_config_finish. Returns 0, or -1 with err filled. */
int tg_config_load(tg_config *config, int argc, char *const argv[],
                   const char *(*lookup)(const char *name), char *err);

/* Reads secret_key_file and checks that the settings make a run (both
 * keys; no device means every device of the account, as --discover; the
 * settings that go together), unless only --help, --version or
 * --list-metrics is asked. Returns 0, or -1 with err filled. */
int tg_config_finish(tg_config *config, char *err);

/* The options part of --help, from the settings table. */
void tg_config_usage(FILE *out);

#endif
