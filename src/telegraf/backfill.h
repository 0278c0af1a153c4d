/* backfill.h: --history, a report over past windows as line protocol.
 *
 * Promises: [begin, end) is cut into windows the API accepts (ef_report.h:
 * each strictly shorter than a week, the first from begin); every device's
 * report over every window becomes one point of EF_REPORT_MEASUREMENT,
 * tagged sn and code (and name and product when known), one field per
 * index named and scaled by ef_report.h (energies in Wh), timestamped at the
 * window's begin, so that a backfill of past weeks lands one point per
 * week. A device whose windows fail is named on the log once per distinct
 * failure, with what to do; its other windows and the other devices still
 * print. */
#ifndef EF_TELEGRAF_BACKFILL_H
#define EF_TELEGRAF_BACKFILL_H

#include "ef_roster.h"
#include "reading.h"

#include <time.h>

/* Prints report code of every device of roster over [begin, end) through
 * printer (whose read and failed count windows). Returns the windows
 * printed, or -1 when the range holds no window, memory ran out or output
 * failed (said on the log). */
int tg_backfill(ef_client *client, const ef_roster *roster, const char *code,
                time_t begin, time_t end, tg_printer *printer);

#endif
