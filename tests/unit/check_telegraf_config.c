/* Unit tests of the Telegraf front end's settings: file, environment,
 * command line, their order, and the refusals that keep secrets safe. */
#include "telegraf_config.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGV(...) ((char *const[]){"ecoflow-telegraf", __VA_ARGS__})
#define ARGC(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(char *)))

/* A fake environment: "NAME=value" pairs, NULL-terminated. */
static const char *const *fake_environment;

static const char *fake_lookup(const char *name) {
  size_t len = strlen(name);
  for (const char *const *e = fake_environment; e && *e; e++)
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
      return *e + len + 1;
  return NULL;
}

static tg_config config;
static char err[TG_ERROR_LEN];

static void fresh(void) {
  tg_config_free(&config);
  tg_config_init(&config);
  err[0] = '\0';
  fake_environment = NULL;
}

/* A temporary file holding text with mode; the caller unlinks it. */
static char *temp_file(const char *text, mode_t mode) {
  char *path = strdup("/tmp/check_telegraf_config.XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  ck_assert_int_eq(fchmod(fd, mode), 0);
  close(fd);
  return path;
}

static void drop_file(char *path) {
  unlink(path);
  free(path);
}

static int apply_args(int argc, char *const argv[]) {
  const char *config_path;
  return tg_config_apply_args(&config, argc, argv, 1, &config_path, err);
}

static int apply_text(const char *text, int *has_secret) {
  return tg_config_apply_text(&config, text, "ecoflow.conf", has_secret, err);
}

#define ASSERT_ERROR_HAS(part)                                                 \
  ck_assert_msg(strstr(err, part) != NULL, "error [%s] lacks [%s]", err, part)

START_TEST(defaults) {
  fresh();
  ck_assert_str_eq(config.account.endpoint, TG_DEFAULT_ENDPOINT);
  ck_assert_ptr_null(config.account.access_key);
  ck_assert_int_eq(config.n_devices, 0);
  ck_assert_int_eq(config.account.timeout_ms, 0);
  ck_assert_int_eq(config.account.max_concurrent, 0);
  ck_assert_int_eq(config.interval_ms, 0);
  ck_assert_int_eq(config.execd, 0);
  tg_config_free(&config);
}
END_TEST

START_TEST(file_settings) {
  fresh();
  int has_secret = -1;
  ck_assert_int_eq(apply_text("# EcoFlow account\n"
                              "\n"
                              "endpoint = https://api-a.ecoflow.com\n"
                              "  access_key=  AK123  \n"
                              "secret_key = \"S3cr3t\"\r\n"
                              "sn = HJ31A\n"
                              "sn = HJ31B = Garage roof\n"
                              "timeout = 2.5\n"
                              "max_concurrent = 3\n"
                              "ca_file = /etc/passwd\n"
                              "interval = 30",
                              &has_secret),
                   0);
  ck_assert_int_eq(has_secret, 1);
  ck_assert_str_eq(config.account.endpoint, "https://api-a.ecoflow.com");
  ck_assert_str_eq(config.account.access_key, "AK123");
  ck_assert_str_eq(config.account.secret_key, "S3cr3t");
  ck_assert_int_eq(config.n_devices, 2);
  ck_assert_str_eq(config.devices[0].sn, "HJ31A");
  ck_assert_ptr_null(config.devices[0].name);
  ck_assert_str_eq(config.devices[1].sn, "HJ31B");
  ck_assert_str_eq(config.devices[1].name, "Garage roof");
  ck_assert_int_eq(config.account.timeout_ms, 2500);
  ck_assert_int_eq(config.account.max_concurrent, 3);
  ck_assert_str_eq(config.account.ca_file, "/etc/passwd");
  ck_assert_int_eq(config.interval_ms, 30000);
  tg_config_free(&config);
}
END_TEST

START_TEST(file_without_secret) {
  fresh();
  int has_secret = -1;
  ck_assert_int_eq(
      apply_text("secret_key_file = /etc/ecoflow.secret\n", &has_secret), 0);
  ck_assert_int_eq(has_secret, 0);
  ck_assert_str_eq(config.secret_key_file, "/etc/ecoflow.secret");
  tg_config_free(&config);
}
END_TEST

/* Each bad file, and what its error must say. */
static const struct {
  const char *text, *error;
} bad_files[] = {
    {"sn = A\nfoo = 1\n", "ecoflow.conf:2: unknown setting \"foo\""},
    {"just words\n", "ecoflow.conf:1: expected `key = value`"},
    {"timeout = soon\n", "ecoflow.conf:1: timeout: not a decimal number"},
    {"timeout = 0\n", "a timeout is a number of seconds from 0.001 to 300"},
    {"timeout = 301\n", "a timeout is a number of seconds from 0.001 to 300"},
    {"timeout = nan\n", "timeout: not a decimal number"},
    {"timeout = 1e999\n", "timeout: not a decimal number"},
    {"interval = 90000\n", "from 0.001 to 86400"},
    {"max_concurrent = 2.5\n", "a whole number from 1 to 256"},
    {"max_concurrent = 0\n", "a whole number from 1 to 256"},
    {"execd = 1\n", "ecoflow.conf:1: execd: execd is a command-line option "
                    "only"},
    {"config = other.conf\n", "config is a command-line option only"},
    {"endpoint =\n", "ecoflow.conf:1: endpoint: empty"},
    {"endpoint = \"\"\n", "ecoflow.conf:1: endpoint: empty"},
    {"endpoint = ftp://h\n", "an http:// or https:// URL with a host"},
    {"sn = HJ 31\n", "ecoflow.conf:1: sn: a serial number has 1 to 64"},
    {"sn = =Garage\n", "a serial number has 1 to 64"},
    {"sn = HJ31=\n", "a device name has 1 to 127"},
    {"discover = maybe\n", "ecoflow.conf:1: discover: not true or false"},
    {"quota = a;b\n", "ecoflow.conf:1: quota: not a quota name"},
    {"access_key = A\x01B\n", "access_key: holds a control character"},
    /* A secret pasted as a key or a value is never echoed. */
    {"Sk3cr3tV4lu3 = x\n", "unknown setting \"(not a setting)\""},
    /* A key of 32 letters, no digit: still not a setting's name. */
    {"WIbFEKresLnheiSPUeYnptHGsimABCDE = x\n",
     "unknown setting \"(not a setting)\""},
};

START_TEST(file_errors) {
  for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
    fresh();
    int has_secret;
    ck_assert_msg(apply_text(bad_files[i].text, &has_secret) == -1,
                  "accepted [%s]", bad_files[i].text);
    ASSERT_ERROR_HAS(bad_files[i].error);
  }
  tg_config_free(&config);
}
END_TEST

