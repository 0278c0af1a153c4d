/* check_settings.c: one verdict per setting, whichever front end reads it.
 *
 * The same table of good and bad account settings goes through the
 * collectd plugin's configuration (a <Plugin ecoflow> block, as collectd
 * hands it over) and through ecoflow-telegraf's (a config file line); both
 * must accept or refuse each value, and a refusal must carry the core's
 * words (ef_account.h) in both, without echoing the value. */
#include "ecoflow_config.h"
#include "ef_account.h"
#include "telegraf_config.h"
#include "unit.h"

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files a row can name, made in a private directory: @NAME in a value
 * becomes that file's path. */
static const struct {
  const char *name;
  mode_t mode;
  const char *content; /* NULL: a directory; "|": a FIFO */
} files[] = {
    {"private", 0600, "SecretKeyFromFile\n"},
    /* not root's (handed to another user when the test runs as root):
     * only root may share a secret with a group */
    {"group_readable", 0640, "SecretKeyFromFile"},
    {"other_readable", 0604, "SecretKeyFromFile"},
    {"group_writable", 0620, "SecretKeyFromFile"},
    {"owner_read_only", 0400, "SecretKeyFromFile"},
    {"two_words", 0600, "Secret Key"},
    {"empty", 0600, ""},
    {"fifo", 0600, "|"},
    {"directory", 0700, NULL},
    {"ca.pem", 0644, "-----BEGIN CERTIFICATE-----\n"},
};

static char dir[64];

typedef enum {
  ENDPOINT,
  ACCESS_KEY,
  SECRET_KEY,
  SECRET_KEY_FILE,
  CA_FILE,
  TIMEOUT,
  MAX_CONCURRENT,
  MAX_UNKNOWN,
  COUNTER_GLITCH,
  SHARD,
  SERIAL,
  NAME,
} setting;

