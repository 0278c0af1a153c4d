/* collectd_expected.c: what the collectd plugin must dispatch for one
 * quota/all answer, according to the core's catalog: the oracle of
 * test_collectd.py, which checks that the daemon received exactly this.
 *
 * Reads a quota/all "data" object (or a whole answer) as JSON on stdin and
 * prints one tab-separated line per collectd value:
 *   value   TYPE  INSTANCE  NUMBER  PATH   collectd must receive NUMBER
 *   absent  TYPE  INSTANCE  -       PATH   a known quota with no reading
 *                                          (sentinel or implausible): the
 *                                          daemon must not receive it
 * NUMBER is written with %.17g, so that it reads back as the same double.
 * Text metrics (states, code lists) have no collectd type: not listed.
 * As the plugin by default, only the catalog's values of a device of a
 * known family, without the values per battery cell and sensor; with
 * --raw-quotas (RawQuotas true), every value; with --cell-values
 * (CellValues true), those per cell and sensor too. */
#include "oracle.h"

#include <stdio.h>
#include <string.h>

static void print_value(const ef_metric *metric, const ef_sample *sample) {
  (void)sample;
  if (metric->collectd_type[0] != '\0')
    printf("value\t%s\t%s\t%.17g\t%s\n", metric->collectd_type,
           metric->collectd_instance, metric->collectd_value, metric->path);
}

static void print_absent(const ef_metric *metric) {
  if (metric->collectd_type[0] != '\0')
    printf("absent\t%s\t%s\t-\t%s\n", metric->collectd_type,
           metric->collectd_instance, metric->path);
}

int main(int argc, char **argv) {
  int raw_quotas = 0, cell_values = 0;
  for (int i = 1; i < argc; i++) {
    raw_quotas |= strcmp(argv[i], "--raw-quotas") == 0;
    cell_values |= strcmp(argv[i], "--cell-values") == 0;
  }
  return oracle_run("collectd_expected", !raw_quotas, !cell_values, print_value,
                    print_absent);
}
