#!/usr/bin/env python3
"""test_check.py: the first-run check (ef_check.h) through both front ends,
`ecoflow-telegraf --check` and `collectd -T`, against ecoflow-sim on
loopback: a row per trouble of README's table "When something is wrong".

What it shows, for each row and each front end:
- the exit status: 0 when everything a run needs works, 1 otherwise;
- the finding that names the trouble, with its verdict and what to do:
  a wrong secret (8521), a key of the other region (8513: a simulator
  without the keys stands for the configured region, and the test hook
  ECOFLOW_TEST_OTHER_REGION names a simulator with them as the other
  region; the report names the host to configure), a key no region knows,
  a serial number not bound to the account (8512), alone and beside a
  good one, a model EcoFlow does not open (1006: a warning for a listed
  sub-device, a failure when configured), HTTP 429 and 500, a timeout, a
  certificate that cannot be verified (and the same server with its CA),
  a host that cannot be resolved, one that refuses connections, a clock
  an hour off;
- collectd -T prints the same findings and block on the terminal
  (stderr) as it logs, also under a configuration that logs to syslog
  only, as Debian's does;
- every configuration it prints works when pasted: once the row's trouble
  is gone, collectd -T with the pasted block, and the Telegraf snippet's
  command (a run, and --check with its arguments), find everything
  working; the block keeps the devices' Interval and the account's
  Timeout; a row that prints none has no host that takes the keys;
- when all is well: the account's devices with their online flags and
  products, and what each one's quota/all gave against the catalog (the
  count of numbers the catalog does not name is README's and
  collectd-ecoflow(5)'s figure for RawQuotas);
- an account of 300 devices costs --check the list and one quota/all per
  family, and its output stays short and says what it left out;
- names from the cloud with bidi controls and line separators (U+202E,
  U+2028, NEL) reach neither output nor log;
- no output holds a secret key; --check runs clean under valgrind.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import faultkit  # noqa: E402
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, PULSE, check,  # noqa: E402
                    skip_unless, summary, work_dir)
from harness.collectd import COLLECTD, PLUGIN, Collectd  # noqa: E402
from harness import write_private  # noqa: E402
from harness.telegraf import TELEGRAF  # noqa: E402

MEMCHECK = os.path.join(TOP_SRCDIR, "tests", "memcheck")
HOOK = "ECOFLOW_TEST_OTHER_REGION"
NOTMINE = "HJ31NOTMINE00001"
TIMEOUT_S = 2
SKEW_S = 3600
WRONG_SECRET = "WrongSecretKey0123456789abcdefgh"
OTHER_KEYS = {"access_key": "otherRegionKey01",
              "secret_key": "otherRegionSecret0123456789abc"}
NOWHERE_KEYS = {"access_key": "nowhereAccessKey1",
                "secret_key": "nowhereSecret0123456789abcdefg"}
# A finding in the output of either front end: (verdict, text).
TELEGRAF_FINDING = re.compile(r"^(ok|note|warning|FAILED) +(.*)$")
COLLECTD_FINDING = re.compile(
    r"ecoflow plugin: check: (ok|note|warning|FAILED): (.*)$")
SNIPPET_LINE = re.compile(r"ecoflow plugin:     (.*)$")
# The devices' interval in the collectd configurations (not collectd's).
DEVICE_INTERVAL = 30
FLEET = 300
# Characters that reorder or break a line: none may reach any output.
REORDERING = ["\u202e", "\u2028", "\u2029", "\u0085", "\u2066", "\u200f"]


class Row:
    """One trouble: where the account points (a key of servers), its
    devices (None: every device of the account), a secret other than the
    simulator's, the test hook's server, a fault on a device, a CA file;
    what the check must say ([(verdict, pattern)]) and its exit status."""

    def __init__(self, name, says, status, endpoint="home", devices=None,
                 secret=None, hook=None, fault=None, ca=False, pastes=True):
        self.name, self.says, self.status = name, says, status
        self.endpoint, self.devices, self.secret = endpoint, devices, secret
        self.hook, self.fault, self.ca = hook, fault, ca
        # Whether a host takes the keys, so that there is something to paste.
        self.pastes = pastes


ROWS = [
    Row("all well", [("ok", r"^{home} accepts the access key and the secret "
                            r"key$"),
                     ("ok", r"clock agrees with the EcoFlow server's"),
                     ("ok", r"^the account lists 4 devices, 4 of them "
                            r"online$"),
                     ("ok", r"^%s \(PowerOcean, \"PowerOcean 0001\", online"
                            r"\): quota/all gave (\d+) values: (\d+) the "
                            r"catalog names, (\d+) it does not" % OCEAN),
                     ("ok", r"^%s \(PowerHeat, .*online\): quota/all gave"
                      % HEAT),
                     ("warning", r"^%s .*API code 1006.* read it through its "
                                 r"PowerOcean.s serial number$"
                      % GLOW)], 0),
    Row("8521: a wrong secret",
        [("FAILED", r"^{home} knows the access key but refuses the "
                    r"signature, also when asked again: the secret key.*"
                    r"API code 8521: signature is wrong.*whitespace")], 1,
        secret=WRONG_SECRET, pastes=False),
    Row("8513: the other region's key",
        [("note", r"^%s is set: {home} stands for the other region\. It is "
                  r"a test hook" % HOOK),
         ("FAILED", r"^{other} does not know the access key \(HTTP 200, API "
                    r"code 8513: accessKey is invalid\), but {home} accepts "
                    r"it: .* Set the endpoint to {home}"),
         ("ok", r"^%s \(PowerOcean.*quota/all gave" % OCEAN)], 1,
        endpoint="other", hook="home"),
    Row("8513: a key no region knows",
        [("FAILED", r"^{other} does not know the access key \(.*8513.*\), "
                    r"nor does {nowhere}: the access key is wrong; copy it "
                    r"again")], 1, endpoint="other", hook="nowhere",
        pastes=False),
    Row("8512: a serial number not bound to the account",
        [("FAILED", r"^%s \(not in the account's device list\): HTTP 200, "
                    r"API code 8512: no permission to do it; this serial "
                    r"number is not bound" % NOTMINE),
         ("ok", r"^%s .*quota/all gave" % OCEAN)], 1,
        devices=[OCEAN, NOTMINE]),
    Row("8512: only a serial number not bound to the account",
        [("FAILED", r"^%s \(not in the account's device list\): HTTP 200, "
                    r"API code 8512" % NOTMINE)], 1, devices=[NOTMINE]),
    Row("1006: a model EcoFlow does not open, configured",
        [("FAILED", r"^%s .*API code 1006.*PowerOcean's serial number"
          % GLOW)], 1, devices=[GLOW]),
    Row("HTTP 429", [("FAILED", r"^%s .*HTTP 429.*rate-limits this account"
                      % OCEAN)], 1, devices=[OCEAN],
        fault=(OCEAN, "http429:30")),
    Row("HTTP 5xx", [("FAILED", r"^%s .*HTTP 500.*on its side, not in this "
                                r"configuration" % OCEAN)], 1,
        devices=[OCEAN], fault=(OCEAN, "http500")),
    Row("a timeout", [("FAILED", r"^%s .*Timeout was reached.*no answer in "
                                 r"time" % OCEAN)], 1, devices=[OCEAN],
        fault=(OCEAN, "delay:%d" % (2 * TIMEOUT_S * 1000))),
    Row("TLS: a certificate that cannot be verified",
        [("FAILED", r"^{tls} could not be asked whether it takes the keys: "
                    r".*SSL certificate problem.*could not be verified.*"
                    r"CAFile")], 1, endpoint="tls", pastes=False),
    Row("TLS: the same server with its CA",
        [("ok", r"^{tls} accepts the access key")], 0, endpoint="tls",
        ca=True, devices=[OCEAN]),
    Row("a host that cannot be resolved",
        [("FAILED", r"^{unresolvable} could not be asked whether it takes "
                    r"the keys: .*resolve host.*cannot be resolved: check "
                    r"the endpoint's spelling"),
         ("note", r"clock was not compared")], 1, endpoint="unresolvable",
        pastes=False),
    Row("a host that refuses connections",
        [("FAILED", r"^{refused} could not be asked whether it takes the "
                    r"keys: Couldn't connect to server.*nothing answers at "
                    r"that address")], 1, endpoint="refused", pastes=False),
    Row("a clock an hour off",
        [("warning", r"^this machine's clock is 3[56]\d\d s behind the "
                     r"EcoFlow server's: requests are signed with the "
                     r"server's time instead, but set this machine's clock "
                     r"right \(NTP\)$"),
         ("ok", r"^{skewed} accepts the access key")], 0, endpoint="skewed",
        devices=[OCEAN]),
]


class Servers:
    """Every server of the test, by the names rows use."""

    def __init__(self, work, home, other, nowhere, skewed):
        self.sims = {"home": home, "other": other, "nowhere": nowhere,
                     "skewed": skewed}
        self.ca, cert, key = faultkit.throwaway_ca(work)
        self.tls = faultkit.Proxy(home, tls=(cert, key))
        self.refused = faultkit.Proxy(home, listening=False)
        self.urls = {name: sim.base_url for name, sim in self.sims.items()}
        self.urls.update(tls=self.tls.base_url,
                         refused=self.refused.base_url,
                         unresolvable="https://" + faultkit.UNRESOLVABLE)
        self.home = home

    def close(self):
        self.tls.close()
        self.refused.close()

    def secrets(self):
        return [sim.secret_key for sim in self.sims.values()] + [WRONG_SECRET]


def findings(text, pattern):
    return [m.groups() for m in map(pattern.search, text.splitlines()) if m]


def unwrapped(text):
    """--check's output with its wrapped lines joined again."""
    return re.sub(r"\n {9}(?=\S)", " ", text)


