#!/usr/bin/env python3
"""test_telegraf_discovery.py: --history, --quota and --discover of
ecoflow-telegraf against ecoflow-sim (its --verbose log shows every
quota/data window it was asked for).

What it shows:
- --history CODE --begin T --end T: a span of exactly 7 days is one
  window of 6 days 23:59:59, a 30-day month (given in ISO 8601) five
  consecutive windows; every window the simulator received is shorter than
  a week and none was refused; one ecoflow_history point per window,
  stamped with the window's begin, tagged sn and code, each field the
  simulator's index under its clean name (kWh x 1000 = Wh, a *_pct
  fraction x 100 = %); influxd
  accepts them; a device that refuses (1006) is named once, exit 1;
- --quota polls with POST quota, and its nested answer gives exactly the
  lines of quota/all's flat answer for the same quotas;
- --discover in execd: every listed device is read besides the --sn one
  (which keeps its name); each listed device's online flag is an
  ecoflow_device point; a device gone offline between two list refreshes
  is skipped (online=false, not polled, no error); a device bound later
  is read at the next refresh; a 1006 device is reported once and polled
  once in three polls;
- exec mode asks device/list once per run; while it fails, no point of
  the --sn devices is written (it would lack the name and product tags);
  an empty list is valid;
- both new modes run clean under valgrind.
"""

import calendar
import decimal
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, PULSE, check,  # noqa: E402
                    skip_unless, summary, wait_until, work_dir)
from harness.influx import INFLUXD, Influx  # noqa: E402
from harness.lineproto import parse  # noqa: E402
from harness.signed import quota_data  # noqa: E402
from harness.telegraf import (MEMCHECK, ORACLE, TELEGRAF,  # noqa: E402
                              Execd, environment, expected, run_exec,
                              telegraf_args)

REPORT = "JT303_Dashboard_Overview_Summary_Week"
WEEK_S = 7 * 86400
MIN_INTERVAL_S = 10
SELECTED = ("bpSoc", "pcsAPhase")
FLEET = ["%s:%s" % (sn, family) for sn, family in (
    (OCEAN, "powerocean"), (HEAT, "powerheat"), (GLOW, "powerglow"),
    (PULSE, "powerpulse"))]
WINDOW_LOG = re.compile(r"quota/data sn=(\S+) code=(\S+) window "
                        r"(.{19}) \.\. (.{19}) span (-?\d+) s")


# ---- line protocol, read back -------------------------------------------


def points(text, measurement):
    return [p for p in map(parse, text.splitlines()) if p[0] == measurement]


