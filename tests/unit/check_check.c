/* Unit tests of ef_check.c, the first-run check, against the in-process
 * server (unit_server.h). One server stands for both regions: the
 * endpoint's path says which (http://127.0.0.1:PORT/eu, .../us), and only
 * the region the test names knows the access key. */
#include "ef_check.h"
#include "ef_client.h"
#include "unit.h"
#include "unit_server.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCEAN "HJ31OCEAN0001"
#define GLOW "HJ31GLOW00001"
#define NOTMINE "HJ31NOTMINE01"
#define LIST_TWO                                                               \
  "[{\"sn\":\"" OCEAN "\",\"deviceName\":\"Living room\",\"online\":1,"        \
  "\"productName\":\"PowerOcean\"},{\"sn\":\"" GLOW "\",\"online\":1,"         \
  "\"productName\":\"PowerGlow\"}]"
/* The account's request timeout: room for a request under valgrind on a
 * busy machine (1 s was not, in distcheck under two busy loops). */
#define TIMEOUT_S 5
#define TIMEOUT_MS (TIMEOUT_S * 1000)
/* TIMEOUT_S as the printed configurations say it. */
#define TEXT_OF(token) #token
#define EXPANDED_TEXT_OF(macro) TEXT_OF(macro)
#define TIMEOUT_S_TEXT EXPANDED_TEXT_OF(TIMEOUT_S)

/* What the server answers. */
static struct {
  const char *region; /* the path prefix that knows the key */
  const char *list;   /* device/list's data */
  int64_t ahead_ms;   /* the server's clock against ours */
  /* per device: an HTTP status, or an API code, or a delay */
  const char *busy_sn;
  unsigned busy_status;
  const char *slow_sn;
} cloud;

static void set_cloud(const char *region, const char *list) {
  pthread_mutex_lock(&unit_server.lock);
  memset(&cloud, 0, sizeof(cloud));
  cloud.region = region;
  cloud.list = list;
  pthread_mutex_unlock(&unit_server.lock);
}

static void handle(const unit_request *request, unit_reply *reply, void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&unit_server.lock);
  snprintf(reply->x_timestamp, sizeof(reply->x_timestamp), "%" PRId64,
           ef_now_ms() + cloud.ahead_ms);
  size_t prefix = strlen(cloud.region);
  const char *path = request->path + prefix;
  const char *sn = request->sn ? request->sn : "";
  if (strncmp(request->path, cloud.region, prefix) != 0)
    reply->body = strdup("{\"code\":\"8513\",\"message\":\"accessKey is "
                         "invalid\"}");
  else if (strcmp(path, "/iot-open/sign/device/list") == 0)
    reply->body = unit_answer(cloud.list);
  else if (strcmp(sn, GLOW) == 0)
    reply->body = strdup("{\"code\":\"1006\",\"message\":\"current device "
                         "is not allowed to get device info\"}");
  else if (strcmp(sn, NOTMINE) == 0)
    reply->body = strdup("{\"code\":\"8512\",\"message\":\"no permission to "
                         "do it\"}");
  else if (cloud.busy_sn && strcmp(sn, cloud.busy_sn) == 0) {
    reply->status = cloud.busy_status;
    reply->body = strdup("busy");
  } else {
    if (cloud.slow_sn && strcmp(sn, cloud.slow_sn) == 0)
      reply->delay_ms = TIMEOUT_MS + 1000; /* times out */
    reply->body = unit_answer("{\"bpSoc\":42,\"sysGridPwr\":-1500.5,"
                              "\"someUnknownQuota\":7,\"bpPwr\":null}");
  }
  pthread_mutex_unlock(&unit_server.lock);
}

/* ---- fixture -------------------------------------------------------------
 */

static char base[64], eu[80], us[80];
static ef_account account;
static ef_check_report report;

