"""The process-wide side of what runs in the background: callback servers by bind address,
the live owners of background work (subscriptions, kept port forwardings), and the one renewal
scheduler — all stopped when the last owner ends, or at exit.

It knows its owners only through the small :class:`Owner` and :class:`Subscriber` protocols,
so that it depends on neither :mod:`upnpy._subscription`, :mod:`upnpy._gateway` nor the proxy.
"""

from __future__ import annotations

import atexit
import itertools
import threading
from typing import Callable, Dict, Optional, Protocol, Set, Tuple

from ._exceptions import SubscriptionError
from ._gena_server import CallbackServer, Notification
from ._scheduler import Scheduler

__all__ = ["Owner", "Subscriber", "EventManager", "manager", "EXIT_TIMEOUT"]

#: The timeout of the UNSUBSCRIBEs sent at interpreter exit.
EXIT_TIMEOUT = 2.0


class Owner(Protocol):
    """What the manager needs of anything it renews in the background: a way to end it."""

    def _close(self, timeout: Optional[float]) -> None: ...


class Subscriber(Owner, Protocol):
    """A subscription: an owner that also takes the NOTIFYs routed to it."""

    def _on_notification(self, notification: Notification) -> None: ...


def _deliver(target: Subscriber, notification: Notification) -> None:
    target._on_notification(notification)


class EventManager:
    """The registry: callback servers by bind address, owners, and the scheduler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: Dict[Tuple[str, int], CallbackServer] = {}
        self._users: Dict[CallbackServer, int] = {}
        self._owners: Set[Owner] = set()
        self._scheduler: Optional[Scheduler] = None
        self._atexit = False
        #: Numbers for callback paths and thread names, unique in the process.
        self.numbers = itertools.count(1)

    @property
    def owners(self) -> Set[Owner]:
        """A snapshot of the live owners (subscriptions, forwardings)."""
        with self._lock:
            return set(self._owners)

    def acquire_server(self, host: str, port: int) -> CallbackServer:
        """The callback server listening on ``(host, port)``, started on first use.

        :raises SubscriptionError: when the address cannot be listened on.
        """
        with self._lock:
            if not self._atexit:
                atexit.register(self.shutdown)
                self._atexit = True
            server = self._servers.get((host, port))
            if server is None:
                try:
                    server = CallbackServer(host, port, _deliver)
                except OSError as exc:
                    raise SubscriptionError(
                        f"cannot listen for events on {host} port {port}: {exc}"
                    ) from None
                self._servers[(host, port)] = server
                self._users[server] = 0
            self._users[server] += 1
            return server

    def release_server(self, server: CallbackServer) -> None:
        """Give back a server; the last user's release stops it."""
        with self._lock:
            self._users[server] = self._users.get(server, 1) - 1
            if self._users[server] > 0:
                return
            del self._users[server]
            for key in [k for k, v in self._servers.items() if v is server]:
                del self._servers[key]
        server.close()

    def add(self, owner: Owner) -> None:
        with self._lock:
            if not self._atexit:
                atexit.register(self.shutdown)
                self._atexit = True
            self._owners.add(owner)

    def remove(self, owner: Owner) -> None:
        """Forget *owner*; the scheduler stops with the last one."""
        with self._lock:
            self._owners.discard(owner)
            scheduler = None if self._owners else self._scheduler
            if scheduler is not None:
                self._scheduler = None
        if scheduler is not None:
            scheduler.stop()

    def schedule(self, owner: Owner, delay: float, job: Callable[[], None]) -> None:
        """Run *job* in *delay* seconds on the scheduler thread, if *owner* is still live."""
        with self._lock:
            if owner not in self._owners:
                return
            if self._scheduler is None:
                self._scheduler = Scheduler()
            self._scheduler.add(delay, job)

    def shutdown(self) -> None:
        """End every owner (short timeouts) and stop every thread: at exit."""
        for owner in self.owners:
            owner._close(EXIT_TIMEOUT)
        with self._lock:
            servers, scheduler = list(self._users), self._scheduler
            self._servers.clear()
            self._users.clear()
            self._scheduler = None
        for server in servers:
            server.close()
        if scheduler is not None:
            scheduler.stop()


#: The one manager of the process.
manager = EventManager()
