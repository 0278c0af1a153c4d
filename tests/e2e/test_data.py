#!/usr/bin/env python3
"""The data users ask for (issue 14), through both front ends, against
ecoflow-sim and the real daemons (influxd as the strict line-protocol
reader, collectd with write_log):

- every number of a captured-shape answer of another family (the
  simulator's DeltaPro: cell voltage lists, lists of lists, nested groups)
  arrives as a number, each item of a list as <key>_<i>, with the
  simulator's value; no list of numbers arrives as one string;
- the lifetime energy counters arrive typed (float / energy_wh); a small
  step back, a dip or a 9e9 spike that returns are held out of their
  reading (counted as implausible) and their return is no reset; a 0 is
  no reading; a reset is published once the counter grows from it, and
  the values published never step back otherwise;
- every value of a battery pack carries its pack (tag, type-instance
  prefix), named or not, and none is named after the pack's serial;
- every value honest (issue 18), with answers shaped like the live
  cloud's through the simulator's set fault: markers (65535, 4294967295,
  -3270, 6553.5) in rows the catalog does not name, in a pack's unnamed
  and named values and in new system values; keys whose JSON type
  changes between two polls (false then 0, 20 then "20", 86.5 then
  "86.25", a state name then a number, an empty code list then codes);
  a device/list that fails. Every line of both polls goes into influxd
  with none refused, no marker is published by either front end, each
  field keeps one type, collectd's values sit under types of their unit
  (V, W, Ah, %, gauges named _var and _va), and the device keeps one tag
  set (sn, name, product) across exec, execd and a failed list; exec
  with a failing list writes no point without them.

The expected names are computed here, independently of the C code: the
flattening and snake_case rules of the README.
"""

import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import simharness  # noqa: E402
from checks import (OCEAN, check, skip_unless, summary, wait_until,  # noqa
                    work_dir)
from harness.collectd import (COLLECTD, PLUGIN, Collectd,  # noqa: E402
                              account_block, device_block)
from harness.influx import INFLUXD, Influx  # noqa: E402
from harness.lineproto import MARKERS, fields, markers_in  # noqa: E402
from harness.telegraf import TELEGRAF, Execd, run_exec  # noqa: E402

DELTA = "HJ31SIMDELTA0001"
CLOCK = 1718625600  # 2024-06-17 12:00:00 UTC
SOLAR = "energy_stream.solarTotalEnergy"
# ef_sample.h: the items of a list that count.
MAX_ARRAY_ITEMS = 64


# ---- the expected names, as the README states the rules --------------------


def snake(path):
    """A path in snake_case, [a-z0-9_] only ("20_1.invOutputWatts" ->
    "20_1_inv_output_watts")."""
    out, previous = [], ""
    for c in path:
        if c.isascii() and c.isupper():
            if previous.isascii() and (previous.islower()
                                       or previous.isdigit()):
                out.append("_")
            out.append(c.lower())
        elif c.isascii() and (c.islower() or c.isdigit()):
            out.append(c)
        elif out and out[-1] != "_":
            out.append("_")
        previous = c
    return "".join(out).rstrip("_") or "_"


def numbers(value, path, out):
    """{path: number} of every number in value, lists item by item as
    path[i] (the first MAX_ARRAY_ITEMS), JSON text in strings expanded."""
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, (int, float)):
        out[path] = value
    elif isinstance(value, dict):
        for key, child in value.items():
            numbers(child, "%s.%s" % (path, key.strip()) if path
                    else key.strip(), out)
    elif isinstance(value, list):
        if value and all(isinstance(v, (int, float))
                         and not isinstance(v, bool) for v in value) or any(
                isinstance(v, (dict, list)) for v in value):
            for i, child in enumerate(value[:MAX_ARRAY_ITEMS]):
                numbers(child, "%s[%d]" % (path, i), out)
    elif isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            numbers(json.loads(value), path, out)
        except ValueError:
            pass
    return out


NUMBER_LIST = re.compile(r"^-?[0-9.]+(,-?[0-9.]+)+$")


# ---- ecoflow-telegraf ------------------------------------------------------


def tag(line, key):
    """A tag of one line (escaped spaces and commas in values kept)."""
    return line_tags(line).get(key)


