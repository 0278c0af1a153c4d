#!/usr/bin/env python3
"""test_hostile_collectd.py: issues 15 and 23 against the collectd plugin:
the hostile cloud of hostile_scenario.py (1000 hanging devices, a read and
a stop; a resolver that never answers; a report of +-1e308 kWh; one daemon
with the live accounts), and the user's input in
collectd's syntax, each tried with `collectd -T` against a simulator that
counts what it is sent:
- AccessKey with a line break, a CR or both inside its quotes: refused as
  a configuration error, nothing sent;
- a secret given as Timeout, or as the name of an option: refused without
  printing it;
- Endpoint plain http:// to another host: warned once, also to hosts that
  only begin like a loopback address (127.0.0.1.<name>, 127.<name>); not
  to localhost or 127.1; ftp://: refused;
- CounterGlitchShare 0x1p-3, MaxConcurrent 0x1.8p1, MaxUnknownQuotas
  "0x10": refused (numbers are decimal; an unquoted 0x10 is collectd's own
  hex, 16, before the plugin sees it);
- a Name with '/', and a Name equal to another account's device's
  instance: refused (a discovered one gets a suffix instead, in the live
  run)."""

import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import faultkit  # noqa: E402
import hostile_scenario as hs  # noqa: E402
import simharness  # noqa: E402
from checks import check, skip_unless, wait_until  # noqa: E402
from harness.collectd import COLLECTD, PLUGIN, Collectd  # noqa: E402

# The plugin's own lines, and the notifications it raises as logfile
# writes them.
OWN_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] (ecoflow plugin: |"
                      r"Notification: severity = \w+, host = \S+, plugin = "
                      r"ecoflow, )")


def device_block(sn, name=None, reports=()):
    lines = ['    <Device "%s">' % sn]
    if name:
        lines.append('      Name "%s"' % name)
    for code in reports:
        lines.append('      <Report "%s">\n      </Report>' % code)
    lines.append("    </Device>")
    return "\n".join(lines)


def account_block(account):
    endpoint = account.endpoint
    body = ['AccessKey "%s"' % endpoint.access_key,
            'SecretKey "%s"' % endpoint.secret_key,
            'Endpoint "%s"' % endpoint.base_url,
            "Timeout %s" % account.timeout]
    if account.max_concurrent:
        body.append("MaxConcurrent %d" % account.max_concurrent)
    if account.discover:
        body += ["Discover true", "DiscoverRefresh 1"]
    lines = ["    " + line for line in body]
    lines += [device_block(sn, account.names.get(sn), account.reports)
              for sn in account.serials]
    return '  <Account "%s">\n%s\n  </Account>' % (account.name,
                                                  "\n".join(lines))


def plugin_block(accounts):
    # Every account reads in a thread of its own: a hanging one must not
    # delay the others.
    return "ReadThreads %d\n<Plugin ecoflow>\n%s\n</Plugin>" % (
        len(accounts) + 2, "\n".join(account_block(a) for a in accounts))


def fresh(work, name):
    """A directory of its own for each daemon: collectd appends to its
    log, and a run must not count what an earlier one said."""
    return tempfile.mkdtemp(prefix=name + ".", dir=work)


def hang_account(sim, serials, timeout=hs.TIMEOUT_S):
    return hs.Account("hang", sim, serials, timeout=timeout)


