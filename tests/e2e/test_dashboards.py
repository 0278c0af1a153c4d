#!/usr/bin/env python3
"""test_dashboards.py: every query of the Grafana dashboards and alert
rules in contrib/grafana/ returns data from a real InfluxDB 1.6.7 (Debian's
influxd, in a temporary directory) that both front ends fill from
ecoflow-sim: ecoflow-telegraf's exec output written with /write, and the
real collectd with ecoflow.so sending through its network plugin to
influxd's own collectd input. No Grafana runs: each query is taken from the
JSON or YAML, its variables and macros substituted as Grafana would, and
run against influxd.

The simulated day: the simulator's clock moves 2 h at a time over a day
(PV by day, grid import by night and export by day), and each front end
reads every device at each step: ecoflow-telegraf --execd (a line on stdin
per step) and collectd, both polling fast through the test hook. Half-way
the PowerGlow goes offline. ecoflow-telegraf --execd asked the account's
device list at start (it asks again every 10 minutes): it goes on reading
the cloud's frozen copy, whose data age grows; a last inputs.exec run asks
the list, which says offline. collectd reads the house with its device
list (Discover true, asked every second), which says offline, and the
PowerGlow again without the list (a <Device> in an account without
Discover), as the cloud's frozen copy.

What it shows:
- each dashboard imports through Grafana's UI as an exported one does:
  __inputs asks for one InfluxDB data source, which the data source
  variable defaults to ("${DS_...}", replaced on import as Grafana's
  evaluator replaces it), __requires names Grafana, InfluxDB and exactly
  the panel types used; provisioned as it is, the same variable finds its
  provisioned data source by name (Grafana falls back from the value to
  the text);
- the data sources the dashboards and rules name are the provisioned ones;
  every panel and rule queries InfluxQL as a raw query, through the
  dashboard's data source variable;
- each template variable's query returns values, and with each variable
  at its default ("All"), every query of every panel returns data; the
  per-phase panels show three phases, the pack panels two packs;
- every alert rule's query returns data, and its condition (the newest
  value against the threshold) fires for the offline or stale device only;
  each rule links to a panel of its dashboard.
"""

import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, PULSE, check, skip_unless,  # noqa
                    summary, wait_until, work_dir)
from harness import TOP_SRCDIR, free_port  # noqa: E402
from harness.collectd import (COLLECTD, PLUGIN, Collectd,  # noqa: E402
                              account_block, device_block)
from harness.influx import INFLUXD, Influx  # noqa: E402
from harness.telegraf import TELEGRAF, Execd, run_exec  # noqa: E402

try:
    import yaml
except ImportError:
    yaml = None

GRAFANA = os.path.join(TOP_SRCDIR, "contrib", "grafana")
PROVISIONING = os.path.join(GRAFANA, "provisioning")
DASHBOARDS = ["ecoflow-telegraf.json", "ecoflow-collectd.json"]
ALERTS = ["ecoflow-telegraf.yaml", "ecoflow-collectd.yaml"]
DAY = 1718582400  # 2024-06-17 00:00 UTC: the simulated day's start
STEPS, STEP_S = 12, 7200
NAMES = {OCEAN: "house", HEAT: "heat", PULSE: "ev"}  # the PowerGlow: listed
LISTED_NAME = "PowerGlow 0001"  # what the list calls it
STALE_NAME = "rod"  # the PowerGlow in collectd's account without the list
MIN_INTERVAL_HOOK = "ECOFLOW_TEST_MIN_INTERVAL_MS"  # schedule.h
# What the newest values must make each rule fire for (labels).
FIRING = {
    "ecoflow-telegraf-offline": [{"sn": GLOW, "name": LISTED_NAME}],
    "ecoflow-telegraf-stale": [{"sn": GLOW, "name": LISTED_NAME}],
    "ecoflow-collectd-offline": [{"instance": GLOW}],
    "ecoflow-collectd-stale": [{"instance": STALE_NAME}],
}
# Panels whose series must cover these tag values: {title: (telegraf tag,
# values, collectd tag, values)}.
SERIES = {
    "Active power per phase": ("phase", {"a", "b", "c"}, "type_instance",
                               {"phase_a", "phase_b", "phase_c"}),
    "Battery pack state of charge": ("pack", 2, "type_instance", 2),
}
INTERVALS_MS = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000,
                20000, 30000, 60000, 120000, 300000, 600000, 900000,
                1200000, 1800000, 3600000, 7200000, 10800000, 21600000,
                43200000, 86400000]
