/* ef_check.c: the first-run check: keys, region, clock, devices, values,
 * and the configuration to paste. */
#include "ef_check.h"

#include "ef_client.h"
#include "ef_discovery.h"
#include "ef_metric.h"
#include "ef_number.h"
#include "ef_poll.h"
#include "ef_settings.h"
#include "ef_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT_LEN (2 * EF_ERROR_MESSAGE_LEN + 1024)
#define LABEL_LEN (2 * EF_DEVICE_NAME_MAX + EF_SERIAL_MAX + 64)

/* EcoFlow's regional hosts: a key refused by one may belong to another.
 * The global host is EcoFlow's too, and has no region of its own. */
static const char *const regions[] = {EF_ENDPOINT_EUROPE, EF_ENDPOINT_AMERICAS};
#define N_REGIONS (sizeof(regions) / sizeof(regions[0]))

#define DEVELOPER_SITES                                                        \
  "https://developer-eu.ecoflow.com for Europe, "                              \
  "https://developer.ecoflow.com elsewhere"

/* A trouble whose advice names no setting. */
#define NO_SETTING EF_SETTINGS_N

/* What a first run does about the failures the core's advice
 * (ef_error_advice) leaves open: libcurl's own words (curl_easy_strerror)
 * tell the transport failures apart. */
static const struct {
  ef_error_kind kind;
  long status_min, status_max; /* EF_ERR_HTTP */
  const char *words;           /* EF_ERR_TRANSPORT: in libcurl's message */
  const char *advice;
  ef_setting_id setting; /* the one to change, named after the advice */
} troubles[] = {
    {EF_ERR_HTTP, 429, 429, NULL,
     "the cloud rate-limits this account: wait some minutes, then check "
     "again (runs poll each device at most every 10 s)",
     NO_SETTING},
    {EF_ERR_HTTP, 500, 599, NULL,
     "the EcoFlow cloud failed (on its side, not in this configuration): "
     "check again later",
     NO_SETTING},
    {EF_ERR_TRANSPORT, 0, 0, "resolve host",
     "the host name cannot be resolved: check the endpoint's spelling, and "
     "this machine's DNS",
     NO_SETTING},
    {EF_ERR_TRANSPORT, 0, 0, "Couldn't connect",
     "nothing answers at that address: check the endpoint (host and port), "
     "and any firewall or proxy on the way",
     NO_SETTING},
    {EF_ERR_TRANSPORT, 0, 0, "Timeout was reached",
     "no answer in time: check this machine's network, or allow more time "
     "per request",
     EF_SET_TIMEOUT},
};

static const char *what_to_do(const ef_error *err, ef_setting_id *setting) {
  *setting = NO_SETTING;
  for (size_t i = 0; i < sizeof(troubles) / sizeof(troubles[0]); i++) {
    if (troubles[i].kind != err->kind)
      continue;
    if (err->kind == EF_ERR_HTTP &&
        err->http_status >= troubles[i].status_min &&
        err->http_status <= troubles[i].status_max) {
      *setting = troubles[i].setting;
      return troubles[i].advice;
    }
    if (err->kind == EF_ERR_TRANSPORT &&
        strstr(err->message, troubles[i].words) != NULL) {
      *setting = troubles[i].setting;
      return troubles[i].advice;
    }
  }
  return ef_error_advice(err);
}

/* err and what to do about it, as one line. */
static void describe(const ef_error *err, char *out, size_t size) {
  char text[EF_ERROR_MESSAGE_LEN + 64];
  ef_error_format(err, text, sizeof(text));
  ef_setting_id setting;
  const char *advice = what_to_do(err, &setting);
  int named = setting != NO_SETTING;
  snprintf(out, size, "%s%s%s%s%s%s", text, advice ? "; " : "",
           advice ? advice : "", named ? " (" : "",
           named ? ef_setting_where(setting) : "", named ? ")" : "");
}

/* Adds to the text in buf, cutting it at size. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
}

static int is_api(const ef_error *err, const char *code) {
  return err->kind == EF_ERR_API && strcmp(err->api_code, code) == 0;
}

typedef struct {
  size_t named, unknown;
  size_t unknown_numbers; /* of unknown: numbers, which collectd carries */
} counts;

/* A device the check knows of: configured, listed, or both. */
typedef struct target target;
struct target {
  const char *sn;
  const char *name;               /* configured */
  double interval_s;              /* configured; 0: none */
  const ef_listed_device *listed; /* NULL: the account does not list it */
  int configured;
  int runs_read;        /* a run reads it: configured, or listed and found
                           by discovery */
  int asked;            /* its quota/all was asked */
  const target *sample; /* not asked: the device asked for its family */
  int read;
  ef_error error;        /* why it could not be read */
  counts counts;         /* what its quota/all gave */
  ef_metric_stats stats; /* and what of it was left out */
};

typedef struct {
  const ef_check_options *options;
  ef_check_report *report;
  size_t cap_findings;
  int oom;
  const char *hook; /* the test hook's host, or NULL */
  char *hook_value;
  ef_client *clients[1 + N_REGIONS]; /* to free */
  size_t n_clients;
  ef_client *client;   /* of the host that accepts the keys */
  ef_client *timed;    /* the last one whose answer carried the server time */
  ef_device_list list; /* what that host listed */
  target *targets;
  size_t n_targets;
  char *secret_path; /* the secret key file's absolute path, or NULL */
  char *ca_path;     /* the CA file's, or NULL */
} check;

