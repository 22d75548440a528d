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

How it works: :func:`subscribe` (``Service.subscribe``) gets, from the process-wide
:mod:`upnpy._manager`, a callback HTTP server (:mod:`upnpy._gena_server`) on the local address
that routes to the device (an IPv6 one for an IPv6 device: see
:func:`upnpy._transport.callback_address`), and sends SUBSCRIBE (headers from
:mod:`upnpy._gena`). NOTIFYs are answered at once and processed on the server's dispatch
thread: SEQ checked (a gap means lost events, so the subscription is made anew), values
converted with the service's state-variable types, the :class:`Event` queued for
:meth:`Subscription.get` and iteration, and handed to the subscription's callback thread. One
scheduler thread renews every subscription at half its granted time. When the last subscription
ends every thread is stopped and joined; the same happens at interpreter exit.

This module is the subscription state machine only: it is handed the service's URL, HTTP
transport, timeout and state variables by :meth:`upnpy.Service.subscribe`, and reads nothing
else of the device.
"""

from __future__ import annotations

import collections
import datetime
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Deque,
    Dict,
    Iterator,
    Mapping,
    Optional,
    Tuple,
    Union,
)
from urllib.parse import urlsplit

from . import _datatypes, _gena
from ._errors import with_cause
from ._exceptions import SubscriptionError, TransportError
from ._gena import DEFAULT_DURATION
from ._gena_server import CallbackServer, Notification
from ._http import Timeout, as_timeout
from ._manager import manager
from ._records import Record, StateVariableInfo, record
from ._transport import Reply, Transport, callback_address

if TYPE_CHECKING:  # pragma: no cover
    from ._proxy import Service

__all__ = ["Subscription", "Event", "subscribe"]

log = logging.getLogger("upnpy")

#: The largest answer to SUBSCRIBE/UNSUBSCRIBE read (it should have no body at all).
MAX_ANSWER = 64 * 1024
#: Events kept for :meth:`Subscription.get` (and for a callback); the oldest goes first.
MAX_QUEUED_EVENTS = 256
#: A SEQ gap triggers at most one fresh SUBSCRIBE per this many seconds.
RESUBSCRIBE_INTERVAL = 10.0
#: Seconds :meth:`Subscription.unsubscribe` waits for a running callback to return.
CALLBACK_JOIN_TIMEOUT = 10.0
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

    service: Service
    sid: str
    seq: int
    variables: Dict[str, Any]
    raw: Mapping[str, str]
    received_at: datetime.datetime

    def __repr__(self) -> str:
        return f"<Event {self.service.name} seq={self.seq} {self.variables!r}>"

    def _repr_html_(self) -> str:
        from ._display import event_html

        return event_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import event_text, pretty

        pretty(printer, self, cycle, lambda: event_text(self))


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

    def __init__(
        self,
        service: Service,
        link: _Link,
        callback: Optional[Callback],
        requested: int,
        auto_renew: bool,
        server: CallbackServer,
        callback_url: str,
    ) -> None:
        self.service = service
        self.callback = callback
        self.auto_renew = auto_renew
        self.callback_url = callback_url
        self.requested_timeout = requested
        self.error: Optional[SubscriptionError] = None
        self._link = link
        self._server = server
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
            name = f"upnpy-events-callback-{next(manager.numbers)}"
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

    def _close(self, timeout: Optional[Timeout]) -> None:
        try:
            with self._op_lock:
                if self._ended:
                    return
                try:
                    self._request(
                        "UNSUBSCRIBE", _gena.unsubscribe_headers(self._sid or ""), timeout
                    )
                except SubscriptionError as exc:
                    log.info("%r: %s", self, exc)
                self._finish(None)
        finally:
            self._release()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        state = "active" if not self._ended else ("failed" if self.error else "cancelled")
        return f"<Subscription {self.service.name} {self._sid} {state}, timeout {self._granted} s>"

    def _repr_html_(self) -> str:
        from ._display import subscription_html

        return subscription_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import pretty, subscription_text

        pretty(printer, self, cycle, lambda: subscription_text(self))

    # --- the GENA exchanges (the caller holds _op_lock) ----------------------------------

    def _request(
        self, method: str, headers: Dict[str, str], timeout: Optional[Timeout] = None
    ) -> Reply:
        link = self._link
        url = link.url
        limits = as_timeout(timeout if timeout is not None else link.timeout)
        try:
            response = link.transport.exchange(method, url, headers, b"", limits, MAX_ANSWER)
        except TransportError as exc:
            error = SubscriptionError(f"{method} {url} failed: {exc.message}")
            raise with_cause(error, exc) from None
        log.debug("%s %s %s: HTTP %d", method, url, headers.get("SID", ""), response.status)
        if response.status != 200:
            status = f"HTTP {response.status} {response.reason}".rstrip()
            raise SubscriptionError(f"{method} {url}: {status}")
        return response

    def _subscribe_fresh(self) -> None:
        """SUBSCRIBE anew: a new SID, whose early NOTIFYs wait in the server's backlog."""
        headers = _gena.subscribe_headers(self.callback_url, self.requested_timeout)
        with self._server.pending():
            response = self._request("SUBSCRIBE", headers)
            sid = (response.headers.get("SID") or "").strip()
            if not sid:
                raise SubscriptionError(f"SUBSCRIBE {self._link.url}: answered without a SID")
            old = self._sid
            with self._cond:
                self._sid = sid
                self._granted = self._granted_seconds(response)
            self._server.register(sid, self, replaces=old)
        log.debug("%r: subscribed", self)

    def _renew_once(self) -> None:
        headers = _gena.renew_headers(self._sid or "", self.requested_timeout)
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

    def _granted_seconds(self, response: Reply) -> int:
        return _gena.granted_seconds(response.headers.get("TIMEOUT"), self.requested_timeout)

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
            raise with_cause(error, exc) from None

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
        manager.remove(self)
        manager.release_server(self._server)

    # --- background work -----------------------------------------------------------------

    def _schedule_renewal(self) -> None:
        if not self.auto_renew:
            return
        with self._cond:
            if self._ended:
                return
            self._generation += 1
            generation, delay = self._generation, _gena.renewal_delay(self._granted)
        manager.schedule(self, delay, lambda: self._renew_in_background(generation))

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
                    self._request("UNSUBSCRIBE", _gena.unsubscribe_headers(self._sid or ""))
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
            if _gena.is_stale(seq, expected):
                log.warning(
                    "%r: out-of-order event SEQ %d (expected %d) dropped", self, seq, expected
                )
                return
            gap = True
        self._next_seq = _gena.next_seq(seq)
        self._push(self._event(notification))
        if gap:
            now = time.monotonic()
            if now - self._last_resubscribe < RESUBSCRIBE_INTERVAL:
                log.warning(
                    "%r: events %d..%d lost; resubscribed moments ago, not again",
                    self,
                    expected,
                    seq - 1,
                )
                return
            self._last_resubscribe = now
            log.warning("%r: events %d..%d lost; subscribing anew", self, expected, seq - 1)
            manager.schedule(self, 0.0, self._resubscribe)

    def _event(self, notification: Notification) -> Event:
        variables: Dict[str, Any] = {}
        for name, raw in notification.values.items():
            var = self._link.state_variables.get(name) or StateVariableInfo(name, "string")
            variables[name] = _datatypes.decode(raw, var, context=f"{self.service.name} event")
        return Event(
            self.service,
            notification.sid,
            notification.seq,
            variables,
            dict(notification.values),
            notification.received_at,
        )

    def _push(self, event: Event) -> None:
        with self._cond:
            if self._ended:
                return
            if len(self._events) >= MAX_QUEUED_EVENTS:
                self._events.popleft()
                self._dropped += 1
                level = logging.WARNING if self.callback is None else logging.DEBUG
                if self._dropped % 100 == 1:
                    log.log(
                        level,
                        "%r: %d unread events dropped (oldest first); call get() more often",
                        self,
                        self._dropped,
                    )
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
            log.warning(
                "%r: the callback is still running after %s s; left behind",
                self,
                CALLBACK_JOIN_TIMEOUT,
            )