static const struct {
  setting setting;
  const char *value;
  const char *refusal; /* NULL: accepted; else part of the core's words */
} rows[] = {
    {ENDPOINT, "https://api-a.ecoflow.com", NULL},
    {ENDPOINT, "https://api-e.ecoflow.com/", NULL},
    {ENDPOINT, "http://127.0.0.1:8080", NULL},
    {ENDPOINT, "api-e.ecoflow.com", "an http:// or https:// URL with a host"},
    {ENDPOINT, "ftp://api-e.ecoflow.com", "an http:// or https:// URL"},
    {ENDPOINT, "https://", "an http:// or https:// URL"},
    {ENDPOINT, "https://api e.com", "an http:// or https:// URL"},
    {ENDPOINT, "https://h\r\nX-Injected: yes", "control character"},
    {ACCESS_KEY, "AccessKey123", NULL},
    {ACCESS_KEY, "  AccessKey123  ", NULL},
    {ACCESS_KEY, "Access Key123", "blank or a control character"},
    {ACCESS_KEY, "AK\r\nX-Injected: yes", "control character"},
    {ACCESS_KEY, "AK\tAK", "control character"},
    {SECRET_KEY, "SecretKey123", NULL},
    {SECRET_KEY, "Secret Key123", "blank or a control character"},
    {SECRET_KEY, "SK\nX-Injected: yes", "control character"},
    {SECRET_KEY_FILE, "@private", NULL},
    {SECRET_KEY_FILE, "@owner_read_only", NULL},
    {SECRET_KEY_FILE, "@group_readable", "(mode 0640); make it private: chmod"},
    {SECRET_KEY_FILE, "@other_readable", "(mode 0604); make it private: chmod"},
    {SECRET_KEY_FILE, "@group_writable", "(mode 0620); make it private: chmod"},
    {SECRET_KEY_FILE, "@two_words", "blank or a control character"},
    {SECRET_KEY_FILE, "@empty", "is empty"},
    {SECRET_KEY_FILE, "@fifo", "not a regular file"},
    {SECRET_KEY_FILE, "@directory", "not a regular file"},
    {SECRET_KEY_FILE, "@missing", "cannot open it: No such file"},
    {CA_FILE, "@ca.pem", NULL},
    {CA_FILE, "@missing", "cannot open it"},
    {CA_FILE, "@directory", "not a regular file"},
    {TIMEOUT, "10", NULL},
    {TIMEOUT, "0.5", NULL},
    {TIMEOUT, "300", NULL},
    {TIMEOUT, "301", "from 0.001 to 300"},
    {TIMEOUT, "3600", "from 0.001 to 300"},
    {TIMEOUT, "0", "from 0.001 to 300"},
    {TIMEOUT, "-5", "from 0.001 to 300"},
    {TIMEOUT, "1.5e+1", NULL},
    {TIMEOUT, "inf", "decimal number"},
    {TIMEOUT, "nan", "decimal number"},
    {TIMEOUT, "1.0e999", "decimal number"},
    {TIMEOUT, "0x1p3", "decimal number"},
    {MAX_CONCURRENT, "1", NULL},
    {MAX_CONCURRENT, "64", NULL},
    {MAX_CONCURRENT, "65", NULL},
    {MAX_CONCURRENT, "256", NULL},
    {MAX_CONCURRENT, "257", "a whole number from 1 to 256"},
    {MAX_CONCURRENT, "1000", "a whole number from 1 to 256"},
    {MAX_CONCURRENT, "0", "a whole number from 1 to 256"},
    {MAX_CONCURRENT, "2.5", "a whole number from 1 to 256"},
    {MAX_CONCURRENT, "+5", NULL},
    {MAX_UNKNOWN, "1", NULL},
    {MAX_UNKNOWN, "350", NULL},
    {MAX_UNKNOWN, "100000", NULL},
    {MAX_UNKNOWN, "0", "a whole number from 1 to 100000"},
    {MAX_UNKNOWN, "100001", "a whole number from 1 to 100000"},
    {MAX_UNKNOWN, "12.5", "a whole number from 1 to 100000"},
    {COUNTER_GLITCH, "0.01", NULL},
    {COUNTER_GLITCH, "0.5", NULL},
    {COUNTER_GLITCH, "0.0001", NULL},
    {COUNTER_GLITCH, "0", "a number from 0.0001 to 0.5"},
    {COUNTER_GLITCH, "0.75", "a number from 0.0001 to 0.5"},
    {COUNTER_GLITCH, "-0.01", "a number from 0.0001 to 0.5"},
    {COUNTER_GLITCH, ".125", NULL},
    {COUNTER_GLITCH, "0x1p-3", "decimal number"},
    {COUNTER_GLITCH, "0X1P-3", "decimal number"},
    {COUNTER_GLITCH, "0x.2p0", "decimal number"},
    {SHARD, "0/1", NULL},
    {SHARD, "3/4", NULL},
    {SHARD, "4095/4096", NULL},
    {SHARD, "4/4", "a shard is K/N"},
    {SHARD, "1/0", "a shard is K/N"},
    {SHARD, "0/4097", "a shard is K/N"},
    {SHARD, "1 / 4", "a shard is K/N"},
    {SHARD, "-1/4", "a shard is K/N"},
    {SHARD, "1/4x", "a shard is K/N"},
    {SHARD, "0000000001/4", "a shard is K/N"},
    {SERIAL, "HJ31ZDH2ZF690029", NULL},
    {SERIAL, "HJ31-ABC_1.x", NULL},
    {SERIAL, "SN 1", "a serial number has 1 to 64 letters"},
    {SERIAL, "SN/1", "a serial number has 1 to 64 letters"},
    {SERIAL, "SN\x1b[31m", "control character"},
    {SERIAL, "S234567890123456789012345678901234567890123456789012345678901234",
     NULL},
    {SERIAL,
     "S2345678901234567890123456789012345678901234567890123456789012345",
     "a serial number has 1 to 64 letters"},
    {NAME, "house", NULL},
    {NAME, "Küche", NULL},
    {NAME, "house/garage", "a device name has 1 to 127 characters"},
    {NAME, "house\nforged", "control character"},
};

/* ---- the files ---------------------------------------------------------- */

static void make_files(void) {
  snprintf(dir, sizeof(dir), "/tmp/check_settings.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
    if (files[i].content == NULL) {
      ck_assert_int_eq(mkdir(path, files[i].mode), 0);
    } else if (strcmp(files[i].content, "|") == 0) {
      ck_assert_int_eq(mkfifo(path, files[i].mode), 0);
    } else {
      int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
      ck_assert_int_ge(fd, 0);
      size_t len = strlen(files[i].content);
      ck_assert_int_eq(write(fd, files[i].content, len), (ssize_t)len);
      ck_assert_int_eq(fchmod(fd, files[i].mode), 0);
      if (geteuid() == 0 && strcmp(files[i].name, "group_readable") == 0)
        ck_assert_int_eq(fchown(fd, 1, (gid_t)-1), 0);
      close(fd);
    }
  }
}

