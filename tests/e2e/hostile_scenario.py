"""hostile_scenario.py: issue 15's hostile cloud and hostile input, run
through every front end (test_hostile_collectd.py, test_hostile_telegraf.py)
in the fault matrix's style: each hostile server is a fixture, each front
end sits behind a small adapter (FrontEnd), and the checks are the same.

The runs:
- hang: 1000 devices whose every request hangs (the simulator's account-
  wide delay), Timeout 2. One read (collectd) or exec poll (Telegraf) takes
  about one Timeout, not 1000 / 8 of them; stopped by SIGTERM while the
  first wave hangs, collectd and ecoflow-telegraf --execd (50 devices whose
  polls hang, behind a device list that answers) exit within about a
  second and send no request afterwards.
- resolver: issue 23's resolver that never answers (hangdns.py: a DNS
  stub on loopback, the only nameserver of the program under test): 20
  devices, Timeout 2; a read takes about one Timeout (the first wave's
  lookups are left to finish in their threads, not waited for), SIGTERM
  while the lookups hang stops the daemon within about a second, and a
  one-shot run (collectd -T, an exec poll) exits within about one
  Timeout.
- live: one daemon (collectd) or one --execd per account (Telegraf), two
  reads ten seconds apart, with these accounts:
  - "limits": HTTP 429 with Retry-After 30 and 100000000 next to a healthy
    device: each failure says, once, how long the device waits, and that
    the absurd one was capped at an hour; neither is asked again.
  - "names" (discovery): device/list entries whose deviceName and
    productName hold a line break, a CR, an escape sequence and a C1
    control, entries whose serial holds a line break, a NUL byte, a '/' or
    a space, and an API message with a line break: no log line is forged
    and no byte of them reaches a log, a collectd identifier or a line of
    line protocol; the bad serials are skipped (never polled) and said
    once.
  - "clock": every answer says x-timestamp 2^63-1 and a Date in 2999: both
    ignored, every request signed with this machine's clock, no clock
    news, the device read.
  - "slow": three devices that answer after 4 s, one request in flight: a
    read of 12 s says once that it outlasts the interval of 10 s, and what
    would make it fit.
  - collectd only: "reporthang" and "reportpolls": one device, Discover
    true, one <Report>, against a host where everything hangs, or only
    the device's requests (the list answers): each read takes one Timeout
    (the issue asks at most two: the list goes first; the poll and report
    after a batch that found the host down fail with it, unsent); "collide" and "collide2": a configured Name equal to a listed
    serial, and the same devices discovered by two accounts: every plugin
    instance belongs to one device, the suffixed ones said once.
- huge report: issue 23's report index of +-1e308 kWh, a double but no
  double of Wh: left out and counted with the implausible values, said
  once, the other indexes published.
The user's input (CR/LF in a key, secrets pasted in the wrong place, plain
http:// and ftp:// endpoints) is checked by each test in its own syntax,
with the helpers at the end.

Every figure measured is printed as part of the check's name.
"""

import json
import os
import re
import signal
import subprocess
import threading
import time

import faultkit
import hangdns
import simharness
from checks import check, summary, wait_until, work_dir

TIMEOUT_S = 2
INTERVAL_S = 10
HANG_MS = 60000
HANG_DEVICES = 1000
EXECD_HANG_DEVICES = 50
DEFAULT_IN_FLIGHT = 8  # client.h: EF_DEFAULT_MAX_CONCURRENT
# "About one Timeout": a read that took less than two. A second wave of
# requests (the bugs these runs are for) would take two Timeouts or more;
# the rest is the slack a busy machine needs.
ONE_TIMEOUT_BOUND_S = 2 * TIMEOUT_S
# A stop within this, after SIGTERM (the issue asks for about a second).
STOP_S = 1.2
REPORT = "JT303_Dashboard_Overview_Summary_Week"
FAMILY = "powerglow"  # small answers

# ---- the "live" accounts' devices ---------------------------------------

HEALTHY = "HJ31OKGLOW0001"
RETRY_30 = "HJ31R30"
RETRY_HUGE = "HJ31RHUGE"
RETRY_HUGE_S = 100000000
RETRY_CAP_S = 3600  # client.h: EF_MAX_RETRY_AFTER_S

