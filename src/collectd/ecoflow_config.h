/* ecoflow_config.h: the <Plugin ecoflow> block as plain data.
 *
 * Promises: a configuration tree becomes a list of accounts, each with its
 * credentials, endpoint, limits and devices, or is refused with one
 * `ecoflow plugin: ...` message that names the option and says what to do.
 * Nothing here needs the daemon: only liboconfig's types, so the unit tests
 * build trees by hand. Every device interval comes out resolved (the
 * plugin's interval when none is given) and never below
 * ECOFLOW_MIN_INTERVAL_S; so does the interval of the devices an account
 * discovers, and of every report. */
#ifndef ECOFLOW_COLLECTD_CONFIG_H
#define ECOFLOW_COLLECTD_CONFIG_H

#include "ef_account.h"
#include "ef_report.h"
#include "ef_schedule.h"
#include "ef_settings.h"
#include "liboconfig/oconfig.h"

#include <stddef.h>
#include <stdint.h>

#define ECOFLOW_DEFAULT_ACCOUNT "default"
/* The cloud blocks accounts that poll a device faster than this (lower
 * only under the soak test's hook, EF_TEST_MIN_INTERVAL_ENV). */
#define ECOFLOW_MIN_INTERVAL_S (ef_schedule_min_interval_ms() / 1000.0)
/* Names become collectd plugin instances: DATA_MAX_NAME_LEN (128) minus
 * the terminating NUL. */
#define ECOFLOW_NAME_MAX EF_DEVICE_NAME_MAX

#define ECOFLOW_REPORT_DEFAULT_INTERVAL_S                                      \
  (EF_REPORT_DEFAULT_INTERVAL_MS / 1000.0)

/* <Report "CODE">: a quota/data report over the week so far, fetched on
 * its own schedule (ef_report.h). */
typedef struct {
  char *code;
  char *instance_prefix; /* put before each type instance; "" when none */
  double interval_s;     /* resolved, >= ECOFLOW_MIN_INTERVAL_S */
} ecoflow_report;

typedef struct {
  char *serial;
  char *name;        /* the plugin instance: Name, else the serial */
  double interval_s; /* resolved, >= ECOFLOW_MIN_INTERVAL_S */
  char **quotas;     /* `Quota': polled with POST quota; NULL: quota/all */
  size_t n_quotas;
  ecoflow_report *reports; /* its own <Report> blocks */
  size_t n_reports;
  int raw_quotas; /* `RawQuotas': 1 true, -1 false, 0 as its account */
} ecoflow_device;

typedef struct {
  char *name; /* ECOFLOW_DEFAULT_ACCOUNT when written without <Account> */
  ef_account account;    /* endpoint, keys, CA file, limits (ef_account.h) */
  char *secret_key_file; /* `SecretKeyFile' as given, or NULL */
  ecoflow_device *devices;
  size_t n_devices;
  int discover;                 /* `Discover true': poll every listed device */
  double discover_refresh_s;    /* device/list every so often; 0: default */
  double discovered_interval_s; /* of discovered devices: the plugin's */
  ecoflow_report *reports;      /* account-level: for every device */
  size_t n_reports;
  ef_push_settings push; /* push mode and its options */
  /* `RawQuotas' of the account, else of the plugin block, else false:
   * also dispatch the quotas the catalog does not know of devices whose
   * family it knows. */
  int raw_quotas;
  /* `CellValues true': also each battery cell's voltage and each pack
   * sensor's temperature (about 50 values per PowerOcean). */
  int cell_values;
} ecoflow_account;

typedef struct {
  ecoflow_account **accounts;
  size_t n_accounts;
} ecoflow_config;

typedef enum { ECOFLOW_CONFIG_ERROR, ECOFLOW_CONFIG_WARNING } ecoflow_severity;

/* Receives each message, already prefixed with "ecoflow plugin: ". */
typedef void (*ecoflow_report_fn)(ecoflow_severity severity,
                                  const char *message, void *ctx);

/* Adds the accounts of one <Plugin ecoflow> block (ci) to config, which
 * starts zeroed and may already hold the accounts of an earlier block.
 * default_interval_s is the plugin's interval, for devices without
 * `Interval'. Returns 0, or -1 after reporting the first error; config then
 * holds only complete accounts and is still the caller's to free. */
int ecoflow_config_parse(ecoflow_config *config, const oconfig_item_t *ci,
                         double default_interval_s, ecoflow_report_fn report,
                         void *report_ctx);

/* Frees one account (wiping its secret). NULL is fine. */
void ecoflow_account_free(ecoflow_account *account);

/* Frees every account still in config and zeroes it. */
void ecoflow_config_free(ecoflow_config *config);

/* The options each block takes, as its refusal of an unknown one names
 * them ("AccessKey, SecretKey, ..., <Device>, <Report>"): the settings
 * table's (ef_settings.h) that stand in that block; NULL for no block. */
typedef enum {
  ECOFLOW_BLOCK_PLUGIN, /* <Plugin ecoflow>, beside any <Account> */
  ECOFLOW_BLOCK_ACCOUNT,
  ECOFLOW_BLOCK_DEVICE,
  ECOFLOW_BLOCK_REPORT,
} ecoflow_block;
const char *ecoflow_config_options(ecoflow_block block);

#endif
