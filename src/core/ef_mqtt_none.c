/* ef_mqtt_none.c: ef_mqtt.h in a build without libmosquitto: push mode is
 * refused with the reason, so that asking for it is a clear error. */
#include "ef_mqtt.h"

#include <stdio.h>

int ef_mqtt_available(void) { return 0; }

ef_mqtt *ef_mqtt_new(const ef_mqtt_options *options, char *problem) {
  (void)options;
  snprintf(problem, EF_PROBLEM_LEN,
           "push mode (MQTT) needs libmosquitto, which this build has not: "
           "install the Debian package libmosquitto-dev and build again");
  return NULL;
}

/* Without a source, there is nothing to free, watch or take. */
void ef_mqtt_free(ef_mqtt *mqtt) { (void)mqtt; }

int ef_mqtt_watch(ef_mqtt *mqtt, const char *sn) {
  (void)mqtt;
  (void)sn;
  return -1;
}

void ef_mqtt_unwatch(ef_mqtt *mqtt, const char *sn) {
  (void)mqtt;
  (void)sn;
}

int ef_mqtt_snapshot(ef_mqtt *mqtt, const char *sn, ef_samples *state,
                     int64_t *last_ms, uint64_t *version) {
  (void)mqtt;
  (void)sn;
  (void)state;
  (void)last_ms;
  (void)version;
  return -1;
}

void ef_mqtt_merge(ef_mqtt *mqtt, const char *sn, const ef_samples *samples) {
  (void)mqtt;
  (void)sn;
  (void)samples;
}

size_t ef_mqtt_take(ef_mqtt *mqtt,
                    void (*cb)(const ef_mqtt_event *event, void *ctx),
                    void *ctx) {
  (void)mqtt;
  (void)cb;
  (void)ctx;
  return 0;
}

int ef_mqtt_fd(const ef_mqtt *mqtt) {
  (void)mqtt;
  return -1;
}

int64_t ef_mqtt_last_ms(ef_mqtt *mqtt, const char *sn) {
  (void)mqtt;
  (void)sn;
  return 0;
}