NAMED = "HJ31N1"  # its deviceName and productName are hostile
BAD_SERIALS = {"HJ31N2": "HJ31N2\nE! ecoflow: forged",
               "HJ31N3": "HJ31N3\u0000X",
               "HJ31N4": "../HJ31N4",
               "HJ31N5": "HJ31 N5"}
MESSAGE_DEVICE = "HJ31N6"  # its API message holds a line break
HOSTILE_NAME = ("Roof\nE! ecoflow: forged\r[2024-01-01 00:00:00] [error] "
                "forged")
HOSTILE_PRODUCT = "\u001b[31mPowerGlow\r\u009b2J"
HOSTILE_MESSAGE = "bad\nE! ecoflow: forged"
# Bytes none of which may reach a log or an identifier.
CONTROL_BYTES = (b"\x1b", b"\r", b"\x00", "\u009b".encode())

CLOCK_DEVICE = "HJ31CLOCK"
INSANE_HEADERS = {"x-timestamp": "9223372036854775807",
                  "Date": "Fri, 01 Jan 2999 00:00:00 GMT"}

SLOW = ["HJ31SLOW1", "HJ31SLOW2", "HJ31SLOW3"]
SLOW_MS = 4000
SLOW_TIMEOUT_S = 6

REPORT_HANG = "HJ31RHANG"    # its host hangs entirely
REPORT_POLLS = "HJ31RPOLLS"  # only its own requests hang

COLLIDE = ["HJ31CA", "HJ31CB", "HJ31CC"]


class Account:
    """One account of the live run. endpoint: a Sim, Proxy or Endpoint;
    serials: configured devices ({sn: Name or None}); reports: the codes of
    every configured device's <Report> (collectd)."""

    def __init__(self, name, endpoint, serials=(), names=None,
                 discover=False, timeout=TIMEOUT_S, max_concurrent=None,
                 reports=(), interval=None):
        self.name, self.endpoint = name, endpoint
        self.serials = list(serials)
        self.names = dict(names or {})
        self.discover, self.timeout = discover, timeout
        self.max_concurrent, self.reports = max_concurrent, list(reports)
        self.interval = interval


class RequestWatch:
    """When a simulator's signed API requests (or a HangingHost's name
    lookups) arrive: polls its counters every 20 ms in a thread. first:
    time.monotonic() of the first."""

    def __init__(self, sim):
        self.sim = sim
        self.first = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            try:
                if self.sim.stats()["requests"] > 0:
                    self.first = time.monotonic()
                    return
            except simharness.SimError:
                pass
            time.sleep(0.02)

    def close(self):
        self.done.set()
        self.thread.join(5)


class LineWatch:
    """When each of patterns (regular expressions) first matches a line of
    lines() (a front end's log): polled every 50 ms in a thread."""

    def __init__(self, lines, patterns):
        self.lines, self.patterns = lines, list(patterns)
        self.seen = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set() and len(self.seen) < len(self.patterns):
            text = self.lines()
            now = time.monotonic()
            for pattern in self.patterns:
                if pattern not in self.seen and any(
                        re.search(pattern, line) for line in text):
                    self.seen[pattern] = now
            time.sleep(0.05)

    def last(self):
        """When the last pattern was seen, or None while one is missing."""
        if len(self.seen) < len(self.patterns):
            return None
        return max(self.seen.values())

    def close(self):
        self.done.set()
        self.thread.join(5)


def requests(sim):
    return sim.stats()["requests"]