def check_says(what, row, found, urls):
    for verdict, pattern in row.says:
        pattern = pattern.format(**{k: re.escape(v) for k, v in urls.items()})
        hits = [text for v, text in found if v == verdict
                and re.search(pattern, text)]
        check("%s: %s: says %s %r" % (what, row.name, verdict, pattern),
              len(hits) == 1, "found: %s" % "\n  ".join(
                  "%s %s" % pair for pair in found))


def telegraf_env(servers, row, extra=None):
    env = dict(os.environ, ECOFLOW_ACCESS_KEY=servers.home.access_key,
               ECOFLOW_SECRET_KEY=row.secret or servers.home.secret_key)
    env.pop(HOOK, None)
    if row.hook:
        env[HOOK] = servers.urls[row.hook]
    env.update(extra or {})
    return env


def run_telegraf(servers, row, prefix=()):
    args = list(prefix) + [TELEGRAF, "--check", "--endpoint",
                           servers.urls[row.endpoint], "--timeout",
                           str(TIMEOUT_S)]
    for sn in row.devices or ():
        args += ["--sn", sn]
    if row.ca:
        args += ["--ca-file", servers.ca]
    run = subprocess.run(args, capture_output=True, text=True, timeout=300,
                         env=telegraf_env(servers, row),
                         stdin=subprocess.DEVNULL)
    return run.returncode, unwrapped(run.stdout), run.stderr


