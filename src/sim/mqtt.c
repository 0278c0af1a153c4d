/* mqtt.c: the publisher (libmosquitto) and periodic publishing. */
#include "mqtt.h"

#include "api.h"
#include "clock.h"
#include "groups.h"
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define KEEPALIVE_S 30
/* A test restarts its broker and wants the data back within seconds. */
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 2
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

static const char *const shapes_names[] = {
    [SIM_MQTT_MIXED] = "mixed",
    [SIM_MQTT_TYPECODE_ONLY] = "typecode",
    [SIM_MQTT_CMDFUNC_ONLY] = "cmdfunc",
};

struct sim_mqtt {
  const sim_ctx *ctx;
  bool library_ready;
  struct mosquitto *mosq;
  char *account;
  char *client_id;
  bool verbose;
  FILE *log;
  pthread_mutex_t log_lock;

  atomic_bool connected;
  /* TCP_NODELAY on the connection, as the kernel has it (getsockopt at
   * each connect): what a test checks instead of timing messages. */
  atomic_bool nodelay;
  atomic_ulong connects, disconnects, published, publish_failures, skipped;
  atomic_ullong next_id;
  /* The last CONNACK's words and the library's last error, for the
   * state. */
  char connack[96];
  char error[160];
  pthread_mutex_t words_lock;

  /* Per device: how many messages periodic publishing picked for it (the
   * next group and shape follow from it), and whether it is silent. */
  atomic_ulong *picked;
  atomic_bool *silent;
  /* Per device, the group names of its family (shared, not owned). */
  struct json_object **groups;
  /* Each family's group names, owned, at most one per family. */
  struct json_object **family_groups;
  const void **families;
  size_t n_families;

  /* Periodic publishing: guarded by lock, the thread waits on wake. */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  bool thread_started;
  bool stopping;
  unsigned every_ms;
  sim_mqtt_shapes shapes;
  /* Changes whenever the period does, so a round in progress restarts. */
  unsigned long generation;
};

static void set_words(sim_mqtt *m, char *slot, size_t size, const char *words) {
  pthread_mutex_lock(&m->words_lock);
  snprintf(slot, size, "%s", words);
  pthread_mutex_unlock(&m->words_lock);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  sim_mqtt *m = obj;
  set_words(m, m->connack, sizeof(m->connack), mosquitto_connack_string(rc));
  if (rc != 0) {
    /* Wrong credentials do not heal by retrying: say so and stay away. */
    fprintf(stderr, "ecoflow-sim: the broker refused the publisher: %s\n",
            mosquitto_connack_string(rc));
    mosquitto_disconnect(mosq);
    return;
  }
  int nodelay = 0;
  socklen_t size = sizeof(nodelay);
  if (getsockopt(mosquitto_socket(mosq), IPPROTO_TCP, TCP_NODELAY, &nodelay,
                 &size) != 0)
    nodelay = 0;
  atomic_store(&m->nodelay, nodelay != 0);
  atomic_fetch_add(&m->connects, 1);
  atomic_store(&m->connected, true);
  if (m->verbose)
    fprintf(stderr, "ecoflow-sim: publisher connected as %s\n", m->client_id);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  sim_mqtt *m = obj;
  if (atomic_exchange(&m->connected, false))
    atomic_fetch_add(&m->disconnects, 1);
  if (m->verbose)
    fprintf(stderr, "ecoflow-sim: publisher disconnected (%s)\n",
            mosquitto_strerror(rc));
}

static void on_log(struct mosquitto *mosq, void *obj, int level,
                   const char *text) {
  (void)mosq;
  sim_mqtt *m = obj;
  if (level == MOSQ_LOG_ERR)
    set_words(m, m->error, sizeof(m->error), text);
  if (level == MOSQ_LOG_ERR || (m->verbose && level == MOSQ_LOG_WARNING))
    fprintf(stderr, "ecoflow-sim: mqtt: %s\n", text);
}

/* The group names of each family in the fleet, from one device of it. */
static int learn_groups(sim_mqtt *m) {
  const sim_fleet *fleet = &m->ctx->fleet;
  int64_t now = sim_clock_now();
  for (size_t i = 0; i < fleet->len; i++) {
    const void *family = fleet->devices[i].family;
    size_t f = 0;
    while (f < m->n_families && m->families[f] != family)
      f++;
    if (f == m->n_families) {
      struct json_object *flat =
          sim_api_device_data(m->ctx, i, now, NULL, NULL);
      m->family_groups[f] = flat != NULL ? sim_groups_of(flat) : NULL;
      json_object_put(flat);
      if (m->family_groups[f] == NULL)
        return -1;
      m->families[f] = family;
      m->n_families++;
    }
    m->groups[i] = m->family_groups[f];
  }
  return 0;
}

