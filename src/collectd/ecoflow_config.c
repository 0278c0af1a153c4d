/* ecoflow_config.c: <Plugin ecoflow> -> ecoflow_config, refusing at start-up
 * whatever would otherwise fail later, one readable message at a time. */
#include "ecoflow_config.h"
#include "ef_engine.h"
#include "ef_roster.h"
#include "ef_settings.h"
#include "ef_text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPORT_INTERVAL_MAX_S (7 * 86400.0)
/* Leaves room in the type instance for the index name after it. */
#define INSTANCE_PREFIX_MAX 32

/* An option's name in an error when it could be a secret pasted into the
 * wrong place (ef_setting_name_quoted). */
#define UNQUOTABLE_OPTION "(an option)"
#define NAME EF_SETTING_COLLECTD

/* Where each block's options may stand in the settings table: beside the
 * <Account> blocks, an account's options and <Account> itself. */
static const unsigned block_places[] = {
    [ECOFLOW_BLOCK_PLUGIN] = EF_SETTING_IN_PLUGIN | EF_SETTING_IN_ACCOUNT,
    [ECOFLOW_BLOCK_ACCOUNT] = EF_SETTING_IN_ACCOUNT,
    [ECOFLOW_BLOCK_DEVICE] = EF_SETTING_IN_DEVICE,
    [ECOFLOW_BLOCK_REPORT] = EF_SETTING_IN_REPORT,
};

const char *ecoflow_config_options(ecoflow_block block) {
  return (size_t)block < sizeof(block_places) / sizeof(block_places[0])
             ? ef_settings_collectd_list(block_places[block])
             : NULL;
}

/* Where each account setting lands in ecoflow_account: offsets plus one,
 * so that 0 is nowhere (the settings with their own code below). */
#define AT(member) (offsetof(ecoflow_account, member) + 1)
static const size_t account_members[EF_SETTINGS_N] = {
    [EF_SET_ENDPOINT] = AT(account.endpoint),
    [EF_SET_TIMEOUT] = AT(account.timeout_ms),
    [EF_SET_MAX_CONCURRENT] = AT(account.max_concurrent),
    [EF_SET_CA_FILE] = AT(account.ca_file),
    [EF_SET_DISCOVER] = AT(discover),
    [EF_SET_DISCOVER_REFRESH] = AT(discover_refresh_s),
    [EF_SET_MQTT] = AT(push.enabled),
    [EF_SET_MQTT_SUFFIX] = AT(push.client_id_suffix),
    [EF_SET_MQTT_REFRESH] = AT(push.refresh_ms),
    [EF_SET_MQTT_SILENCE] = AT(push.silence_ms),
    [EF_SET_CELL_VALUES] = AT(cell_values),
    [EF_SET_MAX_UNKNOWN] = AT(account.max_unknown),
    [EF_SET_COUNTER_GLITCH] = AT(account.counter_glitch),
};

typedef struct {
  ecoflow_report_fn report;
  void *report_ctx;
  ecoflow_config *config;
  double default_interval_s;
  bool default_interval_used;
  bool seen[EF_SETTINGS_N]; /* in the account being parsed */
  int plugin_raw_quotas;    /* `RawQuotas' beside <Account> blocks: 1, -1, 0 */
} parser;

__attribute__((format(printf, 3, 0))) static void
report_message(const parser *p, ecoflow_severity severity, const char *format,
               va_list ap) {
  char message[1024] = "ecoflow plugin: ";
  size_t prefix = strlen(message);
  vsnprintf(message + prefix, sizeof(message) - prefix, format, ap);
  p->report(severity, message, p->report_ctx);
}

/* Reports an error and returns -1, so that `return fail(...)` ends a check. */
__attribute__((format(printf, 2, 3))) static int fail(const parser *p,
                                                      const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  report_message(p, ECOFLOW_CONFIG_ERROR, format, ap);
  va_end(ap);
  return -1;
}

__attribute__((format(printf, 2, 3))) static void
warn(const parser *p, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  report_message(p, ECOFLOW_CONFIG_WARNING, format, ap);
  va_end(ap);
}

/* The single string argument of item (a block's name, or an option's
 * value), trimmed and not empty, into *out, which must still be unset:
 * an option given twice is refused rather than silently overridden. */
