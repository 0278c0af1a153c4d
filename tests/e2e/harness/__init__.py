"""harness: the real programs the end-to-end tests start and talk to, one
module each (collectd, ecoflow-telegraf, influxd, the simulator's signed
API, the push-mode broker and simulator, line protocol read back), so that
no test imports another test. The tests put tests/e2e on sys.path; these
modules import checks from there.

Here: where the source and build trees are (automake's top_srcdir and
top_builddir, exported by `make check'), a free loopback port, and a
file only this user may read (keys and passwords)."""

import os
import socket

E2E = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(E2E, "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_private(path, text):
    """text into path, created mode 0600 (never readable by others, not
    even for a moment)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              "w") as out:
        out.write(text)
