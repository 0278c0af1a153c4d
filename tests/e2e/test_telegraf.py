#!/usr/bin/env python3
"""test_telegraf.py: ecoflow-telegraf, as Telegraf's inputs.exec and
inputs.execd run it, against ecoflow-sim on loopback, its output written
to a real InfluxDB 1.6.7 (Debian's influxd, in a temporary directory).

What it shows:
- the output of exec and execd mode is accepted by influxd's /write
  (HTTP 204: not one line fails to parse), and what influxd stores equals
  the simulator's answer: every number exactly (the API's own decimal
  text), each field of its catalog type (oracle: telegraf_expected, the
  core's own naming); every quota of the reference document is there, "no
  reading" sentinels are not, quotas the catalog does not know arrive in
  ecoflow_raw; every point has sn, and name/product where known (a name
  given with --sn SN=NAME wins over the account's), one timestamp per
  device reading;
- a faulted device is named on stderr with the API's code and what to do,
  while the others still produce lines; execd reports it once, not every
  poll;
- execd answers each line of stdin with one batch, flushed, never polls a
  device more often than every 10 s, does not publish the cloud's cached
  copy again (ecoflow_read stale=true only), polls on its own with
  --interval, and exits 0 at the end of stdin and on SIGTERM;
- exit status: 0 when a device was read, 1 when none could be, 2 for a
  configuration error (secret on the command line, open config file);
- both modes run clean under valgrind (tests/memcheck);
- a reader that goes away ends either mode quietly by SIGPIPE; a full disk
  is said as it is (never "out of memory").
"""

import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (FAMILIES, GLOW, HEAT, OCEAN, PULSE, REFERENCE,  # noqa: E402
                    check, skip_unless, summary, work_dir)
from harness.influx import INFLUXD, Influx  # noqa: E402
from harness.lineproto import tag_of  # noqa: E402
from harness.telegraf import (MEMCHECK, ORACLE, TELEGRAF,  # noqa: E402
                              Execd, environment, expected, run_exec,
                              telegraf_args)

# A frozen simulated time at which the PowerOcean's heat pump has no ambient
# reading (-3270): the sentinel must stay out of InfluxDB.
CLOCK = 1750000000
# What a run says once about that clock, far behind this machine's
# (client.h: EF_CLOCK_SKEW_MS).
CLOCK_NOTE = "W! ecoflow: this machine's clock is"
NAMED = "Roof, east"  # escaped in line protocol, plain in InfluxDB
FAULT = "api:8521:signature is wrong"
FAULT_LOG = ("E! ecoflow: device %s" % PULSE, "HTTP 200, API code 8521: "
             "signature is wrong; check the secret key")
MIN_INTERVAL_S = 10  # schedule.h: no device is polled faster
INFLUX_TYPES = {"float": "float", "int": "integer", "bool": "boolean",
                "string": "string"}


def readings(lines):
    """The lines of device readings: not the ecoflow_device points of the
    account's list (its online flags, stamped when the list came)."""
    return [line for line in lines if not line.startswith("ecoflow_device,")]


def check_timestamps(what, lines):
    """One timestamp per device reading: every line of a device in one
    batch carries the same one."""
    stamps = {}
    for line in readings(lines):
        stamps.setdefault(tag_of(line, "sn"), set()).add(line.split()[-1])
    check("%s: one timestamp per device reading" % what,
          stamps and all(len(s) == 1 for s in stamps.values()),
          repr(stamps))


def device_tags(series, sn):
    """The tags the front end gave the device: those of its ecoflow_read."""
    for (measurement, tags), _ in series.items():
        if measurement == "ecoflow_read" and ("sn", sn) in tags:
            return dict(tags)
    return None


def same_value(record, stored):
    if record["type"] == "float":
        exact = [record["value"]]
        if record["text"] is not None:
            exact.append(float(record["text"]))  # the simulator's own number
        return (isinstance(stored, (int, float))
                and not isinstance(stored, bool)
                and all(float(stored) == value for value in exact))
    return stored == record["value"] and type(stored) is type(record["value"])


