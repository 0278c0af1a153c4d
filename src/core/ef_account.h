/* ef_account.h: the settings of one EcoFlow account, one verdict each.
 *
 * Promises: both front ends check every setting they share through these
 * functions, so that a value gets the same verdict and the same words
 * wherever it is written: the endpoint, the keys, the secret file (and any
 * file that holds a secret), the CA file, the timeout, the requests in
 * flight, serial numbers and device names. A refusal is a problem text
 * saying what is wrong and how to fix it; it never quotes the refused value
 * (a secret pasted into the wrong field must not be echoed), and the front
 * end puts where the value came from in front of it. Accepted values come
 * back normalised (trimmed, trailing slashes gone). Secrets are wiped from
 * memory when freed. Nothing here prints. */
#ifndef EF_ACCOUNT_H
#define EF_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define EF_DEFAULT_ENDPOINT "https://api-e.ecoflow.com"
#define EF_TIMEOUT_MIN_S 0.001
#define EF_TIMEOUT_MAX_S 300.0
#define EF_MAX_CONCURRENT_MAX 256
/* EcoFlow keys are 32 characters; a file this large holds something else. */
#define EF_SECRET_FILE_MAX 4096
/* Live serial numbers have 16 characters; the cap keeps every identifier
 * made of one (a collectd plugin instance, a tag) whole. */
#define EF_SERIAL_MAX 64
/* A collectd plugin instance holds 127 characters. */
#define EF_DEVICE_NAME_MAX 127
#define EF_PROBLEM_LEN 512
/* Values the catalog does not know that one reading may bring: the live
 * PowerOcean sends about 350 values in all. */
#define EF_MAX_UNKNOWN_MAX 100000
#define EF_COUNTER_GLITCH_MIN 0.0001
#define EF_COUNTER_GLITCH_MAX 0.5
#define EF_SHARDS_MAX 4096

/* What both front ends hold for one account. */
typedef struct {
  char *endpoint; /* never NULL once filled: EF_DEFAULT_ENDPOINT */
  char *access_key;
  char *secret_key;        /* wiped when cleared */
  char *ca_file;           /* NULL: the system's CA store */
  long timeout_ms;         /* 0: the client's default */
  unsigned max_concurrent; /* 0: the client's default */
  /* What a reading may publish (ef_metric.h); 0: the defaults. */
  size_t max_unknown;    /* values the catalog does not know, per reading */
  double counter_glitch; /* a lifetime counter's step back below this share
                            of its value is a glitch, held out */
  /* This agent's part of the discovered devices: shard_index of
   * shard_count (0: every device). */
  unsigned shard_index, shard_count;
} ef_account;

/* Frees every setting, wiping the secret, and zeroes the account. */
void ef_account_clear(ef_account *account);

/* Frees text after overwriting it: for secrets and whatever may hold one
 * (a config file's text, a line of it). NULL is fine. */
void ef_secret_free(char *text);

/* Each check below returns 0 and stores the normalised value in *out (the
 * caller frees it; *out must be NULL), or returns -1 and writes why into
 * problem (EF_PROBLEM_LEN bytes). `what' names the setting in the text
 * ("access key"). */

/* A key as pasted: surrounding blanks are dropped (editors add them), but
 * blanks or control characters inside are refused: a key never has them,
 * and a line break would become a second HTTP header. */
int ef_account_key(const char *raw, const char *what, char **out,
                   char *problem);

/* An http:// or https:// URL with a host, without blanks or control
 * characters; trailing slashes are dropped. */
int ef_account_endpoint(const char *raw, char **out, char *problem);

/* 1 when endpoint is plain http:// to a host other than the loopback: the
 * access key and the signatures would travel in clear text. The host is
 * libcurl's reading of the URL; the loopback is an address written in
 * 127.0.0.0/8 or [::1], or the name localhost (which libcurl resolves
 * itself); any other name, 127.0.0.1.nip.io too, may lead anywhere. */
int ef_account_endpoint_in_clear(const char *endpoint);

/* Reads the secret key from the file at path, which must be a regular
 * file (opened without blocking: a FIFO would hang start-up) of at most
 * EF_SECRET_FILE_MAX bytes that no one else may use (see
 * ef_account_check_private); the text is a key as ef_account_key takes
 * it. A file this program may not open says how root hands it over (the
 * chown and chmod for this program's group). */
int ef_account_secret_file(const char *path, char **out, char *problem);

