"""The GENA callback server: receives NOTIFY requests, checks and parses them, routes them by SID.

One :class:`CallbackServer` listens on one local address. A single named thread accepts every
connection and reads it without blocking, buffering each request until it is complete (headers
up to 64 KiB, a body up to :data:`MAX_BODY`). Nothing a client does can hold a thread or grow
their number, and file descriptors are bounded:

- each connection has :data:`REQUEST_DEADLINE` seconds from its accept for the *whole* request
  (a client that drips bytes gains nothing by it), enforced by the selector's timeout;
- at most :data:`MAX_CONNECTIONS` are open; when full, the one open longest is closed to make
  room, so a flood of slow connections cannot lock a device out;
- at most :data:`MAX_BUFFERED` bytes are buffered over all connections.

A complete NOTIFY is checked and parsed with the pure helpers of :mod:`upnpy._gena` (its
``e:propertyset`` with the safe parser), answered at once, and its raw values queued; a single
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
import re
import selectors
import socket
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from ._exceptions import BodyTooLarge, FramingError
from ._gena import NotifyRejected, check_notify_headers, parse_propertyset
from ._http import MAX_HEAD, RECV_SIZE, Headers, content_length, parse_fields, read_chunked
from ._records import Record, record
from ._version import __version__

__all__ = ["Notification", "CallbackServer"]

log = logging.getLogger("upnpy")

#: The largest NOTIFY body accepted, in bytes (larger ones get 413).
MAX_BODY = 1 << 20
#: Seconds from a connection's accept within which its whole request must have arrived.
REQUEST_DEADLINE = 5.0
#: Connections open at once; when full, the one open longest is closed for a new one.
MAX_CONNECTIONS = 256
#: Request bytes buffered over all connections; beyond, the connection holding most is closed.
MAX_BUFFERED = 32 << 20
#: Seconds an answered connection is drained before it is closed (so no reset eats the answer).
LINGER = 1.0
#: Notifications waiting for the dispatch thread; more get 503.
MAX_QUEUED = 1024
#: The early-event backlog: SIDs, events per SID, and seconds an entry is kept.
BACKLOG_SIDS = 8
BACKLOG_EVENTS = 4
BACKLOG_TTL = 30.0

_LISTEN_BACKLOG = 128  # connections the kernel holds until they are accepted
_ACCEPTS_PER_WAKE = 64  # then the loop serves the open connections again
_ACCEPT_PAUSE = 0.1  # seconds without accept() when the process is out of file descriptors
_WARN_EVERY = 10.0  # seconds between two warnings about a flood (the rest go to DEBUG)
_FEED = 4096  # bytes handed to the chunked decoder at a time (its cost grows with them)

_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_REQUEST_LINE = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]+\S+[ \t]+HTTP/(\d)\.(\d)[ \t]*")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    408: "Request Timeout",
    412: "Precondition Failed",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@record
class Notification(Record):
    """One accepted NOTIFY, not yet interpreted: values are the raw texts, in body order."""

    sid: str
    seq: int
    values: Mapping[str, str]
    received_at: datetime.datetime
    peer: str


# -- the request, as data ----------------------------------------------------------------------


class _NotHTTP(NotifyRejected):
    """A request that is not an HTTP/1.x NOTIFY (answered, but only logged at DEBUG level)."""


class _Incomplete(Exception):
    """The bytes buffered so far end inside a chunked body."""


def _check_request_line(line: str) -> None:
    """Accept ``NOTIFY <path> HTTP/1.x``.

    :raises _NotHTTP: 400 for a malformed line, 505 for another HTTP version, 501 for
        another method.
    """
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise _NotHTTP(400, f"bad request line {line[:60]!r}")
    method, major, minor = match.groups()
    if major != "1":
        raise _NotHTTP(505 if major > "1" else 400, f"HTTP version {major}.{minor}")
    if method != "NOTIFY":
        raise _NotHTTP(501, f"method {method[:20]!r} not supported")


def _header_fields(lines: List[str]) -> List[Tuple[str, str]]:
    """The header fields of a NOTIFY (lines may end with LF alone), by :func:`parse_fields`.

    :raises NotifyRejected: (400) for a malformed field.
    """
    try:
        return parse_fields(line.rstrip("\r") for line in lines)
    except FramingError as exc:
        raise NotifyRejected(400, str(exc)) from None


def _framing(pairs: List[Tuple[str, str]]) -> Tuple[bool, Optional[int]]:
    """``(chunked, Content-Length)``; ``(False, None)`` for a body that ends with the connection.

    :raises NotifyRejected: 400 for a Content-Length that is not ASCII digits or two different
        ones, 413 for one over :data:`MAX_BODY`.
    """
    try:
        length = content_length(pairs)
    except FramingError as exc:
        raise NotifyRejected(400, str(exc)) from None
    codings = ",".join(value for name, value in pairs if name.lower() == "transfer-encoding")
    if "chunked" in codings.lower():
        return True, None
    if length is not None and length > MAX_BODY:
        raise NotifyRejected(413, f"body of {length} bytes exceeds {MAX_BODY}")
    return False, length


def _decode_chunked(raw: bytes, complete: bool) -> bytes:
    """The body of the chunked *raw* bytes; *complete*: the client sent all it will.

    :raises _Incomplete: when more bytes are needed (and may come).
    :raises NotifyRejected: 413 for a body over :data:`MAX_BODY`, 400 for bad framing.
    """
    position = 0

    def more() -> bytes:
        nonlocal position
        if position >= len(raw) and not complete:
            raise _Incomplete
        piece = raw[position : position + _FEED]
        position += len(piece)
        return piece

    try:
        return read_chunked(b"", more, MAX_BODY)[0]
    except BodyTooLarge:
        raise NotifyRejected(413, f"chunked body exceeds {MAX_BODY} bytes") from None
    except FramingError as exc:
        raise NotifyRejected(400, str(exc)) from None


def _response(status: int) -> bytes:
    """The whole answer: a status line and headers, no body; the connection closes."""
    now = time.gmtime()
    date = (
        f"{_DAYS[now.tm_wday]}, {now.tm_mday:02d} {_MONTHS[now.tm_mon - 1]} {now.tm_year} "
        f"{now.tm_hour:02d}:{now.tm_min:02d}:{now.tm_sec:02d} GMT"
    )
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nServer: upnpy/{__version__}\r\n"
        f"Date: {date}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


# -- the connections ---------------------------------------------------------------------------


class _Conn:
    """One accepted connection and the request it is sending."""

    def __init__(self, sock: socket.socket, peer: str, deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.deadline = deadline
        self.buf = bytearray()
        self.scanned = 0  # bytes of buf searched for the end of the headers
        self.body_at = -1  # where the body starts in buf, once the headers are in
        self.sid = ""
        self.seq = 0
        self.chunked = False
        self.length: Optional[int] = None  # Content-Length
        self.tried = 0  # body bytes buffered at the last attempt to decode a chunked body
        self.work = 0  # body bytes decoded over all the attempts
        self.eof = False  # the client has closed its side
        self.out = b""  # answer bytes not sent yet
        self.answered = False  # the answer is out: read and drop until the close or LINGER


class _Connections:
    """The connection side of a :class:`CallbackServer`: one thread, one selector, no blocking.

    :meth:`run` is the thread; :meth:`stop` ends it, and it closes every socket on its way out.
    """

    def __init__(self, owner: CallbackServer, listener: socket.socket) -> None:
        self._owner = owner
        self._listener = listener
        self._wake_r, self._wake_w = socket.socketpair()  # stop() wakes the idle loop with it
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._conns: Dict[int, _Conn] = {}  # by file descriptor, the oldest first
        self._buffered = 0
        self._paused_until = 0.0  # accept() is paused until then (out of file descriptors)
        self._warned_at = -_WARN_EVERY
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):  # the loop may be gone already
            self._wake_w.send(b"x")

    def run(self) -> None:
        """Serve until :meth:`stop`; sleeps in select() until a socket or a deadline is due."""
        try:
            while not self._stopping:
                timeout = self._expire(time.monotonic())
                for key, mask in self._selector.select(timeout):
                    if key.data is not None:
                        self._serve(key.data, mask)
                    elif key.fileobj is self._listener:
                        self._accept()
        except Exception:  # never raise into the user; the server is gone, say why
            log.exception("callback server: the connection loop failed")
        finally:
            for conn in list(self._conns.values()):
                self._drop(conn)
            self._selector.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()

    # -- accepting and closing

    def _accept(self) -> None:
        for _ in range(_ACCEPTS_PER_WAKE):
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:  # EMFILE and friends: pause accept() rather than spin
                self._warn("callback server: cannot accept connections: %s", exc)
                if self._conns:
                    self._drop(next(iter(self._conns.values())))
                self._selector.unregister(self._listener)
                self._paused_until = time.monotonic() + _ACCEPT_PAUSE
                return
            while self._conns and len(self._conns) >= MAX_CONNECTIONS:
                oldest = next(iter(self._conns.values()))
                self._warn(
                    "callback server: %d connections open; the oldest (from %s) closed for one "
                    "from %s",
                    len(self._conns),
                    oldest.peer,
                    address[0],
                )
                self._drop(oldest)
            sock.setblocking(False)
            conn = _Conn(sock, address[0], time.monotonic() + REQUEST_DEADLINE)
            self._conns[sock.fileno()] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _drop(self, conn: _Conn) -> None:
        """Close *conn* at once, without an answer (or after it)."""
        if self._conns.pop(conn.sock.fileno(), None) is None:
            return
        self._selector.unregister(conn.sock)
        conn.sock.close()
        self._release(conn)

    def _release(self, conn: _Conn) -> None:
        self._buffered -= len(conn.buf)
        conn.buf = bytearray()

    def _expire(self, now: float) -> Optional[float]:
        """Deal with the connections past their deadline; the seconds until the next one."""
        if self._paused_until and now >= self._paused_until:
            self._paused_until = 0.0
            self._selector.register(self._listener, selectors.EVENT_READ)
        for conn in [c for c in self._conns.values() if c.deadline <= now]:
            if conn.answered:
                self._drop(conn)
            elif conn.body_at < 0:
                log.debug("callback server: no complete request from %s in time", conn.peer)
                self._drop(conn)
            else:
                self._serve(conn, late=True)
        due = [c.deadline for c in self._conns.values()]
        if self._paused_until:
            due.append(self._paused_until)
        return max(min(due) - now, 0.0) if due else None

    def _warn(self, message: str, *args: Any) -> None:
        """Log a warning about a flood, or at DEBUG level if one was logged just before."""
        now = time.monotonic()
        level = logging.DEBUG
        if now - self._warned_at >= _WARN_EVERY:
            level, self._warned_at = logging.WARNING, now
        log.log(level, message, *args)

    # -- reading and answering

    def _serve(self, conn: _Conn, mask: int = 0, late: bool = False) -> None:
        """Send, receive, or (*late*) answer a request past its deadline."""
        try:
            if late:
                self._advance(conn, late=True)
            elif mask & selectors.EVENT_WRITE:
                self._send(conn)
            else:
                self._receive(conn)
        except Exception:  # a bug in serving one connection must not stop the server
            log.exception("callback server: error while serving %s", conn.peer)
            self._drop(conn)

    def _receive(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.debug("callback server: connection from %s broke: %s", conn.peer, exc)
            self._drop(conn)
            return
        if conn.answered:  # draining after the answer
            if not data:
                self._drop(conn)
            return
        if not data:
            conn.eof = True
        elif conn.body_at < 0 and not conn.buf and data[:1] in b"\r\n":
            data = data.lstrip(b"\r\n")  # blank lines before a request line are ignored
        conn.buf += data
        self._buffered += len(data)
        if self._buffered > MAX_BUFFERED:
            hog = max(self._conns.values(), key=lambda c: len(c.buf))
            self._warn(
                "callback server: %d bytes buffered; the connection from %s (%d bytes) closed",
                self._buffered,
                hog.peer,
                len(hog.buf),
            )
            self._drop(hog)
            if hog is conn:
                return
        self._advance(conn)

    def _advance(self, conn: _Conn, late: bool = False) -> None:
        """Answer *conn* once its request is complete (or broken); *late*: its deadline passed.

        Once the client has closed its side or the deadline has passed, it is answered or
        closed here, never left waiting.
        """
        try:
            if conn.body_at < 0 and not self._head(conn):
                if conn.eof:
                    if conn.buf:
                        raise _NotHTTP(400, "connection closed inside the headers")
                    self._drop(conn)
                return
            body = self._body(conn, late)
            if body is None:
                return
            values = parse_propertyset(body)
            received = datetime.datetime.now(datetime.timezone.utc)
            self._owner._accept(Notification(conn.sid, conn.seq, values, received, conn.peer))
        except _NotHTTP as exc:
            log.debug("callback server: bad request from %s (%d): %s", conn.peer, exc.status, exc)
            self._answer(conn, exc.status)
        except NotifyRejected as exc:
            level = logging.DEBUG if exc.status == 412 else logging.WARNING
            log.log(level, "NOTIFY from %s refused (%d): %s", conn.peer, exc.status, exc)
            self._answer(conn, exc.status)
        else:
            self._answer(conn, 200)

    def _head(self, conn: _Conn) -> bool:
        """Whether the headers are in; when they are, they are checked and the body framed.

        :raises NotifyRejected: for a request refused on its headers.
        """
        match = _END_OF_HEAD.search(conn.buf, max(conn.scanned - 3, 0))
        if match is None or match.start() > MAX_HEAD:
            if len(conn.buf) > MAX_HEAD:
                raise _NotHTTP(431, f"headers over {MAX_HEAD} bytes")
            conn.scanned = len(conn.buf)
            return False
        conn.body_at = match.end()
        request_line, *lines = conn.buf[: match.start()].decode("latin-1").split("\n")
        _check_request_line(request_line.rstrip("\r"))
        pairs = _header_fields(lines)
        get = Headers(pairs).get
        conn.sid, conn.seq = check_notify_headers(get("NT"), get("NTS"), get("SID"), get("SEQ"))
        if not self._owner._may_accept(conn.sid):
            raise NotifyRejected(412, f"unknown SID {conn.sid}")
        conn.chunked, conn.length = _framing(pairs)
        return True

    def _body(self, conn: _Conn, late: bool) -> Optional[bytes]:
        """The whole body, or None while it may still come.

        :raises NotifyRejected: 400 for a broken body, 408 when *late*, 413 when too large.
        """
        start, have = conn.body_at, len(conn.buf) - conn.body_at
        if conn.length is not None:
            if have >= conn.length:
                return bytes(conn.buf[start : start + conn.length])
            if conn.eof:
                raise NotifyRejected(400, "body shorter than its Content-Length")
        elif conn.chunked:
            body = self._chunked(conn, have, late)
            if body is not None:
                return body
        elif have > MAX_BODY:
            raise NotifyRejected(413, f"body exceeds {MAX_BODY} bytes")
        elif conn.eof:  # no framing: the body ends with the connection
            return bytes(conn.buf[start:])
        if late:
            raise NotifyRejected(408, "the request arrived too slowly")
        return None

    def _chunked(self, conn: _Conn, have: int, late: bool) -> Optional[bytes]:
        """Decode the chunked body from the start when it may be complete, else None.

        Decoding runs when the buffered body has doubled since the last try, when it ends
        like a complete one (CRLF CRLF; at most :data:`MAX_BODY` * 4 bytes decoded that way
        over all tries), and at the close or the deadline: its cost stays a few decodings.
        """
        ends = conn.buf.endswith(b"\r\n\r\n") and conn.work + have <= 4 * MAX_BODY
        if not (late or conn.eof or have >= 2 * conn.tried or (ends and have > conn.tried)):
            return None
        conn.tried = have
        conn.work += have
        try:
            return _decode_chunked(bytes(conn.buf[conn.body_at :]), conn.eof)
        except _Incomplete:
            if have > MAX_BODY + MAX_HEAD:  # sizes and trailers cannot take that much room
                raise NotifyRejected(413, f"chunked body exceeds {MAX_BODY} bytes") from None
            return None

    def _answer(self, conn: _Conn, status: int) -> None:
        conn.answered = True
        conn.out = _response(status)
        self._release(conn)
        self._send(conn)

    def _send(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            log.debug("could not answer a NOTIFY from %s: %s", conn.peer, exc)
            self._drop(conn)
            return
        conn.out = conn.out[sent:]
        if conn.out:
            self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
            return
        if conn.eof:
            self._drop(conn)
            return
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_WR)
        conn.deadline = time.monotonic() + LINGER
        self._selector.modify(conn.sock, selectors.EVENT_READ, conn)


def _listen(family: int, sockaddr: Tuple[Any, ...]) -> socket.socket:
    """A bound, listening, non-blocking TCP socket.

    :raises OSError: when the address cannot be bound.
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(_LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


# -- the server --------------------------------------------------------------------------------


class CallbackServer:
    """An HTTP server for NOTIFY requests on one local address, with its dispatch thread.

    :param host: the local address to listen on (an IPv4 or IPv6 literal; a link-local IPv6
        one with its zone, ``fe80::2%4``, which :attr:`host` and :meth:`url` leave out).
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
        listener = _listen(family, sockaddr)
        self.host = host.partition("%")[0]
        self.port: int = listener.getsockname()[1]
        try:
            self._connections = _Connections(self, listener)
        except BaseException:
            listener.close()
            raise
        self._thread = threading.Thread(
            target=self._connections.run, name=f"upnpy-events-{self.port}", daemon=True
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
        """Stop listening, close every connection, and join every thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._routes.clear()
            self._backlog.clear()
        self._connections.stop()  # its thread closes every socket on its way out
        if threading.current_thread() is not self._thread:
            self._thread.join()
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
