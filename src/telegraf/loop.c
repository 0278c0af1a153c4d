/* loop.c: waiting for stdin lines, the interval and stop signals. */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static void (*stop_hook)(void);

static void request_stop(int signo) {
  (void)signo;
  stop_requested = 1;
  if (stop_hook != NULL)
    stop_hook();
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stop signals stay blocked while the flag is checked and unblocked
 * inside ppoll and during a tick: one arriving between a check of the flag
 * and the wait is not lost, and one arriving during a tick stops it. */
static void catch_stop_signals(sigset_t *before, sigset_t *waiting) {
  struct sigaction action = {.sa_handler = request_stop};
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  stop_requested = 0;
  sigprocmask(SIG_BLOCK, &blocked, before);
  *waiting = *before;
  sigdelset(waiting, SIGTERM);
  sigdelset(waiting, SIGINT);
}

/* Waits for input or the next slot (due_ms < 0: no slot): 1 when input
 * arrived, 0 when the slot came, -1 on a stop signal (errno 0) or an
 * error. */
static int wait_for(int input_fd, int64_t due_ms, const sigset_t *waiting) {
  struct pollfd pfd = {.fd = input_fd, .events = POLLIN};
  for (;;) {
    struct timespec timeout, *timeout_p = NULL;
    if (due_ms >= 0) {
      int64_t left = due_ms - monotonic_ms();
      left = left < 0 ? 0 : left;
      timeout = (struct timespec){.tv_sec = left / 1000,
                                  .tv_nsec = (left % 1000) * 1000000};
      timeout_p = &timeout;
    }
    int ready = ppoll(&pfd, 1, timeout_p, waiting);
    if (stop_requested) {
      errno = 0;
      return -1;
    }
    if (ready >= 0)
      return ready > 0;
    if (errno != EINTR)
      return -1;
  }
}

/* Reads what input holds: 1 when it held a line end, 0 when not, -1 at its
 * end (errno 0) or on an error. */
static int take_lines(int input_fd) {
  char buf[4096];
  ssize_t got = read(input_fd, buf, sizeof(buf));
  if (got < 0)
    return errno == EINTR || errno == EAGAIN ? 0 : -1;
  if (got == 0) {
    errno = 0;
    return -1;
  }
  return memchr(buf, '\n', (size_t)got) != NULL;
}

int tg_loop_run(int input_fd, long interval_ms, int (*tick)(void *ctx),
                void *ctx, void (*stop)(void)) {
  sigset_t before, waiting;
  stop_hook = stop;
  catch_stop_signals(&before, &waiting);
  int64_t due_ms = interval_ms > 0 ? monotonic_ms() : -1;
  int status = 0;
  for (;;) {
    int lines = 0;
    int event = wait_for(input_fd, due_ms, &waiting);
    /* Lines that came together, or while the last tick ran, make one. */
    while (event > 0) {
      int got = take_lines(input_fd);
      if (got < 0) {
        event = -1;
        break;
      }
      lines |= got;
      event = wait_for(input_fd, monotonic_ms(), &waiting);
    }
    int stopping = event < 0, failed = stopping && errno != 0;
    int64_t now = monotonic_ms();
    int slot = due_ms >= 0 && now >= due_ms;
    while (slot && due_ms <= now)
      due_ms += interval_ms;
    /* The lines before the end of input still get their answer. */
    if (!failed && !stop_requested && (lines || (slot && !stopping))) {
      sigset_t blocked;
      sigprocmask(SIG_SETMASK, &waiting, &blocked);
      int ticked = tick(ctx);
      sigprocmask(SIG_SETMASK, &blocked, NULL);
      if (ticked != 0)
        failed = stopping = 1;
      stopping |= stop_requested;
    }
    if (stopping) {
      status = failed ? -1 : 0;
      break;
    }
  }
  sigprocmask(SIG_SETMASK, &before, NULL);
  stop_hook = NULL;
  return status;
}
