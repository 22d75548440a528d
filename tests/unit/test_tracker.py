"""DeviceTracker (issue 11): the bookkeeping alone, then the threads on loopback.

Part 1 drives :class:`upnpy._tracker._State` directly with announcements, fetch results and a
made-up clock: no sockets, no threads, no waiting. Part 2 runs a real :class:`DeviceTracker`
whose listening socket is a plain UDP socket on 127.0.0.1 (NOTIFYs are sent to it unicast)
and whose devices are served by a loopback HTTP server: no multicast, nothing leaves the
machine, and the M-SEARCH is replaced (or fed by a fake search).
"""

from __future__ import annotations

import logging
import queue
import random
import socket
import threading
import time
from typing import List, Optional

import pytest
from servers import LoopbackServer

import upnpy
from upnpy import _ssdp, _tracker
from upnpy._tracker import (
    BYEBYE_DELAY,
    DEFAULT_MAX_AGE,
    EXPIRY_GRACE,
    MAX_PENDING,
    RETRY_AFTER,
    DeviceChange,
    DeviceTracker,
    _Advert,
    _State,
    target_matches,
)

ROOT = "uuid:00000000-0000-4000-8000-000000000001"
EMBEDDED = "uuid:00000000-0000-4000-8000-000000000002"
OTHER = "uuid:00000000-0000-4000-8000-0000000000ff"
LOC = "http://127.0.0.1:5000/desc.xml"
LOC2 = "http://127.0.0.1:5001/desc.xml"
LOC6 = "http://[::1]:5000/desc.xml"
MEDIA = "urn:schemas-upnp-org:device:MediaServer:1"
WAIT = 10.0  # generous: only ever a bound for something expected much sooner


# --- part 1: the state, fed by hand ---------------------------------------------------------


class FakeDevice:
    """What the state uses of a Device: udn, walk(), close()."""

    def __init__(self, udn: str, location: str = LOC, children=()) -> None:
        self.udn = udn
        self.location = location
        self.children = list(children)
        self.closed = False

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"<FakeDevice {self.udn} at {self.location}>"


def ad(
    udn: str = ROOT,
    location: str = LOC,
    *,
    kind: str = "alive",
    nt: str = "upnp:rootdevice",
    max_age: Optional[int] = 1800,
    bootid: Optional[int] = None,
    configid: Optional[int] = None,
    next_bootid: Optional[int] = None,
) -> _Advert:
    if kind == "byebye":
        location, max_age = "", None
    return _Advert(kind, udn, nt, location, max_age, bootid, configid, next_bootid)


def found(state: _State, now: float = 0.0, **kwargs) -> FakeDevice:
    """Announce ROOT (or kwargs' udn), answer its fetch, return the device tracked."""
    advert = ad(**kwargs)
    out = state.advert(advert, now)
    assert len(out.jobs) == 1 and out.jobs[0].purpose == "new"
    device = FakeDevice(state_udn := advert.udn, advert.location)
    out = state.fetched(out.jobs[0], device, "", now)
    assert [(c.kind, c.udn) for c in out.changes] == [("found", state_udn)]
    return device


def test_a_new_device_is_found_once_described():
    state = _State("ssdp:all")
    out = state.advert(ad(), 0.0)
    assert out.changes == [] and len(out.jobs) == 1
    job = out.jobs[0]
    assert (job.purpose, job.location) == ("new", LOC)
    assert state.devices() == {}  # not before it is described
    device = FakeDevice(ROOT)
    out = state.fetched(job, device, "", 0.1)
    assert out.changes == [DeviceChange("found", ROOT, device, f"described from {LOC}")]
    assert state.devices() == {ROOT: device}
    assert not device.closed


def test_every_announcement_of_a_device_makes_one_fetch():
    state = _State("ssdp:all")
    jobs = state.advert(ad(), 0.0).jobs
    for nt in (ROOT, MEDIA, "urn:schemas-upnp-org:service:ContentDirectory:1"):
        jobs += state.advert(ad(nt=nt), 0.0).jobs  # the same LOCATION, being described
    assert len(jobs) == 1
    device = FakeDevice(ROOT)
    state.fetched(jobs[0], device, "", 0.0)
    for nt in ("upnp:rootdevice", ROOT, MEDIA):  # tracked: no fetch, no change
        out = state.advert(ad(nt=nt), 1.0)
        assert out.jobs == [] and out.changes == []