def collectd_block(servers, row, secret_file):
    lines = ['AccessKey "%s"' % servers.home.access_key,
             'SecretKeyFile "%s"' % secret_file,
             'Endpoint "%s"' % servers.urls[row.endpoint],
             "Timeout %d" % TIMEOUT_S]
    if row.ca:
        lines.append('CAFile "%s"' % servers.ca)
    if row.devices is None:
        lines.append("Discover true")
    for sn in row.devices or ():
        lines += ['<Device "%s">' % sn, "  Interval %d" % DEVICE_INTERVAL,
                  "</Device>"]
    return "<Plugin ecoflow>\n%s\n</Plugin>" % "\n".join(
        "  " + line for line in lines)


def secret_file(work, name, secret):
    path = os.path.join(work, name)
    write_private(path, secret + "\n")
    return path


def collectd_test(conf, hook=None):
    """collectd -T with conf (the test hook's host in its environment):
    its exit status, standard output and standard error."""
    env = dict(os.environ)
    env.pop(HOOK, None)
    if hook:
        env[HOOK] = hook
    run = subprocess.run([COLLECTD, "-T", "-C", conf], capture_output=True,
                         text=True, timeout=120, env=env,
                         stdin=subprocess.DEVNULL)
    return run.returncode, run.stdout, run.stderr


