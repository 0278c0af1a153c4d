/* ef_account.c: the verdicts on an account's settings. */
#include "ef_account.h"
#include "ef_text.h"

#include "ef_hash.h"
#include "ef_text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 2, 3))) static int
refuse(char *problem, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(problem, EF_PROBLEM_LEN, format, ap);
  va_end(ap);
  return -1;
}

void ef_secret_free(char *text) {
  if (text != NULL)
    explicit_bzero(text, strlen(text));
  free(text);
}

void ef_account_clear(ef_account *account) {
  free(account->endpoint);
  free(account->access_key);
  ef_secret_free(account->secret_key);
  free(account->ca_file);
  *account = (ef_account){0};
}

static int is_blank(unsigned char c) { return isspace(c) != 0; }

static int has_blank_or_control(const char *text) {
  for (; *text != '\0'; text++)
    if (is_blank((unsigned char)*text) || iscntrl((unsigned char)*text))
      return 1;
  return 0;
}

static int out_of_memory(char *problem) {
  return refuse(problem, "out of memory");
}

int ef_account_key(const char *raw, const char *what, char **out,
                   char *problem) {
  char *key = ef_text_trimmed(raw);
  if (key == NULL)
    return out_of_memory(problem);
  int status = 0;
  if (key[0] == '\0')
    status = refuse(problem, "the %s is empty", what);
  else if (has_blank_or_control(key))
    status = refuse(problem,
                    "the %s contains a blank or a control character: copy it "
                    "again from the EcoFlow developer portal",
                    what);
  if (status != 0) {
    ef_secret_free(key);
    return -1;
  }
  *out = key;
  return 0;
}

/* The host part of an http(s) URL, or NULL for another scheme. */
static const char *url_host(const char *url) {
  if (strncasecmp(url, "https://", 8) == 0)
    return url + 8;
  if (strncasecmp(url, "http://", 7) == 0)
    return url + 7;
  return NULL;
}

int ef_account_endpoint(const char *raw, char **out, char *problem) {
  char *endpoint = ef_text_trimmed(raw);
  if (endpoint == NULL)
    return out_of_memory(problem);
  const char *host = url_host(endpoint);
  if (host == NULL || *host == '\0' || *host == '/' || *host == ':' ||
      has_blank_or_control(endpoint)) {
    free(endpoint);
    return refuse(problem,
                  "the endpoint must be an http:// or https:// URL with a "
                  "host, such as " EF_DEFAULT_ENDPOINT " (Europe) or "
                  "https://api-a.ecoflow.com (Americas)");
  }
  size_t len = strlen(endpoint);
  while (len > 0 && endpoint[len - 1] == '/')
    endpoint[--len] = '\0';
  *out = endpoint;
  return 0;
}

/* 1 when host, as libcurl's URL parser gives it (an IPv4 address in any
 * of its forms already written as a dotted quad, an IPv6 one in brackets),
 * is an address of the loopback: 127.0.0.0/8 or ::1. And "localhost",
 * which libcurl (7.78 on) answers itself with those two, asking no
 * resolver and no hosts file; nothing else, however it begins: a name
 * such as 127.0.0.1.nip.io is whatever a resolver says it is. */