def test_a_failed_fetch_is_not_retried_until_retry_after():
    state = _State("ssdp:all")
    job = state.advert(ad(), 0.0).jobs[0]
    out = state.fetched(job, None, "connection refused", 0.0)
    assert out.changes == [] and state.devices() == {}
    assert state.advert(ad(), 1.0).jobs == []
    assert state.advert(ad(), RETRY_AFTER - 0.1).jobs == []
    assert len(state.advert(ad(), RETRY_AFTER + 0.1).jobs) == 1


@pytest.mark.parametrize(
    ("st", "nt", "wanted"),
    [
        ("ssdp:all", "upnp:rootdevice", True),
        ("ssdp:all", MEDIA, True),
        ("upnp:rootdevice", "upnp:rootdevice", True),
        ("upnp:rootdevice", MEDIA, False),
        (ROOT, ROOT, True),
        (ROOT, OTHER, False),
        (MEDIA, MEDIA, True),
        (MEDIA, "urn:schemas-upnp-org:device:MediaServer:2", True),  # higher version matches
        ("urn:schemas-upnp-org:device:MediaServer:2", MEDIA, False),  # lower does not
        (MEDIA, "urn:schemas-upnp-org:device:MediaRenderer:1", False),
        (MEDIA, "urn:schemas-upnp-org:device:MediaServer:x", False),
        (MEDIA, "urn:schemas-upnp-org:device:MediaServer:99999999999999999999", False),
        ("upnp:rootdevice", "", False),
    ],
)
def test_target_matches(st, nt, wanted):
    assert target_matches(st, nt) is wanted


def test_announcements_that_do_not_match_st_are_ignored():
    state = _State(MEDIA)
    assert state.advert(ad(nt="upnp:rootdevice"), 0.0).jobs == []
    assert state.advert(ad(nt="urn:schemas-upnp-org:device:MediaRenderer:1"), 0.0).jobs == []
    assert len(state.advert(ad(nt="urn:schemas-upnp-org:device:MediaServer:2"), 0.0).jobs) == 1


def test_once_tracked_any_announcement_of_its_tree_keeps_it_alive():
    state = _State(MEDIA)
    job = state.advert(ad(EMBEDDED, nt=MEDIA, max_age=100), 0.0).jobs[0]
    embedded = FakeDevice(EMBEDDED)
    root = FakeDevice(ROOT, children=[embedded])
    out = state.fetched(job, root, "", 0.0)
    assert [(c.kind, c.udn) for c in out.changes] == [("found", ROOT)]  # by the root's UDN
    # The root's own announcements (upnp:rootdevice, not a MediaServer) now refresh it.
    state.advert(ad(ROOT, nt="upnp:rootdevice", max_age=100), 90.0)
    assert state.tick(100.0 + EXPIRY_GRACE + 1).changes == []
    assert state.devices() == {ROOT: root}
    # A byebye of the embedded device concerns the root device.
    state.advert(ad(EMBEDDED, kind="byebye"), 120.0)
    jobs = state.tick(120.0 + BYEBYE_DELAY).jobs
    assert [(j.purpose, j.udn) for j in jobs] == [("confirm", ROOT)]


def test_an_announced_udn_missing_from_the_description_is_routed_to_its_root():
    state = _State("ssdp:all")
    job = state.advert(ad(OTHER), 0.0).jobs[0]
    state.fetched(job, FakeDevice(ROOT), "", 0.0)
    out = state.advert(ad(OTHER), 1.0)  # no second fetch for the same claim
    assert out.jobs == [] and out.changes == []


# -- updated --


def test_a_higher_bootid_describes_the_device_again_then_reports_updated():
    state = _State("ssdp:all")
    old = found(state, bootid=1, configid=7)
    out = state.advert(ad(bootid=2, configid=7), 10.0)
    assert out.changes == []  # not before it is described again
    [job] = out.jobs
    assert (job.purpose, job.location, job.udn) == ("update", LOC, ROOT)
    new = FakeDevice(ROOT)
    out = state.fetched(job, new, "", 10.2)
    assert out.changes == [DeviceChange("updated", ROOT, new, "BOOTID 1 → 2")]
    assert out.closing == [old]
    assert state.devices() == {ROOT: new}
    assert state.advert(ad(bootid=2, configid=7), 11.0).jobs == []  # adopted


