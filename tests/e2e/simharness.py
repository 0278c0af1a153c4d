"""Start ecoflow-sim for a test, talk to its control endpoints, stop it.

Python 3 standard library only. Typical use:

    import simharness

    with simharness.Sim(clock=1718625600) as sim:
        sim.base_url                    # "http://127.0.0.1:PORT", the API host
        sim.access_key, sim.secret_key  # the account the sim accepts
        sim.sim_quota("HJ31SIMOCEAN0001")   # what quota/all returns now
        sim.set_fault("HJ31SIMOCEAN0001", "http429:30")
        sim.clear_fault("HJ31SIMOCEAN0001")
        sim.stats()                     # counters, incl. max_in_flight

The simulator runs on a free loopback port in a private temporary
directory; leaving the with-block stops it (SIGTERM, then SIGKILL if it
hangs) whatever happened inside, and it also dies with the thread that
started it (so start simulators from the test's main thread).
`sim.returncode` is its exit status afterwards (0 on a clean stop) and
`sim.log()` its stderr.

Where the binary is: $ECOFLOW_SIM, else $top_builddir/src/ecoflow-sim (set
by `make check`), else src/ecoflow-sim relative to this file. Requests to
the signed API are the test's own business (the harness signs nothing).
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import write_private

ACCESS_KEY = "Fp4SvIprYSDPXtYJidEtUsim"
SECRET_KEY = "WIbFEKre0s6sLnh4ei7SPUeYnptHGsim"

# Serial numbers of the fleet a simulator started without devices has.
DEFAULT_DEVICES = {
    "powerocean": "HJ31SIMOCEAN0001",
    "powerheat": "HJ31SIMHEAT00001",
    "powerglow": "HJ31SIMGLOW00001",
    "powerpulse": "HJ31SIMPULSE0001",
}

_PR_SET_PDEATHSIG = 1


def generated_serials(n):
    """The serial numbers of the PowerOceans `ecoflow-sim --devices n`
    generates: SIM000000, SIM000001, ..."""
    return ["SIM%06d" % i for i in range(n)]


def shard_of(sn, count):
    """The part of count sn falls in with `--shard K/count` (ef_serial_shard:
    FNV-1a, 32 bits, of the serial number, modulo count)."""
    value = 2166136261
    for byte in sn.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value % count


class SimError(Exception):
    """The simulator could not start, or a control request failed."""


def sim_binary():
    """Path of the ecoflow-sim executable to test."""
    candidates = []
    if os.environ.get("ECOFLOW_SIM"):
        candidates.append(os.environ["ECOFLOW_SIM"])
    if os.environ.get("top_builddir"):
        candidates.append(
            os.path.join(os.environ["top_builddir"], "src", "ecoflow-sim"))
    here = os.path.dirname(os.path.abspath(__file__))
    candidates.append(os.path.join(here, "..", "..", "src", "ecoflow-sim"))
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise SimError("ecoflow-sim not found (tried %s); build it or set "
                   "ECOFLOW_SIM" % ", ".join(candidates))


def _die_with_parent():
    """Runs in the child before exec: SIGTERM it when the test dies, so that
    no simulator outlives a crashed or killed test."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Sim:
    """One ecoflow-sim process. Every argument maps to a command-line option
    of the simulator: devices=["SN:FAMILY[:NAME]", ..], generated=N
    (--devices), faults=["SN:SPEC", ..], clock=UNIX_SECONDS, latency_ms,
    mqtt_host, mqtt_port, threads, verbose. keys_file=True hands the keys
    over in a file instead of the environment. wrapper is a command to run
    the simulator under, e.g. ["valgrind", "-q"]."""

    def __init__(self, devices=(), generated=0, faults=(), clock=None,
                 latency_ms=None, mqtt_host=None, mqtt_port=None,
                 threads=None, verbose=False, keys_file=False,
                 access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                 extra_args=(), wrapper=(), start_timeout=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.port = None
        self.returncode = None
        self._process = None
        self._stderr = None
        self._dir = None
        self._keys_file = keys_file
        self._wrapper = list(wrapper)
        self._start_timeout = start_timeout or (60.0 if wrapper else 15.0)
        self._args = []
        for spec in devices:
            self._args += ["--device", spec]
        if generated:
            self._args += ["--devices", str(generated)]
        for spec in faults:
            self._args += ["--fault", spec]
        for option, value in (("--clock", clock),
                              ("--latency-ms", latency_ms),
                              ("--mqtt-host", mqtt_host),
                              ("--mqtt-port", mqtt_port),
                              ("--threads", threads)):
            if value is not None:
                self._args += [option, str(value)]
        if verbose:
            self._args.append("--verbose")
        self._args += list(extra_args)

    # -- life cycle ---------------------------------------------------------

    def start(self):
        binary = sim_binary()
        self._dir = tempfile.mkdtemp(prefix="ecoflow-sim-")
        port_file = os.path.join(self._dir, "port")
        env = dict(os.environ)
        args = [binary, "--port", "0", "--port-file", port_file]
        if self._keys_file:
            keys = os.path.join(self._dir, "keys")
            write_private(keys, "# ecoflow-sim test account\n"
                          "access_key = %s\nsecret_key = %s\n"
                          % (self.access_key, self.secret_key))
            args += ["--keys-file", keys]
            env.pop("ECOFLOW_ACCESS_KEY", None)
            env.pop("ECOFLOW_SECRET_KEY", None)
        else:
            env["ECOFLOW_ACCESS_KEY"] = self.access_key
            env["ECOFLOW_SECRET_KEY"] = self.secret_key
        self._stderr = open(os.path.join(self._dir, "stderr.log"), "wb")
        self._process = subprocess.Popen(
            self._wrapper + args + self._args, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, preexec_fn=_die_with_parent)
        atexit.register(self.stop)
        try:
            self._wait_until_ready(port_file)
        except BaseException:
            self.stop()
            self._remove_dir()
            self.port = None
            raise
        return self

    def _wait_until_ready(self, port_file):
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SimError("ecoflow-sim exited with %d before it was "
                               "ready:\n%s" % (self._process.returncode,
                                                self.log()))
            try:
                with open(port_file) as text:
                    self.port = int(text.read().strip())
                self.clock()
                return
            except (OSError, ValueError, SimError):
                time.sleep(0.05)
        raise SimError("ecoflow-sim not ready after %.0f s:\n%s"
                       % (self._start_timeout, self.log()))

    def stop(self, timeout=30.0):
        """Stops the simulator (SIGTERM, then SIGKILL) and returns its exit
        status; harmless to call twice."""
        if self._process is not None and self.returncode is None:
            if self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)
                try:
                    self._process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self.returncode = self._process.returncode
            atexit.unregister(self.stop)
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()
        return self.returncode

    def __enter__(self):
        return self if self._process is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()
        self._remove_dir()
        return False

    def _remove_dir(self):
        """Removes the temporary directory, keeping the log in memory;
        ECOFLOW_SIM_KEEP=1 keeps the directory for a post-mortem."""
        if self._dir is not None and not os.environ.get("ECOFLOW_SIM_KEEP"):
            self._saved_log = self.log()
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def log(self):
        """What the simulator wrote on stderr so far."""
        if self._dir is None:
            return getattr(self, "_saved_log", "")
        try:
            with open(os.path.join(self._dir, "stderr.log"), "rb") as text:
                return text.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- addresses and plain requests ---------------------------------------

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path, params=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self.base_url + path + query

    def control(self, method, path, params=None, timeout=10):
        """A control request (unsigned, /sim/...); the decoded JSON answer.
        Raises SimError on an HTTP error."""
        request = urllib.request.Request(self.url(path, params),
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise SimError("%s %s: HTTP %d %s" % (
                method, path, error.code,
                error.read().decode("utf-8", "replace"))) from None
        except (urllib.error.URLError, OSError) as error:
            raise SimError("%s %s: %s" % (method, path, error)) from None

    # -- control endpoints --------------------------------------------------

    def sim_quota(self, sn):
        """The data object quota/all would return for sn now."""
        return self.control("GET", "/sim/quota", {"sn": sn})

    def set_fault(self, sn, spec):
        """Injects a fault (see ecoflow-sim --help); sn "*" for all."""
        return self.control("POST", "/sim/fault", {"sn": sn, "spec": spec})

    def clear_fault(self, sn):
        return self.set_fault(sn, "clear")

    def stats(self):
        return self.control("GET", "/sim/stats")

    def reset_stats(self):
        return self.control("POST", "/sim/stats/reset")

    def clock(self):
        return self.control("GET", "/sim/clock")

    def set_clock(self, at=None, advance=None, run=False):
        """Freezes the simulated clock at Unix time at, moves it by advance
        seconds, or lets it run on."""
        if at is not None:
            params = {"at": int(at)}
        elif advance is not None:
            params = {"advance": int(advance)}
        elif run:
            params = {"run": 1}
        else:
            raise ValueError("set_clock needs at, advance or run")
        return self.control("POST", "/sim/clock", params)
