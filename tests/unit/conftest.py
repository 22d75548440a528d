"""Fixtures for the unit tests: they may reach loopback and nothing else.

:func:`network_guard` (autouse) replaces ``connect``, ``connect_ex``, ``sendto`` and ``sendmsg``
of :class:`socket.socket` for the length of each unit test. A destination that is not loopback
(127.0.0.0/8, ::1, ::ffff:127.x, the name "localhost") or a Unix socket is refused before the
real call is made: nothing is sent. The refusal is :class:`NetworkGuardError`, a
:class:`ConnectionRefusedError`, so library code behaves as with an unreachable host; and it is
recorded, so the test fails at teardown even where the library swallowed the error (a
background thread, a retry loop). A test that provokes a refusal on purpose reads and clears
``network_guard.violations``.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from typing import Any, List, Tuple

import pytest


class NetworkGuardError(ConnectionRefusedError):
    """A unit test tried to reach an address other than loopback."""


def is_loopback(family: int, address: Any) -> bool:
    """Whether *address* (as given to ``connect``/``sendto``) stays on this machine."""
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if family not in (socket.AF_INET, socket.AF_INET6):
        return False  # AF_PACKET and friends reach real links
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False  # any other host name would be looked up and could go anywhere
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class NetworkGuard:
    """One test's guard: ``violations`` holds the refused ``(method, address)`` pairs, in order."""

    Error = NetworkGuardError
    is_loopback = staticmethod(is_loopback)

    def __init__(self) -> None:
        self.violations: List[Tuple[str, Any]] = []
        self._lock = threading.Lock()

    def check(self, sock: socket.socket, method: str, address: Any) -> None:
        """Raise (and record) unless *address* is loopback for *sock*'s family."""
        if is_loopback(sock.family, address):
            return
        with self._lock:
            self.violations.append((method, address))
        raise NetworkGuardError(
            errno.ECONNREFUSED,
            f"network guard: a unit test may reach loopback only, not {address!r} ({method})",
        )

    def verify(self) -> None:
        """Fail the test if anything was refused (what the fixture does at teardown)."""
        if self.violations:
            refused = "\n  ".join(f"{method} {address!r}" for method, address in self.violations)
            pytest.fail(f"the test tried to reach addresses other than loopback:\n  {refused}")


@pytest.fixture(autouse=True)
def network_guard():
    """Refuse and record every connect/send to anything but loopback during the test."""
    guard = NetworkGuard()
    real = {name: getattr(socket.socket, name) for name in ("connect", "connect_ex", "sendto")}
    real_sendmsg = getattr(socket.socket, "sendmsg", None)

    def connect(self, address):
        guard.check(self, "connect", address)
        return real["connect"](self, address)

    def connect_ex(self, address):
        guard.check(self, "connect_ex", address)
        return real["connect_ex"](self, address)

    def sendto(self, data, *args):
        if args:  # sendto(data, address) or sendto(data, flags, address)
            guard.check(self, "sendto", args[-1])
        return real["sendto"](self, data, *args)

    def sendmsg(self, buffers, *args, **kwargs):
        address = args[2] if len(args) > 2 else kwargs.get("address")
        if address is not None:  # without one: a connected socket, checked at connect
            guard.check(self, "sendmsg", address)
        return real_sendmsg(self, buffers, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:  # our own: a test's monkeypatch undoes apart
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket.socket, "sendto", sendto)
        if real_sendmsg is not None:
            patch.setattr(socket.socket, "sendmsg", sendmsg)
        yield guard
    guard.verify()


@pytest.fixture(autouse=True)
def no_leaked_threads(network_guard, no_leaked_threads):
    """tests/conftest.py's check, set up after (so torn down before) the network guard.

    The guard thus stays on while that check waits for the test's threads to end, and sees
    anything they try on their way out.
    """
    yield