def test_configid_and_location_changes_are_updates():
    state = _State("ssdp:all")
    found(state, bootid=1, configid=1)
    [job] = state.advert(ad(bootid=1, configid=2), 1.0).jobs
    out = state.fetched(job, FakeDevice(ROOT), "", 1.0)
    assert [c.reason for c in out.changes] == ["CONFIGID 1 → 2"]
    [job] = state.advert(ad(location=LOC2, bootid=1, configid=2), 2.0).jobs
    assert job.location == LOC2
    new = FakeDevice(ROOT, LOC2)
    out = state.fetched(job, new, "", 2.0)
    assert [(c.kind, c.reason) for c in out.changes] == [("updated", f"LOCATION {LOC} → {LOC2}")]
    assert state.tracked[ROOT].location == LOC2


def test_a_location_on_another_host_is_the_same_device_on_another_interface():
    state = _State("ssdp:all")
    found(state, bootid=1)
    out = state.advert(ad(location=LOC6, bootid=1), 1.0)  # its IPv6 announcement
    assert out.jobs == [] and out.changes == []
    out = state.advert(ad(location=LOC, bootid=1), 2.0)
    assert out.jobs == [] and out.changes == []
    assert state.tracked[ROOT].locations == {"127.0.0.1": LOC, "::1": LOC6}


def test_a_new_address_of_the_same_family_checks_the_known_one_first():
    state = _State("ssdp:all")
    found(state, bootid=1)
    elsewhere = "http://127.0.0.2:49000/desc.xml"
    [job] = state.advert(ad(location=elsewhere, bootid=1), 1.0).jobs
    assert (job.purpose, job.location) == ("moved", LOC)  # is the known LOCATION still there?
    still = FakeDevice(ROOT)
    out = state.fetched(job, still, "", 1.0)  # yes: a second address, no event
    assert out.changes == [] and out.jobs == [] and still in out.closing
    assert state.tracked[ROOT].locations == {"127.0.0.1": LOC, "127.0.0.2": elsewhere}
    assert state.advert(ad(location=elsewhere, bootid=1), 2.0).jobs == []  # known now


def test_a_device_renumbered_is_updated_to_its_new_location():
    state = _State("ssdp:all")
    found(state, bootid=1)
    moved = "http://127.0.0.2:49000/desc.xml"
    [job] = state.advert(ad(location=moved, bootid=1), 1.0).jobs
    out = state.fetched(job, None, "connection refused", 1.0)  # the old address is gone
    [job] = out.jobs
    assert (job.purpose, job.location) == ("update", moved) and out.changes == []
    new = FakeDevice(ROOT, moved)
    out = state.fetched(job, new, "", 1.0)
    assert [(c.kind, c.reason) for c in out.changes] == [("updated", f"LOCATION {LOC} → {moved}")]
    assert state.devices() == {ROOT: new} and state.tracked[ROOT].location == moved


def test_a_lower_bootid_is_stale_and_ignored():
    state = _State("ssdp:all")
    found(state, bootid=5, max_age=10)
    out = state.advert(ad(bootid=4, max_age=1000), 5.0)
    assert out.jobs == [] and out.changes == []
    state.advert(ad(bootid=4, kind="byebye"), 6.0)
    assert state.tracked[ROOT].byebye_at is None
    # It did not refresh the device either: max-age 10 from t=0 ends it.
    assert [c.kind for c in state.tick(10.0 + EXPIRY_GRACE).changes] == ["lost"]


def test_ssdp_update_announces_the_next_bootid():
    state = _State("ssdp:all")
    found(state, bootid=1)
    out = state.advert(ad(kind="update", bootid=1, next_bootid=2, max_age=None), 1.0)
    assert out.jobs == [] and out.changes == []
    assert state.advert(ad(bootid=2), 2.0).jobs == []  # expected: not a reboot
    assert len(state.advert(ad(bootid=3), 3.0).jobs) == 1  # this one is


def test_changes_while_a_fetch_runs_are_looked_at_after_it():
    state = _State("ssdp:all")
    found(state, bootid=1)
    [job] = state.advert(ad(bootid=2), 1.0).jobs
    assert state.advert(ad(bootid=3), 1.1).jobs == []  # one fetch at a time
    out = state.fetched(job, FakeDevice(ROOT), "", 1.2)
    assert [c.reason for c in out.changes] == ["BOOTID 1 → 2"]
    [again] = out.jobs
    assert (again.purpose, again.bootid) == ("update", 3)
    out = state.fetched(again, FakeDevice(ROOT), "", 1.3)
    assert [c.reason for c in out.changes] == ["BOOTID 2 → 3"]