def utc(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


# ---- history ------------------------------------------------------------


def windows_asked(sim, since):
    """The quota/data windows the simulator was asked for after its log
    had since characters: (begin, end, span)."""
    return [(m.group(3), m.group(4), int(m.group(5)))
            for m in WINDOW_LOG.finditer(sim.log()[since:])]


def refusals(sim, since):
    return [line for line in sim.log()[since:].splitlines()
            if "quota/data" in line and "code 1008" in line]


def sim_indexes(sim, sn, begin, end):
    """The simulator's own answer for one window: {clean name: Wh or %}
    as the points must carry it."""
    answer = quota_data(sim, sn, begin, end, REPORT)
    data = json.loads(answer.body, parse_float=decimal.Decimal)["data"]
    out = {}
    for index in data["data"]:
        name = index["indexName"].lower().replace(" ", "_").replace("-", "_")
        value = decimal.Decimal(index["indexValue"])
        # kWh as Wh; an index named *_pct is a fraction of 1 sent with
        # the unit % (the reference's own example): as the percentage.
        fraction = index["unit"] == "%" and name.endswith("_pct")
        out[name] = (value * 1000 if index["unit"] == "kWh" else
                     value * 100 if fraction else value)
    return out


def backfill(sim, begin, end):
    since = len(sim.log())
    run = run_exec(sim, "--history", REPORT, "--sn", OCEAN, "--begin", begin,
                   "--end", end)
    return run, points(run.stdout, "ecoflow_history"), since


def check_points_equal_windows(what, sim, found, asked):
    wrong = []
    for point, (begin, end, _) in zip(found, asked):
        want = sim_indexes(sim, OCEAN, begin, end)
        got = {k: decimal.Decimal(v) for k, v in point[2].items()}
        if got != want or point[3] != utc(begin) * 10**9:
            wrong.append("%s: %r != %r" % (begin, got, want))
        if point[1].get("sn") != OCEAN or point[1].get("code") != REPORT:
            wrong.append("tags %r" % point[1])
    check("%s: each point is its window's answer (Wh), stamped with its "
          "begin, tagged sn and code" % what, found and not wrong,
          "; ".join(wrong[:3]))


def check_history(sim, influx):
    run, found, since = backfill(sim, "2024-06-17 00:00:00",
                                 "2024-06-24 00:00:00")
    asked = windows_asked(sim, since)
    check("7 days: exit 0, one point, nothing on stderr but the clock",
          run.returncode == 0 and len(found) == 1 and
          all("clock" in line for line in run.stderr.splitlines()),
          run.stderr)
    check("7 days: the simulator got one window of 6 days 23:59:59",
          asked == [("2024-06-17 00:00:00", "2024-06-23 23:59:59",
                     WEEK_S - 1)], repr(asked))
    check("7 days: no window refused", not refusals(sim, since),
          "; ".join(refusals(sim, since)))
    check_points_equal_windows("7 days", sim, found, asked)
    lines = run.stdout

    run, found, since = backfill(sim, "2024-06-01T00:00:00Z",
                                 "2024-07-01T00:00:00+00:00")
    asked = sorted(windows_asked(sim, since))
    contiguous = all(utc(b[0]) == utc(a[1]) + 1
                     for a, b in zip(asked, asked[1:]))
    check("30 days (ISO 8601): exit 0, five points",
          run.returncode == 0 and len(found) == 5, run.stderr)
    check("30 days: five consecutive windows, each < 7 days, from "
          "06-01 00:00:00 to 06-30 23:59:59",
          len(asked) == 5 and contiguous and
          all(span < WEEK_S for _, _, span in asked) and
          asked[0][0] == "2024-06-01 00:00:00" and
          asked[-1][1] == "2024-06-30 23:59:59", repr(asked))
    check("30 days: no window refused", not refusals(sim, since),
          "; ".join(refusals(sim, since)))
    check_points_equal_windows("30 days", sim,
                               sorted(found, key=lambda p: p[3]), asked)
    # Windows are fetched concurrently: points come in the order answers do.
    check("30 days: the points are stamped a week apart",
          sorted(p[3] // 10**9 for p in found) ==
          [utc("2024-06-01 00:00:00") + i * WEEK_S for i in range(5)])
    lines += run.stdout
    if influx is not None:
        status, body = influx.write("history", lines)
        check("influxd accepts the %d history lines (HTTP %s)"
              % (len(lines.splitlines()), status), status == 204, body)

    since = len(sim.log())
    run = run_exec(sim, "--history", REPORT, "--sn", GLOW, "--begin",
                   "2024-06-01", "--end", "2024-07-01")
    refused = [line for line in run.stderr.splitlines() if "1006" in line]
    check("a refusing device: exit 1, named once (not once per window)",
          run.returncode == 1 and len(refused) == 1 and
          refused[0].startswith("E! ecoflow: device %s" % GLOW) and
          len(windows_asked(sim, since)) == 5, run.stderr)


def timed_run(args, env):
    """Runs ecoflow-telegraf; (exit status, stdout, [(seconds since the
    start, stderr line)], seconds it took)."""
    started = time.monotonic()
    process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    lines = []

    def collect():
        for line in process.stderr:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    out = process.stdout.read()
    status = process.wait(timeout=120)
    reader.join(10)
    return status, out, lines, time.monotonic() - started


def check_history_bounds(sim):
    """A backfill is bounded (--history-max-windows, refused before any
    request), paced (--max-concurrent windows a second at most), says
    where it is at most once a second, and what it skipped."""
    sim.reset_stats()
    since = len(sim.log())
    run = run_exec(sim, "--history", REPORT, "--sn", OCEAN, "--begin",
                   "1900-01-01 00:00:00")
    asked = sim.stats()["requests"]
    check("history from 1900: refused (exit 2) before any request, naming "
          "the windows and the setting that raises the bound",
          run.returncode == 2 and asked == 0 and
          re.search(r"holds \d{4} report windows.*more than the 520 allowed"
                    r".*--history-max-windows", run.stderr) and
          not windows_asked(sim, since), "exit %d, %d requests: %s" % (
              run.returncode, asked, run.stderr))
    run = run_exec(sim, "--history", REPORT, "--sn", OCEAN, "--begin",
                   "2024-01-01", "--end", "2024-02-05",
                   "--history-max-windows", "4")
    check("history of 5 windows with --history-max-windows 4: refused",
          run.returncode == 2 and "more than the 4 allowed" in run.stderr and
          sim.stats()["requests"] == 0, run.stderr)
    run = run_exec(sim, "--history", REPORT, "--sn", OCEAN, "--begin",
                   "2024-01-01", "--history-max-windows", "100001")
    check("--history-max-windows beyond 100000: a configuration error",
          run.returncode == 2 and "--history-max-windows" in run.stderr,
          run.stderr)

    weeks, group = 30, 10
    begin = "2023-01-02 00:00:00"
    end = time.strftime("%Y-%m-%d %H:%M:%S",
                        time.gmtime(utc(begin) + weeks * WEEK_S))
    sim.set_fault(HEAT, "api:1008:request fail,please check your params")
    sim.reset_stats()
    since = len(sim.log())
    status, out, lines, took = timed_run(
        telegraf_args(sim, "--history", REPORT, "--sn", OCEAN, "--sn", HEAT,
                      "--max-concurrent", str(group), "--begin", begin,
                      "--end", end), environment(sim))
    sim.clear_fault(HEAT)
    stats = sim.stats()
    found = points(out, "ecoflow_history")
    groups = 2 * weeks // group
    check("history of %d windows of 2 devices, %d at a time: exit 0, the "
          "healthy device's %d points, paced (%d groups a second apart: "
          "%.1f s; at most %d in flight: %d)" % (
              weeks, group, weeks, groups, took, group,
              stats["max_in_flight"]),
          status == 0 and len(found) == weeks and took >= groups - 1 and
          stats["max_in_flight"] <= group and
          len(windows_asked(sim, since)) == 2 * weeks,
          "exit %d; %s" % (status, [line for _, line in lines][-5:]))
    progress = [(t, m) for t, line in lines for m in [re.match(
        r"I! ecoflow: device (\S+) \(.*\): history %s: window (\d+) of "
        r"(\d+) \((.{19}) \.\. (.{19})\), (\d+) s so far$" % REPORT,
        line)] if m]
    gaps = [b[0] - a[0] for a, b in zip(progress, progress[1:])]
    so_far = [int(m.group(6)) for _, m in progress]
    # Progress is said after a group when a second has passed since it was
    # last said; groups begin a second apart or later, so however fast
    # the windows are answered, every second group at least says it. The
    # times the lines are read here may come closer than their second on
    # a busy machine; their own clock ("N s so far") never goes back.
    check("history: says where it is (window k of %d, device, dates), at "
          "most once a second: %d lines over %.1f s, %s s so far, read "
          "%s s apart" % (2 * weeks, len(progress), took, so_far,
                          [round(g, 1) for g in gaps]),
          len(progress) >= groups // 2 and len(progress) <= took + 1 and
          so_far == sorted(so_far) and all(g >= 0.5 for g in gaps) and
          all(m.group(3) == str(2 * weeks) for _, m in progress) and
          {m.group(1) for _, m in progress} == {OCEAN, HEAT} and
          [int(m.group(2)) for _, m in progress] ==
          sorted(int(m.group(2)) for _, m in progress),
          "\n".join(line for _, line in lines))
    text = [line for _, line in lines]
    skipped = [line for line in text if "skipped" in line]
    failing = [line for line in text if "1008" in line]
    check("history: what it skipped is said once per device, with the dates; "
          "the failure once, not per window; and how far it got",
          len(skipped) == 1 and skipped[0].startswith(
              "W! ecoflow: device %s" % HEAT) and
          "30 of 30 windows skipped, between %s and" % begin in skipped[0]
          and len(failing) == 1 and text and
          re.match(r"I! ecoflow: history %s: %d of %d windows read in \d+ s$"
                   % (REPORT, weeks, 2 * weeks), text[-1]) is not None,
          "\n".join(text))


# ---- selected quotas ----------------------------------------------------


DEVICE_TAGS = ("sn", "name", "product")


def quota_lines(text):
    """{(measurement, catalog tags, field): text} of the quota points."""
    out = {}
    for measurement, tags, fields, _ in map(parse, text.splitlines()):
        if measurement in ("ecoflow_read", "ecoflow_device"):
            continue
        own = frozenset((k, v) for k, v in tags.items()
                        if k not in DEVICE_TAGS)
        for field, value in fields.items():
            out[(measurement, own, field)] = value
    return out


def check_selected_quotas(sim):
    sim.reset_stats()
    args = ["--sn", OCEAN]
    for quota in SELECTED:
        args += ["--quota", quota]
    nested = run_exec(sim, *args)
    used = {k: v for k, v in sim.stats()["endpoints"].items() if v}
    check("--quota: one POST quota, no quota/all",
          nested.returncode == 0 and used == {"device/list": 1,
                                              "device/quota": 1},
          "%r %s" % (used, nested.stderr))
    flat = run_exec(sim, "--sn", OCEAN)
    selected, full = quota_lines(nested.stdout), quota_lines(flat.stdout)
    data = sim.sim_quota(OCEAN)
    chosen = {p: v for p, v in data.items()
              if p in SELECTED or p.split(".")[0] in SELECTED}
    fields = {(r["measurement"], frozenset(r["tags"].items()), r["field"])
              for r in expected(chosen) if r["kind"] == "published"}
    same = {k: v for k, v in full.items() if k in fields}
    check("the nested answer gives the %d fields of the %d quotas"
          % (len(fields), len(chosen)),
          set(selected) == fields and len(fields) > 5,
          repr(sorted(selected)))
    check("byte for byte the flat answer's values for them",
          selected == same, "nested %r, flat %r" % (selected, same))


# ---- discovery ----------------------------------------------------------


def online_points(lines):
    return {p[1]["sn"]: p[2]["online"] for p in
            points("".join(lines), "ecoflow_device")}


def read_sns(lines):
    return [p[1]["sn"] for p in points("".join(lines), "ecoflow_read")]


def polls(sim, serial):
    return sim.stats()["devices"].get(serial, 0)


def check_discovery(sim):
    execd = Execd(sim, "--discover", "--sn", "%s=house" % OCEAN,
                  "--discover-refresh", "1")
    execd.gather()
    started = time.monotonic()
    check("execd --discover: the first batch reads the --sn and the listed "
          "devices", execd.wait_reads(2, 20)
          and sorted(read_sns(execd.out)) == sorted([OCEAN, HEAT]),
          "".join(execd.out[-5:]) + "".join(execd.err))
    batch1 = list(execd.out)
    check("each listed device's online flag is a point",
          online_points(batch1) == {OCEAN: "true", HEAT: "true",
                                    GLOW: "true"}, repr(online_points(batch1)))
    tags = {p[1]["sn"]: p[1] for p in points("".join(batch1),
                                             "ecoflow_device")}
    check("--sn names its device; productName tags the others when given",
          tags[OCEAN].get("name") == "house" and
          tags[HEAT].get("product") == "PowerHeat" and
          "product" not in tags[GLOW], repr(tags))
    heat_polls = polls(sim, HEAT)

    sim.set_fault(HEAT, "offline")
    sim.clear_fault(PULSE)
    time.sleep(max(0, MIN_INTERVAL_S + 0.5 - (time.monotonic() - started)))
    execd.gather()
    check("the next batch reads the device bound since",
          wait_until(lambda: PULSE in read_sns(execd.out[len(batch1):]), 20),
          "".join(execd.out[len(batch1):]) + "".join(execd.err))
    batch2 = execd.out[len(batch1):]
    check("the device gone offline: online=false, not polled",
          online_points(batch2).get(HEAT) == "false" and
          HEAT not in read_sns(batch2) and polls(sim, HEAT) == heat_polls,
          "%r, polled %d (was %d)" % (online_points(batch2), polls(sim, HEAT),
                                      heat_polls))

    sent = len(execd.out)
    time.sleep(MIN_INTERVAL_S + 0.5)
    execd.gather()
    execd.wait_reads(len(read_sns(execd.out)) + 2, 20)
    rc = execd.finish("eof")
    errors = "".join(execd.err)
    log = [line for line in errors.splitlines() if "clock" not in line]
    refused = [line for line in log if "1006" in line]
    check("three polls: the 1006 device polled once, reported once, with "
          "what to do and that it is retried hourly",
          polls(sim, GLOW) == 1 and len(refused) == 1 and
          refused[0].startswith("E! ecoflow: device %s" % GLOW) and
          "re-tried every hour" in refused[0], errors)
    check("the offline device and the new one are said once, as I!",
          sorted(l for l in log if l.startswith("I! ecoflow: device")) ==
          ["I! ecoflow: device %s (PowerHeat 0001): offline (device/list): "
           "not polled until it is online again" % HEAT,
           "I! ecoflow: device %s (PowerPulse 0001): found by discovery: "
           "polled from now" % PULSE], errors)
    check("no other error or warning", [
        l for l in log if l[:2] in ("E!", "W!") and "1006" not in l] == [],
        errors)
    check("the third batch polls the others again",
          set(read_sns(execd.out[sent:])) == {OCEAN, PULSE},
          "".join(execd.out[sent:]))
    check("execd --discover exits 0 at the end of stdin", rc == 0, repr(rc))


def check_exec_lists(sim):
    sim.reset_stats()
    run = run_exec(sim, "--discover", "--sn", OCEAN)
    check("exec --discover: one device/list per run",
          run.returncode == 0 and
          sim.stats()["endpoints"]["device/list"] == 1, run.stderr)

    sim.set_fault("*", "http500")
    sim.set_fault(OCEAN, "delay:0")  # its own fault: answered as usual
    run = run_exec(sim, "--discover", "--sn", OCEAN)
    check("a failing list holds the --sn device's points (they would lack "
          "its name and product tags): exit 1, no line, said",
          run.returncode == 1 and run.stdout == "" and
          "listing the account's devices (device/list): HTTP 500"
          in run.stderr and "until device/list answers" in run.stderr,
          run.stderr)
    run = run_exec(sim, "--discover")
    check("with nothing else to read: exit 1, an E! line",
          run.returncode == 1 and "E! ecoflow: listing the account's "
          "devices" in run.stderr, run.stderr)

    sim.clear_fault(OCEAN)
    sim.clear_fault(GLOW)  # its own fault would list it
    sim.set_fault("*", "unlisted")
    run = run_exec(sim, "--discover", "--sn", OCEAN)
    check("an empty list is valid: the --sn device is read, quietly",
          run.returncode == 0 and OCEAN in run.stdout and
          not [l for l in run.stderr.splitlines() if "clock" not in l],
          run.stderr)
    run = run_exec(sim)
    check("and without --sn it says the account has no devices",
          run.returncode == 1 and "device/list is empty" in run.stderr,
          run.stderr)
    sim.clear_fault("*")


def check_valgrind(sim):
    sim.set_fault(GLOW, "1006")
    for what, args in (
            ("exec --discover", ["--discover", "--sn", OCEAN, "--quota",
                                 "bpSoc"]),
            ("--history", ["--history", REPORT, "--begin", "2024-06-01",
                           "--end", "2024-07-01"])):
        run = subprocess.run([MEMCHECK] + telegraf_args(sim, *args),
                             capture_output=True, text=True, timeout=300,
                             env=environment(sim), stdin=subprocess.DEVNULL)
        check("memcheck, %s: clean" % what, run.returncode == 0 and
              "ecoflow_" in run.stdout, run.stderr[-2000:])
    sim.clear_fault(GLOW)


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"),
                          (ORACLE, "the oracle"))
    if skipped:
        return skipped
    with work_dir("test_telegraf_discovery.") as work:
        influx = Influx(work) if os.path.exists(INFLUXD) else None
        if influx is None:
            print("# influxd is missing: its check is skipped")
        try:
            # A standing clock for comparisons; our time, so that no clock
            # skew is reported.
            with simharness.Sim(devices=FLEET, clock=int(time.time()),
                                verbose=True,
                                faults=["%s:1006" % GLOW]) as sim:
                check_history(sim, influx)
                check_history_bounds(sim)
                check_selected_quotas(sim)
                check_exec_lists(sim)
                check_valgrind(sim)
            with simharness.Sim(devices=FLEET, faults=[
                    "%s:1006" % GLOW, "%s:unlisted" % PULSE]) as sim:
                check_discovery(sim)
        finally:
            if influx is not None:
                influx.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
