#!/usr/bin/env python3
"""deb_check.py: the built Debian packages, installed and at work.

Run by `make deb-check` (as root; minutes, so not part of `make check`)
with the .deb files `make deb` built (`deb/*.deb`, as README's `apt
install ./deb/*.deb` takes them). It shows:
- that glob holds the three packages and no -dbgsym package; they carry
  the version configure has, lintian finds no error in them; the plugin's
  package depends on Debian's collectd release (collectd-core, and the
  collectd package whose configuration starts the service), both packages
  of the API client on the libcurl debian/control names, which is not
  older than the one configure asks for;
- on a machine without collectd (a build machine's collectd-core and
  collectd-dev, which contrib/deps.sh installs, are taken away first and
  put back at the end), `make deb`'s `contrib/deps.sh --ask` installs
  nothing unasked: without a terminal it names what is missing and the
  apt-get line, and on a terminal it asks, and takes no for an answer;
- there `apt-get install ./*.deb` installs the packages and brings
  collectd-core and Debian's collectd package with
  /etc/collectd/collectd.conf, which reads collectd.conf.d; each file
  README's table names for the Debian
  packages is there; the man pages render without a warning through `man`,
  found by name;
- `collectd -T` under Debian's own configuration (which logs to syslog
  only) prints the first-run check on the terminal;
- Debian's collectd service starts with its own configuration plus a file
  in collectd.conf.d that loads the plugin by name only (`LoadPlugin
  ecoflow`, no PluginDir), and stores the installed simulator's values
  (its csv plugin, under the catalog's names; Debian's rrdtool too);
- installing the plugin's package again (an upgrade) restarts the running
  service when the local policy (policy-rc.d) lets maintainer scripts
  restart services, and not when it does not;
- the installed ecoflow-telegraf reads the installed simulator, also run
  as a service user whose secret root hands it in a file readable by its
  group only (root:nogroup 0640); a file of root's group is refused with
  the command that fixes it;
- `apt-get remove --purge` takes every file away again, and what the test
  installed besides (Debian's collectd and what it needs) is purged too;
  what it took away is installed again: the machine has the packages it
  had before, each marked automatically installed or not as before.
It refuses to start while any of the packages, or Debian's collectd
package, is installed already, or while a configuration file of what it
would take away was changed, so that it never removes an installation
or a setting it could not put back as it was."""

import argparse
import glob
import os
import pty
import re
import shutil
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, check, summary,  # noqa: E402
                    wait_until, work_dir)
from harness.collectd import flatten  # noqa: E402

PACKAGES = ("collectd-ecoflow", "ecoflow-telegraf", "ecoflow-sim")
COLLECTD = "/usr/sbin/collectd"
SIM = "/usr/bin/ecoflow-sim"
TELEGRAF = "/usr/bin/ecoflow-telegraf"
PLUGIN = "/usr/lib/collectd/ecoflow.so"
DEBIAN_CONF = "/etc/collectd/collectd.conf"
DROP_IN = "/etc/collectd/collectd.conf.d/ecoflow-deb-check.conf"
SECRET = "/etc/collectd/ecoflow-deb-check.secret"
RRD_DIR = "/var/lib/collectd/rrd"
POLICY = "/usr/sbin/policy-rc.d"
DEPS = os.path.join(TOP_SRCDIR, "contrib", "deps.sh")
# What a build machine has of collectd (contrib/deps.sh build): taken away
# for the test, so that the packages are installed where collectd is not.
BUILD_COLLECTD = ("collectd-dev", "collectd-core")
# A frozen simulated time: the values are the same for every reader.
CLOCK = 1750000000
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
SERVICE_USER, SERVICE_GROUP = "nobody", "nogroup"

# Values to find in collectd's csv files: (device name, file, quota of
# that device's quota/all).
VALUES = [
    ("house", "percent-battery_soc", OCEAN, "bpSoc"),
    ("house", "power-grid", OCEAN, "sysGridPwr"),
    ("house", "voltage-phase_a", OCEAN, "pcsAPhase.vol"),
    ("heatpump", "temperature-zone_b", HEAT, "sectorB.tempCurr"),
    ("heatingrod", "power-heating_rod0", GLOW, "hrEnergyStream[0].hrPwr"),
]


