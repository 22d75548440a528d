"""discover() and discover_iter(): SSDP search plus concurrent description fetches, under one
deadline, optionally starting from the devices a cache file remembers.

A device returned here holds no socket: its description connection is closed once read, and
its own connections open on first use (so thousands of devices fit in 1024 descriptors).
"""

from __future__ import annotations

import collections
import logging
import select
import socket
import time
from typing import (
    TYPE_CHECKING,
    Callable,
    Deque,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
)

from . import _ssdp
from ._description import parse_device
from ._exceptions import DescriptionError, UPnPError
from ._proxy import MAX_DESCRIPTION, Device
from ._records import DeviceInfo, Record, record
from ._ssdp import SSDPResponse, answers_search
from ._transport import SocketTransport, fetch

if TYPE_CHECKING:  # the cache module is loaded only when a cache is used
    from concurrent.futures import Future
    from pathlib import Path

    from ._cache import CachePath, Entry, Store

__all__ = ["discover", "discover_iter", "describe"]

log = logging.getLogger("upnpy")

#: How long past the search deadline discovery waits for descriptions already being fetched.
GRACE = 0.25
#: Descriptions fetched at once.
MAX_FETCHES = 8
#: Distinct LOCATIONs fetched in one discovery; more are ignored (a flood of answers).
MAX_LOCATIONS = 4096
#: With a cache: how long the checks of cached devices may hold back the multicast search.
CACHE_WAIT = 0.25
#: When both IP versions are searched, how long an IPv6 LOCATION waits for the same
#: device's IPv4 answer, which is preferred (UPnP devices' IPv6 support is the younger one).
IPV6_DELAY = 0.1
#: Other LOCATIONs kept per UDN while one of its LOCATIONs is being fetched.
_MAX_ALTERNATIVES = 4


def _fetch_description(location: str, deadline: float) -> Tuple[bytes, DeviceInfo]:
    """The description at *location*, as bytes and parsed; its connection is closed after."""
    transport = SocketTransport()
    try:
        data = fetch(transport, location, limit=MAX_DESCRIPTION, deadline=deadline)
    finally:
        transport.close()
    return data, parse_device(data, location)


def describe(location: str, deadline: float) -> Device:
    """Fetch and parse the root description at *location*, by the monotonic *deadline*.

    :raises DescriptionError: when it cannot be fetched or parsed.
    """
    _, info = _fetch_description(location, deadline)
    return Device.from_info(info, location)


