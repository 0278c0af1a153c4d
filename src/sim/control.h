/* control.h: the simulator's own endpoints under /sim/, for tests and
 * demos. They are not signed (the simulator listens on loopback only) and
 * answer plain JSON, {"error": ".."} with 400 or 404 when refused.
 *
 *   GET  /sim/quota?sn=SN          the data quota/all would return now
 *   POST /sim/fault?sn=SN&spec=S   set a fault (sn "*": account-wide,
 *                                  "list": device/list's)
 *   GET  /sim/stats                counters (stats.h)
 *   POST /sim/stats/reset          zero them
 *   GET  /sim/clock                {"now","now_ms","time","frozen"}
 *   POST /sim/clock?at=T | ?advance=S | ?run=1   freeze at, move, let run
 *
 * With a publisher (--mqtt-publisher; else 409):
 *   GET  /sim/mqtt                 its state (mqtt.h)
 *   POST /sim/mqtt/publish?sn=SN&shape=typecode|cmdfunc|status[&group=G]
 *        [&status=0|1]             one message now: {"topic","payload",
 *                                  "shape","group","id"}; 503 when not
 *                                  connected to the broker
 *   POST /sim/mqtt/periodic?every_ms=N[&shapes=mixed|typecode|cmdfunc]
 *                                  every device publishes its next group
 *                                  every N ms (0 stops)
 *   POST /sim/mqtt/silent?sn=SN&on=1|0   keep a device out of it
 * A device that gets or loses the offline fault publishes its status. */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

#include "exchange.h"

void sim_control_error(sim_reply *reply, unsigned status, const char *message);

void sim_control_quota(const sim_call *call, sim_reply *reply);
void sim_control_set_fault(const sim_call *call, sim_reply *reply);
void sim_control_stats(const sim_call *call, sim_reply *reply);
void sim_control_reset_stats(const sim_call *call, sim_reply *reply);
void sim_control_clock(const sim_call *call, sim_reply *reply);
void sim_control_set_clock(const sim_call *call, sim_reply *reply);
void sim_control_mqtt(const sim_call *call, sim_reply *reply);
void sim_control_mqtt_publish(const sim_call *call, sim_reply *reply);
void sim_control_mqtt_periodic(const sim_call *call, sim_reply *reply);
void sim_control_mqtt_silent(const sim_call *call, sim_reply *reply);

#endif