def check_device(what, influx, db, sn, records, name=None):
    """What influxd holds for one device reading equals the oracle's
    records; returns the quota paths found."""
    series = influx.series(db)
    types = influx.field_types(db)
    tags = device_tags(series, sn)
    if not check("%s %s: has an ecoflow_read point" % (what, sn), tags):
        return set()
    if name is not None:
        check("%s %s: tagged name=%s" % (what, sn, name),
              tags.get("name") == name, repr(tags))
    check("%s %s: all its series carry its sn, name and product" % (what, sn),
          all(set(tags.items()) <= t for (m, t) in series if ("sn", sn) in t))
    wrong, seen, found = [], set(), set()
    counts = {"published": 0, "absent": 0, "generic": 0, "derived": 0}
    for r in records:
        key = (r["measurement"], frozenset(set(tags.items()) |
                                           set(r["tags"].items())))
        rows = series.get(key, [])
        if r["kind"] == "absent":
            counts["absent"] += 1
            found.add(r["path"])
            if any(r["field"] in row for row in rows):
                wrong.append("sentinel %s stored" % r["path"])
            continue
        if (key, r["field"]) in seen:
            continue  # a later quota of the same field: the first one wins
        seen.add((key, r["field"]))
        counts["published"] += 1
        counts["generic"] += r["generic"]
        if not r["generic"]:
            found.add(r["path"])
        values = [row.get(r["field"]) for row in rows]
        if r["rule"] is not None:
            # Applied here, not taken from the core: the signed source
            # above 0 (positive), or minus it below 0 (negative), else 0.
            sign = 1 if r["rule"] == "positive" else -1
            want = max(sign * float(r["source"]), 0.0)
            counts["derived"] += 1
            if values != [want]:
                wrong.append("%s %s (%s): stored %r, the rule gives %r" % (
                    r["path"], r["field"], r["rule"], values, want))
        elif len(values) != 1 or not same_value(r, values[0]):
            wrong.append("%s %s: stored %r, simulator %r (%s)" % (
                r["path"], r["field"], values, r["value"], r["text"]))
        elif types.get((r["measurement"], r["field"])) != \
                INFLUX_TYPES[r["type"]]:
            wrong.append("%s %s: type %s, not %s" % (
                r["path"], r["field"], types.get((r["measurement"],
                                                  r["field"])), r["type"]))
    check("%s %s: %d values equal the simulator's, %d sentinels absent" % (
        what, sn, counts["published"], counts["absent"]),
        counts["published"] > 0 and not wrong, "; ".join(wrong[:5]))
    if FAMILIES[sn] == "powerocean":
        check("%s %s: %d unknown quotas in ecoflow_raw" % (
            what, sn, counts["generic"]), counts["generic"] > 0)
        check("%s %s: the %d derived values (import/export, charge/"
              "discharge) equal their rule" % (what, sn, counts["derived"]),
              counts["derived"] == 4)
    return found


def check_written(what, influx, db, lines):
    status, body = influx.write(db, "".join(lines))
    return check("%s: influxd accepts all %d lines (HTTP %s)" % (
        what, len(lines), status), status == 204 and lines, body)


def check_exec(influx, sim):
    """inputs.exec: one poll of named and listed devices."""
    data = {sn: sim.sim_quota(sn) for sn in FAMILIES}
    run = run_exec(sim, "--sn", "%s=%s" % (OCEAN, NAMED), "--sn", HEAT,
                   "--sn", GLOW, "--sn", PULSE)
    lines = run.stdout.splitlines(keepends=True)
    check("exec: exit status 0", run.returncode == 0, run.stderr)
    check("exec: nothing on stderr but one note on the server's clock",
          [line for line in run.stderr.splitlines()
           if not line.startswith(CLOCK_NOTE)] == []
          and run.stderr.count(CLOCK_NOTE) == 1, run.stderr)
    check_timestamps("exec", lines)
    if not check_written("exec", influx, "exec", lines):
        return
    found = {sn: check_device("exec", influx, "exec", sn, expected(data[sn]),
                              NAMED if sn == OCEAN else None)
             for sn in FAMILIES}
    for sn, paths in REFERENCE.items():
        missing = [p for p in paths if p not in found[sn]]
        check("exec %s: every quota of the reference document" % sn,
              not missing, "missing %s" % missing)
    check("exec: the PowerOcean's ambient sentinel is absent",
          "hpMaster.tempAmbient" in found[OCEAN] and not any(
              r["path"] == "hpMaster.tempAmbient" and r["kind"] == "published"
              for r in expected(data[OCEAN])))
    check_listing(data)


def check_listing(data):
    """--list-metrics names every catalog field the output has."""
    run = subprocess.run([TELEGRAF, "--list-metrics"], capture_output=True,
                         text=True, timeout=30)
    listed = set()
    for line in run.stdout.splitlines():
        tokens = line.split()
        for token in tokens[1:4]:
            listed.update((tokens[1], f) for f in token.split(","))
    # A row that names fields after their keys ("{name:g}") lists the
    # template: any such name matches it.
    templates = [(m, re.compile("^" + re.sub(r"\\\{[a-z]+(:g)?\\\}",
                                             "[a-z0-9_]+", re.escape(f))
                                 + "$"))
                 for (m, f) in listed if "{" in f]
    missing = {(r["measurement"], r["field"])
               for sn in FAMILIES for r in expected(data[sn])
               if r["kind"] == "published" and not r["generic"]} - listed
    missing = {(m, f) for (m, f) in missing
               if not any(m == tm and t.match(f) for tm, t in templates)}
    check("--list-metrics lists every catalog field written",
          run.returncode == 0 and not missing, repr(sorted(missing)[:5]))


