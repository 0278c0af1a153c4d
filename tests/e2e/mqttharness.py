"""A real mosquitto broker for a test, shaped like EcoFlow's: TLS only,
passwords, an ACL of exact topics. Python 3 standard library only.

Typical use:

    import mqttharness

    account, password = "open-test", "cert-password"
    sns = ["HJ31SIMOCEAN0001"]
    broker = mqttharness.Broker(users=[
        (account, password, mqttharness.device_topics(account, sns)),
        ("sim-publisher", "pub-password",
         mqttharness.device_topics(account, sns, access="write")),
    ])
    with broker:
        broker.port, broker.cafile, broker.wrong_cafile
        sim_args = broker.sim_options(account, password, "sim-publisher",
                                      "pub-password")   # for simharness.Sim
        with broker.subscribe(account, password, topics) as sub:
            sub.wait_for(1, timeout=10)     # messages as (time, topic, text)
        broker.restart()                    # same port; clients reconnect
        broker.down(); ...; broker.up()     # a broker loss, as long as needed
        broker.publish_lines(user, password, topic, payloads)  # a flood
        with FakeBroker(broker, "silent") as fake: ...  # one that misbehaves
        broker.connections("client-id")     # successful CONNECTs, parsed
        broker.connection_attempts()        # every TCP connection, refused too
        broker.refusals()                   # CONNACKs with a non-zero code
        broker.takeovers("client-id")       # a second client took the id
        broker.set_password(user, "new")    # restarts a running broker

The broker listens on 127.0.0.1 on a free port (never 1883) with a
server certificate from a throwaway CA (subjectAltName IP:127.0.0.1 and
DNS:localhost, so that clients may name it either way),
`allow_anonymous false`, and users, passwords and ACLs of exact topics in
mosquitto's dynamic security plugin: a wildcard subscription is refused
(SUBACK 0x80) and gets nothing, as on the live broker. Everything lives in
a private temporary directory that stop() (or leaving the with-block)
removes, with the broker, whatever happened; the broker and every
subscriber also die with the thread that started them (PR_SET_PDEATHSIG),
so start them from the test's main thread.
ECOFLOW_SIM_KEEP=1 keeps the directory for a post-mortem.
"""

import atexit
import base64
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import free_port, write_private

_PR_SET_PDEATHSIG = 1
# What mosquitto_passwd uses.
_PBKDF2_ITERATIONS = 101
# The dynamic security plugin's ACL types that grant each access.
_ACL_TYPES = {"read": ("subscribeLiteral", "publishClientReceive"),
              "write": ("publishClientSend",),
              "readwrite": ("subscribeLiteral", "publishClientReceive",
                            "publishClientSend")}
HOST = "127.0.0.1"
# Debian's own broker listens there; a test never does.
SYSTEM_PORT = 1883

_CONNECTED = re.compile(
    r"^(\d+): New client connected from (\S+) as (\S+) "
    r"\(p(\d+), c(\d+), k(\d+)(?:, u'([^']*)')?\)\.$", re.M)
# mosquitto starts the TLS handshake inside its accept (2.0's net.c,
# net__socket_accept): one that fails there, a client that refused the
# certificate before the broker read again (a busy machine), is logged as
# "Client connection from ADDRESS failed: ERROR." (a line per OpenSSL
# error), never as a new connection.
_ATTEMPT = re.compile(r"^\d+: (?:New connection from \S+ on port \d+|"
                      r"Client connection from (\S+) failed: .*)\.$", re.M)
_CONNACK = re.compile(r"^(\d+): Sending CONNACK to (\S+) \((\d+), (\d+)\)$",
                      re.M)
_TAKEOVER = re.compile(
    r"^\d+: Client (\S+) already connected, closing old connection\.$", re.M)
_RUNNING = re.compile(r"^\d+: mosquitto version \S+ running$", re.M)


class BrokerError(Exception):
    """The broker could not start, or a client tool failed."""


