/* ef_mqtt.c: certification, the broker connection and the devices'
 * messages, in a thread of their own.
 *
 * The thread drives libmosquitto itself (mosquitto_socket, loop_read,
 * loop_write, loop_misc around its own poll) rather than through
 * mosquitto_loop: libmosquitto 2.0.11 notices an asynchronous connect that
 * failed only when the keepalive runs out, and meanwhile spins on a
 * socket that stays readable. Here every wait has a deadline of its own,
 * a socket that reports an error or a hang-up ends the attempt at once,
 * and the library is handed numeric addresses only, so that it never
 * blocks in a name lookup (a thread of ours does that). The TLS context is
 * ours too: the library would check the certificate against the address
 * it connects to, and this one checks it against the broker's name. */
#include <config.h>

#include "ef_mqtt.h"

#include "ef_catalog.h"
#include "ef_client.h"
#include "ef_lookup.h"
#include "ef_metric.h"
#include "ef_push_message.h"
#include "ef_text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <mosquitto.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATH_CERTIFICATION "/iot-open/sign/certification"
#define SYSTEM_CA_PATH "/etc/ssl/certs"
/* The longest the thread waits without looking at the time: silences,
 * keepalive pings and the status gate are checked this often. */
#define TICK_MS 1000
/* Addresses of one name tried in one attempt. */
#define MAX_ADDRESSES 8
/* A drop episode ends after this long without a drop. */
#define DROPS_QUIET_MS (60 * 1000)
/* Packets read in a row from what the socket and OpenSSL's read-ahead
 * hold, before the thread looks at its other work again. */
#define PACKETS_PER_WAKE 256

/* A device the source watches, and what it pushed. */
typedef struct {
  char *sn;
  int watched;    /* 0: to be unsubscribed and forgotten */
  int subscribed; /* on the current connection */
  int64_t last_ms;
  int silent; /* told EF_MQTT_SILENT */
  /* State mode: the merged values, within the caps. */
  ef_samples state;
  size_t state_bytes, known, unknown;
  uint64_t version;
  int cut_said;
  /* Its status messages since the last take. */
  int status;  /* the latest: 0, 1; -1 none yet */
  int pending; /* a status arrived since the last take */
  unsigned changes;
  int64_t status_ms;
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
  CONDITION_UNREACHABLE,
  CONDITION_REFUSED,
  CONDITION_CERTIFICATE,
  CONDITION_TLS,
  CONDITION_NO_CERTIFICATION,
  CONDITION_TAKEN_OVER,
} condition;

/* How far an attempt got, for the words of its failure. */
typedef enum { STAGE_NAME, STAGE_TCP, STAGE_TLS, STAGE_CONNACK } stage;

static const char *const stage_words[] = {
    [STAGE_NAME] = "looking up its name",
    [STAGE_TCP] = "connecting (TCP)",
    [STAGE_TLS] = "in the TLS handshake",
    [STAGE_CONNACK] = "waiting for its answer to CONNECT",
};

/* Why an attempt failed. */
typedef enum {
  FAILED_NETWORK,     /* name, TCP, closed: the broker is away */
  FAILED_TIMEOUT,     /* the deadline ran out */
  FAILED_CERTIFICATE, /* its certificate was not verified */
  FAILED_TLS,         /* TLS failed otherwise */
  FAILED_REFUSED,     /* CONNACK refused */
  FAILED_SETUP,       /* our side could not set up a connection */
} failure_kind;

struct ef_mqtt {
  /* Set at creation, then read-only. */
  char *endpoint, *access_key, *secret_key, *ca_file, *suffix;
  long timeout_ms;
  int stream;
  int64_t silence_ms;
  size_t max_unknown;
  int pipe_fds[2]; /* readable while events wait */
  int wake_fds[2]; /* wakes the thread: a stop, a device to subscribe */
  SSL_CTX *tls;
  pthread_t thread;
  int thread_started;
  atomic_int stop;

  /* Under lock: shared with the engine's thread. */
  pthread_mutex_t lock;
  pushed_device *devices; /* sorted by serial number */
  size_t n_devices, cap_devices;
  int subscriptions_dirty;
  queued *head, *tail;
  size_t n_queued, queued_bytes, n_notes;
  /* The most the queue held since the allocator was last trimmed. */
  size_t backlog_bytes;
  /* Events the engine has taken, freed by this thread, where their many
   * small blocks (json-c's) came from: freeing them in the engine's
   * thread costs the allocator more than the copy it saves. */
  queued *spent;
  /* While the thread reads a run of packets, the engine is woken once,
   * at its end, not for each message. */
  int holding_wake, wake_held;
  int64_t woken_us; /* monotonic: when the engine was last woken */
  int wake_due;     /* events wait that woke it not, within the gap */
  size_t statuses_pending;
  int64_t statuses_handed_ms; /* monotonic */
  int dropping;               /* an episode of drops, said */
  unsigned long episode_drops;
  int64_t last_drop_ms; /* monotonic */
  ef_mqtt_stats stats;

  /* The thread's own. */
  struct json_tokener *tokener; /* every message's, reset each time */
  ef_client *client;
  struct mosquitto *mosq;
  credentials credentials;
  int host_is_address;
  char client_id[EF_MQTT_CLIENT_ID_MAX + 1];
  int have_credentials, need_certification;
  int64_t certified_ms; /* monotonic; 0: never asked */
  ef_mqtt_plan plan;
  condition condition;
  int64_t lost_ms; /* monotonic: when the connection was lost; 0 */
  int ever_connected;
  /* The broker sends what the library refuses: said once until a
   * connection lasts; the reconnections meanwhile are quiet. */
  int refusal_said, quiet_reconnect;
  /* The attempt under way. */
  stage stage;
  int connack_seen, connack_rc;
  int disconnect_rc;
  char tls_failure[128];
  int tls_error; /* OpenSSL's verify error, with tls_failure */
  char library_error[256];
  int64_t tick_ms; /* monotonic: the last periodic checks */
};

static int64_t monotonic_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static int64_t monotonic_ms(void) { return monotonic_us() / 1000; }

static int stopping(const ef_mqtt *m) { return atomic_load(&m->stop); }

static void poke(int fd) {
  char byte = 1;
  ssize_t written = write(fd, &byte, 1);
  (void)written; /* full: it is readable already */
}

/* Wakes the engine for the events that wait, or leaves that to the
 * thread's next wait when it was woken less than EF_MQTT_WAKE_GAP_US ago
 * (under lock). */