static int get_string(const parser *p, const oconfig_item_t *item,
                      const char *where, char **out) {
  if (*out != NULL)
    return fail(p, "`%s' is given twice in %s", item->key, where);
  if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_STRING)
    return fail(p, "`%s' in %s needs exactly one argument, in double quotes",
                item->key, where);
  const char *text = item->values[0].value.string;
  if (!ef_account_text_clean(text))
    return fail(p, "`%s' in %s holds a control character", item->key, where);
  *out = ef_text_trimmed(text);
  if (*out == NULL)
    return fail(p, "out of memory");
  if ((*out)[0] == '\0')
    return fail(p, "`%s' in %s is empty", item->key, where);
  return 0;
}

/* The single number argument of item, within [min, max], into *out, which
 * must still be 0 (unset). */
static int get_number(const parser *p, const oconfig_item_t *item,
                      const char *where, double min, double max, double *out) {
  if (*out != 0)
    return fail(p, "`%s' is given twice in %s", item->key, where);
  if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_NUMBER)
    return fail(p,
                "`%s' in %s needs exactly one decimal number, without quotes",
                item->key, where);
  double value = item->values[0].value.number;
  if (!(value >= min && value <= max))
    return fail(p, "`%s' in %s is %g: it must be between %g and %g", item->key,
                where, value, min, max);
  *out = value;
  return 0;
}

/* The single true/false argument of item into *out; *seen refuses it
 * twice. */
static int get_boolean(const parser *p, const oconfig_item_t *item,
                       const char *where, bool *seen, int *out) {
  if (*seen)
    return fail(p, "`%s' is given twice in %s", item->key, where);
  if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_BOOLEAN)
    return fail(p, "`%s' in %s needs exactly one argument, true or false",
                item->key, where);
  *seen = true;
  *out = item->values[0].value.boolean != 0;
  return 0;
}

/* A boolean that may be left unset: *out becomes 1 (true) or -1 (false). */
static int get_setting(const parser *p, const oconfig_item_t *item,
                       const char *where, int *out) {
  bool seen = *out != 0;
  int value = 0;
  if (get_boolean(p, item, where, &seen, &value) != 0)
    return -1;
  *out = value ? 1 : -1;
  return 0;
}

/* The refusal of an option no setting of block has. */
static int unknown(const parser *p, const oconfig_item_t *item,
                   ecoflow_block block, const char *where) {
  return fail(p, "unknown option `%s' in %s (known: %s)",
              ef_setting_name_quoted(item->key, UNQUOTABLE_OPTION), where,
              ecoflow_config_options(block));
}

/* Appends value to array, which holds n items: 0, or -1 after saying that
 * memory ran out. Typed, so that what the array holds is plain to see (and
 * to the static analyzer). */
#define APPEND(p, array, n, value)                                             \
  __extension__({                                                              \
    __typeof__(array) grown_ = realloc((array), ((n) + 1) * sizeof(*(array))); \
    if (grown_ != NULL) {                                                      \
      (array) = grown_;                                                        \
      (array)[(n)++] = (value);                                                \
    }                                                                          \
    grown_ != NULL ? 0 : (fail((p), "out of memory"), -1);                     \
  })

/* A configured interval below ECOFLOW_MIN_INTERVAL_S, raised with a
 * warning. */
static void raise_interval(const parser *p, double *interval_s,
                           const char *where) {
  double asked_s = *interval_s;
  char problem[EF_PROBLEM_LEN];
  if (ef_settings_interval_floor(interval_s, problem))
    warn(p, "`%s' %g in %s is below %g s: %s", NAME(INTERVAL), asked_s, where,
         *interval_s, problem);
}

/* Names become plugin instances and read-callback names (ef_account.h):
 * the name given to setting id, a block's or an option's. */
static int check_name(const parser *p, ef_setting_id id, const char *what,
                      const char *name, const char *where) {
  const ef_setting *s = ef_setting_get(id);
  char problem[EF_PROBLEM_LEN];
  if (ef_account_name(name, what, problem) != 0)
    return ef_setting_collectd_block(s)
               ? fail(p, "<%s> in %s: %s", s->collectd, where, problem)
               : fail(p, "`%s' in %s: %s", s->collectd, where, problem);
  return 0;
}

/* A verdict of ef_account.h on option in where: 0, or the refusal. */
static int verdict(const parser *p, int status, const char *option,
                   const char *where, const char *problem) {
  if (status != 0)
    return fail(p, "`%s' in %s: %s", option, where, problem);
  return 0;
}

