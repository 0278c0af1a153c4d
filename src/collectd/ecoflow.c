/* ecoflow.c: the collectd plugin `ecoflow': EcoFlow devices' quotas as
 * collectd values, read through the EcoFlow IoT open HTTP API.
 *
 * Translation only. ecoflow_config.c turns the config tree into accounts;
 * the core (src/core) lists, polls, decodes and names the quotas and
 * decides which devices are due (ef_roster.h) and what a report's values are
 * called (ef_report.h); this file registers one read per account and turns
 * each device's reading, online flag and reports into values, log lines
 * and notifications.
 *
 * Each account gets its own read callback, so one account's trouble (or
 * collectd's back-off after a read that failed) never delays another's.
 * A read refreshes the account's device list when it is due (`Discover'),
 * polls the devices that are due, then fetches the reports that are due:
 * every schedule is the core's, the read only gives them their turn. */
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "ecoflow_config.h"
#include "ef_client.h"
#include "ef_freshness.h"
#include "ef_health.h"
#include "ef_history.h"
#include "ef_metric.h"
#include "ef_poll.h"
#include "ef_report.h"
#include "ef_roster.h"
#include "ef_schedule.h"

#define PLUGIN_NAME "ecoflow"
/* The cloud repeating a reading this often in a row means the device is
 * offline (it serves its cached copy); once could be a slow device. */
#define STALE_READINGS_OFFLINE 3
/* device/list's online flag, per listed device, at each refresh. */
#define ONLINE_TYPE "bool"
#define ONLINE_INSTANCE "online"
/* How old the reading's data is, by the cloud's stamp (ef_freshness.h). */
#define AGE_TYPE "duration"
#define AGE_INSTANCE "data_age"
/* Names a device in messages: quoted name, serial, account. */
#define LABEL_LEN (2 * DATA_MAX_NAME_LEN + 64)

_Static_assert(ECOFLOW_NAME_MAX < DATA_MAX_NAME_LEN,
               "device names must fit a plugin instance");
_Static_assert(EF_NAME_LEN <= DATA_MAX_NAME_LEN,
               "the core's names must fit collectd's type and instance");

/* One <Report> of one device: its own schedule and error state. */
typedef struct {
  const ecoflow_report *config; /* owned by the account's config */
  ef_schedule schedule;
  ef_health health;
} report_t;

/* What the plugin keeps per device besides the roster's own state
 * (schedule, health, freshness): the user state of ef_roster_device. */
typedef struct {
  char label[LABEL_LEN];   /* names the device in messages */
  unsigned stale_readings; /* in a row: repeats of the cloud's cached copy */
  bool answered;           /* during a read: its reading has arrived */
  report_t *reports;       /* the device's own, then the account's */
  size_t n_reports;
} device_t;

typedef struct {
  ecoflow_account *config; /* owned */
  ef_client *client;
  ef_roster *roster;
  cdtime_t interval; /* of the read: the shortest interval of anything */
} account_t;

/* One read of one account: what the callbacks need besides their
 * answer. */
typedef struct {
  const account_t *account;
  int64_t started_ms;
} read_batch;

/* The <Plugin ecoflow> blocks, until init hands each account to its read. */
static ecoflow_config config;
static bool client_library_ready;

static int64_t ms_of_seconds(double seconds) {
  return (int64_t)(seconds * 1000 + 0.5);
}

/* The plugin instance: the configured Name (the serial number by
 * default), or the serial number of a discovered device, which stays the
 * same when the device is renamed in the app. */
static const char *device_instance(const ef_roster_device *device) {
  return device->name != NULL ? device->name : device->sn;
}

static void device_state_free(void *user) /* {{{ */
{
  device_t *state = user;
  if (state == NULL)
    return;
  free(state->reports);
  free(state);
} /* }}} void device_state_free */

static void device_label(char *out, size_t size, const ef_roster_device *device,
                         const ecoflow_account *account) /* {{{ */
{
  const char *instance = device_instance(device);
  int n;
  if (strcmp(instance, device->sn) != 0)
    n = ssnprintf(out, size, "device \"%s\" (%s)", instance, device->sn);
  else if (device->listed_name != NULL)
    n = ssnprintf(out, size, "device %s (\"%s\")", device->sn,
                  device->listed_name);
  else
    n = ssnprintf(out, size, "device %s", device->sn);
  if (strcmp(account->name, ECOFLOW_DEFAULT_ACCOUNT) != 0 && n > 0 &&
      (size_t)n < size)
    ssnprintf(out + n, size - n, " of account \"%s\"", account->name);
} /* }}} void device_label */

