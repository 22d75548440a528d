"""DeviceTracker: follow the devices of the LAN as they come, change and go (SSDP NOTIFY).

A tracker listens for the NOTIFY announcements multicast to port 1900 (on every interface,
IPv4 and, unless told otherwise, IPv6 ``FF02::C``), sends an M-SEARCH at start and every
:data:`SEARCH_INTERVAL` seconds, describes each new root device once, and reports a
:class:`DeviceChange` whenever one is found, updated (new BOOTID, CONFIGID or LOCATION:
described again first) or lost (a byebye its description URL confirms by failing, or max-age
passed without a word).

The parts:

- :class:`_State`, the bookkeeping, with no thread and no socket: it is fed announcements,
  search answers, fetch results and the time, and answers with what to do (fetches to start,
  changes to report, devices to close). The unit tests drive it directly.
- :class:`DeviceTracker`, the threads around it: ``upnpy-tracker-recv`` reads the listening
  sockets and runs the expiry timer, ``upnpy-tracker-search`` sends the M-SEARCHes,
  ``upnpy-tracker-fetch-N`` describe devices (rate-limited), and ``upnpy-tracker-callback``
  runs the user's callback. :meth:`DeviceTracker.close` stops and joins them all.

Everything is bounded: at most :data:`MAX_TRACKED` devices, :data:`MAX_PENDING` descriptions
waiting to be fetched, :data:`FETCH_RATE` fetches a second, :data:`MAX_EVENTS` unread
changes; a flood of announcements with made-up UDNs is logged once and dropped.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Deque,
    Dict,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Set,
    Union,
    cast,
)
from urllib.parse import urlsplit

from . import _ssdp
from ._discovery import describe
from ._exceptions import DiscoveryError, UPnPError
from ._interfaces import interfaces
from ._proxy import Device
from ._records import Record, record

__all__ = ["DeviceTracker", "DeviceChange"]

log = logging.getLogger("upnpy")

#: Root devices tracked at most; announcements of more new ones are dropped (logged once).
MAX_TRACKED = 1024
#: New LOCATIONs waiting to be described at most; more are dropped (logged once).
MAX_PENDING = 64
#: Descriptions fetched per second at most, by all fetch threads together.
FETCH_RATE = 10.0
#: Threads fetching descriptions.
FETCH_THREADS = 2
#: Seconds one description fetch may take.
FETCH_TIMEOUT = 5.0
#: A LOCATION that could not be described is not tried again for this many seconds.
RETRY_AFTER = 30.0
#: The max-age of an announcement without one (UDA's recommended minimum).
DEFAULT_MAX_AGE = 1800
#: Seconds past max-age before a silent device is lost (the network is not instantaneous).
EXPIRY_GRACE = 1.0
#: Seconds between a byebye and the fetch that confirms it (the device may still be closing).
BYEBYE_DELAY = 0.5
#: Seconds between the tracker's M-SEARCHes (one is sent at start).
SEARCH_INTERVAL = 180.0
#: Seconds each M-SEARCH listens for answers.
SEARCH_TIME = 3.0
#: Changes kept for iteration (and for the callback) at most; the oldest are dropped beyond.
MAX_EVENTS = 1024

FOUND = "found"
UPDATED = "updated"
LOST = "lost"

_MAX_ALIASES = 64  # UDNs (embedded devices, announced names) routed to one root device
_MAX_LOCATIONS = 8  # LOCATIONs per device (one per host: interfaces, IPv4 and IPv6)
_MAX_RESTING = 1024  # LOCATIONs remembered as failed or described
_MAX_CLAIMS = 16  # UDNs announced for one LOCATION waiting to be described
_RECV_BATCH = 64  # datagrams read from one socket before the others get their turn
_REASON_LENGTH = 160


class DeviceChange(NamedTuple):
    """One change of the tracked devices.

    :ivar kind: ``"found"``, ``"updated"`` or ``"lost"``.
    :ivar udn: the root device's UDN (``uuid:...``).
    :ivar device: the device: newly described for ``"found"`` and ``"updated"``; for
        ``"lost"``, the last one known (its connections are closed, its description is
        still there).
    :ivar reason: a short text for people: ``"described from http://..."``,
        ``"BOOTID 1 → 2"``, ``"byebye confirmed: fetch failed (...)"``,
        ``"max-age 1800 s passed"``...
    """

    kind: str
    udn: str
    device: Device
    reason: str


# --- the bookkeeping ------------------------------------------------------------------------


@record
class _Advert(Record):
    """What the state needs of a NOTIFY or a search answer."""

    kind: str  # "alive", "update", "byebye" or "response"
    udn: str
    nt: str  # NT of a NOTIFY, ST of an answer
    location: str  # "" for a byebye
    max_age: Optional[int]
    bootid: Optional[int]
    configid: Optional[int]
    next_bootid: Optional[int] = None

    @classmethod
    def of(cls, message: Union[_ssdp.SSDPNotify, _ssdp.SSDPResponse]) -> _Advert:
        if isinstance(message, _ssdp.SSDPNotify):
            kind, nt, next_bootid = message.nts[5:], message.nt, message.next_bootid
        else:
            kind, nt, next_bootid = "response", message.st, None
        return cls(
            kind=kind,
            udn=message.udn,
            nt=nt,
            location=message.location,
            max_age=message.max_age,
            bootid=message.bootid,
            configid=message.configid,
            next_bootid=next_bootid,
        )

    @property
    def new_bootid(self) -> Optional[int]:
        """The BOOTID the device has after this message (NEXTBOOTID of an update)."""
        if self.kind == "update" and self.next_bootid is not None:
            return self.next_bootid
        return self.bootid


@dataclass(frozen=True, eq=False)
class _Job:
    """One description to fetch; compared by identity (a result must be the awaited one)."""

    # "new" (a pending LOCATION), "update" (a change), "confirm" (a byebye), "moved" (is the
    # known LOCATION still there, now that the device announces another host's?)
    purpose: str
    location: str
    udn: str = ""  # the tracked root device, for "update" and "confirm"
    bootid: Optional[int] = None  # what the device announced, adopted once described
    configid: Optional[int] = None
    reason: str = ""


@dataclass(eq=False)
class _Pending:
    """A LOCATION announced by UDNs not tracked yet, being described."""

    job: _Job
    claims: Set[str]
    bootid: Optional[int]
    configid: Optional[int]
    max_age: int
    expires: float
    byebye: bool = False


@dataclass(eq=False)
class _Entry:
    """One tracked root device."""

    device: Device
    location: str
    bootid: Optional[int]
    configid: Optional[int]
    max_age: int
    expires: float
    aliases: Set[str]
    locations: Dict[str, str]  # host -> LOCATION: one per interface / address family
    job: Optional[_Job] = None
    deferred: Optional[_Advert] = None  # arrived while job ran; looked at after
    retry_at: float = 0.0  # a change that could not be described waits till then
    byebye_at: Optional[float] = None  # a byebye not yet confirmed, nor refuted by an alive
    confirm_at: Optional[float] = None


@dataclass
class _Out:
    """What the state asks its driver to do after one call."""

    changes: List[DeviceChange] = field(default_factory=list)
    jobs: List[_Job] = field(default_factory=list)
    closing: List[Device] = field(default_factory=list)


def target_matches(st: str, nt: str) -> bool:
    """Whether an announcement of *nt* is one a tracker for *st* wants.

    ``ssdp:all`` takes everything; otherwise *nt* must equal *st*, or for a device or service
    type URN have the same type with a version at least as high (a device of version 2 also
    implements version 1).
    """
    if st in ("ssdp:all", nt):
        return True
    if not (st.startswith("urn:") and nt.startswith("urn:")):
        return False
    base, _, version = st.rpartition(":")
    have_base, _, have = nt.rpartition(":")
    return (
        base == have_base
        and version.isascii()
        and version.isdigit()
        and have.isascii()
        and have.isdigit()
        and len(have) < 10
        and int(have) >= int(version)
    )


def _host(location: str) -> str:
    try:
        return urlsplit(location).hostname or ""
    except ValueError:
        return ""


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _REASON_LENGTH else text[: _REASON_LENGTH - 1] + "…"


def _udns(device: Device) -> List[str]:
    """The UDNs of *device*'s tree, the root first (at most :data:`_MAX_ALIASES`)."""
    found: List[str] = []
    for each in device.walk():
        if len(found) >= _MAX_ALIASES:
            break
        if each.udn and each.udn not in found:
            found.append(each.udn)
    return found