def test_an_update_that_cannot_be_described_waits_and_reports_nothing():
    state = _State("ssdp:all")
    device = found(state, bootid=1)
    [job] = state.advert(ad(bootid=2), 1.0).jobs
    out = state.fetched(job, None, "timed out", 1.0)
    assert out.changes == [] and state.devices() == {ROOT: device}
    assert state.advert(ad(bootid=2), 2.0).jobs == []  # not at every announcement
    assert len(state.advert(ad(bootid=2), 1.0 + RETRY_AFTER).jobs) == 1


def test_a_location_that_now_describes_another_device_is_no_update():
    state = _State("ssdp:all")
    device = found(state, bootid=1)
    [job] = state.advert(ad(bootid=2), 1.0).jobs
    stranger = FakeDevice(OTHER)
    out = state.fetched(job, stranger, "", 1.0)
    assert out.changes == [] and stranger.closed is False and stranger in out.closing
    assert state.devices() == {ROOT: device}


# -- lost --


def test_a_byebye_is_confirmed_by_a_failed_fetch():
    state = _State("ssdp:all")
    device = found(state)
    out = state.advert(ad(kind="byebye"), 10.0)
    assert out.jobs == [] and out.changes == []
    assert state.due == 10.0 + BYEBYE_DELAY  # the timer knows
    assert state.tick(10.0 + BYEBYE_DELAY / 2).jobs == []
    [job] = state.tick(10.0 + BYEBYE_DELAY).jobs
    assert (job.purpose, job.location) == ("confirm", LOC)
    out = state.fetched(job, None, "connection refused", 10.6)
    assert out.changes == [
        DeviceChange("lost", ROOT, device, "byebye confirmed: fetch failed (connection refused)")
    ]
    assert out.closing == [device] and state.devices() == {}


def test_a_spurious_byebye_is_not_a_loss():
    state = _State("ssdp:all")
    device = found(state)
    state.advert(ad(kind="byebye"), 10.0)
    [job] = state.tick(11.0).jobs
    fetched = FakeDevice(ROOT)
    out = state.fetched(job, fetched, "", 11.1)
    assert out.changes == [] and out.closing == [fetched]
    assert state.devices() == {ROOT: device}
    assert state.tick(12.0).jobs == []  # and no second check


def test_an_alive_after_the_byebye_cancels_the_check():
    state = _State("ssdp:all")
    found(state)
    state.advert(ad(kind="byebye"), 10.0)
    state.advert(ad(), 10.1)
    assert state.tick(11.0).jobs == []
    # ...also when it comes while the check runs (a restart: byebye, then alive)
    state.advert(ad(kind="byebye"), 20.0)
    [job] = state.tick(21.0).jobs
    state.advert(ad(), 21.1)
    out = state.fetched(job, None, "connection refused", 21.2)
    assert out.changes == [] and ROOT in state.devices()


def test_max_age_expiry_comes_from_the_timer():
    state = _State("ssdp:all")
    device = found(state, max_age=5)
    assert state.due == 5 + EXPIRY_GRACE
    assert state.tick(5.0).changes == []
    out = state.tick(5 + EXPIRY_GRACE)
    assert out.changes == [DeviceChange("lost", ROOT, device, "max-age 5 s passed")]
    assert state.due == float("inf")


def test_every_announcement_or_answer_extends_the_life():
    state = _State("ssdp:all")
    found(state, max_age=5)
    state.advert(ad(max_age=5, kind="response"), 4.0)
    state.advert(ad(max_age=1, nt=ROOT), 4.5)  # a (forged) shorter max-age does not shorten it
    assert state.tick(8.9 + EXPIRY_GRACE).changes == []
    assert [c.kind for c in state.tick(9.0 + EXPIRY_GRACE).changes] == ["lost"]


def test_no_max_age_means_the_default():
    state = _State("ssdp:all")
    found(state, max_age=None)
    assert state.tick(DEFAULT_MAX_AGE - 1.0).changes == []
    assert [c.reason for c in state.tick(DEFAULT_MAX_AGE + EXPIRY_GRACE).changes] == [
        f"max-age {DEFAULT_MAX_AGE} s passed"
    ]


