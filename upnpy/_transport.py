"""HTTP exchanges with devices: a lean keep-alive socket client, or a user's requests.Session.

A UPnP call is a small HTTP exchange on the LAN, and a client's own overhead is what users
feel. Measured in the lab (``make bench``), ``requests.Session.post`` costs about 1 ms more
per call than the exchange itself: it merges settings, builds a ``PreparedRequest``, runs
urllib3's pool and parses headers with :mod:`email`. :class:`SocketTransport` does what a
device exchange needs and nothing else: one ``sendall`` of the whole request (some devices
need the request in one TCP segment), the answer read by the pure readers of
:mod:`upnpy._response`, capped in size and bounded in time, and idle connections kept per
host for the next call. It is the default.

Kept-alive connections are handled the way urllib3 does: an idle connection that the device
closed, or that holds bytes nobody asked for, is thrown away before it is used; a request
that may have reached the device is never sent again unless its method is idempotent (GET,
HEAD), so an action such as a toggle or AddAnyPortMapping runs at most once per call.

Some devices close every connection right after their answer without saying so (libupnp's
SOAP answers, e.g. gmediarender's, lack ``Connection: close``); the close then arrives a
millisecond or so later and can race the next request. So a connection is reused for a
POST only once the device has shown that it keeps connections (a reused connection has
carried an answer), or after it has lain idle :data:`SETTLE` seconds without closing; and
once a device is seen closing connections just after answering, its connections are no
longer kept at all.

:class:`RequestsTransport` wraps a :class:`requests.Session` the user hands in (for auth, TLS,
proxies or extra headers); everything else in upnpy — SOAP, descriptions and GENA — is the
same either way.
"""

from __future__ import annotations

import functools
import ipaddress
import select
import socket
import threading
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    List,
    Mapping,
    Optional,
    Set,
    Tuple,
    Union,
)
from urllib.parse import quote, urlsplit

from ._errors import translate, with_cause
from ._exceptions import DescriptionError, TransportError
from ._http import (
    RECV_SIZE,
    USER_AGENT,
    Headers,
    Timeout,
    as_timeout,
    read_capped,
    split_zone,
    url_problem,
    valid_zone,
)
from ._interfaces import scope_index
from ._records import Record, record
from ._response import NoResponse, read_body, read_head

if TYPE_CHECKING:
    import requests

__all__ = [
    "Transport",
    "SocketTransport",
    "RequestsTransport",
    "as_transport",
    "fetch",
    "local_address",
    "callback_address",
    "Reply",
]

_MAX_IDLE = 4  # idle connections kept per (host, port)
#: Seconds an idle connection to a device not yet seen keeping connections must have lain
#: open before a POST may use it (its close, if it closes after each answer, comes sooner).
SETTLE = 0.05
#: A kept connection the device closes within this many seconds of its answer means that it
#: closes after every answer (a later close is an ordinary idle timeout).
CLOSE_LAG = 1.0
_IDEMPOTENT = frozenset({"GET", "HEAD"})  # may be sent again on a fresh connection
# What stays as written in a request target; anything else (space, non-ASCII) is %-encoded.
_TARGET_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%") + "%"


@record
class Reply(Record):
    """One response: status, reason, the whole body, and the header fields."""

    status: int
    reason: str
    body: bytes
    headers: Headers


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
        deadline: Optional[float] = None,
    ) -> Reply:
        """Send one request and read its answer.

        :param timeout: ``(connect, read)`` seconds; the whole exchange also ends by
            ``connect + read`` seconds after it starts, so a device that drips bytes
            cannot hold the caller.
        :param limit: the largest body accepted, in bytes.
        :param deadline: a :func:`time.monotonic` instant the exchange must end by, if
            sooner.
        :raises TransportError: connection failure, malformed HTTP, a URL or header that
            cannot be sent, or a body over *limit* (with ``.status`` set when the status
            line had arrived).
        :raises TransportTimeout: when the device does not connect or answer in time.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Close idle connections (idempotent)."""


#: Where a connection goes: ``(host, port)``, or ``(ipv6, port, 0, scope_id)`` for an IPv6
#: literal (the zone of a link-local one resolved to its scope id).
Address = Union[Tuple[str, int], Tuple[str, int, int, int]]


