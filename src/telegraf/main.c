/* main.c: ecoflow-telegraf, EcoFlow devices for Telegraf's inputs.exec and
 * inputs.execd, as InfluxDB line protocol on stdout.
 *
 * Exit status: 0 when a device was read (exec) or input ended (execd); 1
 * when nothing could be read or output failed; 2 for a usage or
 * configuration error. Log lines on stderr carry Telegraf's level
 * prefixes (E! W! I!), which newer Telegraf versions honour. */
#include <config.h>

#include "catalog.h"
#include "client.h"
#include "discovery.h"
#include "loop.h"
#include "metric.h"
#include "poll.h"
#include "reading.h"
#include "telegraf_config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

typedef struct {
  ef_client *client;
  ef_device_list listed;
  tg_device_state *devices;
  ef_poll_target *due; /* the devices a poll reads, as many as devices */
  size_t n_devices;
  tg_printer printer;
} run;

static const char *environment(const char *name) { return getenv(name); }

static void usage(FILE *out) {
  fputs("Usage: ECOFLOW_ACCESS_KEY=... ECOFLOW_SECRET_KEY=... \\\n"
        "         ecoflow-telegraf [OPTION]...\n"
        "Reads EcoFlow devices through the EcoFlow IoT open API and prints "
        "InfluxDB line\nprotocol: one poll for inputs.exec, or one per line "
        "of stdin for inputs.execd.\nWithout --sn, every device of the "
        "account is read.\n\n",
        out);
  tg_config_usage(out);
  fputs("\nExit status: 0 when a device was read (or, with --execd, at the "
        "end of stdin),\n1 when none could be read, 2 for a configuration "
        "error.\n",
        out);
}

/* The columns of --list-metrics, each as wide as its widest cell. */
typedef struct {
  const char *pattern, *measurement, *tags, *unit, *description;
  char field[256];
} listing_row;

/* Row 0 is the header, row i the catalog's entry i - 1. */
static void listing_row_at(size_t i, listing_row *row) {
  if (i == 0) {
    *row = (listing_row){.pattern = "QUOTA",
                         .measurement = "MEASUREMENT",
                         .tags = "TAGS",
                         .unit = "UNIT",
                         .description = "DESCRIPTION",
                         .field = "FIELD"};
    return;
  }
  const ef_quota *quota = ef_catalog_entry(i - 1);
  *row = (listing_row){.pattern = quota->pattern,
                       .measurement = quota->measurement,
                       .tags = quota->tags[0] ? quota->tags : "-",
                       .unit = quota->unit[0] ? quota->unit : "-",
                       .description = quota->description};
  if (quota->decode == EF_DECODE_ERROR_LIST ||
      quota->decode == EF_DECODE_ERROR_BITS)
    snprintf(row->field, sizeof(row->field),
             "%s" EF_ERROR_COUNT_SUFFIX ",%s" EF_ERROR_CODES_SUFFIX, quota->field,
             quota->field);
  else
    snprintf(row->field, sizeof(row->field), "%s", quota->field);
}

static void list_metrics(FILE *out) {
  listing_row row;
  int width[4] = {0};
  for (size_t i = 0; i <= ef_catalog_size(); i++) {
    listing_row_at(i, &row);
    const char *cells[4] = {row.pattern, row.measurement, row.tags, row.field};
    for (int c = 0; c < 4; c++)
      if ((int)strlen(cells[c]) > width[c])
        width[c] = (int)strlen(cells[c]);
  }
  for (size_t i = 0; i <= ef_catalog_size(); i++) {
    listing_row_at(i, &row);
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-4s  %s\n", width[0], row.pattern,
            width[1], row.measurement, width[2], row.tags, width[3], row.field,
            row.unit, row.description);
  }
  fputs("\nEvery point also has the tags sn, name and product (when known). "
        "Quotas the\ncatalog does not know are published in measurement "
        "ecoflow_raw, named after\ntheir path in snake_case. "
        "Measurement " TG_READ_MEASUREMENT
        " has, per device reading:\nstale (the cloud's "
        "cached copy, not published again), age_s (by the cloud's\nstamp) "
        "and the counts published, no_reading and implausible.\n",
        out);
}

static void log_error(const char *what, const ef_error *error) {
  char text[TG_ERROR_TEXT_LEN];
  tg_error_text(error, text, sizeof(text));
  fprintf(stderr, "%s: %s\n", what, text);
}

/* The devices to poll: the configured ones, or else every device of the
 * account. The account's list also gives names and products; without it,
 * configured devices are polled all the same. */
static int choose_devices(run *r, const tg_config *config) {
  ef_error error;
  int listed = ef_discover(r->client, &r->listed, &error) == 0;
  if (!listed) {
    log_error(config->n_devices ? "W! ecoflow: listing the account's devices "
                                  "(for their names and products)"
                                : "E! ecoflow: listing the account's devices",
              &error);
    if (config->n_devices == 0)
      return -1;
  }
  r->n_devices = config->n_devices ? config->n_devices : r->listed.len;
  if (r->n_devices == 0) {
    fputs("E! ecoflow: the account has no devices (device/list is empty)\n",
          stderr);
    return -1;
  }
  r->devices = calloc(r->n_devices, sizeof(*r->devices));
  r->due = calloc(r->n_devices, sizeof(*r->due));
  if (r->devices == NULL || r->due == NULL) {
    fputs("E! ecoflow: out of memory\n", stderr);
    return -1;
  }
  for (size_t i = 0; i < r->n_devices; i++) {
    tg_device_state *device = &r->devices[i];
    const tg_device *configured =
        config->n_devices ? &config->devices[i] : NULL;
    device->sn = configured ? configured->sn : r->listed.items[i].sn;
    const ef_listed_device *entry = ef_device_list_find(&r->listed, device->sn);
    device->name = configured && configured->name ? configured->name
                   : entry                        ? entry->name
                                                  : NULL;
    device->product = entry ? entry->product : NULL;
    ef_schedule_start(&device->schedule, config->interval_ms, ef_now_ms());
  }
  return 0;
}

/* One batch over the devices that are due (all of them, the first time).
 * Returns the devices read, or -1 when the batch could not run or output
 * failed. */
static int poll_due(run *r) {
  size_t n_due = 0, read_before = r->printer.read;
  int64_t now = ef_now_ms();
  for (size_t i = 0; i < r->n_devices; i++)
    if (ef_schedule_due(&r->devices[i].schedule, now))
      r->due[n_due++] =
          (ef_poll_target){.sn = r->devices[i].sn, .user = &r->devices[i]};
  ef_error error;
  if (n_due > 0 && ef_poll_quotas(r->client, r->due, n_due, tg_print_reading,
                                  &r->printer, &error) != 0) {
    log_error("E! ecoflow: polling", &error);
    return -1;
  }
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
  fprintf(stderr, "I! ecoflow: polling %zu device%s %s\n", r->n_devices,
          r->n_devices == 1 ? "" : "s",
          interval_ms ? "on the interval and on each line of stdin"
                      : "on each line of stdin");
  return tg_loop_run(STDIN_FILENO, interval_ms, execd_tick, r) == 0
             ? EXIT_SUCCESS
             : EXIT_FAILURE;
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
    status =
        choose_devices(&r, config) == 0 ? run_polls(&r, config) : EXIT_FAILURE;
  }
  free(r.due);
  free(r.devices);
  ef_device_list_clear(&r.listed);
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
