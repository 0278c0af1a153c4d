"""harness/influx.py: a real influxd 1.6.7 on loopback, all its state in a
test's directory: the strict reader of what the front ends write."""

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from checks import wait_until
from harness import free_port

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


class Influx:
    """influxd 1.6.7 on loopback, all its state in directory; extra is
    appended to its configuration."""

    def __init__(self, directory, extra=""):
        self.port = free_port()
        conf = os.path.join(directory, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{directory}/meta"
[data]
  dir = "{directory}/data"
  wal-dir = "{directory}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[logging]
  level = "error"
[monitor]
  store-enabled = false
""" + extra)
        self.log = open(os.path.join(directory, "influxd.log"), "w")
        self.process = subprocess.Popen([INFLUXD, "-config", conf],
                                        stdout=self.log,
                                        stderr=subprocess.STDOUT)
        if not wait_until(self.ping, 30):
            raise RuntimeError("influxd did not start")

    def request(self, path, params, body=None):
        url = "http://127.0.0.1:%d%s?%s" % (self.port, path,
                                            urllib.parse.urlencode(params))
        try:
            with urllib.request.urlopen(url, data=body, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return 0, str(e)

    def ping(self):
        return self.request("/ping", {})[0] == 204

    def write(self, db, lines):
        """(HTTP status, body) of writing lines to a new database db."""
        self.query(db, "CREATE DATABASE \"%s\"" % db)
        return self.request("/write", {"db": db, "precision": "ns"},
                            lines.encode())

    def query(self, db, q):
        status, body = self.request("/query", {"db": db, "q": q,
                                               "epoch": "ns"}, b"")
        return json.loads(body)["results"][0] if status == 200 else {}

    def series(self, db):
        """{(measurement, frozenset of tags): [row, ...]}, a row being
        {column: value} without the empty ones."""
        out = {}
        for s in self.query(db, "SELECT * FROM /.*/ GROUP BY *").get(
                "series", []):
            tags = frozenset((k, v) for k, v in s.get("tags", {}).items()
                             if v != "")
            out[(s["name"], tags)] = [
                {c: v for c, v in zip(s["columns"], row) if v is not None}
                for row in s["values"]]
        return out

    def field_types(self, db):
        out = {}
        for s in self.query(db, "SHOW FIELD KEYS").get("series", []):
            for field, type_ in s["values"]:
                out[(s["name"], field)] = type_
        return out

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
