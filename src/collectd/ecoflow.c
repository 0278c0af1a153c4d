/* ecoflow.c: the collectd plugin `ecoflow': EcoFlow devices' quotas as
 * collectd values, read through the EcoFlow IoT open HTTP API.
 *
 * Translation only. ecoflow_config.c turns the config tree into accounts;
 * the core (src/core) polls, decodes and names the quotas; this file
 * registers one read per account and turns each device's reading into
 * values, log lines and notifications.
 *
 * Each account gets its own read callback, so one account's trouble (or
 * collectd's back-off after a read that failed) never delays another's. */
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "client.h"
#include "ecoflow_config.h"
#include "freshness.h"
#include "health.h"
#include "metric.h"
#include "poll.h"
#include "schedule.h"

#define PLUGIN_NAME "ecoflow"
/* The cloud repeating a reading this often in a row means the device is
 * offline (it serves its cached copy); once could be a slow device. */
#define STALE_READINGS_OFFLINE 3

_Static_assert(ECOFLOW_NAME_MAX < DATA_MAX_NAME_LEN,
               "device names must fit a plugin instance");
_Static_assert(EF_NAME_LEN <= DATA_MAX_NAME_LEN,
               "the core's names must fit collectd's type and instance");

typedef struct {
  const ecoflow_device *config; /* owned by the account's config */
  char label[2 * DATA_MAX_NAME_LEN + 32]; /* names the device in messages */
  ef_schedule schedule; /* interval, and back-off while failing */
  ef_health health;
  ef_freshness freshness;
  unsigned stale_readings; /* in a row: repeats of the cloud's cached copy */
  bool answered;           /* during a read: its reading has arrived */
} device_t;

typedef struct {
  ecoflow_account *config; /* owned */
  ef_client *client;
  device_t *devices;
  ef_poll_target *due; /* one read's targets; room for every device */
  cdtime_t interval;   /* of the read: the shortest device interval */
} account_t;

/* One read of one account: what on_reading needs besides the reading. */
typedef struct {
  const account_t *account;
  int64_t started_ms;
} read_batch;

/* The <Plugin ecoflow> blocks, until init hands each account to its read. */
static ecoflow_config config;
static bool client_library_ready;

static void account_free(void *arg) /* {{{ */
{
  account_t *account = arg;
  if (account == NULL)
    return;
  ef_client_free(account->client);
  free(account->devices);
  free(account->due);
  ecoflow_account_free(account->config);
  free(account);
} /* }}} void account_free */

static void device_init(device_t *device, const ecoflow_device *config,
                        const ecoflow_account *account) /* {{{ */
{
  device->config = config;
  /* Due at once: the first read polls every device. */
  ef_schedule_start(&device->schedule,
                    (int64_t)(config->interval_s * 1000 + 0.5), 0);
  int n = strcmp(config->name, config->serial) == 0
              ? ssnprintf(device->label, sizeof(device->label), "device %s",
                          config->serial)
              : ssnprintf(device->label, sizeof(device->label),
                          "device \"%s\" (%s)", config->name, config->serial);
  if (strcmp(account->name, ECOFLOW_DEFAULT_ACCOUNT) != 0 && n > 0 &&
      (size_t)n < sizeof(device->label))
    ssnprintf(device->label + n, sizeof(device->label) - n,
              " of account \"%s\"", account->name);
} /* }}} void device_init */