class CollectdFrontEnd(hs.FrontEnd):
    name = "collectd"
    names_series_by_instance = True
    reads_reports = True
    once_timeouts = 2  # collectd -T checks the account, then reads

    def __init__(self):
        self.daemon = None

    def hang_read(self, sim, serials, work, prefix=()):
        daemon = Collectd(fresh(work, "hang-read"),
                          plugin_block([hang_account(sim, serials)]),
                          interval=hs.INTERVAL_S, prefix=prefix)
        watch = hs.RequestWatch(sim)
        daemon.start()
        failed = re.compile(r"ecoflow plugin: device (\w+)"
                            r"(?: of account \"hang\")?: Timeout")

        def told():
            return {m.group(1) for line in daemon.log_text().splitlines()
                    for m in [failed.search(line)] if m}
        wait_until(lambda: len(told()) >= len(serials), 60)
        done = time.monotonic()
        watch.close()
        daemon.stop()
        return (done - watch.first if watch.first else None), len(told())

    def hang_stop(self, sim, serials, work, wave, prefix=()):
        daemon = Collectd(fresh(work, "hang-stop"),
                          plugin_block([hang_account(sim, serials)]),
                          interval=hs.INTERVAL_S, prefix=prefix)
        daemon.start()
        wait_until(lambda: hs.requests(sim) >= wave, 30)
        outcome = hs.stop_by_signal(daemon.process, sim)
        daemon.output.close()
        return outcome

    def run_once(self, sim, serials, work, prefix=()):
        daemon = Collectd(fresh(work, "once"),
                          plugin_block([hang_account(sim, serials)]),
                          prefix=prefix)
        started = time.monotonic()
        status, text = daemon.test_once()
        return time.monotonic() - started, status, text

    def report_once(self, endpoint, sn, code, work):
        account = hs.Account("huge", endpoint, [sn], reports=[code])
        daemon = Collectd(fresh(work, "huge-report"),
                          plugin_block([account]), interval=hs.INTERVAL_S)
        daemon.start()

        def names():
            return {v["type_instance"] for v in daemon.values()
                    if v["plugin"] == "ecoflow" and
                    v.get("meta", {}).get("report") == code}
        wait_until(names, 30)
        found = names()
        daemon.stop()
        return [line for line in daemon.log_text().splitlines()
                if "ecoflow plugin:" in line], found

    def start(self, accounts, work):
        self.daemon = Collectd(os.path.join(work, "live"),
                               plugin_block(accounts),
                               interval=hs.INTERVAL_S)
        self.daemon.start()

    def read_again(self, at):
        pass  # collectd reads every interval on its own

    def lines(self, account=None):
        return [line for line in self.all_lines()
                if "ecoflow plugin:" in line]

    def all_lines(self):
        return self.daemon.log_text().splitlines() if self.daemon else []

    def raw_logs(self):
        logs = {}
        for name, path in (("collectd log", self.daemon.log),
                           ("collectd stdout", os.path.join(
                               self.daemon.dir, "stdout"))):
            try:
                with open(path, "rb") as f:
                    logs[name] = f.read()
            except OSError:
                logs[name] = b""
        return logs

    def own_line(self, line):
        return OWN_LINE.match(line) is not None

    def values(self):
        return [v for v in self.daemon.values() if v["plugin"] == "ecoflow"]

    def readings(self, sn):
        return len({v["time"] for v in self.values()
                    if v.get("meta", {}).get("serial") == sn})

    def identifiers(self):
        found = set()
        for v in self.values():
            found.add(v["plugin_instance"])
            found.update(str(x) for x in v.get("meta", {}).values())
        return sorted(found)

    def instance_serials(self):
        return {(v["plugin_instance"], v.get("meta", {}).get("serial"))
                for v in self.values()}

    def stop(self):
        if self.daemon is None or self.daemon.process.poll() is not None:
            return self.daemon is not None and \
                self.daemon.process.returncode == 0
        return self.daemon.stop() == 0


# ---- the user's input --------------------------------------------------------


def try_config(work, what, sim, lines):
    """collectd -T with one <Plugin ecoflow> block of lines; (status,
    everything it said)."""
    sim.reset_stats()
    block = "<Plugin ecoflow>\n%s\n</Plugin>" % "\n".join(
        "  " + line for line in lines)
    daemon = Collectd(os.path.join(work, "input", what), block)
    return daemon.test_once()


def base_lines(sim, access_key=None, secret=None, endpoint=None):
    return ['AccessKey "%s"' % (access_key or sim.access_key),
            'SecretKey "%s"' % (secret or sim.secret_key),
            'Endpoint "%s"' % (endpoint or sim.base_url), "Timeout 2",
            '<Device "%s">' % simharness.DEFAULT_DEVICES["powerglow"],
            "</Device>"]


