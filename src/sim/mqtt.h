/* mqtt.h: ecoflow-sim's devices publishing to an MQTT broker, as EcoFlow's
 * do, so that a client's push mode can be tested against a real mosquitto.
 *
 * Promises: one connection for the whole fleet (libmosquitto's own network
 * thread, MQTT 3.1.1, TCP_NODELAY: no message waits for the broker to
 * acknowledge the one before, TLS verified against a CA file, the client id
 * "ecoflow-sim-<user>", the same every start), which reconnects by itself
 * 1 to 2 s after a loss; a refused CONNACK or a certificate that does not
 * verify ends the attempts (said on stderr and in the state: they would
 * not heal by retrying); messages at QoS 0 on /open/<account>/<sn>/quota
 * and /status, shaped by message.h, carrying the device's values at the
 * simulated time as quota/all would (a counterback glitch included, and
 * used up by the messages that carry it). Periodic publishing runs on a
 * thread of its own: every device in turn, spread evenly over the period,
 * publishes its next group; a device that is offline (fault) or silenced
 * publishes nothing. Every function is safe from any thread. */
#ifndef SIM_MQTT_H
#define SIM_MQTT_H

#include "message.h"

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct sim_ctx;

typedef struct {
  const char *host;
  unsigned port;
  /* The certificate account: the second level of every topic. */
  const char *account;
  /* The simulator's own broker account. */
  const char *user;
  const char *password;
  /* CA file to verify the broker with; NULL: the system's CAs. */
  const char *cafile;
  /* A file that gets one line per message sent, or NULL:
   * "<wall clock ms, to the microsecond> <id> <topic> <shape> <group or
   * status>", e.g. "1718625600123.456 7 /open/A/SN/quota typecode x". */
  const char *log_path;
  /* Periodic publishing from the start: every device publishes once per
   * every_ms (0: not before asked). */
  unsigned every_ms;
  bool verbose;
} sim_mqtt_config;

/* The longest period periodic publishing takes (ms). */
#define SIM_MQTT_MAX_PERIOD_MS 3600000

/* How periodic publishing picks shapes: one, or both in turn. */
typedef enum {
  SIM_MQTT_MIXED,
  SIM_MQTT_TYPECODE_ONLY,
  SIM_MQTT_CMDFUNC_ONLY,
} sim_mqtt_shapes;

typedef struct sim_mqtt sim_mqtt;

/* Starts connecting (the broker may come up later) and, when asked, the
 * periodic publishing. ctx must be complete and outlive the result. NULL
 * with a reason in err when it cannot (a CA file it cannot read). */
sim_mqtt *sim_mqtt_start(const struct sim_ctx *ctx,
                         const sim_mqtt_config *config, char *err,
                         size_t err_size);

/* Disconnects and stops both threads. */
void sim_mqtt_stop(sim_mqtt *mqtt);

typedef struct {
  sim_msg_shape shape;
  /* Quota messages: the group to send, NULL for the device's next one (the
   * one periodic publishing would send). */
  const char *group;
  /* Status messages: 1 online, 0 offline, -1 as the device is (offline
   * while it has the offline fault). */
  int status;
} sim_mqtt_message;

typedef struct {
  /* New strings the caller frees. */
  char *topic;
  char *payload;
  /* The group sent ("" for a status message) and the message's id. */
  char group[64];
  unsigned long long id;
} sim_mqtt_sent;

/* Publishes one message of device now. Returns 0 and fills *sent, or an
 * HTTP status with a reason in err: 404 for a group the device does not
 * have, 503 when the simulator is not connected to the broker or the
 * library refuses the message. */
unsigned sim_mqtt_publish(sim_mqtt *mqtt, size_t device,
                          const sim_mqtt_message *message, sim_mqtt_sent *sent,
                          char *err, size_t err_size);

/* Periodic publishing: every device once per every_ms (0 stops it). */
void sim_mqtt_set_period(sim_mqtt *mqtt, unsigned every_ms,
                         sim_mqtt_shapes shapes);

/* Keeps device out of periodic publishing (a device gone quiet). */
void sim_mqtt_set_silent(sim_mqtt *mqtt, size_t device, bool silent);

/* A device's online state changed (the offline fault came or went):
 * publishes its status message when connected. */
void sim_mqtt_online_changed(sim_mqtt *mqtt, size_t device, bool online);

/* {"connected":bool,"connects":N,"disconnects":N,"connack":"..","error":"..",
 *  "published":N,"publish_failures":N,"skipped":N,"every_ms":N,
 *  "shapes":"..","client_id":"..","account":"..","silent":[sn,..]} */
struct json_object *sim_mqtt_state(sim_mqtt *mqtt);

#endif
