/* ef_mqtt.c: certification, the broker connection and the devices'
 * messages, in a thread of their own. */
#include "ef_mqtt.h"

#include "ef_client.h"
#include "ef_push_message.h"
#include "ef_text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PATH_CERTIFICATION "/iot-open/sign/certification"
#define SYSTEM_CA_PATH "/etc/ssl/certs"
/* How long the thread sleeps or waits on the socket at most: the latency
 * of a stop. */
#define STEP_MS 200
/* A broker that closes this many fresh connections in a row (each soon
 * after it was accepted) has another client with the same id. */
#define TAKEOVER_AFTER 3
#define TAKEOVER_WITHIN_S 10

/* A device the source watches, and what it pushed. */
typedef struct {
  char *sn;
  int watched;    /* 0: to be unsubscribed and forgotten */
  int subscribed; /* on the current connection */
  ef_samples state;
  int64_t last_ms;
  int silent; /* told EF_MQTT_SILENT */
} pushed_device;

typedef struct queued {
  ef_mqtt_event event;
  struct queued *next;
} queued;

/* The broker as certification describes it. */
typedef struct {
  char account[129];
  char password[257];
  char host[254];
  int port;
} credentials;

/* What the connection is going through, so that news is told once. */
typedef enum {
  CONDITION_NONE,
  CONDITION_CONNECTED,
  CONDITION_LOST,
  CONDITION_REFUSED,
  CONDITION_UNREACHABLE,
  CONDITION_NO_CERTIFICATION,
} condition;

struct ef_mqtt {
  /* Set at creation, then read-only. */
  char *endpoint, *access_key, *secret_key, *ca_file, *suffix;
  long timeout_ms;
  int stream;
  int64_t silence_ms;
  int pipe_fds[2]; /* readable while events wait */
  pthread_t thread;
  int thread_started;
  atomic_int stop;

  /* Under lock: shared with the engine's thread. */
  pthread_mutex_t lock;
  pushed_device *devices; /* sorted by serial number */
  size_t n_devices, cap_devices;
  int subscriptions_dirty;
  queued *head, *tail;
  size_t n_queued;
  ef_mqtt_stats stats;

  /* The thread's own. */
  ef_client *client;
  struct mosquitto *mosq;
  credentials credentials;
  char client_id[EF_MQTT_CLIENT_ID_MAX + 1];
  int have_credentials, need_certification, connected, connecting;
  int64_t certified_ms, next_try_ms, connected_ms;
  int backoff_s;
  condition condition;
  unsigned quick_closes; /* fresh connections the broker closed in a row */
  int takeover_said;
  char last_library_error[256];
};

/* ---- events --------------------------------------------------------------
 */

static void wake(ef_mqtt *m) {
  char byte = 1;
  ssize_t written = write(m->pipe_fds[1], &byte, 1);
  (void)written; /* full: it is readable already */
}

/* Queues event (taking its samples); the caller holds the lock. */
static void queue_locked(ef_mqtt *m, const ef_mqtt_event *event) {
  if (event->kind == EF_MQTT_MESSAGE && m->n_queued >= EF_MQTT_MAX_QUEUED) {
    m->stats.dropped++;
    ef_samples samples = event->samples;
    ef_samples_clear(&samples);
    return;
  }
  queued *item = calloc(1, sizeof(*item));
  if (item == NULL) {
    ef_samples samples = event->samples;
    ef_samples_clear(&samples);
    return;
  }
  item->event = *event;
  if (m->tail != NULL)
    m->tail->next = item;
  else
    m->head = item;
  m->tail = item;
  if (m->n_queued++ == 0)
    wake(m);
}

__attribute__((format(printf, 3, 4))) static void
news(ef_mqtt *m, ef_level level, const char *format, ...) {
  ef_mqtt_event event = {
      .kind = EF_MQTT_NEWS, .level = level, .time_ms = ef_now_ms()};
  va_list ap;
  va_start(ap, format);
  vsnprintf(event.text, sizeof(event.text), format, ap);
  va_end(ap);
  pthread_mutex_lock(&m->lock);
  queue_locked(m, &event);
  pthread_mutex_unlock(&m->lock);
}