/* Gives a device of the roster the plugin's state: its label and the
 * schedules of its reports (its own, then the account's), all due at
 * once. */
static int device_attach(const account_t *account,
                         ef_roster_device *device) /* {{{ */
{
  const ecoflow_device *configured = device->config;
  size_t own = configured != NULL ? configured->n_reports : 0;
  size_t n = own + account->config->n_reports;
  device_t *state = calloc(1, sizeof(*state));
  if (state != NULL && n > 0)
    state->reports = calloc(n, sizeof(*state->reports));
  if (state == NULL || (n > 0 && state->reports == NULL)) {
    device_state_free(state);
    return -1;
  }
  state->n_reports = n;
  for (size_t i = 0; i < n; i++) {
    report_t *report = &state->reports[i];
    report->config =
        i < own ? &configured->reports[i] : &account->config->reports[i - own];
    ef_schedule_start(&report->schedule,
                      ms_of_seconds(report->config->interval_s), 0);
  }
  device_label(state->label, sizeof(state->label), device, account->config);
  device->user = state;
  return 0;
} /* }}} int device_attach */

/* Attaches the plugin's state to the devices that have none yet (all of
 * them at the first read, then the ones discovery added). Returns -1 when
 * out of memory. */
static int account_attach_devices(const account_t *account) /* {{{ */
{
  for (size_t i = 0; i < ef_roster_size(account->roster); i++) {
    ef_roster_device *device = ef_roster_device_at(account->roster, i);
    if (device->user == NULL && device_attach(account, device) != 0)
      return -1;
  }
  return 0;
} /* }}} int account_attach_devices */

static void account_free(void *arg) /* {{{ */
{
  account_t *account = arg;
  if (account == NULL)
    return;
  ef_roster_free(account->roster);
  ef_client_free(account->client);
  ecoflow_account_free(account->config);
  free(account);
} /* }}} void account_free */

static void keep_shorter(double *shortest, double seconds) {
  if (*shortest == 0 || seconds < *shortest)
    *shortest = seconds;
}

/* The read's interval: the shortest of the devices', the reports' and,
 * with discovery, that of discovered devices. */
static cdtime_t account_interval(const ecoflow_account *config) /* {{{ */
{
  double shortest = config->discover ? config->discovered_interval_s : 0;
  for (size_t i = 0; i < config->n_devices; i++) {
    keep_shorter(&shortest, config->devices[i].interval_s);
    for (size_t r = 0; r < config->devices[i].n_reports; r++)
      keep_shorter(&shortest, config->devices[i].reports[r].interval_s);
  }
  for (size_t r = 0; r < config->n_reports; r++)
    keep_shorter(&shortest, config->reports[r].interval_s);
  return DOUBLE_TO_CDTIME_T(shortest);
} /* }}} cdtime_t account_interval */

static ef_roster *roster_new(const ecoflow_account *config) /* {{{ */
{
  ef_roster_entry *entries =
      calloc(config->n_devices ? config->n_devices : 1, sizeof(*entries));
  if (entries == NULL)
    return NULL;
  for (size_t i = 0; i < config->n_devices; i++) {
    const ecoflow_device *device = &config->devices[i];
    entries[i] =
        (ef_roster_entry){.sn = device->serial,
                          .name = device->name,
                          .interval_ms = ms_of_seconds(device->interval_s),
                          .quotas = (const char *const *)device->quotas,
                          .n_quotas = device->n_quotas,
                          .config = (void *)device};
  }
  ef_roster_options options = {
      .discover = config->discover,
      .refresh_ms = ms_of_seconds(config->discover_refresh_s),
      .interval_ms = ms_of_seconds(config->discovered_interval_s),
      .free_user = device_state_free};
  /* Due at once: the first read lists and polls every device. */
  ef_roster *roster = ef_roster_new(&options, entries, config->n_devices, 0);
  free(entries);
  return roster;
} /* }}} ef_roster *roster_new */

