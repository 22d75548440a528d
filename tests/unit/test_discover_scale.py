"""A device returned by discovery holds no socket until it is used (issue 11): hundreds of
devices fit under the common 1024 descriptor limit. On 127.0.0.1, with one fake device
serving many descriptions and a loopback "group" answering with all of their LOCATIONs."""

import os

import pytest
from fakes import FakeDevice, SSDPResponder, light_description, ssdp_answer

import upnpy
from upnpy import _ssdp

COUNT = 300


def description(n: int) -> bytes:
    return light_description(f"uuid:scale-{n}", f"light {n}", switch=False)


@pytest.fixture
def crowd(monkeypatch):
    fake = FakeDevice({f"/d{n}.xml": description(n) for n in range(COUNT)})
    answers = [
        ssdp_answer(f"{fake.url}/d{n}.xml", f"uuid:scale-{n}::upnp:rootdevice")
        for n in range(COUNT)
    ]
    answered = set()

    def once(sender):  # the whole crowd answers each search socket once
        if sender in answered:
            return []
        answered.add(sender)
        return answers

    responder = SSDPResponder(once)
    monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", responder.port))
    yield fake
    responder.close()
    fake.close()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd (Linux)")
def test_discovered_devices_hold_no_socket(crowd):
    before = open_descriptors()
    devices = upnpy.discover(timeout=1.5, interfaces=["127.0.0.1"])
    assert len(devices) == COUNT
    assert open_descriptors() <= before + 2  # not one per device
    for device in devices:
        device.close()
