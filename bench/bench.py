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
   real quota/all answer, the JSON text in its bp_addr.* strings
   included, in instructions (callgrind, the same slope) and
   CPU time; the ratio of (2) to it.
   Instructions on two kinds of answer (issue 22): the live-size
   PowerOcean's, most of whose values the catalog does not know, and the
   same device's without its numeric groups (few unknown values), with
   where each device's instructions go (by object file).
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
8. MQTT push mode (issue 11), through a real mosquitto on loopback:
   ecoflow-telegraf --execd --mqtt against ecoflow-sim publishing for
   every device once a second; the latency from publish to line protocol
   for --mqtt-latency-devices (100), through a broker with TCP_NODELAY and
   through mosquitto's defaults (Nagle's algorithm); the CPU per message
   of ecoflow-telegraf, the broker and the simulator, messages per second
   and losses for --mqtt-devices (1000) through one connection; collectd
   (MQTT true) at the same load; --mqtt-bursts (3) bursts of
   --mqtt-burst-messages (20,000) PowerOcean messages taken by
   ecoflow-telegraf and mosquitto_sub side by side: the CPU per message of
   each, the messages each received and where the others were lost (the
   broker, or the client). Without mosquitto the section says in the
   table that it was skipped.
9. MQTT push mode against a broker and a reader that misbehave (issue
   19), in both front ends, through tests/e2e/mqtt_fault_scenario.py (the
   scenarios test_mqtt_faults.py checks with generous bounds): the CPU
   over broker outages of 0, 2 and 10 s and the delay of the next message
   after the broker's return; a broker down from the start; brokers that
   never answer TLS or CONNECT (time to say so, attempts, a stop meanwhile);
   RSS growth under a flood of never-seen keys; the lines and
   notifications of a status flood; a stdout nobody reads (RSS growth,
   SIGTERM and end of stdin); a resolver that never answers (as root).
10. A fleet (issue 22): one account of --fleet-devices (100,000) in the
   simulator, shared by --fleet-shards (8) agents; one of them,
   ecoflow-telegraf --execd --shard 0/8 --max-concurrent 128, polls twice:
   the first poll asks device/list (its answer over 8 MB) and reads the
   shard, the second only reads it. Wall time and CPU of each poll and of
   its list part (until the first quota/all request), memory after each.

--only mqtt (sections 8 and 9), burst (section 8's bursts side by side
alone), faults (9 alone), fleet (10) or poll run only those sections; a
partial report goes to stdout, never to --output (make bench: bench/RESULTS.md), e.g. from the
build directory:

    top_builddir=$PWD top_srcdir=$PWD/.. python3 ../bench/bench.py --only mqtt

Exit status: 0 when the run completed (goals met or not: the table says),
1 when a measurement failed, 2 when a part is missing (the message says
which and how to get it), --only mqtt without mosquitto included.
"""

import argparse
import bisect
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
import mqtt_fault_scenario  # noqa: E402
import mqttharness  # noqa: E402
import simharness  # noqa: E402
from harness.collectd import STOCK_PLUGINS, conf_head  # noqa: E402
from soakkit import write_private  # noqa: E402

SIM = os.path.join(TOP_BUILDDIR, "src", "ecoflow-sim")
TELEGRAF = os.path.join(TOP_BUILDDIR, "src", "ecoflow-telegraf")
PLUGIN = os.path.join(TOP_BUILDDIR, "src", ".libs", "ecoflow.so")
FLOOR = os.path.join(TOP_BUILDDIR, "bench", "jsonc_floor")
RUNSTAT = os.path.join(TOP_BUILDDIR, "bench", "runstat")
POLLER = os.path.join(HERE, "python_poller.py")
COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
MOSQUITTO = (shutil.which("mosquitto")
             or shutil.which("mosquitto", path="/usr/sbin:/sbin")
             or "/usr/sbin/mosquitto")
CONFIG_H = os.path.join(TOP_BUILDDIR, "config.h")
VALGRIND = shutil.which("valgrind") or "valgrind"
CALLGRIND_ANNOTATE = shutil.which("callgrind_annotate")
MIN_INTERVAL_HOOK = "ECOFLOW_TEST_MIN_INTERVAL_MS"
QUOTA_ALL = "/iot-open/sign/device/quota/all"
DEVICE_LIST = "/iot-open/sign/device/list"
MAX_CONCURRENT = 8  # ecoflow-telegraf's and the plugin's default
CAPACITY_INTERVAL_S = 30

# The goals of issue 12.
GOAL_WALL_RATIO = 1.2          # x ceil(N / max-concurrent) x latency
GOAL_FLOOR_RATIO = 2.0         # x json-c alone, CPU time
GOAL_INSTRUCTIONS_RATIO = 1.5  # x json-c alone, instructions (issue 22)
GOAL_EXECD_PRIVATE_KB = 4096
GOAL_COLLECTD_RSS_KB = 100 * 1024
GOAL_COLLECTD_CPU_MS = 1.0


class BenchError(Exception):
    """A measurement failed; the message says which and why."""


# -- prerequisites ----------------------------------------------------------

# The sections --only picks: 1 to 7 (polling), 8 (push mode), 9 (push
# mode's faults; mqtt includes it), 10 (a fleet: one account, 8 agents).
SECTIONS = {"poll": "the HTTP poller (sections 1-7)",
            "mqtt": "MQTT push mode (sections 8 and 9)",
            "burst": "MQTT push mode's bursts side by side (section 8's "
                     "last table)",
            "faults": "MQTT push mode's faults (section 9)",
            "fleet": "one account of 100,000 devices in 8 shards "
                     "(section 10)"}


def missing_parts(only):
    """(what, why, how to get it) of every part the run of the sections in
    only needs and lacks. Section 8 needs only the first two: without
    mosquitto (or collectd) it says in its table what it skipped."""
    missing = []
    parts = (
        (SIM, "ecoflow-sim", "configure without --disable-sim, make"),
        (TELEGRAF, "ecoflow-telegraf",
         "configure without --disable-telegraf, make"),
        (PLUGIN, "the collectd plugin ecoflow.so",
         "configure without --disable-collectd, make"),
        (FLOOR, "bench/jsonc_floor", "make bench/jsonc_floor"),
        (RUNSTAT, "bench/runstat", "make bench/runstat"),
        (COLLECTD, "collectd", "contrib/deps.sh bench (collectd-core)"),
        (STOCK_PLUGINS + "/unixsock.so", "collectd's unixsock plugin",
         "contrib/deps.sh bench (collectd-core)"))
    for path, what, how in parts if "poll" in only else parts[:2]:
        if not os.access(path, os.R_OK):
            missing.append((what, path, how))
    if "poll" in only and shutil.which("valgrind") is None:
        missing.append(("valgrind (callgrind)", "not in PATH",
                        "contrib/deps.sh bench (valgrind)"))
    if not only & {"poll", "fleet"}:
        return missing
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
    return simharness.generated_serials(n)


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

def signed_get(sim, path, params=None):
    """The answer of sim to a signed GET of path, as a client asks."""
    import python_poller
    import requests
    return requests.get(sim.base_url + path, params=params, timeout=120,
                        headers=python_poller.sign_headers(
                            sim.access_key, sim.secret_key, params))


def save_answer(sim, path):
    """Writes the body of the simulator's real quota/all answer for one
    device to path; returns (bytes, quota keys, values with nested ones)."""
    import python_poller
    params = {"sn": serials(1)[0]}
    answer = signed_get(sim, QUOTA_ALL, params)
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
    child.callgrind = out
    return child


# json-c's hash tables take a random seed in each process, so how often
# keys collide, and with it a count, moves from run to run (a few thousand
# instructions a device of the live shape): each count is the median run.
CALLGRIND_RUNS = 3


def callgrind_median(argv_of, env, work, name, check=None):
    """callgrind_total of CALLGRIND_RUNS runs (argv_of() gives each run's
    argv; check(child) raises when a run went wrong), their files under
    name, name-run2, ...: the median run."""
    runs = []
    for i in range(CALLGRIND_RUNS):
        child = callgrind_total(argv_of(), env, work,
                                name if i == 0 else "%s-run%d" % (name, i + 1))
        if check is not None:
            check(child)
        runs.append(child)
    ordered = sorted(runs, key=lambda c: c.instructions)
    return ordered[len(ordered) // 2]


def line_fields(line):
    """The number of fields of one line of line protocol."""
    unquoted = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', line)
    parts = re.split(rb"(?<!\\) ", unquoted.strip())
    return len(parts[1].split(b",")) if len(parts) > 1 else 0


def values_per_device(path, n):
    """(values published, of them unknown to the catalog) per device of a
    poll's line protocol: ecoflow_read's published, ecoflow_raw's
    fields."""
    published = unknown = 0
    with open(path, "rb") as text:
        for line in text:
            if line.startswith(b"ecoflow_read,"):
                found = re.search(rb"published=(\d+)i", line)
                published += int(found.group(1)) if found else 0
            elif line.startswith(b"ecoflow_raw,"):
                unknown += line_fields(line)
    return published / n, unknown / n


# Where the instructions of a poll go, by the object file that runs them:
# (what the report calls it, how object files' names start).
OBJECT_GROUPS = (("json-c", ("libjson-c",)),
                 ("libc (malloc, strtod, string functions)", ("libc.",)),
                 ("libcurl, OpenSSL and the rest of HTTP",
                  ("libcurl", "libssl", "libcrypto", "libnghttp", "libz",
                   "libidn", "libpsl", "libssh", "librtmp", "libbrotli",
                   "libzstd", "libgnutls", "libnettle", "libhogweed",
                   "libgmp", "libp11", "libtasn1", "libunistring",
                   "libffi", "libk5", "libkrb5", "libgssapi", "liblber",
                   "libldap", "libsasl", "libcom_err", "libkeyutils",
                   "libresolv")),
                 ("ecoflow-telegraf's own code", ("ecoflow-telegraf",)))


def object_group(name):
    for label, starts in OBJECT_GROUPS:
        if name.startswith(starts):
            return label
    return "other (the dynamic loader...)"


def annotated_functions(path, inclusive=False):
    """(cost, "file:function [object]") for each function callgrind_annotate
    lists in a callgrind output: its self cost, or its inclusive one."""
    listing = subprocess.run(
        [CALLGRIND_ANNOTATE, "--auto=no", "--threshold=100"]
        + (["--inclusive=yes"] if inclusive else []) + [path],
        capture_output=True, text=True).stdout
    for line in listing.splitlines():
        found = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)$", line)
        if found is not None and "PROGRAM TOTALS" not in line and \
                ":" in found.group(2):
            yield int(found.group(1).replace(",", "")), found.group(2)


def instructions_by_group(path):
    """The instructions (self cost) of a callgrind output by OBJECT_GROUPS;
    functions inlined from headers, which callgrind_annotate shows without
    an object file, are the program's own."""
    totals = {}
    for cost, function in annotated_functions(path):
        where = re.search(r"\[([^\]]+)\]$", function)
        group = object_group(os.path.basename(where.group(1)) if where
                             else "ecoflow-telegraf")
        totals[group] = totals.get(group, 0) + cost
    return totals


# Where a device's instructions go, by stage of a poll: the functions whose
# inclusive cost a stage is, (source file, function) as callgrind_annotate
# names them.
STAGE_FUNCTIONS = {
    "parse": ("ef_envelope.c", "ef_envelope_parse"),
    "metrics": ("ef_metric.c", "ef_metrics_of_json"),
    "walk": ("ef_sample.c", "ef_walker_walk"),
    "values": ("ef_metric.c", "on_leaf"),
    "fields": ("sink.c", "on_metric"),
    "lines": ("sink.c", "on_reading_end"),
}


def instructions_by_function(path):
    """The inclusive cost of each of STAGE_FUNCTIONS in a callgrind output;
    None for one that is not in it (renamed, or never run)."""
    totals = dict.fromkeys(STAGE_FUNCTIONS)
    for cost, function in annotated_functions(path, inclusive=True):
        found = re.match(r"(\S+):(\w+)(?=\s|$)", function)
        if found is None:
            continue
        where = (os.path.basename(found.group(1)), found.group(2))
        for stage, stage_function in STAGE_FUNCTIONS.items():
            if where == stage_function and totals[stage] is None:
                totals[stage] = cost
    return totals