@functools.lru_cache(maxsize=256)
def _target(url: str, method: str) -> Tuple[Address, str, str]:
    """``(address, request target, Host header)`` of an ``http:`` URL.

    Cached: a device has few URLs. The URL is checked here, for every request, whatever it
    came from: a control character refuses it (see :func:`upnpy._http.url_problem`); spaces
    and non-ASCII characters are percent-encoded; user:password never reaches the Host
    header, nor an IPv6 zone (``[fe80::1%25lan0]`` is connected to on ``lan0`` and named
    ``[fe80::1]`` in the Host header).
    """
    problem = url_problem(url)
    if problem is not None:
        raise TransportError(f"refusing to {method}: {problem}", url=url)
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 80
        address: Address = (
            _ipv6_address(parts.netloc, port) if "[" in parts.netloc else (host or "", port)
        )
    except ValueError as exc:
        raise TransportError(f"cannot {method} a malformed URL: {exc}", url=url) from None
    if parts.scheme != "http" or not host:
        raise TransportError(f"cannot {method} a non-http URL", url=url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    shown = f"[{address[0]}]" if len(address) == 4 else address[0]
    host_header = f"{shown}:{parts.port}" if parts.port is not None else shown
    return address, quote(path, safe=_TARGET_SAFE), host_header


def _ipv6_address(netloc: str, port: int) -> Tuple[str, int, int, int]:
    """The socket address of a URL's bracketed IPv6 host: its zone (``%25lan0``, ``%lan0``,
    ``%4``) resolved to a scope id; a link-local address without one is refused.

    :raises ValueError: for a host that is not an IPv6 address, or a zone that is malformed
        or names no interface of this machine.
    """
    inside = netloc.rpartition("@")[2][1:].partition("]")[0]
    literal, zone = split_zone(inside)
    ip = ipaddress.IPv6Address(literal)  # ValueError for [v1.x] and other non-addresses
    if "%" in inside and not valid_zone(zone):
        raise ValueError(f"bad IPv6 zone {zone[:40]!r}")
    scope = scope_index(zone) if zone and ip.is_link_local else 0
    if ip.is_link_local and not scope:
        raise ValueError(f"the link-local address {literal} needs a zone ([{literal}%25eth0])")
    return (ip.compressed, port, 0, scope)


def _connect(address: Address, timeout: float) -> socket.socket:
    """A TCP connection; an IP literal (the usual LOCATION) skips the resolver."""
    if len(address) == 4:
        family = socket.AF_INET6
    else:
        try:
            socket.inet_aton(address[0])
        except OSError:
            sock = socket.create_connection((address[0], address[1]), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle connection was closed by the device or holds bytes nobody asked for
    (urllib3's ``is_connection_dropped``): either way it must not carry the next request."""
    try:
        poller = select.poll()
    except AttributeError:  # pragma: no cover - Windows has no poll()
        return bool(select.select([sock], [], [], 0)[0])
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Broken(Exception):
    """A connection failed before any byte of an answer arrived."""


class SocketTransport(Transport):
    """HTTP/1.1 over plain sockets, with keep-alive. Thread-safe; ``http:`` URLs only."""

    def __init__(self) -> None:
        self._idle: Dict[Address, List[Tuple[socket.socket, float]]] = {}  # (socket, since)
        self._keeping: Set[Address] = set()  # seen answering on a reused connection
        self._closing: Set[Address] = set()  # seen closing connections right after answers
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
        deadline: Optional[float] = None,
    ) -> Reply:
        key, head = _head(method, url, tuple(headers.items()), len(body))
        request = head + body
        start = time.monotonic()
        own = start + timeout[0] + timeout[1]
        deadline = own if deadline is None else min(own, deadline)
        # A device that closes its connections has none kept (read without the lock: a
        # set's membership test is atomic, and a stale answer only costs a look at _idle).
        idle = None if key in self._closing else self._take(key, method in _IDEMPOTENT)
        if idle is not None:
            sock, since = idle
            try:
                reply = self._over(sock, key, request, method, url, timeout, deadline, limit)
            except _Broken as exc:
                self._closes(key, since)
                if method not in _IDEMPOTENT:  # it may have reached the device: not again
                    error = TransportError(
                        f"the connection closed before an answer; the {method} is not sent "
                        "again (it may have reached the device)",
                        url=url,
                    )
                    raise with_cause(error, exc) from None
            else:
                if key not in self._keeping:
                    with self._lock:
                        self._keeping.add(key)
                return reply
        if idle is not None:  # a kept connection failed: time has passed since the start
            start = time.monotonic()
        with translate(url):
            sock = _connect(key, min(timeout[0], max(deadline - start, 0.001)))
        try:
            return self._over(sock, key, request, method, url, timeout, deadline, limit)
        except _Broken as exc:
            error = TransportError("the connection closed before an answer", url=url)
            raise with_cause(error, exc) from None

    def _over(
        self,
        sock: socket.socket,
        key: Address,
        request: bytes,
        method: str,
        url: str,
        timeout: Tuple[float, float],
        deadline: float,
        limit: int,
    ) -> Reply:
        keep = False
        received = 0
        read_timeout = timeout[1]

        def more() -> bytes:
            """The next bytes, each read bounded by the read timeout and the deadline."""
            nonlocal received
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the answer arrived too slowly")
            wait = read_timeout if read_timeout < left else left
            if wait != sock.gettimeout():  # usually the same as for the last read
                sock.settimeout(wait)
            try:
                data = sock.recv(RECV_SIZE)
            except ConnectionError as exc:  # reset: before any byte, nothing was answered
                if received:
                    raise
                raise NoResponse(f"the connection was reset before an answer: {exc}") from exc
            received += len(data)
            return data

        translating = translate(url)
        try:
            with translating:
                try:
                    if sock.gettimeout() != read_timeout:  # a kept connection has it already
                        sock.settimeout(read_timeout)
                    sock.sendall(request)
                    head, buf = read_head(more)
                except (NoResponse, ConnectionError) as exc:  # nothing of an answer arrived
                    raise _Broken() from exc
                translating.status = head.status  # what goes wrong now carries it
                data, keep = read_body(head, buf, more, method, limit)
            return Reply(head.status, head.reason, data, head.headers)
        finally:
            if keep:
                self._give(key, sock)
            else:
                sock.close()

    def _take(self, key: Address, idempotent: bool) -> Optional[Tuple[socket.socket, float]]:
        """An idle connection to *key* that is still good, with the time it went idle, or
        ``None``. A POST is given one only when the device keeps connections or the
        connection has settled (see the module's docstring)."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                sock, since = idle[-1]
                if not (idempotent or key in self._keeping or since + SETTLE <= time.monotonic()):
                    return None  # left idle: a fresh connection carries this one
                idle.pop()
            if not _dropped(sock):
                return sock, since
            sock.close()
            self._closes(key, since)

    def _closes(self, key: Address, since: float) -> None:
        """A connection to *key*, idle since *since*, was closed by the device: soon after
        an answer means that the device closes them all, so keep none."""
        if time.monotonic() - since < CLOSE_LAG and key not in self._keeping:
            with self._lock:
                self._closing.add(key)
                socks = self._idle.pop(key, [])
            for sock, _ in socks:
                sock.close()

    def _give(self, key: Address, sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if self._closed or key in self._closing or len(idle) >= _MAX_IDLE:
                sock.close()
            else:
                idle.append((sock, time.monotonic()))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for socks in idle.values():
            for sock, _ in socks:
                sock.close()


@functools.lru_cache(maxsize=256)
def _head(
    method: str, url: str, fields: Tuple[Tuple[str, str], ...], length: int
) -> Tuple[Address, bytes]:
    """``(address, request head)`` for a request of *length* body bytes.

    Cached: a device's requests repeat (the same control URL, SOAPAction and, without
    in-arguments, Content-Length); a refusal raises again every time (see :func:`_target`).
    """
    address, target, host = _target(url, method)
    return address, _request(method, target, host, fields, length, url)


def _request(
    method: str,
    target: str,
    host: str,
    fields: Tuple[Tuple[str, str], ...],
    length: int,
    url: str,
) -> bytes:
    """The request head: refused when a header would break the message (a line break) or
    cannot be sent (text that is not Latin-1, e.g. an action name from a hostile SCPD)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    names = {name.lower() for name, _ in fields}
    lines += [f"{name}: {value}" for name, value in fields]
    if any("\r" in line or "\n" in line for line in lines):  # e.g. a serviceType with one
        raise TransportError("refusing a request line or header with a line break", url=url)
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "content-length" not in names and (length or method not in _IDEMPOTENT):
        lines.append(f"Content-Length: {length}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        text = exc.object[exc.start : exc.end]
        error = TransportError(f"refusing a header that is not Latin-1 text: {text!r}", url=url)
        raise with_cause(error, exc) from None


class RequestsTransport(Transport):
    """Exchanges through a :class:`requests.Session` the user chose (auth, TLS, headers).

    Redirects are not followed: requests would turn a redirected POST into a GET, and a
    device has no reason to point elsewhere. IPv6 literals work, except link-local ones
    with a zone (``[fe80::1%25eth0]``), which requests cannot connect to: those are refused
    with a :class:`TransportError` before anything is sent. The session's own User-Agent is
    kept unless it is requests' default.
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
        deadline: Optional[float] = None,
    ) -> Reply:
        import requests

        address = _target(url, method)[0]  # the same checks of the URL as for the sockets
        if len(address) == 4 and address[3]:
            raise TransportError(
                "requests cannot reach a link-local IPv6 address (it mangles the zone); "
                "upnpy's own transport can: pass no session",
                url=url,
            )
        own = time.monotonic() + sum(timeout)
        deadline = own if deadline is None else min(own, deadline)
        left = max(deadline - time.monotonic(), 0.001)
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
                timeout=(min(timeout[0], left), min(timeout[1], left)),
                stream=True,
                allow_redirects=False,
            )
        status, reason = response.status_code, response.reason or ""
        with translate(url, status=status):
            data = read_capped(response, limit, deadline=deadline)
        return Reply(status, reason, data, Headers(response.headers.items()))

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


def local_address(url: str, *, zone: bool = False) -> str:
    """The address of this machine that reaches *url*'s host: the one a device sees us by.

    The system's routing decides (a UDP ``connect`` sends nothing), not a guess from the
    list of interfaces: an IPv4 address for an IPv4 device, an IPv6 one for an IPv6 device
    (a ULA or global address for a ULA or global one, by the system's source address
    selection; a link-local address for a link-local one).

    :param zone: give a link-local IPv6 address with its zone (``fe80::2%4``, the scope id),
        as binding to it needs; by default the address alone, as a device is told it.
    :raises TransportError: when the URL names no host or no route reaches it.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 80
        if not host:
            raise ValueError("the URL names no host")
        sockaddr: Tuple[Any, ...]
        if "[" in parts.netloc:
            family, sockaddr = socket.AF_INET6, _ipv6_address(parts.netloc, port)
        else:
            family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(sockaddr)
            name = probe.getsockname()
    except (OSError, UnicodeError, ValueError) as exc:
        error = TransportError(f"no local address routes to {url!r}: {exc}", url=url)
        raise with_cause(error, exc) from None
    address = str(name[0]).partition("%")[0]
    if zone and len(name) == 4 and name[3] and ipaddress.IPv6Address(address).is_link_local:
        return f"{address}%{name[3]}"
    return address


def callback_address(url: str) -> str:
    """The local address a GENA callback server for the device at *url* listens on: the one
    :func:`local_address` gives, so of the device's own scope, with the zone of a link-local
    one (``fe80::2%4``) for binding.

    The ``CALLBACK`` URL the device is told never carries a zone: it would name one of *our*
    interfaces, which means nothing to the device (RFC 6874 zones are local to a host), and
    the device reaches a link-local callback through the link the SUBSCRIBE came in on. The
    scope must match the device's address: GUPnP, reached by its link-local address, ignores
    a callback outside that network (a ULA: "is not in our network"); miniupnpd, which
    advertises its ULA or global address, gets ours.

    :raises TransportError: when no route reaches the device.
    """
    return local_address(url, zone=True)


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
    try:
        reply = transport.exchange("GET", url, {}, b"", as_timeout(timeout), limit, deadline)
    except TransportError as exc:
        raise with_cause(DescriptionError(f"cannot fetch: {exc.message}", url=url), exc) from None
    if not 200 <= reply.status < 300:
        raise DescriptionError(f"HTTP {reply.status} {reply.reason}".rstrip(), url=url)
    return reply.body