static void remove_files(void) {
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
    if (files[i].content == NULL)
      rmdir(path);
    else
      unlink(path);
  }
  rmdir(dir);
}

/* value with a leading @NAME made the path of that file. */
static void resolve(const char *value, char *out, size_t size) {
  if (value[0] == '@')
    snprintf(out, size, "%s/%s", dir, value + 1);
  else
    snprintf(out, size, "%s", value);
}

/* ---- collectd ------------------------------------------------------------
 */

static char collectd_message[1024];

static void keep_message(ecoflow_severity severity, const char *message,
                         void *ctx) {
  (void)ctx;
  if (severity == ECOFLOW_CONFIG_ERROR)
    snprintf(collectd_message, sizeof(collectd_message), "%s", message);
}

/* A tree of at most 8 items with one value each, as collectd builds it. */
typedef struct {
  oconfig_item_t items[8];
  oconfig_value_t values[8];
  int n;
} tree;

/* 1 when collectd 5.12's configuration scanner (liboconfig/scanner.l)
 * makes a number of text written without quotes; its parser then reads it
 * with strtod. Anything else it hands over as a string. */
static int collectd_scans_number(const char *text) {
  static const char *const forms[] = {
      "^[+-]?[0-9]*\\.[0-9]+([eE][+-][0-9]+)?$", /* FLOAT_NUMBER */
      "^0[xX][0-9a-fA-F]+$",                     /* HEX_NUMBER */
      "^0[0-7]+$",                               /* OCT_NUMBER */
      "^[+-]?[0-9]+$",                           /* DEC_NUMBER */
  };
  int number = 0;
  for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]) && !number; i++) {
    regex_t form;
    ck_assert_int_eq(regcomp(&form, forms[i], REG_EXTENDED | REG_NOSUB), 0);
    number = regexec(&form, text, 0, NULL, 0) == 0;
    regfree(&form);
  }
  return number;
}

/* number: 0 a string, 1 a number as collectd's scanner makes it (a string
 * when it makes none), 2 a boolean ("true" or "false"). */
static oconfig_item_t *item(tree *t, oconfig_item_t *parent, const char *key,
                            const char *text, int number) {
  ck_assert_int_lt(t->n, 8);
  oconfig_item_t *child = &t->items[t->n];
  oconfig_value_t *value = &t->values[t->n++];
  if (number == 2)
    *value = (oconfig_value_t){.type = OCONFIG_TYPE_BOOLEAN,
                               .value.boolean = strcmp(text, "true") == 0};
  else if (number && collectd_scans_number(text))
    *value = (oconfig_value_t){.type = OCONFIG_TYPE_NUMBER,
                               .value.number = strtod(text, NULL)};
  else
    *value = (oconfig_value_t){.type = OCONFIG_TYPE_STRING,
                               .value.string = (char *)text};
  *child = (oconfig_item_t){
      .key = (char *)key, .values = value, .values_num = 1, .parent = parent};
  if (parent->children == NULL)
    parent->children = child;
  parent->children_num++;
  return child;
}

