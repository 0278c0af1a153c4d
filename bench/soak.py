#!/usr/bin/env python3
"""soak.py: the collectd plugin over thousands of read cycles, for leaks;
then push mode (soak_push.py).

Runs the real collectd daemon with ecoflow.so against ecoflow-sim at a
short interval while faults toggle on all devices but one, in two phases:

1. RSS: --cycles read cycles (default 10,000); VmRSS and RssAnon of the
   daemon are sampled from /proc/PID/status and printed as a table, with
   the growth from the end of the warm-up (a tenth of the cycles, and at
   least one round of every fault: a huge answer, for one, leaves the heap
   larger once) to the end and its slope over the second half; with
   --heap and gdb, also the bytes malloc holds in use then (glibc's
   malloc_stats), which tells a leak from the allocator's arenas (off by
   default: gdb's call breaks the nanosleep collectd's main loop is in,
   and collectd 5.12 then exits, "nanosleep failed: Error #516"). Goal:
   no growth beyond noise.
2. valgrind: --valgrind-cycles cycles (default 300) under valgrind
   --leak-check=full, then SIGTERM; prints the LEAK SUMMARY. Goal: zero
   bytes definitely and indirectly lost, and no memory errors.

A cycle is one read of the account: the device that is never faulted is
asked for its quotas once per read, so the simulator's request count for it
is the cycle count.

The plugin never polls a device more often than every 10 s (ef_schedule.h);
the soak sets the test hook ECOFLOW_TEST_MIN_INTERVAL_MS in collectd's
environment to poll every --interval-ms instead, which only ecoflow-sim may
see. Credentials reach the simulator by environment and the plugin by a
mode 600 SecretKeyFile, never by a command line; the soak also checks that
the secret never shows in the daemon's log.

3. push: collectd and ecoflow-telegraf --execd in push mode over a
   broker that restarts, refuses and floods on a schedule, their memory
   and CPU printed as they go, then under valgrind (soak_push.py says
   how); --skip-push leaves it out, --skip-rss --skip-valgrind runs it
   alone.

Run it with `make soak` (SOAK_CYCLES=N, SOAK_ARGS="..." to change it), or
directly with top_builddir set. Exit status 0 when every goal is met, 1
when not, 77 when collectd, valgrind or the plugin is missing.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests", "e2e"))
import simharness  # noqa: E402
from checks import memcheck_prefix, skip_unless  # noqa: E402
import soak_push  # noqa: E402
from soakkit import (memory_kb, processes_showing, report_valgrind,  # noqa
                     slope_kb_per_1000, write_collectd_conf)

PLUGIN = os.path.join(TOP_BUILDDIR, "src", ".libs", "ecoflow.so")
TELEGRAF = os.path.join(TOP_BUILDDIR, "src", "ecoflow-telegraf")
COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
MIN_INTERVAL_HOOK = "ECOFLOW_TEST_MIN_INTERVAL_MS"

# What the faulted devices go through, in turn: every failure mode of the
# simulator that a device recovers from within seconds (1006 and 8512 are
# retried hourly: they would take a device out of the soak). The request
# timeout is 1 s, so delay:1500 and stall time out.
FAULTS = ["http500", "http405", "http429:1", "delay:1500", "stall",
          "truncated", "notjson", "malformed",
          "api:8513:accessKey is invalid", "api:8521:signature is wrong",
          "offline", "huge:%d" % (3 * 1024 * 1024), "unlisted"]


def write_config(directory, sim, interval_s):
    """collectd.conf for one account of every device of sim, polled every
    interval_s."""
    devices = "".join('  <Device "%s">\n    Interval %g\n  </Device>\n'
                      % (sn, interval_s)
                      for sn in simharness.DEFAULT_DEVICES.values())
    return write_collectd_conf(directory, PLUGIN, sim, interval_s,
                               "  Timeout 1\n" + devices)


class FaultRotation:
    """Every period_s, clears the fault of one device and sets the next
    fault of FAULTS on the next device; the first device stays healthy."""

    def __init__(self, sim, period_s):
        self.sim = sim
        self.period_s = period_s
        self.devices = list(simharness.DEFAULT_DEVICES.values())[1:]
        self.turn = 0
        self.next_at = time.monotonic()
        self.current = None

    def tick(self):
        if time.monotonic() < self.next_at:
            return
        if self.current is not None:
            self.sim.clear_fault(self.current)
        self.current = self.devices[self.turn % len(self.devices)]
        self.sim.set_fault(self.current, FAULTS[self.turn % len(FAULTS)])
        self.turn += 1
        self.next_at += self.period_s

    def clear(self):
        if self.current is not None:
            self.sim.clear_fault(self.current)


def cycles_done(sim):
    clock_device = list(simharness.DEFAULT_DEVICES.values())[0]
    return sim.stats()["devices"].get(clock_device, 0)


def heap_in_use(pid, output):
    """The bytes glibc's malloc of pid holds in use, from malloc_stats()
    called through gdb, which writes to the daemon's output (the file
    output); None without gdb or permission to attach."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return None
    pattern = re.compile(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*\d+"
                         r"\s*in use bytes\s*=\s*(\d+)")
    with open(output) as text:
        before = len(pattern.findall(text.read()))
    subprocess.run([gdb, "-p", str(pid), "-batch", "-ex",
                    "call (void)malloc_stats()"], capture_output=True,
                   timeout=120)
    with open(output) as text:
        found = pattern.findall(text.read())
    return int(found[-1]) if len(found) > before else None


