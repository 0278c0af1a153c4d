/* sim.h: what every part of ecoflow-sim shares: the options it was started
 * with and the state its endpoints read and change. */
#ifndef SIM_H
#define SIM_H

#include "faults.h"
#include "fleet.h"
#include "keys.h"
#include "mqtt.h"
#include "stats.h"

#include <stdbool.h>

typedef struct sim_ctx {
  sim_keys keys;
  sim_fleet fleet;
  sim_faults *faults;
  sim_stats *stats;
  /* What certification hands out: the MQTT broker and the account on it. */
  const char *mqtt_host;
  unsigned mqtt_port;
  char *mqtt_account;
  char *mqtt_password;
  /* --mqtt-password-file, read again at each certification so that a test
   * can change the password the cloud hands out; NULL: none. */
  const char *mqtt_password_file;
  /* The devices' own publisher, NULL without --mqtt-publisher. */
  sim_mqtt *mqtt;
  /* Added to every API answer (ms). */
  unsigned latency_ms;
  /* One line per request on stderr. */
  bool verbose;
} sim_ctx;

#endif