/* Takes config on success; on failure config stays the caller's. */
static account_t *account_new(ecoflow_account *config) /* {{{ */
{
  account_t *account = calloc(1, sizeof(*account));
  if (account != NULL) {
    account->devices = calloc(config->n_devices, sizeof(*account->devices));
    account->due = calloc(config->n_devices, sizeof(*account->due));
  }
  if (account == NULL || account->devices == NULL || account->due == NULL) {
    ERROR("ecoflow plugin: out of memory");
    account_free(account);
    return NULL;
  }

  ef_client_options options = {
      .endpoint = config->endpoint,
      .access_key = config->access_key,
      .secret_key = config->secret_key,
      .timeout_ms = config->timeout_ms,
      .max_concurrent = config->max_concurrent,
      .ca_file = config->ca_file,
  };
  ef_error error = {0};
  account->client = ef_client_new(&options, &error);
  if (account->client == NULL) {
    char text[EF_ERROR_MESSAGE_LEN + 64];
    ef_error_format(&error, text, sizeof(text));
    ERROR("ecoflow plugin: cannot set up the client of account \"%s\": %s",
          config->name, text);
    account_free(account);
    return NULL;
  }

  account->config = config;
  account->interval = 0;
  for (size_t i = 0; i < config->n_devices; i++) {
    device_t *device = &account->devices[i];
    device_init(device, &config->devices[i], config);
    cdtime_t interval = MS_TO_CDTIME_T(device->schedule.interval_ms);
    if (account->interval == 0 || interval < account->interval)
      account->interval = interval;
  }
  return account;
} /* }}} account_t *account_new */

/* Tells notification plugins (and the log, through logfile) that a
 * device changed state. */
static void device_notify(const device_t *device, int severity,
                          const char *message,
                          const ef_error *error) /* {{{ */
{
  notification_t n = {.severity = severity, .time = cdtime()};
  sstrncpy(n.message, message, sizeof(n.message));
  sstrncpy(n.host, hostname_g, sizeof(n.host));
  sstrncpy(n.plugin, PLUGIN_NAME, sizeof(n.plugin));
  sstrncpy(n.plugin_instance, device->config->name,
           sizeof(n.plugin_instance));
  plugin_notification_meta_add_string(&n, "serial", device->config->serial);
  if (error != NULL && error->http_status != 0)
    plugin_notification_meta_add_signed_int(&n, "http_status",
                                            error->http_status);
  if (error != NULL && error->api_code[0] != '\0')
    plugin_notification_meta_add_string(&n, "api_code", error->api_code);
  /* Returns -1 when no notification plugin is loaded: not an error. */
  plugin_dispatch_notification(&n);
  plugin_notification_meta_free(n.meta);
} /* }}} void device_notify */

/* Logs and notifies when a device starts failing, fails differently or
 * recovers; a failure that merely persists stays quiet. */
static void device_report(const device_t *device, ef_health_event event,
                          unsigned failures, const ef_error *error) /* {{{ */
{
  char message[NOTIF_MAX_MSG_LEN];
  if (event == EF_HEALTH_RECOVERED) {
    NOTICE("ecoflow plugin: %s answers again after %u failed read%s",
           device->label, failures, failures == 1 ? "" : "s");
    ssnprintf(message, sizeof(message), "%s answers again",
              device->label);
    device_notify(device, NOTIF_OKAY, message, NULL);
    return;
  }
  char text[EF_ERROR_MESSAGE_LEN + 64];
  ef_error_format(error, text, sizeof(text));
  const char *advice = ef_error_advice(error);
  ERROR("ecoflow plugin: %s: %s%s%s", device->label, text,
        advice != NULL ? "; " : "", advice != NULL ? advice : "");
  ssnprintf(message, sizeof(message), "%s: %s", device->label, text);
  device_notify(device, NOTIF_FAILURE, message, error);
} /* }}} void device_report */

/* False for a reading the cloud merely repeated (its cached copy, served
 * while the device is offline): publishing it would pass old values off
 * as new. Says so once the repeats show the device offline, and once when
 * new data comes back. */
static bool device_reading_is_new(device_t *device, const account_t *account,
                                  const ef_reading *reading) /* {{{ */
{
  ef_freshness_verdict verdict = ef_freshness_check(
      &device->freshness, reading->samples, reading->time_ms,
      ef_client_clock_offset_ms(account->client));
  char message[NOTIF_MAX_MSG_LEN];
  if (verdict.stale) {
    if (++device->stale_readings == STALE_READINGS_OFFLINE) {
      ssnprintf(message, sizeof(message),
                "%s: the cloud repeats the same reading (%s), the "
                "device seems offline: no values until new data arrives",
                device->label, device->freshness.stamp);
      WARNING("ecoflow plugin: %s", message);
      device_notify(device, NOTIF_WARNING, message, NULL);
    }
    return false;
  }
  if (device->stale_readings >= STALE_READINGS_OFFLINE) {
    ssnprintf(message, sizeof(message), "%s: new data again",
              device->label);
    NOTICE("ecoflow plugin: %s", message);
    device_notify(device, NOTIF_OKAY, message, NULL);
  }
  device->stale_readings = 0;
  return true;
} /* }}} bool device_reading_is_new */

