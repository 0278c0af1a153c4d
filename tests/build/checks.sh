# checks.sh: what the shell tests share, sourced by each: top_srcdir and
# top_builddir (from make check, else from where the test is), and the
# tally of named checks, printed by summary as "N passed, M failed".
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
passed=0 failed=0
check() { # name, then the command that must succeed
  name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $name"
  else failed=$((failed + 1)); echo "FAIL - $name"; fi
}
summary() { # the tally, and the exit status
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# make for a build of the test's own: the outer `make check' hands its
# variables down in MAKEFLAGS (TESTS, TEST_LOGS), which would make the
# inner build run this very test again, and again.
own_make() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make "$@"
}
# A copy of the sources in directory $1: the files `make dist' ships, with
# their configure, copied by the build under test (`make distdir'), for a
# build of the test's own. configure refuses to build in another
# directory from a source tree that is configured in place, and the tree
# under test may be one.
source_copy() {
  own_make -s -C "$top_builddir" distdir distdir="$1" >"$1.log" 2>&1 &&
    chmod -R u+w "$1"
}
