#!/bin/sh
# Where `make install' puts things: with configure's default directories,
# configure asks the installed collectd where it loads plugins from
# (`collectd -h'), LIBDIR/collectd without a collectd that says; with
# --prefix (or --exec-prefix, --libdir) the plugin stays under it, in
# LIBDIR/collectd, unless --with-collectd-plugindir asks collectd;
# --with-collectd-plugindir=DIR names the directory; the summary names it
# and, when it is not collectd's own, the PluginDir that finds it. `make
# install' puts the plugin there, the programs in bindir, the example
# configurations under the doc directory and the man pages (which render)
# under mandir, as README's table says, all under an explicit prefix;
# `make uninstall' takes them all away again.
set -u
. "$(dirname "$0")/checks.sh"

work=$(mktemp -d /tmp/ecoflow-install.XXXXXX)
cleanup() {
  if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "# kept: $work"; fi
}
trap cleanup EXIT

# --- configure: where the plugin goes -------------------------------------
# From a copy of the sources. Only the plugin is configured: the other
# parts do not change where it goes, and leaving them out keeps each run
# short.
source_copy "$work/src"
check "a copy of the sources to configure (make distdir)" test -x "$work/src/configure"
configure() { # directory, then configure's arguments
  mkdir -p "$work/$1" && (cd "$work/$1" && shift &&
    "$work/src/configure" --disable-telegraf --disable-sim "$@" \
      >configure.log 2>&1)
}
plugindir() { # the directory a configured build installs the plugin into
  sed -n 's/^collectdplugindir = //p' "$work/$1/Makefile"
}
summary_says() { # directory, text: the plugin line of configure's summary
  grep 'collectd plugin:' "$work/$1/configure.log" | grep -qF "$2"
}

mkdir -p "$work/bin"
cat >"$work/bin/collectd" <<EOF
#!/bin/sh
# collectd 5.12's -h, with a plugin directory of its own.
printf 'Usage: collectd [OPTIONS]\n\nBuiltin defaults:\n'
printf '  Config file       /etc/collectd/collectd.conf\n'
printf '  Plugin directory  $work/collectd-plugins\n'
printf '  Data directory    /var/lib/collectd\n'
EOF
chmod +x "$work/bin/collectd"

PATH="$work/bin:$PATH" configure asked
check "configure asks the collectd on PATH where it loads plugins from" \
  test "$(plugindir asked)" = "$work/collectd-plugins"
check "and its summary says where the plugin goes, and why" \
  summary_says asked "ecoflow.so into $work/collectd-plugins (where $work/bin/collectd looks)"

PATH="$work/bin:$PATH" configure chosen \
  --with-collectd-plugindir="$work/chosen"
check "--with-collectd-plugindir=DIR wins over what collectd says" \
  test "$(plugindir chosen)" = "$work/chosen"

configure silent COLLECTD=/bin/false
check "a collectd that says nothing: LIBDIR/collectd" \
  test "$(plugindir silent)" = '${libdir}/collectd'
check "and the summary says so, with the prefix filled in" \
  summary_says silent "ecoflow.so into /usr/local/lib/collectd (no collectd said"

PATH="$work/bin:$PATH" configure prefixed --prefix="$work/prefix"
check "with --prefix, the plugin stays under it: LIBDIR/collectd" \
  test "$(plugindir prefixed)" = '${libdir}/collectd'
check "and the summary says where, and the PluginDir collectd needs" \
  sh -c "grep -A1 'collectd plugin:' '$work/prefixed/configure.log' |
    tr -s ' \n' ' ' | grep -qF 'ecoflow.so into $work/prefix/lib/collectd (under the prefix; --with-collectd-plugindir for collectd'\''s own directory); collectd loads plugins from $work/collectd-plugins: PluginDir \"$work/prefix/lib/collectd\" before LoadPlugin ecoflow'"
PATH="$work/bin:$PATH" configure libdir --libdir="$work/lib"
check "so with --libdir" test "$(plugindir libdir)" = '${libdir}/collectd'

PATH="$work/bin:$PATH" configure prefixed-asked --prefix="$work/prefix" \
  --with-collectd-plugindir
check "--with-collectd-plugindir asks collectd whatever the prefix" \
  test "$(plugindir prefixed-asked)" = "$work/collectd-plugins"
