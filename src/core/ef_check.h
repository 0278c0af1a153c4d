/* ef_check.h: the first-run check of one account, for both front ends.
 *
 * Promises: with the settings a run would use, the check asks the cloud
 * what a run needs and says in plain words what works and what to do:
 * whether the endpoint's host accepts the keys, and when it answers 8513
 * (keys are bound to a region) whether the other EcoFlow region's host
 * does; whether this machine's clock agrees with the server's; which
 * devices the account lists (online flag, product); and what one
 * quota/all of each device gives (how many values the catalog names, how
 * many it does not) of one device of each family: never every device of
 * a large account, whose other devices are summed up per family. Each
 * failure of README's trouble table gets a
 * finding of its own that names it and says what to do: a wrong secret
 * (8521), a key of the other region or no key at all (8513), a serial
 * number not bound to the account (8512), a model EcoFlow does not open
 * (1006), HTTP 429 and 5xx, timeouts, a certificate that cannot be
 * verified, a host that cannot be reached, a clock that is off. Last come
 * the collectd block and the Telegraf snippet to paste: the host that
 * accepts the keys, the account's settings that are not the defaults, the
 * configured devices (with their names and intervals) but those the
 * cloud refused, each said in a comment, and discovery when no configured
 * device is left; at most 50 devices, the rest said. Each is a
 * configuration that the program it is for accepts as it is, and never
 * holds a secret: a secret key file's path, or the environment variables'
 * names. Names from the cloud are cleaned (ef_text.h) before they reach
 * any text.
 *
 * Only EcoFlow's own hosts have another region to try: a check of any
 * other endpoint (ecoflow-sim, a proxy) asks no host but that one, unless
 * the test hook EF_TEST_OTHER_REGION_ENV names the "other region". Nothing
 * here prints: the front ends print the report as it is. */
#ifndef EF_CHECK_H
#define EF_CHECK_H

#include "ef_account.h"
#include "ef_error.h"

#include <stddef.h>

#define EF_ENDPOINT_EUROPE EF_DEFAULT_ENDPOINT
#define EF_ENDPOINT_AMERICAS "https://api-a.ecoflow.com"
#define EF_ENDPOINT_GLOBAL "https://api.ecoflow.com"

/* For tests against ecoflow-sim only: the host that stands for the other
 * region when the configured one answers 8513 (the front ends say so when
 * it is set). */
#define EF_TEST_OTHER_REGION_ENV "ECOFLOW_TEST_OTHER_REGION"

typedef enum {
  EF_CHECK_OK,      /* works */
  EF_CHECK_NOTE,    /* worth knowing; nothing to do */
  EF_CHECK_WARNING, /* a run works, but something should be done */
  EF_CHECK_FAILED,  /* a run would fail here: the text says what to do */
} ef_check_verdict;

typedef enum {
  EF_CHECK_HOOK,   /* the test hook is set */
  EF_CHECK_KEYS,   /* the keys, and the host (region) that accepts them */
  EF_CHECK_CLOCK,  /* this machine's clock against the server's */
  EF_CHECK_LIST,   /* the devices the account lists */
  EF_CHECK_DEVICE, /* one device's quota/all */
  EF_CHECK_OTHERS, /* the devices not asked, summed up (sn: the device
                      asked for their family, or NULL) */
} ef_check_topic;

typedef struct {
  ef_check_topic topic;
  ef_check_verdict verdict;
  char *sn;       /* the device, or NULL (see the topic) */
  ef_error error; /* what failed; kind EF_OK when nothing did */
  char *text;     /* one line: what works or what is wrong, and what to do */
  /* EF_CHECK_DEVICE read: the values of its quota/all */
  size_t named;           /* metrics the catalog names */
  size_t unknown;         /* metrics of quotas the catalog does not know */
  size_t unknown_numbers; /* of those, numbers: what collectd's RawQuotas
                             adds */
} ef_check_finding;

typedef struct {
  ef_check_finding *findings; /* in the order they were found */
  size_t n_findings;
  char *endpoint;      /* the host that accepts the keys, or NULL */
  size_t devices_read; /* devices whose quota/all answered */
  int ok;              /* everything a run needs works */
  char *summary;       /* one line */
  /* What to paste, or NULL when no host accepts the keys. Lines end with
   * '\n'; comment lines start with '#'. */
  char *collectd_block;   /* LoadPlugin ecoflow and <Plugin ecoflow> */
  char *telegraf_snippet; /* [[inputs.exec]] */
} ef_check_report;

/* A configured device (collectd's <Device>, ecoflow-telegraf's --sn). */
typedef struct {
  const char *sn;
  const char *name;  /* NULL: none configured */
  double interval_s; /* its own interval; 0: none configured */
} ef_check_device;

typedef struct {
  const ef_account *account;
  const char *account_name; /* collectd's <Account "NAME">; NULL: none */
  const ef_check_device *devices;
  size_t n_devices;
  int discover; /* configured: every device of the account too (implied
                   when no device is configured) */
  /* Where the secret came from, for the snippets: a file's path, or NULL
   * (the environment, or the configuration itself). */
  const char *secret_key_file;
  const char *telegraf_program; /* in the snippet; NULL: ecoflow-telegraf */
  /* What a run does with the values the catalog does not know, in the
   * front end's words ("published in measurement ecoflow_raw"); NULL:
   * nothing said. */
  const char *unknown_fate;
  /* The host tried after 8513; NULL: the other EcoFlow region (for
   * EcoFlow's hosts only), or EF_TEST_OTHER_REGION_ENV when it is set. */
  const char *other_region;
} ef_check_options;

/* Runs the check (it takes a request timeout or two at most: the list, the
 * other region's list, one batch of quota/all) and fills report. Call
 * ef_client_global_init first. Returns 0, or -1 when memory ran out (the
 * report then holds what was found before). */
int ef_check_run(const ef_check_options *options, ef_check_report *report);

void ef_check_report_clear(ef_check_report *report);

/* The report as a person reads it at a terminal (malloc'ed; NULL when out
 * of memory): a line per finding, its verdict first, wrapped at 79
 * columns; the summary; then the snippets asked for, each under a title
 * and indented by four blanks. */
#define EF_CHECK_TEXT_TELEGRAF 1u
#define EF_CHECK_TEXT_COLLECTD 2u
char *ef_check_report_text(const ef_check_report *report, unsigned snippets);

/* "ok", "note", "warning", "FAILED": the same word in both front ends. */
const char *ef_check_verdict_name(ef_check_verdict verdict);

#endif
