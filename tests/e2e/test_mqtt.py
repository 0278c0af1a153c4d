#!/usr/bin/env python3
"""test_mqtt.py: push mode (issue 11) end to end. A real mosquitto
(mqttharness.Broker: TLS with a throwaway CA, passwords, an ACL of exact
topics), ecoflow-sim handing out the certification and publishing both
shapes of quota messages and status messages, and both front ends
subscribed: ecoflow-telegraf --execd --mqtt streams line protocol as
messages arrive, collectd (MQTT true) dispatches the merged state at each
read. Checked: values of both shapes arrive equal to what was published,
a pack's "no reading" marker is not published (the gate polled values pass),
status 0/1 is the online flag, silence is told once and ended by the next
message, the client id is stable and a second client taking it is told,
messages after a broker restart arrive, and a wrong password or CA is one
explained error without a reconnect storm. The latency from publish to
line protocol is printed for the record (bench has the figure)."""

import json
import os
import re
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import check, summary, wait_until, work_dir  # noqa: E402
from harness.collectd import Collectd, account_block, device_block  # noqa
from harness.lineproto import fields, markers_in, tag_of  # noqa: E402
from harness.pushrig import (ACCOUNT, HEAT, OCEAN, PASSWORD,  # noqa: E402
                             SNS, broker_for, client_id, sim_for)
from harness.telegraf import Execd as TelegrafExecd  # noqa: E402
from harness.telegraf import expected  # noqa: E402

SILENCE_S = 10  # the least --mqtt-silence / MQTTSilence


def publish(sim, sn, shape, **params):
    return sim.control("POST", "/sim/mqtt/publish",
                       dict(params, sn=sn, shape=shape))


def message_values(payload):
    """The values a quota message carries (params or param), as the oracle
    names them: {(measurement, field, tags): text}."""
    message = json.loads(payload)
    values = message.get("params") or message.get("param")
    return {(r["measurement"], r["field"], tuple(sorted(r["tags"].items()))):
            r["text"] for r in expected(values)
            if r["kind"] == "published" and r["type"] != "string"}


def subscribed(sim, broker, suffix, online_seen):
    """The broker has granted the client its quota and status topics of
    both devices, and a status message then comes through: a publish before
    that could be lost (online_seen(since) looks only at what came after
    the publish, since the first HTTP poll says online too)."""
    topics = 2 * len(SNS)  # quota and status
    if not wait_until(
            lambda: broker.subscriptions(client_id(suffix)) >= topics, 15):
        return False

    def through():
        since = time.time()
        publish(sim, OCEAN, "status", status=1)
        return wait_until(lambda: online_seen(since), 2)
    return wait_until(through, 15)


def move_clock(sim, seconds):
    """New values at the simulator: what arrives after this came pushed,
    not from the (slow) HTTP refresh."""
    sim.set_clock(advance=seconds)


# ---- ecoflow-telegraf ------------------------------------------------------

class Execd(TelegrafExecd):
    """ecoflow-telegraf --execd --mqtt; each line of output with the time
    it arrived."""

    def __init__(self, sim, broker, *args):
        super().__init__(sim, "--mqtt", "--ca-file", broker.cafile, "--sn",
                         OCEAN + "=house", "--sn", HEAT, "--mqtt-silence",
                         str(SILENCE_S), *args)

    @staticmethod
    def collect(stream, lines):
        for line in stream:
            lines.append((time.time(), line.rstrip("\n")))

    def lines_since(self, start):
        return [line for at, line in self.out if at >= start]

    def log(self, text):
        return [line for _, line in self.err if text in line]

    def finish(self):
        return super().finish("eof")


def wait_for_message_lines(execd, start, values, sn, timeout=10):
    """The time the last line after start that carries a value of a
    message of sn arrived, once all of them did as published; else None."""
    def found():
        latest = {}  # (measurement, field, tags): (text, arrival)
        for at, line in execd.out:
            if at < start or tag_of(line, "sn") != sn:
                continue
            measurement = line.split(",", 1)[0]
            found_fields = fields(line)
            for key in values:
                m, field, tags = key
                if m == measurement and field in found_fields and all(
                        tag_of(line, k) == v for k, v in tags):
                    latest[key] = (found_fields[field], at)
        if not values or any(latest.get(key, (None,))[0] != text
                             for key, text in values.items()):
            return None
        return max(at for _, at in latest.values())
    return wait_until(found, timeout)


