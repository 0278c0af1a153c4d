/* api.h: the signed endpoints of the open API (under /iot-open/sign/).
 *
 * Promises: answers shaped as the live cloud's (docs/wire-facts.md):
 * device/list with online 0|1 and productName left out for some devices;
 * quota/all flat; quota nested by requested group; certification with the port
 * as a string. The server has checked the signature and, where the endpoint
 * needs one, that call->device is a device of the fleet. */
#ifndef SIM_API_H
#define SIM_API_H

#include "exchange.h"

#include <stddef.h>
#include <stdint.h>

void sim_api_device_list(const sim_call *call, sim_reply *reply);
void sim_api_quota_all(const sim_call *call, sim_reply *reply);
void sim_api_quota(const sim_call *call, sim_reply *reply);
void sim_api_certification(const sim_call *call, sim_reply *reply);

/* What quota/all says of a device at simulated time now: its values now,
 * or those of the moment it went offline (the cloud keeps serving its
 * cache), with a counter stepped back while the device has a counterback
 * fault and the values of a set fault; with a group, only what it takes to have
 * that group (devices.h). A new object, or NULL when out of memory. glitched
 * (when not NULL, of SIM_GLITCH_PATH_SIZE bytes) gets the path of the
 * stepped-back quota (a set fault's first path), "" when none: whoever delivers
 * it to a client calls sim_api_glitch_delivered, which is how the glitch lasts
 * for a number of answers. */
#define SIM_GLITCH_PATH_SIZE 96
struct json_object *sim_api_device_data(const struct sim_ctx *ctx,
                                        size_t device, int64_t now,
                                        const char *group, char *glitched);
void sim_api_glitch_delivered(const struct sim_ctx *ctx, size_t device);

#endif