static void start(const char *region, const char *list) {
  set_cloud(region, list);
  unit_server_start(handle, NULL, base, sizeof(base));
  snprintf(eu, sizeof(eu), "%seu", base);
  snprintf(us, sizeof(us), "%sus", base);
  account = (ef_account){.endpoint = eu,
                         .access_key = UNIT_ACCESS_KEY,
                         .secret_key = UNIT_SECRET_KEY,
                         .timeout_ms = TIMEOUT_MS};
  unsetenv(EF_TEST_OTHER_REGION_ENV);
}

static void run(const ef_check_device *devices, size_t n,
                const char *other_region) {
  ef_check_options options = {.account = &account,
                              .devices = devices,
                              .n_devices = n,
                              .telegraf_program = "/usr/bin/ecoflow-telegraf",
                              .other_region = other_region};
  ck_assert_int_eq(ef_check_run(&options, &report), 0);
}

static void finish(void) {
  /* Whatever the check found, the secret is in none of it. */
  for (size_t i = 0; i < report.n_findings; i++)
    ck_assert_ptr_null(strstr(report.findings[i].text, UNIT_SECRET_KEY));
  const char *texts[] = {report.summary, report.collectd_block,
                         report.telegraf_snippet};
  for (size_t i = 0; i < 3; i++)
    ck_assert(texts[i] == NULL || strstr(texts[i], UNIT_SECRET_KEY) == NULL);
  ef_check_report_clear(&report);
  unit_server_stop();
}

/* The finding of topic (and sn, for a device), which must be there. */
static const ef_check_finding *finding(ef_check_topic topic, const char *sn) {
  for (size_t i = 0; i < report.n_findings; i++) {
    const ef_check_finding *f = &report.findings[i];
    if (f->topic == topic && (sn == NULL || strcmp(f->sn, sn) == 0))
      return f;
  }
  ck_abort_msg("no finding of topic %d for %s", topic, sn ? sn : "-");
  return NULL;
}

static void says(const ef_check_finding *f, ef_check_verdict verdict,
                 const char *words) {
  ck_assert_msg(f->verdict == verdict, "%s, not %s: %s",
                ef_check_verdict_name(f->verdict),
                ef_check_verdict_name(verdict), f->text);
  ck_assert_msg(strstr(f->text, words) != NULL, "\"%s\" not in: %s", words,
                f->text);
}

static void has(const char *text, const char *words) {
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(strstr(text, words) != NULL, "\"%s\" not in:\n%s", words, text);
}

static void lacks(const char *text, const char *words) {
  ck_assert_msg(strstr(text, words) == NULL, "\"%s\" in:\n%s", words, text);
}

/* ---- tests ---------------------------------------------------------------
 */

/* Every device of the account: the keys work, the clock agrees, the
 * PowerOcean's values are counted, the PowerGlow's 1006 is a warning
 * (its values come with its PowerOcean's), and the snippets name the
 * host and the device that can be read. */
START_TEST(all_well) {
  start("/eu", LIST_TWO);
  run(NULL, 0, NULL);
  ck_assert_int_eq(report.ok, 1);
  ck_assert_str_eq(report.endpoint, eu);
  ck_assert_uint_eq(report.devices_read, 1);
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_OK, "accepts the access key");
  says(finding(EF_CHECK_CLOCK, NULL), EF_CHECK_OK, "agrees");
  says(finding(EF_CHECK_LIST, NULL), EF_CHECK_OK, "2 devices, 2 of them");
  const ef_check_finding *ocean = finding(EF_CHECK_DEVICE, OCEAN);
  says(ocean, EF_CHECK_OK, "(PowerOcean, \"Living room\", online)");
  says(ocean, EF_CHECK_OK, "5 values: 4 the catalog names, 1 it does not");
  ck_assert_uint_eq(ocean->named, 4);
  ck_assert_uint_eq(ocean->unknown, 1);
  says(finding(EF_CHECK_DEVICE, GLOW), EF_CHECK_WARNING,
       "API code 1006: current device is not allowed");
  says(finding(EF_CHECK_DEVICE, GLOW), EF_CHECK_WARNING, "PowerOcean's");
  has(report.summary, "everything a run needs works: 1 device read");
  has(report.collectd_block, "<Plugin ecoflow>\n  AccessKey \"" UNIT_ACCESS_KEY
                             "\"\n  SecretKeyFile \"");
  has(report.collectd_block, "Endpoint \"");
  has(report.collectd_block, eu);
  /* No device configured: a run reads every device, and so does what to
   * paste, saying so. */
  has(report.collectd_block,
      "\n  Timeout " TIMEOUT_S_TEXT "\n  Discover true\n</Plugin>\n");
  lacks(report.collectd_block, "<Device");
  has(report.telegraf_snippet,
      "commands = [\"/usr/bin/ecoflow-telegraf --endpoint ");
  has(report.telegraf_snippet, " --timeout " TIMEOUT_S_TEXT " --discover\"]");
  has(report.telegraf_snippet, "ECOFLOW_ACCESS_KEY and ECOFLOW_SECRET_KEY");
  lacks(report.telegraf_snippet, GLOW);
  finish();
}
END_TEST