static void reports_free(ecoflow_report *reports, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(reports[i].code);
    free(reports[i].instance_prefix);
  }
  free(reports);
}

static void device_clear(ecoflow_device *device) {
  free(device->serial);
  free(device->name);
  for (size_t i = 0; i < device->n_quotas; i++)
    free(device->quotas[i]);
  free(device->quotas);
  reports_free(device->reports, device->n_reports);
}

static const ecoflow_report *find_report(const ecoflow_report *reports,
                                         size_t n, const char *code) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(reports[i].code, code) == 0)
      return &reports[i];
  return NULL;
}

static int report_parse(parser *p, ecoflow_report *report,
                        const oconfig_item_t *block, const char *outer) {
  if (get_string(p, block, outer, &report->code) != 0)
    return -1;
  char where[2 * ECOFLOW_NAME_MAX + 96];
  snprintf(where, sizeof(where), "<%s \"%s\"> in %s", NAME(REPORT),
           report->code, outer);
  if (!ef_report_code_valid(report->code))
    return fail(p,
                "%s: a report code has at most %d letters, digits, '_' and "
                "'-'",
                where, EF_REPORT_CODE_MAX);
  for (int i = 0; i < block->children_num; i++) {
    const oconfig_item_t *child = block->children + i;
    const ef_setting *s =
        ef_setting_by_collectd(child->key, EF_SETTING_IN_REPORT);
    int status;
    switch (s ? s->id : EF_SETTINGS_N) {
    case EF_SET_INTERVAL: /* a report's own bounds: a week at most */
      status = get_number(p, child, where, s->min, REPORT_INTERVAL_MAX_S,
                          &report->interval_s);
      break;
    case EF_SET_INSTANCE_PREFIX:
      status = get_string(p, child, where, &report->instance_prefix) ||
               check_name(p, s->id, "an instance prefix",
                          report->instance_prefix, where);
      break;
    default:
      status = unknown(p, child, ECOFLOW_BLOCK_REPORT, where);
    }
    if (status != 0)
      return -1;
  }
  if (report->instance_prefix != NULL &&
      strlen(report->instance_prefix) > INSTANCE_PREFIX_MAX)
    return fail(p, "`%s' in %s is longer than %d characters",
                NAME(INSTANCE_PREFIX), where, INSTANCE_PREFIX_MAX);
  if (report->instance_prefix == NULL &&
      (report->instance_prefix = strdup("")) == NULL)
    return fail(p, "out of memory");
  if (report->interval_s == 0)
    report->interval_s = ECOFLOW_REPORT_DEFAULT_INTERVAL_S;
  raise_interval(p, &report->interval_s, where);
  return 0;
}

/* Adds the <Report> block to the *n reports at *reports (of a device or of
 * the account). */
static int add_report(parser *p, ecoflow_report **reports, size_t *n,
                      const oconfig_item_t *block, const char *where) {
  ecoflow_report report = {0};
  int status = report_parse(p, &report, block, where);
  if (status == 0 && find_report(*reports, *n, report.code) != NULL)
    status = fail(p, "<%s \"%s\"> is given twice in %s", NAME(REPORT),
                  report.code, where);
  if (status == 0)
    status = APPEND(p, *reports, *n, report);
  if (status != 0) {
    free(report.code);
    free(report.instance_prefix);
  }
  return status;
}

/* `Quota "bpSoc" "pcsAPhase"': appends to the device's quotas. */
static int add_quotas(const parser *p, ecoflow_device *device,
                      const oconfig_item_t *item, const char *where) {
  if (item->values_num < 1)
    return fail(p, "`%s' in %s needs one or more quota names, in double quotes",
                item->key, where);
  for (int i = 0; i < item->values_num; i++) {
    if (item->values[i].type != OCONFIG_TYPE_STRING)
      return fail(p, "`%s' in %s takes quota names in double quotes", item->key,
                  where);
    const char *quota = item->values[i].value.string;
    if (!ef_roster_quota_valid(quota))
      return fail(p,
                  "`%s' \"%s\" in %s is not a quota name (letters, digits "
                  "and _.-[] only)",
                  item->key, quota, where);
    for (size_t q = 0; q < device->n_quotas; q++)
      if (strcmp(device->quotas[q], quota) == 0)
        return fail(p, "`%s' \"%s\" is given twice in %s", item->key, quota,
                    where);
    char *copy = strdup(quota);
    if (copy == NULL)
      return fail(p, "out of memory");
    if (APPEND(p, device->quotas, device->n_quotas, copy) != 0) {
      free(copy);
      return -1;
    }
  }
  return 0;
}

