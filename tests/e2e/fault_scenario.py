"""fault_scenario.py: the run every front end's fault test goes through
(test_faults_collectd.py, test_faults_telegraf.py): the servers, the
accounts, a timeline of four reads, and the checks, with the front end
behind a small adapter (FrontEnd).

The accounts, each fault on devices or an endpoint of its own
(faultkit.py has the matrix):
- "cloud" (ecoflow-sim): two healthy devices next to HTTP 500, 405, 429
  with Retry-After, a timeout, a stall mid-body, truncated JSON, an HTML
  page, data a string, a body over the cap, and API codes 8513, 8512,
  1006 and 8521;
- "shapes" (the proxy): a healthy device next to answers of the wrong
  shape (data missing, deep nesting, numbers as strings, nulls, huge
  arrays, broken JSON inside a string);
- "storm": three devices that answer HTTP 500: the account cools down;
- "refused", "unresolved", "wrongsecret", "untrusted" (TLS without the
  CA) and "trusted" (the same TLS server with its CA): one device each;
- "skewed": a simulator whose clock is an hour ahead.

Timeline: read 1 (0 s) and read 2 (10 s) with every fault on; the faults
clear; read 3 (20 s) leaves the failing devices to their backoff, read 4
(30 s) finds them again. Checked: the healthy devices' values arrive in
every read; each fault is logged once, naming the device and what was
wrong, and once more when it recovers; Retry-After, the backoff, the
account's cool-down and the 8521 retry show in the simulator's request
counts; the clock skew is said once and signatures use the server's
time; TLS is verified by default; no log of the run holds a secret key.
"""

import re
import time

import faultkit
import simharness
from checks import check, summary, wait_until, work_dir
from faultkit import (DEVICE_FAULTS, HEALTHY, HEALTHY_BEHIND_PROXY, REFUSED,
                      SHAPE_FAULTS, SKEWED, STORM, TRUSTED, UNRESOLVED,
                      UNTRUSTED, WRONG_SECRET, Endpoint, Proxy, serial)

INTERVAL_S = 10  # schedule.h: EF_MIN_INTERVAL_MS
# When the test asks for reads 2, 3 and 4 (seconds after read 1): a little
# after the interval, so that every device scheduled for it is due.
READ_AT_S = (INTERVAL_S + 0.5, 2 * INTERVAL_S + 1, 3 * INTERVAL_S + 1.5)


class Account:
    def __init__(self, name, endpoint, serials, ca_file=None):
        self.name, self.endpoint = name, endpoint
        self.serials, self.ca_file = serials, ca_file


class Setup:
    """The servers of one run: the simulators, the proxies, the CA, and
    the accounts that use them."""

    def __init__(self, work, cloud, skewed_sim):
        self.cloud = cloud
        self.skewed_sim = skewed_sim
        ca, cert, key = faultkit.throwaway_ca(work)
        self.shapes = Proxy(cloud, {f.sn: f.spec for f in SHAPE_FAULTS})
        self.tls = Proxy(cloud, tls=(cert, key))
        self.refused = Proxy(cloud, listening=False)
        self.skewed = Proxy(skewed_sim)
        self.proxies = (self.shapes, self.tls, self.refused, self.skewed)
        self.accounts = [
            Account("cloud", cloud, HEALTHY + [f.sn for f in DEVICE_FAULTS]),
            Account("shapes", self.shapes,
                    [HEALTHY_BEHIND_PROXY] + [f.sn for f in SHAPE_FAULTS]),
            Account("storm", cloud, STORM),
            Account("refused", self.refused, [REFUSED.sn]),
            Account("unresolved",
                    Endpoint("https://" + faultkit.UNRESOLVABLE, cloud),
                    [UNRESOLVED.sn]),
            Account("wrongsecret", Endpoint(
                cloud.base_url, cloud, faultkit.WRONG_SECRET_KEY),
                [WRONG_SECRET.sn]),
            Account("untrusted", self.tls, [UNTRUSTED.sn]),
            Account("trusted", self.tls, [TRUSTED], ca_file=ca),
            Account("skewed", self.skewed, [SKEWED]),
        ]

    def close(self):
        for proxy in self.proxies:
            proxy.close()

    def secrets(self):
        return {self.cloud.secret_key, self.skewed_sim.secret_key,
                faultkit.WRONG_SECRET_KEY}

    def logs(self):
        return {"cloud simulator": self.cloud.log(),
                "skewed simulator": self.skewed_sim.log(),
                "proxies": "\n".join(p.log() for p in self.proxies)}