/* 8513 from the endpoint, and the other region's host takes the keys:
 * the check says which host to configure, and goes on there. */
START_TEST(the_other_region_takes_the_keys) {
  start("/us", LIST_TWO);
  run(NULL, 0, us);
  ck_assert_int_eq(report.ok, 0);
  ck_assert_str_eq(report.endpoint, us);
  const ef_check_finding *keys = finding(EF_CHECK_KEYS, NULL);
  says(keys, EF_CHECK_FAILED,
       "does not know the access key (HTTP 200, API "
       "code 8513: accessKey is invalid), but");
  says(keys, EF_CHECK_FAILED, "Set the endpoint to");
  has(keys->text, us);
  ck_assert_str_eq(keys->error.api_code, "8513");
  ck_assert_uint_eq(report.devices_read, 1);
  has(report.collectd_block, us);
  has(report.telegraf_snippet, us);
  lacks(report.collectd_block, eu);
  has(report.summary, "1 problem to fix");
  finish();
}
END_TEST

/* The same through the test hook's environment variable, which the
 * report mentions. */
START_TEST(the_test_hook_names_the_other_region) {
  start("/us", LIST_TWO);
  setenv(EF_TEST_OTHER_REGION_ENV, us, 1);
  run(NULL, 0, NULL);
  unsetenv(EF_TEST_OTHER_REGION_ENV);
  says(finding(EF_CHECK_HOOK, NULL), EF_CHECK_NOTE, "a test hook");
  ck_assert_str_eq(report.endpoint, us);
  finish();
}
END_TEST

/* Neither region knows the key. */
START_TEST(no_region_knows_the_key) {
  start("/nowhere", LIST_TWO);
  run(NULL, 0, us);
  ck_assert_int_eq(report.ok, 0);
  ck_assert_ptr_null(report.endpoint);
  ck_assert_ptr_null(report.collectd_block);
  ck_assert_ptr_null(report.telegraf_snippet);
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED,
       "nor does http://127.0.0.1");
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED, "copy it again");
  finish();
}
END_TEST

/* A host that is not EcoFlow's has no other region: nothing else is
 * asked (a test never reaches the internet). */
START_TEST(no_other_region_for_other_hosts) {
  start("/us", LIST_TWO);
  run(NULL, 0, NULL);
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED,
       "no other region was asked");
  ck_assert_int_eq(unit_server.requests, 1);
  finish();
}
END_TEST

/* A wrong secret: 8521, asked twice (the cloud's transient 8521). */
START_TEST(a_wrong_secret) {
  start("/eu", LIST_TWO);
  account.secret_key = "not-the-secret";
  run(NULL, 0, NULL);
  ck_assert_int_eq(report.ok, 0);
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED,
       "refuses the signature, also when asked again: the secret key");
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED, "whitespace");
  ck_assert_int_eq(unit_server.bad_signatures, 2);
  ck_assert_ptr_null(report.collectd_block);
  finish();
}
END_TEST

/* The server's clock an hour ahead: said, as a warning (requests are
 * signed with the server's time, so a run still works). */
