#!/usr/bin/env python3
"""test_fleet.py: one account of any size (issue 22), ecoflow-telegraf
against ecoflow-sim.

What it shows:
- an account of 12,000 devices, whose device/list answer is larger than
  the 1 MiB a device's answer may be: each of two agents of 8
  (`--shard K/8`) reads exactly the devices of its shard (FNV-1a of the
  serial number, modulo 8), each once, exit status 0, no error;
- a device list larger than its own cap (room for 100,000 devices) is said
  as what it is: `--check` names the list and the cap, FAILED, and does not
  call it a key problem; a run says the list's error naming the cap, and
  still polls the device it was configured with (its values held for the
  list's tags, issue 18).
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import faultkit  # noqa: E402
import simharness  # noqa: E402
from checks import check, skip_unless, summary  # noqa: E402
from harness.signed import API, call  # noqa: E402
from harness.telegraf import TELEGRAF, environment, run_exec  # noqa: E402

DEVICES = 12000
SHARDS = 8
DEVICE_CAP = 1024 * 1024  # ef_client.h: EF_DEFAULT_MAX_BODY
LIST_CAP = 100000 * 256  # ef_discovery.h: EF_DEVICE_LIST_MAX_BODY
CAP_SAID = ("answer larger than the %d bytes allowed for a device list "
            "(room for 100000 devices of 256 bytes each)" % LIST_CAP)
SN_TAG = re.compile(r",sn=([^, ]+)")


def read_serials(stdout):
    """The serial number of each ecoflow_read line, in order."""
    return [SN_TAG.search(line).group(1) for line in stdout.splitlines()
            if line.startswith("ecoflow_read,")]


def check_shards(sim):
    listed = call(sim, "GET", API + "device/list")
    check("the account's device/list answer is larger than a device's "
          "answer may be", len(listed.body) > DEVICE_CAP and
          len(listed.data) == DEVICES, "%d bytes" % len(listed.body))
    serials = simharness.generated_serials(DEVICES)
    for k in (0, 5):
        run = run_exec(sim, "--shard", "%d/%d" % (k, SHARDS),
                       "--max-concurrent", "32")
        read = read_serials(run.stdout)
        mine = {sn for sn in serials if simharness.shard_of(sn, SHARDS) == k}
        check("--shard %d/%d: exit status 0, no error" % (k, SHARDS),
              run.returncode == 0 and "E!" not in run.stderr,
              "%d: %s" % (run.returncode, run.stderr[-500:]))
        check("--shard %d/%d reads exactly its shard's %d devices, each "
              "once" % (k, SHARDS, len(mine)),
              len(read) == len(mine) and set(read) == mine,
              "%d read, %d of them its own" % (len(read),
                                               len(set(read) & mine)))


def fat_list(answer):
    """device/list with more than its cap of whitespace in its data."""
    text = faultkit.json.dumps(answer)
    return text.replace('"data": [', '"data": [' + " " * (LIST_CAP + 1), 1)


def check_list_too_large(sim):
    faultkit.BENDS["fat_list"] = fat_list
    proxy = faultkit.Proxy(sim, bends={None: "fat_list"})
    try:
        env = environment(proxy)
        run = run_exec(proxy, "--check", env=env)
        out = run.stdout + run.stderr
        # A finding goes on over its indented lines.
        failed = [" ".join(finding.split()) for finding in
                  re.split(r"\n(?=\S)", out) if finding.startswith("FAILED")]
        check("--check: exit status 1", run.returncode == 1,
              str(run.returncode))
        check("--check says the device list is larger than its cap, and "
              "names the cap",
              any("device/list" in line and CAP_SAID in line
                  for line in failed), out[-1500:])
        check("--check does not call it a key problem",
              not any("access key" in line or "signature" in line
                      for line in failed), out[-1500:])
        run = run_exec(proxy, "--sn", "SIM000001", "--discover", env=env)
        check("a run says the list's error, naming the cap",
              CAP_SAID in run.stderr, run.stderr[-1000:])
        # Issue 18: no point without the tags the list gives, so the
        # device is polled but its values are held, said, exit status 1.
        check("a run still polls the device it was configured with, and "
              "holds its values for the list's tags (exit status 1)",
              read_serials(run.stdout) == [] and run.returncode == 1
              and "1 device answered, but no point is written" in run.stderr,
              run.stderr[-1000:])
    finally:
        proxy.close()


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"))
    if skipped:
        return skipped
    with simharness.Sim(generated=DEVICES) as sim:
        check_shards(sim)
        check_list_too_large(sim)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