/* A device given twice is found once all are given, in n log n. */
START_TEST(duplicate_devices) {
  fresh();
  int has_secret;
  ck_assert_int_eq(apply_text("access_key = A\nsecret_key = S\nsn = HJ31\n"
                              "sn = HJ32\nsn = HJ31=Again\n",
                              &has_secret),
                   0);
  ck_assert_int_eq(tg_config_finish(&config, err), -1);
  ASSERT_ERROR_HAS("--sn: device HJ31 is given twice");
  tg_config_free(&config);
}
END_TEST

START_TEST(environment) {
  fresh();
  fake_environment =
      (const char *const[]){"ECOFLOW_ACCESS_KEY=AK", "ECOFLOW_SECRET_KEY= SK\n",
                            "ECOFLOW_ENDPOINT=", "ECOFLOW_TIMEOUT=5", NULL};
  ck_assert_int_eq(tg_config_apply_env(&config, fake_lookup, err), 0);
  ck_assert_str_eq(config.account.access_key, "AK");
  ck_assert_str_eq(config.account.secret_key,
                   "SK"); /* a pasted newline trimmed */
  ck_assert_str_eq(config.account.endpoint,
                   TG_DEFAULT_ENDPOINT);          /* empty: unset */
  ck_assert_int_eq(config.account.timeout_ms, 0); /* not a variable of ours */
  tg_config_free(&config);
}
END_TEST

