/* history.h: device/quota/data, the historical summaries.
 *
 * Promises: the reference's answer, wrapped twice
 * (data.{code,message,data:[{indexName,indexValue,unit}]}), for a window
 * beginTime..endTime ("YYYY-MM-DD HH:MM:SS", UTC) strictly shorter than
 * seven days. The energies are the growth of the device's own totals over
 * the window, so "From Solar" agrees with energy_stream.solarTotalEnergy,
 * and the same window always gives the same answer. */
#ifndef SIM_HISTORY_H
#define SIM_HISTORY_H

#include "exchange.h"

void sim_history_quota_data(const sim_call *call, sim_reply *reply);

#endif
