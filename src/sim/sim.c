/* sim.c: ecoflow-sim, a fake EcoFlow IoT open API cloud for tests, demos
 * and benchmarks. Reads the command line, builds the account, serves it
 * until SIGTERM or SIGINT. */
#include "config.h"

#include "clock.h"
#include "devices.h"
#include "model.h"
#include "number.h"
#include "server.h"
#include "sim.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PORT 18088
#define DEFAULT_MQTT_HOST "127.0.0.1"
#define DEFAULT_MQTT_PORT 8883
#define MAX_THREADS 64
#define MAX_GENERATED_DEVICES 1000000
#define MAX_LATENCY_MS 600000
/* Where the MQTT passwords come from without --mqtt-password-file. */
#define ENV_CERTIFICATE_PASSWORD "ECOFLOW_SIM_MQTT_PASSWORD"
#define ENV_PUBLISHER_PASSWORD "ECOFLOW_SIM_MQTT_PUBLISHER_PASSWORD"
#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: ecoflow-sim [OPTION]...\n"
    "A fake EcoFlow IoT open API cloud on 127.0.0.1, for tests and demos.\n"
    "\n"
    "  --port N                 listen on port N (0: any free port; default "
    "%d)\n"
    "  --port-file FILE         write the port to FILE once listening\n"
    "  --device SN:FAMILY[:NAME]  add a device; FAMILY is one of\n"
    "                           %s (repeatable)\n"
    "  --devices N              add N PowerOceans SIM000000, SIM000001, ...\n"
    "                           (without --device/--devices: one each of the\n"
    "                           first four families)\n"
    "  --fault SN:SPEC          start with a fault (SN * for all, list for\n"
    "                           device/list; repeatable);\n"
    "                           SPEC: http500 http405 http429:S delay:MS "
    "stall\n"
    "                           truncated notjson malformed api:CODE:MESSAGE\n"
    "                           1006 offline huge:BYTES unlisted clear\n"
    "                           counterback:PATH:STEP[:ANSWERS] (a counter "
    "steps\n"
    "                           back by STEP for the next ANSWERS answers)\n"
    "                           listed:JSON (device/list shows the members of "
    "the\n"
    "                           JSON object instead: hostile names, serials)\n"
    "                           set:ANSWERS:JSON (the quotas the JSON object\n"
    "                           names take its values for ANSWERS answers;\n"
    "                           PACKKEY.member reaches into a pack's JSON)\n"
    "  --clock UNIX_SECONDS     freeze the simulated clock there\n"
    "  --latency-ms N           answer every API request N ms late\n"
    "  --keys-file FILE         account keys (access_key = ..., secret_key = "
    "...);\n"
    "                           else ECOFLOW_ACCESS_KEY and "
    "ECOFLOW_SECRET_KEY\n"
    "  --mqtt-host HOST         broker that certification hands out (default "
    "%s)\n"
    "  --mqtt-port N            its port (default %d)\n"
    "  --mqtt-account NAME      certificateAccount it hands out (default: "
    "open-...\n"
    "                           derived from the access key)\n"
    "  --mqtt-password-file FILE  certificate_password = ... (what "
    "certification\n"
    "                           hands out; read at each call) and\n"
    "                           publisher_password = ...; else\n"
    "                           " ENV_CERTIFICATE_PASSWORD " and\n"
    "                           " ENV_PUBLISHER_PASSWORD "\n"
    "  --mqtt-publisher USER    publish the devices' quota and status "
    "messages to\n"
    "                           that broker as USER (TLS, MQTT 3.1.1)\n"
    "  --mqtt-cafile FILE       CA to verify the broker with (default: the "
    "system's)\n"
    "  --mqtt-publish-ms N      every device publishes a group every N ms\n"
    "  --mqtt-publish-log FILE  one line per message sent: wall ms (to the "
    "us),\n"
    "                           id, topic, shape, group\n"
    "  --threads N              HTTP worker threads (default: CPUs, 2 to 8)\n"
    "  --verbose                one line per request on stderr\n"
    "  --help, --version\n"
    "\n"
    "Control endpoints (unsigned): GET /sim/quota?sn=SN, POST "
    "/sim/fault?sn=SN&spec=SPEC,\n"
    "GET /sim/stats, POST /sim/stats/reset, GET /sim/clock, POST "
    "/sim/clock?at=T|advance=S|run=1,\n"
    "GET /sim/mqtt, POST "
    "/sim/mqtt/publish?sn=SN&shape=typecode|cmdfunc|status[&group=G]"
    "[&status=0|1],\n"
    "POST /sim/mqtt/periodic?every_ms=N[&shapes=mixed|typecode|cmdfunc], "
    "POST /sim/mqtt/silent?sn=SN&on=1|0\n";