START_TEST(command_line) {
  fresh();
  ck_assert_int_eq(
      apply_args(ARGC("--sn", "A1", "--sn=B2=Roof, east", "--timeout", "0.25",
                      "--max-concurrent=4", "--execd", "--interval", "10",
                      "--endpoint", "http://127.0.0.1:9", "--ca-file",
                      "/etc/passwd", "--secret-key-file", "/run/secret"),
                 ARGV("--sn", "A1", "--sn=B2=Roof, east", "--timeout", "0.25",
                      "--max-concurrent=4", "--execd", "--interval", "10",
                      "--endpoint", "http://127.0.0.1:9", "--ca-file",
                      "/etc/passwd", "--secret-key-file", "/run/secret")),
      0);
  ck_assert_int_eq(config.n_devices, 2);
  ck_assert_str_eq(config.devices[1].sn, "B2");
  ck_assert_str_eq(config.devices[1].name, "Roof, east");
  ck_assert_int_eq(config.account.timeout_ms, 250);
  ck_assert_int_eq(config.account.max_concurrent, 4);
  ck_assert_int_eq(config.execd, 1);
  ck_assert_int_eq(config.interval_ms, 10000);
  ck_assert_str_eq(config.account.endpoint, "http://127.0.0.1:9");
  ck_assert_str_eq(config.account.ca_file, "/etc/passwd");
  ck_assert_str_eq(config.secret_key_file, "/run/secret");
  tg_config_free(&config);
}
END_TEST

START_TEST(flags) {
  fresh();
  ck_assert_int_eq(apply_args(ARGC("-h", "--list-metrics", "--version"),
                              ARGV("-h", "--list-metrics", "--version")),
                   0);
  ck_assert_int_eq(config.help, 1);
  ck_assert_int_eq(config.list_metrics, 1);
  ck_assert_int_eq(config.version, 1);
  /* Nothing else is needed to print help, version or the catalog. */
  ck_assert_int_eq(tg_config_finish(&config, err), 0);
  tg_config_free(&config);
}
END_TEST

static const struct {
  const char *args[4];
  const char *error;
} bad_args[] = {
    {{"--secret-key", "s3cr3t"},
     "--secret-key: credentials are not accepted on the command line"},
    {{"--secret-key=s3cr3t"}, "set ECOFLOW_SECRET_KEY in the environment"},
    {{"--access-key", "AK"},
     "set ECOFLOW_ACCESS_KEY in the environment, or "
     "access_key in a --config file"},
    {{"--bogus"}, "--bogus: unknown option"},
    {{"stray"}, "stray: unexpected (see --help)"},
    {{"S3cr3t0123"}, "an argument: unexpected"},
    {{"-x"}, "-x: unexpected"},
    {{"--"}, "--: unexpected"},
    {{"--S3cr3t0123"}, "an option: unknown option"},
    /* Longer than any setting's name, cut where it is read: a setting's
     * name and more is none. */
    {{"--timeout_"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=5"},
     "an option: unknown option"},
    {{"--timeout-x", "5"}, "--timeout-x: unknown option"},
    {{"--timeout=S3cr3t0123"}, "--timeout: not a decimal number"},
    {{"--timeout"}, "--timeout: needs a value: --timeout S"},
    {{"--execd=yes"}, "--execd: takes no value"},
    {{"--interval", "5"}, "--interval: only applies with --execd"},
    {{"--max-concurrent", "many"}, "--max-concurrent: not a decimal number"},
    {{"--quota", "bp Soc"}, "--quota: not a quota name"},
    {{"--quota", "bpSoc", "--quota", "bpSoc"},
     "--quota: \"bpSoc\" is given twice"},
    {{"--history", "JT303 Week"}, "--history: not a report code"},
    {{"--begin", "yesterday"}, "--begin: not a time"},
    {{"--discover=yes"}, "--discover: takes no value"},
    {{"--discover-refresh", "30"},
     "--discover-refresh: only applies with --execd"},
    {{"--discover-refresh", "0.5", "--execd"}, "from 1 to 86400"},
    {{"--shard", "2/2"}, "--shard: a shard is K/N"},
    {{"--max-unknown-quotas", "0"}, "a whole number from 1 to 100000"},
    {{"--counter-glitch-share", "1"}, "a number from 0.0001 to 0.5"},
};

START_TEST(command_line_errors) {
  for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
    fresh();
    char *argv[6] = {"ecoflow-telegraf"};
    int argc = 1;
    for (int a = 0; a < 4 && bad_args[i].args[a]; a++)
      argv[argc++] = (char *)bad_args[i].args[a];
    ck_assert_msg(apply_args(argc, argv) == -1, "accepted %s", argv[1]);
    ASSERT_ERROR_HAS(bad_args[i].error);
  }
  /* The refusal explains itself. */
  fresh();
  apply_args(ARGC("--secret-key", "x"), ARGV("--secret-key", "x"));
  ASSERT_ERROR_HAS("every user of this machine can read them (ps)");
  tg_config_free(&config);
}
END_TEST