class FrontEnd:
    """What the runs need of a front end; each test subclasses it."""

    name = "front end"
    # Front ends whose series are named by one string (collectd's plugin
    # instance) run the collision accounts; both run the reports' only
    # where reports are read periodically (collectd).
    names_series_by_instance = False
    reads_reports = False
    # Requests in a row that a one-shot run makes wait for one another.
    once_timeouts = 1
    # Whether its daemon asks for the device list alone before any poll.
    lists_first = False

    # prefix: the command line the program under test runs behind (a
    # HangingHost's namespace).

    def hang_read(self, sim, serials, work, prefix=()):
        """Polls serials once against sim (every request hangs); returns
        (seconds from the first request to the last failure told, the
        failures told)."""
        raise NotImplementedError

    def hang_stop(self, sim, serials, work, wave, prefix=()):
        """Starts polling serials (a daemon), sends SIGTERM once sim has
        counted wave requests (all hanging); returns (seconds to exit, exit
        status, requests when the signal went, requests a second after the
        exit)."""
        raise NotImplementedError

    def daemon_read(self, sim, serials, work, prefix=()):
        """As hang_read, by the daemon (the front end's long-running
        form)."""
        return self.hang_read(sim, serials, work, prefix)

    def run_once(self, sim, serials, work, prefix=()):
        """One run that reads serials once and exits (collectd -T, an
        exec poll); returns (seconds from its start to its exit, exit
        status, what it said)."""
        raise NotImplementedError

    def report_once(self, endpoint, sn, code, work):
        """Fetches report code of device sn once (collectd: a <Report>;
        Telegraf: --history over the last week); returns (the lines it
        said, the set of report index names it published)."""
        raise NotImplementedError

    def start(self, accounts, work):
        """Starts polling every account; the first read begins."""

    def read_again(self, at):
        """Makes sure a read happens at time.monotonic() == at."""

    def lines(self, account=None):
        """The plugin's log lines (of one account's program, where each
        account has its own); none before the start."""
        raise NotImplementedError

    def all_lines(self):
        """Every line of every log, whoever wrote it."""
        raise NotImplementedError

    def raw_logs(self):
        """{name: bytes} of every log and output written."""
        raise NotImplementedError

    def own_line(self, line):
        """1 when line has the shape of one of the plugin's own lines."""
        raise NotImplementedError

    def readings(self, sn):
        """How many readings of device sn published values."""
        raise NotImplementedError

    def identifiers(self):
        """Every identifier the values were published under: collectd's
        plugin instances and meta data, line protocol's tag values."""
        raise NotImplementedError

    def stop(self):
        """Stops everything started; True when it stopped cleanly."""
        raise NotImplementedError


# ---- hang ----------------------------------------------------------------

def check_hang(fe, work):
    serials = ["SIM%06d" % i for i in range(HANG_DEVICES)]
    with simharness.Sim(generated=HANG_DEVICES,
                        faults=["*:delay:%d" % HANG_MS]) as sim:
        took, told = fe.hang_read(sim, serials, work)
        asked = requests(sim)
        check("%s: %d devices whose requests all hang, Timeout %d: one poll "
              "takes %.2f s (about one Timeout, not %d), every device told "
              "(%d), %d requests sent" % (
                  fe.name, HANG_DEVICES, TIMEOUT_S, took,
                  HANG_DEVICES // DEFAULT_IN_FLIGHT * TIMEOUT_S, told,
                  asked),
              took is not None and took < ONE_TIMEOUT_BOUND_S and
              told == HANG_DEVICES and asked <= 2 * DEFAULT_IN_FLIGHT)
    with simharness.Sim(generated=HANG_DEVICES,
                        faults=["*:delay:%d" % HANG_MS]) as sim:
        wave = first_wave(fe)
        check_stop(fe, fe.hang_stop(sim, serials, work, wave),
                   "%d hanging devices" % HANG_DEVICES, wave)
    if fe.names_series_by_instance:
        return
    # ecoflow-telegraf, whose device list goes with the polls (exec) or
    # first (execd): the list answers at once, the polls hang.
    with simharness.Sim(generated=HANG_DEVICES,
                        faults=["SIM%06d:delay:%d" % (i, HANG_MS)
                                for i in range(HANG_DEVICES)]) as sim:
        took, told = fe.hang_read(sim, serials, work)
        asked = requests(sim)
        check("%s: %d devices whose polls hang behind a device list that "
              "answers, Timeout %d: one poll takes %.2f s (about one "
              "Timeout), every device told (%d), %d requests sent" % (
                  fe.name, HANG_DEVICES, TIMEOUT_S, took, told, asked),
              took is not None and took < ONE_TIMEOUT_BOUND_S and
              told == HANG_DEVICES and asked <= 2 * DEFAULT_IN_FLIGHT + 1)
        sim.reset_stats()
        wave = 1 + DEFAULT_IN_FLIGHT  # the list, answered, and the polls
        check_stop(fe, fe.hang_stop(sim, serials[:EXECD_HANG_DEVICES], work,
                                    wave),
                   "--execd, %d devices whose polls hang"
                   % EXECD_HANG_DEVICES, wave)


