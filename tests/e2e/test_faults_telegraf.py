#!/usr/bin/env python3
"""test_faults_telegraf.py: issue 7's fault matrix against ecoflow-telegraf:
one `ecoflow-telegraf --execd` per account of the fault scenario
(fault_scenario.py says what is run and checked), each given a line on
stdin for every read, as Telegraf's inputs.execd does. Besides: the age of
the skewed simulator's data is measured by the server's clock."""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fault_scenario  # noqa: E402
import faultkit  # noqa: E402
from checks import check, skip_unless  # noqa: E402
from harness.lineproto import tag_of  # noqa: E402
from harness.telegraf import TELEGRAF, Execd  # noqa: E402


class TelegrafFrontEnd(fault_scenario.FrontEnd):
    name = "telegraf"

    def start(self, setup, work):
        self.accounts = {}
        for account in setup.accounts:
            args = ["--timeout", str(faultkit.TIMEOUT_S)]
            for sn in account.serials:
                args += ["--sn", sn]
            if account.ca_file:
                args += ["--ca-file", account.ca_file]
            self.accounts[account.name] = Execd(account.endpoint, *args)
        self.read_again(time.monotonic())

    def read_again(self, at):
        time.sleep(max(0, at - time.monotonic()))
        for execd in self.accounts.values():
            execd.gather()

    def stderr(self, account=None):
        names = [account] if account else list(self.accounts)
        return [line.rstrip("\n") for name in names
                for line in list(self.accounts[name].err)]

    def failure_lines(self, sn):
        return [line for line in self.stderr()
                if re.match(r"E! ecoflow: device %s\b" % sn, line)]

    def warning_lines(self, sn):
        return [line for line in self.stderr()
                if re.match(r"W! ecoflow: device %s\b" % sn, line)]

    # The values of the dishonest-numbers check, as ecoflow-telegraf names
    # them (measurement ecoflow).
    NAMES = {"bpSoc": "battery_soc", "sysLoadPwr": "load_power",
             "mpptPwr": "pv_power", "pvInvPwr": "pv_inverter_power"}

    def has_value(self, sn, quota):
        field = "%s=" % self.NAMES[quota]
        return any(line.startswith("ecoflow,") and tag_of(line, "sn") == sn
                   and (" " + field in line or "," + field in line)
                   for execd in self.accounts.values() for line in execd.out)

    def recovery_lines(self, sn):
        return [line for line in self.stderr()
                if re.match(r"I! ecoflow: device %s\b.*answers again" % sn,
                            line)]

    def read_lines(self, sn):
        """The device's ecoflow_read points of readings it published."""
        return [line for execd in self.accounts.values()
                for line in execd.reads()
                if tag_of(line, "sn") == sn and "stale=false" in line]

    def reads(self, sn):
        return len(self.read_lines(sn))

    def published(self, sn):
        counts = [int(m.group(1)) for line in self.read_lines(sn)[:1]
                  for m in [re.search(r"\bpublished=(\d+)i", line)] if m]
        return counts[0] if counts else 0

    def clock_lines(self, account=None):
        return [line for line in self.stderr(account) if "clock" in line]

    def stop(self):
        return all(execd.finish("eof") == 0
                   for execd in self.accounts.values())

    def logs(self):
        return {"telegraf %s stderr" % name: "".join(execd.err)
                for name, execd in self.accounts.items()}


def check_age_by_server_clock(fe, setup):
    ages = [float(m.group(1)) for line in fe.read_lines(faultkit.SKEWED)
            for m in [re.search(r"\bage_s=([-0-9.e+]+)", line)] if m]
    check("telegraf clock skew: the data's age is measured by the server's "
          "clock (age_s %s, not about %d)" % (ages, faultkit.SKEW_S),
          ages and all(abs(age) < 60 for age in ages))


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"),
                          (faultkit.OPENSSL, "openssl"))
    if skipped:
        return skipped
    return fault_scenario.run(TelegrafFrontEnd(), check_age_by_server_clock)


if __name__ == "__main__":
    sys.exit(main())
