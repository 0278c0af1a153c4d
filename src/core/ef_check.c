/* ef_check.c: the first-run check: keys, region, clock, devices, values,
 * and the configuration to paste. */
#include "ef_check.h"

#include "ef_client.h"
#include "ef_discovery.h"
#include "ef_metric.h"
#include "ef_poll.h"

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

/* What a first run does about the failures the core's advice
 * (ef_error_advice) leaves open: libcurl's own words (curl_easy_strerror)
 * tell the transport failures apart. */
static const struct {
  ef_error_kind kind;
  long status_min, status_max; /* EF_ERR_HTTP */
  const char *words;           /* EF_ERR_TRANSPORT: in libcurl's message */
  const char *advice;
} troubles[] = {
    {EF_ERR_HTTP, 429, 429, NULL,
     "the cloud rate-limits this account: wait some minutes, then check "
     "again (runs poll each device at most every 10 s)"},
    {EF_ERR_HTTP, 500, 599, NULL,
     "the EcoFlow cloud failed (on its side, not in this configuration): "
     "check again later"},
    {EF_ERR_TRANSPORT, 0, 0, "resolve host",
     "the host name cannot be resolved: check the endpoint's spelling, and "
     "this machine's DNS"},
    {EF_ERR_TRANSPORT, 0, 0, "Couldn't connect",
     "nothing answers at that address: check the endpoint (host and port), "
     "and any firewall or proxy on the way"},
    {EF_ERR_TRANSPORT, 0, 0, "Timeout was reached",
     "no answer in time: check this machine's network, or allow more time "
     "per request (collectd: Timeout, ecoflow-telegraf: --timeout)"},
};

static const char *what_to_do(const ef_error *err) {
  for (size_t i = 0; i < sizeof(troubles) / sizeof(troubles[0]); i++) {
    if (troubles[i].kind != err->kind)
      continue;
    if (err->kind == EF_ERR_HTTP &&
        err->http_status >= troubles[i].status_min &&
        err->http_status <= troubles[i].status_max)
      return troubles[i].advice;
    if (err->kind == EF_ERR_TRANSPORT &&
        strstr(err->message, troubles[i].words) != NULL)
      return troubles[i].advice;
  }
  return ef_error_advice(err);
}

/* err and what to do about it, as one line. */
static void describe(const ef_error *err, char *out, size_t size) {
  char text[EF_ERROR_MESSAGE_LEN + 64];
  ef_error_format(err, text, sizeof(text));
  const char *advice = what_to_do(err);
  snprintf(out, size, "%s%s%s", text, advice ? "; " : "", advice ? advice : "");
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
} counts;

/* A device to read: configured, listed, or both. */
typedef struct {
  const char *sn;
  const char *name;               /* configured */
  const ef_listed_device *listed; /* NULL: the account does not list it */
  int configured;
  int polled; /* else only listed: not read by a run */
  int read;
  ef_error error;        /* why it could not be read */
  counts counts;         /* what its quota/all gave */
  ef_metric_stats stats; /* and what of it was left out */
} target;

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

/* The configured devices, then every other device the account lists:
 * read with discovery (or without configured devices), else only named. */
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
    c->targets[c->n_targets++] = (target){.sn = o->devices[i].sn,
                                          .name = o->devices[i].name,
                                          .listed = listed,
                                          .configured = 1,
                                          .polled = 1};
  }
  for (size_t i = 0; i < list->len; i++)
    if (!configured[i])
      c->targets[c->n_targets++] = (target){
          .sn = list->items[i].sn, .listed = &list->items[i], .polled = every};
  free(configured);
  return 0;
}

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
  if (metric->quota != NULL && metric->quota->decode != EF_DECODE_ANY)
    k->named++;
  else
    k->unknown++;
}

#define LEFT_OUT "; left out of the configuration below"

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
  add(c, EF_CHECK_DEVICE, verdict, t->sn, &t->error, "%s: %s" LEFT_OUT, label,
      what);
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
  size_t named = t->counts.named, unknown = t->counts.unknown;
  int empty = named + unknown == 0;
  c->report->devices_read++;
  ef_check_finding *finding =
      add(c, EF_CHECK_DEVICE,
          empty || *offline ? EF_CHECK_WARNING : EF_CHECK_OK, t->sn, NULL,
          "%s: quota/all gave %zu values: %zu the catalog names, %zu it does "
          "not (published under their quota's path)%s%s%s",
          label, named + unknown, named, unknown, dropped, offline,
          empty ? "; no values at all: is the device set up in the EcoFlow app?"
                : "");
  if (finding != NULL) {
    finding->named = named;
    finding->unknown = unknown;
  }
}

static int check_devices(check *c) {
  if (gather_targets(c) != 0)
    return -1;
  ef_poll_target *polls =
      calloc(c->n_targets ? c->n_targets : 1, sizeof(*polls));
  if (polls == NULL)
    return -1;
  size_t n = 0;
  for (size_t i = 0; i < c->n_targets; i++)
    if (c->targets[i].polled)
      polls[n++] =
          (ef_poll_target){.sn = c->targets[i].sn, .user = &c->targets[i]};
  ef_error err;
  ef_poll_quotas(c->client, polls, n, on_reading, c, &err);
  free(polls);
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *t = &c->targets[i];
    char label[LABEL_LEN];
    device_label(t, label, sizeof(label));
    if (!t->polled)
      add(c, EF_CHECK_DEVICE, EF_CHECK_NOTE, t->sn, NULL,
          "%s: not configured, so not read (discovery would read it)", label);
    else if (t->read)
      device_read(c, t, label);
    else
      device_failed(c, t, label);
  }
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