def _tree(info: DeviceInfo) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Every device and service type, and every UDN, in the tree under *info*."""
    types: List[str] = []
    udns: List[str] = []
    pending = [info]
    while pending:
        device = pending.pop()
        types.append(device.device_type)
        types.extend(service.service_type for service in device.services)
        udns.append(device.udn)
        pending.extend(device.devices)
    return tuple(dict.fromkeys(types)), tuple(udns)


@record
class _Job(Record):
    """One LOCATION to describe: from a search answer, or a cached device to check."""

    claimed: str  # the UDN the answer or the cache claims for it
    location: str
    response: Optional[SSDPResponse] = None
    entry: Optional[Entry] = None

    @property
    def key(self) -> Tuple[str, bool]:
        """The claimed UDN, and whether the LOCATION is IPv6: one fetch at a time per key."""
        return self.claimed, _is_ipv6(self.location)


def _is_ipv6(location: str) -> bool:
    return location.partition("//")[2].startswith("[")


class _Superseded(Exception):
    """The device's IPv4 LOCATION was described, or is being fetched, while its IPv6 one
    waited: the IPv6 one is kept in case the IPv4 fetch fails."""


@record
class _Found(Record):
    device: Device
    description: bytes


def _run_job(
    job: _Job, st: str, deadline: float, store: Optional[Store], ahead: Optional[_Ahead]
) -> _Found:
    if ahead is not None:  # an IPv6 answer, when IPv4 is searched too: let IPv4 go first
        time.sleep(max(0.0, min(IPV6_DELAY, deadline - time.monotonic())))
        if ahead(job.claimed):
            raise _Superseded
    data, info = _fetch_description(job.location, deadline)
    if not answers_search(st, *_tree(info)):  # miniupnpd as IGD:1 answers for IGD:2
        raise DescriptionError(f"it answered a search for {st}, but has none", url=job.location)
    if job.entry is not None and info.udn != job.entry.udn:
        raise DescriptionError(
            f"now describes {info.udn}, not the cached {job.entry.udn}", url=job.location
        )
    documents = store.documents(info.udn) if store is not None else None
    return _Found(Device.from_info(info, job.location, documents=documents), data)


_Ahead = Callable[[str], bool]  # whether an IPv4 LOCATION of this UDN is described or fetched


class _Describer:
    """Describes LOCATIONs on a thread pool, each once, and collects devices by UDN.

    Every finished fetch writes a byte to :attr:`wakeup`'s peer, so the SSDP receive loop
    (which selects on :attr:`wakeup` too) returns to the caller as soon as a device is ready.
    While one LOCATION of a UDN is being fetched, other LOCATIONs claiming that UDN wait, and
    are tried only if it fails (a device answering over IPv4 and IPv6 is described once).
    """

    def __init__(self, st: str, deadline: float, store: Optional[Store], both: bool) -> None:
        from concurrent.futures import ThreadPoolExecutor  # ~5 ms: not at import upnpy

        self.st = st
        self.deadline = deadline
        self.store = store
        self._both = both  # IPv4 and IPv6 are searched
        self._described: Set[str] = set()  # claimed UDNs described (read by the workers)
        self.wakeup, self._waker = socket.socketpair()
        self.wakeup.setblocking(False)
        self._waker.setblocking(False)
        self._pool = ThreadPoolExecutor(MAX_FETCHES, thread_name_prefix="upnpy-describe")
        self._fetches: Dict[str, Future[_Found]] = {}
        self._done: Deque[Tuple[_Job, Future[_Found]]] = collections.deque()  # not collected
        self._busy: Set[Tuple[str, bool]] = set()  # job keys being fetched
        self._waiting: Dict[Tuple[str, bool], Deque[_Job]] = {}  # more LOCATIONs for a busy key
        self._checks: List[Future[_Found]] = []
        self._uncollected = 0  # fetches submitted and not collected yet
        self._flooded = False
        self.failed_checks: Set[str] = set()  # cached UDNs whose LOCATION did not answer
        self.devices: Dict[str, Device] = {}  # by UDN, in the order they became ready

    def submit(self, job: _Job) -> None:
        if job.location in self._fetches or job.claimed in self._described:
            return
        if job.key in self._busy:
            waiting = self._waiting.setdefault(job.key, collections.deque())
            if len(waiting) < _MAX_ALTERNATIVES:
                waiting.append(job)
            return
        if len(self._fetches) >= MAX_LOCATIONS:  # a flood of made-up LOCATIONs
            if not self._flooded:
                log.warning("discover: over %d LOCATIONs; the rest are ignored", MAX_LOCATIONS)
                self._flooded = True
            return
        defer = self._both and job.entry is None and _is_ipv6(job.location)
        ahead = self._ipv4_ahead if defer else None
        future = self._pool.submit(_run_job, job, self.st, self.deadline, self.store, ahead)
        self._fetches[job.location] = future
        self._uncollected += 1
        self._busy.add(job.key)
        if job.entry is not None:
            self._checks.append(future)
        future.add_done_callback(lambda done: self._finished(job, done))

    def _ipv4_ahead(self, udn: str) -> bool:  # a worker thread: reads only
        return udn in self._described or (udn, False) in self._busy

    def _finished(self, job: _Job, future: Future[_Found]) -> None:  # any thread
        self._done.append((job, future))
        try:
            self._waker.send(b"\0")
        except OSError:  # buffer full (already woken), or closed after discovery ended
            pass

    def busy(self) -> bool:
        """Whether a fetch is still running or not yet collected."""
        return self._uncollected > 0

    def checking(self) -> bool:
        """Whether a cached device's check is still running."""
        return any(not f.done() for f in self._checks)

    def wait(self, seconds: float) -> None:
        """Wait up to *seconds* for a fetch to finish."""
        if self._done:
            return
        select.select([self.wakeup], [], [], max(seconds, 0.0))
        try:
            self.wakeup.recv(4096)
        except (BlockingIOError, InterruptedError):
            pass

    def collect(self) -> List[Device]:
        """Take in the fetches finished since the last call; return the new devices."""
        new: List[Device] = []
        while self._done:
            job, future = self._done.popleft()
            self._uncollected -= 1
            self._busy.discard(job.key)
            device = self._take(job, future)
            if device is not None:
                new.append(device)
                self._described.add(job.claimed)
                self._described.update(_tree(device.info)[1])  # any UDN of it, as answered
            waiting = self._waiting.get(job.key)
            if waiting and job.claimed not in self._described:
                self.submit(waiting.popleft())
        return new

    def _take(self, job: _Job, future: Future[_Found]) -> Optional[Device]:
        if future.cancelled():
            return None
        try:
            found = future.result()
        except _Superseded:  # kept behind the IPv4 fetch, tried if that one fails
            del self._fetches[job.location]
            if (job.claimed, False) in self._busy:
                self._waiting.setdefault((job.claimed, False), collections.deque()).append(job)
            elif job.claimed not in self._described:  # it failed meanwhile
                self.submit(job)
            return None
        except UPnPError as exc:
            log.info("discover: left out %s: %s", job.location, exc)
        except Exception as exc:  # a bug must not break discovery either
            log.warning("discover: left out %s: %r", job.location, exc, exc_info=True)
        else:
            device = found.device
            if device.udn in self.devices:
                device.close()
                return None
            self.devices[device.udn] = device
            if self.store is not None:
                self._remember(job, found)
            return device
        if job.entry is not None:
            self.failed_checks.add(job.entry.udn)
        return None

    def _remember(self, job: _Job, found: _Found) -> None:
        """Record a described device in the cache, unless the cache already has it so."""
        from ._cache import Entry, configid_of

        assert self.store is not None
        device, data = found.device, found.description
        old = self.store.get_entry(device.udn)
        response = job.response
        configid = configid_of(data)
        if response is not None and response.configid is not None:
            configid = response.configid
        if (
            old is not None
            and old.description == data
            and old.location == job.location
            and (response is None or (response.bootid, configid) == (old.bootid, old.configid))
        ):
            return
        # SCPDs stay valid while the description, or its CONFIGID, stays the same.
        keep = old is not None and (
            old.description == data or (old.configid is not None and old.configid == configid)
        )
        types, udns = _tree(device.info)
        self.store.remember(
            Entry(
                udn=device.udn,
                location=job.location,
                address=response.address[0] if response else (old.address if old else ""),
                server=response.server if response else (old.server if old else ""),
                bootid=response.bootid if response else (old.bootid if old else None),
                configid=configid,
                max_age=response.max_age if response else (old.max_age if old else None),
                description=data,
                types=types,
                udns=udns,
                scpds=old.scpds if keep and old is not None else {},
                seen=time.time(),
            )
        )

    def forget_dead(self) -> None:
        """Drop cached devices whose check failed and that the search did not find either."""
        assert self.store is not None
        for udn in self.failed_checks - set(self.devices):
            self.store.forget(udn)

    def close(self, returned: Iterable[Device], wait: bool) -> None:
        """Close what discovery does not return and stop the pool.

        Fetches still running end by the deadline on their own (their HTTP timeout).
        """
        kept = {id(device) for device in returned}
        for future in self._fetches.values():
            future.add_done_callback(lambda done: _close_unless(done, kept))
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self.wakeup.close()
        self._waker.close()


