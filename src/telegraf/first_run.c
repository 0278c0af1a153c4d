/* first_run.c: --check, printed. */
#include "first_run.h"

#include "ef_check.h"

#include <stdlib.h>
#include <string.h>

/* The verdict's column: as wide as the widest verdict and two blanks. */
#define VERDICT_WIDTH 9

static void print_snippet(FILE *out, const char *title, const char *snippet) {
  fprintf(out, "\n%s\n\n", title);
  for (const char *line = snippet; *line != '\0';) {
    size_t len = strcspn(line, "\n");
    fprintf(out, "    %.*s\n", (int)len, line);
    line += len + (line[len] == '\n');
  }
}

int tg_first_run_check(const tg_config *config, const char *program,
                       FILE *out) {
  ef_check_device *devices =
      calloc(config->n_devices ? config->n_devices : 1, sizeof(*devices));
  if (devices == NULL) {
    fputs("E! ecoflow: out of memory\n", stderr);
    return EXIT_FAILURE;
  }
  for (size_t i = 0; i < config->n_devices; i++)
    devices[i] = (ef_check_device){.sn = config->devices[i].sn,
                                   .name = config->devices[i].name};
  ef_check_options options = {.account = &config->account,
                              .devices = devices,
                              .n_devices = config->n_devices,
                              .discover = config->discover,
                              .secret_key_file = config->secret_key_file,
                              .telegraf_program = program};
  ef_check_report report;
  fprintf(out, "Checking the settings against %s ...\n\n",
          config->account.endpoint);
  fflush(out);
  int status = ef_check_run(&options, &report);
  for (size_t i = 0; i < report.n_findings; i++)
    tg_print_wrapped(out, ef_check_verdict_name(report.findings[i].verdict),
                     VERDICT_WIDTH, report.findings[i].text);
  if (report.summary != NULL)
    fprintf(out, "\n%s\n", report.summary);
  if (report.telegraf_snippet != NULL)
    print_snippet(out,
                  "For Telegraf, e.g. in /etc/telegraf/telegraf.d/"
                  "ecoflow.conf:",
                  report.telegraf_snippet);
  if (report.collectd_block != NULL)
    print_snippet(out,
                  "For collectd, e.g. in /etc/collectd/collectd.conf.d/"
                  "ecoflow.conf:",
                  report.collectd_block);
  if (status != 0)
    fputs("E! ecoflow: out of memory: the check is incomplete\n", stderr);
  int ok = status == 0 && report.ok;
  ef_check_report_clear(&report);
  free(devices);
  if (fflush(out) != 0) {
    fputs("E! ecoflow: writing to stdout failed\n", stderr);
    return EXIT_FAILURE;
  }
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