static void log_sent(sim_mqtt *m, const sim_mqtt_sent *sent,
                     sim_msg_shape shape) {
  if (m->log == NULL)
    return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  pthread_mutex_lock(&m->log_lock);
  /* Milliseconds with a fraction: a latency on loopback is about one
   * millisecond, so whole ones would be most of the figure. */
  fprintf(m->log, "%lld.%03ld %llu %s %s %s\n",
          (long long)now.tv_sec * 1000 + now.tv_nsec / NS_PER_MS,
          now.tv_nsec / 1000 % 1000, sent->id, sent->topic,
          sim_msg_shape_name(shape), sent->group[0] ? sent->group : "-");
  pthread_mutex_unlock(&m->log_lock);
}

/* The group of the device's n-th pick, and the shape periodic publishing
 * gives it: with both shapes, each group alternates between them from one
 * round of groups to the next. */
static const char *pick(sim_mqtt *m, size_t device, unsigned long n,
                        sim_mqtt_shapes shapes, sim_msg_shape *shape) {
  size_t count = json_object_array_length(m->groups[device]);
  if (count == 0)
    return NULL;
  if (shapes == SIM_MQTT_MIXED)
    *shape = (n + n / count) % 2 ? SIM_MSG_CMDFUNC : SIM_MSG_TYPECODE;
  else
    *shape =
        shapes == SIM_MQTT_CMDFUNC_ONLY ? SIM_MSG_CMDFUNC : SIM_MSG_TYPECODE;
  return json_object_get_string(
      json_object_array_get_idx(m->groups[device], n % count));
}

/* The payload of message for device; *glitch_sent says whether it carries
 * a counterback glitch. 404 or 503 (out of memory) on failure. */
static unsigned build(sim_mqtt *m, size_t device, const sim_mqtt_message *msg,
                      const char *group, uint64_t id, char **payload,
                      bool *glitch_sent, char *err, size_t err_size) {
  *glitch_sent = false;
  if (msg->shape == SIM_MSG_STATUS) {
    bool online = msg->status >= 0
                      ? msg->status != 0
                      : sim_faults_get(m->ctx->faults, (ssize_t)device).kind !=
                            SIM_FAULT_OFFLINE;
    *payload = sim_msg_status(online, id, sim_clock_now_ms());
  } else {
    char glitched[SIM_GLITCH_PATH_SIZE];
    struct json_object *flat =
        sim_api_device_data(m->ctx, device, sim_clock_now(), group, glitched);
    *payload = flat != NULL ? sim_msg_quota(flat, group, msg->shape, id) : NULL;
    *glitch_sent = sim_group_has(group, glitched);
    json_object_put(flat);
    if (*payload == NULL && flat != NULL) {
      snprintf(err, err_size, "the device has no group \"%s\"", group);
      return 404;
    }
  }
  if (*payload == NULL) {
    snprintf(err, err_size, "out of memory");
    return 503;
  }
  return 0;
}

