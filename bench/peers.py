"""The clients measured by bench.py, behind one small interface.

Each client offers, for a :class:`Target` (one device, one action without in-arguments):

- ``per_call(target)``: set up once (one device object, kept), and return ``run(n)``, which
  makes *n* sequential calls and returns each call's duration in seconds;
- ``first_call(target)``: description URL → first completed action with fresh objects, in
  seconds;
- ``discover(st, timeout)``: ``(seconds, found)`` for the client's own discovery call, the
  device of type *st* built when it returns.

A client that does not apply to a device (the keep-alive floor, where the device closes its
connections) says why in ``skip(target)``; bench.py then leaves its cells empty.

upnpclient and async-upnp-client are optional (the ``bench`` extra): :func:`installed_peers`
leaves out what is not importable.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import floor

clock = time.perf_counter


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    location: str
    device_type: str
    service_type: str
    action: str
    out: str  # an out-argument the answer must carry
    urls: floor.ServiceUrls
    #: whether the device keeps connections alive (read from its answers: floor.probe_keep_alive)
    keep_alive: bool = False
    keep_alive_note: str = ""


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


class Floor:
    """Plain sockets, a new connection per request; see floor.py."""

    name = "raw floor"

    def per_call(self, target: Target) -> Callable[[int], List[float]]:
        request = floor.soap_request(target.urls.control_url, target.service_type, target.action)
        status, body = floor.exchange(request)
        if status != 200 or target.out.encode() not in body:
            raise RuntimeError(f"raw call answered HTTP {status}: {body[:200]!r}")

        return _runner(lambda: floor.exchange(request))

    def first_call(self, target: Target) -> float:
        requests = (
            floor.get_request(target.location),
            floor.get_request(target.urls.scpd_url),
            floor.soap_request(target.urls.control_url, target.service_type, target.action),
        )
        t0 = clock()
        for request in requests:
            floor.exchange(request)
        return clock() - t0


class KeepAliveFloor:
    """Plain sockets, one connection kept alive (floor.Connection), where the device keeps it:
    per call, one connection for every call; first call, one connection for the description,
    the SCPD and the action."""

    name = "keep-alive floor"

    @staticmethod
    def skip(target: Target) -> Optional[str]:
        """Why this floor does not apply to *target*, or ``None``."""
        return None if target.keep_alive else f"the device closes: {target.keep_alive_note}"

    def __init__(self) -> None:
        self._connections: List[floor.Connection] = []

    def per_call(self, target: Target) -> Callable[[int], List[float]]:
        request = floor.soap_request(
            target.urls.control_url, target.service_type, target.action, keep_alive=True
        )
        connection = floor.Connection(request.host, request.port)
        self._connections.append(connection)
        status, body, _ = connection.exchange(request)
        if status != 200 or target.out.encode() not in body:
            raise RuntimeError(f"raw call answered HTTP {status}: {body[:200]!r}")

        return _runner(lambda: connection.exchange(request))

    def first_call(self, target: Target) -> float:
        requests = (
            floor.get_request(target.location, keep_alive=True),
            floor.get_request(target.urls.scpd_url, keep_alive=True),
            floor.soap_request(
                target.urls.control_url, target.service_type, target.action, keep_alive=True
            ),
        )
        t0 = clock()
        floor.first_call_kept(requests)
        return clock() - t0

    def close(self) -> None:
        for connection in self._connections:
            connection.close()


class PausedFloor:
    """The floor that counts (one connection kept alive where the device keeps connections,
    else a new connection per request) with a pause before each call, not timed; for the
    first call, a pause before the SCPD's GET and before the action.

    Informational. A client works between its exchanges (upnpy: reading an answer and
    building the next request; on a first call, parsing the description and the SCPD); the
    floors do not. What a pause does to the next exchange varies from run to run: in the lab,
    GUPnP's light answered on a kept connection in about 80 µs back to back and in about
    115 µs after a 10 µs pause in some runs, and as fast either way in others; a new
    connection to minidlna, miniupnpd or gmediarender cost less after a pause than right
    after the previous one closed. This floor measures it in the same run, so that upnpy's
    overhead can be read against both.
    """

    name = "paused floor"
    #: Seconds of busy waiting before each call: about upnpy's own work per call.
    PAUSE = 20e-6
    #: Before the SCPD's GET and before the action of a first call: about upnpy's parsing.
    FIRST_PAUSE = 80e-6

    def __init__(self) -> None:
        self._kept = KeepAliveFloor()

    def per_call(self, target: Target) -> Callable[[int], List[float]]:
        call = (self._kept if target.keep_alive else Floor()).per_call(target)

        def run(n: int) -> List[float]:
            times = []
            for _ in range(n):
                _pause(self.PAUSE)
                times += call(1)
            return times

        return run

    def first_call(self, target: Target) -> float:
        requests = (
            floor.get_request(target.location, keep_alive=target.keep_alive),
            floor.get_request(target.urls.scpd_url, keep_alive=target.keep_alive),
            floor.soap_request(
                target.urls.control_url,
                target.service_type,
                target.action,
                keep_alive=target.keep_alive,
            ),
        )
        connection = floor.Connection(requests[0].host, requests[0].port)
        send = connection.exchange if target.keep_alive else floor.exchange
        took = 0.0
        try:
            for index, request in enumerate(requests):
                if index:
                    _pause(self.FIRST_PAUSE)
                t0 = clock()
                send(request)
                took += clock() - t0
        finally:
            t0 = clock()
            connection.close()  # timed, as the keep-alive floor's close is
            took += clock() - t0
        return took

    def close(self) -> None:
        self._kept.close()


def _pause(seconds: float) -> None:
    """Busy-wait *seconds*: the process stays on the CPU, as a client at work does."""
    until = clock() + seconds
    while clock() < until:
        pass


def probe(target: Target) -> Tuple[bool, str]:
    """Whether *target*'s device keeps connections alive: its description, its SCPD and the
    action twice over one connection (floor.probe_keep_alive)."""
    action = floor.soap_request(
        target.urls.control_url, target.service_type, target.action, keep_alive=True
    )
    requests = [
        floor.get_request(target.location, keep_alive=True),
        floor.get_request(target.urls.scpd_url, keep_alive=True),
        action,
        action,
    ]
    if len({(request.host, request.port) for request in requests}) > 1:
        return False, "its description and control URL are on different hosts"
    return floor.probe_keep_alive(requests)


def _timed(action: Callable[[], dict], target: Target, who: str) -> Callable[[int], List[float]]:
    """Check one call's answer, then return a runner timing *n* sequential calls."""
    result = action()
    if target.out not in result:
        raise RuntimeError(f"{who} answered {result!r}")

    return _runner(action)


