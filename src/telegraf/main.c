/* main.c: ecoflow-telegraf, EcoFlow devices for Telegraf's inputs.exec and
 * inputs.execd, as InfluxDB line protocol on stdout.
 *
 * Exit status: 0 when a device was read (exec; --history: a window) or
 * input ended (execd); 1 when nothing could be read or output failed; 2
 * for a usage or configuration error. Log lines on stderr carry Telegraf's
 * level prefixes (E! W! I!), which newer Telegraf versions honour. */
#include <config.h>

#include "backfill.h"
#include "devices.h"
#include "ef_catalog.h"
#include "ef_client.h"
#include "ef_metric.h"
#include "ef_poll.h"
#include "ef_report.h"
#include "ef_roster.h"
#include "loop.h"
#include "reading.h"
#include "telegraf_config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

typedef struct {
  ef_client *client;
  tg_devices devices;
  tg_printer printer;
} run;

static const char *environment(const char *name) { return getenv(name); }

static void usage(FILE *out) {
  fputs("Usage: ECOFLOW_ACCESS_KEY=... ECOFLOW_SECRET_KEY=... \\\n"
        "         ecoflow-telegraf [OPTION]...\n"
        "Reads EcoFlow devices through the EcoFlow IoT open API and prints "
        "InfluxDB line\nprotocol: one poll for inputs.exec, or one per line "
        "of stdin for inputs.execd.\nWithout --sn, every device of the "
        "account is read; --history prints a\nreport over past weeks "
        "instead, for a backfill.\n\n",
        out);
  tg_config_usage(out);
  fputs("\nExit status: 0 when a device was read (--history: a window; "
        "--execd: at the end\nof stdin), 1 when none could be read, 2 for a "
        "configuration error.\n",
        out);
}

/* The columns of --list-metrics, each as wide as its widest cell. */
typedef struct {
  const char *pattern, *measurement, *tags, *unit, *family, *description;
  char field[256];
} listing_row;

/* Row 0 is the header, row i the catalog's entry i - 1. */
static void listing_row_at(size_t i, listing_row *row) {
  if (i == 0) {
    *row = (listing_row){.pattern = "QUOTA",
                         .measurement = "MEASUREMENT",
                         .tags = "TAGS",
                         .unit = "UNIT",
                         .family = "FAMILY",
                         .description = "DESCRIPTION",
                         .field = "FIELD"};
    return;
  }
  const ef_quota *quota = ef_catalog_entry(i - 1);
  *row = (listing_row){.pattern = quota->pattern,
                       .measurement = quota->measurement,
                       .tags = quota->tags[0] ? quota->tags : "-",
                       .unit = quota->unit[0] ? quota->unit : "-",
                       .family = ef_family_name(quota->family),
                       .description = quota->description};
  if (quota->decode == EF_DECODE_ERROR_LIST ||
      quota->decode == EF_DECODE_ERROR_BITS)
    snprintf(row->field, sizeof(row->field),
             "%s" EF_ERROR_COUNT_SUFFIX ",%s" EF_ERROR_CODES_SUFFIX,
             quota->field, quota->field);
  else
    snprintf(row->field, sizeof(row->field), "%s", quota->field);
}

static void list_metrics(FILE *out) {
  listing_row row;
  int width[6] = {0};
  for (size_t i = 0; i <= ef_catalog_size(); i++) {
    listing_row_at(i, &row);
    const char *cells[6] = {row.pattern, row.measurement, row.tags,
                            row.field,   row.unit,        row.family};
    for (int c = 0; c < 6; c++)
      if ((int)strlen(cells[c]) > width[c])
        width[c] = (int)strlen(cells[c]);
  }
  for (size_t i = 0; i <= ef_catalog_size(); i++) {
    listing_row_at(i, &row);
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", width[0],
            row.pattern, width[1], row.measurement, width[2], row.tags,
            width[3], row.field, width[4], row.unit, width[5], row.family,
            row.description);
  }
  fputs("\nEvery point also has the tags sn, name and product (when known). "
        "Quotas the\ncatalog does not know are published in measurement "
        "ecoflow_raw, named after\ntheir path in snake_case. "
        "Measurement " TG_READ_MEASUREMENT
        " has, per device reading:\nstale (the cloud's "
        "cached copy, not published again), age_s (by the cloud's\nstamp) "
        "and the counts published, no_reading and implausible. "
        "Measurement\n" TG_DEVICE_MEASUREMENT
        " has the online flag (bool) of each device the account lists.\n"
        "--history prints measurement " EF_REPORT_MEASUREMENT
        " (tag code), one field per\nreport index: "
        "from_solar, to_grid, ... in Wh; self_sufficiency, ... in %.\n",
        out);
}

static void log_error(const char *what, const ef_error *error) {
  char text[TG_ERROR_TEXT_LEN];
  ef_roster_explain(error, 0, text, sizeof(text));
  fprintf(stderr, "%s: %s\n", what, text);
}

/* The devices to read: the configured ones, and with discovery (or
 * without any configured) every device of the account; the first list
 * also gives names and products. In exec mode, a run with nothing to read
 * ends here; execd waits for the next list. */
static int choose_devices(run *r, const tg_config *config) {
  if (tg_devices_init(&r->devices, config, r->client, &r->printer) != 0 ||
      tg_devices_refresh(&r->devices, ef_now_ms()) != 0) {
    fputs("E! ecoflow: out of memory, or writing to stdout failed\n", stderr);
    return -1;
  }
  if (ef_roster_size(r->devices.roster) > 0 || config->execd)
    return 0;
  if (!ef_roster_list_failing(r->devices.roster))
    fputs("E! ecoflow: the account has no devices (device/list is empty)\n",
          stderr);
  return -1;
}