class FrontEnd:
    """What the scenario needs of a front end; each test subclasses it."""

    name = "front end"

    def start(self, setup, work):
        """Starts polling every account of setup; read 1 begins."""

    def read_again(self, at):
        """Makes sure a read happens at time.monotonic() == at (collectd
        reads on its own every interval)."""

    def failure_lines(self, sn):
        """The log lines that say device sn fails."""
        raise NotImplementedError

    def recovery_lines(self, sn):
        """The log lines that say device sn answers again."""
        raise NotImplementedError

    def warning_lines(self, sn):
        """The warnings about device sn (not failures)."""
        raise NotImplementedError

    def has_value(self, sn, quota):
        """1 when device sn published a value of quota (one of
        faultkit.DISHONEST's)."""
        raise NotImplementedError

    def reads(self, sn):
        """How many readings of device sn published values."""
        raise NotImplementedError

    def published(self, sn):
        """How many values the first reading of device sn published."""
        raise NotImplementedError

    def clock_lines(self, account=None):
        """The lines about the server's clock (of one account's name)."""
        raise NotImplementedError

    def stop(self):
        """Stops it; True when it stopped cleanly."""
        raise NotImplementedError

    def logs(self):
        """{name: text} of every log it wrote."""
        raise NotImplementedError


# Devices whose values must arrive in every read, faults or not.
READ_EVERY_TIME = (HEALTHY + [HEALTHY_BEHIND_PROXY, TRUSTED, SKEWED]
                   + [f.sn for f in SHAPE_FAULTS if not f.fails])
FAILING = ([f for f in DEVICE_FAULTS + SHAPE_FAULTS if f.fails]
           + faultkit.ENDPOINT_FAULTS)
RECOVERING = ([f for f in DEVICE_FAULTS + SHAPE_FAULTS
               if f.fails and not f.for_good] + [REFUSED])
LASTING = [UNRESOLVED, UNTRUSTED, WRONG_SECRET]


def check_first_read(fe, setup, started):
    def done():
        return (all(fe.reads(sn) for sn in READ_EVERY_TIME)
                and all(fe.failure_lines(f.sn) for f in FAILING)
                and all(fe.failure_lines(sn) for sn in STORM))
    answered = wait_until(done, 20)
    check("%s read 1: every device answered or failed within %.1f s" % (
        fe.name, time.monotonic() - started), answered)
    missing = [sn for sn in READ_EVERY_TIME if not fe.reads(sn)]
    check("%s read 1: the values of the %d devices without a fault, or "
          "with a harmless shape, arrive next to the faults" % (
              fe.name, len(READ_EVERY_TIME)), not missing,
          ", ".join(missing))
    for f in FAILING:
        faultkit.check_line("%s read 1" % fe.name, fe.failure_lines(f.sn),
                            f, setup.secrets())
    loud = [f.sn for f in SHAPE_FAULTS
            if not f.fails and fe.failure_lines(f.sn)]
    check("%s read 1: the harmless shapes are read without a complaint"
          % fe.name, not loud, ", ".join(loud))
    huge, usual = (fe.published(sn) for sn in (serial("huge arrays"),
                                                HEALTHY_BEHIND_PROXY))
    # The cap (ef_sample.h's EF_MAX_ARRAY_ITEMS) keeps 64 PV strings of 3
    # values each; the codes stay one list.
    check("%s read 1: arrays of %d items publish %d values, not tens of "
          "thousands (the same device unbent: %d; the cap allows %d more)" % (
              fe.name, faultkit.ARRAY_ITEMS, huge, usual,
              3 * faultkit.MAX_ARRAY_ITEMS),
          usual < huge <= usual + 3 * faultkit.MAX_ARRAY_ITEMS)
    check_numbers(fe)
    retried = faultkit.requests_for(setup.cloud, serial("8521"))
    check("%s read 1: 8521 is retried once (2 requests), then reported"
          % fe.name, retried == 2, "%d requests" % retried)