/* News when the connection's condition changes, not while it lasts. */
__attribute__((format(printf, 4, 5))) static void
enter(ef_mqtt *m, condition now, ef_level level, const char *format, ...) {
  if (m->condition == now)
    return;
  m->condition = now;
  char text[EF_PROBLEM_LEN];
  va_list ap;
  va_start(ap, format);
  vsnprintf(text, sizeof(text), format, ap);
  va_end(ap);
  news(m, level, "%s", text);
}

size_t ef_mqtt_take(ef_mqtt *m,
                    void (*cb)(const ef_mqtt_event *event, void *ctx),
                    void *ctx) {
  pthread_mutex_lock(&m->lock);
  queued *list = m->head;
  m->head = m->tail = NULL;
  m->n_queued = 0;
  char drain[256];
  while (read(m->pipe_fds[0], drain, sizeof(drain)) > 0)
    ;
  pthread_mutex_unlock(&m->lock);
  size_t n = 0;
  while (list != NULL) {
    queued *next = list->next;
    if (cb != NULL)
      cb(&list->event, ctx);
    ef_samples_clear(&list->event.samples);
    free(list);
    list = next;
    n++;
  }
  return n;
}

int ef_mqtt_fd(const ef_mqtt *m) { return m->pipe_fds[0]; }

/* ---- devices -------------------------------------------------------------
 */

/* The index of sn in the sorted devices, or where it would go (*found 0).
 * The caller holds the lock. */
static size_t find_locked(const ef_mqtt *m, const char *sn, int *found) {
  size_t low = 0, high = m->n_devices;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    int order = strcmp(m->devices[middle].sn, sn);
    if (order == 0) {
      *found = 1;
      return middle;
    }
    if (order < 0)
      low = middle + 1;
    else
      high = middle;
  }
  *found = 0;
  return low;
}

int ef_mqtt_watch(ef_mqtt *m, const char *sn) {
  pthread_mutex_lock(&m->lock);
  int found, status = 0;
  size_t at = find_locked(m, sn, &found);
  if (found) {
    m->devices[at].watched = 1;
  } else {
    if (m->n_devices == m->cap_devices) {
      size_t cap = m->cap_devices ? 2 * m->cap_devices : 16;
      pushed_device *grown = realloc(m->devices, cap * sizeof(*grown));
      if (grown == NULL)
        status = -1;
      else {
        m->devices = grown;
        m->cap_devices = cap;
      }
    }
    char *copy = status == 0 ? strdup(sn) : NULL;
    if (copy == NULL) {
      status = -1;
    } else {
      memmove(&m->devices[at + 1], &m->devices[at],
              (m->n_devices - at) * sizeof(*m->devices));
      m->devices[at] = (pushed_device){.sn = copy, .watched = 1};
      m->n_devices++;
    }
  }
  m->subscriptions_dirty = 1;
  pthread_mutex_unlock(&m->lock);
  return status;
}

void ef_mqtt_unwatch(ef_mqtt *m, const char *sn) {
  pthread_mutex_lock(&m->lock);
  int found;
  size_t at = find_locked(m, sn, &found);
  if (found) {
    m->devices[at].watched = 0;
    m->subscriptions_dirty = 1;
  }
  pthread_mutex_unlock(&m->lock);
}

static int merge_into(ef_samples *state, const ef_samples *samples) {
  int status = 0;
  for (size_t i = 0; i < samples->len; i++)
    if (ef_samples_put(state, &samples->items[i]) != 0)
      status = -1;
  return status;
}

int ef_mqtt_snapshot(ef_mqtt *m, const char *sn, ef_samples *state,
                     int64_t *last_ms) {
  pthread_mutex_lock(&m->lock);
  int found, status = -1;
  size_t at = find_locked(m, sn, &found);
  if (found) {
    *last_ms = m->devices[at].last_ms;
    status = merge_into(state, &m->devices[at].state);
  }
  pthread_mutex_unlock(&m->lock);
  return status;
}

