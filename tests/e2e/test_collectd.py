#!/usr/bin/env python3
"""test_collectd.py: the real collectd daemon with ecoflow.so, against
ecoflow-sim on loopback.

What it shows:
- every value of every device family arrives in collectd with the
  simulator's value, the catalog's type and type instance, the device's
  Name as plugin instance and the serial number in the meta data; every
  quota of the reference document is among them; "no reading" sentinels
  never arrive (oracle: collectd_expected, the core's own naming);
- accounts are polled with their own keys and error state: an account with
  a wrong secret fails alone;
- a faulted device neither stops nor delays the others, is logged once
  (not every interval) with a FAILURE notification, and once more with an
  OKAY notification when it recovers;
- a reading the cloud only repeats (frozen stamp: a device offline) is not
  dispatched again, and is reported once after three repeats;
- a bad configuration (unknown option, missing secret, secret file readable
  by others) is refused by `collectd -T` with a readable message;
- the daemon stops cleanly, and a run under valgrind is clean.

Values are read from write_log's JSON, which prints gauges with %.15g: the
comparison is exact to that precision (CSV would round to 6 decimals).
"""

import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (FAMILIES, GLOW, HEAT, OCEAN, PULSE, REFERENCE,  # noqa
                    check, memcheck_prefix, skip_unless, summary,
                    wait_until, work_dir)
from harness.collectd import (COLLECTD, HOST, ORACLE, PLUGIN,  # noqa: E402
                              Collectd, account_block, device_block,
                              expected_values, flatten, gauge)

# A frozen simulated time at which the PowerOcean's heat pump has no ambient
# reading (-3270): the sentinel must stay out of collectd.
CLOCK = 1750000000
# What each account says once about the simulators' clock, frozen in the
# past (client.h: EF_CLOCK_SKEW_MS).
CLOCK_NOTE = "this machine's clock is"
CHECK_SAYS_OK = re.compile(r"ecoflow plugin: (check: (ok|note): |check: "
                           r"everything a run needs works|check: the "
                           r"configuration that works|    |the first-run "
                           r"check \(also in collectd's log\):$)")

TEXT_QUOTAS = {"chargingStatus"}
# Names the issue promises, checked against the simulator's numbers
# without the catalog in between.
PROMISED = {
    OCEAN: {("voltage", "phase_a"): "pcsAPhase.vol",
            ("power", "battery"): "bpPwr",
            ("power", "grid"): "sysGridPwr",
            ("percent", "battery_soc"): "bpSoc"},
    HEAT: {("temperature", "zone_b"): "sectorB.tempCurr"},
}


# ---- the checks --------------------------------------------------------


NAMES = {OCEAN: "house", HEAT: None, GLOW: "glow", PULSE: "garage"}


# Who dispatches every quota (`RawQuotas true'): the house by its own
# <Device> option, the account "family" for its devices but the PowerGlow,
# whose <Device> says false; the others only the catalog's, as by default.
RAW_QUOTAS = {OCEAN, PULSE}


def start_values_run(work, home, family):
    """Every family, in two accounts, next to an account with a wrong key."""
    block = "<Plugin ecoflow>\n%s\n%s\n%s\n</Plugin>" % (
        account_block("home", home,
                      device_block(OCEAN, "house", raw_quotas=True) + "\n"
                      + device_block(HEAT), indent="    "),
        account_block("family", family,
                      device_block(GLOW, "glow", raw_quotas=False) + "\n"
                      + device_block(PULSE, "garage"), indent="    ",
                      options=["RawQuotas true"]),
        account_block("stranger", home, device_block("HJ31STRANGER0001"),
                      secret="not-the-secret", indent="    "))
    daemon = Collectd(os.path.join(work, "values"), block)
    daemon.start()
    daemon.started = time.monotonic()
    return daemon


