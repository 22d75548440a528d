"""upnpy.discover() and upnpy.search() on the lab's real devices (multicast from the client)."""

import pytest

import upnpy

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


@pytest.fixture(scope="module")
def everything(lab):
    devices = upnpy.discover(timeout=3)  # the light answers after a random delay up to MX
    yield devices
    for device in devices:
        device.close()


def test_discover_finds_the_three_devices_once_each(everything, lab):
    locations = sorted(d.location for d in everything)
    assert locations == sorted([lab.gw_url, lab.dms_url, lab.light_url])
    assert len({d.udn for d in everything}) == 3


def test_discovered_devices_are_usable(everything, lab):
    router = next(d for d in everything if d.location == lab.gw_url)
    assert router.device_type == IGD2
    assert router.WANIPConnection.GetExternalIPAddress()["NewExternalIPAddress"] == lab.wan_ip


@pytest.mark.parametrize(
    "st, device",
    [
        (IGD2, "gw"),
        ("urn:schemas-upnp-org:device:InternetGatewayDevice:1", "gw"),  # lower versions answer too
        ("urn:schemas-upnp-org:service:WANIPConnection:2", "gw"),
        ("urn:schemas-upnp-org:device:MediaServer:1", "dms"),
        ("urn:schemas-upnp-org:service:SwitchPower:1", "light"),
    ],
)
def test_discover_filters_by_search_target(lab, st, device):
    found = upnpy.discover(st=st, timeout=3)
    expected = {"gw": lab.gw_url, "dms": lab.dms_url, "light": lab.light_url}[device]
    try:
        assert [d.location for d in found] == [expected]
    finally:
        for d in found:
            d.close()


def test_discover_limit_returns_the_gateway_alone(lab):
    found = upnpy.discover(st=IGD2, timeout=3, limit=1)
    try:
        assert [d.location for d in found] == [lab.gw_url]
    finally:
        for d in found:
            d.close()


def test_discover_by_uuid(everything, lab):
    light = next(d for d in everything if d.location == lab.light_url)
    found = upnpy.discover(st=light.udn, timeout=3)
    try:
        assert [d.udn for d in found] == [light.udn]
    finally:
        for d in found:
            d.close()


def test_search_yields_typed_responses(lab):
    responses = list(upnpy.search(st="upnp:rootdevice", timeout=3))
    by_location = {r.location: r for r in responses}
    gw = by_location[lab.gw_url]
    assert gw.st == "upnp:rootdevice"
    assert gw.usn == f"{gw.udn}::upnp:rootdevice"
    assert gw.address[0] == lab.gw_ip
    assert isinstance(gw.max_age, int) and gw.max_age > 0
    assert gw.headers["location"] == gw.headers["LOCATION"] == lab.gw_url
    assert len(responses) == len(by_location)  # duplicates (three sends) dropped


def test_unicast_search_reaches_one_device(lab):
    responses = list(upnpy.search(st="upnp:rootdevice", timeout=2, host=lab.gw_ip))
    assert {r.location for r in responses} == {lab.gw_url}


def test_search_from_a_named_interface(lab):
    responses = list(upnpy.search(st=IGD2, timeout=2, interfaces=["lan0"]))
    assert {r.location for r in responses} == {lab.gw_url}
