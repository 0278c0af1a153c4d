#!/usr/bin/env python3
"""bench.py: the figures of issue 12 in one run, against ecoflow-sim.

Measures whatever the build directory holds now, on this machine, and
prints a markdown table (also written to --output, bench/RESULTS.md under
`make bench`) with the goal next to each figure:

1. ecoflow-telegraf, one exec poll (an --sn list of N serial numbers) of
   N = 1, 10, 100, 1000 PowerOceans with --max-concurrent 8 against a
   simulator that answers every request --latency-ms late: wall time against
   the bound ceil(N/8) x latency, and which requests the poll made.
2. CPU per device of that poll (user+sys of the child / N, from its
   rusage) and instructions per device from callgrind: the slope between
   two polls (--callgrind-sizes) against a simulator without latency, so
   that start-up is not counted.
3. json-c alone (bench/jsonc_floor) parsing and walking the simulator's
   real quota/all answer, in instructions (callgrind, the same slope) and
   CPU time; the ratio of (2) to it.
4. Private_Dirty (/proc/PID/smaps_rollup) of ecoflow-telegraf --execd
   (discovery of every device) after --execd-polls polls of 1000 devices.
5. The real collectd with ecoflow.so (discovery, the plugin's defaults,
   no write plugin: a PostCacheChain stops values after the cache), 1000
   PowerOceans: RSS after --collectd-reads reads, CPU of the whole daemon
   per device and read, values dispatched per device (unixsock LISTVAL).
6. A Python poller written as EcoFlow's examples go (python_poller.py:
   requests + hmac, one request after another) for the same N and
   simulator: wall time, CPU per device, max RSS, and the C / Python ratios.
7. How many devices one agent holds at a 30 s interval on one core.

Exit status: 0 when the run completed (goals met or not: the table says),
1 when a measurement failed, 2 when a part is missing (the message says
which and how to get it).
"""

import argparse
import datetime
import grp
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests", "e2e"))
import simharness  # noqa: E402
from soak import write_private  # noqa: E402

SIM = os.path.join(TOP_BUILDDIR, "src", "ecoflow-sim")
TELEGRAF = os.path.join(TOP_BUILDDIR, "src", "ecoflow-telegraf")
PLUGIN = os.path.join(TOP_BUILDDIR, "src", ".libs", "ecoflow.so")
FLOOR = os.path.join(TOP_BUILDDIR, "bench", "jsonc_floor")
RUNSTAT = os.path.join(TOP_BUILDDIR, "bench", "runstat")
POLLER = os.path.join(HERE, "python_poller.py")
COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
VALGRIND = shutil.which("valgrind") or "valgrind"
STOCK_PLUGINS = "/usr/lib/collectd"
MIN_INTERVAL_HOOK = "ECOFLOW_TEST_MIN_INTERVAL_MS"
QUOTA_ALL = "/iot-open/sign/device/quota/all"
DEVICE_LIST = "/iot-open/sign/device/list"
MAX_CONCURRENT = 8  # ecoflow-telegraf's and the plugin's default
CAPACITY_INTERVAL_S = 30

# The goals of issue 12.
GOAL_WALL_RATIO = 1.2          # x ceil(N / max-concurrent) x latency
GOAL_FLOOR_RATIO = 2.0         # x json-c alone
GOAL_EXECD_PRIVATE_KB = 4096
GOAL_COLLECTD_RSS_KB = 100 * 1024
GOAL_COLLECTD_CPU_MS = 1.0


class BenchError(Exception):
    """A measurement failed; the message says which and why."""


# -- prerequisites ----------------------------------------------------------

def missing_parts():
    """(what, why, how to get it) of every part the run needs and lacks."""
    missing = []
    for path, what, how in (
            (SIM, "ecoflow-sim", "configure without --disable-sim, make"),
            (TELEGRAF, "ecoflow-telegraf",
             "configure without --disable-telegraf, make"),
            (PLUGIN, "the collectd plugin ecoflow.so",
             "configure without --disable-collectd, make"),
            (FLOOR, "bench/jsonc_floor", "make bench/jsonc_floor"),
            (RUNSTAT, "bench/runstat", "make bench/runstat"),
            (COLLECTD, "collectd", "contrib/deps.sh bench (collectd-core)"),
            (STOCK_PLUGINS + "/unixsock.so", "collectd's unixsock plugin",
             "contrib/deps.sh bench (collectd-core)")):
        if not os.access(path, os.R_OK):
            missing.append((what, path, how))
    if shutil.which("valgrind") is None:
        missing.append(("valgrind (callgrind)", "not in PATH",
                        "contrib/deps.sh bench (valgrind)"))
    probe = subprocess.run([sys.executable, "-c", "import requests"],
                           capture_output=True)
    if probe.returncode != 0:
        missing.append(("Python's requests, for python_poller.py",
                        sys.executable, "contrib/deps.sh bench "
                        "(python3-requests)"))
    return missing


# -- children ---------------------------------------------------------------

