/* oracle.h: the skeleton of the end-to-end oracles, which tell what a front
 * end must publish for one quota/all answer, by the core's own catalog.
 *
 * Promises: reads a quota/all "data" object (or a whole answer) as JSON on
 * stdin; calls published for every metric the core makes of it, in sample
 * order, with the sample it came from; then calls absent for every known
 * value quota that gave no metric (a sentinel or an implausible value),
 * named by the core itself from a stand-in reading at the same path: the
 * bottom of its plausible range, which no sentinel of the catalog is.
 * With catalog_only, as collectd by default: only the catalog's metrics,
 * unless the catalog knows nothing of the device's family (ef_engine.h);
 * with skip_detail, as collectd by default too, no value per battery cell
 * or sensor. */
#ifndef EF_E2E_ORACLE_H
#define EF_E2E_ORACLE_H

#include "ef_metric.h"
#include "ef_sample.h"

typedef void (*oracle_published_cb)(const ef_metric *metric,
                                    const ef_sample *sample);
typedef void (*oracle_absent_cb)(const ef_metric *metric);

/* Returns the exit status: 0, or 1 (said on stderr under name) when stdin
 * is not a quota/all answer. */
int oracle_run(const char *name, int catalog_only, int skip_detail,
               oracle_published_cb published, oracle_absent_cb absent);

#endif
