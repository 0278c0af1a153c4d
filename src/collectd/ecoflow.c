/* ecoflow.c: the collectd plugin `ecoflow': EcoFlow devices' quotas as
 * collectd values, read through the EcoFlow IoT open HTTP API.
 *
 * Translation only. ecoflow_config.c turns the config tree into accounts;
 * the core's engine (ef_engine.h) lists, polls, decodes and names the
 * quotas, decides which devices and reports are due and what is news.
 * This file registers one read per account and turns what the engine
 * tells into values (typed from types.db), log lines and notifications.
 *
 * Each account gets its own read callback, so one account's trouble (or
 * collectd's back-off after a read that failed) never delays another's. */
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/configfile.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "ecoflow_config.h"
#include "ef_check.h"
#include "ef_client.h"
#include "ef_engine.h"

#include <signal.h>

#define PLUGIN_NAME "ecoflow"
/* device/list's online flag, per listed device, at each refresh. */
#define ONLINE_TYPE "bool"
#define ONLINE_INSTANCE "online"
/* How old the reading's data is, by the cloud's stamp. */
#define AGE_TYPE "duration"
#define AGE_INSTANCE "data_age"
/* Names a device in messages: quoted name, serial, account. */
#define LABEL_LEN (2 * DATA_MAX_NAME_LEN + 64)

_Static_assert(ECOFLOW_NAME_MAX < DATA_MAX_NAME_LEN,
               "device names must fit a plugin instance");
_Static_assert(EF_NAME_LEN <= DATA_MAX_NAME_LEN,
               "the core's names must fit collectd's type and instance");

typedef struct {
  ecoflow_account *config; /* owned */
  ef_device_config *devices;
  ef_report_config *reports; /* the account's, then each device's */
  ef_engine *engine;
  cdtime_t interval; /* of the read: the shortest interval of anything */
  value_list_t vl;   /* of the reading being dispatched */
  bool check_first;  /* collectd -T: the first-run check before the read */
} account_t;

/* The <Plugin ecoflow> blocks, until init hands each account to its read. */
static ecoflow_config plugin_config;
/* The plugin instances of every account's devices: collectd names a series
 * by host, plugin, plugin instance and type only, so two devices of any
 * accounts must never share one. */
static ef_instances *instances;
static bool client_library_ready;
/* collectd's own SIGTERM and SIGINT handlers, which ours call on. */
static struct sigaction daemon_sigterm, daemon_sigint;
static bool stop_handlers_installed;

static int64_t ms_of_seconds(double seconds) {
  return (int64_t)(seconds * 1000 + 0.5);
}

/* The plugin instance: the configured Name (the serial number by
 * default), or the serial number of a discovered device, which stays the
 * same when the device is renamed in the app; with a suffix when another
 * device of any account has it already (ef_roster.h). */
static const char *device_instance(const ef_roster_device *device) {
  return device->instance;
}

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

/* ---- values -------------------------------------------------------------
 */

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
  value_t gauge = {.gauge = value};
  sstrncpy(vl->type, type, sizeof(vl->type));
  sstrncpy(vl->type_instance, instance, sizeof(vl->type_instance));
  vl->values = &gauge;
  vl->values_len = 1;
  plugin_dispatch_values(vl);
  vl->values = NULL;
  vl->values_len = 0;
} /* }}} void dispatch_gauge */

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

static void on_reading_begin(void *ctx,
                             const ef_reading_view *reading) /* {{{ */
{
  account_t *account = ctx;
  device_value_list(&account->vl, reading->device, reading->time_ms,
                    reading->interval_ms);
} /* }}} void on_reading_begin */

static void on_metric(void *ctx, const ef_reading_view *reading,
                      const ef_metric *metric) /* {{{ */
{
  (void)reading;
  account_t *account = ctx;
  /* Text (states, error code lists): collectd carries numbers only. The
   * value in the unit its type holds (cell mV as V). */
  if (metric->collectd_type[0] != '\0')
    dispatch_gauge(&account->vl, metric->collectd_type,
                   metric->collectd_instance, metric->collectd_value,
                   metric->path);
} /* }}} void on_metric */

/* The data age whenever the cloud stamped the reading, so that a graph
 * shows a device going quiet (its values are not dispatched then). */