def check_values(daemon, home, family):
    expected = {}
    for serial, name in NAMES.items():
        sim = home if serial in (OCEAN, HEAT) else family
        data = sim.sim_quota(serial)
        values, absent = expected_values(data, serial in RAW_QUOTAS)
        expected[serial] = (name or serial, data, values, absent)

    def all_arrived():
        got = {}
        for value in daemon.values():
            got.setdefault(value["plugin_instance"], set()).add(
                (value["type"], value["type_instance"]))
        return all(set(values) <= got.get(instance, set())
                   for instance, _, values, _ in expected.values())

    arrived = wait_until(all_arrived, 20)
    check("values of all four families arrive within 20 s", arrived)

    total = 0
    n_absent = 0
    for serial, (instance, data, values, absent) in expected.items():
        family_name = FAMILIES[serial]
        got = {}
        for value in daemon.values_of(instance):
            got[(value["type"], value["type_instance"])] = value
        total += len(values)
        n_absent += len(absent)

        wrong = ["%s-%s: %r != %r" % (t, i, got[(t, i)]["values"][0],
                                      gauge(number))
                 for (t, i), (number, _) in values.items()
                 if (t, i) in got and got[(t, i)]["values"] != [gauge(number)]]
        missing = ["%s-%s" % key for key in values if key not in got]
        age = got.pop(("duration", "data_age"), {}).get("values", [None])[0]
        extra = ["%s-%s" % key for key in got if key not in values]
        check("%s: all %d values arrive" % (family_name, len(values)),
              not missing, ", ".join(missing[:10]))
        check("%s: every value equals the simulator's" % family_name,
              not wrong, "; ".join(wrong[:10]))
        check("%s: nothing arrives that the catalog does not name"
              % family_name, not extra, ", ".join(extra[:10]))
        check("%s: duration-data_age, by quota_cloud_ts, is under a minute"
              % family_name, age is not None and 0 <= age < 60, repr(age))
        leaked = ["%s-%s (%s)" % (k + (p,)) for k, p in absent.items()
                  if k in got]
        check("%s: no-reading sentinels stay out" % family_name, not leaked,
              ", ".join(leaked))
        meta = [v for v in got.values()
                if v.get("meta", {}).get("serial") != serial
                or v["plugin"] != "ecoflow" or v["host"] != HOST
                or v["dstypes"] != ["gauge"]]
        check("%s: plugin ecoflow, host, gauge, meta serial on every value"
              % family_name, got and not meta, json.dumps(meta[:2]))

        # What only RawQuotas true brings, by the oracle.
        raw = set(expected_values(data, True)[0]) - set(
            expected_values(data, False)[0])
        if serial in RAW_QUOTAS:
            check("%s: RawQuotas true brings the %d values the catalog does "
                  "not name" % (family_name, len(raw)),
                  raw <= set(got) and (raw or serial != OCEAN),
                  ", ".join("%s-%s" % k for k in sorted(raw - set(got))[:5]))
        else:
            leaked = sorted(raw & set(got))
            check("%s: by default, none of the %d values the catalog does "
                  "not name" % (family_name, len(raw)), not leaked,
                  ", ".join("%s-%s" % k for k in leaked[:5]))

        flat = flatten(data, "", {})
        paths = {}
        for key, (_, path) in values.items():
            paths.setdefault(path, key)  # derived values follow their source
        not_served = [p for p in REFERENCE[serial] if p not in flat]
        check("%s: the simulator serves every reference quota" % family_name,
              not not_served, ", ".join(not_served))
        unmatched = []
        for path in REFERENCE[serial]:
            if path in TEXT_QUOTAS or path not in flat:
                continue
            raw = flat[path]
            key = paths.get(path)
            if key is None and raw == -3270:
                continue  # no reading at this moment: checked as absent
            if isinstance(raw, list):
                raw = len(raw)  # an error code list: its count
            elif isinstance(raw, str):
                raw = None  # base64 error bits: decoded by the core
            if key is None or key not in got or (
                    raw is not None and got[key]["values"] != [gauge(raw)]):
                unmatched.append("%s=%r" % (path, flat[path]))
        check("%s: every reference quota arrives with the simulator's value"
              % family_name, not unmatched, ", ".join(unmatched))
        for key, path in PROMISED.get(serial, {}).items():
            value = got.get(key, {}).get("values")
            if flat.get(path) == -3270:
                continue
            check("%s: %s-%s is %s" % (family_name, key[0], key[1], path),
                  value == [gauge(flat[path])],
                  "%r != %r" % (value, flat.get(path)))

    packs = {i for (t, i) in expected[OCEAN][2] if i.startswith("pack_")}
    pack_ids = {i.split("_")[1] for i in packs}
    check("PowerOcean: each battery pack has its own instances (%d packs)"
          % len(pack_ids), len(pack_ids) >= 2
          and all(("percent", "pack_%s_soc" % p) in expected[OCEAN][2]
                  for p in pack_ids), ", ".join(sorted(packs)[:6]))
    check("the oracle covers %d values and at least one sentinel" % total,
          total > 150 and n_absent >= 1, "%d sentinels" % n_absent)
    check_derived(daemon, expected[OCEAN])


# The non-negative values the core derives from signed ones, by rule.
DERIVED = {("power", "grid_import"): ("sysGridPwr", 1),
           ("power", "grid_export"): ("sysGridPwr", -1),
           ("power", "battery_charge"): ("bpPwr", 1),
           ("power", "battery_discharge"): ("bpPwr", -1)}