def check_exec_fault(influx, sim):
    """A faulted device is named on stderr; the others still come."""
    sim.set_fault(PULSE, FAULT)
    run = run_exec(sim)  # every device of the account
    lines = run.stdout.splitlines(keepends=True)
    check("exec with a faulted device: exit status 0", run.returncode == 0,
          run.stderr)
    check("exec with a faulted device: stderr names it, the error and what "
          "to do", all(part in run.stderr for part in FAULT_LOG), run.stderr)
    check("exec with a faulted device: only that device on stderr",
          all(sn not in run.stderr for sn in (OCEAN, HEAT, GLOW)),
          run.stderr)
    read = {tag_of(line, "sn") for line in readings(lines)}
    check("exec with a faulted device: the others still produce lines",
          read == {OCEAN, HEAT, GLOW}, repr(read))
    check_written("exec with a faulted device", influx, "exec_fault", lines)

    run = run_exec(sim, "--sn", PULSE)
    check("exec, nothing readable: exit status 1, said so",
          run.returncode == 1 and not readings(run.stdout.splitlines()) and
          "E! ecoflow: no device could be read" in run.stderr, run.stderr)
    sim.clear_fault(PULSE)


def check_execd(influx, sim):
    """inputs.execd, signal = "STDIN": a batch per line, each device at most
    every 10 s, cached copies not published again, EOF ends it."""
    sim.set_fault(PULSE, FAULT)
    healthy = [OCEAN, HEAT, GLOW]
    execd = Execd(sim)
    execd.gather()
    first = execd.wait_reads(len(healthy))
    started = time.monotonic()
    data1 = {sn: sim.sim_quota(sn) for sn in healthy}
    check("execd: a line on stdin gives a batch, flushed", first,
          "".join(execd.err))
    batch1 = list(execd.out)

    sim.set_clock(advance=60)  # new values and a new cloud stamp
    data2 = {sn: sim.sim_quota(sn) for sn in healthy}
    time.sleep(max(0, MIN_INTERVAL_S - (time.monotonic() - started)) + 0.5)
    execd.gather()
    check("execd: the next line, 10 s on, gives the next batch",
          execd.wait_reads(2 * len(healthy)))
    batch2 = execd.out[len(batch1):]
    sent = len(execd.out)
    execd.gather()
    time.sleep(2)
    check("execd: a line sooner than 10 s after a poll polls nothing",
          len(execd.out) == sent, "".join(execd.out[sent:]))

    time.sleep(MIN_INTERVAL_S - 2 + 0.5)
    execd.gather()  # the simulator's clock did not move: cached copies
    check("execd: a third batch", execd.wait_reads(3 * len(healthy)))
    batch3 = execd.out[sent:]
    check("execd: an unchanged reading is not published again",
          len(batch3) == len(healthy) and all(
              line.startswith("ecoflow_read,") and "stale=true" in line
              for line in batch3), "".join(batch3))

    rc = execd.finish("eof")
    check("execd: exits 0 at the end of stdin", rc == 0, repr(rc))
    errors = "".join(execd.err)
    check("execd: the faulted device is reported once, not every poll",
          errors.count(FAULT_LOG[0]) == 1 and FAULT_LOG[1] in errors, errors)
    sim.clear_fault(PULSE)

    for what, lines, data in (("execd batch 1", batch1, data1),
                              ("execd batch 2", batch2, data2)):
        check_timestamps(what, lines)
        db = what.replace(" ", "_")
        if check_written(what, influx, db, lines):
            for sn in healthy:
                check_device(what, influx, db, sn, expected(data[sn]))
    check_written("execd, all batches", influx, "execd", execd.out)


def start_interval_run(sim):
    """signal = "none": --interval polls on its own; SIGTERM ends it."""
    execd = Execd(sim, "--interval", "1")
    execd.started = time.monotonic()
    return execd