/* The device configured under serial or name, in config or in account
 * (the account being parsed), or NULL. */
static const ecoflow_device *find_device(const ecoflow_config *config,
                                         const ecoflow_account *account,
                                         const char *serial, const char *name) {
  for (size_t a = 0; a <= config->n_accounts; a++) {
    const ecoflow_account *in =
        a < config->n_accounts ? config->accounts[a] : account;
    for (size_t d = 0; d < in->n_devices; d++)
      if (strcmp(in->devices[d].serial, serial) == 0 ||
          strcmp(in->devices[d].name, name) == 0)
        return &in->devices[d];
  }
  return NULL;
}

static int device_parse(parser *p, ecoflow_device *device,
                        const ecoflow_account *account,
                        const oconfig_item_t *block,
                        const char *account_where) {
  char problem[EF_PROBLEM_LEN];
  if (get_string(p, block, account_where, &device->serial) != 0)
    return -1;
  if (ef_account_serial(device->serial, problem) != 0)
    return fail(p, "a <%s> block in %s: %s", NAME(DEVICE), account_where,
                problem);
  char where[ECOFLOW_NAME_MAX + 32];
  snprintf(where, sizeof(where), "<%s \"%s\">", NAME(DEVICE), device->serial);

  for (int i = 0; i < block->children_num; i++) {
    const oconfig_item_t *child = block->children + i;
    const ef_setting *s =
        ef_setting_by_collectd(child->key, EF_SETTING_IN_DEVICE);
    int status;
    switch (s ? s->id : EF_SETTINGS_N) {
    case EF_SET_DEVICE_NAME:
      status = get_string(p, child, where, &device->name) ||
               check_name(p, s->id, "a device name", device->name, where);
      break;
    case EF_SET_INTERVAL:
      status = get_number(p, child, where, s->min, s->max, &device->interval_s);
      break;
    case EF_SET_QUOTA:
      status = add_quotas(p, device, child, where);
      break;
    case EF_SET_RAW_QUOTAS:
      status = get_setting(p, child, where, &device->raw_quotas);
      break;
    case EF_SET_REPORT:
      status =
          add_report(p, &device->reports, &device->n_reports, child, where);
      break;
    default:
      status = unknown(p, child, ECOFLOW_BLOCK_DEVICE, where);
    }
    if (status != 0)
      return -1;
  }

  if (device->name == NULL && (device->name = strdup(device->serial)) == NULL)
    return fail(p, "out of memory");
  const ecoflow_device *twin =
      find_device(p->config, account, device->serial, device->name);
  if (twin != NULL && strcmp(twin->serial, device->serial) == 0)
    return fail(p, "%s is configured twice", where);
  if (twin != NULL)
    return fail(p,
                "%s and <%s \"%s\"> are both named \"%s\": each device "
                "needs its own `%s' (it is the plugin instance)",
                where, NAME(DEVICE), twin->serial, device->name,
                NAME(DEVICE_NAME));

  if (device->interval_s == 0) {
    device->interval_s = p->default_interval_s;
    p->default_interval_used = true;
  } else {
    raise_interval(p, &device->interval_s, where);
  }
  if (device->interval_s < ECOFLOW_MIN_INTERVAL_S)
    device->interval_s = ECOFLOW_MIN_INTERVAL_S;
  return 0;
}

static int account_add_device(parser *p, ecoflow_account *account,
                              const oconfig_item_t *block,
                              const char *account_where) {
  ecoflow_device device = {0};
  if (device_parse(p, &device, account, block, account_where) != 0) {
    device_clear(&device);
    return -1;
  }
  if (APPEND(p, account->devices, account->n_devices, device) != 0) {
    device_clear(&device);
    return -1;
  }
  return 0;
}

/* The keys: one secret, from its option or its file, checked by the
 * core, never quoted. */
