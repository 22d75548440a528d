"""SSDP search: send M-SEARCH requests and parse the devices' unicast answers.

:func:`search` sends an ``M-SEARCH`` on every IPv4 interface at once (or unicast to one host)
and yields each distinct answer as it arrives, within one overall deadline. The pure parts,
:func:`build_msearch`, :func:`parse_response` and :func:`interface_addresses`, are public so
that other modules and tests can use them without a socket.

NOTIFY announcements (listening on port 1900) are not handled here.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import Dict, Generator, Iterable, Iterator, List, Mapping, Optional, Set, Tuple, cast
from urllib.parse import urlsplit

import ifaddr

from ._exceptions import DiscoveryError
from ._http import USER_AGENT, Headers, url_problem

__all__ = [
    "SSDP_GROUP",
    "SSDPResponse",
    "parse_response",
    "build_msearch",
    "interface_addresses",
    "search",
]

log = logging.getLogger(__name__)

#: The IPv4 SSDP multicast group and port.
SSDP_GROUP: Tuple[str, int] = ("239.255.255.250", 1900)
#: Hop limit of multicast M-SEARCHes (UDA 1.1 default).
MULTICAST_TTL = 2
#: How many copies of each M-SEARCH are sent, and how far apart (seconds).
SEND_COUNT = 3
SEND_INTERVAL = 0.2
#: Larger datagrams are not search responses (real ones are well under 1 KiB).
MAX_RESPONSE_SIZE = 8192
#: The highest value of MX (UDA: devices treat anything above 5 as 5).
MAX_MX = 5

_RECV_BUFFER = 64 * 1024
_SO_RCVBUF = 1 << 20
# After the deadline, datagrams already received are still read: at most this many rounds
# of the sockets, for at most this many seconds.
_FINAL_DRAIN_LIMIT = 1024
_FINAL_DRAIN_TIME = 0.05
# Distinct answers remembered to drop duplicates.
_MAX_SEEN = 4096
_STATUS_LINE = re.compile(r"HTTP/1\.[01]\s+200(\s.*)?", re.IGNORECASE)
_MAX_AGE = re.compile(r"max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BAD_HEADER_VALUE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SSDPResponse:
    """One answer to an M-SEARCH.

    :ivar location: URL of the root device description.
    :ivar usn: unique service name, e.g. ``uuid:abc::upnp:rootdevice``.
    :ivar st: the search target the device answered for (may be empty).
    :ivar server: the ``SERVER`` header (may be empty).
    :ivar max_age: seconds the answer stays valid, or ``None`` when CACHE-CONTROL has none.
    :ivar bootid: ``BOOTID.UPNP.ORG``, or ``None`` when absent or not a 31-bit number.
    :ivar configid: ``CONFIGID.UPNP.ORG``, or ``None`` when absent or not a 31-bit number.
    :ivar headers: every header, read-only, with case-insensitive names.
    :ivar address: ``(ip, port)`` of the sender.
    """

    location: str
    usn: str
    st: str
    server: str
    max_age: Optional[int]
    bootid: Optional[int]
    configid: Optional[int]
    headers: Mapping[str, str] = field(repr=False)
    address: Tuple[str, int]

    @property
    def udn(self) -> str:
        """The device's UDN: the part of the USN before ``::`` (``uuid:abc``)."""
        return self.usn.split("::", 1)[0]


