/* timer.h: wakes suspended connections when their time has come.
 *
 * Promises: one thread serves any number of waiting requests (latency,
 * delay faults, the periodic look at a stalled connection), so a waiting
 * request holds no thread. Once drained, the timer resumes every waiting
 * connection and any later one at once: MHD_stop_daemon requires that no
 * connection stays suspended. */
#ifndef SIM_TIMER_H
#define SIM_TIMER_H

#include <stdbool.h>

struct MHD_Connection;

typedef struct sim_timer sim_timer;

/* NULL when the thread cannot start. */
sim_timer *sim_timer_start(void);

/* Resumes connection, which the caller has just suspended, after ms. */
void sim_timer_resume_after(sim_timer *timer, struct MHD_Connection *connection,
                            unsigned long ms);

/* Resumes every waiting connection now, and from then on at once. */
void sim_timer_drain(sim_timer *timer);
bool sim_timer_draining(sim_timer *timer);

/* Stops the thread; drain first. */
void sim_timer_free(sim_timer *timer);

#endif