static int key_option(parser *p, ecoflow_account *account, const ef_setting *s,
                      const oconfig_item_t *child, const char *where) {
  const char *key = child->key;
  char problem[EF_PROBLEM_LEN];
  int access = s->id == EF_SET_ACCESS_KEY;
  char **out =
      access ? &account->account.access_key : &account->account.secret_key;
  if (*out != NULL)
    return access ? fail(p, "`%s' is given twice in %s", key, where)
                  : fail(p,
                         "%s gives the secret key twice: use one `%s' "
                         "or one `%s'",
                         where, NAME(SECRET_KEY), NAME(SECRET_KEY_FILE));
  if (child->values_num != 1 || child->values[0].type != OCONFIG_TYPE_STRING)
    return fail(p, "`%s' in %s needs exactly one argument, in double quotes",
                key, where);
  const char *raw = child->values[0].value.string;
  if (s->id != EF_SET_SECRET_KEY_FILE)
    return verdict(p, s->text(raw, out, problem), key, where, problem);
  /* A path is no secret: the refusal names it. */
  if (ef_account_secret_file(raw, out, problem) != 0)
    return fail(p, "`%s' \"%s\" in %s: %s", s->collectd, raw, where, problem);
  if ((account->secret_key_file = strdup(raw)) == NULL)
    return fail(p, "out of memory");
  return 0;
}

/* A text setting: one string, held to its verdict; a path (FILE) is named
 * in the refusal. */
static int text_option(parser *p, const ef_setting *s,
                       const oconfig_item_t *child, const char *where,
                       char **out) {
  char problem[EF_PROBLEM_LEN];
  char *text = NULL;
  int status = get_string(p, child, where, &text);
  if (status == 0 && s->text(text, out, problem) != 0)
    status = s->kind == EF_SETTING_FILE
                 ? fail(p, "`%s' \"%s\" in %s: %s", s->collectd, text, where,
                        problem)
                 : verdict(p, -1, child->key, where, problem);
  free(text);
  return status;
}

/* A number setting: one decimal number, held to its verdict. */
static int number_option(parser *p, const ef_setting *s,
                         const oconfig_item_t *child, const char *where,
                         void *out) {
  char problem[EF_PROBLEM_LEN];
  double value = 0;
  return get_number(p, child, where, -HUGE_VAL, HUGE_VAL, &value) ||
         verdict(p, s->number(value, out, problem), child->key, where, problem);
}

/* `Shard "K/N"': kept as its two numbers. */
static int shard_option(parser *p, ef_account *settings,
                        const oconfig_item_t *child, const char *where) {
  char problem[EF_PROBLEM_LEN];
  char *text = NULL;
  int status = get_string(p, child, where, &text) ||
               verdict(p,
                       ef_account_shard(text, &settings->shard_index,
                                        &settings->shard_count, problem),
                       child->key, where, problem);
  free(text);
  return status;
}

/* One option of an account: the settings table says which setting it is
 * and its kind; account_members, where it lands. */
static int account_option(parser *p, ecoflow_account *account,
                          const oconfig_item_t *child, const char *where) {
  const ef_setting *s = ef_setting_by_collectd(
      child->key, EF_SETTING_IN_ACCOUNT | EF_SETTING_IN_PLUGIN);
  if (s == NULL)
    return unknown(p, child, ECOFLOW_BLOCK_ACCOUNT, where);
  switch (s->id) {
  case EF_SET_ACCESS_KEY:
  case EF_SET_SECRET_KEY:
  case EF_SET_SECRET_KEY_FILE:
    return key_option(p, account, s, child, where);
  case EF_SET_DEVICE:
    return account_add_device(p, account, child, where);
  case EF_SET_REPORT:
    return add_report(p, &account->reports, &account->n_reports, child, where);
  case EF_SET_RAW_QUOTAS:
    return get_setting(p, child, where, &account->raw_quotas);
  case EF_SET_ACCOUNT:
    return fail(p, "<%s> blocks cannot be nested (found in %s)", s->collectd,
                where);
  default:
    break;
  }
  bool *seen = &p->seen[s->id];
  if (*seen && s->kind != EF_SETTING_BOOL)
    return fail(p, "`%s' is given twice in %s", child->key, where);
  if (s->id == EF_SET_SHARD) {
    *seen = true;
    return shard_option(p, &account->account, child, where);
  }
  void *member = (char *)account + account_members[s->id] - 1;
  int status;
  if (s->kind == EF_SETTING_BOOL)
    return get_boolean(p, child, where, seen, member);
  else if (s->kind == EF_SETTING_SECONDS)
    status = get_number(p, child, where, s->min, s->max, member);
  else if (s->kind == EF_SETTING_NUMBER)
    status = number_option(p, s, child, where, member);
  else
    status = text_option(p, s, child, where, member);
  *seen = true;
  return status;
}

