#!/usr/bin/env python3
"""test_collectd_discovery.py: `Discover', `Quota' and <Report> of the
collectd plugin, in the real collectd daemon against ecoflow-sim.

What it shows:
- with `Discover true', every device the account lists is polled besides
  the configured one (named by its <Device> block); discovered devices are
  named by serial number, their productName (when the cloud gives one) is
  in the meta data, and each listed device's online flag arrives as
  bool-online;
- a listed device the cloud refuses with 1006 is reported once, with what
  to do, and not polled again at the following reads (hourly);
- a device that goes offline between two list refreshes is skipped: not
  polled, bool-online 0, a notice and no error or warning; a device bound
  to the account later appears at the next refresh without a restart;
- `Quota "bpSoc" "pcsAPhase"' polls with POST quota (nested answer), and
  the values equal those of quota/all (flat answer) for the same quotas;
- an account's <Report> fetches this week's window (Monday 00:00:00 UTC
  to now, less than a week) for every device, discovered ones too but not
  the refused one, and dispatches each index as the simulator computes it:
  energy_wh (kWh x 1000), percent (a *_pct fraction x 100), with the
  clean index name after the
  InstancePrefix (week_from_solar) as type instance and the window in the
  meta data;
- a run with all of it (and a <Device>'s own <Report>) is clean under
  valgrind.
"""

import calendar
import decimal
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, PULSE, check,  # noqa: E402
                    memcheck_prefix, skip_unless, summary, wait_until,
                    work_dir)
from harness.collectd import (COLLECTD, ORACLE, PLUGIN,  # noqa: E402
                              Collectd, account_block, expected_values,
                              gauge)
from harness.signed import quota_data  # noqa: E402

REPORT = "JT303_Dashboard_Overview_Summary_Week"
WEEK_S = 7 * 86400
READ_S = 10  # collectd's interval, and the shortest poll interval
SELECTED = ("bpSoc", "pcsAPhase")


def house_block(quotas=(), report=True):
    lines = ['  <Device "%s">' % OCEAN, '    Name "house"']
    if quotas:
        lines.append("    Quota %s" % " ".join('"%s"' % q for q in quotas))
    if report:
        lines += ['    <Report "%s">' % REPORT, "      Interval %d" % READ_S,
                  "    </Report>"]
    lines.append("  </Device>")
    return "\n".join(lines)


PREFIX = "week_"


def discovery_block(sim, refresh=1):
    """Discovery, and the report for every device of the account."""
    return account_block(None, sim, house_block(report=False), options=(
        "Discover true", "DiscoverRefresh %d" % refresh,
        '<Report "%s">' % REPORT, "  Interval %d" % READ_S,
        '  InstancePrefix "%s"' % PREFIX, "</Report>"))


def online(daemon, instance):
    """The bool-online values of a plugin instance, in order."""
    return [v["values"][0] for v in daemon.values_of(instance)
            if v["type"] == "bool" and v["type_instance"] == "online"]


def quota_values(daemon, instance):
    """{(type, instance): value} of the quota values (not online, not
    report) of the last reading of a device."""
    got = {}
    for v in daemon.values_of(instance):
        if (v["type"], v["type_instance"]) == ("bool", "online") or "report" in v.get("meta", {}):
            continue
        got[(v["type"], v["type_instance"])] = v["values"][0]
    return got


def daemon_for(work, name, block, **kwargs):
    """A Collectd whose log names each line's severity."""
    return Collectd(os.path.join(work, name), block, print_severity=True,
                    **kwargs)


def polls(sim, serial):
    return sim.stats()["devices"].get(serial, 0)


def noise(daemon, allowed=()):
    """ecoflow error and warning lines, bar the allowed patterns and the
    clock (the simulator's clock may stand still)."""
    return [line for line in daemon.lines(r"\[(error|warning)\] ecoflow")
            if not any(a in line for a in allowed) and "clock" not in line]


# ---- discovery, offline, new devices, 1006 ------------------------------