void ef_mqtt_merge(ef_mqtt *m, const char *sn, const ef_samples *samples) {
  pthread_mutex_lock(&m->lock);
  int found;
  size_t at = find_locked(m, sn, &found);
  if (found) {
    merge_into(&m->devices[at].state, samples);
    m->devices[at].last_ms = ef_now_ms();
  }
  pthread_mutex_unlock(&m->lock);
}

int64_t ef_mqtt_last_ms(ef_mqtt *m, const char *sn) {
  pthread_mutex_lock(&m->lock);
  int found;
  size_t at = find_locked(m, sn, &found);
  int64_t last_ms = found ? m->devices[at].last_ms : 0;
  pthread_mutex_unlock(&m->lock);
  return last_ms;
}

int ef_mqtt_available(void) { return 1; }

ef_mqtt_stats ef_mqtt_stats_get(ef_mqtt *m) {
  pthread_mutex_lock(&m->lock);
  ef_mqtt_stats stats = m->stats;
  pthread_mutex_unlock(&m->lock);
  return stats;
}

/* ---- topics and messages -------------------------------------------------
 */

void ef_mqtt_client_id(const char *account, const char *suffix, char *out,
                       size_t size) {
  size_t n = 0;
  for (const char *parts[] = {account, suffix}, **part = parts;
       part < parts + 2; part++) {
    if (*part == NULL || (*part)[0] == '\0')
      continue;
    if (part == parts + 1 && n + 1 < size)
      out[n++] = '-';
    for (const char *c = *part; *c != '\0' && n + 1 < size; c++)
      if (isalnum((unsigned char)*c) || *c == '-' || *c == '_')
        out[n++] = *c;
  }
  if (size > 0)
    out[n] = '\0';
}

static void topic_of(const ef_mqtt *m, const char *sn, const char *kind,
                     char *out, size_t size) {
  snprintf(out, size, "/open/%s/%s/%s", m->credentials.account, sn, kind);
}

static void on_message(struct mosquitto *mosq, void *obj,
                       const struct mosquitto_message *message) {
  (void)mosq;
  ef_mqtt *m = obj;
  int64_t now = ef_now_ms();
  ef_push_message parsed;
  ef_push_verdict verdict = ef_push_message_parse(
      m->credentials.account, message->topic, message->payload,
      message->payloadlen > 0 ? (size_t)message->payloadlen : 0, &parsed);
  ef_samples samples = parsed.values;
  pthread_mutex_lock(&m->lock);
  int found = 0;
  size_t at = verdict == EF_PUSH_OK ? find_locked(m, parsed.sn, &found) : 0;
  if (!found || !m->devices[at].watched) {
    m->stats.ignored++;
    pthread_mutex_unlock(&m->lock);
    ef_samples_clear(&samples);
    return;
  }
  m->stats.messages++;
  pushed_device *device = &m->devices[at];
  device->last_ms = now;
  ef_mqtt_event event = {.time_ms = now};
  snprintf(event.sn, sizeof(event.sn), "%s", parsed.sn);
  if (device->silent) {
    device->silent = 0;
    event.kind = EF_MQTT_HEARD;
    queue_locked(m, &event);
  }
  if (parsed.kind == EF_PUSH_STATUS) {
    event.kind = EF_MQTT_STATUS;
    event.online = parsed.online;
    queue_locked(m, &event);
  } else {
    merge_into(&device->state, &samples);
    if (m->stream) {
      event.kind = EF_MQTT_MESSAGE;
      event.samples = samples; /* the queue's now */
      samples = (ef_samples){0};
      queue_locked(m, &event);
    }
  }
  pthread_mutex_unlock(&m->lock);
  ef_samples_clear(&samples);
}

/* ---- certification ---------------------------------------------------------
 */

typedef struct {
  credentials *out;
  ef_error error;
} certification;

static struct json_object *member(struct json_object *object, const char *key) {
  struct json_object *value = NULL;
  return json_object_object_get_ex(object, key, &value) ? value : NULL;
}

