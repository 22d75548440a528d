"""The discovery cache (issue 11): the file's safety, and discover(cache=...) on 127.0.0.1.

The SSDP "group" is a loopback responder that counts the M-SEARCHes it gets, so "a cached
device is returned without multicast" is counted, as in the interop test against miniupnpd.
"""

import json
import os
import socket
import warnings

import pytest
from fakes import SWITCH, FakeDevice, SSDPResponder, light_description, scpd, ssdp_answer

import upnpy
from upnpy import _cache, _discovery, _ssdp
from upnpy._cache import Entry, Store, configid_of

UDN = "uuid:11111111-2222-3333-4444-555555555555"
SCPD = scpd()


def description(name: str = "Cached Light", config: str = 'configId="7"') -> bytes:
    return light_description(UDN, name, root_attributes=config)


@pytest.fixture
def light():
    fake = FakeDevice({"/desc.xml": description(), "/scpd.xml": SCPD})
    fake.answer("/ctl", SWITCH, "GetStatus", [("ResultStatus", "1")])
    yield fake
    fake.close()


@pytest.fixture
def responder(monkeypatch, light):
    location = light.url + "/desc.xml"
    extra = "BOOTID.UPNP.ORG: 1\r\nCONFIGID.UPNP.ORG: 7\r\n"
    made = SSDPResponder(
        lambda sender: [ssdp_answer(location, f"{UDN}::upnp:rootdevice", extra=extra)]
    )
    made.location = location
    monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", made.port))
    yield made
    made.close()


def find(path, **options):
    options.setdefault("timeout", 1.0)
    return upnpy.discover(interfaces=["127.0.0.1"], cache=path, **options)


def entry(**fields) -> Entry:
    values = {
        "udn": UDN,
        "location": "http://127.0.0.1:9/desc.xml",
        "address": "127.0.0.1",
        "server": "t/1",
        "bootid": 1,
        "configid": 7,
        "max_age": 1800,
        "description": description(),
        "types": ("urn:schemas-upnp-org:device:BinaryLight:1", SWITCH),
        "udns": (UDN,),
        "scpds": {"http://127.0.0.1:9/scpd.xml": SCPD},
        "seen": 1.0,
    }
    values.update(fields)
    return Entry(**values)


# --- the file ----------------------------------------------------------------------------------


def test_entries_survive_a_round_trip(tmp_path):
    path = tmp_path / "devices.json"
    store = Store(path)
    store.remember(entry())
    store.save()
    again = Store(path).get_entry(UDN)
    assert again == entry(seen=again.seen)
    assert not [p for p in os.listdir(tmp_path) if p != "devices.json"]  # no temporary left


@pytest.mark.parametrize(
    "st, matches",
    [
        ("ssdp:all", True),
        ("upnp:rootdevice", True),
        (UDN, True),
        ("uuid:other", False),
        ("urn:schemas-upnp-org:device:BinaryLight:1", True),
        ("urn:schemas-upnp-org:device:BinaryLight:2", False),  # asks for more than it has
        (SWITCH, True),
        ("urn:schemas-upnp-org:service:Dimming:1", False),
    ],
)
def test_a_cached_device_matches_what_it_would_answer(st, matches):
    assert entry().matches(st) is matches


@pytest.mark.parametrize(
    "content, says",
    [
        (b"{not json", "not JSON"),
        (b'{"format": "something-else", "version": 1}', "not an upnpy device cache"),
        (b'{"format": "upnpy-device-cache", "version": 99, "devices": []}', "version 99"),
        (b"[1, 2, 3]", "not an upnpy device cache"),
        (b"\xff\xfe binary", "not JSON"),
        (b"[" * 100000 + b"]" * 100000, "not"),
    ],
)
def test_a_corrupt_or_foreign_file_is_ignored_with_a_warning(tmp_path, content, says):
    path = tmp_path / "devices.json"
    path.write_bytes(content)
    with pytest.warns(upnpy.UPnPWarning, match=says):
        store = Store(path)
    assert store.matching("ssdp:all") == []


def test_bad_entries_are_skipped_and_good_ones_kept(tmp_path):
    good = entry().to_json()
    bad = [
        {**good, "udn": ""},
        {**good, "location": "file:///etc/passwd"},
        {**good, "location": "http://x/\r\nHost: evil"},
        {**good, "bootid": "1"},
        {**good, "description": "not base64!"},
        {**good, "scpds": []},
        "a string",
    ]
    path = tmp_path / "devices.json"
    path.write_text(json.dumps({"format": _cache.FORMAT, "version": 1, "devices": [*bad, good]}))
    with pytest.warns(upnpy.UPnPWarning, match="7 unusable entries"):
        store = Store(path)
    assert [e.udn for e in store.matching("ssdp:all")] == [UDN]


def test_an_oversized_file_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "MAX_FILE", 1000)
    path = tmp_path / "devices.json"
    path.write_bytes(b" " * 1001)
    with pytest.warns(upnpy.UPnPWarning, match="over 1000 bytes"):
        Store(path)


