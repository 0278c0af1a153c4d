/* message.h: the MQTT messages EcoFlow's devices publish, as text.
 *
 * Promises: a quota message carries one group of a flat quota/all answer,
 * nested as POST quota nests it (groups.h), in either shape the live
 * broker carries:
 *   typecode: {"id":N,"version":"1.0","moduleType":1,"typeCode":GROUP,
 *              "params":{GROUP:{..}}}
 *   cmdfunc:  {"id":N,"version":"1.0","cmdFunc":96,"cmdId":K,
 *              "param":{GROUP:{..}},"addr":"ems"}
 * so that flattening params/param one level gives the quota/all keys and
 * values exactly (numbers keep their text). A status message is
 *   {"id":"N","version":"1.0","timestamp":MS,"params":{"status":0|1}}.
 * Payloads are compact JSON on one line. */
#ifndef SIM_MESSAGE_H
#define SIM_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

typedef enum {
  SIM_MSG_TYPECODE,
  SIM_MSG_CMDFUNC,
  SIM_MSG_STATUS,
} sim_msg_shape;

/* "typecode", "cmdfunc" or "status" into *shape. Returns false for
 * anything else. */
bool sim_msg_shape_parse(const char *name, sim_msg_shape *shape);
const char *sim_msg_shape_name(sim_msg_shape shape);

/* The topic a device publishes a message of shape on:
 * /open/<account>/<sn>/quota or /status. A new string, or NULL. */
char *sim_msg_topic(const char *account, const char *sn, sim_msg_shape shape);

/* The payload of a quota message (shape typecode or cmdfunc) carrying group
 * of flat: a new string, or NULL when flat has no such group (or out of
 * memory). */
char *sim_msg_quota(struct json_object *flat, const char *group,
                    sim_msg_shape shape, uint64_t id);

/* The payload of a status message saying online (true: 1) at simulated
 * time now_ms: a new string, or NULL when out of memory. */
char *sim_msg_status(bool online, uint64_t id, int64_t now_ms);

#endif
