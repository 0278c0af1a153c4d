/* ef_settings.h: every setting of both front ends, once.
 *
 * Promises: one table (ef_settings.def) says, for each setting, its
 * collectd option and the blocks it stands in, its ecoflow-telegraf key
 * (in the --config file; --key-with-dashes on the command line), its
 * environment variable and where ecoflow-telegraf takes it from, its kind,
 * its verdict, its default and its help. The front ends' parsers look
 * names up here and hold values to the verdicts here, so a setting gets
 * the same verdict in the same words wherever it is written; the help,
 * the lists an unknown option's refusal names, the first-run snippets
 * (ef_check.c) and the documentation's tests (src/tools/ef_options.c) are
 * read from the table. The rules between settings (keys that are
 * missing, push options without push mode, a shard without discovery) are
 * one function, ef_settings_together; so are the interval floor's words,
 * the test hook's warning and push mode's settings (ef_push_settings). A
 * SECRET setting is never quoted and never taken from the command line: a
 * verdict's problem text never holds the value it refused (ef_account.h),
 * and only a FILE's refusal names the path. Adding a setting is one row
 * and, when it needs one, its verdict here; each front end then says
 * where the value lands. Nothing here prints. */
#ifndef EF_SETTINGS_H
#define EF_SETTINGS_H

#include "ef_engine.h"
#include "ef_setting_id.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
  EF_SETTING_TEXT,
  EF_SETTING_SECRET, /* a credential: never quoted, never on argv */
  EF_SETTING_FILE,   /* a path */
  EF_SETTING_BOOL,
  EF_SETTING_NUMBER,
  EF_SETTING_SECONDS, /* a duration in seconds, within [min, max] */
  EF_SETTING_LIST,    /* a word, repeatable */
  EF_SETTING_DEVICE,  /* a serial number, and a name */
  EF_SETTING_TIME,    /* a moment (ef_history.h) */
  EF_SETTING_BLOCK,   /* collectd's <Key "..."> ... </Key> */
  EF_SETTING_CONFIG,  /* ecoflow-telegraf's --config FILE */
  EF_SETTING_ACTION,  /* --help, --version, ...: do this and exit */
} ef_setting_kind;

/* Where a collectd option may stand. */
enum {
  EF_SETTING_IN_PLUGIN = 1,  /* <Plugin ecoflow>, beside <Account> blocks */
  EF_SETTING_IN_ACCOUNT = 2, /* an account (<Plugin ecoflow> without any) */
  EF_SETTING_IN_DEVICE = 4,
  EF_SETTING_IN_REPORT = 8,
};

/* Where ecoflow-telegraf may take a setting from (tg_origin). */
enum {
  EF_SETTING_FROM_FILE = 1,
  EF_SETTING_FROM_ENV = 2,
  EF_SETTING_FROM_ARGV = 4,
};

/* The verdict on a text: 0 with the value to keep in *out (malloc'ed;
 * *out is NULL before), or -1 with problem (EF_PROBLEM_LEN) filled. */
typedef int (*ef_setting_text_verdict)(const char *raw, char **out,
                                       char *problem);
/* The verdict on a number: 0 with it kept at out, a member of the type
 * the setting names (ef_setting_timeout: a long of ms), or -1. */
typedef int (*ef_setting_number_verdict)(double value, void *out,
                                         char *problem);

typedef struct {
  ef_setting_id id;
  const char *collectd; /* NULL: not a collectd option */
  unsigned blocks;      /* EF_SETTING_IN_* */
  const char *telegraf; /* NULL: not an ecoflow-telegraf setting */
  const char *env;      /* NULL: none */
  unsigned from;        /* EF_SETTING_FROM_* */
  ef_setting_kind kind;
  ef_setting_text_verdict text;     /* NULL: any text (clean, not empty) */
  ef_setting_number_verdict number; /* EF_SETTING_NUMBER */
  double min, max;                  /* EF_SETTING_SECONDS */
  int (*word)(const char *word);    /* 1 when a request takes it as is */
  const char *word_what;            /* what such a word is, in a refusal */
  const char *default_text;         /* NULL: none, or required */
  const char *metavar;              /* NULL: a flag */
  const char *help;
} ef_setting;

/* The row of id (id < EF_SETTINGS_N). */
const ef_setting *ef_setting_get(ef_setting_id id);

/* The collectd name of setting ID (EF_SET_ID without its prefix). */
#define EF_SETTING_COLLECTD(ID) (ef_setting_get(EF_SET_##ID)->collectd)

/* --key-with-dashes of an ecoflow-telegraf setting, as the command line
 * takes it, into out; returns out. */