def run_collectd(work, name, block, hook=None):
    """collectd -T with block: its exit status, its log, and what it
    printed on the terminal."""
    daemon = Collectd(os.path.join(work, name), block)
    rc, out, err = collectd_test(daemon.conf, hook)
    return rc, out + err + daemon.log_text(), err


def terminal_report(err):
    """What collectd -T printed on the terminal for the check: its
    findings and its block (without the indent)."""
    at = err.find("ecoflow plugin: the first-run check")
    text = unwrapped(err[at:]) if at >= 0 else ""
    block = re.search(r"^For collectd, .*:\n\n((?:    .*\n)+)", text, re.M)
    return (findings(text, TELEGRAF_FINDING),
            re.sub(r"^    ", "", block.group(1), flags=re.M) if block else "")


def logged_block(log):
    """The block collectd -T logged to paste, as it is."""
    return "".join(m.group(1) + "\n" for m in map(SNIPPET_LINE.search,
                                                 log.splitlines()) if m)


def pasted_block(log):
    """The block collectd -T logged to paste, without its LoadPlugin line
    (the test's configuration loads the plugin already)."""
    return "\n".join(line for line in logged_block(log).splitlines()
                     if line != "LoadPlugin ecoflow")


def check_row(work, servers, row, outputs):
    """Both front ends through one row."""
    home = servers.home
    if row.fault:
        home.set_fault(*row.fault)
    try:
        rc, out, err = run_telegraf(servers, row)
        outputs["telegraf: " + row.name] = out + err
        check("ecoflow-telegraf --check: %s: exit status %d"
              % (row.name, row.status), rc == row.status,
              "rc %d:\n%s%s" % (rc, out, err))
        check_says("ecoflow-telegraf --check", row,
                   findings(out, TELEGRAF_FINDING), servers.urls)
        slug = re.sub(r"\W+", "_", row.name)
        secret = secret_file(work, "secret_" + slug,
                             row.secret or home.secret_key)
        rc, log, terminal = run_collectd(
            work, slug, collectd_block(servers, row, secret),
            servers.urls[row.hook] if row.hook else None)
        outputs["collectd: " + row.name] = log
        check("collectd -T: %s: exit status %d" % (row.name, row.status),
              rc == row.status, "rc %d:\n%s" % (rc, log[-3000:]))
        logged = findings(log, COLLECTD_FINDING)
        check_says("collectd -T", row, logged, servers.urls)
        shown, block = terminal_report(terminal)
        check("collectd -T: %s: the terminal shows what the log holds: "
              "the %d findings and the block" % (row.name, len(logged)),
              shown == logged and block == logged_block(log),
              "terminal:\n%s\nlog:\n%s" % (terminal, log[-3000:]))
        return out, log
    finally:
        if row.fault:
            home.clear_fault(row.fault[0])


def telegraf_command(out):
    """The command of the snippet --check printed, as Telegraf splits it."""
    match = re.search(r"^ *commands = \[(\".*\")\]$", out, re.M)
    return shlex.split(json.loads(match.group(1))) if match else None


