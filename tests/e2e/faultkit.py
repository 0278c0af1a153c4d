"""faultkit.py: the fault matrix of issue 7, shared by the fault tests of
both front ends (test_faults_collectd.py, test_faults_telegraf.py).

What it holds:
- the faults as data: which device meets which fault (at the simulator, at
  the proxy, or at the account's endpoint), what the log line about it must
  say, and how the core treats it;
- Proxy: an HTTP(S) server in front of ecoflow-sim for what the simulator
  cannot do itself: bend answers into wrong shapes, speak TLS with a
  throwaway CA, refuse connections until told to listen, and record the
  timestamp each request was signed with;
- throwaway_ca(): a CA and a certificate for 127.0.0.1, made by openssl;
- UNRESOLVABLE: a host the resolver refuses without sending a query;
- the checks both tests make the same way: one line per fault, no secret
  in any log, signatures in the server's time.

Python 3 standard library only (and the openssl command for TLS)."""

import http.client
import http.server
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

from checks import check

# What the faulted devices are: small PowerGlows, apart from the shapes,
# which bend a PowerOcean's answer (it has embedded JSON and arrays).
FAULT_FAMILY = "powerglow"
SHAPE_FAMILY = "powerocean"

# Request timeout of every account (seconds): a delayed or stalled answer
# must take longer.
TIMEOUT_S = 2
DELAY_MS = 3 * TIMEOUT_S * 1000
RETRY_AFTER_S = 30
# client.h: EF_DEFAULT_MAX_BODY
MAX_BODY = 1024 * 1024
# The front ends say so when the server's clock is this far off (client.h).
SKEW_S = 3600

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

# A DNS label has at most 63 characters: glibc refuses this name before
# asking any nameserver, so the test sends no query off the machine (a
# plain "nonexistent.invalid" would go to /etc/resolv.conf's server).
UNRESOLVABLE = "nonexistent-" + "x" * (64 - len("nonexistent-")) + ".invalid"


class Fault:
    """One row of the matrix.

    where: "sim" (spec is an ecoflow-sim fault), "proxy" (spec names a
    bend of Proxy), "unbound" (the serial is not in the simulator's
    fleet: it answers 8512), or "endpoint" (the account's host fails).
    says: patterns the device's log line must match (None: the device
    must be read, its values must arrive, no line about it).
    overloaded: counts towards the account's cool-down (client.h).
    for_good: the cloud refused it for good; retried only hourly."""

    def __init__(self, name, sn, where, spec, says, overloaded=False,
                 for_good=False):
        self.name, self.sn, self.where, self.spec = name, sn, where, spec
        self.says, self.overloaded, self.for_good = says, overloaded, for_good

    @property
    def fails(self):
        return self.says is not None


# The devices read next to the faulted ones: their values must still come.
HEALTHY_FAMILIES = {"HJ31OKOCEAN00001": "powerocean",
                    "HJ31OKPULSE00001": "powerpulse"}
HEALTHY = list(HEALTHY_FAMILIES)
# Read through the proxy, unbent, next to the wrong shapes.
HEALTHY_BEHIND_PROXY = "HJ31OKOCEAN00002"