def _close_unless(future: Future[_Found], kept: Set[int]) -> None:
    """Close the device a finished fetch made, unless discovery returned it."""
    if future.cancelled() or future.exception() is not None:
        return
    device = future.result().device
    if id(device) not in kept:
        device.close()


def discover_iter(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    limit: Optional[int] = None,
    cache: CachePath = False,
    family: Optional[int] = None,
) -> Iterator[Device]:
    """Find UPnP root devices and yield each as soon as it is described, once per UDN.

    An M-SEARCH for *st* goes out on every interface (see :func:`upnpy.search`); each
    answer's LOCATION is fetched once, concurrently, while more answers arrive. A device
    whose description cannot be fetched or parsed is logged and left out, and so is one that
    describes nothing of the type searched for (a device of a lower version answering).

    With *cache*, every device the cache file remembers for *st* is checked first, all at
    once, by fetching its LOCATION directly: the ones still there are yielded at once, with
    the SCPDs already known (while the description, or its CONFIGID, is unchanged). The
    multicast search starts after those checks (or :data:`CACHE_WAIT` seconds), for the rest
    of *timeout*, and only if *limit* is not met yet. The devices found are written back.

    The deadline runs from the first ``next()``, also while the loop body runs. Arguments are
    checked at the call.

    :param st: the search target (``ssdp:all``, ``upnp:rootdevice``, a device or service
        type URN, ``uuid:...``).
    :param timeout: seconds to search. Iteration ends by then, plus at most :data:`GRACE`
        seconds for descriptions already being fetched.
    :param mx: the MX header, 1..5 (by default derived from *timeout*).
    :param interfaces: adapter names or addresses to search from; ``None`` for all but
        loopback.
    :param limit: stop after this many devices.
    :param cache: ``True`` for ``$XDG_CACHE_HOME/upnpy/devices.json``, or the path of a
        cache file (or of a folder for it); ``False`` for none. A corrupt or foreign file is
        ignored with a :class:`~upnpy.UPnPWarning`.
    :param family: ``socket.AF_INET`` or ``socket.AF_INET6`` to search over one IP version
        only; ``None`` for both.
    :raises DiscoveryError: when no interface could send the search.
    :raises ValueError: for a bad *timeout*, *mx*, *limit* or *family*.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int, not {limit!r}")
    path = None
    if cache is not False:
        from ._cache import cache_path

        path = cache_path(cache)
    # timeout, st, mx, family and the interfaces are checked now; the search starts later
    plan = _ssdp._plan(st, timeout, mx=mx, interfaces=interfaces, family=family)
    return _discover(st, float(timeout), plan, limit, path, family)


def _discover(
    st: str,
    timeout: float,
    plan: _ssdp._Plan,
    limit: Optional[int],
    path: Optional[Path],
    family: Optional[int],
) -> Iterator[Device]:
    deadline = time.monotonic() + timeout
    store: Optional[Store] = None
    if path is not None:
        from ._cache import Store

        store = Store(path)
    describer = _Describer(st, deadline + GRACE, store, both=family is None)
    returned: List[Device] = []
    complete = False  # the search ran its course: join the pool, prune the cache

    def full() -> bool:
        return limit is not None and len(returned) >= limit

    def ready() -> Iterator[Device]:
        for device in describer.collect():
            if full():
                break  # the rest is closed with the describer
            returned.append(device)
            yield device

    try:
        if store is not None:
            for entry in store.matching(st):
                describer.submit(_Job(entry.udn, entry.location, entry=entry))
            hold = min(deadline, time.monotonic() + CACHE_WAIT)
            while describer.checking() and time.monotonic() < hold:
                describer.wait(hold - time.monotonic())
                yield from ready()
                if full():
                    return
        left = deadline - time.monotonic()
        if left > 0:
            search = _ssdp._run(plan, left, describer.wakeup, by_location=True)
            try:
                for response in search:
                    if response is not None:  # None: a fetch finished
                        describer.submit(_Job(response.udn, response.location, response))
                    yield from ready()
                    if full():
                        return
            finally:
                search.close()
        while describer.busy() and time.monotonic() < describer.deadline:
            describer.wait(describer.deadline - time.monotonic())
            yield from ready()
            if full():
                return
        complete = True
        if store is not None:
            describer.forget_dead()
    finally:
        describer.close(returned, wait=complete)
        if store is not None:
            store.save()


def discover(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    limit: Optional[int] = None,
    cache: CachePath = False,
    family: Optional[int] = None,
) -> List[Device]:
    """Find UPnP root devices and return them described, one per UDN.

    The same search as :func:`discover_iter` (see there for every parameter), collected: the
    call returns after *timeout* seconds (plus at most :data:`GRACE` for descriptions being
    fetched), or as soon as *limit* devices are described.

    :returns: the devices, in the order they became ready.
    :raises DiscoveryError: when no interface could send the search.
    :raises ValueError: for a bad *timeout*, *mx*, *limit* or *family*.
    """
    return list(discover_iter(st, timeout, mx, interfaces, limit, cache, family))
