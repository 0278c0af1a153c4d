/* ef_engine.h: one account's read cycle, written once for every front end.
 *
 * Promises: a call per read (collectd's read callback, a Telegraf tick)
 * asks the account's device list when it is due, polls the devices that
 * are due, fetches their periodic reports that are due, and tells the
 * front end everything through its sink: each reading with its metrics,
 * each report, each listed device's online flag, and the news (a device
 * or report starting to fail, failing differently or recovering; the
 * cloud repeating a device's reading until it seems offline, and new data
 * again; devices added, removed, gone offline or online by the list; the
 * list failing or recovering; the server's clock far off ours; anything
 * else the engine must say once). Every device that is due is settled
 * exactly once per read: read, stale, skipped (offline) or failed. News
 * is edge-triggered: a fault that persists is told once.
 *
 * Requests of one read share batches: with discovery the list comes first
 * (it decides what is polled), else it travels with the quotas and
 * reports. A host that hangs or refuses fails the rest of the read at once
 * (ef_client.h). A read that takes longer than its interval says so once,
 * with the requests in flight it would need. ef_engine_stop makes the
 * running read end within a second, and no request starts afterwards.
 *
 * The sink (ef_sink.h) is the one seam between the core and a front end,
 * the news (ef_news.h) what it is told besides values; a second source of
 * readings (MQTT) feeds the same reading path. */
#ifndef EF_ENGINE_H
#define EF_ENGINE_H

#include "ef_account.h"
#include "ef_history.h"
#include "ef_news.h"
#include "ef_roster.h"
#include "ef_sink.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct ef_engine ef_engine;

/* A report fetched on its own schedule over the week so far (collectd's
 * <Report>). */
struct ef_report_config {
  const char *code;
  int64_t interval_ms;
  const void *user; /* the front end's own, handed back with each report */
};

/* A configured device. Every pointer is borrowed and must outlive the
 * engine. */
typedef struct {
  const char *sn;
  const char *name;          /* NULL: none configured */
  int64_t interval_ms;       /* 0: the engine's */
  const char *const *quotas; /* NULL: quota/all; else POST quota */
  size_t n_quotas;
  const ef_report_config *reports; /* the device's own */
  size_t n_reports;
  int raw_quotas; /* 1: every quota the catalog does not know too; -1: only
                     the catalog's; 0: as the engine's options say */
} ef_device_config;

/* Push mode: the devices' MQTT messages (ef_mqtt.h) feed the reading path
 * (flattening, catalog, sentinels, ranges); HTTP polling of a device drops
 * to a slow refresh once it has been read (the first poll seeds its
 * state). A device silent past silence_ms produces no values and is told
 * once (EF_NEWS_SILENT); its next message ends that. */
typedef struct {
  int enabled;
  const char *client_id_suffix; /* the front end's, e.g. "collectd" */
  int64_t refresh_ms;           /* 0: EF_PUSH_DEFAULT_REFRESH_MS */
  int64_t silence_ms;           /* 0: EF_PUSH_DEFAULT_SILENCE_MS */
  /* 1: each message is a reading when it arrives (ef_engine_take_pushed,
   * stamped with its arrival); 0: each read hands out every device's
   * merged state, stamped with the read's time. */
  int stream;
} ef_push_options;

#define EF_PUSH_DEFAULT_REFRESH_MS (10 * 60 * 1000)
#define EF_PUSH_DEFAULT_SILENCE_MS (5 * 60 * 1000)

typedef struct {
  const char *name; /* the account in messages; NULL: the only one */
  const ef_account *account;
  const ef_device_config *devices;
  size_t n_devices;
  const ef_report_config *reports; /* for every device */
  size_t n_reports;
  int use_list; /* ask device/list for names, products, online flags */
  /* The front end names series by the list's name and product (line
   * protocol tags): the list is asked before any device is polled, and no
   * device's values, reports or pushed messages are handed out until a
   * list has answered once (they would start a second series without
   * those tags); said once while it waits. The devices are polled all the
   * same (their failures are told); what they answer is held (counted as
   * held). Implies use_list. */
  int tags_from_list;
  int discover;        /* also poll every listed device (implies use_list) */
  int64_t refresh_ms;  /* the list this often; 0: the roster's default */
  int64_t interval_ms; /* discovered devices and devices without one */
  int64_t read_interval_ms; /* how often reads come; 0: once (exec) */
  int daemon; /* reads keep coming: a refusal for good is retried hourly */
  ef_push_options push;
  /* What a reading publishes (ef_metric.h): 1, the catalog's metrics, and
   * every quota of a device whose family the catalog has no rows for (else
   * nothing would arrive for it); 0, every quota. Devices may say
   * otherwise. The account caps the values the catalog does not know
   * (what the cap cuts is said once per device) and guards lifetime
   * counters (ef_account.h). */
  int catalog_only;
  /* 1: leave out the rows of one value per battery cell or sensor
   * (ef_catalog.h: detail), about 50 values per PowerOcean. */
  int skip_detail;
  /* Shared by the engines whose devices' series must never meet (the
   * accounts of one collectd, which names series by instance); NULL: the
   * engine's own. Must outlive the engine's reads. */
  ef_instances *instances;
} ef_engine_options;

