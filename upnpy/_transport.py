"""HTTP exchanges with devices: a lean keep-alive socket client, or a user's requests.Session.

A UPnP call is a small HTTP exchange on the LAN, and a client's own overhead is what users
feel. Measured in the lab (``make bench``), ``requests.Session.post`` costs about 1 ms more
per call than the exchange itself: it merges settings, builds a ``PreparedRequest``, runs
urllib3's pool and parses headers with :mod:`email`. :class:`SocketTransport` does what a
device exchange needs and nothing else: one ``sendall`` of the whole request (some devices
need the request in one TCP segment), a status line and headers split by hand, a body framed
by Content-Length, chunks or close, capped in size and bounded in time, and idle connections
kept per host for the next call. It is the default.

:class:`RequestsTransport` wraps a :class:`requests.Session` the user hands in (for auth, TLS,
proxies or extra headers); everything else in upnpy is the same either way.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

from ._errors import translate, with_cause
from ._exceptions import BodyTooLarge, DescriptionError, FramingError, TransportError
from ._http import MAX_HEAD, RECV_SIZE, USER_AGENT, Timeout, as_timeout, read_capped, read_chunked

if TYPE_CHECKING:
    import requests

__all__ = ["Transport", "SocketTransport", "RequestsTransport", "as_transport", "fetch", "Reply"]

#: ``(status, reason, body)``
Reply = Tuple[int, str, bytes]

_MAX_IDLE = 4  # idle connections kept per (host, port)


class Transport:
    """What upnpy needs from HTTP: one exchange, its body read whole and capped."""

    def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: Tuple[float, float],
        limit: int,
    ) -> Reply:
        """Send one request; return ``(status, reason, body)``.

        :param timeout: ``(connect, read)`` seconds; the whole exchange also ends by
            ``connect + read`` seconds after it starts, so a device that drips bytes
            cannot hold the caller.
        :param limit: the largest body accepted, in bytes.
        :raises TransportError: connection failure, malformed HTTP, or a body over *limit*
            (with ``.status`` set when the status line had arrived).
        :raises TransportTimeout: when the device does not connect or answer in time.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Close idle connections (idempotent)."""


@functools.lru_cache(maxsize=256)
def _target(url: str, method: str) -> Tuple[str, int, str, str]:
    """``(host, port, path, netloc)`` of an ``http:`` URL (cached: a device has few URLs)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise TransportError(f"cannot {method} a non-http URL", url=url)
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise TransportError(f"bad port in URL: {exc}", url=url) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, path, parts.netloc


def _connect(address: Tuple[str, int], timeout: float) -> socket.socket:
    """A TCP connection; an IPv4 literal (the usual LOCATION) skips the resolver."""
    try:
        socket.inet_aton(address[0])
    except OSError:
        sock = socket.create_connection(address, timeout=timeout)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Broken(Exception):
    """A reused connection turned out dead before any byte of an answer arrived."""