static int copy_member(struct json_object *data, const char *key, char *out,
                       size_t size) {
  struct json_object *value = member(data, key);
  if (json_object_is_type(value, json_type_string)) {
    const char *text = json_object_get_string(value);
    if (strlen(text) == 0 || strlen(text) >= size || !ef_text_is_clean(text))
      return -1;
    snprintf(out, size, "%s", text);
    return 0;
  }
  if (json_object_is_type(value, json_type_int)) {
    snprintf(out, size, "%lld", (long long)json_object_get_int64(value));
    return 0;
  }
  return -1;
}

/* The host of a broker: a name or an address, nothing a URL could hide. */
static int host_valid(const char *host) {
  for (const char *c = host; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && strchr(".-:[]", *c) == NULL)
      return 0;
  return host[0] != '\0';
}

static void on_certification(const ef_answer *answer, void *ctx) {
  certification *c = ctx;
  c->error = answer->error;
  if (c->error.kind != EF_OK)
    return;
  credentials got = {0};
  char port[16], protocol[16] = "mqtts";
  struct json_object *data = answer->data;
  long number = 0;
  char *end = NULL;
  const char *wrong = NULL;
  if (copy_member(data, "certificateAccount", got.account,
                  sizeof(got.account)) != 0 ||
      strpbrk(got.account, "/+#") != NULL)
    wrong = "certificateAccount";
  else if (copy_member(data, "certificatePassword", got.password,
                       sizeof(got.password)) != 0)
    wrong = "certificatePassword";
  else if (copy_member(data, "url", got.host, sizeof(got.host)) != 0 ||
           !host_valid(got.host))
    wrong = "url";
  else if (copy_member(data, "port", port, sizeof(port)) != 0 ||
           (number = strtol(port, &end, 10), *end != '\0') || number < 1 ||
           number > 65535)
    wrong = "port";
  else if (member(data, "protocol") != NULL &&
           (copy_member(data, "protocol", protocol, sizeof(protocol)) != 0 ||
            strcasecmp(protocol, "mqtts") != 0))
    wrong = "protocol (only mqtts, MQTT over TLS, is used)";
  if (wrong != NULL) {
    ef_error_set(&c->error, EF_ERR_PARSE,
                 "certification's answer has no usable %s", wrong);
    c->error.http_status = 200;
    return;
  }
  got.port = (int)number;
  *c->out = got;
}

/* Asks certification; 0, or -1 with the reason told once. */
static int certify(ef_mqtt *m) {
  m->certified_ms = ef_now_ms();
  pthread_mutex_lock(&m->lock);
  m->stats.certifications++;
  pthread_mutex_unlock(&m->lock);
  credentials got = {0};
  certification c = {.out = &got};
  ef_request request = {.method = EF_METHOD_GET, .path = PATH_CERTIFICATION};
  ef_error batch_error;
  ef_client_run(m->client, &request, 1, on_certification, &c, &batch_error);
  if (c.error.kind == EF_ERR_ABORTED)
    return -1;
  if (c.error.kind != EF_OK) {
    char text[EF_ERROR_MESSAGE_LEN + 64];
    ef_error_format(&c.error, text, sizeof(text));
    enter(m, CONDITION_NO_CERTIFICATION, EF_LEVEL_ERROR,
          "MQTT: asking for the broker's credentials (certification) "
          "failed: %s; asked again in %d s",
          text, EF_MQTT_CERTIFICATION_GAP_S);
    explicit_bzero(&got, sizeof(got));
    return -1;
  }
  explicit_bzero(&m->credentials, sizeof(m->credentials));
  m->credentials = got;
  explicit_bzero(&got, sizeof(got));
  ef_mqtt_client_id(m->credentials.account, m->suffix, m->client_id,
                    sizeof(m->client_id));
  m->have_credentials = 1;
  m->need_certification = 0;
  return 0;
}

/* ---- the connection --------------------------------------------------------
 */

static void back_off(ef_mqtt *m) {
  m->next_try_ms = ef_now_ms() + (int64_t)m->backoff_s * 1000;
  m->backoff_s *= 2;
  if (m->backoff_s > EF_MQTT_MAX_BACKOFF_S)
    m->backoff_s = EF_MQTT_MAX_BACKOFF_S;
}

