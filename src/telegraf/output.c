/* output.c: a bounded queue in front of stdout, written without
 * waiting. */
#include "output.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often a wait for room looks at the stop flag. */
#define WAIT_SLICE_MS 100
/* The queue's first size, and what an empty queue keeps: a backlog (a
 * reader that lagged for a while) grows it, and it is given back once
 * written, so that a process that runs for months holds no more than
 * this between backlogs, whatever its worst one was. */
#define KEPT_BYTES (64 * 1024)

typedef enum { KIND_PIPE, KIND_SOCKET, KIND_OTHER } fd_kind;

struct tg_output {
  int fd;
  fd_kind kind;
  FILE *log;
  FILE *stream;
  char *data; /* waiting: data[head, head + len) */
  size_t head, len, cap;
  int stalled;
  int failed; /* 0, or the errno writing failed with, for good */
  int held;   /* tg_output_hold */
  tg_output_dropped dropped, dropped_in_stall;
};

static volatile sig_atomic_t stop_asked;

void tg_output_stop_all(void) { stop_asked = 1; }

static int64_t monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* What fd takes now of data, without waiting: bytes written, 0 when it
 * has no room, -1 when it failed for good. */
static ssize_t put(tg_output *o, const char *data, size_t len) {
  ssize_t written;
  switch (o->kind) {
  case KIND_PIPE: {
    struct pollfd pfd = {.fd = o->fd, .events = POLLOUT};
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLOUT | POLLERR)))
      return 0;
    written = write(o->fd, data, len < PIPE_BUF ? len : PIPE_BUF);
    break;
  }
  case KIND_SOCKET:
    written = send(o->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    break;
  default:
    written = write(o->fd, data, len);
    break;
  }
  if (written >= 0)
    return written;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* -1 with errno the failure's once writing failed for good, else 0. */
static int failure(const tg_output *o) {
  if (!o->failed)
    return 0;
  errno = o->failed;
  return -1;
}

int tg_output_flush(tg_output *o) {
  while (o->len > 0 && !o->failed) {
    ssize_t written = put(o, o->data + o->head, o->len);
    if (written < 0)
      o->failed = errno ? errno : EIO;
    if (written <= 0)
      break;
    o->head += (size_t)written;
    o->len -= (size_t)written;
  }
  if (o->len == 0) {
    o->head = 0;
    if (o->cap > KEPT_BYTES) {
      free(o->data);
      o->data = NULL;
      o->cap = 0;
    }
  }
  if (o->stalled && o->len <= TG_OUTPUT_MAX_BYTES / 2) {
    o->stalled = 0;
    fprintf(o->log,
            "I! ecoflow: stdout is read again; %lu writes (%llu bytes of "
            "line protocol) were dropped while it was not\n",
            o->dropped_in_stall.writes, o->dropped_in_stall.bytes);
    fflush(o->log);
    o->dropped_in_stall = (tg_output_dropped){0};
  }
  return failure(o);
}

/* Room for len more bytes at the end of the queue; 0, or -1. */
static int make_room(tg_output *o, size_t len) {
  if (o->head > 0 && o->head + o->len + len > o->cap) {
    memmove(o->data, o->data + o->head, o->len);
    o->head = 0;
  }
  if (o->len + len <= o->cap)
    return 0;
  size_t cap = o->cap ? o->cap : KEPT_BYTES;
  while (cap < o->len + len)
    cap *= 2;
  char *grown = realloc(o->data, cap);
  if (grown == NULL)
    return -1;
  o->data = grown;
  o->cap = cap;
  return 0;
}

/* Writes as the descriptor takes it until at most keep bytes wait, for
 * wait_ms at most (and no longer than a stop, when stoppable). */
static void drain_to(tg_output *o, size_t keep, int wait_ms, int stoppable) {
  int64_t deadline = monotonic_ms() + wait_ms;
  while (o->len > keep && !o->failed && !(stoppable && stop_asked)) {
    int64_t left = deadline - monotonic_ms();
    if (left <= 0)
      break;
    struct pollfd pfd = {.fd = o->fd, .events = POLLOUT};
    poll(&pfd, 1, (int)(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS));
    tg_output_flush(o);
  }
}

