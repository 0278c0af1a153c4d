"""harness/signed.py: signed requests to the simulator's API, the
signature written afresh from signing.md with hmac and hashlib,
independently of the project's C code (so it cross-checks the
simulator's verification, which uses the core's sign.c)."""

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request

API = "/iot-open/sign/"
JSON_TYPE = "application/json;charset=UTF-8"
AUTO = object()


def json_text(value):
    """A value as the signature writes it: JSON text, strings raw."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def flatten(value, prefix=""):
    if isinstance(value, dict):
        pairs = []
        for key, child in value.items():
            pairs += flatten(child, prefix + "." + key if prefix else key)
        return pairs
    if isinstance(value, list):
        pairs = []
        for index, child in enumerate(value):
            pairs += flatten(child, "%s[%d]" % (prefix, index))
        return pairs
    return [(prefix, json_text(value))]


def canonical(pairs, access_key, nonce, timestamp):
    ordered = sorted(pairs, key=lambda pair: pair[0].encode())
    tail = "accessKey=%s&nonce=%s&timestamp=%s" % (access_key, nonce,
                                                   timestamp)
    return "&".join(["%s=%s" % pair for pair in ordered] + [tail])


def signature(secret, text):
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    @property
    def code(self):
        return self.json.get("code") if isinstance(self.json, dict) else None

    @property
    def data(self):
        return self.json.get("data") if isinstance(self.json, dict) else None

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.body[:300])


def call(sim, method, path, query=None, body=None, secret=None,
         access_key=None, content_type=AUTO, signed_pairs=None, timeout=10):
    """A signed API request. The signed parameters follow the rule of
    docs/wire-facts.md unless signed_pairs says otherwise: the JSON body when
    there is one, else the query."""
    access_key = access_key or sim.access_key
    secret = secret or sim.secret_key
    nonce = "%06d" % random.randrange(1000000)
    timestamp = str(int(time.time() * 1000))
    if signed_pairs is None:
        signed_pairs = flatten(body) if body is not None else \
            list((query or {}).items())
    headers = {
        "accessKey": access_key,
        "nonce": nonce,
        "timestamp": timestamp,
        "sign": signature(secret, canonical(signed_pairs, access_key, nonce,
                                            timestamp)),
    }
    if content_type is AUTO:
        content_type = JSON_TYPE if body is not None else None
    if content_type is not None:
        headers["Content-Type"] = content_type
    data = json.dumps(body, separators=(",", ":")).encode() \
        if body is not None else None
    url = sim.url(path, query)
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def quota_all(sim, sn, **kwargs):
    return call(sim, "GET", API + "device/quota/all", {"sn": sn}, **kwargs)


def quota(sim, sn, quotas):
    return call(sim, "POST", API + "device/quota",
                body={"sn": sn, "params": {"quotas": quotas}})


def quota_data(sim, sn, begin, end, code="JT303_Dashboard_Overview_Summary_Week"):
    return call(sim, "POST", API + "device/quota/data",
                body={"sn": sn, "params": {"code": code, "beginTime": begin,
                                           "endTime": end}})
