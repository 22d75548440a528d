"""DeviceTracker against the lab's real daemons and an emulated device (issue 11).

- "found" for each lab device (miniupnpd, minidlna, the GUPnP light);
- "lost" promptly for minidlna stopped cleanly (its byebye, confirmed by a failed fetch);
- "lost" within max-age + 2 s for an emulated device (lab/responder.py, max-age 3 s) killed
  with no byebye: from the tracker's timer, while nothing else arrives from that device;
- "updated" for the emulated device restarted with a new BOOTID.

The tracker runs in the client namespace; its sockets listen on the lab's LAN only.
"""

import queue
import socket
import time
from typing import List

import pytest

import upnpy
from upnpy import DeviceChange, DeviceTracker

WAIT = 30.0  # generous bound for things that happen within a few seconds


class Changes:
    """The tracker's callback: every change, kept; :meth:`wait` for the next one of a device."""

    def __init__(self) -> None:
        self.queue: queue.Queue[DeviceChange] = queue.Queue()
        self.seen: List[DeviceChange] = []  # every change received, in order
        self.unread: List[DeviceChange] = []  # those no wait() has returned yet

    def __call__(self, change: DeviceChange) -> None:
        self.queue.put(change)

    def wait(self, udn: str, kind: str, timeout: float = WAIT) -> DeviceChange:
        """The next change of *udn*, which must be of *kind*; other devices' changes stay."""
        deadline = time.monotonic() + timeout
        while True:
            for change in self.unread:
                if change.udn == udn:
                    self.unread.remove(change)
                    assert change.kind == kind, f"expected {kind!r} for {udn}, got {change}"
                    return change
            try:
                change = self.queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                seen = [(c.kind, c.udn, c.reason) for c in self.seen]
                raise AssertionError(
                    f"no {kind!r} for {udn} in {timeout} s; seen: {seen}"
                ) from None
            self.seen.append(change)
            self.unread.append(change)


def udn_of(url: str) -> str:
    with upnpy.Device(url) as device:
        return device.udn


@pytest.fixture(scope="module")
def udns(lab):
    return {"gw": udn_of(lab.gw_url), "dms": udn_of(lab.dms_url), "light": udn_of(lab.light_url)}


def test_found_for_each_lab_device(lab, udns):
    changes = Changes()
    with DeviceTracker(callback=changes) as tracker:
        for name, udn in udns.items():
            change = changes.wait(udn, "found")
            assert change.device.udn == udn, name
            assert change.reason.startswith("described from http")
        assert set(udns.values()) <= set(tracker.devices)
        gw = tracker.devices[udns["gw"]]
        assert gw.device_type.startswith("urn:schemas-upnp-org:device:InternetGatewayDevice:")
        # the devices work: one call to the gateway
        assert "NewConnectionStatus" in gw.WANIPConnection.GetStatusInfo()
    assert all(c.kind == "found" for c in changes.seen)


def test_iteration_yields_the_same_changes(lab, udns):
    with DeviceTracker(st="upnp:rootdevice") as tracker:
        found = set()
        deadline = time.monotonic() + WAIT
        for change in tracker:
            assert change.kind == "found"
            found.add(change.udn)
            if set(udns.values()) <= found or time.monotonic() > deadline:
                break
        assert set(udns.values()) <= found


def test_st_filters_what_is_tracked(lab, udns):
    changes = Changes()
    st = "urn:schemas-upnp-org:device:MediaServer:1"
    with DeviceTracker(st=st, callback=changes) as tracker:
        changes.wait(udns["dms"], "found")
        assert set(tracker.devices) == {udns["dms"]}
    assert [c.udn for c in changes.seen] == [udns["dms"]]


def test_lost_promptly_when_minidlna_stops_cleanly(lab, udns):
    changes = Changes()
    udn = udns["dms"]
    with DeviceTracker(st="upnp:rootdevice", callback=changes) as tracker:
        changes.wait(udn, "found")
        try:
            lab.stop("dms")  # SIGTERM: minidlna multicasts its byebyes and exits
            stopped = time.monotonic()
            # minidlna announces max-age 1810 s: only its byebye can make this quick
            change = changes.wait(udn, "lost", timeout=10.0)
            assert change.reason.startswith("byebye confirmed: fetch failed"), change.reason
            assert time.monotonic() - stopped < 10.0
            assert udn not in tracker.devices
        finally:
            lab.start("dms")  # leave the lab as it was
        change = changes.wait(udn, "found")  # and back it comes (alive, or the next M-SEARCH)
        assert udn in tracker.devices


def test_lost_within_max_age_when_killed_without_byebye(lab):
    changes = Changes()
    max_age = 3
    with DeviceTracker(callback=changes) as tracker, lab.responder(max_age=max_age) as emu:
        change = changes.wait(emu.udn, "found")
        assert change.device.location == emu.location
        emu.stop(clean=False)  # SIGKILL: no byebye
        killed = time.monotonic()
        change = changes.wait(emu.udn, "lost", timeout=max_age + 2.0)
        assert time.monotonic() - killed <= max_age + 2.0
        assert change.reason == f"max-age {max_age} s passed"
        assert emu.udn not in tracker.devices


def test_updated_when_restarted_with_a_new_bootid(lab):
    changes = Changes()
    with DeviceTracker(callback=changes) as tracker:
        with lab.responder(max_age=60, bootid=1) as emu:
            first = changes.wait(emu.udn, "found").device
            emu.stop(clean=False)  # gone without a word...
        with lab.responder(max_age=60, bootid=2) as emu:  # ...and back after a reboot
            change = changes.wait(emu.udn, "updated")
            assert change.reason == "BOOTID 1 → 2"
            assert change.device is not first
            assert change.device.udn == emu.udn
            assert tracker.devices[emu.udn] is change.device
            assert change.device.SwitchPower.GetStatus() == {"ResultStatus": False}


def test_ipv6_only_tracker_finds_the_light(lab, udns):
    changes = Changes()
    with DeviceTracker(st="upnp:rootdevice", callback=changes, family=socket.AF_INET6):
        change = changes.wait(udns["light"], "found")
        assert change.device.location.startswith("http://[")