# Faults of single devices in one account that talks to the simulator.
DEVICE_FAULTS = [
    Fault("HTTP 500", "HJ31F500", "sim", "http500", [r"HTTP 500"],
          overloaded=True),
    Fault("HTTP 405", "HJ31F405", "sim", "http405",
          [r"HTTP 405 \(API code 405: Method Not Allowed\)"]),
    Fault("HTTP 429 with Retry-After", "HJ31F429", "sim",
          "http429:%d" % RETRY_AFTER_S,
          [r"HTTP 429", r"rate limited"], overloaded=True),
    Fault("timeout", "HJ31FTIMEOUT", "sim", "delay:%d" % DELAY_MS,
          [r"Timeout was reached", r"with 0 bytes received"],
          overloaded=True),
    Fault("stall mid-body", "HJ31FSTALL", "sim", "stall",
          [r"Timeout was reached", r"with [1-9]\d* out of \d+ bytes"],
          overloaded=True),
    Fault("truncated JSON", "HJ31FTRUNC", "sim", "truncated",
          [r"HTTP 200, unreadable answer: truncated JSON"]),
    Fault("not JSON", "HJ31FHTML", "sim", "notjson",
          [r"HTTP 200, unreadable answer: not JSON .*<!DOCTYPE"]),
    Fault("data a string", "HJ31FSHAPE", "sim", "malformed",
          [r'"data" is string, not an object']),
    Fault("body over the cap", "HJ31FHUGE", "sim",
          "huge:%d" % (2 * MAX_BODY),
          [r"answer larger than the %d bytes allowed" % MAX_BODY],
          overloaded=True),
    Fault("8513", "HJ31F8513", "sim", "api:8513:accessKey is invalid",
          [r"API code 8513: accessKey is invalid",
           r"other region.*https://api-a\.ecoflow\.com"]),
    Fault("8512", "HJ31NOTMINE", "unbound", None,
          [r"API code 8512: no permission to do it",
           r"not bound to the account"], for_good=True),
    Fault("1006", "HJ31F1006", "sim", "1006",
          [r"API code 1006", r"read it through its PowerOcean"],
          for_good=True),
    Fault("8521", "HJ31F8521", "sim", "api:8521:signature is wrong",
          [r"API code 8521: signature is wrong",
           r"check the secret key.*whitespace"]),
]

# Healthy devices next to these must still be read: the account must not
# cool down (client.h: most of a batch failing like an overloaded server).
assert 2 * sum(f.overloaded for f in DEVICE_FAULTS) <= (
    len(HEALTHY_FAMILIES) + len(DEVICE_FAULTS))

# Answers of the wrong shape, bent by the proxy from a PowerOcean's.
SHAPE_FAULTS = [
    Fault("data missing", "HJ31SNODATA", "proxy", "no_data",
          [r'HTTP 200, unreadable answer: no "data" in the answer']),
    Fault("deep nesting", "HJ31SDEEP", "proxy", "deep",
          [r"HTTP 200, unreadable answer: invalid JSON: nesting too deep"]),
    Fault("numbers as strings", "HJ31SSTRINGS", "proxy", "strings", None),
    Fault("nulls", "HJ31SNULLS", "proxy", "nulls", None),
    Fault("huge arrays", "HJ31SARRAYS", "proxy", "arrays", None),
    Fault("broken JSON inside a string", "HJ31SEMBED", "proxy", "embedded",
          None),
    Fault("dishonest numbers", "HJ31SNUMBERS", "proxy", "dishonest", None),
    Fault("a flood of unknown keys", "HJ31SFLOOD", "proxy", "flood", None),
]

# Three devices of an account of their own that all answer HTTP 500: the
# account cools down (client.h needs three such answers, most of a batch).
STORM = ["HJ31STORM1", "HJ31STORM2", "HJ31STORM3"]

# Faults of a whole account's endpoint; one device each.
REFUSED = Fault("connection refused", "HJ31EREFUSED", "endpoint", None,
                [r"Couldn't connect to server"], overloaded=True)
UNRESOLVED = Fault("DNS failure", "HJ31EDNS", "endpoint", None,
                   [r"Could not resolve host: %s" % UNRESOLVABLE],
                   overloaded=True)
UNTRUSTED = Fault("TLS, unknown CA", "HJ31ETLS", "endpoint", None,
                  [r"SSL", r"certificate"], overloaded=True)
# A real 8521 (the simulator checks the signature), for an account whose
# secret is wrong: neither secret may show in any log.
WRONG_SECRET = Fault("wrong secret", "HJ31EWRONGKEY", "endpoint", None,
                     [r"API code 8521: signature is wrong",
                      r"check the secret key"])
WRONG_SECRET_KEY = "WrongSecretKey0123456789abcdefgh"
TRUSTED = "HJ31ETLSCA"  # the same TLS server, its CA configured
# The device of a simulator of its own, whose clock is SKEW_S ahead.
SKEWED = "HJ31ESKEW"
SKEWED_DEVICE = "%s:%s" % (SKEWED, FAULT_FAMILY)
ENDPOINT_FAULTS = [REFUSED, UNRESOLVED, UNTRUSTED, WRONG_SECRET]