static void on_reading_end(void *ctx, const ef_reading_view *reading) /* {{{ */
{
  account_t *account = ctx;
  if (reading->has_age)
    dispatch_gauge(&account->vl, AGE_TYPE, AGE_INSTANCE, reading->age_s,
                   "quota_cloud_ts");
  meta_data_destroy(account->vl.meta);
  account->vl.meta = NULL;
} /* }}} void on_reading_end */

static void on_report(void *ctx, const ef_report_view *report) /* {{{ */
{
  (void)ctx;
  const ecoflow_report *config = report->config->user;
  value_list_t vl;
  device_value_list(&vl, report->device, report->time_ms,
                    report->config->interval_ms);
  if (vl.meta != NULL) {
    char begin[EF_TIME_TEXT_LEN], end[EF_TIME_TEXT_LEN];
    ef_time_format(report->window->begin, begin);
    ef_time_format(report->window->end, end);
    meta_data_add_string(vl.meta, "report", config->code);
    meta_data_add_string(vl.meta, "begin", begin);
    meta_data_add_string(vl.meta, "end", end);
  }
  for (size_t i = 0; i < report->n_values; i++) {
    char instance[DATA_MAX_NAME_LEN];
    ssnprintf(instance, sizeof(instance), "%s%s", config->instance_prefix,
              report->values[i].name);
    dispatch_gauge(&vl, report->values[i].collectd_type, instance,
                   report->values[i].number, config->code);
  }
  meta_data_destroy(vl.meta);
} /* }}} void on_report */

static void on_online(void *ctx, const ef_roster_device *device, int online,
                      int64_t time_ms, int64_t valid_ms) /* {{{ */
{
  (void)ctx;
  value_list_t vl;
  device_value_list(&vl, device, time_ms, valid_ms);
  dispatch_gauge(&vl, ONLINE_TYPE, ONLINE_INSTANCE, online, "device/list");
  meta_data_destroy(vl.meta);
} /* }}} void on_online */

/* ---- news ---------------------------------------------------------------
 */

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

static const int log_levels[] = {
    [EF_LEVEL_ERROR] = LOG_ERR,
    [EF_LEVEL_WARNING] = LOG_WARNING,
    [EF_LEVEL_NOTICE] = LOG_NOTICE,
    [EF_LEVEL_INFO] = LOG_INFO,
};

/* The notification a device's news raises, and the log level of the
 * account's list news (grave here whether or not devices are left). */
static const int notification[] = {
    [EF_NEWS_FAILING] = NOTIF_FAILURE,  [EF_NEWS_CHANGED] = NOTIF_FAILURE,
    [EF_NEWS_RECOVERED] = NOTIF_OKAY,   [EF_NEWS_STALE] = NOTIF_WARNING,
    [EF_NEWS_FRESH] = NOTIF_OKAY,       [EF_NEWS_SILENT] = NOTIF_WARNING,
    [EF_NEWS_HEARD] = NOTIF_OKAY,       [EF_NEWS_PUSH_OFFLINE] = NOTIF_WARNING,
    [EF_NEWS_PUSH_ONLINE] = NOTIF_OKAY,
};

/* Who the news is about, in collectd's words: the device (and its
 * account), else the account. */
static void news_subject(const account_t *account, const ef_news *news,
                         char *out, size_t size) /* {{{ */
{
  if (news->device != NULL)
    device_label(out, size, news->device, account->config);
  else
    ssnprintf(out, size, "account \"%s\"", account->config->name);
} /* }}} void news_subject */

/* The news (ef_news_describe's words) as a log line and, for a device's
 * change of state, a notification. */
static void on_news(void *ctx, const ef_news *news) /* {{{ */
{
  const account_t *account = ctx;
  char subject[LABEL_LEN];
  char words[EF_NEWS_WORDS_LEN];
  news_subject(account, news, subject, sizeof(subject));
  ef_news_describe(news, 0, words, sizeof(words));
  int level =
      news->kind == EF_NEWS_LIST_FAILING ? LOG_ERR : log_levels[news->level];
  plugin_log(level, "ecoflow plugin: %s: %s", subject, words);
  int severity = (size_t)news->kind < sizeof(notification) / sizeof(int)
                     ? notification[news->kind]
                     : 0;
  if (severity == 0 || news->device == NULL)
    return;
  char message[NOTIF_MAX_MSG_LEN];
  ef_news_describe(news, 1, words, sizeof(words));
  ssnprintf(message, sizeof(message), "%s: %s", subject, words);
  device_notify(news->device, severity, message, news->error);
} /* }}} void on_news */