START_TEST(secret_key_and_file_replace_each_other) {
  fresh();
  int has_secret;
  ck_assert_int_eq(
      apply_text("secret_key = A\nsecret_key_file = /f\n", &has_secret), 0);
  ck_assert_ptr_null(config.account.secret_key);
  ck_assert_str_eq(config.secret_key_file, "/f");
  fake_environment = (const char *const[]){"ECOFLOW_SECRET_KEY=B", NULL};
  ck_assert_int_eq(tg_config_apply_env(&config, fake_lookup, err), 0);
  ck_assert_str_eq(config.account.secret_key, "B");
  ck_assert_ptr_null(config.secret_key_file);
  tg_config_free(&config);
}
END_TEST

/* A file's status with mode, owner and group. */
static struct stat status_of(mode_t mode, uid_t uid, gid_t gid) {
  struct stat st = {.st_mode = S_IFREG | mode, .st_uid = uid, .st_gid = gid};
  return st;
}

/* A group this program is not in. */
static gid_t foreign_group(void) {
  gid_t groups[256];
  int n = getgroups(256, groups);
  for (gid_t gid = 60000;; gid--) {
    int ours = gid == getegid();
    for (int i = 0; i < n; i++)
      ours |= groups[i] == gid;
    if (!ours)
      return gid;
  }
}

/* The core's verdict (ef_account.h), which both front ends use: private,
 * or root's and readable by this program's own group only. */
START_TEST(private_modes) {
  const gid_t own = getegid(), foreign = foreign_group();
  const uid_t owners[] = {0, 1000};
  for (size_t o = 0; o < 2; o++) {
    struct stat st = status_of(0600, owners[o], foreign);
    ck_assert_int_eq(ef_account_check_private("f", &st, err), 0);
    st = status_of(0400, owners[o], foreign);
    ck_assert_int_eq(ef_account_check_private("f", &st, err), 0);
  }
  /* Root hands a service user its secret: root:telegraf 0640. */
  struct stat st = status_of(0640, 0, own);
  ck_assert_int_eq(ef_account_check_private("f", &st, err), 0);
  st = status_of(0440, 0, own);
  ck_assert_int_eq(ef_account_check_private("f", &st, err), 0);

  const struct {
    mode_t mode;
    uid_t uid;
    int own_group;
    const char *why;
  } refused[] = {
      {0604, 0, 1, "other users may use it (mode 0604)"},
      {0644, 0, 1, "other users may use it (mode 0644)"},
      {0601, 0, 1, "other users may use it (mode 0601)"},
      {0660, 0, 1, ") may change it (mode 0660)"},
      {0620, 0, 1, ") may change it (mode 0620)"},
      {0610, 0, 1, ") may change it (mode 0610)"},
      {0640, 1000, 1,
       ") may read it, and only root may share a secret with a "
       "group (mode 0640)"},
      {0640, 0, 0,
       ") may read it, and this program is not in it (mode "
       "0640)"},
  };
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    st = status_of(refused[i].mode, refused[i].uid,
                   refused[i].own_group ? own : foreign);
    ck_assert_int_eq(ef_account_check_private("/etc/e.conf", &st, err), -1);
    ASSERT_ERROR_HAS(refused[i].why);
    ASSERT_ERROR_HAS("; make it private: chmod 600 /etc/e.conf");
    /* A service user is told how root hands it the file; root is not. */
    if (geteuid() != 0)
      ASSERT_ERROR_HAS(" /etc/e.conf && chmod 640 /etc/e.conf");
    else
      ck_assert_ptr_null(strstr(err, "chmod 640"));
  }
  st = status_of(0644, 0, own);
  ef_account_check_private("/etc/my e.conf", &st, err);
  ASSERT_ERROR_HAS("may use it (mode 0644); make it private: chmod 600 "
                   "'/etc/my e.conf'");
}
END_TEST

