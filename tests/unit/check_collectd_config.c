/* check_collectd_config.c: the collectd plugin's configuration, from
 * hand-built oconfig trees (what collectd hands the plugin) to accounts,
 * without the daemon. */
#include "ecoflow_config.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building trees ---------------------------------------------------- */

#define TREE_MAX_CHILDREN 8
#define TREE_MAX_VALUES 3

static void item_init(oconfig_item_t *item, const char *key,
                      oconfig_item_t *parent) {
  item->key = (char *)key;
  item->parent = parent;
  item->values = calloc(TREE_MAX_VALUES, sizeof(*item->values));
  item->children = calloc(TREE_MAX_CHILDREN, sizeof(*item->children));
  ck_assert_ptr_nonnull(item->values);
  ck_assert_ptr_nonnull(item->children);
}

static void item_free(oconfig_item_t *item) {
  for (int i = 0; i < item->children_num; i++)
    item_free(item->children + i);
  free(item->children);
  free(item->values);
}

/* Appends a child block or option named key to parent. */
static oconfig_item_t *add(oconfig_item_t *parent, const char *key) {
  ck_assert_int_lt(parent->children_num, TREE_MAX_CHILDREN);
  oconfig_item_t *child = parent->children + parent->children_num++;
  item_init(child, key, parent);
  return child;
}

static oconfig_value_t *next_value(oconfig_item_t *item) {
  ck_assert_int_lt(item->values_num, TREE_MAX_VALUES);
  return item->values + item->values_num++;
}

/* Appends a string argument; returns item for chaining. */
static oconfig_item_t *str(oconfig_item_t *item, const char *text) {
  oconfig_value_t *value = next_value(item);
  value->type = OCONFIG_TYPE_STRING;
  value->value.string = (char *)text;
  return item;
}

static oconfig_item_t *num(oconfig_item_t *item, double number) {
  oconfig_value_t *value = next_value(item);
  value->type = OCONFIG_TYPE_NUMBER;
  value->value.number = number;
  return item;
}

/* `key "text"` */
static oconfig_item_t *opt(oconfig_item_t *parent, const char *key,
                           const char *text) {
  return str(add(parent, key), text);
}

/* `<key "name">` */
static oconfig_item_t *block(oconfig_item_t *parent, const char *key,
                             const char *name) {
  return opt(parent, key, name);
}

static void add_keys(oconfig_item_t *parent) {
  opt(parent, "AccessKey", "AK");
  opt(parent, "SecretKey", "SK");
}

/* ---- fixture: one <Plugin ecoflow> block and what the parser said ------ */

#define MAX_MESSAGES 8

typedef struct {
  ecoflow_severity severity;
  char *text;
} message;

static oconfig_item_t root;
static ecoflow_config config;
static message messages[MAX_MESSAGES];
static int n_messages;
static char temp_dir[64]; /* made by temp_file, removed by teardown */
static char *temp_path;

static void collect(ecoflow_severity severity, const char *text, void *ctx) {
  (void)ctx;
  ck_assert_int_lt(n_messages, MAX_MESSAGES);
  messages[n_messages].severity = severity;
  messages[n_messages].text = strdup(text);
  n_messages++;
}

static void new_plugin_block(void) {
  item_init(&root, "Plugin", NULL);
  str(&root, "ecoflow");
}

static void free_plugin_block(void) {
  item_free(&root);
  memset(&root, 0, sizeof(root));
}

static void setup(void) {
  new_plugin_block();
  memset(&config, 0, sizeof(config));
  n_messages = 0;
}

static void teardown(void) {
  free_plugin_block();
  ecoflow_config_free(&config);
  for (int i = 0; i < n_messages; i++)
    free(messages[i].text);
  if (temp_path != NULL) {
    unlink(temp_path);
    rmdir(temp_dir);
  }
  free(temp_path);
  temp_path = NULL;
}

static int parse_with_interval(double default_interval_s) {
  return ecoflow_config_parse(&config, &root, default_interval_s, collect,
                              NULL);
}

static int parse(void) { return parse_with_interval(10); }

static int count(ecoflow_severity severity) {
  int n = 0;
  for (int i = 0; i < n_messages; i++)
    n += messages[i].severity == severity;
  return n;
}

static void assert_parsed_quietly(void) {
  ck_assert_int_eq(parse(), 0);
  for (int i = 0; i < n_messages; i++)
    ck_abort_msg("unexpected message: %s", messages[i].text);
}

/* Exactly one message of severity, prefixed, containing expected. */
static void assert_one_message(ecoflow_severity severity,
                               const char *expected) {
  ck_assert_int_eq(count(severity), 1);
  for (int i = 0; i < n_messages; i++) {
    if (messages[i].severity != severity)
      continue;
    ck_assert_msg(strncmp(messages[i].text, "ecoflow plugin: ", 16) == 0,
                  "no prefix: %s", messages[i].text);
    ck_assert_msg(strstr(messages[i].text, expected) != NULL,
                  "message \"%s\" lacks \"%s\"", messages[i].text, expected);
  }
}

static void assert_refused(const char *expected) {
  ck_assert_int_eq(parse(), -1);
  assert_one_message(ECOFLOW_CONFIG_ERROR, expected);
}