@record
class _Link(Record):
    """What a subscription is handed of its service: where and how to reach it, and the types.

    :ivar url: the absolute eventSubURL.
    :ivar transport: its device's transport, for SUBSCRIBE/UNSUBSCRIBE.
    :ivar timeout: the device's HTTP timeout.
    :ivar state_variables: the service's state variables, to convert event values.
    """

    url: str
    transport: Transport
    timeout: Optional[Timeout]
    state_variables: Mapping[str, StateVariableInfo]


def subscribe(
    service: Service,
    event_url: str,
    transport: Transport,
    http_timeout: Optional[Timeout],
    state_variables: Mapping[str, StateVariableInfo],
    callback: Optional[Callback] = None,
    timeout: Union[int, float, datetime.timedelta] = DEFAULT_DURATION,
    auto_renew: bool = True,
    *,
    callback_url: Optional[str] = None,
    bind: Optional[Tuple[str, int]] = None,
) -> Subscription:
    """Subscribe to a service's events; the implementation of :meth:`upnpy.Service.subscribe`.

    :param service: the service, kept as :attr:`Subscription.service` and named in messages.
    :param event_url: its absolute eventSubURL (``""`` when it has none).
    :param transport: its device's transport (the one SOAP and descriptions use).
    :param http_timeout: its device's timeout for each exchange.
    :param state_variables: its state variables (empty when the SCPD is unavailable).

    The other parameters are those of :meth:`upnpy.Service.subscribe`.
    """
    seconds = _gena.duration_seconds(timeout)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, not {callback!r}")
    if not event_url:
        raise SubscriptionError(f"{service.name} has no eventSubURL: it sends no events")
    if callback_url is not None:
        parts = urlsplit(callback_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"callback_url must be an http:// URL with a host: {callback_url!r}")
    try:
        local = callback_address(event_url)  # IPv6 for an IPv6 device; fe80::2%4 carries a zone
    except TransportError as exc:
        raise with_cause(SubscriptionError(exc.message), exc) from None
    if bind is not None:
        host, port = bind
    else:
        host, port = local, (urlsplit(callback_url).port or 80) if callback_url else 0
    server = manager.acquire_server(host, port)
    if callback_url is None:  # a literal address: never a name, never a wildcard, never a zone
        advertised = (local if host in _WILDCARDS else host).partition("%")[0]
        advertised = f"[{advertised}]" if ":" in advertised else advertised
        callback_url = f"http://{advertised}:{server.port}/upnpy/{next(manager.numbers)}"
    link = _Link(event_url, transport, http_timeout, state_variables)
    sub = Subscription(service, link, callback, seconds, auto_renew, server, callback_url)
    manager.add(sub)
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
