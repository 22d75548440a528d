"""IPv6 against the lab's real devices (issue 11): search on FF02::C, description, control and
eventing over IPv6 — miniupnpd answering with its ULA (``http://[fd77::1]:5000/...``), the
GUPnP light with its link-local address (``http://[fe80::…%25lan0]:…``) — and the NOTIFY
listener of :func:`upnpy._ssdp.open_listener`.

Everything runs in the lab's client namespace (the ``lab`` fixture checks it).
"""

import ipaddress
import select
import socket
import time
from urllib.parse import urlsplit

import pytest

import upnpy
from upnpy import _interfaces, _ssdp

IGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
LIGHT = "urn:schemas-upnp-org:device:DimmableLight:1"
WAIT = 10.0


def search6(st, timeout=3.0):
    return list(upnpy.search(st, timeout=timeout, family=socket.AF_INET6))


def host_of(url):
    return ipaddress.IPv6Address(urlsplit(url).netloc.rpartition("]")[0][1:].partition("%")[0])


@pytest.fixture(scope="module")
def gw_location(lab):
    answers = search6(IGD2)
    assert answers, "the gateway did not answer an M-SEARCH on FF02::C"
    assert all(len(r.address) == 4 for r in answers)  # IPv6 senders, with their scope id
    locations = {r.location for r in answers}
    assert locations == {f"http://[{lab.gw_ip6}]:5000/rootDesc.xml"}
    return locations.pop()


@pytest.fixture(scope="module")
def light_location(lab):
    answers = search6(LIGHT)
    assert answers, "the light did not answer an M-SEARCH on FF02::C"
    (location,) = {r.location for r in answers}
    return location


def test_search_over_ipv6_only_finds_ipv6_locations(lab, gw_location):
    answers = search6("upnp:rootdevice")
    assert answers and all(len(r.address) == 4 for r in answers)
    assert all(urlsplit(r.location).netloc.startswith("[") for r in answers)
    assert gw_location in {r.location for r in answers}


def test_the_gateway_over_ipv6(lab, gw_location):
    with upnpy.Device(gw_location) as gw:
        assert gw.device_type == IGD2
        assert gw.WANIPConnection.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}


def test_the_gateway_over_ipv6_with_a_requests_session(lab, gw_location):
    import requests

    session = requests.Session()
    session.trust_env = False
    with upnpy.Device(gw_location, session=session) as gw:
        reply = gw.WANIPConnection.GetExternalIPAddress()
        assert reply["NewExternalIPAddress"] == lab.wan_ip


def test_subscribing_to_the_gateway_over_ipv6_gets_the_initial_event(lab, gw_location):
    with upnpy.Device(gw_location) as gw, gw.WANIPConnection.subscribe() as sub:
        assert sub.callback_url.startswith(f"http://[{lab.client_ip6}]:")
        first = sub.get(timeout=WAIT)
        assert first.seq == 0
        assert first.variables["ExternalIPAddress"] == lab.wan_ip


def test_the_light_over_ipv6_link_local(lab, light_location):
    """GUPnP advertises its link-local address; the LOCATION carries the zone of our link."""
    assert host_of(light_location).is_link_local
    assert f"%25{lab.lan_if}]" in light_location
    with upnpy.Device(light_location) as light:
        light.SwitchPower.SetTarget(True)
        assert light.SwitchPower.GetStatus() == {"ResultStatus": True}
        light.SwitchPower.SetTarget(False)
        assert light.SwitchPower.GetStatus() == {"ResultStatus": False}


def test_a_requests_session_refuses_a_link_local_location_clearly(light_location):
    """requests cannot connect to a zoned address (it resolves ``fe80::…%25lan0`` as a
    name); upnpy says so before sending anything."""
    import requests

    session = requests.Session()
    session.trust_env = False
    with pytest.raises(upnpy.DescriptionError, match="link-local"):
        upnpy.Device(light_location, session=session)
    session.close()


def test_subscribing_to_the_light_over_ipv6(lab, light_location):
    """Reached by its link-local address, the light is told a link-local callback (GUPnP
    ignores one outside that network), without a zone: it means nothing to the device."""
    with upnpy.Device(light_location) as light, light.SwitchPower.subscribe() as sub:
        callback = sub.callback_url
        assert host_of(callback).is_link_local and "%" not in callback
        first = sub.get(timeout=WAIT)
        assert first.seq == 0 and "Status" in first.variables


def test_discover_over_ipv6(lab, gw_location):
    devices = upnpy.discover(timeout=3.0, family=socket.AF_INET6)
    try:
        by_type = {d.device_type: d for d in devices}
        assert IGD2 in by_type and LIGHT in by_type
        assert by_type[IGD2].location == gw_location
        light = by_type[LIGHT]
        assert host_of(light.location).is_link_local
        assert light.SwitchPower.GetStatus()["ResultStatus"] in (True, False)
    finally:
        for device in devices:
            device.close()


# --- the NOTIFY listener ----------------------------------------------------------------


def _lan(lab, family):
    (iface,) = _interfaces.interfaces(family, [lab.lan_if])
    return iface


def _receive(sock, accept, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not select.select([sock], [], [], max(deadline - time.monotonic(), 0.0))[0]:
            break
        try:
            data, address = sock.recvfrom(65536)
        except BlockingIOError:
            continue
        notify = _ssdp.parse_notify(data, address)
        if notify is not None and accept(notify):
            return notify
    return None


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["ipv4", "ipv6"])
def test_the_listener_hears_the_gateway_announce_itself(lab, family):
    """miniupnpd announces itself (ssdp:alive) when it starts: on both groups."""
    iface = _lan(lab, family)
    with _ssdp.open_listener(iface) as sock:
        lab.restart("gw")
        notify = _receive(sock, lambda n: n.nts == "ssdp:alive" and n.nt == "upnp:rootdevice", WAIT)
    assert notify is not None, "no ssdp:alive from the restarted gateway"
    if family == socket.AF_INET6:
        assert notify.location == f"http://[{lab.gw_ip6}]:5000/rootDesc.xml"
        assert notify.address[3] == iface.index  # it arrived on our lab link
    else:
        assert notify.location == lab.gw_url
    assert notify.max_age and notify.udn.startswith("uuid:")
