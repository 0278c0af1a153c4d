"""soak_push.py: push mode over a broker that misbehaves on a schedule, for
leaks, spinning and what a flood leaves behind: the second leg of `make
soak` (soak.py runs it after the HTTP leg; soak.py --help for the options).

A real mosquitto (tests/e2e/mqttharness.py: TLS, passwords, an ACL of
exact topics) and ecoflow-sim publishing its four devices' quota messages
(/sim/mqtt/periodic); subscribed at the same time, the collectd plugin
(MQTT true, one read a second) and ecoflow-telegraf --execd --mqtt. The
broker follows a schedule that repeats every --push-period seconds:

- restart: stopped and started again on the same port, 1 s later;
- refuse: the account's MQTT password changes for --push-refuse-seconds,
  so that every CONNECT of the two clients is refused (CONNACK 5), then
  it is put back (each change restarts the broker);
- flood: the simulator publishes every --push-flood-ms for
  --push-flood-seconds instead of every --push-every-ms.

1. Memory and CPU: until the simulator has published --push-messages
   messages per device (default 10,000), a row every --push-print-seconds:
   messages so far, each daemon's RssAnon and CPU share, the broker's
   state. Then each daemon's growth from the end of the warm-up (one
   period, and a tenth of the messages) to the end and its slope over the
   second half, its CPU per 1000 messages, its highest CPU share over a
   second while the broker refused it (a client that spins on a broker it
   cannot use shows there), its connections and refused CONNECTs against
   the broker's starts, how long SIGTERM took, and ecoflow-telegraf's
   lines. Goals: growth within --max-growth-kb, no spinning (at most
   --push-max-idle-cpu percent of a core), a stop within a second (at
   most --push-max-stop-seconds, for a busy machine), and no key or
   password in a log or a command line.
2. valgrind: both daemons under valgrind --leak-check=full for
   --push-valgrind-messages messages per device and one period at least,
   then SIGTERM; the LEAK SUMMARY of each. Goal: nothing definitely or
   indirectly lost, no error.

Nothing waits without a bound: a phase ends after --push-max-seconds
whatever was published (and says so), a daemon that exits early or does
not stop is reported, and the leg goes on to its report.

Python 3 standard library only."""

import os
import shutil
import signal
import subprocess
import threading
import time

import mqttharness
import simharness
from checks import memcheck_prefix
from soakkit import (cpu_seconds, memory_kb, processes_showing,
                     report_valgrind, slope_kb_per_1000,
                     write_collectd_conf)

ACCOUNT = "open-soak0123456789"
PASSWORD = "cert-pass-soak-71c3"
REFUSED_PASSWORD = "cert-pass-changed-0000"
PUBLISHER = "sim-publisher"
PUBLISHER_PASSWORD = "pub-pass-soak-4a2e"
SNS = list(simharness.DEFAULT_DEVICES.values())


def add_arguments(parser):
    group = parser.add_argument_group("push mode (soak_push.py)")
    group.add_argument("--push-messages", type=int, default=10000,
                       help="messages per device in phase 1")
    group.add_argument("--push-every-ms", type=int, default=20,
                       help="each device publishes every N ms")
    group.add_argument("--push-period", type=float, default=30.0,
                       help="seconds of one round of the broker's schedule")
    group.add_argument("--push-refuse-seconds", type=float, default=6.0)
    group.add_argument("--push-flood-ms", type=int, default=2)
    group.add_argument("--push-flood-seconds", type=float, default=3.0)
    group.add_argument("--push-print-seconds", type=float, default=10.0)
    group.add_argument("--push-max-seconds", type=float, default=1800.0,
                       help="a phase ends after this, whatever was "
                       "published")
    group.add_argument("--push-max-idle-cpu", type=float, default=25.0,
                       help="percent of a core a daemon may use over a "
                       "second while the broker refuses it")
    group.add_argument("--push-max-stop-seconds", type=float, default=2.0)
    group.add_argument("--push-valgrind-messages", type=int, default=500)
    group.add_argument("--skip-push", action="store_true")