static int loopback_host(const char *host) {
  if (strcasecmp(host, "localhost") == 0)
    return 1;
  struct in_addr v4;
  if (inet_pton(AF_INET, host, &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  char bare[INET6_ADDRSTRLEN];
  size_t len = strlen(host);
  struct in6_addr v6;
  return len > 2 && len - 2 < sizeof(bare) && host[0] == '[' &&
         host[len - 1] == ']' &&
         snprintf(bare, sizeof(bare), "%.*s", (int)(len - 2), host + 1) > 0 &&
         inet_pton(AF_INET6, bare, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

int ef_account_endpoint_in_clear(const char *endpoint) {
  CURLU *url = curl_url();
  char *scheme = NULL, *host = NULL;
  /* What libcurl cannot parse is no known loopback: said when plain. */
  int in_clear = strncasecmp(endpoint, "http://", 7) == 0;
  if (url != NULL &&
      curl_url_set(url, CURLUPART_URL, endpoint, 0) == CURLUE_OK &&
      curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    in_clear = strcasecmp(scheme, "http") == 0 && !loopback_host(host);
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(url);
  return in_clear;
}

void ef_shell_quote(const char *path, char *out, size_t size) {
  if (size == 0)
    return;
  int plain = path[0] != '\0';
  for (const char *c = path; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && strchr("/._-+,:@%", *c) == NULL)
      plain = 0;
  if (plain) {
    snprintf(out, size, "%s", path);
    return;
  }
  size_t n = 0;
  if (n + 1 < size)
    out[n++] = '\'';
  for (const char *c = path; *c != '\0' && n + 6 < size; c++) {
    if (*c == '\'') {
      memcpy(out + n, "'\\''", 4);
      n += 4;
    } else {
      out[n++] = *c;
    }
  }
  if (n + 1 < size)
    out[n++] = '\'';
  out[n] = '\0';
}

/* 1 when gid is this process's group, or one of its supplementary
 * groups. */
static int own_group(gid_t gid) {
  if (gid == getegid())
    return 1;
  gid_t groups[256];
  int n = getgroups(sizeof(groups) / sizeof(groups[0]), groups);
  for (int i = 0; i < n; i++)
    if (groups[i] == gid)
      return 1;
  return 0;
}

/* The name of group gid into out, or its number. */
static void group_name(gid_t gid, char *out, size_t size) {
  struct group entry, *found = NULL;
  char buffer[1024];
  if (getgrgid_r(gid, &entry, buffer, sizeof(buffer), &found) == 0 &&
      found != NULL)
    snprintf(out, size, "%s", found->gr_name);
  else
    snprintf(out, size, "%u", (unsigned)gid);
}

int ef_account_check_private(const char *path, const struct stat *st,
                             char *problem) {
  mode_t mode = st->st_mode;
  /* Group read is a grant root made to the group: to this program's
   * own (the group of its service user) only. */
  int granted = st->st_uid == 0 && own_group(st->st_gid);
  if ((mode & S_IRWXO) == 0 && (mode & S_IRWXG & ~(granted ? S_IRGRP : 0)) == 0)
    return 0;
  char quoted[EF_PROBLEM_LEN / 4], group[64], who[EF_PROBLEM_LEN / 2];
  ef_shell_quote(path, quoted, sizeof(quoted));
  group_name(st->st_gid, group, sizeof(group));
  if (mode & S_IRWXO)
    snprintf(who, sizeof(who), "other users may use it");
  else if (mode & (S_IWGRP | S_IXGRP))
    snprintf(who, sizeof(who), "its group (%s) may change it", group);
  else if (st->st_uid != 0)
    snprintf(who, sizeof(who),
             "its group (%s) may read it, and only root may share a secret "
             "with a group",
             group);
  else
    snprintf(who, sizeof(who),
             "its group (%s) may read it, and this program is not in it",
             group);
  /* A service user (not root) may be handed the file by root. */
  char hand[EF_PROBLEM_LEN] = "";
  if (geteuid() != 0) {
    group_name(getegid(), group, sizeof(group));
    snprintf(hand, sizeof(hand),
             "; or let root hand it to this program's group: chown root:%s "
             "%s && chmod 640 %s",
             group, quoted, quoted);
  }
  return refuse(problem,
                "it holds a secret but %s (mode %04o); make it private: chmod "
                "600 %s%s",
                who, (unsigned)(mode & 07777), quoted, hand);
}

int ef_account_open_file(const char *path, size_t max, struct stat *st,
                         char *problem) {
  /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    refuse(problem, "cannot open it: %s", strerror(err));
    errno = err; /* for the caller's advice */
    return -1;
  }
  int status = 0;
  if (fstat(fd, st) != 0)
    status = refuse(problem, "cannot read it: %s", strerror(errno));
  else if (!S_ISREG(st->st_mode))
    status = refuse(problem, "it is not a regular file");
  else if (st->st_size < 0 || (size_t)st->st_size > max)
    status = refuse(problem, "it is larger than %zu bytes", max);
  if (status != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* A secret file this program may not read: how root hands it over. */
static int refuse_unreadable(const char *path, char *problem) {
  char quoted[EF_PROBLEM_LEN / 4], group[64], user[64];
  ef_shell_quote(path, quoted, sizeof(quoted));
  group_name(getegid(), group, sizeof(group));
  struct passwd entry, *found = NULL;
  char buffer[1024];
  if (getpwuid_r(geteuid(), &entry, buffer, sizeof(buffer), &found) == 0 &&
      found != NULL)
    snprintf(user, sizeof(user), "%s", found->pw_name);
  else
    snprintf(user, sizeof(user), "%u", (unsigned)geteuid());
  return refuse(problem,
                "cannot open it: %s; this program runs as user %s, group "
                "%s: let root hand it to that group: chown root:%s %s && "
                "chmod 640 %s",
                strerror(EACCES), user, group, group, quoted, quoted);
}

int ef_account_secret_file(const char *path, char **out, char *problem) {
  struct stat st;
  int fd = ef_account_open_file(path, EF_SECRET_FILE_MAX, &st, problem);
  if (fd < 0 && errno == EACCES)
    return refuse_unreadable(path, problem);
  if (fd < 0)
    return -1;
  if (ef_account_check_private(path, &st, problem) != 0) {
    close(fd);
    return -1;
  }
  char buffer[EF_SECRET_FILE_MAX + 1];
  size_t len = 0;
  ssize_t got = 0;
  /* Reads past the size it had: a file that grew is refused, not cut. */
  while (len < sizeof(buffer) &&
         (got = read(fd, buffer + len, sizeof(buffer) - len)) != 0) {
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      break;
    len += (size_t)got;
  }
  int error = got < 0 ? errno : 0;
  close(fd);
  int status;
  if (error != 0)
    status = refuse(problem, "cannot read it: %s", strerror(error));
  else if (len > EF_SECRET_FILE_MAX)
    status = refuse(problem, "it is larger than %d bytes", EF_SECRET_FILE_MAX);
  else if (memchr(buffer, '\0', len) != NULL)
    status = refuse(problem, "it holds a NUL byte, not a key");
  else {
    buffer[len] = '\0';
    status = ef_account_key(buffer, "secret key in it", out, problem);
  }
  explicit_bzero(buffer, sizeof(buffer));
  return status;
}

int ef_account_ca_file(const char *path, char **out, char *problem) {
  struct stat st;
  /* A bundle of every public CA is about 200 KiB. */
  int fd = ef_account_open_file(path, 16 * 1024 * 1024, &st, problem);
  if (fd < 0)
    return -1;
  close(fd);
  if ((*out = strdup(path)) == NULL)
    return out_of_memory(problem);
  return 0;
}

int ef_account_timeout(double seconds, long *timeout_ms, char *problem) {
  if (!(seconds >= EF_TIMEOUT_MIN_S && seconds <= EF_TIMEOUT_MAX_S))
    return refuse(problem,
                  "a timeout is a number of seconds from %g to %g (default "
                  "10)",
                  EF_TIMEOUT_MIN_S, EF_TIMEOUT_MAX_S);
  *timeout_ms = (long)(seconds * 1000 + 0.5);
  return 0;
}

int ef_account_max_concurrent(double count, unsigned *max_concurrent,
                              char *problem) {
  if (!(count >= 1 && count <= EF_MAX_CONCURRENT_MAX) ||
      count != (double)(unsigned)count)
    return refuse(problem,
                  "the requests in flight are a whole number from 1 to %d "
                  "(default 8)",
                  EF_MAX_CONCURRENT_MAX);
  *max_concurrent = (unsigned)count;
  return 0;
}

int ef_account_push_suffix(const char *raw, char **out, char *problem) {
  size_t len = strlen(raw);
  int clean = len > 0 && len <= 32;
  for (const char *c = raw; clean && *c != '\0'; c++)
    clean = isalnum((unsigned char)*c) || *c == '-' || *c == '_';
  if (!clean)
    return refuse(problem, "a client id suffix has 1 to 32 letters, digits, "
                           "'-' and '_'");
  if ((*out = strdup(raw)) == NULL)
    return out_of_memory(problem);
  return 0;
}

static int seconds_between(double seconds, double least, const char *what,
                           int64_t *ms, char *problem) {
  if (!(seconds >= least && seconds <= 86400))
    return refuse(problem, "%s is a number of seconds from %g to 86400", what,
                  least);
  *ms = (int64_t)(seconds * 1000 + 0.5);
  return 0;
}

int ef_account_push_refresh(double seconds, int64_t *ms, char *problem) {
  return seconds_between(seconds, 60, "the MQTT refresh", ms, problem);
}

int ef_account_push_silence(double seconds, int64_t *ms, char *problem) {
  return seconds_between(seconds, 10, "the MQTT silence limit", ms, problem);
}

int ef_account_max_unknown(double count, size_t *max_unknown, char *problem) {
  if (!(count >= 1 && count <= EF_MAX_UNKNOWN_MAX) ||
      count != (double)(size_t)count)
    return refuse(problem,
                  "the values a reading may bring that the catalog does not "
                  "know are a whole number from 1 to %d (default 1000)",
                  EF_MAX_UNKNOWN_MAX);
  *max_unknown = (size_t)count;
  return 0;
}

int ef_account_counter_glitch(double share, double *counter_glitch,
                              char *problem) {
  if (!(share >= EF_COUNTER_GLITCH_MIN && share <= EF_COUNTER_GLITCH_MAX))
    return refuse(problem,
                  "the share of a counter's value below which a step back "
                  "is a glitch is a number from %g to %g (default 0.01)",
                  EF_COUNTER_GLITCH_MIN, EF_COUNTER_GLITCH_MAX);
  *counter_glitch = share;
  return 0;
}

/* A whole number of at most 9 digits at *text, moving past it. */
static int whole_number(const char **text, unsigned *out) {
  size_t digits = strspn(*text, "0123456789");
  if (digits == 0 || digits > 9)
    return -1;
  *out = (unsigned)strtoul(*text, NULL, 10);
  *text += digits;
  return 0;
}

int ef_account_shard(const char *text, unsigned *index, unsigned *count,
                     char *problem) {
  unsigned k = 0, n = 0;
  const char *c = text;
  if (whole_number(&c, &k) != 0 || *c++ != '/' || whole_number(&c, &n) != 0 ||
      *c != '\0' || n < 1 || n > EF_SHARDS_MAX || k >= n)
    return refuse(problem,
                  "a shard is K/N: this agent's part K, from 0 to N - 1, of "
                  "N parts (1 to %d), e.g. 0/4",
                  EF_SHARDS_MAX);
  *index = k;
  *count = n;
  return 0;
}

unsigned ef_serial_shard(const char *sn, unsigned count) {
  uint32_t hash = ef_fnv32_text(EF_FNV32_BASIS, sn); /* fixed, portable */
  return count > 0 ? hash % count : 0;
}

int ef_serial_valid(const char *sn) {
  size_t len = strlen(sn);
  if (len == 0 || len > EF_SERIAL_MAX)
    return 0;
  for (const char *c = sn; *c != '\0'; c++)
    if (!isalnum((unsigned char)*c) && strchr("-_.", *c) == NULL)
      return 0;
  return 1;
}

int ef_account_serial(const char *sn, char *problem) {
  if (ef_serial_valid(sn))
    return 0;
  return refuse(problem,
                "a serial number has 1 to %d letters, digits, '-', '_' and "
                "'.', nothing else",
                EF_SERIAL_MAX);
}

int ef_account_name(const char *name, const char *what, char *problem) {
  size_t len = strlen(name);
  if (len > 0 && len <= EF_DEVICE_NAME_MAX && strchr(name, '/') == NULL &&
      ef_text_is_clean(name))
    return 0;
  return refuse(problem,
                "%s has 1 to %d characters, none of them '/', a control "
                "character or one that reorders the text (Unicode bidi "
                "controls, line separators), in UTF-8",
                what, EF_DEVICE_NAME_MAX);
}

int ef_account_text_clean(const char *text) {
  for (; *text != '\0'; text++)
    if (iscntrl((unsigned char)*text))
      return 0;
  return 1;
}

int ef_setting_name_quotable(const char *key) {
  size_t len = strlen(key);
  if (len == 0 || len > EF_SETTING_NAME_QUOTABLE_MAX)
    return 0;
  for (const char *c = key; *c != '\0'; c++)
    if (!isalpha((unsigned char)*c) && *c != '_' && *c != '-')
      return 0;
  return 1;
}

const char *ef_setting_name_quoted(const char *key, const char *placeholder) {
  return ef_setting_name_quotable(key) ? key : placeholder;
}