def check_telegraf(sim, broker):
    execd = Execd(sim, broker)
    execd.process.stdin.write("\n")  # the first poll seeds every device
    execd.process.stdin.flush()
    connected = broker.wait_for_connections(1, client_id("telegraf"),
                                            timeout=15)
    check("telegraf: one connection, as client id ACCOUNT-telegraf",
          connected, repr(broker.connections()))
    wait_until(lambda: len(execd.lines_since(0)) > 10, 15)
    check("telegraf: subscribed (a status message comes through)",
          subscribed(sim, broker, "telegraf", lambda since: [
              line for line in execd.lines_since(since)
                                   if line.startswith("ecoflow_device,")]))

    move_clock(sim, 120)
    latencies = []
    for shape, group in (("typecode", "pcsAPhase"), ("cmdfunc", "pcsBPhase"),
                         ("cmdfunc", "energy_stream")):
        start = time.time()
        message = publish(sim, OCEAN, shape, group=group)
        values = message_values(message["payload"])
        arrived = wait_for_message_lines(execd, start, values, OCEAN)
        check("telegraf: a %s message (%s) arrives as line protocol, every "
              "value as published" % (shape, group),
              values and arrived, "%r; %r; %r" % (
                  values, execd.lines_since(start)[-5:], execd.err[-5:]))
        if arrived:
            latencies.append(arrived - start)
    # The simulator's packs say bpEcloundSoc 65535, "no reading": a pushed
    # value passes the gate a polled one does (issue 18).
    start = time.time()
    message = publish(sim, OCEAN, "typecode", group="bp_addr")
    values = message_values(message["payload"])
    arrived = wait_for_message_lines(execd, start, values, OCEAN)
    pushed = [line for line in execd.lines_since(start)
              if tag_of(line, "sn") == OCEAN]
    check("telegraf: a pack message arrives through the gate of every "
          "value: %d values as published, no 'no reading' marker" %
          len(values), re.search(r"bpEcloundSoc\W+65535", message["payload"])
          and values and arrived and not markers_in(pushed),
          "arrived %r; %r; %r; %s" % (arrived, markers_in(pushed), pushed[-3:],
                                      message["payload"][:300]))
    for _ in range(20):
        start = time.time()
        message = publish(sim, OCEAN, "typecode", group="pcsAPhase")
        arrived = wait_for_message_lines(
            execd, start, message_values(message["payload"]), OCEAN)
        if arrived:
            latencies.append(arrived - start)
    if latencies:
        print("# publish to line protocol: median %.1f ms, max %.1f ms over "
              "%d messages" % (1000 * statistics.median(latencies),
                               1000 * max(latencies), len(latencies)))

    start = time.time()
    publish(sim, OCEAN, "status", status=0)
    # stdout and stderr are read by threads of their own: the point and
    # the log line are waited for together.
    offline = wait_until(lambda: [
        line for line in execd.lines_since(start)
        if line.startswith("ecoflow_device,") and "online=false" in line]
        and execd.log("offline (its MQTT status)"), 10)
    check("telegraf: status 0 is online=false, said once",
          offline and len(execd.log("offline (its MQTT status)")) == 1,
          repr(execd.err[-5:]))
    start = time.time()
    publish(sim, OCEAN, "status", status=1)
    check("telegraf: status 1 is online=true again",
          wait_until(lambda: [
              line for line in execd.lines_since(start)
              if line.startswith("ecoflow_device,") and "online=true" in line]
              and execd.log("online again (its MQTT status)"), 10),
          repr(execd.err[-5:]))

    silent = wait_until(lambda: execd.log("no MQTT message for"),
                        SILENCE_S + 15)
    check("telegraf: a device silent past the limit is said once (W!)",
          silent and len(silent) == 1 and silent[0].startswith("W!")
          and HEAT in silent[0], repr(silent))
    publish(sim, HEAT, "cmdfunc")
    check("telegraf: its next message ends the silence, said once",
          wait_until(lambda: execd.log("MQTT messages again"), 10))

    broker.restart()
    reconnected = broker.wait_for_connections(2, client_id("telegraf"),
                                              timeout=20)
    check("telegraf: after a broker restart it connects again by itself",
          reconnected)
    move_clock(sim, 60)
    start = time.time()
    arrived = None
    # The publisher reconnects too, and a message the broker takes before
    # the subscriptions are renewed reaches no one (QoS 0): published
    # again until one arrives.
    for _ in range(10):
        try:
            message = publish(sim, OCEAN, "typecode", group="pcsAPhase")
        except simharness.SimError:
            time.sleep(0.5)
            continue
        arrived = wait_for_message_lines(
            execd, start, message_values(message["payload"]), OCEAN,
            timeout=3)
        if arrived:
            break
    check("telegraf: a message published after the restart arrives",
          arrived, repr(execd.lines_since(start)[-3:]))

    rc = execd.finish()
    check("telegraf --mqtt: end of stdin ends it, exit 0", rc == 0, repr(rc))
    check("telegraf: no credential in its log",
          not [line for _, line in execd.err
               if PASSWORD in line or sim.secret_key in line])


