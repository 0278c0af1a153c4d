/* timer.c: a min-heap of connections by wake-up time, served by one
 * thread. */
#include "timer.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  uint64_t due_ns; /* CLOCK_MONOTONIC */
  struct MHD_Connection *connection;
} wake_up;

struct sim_timer {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  pthread_t thread;
  wake_up *heap;
  size_t len, cap;
  /* Connections taken off the heap and not yet resumed: draining waits
   * for them too. */
  unsigned resuming;
  bool draining;
  bool stopping;
};

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void swap(wake_up *a, wake_up *b) {
  wake_up held = *a;
  *a = *b;
  *b = held;
}

static int push(sim_timer *timer, wake_up entry) {
  if (timer->len == timer->cap) {
    size_t cap = timer->cap ? timer->cap * 2 : 64;
    wake_up *heap = realloc(timer->heap, cap * sizeof(*heap));
    if (heap == NULL)
      return -1;
    timer->heap = heap;
    timer->cap = cap;
  }
  size_t at = timer->len++;
  timer->heap[at] = entry;
  while (at > 0 && timer->heap[(at - 1) / 2].due_ns > timer->heap[at].due_ns) {
    swap(&timer->heap[(at - 1) / 2], &timer->heap[at]);
    at = (at - 1) / 2;
  }
  return 0;
}

static wake_up pop(sim_timer *timer) {
  wake_up first = timer->heap[0];
  timer->heap[0] = timer->heap[--timer->len];
  for (size_t at = 0;;) {
    size_t smallest = at;
    for (size_t child = 2 * at + 1; child <= 2 * at + 2; child++)
      if (child < timer->len &&
          timer->heap[child].due_ns < timer->heap[smallest].due_ns)
        smallest = child;
    if (smallest == at)
      break;
    swap(&timer->heap[at], &timer->heap[smallest]);
    at = smallest;
  }
  return first;
}

/* Resumes the first connection. MHD calls our content reader holding a
 * lock of its own, and the reader takes ours: so never call into MHD while
 * holding ours. Called and returns with the lock held. */
static void resume_first(sim_timer *timer) {
  struct MHD_Connection *connection = pop(timer).connection;
  timer->resuming++;
  pthread_mutex_unlock(&timer->lock);
  MHD_resume_connection(connection);
  pthread_mutex_lock(&timer->lock);
  timer->resuming--;
  pthread_cond_broadcast(&timer->changed);
}

static void *run(void *arg) {
  sim_timer *timer = arg;
  pthread_mutex_lock(&timer->lock);
  while (!timer->stopping) {
    if (timer->len == 0) {
      pthread_cond_wait(&timer->changed, &timer->lock);
      continue;
    }
    uint64_t due = timer->heap[0].due_ns;
    if (due <= monotonic_ns()) {
      resume_first(timer);
      continue;
    }
    struct timespec until = {.tv_sec = (time_t)(due / 1000000000u),
                             .tv_nsec = (long)(due % 1000000000u)};
    pthread_cond_timedwait(&timer->changed, &timer->lock, &until);
  }
  pthread_mutex_unlock(&timer->lock);
  return NULL;
}

sim_timer *sim_timer_start(void) {
  sim_timer *timer = calloc(1, sizeof(*timer));
  if (timer == NULL)
    return NULL;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&timer->changed, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&timer->lock, NULL);
  if (pthread_create(&timer->thread, NULL, run, timer) != 0) {
    pthread_cond_destroy(&timer->changed);
    pthread_mutex_destroy(&timer->lock);
    free(timer);
    return NULL;
  }
  return timer;
}

void sim_timer_resume_after(sim_timer *timer, struct MHD_Connection *connection,
                            unsigned long ms) {
  wake_up entry = {.due_ns = monotonic_ns() + (uint64_t)ms * 1000000u,
                   .connection = connection};
  pthread_mutex_lock(&timer->lock);
  bool queued = !timer->draining && push(timer, entry) == 0;
  if (queued)
    pthread_cond_broadcast(&timer->changed);
  pthread_mutex_unlock(&timer->lock);
  /* Draining, or no memory to wait in: answer now rather than never. */
  if (!queued)
    MHD_resume_connection(connection);
}

void sim_timer_drain(sim_timer *timer) {
  pthread_mutex_lock(&timer->lock);
  timer->draining = true;
  while (timer->len > 0)
    resume_first(timer);
  while (timer->resuming > 0)
    pthread_cond_wait(&timer->changed, &timer->lock);
  pthread_mutex_unlock(&timer->lock);
}

bool sim_timer_draining(sim_timer *timer) {
  pthread_mutex_lock(&timer->lock);
  bool draining = timer->draining;
  pthread_mutex_unlock(&timer->lock);
  return draining;
}

void sim_timer_free(sim_timer *timer) {
  if (timer == NULL)
    return;
  pthread_mutex_lock(&timer->lock);
  timer->stopping = true;
  pthread_cond_broadcast(&timer->changed);
  pthread_mutex_unlock(&timer->lock);
  pthread_join(timer->thread, NULL);
  pthread_cond_destroy(&timer->changed);
  pthread_mutex_destroy(&timer->lock);
  free(timer->heap);
  free(timer);
}
