/* loop.h: the inputs.execd life cycle.
 *
 * Promises: tick runs once for every burst of requests: lines that arrive on
 * input (Telegraf's signal = "STDIN") or SIGHUP, SIGUSR1 or SIGUSR2 (signal =
 * "SIGHUP", "SIGUSR1", "SIGUSR2"); requests that pile up while a tick runs
 * make one tick, not a backlog. With an interval, it also runs at start and
 * then on a fixed schedule (signal = "none"; a slot missed by a long tick is
 * skipped, not caught up). It returns at the end of input (Telegraf stops a
 * plugin by closing its stdin) or on SIGTERM/SIGINT, after the tick that
 * runs then, which is told to stop. Besides, whenever event_fd becomes
 * readable, event runs (pushed values that wait), between ticks, and once
 * more at the end of input, readable or not (a source may wake its reader
 * a little after events came: ef_mqtt.h). With an
 * output, what it queued is written whenever the descriptor takes it,
 * and events wait while its reader is stalled (so that they are dropped,
 * counted, where they come from instead of growing here); nothing the
 * loop does waits for the reader. The signal mask is restored on return;
 * the five signals keep their handlers, so that one arriving late cannot
 * kill the process while it exits. */
#ifndef EF_TELEGRAF_LOOP_H
#define EF_TELEGRAF_LOOP_H

#include "output.h"

typedef struct {
  int input_fd;
  long interval_ms; /* 0: ticks on request only */
  int (*tick)(void *ctx);
  /* Called from the signal handler when a stop signal arrives (so it must
   * be async-signal-safe): a tick can then cut its requests short. May be
   * NULL. */
  void (*stop)(void);
  int event_fd;            /* -1: none */
  int (*event)(void *ctx); /* when event_fd is readable */
  tg_output *output;       /* NULL: none */
  void *ctx;
} tg_loop;

/* Returns 0 at the end of input or on a stop signal, or -1 when reading
 * input or writing output failed, or tick or event returned -1 (its own
 * error, already reported). */
int tg_loop_run(const tg_loop *loop);

#endif