/* 1 when this build has push mode (libmosquitto). */
int ef_engine_can_push(void);

/* An engine for the account of options, telling sink. Returns NULL with
 * problem filled (EF_PROBLEM_LEN) when the options are unusable or memory
 * ran out. Call ef_client_global_init first. */
ef_engine *ef_engine_new(const ef_engine_options *options, const ef_sink *sink,
                         void *sink_ctx, char *problem);

/* Stops the engine's requests; the engine still needs ef_engine_free.
 * NULL is fine. */
void ef_engine_free(ef_engine *engine);

typedef struct {
  size_t read;    /* readings that arrived (fresh or stale) */
  size_t held;    /* readings not handed out: the list's tags are wanted */
  size_t failed;  /* readings that failed */
  size_t skipped; /* due, but offline by the list */
  size_t devices; /* the roster after the read */
} ef_read_summary;

/* One read at now_ms. Returns 0, or -1 when out of memory (said through
 * the sink). */
int ef_engine_read(ef_engine *engine, int64_t now_ms, ef_read_summary *summary);

/* Asks the device list now, alone, when the engine uses one and it is due
 * (a daemon that starts: the first read then knows every device). Returns
 * 0, or -1 when out of memory. */
int ef_engine_list_now(ef_engine *engine, int64_t now_ms);

/* Ends the running read within EF_STOP_LATENCY_MS (requests in flight are
 * cut off) and makes every later read send nothing. Safe from any
 * thread. */
void ef_engine_stop(ef_engine *engine);

/* A backfill of more windows than this (a week each: about ten years) is
 * refused unless the front end raises the bound. */
#define EF_BACKFILL_DEFAULT_MAX_WINDOWS 520
/* The most a front end may raise it to (about 1900 years). */
#define EF_BACKFILL_MAX_WINDOWS 100000
/* Windows go out in groups of the requests in flight, a group at most
 * this often: a backfill of years never bursts at the cloud, whose limits
 * are unknown (docs/wire-facts.md: bursts were followed by blocks). */
#define EF_BACKFILL_PACE_MS 1000
/* How often at most a long backfill says where it is. */
#define EF_BACKFILL_PROGRESS_MS 1000
/* ef_engine_backfill's refusal of a range of more than max_windows. */
#define EF_BACKFILL_TOO_MANY (-2)

/* Fetches report code of every device over [begin, end) in windows the API
 * accepts (ef_report_windows), each told through the sink's report
 * callback, failures as news, paced (EF_BACKFILL_PACE_MS). Asks the device
 * list first when the engine uses one. A device the cloud refuses for good
 * (1006, 8512) is not asked for its later windows. A backfill that runs
 * longer than EF_BACKFILL_PROGRESS_MS says where it is (EF_NEWS_NOTE at
 * EF_LEVEL_INFO: window k of n, the device, the window's dates) at most
 * that often, and how far it got at the end; windows that could not be
 * read are said at the end, per device (EF_LEVEL_WARNING), whatever the
 * length. Returns the windows read; -1 when the range holds no window or
 * memory ran out, EF_BACKFILL_TOO_MANY when it holds more than
 * max_windows (0: EF_BACKFILL_DEFAULT_MAX_WINDOWS), before anything is
 * sent (problem says which). */
int ef_engine_backfill(ef_engine *engine, int64_t now_ms, const char *code,
                       time_t begin, time_t end, size_t max_windows,
                       char *problem);

/* Stream mode: readable when pushed values wait (-1 otherwise), from at
 * most EF_MQTT_WAKE_GAP_US after they came (ef_mqtt_fd); then
 * ef_engine_take_pushed hands them out. Returns -1 when out of memory. */
int ef_engine_push_fd(const ef_engine *engine);
int ef_engine_take_pushed(ef_engine *engine, int64_t now_ms);

/* The devices of the account, for listings. */
size_t ef_engine_size(const ef_engine *engine);
const ef_roster_device *ef_engine_device(const ef_engine *engine, size_t index);

/* 1 when the last device list failed. */
int ef_engine_list_failing(const ef_engine *engine);

#endif