def check_telegraf_numbers(influx, sim):
    run = run_exec(sim, "--sn", DELTA, "--sn", OCEAN)
    check("telegraf exec: exit 0", run.returncode == 0, run.stderr[-500:])
    status, body = influx.write("numbers", run.stdout)
    check("influxd takes every line (strict reader)", status == 204,
          "%s %s" % (status, body[:300]))
    expected = {snake(p): v for p, v in
                numbers(sim.sim_quota(DELTA), "", {}).items()}
    series = influx.series("numbers")
    types = influx.field_types("numbers")
    raw = [rows[0] for (m, tags), rows in series.items()
           if m == "ecoflow_raw" and ("sn", DELTA) in tags]
    got = raw[0] if raw else {}
    wrong = ["%s: %r, not %r" % (k, got.get(k), v) for k, v in expected.items()
             if got.get(k) != v or isinstance(got.get(k), str)]
    lists = [k for k, v in expected.items() if re.search(r"_\d+$", k)]
    check("telegraf: every number of the DeltaPro's answer arrives as a "
          "number with its value (%d, %d of them list items)"
          % (len(expected), len(lists)),
          len(expected) > 50 and len(lists) > 20 and not wrong,
          "; ".join(wrong[:6]))
    untyped = [k for k in expected
               if types.get(("ecoflow_raw", k)) != "float"]
    check("telegraf: all of them typed float in InfluxDB", not untyped,
          ", ".join(untyped[:6]))
    as_text = [(m, k) for (m, _), rows in series.items() for row in rows
               for k, v in row.items()
               if isinstance(v, str) and NUMBER_LIST.match(v)]
    check("telegraf: no list of numbers arrives as one string", not as_text,
          repr(as_text[:5]))
    check_packs_telegraf(run.stdout, sim)


def packs_of(data):
    """{serial: values} of the packs in a PowerOcean's answer (JSON text
    under "bp_addr.<serial>"; "bp_addr.updateTime" is no pack)."""
    return {k.split(".", 1)[1]: json.loads(v) for k, v in data.items()
            if k.startswith("bp_addr.") and isinstance(v, str)
            and v.lstrip().startswith("{")}


def check_packs_telegraf(lines, sim):
    packs = packs_of(sim.sim_quota(OCEAN))
    mine = [line for line in lines.splitlines() if tag(line, "sn") == OCEAN]
    pack_lines = [line for line in mine if line.startswith(
        ("ecoflow_battery_pack,", "ecoflow_battery_cell,",
         "ecoflow_battery_sensor,"))]
    untagged = [line[:60] for line in pack_lines if tag(line, "pack") is None]
    named_after = [k for line in mine for k in fields(line)
                   if any(sn.lower() in k for sn in packs)]
    check("telegraf: every pack value carries its pack tag (%d lines), and "
          "no field is named after a pack's serial" % len(pack_lines),
          pack_lines and not untagged and not named_after,
          repr(untagged[:3] + named_after[:3]))
    wrong = []
    for sn, pack in packs.items():
        cells = {tag(line, "cell"): fields(line)["voltage_mv"]
                 for line in pack_lines if tag(line, "pack") == sn
                 and line.startswith("ecoflow_battery_cell,")}
        want = {str(i): str(v) for i, v in enumerate(pack["bpCellVol"])
                if v != 65535}
        if cells != want:
            wrong.append("%s cells %r, not %r" % (sn, cells, want))
        own = {}
        for line in pack_lines:
            if tag(line, "pack") == sn and line.startswith(
                    "ecoflow_battery_pack,"):
                own.update(fields(line))
        for key in ("bpRemainWatth", "bpAccuChgEnergy", "bpHvMosTemp",
                    "bpHeartbeatVer"):
            name = {"bpRemainWatth": "remaining_energy",
                    "bpAccuChgEnergy": "charged_energy_total",
                    "bpHvMosTemp": "mos_temperature_hv"}.get(key, snake(key))
            if float(own.get(name, "nan")) != pack[key]:
                wrong.append("%s %s: %r, not %r" % (sn, name, own.get(name),
                                                    pack[key]))
    check("telegraf: each pack's cells, named and unnamed values equal the "
          "simulator's (%d packs)" % len(packs), packs and not wrong,
          "; ".join(wrong[:4]))


def solar_of(line):
    return float(fields(line)["solar_energy_total"].rstrip("i"))


def set_fault(values, answers=1):
    """The simulator's set fault: the quotas of values take them."""
    return "set:%d:%s" % (answers, json.dumps(values))


