#!/usr/bin/env python3
"""deb_check.py: the built Debian packages, installed and at work.

Run by `make deb-check` (as root; minutes, so not part of `make check`)
with the .deb files `make deb` built. It shows:
- the packages carry the version configure has, lintian finds no error in
  them, and the plugin's package depends on Debian's collectd release;
- `apt-get install ./*.deb` installs them, and each file README's table
  names for the Debian packages is there; the man pages render without a
  warning through `man`, found by name;
- the distribution's collectd (/usr/sbin/collectd), with a configuration
  that loads the plugin by name only (`LoadPlugin ecoflow`, no PluginDir),
  reads the installed ecoflow-sim, and its csv plugin stores the
  simulator's values under the catalog's names;
- the installed ecoflow-telegraf reads the installed simulator;
- `apt-get remove --purge` takes every file away again.
It refuses to start while any of the packages is installed already, so
that it never removes an installation it did not make."""

import argparse
import glob
import gzip
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, check, clean_up, summary,  # noqa: E402
                    wait_until)
from test_collectd import flatten  # noqa: E402

PACKAGES = ("collectd-ecoflow", "ecoflow-telegraf", "ecoflow-sim")
COLLECTD = "/usr/sbin/collectd"
SIM = "/usr/bin/ecoflow-sim"
TELEGRAF = "/usr/bin/ecoflow-telegraf"
PLUGIN = "/usr/lib/collectd/ecoflow.so"
HOST = "debcheck"
# A frozen simulated time: the values are the same for every reader.
CLOCK = 1750000000
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"]

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


def installed(package):
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", package],
                         capture_output=True, text=True)
    return out.stdout.strip() == "install ok installed"


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], capture_output=True,
                          text=True).stdout.strip()


def quota_value(data, path):
    """A quota of quota/all's data by its path (ef_sample.h)."""
    return flatten(data, "", {}).get(path)


def readme_debian_paths():
    """The Debian column of README's install table, per package."""
    paths = []
    for line in open(os.path.join(TOP_SRCDIR, "README.md")):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`/usr/local"):
            for path in re.findall(r"`(/usr/[^`]+)`", cells[2]):
                for package in PACKAGES:
                    paths.append(path.replace("PACKAGE", package))
    return paths


def check_packages(debs, version):
    by_name = {deb_field(d, "Package"): d for d in debs}
    check("one .deb for each package: %s" % ", ".join(PACKAGES),
          sorted(by_name) == sorted(PACKAGES), str(sorted(by_name)))
    for name, deb in sorted(by_name.items()):
        check("%s has configure's version %s" % (name, version),
              deb_field(deb, "Version").split("-")[0] == version,
              deb_field(deb, "Version"))
    depends = deb_field(by_name.get("collectd-ecoflow", debs[0]), "Depends")
    print("# collectd-ecoflow Depends: %s" % depends)
    check("collectd-ecoflow depends on Debian's collectd release",
          re.search(r"collectd-core \(>= \d+\.\d+\), collectd-core \(<< "
                    r"\d+\.\d+~\)", depends), depends)
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
    page = gzip.open("/usr/share/man/man5/collectd-ecoflow.5.gz", "rt").read()
    check("collectd-ecoflow(5) names the installed plugin", PLUGIN in page)


def collectd_conf(work, sim):
    secret = os.path.join(work, "secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(sim.secret_key + "\n")
    conf = os.path.join(work, "collectd.conf")
    with open(conf, "w") as f:
        f.write(f"""# Debian's plugin directory is the default: no PluginDir.
Hostname "{HOST}"
FQDNLookup false
BaseDir "{work}"
PIDFile "{work}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
Interval 10
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
  SecretKeyFile "{secret}"
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
    return conf


def csv_value(work, device, name):
    files = glob.glob(os.path.join(work, "csv", HOST, "ecoflow-" + device,
                                   name + "-*"))
    if not files:
        return None
    lines = open(files[0]).read().split()
    return float(lines[-1].split(",")[1]) if len(lines) > 1 else None


def check_collectd(work, sim):
    conf = collectd_conf(work, sim)
    check("the configuration has no PluginDir",
          "PluginDir" not in open(conf).read().split("\n", 1)[1])
    output = open(os.path.join(work, "collectd.out"), "w")
    daemon = subprocess.Popen([COLLECTD, "-f", "-C", conf], stdout=output,
                              stderr=subprocess.STDOUT)
    try:
        arrived = wait_until(lambda: all(
            csv_value(work, device, name) is not None
            for device, name, _, _ in VALUES), 60)
        check("Debian's collectd stores the plugin's values (csv)", arrived)
        for device, name, sn, quota in VALUES:
            expected = quota_value(sim.sim_quota(sn), quota)
            got = csv_value(work, device, name)
            print("# %s/ecoflow-%s/%s = %s (simulator's %s: %s)"
                  % (HOST, device, name, got, quota, expected))
            check("ecoflow-%s/%s is the simulator's %s" % (device, name, quota),
                  got is not None and expected is not None
                  and abs(got - float(expected)) <= 1e-6 * max(
                      1, abs(float(expected))), "%s != %s" % (got, expected))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            status = daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            status = daemon.wait()
        output.close()
    log = open(os.path.join(work, "collectd.log")).read()
    check("collectd loaded ecoflow by name, from its own plugin directory",
          'plugin "ecoflow" successfully loaded' in log, log[-500:])
    check("collectd stops cleanly (exit 0)", status == 0, str(status))
    values = len(glob.glob(os.path.join(work, "csv", HOST, "ecoflow-*", "*")))
    print("# %d value files in %s/csv" % (values, work))


def check_telegraf(sim):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", required=True,
                        help="the version configure has")
    parser.add_argument("debs", nargs="+")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("deb_check.py installs packages: run it as root")
        return 1
    already = [p for p in PACKAGES if installed(p)]
    if already:
        print("installed already: %s; remove them first (apt-get remove "
              "--purge %s)" % (", ".join(already), " ".join(already)))
        return 1
    # dpkg-buildpackage also builds -dbgsym packages: not installed here.
    debs = [os.path.abspath(d) for d in args.debs
            if deb_field(d, "Package") in PACKAGES]
    check_packages(debs, args.version)

    work = tempfile.mkdtemp(prefix="ecoflow-deb-check.")
    os.chmod(work, 0o755)
    try:
        out = run(APT + ["install", "--no-install-recommends"] + debs,
                  env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        print(apt_output(out.stdout, 20))
        check("apt-get install ./*.deb installs the packages",
              out.returncode == 0 and all(installed(p) for p in PACKAGES),
              out.stderr[-500:])
        if all(installed(p) for p in PACKAGES):
            check_files()
            os.environ["ECOFLOW_SIM"] = SIM
            with simharness.Sim(clock=CLOCK) as sim:
                check_collectd(work, sim)
                check_telegraf(sim)
    finally:
        files = [line for p in PACKAGES if installed(p) for line in run(
            ["dpkg", "-L", p]).stdout.splitlines() if os.path.isfile(line)]
        out = run(APT + ["remove", "--purge"] + list(PACKAGES),
                  env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        print(apt_output(out.stdout, 8))
        left = [f for f in files if os.path.exists(f)]
        check("apt-get remove --purge removes the packages and their files",
              out.returncode == 0 and files and not left
              and not any(installed(p) for p in PACKAGES), ", ".join(left))
    clean_up(work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