/* Records a poll's outcome (error NULL: success): when the device is due
 * again, and what to report. */
static void device_settle(device_t *device, read_batch *batch,
                          const ef_error *error) /* {{{ */
{
  /* From the read's start, so that a slow answer does not push a device
   * past its next read. */
  ef_schedule_record(&device->schedule, error, batch->started_ms);
  unsigned failures = device->health.failures;
  ef_health_event event = ef_health_update(&device->health, error);
  if (event != EF_HEALTH_UNCHANGED)
    device_report(device, event, failures, error);
} /* }}} void device_settle */

static void dispatch_metric(const ef_metric *metric, void *ctx) /* {{{ */
{
  value_list_t *vl = ctx;
  /* Text (states, error code lists): collectd carries numbers only. */
  if (metric->collectd_type[0] == '\0')
    return;

  /* The catalog names gauges; anything else would need a conversion that
   * changes the API's values, so it is refused loudly instead. */
  const data_set_t *ds = plugin_get_ds(metric->collectd_type);
  if (ds == NULL || ds->ds_num != 1 || ds->ds[0].type != DS_TYPE_GAUGE) {
    static c_complain_t complaint = C_COMPLAIN_INIT_STATIC;
    c_complain_once(LOG_ERR, &complaint,
                    "ecoflow plugin: type \"%s\" (for %s) is not a single "
                    "gauge in types.db: such values are skipped",
                    metric->collectd_type, metric->path);
    return;
  }

  sstrncpy(vl->type, metric->collectd_type, sizeof(vl->type));
  sstrncpy(vl->type_instance, metric->collectd_instance,
           sizeof(vl->type_instance));
  vl->values = &(value_t){.gauge = metric->number};
  vl->values_len = 1;
  plugin_dispatch_values(vl);
} /* }}} void dispatch_metric */

static void device_dispatch(const device_t *device,
                            const ef_reading *reading) /* {{{ */
{
  value_list_t vl = VALUE_LIST_INIT;
  vl.time = MS_TO_CDTIME_T(reading->time_ms);
  vl.interval = MS_TO_CDTIME_T(device->schedule.interval_ms);
  sstrncpy(vl.plugin, PLUGIN_NAME, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, device->config->name,
           sizeof(vl.plugin_instance));
  /* One meta data set for all values: dispatch copies it. */
  vl.meta = meta_data_create();
  if (vl.meta != NULL)
    meta_data_add_string(vl.meta, "serial", device->config->serial);
  ef_metrics_each(reading->samples, dispatch_metric, &vl, NULL);
  meta_data_destroy(vl.meta);
} /* }}} void device_dispatch */

static void on_reading(const ef_reading *reading, void *ctx) /* {{{ */
{
  read_batch *batch = ctx;
  device_t *device = reading->target->user;
  device->answered = true;
  device_settle(device, batch, reading->error);
  if (reading->error == NULL &&
      device_reading_is_new(device, batch->account, reading))
    device_dispatch(device, reading);
} /* }}} void on_reading */

/* Fills account->due with the devices the schedule says are due. */
static size_t account_collect_due(account_t *account, int64_t now_ms) /* {{{ */
{
  size_t n = 0;
  for (size_t i = 0; i < account->config->n_devices; i++) {
    device_t *device = &account->devices[i];
    if (!ef_schedule_due(&device->schedule, now_ms))
      continue;
    device->answered = false;
    account->due[n++] =
        (ef_poll_target){.sn = device->config->serial, .user = device};
  }
  return n;
} /* }}} size_t account_collect_due */