static void wake_engine_locked(ef_mqtt *m) {
  int64_t now = monotonic_us();
  if (now - m->woken_us < EF_MQTT_WAKE_GAP_US) {
    m->wake_due = 1;
    return;
  }
  m->wake_due = 0;
  m->woken_us = now;
  poke(m->pipe_fds[1]);
}

static void close_pair(int fds[2]) {
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

static void drain(int fd) {
  char bytes[256];
  while (read(fd, bytes, sizeof(bytes)) > 0)
    ;
}

/* ---- events --------------------------------------------------------------
 */

/* What an event holds, as the queue's bound counts it. */
static size_t event_bytes(const ef_mqtt_event *event, size_t text_bytes) {
  /* json-c's objects, keys and tables take a few times the text they
   * were parsed from. */
  size_t bytes = sizeof(queued) + event->samples.cap * sizeof(ef_sample) +
                 (event->object != NULL ? 4 * text_bytes : 0);
  for (size_t i = 0; i < event->samples.len; i++)
    bytes +=
        strlen(event->samples.items[i].path) + 1 +
        (event->samples.items[i].text ? strlen(event->samples.items[i].text) + 1
                                      : 0);
  return bytes;
}

static void note_drop_locked(ef_mqtt *m);

/* Frees what an event owns. */
static void event_clear(ef_mqtt_event *event) {
  ef_samples_clear(&event->samples);
  json_object_put(event->object);
  event->object = NULL;
}

/* Queues event (taking its samples or object, parsed from text_bytes of
 * text), within the bounds; the caller holds the lock. */
static void queue_text_locked(ef_mqtt *m, const ef_mqtt_event *event,
                              size_t text_bytes) {
  int message = event->kind == EF_MQTT_MESSAGE;
  size_t bytes = event_bytes(event, text_bytes);
  queued *item = NULL;
  if (message ? m->n_queued - m->n_notes < EF_MQTT_MAX_QUEUED &&
                    m->queued_bytes + bytes <= EF_MQTT_MAX_QUEUED_BYTES
              : m->n_notes < EF_MQTT_MAX_NOTES)
    item = calloc(1, sizeof(*item));
  if (item == NULL) {
    ef_mqtt_event dropped = *event;
    event_clear(&dropped);
    m->stats.dropped++;
    note_drop_locked(m);
    return;
  }
  item->event = *event;
  if (m->tail != NULL)
    m->tail->next = item;
  else
    m->head = item;
  m->tail = item;
  m->queued_bytes += bytes;
  if (m->queued_bytes > m->backlog_bytes)
    m->backlog_bytes = m->queued_bytes;
  m->n_notes += !message;
  if (m->n_queued++ == 0) {
    if (m->holding_wake)
      m->wake_held = 1;
    else
      wake_engine_locked(m);
  }
}

static void queue_locked(ef_mqtt *m, const ef_mqtt_event *event) {
  queue_text_locked(m, event, 0);
}

__attribute__((format(printf, 4, 5))) static void
news_locked(ef_mqtt *m, const char *sn, ef_level level, const char *format,
            ...) {
  ef_mqtt_event event = {
      .kind = EF_MQTT_NEWS, .level = level, .time_ms = ef_now_ms()};
  if (sn != NULL)
    snprintf(event.sn, sizeof(event.sn), "%s", sn);
  va_list ap;
  va_start(ap, format);
  vsnprintf(event.text, sizeof(event.text), format, ap);
  va_end(ap);
  queue_locked(m, &event);
}

/* The first drop of an episode is said; DROPS_QUIET_MS without one ends
 * it (note_drops_over). */
static void note_drop_locked(ef_mqtt *m) {
  m->episode_drops++;
  m->last_drop_ms = monotonic_ms();
  if (m->dropping)
    return;
  m->dropping = 1;
  news_locked(m, NULL, EF_LEVEL_WARNING,
              "MQTT: messages arrive faster than they are taken (%d messages "
              "or %d MiB wait): the newest are dropped until there is room; "
              "said once",
              EF_MQTT_MAX_QUEUED, EF_MQTT_MAX_QUEUED_BYTES / (1024 * 1024));
}

static void note_drops_over(ef_mqtt *m, int64_t now) {
  pthread_mutex_lock(&m->lock);
  if (m->dropping && now - m->last_drop_ms >= DROPS_QUIET_MS) {
    m->dropping = 0;
    news_locked(m, NULL, EF_LEVEL_NOTICE,
                "MQTT: no message dropped for %d s; %lu were dropped",
                DROPS_QUIET_MS / 1000, m->episode_drops);
    m->episode_drops = 0;
  }
  pthread_mutex_unlock(&m->lock);
}

/* The thread's news when the connection's condition changes, not while it
 * lasts. */
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
  pthread_mutex_lock(&m->lock);
  news_locked(m, NULL, level, "%s", text);
  pthread_mutex_unlock(&m->lock);
}

/* Status events for the devices whose statuses wait, in stream mode at
 * most every EF_MQTT_STATUS_EVERY_MS. The caller holds the lock. */
static void hand_statuses_locked(ef_mqtt *m) {
  int64_t now = monotonic_ms();
  if (m->statuses_pending == 0 ||
      (m->stream && now - m->statuses_handed_ms < EF_MQTT_STATUS_EVERY_MS))
    return;
  m->statuses_handed_ms = now;
  for (size_t i = 0; i < m->n_devices; i++) {
    pushed_device *device = &m->devices[i];
    if (!device->pending)
      continue;
    ef_mqtt_event event = {.kind = EF_MQTT_STATUS,
                           .time_ms = device->status_ms,
                           .online = device->status,
                           .changes = device->changes};
    snprintf(event.sn, sizeof(event.sn), "%s", device->sn);
    device->pending = 0;
    device->changes = 0;
    /* Past the bound of notes it stays pending for the next take. */
    size_t before = m->n_notes;
    queue_locked(m, &event);
    if (m->n_notes == before) {
      device->pending = 1;
      break;
    }
  }
  m->statuses_pending = 0;
  for (size_t i = 0; i < m->n_devices; i++)
    m->statuses_pending += m->devices[i].pending;
}

