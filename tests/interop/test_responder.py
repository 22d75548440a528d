"""lab/responder.py, the lab's emulated devices: SSDP answers, NOTIFY, description and SOAP.

The DeviceTracker's tests rely on it; these check, from the client namespace, that it behaves
as its docstring says: with upnpy where upnpy is a plain client (search, Device), with raw
sockets for what upnpy does not do (listening to NOTIFY, a unicast M-SEARCH).
"""

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from labtools import GroupListener, emulated_udn, raw_msearch

import upnpy

GROUP = "239.255.255.250"
LIGHT = "urn:schemas-upnp-org:device:BinaryLight:1"
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
DEVICE_NS = "{urn:schemas-upnp-org:device-1-0}"


@pytest.fixture
def listener(lab):
    listening = GroupListener(lab)
    yield listening
    listening.close()


def test_udn_and_location_come_from_the_address(lab):
    with lab.responder(port=8301) as emu:
        assert emu.addresses == [lab.emu_ip]
        assert emu.udn == emulated_udn(lab.emu_ip)
        assert emu.udn == "uuid:00000000-0000-4000-8000-00000a4d0006"  # 10.77.0.6
        assert emu.location == f"http://{lab.emu_ip}:8301/desc.xml"
        assert emu.running and emu.pid > 0


def test_upnpy_search_finds_it_with_every_header(lab):
    with lab.responder(max_age=3, bootid=7, configid=9) as emu:
        found = [r for r in upnpy.search(st=LIGHT, timeout=2) if r.location == emu.location]
    assert len(found) == 1, found
    response = found[0]
    assert response.address[0] == lab.emu_ip  # answered from the device's own address
    assert response.st == LIGHT
    assert response.usn == f"{emu.udn}::{LIGHT}"
    assert response.max_age == 3
    assert (response.bootid, response.configid) == (7, 9)
    assert "upnpy-lab-responder" in response.server
    assert "ext" in response.headers


@pytest.mark.parametrize(
    "st, usn_suffix",
    [
        ("upnp:rootdevice", "::upnp:rootdevice"),
        ("uuid", ""),
        (LIGHT, f"::{LIGHT}"),
        (SWITCH, f"::{SWITCH}"),
    ],
)
def test_it_answers_each_search_target(lab, st, usn_suffix):
    with lab.responder() as emu:
        st = emu.udn if st == "uuid" else st
        answers = [h for sender, h in raw_msearch(st) if sender == lab.emu_ip]
    assert [h["USN"] for h in answers] == [emu.udn + usn_suffix]
    assert answers[0]["ST"] == st
    assert answers[0]["LOCATION"] == emu.location


def test_ssdp_all_gets_one_answer_per_announcement_and_others_none(lab):
    with lab.responder() as emu:
        everything = [h["ST"] for sender, h in raw_msearch("ssdp:all") if sender == lab.emu_ip]
        others = [h for sender, h in raw_msearch("urn:schemas-upnp-org:device:MediaServer:1")]
    assert sorted(everything) == sorted(["upnp:rootdevice", emu.udn, LIGHT, SWITCH])
    assert all(h["LOCATION"] != emu.location for h in others)


def test_it_serves_its_description_and_answers_getstatus(lab):
    with lab.responder(name_prefix="upnpy emu test") as emu:
        with urllib.request.urlopen(emu.location, timeout=5) as reply:
            root = ET.fromstring(reply.read())
        device = root.find(f"{DEVICE_NS}device")
        assert device.findtext(f"{DEVICE_NS}UDN") == emu.udn
        assert device.findtext(f"{DEVICE_NS}friendlyName") == f"upnpy emu test {lab.emu_ip}"
        with upnpy.Device(emu.location) as light:
            assert light.udn == emu.udn
            assert light.device_type == LIGHT
            assert light.SwitchPower.GetStatus() == {"ResultStatus": False}
            light.SwitchPower.SetTarget(newTargetValue=True)
            assert light.SwitchPower.GetStatus() == {"ResultStatus": True}
        assert invalid_action_fault(emu.location) == (500, "401")


