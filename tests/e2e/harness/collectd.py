"""harness/collectd.py: the real collectd daemon as the end-to-end tests
run it (its own directory, logfile and write_log into one log, ecoflow.so
beside the configuration), the plugin's configuration blocks, and the
oracle's values for a device's data."""

import json
import os
import re
import shutil
import signal
import subprocess

from harness import TOP_BUILDDIR

PLUGIN = os.path.join(TOP_BUILDDIR, "src", ".libs", "ecoflow.so")
ORACLE = os.path.join(TOP_BUILDDIR, "tests", "e2e", "collectd_expected")
COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
STOCK_PLUGINS = "/usr/lib/collectd"
HOST = "testhost"


def conf_head(hostname, interval_s, log, print_severity=False):
    """The head of a collectd.conf: the host, the interval, the stock
    plugins' directory, and logfile at info into log."""
    return f"""Hostname "{hostname}"
FQDNLookup false
Interval {interval_s:g}
PluginDir "{STOCK_PLUGINS}"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{log}"
  PrintSeverity {"true" if print_severity else "false"}
</Plugin>
"""


def flatten(value, path, out):
    """The simulator's JSON as flat quota paths, the way sample.h names
    them: objects joined with '.', lists of objects indexed."""
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, "%s.%s" % (path, key) if path else key, out)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for i, item in enumerate(value):
            flatten(item, "%s[%d]" % (path, i), out)
    else:
        out[path] = value
    return out


def gauge(number):
    """A double as write_log prints and reads it back (%.15g)."""
    return float("%.15g" % number)


def expected_values(data, raw_quotas=False, cell_values=False):
    """The oracle's lines for one device's quota/all data: {(type,
    instance): (number, path)} that must arrive, and those that must not
    (raw_quotas: as with `RawQuotas true', cell_values: `CellValues
    true')."""
    out = subprocess.run([ORACLE] + (["--raw-quotas"] if raw_quotas else [])
                         + (["--cell-values"] if cell_values else []),
                         input=json.dumps(data), text=True,
                         capture_output=True, check=True).stdout
    values, absent = {}, {}
    for line in out.splitlines():
        kind, type_, instance, number, path = line.split("\t")
        if kind == "value":
            values[(type_, instance)] = (float(number), path)
        else:
            absent[(type_, instance)] = path
    return values, absent


class Collectd:
    """One collectd daemon in its own directory: logfile and write_log (JSON)
    into collectd.log, ecoflow.so copied next to the config (collectd
    refuses symlinks in PluginDir)."""

    def __init__(self, directory, plugin_block, interval=10, prefix=(),
                 print_severity=False):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        shutil.copy(PLUGIN, os.path.join(directory, "ecoflow.so"))
        self.log = os.path.join(directory, "collectd.log")
        self.conf = os.path.join(directory, "collectd.conf")
        self.prefix = list(prefix)
        with open(self.conf, "w") as f:
            f.write(conf_head(HOST, interval, self.log, print_severity)
                    + f"""LoadPlugin write_log
<Plugin write_log>
  Format JSON
</Plugin>
PluginDir "{directory}"
LoadPlugin ecoflow
{plugin_block}
""")
        self.process = None
        # The log read so far: a long run writes megabytes of values, and a
        # test that parsed them all again at each look would fall behind
        # the daemon on a busy machine.
        self._read_to = 0
        self._values = []
        self._log_lines = []

    def test_once(self):
        """collectd -T: config, init, one read, shutdown."""
        run = subprocess.run(self.prefix + [COLLECTD, "-T", "-C", self.conf],
                             capture_output=True, text=True, timeout=120)
        return run.returncode, run.stdout + run.stderr + self.log_text()

    def start(self):
        self.output = open(os.path.join(self.dir, "stdout"), "w")
        self.process = subprocess.Popen(
            self.prefix + [COLLECTD, "-f", "-C", self.conf],
            stdout=self.output, stderr=subprocess.STDOUT)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            rc = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rc = self.process.wait()
        self.output.close()
        return rc

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stdout_text(self):
        with open(os.path.join(self.dir, "stdout")) as f:
            return f.read()

    def _read_on(self):
        """Takes in the whole lines the log gained since the last look:
        write_log's values, and the log lines."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self._read_to)
                gained = f.read()
        except FileNotFoundError:
            return
        whole = gained[:gained.rfind(b"\n") + 1]  # not the line being written
        self._read_to += len(whole)
        for line in whole.decode("utf-8", "replace").splitlines():
            if line.startswith('[{"values"'):
                try:
                    self._values.extend(json.loads(line))
                except ValueError:
                    pass  # cut short: a daemon killed mid-line
            else:
                self._log_lines.append(line)

    def values(self):
        """Every value list write_log logged so far."""
        self._read_on()
        return list(self._values)

    def values_of(self, instance):
        return [v for v in self.values() if v["plugin_instance"] == instance]

    def lines(self, pattern):
        """The log lines (not write_log's values) that match pattern."""
        self._read_on()
        found = re.compile(pattern)
        return [line for line in self._log_lines if found.search(line)]


def device_block(serial, name=None, interval=None, raw_quotas=None):
    lines = ['  <Device "%s">' % serial]
    if name:
        lines.append('    Name "%s"' % name)
    if raw_quotas is not None:
        lines.append("    RawQuotas %s" % ("true" if raw_quotas else "false"))
    if interval:
        lines.append("    Interval %s" % interval)
    lines.append("  </Device>")
    return "\n".join(lines)


def account_block(name, sim, devices, secret=None, indent="  ", timeout=5,
                  options=()):
    body = ['AccessKey "%s"' % sim.access_key,
            'SecretKey "%s"' % (secret or sim.secret_key),
            'Endpoint "%s"' % sim.base_url, "Timeout %s" % timeout]
    body += list(options)
    inner = "\n".join(indent + line for line in body) + "\n"
    inner += "\n".join(indent + line for line in devices.split("\n"))
    if name is None:
        return "<Plugin ecoflow>\n%s\n</Plugin>" % inner
    return '  <Account "%s">\n%s\n  </Account>' % (name, inner)