class Child:
    """What one finished child process gave: wall_s, user_s, sys_s, cpu_s,
    maxrss_kb, rc, and the paths of its stdout and stderr."""


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as text:
            return "".join(text.readlines()[-lines:])
    except OSError:
        return ""


def run_child(argv, env, work, name, timeout):
    """Runs argv to its end (killed after timeout s) under bench/runstat,
    stdout and stderr to files in work; its wall time and its own rusage
    (runstat.c says why not Python's)."""
    child = Child()
    child.stdout = os.path.join(work, name + ".out")
    child.stderr = os.path.join(work, name + ".err")
    stats = os.path.join(work, name + ".runstat")
    with open(child.stdout, "wb") as out, open(child.stderr, "wb") as err:
        process = subprocess.Popen([RUNSTAT, stats] + list(argv), env=env,
                                   stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=err, start_new_session=True)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError("%s: killed after %.0f s\n%s"
                             % (name, timeout, tail(child.stderr))) from None
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    try:
        with open(stats) as text:
            figures = json.load(text)
    except (OSError, ValueError):
        raise BenchError("%s: runstat wrote no figures (exit status %d)\n%s"
                         % (name, process.returncode,
                            tail(child.stderr))) from None
    child.rc = figures["status"]
    child.wall_s = figures["wall_s"]
    child.user_s, child.sys_s = figures["user_s"], figures["sys_s"]
    child.cpu_s = child.user_s + child.sys_s
    child.maxrss_kb = figures["maxrss_kb"]
    return child


def stop_process(process, timeout=60):
    """SIGTERM, then SIGKILL after timeout s; the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def client_env(sim, hook_ms=None):
    """The environment of a client of sim: its keys and endpoint, and the
    minimum-interval test hook only when asked for."""
    env = dict(os.environ)
    env.update(ECOFLOW_ACCESS_KEY=sim.access_key,
               ECOFLOW_SECRET_KEY=sim.secret_key,
               ECOFLOW_ENDPOINT=sim.base_url)
    env.pop(MIN_INTERVAL_HOOK, None)
    if hook_ms is not None:
        env[MIN_INTERVAL_HOOK] = str(hook_ms)
    return env


def serials(n):
    """The first n of the simulator's generated PowerOceans (ecoflow-sim
    --devices: SIM000000, SIM000001, ...)."""
    return ["SIM%06d" % i for i in range(n)]


def sn_args(n):
    return [arg for sn in serials(n) for arg in ("--sn", sn)]


def request_counts(sim):
    stats = sim.stats()
    endpoints = stats["endpoints"]
    return (endpoints.get("device/list", 0),
            endpoints.get("device/quota/all", 0), stats["max_in_flight"])


def count_lines(path, prefix):
    with open(path, "rb") as text:
        return sum(1 for line in text if line.startswith(prefix))


# -- the answer ---------------------------------------------------------------

def save_answer(sim, path):
    """Writes the body of the simulator's real quota/all answer for one
    device to path; returns (bytes, quota keys, values with nested ones)."""
    import python_poller
    import requests
    params = {"sn": serials(1)[0]}
    answer = requests.get(sim.base_url + QUOTA_ALL, params=params,
                          timeout=30, headers=python_poller.sign_headers(
                              sim.access_key, sim.secret_key, params))
    body = answer.content
    data = json.loads(body).get("data")
    if answer.status_code != 200 or not isinstance(data, dict):
        raise BenchError("quota/all of %s: HTTP %d %r" % (
            params["sn"], answer.status_code, body[:200]))
    with open(path, "wb") as out:
        out.write(body)
    return len(body), len(data), len(python_poller.flatten(data))


# -- 1, 2, 6: one poll, in C and in Python ----------------------------------

def one_poll(sim, n, argv, marker, work, name, timeout):
    """One poll of n devices by argv (+ their --sn list), which prints a
    line starting with marker per device read; the Child with the
    requests it made."""
    sim.reset_stats()
    child = run_child(list(argv) + sn_args(n), client_env(sim), work, name,
                      timeout)
    child.lists, child.quotas, child.in_flight = request_counts(sim)
    child.read = count_lines(child.stdout, marker)
    if child.rc != 0 or child.read != n:
        raise BenchError("%s: exit status %d, %d of %d devices read\n%s"
                         % (name, child.rc, child.read, n,
                            tail(child.stderr)))
    return child


def telegraf_poll(sim, n, work, name, timeout=600):
    return one_poll(sim, n, [TELEGRAF, "--max-concurrent",
                             str(MAX_CONCURRENT)], b"ecoflow_read,", work,
                    name, timeout)


def python_poll(sim, n, work, name, timeout=1800):
    return one_poll(sim, n, [sys.executable, POLLER, "--endpoint",
                             sim.base_url], b"ecoflow_py,", work, name,
                    timeout)


def median_child(children):
    """The run of median wall time, with the spread of the runs."""
    ordered = sorted(children, key=lambda c: c.wall_s)
    chosen = ordered[len(ordered) // 2]
    chosen.wall_min_s = ordered[0].wall_s
    chosen.wall_max_s = ordered[-1].wall_s
    chosen.cpu_median_s = statistics.median(c.cpu_s for c in children)
    chosen.maxrss_max_kb = max(c.maxrss_kb for c in children)
    chosen.runs = len(children)
    return chosen


# -- 2, 3: callgrind ----------------------------------------------------------

def callgrind_total(argv, env, work, name, timeout=1800):
    """The instructions (Ir) callgrind counts for argv, every thread."""
    out = os.path.join(work, name + ".callgrind")
    child = run_child([VALGRIND, "--tool=callgrind",
                       "--callgrind-out-file=" + out] + list(argv), env,
                      work, name, timeout)
    try:
        with open(out) as text:
            found = re.findall(r"^(?:summary|totals): (\d+)", text.read(),
                               re.M)
    except OSError:
        found = []
    if not found:
        raise BenchError("%s under callgrind: exit status %d, no total\n%s"
                         % (name, child.rc, tail(child.stderr)))
    child.instructions = int(found[0])
    return child


def telegraf_instructions(sim, sizes, work):
    """Instructions per device: the slope between polls of sizes[0] and
    sizes[1] devices under callgrind."""
    totals = []
    for n in sizes:
        sim.set_clock(advance=60)
        child = callgrind_total(
            [TELEGRAF, "--max-concurrent", str(MAX_CONCURRENT),
             "--timeout", "120"] + sn_args(n), client_env(sim), work,
            "callgrind-telegraf-%d" % n)
        read = count_lines(child.stdout, b"ecoflow_read,")
        if child.rc != 0 or read != n:
            raise BenchError("callgrind poll of %d: exit status %d, %d read"
                             "\n%s" % (n, child.rc, read, tail(child.stderr)))
        totals.append(child.instructions)
    return (totals[1] - totals[0]) / (sizes[1] - sizes[0]), totals


def floor_figures(answer, work, iterations, callgrind_iterations):
    """json-c alone: (instructions per answer, CPU seconds per answer, the
    two callgrind totals)."""
    child = run_child([FLOOR, answer, str(iterations)], dict(os.environ),
                      work, "floor", 600)
    if child.rc != 0:
        raise BenchError("jsonc_floor: exit status %d\n%s"
                         % (child.rc, tail(child.stderr)))
    with open(child.stdout) as text:
        report = json.loads(text.read())
    totals = [callgrind_total([FLOOR, answer, str(k)], dict(os.environ),
                              work, "callgrind-floor-%d" % k).instructions
              for k in callgrind_iterations]
    per_answer = (totals[1] - totals[0]) / (callgrind_iterations[1]
                                            - callgrind_iterations[0])
    return per_answer, report["cpu_ns_per_answer"] / 1e9, totals


# -- 4: execd -----------------------------------------------------------------

def smaps_rollup_kb(pid):
    """Rss, Pss, Private_Dirty ... of pid, in kB."""
    found = {}
    with open("/proc/%d/smaps_rollup" % pid) as text:
        for line in text:
            key, _, value = line.partition(":")
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                found[key] = int(parts[0])
    return found


def cpu_seconds(pid):
    """user+sys of pid (every thread) so far, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as text:
        fields = text.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LineCounter(threading.Thread):
    """Counts the lines of a stream that start with prefix."""

    def __init__(self, stream, prefix):
        super().__init__(daemon=True)
        self.stream, self.prefix, self.count = stream, prefix, 0

    def run(self):
        for line in self.stream:
            if line.startswith(self.prefix):
                self.count += 1


