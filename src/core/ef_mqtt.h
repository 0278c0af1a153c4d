/* ef_mqtt.h: push mode, the devices' MQTT messages for the engine.
 *
 * Promises: a thread of its own asks for the account's MQTT credentials
 * (signed GET certification; the port comes as a string), connects to the
 * broker over TLS verified against the system's CAs or the account's CA
 * file (never in clear; the certificate must name the broker), as one
 * client id derived from the certificate account and the suffix
 * (ef_mqtt_rules.h), and subscribes to the exact quota and status topics
 * of each device it watches (the live broker refuses wildcards). Each
 * message is taken apart by ef_push_message.h; messages for other topics,
 * broken ones and over-long ones are counted, never fatal.
 *
 * Every step has a bound in time: the broker's name is looked up in a
 * thread of its own, so that nothing waits for a resolver that never
 * answers; a connection attempt (name, TCP, TLS, CONNACK) not done within
 * the account's timeout is abandoned; then the thread sleeps until the next
 * attempt (ef_mqtt_rules.h: 1 s doubling to 5 min, again from 1 s after a
 * connection that lasted), using no CPU while the broker is away.
 * ef_mqtt_free stops the thread within a second in every state.
 *
 * Everything the broker can make grow is bounded. State mode: each
 * device's values are merged into its pushed state, at most
 * EF_MQTT_STATE_KNOWN_MAX values the catalog knows and max_unknown others
 * and EF_MQTT_STATE_MAX_BYTES in all (what is left out is counted and said
 * once per device); the engine copies it out under a short lock, and only
 * when it changed. Stream mode keeps no state: each message is queued
 * whole for the engine, up to EF_MQTT_MAX_QUEUED messages and
 * EF_MQTT_MAX_QUEUED_BYTES (the rest is dropped, counted, and said once
 * per episode; a message's JSON counts four times its text), and a
 * descriptor is readable while anything waits. Taken events are freed
 * by the source's thread (at its next message, or within a second).
 * Status messages are coalesced per device: the latest status and how
 * many times it changed, handed out at each take (state mode) or at most
 * once a second (stream mode). Retained messages are the broker's old
 * copies: a retained quota message is merged into the state (state mode)
 * without counting as a message from the device; in stream mode it is
 * ignored, as is a retained status; both are counted.
 *
 * A device that sends nothing (nor gets an HTTP reading merged) for
 * silence_ms is said silent, once, and heard again at its next message.
 * The connection's conditions are news, each said once when it begins:
 * connected; a connection lost (a warning; reconnecting is quiet unless
 * the broker stays away for EF_MQTT_QUIET_OUTAGE_S); cannot connect (the
 * name, TCP, the deadline, with the stage it was in); the certificate not
 * verified (OpenSSL's reason); TLS failing; the broker refusing the
 * credentials (then new ones are asked, at most every
 * EF_MQTT_CERTIFICATION_GAP_S); a packet the library refuses; another
 * client with the same id. Never with a credential in it. */
#ifndef EF_MQTT_H
#define EF_MQTT_H

#include "ef_account.h"
#include "ef_mqtt_rules.h"
#include "ef_news.h"
#include "ef_sample.h"

#include <stddef.h>
#include <stdint.h>

#define EF_MQTT_CERTIFICATION_GAP_S 60
#define EF_MQTT_KEEPALIVE_S 60
/* A broker away this long after a connection was lost is said (as an
 * error) even though reconnecting is otherwise quiet. */
#define EF_MQTT_QUIET_OUTAGE_S 60
/* Stream mode: a front end that does not take messages must not make the
 * process grow. */
#define EF_MQTT_MAX_QUEUED 100000
#define EF_MQTT_MAX_QUEUED_BYTES (8 * 1024 * 1024)
/* A queue that held this much and is empty again: the process gives the
 * memory back to the system (where the C library can). */
#define EF_MQTT_TRIM_BACKLOG_BYTES (1024 * 1024)
/* News, silences and returns waiting: a bound that only a front end that
 * never takes them reaches. */
#define EF_MQTT_MAX_NOTES 1000
/* State mode: the catalog's values of a device are a few hundred. */
#define EF_MQTT_STATE_KNOWN_MAX 4096
#define EF_MQTT_STATE_MAX_BYTES (1024 * 1024)
/* Stream mode: statuses are handed out at most this often. */
#define EF_MQTT_STATUS_EVERY_MS 1000
/* The engine is woken for what waits at most once in this long (us): in a
 * burst it takes the messages in batches, not each with a wake of its
 * thread (a switch of threads costs more than a message's own work); the
 * first message after a quiet spell wakes it at once. */
#define EF_MQTT_WAKE_GAP_US 250