def device_topics(account, sns, kinds=("quota", "status"), access="read"):
    """The ACL entries of EcoFlow's per-device topics
    /open/<account>/<sn>/<kind>, as (access, topic) pairs."""
    return [(access, "/open/%s/%s/%s" % (account, sn, kind))
            for sn in sns for kind in kinds]


def write_sim_passwords(path, certificate_password, publisher_password):
    """ecoflow-sim's --mqtt-password-file. The simulator reads
    certificate_password again at each certification call, so rewriting it
    changes what the cloud hands out from then on (an expired password)."""
    temporary = path + ".tmp"
    write_private(temporary,
                  "certificate_password = %s\npublisher_password = %s\n"
                  % (certificate_password, publisher_password))
    os.rename(temporary, path)


def _die_with_parent():
    """Runs in the child before exec: SIGTERM it when the test dies."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _tool(name):
    """Path of a mosquitto program (the broker is in /usr/sbin, often not in
    a user's PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise BrokerError("%s not found: install the Debian packages "
                          "mosquitto and mosquitto-clients" % name)
    return found


def _dynamic_security_plugin():
    found = sorted(glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") +
                   glob.glob("/usr/lib/mosquitto_dynamic_security.so"))
    if not found:
        raise BrokerError("mosquitto_dynamic_security.so not found: install "
                          "the Debian package mosquitto")
    return found[0]


def _free_port():
    """A free port that is not the system broker's."""
    while True:
        port = free_port()
        if port != SYSTEM_PORT:
            return port


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=60,
                            **kwargs)
    if result.returncode != 0:
        raise BrokerError("%s failed (%d): %s" % (
            os.path.basename(args[0]), result.returncode, result.stderr))
    return result