# ---- a resolver that never answers --------------------------------------

RESOLVER_DEVICES = 20
# A one-shot run, from its start to its exit: its Timeouts (FrontEnd.
# once_timeouts) and the program's start and end on a busy machine (the
# bug took 10 s a Timeout).
ONCE_SLACK_S = 3


class HangingHost:
    """An account's endpoint whose name only a HangingResolver is asked
    about: keys of the right shape (nothing is ever sent), and the stub's
    queries counted as a simulator counts requests (stats())."""

    access_key = "Ak" + "0" * 30
    secret_key = "Sk" + "0" * 30

    def __init__(self, stub):
        self.stub = stub
        self.base_url = "http://%s:8080" % hangdns.HOST

    def stats(self):
        return {"requests": self.stub.count()}

    def reset_stats(self):
        self.stub.reset()


def check_resolver(fe, work):
    why = hangdns.available()
    if why is not None:
        # CI runs as root, where a mount namespace can always be made.
        if os.geteuid() == 0:
            check("%s resolver: a mount namespace for the DNS stub" % fe.name,
                  False, why)
        else:
            print("# %s resolver: skipped, no namespace here: %s" % (
                fe.name, why))
        return
    serials = ["HJ31DNS%03d" % i for i in range(RESOLVER_DEVICES)]
    with hangdns.HangingResolver() as stub:
        host, prefix = HangingHost(stub), stub.prefix()
        took, told = fe.daemon_read(host, serials, work, prefix)
        check("%s resolver: %d devices behind a resolver that never answers, "
              "Timeout %d: a read takes %s s from the first lookup (about "
              "one Timeout), every device told (%d), %d lookups" % (
                  fe.name, RESOLVER_DEVICES, TIMEOUT_S,
                  "%.2f" % took if took is not None else "?", told,
                  stub.count()),
              took is not None and took < ONE_TIMEOUT_BOUND_S and
              told == RESOLVER_DEVICES)
        host.reset_stats()
        check_stop(fe, fe.hang_stop(host, serials, work, first_wave(fe),
                                    prefix),
                   "a resolver that never answers", first_wave(fe, 2))
        took, status, text = fe.run_once(host, serials, work, prefix)
        bound = fe.once_timeouts * TIMEOUT_S + ONCE_SLACK_S
        check("%s resolver: a one-shot run exits in %.2f s (at most %d: "
              "about %d Timeout%s), status %r, the lookup's timeout said" % (
                  fe.name, took, bound, fe.once_timeouts,
                  "s" if fe.once_timeouts > 1 else "", status),
              took < bound and status != "hung" and
              "Resolving timed out" in text, text[-600:])


# ---- a report value beyond a double once in Wh -----------------------------

HUGE_DEVICE = "HJ31HUGEREPORT"


def check_huge_report(fe, work):
    """A PowerOcean whose report says +-1e308 kWh of two indexes, behind a
    proxy: both left out and counted, said once; the others published."""
    with simharness.Sim(devices=["%s:powerocean" % HUGE_DEVICE]) as sim:
        proxy = faultkit.Proxy(sim, bends={HUGE_DEVICE: "huge_report"})
        try:
            said, names = fe.report_once(proxy, HUGE_DEVICE, REPORT, work)
        finally:
            proxy.close()
    left_out = [line for line in said if re.search(
        r"report %s: 2 indexes left out: 2 no number" % REPORT, line)]
    huge = [report_name(n) for n in faultkit.HUGE_REPORT_VALUES]
    published_huge = [n for n in names for h in huge if n.endswith(h)]
    check("%s: a report saying +-1e308 kWh of two indexes (no number of "
          "Wh): both counted as left out, said once; %d others published, "
          "neither of them" % (fe.name, len(names)),
          len(left_out) == 1 and len(names) >= 5 and not published_huge,
          " | ".join(said[-5:]) + " | published: %s" % sorted(names))


def report_name(index):
    """A report index's name as published: "To Home" -> "to_home"."""
    return re.sub(r"[^a-z0-9]+", "_", index.lower()).strip("_")