/* The whole order: file, then environment, then command line. */
START_TEST(sources_in_order) {
  fresh();
  char *path = temp_file("access_key = FILE_AK\nsecret_key = FILE_SK\n"
                         "endpoint = http://file\nsn = FILE1\nsn = FILE2\n"
                         "timeout = 1\n",
                         0600);
  fake_environment = (const char *const[]){"ECOFLOW_ENDPOINT=http://env",
                                           "ECOFLOW_ACCESS_KEY=ENV_AK", NULL};
  ck_assert_int_eq(
      tg_config_load(&config,
                     ARGC("--timeout", "2", "--config", path, "--sn", "ARG1"),
                     ARGV("--timeout", "2", "--config", path, "--sn", "ARG1"),
                     fake_lookup, err),
      0);
  ck_assert_str_eq(config.account.access_key, "ENV_AK");
  ck_assert_str_eq(config.account.secret_key, "FILE_SK");
  ck_assert_str_eq(config.account.endpoint, "http://env");
  ck_assert_int_eq(config.account.timeout_ms, 2000);
  ck_assert_int_eq(config.n_devices, 1); /* --sn replaces the file's */
  ck_assert_str_eq(config.devices[0].sn, "ARG1");
  drop_file(path);
  tg_config_free(&config);
}
END_TEST

START_TEST(file_devices_kept_without_sn_arguments) {
  fresh();
  char *path = temp_file("sn = FILE1\nsn = FILE2\n", 0644);
  fake_environment = (const char *const[]){"ECOFLOW_ACCESS_KEY=A",
                                           "ECOFLOW_SECRET_KEY=S", NULL};
  ck_assert_int_eq(tg_config_load(&config, ARGC("--config", path),
                                  ARGV("--config", path), fake_lookup, err),
                   0);
  ck_assert_int_eq(config.n_devices, 2);
  drop_file(path);
  tg_config_free(&config);
}
END_TEST

START_TEST(open_file_with_secret_refused) {
  fresh();
  char *path = temp_file("access_key = A\nsecret_key = S\n", 0644);
  ck_assert_int_eq(tg_config_load(&config, ARGC("--config", path),
                                  ARGV("--config", path), fake_lookup, err),
                   -1);
  char chmod[TG_ERROR_LEN];
  snprintf(chmod, sizeof(chmod), "make it private: chmod 600 %s", path);
  ASSERT_ERROR_HAS(chmod);
  ASSERT_ERROR_HAS("(mode 0644)");
  drop_file(path);
  tg_config_free(&config);
}
END_TEST

START_TEST(secret_file) {
  fresh();
  char *secret = temp_file("  S3CR3T\n\n", 0600);
  char *conf_text = NULL;
  ck_assert_int_ge(
      asprintf(&conf_text, "access_key = A\nsecret_key_file = %s\n", secret),
      0);
  char *conf = temp_file(conf_text, 0644); /* no secret in it: may be open */
  ck_assert_int_eq(tg_config_load(&config, ARGC("--config", conf),
                                  ARGV("--config", conf), fake_lookup, err),
                   0);
  ck_assert_str_eq(config.account.secret_key, "S3CR3T");
  tg_config_free(&config);

  /* The secret file itself must be private. */
  fresh();
  chmod(secret, 0604);
  ck_assert_int_eq(tg_config_load(&config, ARGC("--config", conf),
                                  ARGV("--config", conf), fake_lookup, err),
                   -1);
  ASSERT_ERROR_HAS("chmod 600");
  tg_config_free(&config);

  /* And hold something. */
  fresh();
  drop_file(secret);
  secret = temp_file(" \n", 0600);
  ck_assert_int_eq(
      tg_config_set(&config, TG_FROM_FILE, "t", "access_key", "A", err), 0);
  ck_assert_int_eq(
      tg_config_set(&config, TG_FROM_FILE, "t", "secret_key_file", secret, err),
      0);
  ck_assert_int_eq(tg_config_finish(&config, err), -1);
  ASSERT_ERROR_HAS("the secret key in it is empty");
  drop_file(secret);
  drop_file(conf);
  free(conf_text);
  tg_config_free(&config);
}
END_TEST

