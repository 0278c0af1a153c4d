#!/usr/bin/env bash
# Builds the project out of tree in build/ with warnings as errors, runs every
# test (unit suites under valgrind, end-to-end tests against the real
# daemons), the format check and clang's static analyzer, each fuzz target
# for FUZZ_SECONDS (default 30), then `make distcheck` (the tarball's own
# build runs the quick tests), and prints each runner's summary line.
#
# Usage: tests/run-all.sh [STAGE ...], stages in this order: tests, static,
# fuzz, distcheck (default: all four). Fuzzing and distcheck do not run
# after a failed stage; the exit status is 0 when every stage that ran
# passed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
jobs=${JOBS:-2}
stages=" ${*:-tests static fuzz distcheck} "
for stage in $stages; do
  case $stage in
  tests | static | fuzz | distcheck) ;;
  *) echo "run-all.sh: unknown stage $stage (tests static fuzz distcheck)" >&2; exit 2 ;;
  esac
done
wanted() { [[ $stages == *" $1 "* ]]; }

cd "$top"
contrib/deps.sh test
# A git clone has no configure yet: README's first step, autoreconf -fi.
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror >/dev/null
make -j"$jobs" >/dev/null

# Check writes its summary into the .log files, not to stdout: show them,
# so that a run that executed no test is visible as such; then what failed,
# in the words of the test that failed (CI shows only this output).
summarize() {
  local log line checks=0 failures=0
  local logs=(tests/unit/*.log tests/e2e/*.log tests/fuzz/*.log tests/doc/*.log tests/build/*.log)
  echo "== test summaries"
  for log in "${logs[@]}"; do
    [ -f "$log" ] || continue
    line=$(grep -hE '^[0-9]+%: Checks: |^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
    echo "${log%.log}: ${line:-NO SUMMARY LINE}"
    if [[ $line =~ Checks:\ ([0-9]+),\ Failures:\ ([0-9]+),\ Errors:\ ([0-9]+) ]]; then
      checks=$((checks + BASH_REMATCH[1]))
      failures=$((failures + BASH_REMATCH[2] + BASH_REMATCH[3]))
    elif [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
      checks=$((checks + BASH_REMATCH[1] + BASH_REMATCH[2]))
      failures=$((failures + BASH_REMATCH[2]))
    else
      failures=$((failures + 1))
    fi
  done
  for log in "${logs[@]}"; do
    [ -f "$log" ] && grep -qE '^FAIL - |:[EF]:|^(FAIL|ERROR) ' "$log" || continue
    echo "== what failed in ${log%.log}:"
    grep -E '^FAIL - |:[EF]:|^(FAIL|ERROR) |^# kept' "$log" | cut -c1-2000 | head -n 20
  done
  total="total: $((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

status=0 total=
if wanted tests; then
  make -j"$jobs" check || status=1
  make -j"$jobs" check-sanitize || status=1 # the unit suites, ASan+UBSan
  summarize || status=1
fi

# The committed format and clang's static analyzer.
if wanted static; then
  echo "== static checks"
  "$top/tests/static-checks.sh" "$build/static-checks" || status=1
fi

# Each libFuzzer target for a bounded time, from the kept corpus.
if [ "$status" -eq 0 ] && wanted fuzz; then
  make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-30}" || { echo "make fuzz failed"; status=1; }
fi

if [ "$status" -eq 0 ] && wanted distcheck && [ "${SKIP_DISTCHECK:-}" != 1 ]; then
  # The tarball's build runs the quick tests: the end-to-end ones ran above,
  # and dist-hook checks that the tarball holds every tracked file.
  make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
    TESTS="$(make -s print-quick-tests)" >distcheck.log 2>&1 ||
    { tail -n 40 distcheck.log; echo "make distcheck failed"; status=1; }
  [ "$status" -ne 0 ] || echo "make distcheck: ok"
fi
[ -z "$total" ] || echo "$total"
exit "$status"