/* The arguments of a repeatable option, in the order given. argv outlives
 * everything, so pointers into it are enough. */
typedef struct {
  const char **items;
  size_t len;
} arg_list;

typedef struct {
  long long port;
  const char *port_file;
  arg_list devices;
  long long generated;
  arg_list faults;
  /* -1: the clock runs. */
  long long clock_at;
  long long latency_ms;
  const char *keys_file;
  const char *mqtt_host;
  long long mqtt_port;
  const char *mqtt_account;
  const char *mqtt_password_file;
  const char *mqtt_publisher;
  const char *mqtt_cafile;
  long long mqtt_publish_ms;
  const char *mqtt_publish_log;
  /* 0: as many as there are CPUs, within limits. */
  long long threads;
  bool verbose;
} options;

typedef enum {
  ARG_NUMBER, /* a long long in [min, max] */
  ARG_TEXT,   /* a const char * */
  ARG_LIST,   /* an arg_list */
  ARG_FLAG,   /* a bool */
  ARG_HELP,
  ARG_VERSION,
} arg_kind;

typedef struct {
  const char *name;
  arg_kind kind;
  /* Where in options the value goes. */
  size_t field;
  long long min, max;
} option_spec;

#define NUMBER_OPTION(name, field, min, max)                                   \
  { name, ARG_NUMBER, offsetof(options, field), min, max }
#define OPTION(name, kind, field)                                              \
  { name, kind, offsetof(options, field), 0, 0 }

static const option_spec option_specs[] = {
    NUMBER_OPTION("port", port, 0, 65535),
    OPTION("port-file", ARG_TEXT, port_file),
    OPTION("device", ARG_LIST, devices),
    NUMBER_OPTION("devices", generated, 0, MAX_GENERATED_DEVICES),
    OPTION("fault", ARG_LIST, faults),
    NUMBER_OPTION("clock", clock_at, 0, SIM_CLOCK_MAX),
    NUMBER_OPTION("latency-ms", latency_ms, 0, MAX_LATENCY_MS),
    OPTION("keys-file", ARG_TEXT, keys_file),
    OPTION("mqtt-host", ARG_TEXT, mqtt_host),
    NUMBER_OPTION("mqtt-port", mqtt_port, 1, 65535),
    OPTION("mqtt-account", ARG_TEXT, mqtt_account),
    OPTION("mqtt-password-file", ARG_TEXT, mqtt_password_file),
    OPTION("mqtt-publisher", ARG_TEXT, mqtt_publisher),
    OPTION("mqtt-cafile", ARG_TEXT, mqtt_cafile),
    NUMBER_OPTION("mqtt-publish-ms", mqtt_publish_ms, 0,
                  SIM_MQTT_MAX_PERIOD_MS),
    OPTION("mqtt-publish-log", ARG_TEXT, mqtt_publish_log),
    NUMBER_OPTION("threads", threads, 1, MAX_THREADS),
    OPTION("verbose", ARG_FLAG, verbose),
    {"help", ARG_HELP, 0, 0, 0},
    {"version", ARG_VERSION, 0, 0, 0},
};

#define OPTION_COUNT (sizeof(option_specs) / sizeof(*option_specs))

static int fail_usage(const char *message, const char *argument) {
  fprintf(stderr, "ecoflow-sim: %s%s%s\nTry 'ecoflow-sim --help'.\n", message,
          argument ? ": " : "", argument ? argument : "");
  return EXIT_USAGE;
}