def _stop_process(process, timeout):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Broker:
    """One mosquitto. users: (name, password, topics) triples, where each
    topic is "T" (readwrite) or an (access, "T") pair with access read,
    write or readwrite; add_user() adds more before start(). options: more
    global lines of mosquitto.conf, e.g. "set_tcp_nodelay true"."""

    def __init__(self, users=(), start_timeout=15.0, options=()):
        self.port = None
        self.dir = None
        self.cafile = None
        self.wrong_cafile = None
        self.returncode = None
        self.sim_password_file = None
        self._users = []
        self._process = None
        self._stderr = None
        self._start_timeout = start_timeout
        self._starts = 0
        self._subscribers = []
        self._saved_log = ""
        self._options = list(options)
        for name, password, topics in users:
            self.add_user(name, password, topics)

    def add_user(self, name, password, topics):
        if self._process is not None:
            raise BrokerError("add_user after start: restart() keeps the "
                              "users; make a new Broker for others")
        entries = [("readwrite", t) if isinstance(t, str) else tuple(t)
                   for t in topics]
        for access, topic in entries:
            if access not in ("read", "write", "readwrite"):
                raise ValueError("topic access %r" % access)
            if "\n" in topic:
                raise ValueError("topic %r" % topic)
        self._users.append((name, password, entries))

    def set_password(self, name, password):
        """Changes a user's password; a running broker restarts to take it
        (its clients must reconnect, and the user's now fail)."""
        for index, (user, _, entries) in enumerate(self._users):
            if user == name:
                self._users[index] = (user, password, entries)
                break
        else:
            raise BrokerError("no user %s" % name)
        if self._process is not None and self.returncode is None:
            self._write_users()
            self.restart()

    # -- life cycle ---------------------------------------------------------

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="ecoflow-mqtt-")
        atexit.register(self.stop)
        try:
            self._make_certificates()
            self._write_users()
            self.port = _free_port()
            self._write_config()
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, down_s=0.0):
        """Stops the broker and starts it again on the same port, with the
        same users, after down_s seconds; clients must reconnect by
        themselves. Sessions do not survive (no persistence)."""
        self.down()
        if down_s > 0:
            time.sleep(down_s)
        self.up()

    def down(self):
        """Stops the broker process only (a broker loss); up() brings it
        back on the same port."""
        if self._process is None:
            raise BrokerError("down before start")
        if self._process.poll() is None:
            _stop_process(self._process, 10)
        self._stderr.close()

    def up(self):
        """Starts the broker again after down(), on the same port."""
        if self._process is None or self._process.poll() is None:
            raise BrokerError("up while the broker runs (or before start)")
        self._launch()

    def stop(self, timeout=10.0):
        """Stops subscribers and the broker and removes the directory;
        harmless to call twice. Returns the broker's exit status."""
        for subscriber in self._subscribers:
            subscriber.stop()
        self._subscribers = []
        if self._process is not None and self.returncode is None:
            self.returncode = _stop_process(self._process, timeout)
            atexit.unregister(self.stop)
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()
        if self.dir is not None:
            self._saved_log = self.log()
            if not os.environ.get("ECOFLOW_SIM_KEEP"):
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        return self.returncode

    def __enter__(self):
        return self if self._process is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _make_certificates(self):
        openssl = shutil.which("openssl")
        if openssl is None:
            raise BrokerError("openssl not found: install the Debian package "
                              "openssl")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes"]
        ca_extensions = ["-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        for name, subject in (("ca", "/CN=ecoflow test CA"),
                              ("wrong-ca", "/CN=unrelated test CA")):
            _run([openssl, "req", "-x509"] + ec + ca_extensions +
                 ["-keyout", self._path(name + ".key"),
                  "-out", self._path(name + ".pem"), "-days", "2",
                  "-subj", subject])
        _run([openssl, "req"] + ec +
             ["-keyout", self._path("server.key"),
              "-out", self._path("server.csr"), "-subj", "/CN=" + HOST])
        with open(self._path("server.ext"), "w") as ext:
            ext.write("subjectAltName=IP:%s,DNS:localhost\n"
                      "basicConstraints=CA:FALSE\n"
                      "extendedKeyUsage=serverAuth\n" % HOST)
        _run([openssl, "x509", "-req", "-in", self._path("server.csr"),
              "-CA", self._path("ca.pem"), "-CAkey", self._path("ca.key"),
              "-CAcreateserial", "-out", self._path("server.pem"),
              "-days", "2", "-extfile", self._path("server.ext")])
        self.cafile = self._path("ca.pem")
        self.wrong_cafile = self._path("wrong-ca.pem")

    def _write_users(self):
        """Users, passwords and ACLs for mosquitto's dynamic security plugin.
        mosquitto's acl_file never checks a subscription (2.0's
        security_default.c: "FIXME - implement ACL subscription strings"), so
        a wildcard there gets every topic the user may read; the plugin's
        subscribeLiteral grants exactly the filters listed, as EcoFlow's
        broker does. Passwords are hashed here (PBKDF2-SHA512, as
        mosquitto_passwd does), never passed on a command line."""
        clients, roles = [], []
        for name, password, entries in self._users:
            salt = os.urandom(12)
            digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt,
                                         _PBKDF2_ITERATIONS, 64)
            clients.append({
                "username": name, "iterations": _PBKDF2_ITERATIONS,
                "salt": base64.b64encode(salt).decode(),
                "password": base64.b64encode(digest).decode(),
                "roles": [{"rolename": name}]})
            acls = []
            for access, topic in entries:
                for kind in _ACL_TYPES[access]:
                    acls.append({"acltype": kind, "topic": topic,
                                 "allow": True})
            roles.append({"rolename": name, "acls": acls})
        config = {"defaultACLAccess": {"publishClientSend": False,
                                       "publishClientReceive": False,
                                       "subscribe": False,
                                       "unsubscribe": True},
                  "clients": clients, "groups": [], "roles": roles}
        write_private(self._path("dynamic-security.json"),
                      json.dumps(config, indent=1))

    def _write_config(self):
        lines = []
        if os.geteuid() == 0:
            # Else mosquitto drops to its own user, which cannot read this
            # root-only directory.
            lines.append("user root")
        lines += [
            "per_listener_settings false",
            "allow_anonymous false",
            "plugin %s" % _dynamic_security_plugin(),
            "plugin_opt_config_file %s" % self._path("dynamic-security.json"),
            "persistence false",
            "log_dest file %s" % self._path("broker.log"),
            "log_type all",
            "connection_messages true",
        ] + self._options + [
            "listener %d %s" % (self.port, HOST),
            "cafile %s" % self.cafile,
            "certfile %s" % self._path("server.pem"),
            "keyfile %s" % self._path("server.key"),
            "",
        ]
        with open(self._path("mosquitto.conf"), "w") as out:
            out.write("\n".join(lines))

    def _launch(self):
        self.returncode = None
        self._stderr = open(self._path("stderr.log"), "ab")
        self._process = subprocess.Popen(
            [_tool("mosquitto"), "-c", self._path("mosquitto.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, preexec_fn=_die_with_parent)
        self._starts += 1
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError("mosquitto exited with %d:\n%s%s" % (
                    self._process.returncode, self.log(),
                    self._read("stderr.log")))
            if len(_RUNNING.findall(self.log())) >= self._starts:
                return
            time.sleep(0.05)
        raise BrokerError("mosquitto not ready after %.0f s:\n%s" % (
            self._start_timeout, self.log()))

    # -- what the broker saw --------------------------------------------------

    def _read(self, name):
        if self.dir is None:
            return ""
        try:
            with open(self._path(name), "rb") as text:
                return text.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log(self):
        """The broker's log so far (every start, appended)."""
        return self._read("broker.log") if self.dir else self._saved_log

    def connections(self, client_id=None):
        """Successful connections ("New client connected ... as ID"), oldest
        first, as dicts: time (s), address, client_id, protocol (mosquitto's
        number: 2 is MQTT 3.1.1, 5 is MQTT 5), clean (bool), keepalive (s),
        user."""
        found = []
        for match in _CONNECTED.finditer(self.log()):
            record = {"time": int(match.group(1)), "address": match.group(2),
                      "client_id": match.group(3),
                      "protocol": int(match.group(4)),
                      "clean": match.group(5) == "1",
                      "keepalive": int(match.group(6)),
                      "user": match.group(7)}
            if client_id is None or record["client_id"] == client_id:
                found.append(record)
        return found

    def connection_attempts(self):
        """Every TCP connection the broker accepted, whatever became of it
        (refused, bad TLS, connected)."""
        attempts, previous = 0, None
        for match in _ATTEMPT.finditer(self.log()):
            # The lines of one failed accept follow each other.
            if not (match.group(1) and previous is not None
                    and previous.group(1) == match.group(1)
                    and previous.end() + 1 == match.start()):
                attempts += 1
            previous = match
        return attempts

    def takeovers(self, client_id=None):
        """Client ids whose connection the broker closed because another
        client connected with the same id, one entry per time."""
        return [m.group(1) for m in _TAKEOVER.finditer(self.log())
                if client_id is None or m.group(1) == client_id]

    def refusals(self):
        """CONNACKs that refused a client, as dicts: client (its id, or its
        address when the broker never learnt the id), code (5: not
        authorised, 4: bad user name or password in MQTT 3.1.1)."""
        return [{"client": m.group(2), "code": int(m.group(4))}
                for m in _CONNACK.finditer(self.log()) if m.group(4) != "0"]

    def subscriptions(self, client_id):
        """SUBACKs the broker has sent to client_id (every start): one per
        SUBSCRIBE it granted."""
        return self.log().count("Sending SUBACK to %s\n" % client_id)

    def wait_for_connections(self, count, client_id=None, timeout=15.0):
        """Waits until connections(client_id) has at least count records;
        returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.connections(client_id)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    # -- clients ------------------------------------------------------------

    def _client_config(self, user, password, cafile, name):
        """An options file for mosquitto_sub/pub in its own config directory,
        so that the password is never on a command line."""
        home = tempfile.mkdtemp(prefix="client-", dir=self.dir)
        write_private(os.path.join(home, name),
                      "-h %s\n-p %d\n--cafile %s\n-u %s\n-P %s\n" % (
                          HOST, self.port, cafile or self.cafile, user,
                          password))
        return home

    def subscribe(self, user, password, topics, client_id=None, cafile=None):
        """Starts mosquitto_sub (MQTT 3.1.1, QoS 0) on topics; it
        reconnects and subscribes again by itself after a broker restart.
        Returns a Subscriber."""
        home = self._client_config(user, password, cafile, "mosquitto_sub")
        args = [_tool("mosquitto_sub"), "-V", "mqttv311", "-F", "%U %t %p"]
        if client_id is not None:
            args += ["-i", client_id]
        for topic in topics:
            args += ["-t", topic]
        subscriber = Subscriber(args, home)
        self._subscribers.append(subscriber)
        return subscriber

    def publish(self, user, password, topic, payload, cafile=None,
                retain=False):
        """One message with mosquitto_pub (payload None: an empty one,
        which with retain clears the topic's retained message); returns its
        CompletedProcess (returncode 0 when it was sent)."""
        home = self._client_config(user, password, cafile, "mosquitto_pub")
        env = dict(os.environ, XDG_CONFIG_HOME=home)
        args = [_tool("mosquitto_pub"), "-V", "mqttv311", "-t", topic]
        args += ["-n"] if payload is None else ["-m", payload]
        if retain:
            args.append("-r")
        return subprocess.run(args, env=env, capture_output=True, text=True,
                              timeout=30)

    def publish_lines(self, user, password, topic, payloads, retain=False,
                      cafile=None):
        """Many messages to one topic through one connection (mosquitto_pub
        -l: a message per line of its input), as fast as the broker takes
        them; returns its CompletedProcess. Payloads hold no newline."""
        home = self._client_config(user, password, cafile, "mosquitto_pub")
        env = dict(os.environ, XDG_CONFIG_HOME=home)
        args = [_tool("mosquitto_pub"), "-V", "mqttv311", "-t", topic, "-l"]
        if retain:
            args.append("-r")
        return subprocess.run(args, env=env, capture_output=True, text=True,
                              input="".join(p + "\n" for p in payloads),
                              timeout=120)

    def sim_options(self, account, certificate_password, publisher,
                    publisher_password):
        """ecoflow-sim arguments (simharness.Sim(extra_args=...)) that hand
        out this broker in certification and make the simulator publish
        through it as user publisher; the passwords go in the file
        self.sim_password_file (see write_sim_passwords)."""
        path = self._path("sim-mqtt-passwords")
        write_sim_passwords(path, certificate_password, publisher_password)
        self.sim_password_file = path
        return ["--mqtt-host", HOST, "--mqtt-port", str(self.port),
                "--mqtt-account", account, "--mqtt-publisher", publisher,
                "--mqtt-password-file", path, "--mqtt-cafile", self.cafile]


class FakeBroker:
    """A broker that misbehaves, on 127.0.0.1 at a free port, with the
    server certificate of a running Broker (so that clients verify it as
    they verify that one). mode is what it does with each connection:

    - "silent": accepts TCP and never sends a byte (a TLS handshake that
      never ends);
    - "tls-silent": completes the TLS handshake, then never answers
      CONNECT;
    - "mqtt": answers CONNECT, SUBSCRIBE and PINGREQ as a broker does and,
      once a connection has subscribed to subscriptions topics, sends it
      each (topic bytes, payload bytes) of publish as a PUBLISH (QoS 0).

    connections() is how many it accepted. Use it as a context manager,
    or call stop(); connections are held open until then."""

    def __init__(self, broker, mode, publish=(), subscriptions=1):
        import ssl
        import threading
        self.mode = mode
        self.publish = list(publish)
        self.subscriptions = subscriptions
        self._accepted = 0
        self._sockets = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(broker._path("server.pem"),
                                  broker._path("server.key"))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def connections(self):
        with self._lock:
            return self._accepted

    def _accept(self):
        import threading
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._accepted += 1
                self._sockets.append(conn)
            if self.mode != "silent":
                threading.Thread(target=self._serve, args=(conn,),
                                 daemon=True).start()

    @staticmethod
    def _read_exactly(conn, n):
        data = b""
        while len(data) < n:
            got = conn.recv(n - len(data))
            if not got:
                raise EOFError()
            data += got
        return data

    def _packet(self, conn):
        """(first byte, body) of the next MQTT packet."""
        first = self._read_exactly(conn, 1)[0]
        length, shift = 0, 0
        while True:
            byte = self._read_exactly(conn, 1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return first, self._read_exactly(conn, length)

    @staticmethod
    def _remaining(n):
        out = b""
        while True:
            byte, n = n & 0x7F, n >> 7
            out += bytes([byte | (0x80 if n else 0)])
            if not n:
                return out

    def _serve(self, raw):
        try:
            conn = self._tls.wrap_socket(raw, server_side=True)
        except OSError:
            return
        with self._lock:
            self._sockets.append(conn)
        subscribed = 0
        try:
            while not self._stopped.is_set():
                first, body = self._packet(conn)
                kind = first & 0xF0
                if self.mode == "tls-silent":
                    continue
                if kind == 0x10:  # CONNECT
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind == 0x80:  # SUBSCRIBE
                    topics, at = 0, 2
                    while at < len(body):
                        at += 2 + int.from_bytes(body[at:at + 2], "big") + 1
                        topics += 1
                    conn.sendall(bytes([0x90]) + self._remaining(2 + topics)
                                 + body[:2] + b"\x00" * topics)
                    before, subscribed = subscribed, subscribed + topics
                    if before < self.subscriptions <= subscribed:
                        for topic, payload in self.publish:
                            packet = (len(topic).to_bytes(2, "big") + topic
                                      + payload)
                            conn.sendall(b"\x30" +
                                         self._remaining(len(packet)) + packet)
                elif kind == 0xC0:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
                elif kind == 0xE0:  # DISCONNECT
                    return
        except (OSError, EOFError, ValueError):
            return

    def stop(self):
        self._stopped.set()
        self._listener.close()
        with self._lock:
            for conn in self._sockets:
                try:
                    conn.close()
                except OSError:
                    pass
            self._sockets = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False


class Subscriber:
    """A running mosquitto_sub; messages() are (arrival time, topic,
    payload text) in arrival order, the time as the subscriber stamped it
    (Unix seconds, ns resolution)."""

    def __init__(self, args, home):
        self._out_path = os.path.join(home, "messages")
        self._err_path = os.path.join(home, "stderr")
        self._out = open(self._out_path, "wb")
        self._err = open(self._err_path, "wb")
        self.returncode = None
        self._process = subprocess.Popen(
            args, env=dict(os.environ, XDG_CONFIG_HOME=home),
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
            preexec_fn=_die_with_parent)

    def messages(self):
        try:
            with open(self._out_path, "rb") as text:
                lines = text.read().decode("utf-8", "replace").split("\n")
        except OSError:
            return []
        found = []
        # The last piece is a line still being written, or "".
        for line in lines[:-1]:
            stamp, _, rest = line.partition(" ")
            topic, _, payload = rest.partition(" ")
            found.append((float(stamp), topic, payload))
        return found

    def wait_for(self, count, timeout=10.0):
        """Waits until at least count messages arrived; returns them all
        (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def errors(self):
        try:
            with open(self._err_path, "rb") as text:
                return text.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self._process.poll() is None

    def stop(self):
        if self.returncode is None:
            self.returncode = _stop_process(self._process, 5)
            self._out.close()
            self._err.close()
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False
