"""harness/telegraf.py: ecoflow-telegraf as Telegraf's inputs.exec and
inputs.execd run it, and the oracle's records for a device's data."""

import json
import os
import subprocess
import threading

from checks import wait_until
from harness import TOP_BUILDDIR, TOP_SRCDIR

TELEGRAF = os.path.join(TOP_BUILDDIR, "src", "ecoflow-telegraf")
ORACLE = os.path.join(TOP_BUILDDIR, "tests", "e2e", "telegraf_expected")
MEMCHECK = os.path.join(TOP_SRCDIR, "tests", "memcheck")


def environment(sim, **extra):
    env = dict(os.environ, ECOFLOW_ACCESS_KEY=sim.access_key,
               ECOFLOW_SECRET_KEY=sim.secret_key)
    env.update(extra)
    return env


def telegraf_args(sim, *args):
    return [TELEGRAF, "--endpoint", sim.base_url, "--timeout", "5"] + list(args)


def run_exec(sim, *args, env=None):
    return subprocess.run(telegraf_args(sim, *args), capture_output=True,
                          text=True, timeout=60,
                          env=env if env is not None else environment(sim),
                          stdin=subprocess.DEVNULL)


class Execd:
    """ecoflow-telegraf --execd as inputs.execd runs it: stdin a pipe that
    gets a newline per gather; stdout and stderr read as they come."""

    def __init__(self, sim, *args):
        self.process = subprocess.Popen(
            telegraf_args(sim, "--execd", *args), env=environment(sim),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        for stream, lines in ((self.process.stdout, self.out),
                              (self.process.stderr, self.err)):
            threading.Thread(target=self.collect, args=(stream, lines),
                             daemon=True).start()

    @staticmethod
    def collect(stream, lines):
        for line in stream:
            lines.append(line)

    def gather(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def reads(self):
        """The ecoflow_read lines so far: one per device reading."""
        return [line for line in self.out if line.startswith("ecoflow_read,")]

    def wait_reads(self, count, timeout=30):
        return wait_until(lambda: len(self.reads()) >= count, timeout)

    def finish(self, how):
        """Ends the process by closing stdin or by a signal; its status."""
        if how == "eof":
            self.process.stdin.close()
        else:
            self.process.send_signal(how)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return "hung"


def expected(data):
    """The oracle's records for one device's quota/all data."""
    out = subprocess.run([ORACLE], input=json.dumps(data), text=True,
                         capture_output=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]