static void subscribe_pending(ef_mqtt *m) {
  pthread_mutex_lock(&m->lock);
  if (!m->subscriptions_dirty) {
    pthread_mutex_unlock(&m->lock);
    return;
  }
  m->subscriptions_dirty = 0;
  size_t kept = 0;
  for (size_t i = 0; i < m->n_devices; i++) {
    pushed_device *device = &m->devices[i];
    char topic[320];
    static const char *const kinds[] = {"quota", "status"};
    for (int k = 0; k < 2; k++) {
      topic_of(m, device->sn, kinds[k], topic, sizeof(topic));
      if (device->watched && !device->subscribed)
        mosquitto_subscribe(m->mosq, NULL, topic, 0);
      else if (!device->watched && device->subscribed)
        mosquitto_unsubscribe(m->mosq, NULL, topic);
    }
    device->subscribed = device->watched;
    if (device->watched) {
      m->devices[kept++] = *device;
    } else {
      free(device->sn);
      ef_samples_clear(&device->state);
    }
  }
  m->n_devices = kept;
  pthread_mutex_unlock(&m->lock);
}

static void forget_subscriptions(ef_mqtt *m) {
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; i < m->n_devices; i++)
    m->devices[i].subscribed = 0;
  m->subscriptions_dirty = 1;
  pthread_mutex_unlock(&m->lock);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  ef_mqtt *m = obj;
  m->connecting = 0;
  if (rc != 0) {
    /* 4, 5: the broker does not take these credentials (any more). */
    if (rc == 4 || rc == 5)
      m->need_certification = 1;
    enter(m, CONDITION_REFUSED, EF_LEVEL_ERROR,
          "MQTT: the broker %s:%d refused the connection (%s)%s",
          m->credentials.host, m->credentials.port,
          mosquitto_connack_string(rc),
          rc == 4 || rc == 5
              ? ": asking for new credentials (certification), at most once "
                "a minute"
              : "");
    return;
  }
  int first = m->condition == CONDITION_NONE;
  m->connected = 1;
  m->connected_ms = ef_now_ms();
  enter(m, CONDITION_CONNECTED, first ? EF_LEVEL_INFO : EF_LEVEL_NOTICE,
        "MQTT: %s the broker %s:%d as client id %s",
        first ? "connected to" : "connected again to", m->credentials.host,
        m->credentials.port, m->client_id);
  pthread_mutex_lock(&m->lock);
  m->stats.connects++;
  pthread_mutex_unlock(&m->lock);
  forget_subscriptions(m);
}

/* The broker closed a connection it had accepted. Soon after it was made,
 * again and again: another client took over the same client id. */
static void note_closed(ef_mqtt *m) {
  int64_t lasted_ms = ef_now_ms() - m->connected_ms;
  if (lasted_ms >= (int64_t)EF_MQTT_STABLE_S * 1000) {
    m->backoff_s = EF_MQTT_FIRST_BACKOFF_S;
    m->quick_closes = 0;
    return;
  }
  if (lasted_ms < (int64_t)TAKEOVER_WITHIN_S * 1000 &&
      ++m->quick_closes >= TAKEOVER_AFTER && !m->takeover_said) {
    m->takeover_said = 1;
    news(m, EF_LEVEL_WARNING,
         "MQTT: the broker closed the connection %u times right after "
         "accepting it: another program most likely uses the same client id "
         "%s (the broker keeps one connection per id); give each program its "
         "own client id suffix",
         m->quick_closes, m->client_id);
  }
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  ef_mqtt *m = obj;
  if (rc == 0 || atomic_load(&m->stop))
    return;
  if (m->connected)
    note_closed(m);
  m->connected = 0;
}

static void on_log(struct mosquitto *mosq, void *obj, int level,
                   const char *text) {
  (void)mosq;
  ef_mqtt *m = obj;
  if (level == MOSQ_LOG_ERR && text != NULL)
    ef_text_clean(text, strlen(text), m->last_library_error,
                  sizeof(m->last_library_error));
}

/* The connection failed or was lost (rc from libmosquitto): told once,
 * tried again later. */
