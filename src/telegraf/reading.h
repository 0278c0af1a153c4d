/* reading.h: what one device reading prints.
 *
 * Promises: a reading's metrics become line protocol on out, one line per
 * series, all with the reading's time; each point carries the catalog's
 * measurement and tags plus sn=<SN>, and name=<NAME> and
 * product=<PRODUCT> when known; field types follow the metric's type,
 * which the core keeps stable per field. A reading whose cloud stamp did
 * not move since the device's last one is the cloud's cached copy: its
 * values are not published again. Every successful reading adds one
 * ecoflow_read point: stale (bool), age_s (the data's age by the cloud's
 * stamp, when it has one) and, when fresh, the counts of values published
 * and of those dropped as "no reading" or implausible. A failure goes to
 * log as one Telegraf-style line naming the device, the error and what to
 * do about it, only when the device's state changes (starts failing,
 * fails differently, recovers): a lasting fault is reported once, not
 * every interval. Every outcome also sets when the device is due again. */
#ifndef EF_TELEGRAF_READING_H
#define EF_TELEGRAF_READING_H

#include "client.h"
#include "freshness.h"
#include "health.h"
#include "poll.h"
#include "schedule.h"
#include "series.h"

#include <stdio.h>

#define TG_READ_MEASUREMENT "ecoflow_read"

typedef struct {
  const char *sn;
  const char *name;    /* NULL when neither configured nor listed */
  const char *product; /* NULL when the cloud does not say */
  ef_health health;
  ef_freshness freshness;
  ef_schedule schedule;
} tg_device_state;

typedef struct {
  const ef_client *client; /* whose clock offset dates the data */
  FILE *out;
  FILE *log;
  tg_series *series; /* scratch space, reused across readings */
  size_t read;       /* readings that succeeded */
  size_t failed;     /* readings that failed */
  int output_error;  /* writing to out failed */
} tg_printer;

/* An error and what to do about it, as one line:
 * "HTTP 200, API code 8521: signature is wrong; check the secret key ...". */
#define TG_ERROR_TEXT_LEN (EF_ERROR_MESSAGE_LEN + 512)
void tg_error_text(const ef_error *error, char *out, size_t size);

/* The ef_reading_cb of a poll whose targets' user is a tg_device_state and
 * whose ctx is a tg_printer. */
void tg_print_reading(const ef_reading *reading, void *printer);

#endif
