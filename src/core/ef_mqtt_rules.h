/* ef_mqtt_rules.h: the broker connection's rules (ef_mqtt.c) as pure
 * functions of the names and times handed in, so that tests can run them
 * without a clock or a broker.
 *
 * Promises:
 * - The client id is the certificate account and the suffix joined by
 *   '-', each keeping its letters, digits, '-' and '_'; the same for the
 *   same account and suffix every time. It never exceeds
 *   EF_MQTT_CLIENT_ID_MAX: an account too long for it (or one that lost
 *   characters) is cut and marked with a digest of the whole account, so
 *   that two accounts never share an id, and the suffix always stays
 *   whole, so that two programs of one account never do either.
 * - An attempt (name, TCP, TLS, CONNACK) must finish by its deadline, the
 *   account's timeout after it began. One that fails, or a connection
 *   that ends, waits EF_MQTT_FIRST_BACKOFF_S before the next attempt,
 *   doubling with each failure in a row up to EF_MQTT_MAX_BACKOFF_S; a
 *   connection that lasted EF_MQTT_STABLE_S starts again from the first
 *   pause when it ends.
 * - The broker closing connections soon after accepting them
 *   (EF_MQTT_TAKEOVER_WITHIN_S), EF_MQTT_TAKEOVER_AFTER times in a row
 *   with every attempt in between accepted, means another client uses the
 *   same id (the broker keeps one connection per id). Anything else in
 *   between (an attempt that failed, a connection that lasted, a
 *   connection our side dropped) starts the count again. */
#ifndef EF_MQTT_RULES_H
#define EF_MQTT_RULES_H

#include <stddef.h>
#include <stdint.h>

#define EF_MQTT_CLIENT_ID_MAX 64
/* The suffix a front end may give (ef_account_push_suffix): with '-' and
 * a cut account's mark, it always fits. */
#define EF_MQTT_SUFFIX_MAX 32
#define EF_MQTT_FIRST_BACKOFF_S 1
#define EF_MQTT_MAX_BACKOFF_S 300
/* A connection the broker closes sooner is a quick close; one that lasted
 * this long was a working one, whatever ends it. */
#define EF_MQTT_TAKEOVER_WITHIN_S 10
#define EF_MQTT_STABLE_S EF_MQTT_TAKEOVER_WITHIN_S
#define EF_MQTT_TAKEOVER_AFTER 3

/* The client id of account and suffix (NULL or "": none) into out, which
 * holds EF_MQTT_CLIENT_ID_MAX + 1 bytes. Returns 0, or -1 when the suffix
 * has more than EF_MQTT_SUFFIX_MAX characters or others than letters,
 * digits, '-' and '_' (out is then empty). */
int ef_mqtt_client_id(const char *account, const char *suffix,
                      char out[EF_MQTT_CLIENT_ID_MAX + 1]);

/* Where the connection stands, in the caller's monotonic milliseconds. */
typedef struct {
  int64_t pause_ms;     /* before the attempt after the next failure */
  int64_t next_try_ms;  /* no attempt before */
  int64_t deadline_ms;  /* of the attempt under way; 0: none */
  int64_t connected_ms; /* of the connection; 0: none */
  unsigned quick_closes;
} ef_mqtt_plan;

void ef_mqtt_plan_init(ef_mqtt_plan *plan);

/* An attempt begins at now_ms and must be done within timeout_ms. */
void ef_mqtt_plan_attempt(ef_mqtt_plan *plan, int64_t now_ms,
                          int64_t timeout_ms);

/* 1 when the attempt under way has run out of time. */
int ef_mqtt_plan_overdue(const ef_mqtt_plan *plan, int64_t now_ms);

/* The attempt failed at now_ms: returns when to try again. */
int64_t ef_mqtt_plan_failed(ef_mqtt_plan *plan, int64_t now_ms);

/* The attempt got its CONNACK: connected from now_ms. */
void ef_mqtt_plan_connected(ef_mqtt_plan *plan, int64_t now_ms);

/* The connection ended at now_ms, closed by the broker (by_broker: it
 * ended the TCP connection) or otherwise. Returns when to try again; sets
 * *takeover when this close completes the run that means another client
 * has the id. */
int64_t ef_mqtt_plan_lost(ef_mqtt_plan *plan, int64_t now_ms, int by_broker,
                          int *takeover);

/* 1 when the connection has lasted EF_MQTT_STABLE_S at now_ms. */
int ef_mqtt_plan_stable(const ef_mqtt_plan *plan, int64_t now_ms);

#endif