static void lost(ef_mqtt *m, int rc) {
  int was_connected = m->connected;
  m->connected = m->connecting = 0;
  if (m->condition != CONDITION_REFUSED || was_connected) {
    const char *detail = m->last_library_error[0] ? m->last_library_error
                                                  : mosquitto_strerror(rc);
    int certificate = strstr(detail, "certificate") != NULL ||
                      strstr(detail, "SSL") != NULL || rc == MOSQ_ERR_TLS;
    if (was_connected)
      enter(m, CONDITION_LOST, EF_LEVEL_WARNING,
            "MQTT: the connection to the broker %s:%d was lost (%s): "
            "connecting again, from %d s on",
            m->credentials.host, m->credentials.port, detail,
            EF_MQTT_FIRST_BACKOFF_S);
    else
      enter(m, CONDITION_UNREACHABLE, EF_LEVEL_ERROR,
            "MQTT: cannot connect to the broker %s:%d (%s)%s; trying again "
            "with a growing pause, up to %d s",
            m->credentials.host, m->credentials.port, detail,
            certificate ? ": its certificate could not be verified (install "
                          "the system's CA certificates, or name the CA "
                          "bundle that signed it)"
                        : "",
            EF_MQTT_MAX_BACKOFF_S);
  }
  m->last_library_error[0] = '\0';
  mosquitto_disconnect(m->mosq);
  back_off(m);
}

static int configure(ef_mqtt *m) {
  if (mosquitto_reinitialise(m->mosq, m->client_id, true, m) !=
      MOSQ_ERR_SUCCESS)
    return -1;
  mosquitto_connect_callback_set(m->mosq, on_connect);
  mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
  mosquitto_message_callback_set(m->mosq, on_message);
  mosquitto_log_callback_set(m->mosq, on_log);
  int rc = mosquitto_username_pw_set(m->mosq, m->credentials.account,
                                     m->credentials.password);
  if (rc == MOSQ_ERR_SUCCESS)
    rc =
        mosquitto_tls_set(m->mosq, m->ca_file,
                          m->ca_file ? NULL : SYSTEM_CA_PATH, NULL, NULL, NULL);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_tls_opts_set(m->mosq, 1 /* SSL_VERIFY_PEER */, NULL, NULL);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_tls_insecure_set(m->mosq, false);
  return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static void try_connect(ef_mqtt *m) {
  if (configure(m) != 0) {
    enter(m, CONDITION_UNREACHABLE, EF_LEVEL_ERROR,
          "MQTT: cannot set up the connection (TLS with %s)",
          m->ca_file ? "the account's CA file" : "the system's CAs");
    back_off(m);
    return;
  }
  m->connecting = 1;
  int rc = mosquitto_connect_async(m->mosq, m->credentials.host,
                                   m->credentials.port, EF_MQTT_KEEPALIVE_S);
  if (rc != MOSQ_ERR_SUCCESS)
    lost(m, rc);
}

static void pause_a_step(void) { poll(NULL, 0, STEP_MS); }

/* Devices that have sent nothing for the silence limit: told once. */
static void note_silence(ef_mqtt *m) {
  int64_t now = ef_now_ms();
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; i < m->n_devices; i++) {
    pushed_device *device = &m->devices[i];
    if (device->silent || device->last_ms == 0 || !device->watched ||
        now - device->last_ms <= m->silence_ms)
      continue;
    device->silent = 1;
    ef_mqtt_event event = {.kind = EF_MQTT_SILENT,
                           .time_ms = now,
                           .quiet_ms = now - device->last_ms};
    snprintf(event.sn, sizeof(event.sn), "%s", device->sn);
    queue_locked(m, &event);
  }
  pthread_mutex_unlock(&m->lock);
}