def test_a_lost_device_that_comes_back_is_found_at_once():
    state = _State("ssdp:all")
    found(state, max_age=5)
    assert state.tick(100.0).changes[0].kind == "lost"
    out = state.advert(ad(), 101.0)  # within RETRY_AFTER of its first description
    assert len(out.jobs) == 1
    out = state.fetched(out.jobs[0], FakeDevice(ROOT), "", 101.1)
    assert [c.kind for c in out.changes] == ["found"]


def test_a_byebye_while_being_described_means_not_tracked():
    state = _State("ssdp:all")
    [job] = state.advert(ad(), 0.0).jobs
    state.advert(ad(kind="byebye"), 0.1)
    device = FakeDevice(ROOT)
    out = state.fetched(job, device, "", 0.2)
    assert out.changes == [] and out.closing == [device] and state.devices() == {}


def test_a_result_nobody_waits_for_is_closed():
    state = _State("ssdp:all")
    found(state, max_age=5, bootid=1)
    [job] = state.advert(ad(bootid=9, max_age=5), 1.0).jobs
    state.tick(100.0)  # lost meanwhile
    late = FakeDevice(ROOT)
    out = state.fetched(job, late, "", 100.1)
    assert out.changes == [] and out.closing == [late]


def test_the_timer_does_work_only_when_due():
    state = _State("ssdp:all")
    assert state.due == float("inf")
    found(state, max_age=60)
    assert state.due == 60 + EXPIRY_GRACE
    state.advert(ad(max_age=60), 30.0)  # later expiry: the old bound stays a lower bound
    assert state.tick(61.0 + EXPIRY_GRACE).changes == []
    assert state.due == 90 + EXPIRY_GRACE


# -- bounded --


def test_a_flood_of_made_up_udns_stays_bounded(caplog):
    state = _State("ssdp:all")
    jobs = []
    with caplog.at_level(logging.DEBUG, logger="upnpy"):
        for n in range(20000):
            out = state.advert(ad(f"uuid:flood-{n}", f"http://127.0.0.1:{n % 60000 + 1}/d"), 0.0)
            jobs += out.jobs
    assert len(jobs) == MAX_PENDING == len(state.pending)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "logged once" in warnings[0].getMessage()
    for job in jobs:  # every fetch fails: remembered, boundedly
        state.fetched(job, None, "refused", 1.0)
    for n in range(5000):
        for job in state.advert(ad(f"uuid:more-{n}", f"http://127.0.0.1:{n + 1}/e"), 2.0).jobs:
            state.fetched(job, None, "refused", 2.0)
    assert len(state.resting) <= _tracker._MAX_RESTING
    assert state.pending == {}


def test_made_up_udns_at_a_known_location_are_not_fetched_again_and_again():
    state = _State("ssdp:all")
    found(state)
    fetches = 0
    for n in range(1000):
        for job in state.advert(ad(f"uuid:x-{n}"), 1.0).jobs:
            fetches += 1
            state.fetched(job, FakeDevice(ROOT), "", 1.0)
    assert fetches == 1
    assert len(state.tracked[ROOT].aliases) <= _tracker._MAX_ALIASES
    assert len(state.alias) <= _tracker._MAX_ALIASES


def test_tracked_devices_are_capped(monkeypatch, caplog):
    monkeypatch.setattr(_tracker, "MAX_TRACKED", 5)
    state = _State("ssdp:all")
    for n in range(8):
        for job in state.advert(ad(f"uuid:d-{n}", f"http://127.0.0.1:{n + 1}/d"), 0.0).jobs:
            state.fetched(job, FakeDevice(f"uuid:d-{n}"), "", 0.0)
    assert len(state.devices()) == 5
    assert "5 devices tracked already" in caplog.text