/* A file in the test's temporary directory with content and mode; one per
 * test, removed by teardown. */
static const char *temp_file(const char *name, const char *content,
                             mode_t mode) {
  ck_assert_ptr_null(temp_path);
  snprintf(temp_dir, sizeof(temp_dir), "/tmp/check_collectd_config.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(temp_dir));
  ck_assert_int_ge(asprintf(&temp_path, "%s/%s", temp_dir, name), 0);
  const char *path = temp_path;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, content, strlen(content)),
                   (ssize_t)strlen(content));
  ck_assert_int_eq(fchmod(fd, mode), 0);
  close(fd);
  return path;
}

/* ---- accepted configurations ------------------------------------------- */

START_TEST(test_minimal_single_account) {
  setup();
  add_keys(&root);
  block(&root, "Device", "HJ31ZDH2ZF690029");
  assert_parsed_quietly();

  ck_assert_uint_eq(config.n_accounts, 1);
  const ecoflow_account *account = config.accounts[0];
  ck_assert_str_eq(account->name, "default");
  ck_assert_str_eq(account->account.endpoint, "https://api-e.ecoflow.com");
  ck_assert_str_eq(account->account.access_key, "AK");
  ck_assert_str_eq(account->account.secret_key, "SK");
  ck_assert_ptr_null(account->account.ca_file);
  ck_assert_int_eq(account->account.timeout_ms, 0);
  ck_assert_uint_eq(account->account.max_concurrent, 0);
  ck_assert_uint_eq(account->n_devices, 1);
  ck_assert_str_eq(account->devices[0].serial, "HJ31ZDH2ZF690029");
  ck_assert_str_eq(account->devices[0].name, "HJ31ZDH2ZF690029");
  ck_assert_double_eq(account->devices[0].interval_s, 10);
  teardown();
}
END_TEST

START_TEST(test_every_option) {
  setup();
  const char *ca_file = temp_file("ca.pem", "not checked here\n", 0644);
  opt(&root, "AccessKey", "  AK\n");
  opt(&root, "SecretKey", "\tSK ");
  opt(&root, "Endpoint", "http://127.0.0.1:8080//");
  num(add(&root, "Timeout"), 2.5);
  num(add(&root, "MaxConcurrent"), 3);
  opt(&root, "CAFile", ca_file);
  oconfig_item_t *house = block(&root, "Device", "SN-HOUSE");
  opt(house, "Name", "house");
  num(add(house, "Interval"), 30);
  block(&root, "device", "SN.GARAGE_2");
  ck_assert_int_eq(parse_with_interval(60), 0);
  ck_assert_int_eq(n_messages, 0);

  const ecoflow_account *account = config.accounts[0];
  ck_assert_str_eq(account->account.access_key, "AK");
  ck_assert_str_eq(account->account.secret_key, "SK");
  ck_assert_str_eq(account->account.endpoint, "http://127.0.0.1:8080");
  ck_assert_int_eq(account->account.timeout_ms, 2500);
  ck_assert_uint_eq(account->account.max_concurrent, 3);
  ck_assert_str_eq(account->account.ca_file, ca_file);
  ck_assert_uint_eq(account->n_devices, 2);
  ck_assert_str_eq(account->devices[0].name, "house");
  ck_assert_double_eq(account->devices[0].interval_s, 30);
  ck_assert_str_eq(account->devices[1].name, "SN.GARAGE_2");
  ck_assert_double_eq(account->devices[1].interval_s, 60);
  teardown();
}
END_TEST

START_TEST(test_options_ignore_case) {
  setup();
  opt(&root, "accesskey", "AK");
  opt(&root, "SECRETKEY", "SK");
  opt(block(&root, "dEvIcE", "SN1"), "name", "n");
  assert_parsed_quietly();
  ck_assert_str_eq(config.accounts[0]->devices[0].name, "n");
  teardown();
}
END_TEST

START_TEST(test_accounts) {
  setup();
  oconfig_item_t *home = block(&root, "Account", "home");
  add_keys(home);
  opt(home, "Endpoint", "https://api-a.ecoflow.com");
  block(home, "Device", "SN1");
  block(home, "Device", "SN2");
  oconfig_item_t *parents = block(&root, "Account", "parents");
  opt(parents, "AccessKey", "AK2");
  opt(parents, "SecretKey", "SK2");
  opt(block(parents, "Device", "SN3"), "Name", "parents");
  assert_parsed_quietly();

  ck_assert_uint_eq(config.n_accounts, 2);
  ck_assert_str_eq(config.accounts[0]->name, "home");
  ck_assert_str_eq(config.accounts[0]->account.endpoint,
                   "https://api-a.ecoflow.com");
  ck_assert_uint_eq(config.accounts[0]->n_devices, 2);
  ck_assert_str_eq(config.accounts[1]->name, "parents");
  ck_assert_str_eq(config.accounts[1]->account.access_key, "AK2");
  ck_assert_str_eq(config.accounts[1]->account.endpoint,
                   "https://api-e.ecoflow.com");
  ck_assert_str_eq(config.accounts[1]->devices[0].serial, "SN3");
  ck_assert_str_eq(config.accounts[1]->devices[0].name, "parents");
  teardown();
}
END_TEST