static ef_check_finding *add(check *c, ef_check_topic topic,
                             ef_check_verdict verdict, const char *sn,
                             const ef_error *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static ef_check_finding *add(check *c, ef_check_topic topic,
                             ef_check_verdict verdict, const char *sn,
                             const ef_error *err, const char *fmt, ...) {
  ef_check_report *report = c->report;
  if (report->n_findings == c->cap_findings) {
    size_t cap = c->cap_findings ? 2 * c->cap_findings : 8;
    ef_check_finding *grown =
        realloc(report->findings, cap * sizeof(*report->findings));
    if (grown == NULL) {
      c->oom = 1;
      return NULL;
    }
    report->findings = grown;
    c->cap_findings = cap;
  }
  ef_check_finding *finding = &report->findings[report->n_findings];
  *finding = (ef_check_finding){.topic = topic, .verdict = verdict};
  if (err != NULL)
    finding->error = *err;
  va_list ap;
  va_start(ap, fmt);
  int status = vasprintf(&finding->text, fmt, ap);
  va_end(ap);
  if (status < 0 || (sn != NULL && (finding->sn = strdup(sn)) == NULL)) {
    if (status >= 0)
      free(finding->text);
    c->oom = 1;
    return NULL;
  }
  report->n_findings++;
  return finding;
}

/* ---- the keys and the region -------------------------------------------- */

static ef_client *client_for(check *c, const char *endpoint, ef_error *err) {
  const ef_account *account = c->options->account;
  ef_client_options options = {.endpoint = endpoint,
                               .access_key = account->access_key,
                               .secret_key = account->secret_key,
                               .timeout_ms = account->timeout_ms,
                               .max_concurrent = account->max_concurrent,
                               .ca_file = account->ca_file};
  ef_client *client = ef_client_new(&options, err);
  if (client != NULL)
    c->clients[c->n_clients++] = client;
  return client;
}

typedef struct {
  ef_device_list *list;
  ef_error *err;
  int timed;
} list_answer;

static void on_list(const ef_answer *answer, void *ctx) {
  list_answer *l = ctx;
  l->timed = answer->server_time_ms != 0;
  ef_discovery_parse(answer, l->list, l->err);
}

/* device/list: whether the host takes the keys. Returns 0 or -1. */
static int ask_list(check *c, ef_client *client, ef_device_list *list,
                    ef_error *err) {
  ef_request request = {0};
  ef_discovery_request(&request, list);
  list_answer l = {.list = list, .err = err};
  ef_error batch;
  memset(err, 0, sizeof(*err));
  ef_client_run(client, &request, 1, on_list, &l, &batch);
  if (l.timed)
    c->timed = client;
  return err->kind == EF_OK ? 0 : -1;
}

/* The hosts to try when endpoint does not know the key (8513). */
static size_t other_hosts(const check *c, const char *endpoint,
                          const char **hosts) {
  if (c->hook != NULL) {
    hosts[0] = c->hook;
    return 1;
  }
  int ecoflow = strcasecmp(endpoint, EF_ENDPOINT_GLOBAL) == 0;
  for (size_t i = 0; i < N_REGIONS; i++)
    ecoflow |= strcasecmp(endpoint, regions[i]) == 0;
  size_t n = 0;
  for (size_t i = 0; ecoflow && i < N_REGIONS; i++)
    if (strcasecmp(endpoint, regions[i]) != 0)
      hosts[n++] = regions[i];
  return n;
}

static int accept_host(check *c, ef_client *client, const char *endpoint) {
  c->report->endpoint = strdup(endpoint);
  if (c->report->endpoint == NULL) {
    c->oom = 1;
    return 0;
  }
  c->client = client;
  return 1;
}

/* endpoint answered 8513 (refused): another region's host may know the
 * key. */
static void try_other_regions(check *c, const char *endpoint,
                              const ef_error *refused) {
  char refusal[EF_ERROR_MESSAGE_LEN + 64];
  ef_error_format(refused, refusal, sizeof(refusal));
  const char *hosts[N_REGIONS];
  size_t n = other_hosts(c, endpoint, hosts);
  if (n == 0) {
    add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, refused,
        "%s does not know the access key (%s); it is not one of EcoFlow's "
        "regional hosts, so no other region was asked: check the access "
        "key, and the endpoint (" EF_ENDPOINT_EUROPE " for Europe, "
        "" EF_ENDPOINT_AMERICAS " for the Americas)",
        endpoint, refusal);
    return;
  }
  char refusing[TEXT_LEN] = "", unasked[TEXT_LEN] = "";
  for (size_t i = 0; i < n; i++) {
    ef_error err = {0};
    ef_device_list list = {0};
    ef_client *client = client_for(c, hosts[i], &err);
    if (client != NULL && ask_list(c, client, &list, &err) == 0) {
      c->list = list;
      if (accept_host(c, client, hosts[i]))
        add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, refused,
            "%s does not know the access key (%s), but %s accepts it: the "
            "keys belong to that host's region. Set the endpoint to %s (as "
            "the configuration below does)",
            endpoint, refusal, hosts[i], hosts[i]);
      return;
    }
    if (is_api(&err, "8521")) {
      add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, &err,
          "%s does not know the access key (%s); %s knows it but refuses "
          "the signature (API code 8521): set the endpoint to %s, and check "
          "the secret key (stray whitespace or a newline in it?)",
          endpoint, refusal, hosts[i], hosts[i]);
      return;
    }
    char what[TEXT_LEN];
    describe(&err, what, sizeof(what));
    if (is_api(&err, "8513"))
      append(refusing, sizeof(refusing), "%s%s", refusing[0] ? " or " : "",
             hosts[i]);
    else
      append(unasked, sizeof(unasked), "; %s could not be asked: %s", hosts[i],
             what);
  }
  if (refusing[0] != '\0')
    add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, refused,
        "%s does not know the access key (%s), nor does %s%s: the access "
        "key is wrong; copy it again from EcoFlow's developer site "
        "(" DEVELOPER_SITES ")",
        endpoint, refusal, refusing, unasked);
  else
    add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, refused,
        "%s does not know the access key (%s)%s: check the access key, "
        "then check again",
        endpoint, refusal, unasked);
}

