#!/usr/bin/env python3
"""test_hostile_telegraf.py: issues 15 and 23 against ecoflow-telegraf: the
hostile cloud of hostile_scenario.py (1000 hanging devices in one exec poll;
SIGTERM to --execd while the device list hangs, and while 50 devices' polls
hang; a resolver that never answers, read by --execd, stopped, and by one
exec poll; a --history report of +-1e308 kWh; one --execd per live
account), and the user's input in Telegraf's ways
(environment, config file, command line), each against a simulator that
counts what it is sent:
- ECOFLOW_ACCESS_KEY with a line break, a CR or both, and a config file's
  access_key with a CR: refused as a configuration error (exit 2), nothing
  sent;
- a secret given as --timeout=..., --timeout ..., `timeout = ...', as a
  config file's key or as an option: refused without printing it;
- --endpoint plain http:// to another host: warned once, also to hosts
  that only begin like a loopback address; not to localhost or 127.1;
  ftp://: refused;
- --max-unknown-quotas 0x10, --counter-glitch-share 0x1p-3, --timeout
  0x1.8p1: refused (numbers are decimal), nothing sent, not echoed;
- 50,000 --sn parsed (a duplicate found at the end) in well under a
  second."""

import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import faultkit  # noqa: E402
import hostile_scenario as hs  # noqa: E402
import simharness  # noqa: E402
from checks import check, skip_unless, wait_until  # noqa: E402
from harness.lineproto import parse  # noqa: E402
from harness.telegraf import TELEGRAF  # noqa: E402

OWN_LINE = re.compile(r"^[EWI]! ecoflow: ")


def environment(endpoint, **extra):
    env = dict(os.environ, ECOFLOW_ACCESS_KEY=endpoint.access_key,
               ECOFLOW_SECRET_KEY=endpoint.secret_key)
    env.update(extra)
    return env


def account_args(account):
    args = ["--endpoint", account.endpoint.base_url,
            "--timeout", str(account.timeout)]
    for sn in account.serials:
        name = account.names.get(sn)
        args += ["--sn", "%s=%s" % (sn, name) if name else sn]
    if account.discover:
        args += ["--discover", "--discover-refresh", "1"]
    if account.max_concurrent:
        args += ["--max-concurrent", str(account.max_concurrent)]
    if account.interval:
        args += ["--interval", str(account.interval)]
    return args


