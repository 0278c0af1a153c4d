/* Unit tests of ef_roster.c: configured and listed devices merged, offline
 * devices skipped, refreshes, and the 1006 rule, from hand-made lists
 * (no client). */
#include "ef_account.h"
#include "ef_roster.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS(m) ((int64_t)(m)*60 * 1000)

/* ---- what the roster told the front end -------------------------------- */

#define MAX_EVENTS 16

static struct {
  ef_roster_event event;
  char sn[32];
  char code[EF_ERROR_CODE_LEN];
} events[MAX_EVENTS];
static size_t n_events;
static int users_freed;

static void record(ef_roster_event event, ef_roster_device *device,
                   const ef_error *error, void *ctx) {
  (void)ctx;
  ck_assert_uint_lt(n_events, MAX_EVENTS);
  if (event == EF_ROSTER_ADDED) /* named already, for the front end's log */
    ck_assert_ptr_nonnull(device->listed_name);
  events[n_events].event = event;
  snprintf(events[n_events].sn, sizeof(events[n_events].sn), "%s",
           device ? device->sn : "-");
  snprintf(events[n_events].code, sizeof(events[n_events].code), "%s",
           error ? error->api_code : "");
  n_events++;
}

static void free_user(void *user) {
  users_freed++;
  free(user);
}

static void forget_events(void) { n_events = 0; }

static void assert_event(size_t i, ef_roster_event event, const char *sn) {
  ck_assert_uint_lt(i, n_events);
  ck_assert_int_eq(events[i].event, event);
  ck_assert_str_eq(events[i].sn, sn);
}

/* ---- lists as the cloud gives them ------------------------------------- */

/* "SN:online[:product]" items. */
static ef_device_list list_of(const char *const *items, size_t n) {
  ef_device_list list = {.items = calloc(n ? n : 1, sizeof(*list.items)),
                         .len = n};
  for (size_t i = 0; i < n; i++) {
    char *copy = strdup(items[i]);
    char *online = strchr(copy, ':');
    *online++ = '\0';
    char *product = strchr(online, ':');
    if (product != NULL)
      *product++ = '\0';
    list.items[i] =
        (ef_listed_device){.sn = strdup(copy),
                           .name = strdup(copy),
                           .product = product ? strdup(product) : NULL,
                           .online = strcmp(online, "1") == 0};
    free(copy);
  }
  return list;
}