def check_discovery(work, sim):
    daemon = daemon_for(work, "discovery", discovery_block(sim),
                        interval=READ_S)
    daemon.start()
    started = time.monotonic()

    def first_read():
        return (quota_values(daemon, "house") and
                quota_values(daemon, HEAT) and online(daemon, GLOW) and
                daemon.lines("1006"))
    check("read 1: the configured and the discovered devices arrive",
          wait_until(first_read, 20), daemon.log_text()[-2000:])
    heat_values = [v for v in daemon.values_of(HEAT) if v["type"] != "bool"]
    check("a discovered device is named by its serial number, its "
          "productName in the meta data",
          heat_values and all(v["meta"].get("product") == "PowerHeat" and
                              v["meta"].get("serial") == HEAT
                              for v in heat_values),
          json.dumps(heat_values[:1]))
    glow = daemon.values_of(GLOW)
    check("a device without productName has no product meta data",
          glow and all("product" not in v.get("meta", {}) for v in glow),
          json.dumps(glow[:1]))
    check("the online flag of every listed device arrives as bool-online 1",
          online(daemon, "house") == [1] and online(daemon, HEAT) == [1]
          and online(daemon, GLOW) == [1],
          "%r %r %r" % (online(daemon, "house"), online(daemon, HEAT),
                        online(daemon, GLOW)))
    check("an unlisted device is not polled", polls(sim, PULSE) == 0)
    heat_polls = polls(sim, HEAT)

    # Between two refreshes: the heat pump goes offline, the EV charger
    # is bound to the account.
    sim.set_fault(HEAT, "offline")
    sim.clear_fault(PULSE)

    def second_read():
        return quota_values(daemon, PULSE) and 0 in online(daemon, HEAT)
    check("read 2: the new device's values arrive without a restart",
          wait_until(second_read, READ_S + 10), daemon.log_text()[-2000:])
    found = daemon.lines("ecoflow plugin: device %s .*found by discovery"
                         % PULSE)
    check("the new device is announced once, at info level",
          len(found) == 1 and "[info]" in found[0], "; ".join(found))
    check("the offline device is skipped: online 0, not polled",
          online(daemon, HEAT)[-1] == 0 and polls(sim, HEAT) == heat_polls,
          "%r, polled %d times (was %d)" % (online(daemon, HEAT),
                                            polls(sim, HEAT), heat_polls))
    offline = daemon.lines("ecoflow plugin: device %s .*: offline "
                           "\\(device/list\\)" % HEAT)
    check("and said once, as a notice", len(offline) == 1 and
          "[notice]" in offline[0], "; ".join(offline))

    # A third read: the refused device still waits for its hour.
    wait_until(lambda: len(online(daemon, HEAT)) >= 3, READ_S + 10)
    refused = daemon.lines("ecoflow plugin: .*%s.*1006" % GLOW)
    check("a 1006 device is asked once in %.0f s of reads (its report "
          "not at all)" % (time.monotonic() - started), polls(sim, GLOW) == 1,
          "asked %d times" % polls(sim, GLOW))
    check("and reported once as an error, with what to do and when it is "
          "retried", len(refused) == 1 and "[error]" in refused[0]
          and "PowerOcean's serial number" in refused[0]
          and "re-tried every hour" in refused[0], "; ".join(refused))
    check("no other error or warning",
          not noise(daemon, allowed=("1006",)), "; ".join(noise(daemon)))
    check_week_report(daemon, sim)
    rc = daemon.stop()
    check("the daemon stops cleanly", rc == 0, "rc %s" % rc)


def check_week_report(daemon, sim):
    """The <Report>'s values equal the simulator's answer for the window
    the plugin asked for, named and scaled by the core."""
    def report_of(instance):
        return [v for v in daemon.values_of(instance)
                if v.get("meta", {}).get("report") == REPORT]
    reports = report_of("house")
    if not check("the account's report arrives for the configured and the "
                 "discovered devices", reports and report_of(PULSE)):
        return
    last = reports[-1]["meta"]
    window = [v for v in reports if v["meta"] == last]
    begin, end = (calendar.timegm(time.strptime(last[k], "%Y-%m-%d %H:%M:%S"))
                  for k in ("begin", "end"))
    check("its window is this week so far: Monday 00:00:00 UTC, < 7 days",
          time.gmtime(begin).tm_wday == 0 and begin % 86400 == 0
          and 0 < end - begin < WEEK_S and abs(end - time.time()) < 60,
          repr(last))
    answer = quota_data(sim, OCEAN, last["begin"], last["end"],
                                 REPORT)
    indexes = json.loads(answer.body, parse_float=decimal.Decimal)
    expected = {}
    for index in indexes["data"]["data"]:
        name = index["indexName"].lower().replace(" ", "_").replace("-", "_")
        value = decimal.Decimal(index["indexValue"])
        if index["unit"] == "kWh":
            expected[("energy_wh", PREFIX + name)] = gauge(float(value * 1000))
        elif name.endswith("_pct"):  # a fraction of 1 sent with unit %
            expected[("percent", PREFIX + name)] = gauge(float(value * 100))
        else:
            expected[("percent", PREFIX + name)] = gauge(float(value))
    got = {(v["type"], v["type_instance"]): v["values"][0] for v in window}
    check("all %d indexes arrive, typed energy_wh (kWh x 1000) or percent, "
          "equal to the simulator's" % len(expected), got == expected,
          "got %r, expected %r" % (got, expected))
    check("e.g. energy_wh-week_from_solar and percent-week_self_sufficiency",
          ("energy_wh", "week_from_solar") in got
          and ("percent", "week_self_sufficiency") in got)