# ---- collectd ------------------------------------------------------------

def collectd_for(work, name, sim, broker, cafile=None, extra=()):
    devices = device_block(OCEAN, "house", 1) + "\n" + device_block(HEAT, None,
                                                                   1)
    block = account_block(None, sim, devices, options=[
        "MQTT true", 'CAFile "%s"' % (cafile or broker.cafile),
        "MQTTSilence %d" % SILENCE_S] + list(extra))
    return Collectd(os.path.join(work, name), block, interval=1)


def latest(daemon, instance, type_, type_instance):
    found = [v for v in daemon.values_of(instance)
             if v["type"] == type_ and v["type_instance"] == type_instance]
    return found[-1]["values"][0] if found else None


def check_collectd(work, sim, broker):
    daemon = collectd_for(work, "collectd", sim, broker)
    daemon.start()
    connected = broker.wait_for_connections(1, client_id("collectd"),
                                            timeout=15)
    check("collectd: one connection, as client id ACCOUNT-collectd",
          connected, daemon.log_text()[-1500:])
    wait_until(lambda: latest(daemon, "house", "voltage", "phase_a"), 15)
    check("collectd: subscribed (a status message comes through)",
          subscribed(sim, broker, "collectd", lambda since: [
              v for v in daemon.values_of("house")
              if v["type"] == "bool" and v["type_instance"] == "online"
              and v["time"] >= since and v["values"][0] == 1]))

    move_clock(sim, 300)
    for shape, group, type_ in (("typecode", "pcsAPhase", "phase_a"),
                                ("cmdfunc", "pcsCPhase", "phase_c")):
        message = publish(sim, OCEAN, shape, group=group)
        params = json.loads(message["payload"])
        values = params.get("params") or params.get("param")
        vol = values[group]["vol"]
        check("collectd: a %s message's values are dispatched at the next "
              "read (voltage-%s = %s)" % (shape, type_, vol),
              wait_until(lambda: latest(daemon, "house", "voltage", type_)
                         == vol, 10),
              repr(latest(daemon, "house", "voltage", type_)))

    publish(sim, OCEAN, "status", status=0)
    check("collectd: status 0 is bool-online 0, logged and notified once",
          wait_until(lambda: latest(daemon, "house", "bool", "online") == 0,
                     10)
          and len(daemon.lines("ecoflow plugin: .*house.*: offline "
                               "\\(its MQTT status\\)"))
          == 1 and daemon.lines("Notification: severity = WARNING.*offline"),
          daemon.log_text()[-1500:])
    publish(sim, OCEAN, "status", status=1)
    check("collectd: status 1 is bool-online 1 again",
          wait_until(lambda: latest(daemon, "house", "bool", "online") == 1,
                     10))

    silent = wait_until(
        lambda: daemon.lines("ecoflow plugin: .*no MQTT message for"),
        SILENCE_S + 15)
    # Values of the reads before the silence may still be on their way
    # to write_log (its own thread): what counts is their stamp.
    def stamped_after(since):
        return [v for v in daemon.values_of(HEAT) if v["time"] > since]
    said_at = time.time()
    time.sleep(2.5)
    check("collectd: a silent device is said once and dispatches nothing",
          silent and len(daemon.lines("ecoflow plugin: .*no MQTT message "
                                      "for")) == 1
          and HEAT in silent[0] and not stamped_after(said_at),
          "%r, %d values since" % (silent, len(stamped_after(said_at))))
    since = time.time()
    publish(sim, HEAT, "cmdfunc")
    check("collectd: its next message ends the silence",
          wait_until(lambda: daemon.lines("MQTT messages again"), 10)
          and wait_until(lambda: stamped_after(since), 10))

    # Another program with the same client id: the broker keeps one
    # connection per id, so the two take it from each other.
    topics = ["/open/%s/%s/quota" % (ACCOUNT, sn) for sn in SNS]
    thief = broker.subscribe(ACCOUNT, PASSWORD, topics,
                             client_id=client_id("collectd"))
    told = wait_until(lambda: daemon.lines("same client id"), 40)
    thief.stop()
    check("collectd: a second client taking its id is said (once)",
          told and len(daemon.lines("same client id")) == 1,
          repr(broker.takeovers())[:500])

    rc = daemon.stop()
    check("collectd stops, exit 0", rc == 0, repr(rc))
    again = collectd_for(work, "collectd-again", sim, broker)
    ids = {c["client_id"] for c in broker.connections()
           if c["user"] == ACCOUNT and c["client_id"].endswith("-collectd")}
    again.start()
    check("collectd: the client id is the same after a restart",
          broker.wait_for_connections(
              len(broker.connections(client_id("collectd"))) + 1,
              client_id("collectd"), timeout=15)
          and ids == {client_id("collectd")}, repr(ids))
    again.stop()
    for d in (daemon, again):
        check("collectd (%s): no credential in its log" % os.path.basename(
            d.dir), PASSWORD not in d.log_text()
            and sim.secret_key not in d.log_text())