class Schedule:
    """The broker's misbehaviour, a round every period seconds from start:
    a restart at 1/6 of it, a refusal from 2/5, a flood from 3/4. tick()
    does what is due; away() is True while clients are refused or the
    broker is down."""

    def __init__(self, broker, sim, args):
        self.broker, self.sim, self.args = broker, sim, args
        self.started = time.monotonic()
        self.done = set()  # (round, action)
        self.refusing = self.flooding = False
        self.state = "up"
        self.counts = {"restart": 0, "refuse": 0, "flood": 0}

    def rounds(self):
        return (time.monotonic() - self.started) / self.args.push_period

    def _due(self, at, action):
        """True once per round when the round has passed at (a share)."""
        elapsed = self.rounds()
        key = (int(elapsed), action)
        if elapsed - int(elapsed) >= at and key not in self.done:
            self.done.add(key)
            return True
        return False

    def _set_period(self, every_ms):
        self.sim.control("POST", "/sim/mqtt/periodic",
                         {"every_ms": every_ms})

    def tick(self):
        args, period = self.args, self.args.push_period
        if self._due(1 / 6, "restart"):
            self.state = "restarting"
            self.broker.restart(down_s=1)
            self.counts["restart"] += 1
            self.state = "up"
        if self._due(2 / 5, "refuse"):
            self.broker.set_password(ACCOUNT, REFUSED_PASSWORD)
            self.refusing, self.state = True, "refusing"
            self.counts["refuse"] += 1
        if self.refusing and self._due(
                2 / 5 + args.push_refuse_seconds / period, "accept"):
            self.broker.set_password(ACCOUNT, PASSWORD)
            self.refusing, self.state = False, "up"
        if self._due(3 / 4, "flood"):
            self._set_period(args.push_flood_ms)
            self.flooding, self.state = True, "flood"
            self.counts["flood"] += 1
        if self.flooding and self._due(
                3 / 4 + args.push_flood_seconds / period, "calm"):
            self._set_period(args.push_every_ms)
            self.flooding, self.state = False, "up"

    def away(self):
        return self.refusing

    def settle(self):
        """Ends a refusal or a flood that is under way."""
        if self.refusing:
            self.broker.set_password(ACCOUNT, PASSWORD)
        if self.flooding:
            self._set_period(self.args.push_every_ms)
        self.refusing = self.flooding = False


class Daemon:
    """One of the two subscribers, started; samples are (seconds,
    messages per device, VmRSS kB, RssAnon kB, CPU seconds so far, broker
    away)."""

    def __init__(self, name, argv, env, directory, log, client_id):
        self.name, self.log, self.client_id = name, log, client_id
        self.samples = []
        self.lines = 0
        self.exit, self.stop_s = None, None
        self.stderr = open(os.path.join(directory, name + ".stderr"), "wb")
        self.process = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr)
        self.reader = threading.Thread(target=self._count, daemon=True)
        self.reader.start()

    def _count(self):
        """Reads what it prints (ecoflow-telegraf's line protocol), keeping
        only the count: an unread pipe would stop it."""
        for chunk in iter(lambda: self.process.stdout.read1(65536), b""):
            self.lines += chunk.count(b"\n")

    def alive(self):
        return self.process.poll() is None

    def sample(self, seconds, messages, away):
        if not self.alive():
            return
        try:
            self.samples.append((seconds, messages)
                                + memory_kb(self.process.pid)
                                + (cpu_seconds(self.process.pid), away))
        except OSError:
            pass  # it just exited

    def stop(self):
        """SIGTERM; how long it took to exit (killed after 60 s)."""
        if self.alive():
            started = time.monotonic()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.exit = self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.exit = "hung, killed"
            self.stop_s = time.monotonic() - started
        else:
            self.exit = "exited early with %s" % self.process.returncode
        self.reader.join(10)
        self.stderr.close()

    def log_text(self):
        try:
            with open(self.log, "rb") as text:
                return text.read().decode("utf-8", "replace")
        except OSError:
            return ""


def start_collectd(directory, sim, broker, prefix):
    plugin = os.path.join(os.environ.get("top_builddir", "."), "src",
                          ".libs", "ecoflow.so")
    devices = "".join('  <Device "%s">\n  </Device>\n' % sn for sn in SNS)
    conf = write_collectd_conf(directory, plugin, sim, 1, (
        '  Timeout 5\n  MQTT true\n  CAFile "%s"\n' % broker.cafile)
        + devices)
    log = os.path.join(directory, "collectd.log")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ECOFLOW_ACCESS_KEY", "ECOFLOW_SECRET_KEY")}
    collectd = shutil.which("collectd") or "/usr/sbin/collectd"
    return Daemon("collectd", list(prefix) + [collectd, "-f", "-C", conf],
                  env, directory, log, ACCOUNT + "-collectd")


