"""The raw-socket floor: the least a client can do on the wire, with plain sockets.

Two floors for HTTP. The new-connection floor (:func:`exchange`) opens a TCP connection per
exchange, sends prebuilt request bytes (``Connection: close``) with one ``sendall``, reads the
response up to its Content-Length (or its last chunk, or the close) and closes. The keep-alive
floor (:class:`Connection`) keeps one TCP connection, sends prebuilt request bytes without
``Connection: close``, reads exactly the response's Content-Length (or its chunks) and reuses
the socket; it reconnects when the device closed it. Which one a device allows is read from its
own answers (:func:`probe_keep_alive`), not assumed. Nothing is parsed beyond the status line
and the headers needed to find the end of the body. The SSDP floor is one M-SEARCH from one UDP
socket and the first matching answer.

The floor does not use upnpy: the library under test must not set its own bar.
"""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple
from urllib.parse import urljoin, urlsplit

SSDP_GROUP = ("239.255.255.250", 1900)


@dataclass(frozen=True)
class Request:
    """Prebuilt request bytes and where they go."""

    host: str
    port: int
    data: bytes


class Response(NamedTuple):
    """What the floor reads of an answer."""

    status: int
    body: bytes
    #: HTTP/1.1, no ``Connection: close``, and a body framed by its length or its chunks:
    #: the connection may carry the next request.
    keep: bool


def _target(url: str) -> Tuple[str, int, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname or "", parts.port or 80, path


def _closing(keep_alive: bool) -> str:
    return "" if keep_alive else "Connection: close\r\n"


def get_request(url: str, keep_alive: bool = False) -> Request:
    """A GET; with *keep_alive*, without ``Connection: close``."""
    host, port, path = _target(url)
    head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{_closing(keep_alive)}\r\n"
    return Request(host, port, head.encode("ascii"))


def soap_request(
    control_url: str, service_type: str, action: str, keep_alive: bool = False
) -> Request:
    """A SOAP request for an action without in-arguments; with *keep_alive*, without
    ``Connection: close``."""
    host, port, path = _target(control_url)
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action} xmlns:u="{service_type}"></u:{action}></s:Body></s:Envelope>'
    ).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        'Content-Type: text/xml; charset="utf-8"\r\n'
        f'SOAPACTION: "{service_type}#{action}"\r\n'
        f"Content-Length: {len(body)}\r\n{_closing(keep_alive)}\r\n"
    )
    return Request(host, port, head.encode("ascii") + body)


def read_response(sock: socket.socket) -> Response:
    """Read one response from *sock*: its head, then exactly its body."""
    buf = b""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the headers")
        buf += chunk
    head, body = buf[:end], buf[end + 4 :]
    lines = head.split(b"\r\n")
    status = int(lines[0].split(None, 2)[1])
    keep = lines[0].startswith(b"HTTP/1.1")
    length: Optional[int] = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the last chunk")
            body += chunk
        return Response(status, _dechunk(body), keep)
    if length is None:  # the body ends at the close: nothing can follow it
        while chunk := sock.recv(65536):
            body += chunk
        return Response(status, body, False)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the body")
        body += chunk
    return Response(status, body[:length], keep)