def wait_for(predicate, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and process.poll() is not None:
            raise BenchError("%s: the process exited with %d"
                             % (what, process.returncode))
        if time.monotonic() > deadline:
            raise BenchError("%s: not after %.0f s" % (what, timeout))
        time.sleep(0.05)


def execd_memory(sim, n, polls, work, timeout=600):
    """Private_Dirty and Rss (kB) of ecoflow-telegraf --execd, discovering
    every device of sim, after polls polls (one line of stdin each; the
    test hook lets it poll again at once, and the simulated clock moves a
    minute before each poll, so that every reading is new)."""
    err = open(os.path.join(work, "execd.err"), "wb")
    process = subprocess.Popen(
        [TELEGRAF, "--execd", "--max-concurrent", str(MAX_CONCURRENT)],
        env=client_env(sim, hook_ms=1), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=err)
    counter = LineCounter(process.stdout, b"ecoflow_read,")
    counter.start()
    try:
        for k in range(1, polls + 1):
            sim.set_clock(advance=60)
            process.stdin.write(b"\n")
            process.stdin.flush()
            wait_for(lambda: counter.count >= k * n, timeout,
                     "execd poll %d of %d devices" % (k, n), process)
        memory = smaps_rollup_kb(process.pid)
        process.stdin.close()
        process.wait(timeout=60)
    except (BenchError, subprocess.TimeoutExpired) as error:
        raise BenchError("%s\n%s" % (error, tail(err.name))) from None
    finally:
        stop_process(process)
        err.close()
    if process.returncode != 0:
        raise BenchError("execd: exit status %d at the end of stdin\n%s"
                         % (process.returncode, tail(err.name)))
    return memory


# -- 5: collectd --------------------------------------------------------------

def collectd_config(directory, sim, interval_s):
    """collectd.conf: the plugin's defaults with discovery of every device
    of sim, unixsock to count the values, no write plugin (values stop
    after the cache, so that nothing is logged as undeliverable)."""
    shutil.copy(PLUGIN, os.path.join(directory, "ecoflow.so"))
    secret = os.path.join(directory, "ecoflow.secret")
    write_private(secret, sim.secret_key + "\n")
    conf = os.path.join(directory, "collectd.conf")
    write_private(conf, f"""Hostname "bench"
FQDNLookup false
Interval {interval_s:g}
PluginDir "{STOCK_PLUGINS}"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{directory}/collectd.log"
  PrintSeverity true
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "{directory}/collectd.sock"
  SocketPerms "0600"
  SocketGroup "{grp.getgrgid(os.getgid()).gr_name}"
</Plugin>
PostCacheChain "Bench"
<Chain "Bench">
  Target "stop"
</Chain>
PluginDir "{directory}"
LoadPlugin ecoflow
<Plugin ecoflow>
  AccessKey "{sim.access_key}"
  SecretKeyFile "{secret}"
  Endpoint "{sim.base_url}"
  Discover true
</Plugin>
""")
    return conf


def unixsock(path, command, timeout=300):
    """The lines of collectd's answer to command (its status line first)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        stream = sock.makefile("rw")
        stream.write(command + "\n")
        stream.flush()
        first = stream.readline()
        count = int(first.split()[0])
        return [first.strip()] + [stream.readline().strip()
                                  for _ in range(max(count, 0))]


def collectd_fleet(sim, n, reads, interval_s, work, timeout=900):
    """Runs collectd with the plugin over the n devices of sim for a first
    read and reads more; returns a dict of its figures."""
    directory = os.path.join(work, "collectd")
    os.makedirs(directory)
    conf = collectd_config(directory, sim, interval_s)
    hook = int(interval_s * 1000) if interval_s < 10 else None
    env = client_env(sim, hook_ms=hook)
    for variable in ("ECOFLOW_ACCESS_KEY", "ECOFLOW_SECRET_KEY",
                     "ECOFLOW_ENDPOINT"):
        env.pop(variable)
    sim.reset_stats()
    quotas = lambda: request_counts(sim)[1]  # noqa: E731
    with open(os.path.join(directory, "stdout"), "wb") as out:
        daemon = subprocess.Popen([COLLECTD, "-f", "-C", conf], env=env,
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: quotas() >= n, timeout, "collectd's first read",
                 daemon)
        start_cpu, start_at, start_quotas = (cpu_seconds(daemon.pid),
                                             time.monotonic(), quotas())
        wait_for(lambda: quotas() >= (1 + reads) * n, timeout,
                 "collectd's %d reads after the first" % reads, daemon)
        figures = {"cpu_s": cpu_seconds(daemon.pid) - start_cpu,
                   "seconds": time.monotonic() - start_at,
                   "device_reads": quotas() - start_quotas,
                   "memory": smaps_rollup_kb(daemon.pid)}
        with open("/proc/%d/status" % daemon.pid) as status:
            figures["status"] = {
                key: int(value.split()[0]) for key, _, value in
                (line.partition(":") for line in status)
                if key in ("VmRSS", "VmHWM", "RssAnon")}
        listed = unixsock(os.path.join(directory, "collectd.sock"),
                          "LISTVAL")[1:]
    except (BenchError, OSError, ValueError) as error:
        raise BenchError("collectd: %s\n%s" % (
            error, tail(os.path.join(directory, "collectd.log")))) from None
    finally:
        rc = stop_process(daemon)
    identifiers = [line.split(" ", 1)[1] for line in listed if " " in line]
    ours = [i for i in identifiers if "/ecoflow-" in i]
    instances = {i.split("/")[1] for i in ours}
    figures.update(rc=rc, values=len(ours), instances=len(instances),
                   by_type=count_types(ours))
    with open(os.path.join(directory, "collectd.log"),
              errors="replace") as log:
        figures["log_errors"] = sum(1 for line in log if "[error]" in line)
    return figures


def count_types(identifiers):
    """How many identifiers of each collectd type."""
    counts = {}
    for identifier in identifiers:
        kind = identifier.split("/")[2].split("-", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


# -- the report ---------------------------------------------------------------

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as text:
            for line in text:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", TOP_SRCDIR, "describe", "--always",
                             "--dirty", "--abbrev=12"], capture_output=True,
                            text=True).stdout.strip() or "unknown (no git)"
    return {"cpu": model, "cores": os.cpu_count(),
            "kernel": platform.system() + " " + platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit, "load": os.getloadavg()}


def ms(seconds):
    return "%.3g ms" % (seconds * 1000) if seconds < 1 else "%.2f s" % seconds


def mega(count):
    return "%.2f M" % (count / 1e6)


def kb(value):
    return "%.1f MB" % (value / 1024) if value >= 1024 else "%d kB" % value


def verdict(ok):
    return "yes" if ok else "**no**"


def bound_s(n, latency_s):
    return math.ceil(n / MAX_CONCURRENT) * latency_s


class Report:
    """Markdown, gathered section by section."""

    def __init__(self):
        self.lines = []

    def add(self, *lines):
        self.lines.extend(lines)

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|")
        self.add(*("| " + " | ".join(str(c) for c in row) + " |"
                   for row in rows))
        self.add("")

    def text(self):
        return "\n".join(self.lines) + "\n"


def render(r):
    """The whole report from the figures in r (a dict)."""
    m, a, latency_s = r["machine"], r["args"], r["args"].latency_ms / 1000
    rep = Report()
    rep.add("# Benchmark (issue 12)", "",
            "`make bench` in the build directory (`bench/bench.py`); "
            "measured on %s, %d cores, %s, %s, at commit `%s` (load average "
            "%.2f at the start, %.2f at the end)." % (
                m["cpu"], m["cores"], m["kernel"], m["date"], m["commit"],
                m["load"][0], r["load_end"][0]), "",
            "Simulator: `ecoflow-sim --devices %d` (generated PowerOceans); "
            "its quota/all answer: %d top-level keys (%d values with the "
            "nested ones), %d bytes: %s the live size (about 350 keys, "
            "13 KB). Latency %d ms per request for the wall "
            "times and the Python poller; none for callgrind, execd and "
            "collectd (CPU and memory figures, which latency does not "
            "change)." % (a.devices, r["answer"][1], r["answer"][2],
                          r["answer"][0], "like" if live_size(r["answer"])
                          else "**not** like", a.latency_ms), "",
            "**Noise**: this machine is shared with other developers, so "
            "wall times and CPU times move from run to run (wall times are "
            "the median of %d runs, the spread is shown); the callgrind "
            "instruction counts are the stable figures." % a.repeat, "")

    # summary
    big, py = r["telegraf"][max(a.sizes)], r["python"][max(a.sizes)]
    per_dev_cpu = big.cpu_median_s / max(a.sizes)
    floor_i, floor_s = r["floor_instructions"], r["floor_seconds"]
    ins = r["instructions_per_device"]
    cd = r["collectd"]
    cd_cpu = cd["cpu_s"] / cd["device_reads"]
    cd_rss = cd["status"]["VmRSS"]
    rows = []
    for n in a.sizes:
        c = r["telegraf"][n]
        ratio = c.wall_s / bound_s(n, latency_s)
        rows.append(("ecoflow-telegraf, one poll of %d device%s, "
                     "`--max-concurrent 8`" % (n, "" if n == 1 else "s"),
                     "%s (bound %s: %.2fx)" % (ms(c.wall_s),
                                               ms(bound_s(n, latency_s)),
                                               ratio),
                     "within %.1fx of the bound" % GOAL_WALL_RATIO,
                     verdict(ratio <= GOAL_WALL_RATIO)))
    rows += [
        ("CPU per device (user+sys / N, N = %d)" % max(a.sizes),
         "%s (%.1fx json-c's %s)" % (ms(per_dev_cpu), per_dev_cpu / floor_s,
                                     ms(floor_s)),
         "within %gx of json-c alone (< %s)"
         % (GOAL_FLOOR_RATIO, ms(GOAL_FLOOR_RATIO * floor_s)),
         verdict(per_dev_cpu <= GOAL_FLOOR_RATIO * floor_s)),
        ("instructions per device (callgrind, slope %d to %d devices)"
         % tuple(a.callgrind_sizes),
         "%s (%.1fx json-c's %s)" % (mega(ins), ins / floor_i, mega(floor_i)),
         "within %gx of json-c alone (< %s)" % (GOAL_FLOOR_RATIO,
                                                mega(GOAL_FLOOR_RATIO
                                                     * floor_i)),
         verdict(ins <= GOAL_FLOOR_RATIO * floor_i)),
        ("Private_Dirty, `--execd`, %d devices, after %d polls"
         % (a.devices, a.execd_polls), kb(r["execd"]["Private_Dirty"]),
         "under %s" % kb(GOAL_EXECD_PRIVATE_KB),
         verdict(r["execd"]["Private_Dirty"] < GOAL_EXECD_PRIVATE_KB)),
        ("collectd with the plugin, %d PowerOceans: RSS after %d reads"
         % (a.devices, a.collectd_reads + 1), kb(cd_rss),
         "under %s" % kb(GOAL_COLLECTD_RSS_KB),
         verdict(cd_rss < GOAL_COLLECTD_RSS_KB)),
        ("collectd: CPU per device and read, whole daemon", ms(cd_cpu),
         "under %g ms" % GOAL_COLLECTD_CPU_MS,
         verdict(cd_cpu * 1000 < GOAL_COLLECTD_CPU_MS)),
        ("collectd: values dispatched per device",
         "%.0f" % (cd["values"] / max(cd["instances"], 1)),
         "the catalog's metrics (+ every quota of an unknown family)", "-"),
        ("Python poller (requests + hmac), %d devices: wall, CPU per "
         "device, max RSS (C / Python)" % max(a.sizes),
         "%s, %s, %s (%.2f, %.2f, %.2f)" % (
             ms(py.wall_s), ms(py.cpu_median_s / max(a.sizes)),
             kb(py.maxrss_max_kb), big.wall_s / py.wall_s,
             big.cpu_median_s / py.cpu_median_s,
             big.maxrss_max_kb / py.maxrss_max_kb),
         "(the baseline)", "-"),
        ("devices one agent holds at %d s on one core" % CAPACITY_INTERVAL_S,
         "%d" % r["capacity"]["devices"], "(reported)", "-"),
    ]
    rep.add("## Summary", "")
    rep.table(("figure", "measured", "goal", "met"), rows)

    # 1
    rep.add("## 1. ecoflow-telegraf: one exec poll", "",
            "`ecoflow-telegraf --max-concurrent 8 --sn SIM000000 --sn ...` "
            "(an `--sn` list of N serial numbers, against the simulator's "
            "%d devices), wall time from start to exit. Bound: ceil(N/8) x "
            "%d ms. The requests column is what the simulator counted (the "
            "code of this run asks `device/list` first when it does, then "
            "the quotas: the column after it is that order's bound, "
            "(1 + ceil(N/8)) x latency, and the ratio to it)." % (
                a.devices, a.latency_ms), "")
    rep.table(("N", "wall (median)", "spread", "bound", "ratio",
               "within %.1fx" % GOAL_WALL_RATIO, "requests",
               "list-first bound, ratio", "max in flight", "CPU (user+sys)",
               "max RSS"),
              [(n, ms(c.wall_s), "%s - %s" % (ms(c.wall_min_s),
                                             ms(c.wall_max_s)),
                ms(bound_s(n, latency_s)),
                "%.2fx" % (c.wall_s / bound_s(n, latency_s)),
                verdict(c.wall_s / bound_s(n, latency_s) <= GOAL_WALL_RATIO),
                "device/list %d + quota/all %d" % (c.lists, c.quotas),
                "%s, %.2fx" % (ms(bound_s(n, latency_s)
                                  + c.lists * latency_s),
                               c.wall_s / (bound_s(n, latency_s)
                                           + c.lists * latency_s)),
                c.in_flight, ms(c.cpu_median_s), kb(c.maxrss_max_kb))
               for n, c in sorted(r["telegraf"].items())])

    # 2, 3
    rep.add("## 2-3. CPU and instructions per device, next to json-c alone",
            "",
            "Instructions: `valgrind --tool=callgrind` of one poll of %d and "
            "of %d devices (no latency), the difference divided by %d, so "
            "that start-up and `device/list` are not counted. json-c alone: "
            "`bench/jsonc_floor` parses the simulator's real quota/all "
            "answer (%d bytes, saved from a signed request) with "
            "`json_tokener_parse_ex` and a reused tokener, and walks every "
            "value through its typed getter (the JSON text inside "
            "`bp_addr.*` strings is not parsed again); instructions the "
            "same way (%d and %d parses), CPU time the median of 5 batches "
            "of %d parses." % (a.callgrind_sizes[0], a.callgrind_sizes[1],
                               a.callgrind_sizes[1] - a.callgrind_sizes[0],
                               r["answer"][0], a.floor_callgrind[0],
                               a.floor_callgrind[1],
                               a.floor_iterations // 5), "")
    rep.table(("figure", "ecoflow-telegraf per device", "json-c alone per "
               "answer", "ratio", "goal", "met"),
              [("instructions (callgrind)", mega(ins), mega(floor_i),
                "%.1fx" % (ins / floor_i), "within %gx" % GOAL_FLOOR_RATIO,
                verdict(ins <= GOAL_FLOOR_RATIO * floor_i)),
               ("CPU time (user+sys / N, N = %d)" % max(a.sizes),
                ms(per_dev_cpu), ms(floor_s),
                "%.1fx" % (per_dev_cpu / floor_s),
                "within %gx" % GOAL_FLOOR_RATIO,
                verdict(per_dev_cpu <= GOAL_FLOOR_RATIO * floor_s))])
    rep.add("callgrind totals: ecoflow-telegraf %s (%d devices), %s (%d "
            "devices); jsonc_floor %s, %s." % (
                mega(r["telegraf_totals"][0]), a.callgrind_sizes[0],
                mega(r["telegraf_totals"][1]), a.callgrind_sizes[1],
                mega(r["floor_totals"][0]), mega(r["floor_totals"][1])), "")

    # 4
    e = r["execd"]
    rep.add("## 4. ecoflow-telegraf --execd: memory", "",
            "`ecoflow-telegraf --execd --max-concurrent 8` with discovery "
            "(no `--sn`: every device of the account), one line of stdin "
            "per poll, %d polls of %d devices (the test hook %s=1 lets it "
            "poll again at once; the simulated clock moves a minute before "
            "each poll, so every reading is new), then "
            "`/proc/PID/smaps_rollup`." % (a.execd_polls, a.devices,
                                          MIN_INTERVAL_HOOK), "")
    rep.table(("Private_Dirty", "goal", "met", "Rss", "Pss", "Anonymous"),
              [(kb(e["Private_Dirty"]), "under %s" % kb(GOAL_EXECD_PRIVATE_KB),
                verdict(e["Private_Dirty"] < GOAL_EXECD_PRIVATE_KB),
                kb(e.get("Rss", 0)), kb(e.get("Pss", 0)),
                kb(e.get("Anonymous", 0)))])

    # 5
    hook = ("; the read interval was shortened to %g s through the test "
            "hook %s" % (a.collectd_interval, MIN_INTERVAL_HOOK)
            if a.collectd_interval < 10 else " (a read every %g s, no test "
            "hook)" % a.collectd_interval)
    rep.add("## 5. collectd with the plugin", "",
            "Debian's collectd (`collectd -f`) with `build/src/.libs/"
            "ecoflow.so` (PluginDir switched to a copy), `Interval %g`%s, "
            "the plugin's default configuration with `Discover true` "
            "(%d PowerOceans, no latency), logfile and unixsock loaded, no "
            "write plugin and no csv: a PostCacheChain stops every value "
            "after collectd's cache. Figures after the first read and %d "
            "more: CPU (utime+stime of the whole daemon, /proc/PID/stat) "
            "over those %d reads divided by the quota/all answers served "
            "in them; values: the identifiers `LISTVAL` lists, per device. "
            "Exit status %d, %d error lines in its log." % (
                a.collectd_interval, hook, a.devices, a.collectd_reads,
                a.collectd_reads, cd["rc"], cd["log_errors"]), "")
    rep.table(("figure", "measured", "goal", "met"),
              [("VmRSS", kb(cd_rss), "under %s" % kb(GOAL_COLLECTD_RSS_KB),
                verdict(cd_rss < GOAL_COLLECTD_RSS_KB)),
               ("VmHWM / RssAnon / Private_Dirty",
                "%s / %s / %s" % (kb(cd["status"].get("VmHWM", 0)),
                                  kb(cd["status"].get("RssAnon", 0)),
                                  kb(cd["memory"].get("Private_Dirty", 0))),
                "", ""),
               ("CPU per device and read (whole daemon)", ms(cd_cpu),
                "under %g ms" % GOAL_COLLECTD_CPU_MS,
                verdict(cd_cpu * 1000 < GOAL_COLLECTD_CPU_MS)),
               ("device reads measured, in", "%d in %.1f s (%s CPU)" % (
                   cd["device_reads"], cd["seconds"], ms(cd["cpu_s"])),
                "", ""),
               ("values (identifiers) per device", "%.1f (%d for %d devices)"
                % (cd["values"] / max(cd["instances"], 1), cd["values"],
                   cd["instances"]), "the catalog's metrics", "-"),
               ("identifiers by type", ", ".join(
                   "%s %d" % kv for kv in list(cd["by_type"].items())[:8]),
                "", "")])

    # 6
    rep.add("## 6. Side by side: a Python poller", "",
            "`bench/python_poller.py`, written as EcoFlow's examples go: "
            "`requests.get` (a new connection each time) signed with "
            "`hmac`/`hashlib`, `device/list` then `quota/all` per device, "
            "one request after another, one line of line protocol per "
            "device; run with %s, %d run%s per N. Ratios are C / Python." % (
                sys.executable, a.python_repeat,
                "" if a.python_repeat == 1 else "s"), "")
    rows = []
    for n in a.sizes:
        c, p = r["telegraf"][n], r["python"][n]
        rows.append((n, ms(c.wall_s), ms(p.wall_s),
                     "%.3f" % (c.wall_s / p.wall_s),
                     ms(c.cpu_median_s / n), ms(p.cpu_median_s / n),
                     "%.3f" % (c.cpu_median_s / p.cpu_median_s),
                     kb(c.maxrss_max_kb), kb(p.maxrss_max_kb),
                     "%.3f" % (c.maxrss_max_kb / p.maxrss_max_kb)))
    rep.table(("N", "wall C", "wall Python", "ratio", "CPU/device C",
               "CPU/device Python", "ratio", "max RSS C", "max RSS Python",
               "ratio"), rows)

    # 7
    cap = r["capacity"]
    rep.add("## 7. Devices per agent at %d s on one core"
            % CAPACITY_INTERVAL_S, "",
            "N = min(T / c, C x T / (rho x L)) with T = %d s, c = %s (CPU "
            "per device, N = %d), C = %d (default --max-concurrent), L = %d "
            "ms (the latency per request), rho = %.2f (the measured wall "
            "time over the bound at N = %d): CPU allows %d, the requests "
            "in flight %d, so **%d devices** per agent (one account, this "
            "latency)." % (CAPACITY_INTERVAL_S, ms(per_dev_cpu), max(a.sizes),
                           MAX_CONCURRENT, a.latency_ms, cap["rho"],
                           max(a.sizes), cap["cpu_bound"], cap["wall_bound"],
                           cap["devices"]), "")
    rep.add("Whole run: %.0f s." % r["seconds"])
    return rep.text()


def live_size(answer):
    """Whether the answer (bytes, keys, values) is of the live size."""
    return 300 <= answer[1] <= 400 and 10000 <= answer[0] <= 16000


def capacity(per_device_cpu_s, rho, latency_s):
    cpu_bound = int(CAPACITY_INTERVAL_S / per_device_cpu_s)
    wall_bound = int(MAX_CONCURRENT * CAPACITY_INTERVAL_S / (rho * latency_s))
    return {"cpu_bound": cpu_bound, "wall_bound": wall_bound, "rho": rho,
            "devices": min(cpu_bound, wall_bound)}


# -- main ---------------------------------------------------------------------

def sizes(text):
    return sorted({int(x) for x in text.split(",") if x.strip()})


def measure(args, work):
    r = {"machine": machine(), "args": args}
    started = time.monotonic()

    def step(text):
        print("bench: [%4.0f s] %s" % (time.monotonic() - started, text),
              file=sys.stderr, flush=True)

    answer = os.path.join(work, "quota-all.json")
    with simharness.Sim(generated=args.devices,
                        latency_ms=args.latency_ms) as sim:
        r["answer"] = save_answer(sim, answer)
        r["telegraf"], r["python"] = {}, {}
        for n in args.sizes:
            step("ecoflow-telegraf, %d devices, %d runs" % (n, args.repeat))
            r["telegraf"][n] = median_child(
                [telegraf_poll(sim, n, work, "telegraf-%d-%d" % (n, i))
                 for i in range(args.repeat)])
        for n in args.sizes:
            step("python poller, %d devices, %d run(s)"
                 % (n, args.python_repeat))
            r["python"][n] = median_child(
                [python_poll(sim, n, work, "python-%d-%d" % (n, i))
                 for i in range(args.python_repeat)])
    with simharness.Sim(generated=args.devices) as sim:
        step("callgrind: ecoflow-telegraf, %s devices"
             % " and ".join(map(str, args.callgrind_sizes)))
        r["instructions_per_device"], r["telegraf_totals"] = \
            telegraf_instructions(sim, args.callgrind_sizes, work)
        step("json-c alone: time and callgrind")
        r["floor_instructions"], r["floor_seconds"], r["floor_totals"] = \
            floor_figures(answer, work, args.floor_iterations,
                          args.floor_callgrind)
        step("execd: %d polls of %d devices" % (args.execd_polls,
                                                args.devices))
        r["execd"] = execd_memory(sim, args.devices, args.execd_polls, work)
        step("collectd: %d devices, %d reads" % (args.devices,
                                                 args.collectd_reads + 1))
        r["collectd"] = collectd_fleet(sim, args.devices, args.collectd_reads,
                                       args.collectd_interval, work)
    big = max(args.sizes)
    rho = max(1.0, r["telegraf"][big].wall_s
              / bound_s(big, args.latency_ms / 1000))
    r["capacity"] = capacity(r["telegraf"][big].cpu_median_s / big, rho,
                             args.latency_ms / 1000)
    r["load_end"] = os.getloadavg()
    r["seconds"] = time.monotonic() - started
    return r


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[2:]))
    parser.add_argument("--output", help="also write the table here "
                        "(make bench: bench/RESULTS.md in the source tree)")
    parser.add_argument("--sizes", type=sizes, default=[1, 10, 100, 1000],
                        help="device counts of the polls (default "
                        "1,10,100,1000); the largest is the fleet of the "
                        "simulator, execd and collectd")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each ecoflow-telegraf poll (median)")
    parser.add_argument("--python-repeat", type=int, default=1)
    parser.add_argument("--callgrind-sizes", type=sizes, default=[10, 100])
    parser.add_argument("--floor-iterations", type=int, default=2000)
    parser.add_argument("--floor-callgrind", type=sizes, default=[10, 110])
    parser.add_argument("--execd-polls", type=int, default=5)
    parser.add_argument("--collectd-reads", type=int, default=3,
                        help="reads measured after the first")
    parser.add_argument("--collectd-interval", type=float, default=10,
                        help="collectd's Interval (s); under 10 through "
                        "the test hook " + MIN_INTERVAL_HOOK)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (outputs, logs)")
    args = parser.parse_args()
    args.devices = max(args.sizes)
    if len(args.callgrind_sizes) != 2 or len(args.floor_callgrind) != 2:
        parser.error("--callgrind-sizes and --floor-callgrind take two "
                     "numbers")
    if args.callgrind_sizes[1] > args.devices:
        parser.error("--callgrind-sizes beyond the largest of --sizes")

    missing = missing_parts()
    if missing:
        for what, where, how in missing:
            print("bench: missing %s (%s): %s" % (what, where, how),
                  file=sys.stderr)
        print("bench: nothing measured", file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="ecoflow-bench.")
    ok = False
    try:
        figures = measure(args, work)
        ok = True
    except (BenchError, simharness.SimError) as error:
        print("bench: FAILED: %s" % error, file=sys.stderr)
        return 1
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("bench: work directory kept: %s" % work, file=sys.stderr)
    text = render(figures)
    print(text)
    if args.output:
        with open(args.output, "w") as out:
            out.write(text)
        print("bench: written to %s" % args.output, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