UNITS_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def duration_ms(text):
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    return int(match.group(1)) * UNITS_MS[match.group(2)]


def format_interval(ms):
    """An interval as Grafana writes it in a query (gtime.FormatInterval)."""
    for unit in ("d", "h", "m", "s"):
        if ms >= UNITS_MS[unit] and ms % UNITS_MS[unit] == 0:
            return "%d%s" % (ms // UNITS_MS[unit], unit)
    return "%dms" % ms


def interval_ms(range_ms, min_ms, points=1000):
    """$__interval for a time range: about one point per pixel, rounded up
    to a round interval, never below the data source's minimum."""
    wanted = max(min_ms, range_ms // points)
    return next((i for i in INTERVALS_MS if i >= wanted), INTERVALS_MS[-1])


def relative_ms(text, now_ms):
    """A dashboard time ("now", "now-24h") in Unix ms."""
    if text == "now":
        return now_ms
    match = re.fullmatch(r"now-(\d+[smhd])", text)
    return now_ms - duration_ms(match.group(1))


def regex_escape(value):
    """Grafana's escaping of a variable value inside /.../."""
    return re.sub(r"([\\^$*+?.()|\[\]{}/])", r"\\\1", value)


def regex_value(variable, values):
    """A multi-value variable at "All", formatted for a regex."""
    if variable.get("allValue"):
        return variable["allValue"]
    escaped = [regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(%s)" % "|".join(escaped)


def substitute(query, variables, from_ms, to_ms, interval):
    """The query Grafana sends: template variables first (the front end),
    then the macros, in the order of Grafana's InfluxQL back end."""
    def variable(match):
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))
    query = re.sub(r"\$\{(\w+)\}|\$(\w+)", variable, query)
    text = format_interval(interval)
    query = query.replace("$timeFilter", "time >= %dms and time <= %dms"
                          % (from_ms, to_ms))
    query = query.replace("$interval", text)
    query = query.replace("$__interval_ms", str(interval))
    return query.replace("$__interval", text)


def has_data(result):
    """Whether an InfluxDB result holds at least one value that is not
    null, beside the time."""
    for series in result.get("series", []):
        for row in series["values"]:
            if any(v is not None for c, v in zip(series["columns"], row)
                   if c != "time"):
                return True
    return False


def datasources():
    """{uid: (database, minimum interval in ms)} of the provisioned data
    sources."""
    found = {}
    for source in load_yaml(os.path.join(PROVISIONING, "datasources",
                                         "ecoflow.yaml"))["datasources"]:
        data = source.get("jsonData", {})
        found[source["uid"]] = (data["dbName"],
                                duration_ms(data.get("timeInterval", "1ms")))
    return found


def datasource_names():
    """{name: uid} of the provisioned data sources."""
    return {source["name"]: source["uid"] for source in load_yaml(
        os.path.join(PROVISIONING, "datasources", "ecoflow.yaml"))[
            "datasources"]}


# Grafana's dashboard import (pkg/services/dashboardimport/utils,
# DashTemplateEvaluator): each "${NAME}" of an input in any string.
IMPORT_VARIABLE = re.compile(r"\$\{[^}]+\}")


def imported(value, inputs):
    """The dashboard JSON after Grafana's import with inputs {name:
    value}: every "${NAME}" of an input replaced in every string."""
    if isinstance(value, str):
        return IMPORT_VARIABLE.sub(
            lambda m: inputs.get(m.group(0)[2:-1], m.group(0)), value)
    if isinstance(value, list):
        return [imported(v, inputs) for v in value]
    if isinstance(value, dict):
        return {k: imported(v, inputs) for k, v in value.items()
                if k != "__inputs"}
    return value


def strings_of(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_of(item)


def provisioned_uid(variable, names):
    """The data source a provisioned dashboard's data source variable
    selects: its value when that is a data source's uid, else the one whose
    name is its text (Grafana's fallback: variables/state/actions.ts,
    scenes' findOptionMatchingCurrent)."""
    current = variable["current"]
    if current["value"] in names.values():
        return current["value"]
    return names.get(current["text"])


def check_importable(filename, dashboard, names):
    """What Grafana's Import asks for, and what it makes of the answer."""
    inputs = dashboard.get("__inputs", [])
    ok = (len(inputs) == 1 and inputs[0].get("type") == "datasource"
          and inputs[0].get("pluginId") == "influxdb"
          and inputs[0].get("name", "").startswith("DS_"))
    check("%s: __inputs asks for one InfluxDB data source" % filename, ok,
          json.dumps(inputs))
    if not ok:
        return
    name = inputs[0]["name"]
    used = {m for text in strings_of(dashboard) for m in
            IMPORT_VARIABLE.findall(text) if m.startswith("${DS_")}
    variable = [v for v in dashboard["templating"]["list"]
                if v["type"] == "datasource"][0]
    check("%s: the data source variable defaults to the input (${%s}), "
          "the only input used; by name, to a provisioned data source"
          % (filename, name),
          used == {"${%s}" % name}
          and variable["current"]["value"] == "${%s}" % name
          and variable["current"]["text"] in names,
          "%r %r" % (used, variable["current"]))
    panels = {p["type"] for p in panels_of(dashboard)} - {"row"}
    requires = {(r["type"], r["id"]) for r in dashboard.get("__requires",
                                                            [])}
    check("%s: __requires names Grafana, InfluxDB and the %d panel types "
          "used" % (filename, len(panels)),
          requires == {("grafana", "grafana"), ("datasource", "influxdb")}
          | {("panel", t) for t in panels}, repr(sorted(requires)))
    after = imported(dashboard, {name: "uid-picked-on-import"})
    variable = [v for v in after["templating"]["list"]
                if v["type"] == "datasource"][0]
    left = [t for t in strings_of(after) if "${DS_" in t]
    check("%s: imported with a data source picked, the variable holds it "
          "and every panel queries through the variable" % filename,
          variable["current"]["value"] == "uid-picked-on-import"
          and not left and all(
              p["datasource"]["uid"] == "${datasource}"
              for p in panels_of(after) if p["type"] != "row"),
          "%r %r" % (variable["current"], left[:3]))


# ---- filling influxd -----------------------------------------------------


def collectd_block(sim, influx_collectd_port):
    """Two accounts on the one simulator: the house with its device list
    (online flags; the PowerGlow discovered, named by serial number), and
    the PowerGlow again, named, without the list: polled even when
    offline. The network plugin comes from Debian's plugin directory."""
    home = account_block("home", sim, "\n".join(
        device_block(sn, name) for sn, name in NAMES.items()),
        indent="    ", options=["Discover true", "DiscoverRefresh 1"])
    rod = account_block("rod", sim, device_block(GLOW, STALE_NAME),
                        indent="    ")
    return """<Plugin ecoflow>
%s
%s
</Plugin>
PluginDir "/usr/lib/collectd"
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "%d"
</Plugin>""" % (home, rod, influx_collectd_port)


def fill(influx, sim, work, collectd_port):
    """Runs the simulated day through both front ends; returns whether every
    Telegraf batch came and was written whole."""
    listed = ["--discover"] + [a for sn, name in NAMES.items()
                               for a in ("--sn", "%s=%s" % (sn, name))]
    os.environ[MIN_INTERVAL_HOOK] = "200"  # each step reads every device
    try:
        daemon = Collectd(os.path.join(work, "collectd"),
                          collectd_block(sim, collectd_port), interval=0.2)
        daemon.start()
        execd = Execd(sim, *listed)
    finally:
        del os.environ[MIN_INTERVAL_HOOK]
    written = []
    try:
        for step in range(STEPS):
            if step == STEPS // 2:
                sim.set_fault(GLOW, "offline")
            started, sent = time.monotonic(), len(execd.out)
            execd.gather()
            written.append(execd.wait_reads((step + 1) * (len(NAMES) + 1)))
            status, body = influx.write("telegraf",
                                        "".join(execd.out[sent:]))
            written.append(status == 204)
            # Let collectd read this hour, and its list tell the offline.
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
            sim.set_clock(advance=STEP_S)
        run = run_exec(sim, *listed)  # the list, asked again
        status, body = influx.write("telegraf", run.stdout)
        written.append(run.returncode == 0 and status == 204)
    finally:
        execd.finish("eof")
        rc = daemon.stop()
    check("collectd stops cleanly", rc == 0, daemon.log_text()[-2000:])
    def collectd_count():
        result = influx.query("collectd",
                              'SELECT count("value") FROM "ecoflow_value"')
        series = result.get("series") or [{"values": [[0, 0]]}]
        return series[0]["values"][0][1]
    def settled():
        before = collectd_count()
        time.sleep(0.5)  # influxd's collectd input writes in batches
        return before > 0 and collectd_count() == before
    wait_until(settled, 20)
    count = collectd_count()
    check("collectd's values reach influxd's collectd input (%d)" % count,
          count > 1000)
    return all(written)


# ---- dashboards ----------------------------------------------------------


def panels_of(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def check_dashboard(influx, sources, filename, now_ms):
    with open(os.path.join(GRAFANA, filename)) as f:
        dashboard = json.load(f)
    variables = dashboard["templating"]["list"]
    names = datasource_names()
    check_importable(filename, dashboard, names)
    source_var = [v for v in variables if v["type"] == "datasource"]
    uid = provisioned_uid(source_var[0], names) if source_var else None
    check("%s: a data source variable, by default a provisioned InfluxDB "
          "data source" % filename, uid in sources and
          source_var[0]["query"] == "influxdb", repr(uid))
    if uid not in sources:
        return
    database, min_interval = sources[uid]
    to_ms = relative_ms(dashboard["time"]["to"], now_ms)
    from_ms = relative_ms(dashboard["time"]["from"], now_ms)
    interval = interval_ms(to_ms - from_ms, min_interval)
    values = {"datasource": uid}
    for variable in variables:
        if variable["type"] != "query":
            continue
        query = substitute(variable["query"], values, from_ms, to_ms,
                           interval)
        result = influx.query(database, query)
        found = sorted({row[1] for s in result.get("series", [])
                        for row in s["values"]})
        check("%s: variable %s lists values (%s)" % (
            filename, variable["name"], ", ".join(found)),
            found and variable.get("includeAll") and
            variable["current"]["value"] == ["$__all"], repr(result))
        values[variable["name"]] = regex_value(variable, found)

    panels = [p for p in panels_of(dashboard) if p["type"] != "row"]
    ids = [p["id"] for p in panels_of(dashboard)]
    check("%s: %d panels, ids unique" % (filename, len(panels)),
          len(ids) == len(set(ids)) and len(panels) >= 20)
    empty, failed, raw = [], [], []
    for panel in panels:
        for target in panel["targets"]:
            where = "%s %s" % (panel["title"], target["refId"])
            if not (target.get("rawQuery") and target.get("query") and
                    panel["datasource"]["uid"] == "${datasource}" and
                    target["datasource"]["uid"] == "${datasource}"):
                raw.append(where)
                continue
            query = substitute(target["query"], values, from_ms, to_ms,
                               interval)
            result = influx.query(database, query)
            if "error" in result or not result:
                failed.append("%s: %s: %s" % (where, query, result))
            elif not has_data(result):
                empty.append("%s: %s" % (where, query))
            target["result"] = result
    check("%s: every query is raw InfluxQL on the data source variable"
          % filename, not raw, ", ".join(raw))
    check("%s: every query of every panel runs (%d)" % (
        filename, sum(len(p["targets"]) for p in panels)), not failed,
        "; ".join(failed[:3]))
    check("%s: and returns data" % filename, not empty,
          "; ".join(empty[:3]))
    for title, (tg_tag, tg_want, cd_tag, cd_want) in SERIES.items():
        tag, want = (tg_tag, tg_want) if "telegraf" in filename else \
            (cd_tag, cd_want)
        got = {s.get("tags", {}).get(tag) for p in panels
               if p["title"] == title for t in p["targets"]
               for s in t.get("result", {}).get("series", [])}
        check("%s: %s shows %s %s" % (filename, title, want, tag),
              got == want if isinstance(want, set) else len(got) == want,
              repr(got))
    return dashboard


# ---- alert rules ---------------------------------------------------------

THRESHOLDS = {"gt": lambda v, p: v > p[0], "lt": lambda v, p: v < p[0]}


def evaluate(rule, results):
    """The label sets a rule fires for: A's series reduced to their newest
    value (B), against the threshold (C)."""
    models = {d["refId"]: d["model"] for d in rule["data"]}
    condition = models[rule["condition"]]
    reduce = models[condition["expression"]]
    assert condition["type"] == "threshold" and reduce["type"] == "reduce"
    assert reduce["reducer"] == "last"
    evaluator = condition["conditions"][0]["evaluator"]
    firing = []
    for series in results[reduce["expression"]].get("series", []):
        column = series["columns"].index("time")
        newest = [v for row in series["values"] for i, v in enumerate(row)
                  if i != column and v is not None]
        if newest and THRESHOLDS[evaluator["type"]](newest[-1],
                                                   evaluator["params"]):
            firing.append(series.get("tags", {}))
    return firing


def check_alerts(influx, sources, dashboards, filename, now_ms, soc):
    rules = [rule for group in load_yaml(
        os.path.join(PROVISIONING, "alerting", filename))["groups"]
        for rule in group["rules"]]
    check("%s: rules for device offline, data stale, battery low" % filename,
          {r["uid"].rsplit("-", 1)[-1] for r in rules} >=
          {"offline", "stale", "low"}, repr([r["uid"] for r in rules]))
    for rule in rules:
        results, problems = {}, []
        for data in rule["data"]:
            if data["datasourceUid"] == "__expr__":
                continue
            if data["datasourceUid"] not in sources:
                problems.append("unknown data source %s"
                                % data["datasourceUid"])
                continue
            database, _ = sources[data["datasourceUid"]]
            span = data["relativeTimeRange"]
            query = substitute(data["model"]["query"], {},
                               now_ms - span["from"] * 1000,
                               now_ms - span["to"] * 1000,
                               data["model"].get("intervalMs", 1000))
            result = influx.query(database, query)
            if not has_data(result):
                problems.append("%s: %s" % (query, result))
            results[data["refId"]] = result
        check("%s %s: the query returns data" % (filename, rule["uid"]),
              results and not problems, "; ".join(problems))
        if problems:
            continue
        firing = evaluate(rule, results)
        if rule["uid"].endswith("battery-low"):
            threshold = rule["data"][-1]["model"]["conditions"][0][
                "evaluator"]["params"][0]
            check("%s %s: fires for no device (the battery is at %s %%)"
                  % (filename, rule["uid"], soc),
                  soc >= threshold and not firing, repr(firing))
        else:
            want = FIRING[rule["uid"]]
            check("%s %s: fires for %s only" % (filename, rule["uid"], want),
                  [{k: t[k] for k in want[0]} for t in firing] == want,
                  repr(firing))
        panel_ids = [p["id"] for p in panels_of(
            dashboards.get(rule.get("dashboardUid"), {"panels": []}))]
        check("%s %s: links to a panel of dashboard %s" % (
            filename, rule["uid"], rule.get("dashboardUid")),
            rule.get("panelId") in panel_ids)


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"),
                          (PLUGIN, "ecoflow.so"), (COLLECTD, "collectd"),
                          (INFLUXD, "influxd"))
    if skipped:
        return skipped
    if yaml is None:
        print("# python3-yaml is missing: skipped")
        return 77
    with work_dir("test_dashboards.") as work:
        influx = None
        try:
            collectd_port = free_port()
            influx = Influx(work, extra=f"""[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:{collectd_port}"
  database = "collectd"
  typesdb = "/usr/share/collectd/types.db"
  batch-size = 1000
  batch-timeout = "200ms"
""")
            with simharness.Sim(clock=DAY) as sim:
                written = fill(influx, sim, work, collectd_port)
                check("every Telegraf batch comes and is written whole",
                      written)
                soc = sim.sim_quota(OCEAN)["bpSoc"]
            sources = datasources()
            now_ms = int(time.time() * 1000)
            dashboards = {}
            for filename in DASHBOARDS:
                dashboard = check_dashboard(influx, sources, filename, now_ms)
                if dashboard:
                    dashboards[dashboard["uid"]] = dashboard
            for filename in ALERTS:
                check_alerts(influx, sources, dashboards, filename, now_ms,
                             soc)
        finally:
            if influx is not None:
                influx.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