/* collectd calls the plugin once per <Plugin ecoflow> block. */
START_TEST(test_second_plugin_block_adds_accounts) {
  setup();
  oconfig_item_t *home = block(&root, "Account", "home");
  add_keys(home);
  block(home, "Device", "SN1");
  assert_parsed_quietly();
  free_plugin_block();
  new_plugin_block();
  oconfig_item_t *work = block(&root, "Account", "work");
  add_keys(work);
  block(work, "Device", "SN2");
  ck_assert_int_eq(parse(), 0);
  ck_assert_uint_eq(config.n_accounts, 2);
  ck_assert_str_eq(config.accounts[1]->name, "work");
  teardown();
}
END_TEST

START_TEST(test_second_plugin_block_without_accounts_is_refused) {
  setup();
  add_keys(&root);
  block(&root, "Device", "SN1");
  assert_parsed_quietly();
  free_plugin_block();
  new_plugin_block();
  add_keys(&root);
  block(&root, "Device", "SN2");
  assert_refused("account \"default\" is configured twice");
  ck_assert_uint_eq(config.n_accounts, 1);
  teardown();
}
END_TEST

START_TEST(test_short_interval_is_raised_with_one_warning) {
  setup();
  add_keys(&root);
  num(add(block(&root, "Device", "SN1"), "Interval"), 2);
  ck_assert_int_eq(parse(), 0);
  assert_one_message(ECOFLOW_CONFIG_WARNING,
                     "`Interval' 2 in <Device \"SN1\"> is below 10 s: "
                     "polling every 10 s instead");
  ck_assert_double_eq(config.accounts[0]->devices[0].interval_s, 10);
  teardown();
}
END_TEST

START_TEST(test_short_plugin_interval_warns_once) {
  setup();
  add_keys(&root);
  block(&root, "Device", "SN1");
  block(&root, "Device", "SN2");
  num(add(block(&root, "Device", "SN3"), "Interval"), 60);
  ck_assert_int_eq(parse_with_interval(1), 0);
  assert_one_message(ECOFLOW_CONFIG_WARNING,
                     "the plugin's interval (1 s) is below 10 s");
  ck_assert_int_eq(n_messages, 1);
  ck_assert_double_eq(config.accounts[0]->devices[0].interval_s, 10);
  ck_assert_double_eq(config.accounts[0]->devices[1].interval_s, 10);
  ck_assert_double_eq(config.accounts[0]->devices[2].interval_s, 60);
  teardown();
}
END_TEST

START_TEST(test_short_plugin_interval_unused_is_quiet) {
  setup();
  add_keys(&root);
  num(add(block(&root, "Device", "SN1"), "Interval"), 30);
  ck_assert_int_eq(parse_with_interval(1), 0);
  ck_assert_int_eq(n_messages, 0);
  teardown();
}
END_TEST

/* ---- SecretKeyFile ------------------------------------------------------ */

static void add_secret_file(const char *path) {
  opt(&root, "AccessKey", "AK");
  opt(&root, "SecretKeyFile", path);
  block(&root, "Device", "SN1");
}

START_TEST(test_secret_file_trimmed) {
  setup();
  const char *path = temp_file("secret", "  s3cr3t\r\n\n", 0600);
  add_secret_file(path);
  assert_parsed_quietly();
  ck_assert_str_eq(config.accounts[0]->account.secret_key, "s3cr3t");
  /* Kept for the first-run check's block to paste (ef_check.h). */
  ck_assert_str_eq(config.accounts[0]->secret_key_file, path);
  teardown();
}
END_TEST

START_TEST(test_secret_file_owner_only_read) {
  setup();
  const char *path = temp_file("secret", "s3cr3t", 0400);
  add_secret_file(path);
  assert_parsed_quietly();
  teardown();
}
END_TEST

/* Only root may share a secret with a group (ef_account_check_private):
 * a file the test's user owns, or, when the test runs as root, one it
 * hands to another user. */
START_TEST(test_secret_file_readable_by_group) {
  setup();
  const char *path = temp_file("secret", "s3cr3t", 0640);
  if (geteuid() == 0)
    ck_assert_int_eq(chown(path, 1, (gid_t)-1), 0);
  add_secret_file(path);
  char expected[256];
  snprintf(expected, sizeof(expected),
           "`SecretKeyFile' \"%s\" in <Plugin ecoflow>: it holds a secret "
           "but its group (",
           path);
  assert_refused(expected);
  snprintf(expected, sizeof(expected),
           ") may read it, and only root may share a secret with a group "
           "(mode 0640); make it private: chmod 600 %s",
           path);
  assert_one_message(ECOFLOW_CONFIG_ERROR, expected);
  teardown();
}
END_TEST

START_TEST(test_secret_file_readable_by_world) {
  setup();
  const char *path = temp_file("secret", "s3cr3t", 0604);
  add_secret_file(path);
  char expected[256];
  snprintf(expected, sizeof(expected),
           "(mode 0604); make it private: "
           "chmod 600 %s",
           path);
  assert_refused(expected);
  teardown();
}
END_TEST

