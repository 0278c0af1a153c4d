/* ef_push.h: push mode's side of the engine (ef_push.c), and what it uses
 * of the read cycle (ef_engine.c). Engine-private: front ends see
 * ef_engine.h only.
 *
 * Promises: ef_push_start gives the engine its MQTT source (ef_mqtt.h),
 * watching every device of the roster. What the source hands out comes
 * through the engine's one reading path (ef_engine_hand_out_json, or
 * _samples): messages as they arrive in stream mode, their values still
 * json-c's objects (walked once, not copied); in state mode, at each read,
 * every device's merged state, copied from the source only when it
 * changed. A device's statuses come coalesced (the latest, and how often
 * it changed since the last take): each batch is its online flag; its
 * changes are news as ef_flap.h decides (a status that flaps is said
 * once, and its state once it is steady again). Its silence and return
 * are news. A poll of a pushed device seeds or heals its pushed state,
 * and the device is then polled only every refresh. Pushed values pass
 * the gate polled ones pass (ef_value_rules.h: markers, one type per
 * field, the counter guard, the cap), and wait as they do for the list's
 * tags (ef_engine_options.tags_from_list). */
#ifndef EF_PUSH_H
#define EF_PUSH_H

#include "ef_engine_private.h"
#include "ef_flap.h"

#include <stdint.h>

struct json_object;

/* The engine's push state of one roster device. */
typedef struct {
  int silent;         /* told EF_NEWS_SILENT */
  int pushed_offline; /* its latest status said offline */
  int has_status;     /* a status came; flap is set */
  ef_flap flap;
  /* State mode: the copy of its pushed state last handed out. */
  ef_samples state;
  uint64_t version;
} ef_push_device;

/* The MQTT source, watching every device of the roster. Returns 0, or -1
 * with problem filled (EF_PROBLEM_LEN). */
int ef_push_start(ef_engine *engine, char *problem);

/* How often a pushed device is polled once it has been read. */
int64_t ef_push_refresh_ms(const ef_engine *engine);

/* A poll of a pushed device (its answer's data): merged into its pushed
 * state. */
void ef_push_polled(const ef_engine *engine, const ef_roster_device *device,
                    struct json_object *data);

/* Frees what push mode keeps of a device. */
void ef_push_device_clear(ef_push_device *push);

/* From ef_engine.c: a device's push state, and the reading path for
 * samples (metrics to the sink unless view says it is stale). */
ef_push_device *ef_engine_push_device(ef_roster_device *device);
void ef_engine_hand_out_samples(const ef_engine *engine,
                                ef_roster_device *device,
                                const ef_samples *samples,
                                ef_reading_view *view);
/* The same for values still in JSON (an API answer's data's shape). */
void ef_engine_hand_out_json(const ef_engine *engine, ef_roster_device *device,
                             struct json_object *data, ef_reading_view *view);

#endif