def exchange(request: Request, timeout: float = 5.0) -> Tuple[int, bytes]:
    """One HTTP exchange on a new connection: ``(status, body)``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((request.host, request.port))
        sock.sendall(request.data)
        response = read_response(sock)
        return response.status, response.body
    finally:
        sock.close()


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


class Connection:
    """The keep-alive floor: one TCP connection to one host, kept while the device keeps it.

    Send *keep_alive* requests (:func:`get_request`, :func:`soap_request`). A request on a
    reused connection that the device has closed meanwhile is sent once more on a new one.
    """

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: Optional[socket.socket] = None
        #: connections opened so far (the first one included)
        self.connects = 0

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        self.connects += 1
        self.sock = sock
        return sock

    def exchange(self, request: Request) -> Response:
        """One exchange: on the kept connection if there is one, else on a new one."""
        sock = self.sock
        if sock is not None:
            try:
                sock.sendall(request.data)
                response = read_response(sock)
            except ConnectionError:  # closed by the device while idle: once more, anew
                self.close()
            else:
                if not response.keep:
                    self.close()
                return response
        sock = self._connect()
        try:
            sock.sendall(request.data)
            response = read_response(sock)
        except BaseException:
            self.close()
            raise
        if not response.keep:
            self.close()
        return response

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def first_call_kept(requests: Sequence[Request], timeout: float = 5.0) -> List[Response]:
    """*requests* in order over one connection per host (the keep-alive floor's first call)."""
    connections: Dict[Tuple[str, int], Connection] = {}
    try:
        out = []
        for request in requests:
            key = (request.host, request.port)
            connection = connections.get(key)
            if connection is None:
                connection = connections[key] = Connection(request.host, request.port, timeout)
            out.append(connection.exchange(request))
        return out
    finally:
        for connection in connections.values():
            connection.close()


def probe_keep_alive(requests: Sequence[Request], timeout: float = 5.0) -> Tuple[bool, str]:
    """Whether the device keeps connections alive, from its answers to *requests* (keep-alive
    request bytes, all to one host) sent in order over one connection.

    :returns: ``(keeps, why)``: *keeps* when every answer was HTTP/1.1 without
        ``Connection: close`` and the one socket carried every request.
    """
    host, port = requests[0].host, requests[0].port
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        for number, request in enumerate(requests, 1):
            try:
                sock.sendall(request.data)
                response = read_response(sock)
            except OSError as exc:
                return False, f"closed the connection after {number - 1} answer(s): {exc}"
            if response.status >= 400:
                return False, f"answered HTTP {response.status} to request {number}"
            if not response.keep:
                return False, f"answer {number} ends the connection (Connection: close/HTTP/1.0)"
        return True, f"HTTP/1.1, {len(requests)} requests on one connection"
    finally:
        sock.close()


@dataclass(frozen=True)
class ServiceUrls:
    """What the floor needs to know about one service, read once before timing."""

    location: str
    service_type: str
    scpd_url: str
    control_url: str


def find_service(location: str, service_type: str) -> ServiceUrls:
    """Read the description at *location* and the URLs of *service_type* (anywhere in the tree)."""
    status, body = exchange(get_request(location))
    if status != 200:
        raise RuntimeError(f"GET {location}: HTTP {status}")
    root = ET.fromstring(body)
    ns = {"d": "urn:schemas-upnp-org:device-1-0"}
    base = (root.findtext("d:URLBase", default="", namespaces=ns) or "").strip() or location
    for service in root.iter("{urn:schemas-upnp-org:device-1-0}service"):
        if (
            service.findtext("d:serviceType", default="", namespaces=ns) or ""
        ).strip() == service_type:
            scpd = (service.findtext("d:SCPDURL", default="", namespaces=ns) or "").strip()
            control = (service.findtext("d:controlURL", default="", namespaces=ns) or "").strip()
            return ServiceUrls(location, service_type, urljoin(base, scpd), urljoin(base, control))
    raise RuntimeError(f"{location} has no service {service_type}")


def msearch(st: str, mx: int) -> bytes:
    return (
        'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
        f"MX: {mx}\r\nST: {st}\r\n\r\n"
    ).encode("ascii")


def discover_first(local_ip: str, st: str, mx: int, timeout: float) -> Optional[str]:
    """Send one M-SEARCH for *st*, take the first answer with that ST, GET its LOCATION.

    :returns: the LOCATION fetched, or ``None`` when nothing answered within *timeout*.
    """
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local_ip))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.bind((local_ip, 0))
        sock.sendto(msearch(st, mx), SSDP_GROUP)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(65536)
            except socket.timeout:
                return None
            lines = data.split(b"\r\n")
            if b" 200" not in lines[0]:
                continue
            headers = {}
            for line in lines[1:]:
                name, colon, value = line.partition(b":")
                if colon:
                    headers.setdefault(name.strip().lower(), value.strip())
            if headers.get(b"st") != st.encode() or b"location" not in headers:
                continue
            location = headers[b"location"].decode()
            status, _ = exchange(get_request(location))
            return location if status == 200 else None
    finally:
        sock.close()


def count_answers(
    local_ip: str, st: str, mx: int, seconds: float, senders: Optional[Set[str]] = None
) -> Dict[str, Any]:
    """One M-SEARCH for *st* from a plain socket; count the distinct answering senders.

    The floor of discovery at scale: what arrives at all, before any parsing or fetching.

    :param senders: count only these source addresses (``None``: every sender).
    :returns: ``{"senders": distinct senders, "datagrams": n, "last": seconds from the send
        to the last datagram counted}``.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seen: Set[str] = set()
    datagrams = 0
    last = 0.0
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local_ip))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.bind((local_ip, 0))
        started = time.monotonic()
        sock.sendto(msearch(st, mx), SSDP_GROUP)
        deadline = started + seconds
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                _, (sender, _) = sock.recvfrom(65536)
            except socket.timeout:
                break
            if senders is None or sender in senders:
                datagrams += 1
                seen.add(sender)
                last = time.monotonic() - started
    finally:
        sock.close()
    return {"senders": len(seen), "datagrams": datagrams, "last": last}
