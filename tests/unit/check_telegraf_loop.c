/* Unit tests of loop.c: the inputs.execd life cycle over a pipe. */
#include "loop.h"
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The signals the loop catches: tick requests and stop requests. */
static const int caught[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT};

typedef struct {
  int ticks;
  int fail_at;    /* tick number that returns -1, 0: never */
  int close_at;   /* tick number after which input ends, 0: never */
  int signal_at;  /* tick number during which signals arrive, 0: never */
  int signals[2]; /* those signals, 0: none */
  int write_fd;
  int event_fd; /* events: a byte each */
  int events;   /* taken */
  int pending;  /* events whose descriptor is not readable yet */
} ticker;

static int count_tick(void *ctx) {
  ticker *t = ctx;
  t->ticks++;
  for (size_t i = 0; i < 2 && t->ticks == t->signal_at && t->signals[i]; i++)
    raise(t->signals[i]); /* blocked during a tick: seen at the next wait */
  if (t->ticks == t->close_at) {
    close(t->write_fd);
    t->write_fd = -1;
  }
  return t->ticks == t->fail_at ? -1 : 0;
}

/* Runs the loop over a pipe that first holds input (and is then closed
 * unless keep_open). Returns the loop's status. */
static int run(ticker *t, const char *input, int keep_open, long interval_ms) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
  t->write_fd = fds[1];
  if (!keep_open) {
    close(fds[1]);
    t->write_fd = -1;
  }
  tg_loop loop = {.input_fd = fds[0],
                  .interval_ms = interval_ms,
                  .tick = count_tick,
                  .event_fd = -1,
                  .ctx = t};
  int status = tg_loop_run(&loop);
  close(fds[0]);
  if (t->write_fd >= 0)
    close(t->write_fd);
  return status;
}

static const struct {
  const char *rule;
  ticker setup;
  const char *input;
  int keep_open;
  long interval_ms;
  int status, ticks;
} cases[] = {
    {"no input, no tick", {0}, "", 0, 0, 0, 0},
    {"a line, then the end: the line gets its answer", {0}, "\n", 0, 0, 0, 1},
    {"lines that came together make one tick", {0}, "\n\n\n", 0, 0, 0, 1},
    {"text without a line end is no request", {0}, "partial", 0, 0, 0, 0},
    {"an interval ticks at start and on schedule",
     {.close_at = 3},
     "",
     1,
     20,
     0,
     3},
    {"a failing tick ends the loop", {.fail_at = 2}, "", 1, 10, -1, 2},
    {"SIGTERM during a tick ends the loop after it",
     {.signal_at = 1, .signals = {SIGTERM}},
     "\n",
     1,
     0,
     0,
     1},
    {"SIGHUP asks for a tick, as a line does",
     {.signal_at = 1, .signals = {SIGHUP}, .close_at = 2},
     "\n",
     1,
     0,
     0,
     2},
    {"SIGUSR1 asks for a tick",
     {.signal_at = 1, .signals = {SIGUSR1}, .close_at = 2},
     "\n",
     1,
     0,
     0,
     2},
    {"SIGUSR2 asks for a tick",
     {.signal_at = 1, .signals = {SIGUSR2}, .close_at = 2},
     "\n",
     1,
     0,
     0,
     2},
    {"requests by signal that pile up during a tick make one tick",
     {.signal_at = 1, .signals = {SIGHUP, SIGUSR2}, .close_at = 2},
     "\n",
     1,
     0,
     0,
     2},
    {"SIGTERM wins over a tick request that comes with it",
     {.signal_at = 1, .signals = {SIGUSR1, SIGTERM}},
     "\n",
     1,
     0,
     0,
     1},
};

START_TEST(life_cycle) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ticker t = cases[i].setup;
    int status =
        run(&t, cases[i].input, cases[i].keep_open, cases[i].interval_ms);
    ck_assert_msg(status == cases[i].status && t.ticks == cases[i].ticks,
                  "%s: status %d, %d ticks", cases[i].rule, status, t.ticks);
    /* The loop leaves the signal mask as it found it. */
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    for (size_t j = 0; j < sizeof(caught) / sizeof(caught[0]); j++)
      ck_assert_int_eq(sigismember(&mask, caught[j]), 0);
  }
}
END_TEST

static int count_event(void *ctx) {
  ticker *t = ctx;
  char byte;
  while (read(t->event_fd, &byte, 1) == 1)
    t->events++;
  return 0;
}

/* Runs the loop over input that has ended, with an event descriptor that
 * holds the bytes of said (an event each) and event to take them. Returns
 * the loop's status. */
static int run_to_the_end(ticker *t, const char *said, int (*event)(void *)) {
  int input[2], events[2];
  ck_assert_int_eq(pipe(input), 0);
  ck_assert_int_eq(pipe2(events, O_NONBLOCK), 0);
  ck_assert_int_eq(write(events[1], said, strlen(said)), (ssize_t)strlen(said));
  close(input[1]);
  t->event_fd = events[0];
  tg_loop loop = {.input_fd = input[0],
                  .tick = count_tick,
                  .event_fd = events[0],
                  .event = event,
                  .ctx = t};
  int status = tg_loop_run(&loop);
  close(input[0]);
  close(events[0]);
  close(events[1]);
  return status;
}

/* Events that wait when input ends (they came with its end, in the same
 * wait) are taken before the loop returns: nothing pushed before the end
 * is lost. */
START_TEST(events_before_the_end_are_taken) {
  ticker t = {0};
  ck_assert_int_eq(run_to_the_end(&t, "ab", count_event), 0);
  ck_assert_int_eq(t.events, 2);
  ck_assert_int_eq(t.ticks, 0);
}
END_TEST

static int take_pending(void *ctx) {
  ticker *t = ctx;
  t->events += t->pending;
  t->pending = 0;
  return 0;
}

/* Events whose source has not yet made the descriptor readable (it wakes
 * its reader a little after they came, ef_mqtt.h) are taken at the end
 * all the same. */
START_TEST(events_not_yet_said_are_taken_at_the_end) {
  ticker t = {.pending = 3};
  ck_assert_int_eq(run_to_the_end(&t, "", take_pending), 0);
  ck_assert_int_eq(t.events, 3);
  ck_assert_int_eq(t.pending, 0);
}
END_TEST

/* A request that comes after the loop returned, while the process exits,
 * does not kill it: the handlers stay. */
START_TEST(late_requests_are_harmless) {
  ticker t = {0};
  ck_assert_int_eq(run(&t, "", 0, 0), 0);
  for (size_t j = 0; j < 3; j++)
    ck_assert_int_eq(raise(caught[j]), 0);
  ck_assert_int_eq(t.ticks, 0);
}
END_TEST

UNIT_MAIN("telegraf_loop", life_cycle, events_before_the_end_are_taken,
          events_not_yet_said_are_taken_at_the_end, late_requests_are_harmless)