/* The verdict of the collectd plugin's configuration: 0 or -1. */
static int collectd_verdict(setting which, const char *value) {
  static const char *const options[] = {[ENDPOINT] = "Endpoint",
                                        [ACCESS_KEY] = "AccessKey",
                                        [SECRET_KEY] = "SecretKey",
                                        [SECRET_KEY_FILE] = "SecretKeyFile",
                                        [CA_FILE] = "CAFile",
                                        [TIMEOUT] = "Timeout",
                                        [MAX_CONCURRENT] = "MaxConcurrent",
                                        [MAX_UNKNOWN] = "MaxUnknownQuotas",
                                        [COUNTER_GLITCH] = "CounterGlitchShare",
                                        [SHARD] = "Shard"};
  /* Children of one block must lie side by side: the block's options
   * first, then the device with its own. */
  tree t = {.n = 0};
  oconfig_item_t root = {.key = "Plugin"};
  item(&t, &root, "AccessKey", which == ACCESS_KEY ? value : "AK", 0);
  if (which == SECRET_KEY_FILE)
    item(&t, &root, "SecretKeyFile", value, 0);
  else
    item(&t, &root, "SecretKey", which == SECRET_KEY ? value : "SK", 0);
  if (which != ACCESS_KEY && which != SECRET_KEY && which != SECRET_KEY_FILE &&
      which <= SHARD)
    item(&t, &root, options[which], value,
         which >= TIMEOUT && which <= COUNTER_GLITCH);
  if (which == SHARD) /* it splits the discovered devices */
    item(&t, &root, "Discover", "true", 2);
  oconfig_item_t *device =
      item(&t, &root, "Device", which == SERIAL ? value : "SN1", 0);
  if (which == NAME) /* the last item: the root's children stay side by
                          side */
    item(&t, device, "Name", value, 0);
  ecoflow_config config = {0};
  collectd_message[0] = '\0';
  int status = ecoflow_config_parse(&config, &root, 10, keep_message, NULL);
  ecoflow_config_free(&config);
  return status;
}

/* ---- ecoflow-telegraf --------------------------------------------------- */

static char telegraf_message[TG_ERROR_LEN];

/* The verdict of ecoflow-telegraf's configuration (a file line): 0 or -1. */
static int telegraf_verdict(setting which, const char *value) {
  static const char *const keys[] = {[ENDPOINT] = "endpoint",
                                     [ACCESS_KEY] = "access_key",
                                     [SECRET_KEY] = "secret_key",
                                     [SECRET_KEY_FILE] = "secret_key_file",
                                     [CA_FILE] = "ca_file",
                                     [TIMEOUT] = "timeout",
                                     [MAX_CONCURRENT] = "max_concurrent",
                                     [MAX_UNKNOWN] = "max_unknown_quotas",
                                     [COUNTER_GLITCH] = "counter_glitch_share",
                                     [SHARD] = "shard"};
  tg_config config;
  tg_config_init(&config);
  telegraf_message[0] = '\0';
  char device[1100];
  snprintf(device, sizeof(device), "%s%s%s", which == SERIAL ? value : "SN1",
           which == NAME ? "=" : "", which == NAME ? value : "");
  int status =
      (which == ACCESS_KEY
           ? 0
           : tg_config_set(&config, TG_FROM_FILE, "t.conf:1", "access_key",
                           "AK", telegraf_message)) ||
      (which == SECRET_KEY || which == SECRET_KEY_FILE
           ? 0
           : tg_config_set(&config, TG_FROM_FILE, "t.conf:2", "secret_key",
                           "SK", telegraf_message)) ||
      tg_config_set(&config, TG_FROM_FILE, "t.conf:3", "sn", device,
                    telegraf_message) ||
      (which <= SHARD ? tg_config_set(&config, TG_FROM_FILE, "t.conf:4",
                                      keys[which], value, telegraf_message)
                      : 0) ||
      (which == SHARD ? tg_config_set(&config, TG_FROM_FILE, "t.conf:5",
                                      "discover", "true", telegraf_message)
                      : 0) ||
      tg_config_finish(&config, telegraf_message);
  tg_config_free(&config);
  return status ? -1 : 0;
}

/* ---- the table ---------------------------------------------------------- */

START_TEST(one_verdict_per_setting) {
  make_files();
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char value[512];
    resolve(rows[i].value, value, sizeof(value));
    int collectd = collectd_verdict(rows[i].setting, value);
    int telegraf = telegraf_verdict(rows[i].setting, value);
    int refused = rows[i].refusal != NULL;
    ck_assert_msg(collectd == -refused && telegraf == -refused,
                  "row %zu (%s): collectd %s (%s), ecoflow-telegraf %s (%s)", i,
                  rows[i].value, collectd ? "refuses" : "accepts",
                  collectd_message, telegraf ? "refuses" : "accepts",
                  telegraf_message);
    if (!refused)
      continue;
    ck_assert_msg(strstr(collectd_message, rows[i].refusal) != NULL &&
                      strstr(telegraf_message, rows[i].refusal) != NULL,
                  "row %zu: \"%s\" missing: collectd: %s; telegraf: %s", i,
                  rows[i].refusal, collectd_message, telegraf_message);
    /* A refused key or number is never echoed: it could be a secret. */
    if ((rows[i].setting == ACCESS_KEY || rows[i].setting == SECRET_KEY ||
         (rows[i].setting >= TIMEOUT && rows[i].setting <= SHARD)) &&
        strlen(rows[i].value) >= 3)
      ck_assert_msg(strstr(collectd_message, rows[i].value) == NULL &&
                        strstr(telegraf_message, rows[i].value) == NULL,
                    "row %zu: the value is echoed: %s; %s", i, collectd_message,
                    telegraf_message);
  }
  remove_files();
}
END_TEST