# ---- selected quotas: nested and flat answers ---------------------------


def first_reading(work, name, sim, quotas, wanted):
    """The values of one read of the house (until wanted have arrived),
    and the endpoints it used. (collectd -T may drop the last values when
    it shuts down its write threads: a daemon is waited for instead.)"""
    block = account_block(None, sim, house_block(quotas, report=False))
    daemon = Collectd(os.path.join(work, name), block, interval=READ_S)
    before = sim.stats()["endpoints"]
    daemon.start()
    wait_until(lambda: wanted <= set(quota_values(daemon, "house")), 15)
    rc = daemon.stop()
    after = sim.stats()["endpoints"]
    used = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    return rc, quota_values(daemon, "house"), used


def check_selected_quotas(work, sim):
    # What the catalog makes of the flat answer's selected quotas, and of
    # all of them (the clock stands still: every answer is the same).
    flat = sim.sim_quota(OCEAN)
    chosen = {p: v for p, v in flat.items()
              if p in SELECTED or p.split(".")[0] in SELECTED}
    names = set(expected_values(chosen)[0])
    rc, selected, used = first_reading(work, "selected", sim, SELECTED, names)
    check("with `Quota': one POST quota and no quota/all",
          rc == 0 and used == {"device/quota": 1}, "rc %d, %r" % (rc, used))
    every = set(expected_values(flat)[0])
    rc, full, used = first_reading(work, "all", sim, (), every)
    check("without: one quota/all",
          rc == 0 and used == {"device/quota/all": 1},
          "%r; not arrived: %r" % (used, sorted(every - set(full))[:5]))
    wanted = {k: v for k, v in full.items() if k in names}
    check("the nested answer of %d quotas gives their %d values" % (
        len(chosen), len(names)), set(selected) == names and len(names) > 5,
          "%r vs %r" % (sorted(selected), sorted(names)))
    check("identical to the flat answer's values for the same quotas",
          selected == wanted, "nested %r, flat %r" % (selected, wanted))


# ---- valgrind -----------------------------------------------------------


def check_valgrind(work, sim):
    if shutil.which("valgrind") is None:
        print("# valgrind not installed: daemon memcheck skipped")
        return
    report = os.path.join(work, "valgrind.txt")
    block = account_block(None, sim, house_block(SELECTED), options=(
        "Discover true", "DiscoverRefresh 1"))
    daemon = daemon_for(work, "valgrind", block,
                        prefix=memcheck_prefix(report))
    rc, output = daemon.test_once()  # the values themselves may be dropped
    with open(report) as f:
        text = f.read()
    errors = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    check("collectd -T under valgrind with discovery, quotas and a report: "
          "rc 0, 0 errors", rc == 0 and errors and set(errors) == {"0"}
          and daemon.lines("found by discovery"),
          "rc %s, %s %s" % (rc, output[-600:], text[-1500:]))


def main():
    skipped = skip_unless((PLUGIN, "the plugin"), (ORACLE, "the oracle"),
                          (COLLECTD, "collectd"))
    if skipped:
        return skipped
    fleet = ["%s:%s" % (sn, family) for sn, family in (
        (OCEAN, "powerocean"), (HEAT, "powerheat"), (GLOW, "powerglow"),
        (PULSE, "powerpulse"))]
    with work_dir("test_collectd_discovery.") as work:
        # The clock runs with ours, so that readings are new at each read and
        # the report's week is this week.
        with simharness.Sim(devices=fleet, faults=[
                "%s:1006" % GLOW, "%s:unlisted" % PULSE]) as sim:
            check_discovery(work, sim)
        # It stands still here, so that two reads can be compared.
        with simharness.Sim(devices=fleet, clock=int(time.time())) as sim:
            check_selected_quotas(work, sim)
            check_valgrind(work, sim)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