unsigned sim_mqtt_publish(sim_mqtt *m, size_t device,
                          const sim_mqtt_message *msg, sim_mqtt_sent *sent,
                          char *err, size_t err_size) {
  *sent = (sim_mqtt_sent){0};
  const char *group = msg->group;
  sim_msg_shape ignored;
  if (msg->shape != SIM_MSG_STATUS && group == NULL)
    group = pick(m, device, atomic_fetch_add(&m->picked[device], 1),
                 SIM_MQTT_MIXED, &ignored);
  if (msg->shape != SIM_MSG_STATUS && group == NULL) {
    snprintf(err, err_size, "the device has no quotas");
    return 404;
  }
  if (!atomic_load(&m->connected)) {
    atomic_fetch_add(&m->skipped, 1);
    snprintf(err, err_size, "not connected to the broker");
    return 503;
  }
  sent->id = atomic_fetch_add(&m->next_id, 1);
  bool glitch_sent = false;
  unsigned status = build(m, device, msg, group, sent->id, &sent->payload,
                          &glitch_sent, err, err_size);
  if (status != 0)
    return status;
  snprintf(sent->group, sizeof(sent->group), "%s",
           msg->shape == SIM_MSG_STATUS ? "" : group);
  sent->topic =
      sim_msg_topic(m->account, m->ctx->fleet.devices[device].sn, msg->shape);
  int rc = sent->topic != NULL ? mosquitto_publish(m->mosq, NULL, sent->topic,
                                                   (int)strlen(sent->payload),
                                                   sent->payload, 0, false)
                               : MOSQ_ERR_NOMEM;
  if (rc != MOSQ_ERR_SUCCESS) {
    atomic_fetch_add(&m->publish_failures, 1);
    snprintf(err, err_size, "not published: %s", mosquitto_strerror(rc));
    free(sent->topic);
    free(sent->payload);
    *sent = (sim_mqtt_sent){0};
    return 503;
  }
  atomic_fetch_add(&m->published, 1);
  if (glitch_sent)
    sim_api_glitch_delivered(m->ctx, device);
  log_sent(m, sent, msg->shape);
  return 0;
}

/* One device's turn in periodic publishing. */
static void publish_turn(sim_mqtt *m, size_t device, sim_mqtt_shapes shapes) {
  if (atomic_load(&m->silent[device]) ||
      sim_faults_get(m->ctx->faults, (ssize_t)device).kind == SIM_FAULT_OFFLINE)
    return;
  sim_mqtt_message msg = {.status = -1};
  msg.group = pick(m, device, atomic_fetch_add(&m->picked[device], 1), shapes,
                   &msg.shape);
  sim_mqtt_sent sent;
  char err[128];
  if (msg.group != NULL &&
      sim_mqtt_publish(m, device, &msg, &sent, err, sizeof(err)) == 0) {
    free(sent.topic);
    free(sent.payload);
  }
}

static struct timespec plus_ns(struct timespec t, long long ns) {
  long long total = t.tv_nsec + ns % NS_PER_S;
  t.tv_sec += (time_t)(ns / NS_PER_S + total / NS_PER_S);
  t.tv_nsec = (long)(total % NS_PER_S);
  return t;
}

