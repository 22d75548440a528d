"""discover(): SSDP search plus concurrent description fetches, under one deadline."""

from __future__ import annotations

import collections
import logging
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Deque, Dict, Iterable, List, Optional, Set, Tuple

from . import _ssdp
from ._description import parse_device
from ._exceptions import UPnPError
from ._proxy import MAX_DESCRIPTION, Device
from ._transport import SocketTransport, fetch

__all__ = ["discover"]

log = logging.getLogger("upnpy")

#: How long past the search deadline discover() waits for descriptions already being fetched.
GRACE = 0.25
#: Descriptions fetched at once.
MAX_FETCHES = 8
#: Distinct LOCATIONs fetched in one discover(); more are ignored (a flood of answers).
MAX_LOCATIONS = 512


def _describe(location: str, deadline: float) -> Device:
    transport = SocketTransport()
    try:
        data = fetch(transport, location, limit=MAX_DESCRIPTION, deadline=deadline)
        return Device.from_info(parse_device(data, location), location, transport=transport)
    except BaseException:
        transport.close()
        raise


class _Describer:
    """Fetches LOCATIONs on a thread pool, each once, and collects devices by UDN.

    Every finished fetch writes a byte to :attr:`wakeup`'s peer, so the SSDP receive loop
    (which selects on :attr:`wakeup` too) returns to the caller as soon as a device is ready.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.wakeup, self._waker = socket.socketpair()
        self.wakeup.setblocking(False)
        self._waker.setblocking(False)
        self._pool = ThreadPoolExecutor(MAX_FETCHES, thread_name_prefix="upnpy-describe")
        self._fetches: Dict[str, Future[Device]] = {}
        self._done: Deque[Tuple[str, Future[Device]]] = collections.deque()  # not collected yet
        self._flooded = False
        self.devices: Dict[str, Device] = {}  # by UDN, in the order they became ready

    def submit(self, location: str) -> None:
        if location in self._fetches:
            return
        if len(self._fetches) >= MAX_LOCATIONS:  # a flood of made-up LOCATIONs
            if not self._flooded:
                log.warning("discover: over %d LOCATIONs; the rest are ignored", MAX_LOCATIONS)
                self._flooded = True
            return
        future = self._pool.submit(_describe, location, self.deadline)
        self._fetches[location] = future
        future.add_done_callback(lambda done: self._finished(location, done))

    def _finished(self, location: str, future: Future[Device]) -> None:  # any thread
        self._done.append((location, future))
        try:
            self._waker.send(b"\0")
        except OSError:  # buffer full (already woken), or closed after discover() returned
            pass

    def collect(self) -> None:
        """Take in the fetches finished since the last call: a device, or a failure logged."""
        while self._done:
            location, future = self._done.popleft()
            if future.cancelled():
                continue
            try:
                device = future.result()
            except UPnPError as exc:
                log.info("discover: left out %s: %s", location, exc)
                continue
            except Exception as exc:  # a bug must not break discovery either
                log.warning("discover: left out %s: %r", location, exc, exc_info=True)
                continue
            if device.udn in self.devices:
                device.close()
            else:
                self.devices[device.udn] = device

    def finish(self) -> None:
        """Give fetches still in flight until the deadline, then collect them."""
        for future in self._fetches.values():
            left = self.deadline - time.monotonic()
            if left <= 0:
                break
            try:
                future.exception(timeout=left)
            except Exception:  # TimeoutError (3.9/3.10 spell it differently)
                break
        self.collect()

    def close(self, returned: List[Device], wait: bool) -> None:
        """Close what discover() does not return and stop the pool.

        Fetches still running end by the deadline on their own (their HTTP timeout).
        """
        kept = {id(device) for device in returned}
        for future in self._fetches.values():
            future.add_done_callback(lambda done: _close_unless(done, kept))
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self.wakeup.close()
        self._waker.close()


def _close_unless(future: Future[Device], kept: Set[int]) -> None:
    """Close the device a finished fetch made, unless discover() returned it."""
    if future.cancelled() or future.exception() is not None:
        return
    device = future.result()
    if id(device) not in kept:
        device.close()


def discover(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    limit: Optional[int] = None,
) -> List[Device]:
    """Find UPnP root devices and return them described, one per UDN.

    An M-SEARCH for *st* goes out from every IPv4 interface (see :func:`upnpy.search`);
    each answer's LOCATION is fetched once, concurrently, while more answers arrive. A
    device whose description cannot be fetched or parsed is logged and left out.

    :param st: the search target (``ssdp:all``, ``upnp:rootdevice``, a device or service
        type URN, ``uuid:...``).
    :param timeout: seconds to search. The call returns by then, plus at most
        :data:`GRACE` seconds for descriptions already being fetched.
    :param mx: the MX header, 1..5 (by default derived from *timeout*).
    :param interfaces: adapter names or IPv4 addresses to search from; ``None`` for all but
        loopback.
    :param limit: return as soon as this many devices are described.
    :returns: the devices, in the order they became ready.
    :raises DiscoveryError: when no interface could send the search.
    :raises ValueError: for a bad *timeout*, *mx* or *limit*.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int, not {limit!r}")
    describer = _Describer(deadline=time.monotonic() + timeout + GRACE)
    found: List[Device] = []
    complete = False  # the search ran its course: join the pool (bounded by the deadline)
    try:
        search = _ssdp._search(st, timeout, mx=mx, interfaces=interfaces, wakeup=describer.wakeup)
        try:
            for response in search:
                if response is not None:  # None: a fetch finished
                    describer.submit(response.location)
                describer.collect()
                if limit is not None and len(describer.devices) >= limit:
                    found = list(describer.devices.values())[:limit]
                    return found
        finally:
            search.close()
        describer.finish()
        complete = True
        found = list(describer.devices.values())[:limit]
        return found
    finally:
        describer.close(found, wait=complete)