def start_telegraf(directory, sim, broker, telegraf, prefix):
    argv = list(prefix) + [telegraf, "--execd", "--mqtt", "--ca-file",
                           broker.cafile, "--endpoint", sim.base_url,
                           "--timeout", "5"]
    for sn in SNS:
        argv += ["--sn", sn]
    env = dict(os.environ, ECOFLOW_ACCESS_KEY=sim.access_key,
               ECOFLOW_SECRET_KEY=sim.secret_key)
    daemon = Daemon("telegraf", argv, env, directory,
                    os.path.join(directory, "telegraf.stderr"),
                    ACCOUNT + "-telegraf")
    return daemon


def published_per_device(sim):
    return sim.control("GET", "/sim/mqtt")["published"] // len(SNS)


def run_phase(name, work, sim, broker, telegraf, args, messages,
              prefix=lambda daemon: ()):
    """Runs both daemons while the broker follows its schedule, until
    messages per device were published (and one period passed); returns
    (daemons, seconds, schedule, published per device, why it ended)."""
    directory = os.path.join(work, name)
    os.makedirs(directory)
    before = published_per_device(sim)
    daemons = [start_collectd(directory, sim, broker, prefix("collectd")),
               start_telegraf(directory, sim, broker, telegraf,
                              prefix("telegraf"))]
    schedule = Schedule(broker, sim, args)
    started = time.monotonic()
    next_sample = next_print = started
    keys_seen = set()
    ended = "done"
    print("%8s %9s %-11s" % ("seconds", "messages", "broker") + "".join(
        " %11s %6s" % (d.name + " kB", "CPU%") for d in daemons))
    try:
        while True:
            now = time.monotonic()
            done = published_per_device(sim) - before
            if done >= messages and schedule.rounds() >= 1:
                break
            if now - started > args.push_max_seconds:
                ended = "stopped after %.0f s at %d messages per device" % (
                    now - started, done)
                break
            dead = [d.name for d in daemons if not d.alive()]
            if dead:
                ended = "%s exited" % ", ".join(dead)
                break
            schedule.tick()
            if now >= next_sample:
                for d in daemons:
                    d.sample(now - started, done, schedule.away())
                next_sample += 1
                keys_seen |= processes_showing([sim.secret_key, PASSWORD])
            if now >= next_print:
                print_row(now - started, done, schedule.state, daemons)
                next_print += args.push_print_seconds
            time.sleep(0.1)
    finally:
        schedule.settle()
        for d in daemons:
            d.stop()
    seconds = time.monotonic() - started
    print_row(seconds, published_per_device(sim) - before, "end", daemons)
    return daemons, seconds, schedule, ended, keys_seen