def sim_devices():
    """The --device specs of the simulator every fault is served by."""
    serials = [(sn, family) for sn, family in HEALTHY_FAMILIES.items()]
    serials += [(f.sn, FAULT_FAMILY) for f in DEVICE_FAULTS
                if f.where == "sim"]
    serials += [(f.sn, SHAPE_FAMILY) for f in SHAPE_FAULTS]
    serials.append((HEALTHY_BEHIND_PROXY, SHAPE_FAMILY))
    serials += [(sn, FAULT_FAMILY) for sn in STORM]
    serials += [(f.sn, FAULT_FAMILY) for f in ENDPOINT_FAULTS]
    serials.append((TRUSTED, FAULT_FAMILY))
    return ["%s:%s" % pair for pair in serials]


def sim_faults():
    """The --fault specs the simulator starts with."""
    return (["%s:%s" % (f.sn, f.spec) for f in DEVICE_FAULTS
             if f.where == "sim"] + ["%s:http500" % sn for sn in STORM])


def clear_faults(sim, proxy):
    for f in DEVICE_FAULTS:
        if f.where == "sim":
            sim.clear_fault(f.sn)
    for sn in STORM:
        sim.clear_fault(sn)
    proxy.bends.clear()


def requests_for(sim, sn):
    """quota requests the simulator received for sn (the retried 8521
    counts twice); serials it does not know are counted together."""
    stats = sim.stats()
    unbound = any(f.sn == sn and f.where == "unbound" for f in DEVICE_FAULTS)
    return stats["unknown_sn"] if unbound else stats["devices"].get(sn, 0)


def serial(name):
    """The serial number of the device with fault name."""
    return next(f.sn for f in DEVICE_FAULTS + SHAPE_FAULTS if f.name == name)


# ---- answers of the wrong shape -----------------------------------------

def _no_data(answer):
    answer.pop("data", None)
    return json.dumps(answer)


def _numbers_as_strings(answer):
    answer["data"] = {key: json.dumps(value)
                      if isinstance(value, (int, float))
                      and not isinstance(value, bool) else value
                      for key, value in answer["data"].items()}
    return json.dumps(answer)


def _nulls(answer):
    data = answer["data"]
    for key in list(data)[::2]:
        data[key] = None
    return json.dumps(answer)


# Without sample.h's EF_MAX_ARRAY_ITEMS, 60000 series of one device (and
# seconds of CPU per read); still well under the body cap.
ARRAY_ITEMS = 20000
MAX_ARRAY_ITEMS = 64  # ef_sample.h


def _huge_arrays(answer):
    data = answer["data"]
    data["mpptHeartBeat"][0]["mpptPv"] = [{"vol": 400, "amp": 5, "pwr": 2000}
                                          ] * ARRAY_ITEMS
    data["emsErrCode.errCode"] = list(range(ARRAY_ITEMS))
    return json.dumps(answer)


def _deep_nesting(answer):
    answer["data"]["deep"] = "DEEP"
    depth = 100000
    return json.dumps(answer).replace('"DEEP"', "[" * depth + "]" * depth)