#define LIST(...)                                                              \
  list_of((const char *const[]){__VA_ARGS__},                                  \
          sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

static int merge(ef_roster *roster, ef_device_list list, int64_t now_ms) {
  int status = ef_roster_merge(roster, &list, NULL, now_ms, record, NULL);
  ef_device_list_clear(&list);
  return status;
}

static ef_roster_device *device(const ef_roster *roster, const char *sn) {
  for (size_t i = 0; i < ef_roster_size(roster); i++)
    if (strcmp(ef_roster_device_at(roster, i)->sn, sn) == 0)
      return ef_roster_device_at(roster, i);
  return NULL;
}

/* The round's polled and skipped serials, each joined with ','. */
static void round_at(ef_roster *roster, int64_t now_ms, char *polled,
                     char *skipped) {
  ef_roster_round round;
  ck_assert_int_eq(ef_roster_round_start(roster, now_ms, &round), 0);
  polled[0] = skipped[0] = '\0';
  for (size_t i = 0; i < round.n_targets; i++) {
    ck_assert_ptr_eq(((ef_roster_device *)round.targets[i].user)->sn,
                     round.targets[i].sn);
    strcat(strcat(polled, i ? "," : ""), round.targets[i].sn);
  }
  for (size_t i = 0; i < round.n_offline; i++)
    strcat(strcat(skipped, i ? "," : ""), round.offline[i]->sn);
}

/* Polls every due device successfully. */
static void poll_all(ef_roster *roster, int64_t now_ms) {
  ef_roster_round round;
  ck_assert_int_eq(ef_roster_round_start(roster, now_ms, &round), 0);
  for (size_t i = 0; i < round.n_targets; i++)
    ef_roster_settle(round.targets[i].user, NULL, now_ms);
}

#define ASSERT_ROUND(roster, now_ms, want_polled, want_skipped)                \
  do {                                                                         \
    char polled_[256], skipped_[256];                                          \
    round_at(roster, now_ms, polled_, skipped_);                               \
    ck_assert_str_eq(polled_, want_polled);                                    \
    ck_assert_str_eq(skipped_, want_skipped);                                  \
  } while (0)

static const char *const house_quotas[] = {"bpSoc", "pcsAPhase"};
static int house_config;

static const ef_roster_entry configured[] = {
    {.sn = "HOUSE",
     .name = "house",
     .quotas = house_quotas,
     .n_quotas = 2,
     .config = &house_config},
    /* A front end may have nothing to hand back: still configured. */
    {.sn = "GARAGE", .interval_ms = 60000},
};

static ef_roster *discovering(void) {
  forget_events();
  users_freed = 0;
  ef_roster_options options = {.discover = 1,
                               .refresh_ms = MIN_MS(10),
                               .interval_ms = 10000,
                               .free_user = free_user};
  ef_roster *roster = ef_roster_new(&options, configured, 2, 0);
  ck_assert_ptr_nonnull(roster);
  return roster;
}

/* ---- the tests ---------------------------------------------------------- */

START_TEST(configured_devices_without_a_list) {
  ef_roster_options options = {.interval_ms = 30000};
  ef_roster *roster = ef_roster_new(&options, configured, 2, 0);
  ck_assert_int_eq(ef_roster_refresh_due(roster, 0), 0); /* no list used */
  ASSERT_ROUND(roster, 0, "HOUSE,GARAGE", "");
  ef_roster_round round;
  ef_roster_round_start(roster, 0, &round);
  ck_assert_ptr_eq(round.targets[0].quotas, house_quotas);
  ck_assert_uint_eq(round.targets[0].n_quotas, 2);
  ck_assert_ptr_null(round.targets[1].quotas);
  poll_all(roster, 0);
  ASSERT_ROUND(roster, 28000, "", "");
  ASSERT_ROUND(roster, 30000, "HOUSE", ""); /* GARAGE: every 60 s */
  ck_assert_ptr_eq(device(roster, "HOUSE")->config, &house_config);
  ck_assert_int_eq(device(roster, "HOUSE")->presence, EF_PRESENCE_UNKNOWN);
  ef_roster_free(roster);
}
END_TEST

START_TEST(discovery_adds_listed_devices) {
  ef_roster *roster = discovering();
  ck_assert_int_eq(ef_roster_refresh_due(roster, 0), 1);
  ck_assert_int_eq(merge(roster,
                         LIST("HOUSE:1:PowerOcean", "HEAT:1:PowerHeat",
                              "GLOW:0", "PULSE:1:PowerPulse"),
                         0),
                   0);
  ck_assert_uint_eq(n_events, 4);
  assert_event(0, EF_ROSTER_ADDED, "HEAT");
  assert_event(1, EF_ROSTER_ADDED, "GLOW");
  assert_event(2, EF_ROSTER_OFFLINE, "GLOW");
  assert_event(3, EF_ROSTER_ADDED, "PULSE");
  ck_assert_uint_eq(ef_roster_size(roster), 5);

  /* GARAGE is configured but not listed: polled all the same. */
  ASSERT_ROUND(roster, 0, "HOUSE,GARAGE,HEAT,PULSE", "GLOW");
  const ef_roster_device *house = device(roster, "HOUSE");
  ck_assert_str_eq(ef_roster_device_name(house), "house");
  ck_assert_str_eq(house->listed_name, "HOUSE");
  ck_assert_str_eq(house->product, "PowerOcean");
  ck_assert_int_eq(house->presence, EF_PRESENCE_ONLINE);
  const ef_roster_device *glow = device(roster, "GLOW");
  ck_assert_str_eq(ef_roster_device_name(glow), "GLOW"); /* listed name */
  ck_assert_ptr_null(glow->product); /* productName left out */
  ck_assert_ptr_null(glow->config);
  ck_assert_int_eq(glow->configured, 0);
  ck_assert_int_eq(house->configured, 1);
  ck_assert_int_eq(device(roster, "GARAGE")->presence, EF_PRESENCE_UNKNOWN);

  /* The list is asked again after the refresh period, not before. */
  ck_assert_int_eq(ef_roster_refresh_due(roster, MIN_MS(10) - 1), 0);
  ck_assert_int_eq(ef_roster_refresh_due(roster, MIN_MS(10)), 1);
  ef_roster_free(roster);
}
END_TEST

START_TEST(an_empty_list_is_valid) {
  ef_roster *roster = discovering();
  ck_assert_int_eq(merge(roster, list_of(NULL, 0), 0), 0);
  ck_assert_uint_eq(n_events, 0);
  ASSERT_ROUND(roster, 0, "HOUSE,GARAGE", "");
  ef_roster_free(roster);
}
END_TEST

START_TEST(offline_between_refreshes_is_skipped_quietly) {
  ef_roster *roster = discovering();
  merge(roster, LIST("HOUSE:1", "HEAT:1"), 0);
  poll_all(roster, 0);
  forget_events();
  merge(roster, LIST("HOUSE:1", "HEAT:0"), MIN_MS(10));
  ck_assert_uint_eq(n_events, 1);
  assert_event(0, EF_ROSTER_OFFLINE, "HEAT");
  ASSERT_ROUND(roster, MIN_MS(10), "HOUSE,GARAGE", "HEAT");
  /* Skipped, not failed: no back-off, no health change. */
  const ef_roster_device *heat = device(roster, "HEAT");
  ck_assert_uint_eq(heat->schedule.failures, 0);
  ck_assert_int_eq(heat->health.failing, 0);
  ck_assert_int_eq(heat->schedule.next_ms, MIN_MS(10) + 10000);
  poll_all(roster, MIN_MS(10));
  ASSERT_ROUND(roster, MIN_MS(10) + 5000, "", "");

  /* Still offline: no new event. Back online: due at once. */
  forget_events();
  merge(roster, LIST("HOUSE:1", "HEAT:0"), MIN_MS(20));
  ck_assert_uint_eq(n_events, 0);
  merge(roster, LIST("HOUSE:1", "HEAT:1"), MIN_MS(20) + 1000);
  ck_assert_uint_eq(n_events, 1);
  assert_event(0, EF_ROSTER_ONLINE, "HEAT");
  ASSERT_ROUND(roster, MIN_MS(20) + 1000, "HOUSE,GARAGE,HEAT", "");
  ef_roster_free(roster);
}
END_TEST

START_TEST(a_device_leaving_the_list_is_dropped) {
  ef_roster *roster = discovering();
  merge(roster, LIST("HOUSE:1", "HEAT:1", "GARAGE:1"), 0);
  device(roster, "HEAT")->user = malloc(16);
  device(roster, "GARAGE")->user = malloc(16);
  forget_events();
  merge(roster, LIST("PULSE:1"), MIN_MS(10));
  ck_assert_uint_eq(n_events, 2);
  assert_event(0, EF_ROSTER_REMOVED, "HEAT");
  assert_event(1, EF_ROSTER_ADDED, "PULSE");
  ck_assert_int_eq(users_freed, 1);
  /* Configured devices stay, their presence unknown again. */
  ck_assert_ptr_nonnull(device(roster, "HOUSE"));
  ck_assert_int_eq(device(roster, "GARAGE")->presence, EF_PRESENCE_UNKNOWN);
  ck_assert_ptr_null(device(roster, "HEAT"));
  ef_roster_free(roster);
  ck_assert_int_eq(users_freed, 2);
}
END_TEST

START_TEST(a_failing_list_stops_nothing_and_is_retried_sooner) {
  ef_roster *roster = discovering();
  ef_error error = {.kind = EF_ERR_HTTP, .http_status = 500};
  ck_assert_int_eq(ef_roster_merge(roster, NULL, &error, 0, record, NULL), 0);
  ck_assert_uint_eq(n_events, 1);
  assert_event(0, EF_ROSTER_LIST_FAILED, "-");
  ck_assert_int_eq(ef_roster_list_failing(roster), 1);
  ASSERT_ROUND(roster, 0, "HOUSE,GARAGE", "");
  /* Retried after a minute, then two, ... never later than the period. */
  ck_assert_int_eq(ef_roster_refresh_due(roster, EF_ROSTER_LIST_RETRY_MS - 1),
                   0);
  ck_assert_int_eq(ef_roster_refresh_due(roster, EF_ROSTER_LIST_RETRY_MS), 1);
  int64_t now = EF_ROSTER_LIST_RETRY_MS;
  ef_roster_merge(roster, NULL, &error, now, record, NULL);
  ck_assert_uint_eq(n_events, 1); /* the same failure: told once */
  ck_assert_int_eq(ef_roster_refresh_due(roster, now + 2 * 60000 - 1), 0);
  ck_assert_int_eq(ef_roster_refresh_due(roster, now + 2 * 60000), 1);
  for (int i = 0; i < 6; i++, now += MIN_MS(10))
    ef_roster_merge(roster, NULL, &error, now, record, NULL);
  ck_assert_int_eq(ef_roster_refresh_due(roster, now), 1);
  merge(roster, LIST("HOUSE:1", "HEAT:1"), now);
  assert_event(1, EF_ROSTER_LIST_RECOVERED, "-");
  ck_assert_int_eq(ef_roster_list_failing(roster), 0);
  assert_event(2, EF_ROSTER_ADDED, "HEAT");
  ck_assert_int_eq(ef_roster_refresh_due(roster, now + MIN_MS(10) - 1), 0);
  /* A failure after a good list keeps what the list said. */
  ef_roster_merge(roster, NULL, &error, now + MIN_MS(10), record, NULL);
  ck_assert_int_eq(device(roster, "HEAT")->presence, EF_PRESENCE_ONLINE);
  ef_roster_free(roster);
}
END_TEST

/* A listed device the cloud refuses (1006) is reported once and retried
 * hourly, whatever the refresh period and the interval. */
START_TEST(a_refused_device_is_retried_hourly) {
  ef_roster *roster = discovering();
  merge(roster, LIST("HOUSE:1", "GLOW:1"), 0);
  ef_error refused = {.kind = EF_ERR_API, .http_status = 200};
  strcpy(refused.api_code, "1006");
  strcpy(refused.message, "current device is not allowed to get device info");
  ef_roster_device *glow = device(roster, "GLOW");
  ck_assert_int_eq(ef_roster_settle(glow, &refused, 0), EF_HEALTH_FAILED);
  ef_roster_settle(device(roster, "HOUSE"), NULL, 0);
  ef_roster_settle(device(roster, "GARAGE"), NULL, 0);
  for (int64_t now = MIN_MS(10); now < MIN_MS(60); now += MIN_MS(10)) {
    merge(roster, LIST("HOUSE:1", "GLOW:1"), now);
    char polled[256], skipped[256];
    round_at(roster, now, polled, skipped);
    ck_assert_ptr_null(strstr(polled, "GLOW"));
    poll_all(roster, now);
  }
  ASSERT_ROUND(roster, MIN_MS(60), "HOUSE,GARAGE,GLOW", "");
  ck_assert_int_eq(ef_roster_settle(glow, &refused, MIN_MS(60)),
                   EF_HEALTH_UNCHANGED);
  ck_assert_int_eq(glow->schedule.next_ms, MIN_MS(120));

  char text[512];
  ef_roster_explain(&refused, 1, text, sizeof(text));
  ck_assert_str_eq(text, "HTTP 200, API code 1006: current device is not "
                         "allowed to get device info; EcoFlow does not open "
                         "this model or sub-device to the API: read it "
                         "through its PowerOcean's serial number; re-tried "
                         "every hour, not every interval");
  /* A single poll (a program run once) retries nothing. */
  ef_roster_explain(&refused, 0, text, sizeof(text));
  ck_assert_ptr_null(strstr(text, "re-tried"));
  ef_error other = {.kind = EF_ERR_HTTP, .http_status = 500};
  ef_roster_explain(&other, 1, text, sizeof(text));
  ck_assert_str_eq(text, "HTTP 500");
  ef_roster_free(roster);
}
END_TEST

/* Names and online flags without polling the account's other devices. */
START_TEST(the_list_without_discovery) {
  forget_events();
  ef_roster_options options = {.use_list = 1, .interval_ms = 10000};
  ef_roster *roster = ef_roster_new(&options, configured, 2, 0);
  ck_assert_int_eq(ef_roster_refresh_due(roster, 0), 1);
  merge(roster, LIST("HOUSE:1:PowerOcean", "GARAGE:0", "HEAT:1"), 0);
  ck_assert_uint_eq(ef_roster_size(roster), 2);
  ck_assert_uint_eq(n_events, 1);
  assert_event(0, EF_ROSTER_OFFLINE, "GARAGE");
  ASSERT_ROUND(roster, 0, "HOUSE", "GARAGE");
  ck_assert_str_eq(device(roster, "HOUSE")->product, "PowerOcean");
  /* A list without its productName, one that fails, one without the
   * device: its name and product stay (its series keep their tags). */
  merge(roster, LIST("HOUSE:1"), MIN_MS(10));
  ck_assert_uint_eq(ef_roster_size(roster), 2);
  ck_assert_int_eq(device(roster, "GARAGE")->presence, EF_PRESENCE_UNKNOWN);
  ck_assert_str_eq(device(roster, "HOUSE")->product, "PowerOcean");
  ef_error error = {.kind = EF_ERR_HTTP, .http_status = 500};
  ef_roster_merge(roster, NULL, &error, MIN_MS(20), record, NULL);
  merge(roster, LIST("GARAGE:1"), MIN_MS(30));
  ck_assert_str_eq(device(roster, "HOUSE")->product, "PowerOcean");
  ck_assert_str_eq(device(roster, "HOUSE")->listed_name, "HOUSE");
  ef_roster_free(roster);
}
END_TEST

/* A configured Name equal to a listed serial: the discovered device gets a
 * suffix, said once, at the refresh that adds it; the rosters of two
 * accounts sharing a registry never hand out one instance twice; an
 * instance freed by a device that left the list can be taken again. */
START_TEST(instances_never_collide) {
  forget_events();
  ef_instances *shared = ef_instances_new();
  ck_assert_ptr_nonnull(shared);
  static const ef_roster_entry named[] = {{.sn = "SNA", .name = "SNB"},
                                          {.sn = "SNC"}};
  ef_roster_options options = {
      .discover = 1, .interval_ms = 10000, .instances = shared};
  ef_roster *first = ef_roster_new(&options, named, 2, 0);
  ck_assert_str_eq(device(first, "SNA")->instance, "SNB");
  ck_assert_str_eq(device(first, "SNC")->instance, "SNC");
  merge(first, LIST("SNA:1", "SNB:1", "SNC:1", "SND:1"), 0);
  ck_assert_str_eq(device(first, "SNB")->instance, "SNB~2");
  ck_assert_str_eq(device(first, "SND")->instance, "SND");
  ck_assert_str_eq(ef_roster_wanted_instance(device(first, "SNB")), "SNB");
  ck_assert_uint_eq(n_events, 3); /* added SNB, taken SNB, added SND */
  assert_event(1, EF_ROSTER_INSTANCE_TAKEN, "SNB");
  forget_events();
  merge(first, LIST("SNA:1", "SNB:1", "SNC:1", "SND:1"), MIN_MS(10));
  ck_assert_uint_eq(n_events, 0); /* said once, kept */
  ck_assert_str_eq(device(first, "SNB")->instance, "SNB~2");

  /* Another account lists the same devices. */
  ef_roster *second = ef_roster_new(&options, NULL, 0, 0);
  merge(second, LIST("SNB:1", "SND:1", "SNA:1"), 0);
  ck_assert_str_eq(device(second, "SNB")->instance, "SNB~3");
  ck_assert_str_eq(device(second, "SND")->instance, "SND~2");
  ck_assert_str_eq(device(second, "SNA")->instance, "SNA");
  ck_assert_uint_eq(n_events, 5);
  /* SND leaves the first account's list: its instance is free again. */
  merge(first, LIST("SNA:1", "SNB:1", "SNC:1"), MIN_MS(20));
  forget_events();
  merge(second, LIST("SNB:1", "SNA:1"), MIN_MS(10));
  merge(second, LIST("SNB:1", "SNA:1", "SND:1"), MIN_MS(20));
  ck_assert_str_eq(device(second, "SND")->instance, "SND");
  ef_roster_free(first);
  ef_roster_free(second);
  ef_instances_free(shared);
}
END_TEST

/* collectd writes '/' as '_': "a/b" and "a_b" are one file. A suffix
 * never makes an instance longer than a collectd name holds. */
START_TEST(instances_compare_as_written) {
  forget_events();
  char long_name[EF_DEVICE_NAME_MAX + 1];
  memset(long_name, 'x', EF_DEVICE_NAME_MAX);
  long_name[EF_DEVICE_NAME_MAX] = '\0';
  const ef_roster_entry entries[] = {{.sn = "S1", .name = "a/b"},
                                     {.sn = "S2", .name = "a_b"},
                                     {.sn = "S3", .name = long_name},
                                     {.sn = "S4", .name = long_name}};
  ef_roster_options options = {.interval_ms = 10000};
  ef_roster *roster = ef_roster_new(&options, entries, 4, 0);
  ck_assert_str_eq(device(roster, "S2")->instance, "a_b~2");
  const char *suffixed = device(roster, "S4")->instance;
  ck_assert_uint_eq(strlen(suffixed), EF_DEVICE_NAME_MAX);
  ck_assert_str_eq(suffixed + EF_DEVICE_NAME_MAX - 2, "~2");
  ef_roster_free(roster);
}
END_TEST

/* A Retry-After is said with the failure: how long the device waits, and
 * that a longer one was cut to the cap. */
START_TEST(retry_after_is_explained) {
  char text[1024];
  ef_error limited = {.kind = EF_ERR_HTTP,
                      .http_status = 429,
                      .retry_after_s = 30,
                      .retry_after_asked_s = 30};
  ef_roster_explain(&limited, 1, text, sizeof(text));
  ck_assert_msg(strstr(text, "the server asks to wait 30 s (Retry-After): "
                             "not asked again before") != NULL,
                "%s", text);
  limited.retry_after_asked_s = 100000000;
  limited.retry_after_s = 3600;
  ef_roster_explain(&limited, 1, text, sizeof(text));
  ck_assert_msg(strstr(text, "asks to wait 100000000 s (Retry-After): it "
                             "waits 3600 s, the longest it honours") != NULL,
                "%s", text);
  ef_error plain = {.kind = EF_ERR_HTTP, .http_status = 500};
  ef_roster_explain(&plain, 1, text, sizeof(text));
  ck_assert_str_eq(text, "HTTP 500");
}
END_TEST

START_TEST(quota_names) {
  ck_assert(ef_roster_quota_valid("bpSoc"));
  ck_assert(ef_roster_quota_valid("pcsAPhase"));
  ck_assert(ef_roster_quota_valid("20_1.invOutputWatts"));
  ck_assert(ef_roster_quota_valid("mpptHeartBeat[0]"));
  ck_assert(!ef_roster_quota_valid(""));
  ck_assert(!ef_roster_quota_valid("bp Soc"));
  ck_assert(!ef_roster_quota_valid("a\"b"));
}
END_TEST

/* Agents of one account split its discovered devices by shard: every
 * device lands in exactly one shard, the split depends on the serial number
 * alone (not on the list's order or size), and configured devices are
 * polled by every agent that has them. */
static void ignore(ef_roster_event event, ef_roster_device *device,
                   const ef_error *error, void *ctx) {
  (void)event, (void)device, (void)error, (void)ctx;
}

START_TEST(shards_split_the_discovered_devices) {
  enum { SHARDS = 3, LISTED = 60 };
  char serials[LISTED][16];
  char items[LISTED][24];
  const char *item_ptrs[LISTED];
  for (int i = 0; i < LISTED; i++) {
    snprintf(serials[i], sizeof(serials[i]), "HJ31ZD%06d", i * 7919);
    snprintf(items[i], sizeof(items[i]), "%s:1", serials[i]);
    item_ptrs[i] = items[i];
  }
  int owners[LISTED] = {0};
  size_t sizes[SHARDS] = {0};
  for (unsigned k = 0; k < SHARDS; k++) {
    forget_events();
    ef_roster_options options = {.discover = 1,
                                 .interval_ms = 10000,
                                 .free_user = free_user,
                                 .shard_index = k,
                                 .shard_count = SHARDS};
    ef_roster *roster = ef_roster_new(&options, configured, 2, 0);
    /* The list in reverse for odd shards: the order changes nothing. */
    const char *ordered[LISTED];
    for (int i = 0; i < LISTED; i++)
      ordered[i] = item_ptrs[k % 2 ? LISTED - 1 - i : i];
    ef_device_list list = list_of(ordered, LISTED);
    ck_assert_int_eq(ef_roster_merge(roster, &list, NULL, 0, ignore, NULL), 0);
    ef_device_list_clear(&list);
    ck_assert_ptr_nonnull(device(roster, "HOUSE"));
    ck_assert_ptr_nonnull(device(roster, "GARAGE"));
    for (int i = 0; i < LISTED; i++)
      if (device(roster, serials[i]) != NULL) {
        owners[i]++;
        sizes[k]++;
        ck_assert_uint_eq(ef_serial_shard(serials[i], SHARDS), k);
      }
    ck_assert_uint_eq(ef_roster_size(roster), 2 + sizes[k]);
    /* What a list refresh copies: the roster's devices and its shard's,
     * found by serial number through the roster's index. */
    ck_assert(ef_roster_keeps("HOUSE", roster));
    ck_assert(ef_roster_keeps("GARAGE", roster));
    for (int i = 0; i < LISTED; i++) {
      ck_assert_int_eq(ef_roster_keeps(serials[i], roster),
                       ef_serial_shard(serials[i], SHARDS) == k);
      ck_assert_ptr_eq(ef_roster_find(roster, serials[i]),
                       device(roster, serials[i]));
    }
    /* The first half leaves the list: the index forgets them only. */
    list = list_of(ordered + LISTED / 2, LISTED - LISTED / 2);
    ck_assert_int_eq(ef_roster_merge(roster, &list, NULL, 0, ignore, NULL), 0);
    ef_device_list_clear(&list);
    for (int i = 0; i < LISTED; i++) {
      int gone = k % 2 ? i >= LISTED - LISTED / 2 : i < LISTED / 2;
      ck_assert_ptr_eq(ef_roster_find(roster, serials[i]),
                       gone ? NULL : device(roster, serials[i]));
    }
    ck_assert_ptr_nonnull(ef_roster_find(roster, "HOUSE"));
    ef_roster_free(roster);
  }
  for (int i = 0; i < LISTED; i++)
    ck_assert_msg(owners[i] == 1, "%s is in %d shards", serials[i], owners[i]);
  for (unsigned k = 0; k < SHARDS; k++) /* no shard is left empty */
    ck_assert_uint_gt(sizes[k], LISTED / SHARDS / 2);
  /* The hash is fixed (FNV-1a of the serial): the same shard forever. */
  ck_assert_uint_eq(ef_serial_shard("HJ31ZDH2ZF690029", 1), 0);
  ck_assert_uint_eq(ef_serial_shard("HJ31ZDH2ZF690029", 4096),
                    ef_serial_shard("HJ31ZDH2ZF690029", 4096));
}
END_TEST

UNIT_MAIN("roster", configured_devices_without_a_list,
          discovery_adds_listed_devices, an_empty_list_is_valid,
          offline_between_refreshes_is_skipped_quietly,
          a_device_leaving_the_list_is_dropped,
          a_failing_list_stops_nothing_and_is_retried_sooner,
          a_refused_device_is_retried_hourly, the_list_without_discovery,
          quota_names, shards_split_the_discovered_devices,
          instances_never_collide, instances_compare_as_written,
          retry_after_is_explained)