def instructions_by_stage(per_device, inclusive):
    """A device's instructions by stage, from the slope of STAGE_FUNCTIONS'
    inclusive costs: each stage's own share, so that they add up to
    per_device. The values' fields include those of fallback rows, which
    are published after the walk."""
    walk_only = inclusive["walk"] - inclusive["values"]
    return {
        "the answer's JSON tree (json-c)": inclusive["parse"],
        "the walk: paths, and the packs' JSON parsed by json-c": walk_only,
        "the catalog: lookups, checks, names":
            inclusive["metrics"] - walk_only - inclusive["fields"],
        "line protocol: fields into their series": inclusive["fields"],
        "line protocol: the lines written (and the reading's own point)":
            inclusive["lines"],
        "the rest: HTTP (libcurl, signing), the engine, freeing the answer":
            per_device - inclusive["parse"] - inclusive["metrics"]
            - inclusive["lines"],
    }


def telegraf_instructions(sim, sizes, work, name="telegraf"):
    """Instructions per device: the slope between polls of sizes[0] and
    sizes[1] devices under callgrind; the two totals; the values published
    and unknown per device; the slope by OBJECT_GROUPS (empty without
    callgrind_annotate)."""
    totals, children = [], []
    for n in sizes:
        def poll_argv(n=n):
            sim.set_clock(advance=60)
            return [TELEGRAF, "--max-concurrent", str(MAX_CONCURRENT),
                    "--timeout", "120"] + sn_args(n)

        def check(child, n=n):
            read = count_lines(child.stdout, b"ecoflow_read,")
            if child.rc != 0 or read != n:
                raise BenchError("callgrind poll of %d: exit status %d, %d "
                                 "read\n%s" % (n, child.rc, read,
                                                tail(child.stderr)))
        child = callgrind_median(poll_argv, client_env(sim), work,
                                 "callgrind-%s-%d" % (name, n), check)
        totals.append(child.instructions)
        children.append(child)
    per_device = (totals[1] - totals[0]) / (sizes[1] - sizes[0])
    by_group, by_stage = {}, {}
    if CALLGRIND_ANNOTATE is not None:
        small, big = (instructions_by_group(c.callgrind) for c in children)
        by_group = {group: (big.get(group, 0) - small.get(group, 0))
                    / (sizes[1] - sizes[0]) for group in big}
        small, big = (instructions_by_function(c.callgrind)
                      for c in children)
        missing = sorted(stage for stage in big
                         if big[stage] is None or small[stage] is None)
        if missing:
            sys.stderr.write("bench: no stages: callgrind names none of %s\n"
                             % ", ".join("%s:%s" % STAGE_FUNCTIONS[stage]
                                         for stage in missing))
        else:
            by_stage = instructions_by_stage(per_device, {
                stage: (big[stage] - small[stage]) / (sizes[1] - sizes[0])
                for stage in big})
    return (per_device, totals, values_per_device(child.stdout, n),
            by_group, by_stage)


def floor_figures(answer, work, iterations, callgrind_iterations,
                  name="floor"):
    """json-c alone: (instructions per answer, CPU seconds per answer, the
    two callgrind totals)."""
    child = run_child([FLOOR, answer, str(iterations)], dict(os.environ),
                      work, name, 600)
    if child.rc != 0:
        raise BenchError("jsonc_floor: exit status %d\n%s"
                         % (child.rc, tail(child.stderr)))
    with open(child.stdout) as text:
        report = json.loads(text.read())
    totals = []
    for k in callgrind_iterations:
        def check(run, k=k):
            if run.rc != 0:
                raise BenchError("jsonc_floor %d under callgrind: exit status "
                                 "%d\n%s" % (k, run.rc, tail(run.stderr)))
        run = callgrind_median(lambda k=k: [FLOOR, answer, str(k)],
                               dict(os.environ), work,
                               "callgrind-%s-%d" % (name, k), check)
        totals.append(run.instructions)
    per_answer = (totals[1] - totals[0]) / (callgrind_iterations[1]
                                            - callgrind_iterations[0])
    return per_answer, report["cpu_ns_per_answer"] / 1e9, totals


# The kinds of answer whose instructions section 2-3 counts: (what it is,
# the simulator's family).
ANSWER_KINDS = (("live size, many unknown values", "powerocean"),
                ("live shape, few unknown values", "poweroceanlean"))


def answer_kind(sim, label, args, work, name, step):
    """Section 2-3's figures for one kind of answer, the simulator's
    devices being of that kind."""
    step("callgrind: ecoflow-telegraf, %s devices, and json-c alone: %s"
         % (" and ".join(map(str, args.callgrind_sizes)), label))
    answer = os.path.join(work, name + ".json")
    kind = {"label": label, "answer": save_answer(sim, answer)}
    (kind["instructions"], kind["totals"], kind["values"], kind["by_group"],
     kind["by_stage"]) = telegraf_instructions(sim, args.callgrind_sizes,
                                               work, name)
    kind["floor_instructions"], kind["floor_seconds"], kind["floor_totals"] = \
        floor_figures(answer, work, args.floor_iterations,
                      args.floor_callgrind, "floor-" + name)
    return kind


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


def proc_status_kb(pid, keys=("VmRSS", "VmHWM", "RssAnon")):
    """Those of keys /proc/PID/status has, in kB."""
    with open("/proc/%d/status" % pid) as status:
        return {key: int(value.split()[0]) for key, _, value in
                (line.partition(":") for line in status) if key in keys}


def cpu_times(pid):
    """(user, sys) of pid (every thread) so far, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as text:
        fields = text.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid):
    """user+sys of pid (every thread) so far."""
    return sum(cpu_times(pid))


class LineCounter(threading.Thread):
    """Counts the lines of a stream that start with prefix; with keep, also
    keeps every line as (the wall time it was read, in ns, the line)."""

    def __init__(self, stream, prefix, keep=False):
        super().__init__(daemon=True)
        self.stream, self.prefix, self.count = stream, prefix, 0
        self.keep, self.kept = keep, []

    def run(self):
        for line in self.stream:
            if self.keep:
                self.kept.append((time.time_ns(), line))
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

def collectd_config(directory, sim, interval_s, options=()):
    """collectd.conf: the plugin's defaults (and options, lines of its
    block) with discovery of every device of sim, unixsock to count the
    values, no write plugin (values stop after the cache, so that nothing
    is logged as undeliverable); sim None: the same without the plugin."""
    os.makedirs(directory)
    plugin = ""
    if sim is not None:
        shutil.copy(PLUGIN, os.path.join(directory, "ecoflow.so"))
        more = "".join("  %s\n" % line for line in options)
        secret = os.path.join(directory, "ecoflow.secret")
        write_private(secret, sim.secret_key + "\n")
        plugin = f"""PluginDir "{directory}"
LoadPlugin ecoflow
<Plugin ecoflow>
  AccessKey "{sim.access_key}"
  SecretKeyFile "{secret}"
  Endpoint "{sim.base_url}"
  Discover true
{more}</Plugin>
"""
    conf = os.path.join(directory, "collectd.conf")
    write_private(conf, conf_head("bench", interval_s,
                                  os.path.join(directory, "collectd.log"),
                                  print_severity=True)
                  + f"""LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "{directory}/collectd.sock"
  SocketPerms "0600"
  SocketGroup "{grp.getgrgid(os.getgid()).gr_name}"
</Plugin>
PostCacheChain "Bench"
<Chain "Bench">
  Target "stop"
</Chain>
{plugin}""")
    return conf


def start_collectd(directory, conf, sim, hook_ms=None):
    """collectd -f with conf, its output in directory; the keys only in
    its configuration, as a user's would be (sim None: no keys)."""
    env = dict(os.environ)
    if sim is not None:
        env = client_env(sim, hook_ms=hook_ms)
    for variable in ("ECOFLOW_ACCESS_KEY", "ECOFLOW_SECRET_KEY",
                     "ECOFLOW_ENDPOINT"):
        env.pop(variable, None)
    with open(os.path.join(directory, "stdout"), "wb") as out:
        return subprocess.Popen([COLLECTD, "-f", "-C", conf], env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)


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
    conf = collectd_config(directory, sim, interval_s)
    hook = int(interval_s * 1000) if interval_s < 10 else None
    sim.reset_stats()
    quotas = lambda: request_counts(sim)[1]  # noqa: E731
    daemon = start_collectd(directory, conf, sim, hook)
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
        figures["status"] = proc_status_kb(daemon.pid)
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
                   by_type=count_types(ours),
                   bare=collectd_cache(identifiers, work))
    with open(os.path.join(directory, "collectd.log"),
              errors="replace") as log:
        figures["log_errors"] = sum(1 for line in log if "[error]" in line)
    return figures


def collectd_cache(identifiers, work, timeout=300):
    """collectd's own cost of holding identifiers: a collectd as section
    5's without the plugin, RssAnon (kB) before and after a PUTVAL of each
    of them through unixsock (every type the plugin uses has one gauge);
    returns (before, after)."""
    directory = os.path.join(work, "collectd-bare")
    conf = collectd_config(directory, None, 10)
    daemon = start_collectd(directory, conf, None)
    sock = os.path.join(directory, "collectd.sock")
    try:
        wait_for(lambda: os.path.exists(sock), 60, "a bare collectd's socket",
                 daemon)
        time.sleep(1)
        before = proc_status_kb(daemon.pid)["RssAnon"]
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(timeout)
            conn.connect(sock)
            stream = conn.makefile("rw")
            for start in range(0, len(identifiers), 500):
                batch = identifiers[start:start + 500]
                stream.write("".join('PUTVAL "%s" N:1\n' % i
                                     for i in batch))
                stream.flush()
                answers = [stream.readline() for _ in batch]
                if not all(a.startswith("0 ") for a in answers):
                    raise BenchError("PUTVAL: %s" % next(
                        a for a in answers if not a.startswith("0 ")))
        wanted = set(identifiers)
        wait_for(lambda: {line.split(" ", 1)[1] for line in
                          unixsock(sock, "LISTVAL")[1:]} >= wanted, 60,
                 "the %d identifiers in a bare collectd's cache"
                 % len(wanted), daemon)
        after = proc_status_kb(daemon.pid)["RssAnon"]
    except (BenchError, OSError, ValueError) as error:
        raise BenchError("bare collectd: %s\n%s" % (
            error, tail(os.path.join(directory, "collectd.log")))) from None
    finally:
        stop_process(daemon)
    return before, after