class SocketTransport(Transport):
    """HTTP/1.1 over plain sockets, with keep-alive. Thread-safe; ``http:`` URLs only."""

    def __init__(self) -> None:
        self._idle: Dict[Tuple[str, int], List[socket.socket]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: Tuple[float, float],
        limit: int,
    ) -> Reply:
        host, port, path, netloc = _target(url, method)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {netloc}"]
        names = {name.lower() for name in headers}
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if any("\r" in line or "\n" in line for line in lines):  # e.g. a serviceType with one
            raise TransportError("refusing a request line or header with a line break", url=url)
        if "user-agent" not in names:
            lines.append(f"User-Agent: {USER_AGENT}")
        if "content-length" not in names and (body or method not in ("GET", "HEAD")):
            lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        deadline = time.monotonic() + timeout[0] + timeout[1]
        key = (host, port)
        sock = self._take(key)
        if sock is not None:
            try:
                return self._over(sock, key, request, method, url, timeout, deadline, limit)
            except _Broken:
                pass  # the device closed an idle connection: one fresh try
        with translate(url):
            sock = _connect(key, timeout[0])
        try:
            return self._over(sock, key, request, method, url, timeout, deadline, limit)
        except _Broken as exc:
            error = TransportError("connection closed before an answer", url=url)
            raise with_cause(error, exc) from None

    def _over(
        self,
        sock: socket.socket,
        key: Tuple[str, int],
        request: bytes,
        method: str,
        url: str,
        timeout: Tuple[float, float],
        deadline: float,
        limit: int,
    ) -> Reply:
        keep = False
        try:
            sock.settimeout(timeout[1])
            try:
                sock.sendall(request)
            except OSError as exc:
                raise _Broken() from exc
            with translate(url):
                status, reason, data, keep = _read_response(
                    sock, method, url, timeout[1], deadline, limit
                )
            return status, reason, data
        finally:
            if keep:
                self._give(key, sock)
            else:
                sock.close()

    def _take(self, key: Tuple[str, int]) -> Optional[socket.socket]:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def _give(self, key: Tuple[str, int], sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if self._closed or len(idle) >= _MAX_IDLE:
                sock.close()
            else:
                idle.append(sock)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for socks in idle.values():
            for sock in socks:
                sock.close()


def _recv(sock: socket.socket, read_timeout: float, deadline: float) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the answer arrived too slowly")
    sock.settimeout(min(read_timeout, left))
    return sock.recv(RECV_SIZE)


def _read_response(
    sock: socket.socket, method: str, url: str, read_timeout: float, deadline: float, limit: int
) -> Tuple[int, str, bytes, bool]:
    """Read one response: ``(status, reason, body, keep_alive)``."""
    buf = b""
    while True:  # skip interim 1xx answers
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > MAX_HEAD:
                raise FramingError("response headers too large")
            try:
                chunk = _recv(sock, read_timeout, deadline)
            except ConnectionError as exc:
                if not buf:
                    raise _Broken() from exc
                raise
            if not chunk:
                if not buf:
                    raise _Broken()
                raise FramingError("connection closed inside the response headers")
            buf += chunk
        head, buf = buf[:end], buf[end + 4 :]
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not code.isdigit():
            raise FramingError(f"not an HTTP response: {lines[0][:80]!r}")
        status = int(code)
        if 100 <= status < 200:
            continue
        break
    fields: Dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    connection = fields.get("connection", "").lower()
    keep = (version == "HTTP/1.1" and "close" not in connection) or "keep-alive" in connection
    with translate(url, status=status):
        data, clean = _read_body(sock, buf, fields, method, status, read_timeout, deadline, limit)
    return status, reason, data, keep and clean


def _read_body(
    sock: socket.socket,
    buf: bytes,
    fields: Mapping[str, str],
    method: str,
    status: int,
    read_timeout: float,
    deadline: float,
    limit: int,
) -> Tuple[bytes, bool]:
    """The body after the headers: ``(body, connection_reusable)``.

    :raises BodyTooLarge: over *limit*.
    :raises FramingError: a bad Content-Length, bad chunks, or a connection closed too soon.
    """

    def more() -> bytes:
        return _recv(sock, read_timeout, deadline)

    if method == "HEAD" or status in (204, 304):
        return b"", True
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body, rest = read_chunked(buf, more, limit)
        return body, not rest
    length = fields.get("content-length")
    if length is not None:
        if not (length.isascii() and length.isdigit()):
            raise FramingError(f"bad Content-Length {length[:20]!r}")
        size = int(length)
        if size > limit:
            raise BodyTooLarge(limit, size)
        parts = [buf]
        have = len(buf)
        while have < size:
            chunk = more()
            if not chunk:
                raise FramingError("connection closed inside the body")
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)[:size], have == size
    parts, have = [buf], len(buf)  # no framing: the body ends when the device closes
    while True:
        if have > limit:
            raise BodyTooLarge(limit)
        chunk = more()
        if not chunk:
            return b"".join(parts), False
        parts.append(chunk)
        have += len(chunk)


class RequestsTransport(Transport):
    """Exchanges through a :class:`requests.Session` the user chose (auth, TLS, headers).

    Redirects are not followed: requests would turn a redirected POST into a GET, and a
    device has no reason to point elsewhere. The session's own User-Agent is kept unless it
    is requests' default.
    """

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: Tuple[float, float],
        limit: int,
    ) -> Reply:
        import requests

        headers = dict(headers)
        agent = self.session.headers.get("User-Agent")
        if not agent or agent == requests.utils.default_user_agent():
            headers.setdefault("User-Agent", USER_AGENT)
        with translate(url):
            response = self.session.request(
                method,
                url,
                headers=headers,
                data=body or None,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
        status, reason = response.status_code, response.reason or ""
        with translate(url, status=status):
            data = read_capped(response, limit, deadline=time.monotonic() + sum(timeout))
        return status, reason, data

    def close(self) -> None:
        self.session.close()


def as_transport(obj: Union[Transport, requests.Session, None]) -> Transport:
    """A :class:`Transport` for *obj*: itself, a session wrapped, or a new socket transport."""
    if obj is None:
        return SocketTransport()
    if isinstance(obj, Transport):
        return obj
    import requests  # only a user's own session brings requests in

    if isinstance(obj, requests.Session):
        return RequestsTransport(obj)
    raise TypeError(f"expected a requests.Session or a Transport, not {type(obj).__name__}")


def fetch(
    transport: Transport,
    url: str,
    *,
    timeout: Optional[Timeout] = None,
    limit: int,
    deadline: Optional[float] = None,
) -> bytes:
    """GET *url* (a description or SCPD) and return its body, capped and time-bounded.

    :param deadline: a :func:`time.monotonic` instant the whole exchange must end by.
    :raises DescriptionError: (with ``url=``) for a connection failure, a timeout, a
        non-2xx status, or a body over *limit* bytes; a failure of the exchange is kept on
        ``.cause`` (a :class:`TransportError`, or :class:`TransportTimeout`).
    """
    connect, read = as_timeout(timeout)
    if deadline is not None:
        left = max(deadline - time.monotonic(), 0.01)
        connect, read = min(connect, left), min(read, left / 2)
    try:
        status, reason, body = transport.exchange("GET", url, {}, b"", (connect, read), limit)
    except TransportError as exc:
        raise with_cause(DescriptionError(f"cannot fetch: {exc.message}", url=url), exc) from None
    if not 200 <= status < 300:
        raise DescriptionError(f"HTTP {status} {reason}".rstrip(), url=url)
    return body