# What each gather of check_telegraf_counters does to the solar counter,
# and what must come of it: "held" (not published), "no_reading" (not
# published, counted so), "published".
COUNTER_STEPS = [
    (None, "published"),
    ("small", "held"),  # a small step back: a glitch
    (None, "published"),
    ("dip", "held"),  # a big step back for one answer: no reset
    (None, "published"),
    ("spike", "held"),  # 9e9 Wh for one answer
    (None, "published"),
    ("zero", "no_reading"),
    (None, "published"),
    ("reset", "held"),  # a big step back that stays: unsure once
    (None, "published"),  # grows from the new value: believed
    (None, "published"),
]


def counter_fault(step, value):
    return {"small": "counterback:%s:10000:1" % SOLAR,
            "dip": "counterback:%s:%d:1" % (SOLAR, int(value * 0.5)),
            "spike": set_fault({SOLAR: 9e9}),
            "zero": set_fault({SOLAR: 0}),
            "reset": "counterback:%s:%d:1000" % (SOLAR, int(value * 0.5)),
            }[step]


def check_telegraf_counters(sim):
    """One execd, a gather per simulated minute; the counter's faults
    between gathers."""
    sim.set_clock(at=CLOCK)
    execd = Execd(sim, "--sn", OCEAN)
    published, reads = [], []
    try:
        for n, (step, _) in enumerate(COUNTER_STEPS, 1):
            time.sleep(1.1)  # the device is due again (the test hook: 1 s)
            sim.set_clock(advance=60)
            if step is not None:
                last = [v for v in published if v is not None][-1]
                sim.set_fault(OCEAN, counter_fault(step, last))
            execd.gather()
            if not execd.wait_reads(n):
                break
            time.sleep(0.2)
            lines = [line for line in execd.out if line.startswith("ecoflow,")]
            published.append(solar_of(lines[-1]) if len(lines) >= n and
                             "solar_energy_total=" in lines[-1] else None)
            reads.append({k: int(v.rstrip("i")) for k, v in
                          fields(execd.reads()[-1]).items()
                          if k in ("no_reading", "implausible")})
    finally:
        sim.clear_fault(OCEAN)
        rc = execd.finish("eof")
    check("telegraf execd: %d readings, exit 0" % len(COUNTER_STEPS),
          len(reads) == len(COUNTER_STEPS) and rc == 0,
          "%d readings, rc %r" % (len(reads), rc))
    if len(reads) < len(COUNTER_STEPS):
        return
    wrong = []
    for i, (step, want) in enumerate(COUNTER_STEPS):
        got = published[i]
        if (want == "published") != (got is not None):
            wrong.append("%d %s: %r" % (i, step, got))
        elif want == "held" and reads[i]["implausible"] < 1:
            wrong.append("%d %s: not counted implausible" % (i, step))
        elif want == "no_reading" and (reads[i]["no_reading"] <=
                                       reads[i - 1]["no_reading"]):
            wrong.append("%d %s: not counted no reading" % (i, step))
    check("telegraf: a small step back, a dip and a 9e9 spike that return "
          "are held (implausible), a 0 is no reading, a reset is held once "
          "and published when it grows", not wrong,
          "; ".join(wrong) + " %r" % published)
    values = [v for v in published if v is not None]
    drops = [(a, b) for a, b in zip(values, values[1:]) if b < a]
    reset_at = len(COUNTER_STEPS) - 2
    check("telegraf: what is published never steps back but at the reset, "
          "and the spike never shows", len(drops) == 1 and
          drops[0][1] == published[reset_at] and
          drops[0][1] < 0.6 * drops[0][0] and max(values) < 1e9 and
          published[reset_at + 1] >= published[reset_at], repr(published))
    check("telegraf: the counters are floats in measurement ecoflow with "
          "their unit in the name",
          all("_energy_total=" in line and "i," not in line.split(
              "solar_energy_total=")[1][:20]
              for line in published_lines(execd)[:1]),
          published_lines(execd)[0][:120] if published_lines(execd) else "")


def published_lines(execd):
    return [line for line in execd.out if line.startswith("ecoflow,")
            and "solar_energy_total=" in line]


# ---- every value honest (issue 18) -----------------------------------------


def first_pack(data):
    return sorted(k for k in packs_of(data))[0]


