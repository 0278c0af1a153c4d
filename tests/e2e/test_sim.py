#!/usr/bin/env python3
"""End-to-end test of ecoflow-sim through real signed HTTP requests.

The signature here is written afresh from signing.md with hmac and hashlib,
independently of the project's C code, so it cross-checks the simulator's
verification (which uses the core's sign.c). Prints one line per check and
ends with "N passed, M failed"; exits non-zero when anything failed.
"""

import base64
import concurrent.futures
import datetime
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback

# The source tree may be read-only (make distcheck): no bytecode cache.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simharness  # noqa: E402
from harness.signed import (API, JSON_TYPE, call, canonical,  # noqa: E402
                            flatten, quota, quota_all, quota_data,
                            signature)

OCEAN = simharness.DEFAULT_DEVICES["powerocean"]
HEAT = simharness.DEFAULT_DEVICES["powerheat"]
GLOW = simharness.DEFAULT_DEVICES["powerglow"]
PULSE = simharness.DEFAULT_DEVICES["powerpulse"]
# 2024-06-17 12:00:00 UTC: midday, PV producing.
T0 = 1718625600

# The reference's quota/data index names, in its order.
SUMMARY_INDEXES = ["pv_to_powerglow", "From Solar", "Self-sufficiency",
                   "pv_to_powerplus", "pv_to_heatpump", "pv_to_powerplus_pct",
                   "To Battery", "From Battery", "From Grid", "To Grid",
                   "To Home"]