configure unasked COLLECTD=/bin/false --with-collectd-plugindir
check "and fails, saying so, when no collectd says" \
  sh -c "! grep -q '^config.status' '$work/unasked/configure.log' &&
    grep -q 'no collectd says where it loads plugins from' '$work/unasked/configure.log'"

if [ -x /usr/sbin/collectd ]; then
  debian=$(/usr/sbin/collectd -h | sed -n 's/^ *Plugin directory  *//p')
  PATH=/usr/sbin:/usr/bin:/bin configure system
  check "the system's collectd: its plugin directory ($debian)" \
    test -n "$debian" -a "$(plugindir system)" = "$debian"
fi

# --- make install in the build under test ---------------------------------
make_var() { # the value of a Makefile variable of the build under test
  printf 'print:\n\t@echo $(%s)\n' "$1" |
    own_make -s --no-print-directory -C "$top_builddir" -f Makefile -f - print
}
root=$work/root
own_make -s -C "$top_builddir" install DESTDIR="$root" >"$work/install.log" 2>&1
check "make install DESTDIR=... succeeds" test $? -eq 0

bindir=$(make_var bindir) mandir=$(make_var mandir)
docdir=$(make_var docdir) pluginhome=$(make_var collectdplugindir)
expected="$docdir/README.md $docdir/LICENSE"
if [ -e "$top_builddir/src/.libs/ecoflow.so" ]; then
  expected="$expected $pluginhome/ecoflow.so $(make_var collectdexamplesdir)/collectd.conf $mandir/man5/collectd-ecoflow.5"
  check "no libtool archive next to the plugin" test ! -e "$root$pluginhome/ecoflow.la"
fi
if [ -e "$top_builddir/src/ecoflow-telegraf" ]; then
  expected="$expected $bindir/ecoflow-telegraf $(make_var telegrafexamplesdir)/telegraf.conf $mandir/man1/ecoflow-telegraf.1"
fi
if [ -e "$top_builddir/src/ecoflow-sim" ]; then
  expected="$expected $bindir/ecoflow-sim $mandir/man1/ecoflow-sim.1"
fi
for file in $expected; do
  check "installed: $file" test -f "$root$file"
done
installed=$(cd "$root" && find . -type f | sed 's/^\.//' | sort)
unexpected=$(for file in $installed; do
  case " $expected " in *" $file "*) ;; *) echo "$file" ;; esac; done)
check "nothing else is installed${unexpected:+: $unexpected}" test -z "$unexpected"
# GNU: a build configured with --prefix installs nothing outside it.
prefix=$(make_var prefix)
if "$top_builddir/config.status" --config | grep -q -- --prefix=; then
  outside=$(for file in $installed; do
    case $file in "$prefix"/*) ;; *) echo "$file" ;; esac; done)
  check "configured with --prefix: everything under $prefix${outside:+ (not: $outside)}" \
    test -z "$outside"
fi

for page in "$root$mandir"/man*/*; do
  [ -f "$page" ] || continue
  warnings=$(MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null)
  check "installed $(basename "$page") renders without a warning" test -z "$warnings"
done
if [ -f "$root$mandir/man5/collectd-ecoflow.5" ]; then
  # Wide enough for any path: the page may break one after a `/'.
  check "collectd-ecoflow(5) names the plugin's installed path" \
    sh -c "MANWIDTH=1000 man -l '$root$mandir/man5/collectd-ecoflow.5' 2>/dev/null |
      grep -qF '$pluginhome/ecoflow.so'"
fi
if [ -x "$root$bindir/ecoflow-telegraf" ]; then
  check "the installed ecoflow-telegraf runs" \
    sh -c "'$root$bindir/ecoflow-telegraf' --version >/dev/null"
fi

# README's table shows `make install' with the default prefix.
if [ "$prefix" = /usr/local ]; then
  for file in $expected; do
    check "README names $file" grep -qF "\`$file\`" "$top_srcdir/README.md"
  done
else
  echo "# the build's prefix is not /usr/local: README's paths not compared"
fi

own_make -s -C "$top_builddir" uninstall DESTDIR="$root" >"$work/uninstall.log" 2>&1
left=$(cd "$root" && find . -type f)
check "make uninstall removes everything${left:+ (left: $left)}" test -z "$left"

summary
