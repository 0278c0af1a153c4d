#!/usr/bin/env python3
"""python_poller.py: what users run today, for the benchmark to compare.

A small EcoFlow poller written the way EcoFlow's own examples go: requests
and hmac/hashlib, one request after another, a fresh requests.get (and so a
fresh connection) for each, device/list first, then quota/all per device.
It prints each device's numeric quotas as one InfluxDB line, as such a
script feeds Telegraf's inputs.exec. It is deliberately plain: it is the
baseline, not a second product.

    ECOFLOW_ACCESS_KEY=.. ECOFLOW_SECRET_KEY=.. \\
        python_poller.py --endpoint URL [--sn SN]...

Without --sn every online device of the list is read. Exit status 0 when
every device was read, 1 when one was not.
"""

import argparse
import hashlib
import hmac
import os
import random
import sys
import time

import requests


def flatten(params, prefix=""):
    """The signing's flat form: nested keys joined with '.', list items
    indexed ([0]), values as their JSON text (signing.md)."""
    flat = {}
    items = (params.items() if isinstance(params, dict)
             else (("[%d]" % i, v) for i, v in enumerate(params)))
    for key, value in items:
        name = key if not prefix else (
            prefix + key if key.startswith("[") else prefix + "." + key)
        if isinstance(value, (dict, list)):
            flat.update(flatten(value, name))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif value is None:
            flat[name] = "null"
        else:
            flat[name] = str(value)
    return flat


def sign_headers(access_key, secret_key, params=None, nonce=None,
                 timestamp=None):
    """The accessKey, nonce, timestamp and sign headers of one request."""
    nonce = nonce or str(random.randint(100000, 999999))
    timestamp = timestamp or str(int(time.time() * 1000))
    headers = {"accessKey": access_key, "nonce": nonce,
               "timestamp": timestamp}
    pairs = sorted(flatten(params).items()) if params else []
    text = "&".join("%s=%s" % pair for pair in
                    pairs + list(headers.items()))
    headers["sign"] = hmac.new(secret_key.encode(), text.encode(),
                               hashlib.sha256).hexdigest()
    return headers


def get(endpoint, path, access_key, secret_key, params=None, timeout=10):
    """A signed GET (no Content-Type: the query is what is signed); the
    answer's data, or an exception on an HTTP or API error."""
    answer = requests.get(endpoint + path, params=params, timeout=timeout,
                          headers=sign_headers(access_key, secret_key,
                                               params))
    answer.raise_for_status()
    body = answer.json()
    if str(body.get("code")) != "0":
        raise RuntimeError("%s: API code %s: %s"
                           % (path, body.get("code"), body.get("message")))
    return body.get("data")


def line_of(sn, quotas):
    """One line-protocol line of the device's numeric and boolean quotas
    (nested ones flattened), or None when it has none."""
    fields = []
    for key, value in sorted(flatten(quotas).items()):
        if value in ("true", "false"):
            text = value
        else:
            try:
                float(value)
            except ValueError:
                continue
            text = value
        escaped = key.replace(",", r"\,").replace("=", r"\=") \
            .replace(" ", r"\ ")
        fields.append("%s=%s" % (escaped, text))
    if not fields:
        return None
    return "ecoflow_py,sn=%s %s %d" % (sn, ",".join(fields), time.time_ns())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", default="https://api-e.ecoflow.com")
    parser.add_argument("--sn", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    access_key = os.environ.get("ECOFLOW_ACCESS_KEY")
    secret_key = os.environ.get("ECOFLOW_SECRET_KEY")
    if not access_key or not secret_key:
        print("python_poller: set ECOFLOW_ACCESS_KEY and ECOFLOW_SECRET_KEY",
              file=sys.stderr)
        return 2

    listed = get(args.endpoint, "/iot-open/sign/device/list", access_key,
                 secret_key, timeout=args.timeout) or []
    wanted = args.sn or [d["sn"] for d in listed if d.get("online") == 1]
    failed = 0
    for sn in wanted:
        try:
            quotas = get(args.endpoint, "/iot-open/sign/device/quota/all",
                         access_key, secret_key, {"sn": sn},
                         timeout=args.timeout)
        except (requests.RequestException, RuntimeError, ValueError) as err:
            print("python_poller: %s: %s" % (sn, err), file=sys.stderr)
            failed += 1
            continue
        line = line_of(sn, quotas or {})
        if line:
            print(line)
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