class Execd:
    """ecoflow-telegraf --execd, its output kept as the bytes it wrote (a
    CR must not be hidden by Python's newline handling)."""

    def __init__(self, name, account, prefix=()):
        self.name = name
        self.process = subprocess.Popen(
            list(prefix) + [TELEGRAF, "--execd"] + account_args(account),
            env=environment(account.endpoint), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = bytearray(), bytearray()
        self.threads = [threading.Thread(target=self.collect,
                                         args=(stream, kept), daemon=True)
                        for stream, kept in ((self.process.stdout, self.out),
                                             (self.process.stderr, self.err))]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def collect(stream, kept):
        for chunk in iter(lambda: stream.read1(65536), b""):
            kept.extend(chunk)

    def gather(self):
        try:
            self.process.stdin.write(b"\n")
            self.process.stdin.flush()
        except OSError:
            pass

    def err_lines(self):
        return bytes(self.err).decode("utf-8", "replace").split("\n")[:-1]

    def out_lines(self):
        return bytes(self.out).decode("utf-8", "replace").split("\n")[:-1]

    def finish(self):
        """Ends it at the end of stdin; its exit status."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            status = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = "hung"
        for thread in self.threads:
            thread.join(5)
        return status


def told_timeouts(text):
    """The devices whose request timed out, as stderr said."""
    return {m.group(1) for m in re.finditer(
        r"^E! ecoflow: device (\w+).*Timeout", text, re.M)}


class TelegrafFrontEnd(hs.FrontEnd):
    name = "telegraf"
    lists_first = True  # --execd lists the account's devices, then polls

    def __init__(self):
        self.execds = {}

    def hang_read(self, sim, serials, work, prefix=()):
        took, status, text = self.run_once(sim, serials, work, prefix)
        check("telegraf: the poll of %d hanging devices exits 1 (none read)"
              % len(serials), status == 1, text[-300:])
        return took, len(told_timeouts(text))

    def run_once(self, sim, serials, work, prefix=()):
        args = list(prefix) + [TELEGRAF, "--endpoint", sim.base_url,
                               "--timeout", str(hs.TIMEOUT_S)]
        for sn in serials:
            args.append("--sn=" + sn)
        started = time.monotonic()
        run = subprocess.run(args, env=environment(sim), capture_output=True,
                             text=True, timeout=600, stdin=subprocess.DEVNULL)
        return time.monotonic() - started, run.returncode, run.stderr

    def daemon_read(self, sim, serials, work, prefix=()):
        watch = hs.RequestWatch(sim)
        execd = Execd("read", hs.Account("read", sim, serials), prefix)
        execd.gather()
        wait_until(lambda: len(told_timeouts("\n".join(
            execd.err_lines()))) >= len(serials), 60)
        done = time.monotonic()
        watch.close()
        told = told_timeouts("\n".join(execd.err_lines()))
        execd.finish()
        return (done - watch.first if watch.first else None), len(told)

    def hang_stop(self, sim, serials, work, wave, prefix=()):
        account = hs.Account("hang", sim, serials, timeout=30)
        execd = Execd("hang", account, prefix)
        execd.gather()
        wait_until(lambda: hs.requests(sim) >= wave, 30)
        return hs.stop_by_signal(execd.process, sim)

    def report_once(self, endpoint, sn, code, work):
        now = time.time()
        begin, end = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
                      for t in (now - 2 * 86400, now))
        run = subprocess.run(
            [TELEGRAF, "--endpoint", endpoint.base_url, "--timeout", "5",
             "--sn", sn, "--history", code, "--begin", begin, "--end", end],
            env=environment(endpoint), capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL)
        names = {field for line in run.stdout.splitlines() if line
                 for point in [parse(line)] if point[0] == "ecoflow_history"
                 for field in point[2]}
        return run.stderr.splitlines(), names

    def start(self, accounts, work):
        self.execds = {a.name: Execd(a.name, a) for a in accounts}
        self.read_again(time.monotonic())

    def read_again(self, at):
        time.sleep(max(0, at - time.monotonic()))
        for execd in self.execds.values():
            execd.gather()

    def lines(self, account=None):
        names = [account] if account else list(self.execds)
        return [line for name in names if name in self.execds
                for line in self.execds[name].err_lines()]

    def all_lines(self):
        return self.lines()

    def raw_logs(self):
        logs = {}
        for name, execd in self.execds.items():
            logs["telegraf %s stderr" % name] = bytes(execd.err)
            logs["telegraf %s stdout" % name] = bytes(execd.out)
        return logs

    def own_line(self, line):
        return OWN_LINE.match(line) is not None

    def points(self):
        return [parse(line) for execd in self.execds.values()
                for line in execd.out_lines() if line]

    def readings(self, sn):
        return len([p for p in self.points() if p[0] == "ecoflow_read" and
                    p[1].get("sn") == sn and p[2].get("stale") == "false"])

    def identifiers(self):
        return sorted({value for point in self.points()
                       for value in point[1].values()})

    def stop(self):
        statuses = [execd.finish() for execd in self.execds.values()]
        return all(status == 0 for status in statuses)


# ---- the user's input --------------------------------------------------------


def run_exec(sim, args, env=None, work=None, config=None):
    """One exec run; (exit status, stderr). config: a config file's
    text, given with --config."""
    sim.reset_stats()
    argv = [TELEGRAF, "--endpoint", sim.base_url, "--timeout", "2",
            "--sn", simharness.DEFAULT_DEVICES["powerglow"]] + list(args)
    if config is not None:
        path = os.path.join(work, "ecoflow.conf")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                  "w", newline="") as f:
            f.write(config)
        argv += ["--config", path]
    run = subprocess.run(argv, env=env or environment(sim),
                         capture_output=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    return run.returncode, run.stderr.decode("utf-8", "replace")


def check_input(work):
    with simharness.Sim() as sim:
        for what, key in hs.injected_keys(sim).items():
            status, text = run_exec(sim, [], env=environment(
                sim, ECOFLOW_ACCESS_KEY=key))
            hs.check_refused_unsent("telegraf: ECOFLOW_ACCESS_KEY with %s"
                                    % what, status, text, sim)
        env = dict(environment(sim))
        env.pop("ECOFLOW_ACCESS_KEY")
        status, text = run_exec(sim, [], env=env, work=work,
                                config="access_key = %s\r%s\n" % (
                                    sim.access_key, hs.INJECTED))
        hs.check_refused_unsent("telegraf: a config file's access_key with a "
                                "CR", status, text, sim)
        secret = sim.secret_key
        for what, args, config, pasted in (
                ("--timeout=<secret>", ["--timeout=" + secret], None, secret),
                ("--timeout <secret>", ["--timeout", secret], None, secret),
                ("`timeout = <secret>' in the config file", [],
                 "timeout = %s\n" % secret, secret),
                ("`<secret> = x' in the config file", [],
                 "%s = x\n" % secret, secret),
                ("a secret of letters as a config file's key", [],
                 "%s = x\n" % hs.LETTER_SECRET, hs.LETTER_SECRET),
                ("--<secret> on the command line", ["--" + secret], None,
                 secret)):
            status, text = run_exec(sim, args, work=work, config=config)
            hs.check_not_printed("telegraf: %s" % what, status, text, pasted)
        status, text = run_exec(sim, ["--endpoint",
                                      "http://" + faultkit.UNRESOLVABLE])
        warned = [line for line in text.splitlines()
                  if "plain http:// to another host" in line]
        check("telegraf: --endpoint plain http:// to another host: warned "
              "once (the access key and signatures would travel "
              "unencrypted)", len(warned) == 1 and
              warned[0].startswith("W! ecoflow: ") and
              "use https://" in warned[0], text[-600:])
        for endpoint in hs.PRETENDING_LOOPBACK:
            status, text = run_exec(sim, ["--endpoint", endpoint])
            hs.check_plain_http("telegraf", endpoint, text, status)
        status, text = run_exec(sim, [])
        check("telegraf: plain http:// to the loopback (the simulator): read, "
              "no warning", status == 0 and "plain http://" not in text,
              text[-600:])
        for endpoint in hs.loopback_forms(sim):
            status, text = run_exec(sim, ["--endpoint", endpoint])
            hs.check_plain_http("telegraf", endpoint, text, status)
        status, text = run_exec(sim, ["--endpoint",
                                      "ftp://127.0.0.1:%d" % sim.port])
        check("telegraf: --endpoint ftp://: refused at once (exit 2), nothing "
              "sent", status == 2 and "an http:// or https:// URL" in text
              and hs.requests(sim) == 0, text[-600:])
        for option, value in (("--max-unknown-quotas", "0x10"),
                              ("--counter-glitch-share", "0x1p-3"),
                              ("--timeout", "0x1.8p1")):
            status, text = run_exec(sim, [option, value])
            check("telegraf: %s %s: refused (exit 2): decimal only, nothing "
                  "sent, the value not echoed" % (option, value),
                  status == 2 and "%s: not a decimal number" % option in text
                  and hs.requests(sim) == 0 and value not in text,
                  text[-300:])
        count = 50000
        serials = ["--sn=HJ31X%07d" % i for i in range(count)]
        started = time.monotonic()
        status, text = run_exec(sim, serials + [serials[0]])
        took = time.monotonic() - started
        check("telegraf: %d --sn and one given twice: found in %.2f s, "
              "refused, nothing sent" % (count, took),
              status == 2 and took < 1.5 and "given twice" in text and
              hs.requests(sim) == 0, text[-300:])


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"))
    if skipped:
        return skipped
    return hs.run(TelegrafFrontEnd(), check_input)


if __name__ == "__main__":
    sys.exit(main())
