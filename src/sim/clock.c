/* clock.c: the simulated clock and the API's time texts. */
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static bool frozen;
static int64_t frozen_at_ms;
static int64_t offset_ms;

static int64_t wall_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Callers hold clock_lock. */
static int64_t now_ms_locked(void) {
  return frozen ? frozen_at_ms : wall_ms() + offset_ms;
}

int64_t sim_clock_now_ms(void) {
  pthread_mutex_lock(&clock_lock);
  int64_t now = now_ms_locked();
  pthread_mutex_unlock(&clock_lock);
  return now;
}

int64_t sim_clock_now(void) {
  int64_t ms = sim_clock_now_ms();
  return ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);
}

void sim_clock_freeze(int64_t at) {
  pthread_mutex_lock(&clock_lock);
  frozen = true;
  frozen_at_ms = at * 1000;
  pthread_mutex_unlock(&clock_lock);
}

void sim_clock_advance(int64_t seconds) {
  pthread_mutex_lock(&clock_lock);
  if (frozen)
    frozen_at_ms += seconds * 1000;
  else
    offset_ms += seconds * 1000;
  pthread_mutex_unlock(&clock_lock);
}

void sim_clock_run(void) {
  pthread_mutex_lock(&clock_lock);
  if (frozen) {
    offset_ms = frozen_at_ms - wall_ms();
    frozen = false;
  }
  pthread_mutex_unlock(&clock_lock);
}

bool sim_clock_is_frozen(void) {
  pthread_mutex_lock(&clock_lock);
  bool is_frozen = frozen;
  pthread_mutex_unlock(&clock_lock);
  return is_frozen;
}

/* t in UTC into *utc; 0 when it has none. Each caller gives strftime its
 * format as a literal, which the compiler checks. */
static int utc_of(int64_t t, struct tm *utc) {
  time_t seconds = (time_t)t;
  return gmtime_r(&seconds, utc) != NULL;
}

void sim_clock_format(int64_t t, char out[SIM_TIME_TEXT_SIZE]) {
  struct tm utc;
  if (!utc_of(t, &utc) ||
      strftime(out, SIM_TIME_TEXT_SIZE, "%Y-%m-%d %H:%M:%S", &utc) == 0)
    out[0] = '\0';
}

void sim_clock_http_date(int64_t t, char out[SIM_HTTP_DATE_SIZE]) {
  struct tm utc;
  /* strftime's %a and %b follow the C locale, which is what HTTP wants. */
  if (!utc_of(t, &utc) ||
      strftime(out, SIM_HTTP_DATE_SIZE, "%a, %d %b %Y %H:%M:%S GMT", &utc) == 0)
    out[0] = '\0';
}

int sim_clock_parse(const char *text, int64_t *t) {
  struct tm utc = {0};
  const char *end = strptime(text, "%Y-%m-%d %H:%M:%S", &utc);
  /* strptime accepts "2024-6-1 0:0:0"; the API writes fixed widths. */
  if (end == NULL || *end != '\0' || strlen(text) != SIM_TIME_TEXT_SIZE - 1)
    return -1;
  *t = (int64_t)timegm(&utc);
  return 0;
}
