/* ef_push.c: push mode's side of the engine: the MQTT source's messages,
 * statuses and silences as readings, online flags and news. */
#include "ef_push.h"

#include <stdio.h>

int ef_engine_can_push(void) { return ef_mqtt_available(); }

static int64_t push_silence_ms(const ef_engine *engine) {
  return engine->options.push.silence_ms > 0 ? engine->options.push.silence_ms
                                             : EF_PUSH_DEFAULT_SILENCE_MS;
}

int64_t ef_push_refresh_ms(const ef_engine *engine) {
  return engine->options.push.refresh_ms > 0 ? engine->options.push.refresh_ms
                                             : EF_PUSH_DEFAULT_REFRESH_MS;
}

void ef_push_polled(const ef_engine *engine, const ef_roster_device *device,
                    struct json_object *data) {
  ef_samples polled = {0};
  /* Stream mode keeps no state: the poll only counts as news. */
  if (!engine->options.push.stream && ef_samples_add_json(&polled, data) != 0)
    ef_engine_note(engine, EF_LEVEL_ERROR, device, "out of memory");
  ef_mqtt_merge(engine->mqtt, device->sn, &polled);
  ef_samples_clear(&polled);
}

void ef_push_device_clear(ef_push_device *push) {
  ef_samples_clear(&push->state);
}

/* A device that has pushed nothing for the silence limit (the source
 * watches for it): told once, and once when it speaks again. */
static void note_silence(const ef_engine *engine, ef_roster_device *device,
                         const ef_mqtt_event *event) {
  ef_push_device *push = ef_engine_push_device(device);
  push->silent = event->kind == EF_MQTT_SILENT;
  char text[32];
  snprintf(text, sizeof(text), "%.0f", event->quiet_ms / 1000.0);
  ef_engine_tell(
      engine,
      &(ef_news){.kind = push->silent ? EF_NEWS_SILENT : EF_NEWS_HEARD,
                 .level = push->silent ? EF_LEVEL_WARNING : EF_LEVEL_NOTICE,
                 .device = device,
                 .text = text});
}

static void tell_status(const ef_engine *engine, ef_roster_device *device,
                        int online) {
  ef_engine_tell(engine, &(ef_news){.kind = online ? EF_NEWS_PUSH_ONLINE
                                                   : EF_NEWS_PUSH_OFFLINE,
                                    .level = EF_LEVEL_NOTICE,
                                    .device = device});
}

/* A device's statuses since the last take: the online flag, and news as
 * ef_flap decides. */
static void note_status(ef_engine *engine, ef_roster_device *device,
                        const ef_mqtt_event *event) {
  ef_push_device *push = ef_engine_push_device(device);
  int online = event->online;
  if (engine->sink.online != NULL)
    engine->sink.online(engine->ctx, device, online, event->time_ms,
                        push_silence_ms(engine));
  if (!push->has_status) {
    push->has_status = 1;
    ef_flap_init(&push->flap, 1); /* online until it says otherwise */
  }
  push->pushed_offline = !online;
  device->presence = online ? EF_PRESENCE_ONLINE : EF_PRESENCE_OFFLINE;
  switch (ef_flap_note(&push->flap, online, event->changes, ef_now_ms())) {
  case EF_FLAP_QUIET:
  case EF_FLAP_ENDS:
    break;
  case EF_FLAP_TELL:
    tell_status(engine, device, online);
    break;
  case EF_FLAP_STARTS:
    engine->flapping++;
    ef_engine_note(engine, EF_LEVEL_WARNING, device,
                   "its MQTT status changed %u times within %d s: it flaps; "
                   "its changes are not told until it has been steady for "
                   "%d s (its online flag is still written); said once",
                   push->flap.changes, EF_FLAP_WINDOW_MS / 1000,
                   EF_FLAP_WINDOW_MS / 1000);
    break;
  }
}

/* Devices whose status flapped and has been steady since: said once.
 * Every take calls it: it looks at the roster only while some device
 * flaps (counted again each time, so that one forgotten meanwhile does
 * not keep it looking). */
