/* groups.h: the groups of a flat quota/all answer, which POST quota and
 * MQTT messages carry nested.
 *
 * Promises: a group is the part of a flat key before its first '.'
 * ("pcsAPhase" of "pcsAPhase.vol", "bp_addr" of "bp_addr.<pack SN>"), or
 * a key without a dot on its own ("bpSoc"). Nested, a group's keys lose
 * that prefix ({"pcsAPhase":{"vol":..}}, {"ems_change_report":
 * {"evBindList.evSn":[]}}), so flattening the nested form one level gives
 * back the very keys and values of the flat answer. */
#ifndef SIM_GROUPS_H
#define SIM_GROUPS_H

#include <stdbool.h>

struct json_object;

/* Adds group of flat to out, nested: a key of flat under its own name (a
 * key without a dot, or a whole path as POST quota may ask), a group's
 * quotas as an object under the group's name. Returns false (and adds
 * nothing) when flat has no such key or group. */
bool sim_group_add(struct json_object *out, struct json_object *flat,
                   const char *group);

/* Whether the flat key path belongs to group. */
bool sim_group_has(const char *group, const char *path);

/* The names of flat's groups, each once, in the order of their first key:
 * a new array of strings, or NULL when out of memory. */
struct json_object *sim_groups_of(struct json_object *flat);

#endif