def run(argv, **kwargs):
    kwargs.setdefault("timeout", 900)
    print("$ " + " ".join(argv))
    sys.stdout.flush()
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def apt_output(text, tail):
    """apt's output without its progress lines."""
    lines = [line for line in text.splitlines()
             if not re.match(r"^\(Reading database \.\.\. \d+%", line)]
    return "\n".join(lines[-tail:])


def installed_packages():
    """The packages installed now."""
    out = subprocess.run(["dpkg-query", "-W", "-f",
                          "${Package}\t${db:Status-Abbrev}\n"],
                         capture_output=True, text=True).stdout
    return {line.split("\t")[0] for line in out.splitlines()
            if line.split("\t")[1].startswith("ii")}


def installed(package):
    return package in installed_packages()


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], capture_output=True,
                          text=True).stdout.strip()


def quota_value(data, path):
    """A quota of quota/all's data by its path (ef_sample.h)."""
    return flatten(data, "", {}).get(path)


def source_curl(name, pattern):
    """The libcurl release a source file asks for."""
    with open(os.path.join(TOP_SRCDIR, name)) as f:
        found = re.search(pattern, f.read())
    return found.group(1) if found else None


def version_at_least(version, least):
    return version and least and subprocess.run(
        ["dpkg", "--compare-versions", version, "ge", least]).returncode == 0


def readme_debian_paths():
    """The Debian column of README's install table, per package."""
    paths = []
    for line in open(os.path.join(TOP_SRCDIR, "README.md")):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (cells[1].startswith("`/usr/local")
                                or cells[1] == "" and "`/usr/" in cells[2]):
            for path in re.findall(r"`(/usr/[^`]+)`", cells[2]):
                for package in PACKAGES:
                    paths.append(path.replace("PACKAGE", package))
    return paths


def check_packages(given, debs, version):
    names = [deb_field(d, "Package") for d in given]
    check("the .deb files given (README's ./deb/*.deb) are the three "
          "packages, no -dbgsym package among them",
          sorted(names) == sorted(PACKAGES), str(sorted(names)))
    by_name = {deb_field(d, "Package"): d for d in debs}
    for name, deb in sorted(by_name.items()):
        check("%s has configure's version %s" % (name, version),
              deb_field(deb, "Version").split("-")[0] == version,
              deb_field(deb, "Version"))
    depends = deb_field(by_name.get("collectd-ecoflow", debs[0]), "Depends")
    print("# collectd-ecoflow Depends: %s" % depends)
    check("collectd-ecoflow depends on Debian's collectd release: "
          "collectd-core, and collectd, whose configuration starts it",
          re.search(r"collectd-core \(>= \d+\.\d+\), collectd-core \(<< "
                    r"\d+\.\d+~\), collectd \(>= \d+\.\d+\)", depends),
          depends)
    curl = source_curl("debian/control", r"libcurl4 \(>= ([0-9.]+)\)")
    configure = source_curl("configure.ac", r"\[libcurl >= ([0-9.]+)\]")
    check("debian/control's libcurl (%s) is not older than configure's (%s)"
          % (curl, configure), version_at_least(curl, configure))
    for name in ("collectd-ecoflow", "ecoflow-telegraf"):
        depends = deb_field(by_name.get(name, debs[0]), "Depends")
        found = re.findall(r"libcurl4 \(>= ([0-9.]+)\)", depends)
        check("%s depends on debian/control's libcurl (%s), not on shlibs' "
              "older one" % (name, curl), curl and found == [curl], depends)
    lint = run(["lintian", "--tag-display-limit", "0"] + debs)
    print(lint.stdout.rstrip())
    errors = [line for line in lint.stdout.splitlines()
              if line.startswith("E:")]
    check("lintian finds no error", lint.returncode in (0, 1) and not errors,
          "; ".join(errors) or lint.stderr[-300:])


