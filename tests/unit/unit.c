/* unit.c: the runner behind UNIT_MAIN. */
#include "unit.h"

#include <stdlib.h>

int unit_run(const char *suite_name, const TTest *const *tests, size_t n) {
  Suite *suite = suite_create(suite_name);
  TCase *tc = tcase_create(suite_name);
  /* Runs under valgrind take far longer than Check's default 4 s. */
  tcase_set_timeout(tc, 120);
  for (size_t i = 0; i < n; i++)
    tcase_add_test(tc, tests[i]);
  suite_add_tcase(suite, tc);
  SRunner *runner = srunner_create(suite);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