static void check_keys(check *c) {
  const char *endpoint = c->options->account->endpoint;
  ef_error err = {0};
  ef_client *client = client_for(c, endpoint, &err);
  if (client != NULL && ask_list(c, client, &c->list, &err) == 0) {
    if (accept_host(c, client, endpoint))
      add(c, EF_CHECK_KEYS, EF_CHECK_OK, NULL, NULL,
          "%s accepts the access key and the secret key", endpoint);
    return;
  }
  if (is_api(&err, "8513")) {
    try_other_regions(c, endpoint, &err);
    return;
  }
  char what[TEXT_LEN];
  describe(&err, what, sizeof(what));
  if (err.kind == EF_ERR_TOO_LARGE) /* not the keys: the list's size */
    add(c, EF_CHECK_LIST, EF_CHECK_FAILED, NULL, &err,
        "%s answered device/list with more than a run reads (%s): the keys "
        "were not checked; an account this large is more than this version "
        "lists (configured devices are still polled)",
        endpoint, what);
  else if (is_api(&err, "8521"))
    add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, &err,
        "%s knows the access key but refuses the signature, also when "
        "asked again: the secret key does not belong to it (%s)",
        endpoint, what);
  else
    add(c, EF_CHECK_KEYS, EF_CHECK_FAILED, NULL, &err,
        "%s could not be asked whether it takes the keys: %s", endpoint, what);
}

static void check_clock(check *c) {
  char text[TEXT_LEN];
  if (c->timed == NULL) {
    add(c, EF_CHECK_CLOCK, EF_CHECK_NOTE, NULL, NULL,
        "this machine's clock was not compared with the EcoFlow server's: "
        "no answer carried the server's time");
  } else if (ef_client_clock_news(c->timed, text, sizeof(text)) ==
             EF_CLOCK_SKEWED) {
    add(c, EF_CHECK_CLOCK, EF_CHECK_WARNING, NULL, NULL, "%s", text);
  } else {
    int64_t offset = ef_client_clock_offset_ms(c->timed);
    add(c, EF_CHECK_CLOCK, EF_CHECK_OK, NULL, NULL,
        "this machine's clock agrees with the EcoFlow server's (%" PRId64
        " s apart)",
        ((offset < 0 ? -offset : offset) + 500) / 1000);
  }
}

static void check_list(check *c) {
  const ef_device_list *list = &c->list;
  size_t online = 0;
  for (size_t i = 0; i < list->len; i++)
    online += list->items[i].online != 0;
  char skipped[96] = "";
  if (list->skipped > 0)
    snprintf(skipped, sizeof(skipped),
             "; %zu entr%s without a usable serial number left out",
             list->skipped, list->skipped == 1 ? "y" : "ies");
  if (list->len == 0)
    add(c, EF_CHECK_LIST, EF_CHECK_FAILED, NULL, NULL,
        "the account lists no devices%s: bind them to the account of these "
        "keys in the EcoFlow app, then check again",
        skipped);
  else
    add(c, EF_CHECK_LIST, EF_CHECK_OK, NULL, NULL,
        "the account lists %zu device%s, %zu of them online%s", list->len,
        list->len == 1 ? "" : "s", online, skipped);
}

/* ---- the devices ----------------------------------------------------------
 */

/* What the check asks stays small whatever the account holds: one device
 * of each family (a quota/all per device of a large account would risk the
 * cloud's rate limit: 3,000 devices were 3,000 requests in 17 s), and a
 * few configured devices the list lacks (only asking tells a serial number
 * not bound to the account, 8512, from one the list leaves out). What it
 * prints stays small too: the rest is summed up, and said. */
#define SAMPLES_MAX 16
#define UNLISTED_ASKED_MAX 8
#define PASTED_DEVICES_MAX 50 /* <Device> blocks, --sn */
#define LEFT_OUT_LINES_MAX 8  /* comment lines about devices left out */
#define NAMED_IN_NOTE_MAX 5   /* devices named in a note on others */

/* The configured devices, then every other device the account lists. */
static int gather_targets(check *c) {
  const ef_check_options *o = c->options;
  const ef_device_list *list = &c->list;
  int every = o->discover || o->n_devices == 0;
  c->targets = calloc(o->n_devices + list->len + 1, sizeof(*c->targets));
  unsigned char *configured = calloc(list->len + 1, 1);
  if (c->targets == NULL || configured == NULL) {
    free(configured);
    return -1;
  }
  for (size_t i = 0; i < o->n_devices; i++) {
    const ef_listed_device *listed =
        ef_device_list_find(list, o->devices[i].sn);
    if (listed != NULL)
      configured[listed - list->items] = 1;
    c->targets[c->n_targets++] =
        (target){.sn = o->devices[i].sn,
                 .name = o->devices[i].name,
                 .interval_s = o->devices[i].interval_s,
                 .listed = listed,
                 .configured = 1,
                 .runs_read = 1};
  }
  for (size_t i = 0; i < list->len; i++)
    if (!configured[i])
      c->targets[c->n_targets++] = (target){.sn = list->items[i].sn,
                                            .listed = &list->items[i],
                                            .runs_read = every};
  free(configured);
  return 0;
}

/* Devices of a family answer alike: the same product in the list, else
 * (the list may leave the product out) the same first four characters of
 * the serial number, EcoFlow's model code. */
static int same_family(const target *a, const target *b) {
  const char *pa = a->listed->product, *pb = b->listed->product;
  if (pa != NULL || pb != NULL)
    return pa != NULL && pb != NULL && strcmp(pa, pb) == 0;
  return strncmp(a->sn, b->sn, 4) == 0;
}

