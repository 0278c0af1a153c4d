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
 * every interval (a refusal for good, 1006, is retried hourly: ef_roster.h).
 * Every outcome also sets when the device is due again. The devices are
 * the core's (ef_roster.h): each target's user is its ef_roster_device. */
#ifndef EF_TELEGRAF_READING_H
#define EF_TELEGRAF_READING_H

#include "ef_client.h"
#include "ef_poll.h"
#include "ef_roster.h"
#include "series.h"

#include <stdio.h>

#define TG_READ_MEASUREMENT "ecoflow_read"

/* sn, name and product: the tags every point of a device starts with
 * (name: configured, else listed; a tag without a value is left out). */
#define TG_DEVICE_TAGS 3
void tg_device_tags(const ef_roster_device *device,
                    lp_tag tags[TG_DEVICE_TAGS]);

/* "LEVEL ecoflow: device SN (NAME): message" on log, flushed. */
void tg_log_device(FILE *log, const char *level, const ef_roster_device *device,
                   const char *message);

typedef struct {
  const ef_client *client; /* whose clock offset dates the data */
  FILE *out;
  FILE *log;
  tg_series *series;  /* scratch space, reused across readings */
  int64_t started_ms; /* when the poll began: devices are due again
                         counted from there, so that a slow answer does
                         not push a device past the next poll */
  int long_running;   /* execd: schedules outlive a poll */
  size_t read;        /* readings that succeeded */
  size_t failed;      /* readings that failed */
  int output_error;   /* writing to out failed */
} tg_printer;

/* Room for an error and what to do about it (ef_roster_explain). */
#define TG_ERROR_TEXT_LEN (EF_ERROR_MESSAGE_LEN + 512)

/* The ef_reading_cb of a poll of roster devices whose ctx is a
 * tg_printer. */
void tg_print_reading(const ef_reading *reading, void *printer);

#endif
