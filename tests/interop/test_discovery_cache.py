"""discover(cache=...) against the lab's real devices (issue 11).

The M-SEARCHes the client sends are counted by a socket of the test joined to the SSDP group
on the client's LAN interface: a search from this namespace loops back to it
(IP_MULTICAST_LOOP), so "returned without multicast" is observed, not assumed.
"""

import socket

import pytest
from labtools import GroupListener

import upnpy

IGD = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


class SearchCounter:
    """Counts the M-SEARCHes this client has sent, as the group hears them (multicast loopback)."""

    def __init__(self, lab) -> None:
        self.listener = GroupListener(lab)
        self.client_ip = lab.client_ip
        self.seen = 0

    @property
    def count(self) -> int:
        self.seen += len(self.listener.collect(self.client_ip, 0.3, start=b"M-SEARCH"))
        return self.seen


@pytest.fixture
def searches(lab):
    counter = SearchCounter(lab)
    yield counter
    counter.listener.close()


def test_a_cached_gateway_is_returned_without_multicast(lab, searches, tmp_path):
    path = tmp_path / "devices.json"
    (first,) = upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)
    assert first.location == lab.gw_url
    assert first.WANIPConnection.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}
    sent = searches.count
    assert sent > 0  # the counter sees this client's M-SEARCHes

    (again,) = upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)
    assert again.udn == first.udn and again.location == lab.gw_url
    assert again.WANIPConnection.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}
    assert searches.count == sent  # no M-SEARCH for the cached gateway


def test_a_cached_gateway_needs_no_scpd_fetch(lab, tmp_path, monkeypatch):
    path = tmp_path / "devices.json"
    (gateway,) = upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)
    gateway.WANIPConnection.GetExternalIPAddress()
    (entry,) = upnpy._cache.Store(path).matching(IGD)
    assert entry.location == lab.gw_url and entry.address == lab.gw_ip
    assert entry.server and entry.bootid is not None
    assert gateway.WANIPConnection.scpd_url in entry.scpds

    fetched = []
    real_fetch = upnpy._proxy.fetch

    def recording_fetch(transport, url, **options):
        fetched.append(url)
        return real_fetch(transport, url, **options)

    monkeypatch.setattr(upnpy._proxy, "fetch", recording_fetch)
    (again,) = upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)
    assert again.WANIPConnection.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}
    assert fetched == []  # the SCPD came from the cache
    again.WANIPv6FirewallControl.actions  # noqa: B018 - one the cache has not seen yet
    assert fetched == [again.WANIPv6FirewallControl.scpd_url]  # the recorder does record


def test_a_search_for_everything_still_finds_devices_not_cached(lab, tmp_path):
    path = tmp_path / "devices.json"
    upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)  # caches only the gateway
    found = {d.location for d in upnpy.discover(cache=path, timeout=3, family=socket.AF_INET)}
    assert {lab.gw_url, lab.dms_url, lab.light_url} <= found


def test_a_device_back_on_another_port_is_found_again(lab, searches, tmp_path):
    path = tmp_path / "devices.json"
    with lab.responder(port=8300) as emu:
        (first,) = upnpy.discover(st=emu.udn, limit=1, cache=path, timeout=3)
        assert first.location == emu.location
        emu.stop(clean=True)
    with lab.responder(port=8301) as emu:  # the same device (UDN), on another port
        assert emu.location != first.location
        sent = searches.count
        (again,) = upnpy.discover(st=emu.udn, limit=1, cache=path, timeout=3)
        assert again.udn == first.udn and again.location == emu.location
        assert searches.count > sent  # the dead LOCATION sent it to the search
        assert again.SwitchPower.GetStatus() == {"ResultStatus": False}
    (entry,) = upnpy._cache.Store(path).matching(emu.udn)
    assert entry.location == emu.location  # the cache has the new place