/* Which devices are asked: of each family the first device a run reads,
 * configured ones first, online ones first; and the first configured
 * devices the list lacks. */
static void choose_asked(check *c) {
  static const struct {
    int configured, online;
  } passes[] = {{1, 1}, {1, 0}, {0, 1}, {0, 0}};
  const target *samples[SAMPLES_MAX];
  size_t n_samples = 0, unlisted = 0;
  for (size_t p = 0; p < sizeof(passes) / sizeof(passes[0]); p++)
    for (size_t i = 0; i < c->n_targets; i++) {
      target *t = &c->targets[i];
      if (!t->runs_read || t->configured != passes[p].configured)
        continue;
      if (t->listed == NULL) {
        if (p == 0)
          t->asked = unlisted++ < UNLISTED_ASKED_MAX;
        continue;
      }
      if ((t->listed->online != 0) != passes[p].online)
        continue;
      for (size_t k = 0; k < n_samples && t->sample == NULL; k++)
        if (same_family(t, samples[k]))
          t->sample = samples[k];
      if (t->sample == NULL && n_samples < SAMPLES_MAX) {
        t->asked = 1;
        samples[n_samples++] = t;
      }
    }
}

/* The cloud refused the device itself (an API code: not bound to the
 * account, not open to the API), rather than failing to answer (an HTTP
 * status, the network): such a device is left out of what to paste. */
static int refused(const target *t) {
  return t->asked && !t->read && t->error.kind == EF_ERR_API;
}

/* Left out of what to paste: refused, or of a family whose device was. */
static int left_out(const target *t) {
  return t->asked ? refused(t) : t->sample != NULL && refused(t->sample);
}

/* A configured device in what to paste. */
static int pasted(const target *t) { return t->configured && !left_out(t); }

/* "HJ31... (PowerOcean, "house", online)" */
static void device_label(const target *t, char *out, size_t size) {
  const ef_listed_device *listed = t->listed;
  const char *name = t->name ? t->name : listed ? listed->name : NULL;
  const char *parts[3];
  size_t n = 0;
  char quoted[EF_DEVICE_NAME_MAX + 3];
  if (listed != NULL && listed->product != NULL)
    parts[n++] = listed->product;
  if (name != NULL) {
    snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    parts[n++] = quoted;
  }
  parts[n++] = listed == NULL   ? "not in the account's device list"
               : listed->online ? "online"
                                : "offline";
  int len = snprintf(out, size, "%s (", t->sn);
  for (size_t i = 0; i < n && len >= 0 && (size_t)len < size; i++)
    len += snprintf(out + len, size - (size_t)len, "%s%s", i ? ", " : "",
                    parts[i]);
  if (len >= 0 && (size_t)len < size)
    snprintf(out + len, size - (size_t)len, ")");
}

static void count_metric(const ef_metric *metric, void *ctx) {
  counts *k = ctx;
  if (metric->quota != NULL && metric->quota->decode != EF_DECODE_ANY) {
    k->named++;
  } else {
    k->unknown++;
    k->unknown_numbers += metric->collectd_type[0] != '\0';
  }
}

/* Each answer is kept with its device: the findings follow in the order
 * of the devices, not of the answers. */
static void on_reading(const ef_reading *reading, void *ctx) {
  (void)ctx;
  target *t = reading->target->user;
  if (reading->error != NULL) {
    t->error = *reading->error;
    return;
  }
  t->read = 1;
  ef_metrics_of_json(reading->data, NULL, count_metric, &t->counts, &t->stats);
}

static void device_failed(check *c, const target *t, const char *label) {
  char what[TEXT_LEN];
  describe(&t->error, what, sizeof(what));
  /* A listed sub-device the cloud does not open is normal (its values
   * come with its PowerOcean's); a configured one cannot be read. */
  ef_check_verdict verdict = !t->configured && is_api(&t->error, "1006")
                                 ? EF_CHECK_WARNING
                                 : EF_CHECK_FAILED;
  const char *fate = !t->configured ? ""
                     : left_out(t)  ? "; left out of the configuration below"
                                    : "; kept in the configuration below (the "
                                      "cloud or the network failed, not the "
                                      "device's settings)";
  add(c, EF_CHECK_DEVICE, verdict, t->sn, &t->error, "%s: %s%s", label, what,
      fate);
}

static void device_read(check *c, const target *t, const char *label) {
  const ef_metric_stats *stats = &t->stats;
  char dropped[160] = "";
  if (stats->no_reading + stats->implausible > 0)
    snprintf(dropped, sizeof(dropped),
             "; %zu \"no reading\" marker%s and %zu implausible value%s "
             "left out",
             stats->no_reading, stats->no_reading == 1 ? "" : "s",
             stats->implausible, stats->implausible == 1 ? "" : "s");
  const char *offline =
      t->listed && !t->listed->online
          ? "; the account lists it offline (these are the cloud's last "
            "values): check its connection in the EcoFlow app, runs skip it "
            "until it is online"
          : "";
  const char *fate = c->options->unknown_fate;
  size_t named = t->counts.named, unknown = t->counts.unknown;
  int empty = named + unknown == 0;
  c->report->devices_read++;
  ef_check_finding *finding =
      add(c, EF_CHECK_DEVICE,
          empty || *offline ? EF_CHECK_WARNING : EF_CHECK_OK, t->sn, NULL,
          "%s: quota/all gave %zu values: %zu the catalog names, %zu it does "
          "not, %zu of them numbers%s%s%s%s%s%s",
          label, named + unknown, named, unknown, t->counts.unknown_numbers,
          fate ? " (" : "", fate ? fate : "", fate ? ")" : "", dropped, offline,
          empty ? "; no values at all: is the device set up in the EcoFlow app?"
                : "");
  if (finding != NULL) {
    finding->named = named;
    finding->unknown = unknown;
    finding->unknown_numbers = t->counts.unknown_numbers;
  }
}

