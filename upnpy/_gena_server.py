"""The GENA callback server: receives NOTIFY requests, checks and parses them, routes them by SID.

One :class:`CallbackServer` listens on one local address. Each connection is served by a
short-lived named thread that reads one NOTIFY (size- and time-capped), parses its
``e:propertyset`` with the safe parser, answers at once, and queues the raw values. A single
dispatch thread then hands every queued :class:`Notification` to the ``deliver`` function in
arrival order, so nothing slow ever runs while a device waits for its answer.

A NOTIFY for a SID that is not registered is refused with 412 — except while a SUBSCRIBE is
in flight (:meth:`CallbackServer.pending`): the initial event may beat the SUBSCRIBE
response, so it is kept in a small backlog (bounded in SIDs and in events per SID, expiring,
emptied when no SUBSCRIBE is in flight) until :meth:`CallbackServer.register` claims it.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import queue
import selectors
import socket
import socketserver
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from ._exceptions import BodyTooLarge, FramingError
from ._gena import NotifyRejected, check_notify_headers, parse_propertyset
from ._http import RECV_SIZE, read_chunked
from ._version import __version__

__all__ = ["Notification", "CallbackServer"]

log = logging.getLogger("upnpy")

#: The largest NOTIFY body accepted, in bytes (larger ones get 413).
MAX_BODY = 1 << 20
#: Seconds a connection may stay silent, and seconds the whole request may take.
READ_TIMEOUT = 10.0
REQUEST_DEADLINE = 30.0
#: Connections served at once; more are closed without an answer.
MAX_CONNECTIONS = 32
#: Notifications waiting for the dispatch thread; more get 503.
MAX_QUEUED = 1024
#: The early-event backlog: SIDs, events per SID, and seconds an entry is kept.
BACKLOG_SIDS = 8
BACKLOG_EVENTS = 4
BACKLOG_TTL = 30.0


@dataclass(frozen=True)
class Notification:
    """One accepted NOTIFY, not yet interpreted: values are the raw texts, in body order."""

    sid: str
    seq: int
    values: Mapping[str, str]
    received_at: datetime.datetime
    peer: str


class _Handler(BaseHTTPRequestHandler):
    """Serves exactly one request per connection, then closes it."""

    protocol_version = "HTTP/1.1"
    server_version = f"upnpy/{__version__}"
    sys_version = ""
    timeout = READ_TIMEOUT  # socket timeout for every read
    server: _HTTPServer

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()

    def do_NOTIFY(self) -> None:
        owner = self.server.owner
        try:
            sid, seq = self._check_headers()
            if not owner._may_accept(sid):
                raise NotifyRejected(412, f"unknown SID {sid}")
            body = self._read_body(time.monotonic() + REQUEST_DEADLINE)
            values = parse_propertyset(body)
            received = datetime.datetime.now(datetime.timezone.utc)
            owner._accept(Notification(sid, seq, values, received, self.client_address[0]))
        except NotifyRejected as exc:
            level = logging.DEBUG if exc.status == 412 else logging.WARNING
            peer = self.client_address[0]
            log.log(level, "NOTIFY from %s refused (%d): %s", peer, exc.status, exc)
            self._answer(exc.status)
            return
        self._answer(200)

    def _check_headers(self) -> Tuple[str, int]:
        get = self.headers.get
        return check_notify_headers(get("NT"), get("NTS"), get("SID"), get("SEQ"))

    def _read_body(self, deadline: float) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(deadline)
        length = (self.headers.get("Content-Length") or "").strip()
        if length:
            if not length.isdigit():
                raise NotifyRejected(400, f"bad Content-Length {length[:20]!r}")
            if int(length) > MAX_BODY:
                raise NotifyRejected(413, f"body of {length} bytes exceeds {MAX_BODY}")
            body = self._read(int(length), deadline)
            if len(body) < int(length):
                raise NotifyRejected(400, "body shorter than its Content-Length")
            return body
        body = self._read(MAX_BODY + 1, deadline)  # no framing: the body ends with the connection
        if len(body) > MAX_BODY:
            raise NotifyRejected(413, f"body exceeds {MAX_BODY} bytes")
        return body

    def _read(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        try:
            while len(data) < size:
                if time.monotonic() > deadline:
                    raise NotifyRejected(408, "body arrived too slowly")
                chunk = self.rfile.read1(min(RECV_SIZE, size - len(data)))
                if not chunk:
                    break
                data += chunk
        except OSError as exc:  # a read timed out or the connection broke
            raise NotifyRejected(400, f"cannot read the body: {exc}") from exc
        return bytes(data)

    def _read_chunked(self, deadline: float) -> bytes:
        def more() -> bytes:
            if time.monotonic() > deadline:
                raise NotifyRejected(408, "body arrived too slowly")
            try:
                return self.rfile.read1(RECV_SIZE)
            except OSError as exc:  # a read timed out or the connection broke
                raise NotifyRejected(400, f"cannot read the body: {exc}") from exc

        try:
            body, _ = read_chunked(b"", more, MAX_BODY)
        except BodyTooLarge:
            raise NotifyRejected(413, f"chunked body exceeds {MAX_BODY} bytes") from None
        except FramingError as exc:
            raise NotifyRejected(400, str(exc)) from None
        return body

    def _answer(self, status: int) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
        except OSError as exc:
            log.debug("could not answer a NOTIFY from %s: %s", self.client_address[0], exc)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("callback server: " + format, *args)


class _HTTPServer(socketserver.TCPServer):
    """A TCP server with one named, tracked thread per connection (joined on close)."""

    allow_reuse_address = True

    def __init__(self, address: Tuple[Any, ...], family: int, owner: CallbackServer) -> None:
        self.address_family = family
        self.owner = owner
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._threads: Set[threading.Thread] = set()
        self._sockets: Set[socket.socket] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning(
                "callback server: too many connections; one from %s dropped", client_address[0]
            )
            self.shutdown_request(request)
            return
        thread = threading.Thread(
            target=self._serve_one,
            args=(request, client_address),
            name=f"upnpy-events-{self.server_address[1]}-conn",
            daemon=True,
        )
        with self._lock:
            self._threads.add(thread)
            self._sockets.add(request)
        thread.start()

    def _serve_one(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # a handler bug must not kill the server
            log.exception("callback server: error while serving %s", client_address[0])
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._threads.discard(threading.current_thread())
                self._sockets.discard(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("callback server: error while serving %s", client_address[0])

    def close_connections(self) -> None:
        """Cut every open connection and join the threads serving them."""
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()


class CallbackServer:
    """An HTTP server for NOTIFY requests on one local address, with its dispatch thread.

    :param host: the local address to listen on (an IPv4 or IPv6 literal).
    :param port: the port, or 0 for a free one.
    :param deliver: called on the dispatch thread as ``deliver(target, notification)`` for
        every accepted notification, *target* being what :meth:`register` was given.
    :raises OSError: when the address cannot be bound.
    """

    def __init__(self, host: str, port: int, deliver: Callable[[Any, Notification], None]) -> None:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        family, _, _, _, sockaddr = info[0]
        self._deliver = deliver
        self._lock = threading.Lock()
        self._routes: Dict[str, Any] = {}
        self._pending = 0
        self._backlog: OrderedDict[str, Tuple[float, List[Notification]]] = OrderedDict()
        self._queue: queue.Queue[Optional[Tuple[Any, Notification]]] = queue.Queue(MAX_QUEUED)
        self._closed = False
        self._httpd = _HTTPServer(sockaddr, family, self)
        self._wake_r, self._wake_w = socket.socketpair()  # close() wakes the idle loop with it
        self.host = host.partition("%")[0]
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._serve, name=f"upnpy-events-{self.port}", daemon=True
        )
        self._dispatcher = threading.Thread(
            target=self._dispatch, name=f"upnpy-events-{self.port}-dispatch", daemon=True
        )
        self._thread.start()
        self._dispatcher.start()
        log.debug("callback server listening on %s port %d", self.host, self.port)

    def url(self, path: str) -> str:
        """The URL of *path* on this server (``/upnpy/1`` → ``http://10.0.0.2:5678/upnpy/1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    @contextlib.contextmanager
    def pending(self) -> Iterator[None]:
        """Mark a SUBSCRIBE in flight: NOTIFYs for unknown SIDs may wait in the backlog."""
        with self._lock:
            self._pending += 1
        try:
            yield
        finally:
            with self._lock:
                self._pending -= 1
                if not self._pending:
                    self._backlog.clear()

    def register(self, sid: str, target: Any, *, replaces: Optional[str] = None) -> None:
        """Route NOTIFYs for *sid* to *target*, first the ones already waiting in the backlog.

        :param replaces: a SID of the same target to forget at the same moment.
        """
        with self._lock:
            if replaces is not None and self._routes.get(replaces) is target:
                del self._routes[replaces]
            self._routes[sid] = target
            _, early = self._backlog.pop(sid, (0.0, []))
            for notification in early:
                try:
                    self._enqueue(target, notification)
                except NotifyRejected as exc:
                    log.warning("early event for SID %s dropped: %s", sid, exc)

    def unregister(self, sid: Optional[str]) -> None:
        """Stop routing *sid*; its later NOTIFYs get 412."""
        with self._lock:
            self._routes.pop(sid, None)  # type: ignore[arg-type]

    def _may_accept(self, sid: str) -> bool:
        with self._lock:
            return sid in self._routes or self._pending > 0

    def _accept(self, notification: Notification) -> None:
        """Queue a parsed notification for its target, or keep it in the backlog.

        :raises NotifyRejected: 412 when the SID is unknown and cannot wait, 503 when full.
        """
        sid = notification.sid
        with self._lock:
            target = self._routes.get(sid)
            if target is not None:
                self._enqueue(target, notification)
                return
            if not self._pending:
                raise NotifyRejected(412, f"unknown SID {sid}")
            now = time.monotonic()
            for old in [s for s, (since, _) in self._backlog.items() if now - since > BACKLOG_TTL]:
                del self._backlog[old]
            entry = self._backlog.get(sid)
            if entry is None:
                if len(self._backlog) >= BACKLOG_SIDS:
                    raise NotifyRejected(412, f"unknown SID {sid} (early-event backlog full)")
                entry = self._backlog[sid] = (now, [])
            if len(entry[1]) >= BACKLOG_EVENTS:
                raise NotifyRejected(412, f"unknown SID {sid} (too many early events)")
            entry[1].append(notification)

    def _enqueue(self, target: Any, notification: Notification) -> None:
        try:
            self._queue.put_nowait((target, notification))
        except queue.Full:
            raise NotifyRejected(503, "too many events waiting to be processed") from None

    def _serve(self) -> None:
        """Accept connections until :meth:`close`; sleeps in select() when idle (no polling)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._httpd, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if self._closed:
                    return
                if any(key.fileobj is self._httpd for key, _ in ready):
                    self._httpd._handle_request_noblock()  # type: ignore[attr-defined]  # accept, then process_request

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._deliver(*item)
            except Exception:  # never let one bad event stop the dispatcher
                log.exception("error while processing an event for SID %s", item[1].sid)

    def close(self) -> None:
        """Stop listening, cut open connections, and join every thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._routes.clear()
            self._backlog.clear()
        self._wake_w.send(b"x")
        if threading.current_thread() is not self._thread:
            self._thread.join()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._wake_r.close()
        self._wake_w.close()
        while True:  # drop what was not processed, then stop the dispatcher
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        if threading.current_thread() is not self._dispatcher:
            self._dispatcher.join()
        log.debug("callback server on %s port %d stopped", self.host, self.port)

    def __repr__(self) -> str:
        return f"<CallbackServer {self.url('/')}>"