START_TEST(a_clock_that_is_off) {
  start("/eu", LIST_TWO);
  cloud.ahead_ms = 3600 * 1000;
  run(NULL, 0, NULL);
  says(finding(EF_CHECK_CLOCK, NULL), EF_CHECK_WARNING,
       "this machine's clock is 3600 s behind the EcoFlow server's");
  ck_assert_int_eq(report.ok, 1);
  finish();
}
END_TEST

/* How many device findings there are. */
static void devices_named(size_t n) {
  size_t found = 0;
  for (size_t i = 0; i < report.n_findings; i++)
    found += report.findings[i].topic == EF_CHECK_DEVICE;
  ck_assert_uint_eq(found, n);
}

/* Configured devices: a name goes into both snippets; one not bound to
 * the account (8512) and one EcoFlow does not open (1006) fail, and are
 * left out. */
START_TEST(configured_devices) {
  start("/eu", LIST_TWO);
  const ef_check_device devices[] = {
      {.sn = OCEAN, .name = "house"}, {.sn = NOTMINE}, {.sn = GLOW}};
  run(devices, 3, NULL);
  ck_assert_int_eq(report.ok, 0);
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_OK, "\"house\"");
  says(finding(EF_CHECK_DEVICE, NOTMINE), EF_CHECK_FAILED,
       "not in the account's device list): HTTP 200, API code 8512");
  says(finding(EF_CHECK_DEVICE, NOTMINE), EF_CHECK_FAILED,
       "not bound to the account");
  says(finding(EF_CHECK_DEVICE, GLOW), EF_CHECK_FAILED, "API code 1006");
  has(report.summary, "2 problems to fix");
  /* Configured devices only: the others the account lists are named. */
  devices_named(3);
  has(report.collectd_block, "<Device \"" OCEAN "\">\n    Name \"house\"\n");
  has(report.collectd_block, "# " NOTMINE " left out: HTTP 200, API code "
                             "8512");
  has(report.telegraf_snippet, " --sn " OCEAN "=house\"]");
  finish();
}
END_TEST

/* A configured device and another the account lists: that one is named
 * (the check tells which devices the account has), not read. */
START_TEST(listed_devices_not_configured) {
  start("/eu", LIST_TWO);
  const ef_check_device devices[] = {{.sn = OCEAN}};
  run(devices, 1, NULL);
  ck_assert_int_eq(report.ok, 1);
  devices_named(1);
  says(finding(EF_CHECK_OTHERS, NULL), EF_CHECK_NOTE,
       "the account also lists " GLOW " (PowerGlow, online); not configured, "
       "so not read");
  lacks(report.collectd_block, GLOW);
  has(report.collectd_block, "  <Device \"" OCEAN "\">\n    #Name \"Living "
                             "room\"  # default: the serial number\n"
                             "  </Device>\n");
  lacks(report.collectd_block, "Discover");
  lacks(report.telegraf_snippet, "--discover");
  ck_assert_int_eq(unit_server.requests, 2); /* the list, one quota/all */
  finish();
}
END_TEST

/* HTTP 429, a 5xx and a timeout each say what they are and what to do. */
START_TEST(a_busy_cloud) {
  const char *statuses[] = {"429", "503"};
  const char *words[] = {"rate-limits this account", "on its side"};
  for (size_t i = 0; i < 2; i++) {
    start("/eu", LIST_TWO);
    cloud.busy_sn = OCEAN;
    cloud.busy_status = (unsigned)atoi(statuses[i]);
    run(NULL, 0, NULL);
    ck_assert_int_eq(report.ok, 0);
    says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_FAILED, statuses[i]);
    says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_FAILED, words[i]);
    has(report.summary, "problem");
    finish();
  }
  start("/eu", LIST_TWO);
  cloud.slow_sn = OCEAN;
  run(NULL, 0, NULL);
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_FAILED, "Timeout was reached");
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_FAILED, "no answer in time");
  finish();
}
END_TEST

/* Nothing listens at the endpoint: the keys could not be tried, and the
 * clock not compared. */
