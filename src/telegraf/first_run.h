/* first_run.h: ecoflow-telegraf --check, the core's first-run check
 * (ef_check.h) printed for a person at a terminal.
 *
 * Promises: one line per finding, its verdict first, wrapped at 79
 * columns; the summary; then the Telegraf snippet and the collectd block
 * to paste, as the core wrote them. Nothing but what the report holds is
 * printed: never a secret. */
#ifndef EF_TELEGRAF_FIRST_RUN_H
#define EF_TELEGRAF_FIRST_RUN_H

#include "telegraf_config.h"

#include <stdio.h>

/* Runs the check with config's settings, prints it to out. Returns the
 * exit status: 0 when everything a run needs works, else 1. Call
 * ef_client_global_init first. */
int tg_first_run_check(const tg_config *config, const char *program, FILE *out);

#endif
