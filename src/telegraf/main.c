/* main.c: ecoflow-telegraf, EcoFlow devices for Telegraf's inputs.exec and
 * inputs.execd, as InfluxDB line protocol on stdout.
 *
 * Exit status: 0 when a device was read (exec; --history: a window) or
 * input ended (execd), or --check found everything a run needs working; 1
 * when nothing could be read or output failed; 2 for a usage or
 * configuration error. Log lines on stderr carry Telegraf's
 * level prefixes (E! W! I!), which newer Telegraf versions honour. */
#include <config.h>

#include "ef_catalog.h"
#include "ef_client.h"
#include "ef_engine.h"
#include "ef_schedule.h"
#include "ef_settings.h"
#include "first_run.h"
#include "loop.h"
#include "output.h"
#include "sink.h"
#include "telegraf_config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

/* What is left of output after the end, written within this. */
#define FINISH_MS 300

typedef struct {
  ef_engine *engine;
  tg_printer printer;
  ef_device_config *devices;
  tg_output *output; /* execd: stdout through a bounded queue */
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
        "--execd: at the end\nof stdin; --check: when everything a run needs "
        "works), 1 when none could be\nread, 2 for a configuration error.\n",
        out);
}

/* The columns of --list-metrics, each as wide as its widest cell. */
typedef struct {
  const char *pattern, *measurement, *tags, *unit, *family;
  char field[256];
  char description[512];
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
                       .family = ef_family_name(quota->family)};
  const char *rule = ef_catalog_rule(quota);
  snprintf(row->description, sizeof(row->description), "%s%s%s%s%s%s",
           quota->description, rule ? "; derived: " : "", rule ? rule : "",
           quota->primary ? "; stands in for " : "",
           quota->primary ? quota->primary : "",
           quota->primary ? " when a device never sends it" : "");
  if (quota->decode == EF_DECODE_ERROR_LIST ||
      quota->decode == EF_DECODE_ERROR_BITS)
    snprintf(row->field, sizeof(row->field),
             "%s" EF_ERROR_COUNT_SUFFIX ",%s" EF_ERROR_CODES_SUFFIX,
             quota->field, quota->field);
  else if (quota->decode == EF_DECODE_ANY)
    snprintf(row->field, sizeof(row->field), "%s,%s" EF_TEXT_SUFFIX,
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
  fputs("\nEvery point also has the tags sn, name and product (when known): "
        "from the\ndevice list, asked before a device's first point and "
        "kept, the same in\nevery mode. Quotas the catalog does not know "
        "are published in measurement\necoflow_raw, named after their path "
        "in snake_case: numbers, decimal text and\nbooleans (0 or 1) as "
        "floats, other text as <name>" EF_TEXT_SUFFIX
        " (string). Every field\nkeeps one type. EcoFlow's \"no reading\" "
        "markers (65535, 4294967295, -3270\nand their scaled forms such as "
        "6553.5) are never published, whatever quota\ncarries them. Lifetime "
        "counters are guarded: 0 is no reading, a small step\nback is a "
        "glitch, a jump or a reset is published once the next reading "
        "agrees.\nMeasurement " TG_READ_MEASUREMENT
        " has, per device reading: stale (the cloud's cached\ncopy, not "
        "published again), age_s (by the cloud's stamp) and the counts\n"
        "published, no_reading and implausible. "
        "Measurement " TG_DEVICE_MEASUREMENT
        "\nhas the online flag (bool) of each device the account lists. "
        "--history prints\nmeasurement " EF_REPORT_MEASUREMENT
        " (tag code), one field per report index: from_solar,\nto_grid, ... "
        "in Wh; self_sufficiency, ... in % (0-100).\n",
        out);
}

/* What failed, said as it is: the engine ran out of memory (output_error
 * 0), or writing the output failed (a reader that went away ends the
 * program quietly: tg_output_failed). */
static void log_failure(int output_error) {
  tg_output_failed(output_error);
  if (output_error == 0 || output_error == ENOMEM)
    fputs("E! ecoflow: out of memory\n", stderr);
  else
    fprintf(stderr, "E! ecoflow: writing to stdout failed: %s\n",
            strerror(output_error));
}

/* One read of the devices that are due (all of them, the first time).
 * Returns the devices read, or -1 when output failed; *held (may be NULL)
 * gets those whose points waited for the device list. */
