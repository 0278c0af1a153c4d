#!/usr/bin/env python3
"""test_faults_collectd.py: issue 7's fault matrix against the collectd
plugin: one collectd daemon (Interval 10) polls every account of the
fault scenario (fault_scenario.py says what is run and checked) and
writes the plugin's lines and write_log's values to one logfile."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fault_scenario  # noqa: E402
import faultkit  # noqa: E402
from checks import skip_unless  # noqa: E402
from harness.collectd import (COLLECTD, PLUGIN, Collectd,  # noqa: E402
                              account_block, device_block)


class CollectdFrontEnd(fault_scenario.FrontEnd):
    name = "collectd"

    def start(self, setup, work):
        blocks = [account_block(
            a.name, a.endpoint, "\n".join(device_block(sn)
                                          for sn in a.serials),
            indent="    ", timeout=faultkit.TIMEOUT_S,
            options=['CAFile "%s"' % a.ca_file] if a.ca_file else ())
            for a in setup.accounts]
        # Every quota, so that the cap on unknown ones applies (by default
        # collectd takes none of them); beside the <Account> blocks, the
        # plugin-wide form of the option.
        self.daemon = Collectd(os.path.join(work, "collectd"),
                               "<Plugin ecoflow>\n  RawQuotas true\n%s\n"
                               "</Plugin>" % "\n".join(blocks),
                               interval=fault_scenario.INTERVAL_S,
                               print_severity=True)
        self.daemon.start()

    def device_lines(self, sn):
        return self.daemon.lines(r"ecoflow plugin: device %s\b" % sn)

    def failure_lines(self, sn):
        return [line for line in self.device_lines(sn) if "[error]" in line]

    def warning_lines(self, sn):
        return [line for line in self.device_lines(sn)
                if "[warning]" in line]

    # The values of the dishonest-numbers check, as collectd names them.
    NAMES = {"bpSoc": ("percent", "battery_soc"), "sysLoadPwr": ("power",
                                                                 "load"),
             "mpptPwr": ("power", "pv"), "pvInvPwr": ("power", "pv_inverter")}

    def has_value(self, sn, quota):
        type_, instance = self.NAMES[quota]
        return any((v["type"], v["type_instance"]) == (type_, instance)
                   for v in self.daemon.values_of(sn))

    def recovery_lines(self, sn):
        return [line for line in self.device_lines(sn)
                if "answers again" in line]

    def reads(self, sn):
        return len({v["time"] for v in self.daemon.values_of(sn)})

    def published(self, sn):
        values = self.daemon.values_of(sn)
        return len([v for v in values if v["time"] == values[0]["time"]])

    def clock_lines(self, account=None):
        return self.daemon.lines(r"ecoflow plugin: account \"%s\": .*clock"
                                 % (account or "[^\"]*"))

    def stop(self):
        return self.daemon.stop() == 0

    def logs(self):
        return {"collectd log": self.daemon.log_text(),
                "collectd stdout": self.daemon.stdout_text()}


def main():
    skipped = skip_unless((PLUGIN, "the plugin"), (COLLECTD, "collectd"),
                          (faultkit.OPENSSL, "openssl"))
    if skipped:
        return skipped
    return fault_scenario.run(CollectdFrontEnd())


if __name__ == "__main__":
    sys.exit(main())
