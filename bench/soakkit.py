"""soakkit.py: what both legs of the soak share (soak.py: the HTTP path,
soak_push.py: push mode): collectd's configuration, a process's memory
and CPU from /proc, the command lines that show a key, a growth slope, and
valgrind's verdict.

Python 3 standard library only, and tests/e2e (on sys.path) for the head
of collectd.conf."""

import os
import re
import shutil

from harness import write_private
from harness.collectd import conf_head

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def write_collectd_conf(directory, plugin, sim, interval_s, account):
    """collectd.conf in directory, with plugin (ecoflow.so) copied beside
    it and sim's secret key in a file only we read, for one account of sim
    whose lines after Endpoint are account (its Timeout, options and
    <Device> blocks). Values stop after collectd's cache (a write plugin
    would fill the disk or the log; without one and without the chain,
    collectd logs every value as undeliverable); the log, collectd.log,
    is at info, so that each state change shows. Returns the path."""
    shutil.copy(plugin, os.path.join(directory, "ecoflow.so"))
    secret = os.path.join(directory, "ecoflow.secret")
    write_private(secret, sim.secret_key + "\n")
    conf = os.path.join(directory, "collectd.conf")
    write_private(conf, conf_head("soak", interval_s,
                                  os.path.join(directory, "collectd.log"))
                  + f"""PostCacheChain "Soak"
<Chain "Soak">
  Target "stop"
</Chain>
PluginDir "{directory}"
LoadPlugin ecoflow
<Plugin ecoflow>
  AccessKey "{sim.access_key}"
  SecretKeyFile "{secret}"
  Endpoint "{sim.base_url}"
{account}</Plugin>
""")
    return conf


def memory_kb(pid):
    """(VmRSS, RssAnon) of pid in kB, from /proc/PID/status."""
    found = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                found[key] = int(value.split()[0])
    return found.get("VmRSS", 0), found.get("RssAnon", 0)


def cpu_seconds(pid):
    """The CPU time pid has used so far (user and system, every thread),
    from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # utime and stime: fields 14 and 15 of stat(5), 12 and 13 after ")".
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def processes_showing(keys):
    """The command lines (of any process) that hold one of keys."""
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as cmdline:
                args = cmdline.read().decode("utf-8", "replace")
        except OSError:
            continue
        if any(key in args for key in keys):
            found.add(args.replace("\0", " "))
    return found


def slope_kb_per_1000(points):
    """Least-squares slope of (count, kB) points, per 1000 of count."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    cov = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return 1000.0 * cov / var


LEAK_LINE = re.compile(r"(definitely|indirectly|possibly) lost: ([\d,]+) "
                       r"bytes in ([\d,]+) blocks")


def report_valgrind(text, what, seconds, rc):
    """Prints valgrind's summary of a run (what: the daemon and its work)
    and returns True when it is clean: exit status 0, no error, nothing
    definitely or indirectly lost."""
    print("\nvalgrind: %s in %.0f s, exit status %s" % (what, seconds, rc))
    summary = [line.split("== ", 1)[-1] for line in text.splitlines()
               if re.search(r"(LEAK SUMMARY|lost:|reachable:|suppressed:|"
                            r"no leaks are possible|ERROR SUMMARY)", line)]
    print("\n".join("  " + line for line in summary))
    lost = {kind: int(size.replace(",", ""))
            for kind, size, _ in LEAK_LINE.findall(text)}
    errors = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    clean = (rc == 0 and errors == ["0"] and lost.get("definitely", 0) == 0
             and lost.get("indirectly", 0) == 0)
    print("definitely lost %d B, indirectly lost %d B, errors %s: %s"
          % (lost.get("definitely", 0), lost.get("indirectly", 0),
             errors[-1] if errors else "?", "clean" if clean else "NOT CLEAN"))
    return clean