def check_all_well(work, servers, out, log):
    """What the check prints when all is well, and that its snippets
    work."""
    counts = re.search(r"%s \(PowerOcean.*quota/all gave (\d+) values: (\d+) "
                       r"the catalog names, (\d+) it does not" % OCEAN, out)
    check("the PowerOcean's values, against the catalog: named and not "
          "named add up, and the catalog names dozens",
          counts and int(counts.group(1)) == int(counts.group(2))
          + int(counts.group(3)) and int(counts.group(2)) > 30,
          counts and counts.group(0))
    check("the summary: everything a run needs works, 3 devices read",
          re.search(r"^everything a run needs works: 3 devices read through "
                    r"%s; 1 warning$" % re.escape(servers.home.base_url),
                    out, re.M), out)
    command = telegraf_command(out)
    check("the Telegraf snippet: the installed program, the endpoint, the "
          "timeout and --discover (no device was named: a run reads every "
          "one), with the keys' variables",
          command and command[0].endswith("/ecoflow-telegraf")
          and command[1:] == ["--endpoint", servers.home.base_url,
                              "--timeout", str(TIMEOUT_S), "--discover"]
          and "ECOFLOW_ACCESS_KEY and ECOFLOW_SECRET_KEY" in out, out)
    block = pasted_block(log)
    check("the collectd block: the secret key file, the endpoint, Discover "
          "as configured, no secret",
          'SecretKeyFile "%s"' % os.path.join(
              work, "secret_all_well") in block
          and 'Endpoint "%s"' % servers.home.base_url in block
          and "Discover true" in block
          and servers.home.secret_key not in block, block)
    check_raw_quotas_figure(out)


def doc_figure(path, pattern):
    with open(os.path.join(TOP_SRCDIR, path)) as f:
        found = re.search(pattern, f.read())
    return int(found.group(1)) if found else None


def check_raw_quotas_figure(out):
    """The values RawQuotas adds for the simulator's PowerOcean: the
    numbers the check counts among those the catalog does not name, which
    README and collectd-ecoflow(5) give."""
    counted = re.search(r"%s \(PowerOcean.* it does not, (\d+) of them "
                        r"numbers" % OCEAN, out)
    counted = int(counted.group(1)) if counted else None
    readme = doc_figure("README.md", r"\((\d+) more for the simulator's\s+"
                        r"PowerOcean")
    page = doc_figure(os.path.join("man", "collectd-ecoflow.5.in"),
                      r"(\d+) more values for the\s+simulator's PowerOcean")
    check("RawQuotas adds %s values to the simulator's PowerOcean: --check, "
          "README (%s) and collectd-ecoflow(5) (%s) say one figure"
          % (counted, readme, page),
          counted and counted > 100 and readme == counted == page)


def devices_in(block):
    """{serial: the lines of its <Device> block} of a pasted block."""
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<Device "([^"]+)">\n(.*?)</Device>', block, re.S)}