def test_real_datagrams_feed_the_state():
    notify = _ssdp.parse_notify(
        (
            "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=30\r\n"
            f"LOCATION: {LOC}\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
            f"USN: {ROOT}::upnp:rootdevice\r\nBOOTID.UPNP.ORG: 3\r\nCONFIGID.UPNP.ORG: 4\r\n\r\n"
        ).encode(),
        ("127.0.0.1", 1900),
    )
    assert notify is not None
    assert _Advert.of(notify) == _Advert("alive", ROOT, "upnp:rootdevice", LOC, 30, 3, 4, None)
    response = _ssdp.parse_response(
        (
            f"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=60\r\nLOCATION: {LOC}\r\nST: {MEDIA}\r\n"
            f"USN: {ROOT}::{MEDIA}\r\n\r\n"
        ).encode(),
        ("127.0.0.1", 1900),
    )
    assert response is not None
    assert _Advert.of(response) == _Advert("response", ROOT, MEDIA, LOC, 60, None, None, None)


# --- part 2: the threads, on loopback -------------------------------------------------------


def description(udn: str, name: str = "loopback device") -> bytes:
    return (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
        "<deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>"
        f"<friendlyName>{name}</friendlyName><manufacturer>upnpy</manufacturer>"
        f"<modelName>test</modelName><UDN>{udn}</UDN></device></root>"
    ).encode()


class Devices:
    """Descriptions on a loopback HTTP server: ``/<udn>.xml``; a missing one is a 404."""

    def __init__(self) -> None:
        self.udns: set = set()
        self.server = LoopbackServer(self.handle)

    def handle(self, request, reply) -> None:
        udn = request.path.strip("/").removesuffix(".xml")
        if udn in self.udns:
            reply.send(200, description(udn), {"Content-Type": "text/xml"})
        else:
            reply.send(404, b"gone")

    def location(self, udn: str) -> str:
        return f"{self.server.url}/{udn}.xml"

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def devices():
    served = Devices()
    yield served
    served.close()


class LoopbackTracker(DeviceTracker):
    """A tracker listening on one plain UDP socket on 127.0.0.1, never multicasting."""

    def _open_listeners(self) -> List[socket.socket]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        self.address = sock.getsockname()
        return [sock]

    def _search_once(self) -> None:
        pass

    def send(self, data: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(data, self.address)


def notify(
    udn: str,
    location: str = "",
    nts: str = "ssdp:alive",
    max_age: int = 1800,
    bootid: int = 1,
    nt: str = "upnp:rootdevice",
) -> bytes:
    lines = [
        "NOTIFY * HTTP/1.1",
        "HOST: 239.255.255.250:1900",
        f"NT: {nt}",
        f"NTS: {nts}",
        f"USN: {udn}::{nt}" if nt != udn else f"USN: {udn}",
        f"BOOTID.UPNP.ORG: {bootid}",
        "CONFIGID.UPNP.ORG: 1",
    ]
    if nts != "ssdp:byebye":
        lines += [f"LOCATION: {location}", f"CACHE-CONTROL: max-age={max_age}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def collect():
    changes: queue.Queue = queue.Queue()
    return changes, changes.put


def next_change(changes: queue.Queue) -> DeviceChange:
    return changes.get(timeout=WAIT)


def test_found_updated_lost_through_the_threads(devices):
    changes, callback = collect()
    devices.udns.add(ROOT)
    with LoopbackTracker(callback=callback) as tracker:
        names = {t.name for t in threading.enumerate()}
        assert {"upnpy-tracker-recv", "upnpy-tracker-search", "upnpy-tracker-callback"} <= names
        assert "upnpy-tracker-fetch-1" in names
        tracker.send(notify(ROOT, devices.location(ROOT)))
        change = next_change(changes)
        assert (change.kind, change.udn) == ("found", ROOT)
        assert isinstance(change.device, upnpy.Device)
        assert change.device.friendly_name == "loopback device"
        assert tracker.devices == {ROOT: change.device}
        snapshot = tracker.devices
        snapshot.clear()  # a copy
        assert ROOT in tracker.devices

        tracker.send(notify(ROOT, devices.location(ROOT), bootid=2))
        change = next_change(changes)
        assert (change.kind, change.reason) == ("updated", "BOOTID 1 → 2")

        devices.udns.discard(ROOT)  # its description goes away with it
        tracker.send(notify(ROOT, nts="ssdp:byebye", bootid=2))
        change = next_change(changes)
        assert change.kind == "lost"
        assert change.reason.startswith("byebye confirmed: fetch failed")
        assert tracker.devices == {}
        # iteration saw the same changes, in order
        assert [c.kind for c in tracker._events] == ["found", "updated", "lost"]
    assert not any(t.name.startswith("upnpy-tracker") for t in threading.enumerate())


def test_max_age_expiry_needs_no_further_packet(devices):
    changes, callback = collect()
    devices.udns.add(ROOT)
    with LoopbackTracker(callback=callback) as tracker:
        tracker.send(notify(ROOT, devices.location(ROOT), max_age=1))
        assert next_change(changes).kind == "found"
        started = time.monotonic()
        change = next_change(changes)  # nothing else is sent
        assert (change.kind, change.reason) == ("lost", "max-age 1 s passed")
        assert time.monotonic() - started < WAIT


def test_a_spurious_byebye_keeps_the_device(devices):
    changes, callback = collect()
    devices.udns.update({ROOT, OTHER})
    with LoopbackTracker(callback=callback) as tracker:
        tracker.send(notify(ROOT, devices.location(ROOT)))
        assert next_change(changes).kind == "found"
        tracker.send(notify(ROOT, nts="ssdp:byebye"))  # it still answers
        # wait till its check has been made, then see that nothing was reported
        deadline = time.monotonic() + WAIT
        while len(devices.server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(devices.server.requests) == 2
        tracker.send(notify(OTHER, devices.location(OTHER)))  # a marker after the check
        change = next_change(changes)
        assert (change.kind, change.udn) == ("found", OTHER)
        assert set(tracker.devices) == {ROOT, OTHER}


def test_garbage_and_a_raising_callback_do_not_stop_the_tracker(devices, caplog):
    calls = []

    def callback(change):
        calls.append(change)
        raise RuntimeError("user bug")

    devices.udns.update({ROOT, OTHER})
    with LoopbackTracker(callback=callback) as tracker:
        rng = random.Random(11)
        for _ in range(200):
            tracker.send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600))))
        tracker.send(b"NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\nNT: x\r\nUSN: uuid:x\r\n")
        tracker.send(notify(ROOT, "http://127.0.0.1:1/\r\nX: y"))
        tracker.send(notify(ROOT, devices.location(ROOT)))
        tracker.send(notify(OTHER, devices.location(OTHER)))
        got = [change.udn for _, change in zip(range(2), tracker)]
        assert sorted(got) == sorted([ROOT, OTHER])
        deadline = time.monotonic() + WAIT
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls) == 2  # the first raise did not stop the second call
    assert caplog.text.count("callback raised") == 2
    assert "RuntimeError: user bug" in caplog.text