/* A device the snippets name: one that could be read, unless discovery
 * finds it anyway. */
static int named_in_snippet(const check *c, const target *t) {
  return t->read && (t->configured || !c->options->discover);
}

static void write_collectd_block(check *c, FILE *out) {
  const ef_check_options *o = c->options;
  const char *in = o->account_name ? "    " : "  ";
  fputs("LoadPlugin ecoflow\n<Plugin ecoflow>\n", out);
  if (o->account_name) {
    fputs("  <Account ", out);
    put_quoted(out, o->account_name);
    fputs(">\n", out);
  }
  fprintf(out, "%sAccessKey ", in);
  put_quoted(out, o->account->access_key);
  fprintf(out, "\n%sSecretKeyFile ", in);
  put_quoted(out,
             c->secret_path ? c->secret_path : "/etc/collectd/ecoflow.secret");
  fputs(c->secret_path ? "\n" : "  # the secret key alone, chmod 600\n", out);
  fprintf(out, "%sEndpoint ", in);
  put_quoted(out, c->report->endpoint);
  if (c->ca_path != NULL) {
    fprintf(out, "\n%sCAFile ", in);
    put_quoted(out, c->ca_path);
  }
  fputc('\n', out);
  if (o->discover)
    fprintf(out, "%sDiscover true\n", in);
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *t = &c->targets[i];
    if (t->polled && !t->read) {
      char why[EF_ERROR_MESSAGE_LEN + 64];
      ef_error_format(&t->error, why, sizeof(why));
      fprintf(out, "%s# %s left out: %s\n", in, t->sn, why);
      continue;
    }
    if (!named_in_snippet(c, t))
      continue;
    fprintf(out, "%s<Device ", in);
    put_quoted(out, t->sn);
    fputs(">\n", out);
    const char *listed_name = t->listed ? t->listed->name : NULL;
    char problem[EF_PROBLEM_LEN];
    if (t->name != NULL) {
      fprintf(out, "%s  Name ", in);
      put_quoted(out, t->name);
      fputc('\n', out);
    } else if (listed_name != NULL &&
               ef_account_name(listed_name, "a name", problem) == 0) {
      fprintf(out, "%s  #Name ", in);
      put_quoted(out, listed_name);
      fputs("  # default: the serial number\n", out);
    }
    fprintf(out, "%s</Device>\n", in);
  }
  if (o->account_name)
    fputs("  </Account>\n", out);
  fputs("</Plugin>\n", out);
}

/* A file's absolute path, for a configuration read from another
 * directory (malloc'ed), or NULL when out of memory. */
static char *absolute(const char *path) {
  char *resolved = realpath(path, NULL);
  return resolved != NULL ? resolved : strdup(path);
}

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

static void write_telegraf_snippet(check *c, FILE *out) {
  const ef_check_options *o = c->options;
  long timeout_s = ((o->account->timeout_ms ? o->account->timeout_ms
                                            : EF_DEFAULT_TIMEOUT_MS) +
                    999) /
                   1000;
  fprintf(out,
          "# Telegraf's environment (e.g. /etc/default/telegraf, mode 600) "
          "needs\n# ECOFLOW_ACCESS_KEY%s.\n",
          c->secret_path ? "" : " and ECOFLOW_SECRET_KEY");
  fputs("[[inputs.exec]]\n  commands = [\"", out);
  put_word(c, out, "",
           o->telegraf_program ? o->telegraf_program : "ecoflow-telegraf");
  put_word(c, out, " --endpoint ", c->report->endpoint);
  if (c->secret_path)
    put_word(c, out, " --secret-key-file ", c->secret_path);
  if (c->ca_path)
    put_word(c, out, " --ca-file ", c->ca_path);
  if (o->discover)
    fputs(" --discover", out);
  for (size_t i = 0; i < c->n_targets; i++) {
    const target *t = &c->targets[i];
    if (!named_in_snippet(c, t))
      continue;
    fprintf(out, " --sn %s%s", t->sn, t->name ? "=" : "");
    if (t->name)
      put_word(c, out, "", t->name);
  }
  /* Telegraf's timeout covers one request's; the interval, that. */
  long interval_s = timeout_s + 15 > 30 ? timeout_s + 15 : 30;
  fprintf(out,
          "\"]\n  interval = \"%lds\"\n  timeout = \"%lds\"\n"
          "  data_format = \"influx\"\n",
          interval_s, timeout_s + 5);
}

/* What write writes, as a string (malloc'ed), or NULL when out of
 * memory. */
static char *written(check *c, void (*write)(check *c, FILE *out)) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (out == NULL)
    return NULL;
  write(c, out);
  if (fclose(out) != 0) {
    free(text);
    return NULL;
  }
  return text;
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
    report->collectd_block = written(&c, write_collectd_block);
    report->telegraf_snippet = written(&c, write_telegraf_snippet);
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