class _State:
    """The tracker's bookkeeping: no threads, no sockets, no clock of its own.

    Every method takes the monotonic time *now* and returns an :class:`_Out`. Not thread-safe:
    the tracker calls it under its lock.
    """

    def __init__(self, st: str) -> None:
        self.st = st
        self.tracked: Dict[str, _Entry] = {}  # by root UDN
        self.alias: Dict[str, str] = {}  # any UDN of a tracked tree -> its root UDN
        self.pending: Dict[str, _Pending] = {}  # by LOCATION
        #: LOCATIONs not described for new UDNs before a time: failed, or described already
        self.resting: collections.OrderedDict[str, float] = collections.OrderedDict()
        #: The earliest time :meth:`tick` may have something to do (never later than that).
        self.due = math.inf
        self._warned: Set[str] = set()

    # -- inputs --

    def advert(self, ad: _Advert, now: float) -> _Out:
        """Take in one NOTIFY or search answer."""
        out = _Out()
        root = self.alias.get(ad.udn)
        if root is not None:
            entry = self.tracked[root]
            if ad.kind == "byebye":
                self._byebye(entry, ad, now)
            else:
                self._alive(entry, ad, now, out)
        elif ad.kind == "byebye":
            for pending in self.pending.values():
                if ad.udn in pending.claims:
                    pending.byebye = True
        elif target_matches(self.st, ad.nt):
            self._new(ad, now, out)
        return out

    def fetched(self, job: _Job, device: Optional[Device], error: str, now: float) -> _Out:
        """Take in the result of *job*: the device described, or ``None`` and why not."""
        out = _Out()
        if job.purpose == "new":
            pending = self.pending.get(job.location)
            if pending is None or pending.job is not job:
                out.closing += [device] if device is not None else []
                return out
            del self.pending[job.location]
            if device is None:
                self._rest(job.location, now)
                log.info("tracker: cannot describe %s: %s", job.location, error)
            else:
                self._adopt(pending, device, now, out)
            return out
        entry = self.tracked.get(job.udn)
        if entry is None or entry.job is not job:
            out.closing += [device] if device is not None else []
            return out
        entry.job = None
        if job.purpose == "update":
            self._updated(entry, job, device, error, now, out)
        elif job.purpose == "moved":
            self._moved(entry, job, device, error, out)
        else:
            self._confirmed(entry, job, device, error, out)
        if self.tracked.get(job.udn) is entry:
            if entry.confirm_at is not None:
                self.due = min(self.due, entry.confirm_at)
            if entry.deferred is not None:
                ad, entry.deferred = entry.deferred, None
                self._check(entry, ad, now, out)
        return out

    def tick(self, now: float) -> _Out:
        """Lose the devices whose max-age has passed; start the byebye checks that are due."""
        out = _Out()
        if now < self.due:
            return out
        due = math.inf
        for root, entry in list(self.tracked.items()):
            if entry.expires <= now:
                self._remove(root, f"max-age {entry.max_age} s passed", out)
                continue
            if entry.confirm_at is not None and entry.job is None:
                if entry.confirm_at <= now:
                    entry.confirm_at = None
                    entry.job = _Job("confirm", entry.location, root, reason="byebye")
                    out.jobs.append(entry.job)
                else:
                    due = min(due, entry.confirm_at)
            due = min(due, entry.expires)
        self.due = due
        while self.resting and next(iter(self.resting.values())) <= now:
            self.resting.popitem(last=False)
        return out

    def devices(self) -> Dict[str, Device]:
        return {root: entry.device for root, entry in self.tracked.items()}

    def clear(self) -> List[Device]:
        """Forget everything; return the devices held, to be closed."""
        devices = [entry.device for entry in self.tracked.values()]
        self.tracked.clear()
        self.alias.clear()
        self.pending.clear()
        self.resting.clear()
        self.due = math.inf
        return devices

    # -- tracked devices --

    @staticmethod
    def _stale(entry: _Entry, ad: _Advert) -> bool:
        """A BOOTID lower than the one known: a datagram from before a reboot (UDA)."""
        if ad.bootid is None or entry.bootid is None or ad.bootid >= entry.bootid:
            return False
        log.debug(
            "tracker: stale announcement for %s (BOOTID %s < %s)", ad.udn, ad.bootid, entry.bootid
        )
        return True

    def _alive(self, entry: _Entry, ad: _Advert, now: float, out: _Out) -> None:
        if self._stale(entry, ad):
            return
        if ad.max_age is not None or ad.kind != "update":  # an update has no CACHE-CONTROL
            max_age = DEFAULT_MAX_AGE if ad.max_age is None else ad.max_age
            expires = now + max_age + EXPIRY_GRACE
            if expires >= entry.expires:  # a forged short max-age never shortens the life
                entry.expires, entry.max_age = expires, max_age
        entry.byebye_at = entry.confirm_at = None
        self._check(entry, ad, now, out)

    def _check(self, entry: _Entry, ad: _Advert, now: float, out: _Out) -> None:
        """Describe *entry* again if *ad* says its BOOTID, CONFIGID or LOCATION changed."""
        if entry.job is not None:  # one fetch at a time per device: look again after it
            entry.deferred = ad
            return
        if ad.kind == "update" and ad.next_bootid is not None and ad.bootid == entry.bootid:
            entry.bootid = ad.next_bootid  # announced in advance: not a reboot (UDA 1.1)
        bootid, configid = ad.new_bootid, ad.configid
        reasons = []
        if bootid is not None and entry.bootid is not None and bootid > entry.bootid:
            reasons.append(f"BOOTID {entry.bootid} → {bootid}")
        if configid is not None and entry.configid is not None and configid != entry.configid:
            reasons.append(f"CONFIGID {entry.configid} → {configid}")
        host = _host(ad.location)
        known = entry.locations.get(host) if ad.location else None
        if known is not None and known != ad.location:
            reasons.append(f"LOCATION {known} → {ad.location}")
        if reasons:
            if now >= entry.retry_at:
                entry.job = _Job(
                    "update", ad.location, entry.device.udn, bootid, configid, ", ".join(reasons)
                )
                out.jobs.append(entry.job)
            return
        if entry.bootid is None:
            entry.bootid = bootid
        if entry.configid is None:
            entry.configid = configid
        if not ad.location or known is not None or len(entry.locations) >= _MAX_LOCATIONS:
            return
        if _family(host) == _family(_host(entry.location)) and now >= entry.retry_at:
            # a new address of the same family: renumbered (DHCP), or a second interface?
            # the known LOCATION answers for the second; if it does not, the device moved.
            entry.job = _Job("moved", entry.location, entry.device.udn, reason=ad.location)
            out.jobs.append(entry.job)
            return
        entry.locations[host] = ad.location  # the same device over the other IP version

    def _moved(
        self, entry: _Entry, job: _Job, device: Optional[Device], error: str, out: _Out
    ) -> None:
        new = job.reason
        if device is not None:
            out.closing.append(device)
            if device.udn == entry.device.udn:  # still there: a second address
                if len(entry.locations) < _MAX_LOCATIONS:
                    entry.locations[_host(new)] = new
                return
        log.info("tracker: %s left %s (%s); describing %s", job.udn, job.location, error, new)
        entry.job = _Job("update", new, job.udn, reason=f"LOCATION {job.location} → {new}")
        out.jobs.append(entry.job)

    def _byebye(self, entry: _Entry, ad: _Advert, now: float) -> None:
        if self._stale(entry, ad) or entry.byebye_at is not None:
            return
        entry.byebye_at, entry.confirm_at = now, now + BYEBYE_DELAY
        self.due = min(self.due, entry.confirm_at)

    def _updated(
        self, entry: _Entry, job: _Job, device: Optional[Device], error: str, now: float, out: _Out
    ) -> None:
        root = entry.device.udn
        if device is not None and device.udn != root:
            out.closing.append(device)
            error = f"{job.location} describes {device.udn} now"
            device = None
        if device is None:
            entry.retry_at = now + RETRY_AFTER
            log.info(
                "tracker: %s changed (%s) but cannot be described: %s", root, job.reason, error
            )
            return
        out.closing.append(entry.device)
        entry.device, entry.location = device, job.location
        entry.locations = {_host(job.location): job.location}
        entry.bootid = entry.bootid if job.bootid is None else job.bootid
        entry.configid = entry.configid if job.configid is None else job.configid
        entry.retry_at = 0.0
        self._link(root, entry, _udns(device))
        out.changes.append(DeviceChange(UPDATED, root, device, _short(job.reason)))

    def _confirmed(
        self, entry: _Entry, job: _Job, device: Optional[Device], error: str, out: _Out
    ) -> None:
        root = entry.device.udn
        if device is not None:
            out.closing.append(device)
        if entry.byebye_at is None:  # announced again since: not gone
            return
        if device is not None and device.udn == root:
            log.info("tracker: %s said byebye but %s still answers; kept", root, job.location)
            entry.byebye_at = None
            return
        why = error if device is None else f"{job.location} describes {device.udn} now"
        self._remove(root, _short(f"byebye confirmed: fetch failed ({why})"), out)

    def _remove(self, root: str, reason: str, out: _Out) -> None:
        entry = self.tracked.pop(root)
        for location in entry.locations.values():  # back at once, it is described at once
            self.resting.pop(location, None)
        for udn in entry.aliases:
            if self.alias.get(udn) == root:
                del self.alias[udn]
        out.changes.append(DeviceChange(LOST, root, entry.device, reason))
        out.closing.append(entry.device)

    def _link(self, root: str, entry: _Entry, udns: List[str]) -> None:
        """Route *udns* (its tree's, and the ones announced for it) to *root*."""
        for udn in entry.aliases:
            if self.alias.get(udn) == root:
                del self.alias[udn]
        entry.aliases = set()
        for udn in [root, *udns]:
            if len(entry.aliases) >= _MAX_ALIASES:
                break
            if self.alias.setdefault(udn, root) == root:
                entry.aliases.add(udn)

    # -- new devices --

    def _new(self, ad: _Advert, now: float, out: _Out) -> None:
        if not ad.location:
            return
        retry = self.resting.get(ad.location)  # failed, or a known device's
        if retry is not None and retry > now:
            return
        max_age = DEFAULT_MAX_AGE if ad.max_age is None else ad.max_age
        expires = now + max_age + EXPIRY_GRACE
        pending = self.pending.get(ad.location)
        if pending is not None:
            if len(pending.claims) < _MAX_CLAIMS:
                pending.claims.add(ad.udn)
            pending.byebye = False
            bootid = ad.new_bootid
            if bootid is not None and (pending.bootid is None or bootid > pending.bootid):
                pending.bootid = bootid
            if ad.configid is not None:
                pending.configid = ad.configid
            if expires >= pending.expires:
                pending.expires, pending.max_age = expires, max_age
            return
        if len(self.pending) >= MAX_PENDING:
            self._flood("pending", f"over {MAX_PENDING} new LOCATIONs waiting to be described")
            return
        if len(self.tracked) + len(self.pending) >= MAX_TRACKED:
            self._flood("tracked", f"{MAX_TRACKED} devices tracked already")
            return
        job = _Job("new", ad.location)
        self.pending[ad.location] = _Pending(
            job, {ad.udn}, ad.new_bootid, ad.configid, max_age, expires
        )
        out.jobs.append(job)

    def _adopt(self, pending: _Pending, device: Device, now: float, out: _Out) -> None:
        root, location = device.udn, pending.job.location
        if not root:
            log.info("tracker: the description at %s has no UDN; not tracked", location)
            self._rest(location, now)
            out.closing.append(device)
            return
        if pending.byebye:
            log.info("tracker: %s said byebye while being described; not tracked", root)
            out.closing.append(device)
            return
        udns = _udns(device) + sorted(pending.claims)
        entry = self.tracked.get(root)
        if entry is not None:  # the same device, announced at another LOCATION or UDN
            out.closing.append(device)
            self._rest(location, now)  # more made-up UDNs there are not fetched at once
            host = _host(location)
            if host not in entry.locations and len(entry.locations) < _MAX_LOCATIONS:
                entry.locations[host] = location
            if pending.expires >= entry.expires:
                entry.expires, entry.max_age = pending.expires, pending.max_age
            self._link(root, entry, [*entry.aliases, *udns])
            return
        if len(self.tracked) >= MAX_TRACKED:
            self._flood("tracked", f"{MAX_TRACKED} devices tracked already")
            out.closing.append(device)
            return
        entry = _Entry(
            device=device,
            location=location,
            bootid=pending.bootid,
            configid=pending.configid,
            max_age=pending.max_age,
            expires=pending.expires,
            aliases=set(),
            locations={_host(location): location},
        )
        self.tracked[root] = entry
        self._link(root, entry, udns)
        self.due = min(self.due, entry.expires)
        out.changes.append(DeviceChange(FOUND, root, device, _short(f"described from {location}")))

    def _rest(self, location: str, now: float) -> None:
        """Describe *location* for a new UDN again only after :data:`RETRY_AFTER` seconds."""
        self.resting[location] = now + RETRY_AFTER
        self.resting.move_to_end(location)
        while len(self.resting) > _MAX_RESTING:
            self.resting.popitem(last=False)

    def _flood(self, what: str, message: str) -> None:
        if what in self._warned:
            log.debug("tracker: %s; announcement dropped", message)
        else:
            self._warned.add(what)
            log.warning("tracker: %s; announcements of more are dropped (logged once)", message)


