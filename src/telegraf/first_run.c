/* first_run.c: --check, printed. */
#include "first_run.h"

#include "ef_check.h"
#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
  ef_check_options options = {
      .account = &config->account,
      .devices = devices,
      .n_devices = config->n_devices,
      .discover = config->discover,
      .secret_key_file = config->secret_key_file,
      .telegraf_program = program,
      .unknown_fate = "published too, most in measurement ecoflow_raw"};
  ef_check_report report;
  fprintf(out, "Checking the settings against %s ...\n\n",
          config->account.endpoint);
  fflush(out);
  int status = ef_check_run(&options, &report);
  char *text = ef_check_report_text(&report, EF_CHECK_TEXT_TELEGRAF |
                                                 EF_CHECK_TEXT_COLLECTD);
  if (text != NULL)
    fputs(text, out);
  if (status != 0 || text == NULL)
    fputs("E! ecoflow: out of memory: the check is incomplete\n", stderr);
  int ok = status == 0 && text != NULL && report.ok;
  free(text);
  ef_check_report_clear(&report);
  free(devices);
  errno = 0;
  if (fflush(out) != 0) {
    int err = errno ? errno : EIO;
    tg_output_failed(err);
    fprintf(stderr, "E! ecoflow: writing to stdout failed: %s\n",
            strerror(err));
    return EXIT_FAILURE;
  }
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