def _uint31(value: Optional[str]) -> Optional[int]:
    """A decimal number below 2**31 (ASCII digits; too many digits is no number), or ``None``."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if number < 2**31 else None


def _reject(address: object, reason: str) -> Optional[SSDPResponse]:
    """Log why a datagram is dropped; always ``None``, for ``return _reject(...)``."""
    log.debug("SSDP datagram from %s dropped: %s", address, reason)
    return None


def parse_response(data: bytes, address: Tuple[str, int]) -> Optional[SSDPResponse]:
    """Parse one datagram as an SSDP search response.

    Only ``HTTP/1.1 200`` answers are accepted (``HTTP/1.0`` too); NOTIFY and other requests are
    not search responses. Header names are case-insensitive and values are stripped; a line
    without a colon is skipped, a line starting with whitespace continues the previous header,
    and for a repeated header the first one counts. ``max-age`` is read leniently
    (``max-age = 1800``). The last header line must end with a line break: a datagram cut
    in the middle of a line is treated as truncated.

    :param data: the datagram.
    :param address: ``(ip, port)`` it came from.
    :returns: the response, or ``None`` (logged at DEBUG on ``upnpy.ssdp``) for anything
        else: oversized, not UTF-8, binary, truncated, not a 200 answer, or without a usable
        LOCATION or USN. Never raises.
    """
    if not data:
        return _reject(address, "empty")
    if len(data) > MAX_RESPONSE_SIZE:
        return _reject(address, f"{len(data)} bytes is too large for a search response")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _reject(address, "not UTF-8")
    if _BINARY.search(text):
        return _reject(address, "control characters (binary data)")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    if head == text and not text.endswith("\n"):
        return _reject(address, "truncated (the last line has no line break)")
    lines = re.split(r"\r?\n", head.rstrip("\r\n"))
    if any("\r" in line for line in lines):  # a bare CR: the line ends are not what they seem
        return _reject(address, "a bare CR inside a header line")
    if not _STATUS_LINE.fullmatch(lines[0].strip()):
        return _reject(address, f"not a search response: {lines[0][:60]!r}")
    pairs: List[Tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            log.debug("SSDP response from %s: malformed header line %r skipped", address, line[:60])
            continue
        pairs.append((name.strip(), value.strip()))
    headers = Headers(pairs)
    location = headers.get("LOCATION", "")
    usn = headers.get("USN", "")
    if not usn:
        return _reject(address, "no USN")
    if not location:
        return _reject(address, "no LOCATION")
    problem = url_problem(location)
    if problem is not None:
        return _reject(address, f"LOCATION refused: {problem}")
    try:
        parts = urlsplit(location)
        parts.port  # noqa: B018 - raises ValueError for a bad port or IPv6 host
    except ValueError as exc:
        return _reject(address, f"LOCATION is not a URL ({exc}): {location[:80]!r}")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return _reject(address, f"LOCATION is not an absolute http(s) URL: {location[:80]!r}")
    match = _MAX_AGE.search(headers.get("CACHE-CONTROL", ""))
    return SSDPResponse(
        location=location,
        usn=usn,
        st=headers.get("ST", ""),
        server=headers.get("SERVER", ""),
        max_age=_uint31(match.group(1)) if match else None,
        bootid=_uint31(headers.get("BOOTID.UPNP.ORG")),
        configid=_uint31(headers.get("CONFIGID.UPNP.ORG")),
        headers=headers,
        address=address,
    )


def _check_mx(mx: int) -> int:
    if isinstance(mx, bool) or not isinstance(mx, int) or not 1 <= mx <= MAX_MX:
        raise ValueError(f"mx must be an integer from 1 to {MAX_MX}, not {mx!r}")
    return mx


def build_msearch(st: str, mx: Optional[int], host: str = "239.255.255.250:1900") -> bytes:
    """Build an ``M-SEARCH * HTTP/1.1`` request.

    :param st: the search target (``ssdp:all``, ``upnp:rootdevice``, a ``uuid:`` or a URN).
    :param mx: seconds over which devices spread their answers, 1 to 5, for a multicast
        search; ``None`` leaves MX out, as a unicast search must.
    :param host: the ``HOST`` header: the group, or ``ip:port`` for a unicast search.
    :returns: the datagram, CRLF line endings, ending with a blank line.
    :raises ValueError: for an *mx* outside 1..5, or a line break or empty *st* / *host*.
    """
    for name, value in (("st", st), ("host", host)):
        if not value or _BAD_HEADER_VALUE.search(value):
            raise ValueError(f"{name} must be a non-empty single-line string, not {value!r}")
    lines = ["M-SEARCH * HTTP/1.1", f"HOST: {host}", 'MAN: "ssdp:discover"']
    if mx is not None:
        lines.append(f"MX: {_check_mx(mx)}")
    lines += [f"ST: {st}", f"USER-AGENT: {USER_AGENT}", "CPFN.UPNP.ORG: upnpy", "", ""]
    return "\r\n".join(lines).encode("utf-8")


def _ipv4(text: str) -> Optional[ipaddress.IPv4Address]:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        return None


def interface_addresses(
    interfaces: Optional[Iterable[str]] = None, *, include_loopback: bool = False
) -> List[str]:
    """The IPv4 addresses to search from, as reported by :func:`ifaddr.get_adapters`.

    :param interfaces: adapter names (``"eth0"``, or a Windows friendly name) or IPv4
        addresses of this machine; ``None`` for every adapter. A single string is one name.
        Names that match nothing are logged at WARNING and skipped.
    :param include_loopback: also return 127/8 addresses when *interfaces* is ``None``
        (a loopback adapter or address named explicitly is always kept).
    :returns: distinct addresses, in the order the adapters are reported.
    :raises DiscoveryError: when no address is left; the message lists what was found.
    """
    found: List[Tuple[str, str, str]] = []  # (name, nice name, address)
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if ip.is_IPv4 and isinstance(ip.ip, str) and _ipv4(ip.ip):
                found.append((str(adapter.name), str(adapter.nice_name), ip.ip))
    if isinstance(interfaces, str):
        interfaces = [interfaces]
    elif interfaces is not None:
        interfaces = list(interfaces)
    chosen: List[str] = []
    if interfaces is None:
        chosen = [
            addr
            for _, _, addr in found
            if include_loopback or not ipaddress.IPv4Address(addr).is_loopback
        ]
    else:
        for wanted in interfaces:
            hits = [addr for name, nice, addr in found if wanted in (name, nice, addr)]
            if not hits:
                log.warning("no IPv4 interface or address named %r on this machine", wanted)
            chosen += hits
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        listing = ", ".join(f"{name} ({addr})" for name, _, addr in found) or "none"
        which = "IPv4 interfaces" if interfaces is None else f"matches for {list(interfaces)!r}"
        hint = "" if interfaces is not None or include_loopback else " (loopback excluded)"
        raise DiscoveryError(f"no {which} to search from{hint}; found: {listing}")
    return chosen


def _default_mx(timeout: float) -> int:
    """MX for a search of *timeout* seconds: ``int(timeout) - 1``, kept within 1..5.

    Devices answer within MX seconds of each copy, so one second is left for the answers to
    the last copy to arrive; MX is never 0 (devices drop such requests) nor above 5.
    """
    return max(1, min(MAX_MX, int(timeout) - 1))


def _parse_host(host: str) -> Tuple[str, int]:
    addr, colon, port_text = host.partition(":")
    ip = _ipv4(addr)
    if ip is None:
        raise ValueError(f"host must be an IPv4 address, optionally with :port, not {host!r}")
    if ip.is_multicast or ip.is_unspecified:
        raise ValueError(f"host must be a unicast address (host=None multicasts), not {host!r}")
    if not colon:
        return str(ip), SSDP_GROUP[1]
    if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        raise ValueError(f"bad port in host {host!r}")
    return str(ip), int(port_text)


def _open_socket(bind_ip: str, multicast: bool) -> socket.socket:
    """A non-blocking UDP socket bound to ``(bind_ip, 0)``, set up to multicast from *bind_ip*."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SO_RCVBUF)
        except OSError as exc:  # best effort: the system may cap or refuse it
            log.debug("SO_RCVBUF not raised on %s: %s", bind_ip, exc)
        if multicast:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(bind_ip))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.bind((bind_ip, 0))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def search(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    host: Optional[str] = None,
    *,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
) -> Iterator[SSDPResponse]:
    """Search for devices and yield each distinct answer as it arrives.

    Without *host*, the M-SEARCH is multicast to :data:`SSDP_GROUP` from every IPv4 interface
    address (one socket each, on an ephemeral port); with *host* it goes to that one device,
    without MX. Each M-SEARCH is sent :data:`SEND_COUNT` times, :data:`SEND_INTERVAL` seconds
    apart, while answers are being received. Answers are de-duplicated on (USN, LOCATION);
    invalid datagrams are dropped (see :func:`parse_response`).

    Arguments are checked when :func:`search` is called; sockets are opened on the first
    ``next()`` and always closed, also when the caller stops iterating early.

    :param st: the search target.
    :param timeout: seconds from the first ``next()`` until the search ends; one overall
        deadline. Datagrams already received by then are still yielded.
    :param host: ``"ip"`` or ``"ip:port"`` (port 1900 by default) for a unicast search.
    :param mx: MX for a multicast search, 1..5; by default ``int(timeout) - 1`` kept within
        1..5, which leaves a second for the last answers. Ignored for a unicast search.
    :param interfaces: adapter names or IPv4 addresses to search from (see
        :func:`interface_addresses`); ``None`` for all but loopback. Ignored with *host*.
    :raises ValueError: for a *timeout* that is not positive, a bad *mx*, *st* or *host*.
    :raises DiscoveryError: when no interface is left (at the call), or when no socket could
        be set up and send (on the first ``next()``).
    """
    return cast(Iterator[SSDPResponse], _search(st, timeout, host, mx=mx, interfaces=interfaces))


