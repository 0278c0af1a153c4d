/* faults.h: the ways a cloud goes wrong, injected per device on request.
 *
 * Promises: a fault is given as a short spec ("http429:30", "api:8512:no
 * permission to do it", "clear") at start or at run time; each request
 * sees one consistent snapshot of its device's fault (or the account-wide
 * one, set on "*", when the device has none; device/list's own, set on
 * "list", else the account-wide one), safe from any thread. */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include "exchange.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
  SIM_FAULT_NONE,
  SIM_FAULT_HTTP500,
  SIM_FAULT_HTTP405,
  SIM_FAULT_HTTP429,     /* amount: Retry-After (s) */
  SIM_FAULT_DELAY,       /* amount: extra time to answer (ms) */
  SIM_FAULT_STALL,       /* headers and part of the body, then silence */
  SIM_FAULT_TRUNCATED,   /* the JSON cut in the middle */
  SIM_FAULT_NOTJSON,     /* an HTML error page */
  SIM_FAULT_MALFORMED,   /* JSON of the wrong shape: data is a string */
  SIM_FAULT_API,         /* a business error: code, message */
  SIM_FAULT_OFFLINE,     /* listed offline; values frozen since it began */
  SIM_FAULT_HUGE,        /* amount: size of the body (bytes) */
  SIM_FAULT_UNLISTED,    /* left out of device/list (bound later), else fine */
  SIM_FAULT_COUNTERBACK, /* quota steps back by step; amount: answers left */
  SIM_FAULT_LISTED,      /* device/list shows the members of json instead */
  SIM_FAULT_SET,         /* the quotas named in json take its values;
                            amount: answers left */
} sim_fault_kind;

typedef struct {
  sim_fault_kind kind;
  unsigned long amount;
  char code[16];
  char message[128];
  /* counterback: the flat quota path and how far it steps back. */
  char quota[96];
  double step;
  /* listed: a JSON object whose members replace or join the device's
   * device/list entry (any text, control characters and \u0000 too);
   * set: a JSON object of quota paths and the values they take. */
  char json[1024];
  /* As given, for reports. */
  char spec[1072];
  /* Simulated time it was set at (s): where an offline device froze. */
  int64_t since;
} sim_fault;

/* The account-wide fault's device index and name; device/list's. */
#define SIM_FAULT_ACCOUNT ((ssize_t)-1)
#define SIM_FAULT_ACCOUNT_NAME "*"
#define SIM_FAULT_LIST ((ssize_t)-2)
#define SIM_FAULT_LIST_NAME "list"
#define SIM_FAULT_NOWHERE ((ssize_t)-3)

/* The slot a fault for sn goes to: "*" the account's, "list"
 * device/list's, else device (the fleet's index of sn, -1 when it has
 * none): SIM_FAULT_NOWHERE then. */
ssize_t sim_fault_slot(const char *sn, ssize_t device);

/* Reads a spec: clear, http500, http405, http429:S, delay:MS, stall,
 * truncated, notjson, malformed, api:CODE:MESSAGE, 1006, offline,
 * huge:BYTES, unlisted, counterback:PATH:STEP[:ANSWERS], listed:JSON,
 * set:ANSWERS:JSON.
 * Returns 0, or -1 with a reason in err. */
int sim_fault_parse(const char *spec, sim_fault *fault, char *err,
                    size_t err_size);

/* Turns the reply the device would have got into the faulty one. Returns
 * 1 when the fault changed anything, 0 otherwise. */
struct json_object;
/* A listed fault's members put into entry, the device's device/list
 * entry. */
void sim_fault_list_entry(const sim_fault *fault, struct json_object *entry);

int sim_fault_shape(const sim_fault *fault, sim_reply *reply);

/* Bytes [offset, offset + size) of a huge fault's body, a valid envelope
 * {"code":"0",..,"data":{"padding":"xx.."},..} of exactly
 * reply->padded_size bytes. Returns how many bytes it wrote. */
size_t sim_fault_padding(size_t padded_size, uint64_t offset, char *out,
                         size_t size);

typedef struct sim_faults sim_faults;

sim_faults *sim_faults_new(size_t devices);
void sim_faults_free(sim_faults *faults);

/* Sets (or, with SIM_FAULT_NONE, clears) the fault of a device index or of
 * SIM_FAULT_ACCOUNT, stamping it with the current simulated time. */
void sim_faults_set(sim_faults *faults, ssize_t device, const sim_fault *fault);

/* The fault a request about device (or SIM_FAULT_ACCOUNT, for requests
 * naming no device) meets: the device's own, else the account's. */
sim_fault sim_faults_get(sim_faults *faults, ssize_t device);

/* Applies a set fault to data, a device's flat quota/all answer: each
 * path of its object takes its value: a key of data, a member of the JSON
 * text a key holds ("bp_addr.<pack>.bpRealSoh"), or else a new key. The
 * first path goes into first (size bytes). Returns false when the fault
 * is no set fault. */
bool sim_fault_set_values(const sim_fault *fault, struct json_object *data,
                          char *first, size_t size);

/* A counterback or set fault was delivered once more (an answer or a message
 * carried the stepped-back value): one answer fewer is left, and the fault
 * clears itself after the last. */
void sim_faults_delivered(sim_faults *faults, ssize_t device);

#endif