def count_types(identifiers):
    """How many identifiers of each collectd type."""
    counts = {}
    for identifier in identifiers:
        kind = identifier.split("/")[2].split("-", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


# -- 8: MQTT push mode --------------------------------------------------------

# The bench's own broker (mqttharness: TLS with a throwaway CA, passwords,
# an ACL of exact topics, as EcoFlow's), on loopback for as long as the
# section runs; these passwords open nothing else.
MQTT_ACCOUNT = "open-bench"
MQTT_PASSWORD = "bench-certificate-password"
MQTT_PUBLISHER = "bench-publisher"
MQTT_PUBLISHER_PASSWORD = "bench-publisher-password"
MQTT_PERIOD_MS = 1000  # every device publishes once a second
GOAL_MQTT_LATENCY_S = 1.0  # issue 11: values within a second
COLLECTD_PUSH_INTERVAL_S = 10
GOAL_BURST_RATIO = 2.0  # issue 22: x mosquitto_sub's CPU per message
# json-c alone on one burst message: the parses timed, and the two counts
# whose callgrind slope gives its instructions.
BURST_FLOOR_ITERATIONS = 200000
BURST_FLOOR_CALLGRIND = (1000, 3000)
SN_TAG = re.compile(rb",sn=([^, ]+)")


def mqtt_skip_reason():
    """Why the MQTT section cannot run here, or None."""
    if not os.access(MOSQUITTO, os.X_OK):
        return ("mosquitto is not installed (no %s): contrib/deps.sh bench "
                "(Debian package mosquitto)" % MOSQUITTO)
    for client in ("mosquitto_pub", "mosquitto_sub"):
        if shutil.which(client) is None:
            return ("%s is not installed: contrib/deps.sh bench (Debian "
                    "package mosquitto-clients)" % client)
    try:
        with open(CONFIG_H) as text:
            built = "#define HAVE_MOSQUITTO 1" in text.read()
    except OSError:
        built = False
    if not built:
        return ("ecoflow-telegraf was built without push mode (%s has no "
                "HAVE_MOSQUITTO): install libmosquitto-dev, configure, make"
                % CONFIG_H)
    return None


def collectd_skip_reason():
    """Why collectd cannot be measured here, or None."""
    for path in (PLUGIN, COLLECTD):
        if not os.access(path, os.R_OK):
            return "%s is missing" % path
    return None


def pid_of(harness):
    """The process id of a harness's daemon: simharness.Sim and
    mqttharness.Broker both keep their Popen as _process."""
    return harness._process.pid


def cpu_of(pids):
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def mqtt_broker(n, nodelay):
    """A broker for the first n of the simulator's devices: the account
    may read their topics, the simulator's publisher write them. nodelay:
    TCP_NODELAY on its clients' sockets (mosquitto's default is Nagle's
    algorithm: a message may wait for the subscriber's delayed ACK of the
    one before, up to 40 ms on Linux)."""
    sns = serials(n)
    return mqttharness.Broker(users=[
        (MQTT_ACCOUNT, MQTT_PASSWORD,
         mqttharness.device_topics(MQTT_ACCOUNT, sns)),
        (MQTT_PUBLISHER, MQTT_PUBLISHER_PASSWORD,
         mqttharness.device_topics(MQTT_ACCOUNT, sns, access="write"))],
        options=["set_tcp_nodelay true"] if nodelay else [])


def publishing_sim(broker, n, log):
    """ecoflow-sim with n devices publishing through broker, each message
    in log (--mqtt-publish-log)."""
    return simharness.Sim(generated=n, extra_args=broker.sim_options(
        MQTT_ACCOUNT, MQTT_PASSWORD, MQTT_PUBLISHER,
        MQTT_PUBLISHER_PASSWORD) + ["--mqtt-publish-log", log])


def mqtt_client_id(suffix):
    return "%s-%s" % (MQTT_ACCOUNT, suffix)


def wait_subscribed(broker, suffix, n, process, timeout=120):
    """Until the broker has acknowledged the quota and status topics of n
    devices to the client (mosquitto logs every SUBACK)."""
    text = "Sending SUBACK to %s\n" % mqtt_client_id(suffix)
    wait_for(lambda: broker.log().count(text) >= 2 * n, timeout,
             "the %d subscriptions of %s" % (2 * n, mqtt_client_id(suffix)),
             process)


def delivered(broker, suffix):
    """The quota messages the broker sent to the client."""
    text = "Sending PUBLISH to %s (" % mqtt_client_id(suffix)
    return sum(1 for line in broker.log().splitlines()
               if text in line and "/quota'" in line)


def publishing_window(sim, pids, seconds, warmup_s, settled):
    """Every device of sim publishes once a second: warmup_s, then a window
    of seconds measured (the CPU of pids and the wall time at each end, the
    HTTP reads in it); then publishing stops, and the wait lasts until
    settled() stops changing for a second (what is on its way arrives)."""
    started_ns = time.time_ns()
    sim.control("POST", "/sim/mqtt/periodic", {"every_ms": MQTT_PERIOD_MS})
    time.sleep(warmup_s)
    sim.reset_stats()
    first = (time.time_ns(), time.monotonic(), cpu_of(pids))
    time.sleep(seconds)
    last = (time.time_ns(), time.monotonic(), cpu_of(pids))
    reads = request_counts(sim)[1]
    sim.control("POST", "/sim/mqtt/periodic", {"every_ms": 0})
    state = sim.control("GET", "/sim/mqtt")
    seen = settled()
    while True:
        time.sleep(1)
        now = settled()
        if now == seen:
            break
        seen = now
    return {"started_ns": started_ns, "window_ns": (first[0], last[0]),
            "seconds": last[1] - first[1], "http_reads": reads,
            "cpu": {name: last[2][name] - first[2][name] for name in pids},
            "sim_skipped": state["skipped"],
            "sim_failures": state["publish_failures"],
            "sim_disconnects": state["disconnects"]}


def published_quota_messages(path):
    """ecoflow-sim's --mqtt-publish-log: its quota messages, oldest first,
    as (wall time in ns, serial number, group, shape)."""
    found = []
    with open(path) as text:
        for line in text:
            fields = line.split()
            if len(fields) != 5 or fields[3] == "status":
                continue
            whole, _, fraction = fields[0].partition(".")
            found.append((int(whole) * 1000000
                          + int((fraction + "000")[:3]) * 1000,
                          fields[2].split("/")[3], fields[4], fields[3]))
    return found


# A message's time in the publish log is taken after mosquitto_publish
# returned: on a busy machine the simulator's thread can lose the CPU in
# between, and the message arrives "before" it was sent.
MATCH_SLACK_NS = 100 * 1000000


def match_messages(published, kept, since_ns):
    """Which message each line read after since_ns came from: the latest
    message of the line's device (its sn tag) published before the line's
    stamp (ecoflow-telegraf's arrival time, whole milliseconds) plus
    MATCH_SLACK_NS; a device publishes once a second, so no doubt while
    messages take under 0.9 s. Returns per message of published None (no
    line) or [its lines, the wall time (ns) the last was read, its stamp
    (ns), how many different stamps (more than one: lines of two messages,
    a mismatch)], and the lines that match no message."""
    times = {}
    for index, (at, sn, _, _) in enumerate(published):
        times.setdefault(sn, ([], []))
        times[sn][0].append(at)
        times[sn][1].append(index)
    got, unmatched = [None] * len(published), 0
    for read_ns, line in kept:
        if read_ns < since_ns:
            continue
        tag = SN_TAG.search(line)
        mine = times.get(tag.group(1).decode()) if tag else None
        stamp = line.rsplit(b" ", 1)[-1].strip()
        k = -1
        if mine and stamp.isdigit():
            stamp = int(stamp)
            k = bisect.bisect_right(mine[0], stamp + MATCH_SLACK_NS) - 1
        if k < 0:
            unmatched += 1
            continue
        found = got[mine[1][k]] = got[mine[1][k]] or [0, 0, 0, 0]
        found[0] += 1
        found[1] = max(found[1], read_ns)
        found[3] += found[2] != stamp
        found[2] = max(found[2], stamp)
    return got, unmatched


def percentile(values, fraction):
    """The nearest-rank percentile (fraction 0.99: p99)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


LOST_SHOWN = 3  # messages without a line named in section 8


def nearest_sibling_ns(published, index):
    """How far (ns) the message at index is from the nearest other message
    of its device: under MATCH_SLACK_NS, lines of one stamp may have been
    matched to the other; None when the device sent no other."""
    at, sn = published[index][:2]
    gaps = [abs(other[0] - at) for k, other in enumerate(published)
            if other[1] == sn and k != index]
    return min(gaps) if gaps else None


def push_figures(published, got, window):
    """Messages, losses, rates and latencies of one run."""
    w0, w1 = window["window_ns"]
    inside = [i for i, (at, _, _, _) in enumerate(published)
              if w0 <= at < w1]
    arrived = [i for i in inside if got[i] is not None]
    figures = {"published": len(published),
               "received": sum(1 for g in got if g is not None),
               "lines": sum(g[0] for g in got if g is not None),
               "mismatched": sum(1 for g in got if g and g[3] > 1),
               "window_published": len(inside),
               "window_received": len(arrived),
               "groups": len({published[i][2] for i in inside}),
               "lost_messages": [
                   published[i] + (nearest_sibling_ns(published, i)
                                   if k < LOST_SHOWN else None,)
                   for k, i in enumerate(i for i, g in enumerate(got)
                                         if g is None)]}
    for key, slot in (("out", 1), ("stamp", 2)):
        delays = [(got[i][slot] - published[i][0]) / 1e9 for i in arrived]
        figures[key] = ((statistics.median(delays), percentile(delays, 0.99),
                         max(delays)) if delays else None)
    return figures


def telegraf_push(broker, n, seconds, warmup_s, work, name, timeout=600):
    """ecoflow-telegraf --execd --mqtt (discovery, its defaults) over a
    simulator of n devices, each publishing once a second; returns a dict
    of figures. name: the run's, in its files and its client id."""
    suffix = "bench-" + name
    log = os.path.join(work, "mqtt-%s.published" % name)
    err = open(os.path.join(work, "mqtt-%s.err" % name), "wb")
    with publishing_sim(broker, n, log) as sim:
        wait_for(lambda: sim.control("GET", "/sim/mqtt")["connected"], 30,
                 "the simulator's connection to the broker")
        process = subprocess.Popen(
            [TELEGRAF, "--execd", "--mqtt", "--ca-file", broker.cafile,
             "--mqtt-client-id-suffix", suffix], env=client_env(sim),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        lines = LineCounter(process.stdout, b"ecoflow_read,", keep=True)
        lines.start()
        try:
            process.stdin.write(b"\n")  # the one poll that seeds the state
            process.stdin.flush()
            wait_for(lambda: lines.count >= n, timeout,
                     "the poll that seeds %d devices" % n, process)
            wait_subscribed(broker, suffix, n, process)
            window = publishing_window(
                sim, {"telegraf": process.pid, "broker": pid_of(broker),
                      "sim": pid_of(sim)}, seconds, warmup_s,
                lambda: len(lines.kept))
            process.stdin.close()
            process.wait(timeout=60)
        except (BenchError, simharness.SimError,
                subprocess.TimeoutExpired) as error:
            raise BenchError("MQTT, %d devices: %s\n%s"
                             % (n, error, tail(err.name))) from None
        finally:
            stop_process(process)
            err.close()
    if process.returncode != 0:
        raise BenchError("MQTT, %d devices: exit status %d at the end of "
                         "stdin\n%s" % (n, process.returncode,
                                        tail(err.name)))
    with open(os.path.join(work, "mqtt-%s.out" % name), "wb") as out:
        out.writelines(b"%d %s" % kept for kept in lines.kept)
    published = published_quota_messages(log)
    got, unmatched = match_messages(published, lines.kept,
                                    window["started_ns"])
    figures = push_figures(published, got, window)
    figures.update(window, n=n, name=name, unmatched=unmatched,
                   delivered=delivered(broker, suffix),
                   errors=count_lines(err.name, b"E!"),
                   warnings=count_lines(err.name, b"W!"))
    return figures


def quiet_window(pids, seconds):
    """The CPU of pids in seconds without messages."""
    start = (time.monotonic(), cpu_of(pids))
    time.sleep(seconds)
    return {"seconds": time.monotonic() - start[0],
            "cpu": {k: v - start[1][k] for k, v in cpu_of(pids).items()}}


def collectd_push(broker, n, seconds, warmup_s, work, timeout=900):
    """collectd with the plugin (MQTT true, discovery, Interval 10) over a
    simulator of n devices: its CPU in a window of seconds without
    messages, in one with every device publishing once a second, and in
    one without again (the baseline is their mean: CPU time on a shared
    machine drifts). The reads after the first still grow collectd's cache
    a little: one more interval passes before the first window."""
    suffix = "bench-collectd"
    log = os.path.join(work, "mqtt-collectd.published")
    directory = os.path.join(work, "collectd-mqtt")
    with publishing_sim(broker, n, log) as sim:
        wait_for(lambda: sim.control("GET", "/sim/mqtt")["connected"], 30,
                 "the simulator's connection to the broker")
        conf = collectd_config(
            directory, sim, COLLECTD_PUSH_INTERVAL_S,
            options=["MQTT true", 'CAFile "%s"' % broker.cafile,
                     'MQTTClientIdSuffix "%s"' % suffix])
        sim.reset_stats()
        daemon = start_collectd(directory, conf, sim)
        try:
            wait_for(lambda: request_counts(sim)[1] >= n, timeout,
                     "collectd's first read", daemon)
            wait_subscribed(broker, suffix, n, daemon)
            time.sleep(COLLECTD_PUSH_INTERVAL_S)
            pids = {"collectd": daemon.pid, "broker": pid_of(broker),
                    "sim": pid_of(sim)}
            quiet = [quiet_window(pids, seconds)]
            window = publishing_window(sim, pids, seconds, warmup_s,
                                       lambda: delivered(broker, suffix))
            quiet.append(quiet_window(pids, seconds))
        except (BenchError, simharness.SimError, OSError) as error:
            raise BenchError("collectd, MQTT: %s\n%s" % (error, tail(
                os.path.join(directory, "collectd.log")))) from None
        finally:
            rc = stop_process(daemon)
    published = published_quota_messages(log)
    w0, w1 = window["window_ns"]
    window.update(quiet=quiet, rc=rc, published=len(published),
                  delivered=delivered(broker, suffix),
                  window_published=sum(1 for at, _, _, _ in published
                                       if w0 <= at < w1))
    with open(os.path.join(directory, "collectd.log"),
              errors="replace") as text:
        window["log_errors"] = sum(1 for line in text if "[error]" in line)
    return window


def measure_mqtt(args, work, step):
    """Section 8, or why it was skipped: the latency and CPU runs through a
    broker with TCP_NODELAY (as the simulator has), collectd's, then the
    latency run again through mosquitto's defaults (Nagle's algorithm)."""
    reason = mqtt_skip_reason()
    if reason is not None:
        print("bench: MQTT section SKIPPED: %s" % reason, file=sys.stderr)
        return {"skipped": reason}
    r, n = {}, args.mqtt_latency_devices
    with mqtt_broker(max(args.mqtt_devices, n), nodelay=True) as broker:
        version = re.search(r"mosquitto version (\S+)", broker.log())
        r["broker"] = version.group(1) if version else "unknown"
        step("MQTT: latency, %d devices, %g s" % (
            n, args.mqtt_latency_seconds))
        r["latency"] = telegraf_push(broker, n, args.mqtt_latency_seconds,
                                     args.mqtt_warmup, work, "latency")
        step("MQTT: CPU, %d devices, %g s" % (args.mqtt_devices,
                                              args.mqtt_seconds))
        r["cpu"] = telegraf_push(broker, args.mqtt_devices,
                                 args.mqtt_seconds, args.mqtt_warmup, work,
                                 "cpu")
        reason = collectd_skip_reason()
        if args.mqtt_collectd_seconds <= 0:
            r["collectd"] = {"skipped": "not asked (--mqtt-collectd-seconds "
                             "0)"}
        elif reason is not None:
            r["collectd"] = {"skipped": reason}
        else:
            step("MQTT: collectd, %d devices, 3 x %g s"
                 % (args.mqtt_devices, args.mqtt_collectd_seconds))
            r["collectd"] = collectd_push(broker, args.mqtt_devices,
                                          args.mqtt_collectd_seconds,
                                          args.mqtt_warmup, work)
    with mqtt_broker(n, nodelay=False) as broker:
        step("MQTT: latency through mosquitto's defaults, %d devices, %g s"
             % (n, args.mqtt_latency_seconds))
        r["nagle"] = telegraf_push(broker, n, args.mqtt_latency_seconds,
                                   args.mqtt_warmup, work, "nagle")
    r["latency"]["nodelay"] = r["cpu"]["nodelay"] = True
    r["nagle"]["nodelay"] = False
    r["burst"] = mqtt_burst(args, work, step)
    return r


# -- 8, the burst: ecoflow-telegraf and mosquitto_sub side by side ----------

# A PowerOcean's message of its three phases, five values each: the lines
# of one message are its phases' (ecoflow_phase, phase=a, b, c).
BURST_PHASES = ("pcsAPhase", "pcsBPhase", "pcsCPhase")
BURST_SUFFIX, BURST_SUB_SUFFIX = "bench-burst", "bench-burst-sub"
# Phase a's active power: the message's number (every message differs).
BURST_NUMBER = re.compile(
    rb"^ecoflow_phase,.*,phase=a,.*[ ,]active_power=(\d+)")
BURST_DROPPED = "Outgoing messages are being dropped for client %s."


def burst_payloads(count):
    """count messages of the typeCode shape, every value of each its own
    (nothing the same twice in a row); phase a's actPwr is its number."""
    payloads = []
    for i in range(count):
        params = {phase: {"vol": 225 + (i * 7 + k) % 100 / 10,
                          "amp": 3 + (i * 3 + k) % 400 / 100,
                          "actPwr": i if k == 0 else 700 + (i + k) % 300,
                          "reactPwr": -20 + (i + k) % 40,
                          "apparentPwr": 720 + (i * 5 + k) % 300}
                  for k, phase in enumerate(BURST_PHASES)}
        payloads.append(json.dumps(
            {"id": 10 ** 9 + i, "version": "1.0", "moduleType": 1,
             "typeCode": "pcsPhase", "params": params},
            separators=(",", ":")))
    return payloads


def piped_to_file(argv, env, path, err):
    """argv started with its stdout a pipe that cat copies into path (as
    Telegraf's execd reads a pipe): (the process, cat)."""
    out = open(path, "wb")
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=out)
    out.close()
    try:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                   stdout=cat.stdin, stderr=err)
    finally:
        cat.stdin.close()
    return process, cat


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def lines_between(path, begin, end):
    """The lines of path from byte begin up to byte end (None: its end)."""
    with open(path, "rb") as text:
        text.seek(begin)
        return text.read(None if end is None else end - begin).splitlines()


