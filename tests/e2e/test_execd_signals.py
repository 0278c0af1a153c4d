#!/usr/bin/env python3
"""test_execd_signals.py: ecoflow-telegraf --execd under each of the five
signal modes of Telegraf's inputs.execd, against ecoflow-sim on loopback.

Telegraf asks an execd process for a gather in the mode its `signal`
option names: "none" (the process keeps its own time: --interval),
"STDIN" (a line on stdin), "SIGHUP", "SIGUSR1" or "SIGUSR2" (that signal).
It stops the process by closing its stdin, then with SIGTERM.

What it shows, for each mode, with two processes (one to end by closing
stdin, one by SIGTERM), all at once:
- nothing is polled before the mode's trigger (none: at start);
- one trigger gives exactly one batch: one reading of each device, flushed
  at once, and nothing more;
- the next trigger, 10 s on (no device is polled faster), gives the next
  batch: a signal's handler stays in place;
- the end of stdin and SIGTERM each end the process with status 0, with
  nothing on stderr but notes (no E! line).
"""

import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simharness  # noqa: E402
from checks import (FAMILIES, check, skip_unless, summary,  # noqa: E402
                    wait_until)
from harness.lineproto import tag_of  # noqa: E402
from harness.telegraf import TELEGRAF, Execd  # noqa: E402

MIN_INTERVAL_S = 10  # schedule.h: no device is polled faster
QUIET_S = 1.5  # how long "nothing more" is watched for
DEVICES = len(FAMILIES)  # the simulator's default fleet, all discovered


def trigger_stdin(execd):
    execd.gather()


def trigger_signal(signo):
    return lambda execd: execd.process.send_signal(signo)


# mode: (extra arguments, trigger; None: the process's own interval)
MODES = {
    "none": (["--interval", str(MIN_INTERVAL_S)], None),
    "STDIN": ([], trigger_stdin),
    "SIGHUP": ([], trigger_signal(signal.SIGHUP)),
    "SIGUSR1": ([], trigger_signal(signal.SIGUSR1)),
    "SIGUSR2": ([], trigger_signal(signal.SIGUSR2)),
}
ENDINGS = {"end of stdin": "eof", "SIGTERM": signal.SIGTERM}


def one_batch(execd, batch):
    """Whether the reads so far are batch number `batch` (from 1) of one
    reading per device, nothing more."""
    reads = execd.reads()
    last = reads[(batch - 1) * DEVICES:]
    serials = {tag_of(line, "sn") for line in last}
    return len(reads) == batch * DEVICES and len(serials) == DEVICES


def trigger_all(runs, batch):
    """Triggers every run that has a trigger; checks the batch it gave.
    Returns when the batches had come: the devices are due again 10 s
    later."""
    for (mode, _), execd in runs.items():
        trigger = MODES[mode][1]
        if trigger is not None:
            trigger(execd)
    wait_until(lambda: all(len(e.reads()) >= batch * DEVICES
                           for e in runs.values()), 20)
    polled = time.monotonic()
    time.sleep(QUIET_S)  # a second batch would come now
    for (mode, ending), execd in runs.items():
        what = "the first trigger" if batch == 1 else \
            "the next trigger, %d s on" % MIN_INTERVAL_S
        check("%s (to end by %s): %s gives exactly one batch" % (
            mode, ending, what), one_batch(execd, batch),
            "%d reads; stderr: %s" % (len(execd.reads()),
                                     "".join(execd.err)))
    return polled


def main():
    skipped = skip_unless((TELEGRAF, "ecoflow-telegraf"))
    if skipped:
        return skipped
    with simharness.Sim() as sim:
        runs = {(mode, ending): Execd(sim, *MODES[mode][0])
                for mode in MODES for ending in ENDINGS}
        time.sleep(QUIET_S)
        for (mode, ending), execd in runs.items():
            if MODES[mode][1] is None:
                continue
            check("%s (to end by %s): nothing is polled before the trigger"
                  % (mode, ending), execd.out == [] and
                  execd.process.poll() is None, "".join(execd.out))
        polled = trigger_all(runs, 1)
        time.sleep(max(0.0, MIN_INTERVAL_S + 0.5 -
                       (time.monotonic() - polled)))
        trigger_all(runs, 2)
        for (mode, ending), execd in runs.items():
            rc = execd.finish(ENDINGS[ending])
            errors = [line for line in execd.err if line.startswith("E!")]
            check("%s: %s ends it with status 0, no error" % (mode, ending),
                  rc == 0 and not errors, "status %r; %s" % (
                      rc, "".join(execd.err)))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