static const ef_sink collectd_sink = {
    .reading_begin = on_reading_begin,
    .metric = on_metric,
    .reading_end = on_reading_end,
    .report = on_report,
    .online = on_online,
    .news = on_news,
};

/* ---- collectd -T ---------------------------------------------------------
 */

/* collectd -T starts no read threads and runs each read once: it says so
 * by setting the global option ReadThreads to -1 (collectd 5.12,
 * src/daemon/cmd.c), the plugin's only way to know. That is when a user
 * asks whether a configuration works, so each account's read then runs
 * the first-run check (ef_check.h) first: keys, region, clock, devices,
 * values, and the block to paste. A daemon does not: the check would ask
 * the list and every device's quota/all a second time at start (the cloud
 * blocks accounts that poll a device faster than every 10 s), and its
 * reads log every failure with what to do anyway. Under -T the second
 * quota/all a moment later is a one-off before the program exits. */
static bool testing_reads(void) {
  const char *threads = global_option_get("ReadThreads");
  return threads != NULL && atoi(threads) == -1;
}

static const int check_levels[] = {
    [EF_CHECK_OK] = LOG_INFO,
    [EF_CHECK_NOTE] = LOG_INFO,
    [EF_CHECK_WARNING] = LOG_WARNING,
    [EF_CHECK_FAILED] = LOG_ERR,
};

/* The report, to collectd's log: a line per finding, the summary, the
 * block to paste. */
static void log_check(const ef_check_report *report, const char *check,
                      bool ok) /* {{{ */
{
  for (size_t i = 0; i < report->n_findings; i++)
    plugin_log(check_levels[report->findings[i].verdict],
               "ecoflow plugin: %s%s: %s", check,
               ef_check_verdict_name(report->findings[i].verdict),
               report->findings[i].text);
  plugin_log(ok ? LOG_INFO : LOG_ERR, "ecoflow plugin: %s%s", check,
             report->summary ? report->summary : "out of memory");
  if (report->collectd_block != NULL) {
    INFO("ecoflow plugin: %sthe configuration that works, to paste:", check);
    for (const char *line = report->collectd_block; *line != '\0';) {
      size_t len = strcspn(line, "\n");
      INFO("ecoflow plugin:     %.*s", (int)len, line);
      line += len + (line[len] == '\n');
    }
  }
} /* }}} void log_check */

/* The check of account's settings, logged, and printed on the terminal
 * too: collectd -T is run by a person, and Debian's configuration logs to
 * syslog only (LoadPlugin syslog). Returns 0 when everything a run needs
 * works, else -1 (and -T exits 1). */
static int account_check(const account_t *account) /* {{{ */
{
  const ecoflow_account *config = account->config;
  ef_check_device *devices =
      calloc(config->n_devices ? config->n_devices : 1, sizeof(*devices));
  if (devices == NULL) {
    ERROR("ecoflow plugin: out of memory");
    return -1;
  }
  /* A device's interval is its own when it is not collectd's. */
  double global_interval_s = CDTIME_T_TO_DOUBLE(cf_get_default_interval());
  for (size_t i = 0; i < config->n_devices; i++) {
    const ecoflow_device *device = &config->devices[i];
    devices[i] = (ef_check_device){
        .sn = device->serial,
        .name = strcmp(device->name, device->serial) ? device->name : NULL,
        .interval_s =
            device->interval_s != global_interval_s ? device->interval_s : 0};
  }
  bool named = strcmp(config->name, ECOFLOW_DEFAULT_ACCOUNT) != 0;
  char unknown_fate[64];
  ssnprintf(unknown_fate, sizeof(unknown_fate),
            config->raw_quotas ? "dispatched too: %s is true"
                               : "not dispatched: %s true adds the numbers",
            EF_SETTING_COLLECTD(RAW_QUOTAS));
  ef_check_options options = {.account = &config->account,
                              .account_name = named ? config->name : NULL,
                              .devices = devices,
                              .n_devices = config->n_devices,
                              .discover = config->discover,
                              .secret_key_file = config->secret_key_file,
                              .unknown_fate = unknown_fate};
  /* "check: " or "check of account "NAME": " before each line. */
  char check[ECOFLOW_NAME_MAX + 32] = "check: ";
  if (named)
    ssnprintf(check, sizeof(check), "check of account \"%s\": ", config->name);
  ef_check_report report;
  int status = ef_check_run(&options, &report);
  bool ok = status == 0 && report.ok;
  log_check(&report, check, ok);
  char *text = ef_check_report_text(&report, EF_CHECK_TEXT_COLLECTD);
  if (text != NULL)
    fprintf(stderr,
            "\necoflow plugin: the first-run check%s%s%s (also in collectd's "
            "log):\n\n%s",
            named ? " of account \"" : "", named ? config->name : "",
            named ? "\"" : "", text);
  free(text);
  ef_check_report_clear(&report);
  free(devices);
  return ok ? 0 : -1;
} /* }}} int account_check */