def finish_interval_run(execd):
    devices = len(FAMILIES)
    polled = execd.wait_reads(2 * devices,
                              MIN_INTERVAL_S + 10 -
                              (time.monotonic() - execd.started))
    check("execd --interval: polls on its own, at most every 10 s",
          polled and "W! ecoflow: polling every 10 s" in "".join(execd.err),
          "%d reads; %s" % (len(execd.reads()), "".join(execd.err)))
    rc = execd.finish(signal.SIGTERM)
    check("execd --interval: exits 0 on SIGTERM", rc == 0, repr(rc))


def check_config_errors(work, sim):
    # Not the account's secret: no test puts a real key in an argv, where
    # every user of the machine can read it.
    argv_secret = "ArgvSecretKey0123456789abcdefgh"
    run = run_exec(sim, "--secret-key", argv_secret)
    check("a secret on the command line is refused (exit 2), saying why",
          run.returncode == 2 and "(ps)" in run.stderr and
          argv_secret not in run.stderr, run.stderr)
    conf = os.path.join(work, "open.conf")
    with open(conf, "w") as f:
        f.write("access_key = %s\nsecret_key = %s\n" % (sim.access_key,
                                                       sim.secret_key))
    os.chmod(conf, 0o644)
    env = dict(os.environ)
    env.pop("ECOFLOW_ACCESS_KEY", None)
    env.pop("ECOFLOW_SECRET_KEY", None)
    run = run_exec(sim, "--config", conf, env=env)
    check("a config file with a secret, open to others, is refused (exit 2)",
          run.returncode == 2 and "chmod 600 %s" % conf in run.stderr,
          run.stderr)
    os.chmod(conf, 0o600)
    run = run_exec(sim, "--config", conf, "--sn", HEAT, env=env)
    check("the same file, mode 600, works", run.returncode == 0, run.stderr)
    run = run_exec(sim, env=environment(sim, ECOFLOW_SECRET_KEY="wrong"))
    check("a wrong secret: exit 1, the advice on stderr",
          run.returncode == 1 and "check the secret key" in run.stderr,
          run.stderr)
    run = run_exec(sim, "--bogus")
    check("an unknown option: exit 2", run.returncode == 2, run.stderr)


def check_valgrind(sim):
    """Both modes under tests/memcheck (valgrind, as for the unit tests): no
    memory error, no leak."""
    sim.set_fault(PULSE, FAULT)
    for mode, stdin in (([], None), (["--execd"], "\n")):
        run = subprocess.run([MEMCHECK] + telegraf_args(sim, *mode),
                             input=stdin, capture_output=True, text=True,
                             timeout=300, env=environment(sim))
        check("memcheck, %s: clean" % (mode[0] if mode else "exec"),
              run.returncode == 0 and "ecoflow_read," in run.stdout,
              run.stderr[-2000:])
    sim.clear_fault(PULSE)


def check_closed_output(sim):
    """A reader that goes away (`| head`, Telegraf stopped) ends a run
    quietly, by SIGPIPE, as Unix tools end; a full disk is said as it
    is. Neither is called "out of memory"."""
    for mode in ([], ["--execd"]):
        read, write = os.pipe()
        os.close(read)
        run = subprocess.run(telegraf_args(sim, *mode), stdout=write,
                             stderr=subprocess.PIPE, text=True, timeout=60,
                             env=environment(sim), input="\n" if mode else "")
        os.close(write)
        errors = [line for line in run.stderr.splitlines()
                  if line.startswith("E!")]
        check("%s, its reader gone: ends by SIGPIPE, quietly"
              % (mode[0] if mode else "exec"),
              run.returncode == -signal.SIGPIPE and not errors,
              "rc %r: %s" % (run.returncode, run.stderr[-500:]))
    with open("/dev/full", "w") as full:
        run = subprocess.run(telegraf_args(sim), stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=60,
                             env=environment(sim), stdin=subprocess.DEVNULL)
    check("exec onto a full disk: exit 1, says writing failed and why",
          run.returncode == 1 and "E! ecoflow: writing to stdout failed: No "
          "space left on device" in run.stderr
          and "memory" not in run.stderr, run.stderr[-500:])


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"),
                          (ORACLE, "the oracle"), (INFLUXD, "influxd"))
    if skipped:
        return skipped
    with work_dir("test_telegraf.") as work:
        influx = Influx(work)
        try:
            with simharness.Sim(clock=CLOCK) as sim, \
                    simharness.Sim(clock=CLOCK) as timer_sim:
                interval_run = start_interval_run(timer_sim)
                check_exec(influx, sim)
                check_exec_fault(influx, sim)
                check_config_errors(work, sim)
                check_execd(influx, sim)
                check_valgrind(sim)
                check_closed_output(sim)
                finish_interval_run(interval_run)
        finally:
            influx.stop()
    return summary()

if __name__ == "__main__":
    sys.exit(main())