def check_refusals(work, sim, broker):
    """A wrong password and a wrong CA: one explained error each, and the
    broker sees only a few attempts."""
    attempts = broker.connection_attempts()
    wrong_ca = collectd_for(work, "wrong-ca", sim, broker,
                            cafile=broker.wrong_cafile)
    wrong_ca.start()
    said = wait_until(lambda: wrong_ca.lines("certificate could not be "
                                              "verified"), 15)
    time.sleep(6)
    tried = broker.connection_attempts() - attempts
    wrong_ca.stop()
    check("a wrong CA: refused like HTTP's, said once, %d attempts in about "
          "15 s (1 s doubling)" % tried,
          said and len(wrong_ca.lines("certificate could not be verified"))
          == 1 and 1 <= tried <= 5, "\n".join(
              wrong_ca.lines("ecoflow plugin: ")[-5:]) + "\n"
          + broker.log()[-1500:])

    broker.set_password(ACCOUNT, "changed-on-the-broker")
    attempts = broker.connection_attempts()
    wrong_pw = collectd_for(work, "wrong-password", sim, broker)
    wrong_pw.start()
    said = wait_until(lambda: wrong_pw.lines("refused the connection"), 15)
    time.sleep(10)
    tried = broker.connection_attempts() - attempts
    refusals = len(broker.refusals())
    wrong_pw.stop()
    check("a wrong password: 'not authorised' said once, %d attempts in "
          "about 15 s (new credentials at most once a minute)" % tried,
          said and len(wrong_pw.lines("refused the connection")) == 1
          and 1 <= tried <= 3 and refusals >= 1,
          wrong_pw.log_text()[-1200:])
    broker.set_password(ACCOUNT, PASSWORD)


def check_threads(work, sim, broker):
    """collectd's read thread copies each device's state out while the MQTT
    thread merges messages in: under helgrind, with messages flowing for
    a while, no data race and no lock misuse (the libraries' own reports
    that are none are in helgrind.supp, each with why)."""
    if not shutil.which("valgrind"):
        print("# valgrind is missing: the helgrind run is skipped")
        return
    daemon = collectd_for(work, "helgrind", sim, broker,
                          extra=["MQTTClientIdSuffix helgrind"])
    report = os.path.join(work, "helgrind.log")
    daemon.prefix = ["valgrind", "--tool=helgrind", "--log-file=" + report,
                     "--suppressions=" + os.path.join(HERE, "helgrind.supp")]
    daemon.start()
    connected = broker.wait_for_connections(1, client_id("helgrind"),
                                            timeout=90)
    if connected:
        sim.control("POST", "/sim/mqtt/periodic", {"every_ms": 100})
        time.sleep(12)
        sim.control("POST", "/sim/mqtt/periodic", {"every_ms": 0})
    rc = daemon.stop()
    with open(report) as f:
        text = f.read()
    summary_line = [line for line in text.splitlines()
                    if "ERROR SUMMARY" in line]
    dispatched = len(daemon.values_of("house"))
    first_error = text.find("Possible data race")
    if first_error < 0:
        first_error = text.find("---Thread-Announcement")
    check("under helgrind, collectd with MQTT: messages merged and "
          "dispatched (%d values), no data race or lock misuse" % dispatched,
          connected and rc == 0 and dispatched > 0 and summary_line
          and " 0 errors from 0 contexts" in summary_line[-1],
          (summary_line[-1] if summary_line else "") + "\n" +
          text[max(first_error, 0):][:4000])


def main():
    for tool in ("mosquitto", "mosquitto_sub", "openssl", "collectd"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
            print("# %s is missing: skipped" % tool)
            return 77
    os.environ["ECOFLOW_TEST_MIN_INTERVAL_MS"] = "1000"
    with work_dir("test_mqtt.") as work, broker_for() as broker, \
            sim_for(broker) as sim:
        wait_until(lambda: sim.control("GET", "/sim/mqtt")["connected"], 15)
        check_telegraf(sim, broker)
        check_collectd(work, sim, broker)
        check_threads(work, sim, broker)
        check_refusals(work, sim, broker)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