def check_numbers(fe):
    """A boolean, a hex string and integers past 64 bits are no readings of
    a number: left out (the unbent device has each), never clamped; the
    device's other values still arrive."""
    numbers = serial("dishonest numbers")
    published = {q: fe.has_value(numbers, q) for q in faultkit.DISHONEST}
    unbent = {q: fe.has_value(HEALTHY_BEHIND_PROXY, q)
              for q in faultkit.DISHONEST}
    check("%s read 1: true, \"0x10\", 2^64 - 1 and 2^64 + 1 where numbers "
          "belong are left out, never published as numbers" % fe.name,
          not any(published.values()) and all(unbent.values())
          and fe.published(numbers) > 0,
          "published %r, unbent %r" % (published, unbent))
    flood = serial("a flood of unknown keys")
    usual = fe.published(HEALTHY_BEHIND_PROXY)
    check("%s read 1: 20000 unknown keys publish at most %d more values than "
          "the unbent device (%d, not %d)" % (
              fe.name, faultkit.MAX_UNKNOWN, fe.published(flood), usual +
              faultkit.FLOOD_KEYS),
          usual < fe.published(flood) <= usual + faultkit.MAX_UNKNOWN)


def check_next_read(fe, started, n):
    """Read n (2, 3, 4) happens, and the healthy devices' values arrive;
    the slow faults have had their time when it returns."""
    fe.read_again(started + READ_AT_S[n - 2])
    arrived = wait_until(lambda: all(fe.reads(sn) >= n
                                     for sn in READ_EVERY_TIME), 10)
    time.sleep(faultkit.TIMEOUT_S + 1)
    check("%s read %d: the values of every healthy device arrive again"
          % (fe.name, n), arrived, ", ".join(
              "%s: %d" % (sn, fe.reads(sn)) for sn in READ_EVERY_TIME))


def check_second_read(fe, setup, started):
    """Read 2: the faults persist, nothing new is logged, and the request
    counts show Retry-After, the backoff and the cool-down."""
    check_next_read(fe, started, 2)
    repeated = ["%s: %d" % (f.sn, len(fe.failure_lines(f.sn)))
                for f in FAILING if len(fe.failure_lines(f.sn)) != 1]
    check("%s read 2: a fault that persists is not logged again" % fe.name,
          not repeated, ", ".join(repeated))
    said = fe.warning_lines(serial("a flood of unknown keys"))
    check("%s read 2: the cap on unknown values is said once for the device "
          "(after 2 readings)" % fe.name,
          len(said) == 1 and "left out" in said[0], repr(said))
    counts = {f.name: faultkit.requests_for(setup.cloud, f.sn)
              for f in DEVICE_FAULTS}
    check("%s read 2: a device that failed once is asked again at the "
          "next interval (HTTP 500: 2 requests)" % fe.name,
          counts["HTTP 500"] == 2, repr(counts))
    check("%s read 2: Retry-After %d s is respected (HTTP 429: 1 request)"
          % (fe.name, faultkit.RETRY_AFTER_S),
          counts["HTTP 429 with Retry-After"] == 1, repr(counts))
    check("%s read 2: 1006 and 8512 are not asked again (1 request each)"
          % fe.name, counts["1006"] == 1 and counts["8512"] == 1,
          repr(counts))
    storm = {sn: faultkit.requests_for(setup.cloud, sn) for sn in STORM}
    check("%s read 2: the storm account cools down: 1 request per device, "
          "not 2" % fe.name, all(n == 1 for n in storm.values()),
          repr(storm))
    lines = {sn: len(fe.failure_lines(sn)) for sn in STORM}
    check("%s read 2: the cool-down adds no log line to a failing device"
          % fe.name, all(n == 1 for n in lines.values()), repr(lines))
    refused = setup.tls.handshakes_refused
    check("%s: TLS is verified by default: the account without the CA "
          "refused the certificate (%d handshakes)" % (fe.name, refused),
          refused >= 2)