START_TEST(nothing_answers) {
  start("/eu", LIST_TWO);
  unit_server_stop();
  run(NULL, 0, NULL);
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED,
       "could not be asked whether it takes the keys");
  says(finding(EF_CHECK_KEYS, NULL), EF_CHECK_FAILED, "nothing answers");
  says(finding(EF_CHECK_CLOCK, NULL), EF_CHECK_NOTE, "not compared");
  ck_assert_ptr_null(report.collectd_block);
  ef_check_report_clear(&report);
}
END_TEST

/* An account without devices, and one whose device is offline. */
START_TEST(no_devices_and_offline_ones) {
  start("/eu", "[]");
  run(NULL, 0, NULL);
  says(finding(EF_CHECK_LIST, NULL), EF_CHECK_FAILED, "lists no devices");
  ck_assert_int_eq(report.ok, 0);
  finish();
  start("/eu", "[{\"sn\":\"" OCEAN "\",\"online\":0}]");
  run(NULL, 0, NULL);
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_WARNING,
       "(offline): quota/all gave 5 values");
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_WARNING, "lists it offline");
  ck_assert_int_eq(report.ok, 1);
  finish();
}
END_TEST

/* A secret file and a CA file go into the snippets by their absolute
 * paths, shell- and TOML-quoted; a name with a quote too. */
START_TEST(files_and_quoting) {
  start("/eu", LIST_TWO);
  account.ca_file = "/nonexistent/ca.pem";
  const ef_check_device devices[] = {{.sn = OCEAN, .name = "my \"house\""}};
  ef_check_options options = {.account = &account,
                              .account_name = "home",
                              .devices = devices,
                              .n_devices = 1,
                              .secret_key_file = "/nonexistent/my secret"};
  ck_assert_int_eq(ef_check_run(&options, &report), 0);
  has(report.collectd_block, "  <Account \"home\">\n    AccessKey");
  has(report.collectd_block, "SecretKeyFile \"/nonexistent/my secret\"\n");
  has(report.collectd_block, "CAFile \"/nonexistent/ca.pem\"\n");
  has(report.collectd_block, "Name \"my \\\"house\\\"\"\n");
  has(report.telegraf_snippet, "[\"ecoflow-telegraf --endpoint ");
  has(report.telegraf_snippet, " --secret-key-file '/nonexistent/my secret'");
  has(report.telegraf_snippet, " --sn " OCEAN "='my \\\"house\\\"'\"]");
  has(report.telegraf_snippet, "needs\n# ECOFLOW_ACCESS_KEY.\n");
  finish();
}
END_TEST

/* A list of n devices: serial prefix, number, then product (NULL: none),
 * every third offline. Returns the list (malloc'ed). */
static char *fleet(const char *prefix, size_t n, const char *product,
                   char *list) {
  size_t len = strlen(list);
  char *grown = NULL;
  for (size_t i = 0; i < n; i++) {
    char product_json[64] = "";
    if (product)
      snprintf(product_json, sizeof(product_json), ",\"productName\":\"%s\"",
               product);
    ck_assert_int_ge(
        asprintf(&grown, "%.*s%s{\"sn\":\"%s%06zu\",\"online\":%d%s}]",
                 (int)(len ? len - 1 : 0), len ? list : "[", len > 2 ? "," : "",
                 prefix, i, i % 3 != 2, product_json),
        0);
    free(list);
    list = grown;
    len = strlen(list);
  }
  return list;
}

/* A large account: one quota/all per family, the others summed up per
 * family, and what to paste is discovery, not a device per device. */