def check_pasted(work, servers, row, out, log):
    """What the check printed for row, pasted once the row's trouble is
    gone: collectd -T with the block, the Telegraf snippet's command (a run
    and --check) find everything working. A row whose keys no host takes
    prints nothing to paste."""
    block, command = logged_block(log), telegraf_command(out)
    if not row.pastes:
        check("%s: nothing to paste (no host takes the keys)" % row.name,
              not block and command is None and "For collectd" not in out,
              block or out)
        return
    devices = devices_in(block)
    check("%s: the pasted block keeps the Timeout and each device's "
          "Interval %d" % (row.name, DEVICE_INTERVAL),
          "Timeout %d\n" % TIMEOUT_S in block and all(
              "Interval %d\n" % DEVICE_INTERVAL in lines
              for lines in devices.values()), block)
    check("%s: the pasted block names a device, or has Discover true"
          % row.name, devices or "Discover true\n" in block, block)
    slug = "pasted_" + re.sub(r"\W+", "_", row.name)
    daemon = Collectd(os.path.join(work, slug), "")
    with open(daemon.conf) as f:
        conf = f.read().replace("LoadPlugin ecoflow\n", block)
    with open(daemon.conf, "w") as f:
        f.write(conf)
    rc, stdout, stderr = collectd_test(daemon.conf)
    pasted = stdout + stderr + daemon.log_text()
    check("%s: collectd -T with the pasted block: everything works"
          % row.name,
          rc == 0 and "check: everything a run needs works" in pasted,
          "rc %d: %s\n%s" % (rc, block, pasted[-2000:]))

    env = telegraf_env(servers, Row("pasted", [], 0))
    run = subprocess.run([TELEGRAF] + command[1:], capture_output=True,
                         text=True, timeout=120, env=env,
                         stdin=subprocess.DEVNULL)
    read = {re.search(r",sn=(\w+)", line).group(1)
            for line in run.stdout.splitlines() if line.startswith("ecoflow,")}
    wanted = ({OCEAN, HEAT, PULSE} if "--discover" in command else
              {arg.split("=")[0] for arg in command[command.index("--sn") + 1::2]}
              if "--sn" in command else set())
    check("%s: the pasted Telegraf command reads %s" % (
              row.name, ", ".join(sorted(wanted))),
          run.returncode == 0 and wanted and read == wanted,
          "%s: rc %d, read %r, %s" % (command, run.returncode, read,
                                      run.stderr[-500:]))
    run = subprocess.run([TELEGRAF, "--check"] + command[1:],
                         capture_output=True, text=True, timeout=120,
                         env=env, stdin=subprocess.DEVNULL)
    check("%s: ecoflow-telegraf --check with the pasted arguments: "
          "everything works" % row.name, run.returncode == 0,
          "rc %d: %s" % (run.returncode, run.stdout[-1500:]))


def check_other_region(servers, log):
    """The other region's block names that region's host; --check runs
    clean under valgrind."""
    check("8513: the collectd block names the other region's host",
          'Endpoint "%s"' % servers.home.base_url in logged_block(log),
          logged_block(log))
    row = next(r for r in ROWS if r.name == "8513: the other region's key")
    rc, out, err = run_telegraf(servers, row, prefix=[MEMCHECK])
    check("ecoflow-telegraf --check under valgrind: no error, no leak "
          "(exit status 1, not valgrind's 99)", rc == 1,
          "rc %d: %s" % (rc, err[-2000:]))


def check_debian_logging(work, servers):
    """Under a configuration that logs to syslog only, as Debian's does,
    collectd -T still shows the report: on the terminal."""
    secret = secret_file(work, "secret_syslog", servers.home.secret_key)
    directory = os.path.join(work, "syslog_only")
    daemon = Collectd(directory, collectd_block(
        servers, Row("syslog", [], 0, devices=[OCEAN]), secret))
    with open(daemon.conf) as f:
        conf = re.sub(r"LoadPlugin logfile\n<Plugin logfile>.*?</Plugin>\n",
                      "LoadPlugin syslog\n<Plugin syslog>\n  LogLevel info\n"
                      "</Plugin>\n", f.read(), flags=re.S)
    with open(daemon.conf, "w") as f:
        f.write(conf)
    rc, out, err = collectd_test(daemon.conf)
    shown, block = terminal_report(err)
    check("collectd -T, logging to syslog only: the terminal shows the "
          "report, its block and its summary (exit status 0)",
          rc == 0 and ("ok", "%s accepts the access key and the secret key"
                       % servers.home.base_url) in shown
          and '<Device "%s">' % OCEAN in block
          and "everything a run needs works" in err
          and "LoadPlugin syslog" in conf and "logfile" not in conf,
          "rc %d:\n%s" % (rc, out + err))