/* Takes config on success; on failure config stays the caller's. */
static account_t *account_new(ecoflow_account *config) /* {{{ */
{
  account_t *account = calloc(1, sizeof(*account));
  if (account != NULL)
    account->roster = roster_new(config);
  if (account == NULL || account->roster == NULL) {
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
  account->interval = account_interval(config);
  if (account_attach_devices(account) != 0) {
    ERROR("ecoflow plugin: out of memory");
    account->config = NULL; /* still the caller's */
    account_free(account);
    return NULL;
  }
  return account;
} /* }}} account_t *account_new */

/* Tells notification plugins (and the log, through logfile) that a
 * device changed state. */
static void device_notify(const ef_roster_device *device, int severity,
                          const char *message, const ef_error *error) /* {{{ */
{
  notification_t n = {.severity = severity, .time = cdtime()};
  sstrncpy(n.message, message, sizeof(n.message));
  sstrncpy(n.host, hostname_g, sizeof(n.host));
  sstrncpy(n.plugin, PLUGIN_NAME, sizeof(n.plugin));
  sstrncpy(n.plugin_instance, device_instance(device),
           sizeof(n.plugin_instance));
  plugin_notification_meta_add_string(&n, "serial", device->sn);
  if (error != NULL && error->http_status != 0)
    plugin_notification_meta_add_signed_int(&n, "http_status",
                                            error->http_status);
  if (error != NULL && error->api_code[0] != '\0')
    plugin_notification_meta_add_string(&n, "api_code", error->api_code);
  /* Returns -1 when no notification plugin is loaded: not an error. */
  plugin_dispatch_notification(&n);
  plugin_notification_meta_free(n.meta);
} /* }}} void device_notify */

/* Logs and notifies when a device (what: NULL) or one of its reports
 * (what: "report CODE") starts failing, fails differently or recovers; a
 * failure that merely persists stays quiet. */
static void device_report(const ef_roster_device *device, const char *what,
                          ef_health_event event, unsigned failures,
                          const ef_error *error) /* {{{ */
{
  const device_t *state = device->user;
  char subject[LABEL_LEN + EF_REPORT_CODE_MAX + 16];
  ssnprintf(subject, sizeof(subject), "%s%s%s", state->label,
            what != NULL ? ": " : "", what != NULL ? what : "");
  char message[NOTIF_MAX_MSG_LEN];
  if (event == EF_HEALTH_RECOVERED) {
    NOTICE("ecoflow plugin: %s answers again after %u failed read%s", subject,
           failures, failures == 1 ? "" : "s");
    ssnprintf(message, sizeof(message), "%s answers again", subject);
    device_notify(device, NOTIF_OKAY, message, NULL);
    return;
  }
  char text[EF_ERROR_MESSAGE_LEN + 512];
  ef_roster_explain(error, 1, text, sizeof(text));
  ERROR("ecoflow plugin: %s: %s", subject, text);
  char short_text[EF_ERROR_MESSAGE_LEN + 64];
  ef_error_format(error, short_text, sizeof(short_text));
  ssnprintf(message, sizeof(message), "%s: %s", subject, short_text);
  device_notify(device, NOTIF_FAILURE, message, error);
} /* }}} void device_report */

/* False for a reading the cloud merely repeated (its cached copy, served
 * while the device is offline): publishing it would pass old values off
 * as new. Says so once the repeats show the device offline, and once when
 * new data comes back. */
static bool device_reading_is_new(ef_roster_device *device,
                                  const account_t *account,
                                  const ef_reading *reading,
                                  ef_freshness_verdict *verdict) /* {{{ */
{
  device_t *state = device->user;
  *verdict =
      ef_freshness_check(&device->freshness, reading->samples, reading->time_ms,
                         ef_client_clock_offset_ms(account->client));
  char message[NOTIF_MAX_MSG_LEN];
  if (verdict->stale) {
    if (++state->stale_readings == STALE_READINGS_OFFLINE) {
      ssnprintf(message, sizeof(message),
                "%s: the cloud repeats the same reading (%s), the "
                "device seems offline: no values until new data arrives",
                state->label, device->freshness.stamp);
      WARNING("ecoflow plugin: %s", message);
      device_notify(device, NOTIF_WARNING, message, NULL);
    }
    return false;
  }
  if (state->stale_readings >= STALE_READINGS_OFFLINE) {
    ssnprintf(message, sizeof(message), "%s: new data again", state->label);
    NOTICE("ecoflow plugin: %s", message);
    device_notify(device, NOTIF_OKAY, message, NULL);
  }
  state->stale_readings = 0;
  return true;
} /* }}} bool device_reading_is_new */

/* Records a poll's outcome (error NULL: success): when the device is due
 * again, and what to report. */
static void device_settle(ef_roster_device *device, read_batch *batch,
                          const ef_error *error) /* {{{ */
{
  unsigned failures = device->health.failures;
  /* From the read's start, so that a slow answer does not push a device
   * past its next read. */
  ef_health_event event = ef_roster_settle(device, error, batch->started_ms);
  if (event != EF_HEALTH_UNCHANGED)
    device_report(device, NULL, event, failures, error);
} /* }}} void device_settle */

/* Dispatches one gauge value of type and instance with vl's identity;
 * what names it in the complaint when types.db has no such gauge. */
static void dispatch_gauge(value_list_t *vl, const char *type,
                           const char *instance, double value,
                           const char *what) /* {{{ */
{
  /* The core names gauges; anything else would need a conversion that
   * changes the API's values, so it is refused loudly instead. */
  const data_set_t *ds = plugin_get_ds(type);
  if (ds == NULL || ds->ds_num != 1 || ds->ds[0].type != DS_TYPE_GAUGE) {
    static c_complain_t complaint = C_COMPLAIN_INIT_STATIC;
    c_complain_once(LOG_ERR, &complaint,
                    "ecoflow plugin: type \"%s\" (for %s) is not a single "
                    "gauge in types.db: such values are skipped",
                    type, what);
    return;
  }
  sstrncpy(vl->type, type, sizeof(vl->type));
  sstrncpy(vl->type_instance, instance, sizeof(vl->type_instance));
  vl->values = &(value_t){.gauge = value};
  vl->values_len = 1;
  plugin_dispatch_values(vl);
} /* }}} void dispatch_gauge */

static void dispatch_metric(const ef_metric *metric, void *ctx) /* {{{ */
{
  /* Text (states, error code lists): collectd carries numbers only. */
  if (metric->collectd_type[0] != '\0')
    dispatch_gauge(ctx, metric->collectd_type, metric->collectd_instance,
                   metric->number, metric->path);
} /* }}} void dispatch_metric */

/* A value list of device at time_ms: plugin, instance and the meta data
 * every value of the device carries (serial number, product when the
 * list names it). The caller destroys vl->meta. */
static void device_value_list(value_list_t *vl, const ef_roster_device *device,
                              int64_t time_ms, int64_t interval_ms) /* {{{ */
{
  *vl = (value_list_t)VALUE_LIST_INIT;
  vl->time = MS_TO_CDTIME_T(time_ms);
  vl->interval = MS_TO_CDTIME_T(interval_ms);
  sstrncpy(vl->plugin, PLUGIN_NAME, sizeof(vl->plugin));
  sstrncpy(vl->plugin_instance, device_instance(device),
           sizeof(vl->plugin_instance));
  /* One meta data set for all values: dispatch copies it. */
  vl->meta = meta_data_create();
  if (vl->meta == NULL)
    return;
  meta_data_add_string(vl->meta, "serial", device->sn);
  if (device->product != NULL)
    meta_data_add_string(vl->meta, "product", device->product);
} /* }}} void device_value_list */

/* The reading's values when they are new; its data age whenever the cloud
 * stamped it, so that a graph shows a device going quiet. */
static void device_dispatch(const ef_roster_device *device,
                            const ef_reading *reading, bool is_new,
                            const ef_freshness_verdict *verdict) /* {{{ */
{
  value_list_t vl;
  device_value_list(&vl, device, reading->time_ms,
                    device->schedule.interval_ms);
  if (is_new)
    ef_metrics_each(reading->samples, dispatch_metric, &vl, NULL);
  if (verdict->has_age)
    dispatch_gauge(&vl, AGE_TYPE, AGE_INSTANCE, verdict->age_s,
                   EF_CLOUD_STAMP_PATH);
  meta_data_destroy(vl.meta);
} /* }}} void device_dispatch */

static void on_reading(const ef_reading *reading, void *ctx) /* {{{ */
{
  read_batch *batch = ctx;
  ef_roster_device *device = reading->target->user;
  device_t *state = device->user;
  state->answered = true;
  device_settle(device, batch, reading->error);
  if (reading->error != NULL)
    return;
  ef_freshness_verdict verdict;
  bool is_new =
      device_reading_is_new(device, batch->account, reading, &verdict);
  device_dispatch(device, reading, is_new, &verdict);
} /* }}} void on_reading */

/* The list's online flag of every device it names, valid for one refresh
 * period. */
static void account_dispatch_online(const account_t *account,
                                    int64_t now_ms) /* {{{ */
{
  int64_t period = account->config->discover_refresh_s > 0
                       ? ms_of_seconds(account->config->discover_refresh_s)
                       : EF_ROSTER_DEFAULT_REFRESH_MS;
  for (size_t i = 0; i < ef_roster_size(account->roster); i++) {
    const ef_roster_device *device = ef_roster_device_at(account->roster, i);
    if (device->presence == EF_PRESENCE_UNKNOWN)
      continue;
    value_list_t vl;
    device_value_list(&vl, device, now_ms, period);
    dispatch_gauge(&vl, ONLINE_TYPE, ONLINE_INSTANCE,
                   device->presence == EF_PRESENCE_ONLINE, "device/list");
    meta_data_destroy(vl.meta);
  }
} /* }}} void account_dispatch_online */

/* What the account's device list changed: said once, at info or notice
 * level for devices (an offline device is not an error), as an error for
 * the list itself. */
static void on_roster_event(ef_roster_event event, ef_roster_device *device,
                            const ef_error *error, void *ctx) /* {{{ */
{
  const account_t *account = ctx;
  char label[LABEL_LEN] = "";
  if (device != NULL)
    device_label(label, sizeof(label), device, account->config);
  char text[EF_ERROR_MESSAGE_LEN + 512];
  switch (event) {
  case EF_ROSTER_ADDED:
    INFO("ecoflow plugin: %s%s%s%s: found by discovery, polled every %g s",
         label, device->product ? " (" : "",
         device->product ? device->product : "", device->product ? ")" : "",
         CDTIME_T_TO_DOUBLE(MS_TO_CDTIME_T(device->schedule.interval_ms)));
    break;
  case EF_ROSTER_REMOVED:
    NOTICE("ecoflow plugin: %s is no longer listed by the account: not "
           "polled any more",
           label);
    break;
  case EF_ROSTER_OFFLINE:
    NOTICE("ecoflow plugin: %s is offline (device/list): not polled until "
           "it is online again",
           label);
    break;
  case EF_ROSTER_ONLINE:
    NOTICE("ecoflow plugin: %s is online again (device/list)", label);
    break;
  case EF_ROSTER_LIST_FAILED:
    ef_roster_explain(error, 1, text, sizeof(text));
    ERROR("ecoflow plugin: listing the devices of account \"%s\" "
          "(device/list) failed: %s; configured devices are still polled, "
          "and the list is asked again later",
          account->config->name, text);
    break;
  case EF_ROSTER_LIST_RECOVERED:
    NOTICE("ecoflow plugin: listing the devices of account \"%s\" works "
           "again",
           account->config->name);
    break;
  }
} /* }}} void on_roster_event */

/* One fetch of one report of one device: what on_report needs. */
typedef struct {
  ef_roster_device *device;
  report_t *report;
  int64_t started_ms;
  bool answered;
} report_fetch;

static void
dispatch_report(const ef_roster_device *device, const report_t *report,
                const ef_history_result *result, int64_t time_ms) /* {{{ */
{
  value_list_t vl;
  device_value_list(&vl, device, time_ms,
                    ms_of_seconds(report->config->interval_s));
  if (vl.meta != NULL) {
    char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
    ef_time_format(result->window->begin, begin);
    ef_time_format(result->window->end, end);
    meta_data_add_string(vl.meta, "report", report->config->code);
    meta_data_add_string(vl.meta, "begin", begin);
    meta_data_add_string(vl.meta, "end", end);
  }
  for (size_t i = 0; i < result->n_values; i++) {
    ef_report_value value;
    ef_report_value_make(&result->values[i], &value);
    char instance[DATA_MAX_NAME_LEN];
    ssnprintf(instance, sizeof(instance), "%s%s",
              report->config->instance_prefix, value.name);
    dispatch_gauge(&vl, value.collectd_type, instance, value.number,
                   report->config->code);
  }
  meta_data_destroy(vl.meta);
} /* }}} void dispatch_report */

/* Settles a report's schedule and error state (error NULL: success). */
static void report_settle(report_fetch *fetch, const ef_error *error) /* {{{ */
{
  report_t *report = fetch->report;
  fetch->answered = true;
  ef_schedule_record(&report->schedule, error, fetch->started_ms);
  unsigned failures = report->health.failures;
  ef_health_event event = ef_health_update(&report->health, error);
  if (event == EF_HEALTH_UNCHANGED)
    return;
  char what[EF_REPORT_CODE_MAX + 16];
  ssnprintf(what, sizeof(what), "report %s", report->config->code);
  device_report(fetch->device, what, event, failures, error);
} /* }}} void report_settle */

static void on_report(const ef_history_result *result, void *ctx) /* {{{ */
{
  report_fetch *fetch = ctx;
  report_settle(fetch, result->error);
  if (result->error == NULL)
    dispatch_report(fetch->device, fetch->report, result, fetch->started_ms);
} /* }}} void on_report */

/* Fetches the reports that are due over the week so far, by the server's
 * clock. Offline devices have none due (the cloud has nothing new), nor
 * have devices the cloud refuses for good: they are reported already. */
static void account_fetch_reports(const account_t *account,
                                  int64_t now_ms) /* {{{ */
{
  ef_window week = ef_report_week_so_far(
      (time_t)((now_ms + ef_client_clock_offset_ms(account->client)) / 1000));
  for (size_t i = 0; i < ef_roster_size(account->roster); i++) {
    ef_roster_device *device = ef_roster_device_at(account->roster, i);
    device_t *state = device->user;
    if (device->presence == EF_PRESENCE_OFFLINE ||
        (device->health.failing && ef_schedule_refused(&device->health.last)))
      continue;
    for (size_t r = 0; r < state->n_reports; r++) {
      report_fetch fetch = {
          .device = device, .report = &state->reports[r], .started_ms = now_ms};
      if (!ef_schedule_due(&fetch.report->schedule, now_ms))
        continue;
      ef_error error = {0};
      if (ef_history_fetch(account->client, device->sn,
                           fetch.report->config->code, &week, 1, on_report,
                           &fetch, &error) != 0 &&
          !fetch.answered)
        report_settle(&fetch, &error);
    }
  }
} /* }}} void account_fetch_reports */

/* Says once when the cloud's clock is far off ours, and once when they
 * agree again: the signatures then carry the server's time, which would
 * otherwise hide a wrong clock. */
static void account_report_clock(account_t *account) /* {{{ */
{
  char text[256];
  switch (ef_client_clock_news(account->client, text, sizeof(text))) {
  case EF_CLOCK_SKEWED:
    WARNING("ecoflow plugin: account \"%s\": %s", account->config->name, text);
    break;
  case EF_CLOCK_IN_STEP:
    NOTICE("ecoflow plugin: account \"%s\": %s", account->config->name, text);
    break;
  case EF_CLOCK_UNCHANGED:
    break;
  }
} /* }}} void account_report_clock */

/* Always returns 0: device failures are logged and backed off per device
 * by the core (ef_schedule, and the account's cool-down). collectd's own
 * back-off on a failed read doubles up to MaxReadInterval (a day) and would
 * hide a recovered account for that long. */
static int ecoflow_read(user_data_t *ud) /* {{{ */
{
  account_t *account = ud->data;
  read_batch batch = {.account = account,
                      .started_ms = CDTIME_T_TO_MS(cdtime())};
  int listed = ef_roster_refresh(account->roster, account->client,
                                 batch.started_ms, on_roster_event, account);
  ef_roster_round round;
  if (listed < 0 || account_attach_devices(account) != 0 ||
      ef_roster_round_start(account->roster, batch.started_ms, &round) != 0) {
    ERROR("ecoflow plugin: out of memory");
    return 0;
  }
  if (listed > 0 && !ef_roster_list_failing(account->roster))
    account_dispatch_online(account, batch.started_ms);

  for (size_t i = 0; i < round.n_targets; i++)
    ((device_t *)((ef_roster_device *)round.targets[i].user)->user)->answered =
        false;
  ef_error error = {0};
  if (round.n_targets > 0 &&
      ef_poll_quotas(account->client, round.targets, round.n_targets,
                     on_reading, &batch, &error) != 0) {
    /* The batch broke off: the devices left without a reading failed the
     * same way. */
    for (size_t i = 0; i < round.n_targets; i++) {
      ef_roster_device *device = round.targets[i].user;
      if (!((device_t *)device->user)->answered)
        device_settle(device, &batch, &error);
    }
  }
  account_fetch_reports(account, batch.started_ms);
  account_report_clock(account);
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
    ssnprintf(name, sizeof(name), PLUGIN_NAME "/%s", accounts[i]->config->name);
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
