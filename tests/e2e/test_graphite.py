#!/usr/bin/env python3
"""test_graphite.py: the real collectd with ecoflow.so sends its values
through write_graphite to a real carbon-cache (Debian's graphite-carbon, in
a temporary directory on loopback); the metrics that arrive, as whisper
files, are the ones README.md's "Graphite" section documents.

What it shows:
- every value the plugin dispatches for a device of each family (oracle:
  collectd_expected, the core's own naming), its data age and its online
  flag arrive as collectd.HOST.ecoflow-NAME.TYPE-INSTANCE, and nothing
  else does; with SeparateInstances true, as
  collectd.HOST.ecoflow.NAME.TYPE.INSTANCE;
- the value carbon stored is the simulator's (to write_graphite's %.15g);
- a host or device name with dots or spaces arrives with them as "_";
- every metric README.md lists arrives.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (GLOW, HEAT, OCEAN, PULSE, check, skip_unless,  # noqa
                    summary, wait_until, work_dir)
from harness import TOP_SRCDIR, free_port  # noqa: E402
from harness.collectd import (COLLECTD, ORACLE, PLUGIN,  # noqa: E402
                              Collectd, account_block, device_block,
                              expected_values, gauge)

CARBON = shutil.which("carbon-cache") or "/usr/bin/carbon-cache"
WHISPER = "/usr/lib/python3/dist-packages/whisper.py"
CLOCK = 1750000000  # frozen: every value is the first reading's
HOST = "gw.example.net"  # arrives as gw_example_net
# README's names for the devices, but for the PowerOcean's, given with a
# dot and a space to show how write_graphite escapes them.
NAMES = {OCEAN: "house 1.0", HEAT: "heat", GLOW: "rod", PULSE: "ev"}
ESCAPED = {"house 1.0": "house_1_0"}
README_NAMES = {"house_1_0": "house"}
PREFIXES = {"joined": "collectd", "separate": "separate"}


class Carbon:
    """carbon-cache on loopback, its configuration and whisper files in
    directory (notes, section 5)."""

    def __init__(self, directory):
        self.dir = directory
        self.port = free_port()
        self.whisper = os.path.join(directory, "storage", "whisper")
        conf = os.path.join(directory, "conf")
        for sub in (conf, self.whisper, os.path.join(directory, "log"),
                    os.path.join(directory, "run")):
            os.makedirs(sub, exist_ok=True)
        # Tags off: carbon would ask graphite-web (port 80) for each metric.
        with open(os.path.join(conf, "carbon.conf"), "w") as f:
            f.write(f"""[cache]
STORAGE_DIR = {directory}/storage/
LOCAL_DATA_DIR = {self.whisper}/
CONF_DIR = {conf}/
LOG_DIR = {directory}/log/
PID_DIR = {directory}/run/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 5000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {self.port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {free_port()}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {free_port()}
WHISPER_AUTOFLUSH = True
ENABLE_TAGS = False
""")
        with open(os.path.join(conf, "storage-schemas.conf"), "w") as f:
            f.write("[default]\npattern = .*\nretentions = 1s:1h\n")
        self.pidfile = os.path.join(directory, "run", "carbon.pid")
        self.log = open(os.path.join(directory, "carbon.out"), "w")
        self.process = subprocess.Popen(
            [CARBON, "--config=" + os.path.join(conf, "carbon.conf"),
             "--pidfile=" + self.pidfile, "--logfile=-", "--nodaemon",
             "start"], stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until(self.listening, 30):
            raise RuntimeError("carbon-cache did not start")

    def listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1):
                return True
        except OSError:
            return False

    def metrics(self):
        """{metric path: whisper file} of every metric stored so far."""
        found = {}
        for root, _, files in os.walk(self.whisper):
            for name in files:
                if name.endswith(".wsp"):
                    path = os.path.join(root, name)
                    metric = os.path.relpath(path, self.whisper)[:-4]
                    found[metric.replace(os.sep, ".")] = path
        return found

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def last_value(path):
    """The newest value a whisper file holds, or None."""
    try:
        import whisper
    except ImportError:  # a python3 not Debian's: the module is pure Python
        sys.path.append(os.path.dirname(WHISPER))
        import whisper
    now = int(time.time())
    _, values = whisper.fetch(path, now - 600, now + 1)
    values = [v for v in values if v is not None]
    return values[-1] if values else None


def graphite_block(carbon):
    """One write_graphite node per documented naming; write_graphite comes
    from Debian's plugin directory (collectd switches PluginDir between
    LoadPlugin lines)."""
    nodes = "".join(f"""  <Node "{what}">
    Host "127.0.0.1"
    Port "{carbon.port}"
    Protocol "tcp"
    Prefix "{prefix}."
    SeparateInstances {"true" if what == "separate" else "false"}
  </Node>
""" for what, prefix in PREFIXES.items())
    return f"""PluginDir "/usr/lib/collectd"
