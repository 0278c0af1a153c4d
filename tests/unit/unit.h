/* unit.h: one way for every Check suite of the project to run. */
#ifndef EF_UNIT_H
#define EF_UNIT_H

#include <check.h>
#include <stddef.h>

/* Runs the tests as one suite and returns the process exit status. */
int unit_run(const char *suite_name, const TTest *const *tests, size_t n);

#define UNIT_MAIN(suite_name, ...)                                             \
  int main(void) {                                                             \
    const TTest *const tests[] = {__VA_ARGS__};                                \
    return unit_run(suite_name, tests, sizeof(tests) / sizeof(tests[0]));      \
  }

#endif