START_TEST(one_device_per_family) {
  char *list = fleet("HJ31P", 300, "PowerOcean", strdup("[]"));
  list = fleet("HJ31H", 20, "PowerHeat", list);
  list = fleet("XK77A", 10, NULL, list); /* no product: by model code */
  start("/eu", list);
  run(NULL, 0, NULL);
  ck_assert_int_eq(report.ok, 1);
  /* The list, and one quota/all of each of the three families. */
  ck_assert_int_eq(unit_server.requests, 4);
  ck_assert_uint_eq(report.devices_read, 3);
  devices_named(3);
  says(finding(EF_CHECK_DEVICE, "HJ31P000000"), EF_CHECK_OK, "quota/all gave");
  says(finding(EF_CHECK_OTHERS, "HJ31P000000"), EF_CHECK_NOTE,
       "299 more devices of the family of HJ31P000000 (PowerOcean), 199 of "
       "them online, were not asked: the check asks one device of each "
       "family");
  says(finding(EF_CHECK_OTHERS, "HJ31H000000"), EF_CHECK_NOTE,
       "19 more devices");
  says(finding(EF_CHECK_OTHERS, "XK77A000000"), EF_CHECK_NOTE,
       "9 more devices of the family of XK77A000000 (the same model code)");
  has(report.collectd_block, "  Discover true\n");
  lacks(report.collectd_block, "<Device");
  ck_assert_uint_lt(report.n_findings, 12);
  finish();
  free(list);
}
END_TEST

/* Many configured devices: still one quota/all per family; what to paste
 * names at most 50 of them, with their names and intervals, and says how
 * many more there are. */
START_TEST(many_configured_devices) {
  char *list = fleet("HJ31P", 120, "PowerOcean", strdup("[]"));
  start("/eu", list);
  ef_check_device devices[120];
  char serials[120][16];
  for (size_t i = 0; i < 120; i++) {
    snprintf(serials[i], sizeof(serials[i]), "HJ31P%06zu", i);
    devices[i] = (ef_check_device){.sn = serials[i], .interval_s = 30};
  }
  devices[0].name = "first";
  run(devices, 120, NULL);
  ck_assert_int_eq(unit_server.requests, 2);
  has(report.collectd_block, "  <Device \"HJ31P000000\">\n    Name \"first\"\n"
                             "    Interval 30\n  </Device>\n");
  has(report.collectd_block, "<Device \"HJ31P000049\">");
  lacks(report.collectd_block, "<Device \"HJ31P000050\">");
  has(report.collectd_block, "# and 70 more <Device> blocks of this "
                             "configuration, not repeated here: keep them\n");
  lacks(report.collectd_block, "Discover");
  has(report.telegraf_snippet, "# and 70 more --sn of these settings");
  has(report.telegraf_snippet, " --sn HJ31P000049\"]");
  lacks(report.telegraf_snippet, "HJ31P000050");
  finish();
  free(list);
}
END_TEST

/* Only a serial number not bound to the account: what to paste reads
 * every device instead (collectd refuses a block with neither a device
 * nor Discover; a Telegraf command without --sn would read every device
 * without saying so). */
START_TEST(no_configured_device_can_be_read) {
  start("/eu", LIST_TWO);
  const ef_check_device devices[] = {{.sn = NOTMINE, .name = "mine"}};
  run(devices, 1, NULL);
  ck_assert_int_eq(report.ok, 0);
  has(report.collectd_block,
      "  # " NOTMINE " left out: HTTP 200, API code 8512: no permission to "
      "do it\n  # none of the configured devices can be read: Discover true "
      "reads every device\n  # the account lists instead\n  Discover true\n"
      "</Plugin>\n");
  has(report.telegraf_snippet,
      "# none of the configured devices can be read: --discover reads");
  has(report.telegraf_snippet, " --discover\"]");
  lacks(report.telegraf_snippet, "--sn");
  finish();
}
END_TEST

/* Configured devices the list lacks: the first 8 are asked (only asking
 * tells why: these answer, as a sub-device the list leaves out would), the
 * others summed up and kept, each said. */