size_t ef_mqtt_take(ef_mqtt *m,
                    void (*cb)(const ef_mqtt_event *event, void *ctx),
                    void *ctx) {
  pthread_mutex_lock(&m->lock);
  hand_statuses_locked(m);
  queued *list = m->head;
  m->head = m->tail = NULL;
  m->n_queued = m->queued_bytes = m->n_notes = 0;
  m->wake_due = 0; /* all of it taken */
  drain(m->pipe_fds[0]);
  pthread_mutex_unlock(&m->lock);
  size_t n = 0;
  queued *last = NULL;
  for (queued *item = list; item != NULL; item = item->next, n++) {
    if (cb != NULL)
      cb(&item->event, ctx);
    last = item;
  }
  if (last != NULL) {
    pthread_mutex_lock(&m->lock);
    last->next = m->spent;
    m->spent = list;
    pthread_mutex_unlock(&m->lock);
  }
  return n;
}

static void free_events(queued *list) {
  while (list != NULL) {
    queued *next = list->next;
    event_clear(&list->event);
    free(list);
    list = next;
  }
}

/* Frees the events the engine has taken since the last time; the
 * thread's. */
static void free_spent(ef_mqtt *m) {
  pthread_mutex_lock(&m->lock);
  queued *spent = m->spent;
  m->spent = NULL;
  int drained =
      m->n_queued == 0 && m->backlog_bytes >= EF_MQTT_TRIM_BACKLOG_BYTES;
  if (drained)
    m->backlog_bytes = 0;
  pthread_mutex_unlock(&m->lock);
  free_events(spent);
#ifdef HAVE_MALLOC_TRIM
  /* What a flood parsed is free again, but the allocator keeps the pages
   * of this thread's arena: a plugin that runs for months gives them
   * back once the backlog is gone. */
  if (drained)
    malloc_trim(0);
#endif
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

/* The watched device sn, or NULL; the caller holds the lock. */
static pushed_device *watched_locked(ef_mqtt *m, const char *sn) {
  int found;
  size_t at = find_locked(m, sn, &found);
  return found && m->devices[at].watched ? &m->devices[at] : NULL;
}

static void device_clear(pushed_device *device) {
  free(device->sn);
  ef_samples_clear(&device->state);
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
      m->devices[at] = (pushed_device){.sn = copy, .watched = 1, .status = -1};
      m->n_devices++;
    }
  }
  m->subscriptions_dirty = 1;
  pthread_mutex_unlock(&m->lock);
  poke(m->wake_fds[1]);
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
  poke(m->wake_fds[1]);
}

static size_t text_bytes(const char *text) {
  return text != NULL ? strlen(text) + 1 : 0;
}

/* 1 when the catalog has a row of its own for path (not one that only
 * places an unknown value). */
static int catalog_knows(const char *path) {
  const ef_quota *quota = ef_catalog_lookup(path, NULL);
  return quota != NULL && quota->decode != EF_DECODE_ANY;
}

/* Merges samples into device's state within its caps; what they leave
 * out is counted and said once per device. The caller holds the lock. */
static void merge_locked(ef_mqtt *m, pushed_device *device,
                         const ef_samples *samples) {
  size_t cut = 0;
  for (size_t i = 0; i < samples->len; i++) {
    const ef_sample *sample = &samples->items[i];
    const ef_sample *old = ef_samples_find(&device->state, sample->path);
    size_t text = text_bytes(sample->text);
    size_t bytes = old != NULL
                       ? device->state_bytes - text_bytes(old->text) + text
                       : device->state_bytes + sizeof(ef_sample) +
                             strlen(sample->path) + 1 + text;
    int known = old == NULL && catalog_knows(sample->path);
    if (bytes > EF_MQTT_STATE_MAX_BYTES ||
        (old == NULL && (known ? device->known >= EF_MQTT_STATE_KNOWN_MAX
                               : device->unknown >= m->max_unknown)) ||
        ef_samples_put(&device->state, sample) != 0) {
      cut++;
      continue;
    }
    device->state_bytes = bytes;
    if (old == NULL) {
      device->known += known;
      device->unknown += !known;
    }
  }
  device->version++;
  m->stats.cut += cut;
  if (cut > 0 && !device->cut_said) {
    device->cut_said = 1;
    news_locked(m, device->sn, EF_LEVEL_WARNING,
                "MQTT: its pushed state holds as many values as it may (%zu "
                "the catalog knows, %zu it does not, %zu KiB): %zu new values "
                "were left out, and more will be (counted); said once",
                device->known, device->unknown, device->state_bytes / 1024,
                cut);
  }
}