def _broken_embedded(answer):
    data = answer["data"]
    for key, value in data.items():
        if key.startswith("bp_addr.") and str(value).lstrip().startswith("{"):
            data[key] = value[:len(value) // 2]
    return json.dumps(answer)


# Numbers that are none where the catalog wants one (issue 15): a boolean,
# a hex string, and integers past 64 bits (json-c saturates them).
DISHONEST = {"bpSoc": "true", "sysLoadPwr": '"0x10"',
             "mpptPwr": "18446744073709551615",
             "pvInvPwr": "18446744073709551617"}


def _dishonest_numbers(answer):
    data = answer["data"]
    for key in DISHONEST:
        data[key] = "@%s@" % key
    text = json.dumps(answer)
    for key, raw in DISHONEST.items():
        text = text.replace('"@%s@"' % key, raw)
    return text


# A reading that would make 20000 series of one device (issue 15).
FLOOD_KEYS = 20000
MAX_UNKNOWN = 1000  # ef_metric.h: EF_DEFAULT_MAX_UNKNOWN


def _flood(answer):
    answer["data"].update({"floodKey%05d" % i: i for i in range(FLOOD_KEYS)})
    return json.dumps(answer)


# Report values (quota/data) a double carries in kWh but not in Wh, the
# unit both front ends publish (issue 23): +-1e308 kWh. Other answers of
# the device pass as they are.
HUGE_REPORT_VALUES = {"To Home": 1e308, "From Grid": -1e308}


def _huge_report(answer):
    report = answer.get("data")
    if isinstance(report, dict) and isinstance(report.get("data"), list):
        for index in report["data"]:
            if index.get("indexName") in HUGE_REPORT_VALUES:
                index["indexValue"] = HUGE_REPORT_VALUES[index["indexName"]]
                index["unit"] = "kWh"
    return json.dumps(answer)


BENDS = {"no_data": _no_data, "strings": _numbers_as_strings,
         "nulls": _nulls, "arrays": _huge_arrays, "deep": _deep_nesting,
         "embedded": _broken_embedded, "dishonest": _dishonest_numbers,
         "flood": _flood, "huge_report": _huge_report}


# ---- the proxy ----------------------------------------------------------

# Headers the proxy passes on, both ways.
REQUEST_HEADERS = ("accessKey", "nonce", "timestamp", "sign", "Content-Type")
ANSWER_HEADERS = ("Content-Type", "x-timestamp", "Date", "Retry-After")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # curl keeps its connections

    def do_GET(self):
        self.forward()

    def do_POST(self):
        self.forward()

    def forward(self):
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        sn = urllib.parse.parse_qs(
            urllib.parse.urlsplit(self.path).query).get("sn", [None])[0]
        if sn is None and body:
            try:
                sn = json.loads(body).get("sn")
            except (ValueError, AttributeError):
                pass
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.sim.port,
                                              timeout=30)
        headers = {h: self.headers[h] for h in REQUEST_HEADERS
                   if self.headers[h] is not None}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        text = answer.read()
        upstream.close()
        bend = proxy.bends.get(sn)
        if bend is not None and answer.status == 200:
            text = BENDS[bend](json.loads(text)).encode()
        with proxy.lock:
            proxy.requests.append({
                "sn": sn,
                "signed_ms": int(self.headers.get("timestamp") or 0),
                "server_ms": int(answer.getheader("x-timestamp") or 0),
                "local_ms": int(time.time() * 1000)})
        headers = {name: answer.getheader(name) for name in ANSWER_HEADERS
                   if answer.getheader(name) is not None}
        if proxy.headers:
            # Only the answer's own headers: no Date of the proxy's.
            self.send_response_only(answer.status)
            headers.update(proxy.headers)
        else:
            self.send_response(answer.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format, *args):
        with self.server.proxy.lock:
            self.server.proxy.log_lines.append(format % args)


class _Server(http.server.ThreadingHTTPServer):
    def finish_request(self, request, client_address):
        """TLS per connection, in the connection's thread: a client that
        refuses the certificate is counted, and never blocks the others."""
        proxy = self.proxy
        if proxy.tls is not None:
            try:
                request = proxy.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                with proxy.lock:
                    proxy.handshakes_refused += 1
                    proxy.log_lines.append("TLS handshake failed: %s"
                                           % error)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        """A client that hangs up (curl closing a connection it kept, a
        timeout) is no news for the test's output."""
        with self.proxy.lock:
            self.proxy.log_lines.append("connection from %s:%d ended: %s" % (
                client_address + (sys.exc_info()[1],)))