def cpu_share(samples, i):
    """Percent of a core between sample i - 1 and sample i."""
    (t0, *_, c0, _), (t1, *_, c1, _) = samples[i - 1], samples[i]
    return 100.0 * (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


def print_row(seconds, messages, state, daemons):
    cells = ""
    for d in daemons:
        s = d.samples
        cells += (" %11d %6.1f" % (s[-1][3], cpu_share(s, len(s) - 1))
                  if len(s) >= 2 else " %11s %6s" % ("-", "-"))
    print("%8.0f %9d %-11s%s" % (seconds, messages, state, cells), flush=True)


def report_daemon(d, broker, schedule, args, messages):
    """Prints one daemon's figures of phase 1; True when its goals hold."""
    s = d.samples
    if len(s) < 3:
        print("%s: too few samples (%d): %s" % (d.name, len(s), d.exit))
        return False
    warm = next((i for i, x in enumerate(s)
                 if x[0] >= args.push_period and x[1] >= messages / 10),
                None)
    if warm is None:  # too short a run: from its first sample
        print("%s: the run ended within its warm-up" % d.name)
        warm = 0
    growth = s[-1][3] - s[warm][3]
    slope = slope_kb_per_1000([(x[1], x[3]) for x in s
                               if x[1] >= s[-1][1] / 2])
    cpu = s[-1][4] - s[0][4]
    away = [cpu_share(s, i) for i in range(1, len(s))
            if s[i][5] and s[i - 1][5]]
    starts = broker_starts(schedule)
    connected = len(broker.connections(d.client_id))
    print("\n%s: RssAnon after warm-up (%d messages) %d kB, at the end (%d) "
          "%d kB: growth %+d kB, slope over the second half %+.1f kB per "
          "1000 messages; VmRSS %d -> %d kB"
          % (d.name, s[warm][1], s[warm][3], s[-1][1], s[-1][3], growth,
             slope, s[warm][2], s[-1][2]))
    print("%s: CPU %.1f s in all, %.2f s per 1000 messages per device; "
          "while refused: at most %.1f%% of a core over a second (%d "
          "seconds measured)" % (d.name, cpu, 1000 * cpu / max(s[-1][1], 1),
                                 max(away or [0]), len(away)))
    print("%s: %d connections for %d broker starts; stopped by SIGTERM in "
          "%s, exit %s%s"
          % (d.name, connected, starts,
             "%.2f s" % d.stop_s if d.stop_s is not None else "-", d.exit,
             "; %d lines of line protocol" % d.lines
             if d.name == "telegraf" else ""))
    return (growth <= args.max_growth_kb and
            max(away or [0]) <= args.push_max_idle_cpu and d.exit == 0 and
            d.stop_s is not None and d.stop_s <= args.push_max_stop_seconds)


def broker_starts(schedule):
    """The broker's starts: the first, one a restart, two a refusal."""
    return 1 + schedule.counts["restart"] + 2 * schedule.counts["refuse"]


def report_broker(broker, schedule):
    """What the broker saw of the two clients as a whole: it logs a refused
    CONNECT by address, not by client id."""
    print("\nbroker: %d starts, %d TCP connections accepted, %d CONNECTs "
          "refused (the two clients while their password was changed)"
          % (broker_starts(schedule), broker.connection_attempts(),
             len(broker.refusals())))


def run(args, work, telegraf):
    """The push leg; True when every goal held. None when it cannot run
    here (no mosquitto, or push mode not built)."""
    try:
        broker = mqttharness.Broker(users=[
            (ACCOUNT, PASSWORD, mqttharness.device_topics(ACCOUNT, SNS)),
            (PUBLISHER, PUBLISHER_PASSWORD,
             mqttharness.device_topics(ACCOUNT, SNS, access="write"))])
        broker.start()
    except mqttharness.BrokerError as error:
        print("# push leg skipped: %s" % error)
        return None
    ok = True
    try:
        with simharness.Sim(extra_args=broker.sim_options(
                ACCOUNT, PASSWORD, PUBLISHER, PUBLISHER_PASSWORD)) as sim:
            sim.control("POST", "/sim/mqtt/periodic",
                        {"every_ms": args.push_every_ms})
            print("\n== push: %d messages per device (%d devices, every %d "
                  "ms), the broker restarting, refusing for %g s and "
                  "flooding (every %d ms for %g s) every %g s"
                  % (args.push_messages, len(SNS), args.push_every_ms,
                     args.push_refuse_seconds, args.push_flood_ms,
                     args.push_flood_seconds, args.push_period))
            daemons, seconds, schedule, ended, keys = run_phase(
                "push", work, sim, broker, telegraf, args,
                args.push_messages)
            print("push: %s in %.0f s; the broker restarted %d times, "
                  "refused %d times, flooded %d times"
                  % (ended, seconds, schedule.counts["restart"],
                     schedule.counts["refuse"], schedule.counts["flood"]))
            ok &= ended == "done"
            report_broker(broker, schedule)
            for d in daemons:
                ok &= report_daemon(d, broker, schedule, args,
                                    args.push_messages)
            ok &= report_keys(daemons, keys, sim)

            print("\n== push under valgrind: %d messages per device, every "
                  "%d ms" % (args.push_valgrind_messages, args.push_every_ms))
            reports = {}

            def memcheck(name):
                reports[name] = os.path.join(work, "valgrind-%s.txt" % name)
                return memcheck_prefix(reports[name])
            daemons, seconds, schedule, ended, keys = run_phase(
                "push-valgrind", work, sim, broker, telegraf, args,
                args.push_valgrind_messages, prefix=memcheck)
            print("push under valgrind: %s in %.0f s" % (ended, seconds))
            ok &= ended == "done"
            for d in daemons:
                with open(reports[d.name]) as text:
                    ok &= report_valgrind(
                        text.read(), "%s, %d messages per device" % (
                            d.name, d.samples[-1][1] if d.samples else 0),
                        seconds, d.exit)
            ok &= report_keys(daemons, keys, sim)
    finally:
        broker.stop()
    print("\npush: %s" % ("ok" if ok else "FAILED"))
    return ok


def report_keys(daemons, keys, sim):
    """Prints where a key or the MQTT password showed; True when nowhere."""
    secrets = (sim.secret_key, PASSWORD)
    logs = [d.name for d in daemons
            if any(secret in d.log_text() for secret in secrets)]
    print("keys or the MQTT password in a log: %s; in a command line: %s"
          % (", ".join(logs) or "no", "; ".join(sorted(keys)) or "none"))
    return not logs and not keys