START_TEST(test_secret_file_advice_is_shell_quoted) {
  setup();
  const char *path = temp_file("my secret", "s3cr3t", 0644);
  add_secret_file(path);
  char expected[256];
  snprintf(expected, sizeof(expected), "chmod 600 '%s'", path);
  assert_refused(expected);
  teardown();
}
END_TEST

START_TEST(test_secret_file_empty) {
  setup();
  const char *path = temp_file("secret", " \n", 0600);
  add_secret_file(path);
  assert_refused("\" in <Plugin ecoflow>: the secret key in it is empty");
  teardown();
}
END_TEST

START_TEST(test_secret_file_two_words) {
  setup();
  const char *path = temp_file("secret", "s3cr3t\nother\n", 0600);
  add_secret_file(path);
  assert_refused("in <Plugin ecoflow>: the secret key in it contains a blank "
                 "or a control character");
  teardown();
}
END_TEST

START_TEST(test_secret_file_missing) {
  setup();
  add_secret_file("/nonexistent/ecoflow.secret");
  assert_refused("`SecretKeyFile' \"/nonexistent/ecoflow.secret\" in <Plugin "
                 "ecoflow>: cannot open it: No such file or directory");
  teardown();
}
END_TEST

START_TEST(test_secret_file_directory) {
  setup();
  add_secret_file("/");
  assert_refused("is not a regular file");
  teardown();
}
END_TEST

START_TEST(test_secret_file_too_large) {
  setup();
  char *large = malloc(5000);
  memset(large, 'x', 4999);
  large[4999] = '\0';
  const char *path = temp_file("secret", large, 0600);
  add_secret_file(path);
  assert_refused("it is larger than 4096 bytes");
  free(large);
  teardown();
}
END_TEST

/* ---- refused configurations: each builds one mistake -------------------- */

static oconfig_item_t *valid_account(oconfig_item_t *parent) {
  add_keys(parent);
  return block(parent, "Device", "SN1");
}

static void unknown_option(oconfig_item_t *r) {
  valid_account(r);
  num(add(r, "Intervall"), 30);
}
static void unknown_device_option(oconfig_item_t *r) {
  opt(valid_account(r), "Nmae", "house");
}
static void unknown_account_option(oconfig_item_t *r) {
  oconfig_item_t *home = block(r, "Account", "home");
  valid_account(home);
  opt(home, "Host", "x");
}
static void no_access_key(oconfig_item_t *r) {
  opt(r, "SecretKey", "SK");
  block(r, "Device", "SN1");
}
static void no_secret(oconfig_item_t *r) {
  opt(r, "AccessKey", "AK");
  block(r, "Device", "SN1");
}
static void no_secret_in_account(oconfig_item_t *r) {
  oconfig_item_t *a = block(r, "Account", "home");
  opt(a, "AccessKey", "AK");
  block(a, "Device", "SN1");
}
static void secret_twice(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "SecretKeyFile", "/etc/collectd/ecoflow.secret");
}
static void access_key_twice(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "AccessKey", "AK2");
}
static void empty_access_key(oconfig_item_t *r) { opt(r, "AccessKey", " "); }
static void access_key_with_space(oconfig_item_t *r) {
  opt(r, "AccessKey", "AK AK");
}
static void access_key_with_newline(oconfig_item_t *r) {
  opt(r, "AccessKey", "AK\r\nX-Injected: yes");
}
static void secret_as_option_name(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "Sk3cr3tV4lu3x", "x");
}
static void no_device(oconfig_item_t *r) { add_keys(r); }
static void empty_block(oconfig_item_t *r) { (void)r; }
static void same_device_twice(oconfig_item_t *r) {
  valid_account(r);
  opt(block(r, "Device", "SN1"), "Name", "other");
}
static void same_device_in_two_accounts(oconfig_item_t *r) {
  valid_account(block(r, "Account", "a"));
  valid_account(block(r, "Account", "b"));
}
static void same_name_twice(oconfig_item_t *r) {
  opt(valid_account(r), "Name", "house");
  opt(block(r, "Device", "SN2"), "Name", "house");
}
static void name_is_other_serial(oconfig_item_t *r) {
  opt(valid_account(r), "Name", "SN2");
  block(r, "Device", "SN2");
}
static void same_account_twice(oconfig_item_t *r) {
  valid_account(block(r, "Account", "home"));
  oconfig_item_t *again = block(r, "Account", "home");
  add_keys(again);
  block(again, "Device", "SN2");
}
static void timeout_as_string(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "Timeout", "10");
}
static void timeout_zero(oconfig_item_t *r) {
  valid_account(r);
  num(add(r, "Timeout"), 0);
}
static void timeout_huge(oconfig_item_t *r) {
  valid_account(r);
  num(add(r, "Timeout"), 3600);
}
static void timeout_two_values(oconfig_item_t *r) {
  valid_account(r);
  num(num(add(r, "Timeout"), 1), 2);
}
static void max_concurrent_zero(oconfig_item_t *r) {
  valid_account(r);
  num(add(r, "MaxConcurrent"), 0);
}
static void max_concurrent_fraction(oconfig_item_t *r) {
  valid_account(r);
  num(add(r, "MaxConcurrent"), 2.5);
}
static void endpoint_without_scheme(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "Endpoint", "api-e.ecoflow.com");
}
static void endpoint_without_host(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "Endpoint", "https://");
}
static void ca_file_missing(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "CAFile", "/nonexistent/ca.pem");
}
static void device_without_serial(oconfig_item_t *r) {
  add_keys(r);
  add(r, "Device");
}
static void device_serial_as_number(oconfig_item_t *r) {
  add_keys(r);
  num(add(r, "Device"), 1234);
}
static void device_serial_with_space(oconfig_item_t *r) {
  add_keys(r);
  block(r, "Device", "SN 1");
}
static void device_name_with_slash(oconfig_item_t *r) {
  opt(valid_account(r), "Name", "house/garage");
}
static void device_interval_zero(oconfig_item_t *r) {
  num(add(valid_account(r), "Interval"), 0);
}
static void device_interval_negative(oconfig_item_t *r) {
  num(add(valid_account(r), "Interval"), -5);
}
static void account_without_name(oconfig_item_t *r) {
  valid_account(add(r, "Account"));
}
static void account_name_with_slash(oconfig_item_t *r) {
  valid_account(block(r, "Account", "a/b"));
}
static void nested_account(oconfig_item_t *r) {
  oconfig_item_t *outer = block(r, "Account", "outer");
  valid_account(outer);
  valid_account(block(outer, "Account", "inner"));
}
static void options_outside_accounts(oconfig_item_t *r) {
  valid_account(block(r, "Account", "home"));
  opt(r, "Endpoint", "https://api-a.ecoflow.com");
}