static void *run(void *arg) {
  ef_mqtt *m = arg;
  m->backoff_s = EF_MQTT_FIRST_BACKOFF_S;
  while (!atomic_load(&m->stop)) {
    note_silence(m);
    int64_t now = ef_now_ms();
    if (!m->have_credentials || m->need_certification) {
      if (m->certified_ms != 0 &&
          now - m->certified_ms < (int64_t)EF_MQTT_CERTIFICATION_GAP_S * 1000) {
        pause_a_step();
        continue;
      }
      if (certify(m) != 0)
        continue;
    }
    if (!m->connected && !m->connecting) {
      if (now < m->next_try_ms) {
        pause_a_step();
        continue;
      }
      try_connect(m);
      continue;
    }
    if (m->connected)
      subscribe_pending(m);
    int rc = mosquitto_loop(m->mosq, STEP_MS, 1);
    if (rc != MOSQ_ERR_SUCCESS && !atomic_load(&m->stop))
      lost(m, rc);
  }
  if (m->connected || m->connecting)
    mosquitto_disconnect(m->mosq);
  return NULL;
}

/* ---- life cycle ------------------------------------------------------------
 */

static char *copy_or_null(const char *text) {
  return text != NULL ? strdup(text) : NULL;
}

void ef_mqtt_free(ef_mqtt *m) {
  if (m == NULL)
    return;
  atomic_store(&m->stop, 1);
  if (m->client != NULL)
    ef_client_stop(m->client);
  if (m->thread_started)
    pthread_join(m->thread, NULL);
  if (m->mosq != NULL)
    mosquitto_destroy(m->mosq);
  ef_client_free(m->client);
  ef_mqtt_take(m, NULL, NULL);
  for (size_t i = 0; i < m->n_devices; i++) {
    free(m->devices[i].sn);
    ef_samples_clear(&m->devices[i].state);
  }
  free(m->devices);
  for (int i = 0; i < 2; i++)
    if (m->pipe_fds[i] >= 0)
      close(m->pipe_fds[i]);
  explicit_bzero(&m->credentials, sizeof(m->credentials));
  free(m->endpoint);
  free(m->access_key);
  ef_secret_free(m->secret_key);
  free(m->ca_file);
  free(m->suffix);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static void library_init(void) { mosquitto_lib_init(); }

ef_mqtt *ef_mqtt_new(const ef_mqtt_options *options, char *problem) {
  ef_mqtt *m = calloc(1, sizeof(*m));
  if (m == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return NULL;
  }
  m->pipe_fds[0] = m->pipe_fds[1] = -1;
  pthread_mutex_init(&m->lock, NULL);
  const ef_account *account = options->account;
  m->endpoint =
      copy_or_null(account->endpoint ? account->endpoint : EF_DEFAULT_ENDPOINT);
  m->access_key = copy_or_null(account->access_key);
  m->secret_key = copy_or_null(account->secret_key);
  m->ca_file = copy_or_null(account->ca_file);
  m->suffix = copy_or_null(options->client_id_suffix);
  m->timeout_ms = account->timeout_ms;
  m->stream = options->stream;
  m->silence_ms = options->silence_ms;
  pthread_once(&library_once, library_init);
  ef_client_options client_options = {.endpoint = m->endpoint,
                                      .access_key = m->access_key,
                                      .secret_key = m->secret_key,
                                      .timeout_ms = m->timeout_ms,
                                      .max_concurrent = 1,
                                      .ca_file = m->ca_file};
  ef_error error = {0};
  if (m->endpoint == NULL || m->access_key == NULL || m->secret_key == NULL ||
      (options->client_id_suffix != NULL && m->suffix == NULL) ||
      (account->ca_file != NULL && m->ca_file == NULL) ||
      pipe2(m->pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0 ||
      (m->client = ef_client_new(&client_options, &error)) == NULL ||
      (m->mosq = mosquitto_new(NULL, true, m)) == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "cannot set up MQTT: %s",
             error.kind != EF_OK ? error.message : "out of memory");
    ef_mqtt_free(m);
    return NULL;
  }
  /* The thread takes no signal meant for the program: collectd's SIGTERM
   * handler, or execd's stop and gather signals, must run where the
   * program waits for them (the thread inherits the mask it starts with). */
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  int started = pthread_create(&m->thread, NULL, run, m);
  pthread_sigmask(SIG_SETMASK, &before, NULL);
  if (started != 0) {
    snprintf(problem, EF_PROBLEM_LEN, "cannot start the MQTT thread");
    ef_mqtt_free(m);
    return NULL;
  }
  m->thread_started = 1;
  return m;
}