def check_recovery(fe, setup, started):
    """The faults clear after read 2; read 3 leaves the devices that failed
    twice to their backoff; read 4 finds them again."""
    faultkit.clear_faults(setup.cloud, setup.shapes)
    setup.refused.listen()
    check_next_read(fe, started, 3)
    asked = faultkit.requests_for(setup.cloud, serial("HTTP 500"))
    early = [f.sn for f in RECOVERING if fe.recovery_lines(f.sn)]
    check("%s read 3: a device that failed twice waits two intervals "
          "(HTTP 500: still 2 requests, none recovered yet)" % fe.name,
          asked == 2 and not early, "%d requests; %s" % (asked, early))
    fe.read_again(started + READ_AT_S[2])
    came_back = wait_until(lambda: all(fe.recovery_lines(f.sn)
                                       for f in RECOVERING),
                           READ_AT_S[-1] + 10 - (time.monotonic() - started))
    check("%s recovery: each device says that it answers again, %.0f s "
          "after the start" % (fe.name, time.monotonic() - started),
          came_back)
    lines = {f.sn: len(fe.recovery_lines(f.sn)) for f in RECOVERING}
    check("%s recovery: one line per device" % fe.name,
          all(n == 1 for n in lines.values()), repr(lines))
    # A front end may say "answers again" before it has flushed the
    # batch's values (Telegraf logs during the poll, prints after it).
    wait_until(lambda: all(fe.reads(f.sn) for f in RECOVERING), 15)
    silent = [f.sn for f in RECOVERING if not fe.reads(f.sn)]
    check("%s recovery: their values arrive" % fe.name, not silent,
          ", ".join(silent))
    lasting = [f.sn for f in LASTING if len(fe.failure_lines(f.sn)) != 1]
    check("%s: the faults that last (DNS, wrong secret, unknown CA) were "
          "logged once in "
          "%.0f s" % (fe.name, time.monotonic() - started), not lasting,
          ", ".join(lasting))


def check_clock(fe, setup):
    notes = fe.clock_lines("skewed")
    check("%s clock skew: said once, with the offset" % fe.name,
          len(notes) == 1 and re.search(r"\b3[56]\d\d s behind\b", notes[0])
          and len(fe.clock_lines()) == 1, "; ".join(fe.clock_lines()))
    faultkit.check_signed_in_server_time("%s clock skew" % fe.name,
                                         setup.skewed)


def run(fe, extra_checks=None):
    """The whole scenario against fe; the exit status for the test.
    extra_checks(fe, setup), if given, runs after the last read."""
    with work_dir("test_faults_%s." % fe.name) as work:
        setup = None
        try:
            with simharness.Sim(devices=faultkit.sim_devices(),
                                faults=faultkit.sim_faults(), verbose=True,
                                threads=4) as cloud, \
                    simharness.Sim(devices=[faultkit.SKEWED_DEVICE],
                                   access_key="skewedAccessKey01",
                                   secret_key="skewedSecretKey0123456789",
                                   verbose=True) as skewed_sim:
                skewed_sim.set_clock(advance=faultkit.SKEW_S)
                setup = Setup(work, cloud, skewed_sim)
                started = time.monotonic()
                fe.start(setup, work)
                check_first_read(fe, setup, started)
                check_second_read(fe, setup, started)
                check_recovery(fe, setup, started)
                check_clock(fe, setup)
                if extra_checks is not None:
                    extra_checks(fe, setup)
                check("%s stops cleanly" % fe.name, fe.stop())
            faultkit.check_no_secrets(fe.name, dict(setup.logs(), **fe.logs()),
                                      setup.secrets())
        finally:
            if setup is not None:
                setup.close()
    return summary()
