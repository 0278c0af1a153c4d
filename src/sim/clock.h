/* clock.h: the simulated time every answer is computed at.
 *
 * Promises: one process-wide clock, safe to read and change from any
 * thread. It runs with the wall clock (plus any offset it was moved by)
 * until frozen; frozen, it stands still until moved or started again, so
 * that two answers can be compared value for value. */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* The last second the API's time texts can write: 9999-12-31 23:59:59. */
#define SIM_CLOCK_MAX 253402300799LL

/* "YYYY-MM-DD HH:MM:SS" and its terminating NUL. */
#define SIM_TIME_TEXT_SIZE 20
/* An HTTP Date ("Sun, 06 Nov 1994 08:49:37 GMT") and its NUL. */
#define SIM_HTTP_DATE_SIZE 30

/* Simulated Unix time in milliseconds, and in whole seconds. */
int64_t sim_clock_now_ms(void);
int64_t sim_clock_now(void);

/* Stops the clock at Unix time at (seconds). */
void sim_clock_freeze(int64_t at);
/* Moves the clock by seconds (either way), frozen or running. */
void sim_clock_advance(int64_t seconds);
/* Lets a frozen clock run on from where it stands. */
void sim_clock_run(void);
bool sim_clock_is_frozen(void);

/* UTC text forms of a Unix time, as the API writes them. */
void sim_clock_format(int64_t t, char out[SIM_TIME_TEXT_SIZE]);
void sim_clock_http_date(int64_t t, char out[SIM_HTTP_DATE_SIZE]);

/* Reads "YYYY-MM-DD HH:MM:SS" (UTC) into *t. Returns 0, or -1 when the text
 * is anything else. */
int sim_clock_parse(const char *text, int64_t *t);

#endif