class Proxy:
    """A server on a free loopback port that forwards the signed API to
    sim (so signatures still verify) and bends the answers of the serial
    numbers in bends ({sn: name in BENDS}), and puts headers ({name: value})
    into every answer instead of the simulator's (x-timestamp, Date). Each
    request is recorded: its serial, the time it was signed with, the
    simulator's time and ours. tls=(certificate, key) makes it
    HTTPS; listening=False binds the port but refuses connections until
    listen(). It looks like a Sim to the tests' config helpers: base_url,
    access_key, secret_key."""

    def __init__(self, sim, bends=None, tls=None, listening=True,
                 headers=None):
        self.sim = sim
        self.bends = dict(bends or {})
        self.headers = dict(headers or {})
        self.requests = []
        self.log_lines = []
        self.handshakes_refused = 0
        self.lock = threading.Lock()
        self.tls = None
        if tls is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(*tls)
        self.server = _Server(("127.0.0.1", 0), _Handler,
                              bind_and_activate=False)
        self.server.proxy = self
        self.server.server_bind()
        self.port = self.server.server_address[1]
        self.thread = None
        if listening:
            self.listen()

    def listen(self):
        self.server.server_activate()
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        if self.thread is not None:
            self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http",
                                      self.port)

    @property
    def access_key(self):
        return self.sim.access_key

    @property
    def secret_key(self):
        return self.sim.secret_key

    def log(self):
        with self.lock:
            return "\n".join(self.log_lines)


class Endpoint:
    """An account's endpoint and keys, for the config helpers: base_url,
    and the simulator's keys unless secret_key replaces its secret."""

    def __init__(self, base_url, sim, secret_key=None):
        self.base_url = base_url
        self.access_key = sim.access_key
        self.secret_key = secret_key or sim.secret_key


def throwaway_ca(directory):
    """(CA file, certificate, key): a CA made by `openssl req -x509` and a
    certificate it signed for IP:127.0.0.1."""
    paths = [os.path.join(directory, name) for name in (
        "ca.pem", "ca.key", "server.csr", "server.pem", "server.key",
        "san.ext")]
    ca, ca_key, csr, cert, key, ext = paths
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    for command in (
            [OPENSSL, "req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca,
                                                "-days", "2", "-subj",
                                                "/CN=ecoflow test CA"],
            [OPENSSL, "req"] + ec + ["-keyout", key, "-out", csr, "-subj",
                                       "/CN=127.0.0.1"],
            [OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey",
             ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
             "-extfile", ext]):
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return ca, cert, key


# ---- what the checks share ----------------------------------------------

def check_line(what, lines, fault, secrets):
    """The one log line about a faulted device says what went wrong and
    holds no secret."""
    text = lines[0] if len(lines) == 1 else ""
    missing = [p for p in fault.says if not re.search(p, text)]
    check("%s: %s: one line naming %s%s" % (
        what, fault.name, fault.sn, " says " + ", ".join(
            repr(p) for p in fault.says)),
        len(lines) == 1 and not missing and not secret_hits(text, secrets),
        "%d lines: %s" % (len(lines), " | ".join(lines)))


def secret_hits(text, secrets):
    """The secrets that occur in text."""
    return [s for s in secrets if s and s in text]


def check_no_secrets(what, logs, secrets):
    """logs: {name: text}. No secret in any of them."""
    hits = ["%s holds %s..." % (name, s[:4]) for name, text in logs.items()
            for s in secret_hits(text, secrets)]
    check("%s: no secret key in any of the %d logs (%d bytes)" % (
        what, len(logs), sum(len(t) for t in logs.values())),
        not hits and any(logs.values()), "; ".join(hits))


def check_signed_in_server_time(what, proxy):
    """After the first answer told the client the server's time, each
    request is signed with that time, not the local clock."""
    with proxy.lock:
        requests = list(proxy.requests)
    later = [r["signed_ms"] - r["server_ms"] for r in requests[1:]]
    first = requests[0]["signed_ms"] - requests[0]["server_ms"] \
        if requests else None
    check("%s: signed with the local clock first (%s s off), then with the "
          "server's (%s s off)" % (
              what, first and round(first / 1000),
              [round(d / 1000, 1) for d in later]),
          first is not None and abs(first) > SKEW_S * 1000 / 2 and later
          and all(abs(d) < 5000 for d in later))
