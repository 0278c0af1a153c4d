/* ef_options: the options the front ends take, read from the settings
 * table (src/core/ef_settings.def), for the documentation's tests
 * (tests/doc/test_docs.py), which hold every example configuration, man
 * page and README to them and them to the docs. The parsers look every
 * name up in the same table, so what is printed here is what they take.
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
#include "ef_settings.h"

#include <stdio.h>

#ifdef EF_OPTIONS_COLLECTD
static void print_collectd(void) {
  /* Beside the <Account> blocks, an account's options and <Account>. */
  static const struct {
    unsigned places;
    const char *name;
  } blocks[] = {
      {EF_SETTING_IN_PLUGIN | EF_SETTING_IN_ACCOUNT, "plugin"},
      {EF_SETTING_IN_ACCOUNT, "account"},
      {EF_SETTING_IN_DEVICE, "device"},
      {EF_SETTING_IN_REPORT, "report"},
  };
  for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++)
    for (size_t id = 0; id < EF_SETTINGS_N; id++) {
      const ef_setting *s = ef_setting_get(id);
      if (s->collectd == NULL || !(s->blocks & blocks[b].places))
        continue;
      int block = ef_setting_collectd_block(s);
      printf("collectd %s %s%s%s\n", blocks[b].name, block ? "<" : "",
             s->collectd, block ? ">" : "");
    }
}
#endif

#ifdef EF_OPTIONS_TELEGRAF
static void print_telegraf(void) {
  static const struct {
    unsigned origin;
    const char *name;
  } origins[] = {{EF_SETTING_FROM_ARGV, "argv"},
                 {EF_SETTING_FROM_FILE, "file"},
                 {EF_SETTING_FROM_ENV, "env"}};
  for (size_t id = 0; id < EF_SETTINGS_N; id++) {
    const ef_setting *s = ef_setting_get(id);
    if (s->telegraf == NULL)
      continue;
    printf("telegraf %s %s ", s->telegraf, s->env ? s->env : "-");
    const char *sep = "";
    for (size_t o = 0; o < sizeof(origins) / sizeof(origins[0]); o++)
      if (s->from & origins[o].origin) {
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