/* Says once when the cloud's clock is far off ours, and once when they
 * agree again: the signatures then carry the server's time, which would
 * otherwise hide a wrong clock. */
static void report_clock(ef_client *client) {
  char text[256];
  switch (ef_client_clock_news(client, text, sizeof(text))) {
  case EF_CLOCK_SKEWED:
    fprintf(stderr, "W! ecoflow: %s\n", text);
    break;
  case EF_CLOCK_IN_STEP:
    fprintf(stderr, "I! ecoflow: %s\n", text);
    break;
  case EF_CLOCK_UNCHANGED:
    break;
  }
}

/* One batch over the devices that are due (all of them, the first time).
 * Returns the devices read, or -1 when the batch could not run or output
 * failed. */
static int poll_due(run *r) {
  size_t read_before = r->printer.read;
  int64_t now = ef_now_ms();
  ef_roster_round round;
  if (tg_devices_refresh(&r->devices, now) != 0 ||
      ef_roster_round_start(r->devices.roster, now, &round) != 0) {
    fputs("E! ecoflow: out of memory, or writing to stdout failed\n", stderr);
    return -1;
  }
  ef_error error;
  r->printer.started_ms = now;
  if (round.n_targets > 0 &&
      ef_poll_quotas(r->client, round.targets, round.n_targets,
                     tg_print_reading, &r->printer, &error) != 0) {
    log_error("E! ecoflow: polling", &error);
    return -1;
  }
  report_clock(r->client);
  if (fflush(r->printer.out) != 0 || r->printer.output_error) {
    fputs("E! ecoflow: writing to stdout failed\n", stderr);
    return -1;
  }
  return (int)(r->printer.read - read_before);
}

static int execd_tick(void *ctx) {
  run *r = ctx;
  return poll_due(r) < 0 && r->printer.output_error ? -1 : 0;
}

static int run_polls(run *r, const tg_config *config) {
  if (!config->execd) {
    int read = poll_due(r);
    if (read > 0)
      return EXIT_SUCCESS;
    if (read == 0)
      fputs("E! ecoflow: no device could be read\n", stderr);
    return EXIT_FAILURE;
  }
  long interval_ms =
      config->interval_ms ? (long)ef_schedule_interval(config->interval_ms) : 0;
  if (interval_ms > config->interval_ms && config->interval_ms > 0)
    fprintf(stderr,
            "W! ecoflow: polling every %ld s, not faster: the cloud "
            "blocks accounts that poll a device more often\n",
            interval_ms / 1000);
  size_t n = ef_roster_size(r->devices.roster);
  fprintf(stderr, "I! ecoflow: polling %zu device%s %s\n", n, n == 1 ? "" : "s",
          interval_ms ? "on the interval and on each line of stdin"
                      : "on each line of stdin");
  return tg_loop_run(STDIN_FILENO, interval_ms, execd_tick, r) == 0
             ? EXIT_SUCCESS
             : EXIT_FAILURE;
}

/* --history: the backfill, then exit. */
static int run_backfill(run *r, const tg_config *config) {
  time_t end = config->end.set ? config->end.t : (time_t)(ef_now_ms() / 1000);
  int printed = tg_backfill(r->client, r->devices.roster, config->history,
                            config->begin.t, end, &r->printer);
  if (printed > 0)
    return EXIT_SUCCESS;
  if (printed == 0)
    fprintf(stderr, "E! ecoflow: no window of report %s could be read\n",
            config->history);
  return EXIT_FAILURE;
}

static int run_with_client(const tg_config *config) {
  run r = {
      .printer = {.out = stdout, .log = stderr, .series = tg_series_new()}};
  ef_client_options options = {.endpoint = config->endpoint,
                               .access_key = config->access_key,
                               .secret_key = config->secret_key,
                               .timeout_ms = config->timeout_ms,
                               .max_concurrent = config->max_concurrent,
                               .ca_file = config->ca_file};
  ef_error error;
  int status = EXIT_USAGE;
  if (r.printer.series == NULL) {
    fputs("E! ecoflow: out of memory\n", stderr);
    status = EXIT_FAILURE;
  } else if (ef_client_global_init() != 0) {
    fputs("E! ecoflow: cannot initialise libcurl\n", stderr);
    status = EXIT_FAILURE;
  } else if ((r.client = ef_client_new(&options, &error)) == NULL) {
    log_error("E! ecoflow: configuration", &error);
  } else {
    r.printer.client = r.client;
    r.printer.long_running = config->execd;
    if (choose_devices(&r, config) != 0)
      status = EXIT_FAILURE;
    else if (config->history != NULL)
      status = run_backfill(&r, config);
    else
      status = run_polls(&r, config);
  }
  tg_devices_free(&r.devices);
  ef_client_free(r.client);
  ef_client_global_cleanup();
  tg_series_free(r.printer.series);
  return status;
}

int main(int argc, char *argv[]) {
  /* A closed stdout (Telegraf gone) shows as a write error, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  tg_config config;
  tg_config_init(&config);
  char err[TG_ERROR_LEN];
  int status = EXIT_SUCCESS;
  if (tg_config_load(&config, argc, argv, environment, err) != 0) {
    fprintf(stderr, "E! ecoflow: %s\n", err);
    status = EXIT_USAGE;
  } else if (config.help) {
    usage(stdout);
  } else if (config.version) {
    puts(PACKAGE_STRING);
  } else if (config.list_metrics) {
    list_metrics(stdout);
  } else {
    status = run_with_client(&config);
  }
  tg_config_free(&config);
  return status;
}