#define EF_SETTING_FLAG_LEN 64
const char *ef_setting_flag(const ef_setting *s, char out[EF_SETTING_FLAG_LEN]);

/* The collectd option key (any case) that may stand in one of blocks, or
 * NULL. */
const ef_setting *ef_setting_by_collectd(const char *key, unsigned blocks);

/* The ecoflow-telegraf setting of the file key key (len bytes), or NULL. */
const ef_setting *ef_setting_by_telegraf(const char *key, size_t len);

/* 1 when collectd takes s as a block, <Key "..."> ... </Key>: BLOCK, and
 * DEVICE (<Device "SERIAL">). */
int ef_setting_collectd_block(const ef_setting *s);

/* The collectd options a block takes, as its refusal of an unknown one
 * names them ("AccessKey, SecretKey, ..., <Device>, <Report>"): those
 * that stand in one of blocks, in the table's order. Built once; never
 * NULL. */
const char *ef_settings_collectd_list(unsigned blocks);

/* The verdicts the table names (ef_account.h says each rule). */
int ef_setting_access_key(const char *raw, char **out, char *problem);
int ef_setting_secret_key(const char *raw, char **out, char *problem);
/* The shard "K/N" checked (ef_account_shard), kept as text. */
int ef_setting_shard(const char *raw, char **out, char *problem);
int ef_setting_timeout(double seconds, void *timeout_ms, char *problem);
int ef_setting_max_concurrent(double count, void *max_concurrent,
                              char *problem);
int ef_setting_push_refresh(double seconds, void *ms, char *problem);
int ef_setting_push_silence(double seconds, void *ms, char *problem);
int ef_setting_max_unknown(double count, void *max_unknown, char *problem);
int ef_setting_counter_glitch(double share, void *counter_glitch,
                              char *problem);
/* --history-max-windows: a whole number from 1 to EF_BACKFILL_MAX_WINDOWS,
 * into a long. */
int ef_setting_max_windows(double count, void *windows, char *problem);

/* What one account's settings came to, for the rules between them. */
typedef struct {
  int access_key, secret_key; /* given (a secret key or its file) */
  int devices;                /* devices configured */
  int discover;               /* reads every device of the account */
  int mqtt;                   /* push mode */
  int mqtt_options;           /* any other push setting given */
  int shard;                  /* a shard given */
} ef_settings_given;

/* The rules between settings, in the order they are checked. */
typedef enum {
  EF_SETTINGS_FINE,
  EF_SETTINGS_NO_ACCESS_KEY,
  EF_SETTINGS_NO_SECRET_KEY,
  EF_SETTINGS_NOTHING_TO_READ,   /* no device, no discovery */
  EF_SETTINGS_PUSH_WITHOUT_MQTT, /* a push option, push mode off */
  EF_SETTINGS_SHARD_WITHOUT_DISCOVERY,
} ef_settings_rule;

/* The first rule given breaks, or EF_SETTINGS_FINE. The front end words
 * the refusal in its own names (ef_setting_get(id)->collectd, ...). */
ef_settings_rule ef_settings_together(const ef_settings_given *given);

/* Push mode's settings as both front ends hold them: the engine's
 * ef_push_options are made of them. */
typedef struct {
  int enabled;            /* push mode */
  char *client_id_suffix; /* NULL: the program's name */
  int64_t refresh_ms;     /* 0: EF_PUSH_DEFAULT_REFRESH_MS */
  int64_t silence_ms;     /* 0: EF_PUSH_DEFAULT_SILENCE_MS */
} ef_push_settings;

/* 1 when a push setting other than push mode itself is given. */
int ef_push_settings_extra(const ef_push_settings *push);

/* The engine's push options of push, which they borrow the suffix of;
 * program is the suffix when none is given ("collectd"), stream as
 * ef_push_options says. */
ef_push_options ef_push_settings_options(const ef_push_settings *push,
                                         const char *program, int stream);

/* Frees what push holds and zeroes it. */
void ef_push_settings_clear(ef_push_settings *push);

/* The interval floor (ef_schedule_min_interval_ms, 10 s; the cloud blocks
 * accounts that poll faster): 1 when *interval_s is below it, raised to
 * it, with problem (EF_PROBLEM_LEN) saying what happens instead ("polling
 * every 10 s instead (...)"), for the front end to say where; else 0. */
int ef_settings_interval_floor(double *interval_s, char *problem);

/* When the test hook EF_TEST_MIN_INTERVAL_ENV lowers the interval floor:
 * 1, with the warning in problem (EF_PROBLEM_LEN); else 0. */
int ef_settings_hook_warning(char *problem);

#endif