def invalid_action_fault(location: str) -> tuple:
    """HTTP status and UPnP errorCode for an action the SCPD does not list, sent raw."""
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:Explode xmlns:u="{SWITCH}"/></s:Body></s:Envelope>'
    ).encode()
    request = urllib.request.Request(
        location.replace("/desc.xml", "/control"),
        data=body,
        headers={"Content-Type": 'text/xml; charset="utf-8"', "SOAPACTION": f'"{SWITCH}#Explode"'},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, ""
    except urllib.error.HTTPError as exc:
        code = ET.fromstring(exc.read()).find(".//{urn:schemas-upnp-org:control-1-0}errorCode")
        return exc.code, None if code is None else code.text


def announced(notifies: list, nts: str) -> list:
    return sorted(n["NT"] for n in notifies if n["NTS"] == nts)


def test_it_notifies_alive_at_start_and_again_then_byebye_on_sigterm(lab, listener):
    with lab.responder(max_age=4, bootid=3, notify_interval=1.0) as emu:
        everything = sorted(["upnp:rootdevice", emu.udn, LIGHT, SWITCH])
        first = listener.collect(lab.emu_ip, 0.5, until=lambda got: len(got) >= 4)
        assert announced(first, "ssdp:alive") == everything  # at start, before it was ready
        alive = first[0]
        assert alive["LOCATION"] == emu.location
        assert alive["CACHE-CONTROL"] == "max-age=4"
        assert alive["HOST"] == "239.255.255.250:1900"
        assert alive["BOOTID.UPNP.ORG"] == "3"
        assert {n["USN"] for n in first} == {
            f"{emu.udn}::upnp:rootdevice",
            emu.udn,
            f"{emu.udn}::{LIGHT}",
            f"{emu.udn}::{SWITCH}",
        }
        again = listener.collect(lab.emu_ip, 10, until=lambda got: len(got) >= 4)
        assert announced(again, "ssdp:alive") == everything  # every notify_interval
        assert emu.stop(clean=True) == 0
        bye = listener.collect(
            lab.emu_ip, 5, until=lambda got: len(announced(got, "ssdp:byebye")) >= 4
        )
    assert announced(bye, "ssdp:byebye") == everything
    assert all("LOCATION" not in n for n in bye if n["NTS"] == "ssdp:byebye")


def test_a_killed_responder_says_no_byebye(lab, listener):
    with lab.responder() as emu:
        listener.collect(lab.emu_ip, 0.5, until=lambda got: len(got) >= 4)
        assert emu.stop(clean=False) == -9
        after = listener.collect(lab.emu_ip, 1.5)
    assert announced(after, "ssdp:byebye") == []
    assert not emu.running


def test_it_answers_from_the_address_asked_by_unicast(lab):
    addresses = lab.emu_crowd_addresses(3)
    with lab.responder(addresses, lab.emu_crowd_ns) as crowd:
        answers = raw_msearch("upnp:rootdevice", destination=addresses[1], seconds=1.0)
    assert [(sender, h["USN"]) for sender, h in answers] == [
        (addresses[1], f"{crowd.udns[1]}::upnp:rootdevice")
    ]


def test_two_thousand_devices_in_one_process_under_ulimit_1024(lab):
    addresses = lab.emu_crowd_addresses(2000)
    with lab.responder(addresses, lab.emu_crowd_ns, nofile=1024, timeout=60) as crowd:
        answers = raw_msearch("upnp:rootdevice", seconds=4.0)
        by_sender = {sender: h for sender, h in answers if sender in set(addresses)}
        assert len(by_sender) == 2000
        for sender, h in by_sender.items():
            assert h["LOCATION"] == f"http://{sender}:8300/desc.xml"
            assert h["USN"] == f"{emulated_udn(sender)}::upnp:rootdevice"
        for index in (0, 999, 1999):  # and each one is a device of its own
            with upnpy.Device(crowd.locations[index]) as device:
                assert device.udn == crowd.udns[index]
                assert device.SwitchPower.GetStatus() == {"ResultStatus": False}
        assert crowd.stop(clean=True) == 0
