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
  a serial number not bound to the account (8512), a model EcoFlow does
  not open (1006: a warning for a listed sub-device, a failure when
  configured), HTTP 429 and 500, a timeout, a certificate that cannot be
  verified (and the same server with its CA), a host that cannot be
  resolved, one that refuses connections, a clock an hour off;
- when all is well: the account's devices with their online flags and
  products, and what each one's quota/all gave against the catalog;
- what it says to paste works: the Telegraf command of the snippet prints
  the devices' line protocol, and collectd -T with the logged block (also
  the other region's) finds everything working;
- no output holds a secret key; --check runs clean under valgrind.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import faultkit  # noqa: E402
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, PULSE, check, clean_up,  # noqa: E402
                    skip_unless, summary)
from test_collectd import COLLECTD, PLUGIN, Collectd  # noqa: E402
from test_telegraf import TELEGRAF  # noqa: E402

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


class Row:
    """One trouble: where the account points (a key of servers), its
    devices (None: every device of the account), a secret other than the
    simulator's, the test hook's server, a fault on a device, a CA file;
    what the check must say ([(verdict, pattern)]) and its exit status."""

    def __init__(self, name, says, status, endpoint="home", devices=None,
                 secret=None, hook=None, fault=None, ca=False):
        self.name, self.says, self.status = name, says, status
        self.endpoint, self.devices, self.secret = endpoint, devices, secret
        self.hook, self.fault, self.ca = hook, fault, ca


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
                                 r"PowerOcean's serial number; left out"
                      % GLOW)], 0),
    Row("8521: a wrong secret",
        [("FAILED", r"^{home} knows the access key but refuses the "
                    r"signature, also when asked again: the secret key.*"
                    r"API code 8521: signature is wrong.*whitespace")], 1,
        secret=WRONG_SECRET),
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
                    r"again")], 1, endpoint="other", hook="nowhere"),
    Row("8512: a serial number not bound to the account",
        [("FAILED", r"^%s \(not in the account's device list\): HTTP 200, "
                    r"API code 8512: no permission to do it; this serial "
                    r"number is not bound" % NOTMINE),
         ("ok", r"^%s .*quota/all gave" % OCEAN)], 1,
        devices=[OCEAN, NOTMINE]),
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
                    r"CAFile")], 1, endpoint="tls"),
    Row("TLS: the same server with its CA",
        [("ok", r"^{tls} accepts the access key")], 0, endpoint="tls",
        ca=True, devices=[OCEAN]),
    Row("a host that cannot be resolved",
        [("FAILED", r"^{unresolvable} could not be asked whether it takes "
                    r"the keys: .*resolve host.*cannot be resolved: check "
                    r"the endpoint's spelling"),
         ("note", r"clock was not compared")], 1, endpoint="unresolvable"),
    Row("a host that refuses connections",
        [("FAILED", r"^{refused} could not be asked whether it takes the "
                    r"keys: Couldn't connect to server.*nothing answers at "
                    r"that address")], 1, endpoint="refused"),
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
        lines += ['<Device "%s">' % sn, "</Device>"]
    return "<Plugin ecoflow>\n%s\n</Plugin>" % "\n".join(
        "  " + line for line in lines)


def secret_file(work, name, secret):
    path = os.path.join(work, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              "w") as out:
        out.write(secret + "\n")
    return path


def run_collectd(work, name, block, hook=None):
    """collectd -T with block (the test hook's host in its environment);
    its exit status and log."""
    daemon = Collectd(os.path.join(work, name), block)
    saved = os.environ.pop(HOOK, None)
    if hook:
        os.environ[HOOK] = hook
    try:
        return daemon.test_once()
    finally:
        os.environ.pop(HOOK, None)
        if saved is not None:
            os.environ[HOOK] = saved


def pasted_block(log):
    """The block collectd -T logged to paste, without its LoadPlugin line
    (the test's configuration loads the plugin already)."""
    lines = [m.group(1) for m in map(SNIPPET_LINE.search, log.splitlines())
             if m]
    return "\n".join(line for line in lines if line != "LoadPlugin ecoflow")


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
        rc, log = run_collectd(work, slug,
                               collectd_block(servers, row, secret),
                               servers.urls[row.hook] if row.hook else None)
        outputs["collectd: " + row.name] = log
        check("collectd -T: %s: exit status %d" % (row.name, row.status),
              rc == row.status, "rc %d:\n%s" % (rc, log[-3000:]))
        check_says("collectd -T", row, findings(log, COLLECTD_FINDING),
                   servers.urls)
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
    check("the Telegraf snippet: the installed program, the endpoint and "
          "the three devices that can be read, with the keys' variables",
          command and command[0].endswith("/ecoflow-telegraf")
          and command[1:] == ["--endpoint", servers.home.base_url, "--sn",
                              OCEAN, "--sn", HEAT, "--sn", PULSE]
          and "ECOFLOW_ACCESS_KEY and ECOFLOW_SECRET_KEY" in out, out)
    run = subprocess.run([TELEGRAF] + command[1:], capture_output=True,
                         text=True, timeout=60,
                         env=telegraf_env(servers, ROWS[0]))
    read = {re.search(r",sn=(\w+)", line).group(1)
            for line in run.stdout.splitlines() if ",sn=" in line}
    check("the snippet's command prints line protocol for those devices",
          run.returncode == 0 and read == {OCEAN, HEAT, PULSE},
          "rc %d, %r, %s" % (run.returncode, read, run.stderr[-500:]))
    block = pasted_block(log)
    check("the collectd block: the secret key file, the endpoint, Discover "
          "as configured, no secret",
          'SecretKeyFile "%s"' % os.path.join(
              work, "secret_all_well") in block
          and 'Endpoint "%s"' % servers.home.base_url in block
          and "Discover true" in block
          and servers.home.secret_key not in block, block)
    rc, pasted = run_collectd(work, "pasted", block)
    check("collectd -T with the pasted block: everything works",
          rc == 0 and "check: everything a run needs works" in pasted,
          "rc %d: %s" % (rc, pasted[-2000:]))


def check_other_region(work, servers, out, log):
    """The other region's block works without the hook, and --check runs
    clean under valgrind."""
    block = pasted_block(log)
    check("8513: the collectd block names the other region's host",
          'Endpoint "%s"' % servers.home.base_url in block, block)
    rc, pasted = run_collectd(work, "pasted_region", block)
    check("8513: collectd -T with that block: everything works",
          rc == 0 and "check: everything a run needs works" in pasted,
          "rc %d: %s" % (rc, pasted[-2000:]))
    row = next(r for r in ROWS if r.name == "8513: the other region's key")
    rc, out, err = run_telegraf(servers, row, prefix=[MEMCHECK])
    check("ecoflow-telegraf --check under valgrind: no error, no leak "
          "(exit status 1, not valgrind's 99)", rc == 1,
          "rc %d: %s" % (rc, err[-2000:]))


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"),
                          (PLUGIN, "the plugin"), (COLLECTD, "collectd"))
    if skipped:
        return skipped
    work = tempfile.mkdtemp(prefix="test_check.")
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
                    check_other_region(work, servers, out, log)
        finally:
            servers.close()
        outputs.update({name: sim.log() for name, sim in
                        servers.sims.items()})
        faultkit.check_no_secrets("every output of the check", outputs,
                                  servers.secrets())
    clean_up(work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