def check_derived(daemon, expected):
    """Import and export, charge and discharge arrive next to the signed
    value, each equal to its rule applied to the simulator's number."""
    instance, data, _, _ = expected
    got = {(v["type"], v["type_instance"]): v["values"][0]
           for v in daemon.values_of(instance)}
    flat = flatten(data, "", {})
    wrong = []
    for key, (path, sign) in DERIVED.items():
        want = max(sign * flat[path], 0)
        if got.get(key) != gauge(want):
            wrong.append("%s-%s: %r, not %r (%s %r)" % (
                key + (got.get(key), want, path, flat[path])))
    check("PowerOcean: import/export and charge/discharge equal their rule "
          "(the signed value above 0, or minus it below 0, else 0)",
          not wrong, "; ".join(wrong))

    stranger = daemon.lines("ecoflow plugin: .*HJ31STRANGER0001")
    check("an account with a wrong secret fails alone, named in the log",
          len(stranger) == 1 and "account \"stranger\"" in stranger[0]
          and "8521" in stranger[0], "; ".join(stranger))


def finish_values_run(daemon):
    """The simulators' clocks stand still, so every later reading repeats
    the first: reads at 10, 20 and 30 s dispatch nothing, and the third
    repeat reports the device offline, once."""
    instances = [name or serial for serial, name in NAMES.items()]

    def offline_reported():
        return all(daemon.lines('ecoflow plugin: .*"?%s"?.* seems offline'
                                % instance) for instance in instances)
    reported = wait_until(offline_reported, 40 - (time.monotonic()
                                                  - daemon.started))
    offline = daemon.lines("ecoflow plugin: .*seems offline")
    check("a reading the cloud repeats 3 times is reported once per device",
          reported and len(offline) == len(instances), "; ".join(offline))
    notes = daemon.lines("Notification: severity = WARNING.*seems offline")
    check("with one WARNING notification each",
          len(notes) == len(instances), "; ".join(notes))
    def is_age(value):
        return (value["type"], value["type_instance"]) == ("duration",
                                                            "data_age")
    repeated = [i for i in instances
                if len({v["time"] for v in daemon.values_of(i)
                        if not is_age(v)}) != 1]
    # The data age goes on, and grows: it shows the device going quiet.
    quiet = [i for i in instances
             if len([v for v in daemon.values_of(i) if is_age(v)]) < 2]
    check("the data age keeps being dispatched while readings repeat",
          not quiet, ", ".join(quiet))
    check("repeated readings are not dispatched again", not repeated,
          ", ".join(repeated))

    rc = daemon.stop()
    log = daemon.log_text()
    check("SIGTERM stops the daemon cleanly", rc == 0
          and "Exiting normally" in log, "rc %s" % rc)
    clock = [line for line in log.splitlines() if CLOCK_NOTE in line]
    check("each account says once that the server's clock is far off",
          len(clock) == 3, "; ".join(clock))
    errors = [line for line in log.splitlines()
              if "ecoflow plugin" in line and "STRANGER" not in line
              and "seems offline" not in line and CLOCK_NOTE not in line]
    check("no other ecoflow log lines", not errors, "; ".join(errors[:5]))


def start_fault_run(work, sim):
    """Starts a daemon whose PowerHeat answers HTTP 500 from the start."""
    sim.set_fault(HEAT, "http500")
    block = account_block(None, sim, device_block(OCEAN, "house") + "\n"
                          + device_block(HEAT, "heat") + "\n"
                          + device_block(PULSE, "garage"))
    daemon = Collectd(os.path.join(work, "fault"), block)
    daemon.start()
    daemon.started = time.monotonic()
    return daemon


def polls(sim, serial):
    return sim.stats()["devices"].get(serial, 0)


def finish_fault_run(daemon, sim):
    # Reads at 0 s and 10 s: the heat pump fails twice, the others answer.
    def second_read():
        return (polls(sim, HEAT) >= 2 and
                len({v["time"] for v in daemon.values_of("house")}) >= 2 and
                len({v["time"] for v in daemon.values_of("garage")}) >= 2)
    check("two reads: the healthy devices' values arrive both times",
          wait_until(second_read, 25),
          "heat polled %d times" % polls(sim, HEAT))
    failures = daemon.lines(r"ecoflow plugin: device \"heat\"")
    check("a failing device is logged once, not every interval",
          len(failures) == 1 and "HTTP 500" in failures[0],
          "; ".join(failures))
    notes = daemon.lines("Notification: severity = FAILURE.*plugin_instance "
                         "= heat")
    check("one FAILURE notification", len(notes) == 1, "; ".join(notes))
    check("the failing device dispatches nothing",
          not daemon.values_of("heat"))

    # The schedule retries a failing device after 2 intervals: recovery
    # shows at the read 30 s in.
    sim.clear_fault(HEAT)
    recovered = wait_until(lambda: daemon.values_of("heat"), 35)
    check("the device's values come back once the fault clears",
          bool(recovered))
    okay = daemon.lines("Notification: severity = OKAY.*plugin_instance = "
                        "heat")
    again = daemon.lines(r"ecoflow plugin: device \"heat\" .*answers again")
    check("recovery: one OKAY notification and one log line",
          len(okay) == 1 and len(again) == 1, "; ".join(okay + again))
    rc = daemon.stop()
    check("the fault run stops cleanly", rc == 0, "rc %s" % rc)