def check_fleet(work):
    """An account of FLEET devices: --check asks the list and a quota/all
    per family, prints a short report that sums the others up, and the
    pasted block is Discover true, not a device per device."""
    with simharness.Sim(generated=FLEET) as sim:
        env = dict(os.environ, ECOFLOW_ACCESS_KEY=sim.access_key,
                   ECOFLOW_SECRET_KEY=sim.secret_key)
        env.pop(HOOK, None)
        run = subprocess.run([TELEGRAF, "--check", "--endpoint",
                              sim.base_url], capture_output=True, text=True,
                             timeout=300, env=env, stdin=subprocess.DEVNULL)
        stats = sim.stats()["endpoints"]
        out = unwrapped(run.stdout)
        read = [text for verdict, text in findings(out, TELEGRAF_FINDING)
                if verdict == "ok" and "quota/all gave" in text]
        summed = re.findall(r"(\d+) more devices of the family of", out)
        print("# %d devices: %d device/list, %d quota/all; %d lines printed"
              % (FLEET, stats["device/list"], stats["device/quota/all"],
                 len(run.stdout.splitlines())))
        check("%d devices: --check asks the list once and a quota/all per "
              "family (%d), not per device" % (FLEET, len(read)),
              run.returncode == 0 and stats["device/list"] == 1
              and 1 <= len(read) <= 2
              and stats["device/quota/all"] == len(read),
              "rc %d, %r:\n%s" % (run.returncode, stats, out[-2000:]))
        check("%d devices: the others are summed up per family and the "
              "output stays short" % FLEET,
              sum(map(int, summed)) + len(read) == FLEET
              and len(run.stdout.splitlines()) < 60
              and " --discover\"]" in out and "--sn" not in out
              and "Discover true" in out and "<Device" not in out,
              out[-3000:])


def check_reordering_names(work, servers):
    """Names with bidi controls and line separators, from device/list:
    neither --check, nor collectd -T's terminal, nor its log holds one."""
    name = "roof\u202etxt.exe\u2028E! forged\u0085\u2066x\u200f"
    servers.home.set_fault(OCEAN, "listed:" + json.dumps(
        {"deviceName": name, "productName": "Power\u2029Ocean"}))
    try:
        row = Row("reordering names", [], 0)
        rc, out, err = run_telegraf(servers, row)
        secret = secret_file(work, "secret_names", servers.home.secret_key)
        rc2, log, terminal = run_collectd(
            work, "reordering_names", collectd_block(servers, row, secret))
    finally:
        servers.home.clear_fault(OCEAN)
    outputs = {"--check": out + err, "collectd -T": log + terminal}
    for what, text in outputs.items():
        left = sorted({"U+%04X" % ord(c) for c in REORDERING if c in text})
        check("%s: names from the cloud keep no character that reorders or "
              "breaks a line, each one a '?'" % what,
              not left and "roof?txt.exe?E! forged??x?" in text
              and "Power?Ocean" in text, ", ".join(left) or text[-1500:])


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"),
                          (PLUGIN, "the plugin"), (COLLECTD, "collectd"))
    if skipped:
        return skipped
    with work_dir("test_check.") as work:
        outputs = {}
        with simharness.Sim(faults=["%s:1006" % GLOW]) as home, \
                simharness.Sim(**OTHER_KEYS) as other, \
                simharness.Sim(**NOWHERE_KEYS) as nowhere, \
                simharness.Sim(clock=int(time.time()) + SKEW_S) as skewed:
            servers = Servers(work, home, other, nowhere, skewed)
            try:
                for row in ROWS:
                    out, log = check_row(work, servers, row, outputs)
                    if row is ROWS[0]:
                        check_all_well(work, servers, out, log)
                    if row.name == "8513: the other region's key":
                        check_other_region(servers, log)
                    check_pasted(work, servers, row, out, log)
                check_debian_logging(work, servers)
                check_reordering_names(work, servers)
            finally:
                servers.close()
            outputs.update({name: sim.log() for name, sim in
                            servers.sims.items()})
            faultkit.check_no_secrets("every output of the check", outputs,
                                      servers.secrets())
        check_fleet(work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
