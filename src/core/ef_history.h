/* ef_history.h: historical summaries (POST device/quota/data).
 *
 * Promises: any time range is split into windows strictly shorter than a
 * week (the API refuses 7 days or more; a window runs from begin to at
 * most 6 days 23:59:59 later), never sent as is; times are UTC in the
 * API's "YYYY-MM-DD HH:MM:SS" form; each window's answer (wrapped twice:
 * data.data[] of indexName/indexValue/unit) reaches the caller as it
 * completes, as named values or an error. */
#ifndef EF_HISTORY_H
#define EF_HISTORY_H

#include "ef_client.h"

#include <stddef.h>
#include <time.h>

#define EF_WEEK_S (7 * 24 * 3600)
#define EF_TIME_TEXT_LEN 20 /* "YYYY-MM-DD HH:MM:SS" and NUL */

typedef struct {
  time_t begin; /* inclusive */
  time_t end;   /* inclusive, end - begin < EF_WEEK_S */
} ef_window;

/* Splits [begin, end] (inclusive) into windows, writing at most max of
 * them. Returns how many the range needs (0 when end < begin). */
size_t ef_history_windows(time_t begin, time_t end, ef_window *out, size_t max);

/* Parses "YYYY-MM-DD HH:MM:SS" (UTC) or ISO 8601 ("2024-06-17T00:00:00Z",
 * "...+02:00", a date alone meaning midnight UTC). Returns 0, or -1. */
int ef_time_parse(const char *text, time_t *out);

/* Formats t as the API's "YYYY-MM-DD HH:MM:SS" in UTC; out is empty when
 * t has no such form (a year past 9999). */
void ef_time_format(time_t t, char out[EF_TIME_TEXT_LEN]);

typedef struct {
  const char *name; /* indexName as sent ("From Solar") */
  double value;
  const char *text; /* indexValue's exact text */
  const char *unit; /* "kWh", "%", or "" */
} ef_history_value;

typedef struct {
  const ef_window *window;
  const ef_error *error;          /* NULL on success */
  const ef_history_value *values; /* valid during the callback */
  size_t n_values;
  size_t implausible; /* values left out: a boolean, text, or a number a
                         double cannot carry exactly (2^64 + 1) */
} ef_history_result;

typedef void (*ef_history_cb)(const ef_history_result *result, void *ctx);

/* Fetches report code for sn over every window, concurrently; every
 * window gets exactly one callback. Returns 0, or -1 with err filled when
 * the batch broke off (the windows it left were answered with err). */
int ef_history_fetch(ef_client *client, const char *sn, const char *code,
                     const ef_window *windows, size_t n, ef_history_cb cb,
                     void *ctx, ef_error *err);

/* The request for one window (request->user is left to the caller).
 * Returns 0, or -1 when out of memory; ef_history_request_clear frees
 * what it holds either way. */
int ef_history_request(ef_request *request, const char *sn, const char *code,
                       const ef_window *window);
void ef_history_request_clear(ef_request *request);

/* Turns the answer to window's request into its result for cb. */
void ef_history_deliver(const ef_answer *answer, const ef_window *window,
                        ef_history_cb cb, void *ctx);

#endif