def utc_text(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# -- a tiny runner -------------------------------------------------------------

RESULTS = {"passed": 0, "failed": 0}


def check(name, function, *args):
    try:
        function(*args)
    except Exception:  # noqa: BLE001 - every failure is reported and counted
        RESULTS["failed"] += 1
        print("FAIL - %s\n%s" % (name, traceback.format_exc()), flush=True)
    else:
        RESULTS["passed"] += 1
        print("ok - %s" % name, flush=True)


def expect(condition, message, *args):
    if not condition:
        raise AssertionError(message % args if args else message)


def expect_code(answer, code, message=None):
    expect(answer.status == 200, "HTTP %d, wanted 200: %r", answer.status,
           answer)
    expect(answer.code == code, "code %r, wanted %r: %r", answer.code, code,
           answer)
    if message is not None:
        expect(answer.json.get("message") == message, "message %r, wanted "
               "%r", answer.json.get("message"), message)


# -- checks against one simulator with the default fleet, clock frozen --------

def check_own_signer():
    """The test's signer reproduces the official vector, so a failure below
    is the simulator's, not the test's."""
    body = {"sn": "123456789", "params": {"cmdSet": 11, "id": 24, "eps": 0}}
    text = canonical(flatten(body), "Fp4SvIprYSDPXtYJidEtUAd1o", "345164",
                     "1671171709428")
    expect(signature("WIbFEKre0s6sLnh4ei7SPUeYnptHG6V", text) ==
           "07c13b65e037faf3b153d51613638fa80003c4c38d2407379a7f52851af1473e",
           "own signer is off: %s", text)


def check_envelope_and_headers(sim):
    answer = call(sim, "GET", API + "device/list")
    expect_code(answer, "0", "Success")
    expect(answer.headers.get("Content-Type", "").startswith(
        "application/json"), "Content-Type %r", answer.headers.get(
        "Content-Type"))
    expect(answer.json.get("eagleEyeTraceId") == "" and
           answer.json.get("tid") == "", "envelope extras: %r", answer)
    expect(answer.headers.get("x-timestamp") == str(T0 * 1000),
           "x-timestamp %r, wanted the frozen clock", answer.headers.get(
               "x-timestamp"))
    expect(answer.headers.get("Date") == "Mon, 17 Jun 2024 12:00:00 GMT",
           "Date %r", answer.headers.get("Date"))


def check_device_list(sim):
    answer = call(sim, "GET", API + "device/list")
    expect_code(answer, "0")
    devices = {d["sn"]: d for d in answer.data}
    expect(set(devices) == set(simharness.DEFAULT_DEVICES.values()),
           "device/list: %r", list(devices))
    for device in answer.data:
        expect(set(device) <= {"sn", "deviceName", "online", "productName"},
               "unexpected fields %r", device)
        expect(device["online"] == 1 and isinstance(device["deviceName"], str),
               "device %r", device)
    expect("productName" not in devices[GLOW], "productName is left out for "
           "some devices, as on the cloud: %r", devices[GLOW])
    expect(devices[OCEAN]["productName"] == "PowerOcean", "%r",
           devices[OCEAN])


def check_quota_all_shape(sim):
    answer = quota_all(sim, OCEAN)
    expect_code(answer, "0")
    data = answer.data
    expect(300 <= len(data) <= 350, "%d keys, wanted 300-350", len(data))
    expect(11000 <= len(answer.body) <= 16000, "%d bytes, wanted ~13 KB",
           len(answer.body))
    for key in ("sysGridPwr", "sysLoadPwr", "mpptPwr", "bpPwr", "bpSoc",
                "emsBpAliveNum", "pvInvPwr", "evPwr", "pcsAPhase.vol",
                "pcsCPhase.apparentPwr", "energy_stream.solarTotalEnergy",
                "ems_change_report.bpTotalChgEnergy",
                "pcs_change_report.gridFreq", "hpMaster.tempInlet",
                "sectorDhw.tempCurr", "ems_heating_rod.heatingPower",
                "ems_ev.chargingStatus", "ems_ev.evChargingEnergy",
                "20_1.invOutputWatts", "96_1.invTemp", "bp_addr.updateTime",
                "quota_cloud_ts"):
        expect(key in data, "%s missing", key)
    beat = data["mpptHeartBeat"]
    expect(isinstance(beat, list) and len(beat[0]["mpptPv"]) == 2 and
           set(beat[0]["mpptPv"][0]) == {"vol", "amp", "pwr"},
           "mpptHeartBeat %r", beat)
    packs = [k for k in data if k.startswith("bp_addr.") and
             k != "bp_addr.updateTime"]
    expect(len(packs) == 2, "packs %r", packs)
    for key in packs:
        expect(isinstance(data[key], str), "%s is JSON text in a string", key)
        pack = json.loads(data[key])
        for field in ("bpSoc", "bpSoh", "bpCycles", "bpVol", "bpAmp", "bpPwr",
                      "bpMaxCellTemp", "bpMinCellTemp"):
            expect(field in pack, "%s lacks %s", key, field)
    expect(isinstance(data["emsErrCode.errCode"], list), "errCode %r",
           data["emsErrCode.errCode"])
    expect(data["ems_change_report.emsWorkMode"] == "WORKMODE_SELFUSE",
           "work mode")
    expect(data["ems_ev.chargingStatus"].startswith("EV_CHG_STS_"), "status")
    kinds = {type(v) for v in data.values()}
    expect({bool, type(None), str, int, float, list} <= kinds,
           "value kinds %r", kinds)
    expect(len(base64.b64decode(data["ems_ev.errorCode"])) == 8, "base64")
    # Totals in Wh, one level flattened, nothing nested deeper.
    expect(not any(isinstance(v, dict) for v in data.values()),
           "quota/all is flat")
    expect(data["mpptPwr"] > 0, "PV produces at noon")


def check_sub_devices(sim):
    wanted = {
        HEAT: {"hpMaster.tempInlet", "hpMaster.tempOutlet",
               "hpMaster.tempAmbient", "sectorA.tempCurr", "sectorB.tempCurr",
               "sectorDhw.tempCurr", "emsErrCode.errCode"},
        GLOW: {"hrEnergyStream", "emsErrCode.errCode"},
        PULSE: {"evPwr", "chargingStatus", "errorCode"},
    }
    for sn, keys in wanted.items():
        answer = quota_all(sim, sn)
        expect_code(answer, "0")
        expect(keys <= set(answer.data), "%s: %r", sn, sorted(answer.data))
    expect(quota_all(sim, HEAT).data["emsErrCode.errCode"] == [601], "601")
    stream = quota_all(sim, GLOW).data["hrEnergyStream"]
    expect(set(stream[0]) == {"temp", "hrPwr"}, "hrEnergyStream %r", stream)


def check_quota_all_matches_control(sim):
    for sn in simharness.DEFAULT_DEVICES.values():
        answer = quota_all(sim, sn)
        expect(answer.data == sim.sim_quota(sn), "%s: /sim/quota differs", sn)


def check_wrong_secret(sim):
    before = sim.stats()["signature_failures"]
    answer = quota_all(sim, OCEAN, secret="not-the-secret")
    expect_code(answer, "8521", "signature is wrong")
    expect(answer.json == {"code": "8521", "message": "signature is wrong",
                           "eagleEyeTraceId": "", "tid": ""},
           "envelope %r", answer.json)
    expect(sim.stats()["signature_failures"] == before + 1, "not counted")
    log = sim.log()
    expect("sn=%s&accessKey=%s&nonce=" % (OCEAN, sim.access_key) in log,
           "the expected canonical string is not logged: %r", log[-500:])
    expect(sim.secret_key not in log, "the secret leaked into the log")


def check_get_with_json_type(sim):
    expect_code(quota_all(sim, OCEAN, content_type=JSON_TYPE), "8521",
                "signature is wrong")


def check_post_without_json_type(sim):
    """A client that signs its body but forgets the Content-Type is signing
    the wrong parameters."""
    answer = call(sim, "POST", API + "device/quota", content_type=None,
                  body={"sn": OCEAN, "params": {"quotas": ["bpSoc"]}})
    expect_code(answer, "8521")


def check_wrong_access_key(sim):
    expect_code(quota_all(sim, OCEAN, access_key="someoneElse"), "8513",
                "accessKey is invalid")


def check_wrong_method(sim):
    for method, path, body in (("POST", "device/quota/all", {"sn": OCEAN}),
                               ("GET", "device/quota", None),
                               ("DELETE", "device/list", None)):
        answer = call(sim, method, API + path,
                      query={"sn": OCEAN} if body is None else None, body=body)
        expect(answer.status == 405, "%s %s: %r", method, path, answer)
        expect(answer.json == {"code": "405", "message": "Method Not Allowed"},
               "%s %s: %r", method, path, answer)


def check_unknown_sn(sim):
    expect_code(quota_all(sim, "HJ31NOTMINE00001"), "8512",
                "no permission to do it")
    expect_code(quota(sim, "HJ31NOTMINE00001", ["bpSoc"]), "8512")
    answer = call(sim, "GET", API + "device/quota/all")
    expect_code(answer, "1008")


def check_unknown_path(sim):
    expect(call(sim, "GET", API + "device/nothing").status == 404, "API path")
    expect(call(sim, "GET", "/").status == 404, "root")


def check_quota_nested(sim):
    groups = ["pcsAPhase", "pcsBPhase", "hpMaster", "sectorA", "sectorDhw",
              "energy_stream", "emsErrCode", "mpptHeartBeat", "bpSoc",
              "sysGridPwr", "bp_addr", "nonexistent"]
    answer = quota(sim, OCEAN, groups)
    expect_code(answer, "0", "Success")
    flat = quota_all(sim, OCEAN).data
    nested = answer.data
    expect(set(nested) == set(groups) - {"nonexistent"}, "groups %r",
           sorted(nested))
    expect(set(nested["pcsAPhase"]) == {"vol", "amp", "actPwr", "reactPwr",
                                        "apparentPwr"}, "pcsAPhase %r",
           nested["pcsAPhase"])
    for group, value in nested.items():
        if isinstance(value, dict):
            for key, item in value.items():
                expect(flat[group + "." + key] == item, "%s.%s: %r vs %r",
                       group, key, item, flat[group + "." + key])
        else:
            expect(flat[group] == value, "%s: %r vs %r", group, value,
                   flat[group])
    expect(nested["emsErrCode"]["errCode"] == flat["emsErrCode.errCode"],
           "errCode")
    expect_code(call(sim, "POST", API + "device/quota",
                     body={"sn": OCEAN, "params": {}}), "1008")


def check_quota_data(sim):
    begin, end = "2024-06-10 00:00:00", "2024-06-16 23:59:59"
    answer = quota_data(sim, OCEAN, begin, end)
    expect_code(answer, "0", "Success")
    inner = answer.data
    expect(inner["code"] == "0" and inner["message"] == "Success" and
           "eagleEyeTraceId" in inner, "inner envelope %r", inner)
    expect([i["indexName"] for i in inner["data"]] == SUMMARY_INDEXES,
           "index names %r", inner["data"])
    for index in inner["data"]:
        expect(set(index) == {"indexName", "indexValue", "unit"} and
               isinstance(index["indexValue"], (int, float)), "%r", index)
    again = quota_data(sim, OCEAN, begin, end)
    expect(again.data == inner, "not deterministic")
    other = quota_data(sim, HEAT, begin, end)
    expect(other.data != inner, "the same for two devices")
    # "From Solar" is the growth of the device's own solar total.
    begin_t = int(datetime.datetime(2024, 6, 10, tzinfo=datetime.timezone.utc)
                  .timestamp())
    end_t = begin_t + 7 * 86400 - 1
    try:
        sim.set_clock(at=begin_t)
        first = sim.sim_quota(OCEAN)["energy_stream.solarTotalEnergy"]
        sim.set_clock(at=end_t)
        last = sim.sim_quota(OCEAN)["energy_stream.solarTotalEnergy"]
    finally:
        sim.set_clock(at=T0)
    solar = {i["indexName"]: i["indexValue"] for i in inner["data"]}
    expect(abs(solar["From Solar"] - (last - first) / 1000) <= 0.011,
           "From Solar %r vs totals %r", solar["From Solar"],
           (last - first) / 1000)


def check_quota_data_refusals(sim):
    week = quota_data(sim, OCEAN, "2024-06-10 00:00:00", "2024-06-17 00:00:00")
    expect(week.status == 200 and week.code not in (None, "0") and
           week.json["message"] == "time must be less than one week",
           "a 7-day window: %r", week)
    expect_code(quota_data(sim, OCEAN, "2024-06-10", "2024-06-11"), "1008")
    expect_code(quota_data(sim, OCEAN, "2024-06-11 00:00:00",
                           "2024-06-10 00:00:00"), "1008")
    expect_code(quota_data(sim, OCEAN, "2024-06-10 00:00:00",
                           "2024-06-11 00:00:00", code=""), "1008")


def check_certification(sim):
    answer = call(sim, "GET", API + "certification")
    expect_code(answer, "0")
    data = answer.data
    expect(data["certificateAccount"].startswith("open-"), "account %r", data)
    expect(data["port"] == "8883" and data["protocol"] == "mqtts" and
           data["url"] == "127.0.0.1" and data["certificatePassword"],
           "certification %r", data)


def check_stats(sim):
    sim.reset_stats()
    quota_all(sim, OCEAN)
    quota_all(sim, OCEAN)
    quota_all(sim, "HJ31NOTMINE00001")
    call(sim, "GET", API + "device/list")
    # The simulator counts a request done once its answer went out, which
    # may be just after the client has it.
    stats = sim.stats()
    deadline = time.monotonic() + 5
    while stats["in_flight"] != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = sim.stats()
    expect(stats["requests"] == 4, "requests %r", stats)
    expect(stats["endpoints"]["device/quota/all"] == 3 and
           stats["endpoints"]["device/list"] == 1, "endpoints %r", stats)
    expect(stats["devices"] == {OCEAN: 2} and stats["unknown_sn"] == 1,
           "per sn %r", stats)
    expect(stats["in_flight"] == 0 and stats["max_in_flight"] >= 1,
           "in flight %r", stats)


def check_values_move(sim):
    try:
        before = sim.sim_quota(OCEAN)
        sim.set_clock(advance=3600)
        after = sim.sim_quota(OCEAN)
    finally:
        sim.set_clock(at=T0)
    for total in ("energy_stream.solarTotalEnergy",
                  "energy_stream.loadTotalEnergy",
                  "ems_change_report.bpTotalChgEnergy"):
        expect(after[total] > before[total], "%s did not grow", total)
    expect(after["quota_cloud_ts"] == utc_text(T0 + 3600), "cloud ts %r",
           after["quota_cloud_ts"])
    expect(after["bpSoc"] != before["bpSoc"] or
           after["mpptPwr"] != before["mpptPwr"], "nothing moved")


def check_day_curve_and_sentinel(sim):
    ambient, pv_at_night, soc = [], [], []
    try:
        for quarter in range(96):
            sim.set_clock(at=T0 - 12 * 3600 + quarter * 900)
            ambient.append(sim.sim_quota(HEAT)["hpMaster.tempAmbient"])
            ocean = sim.sim_quota(OCEAN)
            soc.append(ocean["bpSoc"])
            if quarter < 16 or quarter > 88:
                pv_at_night.append(ocean["mpptPwr"])
    finally:
        sim.set_clock(at=T0)
    expect(-3270 in ambient, "tempAmbient never says 'no reading'")
    expect(any(-30 < a < 45 for a in ambient), "tempAmbient never reads")
    expect(set(pv_at_night) == {0}, "PV at night %r", pv_at_night)
    expect(min(soc) < 30 and max(soc) > 80, "SoC swing %r", soc)


# -- the data of issue 14 ---------------------------------------------------

ENERGY_COUNTERS = ["energy_stream." + name for name in (
    "solarTotalEnergy", "gridInTotalEnergy", "gridOutTotalEnergy",
    "homeTotalEnergy", "bpChgTotalEnergy", "bpDsgTotalEnergy")]


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def packs_of(data):
    return {key[len("bp_addr."):]: json.loads(value)
            for key, value in data.items()
            if key.startswith("bp_addr.") and key != "bp_addr.updateTime"}


def check_pack_lists(sim):
    packs = packs_of(quota_all(sim, OCEAN).data)
    expect(len(packs) == 2, "packs %r", list(packs))
    for sn, pack in packs.items():
        cells, temps = pack["bpCellVol"], pack["bpTemp"]
        expect(len(cells) == 16 and all(map(is_number, cells)),
               "%s bpCellVol %r", sn, cells)
        expect(len(temps) == 8 and all(map(is_number, temps)),
               "%s bpTemp %r", sn, temps)
        expect(min(cells) == pack["bpCellMinVol"] and
               max(cells) == pack["bpCellMaxVol"],
               "%s cells %r vs min/max %r/%r", sn, cells,
               pack["bpCellMinVol"], pack["bpCellMaxVol"])
        expect(min(temps) == pack["bpMinCellTemp"] and
               max(temps) == pack["bpMaxCellTemp"],
               "%s temperatures %r vs %r/%r", sn, temps,
               pack["bpMinCellTemp"], pack["bpMaxCellTemp"])
        for key in ("bpRemainWatth", "bpEnvTemp", "bpCycles", "bpMaxMosTemp",
                    "bpMinMosTemp", "bpHvMosTemp", "bpLvMosTemp", "bpBusVol",
                    "bpRealSoh", "bpAccuChgEnergy", "bpAccuDsgEnergy",
                    "bpAccuChgCap", "bpAccuDsgCap"):
            expect(is_number(pack.get(key)), "%s %s %r", sn, key,
                   pack.get(key))
        expect(pack["bpSn"] == sn, "bpSn %r in pack %s", pack["bpSn"], sn)
        expect(abs(pack["bpRemainWatth"] - 5120 * pack["bpRealSoc"] / 100)
               < 60, "%s remaining energy %r at %r %%", sn,
               pack["bpRemainWatth"], pack["bpRealSoc"])


def check_energy_counters(sim):
    """The lifetime counters only grow over a day, each grows at some time,
    and the battery's follow its power."""
    series = []
    try:
        for quarter in range(97):
            sim.set_clock(at=T0 - 12 * 3600 + quarter * 900)
            series.append(sim.sim_quota(OCEAN))
        sim.set_clock(at=T0)
        noon = sim.sim_quota(OCEAN)
        sim.set_clock(at=T0 + 600)
        later = sim.sim_quota(OCEAN)
    finally:
        sim.set_clock(at=T0)
    for counter in ENERGY_COUNTERS:
        values = [data[counter] for data in series]
        expect(all(map(is_number, values)), "%s %r", counter, values[:3])
        expect(all(b >= a for a, b in zip(values, values[1:])),
               "%s steps back: %r", counter, values)
        expect(values[-1] > values[0], "%s never grows: %r", counter,
               values[:3])
    # Charging at noon: 10 minutes of bpPwr (W) is what the counter gained.
    charged = later["energy_stream.bpChgTotalEnergy"] - \
        noon["energy_stream.bpChgTotalEnergy"]
    power = (noon["bpPwr"] + later["bpPwr"]) / 2
    expect(power > 0 and abs(charged - power / 6) <= 0.03 * power / 6 + 1,
           "charged %r Wh in 10 min at %r W", charged, power)
    expect(later["energy_stream.bpDsgTotalEnergy"] ==
           noon["energy_stream.bpDsgTotalEnergy"],
           "discharged while charging")


def check_counterback(sim):
    path = "energy_stream.gridInTotalEnergy"
    normal = sim.sim_quota(OCEAN)[path]
    clear = with_fault(sim, "counterback:%s:5" % path)
    try:
        peeked = [sim.sim_quota(OCEAN)[path] for _ in range(2)]
        other = quota(sim, OCEAN, ["bpSoc"])
        nested = quota(sim, OCEAN, ["energy_stream"]).data
        after = [quota_all(sim, OCEAN).data[path] for _ in range(2)]
    finally:
        clear()
    expect(peeked == [normal - 5] * 2, "/sim/quota shows the glitch without "
           "using it up: %r vs %r", peeked, normal)
    expect_code(other, "0")
    expect(nested["energy_stream"]["gridInTotalEnergy"] == normal - 5,
           "POST quota: %r", nested)
    expect(after == [normal, normal], "the glitch lasted: %r", after)
    clear = with_fault(sim, "counterback:%s:5:2" % path)
    try:
        twice = [quota_all(sim, OCEAN).data[path] for _ in range(3)]
    finally:
        clear()
    expect(twice == [normal - 5, normal - 5, normal], "2 answers: %r", twice)
    expect_refused(sim, "counterback:%s" % path, "counterback:%s:0" % path,
                   "counterback:%s:5:0" % path, "counterback::5",
                   "counterback:%s:x" % path)


def expect_refused(sim, *specs):
    """The simulator refuses each fault spec."""
    for spec in specs:
        try:
            sim.set_fault(OCEAN, spec)
        except simharness.SimError:
            continue
        raise AssertionError("fault %s accepted" % spec)


def check_set_values(sim):
    """set:ANSWERS:JSON gives quotas the values asked for (of any JSON
    type, a pack's member inside its JSON text, a key the answer lacks),
    for that many answers; /sim/quota shows them without using them up."""
    path = "energy_stream.solarTotalEnergy"
    normal = sim.sim_quota(OCEAN)
    pack = next(k for k in normal if k.startswith("bp_addr.HJ"))
    values = {path: 9e9, "96_1.fanLevel": "2", pack + ".bpRealSoh": 4294967295,
              "ems_change_report.emsKeepSoc": 4294967295,
              "ems_change_report.emsSgReadyEn": 0}
    clear = with_fault(sim, "set:2:" + json.dumps(values))
    try:
        peeked = sim.sim_quota(OCEAN)
        answers = [quota_all(sim, OCEAN).data for _ in range(3)]
    finally:
        clear()
    expect(peeked[path] == 9e9 and peeked["96_1.fanLevel"] == "2" and
           json.loads(peeked[pack])["bpRealSoh"] == 4294967295 and
           json.loads(peeked[pack])["bpSoc"] == json.loads(normal[pack])[
               "bpSoc"] and peeked["ems_change_report.emsKeepSoc"] ==
           4294967295 and peeked["ems_change_report.emsSgReadyEn"] == 0,
           "set: %r", {k: peeked.get(k) for k in values})
    expect([a[path] for a in answers][:2] == [9e9, 9e9] and
           answers[2][path] != 9e9 and
           "ems_change_report.emsKeepSoc" not in answers[2],
           "set lasts 2 answers: %r", [a[path] for a in answers])
    expect_refused(sim, "set:0:{}", "set:1:[1]", "set:x:{}", "set:{}")


def check_fault_on_the_list(sim):
    """sn "list": a fault of device/list alone; the devices answer."""
    listing, device = list_and_device_under(sim, "list", "http500")
    expect(listing.status == 500, "list fault: %r", listing)
    expect_code(device, "0")
    expect_code(call(sim, "GET", API + "device/list"), "0")


def check_unknown_family():
    """The fifth family: numeric lists, lists of lists and numeric group
    prefixes, only when asked for."""
    with simharness.Sim(devices=["DP1:deltapro", OCEAN + ":powerocean"],
                        clock=T0) as sim:
        listing = call(sim, "GET", API + "device/list").data
        data = quota_all(sim, "DP1").data
    expect([d.get("productName") for d in listing] ==
           ["DELTA Pro", "PowerOcean"], "device/list %r", listing)
    for key, length in (("bmsMaster.cellVol", 16), ("bmsMaster.cellTemp", 8),
                        ("bms_bmsStatus.cellVol", 16), ("selfCheck.vIn", 2),
                        ("loadChCurInfo.cur", 12)):
        expect(len(data[key]) == length and all(map(is_number, data[key])),
               "%s %r", key, data.get(key))
    watth = data["mainsLoadWatt.watth"]
    expect(len(watth) == 12 and all(
        len(row) == 3 and all(map(is_number, row)) for row in watth),
        "mainsLoadWatt.watth %r", watth)
    expect(min(data["bmsMaster.cellVol"]) == data["bmsMaster.minCellVol"],
           "cell minimum")
    expect(is_number(data["20_1.invOutputWatts"]) and
           data["heartbeat.errorCodes"] == [] and
           all(isinstance(b, bool) for b in data["chUseInfo.isEnable"]),
           "other shapes %r", data)


# -- faults --------------------------------------------------------------------

def raw_get(sim, sn, timeout=10):
    """A signed quota/all returning (status, headers, raw body)."""
    answer = quota_all(sim, sn, timeout=timeout)
    return answer.status, answer.headers, answer.body


def with_fault(sim, spec, sn=OCEAN):
    sim.set_fault(sn, spec)
    return lambda: sim.clear_fault(sn)


def check_fault_http(sim):
    for spec, status in (("http500", 500), ("http405", 405), ("http429:7", 429)):
        clear = with_fault(sim, spec)
        try:
            answer = quota_all(sim, OCEAN)
        finally:
            clear()
        expect(answer.status == status, "%s: %r", spec, answer)
        if status == 429:
            expect(answer.headers.get("Retry-After") == "7", "Retry-After %r",
                   answer.headers.get("Retry-After"))
        if status == 405:
            expect(answer.json == {"code": "405",
                                   "message": "Method Not Allowed"}, "%r",
                   answer)
    expect_code(quota_all(sim, OCEAN), "0")


def held_open(sim, count, timeout=10):
    """Whether the simulator comes to hold count requests open."""
    deadline = time.monotonic() + timeout
    while sim.stats()["in_flight"] < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def meanwhile(sim, request):
    """request() in a thread and, once the simulator holds it open, another
    device's quota/all. Returns (request's answer, or the error it raised;
    the seconds it took; the other answer; whether that one came while
    request still waited)."""
    outcome = {}

    def first():
        started = time.monotonic()
        try:
            outcome["result"] = request()
        except Exception as error:  # noqa: BLE001 - a timeout, expected
            outcome["result"] = error
        outcome["elapsed"] = time.monotonic() - started

    waiter = threading.Thread(target=first)
    waiter.start()
    waiting = held_open(sim, 1)
    other = quota_all(sim, HEAT)
    still_waiting = waiter.is_alive()
    waiter.join()
    return (outcome["result"], outcome["elapsed"], other,
            waiting and still_waiting)


def check_fault_delay(sim):
    """A delayed answer comes after its delay, and holds up no other
    device: the other's answer comes while it still waits."""
    clear = with_fault(sim, "delay:1000")
    try:
        answer, elapsed, other, not_held_up = meanwhile(
            sim, lambda: quota_all(sim, OCEAN))
    finally:
        clear()
    expect_code(answer, "0")
    expect(elapsed >= 1.0, "answered after %.3f s", elapsed)
    expect_code(other, "0")
    expect(not_held_up, "another device's answer waited for the delayed one")


def check_fault_stall(sim):
    clear = with_fault(sim, "stall")
    try:
        error, elapsed, other, not_held_up = meanwhile(
            sim, lambda: quota_all(sim, OCEAN, timeout=1.5))
    finally:
        clear()
    expect_code(other, "0")
    expect(not_held_up, "a stalled answer held up another request until it "
           "gave up")
    expect(isinstance(error, Exception) and elapsed >= 1.4,
           "the stalled request ended: %r after %.3f s", error, elapsed)
    # Once the client has given up, the simulator lets go of it too.
    deadline = time.monotonic() + 3
    while sim.stats()["in_flight"] != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    expect(sim.stats()["in_flight"] == 0, "the stalled request stays open")


def check_fault_bodies(sim):
    normal = quota_all(sim, OCEAN).body
    clear = with_fault(sim, "truncated")
    try:
        status, _, body = raw_get(sim, OCEAN)
    finally:
        clear()
    expect(status == 200 and 0 < len(body) < len(normal), "truncated %d",
           len(body))
    try:
        json.loads(body)
        raise AssertionError("a truncated body parsed")
    except ValueError:
        pass

    clear = with_fault(sim, "notjson")
    try:
        status, headers, body = raw_get(sim, OCEAN)
    finally:
        clear()
    expect(status == 200 and headers.get("Content-Type", "").startswith(
        "text/html") and body.lstrip().startswith(b"<"), "notjson %r", body)

    clear = with_fault(sim, "malformed")
    try:
        answer = quota_all(sim, OCEAN)
    finally:
        clear()
    expect(answer.code == "0" and isinstance(answer.data, str),
           "malformed %r", answer)

    clear = with_fault(sim, "huge:2000000")
    try:
        status, _, body = raw_get(sim, OCEAN, timeout=30)
    finally:
        clear()
    expect(status == 200 and len(body) == 2000000, "huge: %d bytes",
           len(body))
    expect(json.loads(body)["code"] == "0", "huge is a valid envelope")


def check_fault_api_codes(sim):
    clear = with_fault(sim, "api:8512:no permission to do it")
    try:
        answer = quota_all(sim, OCEAN)
    finally:
        clear()
    expect_code(answer, "8512", "no permission to do it")
    expect("data" not in answer.json, "an error has no data: %r", answer)
    clear = with_fault(sim, "1006")
    try:
        answer = quota(sim, OCEAN, ["bpSoc"])
    finally:
        clear()
    expect_code(answer, "1006",
                "current device is not allowed to get device info")


def check_fault_offline(sim):
    clear = with_fault(sim, "offline")
    try:
        listed = {d["sn"]: d["online"] for d in
                  call(sim, "GET", API + "device/list").data}
        frozen = quota_all(sim, OCEAN).data
        sim.set_clock(advance=3600)
        later = quota_all(sim, OCEAN)
        other_moved = sim.sim_quota(HEAT)["quota_cloud_ts"]
    finally:
        clear()
        sim.set_clock(at=T0)
    expect(listed[OCEAN] == 0 and listed[HEAT] == 1, "online %r", listed)
    expect_code(later, "0")
    expect(later.data == frozen, "an offline device's values moved")
    expect(frozen["quota_cloud_ts"] == utc_text(T0), "frozen at %r",
           frozen["quota_cloud_ts"])
    expect(other_moved == utc_text(T0 + 3600), "online devices go on")


def list_and_device_under(sim, sn, spec):
    """device/list's and a device's answers while sn has the fault."""
    clear = with_fault(sim, spec, sn=sn)
    try:
        return call(sim, "GET", API + "device/list"), quota_all(sim, OCEAN)
    finally:
        clear()


def check_fault_account_wide(sim):
    listing, device = list_and_device_under(sim, "*", "http500")
    expect(listing.status == 500 and device.status == 500,
           "account-wide fault: %r %r", listing, device)
    expect_code(call(sim, "GET", API + "device/list"), "0")


def check_fault_listed(sim):
    """listed:JSON puts any text into the device's device/list entry
    (control characters, a NUL byte), and leaves its polls alone; a Retry-
    After far beyond reason can be asked for."""
    hostile = {"deviceName": "Roof\nE! ecoflow: forged",
               "productName": "\u001b[31mPowerOcean\r", "sn": "HJ31\u0000X"}
    clear = with_fault(sim, "listed:" + json.dumps(hostile))
    try:
        listing = call(sim, "GET", API + "device/list")
        device = quota_all(sim, OCEAN)
    finally:
        clear()
    entries = listing.json["data"]
    changed = [e for e in entries if e.get("deviceName") ==
               hostile["deviceName"]]
    expect(len(changed) == 1 and changed[0]["sn"] == hostile["sn"] and
           changed[0]["productName"] == hostile["productName"] and
           changed[0]["online"] == 1, "listed: %r", entries)
    expect_code(device, "0")
    expect(not any(e.get("deviceName") == hostile["deviceName"] for e in
                   call(sim, "GET", API + "device/list").json["data"]),
           "listed: not cleared")
    clear = with_fault(sim, "http429:100000000")
    try:
        answer = quota_all(sim, OCEAN)
    finally:
        clear()
    expect(answer.headers.get("Retry-After") == "100000000",
           "Retry-After %r", answer.headers.get("Retry-After"))


def check_fault_refusals(sim):
    for sn, spec in ((OCEAN, "bogus"), (OCEAN, "http429:x"),
                     (OCEAN, "listed:[1]"), (OCEAN, "listed:{"),
                     (OCEAN, "api:8512"), (OCEAN, "stall:3"),
                     ("HJ31NOTMINE00001", "http500")):
        try:
            sim.set_fault(sn, spec)
        except simharness.SimError:
            continue
        raise AssertionError("fault %s:%s accepted" % (sn, spec))
    expect(sim.stats()["faults_injected"] >= 10, "faults not counted")


# -- other simulators ------------------------------------------------------------

def check_concurrency_and_latency():
    """--latency-ms delays every answer without serialising them, and
    max_in_flight sees all requests that waited together (sent within the
    latency: 2 s, room for a busy machine)."""
    with simharness.Sim(generated=64, latency_ms=2000) as sim:
        sns = ["SIM%06d" % i for i in range(16)]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(sns)) as pool:
            answers = list(pool.map(lambda sn: quota_all(sim, sn), sns))
        elapsed = time.monotonic() - started
        stats = sim.stats()
    expect(all(a.code == "0" for a in answers), "answers %r", answers)
    # One after the other they would take 32 s.
    expect(2.0 <= elapsed < 6.0, "16 requests at 2 s took %.2f s", elapsed)
    expect(stats["max_in_flight"] == 16, "max in flight %r", stats)
    expect(sim.returncode == 0, "exit status %r", sim.returncode)