# --- the threads ----------------------------------------------------------------------------


class DeviceTracker:
    """Follow the UPnP devices of the LAN: found, updated, lost — as it happens.

    ::

        with upnpy.DeviceTracker() as tracker:
            for change in tracker:                  # blocks; ends on close()
                print(change.kind, change.device)   # "found", "updated" or "lost"

    The tracker listens for SSDP NOTIFY announcements on port 1900 of every interface
    (``239.255.255.250``; and ``FF02::C`` unless *family* is IPv4 only), and sends an
    M-SEARCH for *st* at start and every :data:`SEARCH_INTERVAL` seconds. Devices are
    tracked by the UDN of their root device, each described once (at most
    :data:`FETCH_RATE` descriptions a second), and reported as :class:`DeviceChange`:

    - ``"found"``: a new root device, once described;
    - ``"updated"``: its BOOTID rose (a reboot), its CONFIGID or its LOCATION changed; it is
      described again first, and the change carries the new :class:`~upnpy.Device`. A
      LOCATION on a new host of the same IP version counts once the known one stops
      answering (a renumbered device; a second address is just remembered); the same
      device over the other IP version is no change;
    - ``"lost"``: after a byebye, once its description URL failed to answer (devices send
      spurious byebyes; one that still answers is kept), or when max-age (plus
      :data:`EXPIRY_GRACE`) passed since its last announcement or search answer — on a
      timer, whether or not other packets arrive. A device that gives no max-age lives
      :data:`DEFAULT_MAX_AGE` seconds.

    Changes are delivered two ways, both in the order they happen: iterating the tracker
    yields them (blocking; several iterating threads share them out; the changes queued
    when :meth:`close` is called are still yielded, then iteration ends), and *callback*,
    if given, is called with each on a thread of its own (never the receiving one; an
    exception it raises is logged on the ``upnpy`` logger). At most :data:`MAX_EVENTS`
    unread changes are kept; older ones are dropped.

    The devices are the tracker's: :meth:`close` closes them (a closed device can still be
    used; it just keeps no connection open). Interfaces that appear after the start are
    not listened on.

    :param st: what to track: ``ssdp:all`` (every device), ``upnp:rootdevice``, a
        ``uuid:...``, or a device or service type URN (higher versions match too).
    :param callback: called with each :class:`DeviceChange`, on the tracker's callback
        thread; ``None`` for none.
    :param family: :data:`socket.AF_INET` or :data:`socket.AF_INET6` to listen and search
        over that protocol only; ``None`` for both.
    :raises DiscoveryError: when no interface can be listened on.
    :raises ValueError: for a bad *st* or *family*.
    :raises TypeError: when *callback* is not callable.
    """

    def __init__(
        self,
        st: str = "ssdp:all",
        callback: Optional[Callable[[DeviceChange], Any]] = None,
        family: Optional[int] = None,
    ) -> None:
        if not isinstance(st, str):
            raise TypeError(f"st must be a str, not {type(st).__name__}")
        _ssdp.build_msearch(st, 1)  # raises ValueError for an empty or multi-line st
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, not {callback!r}")
        if family not in (None, socket.AF_INET, socket.AF_INET6):
            raise ValueError(
                f"family must be socket.AF_INET, socket.AF_INET6 or None, not {family!r}"
            )
        self.st = st
        self._callback = callback
        self._family = family
        self._lock = threading.Lock()  # the state
        self._state = _State(st)
        self._cond = threading.Condition()  # the change queues and _closed
        self._events: Deque[DeviceChange] = collections.deque()
        self._calls: Deque[DeviceChange] = collections.deque()
        self._overflowed = False
        self._closed = False
        self._stop = threading.Event()
        self._jobs: queue.SimpleQueue[Optional[_Job]] = queue.SimpleQueue()
        self._rate_lock = threading.Lock()
        self._next_fetch = 0.0
        self._threads: List[threading.Thread] = []
        self._listeners: List[socket.socket] = []
        self._wakeup, self._waker = socket.socketpair()
        self._search_wakeup, self._search_waker = socket.socketpair()
        try:
            for sock in (self._wakeup, self._waker, self._search_wakeup, self._search_waker):
                sock.setblocking(False)
            self._listeners = self._open_listeners()
            self._start()
        except BaseException:
            self.close()
            raise

    # -- the public side --

    @property
    def devices(self) -> Dict[str, Device]:
        """The devices tracked now, by root UDN: a snapshot (a new dict each time)."""
        with self._lock:
            return self._state.devices()

    def __iter__(self) -> Iterator[DeviceChange]:
        """Yield each change as it happens; block while there is none; end on :meth:`close`."""
        while True:
            with self._cond:
                while not self._events and not self._closed:
                    self._cond.wait()
                if not self._events:
                    return
                change = self._events.popleft()
            yield change

    def close(self) -> None:
        """Stop listening and searching, join every thread, close the devices (idempotent).

        Waits for descriptions being fetched (at most :data:`FETCH_TIMEOUT` seconds).
        Changes not yet passed to the callback are dropped.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._stop.set()
        for waker in (self._waker, self._search_waker):
            try:
                waker.send(b"\0")
            except OSError:
                pass
        for thread in self._threads:
            if thread.name.startswith("upnpy-tracker-fetch"):
                self._jobs.put(None)
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current and thread.ident is not None:
                thread.join()
        for sock in [*self._listeners, self._wakeup, self._waker]:
            sock.close()
        for sock in (self._search_wakeup, self._search_waker):
            sock.close()
        with self._lock:
            devices = self._state.clear()
        for device in devices:
            _close(device)

    def __enter__(self) -> DeviceTracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.devices)} devices"
        return f"<DeviceTracker {self.st}, {state}>"

    # -- set-up (tests replace these two) --

    def _open_listeners(self) -> List[socket.socket]:
        """One listening socket per interface (see :func:`upnpy._ssdp.open_listener`)."""
        found, problems = [], []
        for iface in interfaces(self._family):
            try:
                found.append(_ssdp.open_listener(iface))
            except OSError as exc:
                problems.append(f"{iface}: {exc}")
                log.warning("tracker: cannot listen for SSDP on %s: %s", iface, exc)
        if not found:
            raise DiscoveryError(f"cannot listen for SSDP announcements: {'; '.join(problems)}")
        return found

    def _search_once(self) -> None:
        """One M-SEARCH for :attr:`st`; every answer goes to the state."""
        try:
            answers = _ssdp._search(
                self.st, SEARCH_TIME, wakeup=self._search_wakeup, family=self._family
            )
        except DiscoveryError as exc:
            log.warning("tracker: M-SEARCH not sent: %s", exc)
            return
        try:
            for answer in answers:
                if self._stop.is_set():
                    return
                if answer is not None:
                    ad = _Advert.of(answer)
                    self._step(_State.advert, ad)
        except DiscoveryError as exc:
            log.warning("tracker: M-SEARCH failed: %s", exc)
        finally:
            answers.close()

    def _start(self) -> None:
        targets: List[Any] = [("recv", self._receive), ("search", self._searcher)]
        targets += [(f"fetch-{n}", self._fetcher) for n in range(1, FETCH_THREADS + 1)]
        if self._callback is not None:
            targets.append(("callback", self._caller))
        for name, target in targets:
            thread = threading.Thread(target=target, name=f"upnpy-tracker-{name}", daemon=True)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    # -- the machinery --

    def _step(self, method: Callable[..., _Out], *args: Any) -> None:
        """Run ``method(state, *args, now)`` under the lock, publish the changes it made, then
        start its fetches and close what it let go."""
        with self._lock:
            out = method(self._state, *args, time.monotonic())
            if out.changes:
                self._publish(out.changes)
        for job in out.jobs:
            self._jobs.put(job)
        for device in out.closing:
            _close(device)

    def _publish(self, changes: List[DeviceChange]) -> None:
        with self._cond:
            for change in changes:
                log.info("tracker: %s %s (%s)", change.kind, change.udn, change.reason)
                self._push(self._events, change)
                if self._callback is not None:
                    self._push(self._calls, change)
            self._cond.notify_all()

    def _push(self, changes: Deque[DeviceChange], change: DeviceChange) -> None:
        if len(changes) >= MAX_EVENTS:
            changes.popleft()
            if not self._overflowed and (changes is self._calls or self._callback is None):
                self._overflowed = True
                log.warning("tracker: over %d changes unread; the oldest are dropped", MAX_EVENTS)
        changes.append(change)

    def _wake(self) -> None:
        try:
            self._waker.send(b"\0")
        except OSError:  # full (already awake), or closed
            pass

    def _receive(self) -> None:
        """The receive thread: NOTIFYs in, and the timer of :meth:`_State.tick`."""
        selector = selectors.DefaultSelector()
        try:
            for sock in self._listeners:
                selector.register(sock, selectors.EVENT_READ)
            selector.register(self._wakeup, selectors.EVENT_READ)
            while not self._stop.is_set():
                try:
                    with self._lock:
                        due = self._state.due
                    wait = None if due == math.inf else max(0.0, due - time.monotonic())
                    for key, _ in selector.select(wait):
                        if key.fileobj is self._wakeup:
                            _drain(self._wakeup)
                        else:
                            self._read(cast(socket.socket, key.fileobj))
                    self._step(_State.tick)
                except Exception:  # a bug: logged, and the tracker keeps running
                    log.exception("tracker: receive loop error")
                    self._stop.wait(0.1)
        finally:
            selector.close()

    def _read(self, sock: socket.socket) -> None:
        for _ in range(_RECV_BATCH):
            try:
                data, address = sock.recvfrom(_ssdp.DATAGRAM_BUFFER)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("tracker: receive failed: %s", exc)
                return
            notify = _ssdp.parse_notify(data, address)
            if notify is not None:
                ad = _Advert.of(notify)
                self._step(_State.advert, ad)

    def _searcher(self) -> None:
        while not self._stop.is_set():
            try:
                self._search_once()
            except Exception:
                log.exception("tracker: M-SEARCH error")
            if self._stop.wait(SEARCH_INTERVAL):
                return

    def _throttle(self) -> bool:
        """Wait for this thread's turn to fetch (:data:`FETCH_RATE`); ``True`` when stopped."""
        with self._rate_lock:
            now = time.monotonic()
            slot = max(now, self._next_fetch)
            self._next_fetch = slot + 1.0 / FETCH_RATE
        return self._stop.wait(slot - now) if slot > now else self._stop.is_set()

    def _fetcher(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self._stop.is_set() or self._throttle():
                return
            device: Optional[Device] = None
            error = ""
            try:
                device = describe(job.location, time.monotonic() + FETCH_TIMEOUT)
            except UPnPError as exc:
                error = str(exc)
            except Exception as exc:  # a bug must not end the thread
                log.warning("tracker: describing %s failed: %r", job.location, exc, exc_info=True)
                error = repr(exc)
            if self._stop.is_set():
                if device is not None:
                    _close(device)
                return
            try:
                self._step(_State.fetched, job, device, error)
            except Exception:
                log.exception("tracker: fetch result error")
            self._wake()  # the timer may be due sooner now

    def _caller(self) -> None:
        callback = cast(Callable[[DeviceChange], Any], self._callback)
        while True:
            with self._cond:
                while not self._calls and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                change = self._calls.popleft()
            try:
                callback(change)
            except Exception:
                log.exception("tracker: callback raised for %s %s", change.kind, change.udn)


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:  # BlockingIOError: empty
        pass


def _close(device: Device) -> None:
    try:
        device.close()
    except Exception:
        log.debug("tracker: closing %r failed", device, exc_info=True)
