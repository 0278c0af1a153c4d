/* loop.h: the inputs.execd life cycle.
 *
 * Promises: tick runs once for every burst of lines that arrives on input
 * (Telegraf's signal = "STDIN": lines that pile up while a tick runs make
 * one tick, not a backlog), and, with an interval, also at start and then
 * on a fixed schedule (signal = "none"; a slot missed by a long tick is
 * skipped, not caught up). It returns at the end of input (Telegraf stops
 * a plugin by closing its stdin) or on SIGTERM/SIGINT; a signal that
 * arrives during a tick lets the tick finish first. */
#ifndef EF_TELEGRAF_LOOP_H
#define EF_TELEGRAF_LOOP_H

/* Returns 0 at the end of input or on a signal, or -1 when reading input
 * failed or tick returned -1 (its own error, already reported). */
int tg_loop_run(int input_fd, long interval_ms, int (*tick)(void *ctx),
                void *ctx);

#endif
