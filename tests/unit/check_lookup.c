/* Unit tests of ef_lookup.c: addresses looked up in a thread of their
 * own. Only names this machine answers itself (numeric, localhost). */
#include "ef_lookup.h"
#include "unit.h"

#include <poll.h>
#include <string.h>
#include <time.h>

/* Waits (at most 30 s) for lookup to be done; its addresses. */
static int addresses_of(ef_lookup *lookup, char out[][EF_ADDRESS_TEXT_LEN],
                        int max, int *error) {
  struct pollfd pfd = {.fd = ef_lookup_fd(lookup), .events = POLLIN};
  ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
  return ef_lookup_addresses(lookup, out, max, error);
}

START_TEST(numeric_hosts_are_done_at_once) {
  static const char *const hosts[] = {"127.0.0.1", "::1", "192.0.2.7"};
  for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
    ck_assert(ef_lookup_numeric(hosts[i]));
    ef_lookup *lookup = ef_lookup_start(hosts[i]);
    ck_assert_ptr_nonnull(lookup);
    char out[4][EF_ADDRESS_TEXT_LEN];
    int error = -1;
    /* Done before anyone waits. */
    ck_assert_int_eq(ef_lookup_addresses(lookup, out, 4, &error), 1);
    ck_assert_int_eq(error, 0);
    ck_assert_str_eq(out[0], hosts[i]);
    ef_lookup_release(lookup);
  }
  ck_assert(!ef_lookup_numeric("localhost"));
  ck_assert(!ef_lookup_numeric("mqtt-e.ecoflow.com"));
}
END_TEST

START_TEST(names_are_looked_up) {
  ef_lookup *lookup = ef_lookup_start("localhost");
  ck_assert_ptr_nonnull(lookup);
  char out[8][EF_ADDRESS_TEXT_LEN];
  int error = -1;
  int n = addresses_of(lookup, out, 8, &error);
  ck_assert_int_eq(error, 0);
  ck_assert_int_ge(n, 1);
  for (int i = 0; i < n; i++)
    ck_assert_msg(strcmp(out[i], "127.0.0.1") == 0 ||
                      strcmp(out[i], "::1") == 0,
                  "localhost is %s", out[i]);
  ef_lookup_release(lookup);
}
END_TEST

/* Letting go before the lookup is done: the thread frees it (valgrind
 * says whether it does), and the next lookup is not disturbed. */
START_TEST(release_before_done) {
  for (int i = 0; i < 4; i++)
    ef_lookup_release(ef_lookup_start("localhost"));
  ef_lookup *lookup = ef_lookup_start("localhost");
  char out[8][EF_ADDRESS_TEXT_LEN];
  int error = -1;
  ck_assert_int_ge(addresses_of(lookup, out, 8, &error), 1);
  ef_lookup_release(lookup);
  ef_lookup_release(NULL);
  /* The lookups let go of finish too (each as quick as the last). */
  struct timespec pause = {.tv_nsec = 200 * 1000 * 1000};
  nanosleep(&pause, NULL);
}
END_TEST

UNIT_MAIN("lookup", numeric_hosts_are_done_at_once, names_are_looked_up,
          release_before_done)