int ef_mqtt_snapshot(ef_mqtt *m, const char *sn, ef_samples *state,
                     int64_t *last_ms, uint64_t *version) {
  pthread_mutex_lock(&m->lock);
  int status = -1;
  pushed_device *device = watched_locked(m, sn);
  if (device != NULL) {
    *last_ms = device->last_ms;
    status = 0;
    if (*version != device->version) {
      ef_samples_clear(state);
      status = 1;
      for (size_t i = 0; status == 1 && i < device->state.len; i++)
        if (ef_samples_put(state, &device->state.items[i]) != 0)
          status = -1;
      *version = status == 1 ? device->version : 0;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return status;
}

void ef_mqtt_merge(ef_mqtt *m, const char *sn, const ef_samples *samples) {
  pthread_mutex_lock(&m->lock);
  pushed_device *device = watched_locked(m, sn);
  if (device != NULL) {
    if (!m->stream)
      merge_locked(m, device, samples);
    device->last_ms = ef_now_ms();
  }
  pthread_mutex_unlock(&m->lock);
}

int64_t ef_mqtt_last_ms(ef_mqtt *m, const char *sn) {
  pthread_mutex_lock(&m->lock);
  pushed_device *device = watched_locked(m, sn);
  int64_t last_ms = device != NULL ? device->last_ms : 0;
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

/* ---- messages ------------------------------------------------------------
 */

/* A status message: the latest status, and a change counted. */
static void note_status_locked(ef_mqtt *m, pushed_device *device, int online,
                               int64_t now) {
  m->stats.statuses++;
  if (device->status >= 0 && device->status != online &&
      device->changes < UINT32_MAX)
    device->changes++;
  device->status = online;
  device->status_ms = now;
  if (!device->pending) {
    device->pending = 1;
    m->statuses_pending++;
  }
  if (!m->stream ||
      monotonic_ms() - m->statuses_handed_ms >= EF_MQTT_STATUS_EVERY_MS)
    poke(m->pipe_fds[1]);
}

static void on_message(struct mosquitto *mosq, void *obj,
                       const struct mosquitto_message *message) {
  (void)mosq;
  ef_mqtt *m = obj;
  int64_t now = ef_now_ms();
  ef_push_message parsed;
  size_t size = message->payloadlen > 0 ? (size_t)message->payloadlen : 0;
  /* Stream mode hands a message's values on once: as JSON, walked by the
   * engine, not copied value by value into samples first. */
  ef_push_verdict verdict =
      (m->stream ? ef_push_message_parse_json : ef_push_message_parse)(
          m->credentials.account, message->topic, message->payload, size,
          m->tokener, &parsed);
  ef_samples samples = parsed.values;
  pthread_mutex_lock(&m->lock);
  pushed_device *device =
      verdict == EF_PUSH_OK ? watched_locked(m, parsed.sn) : NULL;
  if (device == NULL) {
    m->stats.ignored++;
  } else if (message->retain) {
    /* The broker's old copy: state, never a fresh reading. */
    m->stats.retained++;
    if (parsed.kind == EF_PUSH_QUOTA && !m->stream)
      merge_locked(m, device, &samples);
  } else {
    m->stats.messages++;
    device->last_ms = now;
    ef_mqtt_event event = {.time_ms = now};
    _Static_assert(sizeof(event.sn) == sizeof(parsed.sn), "one serial size");
    memcpy(event.sn, parsed.sn, sizeof(event.sn));
    if (device->silent) {
      device->silent = 0;
      event.kind = EF_MQTT_HEARD;
      queue_locked(m, &event);
    }
    if (parsed.kind == EF_PUSH_STATUS) {
      note_status_locked(m, device, parsed.online, now);
    } else if (m->stream) {
      event.kind = EF_MQTT_MESSAGE;
      event.object = parsed.object; /* the queue's now */
      parsed.object = NULL;
      queue_text_locked(m, &event, size);
    } else {
      merge_locked(m, device, &samples);
    }
  }
  queued *spent = m->spent;
  m->spent = NULL;
  pthread_mutex_unlock(&m->lock);
  ef_samples_clear(&samples);
  json_object_put(parsed.object);
  free_events(spent);
}

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

/* What the thread checks every TICK_MS whatever it waits for. */
static void periodic(ef_mqtt *m) {
  int64_t now = monotonic_ms();
  if (now - m->tick_ms < TICK_MS)
    return;
  m->tick_ms = now;
  free_spent(m);
  note_silence(m);
  note_drops_over(m, now);
  pthread_mutex_lock(&m->lock);
  if (m->statuses_pending > 0)
    poke(m->pipe_fds[1]); /* the gate is open again */
  pthread_mutex_unlock(&m->lock);
}

/* ---- waiting -------------------------------------------------------------
 */

/* Waits until fd (events; fd -1: none) is ready, the thread is woken or
 * deadline_ms (monotonic) passes, at most TICK_MS. Returns fd's revents
 * (0: none), or -1 when the source stops. */
static int wait_on(ef_mqtt *m, int fd, short events, int64_t deadline_ms) {
  int64_t now = monotonic_us();
  int64_t left = deadline_ms * 1000 - now;
  /* The engine not woken for what waits is woken when its gap is over;
   * until then the wait ends with the gap. */
  pthread_mutex_lock(&m->lock);
  if (m->wake_due)
    wake_engine_locked(m);
  if (m->wake_due && m->woken_us + EF_MQTT_WAKE_GAP_US - now < left)
    left = m->woken_us + EF_MQTT_WAKE_GAP_US - now;
  pthread_mutex_unlock(&m->lock);
  left = left < 0 ? 0 : left > TICK_MS * 1000 ? TICK_MS * 1000 : left;
  struct pollfd pfd[2] = {{.fd = m->wake_fds[0], .events = POLLIN},
                          {.fd = fd, .events = events}};
  struct timespec timeout = {.tv_sec = left / 1000000,
                             .tv_nsec = (left % 1000000) * 1000};
  int ready = ppoll(pfd, fd >= 0 ? 2 : 1, &timeout, NULL);
  if (ready > 0 && pfd[0].revents != 0)
    drain(m->wake_fds[0]);
  periodic(m);
  if (stopping(m))
    return -1;
  return ready > 0 && fd >= 0 ? pfd[1].revents : 0;
}

/* Sleeps until deadline_ms (monotonic), looking after the periodic checks;
 * -1 when the source stops. */
static int pause_until(ef_mqtt *m, int64_t deadline_ms) {
  while (monotonic_ms() < deadline_ms)
    if (wait_on(m, -1, 0, deadline_ms) < 0)
      return -1;
  return stopping(m) ? -1 : 0;
}

/* ---- certification -------------------------------------------------------
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
  m->certified_ms = monotonic_ms();
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
  /* The suffix was checked at creation: the id always fits. */
  ef_mqtt_client_id(m->credentials.account, m->suffix, m->client_id);
  m->host_is_address = ef_lookup_numeric(m->credentials.host);
  m->have_credentials = 1;
  m->need_certification = 0;
  return 0;
}

/* Credentials to connect with: asked when missing or refused, at most
 * every EF_MQTT_CERTIFICATION_GAP_S. Returns 0 when there are some, -1
 * when not (yet) or the source stops. */
static int credentials_ready(ef_mqtt *m) {
  if (m->have_credentials && !m->need_certification)
    return 0;
  if (m->certified_ms != 0 &&
      pause_until(m, m->certified_ms + EF_MQTT_CERTIFICATION_GAP_S * 1000) != 0)
    return -1;
  return stopping(m) ? -1 : certify(m);
}

/* ---- TLS -----------------------------------------------------------------
 */

static ef_mqtt *owner_of(const SSL *ssl) {
  return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

/* Keeps why OpenSSL refused the broker's certificate, for the news. */
static int verify_peer(int preverified, X509_STORE_CTX *store) {
  if (!preverified) {
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    ef_mqtt *m = ssl != NULL ? owner_of(ssl) : NULL;
    if (m != NULL && m->tls_failure[0] == '\0') {
      m->tls_error = X509_STORE_CTX_get_error(store);
      snprintf(m->tls_failure, sizeof(m->tls_failure), "%s",
               X509_verify_cert_error_string(m->tls_error));
    }
  }
  return preverified;
}

/* The library names the server (SNI) by the address it was handed; the
 * broker's name goes in before the first message of the handshake. */
static void name_the_server(const SSL *ssl, int where, int ret) {
  (void)ret;
  ef_mqtt *m = owner_of(ssl);
  if ((where & SSL_CB_HANDSHAKE_START) && m != NULL && !m->host_is_address)
    SSL_set_tlsext_host_name((SSL *)ssl, m->credentials.host);
}

/* The TLS context of every connection: TLS 1.2 at least, the peer
 * verified against the CA file or the system's CAs. */
static SSL_CTX *tls_new(ef_mqtt *m) {
  SSL_CTX *tls = SSL_CTX_new(TLS_client_method());
  if (tls == NULL)
    return NULL;
  SSL_CTX_set_app_data(tls, m);
  SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION);
  SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, verify_peer);
  SSL_CTX_set_info_callback(tls, name_the_server);
  /* One read of the socket takes every record it holds (a burst is many
   * small ones), not a header and a body per message; read_packets reads
   * on while OpenSSL holds some. */
  SSL_CTX_set_read_ahead(tls, 1);
  if (SSL_CTX_load_verify_locations(tls, m->ca_file,
                                    m->ca_file ? NULL : SYSTEM_CA_PATH) != 1) {
    SSL_CTX_free(tls);
    return NULL;
  }
  return tls;
}

/* The certificate must name the broker as certification did. Returns 0,
 * or -1 when OpenSSL cannot take the name. */
static int tls_expect(ef_mqtt *m) {
  X509_VERIFY_PARAM *param = SSL_CTX_get0_param(m->tls);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int set = m->host_is_address
                ? X509_VERIFY_PARAM_set1_ip_asc(param, m->credentials.host)
                : X509_VERIFY_PARAM_set1_host(param, m->credentials.host, 0);
  return set == 1 ? 0 : -1;
}

/* ---- the broker's name ---------------------------------------------------
 */

/* A failure of the attempt under way, for tell_failure. */
typedef struct {
  failure_kind kind;
  char detail[EF_PROBLEM_LEN / 2];
} failure;

__attribute__((format(printf, 3, 4))) static void
fail(failure *f, failure_kind kind, const char *format, ...) {
  f->kind = kind;
  va_list ap;
  va_start(ap, format);
  vsnprintf(f->detail, sizeof(f->detail), format, ap);
  va_end(ap);
}

/* The broker's addresses as text, looked up in a thread of its own
 * (ef_lookup.h) by the attempt's deadline. Returns how many, 0 on failure
 * (f says why) or -1 when the source stops. */
static int resolve(ef_mqtt *m, char addresses[][EF_ADDRESS_TEXT_LEN], int max,
                   failure *f) {
  m->stage = STAGE_NAME;
  ef_lookup *lookup = ef_lookup_start(m->credentials.host);
  if (lookup == NULL) {
    fail(f, FAILED_SETUP, "cannot start a thread to look its name up");
    return 0;
  }
  int n, error = 0;
  while ((n = ef_lookup_addresses(lookup, addresses, max, &error)) < 0) {
    if (ef_mqtt_plan_overdue(&m->plan, monotonic_ms())) {
      fail(f, FAILED_TIMEOUT, "its name did not resolve within %.3g s",
           m->timeout_ms / 1000.0);
      n = 0;
      break;
    }
    if (wait_on(m, ef_lookup_fd(lookup), POLLIN, m->plan.deadline_ms) < 0)
      break;
  }
  ef_lookup_release(lookup);
  if (error != 0)
    fail(f, FAILED_NETWORK, "its name does not resolve (%s)",
         gai_strerror(error));
  else if (n == 0 && f->detail[0] == '\0')
    fail(f, FAILED_NETWORK, "its name has no address to connect to");
  return n;
}

/* ---- the connection --------------------------------------------------------
 */

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  ef_mqtt *m = obj;
  m->connack_seen = 1;
  m->connack_rc = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  ef_mqtt *m = obj;
  m->disconnect_rc = rc;
}