/* Always returns 0: device failures are logged and backed off per device
 * by the core (ef_schedule, and the account's cool-down). collectd's own
 * back-off on a failed read doubles up to MaxReadInterval (a day) and would
 * hide a recovered account for that long. */
static int ecoflow_read(user_data_t *ud) /* {{{ */
{
  account_t *account = ud->data;
  read_batch batch = {.account = account,
                      .started_ms = CDTIME_T_TO_MS(cdtime())};
  size_t n = account_collect_due(account, batch.started_ms);
  if (n == 0)
    return 0;

  ef_error error = {0};
  if (ef_poll_quotas(account->client, account->due, n, on_reading, &batch,
                     &error) != 0) {
    /* The batch broke off: the devices left without a reading failed the
     * same way. */
    for (size_t i = 0; i < n; i++) {
      device_t *device = account->due[i].user;
      if (!device->answered)
        device_settle(device, &batch, &error);
    }
  }
  return 0;
} /* }}} int ecoflow_read */

static void log_config_message(ecoflow_severity severity, const char *message,
                               void *ctx) /* {{{ */
{
  (void)ctx;
  plugin_log(severity == ECOFLOW_CONFIG_ERROR ? LOG_ERR : LOG_WARNING, "%s",
             message);
} /* }}} void log_config_message */

static int ecoflow_config_block(oconfig_item_t *ci) /* {{{ */
{
  return ecoflow_config_parse(&config, ci,
                              CDTIME_T_TO_DOUBLE(plugin_get_interval()),
                              log_config_message, NULL);
} /* }}} int ecoflow_config_block */

/* Reads are registered here rather than at config time: an init that fails
 * then leaves no read behind (collectd only unregisters the read named
 * after the plugin). */
static int ecoflow_init(void) /* {{{ */
{
  if (config.n_accounts == 0) {
    WARNING("ecoflow plugin: loaded without a <Plugin ecoflow> block: "
            "nothing to poll");
    return 0;
  }
  if (ef_client_global_init() != 0) {
    ERROR("ecoflow plugin: libcurl failed to initialise");
    return -1;
  }
  client_library_ready = true;

  size_t n = config.n_accounts;
  account_t **accounts = calloc(n, sizeof(*accounts));
  if (accounts == NULL) {
    ERROR("ecoflow plugin: out of memory");
    return -1;
  }
  size_t built = 0;
  while (built < n && (accounts[built] = account_new(config.accounts[built])))
    config.accounts[built++] = NULL; /* now the account's */
  int status = built == n ? 0 : -1;

  for (size_t i = 0; status == 0 && i < n; i++) {
    char name[DATA_MAX_NAME_LEN * 2];
    ssnprintf(name, sizeof(name), PLUGIN_NAME "/%s",
              accounts[i]->config->name);
    /* collectd owns the account from here, even when this fails. */
    status = plugin_register_complex_read(
        PLUGIN_NAME, name, ecoflow_read, accounts[i]->interval,
        &(user_data_t){.data = accounts[i], .free_func = account_free});
    accounts[i] = NULL;
  }
  if (status != 0)
    plugin_unregister_read_group(PLUGIN_NAME);
  for (size_t i = 0; i < n; i++)
    account_free(accounts[i]); /* the ones collectd never got */
  free(accounts);
  ecoflow_config_free(&config); /* what is left: nothing after success */
  return status;
} /* }}} int ecoflow_init */

static int ecoflow_shutdown(void) /* {{{ */
{
  ecoflow_config_free(&config);
  if (client_library_ready)
    ef_client_global_cleanup();
  client_library_ready = false;
  return 0;
} /* }}} int ecoflow_shutdown */

void module_register(void) {
  plugin_register_complex_config(PLUGIN_NAME, ecoflow_config_block);
  plugin_register_init(PLUGIN_NAME, ecoflow_init);
  plugin_register_shutdown(PLUGIN_NAME, ecoflow_shutdown);
}