LoadPlugin write_graphite
<Plugin write_graphite>
{nodes}</Plugin>"""


def metric(naming, instance, type_, type_instance):
    """The metric write_graphite makes of a value, in either naming."""
    host = HOST.replace(".", "_")
    instance = ESCAPED.get(instance, instance)
    if naming == "joined":
        return "collectd.%s.ecoflow-%s.%s-%s" % (host, instance, type_,
                                                 type_instance)
    return "separate.%s.ecoflow.%s.%s.%s" % (host, instance, type_,
                                             type_instance)


def documented():
    """README.md's example metrics: regular expressions, <...> standing
    for one path segment."""
    with open(os.path.join(TOP_SRCDIR, "README.md")) as f:
        text = f.read()
    found = re.findall(r"^\s+(collectd\.<host>\.\S+)", text, re.M)
    patterns = []
    for line in found:
        parts = re.split(r"(<[^>]+>)", line)
        patterns.append("".join(
            "[^.]+" if p.startswith("<") else re.escape(p) for p in parts))
    return found, patterns


def main():
    skipped = skip_unless((PLUGIN, "ecoflow.so"), (ORACLE, "the oracle"),
                          (COLLECTD, "collectd"),
                          (CARBON, "carbon-cache (graphite-carbon)"),
                          (WHISPER, "python3-whisper"))
    if skipped:
        return skipped
    with work_dir("test_graphite.") as work:
        carbon = daemon = None
        try:
            carbon = Carbon(os.path.join(work, "carbon"))
            with simharness.Sim(clock=CLOCK) as sim:
                devices = "\n".join(device_block(sn, name)
                                    for sn, name in NAMES.items())
                # Every quota, as a user who wants them all: RawQuotas true.
                block = account_block(
                    None, sim, devices,
                    options=["Discover true", "RawQuotas true"])
                # The last Hostname wins: one with dots, which write_graphite
                # escapes.
                daemon = Collectd(os.path.join(work, "collectd"),
                                  "%s\n%s\nHostname \"%s\"" % (
                                      block, graphite_block(carbon), HOST),
                                  interval=1)
                expected = {}
                for sn, name in NAMES.items():
                    values, _ = expected_values(sim.sim_quota(sn), True)
                    values[("duration", "data_age")] = (None, None)
                    values[("bool", "online")] = (1.0, None)
                    expected[name] = values
                daemon.start()
                dispatched = wait_until(lambda: all(
                    len({(v["type"], v["type_instance"])
                         for v in daemon.values_of(name)}) >= len(values)
                    for name, values in expected.items()), 30)
                check("collectd dispatched every value", dispatched,
                      daemon.log_text()[-2000:])
                rc = daemon.stop()  # write_graphite sends what it holds
                check("collectd stops cleanly", rc == 0, "status %r" % rc)
                wanted = {metric(naming, name, t, i): (name, value)
                          for naming in PREFIXES
                          for name, values in expected.items()
                          for (t, i), (value, _) in values.items()}
                wait_until(lambda: set(wanted) <= set(carbon.metrics()), 30)
                check_metrics(carbon, wanted, expected)
        finally:
            if daemon is not None and daemon.process is not None and \
                    daemon.process.poll() is None:
                daemon.stop()
            if carbon is not None:
                carbon.stop()
    return summary()


def check_metrics(carbon, wanted, expected):
    stored = carbon.metrics()
    for naming, prefix in PREFIXES.items():
        ours = {m for m in wanted if m.startswith(prefix + ".")}
        got = {m for m in stored if m.startswith(prefix + ".")}
        missing, extra = sorted(ours - got), sorted(got - ours)
        check("%s naming: all %d values of the four devices arrive, nothing "
              "else" % (naming, len(ours)), not missing and not extra,
              "missing %s; extra %s" % (missing[:5], extra[:5]))
    wrong = []
    for m, (name, value) in wanted.items():
        if value is None or m not in stored:
            continue
        got = last_value(stored[m])
        if got != gauge(value):
            wrong.append("%s: %r, not %r" % (m, got, gauge(value)))
    check("carbon stored the simulator's values", not wrong,
          "; ".join(wrong[:5]))
    ages = [last_value(p) for m, p in stored.items()
            if m.endswith("duration-data_age")]
    check("every device's data age arrives, a number of seconds",
          len(ages) == len(expected) and
          all(a is not None and a >= 0 for a in ages), repr(ages))
    escaped = "collectd.gw_example_net.ecoflow-house_1_0."
    check("a host name with dots, a device name with a dot and a space "
          "arrive with them as _", any(m.startswith(escaped) for m in stored)
          and not any("house 1" in m or "gw." in m for m in stored))

    lines, patterns = documented()
    joined = set()
    for m in stored:
        parts = m.split(".")
        if parts[0] == "collectd":
            device = parts[2][len("ecoflow-"):]
            parts[2] = "ecoflow-" + README_NAMES.get(device, device)
            joined.add(".".join(parts))
    absent = [line for line, p in zip(lines, patterns)
              if not any(re.fullmatch(p, m) for m in joined)]
    check("README.md lists %d metrics, and every one arrives" % len(lines),
          len(lines) >= 10 and not absent, "absent: %s" % absent)


if __name__ == "__main__":
    sys.exit(main())