def test_iteration_ends_on_close_from_another_thread(devices):
    devices.udns.add(ROOT)
    tracker = LoopbackTracker()
    tracker.send(notify(ROOT, devices.location(ROOT)))
    seen = []
    timer = None
    try:
        for change in tracker:
            seen.append(change.kind)
            timer = threading.Timer(0.1, tracker.close)
            timer.start()
    finally:
        if timer is not None:
            timer.join()
        tracker.close()
    assert seen == ["found"]


def test_close_is_idempotent_and_closes_the_devices(devices, monkeypatch):
    closed = []
    real = upnpy.Device.close
    monkeypatch.setattr(upnpy.Device, "close", lambda self: (closed.append(self), real(self)))
    devices.udns.add(ROOT)
    changes, callback = collect()
    tracker = LoopbackTracker(callback=callback)
    tracker.send(notify(ROOT, devices.location(ROOT)))
    device = next_change(changes).device
    tracker.close()
    tracker.close()
    assert closed == [device]
    assert "closed" in repr(tracker)
    # the change not read before close() is still yielded, then iteration ends
    assert list(tracker) == [
        DeviceChange("found", ROOT, device, f"described from {devices.location(ROOT)}")
    ]
    assert list(tracker) == []


def test_close_from_the_callback_does_not_deadlock(devices):
    devices.udns.add(ROOT)
    done = threading.Event()
    holder = {}

    def callback(change):
        holder["tracker"].close()
        done.set()

    tracker = LoopbackTracker(callback=callback)
    holder["tracker"] = tracker
    tracker.send(notify(ROOT, devices.location(ROOT)))
    assert done.wait(WAIT)
    tracker.close()