def _runner(call: Callable[[], object]) -> Callable[[int], List[float]]:
    """``run(n)``: make *n* sequential calls, and return each one's duration in seconds."""

    def run(n: int) -> List[float]:
        times = []
        for _ in range(n):
            t0 = clock()
            call()
            times.append(clock() - t0)
        return times

    return run


class Upnpy:
    name = "upnpy"

    def __init__(self) -> None:
        import upnpy

        self.upnpy = upnpy
        self.version = upnpy.__version__
        self._devices: list = []

    def per_call(self, target: Target) -> Callable[[int], List[float]]:
        device = self.upnpy.Device(target.location)
        self._devices.append(device)
        return _timed(device[target.service_type][target.action], target, "upnpy")

    def first_call(self, target: Target) -> float:
        t0 = clock()
        with self.upnpy.Device(target.location) as device:
            device[target.service_type][target.action]()
        return clock() - t0

    def close(self) -> None:
        for device in self._devices:
            device.close()


class Upnpclient:
    name = "upnpclient"

    def __init__(self) -> None:
        import upnpclient

        self.upnpclient = upnpclient
        self.version = version("upnpclient")

    @staticmethod
    def _action(device, target: Target):
        for service in device.services:  # every service of the tree
            if service.service_type == target.service_type:
                return service.find_action(target.action)
        raise RuntimeError(f"upnpclient sees no {target.service_type}")

    def per_call(self, target: Target) -> Callable[[int], List[float]]:
        action = self._action(self.upnpclient.Device(target.location), target)
        return _timed(action, target, "upnpclient")

    def first_call(self, target: Target) -> float:
        t0 = clock()
        self._action(self.upnpclient.Device(target.location), target)()
        return clock() - t0

    def discover(self, st: str, timeout: float) -> Tuple[float, bool]:
        t0 = clock()
        devices = self.upnpclient.discover(timeout=timeout)
        found = any(device.device_type == st for device in devices)
        return clock() - t0, found


class AsyncUpnpClient:
    """async-upnp-client on one event loop; per-call figures reuse one aiohttp session."""

    name = "async-upnp-client"

    def __init__(self) -> None:
        import aiohttp
        from async_upnp_client.aiohttp import AiohttpSessionRequester
        from async_upnp_client.client_factory import UpnpFactory
        from async_upnp_client.search import async_search

        self.aiohttp = aiohttp
        self.requester = AiohttpSessionRequester
        self.factory = UpnpFactory
        self.async_search = async_search
        self.version = version("async-upnp-client")
        self.loop = asyncio.new_event_loop()
        self.session = self.loop.run_until_complete(self._session())

    async def _session(self):
        return self.aiohttp.ClientSession()

    async def _action(self, session, target: Target):
        device = await self.factory(self.requester(session)).async_create_device(target.location)
        service = device.find_service(target.service_type)
        if service is None:
            raise RuntimeError(f"async-upnp-client sees no {target.service_type}")
        return service.action(target.action)

    def per_call(self, target: Target) -> Callable[[int], List[float]]:
        action = self.loop.run_until_complete(self._action(self.session, target))
        result = self.loop.run_until_complete(action.async_call())
        if target.out not in result:
            raise RuntimeError(f"async-upnp-client answered {result!r}")

        async def calls(n: int) -> List[float]:
            times = []
            for _ in range(n):
                t0 = clock()
                await action.async_call()
                times.append(clock() - t0)
            return times

        return lambda n: self.loop.run_until_complete(calls(n))

    def first_call(self, target: Target) -> float:
        async def first() -> float:
            t0 = clock()
            async with self.aiohttp.ClientSession() as session:
                action = await self._action(session, target)
                await action.async_call()
            return clock() - t0

        return self.loop.run_until_complete(first())

    def discover(self, st: str, timeout: float) -> Tuple[float, bool]:
        async def search() -> Tuple[float, bool]:
            locations: List[str] = []

            async def seen(headers) -> None:
                if headers.get("st") == st and headers.get("location"):
                    locations.append(headers["location"])

            t0 = clock()
            await self.async_search(seen, timeout=int(timeout), search_target=st)
            device: Optional[object] = None
            if locations:
                factory = self.factory(self.requester(self.session))
                device = await factory.async_create_device(locations[0])
            return clock() - t0, device is not None

        return self.loop.run_until_complete(search())

    def close(self) -> None:
        self.loop.run_until_complete(self.session.close())
        self.loop.close()


def installed_peers() -> Tuple[list, List[str]]:
    """The peers that import here, and a note for each one that does not."""
    peers, missing = [], []
    for cls in (Upnpclient, AsyncUpnpClient):
        try:
            peers.append(cls())
        except ImportError as exc:
            missing.append(f"{cls.name}: not installed ({exc.name}); its columns are skipped")
    return peers, missing