def burst_numbers(path, begin, end):
    """The message numbers of ecoflow-telegraf's lines in path between
    bytes begin and end, and how many lines of phases it wrote there."""
    numbers, lines = set(), 0
    for line in lines_between(path, begin, end):
        if line.startswith(b"ecoflow_phase,"):
            lines += 1
            found = BURST_NUMBER.match(line)
            if found:
                numbers.add(int(found.group(1)))
    return numbers, lines


def burst_sent(log, client_id, topic):
    """PUBLISHes of topic in the broker's log (a part of it) to client_id,
    or from anyone (client_id None)."""
    what = ("Sending PUBLISH to %s (" % client_id if client_id
            else "Received PUBLISH from")
    return sum(1 for line in log.splitlines()
               if what in line and "'%s'" % topic in line)


def one_burst(broker, topic, payloads, pids, outputs, timeout):
    """One burst through broker; the CPU of pids over it, and where in the
    outputs and the broker's log it began and ended."""
    begin = ([file_size(path) for path in outputs], len(broker.log()))
    before = {k: cpu_times(pid) for k, pid in pids.items()}
    started = time.monotonic()
    published = broker.publish_lines(MQTT_PUBLISHER, MQTT_PUBLISHER_PASSWORD,
                                     topic, payloads)
    publish_s = time.monotonic() - started
    if published.returncode != 0:
        raise BenchError("mosquitto_pub -l: exit status %d: %s" % (
            published.returncode, published.stderr))
    sizes, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = [file_size(path) for path in outputs]
        if now == sizes:
            break
        sizes = now
        time.sleep(1.5)
    after = {k: cpu_times(pid) for k, pid in pids.items()}
    settled = time.monotonic()
    return {"publish_s": publish_s, "seconds": settled - started,
            "cpu": {k: sum(after[k]) - sum(before[k]) for k in pids},
            "sys": {k: after[k][1] - before[k][1] for k in pids},
            "offsets": begin[0], "log": broker.log()[begin[1]:]}


