"""harness/pushrig.py: what the push-mode tests on a real broker share:
the account's certification, the broker's users and ACL (the account
reads its devices' topics, the simulator's publisher writes them), and
the simulator that publishes the PowerOcean and the PowerHeat there."""

import mqttharness
import simharness

T0 = 1718625600
ACCOUNT = "open-0123456789abcdef"
PASSWORD = "cert-pass-5e1f0a"
PUBLISHER = "sim-publisher"
PUBLISHER_PASSWORD = "pub-pass-c81d2b"
OCEAN = simharness.DEFAULT_DEVICES["powerocean"]
HEAT = simharness.DEFAULT_DEVICES["powerheat"]
SNS = [OCEAN, HEAT]


def broker_for():
    return mqttharness.Broker(users=[
        (ACCOUNT, PASSWORD, mqttharness.device_topics(ACCOUNT, SNS)),
        (PUBLISHER, PUBLISHER_PASSWORD,
         mqttharness.device_topics(ACCOUNT, SNS, access="write"))])


def sim_for(broker):
    return simharness.Sim(
        devices=[OCEAN + ":powerocean", HEAT + ":powerheat"], clock=T0,
        extra_args=broker.sim_options(ACCOUNT, PASSWORD, PUBLISHER,
                                      PUBLISHER_PASSWORD))


def client_id(suffix):
    return "%s-%s" % (ACCOUNT, suffix)
