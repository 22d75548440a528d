"""discover(): SSDP search plus concurrent description fetches, under one deadline."""

from __future__ import annotations

import logging
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Dict, Iterable, List, Optional

from . import ssdp
from .description import parse_device
from .exceptions import UPnPError
from .proxy import MAX_DESCRIPTION, Device
from .transport import SocketTransport, fetch

__all__ = ["discover"]

log = logging.getLogger("upnpy")

#: How long past the search deadline discover() waits for descriptions already being fetched.
GRACE = 0.25
#: Descriptions fetched at once.
MAX_FETCHES = 8


def _describe(location: str, deadline: float) -> Device:
    transport = SocketTransport()
    try:
        data = fetch(transport, location, limit=MAX_DESCRIPTION, deadline=deadline)
        return Device.from_info(parse_device(data, location), location, transport=transport)
    except BaseException:
        transport.close()
        raise


def _close_unless(future: Future, returned: set) -> None:
    """Close the device a finished fetch made, unless discover() returned it."""
    if future.cancelled() or future.exception() is not None:
        return
    device = future.result()
    if id(device) not in returned:
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
    wake_reader, wake_writer = socket.socketpair()
    wake_reader.setblocking(False)
    wake_writer.setblocking(False)

    def wake(_: Future) -> None:
        try:
            wake_writer.send(b"\0")
        except OSError:  # buffer full (already woken) or closed after we returned
            pass

    pool = ThreadPoolExecutor(MAX_FETCHES, thread_name_prefix="upnpy-describe")
    fetches: Dict[str, Future] = {}
    devices: Dict[str, Device] = {}
    deadline = time.monotonic() + timeout + GRACE

    def collect() -> None:
        for location, future in list(fetches.items()):
            if not future.done() or future in collected:
                continue
            collected.add(future)
            try:
                device = future.result()
            except UPnPError as exc:
                log.info("discover: left out %s: %s", location, exc)
                continue
            except Exception as exc:  # a bug must not break discovery either
                log.warning("discover: left out %s: %r", location, exc, exc_info=True)
                continue
            if device.udn not in devices:
                devices[device.udn] = device
            else:
                device.close()

    collected: set = set()
    finished = False
    try:
        search = ssdp._search(st, timeout, mx=mx, interfaces=interfaces, wakeup=wake_reader)
        try:
            for response in search:
                if response is not None and response.location not in fetches:
                    future = pool.submit(_describe, response.location, deadline)
                    fetches[response.location] = future
                    future.add_done_callback(wake)
                collect()
                if limit is not None and len(devices) >= limit:
                    return list(devices.values())[:limit]
        finally:
            search.close()
        # The search is over; give fetches in flight until the deadline.
        for future in fetches.values():
            future_left = deadline - time.monotonic()
            if future_left <= 0:
                break
            try:
                future.exception(timeout=future_left)
            except Exception:  # TimeoutError (3.9/3.10 spell it differently); collected below
                break
        collect()
        finished = True
        return list(devices.values())[:limit] if limit else list(devices.values())
    finally:
        # Fetches still running end by the deadline on their own (their HTTP timeout);
        # after a normal finish every one of them has ended already. Devices described but
        # not returned (past the limit, or too late) are closed.
        returned = set(id(d) for d in list(devices.values())[:limit])
        for future in fetches.values():
            future.add_done_callback(lambda done: _close_unless(done, returned))
        pool.shutdown(wait=finished, cancel_futures=True)
        wake_reader.close()
        wake_writer.close()