static oconfig_item_t *boolean(oconfig_item_t *item, int value) {
  oconfig_value_t *v = next_value(item);
  v->type = OCONFIG_TYPE_BOOLEAN;
  v->value.boolean = value;
  return item;
}
static void discover_as_string(oconfig_item_t *r) {
  valid_account(r);
  opt(r, "Discover", "yes");
}
static void discover_twice(oconfig_item_t *r) {
  valid_account(r);
  boolean(add(r, "Discover"), 1);
  boolean(add(r, "Discover"), 0);
}
static void refresh_without_discover(oconfig_item_t *r) {
  valid_account(r);
  num(add(r, "DiscoverRefresh"), 60);
}
static void refresh_zero(oconfig_item_t *r) {
  valid_account(r);
  boolean(add(r, "Discover"), 1);
  num(add(r, "DiscoverRefresh"), 0);
}
static void discover_false_without_devices(oconfig_item_t *r) {
  add_keys(r);
  boolean(add(r, "Discover"), 0);
}
static void quota_empty(oconfig_item_t *r) { add(valid_account(r), "Quota"); }
static void quota_as_number(oconfig_item_t *r) {
  num(add(valid_account(r), "Quota"), 1);
}
static void quota_with_space(oconfig_item_t *r) {
  opt(valid_account(r), "Quota", "bp Soc");
}
static void quota_twice(oconfig_item_t *r) {
  oconfig_item_t *device = valid_account(r);
  opt(device, "Quota", "bpSoc");
  opt(device, "Quota", "bpSoc");
}
static void report_code_with_space(oconfig_item_t *r) {
  block(valid_account(r), "Report", "JT303 Week");
}
static void report_unknown_option(oconfig_item_t *r) {
  opt(block(valid_account(r), "Report", "W"), "Code", "x");
}
static void report_twice(oconfig_item_t *r) {
  valid_account(r);
  block(r, "Report", "W");
  block(r, "Report", "W");
}
static void report_for_account_and_device(oconfig_item_t *r) {
  block(valid_account(r), "Report", "W");
  block(r, "Report", "W");
}
static void report_interval_zero(oconfig_item_t *r) {
  num(add(block(valid_account(r), "Report", "W"), "Interval"), 0);
}
static void report_prefix_with_slash(oconfig_item_t *r) {
  opt(block(valid_account(r), "Report", "W"), "InstancePrefix", "a/b");
}
static void shard_without_discover(oconfig_item_t *r) {
  opt(valid_account(r)->parent, "Shard", "1/4");
}
static void raw_quotas_twice(oconfig_item_t *r) {
  oconfig_item_t *device = valid_account(r);
  boolean(add(device, "RawQuotas"), 1);
  boolean(add(device, "RawQuotas"), 0);
}
static void raw_quotas_as_text(oconfig_item_t *r) {
  opt(valid_account(r)->parent, "RawQuotas", "yes");
}

