#!/usr/bin/env bash
# Builds the project out of tree in build/ with warnings as errors, runs every
# test (unit suites under valgrind, end-to-end tests against the real
# daemons), the format check and clang's static analyzer, each fuzz target
# for FUZZ_SECONDS (default 30), then `make distcheck` (the tarball's own
# build runs the quick tests), and prints each runner's summary line.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
jobs=${JOBS:-2}

cd "$top"
contrib/deps.sh test
# A git clone has no configure yet: README's first step, autoreconf -fi.
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror >/dev/null

status=0
make -j"$jobs" >/dev/null
make -j"$jobs" check || status=$?
make -j"$jobs" check-sanitize || status=1 # the unit suites, ASan+UBSan

# Check writes its summary into the .log files, not to stdout: show them,
# so that a run that executed no test is visible as such.
echo "== test summaries"
checks=0 failures=0
for log in tests/unit/*.log tests/e2e/*.log tests/fuzz/*.log tests/doc/*.log tests/build/*.log; do
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

# The committed format and clang's static analyzer.
echo "== static checks"
"$top/tests/static-checks.sh" "$build/static-checks" || status=1

# Each libFuzzer target for a bounded time, from the kept corpus.
if [ "$status" -eq 0 ]; then
  make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-30}" || { echo "make fuzz failed"; status=1; }
fi

if [ "$status" -eq 0 ] && [ "${SKIP_DISTCHECK:-}" != 1 ]; then
  # The tarball's build runs the quick tests: the end-to-end ones ran above,
  # and dist-hook checks that the tarball holds every tracked file.
  make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
    TESTS="$(make -s print-quick-tests)" >distcheck.log 2>&1 ||
    { tail -n 40 distcheck.log; echo "make distcheck failed"; status=1; }
  [ "$status" -ne 0 ] || echo "make distcheck: ok"
fi

echo "total: $((checks - failures)) passed, $failures failed"
[ "$status" -eq 0 ] && [ "$failures" -eq 0 ]