/* Everything an account needs that has no default, and the settings that
 * only mean something with others (ef_settings_together). */
static int account_check(const parser *p, const ecoflow_account *account,
                         const char *where) {
  ef_settings_given given = {
      .access_key = account->account.access_key != NULL,
      .secret_key = account->account.secret_key != NULL,
      .devices = account->n_devices > 0,
      .discover = account->discover,
      .mqtt = account->push.enabled,
      .mqtt_options = ef_push_settings_extra(&account->push),
      .shard = account->account.shard_count != 0,
  };
  ef_settings_rule rule = ef_settings_together(&given);
  if (rule == EF_SETTINGS_NO_ACCESS_KEY)
    return fail(p,
                "%s has no `%s': create a key pair on the EcoFlow "
                "developer portal",
                where, NAME(ACCESS_KEY));
  if (rule == EF_SETTINGS_NO_SECRET_KEY)
    return fail(p, "%s has no `%s' or `%s'", where, NAME(SECRET_KEY),
                NAME(SECRET_KEY_FILE));
  if (rule == EF_SETTINGS_NOTHING_TO_READ)
    return fail(p,
                "%s has no <%s \"SERIAL\"> block: nothing to poll (or "
                "set `%s true' to poll every device of the account)",
                where, NAME(DEVICE), NAME(DISCOVER));
  if (rule == EF_SETTINGS_PUSH_WITHOUT_MQTT)
    return fail(p, "the `%s...' options of %s only apply with `%s true'",
                NAME(MQTT), where, NAME(MQTT));
  if (account->push.enabled && !ef_engine_can_push())
    return fail(p,
                "`%s true' in %s: push mode needs libmosquitto, which this "
                "build of the plugin has not (install libmosquitto-dev and "
                "build again)",
                NAME(MQTT), where);
  if (account->discover_refresh_s != 0 && !account->discover)
    return fail(p, "`%s' in %s only applies with `%s true'",
                NAME(DISCOVER_REFRESH), where, NAME(DISCOVER));
  if (rule == EF_SETTINGS_SHARD_WITHOUT_DISCOVERY)
    return fail(p,
                "`%s' in %s splits the discovered devices: it only "
                "applies with `%s true' (configured devices are "
                "always polled)",
                NAME(SHARD), where, NAME(DISCOVER));
  for (size_t d = 0; d < account->n_devices; d++)
    for (size_t r = 0; r < account->devices[d].n_reports; r++)
      if (find_report(account->reports, account->n_reports,
                      account->devices[d].reports[r].code) != NULL)
        return fail(p,
                    "<%s \"%s\"> is given for all devices of %s and "
                    "again in <%s \"%s\">",
                    NAME(REPORT), account->devices[d].reports[r].code, where,
                    NAME(DEVICE), account->devices[d].serial);
  return 0;
}

static int account_fill_defaults(parser *p, ecoflow_account *account) {
  int raw_quotas =
      account->raw_quotas != 0 ? account->raw_quotas : p->plugin_raw_quotas;
  account->raw_quotas = raw_quotas > 0;
  if (account->account.endpoint == NULL &&
      (account->account.endpoint = strdup(EF_DEFAULT_ENDPOINT)) == NULL)
    return fail(p, "out of memory");
  if (account->discover) {
    account->discovered_interval_s = p->default_interval_s;
    p->default_interval_used = true;
    if (account->discovered_interval_s < ECOFLOW_MIN_INTERVAL_S)
      account->discovered_interval_s = ECOFLOW_MIN_INTERVAL_S;
  }
  return 0;
}

static int config_append(const parser *p, ecoflow_account *account) {
  return APPEND(p, p->config->accounts, p->config->n_accounts, account);
}

/* Parses the options of block (an <Account>, or <Plugin ecoflow> itself
 * for the single-account form) into a new account named name. */