static int read_due(run *r, size_t *held) {
  ef_read_summary summary = {0};
  if (ef_engine_read(r->engine, ef_now_ms(), &summary) != 0 ||
      r->printer.output_error) {
    log_failure(r->printer.output_error);
    return -1;
  }
  if (held != NULL)
    *held = summary.held;
  return (int)summary.read;
}

static int execd_tick(void *ctx) { return read_due(ctx, NULL) < 0 ? -1 : 0; }

/* Pushed values that wait: the lines of one take leave together. */
static int execd_pushed(void *ctx) {
  run *r = ctx;
  /* The lines of the messages taken leave together, not one write each. */
  tg_output_hold(r->output);
  int taken = ef_engine_take_pushed(r->engine, ef_now_ms());
  if (tg_output_release(r->output) != 0 && !r->printer.output_error)
    r->printer.output_error = errno ? errno : EIO;
  if (taken != 0 || r->printer.output_error) {
    log_failure(r->printer.output_error);
    return -1;
  }
  return 0;
}

/* exec: one read. A run with nothing to read says why. */
static int run_once(run *r) {
  size_t held = 0;
  int read = read_due(r, &held);
  if (read > 0)
    return EXIT_SUCCESS;
  if (read == 0 && held > 0)
    fprintf(stderr,
            "E! ecoflow: %zu device%s answered, but no point is written "
            "without the name and product tags device/list gives\n",
            held, held == 1 ? "" : "s");
  else if (read == 0 && ef_engine_size(r->engine) == 0 &&
           !ef_engine_list_failing(r->engine))
    fputs("E! ecoflow: the account has no devices (device/list is empty)\n",
          stderr);
  else if (read == 0)
    fputs("E! ecoflow: no device could be read\n", stderr);
  return EXIT_FAILURE;
}

static void stop_requests(void) {
  ef_client_stop_all();
  tg_output_stop_all();
}