def shaped_polls(data):
    """The two answers' shapes: markers where no row (or a row of ANY)
    names them, and keys whose JSON type changes from one to the other."""
    pack = "bp_addr." + first_pack(data)
    return [
        {"96_1.invTemp": -3270, "96_8.pvTemp": 6553.5,
         "32_1.wifiRssi": 429496729.5,
         "ems_change_report.emsKeepSoc": 4294967295,
         "ems_change_report.emsSgReadyEn": False,
         "96_1.fanLevel": 20, "bpSoc": 86.5,
         "ems_change_report.emsWorkMode": "WORKMODE_SELFUSE",
         "x_new.mode": "RUNSTA_RUN", "x_new.errs": [],
         "error_code.pcsErrCode.errCode": [],
         pack + ".bpRealSoh": 4294967295, pack + ".bpHvMosTemp": -3270,
         pack + ".bpNewPct": 65535, pack + ".bpNewFlag": False},
        {"96_1.invTemp": 41.5, "96_8.pvTemp": 30.25, "32_1.wifiRssi": -60,
         "ems_change_report.emsKeepSoc": 20,
         "ems_change_report.emsSgReadyEn": 0,
         "96_1.fanLevel": "20", "bpSoc": "86.25",
         "ems_change_report.emsWorkMode": 1,
         "x_new.mode": 1, "x_new.errs": [601, 602],
         "error_code.pcsErrCode.errCode": [601],
         pack + ".bpRealSoh": 99.5, pack + ".bpHvMosTemp": 31.5,
         pack + ".bpNewPct": "42", pack + ".bpNewFlag": 1},
    ]


def line_tags(line):
    head = re.match(r"(?:[^ \\]|\\.)*", line).group(0)
    return dict(re.findall(r",([^=,]+)=((?:[^,\\]|\\.)*)", head))


DEVICE_TAGS = ("sn", "name", "product")


def device_tag_sets(lines, sn):
    return {tuple(line_tags(line).get(k) for k in DEVICE_TAGS)
            for line in lines if line_tags(line).get("sn") == sn}


def field_of(lines, measurement, field):
    """The values of field in the lines of measurement, as written."""
    return [fields(line)[field] for line in lines
            if line.startswith(measurement + ",") and field in fields(line)]