/* Stores one option's argument; returns -1 to go on, else the exit
 * status. */
static int take_option(const option_spec *spec, const char *arg, options *opt) {
  char *field = (char *)opt + spec->field;
  switch (spec->kind) {
  case ARG_NUMBER:
    if (sim_parse_integer(arg, spec->min, spec->max, (long long *)field) != 0) {
      fprintf(stderr,
              "ecoflow-sim: --%s wants a whole number from %lld to %lld, "
              "not \"%s\"\n",
              spec->name, spec->min, spec->max, arg);
      return EXIT_USAGE;
    }
    return -1;
  case ARG_TEXT:
    *(const char **)field = arg;
    return -1;
  case ARG_LIST: {
    arg_list *list = (arg_list *)field;
    const char **items =
        realloc(list->items, (list->len + 1) * sizeof(*list->items));
    if (items == NULL)
      return EXIT_FAILURE;
    items[list->len++] = arg;
    list->items = items;
    return -1;
  }
  case ARG_FLAG:
    *(bool *)field = true;
    return -1;
  case ARG_HELP:
    printf(usage_text, DEFAULT_PORT, sim_family_names(), DEFAULT_MQTT_HOST,
           DEFAULT_MQTT_PORT);
    return EXIT_SUCCESS;
  case ARG_VERSION:
    printf("ecoflow-sim (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
    return EXIT_SUCCESS;
  }
  return EXIT_FAILURE;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, options *opt) {
  struct option long_options[OPTION_COUNT + 1];
  for (size_t i = 0; i < OPTION_COUNT; i++) {
    arg_kind kind = option_specs[i].kind;
    bool takes_argument =
        kind == ARG_NUMBER || kind == ARG_TEXT || kind == ARG_LIST;
    long_options[i] = (struct option){
        option_specs[i].name, takes_argument ? required_argument : no_argument,
        NULL, (int)i};
  }
  long_options[OPTION_COUNT] = (struct option){0};
  int index;
  while ((index = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
    if (index < 0 || (size_t)index >= OPTION_COUNT)
      return fail_usage("bad option", NULL);
    int status = take_option(&option_specs[index], optarg, opt);
    if (status >= 0)
      return status;
  }
  if (optind < argc)
    return fail_usage("unexpected argument", argv[optind]);
  return -1;
}

static int build_fleet(const options *opt, sim_fleet *fleet) {
  char err[256];
  int status = 0;
  for (size_t i = 0; status == 0 && i < opt->devices.len; i++)
    status = sim_fleet_add_spec(fleet, opt->devices.items[i], err, sizeof(err));
  if (status == 0 && opt->generated > 0)
    status = sim_fleet_add_generated(fleet, (size_t)opt->generated, err,
                                     sizeof(err));
  if (status == 0 && fleet->len == 0)
    status = sim_fleet_add_defaults(fleet, err, sizeof(err));
  if (status == 0)
    status = sim_fleet_seal(fleet, err, sizeof(err));
  if (status != 0)
    fprintf(stderr, "ecoflow-sim: %s\n", err);
  return status;
}

static int apply_faults(const options *opt, sim_ctx *ctx) {
  for (size_t i = 0; i < opt->faults.len; i++) {
    const char *arg = opt->faults.items[i];
    const char *colon = strchr(arg, ':');
    char sn[80];
    char err[256];
    sim_fault fault;
    if (colon == NULL || (size_t)(colon - arg) >= sizeof(sn)) {
      fprintf(stderr, "ecoflow-sim: expected --fault SN:SPEC, got \"%s\"\n",
              arg);
      return -1;
    }
    snprintf(sn, sizeof(sn), "%.*s", (int)(colon - arg), arg);
    ssize_t device = sim_fault_slot(sn, sim_fleet_find(&ctx->fleet, sn));
    if (device == SIM_FAULT_NOWHERE) {
      fprintf(stderr, "ecoflow-sim: --fault for unknown device %s\n", sn);
      return -1;
    }
    if (sim_fault_parse(colon + 1, &fault, err, sizeof(err)) != 0) {
      fprintf(stderr, "ecoflow-sim: %s\n", err);
      return -1;
    }
    sim_faults_set(ctx->faults, device, &fault);
  }
  return 0;
}

/* Written whole and renamed into place, so that a reader never sees half a
 * port number. */
static int write_port_file(const char *path, unsigned port) {
  char *temporary = NULL;
  if (asprintf(&temporary, "%s.tmp", path) < 0)
    return -1;
  FILE *file = fopen(temporary, "w");
  int status = -1;
  if (file != NULL) {
    int printed = fprintf(file, "%u\n", port);
    if (fclose(file) == 0 && printed > 0 && rename(temporary, path) == 0)
      status = 0;
  }
  if (status != 0) {
    perror(path);
    unlink(temporary);
  }
  free(temporary);
  return status;
}

static unsigned default_threads(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 2 ? 2 : cpus > 8 ? 8 : (unsigned)cpus;
}

/* Blocks until SIGTERM or SIGINT. The signals are blocked in every thread
 * (masks are inherited) and taken here, so no handler runs in the middle
 * of the server's work. */
static void wait_for_stop(const sigset_t *stop_signals) {
  int signal_number = 0;
  while (sigwait(stop_signals, &signal_number) != 0)
    ;
}

static int serve(const options *opt, sim_ctx *ctx,
                 const sigset_t *stop_signals) {
  char err[256];
  sim_server *server = sim_server_start(
      ctx, (unsigned)opt->port,
      opt->threads > 0 ? (unsigned)opt->threads : default_threads(), err,
      sizeof(err));
  if (server == NULL) {
    fprintf(stderr, "ecoflow-sim: %s\n", err);
    return EXIT_FAILURE;
  }
  unsigned port = sim_server_port(server);
  int status = EXIT_SUCCESS;
  if (opt->port_file != NULL && write_port_file(opt->port_file, port) != 0)
    status = EXIT_FAILURE;
  else {
    fprintf(stderr,
            "ecoflow-sim: listening on http://127.0.0.1:%u (%zu "
            "devices)\n",
            port, ctx->fleet.len);
    wait_for_stop(stop_signals);
  }
  sim_server_stop(server);
  return status;
}

/* The certification's account and password, and the publisher's password:
 * given, or (the first two) stable per access key, as the cloud's are, so
 * that a test can set up a broker after one call. */
static int mqtt_credentials(const options *opt, sim_ctx *ctx,
                            char **publisher_password) {
  char err[256];
  static const char *const names[] = {"certificate_password",
                                      "publisher_password"};
  char **const slots[] = {&ctx->mqtt_password, publisher_password};
  ctx->mqtt_password_file = opt->mqtt_password_file;
  if (opt->mqtt_password_file != NULL) {
    if (sim_keys_read_file(opt->mqtt_password_file, names, slots, 2, err,
                           sizeof(err)) != 0) {
      fprintf(stderr, "ecoflow-sim: --mqtt-password-file: %s\n", err);
      return -1;
    }
  } else {
    const char *env[] = {getenv(ENV_CERTIFICATE_PASSWORD),
                         getenv(ENV_PUBLISHER_PASSWORD)};
    for (size_t i = 0; i < 2; i++)
      if (env[i] != NULL && (*slots[i] = strdup(env[i])) == NULL)
        return -1;
  }
  uint64_t account = sim_model_seed(SIM_SEED_START, ctx->keys.access_key);
  if (opt->mqtt_account != NULL)
    ctx->mqtt_account = strdup(opt->mqtt_account);
  else if (asprintf(&ctx->mqtt_account, "open-%016" PRIx64, account) < 0)
    ctx->mqtt_account = NULL;
  if (ctx->mqtt_password == NULL &&
      asprintf(&ctx->mqtt_password, "%016" PRIx64 "%016" PRIx64,
               sim_model_seed(account, "password"),
               sim_model_seed(account, "salt")) < 0)
    ctx->mqtt_password = NULL;
  return ctx->mqtt_account != NULL && ctx->mqtt_password != NULL ? 0 : -1;
}

/* Starts the devices' publisher when --mqtt-publisher asks for one.
 * Returns 0, or the exit status. */
static int start_mqtt(const options *opt, sim_ctx *ctx) {
  char *publisher_password = NULL;
  int status = mqtt_credentials(opt, ctx, &publisher_password);
  if (status != 0) {
    sim_keys_wipe(publisher_password);
    return EXIT_USAGE;
  }
  if (opt->mqtt_publisher == NULL) {
    sim_keys_wipe(publisher_password);
    if (opt->mqtt_publish_ms > 0 || opt->mqtt_publish_log != NULL) {
      fprintf(stderr, "ecoflow-sim: --mqtt-publish-ms and "
                      "--mqtt-publish-log need --mqtt-publisher\n");
      return EXIT_USAGE;
    }
    return 0;
  }
  if (publisher_password == NULL) {
    fprintf(stderr, "ecoflow-sim: --mqtt-publisher needs publisher_password in "
                    "--mqtt-password-file or " ENV_PUBLISHER_PASSWORD "\n");
    return EXIT_USAGE;
  }
  sim_mqtt_config config = {.host = ctx->mqtt_host,
                            .port = ctx->mqtt_port,
                            .account = ctx->mqtt_account,
                            .user = opt->mqtt_publisher,
                            .password = publisher_password,
                            .cafile = opt->mqtt_cafile,
                            .log_path = opt->mqtt_publish_log,
                            .every_ms = (unsigned)opt->mqtt_publish_ms,
                            .verbose = opt->verbose};
  char err[256];
  ctx->mqtt = sim_mqtt_start(ctx, &config, err, sizeof(err));
  sim_keys_wipe(publisher_password);
  if (ctx->mqtt == NULL) {
    fprintf(stderr, "ecoflow-sim: %s\n", err);
    return EXIT_USAGE;
  }
  return 0;
}

static int run(const options *opt, sim_ctx *ctx, const sigset_t *stop_signals) {
  char err[256];
  if (sim_keys_load(&ctx->keys, opt->keys_file, err, sizeof(err)) != 0) {
    fprintf(stderr, "ecoflow-sim: %s\n", err);
    return EXIT_USAGE;
  }
  if (build_fleet(opt, &ctx->fleet) != 0)
    return EXIT_USAGE;
  if (opt->clock_at >= 0)
    sim_clock_freeze(opt->clock_at);
  ctx->mqtt_host = opt->mqtt_host;
  ctx->mqtt_port = (unsigned)opt->mqtt_port;
  ctx->latency_ms = (unsigned)opt->latency_ms;
  ctx->verbose = opt->verbose;
  ctx->faults = sim_faults_new(ctx->fleet.len);
  ctx->stats = sim_stats_new(ctx->fleet.len);
  if (ctx->faults == NULL || ctx->stats == NULL) {
    fprintf(stderr, "ecoflow-sim: out of memory\n");
    return EXIT_FAILURE;
  }
  if (apply_faults(opt, ctx) != 0)
    return EXIT_USAGE;
  int status = start_mqtt(opt, ctx);
  if (status == 0)
    status = serve(opt, ctx, stop_signals);
  /* The server has stopped: nothing uses the publisher any more. */
  sim_mqtt_stop(ctx->mqtt);
  ctx->mqtt = NULL;
  return status;
}

int main(int argc, char **argv) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  options opt = {.port = DEFAULT_PORT,
                 .clock_at = -1,
                 .mqtt_host = DEFAULT_MQTT_HOST,
                 .mqtt_port = DEFAULT_MQTT_PORT};
  sim_ctx ctx = {0};
  int status = parse_options(argc, argv, &opt);
  if (status < 0)
    status = run(&opt, &ctx, &stop_signals);
  sim_keys_wipe(ctx.mqtt_password);
  free(ctx.mqtt_account);
  sim_stats_free(ctx.stats);
  sim_faults_free(ctx.faults);
  sim_fleet_free(&ctx.fleet);
  sim_keys_free(&ctx.keys);
  free(opt.devices.items);
  free(opt.faults.items);
  return status;
}