def _search(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    host: Optional[str] = None,
    *,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    wakeup: Optional[socket.socket] = None,
) -> Generator[Optional[SSDPResponse], None, None]:
    """The body of :func:`search`; with *wakeup*, yields ``None`` whenever that socket
    becomes readable (after draining it), so a caller can act between datagrams."""
    if (
        not isinstance(timeout, (int, float))
        or isinstance(timeout, bool)
        or not 0 < timeout < math.inf
    ):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if host is None:
        message = build_msearch(st, _default_mx(timeout) if mx is None else _check_mx(mx))
        targets = [(addr, SSDP_GROUP) for addr in interface_addresses(interfaces)]
        multicast = True
    else:
        if mx is not None:
            _check_mx(mx)
        ip, port = _parse_host(host)
        message = build_msearch(st, None, host=f"{ip}:{port}")
        targets = [("0.0.0.0", (ip, port))]
        multicast = False
    return _run(message, targets, multicast, float(timeout), wakeup)


def _run(
    message: bytes,
    targets: List[Tuple[str, Tuple[str, int]]],
    multicast: bool,
    timeout: float,
    wakeup: Optional[socket.socket] = None,
) -> Generator[Optional[SSDPResponse], None, None]:
    """The search loop: send, resend and receive on all sockets until the deadline."""
    selector = selectors.DefaultSelector()
    sockets: Dict[socket.socket, Tuple[str, int]] = {}
    try:
        for bind_ip, destination in targets:
            try:
                sock = _open_socket(bind_ip, multicast)
            except OSError as exc:
                log.warning("SSDP search cannot use %s: %s", bind_ip, exc)
                continue
            sockets[sock] = destination
            selector.register(sock, selectors.EVENT_READ)
        if wakeup is not None:
            selector.register(wakeup, selectors.EVENT_READ)
        seen: Set[Tuple[str, str]] = set()
        deadline = time.monotonic() + timeout
        sends = 0
        next_send = time.monotonic()
        drained = 0
        while True:
            now = time.monotonic()
            if sends < SEND_COUNT and now >= next_send and now < deadline:
                for sock, destination in list(sockets.items()):
                    try:
                        sock.sendto(message, destination)
                    except OSError as exc:
                        log.warning("SSDP search from %s failed: %s", sock.getsockname()[0], exc)
                        if sends == 0:  # never worked: drop it
                            selector.unregister(sock)
                            del sockets[sock]
                            sock.close()
                sends += 1
                next_send = now + SEND_INTERVAL
                if not sockets:
                    tried = ", ".join(bind_ip for bind_ip, _ in targets)
                    raise DiscoveryError(f"no SSDP socket could be set up and send ({tried})")
            final = now >= deadline
            if final:
                wait = 0.0
            elif sends < SEND_COUNT:
                wait = min(deadline, next_send) - now
            else:
                wait = deadline - now
            ready = selector.select(max(wait, 0.0))
            if final and not ready:
                return
            for key, _ in ready:
                if key.fileobj is wakeup:
                    try:
                        wakeup.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        pass
                    yield None
                    continue
                try:
                    data, address = cast(socket.socket, key.fileobj).recvfrom(_RECV_BUFFER)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:  # e.g. an ICMP error reported on Windows
                    log.debug("SSDP receive failed: %s", exc)
                    continue
                response = parse_response(data, address)
                if response is None or (response.usn, response.location) in seen:
                    continue
                if len(seen) < _MAX_SEEN:  # a flood is not remembered without end
                    seen.add((response.usn, response.location))
                yield response
            if final:
                drained += 1
                if drained >= _FINAL_DRAIN_LIMIT or time.monotonic() > deadline + _FINAL_DRAIN_TIME:
                    return  # what a flood keeps sending is not read past the deadline
    finally:
        selector.close()
        for sock in sockets:
            sock.close()