static const struct {
  void (*build)(oconfig_item_t *root);
  const char *expected;
} refused[] = {
    {unknown_option,
     "unknown option `Intervall' in <Plugin ecoflow> (known: "
     "AccessKey, SecretKey, SecretKeyFile, Endpoint, Timeout, "
     "MaxConcurrent, CAFile, Discover, DiscoverRefresh, MQTT, "
     "MQTTClientIdSuffix, MQTTRefresh, MQTTSilence, "
     "RawQuotas, CellValues, MaxUnknownQuotas, CounterGlitchShare, "
     "Shard, "
     "<Device>, <Report>)"},
    {unknown_device_option, "unknown option `Nmae' in <Device \"SN1\"> "
                            "(known: Name, Interval, Quota, RawQuotas, "
                            "<Report>)"},
    {unknown_account_option, "unknown option `Host' in <Account \"home\">"},
    {no_access_key, "<Plugin ecoflow> has no `AccessKey'"},
    {no_secret, "<Plugin ecoflow> has no `SecretKey' or `SecretKeyFile'"},
    {no_secret_in_account,
     "<Account \"home\"> has no `SecretKey' or `SecretKeyFile'"},
    {secret_twice, "<Plugin ecoflow> gives the secret key twice"},
    {access_key_twice, "`AccessKey' is given twice in <Plugin ecoflow>"},
    {empty_access_key,
     "`AccessKey' in <Plugin ecoflow>: the access key is empty"},
    {access_key_with_space,
     "`AccessKey' in <Plugin ecoflow>: the access key contains a blank or a "
     "control character"},
    {access_key_with_newline,
     "`AccessKey' in <Plugin ecoflow>: the access key contains a blank or a "
     "control character"},
    {secret_as_option_name, "unknown option `(an option)' in <Plugin "
                            "ecoflow>"},
    {no_device, "<Plugin ecoflow> has no <Device \"SERIAL\"> block"},
    {empty_block, "<Plugin ecoflow> has no `AccessKey'"},
    {same_device_twice, "<Device \"SN1\"> is configured twice"},
    {shard_without_discover,
     "`Shard' in <Plugin ecoflow> splits the discovered devices: it only "
     "applies with `Discover true'"},
    {raw_quotas_twice, "`RawQuotas' is given twice in <Device \"SN1\">"},
    {raw_quotas_as_text,
     "`RawQuotas' in <Plugin ecoflow> needs exactly one argument, true or "
     "false"},
    {same_device_in_two_accounts, "<Device \"SN1\"> is configured twice"},
    {same_name_twice, "<Device \"SN2\"> and <Device \"SN1\"> are both named "
                      "\"house\""},
    {name_is_other_serial, "<Device \"SN2\"> and <Device \"SN1\"> are both "
                           "named \"SN2\""},
    {same_account_twice, "account \"home\" is configured twice"},
    {timeout_as_string,
     "`Timeout' in <Plugin ecoflow> needs exactly one decimal number"},
    {timeout_zero, "`Timeout' in <Plugin ecoflow>: a timeout is a number of "
                   "seconds from 0.001 to 300"},
    {timeout_huge, "`Timeout' in <Plugin ecoflow>: a timeout is a number of "
                   "seconds from 0.001 to 300"},
    {timeout_two_values, "`Timeout' in <Plugin ecoflow> needs exactly one"},
    {max_concurrent_zero, "`MaxConcurrent' in <Plugin ecoflow>: the requests "
                          "in flight are a whole number from 1 to 256"},
    {max_concurrent_fraction,
     "`MaxConcurrent' in <Plugin ecoflow>: the requests in flight are a whole "
     "number"},
    {endpoint_without_scheme,
     "`Endpoint' in <Plugin ecoflow>: the endpoint must be an http:// or "
     "https:// URL"},
    {endpoint_without_host,
     "`Endpoint' in <Plugin ecoflow>: the endpoint must be"},
    {ca_file_missing, "`CAFile' \"/nonexistent/ca.pem\" in <Plugin ecoflow>: "
                      "cannot open it: No such file or directory"},
    {device_without_serial,
     "`Device' in <Plugin ecoflow> needs exactly one argument"},
    {device_serial_as_number,
     "`Device' in <Plugin ecoflow> needs exactly one argument"},
    {device_serial_with_space,
     "a <Device> block in <Plugin ecoflow>: a serial number has 1 to 64 "
     "letters, digits"},
    {device_name_with_slash, "`Name' in <Device \"SN1\">: a device name has 1 "
                             "to 127 characters, none of them '/'"},
    {device_interval_zero, "`Interval' in <Device \"SN1\"> is 0"},
    {device_interval_negative, "`Interval' in <Device \"SN1\"> is -5"},
    {account_without_name,
     "`Account' in <Plugin ecoflow> needs exactly one argument"},
    {account_name_with_slash, "<Account> in <Plugin ecoflow>: an account name "
                              "has 1 to 127 characters, none of them '/'"},
    {nested_account, "<Account> blocks cannot be nested (found in <Account "
                     "\"outer\">)"},
    {options_outside_accounts, "`Endpoint' is outside any <Account> block"},
    {discover_as_string,
     "`Discover' in <Plugin ecoflow> needs exactly one argument, true or "
     "false"},
    {discover_twice, "`Discover' is given twice in <Plugin ecoflow>"},
    {refresh_without_discover, "`DiscoverRefresh' in <Plugin ecoflow> only "
                               "applies with `Discover true'"},
    {refresh_zero, "`DiscoverRefresh' in <Plugin ecoflow> is 0: it must be "
                   "between 1 and 86400"},
    {discover_false_without_devices,
     "<Plugin ecoflow> has no <Device \"SERIAL\"> block: nothing to poll (or "
     "set `Discover true'"},
    {quota_empty, "`Quota' in <Device \"SN1\"> needs one or more quota "
                  "names"},
    {quota_as_number, "`Quota' in <Device \"SN1\"> takes quota names in "
                      "double quotes"},
    {quota_with_space, "`Quota' \"bp Soc\" in <Device \"SN1\"> is not a "
                       "quota name"},
    {quota_twice, "`Quota' \"bpSoc\" is given twice in <Device \"SN1\">"},
    {report_code_with_space,
     "<Report \"JT303 Week\"> in <Device \"SN1\">: a report code has at "
     "most 64 letters, digits, '_' and '-'"},
    {report_unknown_option,
     "unknown option `Code' in <Report \"W\"> in <Device \"SN1\"> (known: "
     "Interval, InstancePrefix)"},
    {report_twice, "<Report \"W\"> is given twice in <Plugin ecoflow>"},
    {report_for_account_and_device,
     "<Report \"W\"> is given for all devices of <Plugin ecoflow> and again "
     "in <Device \"SN1\">"},
    {report_interval_zero, "`Interval' in <Report \"W\"> in <Device "
                           "\"SN1\"> is 0"},
    {report_prefix_with_slash, "`InstancePrefix' in <Report \"W\"> in <Device "
                               "\"SN1\">: an instance prefix has"},
};