def check_telegraf_honest(influx, sim):
    sim.set_clock(at=CLOCK + 86400)
    shapes = shaped_polls(sim.sim_quota(OCEAN))
    pack = first_pack(sim.sim_quota(OCEAN))
    run = run_exec(sim, "--sn", OCEAN)
    exec_lines = run.stdout.splitlines(keepends=True)
    check("honest: exec --sn writes its points, exit 0",
          run.returncode == 0 and exec_lines, run.stderr[-300:])
    execd = Execd(sim, "--sn", OCEAN, "--discover-refresh", "1")
    polls = []
    try:
        for n, shape in enumerate(shapes + [None], 1):
            time.sleep(1.1)  # due again, and so is the list (1 s)
            sim.set_clock(advance=60)
            if shape is not None:
                sim.set_fault(OCEAN, set_fault(shape))
            else:
                sim.set_fault("list", "http500")
            before = len(execd.out)
            execd.gather()
            if not execd.wait_reads(n):
                break
            time.sleep(0.3)
            polls.append(execd.out[before:])
        failed_list = wait_until(lambda: any(
            "device/list" in line and "HTTP 500" in line
            for line in execd.err), 10)
    finally:
        sim.clear_fault(OCEAN)
        rc = execd.finish("eof")
    held = run_exec(sim, "--sn", OCEAN)
    sim.clear_fault("list")
    check("honest: execd, three polls (the last with a failing list), exit 0",
          len(polls) == 3 and rc == 0 and failed_list,
          "%d polls, rc %r; %s" % (len(polls), rc, "".join(execd.err)[-500:]))
    if len(polls) < 3:
        return
    for what, lines in (("exec", exec_lines), ("poll 1", polls[0]),
                        ("poll 2", polls[1]), ("poll 3", polls[2])):
        status, body = influx.write("honest", "".join(lines))
        check("honest: influxd takes every line of %s (%d), none refused"
              % (what, len(lines)), status == 204,
              "%s %s" % (status, body[:400]))
    everything = exec_lines + polls[0] + polls[1] + polls[2]
    check("honest: no marker is published (%d lines)" % len(everything),
          not markers_in(everything), "; ".join(markers_in(everything)[:8]))
    types = influx.field_types("honest")
    kinds = {}
    for (measurement, field), type_ in types.items():
        kinds.setdefault((measurement, field), set()).add(type_)
    want = {("ecoflow_raw", "96_1_fan_level"): "float",
            ("ecoflow_raw", "ems_change_report_ems_sg_ready_en"): "float",
            ("ecoflow_raw", "x_new_mode"): "float",
            ("ecoflow_raw", "x_new_mode_text"): "string",
            ("ecoflow_raw", "x_new_errs_0"): "float",
            ("ecoflow_battery_pack", "bp_new_pct"): "float",
            ("ecoflow_battery_pack", "bp_new_flag"): "float",
            ("ecoflow", "battery_soc"): "float",
            ("ecoflow", "work_mode"): "string",
            ("ecoflow", "pcs_error_count"): "integer",
            ("ecoflow", "reserve_soc"): "float"}
    wrong = ["%s %s: %r" % (m, f, types.get((m, f))) for (m, f), t in
             want.items() if types.get((m, f)) != t]
    check("honest: a key whose JSON type changed keeps one field type "
          "(numbers, decimal text and booleans float; text its own _text "
          "field; a state name string; codes counted)", not wrong,
          "; ".join(wrong))
    first, second = polls[0], polls[1]
    pack_first = [line for line in first if ",pack=%s," % pack in line]
    seen = {
        "the -3270 of 96_1.invTemp": field_of(first, "ecoflow_raw",
                                              "96_1_inv_temp"),
        "emsKeepSoc 4294967295": field_of(first, "ecoflow", "reserve_soc"),
        "bpRealSoh 4294967295": field_of(pack_first, "ecoflow_battery_pack",
                                         "real_soh"),
        "bpHvMosTemp -3270": field_of(pack_first, "ecoflow_battery_pack",
                                      "mos_temperature_hv"),
        "an unknown empty list": field_of(first, "ecoflow_raw", "x_new_errs"),
        "a state given a number": field_of(second, "ecoflow", "work_mode"),
    }
    check("honest: markers and what is no value stay out of poll 1, a "
          "number out of a state's field in poll 2",
          not any(seen.values()), repr({k: v for k, v in seen.items() if v}))
    later = {"96_1_inv_temp": field_of(second, "ecoflow_raw", "96_1_inv_temp"),
             "reserve_soc": field_of(second, "ecoflow", "reserve_soc"),
             "bp_new_pct": field_of(second, "ecoflow_battery_pack",
                                    "bp_new_pct"),
             "pcs_error_codes": field_of(second, "ecoflow", "pcs_error_codes")}
    check("honest: the same keys' readings in poll 2 are published",
          later == {"96_1_inv_temp": ["41.5"], "reserve_soc": ["20"],
                    "bp_new_pct": ["42"], "pcs_error_codes": ['"601"']},
          repr(later))
    sets = device_tag_sets(everything, OCEAN)
    check("honest: one tag set (sn, name, product) for the device across "
          "exec, execd's polls and a failed list: %r" % sets,
          len(sets) == 1 and all(next(iter(sets))), repr(sets))
    check("honest: exec with a failing list writes no point (they would "
          "lack the name and product tags), exit 1, says why",
          held.returncode == 1 and held.stdout == "" and
          "until device/list answers" in held.stderr, held.stderr[-400:])


# ---- collectd ---------------------------------------------------------------


def check_collectd(work, sim):
    sim.set_clock(run=True)
    # The house with `RawQuotas true' and the account with `CellValues
    # true': every value of its packs; the DeltaPro without (its family has
    # no catalog rows: all of it anyway).
    block = account_block(None, sim, device_block(DELTA, "delta") + "\n"
                          + device_block(OCEAN, "house", raw_quotas=True),
                          options=["CellValues true"])
    daemon = Collectd(os.path.join(work, "collectd"), block, interval=1)
    daemon.start()
    try:
        check_collectd_numbers(daemon, sim)
        check_collectd_counters(daemon, sim)
        check_packs_collectd(daemon, sim)
        check_collectd_honest(daemon, sim)
    finally:
        rc = daemon.stop()
    check("collectd stops cleanly", rc == 0, daemon.log_text()[-1500:])


def last_values(daemon, instance):
    got = {}
    for v in daemon.values_of(instance):
        got[(v["type"], v["type_instance"])] = v["values"][0]
    return got