/* Waits up to TG_OUTPUT_WAIT_MS for the queue to have room for len more
 * bytes; 1 when it has. */
static int wait_for_room(tg_output *o, size_t len) {
  if (len > TG_OUTPUT_MAX_BYTES)
    return 0;
  drain_to(o, TG_OUTPUT_MAX_BYTES - len, TG_OUTPUT_WAIT_MS, 1);
  return o->len + len <= TG_OUTPUT_MAX_BYTES;
}

static void drop(tg_output *o, size_t len) {
  o->dropped.writes++;
  o->dropped.bytes += len;
  o->dropped_in_stall.writes++;
  o->dropped_in_stall.bytes += len;
  if (o->stalled)
    return;
  o->stalled = 1;
  fprintf(o->log,
          "W! ecoflow: stdout is not being read: %d MiB of line protocol "
          "wait; what comes now is dropped (whole lines) until it is read "
          "again; said once\n",
          TG_OUTPUT_MAX_BYTES / (1024 * 1024));
  fflush(o->log);
}

/* The stream's write: queued whole, or dropped whole; 0 (fopencookie's
 * error, never negative) once writing failed for good. */
static ssize_t queue_write(void *cookie, const char *data, size_t len) {
  tg_output *o = cookie;
  int writing = !o->held || o->len >= TG_OUTPUT_HELD_BYTES;
  if (writing)
    tg_output_flush(o);
  if (o->failed) {
    errno = o->failed;
    return 0;
  }
  if (o->stalled ||
      (o->len + len > TG_OUTPUT_MAX_BYTES && !wait_for_room(o, len)) ||
      make_room(o, len) != 0) {
    drop(o, len);
    return (ssize_t)len;
  }
  memcpy(o->data + o->head + o->len, data, len);
  o->len += len;
  if (writing)
    tg_output_flush(o);
  return (ssize_t)len;
}

void tg_output_hold(tg_output *o) { o->held = 1; }

int tg_output_release(tg_output *o) {
  o->held = 0;
  return tg_output_flush(o);
}

tg_output *tg_output_new(int fd, FILE *log) {
  tg_output *o = calloc(1, sizeof(*o));
  if (o == NULL)
    return NULL;
  struct stat st;
  o->fd = fd;
  o->log = log;
  o->kind = fstat(fd, &st) != 0    ? KIND_OTHER
            : S_ISFIFO(st.st_mode) ? KIND_PIPE
            : S_ISSOCK(st.st_mode) ? KIND_SOCKET
                                   : KIND_OTHER;
  o->stream =
      fopencookie(o, "w", (cookie_io_functions_t){.write = queue_write});
  /* Unbuffered: each write of the sink reaches the queue whole. */
  if (o->stream == NULL || setvbuf(o->stream, NULL, _IONBF, 0) != 0) {
    tg_output_free(o);
    return NULL;
  }
  return o;
}

void tg_output_free(tg_output *o) {
  if (o == NULL)
    return;
  if (o->stream != NULL)
    fclose(o->stream);
  free(o->data);
  free(o);
}

FILE *tg_output_stream(tg_output *o) { return o->stream; }

size_t tg_output_pending(const tg_output *o) { return o->len; }

int tg_output_stalled(const tg_output *o) { return o->stalled; }

size_t tg_output_capacity(const tg_output *o) { return o->cap; }

int tg_output_fd(const tg_output *o) { return o->fd; }

int tg_output_finish(tg_output *o, int wait_ms) {
  drain_to(o, 0, wait_ms, 0);
  if (o->len > 0 && !o->failed) {
    fprintf(o->log,
            "W! ecoflow: %zu bytes of line protocol were still not read at "
            "the end: left out\n",
            o->len);
    fflush(o->log);
  }
  return failure(o);
}

tg_output_dropped tg_output_dropped_get(const tg_output *o) {
  return o->dropped;
}