static void settle_statuses(ef_engine *engine) {
  if (engine->flapping == 0)
    return;
  int64_t now = ef_now_ms();
  size_t flapping = 0;
  for (size_t i = 0; i < ef_roster_size(engine->roster); i++) {
    ef_roster_device *device = ef_roster_device_at(engine->roster, i);
    ef_push_device *push = ef_engine_push_device(device);
    int told = push->flap.told;
    if (push->has_status && ef_flap_settle(&push->flap, now) == EF_FLAP_ENDS) {
      ef_engine_note(engine, EF_LEVEL_NOTICE, device,
                     "its MQTT status has been steady for %d s: %s",
                     EF_FLAP_WINDOW_MS / 1000,
                     push->flap.status ? "online" : "offline");
      if (push->flap.status != told)
        tell_status(engine, device, push->flap.status);
    }
    flapping += push->has_status && push->flap.flapping;
  }
  engine->flapping = flapping;
}

static void on_pushed(const ef_mqtt_event *event, void *ctx) {
  ef_engine *engine = ctx;
  ef_roster_device *device =
      event->sn[0] != '\0' ? ef_roster_find(engine->roster, event->sn) : NULL;
  if (event->kind == EF_MQTT_NEWS) {
    ef_engine_note(engine, event->level, device, "%s", event->text);
    return;
  }
  if (device == NULL)
    return; /* forgotten since it arrived */
  switch (event->kind) {
  case EF_MQTT_STATUS:
    note_status(engine, device, event);
    return;
  case EF_MQTT_SILENT:
  case EF_MQTT_HEARD:
    note_silence(engine, device, event);
    return;
  case EF_MQTT_MESSAGE:
  case EF_MQTT_NEWS:
    break;
  }
  ef_reading_view view = {.device = device,
                          .time_ms = event->time_ms,
                          .interval_ms = device->schedule.interval_ms,
                          .pushed = 1};
  if (event->object != NULL)
    ef_engine_hand_out_json(engine, device, event->object, &view);
  else
    ef_engine_hand_out_samples(engine, device, &event->samples, &view);
}

/* State mode: every device's merged state, stamped with the read's time,
 * unless it is silent or offline by its status. The copy is taken again
 * only when the state changed. */
static void hand_out_states(ef_engine *engine, int64_t now_ms) {
  for (size_t i = 0; i < ef_roster_size(engine->roster); i++) {
    ef_roster_device *device = ef_roster_device_at(engine->roster, i);
    ef_push_device *push = ef_engine_push_device(device);
    int64_t last_ms = 0;
    int copied = ef_mqtt_snapshot(engine->mqtt, device->sn, &push->state,
                                  &last_ms, &push->version);
    if (copied < 0) {
      ef_samples_clear(&push->state);
      push->version = 0;
      continue;
    }
    if (push->pushed_offline || push->silent || push->state.len == 0)
      continue;
    ef_reading_view view = {.device = device,
                            .time_ms = now_ms,
                            .interval_ms = engine->options.read_interval_ms,
                            .pushed = 1,
                            .has_age = last_ms != 0,
                            .age_s = (double)(now_ms - last_ms) / 1000.0};
    ef_engine_hand_out_samples(engine, device, &push->state, &view);
  }
}

int ef_engine_push_fd(const ef_engine *engine) {
  return engine->mqtt != NULL && engine->options.push.stream
             ? ef_mqtt_fd(engine->mqtt)
             : -1;
}

int ef_engine_take_pushed(ef_engine *engine, int64_t now_ms) {
  if (engine->mqtt == NULL)
    return 0;
  ef_mqtt_take(engine->mqtt, on_pushed, engine);
  settle_statuses(engine);
  if (!engine->options.push.stream)
    hand_out_states(engine, now_ms);
  return 0;
}

int ef_push_start(ef_engine *engine, char *problem) {
  ef_mqtt_options options = {
      .account = engine->options.account,
      .client_id_suffix = engine->options.push.client_id_suffix,
      .stream = engine->options.push.stream,
      .silence_ms = push_silence_ms(engine),
      .max_unknown = engine->options.account->max_unknown};
  engine->mqtt = ef_mqtt_new(&options, problem);
  if (engine->mqtt == NULL)
    return -1;
  for (size_t i = 0; i < ef_roster_size(engine->roster); i++)
    if (ef_mqtt_watch(engine->mqtt,
                      ef_roster_device_at(engine->roster, i)->sn) != 0) {
      snprintf(problem, EF_PROBLEM_LEN, "out of memory");
      return -1;
    }
  return 0;
}