def check_collectd_numbers(daemon, sim):
    """The DeltaPro's family has no catalog rows: all its numbers arrive
    (RawQuotas is not needed for it)."""
    expected = {snake(p): v for p, v in
                numbers(sim.sim_quota(DELTA), "", {}).items()}
    arrived = wait_until(lambda: all(("gauge", k) in last_values(
        daemon, "delta") for k in expected), 20)
    got = last_values(daemon, "delta")
    wrong = ["%s: %r, not %r" % (k, got.get(("gauge", k)), v)
             for k, v in expected.items() if got.get(("gauge", k)) != v
             and not k.startswith(("quota_cloud", "utc"))]
    check("collectd: every number of the DeltaPro's answer arrives as "
          "gauge-<name> (%d), list items as <key>_<i>" % len(expected),
          arrived and len(expected) > 50, "missing %r" % sorted(
              k for k in expected if ("gauge", k) not in got)[:6])
    # The simulator's values move with its clock: compare the ones that
    # do not (cell lists of a DeltaPro at rest do).
    steady = [k for k in expected if "cell_vol" in k]
    check("collectd: the DeltaPro's %d cell voltages equal the simulator's"
          % len(steady), steady and not [w for w in wrong if "cell_vol" in w],
          "; ".join(wrong[:6]))


def check_collectd_counters(daemon, sim):
    def solar_values():
        return [(v["time"], v["values"][0]) for v in daemon.values_of("house")
                if v["type_instance"] == "solar_total"]

    def load_times():
        return [v["time"] for v in daemon.values_of("house")
                if (v["type"], v["type_instance"]) == ("power", "load")]

    def reads_after(n):
        count = len(load_times())
        wait_until(lambda: len(load_times()) >= count + n, 20)

    wait_until(lambda: len(solar_values()) >= 2, 20)
    before = solar_values()
    check("collectd: the solar counter arrives as energy_wh-solar_total",
          before, repr(last_values(daemon, "house"))[:300])
    if not before:
        return
    top = max(v for _, v in before)
    since = max(load_times())
    sim.set_fault(OCEAN, "counterback:%s:10000:3" % SOLAR)
    reads_after(5)
    after = [(t, v) for t, v in solar_values() if t > since]
    held = {t for t in load_times() if t > since} - {t for t, _ in after}
    stepped = [v for _, v in after if v < top]
    check("collectd: a small step back is held out (%d reads without it), "
          "and no value stepped back" % len(held), held and not stepped,
          "held %r, stepped %r" % (sorted(held)[:3], stepped[:3]))
    top = max(v for _, v in solar_values())
    sim.set_fault(OCEAN, "counterback:%s:%d:1" % (SOLAR, int(top * 0.5)))
    reads_after(3)
    sim.set_fault(OCEAN, set_fault({SOLAR: 9e9}))
    reads_after(3)
    sim.set_fault(OCEAN, set_fault({SOLAR: 0}))
    reads_after(3)
    values = [v for _, v in solar_values()]
    check("collectd: a dip, a 9e9 spike and a 0 that return are never "
          "dispatched, and their return is no reset",
          min(values) >= before[0][1] and max(values) < 1e9 and
          values == sorted(values), repr(values[-8:]))
    sim.set_fault(OCEAN, "counterback:%s:%d:1000" % (SOLAR, int(top * 0.5)))
    try:
        reset = wait_until(lambda: [v for _, v in solar_values()
                                    if v < 0.6 * top], 20)
        reads_after(2)
    finally:
        sim.clear_fault(OCEAN)
    values = [v for _, v in solar_values()]
    low = [i for i, v in enumerate(values) if v < 0.6 * top]
    check("collectd: a reset (a big step back that stays) is dispatched, "
          "and grows from there", reset and low and
          values[low[0]:] == sorted(values[low[0]:]), repr(values[-6:]))


# The types.db types the plugin dispatches and the unit each holds; what
# has none is a gauge named with its unit, or bool-online and
# duration-data_age of the front end itself.
UNIT_TYPES = {"voltage": (0, 1500), "current": (-1000, 1000),
              "power": (-1e5, 1e5), "temperature": (-60, 150),
              "frequency": (0, 100), "percent": (0, 100),
              "energy_wh": (0, 1e10), "charge": (0, 1e9), "count": (0, 1e5),
              "gauge": None, "bool": (0, 1), "duration": (0, 1e9)}