static int run_execd(run *r, const tg_config *config) {
  double interval_s = config->interval_ms / 1000.0;
  char problem[EF_PROBLEM_LEN], name[EF_SETTING_FLAG_LEN];
  if (config->interval_ms > 0 &&
      ef_settings_interval_floor(&interval_s, problem))
    fprintf(stderr, "W! ecoflow: %s, not every %g s (%s)\n", problem,
            config->interval_ms / 1000.0,
            ef_setting_flag(ef_setting_get(EF_SET_INTERVAL), name));
  long interval_ms = config->interval_ms ? lround(interval_s * 1000) : 0;
  char hook[EF_PROBLEM_LEN];
  if (ef_settings_hook_warning(hook))
    fprintf(stderr, "W! ecoflow: %s\n", hook);
  const char *when = interval_ms ? "on the interval and on each line of stdin"
                                 : "on each line of stdin";
  size_t n = config->n_devices;
  if (n == 0 || config->discover)
    fprintf(stderr, "I! ecoflow: polling every device of the account %s\n",
            when);
  else
    fprintf(stderr, "I! ecoflow: polling %zu device%s %s\n", n,
            n == 1 ? "" : "s", when);
  tg_loop loop = {.input_fd = STDIN_FILENO,
                  .interval_ms = interval_ms,
                  .tick = execd_tick,
                  .stop = stop_requests,
                  .event_fd = ef_engine_push_fd(r->engine),
                  .event = execd_pushed,
                  .output = r->output,
                  .ctx = r};
  int status = tg_loop_run(&loop);
  /* A reader that stopped reading gets a moment, not a hang. */
  if (tg_output_finish(r->output, FINISH_MS) != 0)
    status = -1;
  return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* --history: the backfill, then exit. A range beyond the bound is a
 * configuration error: nothing is sent. */
static int run_backfill(run *r, const tg_config *config) {
  time_t end = config->end.set ? config->end.t : (time_t)(ef_now_ms() / 1000);
  char problem[EF_PROBLEM_LEN];
  char range[3][EF_SETTING_FLAG_LEN];
  ef_setting_flag(ef_setting_get(EF_SET_BEGIN), range[0]);
  ef_setting_flag(ef_setting_get(EF_SET_END), range[1]);
  ef_setting_flag(ef_setting_get(EF_SET_HISTORY_MAX_WINDOWS), range[2]);
  int printed = ef_engine_backfill(
      r->engine, ef_now_ms(), config->history, config->begin.t, end,
      (size_t)config->history_max_windows, problem);
  if (printed == EF_BACKFILL_TOO_MANY) {
    fprintf(stderr,
            "E! ecoflow: %s to %s: %s: narrow the range, or raise %s (now "
            "%ld)\n",
            range[0], range[1], problem, range[2],
            config->history_max_windows
                ? config->history_max_windows
                : (long)EF_BACKFILL_DEFAULT_MAX_WINDOWS);
    return EXIT_USAGE;
  }
  if (printed < 0)
    fprintf(stderr, "E! ecoflow: %s to %s: %s\n", range[0], range[1], problem);
  else if (printed == 0)
    fprintf(stderr, "E! ecoflow: no window of report %s could be read\n",
            config->history);
  errno = 0;
  if (fflush(stdout) != 0 || r->printer.output_error) {
    log_failure(r->printer.output_error ? r->printer.output_error
                : errno                 ? errno
                                        : EIO);
    return EXIT_FAILURE;
  }
  return printed > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The engine's view of the --sn devices. */
static int translate_devices(run *r, const tg_config *config) {
  r->devices =
      calloc(config->n_devices ? config->n_devices : 1, sizeof(*r->devices));
  if (r->devices == NULL)
    return -1;
  for (size_t i = 0; i < config->n_devices; i++)
    r->devices[i] = (ef_device_config){
        .sn = config->devices[i].sn,
        .name = config->devices[i].name,
        .quotas = config->quotas.len ? (const char *const *)config->quotas.items
                                     : NULL,
        .n_quotas = config->quotas.len};
  return 0;
}

static int run_with_engine(const tg_config *config) {
  run r = {.printer = {.out = stdout,
                       .log = stderr,
                       .series = tg_series_new(),
                       .print_online = config->history == NULL}};
  int status = EXIT_FAILURE;
  char problem[EF_PROBLEM_LEN] = "out of memory";
  if (config->execd && config->history == NULL &&
      (r.output = tg_output_new(STDOUT_FILENO, stderr)) != NULL)
    r.printer.out = tg_output_stream(r.output);
  if (r.printer.series == NULL || translate_devices(&r, config) != 0 ||
      (config->execd && config->history == NULL && r.output == NULL)) {
    fputs("E! ecoflow: out of memory\n", stderr);
  } else if (ef_client_global_init() != 0) {
    fputs("E! ecoflow: cannot initialise libcurl\n", stderr);
  } else {
    ef_engine_options options = {
        .account = &config->account,
        .devices = r.devices,
        .n_devices = config->n_devices,
        /* Points carry the list's names and products, in every mode:
         * none is written before the list answered once. */
        .use_list = 1,
        .tags_from_list = 1,
        .discover = config->discover || config->n_devices == 0,
        .refresh_ms = config->discover_refresh_ms,
        .interval_ms = config->interval_ms,
        .read_interval_ms = config->execd ? config->interval_ms : 0,
        .daemon = config->execd,
        .push = ef_push_settings_options(&config->push, "telegraf", 1)};
    r.engine = ef_engine_new(&options, &tg_sink, &r.printer, problem);
    if (r.engine == NULL) {
      fprintf(stderr, "E! ecoflow: configuration: %s\n", problem);
      status = EXIT_USAGE;
    } else if (config->history != NULL) {
      status = run_backfill(&r, config);
    } else if (config->execd) {
      status = run_execd(&r, config);
    } else {
      status = run_once(&r);
    }
    ef_engine_free(r.engine);
    ef_client_global_cleanup();
  }
  free(r.devices);
  tg_series_free(r.printer.series);
  tg_output_free(r.output);
  return status;
}

/* --check: the first-run check, then exit. The snippet it prints names
 * the program where `make install' puts it. */
static int run_check(const tg_config *config) {
  if (ef_client_global_init() != 0) {
    fputs("E! ecoflow: cannot initialise libcurl\n", stderr);
    return EXIT_FAILURE;
  }
  int status =
      tg_first_run_check(config, TG_BINDIR "/ecoflow-telegraf", stdout);
  ef_client_global_cleanup();
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
    /* As every program of the package says it. */
    printf("ecoflow-telegraf (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
  } else if (config.list_metrics) {
    list_metrics(stdout);
  } else if (config.check) {
    status = run_check(&config);
  } else {
    status = run_with_engine(&config);
  }
  /* --help, --version, --list-metrics: whatever stdio could not write. */
  errno = 0;
  if (status == EXIT_SUCCESS && (fflush(stdout) != 0 || ferror(stdout))) {
    log_failure(errno ? errno : EIO);
    status = EXIT_FAILURE;
  }
  tg_config_free(&config);
  return status;
}