START_TEST(missing_files_named) {
  fresh();
  ck_assert_int_eq(
      tg_config_load(&config, ARGC("--config", "/nonexistent/e.conf"),
                     ARGV("--config", "/nonexistent/e.conf"), fake_lookup, err),
      -1);
  ck_assert_str_eq(err, "/nonexistent/e.conf: cannot open it: No such file or "
                        "directory");
  struct stat st;
  ck_assert_ptr_null(tg_config_read_file("/tmp", &st, err));
  ASSERT_ERROR_HAS("not a regular file");
  tg_config_free(&config);
}
END_TEST

START_TEST(keys_required) {
  fresh();
  ck_assert_int_eq(tg_config_finish(&config, err), -1);
  ASSERT_ERROR_HAS("no access key: set ECOFLOW_ACCESS_KEY");
  tg_config_set(&config, TG_FROM_ENV, "e", "access_key", "A", err);
  ck_assert_int_eq(tg_config_finish(&config, err), -1);
  ASSERT_ERROR_HAS("no secret key: set ECOFLOW_SECRET_KEY in the environment, "
                   "or secret_key or secret_key_file");
  tg_config_set(&config, TG_FROM_ENV, "e", "secret_key", "S", err);
  /* No device is fine: the account's list says which. */
  ck_assert_int_eq(tg_config_finish(&config, err), 0);
  tg_config_free(&config);
}
END_TEST

START_TEST(usage_lists_options_not_credentials) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  tg_config_usage(out);
  fclose(out);
  const char *wanted[] = {"--sn SN[=NAME]",
                          "--max-concurrent N",
                          "--secret-key-file FILE",
                          "--execd",
                          "--interval S",
                          "--list-metrics",
                          "ECOFLOW_SECRET_KEY ",
                          "ECOFLOW_ACCESS_KEY ",
                          "--discover ",
                          "--discover-refresh S",
                          "--quota QUOTA",
                          "--history CODE",
                          "--begin TIME",
                          "--end TIME"};
  for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
    ck_assert_msg(strstr(text, wanted[i]) != NULL, "help lacks %s", wanted[i]);
  ck_assert_ptr_null(strstr(text, "--secret-key "));
  ck_assert_ptr_null(strstr(text, "--access-key"));
  for (char *line = text; *line; line += strcspn(line, "\n") + 1)
    ck_assert_int_le(strcspn(line, "\n"), 79);
  free(text);
}
END_TEST

/* ---- discovery, selected quotas, history -------------------------------- */

static void with_keys(void) {
  tg_config_set(&config, TG_FROM_ENV, "e", "access_key", "A", err);
  tg_config_set(&config, TG_FROM_ENV, "e", "secret_key", "S", err);
}

START_TEST(discovery_quotas_history_from_the_command_line) {
  fresh();
  ck_assert_int_eq(
      apply_args(ARGC("--discover", "--quota", "bpSoc", "--quota=pcsAPhase",
                      "--sn", "A1", "--execd", "--discover-refresh", "30"),
                 ARGV("--discover", "--quota", "bpSoc", "--quota=pcsAPhase",
                      "--sn", "A1", "--execd", "--discover-refresh", "30")),
      0);
  ck_assert_int_eq(config.discover, 1);
  ck_assert_uint_eq(config.quotas.len, 2);
  ck_assert_str_eq(config.quotas.items[0], "bpSoc");
  ck_assert_str_eq(config.quotas.items[1], "pcsAPhase");
  ck_assert_int_eq(config.discover_refresh_ms, 30000);
  with_keys();
  ck_assert_int_eq(tg_config_finish(&config, err), 0);

  fresh();
  ck_assert_int_eq(
      apply_args(ARGC("--history", "JT303_Dashboard_Overview_Summary_Week",
                      "--begin", "2024-06-17 00:00:00", "--end",
                      "2024-06-24T02:00:00+02:00", "--sn", "A1"),
                 ARGV("--history", "JT303_Dashboard_Overview_Summary_Week",
                      "--begin", "2024-06-17 00:00:00", "--end",
                      "2024-06-24T02:00:00+02:00", "--sn", "A1")),
      0);
  ck_assert_str_eq(config.history, "JT303_Dashboard_Overview_Summary_Week");
  ck_assert_int_eq(config.begin.set, 1);
  ck_assert_int_eq(config.begin.t, 1718582400);
  ck_assert_int_eq(config.end.t, 1718582400 + 7 * 86400);
  with_keys();
  ck_assert_int_eq(tg_config_finish(&config, err), 0);
  tg_config_free(&config);
}
END_TEST