def stop_by_signal(process, sim):
    """Sends process SIGTERM; (seconds until it exited, its status, the
    requests sim had at the signal, and a second after the exit)."""
    at_signal = requests(sim)
    if process.poll() is not None:
        return 0, "exited before the signal", at_signal, at_signal
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        status = "hung"
    took = time.monotonic() - started
    time.sleep(1)
    return took, status, at_signal, requests(sim)


def first_wave(fe, per_request=1):
    """What the peer counts of a daemon's first wave when every request
    hangs: the device list alone where it asks for that first, else
    MaxConcurrent polls; per_request of each (a name lookup: two
    queries, one per address family)."""
    return per_request * (1 if fe.lists_first else DEFAULT_IN_FLIGHT)


def check_stop(fe, outcome, what, first_wave):
    """A stop within STOP_S that started nothing beyond the first wave
    (first_wave requests at most, all of them hanging). The count at the
    signal is no limit: a request of that wave may reach the peer, or be
    counted by it, after the signal on a busy machine."""
    took, status, at_signal, after = outcome
    check("%s, %s: SIGTERM while the first wave hangs: exits %s in %.3f s "
          "(at most %.1f), %d requests before the signal, %d in all (the "
          "first wave: at most %d)" % (
              fe.name, what, "cleanly" if status == 0 else
              "with status %r" % status, took, STOP_S, at_signal, after,
              first_wave),
          status == 0 and took < STOP_S and at_signal > 0 and
          after <= first_wave)


# ---- live ----------------------------------------------------------------

def listed(entry):
    return "listed:" + json.dumps(entry)


class Setup:
    """The simulators, the proxy and the accounts of the live run."""

    def __init__(self, fe):
        self.fe = fe
        self.sims = []
        self.main = self.sim(
            devices=["%s:%s" % (sn, FAMILY) for sn in
                     [HEALTHY, RETRY_30, RETRY_HUGE, CLOCK_DEVICE]],
            faults=["%s:http429:%d" % (RETRY_30, 30),
                    "%s:http429:%d" % (RETRY_HUGE, RETRY_HUGE_S)])
        self.names = self.sim(
            devices=["%s:%s" % (sn, FAMILY) for sn in
                     [NAMED, MESSAGE_DEVICE] + sorted(BAD_SERIALS)],
            faults=["%s:%s" % (NAMED, listed({"deviceName": HOSTILE_NAME,
                                             "productName": HOSTILE_PRODUCT})),
                    "%s:api:1234:%s" % (MESSAGE_DEVICE, HOSTILE_MESSAGE)]
            + ["%s:%s" % (sn, listed({"sn": bad}))
               for sn, bad in BAD_SERIALS.items()])
        self.clock = faultkit.Proxy(self.main, headers=INSANE_HEADERS)
        self.slow = self.sim(
            devices=["%s:%s" % (sn, FAMILY) for sn in SLOW],
            faults=["%s:delay:%d" % (sn, SLOW_MS) for sn in SLOW])
        self.accounts = [
            Account("limits", self.main, [HEALTHY, RETRY_30, RETRY_HUGE]),
            Account("names", self.names, discover=True),
            Account("clock", self.clock, [CLOCK_DEVICE]),
            Account("slow", self.slow, SLOW, max_concurrent=1,
                    timeout=SLOW_TIMEOUT_S, interval=INTERVAL_S),
        ]
        self.watches, self.report_lines = {}, {}
        if fe.reads_reports:
            self.report_hang = self.sim(
                devices=["%s:powerocean" % REPORT_HANG],
                faults=["*:delay:%d" % HANG_MS])
            self.report_polls = self.sim(
                devices=["%s:powerocean" % REPORT_POLLS],
                faults=["%s:delay:%d" % (REPORT_POLLS, HANG_MS)])
            self.accounts += [
                Account("reporthang", self.report_hang, [REPORT_HANG],
                        discover=True, reports=[REPORT]),
                Account("reportpolls", self.report_polls, [REPORT_POLLS],
                        discover=True, reports=[REPORT])]
            # Watched from before the start: when the first request
            # arrives, when the last failure is told.
            self.watches = {name: RequestWatch(sim) for name, sim in (
                ("reporthang", self.report_hang),
                ("reportpolls", self.report_polls))}
            self.report_lines = {name: LineWatch(fe.lines, patterns)
                                 for name, patterns in REPORT_LINES.items()}
        if fe.names_series_by_instance:
            self.collide = self.sim(
                devices=["%s:%s" % (sn, FAMILY) for sn in COLLIDE])
            self.accounts += [
                Account("collide", self.collide, [COLLIDE[0]],
                        names={COLLIDE[0]: COLLIDE[1]}, discover=True),
                Account("collide2", self.collide, discover=True)]

    def sim(self, **kwargs):
        sim = simharness.Sim(verbose=True, **kwargs).start()
        self.sims.append(sim)
        return sim

    def close(self):
        for watch in list(self.watches.values()) + list(
                self.report_lines.values()):
            watch.close()
        self.clock.close()
        for sim in self.sims:
            sim.stop()

    def logs(self):
        logs = {"simulator %d" % i: sim.log() for i, sim in
                enumerate(self.sims)}
        logs["proxy"] = self.clock.log()
        return logs


