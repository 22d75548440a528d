"""The process-wide side of eventing: callback servers by bind address, live subscriptions, and
the one renewal scheduler, all stopped when the last subscription ends or at exit.

It knows subscriptions only through the small :class:`Subscriber` protocol, so that it
depends on neither :mod:`upnpy._subscription` nor the proxy.
"""

from __future__ import annotations

import atexit
import itertools
import threading
from typing import Callable, Dict, Optional, Protocol, Set, Tuple

from ._exceptions import SubscriptionError
from ._gena_server import CallbackServer, Notification
from ._scheduler import Scheduler

__all__ = ["Subscriber", "EventManager", "manager", "EXIT_TIMEOUT"]

#: The timeout of the UNSUBSCRIBEs sent at interpreter exit.
EXIT_TIMEOUT = 2.0


class Subscriber(Protocol):
    """What the manager needs of a subscription."""

    def _on_notification(self, notification: Notification) -> None: ...

    def _close(self, timeout: Optional[float]) -> None: ...


def _deliver(target: Subscriber, notification: Notification) -> None:
    target._on_notification(notification)


class EventManager:
    """The registry: callback servers by bind address, subscriptions, and the scheduler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: Dict[Tuple[str, int], CallbackServer] = {}
        self._users: Dict[CallbackServer, int] = {}
        self._subscriptions: Set[Subscriber] = set()
        self._scheduler: Optional[Scheduler] = None
        self._atexit = False
        #: Numbers for callback paths and thread names, unique in the process.
        self.numbers = itertools.count(1)

    @property
    def subscriptions(self) -> Set[Subscriber]:
        """A snapshot of the live subscriptions."""
        with self._lock:
            return set(self._subscriptions)

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

    def add(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscriptions.add(sub)

    def remove(self, sub: Subscriber) -> None:
        """Forget *sub*; the scheduler stops with the last subscription."""
        with self._lock:
            self._subscriptions.discard(sub)
            scheduler = None if self._subscriptions else self._scheduler
            if scheduler is not None:
                self._scheduler = None
        if scheduler is not None:
            scheduler.stop()

    def schedule(self, sub: Subscriber, delay: float, job: Callable[[], None]) -> None:
        """Run *job* in *delay* seconds on the scheduler thread, if *sub* is still live."""
        with self._lock:
            if sub not in self._subscriptions:
                return
            if self._scheduler is None:
                self._scheduler = Scheduler()
            self._scheduler.add(delay, job)

    def shutdown(self) -> None:
        """Cancel every subscription (short timeouts) and stop every thread: at exit."""
        for sub in self.subscriptions:
            sub._close(EXIT_TIMEOUT)
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
