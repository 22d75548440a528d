"""GENA eventing: subscriptions to a service's state variables, kept alive in the background.

Script style::

    with light.SwitchPower.subscribe() as sub:
        light.SwitchPower.SetTarget(True)
        for event in sub:                  # blocks; ends when the subscription ends
            print(event.seq, event.variables)

Notebook style::

    sub = router.WANIPConnection.subscribe(callback=print)   # events printed as they come
    ...
    sub.unsubscribe()

How it works: :func:`subscribe` (``Service.subscribe``) starts, on first use, a callback HTTP
server (:mod:`upnpy.gena_server`) on the local address that routes to the device, and sends
SUBSCRIBE. NOTIFYs are answered at once and processed on the server's dispatch thread: SEQ
checked (a gap means lost events, so the subscription is made anew), values converted with
the service's state-variable types, the :class:`Event` queued for :meth:`Subscription.get`
and iteration, and handed to the subscription's callback thread. One scheduler thread renews
every subscription at half its granted time. When the last subscription ends every thread
is stopped and joined; the same happens at interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import datetime
import itertools
import logging
import math
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING, Any, Callable, Deque, Dict, Iterator, Mapping, Optional, Set, Tuple,
    Union,
)
from urllib.parse import urlsplit

import requests

from . import datatypes, http
from .description import StateVariableInfo
from .exceptions import SubscriptionError, UPnPError
from .gena_server import CallbackServer, Notification
from .scheduler import Scheduler

if TYPE_CHECKING:  # pragma: no cover
    from .proxy import Service

__all__ = ["Subscription", "Event", "subscribe", "DEFAULT_TIMEOUT"]

log = logging.getLogger("upnpy")

#: Seconds of subscription asked for when the caller names none.
DEFAULT_TIMEOUT = 300
#: Events kept for :meth:`Subscription.get` (and for a callback); the oldest goes first.
MAX_QUEUED_EVENTS = 256
#: A SEQ gap triggers at most one fresh SUBSCRIBE per this many seconds.
RESUBSCRIBE_INTERVAL = 10.0
#: Seconds :meth:`Subscription.unsubscribe` waits for a running callback to return.
CALLBACK_JOIN_TIMEOUT = 10.0
#: The timeout of the UNSUBSCRIBEs sent at interpreter exit.
EXIT_TIMEOUT = 2.0

_SEQ_MAX = 0xFFFFFFFF
_GRANTED = re.compile(r"\s*second-(\d+)\s*$", re.IGNORECASE)
_WILDCARDS = ("", "0.0.0.0", "::")

Callback = Callable[["Event"], Any]


@dataclass(frozen=True, repr=False, eq=False)
class Event:
    """One NOTIFY of a subscription: the evented variables that changed (all of them at SEQ 0).

    :ivar variables: ``{name: Python value}``, converted with the service's state-variable
        types; a value that does not parse is kept as text (with a :class:`UPnPWarning`).
    :ivar raw: ``{name: text}`` exactly as the device sent it.
    :ivar seq: the event key (0 for the initial event).
    :ivar sid: the subscription identifier the device sent it under.
    :ivar service: the :class:`~upnpy.Service` it came from.
    :ivar received_at: when it arrived (an aware UTC :class:`~datetime.datetime`).
    """

    service: "Service"
    sid: str
    seq: int
    variables: Dict[str, Any]
    raw: Mapping[str, str]
    received_at: datetime.datetime

    def __repr__(self) -> str:
        return f"<Event {self.service.name} seq={self.seq} {self.variables!r}>"


class Subscription:
    """A live GENA subscription; made by :meth:`upnpy.Service.subscribe`, not directly.

    Events arrive in a bounded queue read by :meth:`get` and by iteration, and are also
    passed to :attr:`callback` (on a thread of the subscription's own) when there is one.
    It is a context manager: leaving the ``with`` block unsubscribes.

    :ivar service: the :class:`~upnpy.Service` subscribed to.
    :ivar callback: the callable given events, or ``None``.
    :ivar callback_url: the URL the device sends its NOTIFYs to.
    :ivar error: the :class:`SubscriptionError` that ended the subscription, or ``None``.
    """

    def __init__(self, service: "Service", callback: Optional[Callback], requested: int,
                 auto_renew: bool, server: CallbackServer, callback_url: str,
                 state_variables: Mapping[str, StateVariableInfo]) -> None:
        self.service = service
        self.callback = callback
        self.auto_renew = auto_renew
        self.callback_url = callback_url
        self.requested_timeout = requested
        self.error: Optional[SubscriptionError] = None
        self._server = server
        self._state_variables = state_variables
        self._sid: Optional[str] = None
        self._granted = requested
        self._cond = threading.Condition()  # guards the state below and both queues
        self._op_lock = threading.Lock()  # one SUBSCRIBE/UNSUBSCRIBE exchange at a time
        self._ended = self._released = self._callbacks_stopped = False
        self._generation = 0  # bumped to cancel a scheduled renewal
        self._events: Deque[Event] = collections.deque()
        self._callbacks: Deque[Event] = collections.deque()
        self._dropped = 0
        self._last_resubscribe = -math.inf
        self._seq_sid: Optional[str] = None  # SEQ state: dispatch thread only
        self._next_seq: Optional[int] = None
        self._callback_thread: Optional[threading.Thread] = None
        if callback is not None:
            name = f"upnpy-events-callback-{next(_numbers)}"
            self._callback_thread = threading.Thread(
                target=self._run_callbacks, name=name, daemon=True
            )
            self._callback_thread.start()

    @property
    def sid(self) -> Optional[str]:
        """The current subscription identifier (a fresh SUBSCRIBE changes it)."""
        return self._sid

    @property
    def timeout(self) -> int:
        """The subscription duration the device granted, in seconds."""
        return self._granted

    @property
    def active(self) -> bool:
        """``True`` until the subscription is cancelled or fails."""
        return not self._ended

    # --- reading events ----------------------------------------------------------------

    def get(self, timeout: Optional[float] = 5.0) -> Event:
        """The next event, waiting up to *timeout* seconds (``None``: no limit).

        Events that arrived before the subscription ended are still returned.

        :raises TimeoutError: when no event arrives in time.
        :raises SubscriptionError: when the subscription has ended (with the error that
            ended it as the cause, if one did).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._events:
                if self._ended:
                    raise self._ended_error()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no event from {self.service.name} within {timeout} s")
                self._cond.wait(left)
            return self._events.popleft()

    def __iter__(self) -> Iterator[Event]:
        """Yield events as they arrive; stop when the subscription is cancelled.

        :raises SubscriptionError: when the subscription ends with an error (also kept in
            :attr:`error`).
        """
        while True:
            with self._cond:
                while not self._events and not self._ended:
                    self._cond.wait()
                if not self._events:
                    if self.error is not None:
                        raise self._ended_error()
                    return
                event = self._events.popleft()
            yield event

    def _ended_error(self) -> SubscriptionError:
        if self.error is None:
            return SubscriptionError(f"{self!r} was cancelled")
        error = SubscriptionError(str(self.error))
        error.__cause__ = self.error
        return error

    # --- renewing and cancelling -------------------------------------------------------

    def renew(self) -> None:
        """Renew now (the device's granted time starts again).

        When the device refuses the renewal a fresh SUBSCRIBE is tried (the SID changes);
        when that fails too the subscription ends with the error.

        :raises SubscriptionError: when the subscription has ended or just ended.
        """
        try:
            with self._op_lock:
                if self._ended:
                    raise self._ended_error()
                self._refresh()
        finally:
            if self._ended:
                self._release()
        self._schedule_renewal()

    def unsubscribe(self) -> None:
        """Cancel the subscription and stop its threads (idempotent).

        The device is sent UNSUBSCRIBE; its failure is logged, not raised, since the device
        forgets the subscription at its timeout anyway. Events already queued can still be
        read with :meth:`get`; queued callbacks still run (waited for up to
        :data:`CALLBACK_JOIN_TIMEOUT` seconds).
        """
        self._close(None)

    close = unsubscribe

    def _close(self, timeout: Optional[http.Timeout]) -> None:
        try:
            with self._op_lock:
                if self._ended:
                    return
                try:
                    self._request("UNSUBSCRIBE", {"SID": self._sid or ""}, timeout)
                except SubscriptionError as exc:
                    log.info("%r: %s", self, exc)
                self._finish(None)
        finally:
            self._release()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        state = "active" if not self._ended else ("failed" if self.error else "cancelled")
        return f"<Subscription {self.service.name} {self._sid} {state}, timeout {self._granted} s>"

    # --- the GENA exchanges (the caller holds _op_lock) ----------------------------------

    def _request(self, method: str, headers: Dict[str, str],
                 timeout: Optional[http.Timeout] = None) -> requests.Response:
        device, url = self.service.device, self.service.event_sub_url
        try:
            response = device._session.request(
                method, url, headers=headers, stream=True, allow_redirects=False,
                timeout=http.as_timeout(timeout if timeout is not None else device._timeout),
            )
        except requests.RequestException as exc:
            raise SubscriptionError(f"{method} {url} failed: {exc}") from exc
        response.close()  # the answer is all headers; a body is never read
        if response.status_code != 200:
            status = f"HTTP {response.status_code} {response.reason}"
            raise SubscriptionError(f"{method} {url}: {status}")
        return response

    def _subscribe_fresh(self) -> None:
        """SUBSCRIBE anew: a new SID, whose early NOTIFYs wait in the server's backlog."""
        headers = {
            "CALLBACK": f"<{self.callback_url}>",
            "NT": "upnp:event",
            "TIMEOUT": f"Second-{self.requested_timeout}",
        }
        with self._server.pending():
            response = self._request("SUBSCRIBE", headers)
            sid = (response.headers.get("SID") or "").strip()
            if not sid:
                url = self.service.event_sub_url
                raise SubscriptionError(f"SUBSCRIBE {url}: answered without a SID")
            old = self._sid
            with self._cond:
                self._sid = sid
                self._granted = self._granted_seconds(response)
            self._server.register(sid, self, replaces=old)
        log.debug("%r: subscribed", self)

    def _renew_once(self) -> None:
        headers = {"SID": self._sid or "", "TIMEOUT": f"Second-{self.requested_timeout}"}
        response = self._request("SUBSCRIBE", headers)
        sid = (response.headers.get("SID") or "").strip()
        old = self._sid
        with self._cond:
            if sid and sid != old:
                log.info("%r: the renewal answer brought a new SID %s; adopted", self, sid)
                self._sid = sid
            self._granted = self._granted_seconds(response)
        if self._sid != old:
            self._server.register(self._sid, self, replaces=old)  # type: ignore[arg-type]

    def _granted_seconds(self, response: requests.Response) -> int:
        """The TIMEOUT granted; missing, ``infinite`` or 0 means the time asked for."""
        match = _GRANTED.match(response.headers.get("TIMEOUT") or "")
        return int(match.group(1)) if match and int(match.group(1)) > 0 else self.requested_timeout

    def _refresh(self) -> None:
        """Renew; on failure SUBSCRIBE anew; if that fails too, end with the error."""
        try:
            self._renew_once()
            return
        except SubscriptionError as exc:
            log.warning("%r: renewal failed (%s); subscribing anew", self, exc)
        try:
            self._subscribe_fresh()
        except SubscriptionError as exc:
            error = SubscriptionError(
                f"subscription to {self.service.name} lost: renewal and new SUBSCRIBE failed: {exc}"
            )
            self._finish(error)
            raise error from exc

    def _finish(self, error: Optional[SubscriptionError]) -> None:
        """Mark the subscription ended, stop routing its SID, and wake every reader."""
        with self._cond:
            if self._ended:
                return
            if error is not None:  # logged before readers wake: they may look at the log
                log.error("%r: %s", self, error)
            self._ended = True
            self.error = error
            self._generation += 1
            self._cond.notify_all()
        self._server.unregister(self._sid)

    def _release(self) -> None:
        """Stop the callback thread and give back the server and scheduler (idempotent)."""
        with self._cond:
            if self._released:
                return
            self._released = True
        self._stop_callbacks()
        _manager.remove(self)
        _manager.release_server(self._server)

    # --- background work -----------------------------------------------------------------

    def _schedule_renewal(self) -> None:
        if not self.auto_renew:
            return
        with self._cond:
            if self._ended:
                return
            self._generation += 1
            generation, delay = self._generation, _renewal_delay(self._granted)
        _manager.schedule(self, delay, lambda: self._renew_in_background(generation))

    def _renew_in_background(self, generation: int) -> None:  # the scheduler thread
        try:
            with self._op_lock:
                if self._ended or generation != self._generation:
                    return
                self._refresh()
        except SubscriptionError:
            return  # ended, logged, and kept in .error by _refresh
        finally:
            if self._ended:
                self._release()
        self._schedule_renewal()

    def _resubscribe(self) -> None:  # the scheduler thread, after a SEQ gap
        try:
            with self._op_lock:
                if self._ended:
                    return
                try:
                    self._request("UNSUBSCRIBE", {"SID": self._sid or ""})
                except SubscriptionError as exc:
                    log.debug("%r: %s", self, exc)
                try:
                    self._subscribe_fresh()
                except SubscriptionError as exc:
                    error = SubscriptionError(f"subscription to {self.service.name} lost: {exc}")
                    error.__cause__ = exc
                    self._finish(error)
                    return
        finally:
            if self._ended:
                self._release()
        self._schedule_renewal()

    def _on_notification(self, notification: Notification) -> None:  # the dispatch thread
        if self._ended or notification.sid != self._sid:
            log.debug("event for the old SID %s dropped", notification.sid)
            return
        if notification.sid != self._seq_sid:
            self._seq_sid, self._next_seq = notification.sid, None
        seq, expected, gap = notification.seq, self._next_seq, False
        if seq != 0 and expected is not None and seq != expected:
            if (seq - expected) % (1 << 32) >= 1 << 31:
                log.warning("%r: out-of-order event SEQ %d (expected %d) dropped",
                            self, seq, expected)
                return
            gap = True
        self._next_seq = 1 if seq == _SEQ_MAX else seq + 1
        self._push(self._event(notification))
        if gap:
            now = time.monotonic()
            if now - self._last_resubscribe < RESUBSCRIBE_INTERVAL:
                log.warning("%r: events %d..%d lost; resubscribed moments ago, not again",
                            self, expected, seq - 1)
                return
            self._last_resubscribe = now
            log.warning("%r: events %d..%d lost; subscribing anew", self, expected, seq - 1)
            _manager.schedule(self, 0.0, self._resubscribe)

    def _event(self, notification: Notification) -> Event:
        variables: Dict[str, Any] = {}
        for name, raw in notification.values.items():
            var = self._state_variables.get(name) or StateVariableInfo(name, "string")
            variables[name] = datatypes.decode(raw, var, context=f"{self.service.name} event")
        return Event(self.service, notification.sid, notification.seq, variables,
                     dict(notification.values), notification.received_at)

    def _push(self, event: Event) -> None:
        with self._cond:
            if self._ended:
                return
            if len(self._events) >= MAX_QUEUED_EVENTS:
                self._events.popleft()
                self._dropped += 1
                level = logging.WARNING if self.callback is None else logging.DEBUG
                if self._dropped % 100 == 1:
                    log.log(level, "%r: %d unread events dropped (oldest first); call get() "
                            "more often", self, self._dropped)
            self._events.append(event)
            if self.callback is not None and not self._callbacks_stopped:
                if len(self._callbacks) >= MAX_QUEUED_EVENTS:
                    self._callbacks.popleft()
                    log.warning("%r: the callback falls behind; the oldest event was dropped", self)
                self._callbacks.append(event)
            self._cond.notify_all()

    def _run_callbacks(self) -> None:  # the callback thread
        while True:
            with self._cond:
                while not self._callbacks and not self._callbacks_stopped:
                    self._cond.wait()
                if not self._callbacks:
                    return
                event = self._callbacks.popleft()
            try:
                self.callback(event)  # type: ignore[misc]  # only started with a callback
            except Exception:
                log.exception("%r: the callback raised on %r", self, event)

    def _stop_callbacks(self) -> None:
        thread = self._callback_thread
        with self._cond:
            self._callbacks_stopped = True
            self._cond.notify_all()
        if thread is None or thread is threading.current_thread():
            return
        thread.join(CALLBACK_JOIN_TIMEOUT)
        if thread.is_alive():
            log.warning("%r: the callback is still running after %s s; left behind", self,
                        CALLBACK_JOIN_TIMEOUT)


def _renewal_delay(granted: int) -> float:
    """Renew at half the granted time, and never more often than once a second."""
    return max(granted * 0.5, 1.0)


class _Manager:
    """The process-wide registry: callback servers by bind address, subscriptions, scheduler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: Dict[Tuple[str, int], CallbackServer] = {}
        self._users: Dict[CallbackServer, int] = {}
        self._subscriptions: Set[Subscription] = set()
        self._scheduler: Optional[Scheduler] = None
        self._atexit = False

    def acquire_server(self, host: str, port: int) -> CallbackServer:
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
                    ) from exc
                self._servers[(host, port)] = server
                self._users[server] = 0
            self._users[server] += 1
            return server

    def release_server(self, server: CallbackServer) -> None:
        with self._lock:
            self._users[server] = self._users.get(server, 1) - 1
            if self._users[server] > 0:
                return
            del self._users[server]
            for key in [k for k, v in self._servers.items() if v is server]:
                del self._servers[key]
        server.close()

    def add(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions.add(sub)

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(sub)
            scheduler = None if self._subscriptions else self._scheduler
            if scheduler is not None:
                self._scheduler = None
        if scheduler is not None:
            scheduler.stop()

    def schedule(self, sub: Subscription, delay: float, job: Callable[[], None]) -> None:
        with self._lock:
            if sub not in self._subscriptions:
                return
            if self._scheduler is None:
                self._scheduler = Scheduler()
            self._scheduler.add(delay, job)

    def shutdown(self) -> None:
        """Cancel every subscription (short timeouts) and stop every thread: at exit."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for sub in subscriptions:
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


_manager = _Manager()
_numbers = itertools.count(1)  # callback paths and thread names


def _deliver(target: Subscription, notification: Notification) -> None:
    target._on_notification(notification)


def _seconds(timeout: Union[int, float, datetime.timedelta]) -> int:
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()  # not .seconds, which drops the days
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 1:
        raise ValueError(f"timeout must be a number of seconds >= 1, not {timeout!r}")
    return int(math.ceil(timeout))


def _local_address(url: str) -> str:
    """The local address the system routes *url*'s host through (a UDP connect sends nothing)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise SubscriptionError(f"the eventSubURL {url!r} names no host")
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(parts.hostname, parts.port or 80,
                                                       type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(sockaddr)
            return str(probe.getsockname()[0])
    except (OSError, UnicodeError, ValueError) as exc:
        raise SubscriptionError(f"no local address routes to {parts.hostname!r}: {exc}") from exc


def _state_variables(service: "Service") -> Mapping[str, StateVariableInfo]:
    try:
        return service.state_variables
    except UPnPError as exc:
        log.warning("%r: no SCPD (%s); event values are kept as text", service, exc)
        return {}


def subscribe(
    service: "Service",
    callback: Optional[Callback] = None,
    timeout: Union[int, float, datetime.timedelta] = DEFAULT_TIMEOUT,
    auto_renew: bool = True,
    *,
    callback_url: Optional[str] = None,
    bind: Optional[Tuple[str, int]] = None,
) -> Subscription:
    """Subscribe to *service*'s events; the implementation of :meth:`upnpy.Service.subscribe`."""
    seconds = _seconds(timeout)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, not {callback!r}")
    url = service.event_sub_url
    if not url:
        raise SubscriptionError(f"{service.name} has no eventSubURL: it sends no events")
    if callback_url is not None:
        parts = urlsplit(callback_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"callback_url must be an http:// URL with a host: {callback_url!r}")
    local = _local_address(url)
    if bind is not None:
        host, port = bind
    else:
        host, port = local, (urlsplit(callback_url).port or 80) if callback_url else 0
    state_variables = _state_variables(service)
    server = _manager.acquire_server(host, port)
    if callback_url is None:  # a literal address: never a name, never a wildcard
        advertised = (local if host in _WILDCARDS else host).partition("%")[0]
        advertised = f"[{advertised}]" if ":" in advertised else advertised
        callback_url = f"http://{advertised}:{server.port}/upnpy/{next(_numbers)}"
    sub = Subscription(
        service, callback, seconds, auto_renew, server, callback_url, state_variables
    )
    _manager.add(sub)
    try:
        with sub._op_lock:
            sub._subscribe_fresh()
    except BaseException:
        with sub._op_lock:
            sub._finish(None)
        sub._release()
        raise
    sub._schedule_renewal()
    return sub


for _exported in (Subscription, Event):
    _exported.__module__ = "upnpy"
