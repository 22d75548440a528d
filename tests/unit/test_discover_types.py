"""discover(st=...) returns only devices that describe what was searched for.

miniupnpd describing InternetGatewayDevice:1 still answers a search for version 2 (the lab's
second gateway does). A device of a type answers searches for that type at its version or a
lower one; what it answers beyond that is left out, as the cache leaves it out. On loopback:
a responder on 127.0.0.1 answers every search, whatever its ST, for a fake BinaryLight:1.
"""

import logging

import pytest
from fakes import SWITCH, FakeDevice, SSDPResponder, light_description, ssdp_answer

import upnpy
from upnpy import _ssdp

UDN = "uuid:typed-light"
LIGHT = "urn:schemas-upnp-org:device:BinaryLight"


@pytest.fixture
def answering(monkeypatch):
    """A BinaryLight:1 answering any search (as its ST, whatever was asked)."""
    fake = FakeDevice({"/desc.xml": light_description(UDN)})
    location = fake.url + "/desc.xml"
    responder = SSDPResponder(lambda sender: [ssdp_answer(location, f"{UDN}::{LIGHT}:1")], 0.0)
    monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", responder.port))
    yield
    responder.close()
    fake.close()


def found(st):
    devices = upnpy.discover(st=st, timeout=0.6, interfaces=["127.0.0.1"])
    for device in devices:
        device.close()
    return [device.udn for device in devices]


@pytest.mark.parametrize(
    "st",
    [
        "ssdp:all",
        "upnp:rootdevice",
        UDN,
        f"{LIGHT}:1",
        SWITCH,
        "urn:schemas-upnp-org:service:SwitchPower:0",
    ],
)
def test_what_the_device_describes_is_found(answering, st):
    assert found(st) == [UDN]


@pytest.mark.parametrize(
    "st",
    [
        f"{LIGHT}:2",  # a higher version than it has
        "urn:schemas-upnp-org:device:DimmableLight:1",
        "urn:schemas-upnp-org:service:Dimming:1",
        "urn:schemas-upnp-org:service:SwitchPower:2",
        "uuid:another-device",
    ],
)
def test_an_answer_for_what_the_device_does_not_describe_is_left_out(answering, caplog, st):
    with caplog.at_level(logging.INFO, logger="upnpy"):
        assert found(st) == []
    assert f"it answered a search for {st}, but has none" in caplog.text