static void on_log(struct mosquitto *mosq, void *obj, int level,
                   const char *text) {
  (void)mosq;
  ef_mqtt *m = obj;
  if (level == MOSQ_LOG_ERR && text != NULL && m->library_error[0] == '\0')
    ef_text_clean(text, strlen(text), m->library_error,
                  sizeof(m->library_error));
}

/* A fresh libmosquitto client for the next attempt. */
static int configure(ef_mqtt *m) {
  if (mosquitto_reinitialise(m->mosq, m->client_id, true, m) !=
      MOSQ_ERR_SUCCESS)
    return -1;
  mosquitto_connect_callback_set(m->mosq, on_connect);
  mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
  mosquitto_message_callback_set(m->mosq, on_message);
  mosquitto_log_callback_set(m->mosq, on_log);
  /* Our context as it is: the library's defaults would ask for a CA file
   * of its own. */
  return mosquitto_username_pw_set(m->mosq, m->credentials.account,
                                   m->credentials.password) ==
                     MOSQ_ERR_SUCCESS &&
                 mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, m->tls) ==
                     MOSQ_ERR_SUCCESS &&
                 mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS,
                                      0) == MOSQ_ERR_SUCCESS
             ? 0
             : -1;
}

/* The events to wait for on the socket. The library does the TLS
 * handshake in mosquitto_loop_read, whatever the socket is ready for, and
 * keeps its CONNECT queued meanwhile: a socket that is always writable
 * must not be waited on for writing then, or the thread would spin. */
static short socket_events(ef_mqtt *m) {
  SSL *ssl = mosquitto_ssl_get(m->mosq);
  switch (m->stage) {
  case STAGE_NAME:
  case STAGE_TCP:
    return POLLOUT;
  case STAGE_TLS:
    return ssl != NULL && SSL_want_write(ssl) ? POLLOUT : POLLIN;
  case STAGE_CONNACK:
    break;
  }
  return POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0);
}

