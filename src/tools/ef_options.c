/* ef_options: the options the front ends take, read from their own
 * tables, for the documentation's tests (tests/doc/test_docs.py), which
 * hold every example configuration, man page and README to them and them
 * to the docs. This is the one place the lists are taken from: when the
 * settings table (ef_settings.def) replaces the parsers, only this file
 * changes.
 *
 * `ef_options` prints one line per option:
 *   collectd BLOCK NAME       BLOCK plugin, account, device or report;
 *                             NAME an option ("Timeout") or a block
 *                             ("<Device>"), as the plugin's refusal of an
 *                             unknown option names them
 *   telegraf KEY ENV FROM     KEY as in a --config file (on the command
 *                             line --KEY with dashes); ENV its environment
 *                             variable or "-"; FROM where it may be set:
 *                             argv, file, env, comma separated
 * for the front ends this build has. */
#include <stdio.h>
#include <string.h>

#ifdef EF_OPTIONS_COLLECTD
#include "ecoflow_config.h"

static void print_collectd(void) {
  static const struct {
    ecoflow_block block;
    const char *name;
  } blocks[] = {{ECOFLOW_BLOCK_PLUGIN, "plugin"},
                {ECOFLOW_BLOCK_ACCOUNT, "account"},
                {ECOFLOW_BLOCK_DEVICE, "device"},
                {ECOFLOW_BLOCK_REPORT, "report"}};
  for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++)
    for (const char *name = ecoflow_config_options(blocks[b].block);
         *name != '\0';) {
      size_t len = strcspn(name, ",");
      printf("collectd %s %.*s\n", blocks[b].name, (int)len, name);
      name += len;
      name += strspn(name, ", ");
    }
}
#endif

#ifdef EF_OPTIONS_TELEGRAF
#include "telegraf_config.h"

static void print_telegraf(void) {
  static const struct {
    unsigned origin;
    const char *name;
  } origins[] = {
      {TG_FROM_ARGV, "argv"}, {TG_FROM_FILE, "file"}, {TG_FROM_ENV, "env"}};
  const char *key, *env;
  unsigned from;
  for (size_t i = 0; tg_config_setting(i, &key, &env, &from) == 0; i++) {
    printf("telegraf %s %s ", key, env ? env : "-");
    const char *sep = "";
    for (size_t o = 0; o < sizeof(origins) / sizeof(origins[0]); o++)
      if (from & origins[o].origin) {
        printf("%s%s", sep, origins[o].name);
        sep = ",";
      }
    putchar('\n');
  }
}
#endif

int main(void) {
#ifdef EF_OPTIONS_COLLECTD
  print_collectd();
#endif
#ifdef EF_OPTIONS_TELEGRAF
  print_telegraf();
#endif
  return fflush(stdout) == 0 ? 0 : 1;
}