def device_lines(fe, sn, account=None):
    return [line for line in fe.lines(account)
            if re.search(r"\bdevice \"?%s\b" % re.escape(sn), line)]


def check_limits(fe, setup):
    for sn, says in (
            (RETRY_30, r"HTTP 429.*the server asks to wait 30 s "
                       r"\(Retry-After\): not asked again before"),
            (RETRY_HUGE, r"HTTP 429.*the server asks to wait %d s "
                         r"\(Retry-After\): it waits %d s, the longest it "
                         r"honours" % (RETRY_HUGE_S, RETRY_CAP_S))):
        lines = device_lines(fe, sn, "limits")
        asked = setup.main.stats()["devices"].get(sn, 0)
        check("%s limits: Retry-After of %s: one line in two reads says how "
              "long the device waits%s; asked once (%d)" % (
                  fe.name, sn, ", and that it was capped"
                  if sn == RETRY_HUGE else "", asked),
              len(lines) == 1 and re.search(says, lines[0]) and asked == 1,
              " | ".join(lines))
    check("%s limits: the healthy device next to them is read twice"
          % fe.name, fe.readings(HEALTHY) >= 2, str(fe.readings(HEALTHY)))


def check_names(fe, setup):
    check("%s names: the device with hostile names is read (%d readings)"
          % (fe.name, fe.readings(NAMED)), fe.readings(NAMED) >= 2)
    polled = {sn: setup.names.stats()["devices"].get(sn, 0)
              for sn in BAD_SERIALS}
    check("%s names: listed serials with a line break, a NUL, a '/' or a "
          "space are never polled" % fe.name,
          not any(polled.values()), repr(polled))
    said = [line for line in fe.lines("names")
            if re.search(r"names 4 devices without a valid serial number",
                         line)]
    check("%s names: the 4 skipped serials are said once in two reads"
          % fe.name, len(said) == 1, " | ".join(said))
    message = [line for line in device_lines(fe, MESSAGE_DEVICE, "names")
               if "API code" in line]
    check("%s names: an API message with a line break is one line, cleaned"
          % fe.name, len(message) == 1 and
          "API code 1234: bad?E! ecoflow: forged" in message[0],
          " | ".join(message))
    text = fe.all_lines()
    forged = [line for line in text if "forged" in line and not (
        fe.own_line(line) and re.search(
            r"device \"?(%s|%s)\b.*forged" % (NAMED, MESSAGE_DEVICE), line))]
    check("%s names: no log line forged (every line naming `forged' is the "
          "plugin's own, about the hostile device)" % fe.name,
          not forged and any("forged" in line for line in text),
          " | ".join(forged[:3]))
    dirty = ["%s holds %r" % (name, byte) for name, raw in
             fe.raw_logs().items() for byte in CONTROL_BYTES if byte in raw]
    check("%s names: no escape sequence, CR, NUL or C1 control in any log "
          "or output (%d of them)" % (fe.name, len(fe.raw_logs())),
          not dirty, "; ".join(dirty))
    unclean = [i for i in fe.identifiers()
               if re.search(r"[\x00-\x1f\x7f-\x9f/]", i)]
    check("%s names: every identifier published is clean (%d)" % (
        fe.name, len(fe.identifiers())),
        fe.identifiers() and not unclean, repr(unclean[:3]))


