/* server.h: the HTTP side of ecoflow-sim (libmicrohttpd).
 *
 * Promises: listens on 127.0.0.1 only; routes each request to its handler
 * after the checks the cloud makes (path, method, signature); counts it;
 * applies the device's fault; makes it wait (latency, delays) without
 * holding a thread, so a thousand requests can wait at once. Every answer
 * has Content-Type, Date and x-timestamp (simulated time, ms). */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include "sim.h"

#include <stddef.h>

typedef struct sim_server sim_server;

/* Serves ctx on 127.0.0.1:port (0: a free port) with threads threads.
 * NULL with a reason in err when it cannot. */
sim_server *sim_server_start(sim_ctx *ctx, unsigned port, unsigned threads,
                             char *err, size_t err_size);

/* The port actually bound. */
unsigned sim_server_port(const sim_server *server);

/* Ends every open request (stalled ones included) and stops. */
void sim_server_stop(sim_server *server);

#endif