static bool before(struct timespec a, struct timespec b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static struct timespec monotonic_now(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now;
}

/* Waits until due unless the period changes or the simulator stops first;
 * returns whether it is still this round's time. Called with lock held. */
static bool wait_until(sim_mqtt *m, struct timespec due,
                       unsigned long generation) {
  while (!m->stopping && m->generation == generation &&
         before(monotonic_now(), due))
    pthread_cond_timedwait(&m->wake, &m->lock, &due);
  return !m->stopping && m->generation == generation;
}

/* Rounds of every_ms each: device i publishes i/n of the way through, so a
 * thousand devices at one second make one message a millisecond. A round
 * that falls behind by a whole period starts afresh from now. */
static void *periodic_main(void *arg) {
  sim_mqtt *m = arg;
  size_t n = m->ctx->fleet.len;
  pthread_mutex_lock(&m->lock);
  struct timespec round = monotonic_now();
  while (!m->stopping) {
    unsigned long generation = m->generation;
    long long period_ns = (long long)m->every_ms * NS_PER_MS;
    sim_mqtt_shapes shapes = m->shapes;
    if (period_ns == 0) {
      pthread_cond_wait(&m->wake, &m->lock);
      round = monotonic_now();
      continue;
    }
    bool on_time = true;
    for (size_t i = 0; on_time && i < n; i++) {
      on_time =
          wait_until(m, plus_ns(round, period_ns / (long long)n * (long long)i),
                     generation);
      if (on_time) {
        pthread_mutex_unlock(&m->lock);
        publish_turn(m, i, shapes);
        pthread_mutex_lock(&m->lock);
      }
    }
    /* The next round begins where this one ends, unless the period
     * changed or the rounds fell a whole period behind. */
    round = plus_ns(round, period_ns);
    if (!on_time || before(plus_ns(round, period_ns), monotonic_now()))
      round = monotonic_now();
  }
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

void sim_mqtt_set_period(sim_mqtt *m, unsigned every_ms,
                         sim_mqtt_shapes shapes) {
  pthread_mutex_lock(&m->lock);
  m->every_ms = every_ms;
  m->shapes = shapes;
  m->generation++;
  pthread_cond_signal(&m->wake);
  pthread_mutex_unlock(&m->lock);
}

void sim_mqtt_set_silent(sim_mqtt *m, size_t device, bool silent) {
  atomic_store(&m->silent[device], silent);
}

void sim_mqtt_online_changed(sim_mqtt *m, size_t device, bool online) {
  sim_mqtt_message msg = {.shape = SIM_MSG_STATUS, .status = online};
  sim_mqtt_sent sent;
  char err[128];
  if (sim_mqtt_publish(m, device, &msg, &sent, err, sizeof(err)) == 0) {
    free(sent.topic);
    free(sent.payload);
  }
}

struct json_object *sim_mqtt_state(sim_mqtt *m) {
  struct json_object *state = json_object_new_object();
  struct json_object *silent = json_object_new_array();
  if (state == NULL || silent == NULL) {
    json_object_put(state);
    json_object_put(silent);
    return NULL;
  }
  const sim_fleet *fleet = &m->ctx->fleet;
  for (size_t i = 0; i < fleet->len; i++)
    if (atomic_load(&m->silent[i]))
      json_object_array_add(silent,
                            json_object_new_string(fleet->devices[i].sn));
  static const struct {
    const char *name;
    size_t offset;
  } counters[] = {
      {"connects", offsetof(sim_mqtt, connects)},
      {"disconnects", offsetof(sim_mqtt, disconnects)},
      {"published", offsetof(sim_mqtt, published)},
      {"publish_failures", offsetof(sim_mqtt, publish_failures)},
      {"skipped", offsetof(sim_mqtt, skipped)},
  };
  json_object_object_add(state, "connected",
                         json_object_new_boolean(atomic_load(&m->connected)));
  json_object_object_add(state, "tcp_nodelay",
                         json_object_new_boolean(atomic_load(&m->nodelay)));
  for (size_t i = 0; i < sizeof(counters) / sizeof(*counters); i++)
    json_object_object_add(
        state, counters[i].name,
        json_object_new_int64((int64_t)atomic_load(
            (atomic_ulong *)((char *)m + counters[i].offset))));
  pthread_mutex_lock(&m->words_lock);
  json_object_object_add(state, "connack", json_object_new_string(m->connack));
  json_object_object_add(state, "error", json_object_new_string(m->error));
  pthread_mutex_unlock(&m->words_lock);
  pthread_mutex_lock(&m->lock);
  json_object_object_add(state, "every_ms", json_object_new_int64(m->every_ms));
  json_object_object_add(state, "shapes",
                         json_object_new_string(shapes_names[m->shapes]));
  pthread_mutex_unlock(&m->lock);
  json_object_object_add(state, "client_id",
                         json_object_new_string(m->client_id));
  json_object_object_add(state, "account", json_object_new_string(m->account));
  json_object_object_add(state, "silent", silent);
  return state;
}

/* Everything but the connection: NULL when out of memory. */
static sim_mqtt *new_publisher(const sim_ctx *ctx,
                               const sim_mqtt_config *config) {
  size_t n = ctx->fleet.len ? ctx->fleet.len : 1;
  sim_mqtt *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return NULL;
  m->ctx = ctx;
  m->verbose = config->verbose;
  m->every_ms = config->every_ms;
  m->shapes = SIM_MQTT_MIXED;
  atomic_init(&m->next_id, 1);
  pthread_mutex_init(&m->log_lock, NULL);
  pthread_mutex_init(&m->words_lock, NULL);
  pthread_mutex_init(&m->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&m->wake, &attr);
  pthread_condattr_destroy(&attr);
  m->account = strdup(config->account);
  if (asprintf(&m->client_id, "ecoflow-sim-%s", config->user) < 0)
    m->client_id = NULL;
  m->picked = calloc(n, sizeof(*m->picked));
  m->silent = calloc(n, sizeof(*m->silent));
  m->groups = calloc(n, sizeof(*m->groups));
  m->family_groups = calloc(n, sizeof(*m->family_groups));
  m->families = calloc(n, sizeof(*m->families));
  if (m->account == NULL || m->client_id == NULL || m->picked == NULL ||
      m->silent == NULL || m->groups == NULL || m->family_groups == NULL ||
      m->families == NULL || learn_groups(m) != 0) {
    sim_mqtt_stop(m);
    return NULL;
  }
  return m;
}

/* The connection's settings, each checked (mosquitto.h): 0, or -1 with a
 * reason in err. */
static int configure(sim_mqtt *m, const sim_mqtt_config *config, char *err,
                     size_t err_size) {
  struct mosquitto *mosq = m->mosq;
  int rc =
      mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  /* The whole fleet shares this connection, where each device has its
   * own: with Nagle's algorithm a message would wait for the broker's
   * delayed ACK of the one before (up to 40 ms), a delay no device has. */
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_username_pw_set(mosq, config->user, config->password);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_tls_set(mosq, config->cafile,
                           config->cafile ? NULL : "/etc/ssl/certs", NULL, NULL,
                           NULL);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_tls_opts_set(mosq, 1 /* SSL_VERIFY_PEER */, NULL, NULL);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_tls_insecure_set(mosq, false);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_reconnect_delay_set(mosq, RECONNECT_MIN_S, RECONNECT_MAX_S,
                                       false);
  if (rc != MOSQ_ERR_SUCCESS) {
    snprintf(err, err_size, "MQTT publisher: %s%s%s", mosquitto_strerror(rc),
             config->cafile ? ", CA file " : "",
             config->cafile ? config->cafile : "");
    return -1;
  }
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_disconnect_callback_set(mosq, on_disconnect);
  mosquitto_log_callback_set(mosq, on_log);
  return 0;
}

sim_mqtt *sim_mqtt_start(const sim_ctx *ctx, const sim_mqtt_config *config,
                         char *err, size_t err_size) {
  sim_mqtt *m = new_publisher(ctx, config);
  if (m == NULL) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  m->library_ready = mosquitto_lib_init() == MOSQ_ERR_SUCCESS;
  m->mosq = m->library_ready ? mosquitto_new(m->client_id, true, m) : NULL;
  if (m->mosq == NULL) {
    snprintf(err, err_size, "MQTT publisher: %s", strerror(errno));
    sim_mqtt_stop(m);
    return NULL;
  }
  if (config->log_path != NULL &&
      (m->log = fopen(config->log_path, "a")) == NULL) {
    snprintf(err, err_size, "cannot open %s: %s", config->log_path,
             strerror(errno));
    sim_mqtt_stop(m);
    return NULL;
  }
  if (m->log != NULL)
    setvbuf(m->log, NULL, _IOLBF, 0);
  if (configure(m, config, err, err_size) != 0) {
    sim_mqtt_stop(m);
    return NULL;
  }
  /* A broker that is not up yet is not an error: the library's thread
   * keeps trying. */
  int rc = mosquitto_connect_async(m->mosq, config->host, (int)config->port,
                                   KEEPALIVE_S);
  if (rc != MOSQ_ERR_SUCCESS && config->verbose)
    fprintf(stderr, "ecoflow-sim: broker %s:%u not reached yet: %s\n",
            config->host, config->port,
            rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
  rc = mosquitto_loop_start(m->mosq);
  if (rc == MOSQ_ERR_SUCCESS)
    m->thread_started = pthread_create(&m->thread, NULL, periodic_main, m) == 0;
  if (rc != MOSQ_ERR_SUCCESS || !m->thread_started) {
    snprintf(err, err_size, "MQTT publisher: cannot start its threads");
    sim_mqtt_stop(m);
    return NULL;
  }
  return m;
}

void sim_mqtt_stop(sim_mqtt *m) {
  if (m == NULL)
    return;
  if (m->thread_started) {
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
  }
  if (m->mosq != NULL) {
    /* Disconnecting ends the library's loop, connected or not. */
    mosquitto_disconnect(m->mosq);
    mosquitto_loop_stop(m->mosq, false);
    mosquitto_destroy(m->mosq);
  }
  if (m->library_ready)
    mosquitto_lib_cleanup();
  if (m->log != NULL)
    fclose(m->log);
  for (size_t f = 0; m->family_groups != NULL && f < m->n_families; f++)
    json_object_put(m->family_groups[f]);
  pthread_cond_destroy(&m->wake);
  pthread_mutex_destroy(&m->lock);
  pthread_mutex_destroy(&m->words_lock);
  pthread_mutex_destroy(&m->log_lock);
  free(m->families);
  free(m->family_groups);
  free(m->groups);
  free(m->silent);
  free(m->picked);
  free(m->client_id);
  free(m->account);
  free(m);
}