def mqtt_burst(args, work, step, timeout=600):
    """--mqtt-bursts bursts of --mqtt-burst-messages messages each to one
    PowerOcean's quota topic (mosquitto_pub -l: as fast as the broker
    takes them) through one broker to ecoflow-telegraf --execd --mqtt and
    mosquitto_sub at once, both writing into a pipe that cat empties into
    a file; per burst, the CPU of each (utime+stime) from before it until
    their output stops growing, the messages each received, and where the
    others went."""
    count = args.mqtt_burst_messages
    sn = serials(1)[0]
    topic = "/open/%s/%s/quota" % (MQTT_ACCOUNT, sn)
    ours, theirs = (os.path.join(work, "burst-telegraf.out"),
                    os.path.join(work, "burst-sub.out"))
    err = open(os.path.join(work, "burst-telegraf.err"), "wb")
    sub_err = open(os.path.join(work, "burst-sub.err"), "wb")
    payloads = burst_payloads(count)
    telegraf_id = mqtt_client_id(BURST_SUFFIX)
    sub_id = mqtt_client_id(BURST_SUB_SUFFIX)
    running, bursts = [], []
    with mqtt_broker(1, nodelay=True) as broker:
        with publishing_sim(broker, 1, os.path.join(
                work, "burst.published")) as sim:
            try:
                wait_for(lambda: sim.control("GET", "/sim/mqtt")["connected"],
                         30, "the simulator's connection to the broker")
                process, cat = piped_to_file(
                    [TELEGRAF, "--execd", "--mqtt", "--ca-file",
                     broker.cafile, "--mqtt-client-id-suffix", BURST_SUFFIX],
                    client_env(sim), ours, err)
                running += [process, cat]
                process.stdin.write(b"\n")  # the poll that seeds the state
                process.stdin.flush()
                wait_subscribed(broker, BURST_SUFFIX, 1, process)
                home = broker._client_config(MQTT_ACCOUNT, MQTT_PASSWORD,
                                             None, "mosquitto_sub")
                sub, sub_cat = piped_to_file(
                    [mqttharness._tool("mosquitto_sub"), "-V", "mqttv311",
                     "-i", sub_id, "-t", topic],
                    dict(os.environ, XDG_CONFIG_HOME=home), theirs, sub_err)
                running += [sub, sub_cat]
                wait_for(lambda: broker.subscriptions(sub_id) >= 1, 60,
                         "mosquitto_sub's subscription", sub)
                wait_for(lambda: b"ecoflow_read," in open(ours, "rb").read(),
                         timeout, "the poll that seeds the device", process)
                pids = {"telegraf": process.pid, "sub": sub.pid,
                        "broker": pid_of(broker)}
                for i in range(args.mqtt_bursts):
                    step("MQTT: burst %d of %d, %d messages to "
                         "ecoflow-telegraf and mosquitto_sub"
                         % (i + 1, args.mqtt_bursts, count))
                    bursts.append(one_burst(broker, topic, payloads, pids,
                                            (ours, theirs), timeout))
                process.stdin.close()
                process.wait(timeout=60)
            except (BenchError, simharness.SimError,
                    subprocess.TimeoutExpired) as error:
                raise BenchError("MQTT burst: %s\n%s"
                                 % (error, tail(err.name))) from None
            finally:
                for child in running:
                    stop_process(child)
                err.close()
                sub_err.close()
    step("MQTT: json-c alone on one burst message")
    message = os.path.join(work, "burst-message.json")
    with open(message, "w") as text:
        text.write(payloads[count // 2])
    instructions, cpu, _ = floor_figures(message, work, BURST_FLOOR_ITERATIONS,
                                         BURST_FLOOR_CALLGRIND, "floor-burst")
    ends = [b["offsets"] for b in bursts[1:]] + [(None, None)]
    for b, end in zip(bursts, ends):
        numbers, lines = burst_numbers(ours, b["offsets"][0], end[0])
        log = b.pop("log")
        b.update(broker_received=burst_sent(log, None, topic), telegraf={
            "cpu": b["cpu"]["telegraf"], "sys": b["sys"]["telegraf"],
            "received": len(numbers & set(range(count))), "lines": lines,
            "delivered": burst_sent(log, telegraf_id, topic),
            "broker_dropped": (BURST_DROPPED % telegraf_id) in log}, sub={
            "cpu": b["cpu"]["sub"], "sys": b["sys"]["sub"],
            "received": sum(1 for line in lines_between(
                theirs, b["offsets"][1], end[1]) if line.startswith(b"{")),
            "delivered": burst_sent(log, sub_id, topic),
            "broker_dropped": (BURST_DROPPED % sub_id) in log})
    return {"messages": count, "bursts": bursts,
            "jsonc": {"instructions": instructions, "cpu": cpu,
                      "bytes": len(payloads[count // 2])},
            "bytes": sum(len(p) for p in payloads) / count,
            "warnings": count_lines(err.name, b"W!"),
            "errors": count_lines(err.name, b"E!"), "rc": process.returncode}


# -- 9: MQTT faults ------------------------------------------------------------

def measure_mqtt_faults(args, work, step):
    """Section 9, or why it was skipped: mqtt_fault_scenario's scenarios
    through ecoflow-telegraf and (when it is there) collectd, each with its
    figures as the scenario returns them."""
    reason = mqtt_skip_reason()
    if reason is not None:
        print("bench: MQTT faults SKIPPED: %s" % reason, file=sys.stderr)
        return {"skipped": reason}
    front_ends = [mqtt_fault_scenario.Telegraf]
    collectd = collectd_skip_reason()
    if collectd is None:
        front_ends.append(mqtt_fault_scenario.CollectdDaemon)
    hook = os.environ.get(MIN_INTERVAL_HOOK)
    os.environ[MIN_INTERVAL_HOOK] = "1000"  # collectd reads every second
    r = {"collectd_skipped": collectd, "by": {}}
    try:
        with mqtt_fault_scenario.broker_for() as broker:
            with mqtt_fault_scenario.sim_for(broker) as sim:
                wait_for(lambda: sim.control("GET", "/sim/mqtt")["connected"],
                         30, "the simulator's publisher", None)
                for front_end in front_ends:
                    name = front_end.name
                    f = r["by"][name] = {}
                    step("MQTT faults, %s: outages of 0, 2, 10 s" % name)
                    f["outages"] = mqtt_fault_scenario.outages(
                        work, sim, broker, front_end)
                    step("MQTT faults, %s: %d status flips" % (
                        name, args.mqtt_status_flips))
                    f["status"] = mqtt_fault_scenario.status_flood(
                        work, sim, broker, front_end, args.mqtt_status_flips)
                    step("MQTT faults, %s: 200 messages of 5000 new keys" %
                         name)
                    f["keys"] = mqtt_fault_scenario.key_flood(
                        work, sim, broker, front_end)
                    step("MQTT faults, %s: broker down from the start" % name)
                    f["down"] = mqtt_fault_scenario.down_from_start(
                        work, sim, broker, front_end)
                step("MQTT faults: ecoflow-telegraf's stdout not read")
                r["blocked"] = [mqtt_fault_scenario.blocked_stdout(
                    work, sim, broker, how)
                    for how in (signal.SIGTERM, "eof")]
            for front_end in front_ends:
                step("MQTT faults, %s: silent brokers" % front_end.name)
                r["by"][front_end.name]["silent"] = [
                    mqtt_fault_scenario.silent_broker(work, broker, front_end,
                                                      mode)
                    for mode in ("silent", "tls-silent")]
            reason = mqtt_fault_scenario.resolver_skip_reason()
            r["resolver_skipped"] = reason
            if reason is None:
                with mqtt_fault_scenario.SilentResolver(work) as resolver:
                    for front_end in front_ends:
                        step("MQTT faults, %s: a silent resolver" %
                             front_end.name)
                        r["by"][front_end.name]["resolver"] = \
                            mqtt_fault_scenario.silent_resolver(
                                work, broker, front_end, resolver)
    finally:
        if hook is None:
            del os.environ[MIN_INTERVAL_HOOK]
        else:
            os.environ[MIN_INTERVAL_HOOK] = hook
    return r


# -- 10: one account of 100,000 devices, 8 agents ----------------------------

FLEET_SHARD = 0  # the agent measured, of --fleet-shards


def fleet_poll(sim, process, counter, expected, timeout):
    """One poll of the execd agent process (a line on its stdin) until
    counter saw expected more devices: its wall time, its CPU, and the
    same up to the first quota/all request the simulator counted (the
    list's part, when the poll asks device/list first), the requests."""
    sim.reset_stats()
    sim.set_clock(advance=60)
    target = counter.count + expected
    cpu_at, started = cpu_seconds(process.pid), time.monotonic()
    process.stdin.write(b"\n")
    process.stdin.flush()
    first = {}

    def done():
        if not first and request_counts(sim)[1] > 0:
            first.update(wall_s=time.monotonic() - started,
                         cpu_s=cpu_seconds(process.pid) - cpu_at)
        return counter.count >= target

    wait_for(done, timeout, "a poll of %d devices" % expected, process)
    lists, quotas, in_flight = request_counts(sim)
    return {"wall_s": time.monotonic() - started,
            "cpu_s": cpu_seconds(process.pid) - cpu_at,
            "until_first_quota": first, "lists": lists, "quotas": quotas,
            "in_flight": in_flight, "memory": smaps_rollup_kb(process.pid),
            "status": proc_status_kb(process.pid)}


def measure_fleet(args, work, step):
    """Section 10: one agent (ecoflow-telegraf --execd --shard K/N, the
    README's plan) on an account of --fleet-devices, two polls: the first
    asks device/list and polls the shard, the second (the list fresh) only
    polls."""
    n, shards = args.fleet_devices, args.fleet_shards
    mine = sum(1 for sn in serials(n)
               if simharness.shard_of(sn, shards) == FLEET_SHARD)
    figures = {"devices": n, "shards": shards, "mine": mine,
               "load_start": os.getloadavg()}
    step("fleet: an account of %d devices, agent %d of %d (%d devices)"
         % (n, FLEET_SHARD, shards, mine))
    with simharness.Sim(generated=n, latency_ms=args.latency_ms,
                        start_timeout=120) as sim:
        listed = signed_get(sim, DEVICE_LIST)
        if listed.status_code != 200:
            raise BenchError("device/list: HTTP %d" % listed.status_code)
        figures["list_bytes"] = len(listed.content)
        err = open(os.path.join(work, "fleet.err"), "wb")
        process = subprocess.Popen(
            [TELEGRAF, "--execd", "--shard", "%d/%d" % (FLEET_SHARD, shards),
             "--max-concurrent", str(args.fleet_max_concurrent)],
            env=client_env(sim, hook_ms=1), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=err)
        counter = LineCounter(process.stdout, b"ecoflow_read,")
        counter.start()
        try:
            figures["polls"] = [
                fleet_poll(sim, process, counter, mine, args.fleet_timeout)
                for _ in range(2)]
            process.stdin.close()
            process.wait(timeout=60)
        except (BenchError, subprocess.TimeoutExpired) as error:
            raise BenchError("fleet: %s\n%s" % (error, tail(err.name))) \
                from None
        finally:
            stop_process(process)
            err.close()
        figures["rc"] = process.returncode
        with open(err.name, errors="replace") as text:
            figures["errors"] = sum(1 for line in text if "E!" in line)
    figures["load_end"] = os.getloadavg()
    return figures


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


def render_poll(r, rep):
    """Sections 1 to 7 into rep; returns the paragraphs that introduce
    them and their summary rows."""
    a, latency_s = r["args"], r["args"].latency_ms / 1000
    intro = ["Simulator: `ecoflow-sim --devices %d` (generated PowerOceans); "
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
            "instruction counts are the stable figures." % a.repeat, ""]

    # summary
    big, py = r["telegraf"][max(a.sizes)], r["python"][max(a.sizes)]
    per_dev_cpu = big.cpu_median_s / max(a.sizes)
    floor_s = r["kinds"][0]["floor_seconds"]
    cd = r["collectd"]
    cd_cpu = cd["cpu_s"] / cd["device_reads"]
    cd_rss = cd["status"]["VmRSS"]
    bare = cd["bare"]
    plugin_kb = cd["status"].get("RssAnon", 0) - bare[1]
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
    ]
    rows += [
        ("instructions per device (callgrind, slope %d to %d devices), %s"
         % (a.callgrind_sizes[0], a.callgrind_sizes[1], k["label"]),
         "%s (%.2fx json-c's %s)" % (mega(k["instructions"]),
                                     instruction_ratio(k),
                                     mega(k["floor_instructions"])),
         "within %gx of json-c alone with the embedded JSON (< %s)"
         % (GOAL_INSTRUCTIONS_RATIO,
            mega(GOAL_INSTRUCTIONS_RATIO * k["floor_instructions"])),
         verdict(instruction_ratio(k) <= GOAL_INSTRUCTIONS_RATIO))
        for k in r["kinds"]]
    rows += [
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
        ("collectd: the plugin's memory (RssAnon beyond collectd's own "
         "with the same %d identifiers)" % cd["values"],
         "%s; collectd's cache %s" % (kb(plugin_kb), kb(bare[1] - bare[0])),
         "(reported; issue 22)", "-"),
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
    summary = rows

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
            "`bench/jsonc_floor` parses the same devices' real quota/all "
            "answer (saved from a signed request) with "
            "`json_tokener_parse_ex` and a reused tokener, parses the JSON "
            "text inside its `bp_addr.*` strings with a second one (as the "
            "product must: per-pack values), and walks every value through "
            "its typed getter; instructions the same way (%d and %d "
            "parses), CPU time the median of 5 batches of %d parses. Two "
            "kinds of answer: the simulator's live-size PowerOcean "
            "(`--devices`), most of whose values the catalog does not know "
            "(its numeric groups `96_1.`, `20_1.`... and grid-code "
            "settings), and the same device without them (`--device "
            "SN:poweroceanlean`): the live shape with few unknown values. "
            "Callgrind counts are exact whatever the load; json-c's hash "
            "tables take a random seed in each process, which moves a count "
            "by how often keys collide (a few thousand instructions a "
            "device), so each count is the median of %d runs." % (
                a.callgrind_sizes[0], a.callgrind_sizes[1],
                a.callgrind_sizes[1] - a.callgrind_sizes[0],
                a.floor_callgrind[0], a.floor_callgrind[1],
                a.floor_iterations // 5, CALLGRIND_RUNS), "")
    rep.table(("answer", "bytes, top-level keys", "values published "
               "(unknown) per device", "ecoflow-telegraf per device",
               "json-c alone per answer", "ratio", "goal", "met"),
              [(k["label"], "%d, %d" % (k["answer"][0], k["answer"][1]),
                "%.0f (%.0f)" % tuple(k["values"]), mega(k["instructions"]),
                mega(k["floor_instructions"]),
                "%.2fx" % instruction_ratio(k),
                "within %gx" % GOAL_INSTRUCTIONS_RATIO,
                verdict(instruction_ratio(k) <= GOAL_INSTRUCTIONS_RATIO))
               for k in r["kinds"]])
    for k in r["kinds"]:
        if k.get("by_group"):
            rep.add("Where a device's instructions go, %s (callgrind's self "
                    "cost by object file, the same slope): %s." % (
                        k["label"], ", ".join(
                            "%s %s" % (group, mega(count)) for group, count
                            in sorted(k["by_group"].items(),
                                      key=lambda item: -item[1])
                            if abs(count) >= 5000)), "")
        if k.get("by_stage"):
            stages = k["by_stage"]
            output = sum(count for stage, count in stages.items()
                         if stage.startswith("line protocol"))
            without_output = k["instructions"] - output
            rep.add("The same by stage (callgrind's inclusive cost of each "
                    "stage's functions, the same slope): %s. Without line "
                    "protocol at all, a device would cost %s: %.2fx json-c "
                    "alone%s." % (
                        "; ".join("%s %s" % (stage, mega(count))
                                  for stage, count in stages.items()),
                        mega(without_output),
                        without_output / k["floor_instructions"],
                        ", past the goal: a cheaper output alone cannot "
                        "reach it" if without_output / k["floor_instructions"]
                        > GOAL_INSTRUCTIONS_RATIO else ""), "")
    rep.add("CPU time per device, the first kind of answer (the load of "
            "the machine moves it; see the note above). Besides the "
            "instructions above it holds the kernel's time (%.0f%% of the "
            "CPU time of the run of median wall time was system time: "
            "sockets, memory) and what the instructions cost on this busy "
            "machine (cache misses, other processes):"
            % (100 * big.sys_s / max(big.cpu_s, 1e-9)), "")
    rep.table(("figure", "ecoflow-telegraf per device", "json-c alone per "
               "answer", "ratio", "goal", "met"),
              [("CPU time (user+sys / N, N = %d)" % max(a.sizes),
                ms(per_dev_cpu), ms(floor_s),
                "%.1fx" % (per_dev_cpu / floor_s),
                "within %gx" % GOAL_FLOOR_RATIO,
                verdict(per_dev_cpu <= GOAL_FLOOR_RATIO * floor_s))])
    rep.add("callgrind totals: %s." % "; ".join(
        "%s: ecoflow-telegraf %s (%d devices), %s (%d devices), "
        "jsonc_floor %s, %s" % (
            k["label"], mega(k["totals"][0]), a.callgrind_sizes[0],
            mega(k["totals"][1]), a.callgrind_sizes[1],
            mega(k["floor_totals"][0]), mega(k["floor_totals"][1]))
        for k in r["kinds"]), "")

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
                "", ""),
               ("collectd's own cache: RssAnon of collectd without the "
                "plugin before / after a PUTVAL of the same %d identifiers; "
                "per identifier" % cd["values"],
                "%s / %s; %.2f kB" % (kb(bare[0]), kb(bare[1]),
                                      (bare[1] - bare[0]) / max(
                                          cd["values"], 1)), "", ""),
               ("the plugin's share: RssAnon with it, beyond collectd "
                "holding the same identifiers",
                "%s (%.1f kB per device)" % (kb(plugin_kb), plugin_kb
                                             / max(cd["instances"], 1)),
                "(reported; issue 22)", "-")])

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
    return intro, summary


def us(seconds):
    return "%.3g us" % (seconds * 1e6)


def core_share(cpu_s, seconds):
    return "%.0f%% of a core" % (100 * cpu_s / seconds)


def median_p99(figures):
    found = figures["out"]
    return ("%s / %s" % (ms(found[0]), ms(found[1])) if found
            else "**no message arrived**")


def delays(figures, key):
    found = figures[key]
    return "%s / %s / %s" % tuple(ms(x) for x in found) if found else "-"


def lost_messages(f, shown=LOST_SHOWN):
    lost = f["lost_messages"]
    said = ["%s %s %s %.3f s (%s)"
            % (sn, group, shape, (at - f["started_ns"]) / 1e9,
               "its device sent no other" if gap is None else
               "its device's nearest other message %s away" % ms(gap / 1e9))
            for at, sn, group, shape, gap in lost[:shown]]
    return "; ".join(said + (["and %d more" % (len(lost) - shown)]
                             if len(lost) > shown else [])) or "-"


def push_losses(f):
    """Messages lost over the whole run."""
    return f["published"] - f["received"]


def per_message(f, who):
    """who's CPU per message of the window (ecoflow-telegraf: those that
    produced lines; the broker and the simulator: those published), and
    its share of a core."""
    count = f["window_received" if who == "telegraf" else "window_published"]
    return "%s (%s)" % (us(f["cpu"][who] / max(count, 1)),
                        core_share(f["cpu"][who], f["seconds"]))


# Section 8's table: a row per figure, a column per run.
PUSH_RUNS = {"latency": "latency: %d devices", "cpu": "CPU: %d devices",
             "nagle": "latency, broker with Nagle: %d devices"}
PUSH_ROWS = (
    ("broker", lambda f: "TCP_NODELAY (`set_tcp_nodelay true`)"
     if f["nodelay"] else "mosquitto's default: Nagle's algorithm"),
    ("window measured; groups of quotas sent in it",
     lambda f: "%.1f s; %d" % (f["seconds"], f["groups"])),
    ("messages published in it, per second (goal: one per device)",
     lambda f: "%d, %.1f/s" % (f["window_published"],
                               f["window_published"] / f["seconds"])),
    ("lost, whole run (published; sent by the broker to ecoflow-telegraf; "
     "turned into line protocol)",
     lambda f: "%s (%d; %d; %d)" % (
         push_losses(f) if push_losses(f) == 0
         else "**%d**" % push_losses(f), f["published"], f["delivered"],
         f["received"])),
    ("the messages that became no line (at most %d): device, group, shape, "
     "seconds after the run began; a message of the same device less than "
     "%d ms away may have taken its lines in the matching"
     % (LOST_SHOWN, MATCH_SLACK_NS // 1000000), lambda f: lost_messages(f)),
    ("lines of line protocol per message",
     lambda f: "%.2f" % (f["lines"] / max(f["received"], 1))),
    ("**latency, publish to the line read from stdout: median / p99 / "
     "max**", lambda f: delays(f, "out")),
    ("latency, publish to ecoflow-telegraf's stamp (arrival, whole ms): "
     "median / p99 / max", lambda f: delays(f, "stamp")),
    ("**ecoflow-telegraf CPU per message**",
     lambda f: per_message(f, "telegraf")),
    ("mosquitto CPU per message", lambda f: per_message(f, "broker")),
    ("ecoflow-sim CPU per message", lambda f: per_message(f, "sim")),
    ("HTTP reads (quota/all) in the window",
     lambda f: str(f["http_reads"])),
    ("lines matched to no message; messages matched to lines of two "
     "stamps; E! / W! lines in its log",
     lambda f: "%d; %d; %d / %d" % (f["unmatched"], f["mismatched"],
                                    f["errors"], f["warnings"])),
    ("simulator: messages not sent (not connected, refused); "
     "disconnections",
     lambda f: "%d; %d" % (f["sim_skipped"] + f["sim_failures"],
                           f["sim_disconnects"])),
)


def burst_cpu(side):
    """CPU per message received, or None when none was."""
    return side["cpu"] / side["received"] if side["received"] else None


def burst_lost(side, messages):
    """Where the messages one client missed went: the broker sent it fewer
    (mosquitto drops what waits beyond max_queued_messages, 1000 by
    default, for a client that reads too slowly, and says so in its log),
    or it received fewer than the broker sent."""
    at_broker = messages - side["delivered"]
    at_client = side["delivered"] - side["received"]
    if at_broker == at_client == 0:
        return "0"
    return "**%d**: %d by the broker%s, %d after it" % (
        at_broker + at_client, at_broker,
        " (\"Outgoing messages are being dropped\")"
        if side["broker_dropped"] else "", at_client)


def burst_in_all(side):
    """A subscriber's CPU over a burst, and the kernel's share of it."""
    share = ", %.0f%% sys" % (100 * side["sys"] / side["cpu"]) \
        if "sys" in side and side["cpu"] > 0 else ""
    return ms(side["cpu"]) + share


def burst_ratio(burst):
    ours, theirs = burst_cpu(burst["telegraf"]), burst_cpu(burst["sub"])
    return ours / theirs if ours and theirs else None


def render_burst(x, rep):
    """The bursts' table into rep; returns their summary row."""
    bursts, count = x["bursts"], x["messages"]
    publish_s = statistics.median(b["publish_s"] for b in bursts)
    rep.add(
        "**Bursts, side by side.** One PowerOcean's quota topic gets %d "
        "bursts of %d messages of the typeCode shape (its three phases, "
        "five values each, every value different from the message before; "
        "%.0f bytes on average), each from `mosquitto_pub -l` as fast as the "
        "broker takes them (median %.2f s, %.0f messages/s), through the same "
        "broker (TLS, TCP_NODELAY) to two subscribers at once: "
        "`ecoflow-telegraf --execd --mqtt` (its state seeded by one poll "
        "over HTTP; each message becomes three lines, one per phase) and "
        "`mosquitto_sub -t TOPIC` (a plain C subscriber printing each "
        "message), each writing into a pipe that `cat` copies into a file. "
        "A message a subscriber misses is lost at the broker when the broker "
        "sent it fewer (mosquitto 2.0 keeps at most `max_queued_messages`, "
        "1000 by default, QoS 0 messages waiting for a client beyond what "
        "its socket holds, drops the rest and logs \"Outgoing messages are "
        "being dropped for client ID\"), else in the client. CPU is "
        "utime+stime (`/proc/PID/stat`, 10 ms ticks) from before a burst "
        "until both outputs stopped growing for 1.5 s, divided by the "
        "messages each received (in all: with the share of stime, the "
        "kernel's work for the process, which machines differ in most); "
        "both programs' figures come from the same bursts, on a machine shared with other work. ecoflow-telegraf: "
        "exit status %d, %d E! and %d W! lines in its log." % (
            len(bursts), count, x["bytes"], publish_s, count / publish_s,
            x["rc"], x["errors"], x["warnings"]), "")
    rows = []
    for i, b in enumerate(bursts):
        t, s = b["telegraf"], b["sub"]
        ratio = burst_ratio(b)
        rows.append((
            str(i + 1), "%.2f s" % b["publish_s"],
            "%s (%s)" % (us(burst_cpu(t)) if t["received"] else "-",
                         burst_in_all(t)),
            "%s (%s)" % (us(burst_cpu(s)) if s["received"] else "-",
                         burst_in_all(s)),
            "%.2fx" % ratio if ratio else "-",
            "%d; %d" % (t["received"], s["received"]),
            "%s; %s" % (burst_lost(t, count), burst_lost(s, count)),
            ms(b["cpu"]["broker"])))
    rep.table(("burst", "published in", "**ecoflow-telegraf CPU per message** "
               "(in all)", "mosquitto_sub CPU per message (in all)", "ratio",
               "received: ecoflow-telegraf; mosquitto_sub",
               "lost: ecoflow-telegraf; mosquitto_sub", "mosquitto CPU"),
              rows)
    ratios = [burst_ratio(b) for b in bursts]
    ratio = (statistics.median(ratios) if None not in ratios else None)
    if "jsonc" in x:
        jsonc = x["jsonc"]
        subs = [burst_cpu(b["sub"]) for b in bursts]
        sub = statistics.median(subs) if None not in subs else None
        rep.add(
            "**json-c alone** (`bench/jsonc_floor` on one burst message of "
            "%d bytes: parsed with a reused tokener, every value read, "
            "freed; nothing else): %s of CPU a message (median of 5 batches "
            "of %d) and %.1f K instructions (callgrind, %d against %d "
            "parses). %s" % (
                jsonc["bytes"], us(jsonc["cpu"]), BURST_FLOOR_ITERATIONS // 5,
                jsonc["instructions"] / 1e3, BURST_FLOOR_CALLGRIND[1],
                BURST_FLOOR_CALLGRIND[0],
                "ecoflow-telegraf parses each message with json-c too, so "
                "%gx of mosquitto_sub's median (%s) leaves it %s a message "
                "for everything else: TLS, libmosquitto, the walk, the "
                "catalog, line protocol and the write." % (
                    GOAL_BURST_RATIO, us(sub),
                    us(max(0.0, GOAL_BURST_RATIO * sub - jsonc["cpu"])))
                if sub else ""), "")
    lost = [sum(count - b[who]["received"] for b in bursts)
            for who in ("telegraf", "sub")]
    return ("MQTT push, %d bursts of %d messages side by side: "
            "ecoflow-telegraf CPU per message / mosquitto_sub's (median)"
            % (len(bursts), count),
            "%s (%s); lost %d and %d" % (
                "%.2fx" % ratio if ratio else "-",
                ", ".join(us(burst_cpu(b["telegraf"])) + " / "
                          + us(burst_cpu(b["sub"]))
                          if None not in (burst_cpu(b["telegraf"]),
                                          burst_cpu(b["sub"])) else "-"
                          for b in bursts), lost[0], lost[1]),
            "<= %gx, none lost (issue 22)" % GOAL_BURST_RATIO,
            verdict(ratio is not None and ratio <= GOAL_BURST_RATIO
                    and lost == [0, 0]))


def render_mqtt(r, rep):
    """Section 8 into rep; returns its introduction (none) and its
    summary rows."""
    a, x = r["args"], r["mqtt"]
    rep.add("## 8. MQTT push mode (issue 11)", "")
    if "skipped" in x:
        rep.add("**Skipped, nothing measured**: %s." % x["skipped"], "")
        return [], [("MQTT push mode (section 8)", "**not measured**: %s"
                     % x["skipped"], "-", "**skipped**")]
    if "latency" not in x:  # --only burst
        return [], [render_burst(x["burst"], rep)]
    lat, cpu, nagle = x["latency"], x["cpu"], x["nagle"]
    rep.add(
        "mosquitto %s on loopback as `tests/e2e/mqttharness.py` starts it "
        "(TLS with a throwaway CA, passwords, an ACL of exact topics, as "
        "EcoFlow's broker; it logs every packet, `log_type all`, and its CPU "
        "includes that). `ecoflow-sim --devices N` publishes through it over "
        "one connection (TCP_NODELAY): `POST /sim/mqtt/periodic?every_ms=%d`"
        ", every device once a second, evenly spread, one group of quotas "
        "per message (a PowerOcean's next group each round, both shapes in "
        "turn), each message in `--mqtt-publish-log` with its time (taken "
        "when `mosquitto_publish` returned, to the us). `ecoflow-telegraf "
        "--execd --mqtt --ca-file CA` with discovery and its defaults, over "
        "its own connection: one line of stdin seeds every device over HTTP, "
        "then, once the broker acknowledged every subscription, %g s of "
        "warm-up and the window measured. **Latency**: each message matched "
        "to the lines of line protocol it produced (their `sn` tag, the "
        "device's latest message before the lines' stamp), from its publish "
        "time to the time this script read the last of them from "
        "ecoflow-telegraf's stdout (its own clock, in ns; the pipe and a "
        "Python reader thread included), and to ecoflow-telegraf's own "
        "stamp on the lines (the message's arrival, truncated to the "
        "millisecond, so up to 1 ms low). **CPU**: utime+stime "
        "(`/proc/PID/stat`) over the window. The simulator and the broker "
        "share this machine's %d cores with ecoflow-telegraf (and with other "
        "developers' work). The last column is the first again through "
        "mosquitto's default, Nagle's algorithm on its sockets: a message "
        "then waits for ecoflow-telegraf's delayed ACK of the one before "
        "(up to 40 ms on Linux), a delay of the broker's making that "
        "ecoflow-telegraf cannot change (how EcoFlow's broker is set is not "
        "known)." % (x["broker"], MQTT_PERIOD_MS, a.mqtt_warmup,
                     r["machine"]["cores"]), "")
    runs = (lat, cpu, nagle)
    rep.table(("figure",) + tuple(PUSH_RUNS[f["name"]] % f["n"]
                                  for f in runs),
              [(label,) + tuple(cell(f) for f in runs)
               for label, cell in PUSH_ROWS])
    rows = [
        ("MQTT push, %d devices once a second: publish to line protocol on "
         "stdout, median / p99" % lat["n"],
         "%s (%d messages); %s through mosquitto's default, Nagle's "
         "algorithm" % (median_p99(lat), lat["window_received"],
                        median_p99(nagle)),
         "values within %g s (issue 11)" % GOAL_MQTT_LATENCY_S,
         verdict(all(f["out"] is not None
                     and f["out"][1] <= GOAL_MQTT_LATENCY_S
                     for f in (lat, nagle)))),
        ("MQTT push, %d devices once a second through one connection: "
         "ecoflow-telegraf CPU per message" % cpu["n"],
         "%s (%.0f messages/s published, %s lost; per message the broker "
         "%s, the simulator %s)" % (
             us(cpu["cpu"]["telegraf"] / max(cpu["window_received"], 1)),
             cpu["window_published"] / cpu["seconds"], push_losses(cpu),
             us(cpu["cpu"]["broker"] / max(cpu["window_published"], 1)),
             us(cpu["cpu"]["sim"] / max(cpu["window_published"], 1))),
         "(reported); none lost",
         verdict(all(push_losses(f) == 0 for f in runs)))]

    rows.append(render_burst(x["burst"], rep))
    cd = x["collectd"]
    if "skipped" in cd:
        rep.add("collectd with `MQTT true`: not measured (%s)."
                % cd["skipped"], "")
        return [], rows
    busy_s, busy_cpu = cd["seconds"], cd["cpu"]["collectd"]
    quiet_s = sum(q["seconds"] for q in cd["quiet"])
    quiet_cpu = sum(q["cpu"]["collectd"] for q in cd["quiet"])
    messages = max(cd["window_published"], 1)
    per_message = (busy_cpu - quiet_cpu * busy_s / quiet_s) / messages
    rep.add("collectd with the plugin, `MQTT true` (its defaults, `Discover "
            "true`, `Interval %d`, no write plugin: values stop after the "
            "cache), %d devices, over its own connection: after its first "
            "read, every subscription acknowledged and one more interval, "
            "its CPU (utime+stime of the whole daemon) in %.0f s without "
            "messages, in %.0f s with every device publishing once a second "
            "(after %g s of warm-up), then in %.0f s without messages again. "
            "Its reads dispatch every device's merged state, messages or "
            "not: CPU per message with them is an upper bound; beyond them, "
            "the difference to the windows without messages (the small "
            "difference of two large figures: noisy on a shared machine, "
            "and a read on the edge of a window moves it). Exit status %d, "
            "%d error lines in its log." % (
                COLLECTD_PUSH_INTERVAL_S, a.mqtt_devices,
                cd["quiet"][0]["seconds"], busy_s, a.mqtt_warmup,
                cd["quiet"][1]["seconds"], cd["rc"], cd["log_errors"]), "")
    rep.table(("figure", "measured"), [
        ("CPU with messages", "%s (%s), %d messages (%.1f/s)" % (
            ms(busy_cpu), core_share(busy_cpu, busy_s),
            cd["window_published"], cd["window_published"] / busy_s)),
        ("CPU without messages, before and after",
         ", ".join("%s (%s)" % (ms(q["cpu"]["collectd"]),
                                core_share(q["cpu"]["collectd"],
                                           q["seconds"]))
                   for q in cd["quiet"])),
        ("CPU per message, its reads included (upper bound)",
         us(busy_cpu / messages)),
        ("CPU per message beyond its reads (the difference)",
         us(per_message)),
        ("lost, whole run (published; sent by the broker to collectd)",
         "%d (%d; %d)" % (cd["published"] - cd["delivered"],
                          cd["published"], cd["delivered"])),
        ("mosquitto, ecoflow-sim CPU per message", "%s, %s" % (
            us(cd["cpu"]["broker"] / messages),
            us(cd["cpu"]["sim"] / messages)))])
    rows.append(("MQTT push, collectd (`MQTT true`), same load: CPU per "
                 "message beyond its reads (with them)",
                 "%s (%s)" % (us(per_message), us(busy_cpu / messages)),
                 "(reported)", "-"))
    return [], rows


def seconds_or_never(value):
    return "never" if value is None else "%.2f s" % value


def render_faults(r, rep):
    """Section 9 into rep; returns its introduction (none) and its summary
    rows."""
    x = r["faults"]
    rep.add("## 9. MQTT push mode's faults (issue 19)", "")
    if "skipped" in x:
        rep.add("**Skipped, nothing measured**: %s." % x["skipped"], "")
        return [], [("MQTT faults (section 9)", "**not measured**: %s"
                     % x["skipped"], "-", "**skipped**")]
    names = list(x["by"])
    rep.add(
        "`tests/e2e/mqtt_fault_scenario.py` against mosquitto on loopback "
        "(as section 8's, with test_mqtt's accounts) or its fake broker, "
        "for %s (collectd: `MQTT true`, `Interval 1`, Timeout 5 s, or 2 s "
        "where a broker or resolver is silent). CPU is utime+stime of the "
        "process (collectd: the whole daemon, its reads included) over the "
        "window named; RSS is VmRSS. Each outage starts after the "
        "connection lasted 11 s (the pauses between attempts start again "
        "from 1 s: 1, 2, 4, ... s after the loss), and the delay is from "
        "the broker's start to the arrival of the first message published "
        "(by mosquitto_pub, every 0.5 s) after it.%s" % (
            " and ".join(names),
            "" if x["collectd_skipped"] is None else
            " collectd not measured: %s." % x["collectd_skipped"]), "")
    rows = []
    for down_s in (0, 2, 10):
        row = ["outage of %d s: CPU over it; next message after the return"
               % down_s]
        for name in names:
            run = [o for o in x["by"][name]["outages"]["runs"]
                   if o["down_s"] == down_s]
            row.append("%.3f of a core; %s" % (
                run[0]["cpu_share"], seconds_or_never(run[0]["return_s"]))
                if run else "not measured")
        rows.append(row)
    rows.append(["broker down from the start: said after; CPU while down"] +
                ["%s; %.3f of a core" % (seconds_or_never(
                    x["by"][n]["down"]["said_s"]),
                    x["by"][n]["down"]["cpu_share"]) for n in names])
    for index, what in enumerate(("accepts TCP, never answers",
                                  "never sends CONNACK")):
        rows.append(["broker that %s (Timeout 2 s): said after; attempts "
                     "in 10 s; SIGTERM meanwhile" % what] +
                    ["%s; %d; %.2f s" % (
                        seconds_or_never(f["said_s"]), f["attempts_10s"],
                        f["stop_s"])
                     for f in (x["by"][n]["silent"][index] for n in names)])
    rows.append(["%d status flips: lines about its status; flags written "
                 "(telegraf) or notifications (collectd)" %
                 x["by"][names[0]]["status"]["flips"]] +
                ["%d; %d" % (len(f["said"]), f["points"] if f["points"]
                             is not None else len(f["notifications"]))
                 if f.get("connected") else "not connected"
                 for f in (x["by"][n]["status"] for n in names)])
    rows.append(["200 messages of 5000 never-seen keys: RSS growth"] +
                [kb(f["growth_kb"]) if f.get("connected") else
                 "not connected" for f in (x["by"][n]["keys"] for n in names)])
    if "collectd" in names and x["by"]["collectd"]["keys"].get("connected"):
        rows.append(["collectd's reads after that flood", "-", "%.3f of a "
                     "core" % x["by"]["collectd"]["keys"]["cpu_share_after"]])
    for blocked in x["blocked"]:
        rows.append(["stdout not read, a flood of messages: RSS growth over "
                     "12 s; %s ends it in" % blocked["how"],
                     "%s; %.2f s" % (kb(blocked["growth_kb"]),
                                     blocked["stop_s"])] +
                    ["-"] * (len(names) - 1))
    if x["resolver_skipped"] is None:
        rows.append(["a resolver that never answers: SIGTERM ends it in"] +
                    ["%.2f s" % x["by"][n]["resolver"]["stop_s"]
                     for n in names])
    else:
        rep.add("A resolver that never answers: not measured (%s)." %
                x["resolver_skipped"], "")
    rep.table(["figure"] + names, rows)
    worst_outage = max(o["cpu_share"] for n in names
                       for o in x["by"][n]["outages"]["runs"])
    worst_return = max((o["return_s"] or 999) for n in names
                       for o in x["by"][n]["outages"]["runs"])
    worst_stop = max([b["stop_s"] for b in x["blocked"]] +
                     [f["stop_s"] for n in names
                      for f in x["by"][n]["silent"]])
    growth = max(x["by"][n]["keys"].get("growth_kb", 0) for n in names)
    return [], [
        ("MQTT faults: CPU over broker outages of 0-10 s; next message after "
         "its return (worst of both front ends)",
         "%.3f of a core; %.2f s" % (worst_outage, worst_return),
         "near zero; within seconds (issue 19)",
         verdict(worst_outage < 0.1 and worst_return < 10)),
        ("MQTT faults: RSS growth under 200 messages of 5000 new keys; the "
         "slowest stop (stdout not read, silent broker)",
         "%s; %.2f s" % (kb(growth), worst_stop),
         "bounded (was +114 and +228 MB); within a second (issue 19)",
         verdict(growth < 10 * 1024 and worst_stop < 1))]


def render_fleet(r, rep):
    """Section 10 into rep; returns no intro and its summary rows."""
    f, a = r["fleet"], r["args"]
    first, second = f["polls"]
    listing = first["until_first_quota"]
    hwm = first["status"].get("VmHWM", 0)
    rep.add("## 10. A fleet: one account of %d devices, %d agents"
            % (f["devices"], f["shards"]), "",
            "`ecoflow-sim --devices %d --latency-ms %d`; its device/list "
            "answer is %s (%d bytes a device). One agent of %d, "
            "`ecoflow-telegraf --execd --shard %d/%d --max-concurrent %d` "
            "(the README's plan for 100,000 devices at 30 s), discovers "
            "the account and reads its shard's %d devices; the other %d "
            "agents would do the same with theirs. Two polls, a line of "
            "stdin each (the simulated clock a minute on): the first asks "
            "device/list, reads it entry by entry and keeps its shard, "
            "then reads the quotas; the second, with the list still fresh "
            "(refresh every 600 s), only reads the quotas. Wall time from "
            "the line of stdin to the last device's line, CPU user+sys of "
            "the agent (/proc/PID/stat); the list's part is until the "
            "simulator counted the first quota/all request (sampled every "
            "50 ms), the list's %d ms latency included. Memory after each "
            "poll (smaps_rollup, VmHWM: the peak, the list's answer "
            "included). Load average %.2f at the start, %.2f at the end: "
            "**%s**." % (
                f["devices"], a.latency_ms, kb(f["list_bytes"] / 1024),
                f["list_bytes"] // f["devices"], f["shards"], FLEET_SHARD,
                f["shards"], a.fleet_max_concurrent, f["mine"],
                f["shards"] - 1, a.latency_ms, f["load_start"][0],
                f["load_end"][0],
                "a busy machine (other engineers' builds and tests on its "
                "2 cores): wall and CPU times are high, not the floor"
                if max(f["load_start"][0], f["load_end"][0]) > 1.5 else
                "a quiet machine"), "")
    bound = math.ceil(f["mine"] / a.fleet_max_concurrent) * a.latency_ms \
        / 1000
    rows = []
    for name, p in (("first: device/list, then the shard", first),
                    ("second: the shard only", second)):
        rows.append((name, ms(p["wall_s"]), ms(p["cpu_s"]),
                     "%s per device" % ms(p["cpu_s"] / f["mine"]),
                     "device/list %d + quota/all %d" % (p["lists"],
                                                        p["quotas"]),
                     p["in_flight"], kb(p["memory"].get("Private_Dirty", 0)),
                     kb(p["status"].get("VmRSS", 0)),
                     kb(p["status"].get("VmHWM", 0))))
    rep.table(("poll", "wall", "CPU", "CPU per device", "requests",
               "max in flight", "Private_Dirty after", "VmRSS after",
               "VmHWM"), rows)
    rep.add("The list's part of the first poll: %s wall, %s CPU (the "
            "request, %s of answer, its parse entry by entry, the merge). "
            "Bound of a poll without CPU: ceil(%d / %d) x %d ms = %s. Exit "
            "status %d at the end of stdin, %d error lines." % (
                ms(listing.get("wall_s", 0)), ms(listing.get("cpu_s", 0)),
                kb(f["list_bytes"] / 1024), f["mine"],
                a.fleet_max_concurrent, a.latency_ms, ms(bound), f["rc"],
                f["errors"]), "")
    fits = first["wall_s"] <= a.fleet_interval and f["rc"] == 0
    return [], [
        ("fleet: one agent of %d on an account of %d devices (%d of "
         "them): list refresh and poll, wall; CPU; peak memory"
         % (f["shards"], f["devices"], f["mine"]),
         "%s; %s (list %s); %s" % (ms(first["wall_s"]), ms(first["cpu_s"]),
                                   ms(listing.get("cpu_s", 0)), kb(hwm)),
         "within its %g s interval (issue 22)" % a.fleet_interval,
         verdict(fits))]


def render(r):
    """The whole report from the figures in r (a dict): the sections that
    ran, each with its rows in the summary."""
    m, a = r["machine"], r["args"]
    rep, sections, intro, rows = Report(), Report(), [], []
    rep.add("# Benchmark (issue 12)", "",
            "`make bench` in the build directory (`bench/bench.py`); "
            "measured on %s, %d cores, %s, %s, at commit `%s` (load average "
            "%.2f at the start, %.2f at the end)." % (
                m["cpu"], m["cores"], m["kernel"], m["date"], m["commit"],
                m["load"][0], r["load_end"][0]), "")
    if a.only != set(SECTIONS):
        rep.add("**Partial run**: only %s (`--only %s`)." % (
            " and ".join(SECTIONS[k] for k in sorted(a.only)),
            ",".join(sorted(a.only))), "")
    for keys, render_section in ((("poll",), render_poll),
                                 (("mqtt", "burst"), render_mqtt),
                                 (("mqtt", "faults"), render_faults),
                                 (("fleet",), render_fleet)):
        if a.only & set(keys):
            more_intro, more_rows = render_section(r, sections)
            intro += more_intro
            rows += more_rows
    rep.add(*intro)
    rep.add("## Summary", "")
    rep.table(("figure", "measured", "goal", "met"), rows)
    rep.add(*sections.lines)
    rep.add("Whole run: %.0f s." % r["seconds"])
    return rep.text()


def instruction_ratio(kind):
    return kind["instructions"] / kind["floor_instructions"]


def live_size(answer):
    """Whether the answer (bytes, keys, values) is of the live size."""
    return 300 <= answer[1] <= 400 and 10000 <= answer[0] <= 16000


def capacity(per_device_cpu_s, rho, latency_s):
    cpu_bound = int(CAPACITY_INTERVAL_S / per_device_cpu_s)
    wall_bound = int(MAX_CONCURRENT * CAPACITY_INTERVAL_S / (rho * latency_s))
    return {"cpu_bound": cpu_bound, "wall_bound": wall_bound, "rho": rho,
            "devices": min(cpu_bound, wall_bound)}


# -- main ---------------------------------------------------------------------

# Section 8's options: (option, type, default, help).
MQTT_OPTIONS = (
    ("--mqtt-devices", int, 1000,
     "devices of section 8's CPU run, and of collectd's"),
    ("--mqtt-seconds", float, 60, "the CPU run's window measured (s)"),
    ("--mqtt-latency-devices", int, 100, "devices of the latency runs"),
    ("--mqtt-latency-seconds", float, 40,
     "their window measured (s): a round of messages a second, each round "
     "a PowerOcean's next group of quotas (34 of them)"),
    ("--mqtt-warmup", float, 3, "seconds of publishing before each window"),
    ("--mqtt-collectd-seconds", float, 30,
     "collectd (MQTT true): each of its three windows, without, with and "
     "without messages (s; 0 skips it)"),
    ("--mqtt-burst-messages", int, 20000,
     "each burst ecoflow-telegraf and mosquitto_sub take side by side"),
    ("--mqtt-bursts", int, 3, "bursts, one after the other (the median)"),
    ("--mqtt-status-flips", int, 150000,
     "section 9: status messages of the status flood"),
)

# Section 10's options, as MQTT_OPTIONS.
FLEET_OPTIONS = (
    ("--fleet-devices", int, 100000, "devices of section 10's account"),
    ("--fleet-shards", int, 8, "agents sharing it (--shard K/N)"),
    ("--fleet-max-concurrent", int, 128,
     "--max-concurrent of the agent measured (the README's plan)"),
    ("--fleet-interval", float, 30, "the interval its polls must fit in (s)"),
    ("--fleet-timeout", float, 900, "give up on a poll after this long (s)"),
)


def sizes(text):
    return sorted({int(x) for x in text.split(",") if x.strip()})


def only_sections(text):
    chosen = {x.strip() for x in text.split(",") if x.strip()}
    if not chosen or chosen - set(SECTIONS):
        raise argparse.ArgumentTypeError(
            "expected a comma-separated list of %s" % ", ".join(SECTIONS))
    return chosen


def measure_poll(args, work, step, r):
    """Sections 1 to 7 into r."""
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
        (label, family), *others = ANSWER_KINDS
        r["kinds"] = [answer_kind(sim, label, args, work, family, step)]
        step("execd: %d polls of %d devices" % (args.execd_polls,
                                                args.devices))
        r["execd"] = execd_memory(sim, args.devices, args.execd_polls, work)
        step("collectd: %d devices, %d reads" % (args.devices,
                                                 args.collectd_reads + 1))
        r["collectd"] = collectd_fleet(sim, args.devices, args.collectd_reads,
                                       args.collectd_interval, work)
    for label, family in others:
        with simharness.Sim(devices=["%s:%s" % (sn, family) for sn in
                                     serials(max(args.callgrind_sizes))]) \
                as sim:
            r["kinds"].append(answer_kind(sim, label, args, work, family,
                                          step))
    big = max(args.sizes)
    rho = max(1.0, r["telegraf"][big].wall_s
              / bound_s(big, args.latency_ms / 1000))
    r["capacity"] = capacity(r["telegraf"][big].cpu_median_s / big, rho,
                             args.latency_ms / 1000)


def measure(args, work):
    r = {"machine": machine(), "args": args}
    started = time.monotonic()

    def step(text):
        print("bench: [%4.0f s] %s" % (time.monotonic() - started, text),
              file=sys.stderr, flush=True)

    if "poll" in args.only:
        measure_poll(args, work, step, r)
    if "mqtt" in args.only:
        r["mqtt"] = measure_mqtt(args, work, step)
    elif "burst" in args.only:
        reason = mqtt_skip_reason()
        r["mqtt"] = ({"skipped": reason} if reason is not None
                     else {"burst": mqtt_burst(args, work, step)})
    if "mqtt" in args.only or "faults" in args.only:
        r["faults"] = measure_mqtt_faults(args, work, step)
    if "fleet" in args.only:
        r["fleet"] = measure_fleet(args, work, step)
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
    for option, kind, default, text in MQTT_OPTIONS:
        parser.add_argument(option, type=kind, default=default,
                            help="%s (default %g)" % (text, default))
    for option, kind, default, text in FLEET_OPTIONS:
        parser.add_argument(option, type=kind, default=default,
                            help="%s (default %g)" % (text, default))
    parser.add_argument("--only", type=only_sections, default=set(SECTIONS),
                        help="run only these sections, comma-separated: "
                        "poll (1-7), mqtt (8 and 9), burst (8's bursts), "
                        "faults (9), fleet (10); a partial report goes to "
                        "stdout only, never to --output")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (outputs, logs)")
    args = parser.parse_args()
    args.devices = max(args.sizes)
    if min(args.mqtt_devices, args.mqtt_latency_devices,
           args.mqtt_burst_messages, args.mqtt_bursts) < 1 or min(
            args.mqtt_seconds, args.mqtt_latency_seconds) <= 0:
        parser.error("--mqtt-*devices, --mqtt-*seconds and --mqtt-burst* "
                     "must be positive")
    if len(args.callgrind_sizes) != 2 or len(args.floor_callgrind) != 2:
        parser.error("--callgrind-sizes and --floor-callgrind take two "
                     "numbers")
    if args.callgrind_sizes[1] > args.devices:
        parser.error("--callgrind-sizes beyond the largest of --sizes")

    missing = missing_parts(args.only)
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
    except (BenchError, simharness.SimError, mqttharness.BrokerError) \
            as error:
        print("bench: FAILED: %s" % error, file=sys.stderr)
        return 1
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("bench: work directory kept: %s" % work, file=sys.stderr)
    text = render(figures)
    print(text)
    if args.output and args.only != set(SECTIONS):
        print("bench: a partial run (--only): not written to %s"
              % args.output, file=sys.stderr)
    elif args.output:
        with open(args.output, "w") as out:
            out.write(text)
        print("bench: written to %s" % args.output, file=sys.stderr)
    # Nothing measured at all is a part missing.
    return 2 if args.only == {"mqtt"} and "skipped" in figures["mqtt"] else 0


if __name__ == "__main__":
    sys.exit(main())