def check_generated_fleet_and_start_faults():
    with simharness.Sim(generated=60, keys_file=True,
                        faults=["SIM000001:offline", "SIM000002:1006"],
                        mqtt_host="broker.test", mqtt_port=18883) as sim:
        listing = call(sim, "GET", API + "device/list").data
        second = quota_all(sim, "SIM000002")
        certification = call(sim, "GET", API + "certification").data
    expect([d["sn"] for d in listing] == ["SIM%06d" % i for i in range(60)],
           "generated serials %r", [d["sn"] for d in listing][:3])
    expect(listing[1]["online"] == 0 and listing[0]["online"] == 1,
           "--fault offline at start")
    expect(sum("productName" not in d for d in listing) == 1,
           "one generated device in 50 has no productName")
    expect_code(second, "1006")
    expect(certification["url"] == "broker.test" and
           certification["port"] == "18883", "%r", certification)
    expect(sim.returncode == 0, "exit status %r", sim.returncode)


def run_sim_binary(args, env_keys=True):
    env = dict(os.environ)
    env.pop("ECOFLOW_ACCESS_KEY", None)
    env.pop("ECOFLOW_SECRET_KEY", None)
    if env_keys:
        env["ECOFLOW_ACCESS_KEY"] = "ak"
        env["ECOFLOW_SECRET_KEY"] = "sk"
    return subprocess.run([simharness.sim_binary()] + args, env=env,
                          capture_output=True, text=True, timeout=20)


