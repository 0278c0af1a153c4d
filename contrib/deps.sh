#!/usr/bin/env bash
# Installs the Debian 12 packages collectd-ecoflow needs, when any is
# missing: `deps.sh build` for building and running it (the demo), `deps.sh
# test` for every test too, `deps.sh bench` for the build and `make bench`,
# `deps.sh deb` for building its Debian packages (`make deb`). Safe to
# repeat. As root it runs apt-get; as any other user it prints the command
# to run and exits 1 when anything is missing. With --ask first (`make
# deb`: a build installs nothing as root unasked) root is asked on the
# terminal before apt-get runs; without a terminal, or on any answer but
# yes, it prints the command and exits 1.
set -euo pipefail

ask=no
if [ "${1:-}" = "--ask" ]; then
  ask=yes
  shift
fi

build=(
  autoconf automake libtool pkg-config gcc make
  libcurl4-openssl-dev libjson-c-dev libssl-dev check libmicrohttpd-dev
  libmosquitto-dev collectd-core collectd-dev ca-certificates
)
test=(
  # the real daemons and checkers the tests start on loopback
  libyajl2 influxdb influxdb-client mosquitto mosquitto-clients
  graphite-carbon python3-whisper python3-yaml
  valgrind python3 curl openssl
  # fuzzing: clang's libFuzzer with ASan and UBSan; the format check and
  # clang's static analyzer
  clang libclang-rt-14-dev clang-format clang-tools
  # the man pages rendered as man shows them
  man-db groff-base
)
bench=(
  # what only `make bench` needs: callgrind, requests for the Python
  # poller it runs side by side, a broker (and openssl for its throwaway
  # CA) for push mode (collectd comes with the build list)
  valgrind python3 python3-requests mosquitto openssl
)
# `make deb` and `make deb-check`: the Debian packages built and installed
deb=(
  build-essential debhelper dh-autoreconf dpkg-dev fakeroot lintian
)

case "${1:-test}" in
build) packages=("${build[@]}") ;;
test) packages=("${build[@]}" "${test[@]}") ;;
bench) packages=("${build[@]}" "${bench[@]}") ;;
deb) packages=("${build[@]}" "${deb[@]}") ;;
*) echo "usage: $0 [--ask] build|test|bench|deb" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

install_line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages; run:" >&2
  echo "  sudo $install_line" >&2
  exit 1
fi
if [ "$ask" = yes ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  answer=
  if [ -t 0 ]; then
    read -r -p "run apt-get update and $install_line? [y/N] " answer || answer=
  fi
  case "$answer" in
  [yY] | [yY][eE][sS]) ;;
  *)
    echo "nothing installed; to install them, run:" >&2
    echo "  $install_line" >&2
    exit 1
    ;;
  esac
fi
echo "installing ${#missing[@]} Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