/* The words of a library error in an attempt. */
static void fail_by_library(ef_mqtt *m, failure *f, int rc) {
  if (m->tls_failure[0] != '\0')
    fail(f, FAILED_CERTIFICATE, "%s", m->tls_failure);
  else if (m->stage == STAGE_TLS)
    fail(f, FAILED_TLS, "%s",
         m->library_error[0] ? m->library_error : mosquitto_strerror(rc));
  else if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN)
    fail(f, FAILED_NETWORK, "the broker closed the connection %s",
         stage_words[m->stage]);
  else
    fail(f, FAILED_NETWORK, "%s",
         rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

/* Moves the attempt on after the socket reported revents. Returns 1 when
 * the attempt ended (f says how, unless it connected), else 0. */
static int advance(ef_mqtt *m, short revents, failure *f) {
  if (m->stage == STAGE_TCP) {
    int error = 0;
    socklen_t len = sizeof(error);
    if (getsockopt(mosquitto_socket(m->mosq), SOL_SOCKET, SO_ERROR, &error,
                   &len) != 0)
      error = errno;
    /* On loopback the refusal comes at once, and the library's first
     * write takes the error: a socket that never got a peer was refused. */
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof(peer);
    if (error == 0 && (revents & (POLLERR | POLLHUP)) &&
        getpeername(mosquitto_socket(m->mosq), (struct sockaddr *)&peer,
                    &peer_len) != 0 &&
        errno == ENOTCONN)
      error = ECONNREFUSED;
    if (error != 0 || (revents & (POLLERR | POLLHUP))) {
      fail(f, FAILED_NETWORK, "%s",
           error ? strerror(error) : "the connection was closed");
      return 1;
    }
    m->stage = STAGE_TLS;
  }
  int rc = MOSQ_ERR_SUCCESS;
  if (m->stage == STAGE_TLS || (revents & (POLLIN | POLLERR | POLLHUP)))
    rc = mosquitto_loop_read(m->mosq, 1);
  else if (revents & POLLOUT)
    rc = mosquitto_loop_write(m->mosq, 1);
  SSL *ssl = mosquitto_ssl_get(m->mosq);
  if (m->stage == STAGE_TLS && ssl != NULL && SSL_is_init_finished(ssl))
    m->stage = STAGE_CONNACK;
  if (m->connack_seen) {
    if (m->connack_rc != 0)
      fail(f, FAILED_REFUSED, "%s", mosquitto_connack_string(m->connack_rc));
    return 1;
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    fail_by_library(m, f, rc);
    return 1;
  }
  /* The library reads on after a hang-up as if the handshake went on. */
  if ((revents & (POLLERR | POLLHUP)) || mosquitto_socket(m->mosq) < 0) {
    fail_by_library(m, f, MOSQ_ERR_CONN_LOST);
    return 1;
  }
  return 0;
}

/* One address: TCP, TLS and CONNACK by the attempt's deadline. Returns 1
 * when connected, 0 when not (f says why), -1 when the source stops. */
static int connect_to(ef_mqtt *m, const char *address, failure *f) {
  m->stage = STAGE_TCP;
  m->connack_seen = 0;
  m->tls_failure[0] = m->library_error[0] = '\0';
  m->tls_error = 0;
  if (configure(m) != 0 || tls_expect(m) != 0) {
    fail(f, FAILED_SETUP, "cannot set up the connection (TLS with %s)",
         m->ca_file ? "the account's CA file" : "the system's CAs");
    return 0;
  }
  int rc = mosquitto_connect_async(m->mosq, address, m->credentials.port,
                                   EF_MQTT_KEEPALIVE_S);
  if (rc != MOSQ_ERR_SUCCESS) {
    /* On loopback the TCP connect completes at once and the library goes
     * straight on with the handshake: on a busy machine the broker's
     * answer can be there before its first read, and a refused
     * certificate then fails this very call. */
    if (rc == MOSQ_ERR_TLS)
      m->stage = STAGE_TLS;
    fail_by_library(m, f, rc);
    return 0;
  }
  for (;;) {
    if (ef_mqtt_plan_overdue(&m->plan, monotonic_ms())) {
      fail(f, FAILED_TIMEOUT, "no answer within %.3g s (the timeout) %s",
           m->timeout_ms / 1000.0, stage_words[m->stage]);
      return 0;
    }
    int fd = mosquitto_socket(m->mosq);
    if (fd < 0) {
      fail_by_library(m, f,
                      m->disconnect_rc ? m->disconnect_rc : MOSQ_ERR_NO_CONN);
      return 0;
    }
    int revents = wait_on(m, fd, socket_events(m), m->plan.deadline_ms);
    if (revents < 0)
      return -1;
    if (revents != 0 && advance(m, (short)revents, f))
      return m->connack_seen && m->connack_rc == 0;
  }
}

/* Tells why an attempt failed: at once, unless a connection was lost and
 * the broker is only away (then after EF_MQTT_QUIET_OUTAGE_S). */
static void tell_failure(ef_mqtt *m, const failure *f) {
  const char *host = m->credentials.host;
  int port = m->credentials.port;
  int away = f->kind == FAILED_NETWORK || f->kind == FAILED_TIMEOUT;
  int64_t outage_s = m->lost_ms ? (monotonic_ms() - m->lost_ms) / 1000 : 0;
  if (away && m->condition == CONDITION_LOST &&
      outage_s < EF_MQTT_QUIET_OUTAGE_S)
    return;
  char what[sizeof(((credentials *)0)->host) + sizeof(f->detail) + 256];
  condition next = CONDITION_UNREACHABLE;
  switch (f->kind) {
  case FAILED_NETWORK:
  case FAILED_TIMEOUT:
  case FAILED_SETUP:
    if (m->condition == CONDITION_LOST)
      snprintf(what, sizeof(what),
               "still cannot connect to the broker %s:%d, %lld s after the "
               "connection was lost: %s",
               host, port, (long long)outage_s, f->detail);
    else
      snprintf(what, sizeof(what), "cannot connect to the broker %s:%d: %s",
               host, port, f->detail);
    break;
  case FAILED_CERTIFICATE:
    next = CONDITION_CERTIFICATE;
    snprintf(what, sizeof(what),
             "the broker %s:%d: its certificate could not be verified (%s): "
             "%s",
             host, port, f->detail,
             m->tls_error == X509_V_ERR_HOSTNAME_MISMATCH ||
                     m->tls_error == X509_V_ERR_IP_ADDRESS_MISMATCH
                 ? "it is not made out to the broker certification names "
                   "(another server answers there)"
                 : "install the system's CA certificates, or name the CA "
                   "bundle that signed it");
    break;
  case FAILED_TLS:
    next = CONDITION_TLS;
    snprintf(what, sizeof(what),
             "the broker %s:%d: the TLS handshake failed (%s)", host, port,
             f->detail);
    break;
  case FAILED_REFUSED: {
    /* 4, 5: the broker does not take these credentials (any more). */
    int bad_credentials = m->connack_rc == 4 || m->connack_rc == 5;
    if (bad_credentials)
      m->need_certification = 1;
    enter(m, CONDITION_REFUSED, EF_LEVEL_ERROR,
          "MQTT: the broker %s:%d refused the connection (%s)%s", host, port,
          f->detail,
          bad_credentials ? ": asking for new credentials (certification), at "
                            "most once a minute"
                          : "");
    return;
  }
  }
  enter(m, next, EF_LEVEL_ERROR,
        "MQTT: %s; trying again with a growing pause, up to %d s", what,
        EF_MQTT_MAX_BACKOFF_S);
}

/* One attempt: the name, then each address until one connects. Returns 1
 * when connected, 0 when not (told, backed off), -1 when stopping. */
static int attempt(ef_mqtt *m) {
  ef_mqtt_plan_attempt(&m->plan, monotonic_ms(), m->timeout_ms);
  pthread_mutex_lock(&m->lock);
  m->stats.attempts++;
  pthread_mutex_unlock(&m->lock);
  char addresses[MAX_ADDRESSES][EF_ADDRESS_TEXT_LEN];
  failure f = {.kind = FAILED_NETWORK};
  int n = resolve(m, addresses, MAX_ADDRESSES, &f);
  int connected = n < 0 ? -1 : 0;
  for (int i = 0; i < n && connected == 0; i++) {
    connected = connect_to(m, addresses[i], &f);
    /* Another address may answer; a verdict of the broker stands. */
    if (connected == 0 && f.kind != FAILED_NETWORK)
      break;
  }
  if (connected != 0)
    return connected;
  mosquitto_disconnect(m->mosq);
  tell_failure(m, &f);
  ef_mqtt_plan_failed(&m->plan, monotonic_ms());
  return 0;
}

static void topic_of(const ef_mqtt *m, const char *sn, const char *kind,
                     char *out, size_t size) {
  snprintf(out, size, "/open/%s/%s/%s", m->credentials.account, sn, kind);
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
    if (device->watched)
      m->devices[kept++] = *device;
    else
      device_clear(device);
  }
  m->statuses_pending = 0;
  for (size_t i = 0; i < kept; i++)
    m->statuses_pending += m->devices[i].pending;
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

/* The connection just made: said, and subscribed. */
static void tell_connected(ef_mqtt *m) {
  const char *host = m->credentials.host;
  int port = m->credentials.port;
  if (!m->ever_connected)
    enter(m, CONDITION_CONNECTED,
          m->condition == CONDITION_NONE ? EF_LEVEL_INFO : EF_LEVEL_NOTICE,
          "MQTT: connected to the broker %s:%d as client id %s", host, port,
          m->client_id);
  else if (m->condition == CONDITION_TAKEN_OVER || m->quiet_reconnect)
    m->condition = CONDITION_CONNECTED;
  else
    enter(m, CONDITION_CONNECTED, EF_LEVEL_NOTICE,
          "MQTT: connected again to the broker %s:%d, %lld s after the "
          "connection was lost",
          host, port, (long long)((monotonic_ms() - m->lost_ms) / 1000));
  m->ever_connected = 1;
  m->quiet_reconnect = 0;
  m->lost_ms = 0;
  m->library_error[0] = '\0';
  pthread_mutex_lock(&m->lock);
  m->stats.connects++;
  pthread_mutex_unlock(&m->lock);
  forget_subscriptions(m);
}

/* Why a connection ended, in words. */
static const char *loss_words(const ef_mqtt *m, int rc) {
  switch (rc) {
  case MOSQ_ERR_KEEPALIVE:
    return "it stopped answering: no reply within the keepalive";
  case MOSQ_ERR_CONN_LOST:
    return "closed by the broker";
  case MOSQ_ERR_ERRNO:
    return m->library_error[0] ? m->library_error : strerror(errno);
  default:
    return mosquitto_strerror(rc);
  }
}

/* 1 when rc says the library refused what the broker sent. */
static int refused_packet(int rc) {
  return rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_PROTOCOL ||
         rc == MOSQ_ERR_MALFORMED_PACKET;
}

/* The connection ended (rc: libmosquitto's reason): said once, backed
 * off. While another client takes turns with the id, or while the broker
 * keeps sending what the library refuses, said once in all. */
static void lost(ef_mqtt *m, int rc) {
  int64_t now = monotonic_ms();
  int takeover;
  ef_mqtt_plan_lost(&m->plan, now, rc == MOSQ_ERR_CONN_LOST, &takeover);
  m->lost_ms = now;
  const char *host = m->credentials.host;
  int port = m->credentials.port;
  if (takeover) {
    enter(m, CONDITION_TAKEN_OVER, EF_LEVEL_WARNING,
          "MQTT: the broker closed the connection %d times right after "
          "accepting it: another program most likely uses the same client "
          "id %s (the broker keeps one connection per id); give each "
          "program its own client id suffix",
          EF_MQTT_TAKEOVER_AFTER, m->client_id);
  } else if (m->condition == CONDITION_TAKEN_OVER && m->plan.quick_closes) {
    /* the other client still takes its turns: said */
  } else if (refused_packet(rc) && m->refusal_said) {
    m->condition = CONDITION_LOST;
    m->quiet_reconnect = 1;
  } else if (refused_packet(rc)) {
    m->refusal_said = 1;
    enter(m, CONDITION_LOST, EF_LEVEL_WARNING,
          "MQTT: the broker %s:%d sent a packet the MQTT library refuses "
          "(%s: a topic that is not valid UTF-8 or holds a control "
          "character, say), and the library dropped the connection: "
          "connecting again, from %d s on; said once",
          host, port, mosquitto_strerror(rc), EF_MQTT_FIRST_BACKOFF_S);
  } else {
    enter(m, CONDITION_LOST, EF_LEVEL_WARNING,
          "MQTT: the connection to the broker %s:%d was lost (%s): "
          "connecting again, from %d s on",
          host, port, loss_words(m, rc), EF_MQTT_FIRST_BACKOFF_S);
  }
  mosquitto_disconnect(m->mosq);
}

/* Reads the packets that the socket and OpenSSL's buffer hold, up to
 * PACKETS_PER_WAKE: mosquitto_loop_read reads one (and the rest of its TLS
 * record), and a socket whose bytes OpenSSL has read ahead polls as
 * empty. The engine is woken once for them all. Returns libmosquitto's
 * code; *buffered is 1 when OpenSSL may still hold whole packets. */
static int read_packets(ef_mqtt *m, int *buffered) {
  int rc = MOSQ_ERR_SUCCESS;
  pthread_mutex_lock(&m->lock);
  m->holding_wake = 1;
  pthread_mutex_unlock(&m->lock);
  *buffered = 0;
  for (int i = 0; i < PACKETS_PER_WAKE; i++) {
    errno = 0; /* the library says EAGAIN when the socket was drained */
    rc = mosquitto_loop_read(m->mosq, 1);
    SSL *ssl = mosquitto_ssl_get(m->mosq);
    *buffered = rc == MOSQ_ERR_SUCCESS && errno != EAGAIN &&
                errno != EWOULDBLOCK && mosquitto_socket(m->mosq) >= 0 &&
                ssl != NULL && SSL_has_pending(ssl);
    if (!*buffered)
      break;
  }
  pthread_mutex_lock(&m->lock);
  m->holding_wake = 0;
  if (m->wake_held) {
    m->wake_held = 0;
    wake_engine_locked(m);
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

/* Serves the connection until it ends. Returns -1 when the source stops,
 * 0 when the connection was lost. */
static int serve(ef_mqtt *m) {
  ef_mqtt_plan_connected(&m->plan, monotonic_ms());
  tell_connected(m);
  int announced_stable = 0;
  /* What OpenSSL read along with CONNACK is read before any wait. */
  int buffered = 1;
  for (;;) {
    subscribe_pending(m);
    if (!announced_stable && ef_mqtt_plan_stable(&m->plan, monotonic_ms())) {
      announced_stable = 1;
      m->refusal_said = 0;
      if (m->condition == CONDITION_TAKEN_OVER)
        m->condition = CONDITION_CONNECTED; /* the other client is gone */
    }
    int fd = mosquitto_socket(m->mosq);
    int rc = MOSQ_ERR_SUCCESS;
    if (fd < 0) {
      rc = m->disconnect_rc ? m->disconnect_rc : MOSQ_ERR_CONN_LOST;
    } else {
      short events = POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0);
      /* Packets already in OpenSSL's buffer: no wait, only a look. */
      int revents =
          wait_on(m, fd, events, buffered ? 0 : monotonic_ms() + TICK_MS);
      if (revents < 0)
        return -1;
      if (buffered)
        revents |= POLLIN;
      if (revents & (POLLIN | POLLERR | POLLHUP))
        rc = read_packets(m, &buffered);
      if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT) &&
          mosquitto_socket(m->mosq) >= 0)
        rc = mosquitto_loop_write(m->mosq, 1);
      if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) >= 0)
        rc = mosquitto_loop_misc(m->mosq);
      if (rc == MOSQ_ERR_SUCCESS &&
          ((revents & (POLLERR | POLLHUP)) || mosquitto_socket(m->mosq) < 0))
        rc = m->disconnect_rc ? m->disconnect_rc : MOSQ_ERR_CONN_LOST;
    }
    if (rc != MOSQ_ERR_SUCCESS) {
      lost(m,
           rc == MOSQ_ERR_NO_CONN && m->disconnect_rc ? m->disconnect_rc : rc);
      return 0;
    }
  }
}