static int account_parse(parser *p, const oconfig_item_t *block,
                         const char *name, const char *where) {
  for (size_t a = 0; a < p->config->n_accounts; a++)
    if (strcmp(p->config->accounts[a]->name, name) == 0)
      return fail(p,
                  "account \"%s\" is configured twice: give each account "
                  "its own <%s \"name\"> block",
                  name, NAME(ACCOUNT));

  ecoflow_account *account = calloc(1, sizeof(*account));
  if (account == NULL || (account->name = strdup(name)) == NULL) {
    free(account);
    return fail(p, "out of memory");
  }
  int status = 0;
  memset(p->seen, 0, sizeof(p->seen));
  for (int i = 0; status == 0 && i < block->children_num; i++)
    status = account_option(p, account, block->children + i, where);
  if (status == 0)
    status = account_check(p, account, where) ||
             account_fill_defaults(p, account) || config_append(p, account);
  if (status != 0) {
    ecoflow_account_free(account);
    return -1;
  }
  return 0;
}

static int account_block_parse(parser *p, const oconfig_item_t *block) {
  char *name = NULL;
  if (get_string(p, block, "<Plugin ecoflow>", &name) != 0 ||
      check_name(p, EF_SET_ACCOUNT, "an account name", name,
                 "<Plugin ecoflow>") != 0) {
    free(name);
    return -1;
  }
  char where[ECOFLOW_NAME_MAX + 32];
  snprintf(where, sizeof(where), "<%s \"%s\">", NAME(ACCOUNT), name);
  int status = account_parse(p, block, name, where);
  free(name);
  return status;
}

int ecoflow_config_parse(ecoflow_config *config, const oconfig_item_t *ci,
                         double default_interval_s, ecoflow_report_fn report,
                         void *report_ctx) {
  parser p = {
      .report = report,
      .report_ctx = report_ctx,
      .config = config,
      .default_interval_s = default_interval_s,
  };

  const oconfig_item_t *outside = NULL, *raw_quotas = NULL;
  int n_account_blocks = 0;
  for (int i = 0; i < ci->children_num; i++) {
    const ef_setting *s =
        ef_setting_by_collectd(ci->children[i].key, EF_SETTING_IN_PLUGIN);
    if (s != NULL && s->id == EF_SET_ACCOUNT)
      n_account_blocks++;
    else if (s != NULL && s->id == EF_SET_RAW_QUOTAS && raw_quotas == NULL)
      raw_quotas = ci->children + i;
    else if (outside == NULL)
      outside = ci->children + i;
  }
  /* Beside <Account> blocks, `RawQuotas' is every account's default. */
  if (n_account_blocks > 0 && raw_quotas != NULL &&
      get_setting(&p, raw_quotas, "<Plugin ecoflow>", &p.plugin_raw_quotas) !=
          0)
    return -1;
  if (n_account_blocks > 0 && outside != NULL)
    return fail(&p,
                "`%s' is outside any <%s> block: once <%s> blocks "
                "are used, every option and <%s> goes inside one",
                outside->key, NAME(ACCOUNT), NAME(ACCOUNT), NAME(DEVICE));

  int status = 0;
  if (n_account_blocks == 0)
    status = account_parse(&p, ci, ECOFLOW_DEFAULT_ACCOUNT, "<Plugin ecoflow>");
  else
    for (int i = 0; status == 0 && i < ci->children_num; i++)
      if (ci->children + i != raw_quotas)
        status = account_block_parse(&p, ci->children + i);
  if (status != 0)
    return -1;

  if (p.default_interval_used && default_interval_s < ECOFLOW_MIN_INTERVAL_S)
    warn(&p,
         "the plugin's interval (%g s) is below %g s: devices without "
         "`%s' are polled every %g s (the EcoFlow cloud blocks "
         "accounts that poll faster)",
         default_interval_s, ECOFLOW_MIN_INTERVAL_S, NAME(INTERVAL),
         ECOFLOW_MIN_INTERVAL_S);
  char hook[EF_PROBLEM_LEN];
  if (ef_settings_hook_warning(hook))
    warn(&p, "%s", hook);
  return 0;
}

void ecoflow_account_free(ecoflow_account *account) {
  if (account == NULL)
    return;
  for (size_t i = 0; i < account->n_devices; i++)
    device_clear(account->devices + i);
  free(account->devices);
  reports_free(account->reports, account->n_reports);
  free(account->name);
  ef_push_settings_clear(&account->push);
  free(account->secret_key_file);
  ef_account_clear(&account->account);
  free(account);
}

void ecoflow_config_free(ecoflow_config *config) {
  for (size_t i = 0; i < config->n_accounts; i++)
    ecoflow_account_free(config->accounts[i]);
  free(config->accounts);
  config->accounts = NULL;
  config->n_accounts = 0;
}