def check_files():
    missing = [p for p in readme_debian_paths() if not os.path.exists(p)]
    check("every file README's table names for the packages is installed",
          readme_debian_paths() and not missing, ", ".join(missing))
    for name, section in (("collectd-ecoflow", "5"), ("ecoflow-telegraf", "1"),
                          ("ecoflow-sim", "1")):
        where = run(["man", "-w", name]).stdout.strip()
        check("man -w %s finds the installed page" % name,
              where == "/usr/share/man/man%s/%s.%s.gz" % (section, name,
                                                         section), where)
        rendered = subprocess.run(
            ["man", "--warnings=w", name], capture_output=True, text=True,
            env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
        check("man %s renders without a warning" % name,
              rendered.returncode == 0 and rendered.stdout
              and not rendered.stderr.strip(), rendered.stderr[-300:])
    # The page's source has a break point after each '/' of a path: look
    # for the plugin where a reader does, in the page as man renders it.
    page = subprocess.run(
        ["man", "collectd-ecoflow"], capture_output=True, text=True,
        env=dict(os.environ, MANWIDTH="1000", LC_ALL="C.UTF-8")).stdout
    check("collectd-ecoflow(5) names the installed plugin", PLUGIN in page,
          page[-300:])
    conf = open(DEBIAN_CONF).read() if os.path.exists(DEBIAN_CONF) else ""
    check("Debian's collectd came with the packages: collectd-core, and "
          "%s, which reads collectd.conf.d" % DEBIAN_CONF,
          installed("collectd-core") and installed("collectd") and re.search(
              r'^<Include "/etc/collectd/collectd.conf.d">', conf, re.M),
          conf[-300:])


# ---- a machine without collectd --------------------------------------------

def unrestorable(packages):
    """What taking packages away would lose: configuration files changed
    since they were installed, and files in collectd's directories that
    none of them installed (their purge removes /etc/collectd, and
    /var/lib/collectd when debconf says so)."""
    if not packages:
        return []
    verify = run(["dpkg", "--verify"] + packages).stdout.splitlines()
    lost = [line.split()[-1] for line in verify if " c /" in line]
    owned = set(run(["dpkg", "-L"] + packages).stdout.splitlines())
    for top in ("/etc/collectd", "/var/lib/collectd"):
        for root, dirs, files in os.walk(top):
            lost += [os.path.join(root, name) for name in dirs + files
                     if os.path.join(root, name) not in owned]
    return lost


def auto_installed():
    return set(run(["apt-mark", "showauto"]).stdout.split())


def take_away_collectd():
    """Purges a build machine's collectd; returns what it removed."""
    taken = [p for p in BUILD_COLLECTD if installed(p)]
    if not taken:
        return set()
    had = installed_packages()
    out = run(APT + ["purge"] + taken, env=APT_ENV)
    print(apt_output(out.stdout, 8))
    removed = had - installed_packages()
    check("the build machine's collectd is taken away (%s)"
          % ", ".join(sorted(removed)),
          out.returncode == 0 and not os.path.exists(COLLECTD)
          and not any(installed(p) for p in BUILD_COLLECTD),
          out.stderr[-500:])
    return removed


def put_back(removed, auto):
    """Installs again what take_away_collectd removed, each marked
    automatically installed or not as it was."""
    if not removed:
        return
    out = run(APT + ["install", "--no-install-recommends"] + sorted(removed),
              env=APT_ENV)
    print(apt_output(out.stdout, 8))
    if removed & auto:
        run(["apt-mark", "auto"] + sorted(removed & auto))
    check("what the test took away is installed again (%s), marked as it "
          "was" % ", ".join(sorted(removed)),
          out.returncode == 0 and all(installed(p) for p in removed)
          and auto_installed() & removed == auto & removed,
          out.stderr[-500:])


def check_deps_asks():
    """make deb's contrib/deps.sh --ask, as root, where collectd-dev is
    missing: it installs nothing unasked."""
    missing = [p for p in BUILD_COLLECTD if not installed(p)]
    line = "apt-get install -y --no-install-recommends"
    out = run([DEPS, "--ask", "deb"], stdin=subprocess.DEVNULL, timeout=60)
    check("without a terminal, deps.sh --ask names what is missing (%s) "
          "and the apt-get line, and installs nothing" % ", ".join(missing),
          missing and out.returncode == 1 and line in out.stderr
          and all(p in out.stderr for p in missing)
          and not any(installed(p) for p in missing), out.stderr[-500:])
    terminal, reader = pty.openpty()
    try:
        os.write(terminal, b"n\n")
        out = run([DEPS, "--ask", "deb"], stdin=reader, timeout=60)
    finally:
        os.close(reader)
        os.close(terminal)
    check("on a terminal, deps.sh --ask asks before it installs, and takes "
          "no for an answer", out.returncode == 1 and "[y/N]" in out.stderr
          and "nothing installed" in out.stderr and line in out.stderr
          and not any(installed(p) for p in missing), out.stderr[-500:])


# ---- collectd, the service ------------------------------------------------

def write_drop_in(work, sim):
    """The plugin's file in collectd.conf.d: Debian's configuration does the
    rest. A log file and the csv plugin, in work, let the test see."""
    with open(os.open(SECRET, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              "w") as f:
        f.write(sim.secret_key + "\n")
    with open(DROP_IN, "w") as f:
        f.write(f"""# Written by deb_check.py (make deb-check), removed afterwards.
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{work}/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{work}/csv"
  StoreRates false
</Plugin>
LoadPlugin ecoflow
<Plugin ecoflow>
  AccessKey "{sim.access_key}"
  SecretKeyFile "{SECRET}"
  Endpoint "{sim.base_url}"
  <Device "{OCEAN}">
    Name "house"
  </Device>
  <Device "{HEAT}">
    Name "heatpump"
  </Device>
  <Device "{GLOW}">
    Name "heatingrod"
  </Device>
</Plugin>
""")


def systemd():
    return os.path.isdir("/run/systemd/system")


def service(action):
    """Debian's collectd service, as its packages drive it: systemd, else
    its init script."""
    if systemd():
        return run(["systemctl", action, "collectd.service"], timeout=120)
    return run(["service", "collectd", action], timeout=120)


def service_pid():
    """The process the service runs (collectdmon's under the init
    script), or None when it does not run."""
    if systemd():
        out = run(["systemctl", "show", "-p", "MainPID", "--value",
                   "collectd.service"]).stdout.strip()
        return int(out) if out.isdigit() and int(out) > 0 else None
    try:
        pid = int(open("/var/run/collectd.pid").read().strip())
    except (OSError, ValueError):
        return None
    return pid if os.path.exists("/proc/%d" % pid) else None


def csv_lines(work, device, name):
    files = glob.glob(os.path.join(work, "csv", "*", "ecoflow-" + device,
                                   name + "-*"))
    return open(files[0]).read().split()[1:] if files else []


def csv_value(work, device, name):
    lines = csv_lines(work, device, name)
    return float(lines[-1].split(",")[1]) if lines else None


def remove_stored(work):
    """What a collectd stored of the plugin's values: the service must
    store its own."""
    shutil.rmtree(os.path.join(work, "csv"), ignore_errors=True)
    for rrd in glob.glob(os.path.join(RRD_DIR, "*", "ecoflow-*")):
        shutil.rmtree(rrd)


def check_test_mode(work, sim):
    """collectd -T under Debian's configuration, which logs to syslog
    only: the report is on the terminal."""
    out = run([COLLECTD, "-T"], timeout=300)
    remove_stored(work)
    print("# collectd -T exit status %d" % out.returncode)
    check("collectd -T with Debian's configuration prints the first-run "
          "check on the terminal",
          "ecoflow plugin: the first-run check" in out.stderr
          and re.search(r"^ok +%s accepts the access key"
                        % re.escape(sim.base_url), out.stderr, re.M)
          and "everything a run needs works: 3 devices read" in out.stderr
          and "LoadPlugin syslog" in open(DEBIAN_CONF).read(),
          out.stdout[-1000:] + out.stderr[-2000:])


def check_service(work, sim):
    started = service("start")
    try:
        arrived = wait_until(lambda: all(
            csv_value(work, device, name) is not None
            for device, name, _, _ in VALUES), 90)
        check("Debian's collectd service starts with its configuration and "
              "the plugin's file in collectd.conf.d, and stores the values",
              started.returncode == 0 and arrived,
              started.stdout + started.stderr)
        for device, name, sn, quota in VALUES:
            expected = quota_value(sim.sim_quota(sn), quota)
            got = csv_value(work, device, name)
            print("# ecoflow-%s/%s = %s (simulator's %s: %s)"
                  % (device, name, got, quota, expected))
            check("ecoflow-%s/%s is the simulator's %s" % (device, name, quota),
                  got is not None and expected is not None
                  and abs(got - float(expected)) <= 1e-6 * max(
                      1, abs(float(expected))), "%s != %s" % (got, expected))
        rrds = glob.glob(os.path.join(RRD_DIR, "*", "ecoflow-house",
                                      "percent-battery_soc.rrd"))
        check("Debian's rrdtool stores them too", rrds, RRD_DIR)
        log = open(os.path.join(work, "collectd.log")).read()
        check("collectd loaded ecoflow by name, from its own plugin directory",
              'plugin "ecoflow" successfully loaded' in log
              and "PluginDir" not in open(DROP_IN).read(), log[-500:])
        check_restart_on_upgrade(work)
    finally:
        stopped = service("stop")
        check("the service stops", stopped.returncode == 0
              and wait_until(lambda: service_pid() is None, 60),
              stopped.stdout + stopped.stderr)


def reinstall_plugin():
    deb = glob.glob(os.path.join(DEBS_DIR, "collectd-ecoflow_*.deb"))[0]
    return run(["dpkg", "-i", deb], env=APT_ENV)


def check_restart_on_upgrade(work):
    """The plugin's postinst restarts a running collectd, as far as the
    local policy (policy-rc.d) lets maintainer scripts restart services."""
    before = service_pid()
    lines = len(csv_lines(work, "house", "percent-battery_soc"))
    if os.path.exists(POLICY):
        out = run([POLICY, "collectd", "restart"])
        denies = out.returncode == 101
        if denies:
            out = reinstall_plugin()
            check("an upgrade under a policy that denies restarts leaves "
                  "collectd running as it was",
                  out.returncode == 0 and service_pid() == before,
                  out.stdout[-500:] + out.stderr[-500:])
    saved = open(POLICY, "rb").read() if os.path.exists(POLICY) else None
    mode = os.stat(POLICY).st_mode if saved is not None else None
    try:
        with open(POLICY, "w") as f:
            f.write("#!/bin/sh\n# deb_check.py: every action allowed\n"
                    "exit 0\n")
        os.chmod(POLICY, 0o755)
        out = reinstall_plugin()
    finally:
        if saved is None:
            os.unlink(POLICY)
        else:
            with open(POLICY, "wb") as f:
                f.write(saved)
            os.chmod(POLICY, stat.S_IMODE(mode))
    restarted = wait_until(lambda: service_pid() not in (None, before), 60)
    check("an upgrade restarts the running collectd (policy allows it)",
          out.returncode == 0 and restarted,
          "pid %s -> %s\n%s%s" % (before, service_pid(), out.stdout[-800:],
                                  out.stderr[-800:]))
    # The restarted daemon reads again: the first reading is new to it.
    check("the restarted collectd stores values again", wait_until(
        lambda: len(csv_lines(work, "house", "percent-battery_soc")) > lines,
        60))


# ---- ecoflow-telegraf -------------------------------------------------------

def check_telegraf(work, sim):
    env = dict(os.environ, ECOFLOW_ACCESS_KEY=sim.access_key,
               ECOFLOW_SECRET_KEY=sim.secret_key)
    out = run([TELEGRAF, "--endpoint", sim.base_url, "--sn", OCEAN + "=house"],
              env=env, timeout=60)
    soc = quota_value(sim.sim_quota(OCEAN), "bpSoc")
    line = next((l for l in out.stdout.splitlines()
                 if l.startswith("ecoflow,")), "")
    print("# " + line[:200])
    check("the installed ecoflow-telegraf reads the installed simulator",
          out.returncode == 0 and "name=house" in line
          and re.search(r"battery_soc=%s\b" % re.escape(str(soc)), line),
          out.stderr[-300:])


def check_service_user(work, sim):
    """As Telegraf runs it: a user of its own, the secret handed over by
    root in a file only its group may read."""
    secret = os.path.join(work, "telegraf.secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(sim.secret_key + "\n")
    os.chmod(work, 0o755)
    argv = ["setpriv", "--reuid", SERVICE_USER, "--regid", SERVICE_GROUP,
            "--clear-groups", TELEGRAF, "--endpoint", sim.base_url,
            "--secret-key-file", secret, "--sn", OCEAN]
    env = dict(os.environ, ECOFLOW_ACCESS_KEY=sim.access_key)
    shutil.chown(secret, "root", SERVICE_GROUP)
    os.chmod(secret, 0o640)
    out = run(argv, env=env, timeout=60)
    check("as %s, a secret file root:%s 0640 is taken"
          % (SERVICE_USER, SERVICE_GROUP),
          out.returncode == 0 and "ecoflow," in out.stdout, out.stderr[-500:])
    shutil.chown(secret, "root", "root")
    out = run(argv, env=env, timeout=60)
    check("as %s, one root:root 0640 is refused, saying what to run"
          % SERVICE_USER,
          out.returncode == 2 and "chown root:%s %s && chmod 640 %s"
          % (SERVICE_GROUP, secret, secret) in out.stderr, out.stderr[-500:])


# ---- the run ---------------------------------------------------------------

def remove_all(before, rrd_existed):
    """The packages, then whatever else the test installed since before,
    and what the service stored."""
    files = [line for p in PACKAGES if installed(p) for line in run(
        ["dpkg", "-L", p]).stdout.splitlines() if os.path.isfile(line)]
    for path in (DROP_IN, SECRET):
        if os.path.exists(path):
            os.unlink(path)
    out = run(APT + ["remove", "--purge"] + list(PACKAGES), env=APT_ENV)
    print(apt_output(out.stdout, 8))
    left = [f for f in files if os.path.exists(f)]
    check("apt-get remove --purge removes the packages and their files",
          out.returncode == 0 and files and not left
          and not any(installed(p) for p in PACKAGES), ", ".join(left))
    added = sorted(installed_packages() - before)
    if added:
        out = run(APT + ["purge"] + added, env=APT_ENV)
        print(apt_output(out.stdout, 8))
    if rrd_existed:
        remove_stored(os.devnull)
    else:
        shutil.rmtree(RRD_DIR, ignore_errors=True)
    print("# purged besides the three: %s" % ", ".join(added))


DEBS_DIR = None


def main():
    global DEBS_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", required=True,
                        help="the version configure has")
    parser.add_argument("debs", nargs="+")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("deb_check.py installs packages: run it as root")
        return 1
    already = [p for p in PACKAGES + ("collectd",) if installed(p)]
    if already:
        print("installed already: %s; remove them first (apt-get remove "
              "--purge %s): the check shows what the packages bring"
              % (", ".join(already), " ".join(already)))
        return 1
    lost = unrestorable([p for p in BUILD_COLLECTD if installed(p)])
    if lost:
        print("the check takes collectd away and puts it back, which would "
              "lose: %s" % ", ".join(lost))
        return 1
    given = [os.path.abspath(d) for d in args.debs]
    debs = [d for d in given if deb_field(d, "Package") in PACKAGES]
    DEBS_DIR = os.path.dirname(debs[0])
    check_packages(given, debs, args.version)

    initial = before = installed_packages()
    auto = auto_installed()
    rrd_existed = os.path.exists(RRD_DIR)
    with work_dir("ecoflow-deb-check.") as work:
        os.chmod(work, 0o755)
        removed = set()
        try:
            removed = take_away_collectd()
            before = installed_packages()
            check_deps_asks()
            out = run(APT + ["install", "--no-install-recommends"] + debs,
                      env=APT_ENV)
            print(apt_output(out.stdout, 20))
            check("apt-get install ./*.deb installs the packages where "
                  "collectd is not", out.returncode == 0
                  and not {"collectd-core", "collectd"} & before
                  and all(installed(p) for p in PACKAGES), out.stderr[-500:])
            if all(installed(p) for p in PACKAGES):
                check_files()
                os.environ["ECOFLOW_SIM"] = SIM
                with simharness.Sim(clock=CLOCK) as sim:
                    write_drop_in(work, sim)
                    check_test_mode(work, sim)
                    check_service(work, sim)
                    check_telegraf(work, sim)
                    check_service_user(work, sim)
        finally:
            remove_all(before, rrd_existed)
            put_back(removed, auto)
            now = installed_packages()
            check("the machine has the packages it had before", now == initial,
                  "added %s, gone %s" % (sorted(now - initial),
                                         sorted(initial - now)))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