START_TEST(discovery_quotas_history_from_the_file) {
  fresh();
  int has_secret;
  ck_assert_int_eq(apply_text("discover = true\n"
                              "quota = bpSoc\n"
                              "quota = pcsAPhase\n"
                              "sn = A1\n"
                              "discover_refresh = 120\n"
                              "history = JT303_Week\n"
                              "begin = 2024-06-01\n",
                              &has_secret),
                   0);
  ck_assert_int_eq(config.discover, 1);
  ck_assert_int_eq(config.discover_refresh_ms, 120000);
  ck_assert_str_eq(config.history, "JT303_Week");
  ck_assert_int_eq(config.begin.t, 1717200000);
  ck_assert_int_eq(config.end.set, 0);
  ck_assert_int_eq(apply_text("discover = off\n", &has_secret), 0);
  ck_assert_int_eq(config.discover, 0);
  /* --quota on the command line replaces the file's, like --sn. */
  ck_assert_int_eq(apply_args(ARGC("--quota", "mpptPwr", "--quota", "bpPwr"),
                              ARGV("--quota", "mpptPwr", "--quota", "bpPwr")),
                   0);
  ck_assert_uint_eq(config.quotas.len, 2);
  ck_assert_str_eq(config.quotas.items[0], "mpptPwr");
  ck_assert_str_eq(config.devices[0].sn, "A1");
  tg_config_free(&config);
}
END_TEST

/* Settings that only mean something together, checked at the end. */
static const struct {
  const char *file;
  const char *error;
} bad_combinations[] = {
    {"quota = bpSoc\n", "--quota: applies to the devices named with --sn"},
    {"begin = 2024-06-17\n", "--begin: only applies with --history"},
    {"end = 2024-06-17\n", "--end: only applies with --history"},
    {"history = W\n", "--history: needs --begin TIME"},
    {"sn = SN1\nshard = 0/2\n",
     "--shard: splits the discovered devices: with --sn, add --discover"},
    {"history = W\nbegin = 2024-06-17\nend = 2024-06-17\n",
     "--end: is not after --begin"},
};

START_TEST(settings_that_go_together) {
  for (size_t i = 0; i < sizeof(bad_combinations) / sizeof(bad_combinations[0]);
       i++) {
    fresh();
    int has_secret;
    ck_assert_int_eq(apply_text(bad_combinations[i].file, &has_secret), 0);
    with_keys();
    ck_assert_msg(tg_config_finish(&config, err) == -1, "accepted %s",
                  bad_combinations[i].file);
    ASSERT_ERROR_HAS(bad_combinations[i].error);
  }
  fresh();
  ck_assert_int_eq(
      apply_args(ARGC("--history", "W", "--begin", "2024-06-17", "--execd"),
                 ARGV("--history", "W", "--begin", "2024-06-17", "--execd")),
      0);
  with_keys();
  ck_assert_int_eq(tg_config_finish(&config, err), -1);
  ASSERT_ERROR_HAS("--history: prints a backfill and exits: not with --execd");
  tg_config_free(&config);
}
END_TEST

UNIT_MAIN("telegraf_config", defaults, file_settings, file_without_secret,
          file_errors, duplicate_devices, environment, command_line, flags,
          command_line_errors, secret_key_and_file_replace_each_other,
          private_modes, sources_in_order,
          file_devices_kept_without_sn_arguments, open_file_with_secret_refused,
          secret_file, missing_files_named, keys_required,
          usage_lists_options_not_credentials,
          discovery_quotas_history_from_the_command_line,
          discovery_quotas_history_from_the_file, settings_that_go_together)
