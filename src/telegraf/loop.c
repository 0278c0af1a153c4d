/* loop.c: waiting for stdin lines, the interval and signals. */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested, tick_requested;
static void (*stop_hook)(void);

static void request_stop(int signo) {
  (void)signo;
  stop_requested = 1;
  if (stop_hook != NULL)
    stop_hook();
}

static void request_tick(int signo) {
  (void)signo;
  tick_requested = 1;
}

/* Telegraf's inputs.execd asks for a gather with a line on stdin or, in its
 * signal modes of the same names, with SIGHUP, SIGUSR1 or SIGUSR2, whose
 * default action would end the process. */
static const struct {
  int signo;
  void (*handler)(int);
} caught[] = {
    {SIGTERM, request_stop}, {SIGINT, request_stop},  {SIGHUP, request_tick},
    {SIGUSR1, request_tick}, {SIGUSR2, request_tick},
};
#define N_CAUGHT (sizeof(caught) / sizeof(caught[0]))

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caught signals stay blocked while a flag is checked, and are
 * unblocked inside ppoll and during a tick: one arriving between a check
 * and the wait is not lost, and a stop arriving during a tick reaches the
 * stop hook at once. They are blocked before the handlers are set, so
 * that none is lost in between either. */
static void catch_signals(sigset_t *before, sigset_t *waiting) {
  sigset_t blocked;
  sigemptyset(&blocked);
  for (size_t i = 0; i < N_CAUGHT; i++)
    sigaddset(&blocked, caught[i].signo);
  sigprocmask(SIG_BLOCK, &blocked, before);
  stop_requested = tick_requested = 0;
  *waiting = *before;
  for (size_t i = 0; i < N_CAUGHT; i++) {
    struct sigaction action = {.sa_handler = caught[i].handler};
    sigemptyset(&action.sa_mask);
    sigaction(caught[i].signo, &action, NULL);
    sigdelset(waiting, caught[i].signo);
  }
}

/* What a wait ended with. */
enum {
  WAIT_STOP = -1,
  WAIT_SLOT = 0,
  WAIT_INPUT = 1,
  WAIT_SIGNAL = 2,
  WAIT_EVENT = 3
};

/* Waits for input, a tick signal, an event (when events is set and the
 * output's reader is not stalled) or the next slot (due_ms < 0: no slot),
 * writing the output meanwhile as its descriptor takes it. WAIT_STOP is a
 * stop signal (errno 0) or an error. A ppoll may take only one of several
 * pending signals: the waits with no time left that follow take the
 * others. */
static int wait_for(const tg_loop *loop, int events, int64_t due_ms,
                    const sigset_t *waiting) {
  tg_output *output = loop->output;
  for (;;) {
    /* The flags are checked with the signals blocked, and ppoll unblocks
     * them atomically: a signal that came during a tick (when they are
     * unblocked) is seen here, one that comes later ends the ppoll. */
    if (stop_requested) {
      errno = 0;
      return WAIT_STOP;
    }
    if (tick_requested) {
      tick_requested = 0;
      return WAIT_SIGNAL;
    }
    int writing = output != NULL && tg_output_pending(output) > 0;
    int stalled = output != NULL && tg_output_stalled(output);
    struct pollfd pfd[3] = {
        {.fd = loop->input_fd, .events = POLLIN},
        {.fd = events && !stalled ? loop->event_fd : -1, .events = POLLIN},
        {.fd = writing ? tg_output_fd(output) : -1, .events = POLLOUT}};
    struct timespec timeout, *timeout_p = NULL;
    if (due_ms >= 0) {
      int64_t left = due_ms - monotonic_ms();
      left = left < 0 ? 0 : left;
      timeout = (struct timespec){.tv_sec = left / 1000,
                                  .tv_nsec = (left % 1000) * 1000000};
      timeout_p = &timeout;
    }
    int ready = ppoll(pfd, 3, timeout_p, waiting);
    if (ready < 0 && errno == EINTR)
      continue;
    if (stop_requested) {
      errno = 0;
      return WAIT_STOP;
    }
    if (ready > 0 && pfd[2].revents != 0) {
      if (tg_output_flush(output) != 0)
        return WAIT_STOP; /* errno: why */
      if (pfd[0].revents == 0 && pfd[1].revents == 0)
        continue;
    }
    if (ready > 0 && pfd[0].revents != 0)
      return WAIT_INPUT;
    if (ready > 0)
      return WAIT_EVENT;
    if (ready == 0)
      return WAIT_SLOT;
    return WAIT_STOP;
  }
}

/* Whether events may wait that can be taken now (the output's reader is
 * not stalled): looked for whether or not the descriptor says so yet. */
static int events_may_wait(const tg_loop *loop) {
  return loop->event_fd >= 0 &&
         (loop->output == NULL || !tg_output_stalled(loop->output));
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

/* Runs fn(ctx) with the caught signals unblocked, so that a stop reaches
 * the stop hook at once; 1 when it failed. */
static int run_unblocked(int (*fn)(void *ctx), void *ctx,
                         const sigset_t *waiting) {
  sigset_t blocked;
  sigprocmask(SIG_SETMASK, waiting, &blocked);
  int failed = fn(ctx) != 0;
  sigprocmask(SIG_SETMASK, &blocked, NULL);
  return failed;
}

int tg_loop_run(const tg_loop *loop) {
  sigset_t before, waiting;
  stop_hook = loop->stop;
  catch_signals(&before, &waiting);
  long interval_ms = loop->interval_ms;
  int64_t due_ms = interval_ms > 0 ? monotonic_ms() : -1;
  int status = 0;
  for (;;) {
    int requested = 0, events = 0;
    int event = wait_for(loop, loop->event_fd >= 0, due_ms, &waiting);
    /* Lines and signals that came together, or while the last tick ran,
     * make one request; an event is taken once per round (its descriptor
     * stays readable until it is). */
    while (event > WAIT_SLOT) {
      int got = 1;
      if (event == WAIT_INPUT)
        got = take_lines(loop->input_fd);
      if (got < 0) {
        event = WAIT_STOP;
        break;
      }
      if (event == WAIT_EVENT)
        events = 1;
      else
        requested |= got;
      event = wait_for(loop, !events && loop->event_fd >= 0, monotonic_ms(),
                       &waiting);
    }
    int stopping = event == WAIT_STOP, failed = stopping && errno != 0;
    int64_t now = monotonic_ms();
    int slot = due_ms >= 0 && now >= due_ms;
    while (slot && due_ms <= now)
      due_ms += interval_ms;
    if (!failed && !stop_requested && events &&
        run_unblocked(loop->event, loop->ctx, &waiting))
      failed = stopping = 1;
    /* The requests before the end of input still get their answer. */
    if (!failed && !stop_requested && (requested || (slot && !stopping))) {
      if (run_unblocked(loop->tick, loop->ctx, &waiting))
        failed = stopping = 1;
      stopping |= stop_requested;
    }
    /* At the end of input, what was pushed before it is still written. */
    if (stopping && !failed && !stop_requested && events_may_wait(loop) &&
        run_unblocked(loop->event, loop->ctx, &waiting))
      failed = 1;
    if (stopping) {
      status = failed ? -1 : 0;
      break;
    }
  }
  sigprocmask(SIG_SETMASK, &before, NULL);
  stop_hook = NULL;
  return status;
}
