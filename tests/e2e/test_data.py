#!/usr/bin/env python3
"""The data users ask for (issue 14), through both front ends, against
ecoflow-sim and the real daemons (influxd as the strict line-protocol
reader, collectd with write_log):

- every number of a captured-shape answer of another family (the
  simulator's DeltaPro: cell voltage lists, lists of lists, nested groups)
  arrives as a number, each item of a list as <key>_<i>, with the
  simulator's value; no list of numbers arrives as one string;
- the lifetime energy counters arrive typed (float / energy_wh), a small
  step back is held out of that reading (counted as implausible), a big
  one (a reset) is published, and the values published never step back
  otherwise;
- every value of a battery pack carries its pack (tag, type-instance
  prefix), named or not, and none is named after the pack's serial.

The expected names are computed here, independently of the C code: the
flattening and snake_case rules of the README.
"""

import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import simharness  # noqa: E402
from checks import (OCEAN, check, skip_unless, summary, wait_until,  # noqa
                    work_dir)
from test_collectd import (COLLECTD, PLUGIN, Collectd,  # noqa: E402
                           account_block, device_block)
from test_telegraf import (INFLUXD, TELEGRAF, Execd, Influx,  # noqa: E402
                           environment, run_exec)

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


FIELD = re.compile(r'(?:^|,)([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|[^,]*)')


def fields(line):
    """{key: text} of one line-protocol line's fields (the keys this test
    looks at have no escapes)."""
    head = re.match(r"(?:[^ \\]|\\.)*", line).group(0)
    body = line[len(head) + 1:].rstrip("\n").rsplit(" ", 1)[0]
    return dict(FIELD.findall(body))


def tag(line, key):
    m = re.search(r"[,]%s=([^, ]+)" % key, line.split(" ")[0])
    return m.group(1) if m else None


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
        for key in ("bpRemainWatth", "bpAccuChgEnergy", "bpHvMosTemp"):
            name = {"bpRemainWatth": "remaining_energy"}.get(key, snake(key))
            if float(own.get(name, "nan")) != pack[key]:
                wrong.append("%s %s: %r, not %r" % (sn, name, own.get(name),
                                                    pack[key]))
    check("telegraf: each pack's cells, named and unnamed values equal the "
          "simulator's (%d packs)" % len(packs), packs and not wrong,
          "; ".join(wrong[:4]))


def solar_of(line):
    return float(fields(line)["solar_energy_total"].rstrip("i"))


def check_telegraf_counters(sim):
    """One execd, a gather per simulated minute; the counter's faults
    between gathers."""
    sim.set_clock(at=CLOCK)
    execd = Execd(sim, "--sn", OCEAN)
    steps = [None, "small", None, "reset", None]
    published, reads = [], []
    try:
        for n, step in enumerate(steps, 1):
            time.sleep(1.1)  # the device is due again (the test hook: 1 s)
            sim.set_clock(advance=60)
            if step is not None:
                value = solar_of(published_lines(execd)[-1])
                back = 10000 if step == "small" else int(value * 0.5)
                sim.set_fault(OCEAN, "counterback:%s:%d:1" % (SOLAR, back))
            execd.gather()
            if not execd.wait_reads(n):
                break
            time.sleep(0.2)
            lines = [line for line in execd.out if line.startswith("ecoflow,")]
            published.append(solar_of(lines[-1]) if len(lines) >= n and
                             "solar_energy_total=" in lines[-1] else None)
            reads.append(fields(execd.reads()[-1]))
    finally:
        rc = execd.finish("eof")
    check("telegraf execd: five readings, exit 0",
          len(reads) == 5 and rc == 0, "%d readings, rc %r" % (len(reads), rc))
    if len(reads) < 5:
        return
    check("telegraf: a small step back is held out of that reading, and "
          "counted as implausible",
          published[1] is None and int(reads[1]["implausible"].rstrip("i"))
          >= 1 and published[0] is not None and published[2] is not None
          and published[2] >= published[0], repr(published))
    check("telegraf: a big step back (a reset) is published, and the counter "
          "grows from there", published[3] is not None
          and published[3] < 0.6 * published[2]
          and published[4] is not None and published[4] >= published[3],
          repr(published))
    check("telegraf: the counters are floats in measurement ecoflow with "
          "their unit in the name",
          all("_energy_total=" in line and "i," not in line.split(
              "solar_energy_total=")[1][:20]
              for line in published_lines(execd)[:1]),
          published_lines(execd)[0][:120] if published_lines(execd) else "")


def published_lines(execd):
    return [line for line in execd.out if line.startswith("ecoflow,")
            and "solar_energy_total=" in line]


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

    wait_until(lambda: len(solar_values()) >= 2, 20)
    before = solar_values()
    check("collectd: the solar counter arrives as energy_wh-solar_total",
          before, repr(last_values(daemon, "house"))[:300])
    if not before:
        return
    top = max(v for _, v in before)
    since = max(load_times())
    sim.set_fault(OCEAN, "counterback:%s:10000:3" % SOLAR)
    n_load = len(load_times())
    wait_until(lambda: len(load_times()) >= n_load + 5, 20)
    after = [(t, v) for t, v in solar_values() if t > since]
    held = {t for t in load_times() if t > since} - {t for t, _ in after}
    stepped = [v for _, v in after if v < top]
    check("collectd: a small step back is held out (%d reads without it), "
          "and no value stepped back" % len(held), held and not stepped,
          "held %r, stepped %r" % (sorted(held)[:3], stepped[:3]))
    top = max(v for _, v in solar_values())
    sim.set_fault(OCEAN, "counterback:%s:%d:1" % (SOLAR, int(top * 0.5)))
    reset = wait_until(lambda: [v for _, v in solar_values()
                                if v < 0.6 * top], 20)
    check("collectd: a reset (a big step back) is dispatched", reset,
          repr(solar_values()[-4:]))


def check_packs_collectd(daemon, sim):
    packs = list(packs_of(sim.sim_quota(OCEAN)))
    got = last_values(daemon, "house")
    mentioning = [i for (_, i) in got if any(sn in i for sn in packs)]
    stray = [i for i in mentioning
             if not any(i == "pack_" + sn or i.startswith("pack_%s_" % sn)
                        for sn in packs)]
    raw_named = [i for (_, i) in got if "bp_addr" in i]
    cells = [i for (_, i) in got if re.match(r"pack_.*_cell\d+_mv$", i)]
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
        finally:
            influx.stop()
        check_telegraf_counters(sim)
        check_collectd(work, sim)
    return summary()

if __name__ == "__main__":
    sys.exit(main())