def check_command_line_errors():
    for args, env_keys, says in (
            (["--device", "SN1:toaster"], True, "unknown family"),
            (["--device", "SN1"], True, "SN:FAMILY"),
            (["--device", "A:powerocean", "--device", "A:powerheat"], True,
             "twice"),
            (["--fault", "NOPE:http500"], True, "unknown device"),
            (["--fault", "HJ31SIMOCEAN0001:weird"], True, "unknown fault"),
            (["--port", "70000"], True, "--port"),
            (["--secret-key", "x"], True, "bad option"),
            ([], False, "no access_key and secret_key")):
        result = run_sim_binary(args, env_keys)
        expect(result.returncode == 2 and says in result.stderr,
               "%r: exit %d, %r", args, result.returncode, result.stderr)
    help_text = run_sim_binary(["--help"]).stdout
    expect("--latency-ms" in help_text and "powerglow" in help_text, "help")


def check_clean_stop_under_valgrind():
    """Shutdown with requests waiting and a stalled answer open is clean:
    exit 0 and no leaks or memory errors under valgrind."""
    if os.environ.get("EF_NO_VALGRIND") == "1" or not shutil.which("valgrind"):
        print("# valgrind not used (not installed or EF_NO_VALGRIND=1)")
        return
    wrapper = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
               "--errors-for-leak-kinds=definite,indirect",
               "--show-leak-kinds=definite,indirect"]
    with simharness.Sim(wrapper=wrapper, latency_ms=100, clock=T0,
                        faults=[OCEAN + ":stall", HEAT + ":delay:5000"]) as sim:
        expect_code(quota(sim, PULSE, ["evPwr"]), "0")
        expect_code(quota_data(sim, PULSE, "2024-06-10 00:00:00",
                               "2024-06-11 00:00:00"), "0")
        expect_code(call(sim, "GET", API + "device/list"), "0")
        expect(quota_all(sim, OCEAN, secret="wrong").code == "8521", "8521")
        waiting = [threading.Thread(target=lambda sn=sn: _ignore_errors(
            quota_all, sim, sn, timeout=30)) for sn in (OCEAN, HEAT)]
        for thread in waiting:
            thread.start()
        deadline = time.monotonic() + 10
        while sim.stats()["in_flight"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        returncode = sim.stop()
        for thread in waiting:
            thread.join()
    expect(returncode == 0, "exit status %r under valgrind:\n%s", returncode,
           sim.log())


def _ignore_errors(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the simulator is stopping under it
        pass


# Checks against one simulator with the default fleet and the clock frozen
# at T0, in this order.
DEFAULT_SIM_CHECKS = (
    ("envelope and headers", check_envelope_and_headers),
    ("device/list shape", check_device_list),
    ("good signature: quota/all shape", check_quota_all_shape),
    ("sub-devices carry their family's quotas", check_sub_devices),
    ("quota/all equals /sim/quota", check_quota_all_matches_control),
    ("wrong secret: 8521, logged", check_wrong_secret),
    ("GET with JSON Content-Type: 8521", check_get_with_json_type),
    ("POST without JSON Content-Type: 8521",
     check_post_without_json_type),
    ("wrong accessKey: 8513", check_wrong_access_key),
    ("wrong method: 405", check_wrong_method),
    ("unknown sn: 8512, missing sn: 1008", check_unknown_sn),
    ("unknown path: 404", check_unknown_path),
    ("quota nested matches quota/all flat", check_quota_nested),
    ("quota/data", check_quota_data),
    ("quota/data refusals", check_quota_data_refusals),
    ("certification", check_certification),
    ("stats", check_stats),
    ("values move with the clock", check_values_move),
    ("day curve, SoC swing, no-reading sentinel",
     check_day_curve_and_sentinel),
    ("fault http500/http405/http429", check_fault_http),
    ("fault delay", check_fault_delay),
    ("fault stall", check_fault_stall),
    ("fault truncated/notjson/malformed/huge", check_fault_bodies),
    ("fault api and 1006", check_fault_api_codes),
    ("fault offline", check_fault_offline),
    ("fault account-wide", check_fault_account_wide),
    ("fault listed: any text in device/list", check_fault_listed),
    ("fault set: quotas take given values", check_set_values),
    ("fault on device/list alone", check_fault_on_the_list),
    ("fault refusals", check_fault_refusals),
    ("packs: cell lists are numbers within the pack's extremes",
     check_pack_lists),
    ("energy counters grow with the clock and follow the powers",
     check_energy_counters),
    ("fault counterback steps a counter back for its answers",
     check_counterback),
)


def main():
    check("the test's own signer matches the official vector",
          check_own_signer)
    sim = simharness.Sim(clock=T0)
    check("simulator starts", sim.start)
    if sim.port is not None:
        with sim:
            for name, function in DEFAULT_SIM_CHECKS:
                check(name, function, sim)
        check("simulator stopped cleanly", lambda: expect(
            sim.returncode == 0, "exit status %r:\n%s", sim.returncode,
            sim.log()))
    check("latency and concurrency", check_concurrency_and_latency)
    check("generated fleet, keys file, faults at start",
          check_generated_fleet_and_start_faults)
    check("a fifth family by --device only", check_unknown_family)
    check("command-line errors", check_command_line_errors)
    check("clean stop under valgrind", check_clean_stop_under_valgrind)
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
