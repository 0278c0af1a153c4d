"""checks.py: what the end-to-end tests share: the tally of named checks,
waiting for a condition, the work directory's clean-up, and the quotas of
the reference document.

A test calls check() for each thing it shows, and ends with summary(),
which prints "N passed, M failed" and gives the exit status."""

import contextlib
import os
import shutil
import sys
import tempfile
import time

from simharness import DEFAULT_DEVICES

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("FAIL - %s%s" % (name, ": " + detail if detail else ""))
    sys.stdout.flush()
    return condition


def summary():
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def clean_up(work):
    """Removes a test's work directory when every check passed; else keeps
    it for a post-mortem and says where."""
    if failed:
        print("# kept for inspection: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def work_dir(prefix):
    """A temporary work directory for a test's daemons and files, removed
    at the end when every check passed and nothing was raised; else kept,
    and said where."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        yield work
    except BaseException:
        print("# kept for inspection: %s" % work)
        raise
    clean_up(work)


def skip_unless(*needed):
    """77, automake's "skipped", when one of the (path, what) needed is
    missing; else None."""
    for path, what in needed:
        if not os.path.exists(path):
            print("# %s is missing (%s): skipped" % (what, path))
            return 77
    return None


def memcheck_prefix(report):
    """The command line that runs a daemon under valgrind: a full leak
    check, definite and indirect leaks counted as errors (exit status 99),
    the report written to the file report."""
    return [shutil.which("valgrind") or "valgrind", "--leak-check=full",
            "--error-exitcode=99",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--log-file=" + report]


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


# The simulator's default devices (ecoflow-sim without --device), one of
# each family.
OCEAN, HEAT, GLOW, PULSE = (DEFAULT_DEVICES[family] for family in (
    "powerocean", "powerheat", "powerglow", "powerpulse"))
FAMILIES = {sn: family for family, sn in DEFAULT_DEVICES.items()}

# Every quota of the reference document (ecoflow-iot-open-api.txt), as the
# flat path of the simulator's quota/all, by device.
PHASE = ["vol", "amp", "actPwr", "reactPwr", "apparentPwr"]
REFERENCE = {
    OCEAN: ["pcs%sPhase.%s" % (p, q) for p in "ABC" for q in PHASE]
    + ["mpptHeartBeat[0].mpptPv[%d].%s" % (i, q)
       for i in range(2) for q in ("vol", "amp", "pwr")]
    + ["mpptPwr", "bpSoc", "bpPwr", "sysLoadPwr", "sysGridPwr"],
    HEAT: ["sectorA.tempCurr", "sectorB.tempCurr", "hpMaster.tempInlet",
           "hpMaster.tempOutlet", "hpMaster.tempAmbient",
           "sectorDhw.tempCurr", "emsErrCode.errCode"],
    GLOW: ["hrEnergyStream[0].temp", "hrEnergyStream[0].hrPwr",
           "emsErrCode.errCode"],
    PULSE: ["evPwr", "chargingStatus", "errorCode"],
}
