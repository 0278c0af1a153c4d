"""hangdns.py: a resolver that never answers, for the process under test
alone.

HangingResolver listens for DNS queries over UDP and TCP on port 53 of a
loopback address of its own (127.53.x.y, so that tests running at the
same time do not share it), counts them and never answers. prefix() is
the command line that runs a program with a resolv.conf naming only that
stub: `unshare --mount' gives the program a mount namespace of its own,
in which a temporary resolv.conf is bound over /etc/resolv.conf; the
machine's own file is never touched, and every other process keeps its
resolver. glibc's getaddrinfo (hence libcurl's threaded resolver) then
waits for its own timeouts (5 s, twice, by default) on every name
/etc/hosts does not hold.

Needs root (CI runs as root): port 53, and `unshare --mount' (without
root, `--map-root-user' is tried); available() says whether it works
here.

Python 3 standard library only."""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading

UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
# No /etc/hosts holds it, and .test is reserved (RFC 2606): it can only go
# to the stub.
HOST = "api.hanging-resolver.test"


def _unshare_args():
    return [UNSHARE, "--mount"] + ([] if os.geteuid() == 0 else
                                   ["--map-root-user"])


class HangingResolver:
    """The stub; a context manager. queries: how many arrived so far."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hangdns.")
        self.queries = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.udp = self.tcp = None
        error = None
        for _ in range(20):
            address = "127.53.%d.%d" % (random.randrange(256),
                                        random.randrange(1, 255))
            try:
                self.udp = self._bind(socket.SOCK_DGRAM, address)
                self.tcp = self._bind(socket.SOCK_STREAM, address)
                break
            except OSError as e:
                error = e
                for s in (self.udp, self.tcp):
                    if s is not None:
                        s.close()
                self.udp = self.tcp = None
        if self.udp is None:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise OSError("no loopback address for a DNS stub: %s" % error)
        self.address = address
        self.tcp.listen(16)
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("nameserver %s\n" % address)
        self.held = []  # TCP connections, kept open and unanswered
        self.threads = [threading.Thread(target=t, daemon=True)
                        for t in (self._serve_udp, self._serve_tcp)]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _bind(kind, address):
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, 53))
        s.settimeout(0.1)
        return s

    def _count(self):
        with self.lock:
            self.queries += 1

    def _serve_udp(self):
        while not self.done.is_set():
            try:
                self.udp.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            self._count()

    def _serve_tcp(self):
        while not self.done.is_set():
            try:
                connection, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            self.held.append(connection)
            self._count()

    def count(self):
        with self.lock:
            return self.queries

    def reset(self):
        with self.lock:
            self.queries = 0

    def prefix(self):
        """What runs a program (appended) with this stub as its only
        nameserver: one process, the program's own pid after the exec."""
        return _unshare_args() + [
            "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
            self.resolv_conf]

    def close(self):
        self.done.set()
        for thread in self.threads:
            thread.join(5)
        for s in [self.udp, self.tcp] + self.held:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def available():
    """None when the stub can listen (port 53 needs root) and prefix()
    works here (a namespace can be made and the file bound), else why
    not."""
    try:
        stub = HangingResolver()
    except OSError as e:
        return "the DNS stub cannot listen on port 53: %s" % e
    with stub:
        try:
            run = subprocess.run(stub.prefix() + ["cat", "/etc/resolv.conf"],
                                 capture_output=True, text=True, timeout=30)
        except OSError as e:
            return str(e)
        if run.returncode != 0 or stub.address not in run.stdout:
            return "unshare --mount failed: %s" % run.stderr.strip()[-300:]
    return None