/* ---- accounts -----------------------------------------------------------
 */

static void account_free(void *arg) /* {{{ */
{
  account_t *account = arg;
  if (account == NULL)
    return;
  ef_engine_free(account->engine);
  free(account->devices);
  free(account->reports);
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

static ef_report_config report_config(const ecoflow_report *report) {
  return (ef_report_config){.code = report->code,
                            .interval_ms = ms_of_seconds(report->interval_s),
                            .user = report};
}

/* The engine's view of config's devices and reports, into account. */
static int account_translate(account_t *account) /* {{{ */
{
  const ecoflow_account *config = account->config;
  size_t n_reports = config->n_reports;
  for (size_t i = 0; i < config->n_devices; i++)
    n_reports += config->devices[i].n_reports;
  account->devices = calloc(config->n_devices ? config->n_devices : 1,
                            sizeof(ef_device_config));
  account->reports =
      calloc(n_reports ? n_reports : 1, sizeof(ef_report_config));
  if (account->devices == NULL || account->reports == NULL)
    return -1;
  size_t r = 0;
  for (; r < config->n_reports; r++)
    account->reports[r] = report_config(&config->reports[r]);
  for (size_t i = 0; i < config->n_devices; i++) {
    const ecoflow_device *device = &config->devices[i];
    account->devices[i] =
        (ef_device_config){.sn = device->serial,
                           .name = device->name,
                           .interval_ms = ms_of_seconds(device->interval_s),
                           .quotas = (const char *const *)device->quotas,
                           .n_quotas = device->n_quotas,
                           .reports = &account->reports[r],
                           .n_reports = device->n_reports,
                           .raw_quotas = device->raw_quotas};
    for (size_t k = 0; k < device->n_reports; k++)
      account->reports[r++] = report_config(&device->reports[k]);
  }
  return 0;
} /* }}} int account_translate */

/* Takes config on success; on failure config stays the caller's. */
static account_t *account_new(ecoflow_account *config) /* {{{ */
{
  account_t *account = calloc(1, sizeof(*account));
  if (account == NULL) {
    ERROR("ecoflow plugin: out of memory");
    return NULL;
  }
  account->config = config;
  account->interval = account_interval(config);
  account->check_first = testing_reads();
  char problem[EF_PROBLEM_LEN] = "out of memory";
  if (account_translate(account) == 0) {
    ef_engine_options options = {
        .name = config->name,
        .account = &config->account,
        .devices = account->devices,
        .n_devices = config->n_devices,
        .reports = account->reports,
        .n_reports = config->n_reports,
        .discover = config->discover,
        .refresh_ms = ms_of_seconds(config->discover_refresh_s),
        .interval_ms = ms_of_seconds(config->discovered_interval_s),
        .read_interval_ms = CDTIME_T_TO_MS(account->interval),
        .daemon = 1,
        /* A fleet's collectd holds the catalog's values, not 400 raw
         * gauges per device (each an identifier in the cache, an RRD
         * file): `RawQuotas true' brings those. */
        .catalog_only = !config->raw_quotas,
        .skip_detail = !config->cell_values,
        .instances = instances,
        .push = ef_push_settings_options(&config->push, "collectd", 0)};
    account->engine = ef_engine_new(&options, &collectd_sink, account, problem);
  }
  if (account->engine == NULL) {
    ERROR("ecoflow plugin: cannot set up account \"%s\": %s", config->name,
          problem);
    account->config = NULL; /* still the caller's */
    account_free(account);
    return NULL;
  }
  return account;
} /* }}} account_t *account_new */

/* Returns 0, except after a failed check under collectd -T (which then
 * exits 1). Device failures are logged and backed off per device by the
 * core (ef_schedule, and the account's cool-down); collectd's own
 * back-off on a failed read doubles up to MaxReadInterval (a day) and
 * would hide a recovered account for that long. */
static int ecoflow_read(user_data_t *ud) /* {{{ */
{
  account_t *account = ud->data;
  int status = 0;
  if (account->check_first) {
    account->check_first = false;
    status = account_check(account);
  }
  ef_engine_read(account->engine, CDTIME_T_TO_MS(cdtime()), NULL);
  return status;
} /* }}} int ecoflow_read */

/* ---- stopping -----------------------------------------------------------
 */

/* collectd joins its read threads before it calls any shutdown callback,
 * so a read blocked in requests would hold up its exit for as long as they
 * take. The stop signals themselves are the first sign: ours stops every
 * request at once, then hands the signal to collectd's handler. */
static void on_stop_signal(int signo) {
  ef_client_stop_all();
  const struct sigaction *daemon =
      signo == SIGTERM ? &daemon_sigterm : &daemon_sigint;
  if (daemon->sa_handler != SIG_IGN && daemon->sa_handler != SIG_DFL)
    daemon->sa_handler(signo);
  else if (daemon->sa_handler == SIG_DFL) {
    signal(signo, SIG_DFL);
    raise(signo);
  }
}

static void install_stop_handlers(void) {
  struct sigaction ours = {.sa_handler = on_stop_signal};
  sigemptyset(&ours.sa_mask);
  if (sigaction(SIGTERM, &ours, &daemon_sigterm) == 0 &&
      sigaction(SIGINT, &ours, &daemon_sigint) == 0)
    stop_handlers_installed = true;
}

static void remove_stop_handlers(void) {
  if (!stop_handlers_installed)
    return;
  sigaction(SIGTERM, &daemon_sigterm, NULL);
  sigaction(SIGINT, &daemon_sigint, NULL);
  stop_handlers_installed = false;
}

/* ---- registration -------------------------------------------------------
 */

static void log_config_message(ecoflow_severity severity, const char *message,
                               void *ctx) /* {{{ */
{
  (void)ctx;
  plugin_log(severity == ECOFLOW_CONFIG_ERROR ? LOG_ERR : LOG_WARNING, "%s",
             message);
} /* }}} void log_config_message */

static int ecoflow_config_block(oconfig_item_t *ci) /* {{{ */
{
  return ecoflow_config_parse(&plugin_config, ci,
                              CDTIME_T_TO_DOUBLE(plugin_get_interval()),
                              log_config_message, NULL);
} /* }}} int ecoflow_config_block */

/* Reads are registered here rather than at config time: an init that fails
 * then leaves no read behind (collectd only unregisters the read named
 * after the plugin). */
static int ecoflow_init(void) /* {{{ */
{
  if (plugin_config.n_accounts == 0) {
    WARNING("ecoflow plugin: loaded without a <Plugin ecoflow> block: "
            "nothing to poll");
    return 0;
  }
  if (ef_client_global_init() != 0) {
    ERROR("ecoflow plugin: libcurl failed to initialise");
    return -1;
  }
  client_library_ready = true;
  if (instances == NULL && (instances = ef_instances_new()) == NULL) {
    ERROR("ecoflow plugin: out of memory");
    return -1;
  }

  size_t n = plugin_config.n_accounts;
  account_t **accounts = calloc(n, sizeof(*accounts));
  if (accounts == NULL) {
    ERROR("ecoflow plugin: out of memory");
    return -1;
  }
  size_t built = 0;
  while (built < n &&
         (accounts[built] = account_new(plugin_config.accounts[built])))
    plugin_config.accounts[built++] = NULL; /* now the account's */
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
  else
    install_stop_handlers();
  for (size_t i = 0; i < n; i++)
    account_free(accounts[i]); /* the ones collectd never got */
  free(accounts);
  ecoflow_config_free(&plugin_config); /* what is left: nothing after success */
  return status;
} /* }}} int ecoflow_init */

static int ecoflow_shutdown(void) /* {{{ */
{
  ef_client_stop_all();
  remove_stop_handlers();
  ecoflow_config_free(&plugin_config);
  if (client_library_ready)
    ef_client_global_cleanup();
  client_library_ready = false;
  /* The accounts' rosters may still be freed after this: they do not use
   * it then (ef_roster.h). */
  ef_instances_free(instances);
  instances = NULL;
  return 0;
} /* }}} int ecoflow_shutdown */

void module_register(void) {
  plugin_register_complex_config(PLUGIN_NAME, ecoflow_config_block);
  plugin_register_init(PLUGIN_NAME, ecoflow_init);
  plugin_register_shutdown(PLUGIN_NAME, ecoflow_shutdown);
}
