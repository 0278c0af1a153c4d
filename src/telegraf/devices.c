/* devices.c: the roster of one run, its changes logged, online flags
 * printed. */
#include "devices.h"

#include <stdlib.h>

int tg_devices_init(tg_devices *devices, const tg_config *config,
                    ef_client *client, tg_printer *printer) {
  *devices = (tg_devices){.client = client,
                          .printer = printer,
                          .print_online = config->history == NULL};
  ef_roster_entry *entries =
      calloc(config->n_devices ? config->n_devices : 1, sizeof(*entries));
  if (entries == NULL)
    return -1;
  for (size_t i = 0; i < config->n_devices; i++)
    entries[i] = (ef_roster_entry){
        .sn = config->devices[i].sn,
        .name = config->devices[i].name,
        .quotas = config->quotas.len ? (const char *const *)config->quotas.items
                                     : NULL,
        .n_quotas = config->quotas.len};
  ef_roster_options options = {
      .use_list = 1, /* names and products, even without discovery */
      .discover = config->discover || config->n_devices == 0,
      .refresh_ms = config->discover_refresh_ms,
      .interval_ms = config->interval_ms};
  devices->roster =
      ef_roster_new(&options, entries, config->n_devices, ef_now_ms());
  free(entries);
  return devices->roster != NULL ? 0 : -1;
}

void tg_devices_free(tg_devices *devices) {
  ef_roster_free(devices->roster);
  devices->roster = NULL;
}

static void on_change(ef_roster_event event, ef_roster_device *device,
                      const ef_error *error, void *ctx) {
  const tg_devices *devices = ctx;
  FILE *log = devices->printer->log;
  char text[TG_ERROR_TEXT_LEN];
  switch (event) {
  case EF_ROSTER_ADDED:
    if (devices->lists > 0)
      tg_log_device(log, "I!", device, "found by discovery: polled from now");
    break;
  case EF_ROSTER_REMOVED:
    tg_log_device(log, "I!", device,
                  "no longer listed by the account: not polled any more");
    break;
  case EF_ROSTER_OFFLINE:
    tg_log_device(log, "I!", device,
                  "offline (device/list): not polled until it is online "
                  "again");
    break;
  case EF_ROSTER_ONLINE:
    tg_log_device(log, "I!", device, "online again (device/list)");
    break;
  case EF_ROSTER_LIST_FAILED:
    ef_roster_explain(error, devices->printer->long_running, text,
                      sizeof(text));
    fprintf(log,
            "%s ecoflow: listing the account's devices (device/list): "
            "%s\n",
            ef_roster_size(devices->roster) ? "W!" : "E!", text);
    break;
  case EF_ROSTER_LIST_RECOVERED:
    fputs("I! ecoflow: listing the account's devices works again\n", log);
    break;
  }
  fflush(log);
}

static void print_online(tg_devices *devices, int64_t now_ms) {
  tg_printer *printer = devices->printer;
  for (size_t i = 0; i < ef_roster_size(devices->roster); i++) {
    const ef_roster_device *device = ef_roster_device_at(devices->roster, i);
    if (device->presence == EF_PRESENCE_UNKNOWN)
      continue;
    lp_tag tags[TG_DEVICE_TAGS];
    tg_device_tags(device, tags);
    lp_field online = {.key = "online",
                       .type = LP_BOOL,
                       .integer = device->presence == EF_PRESENCE_ONLINE};
    if (tg_series_add(printer->series, TG_DEVICE_MEASUREMENT, tags,
                      TG_DEVICE_TAGS, &online) != 0)
      printer->output_error = 1;
  }
  if (tg_series_flush(printer->series, printer->out,
                      now_ms * INT64_C(1000000)) < 0)
    printer->output_error = 1;
}

int tg_devices_refresh(tg_devices *devices, int64_t now_ms) {
  int asked = ef_roster_refresh(devices->roster, devices->client, now_ms,
                                on_change, devices);
  if (asked < 0)
    return -1;
  if (asked == 0)
    return 0;
  devices->lists++;
  if (devices->print_online && !ef_roster_list_failing(devices->roster))
    print_online(devices, now_ms);
  return devices->printer->output_error ? -1 : 0;
}
