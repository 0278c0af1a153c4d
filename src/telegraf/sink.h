/* sink.h: what the engine tells (ef_sink.h), as Telegraf reads it.
 *
 * Promises: each reading's metrics become line protocol on out, one line
 * per series, all with the reading's time; each point carries the
 * catalog's measurement and tags plus sn=<SN>, and name=<NAME> and
 * product=<PRODUCT> when known: the engine hands out no reading before
 * the device list answered once (ef_engine_options.tags_from_list) and
 * keeps what it learned, so a device has one tag set in every mode and
 * poll; field types follow the metric's type, which the core keeps the
 * same per field forever. Every reading adds one
 * ecoflow_read point: stale (bool: the cloud's cached copy, whose values
 * are not published again), age_s (the data's age by the cloud's stamp,
 * when it has one) and, when fresh, the counts of values published and of
 * those dropped as "no reading" or implausible. Each listed device's
 * online flag is a point of TG_DEVICE_MEASUREMENT (unless print_online is
 * off); each report window one point of EF_REPORT_MEASUREMENT tagged code,
 * stamped at the window's begin. The news becomes one log line each, with
 * Telegraf's level prefixes (E! W! I!), naming the device and what to do.
 * Every batch of lines is flushed. */
#ifndef EF_TELEGRAF_SINK_H
#define EF_TELEGRAF_SINK_H

#include "ef_engine.h"
#include "series.h"

#include <stdio.h>

#define TG_READ_MEASUREMENT "ecoflow_read"
#define TG_DEVICE_MEASUREMENT "ecoflow_device"

typedef struct {
  FILE *out;
  FILE *log;
  tg_series *series; /* scratch space, reused across readings */
  /* The reading whose device tags the series shares, until its flush. */
  const ef_reading_view *shared_for;
  int print_online; /* the online flags of each list */
  int output_error; /* 0, or why writing to out failed: an errno (ENOMEM
                       when out of memory, EPIPE when its reader left) */
} tg_printer;

/* The engine's sink; its ctx is a tg_printer. */
extern const ef_sink tg_sink;

/* After writing to standard output failed with err: when its reader went
 * away (EPIPE: `| head`, Telegraf stopped), ends the program as Unix tools
 * end then, quietly, by SIGPIPE; otherwise returns, for the caller to say
 * what failed. */
void tg_output_failed(int err);

#endif