static void *run(void *arg) {
  ef_mqtt *m = arg;
  ef_mqtt_plan_init(&m->plan);
  while (!stopping(m)) {
    if (credentials_ready(m) != 0)
      continue;
    if (pause_until(m, m->plan.next_try_ms) != 0)
      break;
    m->disconnect_rc = 0;
    int connected = attempt(m);
    if (connected > 0 && serve(m) < 0) {
      mosquitto_disconnect(m->mosq); /* written at once when it can be */
      break;
    }
    if (connected < 0)
      break;
  }
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
  if (m->wake_fds[1] >= 0)
    poke(m->wake_fds[1]);
  if (m->client != NULL)
    ef_client_stop(m->client);
  if (m->thread_started)
    pthread_join(m->thread, NULL);
  if (m->mosq != NULL)
    mosquitto_destroy(m->mosq);
  SSL_CTX_free(m->tls);
  if (m->tokener != NULL)
    json_tokener_free(m->tokener);
  ef_client_free(m->client);
  if (m->pipe_fds[0] >= 0)
    ef_mqtt_take(m, NULL, NULL);
  free_events(m->spent);
  for (size_t i = 0; i < m->n_devices; i++)
    device_clear(&m->devices[i]);
  free(m->devices);
  close_pair(m->pipe_fds);
  close_pair(m->wake_fds);
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
  char id[EF_MQTT_CLIENT_ID_MAX + 1];
  if (ef_mqtt_client_id("", options->client_id_suffix, id) != 0) {
    snprintf(problem, EF_PROBLEM_LEN,
             "the MQTT client id suffix has 1 to %d letters, digits, '-' "
             "and '_'",
             EF_MQTT_SUFFIX_MAX);
    return NULL;
  }
  ef_mqtt *m = calloc(1, sizeof(*m));
  if (m == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "out of memory");
    return NULL;
  }
  m->pipe_fds[0] = m->pipe_fds[1] = m->wake_fds[0] = m->wake_fds[1] = -1;
  pthread_mutex_init(&m->lock, NULL);
  const ef_account *account = options->account;
  m->endpoint =
      copy_or_null(account->endpoint ? account->endpoint : EF_DEFAULT_ENDPOINT);
  m->access_key = copy_or_null(account->access_key);
  m->secret_key = copy_or_null(account->secret_key);
  m->ca_file = copy_or_null(account->ca_file);
  m->suffix = copy_or_null(options->client_id_suffix);
  m->timeout_ms =
      account->timeout_ms > 0 ? account->timeout_ms : EF_DEFAULT_TIMEOUT_MS;
  m->stream = options->stream;
  m->silence_ms = options->silence_ms;
  m->max_unknown =
      options->max_unknown > 0 ? options->max_unknown : EF_DEFAULT_MAX_UNKNOWN;
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
      pipe2(m->wake_fds, O_NONBLOCK | O_CLOEXEC) != 0 ||
      (m->tokener = json_tokener_new()) == NULL ||
      (m->client = ef_client_new(&client_options, &error)) == NULL ||
      (m->mosq = mosquitto_new(NULL, true, m)) == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "cannot set up MQTT: %s",
             error.kind != EF_OK ? error.message : "out of memory");
    ef_mqtt_free(m);
    return NULL;
  }
  if ((m->tls = tls_new(m)) == NULL) {
    snprintf(problem, EF_PROBLEM_LEN, "cannot set up MQTT: TLS cannot use %s",
             m->ca_file ? "the CA file" : "the system's CA certificates");
    ef_mqtt_free(m);
    return NULL;
  }
  /* The thread takes no signal meant for the program: collectd's SIGTERM
   * handler, or execd's stop and gather signals, must run where the
   * program waits for them (the thread inherits the mask it starts with,
   * and so do the name lookups it starts). */
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
