#!/bin/sh
# A Telegraf-only build needs libcurl, json-c and libcrypto and nothing
# else: configure sees only those three (a pkg-config directory of their .pc
# files alone; no collectd headers), builds ecoflow-telegraf and nothing
# else, `make check' says that it needs Check, and the program reads the
# simulator of the main build.
set -u
. "$(dirname "$0")/checks.sh"

work=$(mktemp -d /tmp/ecoflow-telegraf-only.XXXXXX)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
  if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "# kept: $work"; fi
}
trap cleanup EXIT

# From a copy of the sources: the tree under test may be configured in
# place.
source_copy "$work/src"
check "a copy of the sources to configure (make distdir)" test -x "$work/src/configure"
mkdir "$work/pc" "$work/build"
for module in libcurl json-c libcrypto; do
  cp "$(pkg-config --variable pcfiledir "$module")/$module.pc" "$work/pc/"
done

cd "$work/build" || exit 1
PKG_CONFIG_LIBDIR=$work/pc PKG_CONFIG_PATH= "$work/src/configure" \
  --disable-collectd --disable-sim --enable-werror \
  --with-collectd-include="$work/none" >configure.log 2>&1
status=$?
check "configure --disable-collectd --disable-sim with libcurl, json-c and libcrypto alone" \
  test "$status" -eq 0
[ "$status" -eq 0 ] || { tail -n 20 configure.log; exit 1; }
check "configure's summary: no plugin, no simulator, no unit tests" \
  grep -q "unit tests: *no" configure.log

mkdir "$work/refused" && cd "$work/refused" || exit 1
PKG_CONFIG_LIBDIR=$work/pc PKG_CONFIG_PATH= "$work/src/configure" \
  --disable-collectd >sim.log 2>&1
check "asked for, the simulator needs libmicrohttpd: configure names the package" \
  sh -c "! grep -q '^config.status' sim.log && grep -q 'install the Debian package libmicrohttpd-dev' sim.log"
PKG_CONFIG_LIBDIR=$work/pc PKG_CONFIG_PATH= "$work/src/configure" \
  --disable-sim --with-collectd-include="$work/none" >collectd.log 2>&1
check "asked for, the plugin needs collectd's headers: configure names the package" \
  sh -c "! grep -q '^config.status' collectd.log && grep -q 'install the Debian package collectd-dev' collectd.log"
cd "$work/build" || exit 1

own_make -j2 >make.log 2>&1
check "it builds" test $? -eq 0
check "ecoflow-telegraf is built" test -x src/ecoflow-telegraf
check "neither ecoflow-sim nor ecoflow.so is" \
  test ! -e src/ecoflow-sim -a ! -e src/.libs/ecoflow.so
check "ecoflow-telegraf links none of the other parts' libraries" \
  sh -c "! ldd src/.libs/ecoflow-telegraf src/ecoflow-telegraf 2>/dev/null | grep -E 'microhttpd|libcheck|libmosquitto'"

# TESTS empty: only what `make check' says of Check matters here.
own_make check TESTS= >check.log 2>&1
status=$?
check "make check fails, naming the package Check comes in" \
  sh -c "[ $status -ne 0 ] && grep -q 'install the Debian package check' check.log"

# The program against the main build's simulator: real line protocol.
export ECOFLOW_ACCESS_KEY=Fp4SvIprYSDPXtYJidEtUsim
export ECOFLOW_SECRET_KEY=WIbFEKre0s6sLnh4ei7SPUeYnptHGsim
"$top_builddir/src/ecoflow-sim" --port 0 --port-file "$work/port" \
  --clock 1718625600 >"$work/sim.log" 2>&1 &
sim_pid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$work/port" 2>/dev/null)
src/ecoflow-telegraf --endpoint "http://127.0.0.1:$port" \
  --sn HJ31SIMOCEAN0001 >"$work/out" 2>"$work/err"
check "the Telegraf-only ecoflow-telegraf reads the simulator (exit 0)" \
  test $? -eq 0
check "and prints the device's line protocol" \
  grep -q '^ecoflow,.*sn=HJ31SIMOCEAN0001.*battery_soc=' "$work/out"

summary