def check_input(work):
    with simharness.Sim() as sim:
        for what, key in hs.injected_keys(sim).items():
            status, text = try_config(work, "key-" + what, sim,
                                      base_lines(sim, access_key=key))
            hs.check_refused_unsent("collectd: AccessKey with %s inside its "
                                    "quotes" % what, status, text, sim,
                                    refused=(1,))
        for what, secret, lines in (
                ("Timeout \"<secret>\"", sim.secret_key,
                 base_lines(sim) + ['Timeout "%s"' % sim.secret_key]),
                ("Timeout <secret> (a bare word)", hs.LETTER_SECRET,
                 base_lines(sim)[:3] + ["Timeout %s" % hs.LETTER_SECRET]
                 + base_lines(sim)[4:]),
                ("<secret> \"x\" as an option", sim.secret_key,
                 base_lines(sim) + ['%s "x"' % sim.secret_key]),
                ("a secret of letters as an option", hs.LETTER_SECRET,
                 base_lines(sim) + ['%s "x"' % hs.LETTER_SECRET])):
            status, text = try_config(work, "secret", sim, lines)
            hs.check_not_printed("collectd: %s" % what, status, text, secret,
                                 refused=(1,))
        status, text = try_config(
            work, "http", sim, base_lines(
                sim, endpoint="http://%s" % faultkit.UNRESOLVABLE))
        warned = [line for line in text.splitlines()
                  if "plain http:// to another host" in line]
        check("collectd: Endpoint plain http:// to another host: warned once "
              "(the access key and signatures would travel unencrypted)",
              len(warned) == 1 and "use https://" in warned[0], text[-600:])
        for i, endpoint in enumerate(hs.PRETENDING_LOOPBACK):
            status, text = try_config(work, "pretend%d" % i, sim,
                                      base_lines(sim, endpoint=endpoint))
            hs.check_plain_http("collectd", endpoint, text, status)
        status, text = try_config(work, "loopback", sim, base_lines(sim))
        check("collectd: plain http:// to the loopback (the simulator): no "
              "warning", status == 0 and "plain http://" not in text,
              text[-600:])
        for i, endpoint in enumerate(hs.loopback_forms(sim)):
            status, text = try_config(work, "loopback%d" % i, sim,
                                      base_lines(sim, endpoint=endpoint))
            hs.check_plain_http("collectd", endpoint, text, status)
        status, text = try_config(
            work, "ftp", sim, base_lines(
                sim, endpoint="ftp://127.0.0.1:%d" % sim.port))
        check("collectd: Endpoint ftp://: refused at once, nothing sent",
              status == 1 and "an http:// or https:// URL" in text and
              hs.requests(sim) == 0, text[-600:])
        # Hex floats are no number to collectd's grammar, nor quoted text
        # to the plugin (an unquoted 0x10 is collectd's own hex: 16).
        for line in ("CounterGlitchShare 0x1p-3", 'MaxUnknownQuotas "0x10"',
                     "MaxConcurrent 0x1.8p1"):
            status, text = try_config(work, "number", sim,
                                      base_lines(sim) + [line])
            check("collectd: %s: refused at once, decimal only, nothing sent"
                  % line, status == 1 and
                  "needs exactly one decimal number" in text and
                  hs.requests(sim) == 0, text[-600:])
        glow = simharness.DEFAULT_DEVICES["powerglow"]
        ocean = simharness.DEFAULT_DEVICES["powerocean"]
        status, text = try_config(work, "slash", sim, base_lines(sim)[:4] + [
            '<Device "%s">' % glow, '  Name "roof/east"', "</Device>"])
        check("collectd: a Name with '/' (csv and rrdtool would write it as "
              "'_'): refused", status == 1 and "Name" in text, text[-600:])
        block = [
            '<Account "one">'] + base_lines(sim)[:4] + [
            '<Device "%s">' % glow, '  Name "%s"' % ocean, "</Device>",
            "</Account>", '<Account "two">'] + base_lines(sim)[:4] + [
            '<Device "%s">' % ocean, "</Device>", "</Account>"]
        status, text = try_config(work, "twin", sim, block)
        check("collectd: a Name equal to another account's device's "
              "instance (its serial): refused",
              status == 1 and "each device needs its own `Name'" in text,
              text[-600:])


def main():
    skipped = skip_unless((PLUGIN, "the plugin"), (COLLECTD, "collectd"))
    if skipped:
        return skipped
    return hs.run(CollectdFrontEnd(), check_input)


if __name__ == "__main__":
    sys.exit(main())
