/* ef_mqtt.h: push mode, the devices' MQTT messages for the engine.
 *
 * Promises: a thread of its own asks for the account's MQTT credentials
 * (signed GET certification; the port comes as a string), connects to the
 * broker over TLS verified against the system's CAs or the account's CA
 * file (never in clear), as one client id derived from the certificate
 * account and a suffix, the same at every start, and subscribes to the
 * exact quota and status topics of each device it watches (the live
 * broker refuses wildcards). Each message is taken apart there (at most
 * EF_MQTT_MAX_PAYLOAD bytes; a quota message as typeCode + params or as
 * cmdFunc/cmdId + nested param, flattened as quota/all's paths; a status
 * message's params.status): its values are merged into the device's pushed
 * state, which the engine copies out under a short lock, and, in stream
 * mode, queued whole for the engine, which takes them in its own thread;
 * a descriptor becomes readable while anything waits. A device that sends
 * nothing (nor gets an HTTP reading merged) for silence_ms is said silent,
 * once, and heard again at its next message. Messages for other topics,
 * broken ones and over-long ones are counted, never fatal.
 *
 * Faults are the thread's to heal: after a broker loss it reconnects from
 * EF_MQTT_FIRST_BACKOFF_S doubling to EF_MQTT_MAX_BACKOFF_S (reset once a
 * connection has lasted EF_MQTT_STABLE_S); a broker that refuses the
 * credentials makes it ask for new ones, at most every
 * EF_MQTT_CERTIFICATION_GAP_S, then back off; a certificate that fails to
 * verify backs off the same way. Each of these, the first connection, a
 * connection lost and one restored, and a broker that keeps closing fresh
 * connections (another client with the same id), is news queued once per
 * change, never with a credential in it. ef_mqtt_free stops the thread
 * within a second. */
#ifndef EF_MQTT_H
#define EF_MQTT_H

#include "ef_account.h"
#include "ef_news.h"
#include "ef_sample.h"

#include <stddef.h>
#include <stdint.h>

#define EF_MQTT_MAX_PAYLOAD (256 * 1024)
#define EF_MQTT_FIRST_BACKOFF_S 1
#define EF_MQTT_MAX_BACKOFF_S 300
#define EF_MQTT_STABLE_S 60
#define EF_MQTT_CERTIFICATION_GAP_S 60
#define EF_MQTT_KEEPALIVE_S 60
/* Queued messages in stream mode beyond this are dropped (and counted):
 * a front end that does not take them must not make the process grow. */
#define EF_MQTT_MAX_QUEUED 100000
#define EF_MQTT_CLIENT_ID_MAX 64

typedef struct ef_mqtt ef_mqtt;

typedef struct {
  const ef_account *account;    /* its endpoint, keys and CA file */
  const char *client_id_suffix; /* e.g. "collectd"; NULL: none */
  int stream;                   /* queue each message whole too */
  int64_t silence_ms;           /* a device without news this long is silent */
} ef_mqtt_options;

/* A source that starts connecting at once. Returns NULL with problem
 * filled (EF_PROBLEM_LEN) when the options are unusable or memory or the
 * thread could not be had. */
ef_mqtt *ef_mqtt_new(const ef_mqtt_options *options, char *problem);

/* Stops the thread (within a second) and frees everything. NULL is fine. */
void ef_mqtt_free(ef_mqtt *mqtt);

/* Subscribes to sn's topics (now, or once connected); 0, or -1 when out
 * of memory. */
int ef_mqtt_watch(ef_mqtt *mqtt, const char *sn);
void ef_mqtt_unwatch(ef_mqtt *mqtt, const char *sn);

/* What a device pushed so far: a copy of its merged state (appended to
 * state), the time of its last message (0: none yet). Returns 0, or -1
 * when sn is not watched or memory ran out. */
int ef_mqtt_snapshot(ef_mqtt *mqtt, const char *sn, ef_samples *state,
                     int64_t *last_ms);

/* Merges samples (an HTTP reading) into sn's state, so that a refresh
 * heals values missed while disconnected. */
void ef_mqtt_merge(ef_mqtt *mqtt, const char *sn, const ef_samples *samples);

typedef enum {
  EF_MQTT_MESSAGE, /* stream mode: a quota message's values */
  EF_MQTT_STATUS,  /* a status message: online */
  EF_MQTT_SILENT,  /* nothing from the device for silence_ms: quiet_ms */
  EF_MQTT_HEARD,   /* a message from it again after EF_MQTT_SILENT */
  EF_MQTT_NEWS,    /* the connection's state changed: level, text */
} ef_mqtt_event_kind;

typedef struct {
  ef_mqtt_event_kind kind;
  char sn[EF_SERIAL_MAX + 1]; /* MESSAGE, STATUS */
  int64_t time_ms;            /* when it arrived */
  ef_samples samples;         /* MESSAGE; owned by the event */
  int online;                 /* STATUS */
  int64_t quiet_ms;           /* SILENT */
  ef_level level;             /* NEWS */
  char text[EF_PROBLEM_LEN];  /* NEWS */
} ef_mqtt_event;

/* Takes the events that wait, oldest first, calling cb for each (in the
 * caller's thread, without the lock). Returns how many it took. */
size_t ef_mqtt_take(ef_mqtt *mqtt,
                    void (*cb)(const ef_mqtt_event *event, void *ctx),
                    void *ctx);

/* Readable while events wait; the caller polls it, ef_mqtt_take empties
 * it. */
int ef_mqtt_fd(const ef_mqtt *mqtt);

/* The client id for a certificate account and suffix (both may be
 * anything: it keeps letters, digits, '-' and '_'), the same every time. */
void ef_mqtt_client_id(const char *account, const char *suffix, char *out,
                       size_t size);

/* When sn's last message (or merged reading) arrived; 0: none yet. */
int64_t ef_mqtt_last_ms(ef_mqtt *mqtt, const char *sn);

/* 1 when this build has push mode (libmosquitto); without it, ef_mqtt_new
 * says so. */
int ef_mqtt_available(void);

/* Counters, for tests and benchmarks. */
typedef struct {
  unsigned long messages, ignored, dropped, connects, certifications;
} ef_mqtt_stats;
ef_mqtt_stats ef_mqtt_stats_get(ef_mqtt *mqtt);

#endif
