/* loop.h: the inputs.execd life cycle.
 *
 * Promises: tick runs once for every burst of requests: lines that arrive on
 * input (Telegraf's signal = "STDIN") or SIGHUP, SIGUSR1 or SIGUSR2 (signal =
 * "SIGHUP", "SIGUSR1", "SIGUSR2"); requests that pile up while a tick runs
 * make one tick, not a backlog. With an interval, it also runs at start and
 * then on a fixed schedule (signal = "none"; a slot missed by a long tick is
 * skipped, not caught up). It returns at the end of input (Telegraf stops a
 * plugin by closing its stdin) or on SIGTERM/SIGINT, after the tick that
 * runs then, which is told to stop. The signal mask is restored on return;
 * the five signals keep their handlers, so that one arriving late cannot
 * kill the process while it exits. */
#ifndef EF_TELEGRAF_LOOP_H
#define EF_TELEGRAF_LOOP_H

/* Returns 0 at the end of input or on a stop signal, or -1 when reading input
 * failed or tick returned -1 (its own error, already reported). A stop
 * signal that arrives during a tick also calls stop (may be NULL) at once,
 * from the signal handler (so it must be async-signal-safe): the tick can
 * then cut its requests short instead of finishing them. */
int tg_loop_run(int input_fd, long interval_ms, int (*tick)(void *ctx),
                void *ctx, void (*stop)(void));

#endif