/* Refuses a file that holds a secret (st: its status) when others than
 * its owner may use it, with one exception, PostgreSQL's rule for its
 * private key (from Debian, for the ssl-cert group) narrowed to this
 * program's own groups: a file root owns may be readable by its group when
 * that is this program's group or one of its supplementary groups (root
 * hands a service user its secret: root:telegraf 0640). Never any
 * permission for others, never group write. The text says what to do: the
 * `chmod 600 PATH', or the `chown root:GROUP PATH && chmod 640 PATH' for
 * this program's group, PATH quoted for a shell. Returns 0 or -1. */
int ef_account_check_private(const char *path, const struct stat *st,
                             char *problem);

/* Opens path for reading without blocking and checks that it is a regular
 * file of at most max bytes; returns the descriptor (and its status in
 * *st), or -1 with problem filled. */
int ef_account_open_file(const char *path, size_t max, struct stat *st,
                         char *problem);

/* A CA bundle that can be read. */
int ef_account_ca_file(const char *path, char **out, char *problem);

/* Seconds for one request, EF_TIMEOUT_MIN_S to EF_TIMEOUT_MAX_S, into ms.
 * Returns 0 or -1. */
int ef_account_timeout(double seconds, long *timeout_ms, char *problem);

/* Requests in flight, a whole number from 1 to EF_MAX_CONCURRENT_MAX.
 * Returns 0 or -1. */
int ef_account_max_concurrent(double count, unsigned *max_concurrent,
                              char *problem);

/* Values the catalog does not know taken from one reading, a whole number
 * from 1 to EF_MAX_UNKNOWN_MAX. Returns 0 or -1. */
int ef_account_max_unknown(double count, size_t *max_unknown, char *problem);

/* The share of a lifetime counter's value below which a step back is a
 * glitch (held out; a bigger one is a reset), EF_COUNTER_GLITCH_MIN to
 * EF_COUNTER_GLITCH_MAX. Returns 0 or -1. */
int ef_account_counter_glitch(double share, double *counter_glitch,
                              char *problem);

/* "K/N": this agent polls the discovered devices of shard K (0 to N - 1)
 * of N (1 to EF_SHARDS_MAX). Returns 0 or -1. */
int ef_account_shard(const char *text, unsigned *index, unsigned *count,
                     char *problem);

/* The shard of sn among count: a hash of the serial number alone, so that
 * it never changes across restarts, list changes or machines. */
unsigned ef_serial_shard(const char *sn, unsigned count);

/* 1 when sn can be a serial number: 1 to EF_SERIAL_MAX letters, digits,
 * '-', '_' and '.' (it goes into a signed query string as it is, and
 * becomes part of identifiers). Discovered serials are held to it too. */
int ef_serial_valid(const char *sn);
/* The same as a verdict. Returns 0 or -1. */
int ef_account_serial(const char *sn, char *problem);

/* A name the front ends build identifiers of (a device's name: a collectd
 * plugin instance, a tag; an account's name): 1 to EF_DEVICE_NAME_MAX
 * bytes of UTF-8 that ef_text_clean would not change (no control
 * character, no bidi control or line separator), none of them '/'. what
 * names it in the text ("a device name"). Returns 0 or -1. */
int ef_account_name(const char *name, const char *what, char *problem);

/* 1 when text is free of control characters (a line break in a setting
 * would become a second HTTP header, or a forged log line). */
int ef_account_text_clean(const char *text);

/* The longest name of a setting an error may quote: shorter than any
 * EcoFlow key (32 characters), which may well be letters only. */
#define EF_SETTING_NAME_QUOTABLE_MAX 24

/* 1 when key looks like the name of a setting (1 to
 * EF_SETTING_NAME_QUOTABLE_MAX letters, '_' and '-'), so that an error may
 * quote it: anything else could be a secret pasted into the wrong place. */
int ef_setting_name_quotable(const char *key);

/* key as an error may quote it: key itself when it looks like the name of
 * a setting (ef_setting_name_quotable), else placeholder (the front end's
 * word for one, e.g. "(an option)"). */
const char *ef_setting_name_quoted(const char *key, const char *placeholder);

/* Push mode (MQTT, ef_engine.h). The client id's suffix: 1 to 32 letters,
 * digits, '-' and '_' (each program of an account needs its own id). */
int ef_account_push_suffix(const char *raw, char **out, char *problem);

/* Seconds between HTTP refreshes of a pushed device, 60 to 86400; and
 * without messages before a device counts as silent, 10 to 86400; into
 * ms. Return 0 or -1. */
int ef_account_push_refresh(double seconds, int64_t *ms, char *problem);
int ef_account_push_silence(double seconds, int64_t *ms, char *problem);

/* path as one shell word, for advice that can be pasted as it is. */
void ef_shell_quote(const char *path, char *out, size_t size);

#endif
