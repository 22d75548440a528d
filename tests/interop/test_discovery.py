"""upnpy.discover() and upnpy.search() on the lab's real devices (multicast from the client)."""

from socket import AF_INET

import pytest

import upnpy

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


@pytest.fixture(scope="module")
def everything(lab):
    devices = upnpy.discover(timeout=3)  # the light answers after a random delay up to MX
    yield devices
    for device in devices:
        device.close()


def by_name(devices):
    return {d.friendly_name: d for d in devices}


def test_discover_finds_the_three_devices_once_each(everything, lab):
    # over IPv4 and IPv6 (the gateway and the light answer both): once per UDN all the same
    assert sorted(d.friendly_name for d in everything) == [
        "Lab Media Server",
        "upnpy lab gateway",
        "upnpy lab light",
    ]
    assert len({d.udn for d in everything}) == 3
    found = by_name(everything)
    assert found["Lab Media Server"].location == lab.dms_url  # minidlna has no IPv6
    for name, url in (("upnpy lab gateway", lab.gw_url), ("upnpy lab light", lab.light_url)):
        location = found[name].location
        assert location == url or location.startswith("http://["), location


def test_discover_over_ipv4_only(lab):
    found = upnpy.discover(timeout=3, family=AF_INET)
    assert sorted(d.location for d in found) == sorted([lab.gw_url, lab.dms_url, lab.light_url])


def test_discovered_devices_are_usable(everything, lab):
    router = by_name(everything)["upnpy lab gateway"]
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
    found = upnpy.discover(st=st, timeout=3, family=AF_INET)
    expected = {"gw": lab.gw_url, "dms": lab.dms_url, "light": lab.light_url}[device]
    try:
        assert [d.location for d in found] == [expected]
    finally:
        for d in found:
            d.close()


def test_discover_limit_returns_the_gateway_alone(lab):
    found = upnpy.discover(st=IGD2, timeout=3, limit=1, family=AF_INET)
    try:
        assert [d.location for d in found] == [lab.gw_url]
    finally:
        for d in found:
            d.close()


def test_discover_by_uuid(everything, lab):
    light = by_name(everything)["upnpy lab light"]
    found = upnpy.discover(st=light.udn, timeout=3)
    try:
        assert [d.udn for d in found] == [light.udn]
    finally:
        for d in found:
            d.close()


def test_search_yields_typed_responses(lab):
    responses = list(upnpy.search(st="upnp:rootdevice", timeout=3, family=AF_INET))
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
    responses = list(upnpy.search(st=IGD2, timeout=2, interfaces=[lab.lan_if]))
    # over IPv4 and IPv6: miniupnpd answers FF02::C with its ULA address
    assert {r.location for r in responses} == {
        lab.gw_url,
        f"http://[{lab.gw_ip6}]:5000/rootDesc.xml",
    }


def test_search_from_a_named_interface_over_ipv4_only(lab):
    responses = list(upnpy.search(st=IGD2, timeout=2, interfaces=[lab.lan_if], family=AF_INET))
    assert {r.location for r in responses} == {lab.gw_url}