/* Numbers are decimal only (ef_number.h), as the cloud's are. collectd
 * reads its configuration itself, though, and its grammar takes 0x10 as
 * the number 16 (collectd.conf(5)): the plugin never sees the text. So
 * these are refused by ecoflow-telegraf, and reach the collectd plugin as
 * numbers, which it accepts. */
static const struct {
  setting setting;
  const char *value;
} collectd_hex[] = {
    {TIMEOUT, "0x10"},
    {MAX_CONCURRENT, "0x10"},
    {MAX_UNKNOWN, "0x10"},
    {MAX_UNKNOWN, "0X10"},
};

START_TEST(hex_is_collectd_grammar_only) {
  for (size_t i = 0; i < sizeof(collectd_hex) / sizeof(collectd_hex[0]); i++) {
    int collectd =
        collectd_verdict(collectd_hex[i].setting, collectd_hex[i].value);
    int telegraf =
        telegraf_verdict(collectd_hex[i].setting, collectd_hex[i].value);
    ck_assert_msg(collectd == 0 && telegraf == -1 &&
                      strstr(telegraf_message, "not a decimal number") != NULL,
                  "%s: collectd %s (%s), ecoflow-telegraf %s (%s)",
                  collectd_hex[i].value, collectd ? "refuses" : "accepts",
                  collectd_message, telegraf ? "refuses" : "accepts",
                  telegraf_message);
  }
}
END_TEST

/* ---- plain http:// ------------------------------------------------------ */

/* Which endpoints get the warning that keys travel unencrypted: every
 * plain http:// one but those written as a loopback address. */
static const struct {
  const char *endpoint;
  int in_clear;
} endpoints[] = {
    {"https://api-e.ecoflow.com", 0},
    {"https://127.0.0.1.nip.io", 0},
    {"http://api-e.ecoflow.com", 1},
    {"http://127.0.0.1:8080", 0},
    {"HTTP://127.0.0.1:8080/", 0},
    {"http://127.255.255.254", 0},
    {"http://127.1:9", 0},        /* libcurl reads it as 127.0.0.1 */
    {"http://0x7f000001/api", 0}, /* so is this */
    {"http://localhost:8080", 0}, /* libcurl's own: never resolved */
    {"http://LocalHost", 0},
    {"http://[::1]:8080", 0},
    {"http://[0:0:0:0:0:0:0:1]/", 0},
    {"http://user@127.0.0.1:8080", 0},
    {"http://127.0.0.1.nip.io", 1}, /* a name: wherever it resolves */
    {"http://127.attacker.example", 1},
    {"http://127.0.0.1.attacker.example:8080", 1},
    {"http://localhost.attacker.example", 1},
    {"http://localhost.", 1}, /* goes to the resolver */
    {"http://128.0.0.1", 1},
    {"http://126.255.255.255", 1},
    {"http://[::2]", 1},
    {"http://[::ffff:8.8.8.8]", 1},
    {"http://8.8.8.8@127.0.0.1.nip.io", 1},
    {"http://127.0.0.1@attacker.example", 1},
};

START_TEST(plain_http_is_warned_unless_to_a_loopback_address) {
  for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
    ck_assert_msg(ef_account_endpoint_in_clear(endpoints[i].endpoint) ==
                      endpoints[i].in_clear,
                  "%s: %s", endpoints[i].endpoint,
                  endpoints[i].in_clear ? "not warned" : "warned");
}
END_TEST

UNIT_MAIN("settings", one_verdict_per_setting, hex_is_collectd_grammar_only,
          plain_http_is_warned_unless_to_a_loopback_address)