START_TEST(test_refused) {
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    setup();
    refused[i].build(&root);
    ck_assert_int_eq(parse(), -1);
    assert_one_message(ECOFLOW_CONFIG_ERROR, refused[i].expected);
    teardown();
  }
}
END_TEST

/* ---- discovery, selected quotas, reports -------------------------------- */

START_TEST(test_discover_without_devices) {
  setup();
  add_keys(&root);
  boolean(add(&root, "discover"), 1);
  num(add(&root, "DiscoverRefresh"), 30);
  assert_parsed_quietly();
  const ecoflow_account *account = config.accounts[0];
  ck_assert_int_eq(account->discover, 1);
  ck_assert_double_eq(account->discover_refresh_s, 30);
  ck_assert_double_eq(account->discovered_interval_s, 10);
  ck_assert_uint_eq(account->n_devices, 0);
  teardown();
}
END_TEST

/* Discovered devices use the plugin's interval: raised like a device's. */
START_TEST(test_discover_with_short_plugin_interval_warns) {
  setup();
  add_keys(&root);
  boolean(add(&root, "Discover"), 1);
  ck_assert_int_eq(parse_with_interval(2), 0);
  assert_one_message(ECOFLOW_CONFIG_WARNING, "the plugin's interval (2 s)");
  ck_assert_double_eq(config.accounts[0]->discovered_interval_s, 10);
  teardown();
}
END_TEST

START_TEST(test_quotas_and_reports) {
  setup();
  add_keys(&root);
  oconfig_item_t *house = block(&root, "Device", "SN1");
  str(opt(house, "Quota", "bpSoc"), "pcsAPhase");
  opt(house, "quota", "20_1.invOutputWatts");
  oconfig_item_t *week = block(house, "Report", "JT303_Week");
  num(add(week, "Interval"), 3600);
  opt(week, "InstancePrefix", "week_");
  block(&root, "Device", "SN2");
  num(add(block(&root, "Report", "JT303_Day"), "Interval"), 5);
  ck_assert_int_eq(parse(), 0);
  /* The report's short interval is raised, with its own warning. */
  assert_one_message(ECOFLOW_CONFIG_WARNING,
                     "`Interval' 5 in <Report \"JT303_Day\"> in <Plugin "
                     "ecoflow> is below 10 s");

  const ecoflow_account *account = config.accounts[0];
  ck_assert_int_eq(account->discover, 0);
  const ecoflow_device *device = &account->devices[0];
  ck_assert_uint_eq(device->n_quotas, 3);
  ck_assert_str_eq(device->quotas[0], "bpSoc");
  ck_assert_str_eq(device->quotas[1], "pcsAPhase");
  ck_assert_str_eq(device->quotas[2], "20_1.invOutputWatts");
  ck_assert_uint_eq(device->n_reports, 1);
  ck_assert_str_eq(device->reports[0].code, "JT303_Week");
  ck_assert_str_eq(device->reports[0].instance_prefix, "week_");
  ck_assert_double_eq(device->reports[0].interval_s, 3600);
  ck_assert_uint_eq(account->devices[1].n_quotas, 0);
  ck_assert_ptr_null(account->devices[1].quotas);
  ck_assert_uint_eq(account->n_reports, 1);
  ck_assert_str_eq(account->reports[0].code, "JT303_Day");
  ck_assert_str_eq(account->reports[0].instance_prefix, "");
  ck_assert_double_eq(account->reports[0].interval_s, 10);
  teardown();
}
END_TEST

START_TEST(test_report_interval_defaults_to_an_hour) {
  setup();
  add_keys(&root);
  block(block(&root, "Device", "SN1"), "Report", "JT303_Week");
  assert_parsed_quietly();
  ck_assert_double_eq(config.accounts[0]->devices[0].reports[0].interval_s,
                      3600);
  teardown();
}
END_TEST