/* A few of the devices that match, by their labels, into out: "SN (...),
 * SN (...) and 3 more". Returns how many match. */
static size_t some_devices(const check *c, int (*match)(const target *t),
                           char *out, size_t size) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *t = &c->targets[i];
    if (!match(t))
      continue;
    if (n++ < NAMED_IN_NOTE_MAX) {
      char label[LABEL_LEN];
      device_label(t, label, sizeof(label));
      append(out, size, "%s%s", n > 1 ? ", " : "", label);
    }
  }
  if (n > NAMED_IN_NOTE_MAX)
    append(out, size, " and %zu more", n - NAMED_IN_NOTE_MAX);
  return n;
}

static int unread_listed(const target *t) {
  return !t->configured && !t->runs_read;
}

static int unlisted_unasked(const target *t) {
  return t->configured && t->listed == NULL && !t->asked;
}

static int beyond_samples(const target *t) {
  return t->runs_read && t->listed != NULL && !t->asked && t->sample == NULL;
}

/* The devices not asked, summed up: per family, and the rest. */
static void note_others(check *c) {
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *s = &c->targets[i];
    size_t n = 0, online = 0;
    for (size_t k = 0; s->asked && s->listed != NULL && k < c->n_targets; k++)
      if (c->targets[k].sample == s) {
        n++;
        online += c->targets[k].listed->online != 0;
      }
    if (n > 0)
      add(c, EF_CHECK_OTHERS, EF_CHECK_NOTE, s->sn, NULL,
          "%zu more device%s of the family of %s (%s), %zu of them online, "
          "%s not asked: the check asks one device of each family (the "
          "cloud limits the requests of an account)%s",
          n, n == 1 ? "" : "s", s->sn,
          s->listed->product ? s->listed->product : "the same model code",
          online, n == 1 ? "was" : "were",
          refused(s) ? "; left out of the configuration below with it"
                     : "; a run reads them");
  }
  char some[TEXT_LEN];
  size_t n = some_devices(c, beyond_samples, some, sizeof(some));
  if (n > 0)
    add(c, EF_CHECK_OTHERS, EF_CHECK_NOTE, NULL, NULL,
        "%zu device%s of more families not asked (the check asks %d "
        "families at most; a run reads them): %s",
        n, n == 1 ? "" : "s", SAMPLES_MAX, some);
  n = some_devices(c, unlisted_unasked, some, sizeof(some));
  if (n > 0)
    add(c, EF_CHECK_OTHERS, EF_CHECK_WARNING, NULL, NULL,
        "%zu more configured device%s not in the account's device list, "
        "not asked (the check asks %d such devices at most), kept in the "
        "configuration below: check %s: %s",
        n, n == 1 ? "" : "s", UNLISTED_ASKED_MAX, n == 1 ? "it" : "them", some);
  n = some_devices(c, unread_listed, some, sizeof(some));
  if (n > 0)
    add(c, EF_CHECK_OTHERS, EF_CHECK_NOTE, NULL, NULL,
        "the account also lists %s; not configured, so not read (discovery "
        "would read %s)",
        some, n == 1 ? "it" : "them");
}

static int check_devices(check *c) {
  if (gather_targets(c) != 0)
    return -1;
  choose_asked(c);
  ef_poll_target *polls =
      calloc(c->n_targets ? c->n_targets : 1, sizeof(*polls));
  if (polls == NULL)
    return -1;
  size_t n = 0;
  for (size_t i = 0; i < c->n_targets; i++)
    if (c->targets[i].asked)
      polls[n++] =
          (ef_poll_target){.sn = c->targets[i].sn, .user = &c->targets[i]};
  ef_error err;
  ef_poll_quotas(c->client, polls, n, on_reading, c, &err);
  free(polls);
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *t = &c->targets[i];
    char label[LABEL_LEN];
    device_label(t, label, sizeof(label));
    if (t->asked && t->read)
      device_read(c, t, label);
    else if (t->asked)
      device_failed(c, t, label);
  }
  note_others(c);
  return 0;
}

/* ---- what to paste ---------------------------------------------------------
 */