def check_clock(fe, setup):
    with setup.clock.lock:
        asked = list(setup.clock.requests)
    off = [r["signed_ms"] - r["local_ms"] for r in asked]
    check("%s clock: x-timestamp 2^63-1 and a Date in 2999 ignored: %d "
          "requests signed with this machine's clock (at most %.1f s off)"
          % (fe.name, len(asked), max(map(abs, off or [0])) / 1000),
          len(asked) >= 2 and all(abs(d) < 30000 for d in off))
    clock = [line for line in fe.lines("clock") if "clock" in line]
    check("%s clock: no clock news, the device read twice" % fe.name,
          not clock and fe.readings(CLOCK_DEVICE) >= 2 and
          not device_lines(fe, CLOCK_DEVICE, "clock"),
          " | ".join(clock + device_lines(fe, CLOCK_DEVICE, "clock")))


def check_slow(fe):
    said = wait_until(lambda: [
        line for line in fe.lines("slow") if "a read of" in line], 20)
    check("%s slow: a read of 3 polls answered after %d s each, one in "
          "flight: said once, with what would make it fit" % (
              fe.name, SLOW_MS // 1000),
          said and len(said) == 1 and re.search(
              r"a read of \d+ requests took 1[2-4]\.\d s, longer than the "
              r"interval of 10\.0 s: allow about \d+ requests in flight "
              r"\(now 1\)", said[0]), " | ".join(said or []))


# What a read of the report accounts tells when it is over.
REPORT_LINES = {
    "reporthang": [
        r"account \"reporthang\": listing the account's devices "
        r"\(device/list\): Timeout",
        r"device %s\b[^:]*: Timeout" % REPORT_HANG,
        r"device %s\b[^:]*: report %s: Timeout" % (REPORT_HANG, REPORT)],
    "reportpolls": [
        r"device %s\b[^:]*: Timeout" % REPORT_POLLS,
        r"device %s\b[^:]*: report %s: Timeout" % (REPORT_POLLS, REPORT)]}


def check_reports(fe, setup):
    """One device, Discover true, one <Report>, its host hanging: one
    Timeout per read (the list first, alone; what follows is answered with
    the host's failure), where three batches would take three."""
    for name, sim in (("reporthang", setup.report_hang),
                      ("reportpolls", setup.report_polls)):
        watch = setup.report_lines[name]
        wait_until(lambda: watch.last() is not None, 4 * TIMEOUT_S + 5)
        first = setup.watches[name].first
        took = watch.last() - first if watch.last() and first else None
        endpoints = sim.stats()["endpoints"]
        check("%s %s: one device, Discover true, one <Report>, %s: the read "
              "takes %s s (one Timeout; the issue asks at most two), the "
              "report fails with the host, unsent (%d quota/data requests)" % (
                  fe.name, name, "every request hangs" if name ==
                  "reporthang" else "the list answers, the device's "
                  "requests hang", "%.2f" % took if took else "?",
                  endpoints["device/quota/data"]),
              took is not None and took < ONE_TIMEOUT_BOUND_S and
              endpoints["device/quota/data"] == 0,
              "seen: %r" % watch.seen)


def check_collisions(fe, setup):
    by_instance = {}
    for instance, serial in fe.instance_serials():
        by_instance.setdefault(instance, set()).add(serial)
    mine = {i: s for i, s in by_instance.items() if s & set(COLLIDE)}
    shared = {i: s for i, s in mine.items() if len(s) > 1}
    check("%s collide: every plugin instance holds one device's values "
          "(%s)" % (fe.name, ", ".join(
              "%s=%s" % (i, "/".join(sorted(s)))
              for i, s in sorted(mine.items()))),
          len(mine) == 2 * len(COLLIDE) and not shared, repr(shared))
    check("%s collide: the configured Name %s is the configured device's"
          % (fe.name, COLLIDE[1]), mine.get(COLLIDE[1]) == {COLLIDE[0]},
          repr(mine.get(COLLIDE[1])))
    taken = [line for line in fe.lines() if "already has plugin instance"
             in line]
    suffixed = sorted(i for i in mine if "~" in i)
    check("%s collide: each suffixed device said once in two reads (%s)"
          % (fe.name, ", ".join(suffixed)),
          len(taken) == len(suffixed) == 3 and all(
              any('plugin instance "%s"' % i in line for line in taken)
              for i in suffixed), " | ".join(taken))


def run_live(fe, work):
    """The live accounts: two reads, then the checks."""
    setup = Setup(fe)
    stopped = False
    try:
        started = time.monotonic()
        fe.start(setup.accounts, work)
        if fe.reads_reports:
            check_reports(fe, setup)
        fe.read_again(started + INTERVAL_S + 0.5)
        wait_until(lambda: fe.readings(HEALTHY) >= 2 and
                   fe.readings(NAMED) >= 2 and
                   fe.readings(CLOCK_DEVICE) >= 2, 15)
        check_slow(fe)
        check_limits(fe, setup)
        check_names(fe, setup)
        check_clock(fe, setup)
        if fe.names_series_by_instance:
            check_collisions(fe, setup)
        stopped = fe.stop()
        check("%s live: stops cleanly" % fe.name, stopped)
    finally:
        if not stopped:
            fe.stop()
        setup.close()
    faultkit.check_no_secrets("%s live" % fe.name, dict(
        setup.logs(), **{k: v.decode("utf-8", "replace")
                         for k, v in fe.raw_logs().items()}),
        {sim.secret_key for sim in setup.sims})


# ---- input ----------------------------------------------------------------

# The simulator's secret, and one of letters only (32, like a real key).
LETTER_SECRET = "WIbFEKresLnheiSPUeYnptHGsimABCDE"
# What a key with a line break would add as a header of its own.
INJECTED = "X-Injected: yes"


def injected_keys(sim):
    """Access keys with a line break, a CR, both: each would be a second
    header."""
    return {"LF": sim.access_key + "\n" + INJECTED,
            "CR": sim.access_key + "\r" + INJECTED,
            "CRLF": sim.access_key + "\r\n" + INJECTED}


def check_refused_unsent(what, status, text, sim, refused=(2,)):
    """A configuration refused (status in refused) with a word on the
    control character, and nothing sent to sim."""
    asked = requests(sim)
    check("%s: refused as a configuration error (status %r), nothing sent "
          "(%d requests), the key not printed" % (what, status, asked),
          status in refused and "control character" in text and
          asked == 0 and INJECTED not in text, text[-600:])


# Hosts that begin like a loopback address but are names (issue 23): where
# they lead is a resolver's word, so plain http:// to them is warned of.
# Their last label is too long for a DNS name: no query leaves the machine.
PRETENDING_LOOPBACK = ["http://127.0.0.1.%s" % faultkit.UNRESOLVABLE,
                       "http://127.%s:8080" % faultkit.UNRESOLVABLE]


def loopback_forms(sim):
    """The simulator's endpoint written as the loopback in other ways:
    never warned of."""
    return ["http://localhost:%d" % sim.port, "http://127.1:%d" % sim.port]


def check_plain_http(what, endpoint, text, status):
    """A run with endpoint: warned once when it pretends to be the
    loopback; else read (status 0) without a warning."""
    said = [line for line in text.splitlines()
            if "plain http:// to another host" in line]
    if endpoint in PRETENDING_LOOPBACK:
        check("%s: plain http:// to %s (a name, not the loopback): warned "
              "once" % (what, endpoint),
              len(said) == 1 and "use https://" in said[0], text[-600:])
    else:
        check("%s: plain http:// to %s (the loopback): read, no warning"
              % (what, endpoint), status == 0 and not said, text[-600:])


def check_not_printed(what, status, text, secret, refused=(2,)):
    check("%s: refused (status %r) without printing the secret" % (
        what, status), status in refused and secret not in text and
        text.strip() != "", text[-600:])


def run(fe, check_input):
    """Every run against fe, then check_input(work), the front end's own
    checks of the user's input; the exit status for the test."""
    with work_dir("test_hostile_%s." % fe.name) as work:
        check_hang(fe, work)
        check_resolver(fe, work)
        check_huge_report(fe, work)
        run_live(fe, work)
        check_input(work)
    return summary()
