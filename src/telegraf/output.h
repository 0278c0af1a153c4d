/* output.h: line protocol on its way to stdout (inputs.execd), never
 * holding up the loop for long, whatever the reader does.
 *
 * Promises: what the sink writes through tg_output_stream (a stdio stream
 * that hands each write over whole) is queued and written to the
 * descriptor as fast as it takes it, without waiting: a pipe is written
 * only when poll says it has room, PIPE_BUF bytes at a time (which a pipe
 * with room takes at once), a socket with MSG_DONTWAIT, anything else (a
 * file, a terminal) as it is. At most TG_OUTPUT_MAX_BYTES wait. A write
 * that does not fit waits up to TG_OUTPUT_WAIT_MS for room (not once a
 * stop is asked); without room then, the reader has stalled: that write
 * and every later one is dropped whole (never part of a line) and
 * counted, until what waits has been read down to half the bound. The
 * stall and its end are said once each on log. A write that fails for
 * good (the reader closed it) is an error. Nothing here prints to out
 * but the writes. */
#ifndef EF_TELEGRAF_OUTPUT_H
#define EF_TELEGRAF_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TG_OUTPUT_MAX_BYTES (8 * 1024 * 1024)
#define TG_OUTPUT_WAIT_MS 500

typedef struct tg_output tg_output;

/* Output to fd, saying its stalls on log. NULL when out of memory. */
tg_output *tg_output_new(int fd, FILE *log);

/* Frees everything; what still waits is lost (tg_output_finish first). */
void tg_output_free(tg_output *output);

/* The stream whose writes are queued; owned by output. */
FILE *tg_output_stream(tg_output *output);

/* Bytes waiting to be written. */
size_t tg_output_pending(const tg_output *output);

/* 1 while the reader is stalled (writes are dropped). */
int tg_output_stalled(const tg_output *output);

/* The bytes the queue holds room for: what waits, or more once a backlog
 * grew it, until it is written. For tests. */
size_t tg_output_capacity(const tg_output *output);

/* The descriptor to poll for POLLOUT while something waits. */
int tg_output_fd(const tg_output *output);

/* Writes what the descriptor takes now. Returns 0, or -1 (errno: the
 * write's own error, EPIPE, ENOSPC ...) when writing failed for good; the
 * stream's writes fail with the same errno from then on. */
int tg_output_flush(tg_output *output);

/* Holds the writes: they are queued, and written only once
 * TG_OUTPUT_HELD_BYTES wait or at tg_output_release, so that the lines of
 * many readings leave in a few writes (a pipe's: PIPE_BUF bytes each),
 * not one write (and poll) per reading. */
#define TG_OUTPUT_HELD_BYTES (16 * 1024)
void tg_output_hold(tg_output *output);

/* Ends the hold, writing what the descriptor takes now. Returns 0, or -1
 * (errno as tg_output_flush's) when writing failed for good. */
int tg_output_release(tg_output *output);

/* Writes what waits for at most wait_ms, then gives up on the rest
 * (said on log). Returns 0, or -1 (errno as tg_output_flush's) when
 * writing failed. */
int tg_output_finish(tg_output *output, int wait_ms);

/* Asks every output to stop waiting for room: async-signal-safe, for a
 * stop signal's handler. */
void tg_output_stop_all(void);

/* Writes dropped so far, and their bytes. */
typedef struct {
  unsigned long writes;
  unsigned long long bytes;
} tg_output_dropped;
tg_output_dropped tg_output_dropped_get(const tg_output *output);

#endif