def test_the_file_stays_within_its_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "MAX_FILE", 200_000)
    path = tmp_path / "devices.json"
    store = Store(path)
    for n in range(100):
        store.remember(entry(udn=f"uuid:{n}", description=b"x" * 10_000, seen=float(n)))
    store.save()
    assert path.stat().st_size <= 200_000
    kept = Store(path).matching("ssdp:all")
    assert kept and kept[0].udn == "uuid:99"  # the newest are kept


def test_an_unwritable_cache_is_a_warning(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.warns(upnpy.UPnPWarning, match="cannot be read"):
        store = Store(blocker / "devices.json")  # a file is in the way of its folder
    store.remember(entry())
    with pytest.warns(upnpy.UPnPWarning, match="not written"):
        store.save()


def test_the_default_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_path(True) == tmp_path / "upnpy" / "devices.json"
    assert _cache.cache_path(tmp_path) == tmp_path / "devices.json"  # a folder
    assert _cache.cache_path(False) is None


def test_configid_is_read_from_the_root_element():
    assert configid_of(description()) == 7
    assert configid_of(description(config="")) is None
    assert configid_of(description(config='configId="99999999999"')) is None


# --- discover(cache=...) -----------------------------------------------------------------------


def test_a_cached_device_is_returned_without_a_search(tmp_path, light, responder, monkeypatch):
    # The search waits this long for the cached device's check: long enough that only a
    # failed check, not a slow machine, can start it here.
    monkeypatch.setattr(_discovery, "CACHE_WAIT", 5.0)
    path = tmp_path / "devices.json"
    first = find(path)
    assert [d.udn for d in first] == [UDN] and responder.searches > 0
    assert first[0].SwitchPower.GetStatus() == {"ResultStatus": True}
    searches, gets = responder.searches, len(light.gets("/scpd.xml"))

    second = find(path, limit=1)
    assert [d.friendly_name for d in second] == ["Cached Light"]
    assert responder.searches == searches  # no M-SEARCH went out
    assert second[0].SwitchPower.GetStatus() == {"ResultStatus": True}
    assert len(light.gets("/scpd.xml")) == gets  # the SCPD came from the cache


def test_a_changed_description_drops_the_cached_scpds(tmp_path, light, responder):
    path = tmp_path / "devices.json"
    find(path)[0].SwitchPower.GetStatus()
    light.documents["/desc.xml"] = description("Renamed", config='configId="8"')
    gets = len(light.gets("/scpd.xml"))
    (device,) = find(path, limit=1)
    assert device.friendly_name == "Renamed"
    device.SwitchPower.GetStatus()
    assert len(light.gets("/scpd.xml")) == gets + 1  # fetched again
    assert Store(path).get_entry(UDN).configid == 8


def test_a_same_configid_keeps_the_cached_scpds(tmp_path, light, responder):
    path = tmp_path / "devices.json"
    find(path)[0].SwitchPower.GetStatus()
    light.documents["/desc.xml"] = description("Renamed")  # configId 7 still
    gets = len(light.gets("/scpd.xml"))
    (device,) = find(path, limit=1)
    assert device.friendly_name == "Renamed"
    device.SwitchPower.GetStatus()
    assert len(light.gets("/scpd.xml")) == gets


def test_a_dead_location_falls_back_to_the_search(tmp_path, light, responder):
    path = tmp_path / "devices.json"
    store = Store(path)
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{placeholder.getsockname()[1]}/desc.xml"
    store.remember(entry(location=dead))
    store.save()
    (device,) = find(path, limit=1)
    assert device.location == responder.location and responder.searches > 0
    assert Store(path).get_entry(UDN).location == responder.location


def test_a_dead_device_not_found_again_leaves_the_cache(tmp_path, responder):
    path = tmp_path / "devices.json"
    store = Store(path)
    store.remember(entry(udn="uuid:gone", location="http://127.0.0.1:9/desc.xml", udns=()))
    store.save()
    find(path)
    assert Store(path).get_entry("uuid:gone") is None


def test_a_corrupt_cache_does_not_stop_discovery(tmp_path, light, responder):
    path = tmp_path / "devices.json"
    path.write_bytes(b"\x00garbage")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        devices = find(path)
    assert [d.udn for d in devices] == [UDN]
    assert any("ignored" in str(w.message) for w in caught)
    assert Store(path).get_entry(UDN) is not None  # rewritten whole


def test_discover_iter_yields_each_device_once(tmp_path, light, responder):
    seen = [device.udn for device in upnpy.discover_iter(timeout=1.0, interfaces=["127.0.0.1"])]
    assert seen == [UDN]


def test_bad_arguments_are_refused_at_the_call():
    with pytest.raises(ValueError, match="family"):
        upnpy.discover_iter(family=socket.AF_UNIX)
    with pytest.raises(ValueError, match="limit"):
        upnpy.discover_iter(limit=0)
    with pytest.raises(ValueError, match="timeout"):
        upnpy.discover_iter(timeout=0)
    with pytest.raises(TypeError, match="cache"):
        upnpy.discover_iter(cache=3)