def check_bad_configs(work, sim):
    secret_file = os.path.join(work, "bad", "ecoflow secret")
    os.makedirs(os.path.dirname(secret_file), exist_ok=True)
    with open(secret_file, "w") as f:
        f.write(sim.secret_key + "\n")
    os.chmod(secret_file, 0o644)
    base = ['AccessKey "%s"' % sim.access_key,
            'Endpoint "%s"' % sim.base_url,
            device_block(OCEAN)]
    cases = [
        ("an unknown option", base + ['SecretKey "x"', "Intervall 30"],
         "ecoflow plugin: unknown option `Intervall' in <Plugin ecoflow>"),
        ("a missing secret", base,
         "ecoflow plugin: <Plugin ecoflow> has no `SecretKey' or "
         "`SecretKeyFile'"),
        ("a secret file readable by others",
         base + ['SecretKeyFile "%s"' % secret_file],
         "(mode 0644); make it private: chmod 600 '%s'" % secret_file),
    ]
    for i, (what, lines, message) in enumerate(cases):
        block = "<Plugin ecoflow>\n  %s\n</Plugin>" % "\n  ".join(lines)
        daemon = Collectd(os.path.join(work, "bad", str(i)), block)
        rc, output = daemon.test_once()
        check("collectd -T refuses %s" % what,
              rc == 1 and message in output, "rc %d, output: %s"
              % (rc, output[-600:]))

    os.chmod(secret_file, 0o600)
    daemon = Collectd(os.path.join(work, "bad", "good"),
                      "<Plugin ecoflow>\n  %s\n</Plugin>" % "\n  ".join(
                          base + ['SecretKeyFile "%s"' % secret_file]))
    rc, output = daemon.test_once()
    # -T also runs the first-run check (test_check.py): its lines of what
    # works are no complaint.
    check("collectd -T accepts it once the file is private (chmod 600)",
          rc == 0 and not [line for line in output.splitlines()
                           if "ecoflow plugin" in line
                           and CLOCK_NOTE not in line
                           and not CHECK_SAYS_OK.search(line)],
          output[-600:])


def check_valgrind(work, sim):
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("# valgrind not installed: daemon memcheck skipped")
        return
    report = os.path.join(work, "valgrind.txt")
    block = account_block(None, sim, device_block(OCEAN, "house") + "\n"
                          + device_block("HJ31UNKNOWN00001"))
    daemon = Collectd(os.path.join(work, "valgrind"), block,
                      prefix=memcheck_prefix(report))
    daemon.start()
    arrived = wait_until(lambda: daemon.values_of("house")
                         and daemon.lines("HJ31UNKNOWN00001"), 60)
    rc = daemon.stop()
    with open(report) as f:
        text = f.read()
    summary = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    check("under valgrind: values, a failing device, SIGTERM: rc 0 and "
          "0 errors", arrived and rc == 0 and summary == ["0"],
          "rc %s, %s" % (rc, text[-1500:]))


def main():
    skipped = skip_unless((PLUGIN, "the plugin"),
                          (ORACLE, "the oracle"),
                          (COLLECTD, "collectd"))
    if skipped:
        return skipped
    with work_dir("test_collectd.") as work:
        # Each simulator is an account of its own keys. The fault run's
        # clock runs, so that every reading is new; the others stand
        # still, so that values can be compared.
        with simharness.Sim(clock=CLOCK) as home, \
                simharness.Sim(clock=CLOCK, access_key="familyAccessKey01",
                               secret_key="familySecretKey0123456789") \
                as family, \
                simharness.Sim(access_key="faultyAccessKey01",
                               secret_key="faultySecretKey0123456789") \
                as faulty:
            # Both runs need 30 s of reads: they run side by side.
            fault_run = start_fault_run(work, faulty)
            values_run = start_values_run(work, home, family)
            check_values(values_run, home, family)
            check_bad_configs(work, home)
            check_valgrind(work, home)
            finish_fault_run(fault_run, faulty)
            finish_values_run(values_run)
    return summary()

if __name__ == "__main__":
    sys.exit(main())