/* An account that fails leaves the earlier ones whole and itself out. */
START_TEST(test_refused_account_is_not_added) {
  setup();
  valid_account(block(&root, "Account", "good"));
  opt(block(&root, "Account", "bad"), "AccessKey", "AK");
  assert_refused("<Account \"bad\"> has no `SecretKey'");
  ck_assert_uint_eq(config.n_accounts, 1);
  ck_assert_str_eq(config.accounts[0]->name, "good");
  teardown();
}
END_TEST

/* `RawQuotas': beside <Account> blocks every account's default, inside one
 * the account's, inside a <Device> that device's. */
START_TEST(test_raw_quotas_inherit) {
  setup();
  boolean(add(&root, "RawQuotas"), 1);
  oconfig_item_t *home = block(&root, "Account", "home");
  add_keys(home);
  boolean(add(block(home, "Device", "SN1"), "RawQuotas"), 0);
  block(home, "Device", "SN2");
  oconfig_item_t *parents = block(&root, "Account", "parents");
  add_keys(parents);
  boolean(add(parents, "RawQuotas"), 0);
  boolean(add(parents, "CellValues"), 1);
  num(add(parents, "MaxUnknownQuotas"), 350);
  num(add(parents, "CounterGlitchShare"), 0.05);
  boolean(add(parents, "Discover"), 1);
  opt(parents, "Shard", "2/3");
  assert_parsed_quietly();
  ck_assert_uint_eq(config.n_accounts, 2);
  ck_assert_int_eq(config.accounts[0]->raw_quotas, 1);
  ck_assert_int_eq(config.accounts[0]->devices[0].raw_quotas, -1);
  ck_assert_int_eq(config.accounts[0]->devices[1].raw_quotas, 0);
  ck_assert_int_eq(config.accounts[1]->raw_quotas, 0);
  ck_assert_int_eq(config.accounts[1]->cell_values, 1);
  ck_assert_int_eq(config.accounts[0]->cell_values, 0);
  ck_assert_uint_eq(config.accounts[1]->account.max_unknown, 350);
  ck_assert_double_eq(config.accounts[1]->account.counter_glitch, 0.05);
  ck_assert_uint_eq(config.accounts[1]->account.shard_index, 2);
  ck_assert_uint_eq(config.accounts[1]->account.shard_count, 3);
  ck_assert_uint_eq(config.accounts[0]->account.shard_count, 0);
  teardown();
}
END_TEST

/* The options ecoflow_config_options lists for a block (what the
 * documentation is held to) are the ones its parser takes: each one,
 * placed in its block, is never refused as unknown. */
START_TEST(test_listed_options_are_taken) {
  static const ecoflow_block blocks[] = {
      ECOFLOW_BLOCK_PLUGIN, ECOFLOW_BLOCK_ACCOUNT, ECOFLOW_BLOCK_DEVICE,
      ECOFLOW_BLOCK_REPORT};
  size_t tried = 0;
  for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
    const char *list = ecoflow_config_options(blocks[b]);
    ck_assert_ptr_nonnull(list);
    while (*list != '\0') {
      char name[64];
      size_t len = strcspn(list, ",");
      ck_assert_uint_lt(len, sizeof(name));
      memcpy(name, list, len);
      name[len] = '\0';
      list += len;
      list += strspn(list, ", ");
      /* "<Device>" is the block Device. */
      char *key = name[0] == '<' ? name + 1 : name;
      key[strcspn(key, ">")] = '\0';

      setup();
      oconfig_item_t *in = &root;
      if (blocks[b] != ECOFLOW_BLOCK_PLUGIN)
        in = block(in, "Account", "a");
      add_keys(in);
      if (blocks[b] == ECOFLOW_BLOCK_DEVICE ||
          blocks[b] == ECOFLOW_BLOCK_REPORT)
        in = block(in, "Device", "SN1");
      if (blocks[b] == ECOFLOW_BLOCK_REPORT)
        in = block(in, "Report", "X");
      opt(in, key, "1");
      parse();
      for (int m = 0; m < n_messages; m++)
        ck_assert_msg(strstr(messages[m].text, "unknown option") == NULL,
                      "block %d lists %s, but: %s", (int)blocks[b], name,
                      messages[m].text);
      teardown();
      tried++;
    }
  }
  ck_assert_uint_ge(tried, 40);
  ck_assert_ptr_null(ecoflow_config_options((ecoflow_block)99));
}
END_TEST

UNIT_MAIN("collectd config", test_minimal_single_account, test_every_option,
          test_options_ignore_case, test_accounts,
          test_second_plugin_block_adds_accounts,
          test_second_plugin_block_without_accounts_is_refused,
          test_short_interval_is_raised_with_one_warning,
          test_short_plugin_interval_warns_once,
          test_short_plugin_interval_unused_is_quiet, test_secret_file_trimmed,
          test_secret_file_owner_only_read, test_secret_file_readable_by_group,
          test_secret_file_readable_by_world,
          test_secret_file_advice_is_shell_quoted, test_secret_file_empty,
          test_secret_file_two_words, test_secret_file_missing,
          test_secret_file_directory, test_secret_file_too_large, test_refused,
          test_refused_account_is_not_added, test_discover_without_devices,
          test_discover_with_short_plugin_interval_warns,
          test_quotas_and_reports, test_report_interval_defaults_to_an_hour,
          test_raw_quotas_inherit, test_listed_options_are_taken)
