"""mqtt_fault_scenario.py: push mode against a broker and a reader that
misbehave (issue 19), each scenario run through either front end
(ecoflow-telegraf --execd --mqtt, or collectd with MQTT true, behind one
face) and returning what it measured: test_mqtt_faults.py checks
generous bounds on the figures, bench.py (section 8) reports them.

The broker is the real mosquitto (mqttharness.Broker, test_mqtt's
accounts) where it can misbehave that way (stopped and started, floods
through mosquitto_pub -l, retained messages), else mqttharness.FakeBroker
(silent after TCP or TLS, a topic with a control character); a resolver
that never answers needs root (a private mount namespace for
/etc/resolv.conf, and port 53). Figures: seconds from time.monotonic, CPU
as utime+stime of the process (/proc/PID/stat), memory as VmRSS."""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import mqttharness
import simharness
from checks import wait_until
from harness.collectd import Collectd, account_block, device_block
from harness.lineproto import fields, tag_of
# broker_for and sim_for: the broker (users, ACL) and the publishing
# simulator that the scenarios on the real broker expect.
from harness.pushrig import (ACCOUNT, HEAT, OCEAN, PASSWORD,  # noqa: F401
                             PUBLISHER, PUBLISHER_PASSWORD, SNS, T0,
                             broker_for, client_id, sim_for)
from harness.telegraf import TELEGRAF, environment

SILENCE_S = 60
STABLE_S = 11  # ef_mqtt_rules.h: EF_MQTT_STABLE_S and a margin
QUOTA_TOPIC = "/open/%s/%s/quota" % (ACCOUNT, OCEAN)
STATUS_TOPIC = "/open/%s/%s/status" % (ACCOUNT, OCEAN)
# How long a scenario waits for what it expects before it gives up.
PATIENCE_S = 30


def _float(text):
    """A float field's value (None: absent or not a float)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def proc_cpu_s(pid):
    """User and system time of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class CpuWindow:
    """The share of a core a process used from here to share()."""

    def __init__(self, pid):
        self.pid = pid
        self.cpu, self.began = proc_cpu_s(pid), time.monotonic()

    def share(self):
        return (proc_cpu_s(self.pid) - self.cpu) / max(
            time.monotonic() - self.began, 1e-3)


# ---- the two front ends, behind one face ---------------------------------