def test_the_search_answers_feed_the_tracker(devices, monkeypatch):
    devices.udns.add(ROOT)
    asked = []

    def fake_search(st, timeout, *, wakeup=None, family=None):
        asked.append((st, family))
        answer = _ssdp.parse_response(
            (
                f"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=60\r\nLOCATION: "
                f"{devices.location(ROOT)}\r\nST: {MEDIA}\r\nUSN: {ROOT}::{MEDIA}\r\n\r\n"
            ).encode(),
            ("127.0.0.1", 1900),
        )
        yield None  # a wake-up
        yield answer

    monkeypatch.setattr(_ssdp, "_search", fake_search)

    class SearchingTracker(LoopbackTracker):
        _search_once = DeviceTracker._search_once

    changes, callback = collect()
    with SearchingTracker(MEDIA, callback=callback, family=socket.AF_INET):
        change = next_change(changes)
        assert (change.kind, change.udn) == ("found", ROOT)
    assert asked == [(MEDIA, socket.AF_INET)]


def test_a_search_that_cannot_be_sent_is_logged(monkeypatch, caplog):
    def no_interface(st, timeout, *, wakeup=None, family=None):
        raise upnpy.DiscoveryError("no IPv4 interfaces to search from")

    monkeypatch.setattr(_ssdp, "_search", no_interface)
    searched = threading.Event()

    class SearchingTracker(LoopbackTracker):
        def _search_once(self):
            DeviceTracker._search_once(self)
            searched.set()

    with SearchingTracker():
        assert searched.wait(WAIT)
    assert "M-SEARCH not sent: no IPv4 interfaces" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"st": ""}, ValueError),
        ({"st": "ssdp:all\r\nX: y"}, ValueError),
        ({"st": 5}, TypeError),
        ({"callback": "print"}, TypeError),
        ({"family": 99}, ValueError),
    ],
)
def test_bad_arguments_are_refused_before_any_socket(kwargs, error, monkeypatch):
    def never(self):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(DeviceTracker, "_open_listeners", never)
    with pytest.raises(error):
        DeviceTracker(**kwargs)


def test_no_interface_to_listen_on_is_a_discovery_error(monkeypatch):
    def nothing(family=None, names=None, *, include_loopback=False):
        raise upnpy.DiscoveryError("no interfaces to search from; found: none")

    monkeypatch.setattr(_tracker, "interfaces", nothing)
    with pytest.raises(upnpy.DiscoveryError):
        DeviceTracker()
    assert not any(t.name.startswith("upnpy-tracker") for t in threading.enumerate())


def test_listeners_that_all_fail_are_a_discovery_error(monkeypatch):
    from upnpy._interfaces import Interface

    monkeypatch.setattr(
        _tracker,
        "interfaces",
        lambda family=None: [Interface("lo", socket.AF_INET, "127.0.0.1", 1, 0)],
    )

    def refuse(iface, port=None):
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(_ssdp, "open_listener", refuse)
    with pytest.raises(upnpy.DiscoveryError, match="Address already in use"):
        DeviceTracker()


class FakeStop:
    """A stop event whose waits are recorded, not slept."""

    def __init__(self) -> None:
        self.waits: List[float] = []

    def wait(self, seconds: float) -> bool:
        self.waits.append(round(seconds, 6))
        return False

    def is_set(self) -> bool:
        return False


def test_fetches_are_rate_limited(monkeypatch):
    tracker = DeviceTracker.__new__(DeviceTracker)  # the throttle alone: no thread, no socket
    tracker._rate_lock = threading.Lock()
    tracker._next_fetch = 0.0
    tracker._stop = FakeStop()
    monkeypatch.setattr(_tracker.time, "monotonic", lambda: 100.0)  # all at once
    assert not any(tracker._throttle() for _ in range(5))
    step = 1.0 / _tracker.FETCH_RATE
    assert tracker._stop.waits == [round(n * step, 6) for n in range(1, 5)]  # the first at once


def test_unread_changes_are_bounded(monkeypatch, caplog):
    monkeypatch.setattr(_tracker, "MAX_EVENTS", 10)
    tracker = DeviceTracker.__new__(DeviceTracker)  # the queues alone
    tracker._cond = threading.Condition()
    tracker._events, tracker._calls = _tracker.collections.deque(), None
    tracker._callback = None
    tracker._overflowed = False
    changes = [DeviceChange("found", f"uuid:{n}", None, "") for n in range(25)]
    tracker._publish(changes)
    assert list(tracker._events) == changes[-10:]  # the newest kept
    assert caplog.text.count("the oldest are dropped") == 1