/* text in double quotes, as collectd's configuration and TOML read it. */
static void put_quoted(FILE *out, const char *text) {
  fputc('"', out);
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      fputc('\\', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

/* The account's settings a run keeps beyond the keys, the host and the
 * CA file, in both front ends' words, written when they are not the
 * default (text returns 0 then). */
static int timeout_text(const ef_account *a, char *out) {
  return a->timeout_ms && ef_number_text(a->timeout_ms / 1000.0, out) == 0;
}

static int max_concurrent_text(const ef_account *a, char *out) {
  return a->max_concurrent && ef_int_text(a->max_concurrent, out) > 0;
}

static int max_unknown_text(const ef_account *a, char *out) {
  return a->max_unknown && ef_int_text((int64_t)a->max_unknown, out) > 0;
}

static int counter_glitch_text(const ef_account *a, char *out) {
  return a->counter_glitch && ef_number_text(a->counter_glitch, out) == 0;
}

static int shard_text(const ef_account *a, char *out) {
  return a->shard_count && snprintf(out, EF_NUMBER_TEXT_LEN, "%u/%u",
                                    a->shard_index, a->shard_count) > 0;
}

/* The names the snippets give settings: the settings table's. */
#define NAME EF_SETTING_COLLECTD

static const char *flag(ef_setting_id id, char out[EF_SETTING_FLAG_LEN]) {
  return ef_setting_flag(ef_setting_get(id), out);
}

/* Their names and kinds (a text is quoted in collectd's configuration)
 * are the settings table's. */
static const struct {
  ef_setting_id id;
  int (*text)(const ef_account *account, char out[EF_NUMBER_TEXT_LEN]);
} kept_settings[] = {
    {EF_SET_TIMEOUT, timeout_text},
    {EF_SET_MAX_CONCURRENT, max_concurrent_text},
    {EF_SET_MAX_UNKNOWN, max_unknown_text},
    {EF_SET_COUNTER_GLITCH, counter_glitch_text},
    {EF_SET_SHARD, shard_text},
};
#define N_KEPT_SETTINGS (sizeof(kept_settings) / sizeof(kept_settings[0]))

static size_t n_pasted(const check *c) {
  size_t n = 0;
  for (size_t i = 0; i < c->n_targets; i++)
    n += pasted(&c->targets[i]);
  return n;
}

/* Discovery in what to paste: configured, or when no configured device
 * is left (collectd refuses a block without a device and without
 * Discover, and ecoflow-telegraf without --sn reads every device). */
static int pasted_discover(const check *c) {
  return c->options->discover || n_pasted(c) == 0;
}

/* Calls put for each configured device in what to paste, the first
 * PASTED_DEVICES_MAX of them; returns how many more there are. */
static size_t each_pasted(check *c, FILE *out,
                          void (*put)(check *c, FILE *out, const target *t)) {
  size_t n = 0;
  for (size_t i = 0; i < c->n_targets; i++)
    if (pasted(&c->targets[i]) && n++ < PASTED_DEVICES_MAX)
      put(c, out, &c->targets[i]);
  return n > PASTED_DEVICES_MAX ? n - PASTED_DEVICES_MAX : 0;
}

/* Comment lines (prefix, then '#') for the devices left out and why,
 * and, with discovery put in their stead, why. */
static void put_left_out(check *c, FILE *out, const char *prefix,
                         const char *discover) {
  size_t n = 0;
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *t = &c->targets[i];
    if (!t->configured || !left_out(t) || n++ >= LEFT_OUT_LINES_MAX)
      continue;
    char why[EF_ERROR_MESSAGE_LEN + 64];
    if (t->asked)
      ef_error_format(&t->error, why, sizeof(why));
    else
      snprintf(why, sizeof(why),
               "the device asked for its family, %s, was "
               "refused",
               t->sample->sn);
    fprintf(out, "%s# %s left out: %s\n", prefix, t->sn, why);
  }
  if (n > LEFT_OUT_LINES_MAX)
    fprintf(out, "%s# and %zu more devices left out\n", prefix,
            n - LEFT_OUT_LINES_MAX);
  if (!c->options->discover && c->options->n_devices > 0 && pasted_discover(c))
    fprintf(out,
            "%s# none of the configured devices can be read: %s reads "
            "every device\n%s# the account lists instead\n",
            prefix, discover, prefix);
}

/* A file's absolute path, for a configuration read from another
 * directory (malloc'ed), or NULL when out of memory. */
static char *absolute(const char *path) {
  char *resolved = realpath(path, NULL);
  return resolved != NULL ? resolved : strdup(path);
}

/* ---- the collectd block --------------------------------------------------
 */

static void put_device_block(check *c, FILE *out, const target *t) {
  const char *in = c->options->account_name ? "    " : "  ";
  if (t->asked && !t->read) {
    char why[EF_ERROR_MESSAGE_LEN + 64];
    ef_error_format(&t->error, why, sizeof(why));
    fprintf(out, "%s# could not be read just now: %s\n", in, why);
  } else if (t->listed == NULL && !t->asked) {
    fprintf(out,
            "%s# not in the account's device list, and not asked: "
            "check it\n",
            in);
  }
  fprintf(out, "%s<%s ", in, NAME(DEVICE));
  put_quoted(out, t->sn);
  fputs(">\n", out);
  const char *listed_name = t->listed ? t->listed->name : NULL;
  char problem[EF_PROBLEM_LEN];
  if (t->name != NULL) {
    fprintf(out, "%s  %s ", in, NAME(DEVICE_NAME));
    put_quoted(out, t->name);
    fputc('\n', out);
  } else if (listed_name != NULL &&
             ef_account_name(listed_name, "a name", problem) == 0) {
    fprintf(out, "%s  #%s ", in, NAME(DEVICE_NAME));
    put_quoted(out, listed_name);
    fputs("  # default: the serial number\n", out);
  }
  char interval[EF_NUMBER_TEXT_LEN];
  if (t->interval_s > 0 && ef_number_text(t->interval_s, interval) == 0)
    fprintf(out, "%s  %s %s\n", in, NAME(INTERVAL), interval);
  fprintf(out, "%s</%s>\n", in, NAME(DEVICE));
}

static void write_collectd_block(check *c, FILE *out) {
  const ef_check_options *o = c->options;
  const char *in = o->account_name ? "    " : "  ";
  fputs("LoadPlugin ecoflow\n<Plugin ecoflow>\n", out);
  if (o->account_name) {
    fprintf(out, "  <%s ", NAME(ACCOUNT));
    put_quoted(out, o->account_name);
    fputs(">\n", out);
  }
  fprintf(out, "%s%s ", in, NAME(ACCESS_KEY));
  put_quoted(out, o->account->access_key);
  fprintf(out, "\n%s%s ", in, NAME(SECRET_KEY_FILE));
  put_quoted(out,
             c->secret_path ? c->secret_path : "/etc/collectd/ecoflow.secret");
  fputs(c->secret_path ? "\n" : "  # the secret key alone, chmod 600\n", out);
  fprintf(out, "%s%s ", in, NAME(ENDPOINT));
  put_quoted(out, c->report->endpoint);
  if (c->ca_path != NULL) {
    fprintf(out, "\n%s%s ", in, NAME(CA_FILE));
    put_quoted(out, c->ca_path);
  }
  fputc('\n', out);
  for (size_t i = 0; i < N_KEPT_SETTINGS; i++) {
    char value[EF_NUMBER_TEXT_LEN];
    if (!kept_settings[i].text(o->account, value))
      continue;
    const ef_setting *s = ef_setting_get(kept_settings[i].id);
    fprintf(out, "%s%s ", in, s->collectd);
    if (s->kind == EF_SETTING_TEXT)
      put_quoted(out, value);
    else
      fputs(value, out);
    fputc('\n', out);
  }
  char discover[EF_SETTING_FLAG_LEN];
  snprintf(discover, sizeof(discover), "%s true", NAME(DISCOVER));
  put_left_out(c, out, in, discover);
  if (pasted_discover(c))
    fprintf(out, "%s%s\n", in, discover);
  size_t more = each_pasted(c, out, put_device_block);
  if (more > 0)
    fprintf(out,
            "%s# and %zu more <%s> blocks of this configuration, not "
            "repeated here: keep them\n",
            in, more, NAME(DEVICE));
  if (o->account_name)
    fprintf(out, "  </%s>\n", NAME(ACCOUNT));
  fputs("</Plugin>\n", out);
}

/* ---- the Telegraf snippet ------------------------------------------------
 */

/* sep, then one word of a command line in a TOML string: quoted for the
 * shell (Telegraf splits commands as a shell does), then for TOML. */
static void put_word(check *c, FILE *out, const char *sep, const char *word) {
  size_t size = 4 * strlen(word) + 8;
  char *quoted = malloc(size);
  if (quoted == NULL) {
    c->oom = 1;
    return;
  }
  ef_shell_quote(word, quoted, size);
  fputs(sep, out);
  for (const char *p = quoted; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      fputc('\\', out);
    fputc(*p, out);
  }
  free(quoted);
}

/* " --option word", the word quoted as put_word does. */
static void put_option(check *c, FILE *out, ef_setting_id id,
                       const char *word) {
  char name[EF_SETTING_FLAG_LEN];
  fprintf(out, " %s", flag(id, name));
  put_word(c, out, " ", word);
}

static void put_sn(check *c, FILE *out, const target *t) {
  char name[EF_SETTING_FLAG_LEN];
  fprintf(out, " %s %s%s", flag(EF_SET_DEVICE, name), t->sn,
          t->name ? "=" : "");
  if (t->name)
    put_word(c, out, "", t->name);
}

static void write_telegraf_snippet(check *c, FILE *out) {
  const ef_check_options *o = c->options;
  long timeout_s = ((o->account->timeout_ms ? o->account->timeout_ms
                                            : EF_DEFAULT_TIMEOUT_MS) +
                    999) /
                   1000;
  char name[EF_SETTING_FLAG_LEN];
  fprintf(out,
          "# Telegraf's environment (e.g. /etc/default/telegraf, mode 600) "
          "needs\n# %s%s%s.\n",
          ef_setting_get(EF_SET_ACCESS_KEY)->env, c->secret_path ? "" : " and ",
          c->secret_path ? "" : ef_setting_get(EF_SET_SECRET_KEY)->env);
  put_left_out(c, out, "", flag(EF_SET_DISCOVER, name));
  size_t pasted_devices = n_pasted(c);
  if (pasted_devices > PASTED_DEVICES_MAX)
    fprintf(out,
            "# and %zu more %s of these settings, not repeated here: add "
            "them\n",
            pasted_devices - PASTED_DEVICES_MAX, flag(EF_SET_DEVICE, name));
  fputs("[[inputs.exec]]\n  commands = [\"", out);
  put_word(c, out, "",
           o->telegraf_program ? o->telegraf_program : "ecoflow-telegraf");
  put_option(c, out, EF_SET_ENDPOINT, c->report->endpoint);
  if (c->secret_path)
    put_option(c, out, EF_SET_SECRET_KEY_FILE, c->secret_path);
  if (c->ca_path)
    put_option(c, out, EF_SET_CA_FILE, c->ca_path);
  for (size_t i = 0; i < N_KEPT_SETTINGS; i++) {
    char value[EF_NUMBER_TEXT_LEN];
    if (kept_settings[i].text(o->account, value))
      fprintf(out, " %s %s", flag(kept_settings[i].id, name), value);
  }
  if (pasted_discover(c))
    fprintf(out, " %s", flag(EF_SET_DISCOVER, name));
  each_pasted(c, out, put_sn);
  /* Telegraf's timeout covers one request's; the interval, that. */
  long interval_s = timeout_s + 15 > 30 ? timeout_s + 15 : 30;
  fprintf(out,
          "\"]\n  interval = \"%lds\"\n  timeout = \"%lds\"\n"
          "  data_format = \"influx\"\n",
          interval_s, timeout_s + 5);
}

/* What write writes of ctx, as a string (malloc'ed), or NULL when out of
 * memory. */
static char *written(const void *ctx,
                     void (*write)(const void *ctx, FILE *out)) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (out == NULL)
    return NULL;
  write(ctx, out);
  if (fclose(out) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

static void write_collectd(const void *ctx, FILE *out) {
  write_collectd_block((check *)ctx, out);
}

static void write_telegraf(const void *ctx, FILE *out) {
  write_telegraf_snippet((check *)ctx, out);
}

/* ---- the run --------------------------------------------------------------
 */

/* The test hook, when it is set (and usable). */
static void read_hook(check *c) {
  const char *raw = c->options->other_region;
  int from_env = raw == NULL;
  if (from_env)
    raw = getenv(EF_TEST_OTHER_REGION_ENV);
  if (raw == NULL || raw[0] == '\0')
    return;
  char problem[EF_PROBLEM_LEN];
  if (ef_account_endpoint(raw, &c->hook_value, problem) != 0) {
    add(c, EF_CHECK_HOOK, EF_CHECK_WARNING, NULL, NULL,
        "%s is set but ignored: %s", EF_TEST_OTHER_REGION_ENV, problem);
    return;
  }
  c->hook = c->hook_value;
  if (from_env)
    add(c, EF_CHECK_HOOK, EF_CHECK_NOTE, NULL, NULL,
        "%s is set: %s stands for the other region. It is a test hook for "
        "ecoflow-sim only",
        EF_TEST_OTHER_REGION_ENV, c->hook);
}

static void summarise(check *c) {
  ef_check_report *report = c->report;
  size_t failed = 0, warned = 0;
  for (size_t i = 0; i < report->n_findings; i++) {
    failed += report->findings[i].verdict == EF_CHECK_FAILED;
    warned += report->findings[i].verdict == EF_CHECK_WARNING;
  }
  report->ok = failed == 0 && report->devices_read > 0;
  char warnings[64] = "";
  if (warned > 0)
    snprintf(warnings, sizeof(warnings), "; %zu warning%s", warned,
             warned == 1 ? "" : "s");
  int status;
  if (report->ok)
    status =
        asprintf(&report->summary,
                 "everything a run needs works: %zu device%s read "
                 "through %s%s",
                 report->devices_read, report->devices_read == 1 ? "" : "s",
                 report->endpoint, warnings);
  else if (failed > 0)
    status = asprintf(&report->summary,
                      "%zu problem%s to fix before a run works (marked "
                      "FAILED)%s",
                      failed, failed == 1 ? "" : "s", warnings);
  else
    status = asprintf(&report->summary, "no device could be read%s", warnings);
  if (status < 0) {
    report->summary = NULL;
    c->oom = 1;
  }
}

int ef_check_run(const ef_check_options *options, ef_check_report *report) {
  *report = (ef_check_report){0};
  check c = {.options = options, .report = report};
  read_hook(&c);
  check_keys(&c);
  check_clock(&c);
  if (c.client != NULL) {
    check_list(&c);
    if (check_devices(&c) != 0)
      c.oom = 1;
    if ((options->secret_key_file != NULL &&
         (c.secret_path = absolute(options->secret_key_file)) == NULL) ||
        (options->account->ca_file != NULL &&
         (c.ca_path = absolute(options->account->ca_file)) == NULL))
      c.oom = 1;
    report->collectd_block = written(&c, write_collectd);
    report->telegraf_snippet = written(&c, write_telegraf);
    if (report->collectd_block == NULL || report->telegraf_snippet == NULL)
      c.oom = 1;
  }
  summarise(&c);
  for (size_t i = 0; i < c.n_clients; i++)
    ef_client_free(c.clients[i]);
  ef_device_list_clear(&c.list);
  free(c.targets);
  free(c.hook_value);
  free(c.secret_path);
  free(c.ca_path);
  return c.oom ? -1 : 0;
}

void ef_check_report_clear(ef_check_report *report) {
  for (size_t i = 0; i < report->n_findings; i++) {
    free(report->findings[i].sn);
    free(report->findings[i].text);
  }
  free(report->findings);
  free(report->endpoint);
  free(report->summary);
  free(report->collectd_block);
  free(report->telegraf_snippet);
  *report = (ef_check_report){0};
}

const char *ef_check_verdict_name(ef_check_verdict verdict) {
  static const char *const names[] = {
      [EF_CHECK_OK] = "ok",
      [EF_CHECK_NOTE] = "note",
      [EF_CHECK_WARNING] = "warning",
      [EF_CHECK_FAILED] = "FAILED",
  };
  return (size_t)verdict < sizeof(names) / sizeof(names[0]) ? names[verdict]
                                                            : "?";
}

/* ---- the report, for a terminal ------------------------------------------
 */

/* The verdict's column: as wide as the widest verdict and two blanks. */
#define VERDICT_WIDTH 9

static void put_snippet(FILE *out, const char *title, const char *snippet) {
  fprintf(out, "\n%s\n\n", title);
  for (const char *line = snippet; *line != '\0';) {
    size_t len = strcspn(line, "\n");
    fprintf(out, "    %.*s\n", (int)len, line);
    line += len + (line[len] == '\n');
  }
}

typedef struct {
  const ef_check_report *report;
  unsigned snippets;
} report_text;

static void write_report(const void *ctx, FILE *out) {
  const ef_check_report *report = ((const report_text *)ctx)->report;
  unsigned snippets = ((const report_text *)ctx)->snippets;
  for (size_t i = 0; i < report->n_findings; i++)
    ef_text_wrap(out, ef_check_verdict_name(report->findings[i].verdict),
                 VERDICT_WIDTH, report->findings[i].text);
  fprintf(out, "\n%s\n",
          report->summary ? report->summary
                          : "out of memory: the check is incomplete");
  if ((snippets & EF_CHECK_TEXT_TELEGRAF) && report->telegraf_snippet)
    put_snippet(out,
                "For Telegraf, e.g. in /etc/telegraf/telegraf.d/"
                "ecoflow.conf:",
                report->telegraf_snippet);
  if ((snippets & EF_CHECK_TEXT_COLLECTD) && report->collectd_block)
    put_snippet(out,
                "For collectd, e.g. in /etc/collectd/collectd.conf.d/"
                "ecoflow.conf:",
                report->collectd_block);
}

char *ef_check_report_text(const ef_check_report *report, unsigned snippets) {
  return written(&(report_text){report, snippets}, write_report);
}
