/* ef_engine_private.h: what the engine's own files share (ef_engine.c,
 * the read cycle, and its side jobs beside it): the engine itself and the
 * way it tells the front end. Front ends see ef_engine.h only.
 *
 * Promises: ef_engine_tell hands news to the front end's sink as it is;
 * ef_engine_note words anything else as a note (EF_NEWS_NOTE) of level,
 * about device (NULL: the account), its text cut at the length of an
 * error and its advice. */
#ifndef EF_ENGINE_PRIVATE_H
#define EF_ENGINE_PRIVATE_H

#include "ef_client.h"
#include "ef_engine.h"
#include "ef_mqtt.h"
#include "ef_roster.h"

#include <stddef.h>

struct ef_engine {
  ef_engine_options options; /* pointers borrowed from the front end */
  ef_sink sink;
  void *ctx;
  ef_client *client;
  ef_roster *roster;
  size_t lists;        /* device lists merged so far */
  unsigned long reads; /* so far, counting the running one */
  ef_mqtt *mqtt;       /* push mode, or NULL */
  int slow_said;       /* a read outlasted the interval, and it was said */
};

void ef_engine_tell(const ef_engine *engine, const ef_news *news);

__attribute__((format(printf, 4, 5))) void
ef_engine_note(const ef_engine *engine, ef_level level,
               const ef_roster_device *device, const char *format, ...);

#endif
