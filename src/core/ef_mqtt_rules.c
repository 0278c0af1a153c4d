/* ef_mqtt_rules.c: the client id, the pauses between attempts and what a
 * closed connection means. */
#include "ef_mqtt_rules.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* A cut account ends in '-' and this many hex digits of its digest. */
#define MARK_DIGITS 8

static int id_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* The first MARK_DIGITS hex digits of account's SHA-256, into mark. */
static void account_mark(const char *account, char mark[MARK_DIGITS + 1]) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(account, strlen(account), digest, &len, EVP_sha256(), NULL) !=
      1)
    len = 0;
  for (int i = 0; i < MARK_DIGITS / 2; i++)
    snprintf(mark + 2 * i, 3, "%02x", len ? (unsigned)digest[i] : 0u);
}

int ef_mqtt_client_id(const char *account, const char *suffix,
                      char out[EF_MQTT_CLIENT_ID_MAX + 1]) {
  out[0] = '\0';
  size_t suffix_len = suffix != NULL ? strlen(suffix) : 0;
  if (suffix_len > EF_MQTT_SUFFIX_MAX)
    return -1;
  for (size_t i = 0; i < suffix_len; i++)
    if (!id_char(suffix[i]))
      return -1;
  /* Room for the account: what the suffix and its '-' leave. */
  size_t room = EF_MQTT_CLIENT_ID_MAX - (suffix_len ? suffix_len + 1 : 0);
  char kept[EF_MQTT_CLIENT_ID_MAX + 1];
  size_t n = 0;
  int changed = 0;
  for (const char *c = account ? account : ""; *c != '\0'; c++) {
    if (!id_char(*c) || n == room)
      changed = 1;
    else
      kept[n++] = *c;
  }
  if (changed) {
    char mark[MARK_DIGITS + 1];
    account_mark(account, mark);
    n = n < room - MARK_DIGITS - 1 ? n : room - MARK_DIGITS - 1;
    snprintf(kept + n, sizeof(kept) - n, "-%s", mark);
    n += MARK_DIGITS + 1;
  }
  kept[n] = '\0';
  snprintf(out, EF_MQTT_CLIENT_ID_MAX + 1, "%s%s%s", kept,
           suffix_len && n ? "-" : "", suffix_len ? suffix : "");
  return 0;
}

void ef_mqtt_plan_init(ef_mqtt_plan *plan) {
  *plan = (ef_mqtt_plan){.pause_ms = EF_MQTT_FIRST_BACKOFF_S * 1000};
}

void ef_mqtt_plan_attempt(ef_mqtt_plan *plan, int64_t now_ms,
                          int64_t timeout_ms) {
  plan->deadline_ms = now_ms + timeout_ms;
  plan->connected_ms = 0;
}

int ef_mqtt_plan_overdue(const ef_mqtt_plan *plan, int64_t now_ms) {
  return plan->deadline_ms != 0 && now_ms >= plan->deadline_ms;
}

/* The next attempt after the pause, which doubles for the one after. */
static int64_t pause_then_double(ef_mqtt_plan *plan, int64_t now_ms) {
  plan->next_try_ms = now_ms + plan->pause_ms;
  plan->pause_ms *= 2;
  if (plan->pause_ms > EF_MQTT_MAX_BACKOFF_S * 1000)
    plan->pause_ms = EF_MQTT_MAX_BACKOFF_S * 1000;
  return plan->next_try_ms;
}

int64_t ef_mqtt_plan_failed(ef_mqtt_plan *plan, int64_t now_ms) {
  plan->deadline_ms = 0;
  plan->quick_closes = 0;
  return pause_then_double(plan, now_ms);
}

void ef_mqtt_plan_connected(ef_mqtt_plan *plan, int64_t now_ms) {
  plan->deadline_ms = 0;
  plan->connected_ms = now_ms;
}

int ef_mqtt_plan_stable(const ef_mqtt_plan *plan, int64_t now_ms) {
  return plan->connected_ms != 0 &&
         now_ms - plan->connected_ms >= EF_MQTT_STABLE_S * 1000;
}

int64_t ef_mqtt_plan_lost(ef_mqtt_plan *plan, int64_t now_ms, int by_broker,
                          int *takeover) {
  *takeover = 0;
  if (ef_mqtt_plan_stable(plan, now_ms)) {
    plan->pause_ms = EF_MQTT_FIRST_BACKOFF_S * 1000;
    plan->quick_closes = 0;
  } else if (by_broker && plan->connected_ms != 0 &&
             now_ms - plan->connected_ms < EF_MQTT_TAKEOVER_WITHIN_S * 1000) {
    *takeover = ++plan->quick_closes == EF_MQTT_TAKEOVER_AFTER;
  } else {
    plan->quick_closes = 0;
  }
  plan->connected_ms = 0;
  return pause_then_double(plan, now_ms);
}