typedef struct ef_mqtt ef_mqtt;

typedef struct {
  const ef_account *account;    /* its endpoint, keys, CA file, timeout */
  const char *client_id_suffix; /* e.g. "collectd"; NULL: none */
  int stream;                   /* queue each message whole, keep no state */
  int64_t silence_ms;           /* a device without news this long is silent */
  size_t max_unknown; /* values the catalog does not know in a device's
                         state; 0: EF_DEFAULT_MAX_UNKNOWN */
} ef_mqtt_options;

/* A source that starts connecting at once. Returns NULL with problem
 * filled (EF_PROBLEM_LEN) when the options are unusable (a suffix that
 * cannot be part of a client id, a CA file TLS cannot use) or memory or
 * the thread could not be had. */
ef_mqtt *ef_mqtt_new(const ef_mqtt_options *options, char *problem);

/* Stops the thread (within a second) and frees everything. NULL is fine. */
void ef_mqtt_free(ef_mqtt *mqtt);

/* Subscribes to sn's topics (now, or once connected); 0, or -1 when out
 * of memory. */
int ef_mqtt_watch(ef_mqtt *mqtt, const char *sn);
void ef_mqtt_unwatch(ef_mqtt *mqtt, const char *sn);

/* State mode: sn's merged state and the time of its last message (0: none
 * yet). Unless *version is the state's version already, replaces *state
 * with a copy and updates *version; returns 1 when it copied, 0 when the
 * state is unchanged, -1 when sn is not watched or memory ran out. */
int ef_mqtt_snapshot(ef_mqtt *mqtt, const char *sn, ef_samples *state,
                     int64_t *last_ms, uint64_t *version);

/* Merges samples (an HTTP reading) into sn's state (state mode), so that a
 * refresh heals values missed while disconnected; in both modes it counts
 * as news from the device. */
void ef_mqtt_merge(ef_mqtt *mqtt, const char *sn, const ef_samples *samples);

typedef enum {
  EF_MQTT_MESSAGE, /* stream mode: a quota message's values */
  EF_MQTT_STATUS,  /* its status messages since the last take: online */
  EF_MQTT_SILENT,  /* nothing from the device for silence_ms: quiet_ms */
  EF_MQTT_HEARD,   /* a message from it again after EF_MQTT_SILENT */
  EF_MQTT_NEWS,    /* the connection's state changed, or a device's state
                      was cut (sn set): level, text */
} ef_mqtt_event_kind;

typedef struct {
  ef_mqtt_event_kind kind;
  char sn[EF_SERIAL_MAX + 1]; /* MESSAGE, STATUS, SILENT, HEARD; NEWS: "" */
  int64_t time_ms;            /* when it arrived */
  ef_samples samples;         /* MESSAGE; owned by the event */
  struct json_object *object; /* MESSAGE in stream mode: the values as
                                 JSON instead (ef_walk's); owned too */
  int online;                 /* STATUS: the latest */
  unsigned changes;           /* STATUS: how often it changed since */
  int64_t quiet_ms;           /* SILENT */
  ef_level level;             /* NEWS */
  char text[EF_PROBLEM_LEN];  /* NEWS */
} ef_mqtt_event;

/* Takes the events that wait, oldest first, calling cb for each (in the
 * caller's thread, without the lock). Returns how many it took. */
size_t ef_mqtt_take(ef_mqtt *mqtt,
                    void (*cb)(const ef_mqtt_event *event, void *ctx),
                    void *ctx);

/* Readable while events wait, from at most EF_MQTT_WAKE_GAP_US after they
 * came (in a burst the reader is woken for a batch of them, not each);
 * the caller polls it, ef_mqtt_take empties it. A caller that must not
 * leave any behind (at its end) takes without waiting for it. */
int ef_mqtt_fd(const ef_mqtt *mqtt);

/* When sn's last message (or merged reading) arrived; 0: none yet. */
int64_t ef_mqtt_last_ms(ef_mqtt *mqtt, const char *sn);

/* 1 when this build has push mode (libmosquitto); without it, ef_mqtt_new
 * says so. */
int ef_mqtt_available(void);

/* Counters, for tests and benchmarks. */
typedef struct {
  unsigned long messages; /* taken from the broker */
  unsigned long ignored;  /* other topics, broken, over-long, unwatched */
  unsigned long retained; /* the broker's old copies, not counted above */
  unsigned long dropped;  /* stream mode: the queue was full */
  unsigned long cut;      /* state mode: values the caps left out */
  unsigned long statuses; /* status messages, before coalescing */
  unsigned long attempts, connects, certifications;
} ef_mqtt_stats;
ef_mqtt_stats ef_mqtt_stats_get(ef_mqtt *mqtt);

#endif