class Run:
    """What one daemon run gave: samples (seconds, cycles, VmRSS kB,
    RssAnon kB), warm (the index of the sample that ends the warm-up),
    heap (bytes in use at the end of the warm-up and at the end, or None),
    seconds, exit status, log text, and the command lines seen holding a
    key."""


def run_daemon(work, sim, name, cycles, interval_ms, fault_period_s,
               prefix=(), sample_s=None, heap=False):
    """Runs collectd until the healthy device has seen cycles reads, with
    faults toggling, and returns its Run; samples memory every sample_s
    seconds, and command lines for keys every 2 s."""
    warm_s = len(FAULTS) * fault_period_s
    directory = os.path.join(work, name)
    os.makedirs(directory)
    conf = write_config(directory, sim, interval_ms / 1000.0)
    env = dict(os.environ)
    env[MIN_INTERVAL_HOOK] = str(interval_ms)
    for variable in ("ECOFLOW_ACCESS_KEY", "ECOFLOW_SECRET_KEY"):
        env.pop(variable, None)
    sim.reset_stats()
    faults = FaultRotation(sim, fault_period_s)
    with open(os.path.join(directory, "stdout"), "w") as out:
        daemon = subprocess.Popen(list(prefix) + [COLLECTD, "-f", "-C", conf],
                                  env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    started = time.monotonic()
    run = Run()
    run.samples, run.argv_keys, run.warm, run.heap = [], set(), None, []
    output = os.path.join(directory, "stdout")
    next_sample = next_scan = started
    done, progress_at, last_done = 0, started, -1
    try:
        while done < cycles:
            if daemon.poll() is not None:
                raise RuntimeError("collectd exited with %d" % daemon.returncode)
            now = time.monotonic()
            done = cycles_done(sim)
            if done != last_done:
                progress_at, last_done = now, done
            elif now - progress_at > 120:
                raise RuntimeError("no read cycle for 120 s (at %d)" % done)
            if done > 0:
                faults.tick()
            # The cloud stamps its readings to the second: at a read every
            # few ms, most would repeat the last one and be held back as
            # stale. A second of simulated time per loop (about one per
            # read) keeps the readings new, so that they are dispatched.
            sim.set_clock(advance=1)
            if sample_s is not None and now >= next_sample:
                run.samples.append((now - started, done)
                                   + memory_kb(daemon.pid))
                next_sample += sample_s
                if run.warm is None and now - started >= warm_s and \
                        done >= cycles // 10:
                    run.warm = len(run.samples) - 1
                    if heap:
                        run.heap.append(heap_in_use(daemon.pid, output))
            if now >= next_scan:
                run.argv_keys |= processes_showing([sim.access_key,
                                                    sim.secret_key])
                next_scan += 2
            time.sleep(0.05)
        if sample_s is not None:
            run.samples.append((time.monotonic() - started, done)
                               + memory_kb(daemon.pid))
            if heap:
                run.heap.append(heap_in_use(daemon.pid, output))
            if run.warm is None:
                run.warm = 0
        run.seconds = time.monotonic() - started
    finally:
        faults.clear()
        daemon.send_signal(signal.SIGTERM)
        try:
            run.rc = daemon.wait(timeout=300)
        except subprocess.TimeoutExpired:
            daemon.kill()
            run.rc = daemon.wait()
    with open(os.path.join(directory, "collectd.log")) as log:
        run.log = log.read()
    return run


def report_secrets(run, secret):
    """Prints where the keys showed; True when nowhere."""
    print("secret in the daemon's log: %s; keys in a command line: %s"
          % ("YES" if secret in run.log else "no",
             "; ".join(sorted(run.argv_keys)) or "none"))
    return secret not in run.log and not run.argv_keys


def report_rss(run, cycles, args):
    samples, seconds = run.samples, run.seconds
    rows = min(len(samples), args.table_rows)
    picked = sorted({round(i * (len(samples) - 1) / max(rows - 1, 1))
                     for i in range(rows)})
    print("\n%10s %9s %11s %12s" % ("seconds", "cycles", "VmRSS kB",
                                     "RssAnon kB"))
    for i in picked:
        print("%10.1f %9d %11d %12d" % samples[i])
    warm, end = samples[run.warm], samples[-1]
    second_half = [(s[1], s[3]) for s in samples if s[1] >= cycles / 2]
    slope = slope_kb_per_1000(second_half)
    growth = end[3] - warm[3]
    print("\ncycles: %d in %.0f s (%.1f cycles/s; 10,000 cycles take "
          "about %.0f min at --interval-ms %d)"
          % (end[1], seconds, end[1] / seconds,
             10000 / (end[1] / seconds) / 60, args.interval_ms))
    print("RssAnon after warm-up (cycle %d): %d kB; at the end (cycle %d): "
          "%d kB; growth %+d kB; slope over the second half %+.1f kB per "
          "1000 cycles" % (warm[1], warm[3], end[1], end[3], growth, slope))
    print("VmRSS after warm-up: %d kB; at the end: %d kB (%+d kB)"
          % (warm[2], end[2], end[2] - warm[2]))
    if len(run.heap) == 2 and None not in run.heap:
        print("malloc in use after warm-up: %d kB; at the end: %d kB (%+d kB)"
              % (run.heap[0] // 1024, run.heap[1] // 1024,
                 (run.heap[1] - run.heap[0]) // 1024))
    else:
        print("malloc in use: not measured (needs --heap, gdb, and "
              "permission to attach)")
    plugin_lines = [line for line in run.log.splitlines() if "ecoflow" in line]
    print("daemon: exit status %d; %d log lines, %d of them the plugin's"
          % (run.rc, len(run.log.splitlines()), len(plugin_lines)))
    return run.rc == 0 and growth <= args.max_growth_kb


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=10000)
    parser.add_argument("--interval-ms", type=int, default=50)
    parser.add_argument("--fault-seconds", type=float, default=3.0,
                        help="how long each fault lasts")
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument("--table-rows", type=int, default=20)
    parser.add_argument("--max-growth-kb", type=int, default=2048,
                        help="RssAnon growth after warm-up still counted "
                        "as noise (the allocator's arenas move by about a "
                        "megabyte)")
    parser.add_argument("--valgrind-cycles", type=int, default=300)
    parser.add_argument("--valgrind-interval-ms", type=int, default=200)
    parser.add_argument("--heap", action="store_true",
                        help="measure malloc's bytes in use with gdb (it "
                        "may stop collectd: see above)")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--skip-valgrind", action="store_true")
    parser.add_argument("--keep", action="store_true",
                        help="keep the daemons' directories (logs)")
    soak_push.add_arguments(parser)
    args = parser.parse_args()

    needed = [(PLUGIN, "the plugin"), (COLLECTD, "collectd")]
    if not args.skip_push:
        needed.append((TELEGRAF, "ecoflow-telegraf"))
    if not args.skip_valgrind:
        needed.append((shutil.which("valgrind") or "valgrind", "valgrind"))
    skipped = skip_unless(*needed)
    if skipped:
        return skipped

    work = tempfile.mkdtemp(prefix="soak.")
    ok = True
    try:
        with simharness.Sim() as sim:
            if not args.skip_rss:
                print("== RSS: %d cycles every %d ms, a fault every %g s"
                      % (args.cycles, args.interval_ms, args.fault_seconds))
                run = run_daemon(work, sim, "rss", args.cycles,
                                 args.interval_ms, args.fault_seconds,
                                 sample_s=args.sample_seconds,
                                 heap=args.heap)
                ok &= report_rss(run, args.cycles, args)
                ok &= report_secrets(run, sim.secret_key)
            if not args.skip_valgrind:
                print("\n== valgrind: %d cycles every %d ms"
                      % (args.valgrind_cycles, args.valgrind_interval_ms))
                report = os.path.join(work, "valgrind.txt")
                run = run_daemon(work, sim, "valgrind", args.valgrind_cycles,
                                 args.valgrind_interval_ms, args.fault_seconds,
                                 prefix=memcheck_prefix(report))
                with open(report) as text:
                    ok &= report_valgrind(
                        text.read(), "%d cycles" % args.valgrind_cycles,
                        run.seconds, run.rc)
                ok &= report_secrets(run, sim.secret_key)
        if not args.skip_push:
            ok &= soak_push.run(args, work, TELEGRAF) is not False
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("# kept for inspection: %s" % work)
    print("\nsoak: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