START_TEST(unlisted_devices_bounded) {
  start("/eu", LIST_TWO);
  ef_check_device devices[12] = {{.sn = OCEAN}};
  char serials[10][16];
  for (size_t i = 0; i < 10; i++) {
    snprintf(serials[i], sizeof(serials[i]), "HJ31NO%04zu", i);
    devices[1 + i] = (ef_check_device){.sn = serials[i]};
  }
  devices[11] = (ef_check_device){.sn = NOTMINE};
  run(devices, 12, NULL);
  /* The list, the PowerOcean, 8 of the 11. */
  ck_assert_int_eq(unit_server.requests, 10);
  says(finding(EF_CHECK_OTHERS, NULL), EF_CHECK_WARNING,
       "3 more configured devices not in the account's device list, not "
       "asked (the check asks 8 such devices at most), kept in the "
       "configuration below: check them: HJ31NO0008 (not in the account's "
       "device list), HJ31NO0009 (not in the account's device list), " NOTMINE);
  has(report.collectd_block, "<Device \"HJ31NO0007\">");
  has(report.collectd_block, "  # not in the account's device list, and not "
                             "asked: check it\n  <Device \"" NOTMINE "\">");
  finish();
}
END_TEST

/* A device the cloud fails to answer (HTTP 503) stays in what to paste:
 * the failure is not its settings'. The account's settings are kept. */
START_TEST(transient_failures_kept) {
  start("/eu", LIST_TWO);
  cloud.busy_sn = OCEAN;
  cloud.busy_status = 503;
  account.max_concurrent = 4;
  account.shard_index = 1;
  account.shard_count = 3;
  account.counter_glitch = 0.05;
  account.max_unknown = 500;
  const ef_check_device devices[] = {{.sn = OCEAN, .interval_s = 12.5}};
  run(devices, 1, NULL);
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_FAILED,
       "; kept in the configuration below");
  has(report.collectd_block,
      "  Timeout " TIMEOUT_S_TEXT
      "\n  MaxConcurrent 4\n  MaxUnknownQuotas 500\n"
      "  CounterGlitchShare 0.05\n  Shard \"1/3\"\n"
      "  # could not be read just now: HTTP 503\n  <Device \"" OCEAN "\">\n");
  has(report.collectd_block, "    Interval 12.5\n");
  has(report.telegraf_snippet,
      " --timeout " TIMEOUT_S_TEXT
      " --max-concurrent 4 --max-unknown-quotas 500 "
      "--counter-glitch-share 0.05 --shard 1/3 --sn " OCEAN "\"]");
  finish();
}
END_TEST

/* A name that reorders or breaks lines (U+202E, U+2028, NEL) reaches no
 * finding and no comment to paste as it is. */
START_TEST(names_that_reorder_text) {
  start("/eu", "[{\"sn\":\"" OCEAN "\",\"deviceName\":\"roof\\u202Etxt.exe"
               "\\u2028E! forged\\u0085x\",\"online\":1,\"productName\":"
               "\"Power\\u2066Ocean\"}]");
  const ef_check_device devices[] = {{.sn = OCEAN}};
  run(devices, 1, NULL);
  const char *unsafe[] = {"\xe2\x80\xae", "\xe2\x80\xa8", "\xc2\x85",
                          "\xe2\x81\xa6"};
  for (size_t i = 0; i < report.n_findings; i++)
    for (size_t k = 0; k < 4; k++)
      lacks(report.findings[i].text, unsafe[k]);
  for (size_t k = 0; k < 4; k++) {
    lacks(report.collectd_block, unsafe[k]);
    lacks(report.telegraf_snippet, unsafe[k]);
  }
  says(finding(EF_CHECK_DEVICE, OCEAN), EF_CHECK_OK,
       "(Power?Ocean, \"roof?txt.exe?E! forged?x\", online)");
  has(report.collectd_block, "#Name \"roof?txt.exe?E! forged?x\"");
  finish();
}
END_TEST

UNIT_MAIN("check", all_well, the_other_region_takes_the_keys,
          the_test_hook_names_the_other_region, no_region_knows_the_key,
          no_other_region_for_other_hosts, a_wrong_secret, a_clock_that_is_off,
          configured_devices, listed_devices_not_configured, a_busy_cloud,
          nothing_answers, no_devices_and_offline_ones, files_and_quoting,
          one_device_per_family, many_configured_devices,
          no_configured_device_can_be_read, unlisted_devices_bounded,
          transient_failures_kept, names_that_reorder_text)