def check_collectd_honest(daemon, sim):
    """The shaped answers of the Telegraf half, read by collectd (the
    house with RawQuotas and CellValues): no marker dispatched, every
    value under a type of its unit."""
    shapes = shaped_polls(sim.sim_quota(OCEAN))
    start = len(daemon.values_of("house"))
    for shape in shapes:
        count = len([v for v in daemon.values_of("house")
                     if v["type_instance"] == "load"])
        sim.set_fault(OCEAN, set_fault(shape, answers=2))
        wait_until(lambda: len([v for v in daemon.values_of("house")
                                if v["type_instance"] == "load"]) >= count + 3,
                   20)
    sim.clear_fault(OCEAN)
    seen = daemon.values_of("house")[start:]
    markers = ["%s-%s=%r" % (v["type"], v["type_instance"], v["values"][0])
               for v in seen if v["values"][0] in MARKERS]
    check("collectd: no marker dispatched (%d values)" % len(seen),
          seen and not markers, "; ".join(markers[:6]))
    unknown = {v["type"] for v in seen} - set(UNIT_TYPES)
    out = ["%s-%s=%r" % (v["type"], v["type_instance"], v["values"][0])
           for v in seen if UNIT_TYPES.get(v["type"]) is not None and not (
               UNIT_TYPES[v["type"]][0] <= v["values"][0] <=
               UNIT_TYPES[v["type"]][1])]
    check("collectd: every value under a type of its unit and in its range "
          "(types %s)" % sorted({v["type"] for v in seen}),
          not unknown and not out, "%r %s" % (unknown, "; ".join(out[:6])))
    by_id = {(v["type"], v["type_instance"]): v["values"][0] for v in seen}
    cells = [x for (t, i), x in by_id.items()
             if t == "voltage" and re.match(r"pack_.*_cell\d+$", i)]
    check("collectd: cell voltages in volts (%d cells)" % len(cells),
          cells and all(2 < x < 5 for x in cells), repr(cells[:4]))
    watts = [i for (t, i) in by_id if t == "power" and (
        "reactive" in i or "apparent" in i)]
    var = [i for (t, i) in by_id if t == "gauge" and
           i.endswith(("_reactive_power_var", "_apparent_power_va"))]
    check("collectd: reactive and apparent power are no watts: gauges named "
          "_var and _va (%d)" % len(var), len(var) == 6 and not watts,
          repr(watts))
    capacity = [x for (t, i), x in by_id.items()
                if t == "charge" and i.endswith("_full_capacity")]
    check("collectd: a pack's full capacity in Ah", capacity and all(
        0 < x < 1000 for x in capacity), repr(capacity))
    flags = [i for (t, i) in by_id if t == "bool"]
    check("collectd: a flag the catalog does not know is a gauge, 0 or 1",
          by_id.get(("gauge", "ems_change_report_ems_sg_ready_en")) in (0, 1)
          and not flags, repr(flags))


def check_packs_collectd(daemon, sim):
    packs = list(packs_of(sim.sim_quota(OCEAN)))
    got = last_values(daemon, "house")
    mentioning = [i for (_, i) in got if any(sn in i for sn in packs)]
    stray = [i for i in mentioning
             if not any(i == "pack_" + sn or i.startswith("pack_%s_" % sn)
                        for sn in packs)]
    raw_named = [i for (_, i) in got if "bp_addr" in i]
    cells = [i for (_, i) in got if re.match(r"pack_.*_cell\d+$", i)]
    check("collectd (RawQuotas, CellValues true): every pack value is prefixed "
          "pack_<serial>_ (%d values, %d cell voltages), none named "
          "bp_addr_..." % (len(mentioning), len(cells)),
          mentioning and cells and not stray and not raw_named,
          repr(stray[:3] + raw_named[:3]))


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"), (INFLUXD, "influxd"),
                          (PLUGIN, "the plugin"), (COLLECTD, "collectd"))
    if skipped:
        return skipped
    os.environ["ECOFLOW_TEST_MIN_INTERVAL_MS"] = "1000"
    with work_dir("test_data.") as work, \
            simharness.Sim(devices=["%s:powerocean" % OCEAN,
                                    "%s:deltapro" % DELTA],
                           clock=CLOCK) as sim:
        os.makedirs(os.path.join(work, "influx"))
        influx = Influx(os.path.join(work, "influx"))
        try:
            check_telegraf_numbers(influx, sim)
            check_telegraf_honest(influx, sim)
        finally:
            influx.stop()
        check_telegraf_counters(sim)
        check_collectd(work, sim)
    return summary()

if __name__ == "__main__":
    sys.exit(main())