class Telegraf:
    """ecoflow-telegraf --execd --mqtt; stderr and (unless read_stdout is
    off: a reader that never reads) stdout collected with arrival times."""

    name = "telegraf"

    def __init__(self, work, sim, cafile, timeout=5, read_stdout=True,
                 wrapper=(), suffix="telegraf", tag=""):
        del work, tag  # collectd's; ecoflow-telegraf needs no directory
        self.suffix = suffix
        args = list(wrapper) + [
            TELEGRAF, "--endpoint", sim.base_url, "--timeout", str(timeout),
            "--execd", "--mqtt", "--ca-file", cafile, "--sn",
            OCEAN + "=house", "--sn", HEAT, "--mqtt-silence", str(SILENCE_S),
            "--mqtt-client-id-suffix", suffix]
        self.process = subprocess.Popen(
            args, env=environment(sim), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = [], []
        streams = [(self.process.stderr, self.err)]
        if read_stdout:
            streams.append((self.process.stdout, self.out))
        for stream, lines in streams:
            threading.Thread(target=self._collect, args=(stream, lines),
                             daemon=True).start()
        self.process.stdin.write(b"\n")  # the first poll seeds the devices
        self.process.stdin.flush()

    @staticmethod
    def _collect(stream, lines):
        for line in stream:
            lines.append((time.time(), line.decode("utf-8", "replace")
                          .rstrip("\n")))

    @property
    def pid(self):
        return self.process.pid

    def logged(self, text):
        return [line for _, line in self.err if text in line]

    def log_text(self):
        return "\n".join(line for _, line in self.err)

    def saw(self, number):
        """When a line carrying number as OCEAN's phase a voltage arrived,
        or None. Compared as numbers, as collectd's values are: the line
        carries the message's JSON number, whose text is the shortest
        (200.0012 for 200.00120), not the text number was made from."""
        for at, line in list(self.out):
            if (line.startswith("ecoflow_phase,")
                    and tag_of(line, "sn") == OCEAN
                    and tag_of(line, "phase") == "a"
                    and _float(fields(line).get("voltage"))
                    == float(number)):
                return at
        return None

    def status_points(self):
        return [line for _, line in list(self.out)
                if line.startswith("ecoflow_device,") and "sn=" + OCEAN in line]

    def stop(self, how=signal.SIGTERM):
        """Ends it (a signal, or "eof"); (exit status, seconds taken)."""
        began = time.monotonic()
        if how == "eof":
            self.process.stdin.close()
        else:
            self.process.send_signal(how)
        try:
            rc = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rc = "hung"
        return rc, time.monotonic() - began


class CollectdDaemon:
    """collectd with the plugin, MQTT true, reading every second."""

    name = "collectd"

    def __init__(self, work, sim, cafile, timeout=5, wrapper=(),
                 suffix="collectd", tag=""):
        self.suffix = suffix
        devices = device_block(OCEAN, "house", 1) + "\n" + device_block(
            HEAT, None, 1)
        block = account_block(None, sim, devices, timeout=timeout, options=[
            "MQTT true", 'CAFile "%s"' % cafile,
            "MQTTSilence %d" % SILENCE_S,
            'MQTTClientIdSuffix "%s"' % suffix])
        self.daemon = Collectd(os.path.join(work, "collectd-%s%s" % (
            suffix, tag)), block, interval=1, prefix=wrapper)
        self.daemon.start()

    @property
    def pid(self):
        return self.daemon.process.pid

    def logged(self, text):
        return [line for line in self.daemon.log_text().splitlines()
                if text in line and "ecoflow plugin:" in line]

    def log_text(self):
        return "\n".join(line for line in self.daemon.log_text().splitlines()
                         if "ecoflow plugin:" in line)

    def notifications(self, text):
        return [line for line in self.daemon.log_text().splitlines()
                if line.startswith("Notification:") and text in line]

    def saw(self, number):
        for value in self.daemon.values_of("house"):
            if (value["type"] == "voltage" and value["type_instance"]
                    == "phase_a" and value["values"][0] == float(number)):
                return time.time()
        return None

    def stop(self, how=signal.SIGTERM):
        began = time.monotonic()
        self.daemon.process.send_signal(how)
        try:
            rc = self.daemon.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.daemon.process.kill()
            rc = "hung"
        self.daemon.output.close()
        return rc, time.monotonic() - began


FRONT_ENDS = (Telegraf, CollectdDaemon)


# ---- publishing ----------------------------------------------------------

class Values:
    """Unique voltages, so that each message's arrival can be told. Each
    text ends in a zero that the message's JSON number drops (200.00120 is
    published as 200.0012): a reader that compares texts, not numbers,
    misses every value at once, not one in ten."""

    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        step = self.n + 11
        return "%d.%05d0" % (200 + step // 100000, step % 100000)


VALUES = Values()


def quota_payload(number):
    return json.dumps({"typeCode": "pcsAPhase",
                       "params": {"pcsAPhase": {"vol": float(number)}}})


def publish_value(broker, number, retain=False):
    return broker.publish_lines(PUBLISHER, PUBLISHER_PASSWORD, QUOTA_TOPIC,
                                [quota_payload(number)], retain=retain)


def delivered(broker, client, timeout):
    """Publishes fresh values (one each half second) until one reaches
    client; when it arrived (time.time()), or None."""
    deadline = time.monotonic() + timeout
    sent = []
    while time.monotonic() < deadline:
        number = VALUES.next()
        publish_value(broker, number)
        sent.append(number)
        arrived = wait_until(lambda: next(
            (a for a in (client.saw(n) for n in sent) if a), None), 0.5)
        if arrived:
            return arrived
    return None


def connected(broker, client, timeout=PATIENCE_S):
    """The client is connected and subscribed: a message reaches it."""
    return bool(broker.wait_for_connections(1, client_id(client.suffix),
                                            timeout)) and bool(delivered(
                                                broker, client, timeout))


def key_flood_payloads(messages, keys):
    """messages quota messages of keys values each, no key seen twice."""
    return [json.dumps({"typeCode": "flood", "params": {
        "neverSeen%d_%d" % (m, k): k for k in range(keys)}})
        for m in range(messages)]


def _running(broker):
    return broker._process is not None and broker._process.poll() is None


def _stop_keeping_log(client, r):
    """Stops client by SIGTERM and keeps in r its status, how long the
    stop took and the end of its log: what a check of how it stops (while
    it waits for a peer that never answers) looks at."""
    r["rc"], r["stop_s"] = client.stop()
    r["log"] = client.log_text()[-2000:]


# ---- outages ---------------------------------------------------------------

def outages(work, sim, broker, front_end, downs=(0, 2, 10)):
    """One client through broker outages of downs seconds (stopped, its
    port closed, started again), each after the connection lasted: per
    outage the share of a core the client used from the stop to the next
    message, and that message's delay after the broker's return; the lines
    it logged about losses, returns and errors."""
    client = front_end(work, sim, broker.cafile)
    r = {"name": client.name, "runs": []}
    try:
        r["connected"] = connected(broker, client)
        for down_s in downs if r["connected"] else ():
            time.sleep(STABLE_S)  # a connection that lasted: pauses from 1 s
            n = len(broker.connections(client_id(client.suffix)))
            window = CpuWindow(client.pid)
            broker.down()
            time.sleep(down_s)
            broker.up()
            back = time.time()
            arrived = delivered(broker, client, PATIENCE_S)
            r["runs"].append({
                "down_s": down_s, "cpu_share": window.share(),
                "return_s": arrived - back if arrived else None,
                "new_connection": len(broker.connections(
                    client_id(client.suffix))) > n})
        r["lost"] = client.logged("was lost (")
        r["again"] = client.logged("connected again")
        r["errors"] = client.logged("cannot connect") + client.logged(
            "same client id")
        r["log"] = client.log_text()[-2000:]
    finally:
        client.stop()
    return r


def down_from_start(work, sim, broker, front_end):
    """A client started while the broker is down: how soon it says so, and
    in which words; its CPU while the broker stays away; how soon a message
    reaches it once the broker is up."""
    broker.down()
    began = time.monotonic()
    client = front_end(work, sim, broker.cafile, tag="-down")
    r = {"name": client.name}
    try:
        said = wait_until(lambda: client.logged(
            "cannot connect to the broker"), PATIENCE_S)
        r["said_s"] = time.monotonic() - began if said else None
        r["said"] = said[0] if said else None
        window = CpuWindow(client.pid)
        time.sleep(4)
        r["cpu_share"] = window.share()
        broker.up()
        back = time.time()
        arrived = delivered(broker, client, PATIENCE_S)
        r["return_s"] = arrived - back if arrived else None
        r["connected_lines"] = client.logged("connected to the broker")
        r["log"] = client.log_text()[-2000:]
    finally:
        if not _running(broker):
            broker.up()
        client.stop()
    return r


# ---- brokers that misbehave -------------------------------------------------

def fake_sim(broker, port, host=mqttharness.HOST):
    """A simulator whose certification hands out host:port (no publisher)."""
    path = os.path.join(broker.dir, "fake-sim-passwords")
    mqttharness.write_sim_passwords(path, PASSWORD, PUBLISHER_PASSWORD)
    return simharness.Sim(
        devices=[OCEAN + ":powerocean", HEAT + ":powerheat"], clock=T0,
        extra_args=["--mqtt-host", host, "--mqtt-port", str(port),
                    "--mqtt-account", ACCOUNT, "--mqtt-password-file", path])


SILENT_STAGES = {"silent": "in the TLS handshake",
                 "tls-silent": "waiting for its answer to CONNECT"}


def silent_broker(work, broker, front_end, mode, timeout_s=2):
    """A broker that accepts TCP and never answers ("silent") or never
    sends CONNACK ("tls-silent"), the account's Timeout timeout_s: how
    soon and how it is said, the attempts in the 10 s after, the CPU then,
    and how long a SIGTERM takes while an attempt waits."""
    with mqttharness.FakeBroker(broker, mode) as fake, \
            fake_sim(broker, fake.port) as sim:
        began = time.monotonic()
        client = front_end(work, sim, broker.cafile, timeout=timeout_s,
                           tag="-" + mode)
        r = {"name": client.name, "mode": mode, "stage": SILENT_STAGES[mode]}
        try:
            said = wait_until(lambda: client.logged(
                "no answer within %g s" % timeout_s), PATIENCE_S)
            r["said_s"] = time.monotonic() - began if said else None
            r["said"] = said
            window, first = CpuWindow(client.pid), fake.connections()
            time.sleep(10)
            r["attempts_10s"] = fake.connections() - first
            r["cpu_share"] = window.share()
            wait_until(lambda: fake.connections() > first + r["attempts_10s"],
                       PATIENCE_S)
        finally:
            _stop_keeping_log(client, r)
    return r


def bad_topic(work, broker):
    """A message whose topic holds a control character, after a good one,
    on every connection: whether the good one arrives, the connections
    made, and what was said."""
    number = VALUES.next()
    good = (QUOTA_TOPIC.encode(), quota_payload(number).encode())
    bad = (("/open/%s/%s\x01/quota" % (ACCOUNT, OCEAN)).encode(),
           b'{"params":{"a":1}}')
    with mqttharness.FakeBroker(broker, "mqtt", publish=[good, bad],
                                subscriptions=2 * len(SNS)) as fake, \
            fake_sim(broker, fake.port) as sim:
        client = Telegraf(work, sim, broker.cafile)
        try:
            r = {"arrived": bool(wait_until(lambda: client.saw(number),
                                            PATIENCE_S)),
                 "reconnected": bool(wait_until(
                     lambda: fake.connections() >= 4, PATIENCE_S))}
            r["connections"] = fake.connections()
            r["refused"] = client.logged("refuses")
            r["conflict"] = client.logged("same client id")
            r["log"] = client.log_text()[-2000:]
        finally:
            client.stop()
    return r


# ---- floods --------------------------------------------------------------

def status_flood(work, sim, broker, front_end, flips):
    """flips status messages alternating 0 and 1 as fast as mosquitto_pub
    sends them: the lines said about the status, the flags written
    (ecoflow-telegraf) and notifications (collectd)."""
    client = front_end(work, sim, broker.cafile, tag="-status")
    r = {"name": client.name, "flips": flips}
    try:
        r["connected"] = connected(broker, client)
        if not r["connected"]:
            return r
        points = len(client.status_points()) if client.name == "telegraf" \
            else 0
        began = time.monotonic()
        flood = broker.publish_lines(
            PUBLISHER, PUBLISHER_PASSWORD, STATUS_TOPIC,
            ['{"params":{"status":%d}}' % (i % 2) for i in range(flips)])
        r["publish_s"] = time.monotonic() - began
        r["published"] = flood.returncode == 0
        # A message after the flood marks its end.
        r["marker"] = bool(delivered(broker, client, PATIENCE_S))
        # Statuses are handed out at most once a second, maybe after the
        # marker: the flapping is waited for, then what follows it.
        wait_until(lambda: client.logged("flaps"), PATIENCE_S)
        time.sleep(2.5)
        r["said"] = client.logged("MQTT status")
        r["flaps"] = client.logged("flaps")
        r["points"] = (len(client.status_points()) - points
                       if client.name == "telegraf" else None)
        r["notifications"] = (client.notifications("its MQTT status")
                              if client.name == "collectd" else None)
    finally:
        client.stop()
    return r


def key_flood(work, sim, broker, front_end, messages=200, keys=5000,
              settle_kb=None):
    """messages of keys never-seen keys each: the client's RSS growth (2 s
    after the flood went through; with settle_kb, once it is below that, or
    PATIENCE_S later: what the process gives back once its queue drained);
    for collectd the share of a core its reads take afterwards, and
    whether the capped state was said once."""
    client = front_end(work, sim, broker.cafile, tag="-keys")
    r = {"name": client.name, "messages": messages, "keys": keys}
    try:
        r["connected"] = connected(broker, client)
        if not r["connected"]:
            return r
        time.sleep(1)
        before = proc_rss_kb(client.pid)
        began = time.monotonic()
        flood = broker.publish_lines(PUBLISHER, PUBLISHER_PASSWORD,
                                     QUOTA_TOPIC,
                                     key_flood_payloads(messages, keys))
        r["published"] = flood.returncode == 0
        r["marker"] = bool(delivered(broker, client, 2 * PATIENCE_S))
        r["through_s"] = time.monotonic() - began
        if settle_kb is None:
            time.sleep(2)
        else:
            wait_until(lambda: proc_rss_kb(client.pid) - before < settle_kb,
                       PATIENCE_S)
        r["rss_before_kb"] = before
        r["growth_kb"] = proc_rss_kb(client.pid) - before
        if client.name == "collectd":
            window = CpuWindow(client.pid)
            time.sleep(5)
            r["cpu_share_after"] = window.share()
            r["capped"] = client.logged("holds as many values as it may")
        r["log"] = client.log_text()[-2000:]
    finally:
        client.stop()
    return r


# ---- retained messages ------------------------------------------------------

def retained(work, sim, broker, front_end):
    """A retained message published before the client subscribes: whether
    its value ever reached the client as a reading (ecoflow-telegraf,
    after a fresh one arrived) or as state (collectd, with no fresh one to
    replace it). The retained message is cleared afterwards."""
    number = VALUES.next()
    publish_value(broker, number, retain=True)
    client = front_end(work, sim, broker.cafile, tag="-retained")
    r = {"name": client.name}
    try:
        if client.name == "telegraf":
            r["connected"] = connected(broker, client)
            r["seen"] = client.saw(number) is not None
        else:
            r["connected"] = bool(wait_until(lambda: broker.subscriptions(
                client_id(client.suffix)) >= 2 * len(SNS), PATIENCE_S))
            r["seen"] = bool(wait_until(lambda: client.saw(number), 15))
        r["log"] = client.log_text()[-2000:]
    finally:
        client.stop()
        broker.publish(PUBLISHER, PUBLISHER_PASSWORD, QUOTA_TOPIC, None,
                       retain=True)
    return r


# ---- a reader that stops reading ------------------------------------------

# Floods of blocked_stdout at most, until the program says stdout is full.
FLOOD_ROUNDS = 5


def blocked_stdout(work, sim, broker, how, messages=800, keys=2000,
                   watch_s=12):
    """ecoflow-telegraf whose stdout nobody reads, flooded (in rounds, until
    it says so) with messages of more line protocol than the pipe and its
    queue hold: whether it said so, its RSS growth over watch_s, and how
    long how (SIGTERM or "eof") takes to end it."""
    client = Telegraf(work, sim, broker.cafile, read_stdout=False)
    r = {"how": "SIGTERM" if how == signal.SIGTERM else "the end of stdin"}
    try:
        r["connected"] = bool(broker.wait_for_connections(
            1, client_id("telegraf"), PATIENCE_S)) and bool(wait_until(
                lambda: broker.subscriptions(client_id("telegraf"))
                >= 2 * len(SNS), PATIENCE_S))
        time.sleep(1)
        before = peak = proc_rss_kb(client.pid)
        payloads = key_flood_payloads(messages, keys)

        def flood():
            # Rounds until it says so: how much line protocol a round makes
            # depends on how many messages the MQTT queue dropped while the
            # main thread wrote (a loaded machine drops more), so one round
            # may not fill the pipe and the stdout queue.
            for _ in range(FLOOD_ROUNDS):
                broker.publish_lines(PUBLISHER, PUBLISHER_PASSWORD,
                                     QUOTA_TOPIC, payloads)
                if client.logged("stdout is not being read"):
                    return

        flood = threading.Thread(target=flood, daemon=True)
        flood.start()
        for _ in range(watch_s):
            time.sleep(1)
            peak = max(peak, proc_rss_kb(client.pid))
        # A loaded machine may take longer to fill the pipe and the queue.
        r["said"] = wait_until(lambda: client.logged(
            "stdout is not being read"), PATIENCE_S) or []
        peak = max(peak, proc_rss_kb(client.pid))
        r["dropped_said"] = client.logged("messages arrive faster")
        r["growth_kb"] = peak - before
        r["rc"], r["stop_s"] = client.stop(how)
        flood.join(2 * PATIENCE_S)
        r["log"] = client.log_text()[-2000:]
    finally:
        if client.process.poll() is None:
            client.process.kill()
    return r


# ---- a resolver that never answers ---------------------------------------

class SilentResolver:
    """A DNS server on 127.0.0.153:53 that takes queries and never answers,
    and a resolv.conf naming it; wrapper() runs a program with that
    resolv.conf in a private mount namespace (root only)."""

    ADDRESS = "127.0.0.153"

    def __init__(self, work):
        self.queries = 0
        self.conf = os.path.join(work, "resolv.conf")
        with open(self.conf, "w") as out:
            out.write("nameserver %s\noptions timeout:5 attempts:2\n" %
                      self.ADDRESS)
        self._stopped = threading.Event()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.settimeout(0.2)
        self.socket.bind((self.ADDRESS, 53))
        self._thread = threading.Thread(target=self._swallow, daemon=True)
        self._thread.start()

    def _swallow(self):
        while not self._stopped.is_set():
            try:
                self.socket.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1

    def wrapper(self):
        return ["unshare", "--mount", "sh", "-c",
                'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.conf]

    def close(self):
        self._stopped.set()
        self._thread.join()
        self.socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


def resolver_skip_reason():
    """Why a silent resolver cannot be set up here, or None."""
    if os.geteuid() != 0:
        return "not root (a private mount namespace and port 53 need it)"
    if not shutil.which("unshare"):
        return "unshare is missing"
    probe = subprocess.run(["unshare", "--mount", "true"],
                           capture_output=True)
    return None if probe.returncode == 0 else "unshare --mount fails"


def named_broker(work, broker, front_end):
    """The broker handed out by name ("localhost"): the name looked up,
    each address tried (the broker listens on 127.0.0.1 only), the
    certificate checked against the name. Whether it connected, and what
    it said."""
    suffix = front_end.name + "-named"
    n = len(broker.connections(client_id(suffix)))
    with fake_sim(broker, broker.port, host="localhost") as sim:
        client = front_end(work, sim, broker.cafile, suffix=suffix,
                           tag="-named")
        r = {"name": client.name}
        try:
            r["connected"] = bool(broker.wait_for_connections(
                n + 1, client_id(suffix), PATIENCE_S)[n:])
            r["said"] = wait_until(lambda: client.logged(
                "connected to the broker localhost:%d" % broker.port),
                PATIENCE_S)
            r["log"] = client.log_text()[-2000:]
        finally:
            client.stop()
    return r


def silent_resolver(work, broker, front_end, resolver, timeout_s=2):
    """The broker handed out by a name that resolver never answers: whether
    the lookup was asked and said within the Timeout, and how long a
    SIGTERM takes meanwhile."""
    with fake_sim(broker, broker.port, host="broker.example") as sim:
        client = front_end(work, sim, broker.cafile, timeout=timeout_s,
                           wrapper=resolver.wrapper(), tag="-dns")
        r = {"name": client.name}
        try:
            r["asked"] = bool(wait_until(lambda: resolver.queries > 0,
                                         PATIENCE_S))
            r["said"] = wait_until(lambda: client.logged(
                "did not resolve within %g s" % timeout_s), PATIENCE_S)
        finally:
            _stop_keeping_log(client, r)
    return r
